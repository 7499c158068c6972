/* rest_held - see rest_held.h. */
#include "rest/rest_held.h"

#include "config/config.h"
#include "post/post_moderate.h"
#include "queue/queue_root.h"
#include "rest/rest_lists.h"
#include "rest/rest_params.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <gmime/gmime.h>
#include <string.h>

static void set_text(json_t *r, const char *key, const char *value)
{
    json_object_set_new(r, key, json_string(value ? value : ""));
}

/* The raw Subject of the held message (unfolded, as Mailman's
 * _mod_subject keeps it), or NULL. */
static char *raw_subject(const char *msg, size_t len)
{
    const char *p = msg, *end = msg + len;
    while (p < end && *p != '\n' && *p != '\r') {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        if (g_ascii_strncasecmp(p, "Subject:", 8) == 0) {
            GString *v = g_string_new(NULL);
            g_string_append_len(v, p + 8, (eol ? eol : end) - (p + 8));
            while (next < end && (*next == ' ' || *next == '\t')) {
                const char *e2 = memchr(next, '\n', (size_t)(end - next));
                g_string_append_len(v, next, (e2 ? e2 : end) - next);
                next = e2 ? e2 + 1 : end;
            }
            g_strdelimit(v->str, "\r\n", ' ');
            return g_strstrip(g_string_free(v, FALSE));
        }
        p = next;
    }
    return NULL;
}

/* _HeldMessageBase._make_resource for one held post (with its message). */
static json_t *held_json(struct rest_req *req, const struct post_held *h)
{
    json_t *r = json_object();
    if (h->msg && g_utf8_validate(h->msg, (gssize)h->msg_len, NULL))
        json_object_set_new(r, "msg", json_stringn(h->msg, h->msg_len));
    else if (h->msg) /* as Python's as_string() would show undecodable bytes */
        json_object_set_new(r, "msg",
                            rest_jstr_take(g_utf8_make_valid(h->msg, (gssize)h->msg_len)));
    else
        json_object_set_new(
            r, "msg",
            rest_jstr_take(g_strdup_printf("Subject: Message content lost\nMessage-ID: %s\n\nThis "
                                           "held message has been lost.\n",
                                           h->message_id ? h->message_id : "")));
    set_text(r, "message_id", h->message_id);
    set_text(r, "sender", h->sender);
    set_text(r, "reason", h->reason);
    set_text(r, "hold_date", h->hold_date);
    g_autofree char *raw = h->msg ? raw_subject(h->msg, h->msg_len) : NULL;
    const char *subject = raw && g_utf8_validate(raw, -1, NULL) ? raw
                          : h->subject                          ? h->subject
                                                                : "";
    static gsize gmime_ready;
    if (g_once_init_enter(&gmime_ready)) {
        g_mime_init(); /* counted by GMime: other modules' calls are fine */
        g_once_init_leave(&gmime_ready, 1);
    }
    g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, subject);
    set_text(r, "subject", decoded && g_utf8_validate(decoded, -1, NULL) ? decoded : subject);
    set_text(r, "original_subject", subject);
    json_object_set_new(r, "request_id", json_integer(h->id));
    json_object_set_new(r, "self_link",
                        rest_jstr_take(rest_path_to(req, "lists/%s/held/%d", h->list_id, h->id)));
    return r;
}

void rest_held_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    GPtrArray *v = NULL;
    char *err = NULL;
    json_t *entries = json_array();
    int rc = post_held_list(req->store, l->list_id, &v, &err);
    for (guint i = 0; rc >= 0 && i < v->len; i++) {
        struct post_held *full = NULL;
        const struct post_held *h = v->pdata[i];
        rc = post_held_get(req->store, req->cfg, l->list_id, h->id, &full, &err);
        if (rc >= 0 && full)
            json_array_append_new(entries, held_json(req, full));
        post_held_free(full);
    }
    if (rc < 0) {
        rest_internal_error(req, "held", err);
        json_decref(entries);
    } else {
        rest_ok_collection(req, entries, NULL);
    }
    if (v)
        g_ptr_array_unref(v);
    g_free(err);
    store_list_free(l);
}

void rest_held_count_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    int64_t count = 0;
    char *err = NULL;
    if (store_request_count(req->store, l->list_id, STORE_REQUEST_HELD_MESSAGE, &count, &err) < 0)
        rest_internal_error(req, "held", err);
    else
        rest_ok(req, json_pack("{s:I}", "count", (json_int_t)count), NULL);
    g_free(err);
    store_list_free(l);
}

/* The request id of the route: int() of its segment; -1 when it is not
 * one (Mailman: 404). */
static int held_id(struct rest_req *req)
{
    long long id = -1;
    if (!rest_parse_pyint(rest_arg(req, 1), &id) || id < 0 || id > G_MAXINT)
        return -1;
    return (int)id;
}

void rest_held_one_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    struct post_held *h = NULL;
    char *err = NULL;
    int id = held_id(req);
    int rc = id >= 0 ? post_held_get(req->store, req->cfg, l->list_id, id, &h, &err) : 0;
    if (rc < 0)
        rest_internal_error(req, "held", err);
    else if (h == NULL)
        rest_not_found(req, NULL);
    else
        rest_ok(req, held_json(req, h), NULL);
    post_held_free(h);
    g_free(err);
    store_list_free(l);
}

void rest_held_one_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"action", REST_CONV_ENUM, false, store_enum_action},
        {"comment", REST_CONV_STR, true, NULL},
    };
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL) {
        store_list_free(l);
        return;
    }
    int id = held_id(req);
    int decision = post_decision_parse(json_string_value(json_object_get(values, "action")));
    const char *comment = json_string_value(json_object_get(values, "comment"));
    char *err = NULL;
    int rc = 0;
    if (id >= 0) {
        struct queue_root *root = queue_root_new(config_path(req->cfg, "queue_dir"));
        rc = post_moderate(req->store, req->cfg, root, l, id, (enum post_decision)decision, comment,
                           &err);
        queue_root_free(root);
    }
    if (rc < 0)
        rest_internal_error(req, "held", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    else
        rest_no_content(req);
    g_free(err);
    json_decref(values);
    store_list_free(l);
}
