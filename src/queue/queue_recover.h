/*
 * queue_recover - what a runner does to its queue (slice) before it starts:
 * entries left claimed by a crash come back, stale temporary files go.
 *
 * Every "<base>.bak" in the slice gets its recovery count (metadata
 * QUEUE_KEY_RECOVERIES) incremented, rewritten durably, and is renamed back
 * to "<base>.pck"; at the QUEUE_MAX_RECOVERIES-th recovery it is preserved
 * in "bad/<base>.psv" instead (a message that crashes its runner every time
 * must not stop the queue). A ".bak" that cannot be parsed is preserved in
 * bad at once. "*.tmp" files older than QUEUE_TEMP_MAX_AGE seconds are
 * removed: no writer takes that long, and a younger one may belong to a
 * writer (the LMTP server) that is still at work; but a "<base>.pck.tmp"
 * that holds a whole entry is preserved in bad instead, since after a
 * machine crash on a file system without a journal it can be the only
 * copy of a requeued message (queue_recover.c).
 *
 * Only one process may recover a given slice, before it claims anything.
 * Per-entry problems are logged (log.h) with the queue and base and counted;
 * the function fails (-1, newly allocated *error_r) only when the queue
 * cannot be listed.
 */
#ifndef CRIER_QUEUE_RECOVER_H
#define CRIER_QUEUE_RECOVER_H

#include "queue/queue_root.h"

#define QUEUE_TEMP_MAX_AGE 60

struct queue_recover_stats {
    unsigned restored;     /* ".bak" renamed back to ".pck" */
    unsigned preserved;    /* moved to bad (count reached, malformed, whole stale ".pck.tmp") */
    unsigned temp_removed; /* stale ".tmp" files removed */
    unsigned failed;       /* left as they were after an error */
};

int queue_recover(struct queue *q, unsigned count, unsigned index,
                  struct queue_recover_stats *stats_r, char **error_r);

#endif
