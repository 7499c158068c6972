/* rest_listconf - see rest_listconf.h. */
#include "rest/rest_listconf.h"

#include "mail/address.h"
#include "rest/rest_lists.h"
#include "rest/rest_params.h"
#include "rest/rest_password.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/list_attr.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

#define RO       1u /* Mailman's GetterSetter(None) */
#define EMAILS   2u /* list_of_emails_or_regexp_validator */
#define PASSWORD 4u /* stored hashed, shown as null or the hash */
#define SORTED   8u /* shown sorted (acceptable_aliases) */

struct conf_attr {
    const char *name;
    unsigned flags;
    const char *py_enum; /* the Python enum class, for the etag */
};

/* mailman/rest/listconf.py ATTRIBUTES, in its order (the JSON's order). */
static const struct conf_attr attrs[] = {
    {"acceptable_aliases", SORTED, NULL},
    {"accept_these_nonmembers", EMAILS, NULL},
    {"admin_immed_notify", 0, NULL},
    {"admin_notify_mchanges", 0, NULL},
    {"administrivia", 0, NULL},
    {"advertised", 0, NULL},
    {"allow_list_posts", 0, NULL},
    {"anonymous_list", 0, NULL},
    {"archive_policy", 0, "ArchivePolicy"},
    {"archive_rendering_mode", 0, "ArchiveRenderingMode"},
    {"autorespond_owner", 0, "ResponseAction"},
    {"autorespond_postings", 0, "ResponseAction"},
    {"autorespond_requests", 0, "ResponseAction"},
    {"autoresponse_grace_period", 0, NULL},
    {"autoresponse_owner_text", 0, NULL},
    {"autoresponse_postings_text", 0, NULL},
    {"autoresponse_request_text", 0, NULL},
    {"bounces_address", RO, NULL},
    {"bounce_info_stale_after", 0, NULL},
    {"bounce_notify_owner_on_bounce_increment", 0, NULL},
    {"bounce_notify_owner_on_disable", 0, NULL},
    {"bounce_notify_owner_on_removal", 0, NULL},
    {"bounce_score_threshold", 0, NULL},
    {"bounce_you_are_disabled_warnings", 0, NULL},
    {"bounce_you_are_disabled_warnings_interval", 0, NULL},
    {"collapse_alternatives", 0, NULL},
    {"convert_html_to_plaintext", 0, NULL},
    {"created_at", RO, NULL},
    {"default_member_action", 0, "Action"},
    {"default_nonmember_action", 0, "Action"},
    {"description", 0, NULL},
    {"digest_last_sent_at", RO, NULL},
    {"digest_send_periodic", 0, NULL},
    {"digest_size_threshold", 0, NULL},
    {"digest_volume_frequency", 0, "DigestFrequency"},
    {"digests_enabled", 0, NULL},
    {"display_name", 0, NULL},
    {"discard_these_nonmembers", EMAILS, NULL},
    {"dmarc_mitigate_action", 0, "DMARCMitigateAction"},
    {"dmarc_mitigate_unconditionally", 0, NULL},
    {"dmarc_moderation_notice", 0, NULL},
    {"dmarc_wrapped_message_text", 0, NULL},
    {"emergency", 0, NULL},
    {"filter_action", 0, "FilterAction"},
    {"filter_content", 0, NULL},
    {"filter_extensions", 0, NULL},
    {"filter_types", 0, NULL},
    {"first_strip_reply_to", 0, NULL},
    {"forward_unrecognized_bounces_to", 0, "UnrecognizedBounceDisposition"},
    {"fqdn_listname", RO, NULL},
    {"gateway_to_mail", 0, NULL},
    {"gateway_to_news", 0, NULL},
    {"hold_these_nonmembers", EMAILS, NULL},
    {"include_rfc2369_headers", 0, NULL},
    {"info", 0, NULL},
    {"join_address", RO, NULL},
    {"last_post_at", RO, NULL},
    {"leave_address", RO, NULL},
    {"linked_newsgroup", 0, NULL},
    {"list_name", RO, NULL},
    {"mail_host", RO, NULL},
    {"max_message_size", 0, NULL},
    {"max_num_recipients", 0, NULL},
    {"max_days_to_hold", 0, NULL},
    {"member_roster_visibility", 0, "RosterVisibility"},
    {"moderator_password", PASSWORD, NULL},
    {"newsgroup_moderation", 0, "NewsgroupModeration"},
    {"next_digest_number", RO, NULL},
    {"nntp_prefix_subject_too", 0, NULL},
    {"no_reply_address", RO, NULL},
    {"owner_address", RO, NULL},
    {"pass_types", 0, NULL},
    {"pass_extensions", 0, NULL},
    {"personalize", 0, "Personalization"},
    {"post_id", RO, NULL},
    {"posting_address", RO, NULL},
    {"posting_pipeline", 0, NULL},
    {"preferred_language", 0, NULL},
    {"process_bounces", 0, NULL},
    {"reject_these_nonmembers", EMAILS, NULL},
    {"reply_goes_to_list", 0, "ReplyToMunging"},
    {"reply_to_address", 0, NULL},
    {"request_address", RO, NULL},
    {"require_explicit_destination", 0, NULL},
    {"respond_to_post_requests", 0, NULL},
    {"send_goodbye_message", 0, NULL},
    {"send_welcome_message", 0, NULL},
    {"subject_prefix", 0, NULL},
    {"subscription_policy", 0, "SubscriptionPolicy"},
    {"unsubscription_policy", 0, "SubscriptionPolicy"},
    {"usenet_watermark", RO, NULL},
    {"volume", RO, NULL},
};

size_t rest_listconf_count(void)
{
    return G_N_ELEMENTS(attrs);
}

const char *rest_listconf_name(size_t i)
{
    return i < G_N_ELEMENTS(attrs) ? attrs[i].name : NULL;
}

static const struct conf_attr *conf_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(attrs); i++)
        if (strcmp(attrs[i].name, name) == 0)
            return &attrs[i];
    return NULL;
}

/* ---- output -------------------------------------------------------------- */

/* ExtendedEncoder's timedelta: "{days}d" or "{days}d{seconds}s". */
static char *duration_text(int64_t us)
{
    int64_t days = us / 86400000000LL, rest = us % 86400000000LL;
    if (rest == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "d", days);
    g_autofree char *secs = rest_py_float_repr((double)(rest / 1000000) + (rest % 1000000) / 1e6);
    return g_strdup_printf("%" G_GINT64_FORMAT "d%ss", days, secs);
}

static json_t *conf_value(const struct store_list *l, const struct conf_attr *c)
{
    const struct list_attr *a = list_attr_find(c->name);
    const char *v = store_list_attr(l, c->name);
    if (a == NULL || v == NULL)
        return json_null();
    int64_t us = 0;
    switch (a->type) {
    case LIST_ATTR_BOOL:
        return json_boolean(store_list_attr_bool(l, c->name));
    case LIST_ATTR_INT:
        return *v ? json_integer(store_list_attr_int(l, c->name)) : json_null();
    case LIST_ATTR_FLOAT:
        return json_real(store_list_attr_seconds(l, c->name));
    case LIST_ATTR_DURATION:
        list_attr_parse_duration(v, &us);
        return rest_jstr_take(duration_text(us));
    case LIST_ATTR_TIME:
        return *v ? json_string(v) : json_null();
    case LIST_ATTR_STRLIST: {
        g_auto(GStrv) items = store_list_attr_strv(l, c->name);
        size_t n = g_strv_length(items);
        if (c->flags & SORTED)
            qsort(items, n, sizeof *items, (int (*)(const void *, const void *))g_strcmp0);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            if (*items[i])
                json_array_append_new(arr, json_string(items[i]));
        return arr;
    }
    default:
        if ((c->flags & PASSWORD) && *v == '\0')
            return json_null();
        return json_string(v);
    }
}

/* The Python reprs Mailman's etag sees: enums, timedeltas, datetimes and
 * the password's bytes. */
static char *conf_pyrepr(const char *key, json_t *value, void *ctx)
{
    const struct conf_attr *c = conf_find(key);
    const struct list_attr *a = c ? list_attr_find(key) : NULL;
    if (a == NULL || !json_is_string(value))
        return NULL;
    const char *v = json_string_value(value);
    int64_t us = 0;
    if (a->type == LIST_ATTR_ENUM && c->py_enum)
        return rest_py_enum_repr(c->py_enum, v, (int)list_attr_int(a, v));
    if (a->type == LIST_ATTR_DURATION && list_attr_parse_duration(v, &us) == 0)
        return rest_py_timedelta_repr(us);
    if (a->type == LIST_ATTR_TIME && list_attr_parse_time(v, &us) == 0)
        return rest_py_datetime_repr(us);
    if (c->flags & PASSWORD) {
        g_autofree char *s = rest_py_str_repr(v, strlen(v));
        return g_strconcat("b", s, NULL);
    }
    return NULL;
}

static const struct rest_pyrepr conf_hook = {conf_pyrepr, NULL};

void rest_listconf_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    const char *only = rest_arg(req, 1);
    json_t *r = json_object();
    for (size_t i = 0; i < G_N_ELEMENTS(attrs); i++)
        if (only == NULL || strcmp(only, attrs[i].name) == 0)
            json_object_set_new(r, attrs[i].name, conf_value(l, &attrs[i]));
    if (json_object_size(r) == 0) {
        json_decref(r);
        g_autofree char *text = g_strdup_printf("Unknown attribute: %s", only);
        rest_not_found(req, text);
    } else {
        rest_ok(req, r, &conf_hook);
    }
    store_list_free(l);
}

/* ---- input ---------------------------------------------------------------- */

static char *invalid(const char *name, const char *reason)
{
    return g_strdup_printf("Invalid Parameter \"%s\": %s.", name, reason);
}

static bool email_or_regexp_ok(const char *v, char **reason_r)
{
    bool ok;
    if (*v == '\0') {
        *reason_r = g_strdup("Expected a valid email address or regular expression, got empty");
        return false;
    }
    if (v[0] == '^') {
        GRegex *re = g_regex_new(v, 0, 0, NULL);
        ok = re != NULL;
        if (re)
            g_regex_unref(re);
    } else {
        ok = address_is_valid(v);
    }
    if (!ok)
        *reason_r =
            g_strdup_printf("Expected a valid email address or regular expression, got %s", v);
    return ok;
}

/* A request value as the attribute's canonical string (*canon_r), or
 * Mailman's message for the value (*error_r). */
static int conf_input(const struct conf_attr *c, json_t *value, char **canon_r, char **error_r)
{
    const struct list_attr *a = list_attr_find(c->name);
    g_autofree char *reason = NULL, *tmp = NULL;
    if (a->type == LIST_ATTR_STRLIST) {
        json_t *items = rest_convert(value, REST_CONV_STRLIST, NULL, &reason);
        if (items == NULL) {
            *error_r = invalid(c->name, reason);
            return -1;
        }
        GString *joined = g_string_new(NULL);
        for (size_t i = 0; i < json_array_size(items) && reason == NULL; i++) {
            const char *s = json_string_value(json_array_get(items, i));
            if ((c->flags & EMAILS) && !email_or_regexp_ok(s, &reason))
                break;
            g_string_append_printf(joined, "%s%s", i ? "\n" : "", s);
        }
        json_decref(items);
        g_autofree char *text = g_string_free(joined, FALSE);
        if (reason) {
            *error_r = invalid(c->name, reason);
            return -1;
        }
        return list_attr_normalize(a, text, canon_r, error_r);
    }
    if ((c->flags & PASSWORD) && json_is_null(value)) {
        *canon_r = g_strdup("");
        return 0;
    }
    if (a->type == LIST_ATTR_BOOL && json_is_boolean(value)) {
        *canon_r = g_strdup(json_is_true(value) ? "true" : "false");
        return 0;
    }
    const char *text = rest_param_text(value, &tmp);
    if (text == NULL) {
        *error_r = invalid(c->name, "Expected a single value");
        return -1;
    }
    if (a->type == LIST_ATTR_INT) {
        /* integer_ge_zero_validator: Python's int(), then the sign. */
        long long n;
        if (!rest_parse_pyint(text, &n)) {
            g_autofree char *r = rest_py_str_repr(text, strlen(text));
            reason = g_strdup_printf("invalid literal for int() with base 10: %s", r);
        } else if (n < 0) {
            reason = g_strdup_printf("Expected a non-negative integer: %lld", n);
        } else {
            *canon_r = g_strdup_printf("%lld", n);
            return 0;
        }
        *error_r = invalid(c->name, reason);
        return -1;
    }
    if (c->flags & PASSWORD) {
        *canon_r = rest_password_hash(text);
        if (*canon_r == NULL) {
            *error_r = invalid(c->name, "cannot hash the password");
            return -1;
        }
        return 0;
    }
    return list_attr_normalize(a, text, canon_r, error_r);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "prefix" + sorted items joined by sep; NULL when there are none. */
static char *message(GPtrArray *v, const char *prefix, const char *sep)
{
    if (v->len == 0)
        return NULL;
    g_ptr_array_sort(v, cmp_str);
    GString *s = g_string_new(prefix);
    for (guint i = 0; i < v->len; i++)
        g_string_append_printf(s, "%s%s", i ? sep : "", (char *)v->pdata[i]);
    return g_string_free(s, FALSE);
}

struct conf_update {
    GPtrArray *names;  /* attribute names (static) */
    GPtrArray *values; /* canonical values */
    GPtrArray *extras, *invalid, *missing;
};

static void update_init(struct conf_update *u)
{
    u->names = g_ptr_array_new();
    u->values = g_ptr_array_new_with_free_func(g_free);
    u->extras = g_ptr_array_new_with_free_func(g_free);
    u->invalid = g_ptr_array_new_with_free_func(g_free);
    u->missing = g_ptr_array_new_with_free_func(g_free);
}

static void update_clear(struct conf_update *u)
{
    g_ptr_array_unref(u->names);
    g_ptr_array_unref(u->values);
    g_ptr_array_unref(u->extras);
    g_ptr_array_unref(u->invalid);
    g_ptr_array_unref(u->missing);
}

static void update_add(struct conf_update *u, const struct conf_attr *c, json_t *value)
{
    char *canon = NULL, *err = NULL;
    if (conf_input(c, value, &canon, &err) < 0) {
        g_ptr_array_add(u->invalid, err);
        return;
    }
    g_ptr_array_add(u->names, (gpointer)c->name);
    g_ptr_array_add(u->values, canon);
}

/* Answers Mailman's Validator error, or writes everything in one
 * transaction and answers 204. */
static void update_finish(struct rest_req *req, struct conf_update *u, const char *list_id)
{
    g_autofree char *extras = message(u->extras, "Unexpected parameters: ", ", ");
    g_autofree char *invalid_msg = message(u->invalid, "", " ");
    g_autofree char *missing = message(u->missing, "Missing Parameter: ", ", ");
    const char *bad = extras ? extras : invalid_msg ? invalid_msg : missing;
    if (bad) {
        rest_bad_request(req, "%s", bad);
        return;
    }
    char *err = NULL;
    int rc = store_begin(req->store, &err);
    for (guint i = 0; rc >= 0 && i < u->names->len; i++)
        rc =
            store_list_set_attr(req->store, list_id, u->names->pdata[i], u->values->pdata[i], &err);
    if (rest_store_end(req, rc, &err) >= 0)
        rest_no_content(req);
}

void rest_listconf_put(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    const char *only = rest_arg(req, 1);
    const struct conf_attr *target = only ? conf_find(only) : NULL;
    if (only && target == NULL) {
        g_autofree char *text = g_strdup_printf("Unknown attribute: %s", only);
        rest_not_found(req, text);
    } else if (target && (target->flags & RO)) {
        rest_bad_request(req, "Read-only attribute: %s", only);
    } else {
        /* Validator(**VALIDATORS), or just the one attribute: every
         * writable one is required, anything else is unexpected. */
        struct conf_update u;
        update_init(&u);
        json_t *params = rest_params(req);
        const char *key;
        json_t *v;
        json_object_foreach(params, key, v)
        {
            const struct conf_attr *c = conf_find(key);
            if (c == NULL || (c->flags & RO) || (target && c != target))
                g_ptr_array_add(u.extras, g_strdup(key));
            else
                update_add(&u, c, v);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(attrs); i++) {
            const struct conf_attr *c = &attrs[i];
            if ((target == NULL || c == target) && !(c->flags & RO) &&
                !g_ptr_array_find_with_equal_func(u.names, c->name, g_str_equal, NULL) &&
                json_object_get(params, c->name) == NULL)
                g_ptr_array_add(u.missing, g_strdup(c->name));
        }
        update_finish(req, &u, l->list_id);
        update_clear(&u);
    }
    store_list_free(l);
}

void rest_listconf_patch(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    const char *only = rest_arg(req, 1);
    const struct conf_attr *target = only ? conf_find(only) : NULL;
    json_t *params = rest_params(req);
    if (only && json_object_size(req->query) > 1) {
        rest_bad_request(req, "Expected 1 attribute, got %zu", json_object_size(req->query));
    } else if (only && target == NULL) {
        g_autofree char *text = g_strdup_printf("Unknown attribute: %s", only);
        rest_not_found(req, text);
    } else {
        /* PatchValidator: the first unknown or read-only key stops it. */
        struct conf_update u;
        update_init(&u);
        const char *key;
        json_t *v;
        bool stopped = false;
        json_object_foreach(params, key, v)
        {
            const struct conf_attr *c = conf_find(key);
            if (c == NULL || (target && c != target)) {
                rest_bad_request(req, "Unknown attribute: %s", key);
                stopped = true;
                break;
            }
            if (c->flags & RO) {
                rest_bad_request(req, "Read-only attribute: %s", key);
                stopped = true;
                break;
            }
            update_add(&u, c, v);
        }
        if (!stopped)
            update_finish(req, &u, l->list_id);
        update_clear(&u);
    }
    store_list_free(l);
}

void rest_listconf_delete(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    const char *only = rest_arg(req, 1);
    const struct conf_attr *c = only ? conf_find(only) : NULL;
    char *err = NULL;
    if (only == NULL)
        rest_bad_request(req, "Cannot delete the list configuration itself");
    else if (c == NULL || (c->flags & RO))
        rest_bad_request(req, "Read-only attribute: %s", only);
    else if (strcmp(only, "acceptable_aliases") != 0)
        rest_bad_request(req, "Attribute cannot be DELETEd: %s", only);
    else if (store_list_set_attr(req->store, l->list_id, only, "", &err) < 0)
        rest_internal_error(req, "config", err);
    else
        rest_no_content(req);
    g_free(err);
    store_list_free(l);
}
