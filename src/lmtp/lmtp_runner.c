/* lmtp_runner - see lmtp_runner.h. */
#include "lmtp/lmtp_runner.h"

#include "config/config.h"
#include "lib/log.h"
#include "lmtp/lmtp_intake.h"
#include "lmtp/lmtp_route.h"
#include "proto/lmtp_server.h"
#include "queue/queue.h"
#include "queue/queue_batch.h"
#include "runner/runner.h"
#include "store/store.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <glib.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LMTP_TEXT_OK  "2.0.0 Ok"
#define LMTP_TEXT_550 "5.1.1 Requested action not taken: mailbox unavailable"
#define LMTP_TEXT_451 "4.3.0 Requested action aborted: error in processing"

/* One DATA waiting for the group commit. */
struct lmtp_pending {
    struct lmtp_delivery *delivery;
    size_t n;
    struct lmtp_reply *replies; /* n; 0 code = waits for entry index[i] */
    size_t *index;
    GByteArray *msg; /* the edited message, borrowed by the batch */
};

/* A sync thread and the batch it commits. The loop hands the collecting
 * batch to an idle slot at once. What arrives while every slot is busy
 * waits in the collecting batch. When a thread's syncs run side by side
 * (small batches), it takes what is waiting as its next batch as they
 * start (claim_next), writes those files while they run (write_ahead),
 * and once its batch is durable commits the next one, or else what
 * arrived meanwhile, at once, without waiting for the loop, which answers
 * the synced batch meanwhile. */
struct sync_slot {
    struct lmtp_runner_state *s;
    pthread_t thread;
    bool started;
    pthread_cond_t wake;
    struct queue_batch *batch; /* being committed; NULL when idle */
    GPtrArray *pending;        /* struct lmtp_pending of batch */
    struct queue_batch *next;  /* taken while batch syncs; only when busy */
    GPtrArray *next_pending;
    bool asked; /* claim_next was asked during this commit */
};

struct lmtp_runner_state {
    struct runner *r;
    struct lmtp_server *server;
    struct store *store;
    /* The group commit runs in sync threads so the loop keeps serving the
     * other sessions meanwhile. lock guards the collecting batch, every
     * slot's batches and synced. */
    pthread_mutex_t lock;
    struct queue_batch *batch; /* collecting */
    GPtrArray *pending;        /* struct lmtp_pending of the collecting batch */
    GPtrArray *synced;         /* batch, its pending, ...: committed, to answer */
    struct event *commit_ev;
    struct sync_slot *slots;
    unsigned nslots;
    bool quit, lock_ready;
    uint64_t commits, written_ahead; /* for the log at stop */
    int done_fd;                     /* eventfd: a batch was synced */
    struct event *done_ev;
    char *hostname;
    char *db_url;
    const char *site_owner;
    struct lmtp_route_lookup lookup;
    GHashTable *names;   /* fqdn_listname set */
    GHashTable *aliases; /* alias_domain → mail_host */
    int64_t generation;  /* of the store when names were read */
};

/* Opens the store if that failed before (at start, or since): the runner
 * serves even when the database cannot be read, answering 451 meanwhile. */
static bool store_ready(struct lmtp_runner_state *s)
{
    if (s->store != NULL)
        return true;
    char *err = NULL;
    if (store_open(s->db_url, &s->store, &err) < 0) {
        log_error("lmtp: cannot open the database: %s", err);
        g_free(err);
        return false;
    }
    log_info("lmtp: database opened");
    return true;
}

/* The list names and alias domains, reloaded only when the store changed
 * since (another process created or removed a list): a list created while
 * the daemon runs is reachable at once, and an RCPT costs one cheap query.
 * When the store cannot be read, the names read last are kept; false when
 * there are none (a runner that never could read them), and then no
 * recipient can be judged: the caller answers 451, not 550, so that the MTA
 * tries again rather than bouncing mail for an existing list. */
static bool refresh_names(struct lmtp_runner_state *s)
{
    int64_t gen = 0;
    char *err = NULL;
    if (!store_ready(s))
        return s->names != NULL;
    if (store_generation(s->store, &gen, &err) < 0) {
        log_error("lmtp: %s", err);
        g_free(err);
        return s->names != NULL; /* keep the names we have */
    }
    if (s->names != NULL && gen == s->generation)
        return true;
    char **names = NULL, **aliases = NULL;
    if (store_list_names(s->store, &names, &aliases, &err) < 0) {
        log_error("lmtp: cannot read the list names: %s", err);
        g_free(err);
        return s->names != NULL;
    }
    if (s->names)
        g_hash_table_unref(s->names);
    if (s->aliases)
        g_hash_table_unref(s->aliases);
    s->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (size_t i = 0; names[i]; i++) {
        if (*aliases[i]) {
            const char *host = strchr(names[i], '@') + 1;
            g_hash_table_replace(s->aliases, g_ascii_strdown(aliases[i], -1), g_strdup(host));
        }
        g_hash_table_add(s->names, g_strdup(names[i]));
    }
    g_strfreev(names);
    g_strfreev(aliases);
    s->generation = gen;
    return true;
}

static bool lookup_list(void *ctx, const char *fqdn)
{
    struct lmtp_runner_state *s = ctx;
    return s->names && g_hash_table_contains(s->names, fqdn);
}

static const char *lookup_alias(void *ctx, const char *domain)
{
    struct lmtp_runner_state *s = ctx;
    return s->aliases ? g_hash_table_lookup(s->aliases, domain) : NULL;
}

static void on_rcpt(void *ctx, const struct lmtp_session_info *info, const char *sender,
                    const char *recipient, struct lmtp_reply *reply_r)
{
    struct lmtp_runner_state *s = ctx;
    struct lmtp_route route;
    if (!refresh_names(s))
        lmtp_reply_set(reply_r, 451, LMTP_TEXT_451);
    else if (lmtp_route_resolve(&s->lookup, recipient, &route) == 1)
        lmtp_reply_set(reply_r, 250, "2.1.5 Ok");
    else
        lmtp_reply_set(reply_r, 550, LMTP_TEXT_550);
}

static void pending_free(void *p)
{
    struct lmtp_pending *pd = p;
    g_free(pd->replies);
    g_free(pd->index);
    if (pd->msg)
        g_byte_array_unref(pd->msg);
    g_free(pd);
}

/* The metadata Mailman's LMTP runner gives an entry (reference §2). */
static struct queue_meta *entry_meta(struct lmtp_runner_state *s, const struct lmtp_route *route,
                                     size_t original_size, const char *received)
{
    struct queue_meta *m = queue_meta_new();
    g_autofree char *list_id = g_strdup(route->fqdn);
    *strchr(list_id, '@') = '.';
    queue_meta_set(m, "listid", list_id);
    queue_meta_set_uint(m, "original_size", original_size);
    queue_meta_set(m, "received_time", received);
    const char *sub = lmtp_route_subaddress(route->sub);
    if (sub)
        queue_meta_set(m, "subaddress", sub);
    switch (route->sub) {
    case LMTP_SUB_POST:
        queue_meta_set(m, "to_list", "true");
        break;
    case LMTP_SUB_OWNER:
        queue_meta_set(m, "to_owner", "true");
        queue_meta_set(m, "envsender", s->site_owner);
        break;
    case LMTP_SUB_REQUEST:
        queue_meta_set(m, "to_request", "true");
        break;
    default:
        break;
    }
    return m;
}

static void on_deliver(void *ctx, struct lmtp_delivery *delivery, const struct lmtp_message *msg)
{
    struct lmtp_runner_state *s = ctx;
    struct lmtp_pending *pd = g_new0(struct lmtp_pending, 1);
    pd->delivery = delivery;
    pd->n = msg->n_recipients;
    pd->replies = g_new0(struct lmtp_reply, pd->n);
    pd->index = g_new0(size_t, pd->n);
    char hash[MSGID_HASH_LEN + 1];
    const char *why = NULL;
    if (lmtp_intake_prepare(msg->data, msg->len, msg->sender, s->hostname, &pd->msg, hash, &why) <
        0) {
        /* RFC 2033 §4.2: one reply per recipient, even for a bad message. */
        for (size_t i = 0; i < pd->n; i++)
            lmtp_reply_set(&pd->replies[i], 501, "5.6.0 %s", why);
        log_info("lmtp: session %llu: refused a message from <%s>: %s",
                 (unsigned long long)msg->session_id, msg->sender, why);
        lmtp_session_data_done(delivery, pd->replies, pd->n);
        pending_free(pd);
        return;
    }
    bool known = refresh_names(s);
    GDateTime *now = g_date_time_new_now_utc();
    g_autofree char *received = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%f");
    g_date_time_unref(now);
    /* Resolved first, added together: a sync thread may take the
     * collecting batch whenever the lock is free. */
    g_autofree struct queue **qs = g_new0(struct queue *, pd->n);
    g_autofree struct queue_meta **metas = g_new0(struct queue_meta *, pd->n);
    for (size_t i = 0; i < pd->n; i++) {
        struct lmtp_route route;
        struct queue *q = NULL;
        char *err = NULL;
        if (!known) {
            lmtp_reply_set(&pd->replies[i], 451, LMTP_TEXT_451);
            continue;
        }
        /* Mailman resolves again at DATA: the list may be gone by now. */
        if (lmtp_route_resolve(&s->lookup, msg->recipients[i], &route) != 1) {
            lmtp_reply_set(&pd->replies[i], 550, LMTP_TEXT_550);
            continue;
        }
        if (queue_root_get(s->r->qroot, lmtp_route_queue(route.sub), &q, &err) < 0) {
            log_error("lmtp: %s", err);
            g_free(err);
            lmtp_reply_set(&pd->replies[i], 451, LMTP_TEXT_451);
            continue;
        }
        qs[i] = q;
        metas[i] = entry_meta(s, &route, msg->size, received);
    }
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < pd->n; i++)
        if (metas[i] != NULL)
            pd->index[i] = queue_batch_add(s->batch, qs[i], metas[i], pd->msg->data, pd->msg->len);
    g_ptr_array_add(s->pending, pd);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < pd->n; i++)
        queue_meta_free(metas[i]);
    /* Commit once the loop has served every session that is ready now. */
    event_active(s->commit_ev, EV_TIMEOUT, 0);
}

/* Moves the collecting batch to *batch_r (lock held); false when it is
 * empty. */
static bool take_collecting(struct lmtp_runner_state *s, struct queue_batch **batch_r,
                            GPtrArray **pending_r)
{
    if (s->pending->len == 0)
        return false;
    *batch_r = s->batch;
    *pending_r = s->pending;
    s->batch = queue_batch_new(s->r->qroot);
    s->pending = g_ptr_array_new_with_free_func(pending_free);
    return true;
}

/* Asked by a sync thread while its batch's syncs start: what has arrived
 * since becomes its next batch, whose files it writes meanwhile
 * (write_ahead). Not while a slot is idle: the loop is about to hand the
 * batch to it. */
static bool claim_next(void *arg)
{
    struct sync_slot *sl = arg;
    struct lmtp_runner_state *s = sl->s;
    pthread_mutex_lock(&s->lock);
    sl->asked = true;
    bool idle = false;
    for (unsigned k = 0; k < s->nslots; k++)
        idle = idle || s->slots[k].batch == NULL;
    if (sl->next == NULL && !idle && take_collecting(s, &sl->next, &sl->next_pending))
        s->written_ahead++;
    bool claimed = sl->next != NULL;
    pthread_mutex_unlock(&s->lock);
    return claimed;
}

/* Only this thread sets or reads its slot's next outside the lock. */
static void write_ahead(void *arg)
{
    struct sync_slot *sl = arg;
    queue_batch_prewrite(sl->next);
}

static void *syncer_main(void *arg)
{
    struct sync_slot *sl = arg;
    struct lmtp_runner_state *s = sl->s;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        /* Wait for a batch (or for the end). */
        while (sl->batch == NULL) {
            if (s->quit) {
                pthread_mutex_unlock(&s->lock);
                return NULL;
            }
            pthread_cond_wait(&sl->wake, &s->lock);
        }
        struct queue_batch *batch = sl->batch;
        s->commits++;
        struct sync_meanwhile mw = {claim_next, write_ahead, sl};
        queue_batch_set_meanwhile(batch, &mw);
        pthread_mutex_unlock(&s->lock);
        queue_batch_commit(batch);
        pthread_mutex_lock(&s->lock);
        g_ptr_array_add(s->synced, batch);
        g_ptr_array_add(s->synced, sl->pending);
        /* Straight on with the batch written ahead, else with what arrived
         * meanwhile, but only after a small batch (its syncs side by
         * side, claim_next asked): at many connections, batches are
         * large, the CPU is the limit, and waiting for the loop
         * (on_synced) makes them larger still, which saves more than the
         * wait costs. */
        sl->batch = sl->next;
        sl->pending = sl->next_pending;
        sl->next = NULL;
        sl->next_pending = NULL;
        if (sl->batch == NULL && sl->asked)
            take_collecting(s, &sl->batch, &sl->pending);
        sl->asked = false;
        pthread_mutex_unlock(&s->lock);
        /* Outside the lock, which the loop takes first thing on waking. */
        uint64_t one = 1;
        if (write(s->done_fd, &one, sizeof one) < 0)
            log_error("lmtp: eventfd: %s", g_strerror(errno));
        pthread_mutex_lock(&s->lock);
    }
}

/* Answers every delivery of a synced batch. */
static void answer(struct queue_batch *batch, GPtrArray *pending)
{
    size_t failed = 0;
    for (guint p = 0; p < pending->len; p++) {
        struct lmtp_pending *pd = pending->pdata[p];
        for (size_t i = 0; i < pd->n; i++) {
            if (pd->replies[i].code != 0)
                continue;
            const char *base = NULL, *err = NULL;
            if (queue_batch_result(batch, pd->index[i], &base, &err) == 0) {
                lmtp_reply_set(&pd->replies[i], 250, LMTP_TEXT_OK);
                continue;
            }
            failed++;
            log_error("lmtp: cannot queue a message: %s", err ? err : "?");
            /* RFC 3463: 4.3.1 when the spool is full, else a plain 4.3.0. */
            if (err && strstr(err, "No space left"))
                lmtp_reply_set(&pd->replies[i], 452, "4.3.1 Insufficient system storage");
            else
                lmtp_reply_set(&pd->replies[i], 451, LMTP_TEXT_451);
        }
        lmtp_session_data_done(pd->delivery, pd->replies, pd->n);
    }
    if (failed)
        log_error("lmtp: %zu queue entries could not be written", failed);
}

/* Hands the collecting batch to an idle sync thread, if there is one. */
static void start_commit(struct lmtp_runner_state *s)
{
    struct sync_slot *sl = NULL;
    pthread_mutex_lock(&s->lock);
    for (unsigned k = 0; k < s->nslots && sl == NULL; k++)
        if (s->slots[k].batch == NULL)
            sl = &s->slots[k];
    if (sl != NULL && !take_collecting(s, &sl->batch, &sl->pending))
        sl = NULL;
    pthread_mutex_unlock(&s->lock);
    /* After the unlock: signalled under the lock, the thread would wake
     * only to wait for it (two more context switches). */
    if (sl != NULL)
        pthread_cond_signal(&sl->wake);
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
    start_commit(arg);
}

/* Answers the synced batches (lock not held), in the order they were
 * synced, and empties the list. */
static void answer_synced(GPtrArray *synced)
{
    for (guint k = 0; k + 1 < synced->len; k += 2) {
        answer(synced->pdata[k], synced->pdata[k + 1]);
        g_ptr_array_unref(synced->pdata[k + 1]);
        queue_batch_free(synced->pdata[k]);
    }
    g_ptr_array_set_size(synced, 0);
}

static void on_synced(evutil_socket_t fd, short what, void *arg)
{
    struct lmtp_runner_state *s = arg;
    uint64_t n;
    if (read(s->done_fd, &n, sizeof n) < 0 && errno != EAGAIN)
        log_error("lmtp: eventfd: %s", g_strerror(errno));
    GPtrArray *empty = g_ptr_array_new();
    pthread_mutex_lock(&s->lock);
    GPtrArray *synced = s->synced;
    s->synced = empty;
    pthread_mutex_unlock(&s->lock);
    answer_synced(synced);
    g_ptr_array_unref(synced);
    start_commit(s); /* what arrived meanwhile, if a thread is idle */
}

int lmtp_runner_start(struct runner *r, char **error_r)
{
    struct lmtp_runner_state *s = g_new0(struct lmtp_runner_state, 1);
    r->state = s;
    s->r = r;
    struct config *cfg = r->cfg;
    r->qroot = queue_root_new(config_path(cfg, "queue_dir"));
    const char *method = config_get(cfg, "runner.lmtp", "sync_method");
    queue_root_set_sync(r->qroot, strcmp(method, "syncfs") == 0      ? QUEUE_SYNC_SYNCFS
                                  : strcmp(method, "fdatasync") == 0 ? QUEUE_SYNC_FDATASYNC
                                  : strcmp(method, "writeback") == 0 ? QUEUE_SYNC_WRITEBACK
                                                                     : QUEUE_SYNC_AUTO);
    s->db_url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    /* Not fatal: RCPT answers 451 until the database can be read. */
    (void)store_ready(s);
    s->hostname = g_strdup(g_get_host_name());
    s->site_owner = config_get(cfg, "mailman", "site_owner");
    s->lookup = (struct lmtp_route_lookup){lookup_list, lookup_alias, s,
                                           config_get(cfg, "mta", "verp_delimiter")};
    s->batch = queue_batch_new(r->qroot);
    s->pending = g_ptr_array_new_with_free_func(pending_free);
    s->synced = g_ptr_array_new();
    s->commit_ev = event_new(r->base, -1, 0, on_commit, s);
    /* The queues intake writes to are opened now: the sync thread uses the
     * root, which must not change under it. */
    static const char *const intake_queues[] = {"in", "bounces", "command"};
    for (size_t i = 0; i < G_N_ELEMENTS(intake_queues); i++) {
        struct queue *q;
        if (queue_root_get(r->qroot, intake_queues[i], &q, error_r) < 0)
            return -1;
    }
    s->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->done_fd < 0) {
        *error_r = g_strdup_printf("eventfd: %s", g_strerror(errno));
        return -1;
    }
    s->done_ev = event_new(r->base, s->done_fd, EV_READ | EV_PERSIST, on_synced, s);
    event_add(s->done_ev, NULL);
    pthread_mutex_init(&s->lock, NULL);
    s->lock_ready = true;
    s->nslots = (unsigned)config_get_int(cfg, "runner.lmtp", "sync_threads");
    s->slots = g_new0(struct sync_slot, s->nslots);
    for (unsigned k = 0; k < s->nslots; k++) {
        s->slots[k].s = s;
        pthread_cond_init(&s->slots[k].wake, NULL);
    }
    for (unsigned k = 0; k < s->nslots; k++) {
        struct sync_slot *sl = &s->slots[k];
        if (pthread_create(&sl->thread, NULL, syncer_main, sl) != 0) {
            *error_r = g_strdup("cannot start a sync thread");
            return -1;
        }
        sl->started = true;
    }

    struct lmtp_server_settings set;
    lmtp_server_settings_init(&set);
    struct lmtp_limits *lim = &set.limits;
    lim->max_message_size = (size_t)config_get_int(cfg, "runner.lmtp", "max_message_size");
    lim->max_header_size = (size_t)config_get_int(cfg, "runner.lmtp", "max_header_size");
    lim->max_line_length = (size_t)config_get_int(cfg, "runner.lmtp", "max_line_length");
    lim->max_recipients = (unsigned)config_get_int(cfg, "runner.lmtp", "max_recipients");
    lim->max_connections = (unsigned)config_get_int(cfg, "runner.lmtp", "max_connections");
    lim->command_timeout_ms =
        (unsigned)(config_get_duration(cfg, "runner.lmtp", "command_timeout") * 1000);
    lim->data_timeout_ms =
        (unsigned)(config_get_duration(cfg, "runner.lmtp", "data_timeout") * 1000);
    lim->session_timeout_ms =
        (unsigned)(config_get_duration(cfg, "runner.lmtp", "session_timeout") * 1000);
    lim->evict_idle_ms = (unsigned)(config_get_duration(cfg, "runner.lmtp", "evict_idle") * 1000);
    if (proto_limits_lmtp_check(lim, error_r) < 0)
        return -1;
    set.hostname = s->hostname;
    set.rcpt = on_rcpt;
    set.deliver = on_deliver;
    set.ctx = s;
    if (lmtp_server_new(r->base, &set, &s->server, error_r) < 0)
        return -1;
    const char *host = config_get(cfg, "mta", "lmtp_host");
    unsigned port = (unsigned)config_get_int(cfg, "mta", "lmtp_port");
    if (lmtp_server_listen(s->server, host, port, error_r) < 0)
        return -1;
    log_info("lmtp: listening on %s:%u", host, port);
    return 0;
}

void lmtp_runner_stop(struct runner *r)
{
    struct lmtp_runner_state *s = r->state;
    if (s == NULL)
        return;
    if (s->server)
        lmtp_server_free(s->server);
    if (s->lock_ready) {
        /* Each thread finishes the batch it is syncing, then ends. */
        pthread_mutex_lock(&s->lock);
        s->quit = true;
        for (unsigned k = 0; k < s->nslots; k++)
            pthread_cond_signal(&s->slots[k].wake);
        pthread_mutex_unlock(&s->lock);
        for (unsigned k = 0; k < s->nslots; k++) {
            struct sync_slot *sl = &s->slots[k];
            if (sl->started)
                pthread_join(sl->thread, NULL);
            /* A thread ends only without a batch; these are a thread's
             * that never started. */
            if (sl->batch != NULL) {
                queue_batch_commit(sl->batch);
                g_ptr_array_add(s->synced, sl->batch);
                g_ptr_array_add(s->synced, sl->pending);
            }
            pthread_cond_destroy(&sl->wake);
        }
        answer_synced(s->synced);
        g_free(s->slots);
        pthread_mutex_destroy(&s->lock);
        log_info("lmtp: %" PRIu64 " group commits, %" PRIu64
                 " of them with the files written during the previous one's syncs",
                 s->commits, s->written_ahead);
    }
    /* Deliveries accepted but not yet synced are synced now: the MTA may
     * have gone, and then retries them: a duplicate at worst, never a loss. */
    if (s->pending && s->pending->len && s->batch) {
        queue_batch_commit(s->batch);
        answer(s->batch, s->pending);
    }
    if (s->done_ev)
        event_free(s->done_ev);
    if (s->done_fd > 0)
        close(s->done_fd);
    if (s->commit_ev)
        event_free(s->commit_ev);
    if (s->batch)
        queue_batch_free(s->batch);
    if (s->pending)
        g_ptr_array_unref(s->pending);
    if (s->synced)
        g_ptr_array_unref(s->synced);
    if (s->names)
        g_hash_table_unref(s->names);
    if (s->aliases)
        g_hash_table_unref(s->aliases);
    if (s->store)
        store_close(s->store);
    g_free(s->hostname);
    g_free(s->db_url);
    g_free(s);
    r->state = NULL;
}
