/*
 * queue_root - the set of queue directories under queue_dir, by name.
 *
 * The names are Mailman's (archive, bad, bounces, command, digest, in, nntp,
 * out, pipeline, retry, shunt, virgin); each queue is the directory
 * "<queue_dir>/<name>" unless queue_root_set_path() gives another one (the
 * `path` key of [runner.<name>]), which may also add a new name. A queue is
 * opened on first use: its directory is created (and its parent fsynced so
 * the new directory survives a crash) and kept open for *at() calls and
 * directory fsyncs.
 *
 * Ownership: the root owns every struct queue it hands out; they stay valid
 * until queue_root_free(). Returned name arrays are owned by the caller
 * (g_ptr_array_unref) but their strings belong to the root.
 * Functions returning int give 0 or -1 with a newly allocated *error_r.
 */
#ifndef CRIER_QUEUE_ROOT_H
#define CRIER_QUEUE_ROOT_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* How a batch of new entries is made durable before being renamed into
 * place (measured in docs/queues.md). */
enum queue_sync {
    /* sync_file_range(WRITE) on every file, then every file's fdatasync
     * and every directory's fsync side by side (sync_pool.h): the disk
     * writes overlap, the block layer joins the flushes, and only our own
     * files are flushed. */
    QUEUE_SYNC_WRITEBACK,
    /* fdatasync each file in turn. */
    QUEUE_SYNC_FDATASYNC,
    /* one syncfs(2) per file system: fastest on a quiet, dedicated spool
     * file system, but it also flushes everyone else's dirty data there. */
    QUEUE_SYNC_SYNCFS,
    /* syncfs for a batch of QUEUE_SYNCFS_MIN_BATCH entries or more (where
     * one flush replaces several), writeback for smaller ones; syncfs
     * only while it is quick: after one that took longer than
     * QUEUE_SYNCFS_SLOW_US (other processes had much dirty data there),
     * writeback for QUEUE_SYNCFS_PAUSE_US, then syncfs is tried again.
     * writeback on kernels before Linux 5.8, whose syncfs does not report
     * write-back errors, and for a batch with an entry on a file system
     * other than ext2/3/4, xfs or btrfs (FUSE's syncfs, for one, may not
     * sync at all). The default. */
    QUEUE_SYNC_AUTO,
};

#define QUEUE_SYNCFS_SLOW_US   (10 * 1000)
#define QUEUE_SYNCFS_MIN_BATCH 4
#define QUEUE_SYNCFS_PAUSE_US  (60 * G_USEC_PER_SEC)

/* One queue directory. Read-only for users of the module. */
struct queue {
    char *name;
    char *dir;
    int dirfd;         /* O_DIRECTORY descriptor of dir */
    dev_t dev;         /* file system of dir, to group syncfs calls */
    bool syncfs_sound; /* syncfs makes its files durable (see QUEUE_SYNC_AUTO) */
    struct queue_root *root;
};

struct queue_root *queue_root_new(const char *queue_dir);
void queue_root_free(struct queue_root *root);

const char *queue_root_dir(const struct queue_root *root);

/* Sets the directory of queue name (before it is first opened). */
int queue_root_set_path(struct queue_root *root, const char *name, const char *dir, char **error_r);

/* QUEUE_SYNC_AUTO becomes QUEUE_SYNC_WRITEBACK on a kernel whose syncfs
 * does not report errors. */
void queue_root_set_sync(struct queue_root *root, enum queue_sync sync);
enum queue_sync queue_root_sync(const struct queue_root *root);

/* Safe from any thread: whether QUEUE_SYNC_AUTO may use syncfs now, and
 * the duration of a group commit's syncfs (a slow one pauses AUTO's). */
bool queue_root_syncfs_allowed(struct queue_root *root);
void queue_root_syncfs_took(struct queue_root *root, gint64 usec);

/* How many group commits of this root used syncfs (tests, diagnostics). */
unsigned queue_root_syncfs_commits(struct queue_root *root);

/* Whether name is a queue of this root. */
bool queue_root_known(const struct queue_root *root, const char *name);

/* The queue names, sorted. */
GPtrArray *queue_root_names(const struct queue_root *root);

/* The queue called name, opened (and created) if needed. An unknown name
 * gives the error "No such queue: <name>". */
int queue_root_get(struct queue_root *root, const char *name, struct queue **queue_r,
                   char **error_r);

#endif
