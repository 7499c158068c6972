/* lmtp_session - one LMTP connection: state machine, buffered I/O, timeouts,
 * DATA and the asynchronous delivery handle. */
#include "proto/lmtp_session.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/log.h"
#include "proto/lmtp_cmd.h"
#include "proto/lmtp_server.h"

struct lmtp_delivery {
    struct lmtp_session *session; /* NULL once the session is gone */
    struct lmtp_message message;
    GByteArray *data;
    GPtrArray *recipients; /* NULL-terminated, for message.recipients */
    char *sender;
    char *peer;
    char *lhlo_name;
};

static const char *const state_names[] = {
    [LMTP_STATE_INIT] = "init",       [LMTP_STATE_READY] = "ready",
    [LMTP_STATE_MAIL] = "mail",       [LMTP_STATE_RCPT] = "rcpt",
    [LMTP_STATE_DATA] = "data",       [LMTP_STATE_DELIVER] = "deliver",
    [LMTP_STATE_CLOSING] = "closing",
};

static void process(struct lmtp_session *s);

static struct timeval ms_to_tv(unsigned ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

static void set_timeouts(struct lmtp_session *s, unsigned read_ms, unsigned write_ms)
{
    struct timeval r = ms_to_tv(read_ms), w = ms_to_tv(write_ms);
    bufferevent_set_timeouts(s->bev, read_ms > 0 ? &r : NULL, write_ms > 0 ? &w : NULL);
}

static size_t output_pending(struct lmtp_session *s)
{
    return evbuffer_get_length(s->replies) + evbuffer_get_length(bufferevent_get_output(s->bev));
}

void lmtp_session_enter_state(struct lmtp_session *s, enum lmtp_state state)
{
    const struct lmtp_limits *l = &s->settings->limits;
    log_debug("lmtp session %" PRIu64 ": %s -> %s", s->info.id, state_names[s->state],
              state_names[state]);
    s->state = state;
    switch (state) {
    case LMTP_STATE_DATA:
        set_timeouts(s, l->data_timeout_ms, l->command_timeout_ms);
        break;
    case LMTP_STATE_DELIVER:
        /* Waiting on us, not on the client: no read timeout. Reading stays
         * on (bounded by the high-water mark) so a hang-up is noticed. */
        set_timeouts(s, 0, l->command_timeout_ms);
        break;
    case LMTP_STATE_CLOSING:
        bufferevent_disable(s->bev, EV_READ);
        if (output_pending(s) == 0) {
            /* All written (flush wrote straight to the socket): end in
             * this pass of the loop rather than after the socket has
             * reported itself writable (two epoll_ctl and a pass). */
            event_active(s->resume, EV_TIMEOUT, 0);
            break;
        }
        bufferevent_enable(s->bev, EV_WRITE);
        set_timeouts(s, 0, l->close_timeout_ms);
        break;
    default:
        set_timeouts(s, l->command_timeout_ms, l->command_timeout_ms);
        break;
    }
}

void lmtp_session_reply(struct lmtp_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    evbuffer_add_vprintf(s->replies, fmt, ap);
    va_end(ap);
    evbuffer_add(s->replies, "\r\n", 2);
}

int lmtp_session_reply_checked(struct lmtp_session *s, const struct lmtp_reply *reply)
{
    char line[LMTP_REPLY_LINE_MAX + 1];
    size_t n = lmtp_reply_format(reply, line, sizeof line);
    evbuffer_add(s->replies, line, n);
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Hands the replies to the socket. When nothing is queued before them
 * they are written at once: going through the bufferevent would cost two
 * epoll_ctl calls and one more pass of the loop for every reply. What the
 * socket does not take (or an error, which the bufferevent then meets
 * itself) is left to the bufferevent. Not while paused or closing: those
 * wait for the bufferevent's write callback, which only a write through
 * the bufferevent brings. */
static void flush(struct lmtp_session *s)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    if (!s->out_paused && s->state != LMTP_STATE_CLOSING && evbuffer_get_length(out) == 0 &&
        evbuffer_get_length(s->replies) > 0)
        evbuffer_write(s->replies, bufferevent_getfd(s->bev));
    if (evbuffer_get_length(s->replies) > 0) {
        evbuffer_add_buffer(out, s->replies);
        /* Writing stays off until there is something to write: enabled
         * on an empty buffer it would only wake the loop to be disabled. */
        bufferevent_enable(s->bev, EV_WRITE);
    }
}

static void delivery_free(struct lmtp_delivery *d)
{
    if (d->data != NULL)
        g_byte_array_unref(d->data);
    g_ptr_array_unref(d->recipients);
    g_free(d->sender);
    g_free(d->peer);
    g_free(d->lhlo_name);
    g_free(d);
}

static void detach_delivery(struct lmtp_session *s)
{
    if (s->delivery != NULL) {
        log_info("lmtp session %" PRIu64 ": closed while its delivery is pending", s->info.id);
        s->delivery->session = NULL;
        s->delivery = NULL;
    }
}

void lmtp_session_close(struct lmtp_session *s, const char *fmt, ...)
{
    if (s->state == LMTP_STATE_CLOSING)
        return;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        evbuffer_add_vprintf(s->replies, fmt, ap);
        va_end(ap);
        evbuffer_add(s->replies, "\r\n", 2);
    }
    detach_delivery(s);
    flush(s);
    lmtp_session_enter_state(s, LMTP_STATE_CLOSING);
}

void lmtp_session_error(struct lmtp_session *s)
{
    if (++s->errors > s->settings->limits.max_errors) {
        log_info("lmtp session %" PRIu64 ": too many errors", s->info.id);
        lmtp_session_close(s, "421 4.7.0 %s Error: too many errors", s->settings->hostname);
    }
}

void lmtp_session_reset(struct lmtp_session *s)
{
    g_clear_pointer(&s->sender, g_free);
    s->body_8bitmime = false;
    g_ptr_array_set_size(s->recipients, 0);
    lmtp_data_clear(&s->data);
}

void lmtp_session_set_lhlo(struct lmtp_session *s, const char *name)
{
    g_free(s->lhlo_name);
    s->lhlo_name = g_strndup(name, 255);
    s->info.lhlo_name = s->lhlo_name;
}

int64_t lmtp_session_idle_ms(const struct lmtp_session *s)
{
    return g_get_monotonic_time() / 1000 - s->last_active_ms;
}

/* The final dot was read: answer at once when a limit was passed, else
 * hand the message to the deliver callback and wait for its completion. */
static void data_end(struct lmtp_session *s)
{
    const struct lmtp_data *data = &s->data;
    if (data->too_big || data->header_too_big) {
        log_info("lmtp session %" PRIu64 ": message refused, %s (%zu octets)", s->info.id,
                 data->too_big ? "too big" : "header too big", data->size);
        /* RFC 2033 §4.2: one reply per accepted recipient. */
        for (guint i = 0; i < s->recipients->len; i++) {
            if (data->too_big)
                lmtp_session_reply(s, "552 5.3.4 Error: Too much mail data");
            else
                lmtp_session_reply(s, "552 5.3.4 Error: message header too large");
        }
        lmtp_session_reset(s);
        lmtp_session_enter_state(s, LMTP_STATE_READY);
        return;
    }
    struct lmtp_delivery *d = g_new0(struct lmtp_delivery, 1);
    d->session = s;
    d->data = lmtp_data_steal(&s->data);
    d->sender = g_steal_pointer(&s->sender);
    d->peer = g_strdup(s->peer);
    d->lhlo_name = g_strdup(s->lhlo_name);
    d->recipients = g_ptr_array_new_full(s->recipients->len + 1, g_free);
    for (guint i = 0; i < s->recipients->len; i++)
        g_ptr_array_add(d->recipients, g_strdup(g_ptr_array_index(s->recipients, i)));
    g_ptr_array_add(d->recipients, NULL);
    d->message = (struct lmtp_message){
        .session_id = s->info.id,
        .peer = d->peer,
        .lhlo_name = d->lhlo_name,
        .sender = d->sender,
        .recipients = (const char *const *)d->recipients->pdata,
        .n_recipients = s->recipients->len,
        .data = d->data->data != NULL ? (const char *)d->data->data : "",
        .len = d->data->len,
        .size = s->data.size,
        .body_8bitmime = s->body_8bitmime,
    };
    s->delivery = d;
    lmtp_session_enter_state(s, LMTP_STATE_DELIVER);
    /* Replies queued so far (none in order, but cheap) leave now. */
    flush(s);
    s->settings->deliver(s->settings->ctx, d, &d->message);
}

int lmtp_session_data_done(struct lmtp_delivery *d, const struct lmtp_reply *replies,
                           size_t n_replies)
{
    struct lmtp_session *s = d->session;
    size_t want = d->message.n_recipients;
    if (n_replies != want)
        log_error("lmtp session %" PRIu64 ": %zu replies for %zu recipients", d->message.session_id,
                  n_replies, want);
    if (s == NULL) {
        log_info("lmtp session %" PRIu64 ": delivery done after the client left",
                 d->message.session_id);
        delivery_free(d);
        return 0;
    }
    for (size_t i = 0; i < want; i++) {
        if (i < n_replies) {
            lmtp_session_reply_checked(s, &replies[i]);
        } else {
            lmtp_session_reply(s, "451 4.3.0 Error: no reply for this recipient");
        }
    }
    s->delivery = NULL;
    delivery_free(d);
    lmtp_session_reset(s);
    lmtp_session_enter_state(s, LMTP_STATE_READY);
    /* Not from here: we may be inside the deliver callback, inside
     * process(). The event runs process() from the loop. */
    event_active(s->resume, EV_TIMEOUT, 1);
    return 1;
}

/* Reads one command line; false when more input is needed. */
static bool read_command(struct lmtp_session *s, struct evbuffer *in)
{
    size_t max = s->settings->limits.max_line_length;
    size_t eol_len;
    struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
    if (s->discarding) {
        if (eol.pos < 0) {
            evbuffer_drain(in, evbuffer_get_length(in));
            return false;
        }
        evbuffer_drain(in, (size_t)eol.pos + 1);
        s->discarding = false;
        return true;
    }
    if (eol.pos < 0 && evbuffer_get_length(in) < max)
        return false;
    if (eol.pos < 0 || (size_t)eol.pos + 1 > max) {
        /* RFC 5321 §4.5.3.1.4: the line is refused whole, then we go on
         * with the next one (as OpenSMTPD does). */
        if (eol.pos < 0) {
            evbuffer_drain(in, evbuffer_get_length(in));
            s->discarding = true;
        } else {
            evbuffer_drain(in, (size_t)eol.pos + 1);
        }
        lmtp_session_reply(s, "500 5.5.2 Error: line too long");
        lmtp_session_error(s);
        return true;
    }
    size_t n = (size_t)eol.pos;
    evbuffer_remove(in, s->line, n + 1);
    if (n > 0 && s->line[n - 1] == '\r')
        n--;
    s->line[n] = '\0';
    if (memchr(s->line, '\0', n) != NULL) {
        lmtp_session_reply(s, "500 5.5.2 Error: bad syntax");
        lmtp_session_error(s);
        return true;
    }
    lmtp_cmd_dispatch(s, s->line);
    return true;
}

/* Feeds message bytes to the DATA reader; false when more input is needed. */
static bool read_data(struct lmtp_session *s, struct evbuffer *in)
{
    for (;;) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            return false;
        bool end;
        size_t used = lmtp_data_push(&s->data, v.iov_base, v.iov_len, &end);
        evbuffer_drain(in, used);
        if (end) {
            data_end(s);
            return true;
        }
        if (used == v.iov_len)
            continue;
        /* The reader wants a few more bytes; they may be in the next chunk. */
        size_t left = evbuffer_get_length(in);
        if (left <= v.iov_len - used)
            return false;
        evbuffer_pullup(in, (ev_ssize_t)MIN(left, 3));
    }
}

static void process(struct lmtp_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    while (s->state != LMTP_STATE_DELIVER && s->state != LMTP_STATE_CLOSING) {
        if (output_pending(s) > s->settings->limits.max_output_buffer) {
            /* The client is not reading: stop taking its commands. */
            s->out_paused = true;
            break;
        }
        bool more = s->state == LMTP_STATE_DATA ? read_data(s, in) : read_command(s, in);
        if (!more)
            break;
    }
    flush(s);
}

#define LMTP_LIBEVENT_READ 4096  /* libevent 2.1's EVBUFFER_MAX_READ */
#define LMTP_READ_REST     16384 /* at most, in one recv */

/* libevent 2.1 reads at most 4096 octets at a time (EVBUFFER_MAX_READ),
 * each read one more pass of the loop: a 10 KB message took three. When
 * the bufferevent's read filled a whole 4096, up to LMTP_READ_REST more
 * is taken now in one recv (never beyond the high-water mark). A hang-up
 * or an error is left for the bufferevent's next read to report. */
static void read_rest(struct lmtp_session *s, struct evbuffer *in)
{
    size_t have = evbuffer_get_length(in);
    size_t max = s->settings->limits.max_input_buffer;
    if (have < LMTP_LIBEVENT_READ || have >= max)
        return;
    /* A bufferevent keeps its input's end frozen except while it reads. */
    evbuffer_unfreeze(in, 0);
    struct evbuffer_iovec v;
    size_t want = MIN(max - have, LMTP_READ_REST);
    if (evbuffer_reserve_space(in, (ev_ssize_t)want, &v, 1) == 1) {
        ssize_t n = recv(bufferevent_getfd(s->bev), v.iov_base, MIN(v.iov_len, want), 0);
        if (n > 0) { /* else nothing reserved is kept */
            v.iov_len = (size_t)n;
            evbuffer_commit_space(in, &v, 1);
        }
    }
    evbuffer_freeze(in, 0);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct lmtp_session *s = arg;
    s->last_active_ms = g_get_monotonic_time() / 1000;
    read_rest(s, bufferevent_get_input(bev));
    process(s);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct lmtp_session *s = arg;
    if (s->state == LMTP_STATE_CLOSING) {
        lmtp_session_free(s);
        return;
    }
    if (s->out_paused) {
        s->out_paused = false;
        process(s);
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct lmtp_session *s = arg;
    if ((what & BEV_EVENT_TIMEOUT) && s->state != LMTP_STATE_CLOSING) {
        log_info("lmtp session %" PRIu64 ": timeout in state %s", s->info.id,
                 state_names[s->state]);
        lmtp_session_close(s, "421 4.4.2 %s Error: timeout exceeded", s->settings->hostname);
        return;
    }
    if (what & BEV_EVENT_ERROR)
        log_debug("lmtp session %" PRIu64 ": %s", s->info.id, g_strerror(errno));
    lmtp_session_free(s);
}

static void session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lmtp_session *s = arg;
    log_info("lmtp session %" PRIu64 ": session time limit reached", s->info.id);
    lmtp_session_close(s, "421 4.4.2 %s Error: timeout exceeded", s->settings->hostname);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lmtp_session *s = arg;
    if (s->state == LMTP_STATE_CLOSING) {
        /* See lmtp_session_enter_state. With output left, the write
         * callback ends the session once it is written. */
        if (output_pending(s) == 0)
            lmtp_session_free(s);
        return;
    }
    process(s);
}

static char *peer_name(const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa == NULL)
        return g_strdup("local");
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        return g_strdup_printf("%s:%u", host, ntohs(in->sin_port));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        return g_strdup_printf("[%s]:%u", host, ntohs(in6->sin6_port));
    }
    return g_strdup("local");
}

struct lmtp_session *lmtp_session_new(struct lmtp_server *server,
                                      const struct lmtp_server_settings *settings,
                                      struct event_base *base, int fd, const struct sockaddr *sa,
                                      uint64_t id)
{
    const struct lmtp_limits *l = &settings->limits;
    struct lmtp_session *s = g_new0(struct lmtp_session, 1);
    s->server = server;
    s->settings = settings;
    s->link.data = s;
    s->peer = peer_name(sa);
    s->lhlo_name = g_strdup("");
    s->info = (struct lmtp_session_info){.id = id, .peer = s->peer, .lhlo_name = s->lhlo_name};
    s->replies = evbuffer_new();
    s->line = g_malloc(l->max_line_length + 1);
    s->recipients = g_ptr_array_new_with_free_func(g_free);
    s->last_active_ms = g_get_monotonic_time() / 1000;
    s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(s->bev, EV_READ, 0, l->max_input_buffer);
    s->resume = event_new(base, -1, 0, resume_cb, s);
    s->session_timer = evtimer_new(base, session_timer_cb, s);
    struct timeval tv = ms_to_tv(l->session_timeout_ms);
    evtimer_add(s->session_timer, &tv);
    log_debug("lmtp session %" PRIu64 ": connect from %s", id, s->peer);
    lmtp_session_reply(s, "220 %s", settings->greeting);
    flush(s);
    lmtp_session_enter_state(s, LMTP_STATE_INIT); /* sets the timeouts */
    bufferevent_enable(s->bev, EV_READ);
    return s;
}

void lmtp_session_free(struct lmtp_session *s)
{
    log_debug("lmtp session %" PRIu64 ": disconnect", s->info.id);
    detach_delivery(s);
    lmtp_server_forget(s->server, s);
    bufferevent_free(s->bev);
    event_free(s->resume);
    event_free(s->session_timer);
    evbuffer_free(s->replies);
    lmtp_session_reset(s);
    g_ptr_array_unref(s->recipients);
    g_free(s->line);
    g_free(s->peer);
    g_free(s->lhlo_name);
    g_free(s);
}
