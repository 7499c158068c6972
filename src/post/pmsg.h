/*
 * pmsg - a message as the posting path edits it: the header fields in
 * order, each kept as received (folding and all), and the body as bytes.
 * Handlers delete fields and append new ones at the end, as Mailman's
 * email.message does; fields nobody touches go out byte for byte.
 * Decoding (RFC 2047) and address parsing use GMime. LF line ends, as in
 * the queue files.
 */
#ifndef CRIER_PMSG_H
#define CRIER_PMSG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct pmsg_field {
    char *name;  /* as received */
    char *value; /* raw text after the colon, continuation lines included,
                    without the final LF */
};

struct pmsg {
    GPtrArray *fields; /* struct pmsg_field * */
    char *body;        /* after the empty line */
    size_t body_len;
};

/* GMime's one-time initialisation (every function here that needs GMime
 * calls it; call it before using GMime directly on a pmsg's bytes). */
void pmsg_gmime_init(void);

struct pmsg *pmsg_parse(const char *msg, size_t len);
void pmsg_free(struct pmsg *m);
typedef struct pmsg pmsg;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(pmsg, pmsg_free)

/* The whole message again; *len_r gets its length. g_free. */
char *pmsg_serialize(const struct pmsg *m, size_t *len_r);

/* The first field called name (any case), raw, or NULL. */
const char *pmsg_get_raw(const struct pmsg *m, const char *name);
/* Its value unfolded, RFC 2047-decoded to UTF-8 and trimmed; NULL when the
 * field is absent. g_free. */
char *pmsg_get(const struct pmsg *m, const char *name);
/* Every field called name, decoded likewise (NULL-terminated; g_strfreev). */
char **pmsg_get_all(const struct pmsg *m, const char *name);
bool pmsg_has(const struct pmsg *m, const char *name);
/* Like pmsg_get_all, and then the same field of every MIME part below the
 * top (Mailman's header matching walks them all). */
char **pmsg_get_all_parts(const struct pmsg *m, const char *name);
/* Deletes every field called name; returns how many. */
unsigned pmsg_remove(struct pmsg *m, const char *name);
/* Appends "name: value" at the end of the header block; value is used as
 * it is (callers encode and fold). */
void pmsg_append(struct pmsg *m, const char *name, const char *value);
/* Appends value encoded (RFC 2047 when not ASCII) and folded at 78. */
void pmsg_append_text(struct pmsg *m, const char *name, const char *value);

/* The lower-cased addresses of every field called name, in order
 * (GMime's address-list parser; groups flattened). g_ptr_array_unref. */
GPtrArray *pmsg_addresses(const struct pmsg *m, const char *name);

/* Mailman's msg.senders: the addresses of the [mailman] sender_headers
 * fields in that order ("from_" is the envelope sender, which LMTP mail
 * does not carry), lower-cased, invalid ones dropped. */
GPtrArray *pmsg_senders(const struct pmsg *m, const char *sender_headers);

/* The decoded text of the first text/plain part (the body itself for a
 * message without MIME structure), UTF-8; "" when there is none. g_free. */
char *pmsg_first_text(const struct pmsg *m);

/* ---- addresses with their display names ---- */
struct pmsg_mailbox {
    char *name; /* decoded display name, "" when none */
    char *addr; /* as written */
};
/* Every mailbox of every field called name (g_ptr_array_unref). */
GPtrArray *pmsg_mailboxes(const struct pmsg *m, const char *name);
/* Python's formataddr(): "addr", "Name <addr>", "\"N, a\" <addr>", or the
 * name RFC 2047-encoded when it is not ASCII. g_free. */
char *pmsg_formataddr(const char *name, const char *addr);

/* The message as GMime parses it (NULL if it cannot), for MIME work; and
 * pmsg_replace() to take a rewritten one back. */
struct _GMimeMessage *pmsg_to_gmime(const struct pmsg *m);

/* Replaces the whole message (after a GMime rewrite). */
void pmsg_replace(struct pmsg *m, const char *msg, size_t len);

#endif
