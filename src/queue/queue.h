/*
 * queue - the life of an entry in a queue directory (Mailman's switchboard).
 *
 *   queue_enqueue   new "<base>.pck", durable when it returns 0
 *   queue_list      the waiting bases in FIFO order, optionally one slice
 *   queue_claim     "<base>.pck" -> "<base>.bak", read and parsed
 *   queue_finish    the work is done: the ".bak" is removed
 *   queue_checkpoint  the claimed entry's metadata is rewritten in place,
 *                   durably (progress of a long fan-out)
 *   queue_requeue   a fresh entry (same or another queue, possibly a new
 *                   message) is made durable, then the ".bak" is removed
 *   queue_shunt     requeue to "shunt" with metadata whichq = this queue
 *   queue_bad       the ".bak" moves to "bad/<base>.psv"
 *   queue_release   unclaimed unchanged: the ".bak" becomes ".pck" again
 * Crash recovery of ".bak" files is in queue_recover.h; the on-disk format
 * and the crash-safety argument are in queue_file.h and docs/queues.md.
 *
 * Delivery is at least once: a crash between making a new entry durable and
 * removing the old ".bak" can make a step run twice, never lose a message.
 *
 * Ownership: bases returned through base_r and the arrays of queue_list are
 * newly allocated (g_free, g_ptr_array_unref). A claimed entry is owned by
 * the caller (queue_entry_free) whatever happens to its file. Functions
 * returning int give 0 or -1 with a newly allocated *error_r, unless said.
 */
#ifndef CRIER_QUEUE_H
#define CRIER_QUEUE_H

#include "queue/queue_meta.h"
#include "queue/queue_root.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Metadata written by this module. */
#define QUEUE_KEY_WHICHQ     "whichq"         /* the queue a shunted entry came from */
#define QUEUE_KEY_RECOVERIES "recovery_count" /* crash recoveries of this entry file */
#define QUEUE_MAX_RECOVERIES 3                /* the third recovery preserves it in bad */

#define QUEUE_EXT_WAITING   ".pck"
#define QUEUE_EXT_CLAIMED   ".bak"
#define QUEUE_EXT_PRESERVED ".psv"
#define QUEUE_EXT_TEMP      ".tmp"
#define QUEUE_EXT_PROGRESS  ".prg"

struct queue_entry {
    struct queue *queue;     /* where its ".bak" is (not owned) */
    char *base;              /* file base */
    struct queue_meta *meta; /* editable before queue_checkpoint/queue_requeue */
    const char *msg;         /* the raw message, msg_len bytes (inside image) */
    size_t msg_len;
    char *image; /* the file as read, or only its message when the header
                  * was large (it is parsed into meta) */
    size_t image_len;
    bool done; /* finished, requeued, shunted or preserved */
};

/* Durably adds a new entry; *base_r (may be NULL) gets its base. */
int queue_enqueue(struct queue *q, const struct queue_meta *meta, const void *msg, size_t msg_len,
                  char **base_r, char **error_r);

/* The bases of the files "<base><ext>" of q (ext: QUEUE_EXT_*) in FIFO
 * order, only those in slice index of count (count 1: all). Files whose
 * names are not of the base form are ignored. */
int queue_list_ext(struct queue *q, const char *ext, unsigned count, unsigned index,
                   GPtrArray **bases_r, char **error_r);
/* Whether q holds an entry waiting or claimed (a "<base>.pck" or
 * "<base>.bak"); false when it cannot be read. */
bool queue_busy(struct queue *q);
/* queue_list_ext for QUEUE_EXT_WAITING. */
int queue_list(struct queue *q, unsigned count, unsigned index, GPtrArray **bases_r,
               char **error_r);

/* Claims base: 1 claimed (*entry_r), 0 gone (claimed or removed by someone
 * else), -1 error. A file that cannot be parsed is preserved in bad and is
 * an error; on a read error the ".bak" stays for recovery. */
int queue_claim(struct queue *q, const char *base, struct queue_entry **entry_r, char **error_r);

int queue_finish(struct queue_entry *entry, char **error_r);

/* Rewrites the claimed entry with its current meta (and message), under its
 * own name: durably, and without ever exposing a partial file. */
int queue_checkpoint(struct queue_entry *entry, char **error_r);

/* Enqueues entry->meta (without the recovery count, which belongs to a
 * file) and msg (NULL: the entry's own message) to dest, then removes the
 * ".bak". *base_r (may be NULL) gets the new base. */
/* Progress of long work on a claimed entry (a fan-out), kept beside it in
 * "<base>.prg": an append-only log of short lines, so that recording a step
 * costs one small append and fdatasync instead of rewriting the entry (whose
 * recipient list can be megabytes). It survives crash recovery (same base)
 * and is removed with the entry (finish, requeue, shunt, bad); recovery
 * removes one whose entry is gone. A line cut short by a crash is dropped
 * by queue_progress_read. Without sync the line is written but not
 * flushed: it survives the process (kill -9) but maybe not the machine. */
int queue_progress_append(struct queue_entry *entry, const char *text, bool sync, char **error_r);
/* The complete lines written so far ("" when none); g_free. */
char *queue_progress_read(const struct queue_entry *entry);

int queue_requeue(struct queue_entry *entry, struct queue *dest, const void *msg, size_t msg_len,
                  char **base_r, char **error_r);

/* Requeues to "shunt" with whichq set; if that fails, preserves in bad. */
int queue_shunt(struct queue_entry *entry, char **error_r);

/* Moves the ".bak" to "bad/<base>.psv". */
int queue_bad(struct queue_entry *entry, char **error_r);

/* Moves the file name of q to "bad/<base>.psv" durably (also across file
 * systems). */
int queue_preserve(struct queue *q, const char *name, const char *base, char **error_r);

/* Durably replaces (or creates) the file name of q with head + body: written
 * to "<name>.tmp", synced, renamed over name; the directory is fsynced if
 * sync_dir. */
int queue_replace_file(struct queue *q, const char *name, const void *head, size_t head_len,
                       const void *body, size_t body_len, bool sync_dir, char **error_r);

/* Gives the entry back unchanged ("<base>.bak" -> "<base>.pck"), e.g. when
 * a runner stops before it could work on it. */
int queue_release(struct queue_entry *entry, char **error_r);

void queue_entry_free(struct queue_entry *entry);

#endif
