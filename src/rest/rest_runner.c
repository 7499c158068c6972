/* rest_runner - see rest_runner.h. */
#include "rest/rest_runner.h"

#include "config/config.h"
#include "lib/log.h"
#include "rest/rest_server.h"
#include "runner/runner.h"
#include "store/store.h"

#include <glib.h>

struct rest_runner_state {
    struct store *store;
    struct rest_server *server;
};

int rest_runner_start(struct runner *r, char **error_r)
{
    struct rest_runner_state *s = g_new0(struct rest_runner_state, 1);
    r->state = s;
    struct config *cfg = r->cfg;
    g_autofree char *url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    if (store_open(url, &s->store, error_r) < 0)
        return -1;
    if (rest_server_new(r->base, cfg, s->store, &s->server, error_r) < 0)
        return -1;
    log_info("rest: listening on %s:%s", config_get(cfg, "webservice", "hostname"),
             config_get(cfg, "webservice", "port"));
    return 0;
}

void rest_runner_stop(struct runner *r)
{
    struct rest_runner_state *s = r->state;
    if (s == NULL)
        return;
    rest_server_free(s->server);
    if (s->store)
        store_close(s->store);
    g_free(s);
    r->state = NULL;
}
