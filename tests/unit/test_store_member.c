/* Unit tests for the store's users, addresses, preferences, memberships,
 * rosters, findmember and address changes (a fresh SQLite file per test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
    *state = store_fixture_new((const char *const[]){"ant@example.com", "bee@example.com", NULL});
    return 0;
}

static int teardown(void **state)
{
    store_fixture_free(*state);
    return 0;
}

/* Collects "email role" lines from a roster or find. */
static int collect(const struct store_member *m, void *ctx)
{
    GString *out = ctx;
    g_string_append_printf(out, "%s %s %s;", m->email, m->list_id, store_role_name(m->role));
    return 0;
}

static char *roster(struct store *st, const char *list_id, unsigned roles, unsigned modes,
                    unsigned statuses)
{
    GString *out = g_string_new(NULL);
    struct store_roster_filter filter = {list_id, roles, modes, statuses};
    CHECK(store_roster(st, &filter, collect, out, &err));
    return g_string_free(out, FALSE);
}

static char *find(struct store *st, const char *pattern, const char *list_id, int role)
{
    GString *out = g_string_new(NULL);
    CHECK(store_member_find(st, pattern, list_id, role, collect, out, &err));
    return g_string_free(out, FALSE);
}

static void test_subscribe_and_duplicates(void **state)
{
    struct fixture *f = *state;
    struct store_member *m = NULL;
    CHECK(store_member_add(f->st, "ant.example.com", "Anne@Example.ORG", "Anne Person",
                           STORE_ROLE_MEMBER, 0, &m, &err));
    assert_int_equal(strlen(m->member_id), 32);
    assert_string_equal(m->list_id, "ant.example.com");
    assert_string_equal(m->email, "anne@example.org");
    assert_string_equal(m->original_email, "Anne@Example.ORG");
    assert_string_equal(m->display_name, "Anne Person");
    assert_non_null(m->user_id); /* subscribing creates a user */
    assert_int_equal(m->role, STORE_ROLE_MEMBER);
    assert_int_equal(m->delivery_mode, STORE_DELIVERY_REGULAR);
    assert_int_equal(m->delivery_status, STORE_DELIVERY_ENABLED);
    assert_int_equal(m->moderation_action, STORE_ACTION_UNSET);
    assert_true(m->last_warning_sent == STORE_TIME_MIN);
    assert_int_equal(m->bounce_score, 0);

    struct store_member *again = NULL;
    assert_int_equal(store_member_get(f->st, m->member_id, &again, &err), 1);
    assert_string_equal(again->email, "anne@example.org");
    store_member_free(again);
    assert_int_equal(store_member_get_by_email(f->st, "ANT.example.com", "ANNE@example.org",
                                               STORE_ROLE_MEMBER, &again, &err),
                     1);
    assert_string_equal(again->member_id, m->member_id);
    store_member_free(again);

    EXPECT_FAIL(store_member_add(f->st, "ant.example.com", "anne@example.org", NULL,
                                 STORE_ROLE_MEMBER, 0, NULL, &err),
                STORE_EXISTS, "Member already subscribed");
    /* Another role on the same list is another membership. */
    CHECK(store_member_add(f->st, "ant.example.com", "anne@example.org", NULL, STORE_ROLE_OWNER, 0,
                           NULL, &err));
    EXPECT_FAIL(store_member_add(f->st, "ant.example.com", "anne@example.org", NULL,
                                 STORE_ROLE_OWNER, 0, NULL, &err),
                STORE_EXISTS, "anne@example.org is already an owner of ant@example.com");
    EXPECT_FAIL(store_member_add(f->st, "nolist.example.com", "x@example.org", NULL,
                                 STORE_ROLE_MEMBER, 0, NULL, &err),
                STORE_NOT_FOUND, "No such list");
    EXPECT_FAIL(store_member_add(f->st, "ant.example.com", "not an address", NULL,
                                 STORE_ROLE_MEMBER, 0, NULL, &err),
                STORE_INVALID, "Invalid email address");
    EXPECT_FAIL(store_member_add(f->st, "ant.example.com", "x@example.org", NULL, 9, 0, NULL, &err),
                STORE_INVALID, "role");

    /* The same address on another list reuses address and user. */
    struct store_member *other = NULL;
    CHECK(store_member_add(f->st, "bee.example.com", "anne@EXAMPLE.org", "Ignored", 1,
                           STORE_DELIVERY_MIME_DIGESTS, &other, &err));
    assert_string_equal(other->user_id, m->user_id);
    assert_string_equal(other->display_name, "Anne Person");
    assert_int_equal(other->delivery_mode, STORE_DELIVERY_MIME_DIGESTS);
    store_member_free(other);
    store_member_free(m);

    /* A nonmember is a bare address, without a user. */
    struct store_member *nm = NULL;
    CHECK(store_member_add(f->st, "ant.example.com", "poster@example.net", NULL,
                           STORE_ROLE_NONMEMBER, 0, &nm, &err));
    assert_null(nm->user_id);
    store_member_free(nm);

    int64_t n = 0;
    CHECK(store_member_count(f->st, "ant.example.com", STORE_ROLE_MEMBER, &n, &err));
    assert_int_equal(n, 1);
    CHECK(store_member_count(f->st, "ant.example.com", 0, &n, &err));
    assert_int_equal(n, 3);
}

static void test_roster_and_unsubscribe(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *email;
        int role;
        int mode;
    } subs[] = {
        {"cris@example.com", STORE_ROLE_MEMBER, 0},
        {"anne@example.com", STORE_ROLE_MEMBER, 0},
        {"bart@example.com", STORE_ROLE_MEMBER, STORE_DELIVERY_PLAINTEXT_DIGESTS},
        {"olga@example.com", STORE_ROLE_OWNER, 0},
        {"mona@example.com", STORE_ROLE_MODERATOR, 0},
        {"nina@example.com", STORE_ROLE_NONMEMBER, 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++)
        CHECK(store_member_add(f->st, "ant.example.com", subs[i].email, NULL, subs[i].role,
                               subs[i].mode, NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "zed@example.com", NULL, STORE_ROLE_MEMBER, 0,
                           NULL, &err));

    g_autofree char *members =
        roster(f->st, "ant.example.com", STORE_MASK(STORE_ROLE_MEMBER), 0, 0);
    assert_string_equal(members, "anne@example.com ant.example.com member;"
                                 "bart@example.com ant.example.com member;"
                                 "cris@example.com ant.example.com member;");
    g_autofree char *admins =
        roster(f->st, "ant.example.com",
               STORE_MASK(STORE_ROLE_OWNER) | STORE_MASK(STORE_ROLE_MODERATOR), 0, 0);
    assert_string_equal(admins, "mona@example.com ant.example.com moderator;"
                                "olga@example.com ant.example.com owner;");
    g_autofree char *regular = roster(f->st, "ant.example.com", STORE_MASK(STORE_ROLE_MEMBER),
                                      STORE_MASK(STORE_DELIVERY_REGULAR), 0);
    assert_null(strstr(regular, "bart"));
    assert_non_null(strstr(regular, "anne"));

    /* Disabling delivery takes a member out of the enabled roster. */
    struct store_member *m = NULL;
    assert_int_equal(store_member_get_by_email(f->st, "ant.example.com", "cris@example.com",
                                               STORE_ROLE_MEMBER, &m, &err),
                     1);
    CHECK(store_member_set_delivery_status(f->st, m->member_id, STORE_DELIVERY_BY_BOUNCES, &err));
    CHECK(store_member_set_moderation_action(f->st, m->member_id, STORE_ACTION_HOLD, &err));
    CHECK(store_member_set_bounce_info(f->st, m->member_id, 3, 1000000, 2000000, 1, &err));
    g_autofree char *enabled = roster(f->st, "ant.example.com", STORE_MASK(STORE_ROLE_MEMBER), 0,
                                      STORE_MASK(STORE_DELIVERY_ENABLED));
    assert_null(strstr(enabled, "cris"));
    struct store_member *c = NULL;
    assert_int_equal(store_member_get(f->st, m->member_id, &c, &err), 1);
    assert_int_equal(c->delivery_status, STORE_DELIVERY_BY_BOUNCES);
    assert_int_equal(c->moderation_action, STORE_ACTION_HOLD);
    assert_int_equal(c->bounce_score, 3);
    assert_true(c->last_bounce_received == 1000000);
    assert_true(c->last_warning_sent == 2000000);
    assert_int_equal(c->total_warnings_sent, 1);
    store_member_free(c);
    CHECK(store_member_set_moderation_action(f->st, m->member_id, STORE_ACTION_UNSET, &err));
    EXPECT_FAIL(store_member_set_delivery_mode(f->st, "0123", 1, &err), STORE_NOT_FOUND,
                "No such member");
    store_member_free(m);

    assert_int_equal(
        store_member_remove(f->st, "ant.example.com", "ANNE@example.com", STORE_ROLE_MEMBER, &err),
        1);
    assert_int_equal(
        store_member_remove(f->st, "ant.example.com", "anne@example.com", STORE_ROLE_MEMBER, &err),
        0);
    assert_int_equal(
        store_member_remove(f->st, "ant.example.com", "olga@example.com", STORE_ROLE_MEMBER, &err),
        0);
    int64_t n = 0;
    CHECK(store_member_count(f->st, "ant.example.com", STORE_ROLE_MEMBER, &n, &err));
    assert_int_equal(n, 2);
    EXPECT_FAIL(store_member_count(f->st, "nolist.example.com", 0, &n, &err), STORE_NOT_FOUND,
                "No such list");

    /* Every list at once. */
    g_autofree char *everyone = roster(f->st, NULL, STORE_MASK(STORE_ROLE_MEMBER), 0, 0);
    assert_non_null(strstr(everyone, "zed@example.com bee.example.com member;"));
}

static int stop_after_two(const struct store_member *m, void *ctx)
{
    (void)m;
    int *seen = ctx;
    return ++*seen == 2 ? 42 : 0;
}

static void test_roster_stop(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        g_autofree char *e = g_strdup_printf("m%d@example.com", i);
        CHECK(
            store_member_add(f->st, "ant.example.com", e, NULL, STORE_ROLE_MEMBER, 0, NULL, &err));
    }
    int seen = 0;
    struct store_roster_filter filter = {"ant.example.com", 0, 0, 0};
    assert_int_equal(store_roster(f->st, &filter, stop_after_two, &seen, &err), 42);
    assert_int_equal(seen, 2);
    /* The statement was released: another roster works. */
    g_autofree char *all = roster(f->st, "ant.example.com", 0, 0, 0);
    assert_non_null(strstr(all, "m4@example.com"));
}

static void test_find(void **state)
{
    struct fixture *f = *state;
    CHECK(store_member_add(f->st, "ant.example.com", "anne@example.com", NULL, 1, 0, NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "anne@example.com", NULL, 2, 0, NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "bart@example.org", NULL, 1, 0, NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "b_x@example.org", NULL, 1, 0, NULL, &err));

    g_autofree char *anne = find(f->st, "ANNE", NULL, 0);
    assert_string_equal(anne, "anne@example.com ant.example.com member;"
                              "anne@example.com bee.example.com owner;");
    g_autofree char *owners = find(f->st, "anne", NULL, STORE_ROLE_OWNER);
    assert_string_equal(owners, "anne@example.com bee.example.com owner;");
    g_autofree char *regex = find(f->st, "^b.*@EXAMPLE\\.org$", NULL, 0);
    assert_string_equal(regex, "b_x@example.org bee.example.com member;"
                               "bart@example.org bee.example.com member;");
    /* LIKE wildcards in a substring are literal. */
    g_autofree char *underscore = find(f->st, "b_", NULL, 0);
    assert_string_equal(underscore, "b_x@example.org bee.example.com member;");
    g_autofree char *on_list = find(f->st, NULL, "ant.example.com", 0);
    assert_string_equal(on_list, "anne@example.com ant.example.com member;");
    g_autofree char *none = find(f->st, "nobody", NULL, 0);
    assert_string_equal(none, "");
    GString *sink = g_string_new(NULL);
    EXPECT_FAIL(store_member_find(f->st, "^(", NULL, 0, collect, sink, &err), STORE_INVALID,
                "Invalid regular expression");
    g_string_free(sink, TRUE);
}

static void test_change_address(void **state)
{
    struct fixture *f = *state;
    CHECK(store_member_add(f->st, "ant.example.com", "anne@example.com", NULL, 1, 0, NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "anne@example.com", NULL, 3, 0, NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "bart@example.com", NULL, 1, 0, NULL, &err));
    CHECK(store_ban_add(f->st, NULL, "anne@example.com", &err));

    EXPECT_FAIL(store_address_change(f->st, "anne@example.com", "bart@example.com", &err),
                STORE_EXISTS, "Address bart@example.com already exists; can't change.");
    EXPECT_FAIL(store_address_change(f->st, "nobody@example.com", "x@example.com", &err),
                STORE_NOT_FOUND, "Address nobody@example.com not found.");
    EXPECT_FAIL(store_address_change(f->st, "anne@example.com", "anne@example.com", &err),
                STORE_INVALID, "Addresses are not different.  Nothing to change.");
    EXPECT_FAIL(store_address_change(f->st, "anne@example.com", "not valid", &err), STORE_INVALID,
                "Address not valid is not a valid email address.");

    CHECK(store_address_change(f->st, "Anne@Example.com", "Anne.New@Example.com", &err));
    g_autofree char *found = find(f->st, "anne", NULL, 0);
    assert_string_equal(found, "anne.new@example.com ant.example.com member;"
                               "anne.new@example.com bee.example.com moderator;");
    struct store_address *a = NULL;
    assert_int_equal(store_address_get(f->st, "anne@example.com", &a, &err), 0);
    assert_int_equal(store_address_get(f->st, "ANNE.NEW@example.com", &a, &err), 1);
    assert_string_equal(a->original_email, "Anne.New@Example.com");
    store_address_free(a);
    assert_int_equal(store_ban_is_banned(f->st, NULL, "anne.new@example.com", &err), 1);
    assert_int_equal(store_ban_is_banned(f->st, NULL, "anne@example.com", &err), 0);
}

static int count_user(const struct store_user *u, void *ctx)
{
    (void)u;
    ++*(int *)ctx;
    return 0;
}

static void test_users_addresses_prefs(void **state)
{
    struct fixture *f = *state;
    struct store_user *u = NULL;
    CHECK(store_user_create(f->st, "Cris@Example.com", "Cris", "$6$hash", false, &u, &err));
    assert_int_equal(strlen(u->user_id), 32);
    assert_string_equal(u->display_name, "Cris");
    assert_string_equal(u->password, "$6$hash");
    assert_false(u->is_server_owner);
    assert_true(u->created_on > 0);
    g_autofree char *uid = g_strdup(u->user_id);
    store_user_free(u);
    EXPECT_FAIL(store_user_create(f->st, "cris@example.com", NULL, NULL, false, NULL, &err),
                STORE_EXISTS, "Address already exists");

    CHECK(store_address_create(f->st, "cris2@example.com", NULL, NULL, &err));
    EXPECT_FAIL(store_address_create(f->st, "CRIS2@example.com", NULL, NULL, &err), STORE_EXISTS,
                "Address already exists");
    CHECK(store_address_set_user(f->st, "cris2@example.com", uid, &err));
    EXPECT_FAIL(store_user_set_preferred(f->st, uid, "cris2@example.com", &err), STORE_INVALID,
                "verified");
    CHECK(store_address_set_verified(f->st, "cris2@example.com", 1234, &err));
    CHECK(store_user_set_preferred(f->st, uid, "cris2@example.com", &err));
    CHECK(store_user_set_server_owner(f->st, uid, true, &err));
    assert_int_equal(store_user_get(f->st, uid, &u, &err), 1);
    assert_string_equal(u->preferred_email, "cris2@example.com");
    assert_true(u->is_server_owner);
    store_user_free(u);

    int owners = 0;
    CHECK(store_user_foreach(f->st, true, count_user, &owners, &err));
    assert_int_equal(owners, 1);
    int users = 0;
    CHECK(store_user_foreach(f->st, false, count_user, &users, &err));
    assert_int_equal(users, 1);

    /* Preferences inherit member → address → user → system. */
    CHECK(store_member_add(f->st, "ant.example.com", "cris@example.com", NULL, 1, 0, NULL, &err));
    struct store_member *m = NULL;
    assert_int_equal(
        store_member_get_by_email(f->st, "ant.example.com", "cris@example.com", 1, &m, &err), 1);
    assert_string_equal(m->user_id, uid);
    assert_true(m->receive_own_postings);

    struct store_prefs p;
    store_prefs_unset(&p);
    p.receive_own_postings = 0;
    p.preferred_language = g_strdup("fr");
    CHECK(store_prefs_set(f->st, STORE_PREFS_USER, uid, &p, &err));
    store_prefs_clear(&p);
    store_prefs_unset(&p);
    p.delivery_mode = STORE_DELIVERY_MIME_DIGESTS;
    p.receive_own_postings = 1;
    CHECK(store_prefs_set(f->st, STORE_PREFS_ADDRESS, "CRIS@example.com", &p, &err));
    store_prefs_unset(&p);
    p.acknowledge_posts = 1;
    CHECK(store_prefs_set(f->st, STORE_PREFS_MEMBER, m->member_id, &p, &err));
    EXPECT_FAIL(store_prefs_set(f->st, STORE_PREFS_USER, "nouser", &p, &err), STORE_NOT_FOUND,
                "No such user");

    struct store_prefs eff;
    assert_int_equal(store_prefs_effective(f->st, m->member_id, &eff, &err), 1);
    assert_int_equal(eff.acknowledge_posts, 1);    /* member */
    assert_int_equal(eff.receive_own_postings, 1); /* address over user */
    assert_int_equal(eff.delivery_mode, STORE_DELIVERY_MIME_DIGESTS);
    assert_string_equal(eff.preferred_language, "fr"); /* user */
    assert_int_equal(eff.hide_address, 1);             /* system */
    assert_int_equal(eff.delivery_status, STORE_DELIVERY_ENABLED);
    store_prefs_clear(&eff);

    struct store_prefs got;
    assert_int_equal(store_prefs_get(f->st, STORE_PREFS_USER, uid, &got, &err), 1);
    assert_int_equal(got.receive_own_postings, 0);
    assert_int_equal(got.acknowledge_posts, -1);
    assert_int_equal(got.delivery_mode, 0);
    store_prefs_clear(&got);

    /* The roster resolves the same way in its one query. */
    struct store_member *r = NULL;
    assert_int_equal(store_member_get(f->st, m->member_id, &r, &err), 1);
    assert_true(r->acknowledge_posts);
    assert_int_equal(r->delivery_mode, STORE_DELIVERY_MIME_DIGESTS);
    store_member_free(r);
    store_member_free(m);

    /* Deleting the user deletes its addresses and memberships. */
    assert_int_equal(store_user_delete(f->st, uid, &err), 1);
    int64_t n = 0;
    CHECK(store_member_count(f->st, "ant.example.com", 0, &n, &err));
    assert_int_equal(n, 0);
    struct store_address *a = NULL;
    assert_int_equal(store_address_get(f->st, "cris2@example.com", &a, &err), 0);
    assert_int_equal(store_user_delete(f->st, uid, &err), 0);
}

static void test_member_set_address(void **state)
{
    struct fixture *f = *state;
    struct store_member *m = NULL;
    CHECK(store_member_add(f->st, "ant.example.com", "old@example.com", NULL, 1, 0, &m, &err));
    CHECK(store_member_add(f->st, "ant.example.com", "taken@example.com", NULL, 1, 0, NULL, &err));
    EXPECT_FAIL(store_member_set_address(f->st, m->member_id, "taken@example.com", &err),
                STORE_EXISTS, "Member already subscribed");
    CHECK(store_member_set_address(f->st, m->member_id, "New@Example.com", &err));
    struct store_member *n = NULL;
    assert_int_equal(store_member_get(f->st, m->member_id, &n, &err), 1);
    assert_string_equal(n->email, "new@example.com");
    store_member_free(n);
    store_member_free(m);
    assert_int_equal(store_member_delete(f->st, "ffffffffffffffffffffffffffffffff", &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_and_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_addresses_prefs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_set_address, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
