/*
 * lmtp_server - an LMTP server (RFC 2033 over RFC 5321) on libevent, with
 * no mail-list knowledge: the LMTP runner plugs in through two callbacks.
 *
 * - rcpt(ctx, info, sender, recipient, reply_r): synchronous; fills
 *   *reply_r (e.g. 250 "Ok" or 550 "Requested action not taken: mailbox
 *   unavailable"). A 2xx code accepts the recipient. *reply_r starts as
 *   451 4.3.0 so a callback that sets nothing defers.
 * - deliver(ctx, handle, message): called after the final dot with the
 *   message, its envelope and the accepted recipients; completes
 *   asynchronously through lmtp_session_data_done(handle, ...) (see
 *   lmtp_session.h for the handle's lifetime). The session reads no
 *   further command until then.
 *
 * Wire texts: Mailman's (reference §2) where they exist, with RFC 3463
 * enhanced codes because the server advertises ENHANCEDSTATUSCODES, except
 * for the greeting, the LHLO reply and the reply to HELO/EHLO, which
 * RFC 2034 §3 exempts and which stay byte-identical to Mailman's:
 * `500 Error: command "HELO" not recognized`.
 * LHLO advertises, in this order: hostname, SIZE, 8BITMIME (Mailman's
 * order), PIPELINING, ENHANCEDSTATUSCODES (RFC 2033 §5 requires both), HELP.
 *
 * Admission: at most limits.max_connections sessions that are not closing.
 * When a new client comes at that bound, the session idle longest is closed
 * with "421 4.3.2" to make room, provided it has been idle at least
 * limits.evict_idle_ms and is not waiting for a delivery; otherwise the new
 * client gets "421 4.3.2 <hostname> Too many connections" and is closed.
 * Closing sessions (at most close_timeout_ms each) are capped at as many
 * again. So an MTA's cached idle connections never lock out new deliveries.
 *
 * lmtp_server_new/listen/listen_fd return 0, or -1 with a newly allocated
 * *error_r. lmtp_server_free closes every session at once (pending
 * deliveries are detached and stay valid).
 */
#ifndef CRIER_LMTP_SERVER_H
#define CRIER_LMTP_SERVER_H

#include <stdint.h>

#include "proto/lmtp_reply.h"
#include "proto/lmtp_session.h"
#include "proto/proto_limits.h"

struct event_base;
struct lmtp_server;

struct lmtp_server_settings {
    const char *hostname; /* in the greeting, LHLO, 421s; NULL: the host name */
    const char *greeting; /* after "220 "; NULL: "<hostname> crier LMTP runner <version>" */
    struct lmtp_limits limits;
    void (*rcpt)(void *ctx, const struct lmtp_session_info *info, const char *sender,
                 const char *recipient, struct lmtp_reply *reply_r);
    void (*deliver)(void *ctx, struct lmtp_delivery *delivery, const struct lmtp_message *message);
    void *ctx;
};

/* Default limits, NULL names and callbacks. */
void lmtp_server_settings_init(struct lmtp_server_settings *settings);

/* The settings are copied (strings too); both callbacks are required. */
int lmtp_server_new(struct event_base *base, const struct lmtp_server_settings *settings,
                    struct lmtp_server **server_r, char **error_r);
/* Listens on every address host resolves to (NULL or "": all), IPv6 sockets
 * IPv6-only as asyncio's are; port 0 binds the first address on a free
 * port. Fails when no address could be bound. */
int lmtp_server_listen(struct lmtp_server *server, const char *host, unsigned port, char **error_r);
/* Accepts on an already listening socket (bound by the master), taking it
 * (closed on failure too). */
int lmtp_server_listen_fd(struct lmtp_server *server, int fd, char **error_r);
/* The local port of the first listening socket, or -1. */
int lmtp_server_port(const struct lmtp_server *server);
/* Sessions open, closing ones included. */
unsigned lmtp_server_session_count(const struct lmtp_server *server);
void lmtp_server_free(struct lmtp_server *server);

/* For lmtp_session.c: drops a freed session from the server's list. */
void lmtp_server_forget(struct lmtp_server *server, struct lmtp_session *session);

#endif
