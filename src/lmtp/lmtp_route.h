/*
 * lmtp_route - Mailman's LMTP addressing (reference §2): which list and
 * which of its addresses an RCPT names, and which queue it goes to.
 *
 * The address is lower-cased; a domain that is some domain's alias_domain
 * becomes that domain's mail_host; the local part is cut at the first
 * verp_delimiter; then "x-SUB" with SUB one of bounces confirm join leave
 * owner request subscribe unsubscribe (and x non-empty) names list x's SUB
 * address, unless "x-SUB@domain" is itself a list (then it is that list's
 * posting address). The list must exist.
 *
 * The lookups come through struct lmtp_route_lookup so that this stays free
 * of the store (the runner caches the names; tests pass tables).
 */
#ifndef CRIER_LMTP_ROUTE_H
#define CRIER_LMTP_ROUTE_H

#include <stdbool.h>

struct lmtp_route_lookup {
    /* fqdn is lower-case "list@domain". */
    bool (*list_exists)(void *ctx, const char *fqdn);
    /* The mail_host whose alias_domain is domain, or NULL. */
    const char *(*alias_of)(void *ctx, const char *domain);
    void *ctx;
    const char *verp_delimiter; /* [mta] verp_delimiter, usually "+" */
};

enum lmtp_sub {
    LMTP_SUB_POST,
    LMTP_SUB_BOUNCES,
    LMTP_SUB_CONFIRM,
    LMTP_SUB_JOIN,  /* -join and -subscribe */
    LMTP_SUB_LEAVE, /* -leave and -unsubscribe */
    LMTP_SUB_OWNER,
    LMTP_SUB_REQUEST,
};

struct lmtp_route {
    char fqdn[320]; /* the list's posting address */
    enum lmtp_sub sub;
};

/* 1 and *route_r filled for a list address; 0 for anything else (unknown
 * list, unknown domain, bogus subaddress, malformed address). */
int lmtp_route_resolve(const struct lmtp_route_lookup *lk, const char *rcpt,
                       struct lmtp_route *route_r);

/* The queue a subaddress goes to (reference §2's table): "in", "bounces" or
 * "command". */
const char *lmtp_route_queue(enum lmtp_sub sub);
/* The `subaddress` metadata value ("join" for -subscribe too), or NULL for
 * a post. */
const char *lmtp_route_subaddress(enum lmtp_sub sub);

#endif
