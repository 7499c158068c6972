/*
 * lmtp_intake - what Mailman's LMTP runner does to a message before it
 * queues it (reference §2, "Mutations before enqueueing"), on the raw bytes
 * so that everything else stays byte for byte as received. No I/O.
 *
 * - A header block with a defect (a first line that is a continuation, a
 *   line that is neither a header field nor a continuation before the
 *   empty line) is refused: Mailman's "Message has defects", which crier
 *   sends once per recipient as RFC 2033 requires.
 * - A missing Message-ID gets one: "<digits.pid.random@hostname>".
 * - Every Message-ID-Hash and X-Message-ID-Hash is removed; then
 *   Message-ID-Hash, X-Message-ID-Hash and X-MailFrom (when sender is not
 *   NULL) are appended at the end of the header block, in that order.
 * - With add_date, a missing Date is added (Mailman's inject does this).
 *
 * Input and output use LF line ends (the LMTP server's). The result is
 * newly allocated (g_byte_array_unref); *hash_r gets the Message-ID-Hash.
 */
#ifndef CRIER_LMTP_INTAKE_H
#define CRIER_LMTP_INTAKE_H

#include "mail/msgid_hash.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* 0 and *out_r; -1 for a defective message (*why_r: a static text). */
int lmtp_intake_prepare(const char *msg, size_t len, const char *sender, const char *hostname,
                        GByteArray **out_r, char hash_r[MSGID_HASH_LEN + 1], const char **why_r);
/* The same with the inject variations: sender NULL (no X-MailFrom) and a
 * missing Date added when add_date. */
int lmtp_intake_prepare_ex(const char *msg, size_t len, const char *sender, const char *hostname,
                           bool add_date, GByteArray **out_r, char hash_r[MSGID_HASH_LEN + 1],
                           const char **why_r);

#endif
