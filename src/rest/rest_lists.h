/*
 * rest_lists - /lists, /lists/<list>, /domains/<d>/lists
 * (mailman/rest/lists.py). POST creates as create_list does (the domain
 * must exist) and DELETE removes as remove_list does; both update the
 * MTA's view (rest_mta).
 *
 * rest_list_of() finds the list a route names (fqdn_listname or list_id,
 * the first '*'), answering 404 itself when there is none: Mailman's
 * not_found() body for the list resource, falcon's bare one for a child.
 */
#ifndef CRIER_REST_LISTS_H
#define CRIER_REST_LISTS_H

#include <jansson.h>
#include <stdbool.h>

struct rest_req;
struct store_list;

struct store_list *rest_list_of(struct rest_req *req, bool child);
/* The list resource (it counts the members: NULL with *err on failure). */
json_t *rest_list_json(struct rest_req *req, const struct store_list *l, char **err);

void rest_lists_get(struct rest_req *req);
void rest_lists_post(struct rest_req *req);
void rest_list_get(struct rest_req *req);
void rest_list_delete(struct rest_req *req);
void rest_domain_lists_get(struct rest_req *req);
/* /lists/styles (the built-in styles) and /lists/find (rest_members.c). */
void rest_list_styles_get(struct rest_req *req);
void rest_lists_find(struct rest_req *req);

#endif
