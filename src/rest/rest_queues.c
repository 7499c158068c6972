/* rest_queues - see rest_queues.h. */
#include "rest/rest_queues.h"

#include "config/config.h"
#include "lmtp/lmtp_intake.h"
#include "queue/queue.h"
#include "queue/queue_admin.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

static json_t *queue_json(struct rest_req *req, const struct queue_admin_info *info)
{
    json_t *files = json_array();
    for (guint i = 0; i < info->bases->len; i++)
        json_array_append_new(files, json_string(info->bases->pdata[i]));
    json_t *r = json_object();
    json_object_set_new(r, "name", json_string(info->name));
    json_object_set_new(r, "directory", json_string(info->dir));
    json_object_set_new(r, "count", json_integer(info->bases->len));
    json_object_set_new(r, "files", files);
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "queues/%s", info->name)));
    return r;
}

/* Every queue (only the named one when name is set); NULL after a 500. */
static GPtrArray *queue_infos(struct rest_req *req, struct queue_root *root)
{
    GPtrArray *infos = NULL;
    char *err = NULL;
    if (queue_admin_list_all(root, &infos, &err) < 0) {
        rest_internal_error(req, "queues", err);
        g_free(err);
        return NULL;
    }
    return infos;
}

void rest_queues_get(struct rest_req *req)
{
    struct queue_root *root = queue_root_new(config_path(req->cfg, "queue_dir"));
    GPtrArray *infos = queue_infos(req, root);
    if (infos) {
        json_t *entries = json_array();
        for (guint i = 0; i < infos->len; i++)
            json_array_append_new(entries, queue_json(req, infos->pdata[i]));
        json_t *result = rest_collection(req, entries, NULL);
        if (result) {
            json_object_set_new(result, "self_link", rest_jstr_take(rest_path_to(req, "queues")));
            rest_ok(req, result, NULL);
        }
        g_ptr_array_unref(infos);
    }
    queue_root_free(root);
}

void rest_queue_get(struct rest_req *req)
{
    const char *name = rest_arg(req, 0);
    struct queue_root *root = queue_root_new(config_path(req->cfg, "queue_dir"));
    GPtrArray *infos = queue_root_known(root, name) ? queue_infos(req, root) : NULL;
    if (infos) {
        for (guint i = 0; i < infos->len; i++) {
            const struct queue_admin_info *info = infos->pdata[i];
            if (strcmp(info->name, name) == 0)
                rest_ok(req, queue_json(req, info), NULL);
        }
        g_ptr_array_unref(infos);
    } else if (req->status == 0) {
        rest_not_found(req, NULL);
    }
    queue_root_free(root);
}

/* Mailman's inject_text(): the message prepared as `crier inject` does
 * (Message-ID, Message-ID-Hash, Date), with listid and original_size. */
void rest_queue_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"list_id", REST_CONV_STR, false, NULL},
        {"text", REST_CONV_STR, false, NULL},
    };
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    const char *name = rest_arg(req, 0);
    const char *list_id = json_string_value(json_object_get(values, "list_id"));
    const char *text = json_string_value(json_object_get(values, "text"));
    struct store_list *l = NULL;
    struct queue_root *root = NULL;
    char *err = NULL;
    g_autofree char *base = NULL;
    int rc = strchr(list_id, '@') ? 0 : store_list_get(req->store, list_id, &l, &err);
    if (rc <= 0) {
        if (rc < 0)
            rest_internal_error(req, "queues", err);
        else
            rest_bad_request(req, "No such list: %s", list_id);
        goto out;
    }
    root = queue_root_new(config_path(req->cfg, "queue_dir"));
    if (!queue_root_known(root, name)) {
        /* Mailman: str(KeyError(name)). */
        rest_bad_request(req, "'%s'", name);
        goto out;
    }
    GByteArray *msg = NULL;
    char hash[MSGID_HASH_LEN + 1];
    const char *why = NULL;
    if (lmtp_intake_prepare_ex(text, strlen(text), NULL, g_get_host_name(), true, &msg, hash,
                               &why) < 0) {
        rest_bad_request(req, "%s", why);
        goto out;
    }
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set_uint(meta, "original_size", msg->len);
    if (queue_admin_inject(root, name, meta, msg->data, msg->len, &base, &err) < 0) {
        rest_internal_error(req, "queues", err);
    } else {
        g_autofree char *path = g_strdup_printf("queues/%s/%s", name, base);
        rest_created(req, path);
    }
    queue_meta_free(meta);
    g_byte_array_unref(msg);
out:
    g_free(err);
    queue_root_free(root);
    store_list_free(l);
    json_decref(values);
}

void rest_queue_file_delete(struct rest_req *req)
{
    const char *name = rest_arg(req, 0), *base = rest_arg(req, 1);
    struct queue_root *root = queue_root_new(config_path(req->cfg, "queue_dir"));
    struct queue *q = NULL;
    struct queue_entry *entry = NULL;
    char *err = NULL;
    int rc = 0;
    if (!queue_root_known(root, name) || queue_root_get(root, name, &q, &err) < 0) {
        g_autofree char *text = g_strdup_printf("No such queue: %s", name);
        rest_not_found(req, text);
        goto out;
    }
    if (base[0] != '.')
        rc = queue_claim(q, base, &entry, &err);
    if (rc == 1)
        rc = queue_finish(entry, &err) < 0 ? -1 : 1;
    if (rc < 0) {
        rest_internal_error(req, "queues", err);
    } else if (rc == 0) {
        g_autofree char *text = g_strdup_printf("No such queue file: %s", base);
        rest_not_found(req, text);
    } else {
        rest_no_content(req);
    }
out:
    queue_entry_free(entry);
    g_free(err);
    queue_root_free(root);
}
