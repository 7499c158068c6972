/* rest_etag - see rest_etag.h. The pformat rules follow CPython 3.11's
 * Lib/pprint.py (_format, _pprint_dict, _format_dict_items, _format_items,
 * _pprint_str); widths are counted in characters, as Python does. */
#include "rest/rest_etag.h"

#include "rest/rest_ids.h"

#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_WIDTH 80

/* Python's str.isprintable() for one non-ASCII character. */
static bool py_printable(gunichar c)
{
    switch (g_unichar_type(c)) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_SPACE_SEPARATOR:
        return false;
    default:
        return true;
    }
}

char *rest_py_str_repr(const char *s, size_t len)
{
    bool squote = memchr(s, '\'', len) != NULL, dquote = memchr(s, '"', len) != NULL;
    char quote = (squote && !dquote) ? '"' : '\'';
    GString *out = g_string_sized_new(len + 2);
    g_string_append_c(out, quote);
    const char *p = s, *end = s + len;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            /* Not UTF-8 (callers validate; keep going safely). */
            g_string_append_printf(out, "\\x%02x", (unsigned char)*p++);
            continue;
        }
        const char *next = g_utf8_next_char(p);
        if (c == (gunichar)quote || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char)c);
        } else if (c == '\t') {
            g_string_append(out, "\\t");
        } else if (c == '\n') {
            g_string_append(out, "\\n");
        } else if (c == '\r') {
            g_string_append(out, "\\r");
        } else if (c < ' ' || c == 0x7f) {
            g_string_append_printf(out, "\\x%02x", c);
        } else if (c < 0x7f || py_printable(c)) {
            g_string_append_len(out, p, next - p);
        } else if (c <= 0xff) {
            g_string_append_printf(out, "\\x%02x", c);
        } else if (c <= 0xffff) {
            g_string_append_printf(out, "\\u%04x", c);
        } else {
            g_string_append_printf(out, "\\U%08x", c);
        }
        p = next;
    }
    g_string_append_c(out, quote);
    return g_string_free(out, FALSE);
}

char *rest_py_float_repr(double d)
{
    if (isnan(d))
        return g_strdup("nan");
    if (isinf(d))
        return g_strdup(d < 0 ? "-inf" : "inf");
    /* The shortest %.Ne that reads back, then Python's float_repr_style
     * 'r' layout: scientific when the exponent is < -4 or >= 16. */
    char buf[64];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    char *e = strchr(buf, 'e');
    int exp = atoi(e + 1);
    *e = '\0';
    GString *digits = g_string_new(NULL);
    bool neg = buf[0] == '-';
    for (const char *p = buf; *p; p++)
        if (g_ascii_isdigit(*p))
            g_string_append_c(digits, *p);
    while (digits->len > 1 && digits->str[digits->len - 1] == '0')
        g_string_truncate(digits, digits->len - 1);
    GString *out = g_string_new(neg ? "-" : "");
    int n = (int)digits->len;
    if (exp < -4 || exp >= 16) {
        g_string_append_c(out, digits->str[0]);
        if (n > 1)
            g_string_append_printf(out, ".%s", digits->str + 1);
        g_string_append_printf(out, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        g_string_append(out, "0.");
        for (int i = 0; i < -exp - 1; i++)
            g_string_append_c(out, '0');
        g_string_append(out, digits->str);
    } else {
        for (int i = 0; i <= exp; i++)
            g_string_append_c(out, i < n ? digits->str[i] : '0');
        g_string_append_c(out, '.');
        g_string_append(out, exp + 1 < n ? digits->str + exp + 1 : "0");
    }
    g_string_free(digits, TRUE);
    return g_string_free(out, FALSE);
}

/* The broken-down UTC time of us; false when GDateTime cannot hold it. */
static bool py_datetime(int64_t us, int f[7])
{
    /* Proleptic Gregorian from 0001-01-01 (GDateTime covers it). */
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(secs);
    if (dt == NULL)
        return false;
    g_date_time_get_ymd(dt, &f[0], &f[1], &f[2]);
    f[3] = g_date_time_get_hour(dt);
    f[4] = g_date_time_get_minute(dt);
    f[5] = g_date_time_get_second(dt);
    f[6] = (int)(us - secs * 1000000);
    return true;
}

char *rest_py_datetime_repr(int64_t us)
{
    int f[7];
    if (!py_datetime(us, f))
        return g_strdup("None");
    GString *out = g_string_new(NULL);
    g_string_printf(out, "datetime.datetime(%d, %d, %d, %d, %d", f[0], f[1], f[2], f[3], f[4]);
    if (f[6])
        g_string_append_printf(out, ", %d, %d", f[5], f[6]);
    else if (f[5])
        g_string_append_printf(out, ", %d", f[5]);
    g_string_append_c(out, ')');
    return g_string_free(out, FALSE);
}

char *rest_py_isoformat(int64_t us)
{
    int f[7];
    if (!py_datetime(us, f))
        return g_strdup("");
    GString *out = g_string_new(NULL);
    g_string_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", f[0], f[1], f[2], f[3], f[4], f[5]);
    if (f[6])
        g_string_append_printf(out, ".%06d", f[6]);
    return g_string_free(out, FALSE);
}

char *rest_py_timedelta_repr(int64_t us)
{
    int64_t days = us / 86400000000LL, rest = us % 86400000000LL;
    if (rest < 0) {
        days -= 1;
        rest += 86400000000LL;
    }
    GString *out = g_string_new("datetime.timedelta(");
    const char *sep = "";
    if (days) {
        g_string_append_printf(out, "days=%" G_GINT64_FORMAT, days);
        sep = ", ";
    }
    if (rest / 1000000) {
        g_string_append_printf(out, "%sseconds=%" G_GINT64_FORMAT, sep, rest / 1000000);
        sep = ", ";
    }
    if (rest % 1000000)
        g_string_append_printf(out, "%smicroseconds=%" G_GINT64_FORMAT, sep, rest % 1000000);
    if (us == 0)
        g_string_append_c(out, '0');
    g_string_append_c(out, ')');
    return g_string_free(out, FALSE);
}

char *rest_py_enum_repr(const char *cls, const char *name, int value)
{
    return g_strdup_printf("<%s.%s: %d>", cls, name, value);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The object's keys in code-point order (UTF-8 byte order is the same). */
static const char **sorted_keys(json_t *obj, size_t *n_r)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = g_new(const char *, n + 1);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_keys);
    keys[n] = NULL;
    *n_r = n;
    return keys;
}

static char * override(const struct rest_pyrepr *hook, const char *key, json_t *v)
{
    return (hook && hook->fn && key) ? hook->fn(key, v, hook->ctx) : NULL;
}

/* pprint's _safe_repr: the one-line repr. */
static void safe_repr(GString *out, json_t *v, const char *key, const struct rest_pyrepr *hook)
{
    g_autofree char *o = override(hook, key, v);
    if (o) {
        g_string_append(out, o);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n;
        g_autofree const char **keys = sorted_keys(v, &n);
        g_string_append_c(out, '{');
        for (size_t i = 0; i < n; i++) {
            g_autofree char *k = rest_py_str_repr(keys[i], strlen(keys[i]));
            g_string_append_printf(out, "%s%s: ", i ? ", " : "", k);
            safe_repr(out, json_object_get(v, keys[i]), keys[i], hook);
        }
        g_string_append_c(out, '}');
        break;
    }
    case JSON_ARRAY:
        g_string_append_c(out, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                g_string_append(out, ", ");
            safe_repr(out, json_array_get(v, i), NULL, hook);
        }
        g_string_append_c(out, ']');
        break;
    case JSON_STRING: {
        if (rest_bigint_digits(json_string_value(v))) { /* a 3.0 id: an int */
            g_string_append(out, rest_bigint_digits(json_string_value(v)));
            break;
        }
        g_autofree char *s = rest_py_str_repr(json_string_value(v), json_string_length(v));
        g_string_append(out, s);
        break;
    }
    case JSON_INTEGER:
        g_string_append_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        g_autofree char *s = rest_py_float_repr(json_real_value(v));
        g_string_append(out, s);
        break;
    }
    case JSON_TRUE:
        g_string_append(out, "True");
        break;
    case JSON_FALSE:
        g_string_append(out, "False");
        break;
    case JSON_NULL:
        g_string_append(out, "None");
        break;
    }
}

static long ulen(const char *s)
{
    return g_utf8_strlen(s, -1);
}

static void format(GString *out, json_t *v, const char *key, long indent, long allowance, int level,
                   const struct rest_pyrepr *hook);

static void pprint_dict(GString *out, json_t *v, long indent, long allowance, int level,
                        const struct rest_pyrepr *hook)
{
    size_t n;
    g_autofree const char **keys = sorted_keys(v, &n);
    g_string_append_c(out, '{');
    indent += 1;
    allowance += 1;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        g_autofree char *rep = rest_py_str_repr(keys[i], strlen(keys[i]));
        g_string_append_printf(out, "%s: ", rep);
        format(out, json_object_get(v, keys[i]), keys[i], indent + ulen(rep) + 2,
               last ? allowance : 1, level, hook);
        if (!last) {
            g_string_append(out, ",\n");
            for (long s = 0; s < indent; s++)
                g_string_append_c(out, ' ');
        }
    }
    g_string_append_c(out, '}');
}

static void pprint_list(GString *out, json_t *v, long indent, long allowance, int level,
                        const struct rest_pyrepr *hook)
{
    g_string_append_c(out, '[');
    indent += 1;
    allowance += 1;
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        if (i) {
            g_string_append(out, ",\n");
            for (long s = 0; s < indent; s++)
                g_string_append_c(out, ' ');
        }
        format(out, json_array_get(v, i), NULL, indent, last ? allowance : 1, level, hook);
    }
    g_string_append_c(out, ']');
}

/* str.splitlines(True)'s line ends (ASCII and the Unicode ones). */
static size_t line_end(const char *p, const char *end)
{
    while (p < end) {
        gunichar c = g_utf8_get_char(p);
        const char *next = g_utf8_next_char(p);
        if (c == '\r' && next < end && *next == '\n')
            return (size_t)(next + 1 - p);
        if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e) ||
            c == 0x85 || c == 0x2028 || c == 0x2029)
            return (size_t)(next - p);
        p = next;
    }
    return 0;
}

static bool py_space(gunichar c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || g_unichar_isspace(c) ||
           c == 0x85;
}

/* One chunk as Python's repr, appended to chunks. */
static void chunk_add(GPtrArray *chunks, const char *s, size_t len)
{
    g_ptr_array_add(chunks, rest_py_str_repr(s, len));
}

static long repr_len(const char *s, size_t len)
{
    g_autofree char *r = rest_py_str_repr(s, len);
    return ulen(r);
}

static void pprint_str(GString *out, json_t *v, long indent, long allowance, int level)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0) {
        g_string_append(out, "''");
        return;
    }
    if (level == 1) {
        indent += 1;
        allowance += 1;
    }
    long max_width = PF_WIDTH - indent, max_width1 = max_width;
    GPtrArray *chunks = g_ptr_array_new_with_free_func(g_free);
    const char *p = s, *end = s + len;
    while (p < end) {
        size_t n = line_end(p, end);
        if (n == 0)
            n = (size_t)(end - p);
        bool last_line = p + n == end;
        if (last_line)
            max_width1 -= allowance;
        if (repr_len(p, n) <= max_width1) {
            chunk_add(chunks, p, n);
        } else {
            /* re.findall(r'\S*\s*', line): words with their trailing space. */
            long max_width2 = max_width;
            const char *cur = p, *q = p, *lend = p + n;
            while (q < lend) {
                const char *part = q;
                while (q < lend && !py_space(g_utf8_get_char(q)))
                    q = g_utf8_next_char(q);
                while (q < lend && py_space(g_utf8_get_char(q)))
                    q = g_utf8_next_char(q);
                if (q == lend && last_line)
                    max_width2 -= allowance;
                if (repr_len(cur, (size_t)(q - cur)) > max_width2) {
                    if (part > cur)
                        chunk_add(chunks, cur, (size_t)(part - cur));
                    cur = part;
                }
            }
            if (lend > cur)
                chunk_add(chunks, cur, (size_t)(lend - cur));
        }
        p += n;
    }
    if (chunks->len == 1) {
        g_string_append(out, chunks->pdata[0]);
    } else {
        if (level == 1)
            g_string_append_c(out, '(');
        for (guint i = 0; i < chunks->len; i++) {
            if (i) {
                g_string_append_c(out, '\n');
                for (long sp = 0; sp < indent; sp++)
                    g_string_append_c(out, ' ');
            }
            g_string_append(out, chunks->pdata[i]);
        }
        if (level == 1)
            g_string_append_c(out, ')');
    }
    g_ptr_array_unref(chunks);
}

static void format(GString *out, json_t *v, const char *key, long indent, long allowance, int level,
                   const struct rest_pyrepr *hook)
{
    GString *rep = g_string_new(NULL);
    safe_repr(rep, v, key, hook);
    g_autofree char *o = override(hook, key, v);
    if (o == NULL && ulen(rep->str) > PF_WIDTH - indent - allowance) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:
            if (json_object_size(v) == 0)
                break;
            pprint_dict(out, v, indent, allowance, level + 1, hook);
            g_string_free(rep, TRUE);
            return;
        case JSON_ARRAY:
            pprint_list(out, v, indent, allowance, level + 1, hook);
            g_string_free(rep, TRUE);
            return;
        case JSON_STRING:
            if (rest_bigint_digits(json_string_value(v)))
                break;
            pprint_str(out, v, indent, allowance, level + 1);
            g_string_free(rep, TRUE);
            return;
        default:
            break;
        }
    }
    g_string_append_len(out, rep->str, (gssize)rep->len);
    g_string_free(rep, TRUE);
}

char *rest_pformat(json_t *value, const struct rest_pyrepr *hook)
{
    GString *out = g_string_new(NULL);
    format(out, value, NULL, 0, 0, 0, hook);
    return g_string_free(out, FALSE);
}

char *rest_etag(json_t *resource, const struct rest_pyrepr *hook)
{
    g_autofree char *text = rest_pformat(resource, hook);
    /* .encode('raw-unicode-escape'): Latin-1 as bytes, the rest \uXXXX. */
    GString *food = g_string_new(NULL);
    for (const char *p = text; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x100)
            g_string_append_c(food, (char)c);
        else if (c <= 0xffff)
            g_string_append_printf(food, "\\u%04x", c);
        else
            g_string_append_printf(food, "\\U%08x", c);
    }
    g_autofree char *hex =
        g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)food->str, food->len);
    g_string_free(food, TRUE);
    return g_strdup_printf("\"%s\"", hex);
}

void rest_etag_set(json_t *resource, const struct rest_pyrepr *hook)
{
    g_autofree char *tag = rest_etag(resource, hook);
    json_object_set_new(resource, "http_etag", json_string(tag));
}
