/* post_recipients - see post_recipients.h. */
#include "post/post_recipients.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct post_recipients {
    GString *buf; /* the addresses, each followed by a NUL */
    GArray *offs; /* guint32: where each starts in buf */
};

struct post_recipients *post_recipients_new(void)
{
    struct post_recipients *r = g_new0(struct post_recipients, 1);
    r->buf = g_string_sized_new(4096);
    r->offs = g_array_new(FALSE, FALSE, sizeof(guint32));
    return r;
}

void post_recipients_add(struct post_recipients *r, const char *email, size_t len)
{
    if (r->buf->len + len + 1 > UINT32_MAX)
        g_error("post_recipients: more than 4 GiB of addresses");
    guint32 off = (guint32)r->buf->len;
    g_array_append_val(r->offs, off);
    g_string_append_len(r->buf, email, (gssize)len);
    g_string_append_c(r->buf, '\0');
}

size_t post_recipients_count(const struct post_recipients *r)
{
    return r->offs->len;
}

static gint compare(gconstpointer a, gconstpointer b, gpointer base)
{
    const char *s = base;
    return strcmp(s + *(const guint32 *)a, s + *(const guint32 *)b);
}

char *post_recipients_finish(struct post_recipients *r, size_t *len_r)
{
    guint n = r->offs->len;
    const char *base = r->buf->str;
    /* strcmp on UTF-8 is SQLite's BINARY collation: the order of ORDER BY
     * email. Equal addresses cannot occur (one member row per address),
     * so an unstable sort is as good as a stable one. */
    g_qsort_with_data(r->offs->data, (gint)n, sizeof(guint32), compare, (gpointer)base);
    /* buf holds each address plus a NUL: the joined list needs one byte
     * less in all. */
    size_t len = r->buf->len > 0 ? r->buf->len - 1 : 0;
    char *out = g_malloc(len + 1), *o = out;
    for (guint i = 0; i < n; i++) {
        const char *s = base + g_array_index(r->offs, guint32, i);
        size_t l = strlen(s);
        if (i > 0)
            *o++ = '\n';
        memcpy(o, s, l);
        o += l;
    }
    *o = '\0';
    *len_r = (size_t)(o - out);
    post_recipients_free(r);
    return out;
}

void post_recipients_free(struct post_recipients *r)
{
    if (r == NULL)
        return;
    g_string_free(r->buf, TRUE);
    g_array_free(r->offs, TRUE);
    g_free(r);
}
