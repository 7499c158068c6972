/* rest_users - see rest_users.h. Texts follow mailman/rest/users.py. */
#include "rest/rest_users.h"

#include "config/config.h"
#include "mail/address.h"
#include "rest/rest_addresses.h"
#include "rest/rest_domains.h"
#include "rest/rest_ids.h"
#include "rest/rest_password.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/list_attr.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

json_t *rest_user_json(struct rest_req *req, const struct store_user *u)
{
    g_autofree char *id = rest_id_text(req->api, u->user_id);
    json_t *r = json_object();
    json_object_set_new(r, "created_on", rest_jstr_take(rest_py_isoformat(u->created_on)));
    json_object_set_new(r, "is_server_owner", json_boolean(u->is_server_owner));
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "users/%s", id)));
    json_object_set_new(r, "user_id", rest_id_json(req->api, u->user_id));
    if (u->password && *u->password)
        json_object_set_new(r, "password", json_string(u->password));
    if (u->display_name && *u->display_name)
        json_object_set_new(r, "display_name", json_string(u->display_name));
    return r;
}

static char *user_pyrepr(const char *key, json_t *value, void *ctx)
{
    int64_t us;
    if (strcmp(key, "created_on") == 0 && json_is_string(value) &&
        list_attr_parse_time(json_string_value(value), &us) == 0)
        return rest_py_datetime_repr(us);
    return NULL;
}

const struct rest_pyrepr rest_user_hook = {user_pyrepr, NULL};

struct store_user *rest_user_of(struct rest_req *req, const char *ident, bool child)
{
    struct store_user *u = NULL;
    char *err = NULL;
    int rc = 0;
    if (strchr(ident, '@')) {
        rc = store_user_get_by_email(req->store, ident, &u, &err);
    } else {
        g_autofree char *hex = rest_id_parse(req->api, ident);
        if (hex)
            rc = store_user_get(req->store, hex, &u, &err);
    }
    if (rc < 0)
        rest_internal_error(req, "user", err);
    else if (rc == 0 && child)
        rest_no_such_child(req);
    else if (rc == 0)
        rest_not_found(req, NULL);
    g_free(err);
    return u;
}

/* ---- collections --------------------------------------------------------- */

static int collect_user(const struct store_user *u, void *ctx)
{
    struct rest_req *req = ((void **)ctx)[0];
    json_array_append_new(((void **)ctx)[1], rest_user_json(req, u));
    return 0;
}

static void users_collection(struct rest_req *req, bool owners_only)
{
    json_t *entries = json_array();
    void *ctx[2] = {req, entries};
    char *err = NULL;
    if (store_user_foreach(req->store, owners_only, collect_user, ctx, &err) < 0) {
        rest_internal_error(req, "users", err);
        g_free(err);
        json_decref(entries);
        return;
    }
    rest_ok_collection(req, entries, &rest_user_hook);
}

void rest_users_get(struct rest_req *req)
{
    users_collection(req, false);
}

void rest_owners_get(struct rest_req *req)
{
    users_collection(req, true);
}

/* ---- creation ------------------------------------------------------------- */

/* Mailman's create_user(): a user (with the address email when given and
 * new; an existing address without a user is linked to the new user),
 * its password hashed (a random one when none is given), 201 with its
 * Location. Inside the caller's transaction; the new id in *user_id_r.
 * Returns < 0 with *err (STORE_INVALID: a 400 with that text). */
static int create_user(struct rest_req *req, json_t *values, char **user_id_r, char **err)
{
    const char *email = json_string_value(json_object_get(values, "email"));
    const char *name = json_string_value(json_object_get(values, "display_name"));
    const char *password = json_string_value(json_object_get(values, "password"));
    bool owner = json_is_true(json_object_get(values, "is_server_owner"));
    g_autofree char *generated = NULL;
    if (password == NULL)
        password = generated =
            rest_password_generate((int)config_get_int(req->cfg, "passwords", "password_length"));
    g_autofree char *hash = rest_password_hash(password);
    struct store_address *a = NULL;
    struct store_user *u = NULL;
    int rc = email ? store_address_get(req->store, email, &a, err) : 0;
    if (rc == 1 && a->user_id) {
        *err = g_strdup_printf("User already exists: %s", a->original_email);
        rc = STORE_INVALID;
    } else if (rc >= 0) {
        rc = store_user_create(req->store, rc == 1 ? NULL : email, name, hash, owner, &u, err);
        if (rc == STORE_INVALID) {
            g_free(*err);
            *err = g_strdup_printf("Invalid email address %s", email);
        }
        if (rc >= 0 && a)
            rc = store_address_set_user(req->store, a->email, u->user_id, err);
    }
    if (rc >= 0) {
        g_autofree char *id = rest_id_text(req->api, u->user_id);
        g_autofree char *path = g_strdup_printf("users/%s", id);
        rest_created(req, path);
        *user_id_r = g_strdup(u->user_id);
    }
    store_address_free(a);
    store_user_free(u);
    return rc;
}

static const struct rest_field creation_fields[] = {
    {"display_name", REST_CONV_STR, true, NULL},
    {"email", REST_CONV_STR, false, NULL},
    {"is_server_owner", REST_CONV_BOOL, true, NULL},
    {"password", REST_CONV_STR, true, NULL},
};

void rest_users_post(struct rest_req *req)
{
    json_t *values = NULL;
    char *err = NULL;
    if (rest_validate(rest_params(req), creation_fields, G_N_ELEMENTS(creation_fields), &values,
                      &err) < 0) {
        rest_bad_request(req, "Invalid email address %s", err);
        g_free(err);
        return;
    }
    g_autofree char *id = NULL;
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = create_user(req, values, &id, &err);
    rest_store_end(req, rc, &err);
    json_decref(values);
}

/* ---- one user ----------------------------------------------------------------- */

void rest_user_get(struct rest_req *req)
{
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), false);
    if (u)
        rest_ok(req, rest_user_json(req, u), &rest_user_hook);
    store_user_free(u);
}

void rest_user_delete(struct rest_req *req)
{
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), false);
    if (u == NULL)
        return;
    char *err = NULL;
    if (store_user_delete(req->store, u->user_id, &err) < 0)
        rest_internal_error(req, "user", err);
    else
        rest_no_content(req);
    g_free(err);
    store_user_free(u);
}

static const char *const user_attributes[] = {"cleartext_password", "display_name",
                                              "is_server_owner", NULL};

static void user_update(struct rest_req *req, bool patch)
{
    const struct rest_field fields[] = {
        {"cleartext_password", REST_CONV_STR, patch, NULL},
        {"display_name", REST_CONV_STR, patch, NULL},
        {"is_server_owner", REST_CONV_BOOL, patch, NULL},
    };
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), false);
    if (u == NULL)
        return;
    const char *key;
    json_t *v;
    /* PatchValidator: the first unknown attribute. */
    json_object_foreach(rest_params(req), key, v)
    {
        if (patch && !g_strv_contains(user_attributes, key)) {
            rest_bad_request(req, "Unknown attribute: %s", key);
            store_user_free(u);
            return;
        }
    }
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL) {
        store_user_free(u);
        return;
    }
    char *err = NULL;
    json_t *pw = json_object_get(values, "cleartext_password");
    json_t *name = json_object_get(values, "display_name");
    json_t *owner = json_object_get(values, "is_server_owner");
    g_autofree char *hash = pw ? rest_password_hash(json_string_value(pw)) : NULL;
    int rc = store_begin(req->store, &err);
    if (rc >= 0 && pw)
        rc = store_user_set_password(req->store, u->user_id, hash, &err);
    if (rc >= 0 && name)
        rc = store_user_set_display_name(req->store, u->user_id, json_string_value(name), &err);
    if (rc >= 0 && owner)
        rc = store_user_set_server_owner(req->store, u->user_id, json_is_true(owner), &err);
    if (rest_store_end(req, rc, &err) >= 0)
        rest_no_content(req);
    json_decref(values);
    store_user_free(u);
}

void rest_user_patch(struct rest_req *req)
{
    user_update(req, true);
}

void rest_user_put(struct rest_req *req)
{
    user_update(req, false);
}

void rest_user_login(struct rest_req *req)
{
    static const struct rest_field fields[] = {{"cleartext_password", REST_CONV_STR, false, NULL}};
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
    if (u == NULL)
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values) {
        if (rest_password_check(u->password,
                                json_string_value(json_object_get(values, "cleartext_password"))))
            rest_no_content(req);
        else
            rest_forbidden(req);
        json_decref(values);
    }
    store_user_free(u);
}

/* ---- /users/<id>/preferred_address ----------------------------------------- */

void rest_user_preferred_get(struct rest_req *req)
{
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
    if (u == NULL)
        return;
    struct store_address *a = NULL;
    char *err = NULL;
    int rc = u->preferred_email ? store_address_get(req->store, u->preferred_email, &a, &err) : 0;
    if (rc < 0)
        rest_internal_error(req, "preferred address", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    else
        rest_ok(req, rest_address_json(req, a), &rest_address_hook);
    g_free(err);
    store_address_free(a);
    store_user_free(u);
}

void rest_user_preferred_delete(struct rest_req *req)
{
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
    if (u == NULL)
        return;
    char *err = NULL;
    if (u->preferred_email == NULL)
        rest_not_found(req, NULL);
    else if (store_user_set_preferred(req->store, u->user_id, NULL, &err) < 0)
        rest_internal_error(req, "preferred address", err);
    else
        rest_no_content(req);
    g_free(err);
    store_user_free(u);
}

void rest_user_preferred_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {{"email", REST_CONV_STR, false, NULL}};
    struct store_user *u = rest_user_of(req, rest_arg(req, 0), true);
    if (u == NULL)
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    struct store_address *a = NULL;
    char *err = NULL;
    const char *email = values ? json_string_value(json_object_get(values, "email")) : NULL;
    int rc = 0;
    if (values == NULL)
        goto out;
    if (!address_is_valid(email)) {
        rest_bad_request(
            req, "Invalid Parameter \"email\": Expected a valid email address, got %s.", email);
        goto out;
    }
    rc = store_address_get(req->store, email, &a, &err);
    if (rc < 0) {
        rest_internal_error(req, "preferred address", err);
        goto out;
    }
    if (rc == 0) {
        rest_bad_request(req, "Address does not exist: %s", email);
        goto out;
    }
    /* IUser.preferred_address: verified, and this user's (an unlinked
     * address is linked to it). */
    if (a->verified_on == 0 || (a->user_id && strcmp(a->user_id, u->user_id) != 0)) {
        g_autofree char *str = rest_formataddr(a->display_name, a->original_email);
        if (a->verified_on == 0)
            rest_bad_request(req, "%s must be verified before setting as primary", str);
        else
            rest_bad_request(req, "%s", str);
        goto out;
    }
    rc = store_begin(req->store, &err);
    if (rc >= 0 && a->user_id == NULL)
        rc = store_address_set_user(req->store, a->email, u->user_id, &err);
    if (rc >= 0)
        rc = store_user_set_preferred(req->store, u->user_id, a->email, &err);
    if (rest_store_end(req, rc, &err) >= 0) {
        g_autofree char *path = g_strdup_printf("addresses/%s", a->email);
        rest_created(req, path);
    }
out:
    g_free(err);
    if (values)
        json_decref(values);
    store_address_free(a);
    store_user_free(u);
}

/* ---- /domains/<d>/owners ---------------------------------------------------------- */

void rest_domain_owners_get(struct rest_req *req)
{
    struct store_domain *d = rest_domain_of(req);
    if (d == NULL)
        return;
    char **ids = NULL;
    char *err = NULL;
    json_t *entries = json_array();
    int rc = store_domain_owners(req->store, d->mail_host, &ids, &err);
    for (char **id = ids; rc >= 0 && id && *id; id++) {
        struct store_user *u = NULL;
        rc = store_user_get(req->store, *id, &u, &err);
        if (rc == 1)
            json_array_append_new(entries, rest_user_json(req, u));
        store_user_free(u);
    }
    if (rc < 0) {
        rest_internal_error(req, "domain owners", err);
        json_decref(entries);
    } else {
        rest_ok_collection(req, entries, &rest_user_hook);
    }
    g_free(err);
    g_strfreev(ids);
    store_domain_free(d);
}

void rest_domain_owners_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {{"owner", REST_CONV_STRLIST, false, NULL}};
    struct store_domain *d = rest_domain_of(req);
    if (d == NULL)
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values) {
        json_t *owners = json_object_get(values, "owner");
        char *err = NULL;
        int rc = store_begin(req->store, &err);
        for (size_t i = 0; rc >= 0 && i < json_array_size(owners); i++)
            rc = store_domain_owner_add(req->store, d->mail_host,
                                        json_string_value(json_array_get(owners, i)), &err);
        if (rest_store_end(req, rc, &err) >= 0)
            rest_no_content(req);
        json_decref(values);
    }
    store_domain_free(d);
}

void rest_domain_owners_delete(struct rest_req *req)
{
    struct store_domain *d = rest_domain_of(req);
    if (d == NULL)
        return;
    json_t *values = rest_values(req, NULL, 0); /* no parameters */
    if (values) {
        char *err = NULL;
        if (store_domain_owners_clear(req->store, d->mail_host, &err) < 0)
            rest_internal_error(req, "domain owners", err);
        else
            rest_no_content(req);
        g_free(err);
        json_decref(values);
    }
    store_domain_free(d);
}

/* ---- /addresses/<email>/user ---------------------------------------------------------- */

void rest_address_user_get(struct rest_req *req)
{
    struct store_address *a = rest_address_of(req, true);
    if (a == NULL)
        return;
    struct store_user *u = NULL;
    char *err = NULL;
    int rc = a->user_id ? store_user_get(req->store, a->user_id, &u, &err) : 0;
    if (rc < 0)
        rest_internal_error(req, "address user", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    else
        rest_ok(req, rest_user_json(req, u), &rest_user_hook);
    g_free(err);
    store_user_free(u);
    store_address_free(a);
}

void rest_address_user_delete(struct rest_req *req)
{
    struct store_address *a = rest_address_of(req, true);
    if (a == NULL)
        return;
    char *err = NULL;
    if (a->user_id == NULL)
        rest_not_found(req, NULL);
    else if (store_address_set_user(req->store, a->email, NULL, &err) < 0)
        rest_internal_error(req, "address user", err);
    else
        rest_no_content(req);
    g_free(err);
    store_address_free(a);
}

/* "No user with ID x": 400 with the id in the API's form for POST, 404
 * with Python's str(UUID) for PUT, as Mailman words them. */
static void no_such_user(struct rest_req *req, const char *hex, bool put)
{
    g_autofree char *shown = put ? rest_id_dashed(hex) : rest_id_text(req->api, hex);
    g_autofree char *text = g_strdup_printf("No user with ID %s", shown);
    if (put)
        rest_not_found(req, text);
    else
        rest_bad_request(req, "%s", text);
}

/* POST (put false) and PUT on /addresses/<email>/user: link an existing
 * user (user_id) or a new one. */
static void address_user_link(struct rest_req *req, bool put)
{
    static const struct rest_field post_fields[] = {
        {"display_name", REST_CONV_STR, true, NULL},
        {"is_server_owner", REST_CONV_BOOL, true, NULL},
        {"password", REST_CONV_STR, true, NULL},
        {"user_id", REST_CONV_STR, true, NULL},
        {"auto_create", REST_CONV_BOOL, true, NULL},
    };
    static const struct rest_field put_fields[] = {
        {"display_name", REST_CONV_STR, true, NULL},     {"email", REST_CONV_STR, true, NULL},
        {"is_server_owner", REST_CONV_BOOL, true, NULL}, {"password", REST_CONV_STR, true, NULL},
        {"user_id", REST_CONV_STR, true, NULL},
    };
    struct store_address *a = rest_address_of(req, true);
    if (a == NULL)
        return;
    json_t *values = NULL;
    char *err = NULL;
    g_autofree char *new_id = NULL, *hex = NULL;
    if (!put && a->user_id) {
        rest_conflict(req, "409 Conflict");
        goto out;
    }
    values = put ? rest_values(req, put_fields, G_N_ELEMENTS(put_fields))
                 : rest_values(req, post_fields, G_N_ELEMENTS(post_fields));
    if (values == NULL)
        goto out;
    json_t *uid = json_object_get(values, "user_id");
    if (uid) {
        hex = rest_id_parse(req->api, json_string_value(uid));
        if (hex == NULL) { /* what int() or UUID(hex=) says */
            const char *text = json_string_value(uid);
            g_autofree char *r = rest_py_str_repr(text, strlen(text));
            if (strcmp(req->api, "3.0") == 0)
                rest_bad_request(req,
                                 "Invalid Parameter \"user_id\": invalid literal for int() with "
                                 "base 10: %s.",
                                 r);
            else
                rest_bad_request(req,
                                 "Invalid Parameter \"user_id\": badly formed hexadecimal UUID "
                                 "string.");
            goto out;
        }
        struct store_user *u = NULL;
        int rc = store_user_get(req->store, hex, &u, &err);
        store_user_free(u);
        if (rc <= 0) {
            if (rc < 0)
                rest_internal_error(req, "address user", err);
            else
                no_such_user(req, hex, put);
            goto out;
        }
    } else if (!put && json_object_get(values, "auto_create") &&
               !json_is_true(json_object_get(values, "auto_create"))) {
        rest_forbidden(req);
        goto out;
    }
    int rc = store_begin(req->store, &err);
    if (rc >= 0 && put && a->user_id)
        rc = store_address_set_user(req->store, a->email, NULL, &err);
    if (rc >= 0 && hex == NULL) {
        json_object_del(values, "auto_create");
        rc = create_user(req, values, &new_id, &err);
    }
    if (rc >= 0)
        rc = store_address_set_user(req->store, a->email, hex ? hex : new_id, &err);
    if (rest_store_end(req, rc, &err) >= 0 && hex)
        rest_ok_empty(req);
out:
    g_free(err);
    if (values)
        json_decref(values);
    store_address_free(a);
}

void rest_address_user_post(struct rest_req *req)
{
    address_user_link(req, false);
}

void rest_address_user_put(struct rest_req *req)
{
    address_user_link(req, true);
}
