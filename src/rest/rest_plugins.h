/*
 * rest_plugins - the rest of mailman/rest/root.py's top level:
 *   /plugins (API 3.1; plugins.py AllPlugins): a collection of the
 *     [plugin.<name>] sections (all of them, enabled or not, by name):
 *     name, class, enabled, and configuration when set. crier loads no
 *     plugins, so /plugins/<name>[/...] (a plugin's own resource in
 *     Mailman) is 404.
 *   /reserved/... (root.py Reserved): GET reserved/reset (Mailman closes
 *     its database sessions; crier has none to close) and DELETE
 *     reserved/uids/orphans (Mailman culls unused UIDs; crier keeps no
 *     UID table) are 204, any other path under it 404 with Mailman's
 *     not_found() body.
 *   /templates/<fqdn_listname>/<template>[/<language>] (API 3.0 only;
 *     templates.py TemplateFinder): 404 for an unknown list, 400 for
 *     another number of segments; for a list, GET is 404 "404 Not Found",
 *     as Mailman's, which finds no content type to serve.
 */
#ifndef CRIER_REST_PLUGINS_H
#define CRIER_REST_PLUGINS_H

struct rest_req;

void rest_plugins_get(struct rest_req *req);
void rest_plugin_any(struct rest_req *req);
void rest_reserved_get(struct rest_req *req);
void rest_reserved_delete(struct rest_req *req);
void rest_templates_bad(struct rest_req *req);
void rest_templates_get(struct rest_req *req);

#endif
