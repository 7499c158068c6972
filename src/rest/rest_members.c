/* rest_members - see rest_members.h. */
#include "rest/rest_members.h"

#include "rest/rest_addresses.h"
#include "rest/rest_ids.h"
#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/list_attr.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* The member resource's fields, in Mailman's order (all_fields). */
static const char *const member_fields[] = {"address",
                                            "bounce_score",
                                            "last_bounce_received",
                                            "last_warning_sent",
                                            "total_warnings_sent",
                                            "delivery_mode",
                                            "email",
                                            "list_id",
                                            "subscription_mode",
                                            "role",
                                            "user",
                                            "moderation_action",
                                            "display_name",
                                            "self_link",
                                            "member_id",
                                            NULL};

/* Ids in the API's form (rest_ids.h): 3.0 writes integers. */
static json_t *member_json(struct rest_req *req, const struct store_member *m)
{
    g_autofree char *id = rest_id_text(req->api, m->member_id);
    json_t *r = json_object();
    json_object_set_new(r, "address", rest_jstr_take(rest_path_to(req, "addresses/%s", m->email)));
    json_object_set_new(r, "bounce_score", json_integer(m->bounce_score));
    if (m->last_bounce_received)
        json_object_set_new(r, "last_bounce_received",
                            rest_jstr_take(rest_py_isoformat(m->last_bounce_received)));
    json_object_set_new(r, "last_warning_sent",
                        rest_jstr_take(rest_py_isoformat(m->last_warning_sent)));
    json_object_set_new(r, "total_warnings_sent", json_integer(m->total_warnings_sent));
    json_object_set_new(r, "delivery_mode",
                        rest_jstr_or_null(store_delivery_mode_name(m->delivery_mode)));
    json_object_set_new(r, "email", json_string(m->email));
    json_object_set_new(r, "list_id", json_string(m->list_id));
    json_object_set_new(r, "subscription_mode", json_string("as_address"));
    json_object_set_new(r, "role", rest_jstr_or_null(store_role_name(m->role)));
    if (m->user_id) {
        g_autofree char *uid = rest_id_text(req->api, m->user_id);
        json_object_set_new(r, "user", rest_jstr_take(rest_path_to(req, "users/%s", uid)));
    }
    if (m->moderation_action != STORE_ACTION_UNSET)
        json_object_set_new(r, "moderation_action",
                            rest_jstr_or_null(store_action_name(m->moderation_action)));
    const char *name = m->display_name && *m->display_name ? m->display_name
                       : m->user_display_name              ? m->user_display_name
                                                           : "";
    json_object_set_new(r, "display_name", json_string(name));
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "members/%s", id)));
    json_object_set_new(r, "member_id", rest_id_json(req->api, m->member_id));
    return r;
}

/* What Mailman's etag sees for a member: enums and datetimes. */
static char *member_pyrepr(const char *key, json_t *value, void *ctx)
{
    if (!json_is_string(value))
        return NULL;
    const char *v = json_string_value(value);
    int64_t us = 0;
    if (strcmp(key, "delivery_mode") == 0)
        return rest_py_enum_repr("DeliveryMode", v, store_delivery_mode_parse(v));
    if (strcmp(key, "moderation_action") == 0)
        return rest_py_enum_repr("Action", v, store_action_parse(v));
    if (strcmp(key, "subscription_mode") == 0)
        return rest_py_enum_repr("SubscriptionMode", v, 1);
    if ((strcmp(key, "last_warning_sent") == 0 || strcmp(key, "last_bounce_received") == 0) &&
        list_attr_parse_time(v, &us) == 0)
        return rest_py_datetime_repr(us);
    return NULL;
}

static const struct rest_pyrepr member_hook = {member_pyrepr, NULL};

static int collect(const struct store_member *m, void *ctx)
{
    g_ptr_array_add(ctx, store_member_dup(m));
    return 0;
}

static GPtrArray *members_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)store_member_free);
}

/* The member entries, keeping only `fields` when given (Mailman's
 * ?fields=...); NULL after answering 400 for an unknown field. */
static json_t *entries_of(struct rest_req *req, GPtrArray *members, json_t *fields)
{
    json_t *entries = json_array();
    for (guint i = 0; i < members->len; i++) {
        json_t *full = member_json(req, members->pdata[i]);
        if (fields == NULL) {
            json_array_append_new(entries, full);
            continue;
        }
        json_t *some = json_object();
        for (size_t f = 0; f < json_array_size(fields); f++) {
            const char *name = json_string_value(json_array_get(fields, f));
            if (!g_strv_contains(member_fields, name)) {
                g_autofree char *all = g_strjoinv(", ", (char **)member_fields);
                rest_bad_request(req,
                                 "Unknown field \"%s\" for Member resource. Allowed fields "
                                 "are: %s",
                                 name, all);
                json_decref(some);
                json_decref(full);
                json_decref(entries);
                return NULL;
            }
            json_t *v = json_object_get(full, name);
            if (v)
                json_object_set(some, name, v);
        }
        json_decref(full);
        json_array_append_new(entries, some);
    }
    return entries;
}

static int role_rank(int role)
{
    /* get_members(): owners, then moderators, then members. */
    return role == STORE_ROLE_OWNER ? 0 : role == STORE_ROLE_MODERATOR ? 1 : 2;
}

static gint by_list_role_email(gconstpointer a, gconstpointer b)
{
    const struct store_member *x = *(struct store_member *const *)a;
    const struct store_member *y = *(struct store_member *const *)b;
    int c = strcmp(x->list_id, y->list_id);
    if (c == 0)
        c = role_rank(x->role) - role_rank(y->role);
    return c ? c : strcmp(x->email, y->email);
}

static gint by_list_email_role(gconstpointer a, gconstpointer b)
{
    const struct store_member *x = *(struct store_member *const *)a;
    const struct store_member *y = *(struct store_member *const *)b;
    int c = strcmp(x->list_id, y->list_id);
    if (c == 0)
        c = strcmp(x->email, y->email);
    return c ? c : x->role - y->role;
}

static void answer_members(struct rest_req *req, GPtrArray *members, json_t *fields)
{
    json_t *entries = entries_of(req, members, fields);
    if (entries)
        rest_ok_collection(req, entries, &member_hook);
}

/* _MemberBase.on_get: ?fields= (and paging) over a roster. */
static void members_collection(struct rest_req *req, const struct store_roster_filter *f,
                               GCompareFunc order)
{
    static const struct rest_field fields[] = {
        {"fields", REST_CONV_STRLIST, true, NULL},
        {"count", REST_CONV_INT, true, NULL},
        {"page", REST_CONV_INT, true, NULL},
    };
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    GPtrArray *members = members_new();
    if (store_roster(req->store, f, collect, members, &err) < 0) {
        rest_internal_error(req, "members", err);
    } else {
        if (order)
            g_ptr_array_sort(members, order);
        answer_members(req, members, json_object_get(values, "fields"));
    }
    g_free(err);
    g_ptr_array_unref(members);
    json_decref(values);
}

void rest_members_get(struct rest_req *req)
{
    struct store_roster_filter f = {.role_mask = STORE_MASK(STORE_ROLE_OWNER) |
                                                 STORE_MASK(STORE_ROLE_MODERATOR) |
                                                 STORE_MASK(STORE_ROLE_MEMBER)};
    members_collection(req, &f, by_list_role_email);
}

/* ---- /members/find ------------------------------------------------------------ */

struct find_ctx {
    GPtrArray *out;
    const char *subscriber; /* lower-cased email, '*' glob, or a user id */
    GPatternSpec *glob;
    json_t *values;
};

static bool find_match(const struct store_member *m, struct find_ctx *fc)
{
    json_t *v = fc->values;
    const char *s = fc->subscriber;
    if (fc->glob) {
        g_autofree char *dn = g_utf8_strdown(m->display_name ? m->display_name : "", -1);
        if (!g_pattern_spec_match_string(fc->glob, m->email) &&
            !g_pattern_spec_match_string(fc->glob, dn))
            return false;
    } else if (s && strchr(s, '@')) {
        if (strcmp(m->email, s) != 0)
            return false;
    } else if (s && g_strcmp0(m->user_id, s) != 0) {
        return false;
    }
    json_t *x;
    if ((x = json_object_get(v, "moderation_action"))) {
        const char *a = json_string_value(x);
        int want = *a ? store_action_parse(a) : STORE_ACTION_UNSET;
        if (m->moderation_action != want)
            return false;
    }
    if ((x = json_object_get(v, "delivery_mode")) &&
        m->delivery_mode != store_delivery_mode_parse(json_string_value(x)))
        return false;
    if ((x = json_object_get(v, "delivery_status")) &&
        m->delivery_status != store_delivery_status_parse(json_string_value(x)))
        return false;
    return true;
}

static int find_one(const struct store_member *m, void *ctx)
{
    struct find_ctx *fc = ctx;
    if (find_match(m, fc))
        g_ptr_array_add(fc->out, store_member_dup(m));
    return 0;
}

/* The subscriber a find names: a lower-cased email or '*' glob, or a
 * user id in the API's form turned into its 32 hex digits. */
static char *subscriber_key(struct rest_req *req, const char *subscriber)
{
    if (subscriber == NULL)
        return NULL;
    if (!strchr(subscriber, '@') && !strchr(subscriber, '*')) {
        char *hex = rest_id_parse(req->api, subscriber);
        if (hex)
            return hex;
    }
    return g_utf8_strdown(subscriber, -1);
}

void rest_members_find(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"list_id", REST_CONV_STR, true, NULL},
        {"subscriber", REST_CONV_STR, true, NULL},
        {"role", REST_CONV_ENUM, true, store_enum_role},
        {"moderation_action", REST_CONV_STR, true, NULL},
        {"delivery_mode", REST_CONV_ENUM, true, store_enum_delivery_mode},
        {"delivery_status", REST_CONV_ENUM, true, store_enum_delivery_status},
        {"page", REST_CONV_INT, true, NULL},
        {"count", REST_CONV_INT, true, NULL},
        {"fields", REST_CONV_STRLIST, true, NULL},
    };
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    json_t *ma = json_object_get(values, "moderation_action");
    if (ma && *json_string_value(ma) && store_action_parse(json_string_value(ma)) < 0) {
        g_autofree char *names = store_enum_names(store_enum_action);
        rest_bad_request(req, "Invalid Parameter \"moderation_action\": Accepted Values are: %s.",
                         names);
        json_decref(values);
        return;
    }
    GPtrArray *members = members_new();
    const char *list_id = json_string_value(json_object_get(values, "list_id"));
    const char *role = json_string_value(json_object_get(values, "role"));
    g_autofree char *sub =
        subscriber_key(req, json_string_value(json_object_get(values, "subscriber")));
    struct find_ctx fc = {members, sub, NULL, values};
    if (sub && strchr(sub, '*'))
        fc.glob = g_pattern_spec_new(sub);
    int rc = 0;
    /* find_members() with no criterion at all finds nothing. */
    if (json_object_size(values) > 0 &&
        (sub || list_id || role || ma || json_object_get(values, "delivery_mode") ||
         json_object_get(values, "delivery_status"))) {
        struct store_roster_filter f = {.list_id = list_id,
                                        .role_mask = role ? STORE_MASK(store_role_parse(role)) : 0};
        rc = store_roster(req->store, &f, find_one, &fc, &err);
        if (rc == STORE_NOT_FOUND) /* an unknown list_id finds nothing */
            rc = 0;
    }
    if (rc < 0) {
        rest_internal_error(req, "members/find", err);
    } else {
        g_ptr_array_sort(members, by_list_email_role);
        answer_members(req, members, json_object_get(values, "fields"));
    }
    if (fc.glob)
        g_pattern_spec_free(fc.glob);
    g_free(err);
    g_ptr_array_unref(members);
    json_decref(values);
}

/* ---- /lists/find ------------------------------------------------------------------- */

/* FindLists: the list of every membership of the subscriber (a list twice
 * for two roles, as Mailman), by list, email and role; 404 when none. */
void rest_lists_find(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"subscriber", REST_CONV_SUBSCRIBER, false, NULL},
        {"role", REST_CONV_ENUM, true, store_enum_role},
        {"page", REST_CONV_INT, true, NULL},
        {"count", REST_CONV_INT, true, NULL},
    };
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    const char *role = json_string_value(json_object_get(values, "role"));
    g_autofree char *sub =
        subscriber_key(req, json_string_value(json_object_get(values, "subscriber")));
    GPtrArray *members = members_new();
    json_t *only = json_object(); /* find_match's other criteria: none */
    struct find_ctx fc = {members, sub, NULL, only};
    if (strchr(sub, '*'))
        fc.glob = g_pattern_spec_new(sub);
    struct store_roster_filter f = {.role_mask = role ? STORE_MASK(store_role_parse(role)) : 0};
    char *err = NULL;
    json_t *entries = json_array();
    int rc = store_roster(req->store, &f, find_one, &fc, &err);
    g_ptr_array_sort(members, by_list_email_role);
    for (guint i = 0; rc >= 0 && i < members->len; i++) {
        struct store_list *l = NULL;
        rc = store_list_get(req->store, ((struct store_member *)members->pdata[i])->list_id, &l,
                            &err);
        json_t *e = rc == 1 ? rest_list_json(req, l, &err) : NULL;
        if (rc == 1 && e == NULL)
            rc = STORE_ERR;
        if (e)
            json_array_append_new(entries, e);
        store_list_free(l);
    }
    if (rc < 0) {
        rest_internal_error(req, "lists/find", err);
        json_decref(entries);
    } else if (json_array_size(entries) == 0) {
        rest_not_found(req, NULL);
        json_decref(entries);
    } else {
        rest_ok_collection(req, entries, NULL);
    }
    if (fc.glob)
        g_pattern_spec_free(fc.glob);
    g_free(err);
    json_decref(only);
    g_ptr_array_unref(members);
    json_decref(values);
}

/* ---- /addresses/<email>/memberships ------------------------------------------- */

static int collect_email(const struct store_member *m, void *ctx)
{
    GPtrArray *out = ((void **)ctx)[0];
    if (strcmp(m->email, ((void **)ctx)[1]) == 0)
        g_ptr_array_add(out, store_member_dup(m));
    return 0;
}

/* AddressMemberships: the address's memberships when a user controls it
 * (none otherwise, as in Mailman), by list, email and role. */
void rest_address_memberships_get(struct rest_req *req)
{
    struct store_address *a = rest_address_of(req, true);
    if (a == NULL)
        return;
    GPtrArray *members = members_new();
    char *err = NULL;
    void *ctx[2] = {members, a->email};
    if (a->user_id &&
        store_member_find(req->store, a->email, NULL, 0, collect_email, ctx, &err) < 0)
        rest_internal_error(req, "memberships", err);
    else {
        g_ptr_array_sort(members, by_list_email_role);
        answer_members(req, members, NULL);
    }
    g_free(err);
    g_ptr_array_unref(members);
    store_address_free(a);
}

/* ---- rosters ----------------------------------------------------------------- */

void rest_roster_get(struct rest_req *req)
{
    int role = store_role_parse(rest_arg(req, 1));
    if (role <= 0) {
        rest_no_such_child(req);
        return;
    }
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    struct store_roster_filter f = {.list_id = l->list_id, .role_mask = STORE_MASK(role)};
    members_collection(req, &f, NULL);
    store_list_free(l);
}

/* ---- one member -------------------------------------------------------------- */

/* The member /members/<id> names, or NULL after Mailman's not_found(). */
static struct store_member *member_by_id(struct rest_req *req)
{
    g_autofree char *id = rest_id_parse(req->api, rest_arg(req, 0));
    struct store_member *m = NULL;
    char *err = NULL;
    int rc = id ? store_member_get(req->store, id, &m, &err) : 0;
    if (rc < 0)
        rest_internal_error(req, "member", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    g_free(err);
    return m;
}

/* The member /lists/<l>/<role>/<email> names, or NULL after a bare 404. */
static struct store_member *member_by_role(struct rest_req *req)
{
    int role = store_role_parse(rest_arg(req, 1));
    if (role <= 0) {
        rest_no_such_child(req);
        return NULL;
    }
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return NULL;
    struct store_member *m = NULL;
    char *err = NULL;
    g_autofree char *email = g_utf8_strdown(rest_arg(req, 2), -1);
    int rc = store_member_get_by_email(req->store, l->list_id, email, role, &m, &err);
    if (rc < 0)
        rest_internal_error(req, "member", err);
    else if (rc == 0)
        rest_no_such_child(req);
    g_free(err);
    store_list_free(l);
    return m;
}

static void member_get(struct rest_req *req, struct store_member *m)
{
    if (m)
        rest_ok(req, member_json(req, m), &member_hook);
    store_member_free(m);
}

void rest_member_get(struct rest_req *req)
{
    member_get(req, member_by_id(req));
}

void rest_list_member_get(struct rest_req *req)
{
    member_get(req, member_by_role(req));
}

/* A policy value's need for a step: confirm (1) and moderate (2). */
static unsigned policy_steps(const char *policy)
{
    if (g_strcmp0(policy, "confirm") == 0)
        return 1;
    if (g_strcmp0(policy, "moderate") == 0)
        return 2;
    if (g_strcmp0(policy, "confirm_then_moderate") == 0)
        return 3;
    return 0;
}

static void not_implemented(struct rest_req *req, const char *what)
{
    rest_error(req, 501, "501 Not Implemented", what);
}

static void member_delete(struct rest_req *req, struct store_member *m)
{
    static const struct rest_field fields[] = {
        {"pre_confirmed", REST_CONV_BOOL, true, NULL},
        {"pre_approved", REST_CONV_BOOL, true, NULL},
    };
    if (m == NULL)
        return;
    json_t *values = NULL;
    char *err = NULL;
    if (m->role == STORE_ROLE_MEMBER) {
        values = rest_values(req, fields, G_N_ELEMENTS(fields));
        if (values == NULL) {
            store_member_free(m);
            return;
        }
        json_t *pc = json_object_get(values, "pre_confirmed");
        bool confirmed = pc == NULL || json_is_true(pc);
        bool approved = json_is_true(json_object_get(values, "pre_approved"));
        g_autofree char *policy = NULL;
        if (store_list_get_attr(req->store, m->list_id, "unsubscription_policy", &policy, &err) <
            0) {
            rest_internal_error(req, "member", err);
            goto out;
        }
        unsigned steps = policy_steps(policy);
        if (((steps & 1) && !confirmed) || ((steps & 2) && !approved)) {
            not_implemented(req, "Unsubscriptions that need confirmation or moderation are not "
                                 "implemented yet; use pre_confirmed and pre_approved");
            goto out;
        }
    }
    if (store_member_delete(req->store, m->member_id, &err) < 0)
        rest_internal_error(req, "member", err);
    else
        rest_no_content(req);
out:
    g_free(err);
    if (values)
        json_decref(values);
    store_member_free(m);
}

void rest_member_delete(struct rest_req *req)
{
    member_delete(req, member_by_id(req));
}

void rest_list_member_delete(struct rest_req *req)
{
    member_delete(req, member_by_role(req));
}

static void member_patch(struct rest_req *req, struct store_member *m)
{
    static const struct rest_field fields[] = {
        {"address", REST_CONV_STR, true, NULL},
        {"delivery_mode", REST_CONV_ENUM, true, store_enum_delivery_mode},
        {"moderation_action", REST_CONV_STR, true, NULL},
    };
    if (m == NULL)
        return;
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL) {
        store_member_free(m);
        return;
    }
    json_t *addr = json_object_get(values, "address");
    json_t *mode = json_object_get(values, "delivery_mode");
    json_t *action = json_object_get(values, "moderation_action");
    int act = STORE_ACTION_UNSET;
    if (action && *json_string_value(action) &&
        (act = store_action_parse(json_string_value(action))) < 0) {
        g_autofree char *names = store_enum_names(store_enum_action);
        rest_bad_request(req, "Invalid Parameter \"moderation_action\": Accepted Values are: %s.",
                         names);
        goto out;
    }
    if (addr) {
        struct store_address *a = NULL;
        int rc = store_address_get(req->store, json_string_value(addr), &a, &err);
        store_address_free(a);
        if (rc == 0) {
            rest_bad_request(req, "Address not registered");
            goto out;
        }
    }
    int rc = store_begin(req->store, &err);
    if (rc >= 0 && addr)
        rc = store_member_set_address(req->store, m->member_id, json_string_value(addr), &err);
    if (rc >= 0 && mode)
        rc = store_member_set_delivery_mode(
            req->store, m->member_id, store_delivery_mode_parse(json_string_value(mode)), &err);
    if (rc >= 0 && action)
        rc = store_member_set_moderation_action(req->store, m->member_id, act, &err);
    if (rest_store_end(req, rc, &err) >= 0)
        rest_no_content(req);
out:
    g_free(err);
    json_decref(values);
    store_member_free(m);
}

void rest_member_patch(struct rest_req *req)
{
    member_patch(req, member_by_id(req));
}

void rest_list_member_patch(struct rest_req *req)
{
    member_patch(req, member_by_role(req));
}

/* ---- POST /members -------------------------------------------------------------- */

/* The subscriber's email: itself, or a user's preferred address. NULL
 * after answering 400. */
static char *subscriber_email(struct rest_req *req, const char *subscriber, int role)
{
    if (strchr(subscriber, '@'))
        return g_utf8_strdown(subscriber, -1);
    struct store_user *u = NULL;
    char *err = NULL;
    g_autofree char *id = rest_id_parse(req->api, subscriber);
    if (id == NULL) { /* not this API's id form, nor an email */
        rest_bad_request(req, "Invalid Parameter \"subscriber\": .");
        return NULL;
    }
    int rc = store_user_get(req->store, id, &u, &err);
    char *email = NULL;
    if (rc < 0)
        rest_internal_error(req, "members", err);
    else if (rc == 0)
        rest_bad_request(req, "No such user");
    else if (u->preferred_email == NULL)
        rest_bad_request(req, role == STORE_ROLE_MEMBER ? "User has no preferred address"
                                                        : "User without preferred address");
    else
        email = g_strdup(u->preferred_email);
    g_free(err);
    store_user_free(u);
    return email;
}

/* 1 when the subscription needs a workflow step crier does not have yet. */
static int needs_workflow(struct rest_req *req, const struct store_list *l, const char *email,
                          json_t *values)
{
    struct store_address *a = NULL;
    char *err = NULL;
    int rc = store_address_get(req->store, email, &a, &err);
    if (rc < 0) {
        rest_internal_error(req, "members", err);
        g_free(err);
        return -1;
    }
    bool verified = (a && a->verified_on) || json_is_true(json_object_get(values, "pre_verified"));
    store_address_free(a);
    unsigned steps = policy_steps(store_list_attr(l, "subscription_policy"));
    bool confirmed = json_is_true(json_object_get(values, "pre_confirmed"));
    bool approved = json_is_true(json_object_get(values, "pre_approved"));
    return !verified || ((steps & 1) && !confirmed) || ((steps & 2) && !approved);
}

static void subscribe(struct rest_req *req, const struct store_list *l, const char *email, int role,
                      json_t *values)
{
    const char *dn = json_string_value(json_object_get(values, "display_name"));
    json_t *mode = json_object_get(values, "delivery_mode");
    json_t *status = json_object_get(values, "delivery_status");
    int dmode = mode                        ? store_delivery_mode_parse(json_string_value(mode))
                : role == STORE_ROLE_MEMBER ? 0
                                            : STORE_DELIVERY_REGULAR;
    struct store_member *m = NULL;
    char *err = NULL;
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = store_member_add(req->store, l->list_id, email, dn, role, dmode, &m, &err);
    if (rc == STORE_EXISTS) {
        store_rollback(req->store, NULL);
        if (role == STORE_ROLE_MEMBER)
            rest_conflict(req, "Member already subscribed");
        else
            rest_bad_request(req, "%s is already an %s of %s", email, store_role_name(role),
                             l->fqdn_listname);
        g_free(err);
        return;
    }
    if (rc >= 0 && json_is_true(json_object_get(values, "pre_verified")))
        rc = store_address_set_verified(req->store, email, g_get_real_time(), &err);
    if (rc >= 0 && status)
        rc = store_member_set_delivery_status(
            req->store, m->member_id, store_delivery_status_parse(json_string_value(status)), &err);
    if (rest_store_end(req, rc, &err) >= 0) {
        g_autofree char *id = rest_id_text(req->api, m->member_id);
        g_autofree char *path = g_strdup_printf("members/%s", id);
        rest_created(req, path);
    }
    store_member_free(m);
}

void rest_members_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"list_id", REST_CONV_STR, false, NULL},
        {"subscriber", REST_CONV_SUBSCRIBER, false, NULL},
        {"display_name", REST_CONV_STR, true, NULL},
        {"delivery_mode", REST_CONV_ENUM, true, store_enum_delivery_mode},
        {"delivery_status", REST_CONV_ENUM, true, store_enum_delivery_status},
        {"role", REST_CONV_ENUM, true, store_enum_role},
        {"pre_verified", REST_CONV_BOOL, true, NULL},
        {"pre_confirmed", REST_CONV_BOOL, true, NULL},
        {"pre_approved", REST_CONV_BOOL, true, NULL},
        {"invitation", REST_CONV_BOOL, true, NULL},
        {"send_welcome_message", REST_CONV_BOOL, true, NULL},
    };
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    const char *list_id = json_string_value(json_object_get(values, "list_id"));
    json_t *rj = json_object_get(values, "role");
    int role = rj ? store_role_parse(json_string_value(rj)) : STORE_ROLE_MEMBER;
    struct store_list *l = NULL;
    g_autofree char *email = NULL;
    int rc = strchr(list_id, '@') ? 0 : store_list_get(req->store, list_id, &l, &err);
    if (rc < 0) {
        rest_internal_error(req, "members", err);
        goto out;
    }
    if (rc == 0) {
        rest_bad_request(req, "No such list");
        goto out;
    }
    email = subscriber_email(req, json_string_value(json_object_get(values, "subscriber")), role);
    if (email == NULL)
        goto out;
    struct store_member *old = NULL;
    rc = store_member_get_by_email(req->store, l->list_id, email, role, &old, &err);
    store_member_free(old);
    if (rc < 0) {
        rest_internal_error(req, "members", err);
        goto out;
    }
    if (rc == 1 && role == STORE_ROLE_MEMBER) {
        rest_conflict(req, "Member already subscribed");
        goto out;
    }
    if (strcmp(email, l->fqdn_listname) == 0) {
        rest_bad_request(req, role == STORE_ROLE_MEMBER ? "List posting address cannot subscribe"
                                                        : "List posting address cannot be added");
        goto out;
    }
    rc = store_ban_is_banned(req->store, l->list_id, email, &err);
    if (rc != 0) {
        if (rc < 0)
            rest_internal_error(req, "members", err);
        else
            rest_bad_request(req, "Membership is banned");
        goto out;
    }
    if (role == STORE_ROLE_MEMBER) {
        rc = needs_workflow(req, l, email, values);
        if (rc != 0) {
            if (rc > 0)
                not_implemented(req, "Subscriptions that need verification, confirmation or "
                                     "moderation are not implemented yet; use pre_verified, "
                                     "pre_confirmed and pre_approved");
            goto out;
        }
    }
    subscribe(req, l, email, role, values);
out:
    g_free(err);
    store_list_free(l);
    json_decref(values);
}
