/* Unit tests for the store: opening and migrations, domains, lists, list
 * attributes and their defaults per style (a fresh SQLite file per test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <sqlite3.h>
#include <string.h>

#include "lib/fsutil.h"
#include "store/list_attr.h"
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
    *state = store_fixture_new(NULL);
    return 0;
}

static int teardown(void **state)
{
    store_fixture_free(*state);
    return 0;
}

/* Runs one SQL query on the file through a second connection and returns
 * the first column of the first row as text (g_free). */
static char *raw_query(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    char *out = NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        out = g_strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

/* ---- open and migrations ------------------------------------------------ */

static void test_open_fresh_and_reopen(void **state)
{
    struct fixture *f = *state;
    int version = store_schema_version(f->st);
    assert_true(version >= 1);
    g_autofree char *mode = raw_query(f->path, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    store_close(f->st);

    /* Reopen: migrations do not run again and the data is there. */
    CHECK(store_open(f->url, &f->st, &err));
    assert_int_equal(store_schema_version(f->st), version);
    g_autofree char *steps = raw_query(f->path, "SELECT count(*) FROM schema_version");
    g_autofree char *expected_steps = g_strdup_printf("%d", version);
    assert_string_equal(steps, expected_steps);
    struct store_domain *d = NULL;
    assert_int_equal(store_domain_get(f->st, "EXAMPLE.com", &d, &err), 1);
    assert_string_equal(d->mail_host, "example.com");
    store_domain_free(d);

    /* SQLAlchemy's four-slash form names the same file. */
    store_close(f->st);
    g_autofree char *url4 = g_strconcat("sqlite:///", f->path, NULL);
    CHECK(store_open(url4, &f->st, &err));
    assert_int_equal(store_domain_get(f->st, "example.com", &d, &err), 1);
    store_domain_free(d);
}

static void test_open_urls(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    /* Missing directories on the way to the file are created. */
    g_autofree char *deep = g_strconcat("sqlite://", f->dir, "/var/data/mailman.db", NULL);
    CHECK(store_open(deep, &st, &err));
    store_close(st);
    st = NULL;
    EXPECT_FAIL(store_open("postgres://u:p@localhost/mailman", &st, &err), STORE_UNSUPPORTED,
                "not supported yet");
    assert_null(st);
    EXPECT_FAIL(store_open("postgresql://localhost/mailman", &st, &err), STORE_UNSUPPORTED,
                "not supported yet");
    EXPECT_FAIL(store_open("mysql://localhost/x", &st, &err), STORE_INVALID, "mysql://");
    EXPECT_FAIL(store_open("sqlite:relative.db", &st, &err), STORE_INVALID, "sqlite:///");
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    f->st = NULL;
    g_autofree char *r = raw_query(f->path, "INSERT INTO schema_version VALUES (999, 0)");
    EXPECT_FAIL(store_open(f->url, &f->st, &err), STORE_ERR, "newer");
    assert_null(f->st);
    g_autofree char *r2 = raw_query(f->path, "DELETE FROM schema_version WHERE version = 999");
    CHECK(store_open(f->url, &f->st, &err));
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    CHECK(store_begin(f->st, &err));
    EXPECT_FAIL(store_begin(f->st, &err), STORE_ERR, "already");
    CHECK(store_domain_create(f->st, "rolled.example", NULL, NULL, NULL, &err));
    /* An operation that fails inside the caller's transaction leaves the
     * rest of it intact (savepoint). */
    EXPECT_FAIL(store_list_create(f->st, "x@nowhere.example", NULL, NULL, &err), STORE_NOT_FOUND,
                "Domain does not exist");
    CHECK(store_rollback(f->st, &err));
    struct store_domain *d = NULL;
    assert_int_equal(store_domain_get(f->st, "rolled.example", &d, &err), 0);

    CHECK(store_begin(f->st, &err));
    CHECK(store_domain_create(f->st, "kept.example", NULL, NULL, NULL, &err));
    CHECK(store_list_create(f->st, "a@kept.example", NULL, NULL, &err));
    CHECK(store_commit(f->st, &err));
    assert_int_equal(store_domain_get(f->st, "kept.example", &d, &err), 1);
    store_domain_free(d);
    EXPECT_FAIL(store_commit(f->st, &err), STORE_ERR, "no transaction");
}

static void test_two_connections(void **state)
{
    /* The CLI and the runners each open the file: writes of one are seen
     * by the other, and migrations do not run twice. */
    struct fixture *f = *state;
    struct store *other = NULL;
    CHECK(store_open(f->url, &other, &err));
    assert_int_equal(store_schema_version(other), store_schema_version(f->st));
    CHECK(store_list_create(f->st, "ant@example.com", NULL, NULL, &err));
    struct store_list *l = NULL;
    assert_int_equal(store_list_get(other, "ant.example.com", &l, &err), 1);
    store_list_free(l);
    CHECK(store_list_set_attr(other, "ant.example.com", "emergency", "yes", &err));
    assert_int_equal(store_list_get(f->st, "ant@example.com", &l, &err), 1);
    assert_true(store_list_attr_bool(l, "emergency"));
    store_list_free(l);
    store_close(other);
}

/* ---- domains --------------------------------------------------------------- */

static void test_domains(void **state)
{
    struct fixture *f = *state;
    struct store_domain *d = NULL;
    EXPECT_FAIL(store_domain_create(f->st, "Example.COM", NULL, NULL, NULL, &err), STORE_EXISTS,
                "Duplicate email host: example.com");
    CHECK(store_domain_create(f->st, "B.example.org", "Bees", "lists.b.example.org", &d, &err));
    assert_string_equal(d->mail_host, "b.example.org");
    assert_string_equal(d->description, "Bees");
    assert_string_equal(d->alias_domain, "lists.b.example.org");
    store_domain_free(d);
    CHECK(store_domain_create(f->st, "a.example.net", NULL, NULL, NULL, &err));

    struct store_domain **v = NULL;
    CHECK(store_domain_list(f->st, &v, &err));
    const char *want[] = {"a.example.net", "b.example.org", "example.com"};
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        assert_non_null(v[i]);
        assert_string_equal(v[i]->mail_host, want[i]);
    }
    assert_null(v[3]);
    store_domainv_free(v);

    CHECK(store_domain_set_description(f->st, "a.example.net", "Ants", &err));
    CHECK(store_domain_set_alias_domain(f->st, "a.example.net", "X.example.net", &err));
    assert_int_equal(store_domain_get(f->st, "a.example.net", &d, &err), 1);
    assert_string_equal(d->description, "Ants");
    assert_string_equal(d->alias_domain, "x.example.net");
    store_domain_free(d);
    EXPECT_FAIL(store_domain_set_description(f->st, "nope.example", "x", &err), STORE_NOT_FOUND,
                "No such domain");

    CHECK(store_domain_owner_add(f->st, "a.example.net", "Owner@Example.net", &err));
    CHECK(store_domain_owner_add(f->st, "a.example.net", "owner@example.net", &err));
    char **owners = NULL;
    CHECK(store_domain_owners(f->st, "a.example.net", &owners, &err));
    assert_int_equal(g_strv_length(owners), 1);
    struct store_user *u = NULL;
    assert_int_equal(store_user_get_by_email(f->st, "owner@example.net", &u, &err), 1);
    assert_string_equal(u->user_id, owners[0]);
    store_user_free(u);
    g_strfreev(owners);
    assert_int_equal(store_domain_owner_remove(f->st, "a.example.net", "OWNER@example.net", &err),
                     1);

    /* Deleting a domain deletes its lists. */
    CHECK(store_list_create(f->st, "ant@a.example.net", NULL, NULL, &err));
    assert_int_equal(store_domain_delete(f->st, "A.example.net", &err), 1);
    struct store_list *l = NULL;
    assert_int_equal(store_list_get(f->st, "ant.a.example.net", &l, &err), 0);
    assert_int_equal(store_domain_delete(f->st, "a.example.net", &err), 0);
}

/* ---- lists ------------------------------------------------------------------ */

static void test_list_create_and_lookup(void **state)
{
    struct fixture *f = *state;
    struct store_list *l = NULL;
    CHECK(store_list_create(f->st, "My-LIST@Example.COM", NULL, &l, &err));
    assert_string_equal(l->list_name, "my-list");
    assert_string_equal(l->mail_host, "example.com");
    assert_string_equal(l->list_id, "my-list.example.com");
    assert_string_equal(l->fqdn_listname, "my-list@example.com");
    assert_string_equal(store_list_attr(l, "display_name"), "My-list");
    assert_string_equal(store_list_attr(l, "subject_prefix"), "[My-list] ");
    assert_string_equal(store_list_attr(l, "posting_address"), "my-list@example.com");
    assert_string_equal(store_list_attr(l, "bounces_address"), "my-list-bounces@example.com");
    assert_string_equal(store_list_attr(l, "no_reply_address"), "noreply@example.com");
    assert_true(strlen(store_list_attr(l, "created_at")) >= 19);
    assert_int_equal(store_list_attr_int(l, "post_id"), 1);
    store_list_free(l);

    EXPECT_FAIL(store_list_create(f->st, "my-list@example.com", NULL, NULL, &err), STORE_EXISTS,
                "Mailing list exists");
    EXPECT_FAIL(store_list_create(f->st, "ant@nowhere.example", NULL, NULL, &err), STORE_NOT_FOUND,
                "Domain does not exist: nowhere.example");
    EXPECT_FAIL(store_list_create(f->st, "no-at-sign", NULL, NULL, &err), STORE_INVALID,
                "Invalid list posting address");
    EXPECT_FAIL(store_list_create(f->st, "a b@example.com", NULL, NULL, &err), STORE_INVALID,
                "Invalid list posting address");
    EXPECT_FAIL(store_list_create(f->st, "ant@example.com", "bogus-style", NULL, &err),
                STORE_INVALID, "bogus-style");

    static const char *const specs[] = {"my-list@example.com", "my-list.example.com",
                                        "MY-List@EXAMPLE.com", "My-List.Example.Com"};
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
        assert_int_equal(store_list_get(f->st, specs[i], &l, &err), 1);
        assert_string_equal(l->list_id, "my-list.example.com");
        store_list_free(l);
    }
    assert_int_equal(store_list_get(f->st, "other@example.com", &l, &err), 0);
    assert_null(l);
}

static void test_list_listing(void **state)
{
    struct fixture *f = *state;
    CHECK(store_domain_create(f->st, "aaa.example", NULL, NULL, NULL, &err));
    static const char *const fqdns[] = {"zeta@example.com", "beta@example.com", "beta@aaa.example",
                                        "alpha@aaa.example"};
    for (size_t i = 0; i < G_N_ELEMENTS(fqdns); i++)
        CHECK(store_list_create(f->st, fqdns[i], NULL, NULL, &err));
    CHECK(store_list_create(f->st, "hidden@example.com", "private-default", NULL, &err));

    struct store_list **v = NULL;
    CHECK(store_list_list(f->st, NULL, false, &v, &err));
    static const char *const all[] = {"alpha.aaa.example", "beta.aaa.example", "beta.example.com",
                                      "hidden.example.com", "zeta.example.com"};
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        assert_string_equal(v[i]->list_id, all[i]);
    assert_null(v[G_N_ELEMENTS(all)]);
    /* Attributes are loaded for every listed list. */
    assert_string_equal(store_list_attr(v[3], "archive_policy"), "private");
    store_listv_free(v);

    CHECK(store_list_list(f->st, "Example.com", true, &v, &err));
    assert_string_equal(v[0]->list_id, "beta.example.com");
    assert_string_equal(v[1]->list_id, "zeta.example.com");
    assert_null(v[2]);
    store_listv_free(v);

    assert_int_equal(store_list_remove(f->st, "zeta@example.com", &err), 1);
    assert_int_equal(store_list_remove(f->st, "zeta@example.com", &err), 0);
    CHECK(store_list_list(f->st, "nothing.example", false, &v, &err));
    assert_null(v[0]);
    store_listv_free(v);
}

/* ---- list attributes --------------------------------------------------------- */

static void test_list_attr_table(void **state)
{
    (void)state;
    /* Sorted (lookups bisect it) and every default is canonical. */
    for (size_t i = 0; i < list_attr_count(); i++) {
        const struct list_attr *a = list_attr_at(i);
        if (i > 0)
            assert_true(strcmp(list_attr_at(i - 1)->name, a->name) < 0);
        assert_int_equal(list_attr_index(a->name), (int)i);
        for (int style = 0; style < LIST_STYLE_COUNT; style++) {
            const char *d = list_attr_default(a, style);
            if (a->flags & LIST_ATTR_COMPUTED || *d == '\0')
                continue;
            char *canon = NULL;
            char *e = NULL;
            if (list_attr_normalize(a, d, &canon, &e) < 0)
                fail_msg("default of %s: %s", a->name, e);
            assert_string_equal(canon, d);
            g_free(canon);
        }
    }
    assert_int_equal(list_attr_index("nosuch"), -1);
}

struct style_case {
    const char *style;
    const char *attr;
    const char *value;
};

static void test_list_attr_defaults_by_style(void **state)
{
    struct fixture *f = *state;
    static const struct style_case cases[] = {
        {"legacy-default", "allow_list_posts", "true"},
        {"legacy-default", "advertised", "true"},
        {"legacy-default", "archive_policy", "public"},
        {"legacy-default", "subscription_policy", "confirm"},
        {"legacy-default", "unsubscription_policy", "confirm"},
        {"legacy-default", "default_member_action", "defer"},
        {"legacy-default", "default_nonmember_action", "hold"},
        {"legacy-default", "admin_immed_notify", "true"},
        {"legacy-default", "send_welcome_message", "true"},
        {"legacy-default", "send_goodbye_message", "true"},
        {"legacy-default", "digests_enabled", "true"},
        {"legacy-default", "digest_size_threshold", "30.0"},
        {"legacy-default", "digest_volume_frequency", "monthly"},
        {"legacy-default", "reply_goes_to_list", "no_munging"},
        {"legacy-default", "personalize", "none"},
        {"legacy-default", "max_num_recipients", "10"},
        {"legacy-default", "max_message_size", "40"},
        {"legacy-default", "require_explicit_destination", "true"},
        {"legacy-default", "administrivia", "true"},
        {"legacy-default", "member_roster_visibility", "moderators"},
        {"legacy-default", "process_bounces", "true"},
        {"legacy-default", "bounce_score_threshold", "5"},
        {"legacy-default", "bounce_info_stale_after", "7d"},
        {"legacy-default", "bounce_you_are_disabled_warnings", "3"},
        {"legacy-default", "bounce_you_are_disabled_warnings_interval", "7d"},
        {"legacy-default", "bounce_notify_owner_on_bounce_increment", "false"},
        {"legacy-default", "bounce_notify_owner_on_disable", "true"},
        {"legacy-default", "bounce_notify_owner_on_removal", "true"},
        {"legacy-default", "forward_unrecognized_bounces_to", "administrators"},
        {"legacy-default", "autoresponse_grace_period", "90d"},
        {"legacy-default", "posting_chain", "default-posting-chain"},
        {"legacy-default", "owner_pipeline", "default-owner-pipeline"},
        {"legacy-default", "preferred_language", "en"},
        {"legacy-default", "moderator_password", ""},
        {"legacy-default", "last_post_at", ""},
        {"legacy-default", "volume", "1"},
        {"legacy-default", "next_digest_number", "1"},
        {"legacy-announce", "allow_list_posts", "false"},
        {"legacy-announce", "advertised", "true"},
        {"legacy-announce", "archive_policy", "public"},
        {"legacy-announce", "subscription_policy", "confirm"},
        {"private-default", "allow_list_posts", "true"},
        {"private-default", "archive_policy", "private"},
        {"private-default", "subscription_policy", "confirm_then_moderate"},
        {"private-default", "advertised", "false"},
        {"private-default", "unsubscription_policy", "confirm"},
    };
    static const char *const styles[] = {"legacy-default", "legacy-announce", "private-default"};
    for (size_t i = 0; i < G_N_ELEMENTS(styles); i++) {
        g_autofree char *fqdn = g_strdup_printf("s%zu@example.com", i);
        CHECK(store_list_create(f->st, fqdn, styles[i], NULL, &err));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        size_t k = 0;
        while (strcmp(styles[k], cases[i].style) != 0)
            k++;
        g_autofree char *fqdn = g_strdup_printf("s%zu@example.com", k);
        char *value = NULL;
        CHECK(store_list_get_attr(f->st, fqdn, cases[i].attr, &value, &err));
        if (strcmp(value, cases[i].value) != 0)
            fail_msg("%s %s = \"%s\", want \"%s\"", cases[i].style, cases[i].attr, value,
                     cases[i].value);
        g_free(value);
    }
    struct store_list *l = NULL;
    assert_int_equal(store_list_get(f->st, "s2@example.com", &l, &err), 1);
    assert_false(store_list_attr_bool(l, "advertised"));
    assert_int_equal(store_list_attr_int(l, "subscription_policy"), 3);
    assert_int_equal(store_list_attr_int(l, "archive_policy"), 1);
    assert_int_equal(store_list_attr_int(l, "default_nonmember_action"), 0);
    assert_int_equal(store_list_attr_int(l, "bounce_info_stale_after"), 7 * 86400);
    assert_true(store_list_attr_seconds(l, "autoresponse_grace_period") == 90 * 86400.0);
    store_list_free(l);
}

struct write_case {
    const char *attr;
    const char *value;
    int rc;
    const char *expect; /* the value read back, or text of the error */
};

static void test_list_attr_writes(void **state)
{
    struct fixture *f = *state;
    CHECK(store_list_create(f->st, "ant@example.com", NULL, NULL, &err));
    static const struct write_case cases[] = {
        {"subscription_policy", "bogus", STORE_INVALID,
         "Invalid Parameter \"subscription_policy\": Accepted Values are: open, confirm, "
         "moderate, confirm_then_moderate."},
        {"subscription_policy", "Open", STORE_INVALID, "Accepted Values are"},
        {"subscription_policy", "open", 0, "open"},
        {"advertised", "maybe", STORE_INVALID, "Invalid boolean value: maybe"},
        {"advertised", "No", 0, "false"},
        {"advertised", "1", 0, "true"},
        {"post_id", "5", STORE_READ_ONLY, "Read-only attribute: post_id"},
        {"list_name", "x", STORE_READ_ONLY, "Read-only attribute: list_name"},
        {"created_at", "2020-01-01T00:00:00", STORE_READ_ONLY, "Read-only attribute"},
        {"posting_address", "x@y", STORE_READ_ONLY, "Read-only attribute"},
        {"nosuch", "1", STORE_UNKNOWN_ATTR, "Unknown attribute: nosuch"},
        {"max_message_size", "-1", STORE_INVALID, "non-negative integer"},
        {"max_message_size", "abc", STORE_INVALID, "max_message_size"},
        {"max_message_size", "500", 0, "500"},
        {"bounce_info_stale_after", "2w", 0, "14d"},
        {"bounce_info_stale_after", "1d30.5s", 0, "1d30.500000s"},
        {"bounce_info_stale_after", "soon", STORE_INVALID, "Invalid duration"},
        {"digest_size_threshold", "10.5", 0, "10.5"},
        {"digest_size_threshold", "12", 0, "12.0"},
        {"description", "one\ntwo", STORE_INVALID, "single line"},
        {"description", "Ant Colony", 0, "Ant Colony"},
        {"acceptable_aliases", " a@example.com \n\n b@example.net ", 0,
         "a@example.com\nb@example.net"},
        {"posting_pipeline", "nope", STORE_INVALID, "Unknown pipeline: nope"},
        {"posting_pipeline", "virgin", 0, "virgin"},
        {"preferred_language", "../etc", STORE_INVALID, "Unknown language"},
        {"preferred_language", "pt_BR", 0, "pt_BR"},
        {"dmarc_mitigate_action", "munge_from", 0, "munge_from"},
        {"reply_goes_to_list", "point_to_list", 0, "point_to_list"},
        {"subject_prefix", "[ant %d] ", 0, "[ant %d] "},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct write_case *c = &cases[i];
        g_clear_pointer(&err, g_free);
        int rc = store_list_set_attr(f->st, "ant.example.com", c->attr, c->value, &err);
        if (rc != c->rc)
            fail_msg("%s=%s: rc %d, want %d (%s)", c->attr, c->value, rc, c->rc, err ? err : "");
        if (rc < 0) {
            if (err == NULL || strstr(err, c->expect) == NULL)
                fail_msg("%s=%s: message \"%s\" lacks \"%s\"", c->attr, c->value, err ? err : "",
                         c->expect);
            continue;
        }
        char *value = NULL;
        CHECK(store_list_get_attr(f->st, "ant@example.com", c->attr, &value, &err));
        if (strcmp(value, c->expect) != 0)
            fail_msg("%s=%s read back \"%s\", want \"%s\"", c->attr, c->value, value, c->expect);
        g_free(value);
    }
    EXPECT_FAIL(store_list_set_attr(f->st, "nolist@example.com", "advertised", "true", &err),
                STORE_NOT_FOUND, "No such list");

    /* The runners' bookkeeping writes read-only attributes. */
    CHECK(store_list_set_attr_internal(f->st, "ant@example.com", "last_post_at",
                                       "2026-01-02T03:04:05.000006", &err));
    int64_t post_id = 0;
    CHECK(store_list_attr_add(f->st, "ant@example.com", "post_id", 1, &post_id, &err));
    assert_int_equal(post_id, 2);
    CHECK(store_list_attr_add(f->st, "ant@example.com", "post_id", 1, &post_id, &err));
    assert_int_equal(post_id, 3);
    EXPECT_FAIL(store_list_set_attr_internal(f->st, "ant@example.com", "fqdn_listname", "x", &err),
                STORE_READ_ONLY, "Read-only");

    /* Values survive a reopen; strv splits string lists. */
    store_close(f->st);
    CHECK(store_open(f->url, &f->st, &err));
    struct store_list *l = NULL;
    assert_int_equal(store_list_get(f->st, "ant@example.com", &l, &err), 1);
    assert_string_equal(store_list_attr(l, "last_post_at"), "2026-01-02T03:04:05.000006");
    assert_int_equal(store_list_attr_int(l, "post_id"), 3);
    assert_int_equal(store_list_attr_int(l, "max_message_size"), 500);
    char **aliases = store_list_attr_strv(l, "acceptable_aliases");
    assert_int_equal(g_strv_length(aliases), 2);
    assert_string_equal(aliases[1], "b@example.net");
    g_strfreev(aliases);
    char **none = store_list_attr_strv(l, "hold_these_nonmembers");
    assert_null(none[0]);
    g_strfreev(none);
    store_list_free(l);

    /* Writing the default removes the stored override. */
    CHECK(store_list_set_attr(f->st, "ant@example.com", "max_message_size", "40", &err));
    g_autofree char *rows =
        raw_query(f->path, "SELECT count(*) FROM list_attr WHERE name = 'max_message_size'");
    assert_string_equal(rows, "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_fresh_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_create_and_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_listing, setup, teardown),
        cmocka_unit_test(test_list_attr_table),
        cmocka_unit_test_setup_teardown(test_list_attr_defaults_by_style, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_attr_writes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
