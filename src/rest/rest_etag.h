/*
 * rest_etag - Mailman's http_etag (mailman/rest/helpers.py etag()): the
 * quoted SHA-1 hex of Python's pprint.pformat() of the resource dict,
 * encoded raw-unicode-escape. No I/O.
 *
 * rest_pformat() renders a JSON value the way pformat() (Python 3.11,
 * width 80, sorted dict keys) renders the equivalent Python value: str,
 * int, float, True/False/None, list and dict, wrapping long containers and
 * splitting long strings into adjacent literals exactly as pprint does.
 * Mailman's dicts also hold enums, datetimes and timedeltas; a resource
 * gives their Python repr through the optional override hook, keyed by the
 * dict key the value sits under (NULL: the JSON value's own repr).
 *
 * Returned strings are newly allocated (g_free).
 */
#ifndef CRIER_REST_ETAG_H
#define CRIER_REST_ETAG_H

#include <jansson.h>
#include <stdint.h>

/* The Python repr of value under key, or NULL for the default. */
typedef char *(*rest_pyrepr_fn)(const char *key, json_t *value, void *ctx);

struct rest_pyrepr {
    rest_pyrepr_fn fn;
    void *ctx;
};

/* Python's repr() of a str given as UTF-8 (len bytes). */
char *rest_py_str_repr(const char *s, size_t len);
/* Python's repr() of a float (the shortest text that reads back). */
char *rest_py_float_repr(double d);
/* repr() of datetime.datetime (naive UTC, us since the epoch; Mailman's
 * datetime.min for STORE_TIME_MIN), of datetime.timedelta (us), and of an
 * enum member ("<Action.hold: 0>"). */
char *rest_py_datetime_repr(int64_t us);
/* datetime.isoformat() of the same: "0001-01-01T00:00:00[.ffffff]". */
char *rest_py_isoformat(int64_t us);
char *rest_py_timedelta_repr(int64_t us);
char *rest_py_enum_repr(const char *cls, const char *name, int value);
/* pprint.pformat(value); hook may be NULL. */
char *rest_pformat(json_t *value, const struct rest_pyrepr *hook);
/* "\"<40 hex>\"" for the resource (which must not hold http_etag). */
char *rest_etag(json_t *resource, const struct rest_pyrepr *hook);
/* Sets resource["http_etag"] (appended last, as Mailman's dict order). */
void rest_etag_set(json_t *resource, const struct rest_pyrepr *hook);

#endif
