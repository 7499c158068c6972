/*
 * cli - the command line: global options, the verb table, shared helpers.
 *
 * `crier [-C FILE] [--run-as-root] VERB [OPTIONS] [ARGS]` as Mailman 3.3.8's
 * `mailman` (click) does it: usage errors print "Usage: ...", "Try '... -h'
 * for help." and "Error: <message>" on stderr and exit 2. Each verb lives in
 * its own cli_<verb>.c and is a row in cli_verbs[] (cli_verbs.c).
 *
 * A verb's run() gets argv starting at the verb name and returns the exit
 * status. cli_config() and cli_store() load lazily and exit 1 with a clear
 * message on failure, so verbs need no error paths for them.
 */
#ifndef CRIER_CLI_H
#define CRIER_CLI_H

#include <getopt.h>
#include <stdbool.h>

struct config;
struct store;
struct store_list;

struct cli {
    const char *prog;        /* "crier" or "mailman": basename of argv[0] */
    const char *config_path; /* -C/--config, or NULL */
    bool run_as_root;
    const struct cli_verb *verb;
    struct config *cfg;
    struct store *store;
};

struct cli_verb {
    const char *name;
    const char *usage;   /* after "Usage: crier VERB ", e.g. "[OPTIONS] LISTNAME" */
    const char *summary; /* one line, for `crier -h` */
    const char *help;    /* the body of `crier VERB -h`: description and options */
    int (*run)(struct cli *cli, int argc, char **argv);
};

extern const struct cli_verb cli_verbs[];

int cli_main(int argc, char **argv);

/* Prints the click-style usage error for the current verb and exits 2. */
_Noreturn void cli_usage_error(struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "Error: <message>" on stderr and exits with status. */
_Noreturn void cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the verb's -h text on stdout (exit 0 is the caller's). */
void cli_print_help(struct cli *cli);

/*
 * getopt_long over a verb's options, with -h/--help handled here (prints the
 * help and exits 0) and unknown options or missing values turned into usage
 * errors. Returns the option character, or -1 at the end of the options.
 * shortopts must not contain 'h'.
 */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Checks the count of positional arguments left after cli_getopt: exits 2
 * with click's "Missing argument 'NAME'." or "Got unexpected extra argument
 * (x)" otherwise. names is NULL-terminated. */
void cli_want_args(struct cli *cli, int argc, char **argv, const char *const *names);

/* The loaded configuration; loads it (and creates directories) on first use. */
struct config *cli_config(struct cli *cli);
/* The open store; opens it (migrating as needed) on first use
 * (cli_store.c). cli_close_store closes it if open. */
struct store *cli_store(struct cli *cli);
void cli_close_store(struct cli *cli);
/* The list named by spec (fqdn or List-ID); a usage error "No such list:
 * SPEC" (exit 2) if there is none. Free with store_list_free. */
struct store_list *cli_need_list(struct cli *cli, const char *spec);

#endif
