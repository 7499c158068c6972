/*
 * sync_pool - fsync and fdatasync calls run side by side.
 *
 * Each call makes its own file durable before it returns, whatever else
 * runs at the same time, so calls on different files need no order among
 * them. Run together, their writes reach the disk together and the block
 * layer joins their cache flushes: a batch's files and its directory take
 * about as long as the slowest of them instead of the sum.
 *
 * The threads are started on first use, in the process that uses them,
 * with every signal blocked, and live as long as the process (a child of
 * fork() starts with none); sync_pool_run may be called from several
 * threads at once.
 */
#ifndef CRIER_QUEUE_SYNC_POOL_H
#define CRIER_QUEUE_SYNC_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Threads besides the caller; calls beyond them wait for a free one. */
#define SYNC_POOL_THREADS 7

struct sync_call {
    int fd;
    bool data_only; /* fdatasync, else fsync */
    int err;        /* out: 0, or the errno of the call */
};

/* Runs every call, the caller taking its share, and returns when all have
 * returned. When no thread can be started, the caller runs them all. */
void sync_pool_run(struct sync_call *calls, size_t n);

/* Work for the caller while the threads sync: claim(ctx) says whether
 * there is any (and takes it), work(ctx) does it. */
struct sync_meanwhile {
    bool (*claim)(void *ctx);
    void (*work)(void *ctx);
    void *ctx;
};

/* Like sync_pool_run, but when mw->claim says there is work, every call is
 * offered to the threads and the caller runs mw->work while they sync;
 * then it runs whatever no thread has taken yet and returns when all have
 * returned. Without work, exactly sync_pool_run. claim is called once, and
 * work at most once, even for n == 0. */
void sync_pool_run_during(struct sync_call *calls, size_t n, const struct sync_meanwhile *mw);

/* For tests: what runs a call instead of fsync/fdatasync (NULL: those).
 * Set it only while no sync_pool_run is under way. */
void sync_pool_set_fn(int (*fn)(int fd, bool data_only));

#endif
