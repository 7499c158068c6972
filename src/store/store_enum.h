/*
 * store_enum - Mailman's enums as data: name and stored value (reference
 * §10.1 "Stored enum values"). Each table ends with a {NULL, 0} row and
 * lists names in Mailman's declaration order, which is also the order
 * "Accepted Values are: ..." messages print. Tables are static data.
 */
#ifndef CRIER_STORE_ENUM_H
#define CRIER_STORE_ENUM_H

struct store_enum_value {
    const char *name;
    int value;
};

extern const struct store_enum_value store_enum_action[];
extern const struct store_enum_value store_enum_subscription_policy[];
extern const struct store_enum_value store_enum_personalization[];
extern const struct store_enum_value store_enum_reply_to_munging[];
extern const struct store_enum_value store_enum_dmarc_action[];
extern const struct store_enum_value store_enum_archive_policy[];
extern const struct store_enum_value store_enum_archive_rendering[];
extern const struct store_enum_value store_enum_delivery_mode[];
extern const struct store_enum_value store_enum_delivery_status[];
extern const struct store_enum_value store_enum_role[];
extern const struct store_enum_value store_enum_response_action[];
extern const struct store_enum_value store_enum_roster_visibility[];
extern const struct store_enum_value store_enum_digest_frequency[];
extern const struct store_enum_value store_enum_bounce_disposition[];
extern const struct store_enum_value store_enum_filter_action[];
extern const struct store_enum_value store_enum_newsgroup_moderation[];
extern const struct store_enum_value store_enum_request_type[];

/* "a, b, c" of a table's names (g_free). */
char *store_enum_names(const struct store_enum_value *t);

#endif
