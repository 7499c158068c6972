/* config_parse - see config_parse.h. */
#include "config/config_parse.h"

#include <stdbool.h>
#include <string.h>

struct pending_key {
    char *section;
    char *key;
    GString *value;
    int line;
};

static size_t indent_of(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static bool is_blank(const char *s, size_t len)
{
    return indent_of(s, len) == len;
}

/* textwrap.dedent: the longest whitespace prefix shared by all non-blank
 * lines (lines of only whitespace do not count; tabs and spaces differ). */
static size_t common_indent(const char *text, size_t len)
{
    const char *margin = NULL;
    size_t mlen = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!is_blank(p, n)) {
            size_t ind = indent_of(p, n);
            if (margin == NULL) {
                margin = p;
                mlen = ind;
            } else {
                size_t i = 0;
                while (i < mlen && i < ind && p[i] == margin[i])
                    i++;
                mlen = i;
            }
        }
        p += n + 1;
    }
    return mlen;
}

static void flush_key(struct pending_key *pk, config_parse_fn *fn, void *ctx)
{
    if (pk->key == NULL)
        return;
    /* RawConfigParser joins with '\n' and strips trailing whitespace. */
    while (pk->value->len > 0 && g_ascii_isspace(pk->value->str[pk->value->len - 1]))
        g_string_truncate(pk->value, pk->value->len - 1);
    fn(ctx, pk->section, pk->key, pk->value->str, pk->line);
    g_clear_pointer(&pk->key, g_free);
    g_string_truncate(pk->value, 0);
}

static void add_error(GPtrArray *errors, const char *file, int line, const char *msg,
                      const char *text, size_t n)
{
    g_ptr_array_add(
        errors, g_strdup_printf("%s:%d: %s: %.*s", file, line, msg, (int)(n > 80 ? 80 : n), text));
}

int config_parse_text(const char *text, size_t len, const char *filename, config_parse_fn *fn,
                      void *ctx, GPtrArray *errors)
{
    guint errors_before = errors->len;
    if (memchr(text, '\0', len) != NULL) {
        g_ptr_array_add(errors, g_strdup_printf("%s: contains a NUL byte", filename));
        return -1;
    }
    size_t dedent = common_indent(text, len);
    struct pending_key pk = {.value = g_string_new(NULL)};
    char *section = NULL;
    size_t indent_level = 0;
    int lineno = 0;
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p += n + 1;
        lineno++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        /* Dedent: every non-blank line starts with the common prefix. */
        if (!is_blank(line, n)) {
            line += dedent;
            n -= dedent;
        }
        size_t ind = indent_of(line, n);
        const char *s = line + ind;
        size_t sn = n - ind;
        while (sn > 0 && g_ascii_isspace(s[sn - 1]))
            sn--;

        if (sn == 0) {
            /* A blank line belongs to a value being continued. */
            if (pk.key != NULL)
                g_string_append_c(pk.value, '\n');
            continue;
        }
        if (s[0] == '#' || s[0] == ';')
            continue;
        if (pk.key != NULL && ind > indent_level) {
            g_string_append_c(pk.value, '\n');
            g_string_append_len(pk.value, s, (gssize)sn);
            continue;
        }
        indent_level = ind;
        flush_key(&pk, fn, ctx);
        const char *close = sn > 2 && s[0] == '[' ? memrchr(s, ']', sn) : NULL;
        if (close != NULL && close > s + 1) {
            g_free(section);
            section = g_strndup(s + 1, (gsize)(close - s - 1));
            continue;
        }
        if (section == NULL) {
            add_error(errors, filename, lineno, "line before any [section]", s, sn);
            continue;
        }
        size_t sep = strcspn(s, ":=");
        if (sep >= sn) {
            add_error(errors, filename, lineno, "expected 'key: value' or 'key = value'", s, sn);
            continue;
        }
        size_t klen = sep;
        while (klen > 0 && g_ascii_isspace(s[klen - 1]))
            klen--;
        if (klen == 0) {
            add_error(errors, filename, lineno, "empty key", s, sn);
            continue;
        }
        const char *v = s + sep + 1;
        const char *vend = s + sn;
        while (v < vend && g_ascii_isspace(*v))
            v++;
        pk.section = section;
        pk.key = g_ascii_strdown(s, (gssize)klen);
        pk.line = lineno;
        g_string_append_len(pk.value, v, vend - v);
    }
    flush_key(&pk, fn, ctx);
    g_string_free(pk.value, TRUE);
    g_free(section);
    return errors->len > errors_before ? -1 : 0;
}
