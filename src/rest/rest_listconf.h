/*
 * rest_listconf - /lists/<list>/config and /lists/<list>/config/<attr>
 * (mailman/rest/listconf.py): the attributes Mailman's REST API exposes, in
 * its order, with its read-only set, its input validation and its texts.
 * Values are crier's list attributes (store/list_attr.h) rendered as
 * Mailman renders them: bools, integers, floats, enum names, durations as
 * "7d" / "1d30.5s", naive ISO-8601 times (null when unset), string lists
 * as arrays, moderator_password as null or its hash. Under API 3.0 six
 * *_uri attributes follow, the list's template URIs (store_template_*).
 */
#ifndef CRIER_REST_LISTCONF_H
#define CRIER_REST_LISTCONF_H

#include <stddef.h>

struct rest_req;

void rest_listconf_get(struct rest_req *req);
void rest_listconf_put(struct rest_req *req);
void rest_listconf_patch(struct rest_req *req);
void rest_listconf_delete(struct rest_req *req);

/* For tests: the REST attribute names in Mailman's order. */
size_t rest_listconf_count(void);
const char *rest_listconf_name(size_t i);

#endif
