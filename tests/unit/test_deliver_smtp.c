/* Unit tests for deliver_smtp's pure parts: the DATA block (RFC 5321
 * §4.5.2 dot-stuffing, CRLF) and the EHLO keywords it uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deliver/deliver_smtp.h"

#include <string.h>

static void test_data_block(void **state)
{
    static const struct {
        const char *msg, *want;
    } cases[] = {
        {"a\nb\n", "a\r\nb\r\n.\r\n"},
        {"a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
        /* a dot at the start of a line is doubled, elsewhere kept */
        {".\n..x\na.b\n.", "..\r\n...x\r\na.b\r\n..\r\n.\r\n"},
        /* no final line end: one is added before the "." */
        {"last", "last\r\n.\r\n"},
        {"", ".\r\n"},
        /* a lone CR is not a line end */
        {"a\rb\n", "a\rb\r\n.\r\n"},
        {"\n.\n", "\r\n..\r\n.\r\n"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GString *got = deliver_smtp_data_block(cases[i].msg, strlen(cases[i].msg));
        assert_string_equal(got->str, cases[i].want);
        g_string_free(got, TRUE);
    }
}

static void test_ehlo_ext(void **state)
{
    static const struct {
        const char *lines; /* "|"-separated lines after the first */
        unsigned want;
    } cases[] = {
        {"PIPELINING|8BITMIME|SIZE 10240000", DELIVER_SMTP_EXT_PIPELINING},
        {"pipelining|starttls", DELIVER_SMTP_EXT_PIPELINING | DELIVER_SMTP_EXT_STARTTLS},
        {"AUTH LOGIN PLAIN", DELIVER_SMTP_EXT_AUTH_PLAIN | DELIVER_SMTP_EXT_AUTH_LOGIN},
        {"AUTH CRAM-MD5 login", DELIVER_SMTP_EXT_AUTH_LOGIN},
        /* a keyword must be the whole first word */
        {"PIPELININGX|X-STARTTLS|AUTHPLAIN", 0},
        {"AUTH", 0},
        {"", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(GStrv) lines = g_strsplit(cases[i].lines, "|", -1);
        size_t n = *cases[i].lines ? g_strv_length(lines) : 0;
        assert_int_equal(deliver_smtp_ehlo_ext(lines, n), cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_block),
        cmocka_unit_test(test_ehlo_ext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
