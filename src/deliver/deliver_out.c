/* deliver_out - see deliver_out.h. */
#include "deliver/deliver_out.h"

#include "config/config.h"
#include "deliver/deliver_chunk.h"
#include "deliver/deliver_smtp.h"
#include "deliver/deliver_tls.h"
#include "lib/log.h"
#include "post/post.h"
#include "queue/queue.h"
#include "runner/runner.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

struct out_state {
    struct store *store;
    struct deliver_smtp_options smtp; /* strings borrowed from the config */
    struct deliver_tls_ctx *tls;      /* NULL for plain SMTP */
    struct deliver_smtp_pool *pool;   /* kept open from one entry to the next */
};

static const struct {
    const char *name;
    enum deliver_smtp_security security;
} secure_modes[] = {
    {"smtp", DELIVER_SMTP_PLAIN},
    {"smtps", DELIVER_SMTP_SMTPS},
    {"starttls", DELIVER_SMTP_STARTTLS},
};

int deliver_out_start(struct runner *r, char **error_r)
{
    struct config *cfg = r->cfg;
    struct out_state *s = g_new0(struct out_state, 1);
    r->state = s;
    const char *mode = config_get(cfg, "mta", "smtp_secure_mode");
    for (size_t i = 0; i < G_N_ELEMENTS(secure_modes); i++)
        if (g_ascii_strcasecmp(mode, secure_modes[i].name) == 0)
            s->smtp.security = secure_modes[i].security;
    s->smtp.host = config_get(cfg, "mta", "smtp_host");
    s->smtp.port = (unsigned)config_get_int(cfg, "mta", "smtp_port");
    s->smtp.helo = g_get_host_name();
    /* Tests shorten RFC 5321's timeouts (minutes) to seconds. */
    const char *cap = g_getenv("CRIER_SMTP_TIMEOUT");
    s->smtp.timeout_s = cap ? (unsigned)g_ascii_strtoull(cap, NULL, 10) : 0;
    /* ... or scale them all down, keeping their proportions. */
    const char *div = g_getenv("CRIER_SMTP_TIMEOUT_DIV");
    s->smtp.timeout_div = div ? (unsigned)g_ascii_strtoull(div, NULL, 10) : 0;
    s->smtp.user = config_get(cfg, "mta", "smtp_user");
    s->smtp.pass = config_get(cfg, "mta", "smtp_pass");
    if (s->smtp.security != DELIVER_SMTP_PLAIN) {
        s->tls = deliver_tls_ctx_new(config_get_bool(cfg, "mta", "smtp_verify_cert"),
                                     config_get_bool(cfg, "mta", "smtp_verify_hostname"), error_r);
        if (s->tls == NULL)
            return -1;
        s->smtp.tls = s->tls;
    } else if (*s->smtp.user && *s->smtp.pass) {
        log_warn("out: [mta] smtp_user is set with smtp_secure_mode: smtp, so the password "
                 "goes to %s in clear",
                 s->smtp.host);
    }
    long long conns = config_get_int(cfg, "mta", "max_delivery_threads");
    long long per_conn = config_get_int(cfg, "mta", "max_sessions_per_connection");
    s->pool = deliver_smtp_pool_new(&s->smtp, conns > 0 ? (unsigned)conns : DELIVER_OUT_CONNECTIONS,
                                    per_conn > 0 ? (unsigned)MIN(per_conn, G_MAXUINT) : 0);
    g_autofree char *url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    return store_open(url, &s->store, error_r);
}

void deliver_out_stop(struct runner *r)
{
    struct out_state *s = r->state;
    if (s == NULL)
        return;
    deliver_smtp_pool_free(s->pool);
    deliver_tls_ctx_free(s->tls);
    if (s->store)
        store_close(s->store);
    g_free(s);
    r->state = NULL;
}

/* A [logging.smtp] template line, unless it is "no". */
static void smtp_log(struct runner *r, const char *which, GHashTable *vars)
{
    const char *tmpl = config_get(r->cfg, "logging.smtp", which);
    if (g_ascii_strcasecmp(tmpl, "no") == 0)
        return;
    g_autofree char *line = config_expand(r->cfg, tmpl, vars);
    log_to("smtp", LOG_LEVEL_INFO, "%s", line);
}

static char *header_value(const char *msg, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = msg, *end = msg + len; p < end && *p != '\n';) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > nlen && g_ascii_strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
            return g_strstrip(g_strndup(p + nlen + 1, n - nlen - 1));
        if (!nl)
            break;
        p = nl + 1;
    }
    return g_strdup("n/a");
}

/* Mailman's VERP decision (reference §4.1). */
static bool want_verp(struct runner *r, const struct queue_entry *e, const struct store_list *l)
{
    const char *verp = queue_meta_get(e->meta, "verp");
    if (verp)
        return strcmp(verp, "true") == 0;
    if (l == NULL)
        return false;
    const char *personalize = store_list_attr(l, "personalize");
    if (personalize && strcmp(personalize, "none") != 0)
        return config_get_bool(r->cfg, "mta", "verp_personalized_deliveries");
    long long interval = config_get_int(r->cfg, "mta", "verp_delivery_interval");
    if (interval <= 0)
        return false;
    return interval == 1 || store_list_attr_int(l, "post_id") % interval == 0;
}

static char *verp_sender(struct runner *r, const struct store_list *l, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    if (at == NULL)
        return NULL; /* an unqualified recipient is not VERPed */
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "bounces", g_strdup_printf("%s-bounces", l->list_name));
    g_hash_table_insert(vars, "local", g_strndup(rcpt, (gsize)(at - rcpt)));
    g_hash_table_insert(vars, "domain", g_strdup(at + 1));
    g_autofree char *local = config_expand(r->cfg, config_get(r->cfg, "mta", "verp_format"), vars);
    g_hash_table_unref(vars);
    return g_strdup_printf("%s@%s", local, l->mail_host);
}

struct outcome {
    GPtrArray *temp; /* recipients to retry (borrowed, or owned by `owned`) */
    GPtrArray *owned;
    unsigned refused;
};

static void record(struct runner *r, struct out_state *s, const struct store_list *l,
                   const char *msgid, char *const *rcpts, size_t n,
                   const struct deliver_result *res, struct outcome *o)
{
    for (size_t i = 0; i < n; i++) {
        if (res[i].code / 100 == 2)
            continue;
        o->refused++;
        GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        g_hash_table_insert(vars, "msgid", g_strdup(msgid));
        g_hash_table_insert(vars, "recip", g_strdup(rcpts[i]));
        g_hash_table_insert(vars, "smtpcode", g_strdup_printf("%d", res[i].code));
        g_hash_table_insert(vars, "smtpmsg", g_strdup(res[i].text));
        smtp_log(r, "failure", vars);
        g_hash_table_unref(vars);
        /* §4.3: a code of 500 or more other than 552 is permanent. */
        if (res[i].code >= 500 && res[i].code != 552) {
            char *err = NULL;
            if (l && store_bounce_add(s->store, l->list_id, rcpts[i], g_get_real_time(), msgid,
                                      STORE_BOUNCE_NORMAL, NULL, &err) < 0) {
                log_error("out: %s", err);
                g_free(err);
            }
        } else {
            g_ptr_array_add(o->temp, rcpts[i]);
        }
    }
}

/* Progress (queue_progress_append): transactions are numbered (bulk: the
 * chunks, individual: the recipients) and the recipient list is never
 * rewritten, so the numbers are the same after a restart. A record is
 * zero or more lines "temp <address>" (recipients that failed temporarily
 * since the last record), zero or more lines "tx <i>" (transaction i was
 * answered, out of order), and a line "done <n>" (every transaction below
 * n was answered), which makes the record count: a record cut short by a
 * crash is ignored. Connections answer in any order, so "tx" lines carry
 * the answered transactions that "done" does not cover yet. The first
 * record opens with "unit <how>" ("bulk <max_recipients>" or "each"):
 * the numbers mean something only as long as the transactions are cut
 * the same way, and a restart after max_recipients or the list's
 * personalization changed would otherwise skip recipients nobody sent
 * to. Records under another unit (or none) are ignored: everything is
 * sent again, which repeats but never loses.
 *
 * When: after an answer, once the recipients answered since the last
 * record reach max_recipients (0: after every transaction), or when
 * DELIVER_CHECKPOINT_US has passed. So a crash of crier re-sends at most
 * about one bulk transaction's worth of answered recipients, plus the
 * transactions in flight (up to two per connection with PIPELINING: the
 * one whose message is out and the next one's commands). The record is
 * written at once (it survives the process) but flushed to disk at most
 * every DELIVER_CHECKPOINT_US: a crash of the machine may re-send up to
 * that much more. Flushing each record cost a disk wait per transaction,
 * which bounded a fan-out at a few hundred transactions a second. */
#define DELIVER_CHECKPOINT_US (250 * 1000)

struct progress {
    gint64 last;      /* monotonic time of the last write */
    gint64 synced;    /* monotonic time of the last flushed write */
    guint unsaved;    /* recipients answered since */
    guint max;        /* [mta] max_recipients */
    guint ntx;        /* transactions */
    guint low;        /* every transaction below it is answered */
    guint8 *answered; /* ntx flags: answered, in this run or an earlier one */
    GArray *fresh;    /* guint: transactions answered since the last write */
    guint temp_seen;  /* o->temp entries already written */
    char *unit;       /* how transactions are numbered (above) */
    bool unit_said;   /* the log has a "unit" line for it last */
};

static void checkpoint(struct queue_entry *e, struct outcome *o, struct progress *pg)
{
    gint64 now = g_get_monotonic_time();
    if (pg->unsaved == 0 ||
        (pg->max > 0 && pg->unsaved < pg->max && now - pg->last < DELIVER_CHECKPOINT_US))
        return;
    pg->last = now;
    pg->unsaved = 0;
    GString *lines = g_string_new(NULL);
    if (!pg->unit_said)
        g_string_append_printf(lines, "unit %s\n", pg->unit);
    for (guint i = pg->temp_seen; i < o->temp->len; i++)
        g_string_append_printf(lines, "temp %s\n", (const char *)o->temp->pdata[i]);
    while (pg->low < pg->ntx && pg->answered[pg->low])
        pg->low++;
    for (guint k = 0; k < pg->fresh->len; k++) {
        guint i = g_array_index(pg->fresh, guint, k);
        if (i >= pg->low)
            g_string_append_printf(lines, "tx %u\n", i);
    }
    g_string_append_printf(lines, "done %u", pg->low);
    char *err = NULL;
    bool sync = now - pg->synced >= DELIVER_CHECKPOINT_US;
    if (sync)
        pg->synced = now;
    if (queue_progress_append(e, lines->str, sync, &err) < 0) {
        log_error("out: cannot record progress of %s: %s", e->base, err);
        g_free(err);
    } else {
        pg->temp_seen = o->temp->len;
        pg->unit_said = true;
        g_array_set_size(pg->fresh, 0);
    }
    g_string_free(lines, TRUE);
}

/* What an earlier run of this entry recorded: the transactions to skip and
 * the temporary failures they had; the number of transactions answered. */
static guint resume(const struct queue_entry *e, struct outcome *o, struct progress *pg)
{
    g_autofree char *text = queue_progress_read(e);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GPtrArray *temp = g_ptr_array_new();
    GArray *txs = g_array_new(FALSE, FALSE, sizeof(guint));
    for (char **p = lines; *p; p++) {
        if (g_str_has_prefix(*p, "unit ")) {
            /* What an earlier unit recorded counts no more. */
            pg->unit_said = strcmp(*p + 5, pg->unit) == 0;
            if (!pg->unit_said)
                log_warn("out: %s: progress recorded for transactions cut another way (%s, now "
                         "%s): sending to everyone again",
                         e->base, *p + 5, pg->unit);
            memset(pg->answered, 0, pg->ntx);
            pg->low = 0;
            g_ptr_array_set_size(o->temp, 0);
            g_ptr_array_set_size(o->owned, 0);
        } else if (!pg->unit_said) {
            continue;
        } else if (g_str_has_prefix(*p, "temp ")) {
            g_ptr_array_add(temp, *p + 5);
        } else if (g_str_has_prefix(*p, "tx ")) {
            guint i = (guint)g_ascii_strtoull(*p + 3, NULL, 10);
            g_array_append_val(txs, i);
        } else if (g_str_has_prefix(*p, "done ")) {
            guint64 done = g_ascii_strtoull(*p + 5, NULL, 10);
            /* the lines before count once "done" covers them */
            for (guint i = 0; i < temp->len; i++) {
                char *a = g_strdup(temp->pdata[i]);
                g_ptr_array_add(o->owned, a);
                g_ptr_array_add(o->temp, a);
            }
            for (guint k = 0; k < txs->len; k++)
                if (g_array_index(txs, guint, k) < pg->ntx)
                    pg->answered[g_array_index(txs, guint, k)] = 1;
            for (guint i = pg->low; i < MIN(done, pg->ntx); i++)
                pg->answered[i] = 1;
            pg->low = MAX(pg->low, (guint)MIN(done, pg->ntx));
            g_ptr_array_set_size(temp, 0);
            g_array_set_size(txs, 0);
        }
    }
    g_ptr_array_unref(temp);
    g_array_unref(txs);
    pg->temp_seen = o->temp->len;
    guint n = 0;
    for (guint i = 0; i < pg->ntx; i++)
        n += pg->answered[i];
    return n;
}

/* The transactions of one entry, made as the pool asks for them (an
 * individual copy is built only when a connection is about to take it)
 * and recorded as the MTA answers them. */
struct feed {
    struct runner *r;
    struct out_state *s;
    const struct store_list *l;
    struct queue_entry *e;
    const char *msgid, *sender;
    GPtrArray *rcpts;    /* char * */
    GPtrArray *chunks;   /* bulk: GPtrArray of char *; NULL: one per recipient */
    const GString *bulk; /* bulk: the data block */
    bool verp, full, decorate;
    GHashTable *dups; /* X-Mailman-Copy recipients, or NULL */
    guint next;       /* the next transaction to consider */
    struct outcome *o;
    struct progress *pg;
};

struct feed_txn {
    struct deliver_smtp_txn t; /* first: the pool's view of it */
    guint index;
    char *sender;   /* VERP: owned */
    GString *block; /* an individual copy: owned */
};

static char *individual(struct runner *r, struct out_state *s, const struct store_list *l,
                        const struct queue_entry *e, const char *rcpt, bool decorate, bool full,
                        GHashTable *dups, size_t *len_r);

static struct deliver_smtp_txn *feed_next(void *ud)
{
    struct feed *f = ud;
    while (f->next < f->pg->ntx && f->pg->answered[f->next])
        f->next++;
    if (f->next >= f->pg->ntx)
        return NULL;
    struct feed_txn *ft = g_new0(struct feed_txn, 1);
    ft->index = f->next++;
    if (f->chunks) {
        GPtrArray *chunk = f->chunks->pdata[ft->index];
        ft->t.sender = f->sender;
        ft->t.rcpts = (char *const *)chunk->pdata;
        ft->t.n = chunk->len;
        ft->t.data = f->bulk->str;
        ft->t.data_len = f->bulk->len;
    } else {
        char **rcpt = (char **)&f->rcpts->pdata[ft->index];
        ft->sender = f->verp ? verp_sender(f->r, f->l, *rcpt) : NULL;
        size_t len;
        g_autofree char *copy =
            individual(f->r, f->s, f->l, f->e, *rcpt, f->decorate, f->full, f->dups, &len);
        ft->block = deliver_smtp_data_block(copy, len);
        ft->t.sender = ft->sender ? ft->sender : f->sender;
        ft->t.rcpts = rcpt;
        ft->t.n = 1;
        ft->t.data = ft->block->str;
        ft->t.data_len = ft->block->len;
    }
    ft->t.results = g_new0(struct deliver_result, ft->t.n);
    return &ft->t;
}

static void feed_done(void *ud, struct deliver_smtp_txn *t, const char *error)
{
    struct feed *f = ud;
    struct feed_txn *ft = (struct feed_txn *)t;
    if (error)
        log_to("smtp", LOG_LEVEL_ERROR, "%s: %s", f->msgid, error);
    record(f->r, f->s, f->l, f->msgid, t->rcpts, t->n, t->results, f->o);
    f->pg->answered[ft->index] = 1;
    g_array_append_val(f->pg->fresh, ft->index);
    f->pg->unsaved += (guint)t->n;
    checkpoint(f->e, f->o, f->pg);
    g_free(t->results);
    g_free(ft->sender);
    if (ft->block)
        g_string_free(ft->block, TRUE);
    g_free(ft);
}

/* Mailman's per-recipient substitutions for headers and footers. */
static GHashTable *member_vars(struct out_state *s, const struct store_list *l, const char *rcpt,
                               char **user_name_r)
{
    GHashTable *v = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    struct store_member *m = NULL;
    char *err = NULL;
    if (store_member_get_by_email(s->store, l->list_id, rcpt, STORE_ROLE_MEMBER, &m, &err) < 0) {
        log_error("out: %s", err);
        g_free(err);
    }
    const char *name = m ? (m->display_name ? m->display_name : m->user_display_name) : NULL;
    g_hash_table_insert(v, "member", pmsg_formataddr(name, rcpt));
    g_hash_table_insert(v, "user_email", g_strdup(rcpt));
    g_hash_table_insert(v, "user_delivered_to",
                        g_strdup(m && m->original_email ? m->original_email : rcpt));
    g_hash_table_insert(v, "user_language", g_strdup("English (USA)"));
    g_hash_table_insert(v, "user_name", g_strdup(name ? name : ""));
    g_hash_table_insert(v, "user_name_or_address", g_strdup(name && *name ? name : rcpt));
    g_hash_table_insert(v, "user_address", g_strdup(rcpt));
    *user_name_r =
        m && m->user_id ? g_strdup(m->user_display_name ? m->user_display_name : "") : NULL;
    store_member_free(m);
    return v;
}

/* The copy one recipient gets when messages are individual (VERP or
 * personalize): X-Mailman-Copy, the header and footer with the member's
 * substitutions, and, with full personalization, To: the recipient. */
static char *individual(struct runner *r, struct out_state *s, const struct store_list *l,
                        const struct queue_entry *e, const char *rcpt, bool decorate, bool full,
                        GHashTable *dups, size_t *len_r)
{
    struct pmsg *m = pmsg_parse(e->msg, e->msg_len);
    pmsg_remove(m, "X-Mailman-Copy");
    if (dups && g_hash_table_contains(dups, rcpt))
        pmsg_append(m, "X-Mailman-Copy", "yes");
    g_autofree char *user_name = NULL;
    GHashTable *vars = member_vars(s, l, rcpt, &user_name);
    if (decorate)
        post_decorate(r->cfg, l, m, vars);
    if (full) {
        g_autofree char *to = user_name ? pmsg_formataddr(user_name, rcpt) : g_strdup(rcpt);
        pmsg_remove(m, "To");
        pmsg_append(m, "To", to);
    }
    g_hash_table_unref(vars);
    char *out = pmsg_serialize(m, len_r);
    pmsg_free(m);
    return out;
}

/* Gives the entry its recipient list back, whole again (an address has
 * no NUL, so every NUL is a cut): the runner may still shunt the entry
 * when the handler fails. */
static void put_back_recipients(struct queue_entry *e, char *all, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (all[i] == '\0')
            all[i] = '\n';
    queue_meta_set_owned(e->meta, "recipients", all, len);
}

/* Sets key back to value, or removes it when it had none. */
static void meta_restore(struct queue_meta *meta, const char *key, const char *value)
{
    if (value != NULL)
        queue_meta_set(meta, key, value);
    else
        queue_meta_remove(meta, key);
}

int deliver_out_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct out_state *s = r->state;
    const char *listid = queue_meta_get(e->meta, "listid");
    struct store_list *l = NULL;
    if (listid && store_list_get(s->store, listid, &l, error_r) < 0) /* busy: retry later */
        return store_error_temporary(s->store) ? RUNNER_RETRY : -1;
    /* The list itself, taken from the entry and cut in place: a million
     * recipients are one allocation plus an array of pointers, not a
     * million strings. put_back_recipients returns it to the entry. */
    size_t all_len = 0;
    char *all = queue_meta_steal(e->meta, "recipients", &all_len);
    if (all == NULL)
        all = g_strdup("");
    GPtrArray *rcpts = g_ptr_array_new();
    for (char *p = all, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p)
            g_ptr_array_add(rcpts, p);
        if (!nl)
            break;
    }
    g_autofree char *msgid = header_value(e->msg, e->msg_len, "Message-ID");
    const char *site_owner = config_get(r->cfg, "mailman", "site_owner");
    g_autofree char *bounces =
        l ? g_strdup_printf("%s-bounces@%s", l->list_name, l->mail_host) : g_strdup(site_owner);
    const char *sender = queue_meta_get(e->meta, "sender");
    if (sender == NULL)
        sender = bounces;

    struct outcome o = {g_ptr_array_new(), g_ptr_array_new_with_free_func(g_free), 0};
    gint64 t0 = g_get_monotonic_time();
    guint max = (guint)config_get_int(r->cfg, "mta", "max_recipients");
    /* Decoration happens here, as in Mailman: once for a bulk delivery,
     * per recipient when each gets its own copy (VERP, personalize). */
    const char *pers = l ? store_list_attr(l, "personalize") : NULL;
    bool personalized = pers && strcmp(pers, "none") != 0;
    const char *nodecorate = queue_meta_get(e->meta, "nodecorate");
    const char *dup_meta = queue_meta_get(e->meta, "add_dup_header");
    g_auto(GStrv) dupv = dup_meta ? g_strsplit(dup_meta, "\n", -1) : NULL;
    struct feed f = {.r = r,
                     .s = s,
                     .l = l,
                     .e = e,
                     .msgid = msgid,
                     .sender = sender,
                     .rcpts = rcpts,
                     .decorate = l && !(nodecorate && strcmp(nodecorate, "true") == 0),
                     .o = &o};
    const char *msg = e->msg;
    size_t msg_len = e->msg_len;
    g_autofree char *bulk_msg = NULL;
    GString *bulk = NULL;
    if (l && (personalized || want_verp(r, e, l))) {
        f.full = personalized && strcmp(pers, "full") == 0;
        f.verp = want_verp(r, e, l);
        if (dupv) {
            f.dups = g_hash_table_new(g_str_hash, g_str_equal);
            for (char **p = dupv; *p; p++)
                g_hash_table_add(f.dups, *p);
        }
    } else {
        if (f.decorate) {
            struct pmsg *m = pmsg_parse(e->msg, e->msg_len);
            post_decorate(r->cfg, l, m, NULL);
            bulk_msg = pmsg_serialize(m, &msg_len);
            msg = bulk_msg;
            pmsg_free(m);
        }
        f.chunks = deliver_chunkify((char **)rcpts->pdata, rcpts->len, max);
        bulk = deliver_smtp_data_block(msg, msg_len);
        f.bulk = bulk;
    }
    guint ntx = f.chunks ? f.chunks->len : rcpts->len;
    struct progress pg = {.last = t0,
                          .synced = t0,
                          .max = max,
                          .ntx = ntx,
                          .answered = g_new0(guint8, ntx),
                          .unit = f.chunks ? g_strdup_printf("bulk %u", max) : g_strdup("each"),
                          .fresh = g_array_new(FALSE, FALSE, sizeof(guint))};
    f.pg = &pg;
    guint skip = resume(e, &o, &pg);
    if (skip > 0)
        log_info("out: %s resumes after %u answered transactions", e->base, skip);
    struct deliver_smtp_source src = {feed_next, feed_done, &f};
    deliver_smtp_pool_run(s->pool, &src);
    if (f.dups)
        g_hash_table_unref(f.dups);
    if (f.chunks)
        g_ptr_array_unref(f.chunks);
    if (bulk)
        g_string_free(bulk, TRUE);
    g_free(pg.answered);
    g_free(pg.unit);
    g_array_unref(pg.fresh);
    double secs = (double)(g_get_monotonic_time() - t0) / 1e6;

    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "msgid", g_strdup(msgid));
    g_hash_table_insert(vars, "listname", g_strdup(l ? l->fqdn_listname : "(none)"));
    g_hash_table_insert(vars, "recip", g_strdup_printf("%u", rcpts->len));
    g_hash_table_insert(vars, "time", g_strdup_printf("%.3f", secs));
    g_hash_table_insert(vars, "sender", g_strdup(sender));
    g_hash_table_insert(vars, "size", g_strdup_printf("%zu", e->msg_len));
    g_hash_table_insert(vars, "refused", g_strdup_printf("%u", o.refused));
    smtp_log(r, "every", vars);
    smtp_log(r, o.refused ? "refused" : "success", vars);
    g_hash_table_unref(vars);

    int rc;
    if (o.temp->len == 0) {
        rc = queue_finish(e, error_r);
    } else {
        /* §4.3: retry only the temporary failures, until the period ends. */
        int64_t now = g_get_real_time();
        const char *until = queue_meta_get(e->meta, "deliver_until");
        int64_t deadline =
            until ? g_ascii_strtoll(until, NULL, 10)
                  : now + (int64_t)(config_get_duration(r->cfg, "mta", "delivery_retry_period") *
                                    1e6);
        if (now > deadline) {
            log_to("smtp", LOG_LEVEL_INFO,
                   "Discarding message with persistent temporary failures: %s", msgid);
            rc = queue_finish(e, error_r);
        } else {
            g_ptr_array_add(o.temp, NULL);
            g_autofree char *left = g_strjoinv("\n", (char **)o.temp->pdata);
            g_autofree char *dl = g_strdup_printf("%" G_GINT64_FORMAT, deadline);
            /* Should the retry entry not be written, the entry stays as it
             * came (the runner shunts it): its marks are undone below and
             * put_back_recipients gives it its whole list again. */
            g_autofree char *until_was = g_strdup(until);
            g_autofree char *nodecorate_was = g_strdup(queue_meta_get(e->meta, "nodecorate"));
            queue_meta_set(e->meta, "recipients", left);
            queue_meta_set(e->meta, "deliver_until", dl);
            /* A bulk message goes to retry as it was sent, decorated once;
             * individual copies are made again next time. */
            if (bulk_msg)
                queue_meta_set(e->meta, "nodecorate", "true");
            struct queue *retry;
            rc = queue_root_get(r->qroot, "retry", &retry, error_r);
            if (rc == 0)
                rc = queue_requeue(e, retry, bulk_msg, bulk_msg ? msg_len : 0, NULL, error_r);
            if (rc == 0) {
                g_clear_pointer(&all, g_free); /* replaced by what is left */
            } else {
                meta_restore(e->meta, "deliver_until", until_was);
                meta_restore(e->meta, "nodecorate", nodecorate_was);
            }
        }
    }
    g_ptr_array_free(o.temp, TRUE);
    g_ptr_array_unref(o.owned);
    g_ptr_array_free(rcpts, TRUE);
    if (all != NULL)
        put_back_recipients(e, all, all_len);
    store_list_free(l);
    return rc;
}
