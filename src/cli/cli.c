/* cli - see cli.h. */
#include "cli/cli.h"

#include "config/config.h"
#include "lib/log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char top_usage[] = "[OPTIONS] COMMAND [ARGS]...";

static char *bin_dir_of_self(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    return exe ? g_path_get_dirname(exe) : g_get_current_dir();
}

static void print_usage_line(FILE *fp, struct cli *cli)
{
    if (cli->verb)
        fprintf(fp, "Usage: %s %s %s\n", cli->prog, cli->verb->name, cli->verb->usage);
    else
        fprintf(fp, "Usage: %s %s\n", cli->prog, top_usage);
}

void cli_usage_error(struct cli *cli, const char *fmt, ...)
{
    print_usage_line(stderr, cli);
    if (cli->verb)
        fprintf(stderr, "Try '%s %s -h' for help.\n\nError: ", cli->prog, cli->verb->name);
    else
        fprintf(stderr, "Try '%s -h' for help.\n\nError: ", cli->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

void cli_fail(int status, const char *fmt, ...)
{
    fputs("Error: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

void cli_print_help(struct cli *cli)
{
    print_usage_line(stdout, cli);
    printf("\n%s", cli->verb->help);
    printf("  -h, --help  Show this message and exit.\n");
}

static void print_top_help(struct cli *cli)
{
    print_usage_line(stdout, cli);
    printf("\n  crier: a mailing list server, a drop-in replacement for GNU Mailman 3 core.\n"
           "\nOptions:\n"
           "  -C, --config PATH  Configuration file to use.  If not given, the environment\n"
           "                     variable MAILMAN_CONFIG_FILE is consulted and used if set.\n"
           "                     If neither are given, a default configuration file is\n"
           "                     loaded.\n"
           "  --run-as-root      Running crier as root is not recommended and crier will\n"
           "                     refuse to run as root unless this option is specified.\n"
           "  --version          Show the version and exit.\n"
           "  -h, --help         Show this message and exit.\n"
           "\nCommands:\n");
    for (const struct cli_verb *v = cli_verbs; v->name; v++)
        printf("  %-14s %s\n", v->name, v->summary);
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    static const struct option help_only[] = {{"help", no_argument, NULL, 'h'}, {0}};
    /* Every verb takes -h/--help: append them to the verb's tables. */
    g_autofree char *shorts = g_strconcat(":", shortopts ? shortopts : "", "h", NULL);
    size_t n = 0;
    while (longopts && longopts[n].name)
        n++;
    g_autofree struct option *longs = g_new0(struct option, n + 2);
    if (n)
        memcpy(longs, longopts, n * sizeof *longs);
    longs[n] = help_only[0];
    opterr = 0;
    int c = getopt_long(argc, argv, shorts, longs, NULL);
    if (c == 'h') {
        cli_print_help(cli);
        exit(0);
    }
    if (c == '?') {
        const char *bad = argv[optind - 1];
        if (optopt)
            cli_usage_error(cli, "No such option: -%c", optopt);
        cli_usage_error(cli, "No such option: %s", bad);
    }
    if (c == ':') {
        const char *opt = argv[optind - 1];
        cli_usage_error(cli, "Option '%s' requires an argument.", opt);
    }
    return c;
}

void cli_want_args(struct cli *cli, int argc, char **argv, const char *const *names)
{
    int want = 0;
    while (names && names[want])
        want++;
    int have = argc - optind;
    if (have < want)
        cli_usage_error(cli, "Missing argument '%s'.", names[have]);
    if (have > want) {
        GString *extra = g_string_new(NULL);
        for (int i = optind + want; i < argc; i++)
            g_string_append_printf(extra, "%s%s", extra->len ? " " : "", argv[i]);
        cli_usage_error(cli, "Got unexpected extra argument%s (%s)", have - want > 1 ? "s" : "",
                        extra->str);
    }
}

struct config *cli_config(struct cli *cli)
{
    if (cli->cfg != NULL)
        return cli->cfg;
    g_autofree char *bin_dir = bin_dir_of_self();
    char *path = NULL, *err = NULL;
    int found = config_find(cli->config_path, bin_dir, &path, &err);
    if (found < 0) {
        struct cli top = {.prog = cli->prog};
        cli_usage_error(&top, "Invalid value for '-C' / '--config': %s", err);
    }
    if (config_load(path, bin_dir, &cli->cfg, &err) < 0) {
        fprintf(stderr, "%s: configuration error:\n%s\n", cli->prog, err);
        exit(1);
    }
    g_free(path);
    const GPtrArray *warnings = config_warnings(cli->cfg);
    for (guint i = 0; i < warnings->len; i++)
        fprintf(stderr, "%s: warning: %s\n", cli->prog, (char *)warnings->pdata[i]);
    if (config_ensure_dirs(cli->cfg, &err) < 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, err);
        exit(1);
    }
    return cli->cfg;
}

static const struct cli_verb *find_verb(const char *name)
{
    for (const struct cli_verb *v = cli_verbs; v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

int cli_main(int argc, char **argv)
{
    g_autofree char *base = g_path_get_basename(argv[0]);
    struct cli cli = {.prog = strcmp(base, "mailman") == 0 ? "mailman" : "crier"};
    log_set_prefix(cli.prog);
    static const struct option top_opts[] = {{"config", required_argument, NULL, 'C'},
                                             {"run-as-root", no_argument, NULL, 'R'},
                                             {"version", no_argument, NULL, 'V'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    /* '+': stop at the verb; its options are its own. */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:C:h", top_opts, NULL)) != -1) {
        switch (c) {
        case 'C':
            cli.config_path = optarg;
            break;
        case 'R':
            cli.run_as_root = true;
            break;
        case 'V':
            printf("%s %s (GNU Mailman 3.3.8 compatible)\n", "crier", CRIER_VERSION);
            return 0;
        case 'h':
            print_top_help(&cli);
            return 0;
        case ':':
            cli_usage_error(&cli, "Option '%s' requires an argument.", argv[optind - 1]);
        default:
            if (optopt)
                cli_usage_error(&cli, "No such option: -%c", optopt);
            cli_usage_error(&cli, "No such option: %s", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        print_top_help(&cli);
        return 0;
    }
    /* Mailman checks this before running any command (reference §1.2). */
    if (geteuid() == 0 && !cli.run_as_root)
        cli_usage_error(&cli, "If you are sure you want to run as root, specify --run-as-root.");
    const struct cli_verb *verb = find_verb(argv[optind]);
    if (verb == NULL)
        cli_usage_error(&cli, "No such command '%s'.", argv[optind]);
    cli.verb = verb;
    int vargc = argc - optind;
    char **vargv = argv + optind;
    optind = 1; /* restart getopt for the verb's own argv */
    int rc = verb->run(&cli, vargc, vargv);
    cli_close_store(&cli);
    config_free(cli.cfg);
    return rc;
}
