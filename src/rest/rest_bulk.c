/* rest_bulk - see rest_bulk.h. */
#include "rest/rest_bulk.h"

#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* One entry's outcome before the store runs: 0 to subscribe, the status
 * with *why set (g_free), or -1 for a backend failure (*why). */
static int entry_check(struct rest_req *req, const struct store_list *l, json_t *entry,
                       struct store_member_spec *spec, char **why)
{
    static const struct rest_field fields[] = {
        {"email", REST_CONV_STR, false, NULL},
        {"display_name", REST_CONV_STR, true, NULL},
        {"delivery_mode", REST_CONV_ENUM, true, store_enum_delivery_mode},
    };
    if (!json_is_object(entry)) {
        *why = g_strdup("A member entry must be an object");
        return 400;
    }
    json_t *values = NULL;
    if (rest_validate(entry, fields, G_N_ELEMENTS(fields), &values, why) < 0)
        return 400;
    /* The strings stay alive in entry (rest_validate copied them). */
    spec->email = json_string_value(json_object_get(entry, "email"));
    json_t *dn = json_object_get(entry, "display_name");
    spec->display_name = json_is_string(dn) ? json_string_value(dn) : NULL;
    json_t *mode = json_object_get(values, "delivery_mode");
    spec->role = STORE_ROLE_MEMBER;
    spec->delivery_mode = mode ? store_delivery_mode_parse(json_string_value(mode)) : 0;
    json_decref(values);
    if (spec->display_name && strpbrk(spec->display_name, "\r\n")) {
        *why = g_strdup("Invalid Parameter \"display_name\": line breaks are not allowed.");
        return 400;
    }
    if (g_ascii_strcasecmp(spec->email, l->fqdn_listname) == 0) {
        *why = g_strdup("List posting address cannot subscribe");
        return 400;
    }
    int banned = store_ban_is_banned(req->store, l->list_id, spec->email, why);
    if (banned < 0)
        return -1; /* a backend failure, *why says which */
    if (banned > 0) {
        *why = g_strdup("Membership is banned");
        return 400;
    }
    return 0;
}

static gint by_text(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *result_json(const char *email, int status, const char *why)
{
    json_t *r = json_object();
    json_object_set_new(r, "email", email ? json_string(email) : json_null());
    json_object_set_new(r, "status", json_integer(status));
    if (why)
        json_object_set_new(r, "description", json_string(why));
    return r;
}

void rest_roster_bulk_post(struct rest_req *req)
{
    if (req->media == NULL) {
        rest_bad_request(req, "The bulk subscription takes a JSON body (application/json)");
        return;
    }
    json_t *members = json_object_get(req->media, "members");
    const char *key;
    json_t *v;
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    json_object_foreach(req->media, key, v)
    {
        if (strcmp(key, "members") != 0)
            g_ptr_array_add(extra, (char *)key);
    }
    if (extra->len) {
        g_ptr_array_sort(extra, by_text);
        g_ptr_array_add(extra, NULL);
        g_autofree char *names = g_strjoinv(", ", (char **)extra->pdata);
        rest_bad_request(req, "Unexpected parameters: %s", names);
        return;
    }
    if (members == NULL) {
        rest_bad_request(req, "Missing Parameter: members");
        return;
    }
    if (!json_is_array(members) || json_array_size(members) > REST_MAX_BULK_MEMBERS) {
        rest_bad_request(req, "Invalid Parameter \"members\": a list of at most %d objects.",
                         REST_MAX_BULK_MEMBERS);
        return;
    }
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    size_t n = json_array_size(members), k = 0;
    struct store_member_spec *specs = g_new0(struct store_member_spec, n ? n : 1);
    int *results = g_new0(int, n ? n : 1);
    size_t *index = g_new0(size_t, n ? n : 1);
    int *status = g_new0(int, n ? n : 1);
    char **why = g_new0(char *, n ? n : 1);
    char *err = NULL;
    /* The ban checks and the inserts in one transaction: one lock, and
     * no ban added half-way through. */
    int rc = store_begin(req->store, &err);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        status[i] = entry_check(req, l, json_array_get(members, i), &specs[k], &why[i]);
        if (status[i] < 0) {
            rc = STORE_ERR;
            err = g_steal_pointer(&why[i]);
        } else if (status[i] == 0) {
            g_clear_pointer(&why[i], g_free);
            index[k++] = i;
        }
    }
    if (rc >= 0)
        rc = store_member_add_bulk(req->store, l->list_id, specs, k, results, &err);
    if (rc < 0 || store_commit(req->store, &err) < 0) {
        store_rollback(req->store, NULL);
        rest_internal_error(req, "bulk subscription", err);
        goto out;
    }
    size_t added = 0;
    for (size_t j = 0; j < k; j++) {
        size_t i = index[j];
        if (results[j] == 0) {
            status[i] = 201;
            added++;
        } else if (results[j] == STORE_EXISTS) {
            status[i] = 409;
            why[i] = g_strdup("Member already subscribed");
        } else {
            status[i] = 400;
            why[i] = g_strdup_printf("Invalid email address: %s", specs[j].email);
        }
    }
    json_t *entries = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *email = json_object_get(json_array_get(members, i), "email");
        json_array_append_new(entries, result_json(json_string_value(email), status[i], why[i]));
    }
    json_t *body = json_object();
    json_object_set_new(body, "list_id", json_string(l->list_id));
    json_object_set_new(body, "total_size", json_integer((json_int_t)n));
    json_object_set_new(body, "subscribed", json_integer((json_int_t)added));
    json_object_set_new(body, "entries", entries);
    rest_ok(req, body, NULL);
out:
    g_free(err);
    for (size_t i = 0; i < n; i++)
        g_free(why[i]);
    g_free(why);
    g_free(status);
    g_free(index);
    g_free(results);
    g_free(specs);
    store_list_free(l);
}
