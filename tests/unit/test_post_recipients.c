/* Unit tests for post_recipients: a roster read in any order comes out
 * sorted by bytes (the store's ORDER BY email) and joined by newlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "post/post_recipients.h"

#include <glib.h>
#include <string.h>

static char *build(const char *const *in, size_t n, size_t *len_r)
{
    struct post_recipients *r = post_recipients_new();
    for (size_t i = 0; i < n; i++)
        post_recipients_add(r, in[i], strlen(in[i]));
    assert_int_equal(post_recipients_count(r), n);
    return post_recipients_finish(r, len_r);
}

static void test_sorted_and_joined(void **state)
{
    static const struct {
        const char *name;
        const char *in[6];
        size_t n;
        const char *want;
    } cases[] = {
        {"empty", {NULL}, 0, ""},
        {"one", {"a@x"}, 1, "a@x"},
        {"reversed", {"c@x", "b@x", "a@x"}, 3, "a@x\nb@x\nc@x"},
        {"prefix sorts first", {"ab@x", "a@x", "a@xy"}, 3, "a@x\na@xy\nab@x"},
        {"bytes, not locale: upper before lower, digits before letters",
         {"b@x", "B@x", "1@x", "\xc3\xa9@x", "~@x"},
         5,
         "1@x\nB@x\nb@x\n~@x\n\xc3\xa9@x"},
        {"numbers as text ('0' sorts before '@')",
         {"member9@x", "member1@x", "member10@x"},
         3,
         "member10@x\nmember1@x\nmember9@x"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        size_t len;
        g_autofree char *got = build(cases[i].in, cases[i].n, &len);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\"", cases[i].name, got);
        assert_int_equal(len, strlen(cases[i].want));
    }
}

/* Many addresses in a scrambled order: all of them come out, strictly
 * increasing (so each once), and the length is exact. */
static void test_many(void **state)
{
    enum { N = 20000 };
    struct post_recipients *r = post_recipients_new();
    for (unsigned i = 0; i < N; i++) {
        unsigned k = (i * 7919u) % N; /* 7919 is prime: a permutation of 0..N-1 */
        g_autofree char *s = g_strdup_printf("user%u@example.org", k);
        post_recipients_add(r, s, strlen(s));
    }
    size_t len;
    g_autofree char *got = post_recipients_finish(r, &len);
    assert_int_equal(strlen(got), len);
    g_auto(GStrv) parts = g_strsplit(got, "\n", -1);
    assert_int_equal(g_strv_length(parts), N);
    for (unsigned i = 1; i < N; i++)
        assert_true(strcmp(parts[i - 1], parts[i]) < 0);
}

static void test_free_unfinished(void **state)
{
    struct post_recipients *r = post_recipients_new();
    post_recipients_add(r, "a@x", 3);
    post_recipients_free(r);
    post_recipients_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_and_joined),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_free_unfinished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
