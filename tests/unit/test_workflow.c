/* Unit tests for src/workflow/: the subscription and unsubscription
 * workflows through their C API (what the REST API will call), the mail
 * they queue to virgin, the moderator's actions, and the autoresponse
 * limit with an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "config/config.h"
#include "lib/fsutil.h"
#include "queue/queue.h"
#include "store/store.h"
#include "workflow/workflow.h"
#include "unit_check.h"

struct fixture {
    char *dir;
    struct config *cfg;
    struct store *st;
    struct queue_root *qroot;
    struct store_list *l;
    struct workflow_ctx w;
};

#define EXPECT(call, code)                                                                         \
    do {                                                                                           \
        g_clear_pointer(&err, g_free);                                                             \
        assert_int_equal((call), (code));                                                          \
    } while (0)

static void reload(struct fixture *f)
{
    store_list_free(f->l);
    f->l = NULL;
    CHECK(store_list_get(f->st, "ant@example.com", &f->l, &err));
}

static void set(struct fixture *f, const char *name, const char *value)
{
    CHECK(store_list_set_attr(f->st, "ant@example.com", name, value, &err));
    reload(f);
}

static int setup(void **state)
{
    struct fixture *f = g_new0(struct fixture, 1);
    f->dir = g_dir_make_tmp("crier-workflow-XXXXXX", NULL);
    g_autofree char *text = g_strdup_printf("[mailman]\nlayout: testing\nsite_owner: "
                                            "site@example.net\n[paths.testing]\nvar_dir: %s\n",
                                            f->dir);
    g_autofree char *cfgfile = g_build_filename(f->dir, "mailman.cfg", NULL);
    CHECK(config_load_text(text, cfgfile, "/usr/bin", &f->cfg, &err));
    g_autofree char *path = g_build_filename(f->dir, "mailman.db", NULL);
    g_autofree char *url = g_strconcat("sqlite://", path, NULL);
    CHECK(store_open(url, &f->st, &err));
    CHECK(store_domain_create(f->st, "example.com", NULL, NULL, NULL, &err));
    CHECK(store_list_create(f->st, "ant@example.com", NULL, NULL, &err));
    CHECK(store_list_create(f->st, "bee@example.com", NULL, NULL, &err));
    g_autofree char *qdir = g_build_filename(f->dir, "queue", NULL);
    f->qroot = queue_root_new(qdir);
    f->w = (struct workflow_ctx){.cfg = f->cfg, .st = f->st, .qroot = f->qroot};
    reload(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_list_free(f->l);
    queue_root_free(f->qroot);
    store_close(f->st);
    config_free(f->cfg);
    char *e = NULL;
    assert_int_equal(fs_remove_tree(f->dir, &e), 0);
    g_free(f->dir);
    g_free(f);
    g_clear_pointer(&err, g_free);
    return 0;
}

/* The messages in the virgin queue, oldest first, consumed. */
static GPtrArray *take_virgin(struct fixture *f)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    struct queue *q;
    CHECK(queue_root_get(f->qroot, "virgin", &q, &err));
    GPtrArray *bases = NULL;
    CHECK(queue_list(q, 1, 0, &bases, &err));
    for (guint i = 0; i < bases->len; i++) {
        struct queue_entry *e = NULL;
        assert_int_equal(queue_claim(q, bases->pdata[i], &e, &err), 1);
        g_ptr_array_add(out, g_strdup_printf("recipients: %s\n%.*s",
                                             queue_meta_get(e->meta, "recipients"), (int)e->msg_len,
                                             e->msg));
        CHECK(queue_finish(e, &err));
        queue_entry_free(e);
    }
    g_ptr_array_unref(bases);
    return out;
}

static bool has(const char *msg, const char *needle)
{
    if (strstr(msg, needle))
        return true;
    print_error("message lacks \"%s\":\n%s\n", needle, msg);
    return false;
}

static bool member(struct fixture *f, const char *email)
{
    struct store_member *m = NULL;
    CHECK(store_member_get_by_email(f->st, "ant.example.com", email, STORE_ROLE_MEMBER, &m, &err));
    bool found = m != NULL;
    store_member_free(m);
    return found;
}

static void verify(struct fixture *f, const char *email)
{
    struct store_address *a = NULL;
    if (store_address_get(f->st, email, &a, NULL) == 0)
        CHECK(store_address_create(f->st, email, NULL, NULL, &err));
    store_address_free(a);
    CHECK(store_address_set_verified(f->st, email, 1000000, &err));
}

/* confirm (the default): a confirmation, then the member and a welcome */
static void test_confirm_policy(void **state)
{
    struct fixture *f = *state;
    struct workflow_subscribe_opts o = WORKFLOW_SUBSCRIBE_OPTS_INIT;
    o.display_name = "Anne";
    struct workflow_result r;
    CHECK(workflow_subscribe(&f->w, f->l, "Anne@Example.org", &o, &r, &err));
    assert_non_null(r.token);
    assert_int_equal(strlen(r.token), 40);
    assert_int_equal(r.token_owner, WORKFLOW_OWNER_SUBSCRIBER);
    assert_null(r.member_id);
    g_autoptr(GPtrArray) mail = take_virgin(f);
    assert_int_equal(mail->len, 1);
    const char *conf = mail->pdata[0];
    assert_true(has(conf, "recipients: anne@example.org\n"));
    g_autofree char *from = g_strdup_printf("From: ant-confirm+%s@example.com", r.token);
    assert_true(has(conf, from));
    assert_true(has(conf, "Subject: Your confirmation is needed to join the ant@example.com"));
    assert_true(has(conf, "Auto-Submitted: auto-generated"));
    assert_null(strstr(conf, "Precedence"));
    assert_false(member(f, "anne@example.org"));

    /* a second request while the first waits */
    struct workflow_result r2;
    EXPECT(workflow_subscribe(&f->w, f->l, "anne@example.org", &o, &r2, &err), WORKFLOW_PENDING);

    g_autofree char *token = g_strdup(r.token);
    workflow_result_clear(&r);
    CHECK(workflow_confirm(&f->w, f->l, token, &r, &err));
    assert_null(r.token);
    assert_non_null(r.member_id);
    workflow_result_clear(&r);
    assert_true(member(f, "anne@example.org"));
    struct store_address *a = NULL;
    CHECK(store_address_get(f->st, "anne@example.org", &a, &err));
    assert_true(a->verified_on != 0);
    assert_string_equal(a->display_name, "Anne");
    store_address_free(a);
    g_autoptr(GPtrArray) mail2 = take_virgin(f);
    assert_int_equal(mail2->len, 1);
    assert_true(has(mail2->pdata[0], "Subject: Welcome to the \"Ant\" mailing list\n"));
    assert_true(has(mail2->pdata[0], "To: Anne <anne@example.org>"));
    assert_true(has(mail2->pdata[0], "X-No-Archive: yes"));

    /* the token is single use; already a member */
    EXPECT(workflow_confirm(&f->w, f->l, token, &r, &err), WORKFLOW_NO_TOKEN);
    CHECK(0);
    EXPECT(workflow_subscribe(&f->w, f->l, "anne@example.org", NULL, &r, &err),
           WORKFLOW_ALREADY_MEMBER);
    assert_string_equal(err, "anne@example.org is already a MemberRole.member of mailing list "
                             "ant@example.com");
}

static void test_open_policy_verified_and_pre_flags(void **state)
{
    struct fixture *f = *state;
    set(f, "subscription_policy", "open");
    set(f, "send_welcome_message", "false");
    verify(f, "bob@example.org");
    struct workflow_result r;
    CHECK(workflow_subscribe(&f->w, f->l, "bob@example.org", NULL, &r, &err));
    assert_null(r.token);
    assert_non_null(r.member_id);
    workflow_result_clear(&r);
    assert_true(member(f, "bob@example.org"));
    g_autoptr(GPtrArray) none = take_virgin(f);
    assert_int_equal(none->len, 0);

    /* unverified on an open list: a confirmation all the same ... */
    CHECK(workflow_subscribe(&f->w, f->l, "cat@example.org", NULL, &r, &err));
    assert_non_null(r.token);
    workflow_result_clear(&r);
    /* ... unless pre_verified */
    struct workflow_subscribe_opts o = WORKFLOW_SUBSCRIBE_OPTS_INIT;
    o.pre_verified = true;
    o.delivery_mode = STORE_DELIVERY_MIME_DIGESTS;
    CHECK(workflow_subscribe(&f->w, f->l, "dan@example.org", &o, &r, &err));
    assert_null(r.token);
    workflow_result_clear(&r);
    struct store_member *m = NULL;
    CHECK(store_member_get_by_email(f->st, "ant.example.com", "dan@example.org", STORE_ROLE_MEMBER,
                                    &m, &err));
    assert_int_equal(m->delivery_mode, STORE_DELIVERY_MIME_DIGESTS);
    store_member_free(m);
}

static void test_moderate_policy_accept_reject_discard(void **state)
{
    struct fixture *f = *state;
    set(f, "subscription_policy", "moderate");
    verify(f, "eve@example.org");
    struct workflow_result r;
    CHECK(workflow_subscribe(&f->w, f->l, "eve@example.org", NULL, &r, &err));
    assert_int_equal(r.token_owner, WORKFLOW_OWNER_MODERATOR);
    g_autofree char *token = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) mail = take_virgin(f);
    assert_int_equal(mail->len, 1);
    assert_true(has(mail->pdata[0], "recipients: ant-owner@example.com\n"));
    assert_true(
        has(mail->pdata[0], "Subject: New subscription request to Ant from eve@example.org"));
    struct store_request **reqs = NULL;
    CHECK(store_request_list(f->st, "ant.example.com", STORE_REQUEST_SUBSCRIPTION, &reqs, &err));
    assert_non_null(reqs[0]);
    assert_string_equal(reqs[0]->key, "eve@example.org");
    assert_string_equal(reqs[0]->data_token, token);
    assert_null(reqs[1]);
    store_requestv_free(reqs);

    /* another list cannot use this token */
    struct store_list *bee = NULL;
    CHECK(store_list_get(f->st, "bee@example.com", &bee, &err));
    EXPECT(workflow_confirm(&f->w, bee, token, &r, &err), WORKFLOW_NO_TOKEN);
    EXPECT(workflow_moderate(&f->w, bee, token, WORKFLOW_DISCARD, NULL, &err), WORKFLOW_NO_TOKEN);
    store_list_free(bee);

    CHECK(workflow_moderate(&f->w, f->l, token, WORKFLOW_DEFER, NULL, &err));
    CHECK(workflow_moderate(&f->w, f->l, token, WORKFLOW_ACCEPT, NULL, &err));
    assert_true(member(f, "eve@example.org"));
    CHECK(store_request_list(f->st, "ant.example.com", 0, &reqs, &err));
    assert_null(reqs[0]);
    store_requestv_free(reqs);
    g_autoptr(GPtrArray) welcome = take_virgin(f);
    assert_int_equal(welcome->len, 1);

    /* reject: the subscriber is told */
    verify(f, "fay@example.org");
    CHECK(workflow_subscribe(&f->w, f->l, "fay@example.org", NULL, &r, &err));
    g_autofree char *t2 = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) skip = take_virgin(f);
    CHECK(workflow_moderate(&f->w, f->l, t2, WORKFLOW_REJECT, "Not today", &err));
    assert_false(member(f, "fay@example.org"));
    g_autoptr(GPtrArray) refuse = take_virgin(f);
    assert_int_equal(refuse->len, 1);
    assert_true(has(refuse->pdata[0], "recipients: fay@example.org\n"));
    assert_true(has(refuse->pdata[0], "Subject: Request to mailing list \"Ant\" rejected"));
    assert_true(has(refuse->pdata[0], "    Subscription request\n"));
    assert_true(has(refuse->pdata[0], "\"Not today\""));
    EXPECT(workflow_confirm(&f->w, f->l, t2, &r, &err), WORKFLOW_NO_TOKEN);

    /* discard: silently */
    verify(f, "gus@example.org");
    CHECK(workflow_subscribe(&f->w, f->l, "gus@example.org", NULL, &r, &err));
    g_autofree char *t3 = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) skip2 = take_virgin(f);
    CHECK(workflow_moderate(&f->w, f->l, t3, WORKFLOW_DISCARD, NULL, &err));
    g_autoptr(GPtrArray) nothing = take_virgin(f);
    assert_int_equal(nothing->len, 0);
    assert_false(member(f, "gus@example.org"));
}

static void test_confirm_then_moderate(void **state)
{
    struct fixture *f = *state;
    set(f, "subscription_policy", "confirm_then_moderate");
    set(f, "admin_immed_notify", "false");
    verify(f, "hal@example.org");
    struct workflow_result r;
    CHECK(workflow_subscribe(&f->w, f->l, "hal@example.org", NULL, &r, &err));
    assert_int_equal(r.token_owner, WORKFLOW_OWNER_SUBSCRIBER);
    g_autofree char *t1 = g_strdup(r.token);
    workflow_result_clear(&r);
    CHECK(workflow_confirm(&f->w, f->l, t1, &r, &err));
    assert_int_equal(r.token_owner, WORKFLOW_OWNER_MODERATOR);
    assert_string_not_equal(r.token, t1);
    g_autofree char *t2 = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) mail = take_virgin(f);
    assert_int_equal(mail->len, 1); /* the confirmation only: no owner notice */
    CHECK(workflow_confirm(&f->w, f->l, t2, &r, &err));
    assert_null(r.token);
    workflow_result_clear(&r);
    assert_true(member(f, "hal@example.org"));

    /* pre_confirmed and pre_approved go straight through */
    struct workflow_subscribe_opts o = WORKFLOW_SUBSCRIBE_OPTS_INIT;
    o.pre_verified = o.pre_confirmed = o.pre_approved = true;
    o.send_welcome = 0;
    CHECK(workflow_subscribe(&f->w, f->l, "ida@example.org", &o, &r, &err));
    assert_null(r.token);
    workflow_result_clear(&r);
    assert_true(member(f, "ida@example.org"));
}

static void test_invitation(void **state)
{
    struct fixture *f = *state;
    set(f, "subscription_policy", "moderate");
    struct workflow_subscribe_opts o = WORKFLOW_SUBSCRIBE_OPTS_INIT;
    o.invitation = true;
    struct workflow_result r;
    CHECK(workflow_subscribe(&f->w, f->l, "jo@example.org", &o, &r, &err));
    g_autofree char *token = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) mail = take_virgin(f);
    assert_int_equal(mail->len, 1);
    assert_true(has(mail->pdata[0],
                    "Subject: You have been invited to join the ant@example.com mailing list."));
    assert_true(has(mail->pdata[0], "Your address \"jo@example.org\" has been invited"));
    /* accepting the invitation needs no moderator */
    CHECK(workflow_confirm(&f->w, f->l, token, &r, &err));
    assert_null(r.token);
    workflow_result_clear(&r);
    assert_true(member(f, "jo@example.org"));
}

static void test_sanity_checks(void **state)
{
    struct fixture *f = *state;
    struct workflow_result r;
    CHECK(store_ban_add(f->st, "ant.example.com", "^.*@spam\\.example$", &err));
    EXPECT(workflow_subscribe(&f->w, f->l, "x@spam.example", NULL, &r, &err), WORKFLOW_BANNED);
    assert_string_equal(err, "x@spam.example is not allowed to subscribe to ant@example.com");
    EXPECT(workflow_subscribe(&f->w, f->l, "ANT@example.com", NULL, &r, &err),
           WORKFLOW_INVALID_EMAIL);
    assert_string_equal(err, "List posting address not allowed");
    EXPECT(workflow_subscribe(&f->w, f->l, "not an address", NULL, &r, &err),
           WORKFLOW_INVALID_EMAIL);
    EXPECT(workflow_unsubscribe(&f->w, f->l, "nobody@example.org", false, false, &r, &err),
           WORKFLOW_NOT_MEMBER);
    assert_string_equal(err, "nobody@example.org is not a member of ant@example.com");
    static const char *const forged[] = {"", "abc", "0123456789abcdef0123456789abcdef01234567",
                                         "../../../../../../etc/passwd0123456789012345"};
    for (size_t i = 0; i < G_N_ELEMENTS(forged); i++)
        EXPECT(workflow_confirm(&f->w, f->l, forged[i], &r, &err), WORKFLOW_NO_TOKEN);
}

static void test_unsubscribe_confirm_and_goodbye(void **state)
{
    struct fixture *f = *state;
    set(f, "send_goodbye_message", "true");
    set(f, "admin_notify_mchanges", "true");
    CHECK(store_member_add(f->st, "ant.example.com", "boss@example.org", NULL, STORE_ROLE_OWNER, 0,
                           NULL, &err));
    CHECK(store_member_add(f->st, "ant.example.com", "kim@example.org", "Kim", STORE_ROLE_MEMBER, 0,
                           NULL, &err));
    struct workflow_result r;
    CHECK(workflow_unsubscribe(&f->w, f->l, "kim@example.org", false, false, &r, &err));
    assert_int_equal(r.token_owner, WORKFLOW_OWNER_SUBSCRIBER);
    assert_non_null(r.member_id);
    g_autofree char *token = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) conf = take_virgin(f);
    assert_int_equal(conf->len, 1);
    assert_true(
        has(conf->pdata[0], "Your confirmation is needed to leave the ant@example.com mailing"));
    CHECK(workflow_confirm(&f->w, f->l, token, &r, &err));
    assert_null(r.member_id);
    workflow_result_clear(&r);
    assert_false(member(f, "kim@example.org"));
    g_autoptr(GPtrArray) mail = take_virgin(f);
    assert_int_equal(mail->len, 2);
    assert_true(has(mail->pdata[0], "Subject: You have been unsubscribed from the Ant mailing"));
    assert_true(has(mail->pdata[1], "recipients: boss@example.org\n"));
    assert_true(has(mail->pdata[1], "Subject: Ant unsubscription notification"));
    assert_true(has(mail->pdata[1], "Kim <kim@example.org> has been removed from Ant."));
}

static void test_unsubscription_policies(void **state)
{
    struct fixture *f = *state;
    CHECK(store_member_add(f->st, "ant.example.com", "lou@example.org", NULL, STORE_ROLE_MEMBER, 0,
                           NULL, &err));
    CHECK(store_member_add(f->st, "ant.example.com", "max@example.org", NULL, STORE_ROLE_MEMBER, 0,
                           NULL, &err));
    struct workflow_result r;
    /* moderate: the moderator's token, the member stays until approval */
    set(f, "unsubscription_policy", "moderate");
    CHECK(workflow_unsubscribe(&f->w, f->l, "lou@example.org", false, false, &r, &err));
    assert_int_equal(r.token_owner, WORKFLOW_OWNER_MODERATOR);
    assert_non_null(r.member_id);
    g_autofree char *t1 = g_strdup(r.token);
    workflow_result_clear(&r);
    g_autoptr(GPtrArray) notice = take_virgin(f);
    assert_int_equal(notice->len, 1);
    assert_true(has(notice->pdata[0], "Subject: New unsubscription request to Ant from"));
    struct store_request **reqs = NULL;
    CHECK(store_request_list(f->st, "ant.example.com", STORE_REQUEST_UNSUBSCRIPTION, &reqs, &err));
    assert_non_null(reqs[0]);
    store_requestv_free(reqs);
    assert_true(member(f, "lou@example.org"));
    CHECK(workflow_moderate(&f->w, f->l, t1, WORKFLOW_ACCEPT, NULL, &err));
    assert_false(member(f, "lou@example.org"));
    /* pre_approved skips the moderator; open needs nobody */
    CHECK(workflow_unsubscribe(&f->w, f->l, "max@example.org", false, true, &r, &err));
    assert_null(r.token);
    assert_null(r.member_id);
    workflow_result_clear(&r);
    assert_false(member(f, "max@example.org"));
}

static void test_autoresponse_limit(void **state)
{
    struct fixture *f = *state;
    /* [mta] max_autoresponses_per_day: 10 */
    f->w.now = (int64_t)1800000000 * G_USEC_PER_SEC;
    for (int i = 0; i < 10; i++)
        EXPECT(workflow_autorespond_ok(&f->w, f->l, WORKFLOW_RESPONSE_HOLD, "a@example.org", &err),
               1);
    g_autoptr(GPtrArray) none = take_virgin(f);
    assert_int_equal(none->len, 0);
    EXPECT(workflow_autorespond_ok(&f->w, f->l, WORKFLOW_RESPONSE_HOLD, "A@example.org", &err), 0);
    g_autoptr(GPtrArray) last = take_virgin(f);
    assert_int_equal(last->len, 1);
    assert_true(has(last->pdata[0], "Subject: Last autoresponse notification for today"));
    assert_true(has(last->pdata[0], "The number we have seen today: 10."));
    EXPECT(workflow_autorespond_ok(&f->w, f->l, WORKFLOW_RESPONSE_HOLD, "a@example.org", &err), 0);
    g_autoptr(GPtrArray) silent = take_virgin(f);
    assert_int_equal(silent->len, 0);
    /* other kinds, other lists, other senders count on their own */
    EXPECT(workflow_autorespond_ok(&f->w, f->l, WORKFLOW_RESPONSE_RESULTS, "a@example.org", &err),
           1);
    EXPECT(workflow_autorespond_ok(&f->w, f->l, WORKFLOW_RESPONSE_HOLD, "b@example.org", &err), 1);
    /* the next day starts again */
    f->w.now += (int64_t)86400 * G_USEC_PER_SEC;
    EXPECT(workflow_autorespond_ok(&f->w, f->l, WORKFLOW_RESPONSE_HOLD, "a@example.org", &err), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_confirm_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_policy_verified_and_pre_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moderate_policy_accept_reject_discard, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_confirm_then_moderate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invitation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sanity_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_confirm_and_goodbye, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscription_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autoresponse_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
