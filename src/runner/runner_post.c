/* runner_post - see runner_post.h. */
#include "runner/runner_post.h"

#include "config/config.h"
#include "lib/log.h"
#include "mail/gmime_safe.h"
#include "mail/notice.h"
#include "post/post.h"
#include "post/post_moderate.h"
#include "post/post_roster_cache.h"
#include "queue/queue.h"
#include "runner/runner.h"
#include "store/store.h"
#include "workflow/workflow.h"

#include <gmime/gmime.h>
#include <string.h>

struct post_state {
    struct store *store;
    struct post_roster_cache *rosters; /* the pipeline runner's, or NULL */
};

int runner_post_start(struct runner *r, char **error_r)
{
    struct post_state *s = g_new0(struct post_state, 1);
    r->state = s;
    g_autofree char *url = config_expand(r->cfg, config_get(r->cfg, "database", "url"), NULL);
    long long cache = config_get_int(r->cfg, "runner.pipeline", "roster_cache_bytes");
    if (strcmp(r->kind->name, "pipeline") == 0 && cache > 0)
        s->rosters = post_roster_cache_new(
            (size_t)config_get_int(r->cfg, "runner.pipeline", "roster_cache_min_members"),
            (size_t)cache);
    return store_open(url, &s->store, error_r);
}

struct store *runner_post_store(struct runner *r)
{
    return ((struct post_state *)r->state)->store;
}

void runner_post_stop(struct runner *r)
{
    struct post_state *s = r->state;
    if (s == NULL)
        return;
    if (s->store)
        store_close(s->store);
    post_roster_cache_free(s->rosters);
    g_free(s);
    r->state = NULL;
}

/* A store error that may go away by itself (the database locked past the
 * busy timeout) retries the entry after a back-off instead of shunting it. */
static int handled(struct post_state *s, int rc)
{
    return rc < 0 && store_error_temporary(s->store) ? RUNNER_RETRY : rc;
}

static int enqueue(struct runner *r, const char *queue, struct queue_meta *m, const char *msg,
                   size_t len, char **error_r)
{
    struct queue *q;
    if (queue_root_get(r->qroot, queue, &q, error_r) < 0)
        return -1;
    return queue_enqueue(q, m, msg, len, NULL, error_r);
}

/* An internal notice for recipients (newline-separated) through virgin. */
static void send_notice(struct runner *r, const struct store_list *l, const char *recipients,
                        const char *msg, size_t len)
{
    struct queue_meta *m = queue_meta_new();
    queue_meta_set(m, "listid", l->list_id);
    queue_meta_set(m, "recipients", recipients);
    queue_meta_set(m, "nodecorate", "true");
    queue_meta_set(m, "reduced_list_headers", "true");
    char *err = NULL;
    if (enqueue(r, "virgin", m, msg, len, &err) < 0) {
        log_error("in: cannot queue a notice for %s: %s", l->list_id, err);
        g_free(err);
    }
    queue_meta_free(m);
}

struct notice_ud {
    struct runner *r;
    const struct store_list *l;
};

static void pipeline_notice(void *ud, const char *recipients, const char *msg, size_t len)
{
    struct notice_ud *n = ud;
    send_notice(n->r, n->l, recipients, msg, len);
}

static int pipeline_enqueue(void *ud, const char *queue, struct queue_meta *meta, const char *msg,
                            size_t len, char **error_r)
{
    struct notice_ud *n = ud;
    return enqueue(n->r, queue, meta, msg, len, error_r);
}

static char *indented_reasons(GPtrArray *reasons)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < reasons->len; i++)
        g_string_append_printf(s, "%s    %s", i ? "\n" : "", (const char *)reasons->pdata[i]);
    if (reasons->len == 0)
        g_string_append(s, "    N/A");
    return g_string_free(s, FALSE);
}

static bool bulk_precedence(const struct pmsg *m)
{
    g_autofree char *p = pmsg_get(m, "Precedence");
    return p && (g_ascii_strcasecmp(p, "bulk") == 0 || g_ascii_strcasecmp(p, "junk") == 0 ||
                 g_ascii_strcasecmp(p, "list") == 0);
}

static void add_rule_headers(struct post_ctx *c)
{
    g_autofree char *hits = post_join_rules(c->hits);
    g_autofree char *misses = post_join_rules(c->misses);
    if (hits) {
        pmsg_append(c->msg, "X-Mailman-Rule-Hits", hits);
        queue_meta_set(c->meta, "rule_hits", hits);
    }
    if (misses) {
        pmsg_append(c->msg, "X-Mailman-Rule-Misses", misses);
        queue_meta_set(c->meta, "rule_misses", misses);
    }
}

static char *msg_header(const struct pmsg *m, const char *name, const char *dflt)
{
    char *v = pmsg_get(m, name);
    return v ? v : g_strdup(dflt);
}

static int hold(struct runner *r, struct post_ctx *c, char **error_r)
{
    const struct store_list *l = c->list;
    add_rule_headers(c);
    size_t len;
    g_autofree char *raw = pmsg_serialize(c->msg, &len);
    g_autofree char *msgid = msg_header(c->msg, "Message-ID", "n/a");
    g_autofree char *hash = msg_header(c->msg, "Message-ID-Hash", "");
    g_autofree char *subject = msg_header(c->msg, "Subject", "(no subject)");
    const char *sender = c->senders->len ? c->senders->pdata[0] : "";
    g_autofree char *reason = c->reasons->len ? g_strdup(c->reasons->pdata[0]) : g_strdup("N/A");
    g_autofree char *reasons = indented_reasons(c->reasons);
    g_autofree char *token = NULL;
    /* One transaction: a failure (the store locked, say) leaves nothing
     * half-held, and the entry can be handled again. */
    if (store_begin(c->st, error_r) < 0)
        return -1;
    if (post_hold_record(c->st, r->cfg, l, msgid, hash, sender, subject, reason, raw, len, NULL,
                         &token, error_r) < 0) {
        store_rollback(c->st, NULL);
        return -1;
    }
    if (store_commit(c->st, error_r) < 0)
        return -1;
    log_to("vette", LOG_LEVEL_INFO, "HOLD: %s post from %s held, message-id=%s: %s",
           l->fqdn_listname, sender, msgid, reason);

    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "subject", g_strdup(subject));
    g_hash_table_insert(vars, "reasons", g_strdup(reasons));
    g_hash_table_insert(vars, "sender_email", g_strdup(sender));
    const char *host = l->mail_host;
    struct workflow_ctx w = {r->cfg, c->st, r->qroot, 0};
    char *lerr = NULL;
    int may = 0;
    if (*sender && store_list_attr_bool(l, "respond_to_post_requests") &&
        !bulk_precedence(c->msg)) {
        /* Mailman's autorespond_to_sender(): max_autoresponses_per_day */
        may = workflow_autorespond_ok(&w, l, WORKFLOW_RESPONSE_HOLD, sender, &lerr);
        if (may < 0) {
            log_error("in: %s", lerr);
            g_free(lerr);
        }
    }
    if (may > 0) {
        g_autofree char *text = post_template(r->cfg, l, "list:user:notice:hold", vars);
        g_autofree char *from = g_strdup_printf("%s-bounces@%s", l->list_name, host);
        g_autofree char *subj =
            g_strdup_printf("Your message to %s awaits moderator approval", l->fqdn_listname);
        const char *rcpts[] = {sender, NULL};
        size_t n;
        g_autofree char *notice = notice_build(from, rcpts, subj, text, host, &n);
        send_notice(r, l, sender, notice, n);
    }
    if (store_list_attr_bool(l, "admin_immed_notify")) {
        g_autofree char *text = post_template(r->cfg, l, "list:admin:action:post", vars);
        g_autofree char *owner = g_strdup_printf("%s-owner@%s", l->list_name, host);
        g_autofree char *subj =
            g_strdup_printf("%s post from %s requires approval", l->fqdn_listname, sender);
        const char *rcpts[] = {owner, NULL};
        size_t n;
        g_autofree char *notice =
            notice_build_with_message(owner, owner, rcpts, subj, text, raw, len, host, &n);
        /* the third part: the confirmation a moderator can reply to */
        GMimeMessage *nm = gmime_safe_message_parse(notice, n);
        GMimeObject *top = nm ? g_mime_message_get_mime_part(nm) : NULL;
        if (top && GMIME_IS_MULTIPART(top)) {
            GMimeMessage *confirm = g_mime_message_new(TRUE);
            g_autofree char *req = g_strdup_printf("%s-request@%s", l->list_name, host);
            g_autofree char *csubj = g_strdup_printf("confirm %s", token);
            g_mime_object_set_header(GMIME_OBJECT(confirm), "From", req, NULL);
            g_mime_message_set_subject(confirm, csubj, NULL);
            GMimeTextPart *empty = g_mime_text_part_new_with_subtype("plain");
            g_mime_text_part_set_text(empty, "");
            g_mime_message_set_mime_part(confirm, GMIME_OBJECT(empty));
            g_object_unref(empty);
            GMimeMessagePart *mp = g_mime_message_part_new_with_message("rfc822", confirm);
            g_mime_multipart_add(GMIME_MULTIPART(top), GMIME_OBJECT(mp));
            g_object_unref(mp);
            g_object_unref(confirm);
            GMimeFormatOptions *fo = g_mime_format_options_new();
            g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
            char *out = g_mime_object_to_string(GMIME_OBJECT(nm), fo);
            g_mime_format_options_free(fo);
            send_notice(r, l, owner, out, strlen(out));
            g_free(out);
        } else {
            send_notice(r, l, owner, notice, n);
        }
        if (nm)
            g_object_unref(nm);
    }
    g_hash_table_unref(vars);
    return 0;
}

/* Mailman's bounce_message(): the sender gets text and the original, from
 * -owner, under the post's own Subject. */
static void bounce_to_sender(struct runner *r, struct post_ctx *c, const char *text)
{
    const struct store_list *l = c->list;
    if (c->senders->len == 0)
        return;
    const char *sender = c->senders->pdata[0];
    size_t len;
    g_autofree char *raw = pmsg_serialize(c->msg, &len);
    g_autofree char *subject = msg_header(c->msg, "Subject", "(no subject)");
    g_autofree char *owner = g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host);
    const char *rcpts[] = {sender, NULL};
    size_t n;
    g_autofree char *notice =
        notice_build_with_message(owner, NULL, rcpts, subject, text, raw, len, l->mail_host, &n);
    send_notice(r, l, sender, notice, n);
}

static void reject(struct runner *r, struct post_ctx *c)
{
    add_rule_headers(c);
    g_autofree char *msgid = msg_header(c->msg, "Message-ID", "n/a");
    log_to("vette", LOG_LEVEL_INFO, "REJECT: %s", msgid);
    /* Mailman's RejectMessage: the reasons one a line, not indented, and
     * $listname is the display name here. */
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_ptr_array_add(c->reasons, NULL);
    g_hash_table_insert(vars, "reasons",
                        c->reasons->len > 1 ? g_strjoinv("\n", (char **)c->reasons->pdata)
                                            : g_strdup("[No reasons given]"));
    g_ptr_array_remove_index(c->reasons, c->reasons->len - 1);
    g_hash_table_insert(vars, "listname", g_strdup(store_list_attr(c->list, "display_name")));
    g_autofree char *text = post_template(r->cfg, c->list, "list:user:notice:rejected", vars);
    g_hash_table_unref(vars);
    bounce_to_sender(r, c, text);
}

static int add_admin(const struct store_member *m, void *p)
{
    GString *s = p;
    g_string_append_printf(s, "%s%s", s->len ? "\n" : "", m->email);
    return 0;
}

/* mime-delete found the whole post unfit: filter_action decides. */
static void filtered(struct runner *r, struct post_ctx *c, const char *pipeline)
{
    const struct store_list *l = c->list;
    const char *action = store_list_attr(l, "filter_action");
    g_autofree char *msgid = msg_header(c->msg, "Message-ID", "n/a");
    bool reject_it = action && strcmp(action, "reject") == 0;
    log_to("vette", LOG_LEVEL_INFO, "%s %s by \"%s\" pipeline handler \"mime-delete\": %s", msgid,
           reject_it ? "rejected" : "discarded", pipeline, c->rejected);
    if (reject_it) {
        g_autofree char *text = g_strconcat(c->rejected, "\n", NULL);
        bounce_to_sender(r, c, text);
    } else if (action && strcmp(action, "forward") == 0) {
        GString *admins = g_string_new(NULL);
        struct store_roster_filter f = {.list_id = l->list_id,
                                        .role_mask = STORE_MASK(STORE_ROLE_OWNER) |
                                                     STORE_MASK(STORE_ROLE_MODERATOR)};
        char *err = NULL;
        if (store_roster(c->st, &f, add_admin, admins, &err) < 0) {
            log_error("pipeline: %s", err);
            g_free(err);
        }
        if (admins->len) {
            g_autofree char *text = g_strdup_printf(
                "The attached message matched the %s mailing list's content\n"
                "filtering rules and was prevented from being forwarded on to the list\n"
                "membership.  You are receiving the only remaining copy of the discarded\n"
                "message.\n\n",
                store_list_attr(l, "display_name"));
            g_autofree char *owner = g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host);
            g_auto(GStrv) rcpts = g_strsplit(admins->str, "\n", -1);
            size_t len, n;
            g_autofree char *raw = pmsg_serialize(c->msg, &len);
            g_autofree char *notice = notice_build_with_message(
                config_get(r->cfg, "mailman", "site_owner"), owner, (const char *const *)rcpts,
                "Content filter message notification", text, raw, len, l->mail_host, &n);
            send_notice(r, l, admins->str, notice, n);
        }
        g_string_free(admins, TRUE);
    }
    /* preserve: [mailman] filtered_messages_are_preservable is off by
     * default in Mailman, and then preserve discards too. */
}

/* The entry's list, or NULL with the handler's result: a missing listid
 * fails, a store error fails or retries (handled), a list that is gone
 * drops the entry. */
static int entry_list(struct runner *r, struct queue_entry *e, const char *who,
                      struct store_list **l_r, char **error_r)
{
    struct post_state *s = r->state;
    const char *listid = queue_meta_get(e->meta, "listid");
    *l_r = NULL;
    if (listid == NULL) {
        *error_r = g_strdup("no listid in the entry");
        return -1;
    }
    if (store_list_get(s->store, listid, l_r, error_r) < 0)
        return handled(s, -1);
    if (*l_r == NULL) {
        log_error("%s: dropping a message for the missing list %s", who, listid);
        return queue_finish(e, error_r);
    }
    return 0;
}

int runner_in_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct post_state *s = r->state;
    struct store_list *l = NULL;
    int rc0 = entry_list(r, e, "in", &l, error_r);
    if (l == NULL)
        return rc0;
    struct pmsg *m = pmsg_parse(e->msg, e->msg_len);
    /* Mailman's IncomingRunner: the replybot first, for posts and -owner */
    struct workflow_ctx w = {r->cfg, s->store, r->qroot, 0};
    if (workflow_replybot(&w, l, m, e->meta, error_r) < 0) {
        pmsg_free(m);
        store_list_free(l);
        return -1;
    }
    const char *discard_attr = queue_meta_get(e->meta, "to_owner")  ? "autorespond_owner"
                               : queue_meta_get(e->meta, "to_list") ? "autorespond_postings"
                                                                    : NULL;
    const char *action = discard_attr ? store_list_attr(l, discard_attr) : NULL;
    if (action && strcmp(action, "respond_and_discard") == 0) {
        g_autofree char *msgid = msg_header(m, "Message-ID", "n/a");
        log_to("vette", LOG_LEVEL_INFO, "%s %s replied and discarded", msgid,
               queue_meta_get(e->meta, "to_owner") ? "-owner message" : "list post");
        pmsg_free(m);
        store_list_free(l);
        return queue_finish(e, error_r);
    }
    struct post_ctx c;
    post_ctx_init(&c, r->cfg, s->store, l, m, e->meta);
    enum post_verdict v;
    int rc = post_chain_run(&c, &v, error_r);
    if (rc == 0) {
        g_autofree char *msgid = msg_header(m, "Message-ID", "n/a");
        switch (v) {
        case POST_OWNER:
            log_to("vette", LOG_LEVEL_INFO, "OWNER: %s", msgid);
            rc = enqueue(r, "pipeline", e->meta, e->msg, e->msg_len, error_r);
            break;
        case POST_ACCEPT: {
            add_rule_headers(&c);
            size_t len;
            g_autofree char *raw = pmsg_serialize(m, &len);
            log_to("vette", LOG_LEVEL_INFO, "ACCEPT: %s", msgid);
            rc = enqueue(r, "pipeline", e->meta, raw, len, error_r);
            break;
        }
        case POST_DISCARD: {
            g_autofree char *why = c.reasons->len ? g_strdup(c.reasons->pdata[0]) : NULL;
            log_to("vette", LOG_LEVEL_INFO, "DISCARD: %s%s%s", msgid, why ? "; " : "",
                   why ? why : "");
            break;
        }
        case POST_REJECT:
            reject(r, &c);
            break;
        case POST_HOLD:
            rc = hold(r, &c, error_r);
            break;
        }
    }
    if (rc == 0)
        rc = queue_finish(e, error_r);
    post_ctx_clear(&c);
    pmsg_free(m);
    store_list_free(l);
    return handled(s, rc);
}

int runner_pipeline_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct post_state *s = r->state;
    struct store_list *l = NULL;
    int rc0 = entry_list(r, e, "pipeline", &l, error_r);
    if (l == NULL)
        return rc0;
    const char *pipeline = queue_meta_get(e->meta, "pipeline");
    if (pipeline == NULL)
        pipeline = store_list_attr(l, queue_meta_get(e->meta, "to_owner") ? "owner_pipeline"
                                                                          : "posting_pipeline");
    struct pmsg *m = pmsg_parse(e->msg, e->msg_len);
    struct post_ctx c;
    post_ctx_init(&c, r->cfg, s->store, l, m, e->meta);
    struct notice_ud nud = {r, l};
    c.notice = pipeline_notice;
    c.notice_ud = &nud;
    c.enqueue = pipeline_enqueue;
    c.rosters = s->rosters;
    int rc = post_pipeline_run(&c, pipeline, error_r);
    if (rc == 1) {
        filtered(r, &c, pipeline);
        rc = queue_finish(e, error_r);
    } else if (rc == 0) {
        size_t len;
        g_autofree char *raw = pmsg_serialize(m, &len);
        struct queue *out;
        rc = queue_root_get(r->qroot, "out", &out, error_r);
        if (rc == 0)
            rc = queue_requeue(e, out, raw, len, NULL, error_r);
    }
    post_ctx_clear(&c);
    pmsg_free(m);
    store_list_free(l);
    return handled(s, rc);
}

int runner_virgin_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct post_state *s = r->state;
    const char *listid = queue_meta_get(e->meta, "listid");
    struct store_list *l = NULL;
    struct queue *out;
    if (queue_root_get(r->qroot, "out", &out, error_r) < 0)
        return -1;
    if (listid && store_list_get(s->store, listid, &l, error_r) < 0)
        return handled(s, -1);
    if (l == NULL) /* a site notice, or its list is gone: as it is */
        return queue_requeue(e, out, NULL, 0, NULL, error_r);
    struct pmsg *m = pmsg_parse(e->msg, e->msg_len);
    struct post_ctx c;
    post_ctx_init(&c, r->cfg, s->store, l, m, e->meta);
    int rc = post_pipeline_run(&c, "virgin", error_r);
    if (rc == 0) {
        size_t len;
        g_autofree char *raw = pmsg_serialize(m, &len);
        rc = queue_requeue(e, out, raw, len, NULL, error_r);
    }
    post_ctx_clear(&c);
    pmsg_free(m);
    store_list_free(l);
    return handled(s, rc);
}
