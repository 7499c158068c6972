/*
 * proto_limits - every bound of the LMTP server, as named defaults in one
 * place (as Postfix's DEF_ values in mail_params.h), and the struct the
 * server takes them from, so config keys can set each one later.
 *
 * Why these values:
 * - max_line_length 2048 (octets, CRLF included): RFC 5321 §4.5.3.1.4 sets
 *   512 as the minimum a server must accept and lets extensions raise it.
 *   MAIL/RCPT with a 256-octet path (§4.5.3.1.3) plus SIZE, BODY and the
 *   RFC 3461 parameters (ORCPT up to 500, ENVID up to 100) fit in about
 *   1000; 2048 (Postfix's line_length_limit) leaves room and caps the
 *   memory one command can take.
 * - max_header_size 1 MiB: the header block (up to the first empty line)
 *   is what later stages parse and rewrite; long Received/ARC/DKIM chains
 *   fit many times over, endless header bytes do not.
 * - max_message_size 33554432: Mailman's SIZE (reference §2); counted as
 *   RFC 1870 §4 does (CRLF included, stuffing dots and the final dot not).
 * - max_recipients 1000: RFC 5321 §4.5.3.1.8 asks for at least 100; over
 *   the bound RCPT gets 452 4.5.3 (§4.5.3.1.10) and the MTA sends the
 *   rest in another transaction.
 * - command 5 min (RFC 5321 §4.5.3.2.7), data block 10 min, whole session
 *   1 h: Postfix reuses an LMTP connection for minutes, not hours.
 * - max_connections 512, of which idle ones make room (see evict_idle_ms
 *   and lmtp_server.h for the admission policy).
 * - max_errors 20: protocol errors (Postfix's smtpd_hard_error_limit); a
 *   client past it gets 421 and is closed. Rejected recipients do not count.
 * - max_input_buffer / max_output_buffer 64 KiB: the server stops reading
 *   while a session waits for a delivery or while the client does not read
 *   its replies, so neither buffer grows with what a client sends.
 * Timeouts are in milliseconds so tests can use short ones.
 */
#ifndef CRIER_PROTO_LIMITS_H
#define CRIER_PROTO_LIMITS_H

#include <stddef.h>

#define LMTP_DEFAULT_MAX_LINE_LENGTH    2048
#define LMTP_DEFAULT_MAX_HEADER_SIZE    (1024 * 1024)
#define LMTP_DEFAULT_MAX_MESSAGE_SIZE   33554432
#define LMTP_DEFAULT_MAX_RECIPIENTS     1000
#define LMTP_DEFAULT_MAX_ERRORS         20
#define LMTP_DEFAULT_COMMAND_TIMEOUT_MS (5 * 60 * 1000)
#define LMTP_DEFAULT_DATA_TIMEOUT_MS    (10 * 60 * 1000)
#define LMTP_DEFAULT_SESSION_TIMEOUT_MS (60 * 60 * 1000)
#define LMTP_DEFAULT_CLOSE_TIMEOUT_MS   (10 * 1000)
#define LMTP_DEFAULT_MAX_CONNECTIONS    512
#define LMTP_DEFAULT_EVICT_IDLE_MS      (10 * 1000)
#define LMTP_DEFAULT_MAX_INPUT_BUFFER   (64 * 1024)
#define LMTP_DEFAULT_MAX_OUTPUT_BUFFER  (64 * 1024)

/* RFC 5321 §4.5.3.1.4: a server must take command lines of 512 octets. */
#define LMTP_MIN_LINE_LENGTH 512

struct lmtp_limits {
    size_t max_line_length;  /* command line, CRLF included */
    size_t max_header_size;  /* header block of a message */
    size_t max_message_size; /* advertised as SIZE */
    unsigned max_recipients; /* accepted RCPTs per transaction */
    unsigned max_errors;     /* protocol errors per session */
    unsigned command_timeout_ms;
    unsigned data_timeout_ms;    /* between two reads inside DATA */
    unsigned session_timeout_ms; /* whole connection */
    unsigned close_timeout_ms;   /* to flush the last reply before closing */
    unsigned max_connections;
    unsigned evict_idle_ms; /* idle this long, a session may make room */
    size_t max_input_buffer;
    size_t max_output_buffer;
};

/* Fills *limits with the LMTP_DEFAULT_ values. */
void proto_limits_lmtp_defaults(struct lmtp_limits *limits);

/* 0 if the values can work together, else -1 and *error_r names the field
 * (line length under 512, zero sizes or counts, an input buffer that
 * cannot hold one command line). */
int proto_limits_lmtp_check(const struct lmtp_limits *limits, char **error_r);

#endif
