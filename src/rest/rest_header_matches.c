/* rest_header_matches - see rest_header_matches.h. Texts follow
 * mailman/rest/header_matches.py and the HeaderMatch model. */
#include "rest/rest_header_matches.h"

#include "lib/regex.h"
#include "rest/rest_lists.h"
#include "rest/rest_params.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

static json_t *match_json(struct rest_req *req, const char *list_id,
                          const struct store_header_match *h)
{
    json_t *r = json_object();
    json_object_set_new(r, "position", json_integer(h->position));
    json_object_set_new(r, "header", json_string(h->header));
    json_object_set_new(r, "pattern", json_string(h->pattern));
    json_object_set_new(
        r, "self_link",
        rest_jstr_take(rest_path_to(req, "lists/%s/header-matches/%d", list_id, h->position)));
    if (h->chain)
        json_object_set_new(r, "action", json_string(h->chain));
    if (h->tag)
        json_object_set_new(r, "tag", json_string(h->tag));
    return r;
}

/* The list's matches (*v_r) and its list_id; false after answering. */
static bool matches_of(struct rest_req *req, char **list_id_r, struct store_header_match ***v_r)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return false;
    char *err = NULL;
    int rc = store_header_match_list(req->store, l->list_id, v_r, &err);
    if (rc < 0)
        rest_internal_error(req, "header matches", err);
    else
        *list_id_r = g_strdup(l->list_id);
    g_free(err);
    store_list_free(l);
    return rc >= 0;
}

static void answer_matches(struct rest_req *req, const char *list_id, struct store_header_match **v,
                           json_t *filter)
{
    json_t *entries = json_array();
    for (struct store_header_match **h = v; *h; h++) {
        json_t *f;
        if (filter && (f = json_object_get(filter, "header")) &&
            g_ascii_strcasecmp((*h)->header, json_string_value(f)) != 0)
            continue;
        if (filter && (f = json_object_get(filter, "action")) &&
            g_strcmp0((*h)->chain, json_string_value(f)) != 0)
            continue;
        if (filter && (f = json_object_get(filter, "tag")) &&
            g_strcmp0((*h)->tag, json_string_value(f)) != 0)
            continue;
        json_array_append_new(entries, match_json(req, list_id, *h));
    }
    if (filter && json_array_size(entries) == 0) {
        json_decref(entries);
        rest_not_found(req, "Cound not find any HeaderMatch for provided search options.");
        return;
    }
    rest_ok_collection(req, entries, NULL);
}

void rest_header_matches_get(struct rest_req *req)
{
    g_autofree char *list_id = NULL;
    struct store_header_match **v = NULL;
    if (!matches_of(req, &list_id, &v))
        return;
    answer_matches(req, list_id, v, NULL);
    store_header_matchv_free(v);
}

/* FindHeaderMatches: by header, action and tag; 404 when none. */
void rest_header_matches_find(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"header", REST_CONV_STR, true, NULL},
        {"action", REST_CONV_ENUM, true, store_enum_action},
        {"tag", REST_CONV_STR, true, NULL},
    };
    g_autofree char *list_id = NULL;
    struct store_header_match **v = NULL;
    if (!matches_of(req, &list_id, &v))
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values) {
        answer_matches(req, list_id, v, values);
        json_decref(values);
    }
    store_header_matchv_free(v);
}

/* regexp_validator's reason, or NULL. */
static char *pattern_reason(const char *pattern)
{
    GRegex *re = regex_compile(pattern, NULL);
    if (re == NULL)
        return g_strdup_printf("Expected a valid regexp, got %s", pattern);
    g_regex_unref(re);
    return NULL;
}

/* enum_validator(Action, allow_blank=True): "" is no action. */
static const char *action_of(json_t *values)
{
    const char *a = json_string_value(json_object_get(values, "action"));
    return a && *a ? a : NULL;
}

void rest_header_matches_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"header", REST_CONV_STR, false, NULL},
        {"pattern", REST_CONV_STR, false, NULL},
        {"action", REST_CONV_STR, true, NULL},
        {"tag", REST_CONV_STR, true, NULL},
    };
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    char *err = NULL;
    g_autofree char *reason = NULL, *path = NULL;
    if (values == NULL)
        goto out;
    const char *pattern = json_string_value(json_object_get(values, "pattern"));
    const char *action = action_of(values);
    reason = pattern_reason(pattern);
    if (reason == NULL && action && store_action_parse(action) < 0) {
        g_autofree char *names = store_enum_names(store_enum_action);
        reason = g_strdup_printf("Accepted Values are: %s", names);
        rest_bad_request(req, "Invalid Parameter \"action\": %s.", reason);
        goto out;
    }
    if (reason) {
        rest_bad_request(req, "Invalid Parameter \"pattern\": %s.", reason);
        goto out;
    }
    int rc = store_header_match_add(
        req->store, l->list_id, -1, json_string_value(json_object_get(values, "header")), pattern,
        action, json_string_value(json_object_get(values, "tag")), &err);
    if (rc == STORE_EXISTS) {
        rest_bad_request(req, "This header match already exists");
    } else if (rc < 0) {
        rest_internal_error(req, "header matches", err);
    } else {
        struct store_header_match **v = NULL;
        size_t n = 0;
        if (store_header_match_list(req->store, l->list_id, &v, &err) >= 0)
            while (v[n])
                n++;
        path = g_strdup_printf("lists/%s/header-matches/%zu", l->list_id, n ? n - 1 : 0);
        rest_created(req, path);
        store_header_matchv_free(v);
    }
out:
    g_free(err);
    if (values)
        json_decref(values);
    store_list_free(l);
}

void rest_header_matches_delete(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    char *err = NULL;
    if (store_header_match_clear(req->store, l->list_id, &err) < 0)
        rest_internal_error(req, "header matches", err);
    else
        rest_no_content(req);
    g_free(err);
    store_list_free(l);
}

/* The match at the route's position (a copy in *h_r), with the list's
 * matches in *v_r; false after answering. */
static bool match_at(struct rest_req *req, char **list_id_r, struct store_header_match ***v_r,
                     struct store_header_match **h_r, size_t *n_r)
{
    const char *seg = rest_arg(req, 1);
    for (const char *p = seg; *p; p++)
        if (!g_ascii_isdigit(*p)) { /* the child matcher is ^\d+ */
            rest_no_such_child(req);
            return false;
        }
    if (!matches_of(req, list_id_r, v_r))
        return false;
    size_t n = 0;
    while ((*v_r)[n])
        n++;
    *n_r = n;
    long long pos = 0;
    if (!rest_parse_pyint(seg, &pos) || pos < 0 || (size_t)pos >= n) {
        g_autofree char *text = g_strdup_printf("No header match at this position: %s", seg);
        rest_not_found(req, text);
        return false;
    }
    *h_r = (*v_r)[pos];
    return true;
}

void rest_header_match_get(struct rest_req *req)
{
    g_autofree char *list_id = NULL;
    struct store_header_match **v = NULL, *h = NULL;
    size_t n;
    if (match_at(req, &list_id, &v, &h, &n))
        rest_ok(req, match_json(req, list_id, h), NULL);
    store_header_matchv_free(v);
}

void rest_header_match_delete(struct rest_req *req)
{
    g_autofree char *list_id = NULL;
    struct store_header_match **v = NULL, *h = NULL;
    size_t n;
    char *err = NULL;
    if (match_at(req, &list_id, &v, &h, &n)) {
        if (store_header_match_delete(req->store, list_id, h->position, &err) < 0)
            rest_internal_error(req, "header matches", err);
        else
            rest_no_content(req);
    }
    g_free(err);
    store_header_matchv_free(v);
}

/* HeaderMatch._patch_put: the match is taken out and put back changed
 * (at its new position), in one transaction. */
static void match_update(struct rest_req *req, bool put)
{
    const struct rest_field fields[] = {
        {"header", REST_CONV_STR, !put, NULL},   {"pattern", REST_CONV_STR, !put, NULL},
        {"position", REST_CONV_INT, true, NULL}, {"action", REST_CONV_STR, true, NULL},
        {"tag", REST_CONV_STR, true, NULL},
    };
    g_autofree char *list_id = NULL;
    struct store_header_match **v = NULL, *h = NULL;
    size_t n;
    char *err = NULL;
    g_autofree char *header = NULL, *tag = NULL, *reason = NULL;
    if (!match_at(req, &list_id, &v, &h, &n))
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        goto out;
    json_t *j;
    header = g_utf8_strdown(
        (j = json_object_get(values, "header")) ? json_string_value(j) : h->header, -1);
    const char *pattern =
        (j = json_object_get(values, "pattern")) ? json_string_value(j) : h->pattern;
    const char *chain = json_object_get(values, "action") ? action_of(values) : h->chain;
    /* lowercase(): the tag is stored lower-cased too. */
    tag = (j = json_object_get(values, "tag")) ? g_utf8_strdown(json_string_value(j), -1)
                                               : g_strdup(h->tag);
    long long position =
        (j = json_object_get(values, "position")) ? json_integer_value(j) : h->position;
    reason = pattern_reason(pattern);
    if (reason) {
        rest_bad_request(req, "Invalid Parameter \"pattern\": %s.", reason);
        goto out;
    }
    if (chain && store_action_parse(chain) < 0) {
        g_autofree char *names = store_enum_names(store_enum_action);
        rest_bad_request(req, "Invalid Parameter \"action\": Accepted Values are: %s.", names);
        goto out;
    }
    if (position < 0) {
        rest_bad_request(req, "Negative indexes are not supported");
        goto out;
    }
    if ((size_t)position >= n) {
        rest_bad_request(req,
                         "There are %zu header matches for this list, the new position cannot "
                         "be %zu or higher",
                         n, n);
        goto out;
    }
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = store_header_match_delete(req->store, list_id, h->position, &err);
    if (rc >= 0)
        rc = store_header_match_add(req->store, list_id, (int)position, header, pattern, chain, tag,
                                    &err);
    if (rc == STORE_EXISTS) {
        g_free(err);
        err = g_strdup("This header match already exists");
        rc = STORE_INVALID;
    }
    if (rest_store_end(req, rc, &err) >= 0)
        rest_no_content(req);
out:
    g_free(err);
    if (values)
        json_decref(values);
    store_header_matchv_free(v);
}

void rest_header_match_patch(struct rest_req *req)
{
    match_update(req, false);
}

void rest_header_match_put(struct rest_req *req)
{
    match_update(req, true);
}
