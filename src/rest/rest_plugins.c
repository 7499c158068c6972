/* rest_plugins - see rest_plugins.h. */
#include "rest/rest_plugins.h"

#include "config/config.h"
#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

static bool api_30(const struct rest_req *req)
{
    return strcmp(req->api, "3.0") == 0;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void rest_plugins_get(struct rest_req *req)
{
    if (api_30(req)) {
        rest_no_such_child(req);
        return;
    }
    GPtrArray *sections = config_section_names(req->cfg);
    g_ptr_array_sort(sections, by_name);
    json_t *entries = json_array();
    for (guint i = 0; i < sections->len; i++) {
        const char *sec = sections->pdata[i];
        if (!g_str_has_prefix(sec, "plugin.") || strcmp(sec, "plugin.master") == 0)
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(sec + strlen("plugin.")));
        json_object_set_new(e, "class", json_string(config_get(req->cfg, sec, "class")));
        json_object_set_new(e, "enabled", json_boolean(config_get_bool(req->cfg, sec, "enabled")));
        g_autofree char *conf = g_strstrip(g_strdup(config_get(req->cfg, sec, "configuration")));
        if (*conf != '\0')
            json_object_set_new(e, "configuration", json_string(conf));
        json_array_append_new(entries, e);
    }
    g_ptr_array_unref(sections);
    rest_ok_collection(req, entries, NULL);
}

void rest_plugin_any(struct rest_req *req)
{
    rest_no_such_child(req);
}

/* The path under reserved/, '/'-joined (g_free). */
static char *reserved_path(const struct rest_req *req)
{
    return g_strjoinv("/", req->seg + 1);
}

void rest_reserved_get(struct rest_req *req)
{
    g_autofree char *path = reserved_path(req);
    if (strcmp(path, "reset") == 0)
        rest_no_content(req);
    else
        rest_not_found(req, NULL);
}

void rest_reserved_delete(struct rest_req *req)
{
    g_autofree char *path = reserved_path(req);
    if (strcmp(path, "uids/orphans") == 0)
        rest_no_content(req);
    else
        rest_not_found(req, NULL);
}

/* A number of segments TopLevel.templates refuses (BadRequest), or 3.1. */
void rest_templates_bad(struct rest_req *req)
{
    if (api_30(req))
        rest_error(req, 400, "400 Bad Request", NULL);
    else
        rest_no_such_child(req);
}

void rest_templates_get(struct rest_req *req)
{
    if (!api_30(req)) {
        rest_no_such_child(req);
        return;
    }
    /* IListManager.get(): the fqdn_listname only */
    struct store_list *l = NULL;
    char *err = NULL;
    int rc = strchr(rest_arg(req, 0), '@') != NULL
                 ? store_list_get(req->store, rest_arg(req, 0), &l, &err)
                 : 0;
    if (rc < 0)
        rest_internal_error(req, "list", err);
    else if (rc == 0)
        rest_no_such_child(req);
    else
        rest_not_found(req, NULL);
    g_free(err);
    if (l != NULL)
        store_list_free(l);
}
