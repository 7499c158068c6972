/* sync_sleep - an LD_PRELOAD shim for bench/sync_floor.sh. NOT DURABLE:
 * fsync, fdatasync and syncfs write nothing and only sleep SYNC_US
 * microseconds (0: return at once); sync_file_range does nothing. The
 * timer slack is set to 1 ns, so that a sleep lasts what it says rather
 * than up to 50 µs more (threads inherit it from the thread that starts
 * them). It shows what LMTP intake would reach if every sync took a given
 * time and no CPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static long sleep_ns;

__attribute__((constructor)) static void init(void)
{
    const char *e = getenv("SYNC_US");
    sleep_ns = e != NULL ? atol(e) * 1000 : 0;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

static int pause_for_sync(void)
{
    struct timespec t = {sleep_ns / 1000000000, sleep_ns % 1000000000};
    while (sleep_ns > 0 && nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
    return 0;
}

int fsync(int fd)
{
    (void)fd;
    return pause_for_sync();
}

int fdatasync(int fd)
{
    (void)fd;
    return pause_for_sync();
}

int syncfs(int fd)
{
    (void)fd;
    return pause_for_sync();
}

int sync_file_range(int fd, long long off, long long n, unsigned flags)
{
    (void)fd, (void)off, (void)n, (void)flags;
    return 0;
}
