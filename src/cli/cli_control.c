/* cli_control - start, stop, restart, reopen, status and runner: Mailman's
 * texts and exit codes, with "crier" where Mailman says "GNU Mailman". */
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "lib/log.h"
#include "runner/master.h"
#include "runner/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long `stop` waits for the master to be gone. */
#define CLI_STOP_WAIT_S 30

static bool quiet_opt(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'}, {0}};
    bool quiet = false;
    while (cli_getopt(cli, argc, argv, "q", opts) != -1)
        quiet = true;
    cli_want_args(cli, argc, argv, NULL);
    return quiet;
}

/* The daemon side of `start`: a new session in var_dir, stdio on /dev/null,
 * so nothing that waits for the starting command's output waits for us. */
static _Noreturn void become_master(struct config *cfg, const struct master_opts *opts, int fd)
{
    setsid();
    if (chdir(config_path(cfg, "var_dir")) != 0)
        log_warn("cannot chdir to %s: %s", config_path(cfg, "var_dir"), strerror(errno));
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    }
    _exit(master_run(cfg, opts, fd));
}

int cli_start_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},       {"generate-alias-file", no_argument, NULL, 'g'},
        {"run-as-user", no_argument, NULL, 'u'}, {"quiet", no_argument, NULL, 'q'},
        {"foreground", no_argument, NULL, 'F'},  {0}};
    bool force = false, quiet = false, foreground = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "fguqF", opts)) != -1) {
        if (c == 'f')
            force = true;
        else if (c == 'q')
            quiet = true;
        else if (c == 'F')
            foreground = true;
        /* -g (maps are always generated) and -u (no user switch) are accepted. */
    }
    cli_want_args(cli, argc, argv, NULL);
    struct config *cfg = cli_config(cli);
    pid_t pid;
    enum master_state st = master_state(cfg, &pid);
    if (st == MASTER_RUNNING)
        cli_usage_error(cli, "crier is already running");
    if (st == MASTER_STALE) {
        if (!force)
            cli_usage_error(cli, "A previous run of crier did not exit cleanly (stale_lock).  "
                                 "Try using --force");
        unlink(config_path(cfg, "pid_file"));
    }
    if (!quiet)
        printf("Starting Mailman's master runner\n");
    if (!quiet)
        printf("Generating MTA alias maps\n");
    fflush(stdout);
    /* As in Mailman, a map failure does not keep the daemon from starting:
     * lists that exist still get their mail. */
    char *maperr = NULL;
    if (cli_mta_regenerate(cli, NULL, &maperr) < 0) {
        fprintf(stderr, "Warning: cannot generate the MTA maps: %s\n", maperr);
        g_free(maperr);
    }
    struct master_opts mo = {
        .config_file = config_filename(cfg), .run_as_root = cli->run_as_root, .force = force};
    /* Runners re-read the configuration; they must find the same var_dir
     * whatever their working directory (Mailman does the same). */
    setenv("MAILMAN_VAR_DIR", config_path(cfg, "var_dir"), 1);
    if (foreground)
        return master_run(cfg, &mo, -1);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        cli_fail(1, "pipe: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0)
        cli_fail(1, "fork: %s", strerror(errno));
    if (child == 0) {
        close(pfd[0]);
        become_master(cfg, &mo, pfd[1]);
    }
    close(pfd[1]);
    GString *msg = g_string_new(NULL);
    char buf[256];
    ssize_t n;
    while ((n = read(pfd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(msg, buf, n);
    close(pfd[0]);
    int rc = 0;
    if (!g_str_has_prefix(msg->str, "ready")) {
        g_strchomp(msg->str);
        /* The master reports "error: TEXT"; the tag is not for the user. */
        const char *text = msg->str;
        if (g_str_has_prefix(text, "error: "))
            text += strlen("error: ");
        fprintf(stderr, "Error: crier did not start: %s\n",
                *text ? text : "the master exited without a word (see the logs)");
        rc = 1;
    }
    g_string_free(msg, TRUE);
    return rc;
}

/* Mailman's kill_watcher: signals the pid in pid_file. Returns the pid, or
 * 0 when there is none to signal. */
static pid_t kill_watcher(struct config *cfg, int sig)
{
    pid_t pid;
    master_state(cfg, &pid);
    if (pid <= 0) {
        fprintf(stderr, "PID unreadable in: %s\nIs the master even running?\n",
                config_path(cfg, "pid_file"));
        return 0;
    }
    if (kill(pid, sig) != 0) {
        if (errno == ESRCH) {
            fprintf(stderr, "No child with pid: %ld\n%s\nStale pid file removed.\n", (long)pid,
                    strerror(errno));
            unlink(config_path(cfg, "pid_file"));
        } else {
            fprintf(stderr, "Cannot signal pid %ld: %s\n", (long)pid, strerror(errno));
        }
        return 0;
    }
    return pid;
}

/* Gone, or a zombie waiting for init to reap it. */
static bool process_gone(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    g_autofree char *path = g_strdup_printf("/proc/%ld/stat", (long)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return true;
    const char *close = strrchr(stat, ')');
    return close != NULL && close[1] == ' ' && close[2] == 'Z';
}

int cli_stop_run(struct cli *cli, int argc, char **argv)
{
    bool quiet = quiet_opt(cli, argc, argv);
    struct config *cfg = cli_config(cli);
    if (!quiet)
        printf("Shutting down Mailman's master runner\n");
    fflush(stdout);
    pid_t pid = kill_watcher(cfg, SIGTERM);
    if (pid <= 0)
        return 0;
    /* Unlike Mailman, return only once the master (which waits for every
     * runner) is gone, so that a following start cannot race it. */
    for (int i = 0; i < CLI_STOP_WAIT_S * 100; i++) {
        if (process_gone(pid))
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "Error: the master (pid %ld) is still running after %d s\n", (long)pid,
            CLI_STOP_WAIT_S);
    return 1;
}

static int signal_verb(struct cli *cli, int argc, char **argv, const char *text, int sig)
{
    bool quiet = quiet_opt(cli, argc, argv);
    struct config *cfg = cli_config(cli);
    if (!quiet)
        printf("%s\n", text);
    fflush(stdout);
    kill_watcher(cfg, sig);
    return 0;
}

int cli_restart_run(struct cli *cli, int argc, char **argv)
{
    return signal_verb(cli, argc, argv, "Restarting the Mailman runners", SIGUSR1);
}

int cli_reopen_run(struct cli *cli, int argc, char **argv)
{
    return signal_verb(cli, argc, argv, "Reopening the Mailman runners", SIGHUP);
}

int cli_status_run(struct cli *cli, int argc, char **argv)
{
    while (cli_getopt(cli, argc, argv, "", NULL) != -1)
        ;
    cli_want_args(cli, argc, argv, NULL);
    pid_t pid;
    enum master_state st = master_state(cli_config(cli), &pid);
    switch (st) {
    case MASTER_NONE:
        printf("crier is not running\n");
        break;
    case MASTER_RUNNING:
        printf("crier is running (master pid: %ld)\n", (long)pid);
        break;
    case MASTER_STALE:
        printf("crier is stopped (stale pid: %ld)\n", (long)pid);
        break;
    }
    return (int)st;
}

int cli_runner_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"runner", required_argument, NULL, 'r'}, {0}};
    const char *spec = NULL;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "r:", opts)) != -1)
        spec = optarg;
    cli_want_args(cli, argc, argv, NULL);
    if (spec == NULL)
        cli_usage_error(cli, "Missing option '-r' / '--runner'.");
    const char *fd = getenv("CRIER_READY_FD");
    int ready_fd = fd ? atoi(fd) : -1;
    unsetenv("CRIER_READY_FD");
    if (ready_fd >= 0)
        fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
    return runner_main(cli_config(cli), spec, ready_fd);
}
