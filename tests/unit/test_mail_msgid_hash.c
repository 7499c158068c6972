/* Unit tests for msgid_hash: Mailman's vectors (reference §2) and the
 * bracket/whitespace rules, with expected values from Mailman's own
 * formula (Python base64.b32encode(sha1(...))). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/msgid_hash.h"

#include <string.h>

static void test_vectors(void **state)
{
    static const struct {
        const char *why;
        const char *message_id;
        const char *hash;
    } cases[] = {
        {"reference ant", "<ant>", "MS6QLWERIJLGCRF44J7USBFDELMNT2BW"},
        {"reference badger", "<badger>", "JYMZWSQ4IC2JPKK7ZUONRFRVC4ZYJGKJ"},
        {"reference aardvark", "<aardvark>", "75E2XSUXAFQGWANWEROVQ7JGYMNWHJBT"},
        {"no brackets", "ant", "MS6QLWERIJLGCRF44J7USBFDELMNT2BW"},
        {"blanks stripped without brackets", "  ant\t", "MS6QLWERIJLGCRF44J7USBFDELMNT2BW"},
        /* Brackets count only at the very ends; blanks are then kept. */
        {"blanks around brackets", " <ant> ", "V3YEHAFKE2WVJNK63Z7RFP4JMHISI2RG"},
        {"opening bracket only", "<ant", "AZK2HZGXZYJDCP5XPOU5VEJWY4RHKR7O"},
        {"closing bracket only", "ant>", "RWXSG2UCOYFGDJSMYZEELOC23L76RVIW"},
        {"empty", "", "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"},
        {"empty brackets", "<>", "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"},
        {"unicode spaces",
         "\xc2\xa0"
         "ant\xe3\x80\x80",
         "MS6QLWERIJLGCRF44J7USBFDELMNT2BW"},
        {"separator controls",
         "\x1c"
         "ant\x1f",
         "MS6QLWERIJLGCRF44J7USBFDELMNT2BW"},
        {"inner blank kept", "<a b>", "PW66SNIECIVHA74ET4WBFPOZ3ZY3IGJJ"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[MSGID_HASH_LEN + 1];
        memset(out, 'x', sizeof out);
        msgid_hash(cases[i].message_id, strlen(cases[i].message_id), out);
        if (strcmp(out, cases[i].hash) != 0)
            fail_msg("%s: got %s, want %s", cases[i].why, out, cases[i].hash);
    }
}

static void test_length_and_alphabet(void **state)
{
    /* Bytes beyond len are not read; the result is always 32 base32 chars. */
    const char id[] = "<ant>trailing";
    char out[MSGID_HASH_LEN + 1];
    msgid_hash(id, 5, out);
    assert_string_equal(out, "MS6QLWERIJLGCRF44J7USBFDELMNT2BW");
    msgid_hash("\0\xff", 2, out);
    assert_int_equal(strlen(out), MSGID_HASH_LEN);
    assert_int_equal(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), MSGID_HASH_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_length_and_alphabet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
