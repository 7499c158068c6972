/* rest_validate - see rest_validate.h. */
#include "rest/rest_validate.h"

#include "mail/address.h"
#include "rest/rest_etag.h"
#include "rest/rest_ids.h"
#include "rest/rest_params.h"

#include <glib.h>
#include <string.h>

int rest_parse_bool(const char *s)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(s, yes[i]) == 0)
            return 1;
        if (g_ascii_strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* A user id in either API's form (the handler checks it is its API's). */
static bool is_uuid_form(const char *s)
{
    g_autofree char *as31 = rest_id_parse("3.1", s);
    g_autofree char *as30 = as31 ? NULL : rest_id_parse("3.0", s);
    return as31 || as30;
}

json_t *rest_convert(json_t *value, enum rest_conv conv, const struct store_enum_value *enums,
                     char **reason_r)
{
    g_autofree char *tmp = NULL;
    if (conv == REST_CONV_STRLIST) {
        /* list_of_strings_validator: '' is [], a scalar is [it]. */
        if (json_is_string(value) && json_string_length(value) == 0)
            return json_array();
        if (!json_is_array(value)) {
            if (!json_is_string(value))
                goto not_str;
            json_t *a = json_array();
            json_array_append(a, value);
            return a;
        }
        for (size_t i = 0; i < json_array_size(value); i++)
            if (!json_is_string(json_array_get(value, i))) {
                value = json_array_get(value, i);
                goto not_str;
            }
        return json_copy(value);
    }
    if (conv == REST_CONV_BOOL && json_is_boolean(value))
        return json_copy(value);
    const char *s = rest_param_text(value, &tmp);
    if (s == NULL) {
        *reason_r = g_strdup("Expected a single value");
        return NULL;
    }
    switch (conv) {
    case REST_CONV_STR:
        return json_string(s);
    case REST_CONV_BOOL: {
        int b = rest_parse_bool(s);
        if (b < 0) {
            *reason_r = g_strdup_printf("Invalid boolean value: %s", s);
            return NULL;
        }
        return json_boolean(b);
    }
    case REST_CONV_INT: {
        long long n;
        if (!rest_parse_pyint(s, &n)) {
            g_autofree char *r = rest_py_str_repr(s, strlen(s));
            *reason_r = g_strdup_printf("invalid literal for int() with base 10: %s", r);
            return NULL;
        }
        return json_integer((json_int_t)n);
    }
    case REST_CONV_ENUM:
        for (const struct store_enum_value *e = enums; e->name; e++)
            if (strcmp(e->name, s) == 0)
                return json_string(s);
        {
            g_autofree char *names = store_enum_names(enums);
            *reason_r = g_strdup_printf("Accepted Values are: %s", names);
        }
        return NULL;
    case REST_CONV_SUBSCRIBER:
        if (is_uuid_form(s) || address_is_valid(s))
            return json_string(s);
        *reason_r = g_strdup(""); /* Mailman raises a bare ValueError */
        return NULL;
    default:
        break;
    }
not_str : {
    g_autofree char *r = NULL;
    r = rest_pformat(value, NULL);
    *reason_r = g_strdup_printf("Expected str, got %s", r);
    return NULL;
}
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *joined(GPtrArray *v, const char *sep)
{
    g_ptr_array_sort(v, cmp_str);
    g_ptr_array_add(v, NULL);
    char *s = g_strjoinv(sep, (char **)v->pdata);
    g_ptr_array_remove_index(v, v->len - 1);
    return s;
}

int rest_validate(json_t *params, const struct rest_field *fields, size_t n, json_t **values_r,
                  char **error_r)
{
    json_t *values = json_object();
    GPtrArray *extras = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *invalid = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *missing = g_ptr_array_new_with_free_func(g_free);
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        const struct rest_field *f = NULL;
        for (size_t i = 0; i < n && f == NULL; i++)
            if (strcmp(fields[i].name, key) == 0)
                f = &fields[i];
        if (f == NULL) {
            g_ptr_array_add(extras, g_strdup(key));
            continue;
        }
        char *reason = NULL;
        json_t *conv = rest_convert(v, f->conv, f->enums, &reason);
        if (conv == NULL) {
            g_ptr_array_add(invalid, g_strdup_printf("Invalid Parameter \"%s\": %s.", key, reason));
            g_free(reason);
        } else {
            json_object_set_new(values, key, conv);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!fields[i].optional && json_object_get(values, fields[i].name) == NULL)
            g_ptr_array_add(missing, g_strdup(fields[i].name));
    int rc = -1;
    if (extras->len) {
        g_autofree char *s = joined(extras, ", ");
        *error_r = g_strdup_printf("Unexpected parameters: %s", s);
    } else if (invalid->len) {
        *error_r = joined(invalid, " ");
    } else if (missing->len) {
        g_autofree char *s = joined(missing, ", ");
        *error_r = g_strdup_printf("Missing Parameter: %s", s);
    } else {
        rc = 0;
    }
    g_ptr_array_unref(extras);
    g_ptr_array_unref(invalid);
    g_ptr_array_unref(missing);
    if (rc < 0)
        json_decref(values);
    else
        *values_r = values;
    return rc;
}
