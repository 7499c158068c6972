/* rest_bans - see rest_bans.h. Texts follow mailman/rest/bans.py. */
#include "rest/rest_bans.h"

#include "lib/regex.h"
#include "mail/address.h"
#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* Python's urllib.parse.quote_plus(). */
static char *quote_plus(const char *s)
{
    GString *out = g_string_new(NULL);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("_.-~", *p))
            g_string_append_c(out, (char)*p);
        else if (*p == ' ')
            g_string_append_c(out, '+');
        else
            g_string_append_printf(out, "%%%02X", *p);
    }
    return g_string_free(out, FALSE);
}

/* The ban's path: a '^' pattern quoted, an address as it is. */
static char *ban_path(const char *list_id, const char *email)
{
    g_autofree char *quoted = email[0] == '^' ? quote_plus(email) : g_strdup(email);
    if (list_id)
        return g_strdup_printf("lists/%s/bans/%s", list_id, quoted);
    return g_strdup_printf("bans/%s", quoted);
}

static json_t *ban_json(struct rest_req *req, const char *list_id, const char *email)
{
    json_t *r = json_object();
    json_object_set_new(r, "email", json_string(email));
    g_autofree char *path = ban_path(list_id, email);
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "%s", path)));
    if (list_id)
        json_object_set_new(r, "list_id", json_string(list_id));
    return r;
}

/* The list of a /lists/<l>/bans route (*list_id_r NULL for /bans); false
 * after a 404. */
static bool bans_scope(struct rest_req *req, bool list_scope, char **list_id_r)
{
    *list_id_r = NULL;
    if (!list_scope)
        return true;
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return false;
    *list_id_r = g_strdup(l->list_id);
    store_list_free(l);
    return true;
}

static void bans_get(struct rest_req *req, bool list_scope)
{
    g_autofree char *list_id = NULL;
    if (!bans_scope(req, list_scope, &list_id))
        return;
    char **emails = NULL;
    char *err = NULL;
    if (store_ban_list(req->store, list_id, &emails, &err) < 0) {
        rest_internal_error(req, "bans", err);
        g_free(err);
        return;
    }
    json_t *entries = json_array();
    for (char **e = emails; *e; e++)
        json_array_append_new(entries, ban_json(req, list_id, *e));
    g_strfreev(emails);
    rest_ok_collection(req, entries, NULL);
}

/* email_or_regexp_validator's reason, or NULL when email is fine. */
static char *email_or_regexp_reason(const char *email)
{
    if (*email == '\0')
        return g_strdup("Expected a valid email address or regular expression, got empty");
    bool ok;
    if (email[0] == '^') {
        GRegex *re = regex_compile(email, NULL);
        ok = re != NULL;
        if (re)
            g_regex_unref(re);
    } else {
        ok = address_is_valid(email);
    }
    return ok ? NULL
              : g_strdup_printf("Expected a valid email address or regular expression, got %s",
                                email);
}

static void bans_post(struct rest_req *req, bool list_scope)
{
    static const struct rest_field fields[] = {{"email", REST_CONV_STR, false, NULL}};
    g_autofree char *list_id = NULL;
    if (!bans_scope(req, list_scope, &list_id))
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    const char *email = json_string_value(json_object_get(values, "email"));
    g_autofree char *reason = email_or_regexp_reason(email);
    char *err = NULL;
    int rc = 0;
    if (reason) {
        rest_bad_request(req, "Invalid Parameter \"email\": %s.", reason);
    } else if ((rc = store_ban_is_banned(req->store, list_id, email, &err)) != 0) {
        if (rc < 0)
            rest_internal_error(req, "bans", err);
        else
            rest_bad_request(req, "Address is already banned");
    } else if (store_ban_add(req->store, list_id, email, &err) < 0) {
        rest_internal_error(req, "bans", err);
    } else {
        g_autofree char *path = ban_path(list_id, email);
        rest_created(req, path);
    }
    g_free(err);
    json_decref(values);
}

/* BannedEmail: GET shows it and DELETE unbans it when the address is
 * banned (by itself or a pattern, on the list or globally). */
static void ban_one(struct rest_req *req, bool list_scope, bool delete)
{
    g_autofree char *list_id = NULL;
    if (!bans_scope(req, list_scope, &list_id))
        return;
    const char *email = rest_arg(req, list_scope ? 1 : 0);
    char *err = NULL;
    int rc = store_ban_is_banned(req->store, list_id, email, &err);
    if (rc == 1 && delete)
        rc = store_ban_remove(req->store, list_id, email, &err) < 0 ? STORE_ERR : 1;
    if (rc < 0) {
        rest_internal_error(req, "bans", err);
    } else if (rc == 0) {
        g_autofree char *text = g_strdup_printf("Email is not banned: %s", email);
        rest_not_found(req, text);
    } else if (delete) {
        rest_no_content(req);
    } else {
        rest_ok(req, ban_json(req, list_id, email), NULL);
    }
    g_free(err);
}

void rest_bans_get(struct rest_req *req)
{
    bans_get(req, false);
}

void rest_bans_post(struct rest_req *req)
{
    bans_post(req, false);
}

void rest_ban_get(struct rest_req *req)
{
    ban_one(req, false, false);
}

void rest_ban_delete(struct rest_req *req)
{
    ban_one(req, false, true);
}

void rest_list_bans_get(struct rest_req *req)
{
    bans_get(req, true);
}

void rest_list_bans_post(struct rest_req *req)
{
    bans_post(req, true);
}

void rest_list_ban_get(struct rest_req *req)
{
    ban_one(req, true, false);
}

void rest_list_ban_delete(struct rest_req *req)
{
    ban_one(req, true, true);
}
