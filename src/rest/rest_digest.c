/* rest_digest - see rest_digest.h. */
#include "rest/rest_digest.h"

#include "config/config.h"
#include "post/post_digest.h"
#include "queue/queue.h"
#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>

void rest_list_digest_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    json_t *r = json_object();
    json_object_set_new(r, "next_digest_number",
                        json_integer(store_list_attr_int(l, "next_digest_number")));
    json_object_set_new(r, "volume", json_integer(store_list_attr_int(l, "volume")));
    rest_ok(req, r, NULL);
    store_list_free(l);
}

static int enqueue(void *ud, const char *queue, struct queue_meta *meta, const char *msg,
                   size_t len, char **error_r)
{
    struct queue *q;
    if (queue_root_get(ud, queue, &q, error_r) < 0)
        return -1;
    return queue_enqueue(q, meta, msg, len, NULL, error_r);
}

static bool flag(json_t *values, const char *name)
{
    return json_is_true(json_object_get(values, name));
}

void rest_list_digest_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"send", REST_CONV_BOOL, true, NULL},
        {"bump", REST_CONV_BOOL, true, NULL},
        {"periodic", REST_CONV_BOOL, true, NULL},
    };
    json_t *values = NULL;
    struct store_list *l = rest_list_with_values(req, fields, G_N_ELEMENTS(fields), &values);
    if (l == NULL)
        return;
    bool send = flag(values, "send"), bump = flag(values, "bump");
    bool periodic = flag(values, "periodic");
    if (send && periodic) {
        rest_bad_request(req, "send and periodic options are mutually exclusive");
    } else if (json_object_size(values) == 0) {
        rest_ok_empty(req);
    } else {
        char *err = NULL;
        struct queue_root *root = queue_root_new(config_path(req->cfg, "queue_dir"));
        int rc = store_begin(req->store, &err);
        if (rc >= 0 && bump) {
            rc = post_digest_bump(req->store, l, &err);
            /* the send below names the digest by the bumped numbers */
            if (rc >= 0 && (send || periodic)) {
                g_autofree char *id = g_strdup(l->list_id);
                g_clear_pointer(&l, store_list_free);
                rc = store_list_get(req->store, id, &l, &err);
                if (rc == 0) {
                    err = g_strdup("the list vanished");
                    rc = STORE_ERR;
                }
            }
        }
        if (rc >= 0 && (send || (periodic && store_list_attr_bool(l, "digest_send_periodic"))))
            rc = post_digest_send(req->cfg, req->store, l, true, enqueue, root, NULL, &err);
        if (rest_store_end(req, rc, &err) >= 0)
            rest_accepted_empty(req);
        queue_root_free(root);
    }
    json_decref(values);
    if (l != NULL)
        store_list_free(l);
}
