/* notice - see notice.h. */
#include "mail/notice.h"

#include <glib.h>
#include <gmime/gmime.h>
#include <stdbool.h>
#include <string.h>

static void notice_gmime_init(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s > 127)
            return false;
    return true;
}

/* A message with From, To (to_header, or every recipient), Subject, Date,
 * Message-ID and Precedence: bulk, and no body yet. */
static GMimeMessage *notice_new(const char *from, const char *to_header,
                                const char *const *recipients, const char *subject,
                                const char *hostname)
{
    notice_gmime_init();
    GMimeMessage *msg = g_mime_message_new(TRUE);
    InternetAddressList *fl = internet_address_list_parse(NULL, from);
    if (fl) {
        internet_address_list_append(g_mime_message_get_from(msg), fl);
        g_object_unref(fl);
    }
    const char *single[] = {to_header, NULL};
    for (const char *const *r = to_header ? single : recipients; *r; r++) {
        InternetAddressList *tl = internet_address_list_parse(NULL, *r);
        if (tl) {
            internet_address_list_append(g_mime_message_get_to(msg), tl);
            g_object_unref(tl);
        }
    }
    g_mime_message_set_subject(msg, subject, "utf-8");
    GDateTime *now = g_date_time_new_now_local();
    g_mime_message_set_date(msg, now);
    g_date_time_unref(now);
    char *id = g_mime_utils_generate_message_id(hostname);
    g_mime_message_set_message_id(msg, id);
    g_free(id);
    g_mime_object_set_header(GMIME_OBJECT(msg), "Precedence", "bulk", NULL);
    return msg;
}

static char *notice_serialize(GMimeMessage *msg, size_t *len_r)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    char *out = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    *len_r = strlen(out);
    return out;
}

char *notice_build(const char *from, const char *const *recipients, const char *subject,
                   const char *text, const char *hostname, size_t *len_r)
{
    GMimeMessage *msg = notice_new(from, NULL, recipients, subject, hostname);
    GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(part, text);
    g_mime_text_part_set_charset(part, is_ascii(text) ? "us-ascii" : "utf-8");
    g_mime_part_set_content_encoding(GMIME_PART(part), is_ascii(text)
                                                           ? GMIME_CONTENT_ENCODING_7BIT
                                                           : GMIME_CONTENT_ENCODING_8BIT);
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
    g_object_unref(part);
    return notice_serialize(msg, len_r);
}

char *notice_build_with_message(const char *from, const char *to_header,
                                const char *const *recipients, const char *subject,
                                const char *text, const char *attached, size_t attached_len,
                                const char *hostname, size_t *len_r)
{
    GMimeMessage *msg = notice_new(from, to_header, recipients, subject, hostname);
    GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
    GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(part, text);
    g_mime_text_part_set_charset(part, is_ascii(text) ? "us-ascii" : "utf-8");
    g_mime_multipart_add(mixed, GMIME_OBJECT(part));
    g_object_unref(part);

    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(attached, attached_len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *inner = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    if (inner != NULL) {
        GMimeMessagePart *mp = g_mime_message_part_new_with_message("rfc822", inner);
        g_mime_multipart_add(mixed, GMIME_OBJECT(mp));
        g_object_unref(mp);
        g_object_unref(inner);
    }
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
    g_object_unref(mixed);
    return notice_serialize(msg, len_r);
}

static void fill(GString *out, GString *para, size_t column)
{
    if (para->len == 0)
        return;
    g_auto(GStrv) words = g_strsplit_set(para->str, " \n\t", -1);
    size_t col = 0;
    for (char **w = words; *w; w++) {
        size_t n = strlen(*w);
        if (n == 0)
            continue;
        if (col > 0 && col + 1 + n > column) {
            g_string_append_c(out, '\n');
            col = 0;
        } else if (col > 0) {
            g_string_append_c(out, ' ');
            col++;
        }
        g_string_append(out, *w);
        col += n;
    }
    g_string_append_c(out, '\n');
    g_string_truncate(para, 0);
}

char *notice_wrap(const char *text, size_t column)
{
    GString *out = g_string_new(NULL);
    GString *para = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(lines);
    for (guint i = 0; i < n; i++) {
        const char *line = lines[i];
        bool last = i + 1 == n;
        if (*line == '\0' || *line == ' ' || *line == '\t') {
            fill(out, para, column);
            if (!(last && *line == '\0')) {
                g_string_append(out, line);
                g_string_append_c(out, '\n');
            }
            continue;
        }
        if (para->len)
            g_string_append_c(para, ' ');
        g_string_append(para, line);
    }
    fill(out, para, column);
    g_string_free(para, TRUE);
    return g_string_free(out, FALSE);
}
