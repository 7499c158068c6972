/* Unit tests for the pure parts of src/rest: Mailman's etag (Python's
 * pformat, checked against values computed with CPython 3.11), paging,
 * form decoding, the Validator's texts and the list config table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "rest/rest_etag.h"
#include "rest/rest_listconf.h"
#include "rest/rest_params.h"
#include "rest/rest_validate.h"
#include "store/list_attr.h"

static void check_etag(json_t *v, const char *want_hex)
{
    g_autofree char *tag = rest_etag(v, NULL);
    g_autofree char *want = g_strdup_printf("\"%s\"", want_hex);
    if (strcmp(tag, want) != 0) {
        g_autofree char *text = rest_pformat(v, NULL);
        print_error("pformat gave:\n%s\n", text);
    }
    assert_string_equal(tag, want);
}

static void test_etag_simple(void **state)
{
    json_t *v = json_pack("{s:i, s:s, s:n, s:b, s:f}", "b", 1, "a", "x", "c", "d", 1, "e", 2.5);
    g_autofree char *text = rest_pformat(v, NULL);
    assert_string_equal(text, "{'a': 'x', 'b': 1, 'c': None, 'd': True, 'e': 2.5}");
    check_etag(v, "f23419209bf10fd39968af5eaf9bb5edc95b3cb0");
    json_decref(v);
}

static void test_etag_wrapping(void **state)
{
    /* Long strings split into adjacent literals, lists and dicts one item
     * a line, quotes and escapes as repr(), non-ASCII as raw-unicode-escape. */
    GString *words = g_string_new(NULL);
    for (int i = 0; i < 40; i++)
        g_string_append(words, "word ");
    json_t *entries = json_array();
    for (int i = 0; i < 4; i++)
        json_array_append_new(
            entries, json_pack("{s:s, s:i}", "k", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", "n", i));
    json_t *v = json_pack("{s:s, s:o, s:s, s:s}", "description", words->str, "entries", entries,
                          "z", "it's \"quoted\"\n\ttab", "u",
                          "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xe2\x80\xa8");
    g_string_free(words, TRUE);
    check_etag(v, "3998be7fff0e8ba955670720bd7264f8dca6c021");
    json_decref(v);
}

static char *hook_fn(const char *key, json_t *value, void *ctx)
{
    return strcmp(key, "policy") == 0 ? rest_py_enum_repr("SubscriptionPolicy", "open", 0) : NULL;
}

static void test_etag_hook(void **state)
{
    /* {'subscription_policy': <SubscriptionPolicy.open: 0>} as Mailman sees it. */
    json_t *v = json_pack("{s:s}", "policy", "open");
    struct rest_pyrepr hook = {hook_fn, NULL};
    g_autofree char *text = rest_pformat(v, &hook);
    assert_string_equal(text, "{'policy': <SubscriptionPolicy.open: 0>}");
    json_decref(v);
}

static void test_py_reprs(void **state)
{
    static const struct {
        double d;
        const char *want;
    } floats[] = {{1e16, "1e+16"},
                  {1e-5, "1e-05"},
                  {0.1, "0.1"},
                  {30.0, "30.0"},
                  {123456789.125, "123456789.125"},
                  {-0.0, "-0.0"},
                  {1e22, "1e+22"}};
    for (size_t i = 0; i < G_N_ELEMENTS(floats); i++) {
        g_autofree char *s = rest_py_float_repr(floats[i].d);
        assert_string_equal(s, floats[i].want);
    }
    g_autofree char *dmin = rest_py_datetime_repr(-62135596800LL * 1000000);
    assert_string_equal(dmin, "datetime.datetime(1, 1, 1, 0, 0)");
    g_autofree char *iso = rest_py_isoformat(-62135596800LL * 1000000);
    assert_string_equal(iso, "0001-01-01T00:00:00");
    g_autofree char *td0 = rest_py_timedelta_repr(0);
    assert_string_equal(td0, "datetime.timedelta(0)");
    g_autofree char *td = rest_py_timedelta_repr(86400000000LL + 30500000);
    assert_string_equal(td, "datetime.timedelta(days=1, seconds=30, microseconds=500000)");
    g_autofree char *q = rest_py_str_repr("a'b", 3);
    assert_string_equal(q, "\"a'b\"");
    g_autofree char *q2 = rest_py_str_repr("a'b\"\x01", 5);
    assert_string_equal(q2, "'a\\'b\"\\x01'");
}

static void test_paging(void **state)
{
    static const struct {
        const char *query;
        size_t total;
        int rc;
        size_t start, first, end;
        const char *err;
    } cases[] = {
        {"", 5, 0, 0, 0, 5, NULL},
        {"count=2&page=2", 5, 0, 2, 2, 4, NULL},
        {"count=2&page=3", 5, 0, 4, 4, 5, NULL},
        {"count=1&page=2", 0, 0, 1, 0, 0, NULL},
        {"count=2", 5, 0, 0, 0, 2, NULL},
        {"count=1&page=0", 5, -1, 0, 0, 0,
         "The \"page should be greater than 0.\" parameter is invalid. 0"},
        {"count=-1&page=1", 5, -1, 0, 0, 0,
         "The \"count should be a positive integer.\" parameter is invalid. -1"},
        {"count=x&page=1", 5, -1, 0, 0, 0,
         "The \"count\" parameter is invalid. The value must be an integer."},
        {"count=99999999999999999&page=99999999999", 5, 0, 0, 5, 5, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *q = json_object();
        char *err = NULL;
        assert_int_equal(rest_params_add_form(q, cases[i].query, strlen(cases[i].query), &err), 0);
        struct rest_page p;
        int rc = rest_page_compute(q, cases[i].total, &p, &err);
        assert_int_equal(rc, cases[i].rc);
        if (rc < 0) {
            assert_string_equal(err, cases[i].err);
            g_free(err);
        } else if (i != 8) {
            assert_int_equal(p.start, cases[i].start);
            assert_int_equal(p.first, cases[i].first);
            assert_int_equal(p.end, cases[i].end);
        } else {
            assert_int_equal(p.first, p.end); /* overflow: an empty page */
        }
        json_decref(q);
    }
}

static void test_form(void **state)
{
    json_t *q = json_object();
    char *err = NULL;
    const char *form = "a=1&b=x+y%21&a=2&c&d=&=skip&e=%C3%A9";
    assert_int_equal(rest_params_add_form(q, form, strlen(form), &err), 0);
    char *text = json_dumps(q, JSON_COMPACT | JSON_ENSURE_ASCII);
    assert_string_equal(
        text, "{\"a\":[\"1\",\"2\"],\"b\":\"x y!\",\"c\":\"\",\"d\":\"\",\"e\":\"\\u00E9\"}");
    free(text);
    json_decref(q);
    q = json_object();
    assert_int_equal(rest_params_add_form(q, "a=%FF", 5, &err), -1);
    g_free(err);
    json_decref(q);
    json_t *j = NULL;
    assert_int_equal(rest_params_from_json("[1]", 3, &j, &err), -1);
    g_free(err);
    assert_int_equal(rest_params_from_json("{\"x\": true}", 11, &j, &err), 0);
    assert_true(json_is_true(json_object_get(j, "x")));
    json_decref(j);
}

static void test_validator(void **state)
{
    static const struct rest_field fields[] = {
        {"fqdn_listname", REST_CONV_STR, false, NULL},
        {"flag", REST_CONV_BOOL, true, NULL},
        {"n", REST_CONV_INT, true, NULL},
        {"role", REST_CONV_ENUM, true, store_enum_role},
        {"subscriber", REST_CONV_SUBSCRIBER, true, NULL},
    };
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"{\"bogus\": 1, \"alpha\": 2}", "Unexpected parameters: alpha, bogus"},
        {"{}", "Missing Parameter: fqdn_listname"},
        {"{\"fqdn_listname\": \"a\", \"flag\": \"maybe\", \"n\": \"x\"}",
         "Invalid Parameter \"flag\": Invalid boolean value: maybe. Invalid Parameter \"n\": "
         "invalid literal for int() with base 10: 'x'."},
        {"{\"fqdn_listname\": \"a\", \"role\": \"boss\"}",
         "Invalid Parameter \"role\": Accepted Values are: member, owner, moderator, nonmember."},
        {"{\"fqdn_listname\": \"a\", \"subscriber\": \"nobody\"}",
         "Invalid Parameter \"subscriber\": ."},
        {"{\"fqdn_listname\": \"a\", \"flag\": true, \"n\": \" 1_0 \", \"subscriber\": "
         "\"0123456789abcdef0123456789ABCDEF\"}",
         NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *params = json_loads(cases[i].json, 0, NULL);
        json_t *values = NULL;
        char *err = NULL;
        int rc = rest_validate(params, fields, G_N_ELEMENTS(fields), &values, &err);
        if (cases[i].err) {
            assert_int_equal(rc, -1);
            assert_string_equal(err, cases[i].err);
            g_free(err);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(json_integer_value(json_object_get(values, "n")), 10);
            json_decref(values);
        }
        json_decref(params);
    }
}

static void test_listconf_table(void **state)
{
    /* Every attribute Mailman's REST API exposes is a crier list attribute. */
    assert_int_equal(rest_listconf_count(), 92);
    for (size_t i = 0; i < rest_listconf_count(); i++) {
        const char *name = rest_listconf_name(i);
        if (list_attr_find(name) == NULL)
            print_error("%s is not a list attribute\n", name);
        assert_non_null(list_attr_find(name));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_simple), cmocka_unit_test(test_etag_wrapping),
        cmocka_unit_test(test_etag_hook),   cmocka_unit_test(test_py_reprs),
        cmocka_unit_test(test_paging),      cmocka_unit_test(test_form),
        cmocka_unit_test(test_validator),   cmocka_unit_test(test_listconf_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
