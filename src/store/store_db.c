/*
 * store_db - backend-neutral helpers over the statement layer: one-shot
 * statements, transactions and savepoints, row-id lookups, ids, tokens and
 * email normalization. See store_db.h.
 */
#include "store/store_db.h"

#include <errno.h>
#include <pthread.h>
#include <glib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>

#include "lib/log.h"

/* RFC 5321 §4.5.3.1.3 bounds a path at 256 octets, brackets included. */
#define STORE_EMAIL_MAX 254

int store_db_fail(char **error_r, int code, const char *fmt, ...)
{
    if (error_r != NULL) {
        va_list ap;
        va_start(ap, fmt);
        *error_r = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return code;
}

int store_db_refail(char **error_r, int code, const char *fmt, ...)
{
    if (error_r != NULL) {
        va_list ap;
        va_start(ap, fmt);
        g_free(*error_r);
        *error_r = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return code;
}

static struct store_stmt *prepare_bind(struct store *st, const char *sql, char **error_r, int n,
                                       va_list ap)
{
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return NULL;
    for (int i = 1; i <= n; i++)
        store_db_bind_text(s, i, va_arg(ap, const char *));
    return s;
}

int64_t store_db_run(struct store *st, const char *sql, char **error_r, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    struct store_stmt *s = prepare_bind(st, sql, error_r, n, ap);
    va_end(ap);
    if (s == NULL)
        return STORE_ERR;
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc < 0)
        return rc;
    return store_db_changes(st);
}

int store_db_query_int(struct store *st, const char *sql, int64_t *v_r, char **error_r, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    struct store_stmt *s = prepare_bind(st, sql, error_r, n, ap);
    va_end(ap);
    if (s == NULL)
        return STORE_ERR;
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *v_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc;
}

int store_db_list_row(struct store *st, const char *list_id, int64_t *row_r, char **error_r)
{
    g_autofree char *lower = store_db_lower(list_id);
    if (lower == NULL)
        return 0;
    return store_db_query_int(st, "SELECT id FROM mailinglist WHERE list_id = $1", row_r, error_r,
                              1, lower);
}

int store_db_address_row(struct store *st, const char *email, int64_t *row_r, char **error_r)
{
    return store_db_query_int(st, "SELECT id FROM address WHERE email = $1", row_r, error_r, 1,
                              email);
}

int store_db_tx_begin(struct store *st, char **error_r)
{
    int rc;
    if (!st->in_tx && st->tx_depth == 0) {
        /* IMMEDIATE takes the write lock now: a deferred transaction that
         * upgrades later can fail with SQLITE_BUSY despite busy_timeout. */
        rc = store_db_exec(st, "BEGIN IMMEDIATE", error_r);
    } else {
        g_autofree char *sql = g_strdup_printf("SAVEPOINT store_sp%d", st->tx_depth);
        rc = store_db_exec(st, sql, error_r);
    }
    if (rc == 0)
        st->tx_depth++;
    return rc;
}

int store_db_tx_end(struct store *st, int rc, char **error_r)
{
    st->tx_depth--;
    if (!st->in_tx && st->tx_depth == 0) {
        if (rc >= 0) {
            if (store_db_exec(st, "COMMIT", error_r) == 0)
                return rc;
            rc = STORE_ERR;
        }
        store_db_exec(st, "ROLLBACK", NULL);
        return rc;
    }
    g_autofree char *release = g_strdup_printf("RELEASE store_sp%d", st->tx_depth);
    if (rc < 0) {
        g_autofree char *undo = g_strdup_printf("ROLLBACK TO store_sp%d", st->tx_depth);
        store_db_exec(st, undo, NULL);
        store_db_exec(st, release, NULL);
        return rc;
    }
    if (store_db_exec(st, release, error_r) < 0)
        return STORE_ERR;
    return rc;
}

int64_t store_db_now(void)
{
    return g_get_real_time();
}

/* Random bytes from a buffer refilled by getrandom(2) 4 KiB at a time: a
 * bulk import needs two ids per member, and a syscall each was a fifth of
 * its time. The buffer is per thread; bytes are never handed out twice. */
static __thread guint8 random_pool[4096];
static __thread size_t random_avail;

/* A forked child must not reuse the parent's buffered bytes (the master
 * forks the runners): it starts with an empty buffer. */
static void random_forget(void)
{
    memset(random_pool, 0, sizeof(random_pool));
    random_avail = 0;
}

static void random_bytes(guint8 *out, size_t n)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        pthread_atfork(NULL, NULL, random_forget);
        g_once_init_leave(&once, 1);
    }
    guint8 *pool = random_pool;
    const size_t size = sizeof(random_pool);
    size_t avail = random_avail;
    while (n > 0) {
        if (avail == 0) {
            size_t got = 0;
            while (got < size) {
                ssize_t r = getrandom(pool + got, size - got, 0);
                if (r < 0) {
                    if (errno == EINTR)
                        continue;
                    log_panic("getrandom: %s", g_strerror(errno));
                }
                got += (size_t)r;
            }
            avail = size;
        }
        size_t take = MIN(n, avail);
        memcpy(out, pool + size - avail, take);
        memset(pool + size - avail, 0, take);
        avail -= take;
        out += take;
        n -= take;
    }
    random_avail = avail;
}

static char *random_hex(size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    guint8 buf[32];
    g_assert(nbytes <= sizeof(buf));
    random_bytes(buf, nbytes);
    char *s = g_malloc(nbytes * 2 + 1);
    for (size_t i = 0; i < nbytes; i++) {
        s[2 * i] = hex[buf[i] >> 4];
        s[2 * i + 1] = hex[buf[i] & 15];
    }
    s[nbytes * 2] = '\0';
    return s;
}

char *store_db_uuid(void)
{
    /* A version-4 UUID, as Mailman's uuid4(), printed as 32 hex. */
    char *hex = random_hex(16);
    hex[12] = '4';
    static const char variant[] = "89ab";
    hex[16] = variant[g_ascii_xdigit_value(hex[16]) & 3];
    return hex;
}

char *store_db_token(void)
{
    return random_hex(20);
}

char *store_db_lower(const char *s)
{
    if (s == NULL || !g_utf8_validate(s, -1, NULL))
        return NULL;
    return g_utf8_strdown(s, -1);
}

char *store_db_email_lower(const char *email)
{
    if (email == NULL)
        return NULL;
    size_t len = strlen(email);
    if (len == 0 || len > STORE_EMAIL_MAX || !g_utf8_validate(email, (gssize)len, NULL))
        return NULL;
    const char *at = strrchr(email, '@');
    if (at == NULL || at == email || at[1] == '\0')
        return NULL;
    for (const char *p = email; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
            return NULL;
    }
    return g_utf8_strdown(email, (gssize)len);
}

int store_db_bad_email(const char *email, char **error_r)
{
    return store_db_fail(error_r, STORE_INVALID, "Invalid email address: %s",
                         email ? email : "(null)");
}
