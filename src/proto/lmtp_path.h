/*
 * lmtp_path - parses the argument of MAIL ("FROM:<path> params") and RCPT
 * ("TO:<path> params"), RFC 5321 §4.1.2 and §3.3 (no I/O).
 *
 * Lenient where real MTAs differ and it is harmless (as Postfix without
 * strict_rfc821_envelopes): spaces after the colon, a path without angle
 * brackets when it has no spaces, an RFC 5321 §4.1.1.3 source route
 * ("<@a,@b:user@dom>", dropped). Strict where it matters: control characters,
 * unbalanced brackets or quotes and malformed parameters (RFC 5321 §4.1.2
 * esmtp-param) are syntax errors. Local parts are not length-checked
 * (Mailman accepts more than 64 octets); the command line bound limits it.
 *
 * lmtp_path_parse() returns 0 and fills *path (caller frees it with
 * lmtp_path_clear), or -1 and a newly allocated *error_r.
 */
#ifndef CRIER_LMTP_PATH_H
#define CRIER_LMTP_PATH_H

#include <glib.h>

struct lmtp_path {
    char *address;     /* without <>, source route dropped; "" for "<>" */
    GPtrArray *params; /* of char *: "KEYWORD" or "KEYWORD=value", as sent */
};

/* keyword: "FROM" or "TO" (matched without regard to case). */
int lmtp_path_parse(const char *args, const char *keyword, struct lmtp_path *path, char **error_r);
void lmtp_path_clear(struct lmtp_path *path);

/* Splits a parameter: returns the keyword's length and sets *value_r to the
 * text after '=' (NULL when there is none). */
size_t lmtp_path_param_split(const char *param, const char **value_r);

#endif
