/* libFuzzer: the posting path's message handling (src/post/pmsg.h) on a
 * raw message, as the pipeline runner gets it from its queue entry: parse,
 * the edits the handlers make (Subject prefix, appended headers), serialize.
 *
 * Invariants beyond "no crash, no leak":
 * - parse then serialize is a fixed point: serializing what a serialized
 *   message parses to gives the same bytes (what the in runner queues is
 *   what the pipeline runner reads);
 * - the body is the input's tail, kept byte for byte, also after edits;
 * - after the edits, the message parses to the same fields minus the
 *   removed Subject plus the appended ones, and the new Subject decodes to
 *   what post_subject_prefix() made (up to folding white space);
 * - addresses come out lower-cased and non-empty; the first text part is
 *   valid UTF-8. */
#include "post/pmsg.h"

#include "fuzz.h"
#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* src/post/post_pipeline.c, exposed for tests. */
char *post_subject_prefix(const char *prefix_tmpl, int64_t post_id, const char *subject);

static char *squeeze(const char *s)
{
    GString *o = g_string_new(NULL);
    bool space = false;
    for (const char *p = s; *p; p++) {
        if (g_ascii_isspace(*p)) {
            space = true;
            continue;
        }
        if (space && o->len)
            g_string_append_c(o, ' ');
        space = false;
        g_string_append_c(o, *p);
    }
    return g_string_free(o, FALSE);
}

static void check_addresses(const struct pmsg *m, const char *name)
{
    GPtrArray *a = pmsg_addresses(m, name);
    for (guint i = 0; i < a->len; i++) {
        const char *addr = a->pdata[i];
        FUZZ_CHECK(*addr != '\0');
        for (const char *p = addr; *p; p++)
            FUZZ_CHECK(!g_ascii_isupper(*p));
    }
    g_ptr_array_unref(a);
    GPtrArray *b = pmsg_mailboxes(m, name);
    for (guint i = 0; i < b->len; i++) {
        const struct pmsg_mailbox *mb = b->pdata[i];
        g_free(pmsg_formataddr(mb->name, mb->addr));
    }
    g_ptr_array_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct pmsg *m = pmsg_parse(in, size);
    FUZZ_CHECK(m->body_len <= size);
    FUZZ_CHECK(memcmp(m->body, in + size - m->body_len, m->body_len) == 0);

    size_t len1, len2;
    char *s1 = pmsg_serialize(m, &len1);
    struct pmsg *m2 = pmsg_parse(s1, len1);
    char *s2 = pmsg_serialize(m2, &len2);
    FUZZ_CHECK(len1 == len2 && memcmp(s1, s2, len1) == 0);
    pmsg_free(m2);
    g_free(s2);
    g_free(s1);

    check_addresses(m, "From");
    check_addresses(m, "To");
    check_addresses(m, "Cc");
    g_ptr_array_unref(pmsg_senders(m, "from from_ reply-to sender"));
    char *text = pmsg_first_text(m);
    FUZZ_CHECK(g_utf8_validate(text, -1, NULL));
    g_free(text);
    g_strfreev(pmsg_get_all(m, "Received"));
    char **approved = pmsg_get_all_parts(m, "Approved");
    for (char **p = approved; *p; p++)
        FUZZ_CHECK(g_utf8_validate(*p, -1, NULL));
    g_strfreev(approved);

    /* The edits of the pipeline's handlers. */
    guint before = m->fields->len;
    char *subject = pmsg_get(m, "Subject");
    char *prefixed = post_subject_prefix(size % 2 ? "[ant %d] " : "[Ant] ", 42, subject);
    FUZZ_CHECK(g_utf8_validate(prefixed, -1, NULL));
    unsigned removed = pmsg_remove(m, "Subject");
    pmsg_append_text(m, "Subject", prefixed);
    pmsg_append(m, "X-Mailman-Version", "3.3.8");
    size_t len3;
    char *s3 = pmsg_serialize(m, &len3);
    struct pmsg *m3 = pmsg_parse(s3, len3);
    FUZZ_CHECK(m3->fields->len == before - removed + 2);
    FUZZ_CHECK(m3->body_len == m->body_len && memcmp(m3->body, m->body, m->body_len) == 0);
    char *again = pmsg_get(m3, "Subject");
    FUZZ_CHECK(again != NULL);
    char *a = squeeze(again), *b = squeeze(prefixed);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "subject made:  [%s]\nsubject found: [%s]\n", b, a);
        FUZZ_CHECK(strcmp(a, b) == 0);
    }
    g_free(a);
    g_free(b);
    g_free(again);
    pmsg_free(m3);
    g_free(s3);
    g_free(prefixed);
    g_free(subject);
    pmsg_free(m);
    return 0;
}
