/*
 * config_parse - reads text in Mailman's configuration format (lazr.config on
 * top of Python's RawConfigParser(strict=False)), keeping file and line.
 *
 * Rules (reference §1.1): the whole text is dedented first; `[section]`
 * headers; `key: value` or `key = value` split at the first ':' or '=';
 * keys lower-cased, section names kept as written; lines indented deeper
 * than their key continue its value (joined with '\n'; blank lines inside a
 * value are kept, trailing ones dropped); whole-line comments start with '#'
 * or ';' (there are no inline comments: "a ; b" is the value "a ; b"); no
 * '%' interpolation. A section given twice is merged; a key given twice
 * keeps the last value.
 *
 * Why not inih: Debian's libinih strips "; ..." inline comments, cuts lines
 * at 200 bytes, drops blank lines inside continued values and does not tell
 * the handler its line number, all of which differ from Mailman.
 *
 * config_parse_text() calls fn once per key with the joined value; errors
 * (a key before any section, a line that is neither, an empty key, a NUL
 * byte) are collected as "file:line: message" strings and make it return -1
 * after the whole text was read. Limits: CONFIG_MAX_FILE bytes per file.
 */
#ifndef CRIER_CONFIG_PARSE_H
#define CRIER_CONFIG_PARSE_H

#include <glib.h>
#include <stddef.h>

#define CONFIG_MAX_FILE (4 * 1024 * 1024)

/* Called for every key; section/key/value are only valid during the call. */
typedef void config_parse_fn(void *ctx, const char *section, const char *key, const char *value,
                             int line);

/* errors: GPtrArray of g_free'd strings that this appends to. */
int config_parse_text(const char *text, size_t len, const char *filename, config_parse_fn *fn,
                      void *ctx, GPtrArray *errors);

#endif
