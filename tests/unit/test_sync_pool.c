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

/* sync_pool_run_during: a caller's work meets the calls inside meet_fn,
 * so it runs while they sync, and every call went to a thread (a call
 * left to the caller would keep the work from meeting them). */
static int mw_claims, mw_works, mw_work_rc;
static bool mw_has_work;

static bool mw_claim(void *ctx)
{
    (void)ctx;
    mw_claims++;
    return mw_has_work;
}

static void mw_work(void *ctx)
{
    (void)ctx;
    mw_works++;
    mw_work_rc = meet_fn(-1, false);
}

static const struct sync_meanwhile mw = {mw_claim, mw_work, NULL};

static void test_run_during_works_beside_the_calls(void **state)
{
    (void)state;
    enum { N = SYNC_POOL_THREADS };
    for (int round = 0; round < 2; round++) {
        struct sync_call calls[N];
        for (int i = 0; i < N; i++)
            calls[i] = (struct sync_call){.fd = i, .err = -1};
        meet_inside = 0;
        meet_expected = N + 1;
        mw_claims = mw_works = 0;
        mw_work_rc = -1;
        mw_has_work = true;
        sync_pool_set_fn(meet_fn);
        sync_pool_run_during(calls, N, &mw);
        sync_pool_set_fn(NULL);
        for (int i = 0; i < N; i++)
            assert_int_equal(calls[i].err, 0);
        assert_int_equal(mw_claims, 1);
        assert_int_equal(mw_works, 1);
        assert_int_equal(mw_work_rc, 0);
    }
}

/* Without work claimed, exactly sync_pool_run: each call its result, and
 * no work; for no calls, the work all the same when there is some. */
static void test_run_during_without_work(void **state)
{
    (void)state;
    char *path = tmp_file();
    int file = open(path, O_RDWR);
    assert_true(file >= 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct sync_call calls[] = {{.fd = p[0], .data_only = true, .err = -1},
                                {.fd = file, .data_only = true, .err = -1}};
    mw_claims = mw_works = 0;
    mw_has_work = false;
    sync_pool_run_during(calls, G_N_ELEMENTS(calls), &mw);
    assert_int_equal(calls[0].err, EINVAL);
    assert_int_equal(calls[1].err, 0);
    assert_int_equal(mw_claims, 1);
    assert_int_equal(mw_works, 0);

    sync_pool_run_during(calls, 0, &mw);
    assert_int_equal(mw_claims, 2);
    assert_int_equal(mw_works, 0);
    mw_has_work = true;
    meet_inside = 0;
    meet_expected = 1; /* the work alone */
    sync_pool_run_during(calls, 0, &mw);
    assert_int_equal(mw_claims, 3);
    assert_int_equal(mw_works, 1);
    assert_int_equal(mw_work_rc, 0);
    close(p[0]);
    close(p[1]);
    close(file);
    unlink(path);
    g_free(path);
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

/* In a forked child: rounds of 2 to max calls (descriptors 0, 1, ...),
 * each of which must report success; exits 0 if all did, else 1. */
static G_GNUC_NORETURN void child_rounds(size_t max, int rounds)
{
    struct sync_call calls[SYNC_POOL_THREADS + 8];
    g_assert(max <= G_N_ELEMENTS(calls));
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        size_t n = 2 + (size_t)r % (max - 1);
        for (size_t i = 0; i < n; i++)
            calls[i] = (struct sync_call){.fd = (int)i, .err = -1};
        sync_pool_run(calls, n);
        for (size_t i = 0; i < n; i++)
            bad += calls[i].err != 0;
    }
    _exit(bad == 0 ? 0 : 1);
}

/* Forks a child that runs child_rounds (killed by SIGALRM after alarm_s
 * seconds: a hang fails the test) and returns its wait status. */
static int forked_rounds(size_t max, int rounds, unsigned alarm_s)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(alarm_s);
        child_rounds(max, rounds);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
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
        int status = forked_rounds(N, 40, 10);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    sync_pool_set_fn(NULL);
}

/* Callers that wait for their group. Gated caller k runs sync_pool_run
 * with two calls: its own (gate_fd(k, false)) returns once a pool thread
 * is inside the other (gate_fd(k, true)), which returns when the test
 * opens gate k. So the caller has nothing left to run and waits for the
 * group until then. gate_fn stands in for fsync; other calls take 1 ms. */
enum { GATES = 3, GATE_TIMEOUT_S = 30 };
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_inside[GATES], gate_open[GATES], gate_back[GATES], gate_returned[GATES];

static int gate_fd(int k, bool gated)
{
    return 1000 + 2 * k + gated;
}

static int gate_fn(int fd, bool data_only)
{
    (void)data_only;
    if (fd < 1000 || fd >= 1000 + 2 * GATES) {
        g_usleep(1000);
        return 0;
    }
    int k = (fd - 1000) / 2;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GATE_TIMEOUT_S;
    int rc = 0;
    pthread_mutex_lock(&gate_lock);
    if (fd == gate_fd(k, true)) {
        gate_inside[k] = true;
        pthread_cond_broadcast(&gate_cond);
        while (!gate_open[k] && rc == 0)
            rc = pthread_cond_timedwait(&gate_cond, &gate_lock, &until);
    } else {
        while (!gate_inside[k] && rc == 0)
            rc = pthread_cond_timedwait(&gate_cond, &gate_lock, &until);
        gate_back[k] = true;
        pthread_cond_broadcast(&gate_cond);
    }
    pthread_mutex_unlock(&gate_lock);
    if (rc == 0)
        return 0;
    errno = ETIMEDOUT;
    return -1;
}

/* Static: a caller that never wakes (the failure tested for) is left
 * behind, and must not write into a test's finished stack frame. */
static struct gated_caller {
    int k;
    pthread_t thread;
    struct sync_call calls[2];
} gated_callers[GATES];

static void *gated_caller_main(void *arg)
{
    struct gated_caller *c = arg;
    sync_pool_run(c->calls, 2);
    pthread_mutex_lock(&gate_lock);
    gate_returned[c->k] = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    return NULL;
}

/* Starts gated caller k and returns once it waits for its group. */
static struct gated_caller *gated_start(int k)
{
    struct gated_caller *c = &gated_callers[k];
    pthread_mutex_lock(&gate_lock);
    gate_inside[k] = gate_open[k] = gate_back[k] = gate_returned[k] = false;
    pthread_mutex_unlock(&gate_lock);
    *c = (struct gated_caller){
        .k = k,
        .calls = {{.fd = gate_fd(k, false), .err = -1}, {.fd = gate_fd(k, true), .err = -1}}};
    assert_int_equal(pthread_create(&c->thread, NULL, gated_caller_main, c), 0);
    pthread_mutex_lock(&gate_lock);
    while (!gate_back[k])
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    g_usleep(50 * 1000); /* asleep in its wait by now */
    return c;
}

/* Opens gate k; true if caller k returns within timeout_ms. */
static bool gated_open(int k, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    int rc = 0;
    pthread_mutex_lock(&gate_lock);
    gate_open[k] = true;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_returned[k] && rc == 0)
        rc = pthread_cond_timedwait(&gate_cond, &gate_lock, &until);
    bool back = gate_returned[k];
    pthread_mutex_unlock(&gate_lock);
    return back;
}

/* Two callers wait for their groups at the same time: each is woken when
 * its own group is done, whichever finishes first. */
static void test_waiting_callers_each_woken(void **state)
{
    (void)state;
    sync_pool_set_fn(gate_fn);
    for (int round = 0; round < 4; round++) {
        struct gated_caller *a = gated_start(0), *b = gated_start(1);
        /* Rounds 0 and 2: the later waiter's group is done first. */
        int first = round % 2 == 0 ? 1 : 0;
        if (!gated_open(first, 2000))
            fail_msg("round %d: caller %d not woken when its group was done", round, first);
        if (!gated_open(1 - first, 2000))
            fail_msg("round %d: caller %d not woken when its group was done", round, 1 - first);
        pthread_join(a->thread, NULL);
        pthread_join(b->thread, NULL);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(a->calls[i].err, 0);
            assert_int_equal(b->calls[i].err, 0);
        }
    }
    sync_pool_set_fn(NULL);
}

/* fork() while a caller of the parent waits for its group: the child does
 * not inherit that wait (with glibc 2.36 a broadcast in the child would
 * wait for ever for the parent's waiter to leave). */
static void test_forked_while_a_caller_waits(void **state)
{
    (void)state;
    enum { N = SYNC_POOL_THREADS + 1 };
    sync_pool_set_fn(gate_fn);
    for (int round = 0; round < 3; round++) {
        struct gated_caller *c = gated_start(2);
        int status = forked_rounds(N, 60, 5);
        assert_true(gated_open(2, 2000));
        pthread_join(c->thread, NULL);
        assert_int_equal(c->calls[0].err, 0);
        assert_int_equal(c->calls[1].err, 0);
        if (!WIFEXITED(status))
            fail_msg("the child hung (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    sync_pool_set_fn(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_call_its_result),
        cmocka_unit_test(test_calls_run_side_by_side),
        cmocka_unit_test(test_run_during_works_beside_the_calls),
        cmocka_unit_test(test_run_during_without_work),
        cmocka_unit_test(test_waiting_callers_each_woken),
        cmocka_unit_test(test_forked_while_a_caller_waits),
        cmocka_unit_test(test_callers_share_the_pool),
        cmocka_unit_test(test_forked_child_uses_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
