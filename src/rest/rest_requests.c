/* rest_requests - see rest_requests.h. */
#include "rest/rest_requests.h"

#include "config/config.h"
#include "queue/queue_root.h"
#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

void rest_workflow_ctx(struct rest_req *req, struct workflow_ctx *w)
{
    *w = (struct workflow_ctx){
        .cfg = req->cfg,
        .st = req->store,
        .qroot = queue_root_new(config_path(req->cfg, "queue_dir")),
    };
}

void rest_workflow_done(struct workflow_ctx *w)
{
    queue_root_free(w->qroot);
    w->qroot = NULL;
}

/* Mailman's TokenOwner and PendType, for the Validator's texts. */
static const struct store_enum_value token_owners[] = {
    {"no_one", 0}, {"subscriber", 1}, {"moderator", 2}, {NULL, 0}};
static const struct store_enum_value pend_types[] = {
    {"subscription", 0}, {"unsubscription", 1}, {NULL, 0}};

/* {token, type, <the pendable's keys>}: 1, or 0 when token is not a
 * (un)subscription pending of list_id. */
static int request_json(struct rest_req *req, const char *list_id, const char *token, json_t **r_r,
                        char **err)
{
    struct store_pending *p = NULL;
    int rc = store_pending_get(req->store, token, &p, err);
    if (rc <= 0)
        return rc;
    bool ours = strcmp(p->type, "subscription") == 0 || strcmp(p->type, "unsubscription") == 0;
    bool same_list = false;
    json_t *r = json_object();
    json_object_set_new(r, "token", json_string(p->token));
    json_object_set_new(r, "type", json_string(p->type));
    for (size_t i = 0; i < p->n; i++) {
        json_object_set_new(r, p->keys[i], rest_jstr_or_null(p->values[i]));
        if (strcmp(p->keys[i], "list_id") == 0)
            same_list = g_strcmp0(p->values[i], list_id) == 0;
    }
    store_pending_free(p);
    if (!ours || !same_list) {
        json_decref(r);
        return 0;
    }
    *r_r = r;
    return 1;
}

/* The requests of the list matching the query's token_owner and
 * request_type (an array, json_decref), or NULL after answering. */
static json_t *requests_of(struct rest_req *req, const struct store_list *l, bool paging)
{
    const struct rest_field fields[] = {
        {"token_owner", REST_CONV_ENUM, true, token_owners},
        {"request_type", REST_CONV_ENUM, true, pend_types},
        {"page", REST_CONV_INT, true, NULL},
        {"count", REST_CONV_INT, true, NULL},
    };
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields) - (paging ? 0 : 2));
    if (values == NULL)
        return NULL;
    const char *owner = json_string_value(json_object_get(values, "token_owner"));
    const char *type = json_string_value(json_object_get(values, "request_type"));
    char **tokens = NULL;
    char *err = NULL;
    json_t *out = json_array();
    int rc = store_pending_find(req->store, type ? type : "subscription", "list_id", l->list_id,
                                &tokens, &err);
    for (size_t i = 0; rc >= 0 && tokens[i]; i++) {
        json_t *r = NULL;
        rc = request_json(req, l->list_id, tokens[i], &r, &err);
        if (rc == 1 && owner &&
            g_strcmp0(json_string_value(json_object_get(r, "token_owner")), owner) != 0)
            json_decref(g_steal_pointer(&r));
        if (r)
            json_array_append_new(out, r);
    }
    g_strfreev(tokens);
    json_decref(values);
    if (rc < 0) {
        rest_internal_error(req, "requests", err);
        g_free(err);
        json_decref(out);
        return NULL;
    }
    return out;
}

void rest_requests_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    json_t *entries = requests_of(req, l, true);
    if (entries)
        rest_ok_collection(req, entries, NULL);
    store_list_free(l);
}

void rest_requests_count_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    json_t *entries = requests_of(req, l, false);
    if (entries) {
        json_t *r = json_object();
        json_object_set_new(r, "count", json_integer((json_int_t)json_array_size(entries)));
        rest_ok(req, r, NULL);
        json_decref(entries);
    }
    store_list_free(l);
}

void rest_request_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    json_t *r = NULL;
    char *err = NULL;
    int rc = request_json(req, l->list_id, rest_arg(req, 1), &r, &err);
    if (rc < 0)
        rest_internal_error(req, "request", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    else
        rest_ok(req, r, NULL);
    g_free(err);
    store_list_free(l);
}

void rest_request_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"action", REST_CONV_ENUM, false, store_enum_action},
        {"reason", REST_CONV_STR, true, NULL},
    };
    json_t *values = NULL;
    struct store_list *l = rest_list_with_values(req, fields, G_N_ELEMENTS(fields), &values);
    if (l == NULL)
        return;
    const char *action = json_string_value(json_object_get(values, "action"));
    enum workflow_action a = strcmp(action, "accept") == 0    ? WORKFLOW_ACCEPT
                             : strcmp(action, "reject") == 0  ? WORKFLOW_REJECT
                             : strcmp(action, "discard") == 0 ? WORKFLOW_DISCARD
                                                              : WORKFLOW_DEFER;
    struct workflow_ctx w;
    rest_workflow_ctx(req, &w);
    char *err = NULL;
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = workflow_moderate(&w, l, rest_arg(req, 1), a,
                               json_string_value(json_object_get(values, "reason")), &err);
    if (rc >= 0 && store_commit(req->store, &err) >= 0) {
        rest_no_content(req);
    } else {
        store_rollback(req->store, NULL);
        if (rc == WORKFLOW_NO_TOKEN)
            rest_not_found(req, NULL);
        else if (rc == WORKFLOW_ALREADY_MEMBER)
            rest_conflict(req, "Already subscribed");
        else if (rc == WORKFLOW_ERR || rc >= 0)
            rest_internal_error(req, "request", err);
        else
            rest_bad_request(req, "%s", err ? err : "");
    }
    g_free(err);
    rest_workflow_done(&w);
    json_decref(values);
    store_list_free(l);
}
