/* cli_aliases - the MTA's view of the lists: `aliases` (and its
 * `--snippet MTA`, the lines that hook an MTA up to this installation), and
 * the hooks the list verbs and `start` call (cli_verbs.h). */
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "mta/mta_regen.h"
#include "mta/mta_snippet.h"
#include "store/store.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int cli_mta_regenerate(struct cli *cli, const char *dir, char **error_r)
{
    return mta_regen(cli_config(cli), cli_store(cli), dir, error_r);
}

int cli_mta_list_created(struct cli *cli, const struct store_list *l, char **error_r)
{
    /* The list's data directory: digests live there, and Exim finds lists
     * by it (reference §3.2). */
    g_autofree char *dir =
        g_build_filename(config_path(cli_config(cli), "list_data_dir"), l->list_id, NULL);
    if (fs_mkdirs(dir, 0755, error_r) < 0)
        return -1;
    return cli_mta_regenerate(cli, NULL, error_r);
}

int cli_mta_list_removed(struct cli *cli, const struct store_list *l, char **error_r)
{
    return cli_mta_regenerate(cli, NULL, error_r);
}

/* Prints the snippet for mta; the maps' directory is dir when given. */
static void print_snippet(struct cli *cli, const char *mta, const char *dir)
{
    struct config *cfg = cli_config(cli);
    struct store_domain **domains = NULL;
    char *err = NULL;
    if (store_domain_list(cli_store(cli), &domains, &err) < 0)
        cli_fail(1, "%s", err);
    size_t n = 0;
    while (domains[n])
        n++;
    struct mta_snippet_domain *v = g_new0(struct mta_snippet_domain, n + 1);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct mta_snippet_domain){domains[i]->mail_host, domains[i]->alias_domain};
    struct mta_settings s = mta_regen_settings(cfg);
    struct mta_snippet_site site = {
        .mta = &s,
        .map_dir = dir ? dir : config_path(cfg, "data_dir"),
        .list_data_dir = config_path(cfg, "list_data_dir"),
        .domains = v,
        .n_domains = n,
    };
    g_autofree char *text = mta_snippet_build(mta, &site);
    g_free(v);
    store_domainv_free(domains);
    fputs(text, stdout);
}

int cli_aliases_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"directory", required_argument, NULL, 'd'},
                                         {"snippet", required_argument, NULL, 's'},
                                         {0}};
    const char *dir = NULL;
    const char *snippet = NULL;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "d:s:", opts)) != -1) {
        if (c == 'd')
            dir = optarg;
        else
            snippet = optarg;
    }
    cli_want_args(cli, argc, argv, NULL);
    if (dir && !g_file_test(dir, G_FILE_TEST_IS_DIR))
        cli_usage_error(cli,
                        "Invalid value for '--directory' / '-d': Directory '%s' does not "
                        "exist.",
                        dir);
    if (snippet) {
        if (!mta_snippet_known(snippet))
            cli_usage_error(cli, "Invalid value for '--snippet' / '-s': '%s' is not one of %s.",
                            snippet, mta_snippet_choices());
        /* Printing changes nothing: the maps are left as they are. */
        print_snippet(cli, snippet, dir);
        return 0;
    }
    char *err = NULL;
    if (cli_mta_regenerate(cli, dir, &err) < 0)
        cli_fail(1, "%s", err);
    return 0;
}
