/* runner_kinds - the table of runner kinds, by Mailman's class names, and
 * the small runners that need no file of their own. */
#include "runner/runner.h"

#include "config/config.h"
#include "deliver/deliver_out.h"
#include "lib/log.h"
#include "store/store.h"
#include "lmtp/lmtp_runner.h"
#include "rest/rest_runner.h"
#include "runner/runner_bounce.h"
#include "runner/runner_command.h"
#include "runner/runner_digest.h"
#include "runner/runner_post.h"
#include "queue/queue.h"

#include <glib.h>
#include <string.h>
#include <unistd.h>

/* Mailman's RetryRunner: every sleep_time, everything in retry goes back to
 * out (reference §4.3); out decides what to do with it. */
static void retry_tick(struct runner *r)
{
    struct queue *out;
    char *err = NULL;
    GPtrArray *bases = NULL;
    if (queue_root_get(r->qroot, "out", &out, &err) < 0 ||
        queue_list(r->queue, r->count, r->slice, &bases, &err) < 0) {
        log_error("retry: %s", err);
        g_free(err);
        return;
    }
    for (guint i = 0; i < bases->len; i++) {
        struct queue_entry *e = NULL;
        if (queue_claim(r->queue, bases->pdata[i], &e, &err) <= 0) {
            g_clear_pointer(&err, g_free);
            continue;
        }
        if (queue_requeue(e, out, NULL, 0, NULL, &err) < 0) {
            log_error("retry: cannot move %s to out: %s", e->base, err);
            g_clear_pointer(&err, g_free);
            queue_release(e, &err);
            g_clear_pointer(&err, g_free);
        }
        queue_entry_free(e);
    }
    g_ptr_array_unref(bases);
}

/* Mailman's TaskRunner: every sleep_time, evict what has expired (pending
 * confirmations and held-message tokens past their lifetime). */
static void task_tick(struct runner *r)
{
    struct store *st = r->state;
    char *err = NULL;
    if (st == NULL) {
        g_autofree char *url = config_expand(r->cfg, config_get(r->cfg, "database", "url"), NULL);
        if (store_open(url, &st, &err) < 0) {
            log_error("task: cannot open the database: %s", err);
            g_free(err);
            return;
        }
        r->state = st;
    }
    int n = store_pending_evict(st, 0, &err);
    if (n < 0) {
        log_error("task: evicting pendings: %s", err);
        g_free(err);
    } else {
        log_to("task", LOG_LEVEL_INFO, "Task runner evicted %d expired pendings", n);
    }
    int64_t requests = 0;
    char **paths = NULL;
    if (store_evict_orphans(st, &requests, &paths, &err) < 0) {
        log_error("task: %s", err);
        g_clear_pointer(&err, g_free);
        return;
    }
    int messages = 0;
    for (char **p = paths; *p; p++, messages++) {
        g_autofree char *full = g_build_filename(config_path(r->cfg, "messages_dir"), *p, NULL);
        (void)unlink(full);
    }
    g_strfreev(paths);
    log_to("task", LOG_LEVEL_INFO, "Task runner deleted %" G_GINT64_FORMAT " orphaned requests",
           requests);
    log_to("task", LOG_LEVEL_INFO, "Task runner deleted %d orphaned messages", messages);
}

static void task_stop(struct runner *r)
{
    if (r->state)
        store_close(r->state);
    r->state = NULL;
}

/* Queue runners whose processing lands with later issues have no handler:
 * their entries wait safely in the queue until it does. */
static const struct runner_kind kinds[] = {
    {"archive", "mailman.runners.archive.ArchiveRunner", true, runner_post_start,
     runner_archive_handle, NULL, runner_post_stop, false},
    {"bad", "mailman.runners.fake.BadRunner", true, NULL, NULL, NULL, NULL, false},
    {"bounces", "mailman.runners.bounce.BounceRunner", true, runner_bounce_start,
     runner_bounce_handle, runner_bounce_tick, runner_bounce_stop, false},
    {"command", "mailman.runners.command.CommandRunner", true, runner_command_start,
     runner_command_handle, NULL, runner_command_stop, false},
    {"digest", "mailman.runners.digest.DigestRunner", true, runner_post_start, runner_digest_handle,
     NULL, runner_post_stop, true},
    {"in", "mailman.runners.incoming.IncomingRunner", true, runner_post_start, runner_in_handle,
     NULL, runner_post_stop, false},
    {"lmtp", "mailman.runners.lmtp.LMTPRunner", false, lmtp_runner_start, NULL, NULL,
     lmtp_runner_stop, false},
    {"nntp", "mailman.runners.nntp.NNTPRunner", true, NULL, NULL, NULL, NULL, false},
    {"out", "mailman.runners.outgoing.OutgoingRunner", true, deliver_out_start, deliver_out_handle,
     NULL, deliver_out_stop, false},
    {"pipeline", "mailman.runners.pipeline.PipelineRunner", true, runner_post_start,
     runner_pipeline_handle, NULL, runner_post_stop, false},
    {"rest", "mailman.runners.rest.RESTRunner", false, rest_runner_start, NULL, NULL,
     rest_runner_stop, false},
    {"retry", "mailman.runners.retry.RetryRunner", true, NULL, NULL, retry_tick, NULL, false},
    {"shunt", "mailman.runners.fake.ShuntRunner", true, NULL, NULL, NULL, NULL, false},
    {"task", "mailman.runners.task.TaskRunner", false, NULL, NULL, task_tick, task_stop, false},
    {"virgin", "mailman.runners.virgin.VirginRunner", true, runner_post_start, runner_virgin_handle,
     NULL, runner_post_stop, false},
};

const struct runner_kind *runner_kind_find(const char *class_name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
        if (strcmp(kinds[i].class_name, class_name) == 0 || strcmp(kinds[i].name, class_name) == 0)
            return &kinds[i];
    return NULL;
}
