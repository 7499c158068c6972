/* Unit tests for the LMTP engine's pure parts: the DATA reader (fed whole,
 * byte by byte and split at every offset), MAIL/RCPT argument parsing,
 * reply formatting and the limits check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/lmtp_data.h"
#include "proto/lmtp_path.h"
#include "proto/lmtp_reply.h"
#include "proto/proto_limits.h"

#include <string.h>

#define S(lit) lit, sizeof(lit) - 1

struct data_case {
    const char *why;
    const char *in;
    size_t in_len;
    const char *want; /* stored message; NULL: refused */
    size_t want_len;
    size_t size;     /* RFC 1870 size */
    size_t leftover; /* bytes after the final dot, not consumed */
    size_t max_size;
    size_t max_header;
    int refusal; /* 0, 1 too big, 2 header too big */
};

static const struct data_case data_cases[] = {
    {"plain", S("Subject: x\r\n\r\nbody\r\n.\r\n"), S("Subject: x\n\nbody\n"), 20, 0, 100, 100, 0},
    {"dot-stuffed lines", S("..leading\r\n...\r\n.\r\n"), S(".leading\n..\n"), 14, 0, 100, 100, 0},
    {"bare LF ends lines and data", S("a\nb\n.\n"), S("a\nb\n"), 4, 0, 100, 100, 0},
    {"NUL bytes are data", S("a\0b\r\n.\r\n"), S("a\0b\n"), 5, 0, 100, 100, 0},
    {"lone CR kept", S("a\rb\r\n.\r\n"), S("a\rb\n"), 5, 0, 100, 100, 0},
    {"dot then CR then text", S(".\rx\r\n.\r\n"), S("\rx\n"), 4, 0, 100, 100, 0},
    {"dot and blank is not the end", S(". \r\n.\r\n"), S(" \n"), 3, 0, 100, 100, 0},
    {"empty message", S(".\r\n"), S(""), 0, 0, 100, 100, 0},
    {"commands after the end stay", S("x\r\n.\r\nQUIT\r\n"), S("x\n"), 3, 6, 100, 100, 0},
    {"CR CR LF", S("a\r\r\n.\r\n"), S("a\r\n"), 4, 0, 100, 100, 0},
    {"exactly max size", S("0123456789\r\n.\r\n"), S("0123456789\n"), 12, 0, 12, 100, 0},
    {"over max size", S("0123456789\r\n.\r\n"), NULL, 0, 12, 0, 11, 100, 1},
    {"over max size, still finds end", S("0123456789\r\n0123456789\r\n.\r\nNOOP\r\n"), NULL, 0, 24,
     6, 11, 100, 1},
    {"header block too big", S("X-A: 0123456789012345678901234\r\n\r\nbody\r\n.\r\n"), NULL, 0, 40,
     0, 1000, 20, 2},
    {"continuation counts as header", S("A: b\r\n continuation line long long\r\n\r\n.\r\n"), NULL,
     0, 38, 0, 1000, 20, 2},
    {"non-header line starts the body", S("not a header line that is long\r\nmore\r\n.\r\n"),
     S("not a header line that is long\nmore\n"), 38, 0, 1000, 20, 0},
    {"empty line ends the header", S("A: b\r\n\r\nbody long enough to pass twenty\r\n.\r\n"),
     S("A: b\n\nbody long enough to pass twenty\n"), 41, 0, 1000, 20, 0},
};

/* Feeds c->in in chunks of `step` bytes (0: cut once at `cut`), keeping
 * unconsumed bytes as the session does, and checks the outcome. */
static void run_data_case(const struct data_case *c, size_t step, size_t cut)
{
    struct lmtp_data d;
    lmtp_data_init(&d, c->max_size, c->max_header);
    GByteArray *pending = g_byte_array_new();
    size_t off = 0;
    bool end = false;
    while (!end && off < c->in_len) {
        size_t n = step > 0 ? step : (off < cut ? cut - off : c->in_len - off);
        n = MIN(n, c->in_len - off);
        g_byte_array_append(pending, (const guint8 *)c->in + off, (guint)n);
        off += n;
        size_t used = lmtp_data_push(&d, (const char *)pending->data, pending->len, &end);
        assert_true(used <= pending->len);
        g_byte_array_remove_range(pending, 0, (guint)used);
        /* Without an end, at most the 2 undecidable bytes are left. */
        if (!end && pending->len > 2)
            fail_msg("%s (step %zu cut %zu): %u bytes left unconsumed", c->why, step, cut,
                     pending->len);
    }
    if (!end)
        fail_msg("%s (step %zu cut %zu): end not found", c->why, step, cut);
    size_t leftover = pending->len + (c->in_len - off);
    if (leftover != c->leftover)
        fail_msg("%s (step %zu cut %zu): leftover %zu, want %zu", c->why, step, cut, leftover,
                 c->leftover);
    assert_int_equal(d.size, c->size);
    assert_int_equal(d.too_big, c->refusal == 1);
    assert_int_equal(d.header_too_big, c->refusal == 2);
    GByteArray *msg = lmtp_data_steal(&d);
    if (c->want == NULL) {
        assert_null(msg);
    } else {
        assert_non_null(msg);
        if (msg->len != c->want_len ||
            (c->want_len > 0 && memcmp(msg->data, c->want, c->want_len) != 0))
            fail_msg("%s (step %zu cut %zu): wrong message (%u octets)", c->why, step, cut,
                     msg->len);
        g_byte_array_unref(msg);
    }
    lmtp_data_clear(&d);
    g_byte_array_unref(pending);
}

static void test_data_reader(void **state)
{
    for (size_t i = 0; i < G_N_ELEMENTS(data_cases); i++) {
        const struct data_case *c = &data_cases[i];
        run_data_case(c, c->in_len, 0);
        run_data_case(c, 1, 0);
        for (size_t cut = 1; cut < c->in_len; cut++)
            run_data_case(c, 0, cut);
    }
}

static void test_data_reader_needs_more(void **state)
{
    struct lmtp_data d;
    bool end;
    lmtp_data_init(&d, 100, 100);
    /* A dot at a line start cannot be judged alone, nor ".\r". */
    assert_int_equal(lmtp_data_push(&d, S("."), &end), 0);
    assert_false(end);
    assert_int_equal(lmtp_data_push(&d, S(".\r"), &end), 0);
    assert_int_equal(lmtp_data_push(&d, S("ab\r"), &end), 2);
    assert_false(end);
    lmtp_data_clear(&d);
}

static void test_path_parse(void **state)
{
    static const struct {
        const char *args;
        const char *keyword;
        const char *address; /* NULL: syntax error */
        unsigned n_params;
    } cases[] = {
        {"FROM:<a@b>", "FROM", "a@b", 0},
        {"from:<a@b>", "FROM", "a@b", 0},
        {"FROM: <a@b>", "FROM", "a@b", 0},
        {"FROM:<>", "FROM", "", 0},
        {"FROM:a@b", "FROM", "a@b", 0},
        {"FROM:<a@b> SIZE=100 BODY=8BITMIME", "FROM", "a@b", 2},
        {"FROM:<a@b>  SIZE=100  ", "FROM", "a@b", 1},
        {"FROM:<a@b> X-FLAG", "FROM", "a@b", 1},
        {"TO:<@r1,@r2:a@b>", "TO", "a@b", 0},
        {"TO:<\"a b>c\"@d>", "TO", "\"a b>c\"@d", 0},
        {"TO:<\"a\\\"b\"@d>", "TO", "\"a\\\"b\"@d", 0},
        {"TO:<x+verp=example.org@lists.example.com>", "TO", "x+verp=example.org@lists.example.com",
         0},
        {"FROM<a@b>", "FROM", NULL, 0},
        {"TO:<a@b>", "FROM", NULL, 0},
        {"FROM:<a@b", "FROM", NULL, 0},
        {"FROM:<a b@c>", "FROM", NULL, 0},
        {"FROM:<a@b>x", "FROM", NULL, 0},
        {"FROM:<a@b> =x", "FROM", NULL, 0},
        {"FROM:<a@b> SIZE=", "FROM", NULL, 0},
        {"FROM:<a@b> SI_ZE=1", "FROM", NULL, 0},
        {"FROM:<a@b> SIZE=a=b", "FROM", NULL, 0},
        {"FROM:", "FROM", NULL, 0},
        {"FROM:<a\x01"
         "b>",
         "FROM", NULL, 0},
        {"FROM:<@r1a@b>", "FROM", NULL, 0},
        {"FROM:<\"open@b>", "FROM", NULL, 0},
        {"FROM:<<a@b>>", "FROM", NULL, 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct lmtp_path path;
        char *error = NULL;
        int rc = lmtp_path_parse(cases[i].args, cases[i].keyword, &path, &error);
        if (cases[i].address == NULL) {
            if (rc != -1)
                fail_msg("\"%s\" accepted as \"%s\"", cases[i].args, path.address);
            assert_non_null(error);
            assert_null(path.address);
            g_free(error);
            continue;
        }
        if (rc != 0)
            fail_msg("\"%s\": %s", cases[i].args, error);
        assert_string_equal(path.address, cases[i].address);
        assert_int_equal(path.params->len, cases[i].n_params);
        lmtp_path_clear(&path);
    }
}

static void test_param_split(void **state)
{
    const char *value;
    assert_int_equal(lmtp_path_param_split("SIZE=100", &value), 4);
    assert_string_equal(value, "100");
    assert_int_equal(lmtp_path_param_split("SMTPUTF8", &value), 8);
    assert_null(value);
}

static void test_reply_format(void **state)
{
    static const struct {
        int code;
        const char *text;
        const char *line;
    } cases[] = {
        {250, "Ok", "250 2.0.0 Ok\r\n"},
        {250, "2.1.5 Ok", "250 2.1.5 Ok\r\n"},
        {550, "5.1.1 Requested action not taken: mailbox unavailable",
         "550 5.1.1 Requested action not taken: mailbox unavailable\r\n"},
        {550, "Requested action not taken: mailbox unavailable",
         "550 5.0.0 Requested action not taken: mailbox unavailable\r\n"},
        {550, "2.1.5 wrong class", "550 5.0.0 2.1.5 wrong class\r\n"},
        {451, "4.3.0", "451 4.3.0\r\n"},
        {451, "4.3.1234 too many digits", "451 4.0.0 4.3.1234 too many digits\r\n"},
        {451, "a\r\n250 b", "451 4.0.0 a  250 b\r\n"},
        {250, "caf\xc3\xa9", "250 2.0.0 caf??\r\n"},
        {354, "go on", "451 4.3.0 Error: internal error in reply\r\n"},
        {0, "", "451 4.3.0 Error: internal error in reply\r\n"},
        {600, "x", "451 4.3.0 Error: internal error in reply\r\n"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct lmtp_reply r;
        char line[LMTP_REPLY_LINE_MAX + 1];
        lmtp_reply_set(&r, cases[i].code, "%s", cases[i].text);
        size_t n = lmtp_reply_format(&r, line, sizeof line);
        assert_int_equal(n, strlen(cases[i].line));
        assert_string_equal(line, cases[i].line);
    }
    /* A text at the size bound still gives one line within 512 octets. */
    struct lmtp_reply r;
    char line[LMTP_REPLY_LINE_MAX + 1];
    char *big = g_strnfill(5000, 'x');
    lmtp_reply_set(&r, 250, "%s", big);
    size_t n = lmtp_reply_format(&r, line, sizeof line);
    assert_true(n <= LMTP_REPLY_LINE_MAX);
    assert_memory_equal(line + n - 2, "\r\n", 2);
    assert_null(memchr(line, '\n', n - 1));
    g_free(big);
}

static void test_limits_check(void **state)
{
    struct lmtp_limits l;
    char *error = NULL;
    proto_limits_lmtp_defaults(&l);
    assert_int_equal(proto_limits_lmtp_check(&l, &error), 0);
    assert_int_equal(l.max_message_size, 33554432);
    l.max_line_length = 511;
    assert_int_equal(proto_limits_lmtp_check(&l, &error), -1);
    assert_non_null(strstr(error, "max_line_length"));
    g_clear_pointer(&error, g_free);
    proto_limits_lmtp_defaults(&l);
    l.max_input_buffer = l.max_line_length;
    assert_int_equal(proto_limits_lmtp_check(&l, &error), -1);
    assert_non_null(strstr(error, "max_input_buffer"));
    g_clear_pointer(&error, g_free);
    proto_limits_lmtp_defaults(&l);
    l.max_connections = 0;
    assert_int_equal(proto_limits_lmtp_check(&l, &error), -1);
    assert_non_null(strstr(error, "max_connections"));
    g_free(error);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_reader),  cmocka_unit_test(test_data_reader_needs_more),
        cmocka_unit_test(test_path_parse),   cmocka_unit_test(test_param_split),
        cmocka_unit_test(test_reply_format), cmocka_unit_test(test_limits_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
