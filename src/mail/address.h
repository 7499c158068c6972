/*
 * address - email address checks with Mailman 3.3.8's rules (no I/O).
 *
 * address_is_valid(): Mailman's IEmailValidator: a non-empty local part of
 * [-0-9a-z!#$%&'*+./=?@_`{}~] (any case), an '@', and a domain of at least
 * two dot-separated labels of [-a-z0-9] none empty or starting with '-'.
 * crier adds a length bound (ADDRESS_MAX_LEN, RFC 5321 §4.5.3.1.3's path
 * limit less the angle brackets) and refuses control characters and
 * non-ASCII, which Mailman's regexes refuse too.
 *
 * address_list_name_check(): the extra rules create_list applies to the
 * local part of a list's posting address: only [-_.+=!$*{}~0-9a-z], then
 * only [mailman] listname_chars (a regex, case-insensitive).
 */
#ifndef CRIER_ADDRESS_H
#define CRIER_ADDRESS_H

#include <stdbool.h>

#define ADDRESS_MAX_LEN 254

bool address_is_valid(const char *email);

/* listname_chars is the [mailman] setting (a character-class regex); returns
 * false if list_name has a character outside it (or outside the hard
 * superset). A listname_chars that does not compile is ignored, as Mailman
 * logs it and skips the check. */
bool address_list_name_ok(const char *list_name, const char *listname_chars);

#endif
