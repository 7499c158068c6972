/*
 * Dialogue tests for the LMTP server: every .script file in tests/unit/data/lmtp
 * is one test. The server runs in-process on 127.0.0.1 (free port) in its
 * own thread and event loop; the script drives a client socket from the
 * test thread. A fake rcpt callback accepts *@example.com except nosuch@
 * (and stops the loop after its pass for break@);
 * a fake deliver callback records the message and completes after a timer
 * (deliver_delay_ms, 0: at once inside the callback), answering 451 for
 * defer@, 554 for reject@ and 250 otherwise.
 *
 * Script lines (escapes \r \n \t \0 \\ \xHH in C and M texts):
 *   # comment
 *   ! key value        server setting (see settings[]), read before start
 *   C: text            send text + CRLF (consecutive C lines go in one write)
 *   C- text            send text as is
 *   C* N text          send text + CRLF N times, {i} replaced by 1..N
 *   C+ N text          the same without CRLF
 *   S: expect          read one reply line: prefix, or /regex/
 *   S* N expect        N reply lines
 *   S! eof             the server closes the connection
 *   C! close           the client closes
 *   W: ms              wait
 *   M: text / M- text  expected bytes of the next delivered message (+ "\n")
 *   E: sender rcpt...  one delivered message with this envelope ("<>": null);
 *                      every delivered message must have its E line
 *   A: key=value       after the run: sessions=N (left open), detached=N
 *                      (completions after the client left)
 * At the end no unexpected reply line may be pending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/lmtp_server.h"

#define HOSTNAME        "lmtp.example.com"
#define IO_TIMEOUT_MS   3000
#define QUIET_MS        20
#define STOP_TIMEOUT_MS 5000

/* ---- the server side (runs in the server thread) ---- */

struct delivered {
    char *sender;
    char *recipients; /* space-separated */
    GByteArray *data;
};

struct harness {
    struct event_base *base;
    struct lmtp_server *server;
    GThread *thread;
    int stop_fds[2];
    struct event *stop_ev;
    int64_t stop_deadline;
    unsigned deliver_delay_ms;
    /* Written by the server thread, read by the test after the join (or
     * through atomics while it runs). */
    GPtrArray *delivered;
    gint pending;
    gint deliveries;
    unsigned detached;
    bool stuck;
};

struct completion {
    struct harness *h;
    struct lmtp_delivery *handle;
    struct event *timer;
    struct lmtp_reply *replies;
    size_t n;
};

static void fake_rcpt(void *ctx, const struct lmtp_session_info *info, const char *sender,
                      const char *recipient, struct lmtp_reply *reply_r)
{
    const char *at = strrchr(recipient, '@');
    /* break@: the loop stops after the callback that runs this one. */
    if (g_str_has_prefix(recipient, "break@"))
        event_base_loopbreak(((struct harness *)ctx)->base);
    if (at != NULL && g_ascii_strcasecmp(at, "@example.com") == 0 &&
        g_ascii_strncasecmp(recipient, "nosuch@", 7) != 0)
        lmtp_reply_set(reply_r, 250, "Ok");
    else
        lmtp_reply_set(reply_r, 550, "Requested action not taken: mailbox unavailable");
}

static void complete(struct completion *c)
{
    struct harness *h = c->h;
    if (lmtp_session_data_done(c->handle, c->replies, c->n) == 0)
        h->detached++;
    g_atomic_int_add(&h->pending, -1);
    if (c->timer != NULL)
        event_free(c->timer);
    g_free(c->replies);
    g_free(c);
}

static void completion_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    complete(arg);
}

static void fake_deliver(void *ctx, struct lmtp_delivery *handle, const struct lmtp_message *m)
{
    struct harness *h = ctx;
    struct delivered *d = g_new0(struct delivered, 1);
    d->sender = g_strdup(m->sender);
    d->recipients = g_strjoinv(" ", (char **)m->recipients);
    d->data = g_byte_array_new();
    g_byte_array_append(d->data, (const guint8 *)m->data, (guint)m->len);
    g_ptr_array_add(h->delivered, d);
    struct completion *c = g_new0(struct completion, 1);
    c->h = h;
    c->handle = handle;
    c->n = m->n_recipients;
    c->replies = g_new0(struct lmtp_reply, c->n);
    for (size_t i = 0; i < c->n; i++) {
        if (g_str_has_prefix(m->recipients[i], "defer@"))
            lmtp_reply_set(&c->replies[i], 451, "Requested action aborted: error in processing");
        else if (g_str_has_prefix(m->recipients[i], "reject@"))
            lmtp_reply_set(&c->replies[i], 554, "5.6.0 Message has defects");
        else
            lmtp_reply_set(&c->replies[i], 250, "Ok");
    }
    g_atomic_int_add(&h->pending, 1);
    g_atomic_int_add(&h->deliveries, 1);
    if (h->deliver_delay_ms == 0) {
        complete(c);
        return;
    }
    c->timer = evtimer_new(h->base, completion_timer_cb, c);
    struct timeval tv = {h->deliver_delay_ms / 1000, (h->deliver_delay_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Stops the loop once no delivery is pending (or the deadline passed). */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct harness *h = arg;
    char byte;
    if (what & EV_READ) {
        if (read(fd, &byte, 1) != 1)
            byte = 'x';
        /* 'f': stop now, pending deliveries or not. */
        h->stop_deadline = g_get_monotonic_time() + (byte == 'f' ? 0 : STOP_TIMEOUT_MS * 1000);
    }
    if (g_atomic_int_get(&h->pending) > 0 && g_get_monotonic_time() < h->stop_deadline) {
        struct timeval tv = {0, 10000};
        event_base_once(h->base, -1, EV_TIMEOUT, stop_cb, h, &tv);
        return;
    }
    h->stuck = g_atomic_int_get(&h->pending) > 0;
    event_base_loopbreak(h->base);
}

static gpointer server_thread(gpointer arg)
{
    struct harness *h = arg;
    event_base_dispatch(h->base);
    return NULL;
}

static void delivered_free(gpointer p)
{
    struct delivered *d = p;
    g_free(d->sender);
    g_free(d->recipients);
    g_byte_array_unref(d->data);
    g_free(d);
}

/* listen_fd >= 0: the server accepts on it (else on 127.0.0.1, free port). */
static struct harness *harness_start_on(struct lmtp_server_settings *set, unsigned delay_ms,
                                        int listen_fd)
{
    struct harness *h = g_new0(struct harness, 1);
    char *error = NULL;
    h->base = event_base_new();
    h->delivered = g_ptr_array_new_with_free_func(delivered_free);
    h->deliver_delay_ms = delay_ms;
    set->hostname = HOSTNAME;
    set->rcpt = fake_rcpt;
    set->deliver = fake_deliver;
    set->ctx = h;
    if (lmtp_server_new(h->base, set, &h->server, &error) < 0 ||
        (listen_fd >= 0 ? lmtp_server_listen_fd(h->server, listen_fd, &error)
                        : lmtp_server_listen(h->server, "127.0.0.1", 0, &error)) < 0)
        fail_msg("server: %s", error);
    assert_int_equal(pipe(h->stop_fds), 0);
    h->stop_ev = event_new(h->base, h->stop_fds[0], EV_READ, stop_cb, h);
    event_add(h->stop_ev, NULL);
    h->thread = g_thread_new("lmtp", server_thread, h);
    return h;
}

static struct harness *harness_start(struct lmtp_server_settings *set, unsigned delay_ms)
{
    return harness_start_on(set, delay_ms, -1);
}

/* Stops the loop (after pending deliveries unless force) and joins; the
 * server stays for inspection. */
static void harness_stop_how(struct harness *h, bool force)
{
    if (h->thread == NULL)
        return;
    assert_int_equal(write(h->stop_fds[1], force ? "f" : "x", 1), 1);
    g_thread_join(h->thread);
    h->thread = NULL;
}

static void harness_stop(struct harness *h)
{
    harness_stop_how(h, false);
}

static void harness_free(struct harness *h)
{
    harness_stop(h);
    lmtp_server_free(h->server);
    event_free(h->stop_ev);
    event_base_free(h->base);
    close(h->stop_fds[0]);
    close(h->stop_fds[1]);
    g_ptr_array_unref(h->delivered);
    g_free(h);
}

/* ---- the client side (test thread) ---- */

struct client {
    int fd;
    GString *in; /* received, not yet consumed */
};

/* bufsize > 0 sets small socket buffers (before connect, so the window
 * stays small). */
static void client_open_buf(struct client *c, int port, int bufsize)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    if (bufsize > 0) {
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    }
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof sin), 0);
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    c->in = g_string_new(NULL);
}

static void client_open(struct client *c, int port)
{
    client_open_buf(c, port, 0);
}

static void client_close(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->in != NULL)
        g_string_free(c->in, TRUE);
    c->in = NULL;
}

/* Sends all of buf within IO_TIMEOUT_MS; false on failure. */
static bool client_send(struct client *c, const char *buf, size_t len)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + IO_TIMEOUT_MS;
    while (len > 0) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return false;
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            return false;
    }
    return true;
}

/* Reads one reply line (without CRLF) into *line_r: 1, 0 on EOF, -1 on
 * timeout or error. */
static int client_read_line(struct client *c, int timeout_ms, char **line_r)
{
    int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - c->in->str);
            *line_r = g_strndup(c->in->str, n > 0 && nl[-1] == '\r' ? n - 1 : n);
            g_string_erase(c->in, 0, (gssize)n + 1);
            return 1;
        }
        char buf[4096];
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            g_string_append_len(c->in, buf, n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return c->in->len == 0 && (n == 0 || errno == ECONNRESET) ? 0 : -1;
        int64_t left = deadline - g_get_monotonic_time() / 1000;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            return -1;
    }
}

/* ---- scripts ---- */

static GString *unescape(const char *s)
{
    GString *out = g_string_new(NULL);
    for (; *s != '\0'; s++) {
        if (*s != '\\' || s[1] == '\0') {
            g_string_append_c(out, *s);
            continue;
        }
        s++;
        switch (*s) {
        case 'r':
            g_string_append_c(out, '\r');
            break;
        case 'n':
            g_string_append_c(out, '\n');
            break;
        case 't':
            g_string_append_c(out, '\t');
            break;
        case '0':
            g_string_append_c(out, '\0');
            break;
        case 'x':
            if (g_ascii_isxdigit(s[1]) && g_ascii_isxdigit(s[2])) {
                g_string_append_c(
                    out, (char)(g_ascii_xdigit_value(s[1]) * 16 + g_ascii_xdigit_value(s[2])));
                s += 2;
            }
            break;
        default:
            g_string_append_c(out, *s);
            break;
        }
    }
    return out;
}

/* Server settings a script can change with "! key value". */
static const struct {
    const char *key;
    size_t offset; /* in struct lmtp_limits */
    bool is_size;  /* size_t, else unsigned */
} settings[] = {
    {"max_line_length", offsetof(struct lmtp_limits, max_line_length), true},
    {"max_header_size", offsetof(struct lmtp_limits, max_header_size), true},
    {"max_message_size", offsetof(struct lmtp_limits, max_message_size), true},
    {"max_recipients", offsetof(struct lmtp_limits, max_recipients), false},
    {"max_errors", offsetof(struct lmtp_limits, max_errors), false},
    {"command_timeout_ms", offsetof(struct lmtp_limits, command_timeout_ms), false},
    {"data_timeout_ms", offsetof(struct lmtp_limits, data_timeout_ms), false},
    {"session_timeout_ms", offsetof(struct lmtp_limits, session_timeout_ms), false},
};

struct expected {
    GString *data; /* NULL: not checked */
    char *sender;
    char *recipients;
};

struct run {
    const char *name;
    unsigned lineno;
    struct client client;
    GString *out; /* C lines not yet sent */
    GString *expect_data;
    GPtrArray *expected; /* struct expected */
    int want_sessions, want_detached;
    char *failure;
};

static void expected_free(gpointer p)
{
    struct expected *e = p;
    if (e->data != NULL)
        g_string_free(e->data, TRUE);
    g_free(e->sender);
    g_free(e->recipients);
    g_free(e);
}

static bool script_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool script_fail(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->failure = g_strdup_printf("%s:%u: %s", r->name, r->lineno, msg);
    g_free(msg);
    return false;
}

static bool flush_out(struct run *r)
{
    if (r->out->len == 0)
        return true;
    if (r->client.fd < 0)
        return script_fail(r, "sending on a closed connection");
    bool ok = client_send(&r->client, r->out->str, r->out->len);
    g_string_truncate(r->out, 0);
    return ok || script_fail(r, "send failed: %s", g_strerror(errno));
}

static bool expect_line(struct run *r, const char *expect)
{
    char *line = NULL;
    if (!flush_out(r))
        return false;
    int rc = client_read_line(&r->client, IO_TIMEOUT_MS, &line);
    if (rc <= 0)
        return script_fail(r, "expected \"%s\", got %s", expect, rc == 0 ? "EOF" : "nothing");
    size_t n = strlen(expect);
    bool ok;
    if (n >= 2 && expect[0] == '/' && expect[n - 1] == '/') {
        char *re = g_strndup(expect + 1, n - 2);
        ok = g_regex_match_simple(re, line, 0, 0);
        g_free(re);
    } else {
        ok = g_str_has_prefix(line, expect);
    }
    if (!ok)
        script_fail(r, "expected \"%s\", got \"%s\"", expect, line);
    g_free(line);
    return ok;
}

/* Runs one script line against the connection; false on failure. */
static bool step(struct run *r, struct harness *h, const char *line)
{
    const char *arg = strlen(line) > 3 ? line + 3 : "";
    if (g_str_has_prefix(line, "C:") || g_str_has_prefix(line, "C-")) {
        GString *text = unescape(arg);
        g_string_append_len(r->out, text->str, (gssize)text->len);
        if (line[1] == ':')
            g_string_append(r->out, "\r\n");
        g_string_free(text, TRUE);
    } else if (g_str_has_prefix(line, "C* ") || g_str_has_prefix(line, "C+ ") ||
               g_str_has_prefix(line, "S* ")) {
        char *end;
        unsigned long n = strtoul(arg, &end, 10);
        const char *text = *end == ' ' ? end + 1 : end;
        for (unsigned long i = 1; i <= n; i++) {
            if (line[0] == 'S') {
                if (!expect_line(r, text))
                    return false;
                continue;
            }
            char num[24];
            snprintf(num, sizeof num, "%lu", i);
            GString *esc = unescape(text);
            char **parts = g_strsplit(esc->str, "{i}", -1);
            char *joined = g_strjoinv(num, parts);
            g_string_append_printf(r->out, "%s%s", joined, line[1] == '*' ? "\r\n" : "");
            g_free(joined);
            g_strfreev(parts);
            g_string_free(esc, TRUE);
        }
    } else if (g_str_has_prefix(line, "S: ")) {
        return expect_line(r, arg);
    } else if (strcmp(line, "S! eof") == 0) {
        char *got = NULL;
        if (!flush_out(r))
            return false;
        int rc = client_read_line(&r->client, IO_TIMEOUT_MS, &got);
        if (rc != 0) {
            script_fail(r, "expected EOF, got %s%s", rc > 0 ? "line " : "nothing",
                        rc > 0 ? got : "");
            g_free(got);
            return false;
        }
        close(r->client.fd);
        r->client.fd = -1;
    } else if (strcmp(line, "C! close") == 0) {
        if (!flush_out(r))
            return false;
        close(r->client.fd);
        r->client.fd = -1;
    } else if (g_str_has_prefix(line, "W: ")) {
        if (!flush_out(r))
            return false;
        g_usleep((gulong)atoi(arg) * 1000);
    } else if (g_str_has_prefix(line, "M:") || g_str_has_prefix(line, "M-")) {
        GString *text = unescape(arg);
        if (r->expect_data == NULL)
            r->expect_data = g_string_new(NULL);
        g_string_append_len(r->expect_data, text->str, (gssize)text->len);
        if (line[1] == ':')
            g_string_append_c(r->expect_data, '\n');
        g_string_free(text, TRUE);
    } else if (g_str_has_prefix(line, "E: ")) {
        struct expected *e = g_new0(struct expected, 1);
        const char *sp = strchr(arg, ' ');
        if (sp == NULL)
            return script_fail(r, "E: needs a sender and recipients");
        e->sender = g_strndup(arg, (gsize)(sp - arg));
        if (strcmp(e->sender, "<>") == 0)
            e->sender[0] = '\0';
        e->recipients = g_strdup(sp + 1);
        e->data = r->expect_data;
        r->expect_data = NULL;
        g_ptr_array_add(r->expected, e);
    } else if (g_str_has_prefix(line, "A: sessions=")) {
        r->want_sessions = atoi(arg + strlen("sessions="));
    } else if (g_str_has_prefix(line, "A: detached=")) {
        r->want_detached = atoi(arg + strlen("detached="));
    } else if (line[0] != '!' && line[0] != '#' && line[0] != '\0') {
        return script_fail(r, "unknown script line \"%s\"", line);
    }
    return true;
}

/* Applies the "! key value" lines; false on an unknown key. */
static bool configure(struct run *r, char **lines, struct lmtp_server_settings *set,
                      unsigned *delay_ms)
{
    r->lineno = 0;
    for (char **l = lines; *l != NULL; l++) {
        r->lineno++;
        if ((*l)[0] != '!')
            continue;
        char key[64];
        unsigned long value;
        if (sscanf(*l, "! %63s %lu", key, &value) != 2)
            return script_fail(r, "bad setting line");
        if (strcmp(key, "deliver_delay_ms") == 0) {
            *delay_ms = (unsigned)value;
            continue;
        }
        size_t i = 0;
        while (i < G_N_ELEMENTS(settings) && strcmp(settings[i].key, key) != 0)
            i++;
        if (i == G_N_ELEMENTS(settings))
            return script_fail(r, "unknown setting %s", key);
        char *field = (char *)&set->limits + settings[i].offset;
        if (settings[i].is_size)
            *(size_t *)field = value;
        else
            *(unsigned *)field = (unsigned)value;
    }
    return true;
}

/* Compares what the server delivered with the E/M lines. */
static void check_delivered(struct run *r, struct harness *h)
{
    if (h->delivered->len != r->expected->len) {
        script_fail(r, "%u messages delivered, script expects %u", h->delivered->len,
                    r->expected->len);
        return;
    }
    for (guint i = 0; i < h->delivered->len; i++) {
        const struct delivered *d = g_ptr_array_index(h->delivered, i);
        const struct expected *e = g_ptr_array_index(r->expected, i);
        if (strcmp(d->sender, e->sender) != 0 || strcmp(d->recipients, e->recipients) != 0) {
            script_fail(r, "message %u: envelope \"%s\" -> \"%s\", expected \"%s\" -> \"%s\"",
                        i + 1, d->sender, d->recipients, e->sender, e->recipients);
            return;
        }
        if (e->data != NULL &&
            (d->data->len != e->data->len ||
             (e->data->len > 0 && memcmp(d->data->data, e->data->str, e->data->len) != 0))) {
            char *raw = g_strndup((char *)d->data->data, d->data->len);
            char *got = g_strescape(raw, NULL);
            script_fail(r, "message %u: data \"%s\" differs", i + 1, got);
            g_free(got);
            g_free(raw);
            return;
        }
    }
}

static char *run_script(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup_printf("cannot read %s", path);
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    struct run r = {.name = strrchr(path, '/') + 1,
                    .client = {.fd = -1},
                    .want_sessions = -1,
                    .want_detached = -1};
    r.out = g_string_new(NULL);
    r.expected = g_ptr_array_new_with_free_func(expected_free);
    struct lmtp_server_settings set;
    unsigned delay_ms = 20;
    lmtp_server_settings_init(&set);
    if (configure(&r, lines, &set, &delay_ms)) {
        struct harness *h = harness_start(&set, delay_ms);
        client_open(&r.client, lmtp_server_port(h->server));
        r.lineno = 0;
        bool ok = true;
        for (char **l = lines; ok && *l != NULL; l++) {
            r.lineno++;
            ok = step(&r, h, *l);
        }
        if (ok && flush_out(&r) && r.client.fd >= 0) {
            char *extra = NULL;
            if (client_read_line(&r.client, QUIET_MS, &extra) > 0)
                script_fail(&r, "unexpected reply \"%s\" at the end", extra);
            g_free(extra);
        }
        client_close(&r.client);
        /* Let the server see the hang-up before it is stopped. */
        g_usleep(QUIET_MS * 1000);
        harness_stop(h);
        if (h->stuck && r.failure == NULL)
            script_fail(&r, "a delivery never completed");
        if (r.failure == NULL)
            check_delivered(&r, h);
        unsigned sessions = lmtp_server_session_count(h->server);
        if (r.failure == NULL && r.want_sessions >= 0 && sessions != (unsigned)r.want_sessions)
            script_fail(&r, "%u sessions left, expected %d", sessions, r.want_sessions);
        if (r.failure == NULL && r.want_detached >= 0 && h->detached != (unsigned)r.want_detached)
            script_fail(&r, "%u detached completions, expected %d", h->detached, r.want_detached);
        harness_free(h);
    }
    client_close(&r.client);
    g_strfreev(lines);
    g_string_free(r.out, TRUE);
    if (r.expect_data != NULL)
        g_string_free(r.expect_data, TRUE);
    g_ptr_array_unref(r.expected);
    return r.failure;
}

static void test_script(void **state)
{
    char *failure = run_script(*state);
    if (failure != NULL)
        fail_msg("%s", failure);
}

/* ---- connection-level tests ---- */

static struct harness *start_with(void (*tune)(struct lmtp_limits *), unsigned delay_ms)
{
    struct lmtp_server_settings set;
    lmtp_server_settings_init(&set);
    if (tune != NULL)
        tune(&set.limits);
    return harness_start(&set, delay_ms);
}

static void expect(struct client *c, const char *prefix)
{
    char *line = NULL;
    int rc = client_read_line(c, IO_TIMEOUT_MS, &line);
    if (rc <= 0)
        fail_msg("expected \"%s\", got %s", prefix, rc == 0 ? "EOF" : "nothing");
    if (!g_str_has_prefix(line, prefix))
        fail_msg("expected \"%s\", got \"%s\"", prefix, line);
    g_free(line);
}

static void expect_eof(struct client *c)
{
    char *line = NULL;
    int rc = client_read_line(c, IO_TIMEOUT_MS, &line);
    if (rc != 0)
        fail_msg("expected EOF, got %s", rc > 0 ? line : "nothing");
}

static void tune_two_no_evict(struct lmtp_limits *l)
{
    l->max_connections = 2;
    l->evict_idle_ms = 60000;
}

static void test_too_many_connections(void **state)
{
    struct harness *h = start_with(tune_two_no_evict, 0);
    int port = lmtp_server_port(h->server);
    struct client a, b, c, d;
    client_open(&a, port);
    expect(&a, "220 " HOSTNAME " crier LMTP runner ");
    client_open(&b, port);
    expect(&b, "220 ");
    client_open(&c, port);
    expect(&c, "421 4.3.2 " HOSTNAME " Too many connections");
    expect_eof(&c);
    /* The refusal cost nothing: the first two still work. */
    assert_true(client_send(&a, "NOOP\r\n", 6));
    expect(&a, "250 2.0.0 OK");
    /* When one leaves, a new client is served again. */
    client_close(&b);
    g_usleep(100 * 1000);
    client_open(&d, port);
    expect(&d, "220 ");
    client_close(&a);
    client_close(&c);
    client_close(&d);
    harness_free(h);
}

static void tune_two_evict(struct lmtp_limits *l)
{
    l->max_connections = 2;
    l->evict_idle_ms = 100;
}

static void test_idle_session_makes_room(void **state)
{
    struct harness *h = start_with(tune_two_evict, 0);
    int port = lmtp_server_port(h->server);
    struct client a, b, c;
    client_open(&a, port);
    expect(&a, "220 ");
    client_open(&b, port);
    expect(&b, "220 ");
    g_usleep(200 * 1000);
    /* b is busy again, a has been idle longest: a goes. */
    assert_true(client_send(&b, "NOOP\r\n", 6));
    expect(&b, "250 ");
    g_usleep(150 * 1000);
    assert_true(client_send(&b, "LHLO x\r\n", 8));
    expect(&b, "250-" HOSTNAME);
    client_open(&c, port);
    expect(&c, "220 ");
    expect(&a, "421 4.3.2 " HOSTNAME " Error: too many connections, closing idle session");
    expect_eof(&a);
    for (int i = 0; i < 5; i++)
        expect(&b, i < 4 ? "250-" : "250 HELP");
    assert_true(client_send(&c, "QUIT\r\n", 6));
    expect(&c, "221 2.0.0 Bye");
    expect_eof(&c);
    client_close(&a);
    client_close(&b);
    client_close(&c);
    harness_free(h);
}

/* A client that sends commands without reading replies is stopped: its
 * writes block while the server's buffers stay bounded. */
static void test_unread_replies_stop_reading(void **state)
{
    struct harness *h = start_with(NULL, 0);
    struct client c;
    client_open_buf(&c, lmtp_server_port(h->server), 16 * 1024);
    expect(&c, "220 ");
    static const char noops[] = "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n";
    /* Far more than the socket buffers and the server's bounds hold. */
    const size_t cap = 16 * 1024 * 1024;
    size_t sent = 0;
    for (;;) {
        size_t at = sent % (sizeof noops - 1); /* keep the stream whole */
        ssize_t n = send(c.fd, noops + at, sizeof noops - 1 - at, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            if (sent > cap)
                break;
            continue;
        }
        assert_true(errno == EAGAIN);
        struct pollfd p = {.fd = c.fd, .events = POLLOUT};
        if (poll(&p, 1, 300) == 0)
            break; /* blocked: the server stopped reading */
    }
    if (sent > cap)
        fail_msg("server kept reading %zu octets of commands nobody reads replies to", sent);
    /* Every whole command gets its reply once the client reads; then the
     * partial one is finished and answered too. */
    size_t whole = sent / 6, partial = sent % 6;
    for (size_t i = 0; i < whole + (partial > 0); i++) {
        if (i == whole)
            assert_true(client_send(&c, "NOOP\r\n" + partial, 6 - partial));
        char *line = NULL;
        if (client_read_line(&c, IO_TIMEOUT_MS, &line) != 1)
            fail_msg("reply %zu of %zu missing", i + 1, whole);
        if (strcmp(line, "250 2.0.0 OK") != 0)
            fail_msg("reply %zu: \"%s\"", i + 1, line);
        g_free(line);
    }
    client_close(&c);
    harness_free(h);
}

/* The session closes (QUIT) with replies still waiting for the socket, in
 * the pass of the loop where a delivery completed: the completion's resume
 * event then finds a closing session with output left, which only the
 * write callback may end, once all is written. The client reads nothing
 * until the end (small socket buffers on both sides, so that most of the
 * replies wait in the server): every reply still arrives, the 221 last. */
static void test_quit_with_output_waiting(void **state)
{
    enum { NOOPS = 20000 }; /* 280 KB of replies */
    struct lmtp_server_settings set;
    lmtp_server_settings_init(&set);
    set.limits.max_output_buffer = 4 * 1024 * 1024; /* no pause */
    /* Accepted sockets inherit the listener's (fixed) send buffer. */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    int sndbuf = 16 * 1024;
    assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(lfd, 16), 0);
    struct harness *h = harness_start_on(&set, 0, lfd); /* deliveries complete at once */
    struct client c;
    client_open_buf(&c, lmtp_server_port(h->server), 4096);
    GString *noops = g_string_new("LHLO x\r\n");
    for (int i = 0; i < NOOPS; i++)
        g_string_append(noops, "NOOP\r\n");
    assert_true(client_send(&c, noops->str, noops->len));
    g_string_free(noops, TRUE);
    g_usleep(300 * 1000); /* the server has read them, its replies wait */
    /* In one piece: the message's completion and the QUIT in one pass. */
    static const char tx[] = "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
                             "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
    assert_true(client_send(&c, tx, sizeof tx - 1));
    expect(&c, "220 ");
    for (int i = 0; i < 6; i++)
        expect(&c, i < 5 ? "250-" : "250 HELP");
    for (int i = 0; i < NOOPS; i++) {
        char *line = NULL;
        if (client_read_line(&c, IO_TIMEOUT_MS, &line) != 1)
            fail_msg("reply %d of %d NOOPs missing", i + 1, NOOPS);
        if (strcmp(line, "250 2.0.0 OK") != 0)
            fail_msg("reply %d: \"%s\"", i + 1, line);
        g_free(line);
    }
    expect(&c, "250 ");
    expect(&c, "250 ");
    expect(&c, "354 ");
    expect(&c, "250 2.0.0 Ok");
    expect(&c, "221 2.0.0 Bye");
    expect_eof(&c);
    client_close(&c);
    harness_stop(h);
    assert_int_equal(h->delivered->len, 1);
    assert_int_equal(lmtp_server_session_count(h->server), 0);
    harness_free(h);
}

/* Connects c to h's server and takes it up to the 354 of a DATA from
 * a@example.com to b@example.com. */
static void open_to_data(struct client *c, struct harness *h)
{
    client_open(c, lmtp_server_port(h->server));
    expect(c, "220 ");
    static const char tx[] = "LHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n";
    assert_true(client_send(c, tx, sizeof tx - 1));
    for (int i = 0; i < 8; i++)
        expect(c, "250");
    assert_true(client_send(c, "DATA\r\n", 6));
    expect(c, "354 ");
}

/* The server is freed while a delivery is pending: the handle stays valid
 * and its completion goes nowhere. */
static void test_server_freed_before_completion(void **state)
{
    struct harness *h = start_with(NULL, 200);
    struct client c;
    open_to_data(&c, h);
    assert_true(client_send(&c, "Subject: x\r\n\r\nbody\r\n.\r\n", 23));
    for (int i = 0; i < 200 && g_atomic_int_get(&h->deliveries) == 0; i++)
        g_usleep(10 * 1000);
    assert_int_equal(g_atomic_int_get(&h->deliveries), 1);
    harness_stop_how(h, true);
    assert_int_equal(g_atomic_int_get(&h->pending), 1);
    lmtp_server_free(h->server);
    h->server = NULL;
    /* Only the completion timer (and libevent's deferred closing of the
     * socket) is left in the loop. */
    event_base_dispatch(h->base);
    expect_eof(&c);
    assert_int_equal(g_atomic_int_get(&h->pending), 0);
    assert_int_equal(h->detached, 1);
    client_close(&c);
    harness_free(h);
}

/* The server is freed while a session is closing, its last reply written
 * and its end (the resume event) due in the same pass of the loop: freeing
 * the session cancels that event, and the loop run afterwards finds
 * nothing of it. */
static void test_server_freed_while_closing(void **state)
{
    struct harness *h = start_with(NULL, 0);
    struct client c;
    client_open(&c, lmtp_server_port(h->server));
    expect(&c, "220 ");
    /* One piece, one pass: RCPT stops the loop once this read is done,
     * after QUIT has been answered. */
    static const char tx[] =
        "LHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<break@example.com>\r\n"
        "QUIT\r\n";
    assert_true(client_send(&c, tx, sizeof tx - 1));
    for (int i = 0; i < 6; i++)
        expect(&c, i < 5 ? "250-" : "250 HELP");
    expect(&c, "250 ");
    expect(&c, "250 ");
    expect(&c, "221 2.0.0 Bye");
    g_thread_join(h->thread); /* the loop has stopped by itself */
    h->thread = NULL;
    assert_int_equal(lmtp_server_session_count(h->server), 1); /* closing */
    lmtp_server_free(h->server);
    h->server = NULL;
    event_del(h->stop_ev);
    /* What is left: libevent's deferred closing of the socket. */
    event_base_loop(h->base, EVLOOP_NONBLOCK);
    expect_eof(&c);
    client_close(&c);
    harness_free(h);
}

/* A body of n random lines (some starting with '.', some empty) for DATA,
 * dot-stuffed with CRLF and its terminator, into *wire; what the server
 * must deliver (LF line ends, unstuffed) into *want. */
static void big_body(GRand *rnd, unsigned n, GString *wire, GString *want)
{
    g_string_append(wire, "Subject: big\r\n\r\n");
    g_string_append(want, "Subject: big\n\n");
    for (unsigned i = 0; i < n; i++) {
        GString *line = g_string_new(NULL);
        unsigned len = (unsigned)g_rand_int_range(rnd, 0, 200);
        for (unsigned k = 0; k < len; k++)
            g_string_append_c(line, (char)g_rand_int_range(rnd, 0x20, 0x7f));
        if (len > 0 && g_rand_int_range(rnd, 0, 8) == 0)
            line->str[0] = '.';
        if (line->str[0] == '.')
            g_string_append_c(wire, '.');
        g_string_append_len(wire, line->str, (gssize)line->len);
        g_string_append(wire, "\r\n");
        g_string_append_len(want, line->str, (gssize)line->len);
        g_string_append_c(want, '\n');
        g_string_free(line, TRUE);
    }
    g_string_append(wire, ".\r\n");
}

/* Large messages sent in one go, the next transaction right behind the
 * first's terminator: every byte arrives, in order, in the right message,
 * however the server's reads cut the stream. */
static void test_large_messages_whole(void **state)
{
    struct harness *h = start_with(NULL, 0);
    struct client c;
    open_to_data(&c, h);
    GRand *rnd = g_rand_new_with_seed(2033);
    GString *wire = g_string_new(NULL), *want1 = g_string_new(NULL), *want2 = g_string_new(NULL);
    big_body(rnd, 3000, wire, want1);
    g_string_append(wire, "MAIL FROM:<c@example.com>\r\nRCPT TO:<d@example.com>\r\nDATA\r\n");
    assert_true(wire->len > 200 * 1024);
    assert_true(client_send(&c, wire->str, wire->len));
    expect(&c, "250 2.0.0 Ok");
    expect(&c, "250 ");
    expect(&c, "250 ");
    expect(&c, "354 ");
    g_string_truncate(wire, 0);
    big_body(rnd, 700, wire, want2);
    g_string_append(wire, "QUIT\r\n");
    assert_true(client_send(&c, wire->str, wire->len));
    expect(&c, "250 2.0.0 Ok");
    expect(&c, "221 ");
    expect_eof(&c);
    client_close(&c);
    harness_stop(h);
    assert_int_equal(h->delivered->len, 2);
    const GString *want[] = {want1, want2};
    for (guint i = 0; i < 2; i++) {
        const struct delivered *d = h->delivered->pdata[i];
        assert_string_equal(d->sender, i == 0 ? "a@example.com" : "c@example.com");
        assert_int_equal(d->data->len, want[i]->len);
        assert_memory_equal(d->data->data, want[i]->str, want[i]->len);
    }
    g_string_free(wire, TRUE);
    g_string_free(want1, TRUE);
    g_string_free(want2, TRUE);
    g_rand_free(rnd);
    harness_free(h);
}

/* Seeded random bytes mixed with command fragments, reading replies as
 * they come: the server neither crashes nor stops serving others. */
static void test_random_input(void **state)
{
    static const char *const pieces[] = {
        "LHLO x\r\n",
        "MAIL FROM:<a@example.com>\r\n",
        "RCPT TO:<b@example.com>\r\n",
        "DATA\r\n",
        ".\r\n",
        "\r\n.\r\n",
        "\n",
        "\r",
        ".",
        "\0",
        "RSET\r\n",
        "SIZE=9999999999 ",
        "<",
        ">",
        "\"",
        "\\",
        "BODY=8BITMIME",
    };
    struct harness *h = start_with(NULL, 5);
    int port = lmtp_server_port(h->server);
    GRand *rand = g_rand_new_with_seed(2033);
    for (int conn = 0; conn < 20; conn++) {
        struct client c;
        client_open(&c, port);
        GString *junk = g_string_new(NULL);
        while (junk->len < 20000) {
            if (g_rand_boolean(rand)) {
                g_string_append(junk, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
            } else {
                for (int i = g_rand_int_range(rand, 1, 64); i > 0; i--)
                    g_string_append_c(junk, (char)g_rand_int_range(rand, 0, 256));
            }
        }
        /* Send in pieces, draining replies, until done or the server hangs up. */
        for (size_t off = 0; off < junk->len;) {
            size_t n = MIN(junk->len - off, (size_t)g_rand_int_range(rand, 1, 3000));
            ssize_t w = send(c.fd, junk->str + off, n, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN)
                break;
            off += w > 0 ? (size_t)w : 0;
            char buf[8192];
            while (recv(c.fd, buf, sizeof buf, 0) > 0)
                ;
        }
        g_string_free(junk, TRUE);
        client_close(&c);
    }
    g_rand_free(rand);
    struct client ok;
    client_open(&ok, port);
    expect(&ok, "220 ");
    assert_true(client_send(&ok, "NOOP\r\n", 6));
    expect(&ok, "250 2.0.0 OK");
    client_close(&ok);
    harness_free(h);
}

static void test_setup_errors(void **state)
{
    struct event_base *base = event_base_new();
    struct lmtp_server_settings set;
    struct lmtp_server *srv = NULL;
    char *error = NULL;
    lmtp_server_settings_init(&set);
    assert_int_equal(lmtp_server_new(base, &set, &srv, &error), -1);
    assert_non_null(strstr(error, "callbacks"));
    g_clear_pointer(&error, g_free);
    set.rcpt = fake_rcpt;
    set.deliver = fake_deliver;
    set.limits.max_line_length = 100;
    assert_int_equal(lmtp_server_new(base, &set, &srv, &error), -1);
    assert_non_null(strstr(error, "max_line_length"));
    g_clear_pointer(&error, g_free);
    lmtp_server_settings_init(&set);
    set.rcpt = fake_rcpt;
    set.deliver = fake_deliver;
    assert_int_equal(lmtp_server_new(base, &set, &srv, &error), 0);
    assert_int_equal(lmtp_server_port(srv), -1);
    assert_int_equal(lmtp_server_listen(srv, "192.0.2.1", 0, &error), -1);
    assert_non_null(strstr(error, "cannot listen"));
    g_clear_pointer(&error, g_free);
    assert_int_equal(lmtp_server_listen(srv, "::1", 0, &error) == 0 ||
                         lmtp_server_listen(srv, "127.0.0.1", 0, &error) == 0,
                     1);
    assert_true(lmtp_server_port(srv) > 0);
    lmtp_server_free(srv);
    g_free(error);
    event_base_free(base);
}

static int by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_scripts_present(void **state)
{
    GPtrArray *scripts = *state;
    assert_true(scripts->len >= 12);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    GPtrArray *scripts = g_ptr_array_new_with_free_func(g_free);
    GDir *dir = g_dir_open(CRIER_TEST_DATA "/lmtp", 0, NULL);
    for (const char *n; dir != NULL && (n = g_dir_read_name(dir)) != NULL;) {
        if (g_str_has_suffix(n, ".script"))
            g_ptr_array_add(scripts, g_build_filename(CRIER_TEST_DATA "/lmtp", n, NULL));
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_ptr_array_sort(scripts, by_name);
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test_prestate(test_scripts_present, scripts),
        cmocka_unit_test(test_too_many_connections),
        cmocka_unit_test(test_idle_session_makes_room),
        cmocka_unit_test(test_unread_replies_stop_reading),
        cmocka_unit_test(test_quit_with_output_waiting),
        cmocka_unit_test(test_server_freed_before_completion),
        cmocka_unit_test(test_server_freed_while_closing),
        cmocka_unit_test(test_large_messages_whole),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_setup_errors),
    };
    size_t n = G_N_ELEMENTS(fixed) + scripts->len;
    struct CMUnitTest *tests = g_new0(struct CMUnitTest, n);
    memcpy(tests, fixed, sizeof fixed);
    for (guint i = 0; i < scripts->len; i++) {
        struct CMUnitTest *t = &tests[G_N_ELEMENTS(fixed) + i];
        const char *path = g_ptr_array_index(scripts, i);
        t->name = strrchr(path, '/') + 1;
        t->test_func = test_script;
        t->initial_state = (void *)path;
    }
    int rc = _cmocka_run_group_tests("lmtp", tests, n, NULL, NULL);
    g_free(tests);
    g_ptr_array_unref(scripts);
    return rc;
}
