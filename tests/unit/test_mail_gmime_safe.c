/* Unit tests for mail/gmime_safe: open comments closed before GMime 3.2.13
 * parses them, so that its leak of the parsed addr-spec cannot happen (the
 * unit tests run under LeakSanitizer: a leak fails this binary). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/gmime_safe.h"

#include <string.h>

static void test_open_comments(void **state)
{
    static const struct {
        const char *text;
        unsigned open;
        bool escape;
    } cases[] = {
        {"x@example.org", 0, false},
        {"x@[a] (c", 1, false},
        {"x@[a]((b)", 1, false},
        {"(a(b", 2, false},
        {"(c) x@[a]", 0, false},
        {"\"(\" <x@a.example>", 1, false}, /* counted in a quoted string too */
        {"x@[(] y", 1, false},             /* and in a domain literal */
        {") (", 1, false},                 /* a ')' with none open is ignored */
        {"x (\\)", 1, false},              /* an escaped ')' does not close */
        {"x (\\", 1, true},
        {"x \\(", 1, false}, /* a backslash escapes only in a comment */
        {"", 0, false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        bool escape = !cases[i].escape;
        unsigned open = gmime_safe_open_comments(cases[i].text, strlen(cases[i].text), &escape);
        if (open != cases[i].open || escape != cases[i].escape)
            fail_msg("\"%s\": %u open, escape %d", cases[i].text, open, escape);
    }
}

static void test_close_comments(void **state)
{
    assert_null(gmime_safe_close_comments("x@[a] (c)", 9));
    char *s = gmime_safe_close_comments("x@[a] ((c", 9);
    assert_string_equal(s, "x@[a] ((c))");
    g_free(s);
    s = gmime_safe_close_comments("x@[a] (c\\", 9);
    assert_string_equal(s, "x@[a] (c\\ )");
    g_free(s);
}

/* "x@[a] (c": with GMime 3.2.13 alone this leaks (LeakSanitizer fails the
 * binary); closed, it parses to the mailbox with the comment as its name. */
static void test_address_list_parse(void **state)
{
    static const char *const inputs[] = {"x@[a] (Anne", "x@[\xe5](", "a@b.example, x@[a]((b",
                                         "x@[a](\\", "F.e, \"\xc9\xc9 From: x@[a] ("};
    for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
        InternetAddressList *l = gmime_safe_address_list_parse(inputs[i]);
        assert_non_null(l);
        g_object_unref(l);
    }
    InternetAddressList *l = gmime_safe_address_list_parse("x@[a] (Anne");
    assert_int_equal(internet_address_list_length(l), 1);
    InternetAddress *a = internet_address_list_get_address(l, 0);
    assert_true(INTERNET_ADDRESS_IS_MAILBOX(a));
    assert_string_equal(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)), "x@[a]");
    assert_string_equal(internet_address_get_name(a), "Anne");
    g_object_unref(l);
}

static void test_repair_headers(void **state)
{
    size_t len = 0;
    /* Nothing open: no copy. A comment open in the body or in a field
     * that holds no addresses is left alone. */
    static const char ok[] = "From: x@[a] (c)\nSubject: (open\n\nFrom: x@[a] (body\n";
    assert_null(gmime_safe_repair_headers(ok, strlen(ok), &len));
    /* Closed at the end of the field, after its last folded line; CR LF
     * kept; other fields and the body byte for byte. */
    static const char bad[] = "Subject: s\r\nFROM: x@[a]\r\n (Anne\r\nTo: y@[b] (\r\n\r\n(body\r\n";
    char *fixed = gmime_safe_repair_headers(bad, strlen(bad), &len);
    assert_non_null(fixed);
    assert_int_equal(len, strlen(fixed));
    assert_string_equal(fixed,
                        "Subject: s\r\nFROM: x@[a]\r\n (Anne)\r\nTo: y@[b] ()\r\n\r\n(body\r\n");
    g_free(fixed);
    /* Blanks before the colon still name an address field, as for GMime
     * (found by fuzz_pmsg). */
    static const char spaced[] = "To :y@[b]($c\n\nbody\n";
    fixed = gmime_safe_repair_headers(spaced, strlen(spaced), &len);
    assert_string_equal(fixed, "To :y@[b]($c)\n\nbody\n");
    g_free(fixed);
    /* A header block without a body, LF only. */
    static const char tail[] = "Cc: z@[c] ((";
    fixed = gmime_safe_repair_headers(tail, strlen(tail), &len);
    assert_string_equal(fixed, "Cc: z@[c] (())");
    g_free(fixed);
}

static void test_message_parse(void **state)
{
    static const char raw[] = "From: x@[\xe5](\nTo: y@[b] (Bee\nSubject: s\n\nbody\n";
    GMimeMessage *m = gmime_safe_message_parse(raw, strlen(raw));
    assert_non_null(m);
    InternetAddressList *to = g_mime_message_get_to(m);
    assert_int_equal(internet_address_list_length(to), 1);
    g_object_unref(m);
}

int main(void)
{
    g_mime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_comments),      cmocka_unit_test(test_close_comments),
        cmocka_unit_test(test_address_list_parse), cmocka_unit_test(test_repair_headers),
        cmocka_unit_test(test_message_parse),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_mime_shutdown();
    return rc;
}
