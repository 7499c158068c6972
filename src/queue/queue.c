/* queue - see queue.h. */
#include "queue/queue.h"

#include "queue/queue_batch.h"
#include "queue/queue_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A header longer than this is dropped from a claimed entry's image. */
#define QUEUE_SHRINK_MIN (64u << 10)

int queue_enqueue(struct queue *q, const struct queue_meta *meta, const void *msg, size_t msg_len,
                  char **base_r, char **error_r)
{
    struct queue_batch *batch = queue_batch_new(q->root);
    queue_batch_add(batch, q, meta, msg, msg_len);
    queue_batch_commit(batch);
    const char *base, *error;
    int rc = queue_batch_result(batch, 0, &base, &error);
    if (rc == 0 && base_r != NULL)
        *base_r = g_strdup(base);
    if (rc < 0)
        *error_r = g_strdup(error);
    queue_batch_free(batch);
    return rc;
}

struct listed {
    struct queue_file_base when;
    char *base;
};

static int compare_listed(const void *a, const void *b)
{
    const struct listed *x = a, *y = b;
    return queue_file_compare(&x->when, x->base, &y->when, y->base);
}

int queue_list_ext(struct queue *q, const char *ext, unsigned count, unsigned index,
                   GPtrArray **bases_r, char **error_r)
{
    if (queue_file_check_slice(count, index, error_r) < 0)
        return -1;
    /* A descriptor of our own: a dup of dirfd would share its offset. */
    int fd = openat(q->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        *error_r = g_strdup_printf("cannot list %s: %s", q->dir, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t ext_len = strlen(ext);
    g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(struct listed));
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        struct listed item = {0};
        if (len <= ext_len || strcmp(de->d_name + len - ext_len, ext) != 0 ||
            !queue_file_parse_base(de->d_name, len - ext_len, &item.when) ||
            !queue_file_in_slice(&item.when, count, index))
            continue;
        /* The name is copied in place: found owns it. */
        g_array_append_val(found, item);
        g_array_index(found, struct listed, found->len - 1).base =
            g_strndup(de->d_name, len - ext_len);
    }
    int err = errno;
    closedir(dir);
    if (err != 0) {
        for (guint i = 0; i < found->len; i++)
            g_free(g_array_index(found, struct listed, i).base);
        *error_r = g_strdup_printf("cannot list %s: %s", q->dir, g_strerror(err));
        return -1;
    }
    if (found->len > 1)
        qsort(found->data, found->len, sizeof(struct listed), compare_listed);
    GPtrArray *bases = g_ptr_array_new_full(found->len, g_free);
    for (guint i = 0; i < found->len; i++)
        g_ptr_array_add(bases, g_array_index(found, struct listed, i).base);
    *bases_r = bases;
    return 0;
}

bool queue_busy(struct queue *q)
{
    int fd = openat(q->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    bool busy = false;
    struct dirent *de;
    while (!busy && (de = readdir(dir)) != NULL)
        busy = g_str_has_suffix(de->d_name, QUEUE_EXT_WAITING) ||
               g_str_has_suffix(de->d_name, QUEUE_EXT_CLAIMED);
    closedir(dir);
    return busy;
}

int queue_list(struct queue *q, unsigned count, unsigned index, GPtrArray **bases_r, char **error_r)
{
    return queue_list_ext(q, QUEUE_EXT_WAITING, count, index, bases_r, error_r);
}

int queue_claim(struct queue *q, const char *base, struct queue_entry **entry_r, char **error_r)
{
    g_autofree char *pck = g_strconcat(base, QUEUE_EXT_WAITING, NULL);
    g_autofree char *bak = g_strconcat(base, QUEUE_EXT_CLAIMED, NULL);
    if (queue_file_rename_noreplace(q->dirfd, pck, q->dirfd, bak) != 0) {
        if (errno == ENOENT)
            return 0;
        *error_r =
            g_strdup_printf("queue %s: cannot claim %s: %s", q->name, pck, g_strerror(errno));
        return -1;
    }
    char *image;
    size_t len;
    g_autofree char *why = NULL;
    if (queue_file_read(q->dirfd, bak, &image, &len, &why) < 0) {
        if (errno == EFBIG || errno == EINVAL)
            goto malformed;
        /* An I/O error may pass; recovery will retry the ".bak". */
        *error_r = g_strdup_printf("queue %s: %s", q->name, why);
        return -1;
    }
    struct queue_meta *meta;
    size_t off;
    if (queue_file_parse(image, len, &meta, &off, &why) < 0) {
        g_free(image);
        goto malformed;
    }
    /* The metadata now lives in meta: a large header (the recipient list
     * of a fan-out, 25 MB for a million members) is not kept twice. */
    if (off > QUEUE_SHRINK_MIN) {
        memmove(image, image + off, len - off + 1);
        len -= off;
        off = 0;
        image = g_realloc(image, len + 1);
    }
    struct queue_entry *e = g_new0(struct queue_entry, 1);
    e->queue = q;
    e->base = g_strdup(base);
    e->meta = meta;
    e->image = image;
    e->image_len = len;
    e->msg = image + off;
    e->msg_len = len - off;
    *entry_r = e;
    return 1;

malformed:;
    g_autofree char *moved = NULL;
    int rc = queue_preserve(q, bak, base, &moved);
    *error_r = g_strdup_printf("queue %s: malformed entry %s (%s); %s", q->name, base, why,
                               rc == 0 ? "preserved in bad" : moved);
    return -1;
}

static int check_open(const struct queue_entry *e, char **error_r);

static void progress_drop(const struct queue_entry *e)
{
    g_autofree char *prg = g_strconcat(e->base, QUEUE_EXT_PROGRESS, NULL);
    (void)unlinkat(e->queue->dirfd, prg, 0);
}

int queue_progress_append(struct queue_entry *e, const char *text, bool sync, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    g_autofree char *prg = g_strconcat(e->base, QUEUE_EXT_PROGRESS, NULL);
    bool created = false;
    int fd = openat(e->queue->dirfd, prg, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = openat(e->queue->dirfd, prg, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
        created = fd >= 0;
    }
    if (fd < 0) {
        *error_r =
            g_strdup_printf("queue %s: cannot open %s: %s", e->queue->name, prg, g_strerror(errno));
        return -1;
    }
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    size_t len = strlen(line), done = 0;
    int rc = 0;
    while (done < len && rc == 0) {
        ssize_t n = write(fd, line + done, len - done);
        if (n < 0 && errno != EINTR)
            rc = -1;
        else if (n > 0)
            done += (size_t)n;
    }
    if (rc == 0 && (sync || created) && fdatasync(fd) != 0)
        rc = -1;
    if (rc < 0)
        *error_r = g_strdup_printf("queue %s: cannot write %s: %s", e->queue->name, prg,
                                   g_strerror(errno));
    close(fd);
    if (rc == 0 && created && fsync(e->queue->dirfd) != 0) {
        *error_r = g_strdup_printf("queue %s: cannot sync after creating %s: %s", e->queue->name,
                                   prg, g_strerror(errno));
        rc = -1;
    }
    return rc;
}

char *queue_progress_read(const struct queue_entry *e)
{
    g_autofree char *prg = g_strconcat(e->base, QUEUE_EXT_PROGRESS, NULL);
    char *data = NULL;
    size_t len = 0;
    char *err = NULL;
    if (queue_file_read(e->queue->dirfd, prg, &data, &len, &err) < 0) {
        g_free(err);
        return g_strdup("");
    }
    /* keep complete lines only */
    while (len > 0 && data[len - 1] != '\n')
        len--;
    char *out = g_strndup(data, len);
    g_free(data);
    return out;
}

static int entry_unlink(struct queue_entry *e, char **error_r)
{
    g_autofree char *bak = g_strconcat(e->base, QUEUE_EXT_CLAIMED, NULL);
    e->done = true;
    /* No directory fsync: should the removal be lost in a crash, the entry
     * is recovered and processed again (at least once), and the next fsync
     * of any directory on ext4 commits it anyway. The entry goes before
     * its progress: a crash between the two leaves a progress log without
     * an entry, which recovery removes, never an entry without the log
     * that says how far its delivery went. */
    if (unlinkat(e->queue->dirfd, bak, 0) != 0) {
        *error_r = g_strdup_printf("queue %s: cannot remove %s: %s", e->queue->name, bak,
                                   g_strerror(errno));
        return -1;
    }
    progress_drop(e);
    return 0;
}

static int check_open(const struct queue_entry *e, char **error_r)
{
    if (!e->done)
        return 0;
    *error_r = g_strdup_printf("queue %s: entry %s already finished", e->queue->name, e->base);
    return -1;
}

int queue_finish(struct queue_entry *e, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    return entry_unlink(e, error_r);
}

/* What a durable replacement writes into its temporary file: -1 with
 * errno. */
struct file_body {
    const void *head, *body;
    size_t head_len, body_len;
    const struct queue_meta *meta; /* when set: the entry's header from meta */
    const char *skip;              /* a key meta's header leaves out */
};

static int body_write(int fd, const struct file_body *b)
{
    if (b->meta != NULL)
        return queue_file_write_entry(fd, b->meta, b->skip, b->body, b->body_len);
    return queue_file_write_all(fd, b->head, b->head_len, b->body, b->body_len);
}

static int replace_file(struct queue *q, const char *name, const struct file_body *b, bool sync_dir,
                        char **error_r)
{
    g_autofree char *tmp = g_strconcat(name, QUEUE_EXT_TEMP, NULL);
    /* A leftover of ours from a crash may hold the name; the entry is ours
     * (claimed or being recovered), so its temporary file is too. */
    unlinkat(q->dirfd, tmp, 0);
    int fd = openat(q->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (fd < 0) {
        *error_r =
            g_strdup_printf("queue %s: cannot create %s: %s", q->name, tmp, g_strerror(errno));
        return -1;
    }
    int failed = body_write(fd, b);
    if (failed == 0)
        failed = fdatasync(fd);
    if (failed != 0) {
        int err = errno;
        close(fd);
        unlinkat(q->dirfd, tmp, 0);
        *error_r = g_strdup_printf("queue %s: cannot write %s: %s", q->name, tmp, g_strerror(err));
        return -1;
    }
    if (close(fd) != 0 || renameat(q->dirfd, tmp, q->dirfd, name) != 0) {
        int err = errno;
        unlinkat(q->dirfd, tmp, 0);
        *error_r =
            g_strdup_printf("queue %s: cannot replace %s: %s", q->name, name, g_strerror(err));
        return -1;
    }
    if (sync_dir && fsync(q->dirfd) != 0) {
        *error_r =
            g_strdup_printf("queue %s: cannot sync %s: %s", q->name, q->dir, g_strerror(errno));
        return -1;
    }
    return 0;
}

int queue_replace_file(struct queue *q, const char *name, const void *head, size_t head_len,
                       const void *body, size_t body_len, bool sync_dir, char **error_r)
{
    struct file_body b = {head, body, head_len, body_len, NULL, NULL};
    return replace_file(q, name, &b, sync_dir, error_r);
}

int queue_checkpoint(struct queue_entry *e, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    if (queue_file_check_header(e->meta, NULL, e->msg_len, error_r) < 0)
        return -1;
    g_autofree char *bak = g_strconcat(e->base, QUEUE_EXT_CLAIMED, NULL);
    struct file_body b = {NULL, e->msg, 0, e->msg_len, e->meta, NULL};
    return replace_file(e->queue, bak, &b, true, error_r);
}

int queue_requeue(struct queue_entry *e, struct queue *dest, const void *msg, size_t msg_len,
                  char **base_r, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    if (msg == NULL) {
        msg = e->msg;
        msg_len = e->msg_len;
    }
    /* The new entry appears (data synced, renamed into place) and the old
     * one goes at once, the directory syncs after both: so a crash of the
     * process cannot leave both (the step would run twice, e.g. a whole
     * fan-out sent again), only the microseconds between two system calls.
     * A crash of the machine before the syncs keeps the old entry, or the
     * new one, or both — the rename comes first in the file system's
     * journal — never neither. */
    /* The count is of crashes while this file was claimed; Mailman's
     * _bak_count is likewise dropped when the entry is enqueued again. The
     * header is written straight from the entry's metadata: a recipient
     * list of 25 MB is neither copied nor formatted whole in memory. */
    if (queue_file_check_header(e->meta, QUEUE_KEY_RECOVERIES, msg_len, error_r) < 0)
        return -1;
    /* As Mailman's switchboard, the name hashes the message, not the
     * metadata: the time, pid and counter make it unique, and a recipient
     * list of megabytes is not hashed on every hop. */
    g_autofree char *base = queue_file_new_base(msg, msg_len, "", 0);
    g_autofree char *pck = g_strconcat(base, QUEUE_EXT_WAITING, NULL);
    struct file_body b = {NULL, msg, 0, msg_len, e->meta, QUEUE_KEY_RECOVERIES};
    if (replace_file(dest, pck, &b, false, error_r) < 0)
        return -1;
    int rc = entry_unlink(e, error_r);
    if (fsync(dest->dirfd) != 0 || fsync(e->queue->dirfd) != 0) {
        if (rc == 0)
            *error_r = g_strdup_printf("queue %s: cannot sync after requeueing %s: %s", dest->name,
                                       base, g_strerror(errno));
        rc = -1;
    }
    if (rc == 0 && base_r != NULL)
        *base_r = g_steal_pointer(&base);
    return rc;
}

int queue_shunt(struct queue_entry *e, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    struct queue *shunt;
    g_autofree char *why = NULL;
    if (queue_root_get(e->queue->root, "shunt", &shunt, &why) == 0) {
        queue_meta_set(e->meta, QUEUE_KEY_WHICHQ, e->queue->name);
        int rc = queue_requeue(e, shunt, NULL, 0, NULL, &why);
        if (rc == 0)
            return 0;
        if (e->done) { /* shunted, but the ".bak" stayed */
            *error_r = g_steal_pointer(&why);
            return -1;
        }
    }
    /* As Mailman: what cannot be shunted is preserved in bad. */
    g_autofree char *bad_why = NULL;
    if (queue_bad(e, &bad_why) < 0) {
        *error_r = g_strdup_printf("%s; %s", why, bad_why);
        return -1;
    }
    *error_r = g_strdup_printf("%s; preserved in bad instead", why);
    return -1;
}

int queue_bad(struct queue_entry *e, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    g_autofree char *bak = g_strconcat(e->base, QUEUE_EXT_CLAIMED, NULL);
    e->done = true;
    int rc = queue_preserve(e->queue, bak, e->base, error_r);
    if (rc == 0)
        progress_drop(e); /* after the entry, as in entry_unlink */
    return rc;
}

int queue_preserve(struct queue *q, const char *name, const char *base, char **error_r)
{
    struct queue *bad;
    if (queue_root_get(q->root, "bad", &bad, error_r) < 0)
        return -1;
    g_autofree char *psv = g_strconcat(base, QUEUE_EXT_PRESERVED, NULL);
    if (renameat(q->dirfd, name, bad->dirfd, psv) != 0) {
        if (errno != EXDEV) {
            *error_r = g_strdup_printf("queue %s: cannot move %s to %s: %s", q->name, name,
                                       bad->dir, g_strerror(errno));
            return -1;
        }
        /* Another file system: copy durably, then remove. */
        g_autofree char *data = NULL;
        size_t len;
        if (queue_file_read(q->dirfd, name, &data, &len, error_r) < 0 ||
            queue_replace_file(bad, psv, data, len, "", 0, true, error_r) < 0)
            return -1;
        if (unlinkat(q->dirfd, name, 0) != 0) {
            *error_r =
                g_strdup_printf("queue %s: cannot remove %s: %s", q->name, name, g_strerror(errno));
            return -1;
        }
    }
    /* Both directories changed; make the move itself durable. */
    if (fsync(bad->dirfd) != 0 || fsync(q->dirfd) != 0) {
        *error_r = g_strdup_printf("queue %s: cannot sync after moving %s to bad: %s", q->name,
                                   name, g_strerror(errno));
        return -1;
    }
    return 0;
}

int queue_release(struct queue_entry *e, char **error_r)
{
    if (check_open(e, error_r) < 0)
        return -1;
    g_autofree char *bak = g_strconcat(e->base, QUEUE_EXT_CLAIMED, NULL);
    g_autofree char *pck = g_strconcat(e->base, QUEUE_EXT_WAITING, NULL);
    struct queue *q = e->queue;
    if (queue_file_rename_noreplace(q->dirfd, bak, q->dirfd, pck) != 0) {
        *error_r =
            g_strdup_printf("queue %s: cannot release %s: %s", q->name, bak, g_strerror(errno));
        return -1;
    }
    e->done = true;
    /* Not synced: lost in a crash, it is a ".bak" that recovery restores. */
    return 0;
}

void queue_entry_free(struct queue_entry *e)
{
    if (e == NULL)
        return;
    g_free(e->base);
    queue_meta_free(e->meta);
    g_free(e->image);
    g_free(e);
}
