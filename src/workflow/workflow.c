/* workflow - see workflow.h. The steps and their order are Mailman's
 * SubscriptionWorkflow and UnSubscriptionWorkflow; the step names are
 * what is saved in workflowstate.step. */
#include "workflow/workflow.h"

#include "config/config.h"
#include "lib/log.h"
#include "store/store.h"
#include "store/store_workflow.h"
#include "workflow/workflow_mail.h"

#include <glib.h>
#include <jansson.h>
#include <string.h>

static const char *const owner_names[] = {"no_one", "subscriber", "moderator"};

const char *workflow_token_owner_name(enum workflow_token_owner o)
{
    return (unsigned)o < G_N_ELEMENTS(owner_names) ? owner_names[o] : "no_one";
}

void workflow_result_clear(struct workflow_result *r)
{
    g_clear_pointer(&r->token, g_free);
    g_clear_pointer(&r->member_id, g_free);
    r->token_owner = WORKFLOW_OWNER_NO_ONE;
}

/* One running workflow (Mailman's SAVE_ATTRIBUTES and a bit more). */
struct wf {
    struct workflow_ctx *w;
    const struct store_list *l;
    bool leave; /* an unsubscription */
    char *email;
    char *display_name;
    bool pre_verified, pre_confirmed, pre_approved, invitation;
    int send_welcome;
    int delivery_mode, delivery_status;
    char *token;
    enum workflow_token_owner token_owner;
    char *member_id;
    char **error_r;
};

static void wf_clear(struct wf *f)
{
    g_free(f->email);
    g_free(f->display_name);
    g_free(f->token);
    g_free(f->member_id);
}

static int64_t wf_now(const struct wf *f)
{
    return f->w->now ? f->w->now : g_get_real_time();
}

static int fail(struct wf *f, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct wf *f, int code, const char *fmt, ...)
{
    if (f->error_r) {
        va_list ap;
        va_start(ap, fmt);
        g_free(*f->error_r);
        *f->error_r = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool policy_is(const struct wf *f, const char *policy)
{
    const char *p =
        store_list_attr(f->l, f->leave ? "unsubscription_policy" : "subscription_policy");
    return p && strcmp(p, policy) == 0;
}

static bool policy_moderates(const struct wf *f)
{
    return policy_is(f, "moderate") || policy_is(f, "confirm_then_moderate");
}

/* Drops the request rows that point at token. */
static int drop_requests(struct workflow_ctx *w, const struct store_list *l, const char *token,
                         char **error_r)
{
    struct store_request **v = NULL;
    int rc = store_request_list(w->st, l->list_id, STORE_REQUEST_ANY, &v, error_r);
    for (size_t i = 0; rc >= 0 && v && v[i]; i++)
        if (v[i]->data_token && g_ascii_strcasecmp(v[i]->data_token, token) == 0)
            rc = store_request_delete(w->st, l->list_id, v[i]->id, error_r);
    store_requestv_free(v);
    return rc < 0 ? WORKFLOW_ERR : 0;
}

/* Mailman's _set_token(): the old token goes (with its saved state and
 * request), a new one is made for owner. */
static int set_token(struct wf *f, enum workflow_token_owner owner)
{
    struct workflow_ctx *w = f->w;
    if (f->token) {
        if (store_pending_delete(w->st, f->token, f->error_r) < 0 ||
            drop_requests(w, f->l, f->token, f->error_r) < 0)
            return WORKFLOW_ERR;
        g_clear_pointer(&f->token, g_free);
    }
    f->token_owner = owner;
    if (owner == WORKFLOW_OWNER_NO_ONE)
        return 0;
    g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc(wf_now(f) / G_USEC_PER_SEC);
    g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    const char *keys[] = {"list_id", "email", "display_name", "when", "token_owner"};
    const char *values[] = {f->l->list_id, f->email, f->display_name, when, owner_names[owner]};
    double life = config_get_duration(w->cfg, "mailman",
                                      owner == WORKFLOW_OWNER_MODERATOR ? "moderator_request_life"
                                                                        : "pending_request_life");
    if (store_pending_add(w->st, f->leave ? "unsubscription" : "subscription",
                          (int64_t)(life * G_USEC_PER_SEC), keys, values, G_N_ELEMENTS(keys),
                          &f->token, f->error_r) < 0)
        return WORKFLOW_ERR;
    return 0;
}

/* Saves the state under the current token, with next as the step to
 * resume at. */
static int save(struct wf *f, const char *next)
{
    json_t *d = json_object();
    json_object_set_new(d, "pre_approved", json_boolean(f->pre_approved));
    json_object_set_new(d, "pre_confirmed", json_boolean(f->pre_confirmed));
    json_object_set_new(d, "pre_verified", json_boolean(f->pre_verified));
    json_object_set_new(d, "invitation", json_boolean(f->invitation));
    json_object_set_new(d, "address_key", json_string(f->email));
    json_object_set_new(d, "token_owner_key", json_integer(f->token_owner));
    json_object_set_new(d, "send_welcome_message",
                        f->send_welcome < 0 ? json_null() : json_boolean(f->send_welcome));
    json_object_set_new(d, "delivery_mode",
                        f->delivery_mode ? json_string(store_delivery_mode_name(f->delivery_mode))
                                         : json_null());
    json_object_set_new(d, "delivery_status",
                        f->delivery_status
                            ? json_string(store_delivery_status_name(f->delivery_status))
                            : json_null());
    char *data = json_dumps(d, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(d);
    int rc = store_workflow_save(f->w->st, f->token, next, data, f->error_r);
    free(data);
    return rc < 0 ? WORKFLOW_ERR : 0;
}

static int restore(struct wf *f, const char *data)
{
    json_t *d = json_loads(data ? data : "{}", 0, NULL);
    if (d == NULL || !json_is_object(d)) {
        json_decref(d);
        return fail(f, WORKFLOW_NO_TOKEN, "Bad workflow state");
    }
    f->pre_approved = json_is_true(json_object_get(d, "pre_approved"));
    f->pre_confirmed = json_is_true(json_object_get(d, "pre_confirmed"));
    f->pre_verified = json_is_true(json_object_get(d, "pre_verified"));
    f->invitation = json_is_true(json_object_get(d, "invitation"));
    json_t *sw = json_object_get(d, "send_welcome_message");
    f->send_welcome = json_is_boolean(sw) ? json_is_true(sw) : -1;
    const char *mode = json_string_value(json_object_get(d, "delivery_mode"));
    const char *status = json_string_value(json_object_get(d, "delivery_status"));
    f->delivery_mode = mode ? store_delivery_mode_parse(mode) : 0;
    f->delivery_status = status ? store_delivery_status_parse(status) : 0;
    if (f->delivery_mode < 0)
        f->delivery_mode = 0;
    if (f->delivery_status < 0)
        f->delivery_status = 0;
    json_decref(d);
    return 0;
}

/* ---- the steps ---- */

enum step {
    STEP_STOP = -1,
    /* subscription */
    STEP_SANITY_CHECKS,
    STEP_VERIFICATION_CHECKS,
    STEP_CONFIRMATION_CHECKS,
    STEP_MODERATION_CHECKS,
    STEP_GET_MODERATOR_APPROVAL,
    STEP_SUBSCRIBE_FROM_RESTORED,
    STEP_DO_SUBSCRIPTION,
    STEP_SEND_CONFIRMATION,
    STEP_SEND_INVITATION,
    STEP_DO_CONFIRM_VERIFY,
    /* unsubscription */
    STEP_SUBSCRIPTION_CHECKS,
    STEP_UNSUBSCRIBE_FROM_RESTORED,
    STEP_DO_UNSUBSCRIPTION,
};

/* A step returns the next step, STEP_STOP, or an error (< STEP_STOP). */
#define STEP_ERROR(rc) ((rc)-100)

static int email_verified(struct wf *f, bool *verified_r)
{
    struct store_address *a = NULL;
    if (store_address_get(f->w->st, f->email, &a, f->error_r) < 0)
        return WORKFLOW_ERR;
    *verified_r = a && a->verified_on != 0;
    store_address_free(a);
    return 0;
}

/* The address and a user linked to it exist afterwards. */
static int ensure_user(struct wf *f)
{
    struct store *st = f->w->st;
    struct store_address *a = NULL;
    if (store_address_get(st, f->email, &a, f->error_r) < 0)
        return WORKFLOW_ERR;
    int rc = 0;
    if (a == NULL) {
        rc = store_user_create(st, f->email, f->display_name, NULL, false, NULL, f->error_r);
        if (rc == STORE_INVALID)
            return fail(f, WORKFLOW_INVALID_EMAIL, "%s", f->email);
    } else if (a->user_id == NULL) {
        struct store_user *u = NULL;
        const char *name = f->display_name ? f->display_name : a->display_name;
        rc = store_user_create(st, NULL, name, NULL, false, &u, f->error_r);
        if (rc >= 0)
            rc = store_address_set_user(st, a->email, u->user_id, f->error_r);
        store_user_free(u);
    }
    if (a && f->display_name == NULL && a->display_name)
        f->display_name = g_strdup(a->display_name);
    store_address_free(a);
    return rc < 0 ? WORKFLOW_ERR : 0;
}

static int already_member(struct wf *f)
{
    return fail(f, WORKFLOW_ALREADY_MEMBER, "%s is already a MemberRole.member of mailing list %s",
                f->email, f->l->fqdn_listname);
}

static int banned(struct wf *f)
{
    return fail(f, WORKFLOW_BANNED, "%s is not allowed to subscribe to %s", f->email,
                f->l->fqdn_listname);
}

static int step_sanity_checks(struct wf *f)
{
    struct store *st = f->w->st;
    const char *list_id = f->l->list_id;
    int rc = ensure_user(f);
    if (rc < 0)
        return STEP_ERROR(rc);
    struct store_member *m = NULL;
    if (store_member_get_by_email(st, list_id, f->email, STORE_ROLE_MEMBER, &m, f->error_r) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (m) {
        store_member_free(m);
        return STEP_ERROR(already_member(f));
    }
    int b = store_ban_is_banned(st, list_id, f->email, f->error_r);
    if (b < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (b)
        return STEP_ERROR(banned(f));
    if (g_ascii_strcasecmp(f->email, f->l->fqdn_listname) == 0)
        return STEP_ERROR(fail(f, WORKFLOW_INVALID_EMAIL, "List posting address not allowed"));
    char **tokens = NULL;
    if (store_pending_find(st, "subscription", "email", f->email, &tokens, f->error_r) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    bool pending = false;
    for (char **t = tokens; !pending && *t; t++) {
        struct store_pending *p = NULL;
        if (store_pending_get(st, *t, &p, NULL) == 1)
            for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->keys[i], "list_id") == 0 && p->values[i] &&
                    strcmp(p->values[i], list_id) == 0)
                    pending = true;
        store_pending_free(p);
    }
    g_strfreev(tokens);
    if (pending)
        return STEP_ERROR(fail(f, WORKFLOW_PENDING, "%s", ""));
    return STEP_VERIFICATION_CHECKS;
}

static int step_verification_checks(struct wf *f)
{
    if (f->invitation)
        return STEP_SEND_INVITATION;
    bool verified;
    if (email_verified(f, &verified) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (!verified) {
        if (!f->pre_verified)
            return STEP_SEND_CONFIRMATION;
        if (store_address_set_verified(f->w->st, f->email, wf_now(f), f->error_r) < 0)
            return STEP_ERROR(WORKFLOW_ERR);
    }
    return STEP_CONFIRMATION_CHECKS;
}

static int step_confirmation_checks(struct wf *f)
{
    if (policy_is(f, "open"))
        return f->leave ? STEP_DO_UNSUBSCRIPTION : STEP_DO_SUBSCRIPTION;
    if (policy_is(f, "moderate"))
        return STEP_MODERATION_CHECKS;
    if (f->pre_confirmed) {
        if (f->leave)
            return STEP_DO_UNSUBSCRIPTION;
        return policy_is(f, "confirm_then_moderate") ? STEP_MODERATION_CHECKS
                                                     : STEP_DO_SUBSCRIPTION;
    }
    return STEP_SEND_CONFIRMATION;
}

static int step_moderation_checks(struct wf *f)
{
    if (f->pre_approved)
        return f->leave ? STEP_DO_UNSUBSCRIPTION : STEP_DO_SUBSCRIPTION;
    return STEP_GET_MODERATOR_APPROVAL;
}

static int step_get_moderator_approval(struct wf *f)
{
    struct workflow_ctx *w = f->w;
    if (set_token(f, WORKFLOW_OWNER_MODERATOR) < 0 ||
        save(f, f->leave ? "unsubscribe_from_restored" : "subscribe_from_restored") < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (store_request_add(w->st, f->l->list_id,
                          f->leave ? STORE_REQUEST_UNSUBSCRIPTION : STORE_REQUEST_SUBSCRIPTION,
                          f->email, f->token, NULL, f->error_r) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    log_to("subscribe", LOG_LEVEL_INFO, "%s: held %ssubscription request from %s",
           f->l->fqdn_listname, f->leave ? "un" : "", f->email);
    if (store_list_attr_bool(f->l, "admin_immed_notify") &&
        workflow_mail_moderators(w, f->l, f->leave, f->email, f->display_name, f->error_r) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    return STEP_STOP;
}

static int step_from_restored(struct wf *f)
{
    if (set_token(f, WORKFLOW_OWNER_NO_ONE) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    return f->leave ? STEP_DO_UNSUBSCRIPTION : STEP_DO_SUBSCRIPTION;
}

static int step_do_subscription(struct wf *f)
{
    struct workflow_ctx *w = f->w;
    const struct store_list *l = f->l;
    /* mlist.subscribe() checks the ban again: the list may have changed
     * while the request waited. */
    int b = store_ban_is_banned(w->st, l->list_id, f->email, f->error_r);
    if (b < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (b)
        return STEP_ERROR(banned(f));
    struct store_member *m = NULL;
    int rc = store_member_add(w->st, l->list_id, f->email, NULL, STORE_ROLE_MEMBER,
                              f->delivery_mode, &m, f->error_r);
    if (rc == STORE_EXISTS)
        return STEP_ERROR(already_member(f));
    if (rc < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (f->delivery_status &&
        store_member_set_delivery_status(w->st, m->member_id, f->delivery_status, f->error_r) < 0) {
        store_member_free(m);
        return STEP_ERROR(WORKFLOW_ERR);
    }
    f->member_id = g_strdup(m->member_id);
    log_to("subscribe", LOG_LEVEL_INFO, "%s: new %s", l->fqdn_listname, f->email);
    /* Member.display_name: the address's, else its user's */
    const char *name = m->display_name && *m->display_name ? m->display_name : m->user_display_name;
    bool digest = m->delivery_mode != STORE_DELIVERY_REGULAR;
    rc = 0;
    if (store_list_attr_bool(l, "admin_notify_mchanges"))
        rc = workflow_mail_mchange(w, l, false, f->email, name, f->error_r);
    bool welcome =
        f->send_welcome < 0 ? store_list_attr_bool(l, "send_welcome_message") : f->send_welcome > 0;
    if (rc == 0 && welcome)
        rc = workflow_mail_welcome(w, l, f->email, name, digest, f->error_r);
    store_member_free(m);
    return rc < 0 ? STEP_ERROR(WORKFLOW_ERR) : STEP_STOP;
}

static int step_send_confirmation(struct wf *f)
{
    bool invite = f->invitation && !f->leave;
    if (set_token(f, WORKFLOW_OWNER_SUBSCRIBER) < 0 || save(f, "do_confirm_verify") < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    enum workflow_confirm_kind kind = f->leave ? WORKFLOW_CONFIRM_LEAVE
                                      : invite ? WORKFLOW_CONFIRM_INVITE
                                               : WORKFLOW_CONFIRM_JOIN;
    if (workflow_mail_confirmation(f->w, f->l, kind, f->token, f->email, f->error_r) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    return STEP_STOP;
}

static int member_of(struct wf *f, char **member_id_r)
{
    struct store_member *m = NULL;
    *member_id_r = NULL;
    if (store_member_get_by_email(f->w->st, f->l->list_id, f->email, STORE_ROLE_MEMBER, &m,
                                  f->error_r) < 0)
        return WORKFLOW_ERR;
    if (m)
        *member_id_r = g_strdup(m->member_id);
    store_member_free(m);
    return 0;
}

static int step_do_confirm_verify(struct wf *f)
{
    if (set_token(f, WORKFLOW_OWNER_NO_ONE) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (f->leave) {
        g_clear_pointer(&f->member_id, g_free);
        if (member_of(f, &f->member_id) < 0)
            return STEP_ERROR(WORKFLOW_ERR);
        if (f->member_id == NULL) /* it left while we waited */
            return STEP_STOP;
        return policy_moderates(f) ? STEP_MODERATION_CHECKS : STEP_DO_UNSUBSCRIPTION;
    }
    bool verified;
    if (email_verified(f, &verified) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (!verified && store_address_set_verified(f->w->st, f->email, wf_now(f), f->error_r) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    return policy_moderates(f) && !f->invitation ? STEP_MODERATION_CHECKS : STEP_DO_SUBSCRIPTION;
}

static int step_subscription_checks(struct wf *f)
{
    if (member_of(f, &f->member_id) < 0)
        return STEP_ERROR(WORKFLOW_ERR);
    if (f->member_id == NULL)
        return STEP_ERROR(fail(f, WORKFLOW_NOT_MEMBER, "%s is not a member of %s", f->email,
                               f->l->fqdn_listname));
    return STEP_CONFIRMATION_CHECKS;
}

static int step_do_unsubscription(struct wf *f)
{
    struct workflow_ctx *w = f->w;
    const struct store_list *l = f->l;
    struct store_member *m = NULL;
    if (store_member_get_by_email(w->st, l->list_id, f->email, STORE_ROLE_MEMBER, &m, f->error_r) <
        0)
        return STEP_ERROR(WORKFLOW_ERR);
    g_clear_pointer(&f->member_id, g_free);
    if (m == NULL) /* already gone */
        return STEP_STOP;
    int rc = store_member_delete(w->st, m->member_id, f->error_r);
    log_to("subscribe", LOG_LEVEL_INFO, "%s: deleted %s", l->fqdn_listname, f->email);
    if (rc >= 0 && store_list_attr_bool(l, "send_goodbye_message"))
        rc = workflow_mail_goodbye(w, l, f->email, f->error_r);
    if (rc >= 0 && store_list_attr_bool(l, "admin_notify_mchanges"))
        rc = workflow_mail_mchange(w, l, true, f->email, m->user_display_name, f->error_r);
    store_member_free(m);
    return rc < 0 ? STEP_ERROR(WORKFLOW_ERR) : STEP_STOP;
}

static const struct {
    const char *name;
    int (*run)(struct wf *f);
} steps[] = {
    [STEP_SANITY_CHECKS] = {"sanity_checks", step_sanity_checks},
    [STEP_VERIFICATION_CHECKS] = {"verification_checks", step_verification_checks},
    [STEP_CONFIRMATION_CHECKS] = {"confirmation_checks", step_confirmation_checks},
    [STEP_MODERATION_CHECKS] = {"moderation_checks", step_moderation_checks},
    [STEP_GET_MODERATOR_APPROVAL] = {"get_moderator_approval", step_get_moderator_approval},
    [STEP_SUBSCRIBE_FROM_RESTORED] = {"subscribe_from_restored", step_from_restored},
    [STEP_DO_SUBSCRIPTION] = {"do_subscription", step_do_subscription},
    [STEP_SEND_CONFIRMATION] = {"send_confirmation", step_send_confirmation},
    [STEP_SEND_INVITATION] = {"send_invitation", step_send_confirmation},
    [STEP_DO_CONFIRM_VERIFY] = {"do_confirm_verify", step_do_confirm_verify},
    [STEP_SUBSCRIPTION_CHECKS] = {"subscription_checks", step_subscription_checks},
    [STEP_UNSUBSCRIBE_FROM_RESTORED] = {"unsubscribe_from_restored", step_from_restored},
    [STEP_DO_UNSUBSCRIPTION] = {"do_unsubscription", step_do_unsubscription},
};

static int step_by_name(const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(steps); i++)
        if (strcmp(steps[i].name, name) == 0)
            return (int)i;
    return STEP_STOP;
}

/* Runs from step until the workflow stops; fills r on success. */
static int run(struct wf *f, int step, struct workflow_result *r)
{
    /* every chain of steps is short; the bound guards against a loop */
    for (int n = 0; step >= 0 && n < 32; n++)
        step = steps[step].run(f);
    if (step < STEP_STOP)
        return step + 100;
    memset(r, 0, sizeof *r);
    r->token = g_steal_pointer(&f->token);
    r->token_owner = r->token ? f->token_owner : WORKFLOW_OWNER_NO_ONE;
    r->member_id = g_steal_pointer(&f->member_id);
    return 0;
}

static bool valid_email(const char *email)
{
    const char *at = email ? strchr(email, '@') : NULL;
    return at && at != email && at[1] && !strchr(at + 1, '@') && g_utf8_validate(email, -1, NULL) &&
           !strpbrk(email, " \t\r\n<>,;\"()[]\\") && strlen(email) <= 254;
}

int workflow_subscribe(struct workflow_ctx *w, const struct store_list *l, const char *email,
                       const struct workflow_subscribe_opts *o, struct workflow_result *r,
                       char **error_r)
{
    if (!valid_email(email)) {
        if (error_r)
            *error_r = g_strdup(email ? email : "");
        return WORKFLOW_INVALID_EMAIL;
    }
    struct workflow_subscribe_opts none = WORKFLOW_SUBSCRIBE_OPTS_INIT;
    if (o == NULL)
        o = &none;
    struct wf f = {
        .w = w,
        .l = l,
        .email = g_ascii_strdown(email, -1),
        .display_name = o->display_name && *o->display_name ? g_strdup(o->display_name) : NULL,
        .pre_verified = o->pre_verified || o->invitation,
        .pre_confirmed = o->pre_confirmed || o->invitation,
        .pre_approved = o->pre_approved || o->invitation,
        .invitation = o->invitation,
        .send_welcome = o->send_welcome,
        .delivery_mode = o->delivery_mode,
        .delivery_status = o->delivery_status,
        .error_r = error_r,
    };
    int rc = run(&f, STEP_SANITY_CHECKS, r);
    wf_clear(&f);
    return rc;
}

int workflow_unsubscribe(struct workflow_ctx *w, const struct store_list *l, const char *email,
                         bool pre_confirmed, bool pre_approved, struct workflow_result *r,
                         char **error_r)
{
    if (!valid_email(email)) {
        if (error_r)
            *error_r =
                g_strdup_printf("%s is not a member of %s", email ? email : "", l->fqdn_listname);
        return WORKFLOW_NOT_MEMBER;
    }
    struct wf f = {
        .w = w,
        .l = l,
        .leave = true,
        .email = g_ascii_strdown(email, -1),
        .pre_confirmed = pre_confirmed,
        .pre_approved = pre_approved,
        .send_welcome = -1,
        .error_r = error_r,
    };
    struct store_address *a = NULL;
    if (store_address_get(w->st, f.email, &a, NULL) == 1 && a->display_name)
        f.display_name = g_strdup(a->display_name);
    store_address_free(a);
    int rc = run(&f, STEP_SUBSCRIPTION_CHECKS, r);
    wf_clear(&f);
    return rc;
}

static const char *pending_value(const struct store_pending *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->values[i];
    return NULL;
}

/* The pending of token if it is a (un)subscription of l: 1, else 0. */
static int find_pending(struct workflow_ctx *w, const struct store_list *l, const char *token,
                        struct store_pending **p_r, char **error_r)
{
    *p_r = NULL;
    if (token == NULL || strlen(token) != 40)
        return 0;
    struct store_pending *p = NULL;
    int rc = store_pending_get(w->st, token, &p, error_r);
    if (rc <= 0)
        return rc < 0 ? WORKFLOW_ERR : 0;
    const char *list_id = pending_value(p, "list_id");
    if ((strcmp(p->type, "subscription") != 0 && strcmp(p->type, "unsubscription") != 0) ||
        list_id == NULL || strcmp(list_id, l->list_id) != 0) {
        store_pending_free(p);
        return 0;
    }
    *p_r = p;
    return 1;
}

int workflow_confirm(struct workflow_ctx *w, const struct store_list *l, const char *token,
                     struct workflow_result *r, char **error_r)
{
    struct store_pending *p = NULL;
    int rc = find_pending(w, l, token, &p, error_r);
    if (rc <= 0) {
        if (rc == 0 && error_r)
            *error_r = g_strdup("Confirmation token did not match");
        return rc < 0 ? WORKFLOW_ERR : WORKFLOW_NO_TOKEN;
    }
    g_autofree char *step = NULL, *data = NULL;
    rc = store_workflow_get(w->st, p->token, &step, &data, error_r);
    const char *email = pending_value(p, "email");
    const char *name = pending_value(p, "display_name");
    const char *owner = pending_value(p, "token_owner");
    struct wf f = {
        .w = w,
        .l = l,
        .leave = strcmp(p->type, "unsubscription") == 0,
        .email = g_strdup(email),
        .display_name = name && *name ? g_strdup(name) : NULL,
        .token = g_strdup(p->token),
        .token_owner = owner && strcmp(owner, "moderator") == 0 ? WORKFLOW_OWNER_MODERATOR
                                                                : WORKFLOW_OWNER_SUBSCRIBER,
        .send_welcome = -1,
        .error_r = error_r,
    };
    store_pending_free(p);
    int first = step_by_name(step);
    if (rc < 0)
        rc = WORKFLOW_ERR;
    else if (rc == 0 || first < 0 || f.email == NULL) {
        if (error_r)
            *error_r = g_strdup("Confirmation token did not match");
        rc = WORKFLOW_NO_TOKEN;
    } else {
        rc = restore(&f, data);
        if (rc == 0)
            rc = run(&f, first, r);
    }
    wf_clear(&f);
    return rc;
}

int workflow_moderate(struct workflow_ctx *w, const struct store_list *l, const char *token,
                      enum workflow_action action, const char *reason, char **error_r)
{
    if (action == WORKFLOW_ACCEPT) {
        struct workflow_result r;
        int rc = workflow_confirm(w, l, token, &r, error_r);
        if (rc == 0)
            workflow_result_clear(&r);
        return rc;
    }
    struct store_pending *p = NULL;
    int rc = find_pending(w, l, token, &p, error_r);
    if (rc <= 0) {
        if (rc == 0 && error_r)
            *error_r = g_strdup("Confirmation token did not match");
        return rc < 0 ? WORKFLOW_ERR : WORKFLOW_NO_TOKEN;
    }
    rc = 0;
    if (action != WORKFLOW_DEFER) {
        if (store_pending_delete(w->st, p->token, error_r) < 0 ||
            drop_requests(w, l, p->token, error_r) < 0)
            rc = WORKFLOW_ERR;
        const char *email = pending_value(p, "email");
        if (rc == 0 && action == WORKFLOW_REJECT && email)
            rc = workflow_mail_refuse(w, l, email, "Subscription request",
                                      reason ? reason : "[No reason given]", error_r);
    }
    store_pending_free(p);
    return rc < 0 ? WORKFLOW_ERR : 0;
}
