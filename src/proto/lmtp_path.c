/* lmtp_path - MAIL/RCPT argument parsing: path and ESMTP parameters. */
#include "proto/lmtp_path.h"

#include <stdbool.h>
#include <string.h>

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Scans a bracketed path starting after '<'; returns the index of the
 * closing '>' in s, or -1. Quoted strings may hold '>' and spaces. */
static gssize scan_bracketed(const char *s, char **error_r)
{
    bool quoted = false;
    for (gssize i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_ctl(c)) {
            *error_r = g_strdup("control character in address");
            return -1;
        }
        if (c == '\\') {
            /* RFC 5321 quoted-pairSMTP: backslash then any printable. */
            if (s[i + 1] == '\0' || is_ctl((unsigned char)s[i + 1]))
                break;
            i++;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && c == '>') {
            return i;
        } else if (!quoted && (c == '<' || c == ' ')) {
            *error_r = g_strdup_printf("unexpected '%c' in address", c);
            return -1;
        }
    }
    *error_r = g_strdup(quoted ? "unterminated quoted string" : "missing '>'");
    return -1;
}

/* RFC 5321 §4.1.2: esmtp-keyword ["=" esmtp-value]. */
static bool param_ok(const char *p)
{
    const char *value;
    size_t klen = lmtp_path_param_split(p, &value);
    if (klen == 0 || !g_ascii_isalnum(p[0]))
        return false;
    for (size_t i = 1; i < klen; i++) {
        if (!g_ascii_isalnum(p[i]) && p[i] != '-')
            return false;
    }
    if (value == NULL)
        return true;
    if (*value == '\0')
        return false;
    for (const char *v = value; *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;
        if (c < 33 || c > 126 || c == '=')
            return false;
    }
    return true;
}

size_t lmtp_path_param_split(const char *param, const char **value_r)
{
    const char *eq = strchr(param, '=');
    *value_r = eq != NULL ? eq + 1 : NULL;
    return eq != NULL ? (size_t)(eq - param) : strlen(param);
}

static int parse_params(const char *s, GPtrArray *params, char **error_r)
{
    while (*s != '\0') {
        if (*s == ' ') {
            s++;
            continue;
        }
        size_t n = strcspn(s, " ");
        char *p = g_strndup(s, n);
        if (!param_ok(p)) {
            *error_r = g_strdup_printf("malformed parameter \"%s\"", p);
            g_free(p);
            return -1;
        }
        g_ptr_array_add(params, p);
        s += n;
    }
    return 0;
}

int lmtp_path_parse(const char *args, const char *keyword, struct lmtp_path *path, char **error_r)
{
    size_t klen = strlen(keyword);
    path->address = NULL;
    path->params = g_ptr_array_new_with_free_func(g_free);
    if (g_ascii_strncasecmp(args, keyword, klen) != 0 || args[klen] != ':') {
        *error_r = g_strdup_printf("expected \"%s:\"", keyword);
        goto fail;
    }
    const char *s = args + klen + 1;
    while (*s == ' ')
        s++;
    const char *addr;
    size_t alen;
    if (*s == '<') {
        gssize end = scan_bracketed(s + 1, error_r);
        if (end < 0)
            goto fail;
        addr = s + 1;
        alen = (size_t)end;
        s += end + 2;
    } else {
        /* No brackets: the path runs to the first space. */
        alen = strcspn(s, " ");
        addr = s;
        s += alen;
        if (alen == 0) {
            *error_r = g_strdup("missing address");
            goto fail;
        }
        for (size_t i = 0; i < alen; i++) {
            if (is_ctl((unsigned char)addr[i]) || addr[i] == '<' || addr[i] == '>') {
                *error_r = g_strdup("bad character in address");
                goto fail;
            }
        }
    }
    if (*s != '\0' && *s != ' ') {
        *error_r = g_strdup("garbage after address");
        goto fail;
    }
    /* RFC 5321 §4.1.1.3: servers accept and ignore a source route. */
    if (alen > 0 && addr[0] == '@') {
        const char *colon = memchr(addr, ':', alen);
        if (colon == NULL) {
            *error_r = g_strdup("source route without ':'");
            goto fail;
        }
        alen -= (size_t)(colon + 1 - addr);
        addr = colon + 1;
    }
    if (parse_params(s, path->params, error_r) < 0)
        goto fail;
    path->address = g_strndup(addr, alen);
    return 0;
fail:
    lmtp_path_clear(path);
    return -1;
}

void lmtp_path_clear(struct lmtp_path *path)
{
    g_clear_pointer(&path->address, g_free);
    g_clear_pointer(&path->params, g_ptr_array_unref);
}
