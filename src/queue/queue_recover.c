/* queue_recover - see queue_recover.h. */
#include "queue/queue_recover.h"

#include "lib/log.h"
#include "queue/queue.h"
#include "queue/queue_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum outcome { RESTORED, PRESERVED, FAILED, SKIPPED };

static enum outcome preserve(struct queue *q, const char *bak, const char *base, const char *why)
{
    g_autofree char *error = NULL;
    if (queue_preserve(q, bak, base, &error) < 0) {
        log_error("queue %s: %s: %s; cannot preserve it: %s", q->name, base, why, error);
        return FAILED;
    }
    log_error("queue %s: %s: %s; preserved in bad", q->name, base, why);
    return PRESERVED;
}

static enum outcome recover_one(struct queue *q, const char *base)
{
    g_autofree char *bak = g_strconcat(base, QUEUE_EXT_CLAIMED, NULL);
    g_autofree char *pck = g_strconcat(base, QUEUE_EXT_WAITING, NULL);
    g_autofree char *data = NULL;
    g_autofree char *why = NULL;
    size_t len, off;
    if (queue_file_read(q->dirfd, bak, &data, &len, &why) < 0) {
        if (errno == ENOENT)
            return SKIPPED;
        if (errno == EFBIG || errno == EINVAL)
            return preserve(q, bak, base, why);
        log_error("queue %s: %s", q->name, why);
        return FAILED;
    }
    struct queue_meta *meta;
    if (queue_file_parse(data, len, &meta, &off, &why) < 0)
        return preserve(q, bak, base, why);
    uint64_t n = 0;
    if (queue_meta_get_uint(meta, QUEUE_KEY_RECOVERIES, &n, &why) < 0 || n >= UINT32_MAX) {
        queue_meta_free(meta);
        return preserve(q, bak, base, why ? why : "recovery count out of range");
    }
    queue_meta_set_uint(meta, QUEUE_KEY_RECOVERIES, ++n);
    /* Durable before anything else, so that a crash now cannot lose the
     * count and loop on a message that kills its runner. */
    g_autoptr(GString) head = g_string_sized_new(off + 16);
    int rc = queue_file_format_header(head, meta, len - off, &why);
    queue_meta_free(meta);
    if (rc == 0)
        rc = queue_replace_file(q, bak, head->str, head->len, data + off, len - off, false, &why);
    if (rc < 0) {
        log_error("queue %s: cannot recover %s: %s", q->name, base, why);
        return FAILED;
    }
    if (n >= QUEUE_MAX_RECOVERIES)
        return preserve(q, bak, base, "recovered too many times");
    if (queue_file_rename_noreplace(q->dirfd, bak, q->dirfd, pck) != 0) {
        log_error("queue %s: cannot rename %s to %s: %s", q->name, bak, pck, g_strerror(errno));
        return FAILED;
    }
    log_info("queue %s: recovered %s (recovery %" G_GUINT64_FORMAT ")", q->name, base, n);
    return RESTORED;
}

/* Whether name is "<base>.<ext>.tmp" with base in the slice. */
static bool temp_in_slice(const char *name, unsigned count, unsigned index)
{
    size_t len = strlen(name), tl = strlen(QUEUE_EXT_TEMP);
    if (len <= tl || strcmp(name + len - tl, QUEUE_EXT_TEMP) != 0)
        return false;
    const char *dot = memrchr(name, '.', len - tl);
    struct queue_file_base b;
    return dot != NULL && queue_file_parse_base(name, (size_t)(dot - name), &b) &&
           queue_file_in_slice(&b, count, index);
}

/* A "<base>.prg" of the slice whose entry is neither waiting nor claimed. */
static bool orphan_progress(struct queue *q, const char *name, unsigned count, unsigned index)
{
    size_t len = strlen(name), pl = strlen(QUEUE_EXT_PROGRESS);
    if (len <= pl || strcmp(name + len - pl, QUEUE_EXT_PROGRESS) != 0)
        return false;
    struct queue_file_base b;
    if (!queue_file_parse_base(name, len - pl, &b) || !queue_file_in_slice(&b, count, index))
        return false;
    g_autofree char *base = g_strndup(name, len - pl);
    g_autofree char *pck = g_strconcat(base, QUEUE_EXT_WAITING, NULL);
    g_autofree char *bak = g_strconcat(base, QUEUE_EXT_CLAIMED, NULL);
    struct stat st;
    return fstatat(q->dirfd, pck, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
           fstatat(q->dirfd, bak, &st, AT_SYMLINK_NOFOLLOW) != 0;
}

/* A stale "<base>.pck.tmp" that holds a whole entry: the writer synced it
 * and then died before the rename, or the machine crashed after a requeue
 * had removed the entry it replaced but before the new name reached the
 * disk (possible on a file system without a journal, which may write the
 * two directories in either order). The second case is the only copy of
 * the message, and the two cannot be told apart: it is kept in bad,
 * where an administrator can look (the first case is a duplicate).
 * Returns its base (newly allocated), or NULL for anything else. */
static char *whole_entry_base(struct queue *q, const char *name)
{
    static const char ext[] = QUEUE_EXT_WAITING QUEUE_EXT_TEMP;
    if (!g_str_has_suffix(name, ext))
        return NULL;
    g_autofree char *data = NULL;
    g_autofree char *why = NULL;
    size_t dlen, off;
    struct queue_meta *meta = NULL;
    if (queue_file_read(q->dirfd, name, &data, &dlen, &why) < 0 ||
        queue_file_parse(data, dlen, &meta, &off, &why) < 0)
        return NULL;
    queue_meta_free(meta);
    return g_strndup(name, strlen(name) - (sizeof ext - 1));
}

static unsigned remove_stale_temps(struct queue *q, unsigned count, unsigned index,
                                   unsigned *preserved_r)
{
    int fd = openat(q->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        log_error("queue %s: cannot list %s: %s", q->name, q->dir, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return 0;
    }
    unsigned removed = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        struct stat st;
        if (orphan_progress(q, de->d_name, count, index)) {
            if (unlinkat(q->dirfd, de->d_name, 0) == 0)
                log_info("queue %s: removed %s, whose entry is gone", q->name, de->d_name);
            continue;
        }
        if (!temp_in_slice(de->d_name, count, index) ||
            fstatat(q->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            now - st.st_mtime <= QUEUE_TEMP_MAX_AGE)
            continue;
        g_autofree char *base = whole_entry_base(q, de->d_name);
        if (base != NULL) {
            if (preserve(q, de->d_name, base,
                         "a whole entry left under its temporary name by a crash (perhaps "
                         "the only copy, perhaps a duplicate)") == PRESERVED)
                (*preserved_r)++;
            continue;
        }
        if (unlinkat(q->dirfd, de->d_name, 0) == 0) {
            log_info("queue %s: removed stale %s", q->name, de->d_name);
            removed++;
        }
    }
    closedir(dir);
    return removed;
}

int queue_recover(struct queue *q, unsigned count, unsigned index,
                  struct queue_recover_stats *stats_r, char **error_r)
{
    struct queue_recover_stats stats = {0};
    GPtrArray *bases;
    if (queue_list_ext(q, QUEUE_EXT_CLAIMED, count, index, &bases, error_r) < 0)
        return -1;
    for (guint i = 0; i < bases->len; i++) {
        switch (recover_one(q, g_ptr_array_index(bases, i))) {
        case RESTORED:
            stats.restored++;
            break;
        case PRESERVED:
            stats.preserved++;
            break;
        case FAILED:
            stats.failed++;
            break;
        case SKIPPED:
            break;
        }
    }
    g_ptr_array_unref(bases);
    /* One directory fsync covers every rename back to ".pck". */
    if (stats.restored > 0 && fsync(q->dirfd) != 0)
        log_error("queue %s: cannot sync %s: %s", q->name, q->dir, g_strerror(errno));
    stats.temp_removed = remove_stale_temps(q, count, index, &stats.preserved);
    if (stats_r != NULL)
        *stats_r = stats;
    return 0;
}
