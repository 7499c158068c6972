/*
 * list_attr - the schema of a mailing list's attributes, as data: name,
 * type, default under the legacy-default style, the legacy-announce and
 * private-default overrides (reference §10.1 and Mailman's styles), flags,
 * and for enums the names and stored values.
 *
 * Every value has one canonical string form, used in the database and in
 * store_list_attr():
 *   bool      "true" / "false" (input also yes/no/on/off/1/0, any case)
 *   int       decimal, >= 0 ("" = unset, only for internal attributes)
 *   float     the shortest form that reads back, with ".0" when integral
 *   string    any UTF-8 up to LIST_ATTR_MAX_VALUE bytes; "line" also has no
 *             newline
 *   enum      the name ("confirm"); list_attr_int() gives the stored value
 *   duration  as Mailman's REST renders timedeltas: "7d", or "1d30.500000s"
 *             (input: [Nw][Nd][Nh][Nm][Ns], numbers may have a fraction)
 *   time      naive UTC ISO-8601 "2026-01-02T03:04:05[.ffffff]", "" = unset
 *   strlist   items joined by '\n' (input items are trimmed, blanks dropped)
 *   choice    one of a fixed set of names (pipelines, chains)
 *   language  a language code such as "en" or "pt_BR"
 *
 * Computed attributes (fqdn_listname, posting_address, ...) are not stored;
 * the store fills them when it loads a list. Read-only ones are written
 * only through store_list_set_attr_internal().
 *
 * All returned pointers to attributes and defaults are static. Strings
 * returned through *_r parameters are newly allocated (g_free).
 */
#ifndef CRIER_LIST_ATTR_H
#define CRIER_LIST_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_enum.h"

#define LIST_ATTR_MAX_VALUE (256 * 1024)

enum list_attr_type {
    LIST_ATTR_BOOL,
    LIST_ATTR_INT,
    LIST_ATTR_FLOAT,
    LIST_ATTR_STRING,
    LIST_ATTR_LINE,
    LIST_ATTR_ENUM,
    LIST_ATTR_DURATION,
    LIST_ATTR_TIME,
    LIST_ATTR_STRLIST,
    LIST_ATTR_CHOICE,
    LIST_ATTR_LANGUAGE,
};

#define LIST_ATTR_READ_ONLY 1u
#define LIST_ATTR_COMPUTED  2u /* derived from the list's name; implies read-only */

enum list_style {
    LIST_STYLE_LEGACY_DEFAULT,
    LIST_STYLE_LEGACY_ANNOUNCE,
    LIST_STYLE_PRIVATE_DEFAULT,
    LIST_STYLE_COUNT,
};

struct list_attr {
    const char *name;
    enum list_attr_type type;
    unsigned flags;
    const char *def;                      /* legacy-default, canonical form */
    const char *announce_def;             /* NULL: as legacy-default */
    const char *private_def;              /* NULL: as legacy-default */
    const struct store_enum_value *enums; /* LIST_ATTR_ENUM */
    const char *const *choices;           /* LIST_ATTR_CHOICE, NULL-terminated */
    const char *choice_what;              /* "pipeline": "Unknown pipeline: x" */
};

size_t list_attr_count(void);
const struct list_attr *list_attr_at(size_t i);
/* The index of name in list_attr_at() order, or -1. */
int list_attr_index(const char *name);
const struct list_attr *list_attr_find(const char *name);

/* Style names ("legacy-default", ...); -1 for an unknown name. */
int list_attr_style_parse(const char *name);
const char *list_attr_style_name(int style);
const char *list_attr_default(const struct list_attr *a, int style);

/* Validates value for a and gives its canonical form. STORE_INVALID with
 * Mailman's REST wording: Invalid Parameter "name": <reason>. */
int list_attr_normalize(const struct list_attr *a, const char *value, char **canon_r,
                        char **error_r);

/* A canonical value as a number: bool 0/1, int, enum stored value, float
 * truncated, duration whole seconds, time microseconds; 0 for "". */
int64_t list_attr_int(const struct list_attr *a, const char *value);
/* A duration (or number) in seconds, with fractions. */
double list_attr_seconds(const struct list_attr *a, const char *value);

char *list_attr_format_time(int64_t us); /* "" for 0 */
int list_attr_parse_time(const char *s, int64_t *us_r);
char *list_attr_format_duration(int64_t us);
int list_attr_parse_duration(const char *s, int64_t *us_r);

#endif
