/*
 * rest_uris - template URIs (mailman/rest/uris.py), API 3.1 only:
 *   /uris, /uris/<name>                       the site's (every template)
 *   /domains/<host>/uris, .../uris/<name>     a domain's (list:* and domain:*)
 *   /lists/<list>/uris, .../uris/<name>       a list's (list:*)
 * GET a collection of {uri, name, self_link[, username, password]} or one
 * {uri, self_link}; PUT (every name of the resource) and PATCH (some)
 * {<name>: uri, username, password} with the username and password both
 * or neither, an empty URI deleting; DELETE (all of the resource's, or
 * the one). Stored with store_template_*; post_template_uri reads them.
 */
#ifndef CRIER_REST_URIS_H
#define CRIER_REST_URIS_H

struct rest_req;

void rest_uris_get(struct rest_req *req);
void rest_uris_put(struct rest_req *req);
void rest_uris_patch(struct rest_req *req);
void rest_uris_delete(struct rest_req *req);

#endif
