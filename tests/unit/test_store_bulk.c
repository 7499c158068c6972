/* Scale test for the store: a 100,000-member bulk import in one
 * transaction, then the roster streamed in one query. Prints the timings
 * (the figures quoted in the store's report come from here); asserts only a
 * generous bound so that a slow sanitizer build still passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "lib/fsutil.h"
#include "store/store.h"
#include "unit_check.h"

#define BULK_MEMBERS 100000
#define BULK_BOUND_S 60.0

struct tally {
    int64_t count;
    int64_t digests;
    char last[64];
    bool sorted;
};

static int count_member(const struct store_member *m, void *ctx)
{
    struct tally *t = ctx;
    t->count++;
    if (m->delivery_mode != STORE_DELIVERY_REGULAR)
        t->digests++;
    if (strcmp(t->last, m->email) > 0)
        t->sorted = false;
    g_strlcpy(t->last, m->email, sizeof(t->last));
    return 0;
}

static void test_bulk_import(void **state)
{
    (void)state;
    g_autofree char *dir = g_dir_make_tmp("crier-store-bulk-XXXXXX", NULL);
    g_autofree char *url = g_strconcat("sqlite://", dir, "/mailman.db", NULL);
    struct store *st = NULL;
    CHECK(store_open(url, &st, &err));
    CHECK(store_domain_create(st, "example.com", NULL, NULL, NULL, &err));
    CHECK(store_list_create(st, "big@example.com", NULL, NULL, &err));

    struct store_member_spec *specs = g_new0(struct store_member_spec, BULK_MEMBERS + 2);
    char **emails = g_new0(char *, BULK_MEMBERS + 2);
    for (int i = 0; i < BULK_MEMBERS; i++) {
        emails[i] = g_strdup_printf("User%06d@Example%d.org", i, i % 97);
        specs[i].email = emails[i];
        specs[i].display_name = i % 2 ? "Some Body" : NULL;
        specs[i].delivery_mode = i % 10 == 0 ? STORE_DELIVERY_MIME_DIGESTS : 0;
    }
    /* A duplicate of the first entry and an invalid address at the end. */
    specs[BULK_MEMBERS].email = "user000000@EXAMPLE0.org";
    specs[BULK_MEMBERS + 1].email = "no at sign";
    int *results = g_new0(int, BULK_MEMBERS + 2);

    gint64 t0 = g_get_monotonic_time();
    CHECK(store_member_add_bulk(st, "big.example.com", specs, BULK_MEMBERS + 2, results, &err));
    double import_s = (double)(g_get_monotonic_time() - t0) / 1e6;

    for (int i = 0; i < BULK_MEMBERS; i++)
        if (results[i] != 0)
            fail_msg("entry %d: %d", i, results[i]);
    assert_int_equal(results[BULK_MEMBERS], STORE_EXISTS);
    assert_int_equal(results[BULK_MEMBERS + 1], STORE_INVALID);

    int64_t n = 0;
    CHECK(store_member_count(st, "big.example.com", STORE_ROLE_MEMBER, &n, &err));
    assert_int_equal(n, BULK_MEMBERS);

    t0 = g_get_monotonic_time();
    struct tally t = {.sorted = true};
    struct store_roster_filter filter = {"big.example.com", STORE_MASK(STORE_ROLE_MEMBER), 0,
                                         STORE_MASK(STORE_DELIVERY_ENABLED)};
    CHECK(store_roster(st, &filter, count_member, &t, &err));
    double roster_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    assert_int_equal(t.count, BULK_MEMBERS);
    assert_int_equal(t.digests, BULK_MEMBERS / 10);
    assert_true(t.sorted);

    /* A second import of the same people only reports duplicates (a tenth
     * of them, to keep the sanitizer build quick). */
    t0 = g_get_monotonic_time();
    CHECK(store_member_add_bulk(st, "big.example.com", specs, BULK_MEMBERS / 10, results, &err));
    double again_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    assert_int_equal(results[0], STORE_EXISTS);
    assert_int_equal(results[BULK_MEMBERS / 10 - 1], STORE_EXISTS);
    CHECK(store_member_count(st, "big.example.com", 0, &n, &err));
    assert_int_equal(n, BULK_MEMBERS);

    t0 = g_get_monotonic_time();
    assert_int_equal(store_list_remove(st, "big.example.com", &err), 1);
    double remove_s = (double)(g_get_monotonic_time() - t0) / 1e6;

    printf("store bulk: import %d members %.2f s (%.0f/s), roster stream %.2f s, "
           "re-import of %d duplicates %.2f s, remove list %.2f s\n",
           BULK_MEMBERS, import_s, BULK_MEMBERS / import_s, roster_s, BULK_MEMBERS / 10, again_s,
           remove_s);
    assert_true(import_s < BULK_BOUND_S);
    assert_true(roster_s < BULK_BOUND_S);

    store_close(st);
    for (int i = 0; i < BULK_MEMBERS; i++)
        g_free(emails[i]);
    g_free(emails);
    g_free(specs);
    g_free(results);
    char *e = NULL;
    assert_int_equal(fs_remove_tree(dir, &e), 0);
    g_clear_pointer(&err, g_free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
