/* rest_routes - the REST route table (rest_server.h): Mailman's resource
 * tree (mailman/rest/root.py and the resources it links) as rows. The
 * first matching row wins, so fixed segments come before '*'. */
#include "rest/rest_server.h"

#include "rest/rest_addresses.h"
#include "rest/rest_archivers.h"
#include "rest/rest_bans.h"
#include "rest/rest_bulk.h"
#include "rest/rest_digest.h"
#include "rest/rest_domains.h"
#include "rest/rest_header_matches.h"
#include "rest/rest_held.h"
#include "rest/rest_listconf.h"
#include "rest/rest_lists.h"
#include "rest/rest_members.h"
#include "rest/rest_plugins.h"
#include "rest/rest_prefs.h"
#include "rest/rest_queues.h"
#include "rest/rest_requests.h"
#include "rest/rest_system.h"
#include "rest/rest_unsubscribe.h"
#include "rest/rest_uris.h"
#include "rest/rest_users.h"

#include <glib.h>

#define GET(f)    [REST_GET] = (f)
#define POST(f)   [REST_POST] = (f)
#define PUT(f)    [REST_PUT] = (f)
#define PATCH(f)  [REST_PATCH] = (f)
#define DELETE(f) [REST_DELETE] = (f)
#define ALL(f)                                                                                     \
    {                                                                                              \
        GET(f), POST(f), PUT(f), PATCH(f), DELETE(f)                                               \
    }
#define RESERVED                                                                                   \
    {                                                                                              \
        GET(rest_reserved_get), DELETE(rest_reserved_delete)                                       \
    }
#define URIS                                                                                       \
    {                                                                                              \
        GET(rest_uris_get), PUT(rest_uris_put), PATCH(rest_uris_patch), DELETE(rest_uris_delete)   \
    }

const struct rest_route rest_routes[] = {
    {.pattern = "system", .on = {GET(rest_system_versions_get)}},
    {.pattern = "system/versions", .on = {GET(rest_system_versions_get)}},
    {.pattern = "system/preferences", .on = {GET(rest_system_prefs_get)}},
    {.pattern = "system/configuration", .on = {GET(rest_system_config_get)}},
    {.pattern = "system/configuration/*", .on = {GET(rest_system_config_get)}},
    {.pattern = "system/pipelines", .on = {GET(rest_system_pipelines_get)}},
    {.pattern = "system/chains", .on = {GET(rest_system_chains_get)}},
    {.pattern = "domains", .on = {GET(rest_domains_get), POST(rest_domains_post)}},
    {.pattern = "domains/*",
     .on = {GET(rest_domain_get), PUT(rest_domain_put), PATCH(rest_domain_patch),
            DELETE(rest_domain_delete)}},
    {.pattern = "domains/*/uris", .on = URIS},
    {.pattern = "domains/*/uris/*", .on = URIS},
    {.pattern = "domains/*/lists", .on = {GET(rest_domain_lists_get)}},
    {.pattern = "domains/*/owners",
     .on = {GET(rest_domain_owners_get), POST(rest_domain_owners_post),
            DELETE(rest_domain_owners_delete)}},
    {.pattern = "lists", .on = {GET(rest_lists_get), POST(rest_lists_post)}},
    {.pattern = "lists/styles", .on = {GET(rest_list_styles_get)}},
    {.pattern = "lists/find", .on = {GET(rest_lists_find), POST(rest_lists_find)}},
    {.pattern = "lists/*", .on = {GET(rest_list_get), DELETE(rest_list_delete)}},
    {.pattern = "lists/*/config",
     .on = {GET(rest_listconf_get), PUT(rest_listconf_put), PATCH(rest_listconf_patch),
            DELETE(rest_listconf_delete)}},
    {.pattern = "lists/*/config/*",
     .on = {GET(rest_listconf_get), PUT(rest_listconf_put), PATCH(rest_listconf_patch),
            DELETE(rest_listconf_delete)}},
    {.pattern = "lists/*/uris", .on = URIS},
    {.pattern = "lists/*/uris/*", .on = URIS},
    {.pattern = "lists/*/archivers",
     .on = {GET(rest_list_archivers_get), PUT(rest_list_archivers_put),
            PATCH(rest_list_archivers_patch)}},
    {.pattern = "lists/*/digest", .on = {GET(rest_list_digest_get), POST(rest_list_digest_post)}},
    {.pattern = "lists/*/roster/*", .on = {GET(rest_roster_get), DELETE(rest_roster_delete)}},
    /* crier's extension (rest_bulk.h) */
    {.pattern = "lists/*/roster/member/bulk",
     .on = {POST(rest_roster_bulk_post)},
     .max_body = REST_MAX_BULK_BODY},
    {.pattern = "lists/*/held", .on = {GET(rest_held_get)}},
    {.pattern = "lists/*/held/count", .on = {GET(rest_held_count_get)}},
    {.pattern = "lists/*/held/*", .on = {GET(rest_held_one_get), POST(rest_held_one_post)}},
    {.pattern = "lists/*/requests", .on = {GET(rest_requests_get)}},
    {.pattern = "lists/*/requests/count", .on = {GET(rest_requests_count_get)}},
    {.pattern = "lists/*/requests/*", .on = {GET(rest_request_get), POST(rest_request_post)}},
    {.pattern = "lists/*/bans", .on = {GET(rest_list_bans_get), POST(rest_list_bans_post)}},
    {.pattern = "lists/*/bans/*", .on = {GET(rest_list_ban_get), DELETE(rest_list_ban_delete)}},
    {.pattern = "lists/*/header-matches",
     .on = {GET(rest_header_matches_get), POST(rest_header_matches_post),
            DELETE(rest_header_matches_delete)}},
    {.pattern = "lists/*/header-matches/find",
     .on = {GET(rest_header_matches_find), POST(rest_header_matches_find)}},
    {.pattern = "lists/*/header-matches/*",
     .on = {GET(rest_header_match_get), PATCH(rest_header_match_patch), PUT(rest_header_match_put),
            DELETE(rest_header_match_delete)}},
    {.pattern = "lists/*/*/*",
     .on = {GET(rest_list_member_get), PATCH(rest_list_member_patch),
            DELETE(rest_list_member_delete)}},
    {.pattern = "members", .on = {GET(rest_members_get), POST(rest_members_post)}},
    {.pattern = "members/find", .on = {GET(rest_members_find), POST(rest_members_find)}},
    {.pattern = "members/*",
     .on = {GET(rest_member_get), PATCH(rest_member_patch), DELETE(rest_member_delete)}},
    {.pattern = "members/*/preferences",
     .on = {GET(rest_member_prefs_get), PATCH(rest_member_prefs_patch), PUT(rest_member_prefs_put),
            DELETE(rest_member_prefs_delete)}},
    {.pattern = "members/*/all/preferences", .on = {GET(rest_member_all_prefs_get)}},
    {.pattern = "users", .on = {GET(rest_users_get), POST(rest_users_post)}},
    {.pattern = "users/find", .on = {GET(rest_users_find)}},
    {.pattern = "users/*",
     .on = {GET(rest_user_get), PATCH(rest_user_patch), PUT(rest_user_put),
            DELETE(rest_user_delete)}},
    {.pattern = "users/*/addresses",
     .on = {GET(rest_user_addresses_get), POST(rest_user_addresses_post)}},
    {.pattern = "users/*/preferred_address",
     .on = {GET(rest_user_preferred_get), POST(rest_user_preferred_post),
            DELETE(rest_user_preferred_delete)}},
    {.pattern = "users/*/login", .on = {POST(rest_user_login)}},
    {.pattern = "users/*/preferences",
     .on = {GET(rest_user_prefs_get), PATCH(rest_user_prefs_patch), PUT(rest_user_prefs_put),
            DELETE(rest_user_prefs_delete)}},
    {.pattern = "uris", .on = URIS},
    {.pattern = "uris/*", .on = URIS},
    {.pattern = "owners", .on = {GET(rest_owners_get)}},
    {.pattern = "bans", .on = {GET(rest_bans_get), POST(rest_bans_post)}},
    {.pattern = "bans/*", .on = {GET(rest_ban_get), DELETE(rest_ban_delete)}},
    {.pattern = "queues", .on = {GET(rest_queues_get)}},
    {.pattern = "queues/*", .on = {GET(rest_queue_get), POST(rest_queue_post)}},
    {.pattern = "queues/*/*", .on = {DELETE(rest_queue_file_delete)}},
    {.pattern = "plugins", .on = {GET(rest_plugins_get)}},
    {.pattern = "plugins/*", .on = ALL(rest_plugin_any)},
    {.pattern = "plugins/*/*", .on = ALL(rest_plugin_any)},
    {.pattern = "plugins/*/*/*", .on = ALL(rest_plugin_any)},
    {.pattern = "reserved", .on = RESERVED},
    {.pattern = "reserved/*", .on = RESERVED},
    {.pattern = "reserved/*/*", .on = RESERVED},
    {.pattern = "reserved/*/*/*", .on = RESERVED},
    {.pattern = "templates", .on = ALL(rest_templates_bad)},
    {.pattern = "templates/*", .on = ALL(rest_templates_bad)},
    {.pattern = "templates/*/*", .on = {GET(rest_templates_get)}},
    {.pattern = "templates/*/*/*", .on = {GET(rest_templates_get)}},
    {.pattern = "templates/*/*/*/*", .on = ALL(rest_templates_bad)},
    {.pattern = "addresses", .on = {GET(rest_addresses_get)}},
    {.pattern = "addresses/*",
     .on = {GET(rest_address_get), PATCH(rest_address_patch), DELETE(rest_address_delete)}},
    {.pattern = "addresses/*/memberships", .on = {GET(rest_address_memberships_get)}},
    {.pattern = "addresses/*/preferences",
     .on = {GET(rest_address_prefs_get), PATCH(rest_address_prefs_patch),
            PUT(rest_address_prefs_put), DELETE(rest_address_prefs_delete)}},
    {.pattern = "addresses/*/verify", .on = {POST(rest_address_verify)}},
    {.pattern = "addresses/*/unverify", .on = {POST(rest_address_unverify)}},
    {.pattern = "addresses/*/user",
     .on = {GET(rest_address_user_get), POST(rest_address_user_post), PUT(rest_address_user_put),
            DELETE(rest_address_user_delete)}},
};

const size_t rest_n_routes = G_N_ELEMENTS(rest_routes);
