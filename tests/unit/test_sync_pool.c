/* Unit tests for sync_pool: calls side by side, each with its own result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue/sync_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *tmp_file(void)
{
    char *path = g_build_filename(g_get_tmp_dir(), "crier-sync-pool-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    return path;
}

/* Each call gets its own result: files succeed, a pipe cannot be synced
 * (EINVAL), a closed descriptor is refused (EBADF), in any mix. */
static void test_each_call_its_result(void **state)
{
    (void)state;
    char *path = tmp_file();
    int file = open(path, O_RDWR);
    assert_true(file >= 0);
    int dir = open(g_get_tmp_dir(), O_RDONLY | O_DIRECTORY);
    assert_true(dir >= 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    int closed = dup(file);
    close(closed);
    struct sync_call calls[] = {
        {.fd = p[0], .data_only = true},    {.fd = file, .data_only = true},
        {.fd = closed, .data_only = false}, {.fd = dir, .data_only = false},
        {.fd = p[1], .data_only = false},   {.fd = file, .data_only = false},
    };
    const int want[] = {EINVAL, 0, EBADF, 0, EINVAL, 0};
    for (int round = 0; round < 3; round++) {
        for (size_t n = 0; n <= G_N_ELEMENTS(calls); n++) {
            for (size_t i = 0; i < G_N_ELEMENTS(calls); i++)
                calls[i].err = -1;
            sync_pool_run(calls, n);
            for (size_t i = 0; i < G_N_ELEMENTS(calls); i++)
                assert_int_equal(calls[i].err, i < n ? want[i] : -1);
        }
    }
    close(p[0]);
    close(p[1]);
    close(dir);
    close(file);
    unlink(path);
    g_free(path);
}

/* A stand-in for fsync that returns only once `expected` calls are inside
 * it at the same time (or fails with ETIMEDOUT after 5 s): calls run one
 * after another would all fail. */
static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond = PTHREAD_COND_INITIALIZER;
static int meet_inside, meet_expected;

static int meet_fn(int fd, bool data_only)
{
    (void)fd;
    (void)data_only;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&meet_lock);
    meet_inside++;
    pthread_cond_broadcast(&meet_cond);
    int rc = 0;
    while (meet_inside < meet_expected && rc == 0)
        rc = pthread_cond_timedwait(&meet_cond, &meet_lock, &until);
    bool met = meet_inside >= meet_expected;
    pthread_mutex_unlock(&meet_lock);
    if (met)
        return 0;
    errno = ETIMEDOUT;
    return -1;
}

/* The caller and every pool thread run a call at the same time. */
static void test_calls_run_side_by_side(void **state)
{
    (void)state;
    enum { N = SYNC_POOL_THREADS + 1 };
    for (int round = 0; round < 2; round++) {
        struct sync_call calls[N];
        for (int i = 0; i < N; i++)
            calls[i] = (struct sync_call){.fd = i, .err = -1};
        meet_inside = 0;
        meet_expected = N;
        sync_pool_set_fn(meet_fn);
        sync_pool_run(calls, N);
        sync_pool_set_fn(NULL);
        for (int i = 0; i < N; i++)
            assert_int_equal(calls[i].err, 0);
        assert_int_equal(meet_inside, N);
    }
}

/* Several threads share the pool at once; every result reaches its call. */
struct caller {
    pthread_t thread;
    int file, pipe_fd;
    int failures;
};

static void *caller_main(void *arg)
{
    struct caller *c = arg;
    for (int r = 0; r < 200; r++) {
        struct sync_call calls[5];
        for (int i = 0; i < 5; i++)
            calls[i] = (struct sync_call){
                .fd = (i + r) % 2 ? c->pipe_fd : c->file, .data_only = i % 2, .err = -1};
        sync_pool_run(calls, (size_t)(1 + r % 5));
        for (int i = 0; i < 1 + r % 5; i++)
            c->failures += calls[i].err != ((i + r) % 2 ? EINVAL : 0);
    }
    return NULL;
}

static void test_callers_share_the_pool(void **state)
{
    (void)state;
    char *path = tmp_file();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct caller callers[4];
    for (int k = 0; k < 4; k++) {
        callers[k] = (struct caller){.file = open(path, O_RDWR), .pipe_fd = p[k % 2]};
        assert_true(callers[k].file >= 0);
        assert_int_equal(pthread_create(&callers[k].thread, NULL, caller_main, &callers[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(callers[k].thread, NULL);
        assert_int_equal(callers[k].failures, 0);
        close(callers[k].file);
    }
    close(p[0]);
    close(p[1]);
    unlink(path);
    g_free(path);
}

static int quick_fn(int fd, bool data_only)
{
    (void)fd;
    (void)data_only;
    g_usleep(1000);
    return 0;
}

/* A child of fork() (without exec) can use the pool: it has none of the
 * parent's threads, whose waits must not hold it up. */
static void test_forked_child_uses_the_pool(void **state)
{
    (void)state;
    enum { N = SYNC_POOL_THREADS + 1 };
    struct sync_call calls[N];
    for (int i = 0; i < N; i++)
        calls[i] = (struct sync_call){.fd = i};
    sync_pool_set_fn(quick_fn);
    for (int round = 0; round < 3; round++) {
        sync_pool_run(calls, 2 + (size_t)round % (N - 1)); /* threads left waiting */
        g_usleep(50 * 1000);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(10); /* a hang fails the test */
            int bad = 0;
            for (int r = 0; r < 40; r++) {
                size_t n = 2 + (size_t)r % (N - 1);
                for (size_t i = 0; i < n; i++)
                    calls[i].err = -1;
                sync_pool_run(calls, n);
                for (size_t i = 0; i < n; i++)
                    bad += calls[i].err != 0;
            }
            _exit(bad == 0 ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    sync_pool_set_fn(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_call_its_result),
        cmocka_unit_test(test_calls_run_side_by_side),
        cmocka_unit_test(test_callers_share_the_pool),
        cmocka_unit_test(test_forked_child_uses_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
