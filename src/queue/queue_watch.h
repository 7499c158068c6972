/*
 * queue_watch - learn at once that a queue directory has new entries.
 *
 * An inotify descriptor watching one directory for IN_MOVED_TO (an entry
 * renamed into place, by an enqueue or a recovery) and IN_CLOSE_WRITE (a
 * file written in place). The descriptor is non-blocking and close-on-exec;
 * hand it to the event loop (libevent EV_READ|EV_PERSIST) and, when it is
 * readable, call queue_watch_drain: it consumes every pending event and
 * tells whether any of them was a ".pck" (the kernel cannot filter by name,
 * so the descriptor also wakes up for ".tmp" files and the like). On an
 * inotify queue overflow it also answers "yes": events were lost, rescan.
 *
 * Ownership: the watch owns its descriptor; queue_watch_close closes it.
 * Functions returning int give -1 with a newly allocated *error_r.
 */
#ifndef CRIER_QUEUE_WATCH_H
#define CRIER_QUEUE_WATCH_H

struct queue_watch;

int queue_watch_open(const char *dir, struct queue_watch **watch_r, char **error_r);
void queue_watch_close(struct queue_watch *watch);

/* The descriptor to poll for reading. */
int queue_watch_fd(const struct queue_watch *watch);

/* Reads every pending event without blocking: 1 if a ".pck" appeared (or
 * events were lost), 0 if not, -1 on error. */
int queue_watch_drain(struct queue_watch *watch, char **error_r);

#endif
