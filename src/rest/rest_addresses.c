/* rest_addresses - see rest_addresses.h. Texts follow
 * mailman/rest/addresses.py. */
#include "rest/rest_addresses.h"

#include "rest/rest_ids.h"
#include "rest/rest_server.h"
#include "rest/rest_users.h"
#include "rest/rest_validate.h"
#include "store/list_attr.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

char *rest_formataddr(const char *name, const char *email)
{
    if (name == NULL || *name == '\0')
        return g_strdup(email);
    bool ascii = true, special = false;
    for (const char *p = name; *p; p++) {
        ascii = ascii && (unsigned char)*p < 0x80;
        special = special || strchr("[]\\()<>@,:;\".", *p) != NULL;
    }
    if (!ascii) {
        g_autofree char *b64 = g_base64_encode((const guchar *)name, strlen(name));
        return g_strdup_printf("=?utf-8?b?%s?= <%s>", b64, email);
    }
    GString *out = g_string_new(special ? "\"" : "");
    for (const char *p = name; *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    g_string_append_printf(out, "%s <%s>", special ? "\"" : "", email);
    return g_string_free(out, FALSE);
}

json_t *rest_address_json(struct rest_req *req, const struct store_address *a)
{
    json_t *r = json_object();
    json_object_set_new(r, "email", json_string(a->email));
    json_object_set_new(r, "original_email", json_string(a->original_email));
    json_object_set_new(r, "registered_on", rest_jstr_take(rest_py_isoformat(a->registered_on)));
    json_object_set_new(r, "self_link",
                        rest_jstr_take(rest_path_to(req, "addresses/%s", a->email)));
    if (a->display_name && *a->display_name)
        json_object_set_new(r, "display_name", json_string(a->display_name));
    if (a->verified_on)
        json_object_set_new(r, "verified_on", rest_jstr_take(rest_py_isoformat(a->verified_on)));
    if (a->user_id) {
        g_autofree char *id = rest_id_text(req->api, a->user_id);
        json_object_set_new(r, "user", rest_jstr_take(rest_path_to(req, "users/%s", id)));
    }
    return r;
}

static char *address_pyrepr(const char *key, json_t *value, void *ctx)
{
    int64_t us;
    if ((strcmp(key, "registered_on") == 0 || strcmp(key, "verified_on") == 0) &&
        json_is_string(value) && list_attr_parse_time(json_string_value(value), &us) == 0)
        return rest_py_datetime_repr(us);
    return NULL;
}

const struct rest_pyrepr rest_address_hook = {address_pyrepr, NULL};

struct store_address *rest_address_of(struct rest_req *req, bool child)
{
    struct store_address *a = NULL;
    char *err = NULL;
    int rc = store_address_get(req->store, rest_arg(req, 0), &a, &err);
    if (rc < 0)
        rest_internal_error(req, "address", err);
    else if (rc == 0 && child)
        rest_no_such_child(req);
    else if (rc == 0)
        rest_not_found(req, NULL);
    g_free(err);
    return a;
}

/* ---- collections ---------------------------------------------------------- */

static int collect(const struct store_address *a, void *ctx)
{
    g_ptr_array_add(
        ctx, g_memdup2(&(struct store_address){g_strdup(a->email), g_strdup(a->original_email),
                                               g_strdup(a->display_name), a->verified_on,
                                               a->registered_on, g_strdup(a->user_id)},
                       sizeof *a));
    return 0;
}

static gint by_original(gconstpointer x, gconstpointer y)
{
    const struct store_address *a = *(struct store_address *const *)x;
    const struct store_address *b = *(struct store_address *const *)y;
    return strcmp(a->original_email, b->original_email);
}

static void addresses_collection(struct rest_req *req, const char *user_id)
{
    GPtrArray *v = g_ptr_array_new_with_free_func((GDestroyNotify)store_address_free);
    char *err = NULL;
    if (store_address_foreach(req->store, user_id, collect, v, &err) < 0) {
        rest_internal_error(req, "addresses", err);
    } else {
        g_ptr_array_sort(v, by_original);
        json_t *entries = json_array();
        for (guint i = 0; i < v->len; i++)
            json_array_append_new(entries, rest_address_json(req, v->pdata[i]));
        rest_ok_collection(req, entries, &rest_address_hook);
    }
    g_free(err);
    g_ptr_array_unref(v);
}

void rest_addresses_get(struct rest_req *req)
{
    addresses_collection(req, NULL);
}

void rest_user_addresses_get(struct rest_req *req)
{
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
    if (u)
        addresses_collection(req, u->user_id);
    store_user_free(u);
}

/* Python's bool() of a value: what Validator(absorb_existing=bool) gives. */
static bool py_truth(json_t *v)
{
    if (v == NULL)
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

void rest_user_addresses_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"email", REST_CONV_STR, false, NULL},
        {"display_name", REST_CONV_STR, true, NULL},
        {"absorb_existing", REST_CONV_STR, true, NULL},
    };
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
    if (u == NULL)
        return;
    bool absorb = py_truth(json_object_get(rest_params(req), "absorb_existing"));
    json_object_del(rest_params(req), "absorb_existing");
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL) {
        store_user_free(u);
        return;
    }
    const char *email = json_string_value(json_object_get(values, "email"));
    const char *name = json_string_value(json_object_get(values, "display_name"));
    struct store_address *a = NULL;
    char *err = NULL;
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = store_address_create(req->store, email, name, &a, &err);
    if (rc == STORE_INVALID) {
        store_rollback(req->store, NULL);
        rest_bad_request(req, "Invalid email address");
        goto out;
    }
    if (rc == STORE_EXISTS) {
        g_clear_pointer(&err, g_free);
        rc = store_address_get(req->store, email, &a, &err);
        if (rc >= 0 && a->user_id && !absorb) {
            store_rollback(req->store, NULL);
            rest_bad_request(req, "Address belongs to other user");
            goto out;
        }
        if (rc >= 0 && a->user_id)
            rc = store_user_absorb(req->store, u->user_id, a->user_id, &err);
    }
    if (rc >= 0 && (a->user_id == NULL || strcmp(a->user_id, u->user_id) != 0))
        rc = store_address_set_user(req->store, a->email, u->user_id, &err);
    if (rest_store_end(req, rc, &err) >= 0) {
        g_autofree char *path = g_strdup_printf("addresses/%s", a->email);
        rest_created(req, path);
    }
out:
    g_free(err);
    json_decref(values);
    store_address_free(a);
    store_user_free(u);
}

/* ---- one address --------------------------------------------------------------- */

void rest_address_get(struct rest_req *req)
{
    struct store_address *a = rest_address_of(req, false);
    if (a)
        rest_ok(req, rest_address_json(req, a), &rest_address_hook);
    store_address_free(a);
}

void rest_address_patch(struct rest_req *req)
{
    static const struct rest_field fields[] = {{"display_name", REST_CONV_STR, false, NULL}};
    struct store_address *a = rest_address_of(req, false);
    if (a == NULL)
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values) {
        char *err = NULL;
        int rc = store_begin(req->store, &err);
        if (rc >= 0)
            rc = store_address_set_display_name(
                req->store, a->email, json_string_value(json_object_get(values, "display_name")),
                &err);
        if (rest_store_end(req, rc, &err) >= 0)
            rest_no_content(req);
        json_decref(values);
    }
    store_address_free(a);
}

void rest_address_delete(struct rest_req *req)
{
    struct store_address *a = rest_address_of(req, false);
    if (a == NULL)
        return;
    char *err = NULL;
    if (store_address_delete(req->store, a->email, &err) < 0)
        rest_internal_error(req, "address", err);
    else
        rest_no_content(req);
    g_free(err);
    store_address_free(a);
}

/* The POST data does not matter, as in Mailman's _VerifyResource. */
static void set_verified(struct rest_req *req, bool verify)
{
    struct store_address *a = rest_address_of(req, true);
    if (a == NULL)
        return;
    char *err = NULL;
    int rc = 0;
    if (verify && a->verified_on == 0)
        rc = store_address_set_verified(req->store, a->email, g_get_real_time(), &err);
    else if (!verify)
        rc = store_address_set_verified(req->store, a->email, 0, &err);
    if (rc < 0)
        rest_internal_error(req, "address", err);
    else
        rest_no_content(req);
    g_free(err);
    store_address_free(a);
}

void rest_address_verify(struct rest_req *req)
{
    set_verified(req, true);
}

void rest_address_unverify(struct rest_req *req)
{
    set_verified(req, false);
}
