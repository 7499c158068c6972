/* sync_pool - see sync_pool.h. */
#include "queue/sync_pool.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

struct sync_group {
    size_t left; /* calls not yet returned */
};

struct sync_job {
    struct sync_call *call;
    struct sync_group *group;
    struct sync_job *next;
};

/* pool_lock guards everything below it. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
/* Some group's last call returned. Shared by every group and never
 * destroyed, so that it can be signalled after the lock is released: a
 * group's own would be gone once its caller saw the count reach 0. */
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static struct sync_job *queue_head, **queue_tail = &queue_head;
static unsigned pool_threads; /* started */
static unsigned pool_idle;    /* waiting for work */
static pthread_once_t pool_atfork_once = PTHREAD_ONCE_INIT;

static int (*call_fn)(int fd, bool data_only);

void sync_pool_set_fn(int (*fn)(int fd, bool data_only))
{
    call_fn = fn;
}

static void call_run(struct sync_call *c)
{
    int rc = call_fn != NULL ? call_fn(c->fd, c->data_only)
             : c->data_only  ? fdatasync(c->fd)
                             : fsync(c->fd);
    c->err = rc == 0 ? 0 : errno;
}

/* The oldest job, or NULL. */
static struct sync_job *job_take(void)
{
    struct sync_job *j = queue_head;
    if (j == NULL)
        return NULL;
    queue_head = j->next;
    if (queue_head == NULL)
        queue_tail = &queue_head;
    return j;
}

/* Runs j with the lock released, then counts it done. Its group (and j)
 * may be gone once the count reaches 0, so j is not touched after. The
 * caller waiting for the group is woken after the lock is released (else
 * it would wake only to wait for the lock); the lock is held again on
 * return. */
static void job_run(struct sync_job *j)
{
    struct sync_group *g = j->group;
    pthread_mutex_unlock(&pool_lock);
    call_run(j->call);
    pthread_mutex_lock(&pool_lock);
    if (--g->left == 0) {
        pthread_mutex_unlock(&pool_lock);
        pthread_cond_broadcast(&pool_done);
        pthread_mutex_lock(&pool_lock);
    }
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        struct sync_job *j = job_take();
        if (j != NULL) {
            job_run(j);
            continue;
        }
        pool_idle++;
        pthread_cond_wait(&pool_work, &pool_lock);
        pool_idle--;
    }
    return NULL;
}

/* fork() copies the pool's state but none of its threads. A child that
 * does not exec (tests fork to enqueue from "another process") starts
 * with an empty pool: the jobs queued are its parent's callers', and both
 * condition variables still count the parent's waiting threads (workers
 * on pool_work, callers on pool_done), for whom a broadcast would wait
 * forever (glibc 2.36 pthread_cond_broadcast). The lock is held across
 * the fork so that the state copied is whole. */
static void pool_prepare(void)
{
    pthread_mutex_lock(&pool_lock);
}

static void pool_parent(void)
{
    pthread_mutex_unlock(&pool_lock);
}

static void pool_child(void)
{
    static const pthread_cond_t fresh = PTHREAD_COND_INITIALIZER;
    pool_work = fresh;
    pool_done = fresh;
    queue_head = NULL;
    queue_tail = &queue_head;
    pool_threads = 0;
    pool_idle = 0;
    pthread_mutex_unlock(&pool_lock);
}

static void pool_atfork(void)
{
    pthread_atfork(pool_prepare, pool_parent, pool_child);
}

/* Starts threads for the waiting jobs that the idle ones cannot take. */
static void pool_grow(size_t waiting)
{
    if (pool_idle >= waiting || pool_threads >= SYNC_POOL_THREADS)
        return;
    /* Signals stay with the threads that handle them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (size_t have = pool_idle; have < waiting && pool_threads < SYNC_POOL_THREADS; have++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, NULL) != 0)
            break; /* the caller runs what no thread takes */
        pool_threads++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Without mw, offers calls[1..n) to the threads and runs calls[0]; with
 * it, offers every call and runs mw->work. Then helps and waits. */
static void run_group(struct sync_call *calls, size_t n, const struct sync_meanwhile *mw)
{
    pthread_once(&pool_atfork_once, pool_atfork);
    size_t first = mw == NULL ? 1 : 0, offered = n - first;
    struct sync_job *jobs = g_new(struct sync_job, offered);
    struct sync_group g = {.left = offered};
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; i < offered; i++) {
        jobs[i] = (struct sync_job){.call = &calls[first + i], .group = &g};
        *queue_tail = &jobs[i];
        queue_tail = &jobs[i].next;
    }
    pool_grow(offered);
    /* One wake-up per job, not a broadcast: idle threads beyond the jobs
     * would only wake to find nothing (each wake-up is a context switch,
     * costly on a virtual machine). */
    pthread_mutex_unlock(&pool_lock);
    /* After the unlock, so that a woken thread does not wait for it. */
    for (size_t i = 0; i < offered; i++)
        pthread_cond_signal(&pool_work);
    if (mw == NULL)
        call_run(&calls[0]);
    else
        mw->work(mw->ctx);
    pthread_mutex_lock(&pool_lock);
    /* Whatever no thread has taken yet, the caller runs (another caller's
     * jobs too: they are ahead of ours). */
    struct sync_job *j;
    while (g.left > 0 && (j = job_take()) != NULL)
        job_run(j);
    while (g.left > 0)
        pthread_cond_wait(&pool_done, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
    g_free(jobs);
}

void sync_pool_run(struct sync_call *calls, size_t n)
{
    if (n <= 1) {
        if (n == 1)
            call_run(&calls[0]);
        return;
    }
    /* calls[0] is the caller's; the others are offered to the pool. */
    run_group(calls, n, NULL);
}

void sync_pool_run_during(struct sync_call *calls, size_t n, const struct sync_meanwhile *mw)
{
    if (!mw->claim(mw->ctx)) {
        sync_pool_run(calls, n);
    } else if (n == 0) {
        mw->work(mw->ctx);
    } else {
        /* The caller has work of its own: each call to a thread. */
        run_group(calls, n, mw);
    }
}
