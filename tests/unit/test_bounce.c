/* Unit tests for VERP decoding and RFC 3464 DSN parsing (reference §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bounce/bounce.h"
#include "lib/regex.h"

#include <string.h>

#define VERP_REGEXP "^(?P<bounces>[^+]+?)\\+(?P<local>[^=]+)=(?P<domain>[^@]+)@.*$"

static char *fixture(const char *name, size_t *len)
{
    g_autofree char *path = g_build_filename(CRIER_TEST_DATA, "bounce", name, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, len, NULL))
        fail_msg("cannot read %s", path);
    return text;
}

static void assert_set(GHashTable *set, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++)
        if (!g_hash_table_contains(set, want[n]))
            fail_msg("missing %s", want[n]);
    assert_int_equal(g_hash_table_size(set), n);
}

static void test_verp_postfix_dsn(void **state)
{
    size_t len;
    g_autofree char *msg = fixture("postfix-dsn.eml", &len);
    GRegex *re = regex_compile(VERP_REGEXP, NULL);
    GHashTable *got = bounce_verp(msg, len, re, "ant-bounces");
    assert_set(got, (const char *const[]){"bob@example.org", NULL});
    g_hash_table_unref(got);
    /* Another list's bounces address does not count. */
    got = bounce_verp(msg, len, re, "bee-bounces");
    assert_int_equal(g_hash_table_size(got), 0);
    g_hash_table_unref(got);
    g_regex_unref(re);
}

static void test_verp_headers(void **state)
{
    size_t len;
    g_autofree char *msg = fixture("verp-headers.eml", &len);
    GRegex *re = regex_compile(VERP_REGEXP, NULL);
    GHashTable *got = bounce_verp(msg, len, re, "ant-bounces");
    /* To (with a display name) and Envelope-To match; Apparently-To is
     * another list's. */
    assert_set(got, (const char *const[]){"erin@example.net", "frank@example.net", NULL});
    g_hash_table_unref(got);
    g_regex_unref(re);
}

static void test_dsn(void **state)
{
    size_t len;
    g_autofree char *msg = fixture("postfix-dsn.eml", &len);
    struct bounce_dsn r;
    bounce_dsn(msg, len, &r);
    assert_set(r.permanent, (const char *const[]){"bob@example.org", NULL});
    assert_set(r.temporary, (const char *const[]){"carol@example.org", NULL});
    bounce_dsn_clear(&r);
}

static void test_dsn_fields(void **state)
{
    static const struct {
        const char *status;
        const char *const permanent[3];
        const char *const temporary[2];
    } cases[] = {
        {"Final-Recipient: rfc822; a@x.org\nAction: failed\n", {"a@x.org", NULL}, {NULL}},
        {"Final-Recipient: RFC822;b@x.org\nAction: Error\n", {"b@x.org", NULL}, {NULL}},
        {"Final-Recipient: <c@x.org>\nAction: failed\n", {"c@x.org", NULL}, {NULL}},
        {"Final-Recipient: d@x.org\nAction: failed\n", {NULL}, {NULL}}, /* untyped, bare */
        {"Original-Recipient: rfc822; e@x.org\nFinal-Recipient: rfc822; f@x.org\nAction: failed\n",
         {"e@x.org", NULL},
         {NULL}},
        {"Final-Recipient: rfc822; g@x.org\nAction: delayed (retrying)\n",
         {NULL},
         {"g@x.org", NULL}},
        {"Final-Recipient: rfc822; h@x.org\nAction: delivered\n", {NULL}, {NULL}},
        {"Reporting-MTA: dns; m\n\nFinal-Recipient: rfc822;\n  i@x.org\nAction: failed\n\n"
         "Final-Recipient: rfc822; j@x.org\r\nAction: failed\r\n",
         {"i@x.org", "j@x.org", NULL},
         {NULL}},
        {"Action: failed\n", {NULL}, {NULL}},
        {"", {NULL}, {NULL}},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct bounce_dsn r = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                               g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
        bounce_dsn_parse_status(cases[i].status, strlen(cases[i].status), &r);
        assert_set(r.permanent, cases[i].permanent);
        assert_set(r.temporary, cases[i].temporary);
        bounce_dsn_clear(&r);
    }
}

static void test_garbage(void **state)
{
    static const char junk[] = "\xff\xfe not a message at all \0 \n\n--";
    GRegex *re = regex_compile(VERP_REGEXP, NULL);
    GHashTable *got = bounce_verp(junk, sizeof junk - 1, re, "ant-bounces");
    assert_int_equal(g_hash_table_size(got), 0);
    g_hash_table_unref(got);
    struct bounce_dsn r;
    bounce_dsn(junk, sizeof junk - 1, &r);
    assert_int_equal(g_hash_table_size(r.permanent), 0);
    bounce_dsn_clear(&r);
    g_regex_unref(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verp_postfix_dsn),
        cmocka_unit_test(test_verp_headers),
        cmocka_unit_test(test_dsn),
        cmocka_unit_test(test_dsn_fields),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
