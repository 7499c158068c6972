/* rest_routes - the REST route table (rest_server.h): Mailman's resource
 * tree (mailman/rest/root.py and the resources it links) as rows. The
 * first matching row wins, so fixed segments come before '*'. */
#include "rest/rest_server.h"

#include "rest/rest_domains.h"
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
};

const size_t rest_n_routes = G_N_ELEMENTS(rest_routes);
