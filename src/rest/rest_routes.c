/* rest_routes - the REST route table (rest_server.h): Mailman's resource
 * tree (mailman/rest/root.py and the resources it links) as rows. The
 * first matching row wins, so fixed segments come before '*'. */
#include "rest/rest_server.h"

#include "rest/rest_domains.h"
#include "rest/rest_listconf.h"
#include "rest/rest_lists.h"
#include "rest/rest_members.h"
#include "rest/rest_system.h"

#include <glib.h>

#define GET(f)    [REST_GET] = (f)
#define POST(f)   [REST_POST] = (f)
#define PUT(f)    [REST_PUT] = (f)
#define PATCH(f)  [REST_PATCH] = (f)
#define DELETE(f) [REST_DELETE] = (f)

const struct rest_route rest_routes[] = {
    {"system", {GET(rest_system_versions_get)}},
    {"system/versions", {GET(rest_system_versions_get)}},
    {"domains", {GET(rest_domains_get), POST(rest_domains_post)}},
    {"domains/*",
     {GET(rest_domain_get), PUT(rest_domain_put), PATCH(rest_domain_patch),
      DELETE(rest_domain_delete)}},
    {"domains/*/lists", {GET(rest_domain_lists_get)}},
    {"lists", {GET(rest_lists_get), POST(rest_lists_post)}},
    {"lists/*", {GET(rest_list_get), DELETE(rest_list_delete)}},
    {"lists/*/config",
     {GET(rest_listconf_get), PUT(rest_listconf_put), PATCH(rest_listconf_patch),
      DELETE(rest_listconf_delete)}},
    {"lists/*/config/*",
     {GET(rest_listconf_get), PUT(rest_listconf_put), PATCH(rest_listconf_patch),
      DELETE(rest_listconf_delete)}},
    {"lists/*/roster/*", {GET(rest_roster_get)}},
    {"lists/*/*/*",
     {GET(rest_list_member_get), PATCH(rest_list_member_patch), DELETE(rest_list_member_delete)}},
    {"members", {GET(rest_members_get), POST(rest_members_post)}},
    {"members/find", {GET(rest_members_find), POST(rest_members_find)}},
    {"members/*", {GET(rest_member_get), PATCH(rest_member_patch), DELETE(rest_member_delete)}},
};

const size_t rest_n_routes = G_N_ELEMENTS(rest_routes);
