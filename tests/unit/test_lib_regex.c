/* Unit tests for the GRegex guard: invalid UTF-8 never reaches PCRE2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "lib/regex.h"

#include <string.h>

static void test_patterns(void **state)
{
    char *err = NULL;
    assert_null(regex_compile("\xff/q", &err));
    assert_string_equal(err, "the pattern is not valid UTF-8");
    g_free(err);
    err = NULL;
    assert_null(regex_compile("(unclosed", &err));
    assert_non_null(err);
    g_free(err);
    GRegex *re = regex_compile("^(?P<bounces>[^+]+?)\\+", NULL);
    assert_non_null(re);
    assert_true(regex_search(re, "ANT-bounces+x"));
    assert_false(regex_search(re, "ant-bounces+\xff"));
    assert_true(regex_match_start(re, "ant+x"));
    g_regex_unref(re);
    re = regex_compile("[-_.0-9a-z]", NULL);
    assert_true(regex_consumes_all(re, "a.B-c_9"));
    assert_false(regex_consumes_all(re, "a+b"));
    assert_false(regex_consumes_all(re, "caf\xe9"));
    g_regex_unref(re);
}

static void test_config_rejects_invalid_utf8_regex(void **state)
{
    struct config *cfg = NULL;
    char *err = NULL;
    assert_int_equal(
        config_load_text("[mta]\nverp_regexp: \xff/q\n", "/t/m.cfg", "/usr/bin", &cfg, &err), -1);
    assert_non_null(strstr(err, "/t/m.cfg:2: [mta] verp_regexp: invalid value"));
    g_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_config_rejects_invalid_utf8_regex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
