/*
 * store_member - memberships (store.h "members"): subscribe, bulk
 * subscribe, unsubscribe, lookups and setters; store_roster.c has the
 * streaming roster, counts and find.
 *
 * Internal to the store: STORE_MEMBER_SELECT is the column list (with its
 * joins) that store_member_from_row() reads; preferences are resolved in
 * the query itself (member → address → user → system default), so a
 * roster of any size is one statement.
 */
#ifndef CRIER_STORE_MEMBER_H
#define CRIER_STORE_MEMBER_H

struct store_stmt;
struct store_member;

#define STORE_MEMBER_SELECT                                                                        \
    "SELECT m.member_id, l.list_id, m.role, a.email, a.original_email, a.display_name, "           \
    "u.user_id, u.display_name, m.moderation_action, "                                             \
    "COALESCE(m.p_mode, a.p_mode, u.p_mode, 1), "                                                  \
    "COALESCE(m.p_status, a.p_status, u.p_status, 1), "                                            \
    "COALESCE(m.p_rop, a.p_rop, u.p_rop, 1), COALESCE(m.p_rlc, a.p_rlc, u.p_rlc, 1), "             \
    "COALESCE(m.p_ack, a.p_ack, u.p_ack, 0), m.bounce_score, m.last_bounce_received, "             \
    "m.last_warning_sent, m.total_warnings_sent "                                                  \
    "FROM member m JOIN mailinglist l ON l.id = m.list JOIN address a ON a.id = m.address "        \
    "LEFT JOIN users u ON u.id = a.user_row"

/* Fills m (whose strings point into the statement's row: valid until the
 * next step) from a STORE_MEMBER_SELECT row. */
void store_member_from_row(struct store_stmt *s, struct store_member *m);

#endif
