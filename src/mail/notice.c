/* notice - see notice.h. */
#include "mail/notice.h"

#include "mail/gmime_safe.h"

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

static bool long_line(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (*s == '\n')
            n = 0;
        else if (++n > 998)
            return true;
    return false;
}

/* A message with From, To (to_header, or every recipient), Subject, Date,
 * Message-ID and Precedence: bulk, and no body yet. */
static GMimeMessage *notice_new(const char *from, const char *to_header,
                                const char *const *recipients, const char *subject,
                                const char *hostname)
{
    notice_gmime_init();
    GMimeMessage *msg = g_mime_message_new(TRUE);
    InternetAddressList *fl = gmime_safe_address_list_parse(from);
    if (fl) {
        internet_address_list_append(g_mime_message_get_from(msg), fl);
        g_object_unref(fl);
    }
    const char *single[] = {to_header, NULL};
    for (const char *const *r = to_header ? single : recipients; *r; r++) {
        InternetAddressList *tl = gmime_safe_address_list_parse(*r);
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

/* g_mime_text_part_set_text() would convert Latin-1-representable text to
 * ISO-8859-1, which then went out labelled utf-8. */
GMimeTextPart *notice_text_part(const char *text)
{
    GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(part), w);
    g_object_unref(w);
    g_object_unref(st);
    g_mime_text_part_set_charset(part, is_ascii(text) ? "us-ascii" : "utf-8");
    return part;
}

char *notice_build(const char *from, const char *const *recipients, const char *subject,
                   const char *text, const char *hostname, size_t *len_r)
{
    GMimeMessage *msg = notice_new(from, NULL, recipients, subject, hostname);
    GMimeTextPart *part = notice_text_part(text);
    /* RFC 5322 §2.1.1: no line over 998 octets; quoted-printable folds them
     * (a command's results can echo a 10,000-character line) */
    g_mime_part_set_content_encoding(GMIME_PART(part),
                                     long_line(text)  ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                                     : is_ascii(text) ? GMIME_CONTENT_ENCODING_7BIT
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
    GMimeTextPart *part = notice_text_part(text);
    g_mime_multipart_add(mixed, GMIME_OBJECT(part));
    g_object_unref(part);

    GMimeMessage *inner = gmime_safe_message_parse(attached, attached_len);
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

/* Python's textwrap.TextWrapper(width=column, break_on_hyphens=False,
 * fix_sentence_endings=True).fill(): runs of white space are kept between
 * words (each white space character becomes a space), a lower-case letter
 * and a full stop (or ! ?, maybe a quote) followed by one space get two,
 * white space is dropped at line ends and starts, words longer than a line
 * are cut. Lengths count characters, not bytes. */
static bool sentence_end(const char *w)
{
    size_t n = strlen(w);
    if (n > 0 && (w[n - 1] == '"' || w[n - 1] == '\''))
        n--;
    return n >= 2 && strchr(".!?", w[n - 1]) && w[n - 2] >= 'a' && w[n - 2] <= 'z';
}

static bool blank(const char *c)
{
    return *c == ' ';
}

static void fill(GString *out, const char *text, size_t column)
{
    /* str.expandtabs(), then every white space character a space */
    GString *munged = g_string_new(NULL);
    size_t col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\t') {
            do
                g_string_append_c(munged, ' ');
            while (++col % 8);
        } else {
            g_string_append_c(munged, g_ascii_isspace(*p) ? ' ' : *p);
            col = (*p == '\n' || *p == '\r') ? 0 : ((*p & 0xc0) == 0x80 ? col : col + 1);
        }
    }
    text = munged->str;
    /* chunks: alternating words and space runs, as re.split(r'(\s+)') */
    GPtrArray *chunks = g_ptr_array_new_with_free_func(g_free);
    for (const char *p = text; *p;) {
        bool ws = g_ascii_isspace(*p);
        const char *e = p;
        while (*e && (bool)g_ascii_isspace(*e) == ws)
            e++;
        g_ptr_array_add(chunks,
                        ws ? g_strnfill((gsize)(e - p), ' ') : g_strndup(p, (gsize)(e - p)));
        p = e;
    }
    for (guint i = 0; i + 1 < chunks->len; i++)
        if (strcmp(chunks->pdata[i + 1], " ") == 0 && sentence_end(chunks->pdata[i])) {
            g_free(chunks->pdata[i + 1]);
            chunks->pdata[i + 1] = g_strdup("  ");
            i++;
        }
    guint next = 0;
    bool first = true;
    while (next < chunks->len) {
        if (!first && blank(chunks->pdata[next]))
            next++;
        GString *line = g_string_new(NULL);
        size_t len = 0, last_len = 0;
        bool last_blank = false;
        while (next < chunks->len) {
            size_t l = g_utf8_strlen(chunks->pdata[next], -1);
            if (len + l > column)
                break;
            last_len = line->len;
            last_blank = blank(chunks->pdata[next]);
            g_string_append(line, chunks->pdata[next++]);
            len += l;
        }
        if (next < chunks->len && (size_t)g_utf8_strlen(chunks->pdata[next], -1) > column) {
            /* a long word: as much as fits here, the rest stays a chunk */
            char *w = chunks->pdata[next];
            size_t room = column > len ? column - len : (column < 1 ? 1 : 0);
            const char *cut = g_utf8_offset_to_pointer(w, (glong)room);
            last_len = line->len;
            last_blank = false;
            g_string_append_len(line, w, cut - w);
            chunks->pdata[next] = g_strdup(cut);
            g_free(w);
        }
        if (last_blank && line->len > 0)
            g_string_truncate(line, last_len);
        if (line->len > 0) {
            if (!first)
                g_string_append_c(out, '\n');
            g_string_append(out, line->str);
            first = false;
        }
        g_string_free(line, TRUE);
    }
    g_ptr_array_unref(chunks);
    g_string_free(munged, TRUE);
}

/* Mailman's wrap(): paragraphs are separated by empty lines or by a
 * change of indentation; indented ones are kept as they are, the others
 * filled (without their final newline, as textwrap does). */
char *notice_wrap(const char *text, size_t column)
{
    GPtrArray *paras = g_ptr_array_new_with_free_func(g_free);
    GString *para = g_string_new(NULL);
    bool last_indented = false;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        bool indented =
            *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f';
        if (n == 1 && *p == '\n') {
            if (para->len)
                g_ptr_array_add(paras, g_strdup(para->str));
            g_ptr_array_add(paras, g_strdup("\n"));
            g_string_truncate(para, 0);
            last_indented = false;
        } else if (indented != last_indented) {
            if (para->len)
                g_ptr_array_add(paras, g_strdup(para->str));
            g_string_truncate(para, 0);
            g_string_append_len(para, p, (gssize)n);
            last_indented = indented;
        } else {
            g_string_append_len(para, p, (gssize)n);
        }
        p += n;
    }
    if (para->len)
        g_ptr_array_add(paras, g_strdup(para->str));
    g_string_free(para, TRUE);
    GString *out = g_string_new(NULL);
    bool add_break = false;
    for (guint i = 0; i < paras->len; i++) {
        const char *q = paras->pdata[i];
        if (add_break) {
            g_string_append_c(out, '\n');
            add_break = false;
        }
        if (strcmp(q, "\n") == 0) {
            g_string_append_c(out, '\n');
        } else if (g_ascii_isspace(*q)) {
            g_string_append(out, q);
        } else {
            fill(out, q, column);
            add_break = true;
        }
    }
    g_ptr_array_unref(paras);
    return g_string_free(out, FALSE);
}
