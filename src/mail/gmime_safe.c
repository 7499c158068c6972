/* gmime_safe - see gmime_safe.h. */
#include "mail/gmime_safe.h"

#include <string.h>

unsigned gmime_safe_open_comments(const char *text, size_t len, bool *escape_r)
{
    /* Quoted strings and domain literals are not skipped: GMime's
     * recovery from a malformed one (an unterminated quote) can reach a
     * '(' inside it, and a ')' too many is harmless to it (it parses
     * "\"a (b\" <x@y.example>)" as the one mailbox). */
    unsigned depth = 0;
    bool escape = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (escape)
            escape = false;
        else if (c == '\\' && depth > 0) /* a quoted-pair, in a comment */
            escape = true;
        else if (c == '(')
            depth++;
        else if (c == ')' && depth > 0)
            depth--;
    }
    if (escape_r != NULL)
        *escape_r = escape;
    return depth;
}

/* What closes the comments open at the end of text; NULL for none. */
static const char *closing(const char *text, size_t len, GString *buf)
{
    bool escape;
    unsigned depth = gmime_safe_open_comments(text, len, &escape);
    if (depth == 0)
        return NULL;
    g_string_truncate(buf, 0);
    if (escape)
        g_string_append_c(buf, ' ');
    for (unsigned i = 0; i < depth; i++)
        g_string_append_c(buf, ')');
    return buf->str;
}

char *gmime_safe_close_comments(const char *text, size_t len)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    const char *close = closing(text, len, buf);
    if (close == NULL)
        return NULL;
    GString *out = g_string_new_len(text, (gssize)len);
    g_string_append(out, close);
    return g_string_free(out, FALSE);
}

InternetAddressList *gmime_safe_address_list_parse(const char *text)
{
    g_autofree char *closed = gmime_safe_close_comments(text, strlen(text));
    return internet_address_list_parse(NULL, closed != NULL ? closed : text);
}

/* The address fields GMime parses into a message's address lists. The
 * name is what precedes the colon, blanks before it ignored, as GMime
 * does ("To :"). */
static bool address_field(const char *name, size_t len)
{
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    static const char *const names[] = {
        "from",        "sender",        "reply-to",        "to",        "cc",        "bcc",
        "resent-from", "resent-sender", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (strlen(names[i]) == len && g_ascii_strncasecmp(name, names[i], len) == 0)
            return true;
    return false;
}

/* The end of the line at p (its LF, or end), and where the line's text
 * ends (before CR LF or LF). */
static const char *line_end(const char *p, const char *end, const char **text_end_r)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl != NULL ? nl : end;
    *text_end_r = e > p && e[-1] == '\r' ? e - 1 : e;
    return e;
}

char *gmime_safe_repair_headers(const char *raw, size_t len, size_t *len_r)
{
    const char *p = raw, *end = raw + len;
    GString *out = NULL;
    const char *copied = raw; /* raw before this is in out already */
    g_autoptr(GString) buf = g_string_new(NULL);
    g_autoptr(GString) value = g_string_new(NULL);
    while (p < end) {
        const char *text_end;
        const char *e = line_end(p, end, &text_end);
        if (text_end == p)
            break; /* the empty line: the body follows */
        const char *colon = memchr(p, ':', (size_t)(text_end - p));
        bool field = p[0] != ' ' && p[0] != '\t' && colon != NULL;
        const char *next = e < end ? e + 1 : end;
        if (!field || !address_field(p, (size_t)(colon - p))) {
            p = next;
            continue;
        }
        /* The field's value, unfolded, and the end of its last line. */
        g_string_assign(value, "");
        g_string_append_len(value, colon + 1, text_end - colon - 1);
        const char *last_text_end = text_end;
        while (next < end && (*next == ' ' || *next == '\t')) {
            e = line_end(next, end, &text_end);
            g_string_append_len(value, next, text_end - next);
            last_text_end = text_end;
            next = e < end ? e + 1 : end;
        }
        const char *close = closing(value->str, value->len, buf);
        if (close != NULL) {
            if (out == NULL)
                out = g_string_sized_new(len + 16);
            g_string_append_len(out, copied, last_text_end - copied);
            g_string_append(out, close);
            copied = last_text_end;
        }
        p = next;
    }
    if (out == NULL)
        return NULL;
    g_string_append_len(out, copied, end - copied);
    *len_r = out->len;
    return g_string_free(out, FALSE);
}

GMimeMessage *gmime_safe_message_parse(const char *raw, size_t len)
{
    size_t fixed_len = 0;
    g_autofree char *fixed = gmime_safe_repair_headers(raw, len, &fixed_len);
    GMimeStream *st = fixed != NULL ? g_mime_stream_mem_new_with_buffer(fixed, fixed_len)
                                    : g_mime_stream_mem_new_with_buffer(raw, len);
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
    g_object_unref(p);
    g_object_unref(st);
    return msg;
}
