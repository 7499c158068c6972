/* rest_system - see rest_system.h. */
#include "rest/rest_system.h"

#include "config/config.h"
#include "rest/rest_server.h"
#include "store/list_attr.h"

#include <event2/event.h>
#include <glib.h>
#include <string.h>

/* Where Mailman says "GNU Mailman 3.3.8 (Tom Sawyer)", crier names itself
 * (as `crier version` does); python_version names what crier is built on. */
void rest_system_versions_get(struct rest_req *req)
{
    json_t *r = json_object();
    json_object_set_new(r, "mailman_version",
                        json_string("crier " CRIER_VERSION " (GNU Mailman 3.3.8 compatible)"));
    g_autofree char *built = g_strdup_printf(
        "C17, GLib %u.%u.%u, libevent %s, jansson %s", glib_major_version, glib_minor_version,
        glib_micro_version, event_get_version(), JANSSON_VERSION);
    json_object_set_new(r, "python_version", json_string(built));
    json_object_set_new(r, "api_version", json_string(req->api));
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "system/versions")));
    rest_ok(req, r, NULL);
}

/* SystemConfiguration: the section names, or one section's keys with
 * their raw values (as lazr.config gives them: strings, unexpanded). */
void rest_system_config_get(struct rest_req *req)
{
    const char *section = rest_arg(req, 0);
    json_t *r = json_object();
    if (section == NULL) {
        g_autoptr(GPtrArray) names = config_section_names(req->cfg);
        json_t *v = json_array();
        for (guint i = 0; i < names->len; i++)
            json_array_append_new(v, json_string(names->pdata[i]));
        json_object_set_new(r, "sections", v);
        json_object_set_new(r, "self_link",
                            rest_jstr_take(rest_path_to(req, "system/configuration")));
        rest_ok(req, r, NULL);
        return;
    }
    g_autoptr(GPtrArray) names = config_section_names(req->cfg);
    bool known = false;
    for (guint i = 0; i < names->len && !known; i++)
        known = strcmp(names->pdata[i], section) == 0;
    if (!known) {
        json_decref(r);
        rest_not_found(req, NULL);
        return;
    }
    g_autoptr(GPtrArray) keys = config_key_names(req->cfg, section);
    for (guint i = 0; i < keys->len; i++)
        json_object_set_new(r, keys->pdata[i],
                            json_string(config_get(req->cfg, section, keys->pdata[i])));
    json_object_set_new(r, "self_link",
                        rest_jstr_take(rest_path_to(req, "system/configuration/%s", section)));
    rest_ok(req, r, NULL);
}

/* Pipelines and Chains: the names Mailman registers (crier runs the same
 * ones), sorted, without a self_link, as Mailman gives them. */
static void names_resource(struct rest_req *req, const char *key, const char *const *names)
{
    json_t *v = json_array();
    for (; *names; names++)
        json_array_append_new(v, json_string(*names));
    json_t *r = json_object();
    json_object_set_new(r, key, v);
    rest_ok(req, r, NULL);
}

/* The names a list's posting_pipeline and posting_chain accept. */
void rest_system_pipelines_get(struct rest_req *req)
{
    names_resource(req, "pipelines", list_attr_find("posting_pipeline")->choices);
}

void rest_system_chains_get(struct rest_req *req)
{
    names_resource(req, "chains", list_attr_find("posting_chain")->choices);
}
