/* lmtp_route - see lmtp_route.h. */
#include "lmtp/lmtp_route.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *suffix;
    enum lmtp_sub sub;
} suffixes[] = {
    {"bounces", LMTP_SUB_BOUNCES}, {"confirm", LMTP_SUB_CONFIRM},   {"join", LMTP_SUB_JOIN},
    {"leave", LMTP_SUB_LEAVE},     {"owner", LMTP_SUB_OWNER},       {"request", LMTP_SUB_REQUEST},
    {"subscribe", LMTP_SUB_JOIN},  {"unsubscribe", LMTP_SUB_LEAVE},
};

static const struct {
    const char *queue, *subaddress;
} sub_info[] = {
    [LMTP_SUB_POST] = {"in", NULL},
    [LMTP_SUB_BOUNCES] = {"bounces", "bounces"},
    [LMTP_SUB_CONFIRM] = {"command", "confirm"},
    [LMTP_SUB_JOIN] = {"command", "join"},
    [LMTP_SUB_LEAVE] = {"command", "leave"},
    [LMTP_SUB_OWNER] = {"in", "owner"},
    [LMTP_SUB_REQUEST] = {"command", "request"},
};

const char *lmtp_route_queue(enum lmtp_sub sub)
{
    return sub_info[sub].queue;
}

const char *lmtp_route_subaddress(enum lmtp_sub sub)
{
    return sub_info[sub].subaddress;
}

/* The bare address of an RCPT argument: "<a@b>" or "a@b", no spaces. */
static char *bare_address(const char *rcpt)
{
    while (*rcpt == ' ')
        rcpt++;
    size_t n = strlen(rcpt);
    while (n > 0 && rcpt[n - 1] == ' ')
        n--;
    if (n >= 2 && rcpt[0] == '<' && rcpt[n - 1] == '>') {
        rcpt++;
        n -= 2;
    }
    return g_ascii_strdown(rcpt, (gssize)n);
}

int lmtp_route_resolve(const struct lmtp_route_lookup *lk, const char *rcpt,
                       struct lmtp_route *route_r)
{
    g_autofree char *addr = bare_address(rcpt);
    char *at = strchr(addr, '@');
    if (at == NULL || at == addr || at[1] == '\0')
        return 0;
    *at = '\0';
    char *local = addr;
    const char *domain = at + 1;
    const char *canonical = lk->alias_of ? lk->alias_of(lk->ctx, domain) : NULL;
    if (canonical != NULL)
        domain = canonical;
    const char *delim = lk->verp_delimiter && *lk->verp_delimiter ? lk->verp_delimiter : "+";
    char *cut = strstr(local, delim);
    if (cut != NULL)
        *cut = '\0';
    if (*local == '\0')
        return 0;

    enum lmtp_sub sub = LMTP_SUB_POST;
    char *dash = strrchr(local, '-');
    if (dash != NULL && dash != local) {
        for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
            if (strcmp(dash + 1, suffixes[i].suffix) == 0) {
                sub = suffixes[i].sub;
                break;
            }
        }
    }
    /* A list may itself be called like "x-join": then it is a post to it. */
    int n = snprintf(route_r->fqdn, sizeof route_r->fqdn, "%s@%s", local, domain);
    if (n < 0 || (size_t)n >= sizeof route_r->fqdn)
        return 0;
    if (sub != LMTP_SUB_POST && lk->list_exists(lk->ctx, route_r->fqdn)) {
        sub = LMTP_SUB_POST;
    } else if (sub != LMTP_SUB_POST) {
        n = snprintf(route_r->fqdn, sizeof route_r->fqdn, "%.*s@%s", (int)(dash - local), local,
                     domain);
        if (n < 0 || (size_t)n >= sizeof route_r->fqdn)
            return 0;
    }
    if (!lk->list_exists(lk->ctx, route_r->fqdn))
        return 0;
    route_r->sub = sub;
    return 1;
}
