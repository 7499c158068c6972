/* Unit tests for the store's bans, pendings, requests, bounce events, header
 * matches, the message index, and the cascade when a list is removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <sqlite3.h>
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

static int64_t raw_count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

struct ban_case {
    const char *list_id;
    const char *email;
    int banned;
};

static void test_bans(void **state)
{
    struct fixture *f = *state;
    CHECK(store_ban_add(f->st, "ant.example.com", "Bad@Example.org", &err));
    CHECK(store_ban_add(f->st, "ant.example.com", "bad@example.org", &err)); /* no duplicate */
    CHECK(store_ban_add(f->st, "ant.example.com", "^.*@spam\\.example$", &err));
    CHECK(store_ban_add(f->st, NULL, "global@example.net", &err));
    CHECK(store_ban_add(f->st, NULL, "^evil", &err));
    EXPECT_FAIL(store_ban_add(f->st, NULL, "^(unclosed", &err), STORE_INVALID,
                "Invalid regular expression");
    EXPECT_FAIL(store_ban_add(f->st, "nolist.example.com", "x@example.com", &err), STORE_NOT_FOUND,
                "No such list");

    static const struct ban_case cases[] = {
        {"ant.example.com", "bad@example.org", 1},
        {"ant.example.com", "BAD@EXAMPLE.ORG", 1},
        {"bee.example.com", "bad@example.org", 0},  /* another list */
        {"ant.example.com", "joe@spam.example", 1}, /* list regex */
        {"ant.example.com", "JOE@SPAM.EXAMPLE", 1}, /* case-insensitive */
        {"ant.example.com", "joe@spam.example.org", 0},
        {"bee.example.com", "joe@spam.example", 0},
        {"bee.example.com", "global@example.net", 1}, /* global */
        {NULL, "global@example.net", 1},
        {"bee.example.com", "Evil@example.com", 1}, /* global regex, anchored */
        {"bee.example.com", "not-evil@example.com", 0},
        {"nolist.example.com", "global@example.net", 1},
        {"ant.example.com", "good@example.org", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int rc = store_ban_is_banned(f->st, cases[i].list_id, cases[i].email, &err);
        if (rc != cases[i].banned)
            fail_msg("%s on %s: %d, want %d", cases[i].email,
                     cases[i].list_id ? cases[i].list_id : "(global)", rc, cases[i].banned);
    }

    char **bans = NULL;
    CHECK(store_ban_list(f->st, "ant.example.com", &bans, &err));
    assert_int_equal(g_strv_length(bans), 2);
    assert_string_equal(bans[0], "^.*@spam\\.example$");
    assert_string_equal(bans[1], "bad@example.org");
    g_strfreev(bans);
    CHECK(store_ban_list(f->st, NULL, &bans, &err));
    assert_int_equal(g_strv_length(bans), 2);
    g_strfreev(bans);

    assert_int_equal(store_ban_remove(f->st, "ant.example.com", "BAD@example.org", &err), 1);
    assert_int_equal(store_ban_remove(f->st, "ant.example.com", "bad@example.org", &err), 0);
    assert_int_equal(store_ban_is_banned(f->st, "ant.example.com", "bad@example.org", &err), 0);
    assert_int_equal(store_ban_remove(f->st, NULL, "global@example.net", &err), 1);
}

static void test_pendings(void **state)
{
    struct fixture *f = *state;
    const char *keys[] = {"list_id", "email", "display_name"};
    const char *values[] = {"ant.example.com", "anne@example.com", "Anne"};
    char *token = NULL;
    CHECK(store_pending_add(f->st, "subscription", (int64_t)3600 * G_USEC_PER_SEC, keys, values, 3,
                            &token, &err));
    assert_int_equal(strlen(token), 40);
    for (const char *p = token; *p; p++)
        assert_true(g_ascii_isxdigit(*p) && !g_ascii_isupper(*p));

    struct store_pending *p = NULL;
    assert_int_equal(store_pending_get(f->st, token, &p, &err), 1);
    assert_string_equal(p->type, "subscription");
    assert_int_equal(p->n, 3);
    assert_string_equal(p->keys[1], "email");
    assert_string_equal(p->values[1], "anne@example.com");
    assert_string_equal(p->values[2], "Anne");
    assert_true(p->expires > g_get_real_time());
    store_pending_free(p);

    /* Already expired: invisible, then evicted. */
    char *old = NULL;
    CHECK(store_pending_add(f->st, "probe", -1, keys, values, 1, &old, &err));
    assert_int_equal(store_pending_get(f->st, old, &p, &err), 0);
    assert_null(p);

    char **tokens = NULL;
    CHECK(store_pending_find(f->st, "subscription", "email", "anne@example.com", &tokens, &err));
    assert_int_equal(g_strv_length(tokens), 1);
    assert_string_equal(tokens[0], token);
    g_strfreev(tokens);
    CHECK(store_pending_find(f->st, NULL, "email", "bart@example.com", &tokens, &err));
    assert_null(tokens[0]);
    g_strfreev(tokens);
    CHECK(store_pending_find(f->st, "probe", NULL, NULL, &tokens, &err));
    assert_null(tokens[0]); /* expired */
    g_strfreev(tokens);

    assert_int_equal(store_pending_evict(f->st, 0, &err), 1);
    assert_int_equal(raw_count(f->path, "SELECT count(*) FROM pended_kv"), 3);
    /* Evicting at a later "now" takes the live one too. */
    assert_int_equal(
        store_pending_evict(f->st, g_get_real_time() + (int64_t)7200 * G_USEC_PER_SEC, &err), 1);
    assert_int_equal(store_pending_get(f->st, token, &p, &err), 0);
    assert_int_equal(store_pending_delete(f->st, token, &err), 0);

    char *again = NULL;
    CHECK(store_pending_add(f->st, "held message", (int64_t)60 * G_USEC_PER_SEC, NULL, NULL, 0,
                            &again, &err));
    assert_int_equal(store_pending_delete(f->st, again, &err), 1);
    assert_int_equal(store_pending_get(f->st, again, &p, &err), 0);
    g_free(token);
    g_free(old);
    g_free(again);
}

static void test_requests(void **state)
{
    struct fixture *f = *state;
    int id1 = 0, id2 = 0, id3 = 0;
    CHECK(store_request_add(f->st, "ant.example.com", STORE_REQUEST_HELD_MESSAGE, "<m1@x>", "tok1",
                            &id1, &err));
    CHECK(store_request_add(f->st, "ant.example.com", STORE_REQUEST_SUBSCRIPTION,
                            "anne@example.com", NULL, &id2, &err));
    int other = 0;
    CHECK(store_request_add(f->st, "bee.example.com", STORE_REQUEST_HELD_MESSAGE, "<m2@x>", NULL,
                            &other, &err));
    assert_int_equal(id1, 1);
    assert_int_equal(id2, 2);
    assert_int_equal(other, 1); /* numbered per list */

    struct store_request **v = NULL;
    CHECK(store_request_list(f->st, "ant.example.com", STORE_REQUEST_HELD_MESSAGE, &v, &err));
    assert_non_null(v[0]);
    assert_int_equal(v[0]->id, 1);
    assert_string_equal(v[0]->key, "<m1@x>");
    assert_string_equal(v[0]->data_token, "tok1");
    assert_null(v[1]);
    store_requestv_free(v);
    int64_t n = 0;
    CHECK(store_request_count(f->st, "ant.example.com", 0, &n, &err));
    assert_int_equal(n, 2);

    struct store_request *r = NULL;
    assert_int_equal(store_request_get(f->st, "ant.example.com", 2, &r, &err), 1);
    assert_int_equal(r->type, STORE_REQUEST_SUBSCRIPTION);
    assert_null(r->data_token);
    store_request_free(r);
    assert_int_equal(store_request_delete(f->st, "ant.example.com", 1, &err), 1);
    assert_int_equal(store_request_delete(f->st, "ant.example.com", 1, &err), 0);
    assert_int_equal(store_request_get(f->st, "ant.example.com", 1, &r, &err), 0);
    CHECK(store_request_add(f->st, "ant.example.com", STORE_REQUEST_UNSUBSCRIPTION, "x@y", NULL,
                            &id3, &err));
    assert_int_equal(id3, 3); /* ids are not reused */
    EXPECT_FAIL(store_request_add(f->st, "ant.example.com", 7, "k", NULL, NULL, &err),
                STORE_INVALID, "request type");
    assert_string_equal(store_request_type_name(STORE_REQUEST_HELD_MESSAGE), "held_message");
}

static int collect_bounce(const struct store_bounce_event *e, void *ctx)
{
    g_string_append_printf(ctx, "%s %s %d;", e->email, e->list_id, e->context);
    return 0;
}

static void test_bounce_events(void **state)
{
    struct fixture *f = *state;
    int64_t a = 0, b = 0;
    CHECK(store_bounce_add(f->st, "ant.example.com", "Anne@Example.com", 0, "<b1@x>",
                           STORE_BOUNCE_NORMAL, &a, &err));
    CHECK(store_bounce_add(f->st, "ant.example.com", "bart@example.com", 0, NULL,
                           STORE_BOUNCE_PROBE, &b, &err));
    EXPECT_FAIL(store_bounce_add(f->st, "ant.example.com", "x@y", 0, NULL, 9, NULL, &err),
                STORE_INVALID, "context");
    GString *seen = g_string_new(NULL);
    CHECK(store_bounce_foreach_unprocessed(f->st, collect_bounce, seen, &err));
    assert_string_equal(seen->str,
                        "anne@example.com ant.example.com 1;bart@example.com ant.example.com 2;");
    CHECK(store_bounce_mark_processed(f->st, a, &err));
    g_string_truncate(seen, 0);
    CHECK(store_bounce_foreach_unprocessed(f->st, collect_bounce, seen, &err));
    assert_string_equal(seen->str, "bart@example.com ant.example.com 2;");
    g_string_free(seen, TRUE);
    EXPECT_FAIL(store_bounce_mark_processed(f->st, 999, &err), STORE_NOT_FOUND, "No such");
}

static char *header_matches(struct store *st)
{
    struct store_header_match **v = NULL;
    CHECK(store_header_match_list(st, "ant.example.com", &v, &err));
    GString *out = g_string_new(NULL);
    for (struct store_header_match **h = v; *h != NULL; h++)
        g_string_append_printf(out, "%d %s %s %s;", (*h)->position, (*h)->header, (*h)->pattern,
                               (*h)->chain ? (*h)->chain : "-");
    store_header_matchv_free(v);
    return g_string_free(out, FALSE);
}

static void test_header_matches(void **state)
{
    struct fixture *f = *state;
    CHECK(store_header_match_add(f->st, "ant.example.com", -1, "X-Spam-Flag", "^Yes", NULL, NULL,
                                 &err));
    CHECK(store_header_match_add(f->st, "ant.example.com", -1, "X-Spam-Status", "^Yes", "discard",
                                 "t", &err));
    CHECK(store_header_match_add(f->st, "ant.example.com", 0, "Subject", "viagra", "hold", NULL,
                                 &err));
    EXPECT_FAIL(store_header_match_add(f->st, "ant.example.com", -1, "x-spam-flag", "^Yes", NULL,
                                       NULL, &err),
                STORE_EXISTS, "already exists");
    g_autofree char *three = header_matches(f->st);
    assert_string_equal(three, "0 subject viagra hold;1 x-spam-flag ^Yes -;"
                               "2 x-spam-status ^Yes discard;");
    assert_int_equal(store_header_match_delete(f->st, "ant.example.com", 1, &err), 1);
    assert_int_equal(store_header_match_delete(f->st, "ant.example.com", 5, &err), 0);
    g_autofree char *two = header_matches(f->st);
    assert_string_equal(two, "0 subject viagra hold;1 x-spam-status ^Yes discard;");
    CHECK(store_header_match_clear(f->st, "ant.example.com", &err));
    g_autofree char *none = header_matches(f->st);
    assert_string_equal(none, "");
}

static void test_messages(void **state)
{
    struct fixture *f = *state;
    CHECK(store_message_add(f->st, "<ant@example.com>", "MS6QLWERIJLGCRF44J7USBFDELMNT2BW",
                            "MS/6Q/MS6QLWERIJLGCRF44J7USBFDELMNT2BW", &err));
    EXPECT_FAIL(store_message_add(f->st, "<ant@example.com>", "OTHER", "p", &err), STORE_EXISTS,
                "already stored");
    struct store_message *m = NULL;
    assert_int_equal(store_message_get(f->st, "MS6QLWERIJLGCRF44J7USBFDELMNT2BW", true, &m, &err),
                     1);
    assert_string_equal(m->message_id, "<ant@example.com>");
    store_message_free(m);
    assert_int_equal(store_message_get(f->st, "<ant@example.com>", false, &m, &err), 1);
    store_message_free(m);
    assert_int_equal(store_message_delete(f->st, "<ant@example.com>", &err), 1);
    assert_int_equal(store_message_get(f->st, "<ant@example.com>", false, &m, &err), 0);
}

static void test_remove_list_cascades(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 20; i++) {
        g_autofree char *e = g_strdup_printf("m%d@example.org", i);
        CHECK(
            store_member_add(f->st, "ant.example.com", e, NULL, STORE_ROLE_MEMBER, 0, NULL, &err));
    }
    CHECK(store_member_add(f->st, "ant.example.com", "own@example.org", NULL, STORE_ROLE_OWNER, 0,
                           NULL, &err));
    CHECK(store_member_add(f->st, "bee.example.com", "m1@example.org", NULL, STORE_ROLE_MEMBER, 0,
                           NULL, &err));
    CHECK(store_list_set_attr(f->st, "ant.example.com", "advertised", "false", &err));
    CHECK(store_ban_add(f->st, "ant.example.com", "bad@example.org", &err));
    CHECK(store_ban_add(f->st, NULL, "global@example.org", &err));
    CHECK(store_request_add(f->st, "ant.example.com", STORE_REQUEST_HELD_MESSAGE, "<m@x>", NULL,
                            NULL, &err));
    CHECK(store_header_match_add(f->st, "ant.example.com", -1, "x-spam", "yes", NULL, NULL, &err));
    CHECK(store_bounce_add(f->st, "ant.example.com", "m1@example.org", 0, NULL, STORE_BOUNCE_NORMAL,
                           NULL, &err));
    const char *k[] = {"list_id"};
    const char *v[] = {"ant.example.com"};
    const char *vb[] = {"bee.example.com"};
    char *t1 = NULL, *t2 = NULL;
    CHECK(store_pending_add(f->st, "subscription", (int64_t)3600 * G_USEC_PER_SEC, k, v, 1, &t1,
                            &err));
    CHECK(store_pending_add(f->st, "subscription", (int64_t)3600 * G_USEC_PER_SEC, k, vb, 1, &t2,
                            &err));

    assert_int_equal(store_list_remove(f->st, "ANT@example.com", &err), 1);

    static const struct {
        const char *sql;
        int64_t want;
    } after[] = {
        {"SELECT count(*) FROM member", 1}, /* bee's member stays */
        {"SELECT count(*) FROM list_attr WHERE list NOT IN (SELECT id FROM mailinglist)", 0},
        {"SELECT count(*) FROM ban", 1}, /* the global ban stays */
        {"SELECT count(*) FROM request", 0},
        {"SELECT count(*) FROM header_match", 0},
        {"SELECT count(*) FROM bounce_event", 0},
        {"SELECT count(*) FROM pended", 1},
        {"SELECT count(*) FROM pended_kv", 1},
        {"SELECT count(*) FROM address", 21}, /* addresses outlive memberships */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(after); i++) {
        int64_t n = raw_count(f->path, after[i].sql);
        if (n != after[i].want)
            fail_msg("%s: %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, after[i].sql, n,
                     after[i].want);
    }
    struct store_pending *p = NULL;
    assert_int_equal(store_pending_get(f->st, t2, &p, &err), 1);
    store_pending_free(p);

    /* A list re-created under the same name starts empty, with defaults. */
    struct store_list *l = NULL;
    CHECK(store_list_create(f->st, "ant@example.com", NULL, &l, &err));
    assert_true(store_list_attr_bool(l, "advertised"));
    store_list_free(l);
    int64_t n = -1;
    CHECK(store_member_count(f->st, "ant.example.com", 0, &n, &err));
    assert_int_equal(n, 0);
    g_free(t1);
    g_free(t2);
}

static int count_any(const struct store_member *m, void *ctx)
{
    (void)m;
    ++*(int *)ctx;
    return 0;
}

/* Bytes that are not UTF-8, or not an address, never reach glib's case
 * functions and never widen a filter: they match nothing. */
static void test_hostile_input(void **state)
{
    struct fixture *f = *state;
    static const char *const junk[] = {"\xff", "ant\xf0", "\xc3", "",
                                       "@",    "a@",      "@b",   "ant.example.com\xf0\x9f"};
    CHECK(store_member_add(f->st, "ant.example.com", "anne@example.com", NULL, 1, 0, NULL, &err));
    for (size_t i = 0; i < G_N_ELEMENTS(junk); i++) {
        const char *j = junk[i];
        struct store_list *l = NULL;
        assert_true(store_list_get(f->st, j, &l, &err) == 0);
        assert_null(l);
        char *e = NULL;
        assert_true(store_member_add(f->st, "ant.example.com", j, NULL, 1, 0, NULL, &e) ==
                    STORE_INVALID);
        g_free(e);
        e = NULL;
        assert_true(store_member_add(f->st, j, "x@example.com", NULL, 1, 0, NULL, &e) < 0);
        g_free(e);
        assert_int_equal(store_ban_is_banned(f->st, j, j, &err), 0);
        int n = 0;
        e = NULL;
        int rc = store_member_find(f->st, j, NULL, 0, count_any, &n, &e);
        g_free(e);
        if (*j != '\0' && strcmp(j, "@") != 0)
            assert_true(rc == STORE_INVALID || (rc == 0 && n == 0));
        n = 0;
        CHECK(store_member_find(f->st, NULL, j, 0, count_any, &n, &err));
        assert_int_equal(n, 0);
        struct store_list **v = NULL;
        CHECK(store_list_list(f->st, j, false, &v, &err));
        assert_null(v[0]);
        store_listv_free(v);
        struct store_roster_filter filter = {j, 0, 0, 0};
        e = NULL;
        assert_int_equal(store_roster(f->st, &filter, count_any, &n, &e), STORE_NOT_FOUND);
        g_free(e);
        e = NULL;
        assert_true(store_domain_create(f->st, j, NULL, NULL, NULL, &e) < 0 || strcmp(j, "@") == 0);
        g_free(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pendings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounce_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_list_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
