/*
 * store_enum - the enum tables of store_enum.h.
 */
#include "store/store_enum.h"

#include <glib.h>

const struct store_enum_value store_enum_action[] = {
    {"hold", 0}, {"reject", 1}, {"discard", 2}, {"accept", 3}, {"defer", 4}, {NULL, 0},
};
const struct store_enum_value store_enum_subscription_policy[] = {
    {"open", 0}, {"confirm", 1}, {"moderate", 2}, {"confirm_then_moderate", 3}, {NULL, 0},
};
const struct store_enum_value store_enum_personalization[] = {
    {"none", 0},
    {"individual", 1},
    {"full", 2},
    {NULL, 0},
};
const struct store_enum_value store_enum_reply_to_munging[] = {
    {"no_munging", 0}, {"point_to_list", 1}, {"explicit_header", 2}, {"explicit_header_only", 3},
    {NULL, 0},
};
const struct store_enum_value store_enum_dmarc_action[] = {
    {"no_mitigation", 0}, {"munge_from", 1}, {"wrap_message", 2},
    {"reject", 3},        {"discard", 4},    {NULL, 0},
};
const struct store_enum_value store_enum_archive_policy[] = {
    {"never", 0},
    {"private", 1},
    {"public", 2},
    {NULL, 0},
};
const struct store_enum_value store_enum_archive_rendering[] = {
    {"text", 0},
    {"markdown", 1},
    {NULL, 0},
};
const struct store_enum_value store_enum_delivery_mode[] = {
    {"regular", 1}, {"plaintext_digests", 2}, {"mime_digests", 3}, {"summary_digests", 4},
    {NULL, 0},
};
const struct store_enum_value store_enum_delivery_status[] = {
    {"enabled", 1},      {"by_user", 2}, {"by_bounces", 3},
    {"by_moderator", 4}, {"unknown", 5}, {NULL, 0},
};
const struct store_enum_value store_enum_role[] = {
    {"member", 1}, {"owner", 2}, {"moderator", 3}, {"nonmember", 4}, {NULL, 0},
};
const struct store_enum_value store_enum_response_action[] = {
    {"none", 0},
    {"respond_and_discard", 1},
    {"respond_and_continue", 2},
    {NULL, 0},
};
const struct store_enum_value store_enum_roster_visibility[] = {
    {"public", 0},
    {"members", 1},
    {"moderators", 2},
    {NULL, 0},
};
const struct store_enum_value store_enum_digest_frequency[] = {
    {"yearly", 0}, {"monthly", 1}, {"quarterly", 2}, {"weekly", 3}, {"daily", 4}, {NULL, 0},
};
const struct store_enum_value store_enum_bounce_disposition[] = {
    {"discard", 0},
    {"administrators", 1},
    {"site_owner", 2},
    {NULL, 0},
};
/* FilterAction (content filtering) extends Action with forward and preserve. */
const struct store_enum_value store_enum_filter_action[] = {
    {"hold", 0},  {"reject", 1},  {"discard", 2},  {"accept", 3},
    {"defer", 4}, {"forward", 5}, {"preserve", 6}, {NULL, 0},
};
const struct store_enum_value store_enum_newsgroup_moderation[] = {
    {"none", 0},
    {"open_moderated", 1},
    {"moderated", 2},
    {NULL, 0},
};
const struct store_enum_value store_enum_request_type[] = {
    {"held_message", 1},
    {"subscription", 2},
    {"unsubscription", 3},
    {NULL, 0},
};

char *store_enum_names(const struct store_enum_value *t)
{
    GString *s = g_string_new(NULL);
    for (; t->name != NULL; t++) {
        if (s->len > 0)
            g_string_append(s, ", ");
        g_string_append(s, t->name);
    }
    return g_string_free(s, FALSE);
}
