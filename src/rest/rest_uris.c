/* rest_uris - see rest_uris.h. */
#include "rest/rest_uris.h"

#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* mailman/interfaces/template.py ALL_TEMPLATES, sorted. */
static const char *const all_templates[] = {
    "domain:admin:notice:new-list",  "list:admin:action:post",
    "list:admin:action:subscribe",   "list:admin:action:unsubscribe",
    "list:admin:notice:disable",     "list:admin:notice:increment",
    "list:admin:notice:pending",     "list:admin:notice:removal",
    "list:admin:notice:subscribe",   "list:admin:notice:unrecognized",
    "list:admin:notice:unsubscribe", "list:member:digest:footer",
    "list:member:digest:header",     "list:member:digest:masthead",
    "list:member:regular:footer",    "list:member:regular:header",
    "list:user:action:invite",       "list:user:action:subscribe",
    "list:user:action:unsubscribe",  "list:user:notice:goodbye",
    "list:user:notice:hold",         "list:user:notice:no-more-today",
    "list:user:notice:post",         "list:user:notice:probe",
    "list:user:notice:refuse",       "list:user:notice:rejected",
    "list:user:notice:welcome",      "list:user:notice:warning",
};

/* The resource a request names. */
struct uri_scope {
    char *context;   /* NULL: the site */
    char *prefix;    /* "", "domains/<host>", "lists/<list_id>" */
    bool domain;     /* list:* and domain:* */
    bool list;       /* list:* only */
    const char *one; /* the template of /.../uris/<name>, or NULL */
};

static bool in_scope(const struct uri_scope *s, const char *name)
{
    if (s->list)
        return g_str_has_prefix(name, "list:");
    if (s->domain)
        return g_str_has_prefix(name, "list:") || g_str_has_prefix(name, "domain:");
    return true;
}

static void scope_clear(struct uri_scope *s)
{
    g_free(s->context);
    g_free(s->prefix);
}

/* Fills s from the route; false after answering 404 (3.0, no such list or
 * domain, a template name the resource does not have). */
static bool scope_of(struct rest_req *req, struct uri_scope *s)
{
    memset(s, 0, sizeof *s);
    if (strcmp(req->api, "3.0") == 0) {
        rest_no_such_child(req);
        return false;
    }
    char *err = NULL;
    int rc = 1;
    const char *name_arg = NULL;
    if (strcmp(req->seg[0], "lists") == 0) {
        struct store_list *l = NULL;
        rc = store_list_get(req->store, rest_arg(req, 0), &l, &err);
        if (rc == 1) {
            s->context = g_strdup(l->list_id);
            s->prefix = g_strdup_printf("lists/%s", l->list_id);
            s->list = true;
        }
        store_list_free(l);
        name_arg = rest_arg(req, 1);
    } else if (strcmp(req->seg[0], "domains") == 0) {
        struct store_domain *d = NULL;
        rc = store_domain_get(req->store, rest_arg(req, 0), &d, &err);
        if (rc == 1) {
            s->context = g_strdup(d->mail_host);
            s->prefix = g_strdup_printf("domains/%s", d->mail_host);
            s->domain = true;
        }
        store_domain_free(d);
        name_arg = rest_arg(req, 1);
    } else {
        s->prefix = g_strdup("");
        name_arg = rest_arg(req, 0);
    }
    if (rc < 0) {
        rest_internal_error(req, "uris", err);
        g_free(err);
        scope_clear(s);
        return false;
    }
    if (rc == 0 || (name_arg && (!in_scope(s, name_arg) ||
                                 !g_strv_contains((const char *const *)all_templates, name_arg)))) {
        rest_no_such_child(req);
        scope_clear(s);
        return false;
    }
    s->one = name_arg;
    return true;
}

static json_t *template_json(struct rest_req *req, const struct uri_scope *s,
                             const struct store_template *t)
{
    json_t *r = json_object();
    json_object_set_new(r, "uri", json_string(t->uri));
    json_object_set_new(r, "name", json_string(t->name));
    json_object_set_new(r, "self_link",
                        rest_jstr_take(rest_path_to(req, "%s/uris/%s", s->prefix, t->name)));
    if (t->username && t->password) {
        json_object_set_new(r, "username", json_string(t->username));
        json_object_set_new(r, "password", json_string(t->password));
    }
    return r;
}

static void get_one(struct rest_req *req, const struct uri_scope *s)
{
    struct store_template *t = NULL;
    char *err = NULL;
    int rc = store_template_get(req->store, s->one, s->context, &t, &err);
    if (rc < 0) {
        rest_internal_error(req, "uris", err);
    } else if (rc == 0) {
        rest_not_found(req, NULL);
    } else {
        json_t *r = json_object();
        json_object_set_new(r, "uri", json_string(t->uri));
        json_object_set_new(r, "self_link",
                            rest_jstr_take(rest_path_to(req, "%s/uris/%s", s->prefix, s->one)));
        rest_ok(req, r, NULL);
    }
    g_free(err);
    store_template_free(t);
}

void rest_uris_get(struct rest_req *req)
{
    struct uri_scope s;
    if (!scope_of(req, &s))
        return;
    if (s.one) {
        get_one(req, &s);
        scope_clear(&s);
        return;
    }
    struct store_template **v = NULL;
    char *err = NULL;
    if (store_template_list(req->store, s.context, &v, &err) < 0) {
        rest_internal_error(req, "uris", err);
        g_free(err);
        scope_clear(&s);
        return;
    }
    json_t *entries = json_array();
    for (size_t i = 0; v[i]; i++)
        if (in_scope(&s, v[i]->name) &&
            g_strv_contains((const char *const *)all_templates, v[i]->name))
            json_array_append_new(entries, template_json(req, &s, v[i]));
    store_templatev_free(v);
    json_t *result = rest_collection(req, entries, NULL);
    if (result) {
        json_object_set_new(result, "self_link",
                            rest_jstr_take(rest_path_to(req, "%s/uris", s.prefix)));
        rest_ok(req, result, NULL);
    }
    scope_clear(&s);
}

/* _URIBase._patch_put: the resource's names (all required for a PUT),
 * username and password optional but together. */
static void patch_put(struct rest_req *req, bool optional)
{
    struct uri_scope s;
    if (!scope_of(req, &s))
        return;
    GArray *fields = g_array_new(FALSE, TRUE, sizeof(struct rest_field));
    for (size_t i = 0; i < G_N_ELEMENTS(all_templates); i++) {
        const char *name = all_templates[i];
        if (s.one ? strcmp(name, s.one) == 0 : in_scope(&s, name)) {
            struct rest_field f = {name, REST_CONV_STR, optional, NULL};
            g_array_append_val(fields, f);
        }
    }
    struct rest_field auth[] = {{"username", REST_CONV_STR, true, NULL},
                                {"password", REST_CONV_STR, true, NULL}};
    g_array_append_vals(fields, auth, G_N_ELEMENTS(auth));
    json_t *values = rest_values(req, (struct rest_field *)(void *)fields->data, fields->len);
    g_array_unref(fields);
    if (values == NULL) {
        scope_clear(&s);
        return;
    }
    const char *user = json_string_value(json_object_get(values, "username"));
    const char *pass = json_string_value(json_object_get(values, "password"));
    bool has_user = user && *user, has_pass = pass && *pass;
    if (has_user != has_pass) {
        rest_bad_request(req, "Specify both username and password, or neither");
    } else {
        char *err = NULL;
        int rc = store_begin(req->store, &err);
        const char *key;
        json_t *v;
        json_object_foreach(values, key, v)
        {
            const char *uri = json_string_value(v);
            if (rc < 0 || strcmp(key, "username") == 0 || strcmp(key, "password") == 0)
                continue;
            /* "The empty string is equivalent to DELETE." */
            rc = *uri ? store_template_set(req->store, key, s.context, uri, has_user ? user : NULL,
                                           has_pass ? pass : NULL, &err)
                      : store_template_delete(req->store, key, s.context, &err);
        }
        if (rest_store_end(req, rc, &err) >= 0)
            rest_no_content(req);
    }
    json_decref(values);
    scope_clear(&s);
}

void rest_uris_put(struct rest_req *req)
{
    patch_put(req, false);
}

void rest_uris_patch(struct rest_req *req)
{
    patch_put(req, true);
}

void rest_uris_delete(struct rest_req *req)
{
    struct uri_scope s;
    if (!scope_of(req, &s))
        return;
    char *err = NULL;
    int rc = store_begin(req->store, &err);
    for (size_t i = 0; rc >= 0 && i < G_N_ELEMENTS(all_templates); i++) {
        const char *name = all_templates[i];
        if (s.one ? strcmp(name, s.one) == 0 : in_scope(&s, name))
            rc = store_template_delete(req->store, name, s.context, &err);
    }
    if (rest_store_end(req, rc, &err) >= 0)
        rest_no_content(req);
    scope_clear(&s);
}
