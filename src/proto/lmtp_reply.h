/*
 * lmtp_reply - one LMTP reply line as the rcpt and deliver callbacks give
 * it, and its safe formatting for the wire (no I/O).
 *
 * A reply is a code (200..599) and a text; the text may start with an
 * RFC 3463 enhanced status code ("2.1.5 Ok"). The struct holds its text
 * inline, so replies need no ownership rules and can be passed as arrays.
 *
 * lmtp_reply_format() makes the line the client sees, "CODE X.Y.Z text\r\n":
 * - a code outside 200..599 (or 3xx, which no callback may answer) becomes
 *   "451 4.3.0 Error: internal error in reply" (a callback bug must not break
 *   the protocol);
 * - without an enhanced code of the code's class, "C.0.0" ("other undefined
 *   status", RFC 3463 §3.1) is put in front, since the server advertises
 *   ENHANCEDSTATUSCODES (RFC 2034 §3);
 * - control characters become spaces and 8-bit bytes '?', so a text can never
 *   inject a second reply line.
 */
#ifndef CRIER_LMTP_REPLY_H
#define CRIER_LMTP_REPLY_H

#include <stddef.h>

/* RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with CRLF. */
#define LMTP_REPLY_TEXT_MAX 480
#define LMTP_REPLY_LINE_MAX 512

struct lmtp_reply {
    int code;
    char text[LMTP_REPLY_TEXT_MAX]; /* NUL-terminated, without CRLF */
};

/* Sets code and a printf-formatted text (truncated to fit). */
void lmtp_reply_set(struct lmtp_reply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the wire form (with CRLF) into buf[size] (size >= LMTP_REPLY_LINE_MAX)
 * and returns its length. */
size_t lmtp_reply_format(const struct lmtp_reply *reply, char *buf, size_t size);

#endif
