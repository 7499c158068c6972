/*
 * rest_params - request parameters as Mailman's REST layer (falcon) sees
 * them, and collection paging. No I/O.
 *
 * Parameters are a JSON object: from a query string or a form-urlencoded
 * body (falcon's parse_query_string with keep_blank_qs_values: "a" and
 * "a=" both give "", a repeated key gives an array of its values in order),
 * or a JSON body's top-level object. Values are UTF-8; bytes that are not
 * give an error.
 *
 * Paging (mailman/rest/helpers.py _paginate): ?count=C&page=P gives the
 * slice [(P-1)*C, P*C). Errors are falcon's HTTPInvalidParam texts, which
 * Mailman produces: title "Invalid parameter" and a description.
 *
 * Functions return 0, or -1 with a newly allocated *error_r.
 */
#ifndef CRIER_REST_PARAMS_H
#define CRIER_REST_PARAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Adds the pairs of a query string / form body (len bytes) to params. */
int rest_params_add_form(json_t *params, const char *s, size_t len, char **error_r);
/* A JSON body: it must be an object (then *params_r is it, new reference). */
int rest_params_from_json(const char *body, size_t len, json_t **params_r, char **error_r);

/* A parameter's value as one string: a string as is, true/false as
 * "true"/"false", an integer or real in decimal; NULL for arrays, objects
 * and null (the caller decides). The pointer is valid while v lives,
 * except for numbers (then *tmp_r holds it; g_free). */
const char *rest_param_text(json_t *v, char **tmp_r);

struct rest_page {
    size_t start; /* Mailman's "start": (page-1)*count, even past the end */
    size_t first; /* the slice: [first, end), both <= total */
    size_t end;
};
/* Python int(): optional blanks and sign, digits (underscores between). */
bool rest_parse_pyint(const char *s, long long *n_r);
/* The slice of a collection of total entries; without count and page
 * everything. A missing page is 1; a missing count means all. */
int rest_page_compute(json_t *query, size_t total, struct rest_page *page_r, char **error_r);

#endif
