/* queue_watch - see queue_watch.h. */
#include "queue/queue_watch.h"

#include "queue/queue.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

struct queue_watch {
    int fd;
    char *dir;
};

int queue_watch_open(const char *dir, struct queue_watch **watch_r, char **error_r)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        *error_r = g_strdup_printf("cannot create an inotify instance: %s", g_strerror(errno));
        return -1;
    }
    if (inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
        *error_r = g_strdup_printf("cannot watch %s: %s", dir, g_strerror(errno));
        close(fd);
        return -1;
    }
    struct queue_watch *watch = g_new0(struct queue_watch, 1);
    watch->fd = fd;
    watch->dir = g_strdup(dir);
    *watch_r = watch;
    return 0;
}

void queue_watch_close(struct queue_watch *watch)
{
    if (watch == NULL)
        return;
    close(watch->fd);
    g_free(watch->dir);
    g_free(watch);
}

int queue_watch_fd(const struct queue_watch *watch)
{
    return watch->fd;
}

static bool is_entry(const struct inotify_event *ev)
{
    size_t len = strnlen(ev->name, ev->len), ext = strlen(QUEUE_EXT_WAITING);
    return len > ext && memcmp(ev->name + len - ext, QUEUE_EXT_WAITING, ext) == 0;
}

int queue_watch_drain(struct queue_watch *watch, char **error_r)
{
    /* Aligned as inotify(7) asks; room for many events per read. */
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int found = 0;
    for (;;) {
        ssize_t n = read(watch->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return found;
        if (n <= 0) {
            *error_r = g_strdup_printf("cannot read inotify events for %s: %s", watch->dir,
                                       n == 0 ? "end of file" : g_strerror(errno));
            return -1;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 && is_entry(ev)))
                found = 1;
            if (ev->mask & IN_IGNORED) { /* directory gone or unmounted */
                *error_r = g_strdup_printf("%s is no longer watched", watch->dir);
                return -1;
            }
            p += sizeof(struct inotify_event) + ev->len;
        }
    }
}
