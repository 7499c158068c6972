/* deliver_smtp - see deliver_smtp.h. */
#include "deliver/deliver_smtp.h"

#include "deliver/deliver_tls.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <limits.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Extensions from the last EHLO reply that this client uses. */
enum {
    EXT_PIPELINING = 1 << 0,
    EXT_STARTTLS = 1 << 1,
    EXT_AUTH_PLAIN = 1 << 2,
    EXT_AUTH_LOGIN = 1 << 3,
};

/* RFC 5321 §4.1.1.1: each EHLO line after the first is a keyword and its
 * parameters; param NULL means the keyword alone is enough. */
static const struct {
    const char *keyword, *param;
    unsigned flag;
} ehlo_keywords[] = {
    {"PIPELINING", NULL, EXT_PIPELINING},
    {"STARTTLS", NULL, EXT_STARTTLS},
    {"AUTH", "PLAIN", EXT_AUTH_PLAIN},
    {"AUTH", "LOGIN", EXT_AUTH_LOGIN},
};

/* How much of a reply is read before giving up on the server. */
#define DELIVER_SMTP_REPLY_BOUND 65536

struct deliver_smtp {
    int fd;
    unsigned timeout_ms;
    SSL *ssl;    /* NULL while in clear */
    bool broken; /* an I/O failed: no QUIT */
    unsigned ext;
    char *peer;  /* "host:port", for messages */
    GString *in; /* bytes read, not yet consumed */
};

static int wait_fd(struct deliver_smtp *c, short events)
{
    struct pollfd p = {c->fd, events, 0};
    int rc;
    do
        rc = poll(&p, 1, (int)c->timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc == 1 ? 0 : -1;
}

/* One send (out) or recv on the non-blocking socket, through TLS when it
 * is on, waiting up to the timeout each time the socket is not ready.
 * Bytes moved, or -1 on failure, end of stream or timeout. */
static ssize_t transfer(struct deliver_smtp *c, bool out, void *buf, size_t len)
{
    for (;;) {
        short want;
        if (c->ssl) {
            ERR_clear_error();
            int cap = len > INT_MAX ? INT_MAX : (int)len;
            int n = out ? SSL_write(c->ssl, buf, cap) : SSL_read(c->ssl, buf, cap);
            if (n > 0)
                return n;
            want = deliver_tls_want(c->ssl, n);
        } else {
            ssize_t n = out ? send(c->fd, buf, len, MSG_NOSIGNAL) : recv(c->fd, buf, len, 0);
            if (n > 0)
                return n;
            bool again = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
            want = again ? (out ? POLLOUT : POLLIN) : 0;
        }
        if (want == 0 || wait_fd(c, want) < 0) {
            c->broken = true;
            return -1;
        }
    }
}

static int send_all(struct deliver_smtp *c, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = transfer(c, true, (void *)p, len);
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One reply (multi-line joined with spaces; each line's text also added to
 * lines unless NULL); -1 on EOF, timeout, or a reply line or a whole reply
 * longer than the RFC allows many times over (RFC 5321 §4.5.3.1.5: 512
 * octets a line). */
static int read_reply(struct deliver_smtp *c, struct deliver_result *r, GPtrArray *lines)
{
    GString *text = g_string_new(NULL);
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl == NULL) {
            char buf[8192];
            if (c->in->len > DELIVER_SMTP_REPLY_BOUND)
                goto fail;
            ssize_t n = transfer(c, false, buf, sizeof buf);
            if (n < 0)
                goto fail;
            g_string_append_len(c->in, buf, n);
            continue;
        }
        size_t len = (size_t)(nl - c->in->str);
        g_autofree char *line = g_strndup(c->in->str, len);
        g_string_erase(c->in, 0, (gssize)len + 1);
        g_strchomp(line);
        if (strlen(line) < 3 || !g_ascii_isdigit(line[0]))
            goto fail;
        const char *rest = line[3] ? line + 4 : "";
        if (text->len > DELIVER_SMTP_REPLY_BOUND)
            goto fail;
        if (text->len)
            g_string_append_c(text, ' ');
        g_string_append(text, rest);
        if (lines)
            g_ptr_array_add(lines, g_strdup(rest));
        if (line[3] != '-') {
            r->code = (int)g_ascii_strtoll(line, NULL, 10);
            g_strlcpy(r->text, text->str, sizeof r->text);
            g_string_free(text, TRUE);
            return 0;
        }
    }
fail:
    c->broken = true;
    g_string_free(text, TRUE);
    r->code = 444;
    g_strlcpy(r->text, "connection failure", sizeof r->text);
    return -1;
}

/* Sends line (a whole command with CRLF, or NULL to only read) and reads
 * the reply; unless its code is want, *error_r says "<peer>: <what>:
 * <code> <text>". what names the step and never carries a secret. */
static int step(struct deliver_smtp *c, const char *line, int want, const char *what,
                GPtrArray *lines, char **error_r)
{
    struct deliver_result r = {444, "connection failure"};
    if ((line == NULL || send_all(c, line, strlen(line)) == 0) && read_reply(c, &r, lines) == 0 &&
        r.code == want)
        return 0;
    *error_r = g_strdup_printf("%s: %s: %d %s", c->peer, what, r.code, r.text);
    return -1;
}

/* EHLO, and the extensions it lists (RFC 3207 §4.2: after STARTTLS,
 * nothing learnt before the handshake counts). */
static int ehlo(struct deliver_smtp *c, const char *helo, char **error_r)
{
    g_autofree char *cmd = g_strdup_printf("EHLO %s\r\n", helo);
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    int rc = step(c, cmd, 250, "EHLO", lines, error_r);
    c->ext = 0;
    for (guint i = 1; rc == 0 && i < lines->len; i++) {
        g_auto(GStrv) words = g_strsplit_set(lines->pdata[i], " ", -1);
        for (size_t k = 0; words[0] && k < G_N_ELEMENTS(ehlo_keywords); k++) {
            if (g_ascii_strcasecmp(words[0], ehlo_keywords[k].keyword) != 0)
                continue;
            bool has = ehlo_keywords[k].param == NULL;
            for (char **w = words + 1; *w && !has; w++)
                has = g_ascii_strcasecmp(*w, ehlo_keywords[k].param) == 0;
            if (has)
                c->ext |= ehlo_keywords[k].flag;
        }
    }
    g_ptr_array_unref(lines);
    return rc;
}

static int tls_handshake(struct deliver_smtp *c, const struct deliver_smtp_options *o,
                         char **error_r)
{
    c->ssl = deliver_tls_new(o->tls, c->fd, o->host, error_r);
    if (c->ssl == NULL)
        return -1;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int rc = SSL_connect(c->ssl);
        if (rc == 1)
            return 0;
        short want = deliver_tls_want(c->ssl, rc);
        if (want == 0 || wait_fd(c, want) < 0) {
            g_autofree char *why = want ? g_strdup("timed out") : deliver_tls_reason(c->ssl);
            *error_r = g_strdup_printf("%s: TLS handshake failed: %s", c->peer, why);
            deliver_tls_free(c->ssl);
            c->ssl = NULL;
            c->broken = true;
            return -1;
        }
    }
}

static int starttls(struct deliver_smtp *c, const struct deliver_smtp_options *o, char **error_r)
{
    if (!(c->ext & EXT_STARTTLS)) {
        /* Going on in clear would defeat smtp_secure_mode. */
        *error_r = g_strdup_printf("%s: the server does not offer STARTTLS", c->peer);
        return -1;
    }
    if (step(c, "STARTTLS\r\n", 220, "STARTTLS", NULL, error_r) < 0)
        return -1;
    if (c->in->len) {
        /* Bytes that came in clear after the 220 would otherwise be read
         * as if they had come through TLS: a man in the middle could
         * inject replies that way. */
        *error_r = g_strdup_printf("%s: the server sent data after its STARTTLS reply", c->peer);
        return -1;
    }
    return tls_handshake(c, o, error_r) < 0 ? -1 : ehlo(c, o->helo, error_r);
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

/* RFC 4954: AUTH PLAIN with the initial response, else AUTH LOGIN. */
static int authenticate(struct deliver_smtp *c, const char *user, const char *pass, char **error_r)
{
    size_t ulen = strlen(user), plen = strlen(pass);
    int rc;
    if (c->ext & EXT_AUTH_PLAIN) {
        /* RFC 4616 §2: authzid NUL authcid NUL passwd, with no authzid. */
        char *raw = g_malloc(ulen + plen + 2);
        raw[0] = '\0';
        memcpy(raw + 1, user, ulen + 1);
        memcpy(raw + ulen + 2, pass, plen);
        char *line = b64_line("AUTH PLAIN ", raw, ulen + plen + 2);
        explicit_bzero(raw, ulen + plen + 2);
        g_free(raw);
        g_autofree char *what = g_strdup_printf("AUTH PLAIN as %s", user);
        rc = step(c, line, 235, what, NULL, error_r);
        free_secret(line);
    } else if (c->ext & EXT_AUTH_LOGIN) {
        g_autofree char *what = g_strdup_printf("AUTH LOGIN as %s", user);
        g_autofree char *uline = b64_line("", user, ulen);
        char *pline = b64_line("", pass, plen);
        rc = step(c, "AUTH LOGIN\r\n", 334, what, NULL, error_r) < 0 ||
                     step(c, uline, 334, what, NULL, error_r) < 0 ||
                     step(c, pline, 235, what, NULL, error_r) < 0
                 ? -1
                 : 0;
        free_secret(pline);
    } else {
        *error_r = g_strdup_printf("%s: smtp_user is set but the server offers neither AUTH "
                                   "PLAIN nor AUTH LOGIN",
                                   c->peer);
        rc = -1;
    }
    return rc;
}

static int dial(const char *host, unsigned port, char **error_r)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        *error_r = g_strdup_printf("cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        *error_r = g_strdup_printf("cannot connect to %s:%u: %s", host, port, g_strerror(errno));
        return -1;
    }
    /* Every read and write waits in poll(), with the timeout. */
    if (!g_unix_set_fd_nonblocking(fd, TRUE, NULL)) {
        *error_r = g_strdup_printf("%s:%u: %s", host, port, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

struct deliver_smtp *deliver_smtp_connect(const struct deliver_smtp_options *o, char **error_r)
{
    int fd = dial(o->host, o->port, error_r);
    if (fd < 0)
        return NULL;
    struct deliver_smtp *c = g_new0(struct deliver_smtp, 1);
    c->fd = fd;
    c->timeout_ms = o->timeout_s * 1000;
    c->peer = g_strdup_printf("%s:%u", o->host, o->port);
    c->in = g_string_new(NULL);
    if ((o->security == DELIVER_SMTP_SMTPS && tls_handshake(c, o, error_r) < 0) ||
        step(c, NULL, 220, "greeting", NULL, error_r) < 0 || ehlo(c, o->helo, error_r) < 0 ||
        (o->security == DELIVER_SMTP_STARTTLS && starttls(c, o, error_r) < 0) ||
        (o->user && *o->user && o->pass && *o->pass &&
         authenticate(c, o->user, o->pass, error_r) < 0)) {
        deliver_smtp_close(c);
        return NULL;
    }
    return c;
}

/* The message with CRLF line ends, dot-stuffed, ended by ".\r\n". */
static GString *data_block(const char *msg, size_t len)
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

static void fail_rest(struct deliver_result *results, size_t n, const struct deliver_result *why)
{
    for (size_t i = 0; i < n; i++)
        if (results[i].code == 0)
            results[i] = *why;
}

int deliver_smtp_send(struct deliver_smtp *c, const char *sender, char *const *rcpts, size_t n,
                      const char *msg, size_t len, struct deliver_result *results)
{
    memset(results, 0, n * sizeof *results);
    struct deliver_result r = {444, "connection failure"};
    GString *cmds = g_string_new(NULL);
    g_string_append_printf(cmds, "MAIL FROM:<%s>\r\n", sender);
    size_t accepted = 0;
    int rc = -1;
    if (c->ext & EXT_PIPELINING) {
        for (size_t i = 0; i < n; i++)
            g_string_append_printf(cmds, "RCPT TO:<%s>\r\n", rcpts[i]);
        g_string_append(cmds, "DATA\r\n");
        if (send_all(c, cmds->str, cmds->len) < 0 || read_reply(c, &r, NULL) < 0)
            goto out;
        struct deliver_result mail = r;
        for (size_t i = 0; i < n; i++) {
            if (read_reply(c, &r, NULL) < 0)
                goto out;
            if (mail.code / 100 != 2)
                results[i] = mail;
            else if (r.code / 100 != 2)
                results[i] = r;
            else
                accepted++;
        }
        if (read_reply(c, &r, NULL) < 0)
            goto out; /* DATA's reply */
        if (mail.code / 100 != 2 || accepted == 0) {
            /* RFC 2920 §3.1: with no recipient the server must refuse DATA.
             * One that says 354 anyway would take an empty message: drop
             * the connection instead of sending one. */
            if (r.code == 354) {
                rc = -1;
                goto done;
            }
            rc = 0;
            goto reset;
        }
    } else {
        if (send_all(c, cmds->str, cmds->len) < 0 || read_reply(c, &r, NULL) < 0)
            goto out;
        if (r.code / 100 != 2) {
            fail_rest(results, n, &r);
            rc = 0;
            goto reset;
        }
        for (size_t i = 0; i < n; i++) {
            g_autofree char *rcpt = g_strdup_printf("RCPT TO:<%s>\r\n", rcpts[i]);
            if (send_all(c, rcpt, strlen(rcpt)) < 0 || read_reply(c, &r, NULL) < 0)
                goto out;
            if (r.code / 100 != 2)
                results[i] = r;
            else
                accepted++;
        }
        if (accepted == 0) {
            rc = 0;
            goto reset;
        }
        if (send_all(c, "DATA\r\n", 6) < 0 || read_reply(c, &r, NULL) < 0)
            goto out;
    }
    if (r.code != 354) {
        fail_rest(results, n, &r);
        rc = 0;
        goto reset;
    }
    GString *data = data_block(msg, len);
    int sent = send_all(c, data->str, data->len);
    g_string_free(data, TRUE);
    if (sent < 0 || read_reply(c, &r, NULL) < 0)
        goto out;
    /* The final reply applies to every accepted recipient. */
    fail_rest(results, n, &r);
    rc = 0;
    goto done;
reset:
    if (send_all(c, "RSET\r\n", 6) < 0 || read_reply(c, &r, NULL) < 0)
        rc = -1;
    goto done;
out:
    r.code = 444;
    g_strlcpy(r.text, "connection failure", sizeof r.text);
    fail_rest(results, n, &r);
done:
    g_string_free(cmds, TRUE);
    return rc;
}

void deliver_smtp_close(struct deliver_smtp *c)
{
    if (c == NULL)
        return;
    struct deliver_result r;
    if (!c->broken && send_all(c, "QUIT\r\n", 6) == 0)
        read_reply(c, &r, NULL);
    deliver_tls_free(c->ssl);
    close(c->fd);
    g_free(c->peer);
    g_string_free(c->in, TRUE);
    g_free(c);
}
