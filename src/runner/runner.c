/* runner - see runner.h. */
#include "runner/runner.h"

#include "config/config.h"
#include "lib/log.h"
#include "queue/queue.h"
#include "queue/queue_file.h"
#include "queue/queue_recover.h"
#include "queue/queue_watch.h"

#include <errno.h>
#include <event2/event.h>
#include <glib.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define RUNNER_MMAP_THRESHOLD (1 << 20)

struct runner_proc {
    struct runner r;
    int ready_fd;
    bool ready;
    bool stopping;
    bool restart; /* SIGUSR1: exit so that the master starts a fresh one */
    struct queue_watch *watch;
    struct event *watch_ev, *tick_ev, *work_ev;
    struct event *sig_ev[4];
    GPtrArray *todo; /* bases listed and not yet handled, from todo_next */
    guint todo_next;
    double backoff;     /* seconds of the current back-off; 0: none */
    gint64 resume_at;   /* monotonic µs: no entry is handled before this */
    gint64 yield_since; /* monotonic µs: first time the runner yielded; 0: not yielding */
};

int runner_parse_spec(const char *spec, char **name_r, unsigned *slice_r, unsigned *count_r)
{
    g_auto(GStrv) parts = g_strsplit(spec, ":", -1);
    guint n = g_strv_length(parts);
    if ((n != 1 && n != 3) || parts[0][0] == '\0')
        return -1;
    unsigned slice = 0, count = 1;
    if (n == 3) {
        char *end1, *end2;
        unsigned long s = strtoul(parts[1], &end1, 10);
        unsigned long c = strtoul(parts[2], &end2, 10);
        if (*end1 || *end2 || !*parts[1] || !*parts[2] || c == 0 || c > 1024 || s >= c)
            return -1;
        slice = (unsigned)s;
        count = (unsigned)c;
    }
    *name_r = g_strdup(parts[0]);
    *slice_r = slice;
    *count_r = count;
    return 0;
}

void runner_ready(struct runner *r)
{
    struct runner_proc *p = (struct runner_proc *)r;
    if (p->ready)
        return;
    p->ready = true;
    if (p->ready_fd < 0)
        return;
    char line[64];
    int n = snprintf(line, sizeof line, "R %ld\n", (long)getpid());
    /* A short line is atomic on a pipe (PIPE_BUF); the master may be gone. */
    if (write(p->ready_fd, line, (size_t)n) != n) {
        log_warn("runner %s: cannot tell the master it is ready: %s", r->name, strerror(errno));
        /* EPIPE: the master died before PR_SET_PDEATHSIG was set; stop as
         * if it had been, so that no runner outlives its master. */
        if (errno == EPIPE)
            raise(SIGTERM);
    }
    close(p->ready_fd);
    p->ready_fd = -1;
}

/* Schedules the next turn of runner_work after secs. A timer rather than
 * event_active(): libevent runs events activated from a callback in the same
 * pass, without polling, so the signal events would wait; a zero timeout
 * goes through the poll first. */
static void work_later(struct runner_proc *p, double secs)
{
    struct timeval tv = {(time_t)secs, (suseconds_t)((secs - (time_t)secs) * 1e6)};
    event_add(p->work_ev, &tv);
}

/* A temporary failure: the entry goes back to the queue, which waits for
 * the back-off; a success ends the back-off. */
static void work_backoff(struct runner_proc *p, struct queue_entry *e, const char *why)
{
    struct runner *r = &p->r;
    char *err = NULL;
    p->backoff = p->backoff == 0 ? RUNNER_BACKOFF_MIN_S : MIN(p->backoff * 2, RUNNER_BACKOFF_MAX_S);
    log_warn("runner %s: %s: temporary failure (%s); retrying in %.0f s", r->name, e->base,
             why ? why : "?", p->backoff);
    if (!e->done && queue_release(e, &err) < 0) {
        log_error("runner %s: cannot release %s: %s", r->name, e->base, err);
        g_free(err);
    }
    /* Listed again after the pause: the released entry comes first. */
    g_clear_pointer(&p->todo, g_ptr_array_unref);
    p->resume_at = g_get_monotonic_time() + (gint64)(p->backoff * G_USEC_PER_SEC);
    work_later(p, p->backoff);
}

static void work_one(struct runner_proc *p, const char *base)
{
    struct runner *r = &p->r;
    struct queue_entry *e = NULL;
    char *err = NULL;
    int got = queue_claim(r->queue, base, &e, &err);
    if (got < 0) {
        log_error("runner %s: %s: %s", r->name, base, err);
        g_free(err);
        return;
    }
    if (got == 0)
        return;
    int rc = r->kind->handle(r, e, &err);
    if (rc == RUNNER_RETRY && !e->done) {
        work_backoff(p, e, err);
    } else if (rc < 0) {
        log_error("runner %s: shunting %s: %s", r->name, e->base, err ? err : "failed");
        g_clear_pointer(&err, g_free);
        if (!e->done && queue_shunt(e, &err) < 0) {
            log_error("runner %s: cannot shunt %s: %s", r->name, e->base, err);
        }
    } else {
        p->backoff = 0;
        if (!e->done) {
            log_error("runner %s: handler left %s unfinished; releasing it", r->name, e->base);
            queue_release(e, &err);
        }
    }
    g_free(err);
    queue_entry_free(e);
}

/* Whether a yielding runner should leave base waiting for now: queued less
 * than RUNNER_YIELD_MAX_S ago (by its name, and by how long this runner has
 * been yielding, should the clock have gone back) while the posting path
 * has entries. */
static bool should_yield(struct runner_proc *p, const char *base)
{
    struct runner *r = &p->r;
    struct queue_file_base b;
    gint64 now = g_get_monotonic_time();
    if (!queue_file_parse_base(base, strlen(base), &b) ||
        (double)g_get_real_time() / G_USEC_PER_SEC - (double)b.seconds >= RUNNER_YIELD_MAX_S ||
        (p->yield_since != 0 && now - p->yield_since >= RUNNER_YIELD_MAX_S * G_USEC_PER_SEC))
        return false;
    static const char *const path[] = {"in", "pipeline", "out"};
    for (size_t i = 0; i < G_N_ELEMENTS(path); i++) {
        struct queue *q;
        char *err = NULL;
        if (queue_root_get(r->qroot, path[i], &q, &err) < 0) {
            g_free(err);
            continue;
        }
        if (queue_busy(q)) {
            if (p->yield_since == 0)
                p->yield_since = now;
            return true;
        }
    }
    return false;
}

/* One waiting entry of the slice per turn, in FIFO order: the bases are
 * listed once and worked through over several turns, listed again when
 * they are used up. Between turns the loop sees signals. */
static void runner_work(evutil_socket_t fd, short what, void *arg)
{
    struct runner_proc *p = arg;
    struct runner *r = &p->r;
    if (p->stopping)
        return;
    gint64 now = g_get_monotonic_time();
    if (now < p->resume_at) {
        /* Woken by the queue watch during a back-off: wait the rest. */
        work_later(p, (double)(p->resume_at - now) / G_USEC_PER_SEC);
        return;
    }
    if (p->todo == NULL || p->todo_next >= p->todo->len) {
        g_clear_pointer(&p->todo, g_ptr_array_unref);
        char *err = NULL;
        if (queue_list(r->queue, r->count, r->slice, &p->todo, &err) < 0) {
            log_error("runner %s: %s", r->name, err);
            g_free(err);
            return;
        }
        p->todo_next = 0;
        if (p->todo->len == 0) {
            g_clear_pointer(&p->todo, g_ptr_array_unref);
            return;
        }
    }
    if (r->kind->yields && should_yield(p, p->todo->pdata[p->todo_next])) {
        /* Listed again next time: an entry removed meanwhile is not
         * waited for. */
        g_clear_pointer(&p->todo, g_ptr_array_unref);
        work_later(p, RUNNER_YIELD_PAUSE_S);
        return;
    }
    p->yield_since = 0;
    work_one(p, p->todo->pdata[p->todo_next++]);
    if (!p->stopping && p->todo != NULL)
        work_later(p, 0);
}

static void runner_on_watch(evutil_socket_t fd, short what, void *arg)
{
    struct runner_proc *p = arg;
    char *err = NULL;
    int rc = queue_watch_drain(p->watch, &err);
    if (rc < 0) {
        log_error("runner %s: %s", p->r.name, err);
        g_free(err);
        return;
    }
    if (rc > 0)
        event_active(p->work_ev, EV_TIMEOUT, 0);
}

static void runner_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct runner_proc *p = arg;
    p->r.kind->tick(&p->r);
}

static void runner_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct runner_proc *p = arg;
    switch (sig) {
    case SIGHUP:
        log_reopen();
        return;
    case SIGUSR1:
        p->restart = true;
        break;
    default:
        break;
    }
    p->stopping = true;
    event_base_loopbreak(p->r.base);
}

static int runner_open_queue(struct runner_proc *p, char **error_r)
{
    struct runner *r = &p->r;
    g_autofree char *section = g_strconcat("runner.", r->name, NULL);
    r->qroot = queue_root_new(config_path(r->cfg, "queue_dir"));
    const char *path = config_get(r->cfg, section, "path");
    if (*path) {
        GHashTable *extra = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(extra, "name", r->name);
        g_autofree char *dir = config_expand(r->cfg, path, extra);
        g_hash_table_unref(extra);
        if (queue_root_set_path(r->qroot, r->name, dir, error_r) < 0)
            return -1;
    }
    if (queue_root_get(r->qroot, r->name, &r->queue, error_r) < 0)
        return -1;
    struct queue_recover_stats st = {0};
    if (queue_recover(r->queue, r->count, r->slice, &st, error_r) < 0)
        return -1;
    if (st.restored || st.preserved)
        log_info("runner %s: recovered %u entries, %u preserved in bad", r->name, st.restored,
                 st.preserved);
    if (r->kind->handle == NULL)
        return 0;
    if (queue_watch_open(r->queue->dir, &p->watch, error_r) < 0)
        return -1;
    p->watch_ev =
        event_new(r->base, queue_watch_fd(p->watch), EV_READ | EV_PERSIST, runner_on_watch, p);
    event_add(p->watch_ev, NULL);
    return 0;
}

void runner_open_loggers(struct config *cfg)
{
    g_autoptr(GPtrArray) names = config_section_names(cfg);
    for (guint i = 0; i < names->len; i++) {
        const char *sect = names->pdata[i];
        if (!g_str_has_prefix(sect, "logging.") || strcmp(sect, "logging.template") == 0)
            continue;
        const char *path = config_get(cfg, sect, "path");
        g_autofree char *full = g_path_is_absolute(path)
                                    ? g_strdup(path)
                                    : g_build_filename(config_path(cfg, "log_dir"), path, NULL);
        const char *name = sect + strlen("logging.");
        if (log_logger_open(name, full, log_level_parse(config_get(cfg, sect, "level"))) < 0)
            log_warn("cannot open log %s for [%s]: %s", full, sect, strerror(errno));
    }
}

static void runner_open_log(struct config *cfg)
{
    runner_open_loggers(cfg);
    g_autofree char *path = g_build_filename(config_path(cfg, "log_dir"),
                                             config_get(cfg, "logging.runner", "path"), NULL);
    if (log_open(path) < 0)
        log_warn("cannot open log %s: %s", path, strerror(errno));
}

int runner_main(struct config *cfg, const char *spec, int ready_fd)
{
    struct runner_proc p = {.ready_fd = ready_fd};
    struct runner *r = &p.r;
    r->cfg = cfg;
    if (runner_parse_spec(spec, &r->name, &r->slice, &r->count) < 0) {
        fprintf(stderr, "Error: bad runner spec '%s' (want NAME or NAME:SLICE:COUNT)\n", spec);
        return 2;
    }
    g_autofree char *section = g_strconcat("runner.", r->name, NULL);
    if (!config_has_section(cfg, section)) {
        fprintf(stderr, "Error: no such runner: %s\n", r->name);
        g_free(r->name);
        return 2;
    }
    r->kind = runner_kind_find(config_get(cfg, section, "class"));
    if (r->kind == NULL) {
        fprintf(stderr, "Error: runner %s: unknown class %s\n", r->name,
                config_get(cfg, section, "class"));
        g_free(r->name);
        return 2;
    }
    g_autofree char *prefix = g_strdup_printf("runner %s", r->name);
    log_set_prefix(prefix);
    runner_open_log(cfg);
    signal(SIGPIPE, SIG_IGN);
    /* Buffers of a MiB or more (a fan-out's recipient list: 25 MB for a
     * million members) get their own mappings, given back when freed.
     * glibc's default threshold rises to the largest block freed, after
     * which such buffers came from the heap and their pages stayed with the
     * runner from one post to the next. */
    mallopt(M_MMAP_THRESHOLD, RUNNER_MMAP_THRESHOLD);
    /* A master killed with SIGKILL cannot stop its runners: without this
     * they would go on serving, and the runners of a `start --force` would
     * recover (and deliver again) the entries they hold. SIGTERM lets the
     * entry in hand finish. Only for runners a master started. */
    if (ready_fd >= 0 && prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        log_warn("runner %s: PR_SET_PDEATHSIG: %s", r->name, strerror(errno));
    r->base = event_base_new();
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        p.sig_ev[i] = evsignal_new(r->base, sigs[i], runner_on_signal, &p);
        evsignal_add(p.sig_ev[i], NULL);
    }
    char *err = NULL;
    int rc = 0;
    if (r->kind->has_queue && runner_open_queue(&p, &err) < 0)
        goto fail;
    if (r->kind->start && r->kind->start(r, &err) < 0)
        goto fail;
    if (r->kind->tick) {
        double secs = config_get_duration(cfg, section, "sleep_time");
        struct timeval tv = {(time_t)secs, (suseconds_t)((secs - (time_t)secs) * 1e6)};
        if (tv.tv_sec == 0 && tv.tv_usec < 10000)
            tv.tv_usec = 10000;
        p.tick_ev = event_new(r->base, -1, EV_PERSIST, runner_on_tick, &p);
        event_add(p.tick_ev, &tv);
    }
    if (r->kind->has_queue && r->kind->handle) {
        p.work_ev = event_new(r->base, -1, 0, runner_work, &p);
        event_active(p.work_ev, EV_TIMEOUT, 0); /* the backlog */
    } else if (r->kind->has_queue) {
        log_info("runner %s: not implemented yet; entries wait in %s", r->name, r->queue->dir);
    } else if (!r->kind->start && !r->kind->tick) {
        log_info("runner %s: not implemented yet; it only idles", r->name);
    }
    runner_ready(r);
    log_info("runner %s started (slice %u/%u, pid %ld)", r->name, r->slice, r->count,
             (long)getpid());
    event_base_dispatch(r->base);
    log_info("runner %s %s", r->name, p.restart ? "exiting for a restart" : "stopped");
    rc = p.restart ? 3 : 0;
    goto out;
fail:
    log_error("runner %s cannot start: %s", r->name, err);
    fprintf(stderr, "runner %s cannot start: %s\n", r->name, err);
    g_free(err);
    rc = 1;
out:
    if (r->kind->stop)
        r->kind->stop(r);
    for (size_t i = 0; i < G_N_ELEMENTS(p.sig_ev); i++)
        if (p.sig_ev[i])
            event_free(p.sig_ev[i]);
    if (p.watch_ev)
        event_free(p.watch_ev);
    if (p.tick_ev)
        event_free(p.tick_ev);
    if (p.work_ev)
        event_free(p.work_ev);
    if (p.todo)
        g_ptr_array_unref(p.todo);
    if (p.watch)
        queue_watch_close(p.watch);
    if (r->qroot)
        queue_root_free(r->qroot);
    event_base_free(r->base);
    g_free(r->name);
    return rc;
}
