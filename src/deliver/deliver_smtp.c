/* deliver_smtp - see deliver_smtp.h. */
#include "deliver/deliver_smtp.h"

#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct deliver_smtp {
    int fd;
    unsigned timeout_ms;
    bool pipelining;
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

static int send_all(struct deliver_smtp *c, const char *p, size_t len)
{
    while (len > 0) {
        if (wait_fd(c, POLLOUT) < 0)
            return -1;
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One reply (multi-line joined with spaces); -1 on EOF, timeout or a reply
 * line longer than the RFC allows many times over. */
static int read_reply(struct deliver_smtp *c, struct deliver_result *r)
{
    GString *text = g_string_new(NULL);
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl == NULL) {
            if (c->in->len > 65536 || wait_fd(c, POLLIN) < 0)
                goto fail;
            char buf[8192];
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
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
        if (text->len)
            g_string_append_c(text, ' ');
        g_string_append(text, line[3] ? line + 4 : "");
        if (line[3] != '-') {
            r->code = (int)g_ascii_strtoll(line, NULL, 10);
            g_strlcpy(r->text, text->str, sizeof r->text);
            g_string_free(text, TRUE);
            return 0;
        }
    }
fail:
    g_string_free(text, TRUE);
    r->code = 444;
    g_strlcpy(r->text, "connection failure", sizeof r->text);
    return -1;
}

struct deliver_smtp *deliver_smtp_connect(const char *host, unsigned port, const char *helo,
                                          unsigned timeout_s, char **error_r)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        *error_r = g_strdup_printf("cannot resolve %s: %s", host, gai_strerror(gai));
        return NULL;
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
        return NULL;
    }
    struct deliver_smtp *c = g_new0(struct deliver_smtp, 1);
    c->fd = fd;
    c->timeout_ms = timeout_s * 1000;
    c->in = g_string_new(NULL);
    struct deliver_result r;
    g_autofree char *ehlo = g_strdup_printf("EHLO %s\r\n", helo);
    if (read_reply(c, &r) < 0 || r.code != 220 || send_all(c, ehlo, strlen(ehlo)) < 0 ||
        read_reply(c, &r) < 0 || r.code != 250) {
        *error_r = g_strdup_printf("%s:%u: %d %s", host, port, r.code, r.text);
        deliver_smtp_close(c);
        return NULL;
    }
    /* The joined EHLO text lists the extensions. */
    c->pipelining = strstr(r.text, "PIPELINING") != NULL;
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
    if (c->pipelining) {
        for (size_t i = 0; i < n; i++)
            g_string_append_printf(cmds, "RCPT TO:<%s>\r\n", rcpts[i]);
        g_string_append(cmds, "DATA\r\n");
        if (send_all(c, cmds->str, cmds->len) < 0 || read_reply(c, &r) < 0)
            goto out;
        struct deliver_result mail = r;
        for (size_t i = 0; i < n; i++) {
            if (read_reply(c, &r) < 0)
                goto out;
            if (mail.code / 100 != 2)
                results[i] = mail;
            else if (r.code / 100 != 2)
                results[i] = r;
            else
                accepted++;
        }
        if (read_reply(c, &r) < 0)
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
        if (send_all(c, cmds->str, cmds->len) < 0 || read_reply(c, &r) < 0)
            goto out;
        if (r.code / 100 != 2) {
            fail_rest(results, n, &r);
            rc = 0;
            goto reset;
        }
        for (size_t i = 0; i < n; i++) {
            g_autofree char *rcpt = g_strdup_printf("RCPT TO:<%s>\r\n", rcpts[i]);
            if (send_all(c, rcpt, strlen(rcpt)) < 0 || read_reply(c, &r) < 0)
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
        if (send_all(c, "DATA\r\n", 6) < 0 || read_reply(c, &r) < 0)
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
    if (sent < 0 || read_reply(c, &r) < 0)
        goto out;
    /* The final reply applies to every accepted recipient. */
    fail_rest(results, n, &r);
    rc = 0;
    goto done;
reset:
    if (send_all(c, "RSET\r\n", 6) < 0 || read_reply(c, &r) < 0)
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
    if (send_all(c, "QUIT\r\n", 6) == 0)
        read_reply(c, &r);
    close(c->fd);
    g_string_free(c->in, TRUE);
    g_free(c);
}
