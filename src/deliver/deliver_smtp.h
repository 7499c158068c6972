/*
 * deliver_smtp - a small blocking SMTP client for the out runner: one
 * connection, EHLO, PIPELINING when offered (RFC 2920: MAIL, every RCPT
 * and DATA in one write), CRLF line ends and dot-stuffing (RFC 5321
 * §4.5.2), multi-line replies, a timeout on every read and write, QUIT.
 *
 * Security ([mta] smtp_secure_mode, Mailman 3.3.8): `smtps` speaks TLS
 * from the first byte (RFC 8314 §3.3); `starttls` says EHLO, STARTTLS,
 * shakes hands and says EHLO again (RFC 3207), and gives up when the
 * server does not offer STARTTLS rather than go on in clear. Certificate
 * checks are deliver_tls's. With a user and a password, AUTH PLAIN (RFC
 * 4616) when offered, else AUTH LOGIN; the password is never logged.
 *
 * Results per recipient follow Mailman (reference §4.3): a refused RCPT
 * keeps its code; the DATA result applies to every accepted recipient; a
 * socket failure or timeout is code 444 for everyone not yet answered.
 * A failure while setting the session up (TLS, AUTH, greeting, EHLO) is a
 * failed connect: NULL with *error_r naming host, port and the reason or
 * the server's reply.
 */
#ifndef CRIER_DELIVER_SMTP_H
#define CRIER_DELIVER_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#define DELIVER_SMTP_TIMEOUT_S 300 /* RFC 5321 §4.5.3.2: 5 minutes for most replies */
#define DELIVER_SMTP_REPLY_MAX 512

struct deliver_smtp;
struct deliver_tls_ctx;

enum deliver_smtp_security { DELIVER_SMTP_PLAIN, DELIVER_SMTP_SMTPS, DELIVER_SMTP_STARTTLS };

/* Borrowed by deliver_smtp_connect for the duration of the call. */
struct deliver_smtp_options {
    const char *host;
    unsigned port;
    const char *helo;
    unsigned timeout_s;
    enum deliver_smtp_security security;
    const struct deliver_tls_ctx *tls; /* unless security is DELIVER_SMTP_PLAIN */
    const char *user, *pass;           /* AUTH when both are non-empty */
};

struct deliver_result {
    int code;
    char text[DELIVER_SMTP_REPLY_MAX];
};

/* Connects, secures, says EHLO and authenticates as o asks; NULL with
 * *error_r on failure. */
struct deliver_smtp *deliver_smtp_connect(const struct deliver_smtp_options *o, char **error_r);
/* One transaction; results has n entries. Returns 0 when the session is
 * still usable, -1 when the connection is gone (everything unanswered is
 * 444). msg has LF or CRLF line ends. */
int deliver_smtp_send(struct deliver_smtp *c, const char *sender, char *const *rcpts, size_t n,
                      const char *msg, size_t len, struct deliver_result *results);
/* QUIT (when the connection still works) and close. */
void deliver_smtp_close(struct deliver_smtp *c);

#endif
