/* rest_prefs - see rest_prefs.h. */
#include "rest/rest_prefs.h"

#include "config/config.h"
#include "rest/rest_addresses.h"
#include "rest/rest_ids.h"
#include "rest/rest_server.h"
#include "rest/rest_users.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* Whose preferences a route names. */
struct prefs_owner {
    enum store_prefs_kind kind;
    char *id;   /* user_id, email or member_id */
    char *path; /* "users/<id>", ... as Mailman's base_url */
};

static void owner_clear(struct prefs_owner *o)
{
    g_free(o->id);
    g_free(o->path);
}

static struct store_member *member_of(struct rest_req *req)
{
    g_autofree char *hex = rest_id_parse(req->api, rest_arg(req, 0));
    struct store_member *m = NULL;
    char *err = NULL;
    int rc = hex ? store_member_get(req->store, hex, &m, &err) : 0;
    if (rc < 0)
        rest_internal_error(req, "member", err);
    else if (rc == 0)
        rest_no_such_child(req);
    g_free(err);
    return m;
}

/* Fills o for the route's owner; false after answering 404. */
static bool owner_of(struct rest_req *req, enum store_prefs_kind kind, struct prefs_owner *o)
{
    o->kind = kind;
    if (kind == STORE_PREFS_USER) {
        struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
        if (u == NULL)
            return false;
        o->id = g_strdup(u->user_id);
        g_autofree char *id = rest_id_text(req->api, u->user_id);
        o->path = g_strdup_printf("users/%s", id);
        store_user_free(u);
    } else if (kind == STORE_PREFS_ADDRESS) {
        struct store_address *a = rest_address_of(req, true);
        if (a == NULL)
            return false;
        o->id = g_strdup(a->email);
        o->path = g_strdup_printf("addresses/%s", a->email);
        store_address_free(a);
    } else {
        struct store_member *m = member_of(req);
        if (m == NULL)
            return false;
        o->id = g_strdup(m->member_id);
        g_autofree char *id = rest_id_text(req->api, m->member_id);
        o->path = g_strdup_printf("members/%s", id);
        store_member_free(m);
    }
    return true;
}

/* ReadOnlyPreferences.on_get: the preferences that are set, then
 * preferred_language, then self_link. */
static json_t *prefs_json(struct rest_req *req, const struct store_prefs *p, const char *base)
{
    json_t *r = json_object();
    if (p->acknowledge_posts >= 0)
        json_object_set_new(r, "acknowledge_posts", json_boolean(p->acknowledge_posts));
    if (p->delivery_mode > 0)
        json_object_set_new(r, "delivery_mode",
                            json_string(store_delivery_mode_name(p->delivery_mode)));
    if (p->delivery_status > 0)
        json_object_set_new(r, "delivery_status",
                            json_string(store_delivery_status_name(p->delivery_status)));
    if (p->hide_address >= 0)
        json_object_set_new(r, "hide_address", json_boolean(p->hide_address));
    if (p->receive_list_copy >= 0)
        json_object_set_new(r, "receive_list_copy", json_boolean(p->receive_list_copy));
    if (p->receive_own_postings >= 0)
        json_object_set_new(r, "receive_own_postings", json_boolean(p->receive_own_postings));
    if (p->preferred_language)
        json_object_set_new(r, "preferred_language", json_string(p->preferred_language));
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "%s/preferences", base)));
    return r;
}

static char *prefs_pyrepr(const char *key, json_t *value, void *ctx)
{
    const char *v = json_string_value(value);
    if (v && strcmp(key, "delivery_mode") == 0)
        return rest_py_enum_repr("DeliveryMode", v, store_delivery_mode_parse(v));
    if (v && strcmp(key, "delivery_status") == 0)
        return rest_py_enum_repr("DeliveryStatus", v, store_delivery_status_parse(v));
    return NULL;
}

static const struct rest_pyrepr prefs_hook = {prefs_pyrepr, NULL};

void rest_system_prefs_get(struct rest_req *req)
{
    struct store_prefs p;
    store_prefs_system(&p);
    g_free(p.preferred_language);
    p.preferred_language = g_strdup(config_get(req->cfg, "mailman", "default_language"));
    rest_ok(req, prefs_json(req, &p, "system"), &prefs_hook);
    store_prefs_clear(&p);
}

static void prefs_get(struct rest_req *req, enum store_prefs_kind kind)
{
    struct prefs_owner o = {0};
    if (!owner_of(req, kind, &o))
        return;
    struct store_prefs p;
    char *err = NULL;
    if (store_prefs_get(req->store, kind, o.id, &p, &err) < 0)
        rest_internal_error(req, "preferences", err);
    else
        rest_ok(req, prefs_json(req, &p, o.path), &prefs_hook);
    store_prefs_clear(&p);
    g_free(err);
    owner_clear(&o);
}

/* Preferences.patch_put: PUT needs every preference. */
static void prefs_update(struct rest_req *req, enum store_prefs_kind kind, bool put)
{
    const struct rest_field fields[] = {
        {"acknowledge_posts", REST_CONV_BOOL, !put, NULL},
        {"hide_address", REST_CONV_BOOL, !put, NULL},
        {"delivery_mode", REST_CONV_ENUM, !put, store_enum_delivery_mode},
        {"delivery_status", REST_CONV_ENUM, !put, store_enum_delivery_status},
        {"preferred_language", REST_CONV_STR, !put, NULL},
        {"receive_list_copy", REST_CONV_BOOL, !put, NULL},
        {"receive_own_postings", REST_CONV_BOOL, !put, NULL},
    };
    struct prefs_owner o = {0};
    if (!owner_of(req, kind, &o))
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    struct store_prefs p;
    store_prefs_unset(&p);
    char *err = NULL;
    if (values == NULL)
        goto out;
    json_t *lang = json_object_get(values, "preferred_language");
    if (lang) {
        g_autofree char *section = g_strdup_printf("language.%s", json_string_value(lang));
        if (!config_has_section(req->cfg, section)) {
            rest_bad_request(req, "Invalid Parameter \"preferred_language\": %s.",
                             json_string_value(lang));
            goto out;
        }
    }
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = store_prefs_get(req->store, kind, o.id, &p, &err);
    json_t *v;
    if ((v = json_object_get(values, "acknowledge_posts")))
        p.acknowledge_posts = json_is_true(v);
    if ((v = json_object_get(values, "hide_address")))
        p.hide_address = json_is_true(v);
    if ((v = json_object_get(values, "receive_list_copy")))
        p.receive_list_copy = json_is_true(v);
    if ((v = json_object_get(values, "receive_own_postings")))
        p.receive_own_postings = json_is_true(v);
    if ((v = json_object_get(values, "delivery_mode")))
        p.delivery_mode = store_delivery_mode_parse(json_string_value(v));
    if ((v = json_object_get(values, "delivery_status")))
        p.delivery_status = store_delivery_status_parse(json_string_value(v));
    if (lang) {
        g_free(p.preferred_language);
        p.preferred_language = g_strdup(json_string_value(lang));
    }
    if (rc >= 0)
        rc = store_prefs_set(req->store, kind, o.id, &p, &err);
    if (rest_store_end(req, rc, &err) >= 0)
        rest_no_content(req);
out:
    store_prefs_clear(&p);
    if (values)
        json_decref(values);
    owner_clear(&o);
}

static void prefs_delete(struct rest_req *req, enum store_prefs_kind kind)
{
    struct prefs_owner o = {0};
    if (!owner_of(req, kind, &o))
        return;
    struct store_prefs p;
    store_prefs_unset(&p);
    char *err = NULL;
    if (store_prefs_set(req->store, kind, o.id, &p, &err) < 0)
        rest_internal_error(req, "preferences", err);
    else
        rest_no_content(req);
    g_free(err);
    owner_clear(&o);
}

#define PREFS_HANDLERS(level, kind)                                                                \
    void rest_##level##_prefs_get(struct rest_req *req)                                            \
    {                                                                                              \
        prefs_get(req, kind);                                                                      \
    }                                                                                              \
    void rest_##level##_prefs_patch(struct rest_req *req)                                          \
    {                                                                                              \
        prefs_update(req, kind, false);                                                            \
    }                                                                                              \
    void rest_##level##_prefs_put(struct rest_req *req)                                            \
    {                                                                                              \
        prefs_update(req, kind, true);                                                             \
    }                                                                                              \
    void rest_##level##_prefs_delete(struct rest_req *req)                                         \
    {                                                                                              \
        prefs_delete(req, kind);                                                                   \
    }

PREFS_HANDLERS(user, STORE_PREFS_USER)
PREFS_HANDLERS(address, STORE_PREFS_ADDRESS)
PREFS_HANDLERS(member, STORE_PREFS_MEMBER)

/* /members/<id>/all/preferences: what the member resolves to (IMember's
 * properties). A member has no hide_address; without a language of its
 * own it has its list's. */
void rest_member_all_prefs_get(struct rest_req *req)
{
    struct store_member *m = member_of(req);
    if (m == NULL)
        return;
    struct store_prefs p, level;
    char *err = NULL;
    g_autofree char *lang = NULL;
    int rc = store_prefs_effective(req->store, m->member_id, &p, &err);
    store_prefs_unset(&level);
    const struct {
        enum store_prefs_kind kind;
        const char *id;
    } levels[] = {{STORE_PREFS_MEMBER, m->member_id},
                  {STORE_PREFS_ADDRESS, m->email},
                  {STORE_PREFS_USER, m->user_id}};
    for (size_t i = 0; rc >= 0 && lang == NULL && i < G_N_ELEMENTS(levels); i++) {
        if (levels[i].id == NULL)
            continue;
        rc = store_prefs_get(req->store, levels[i].kind, levels[i].id, &level, &err);
        lang = g_steal_pointer(&level.preferred_language);
        store_prefs_clear(&level);
    }
    if (rc >= 0 && lang == NULL)
        rc = store_list_get_attr(req->store, m->list_id, "preferred_language", &lang, &err);
    if (rc < 0) {
        rest_internal_error(req, "preferences", err);
    } else {
        p.hide_address = -1;
        g_free(p.preferred_language);
        p.preferred_language = g_steal_pointer(&lang);
        g_autofree char *id = rest_id_text(req->api, m->member_id);
        g_autofree char *base = g_strdup_printf("members/%s/all", id);
        rest_ok(req, prefs_json(req, &p, base), &prefs_hook);
    }
    store_prefs_clear(&p);
    g_free(err);
    store_member_free(m);
}
