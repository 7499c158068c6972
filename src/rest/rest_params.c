/* rest_params - see rest_params.h. */
#include "rest/rest_params.h"

#include <glib.h>
#include <string.h>

/* %XX and '+' decoding (urllib.parse.unquote_plus); NULL if not UTF-8. */
static char *unquote_plus(const char *s, size_t len)
{
    GString *out = g_string_sized_new(len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            g_string_append_c(out, ' ');
        } else if (c == '%' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) &&
                   g_ascii_isxdigit(s[i + 2])) {
            g_string_append_c(
                out, (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2])));
            i += 2;
        } else {
            g_string_append_c(out, c);
        }
    }
    if (!g_utf8_validate(out->str, (gssize)out->len, NULL) || memchr(out->str, 0, out->len)) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

static void add_value(json_t *params, const char *key, json_t *value)
{
    json_t *old = json_object_get(params, key);
    if (old == NULL) {
        json_object_set_new(params, key, value);
    } else if (json_is_array(old)) {
        json_array_append_new(old, value);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, old);
        json_array_append_new(arr, value);
        json_object_set_new(params, key, arr);
    }
}

int rest_params_add_form(json_t *params, const char *s, size_t len, char **error_r)
{
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fend = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(fend - p));
        const char *kend = eq ? eq : fend;
        if (kend > p) {
            g_autofree char *key = unquote_plus(p, (size_t)(kend - p));
            g_autofree char *val =
                eq ? unquote_plus(eq + 1, (size_t)(fend - eq - 1)) : g_strdup("");
            if (key == NULL || val == NULL) {
                *error_r = g_strdup("Parameters must be UTF-8");
                return -1;
            }
            if (*key)
                add_value(params, key, json_string(val));
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
}

int rest_params_from_json(const char *body, size_t len, json_t **params_r, char **error_r)
{
    json_error_t jerr;
    if (len == 0) {
        *params_r = json_object();
        return 0;
    }
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL) {
        *error_r = g_strdup_printf("Could not parse the JSON body: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        *error_r = g_strdup("The JSON body must be an object");
        return -1;
    }
    *params_r = v;
    return 0;
}

const char *rest_param_text(json_t *v, char **tmp_r)
{
    *tmp_r = NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_INTEGER:
        return *tmp_r = g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return *tmp_r = g_strdup(g_ascii_dtostr(buf, sizeof buf, json_real_value(v)));
    }
    default:
        return NULL;
    }
}

bool rest_parse_pyint(const char *s, long long *n_r)
{
    while (g_ascii_isspace(*s))
        s++;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!g_ascii_isdigit(*s))
        return false;
    long long n = 0;
    for (; *s && !g_ascii_isspace(*s); s++) {
        if (*s == '_' && g_ascii_isdigit(s[1]) && g_ascii_isdigit(s[-1]))
            continue;
        if (!g_ascii_isdigit(*s) || n > (G_MAXINT64 - 9) / 10)
            return false;
        n = n * 10 + (*s - '0');
    }
    while (g_ascii_isspace(*s))
        s++;
    if (*s)
        return false;
    *n_r = neg ? -n : n;
    return true;
}

/* falcon's get_param_as_int: 0 absent, 1 found, -1 not an integer. */
static int param_int(json_t *query, const char *name, long long *n_r, char **error_r)
{
    json_t *v = json_object_get(query, name);
    if (v == NULL)
        return 0;
    if (json_is_array(v)) /* falcon takes the last of repeated values */
        v = json_array_get(v, json_array_size(v) - 1);
    g_autofree char *tmp = NULL;
    const char *s = rest_param_text(v, &tmp);
    if (s == NULL || !rest_parse_pyint(s, n_r)) {
        *error_r =
            g_strdup_printf("The \"%s\" parameter is invalid. The value must be an integer.", name);
        return -1;
    }
    return 1;
}

int rest_page_compute(json_t *query, size_t total, struct rest_page *page_r, char **error_r)
{
    long long count = 0, page = 1;
    int has_count = param_int(query, "count", &count, error_r);
    if (has_count < 0)
        return -1;
    int has_page = param_int(query, "page", &page, error_r);
    if (has_page < 0)
        return -1;
    page_r->start = page_r->first = 0;
    page_r->end = total;
    if (!has_count && !has_page)
        return 0;
    /* Mailman passes the value where falcon wants the name: these are
     * the texts it produces. */
    if (has_count && count < 0) {
        *error_r = g_strdup_printf(
            "The \"count should be a positive integer.\" parameter is invalid. %lld", count);
        return -1;
    }
    if (page < 1) {
        *error_r = g_strdup_printf(
            "The \"page should be greater than 0.\" parameter is invalid. %lld", page);
        return -1;
    }
    if (!has_count)
        return 0;
    unsigned long long start = (unsigned long long)(page - 1) * (unsigned long long)count;
    if (count != 0 && (unsigned long long)(page - 1) > G_MAXSIZE / (unsigned long long)count)
        start = G_MAXSIZE;
    page_r->start = (size_t)start;
    page_r->first = start > total ? total : (size_t)start;
    unsigned long long end = start + (unsigned long long)count;
    if (end < start)
        end = G_MAXSIZE;
    page_r->end = end > total ? total : (size_t)end;
    return 0;
}
