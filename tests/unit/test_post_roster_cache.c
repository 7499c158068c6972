/* Unit tests for post_roster_cache: a kept roster is found only at its
 * version, addresses are found by binary search in byte order, small or
 * oversized rosters are not kept, and storing one that does not fit
 * empties the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "post/post_roster_cache.h"

#include <glib.h>
#include <string.h>

static GHashTable *no_copy(const char *addr)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (addr)
        g_hash_table_add(h, g_strdup(addr));
    return h;
}

static void test_versions(void **state)
{
    (void)state;
    struct post_roster_cache *c = post_roster_cache_new(2, 1 << 20);
    const char *all = "0@x\nA@x\na@x\nab@x\nb@x";
    bool kept;
    struct post_roster *r =
        post_roster_cache_put(c, "l.x", 7, g_strdup(all), strlen(all), no_copy("b@x"), &kept);
    assert_true(kept);
    assert_int_equal(r->n, 5);
    assert_ptr_equal(post_roster_cache_get(c, "l.x", 7), r);
    assert_null(post_roster_cache_get(c, "m.x", 7));
    /* Another version: gone, also for the version it had. */
    assert_null(post_roster_cache_get(c, "l.x", 8));
    assert_null(post_roster_cache_get(c, "l.x", 7));
    post_roster_cache_free(c);
}

static void test_find(void **state)
{
    (void)state;
    struct post_roster_cache *c = post_roster_cache_new(1, 1 << 20);
    const char *all = "0@x\nA@x\na@x\nab@x\nb@x";
    bool kept;
    struct post_roster *r =
        post_roster_cache_put(c, "l.x", 1, g_strdup(all), strlen(all), no_copy(NULL), &kept);
    assert_int_equal(post_roster_find(r, "0@x"), 0);
    assert_int_equal(post_roster_find(r, "A@x"), 1);
    assert_int_equal(post_roster_find(r, "a@x"), 2);
    assert_int_equal(post_roster_find(r, "ab@x"), 3);
    assert_int_equal(post_roster_find(r, "b@x"), 4);
    assert_int_equal(post_roster_find(r, "a@"), -1);
    assert_int_equal(post_roster_find(r, "a@xx"), -1);
    assert_int_equal(post_roster_find(r, "c@x"), -1);
    assert_int_equal(post_roster_find(r, ""), -1);
    post_roster_cache_free(c);
    /* An empty roster, not kept, still answers. */
    c = post_roster_cache_new(1, 1 << 20);
    r = post_roster_cache_put(c, "e.x", 1, g_strdup(""), 0, no_copy(NULL), &kept);
    assert_false(kept);
    assert_int_equal(r->n, 0);
    assert_int_equal(post_roster_find(r, "a@x"), -1);
    post_roster_free(r);
    post_roster_cache_free(c);
}

static void test_limits(void **state)
{
    (void)state;
    /* Fewer members than the minimum: handed back, not kept. */
    struct post_roster_cache *c = post_roster_cache_new(3, 64);
    bool kept;
    struct post_roster *r =
        post_roster_cache_put(c, "a.x", 1, g_strdup("a@x\nb@x"), 7, no_copy(NULL), &kept);
    assert_false(kept);
    assert_int_equal(post_roster_find(r, "b@x"), 1);
    post_roster_free(r);
    assert_null(post_roster_cache_get(c, "a.x", 1));
    /* 3 addresses: 12 bytes of text + 12 of offsets = 24; two fit in 64. */
    r = post_roster_cache_put(c, "a.x", 1, g_strdup("a@x\nb@x\nc@x"), 11, no_copy(NULL), &kept);
    assert_true(kept);
    r = post_roster_cache_put(c, "b.x", 1, g_strdup("d@x\ne@x\nf@x"), 11, no_copy(NULL), &kept);
    assert_true(kept);
    assert_non_null(post_roster_cache_get(c, "a.x", 1));
    assert_non_null(post_roster_cache_get(c, "b.x", 1));
    /* A third does not fit: the cache is emptied first. */
    r = post_roster_cache_put(c, "c.x", 1, g_strdup("g@x\nh@x\ni@x"), 11, no_copy(NULL), &kept);
    assert_true(kept);
    assert_null(post_roster_cache_get(c, "a.x", 1));
    assert_null(post_roster_cache_get(c, "b.x", 1));
    assert_ptr_equal(post_roster_cache_get(c, "c.x", 1), r);
    /* Larger than the whole cache: not kept, the others stay. */
    g_autofree char *xs = g_strnfill(70, 'x');
    char *big = g_strdup_printf("%s\nb@x\nc@x", xs);
    r = post_roster_cache_put(c, "d.x", 1, big, strlen(big), no_copy(NULL), &kept);
    assert_false(kept);
    post_roster_free(r);
    assert_non_null(post_roster_cache_get(c, "c.x", 1));
    post_roster_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
