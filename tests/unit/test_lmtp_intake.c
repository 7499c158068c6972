/* Unit tests for the LMTP intake edits (reference §2; §12 items 6-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lmtp/lmtp_intake.h"

#include <glib.h>
#include <string.h>

static char *prepare(const char *in, char hash[MSGID_HASH_LEN + 1])
{
    GByteArray *out = NULL;
    const char *why = NULL;
    if (lmtp_intake_prepare(in, strlen(in), "anne@example.org", "lists.example.com", &out, hash,
                            &why) != 0)
        fail_msg("refused: %s", why);
    char *s = g_strndup((const char *)out->data, out->len);
    g_byte_array_unref(out);
    return s;
}

static void test_hash_headers_appended(void **state)
{
    char hash[MSGID_HASH_LEN + 1];
    g_autofree char *out = prepare("From: anne@example.org\n"
                                   "Message-ID: <ant>\n"
                                   "Message-ID-Hash: OLD\n"
                                   "X-Message-ID-Hash: OLDER\n"
                                   "  folded\n"
                                   "Subject: hi\n"
                                   "\n"
                                   "body\nMessage-ID-Hash: in the body stays\n",
                                   hash);
    assert_string_equal(hash, "MS6QLWERIJLGCRF44J7USBFDELMNT2BW");
    assert_string_equal(out, "From: anne@example.org\n"
                             "Message-ID: <ant>\n"
                             "Subject: hi\n"
                             "Message-ID-Hash: MS6QLWERIJLGCRF44J7USBFDELMNT2BW\n"
                             "X-Message-ID-Hash: MS6QLWERIJLGCRF44J7USBFDELMNT2BW\n"
                             "X-MailFrom: anne@example.org\n"
                             "\n"
                             "body\nMessage-ID-Hash: in the body stays\n");
}

static void test_message_id_added(void **state)
{
    char hash[MSGID_HASH_LEN + 1];
    g_autofree char *out = prepare("Subject: no id\n\nx\n", hash);
    assert_true(g_str_has_prefix(out, "Subject: no id\nMessage-ID: <"));
    const char *id = strstr(out, "Message-ID: ") + strlen("Message-ID: ");
    const char *idend = strchr(id, '\n');
    assert_non_null(strstr(id, "@lists.example.com>"));
    char want[MSGID_HASH_LEN + 1];
    msgid_hash(id, (size_t)(idend - id), want);
    assert_string_equal(hash, want);
    assert_true(g_str_has_suffix(out, "X-MailFrom: anne@example.org\n\nx\n"));
}

static void test_headers_only_and_case(void **state)
{
    char hash[MSGID_HASH_LEN + 1];
    g_autofree char *out = prepare("message-id: <badger>\nSubject: only headers", hash);
    assert_string_equal(hash, "JYMZWSQ4IC2JPKK7ZUONRFRVC4ZYJGKJ");
    assert_true(g_str_has_prefix(out, "message-id: <badger>\nSubject: only headers\n"
                                      "Message-ID-Hash: JYMZ"));
}

static void test_defects(void **state)
{
    static const char *const bad[] = {
        "Subject: x\nthis line has no colon\n\nbody\n",
        " continuation first\nSubject: x\n\n",
        "Sub ject: x\n\n",
        ": empty name\n\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GByteArray *out = NULL;
        const char *why = NULL;
        char hash[MSGID_HASH_LEN + 1];
        if (lmtp_intake_prepare(bad[i], strlen(bad[i]), "", "h", &out, hash, &why) != -1)
            fail_msg("case %zu accepted", i);
        assert_string_equal(why, "Message has defects");
    }
}

static void test_binary_and_from_line(void **state)
{
    static const char in[] = "From anne@example.org Mon Nov 23 2026\n"
                             "Subject: \xe9t\xe9\n\nNUL\0here\n";
    GByteArray *out = NULL;
    const char *why = NULL;
    char hash[MSGID_HASH_LEN + 1];
    assert_int_equal(lmtp_intake_prepare(in, sizeof in - 1, "", "h", &out, hash, &why), 0);
    /* The body, NUL included, is kept byte for byte; the mbox line is dropped. */
    assert_true(out->len > 10);
    assert_memory_equal(out->data + out->len - 10, "\nNUL\0here\n", 10);
    assert_memory_equal(out->data, "Subject: \xe9t\xe9\n", 13);
    g_byte_array_unref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_headers_appended), cmocka_unit_test(test_message_id_added),
        cmocka_unit_test(test_headers_only_and_case), cmocka_unit_test(test_defects),
        cmocka_unit_test(test_binary_and_from_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
