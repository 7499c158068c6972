/*
 * rest_ids - user and member ids as the two API versions show them
 * (mailman/core/api.py): API 3.1 writes a UUID as 32 lower-case hex digits,
 * API 3.0 as the decimal integer of its 128 bits (Python's uuid.int). In a
 * URL or a parameter each version reads its own form: 3.1 what Python's
 * UUID(hex=...) reads (hex digits, '-' anywhere, optional "urn:", "uuid:"
 * and surrounding braces), 3.0 what UUID(int=int(...)) reads (an int()
 * literal from 0 to 2**128-1). No I/O.
 *
 * A 3.0 id in a JSON body is a number wider than jansson's integers: it is
 * carried as a string tagged with REST_BIGINT_TAG, which rest_pformat
 * renders as a Python int and the server writes as a bare JSON number.
 * Returned strings are newly allocated (g_free).
 */
#ifndef CRIER_REST_IDS_H
#define CRIER_REST_IDS_H

#include <jansson.h>
#include <stdbool.h>

#define REST_BIGINT_TAG "\x01int:"

/* The id (32 hex) in api's form ("3.0" or "3.1"). */
char *rest_id_text(const char *api, const char *hex);
/* The same as a JSON value: a string (3.1) or a tagged big integer (3.0). */
json_t *rest_id_json(const char *api, const char *hex);
/* Python's str(UUID): "8-4-4-4-12" hex digits. */
char *rest_id_dashed(const char *hex);
/* The 32 lower-case hex digits of an id given in api's form, or NULL. */
char *rest_id_parse(const char *api, const char *text);

/* The digits of a tagged big integer, or NULL when s is not one. */
const char *rest_bigint_digits(const char *s);
/* JSON text with every tagged big integer string turned into its number. */
char *rest_bigint_untag(const char *json_text);

#endif
