/* Unit tests for DMARC mitigation: the policy record as Mailman reads it,
 * the organisational domain from the public suffix list, the DNS answer
 * (CNAME chains, TTLs), Mailman's wrap() and the "via" realname. Expected
 * values come from Mailman 3.3.8's own functions run on the same input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "post/post_dmarc.h"
#include "post/post_dmarc_dns.h"

#include <glib.h>
#include <string.h>
#include <unistd.h>

static GPtrArray *records(const char *const *v)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    for (; *v; v++)
        g_ptr_array_add(a, g_strdup(*v));
    return a;
}

static void test_policy(void **state)
{
    static const struct {
        const char *txt[3];
        bool org;
        enum post_dmarc_policy want;
        const char *policy;
    } cases[] = {
        {{"v=DMARC1; p=reject;"}, false, POST_DMARC_YES, "reject"},
        {{"v=DMARC1; p=Quarantine; rua=mailto:x@example.biz"}, false, POST_DMARC_YES, "quarantine"},
        {{"v=DMARC1; p=none;"}, false, POST_DMARC_NO, NULL},
        {{"v=DMARC1; pct=100;"}, false, POST_DMARC_NO, NULL},       /* no policy */
        {{"v=DMARC1; sp=quarantine;"}, false, POST_DMARC_NO, NULL}, /* sp only counts for org */
        {{"v=DMARC1; sp=quarantine;"}, true, POST_DMARC_YES, "quarantine"},
        {{"v=DMARC1; p=none; sp=reject"}, true, POST_DMARC_YES, "reject"},
        {{"v=DMARC1; p=reject; sp=none"}, true, POST_DMARC_NO, NULL}, /* sp wins */
        {{"v=DMARC1; p=reject; sp=none"}, false, POST_DMARC_YES, "reject"},
        {{"v=DMARC01; p=reject;"}, false, POST_DMARC_KEEP_LOOKING, NULL},
        {{"v=spf1 -all"}, false, POST_DMARC_KEEP_LOOKING, NULL},
        {{"v=DMARC1;p=reject"}, false, POST_DMARC_YES, "reject"},
        {{"V=DMARC1; p=reject"}, false, POST_DMARC_KEEP_LOOKING, NULL}, /* prefix is exact */
        {{"v=spf1 -all", "v=DMARC1; p=reject"}, false, POST_DMARC_YES, "reject"},
        /* RFC 7489 §6.6.3: several records mean none */
        {{"v=DMARC1; p=reject;", "v=DMARC1; p=none;"}, false, POST_DMARC_NO, NULL},
        {{NULL}, false, POST_DMARC_KEEP_LOOKING, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) txt = records(cases[i].txt);
        g_autofree char *policy = NULL, *entry = NULL;
        enum post_dmarc_policy got =
            post_dmarc_policy(txt, cases[i].org, "_dmarc.example.biz", &policy, &entry);
        if (got != cases[i].want)
            fail_msg("case %zu (%s): got %d want %d", i, cases[i].txt[0], got, cases[i].want);
        if (g_strcmp0(policy, cases[i].policy) != 0)
            fail_msg("case %zu: policy %s want %s", i, policy, cases[i].policy);
        if (got == POST_DMARC_YES)
            assert_non_null(entry);
    }
}

static void test_psl_parse(void **state)
{
    /* Mailman's rules/tests/data/org_domain.txt */
    g_autoptr(GHashTable) r = post_dmarc_psl_parse("// comment\nbiz\ncom\norg\n*.kobe.jp\n"
                                                   "!city.kobe.jp\nco.uk  some nonsense\n"
                                                   "  example.biz\n");
    assert_false(g_hash_table_contains(r, "example.biz")); /* the line starts with space */
    assert_int_equal(GPOINTER_TO_INT(g_hash_table_lookup(r, "city.kobe.jp")), 2);
    assert_int_equal(GPOINTER_TO_INT(g_hash_table_lookup(r, "*.kobe.jp")), 1);
    assert_int_equal(GPOINTER_TO_INT(g_hash_table_lookup(r, "co.uk")), 1);
    assert_int_equal(g_hash_table_size(r), 6);
    static const char *const cases[][2] = {
        {"sub.dom.example.nxtld", "example.nxtld"},
        {"ssub.sub.foo.kobe.jp", "sub.foo.kobe.jp"},
        {"ssub.sub.city.kobe.jp", "city.kobe.jp"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = post_dmarc_org_domain(r, cases[i][0]);
        assert_string_equal(got, cases[i][1]);
    }
}

static void test_org_domain_debian_list(void **state)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(POST_DMARC_PSL_FILE, &text, NULL, NULL))
        skip(); /* Debian's publicsuffix package is a build dependency */
    g_autoptr(GHashTable) r = post_dmarc_psl_parse(text);
    /* What Mailman's get_organizational_domain() gives with this file. */
    static const char *const cases[][2] = {
        {"example.com", "example.com"},
        {"mail.example.com", "example.com"},
        {"A.B.Example.COM", "example.com"},
        {"a.b.example.co.uk", "example.co.uk"},
        {"example.co.uk", "example.co.uk"},
        {"co.uk", "co.uk"},
        {"ssub.sub.foo.kobe.jp", "sub.foo.kobe.jp"},
        {"ssub.sub.city.kobe.jp", "city.kobe.jp"},
        {"city.kobe.jp", "city.kobe.jp"},
        {"sub.dom.example.nxtld", "example.nxtld"},
        {"localhost", "localhost"},
        {"lists.orgdom.test", "orgdom.test"},
        {"x.y.s3.amazonaws.com", "y.s3.amazonaws.com"},
        {"www.ck", "www.ck"},
        {"a.www.ck", "www.ck"},
        {"foo.bar.\xe5\x85\xac\xe5\x8f\xb8.cn", "bar.\xe5\x85\xac\xe5\x8f\xb8.cn"},
        {"x.blogspot.com", "x.blogspot.com"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = post_dmarc_org_domain(r, cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("%s: got %s want %s", cases[i][0], got, cases[i][1]);
    }
}

/* ---- DNS answers, built by hand ---- */

static void put16(GByteArray *b, unsigned v)
{
    guint8 x[2] = {(guint8)(v >> 8), (guint8)v};
    g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, unsigned long v)
{
    put16(b, (unsigned)(v >> 16));
    put16(b, (unsigned)(v & 0xffff));
}

static void put_name(GByteArray *b, const char *name)
{
    g_auto(GStrv) labels = g_strsplit(name, ".", -1);
    for (char **l = labels; *l; l++) {
        if (**l == '\0')
            continue;
        guint8 n = (guint8)strlen(*l);
        g_byte_array_append(b, &n, 1);
        g_byte_array_append(b, (const guint8 *)*l, n);
    }
    guint8 z = 0;
    g_byte_array_append(b, &z, 1);
}

static GByteArray *answer(const char *qname, unsigned an, unsigned ns)
{
    GByteArray *b = g_byte_array_new();
    put16(b, 0x1234);
    put16(b, 0x8180);
    put16(b, 1);
    put16(b, an);
    put16(b, ns);
    put16(b, 0);
    put_name(b, qname);
    put16(b, 16);
    put16(b, 1);
    return b;
}

static void rr_head(GByteArray *b, const char *owner, unsigned type, unsigned long ttl)
{
    put_name(b, owner);
    put16(b, type);
    put16(b, 1);
    put32(b, ttl);
}

/* A TXT record of strings separated by '|'. */
static void rr_txt(GByteArray *b, const char *owner, unsigned long ttl, const char *strings)
{
    rr_head(b, owner, 16, ttl);
    g_auto(GStrv) v = g_strsplit(strings, "|", -1);
    unsigned len = 0;
    for (char **s = v; *s; s++)
        len += 1 + (unsigned)strlen(*s);
    put16(b, len);
    for (char **s = v; *s; s++) {
        guint8 n = (guint8)strlen(*s);
        g_byte_array_append(b, &n, 1);
        g_byte_array_append(b, (const guint8 *)*s, n);
    }
}

static void rr_cname(GByteArray *b, const char *owner, unsigned long ttl, const char *target)
{
    rr_head(b, owner, 5, ttl);
    GByteArray *t = g_byte_array_new();
    put_name(t, target);
    put16(b, t->len);
    g_byte_array_append(b, t->data, t->len);
    g_byte_array_unref(t);
}

static void rr_soa(GByteArray *b, const char *owner, unsigned long ttl, unsigned long minimum)
{
    rr_head(b, owner, 6, ttl);
    GByteArray *t = g_byte_array_new();
    put_name(t, "ns.example.biz");
    put_name(t, "hostmaster.example.biz");
    put32(t, 1);
    put32(t, 3600);
    put32(t, 600);
    put32(t, 86400);
    put32(t, minimum);
    put16(b, t->len);
    g_byte_array_append(b, t->data, t->len);
    g_byte_array_unref(t);
}

static enum post_dmarc_dns_status parse(GByteArray *b, const char *qname, char **first_r,
                                        char **cname_r, long *ttl_r, guint *n_r)
{
    GPtrArray *txt = NULL;
    enum post_dmarc_dns_status st =
        post_dmarc_dns_parse(b->data, (int)b->len, qname, &txt, cname_r, ttl_r);
    *first_r = txt && txt->len ? g_strdup(txt->pdata[0]) : NULL;
    *n_r = txt ? txt->len : 0;
    if (txt)
        g_ptr_array_unref(txt);
    g_byte_array_unref(b);
    return st;
}

static void test_dns_answers(void **state)
{
    const char *q = "_dmarc.example.biz";
    g_autofree char *first = NULL, *cname = NULL;
    long ttl;
    guint n;

    /* one record in two character-strings, joined */
    GByteArray *b = answer(q, 2, 0);
    rr_txt(b, q, 300, "v=DMARC1; |p=reject;");
    rr_txt(b, q, 100, "v=spf1 -all");
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_FOUND);
    assert_string_equal(first, "v=DMARC1; p=reject;");
    assert_string_equal(cname, "_dmarc.example.biz.");
    assert_int_equal(n, 2);
    assert_int_equal(ttl, 100);
    g_clear_pointer(&first, g_free);
    g_clear_pointer(&cname, g_free);

    /* an upper-case owner (Mailman's test_uppercase_in_returned_domain) */
    b = answer(q, 1, 0);
    rr_txt(b, "_dmarc.EXAMPLE.biz", 60, "v=DMARC1; p=reject;");
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_FOUND);
    g_clear_pointer(&first, g_free);
    g_clear_pointer(&cname, g_free);

    /* a CNAME chain: the records of its end (test_multiple_cnames) */
    b = answer(q, 3, 0);
    rr_cname(b, "_dmarc.EXAMPLE.biz", 60, "_dmarc.example.net");
    rr_cname(b, "_dmarc.example.net", 60, "_dmarc.example.com");
    rr_txt(b, "_dmarc.example.com", 30, "v=DMARC1; p=quarantine;");
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_FOUND);
    assert_string_equal(first, "v=DMARC1; p=quarantine;");
    assert_string_equal(cname, "_dmarc.example.com.");
    assert_int_equal(ttl, 30);
    g_clear_pointer(&first, g_free);
    g_clear_pointer(&cname, g_free);

    /* a CNAME loop ends at the last new name (test_looping_cnames) */
    b = answer(q, 3, 0);
    rr_cname(b, q, 60, "_dmarc.example.org");
    rr_cname(b, "_dmarc.example.org", 60, q);
    rr_txt(b, "_dmarc.example.org", 60, "v=DMARC1; p=reject;");
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_FOUND);
    assert_string_equal(cname, "_dmarc.example.org.");
    g_clear_pointer(&first, g_free);
    g_clear_pointer(&cname, g_free);

    /* TXT records of another name than the chain's end do not count */
    b = answer(q, 2, 0);
    rr_cname(b, q, 60, "_dmarc.example.net");
    rr_txt(b, q, 60, "v=DMARC1; p=reject;");
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_NONE);

    /* NXDOMAIN / NODATA: the negative TTL is min(SOA TTL, SOA minimum) */
    b = answer(q, 0, 1);
    rr_soa(b, "example.biz", 3600, 900);
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_NONE);
    assert_int_equal(ttl, 900);
    b = answer(q, 0, 0);
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_NONE);
    assert_int_equal(ttl, -1);

    /* malformed: truncated inside a record, a TXT string past its rdata */
    b = answer(q, 1, 0);
    rr_txt(b, q, 60, "v=DMARC1; p=reject;");
    g_byte_array_set_size(b, b->len - 5);
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_FAIL);
    b = answer(q, 1, 0);
    rr_txt(b, q, 60, "abc");
    b->data[b->len - 4] = 9; /* the string's length */
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_NONE);
    b = g_byte_array_new();
    put16(b, 1);
    assert_int_equal(parse(b, q, &first, &cname, &ttl, &n), POST_DMARC_DNS_FAIL);
}

/* No server: a lookup fails within the lifetime, and is not cached. */
static void test_dns_no_server(void **state)
{
    struct config *cfg = NULL;
    char *err = NULL;
    /* a UDP port nobody listens on: refused at once, or timed out */
    assert_int_equal(config_load_text("[dmarc]\nresolver: 127.0.0.1:9\nresolver_timeout: 1s\n"
                                      "resolver_lifetime: 2s\n",
                                      "/tmp/t/mailman.cfg", "/usr/bin", &cfg, &err),
                     0);
    gint64 t0 = g_get_monotonic_time();
    GPtrArray *txt = NULL;
    char *cname = NULL;
    assert_int_equal(post_dmarc_dns_txt(cfg, "_dmarc.example.biz", &txt, &cname, &err),
                     POST_DMARC_DNS_FAIL);
    assert_true(g_get_monotonic_time() - t0 < 3 * G_USEC_PER_SEC);
    assert_non_null(err);
    g_free(err);
    err = NULL;
    config_free(cfg);
    /* a bad resolver address is a failure with a reason, not a crash */
    assert_int_equal(config_load_text("[dmarc]\nresolver: not an address\n", "/tmp/t/mailman.cfg",
                                      "/usr/bin", &cfg, &err),
                     0);
    assert_int_equal(post_dmarc_dns_txt(cfg, "_dmarc.example.biz", &txt, &cname, &err),
                     POST_DMARC_DNS_FAIL);
    assert_non_null(strstr(err, "[dmarc] resolver"));
    g_free(err);
    config_free(cfg);
}

/* wrap() of piece repeated n times, split into lines (g_strfreev). */
static char **wrap_repeated(const char *piece, int n)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n; i++)
        g_string_append(s, piece);
    g_autofree char *w = post_dmarc_wrap(s->str);
    g_string_free(s, TRUE);
    return g_strsplit(w, "\n", -1);
}

static void test_wrap(void **state)
{
    /* Mailman's utilities.string.wrap() on the same text */
    static const char *const cases[][2] = {
        {"You are not allowed to post to this mailing list From: a domain which publishes a "
         "DMARC policy of reject or quarantine, and your message has been automatically "
         "rejected.  If you think that your messages are being rejected in error, contact the "
         "mailing list owner at ant-owner@example.com.",
         "You are not allowed to post to this mailing list From: a domain which\n"
         "publishes a DMARC policy of reject or quarantine, and your message has\n"
         "been automatically rejected.  If you think that your messages are\n"
         "being rejected in error, contact the mailing list owner at\n"
         "ant-owner@example.com."},
        {"Short text.\n", "Short text."},
        {"para one is here. It goes on\nacross lines.\n\npara two\n  indented stays   as is\n"
         "back to normal\n",
         "para one is here.  It goes on across lines.\n\npara two\n  indented stays   as is\n"
         "back to normal"},
        {"a\tb c. D e? f", "a       b c.  D e?  f"},
        {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx tail",
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
         "xxxxxxxxxx tail"},
        {"\n\nlead blank\n\n\n", "\n\nlead blank\n\n\n"},
        {"word xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "word xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nxxxxxxxxxx"},
        {"", ""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = post_dmarc_wrap(cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("case %zu:\n got [%s]\nwant [%s]", i, got, cases[i][1]);
    }
    /* a run of spaces longer than a line, and sentences ("Hi." is one) */
    g_autofree char *spaces = g_strdup_printf("a%*sb", 100, "");
    g_autofree char *sp = post_dmarc_wrap(spaces);
    assert_string_equal(sp, "a\nb");
    g_auto(GStrv) his = wrap_repeated("Hi. ", 30);
    assert_int_equal(g_strv_length(his), 3);
    assert_string_equal(his[0],
                        "Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.  Hi.");
    assert_string_equal(his[2], "Hi.  Hi.");
    /* a word longer than a line is cut by characters, not bytes */
    g_auto(GStrv) elines = wrap_repeated("\xc3\xa9", 150);
    assert_int_equal(g_strv_length(elines), 3);
    assert_int_equal(g_utf8_strlen(elines[0], -1), 70);
    assert_int_equal(g_utf8_strlen(elines[2], -1), 10);
    /* widths count characters, not bytes */
    g_auto(GStrv) lines = wrap_repeated("caf\xc3\xa9 ", 30);
    assert_int_equal(g_strv_length(lines), 3);
    assert_int_equal(g_utf8_strlen(lines[0], -1), 69); /* 14 words */
}

static void test_realname(void **state)
{
    static const char *const cases[][2] = {
        {"Anne Person", "Anne Person"},
        {"anne@example.biz", "anne---"},
        {"anne@mail.example.co.uk", "anne---"},
        {"Anne (anne@example.biz)", "Anne (anne---"},
        {"anne@example.biz Person", "anne@example.biz Person"}, /* not at the end */
        {"anne@localhost", "anne@localhost"},
        {"", ""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = post_dmarc_realname(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_psl_parse),
        cmocka_unit_test(test_org_domain_debian_list),
        cmocka_unit_test(test_dns_answers),
        cmocka_unit_test(test_dns_no_server),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_realname),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
