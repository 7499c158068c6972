/*
 * queue_batch - group commit of new queue entries.
 *
 * The LMTP server accepts one message for many recipients, each becoming
 * its own entry, possibly in different queues; it may answer 250 for each
 * only once that entry is on stable storage. A batch makes them durable
 * together with fewer waits on the disk:
 *   1. every entry is written to "<base>.pck.tmp" (O_EXCL; queue_batch_prewrite
 *      may have done this step earlier),
 *   2. each is renamed to "<base>.pck" (never replacing a file),
 *   3. the data of all of them is synced (see enum queue_sync),
 *   4. each directory that received an entry is fsynced once.
 * (Renaming before syncing lets one journal commit cover steps 2-4 on
 * ext4/xfs; see queue_batch.c for why an unsynced ".pck" is harmless.
 * With QUEUE_SYNC_WRITEBACK, steps 3 and 4 run side by side: each sync
 * starts after the renames, so none needs another to finish first.)
 * An entry is durable, and its result 0, only after step 4 for its
 * directory. A failed entry leaves nothing behind (its temporary or final
 * file is removed) and has an error message; others are unaffected, except
 * that a failed sync fails every entry it covered.
 *
 * Ownership: the message bytes given to queue_batch_add are borrowed and
 * must stay valid until queue_batch_commit returns; the metadata is copied
 * (formatted) at once. Bases and errors returned by queue_batch_result
 * belong to the batch. Entries are committed in chunks of
 * QUEUE_BATCH_CHUNK, which bounds the open descriptors.
 */
#ifndef CRIER_QUEUE_BATCH_H
#define CRIER_QUEUE_BATCH_H

#include "queue/queue_meta.h"
#include "queue/queue_root.h"
#include "queue/sync_pool.h"

#include <stddef.h>

#define QUEUE_BATCH_CHUNK 128

struct queue_batch;

/* A new, empty batch using the sync mode of root. */
struct queue_batch *queue_batch_new(struct queue_root *root);
void queue_batch_free(struct queue_batch *batch);

void queue_batch_set_sync(struct queue_batch *batch, enum queue_sync sync);

/* Adds an entry for queue q and returns its index (0, 1, ...). Invalid
 * metadata makes the entry fail at commit; adding never fails. */
size_t queue_batch_add(struct queue_batch *batch, struct queue *q, const struct queue_meta *meta,
                       const void *msg, size_t msg_len);

size_t queue_batch_count(const struct queue_batch *batch);

/* Step 1 ahead of the commit: writes the files of the entries not yet
 * written (at most QUEUE_BATCH_CHUNK past the last commit, which bounds
 * the open descriptors), so that the commit only renames and syncs them.
 * A failed write fails its entry, as in the commit. */
void queue_batch_prewrite(struct queue_batch *batch);

/* Gives the next commit work to do while the disk is busy (see
 * sync_pool.h; *mw is copied): when a chunk's syncs run side by side
 * (QUEUE_SYNC_WRITEBACK, and auto's small batches), the committing thread
 * asks mw->claim for work as they start, and does it with mw->work while
 * they run. Once per commit at most; not at all with other syncs. */
void queue_batch_set_meanwhile(struct queue_batch *batch, const struct sync_meanwhile *mw);

/* Makes every entry added since the last commit durable. Returns how many of
 * them failed (0: all durable). */
size_t queue_batch_commit(struct queue_batch *batch);

/* The outcome of entry index after a commit: 0 and its base name in
 * *base_r, or -1 and the reason in *error_r (either pointer may be NULL). */
int queue_batch_result(const struct queue_batch *batch, size_t index, const char **base_r,
                       const char **error_r);

#endif
