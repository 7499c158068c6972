/*
 * master - the watcher (Mailman's bin/master): holds the master lock,
 * writes the pid file, starts one process per runner instance (each is
 * `crier runner --runner=NAME:SLICE:COUNT`, exec'd afresh), restarts a
 * runner that dies (up to [runner.x] max_restarts), reopens logs on SIGHUP
 * (and passes it on), restarts every runner on SIGUSR1, and on SIGTERM or
 * SIGINT stops every runner (SIGKILL after MASTER_STOP_GRACE_MS) and exits.
 *
 * Lock: an exclusive flock(2) on [paths] lock_file for the master's whole
 * life, so a crashed master never leaves a lock that looks held; the pid
 * file then tells a stale run apart from no run (master_state).
 *
 * Readiness: master_run() writes "ready\n" to status_fd once every runner
 * instance reported ready, or "error: <text>\n" if one failed to start (the
 * master then stops the others and returns 1). status_fd -1: no report.
 */
#ifndef CRIER_MASTER_H
#define CRIER_MASTER_H

#include <stdbool.h>
#include <sys/types.h>

struct config;

#define MASTER_STOP_GRACE_MS   1000
#define MASTER_READY_TIMEOUT_S 60

/* The values are Mailman's `status` exit codes. */
enum master_state {
    MASTER_NONE = 0,    /* not running */
    MASTER_RUNNING = 1, /* lock held */
    MASTER_STALE = 2,   /* pid file without a lock holder */
};

enum master_state master_state(const struct config *cfg, pid_t *pid_r);

struct master_opts {
    const char *config_file; /* passed to runners as -C; NULL: none */
    bool run_as_root;
    bool force; /* remove a stale pid file */
};

/* Runs the master in this process until it is told to stop; 0 on a clean
 * stop, 1 if it could not start. */
int master_run(struct config *cfg, const struct master_opts *opts, int status_fd);

#endif
