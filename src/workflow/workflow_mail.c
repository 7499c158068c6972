/* workflow_mail - see workflow_mail.h. */
#include "workflow/workflow_mail.h"

#include "config/config.h"
#include "mail/notice.h"
#include "post/pmsg.h"
#include "post/post.h"
#include "queue/queue.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

int workflow_mail_send(struct workflow_ctx *w, const struct store_list *l, const char *from,
                       const char *to_header, const char *const *rcpts, const char *subject,
                       const char *text, unsigned flags, const char *envsender, char **error_r)
{
    const char *single[] = {to_header, NULL};
    size_t len;
    g_autofree char *raw =
        notice_build(from, to_header ? single : rcpts, subject, text, l->mail_host, &len);
    if (flags & (WORKFLOW_MAIL_NO_PRECEDENCE | WORKFLOW_MAIL_AUTO_SUBMITTED |
                 WORKFLOW_MAIL_NO_ARCHIVE | WORKFLOW_MAIL_REPLYBOT)) {
        struct pmsg *m = pmsg_parse(raw, len);
        if (flags & WORKFLOW_MAIL_NO_PRECEDENCE)
            pmsg_remove(m, "Precedence");
        if (flags & WORKFLOW_MAIL_AUTO_SUBMITTED) {
            pmsg_remove(m, "Auto-Submitted");
            pmsg_append(m, "Auto-Submitted", "auto-generated");
        }
        if (flags & WORKFLOW_MAIL_NO_ARCHIVE)
            pmsg_append(m, "X-No-Archive", "yes");
        if (flags & WORKFLOW_MAIL_REPLYBOT) {
            pmsg_append(m, "X-Mailer", "The Mailman Replybot");
            pmsg_append(m, "X-Ack", "No");
        }
        g_free(raw);
        raw = pmsg_serialize(m, &len);
        pmsg_free(m);
    }
    struct queue *virgin;
    if (queue_root_get(w->qroot, "virgin", &virgin, error_r) < 0)
        return -1;
    g_autofree char *recipients = g_strjoinv("\n", (char **)rcpts);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set(meta, "recipients", recipients);
    queue_meta_set(meta, "nodecorate", "true");
    queue_meta_set(meta, "reduced_list_headers", "true");
    if (flags & WORKFLOW_MAIL_VERP)
        queue_meta_set(meta, "verp",
                       config_get_bool(w->cfg, "mta", "verp_personalized_deliveries") ? "true"
                                                                                      : "false");
    if (envsender)
        queue_meta_set(meta, "envsender", envsender);
    int rc = queue_enqueue(virgin, meta, raw, len, NULL, error_r);
    queue_meta_free(meta);
    return rc < 0 ? -1 : 0;
}

static char *addr(const struct store_list *l, const char *suffix)
{
    return g_strdup_printf("%s%s@%s", l->list_name, suffix, l->mail_host);
}

static GHashTable *vars_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
}

int workflow_mail_confirmation(struct workflow_ctx *w, const struct store_list *l,
                               enum workflow_confirm_kind kind, const char *token,
                               const char *email, char **error_r)
{
    static const char *const templates[] = {
        [WORKFLOW_CONFIRM_JOIN] = "list:user:action:subscribe",
        [WORKFLOW_CONFIRM_LEAVE] = "list:user:action:unsubscribe",
        [WORKFLOW_CONFIRM_INVITE] = "list:user:action:invite",
    };
    g_autofree char *subject =
        kind == WORKFLOW_CONFIRM_INVITE
            ? g_strdup_printf("You have been invited to join the %s mailing list.",
                              l->fqdn_listname)
            : g_strdup_printf("Your confirmation is needed to %s the %s mailing list.",
                              kind == WORKFLOW_CONFIRM_LEAVE ? "leave" : "join", l->fqdn_listname);
    /* [mta] verp_confirm_format: "$address+$cookie" */
    GHashTable *fv = vars_new();
    g_hash_table_insert(fv, "address", g_strdup_printf("%s-confirm", l->list_name));
    g_hash_table_insert(fv, "cookie", g_strdup(token));
    g_autofree char *local = post_substitute(config_get(w->cfg, "mta", "verp_confirm_format"), fv);
    g_hash_table_unref(fv);
    g_autofree char *confirm = g_strdup_printf("%s@%s", local, l->mail_host);
    g_autofree char *owner = addr(l, "-owner");
    GHashTable *v = vars_new();
    g_hash_table_insert(v, "token", g_strdup(token));
    g_hash_table_insert(v, "subject", g_strdup(subject));
    g_hash_table_insert(v, "confirm_email", g_strdup(confirm));
    g_hash_table_insert(v, "confirm_address", g_strdup(confirm));
    g_hash_table_insert(v, "user_email", g_strdup(email));
    g_hash_table_insert(v, "email_address", g_strdup(email));
    g_hash_table_insert(v, "domain_name", g_strdup(l->mail_host));
    g_hash_table_insert(v, "contact_address", g_strdup(owner));
    g_autofree char *text = post_template(w->cfg, l, templates[kind], v);
    g_hash_table_unref(v);
    const char *from = confirm;
    g_autofree char *request = NULL;
    if (!config_get_bool(w->cfg, "mta", "verp_confirmations")) {
        g_free(subject);
        subject = g_strdup_printf("confirm %s", token);
        from = request = addr(l, "-request");
    }
    const char *rcpts[] = {email, NULL};
    return workflow_mail_send(w, l, from, NULL, rcpts, subject, text,
                              WORKFLOW_MAIL_NO_PRECEDENCE | WORKFLOW_MAIL_AUTO_SUBMITTED, NULL,
                              error_r);
}

int workflow_mail_moderators(struct workflow_ctx *w, const struct store_list *l, bool leave,
                             const char *email, const char *display_name, char **error_r)
{
    const char *display = store_list_attr(l, "display_name");
    g_autofree char *subject = g_strdup_printf("New %ssubscription request to %s from %s",
                                               leave ? "un" : "", display, email);
    GHashTable *v = vars_new();
    g_hash_table_insert(v, "member",
                        display_name && *display_name
                            ? g_strdup_printf("%s <%s>", display_name, email)
                            : g_strdup(email));
    g_autofree char *raw = post_template(
        w->cfg, l, leave ? "list:admin:action:unsubscribe" : "list:admin:action:subscribe", v);
    g_hash_table_unref(v);
    g_autofree char *text = notice_wrap(raw, 70);
    g_autofree char *owner = addr(l, "-owner");
    const char *rcpts[] = {owner, NULL};
    return workflow_mail_send(w, l, owner, NULL, rcpts, subject, text, 0, NULL, error_r);
}

int workflow_mail_welcome(struct workflow_ctx *w, const struct store_list *l, const char *email,
                          const char *display_name, bool digest, char **error_r)
{
    const char *display = store_list_attr(l, "display_name");
    g_autofree char *request = addr(l, "-request");
    /* Mailman fills the template before it substitutes; the display name
     * is the one variable of the filled part of the default text. */
    GHashTable *v = vars_new();
    g_hash_table_insert(v, "display_name", g_strdup("$display_name"));
    g_autofree char *raw = post_template(w->cfg, l, "list:user:notice:welcome", v);
    g_hash_table_unref(v);
    g_autofree char *filled = notice_wrap(raw, 70);
    v = vars_new();
    g_hash_table_insert(v, "display_name", g_strdup(display));
    g_hash_table_insert(v, "user_name", g_strdup(display_name ? display_name : ""));
    g_hash_table_insert(v, "user_email", g_strdup(email));
    g_hash_table_insert(v, "user_address", g_strdup(email));
    g_hash_table_insert(v, "fqdn_listname", g_strdup(l->fqdn_listname));
    g_hash_table_insert(v, "list_name", g_strdup(display));
    g_hash_table_insert(v, "list_requests", g_strdup(request));
    g_autofree char *text = post_substitute(filled, v);
    g_hash_table_unref(v);
    g_autofree char *subject = g_strdup_printf("Welcome to the \"%s\" mailing list%s", display,
                                               digest ? " (Digest mode)" : "");
    g_autofree char *to = pmsg_formataddr(display_name, email);
    const char *rcpts[] = {email, NULL};
    return workflow_mail_send(w, l, request, to, rcpts, subject, text,
                              WORKFLOW_MAIL_NO_ARCHIVE | WORKFLOW_MAIL_VERP, NULL, error_r);
}

int workflow_mail_goodbye(struct workflow_ctx *w, const struct store_list *l, const char *email,
                          char **error_r)
{
    const char *display = store_list_attr(l, "display_name");
    g_autofree char *request = addr(l, "-request");
    g_autofree char *bounces = addr(l, "-bounces");
    GHashTable *v = vars_new();
    g_hash_table_insert(v, "user_email", g_strdup(email));
    g_hash_table_insert(v, "user_address", g_strdup(email));
    g_hash_table_insert(v, "fqdn_listname", g_strdup(l->fqdn_listname));
    g_hash_table_insert(v, "list_name", g_strdup(display));
    g_hash_table_insert(v, "list_requests", g_strdup(request));
    g_autofree char *raw = post_template(w->cfg, l, "list:user:notice:goodbye", v);
    g_hash_table_unref(v);
    g_autofree char *text = notice_wrap(raw, 70);
    g_autofree char *subject =
        g_strdup_printf("You have been unsubscribed from the %s mailing list", display);
    const char *rcpts[] = {email, NULL};
    return workflow_mail_send(w, l, bounces, NULL, rcpts, subject, text, WORKFLOW_MAIL_VERP, NULL,
                              error_r);
}

static int collect_admin(const struct store_member *m, void *ctx)
{
    g_ptr_array_add(ctx, g_strdup(m->email));
    return 0;
}

int workflow_mail_mchange(struct workflow_ctx *w, const struct store_list *l, bool leave,
                          const char *email, const char *display_name, char **error_r)
{
    const char *display = store_list_attr(l, "display_name");
    g_autofree char *subject =
        g_strdup_printf("%s %ssubscription notification", display, leave ? "un" : "");
    GHashTable *v = vars_new();
    g_hash_table_insert(v, "member", pmsg_formataddr(display_name, email));
    g_autofree char *text = post_template(
        w->cfg, l, leave ? "list:admin:notice:unsubscribe" : "list:admin:notice:subscribe", v);
    g_hash_table_unref(v);
    /* OwnerNotification: from the site owner to the list's administrators,
     * shown as sent to -owner */
    GPtrArray *admins = g_ptr_array_new_with_free_func(g_free);
    struct store_roster_filter f = {
        .list_id = l->list_id,
        .role_mask = STORE_MASK(STORE_ROLE_OWNER) | STORE_MASK(STORE_ROLE_MODERATOR),
    };
    int rc = store_roster(w->st, &f, collect_admin, admins, error_r);
    if (rc == 0 && admins->len > 0) {
        g_ptr_array_add(admins, NULL);
        const char *site = config_get(w->cfg, "mailman", "site_owner");
        g_autofree char *owner = addr(l, "-owner");
        rc = workflow_mail_send(w, l, site, owner, (const char *const *)admins->pdata, subject,
                                text, 0, site, error_r);
    }
    g_ptr_array_unref(admins);
    return rc < 0 ? -1 : 0;
}

int workflow_mail_refuse(struct workflow_ctx *w, const struct store_list *l, const char *email,
                         const char *request, const char *reason, char **error_r)
{
    GHashTable *v = vars_new();
    g_hash_table_insert(v, "reason", g_strdup(reason));
    g_hash_table_insert(v, "request", g_strdup(request));
    g_hash_table_insert(v, "adminaddr", addr(l, "-owner"));
    g_autofree char *raw = post_template(w->cfg, l, "list:user:notice:refuse", v);
    g_hash_table_unref(v);
    g_autofree char *text = notice_wrap(raw, 70);
    g_autofree char *subject = g_strdup_printf("Request to mailing list \"%s\" rejected",
                                               store_list_attr(l, "display_name"));
    g_autofree char *bounces = addr(l, "-bounces");
    const char *rcpts[] = {email, NULL};
    return workflow_mail_send(w, l, bounces, NULL, rcpts, subject, text, 0, NULL, error_r);
}
