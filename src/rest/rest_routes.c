/* rest_routes - the REST route table (rest_server.h): Mailman's resource
 * tree (mailman/rest/root.py and the resources it links) as rows. The
 * first matching row wins, so fixed segments come before '*'. */
#include "rest/rest_server.h"

#include "rest/rest_addresses.h"
#include "rest/rest_bans.h"
#include "rest/rest_domains.h"
#include "rest/rest_header_matches.h"
#include "rest/rest_held.h"
#include "rest/rest_listconf.h"
#include "rest/rest_lists.h"
#include "rest/rest_members.h"
#include "rest/rest_prefs.h"
#include "rest/rest_queues.h"
#include "rest/rest_system.h"
#include "rest/rest_users.h"

#include <glib.h>

#define GET(f)    [REST_GET] = (f)
#define POST(f)   [REST_POST] = (f)
#define PUT(f)    [REST_PUT] = (f)
#define PATCH(f)  [REST_PATCH] = (f)
#define DELETE(f) [REST_DELETE] = (f)

const struct rest_route rest_routes[] = {
    {"system", {GET(rest_system_versions_get)}},
    {"system/versions", {GET(rest_system_versions_get)}},
    {"system/preferences", {GET(rest_system_prefs_get)}},
    {"system/configuration", {GET(rest_system_config_get)}},
    {"system/configuration/*", {GET(rest_system_config_get)}},
    {"system/pipelines", {GET(rest_system_pipelines_get)}},
    {"system/chains", {GET(rest_system_chains_get)}},
    {"domains", {GET(rest_domains_get), POST(rest_domains_post)}},
    {"domains/*",
     {GET(rest_domain_get), PUT(rest_domain_put), PATCH(rest_domain_patch),
      DELETE(rest_domain_delete)}},
    {"domains/*/lists", {GET(rest_domain_lists_get)}},
    {"domains/*/owners",
     {GET(rest_domain_owners_get), POST(rest_domain_owners_post),
      DELETE(rest_domain_owners_delete)}},
    {"lists", {GET(rest_lists_get), POST(rest_lists_post)}},
    {"lists/styles", {GET(rest_list_styles_get)}},
    {"lists/find", {GET(rest_lists_find), POST(rest_lists_find)}},
    {"lists/*", {GET(rest_list_get), DELETE(rest_list_delete)}},
    {"lists/*/config",
     {GET(rest_listconf_get), PUT(rest_listconf_put), PATCH(rest_listconf_patch),
      DELETE(rest_listconf_delete)}},
    {"lists/*/config/*",
     {GET(rest_listconf_get), PUT(rest_listconf_put), PATCH(rest_listconf_patch),
      DELETE(rest_listconf_delete)}},
    {"lists/*/roster/*", {GET(rest_roster_get)}},
    {"lists/*/held", {GET(rest_held_get)}},
    {"lists/*/held/count", {GET(rest_held_count_get)}},
    {"lists/*/held/*", {GET(rest_held_one_get), POST(rest_held_one_post)}},
    {"lists/*/bans", {GET(rest_list_bans_get), POST(rest_list_bans_post)}},
    {"lists/*/bans/*", {GET(rest_list_ban_get), DELETE(rest_list_ban_delete)}},
    {"lists/*/header-matches",
     {GET(rest_header_matches_get), POST(rest_header_matches_post),
      DELETE(rest_header_matches_delete)}},
    {"lists/*/header-matches/find",
     {GET(rest_header_matches_find), POST(rest_header_matches_find)}},
    {"lists/*/header-matches/*",
     {GET(rest_header_match_get), PATCH(rest_header_match_patch), PUT(rest_header_match_put),
      DELETE(rest_header_match_delete)}},
    {"lists/*/*/*",
     {GET(rest_list_member_get), PATCH(rest_list_member_patch), DELETE(rest_list_member_delete)}},
    {"members", {GET(rest_members_get), POST(rest_members_post)}},
    {"members/find", {GET(rest_members_find), POST(rest_members_find)}},
    {"members/*", {GET(rest_member_get), PATCH(rest_member_patch), DELETE(rest_member_delete)}},
    {"members/*/preferences",
     {GET(rest_member_prefs_get), PATCH(rest_member_prefs_patch), PUT(rest_member_prefs_put),
      DELETE(rest_member_prefs_delete)}},
    {"members/*/all/preferences", {GET(rest_member_all_prefs_get)}},
    {"users", {GET(rest_users_get), POST(rest_users_post)}},
    {"users/*",
     {GET(rest_user_get), PATCH(rest_user_patch), PUT(rest_user_put), DELETE(rest_user_delete)}},
    {"users/*/addresses", {GET(rest_user_addresses_get), POST(rest_user_addresses_post)}},
    {"users/*/preferred_address",
     {GET(rest_user_preferred_get), POST(rest_user_preferred_post),
      DELETE(rest_user_preferred_delete)}},
    {"users/*/login", {POST(rest_user_login)}},
    {"users/*/preferences",
     {GET(rest_user_prefs_get), PATCH(rest_user_prefs_patch), PUT(rest_user_prefs_put),
      DELETE(rest_user_prefs_delete)}},
    {"owners", {GET(rest_owners_get)}},
    {"bans", {GET(rest_bans_get), POST(rest_bans_post)}},
    {"bans/*", {GET(rest_ban_get), DELETE(rest_ban_delete)}},
    {"queues", {GET(rest_queues_get)}},
    {"queues/*", {GET(rest_queue_get), POST(rest_queue_post)}},
    {"queues/*/*", {DELETE(rest_queue_file_delete)}},
    {"addresses", {GET(rest_addresses_get)}},
    {"addresses/*",
     {GET(rest_address_get), PATCH(rest_address_patch), DELETE(rest_address_delete)}},
    {"addresses/*/memberships", {GET(rest_address_memberships_get)}},
    {"addresses/*/preferences",
     {GET(rest_address_prefs_get), PATCH(rest_address_prefs_patch), PUT(rest_address_prefs_put),
      DELETE(rest_address_prefs_delete)}},
    {"addresses/*/verify", {POST(rest_address_verify)}},
    {"addresses/*/unverify", {POST(rest_address_unverify)}},
    {"addresses/*/user",
     {GET(rest_address_user_get), POST(rest_address_user_post), PUT(rest_address_user_put),
      DELETE(rest_address_user_delete)}},
};

const size_t rest_n_routes = G_N_ELEMENTS(rest_routes);
