/*
 * list_attr - the list attribute table and its value parsing. See
 * list_attr.h. Defaults follow Mailman 3.3's styles (styles/base.py:
 * Identity, BasicOperation, Bounces, Public/Private, Discussion/Announcement,
 * Moderation) and the model's column defaults for the rest.
 */
#include "store/list_attr.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static const char *const pipelines[] = {"default-owner-pipeline", "default-posting-pipeline",
                                        "virgin", NULL};
static const char *const chains[] = {"accept",
                                     "default-owner-chain",
                                     "default-posting-chain",
                                     "discard",
                                     "dmarc",
                                     "header-match",
                                     "hold",
                                     "moderation",
                                     "reject",
                                     NULL};

/* Mailman's Moderation style seeds this suspicious-header text. */
#define BOUNCE_MATCHING_HEADERS                                                                    \
    "\n# Lines that *start* with a '#' are comments.\nto: friend@public.com\n"                     \
    "message-id: relay.comanche.denmark.eu\nfrom: list@listme.com\nfrom: .*@uplinkpro.com\n"

#define RO LIST_ATTR_READ_ONLY
#define CO (LIST_ATTR_COMPUTED | LIST_ATTR_READ_ONLY)
#define B(n, d)                                                                                    \
    {                                                                                              \
        n, LIST_ATTR_BOOL, 0, d, NULL, NULL, NULL, NULL, NULL                                      \
    }
#define I(n, d)                                                                                    \
    {                                                                                              \
        n, LIST_ATTR_INT, 0, d, NULL, NULL, NULL, NULL, NULL                                       \
    }
#define S(n, d)                                                                                    \
    {                                                                                              \
        n, LIST_ATTR_STRING, 0, d, NULL, NULL, NULL, NULL, NULL                                    \
    }
#define LINE(n, d)                                                                                 \
    {                                                                                              \
        n, LIST_ATTR_LINE, 0, d, NULL, NULL, NULL, NULL, NULL                                      \
    }
#define E(n, t, d)                                                                                 \
    {                                                                                              \
        n, LIST_ATTR_ENUM, 0, d, NULL, NULL, t, NULL, NULL                                         \
    }
#define D(n, d)                                                                                    \
    {                                                                                              \
        n, LIST_ATTR_DURATION, 0, d, NULL, NULL, NULL, NULL, NULL                                  \
    }
#define V(n)                                                                                       \
    {                                                                                              \
        n, LIST_ATTR_STRLIST, 0, "", NULL, NULL, NULL, NULL, NULL                                  \
    }
#define C(n, set, what, d)                                                                         \
    {                                                                                              \
        n, LIST_ATTR_CHOICE, 0, d, NULL, NULL, NULL, set, what                                     \
    }
#define COMPUTED(n)                                                                                \
    {                                                                                              \
        n, LIST_ATTR_STRING, CO, "", NULL, NULL, NULL, NULL, NULL                                  \
    }

static const struct list_attr attrs[] = {
    V("accept_these_nonmembers"),
    V("acceptable_aliases"),
    B("admin_immed_notify", "true"),
    B("admin_notify_mchanges", "false"),
    B("administrivia", "true"),
    {"advertised", LIST_ATTR_BOOL, 0, "true", NULL, "false", NULL, NULL, NULL},
    {"allow_list_posts", LIST_ATTR_BOOL, 0, "true", "false", NULL, NULL, NULL, NULL},
    B("anonymous_list", "false"),
    {"archive_policy", LIST_ATTR_ENUM, 0, "public", NULL, "private", store_enum_archive_policy,
     NULL, NULL},
    E("archive_rendering_mode", store_enum_archive_rendering, "text"),
    E("autorespond_owner", store_enum_response_action, "none"),
    E("autorespond_postings", store_enum_response_action, "none"),
    E("autorespond_requests", store_enum_response_action, "none"),
    D("autoresponse_grace_period", "90d"),
    S("autoresponse_owner_text", ""),
    S("autoresponse_postings_text", ""),
    S("autoresponse_request_text", ""),
    D("bounce_info_stale_after", "7d"),
    S("bounce_matching_headers", BOUNCE_MATCHING_HEADERS),
    B("bounce_notify_owner_on_bounce_increment", "false"),
    B("bounce_notify_owner_on_disable", "true"),
    B("bounce_notify_owner_on_removal", "true"),
    I("bounce_score_threshold", "5"),
    I("bounce_you_are_disabled_warnings", "3"),
    D("bounce_you_are_disabled_warnings_interval", "7d"),
    COMPUTED("bounces_address"),
    B("collapse_alternatives", "true"),
    B("convert_html_to_plaintext", "false"),
    {"created_at", LIST_ATTR_TIME, RO, "", NULL, NULL, NULL, NULL, NULL},
    E("default_member_action", store_enum_action, "defer"),
    E("default_nonmember_action", store_enum_action, "hold"),
    LINE("description", ""),
    B("digest_is_default", "false"),
    {"digest_last_sent_at", LIST_ATTR_TIME, RO, "", NULL, NULL, NULL, NULL, NULL},
    B("digest_send_periodic", "true"),
    {"digest_size_threshold", LIST_ATTR_FLOAT, 0, "30.0", NULL, NULL, NULL, NULL, NULL},
    E("digest_volume_frequency", store_enum_digest_frequency, "monthly"),
    B("digests_enabled", "true"),
    V("discard_these_nonmembers"),
    S("display_name", ""),
    E("dmarc_mitigate_action", store_enum_dmarc_action, "no_mitigation"),
    B("dmarc_mitigate_unconditionally", "false"),
    S("dmarc_moderation_notice", ""),
    S("dmarc_wrapped_message_text", ""),
    B("emergency", "false"),
    B("encode_ascii_prefixes", "false"),
    E("filter_action", store_enum_filter_action, "discard"),
    B("filter_content", "false"),
    V("filter_extensions"),
    V("filter_types"),
    B("first_strip_reply_to", "false"),
    B("forward_auto_discards", "true"),
    E("forward_unrecognized_bounces_to", store_enum_bounce_disposition, "administrators"),
    COMPUTED("fqdn_listname"),
    B("gateway_to_mail", "false"),
    B("gateway_to_news", "false"),
    V("hold_these_nonmembers"),
    B("include_rfc2369_headers", "true"),
    S("info", ""),
    COMPUTED("join_address"),
    {"last_post_at", LIST_ATTR_TIME, RO, "", NULL, NULL, NULL, NULL, NULL},
    COMPUTED("leave_address"),
    LINE("linked_newsgroup", ""),
    COMPUTED("list_id"),
    COMPUTED("list_name"),
    COMPUTED("mail_host"),
    I("max_days_to_hold", "0"),
    I("max_message_size", "40"),
    I("max_num_recipients", "10"),
    S("member_moderation_notice", ""),
    E("member_roster_visibility", store_enum_roster_visibility, "moderators"),
    S("moderator_password", ""),
    E("newsgroup_moderation", store_enum_newsgroup_moderation, "none"),
    {"next_digest_number", LIST_ATTR_INT, RO, "1", NULL, NULL, NULL, NULL, NULL},
    LINE("nntp_host", ""),
    B("nntp_prefix_subject_too", "true"),
    COMPUTED("no_reply_address"),
    S("nonmember_rejection_notice", ""),
    COMPUTED("owner_address"),
    C("owner_chain", chains, "chain", "default-owner-chain"),
    C("owner_pipeline", pipelines, "pipeline", "default-owner-pipeline"),
    V("pass_extensions"),
    V("pass_types"),
    E("personalize", store_enum_personalization, "none"),
    {"post_id", LIST_ATTR_INT, RO, "1", NULL, NULL, NULL, NULL, NULL},
    COMPUTED("posting_address"),
    C("posting_chain", chains, "chain", "default-posting-chain"),
    C("posting_pipeline", pipelines, "pipeline", "default-posting-pipeline"),
    {"preferred_language", LIST_ATTR_LANGUAGE, 0, "en", NULL, NULL, NULL, NULL, NULL},
    B("process_bounces", "true"),
    V("reject_these_nonmembers"),
    E("reply_goes_to_list", store_enum_reply_to_munging, "no_munging"),
    LINE("reply_to_address", ""),
    COMPUTED("request_address"),
    B("require_explicit_destination", "true"),
    B("respond_to_post_requests", "true"),
    B("scrub_nondigest", "false"),
    B("send_goodbye_message", "true"),
    B("send_welcome_message", "true"),
    S("subject_prefix", ""),
    {"subscription_policy", LIST_ATTR_ENUM, 0, "confirm", NULL, "confirm_then_moderate",
     store_enum_subscription_policy, NULL, NULL},
    E("unsubscription_policy", store_enum_subscription_policy, "confirm"),
    {"usenet_watermark", LIST_ATTR_INT, RO, "", NULL, NULL, NULL, NULL, NULL},
    {"volume", LIST_ATTR_INT, RO, "1", NULL, NULL, NULL, NULL, NULL},
};

static const char *const style_names[LIST_STYLE_COUNT] = {
    "legacy-default",
    "legacy-announce",
    "private-default",
};

size_t list_attr_count(void)
{
    return G_N_ELEMENTS(attrs);
}

const struct list_attr *list_attr_at(size_t i)
{
    return i < G_N_ELEMENTS(attrs) ? &attrs[i] : NULL;
}

static int compare_name(const void *key, const void *elem)
{
    return strcmp(key, ((const struct list_attr *)elem)->name);
}

int list_attr_index(const char *name)
{
    /* The table is sorted by name (a unit test checks it). */
    if (name == NULL)
        return -1;
    const struct list_attr *a =
        bsearch(name, attrs, G_N_ELEMENTS(attrs), sizeof(attrs[0]), compare_name);
    return a == NULL ? -1 : (int)(a - attrs);
}

const struct list_attr *list_attr_find(const char *name)
{
    int i = list_attr_index(name);
    return i < 0 ? NULL : &attrs[i];
}

int list_attr_style_parse(const char *name)
{
    if (name == NULL || *name == '\0')
        return LIST_STYLE_LEGACY_DEFAULT;
    for (int i = 0; i < LIST_STYLE_COUNT; i++)
        if (strcmp(style_names[i], name) == 0)
            return i;
    return -1;
}

const char *list_attr_style_name(int style)
{
    return (style >= 0 && style < LIST_STYLE_COUNT) ? style_names[style] : NULL;
}

const char *list_attr_default(const struct list_attr *a, int style)
{
    if (style == LIST_STYLE_LEGACY_ANNOUNCE && a->announce_def != NULL)
        return a->announce_def;
    if (style == LIST_STYLE_PRIVATE_DEFAULT && a->private_def != NULL)
        return a->private_def;
    return a->def;
}

/* ---- parsers ---------------------------------------------------------- */

static int invalid(const struct list_attr *a, char **error_r, const char *fmt, const char *v)
{
    /* Mailman's REST validator wording, so the REST layer can pass it on. */
    if (error_r != NULL) {
        g_autofree char *reason = g_strdup_printf(fmt, v);
        *error_r = g_strdup_printf("Invalid Parameter \"%s\": %s.", a->name, reason);
    }
    return STORE_INVALID;
}

static int parse_bool(const char *v)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(v, yes[i]) == 0)
            return 1;
        if (g_ascii_strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

static bool parse_uint(const char *v, int64_t *n_r)
{
    if (*v == '+')
        v++;
    if (!g_ascii_isdigit(*v))
        return false;
    int64_t n = 0;
    for (; *v; v++) {
        if (!g_ascii_isdigit(*v) || n > (INT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (*v - '0');
    }
    *n_r = n;
    return true;
}

static bool parse_double(const char *v, double *d_r)
{
    char *end = NULL;
    double d = g_ascii_strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(d))
        return false;
    *d_r = d;
    return true;
}

static char *format_double(double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(buf, sizeof(buf), d);
    if (strpbrk(buf, ".e") == NULL)
        return g_strconcat(buf, ".0", NULL);
    return g_strdup(buf);
}

int list_attr_parse_duration(const char *s, int64_t *us_r)
{
    /* lazr.config's as_timedelta: [Nw][Nd][Nh][Nm][Ns], in this order. */
    static const struct {
        char unit;
        double us;
    } units[] = {{'w', 7 * 86400e6}, {'d', 86400e6}, {'h', 3600e6}, {'m', 60e6}, {'s', 1e6}};
    const char *p = s;
    size_t next = 0;
    double total = 0;
    bool any = false;
    while (*p != '\0') {
        char *end = NULL;
        if (!g_ascii_isdigit(*p) && *p != '.')
            return -1;
        double n = g_ascii_strtod(p, &end);
        if (end == p || !isfinite(n) || n < 0)
            return -1;
        size_t u = next;
        while (u < G_N_ELEMENTS(units) && units[u].unit != *end)
            u++;
        if (u == G_N_ELEMENTS(units))
            return -1;
        total += n * units[u].us;
        next = u + 1;
        p = end + 1;
        any = true;
    }
    if (!any || total > 1e17)
        return -1;
    *us_r = (int64_t)llround(total);
    return 0;
}

char *list_attr_format_duration(int64_t us)
{
    /* Mailman's REST encoder: "{days}d" or "{days}d{seconds}.{micro}s";
     * we zero-pad the microseconds so that the text reads back exactly. */
    int64_t days = us / 86400000000LL;
    int64_t rest = us % 86400000000LL;
    if (rest == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "d", days);
    return g_strdup_printf("%" G_GINT64_FORMAT "d%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT "s",
                           days, rest / 1000000, rest % 1000000);
}

char *list_attr_format_time(int64_t us)
{
    if (us == 0)
        return g_strdup("");
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(us / 1000000);
    if (dt == NULL)
        return g_strdup("");
    g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    int64_t micro = ((us % 1000000) + 1000000) % 1000000;
    if (micro == 0)
        return g_steal_pointer(&base);
    return g_strdup_printf("%s.%06" G_GINT64_FORMAT, base, micro);
}

int list_attr_parse_time(const char *s, int64_t *us_r)
{
    if (*s == '\0') {
        *us_r = 0;
        return 0;
    }
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(s, utc);
    if (dt == NULL)
        return -1;
    *us_r = g_date_time_to_unix(dt) * 1000000 + g_date_time_get_microsecond(dt);
    return 0;
}

static bool language_ok(const char *v)
{
    /* "en", "pt_BR", "zh_Hant", "ast": letters with one optional '_' part. */
    size_t n = strlen(v);
    if (n < 2 || n > 16)
        return false;
    const char *p = v;
    while (g_ascii_islower(*p))
        p++;
    if (p - v < 2 || p - v > 3)
        return false;
    if (*p == '\0')
        return true;
    if (*p++ != '_' || *p == '\0')
        return false;
    for (; *p; p++)
        if (!g_ascii_isalnum(*p))
            return false;
    return true;
}

static char *normalize_strlist(const char *v)
{
    g_auto(GStrv) items = g_strsplit(v, "\n", -1);
    GString *out = g_string_new(NULL);
    for (char **it = items; *it != NULL; it++) {
        g_strstrip(*it);
        if (**it == '\0')
            continue;
        if (out->len > 0)
            g_string_append_c(out, '\n');
        g_string_append(out, *it);
    }
    return g_string_free(out, FALSE);
}

int list_attr_normalize(const struct list_attr *a, const char *value, char **canon_r,
                        char **error_r)
{
    const char *v = value != NULL ? value : "";
    if (strlen(v) > LIST_ATTR_MAX_VALUE) {
        g_autofree char *limit = g_strdup_printf("%d", LIST_ATTR_MAX_VALUE);
        return invalid(a, error_r, "value longer than %s bytes", limit);
    }
    if (!g_utf8_validate(v, -1, NULL))
        return invalid(a, error_r, "%s", "not valid UTF-8");
    int64_t n;
    double d;
    switch (a->type) {
    case LIST_ATTR_BOOL: {
        int b = parse_bool(v);
        if (b < 0)
            return invalid(a, error_r, "Invalid boolean value: %s", v);
        *canon_r = g_strdup(b ? "true" : "false");
        return 0;
    }
    case LIST_ATTR_INT:
        if (*v == '\0' && a->def[0] == '\0') {
            *canon_r = g_strdup("");
            return 0;
        }
        if (!parse_uint(v, &n))
            return invalid(a, error_r, "Expected a non-negative integer: %s", v);
        *canon_r = g_strdup_printf("%" G_GINT64_FORMAT, n);
        return 0;
    case LIST_ATTR_FLOAT:
        if (!parse_double(v, &d) || d < 0)
            return invalid(a, error_r, "could not convert string to float: '%s'", v);
        *canon_r = format_double(d);
        return 0;
    case LIST_ATTR_LINE:
        if (strchr(v, '\n') != NULL)
            return invalid(a, error_r, "This value must be a single line: %s", v);
        *canon_r = g_strdup(v);
        return 0;
    case LIST_ATTR_STRING:
        *canon_r = g_strdup(v);
        return 0;
    case LIST_ATTR_ENUM:
        for (const struct store_enum_value *e = a->enums; e->name != NULL; e++) {
            if (strcmp(e->name, v) == 0) {
                *canon_r = g_strdup(v);
                return 0;
            }
        }
        {
            g_autofree char *names = store_enum_names(a->enums);
            return invalid(a, error_r, "Accepted Values are: %s", names);
        }
    case LIST_ATTR_DURATION:
        if (list_attr_parse_duration(v, &n) < 0)
            return invalid(a, error_r, "Invalid duration: %s", v);
        *canon_r = list_attr_format_duration(n);
        return 0;
    case LIST_ATTR_TIME:
        if (list_attr_parse_time(v, &n) < 0)
            return invalid(a, error_r, "Invalid date and time: %s", v);
        *canon_r = list_attr_format_time(n);
        return 0;
    case LIST_ATTR_STRLIST:
        *canon_r = normalize_strlist(v);
        return 0;
    case LIST_ATTR_CHOICE:
        for (const char *const *c = a->choices; *c != NULL; c++) {
            if (strcmp(*c, v) == 0) {
                *canon_r = g_strdup(v);
                return 0;
            }
        }
        {
            g_autofree char *fmt = g_strdup_printf("Unknown %s: %%s", a->choice_what);
            return invalid(a, error_r, fmt, v);
        }
    case LIST_ATTR_LANGUAGE:
        if (!language_ok(v))
            return invalid(a, error_r, "Unknown language: %s", v);
        *canon_r = g_strdup(v);
        return 0;
    }
    return invalid(a, error_r, "%s", "unsupported type");
}

int64_t list_attr_int(const struct list_attr *a, const char *value)
{
    if (value == NULL || *value == '\0')
        return 0;
    int64_t n = 0;
    double d = 0;
    switch (a->type) {
    case LIST_ATTR_BOOL:
        return parse_bool(value) == 1;
    case LIST_ATTR_INT:
        return parse_uint(value, &n) ? n : 0;
    case LIST_ATTR_FLOAT:
        return parse_double(value, &d) ? (int64_t)d : 0;
    case LIST_ATTR_ENUM:
        for (const struct store_enum_value *e = a->enums; e->name != NULL; e++)
            if (strcmp(e->name, value) == 0)
                return e->value;
        return 0;
    case LIST_ATTR_DURATION:
        return list_attr_parse_duration(value, &n) == 0 ? n / 1000000 : 0;
    case LIST_ATTR_TIME:
        return list_attr_parse_time(value, &n) == 0 ? n : 0;
    default:
        return parse_uint(value, &n) ? n : 0;
    }
}

double list_attr_seconds(const struct list_attr *a, const char *value)
{
    int64_t us = 0;
    double d = 0;
    if (value == NULL)
        return 0;
    if (a->type == LIST_ATTR_DURATION)
        return list_attr_parse_duration(value, &us) == 0 ? (double)us / 1e6 : 0;
    return parse_double(value, &d) ? d : 0;
}
