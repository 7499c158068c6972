/* master - see master.h. */
#include "runner/master.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "runner/runner.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct master_child {
    char *name; /* [runner.NAME] */
    unsigned slice, count;
    pid_t pid;
    long long restarts, max_restarts;
    bool ready;
};

struct master {
    struct config *cfg;
    const struct master_opts *opts;
    struct event_base *base;
    GPtrArray *children; /* struct master_child */
    int ready_pipe[2];   /* runners write "R <pid>\n" */
    struct event *ready_ev, *timeout_ev, *sig_ev[5];
    GString *ready_buf;
    int status_fd;
    bool all_ready, stopping, failed;
    char *failure;
};

static void child_free(void *p)
{
    struct master_child *c = p;
    g_free(c->name);
    g_free(c);
}

enum master_state master_state(const struct config *cfg, pid_t *pid_r)
{
    *pid_r = 0;
    char *text = NULL, *err = NULL;
    if (fs_read_file(config_path(cfg, "pid_file"), 64, &text, NULL, &err) == 0) {
        *pid_r = (pid_t)strtol(text, NULL, 10);
        g_free(text);
    } else {
        g_free(err);
    }
    int fd = open(config_path(cfg, "lock_file"), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        close(fd);
        if (held)
            return MASTER_RUNNING;
    }
    return *pid_r > 0 ? MASTER_STALE : MASTER_NONE;
}

static void report(struct master *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct master *m, const char *fmt, ...)
{
    if (m->status_fd < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (write(m->status_fd, line, strlen(line)) < 0)
        log_warn("cannot report to the starting process: %s", strerror(errno));
    close(m->status_fd);
    m->status_fd = -1;
}

static char *self_exe(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe == NULL)
        exe = g_strdup("crier");
    return exe;
}

static int spawn(struct master *m, struct master_child *c)
{
    g_autofree char *exe = self_exe();
    g_autofree char *spec = g_strdup_printf("--runner=%s:%u:%u", c->name, c->slice, c->count);
    g_autofree char *fdstr = g_strdup_printf("%d", m->ready_pipe[1]);
    const char *argv[8];
    int n = 0;
    argv[n++] = exe;
    if (m->opts->config_file) {
        argv[n++] = "-C";
        argv[n++] = m->opts->config_file;
    }
    if (m->opts->run_as_root)
        argv[n++] = "--run-as-root";
    argv[n++] = "runner";
    argv[n++] = spec;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        log_error("cannot fork runner %s: %s", c->name, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* The readiness pipe's write end stays open across exec. */
        int flags = fcntl(m->ready_pipe[1], F_GETFD);
        fcntl(m->ready_pipe[1], F_SETFD, flags & ~FD_CLOEXEC);
        setenv("CRIER_READY_FD", fdstr, 1);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    c->pid = pid;
    c->ready = false;
    return 0;
}

static struct master_child *child_by_pid(struct master *m, pid_t pid)
{
    for (guint i = 0; i < m->children->len; i++) {
        struct master_child *c = m->children->pdata[i];
        if (c->pid == pid)
            return c;
    }
    return NULL;
}

static void signal_children(struct master *m, int sig)
{
    for (guint i = 0; i < m->children->len; i++) {
        struct master_child *c = m->children->pdata[i];
        if (c->pid > 0)
            kill(c->pid, sig);
    }
}

static bool any_alive(struct master *m)
{
    for (guint i = 0; i < m->children->len; i++)
        if (((struct master_child *)m->children->pdata[i])->pid > 0)
            return true;
    return false;
}

static void check_all_ready(struct master *m)
{
    if (m->all_ready)
        return;
    for (guint i = 0; i < m->children->len; i++)
        if (!((struct master_child *)m->children->pdata[i])->ready)
            return;
    m->all_ready = true;
    if (m->timeout_ev)
        event_del(m->timeout_ev);
    log_info("master: all %u runners ready", m->children->len);
    report(m, "ready\n");
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct master *m = arg;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
        return;
    g_string_append_len(m->ready_buf, buf, n);
    char *nl;
    while ((nl = memchr(m->ready_buf->str, '\n', m->ready_buf->len)) != NULL) {
        *nl = '\0';
        pid_t pid = m->ready_buf->str[0] == 'R' ? (pid_t)atol(m->ready_buf->str + 2) : 0;
        struct master_child *c = child_by_pid(m, pid);
        if (c)
            c->ready = true;
        g_string_erase(m->ready_buf, 0, nl - m->ready_buf->str + 1);
    }
    check_all_ready(m);
}

static void begin_stop(struct master *m)
{
    if (m->stopping)
        return;
    m->stopping = true;
    log_info("master: stopping the runners");
    signal_children(m, SIGTERM);
    struct timeval grace = {MASTER_STOP_GRACE_MS / 1000, (MASTER_STOP_GRACE_MS % 1000) * 1000};
    event_add(m->timeout_ev, &grace);
    if (!any_alive(m))
        event_base_loopbreak(m->base);
}

static void fail_startup(struct master *m, char *why)
{
    if (m->failed) {
        g_free(why);
        return;
    }
    m->failed = true;
    m->failure = why;
    log_error("master: %s", why);
    begin_stop(m);
}

static void reap(struct master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct master_child *c = child_by_pid(m, pid);
        if (c == NULL)
            continue;
        c->pid = 0;
        bool usr1 = WIFEXITED(status) && WEXITSTATUS(status) == 3;
        if (m->stopping)
            continue;
        if (!m->all_ready) {
            fail_startup(m, g_strdup_printf("runner %s exited before it was ready (status %d); "
                                            "see %s",
                                            c->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                            config_path(m->cfg, "log_dir")));
            continue;
        }
        if (!usr1 && ++c->restarts > c->max_restarts) {
            log_error("master: runner %s died %lld times; not restarting it", c->name, c->restarts);
            continue;
        }
        if (WIFSIGNALED(status))
            log_error("master: runner %s killed by signal %d; restarting", c->name,
                      WTERMSIG(status));
        else
            log_info("master: runner %s exited (%d); restarting", c->name, WEXITSTATUS(status));
        spawn(m, c);
    }
    if (m->stopping && !any_alive(m))
        event_base_loopbreak(m->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct master *m = arg;
    switch (sig) {
    case SIGCHLD:
        reap(m);
        break;
    case SIGHUP:
        log_reopen();
        log_info("master: reopening logs");
        signal_children(m, SIGHUP);
        break;
    case SIGUSR1:
        log_info("master: restarting the runners");
        signal_children(m, SIGUSR1);
        break;
    default:
        begin_stop(m);
    }
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct master *m = arg;
    if (!m->stopping) {
        fail_startup(m, g_strdup_printf("runners not ready after %d s", MASTER_READY_TIMEOUT_S));
        return;
    }
    /* The grace period is over: what is still alive is killed. */
    signal_children(m, SIGKILL);
    for (guint i = 0; i < m->children->len; i++) {
        struct master_child *c = m->children->pdata[i];
        if (c->pid > 0 && waitpid(c->pid, NULL, 0) == c->pid)
            c->pid = 0;
    }
    event_base_loopbreak(m->base);
}

static void plan_children(struct master *m)
{
    g_autoptr(GPtrArray) names = config_section_names(m->cfg);
    for (guint i = 0; i < names->len; i++) {
        const char *sect = names->pdata[i];
        if (!g_str_has_prefix(sect, "runner.") || strcmp(sect, "runner.master") == 0)
            continue;
        if (!config_get_bool(m->cfg, sect, "start"))
            continue;
        const char *name = sect + strlen("runner.");
        if (runner_kind_find(config_get(m->cfg, sect, "class")) == NULL) {
            log_warn("master: [%s] class %s is not a crier runner; not started", sect,
                     config_get(m->cfg, sect, "class"));
            continue;
        }
        long long count = config_get_int(m->cfg, sect, "instances");
        for (long long s = 0; s < count; s++) {
            struct master_child *c = g_new0(struct master_child, 1);
            c->name = g_strdup(name);
            c->slice = (unsigned)s;
            c->count = (unsigned)count;
            c->max_restarts = config_get_int(m->cfg, sect, "max_restarts");
            g_ptr_array_add(m->children, c);
        }
    }
}

static int take_lock(struct master *m, int *lock_fd_r, char **error_r)
{
    const char *lock_file = config_path(m->cfg, "lock_file");
    g_autofree char *lock_dir = g_path_get_dirname(lock_file);
    if (fs_mkdirs(lock_dir, 0755, error_r) < 0)
        return -1;
    int fd = open(lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        *error_r = g_strdup_printf("cannot open %s: %s", lock_file, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        *error_r = g_strdup("crier is already running");
        close(fd);
        return -1;
    }
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    g_autofree char *text = g_strdup_printf("%s %ld\n", host, (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, text, strlen(text)) < 0)
        log_warn("cannot write %s: %s", lock_file, strerror(errno));
    *lock_fd_r = fd;
    return 0;
}

int master_run(struct config *cfg, const struct master_opts *opts, int status_fd)
{
    struct master m = {.cfg = cfg, .opts = opts, .status_fd = status_fd};
    char *err = NULL;
    int lock_fd = -1;
    g_autofree char *log_path = g_build_filename(config_path(cfg, "log_dir"),
                                                 config_get(cfg, "logging.root", "path"), NULL);
    if (log_open(log_path) < 0)
        log_warn("cannot open log %s: %s", log_path, strerror(errno));
    log_set_prefix("master");
    runner_open_loggers(cfg);
    if (take_lock(&m, &lock_fd, &err) < 0) {
        report(&m, "error: %s\n", err);
        log_error("master: %s", err);
        g_free(err);
        return 1;
    }
    g_autofree char *pid_text = g_strdup_printf("%ld\n", (long)getpid());
    g_autofree char *pid_dir = g_path_get_dirname(config_path(cfg, "pid_file"));
    if (fs_mkdirs(pid_dir, 0755, &err) < 0 ||
        fs_write_atomic(config_path(cfg, "pid_file"), pid_text, strlen(pid_text), &err) < 0) {
        report(&m, "error: %s\n", err);
        g_free(err);
        close(lock_fd);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Every connection is a descriptor: runners inherit the hard limit, not
     * a 1,024 soft limit that a busy LMTP port would reach. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("master: cannot raise the descriptor limit: %s", strerror(errno));
    }
    m.children = g_ptr_array_new_with_free_func(child_free);
    m.ready_buf = g_string_new(NULL);
    m.base = event_base_new();
    if (pipe2(m.ready_pipe, O_CLOEXEC) != 0)
        log_fatal("master: pipe: %s", strerror(errno));
    m.ready_ev = event_new(m.base, m.ready_pipe[0], EV_READ | EV_PERSIST, on_ready, &m);
    event_add(m.ready_ev, NULL);
    static const int sigs[] = {SIGCHLD, SIGHUP, SIGUSR1, SIGTERM, SIGINT};
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        m.sig_ev[i] = evsignal_new(m.base, sigs[i], on_signal, &m);
        evsignal_add(m.sig_ev[i], NULL);
    }
    m.timeout_ev = evtimer_new(m.base, on_timeout, &m);
    struct timeval ready_tv = {MASTER_READY_TIMEOUT_S, 0};
    event_add(m.timeout_ev, &ready_tv);

    plan_children(&m);
    log_info("master started (pid %ld), %u runners", (long)getpid(), m.children->len);
    for (guint i = 0; i < m.children->len && !m.failed; i++)
        if (spawn(&m, m.children->pdata[i]) < 0)
            fail_startup(&m, g_strdup("cannot fork a runner"));
    check_all_ready(&m); /* no runners at all */
    event_base_dispatch(m.base);

    int rc = m.failed ? 1 : 0;
    if (m.failed)
        report(&m, "error: %s\n", m.failure);
    unlink(config_path(cfg, "pid_file"));
    log_info("master stopped");
    for (size_t i = 0; i < G_N_ELEMENTS(m.sig_ev); i++)
        event_free(m.sig_ev[i]);
    event_free(m.ready_ev);
    event_free(m.timeout_ev);
    event_base_free(m.base);
    close(m.ready_pipe[0]);
    close(m.ready_pipe[1]);
    g_ptr_array_unref(m.children);
    g_string_free(m.ready_buf, TRUE);
    g_free(m.failure);
    close(lock_fd);
    return rc;
}
