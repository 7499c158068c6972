/* cli_conf - `crier conf`: print the configuration as Mailman's `conf` does:
 * sorted "[section] key: value" lines of raw (unexpanded) values. */
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "lib/fsutil.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static void print_section(GString *out, struct config *cfg, const char *section, const char *key)
{
    g_autoptr(GPtrArray) keys = config_key_names(cfg, section);
    for (guint i = 0; i < keys->len; i++) {
        const char *k = keys->pdata[i];
        if (key == NULL || strcmp(k, key) == 0)
            g_string_append_printf(out, "[%s] %s: %s\n", section, k, config_get(cfg, section, k));
    }
}

int cli_conf_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"section", required_argument, NULL, 's'},
                                         {"key", required_argument, NULL, 'k'},
                                         {0}};
    const char *output = NULL, *section = NULL, *key = NULL;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "o:s:k:", opts)) != -1) {
        if (c == 'o')
            output = optarg;
        else if (c == 's')
            section = optarg;
        else if (c == 'k')
            key = optarg;
    }
    cli_want_args(cli, argc, argv, NULL);
    struct config *cfg = cli_config(cli);
    GString *out = g_string_new(NULL);
    if (section != NULL && !config_has_section(cfg, section))
        cli_usage_error(cli, "No such section: %s", section);
    if (section != NULL && key != NULL) {
        const char *v = config_lookup(cfg, section, key);
        if (v == NULL)
            cli_usage_error(cli, "Section %s: No such key: %s", section, key);
        g_string_append_printf(out, "%s\n", v);
    } else if (section != NULL) {
        print_section(out, cfg, section, NULL);
    } else {
        g_autoptr(GPtrArray) names = config_section_names(cfg);
        for (guint i = 0; i < names->len; i++)
            print_section(out, cfg, names->pdata[i], key);
    }
    int rc = 0;
    if (output == NULL || strcmp(output, "-") == 0) {
        fwrite(out->str, 1, out->len, stdout);
    } else {
        char *err;
        if (fs_write_atomic(output, out->str, out->len, &err) < 0) {
            fprintf(stderr, "Error: %s\n", err);
            g_free(err);
            rc = 1;
        }
    }
    g_string_free(out, TRUE);
    return rc;
}
