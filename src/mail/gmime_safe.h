/*
 * gmime_safe - GMime's address and message parsers, kept off a leak.
 *
 * GMime 3.2.13 (Debian 12's) leaks the parsed addr-spec when a domain
 * literal is followed by a comment that never ends ("x@[a] (c"): a few
 * hundred bytes per such address, from any mail that reaches a parser.
 * GMime 3.2.15 fixes it (upstream commit 6d34651e). These wrappers close
 * such comments before GMime sees the text; text without an open comment
 * is passed through untouched. In a whole message only the top-level
 * header block is repaired; an attached message/rfc822 part with such a
 * header can still cost its parse a leak until GMime is upgraded.
 *
 * Ownership: the results are GMime's objects (g_object_unref) or newly
 * allocated strings (g_free).
 */
#ifndef CRIER_GMIME_SAFE_H
#define CRIER_GMIME_SAFE_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stddef.h>

/* How many comments are open at the end of len bytes of an RFC 5322
 * structured field value: '(' and ')' anywhere, a ')' with none open
 * ignored, quoted-pairs in comments skipped; *escape_r: the text ends in a
 * comment's lone backslash. Quoted strings count too (see the .c). */
unsigned gmime_safe_open_comments(const char *text, size_t len, bool *escape_r);

/* text with every open comment closed (a space first after a lone
 * backslash), or NULL when nothing is open. */
char *gmime_safe_close_comments(const char *text, size_t len);

/* internet_address_list_parse(NULL, text), comments closed first. */
InternetAddressList *gmime_safe_address_list_parse(const char *text);

/* raw (len bytes) with open comments closed in the top-level header
 * block's address fields, or NULL when there are none; *len_r its length. */
char *gmime_safe_repair_headers(const char *raw, size_t len, size_t *len_r);

/* g_mime_parser_construct_message over raw, repaired as above first; NULL
 * when GMime cannot parse it. */
GMimeMessage *gmime_safe_message_parse(const char *raw, size_t len);

#endif
