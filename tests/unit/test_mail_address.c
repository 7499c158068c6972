/* Unit tests for address validation (Mailman's IEmailValidator rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/address.h"

#include <glib.h>

static void test_is_valid(void **state)
{
    static const struct {
        const char *email;
        bool ok;
    } cases[] = {
        {"ant@example.com", true},
        {"a.b-c_d+e=f@mail.example.org", true},
        {"Mixed.Case@Example.COM", true},
        {"x@y.z", true},
        {"", false},
        {"ant", false}, /* no domain */
        {"ant@", false},
        {"@example.com", false},
        {"ant@localhost", false},    /* one label */
        {"ant@example..com", false}, /* empty label */
        {"ant@-bad.com", false},     /* label starts with '-' */
        {"ant@exa_mple.com", false},
        {"my list@example.com", false},
        {"caf\xc3\xa9@example.com", false},
        {"ant\n@example.com", false},
        {"ant@example.com.", false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        if (address_is_valid(cases[i].email) != cases[i].ok)
            fail_msg("'%s': want %s", cases[i].email, cases[i].ok ? "valid" : "invalid");
    /* ADDRESS_MAX_LEN (254) is allowed, one more is not. */
    g_autofree char *local = g_strnfill(250, 'a');
    g_autofree char *longest = g_strconcat(local, "@b.c", NULL);
    g_autofree char *too_long = g_strconcat(local, "a@b.c", NULL);
    assert_true(address_is_valid(longest));
    assert_false(address_is_valid(too_long));
}

static void test_list_name(void **state)
{
    const char *dflt = "[-_.0-9a-z]";
    assert_true(address_list_name_ok("ant", dflt));
    assert_true(address_list_name_ok("A.b-c_9", dflt));
    assert_false(address_list_name_ok("a+b", dflt)); /* superset allows, default does not */
    assert_true(address_list_name_ok("a+b", "[-_.+0-9a-z]"));
    assert_false(address_list_name_ok("a#b", "[-_.#0-9a-z]")); /* outside the superset */
    assert_true(address_list_name_ok("a+b", "[("));            /* bad regex: skipped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_valid),
        cmocka_unit_test(test_list_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
