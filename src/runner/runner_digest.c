/* runner_digest - see runner_digest.h. */
#include "runner/runner_digest.h"

#include "config/config.h"
#include "lib/log.h"
#include "mail/gmime_safe.h"
#include "mail/notice.h"
#include "post/pmsg.h"
#include "post/post.h"
#include "queue/queue.h"
#include "runner/runner.h"
#include "runner/runner_post.h"
#include "store/store.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>
#include <unistd.h>

#define MMDF_SEP "\001\001\001\001\n"

GPtrArray *runner_digest_split_mmdf(const char *data, size_t len)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const size_t seplen = sizeof MMDF_SEP - 1;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *s = g_strstr_len(p, end - p, MMDF_SEP);
        const char *stop = s ? s : end;
        /* the text between a record's start and end marks; what lies
         * between one record's end and the next one's start is empty */
        if (stop > p && !(stop - p == 1 && *p == '\n'))
            g_ptr_array_add(out, g_strndup(p, (gsize)(stop - p)));
        p = s ? s + seplen : end;
    }
    return out;
}

/* One header's first value, RFC 2047-decoded, on one line (Mailman's
 * oneline()); NULL when absent. */
static char *header_oneline(GMimeObject *o, const char *name)
{
    const char *v = g_mime_object_get_header(o, name);
    if (v == NULL)
        return NULL;
    char *d = g_mime_utils_header_decode_text(NULL, v);
    char *w = d;
    for (const char *r = d; *r; r++)
        if (*r != '\r' && *r != '\n')
            *w++ = *r;
    *w = '\0';
    return d;
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static GMimeObject *text_part(const char *text, const char *description)
{
    GMimeTextPart *t = notice_text_part(text);
    g_mime_part_set_content_encoding(GMIME_PART(t), is_ascii(text) ? GMIME_CONTENT_ENCODING_7BIT
                                                                   : GMIME_CONTENT_ENCODING_BASE64);
    if (description)
        g_mime_object_set_header(GMIME_OBJECT(t), "Content-Description", description, "utf-8");
    return GMIME_OBJECT(t);
}

/* The subject without the list's subject_prefix (after an optional "Re:"),
 * as Mailman's table of contents shows it. */
static char *toc_subject(const char *subject, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (plen == 0)
        return g_strdup(subject);
    const char *p = subject;
    if (g_ascii_strncasecmp(p, "re", 2) == 0) {
        const char *q = p + 2;
        if (*q == ':')
            q++;
        while (*q == ' ')
            q++;
        if (g_ascii_strncasecmp(q, prefix, plen) == 0) {
            g_autofree char *re = g_strndup(p, (gsize)(q - p));
            return g_strconcat(re, q + plen, NULL);
        }
    }
    if (g_ascii_strncasecmp(p, prefix, plen) == 0)
        return g_strdup(p + plen);
    return g_strdup(subject);
}

/* One entry of "Today's Topics": " n. subject (author)", wrapped at 65. */
static void toc_add(GString *toc, GMimeMessage *m, unsigned n, const char *prefix)
{
    g_autofree char *subj = header_oneline(GMIME_OBJECT(m), "Subject");
    g_autofree char *shown = toc_subject(subj ? subj : "(no subject)", prefix);
    g_autofree char *who = NULL;
    g_autofree char *from = header_oneline(GMIME_OBJECT(m), "From");
    InternetAddressList *al = from ? gmime_safe_address_list_parse(from) : NULL;
    if (al && internet_address_list_length(al) > 0) {
        InternetAddress *a = internet_address_list_get_address(al, 0);
        const char *name = internet_address_get_name(a);
        if (name && *name)
            who = g_strdup_printf(" (%s)", name);
        else if (INTERNET_ADDRESS_IS_MAILBOX(a))
            who = g_strdup_printf(" (%s)",
                                  internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
    }
    if (al)
        g_object_unref(al);
    g_autofree char *entry = g_strdup_printf("%2u. %s", n, shown);
    g_autofree char *wrapped = notice_wrap(entry, 65);
    g_auto(GStrv) lines = g_strsplit(wrapped, "\n", -1);
    guint nl = g_strv_length(lines);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < nl; i++)
        g_ptr_array_add(out, g_strdup(lines[i]));
    if (who) {
        char *last = out->len ? out->pdata[out->len - 1] : NULL;
        if (last == NULL || g_utf8_strlen(last, -1) + g_utf8_strlen(who, -1) > 70) {
            g_ptr_array_add(out, g_strdup(who));
        } else {
            out->pdata[out->len - 1] = g_strconcat(last, who, NULL);
            g_free(last);
        }
    }
    for (guint i = 0; i < out->len; i++) {
        const char *line = out->pdata[i];
        if (i == 0)
            g_string_append_printf(toc, "  %s\n", line);
        else
            g_string_append_printf(toc, "      %s\n", g_strchug((char *)line));
    }
    g_ptr_array_unref(out);
}

/* Mailman's scrub(): the text/plain parts, the others replaced by a note. */
struct scrub_ctx {
    GString *text;
};

static void scrub_part(GMimeObject *parent, GMimeObject *part, gpointer ud)
{
    (void)parent;
    struct scrub_ctx *s = ud;
    if (!GMIME_IS_PART(part))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    g_autofree char *payload = NULL;
    if (ct == NULL || g_mime_content_type_is_type(ct, "text", "plain")) {
        payload =
            GMIME_IS_TEXT_PART(part) ? g_mime_text_part_get_text(GMIME_TEXT_PART(part)) : NULL;
        if (payload == NULL)
            payload = g_strdup("");
    } else {
        GMimeStream *mem = g_mime_stream_mem_new();
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
        if (w)
            g_mime_data_wrapper_write_to_stream(w, mem);
        gint64 size = g_mime_stream_length(mem);
        g_object_unref(mem);
        const char *fn = g_mime_part_get_filename(GMIME_PART(part));
        g_autofree char *desc = header_oneline(part, "Content-Description");
        g_autofree char *type = g_mime_content_type_get_mime_type(ct);
        payload = g_strdup_printf(
            "A message part incompatible with plain text digests has been "
            "removed ...\nName: %s\nType: %s\nSize: %" G_GINT64_FORMAT " bytes\nDesc: %s\n",
            fn ? fn : "not available", type, size, desc ? desc : "not available");
    }
    if (s->text->len > 0)
        g_string_append(s->text, "-------------- next part --------------\n");
    g_string_append(s->text, payload);
}

/* One post of the RFC 1153 digest: "Message: n", the kept headers, the
 * scrubbed body. */
static void plain_add(GString *t, GMimeMessage *m, unsigned n, char **keep)
{
    if (n > 1)
        g_string_append(t, "------------------------------\n\n");
    g_string_append_printf(t, "Message: %u\n", n);
    for (char **h = keep; *h; h++) {
        g_autofree char *v = header_oneline(GMIME_OBJECT(m), *h);
        if (v == NULL)
            continue;
        g_autofree char *line = g_strdup_printf("%s: %s", *h, v);
        g_autofree char *w = notice_wrap(line, 70);
        g_auto(GStrv) parts = g_strsplit(w, "\n", -1);
        g_autofree char *joined = g_strjoinv("\n\t", parts);
        g_string_append_printf(t, "%s\n", joined);
    }
    g_string_append_c(t, '\n');
    struct scrub_ctx s = {g_string_new(NULL)};
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (top && GMIME_IS_MULTIPART(top))
        g_mime_multipart_foreach(GMIME_MULTIPART(top), scrub_part, &s);
    else if (top)
        scrub_part(NULL, top, &s);
    g_string_append_printf(t, "%s\n", s.text->str);
    if (s.text->len == 0 || s.text->str[s.text->len - 1] != '\n')
        g_string_append_c(t, '\n');
    g_string_free(s.text, TRUE);
}

/* From -request, Subject, To and Reply-To the posting address, Date,
 * Message-ID. */
static GMimeMessage *digest_message(const struct store_list *l, const char *subject)
{
    GMimeMessage *msg = g_mime_message_new(TRUE);
    g_autofree char *request = g_strdup_printf("%s-request@%s", l->list_name, l->mail_host);
    g_mime_object_set_header(GMIME_OBJECT(msg), "From", request, NULL);
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_mime_object_set_header(GMIME_OBJECT(msg), "To", l->fqdn_listname, NULL);
    g_mime_object_set_header(GMIME_OBJECT(msg), "Reply-To", l->fqdn_listname, NULL);
    GDateTime *now = g_date_time_new_now_local();
    g_mime_message_set_date(msg, now);
    g_date_time_unref(now);
    g_autofree char *id = g_mime_utils_generate_message_id(l->mail_host);
    g_mime_message_set_message_id(msg, id);
    return msg;
}

static char *serialize(GMimeMessage *msg, size_t *len_r)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    char *out = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    *len_r = strlen(out);
    return out;
}

struct digest_rcpts {
    GString *mime, *plain;
    GHashTable *seen;
};

static int add_rcpt(const struct store_member *m, void *ud)
{
    struct digest_rcpts *d = ud;
    if (!g_hash_table_add(d->seen, g_strdup(m->email)))
        return 0;
    /* Mailman: summary digests are treated as MIME digests */
    GString *to = m->delivery_mode == STORE_DELIVERY_PLAINTEXT_DIGESTS ? d->plain : d->mime;
    g_string_append_printf(to, "%s%s", to->len ? "\n" : "", m->original_email);
    return 0;
}

static int send_digest(struct runner *r, const struct store_list *l, const char *recipients,
                       const char *msg, size_t len, char **error_r)
{
    if (*recipients == '\0')
        return 0;
    struct queue *q;
    if (queue_root_get(r->qroot, "virgin", &q, error_r) < 0)
        return -1;
    struct queue_meta *m = queue_meta_new();
    queue_meta_set(m, "listid", l->list_id);
    queue_meta_set(m, "recipients", recipients);
    queue_meta_set(m, "isdigest", "true");
    queue_meta_set(m, "nodecorate", "true");
    int rc = queue_enqueue(q, m, msg, len, NULL, error_r);
    queue_meta_free(m);
    return rc;
}

struct digests {
    GMimeMessage *mime;
    char *plain_text;
    char *subject;
};

static GMimeMessage *parse_post(const char *raw)
{
    GMimeMessage *m = gmime_safe_message_parse(raw, strlen(raw));
    return m ? m : g_mime_message_new(TRUE);
}

static void add_text(GMimeMultipart *mp, const char *text, const char *description)
{
    GMimeObject *part = text_part(text, description);
    g_mime_multipart_add(mp, part);
    g_object_unref(part);
}

/* Builds both digests from the posts (raw texts). */
static void build(struct runner *r, const struct store_list *l, GPtrArray *posts, const char *vol,
                  const char *num, struct digests *d)
{
    d->subject = g_strdup_printf("%s Digest, Vol %s, Issue %s", store_list_attr(l, "display_name"),
                                 vol, num);
    g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "got_list_email", g_strdup(l->fqdn_listname));
    g_hash_table_insert(vars, "got_request_email",
                        g_strdup_printf("%s-request@%s", l->list_name, l->mail_host));
    g_hash_table_insert(vars, "got_owner_email",
                        g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host));
    g_autofree char *mast_raw = post_template(r->cfg, l, "list:member:digest:masthead", vars);
    g_autofree char *masthead = notice_wrap(mast_raw, 70);
    g_autofree char *header = post_template(r->cfg, l, "list:member:digest:header", NULL);
    g_autofree char *footer = post_template(r->cfg, l, "list:member:digest:footer", NULL);
    const char *prefix = store_list_attr(l, "subject_prefix");

    GPtrArray *msgs = g_ptr_array_new_with_free_func(g_object_unref);
    GString *toc = g_string_new("Today's Topics:\n\n");
    for (guint i = 0; i < posts->len; i++) {
        GMimeMessage *m = parse_post(posts->pdata[i]);
        toc_add(toc, m, i + 1, prefix);
        g_ptr_array_add(msgs, m);
    }

    /* MIME */
    GMimeMultipart *top = g_mime_multipart_new_with_subtype("mixed");
    add_text(top, masthead, d->subject);
    if (*header)
        add_text(top, header, "Digest Header");
    g_autofree char *toc_desc = g_strdup_printf("Today's Topics (%u messages)", msgs->len);
    add_text(top, toc->str, toc_desc);
    GMimeMultipart *dig = g_mime_multipart_new_with_subtype("digest");
    for (guint i = 0; i < msgs->len; i++) {
        /* a copy: the RFC 1153 digest reads the original headers */
        GMimeMessage *copy = parse_post(posts->pdata[i]);
        g_autofree char *n = g_strdup_printf("%u", i + 1);
        g_mime_object_append_header(GMIME_OBJECT(copy), "Message", n, NULL);
        GMimeMessagePart *mp = g_mime_message_part_new_with_message("rfc822", copy);
        g_mime_multipart_add(dig, GMIME_OBJECT(mp));
        g_object_unref(mp);
        g_object_unref(copy);
    }
    g_mime_multipart_add(top, GMIME_OBJECT(dig));
    g_object_unref(dig);
    if (*footer)
        add_text(top, footer, "Digest Footer");
    g_autofree char *sign_off = g_strdup_printf("End of %s", d->subject);
    g_mime_multipart_set_epilogue(top, sign_off);
    d->mime = digest_message(l, d->subject);
    g_mime_message_set_mime_part(d->mime, GMIME_OBJECT(top));
    g_object_unref(top);

    /* RFC 1153 */
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "%s\n\n", masthead);
    if (*header)
        g_string_append_printf(t, "%s\n\n", header);
    g_string_append_printf(
        t, "%s\n\n----------------------------------------------------------------------\n\n",
        toc->str);
    g_auto(GStrv) keep =
        g_strsplit_set(config_get(r->cfg, "digests", "plain_digest_keep_headers"), " \t\n", -1);
    GPtrArray *kept = g_ptr_array_new();
    for (char **k = keep; *k; k++)
        if (**k)
            g_ptr_array_add(kept, *k);
    g_ptr_array_add(kept, NULL);
    for (guint i = 0; i < msgs->len; i++)
        plain_add(t, msgs->pdata[i], i + 1, (char **)kept->pdata);
    g_ptr_array_unref(kept);
    if (*footer)
        g_string_append_printf(t,
                               "------------------------------\n\nSubject: Digest Footer\n\n%s\n\n"
                               "------------------------------\n\n",
                               footer);
    g_string_append_printf(t, "%s\n", sign_off);
    for (glong i = g_utf8_strlen(sign_off, -1); i > 0; i--)
        g_string_append_c(t, '*');
    g_string_append_c(t, '\n');
    d->plain_text = g_string_free(t, FALSE);
    g_string_free(toc, TRUE);
    g_ptr_array_unref(msgs);
}

int runner_digest_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct store *st = runner_post_store(r);
    const char *listid = queue_meta_get(e->meta, "listid");
    const char *path = queue_meta_get(e->meta, "digest_path");
    const char *vol = queue_meta_get(e->meta, "volume");
    const char *num = queue_meta_get(e->meta, "digest_number");
    if (listid == NULL || path == NULL || vol == NULL || num == NULL) {
        *error_r = g_strdup("digest entry without listid, digest_path, volume or digest_number");
        return -1;
    }
    struct store_list *l = NULL;
    if (store_list_get(st, listid, &l, error_r) < 0)
        return store_error_temporary(st) ? RUNNER_RETRY : -1;
    if (l == NULL) {
        log_error("digest: list %s is gone; dropping %s", listid, path);
        return queue_finish(e, error_r);
    }
    struct digest_rcpts rc = {g_string_new(NULL), g_string_new(NULL),
                              g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    const struct store_roster_filter f = {
        .list_id = listid,
        .role_mask = STORE_MASK(STORE_ROLE_MEMBER),
        .delivery_mode_mask = STORE_MASK(STORE_DELIVERY_MIME_DIGESTS) |
                              STORE_MASK(STORE_DELIVERY_PLAINTEXT_DIGESTS) |
                              STORE_MASK(STORE_DELIVERY_SUMMARY_DIGESTS),
        .delivery_status_mask = STORE_MASK(STORE_DELIVERY_ENABLED),
    };
    int ret = -1;
    char *data = NULL;
    gsize dlen = 0;
    GError *gerr = NULL;
    struct digests d = {0};
    GPtrArray *posts = NULL;
    if (store_roster(st, &f, add_rcpt, &rc, error_r) < 0) {
        ret = store_error_temporary(st) ? RUNNER_RETRY : -1;
        goto out;
    }
    if (!g_file_get_contents(path, &data, &dlen, &gerr)) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            /* sent before a crash kept the entry from finishing */
            log_error("digest: %s is gone; nothing to send", path);
            g_error_free(gerr);
            ret = queue_finish(e, error_r);
            goto out;
        }
        *error_r = g_strdup_printf("cannot read %s: %s", path, gerr->message);
        g_error_free(gerr);
        goto out;
    }
    posts = runner_digest_split_mmdf(data, dlen);
    if (posts->len == 0) {
        log_error("digest: %s holds no messages", path);
    } else {
        pmsg_gmime_init();
        build(r, l, posts, vol, num, &d);
        size_t mlen;
        g_autofree char *mime = serialize(d.mime, &mlen);
        g_autofree char *plain = NULL;
        size_t plen = 0;
        GMimeMessage *pm = digest_message(l, d.subject);
        GMimeObject *body = text_part(d.plain_text, NULL);
        g_mime_message_set_mime_part(pm, body);
        g_object_unref(body);
        plain = serialize(pm, &plen);
        g_object_unref(pm);
        if (send_digest(r, l, rc.mime->str, mime, mlen, error_r) < 0 ||
            send_digest(r, l, rc.plain->str, plain, plen, error_r) < 0)
            goto out;
        log_to("mailman", LOG_LEVEL_INFO, "digest: %s %s sent to %u recipients", listid, d.subject,
               g_hash_table_size(rc.seen));
    }
    if (unlink(path) < 0 && errno != ENOENT)
        log_error("digest: cannot remove %s: %s", path, g_strerror(errno));
    ret = queue_finish(e, error_r);
out:
    if (d.mime)
        g_object_unref(d.mime);
    g_free(d.plain_text);
    g_free(d.subject);
    if (posts)
        g_ptr_array_unref(posts);
    g_free(data);
    g_string_free(rc.mime, TRUE);
    g_string_free(rc.plain, TRUE);
    g_hash_table_unref(rc.seen);
    store_list_free(l);
    return ret;
}
