/*
 * runner - one runner process (Mailman's bin/runner): a kind from the table
 * in runner_kinds.c, one libevent loop, and, for queue runners, the queue
 * slice it owns.
 *
 * runner_main() runs in a process the master exec'd as
 * `crier [-C FILE] [--run-as-root] runner --runner=NAME[:SLICE:COUNT]`. It
 * sets up the kind (binds sockets, recovers ".bak" entries), then writes
 * "R <pid>\n" to the master's readiness pipe (fd CRIER_READY_FD) and serves
 * until SIGTERM/SIGINT (exit 0 after the entry in hand) or SIGUSR1 (exit so
 * the master restarts it). SIGHUP reopens the log.
 *
 * A queue runner's handle() gets each claimed entry in FIFO order and must
 * finish, requeue, shunt or release it; returning -1 shunts it (Mailman:
 * "an entry that makes its runner fail goes to shunt"). Returning
 * RUNNER_RETRY (a temporary failure, e.g. the store locked past its busy
 * timeout, with the entry untouched) releases it instead: the runner pauses
 * its queue for a back-off (RUNNER_BACKOFF_MIN_S, doubling up to
 * RUNNER_BACKOFF_MAX_S while the failures go on) and then tries the same
 * entry again. A kind whose handle is NULL does not consume its queue yet:
 * entries wait there.
 *
 * Entries are handled one per turn of the event loop, so that a signal
 * (SIGTERM from `crier stop`, or from the kernel when the master dies) is
 * seen after the entry in hand, not after a whole batch.
 */
#ifndef CRIER_RUNNER_H
#define CRIER_RUNNER_H

#include <stdbool.h>

struct config;
struct event_base;
struct queue;
struct queue_entry;
struct queue_root;

/* handle(): a temporary failure; retry the entry after a back-off. */
#define RUNNER_RETRY         (-2)
#define RUNNER_BACKOFF_MIN_S 1.0
#define RUNNER_BACKOFF_MAX_S 32.0

struct runner {
    struct config *cfg;
    const struct runner_kind *kind;
    char *name; /* the section's instance name: "out", "lmtp", ... */
    unsigned slice, count;
    struct event_base *base;
    struct queue_root *qroot;
    struct queue *queue; /* NULL for runners without a queue */
    void *state;         /* the kind's own */
};

struct runner_kind {
    const char *name;       /* crier's name: lmtp, in, out, ... */
    const char *class_name; /* Mailman's class in [runner.x] class */
    bool has_queue;
    /* Before readiness: bind, open, recover. NULL: nothing to do. */
    int (*start)(struct runner *r, char **error_r);
    /* Queue runners: one claimed entry. */
    int (*handle)(struct runner *r, struct queue_entry *entry, char **error_r);
    /* Timer runners (retry, task): called every [runner.x] sleep_time. */
    void (*tick)(struct runner *r);
    void (*stop)(struct runner *r);
    /* Leaves an entry waiting while the posting path (in, pipeline, out)
     * has work, for up to RUNNER_YIELD_MAX_S after the entry was queued:
     * the digest runner, whose roster scan made a 100,000-member fan-out
     * running beside it about 1.5 times slower on two cores (nice 10 or 19
     * did not help). */
    bool yields;
};

#define RUNNER_YIELD_MAX_S   30.0
#define RUNNER_YIELD_PAUSE_S 0.2

/* The kind for a [runner.x] class (Mailman's dotted name or crier's short
 * name), or NULL. */
const struct runner_kind *runner_kind_find(const char *class_name);

/* Parses "name[:slice:count]"; -1 on a malformed spec. */
int runner_parse_spec(const char *spec, char **name_r, unsigned *slice_r, unsigned *count_r);

int runner_main(struct config *cfg, const char *spec, int ready_fd);

/* Opens Mailman's loggers from [logging.NAME] (path relative to log_dir,
 * level) for log_to(); the master and every runner call it at start. */
void runner_open_loggers(struct config *cfg);

/* Tells the master this runner is ready (idempotent; no-op without a pipe). */
void runner_ready(struct runner *r);

#endif
