/* workflow_autorespond - the autoresponse limit (Mailman's
 * autorespond_to_sender in chains/hold.py), see workflow.h. */
#include "workflow/workflow.h"

#include "config/config.h"
#include "lib/log.h"
#include "mail/notice.h"
#include "post/post.h"
#include "store/store.h"
#include "store/store_workflow.h"
#include "workflow/workflow_mail.h"

#include "queue/queue_meta.h"

#include <glib.h>
#include <string.h>

char *workflow_today(const struct workflow_ctx *w)
{
    int64_t now = w->now ? w->now : g_get_real_time();
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(now / G_USEC_PER_SEC);
    return g_date_time_format(t, "%Y-%m-%d");
}

static int no_more_today(struct workflow_ctx *w, const struct store_list *l, const char *email,
                         int64_t count, char **error_r)
{
    g_autofree char *owner = g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host);
    GHashTable *v = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(v, "count", g_strdup_printf("%" G_GINT64_FORMAT, count));
    g_hash_table_insert(v, "sender_email", g_strdup(email));
    g_hash_table_insert(v, "sender", g_strdup(email));
    g_hash_table_insert(v, "owneremail", g_strdup(owner));
    g_autofree char *raw = post_template(w->cfg, l, "list:user:notice:no-more-today", v);
    g_hash_table_unref(v);
    g_autofree char *text = notice_wrap(raw, 70);
    const char *rcpts[] = {email, NULL};
    return workflow_mail_send(w, l, owner, NULL, rcpts, "Last autoresponse notification for today",
                              text, 0, NULL, error_r);
}

int workflow_autorespond_ok(struct workflow_ctx *w, const struct store_list *l, int kind,
                            const char *email, char **error_r)
{
    long long max = config_get_int(w->cfg, "mta", "max_autoresponses_per_day");
    if (max <= 0)
        return 1; /* unlimited */
    g_autofree char *day = workflow_today(w);
    int64_t count = 0;
    if (store_autoresponse_count(w->st, l->list_id, email, kind, day, &count, error_r) < 0)
        return WORKFLOW_ERR;
    if (count > max) {
        log_info("Automatic response limit discard: %s", email);
        return 0;
    }
    if (store_autoresponse_add(w->st, l->list_id, email, kind, day, error_r) < 0)
        return WORKFLOW_ERR;
    if (count < max)
        return 1;
    /* the last one for today: say so instead */
    log_info("autoresponse limit hit: %s", email);
    return no_more_today(w, l, email, count, error_r) < 0 ? WORKFLOW_ERR : 0;
}

/* Mailman's Replybot handler. */
int workflow_replybot(struct workflow_ctx *w, const struct store_list *l, const struct pmsg *m,
                      const struct queue_meta *meta, char **error_r)
{
    g_autofree char *ack = pmsg_get(m, "X-Ack");
    g_autofree char *precedence = pmsg_get(m, "Precedence");
    bool ack_yes = ack && g_ascii_strcasecmp(ack, "yes") == 0;
    if ((ack && g_ascii_strcasecmp(ack, "no") == 0) || queue_meta_get(meta, "noack"))
        return 0;
    if (!ack_yes && precedence &&
        (g_ascii_strcasecmp(precedence, "bulk") == 0 ||
         g_ascii_strcasecmp(precedence, "junk") == 0 ||
         g_ascii_strcasecmp(precedence, "list") == 0))
        return 0;
    const char *action, *text_attr;
    int kind;
    if (queue_meta_get(meta, "to_owner")) {
        action = "autorespond_owner", text_attr = "autoresponse_owner_text";
        kind = WORKFLOW_RESPONSE_OWNER;
    } else if (queue_meta_get(meta, "to_request")) {
        action = "autorespond_requests", text_attr = "autoresponse_request_text";
        kind = WORKFLOW_RESPONSE_COMMAND;
    } else if (queue_meta_get(meta, "to_list")) {
        action = "autorespond_postings", text_attr = "autoresponse_postings_text";
        kind = WORKFLOW_RESPONSE_POSTINGS;
    } else {
        return 0;
    }
    const char *a = store_list_attr(l, action);
    if (a == NULL || strcmp(a, "none") == 0)
        return 0;
    g_autoptr(GPtrArray) senders = pmsg_senders(m, config_get(w->cfg, "mailman", "sender_headers"));
    if (senders->len == 0)
        return 0;
    const char *sender = senders->pdata[0];
    double grace = store_list_attr_seconds(l, "autoresponse_grace_period");
    if (grace > 0 && !ack_yes) {
        g_autofree char *last = NULL;
        if (store_autoresponse_last(w->st, l->list_id, sender, kind, &last, error_r) < 0)
            return WORKFLOW_ERR;
        g_autofree char *day = workflow_today(w);
        if (last) {
            GDate then, now;
            g_date_clear(&then, 1);
            g_date_clear(&now, 1);
            g_date_set_parse(&then, last);
            g_date_set_parse(&now, day);
            if (g_date_valid(&then) && g_date_valid(&now)) {
                g_date_add_days(&then, (guint)(grace / 86400));
                if (g_date_compare(&then, &now) > 0)
                    return 0;
            }
        }
    }
    const char *display = store_list_attr(l, "display_name");
    g_autofree char *subject =
        g_strdup_printf("Auto-response for your message to the \"%s\" mailing list", display);
    GHashTable *v = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(v, "list_name", g_strdup(l->list_name));
    g_hash_table_insert(v, "display_name", g_strdup(display));
    g_hash_table_insert(v, "requestemail",
                        g_strdup_printf("%s-request@%s", l->list_name, l->mail_host));
    g_hash_table_insert(v, "owneremail",
                        g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host));
    /* expand(text, mlist, d): the list's own variables too */
    g_hash_table_insert(v, "listname", g_strdup(l->fqdn_listname));
    g_hash_table_insert(v, "list_id", g_strdup(l->list_id));
    g_hash_table_insert(v, "short_listname", g_strdup(l->list_name));
    g_hash_table_insert(v, "domain", g_strdup(l->mail_host));
    g_hash_table_insert(v, "description", g_strdup(store_list_attr(l, "description")));
    g_hash_table_insert(v, "info", g_strdup(store_list_attr(l, "info")));
    g_hash_table_insert(v, "request_email",
                        g_strdup_printf("%s-request@%s", l->list_name, l->mail_host));
    g_hash_table_insert(v, "owner_email",
                        g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host));
    g_hash_table_insert(v, "site_email", g_strdup(config_get(w->cfg, "mailman", "site_owner")));
    g_autofree char *expanded = post_substitute(store_list_attr(l, text_attr), v);
    g_hash_table_unref(v);
    g_autofree char *text = notice_wrap(expanded, 70);
    g_autofree char *bounces = g_strdup_printf("%s-bounces@%s", l->list_name, l->mail_host);
    const char *rcpts[] = {sender, NULL};
    int rc = workflow_mail_send(w, l, bounces, NULL, rcpts, subject, text, WORKFLOW_MAIL_REPLYBOT,
                                NULL, error_r);
    g_autofree char *today = workflow_today(w);
    if (rc == 0)
        rc = store_autoresponse_add(w->st, l->list_id, sender, kind, today, error_r);
    return rc < 0 ? WORKFLOW_ERR : 1;
}
