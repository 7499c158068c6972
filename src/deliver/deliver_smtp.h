/*
 * deliver_smtp - a small blocking SMTP client for the out runner: one
 * connection, EHLO, PIPELINING when offered (RFC 2920: MAIL, every RCPT
 * and DATA in one write), CRLF line ends and dot-stuffing (RFC 5321
 * §4.5.2), multi-line replies, a timeout on every read and write, QUIT.
 * Plain SMTP only: smtps, STARTTLS and AUTH are for the pooled client of
 * issue 5, and the out runner refuses those settings clearly.
 *
 * Results per recipient follow Mailman (reference §4.3): a refused RCPT
 * keeps its code; the DATA result applies to every accepted recipient; a
 * socket failure or timeout is code 444 for everyone not yet answered.
 */
#ifndef CRIER_DELIVER_SMTP_H
#define CRIER_DELIVER_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#define DELIVER_SMTP_TIMEOUT_S 300 /* RFC 5321 §4.5.3.2: 5 minutes for most replies */
#define DELIVER_SMTP_REPLY_MAX 512

struct deliver_smtp;

struct deliver_result {
    int code;
    char text[DELIVER_SMTP_REPLY_MAX];
};

/* Connects and says EHLO; NULL with *error_r on failure. */
struct deliver_smtp *deliver_smtp_connect(const char *host, unsigned port, const char *helo,
                                          unsigned timeout_s, char **error_r);
/* One transaction; results has n entries. Returns 0 when the session is
 * still usable, -1 when the connection is gone (everything unanswered is
 * 444). msg has LF or CRLF line ends. */
int deliver_smtp_send(struct deliver_smtp *c, const char *sender, char *const *rcpts, size_t n,
                      const char *msg, size_t len, struct deliver_result *results);
/* QUIT (when possible) and close. */
void deliver_smtp_close(struct deliver_smtp *c);

#endif
