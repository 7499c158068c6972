/* pmsg - see pmsg.h. */
#include "post/pmsg.h"

#include "mail/address.h"
#include "mail/gmime_safe.h"

#include <gmime/gmime.h>
#include <string.h>

void pmsg_gmime_init(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        g_mime_init();
        g_once_init_leave(&once, 1);
    }
}

static void field_free(gpointer p)
{
    struct pmsg_field *f = p;
    g_free(f->name);
    g_free(f->value);
    g_free(f);
}

static void add_field(struct pmsg *m, const char *raw, size_t n)
{
    /* Fields are C strings: a NUL byte (which intake lets through) would cut
     * a field short, and a field whose name starts with one would come out
     * as an empty line that ends the header block early. NULs become '?'
     * (not white space, which would make a new field a continuation). */
    g_autofree char *line = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        line[i] = raw[i] == '\0' ? '?' : raw[i];
    line[n] = '\0';
    struct pmsg_field *f = g_new0(struct pmsg_field, 1);
    const char *colon = memchr(line, ':', n);
    if (colon) {
        f->name = g_strndup(line, (gsize)(colon - line));
        f->value = g_strndup(colon + 1, n - (size_t)(colon - line) - 1);
    } else {
        /* Intake refuses such lines; keep one whole if it ever comes. */
        f->name = g_strndup(line, n);
    }
    g_ptr_array_add(m->fields, f);
}

/* The field from start to stop, less its line end: every CR and LF at its
 * end, so that a field reads the same wherever it stands and however its
 * lines ended (serialized, it ends with one LF). A line of CRs only is no
 * field. */
static void end_field(struct pmsg *m, const char *start, const char *stop)
{
    while (stop > start && (stop[-1] == '\n' || stop[-1] == '\r'))
        stop--;
    if (stop > start)
        add_field(m, start, (size_t)(stop - start));
}

struct pmsg *pmsg_parse(const char *msg, size_t len)
{
    struct pmsg *m = g_new0(struct pmsg, 1);
    m->fields = g_ptr_array_new_with_free_func(field_free);
    const char *p = msg, *end = msg + len, *start = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == 0) { /* the empty line */
            p = nl ? nl + 1 : end;
            break;
        }
        if ((*p == ' ' || *p == '\t') && start) {
            /* a continuation: the field goes on */
        } else {
            if (start)
                end_field(m, start, p);
            start = p;
        }
        p = nl ? nl + 1 : end;
    }
    if (start) /* p is after the empty line (or at end) */
        end_field(m, start, p);
    m->body_len = (size_t)(end - p);
    /* msg need not be NUL-terminated: copy len bytes, add the NUL */
    m->body = g_malloc(m->body_len + 1);
    memcpy(m->body, p, m->body_len);
    m->body[m->body_len] = '\0';
    return m;
}

void pmsg_free(struct pmsg *m)
{
    if (m == NULL)
        return;
    g_ptr_array_unref(m->fields);
    g_free(m->body);
    g_free(m);
}

char *pmsg_serialize(const struct pmsg *m, size_t *len_r)
{
    GString *s = g_string_sized_new(m->body_len + 4096);
    for (guint i = 0; i < m->fields->len; i++) {
        const struct pmsg_field *f = m->fields->pdata[i];
        g_string_append(s, f->name);
        if (f->value) {
            g_string_append_c(s, ':');
            g_string_append(s, f->value);
        }
        g_string_append_c(s, '\n');
    }
    g_string_append_c(s, '\n');
    g_string_append_len(s, m->body, (gssize)m->body_len);
    *len_r = s->len;
    return g_string_free(s, FALSE);
}

static bool is(const struct pmsg_field *f, const char *name)
{
    return f->value && g_ascii_strcasecmp(f->name, name) == 0;
}

const char *pmsg_get_raw(const struct pmsg *m, const char *name)
{
    for (guint i = 0; i < m->fields->len; i++)
        if (is(m->fields->pdata[i], name))
            return ((struct pmsg_field *)m->fields->pdata[i])->value;
    return NULL;
}

static char *decode(const char *raw)
{
    pmsg_gmime_init();
    g_autofree char *unfolded = g_mime_utils_header_unfold(raw);
    if (!g_utf8_validate(unfolded, -1, NULL)) {
        /* 8-bit junk: keep what is ASCII */
        for (char *q = unfolded; *q; q++)
            if ((unsigned char)*q >= 0x80)
                *q = '?';
    }
    char *d = g_mime_utils_header_decode_text(NULL, unfolded);
    return g_strstrip(d);
}

char *pmsg_get(const struct pmsg *m, const char *name)
{
    const char *raw = pmsg_get_raw(m, name);
    return raw ? decode(raw) : NULL;
}

char **pmsg_get_all(const struct pmsg *m, const char *name)
{
    GPtrArray *v = g_ptr_array_new();
    for (guint i = 0; i < m->fields->len; i++) {
        const struct pmsg_field *f = m->fields->pdata[i];
        if (is(f, name))
            g_ptr_array_add(v, decode(f->value));
    }
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(v, FALSE);
}

bool pmsg_has(const struct pmsg *m, const char *name)
{
    return pmsg_get_raw(m, name) != NULL;
}

unsigned pmsg_remove(struct pmsg *m, const char *name)
{
    unsigned n = 0;
    for (guint i = m->fields->len; i-- > 0;)
        if (is(m->fields->pdata[i], name)) {
            g_ptr_array_remove_index(m->fields, i);
            n++;
        }
    return n;
}

void pmsg_append(struct pmsg *m, const char *name, const char *value)
{
    struct pmsg_field *f = g_new0(struct pmsg_field, 1);
    f->name = g_strdup(name);
    f->value = g_strconcat(" ", value, NULL);
    g_ptr_array_add(m->fields, f);
}

/* A word that cannot stand as it is in a header: 8-bit or control bytes,
 * or text that reads as an encoded-word ("=?...?=") and would be decoded. */
static bool needs_encoding(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c < 0x20 || c >= 0x7f || (c == '=' && i + 1 < n && w[i + 1] == '?'))
            return true;
    }
    return false;
}

/* Appends text to the field being folded: on a new line when the current
 * one would pass 76 characters (RFC 2047 §2). lead is the white space
 * before text: kept (a fold goes before it), or a fold's own space between
 * encoded-words, which a decoder drops (§6.2). */
static void fold_add(GString *out, size_t *col, const char *lead, size_t lead_len, const char *text,
                     size_t len)
{
    if (*col + lead_len + len > 76 && *col > 1) {
        g_string_append_c(out, '\n');
        *col = 0;
        if (lead_len == 0) {
            lead = " ";
            lead_len = 1;
        }
    }
    g_string_append_len(out, lead, (gssize)lead_len);
    g_string_append_len(out, text, (gssize)len);
    *col += lead_len + len;
}

/* A run of words as Q encoded-words (§4.2) of at most 20 bytes each, cut
 * between UTF-8 characters. Q rather than B: a B word padded with '=' in
 * the middle of a run is lost by GMime's decoder, which joins the words of
 * a run before decoding (so GMime's own encoder cannot be used: its long
 * runs of B words read back short). */
static void encode_run(GString *out, size_t *col, const char *lead, size_t lead_len,
                       const char *run, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = MIN(len - i, 20);
        while (n > 1 && i + n < len && ((unsigned char)run[i + n] & 0xc0) == 0x80)
            n--;
        GString *w = g_string_new("=?utf-8?q?");
        for (size_t k = i; k < i + n; k++) {
            unsigned char c = (unsigned char)run[k];
            if (g_ascii_isalnum(c))
                g_string_append_c(w, (char)c);
            else if (c == ' ')
                g_string_append_c(w, '_');
            else
                g_string_append_printf(w, "=%02X", c);
        }
        g_string_append(w, "?=");
        if (i == 0)
            fold_add(out, col, lead, lead_len, w->str, w->len);
        else
            fold_add(out, col, " ", 1, w->str, w->len);
        g_string_free(w, TRUE);
        i += n;
    }
}

void pmsg_append_text(struct pmsg *m, const char *name, const char *value)
{
    /* Words that can stand as they are stay as they are (a "[Ant]" prefix
     * stays greppable, as Mailman keeps it); each run of words that
     * cannot, with the spaces inside it, becomes encoded-words. */
    GString *out = g_string_new(NULL);
    size_t col = strlen(name) + 1;
    const char *p = value, *end = value + strlen(value);
    while (p < end) {
        const char *ws = p;
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            break;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        /* the first word follows "Name:" after one space */
        const char *lead = out->len == 0 ? " " : ws;
        size_t lead_len = out->len == 0 ? 1 : (size_t)(w - ws);
        if (!needs_encoding(w, (size_t)(p - w))) {
            fold_add(out, &col, lead, lead_len, w, (size_t)(p - w));
            continue;
        }
        /* the run: the following words that need encoding too */
        const char *run_end = p;
        for (;;) {
            const char *q = run_end;
            while (q < end && *q == ' ')
                q++;
            const char *w2 = q;
            while (q < end && *q != ' ')
                q++;
            if (q == w2 || !needs_encoding(w2, (size_t)(q - w2)))
                break;
            run_end = q;
        }
        encode_run(out, &col, lead, lead_len, w, (size_t)(run_end - w));
        p = run_end;
    }
    struct pmsg_field *f = g_new0(struct pmsg_field, 1);
    f->name = g_strdup(name);
    f->value = out->len ? g_string_free(out, FALSE) : (g_string_free(out, TRUE), g_strdup(" "));
    g_ptr_array_add(m->fields, f);
}

GPtrArray *pmsg_addresses(const struct pmsg *m, const char *name)
{
    g_autoptr(GPtrArray) boxes = pmsg_mailboxes(m, name);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < boxes->len; i++)
        g_ptr_array_add(out, g_ascii_strdown(((struct pmsg_mailbox *)boxes->pdata[i])->addr, -1));
    return out;
}

GPtrArray *pmsg_senders(const struct pmsg *m, const char *sender_headers)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) names = g_strsplit_set(sender_headers, " \t", -1);
    for (char **n = names; *n; n++) {
        if (**n == '\0' || g_ascii_strcasecmp(*n, "from_") == 0)
            continue;
        g_autoptr(GPtrArray) a = pmsg_addresses(m, *n);
        for (guint i = 0; i < a->len; i++)
            if (address_is_valid(a->pdata[i]))
                g_ptr_array_add(out, g_strdup(a->pdata[i]));
    }
    return out;
}

static char *first_text(GMimeObject *o)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
            char *t = first_text(g_mime_multipart_get_part(mp, i));
            if (t)
                return t;
        }
        return NULL;
    }
    if (GMIME_IS_TEXT_PART(o)) {
        GMimeContentType *ct = g_mime_object_get_content_type(o);
        if (g_mime_content_type_is_type(ct, "text", "plain"))
            return g_mime_text_part_get_text(GMIME_TEXT_PART(o));
    }
    return NULL;
}

GMimeMessage *pmsg_to_gmime(const struct pmsg *m)
{
    pmsg_gmime_init();
    size_t len;
    g_autofree char *raw = pmsg_serialize(m, &len);
    return gmime_safe_message_parse(raw, len);
}

char *pmsg_first_text(const struct pmsg *m)
{
    GMimeMessage *msg = pmsg_to_gmime(m);
    char *t = NULL;
    if (msg) {
        GMimeObject *body = g_mime_message_get_mime_part(msg);
        if (body)
            t = first_text(body);
        g_object_unref(msg);
    }
    if (t && !g_utf8_validate(t, -1, NULL)) {
        char *v = g_utf8_make_valid(t, -1);
        g_free(t);
        t = v;
    }
    return t ? t : g_strdup("");
}

static void mailbox_free(gpointer p)
{
    struct pmsg_mailbox *b = p;
    g_free(b->name);
    g_free(b->addr);
    g_free(b);
}

static void collect_mailboxes(InternetAddressList *list, GPtrArray *out)
{
    for (int i = 0; list && i < internet_address_list_length(list); i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(a)) {
            collect_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out);
        } else if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
            if (addr == NULL || *addr == '\0')
                continue;
            struct pmsg_mailbox *b = g_new0(struct pmsg_mailbox, 1);
            const char *name = internet_address_get_name(a);
            b->name = g_strdup(name ? name : "");
            b->addr = g_strdup(addr);
            g_ptr_array_add(out, b);
        }
    }
}

GPtrArray *pmsg_mailboxes(const struct pmsg *m, const char *name)
{
    pmsg_gmime_init();
    GPtrArray *out = g_ptr_array_new_with_free_func(mailbox_free);
    for (guint i = 0; i < m->fields->len; i++) {
        const struct pmsg_field *f = m->fields->pdata[i];
        if (!is(f, name))
            continue;
        g_autofree char *unfolded = g_mime_utils_header_unfold(f->value);
        if (!g_utf8_validate(unfolded, -1, NULL))
            continue;
        InternetAddressList *l = gmime_safe_address_list_parse(unfolded);
        collect_mailboxes(l, out);
        if (l)
            g_object_unref(l);
    }
    return out;
}

char *pmsg_formataddr(const char *name, const char *addr)
{
    if (name == NULL || *name == '\0')
        return g_strdup(addr);
    bool ascii = true, special = false;
    for (const char *p = name; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            ascii = false;
        else if (strchr("()<>@,:;.\"[]\\", *p))
            special = true;
    }
    if (!ascii) {
        pmsg_gmime_init();
        g_autofree char *enc = g_mime_utils_header_encode_text(NULL, name, "utf-8");
        return g_strdup_printf("%s <%s>", enc, addr);
    }
    if (!special)
        return g_strdup_printf("%s <%s>", name, addr);
    GString *q = g_string_new("\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(q, '\\');
        g_string_append_c(q, *p);
    }
    g_string_append_printf(q, "\" <%s>", addr);
    return g_string_free(q, FALSE);
}

void pmsg_replace(struct pmsg *m, const char *msg, size_t len)
{
    struct pmsg *n = pmsg_parse(msg, len);
    g_ptr_array_unref(m->fields);
    g_free(m->body);
    *m = *n;
    g_free(n);
}

struct deep {
    const char *name;
    GPtrArray *out;
};

static void deep_part(GMimeObject *parent, GMimeObject *part, gpointer ud)
{
    struct deep *d = ud;
    GMimeHeaderList *hl = g_mime_object_get_header_list(part);
    for (int i = 0; hl && i < g_mime_header_list_get_count(hl); i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        if (g_ascii_strcasecmp(g_mime_header_get_name(h), d->name) != 0)
            continue;
        const char *v = g_mime_header_get_value(h);
        if (v && g_utf8_validate(v, -1, NULL))
            g_ptr_array_add(d->out, g_strstrip(g_strdup(v)));
    }
}

char **pmsg_get_all_parts(const struct pmsg *m, const char *name)
{
    g_auto(GStrv) top = pmsg_get_all(m, name);
    GPtrArray *out = g_ptr_array_new();
    for (char **p = top; *p; p++)
        g_ptr_array_add(out, g_strdup(*p));
    const char *ct = pmsg_get_raw(m, "Content-Type");
    GMimeMessage *msg = ct && strcasestr(ct, "multipart/") ? pmsg_to_gmime(m) : NULL;
    if (msg) {
        struct deep d = {name, out};
        g_mime_message_foreach(msg, deep_part, &d);
        g_object_unref(msg);
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}
