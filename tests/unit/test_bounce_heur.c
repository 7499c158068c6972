/* Unit tests for the non-DSN bounce formats (bounce_heuristics), on
 * samples written for crier in tests/unit/data/bounce/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bounce/bounce.h"

#include <string.h>

static void check(const char *name, const char *const *want)
{
    g_autofree char *path = g_build_filename(CRIER_TEST_DATA, "bounce", name, NULL);
    g_autofree char *msg = NULL;
    size_t len;
    if (!g_file_get_contents(path, &msg, &len, NULL))
        fail_msg("cannot read %s", path);
    GHashTable *got = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    bounce_heuristics(msg, len, got);
    size_t n = 0;
    for (; want[n]; n++)
        if (!g_hash_table_contains(got, want[n]))
            fail_msg("%s: missing %s", name, want[n]);
    if (g_hash_table_size(got) != n) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, got);
        while (g_hash_table_iter_next(&it, &k, &v))
            print_message("%s: got %s\n", name, (char *)k);
        fail_msg("%s: %u addresses, want %zu", name, g_hash_table_size(got), n);
    }
    g_hash_table_unref(got);
}

static void test_postfix_plain(void **state)
{
    check("postfix-plain.eml",
          (const char *const[]){"gone@example.net", "carol@example.net", NULL});
}

static void test_qmail(void **state)
{
    check("qmail.eml",
          (const char *const[]){"nobody@qmail.example.org", "full@qmail.example.org", NULL});
}

static void test_exim(void **state)
{
    check("exim.eml",
          (const char *const[]){"dave@exim.example.org", "erin@exim.example.org", NULL});
}

static void test_exim_delay_is_not_a_failure(void **state)
{
    check("exim-delay.eml", (const char *const[]){NULL});
}

static void test_exchange(void **state)
{
    /* the returned original (message/rfc822) is not read */
    check("exchange.eml", (const char *const[]){"frank@corp.example.com", NULL});
}

static void test_gmail(void **state)
{
    check("gmail.eml", (const char *const[]){"grace.gone@gmail.example", NULL});
    check("gmail-old.eml", (const char *const[]){"henry@gmail.example", NULL});
}

static void test_vacation_and_dsn_are_not_heuristic_bounces(void **state)
{
    check("vacation.eml", (const char *const[]){NULL});
}

static void test_hostile(void **state)
{
    /* 100,000 "<a@b>:" lines after a Postfix banner: bounded work, and at
     * most the first 2,000 lines are looked at */
    GString *s = g_string_new("From: x@example.org\nSubject: x\n\n"
                              "This is the mail system at host h.\n");
    for (int i = 0; i < 100000; i++)
        g_string_append_printf(s, "<u%d@example.org>: no\n", i);
    g_string_append_len(s, "\xff\xfe<bin@example.org>: \x01\n", 21);
    GHashTable *got = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    bounce_heuristics(s->str, s->len, got);
    assert_true(g_hash_table_size(got) < 2000);
    g_hash_table_unref(got);
    g_string_free(s, TRUE);
    got = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    bounce_heuristics("", 0, got);
    assert_int_equal(g_hash_table_size(got), 0);
    g_hash_table_unref(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_plain),
        cmocka_unit_test(test_qmail),
        cmocka_unit_test(test_exim),
        cmocka_unit_test(test_exim_delay_is_not_a_failure),
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_gmail),
        cmocka_unit_test(test_vacation_and_dsn_are_not_heuristic_bounces),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
