/*
 * store_member - subscribe (one or in bulk), unsubscribe, member lookups
 * and setters. See store.h "members" and store_member.h.
 *
 * Duplicates are detected with INSERT ... ON CONFLICT DO NOTHING and the
 * change count, not with a failing statement, so that one duplicate in a
 * bulk import does not abort the transaction on backends (PostgreSQL)
 * where a failed statement does.
 */
#include "store/store_member.h"

#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_address.h"
#include "store/store_db.h"

#define CS (char *)

void store_member_from_row(struct store_stmt *s, struct store_member *m)
{
    m->member_id = CS store_db_col_text(s, 0);
    m->list_id = CS store_db_col_text(s, 1);
    m->role = (int)store_db_col_int(s, 2);
    m->email = CS store_db_col_text(s, 3);
    m->original_email = CS store_db_col_text(s, 4);
    m->display_name = CS store_db_col_text(s, 5);
    m->user_id = CS store_db_col_text(s, 6);
    m->user_display_name = CS store_db_col_text(s, 7);
    m->moderation_action =
        store_db_col_null(s, 8) ? STORE_ACTION_UNSET : (int)store_db_col_int(s, 8);
    m->delivery_mode = (int)store_db_col_int(s, 9);
    m->delivery_status = (int)store_db_col_int(s, 10);
    m->receive_own_postings = store_db_col_int(s, 11) != 0;
    m->receive_list_copy = store_db_col_int(s, 12) != 0;
    m->acknowledge_posts = store_db_col_int(s, 13) != 0;
    m->bounce_score = (int)store_db_col_int(s, 14);
    m->last_bounce_received = store_db_col_int(s, 15);
    m->last_warning_sent = store_db_col_int(s, 16);
    m->total_warnings_sent = (int)store_db_col_int(s, 17);
}

/* The list's row and fqdn (g_free) for list_id: 1 / 0 / < 0. */
static int list_lookup(struct store *st, const char *list_id, int64_t *row_r, char **fqdn_r,
                       char **error_r)
{
    g_autofree char *lower = store_db_lower(list_id);
    struct store_stmt *s = store_db_prepare(
        st, "SELECT id, list_name || '@' || mail_host FROM mailinglist WHERE list_id = $1",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, lower);
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        *row_r = store_db_col_int(s, 0);
        if (fqdn_r != NULL)
            *fqdn_r = g_strdup(store_db_col_text(s, 1));
    }
    store_db_done(s);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", list_id ? list_id : "");
    return rc;
}

static int check_enums(int role, int mode, int status, char **error_r)
{
    if (store_role_name(role) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid role: %d", role);
    if (mode != 0 && store_delivery_mode_name(mode) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid delivery mode: %d", mode);
    if (status != 0 && store_delivery_status_name(status) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid delivery status: %d", status);
    return 0;
}

/* Inserts one membership; 0 added, STORE_EXISTS, or < 0. */
static int member_insert(struct store *st, int64_t list_row, const struct store_member_spec *sp,
                         char **member_id_r, char **error_r)
{
    int64_t arow = 0;
    /* As Mailman: subscribers get a user; a nonmember (a poster the
     * moderation rule registers) stays a bare address. */
    int rc = store_address_ensure(st, sp->email, sp->display_name, sp->role != STORE_ROLE_NONMEMBER,
                                  &arow, NULL, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s =
        store_db_prepare(st,
                         "INSERT INTO member (member_id, list, address, role, last_warning_sent, "
                         "p_mode, p_status) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                         "ON CONFLICT DO NOTHING",
                         error_r);
    if (s == NULL)
        return STORE_ERR;
    char *uuid = store_db_uuid();
    store_db_bind_text(s, 1, uuid);
    store_db_bind_int(s, 2, list_row);
    store_db_bind_int(s, 3, arow);
    store_db_bind_int(s, 4, sp->role);
    store_db_bind_int(s, 5, STORE_TIME_MIN);
    if (sp->delivery_mode > 0)
        store_db_bind_int(s, 6, sp->delivery_mode);
    else
        store_db_bind_null(s, 6);
    if (sp->delivery_status > 0)
        store_db_bind_int(s, 7, sp->delivery_status);
    else
        store_db_bind_null(s, 7);
    rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc >= 0 && store_db_changes(st) == 0)
        rc = STORE_EXISTS;
    if (rc >= 0 && member_id_r != NULL)
        *member_id_r = g_steal_pointer(&uuid);
    g_free(uuid);
    return rc < 0 ? rc : 0;
}

int store_member_add(struct store *st, const char *list_id, const char *email,
                     const char *display_name, int role, int delivery_mode,
                     struct store_member **m_r, char **error_r)
{
    if (m_r != NULL)
        *m_r = NULL;
    int rc = check_enums(role, delivery_mode, 0, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return store_db_bad_email(email, error_r);
    rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    g_autofree char *fqdn = NULL;
    g_autofree char *member_id = NULL;
    rc = list_lookup(st, list_id, &row, &fqdn, error_r);
    if (rc > 0) {
        struct store_member_spec sp = {email, display_name, role, delivery_mode, 0};
        rc = member_insert(st, row, &sp, &member_id, error_r);
        if (rc == STORE_EXISTS && role == STORE_ROLE_MEMBER)
            rc = store_db_fail(error_r, STORE_EXISTS, "Member already subscribed");
        else if (rc == STORE_EXISTS)
            rc = store_db_fail(error_r, STORE_EXISTS, "%s is already %s %s of %s", lower,
                               role == STORE_ROLE_OWNER ? "an" : "a", store_role_name(role), fqdn);
    }
    rc = store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
    if (rc == 0 && m_r != NULL && store_member_get(st, member_id, m_r, error_r) != 1)
        return STORE_ERR;
    return rc;
}

int store_member_add_bulk(struct store *st, const char *list_id,
                          const struct store_member_spec *specs, size_t n, int *results,
                          char **error_r)
{
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    rc = list_lookup(st, list_id, &row, NULL, error_r);
    for (size_t i = 0; rc > 0 && i < n; i++) {
        struct store_member_spec sp = specs[i];
        if (sp.role == 0)
            sp.role = STORE_ROLE_MEMBER;
        g_autofree char *lower = store_db_email_lower(sp.email);
        if (lower == NULL || check_enums(sp.role, sp.delivery_mode, sp.delivery_status, NULL) < 0) {
            results[i] = STORE_INVALID;
            continue;
        }
        int r = member_insert(st, row, &sp, NULL, error_r);
        if (r == 0 || r == STORE_EXISTS || r == STORE_INVALID)
            results[i] = r;
        else
            rc = r; /* a backend failure: roll everything back */
    }
    return store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
}

int store_member_remove(struct store *st, const char *list_id, const char *email, int role,
                        char **error_r)
{
    g_autofree char *lower = store_db_email_lower(email);
    int64_t row = 0;
    int rc = list_lookup(st, list_id, &row, NULL, error_r);
    if (rc < 0)
        return rc;
    if (lower == NULL)
        return 0;
    struct store_stmt *s = store_db_prepare(st,
                                            "DELETE FROM member WHERE list = $1 AND role = $2 "
                                            "AND address = (SELECT id FROM address WHERE email "
                                            "= $3)",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, role);
    store_db_bind_text(s, 3, lower);
    rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : store_db_changes(st) > 0;
}

int store_member_delete(struct store *st, const char *member_id, char **error_r)
{
    g_autofree char *key = g_ascii_strdown(member_id ? member_id : "", -1);
    int64_t n = store_db_run(st, "DELETE FROM member WHERE member_id = $1", error_r, 1, key);
    return n < 0 ? (int)n : n > 0;
}

static int member_get(struct store_stmt *s, struct store_member **m_r, char **error_r)
{
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        struct store_member m;
        store_member_from_row(s, &m);
        *m_r = store_member_dup(&m);
    }
    store_db_done(s);
    return rc;
}

int store_member_get(struct store *st, const char *member_id, struct store_member **m_r,
                     char **error_r)
{
    *m_r = NULL;
    struct store_stmt *s =
        store_db_prepare(st, STORE_MEMBER_SELECT " WHERE m.member_id = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    g_autofree char *key = g_ascii_strdown(member_id ? member_id : "", -1);
    store_db_bind_text(s, 1, key);
    return member_get(s, m_r, error_r);
}

int store_member_get_by_email(struct store *st, const char *list_id, const char *email, int role,
                              struct store_member **m_r, char **error_r)
{
    *m_r = NULL;
    g_autofree char *lower = store_db_email_lower(email);
    g_autofree char *list_lower = store_db_lower(list_id);
    if (lower == NULL || list_lower == NULL)
        return 0;
    struct store_stmt *s = store_db_prepare(
        st, STORE_MEMBER_SELECT " WHERE l.list_id = $1 AND a.email = $2 AND m.role = $3", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, list_lower);
    store_db_bind_text(s, 2, lower);
    store_db_bind_int(s, 3, role);
    return member_get(s, m_r, error_r);
}

static int member_update(struct store *st, const char *sql, const char *member_id, int64_t v,
                         bool null, char **error_r)
{
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return STORE_ERR;
    if (null)
        store_db_bind_null(s, 1);
    else
        store_db_bind_int(s, 1, v);
    g_autofree char *key = g_ascii_strdown(member_id ? member_id : "", -1);
    store_db_bind_text(s, 2, key);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc < 0)
        return rc;
    if (store_db_changes(st) == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such member: %s",
                             member_id ? member_id : "");
    return 0;
}

int store_member_set_delivery_mode(struct store *st, const char *member_id, int mode,
                                   char **error_r)
{
    if (mode != 0 && store_delivery_mode_name(mode) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid delivery mode: %d", mode);
    return member_update(st, "UPDATE member SET p_mode = $1 WHERE member_id = $2", member_id, mode,
                         mode == 0, error_r);
}

int store_member_set_delivery_status(struct store *st, const char *member_id, int status,
                                     char **error_r)
{
    if (status != 0 && store_delivery_status_name(status) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid delivery status: %d", status);
    return member_update(st, "UPDATE member SET p_status = $1 WHERE member_id = $2", member_id,
                         status, status == 0, error_r);
}

int store_member_set_moderation_action(struct store *st, const char *member_id, int action,
                                       char **error_r)
{
    if (action != STORE_ACTION_UNSET && store_action_name(action) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid moderation action: %d", action);
    return member_update(st, "UPDATE member SET moderation_action = $1 WHERE member_id = $2",
                         member_id, action, action == STORE_ACTION_UNSET, error_r);
}

int store_member_set_bounce_info(struct store *st, const char *member_id, int bounce_score,
                                 int64_t last_bounce_received, int64_t last_warning_sent,
                                 int total_warnings_sent, char **error_r)
{
    struct store_stmt *s = store_db_prepare(
        st,
        "UPDATE member SET bounce_score = $1, last_bounce_received = $2, last_warning_sent = $3, "
        "total_warnings_sent = $4 WHERE member_id = $5",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, bounce_score);
    if (last_bounce_received != 0)
        store_db_bind_int(s, 2, last_bounce_received);
    else
        store_db_bind_null(s, 2);
    store_db_bind_int(s, 3, last_warning_sent);
    store_db_bind_int(s, 4, total_warnings_sent);
    g_autofree char *key = g_ascii_strdown(member_id ? member_id : "", -1);
    store_db_bind_text(s, 5, key);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc < 0)
        return rc;
    if (store_db_changes(st) == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such member: %s", key);
    return 0;
}

int store_member_set_address(struct store *st, const char *member_id, const char *email,
                             char **error_r)
{
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t arow = 0;
    rc = store_address_ensure(st, email, NULL, false, &arow, NULL, error_r);
    if (rc == 0) {
        rc = member_update(st, "UPDATE member SET address = $1 WHERE member_id = $2", member_id,
                           arow, false, error_r);
        if (rc == STORE_EXISTS)
            rc = store_db_refail(error_r, STORE_EXISTS, "Member already subscribed");
    }
    return store_db_tx_end(st, rc, error_r);
}
