/* runner_bounce - see runner_bounce.h. */
#include "runner/runner_bounce.h"

#include "bounce/bounce.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/regex.h"
#include "mail/notice.h"
#include "post/post.h"
#include "post/pmsg.h"
#include "queue/queue.h"
#include "runner/runner.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

struct bounce_state {
    struct store *store;
    GRegex *verp_re;
    GRegex *probe_re;
};

static const char uncaught_text[] =
    "The attached message was received as a bounce, but either the bounce format\n"
    "was not recognized, or no member addresses could be extracted from it.  This\n"
    "mailing list has been configured to send all unrecognized bounce messages to\n"
    "the list administrator(s).\n";

int runner_bounce_start(struct runner *r, char **error_r)
{
    struct bounce_state *s = g_new0(struct bounce_state, 1);
    r->state = s;
    g_autofree char *url = config_expand(r->cfg, config_get(r->cfg, "database", "url"), NULL);
    if (store_open(url, &s->store, error_r) < 0)
        return -1;
    s->verp_re = regex_compile(config_get(r->cfg, "mta", "verp_regexp"), error_r);
    if (s->verp_re == NULL)
        return -1;
    s->probe_re = regex_compile(config_get(r->cfg, "mta", "verp_probe_regexp"), error_r);
    return s->probe_re ? 0 : -1;
}

void runner_bounce_stop(struct runner *r)
{
    struct bounce_state *s = r->state;
    if (s == NULL)
        return;
    if (s->store)
        store_close(s->store);
    if (s->verp_re)
        g_regex_unref(s->verp_re);
    if (s->probe_re)
        g_regex_unref(s->probe_re);
    g_free(s);
    r->state = NULL;
}

static int add_email(const struct store_member *m, void *ctx)
{
    g_ptr_array_add(ctx, g_strdup(m->email));
    return 0;
}

/* Queues an internal notice for recipients (a NULL-terminated array)
 * through the virgin queue, as Mailman's UserNotification.send() does. */
static void queue_notice(struct runner *r, const struct store_list *l, char **recipients,
                         const char *msg, size_t len)
{
    g_autofree char *joined = g_strjoinv("\n", recipients);
    struct queue_meta *m = queue_meta_new();
    queue_meta_set(m, "listid", l->list_id);
    queue_meta_set(m, "recipients", joined);
    queue_meta_set(m, "nodecorate", "true");
    queue_meta_set(m, "reduced_list_headers", "true");
    struct queue *virgin;
    char *err = NULL;
    if (queue_root_get(r->qroot, "virgin", &virgin, &err) < 0 ||
        queue_enqueue(virgin, m, msg, len, NULL, &err) < 0) {
        log_error("bounces: cannot queue a notice for %s: %s", l->list_id, err);
        g_free(err);
    }
    queue_meta_free(m);
}

/* Mailman's maybe_forward(). */
static void forward(struct runner *r, const struct store_list *l, struct queue_entry *e,
                    const char *message_id)
{
    struct bounce_state *s = r->state;
    const char *how = store_list_attr(l, "forward_unrecognized_bounces_to");
    if (how == NULL || strcmp(how, "discard") == 0) {
        log_to("bounce", LOG_LEVEL_ERROR, "Discarding unrecognized bounce: %s", message_id);
        return;
    }
    const char *site_owner = config_get(r->cfg, "mailman", "site_owner");
    GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *owner_addr = g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host);
    const char *to = site_owner;
    if (strcmp(how, "administrators") == 0) {
        struct store_roster_filter f = {.list_id = l->list_id,
                                        .role_mask = STORE_MASK(STORE_ROLE_OWNER) |
                                                     STORE_MASK(STORE_ROLE_MODERATOR)};
        char *err = NULL;
        if (store_roster(s->store, &f, add_email, rcpts, &err) < 0) {
            log_error("bounces: %s", err);
            g_free(err);
        }
        to = owner_addr;
    }
    if (rcpts->len == 0)
        g_ptr_array_add(rcpts, g_strdup(site_owner));
    g_ptr_array_add(rcpts, NULL);
    size_t len;
    g_autofree char *notice = notice_build_with_message(
        site_owner, to, (const char *const *)rcpts->pdata, "Uncaught bounce notification",
        uncaught_text, e->msg, e->msg_len, l->mail_host, &len);
    queue_notice(r, l, (char **)rcpts->pdata, notice, len);
    g_ptr_array_free(rcpts, TRUE);
}

static char *message_id_of(const char *msg, size_t len)
{
    /* The first Message-ID header of the raw message, for the log and the
     * event (the LMTP runner guarantees there is one). */
    const char *p = msg, *end = msg + len;
    while (p < end && *p != '\n') {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 11 && g_ascii_strncasecmp(p, "Message-ID:", 11) == 0) {
            char *v = g_strndup(p + 11, n - 11);
            return g_strstrip(v);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return g_strdup("n/a");
}

/* ---- scoring (Mailman's BounceProcessor.process_event) ---- */

static int collect_event(const struct store_bounce_event *ev, void *ctx)
{
    struct store_bounce_event *copy = g_new0(struct store_bounce_event, 1);
    *copy = *ev;
    copy->list_id = g_strdup(ev->list_id);
    copy->email = g_strdup(ev->email);
    copy->message_id = g_strdup(ev->message_id);
    g_ptr_array_add(ctx, copy);
    return 0;
}

static void event_free(void *p)
{
    struct store_bounce_event *ev = p;
    g_free(ev->list_id);
    g_free(ev->email);
    g_free(ev->message_id);
    g_free(ev);
}

#define US_PER_DAY (86400LL * 1000000)

static void send_score_notice(struct runner *r, struct bounce_state *s, const struct store_list *l,
                              const struct store_member *m, bool disabled);

/* Mailman's send_probe(): instead of disabling at the threshold (with
 * [mta] verp_probes), the member gets a probe from a VERP'd address
 * carrying a token; if the probe bounces, delivery is disabled. */
static void send_probe(struct runner *r, struct bounce_state *s, const struct store_list *l,
                       const struct store_member *m, const char *message_id)
{
    const char *keys[] = {"member_id", "message_id", "list_id"};
    const char *vals[] = {m->member_id, message_id ? message_id : "", l->list_id};
    g_autofree char *token = NULL;
    char *err = NULL;
    if (store_pending_add(
            s->store, "probe",
            (int64_t)(config_get_duration(r->cfg, "mailman", "pending_request_life") * 1e6), keys,
            vals, G_N_ELEMENTS(keys), &token, &err) < 0) {
        log_error("bounces: cannot send a probe to %s: %s", m->email, err);
        g_free(err);
        return;
    }
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "bounces", g_strdup_printf("%s-bounces", l->list_name));
    g_hash_table_insert(vars, "token", g_strdup(token));
    g_hash_table_insert(vars, "domain", g_strdup(l->mail_host));
    g_autofree char *sender =
        config_expand(r->cfg, config_get(r->cfg, "mta", "verp_probe_format"), vars);
    g_hash_table_remove_all(vars);
    g_hash_table_insert(vars, "sender_email", g_strdup(m->email));
    g_autofree char *text = post_template(r->cfg, l, "list:user:notice:probe", vars);
    g_hash_table_unref(vars);
    g_autofree char *subject =
        g_strdup_printf("%s mailing list probe message", store_list_attr(l, "display_name"));
    size_t len;
    g_autofree char *raw = notice_build(sender, (const char *const[]){m->email, NULL}, subject,
                                        text, l->mail_host, &len);
    /* Probes carry no Precedence header. */
    struct pmsg *pm = pmsg_parse(raw, len);
    pmsg_remove(pm, "Precedence");
    g_autofree char *msg = pmsg_serialize(pm, &len);
    pmsg_free(pm);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set(meta, "recipients", m->email);
    queue_meta_set(meta, "sender", sender);
    queue_meta_set(meta, "verp", "false");
    queue_meta_set(meta, "nodecorate", "true");
    queue_meta_set(meta, "reduced_list_headers", "true");
    struct queue *virgin;
    if (queue_root_get(r->qroot, "virgin", &virgin, &err) < 0 ||
        queue_enqueue(virgin, meta, msg, len, NULL, &err) < 0) {
        log_error("bounces: cannot queue a probe for %s: %s", m->email, err);
        g_free(err);
    }
    queue_meta_free(meta);
    /* Sending a probe resets the score. */
    store_member_set_bounce_info(s->store, m->member_id, 0, m->last_bounce_received,
                                 m->last_warning_sent, m->total_warnings_sent, NULL);
    log_to("bounce", LOG_LEVEL_INFO, "Sent a probe to %s on list %s (token %s)", m->email,
           l->list_id, token);
}

static void disable_by_bounces(struct runner *r, struct bounce_state *s, const struct store_list *l,
                               const struct store_member *m, int score, int64_t when)
{
    /* Disabled by bounces: the warnings count starts over. */
    store_member_set_bounce_info(s->store, m->member_id, score, when, STORE_TIME_MIN, 0, NULL);
    store_member_set_delivery_status(s->store, m->member_id, STORE_DELIVERY_BY_BOUNCES, NULL);
    log_to("bounce", LOG_LEVEL_INFO, "Disabling delivery for member %s on list %s.", m->email,
           l->list_id);
    if (store_list_attr_bool(l, "bounce_notify_owner_on_disable"))
        send_score_notice(r, s, l, m, true);
}

static void score_event(struct runner *r, struct bounce_state *s,
                        const struct store_bounce_event *ev)
{
    struct store_list *l = NULL;
    struct store_member *m = NULL;
    char *err = NULL;
    if (ev->list_id == NULL || store_list_get(s->store, ev->list_id, &l, &err) != 1 ||
        store_member_get_by_email(s->store, l->list_id, ev->email, STORE_ROLE_MEMBER, &m, &err) !=
            1) {
        /* The list is gone or the address is no member: nothing to score. */
        if (err)
            log_error("bounces: %s", err);
        g_free(err);
        log_to("bounce", LOG_LEVEL_INFO, "Bounce message for a non subscriber: %s", ev->email);
        store_list_free(l);
        return;
    }
    if (m->delivery_status == STORE_DELIVERY_BY_BOUNCES) {
        log_to("bounce", LOG_LEVEL_INFO, "Residual bounce received for member %s on list %s.",
               ev->email, l->list_id);
    } else if (m->last_bounce_received != 0 &&
               m->last_bounce_received / US_PER_DAY == ev->timestamp / US_PER_DAY) {
        /* At most one bounce counts per day; only the time is kept. */
        store_member_set_bounce_info(s->store, m->member_id, m->bounce_score, ev->timestamp,
                                     m->last_warning_sent, m->total_warnings_sent, NULL);
    } else {
        double stale = store_list_attr_seconds(l, "bounce_info_stale_after");
        int score = m->last_bounce_received == 0 ||
                            m->last_bounce_received + (int64_t)(stale * 1e6) < ev->timestamp
                        ? 1
                        : m->bounce_score + 1;
        int64_t threshold = store_list_attr_int(l, "bounce_score_threshold");
        log_to("bounce", LOG_LEVEL_INFO, "Member %s on list %s, bounce score: %d.", ev->email,
               l->list_id, score);
        if (store_list_attr_bool(l, "bounce_notify_owner_on_bounce_increment") &&
            (score < threshold || !config_get_bool(r->cfg, "mta", "verp_probes")))
            send_score_notice(r, s, l, m, false);
        if (score >= threshold && config_get_bool(r->cfg, "mta", "verp_probes")) {
            store_member_set_bounce_info(s->store, m->member_id, score, ev->timestamp,
                                         m->last_warning_sent, m->total_warnings_sent, NULL);
            m->last_bounce_received = ev->timestamp;
            send_probe(r, s, l, m, ev->message_id);
        } else if (score >= threshold) {
            disable_by_bounces(r, s, l, m, score, ev->timestamp);
        } else {
            store_member_set_bounce_info(s->store, m->member_id, score, ev->timestamp,
                                         m->last_warning_sent, m->total_warnings_sent, NULL);
        }
    }
    store_member_free(m);
    store_list_free(l);
}

static const char warning_text[] =
    "Your subscription has been disabled on the %s mailing list because it has\n"
    "received a number of bounces indicating that there may be a problem delivering\n"
    "messages to %s. You may want to check with your mail administrator\n"
    "for more help.\n"
    "\n"
    "If you have any questions or problems, you can contact the mailing list owner at\n"
    "\n"
    "    %s-owner@%s\n";

static int collect_member(const struct store_member *m, void *ctx)
{
    g_ptr_array_add(ctx, store_member_dup(m));
    return 0;
}

static void send_warning(struct runner *r, const struct store_list *l, const struct store_member *m)
{
    g_autofree char *raw =
        g_strdup_printf(warning_text, l->fqdn_listname, m->email, l->list_name, l->mail_host);
    g_autofree char *text = notice_wrap(raw, 70);
    g_autofree char *from = g_strdup_printf("%s-bounces@%s", l->list_name, l->mail_host);
    g_autofree char *subject =
        g_strdup_printf("Your subscription for %s mailing list has been disabled",
                        store_list_attr(l, "display_name"));
    char *rcpts[] = {m->email, NULL};
    size_t len;
    g_autofree char *msg =
        notice_build(from, (const char *const *)rcpts, subject, text, l->mail_host, &len);
    queue_notice(r, l, rcpts, msg, len);
}

/* Mailman's OwnerNotification: from the site owner, To: -owner, sent to
 * the owners and moderators (the site owner when there are none). */
static void owner_notice(struct runner *r, struct bounce_state *s, const struct store_list *l,
                         const char *subject, const char *text)
{
    GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
    struct store_roster_filter f = {.list_id = l->list_id,
                                    .role_mask = STORE_MASK(STORE_ROLE_OWNER) |
                                                 STORE_MASK(STORE_ROLE_MODERATOR)};
    char *err = NULL;
    if (store_roster(s->store, &f, add_email, rcpts, &err) < 0) {
        log_error("bounces: %s", err);
        g_free(err);
    }
    const char *site_owner = config_get(r->cfg, "mailman", "site_owner");
    if (rcpts->len == 0)
        g_ptr_array_add(rcpts, g_strdup(site_owner));
    g_ptr_array_add(rcpts, NULL);
    g_autofree char *to = g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host);
    size_t len;
    g_autofree char *msg = notice_build(site_owner, (const char *const[]){to, NULL}, subject, text,
                                        l->mail_host, &len);
    queue_notice(r, l, (char **)rcpts->pdata, msg, len);
    g_ptr_array_free(rcpts, TRUE);
}

static char *member_addr(const struct store_member *m)
{
    return m->display_name && *m->display_name
               ? g_strdup_printf("%s <%s>", m->display_name, m->email)
               : g_strdup(m->email);
}

static void send_removal_notice(struct runner *r, struct bounce_state *s,
                                const struct store_list *l, const struct store_member *m)
{
    g_autofree char *member = member_addr(m);
    g_autofree char *subject =
        g_strdup_printf("%s unsubscribed from %s mailing list due to bounces", member,
                        store_list_attr(l, "display_name"));
    g_autofree char *text = g_strdup_printf(
        "%s has been unsubscribed from %s due to excessive bounces.\n", member, l->fqdn_listname);
    owner_notice(r, s, l, subject, text);
}

/* Mailman's send_admin_disable_notice / send_admin_increment_notice (the
 * triggering DSN is not attached: crier does not keep bounces). */
static void send_score_notice(struct runner *r, struct bounce_state *s, const struct store_list *l,
                              const struct store_member *m, bool disabled)
{
    g_autofree char *member = member_addr(m);
    const char *display = store_list_attr(l, "display_name");
    g_autofree char *subject =
        disabled ? g_strdup_printf("%s's subscription disabled on %s", member, display)
                 : g_strdup_printf("%s's bounce score incremented on %s", member, display);
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "member", g_strdup(member));
    g_autofree char *text = post_template(
        r->cfg, l, disabled ? "list:admin:notice:disable" : "list:admin:notice:increment", vars);
    g_hash_table_unref(vars);
    owner_notice(r, s, l, subject, text);
}

/* Mailman's send_warnings_and_remove(): members disabled by bounces get a
 * warning every bounce_you_are_disabled_warnings_interval until they had
 * bounce_you_are_disabled_warnings of them, then they are removed. */
static void warnings_and_removals(struct runner *r, struct bounce_state *s)
{
    struct store_list **lists = NULL;
    char *err = NULL;
    if (store_list_list(s->store, NULL, false, &lists, &err) < 0) {
        log_error("bounces: %s", err);
        g_free(err);
        return;
    }
    int64_t now = g_get_real_time();
    for (struct store_list **lp = lists; *lp; lp++) {
        const struct store_list *l = *lp;
        if (!store_list_attr_bool(l, "process_bounces"))
            continue;
        GPtrArray *members = g_ptr_array_new_with_free_func((GDestroyNotify)store_member_free);
        struct store_roster_filter f = {.list_id = l->list_id,
                                        .role_mask = STORE_MASK(STORE_ROLE_MEMBER),
                                        .delivery_status_mask =
                                            STORE_MASK(STORE_DELIVERY_BY_BOUNCES)};
        if (store_roster(s->store, &f, collect_member, members, &err) < 0) {
            log_error("bounces: %s", err);
            g_clear_pointer(&err, g_free);
        }
        int64_t warnings = store_list_attr_int(l, "bounce_you_are_disabled_warnings");
        int64_t interval =
            (int64_t)(store_list_attr_seconds(l, "bounce_you_are_disabled_warnings_interval") *
                      1e6);
        for (guint i = 0; i < members->len; i++) {
            const struct store_member *m = members->pdata[i];
            bool due = m->last_warning_sent + interval <= now;
            if (m->total_warnings_sent < warnings) {
                if (!due)
                    continue;
                send_warning(r, l, m);
                store_member_set_bounce_info(s->store, m->member_id, m->bounce_score,
                                             m->last_bounce_received, now,
                                             m->total_warnings_sent + 1, NULL);
                log_to("bounce", LOG_LEVEL_INFO,
                       "Sent membership disabled warning no. %d to %s on %s",
                       m->total_warnings_sent + 1, m->email, l->list_id);
            } else if (due || warnings == 0) {
                if (store_member_remove(s->store, l->list_id, m->email, STORE_ROLE_MEMBER, &err) <
                    0) {
                    log_error("bounces: %s", err);
                    g_clear_pointer(&err, g_free);
                    continue;
                }
                log_to("bounce", LOG_LEVEL_INFO,
                       "Removed %s as a member of %s mailing list due to excessive bounces",
                       m->email, store_list_attr(l, "display_name"));
                if (store_list_attr_bool(l, "bounce_notify_owner_on_removal"))
                    send_removal_notice(r, s, l, m);
            }
        }
        g_ptr_array_unref(members);
    }
    store_listv_free(lists);
}

void runner_bounce_tick(struct runner *r)
{
    struct bounce_state *s = r->state;
    GPtrArray *events = g_ptr_array_new_with_free_func(event_free);
    char *err = NULL;
    /* Read first, then write: no statement stays open across the updates. */
    if (store_bounce_foreach_unprocessed(s->store, collect_event, events, &err) < 0) {
        log_error("bounces: %s", err);
        g_free(err);
    }
    for (guint i = 0; i < events->len; i++) {
        const struct store_bounce_event *ev = events->pdata[i];
        score_event(r, s, ev);
        if (store_bounce_mark_processed(s->store, ev->id, &err) < 0) {
            log_error("bounces: %s", err);
            g_clear_pointer(&err, g_free);
        }
    }
    g_ptr_array_unref(events);
    warnings_and_removals(r, s);
}

/* A bounce of a probe (its token in the VERP'd address): the member's
 * delivery is disabled, as Mailman does for BounceContext.probe. */
static bool probe_bounce(struct runner *r, struct bounce_state *s, const struct store_list *l,
                         const char *msg, size_t len)
{
    g_autofree char *blocal = g_strdup_printf("%s-bounces", l->list_name);
    GHashTable *tokens = bounce_verp_probe(msg, len, s->probe_re, blocal);
    bool any = false;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, tokens);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct store_pending *p = NULL;
        char *err = NULL;
        if (store_pending_get(s->store, k, &p, &err) < 0 || p == NULL ||
            strcmp(p->type, "probe") != 0) {
            g_free(err);
            store_pending_free(p);
            continue;
        }
        const char *member_id = NULL;
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->keys[i], "member_id") == 0)
                member_id = p->values[i];
        struct store_member *m = NULL;
        if (member_id && store_member_get(s->store, member_id, &m, &err) == 1 &&
            strcmp(m->list_id, l->list_id) == 0) {
            log_to("bounce", LOG_LEVEL_INFO, "Probe bounced for %s on list %s", m->email,
                   l->list_id);
            if (m->delivery_status != STORE_DELIVERY_BY_BOUNCES)
                disable_by_bounces(r, s, l, m, m->bounce_score, g_get_real_time());
            any = true;
        }
        g_free(err);
        store_member_free(m);
        store_pending_delete(s->store, k, NULL);
        store_pending_free(p);
    }
    g_hash_table_unref(tokens);
    return any;
}

int runner_bounce_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct bounce_state *s = r->state;
    const char *listid = queue_meta_get(e->meta, "listid");
    struct store_list *l = NULL;
    int rc = listid ? store_list_get(s->store, listid, &l, error_r) : 0;
    if (rc < 0)
        return store_error_temporary(s->store) ? RUNNER_RETRY : -1;
    if (rc == 0) {
        log_to("bounce", LOG_LEVEL_INFO, "bounce for an unknown list %s dropped",
               listid ? listid : "(none)");
        return queue_finish(e, error_r);
    }
    g_autofree char *message_id = message_id_of(e->msg, e->msg_len);
    if (!store_list_attr_bool(l, "process_bounces")) {
        store_list_free(l);
        return queue_finish(e, error_r);
    }
    g_autofree char *blocal = g_strdup_printf("%s-bounces", l->list_name);
    GHashTable *addrs = bounce_verp(e->msg, e->msg_len, s->verp_re, blocal);
    if (g_hash_table_size(addrs) == 0 && probe_bounce(r, s, l, e->msg, e->msg_len)) {
        g_hash_table_unref(addrs);
        store_list_free(l);
        return queue_finish(e, error_r);
    }
    struct bounce_dsn dsn;
    bounce_dsn(e->msg, e->msg_len, &dsn);
    if (g_hash_table_size(dsn.permanent) == 0 && g_hash_table_size(dsn.temporary) == 0)
        bounce_heuristics(e->msg, e->msg_len, dsn.permanent);
    bool forward_it = false;
    if (g_hash_table_size(addrs) > 0) {
        /* A VERP'd warning is dropped; a VERP'd non-DSN (vacation) is
         * forwarded, as Mailman does. */
        if (g_hash_table_size(dsn.temporary) > 0)
            g_hash_table_remove_all(addrs);
        else if (g_hash_table_size(dsn.permanent) == 0) {
            log_to("bounce", LOG_LEVEL_INFO, "VERPed bounce message but not a recognized DSN: %s",
                   message_id);
            g_hash_table_remove_all(addrs);
            forward_it = true;
        }
    } else if (g_hash_table_size(dsn.permanent) > 0) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, dsn.permanent);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_add(addrs, g_strdup(k));
    } else if (g_hash_table_size(dsn.temporary) == 0) {
        log_to("bounce", LOG_LEVEL_INFO, "Bounce message w/no discernable addresses: %s",
               message_id);
        forward_it = true;
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, addrs);
    int64_t now = g_get_real_time();
    /* The events of one bounce in one transaction: a retry after a failure
     * does not register some of them twice. */
    rc = g_hash_table_size(addrs) > 0 ? store_begin(s->store, error_r) : 0;
    bool in_tx = rc >= 0 && g_hash_table_size(addrs) > 0;
    while (rc >= 0 && g_hash_table_iter_next(&it, &k, &v))
        rc = store_bounce_add(s->store, l->list_id, k, now, message_id, STORE_BOUNCE_NORMAL, NULL,
                              error_r);
    if (in_tx && rc < 0)
        store_rollback(s->store, NULL);
    else if (in_tx)
        rc = store_commit(s->store, error_r);
    if (rc >= 0) {
        g_hash_table_iter_init(&it, addrs);
        while (g_hash_table_iter_next(&it, &k, &v))
            log_to("bounce", LOG_LEVEL_INFO, "%s: %s bounce registered (%s)", l->list_id, (char *)k,
                   message_id);
    }
    if (rc >= 0 && forward_it)
        forward(r, l, e, message_id);
    g_hash_table_unref(addrs);
    bounce_dsn_clear(&dsn);
    store_list_free(l);
    if (rc < 0) /* temporary: retried after a back-off; else shunted (unshunt retries) */
        return store_error_temporary(s->store) ? RUNNER_RETRY : -1;
    return queue_finish(e, error_r);
}
