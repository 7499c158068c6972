/* deliver_smtp - see deliver_smtp.h. */
#include "deliver/deliver_smtp.h"

#include "deliver/deliver_tls.h"
#include "lib/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* How much is read before giving up on the server: a line (RFC 5321
 * §4.5.3.1.5: 512 octets; this is many times over) and a whole multi-line
 * reply (the RFC bounds no number of lines; 2,000 full ones fit). Of a
 * reply only the first DELIVER_SMTP_REPLY_MAX octets of text are kept,
 * and EHLO's keywords are taken line by line, so memory stays bounded
 * whatever the server sends. */
#define LINE_BOUND  65536
#define REPLY_BOUND (1024 * 1024)
/* The most one write system call sends. */
#define WRITE_MAX (1024 * 1024)

/* RFC 5321 §4.5.3.2, in seconds. */
enum {
    WAIT_DEFAULT = 300, /* greeting, MAIL, RCPT, and everything else */
    WAIT_DATA = 120,    /* the reply to DATA */
    WAIT_BLOCK = 180,   /* sending a data block */
    WAIT_DOT = 600,     /* the reply to the final "." */
    WAIT_QUIT = 10,     /* a QUIT reply is not worth waiting for long */
};

/* RFC 5321 §4.1.1.1: each EHLO line after the first is a keyword and its
 * parameters; param NULL means the keyword alone is enough. */
static const struct {
    const char *keyword, *param;
    unsigned flag;
} ehlo_keywords[] = {
    {"PIPELINING", NULL, DELIVER_SMTP_EXT_PIPELINING},
    {"STARTTLS", NULL, DELIVER_SMTP_EXT_STARTTLS},
    {"AUTH", "PLAIN", DELIVER_SMTP_EXT_AUTH_PLAIN},
    {"AUTH", "LOGIN", DELIVER_SMTP_EXT_AUTH_LOGIN},
};

enum conn_state {
    ST_CONNECTING, /* TCP */
    ST_TLS,        /* the TLS handshake (SMTPS, or after STARTTLS) */
    ST_GREETING,
    ST_EHLO,
    ST_HELO,
    ST_STARTTLS,
    ST_AUTH,
    ST_READY, /* transactions; idle when nothing is expected */
    ST_QUIT,  /* QUIT sent; freed at its reply or the end of the stream */
};

/* What each set-up state waits for, named in error messages. */
static const char *const state_names[] = {
    [ST_CONNECTING] = "connect", [ST_TLS] = "TLS handshake", [ST_GREETING] = "greeting",
    [ST_EHLO] = "EHLO",          [ST_HELO] = "HELO",         [ST_STARTTLS] = "STARTTLS",
    [ST_AUTH] = "AUTH",          [ST_READY] = "transaction", [ST_QUIT] = "QUIT",
};

/* A reply awaited in the transaction phase, in the order of the commands. */
enum expect_kind { EXP_MAIL, EXP_RCPTS, EXP_DATA, EXP_DOT, EXP_RSET };

struct expect {
    enum expect_kind kind;
    struct deliver_smtp_txn *txn; /* NULL for RSET */
    guint64 end;                  /* conn.out_added once the command (or message) was queued */
};

struct conn {
    struct deliver_smtp_pool *p;
    struct bufferevent *bev;
    enum conn_state st;
    bool tls_on;
    bool awaiting_354; /* DATA sent, its reply not read: nothing may follow */
    unsigned ext;
    unsigned uses;               /* transactions started on this connection */
    unsigned auth_step;          /* AUTH LOGIN: 0 user, 1 password, 2 done */
    unsigned timeout;            /* the reply's deadline now, ms; 0: none */
    guint64 timeout_key;         /* the wait it is for: state, replies */
    bool write_timeout;          /* the bufferevent's write timeout is set */
    struct event *deadline;      /* the reply's deadline (conn_timeouts) */
    unsigned replies;            /* complete replies read */
    GQueue expect;               /* struct expect *, in the ST_READY phase */
    GString *text;               /* the reply so far, lines joined with spaces */
    size_t reply_len;            /* octets of the reply so far */
    unsigned reply_lines;        /* lines of the reply so far */
    int reply_code;              /* the code of its first line */
    unsigned ehlo_ext;           /* keywords of the EHLO reply so far */
    guint64 out_added;           /* octets ever added to the output buffer */
    struct addrinfo *addrs, *ai; /* the addresses, the one being tried */
    int connect_err;             /* errno of a connect that failed at once */
    struct event *later;         /* runs conn_later from the loop */
    bool in_read;                /* in on_read: conn_free only marks dead */
    bool dead;
};

struct deliver_smtp_pool {
    const struct deliver_smtp_options *o;
    char *peer; /* "host:port", for messages */
    struct event_base *base;
    unsigned max_conns, per_conn;
    unsigned run_max; /* this run: max_conns, or fewer if the server wants */
    GPtrArray *conns; /* struct conn *: setting up, ready, quitting */
    unsigned open;    /* conns not quitting */
    unsigned setting_up;
    GQueue pending; /* taken transactions waiting for a connection */
    const struct deliver_smtp_source *src;
    bool exhausted;       /* src->next said there are no more */
    unsigned outstanding; /* taken from src, not yet done */
};

unsigned deliver_smtp_ehlo_ext(char *const *lines, size_t n)
{
    unsigned ext = 0;
    for (size_t i = 0; i < n; i++) {
        g_auto(GStrv) words = g_strsplit_set(lines[i], " ", -1);
        for (size_t k = 0; words[0] && k < G_N_ELEMENTS(ehlo_keywords); k++) {
            if (g_ascii_strcasecmp(words[0], ehlo_keywords[k].keyword) != 0)
                continue;
            bool has = ehlo_keywords[k].param == NULL;
            for (char **w = words + 1; *w && !has; w++)
                has = g_ascii_strcasecmp(*w, ehlo_keywords[k].param) == 0;
            if (has)
                ext |= ehlo_keywords[k].flag;
        }
    }
    return ext;
}

GString *deliver_smtp_data_block(const char *msg, size_t len)
{
    GString *out = g_string_sized_new(len + len / 40 + 8);
    bool bol = true;
    for (size_t i = 0; i < len; i++) {
        char ch = msg[i];
        if (bol && ch == '.')
            g_string_append_c(out, '.');
        if (ch == '\n' && (i == 0 || msg[i - 1] != '\r'))
            g_string_append_c(out, '\r');
        g_string_append_c(out, ch);
        bol = ch == '\n';
    }
    if (!bol)
        g_string_append(out, "\r\n");
    g_string_append(out, ".\r\n");
    return out;
}

static void fail_rest(struct deliver_smtp_txn *t, int code, const char *text)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->results[i].code == 0) {
            t->results[i].code = code;
            g_strlcpy(t->results[i].text, text, sizeof t->results[i].text);
        }
}

/* ---- the pool's side ---------------------------------------------------- */

static void txn_reset(struct deliver_smtp_txn *t)
{
    memset(t->results, 0, t->n * sizeof *t->results);
    t->data_sent = t->mail_ok = false;
    t->answered = t->accepted = 0;
}

/* A waiting transaction: one given back by a broken connection first. */
static struct deliver_smtp_txn *pool_take(struct deliver_smtp_pool *p)
{
    struct deliver_smtp_txn *t = g_queue_pop_head(&p->pending);
    if (t || p->exhausted || p->src == NULL)
        return t;
    t = p->src->next(p->src->ud);
    if (t == NULL) {
        p->exhausted = true;
        return NULL;
    }
    p->outstanding++;
    t->tries = 0;
    txn_reset(t);
    return t;
}

static void pool_done(struct deliver_smtp_pool *p, struct deliver_smtp_txn *t, const char *error)
{
    p->outstanding--;
    p->src->done(p->src->ud, t, error);
}

static void conn_open(struct deliver_smtp_pool *p);
static void conn_next(struct conn *c);

/* Opens connections while there is work for them: one per waiting
 * transaction beyond those already being set up, up to run_max. */
static void pool_refill(struct deliver_smtp_pool *p)
{
    while (p->open < p->run_max) {
        if (p->pending.length <= p->setting_up) {
            struct deliver_smtp_txn *t = pool_take(p);
            if (t == NULL)
                return;
            g_queue_push_tail(&p->pending, t);
        }
        conn_open(p);
    }
}

/* Idle connections take waiting work; more are opened if there is more. */
static void pool_kick(struct deliver_smtp_pool *p)
{
    for (guint i = 0; i < p->conns->len; i++) {
        struct conn *c = p->conns->pdata[i];
        if (c->st == ST_READY && c->expect.length == 0)
            conn_next(c);
    }
    pool_refill(p);
}

/* ---- one connection ----------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void on_write(struct bufferevent *bev, void *arg);

/* RFC 5321's wait of secs, in ms, after options.timeout_s and
 * options.timeout_div. */
static unsigned cap(const struct conn *c, unsigned secs)
{
    const struct deliver_smtp_options *o = c->p->o;
    unsigned ms = secs * 1000 / (o->timeout_div > 1 ? o->timeout_div : 1);
    unsigned max = MIN(o->timeout_s, 3600u) * 1000;
    ms = max > 0 && max < ms ? max : ms;
    return ms > 0 ? ms : 1;
}

static struct timeval ms_tv(unsigned ms)
{
    return (struct timeval){(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
}

/* Octets that left the output buffer (for the kernel, or TLS). */
static guint64 conn_drained(const struct conn *c)
{
    return c->out_added - evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* The deadline for the reply awaited now; none while idle. */
static void conn_timeouts(struct conn *c)
{
    unsigned secs = WAIT_DEFAULT;
    const struct expect *x = g_queue_peek_head(&c->expect);
    if (c->st == ST_QUIT) {
        secs = WAIT_QUIT;
    } else if (c->st == ST_READY) {
        secs = x == NULL             ? 0
               : x->kind == EXP_DATA ? WAIT_DATA
               : x->kind == EXP_DOT  ? WAIT_DOT
                                     : WAIT_DEFAULT;
    }
    unsigned ms = secs ? cap(c, secs) : 0;
    /* RFC 5321 §4.5.3.2.6: the wait for the final reply starts once the
     * "." is sent; until then the write timeout applies (on_write calls
     * again when the buffer is empty). */
    bool sending = c->st == ST_READY && x && x->kind == EXP_DOT && conn_drained(c) < x->end;
    /* A deadline per awaited reply, not restarted by bytes that arrive
     * (libevent's read timeout is): a server trickling a reply that
     * never ends would hold the runner for as long as it likes. */
    guint64 key = (guint64)sending << 63 | (guint64)c->st << 32 | c->replies;
    if (ms != c->timeout || key != c->timeout_key) {
        c->timeout = ms;
        c->timeout_key = key;
        struct timeval tv = ms_tv(ms);
        if (ms && !sending)
            evtimer_add(c->deadline, &tv);
        else
            evtimer_del(c->deadline);
    }
    /* RFC 5321 §4.5.3.2.5: each send may take WAIT_BLOCK (libevent
     * restarts it at every write, which is what is wanted here). */
    if ((ms != 0) != c->write_timeout) {
        c->write_timeout = ms != 0;
        struct timeval wr = ms_tv(cap(c, WAIT_BLOCK));
        bufferevent_set_timeouts(c->bev, NULL, ms ? &wr : NULL);
    }
}

static void conn_free(struct conn *c)
{
    struct deliver_smtp_pool *p = c->p;
    if (c->st < ST_READY)
        p->setting_up--;
    if (c->st != ST_QUIT)
        p->open--;
    g_ptr_array_remove_fast(p->conns, c);
    if (c->bev)
        bufferevent_free(c->bev);
    c->bev = NULL;
    struct expect *x;
    while ((x = g_queue_pop_head(&c->expect)))
        g_free(x);
    g_string_free(c->text, TRUE);
    if (c->addrs)
        freeaddrinfo(c->addrs);
    event_free(c->later);
    event_free(c->deadline);
    c->dead = true;
    if (!c->in_read)
        g_free(c);
}

/* The connection is gone. While setting up, it fails one waiting
 * transaction with why (the connection attempt it was for), unless
 * another connection to the server works or is being set up: then the
 * server takes no more
 * connections than that ("421 too many connections from your host"), no
 * more are opened in this run, and the waiting transactions go to those
 * that work instead of failing. Later, its
 * transactions whose message was not sent yet wait for another connection
 * (once); the others get 444 for every recipient not yet answered (and
 * why, when given, is logged for them). */
static void conn_fail(struct conn *c, const char *why)
{
    struct deliver_smtp_pool *p = c->p;
    if (c->st < ST_READY) {
        conn_free(c);
        /* (Also while the others are still being set up: they may work,
         * and if they fail too the last one fails a transaction.) */
        if (p->open > 0) {
            if (p->run_max > p->open)
                log_info("out: %s; going on with %u connections", why ? why : "connection failure",
                         p->open);
            p->run_max = p->open;
            return;
        }
        struct deliver_smtp_txn *t = pool_take(p);
        if (t) {
            fail_rest(t, 444, "connection failure");
            pool_done(p, t, why);
        }
        return;
    }
    GPtrArray *txns = g_ptr_array_new();
    for (GList *l = c->expect.head; l; l = l->next) {
        struct deliver_smtp_txn *t = ((struct expect *)l->data)->txn;
        if (t && (txns->len == 0 || txns->pdata[txns->len - 1] != t))
            g_ptr_array_add(txns, t);
    }
    conn_free(c);
    for (guint i = txns->len; i-- > 0;) {
        struct deliver_smtp_txn *t = txns->pdata[i];
        if (!t->data_sent && t->tries < 2) {
            txn_reset(t);
            g_queue_push_head(&p->pending, t);
        }
    }
    for (guint i = 0; i < txns->len; i++) {
        struct deliver_smtp_txn *t = txns->pdata[i];
        if (t->data_sent || t->tries >= 2) {
            fail_rest(t, 444, "connection failure");
            pool_done(p, t, why);
        }
    }
    g_ptr_array_unref(txns);
}

/* A set-up step failed: "<peer>: <what>" or "<peer>: <step>: <code> <text>". */
static void conn_setup_failed(struct conn *c, int code, const char *text)
{
    g_autofree char *why =
        code ? g_strdup_printf("%s: %s: %d %s", c->p->peer, state_names[c->st], code, text)
             : g_strdup_printf("%s: %s", c->p->peer, text);
    conn_fail(c, why);
}

static void conn_send(struct conn *c, const char *line)
{
    size_t len = strlen(line);
    evbuffer_add(bufferevent_get_output(c->bev), line, len);
    c->out_added += len;
}

static void G_GNUC_PRINTF(2, 3) conn_printf(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
    va_end(ap);
    c->out_added += n > 0 ? (guint64)n : 0;
}

static void conn_use_bev(struct conn *c, struct bufferevent *bev)
{
    c->bev = bev;
    c->timeout_key = G_MAXUINT64; /* the timeouts are set anew */
    c->write_timeout = false;
    c->out_added = 0;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void enter_state(struct conn *c, enum conn_state st)
{
    if (c->st < ST_READY && st >= ST_READY)
        c->p->setting_up--;
    if (st == ST_QUIT && c->st != ST_QUIT)
        c->p->open--;
    c->st = st;
    conn_timeouts(c);
}

static void conn_start_tls(struct conn *c)
{
    char *err = NULL;
    SSL *ssl = deliver_tls_new(c->p->o->tls, c->p->o->host, &err);
    if (ssl == NULL) {
        conn_fail(c, err);
        g_free(err);
        return;
    }
    /* The filter keeps the timeouts; the socket under it has none. */
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    struct bufferevent *tls = bufferevent_openssl_filter_new(
        c->p->base, c->bev, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (tls == NULL) {
        /* libevent 2.1 frees the TLS object on this failure (with
         * BEV_OPT_CLOSE_ON_FREE), and maybe the socket's bufferevent:
         * freeing either again would be a double free; at worst (only
         * when out of memory) the socket leaks. */
        c->bev = NULL;
        conn_setup_failed(c, 0, "cannot set up TLS");
        return;
    }
    /* RFC 8446 §6.1 asks for close_notify, but many MTAs just close. */
    bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
    c->tls_on = true;
    conn_use_bev(c, tls);
    enter_state(c, ST_TLS);
}

static void conn_ehlo(struct conn *c)
{
    g_autofree char *cmd = g_strdup_printf("EHLO %s\r\n", c->p->o->helo);
    conn_send(c, cmd);
    c->ehlo_ext = 0;
    enter_state(c, ST_EHLO);
}

/* Frees a string that held a secret, clearing it first. */
static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        g_free(s);
    }
}

/* A base64 line of len bytes of s, with CRLF. */
static char *b64_line(const char *prefix, const void *s, size_t len)
{
    char *b64 = g_base64_encode(s, len);
    char *line = g_strdup_printf("%s%s\r\n", prefix, b64);
    free_secret(b64);
    return line;
}

static bool want_auth(const struct conn *c)
{
    const struct deliver_smtp_options *o = c->p->o;
    return o->user && *o->user && o->pass && *o->pass;
}

/* RFC 4954: AUTH PLAIN with the initial response, else AUTH LOGIN. */
static void conn_auth(struct conn *c)
{
    const char *user = c->p->o->user, *pass = c->p->o->pass;
    size_t ulen = strlen(user), plen = strlen(pass);
    if (c->ext & DELIVER_SMTP_EXT_AUTH_PLAIN) {
        /* RFC 4616 §2: authzid NUL authcid NUL passwd, with no authzid. */
        char *raw = g_malloc(ulen + plen + 2);
        raw[0] = '\0';
        memcpy(raw + 1, user, ulen + 1);
        memcpy(raw + ulen + 2, pass, plen);
        char *line = b64_line("AUTH PLAIN ", raw, ulen + plen + 2);
        explicit_bzero(raw, ulen + plen + 2);
        g_free(raw);
        conn_send(c, line);
        free_secret(line);
        c->auth_step = 2;
    } else if (c->ext & DELIVER_SMTP_EXT_AUTH_LOGIN) {
        conn_send(c, "AUTH LOGIN\r\n");
        c->auth_step = 0;
    } else {
        conn_setup_failed(c, 0,
                          "smtp_user is set but the server offers neither AUTH PLAIN nor AUTH "
                          "LOGIN");
        return;
    }
    enter_state(c, ST_AUTH);
}

/* The session is set up: transactions. */
static void conn_ready(struct conn *c)
{
    enter_state(c, ST_READY);
    conn_next(c);
}

/* EHLO or HELO succeeded. */
static void conn_greeted(struct conn *c)
{
    if (c->p->o->security == DELIVER_SMTP_STARTTLS && !c->tls_on) {
        if (!(c->ext & DELIVER_SMTP_EXT_STARTTLS)) {
            /* Going on in clear would defeat smtp_secure_mode. */
            conn_setup_failed(c, 0, "the server does not offer STARTTLS");
            return;
        }
        conn_send(c, "STARTTLS\r\n");
        enter_state(c, ST_STARTTLS);
    } else if (want_auth(c)) {
        conn_auth(c);
    } else {
        conn_ready(c);
    }
}

static void conn_auth_reply(struct conn *c, int code, const char *text)
{
    bool plain = c->ext & DELIVER_SMTP_EXT_AUTH_PLAIN;
    if (code != (c->auth_step == 2 ? 235 : 334)) {
        g_autofree char *what =
            g_strdup_printf("AUTH %s as %s", plain ? "PLAIN" : "LOGIN", c->p->o->user);
        g_autofree char *why = g_strdup_printf("%s: %s: %d %s", c->p->peer, what, code, text);
        conn_fail(c, why);
        return;
    }
    if (c->auth_step == 2) {
        conn_ready(c);
        return;
    }
    const char *s = c->auth_step == 0 ? c->p->o->user : c->p->o->pass;
    char *line = b64_line("", s, strlen(s));
    conn_send(c, line);
    free_secret(line);
    c->auth_step++;
}

/* Replies during set-up; after STARTTLS's 220 the handshake starts. */
static void conn_setup_reply(struct conn *c, int code, const char *text)
{
    switch (c->st) {
    case ST_GREETING:
        if (code != 220)
            conn_setup_failed(c, code, text);
        else
            conn_ehlo(c);
        return;
    case ST_EHLO:
        if (code == 250) {
            c->ext = c->ehlo_ext;
            conn_greeted(c);
        } else {
            /* As smtplib: a server that refuses EHLO gets HELO. */
            g_autofree char *cmd = g_strdup_printf("HELO %s\r\n", c->p->o->helo);
            conn_send(c, cmd);
            enter_state(c, ST_HELO);
        }
        return;
    case ST_HELO:
        c->ext = 0;
        if (code != 250)
            conn_setup_failed(c, code, text);
        else
            conn_greeted(c);
        return;
    case ST_STARTTLS:
        if (code != 220) {
            conn_setup_failed(c, code, text);
        } else if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
            /* Bytes that came in clear after the 220 would otherwise be
             * read as if they had come through TLS: a man in the middle
             * could inject replies that way. */
            conn_setup_failed(c, 0, "the server sent data after its STARTTLS reply");
        } else {
            /* RFC 3207 §4.2: nothing learnt before the handshake counts. */
            c->ext = 0;
            conn_start_tls(c);
        }
        return;
    case ST_AUTH:
        conn_auth_reply(c, code, text);
        return;
    default:
        conn_setup_failed(c, code, text);
        return;
    }
}

/* ---- transactions ------------------------------------------------------- */

static void expect(struct conn *c, enum expect_kind kind, struct deliver_smtp_txn *t)
{
    struct expect *x = g_new(struct expect, 1);
    x->kind = kind;
    x->txn = t;
    x->end = c->out_added;
    g_queue_push_tail(&c->expect, x);
}

static void send_rcpt(struct conn *c, const struct deliver_smtp_txn *t, size_t i)
{
    conn_printf(c, "RCPT TO:<%s>\r\n", t->rcpts[i]);
}

static void send_data_cmd(struct conn *c, struct deliver_smtp_txn *t)
{
    conn_send(c, "DATA\r\n");
    expect(c, EXP_DATA, t);
    c->awaiting_354 = true;
}

/* The next transaction, when this connection may start one: with
 * PIPELINING its whole command group goes out at once, behind whatever
 * was sent before as long as that was not a DATA awaiting its 354. After
 * max_sessions_per_connection transactions: QUIT once all are answered. */
static void conn_next(struct conn *c)
{
    struct deliver_smtp_pool *p = c->p;
    bool pipelining = c->ext & DELIVER_SMTP_EXT_PIPELINING;
    if (c->st != ST_READY || c->awaiting_354 || (!pipelining && c->expect.length > 0))
        return;
    if (p->per_conn > 0 && c->uses >= p->per_conn) {
        if (c->expect.length == 0) {
            conn_send(c, "QUIT\r\n");
            enter_state(c, ST_QUIT);
        }
        return;
    }
    struct deliver_smtp_txn *t = pool_take(p);
    if (t == NULL) {
        conn_timeouts(c);
        return;
    }
    t->tries++;
    c->uses++;
    conn_printf(c, "MAIL FROM:<%s>\r\n", t->sender);
    expect(c, EXP_MAIL, t);
    if (pipelining) {
        for (size_t i = 0; i < t->n; i++)
            send_rcpt(c, t, i);
        if (t->n > 0)
            expect(c, EXP_RCPTS, t);
        send_data_cmd(c, t);
    }
    conn_timeouts(c);
    pool_refill(p);
}

static void conn_rset(struct conn *c)
{
    conn_send(c, "RSET\r\n");
    expect(c, EXP_RSET, NULL);
    conn_next(c);
}

static void txn_done(struct conn *c, struct deliver_smtp_txn *t)
{
    pool_done(c->p, t, NULL);
}

/* Why a reply to the command at the head of the queue cannot be taken,
 * or NULL. */
static const char *txn_reply_invalid(const struct conn *c, const struct expect *x, int code)
{
    if (x == NULL)
        /* Nothing asked: an idle connection the server closes ("421
         * timeout"), or a confused server. Either way it is not used. */
        return "a reply to no command";
    /* A reply to bytes not sent yet is a server that answers blindly;
     * for the final "." it would also give the message back to the
     * caller (done()) while it is still queued for the socket. (RCPTs
     * share one entry; a reply to the first may come while the last are
     * still being written.) */
    if (x->kind != EXP_RCPTS && conn_drained(c) < x->end)
        return "a reply before the command was sent";
    /* RFC 5321 §3.8: 421 is the server closing the connection: whatever
     * it answered, another connection may do better (a transaction whose
     * message went out gets 444, a temporary failure, like 421). */
    if (code == 421)
        return "the server closes the connection";
    /* Only DATA goes on with 354 (RFC 5321 §4.3.2); a 2yz there would
     * pass for a delivery of a message that was never sent. */
    int cls = code / 100;
    if (cls != 4 && cls != 5 && !(x->kind == EXP_DATA ? code == 354 : cls == 2))
        return "a reply that does not fit the command";
    return NULL;
}

/* One reply in the transaction phase, for the command at the head. */
static void conn_txn_reply(struct conn *c, int code, const char *text)
{
    struct expect *x = g_queue_peek_head(&c->expect);
    const char *invalid = txn_reply_invalid(c, x, code);
    if (invalid) {
        g_autofree char *why = g_strdup_printf("%s: %s: %d %s", c->p->peer, invalid, code, text);
        conn_fail(c, why);
        return;
    }
    struct deliver_smtp_txn *t = x->txn;
    bool pipelining = c->ext & DELIVER_SMTP_EXT_PIPELINING;
    bool ok = code / 100 == 2;
    enum expect_kind kind = x->kind;
    if (kind != EXP_RCPTS || t->answered + 1 >= t->n)
        g_free(g_queue_pop_head(&c->expect));
    switch (kind) {
    case EXP_MAIL:
        t->mail_ok = ok;
        if (!ok)
            fail_rest(t, code, text);
        if (pipelining)
            break;
        if (!ok || t->n == 0) {
            txn_done(c, t);
            conn_rset(c);
        } else {
            send_rcpt(c, t, 0);
            expect(c, EXP_RCPTS, t);
        }
        break;
    case EXP_RCPTS: {
        size_t i = t->answered++;
        if (t->mail_ok && ok) {
            t->accepted++;
        } else if (t->mail_ok) {
            t->results[i].code = code;
            g_strlcpy(t->results[i].text, text, sizeof t->results[i].text);
        }
        if (pipelining)
            break;
        if (t->answered < t->n) {
            send_rcpt(c, t, t->answered);
        } else if (t->accepted == 0) {
            txn_done(c, t);
            conn_rset(c);
        } else {
            send_data_cmd(c, t);
        }
        break;
    }
    case EXP_DATA:
        c->awaiting_354 = false;
        if (!t->mail_ok || t->accepted == 0) {
            /* RFC 2920 §3.1: with no recipient the server must refuse DATA.
             * One that says 354 anyway would take an empty message: drop
             * the connection instead of sending one. */
            txn_done(c, t);
            if (code == 354)
                conn_fail(c, NULL);
            else
                conn_rset(c);
        } else if (code != 354) {
            fail_rest(t, code, text);
            txn_done(c, t);
            conn_rset(c);
        } else {
            /* By reference: the block stays the caller's until done(),
             * which comes only once all of it left the buffer (below). */
            evbuffer_add_reference(bufferevent_get_output(c->bev), t->data, t->data_len, NULL,
                                   NULL);
            c->out_added += t->data_len;
            t->data_sent = true;
            expect(c, EXP_DOT, t);
            conn_next(c); /* RFC 2920: the next group rides with the message */
        }
        break;
    case EXP_DOT:
        /* The final reply applies to every accepted recipient. */
        fail_rest(t, code, text);
        txn_done(c, t);
        conn_next(c);
        break;
    case EXP_RSET:
        conn_next(c);
        break;
    }
}

/* ---- libevent callbacks ------------------------------------------------- */

/* A complete reply: its code and its lines' text joined with spaces. */
static void conn_reply(struct conn *c, int code, const char *text)
{
    if (c->st == ST_QUIT)
        conn_free(c);
    else if (c->st == ST_READY)
        conn_txn_reply(c, code, text);
    else
        conn_setup_reply(c, code, text);
}

/* A server that breaks the protocol: the connection is not used. */
static void conn_violation(struct conn *c, const char *what)
{
    g_autofree char *why = g_strdup_printf("%s: %s", c->p->peer, what);
    conn_fail(c, why);
}

/* One line of a reply (RFC 5321 §4.2): three digits, the first 2 to 5,
 * the same on every line, then "-" (more lines follow), " " or nothing
 * (the last). Calls conn_reply at the last line. */
static void conn_line(struct conn *c, const char *line, size_t len)
{
    if (len < 3 || line[0] < '2' || line[0] > '5' || !g_ascii_isdigit(line[1]) ||
        !g_ascii_isdigit(line[2]) || (len > 3 && line[3] != ' ' && line[3] != '-')) {
        conn_violation(c, "a reply line that is not SMTP");
        return;
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (c->reply_lines > 0 && code != c->reply_code) {
        conn_violation(c, "a multi-line reply whose lines have different codes");
        return;
    }
    c->reply_len += len + 2;
    if (c->reply_len > REPLY_BOUND) {
        conn_violation(c, "a reply longer than 1 MiB");
        return;
    }
    const char *rest = len > 3 ? line + 4 : "";
    if (c->st == ST_EHLO && c->reply_lines > 0) {
        char *kw = (char *)rest;
        c->ehlo_ext |= deliver_smtp_ehlo_ext(&kw, 1);
    }
    c->reply_code = code;
    c->reply_lines++;
    size_t room = DELIVER_SMTP_REPLY_MAX - MIN(c->text->len, DELIVER_SMTP_REPLY_MAX);
    if (room > 1) {
        if (c->text->len)
            g_string_append_c(c->text, ' ');
        g_string_append_len(c->text, rest, (gssize)MIN(strlen(rest), room - 1));
    }
    if (len == 3 || line[3] == ' ') {
        c->replies++;
        g_autofree char *text = g_strdup(c->text->str);
        g_string_truncate(c->text, 0);
        c->reply_len = 0;
        c->reply_lines = 0;
        conn_reply(c, code, text);
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    /* A handler may free c (then only marked dead until we return), or
     * (STARTTLS) replace its bufferevent: stop reading this one then. */
    c->in_read = true;
    while (c->bev == bev) {
        size_t len;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
        if (line == NULL) {
            if (evbuffer_get_length(in) > LINE_BOUND)
                conn_violation(c, "a reply line longer than 64 KiB");
            break;
        }
        conn_line(c, line, len);
        g_free(line);
    }
    /* The wait for what is expected now (RFC 5321 §4.5.3.2). */
    if (!c->dead && c->bev == bev)
        conn_timeouts(c);
    c->in_read = false;
    if (c->dead)
        g_free(c);
}

/* The output buffer is empty: a message may have gone out. */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->bev == bev && c->st >= ST_READY)
        conn_timeouts(c);
}

static void conn_try_connect(struct conn *c);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    int sock_err = EVUTIL_SOCKET_ERROR();
    if (what & BEV_EVENT_CONNECTED) {
        if (c->st == ST_CONNECTING) {
            /* A pipelined group is sent as soon as it is complete: Nagle's
             * algorithm would hold its last segment until the MTA's
             * delayed ACK, 40 ms a transaction. */
            int one = 1;
            setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (c->p->o->security == DELIVER_SMTP_SMTPS)
                conn_start_tls(c);
            else
                enter_state(c, ST_GREETING);
        } else if (c->st == ST_TLS) {
            if (c->p->o->security == DELIVER_SMTP_SMTPS)
                enter_state(c, ST_GREETING);
            else
                conn_ehlo(c);
        }
        return;
    }
    switch (c->st) {
    case ST_CONNECTING:
        if (c->ai && c->ai->ai_next) {
            c->ai = c->ai->ai_next;
            bufferevent_free(c->bev);
            c->bev = NULL;
            conn_try_connect(c);
        } else {
            g_autofree char *why = g_strdup_printf("cannot connect to %s: %s", c->p->peer,
                                                   (what & BEV_EVENT_TIMEOUT) ? "timed out"
                                                   : sock_err                 ? g_strerror(sock_err)
                                                              : "connection closed");
            conn_fail(c, why);
        }
        return;
    case ST_TLS: {
        unsigned long err = 0, e;
        while ((e = bufferevent_get_openssl_error(bev)) != 0)
            err = err ? err : e;
        g_autofree char *reason = (what & BEV_EVENT_TIMEOUT)
                                      ? g_strdup("timed out")
                                      : deliver_tls_reason(bufferevent_openssl_get_ssl(bev), err,
                                                           (what & BEV_EVENT_ERROR) ? sock_err : 0);
        g_autofree char *why = g_strdup_printf("TLS handshake failed: %s", reason);
        conn_setup_failed(c, 0, why);
        return;
    }
    case ST_QUIT:
        conn_free(c);
        return;
    case ST_READY:
        conn_fail(c, NULL);
        return;
    default:
        conn_setup_failed(c, 444, "connection failure");
        return;
    }
}

static void conn_try_connect(struct conn *c)
{
    c->bev = bufferevent_socket_new(c->p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    /* libevent writes 16 KiB a turn by default: a 500-recipient group and
     * a message take several turns. */
    bufferevent_set_max_single_write(c->bev, WRITE_MAX);
    conn_use_bev(c, c->bev);
    /* libevent times a connect out with the write timeout. */
    struct timeval tv = ms_tv(cap(c, WAIT_DEFAULT));
    bufferevent_set_timeouts(c->bev, NULL, &tv);
    c->write_timeout = true;
    c->timeout = cap(c, WAIT_DEFAULT);
    c->timeout_key = (guint64)c->st << 32 | c->replies;
    evtimer_add(c->deadline, &tv);
    if (bufferevent_socket_connect(c->bev, c->ai->ai_addr, (int)c->ai->ai_addrlen) < 0) {
        /* No socket at all: reported from the loop, like a refusal. */
        c->connect_err = errno ? errno : ECONNREFUSED;
        struct timeval now = {0, 0};
        evtimer_add(c->later, &now);
    }
}

/* Resolves and connects. */
static void conn_start(struct conn *c)
{
    struct deliver_smtp_pool *p = c->p;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    char port[16];
    snprintf(port, sizeof port, "%u", p->o->port);
    int gai = getaddrinfo(p->o->host, port, &hints, &c->addrs);
    if (gai != 0) {
        c->addrs = NULL;
        g_autofree char *why =
            g_strdup_printf("cannot resolve %s: %s", p->o->host, gai_strerror(gai));
        conn_fail(c, why);
        return;
    }
    c->ai = c->addrs;
    conn_try_connect(c);
}

/* From the loop, so that a failure never re-enters the caller: the start,
 * or a connect that failed at once. */
static void conn_later(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (c->ai == NULL) {
        conn_start(c);
    } else {
        EVUTIL_SET_SOCKET_ERROR(c->connect_err);
        on_event(c->bev, BEV_EVENT_ERROR, c);
    }
}

/* The awaited reply did not come in time. */
static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    on_event(c->bev, BEV_EVENT_TIMEOUT | BEV_EVENT_READING, c);
}

static void conn_open(struct deliver_smtp_pool *p)
{
    struct conn *c = g_new0(struct conn, 1);
    c->p = p;
    c->st = ST_CONNECTING;
    c->text = g_string_new(NULL);
    g_queue_init(&c->expect);
    g_ptr_array_add(p->conns, c);
    p->open++;
    p->setting_up++;
    c->later = evtimer_new(p->base, conn_later, c);
    c->deadline = evtimer_new(p->base, conn_deadline, c);
    struct timeval now = {0, 0};
    evtimer_add(c->later, &now);
}

/* ---- the pool ----------------------------------------------------------- */

struct deliver_smtp_pool *deliver_smtp_pool_new(const struct deliver_smtp_options *o,
                                                unsigned conns, unsigned per_conn)
{
    struct deliver_smtp_pool *p = g_new0(struct deliver_smtp_pool, 1);
    p->o = o;
    p->peer = g_strdup_printf("%s:%u", o->host, o->port);
    p->base = event_base_new();
    p->max_conns = conns > 0 ? conns : 1;
    p->run_max = p->max_conns;
    p->per_conn = per_conn;
    p->conns = g_ptr_array_new();
    g_queue_init(&p->pending);
    return p;
}

void deliver_smtp_pool_run(struct deliver_smtp_pool *p, const struct deliver_smtp_source *src)
{
    p->src = src;
    p->exhausted = false;
    p->run_max = p->max_conns;
    pool_kick(p);
    while (!p->exhausted || p->outstanding > 0) {
        if (event_base_loop(p->base, EVLOOP_ONCE) != 0) {
            /* Nothing to wait for: cannot happen while work is out; do
             * not hang if it does. */
            g_warning("deliver_smtp: no connection for %u transactions", p->outstanding);
            /* Whatever is still on a connection goes back to pending
             * (or is done), and then everything pending is failed: no
             * transaction is left without its done(). */
            for (guint i = p->conns->len; i-- > 0;) {
                struct conn *c = p->conns->pdata[i];
                if (c->st != ST_QUIT)
                    conn_fail(c, NULL);
            }
            struct deliver_smtp_txn *t;
            while ((t = g_queue_pop_head(&p->pending))) {
                fail_rest(t, 444, "connection failure");
                pool_done(p, t, NULL);
            }
            break;
        }
        pool_kick(p);
    }
    p->src = NULL;
}

static void pool_quit_timeout(evutil_socket_t fd, short what, void *arg)
{
    *(bool *)arg = true;
}

void deliver_smtp_pool_free(struct deliver_smtp_pool *p)
{
    if (p == NULL)
        return;
    for (guint i = p->conns->len; i-- > 0;) {
        struct conn *c = p->conns->pdata[i];
        if (c->st == ST_READY && c->expect.length == 0) {
            conn_send(c, "QUIT\r\n");
            enter_state(c, ST_QUIT);
        } else if (c->st != ST_QUIT) {
            conn_free(c);
        }
    }
    bool late = false;
    struct timeval sec = {1, 0};
    event_base_once(p->base, -1, EV_TIMEOUT, pool_quit_timeout, &late, &sec);
    while (p->conns->len > 0 && !late)
        if (event_base_loop(p->base, EVLOOP_ONCE) != 0)
            break;
    while (p->conns->len > 0)
        conn_free(p->conns->pdata[0]);
    g_ptr_array_unref(p->conns);
    event_base_free(p->base);
    g_free(p->peer);
    g_free(p);
}
