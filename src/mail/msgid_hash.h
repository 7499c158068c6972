/*
 * msgid_hash - Mailman's Message-ID-Hash (reference §2; Mailman's
 * add_message_hash): base32 (RFC 4648, upper case, 32 characters, no
 * padding since SHA-1's 20 octets fill 32 groups) of the SHA-1 of the
 * Message-ID. The surrounding <> are removed only when both are present;
 * otherwise surrounding whitespace is stripped (Python's str.strip(): ASCII
 * blanks, \x1c-\x1f and the Unicode spaces in UTF-8). No I/O.
 *
 * msgid_hash() writes the 32 characters and a NUL into out.
 */
#ifndef CRIER_MSGID_HASH_H
#define CRIER_MSGID_HASH_H

#include <stddef.h>

#define MSGID_HASH_LEN 32

/* message_id: the header's value as Mailman's email package gives it. */
void msgid_hash(const char *message_id, size_t len, char out[MSGID_HASH_LEN + 1]);

#endif
