/* disk_floor - what one durable write of a 10 KB message costs on the file
 * system of DIR, whatever the program around it: the median and 90th
 * percentile, in microseconds, of
 *   flush      fdatasync of a file with nothing to write (the disk's cache
 *              flush alone);
 *   overwrite  10 KB written over a file whose blocks and size are already
 *              on disk, then fdatasync: one data write and one flush, the
 *              least any durable design (a log, a database) pays;
 *   log2       the same with 20 KB: an append-only log's commit of two
 *              messages;
 *   entry      what crier's queue does for one entry: a new file under a
 *              temporary name, 10 KB, renamed, then the file's fdatasync
 *              and the directory's fsync side by side (a helper thread
 *              waiting on a condition variable, as crier's sync pool).
 * The three are measured in turns, REPS rounds. Usage: disk_floor DIR [REPS]
 * (bench/sync_floor.sh builds and runs it). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SIZE 10240

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int job_fd = -1, job_done;

static void *helper(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (job_fd < 0)
            pthread_cond_wait(&go, &lock);
        int fd = job_fd;
        pthread_mutex_unlock(&lock);
        fsync(fd);
        pthread_mutex_lock(&lock);
        job_fd = -1;
        job_done = 1;
        pthread_cond_signal(&done);
    }
    return NULL;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
    qsort(v, n, sizeof *v, cmp);
    printf("%-9s median %4.0f us  p90 %4.0f us\n", what, v[n / 2], v[n * 9 / 10]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [REPS]\n", argv[0]);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 300;
    int dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || reps < 10) {
        perror(argv[1]);
        return 1;
    }
    static char buf[SIZE];
    memset(buf, 'x', sizeof buf);
    double *fl = calloc(reps, sizeof *fl), *ow = calloc(reps, sizeof *ow),
           *l2 = calloc(reps, sizeof *l2), *en = calloc(reps, sizeof *en);
    int clean = openat(dfd, "floor.clean", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int pre = openat(dfd, "floor.pre", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int log = openat(dfd, "floor.log", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (clean < 0 || pre < 0 || log < 0 || write(clean, "x", 1) != 1 ||
        write(pre, buf, SIZE) != SIZE || write(log, buf, SIZE) != SIZE ||
        write(log, buf, SIZE) != SIZE) {
        perror("floor files");
        return 1;
    }
    fsync(clean);
    fsync(pre);
    fsync(log);
    fsync(dfd);
    pthread_t t;
    pthread_create(&t, NULL, helper, NULL);
    char tmp[64], fin[64];
    for (int r = 0; r < reps; r++) {
        double t0 = now_us();
        fdatasync(clean);
        fl[r] = now_us() - t0;

        t0 = now_us();
        if (pwrite(pre, buf, SIZE, 0) != SIZE)
            return 1;
        fdatasync(pre);
        ow[r] = now_us() - t0;

        t0 = now_us();
        if (pwrite(log, buf, SIZE, 0) != SIZE || pwrite(log, buf, SIZE, SIZE) != SIZE)
            return 1;
        fdatasync(log);
        l2[r] = now_us() - t0;

        snprintf(tmp, sizeof tmp, "floor.%d.tmp", r);
        snprintf(fin, sizeof fin, "floor.%d.pck", r);
        t0 = now_us();
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, buf, SIZE) != SIZE || renameat(dfd, tmp, dfd, fin) < 0)
            return 1;
        pthread_mutex_lock(&lock);
        job_done = 0;
        job_fd = dfd;
        pthread_mutex_unlock(&lock);
        pthread_cond_signal(&go);
        fdatasync(fd);
        pthread_mutex_lock(&lock);
        while (!job_done)
            pthread_cond_wait(&done, &lock);
        pthread_mutex_unlock(&lock);
        en[r] = now_us() - t0;
        close(fd);
    }
    report("flush", fl, reps);
    report("overwrite", ow, reps);
    report("log2", l2, reps);
    report("entry", en, reps);
    return 0;
}
