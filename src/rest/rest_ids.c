/* rest_ids - see rest_ids.h. */
#include "rest/rest_ids.h"

#include <glib.h>
#include <string.h>

typedef unsigned __int128 u128;

static bool hex_to_u128(const char *hex, u128 *v_r)
{
    u128 v = 0;
    if (strlen(hex) != 32)
        return false;
    for (int i = 0; i < 32; i++) {
        if (!g_ascii_isxdigit(hex[i]))
            return false;
        v = (v << 4) | (u128)g_ascii_xdigit_value(hex[i]);
    }
    *v_r = v;
    return true;
}

static char *u128_decimal(u128 v)
{
    char buf[48];
    size_t i = sizeof buf - 1;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return g_strdup(buf + i);
}

char *rest_id_text(const char *api, const char *hex)
{
    u128 v;
    if (strcmp(api, "3.0") != 0 || !hex_to_u128(hex, &v))
        return g_ascii_strdown(hex, -1);
    return u128_decimal(v);
}

json_t *rest_id_json(const char *api, const char *hex)
{
    g_autofree char *text = rest_id_text(api, hex);
    if (strcmp(api, "3.0") != 0)
        return json_string(text);
    g_autofree char *tagged = g_strconcat(REST_BIGINT_TAG, text, NULL);
    return json_string(tagged);
}

char *rest_id_dashed(const char *hex)
{
    if (strlen(hex) != 32)
        return g_strdup(hex);
    return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* Python's int(): blanks around, one sign, digits with single '_' between. */
static bool parse_decimal(const char *s, u128 *v_r)
{
    while (g_ascii_isspace(*s))
        s++;
    if (*s == '+')
        s++;
    u128 v = 0;
    bool digits = false, under = false;
    for (; g_ascii_isdigit(*s) || *s == '_'; s++) {
        if (*s == '_') {
            if (!digits || under)
                return false;
            under = true;
            continue;
        }
        under = false;
        digits = true;
        u128 next = v * 10 + (u128)(*s - '0');
        if (next / 10 != v)
            return false; /* past 2**128: UUID(int=) refuses it too */
        v = next;
    }
    while (g_ascii_isspace(*s))
        s++;
    if (!digits || under || *s)
        return false;
    *v_r = v;
    return true;
}

char *rest_id_parse(const char *api, const char *text)
{
    if (text == NULL)
        return NULL;
    if (strcmp(api, "3.0") == 0) {
        u128 v;
        if (!parse_decimal(text, &v))
            return NULL;
        char *hex = g_malloc(33);
        for (int i = 31; i >= 0; i--, v >>= 4)
            hex[i] = "0123456789abcdef"[(int)(v & 0xf)];
        hex[32] = '\0';
        return hex;
    }
    /* UUID(hex=): drop "urn:" and "uuid:", strip braces, drop '-'. */
    g_autofree char *s = g_strdup(text);
    const char *p = s;
    if (g_str_has_prefix(p, "urn:"))
        p += 4;
    if (g_str_has_prefix(p, "uuid:"))
        p += 5;
    GString *hex = g_string_new(NULL);
    size_t len = strlen(p);
    while (len && (p[len - 1] == '{' || p[len - 1] == '}'))
        len--;
    while (len && (*p == '{' || *p == '}'))
        p++, len--;
    for (size_t i = 0; i < len; i++)
        if (p[i] != '-')
            g_string_append_c(hex, g_ascii_tolower(p[i]));
    u128 v;
    if (!hex_to_u128(hex->str, &v)) {
        g_string_free(hex, TRUE);
        return NULL;
    }
    return g_string_free(hex, FALSE);
}

const char *rest_bigint_digits(const char *s)
{
    return s && g_str_has_prefix(s, REST_BIGINT_TAG) ? s + strlen(REST_BIGINT_TAG) : NULL;
}

char *rest_bigint_untag(const char *json_text)
{
    /* jansson writes the tag's \x01 as "\u0001"; ids are digits only. */
    static const char tag[] = "\"\\u0001int:";
    if (strstr(json_text, tag) == NULL)
        return g_strdup(json_text);
    GString *out = g_string_new(NULL);
    const char *p = json_text, *hit;
    while ((hit = strstr(p, tag)) != NULL) {
        g_string_append_len(out, p, hit - p);
        const char *d = hit + strlen(tag);
        const char *end = d;
        while (g_ascii_isdigit(*end))
            end++;
        if (*end == '"' && end > d) {
            g_string_append_len(out, d, end - d);
            p = end + 1;
        } else {
            g_string_append_len(out, hit, d - hit);
            p = d;
        }
    }
    g_string_append(out, p);
    return g_string_free(out, FALSE);
}
