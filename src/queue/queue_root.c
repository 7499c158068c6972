/* queue_root - see queue_root.h. */
#include "queue/queue_root.h"

#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Mailman 3.3.8's queues (reference §10.3). */
static const char *const standard_names[] = {
    "archive", "bad", "bounces",  "command", "digest", "in",
    "nntp",    "out", "pipeline", "retry",   "shunt",  "virgin",
};

#define QUEUE_DIR_MODE 0770

struct queue_root {
    char *dir;
    enum queue_sync sync;
    gint64 syncfs_paused_until; /* monotonic µs; atomic, for AUTO */
    unsigned syncfs_commits;    /* atomic */
    GHashTable *paths;          /* name -> directory, every known queue */
    GHashTable *queues;         /* name -> struct queue, the opened ones */
};

static void queue_close(gpointer p)
{
    struct queue *q = p;
    if (q->dirfd >= 0)
        close(q->dirfd);
    g_free(q->name);
    g_free(q->dir);
    g_free(q);
}

struct queue_root *queue_root_new(const char *queue_dir)
{
    struct queue_root *root = g_new0(struct queue_root, 1);
    root->dir = g_strdup(queue_dir);
    root->sync = QUEUE_SYNC_WRITEBACK;
    root->paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    root->queues = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, queue_close);
    for (size_t i = 0; i < G_N_ELEMENTS(standard_names); i++)
        g_hash_table_insert(root->paths, g_strdup(standard_names[i]),
                            g_build_filename(queue_dir, standard_names[i], NULL));
    return root;
}

void queue_root_free(struct queue_root *root)
{
    if (root == NULL)
        return;
    g_hash_table_destroy(root->queues);
    g_hash_table_destroy(root->paths);
    g_free(root->dir);
    g_free(root);
}

const char *queue_root_dir(const struct queue_root *root)
{
    return root->dir;
}

int queue_root_set_path(struct queue_root *root, const char *name, const char *dir, char **error_r)
{
    if (g_hash_table_contains(root->queues, name)) {
        *error_r = g_strdup_printf("queue %s is already open", name);
        return -1;
    }
    if (name[0] == '\0' || strchr(name, '/') != NULL) {
        *error_r = g_strdup_printf("bad queue name \"%s\"", name);
        return -1;
    }
    g_hash_table_insert(root->paths, g_strdup(name), g_strdup(dir));
    return 0;
}

/* Whether syncfs(2) reports write-back errors: Linux 5.8 and later. */
static bool syncfs_reports_errors(void)
{
    struct utsname u;
    unsigned major = 0, minor = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
        return false;
    return major > 5 || (major == 5 && minor >= 8);
}

void queue_root_set_sync(struct queue_root *root, enum queue_sync sync)
{
    if (sync == QUEUE_SYNC_AUTO && !syncfs_reports_errors())
        sync = QUEUE_SYNC_WRITEBACK;
    root->sync = sync;
}

bool queue_root_syncfs_allowed(struct queue_root *root)
{
    return g_get_monotonic_time() >= __atomic_load_n(&root->syncfs_paused_until, __ATOMIC_RELAXED);
}

unsigned queue_root_syncfs_commits(struct queue_root *root)
{
    return __atomic_load_n(&root->syncfs_commits, __ATOMIC_RELAXED);
}

void queue_root_syncfs_took(struct queue_root *root, gint64 usec)
{
    __atomic_add_fetch(&root->syncfs_commits, 1, __ATOMIC_RELAXED);
    if (usec > QUEUE_SYNCFS_SLOW_US)
        __atomic_store_n(&root->syncfs_paused_until, g_get_monotonic_time() + QUEUE_SYNCFS_PAUSE_US,
                         __ATOMIC_RELAXED);
}

enum queue_sync queue_root_sync(const struct queue_root *root)
{
    return root->sync;
}

bool queue_root_known(const struct queue_root *root, const char *name)
{
    return g_hash_table_contains(root->paths, name);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *queue_root_names(const struct queue_root *root)
{
    GPtrArray *names = g_ptr_array_new();
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, root->paths);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(names, key);
    g_ptr_array_sort(names, compare_names);
    return names;
}

/* Creates dir if missing; a directory we create is only durable once its
 * parent is fsynced, and an entry in a vanished directory is lost. */
static int make_dir(const char *dir, char **error_r)
{
    if (mkdir(dir, QUEUE_DIR_MODE) == 0) {
        g_autofree char *parent = g_path_get_dirname(dir);
        return fs_fsync_dir(parent, error_r);
    }
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT) {
        *error_r = g_strdup_printf("cannot create directory %s: %s", dir, g_strerror(errno));
        return -1;
    }
    g_autofree char *parent = g_path_get_dirname(dir);
    if (strcmp(parent, dir) == 0 || make_dir(parent, error_r) < 0)
        return -1;
    return make_dir(dir, error_r);
}

/* Whether syncfs(2) makes the files on fd's file system durable: the
 * local file systems that implement ->sync_fs. On others it may return
 * without asking the file system to sync (FUSE, except virtiofs, does),
 * so QUEUE_SYNC_AUTO uses per-file syncs there. */
static bool syncfs_sound(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return false;
    switch ((unsigned long)sf.f_type) {
    case 0xEF53UL:     /* ext2, ext3, ext4 */
    case 0x58465342UL: /* xfs */
    case 0x9123683EUL: /* btrfs */
        return true;
    default:
        return false;
    }
}

int queue_root_get(struct queue_root *root, const char *name, struct queue **queue_r,
                   char **error_r)
{
    struct queue *q = g_hash_table_lookup(root->queues, name);
    if (q != NULL) {
        *queue_r = q;
        return 0;
    }
    const char *dir = g_hash_table_lookup(root->paths, name);
    if (dir == NULL) {
        *error_r = g_strdup_printf("No such queue: %s", name);
        return -1;
    }
    if (make_dir(dir, error_r) < 0)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *error_r = g_strdup_printf("cannot open queue directory %s: %s", dir, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    q = g_new0(struct queue, 1);
    q->name = g_strdup(name);
    q->dir = g_strdup(dir);
    q->dirfd = fd;
    q->dev = st.st_dev;
    q->syncfs_sound = syncfs_sound(fd);
    q->root = root;
    g_hash_table_insert(root->queues, q->name, q);
    *queue_r = q;
    return 0;
}
