/* queue_batch - see queue_batch.h. */
#include "queue/queue_batch.h"

#include "queue/queue_file.h"
#include "queue/sync_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define QUEUE_FILE_MODE 0660

enum entry_state {
    ENTRY_PENDING, /* added, not yet committed */
    ENTRY_WRITTEN, /* "<base>.pck.tmp" written, fd open */
    ENTRY_RENAMED, /* "<base>.pck" in place, directory not yet synced */
    ENTRY_DURABLE, /* result 0 */
    ENTRY_FAILED,  /* result -1, nothing left on disk */
};

struct batch_entry {
    struct queue *queue;
    GString *header; /* formatted at add time */
    char *format_error;
    const void *msg;
    size_t msg_len;
    char *base;
    char *error;
    int fd;
    enum entry_state state;
};

struct queue_batch {
    enum queue_sync sync;
    struct queue_root *root;
    GArray *entries;                 /* of struct batch_entry */
    size_t committed;                /* entries before this index are done */
    struct sync_meanwhile meanwhile; /* for the next commit, once; claim NULL: none */
};

static char *entry_name(const struct batch_entry *e, const char *suffix);

static void entry_clear(gpointer p)
{
    struct batch_entry *e = p;
    if (e->state == ENTRY_WRITTEN) {
        /* Written ahead (queue_batch_prewrite), never committed. */
        g_autofree char *tmp = entry_name(e, ".pck.tmp");
        unlinkat(e->queue->dirfd, tmp, 0);
    }
    if (e->fd >= 0)
        close(e->fd);
    if (e->header != NULL)
        g_string_free(e->header, TRUE);
    g_free(e->format_error);
    g_free(e->base);
    g_free(e->error);
}

struct queue_batch *queue_batch_new(struct queue_root *root)
{
    struct queue_batch *batch = g_new0(struct queue_batch, 1);
    batch->sync = queue_root_sync(root);
    batch->root = root;
    batch->entries = g_array_new(FALSE, TRUE, sizeof(struct batch_entry));
    g_array_set_clear_func(batch->entries, entry_clear);
    return batch;
}

void queue_batch_free(struct queue_batch *batch)
{
    if (batch == NULL)
        return;
    g_array_free(batch->entries, TRUE);
    g_free(batch);
}

void queue_batch_set_sync(struct queue_batch *batch, enum queue_sync sync)
{
    batch->sync = sync;
}

size_t queue_batch_add(struct queue_batch *batch, struct queue *q, const struct queue_meta *meta,
                       const void *msg, size_t msg_len)
{
    struct batch_entry e = {.queue = q, .msg = msg, .msg_len = msg_len, .fd = -1};
    e.header = g_string_sized_new(256);
    if (queue_file_format_header(e.header, meta, msg_len, &e.format_error) < 0) {
        g_string_free(e.header, TRUE);
        e.header = NULL;
    }
    g_array_append_val(batch->entries, e);
    return batch->entries->len - 1;
}

size_t queue_batch_count(const struct queue_batch *batch)
{
    return batch->entries->len;
}

static char *entry_name(const struct batch_entry *e, const char *suffix)
{
    return g_strconcat(e->base, suffix, NULL);
}

/* Marks e failed with a reason, removing whatever it left on disk. */
static void G_GNUC_PRINTF(2, 3) entry_fail(struct batch_entry *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    e->error = g_strdup_printf("queue %s: %s", e->queue->name, why);
    if (e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
    if (e->state == ENTRY_WRITTEN) {
        g_autofree char *tmp = entry_name(e, ".pck.tmp");
        unlinkat(e->queue->dirfd, tmp, 0);
    } else if (e->state == ENTRY_RENAMED) {
        /* A runner may already have claimed it; then it is processed even
         * though we report failure (at-least-once, never lost). */
        g_autofree char *pck = entry_name(e, ".pck");
        unlinkat(e->queue->dirfd, pck, 0);
    }
    e->state = ENTRY_FAILED;
}

/* Step 1, unless done already (queue_batch_prewrite). */
static void entry_write(struct batch_entry *e)
{
    if (e->state != ENTRY_PENDING)
        return;
    if (e->header == NULL) {
        e->error = g_strdup_printf("queue %s: %s", e->queue->name, e->format_error);
        e->state = ENTRY_FAILED;
        return;
    }
    e->base = queue_file_new_base(e->header->str, e->header->len, e->msg, e->msg_len);
    g_autofree char *tmp = entry_name(e, ".pck.tmp");
    e->fd = openat(e->queue->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QUEUE_FILE_MODE);
    if (e->fd < 0) {
        entry_fail(e, "cannot create %s: %s", tmp, g_strerror(errno));
        return;
    }
    e->state = ENTRY_WRITTEN;
    if (queue_file_write_all(e->fd, e->header->str, e->header->len, e->msg, e->msg_len) < 0)
        entry_fail(e, "cannot write %s: %s", tmp, g_strerror(errno));
}

void queue_batch_prewrite(struct queue_batch *batch)
{
    size_t to = MIN(batch->entries->len, batch->committed + QUEUE_BATCH_CHUNK);
    for (size_t i = batch->committed; i < to; i++)
        entry_write(&g_array_index(batch->entries, struct batch_entry, i));
}

void queue_batch_set_meanwhile(struct queue_batch *batch, const struct sync_meanwhile *mw)
{
    batch->meanwhile = *mw;
}

/* Whether the renamed entries in [from, to) are synced with syncfs. */
static bool chunk_uses_syncfs(struct queue_batch *batch, size_t from, size_t to)
{
    struct batch_entry *es = (struct batch_entry *)(void *)batch->entries->data;
    if (batch->sync != QUEUE_SYNC_AUTO)
        return batch->sync == QUEUE_SYNC_SYNCFS;
    size_t n = 0;
    bool sound = queue_root_syncfs_allowed(batch->root);
    for (size_t i = from; i < to && sound; i++) {
        if (es[i].state != ENTRY_RENAMED)
            continue;
        n++;
        sound = es[i].queue->syncfs_sound;
    }
    return sound && n >= QUEUE_SYNCFS_MIN_BATCH;
}

/* Step 3 with syncfs: one call per file system; its error covers all of
 * that file system's entries. */
static void sync_by_syncfs(struct queue_batch *batch, size_t from, size_t to)
{
    struct batch_entry *es = (struct batch_entry *)(void *)batch->entries->data;
    gint64 start = g_get_monotonic_time();
    bool called = false;
    for (size_t i = from; i < to; i++) {
        if (es[i].state != ENTRY_RENAMED)
            continue;
        called = true;
        bool seen = false;
        for (size_t j = from; j < i && !seen; j++)
            seen = es[j].state == ENTRY_RENAMED && es[j].queue->dev == es[i].queue->dev;
        if (seen || syncfs(es[i].fd) == 0)
            continue;
        int err = errno;
        dev_t dev = es[i].queue->dev;
        for (size_t j = i; j < to; j++)
            if (es[j].state == ENTRY_RENAMED && es[j].queue->dev == dev)
                entry_fail(&es[j], "syncfs failed: %s", g_strerror(err));
    }
    if (called)
        queue_root_syncfs_took(batch->root, g_get_monotonic_time() - start);
}

/* Step 3 with fdatasync: one file after the other. */
static void sync_one_by_one(struct queue_batch *batch, size_t from, size_t to)
{
    struct batch_entry *es = (struct batch_entry *)(void *)batch->entries->data;
    for (size_t i = from; i < to; i++)
        if (es[i].state == ENTRY_RENAMED && fdatasync(es[i].fd) != 0)
            entry_fail(&es[i], "cannot sync %s.pck: %s", es[i].base, g_strerror(errno));
}

/* Steps 3 and 4 together (writeback): every renamed entry's fdatasync and
 * every directory's fsync side by side (sync_pool.h). Each call starts
 * after the renames, so each covers what it must: the entries are durable
 * once all have returned, whatever order they finished in. */
static void sync_side_by_side(struct queue_batch *batch, size_t from, size_t to)
{
    struct batch_entry *es = (struct batch_entry *)(void *)batch->entries->data;
    GArray *calls = g_array_sized_new(FALSE, FALSE, sizeof(struct sync_call), to - from + 1);
    GPtrArray *dirs = g_ptr_array_new();
    for (size_t i = from; i < to; i++) {
        if (es[i].state != ENTRY_RENAMED)
            continue;
        struct sync_call c = {.fd = es[i].fd, .data_only = true};
        g_array_append_val(calls, c);
        if (!g_ptr_array_find(dirs, es[i].queue, NULL))
            g_ptr_array_add(dirs, es[i].queue);
    }
    guint nfiles = calls->len;
    for (guint d = 0; d < dirs->len; d++) {
        struct sync_call c = {.fd = ((struct queue *)dirs->pdata[d])->dirfd};
        g_array_append_val(calls, c);
    }
    /* Every write-out starts first, so that the disk sees them together.
     * Errors show up again in fdatasync. */
    if (nfiles > 1)
        for (size_t i = from; i < to; i++)
            if (es[i].state == ENTRY_RENAMED)
                sync_file_range(es[i].fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    struct sync_call *cs = (struct sync_call *)(void *)calls->data;
    if (batch->meanwhile.claim != NULL) {
        struct sync_meanwhile mw = batch->meanwhile;
        batch->meanwhile = (struct sync_meanwhile){0};
        sync_pool_run_during(cs, calls->len, &mw);
    } else {
        sync_pool_run(cs, calls->len);
    }
    /* The first nfiles calls are the renamed entries', in order. */
    GPtrArray *failed_dirs = g_ptr_array_new();
    guint k = 0;
    for (size_t i = from; i < to; i++) {
        if (es[i].state != ENTRY_RENAMED)
            continue;
        int err = cs[k++].err;
        if (err == 0)
            continue;
        entry_fail(&es[i], "cannot sync %s.pck: %s", es[i].base, g_strerror(err));
        if (!g_ptr_array_find(failed_dirs, es[i].queue, NULL))
            g_ptr_array_add(failed_dirs, es[i].queue);
    }
    for (guint d = 0; d < dirs->len; d++) {
        const struct queue *q = dirs->pdata[d];
        int err = cs[nfiles + d].err;
        /* A file's error may be its directory's: on ext4 without a journal
         * a new file's fdatasync also writes its directory's blocks and
         * inode (ext4_sync_parent), and a failed write there is reported
         * to that call alone, while the directory's fsync beside it may
         * have found nothing left to write and succeeded; an fsync run
         * again would not see an inode's failed write either. So a failed
         * file fails every entry of its directory: the MTA tries them
         * again, which at worst delivers one twice. */
        const char *why = err != 0 ? g_strerror(err) : NULL;
        if (why == NULL && g_ptr_array_find(failed_dirs, q, NULL))
            why = "an entry beside it failed to sync";
        for (size_t i = from; i < to && why != NULL; i++)
            if (es[i].state == ENTRY_RENAMED && es[i].queue == q)
                entry_fail(&es[i], "cannot sync directory %s: %s", q->dir, why);
    }
    g_ptr_array_free(failed_dirs, TRUE);
    g_ptr_array_free(dirs, TRUE);
    g_array_free(calls, TRUE);
}

/* Step 2: "<base>.pck.tmp" becomes "<base>.pck", the file still open.
 * Renaming before the data is synced lets one journal commit (the first
 * fdatasync's) carry the new inodes and the renames together; the
 * directory fsync after it then finds nothing left to commit. A crash
 * before step 4 can leave a ".pck" whose data never reached the disk, but
 * no one was told it was accepted: the reader finds it malformed and
 * preserves it in "bad" (docs/queues.md). */
static void entry_rename(struct batch_entry *e)
{
    if (e->state != ENTRY_WRITTEN)
        return;
    g_autofree char *tmp = entry_name(e, ".pck.tmp");
    g_autofree char *pck = entry_name(e, ".pck");
    int dfd = e->queue->dirfd;
    /* Never replace an entry, however unlikely a repeated base is. */
    if (queue_file_rename_noreplace(dfd, tmp, dfd, pck) != 0) {
        entry_fail(e, "cannot rename %s into place: %s", tmp, g_strerror(errno));
        return;
    }
    e->state = ENTRY_RENAMED;
}

/* Closing reports what a file system defers to close (NFS). */
static void entry_close(struct batch_entry *e)
{
    if (e->state != ENTRY_RENAMED || e->fd < 0)
        return;
    int fd = e->fd;
    e->fd = -1;
    if (close(fd) != 0)
        entry_fail(e, "cannot write %s.pck: %s", e->base, g_strerror(errno));
}

/* Step 4: one fsync per directory that received an entry. */
static void sync_dirs(struct queue_batch *batch, size_t from, size_t to)
{
    struct batch_entry *es = (struct batch_entry *)(void *)batch->entries->data;
    for (size_t i = from; i < to; i++) {
        if (es[i].state != ENTRY_RENAMED)
            continue;
        struct queue *q = es[i].queue;
        if (fsync(q->dirfd) == 0) {
            for (size_t j = i; j < to; j++)
                if (es[j].state == ENTRY_RENAMED && es[j].queue == q)
                    es[j].state = ENTRY_DURABLE;
            continue;
        }
        int err = errno;
        for (size_t j = i; j < to; j++)
            if (es[j].state == ENTRY_RENAMED && es[j].queue == q)
                entry_fail(&es[j], "cannot sync directory %s: %s", q->dir, g_strerror(err));
    }
}

static void commit_chunk(struct queue_batch *batch, size_t from, size_t to)
{
    struct batch_entry *es = (struct batch_entry *)(void *)batch->entries->data;
    for (size_t i = from; i < to; i++)
        entry_write(&es[i]);
    for (size_t i = from; i < to; i++)
        entry_rename(&es[i]);
    bool dirs_synced = false;
    if (chunk_uses_syncfs(batch, from, to)) {
        sync_by_syncfs(batch, from, to);
    } else if (batch->sync == QUEUE_SYNC_FDATASYNC) {
        sync_one_by_one(batch, from, to);
    } else {
        sync_side_by_side(batch, from, to);
        dirs_synced = true;
    }
    for (size_t i = from; i < to; i++)
        entry_close(&es[i]);
    if (dirs_synced) {
        for (size_t i = from; i < to; i++)
            if (es[i].state == ENTRY_RENAMED)
                es[i].state = ENTRY_DURABLE;
        return;
    }
    /* Also after a syncfs: on a file system without a journal (ext4 made
     * without one, ext2) syncfs(2) flushes the disk's cache before it
     * writes the last metadata (the inodes' extents, the directory
     * blocks), so only the directory fsync's flush makes the entries
     * durable there. With a journal the fsync costs one more flush. */
    sync_dirs(batch, from, to);
}

size_t queue_batch_commit(struct queue_batch *batch)
{
    size_t total = batch->entries->len, failed = 0;
    for (size_t from = batch->committed; from < total; from += QUEUE_BATCH_CHUNK)
        commit_chunk(batch, from, MIN(total, from + QUEUE_BATCH_CHUNK));
    batch->meanwhile = (struct sync_meanwhile){0}; /* when no chunk's syncs ran side by side */
    for (size_t i = batch->committed; i < total; i++)
        if (g_array_index(batch->entries, struct batch_entry, i).state != ENTRY_DURABLE)
            failed++;
    batch->committed = total;
    return failed;
}

int queue_batch_result(const struct queue_batch *batch, size_t index, const char **base_r,
                       const char **error_r)
{
    if (index >= batch->committed) {
        if (error_r != NULL)
            *error_r = "not committed";
        return -1;
    }
    const struct batch_entry *e = &g_array_index(batch->entries, struct batch_entry, index);
    if (e->state != ENTRY_DURABLE) {
        if (error_r != NULL)
            *error_r = e->error;
        return -1;
    }
    if (base_r != NULL)
        *base_r = e->base;
    return 0;
}
