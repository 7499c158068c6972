/* Unit tests for the MTA map writer: byte-identical to Mailman 3.3.8's own
 * output (tests/unit/data/mta, see its README), postmap handling, vmap
 * removal and the module names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mta/mta.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAMP "2000-01-01 00:00:00"

static char *tmpdir(void)
{
    char *t = g_strdup("/tmp/crier-mta-XXXXXX");
    assert_non_null(g_mkdtemp(t));
    return t;
}

static void rmtree(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void assert_same_file(const char *got_path, const char *want_path)
{
    g_autofree char *got = NULL, *want = NULL;
    if (!g_file_get_contents(want_path, &want, NULL, NULL))
        fail_msg("cannot read %s", want_path);
    if (!g_file_get_contents(got_path, &got, NULL, NULL))
        fail_msg("cannot read %s", got_path);
    if (strcmp(got, want) != 0)
        fail_msg("%s differs from %s:\n--- got\n%s\n--- want\n%s", got_path, want_path, got, want);
}

static void check_case(const char *name, const struct mta_settings *s, const struct mta_list *l,
                       size_t n, bool vmap)
{
    g_autofree char *dir = tmpdir();
    char *err = NULL;
    if (mta_postfix_write(s, dir, l, n, STAMP, &err) != 0)
        fail_msg("%s: %s", name, err);
    static const char *const files[] = {"postfix_lmtp", "postfix_domains", "postfix_vmap"};
    for (size_t i = 0; i < 3; i++) {
        g_autofree char *got = g_build_filename(dir, files[i], NULL);
        g_autofree char *want = g_build_filename(CRIER_TEST_DATA, "mta", name, files[i], NULL);
        if (i == 2 && !vmap) {
            assert_false(g_file_test(got, G_FILE_TEST_EXISTS));
            continue;
        }
        assert_same_file(got, want);
    }
    rmtree(dir);
}

static void test_golden_basic(void **state)
{
    const struct mta_list lists[] = {
        {"ant", "example.com", NULL},    {"a.b-c_d", "example.com", NULL},
        {"x-join", "example.com", NULL}, {"zed", "other.org", NULL},
        {"b", "example.com", ""},
    };
    struct mta_settings s = {"127.0.0.1", 8024, "/bin/true", false};
    check_case("basic", &s, lists, G_N_ELEMENTS(lists), false);
}

static void test_golden_alias(void **state)
{
    const struct mta_list lists[] = {
        {"ant", "example.com", "x.example.net"},
        {"bee", "example.com", "x.example.net"},
        {"zed", "other.org", NULL},
    };
    struct mta_settings s = {"127.0.0.1", 8024, "/bin/true", false};
    check_case("alias", &s, lists, G_N_ELEMENTS(lists), true);
}

static void test_golden_regex(void **state)
{
    const struct mta_list lists[] = {
        {"ant", "example.com", "x.example.net"},
        {"a.b-c_d", "example.com", "x.example.net"},
        {"zed", "other.org", NULL},
    };
    struct mta_settings s = {"127.0.0.2", 9024, "/bin/false", true}; /* never run */
    check_case("regex", &s, lists, G_N_ELEMENTS(lists), true);
}

static void test_postmap_runs_per_file(void **state)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *log = g_build_filename(dir, "postmap.log", NULL);
    g_autofree char *script = g_build_filename(dir, "postmap.sh", NULL);
    g_autofree char *body = g_strdup_printf("#!/bin/sh\necho \"$@\" >> '%s'\n", log);
    assert_true(g_file_set_contents(script, body, -1, NULL));
    assert_int_equal(chmod(script, 0755), 0);
    g_autofree char *maps = g_build_filename(dir, "maps", NULL);
    assert_int_equal(mkdir(maps, 0755), 0);
    const struct mta_list lists[] = {{"ant", "example.com", "x.example.net"}};
    struct mta_settings s = {"127.0.0.1", 8024, script, false};
    char *err = NULL;
    assert_int_equal(mta_postfix_write(&s, maps, lists, 1, STAMP, &err), 0);
    g_autofree char *got = NULL;
    assert_true(g_file_get_contents(log, &got, NULL, NULL));
    g_autofree char *want =
        g_strdup_printf("%s/postfix_lmtp\n%s/postfix_domains\n%s/postfix_vmap\n", maps, maps, maps);
    assert_string_equal(got, want);

    /* Without an alias the vmap goes away and postmap runs twice. */
    unlink(log);
    const struct mta_list plain[] = {{"ant", "example.com", NULL}};
    assert_int_equal(mta_postfix_write(&s, maps, plain, 1, STAMP, &err), 0);
    g_autofree char *vmap = g_build_filename(maps, "postfix_vmap", NULL);
    assert_false(g_file_test(vmap, G_FILE_TEST_EXISTS));
    g_autofree char *got2 = NULL;
    assert_true(g_file_get_contents(log, &got2, NULL, NULL));
    g_autofree char *want2 = g_strdup_printf("%s/postfix_lmtp\n%s/postfix_domains\n", maps, maps);
    assert_string_equal(got2, want2);

    /* Regex mode never runs postmap. */
    unlink(log);
    s.regex = true;
    assert_int_equal(mta_postfix_write(&s, maps, lists, 1, STAMP, &err), 0);
    assert_false(g_file_test(log, G_FILE_TEST_EXISTS));
    rmtree(dir);
}

static void test_postmap_failure(void **state)
{
    g_autofree char *dir = tmpdir();
    const struct mta_list lists[] = {{"ant", "example.com", NULL}};
    struct mta_settings s = {"127.0.0.1", 8024, "/bin/false", false};
    char *err = NULL;
    assert_int_equal(mta_postfix_write(&s, dir, lists, 1, STAMP, &err), -1);
    g_autofree char *want = g_strdup_printf(
        "command failure: /bin/false %s/postfix_lmtp, 1, Operation not permitted\n"
        "command failure: /bin/false %s/postfix_domains, 1, Operation not permitted",
        dir, dir);
    assert_string_equal(err, want);
    g_free(err);
    /* Mailman leaves the text files written. */
    g_autofree char *lmtp = g_build_filename(dir, "postfix_lmtp", NULL);
    assert_true(g_file_test(lmtp, G_FILE_TEST_EXISTS));
    rmtree(dir);
}

static void test_unwritable_dir(void **state)
{
    const struct mta_list lists[] = {{"ant", "example.com", NULL}};
    struct mta_settings s = {"127.0.0.1", 8024, "/bin/true", false};
    char *err = NULL;
    assert_int_equal(mta_postfix_write(&s, "/nonexistent/dir", lists, 1, STAMP, &err), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/postfix_lmtp.new"));
    g_free(err);
}

static void test_kinds(void **state)
{
    assert_int_equal(mta_kind_of("mailman.mta.postfix.LMTP"), MTA_POSTFIX);
    assert_int_equal(mta_kind_of("mailman.mta.exim4.LMTP"), MTA_EXIM4);
    assert_int_equal(mta_kind_of("mailman.mta.null.NullMTA"), MTA_NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_basic),    cmocka_unit_test(test_golden_alias),
        cmocka_unit_test(test_golden_regex),    cmocka_unit_test(test_postmap_runs_per_file),
        cmocka_unit_test(test_postmap_failure), cmocka_unit_test(test_unwritable_dir),
        cmocka_unit_test(test_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
