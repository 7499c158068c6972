/* cli_info - `crier version` and `crier info`, as Mailman's. */
#include "cli/cli_verbs.h"

#include "config/config.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#define CRIER_VERSION_FULL "crier " CRIER_VERSION " (GNU Mailman 3.3.8 compatible)"

int cli_version_run(struct cli *cli, int argc, char **argv)
{
    while (cli_getopt(cli, argc, argv, "", NULL) != -1)
        ;
    cli_want_args(cli, argc, argv, NULL);
    printf("%s\n", CRIER_VERSION_FULL);
    return 0;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_info_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"verbose", no_argument, NULL, 'v'}, {0}};
    const char *output = NULL;
    bool verbose = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "o:v", opts)) != -1) {
        if (c == 'o')
            output = optarg;
        else if (c == 'v')
            verbose = true;
    }
    cli_want_args(cli, argc, argv, NULL);
    struct config *cfg = cli_config(cli);
    FILE *fp = stdout;
    if (output && strcmp(output, "-") != 0 && (fp = fopen(output, "w")) == NULL)
        cli_usage_error(cli, "Invalid value for '-o' / '--output': Could not open file: %s",
                        output);
    g_autofree char *url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    const char *api = config_get(cfg, "webservice", "api_version");
    fprintf(fp, "%s\n", CRIER_VERSION_FULL);
    fprintf(fp, "config file: %s\n", config_filename(cfg) ? config_filename(cfg) : "None");
    fprintf(fp, "db url: %s\n", url);
    fprintf(fp, "devmode: %s\n",
            config_get_bool(cfg, "devmode", "enabled") ? "ENABLED" : "DISABLED");
    fprintf(fp, "REST root url: %s://%s:%s/%s/\n",
            config_get_bool(cfg, "webservice", "use_https") ? "https" : "http",
            config_get(cfg, "webservice", "hostname"), config_get(cfg, "webservice", "port"),
            strcmp(api, "3.0") == 0 ? "3.0" : "3.1");
    fprintf(fp, "REST credentials: %s:%s\n", config_get(cfg, "webservice", "admin_user"),
            config_get(cfg, "webservice", "admin_pass"));
    if (verbose) {
        static const char *const names[] = {
            "archive_dir", "bin_dir",       "cache_dir", "data_dir",  "etc_dir",
            "ext_dir",     "list_data_dir", "lock_dir",  "log_dir",   "messages_dir",
            "queue_dir",   "template_dir",  "var_dir",   "lock_file", "pid_file"};
        GPtrArray *upper = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
            g_ptr_array_add(upper, g_ascii_strup(names[i], -1));
        g_ptr_array_sort(upper, cmp_str);
        fprintf(fp, "File system paths:\n");
        for (guint i = 0; i < upper->len; i++) {
            g_autofree char *lower = g_ascii_strdown(upper->pdata[i], -1);
            fprintf(fp, "    %-16s = %s\n", (char *)upper->pdata[i], config_path(cfg, lower));
        }
        g_ptr_array_free(upper, TRUE);
    }
    if (fp != stdout)
        fclose(fp);
    return 0;
}
