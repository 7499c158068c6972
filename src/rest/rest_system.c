/* rest_system - see rest_system.h. */
#include "rest/rest_system.h"

#include "rest/rest_server.h"

#include <event2/event.h>
#include <glib.h>

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
