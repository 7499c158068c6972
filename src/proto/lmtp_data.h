/*
 * lmtp_data - the DATA body reader: a push parser with its limits passed
 * in and no I/O, so the server, tests and fuzzers drive it the same way.
 *
 * It takes the bytes after "354" in any chunks and:
 * - ends at a line holding only "." (RFC 5321 §4.1.1.4), with CRLF or a bare
 *   LF as line end (real clients send bare LFs; RFC 5321 §2.3.8 lets a
 *   server be liberal);
 * - removes the leading dot of dot-stuffed lines (RFC 5321 §4.5.2);
 * - stores lines with LF endings (CRLF → LF; a lone CR inside a line and NUL
 *   bytes are kept as data);
 * - counts the message size as RFC 1870 §4 does: octets as received,
 *   CRLF included, stuffing dots and the final ".CRLF" not;
 * - bounds memory: past max_message_size (or with a header block, up to the
 *   first empty line, past max_header_size) it drops what it stored, keeps
 *   counting and still finds the end, so the server can answer 552 per
 *   recipient. Lines have no length bound of their own.
 *
 * lmtp_data_push() returns how many bytes it consumed; fewer than given
 * means it needs more bytes to decide (at most 2 are left: ".", ".\r" at a
 * line start or "\r" at the end); *end_r becomes true once the final dot
 * line was consumed, and nothing after it is consumed.
 * The struct owns its buffer; lmtp_data_steal() hands it over.
 */
#ifndef CRIER_LMTP_DATA_H
#define CRIER_LMTP_DATA_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct lmtp_data {
    size_t max_message_size;
    size_t max_header_size;
    GByteArray *buf;    /* NULL once a limit was passed */
    size_t size;        /* RFC 1870 size so far */
    size_t header_size; /* octets of the header block so far */
    int hdr_state;      /* lmtp_data.c's HDR_ values */
    bool at_line_start;
    bool line_empty; /* nothing of the current line stored yet */
    bool in_header;
    bool too_big;
    bool header_too_big;
};

void lmtp_data_init(struct lmtp_data *data, size_t max_message_size, size_t max_header_size);
size_t lmtp_data_push(struct lmtp_data *data, const char *bytes, size_t len, bool *end_r);
/* Hands over the stored message (LF line ends; NULL if a limit was passed)
 * and its length. */
GByteArray *lmtp_data_steal(struct lmtp_data *data);
void lmtp_data_clear(struct lmtp_data *data);

#endif
