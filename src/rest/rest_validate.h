/*
 * rest_validate - Mailman's REST Validator (mailman/rest/validator.py) as a
 * table: which parameters a request takes, how each converts, which are
 * optional, and Mailman's texts for what is wrong, checked in its order:
 *   "Unexpected parameters: a, b"              (sorted)
 *   "Invalid Parameter \"k\": <reason>."       (sorted by key, space-joined)
 *   "Missing Parameter: a, b"                  (sorted)
 * No I/O.
 *
 * The converted values go to a new JSON object (*values_r, json_decref):
 * str and subscriber as strings, bool as true/false, int as an integer,
 * enum as its name (checked against the table), strlist as an array.
 */
#ifndef CRIER_REST_VALIDATE_H
#define CRIER_REST_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "store/store_enum.h"

enum rest_conv {
    REST_CONV_STR,
    REST_CONV_BOOL,
    REST_CONV_INT,
    REST_CONV_ENUM,
    REST_CONV_STRLIST,
    REST_CONV_SUBSCRIBER, /* an email, or a user id in the API's form */
};

struct rest_field {
    const char *name;
    enum rest_conv conv;
    bool optional;
    const struct store_enum_value *enums; /* REST_CONV_ENUM */
};

/* 0 with *values_r, or -1 with Mailman's message in *error_r. */
int rest_validate(json_t *params, const struct rest_field *fields, size_t n, json_t **values_r,
                  char **error_r);

/* One value's conversion: a new JSON value, or NULL with *reason_r (the
 * part after "Invalid Parameter \"k\": "). */
json_t *rest_convert(json_t *value, enum rest_conv conv, const struct store_enum_value *enums,
                     char **reason_r);

/* lazr.config's as_boolean: 1, 0, or -1. */
int rest_parse_bool(const char *s);

#endif
