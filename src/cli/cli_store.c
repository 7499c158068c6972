/* cli_store - the store as the CLI verbs use it: opened on first use from
 * [database] url, closed at exit. */
#include "cli/cli.h"

#include "config/config.h"
#include "store/store.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

struct store *cli_store(struct cli *cli)
{
    if (cli->store != NULL)
        return cli->store;
    struct config *cfg = cli_config(cli);
    g_autofree char *url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    char *err = NULL;
    if (store_open(url, &cli->store, &err) < 0) {
        fprintf(stderr, "%s: cannot open the database %s: %s\n", cli->prog, url, err);
        exit(1);
    }
    return cli->store;
}

void cli_close_store(struct cli *cli)
{
    if (cli->store != NULL)
        store_close(cli->store);
    cli->store = NULL;
}

struct store_list *cli_need_list(struct cli *cli, const char *spec)
{
    struct store_list *l = NULL;
    char *err = NULL;
    int rc = store_list_get(cli_store(cli), spec, &l, &err);
    if (rc < 0)
        cli_fail(1, "%s", err);
    if (rc == 0)
        cli_usage_error(cli, "No such list: %s", spec);
    return l;
}
