/*
 * lmtp_session - one LMTP connection: its state machine, buffered I/O,
 * timeouts, the DATA phase and the asynchronous delivery handle.
 *
 * Public part (for the LMTP runner):
 * - struct lmtp_session_info, given to the rcpt callback;
 * - struct lmtp_message, given to the deliver callback with a handle;
 * - lmtp_session_data_done(handle, replies, n): the deliver callback's
 *   completion, callable later from the same event loop (after a group
 *   commit) or from inside the callback itself. RFC 2033 §4.2: the client
 *   gets exactly one reply per accepted recipient, in RCPT order; replies
 *   beyond message->n_recipients are ignored and missing ones become
 *   "451 4.3.0" (both logged as errors: they are caller bugs).
 *   The handle and everything the message points to stay valid until
 *   lmtp_session_data_done() is called, even if the client has gone or the
 *   server was freed meanwhile; it must be called exactly once per handle.
 *   Returns 1 if the replies were queued for the client, 0 if the client
 *   had already gone (the runner may log it: the MTA will retry).
 *
 * Internal part (for proto/ only): the session struct and the functions
 * the server and the command table use. Every state change goes through
 * lmtp_session_enter_state(), which also sets the timeouts of the state.
 *
 * I/O policy: commands are processed in order from the input buffer and
 * their replies collected, then handed to the socket when no complete
 * command is left (RFC 2920 §3.1). Processing stops while a delivery is
 * pending or while more than max_output_buffer octets of replies wait for
 * a client that does not read; input then stays bounded by
 * max_input_buffer (libevent's read high-water mark stops reading). A client
 * that closes its side ends the session at once: its pending replies are
 * dropped and a pending delivery is detached (completes into the void).
 * Callers must ignore SIGPIPE (libevent writes with writev).
 */
#ifndef CRIER_LMTP_SESSION_H
#define CRIER_LMTP_SESSION_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/lmtp_data.h"
#include "proto/lmtp_reply.h"

struct lmtp_session_info {
    uint64_t id;           /* unique per server, for log lines */
    const char *peer;      /* "192.0.2.1:4321", "[::1]:4321" */
    const char *lhlo_name; /* argument of LHLO ("" before) */
};

struct lmtp_message {
    uint64_t session_id;
    const char *peer;
    const char *lhlo_name;
    const char *sender;            /* "" for the null reverse-path */
    const char *const *recipients; /* accepted, in RCPT order */
    size_t n_recipients;           /* >= 1 */
    const char *data;              /* LF line ends, may hold NULs */
    size_t len;                    /* octets at data */
    size_t size;                   /* RFC 1870 size as received */
    bool body_8bitmime;            /* MAIL had BODY=8BITMIME */
};

/* The completion handle of one delivery (opaque). */
struct lmtp_delivery;

int lmtp_session_data_done(struct lmtp_delivery *delivery, const struct lmtp_reply *replies,
                           size_t n_replies);

/* ---- internal to src/proto/ ---- */

struct lmtp_server;
struct lmtp_server_settings;
struct bufferevent;
struct event;
struct event_base;
struct evbuffer;
struct sockaddr;

enum lmtp_state {
    LMTP_STATE_INIT,    /* greeted, no LHLO yet */
    LMTP_STATE_READY,   /* after LHLO, no transaction */
    LMTP_STATE_MAIL,    /* after MAIL, no accepted recipient yet */
    LMTP_STATE_RCPT,    /* at least one accepted recipient */
    LMTP_STATE_DATA,    /* reading the message */
    LMTP_STATE_DELIVER, /* waiting for lmtp_session_data_done() */
    LMTP_STATE_CLOSING, /* flushing the last reply */
};

struct lmtp_session {
    struct lmtp_server *server;
    const struct lmtp_server_settings *settings;
    struct bufferevent *bev;
    struct event *session_timer;
    struct event *resume; /* processes buffered input after a delivery */
    GList link;           /* in the server's list of sessions */
    struct lmtp_session_info info;
    char *peer;
    char *lhlo_name;
    enum lmtp_state state;
    struct evbuffer *replies; /* not yet handed to the socket */
    char *line;               /* max_line_length + 1 */
    bool discarding;          /* dropping the rest of an over-long line */
    bool out_paused;          /* waiting for the client to read replies */
    unsigned errors;
    int64_t last_active_ms; /* monotonic */
    /* the transaction */
    char *sender;
    bool body_8bitmime;
    GPtrArray *recipients; /* of char *, accepted */
    struct lmtp_data data;
    struct lmtp_delivery *delivery;
};

/* Takes fd (non-blocking, closed with the session) and sends the greeting. */
struct lmtp_session *lmtp_session_new(struct lmtp_server *server,
                                      const struct lmtp_server_settings *settings,
                                      struct event_base *base, int fd, const struct sockaddr *sa,
                                      uint64_t id);
/* Frees at once (the server's shutdown; closed connections). */
void lmtp_session_free(struct lmtp_session *session);
/* Queues a last reply (fmt may be NULL), stops reading, detaches a pending
 * delivery and frees the session once the reply is out or close_timeout_ms
 * has passed. */
void lmtp_session_close(struct lmtp_session *session, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lmtp_session_enter_state(struct lmtp_session *session, enum lmtp_state state);
/* Queues one reply line; fmt is without CRLF. */
void lmtp_session_reply(struct lmtp_session *session, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Queues a callback's reply (checked, see lmtp_reply.h); returns the code
 * the client sees. */
int lmtp_session_reply_checked(struct lmtp_session *session, const struct lmtp_reply *reply);
/* Counts a protocol error; past max_errors the session is closed with 421. */
void lmtp_session_error(struct lmtp_session *session);
/* Forgets the transaction (sender, recipients, message). */
void lmtp_session_reset(struct lmtp_session *session);
void lmtp_session_set_lhlo(struct lmtp_session *session, const char *name);
/* Milliseconds since the client last sent anything. */
int64_t lmtp_session_idle_ms(const struct lmtp_session *session);

#endif
