/* bounce_heur - the common bounce formats that are not RFC 3464 DSNs, as
 * flufl.bounce's detectors recognise them (see bounce.h). */
#include "bounce/bounce.h"

#include "mail/address.h"
#include "mail/gmime_safe.h"

#include <gmime/gmime.h>
#include <string.h>

/* The text to look at: every text/plain part (the body itself for a
 * message without MIME structure), decoded, at most BOUNCE_MAX_PARTS. */
struct texts {
    GString *all;
    int parts;
};

static void add_text(GMimeObject *parent, GMimeObject *part, gpointer ud)
{
    struct texts *t = ud;
    if (++t->parts > BOUNCE_MAX_PARTS || !GMIME_IS_TEXT_PART(part))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    if (!ct || !g_mime_content_type_is_type(ct, "text", "plain"))
        return;
    /* a returned copy of the original message is not the report */
    if (parent && GMIME_IS_MESSAGE_PART(parent))
        return;
    char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    if (text) {
        g_string_append(t->all, text);
        g_string_append_c(t->all, '\n');
        g_free(text);
    }
}

static char *report_text(const char *msg, size_t len)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        g_mime_init();
        g_once_init_leave(&once, 1);
    }
    GMimeMessage *m = gmime_safe_message_parse(msg, len);
    struct texts t = {g_string_new(NULL), 0};
    if (m) {
        GMimeObject *body = g_mime_message_get_mime_part(m);
        if (body && !GMIME_IS_MULTIPART(body))
            add_text(NULL, body, &t);
        else
            g_mime_message_foreach(m, add_text, &t);
        g_object_unref(m);
    }
    if (!g_utf8_validate(t.all->str, (gssize)t.all->len, NULL)) {
        char *v = g_utf8_make_valid(t.all->str, (gssize)t.all->len);
        g_string_free(t.all, TRUE);
        return v;
    }
    return g_string_free(t.all, FALSE);
}

/* The address in s: the first "local@domain" token, without <> ( ) quotes
 * or a trailing ':' / ';' / ','; NULL when none is valid. */
static char *address_in(const char *s)
{
    g_auto(GStrv) words = g_strsplit_set(s, " \t<>()\"';,[]", -1);
    for (char **w = words; *w; w++) {
        char *x = *w;
        size_t n = strlen(x);
        while (n > 0 && (x[n - 1] == ':' || x[n - 1] == '.'))
            x[--n] = '\0';
        if (g_str_has_prefix(x, "mailto:"))
            x += 7;
        if (strchr(x, '@') == NULL)
            continue;
        char *low = g_ascii_strdown(x, -1);
        if (address_is_valid(low))
            return low;
        g_free(low);
    }
    return NULL;
}

static bool add(GHashTable *set, const char *line)
{
    char *a = address_in(line);
    if (a == NULL)
        return false;
    g_hash_table_add(set, a);
    return true;
}

/* Lines after the first line containing `start`, until one containing a
 * stop marker (or max lines): each that `want` accepts gives an address. */
static void scan_after(char **lines, const char *start, const char *const *stops, int max,
                       bool (*want)(const char *line), GHashTable *set)
{
    for (int i = 0; lines[i]; i++) {
        if (strcasestr(lines[i], start) == NULL)
            continue;
        for (int j = i + 1, n = 0; lines[j] && n < max; j++, n++) {
            bool stop = false;
            for (const char *const *s = stops; *s && !stop; s++)
                stop = strcasestr(lines[j], *s) != NULL;
            if (stop)
                break;
            if (want(lines[j]))
                add(set, lines[j]);
        }
        return;
    }
}

static bool indented(const char *l)
{
    return (*l == ' ' || *l == '\t') && strchr(l, '@');
}

static bool angle_colon(const char *l)
{
    /* Postfix and qmail: "<addr>: reason" */
    return *l == '<' && strstr(l, ">:") != NULL;
}

static bool any_address(const char *l)
{
    return strchr(l, '@') != NULL;
}

static const char *const copy_markers[] = {"--- Below this line is a copy of the message",
                                           "------ This is a copy of the message",
                                           "Original message",
                                           "Reporting-MTA",
                                           "----- Original message -----",
                                           "Diagnostic information for administrators",
                                           NULL};

void bounce_heuristics(const char *msg, size_t len, GHashTable *permanent)
{
    g_autofree char *text = report_text(msg, len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", 2000);
    for (char **l = lines; *l; l++)
        g_strchomp(*l);
    if (strstr(text, "This is the mail system at host") ||
        strstr(text, "This is the Postfix program at host")) {
        /* Postfix: "<addr>: reason" (or "<addr> (expanded from ...): ") */
        for (char **l = lines; *l; l++)
            if (**l == '<' && (strstr(*l, ">:") || strstr(*l, "(expanded from")))
                add(permanent, *l);
    } else if (strstr(text, "This is the qmail-send program")) {
        scan_after(lines, "deliver your message to the following addresses", copy_markers, 500,
                   angle_colon, permanent);
    } else if (strstr(text, "This message was created automatically by mail delivery software") &&
               strstr(text, "could not be delivered to one or more of its")) {
        /* Exim: the recipients indented under the explanation (a delay
         * warning, "has not yet been delivered", is not a failure) */
        scan_after(lines, "could not be delivered to one or more of its", copy_markers, 500,
                   indented, permanent);
    } else if (strstr(text, "Delivery has failed to these recipients or groups")) {
        /* Exchange / Outlook */
        scan_after(lines, "Delivery has failed to these recipients or groups", copy_markers, 30,
                   any_address, permanent);
    } else if (strstr(text, "The following recipient(s) could not be reached") ||
               strstr(text, "The following recipient(s) cannot be reached")) {
        scan_after(lines, "recipient(s) c", copy_markers, 30, any_address, permanent);
    } else if (strstr(text, "Delivery to the following recipient failed permanently")) {
        /* Gmail, older form */
        scan_after(lines, "Delivery to the following recipient failed permanently", copy_markers, 5,
                   any_address, permanent);
    } else if (strstr(text, "wasn't delivered to ") &&
               (strstr(text, "Address not found") || strstr(text, "mailer-daemon@googlemail") ||
                strstr(text, "couldn't be found"))) {
        /* Gmail: "Your message wasn't delivered to x@y because ..." */
        for (char **l = lines; *l; l++) {
            const char *p = strstr(*l, "wasn't delivered to ");
            if (p)
                add(permanent, p + strlen("wasn't delivered to "));
        }
    }
}
