/* post_dmarc_dns - see post_dmarc_dns.h. */
#include "post/post_dmarc_dns.h"

#include "config/config.h"

#include <ares.h>
#include <math.h>
#include <poll.h>
#include <string.h>

enum { DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_TXT = 16, DNS_C_IN = 1 };
/* A chain longer than this is a loop or an attack. */
#define MAX_CNAMES 16
/* Cached names per process; when full, the expired go, then all. */
#define CACHE_MAX 4096

/* ---- the answer ---- */

struct reader {
    const unsigned char *abuf;
    int alen;
    const unsigned char *p;
};

static unsigned u16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static long u31(const unsigned char *p)
{
    /* RFC 2181 §8: the top bit of a TTL is zero */
    return (long)(((unsigned long)p[0] & 0x7f) << 24 | (unsigned long)p[1] << 16 |
                  (unsigned long)p[2] << 8 | p[3]);
}

/* A (compressed) name at r->p; advances past it. NULL when malformed. */
static char *read_name(struct reader *r)
{
    char *s = NULL;
    long enclen = 0;
    if (ares_expand_name(r->p, r->abuf, r->alen, &s, &enclen) != ARES_SUCCESS)
        return NULL;
    char *out = g_ascii_strdown(s, -1);
    ares_free_string(s);
    r->p += enclen;
    return out;
}

static bool skip_name(struct reader *r)
{
    char *s = read_name(r);
    g_free(s);
    return s != NULL;
}

/* RFC 1035 §3.3.14: TXT-DATA is one or more <character-string>s; Mailman
 * joins them into one record. */
static char *txt_record(const unsigned char *p, const unsigned char *end)
{
    GString *s = g_string_new(NULL);
    while (p < end) {
        size_t n = *p++;
        if ((size_t)(end - p) < n) {
            g_string_free(s, TRUE);
            return NULL;
        }
        g_string_append_len(s, (const char *)p, (gssize)n);
        p += n;
    }
    char *raw = g_string_free(s, FALSE);
    char *v = g_utf8_make_valid(raw, -1);
    g_free(raw);
    return v;
}

static long min_ttl(long a, long b)
{
    return a < 0 ? b : b < 0 ? a : MIN(a, b);
}

struct rr {
    char *owner;
    unsigned type;
    char *target; /* CNAME */
    char *text;   /* TXT */
};

static void rr_free(gpointer p)
{
    struct rr *x = p;
    g_free(x->owner);
    g_free(x->target);
    g_free(x->text);
    g_free(x);
}

enum post_dmarc_dns_status post_dmarc_dns_parse(const unsigned char *abuf, int alen,
                                                const char *qname, GPtrArray **txt_r,
                                                char **cname_r, long *ttl_r)
{
    *txt_r = NULL;
    *cname_r = NULL;
    *ttl_r = -1;
    if (alen < 12)
        return POST_DMARC_DNS_FAIL;
    struct reader r = {abuf, alen, abuf + 12};
    const unsigned char *end = abuf + alen;
    unsigned qd = u16(abuf + 4), an = u16(abuf + 6), ns = u16(abuf + 8);
    for (unsigned i = 0; i < qd; i++) {
        if (!skip_name(&r) || end - r.p < 4)
            return POST_DMARC_DNS_FAIL;
        r.p += 4;
    }
    GPtrArray *rrs = g_ptr_array_new_with_free_func(rr_free);
    long ttl = -1, negative = -1;
    enum post_dmarc_dns_status st = POST_DMARC_DNS_NONE;
    for (unsigned i = 0; i < an + ns; i++) {
        char *owner = read_name(&r);
        if (owner == NULL || end - r.p < 10) {
            g_free(owner);
            st = POST_DMARC_DNS_FAIL;
            break;
        }
        unsigned type = u16(r.p), klass = u16(r.p + 2), rdlen = u16(r.p + 8);
        long rr_ttl = u31(r.p + 4);
        r.p += 10;
        const unsigned char *rd = r.p, *rdend = r.p + rdlen;
        if ((size_t)(end - rd) < rdlen) {
            g_free(owner);
            st = POST_DMARC_DNS_FAIL;
            break;
        }
        r.p = rdend;
        if (i >= an) { /* the authority section: only the SOA matters */
            if (type == DNS_T_SOA && rdlen >= 22)
                negative = min_ttl(negative, MIN(rr_ttl, u31(rdend - 4)));
            g_free(owner);
            continue;
        }
        ttl = min_ttl(ttl, rr_ttl);
        struct rr *x = g_new0(struct rr, 1);
        x->owner = owner;
        x->type = type;
        if (klass == DNS_C_IN && type == DNS_T_CNAME) {
            struct reader t = {abuf, alen, rd};
            x->target = read_name(&t);
        } else if (klass == DNS_C_IN && type == DNS_T_TXT) {
            x->text = txt_record(rd, rdend);
        }
        g_ptr_array_add(rrs, x);
    }
    if (st == POST_DMARC_DNS_FAIL) {
        g_ptr_array_unref(rrs);
        return st;
    }
    /* Follow the CNAMEs from qname, as Mailman does over the answer. */
    g_autofree char *name = g_ascii_strdown(qname, -1);
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        name[n - 1] = '\0';
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(seen, g_strdup(name));
    for (int hops = 0; hops < MAX_CNAMES; hops++) {
        const char *next = NULL;
        for (guint i = 0; i < rrs->len && next == NULL; i++) {
            struct rr *x = rrs->pdata[i];
            if (x->target && strcmp(x->owner, name) == 0)
                next = x->target;
        }
        if (next == NULL || !g_hash_table_add(seen, g_strdup(next)))
            break; /* the end, or a loop: stay at the last new name */
        g_free(name);
        name = g_strdup(next);
    }
    g_hash_table_unref(seen);
    GPtrArray *txt = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < rrs->len; i++) {
        struct rr *x = rrs->pdata[i];
        if (x->text && strcmp(x->owner, name) == 0)
            g_ptr_array_add(txt, g_strdup(x->text));
    }
    g_ptr_array_unref(rrs);
    if (txt->len == 0) {
        g_ptr_array_unref(txt);
        *ttl_r = negative;
        return POST_DMARC_DNS_NONE;
    }
    *txt_r = txt;
    *cname_r = g_strconcat(name, ".", NULL);
    *ttl_r = ttl;
    return POST_DMARC_DNS_FOUND;
}

/* ---- the cache ---- */

struct cached {
    enum post_dmarc_dns_status status;
    GPtrArray *txt;
    char *cname;
    gint64 expires; /* monotonic µs */
};

static GHashTable *cache;

static void cached_free(gpointer p)
{
    struct cached *e = p;
    if (e->txt)
        g_ptr_array_unref(e->txt);
    g_free(e->cname);
    g_free(e);
}

void post_dmarc_dns_cache_clear(void)
{
    if (cache)
        g_hash_table_remove_all(cache);
}

static gboolean expired(gpointer k, gpointer v, gpointer now)
{
    return ((struct cached *)v)->expires <= *(gint64 *)now;
}

static void cache_put(const char *name, enum post_dmarc_dns_status st, GPtrArray *txt,
                      const char *cname, double seconds)
{
    if (seconds < 1)
        return;
    if (cache == NULL)
        cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_free);
    gint64 now = g_get_monotonic_time();
    if (g_hash_table_size(cache) >= CACHE_MAX)
        g_hash_table_foreach_remove(cache, expired, &now);
    if (g_hash_table_size(cache) >= CACHE_MAX)
        g_hash_table_remove_all(cache);
    struct cached *e = g_new0(struct cached, 1);
    e->status = st;
    e->txt = txt ? g_ptr_array_ref(txt) : NULL;
    e->cname = g_strdup(cname);
    e->expires = now + (gint64)(seconds * G_USEC_PER_SEC);
    g_hash_table_replace(cache, g_ascii_strdown(name, -1), e);
}

static bool cache_get(const char *name, enum post_dmarc_dns_status *st, GPtrArray **txt_r,
                      char **cname_r)
{
    if (cache == NULL)
        return false;
    g_autofree char *key = g_ascii_strdown(name, -1);
    struct cached *e = g_hash_table_lookup(cache, key);
    if (e == NULL || e->expires <= g_get_monotonic_time())
        return false;
    *st = e->status;
    *txt_r = e->txt ? g_ptr_array_ref(e->txt) : NULL;
    *cname_r = g_strdup(e->cname);
    return true;
}

/* ---- the query ---- */

struct query {
    bool done;
    int status;
    unsigned char *abuf;
    int alen;
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct query *q = arg;
    if (q->done)
        return;
    q->done = true;
    q->status = status;
    if (abuf && alen > 0) {
        q->abuf = g_memdup2(abuf, (gsize)alen);
        q->alen = alen;
    }
}

static gpointer library_init(gpointer unused)
{
    return GINT_TO_POINTER(ares_library_init(ARES_LIB_INIT_ALL));
}

/* Runs the channel until the query is answered or the deadline passes. */
static void run(ares_channel ch, struct query *q, gint64 deadline)
{
    while (!q->done) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline) {
            ares_cancel(ch); /* on_answer gets ARES_ECANCELLED */
            q->status = ARES_ETIMEOUT;
            q->done = true;
            break;
        }
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        /* the bitmask by hand: ARES_GETSOCK_WRITABLE shifts a signed 1 by 31 */
        unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        nfds_t n = 0;
        for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = (short)((bits & 1u << i ? POLLIN : 0) |
                               (bits & 1u << (i + ARES_GETSOCK_MAXNUM) ? POLLOUT : 0));
            if (ev)
                pfd[n++] = (struct pollfd){.fd = socks[i], .events = ev};
        }
        gint64 left_ms = (deadline - now + 999) / 1000;
        struct timeval max = {(time_t)(left_ms / 1000), (suseconds_t)(left_ms % 1000) * 1000};
        struct timeval tv;
        struct timeval *t = ares_timeout(ch, &max, &tv);
        int wait = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
        int ready = poll(pfd, n, wait);
        if (ready <= 0) {
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
            continue;
        }
        for (nfds_t i = 0; i < n && !q->done; i++) {
            if (pfd[i].revents == 0)
                continue;
            bool r = pfd[i].revents & (POLLIN | POLLERR | POLLHUP);
            bool w = pfd[i].revents & POLLOUT;
            ares_process_fd(ch, r ? pfd[i].fd : ARES_SOCKET_BAD, w ? pfd[i].fd : ARES_SOCKET_BAD);
        }
    }
}

enum post_dmarc_dns_status post_dmarc_dns_txt(const struct config *cfg, const char *name,
                                              GPtrArray **txt_r, char **cname_r, char **error_r)
{
    *txt_r = NULL;
    *cname_r = NULL;
    enum post_dmarc_dns_status st;
    if (cache_get(name, &st, txt_r, cname_r))
        return st;
    static GOnce once = G_ONCE_INIT;
    int rc = GPOINTER_TO_INT(g_once(&once, library_init, NULL));
    if (rc != ARES_SUCCESS) {
        *error_r = g_strdup_printf("c-ares: %s", ares_strerror(rc));
        return POST_DMARC_DNS_FAIL;
    }
    double timeout = config_get_duration(cfg, "dmarc", "resolver_timeout");
    double lifetime = config_get_duration(cfg, "dmarc", "resolver_lifetime");
    if (timeout <= 0)
        timeout = 0.001;
    struct ares_options o = {
        .flags = ARES_FLAG_NOSEARCH,
        .timeout = (int)MAX(1, timeout * 1000),
        /* c-ares backs off between tries; the lifetime deadline is what stops it */
        .tries = (int)CLAMP(ceil(lifetime / timeout), 1, 20),
    };
    ares_channel ch;
    rc = ares_init_options(&ch, &o, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        *error_r = g_strdup_printf("c-ares: %s", ares_strerror(rc));
        return POST_DMARC_DNS_FAIL;
    }
    const char *servers = config_get(cfg, "dmarc", "resolver");
    if (servers && *servers && (rc = ares_set_servers_ports_csv(ch, servers)) != ARES_SUCCESS) {
        ares_destroy(ch);
        *error_r = g_strdup_printf("[dmarc] resolver: %s: %s", servers, ares_strerror(rc));
        return POST_DMARC_DNS_FAIL;
    }
    struct query q = {0};
    ares_query(ch, name, DNS_C_IN, DNS_T_TXT, on_answer, &q);
    run(ch, &q, g_get_monotonic_time() + (gint64)(lifetime * G_USEC_PER_SEC));
    ares_destroy(ch);
    long ttl = -1;
    double keep = config_get_duration(cfg, "dmarc", "cache_lifetime");
    switch (q.status) {
    case ARES_SUCCESS:
        st = post_dmarc_dns_parse(q.abuf, q.alen, name, txt_r, cname_r, &ttl);
        if (st == POST_DMARC_DNS_FAIL)
            *error_r = g_strdup("malformed answer");
        break;
    case ARES_ENOTFOUND: /* NXDOMAIN */
    case ARES_ENODATA:   /* no record of the type */
        st = POST_DMARC_DNS_NONE;
        if (q.abuf) {
            GPtrArray *none = NULL;
            char *cname = NULL;
            post_dmarc_dns_parse(q.abuf, q.alen, name, &none, &cname, &ttl);
            if (none)
                g_ptr_array_unref(none);
            g_free(cname);
        }
        break;
    default:
        st = POST_DMARC_DNS_FAIL;
        *error_r = g_strdup(ares_strerror(q.status));
        break;
    }
    g_free(q.abuf);
    if (st != POST_DMARC_DNS_FAIL && ttl > 0)
        cache_put(name, st, *txt_r, *cname_r, MIN((double)ttl, keep));
    return st;
}
