/* post_moderate - see post_moderate.h. */
#include "post/post_moderate.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "mail/notice.h"
#include "post/post.h"
#include "queue/queue.h"
#include "store/store.h"

#include <string.h>

/* Mailman keeps request data "forever" (5000 days). */
#define DATA_LIFETIME_US ((int64_t)5000 * 24 * 3600 * 1000000)

void post_held_free(struct post_held *h)
{
    if (h == NULL)
        return;
    g_free(h->list_id);
    g_free(h->message_id);
    g_free(h->sender);
    g_free(h->subject);
    g_free(h->reason);
    g_free(h->hold_date);
    g_free(h->msg);
    g_free(h);
}

static char *now_iso(void)
{
    GDateTime *now = g_date_time_new_now_utc();
    char *s = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%f");
    g_date_time_unref(now);
    return s;
}

static int store_message(struct store *st, struct config *cfg, const char *msgid, const char *hash,
                         const char *msg, size_t len, char **error_r)
{
    struct store_message *old = NULL;
    if (store_message_get(st, msgid, false, &old, error_r) < 0)
        return -1;
    if (old) { /* the same Message-ID held before: keep the first */
        store_message_free(old);
        return 0;
    }
    g_autofree char *rel = g_strdup_printf("%.2s/%.2s/%s", hash, hash + 2, hash);
    g_autofree char *path = g_build_filename(config_path(cfg, "messages_dir"), rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    if (fs_mkdirs(dir, 0750, error_r) < 0 || fs_write_atomic(path, msg, len, error_r) < 0)
        return -1;
    return store_message_add(st, msgid, hash, rel, error_r);
}

int post_hold_record(struct store *st, struct config *cfg, const struct store_list *l,
                     const char *message_id, const char *hash, const char *sender,
                     const char *subject, const char *reason, const char *msg, size_t len,
                     int *id_r, char **token_r, char **error_r)
{
    g_autofree char *h = hash && strlen(hash) >= 4
                             ? g_strdup(hash)
                             : g_compute_checksum_for_string(G_CHECKSUM_SHA1, message_id, -1);
    if (store_message(st, cfg, message_id, h, msg, len, error_r) < 0)
        return -1;
    g_autofree char *date = now_iso();
    const char *dkeys[] = {"_mod_message_id", "_mod_listid", "_mod_sender",
                           "_mod_subject",    "_mod_reason", "_mod_hold_date"};
    const char *dvals[] = {message_id, l->list_id, sender, subject, reason, date};
    g_autofree char *data = NULL;
    if (store_pending_add(st, "data", DATA_LIFETIME_US, dkeys, dvals, G_N_ELEMENTS(dkeys), &data,
                          error_r) < 0)
        return -1;
    int id;
    if (store_request_add(st, l->list_id, STORE_REQUEST_HELD_MESSAGE, message_id, data, &id,
                          error_r) < 0)
        return -1;
    g_autofree char *ids = g_strdup_printf("%d", id);
    const char *keys[] = {"id", "list_id"};
    const char *vals[] = {ids, l->list_id};
    char *token = NULL;
    int64_t life = (int64_t)(config_get_duration(cfg, "mailman", "pending_request_life") * 1e6);
    if (store_pending_add(st, "held message", life, keys, vals, G_N_ELEMENTS(keys), &token,
                          error_r) < 0)
        return -1;
    if (id_r)
        *id_r = id;
    if (token_r)
        *token_r = token;
    else
        g_free(token);
    return 0;
}

static const char *pending_value(const struct store_pending *p, const char *key)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->values[i];
    return NULL;
}

static struct post_held *held_of(struct store *st, const struct store_request *r, char **error_r)
{
    struct store_pending *p = NULL;
    if (r->data_token && store_pending_get(st, r->data_token, &p, error_r) < 0)
        return NULL;
    struct post_held *h = g_new0(struct post_held, 1);
    h->id = r->id;
    h->list_id = g_strdup(r->list_id);
    h->message_id = g_strdup(r->key);
    h->sender = g_strdup(pending_value(p, "_mod_sender"));
    h->subject = g_strdup(pending_value(p, "_mod_subject"));
    h->reason = g_strdup(pending_value(p, "_mod_reason"));
    h->hold_date = g_strdup(pending_value(p, "_mod_hold_date"));
    store_pending_free(p);
    return h;
}

int post_held_list(struct store *st, const char *list_id, GPtrArray **v_r, char **error_r)
{
    struct store_request **v = NULL;
    if (store_request_list(st, list_id, STORE_REQUEST_HELD_MESSAGE, &v, error_r) < 0)
        return -1;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)post_held_free);
    int rc = 0;
    for (size_t i = 0; v[i]; i++) {
        struct post_held *h = held_of(st, v[i], error_r);
        if (h == NULL) {
            rc = -1;
            break;
        }
        g_ptr_array_add(out, h);
    }
    store_requestv_free(v);
    if (rc < 0) {
        g_ptr_array_unref(out);
        return -1;
    }
    *v_r = out;
    return 0;
}

static int read_message(struct store *st, struct config *cfg, const char *msgid, char **msg_r,
                        size_t *len_r, char **path_r, char **error_r)
{
    struct store_message *m = NULL;
    if (store_message_get(st, msgid, false, &m, error_r) < 0)
        return -1;
    if (m == NULL) {
        *error_r = g_strdup_printf("the held message %s is not in the message store", msgid);
        return -1;
    }
    char *path = g_build_filename(config_path(cfg, "messages_dir"), m->path, NULL);
    store_message_free(m);
    int rc = fs_read_file(path, G_MAXSIZE, msg_r, len_r, error_r);
    if (rc == 0 && path_r)
        *path_r = path;
    else
        g_free(path);
    return rc;
}

int post_held_get(struct store *st, struct config *cfg, const char *list_id, int id,
                  struct post_held **h_r, char **error_r)
{
    *h_r = NULL;
    struct store_request *r = NULL;
    if (store_request_get(st, list_id, id, &r, error_r) < 0)
        return -1;
    if (r == NULL || r->type != STORE_REQUEST_HELD_MESSAGE) {
        store_request_free(r);
        return 0;
    }
    struct post_held *h = held_of(st, r, error_r);
    store_request_free(r);
    if (h == NULL)
        return -1;
    if (read_message(st, cfg, h->message_id, &h->msg, &h->msg_len, NULL, error_r) < 0) {
        post_held_free(h);
        return -1;
    }
    *h_r = h;
    return 0;
}

int post_decision_parse(const char *name)
{
    static const char *const names[] = {"accept", "reject", "discard", "defer"};
    for (int i = 0; i < 4; i++)
        if (g_ascii_strcasecmp(name, names[i]) == 0)
            return i;
    return g_ascii_strcasecmp(name, "hold") == 0 ? POST_DECIDE_DEFER : -1;
}

static int enqueue(struct queue_root *qroot, const char *name, struct queue_meta *m,
                   const char *msg, size_t len, char **error_r)
{
    struct queue *q;
    if (queue_root_get(qroot, name, &q, error_r) < 0)
        return -1;
    return queue_enqueue(q, m, msg, len, NULL, error_r);
}

static int accept_post(struct queue_root *qroot, const struct store_list *l,
                       const struct post_held *h, char **error_r)
{
    struct pmsg *m = pmsg_parse(h->msg, h->msg_len);
    GDateTime *now = g_date_time_new_now_local();
    g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S %z");
    g_date_time_unref(now);
    pmsg_remove(m, "X-Mailman-Approved-At");
    pmsg_append(m, "X-Mailman-Approved-At", date);
    size_t len;
    g_autofree char *raw = pmsg_serialize(m, &len);
    pmsg_free(m);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set(meta, "approved", "true");
    queue_meta_set(meta, "moderator_approved", "true");
    queue_meta_set(meta, "to_list", "true");
    queue_meta_set_uint(meta, "original_size", len);
    int rc = enqueue(qroot, "pipeline", meta, raw, len, error_r);
    queue_meta_free(meta);
    return rc;
}

static int refuse(struct config *cfg, struct queue_root *qroot, const struct store_list *l,
                  const struct post_held *h, const char *reason, char **error_r)
{
    if (h->sender == NULL || *h->sender == '\0')
        return 0;
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "request",
                        g_strdup_printf("Posting of your message titled \"%s\"",
                                        h->subject ? h->subject : "(no subject)"));
    g_hash_table_insert(vars, "reason", g_strdup(reason && *reason ? reason : "[No reason given]"));
    g_autofree char *text = post_template(cfg, l, "list:user:notice:refuse", vars);
    g_hash_table_unref(vars);
    g_autofree char *from = g_strdup_printf("%s-bounces@%s", l->list_name, l->mail_host);
    g_autofree char *subject = g_strdup_printf("Request to mailing list \"%s\" rejected",
                                               store_list_attr(l, "display_name"));
    const char *rcpts[] = {h->sender, NULL};
    size_t n;
    g_autofree char *notice = notice_build(from, rcpts, subject, text, l->mail_host, &n);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set(meta, "recipients", h->sender);
    queue_meta_set(meta, "nodecorate", "true");
    queue_meta_set(meta, "reduced_list_headers", "true");
    int rc = enqueue(qroot, "virgin", meta, notice, n, error_r);
    queue_meta_free(meta);
    return rc;
}

/* The request, its pendings and the stored message go. */
static int forget(struct store *st, struct config *cfg, const struct store_list *l,
                  const struct post_held *h, char **error_r)
{
    struct store_request *r = NULL;
    if (store_request_get(st, l->list_id, h->id, &r, error_r) < 0)
        return -1;
    if (r && r->data_token && store_pending_delete(st, r->data_token, error_r) < 0) {
        store_request_free(r);
        return -1;
    }
    store_request_free(r);
    g_autofree char *ids = g_strdup_printf("%d", h->id);
    g_auto(GStrv) tokens = NULL;
    if (store_pending_find(st, "held message", "id", ids, &tokens, error_r) < 0)
        return -1;
    for (char **t = tokens; t && *t; t++) {
        struct store_pending *p = NULL;
        if (store_pending_get(st, *t, &p, error_r) < 0)
            return -1;
        const char *lid = pending_value(p, "list_id");
        bool ours = lid && strcmp(lid, l->list_id) == 0;
        store_pending_free(p);
        if (ours && store_pending_delete(st, *t, error_r) < 0)
            return -1;
    }
    if (store_request_delete(st, l->list_id, h->id, error_r) < 0)
        return -1;
    struct store_message *m = NULL;
    if (store_message_get(st, h->message_id, false, &m, error_r) < 0)
        return -1;
    if (m) {
        g_autofree char *path = g_build_filename(config_path(cfg, "messages_dir"), m->path, NULL);
        store_message_free(m);
        if (store_message_delete(st, h->message_id, error_r) < 0)
            return -1;
        (void)unlink(path);
    }
    return 0;
}

int post_moderate(struct store *st, struct config *cfg, struct queue_root *qroot,
                  const struct store_list *l, int id, enum post_decision d, const char *reason,
                  char **error_r)
{
    struct post_held *h = NULL;
    if (post_held_get(st, cfg, l->list_id, id, &h, error_r) < 0)
        return -1;
    if (h == NULL)
        return 0;
    int rc = 0;
    const char *what = "deferred";
    switch (d) {
    case POST_DECIDE_ACCEPT:
        rc = accept_post(qroot, l, h, error_r);
        what = "accepted";
        break;
    case POST_DECIDE_REJECT:
        rc = refuse(cfg, qroot, l, h, reason, error_r);
        what = "rejected";
        break;
    case POST_DECIDE_DISCARD:
        what = "discarded";
        break;
    case POST_DECIDE_DEFER:
        break;
    }
    if (rc == 0 && d != POST_DECIDE_DEFER)
        rc = forget(st, cfg, l, h, error_r);
    if (rc == 0)
        log_to("vette", LOG_LEVEL_INFO, "held message %s for %s: %s (request %d)", what,
               l->fqdn_listname, h->message_id, id);
    post_held_free(h);
    return rc < 0 ? -1 : 1;
}
