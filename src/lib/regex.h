/*
 * regex - GLib's GRegex behind a guard: GRegex requires valid UTF-8 in
 * patterns and subjects, and PCRE2 crashes on invalid input (found by
 * fuzzing the config reader). Patterns that are not valid UTF-8 are an
 * error; subjects that are not match nothing.
 *
 * regex_compile returns NULL and a newly allocated *error_r (may be NULL)
 * on a bad pattern; free the result with g_regex_unref.
 */
#ifndef CRIER_REGEX_H
#define CRIER_REGEX_H

#include <glib.h>
#include <stdbool.h>

/* Case-insensitive, Python re-like (named groups (?P<x>...) work). */
GRegex *regex_compile(const char *pattern, char **error_r);

/* re.search(): a match anywhere in subject. */
bool regex_search(const GRegex *re, const char *subject);

/* re.match(): a match starting at the beginning of subject. */
bool regex_match_start(const GRegex *re, const char *subject);

/* re.sub(pattern, '', subject) == '': subject is made only of matches. */
bool regex_consumes_all(const GRegex *re, const char *subject);

#endif
