/* Unit tests for rest_ids and rest_password: ids in API 3.0 and 3.1 forms
 * (values computed with CPython's uuid module), the 3.0 integer in etags
 * and JSON, and SHA-512 crypt hashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "rest/rest_etag.h"
#include "rest/rest_ids.h"
#include "rest/rest_password.h"

#define HEX "0123456789abcdef0123456789abcdef"
#define DEC "1512366075204170929049582354406559215"

static void test_id_forms(void **state)
{
    g_autofree char *t31 = rest_id_text("3.1", HEX);
    g_autofree char *t30 = rest_id_text("3.0", HEX);
    g_autofree char *max = rest_id_text("3.0", "ffffffffffffffffffffffffffffffff");
    g_autofree char *dashed = rest_id_dashed(HEX);
    assert_string_equal(t31, HEX);
    assert_string_equal(t30, DEC);
    assert_string_equal(max, "340282366920938463463374607431768211455");
    assert_string_equal(dashed, "01234567-89ab-cdef-0123-456789abcdef");
    static const struct {
        const char *api, *in, *hex; /* hex NULL: refused */
    } cases[] = {
        {"3.1", HEX, HEX},
        {"3.1", "0123456789ABCDEF0123456789ABCDEF", HEX},
        {"3.1", "{01234567-89ab-cdef-0123-456789abcdef}", HEX},
        {"3.1", "urn:uuid:01234567-89ab-cdef-0123-456789abcdef", HEX},
        {"3.1", "0123", NULL},
        {"3.1", "0123456789abcdef0123456789abcdeg", NULL},
        {"3.1", DEC, NULL},
        {"3.0", DEC, HEX},
        {"3.0", " +1_2 ", "0000000000000000000000000000000c"},
        {"3.0", "340282366920938463463374607431768211455", "ffffffffffffffffffffffffffffffff"},
        {"3.0", "340282366920938463463374607431768211456", NULL},
        {"3.0", "-1", NULL},
        {"3.0", "1__2", NULL},
        {"3.0", HEX, NULL},
        {"3.0", "", NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *hex = rest_id_parse(cases[i].api, cases[i].in);
        if (g_strcmp0(hex, cases[i].hex) != 0)
            print_error("%s %s gave %s\n", cases[i].api, cases[i].in, hex ? hex : "NULL");
        assert_true(g_strcmp0(hex, cases[i].hex) == 0);
    }
}

static void test_bigint_json(void **state)
{
    json_t *r = json_object();
    json_object_set_new(r, "user_id", rest_id_json("3.0", HEX));
    json_object_set_new(r, "self_link", json_string("http://x/3.0/users/" DEC));
    /* pformat sees a Python int: the etag is Mailman's. */
    g_autofree char *tag = rest_etag(r, NULL);
    assert_string_equal(tag, "\"175935018648b3a8f3a8c744c12aa25fa66dfbc9\"");
    char *text = json_dumps(r, JSON_ENSURE_ASCII | JSON_SORT_KEYS);
    g_autofree char *out = rest_bigint_untag(text);
    free(text);
    assert_string_equal(out,
                        "{\"self_link\": \"http://x/3.0/users/" DEC "\", \"user_id\": " DEC "}");
    json_decref(r);
    g_autofree char *plain = rest_bigint_untag("{\"a\": \"\\u0001int:x\"}");
    assert_string_equal(plain, "{\"a\": \"\\u0001int:x\"}");
}

static void test_password(void **state)
{
    g_autofree char *h = rest_password_hash("secret");
    g_autofree char *h2 = rest_password_hash("secret");
    assert_non_null(h);
    assert_true(g_str_has_prefix(h, "$6$rounds=60000$"));
    assert_string_not_equal(h, h2); /* salted */
    assert_true(rest_password_check(h, "secret"));
    assert_false(rest_password_check(h, "Secret"));
    assert_false(rest_password_check(NULL, "secret"));
    g_autofree char *pw = rest_password_generate(8);
    assert_int_equal(strlen(pw), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_forms),
        cmocka_unit_test(test_bigint_json),
        cmocka_unit_test(test_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
