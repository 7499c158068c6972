/* bounce - see bounce.h. */
#include "bounce/bounce.h"

#include "lib/regex.h"
#include "mail/gmime_safe.h"

#include <gmime/gmime.h>
#include <stdbool.h>
#include <string.h>

static void bounce_gmime_init(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

static GMimeMessage *parse(const char *msg, size_t len)
{
    bounce_gmime_init();
    return gmime_safe_message_parse(msg, len);
}

static GHashTable *new_set(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static GHashTable *verp_scan(const char *msg, size_t len, const GRegex *verp_re,
                             const char *bounces_local, bool probe)
{
    static const char *const headers[] = {"To", "Delivered-To", "Envelope-To", "Apparently-To"};
    GHashTable *found = new_set();
    GMimeMessage *m = parse(msg, len);
    if (m == NULL)
        return found;
    GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
    int n = g_mime_header_list_get_count(hl);
    for (int i = 0; i < n; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);
        bool wanted = false;
        for (size_t k = 0; k < G_N_ELEMENTS(headers) && !wanted; k++)
            wanted = g_ascii_strcasecmp(name, headers[k]) == 0;
        const char *value = wanted ? g_mime_header_get_value(h) : NULL;
        if (value == NULL)
            continue;
        /* parseaddr(): the first address of the field. */
        InternetAddressList *al = gmime_safe_address_list_parse(value);
        if (al == NULL)
            continue;
        InternetAddress *a =
            internet_address_list_length(al) > 0 ? internet_address_list_get_address(al, 0) : NULL;
        const char *addr = a && INTERNET_ADDRESS_IS_MAILBOX(a)
                               ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a))
                               : NULL;
        GMatchInfo *mi = NULL;
        if (addr && *addr && g_utf8_validate(addr, -1, NULL) &&
            g_regex_match(verp_re, addr, 0, &mi)) {
            g_autofree char *bl = g_match_info_fetch_named(mi, "bounces");
            if (probe) {
                g_autofree char *token = g_match_info_fetch_named(mi, "token");
                if (bl && token && *token && strcmp(bl, bounces_local) == 0)
                    g_hash_table_add(found, g_ascii_strdown(token, -1));
            } else {
                g_autofree char *local = g_match_info_fetch_named(mi, "local");
                g_autofree char *domain = g_match_info_fetch_named(mi, "domain");
                if (bl && local && domain && *local && *domain && strcmp(bl, bounces_local) == 0)
                    g_hash_table_add(found, g_strdup_printf("%s@%s", local, domain));
            }
        }
        if (mi)
            g_match_info_free(mi);
        g_object_unref(al);
    }
    g_object_unref(m);
    return found;
}

GHashTable *bounce_verp(const char *msg, size_t len, const GRegex *verp_re,
                        const char *bounces_local)
{
    return verp_scan(msg, len, verp_re, bounces_local, false);
}

GHashTable *bounce_verp_probe(const char *msg, size_t len, const GRegex *probe_re,
                              const char *bounces_local)
{
    return verp_scan(msg, len, probe_re, bounces_local, true);
}

/* One "Name: value" field of a block, unfolded; NULL when absent. */
static char *block_field(const char *block, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = block;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n > nlen && g_ascii_strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            GString *v = g_string_new_len(p + nlen + 1, (gssize)(n - nlen - 1));
            /* continuation lines */
            while (eol && (eol[1] == ' ' || eol[1] == '\t')) {
                const char *c = eol + 1;
                eol = strchr(c, '\n');
                g_string_append_len(v, c, eol ? eol - c : (gssize)strlen(c));
            }
            g_strstrip(v->str);
            return g_string_free(v, FALSE);
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

/* flufl's get_params(): ';'-separated tokens; "rfc822" marks the type and
 * the others are addresses; without the type only "<addr>" tokens count. */
static bool recipient_from(const char *value, GHashTable *set)
{
    g_auto(GStrv) tokens = g_strsplit(value, ";", -1);
    bool typed = false;
    GPtrArray *params = g_ptr_array_new();
    for (char **t = tokens; *t; t++) {
        g_strstrip(*t);
        if (**t == '\0')
            continue;
        if (g_ascii_strcasecmp(*t, "rfc822") == 0)
            typed = true;
        else
            g_ptr_array_add(params, *t);
    }
    for (guint i = 0; i < params->len; i++) {
        char *p = params->pdata[i];
        size_t n = strlen(p);
        if (p[0] == '<' && n > 1 && p[n - 1] == '>') {
            g_hash_table_add(set, g_strndup(p + 1, n - 2));
        } else if (typed) {
            g_hash_table_add(set, g_strdup(p));
        }
    }
    g_ptr_array_free(params, TRUE);
    return typed;
}

void bounce_dsn_parse_status(const char *text, size_t len, struct bounce_dsn *r)
{
    if (text == NULL || len == 0)
        return; /* an empty part (GMime gives no buffer at all) */
    /* Blocks are separated by empty lines; CRLF is read as LF. */
    g_autofree char *copy = g_strndup(text, len);
    for (char *c = copy; *c; c++)
        if (*c == '\r')
            *c = ' ';
    /* Split on blank lines by hand: the text may be any bytes (GRegex
     * gives up on invalid UTF-8). */
    GPtrArray *blocks = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);
    for (char *line = copy, *next; line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        if (strspn(line, " \t") == strlen(line)) {
            if (cur->len) {
                g_ptr_array_add(blocks, g_strdup(cur->str));
                g_string_truncate(cur, 0);
            }
            continue;
        }
        g_string_append(cur, line);
        g_string_append_c(cur, '\n');
    }
    if (cur->len)
        g_ptr_array_add(blocks, g_strdup(cur->str));
    g_string_free(cur, TRUE);
    g_ptr_array_add(blocks, NULL);
    for (char **b = (char **)blocks->pdata; *b; b++) {
        g_autofree char *action = block_field(*b, "Action");
        if (action == NULL)
            continue;
        g_autofree char *lower = g_ascii_strdown(action, -1);
        GHashTable *set = NULL;
        if (g_str_has_prefix(lower, "delayed"))
            set = r->temporary;
        else if (g_str_has_prefix(lower, "fail") || g_str_has_prefix(lower, "error"))
            set = r->permanent;
        else
            continue;
        g_autofree char *orig = block_field(*b, "Original-Recipient");
        if (orig && recipient_from(orig, set))
            continue;
        g_autofree char *final = block_field(*b, "Final-Recipient");
        if (final)
            recipient_from(final, set);
    }
    g_ptr_array_free(blocks, TRUE);
}

void bounce_dsn(const char *msg, size_t len, struct bounce_dsn *r)
{
    r->permanent = new_set();
    r->temporary = new_set();
    GMimeMessage *m = parse(msg, len);
    if (m == NULL)
        return;
    GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(m));
    int seen = 0;
    if (g_mime_part_iter_is_valid(it)) {
        do {
            GMimeObject *part = g_mime_part_iter_get_current(it);
            GMimeContentType *ct = g_mime_object_get_content_type(part);
            if (GMIME_IS_PART(part) && ct &&
                g_mime_content_type_is_type(ct, "message", "delivery-status")) {
                GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(part));
                GMimeStream *out = g_mime_stream_mem_new();
                if (dw)
                    g_mime_data_wrapper_write_to_stream(dw, out);
                GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
                bounce_dsn_parse_status((const char *)bytes->data, bytes->len, r);
                g_object_unref(out);
            }
        } while (++seen < BOUNCE_MAX_PARTS && g_mime_part_iter_next(it));
    }
    g_mime_part_iter_free(it);
    g_object_unref(m);
}

void bounce_dsn_clear(struct bounce_dsn *r)
{
    g_clear_pointer(&r->permanent, g_hash_table_unref);
    g_clear_pointer(&r->temporary, g_hash_table_unref);
}
