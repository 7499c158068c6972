/* Unit tests for Mailman's LMTP addressing (reference §2, §12 items 2-4, 9-10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lmtp/lmtp_route.h"

#include <glib.h>
#include <string.h>

static bool exists(void *ctx, const char *fqdn)
{
    static const char *const lists[] = {"test@example.com", "test-join@example.com",
                                        "ant@example.com", "a.b_c@lists.example.org", NULL};
    for (const char *const *l = lists; *l; l++)
        if (strcmp(*l, fqdn) == 0)
            return true;
    return false;
}

static const char *alias_of(void *ctx, const char *domain)
{
    return strcmp(domain, "x.example.net") == 0 ? "example.com" : NULL;
}

static void test_routes(void **state)
{
    struct lmtp_route_lookup lk = {exists, alias_of, NULL, "+"};
    static const struct {
        const char *rcpt, *fqdn;
        enum lmtp_sub sub;
        const char *queue, *subaddress;
    } cases[] = {
        {"<test@example.com>", "test@example.com", LMTP_SUB_POST, "in", NULL},
        {"<TEST-Request@EXAMPLE.com>", "test@example.com", LMTP_SUB_REQUEST, "command", "request"},
        {"<test+x@example.com>", "test@example.com", LMTP_SUB_POST, "in", NULL},
        {"<test-bounces+bob=example.org@example.com>", "test@example.com", LMTP_SUB_BOUNCES,
         "bounces", "bounces"},
        {"<test-confirm+0123abcd@example.com>", "test@example.com", LMTP_SUB_CONFIRM, "command",
         "confirm"},
        {"<test-subscribe@example.com>", "test@example.com", LMTP_SUB_JOIN, "command", "join"},
        {"<test-unsubscribe@example.com>", "test@example.com", LMTP_SUB_LEAVE, "command", "leave"},
        {"<test-leave@example.com>", "test@example.com", LMTP_SUB_LEAVE, "command", "leave"},
        {"<test-owner@example.com>", "test@example.com", LMTP_SUB_OWNER, "in", "owner"},
        /* A list called test-join takes posts; test-join-join is its join address. */
        {"<test-join@example.com>", "test-join@example.com", LMTP_SUB_POST, "in", NULL},
        {"<test-join-join@example.com>", "test-join@example.com", LMTP_SUB_JOIN, "command", "join"},
        {"<ant@x.example.net>", "ant@example.com", LMTP_SUB_POST, "in", NULL},
        {"<a.b_c-owner@lists.example.org>", "a.b_c@lists.example.org", LMTP_SUB_OWNER, "in",
         "owner"},
        {"test@example.com", "test@example.com", LMTP_SUB_POST, "in", NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct lmtp_route r;
        if (lmtp_route_resolve(&lk, cases[i].rcpt, &r) != 1)
            fail_msg("%s: not routed", cases[i].rcpt);
        assert_string_equal(r.fqdn, cases[i].fqdn);
        assert_int_equal(r.sub, cases[i].sub);
        assert_string_equal(lmtp_route_queue(r.sub), cases[i].queue);
        if (cases[i].subaddress)
            assert_string_equal(lmtp_route_subaddress(r.sub), cases[i].subaddress);
        else
            assert_null(lmtp_route_subaddress(r.sub));
    }
}

static void test_refused(void **state)
{
    struct lmtp_route_lookup lk = {exists, alias_of, NULL, "+"};
    static const char *const refused[] = {
        "<nosuch@example.com>",
        "<test@example.org>",
        "<test-bogus@example.com>",
        "<-request@example.com>",
        "<>",
        "<test>",
        "<@example.com>",
        "<test@>",
        "<+x@example.com>",
        "<ant@x.example.com>",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        struct lmtp_route r;
        if (lmtp_route_resolve(&lk, refused[i], &r) != 0)
            fail_msg("%s: routed to %s", refused[i], r.fqdn);
    }
    /* Over-long addresses are refused, not truncated into another list. */
    g_autofree char *pad = g_strnfill(400, 'a');
    g_autofree char *big = g_strdup_printf("<test+%s@example.com>", pad);
    struct lmtp_route r;
    assert_int_equal(lmtp_route_resolve(&lk, big, &r), 1); /* the +suffix is cut first */
    g_autofree char *big2 = g_strdup_printf("<%s@example.com>", pad);
    assert_int_equal(lmtp_route_resolve(&lk, big2, &r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
