/* Unit tests for queue_batch (group commit) and queue_watch (inotify). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/fsutil.h"
#include "queue/queue.h"
#include "queue/queue_batch.h"
#include "queue/queue_watch.h"
#include "queue/sync_pool.h"
#include "queue_fixture.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned count_files(const char *dir, const char *suffix)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    assert_non_null(d);
    unsigned n = 0;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        n += g_str_has_suffix(name, suffix);
    g_dir_close(d);
    return n;
}

/* 16 entries over three queues, in every sync mode: all durable, each in
 * its queue with its own message and metadata. */
static void test_batch_many_queues(void **state)
{
    struct fixture *f = *state;
    static const char *const names[] = {"in", "command", "bounces"};
    static const enum queue_sync modes[] = {QUEUE_SYNC_WRITEBACK, QUEUE_SYNC_FDATASYNC,
                                            QUEUE_SYNC_SYNCFS, QUEUE_SYNC_AUTO};
    for (size_t m = 0; m < G_N_ELEMENTS(modes); m++) {
        struct queue_batch *batch = queue_batch_new(f->root);
        queue_batch_set_sync(batch, modes[m]);
        char msgs[16][64];
        size_t lens[16];
        for (int i = 0; i < 16; i++) {
            /* Binary: a NUL inside and an 8-bit byte at the end. */
            int n = g_snprintf(msgs[i], sizeof msgs[i], "Subject: %d\n\n\x01", i);
            msgs[i][n] = '\0';
            msgs[i][n + 1] = (char)(0x80 + i);
            lens[i] = (size_t)n + 2;
            struct queue_meta *meta = queue_meta_new();
            queue_meta_set_uint(meta, "index", (uint64_t)i);
            assert_int_equal(queue_batch_add(batch, get(f, names[i % 3]), meta, msgs[i], lens[i]),
                             (size_t)i);
            queue_meta_free(meta); /* the batch keeps its own copy */
        }
        assert_int_equal(queue_batch_count(batch), 16);
        assert_int_equal(queue_batch_commit(batch), 0);
        for (int i = 0; i < 16; i++) {
            const char *base = NULL, *error = NULL;
            assert_int_equal(queue_batch_result(batch, (size_t)i, &base, &error), 0);
            struct queue_entry *e = NULL;
            char *err = NULL;
            assert_int_equal(queue_claim(get(f, names[i % 3]), base, &e, &err), 1);
            uint64_t index = 99;
            assert_int_equal(queue_meta_get_uint(e->meta, "index", &index, &err), 1);
            assert_int_equal(index, i);
            assert_int_equal(e->msg_len, lens[i]);
            assert_memory_equal(e->msg, msgs[i], lens[i]);
            assert_int_equal(queue_finish(e, &err), 0);
            queue_entry_free(e);
        }
        queue_batch_free(batch);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        assert_int_equal(count_files(get(f, names[i])->dir, ".tmp"), 0);
}

/* Commits n entries to "in" with the root's sync mode; the first's base. */
static char *commit_n(struct fixture *f, size_t n)
{
    struct queue_batch *batch = queue_batch_new(f->root);
    struct queue_meta *meta = queue_meta_new();
    for (size_t i = 0; i < n; i++)
        queue_batch_add(batch, get(f, "in"), meta, "x", 1);
    queue_meta_free(meta);
    assert_int_equal(queue_batch_commit(batch), 0);
    const char *base = NULL;
    assert_int_equal(queue_batch_result(batch, 0, &base, NULL), 0);
    char *copy = g_strdup(base);
    queue_batch_free(batch);
    return copy;
}

/* auto: syncfs for a batch of QUEUE_SYNCFS_MIN_BATCH entries or more,
 * per-file syncs for smaller ones and where syncfs is not known to sync.
 * On a kernel before 5.8 auto is writeback from the start. */
static void test_batch_auto_uses_syncfs_for_big_batches(void **state)
{
    struct fixture *f = *state;
    const size_t big = QUEUE_SYNCFS_MIN_BATCH;
    queue_root_set_sync(f->root, QUEUE_SYNC_AUTO);
    bool has_auto = queue_root_sync(f->root) == QUEUE_SYNC_AUTO;
    /* syncfs only where it is known to sync (ext4, xfs, btrfs). */
    struct queue *in = get(f, "in");
    bool sound = in->syncfs_sound;
    g_free(commit_n(f, big - 1)); /* too small: per-file syncs */
    assert_int_equal(queue_root_syncfs_commits(f->root), 0);
    g_free(commit_n(f, big));
    assert_int_equal(queue_root_syncfs_commits(f->root), has_auto && sound ? 1 : 0);
    if (!has_auto) {
        assert_int_equal(queue_root_sync(f->root), QUEUE_SYNC_WRITEBACK);
        return;
    }
    in->syncfs_sound = false; /* as on FUSE: per-file syncs */
    g_free(commit_n(f, big));
    assert_int_equal(queue_root_syncfs_commits(f->root), sound ? 1 : 0);
}

/* auto: a syncfs slower than QUEUE_SYNCFS_SLOW_US pauses syncfs (per-file
 * syncs meanwhile), and the entries are durable either way. No real syncfs
 * runs before the timings are given: one that happened to be slow (a busy
 * machine: CI built and tested beside it) would already have paused it. */
static void test_batch_auto_pauses_after_slow_syncfs(void **state)
{
    struct fixture *f = *state;
    queue_root_set_sync(f->root, QUEUE_SYNC_AUTO);
    if (queue_root_sync(f->root) != QUEUE_SYNC_AUTO)
        skip(); /* a kernel before 5.8 */
    struct queue *in = get(f, "in");
    in->syncfs_sound = true; /* whatever the test's file system */
    /* A quick one changes nothing. */
    queue_root_syncfs_took(f->root, QUEUE_SYNCFS_SLOW_US);
    assert_true(queue_root_syncfs_allowed(f->root));
    queue_root_syncfs_took(f->root, QUEUE_SYNCFS_SLOW_US + 1);
    assert_false(queue_root_syncfs_allowed(f->root));
    unsigned before = queue_root_syncfs_commits(f->root); /* counts the two above */
    char *base = commit_n(f, QUEUE_SYNCFS_MIN_BATCH);
    assert_int_equal(queue_root_syncfs_commits(f->root), before); /* per-file syncs */
    struct queue_entry *e = NULL;
    char *err = NULL;
    assert_int_equal(queue_claim(in, base, &e, &err), 1);
    assert_memory_equal(e->msg, "x", 1);
    assert_int_equal(queue_finish(e, &err), 0);
    queue_entry_free(e);
    g_free(base);
    /* An explicit syncfs is never paused, whatever the batch. */
    queue_root_set_sync(f->root, QUEUE_SYNC_SYNCFS);
    g_free(commit_n(f, 1));
    assert_int_equal(queue_root_syncfs_commits(f->root), before + 1);
}

/* One bad entry fails alone; the others are durable. */
static void test_batch_per_entry_results(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in"), *out = get(f, "out");
    struct queue_meta *good = queue_meta_new();
    queue_meta_set(good, "listid", "l");
    struct queue_meta *bad = queue_meta_new();
    queue_meta_set(bad, "not a key", "v");

    /* A queue whose directory vanished after it was opened. */
    char *error = NULL;
    assert_int_equal(fs_remove_tree(out->dir, &error), 0);

    struct queue_batch *batch = queue_batch_new(f->root);
    queue_batch_add(batch, in, good, "one", 3);
    queue_batch_add(batch, in, bad, "two", 3);
    queue_batch_add(batch, out, good, "three", 5);
    queue_batch_add(batch, in, good, "four", 4);
    assert_int_equal(queue_batch_commit(batch), 2);
    const char *base, *why;
    assert_int_equal(queue_batch_result(batch, 0, &base, &why), 0);
    assert_int_equal(queue_batch_result(batch, 1, &base, &why), -1);
    assert_non_null(strstr(why, "invalid metadata key"));
    assert_int_equal(queue_batch_result(batch, 2, &base, &why), -1);
    assert_non_null(strstr(why, "queue out"));
    assert_int_equal(queue_batch_result(batch, 3, &base, &why), 0);
    assert_int_equal(count_files(in->dir, ".pck"), 2);
    assert_int_equal(count_files(in->dir, ".tmp"), 0);

    /* A batch can go on after a commit. */
    size_t i = queue_batch_add(batch, in, good, "five", 4);
    assert_int_equal(queue_batch_result(batch, i, &base, &why), -1); /* not yet */
    assert_int_equal(queue_batch_commit(batch), 0);
    assert_int_equal(queue_batch_result(batch, i, &base, &why), 0);
    assert_int_equal(count_files(in->dir, ".pck"), 3);
    queue_batch_free(batch);
    queue_meta_free(good);
    queue_meta_free(bad);
}

/* More entries than one chunk of open descriptors. */
static void test_batch_larger_than_chunk(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in");
    struct queue_meta *meta = queue_meta_new();
    struct queue_batch *batch = queue_batch_new(f->root);
    size_t n = QUEUE_BATCH_CHUNK * 2 + 3;
    for (size_t i = 0; i < n; i++)
        queue_batch_add(batch, in, meta, "m", 1);
    assert_int_equal(queue_batch_commit(batch), 0);
    assert_int_equal(count_files(in->dir, ".pck"), n);
    GPtrArray *bases;
    char *error = NULL;
    assert_int_equal(queue_list(in, 1, 0, &bases, &error), 0);
    /* FIFO follows the order of the batch. */
    for (size_t i = 0; i < n; i++) {
        const char *base;
        assert_int_equal(queue_batch_result(batch, i, &base, NULL), 0);
        assert_string_equal(g_ptr_array_index(bases, i), base);
    }
    g_ptr_array_unref(bases);
    queue_batch_free(batch);
    queue_meta_free(meta);
}

/* What the pool was asked to run (sync_pool_set_fn, no real syncs): each
 * call's file under its name at the time, and whether it was fdatasync. A
 * file whose content holds fail_marker fails with EIO, and so does
 * fail_dir's fsync from its fail_dir_from-th call on (1 for every one). */
struct seen_call {
    char *path;
    bool data_only;
};
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *seen_calls;
static const char *fail_marker;
static const char *fail_dir;
static unsigned fail_dir_from;

static void seen_call_free(gpointer p)
{
    struct seen_call *c = p;
    g_free(c->path);
    g_free(c);
}

static int seen_fn(int fd, bool data_only)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    struct seen_call *c = g_new0(struct seen_call, 1);
    c->path = g_file_read_link(link, NULL);
    c->data_only = data_only;
    bool fail = false;
    g_autofree char *content = NULL;
    gsize len = 0;
    if (c->path != NULL && fail_marker != NULL && data_only &&
        g_file_get_contents(c->path, &content, &len, NULL))
        fail = g_strstr_len(content, (gssize)len, fail_marker) != NULL;
    pthread_mutex_lock(&seen_lock);
    unsigned nth = 1;
    for (guint i = 0; i < seen_calls->len; i++) {
        const struct seen_call *o = seen_calls->pdata[i];
        nth += !o->data_only && g_strcmp0(o->path, c->path) == 0;
    }
    if (fail_dir != NULL && !data_only && g_strcmp0(c->path, fail_dir) == 0)
        fail = fail || nth >= fail_dir_from;
    g_ptr_array_add(seen_calls, c);
    pthread_mutex_unlock(&seen_lock);
    if (fail) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static void seen_start(const char *marker, const char *dir, unsigned from)
{
    seen_calls = g_ptr_array_new_with_free_func(seen_call_free);
    fail_marker = marker;
    fail_dir = dir;
    fail_dir_from = from;
    sync_pool_set_fn(seen_fn);
}

static void seen_stop(void)
{
    sync_pool_set_fn(NULL);
    g_ptr_array_unref(seen_calls);
    seen_calls = NULL;
}

/* The fixture's teardown, and the real syncs back after a failed test. */
static int teardown_seen(void **state)
{
    if (seen_calls != NULL)
        seen_stop();
    return teardown(state);
}

/* How many calls ran on path, and of which kind. */
static unsigned seen_count(const char *path, bool data_only)
{
    unsigned n = 0;
    for (guint i = 0; i < seen_calls->len; i++) {
        const struct seen_call *c = seen_calls->pdata[i];
        n += c->data_only == data_only && g_strcmp0(c->path, path) == 0;
    }
    return n;
}

/* Seven entries over three queues, the first refused before the sync:
 * a[in] b[in] c[in] d[command] e[bounces] f[bounces]. */
static const char *const sbs_msgs[] = {"<bad>", "<a>", "<b>", "<c>", "<d>", "<e>", "<f>"};
static const char *const sbs_queues[] = {"in", "in", "in", "in", "command", "bounces", "bounces"};

/* Each entry's result, "ok" or its error, and whether its file is there. */
static void sbs_expect(struct fixture *f, struct queue_batch *batch, const char *const want[])
{
    for (size_t i = 1; i < G_N_ELEMENTS(sbs_msgs); i++) {
        const char *base = NULL, *why = NULL;
        int rc = queue_batch_result(batch, i, &base, &why);
        if (strcmp(want[i], "ok") == 0) {
            if (rc != 0)
                fail_msg("entry %s: %s", sbs_msgs[i], why);
            g_autofree char *pck = g_strdup_printf("%s/%s.pck", get(f, sbs_queues[i])->dir, base);
            assert_true(g_file_test(pck, G_FILE_TEST_EXISTS));
        } else {
            if (rc == 0)
                fail_msg("entry %s: durable, expected \"%s\"", sbs_msgs[i], want[i]);
            if (strstr(why, want[i]) == NULL)
                fail_msg("entry %s: \"%s\", expected \"%s\"", sbs_msgs[i], why, want[i]);
        }
    }
    static const char *const names[] = {"in", "command", "bounces"};
    for (size_t q = 0; q < G_N_ELEMENTS(names); q++) {
        unsigned n = 0;
        for (size_t i = 1; i < G_N_ELEMENTS(sbs_msgs); i++)
            n += strcmp(sbs_queues[i], names[q]) == 0 && strcmp(want[i], "ok") == 0;
        assert_int_equal(count_files(get(f, names[q])->dir, ".pck"), n);
        assert_int_equal(count_files(get(f, names[q])->dir, ".tmp"), 0);
    }
}

/* Commits the seven with the pool's calls recorded (seen_start first);
 * want[i] is "ok" or a part of entry i's error. */
static struct queue_batch *sbs_commit(struct fixture *f, const char *const want[])
{
    struct queue_meta *good = queue_meta_new();
    struct queue_meta *bad = queue_meta_new();
    queue_meta_set(bad, "not a key", "v");
    struct queue_batch *batch = queue_batch_new(f->root);
    queue_batch_set_sync(batch, QUEUE_SYNC_WRITEBACK);
    for (size_t i = 0; i < G_N_ELEMENTS(sbs_msgs); i++)
        queue_batch_add(batch, get(f, sbs_queues[i]), i == 0 ? bad : good, sbs_msgs[i],
                        strlen(sbs_msgs[i]));
    size_t failed = queue_batch_commit(batch);
    size_t want_failed = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(sbs_msgs); i++)
        want_failed += i == 0 || strcmp(want[i], "ok") != 0;
    assert_int_equal(failed, want_failed);
    queue_meta_free(good);
    queue_meta_free(bad);
    sbs_expect(f, batch, want);
    return batch;
}

/* Ends a case: the batch freed, the real syncs back, the queues emptied. */
static void sbs_done(struct fixture *f, struct queue_batch *batch)
{
    queue_batch_free(batch);
    seen_stop();
    static const char *const names[] = {"in", "command", "bounces"};
    for (size_t q = 0; q < G_N_ELEMENTS(names); q++) {
        const char *dir = get(f, names[q])->dir;
        GDir *d = g_dir_open(dir, 0, NULL);
        assert_non_null(d);
        const char *name;
        while ((name = g_dir_read_name(d)) != NULL) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            assert_int_equal(unlink(path), 0);
        }
        g_dir_close(d);
    }
}

/* writeback: every renamed entry's file is fdatasynced under its final
 * name, each directory that received one is fsynced, nothing else; an
 * error reaches the entries it concerns and no other. */
static void test_batch_side_by_side_syncs(void **state)
{
    struct fixture *f = *state;
    const char *in = get(f, "in")->dir, *command = get(f, "command")->dir,
               *bounces = get(f, "bounces")->dir;

    seen_start(NULL, NULL, 0);
    static const char *const all_ok[] = {"", "ok", "ok", "ok", "ok", "ok", "ok"};
    struct queue_batch *batch = sbs_commit(f, all_ok);
    assert_int_equal(seen_calls->len, 6 + 3);
    for (size_t i = 1; i < G_N_ELEMENTS(sbs_msgs); i++) {
        const char *base = NULL;
        assert_int_equal(queue_batch_result(batch, i, &base, NULL), 0);
        g_autofree char *pck = g_strdup_printf("%s/%s.pck", get(f, sbs_queues[i])->dir, base);
        assert_int_equal(seen_count(pck, true), 1);
    }
    assert_int_equal(seen_count(in, false), 1);
    assert_int_equal(seen_count(command, false), 1);
    assert_int_equal(seen_count(bounces, false), 1);
    sbs_done(f, batch);

    /* One file fails: its directory's entries with it (its fdatasync may
     * have met the directory's failed write; see sync_side_by_side), the
     * other directories' are durable. */
    seen_start("<c>", NULL, 0);
    static const char *const c_fails[] = {
        "", "entry beside it failed", "entry beside it failed", "cannot sync ", "ok", "ok", "ok"};
    sbs_done(f, sbs_commit(f, c_fails));

    /* A directory fails: its entries. */
    seen_start(NULL, bounces, 1);
    static const char *const bounces_fail[] = {
        "", "ok", "ok", "ok", "ok", "cannot sync directory", "cannot sync directory"};
    sbs_done(f, sbs_commit(f, bounces_fail));

    /* A file fails, and its directory's fsync beside it succeeds (it
     * would fail only if run again): as on ext4 without a journal, where
     * the file's fdatasync writes the new entries' directory block
     * (ext4_sync_parent) and only it sees that write fail. The
     * directory's other entries fail too, and nothing more is synced. */
    seen_start("<b>", in, 2);
    static const char *const in_fails[] = {
        "", "entry beside it failed", "cannot sync ", "entry beside it failed", "ok", "ok", "ok"};
    batch = sbs_commit(f, in_fails);
    assert_int_equal(seen_calls->len, 6 + 3);
    sbs_done(f, batch);
}

/* queue_batch_prewrite writes the temporary files and the commit then
 * only renames and syncs them; a batch freed before its commit leaves
 * nothing behind. */
static void test_batch_prewrite(void **state)
{
    struct fixture *f = *state;
    const char *in = get(f, "in")->dir;
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", "ant.example.com");
    struct queue_batch *batch = queue_batch_new(f->root);
    for (int i = 0; i < 3; i++)
        queue_batch_add(batch, get(f, "in"), meta, "Subject: x\n\nbody\n", 17);
    queue_batch_prewrite(batch);
    assert_int_equal(count_files(in, ".pck.tmp"), 3);
    assert_int_equal(count_files(in, ".pck"), 0);
    queue_batch_prewrite(batch); /* nothing written twice */
    assert_int_equal(count_files(in, ".pck.tmp"), 3);
    queue_batch_add(batch, get(f, "in"), meta, "Subject: y\n\nbody\n", 17);
    assert_int_equal(queue_batch_commit(batch), 0);
    assert_int_equal(count_files(in, ".pck.tmp"), 0);
    assert_int_equal(count_files(in, ".pck"), 4);
    for (size_t i = 0; i < 4; i++) {
        const char *base = NULL;
        assert_int_equal(queue_batch_result(batch, i, &base, NULL), 0);
        struct queue_entry *e = NULL;
        char *err = NULL;
        assert_int_equal(queue_claim(get(f, "in"), base, &e, &err), 1);
        assert_int_equal(e->msg_len, 17);
        assert_memory_equal(e->msg, i < 3 ? "Subject: x" : "Subject: y", 10);
        assert_int_equal(queue_finish(e, &err), 0);
        queue_entry_free(e);
    }
    queue_batch_free(batch);

    batch = queue_batch_new(f->root);
    queue_batch_add(batch, get(f, "in"), meta, "Subject: z\n\nbody\n", 17);
    queue_batch_prewrite(batch);
    assert_int_equal(count_files(in, ".pck.tmp"), 1);
    queue_batch_free(batch);
    assert_int_equal(count_files(in, ".pck.tmp"), 0);
    assert_int_equal(count_files(in, ".pck"), 0);
    queue_meta_free(meta);
}

/* The work given with queue_batch_set_meanwhile runs while the syncs run
 * side by side: each sync waits (up to 5 s) for it to have run, and fails
 * otherwise. With other sync modes it does not run. */
static pthread_mutex_t mw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mw_cond = PTHREAD_COND_INITIALIZER;
static bool mw_worked;
static int mw_claims, mw_works;

static int wait_for_work(int fd, bool data_only)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&mw_lock);
    int rc = 0;
    while (!mw_worked && rc == 0)
        rc = pthread_cond_timedwait(&mw_cond, &mw_lock, &until);
    bool worked = mw_worked;
    pthread_mutex_unlock(&mw_lock);
    if (!worked) {
        errno = ETIMEDOUT;
        return -1;
    }
    return data_only ? fdatasync(fd) : fsync(fd);
}

static bool mw_claim(void *ctx)
{
    (void)ctx;
    mw_claims++;
    return true;
}

static void mw_work(void *ctx)
{
    struct queue_batch *next = ctx;
    mw_works++;
    queue_batch_prewrite(next); /* as the LMTP runner does */
    pthread_mutex_lock(&mw_lock);
    mw_worked = true;
    pthread_cond_broadcast(&mw_cond);
    pthread_mutex_unlock(&mw_lock);
}

static void test_batch_meanwhile(void **state)
{
    struct fixture *f = *state;
    const char *in = get(f, "in")->dir;
    struct queue_meta *meta = queue_meta_new();
    static const enum queue_sync modes[] = {QUEUE_SYNC_WRITEBACK, QUEUE_SYNC_FDATASYNC,
                                            QUEUE_SYNC_SYNCFS};
    for (size_t m = 0; m < G_N_ELEMENTS(modes); m++) {
        struct queue_batch *batch = queue_batch_new(f->root);
        struct queue_batch *next = queue_batch_new(f->root);
        queue_batch_set_sync(batch, modes[m]);
        for (int i = 0; i < 2; i++) {
            queue_batch_add(batch, get(f, "in"), meta, "a", 1);
            queue_batch_add(next, get(f, "in"), meta, "b", 1);
        }
        struct sync_meanwhile mw = {mw_claim, mw_work, next};
        queue_batch_set_meanwhile(batch, &mw);
        mw_worked = false;
        mw_claims = mw_works = 0;
        bool side_by_side = modes[m] == QUEUE_SYNC_WRITEBACK;
        if (side_by_side)
            sync_pool_set_fn(wait_for_work);
        assert_int_equal(queue_batch_commit(batch), 0);
        sync_pool_set_fn(NULL);
        assert_int_equal(mw_claims, side_by_side ? 1 : 0);
        assert_int_equal(mw_works, side_by_side ? 1 : 0);
        assert_int_equal(count_files(in, ".pck.tmp"), side_by_side ? 2 : 0);
        /* Once: the next commit of the same batch has no work given. */
        queue_batch_add(batch, get(f, "in"), meta, "c", 1);
        assert_int_equal(queue_batch_commit(batch), 0);
        assert_int_equal(mw_works, side_by_side ? 1 : 0);
        assert_int_equal(queue_batch_commit(next), 0);
        assert_int_equal(count_files(in, ".pck.tmp"), 0);
        queue_batch_free(batch);
        queue_batch_free(next);
    }
    queue_meta_free(meta);
}

static bool readable_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The descriptor wakes up when another process enqueues. */
static void test_watch_sees_other_process(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in");
    struct queue_watch *watch;
    char *error = NULL;
    assert_int_equal(queue_watch_open(in->dir, &watch, &error), 0);
    assert_false(readable_within(queue_watch_fd(watch), 0));
    assert_int_equal(queue_watch_drain(watch, &error), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct queue_root *root = queue_root_new(f->dir);
        struct queue *q;
        char *err = NULL;
        struct queue_meta *meta = queue_meta_new();
        int rc = queue_root_get(root, "in", &q, &err) == 0 &&
                         queue_enqueue(q, meta, "hello", 5, NULL, &err) == 0
                     ? 0
                     : 1;
        _exit(rc);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(readable_within(queue_watch_fd(watch), 5000));
    assert_int_equal(queue_watch_drain(watch, &error), 1);
    /* Drained: quiet again. */
    assert_false(readable_within(queue_watch_fd(watch), 0));
    assert_int_equal(queue_watch_drain(watch, &error), 0);

    /* Files that are not entries wake it up but do not count. */
    g_autofree char *tmp = g_build_filename(in->dir, "1.0+x.pck.tmp", NULL);
    assert_true(g_file_set_contents(tmp, "x", 1, NULL));
    assert_true(readable_within(queue_watch_fd(watch), 5000));
    assert_int_equal(queue_watch_drain(watch, &error), 0);

    /* A recovery (".bak" renamed back) counts as a new entry. */
    GPtrArray *bases;
    assert_int_equal(queue_list(in, 1, 0, &bases, &error), 0);
    struct queue_entry *e = NULL;
    assert_int_equal(queue_claim(in, g_ptr_array_index(bases, 0), &e, &error), 1);
    assert_int_equal(queue_watch_drain(watch, &error), 0);
    assert_int_equal(queue_release(e, &error), 0);
    assert_int_equal(queue_watch_drain(watch, &error), 1);
    queue_entry_free(e);
    g_ptr_array_unref(bases);
    queue_watch_close(watch);

    assert_int_equal(queue_watch_open("/nonexistent/dir", &watch, &error), -1);
    g_free(error);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_many_queues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_auto_uses_syncfs_for_big_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_auto_pauses_after_slow_syncfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_per_entry_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_larger_than_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_side_by_side_syncs, setup, teardown_seen),
        cmocka_unit_test_setup_teardown(test_batch_prewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_sees_other_process, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
