/* Unit tests for queue_meta and queue_file: escaping, the file format and
 * its strict parser, base names and slices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue/queue_file.h"
#include "queue/queue_meta.h"

#include <string.h>
#include <unistd.h>

/* Formats meta + msg into a whole file image. */
static GString *image_of(const struct queue_meta *meta, const void *msg, size_t len)
{
    GString *out = g_string_new(NULL);
    char *error = NULL;
    assert_int_equal(queue_file_format_header(out, meta, len, &error), 0);
    g_string_append_len(out, msg, (gssize)len);
    return out;
}

static void test_escape_round_trip(void **state)
{
    static const struct {
        const char *name;
        const char *value;
        size_t len;
    } cases[] = {
        {"empty", "", 0},
        {"newline", "a\nb\n", 4},
        {"colons", "key: value: more:", 17},
        {"backslash escapes as text", "\\n \\x41 \\", 9},
        {"crlf", "\r\n", 2},
        {"nul and controls", "a\0b\tc\x1b\x7f", 8},
        {"utf8",
         "Gr\xc3\xbc\xc3\x9f"
         "e",
         7},
        {"8-bit not utf8", "\xff\xfe\x80", 3},
        {"leading and trailing blanks", "  x  ", 5},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct queue_meta *meta = queue_meta_new();
        queue_meta_set_len(meta, "value", cases[i].value, cases[i].len);
        queue_meta_set(meta, "after", "x");
        GString *img = image_of(meta, "M", 1);
        /* The escaped value occupies exactly one line. */
        const char *line = strstr(img->str, "\nvalue:");
        assert_non_null(line);
        assert_non_null(strstr(line + 1, "\nafter: x\n\nM"));
        struct queue_meta *back;
        size_t off;
        char *error = NULL;
        assert_int_equal(queue_file_parse(img->str, img->len, &back, &off, &error), 0);
        size_t len;
        const char *got = queue_meta_get_len(back, "value", &len);
        assert_non_null(got);
        if (len != cases[i].len || memcmp(got, cases[i].value, len) != 0)
            fail_msg("case %s does not round-trip", cases[i].name);
        assert_string_equal(queue_meta_get(back, "after"), "x");
        queue_meta_free(back);
        queue_meta_free(meta);
        g_string_free(img, TRUE);
    }
}

/* The escaping as the format defines it, one byte at a time: the fast
 * (word at a time) code must give the same bytes wherever a special byte
 * falls in a word. */
static GString *reference_escape(const unsigned char *p, size_t len)
{
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '\\')
            g_string_append(out, "\\\\");
        else if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
    return out;
}

/* Escapes p[0, len) after other text and checks the bytes and the length
 * against reference_escape, and that unescaping gives p back. */
static bool escape_matches_reference(const unsigned char *p, size_t len)
{
    GString *want = reference_escape(p, len);
    GString *got = g_string_new("prefix");
    queue_meta_escape(got, p, len);
    assert_int_equal(queue_meta_escaped_len(p, len), want->len);
    assert_int_equal(got->len, 6 + want->len);
    bool same = memcmp(got->str + 6, want->str, want->len) == 0;
    char *back = g_malloc(len + 1);
    assert_int_equal(queue_meta_unescape_to(back, got->str + 6, got->len - 6), len);
    assert_memory_equal(back, p, len);
    g_free(back);
    g_string_free(want, TRUE);
    g_string_free(got, TRUE);
    return same;
}

static void test_escape_any_byte_at_any_offset(void **state)
{
    unsigned char buf[40];
    for (int c = 0; c < 256; c++) {
        for (size_t at = 0; at < 24; at++) {
            for (size_t len = at + 1; len <= at + 17; len += 8) {
                memset(buf, 'a', sizeof buf);
                buf[at] = (unsigned char)c;
                if (!escape_matches_reference(buf, len))
                    fail_msg("byte 0x%02x at %zu of %zu: escaped wrongly", c, at, len);
                /* Unescaped input with a raw control byte, DEL or a lone
                 * backslash is refused wherever the byte is. */
                char back[sizeof buf];
                if (c < 0x20 || c == 0x7f || c == '\\')
                    assert_int_equal(queue_meta_unescape_to(back, (const char *)buf, at + 1),
                                     (size_t)-1);
            }
        }
    }
}

/* Unescaping as the format defines it, one byte at a time (the code
 * before the word-at-a-time loop): the decoded length, or -1 for a raw
 * control byte, DEL, or a bad or cut escape. */
static size_t reference_unescape(char *out, const unsigned char *in, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        if (c >= 0x20 && c != 0x7f && c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        if (c != '\\' || ++i >= len)
            return (size_t)-1;
        if (in[i] == '\\' || in[i] == 'n' || in[i] == 'r') {
            out[o++] = in[i] == '\\' ? '\\' : in[i] == 'n' ? '\n' : '\r';
        } else if (in[i] == 'x' && i + 2 < len && g_ascii_isxdigit(in[i + 1]) &&
                   g_ascii_isxdigit(in[i + 2])) {
            out[o++] =
                (char)(g_ascii_xdigit_value(in[i + 1]) << 4 | g_ascii_xdigit_value(in[i + 2]));
            i += 2;
        } else {
            return (size_t)-1;
        }
    }
    return o;
}

/* A byte for the random buffers below: often one that the word-at-a-time
 * tricks treat specially (controls, the bytes next to 0x20, '\\' and DEL,
 * and those >= 0x80, which are plain), so that several fall in one word. */
static unsigned char random_byte(GRand *rnd)
{
    static const unsigned char edge[] = {0x00, 0x01, 0x0a, 0x0d, 0x1f, 0x20, 0x21, 0x5b,
                                         0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0x81, 0x9f, 0xa0,
                                         0xdc, 0xfe, 0xff, 'x',  'n',  'r',  '0',  'f'};
    if (g_rand_int_range(rnd, 0, 3) == 0)
        return edge[g_rand_int_range(rnd, 0, G_N_ELEMENTS(edge))];
    return (unsigned char)g_rand_int_range(rnd, 0, 256);
}

/* Random buffers of 0..80 bytes at every alignment, compared with the
 * byte-at-a-time references: escape, its length and the round trip, and
 * unescape (its result or its refusal) of random text. */
static void test_escape_matches_reference_on_random_buffers(void **state)
{
    GRand *rnd = g_rand_new_with_seed(20261201);
    unsigned char buf[96], back[96], want_back[96];
    for (int round = 0; round < 200000; round++) {
        size_t off = (size_t)g_rand_int_range(rnd, 0, 8);
        size_t len = (size_t)g_rand_int_range(rnd, 0, 81);
        int density = g_rand_int_range(rnd, 1, 9); /* 1 in density bytes random */
        for (size_t i = 0; i < len; i++)
            buf[off + i] = g_rand_int_range(rnd, 0, density) == 0 ? random_byte(rnd) : 'a';
        const unsigned char *p = buf + off;

        if (!escape_matches_reference(p, len))
            fail_msg("round %d: escaped wrongly", round);

        /* The same bytes read as an escaped value. */
        size_t want_n = reference_unescape((char *)want_back, p, len);
        size_t got_n = queue_meta_unescape_to((char *)back, (const char *)p, len);
        if (got_n != want_n)
            fail_msg("round %d: unescape gave %zd, want %zd", round, (ssize_t)got_n,
                     (ssize_t)want_n);
        if (want_n != (size_t)-1)
            assert_memory_equal(back, want_back, want_n);
    }
    g_rand_free(rnd);
}

static void test_every_byte_and_long_value(void **state)
{
    GString *value = g_string_new(NULL);
    for (int round = 0; round < 4000; round++)
        for (int c = 0; c < 256; c++)
            g_string_append_c(value, (char)c);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set_len(meta, "all", value->str, value->len);
    queue_meta_set(meta, "_runtime", "never written");
    GString *img = image_of(meta, "", 0);
    assert_null(strstr(img->str, "_runtime"));
    struct queue_meta *back;
    size_t off, len;
    char *error = NULL;
    assert_int_equal(queue_file_parse(img->str, img->len, &back, &off, &error), 0);
    const char *got = queue_meta_get_len(back, "all", &len);
    assert_int_equal(len, value->len);
    assert_memory_equal(got, value->str, len);
    assert_null(queue_meta_get(back, "_runtime"));
    assert_int_equal(off, img->len);
    queue_meta_free(back);
    queue_meta_free(meta);
    g_string_free(img, TRUE);
    g_string_free(value, TRUE);
}

/* queue_file_write_entry (used by requeue and checkpoint) writes the same
 * bytes as queue_file_format_header + the message, also for values larger
 * than its 1 MiB buffer, and leaves out the skipped key like a '_' key. */
static void test_streaming_writer_matches_format(void **state)
{
    GString *value = g_string_new(NULL);
    for (int round = 0; round < 12000; round++)
        for (int c = 0; c < 256; c++)
            g_string_append_c(value, (char)c);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", "l.example.com");
    queue_meta_set_len(meta, "all", value->str, value->len);
    queue_meta_set(meta, "recovery_count", "2");
    queue_meta_set(meta, "_runtime", "never written");
    queue_meta_set(meta, "empty", "");
    static const char msg[] = "Subject: x\n\nbody\0\r\n";
    for (int skip = 0; skip < 2; skip++) {
        const char *skip_key = skip ? "recovery_count" : NULL;
        char *error = NULL;
        GString *want = g_string_new(NULL);
        assert_int_equal(queue_file_format_header_skip(want, meta, skip_key, sizeof msg, &error),
                         0);
        g_string_append_len(want, msg, sizeof msg);
        assert_int_equal(queue_file_check_header(meta, skip_key, sizeof msg, &error), 0);
        char path[] = "/tmp/crier-qf-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(queue_file_write_entry(fd, meta, skip_key, msg, sizeof msg), 0);
        off_t size = lseek(fd, 0, SEEK_END);
        assert_int_equal((size_t)size, want->len);
        char *got = g_malloc((size_t)size);
        assert_int_equal(pread(fd, got, (size_t)size, 0), size);
        close(fd);
        assert_memory_equal(got, want->str, want->len);
        assert_int_equal(strstr(want->str, "recovery_count") == NULL, skip == 1);
        assert_null(strstr(want->str, "_runtime"));
        g_free(got);
        g_string_free(want, TRUE);
    }
    queue_meta_free(meta);
    g_string_free(value, TRUE);
}

static void test_writer_refuses_what_reader_would(void **state)
{
    static const char *bad_keys[] = {"", "has space", "colon:", "dash-key", "nl\n"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad_keys); i++) {
        struct queue_meta *meta = queue_meta_new();
        queue_meta_set(meta, bad_keys[i], "v");
        GString *out = g_string_new("keep");
        char *error = NULL;
        assert_int_equal(queue_file_format_header(out, meta, 0, &error), -1);
        assert_non_null(error);
        assert_string_equal(out->str, "keep");
        g_free(error);
        g_string_free(out, TRUE);
        queue_meta_free(meta);
    }
    /* A value too long for one line once escaped ("\n" doubles it). */
    struct queue_meta *meta = queue_meta_new();
    char *big = g_malloc(QUEUE_FILE_MAX_LINE / 2 + 1);
    memset(big, '\n', QUEUE_FILE_MAX_LINE / 2 + 1);
    queue_meta_set_len(meta, "recipients", big, QUEUE_FILE_MAX_LINE / 2 + 1);
    GString *out = g_string_new(NULL);
    char *error = NULL;
    assert_int_equal(queue_file_format_header(out, meta, 0, &error), -1);
    assert_non_null(strstr(error, "longer than"));
    g_free(error);
    assert_int_equal(queue_file_check_header(meta, NULL, 0, &error), -1);
    assert_non_null(strstr(error, "longer than"));
    g_free(error);
    /* skipped, the key is no longer in the way */
    assert_int_equal(queue_file_check_header(meta, "recipients", 0, &error), 0);
    g_free(big);
    g_string_free(out, TRUE);
    queue_meta_free(meta);
}

static void test_malformed_files(void **state)
{
    GString *huge = g_string_new("crier-queue 1\nmessage-size: 0\nbig: ");
    for (size_t i = 0; i < QUEUE_FILE_MAX_LINE + 10; i++)
        g_string_append_c(huge, 'x');
    g_string_append(huge, "\n\n");
    static const struct {
        const char *name;
        const char *data; /* NULL: the huge line above */
        const char *error_part;
    } cases[] = {
        {"empty file", "", "not a crier queue file"},
        {"a pickle", "\x80\x04\x95", "not a crier queue file"},
        {"other version", "crier-queue 2\nmessage-size: 0\n\n", "unsupported queue file version"},
        {"version with junk", "crier-queue 1x\nmessage-size: 0\n\n", "unsupported"},
        {"truncated in metadata", "crier-queue 1\nmessage-size: 3\nlistid: a", "truncated"},
        {"no blank line", "crier-queue 1\nmessage-size: 0\n", "truncated"},
        {"truncated message", "crier-queue 1\nmessage-size: 10\n\nshort", "truncated message"},
        {"trailing bytes", "crier-queue 1\nmessage-size: 1\n\nab", "after the message"},
        {"no size", "crier-queue 1\nlistid: a\n\n", "missing message-size"},
        {"size twice", "crier-queue 1\nmessage-size: 0\nmessage-size: 0\n\n", "message-size"},
        {"size with zero", "crier-queue 1\nmessage-size: 01\n\nx", "message-size"},
        {"size negative", "crier-queue 1\nmessage-size: -1\n\n", "message-size"},
        {"duplicate key", "crier-queue 1\nmessage-size: 0\na: 1\na: 2\n\n", "repeated"},
        {"no colon", "crier-queue 1\nmessage-size: 0\njust text\n\n", "no valid key"},
        {"bad key", "crier-queue 1\nmessage-size: 0\nsp ace: 1\n\n", "no valid key"},
        {"runtime key", "crier-queue 1\nmessage-size: 0\n_parsemsg: 1\n\n", "no valid key"},
        {"no space", "crier-queue 1\nmessage-size: 0\na:1\n\n", "malformed metadata line"},
        {"bad escape", "crier-queue 1\nmessage-size: 0\na: \\q\n\n", "bad escape"},
        {"cut escape", "crier-queue 1\nmessage-size: 0\na: \\x4\n\n", "bad escape"},
        {"raw control", "crier-queue 1\nmessage-size: 0\na: x\ry\n\n", "bad escape"},
        {"huge metadata line", NULL, "longer than"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *data = cases[i].data ? cases[i].data : huge->str;
        size_t len = cases[i].data ? strlen(data) : huge->len;
        struct queue_meta *meta = NULL;
        size_t off;
        char *error = NULL;
        if (queue_file_parse(data, len, &meta, &off, &error) != -1)
            fail_msg("case \"%s\" was accepted", cases[i].name);
        assert_null(meta);
        if (error == NULL || strstr(error, cases[i].error_part) == NULL)
            fail_msg("case \"%s\": error \"%s\"", cases[i].name, error);
        g_free(error);
    }
    g_string_free(huge, TRUE);

    /* A NUL inside a key must not cut it short. */
    static const char nul_key[] = "crier-queue 1\nmessage-size: 0\nab\0cd: 1\n\n";
    struct queue_meta *meta = NULL;
    size_t off;
    char *error = NULL;
    assert_int_equal(queue_file_parse(nul_key, sizeof nul_key - 1, &meta, &off, &error), -1);
    g_free(error);
}

static void test_too_many_keys(void **state)
{
    GString *img = g_string_new("crier-queue 1\nmessage-size: 0\n");
    for (unsigned i = 0; i <= QUEUE_FILE_MAX_KEYS; i++)
        g_string_append_printf(img, "k%u: v\n", i);
    g_string_append_c(img, '\n');
    struct queue_meta *meta = NULL;
    size_t off;
    char *error = NULL;
    assert_int_equal(queue_file_parse(img->str, img->len, &meta, &off, &error), -1);
    assert_non_null(strstr(error, "metadata keys"));
    g_free(error);
    g_string_free(img, TRUE);
}

static void test_base_names(void **state)
{
    char *a = queue_file_new_base("x", 1, "y", 1);
    char *b = queue_file_new_base("x", 1, "y", 1);
    /* Same content, still distinct names. */
    assert_string_not_equal(a, b);
    struct queue_file_base pa, pb;
    assert_true(queue_file_parse_base(a, strlen(a), &pa));
    assert_true(queue_file_parse_base(b, strlen(b), &pb));
    assert_true(queue_file_compare(&pa, a, &pb, b) < 0);
    /* "<seconds>.<7 digits>+<40 hex>" as Mailman shows them. */
    assert_true(g_regex_match_simple("^[0-9]+\\.[0-9]{7}\\+[0-9a-f]{40}$", a, 0, 0));
    g_free(a);
    g_free(b);

#define H40 "1458aa1458aa1458aa1458aa1458aa1458aa1458"
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"1795470202.7844224+" H40, true},
        {"1795470202+" H40, true},
        {"1795470202.78+1458AA1458aa1458aa1458aa1458aa1458aa1458", true},
        {"1795470202.+" H40, false},
        {"1795470202.7844224+1458aa", false},
        {"1795470202.7844224+" H40 "0", false},
        {"1795470202.7844224-" H40, false},
        {"x795470202.7844224+" H40, false},
        {"1795470202.7844224+1458aa1458aa1458aa1458aa1458aa1458aa145g", false},
        {"", false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct queue_file_base p;
        if (queue_file_parse_base(cases[i].name, strlen(cases[i].name), &p) != cases[i].ok)
            fail_msg("base \"%s\" misjudged", cases[i].name);
    }
}

static void test_fifo_compare_is_numeric(void **state)
{
    /* 9.5 s comes before 10.25 s although "10" < "9" as text. */
    const char *early = "9.5+0000000000000000000000000000000000000000";
    const char *late = "10.25+0000000000000000000000000000000000000000";
    const char *later = "10.3+0000000000000000000000000000000000000000";
    struct queue_file_base e, l, l2;
    assert_true(queue_file_parse_base(early, strlen(early), &e));
    assert_true(queue_file_parse_base(late, strlen(late), &l));
    assert_true(queue_file_parse_base(later, strlen(later), &l2));
    assert_true(queue_file_compare(&e, early, &l, late) < 0);
    assert_true(queue_file_compare(&l, late, &l2, later) < 0);
    assert_int_equal(l.nanos, 250000000);
}

static void test_slices(void **state)
{
    static const struct {
        const char *hex;
        unsigned count, index;
    } cases[] = {
        {"0000000000000000000000000000000000000000", 4, 0},
        {"3fffffffffffffffffffffffffffffffffffffff", 4, 0},
        {"4000000000000000000000000000000000000000", 4, 1},
        {"8000000000000000000000000000000000000000", 2, 1},
        {"7fffffffffffffffffffffffffffffffffffffff", 2, 0},
        {"ffffffffffffffffffffffffffffffffffffffff", 8, 7},
        {"ffffffffffffffffffffffffffffffffffffffff", 1, 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("1.0+%s", cases[i].hex);
        struct queue_file_base b;
        assert_true(queue_file_parse_base(name, strlen(name), &b));
        for (unsigned s = 0; s < cases[i].count; s++)
            assert_int_equal(queue_file_in_slice(&b, cases[i].count, s), s == cases[i].index);
    }
    char *error = NULL;
    assert_int_equal(queue_file_check_slice(3, 0, &error), -1);
    g_free(error);
    error = NULL;
    assert_int_equal(queue_file_check_slice(4, 4, &error), -1);
    g_free(error);
    assert_int_equal(queue_file_check_slice(4, 3, &error), 0);
}

static void test_meta_map(void **state)
{
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "b", "1");
    queue_meta_set(meta, "a", "2");
    queue_meta_set(meta, "b", "3"); /* keeps its place */
    assert_int_equal(queue_meta_count(meta), 2);
    assert_string_equal(queue_meta_nth(meta, 0, NULL, NULL), "b");
    assert_string_equal(queue_meta_get(meta, "b"), "3");
    uint64_t n;
    char *error = NULL;
    assert_int_equal(queue_meta_get_uint(meta, "b", &n, &error), 1);
    assert_int_equal(n, 3);
    assert_int_equal(queue_meta_get_uint(meta, "zz", &n, &error), 0);
    queue_meta_set(meta, "c", "+4");
    assert_int_equal(queue_meta_get_uint(meta, "c", &n, &error), -1);
    g_free(error);
    assert_true(queue_meta_remove(meta, "a"));
    assert_false(queue_meta_remove(meta, "a"));
    assert_null(queue_meta_get(meta, "a"));
    queue_meta_free(meta);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_round_trip),
        cmocka_unit_test(test_escape_any_byte_at_any_offset),
        cmocka_unit_test(test_escape_matches_reference_on_random_buffers),
        cmocka_unit_test(test_every_byte_and_long_value),
        cmocka_unit_test(test_streaming_writer_matches_format),
        cmocka_unit_test(test_writer_refuses_what_reader_would),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_too_many_keys),
        cmocka_unit_test(test_base_names),
        cmocka_unit_test(test_fifo_compare_is_numeric),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_meta_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
