/* lmtp_intake - see lmtp_intake.h. */
#include "lmtp/lmtp_intake.h"

#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* A header field name: printable ASCII except ':' (RFC 5322 §2.2). */
static size_t field_name_len(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && line[i] > 32 && line[i] < 127 && line[i] != ':')
        i++;
    return i < n && line[i] == ':' && i > 0 ? i : 0;
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
    return strlen(name) == name_len && g_ascii_strncasecmp(line, name, name_len) == 0;
}

static char *make_message_id(const char *hostname)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    unsigned long long r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (unsigned long long)g_random_int() << 32 | g_random_int();
    return g_strdup_printf("<%lld%06ld.%ld.%llu@%s>", (long long)tv.tv_sec, (long)tv.tv_usec,
                           (long)getpid(), r % 10000000000000000000ULL, hostname);
}

/* Appends the Message-ID if missing, the hash headers, X-MailFrom and the
 * body; consumes msgid. */
static void append_tail(GByteArray *out, GString *msgid, const char *sender, const char *hostname,
                        bool add_date, const char *body, const char *end,
                        char hash_r[MSGID_HASH_LEN + 1])
{
    if (add_date) {
        /* RFC 5322 §3.3 date-time, local time as Python's formatdate(localtime=True). */
        char date[64];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S %z\n", &tm);
        g_byte_array_append(out, (const guint8 *)date, (guint)strlen(date));
    }
    if (msgid == NULL) {
        g_autofree char *id = make_message_id(hostname);
        g_autofree char *line = g_strdup_printf("Message-ID: %s\n", id);
        g_byte_array_append(out, (const guint8 *)line, (guint)strlen(line));
        msgid = g_string_new(id);
    }
    msgid_hash(msgid->str, msgid->len, hash_r);
    g_string_free(msgid, TRUE);
    g_autofree char *added =
        sender ? g_strdup_printf("Message-ID-Hash: %s\nX-Message-ID-Hash: %s\nX-MailFrom: %s\n",
                                 hash_r, hash_r, sender)
               : g_strdup_printf("Message-ID-Hash: %s\nX-Message-ID-Hash: %s\n", hash_r, hash_r);
    g_byte_array_append(out, (const guint8 *)added, (guint)strlen(added));
    g_byte_array_append(out, (const guint8 *)body, (guint)(end - body));
}

int lmtp_intake_prepare(const char *msg, size_t len, const char *sender, const char *hostname,
                        GByteArray **out_r, char hash_r[MSGID_HASH_LEN + 1], const char **why_r)
{
    return lmtp_intake_prepare_ex(msg, len, sender, hostname, false, out_r, hash_r, why_r);
}

int lmtp_intake_prepare_ex(const char *msg, size_t len, const char *sender, const char *hostname,
                           bool add_date, GByteArray **out_r, char hash_r[MSGID_HASH_LEN + 1],
                           const char **why_r)
{
    bool have_date = false;
    GByteArray *out = g_byte_array_sized_new((guint)len + 256);
    const char *p = msg, *end = msg + len;
    GString *msgid = NULL; /* the first Message-ID's value, unfolded as Python keeps it */
    bool in_msgid = false; /* the current field is that Message-ID */
    bool skipping = false; /* the current field is an old hash header */
    bool first = true;
    const char *body = end; /* where the empty line (or the end) is */

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t with_nl = nl ? n + 1 : n;
        size_t vis = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
        if (vis == 0) {
            body = p;
            break;
        }
        if (p[0] == ' ' || p[0] == '\t') {
            if (first)
                goto defect;
            if (in_msgid) {
                g_string_append_c(msgid, '\n');
                g_string_append_len(msgid, p, (gssize)vis);
            }
            if (!skipping)
                g_byte_array_append(out, (const guint8 *)p, (guint)with_nl);
            p += with_nl;
            continue;
        }
        /* An mbox "From " line may open the message (Python's unixfrom). */
        if (first && vis >= 5 && memcmp(p, "From ", 5) == 0) {
            first = false;
            p += with_nl;
            continue;
        }
        first = false;
        size_t name = field_name_len(p, vis);
        if (name == 0)
            goto defect;
        in_msgid = false;
        skipping = name_is(p, name, "Message-ID-Hash") || name_is(p, name, "X-Message-ID-Hash");
        have_date = have_date || name_is(p, name, "Date");
        if (msgid == NULL && name_is(p, name, "Message-ID")) {
            const char *v = p + name + 1;
            while (v < p + vis && (*v == ' ' || *v == '\t'))
                v++;
            msgid = g_string_new_len(v, p + vis - v);
            in_msgid = true;
        }
        if (!skipping)
            g_byte_array_append(out, (const guint8 *)p, (guint)with_nl);
        p += with_nl;
    }
    if (body == end && out->len > 0 && out->data[out->len - 1] != '\n')
        g_byte_array_append(out, (const guint8 *)"\n", 1);

    append_tail(out, msgid, sender, hostname, add_date && !have_date, body, end, hash_r);
    *out_r = out;
    return 0;

defect:
    g_byte_array_unref(out);
    if (msgid)
        g_string_free(msgid, TRUE);
    *why_r = "Message has defects";
    return -1;
}
