/* post_chain - the default posting chain, the header-match chain and the
 * terminal chains' decisions (reference §6.2, §6.3). */
#include "post/post.h"

#include "config/config.h"
#include "lib/log.h"
#include "lib/regex.h"
#include "post/post_dmarc.h"
#include "queue/queue.h"
#include "store/store.h"

#include <crypt.h>
#include <string.h>

void post_ctx_init(struct post_ctx *c, struct config *cfg, struct store *st,
                   const struct store_list *l, struct pmsg *msg, struct queue_meta *meta)
{
    *c = (struct post_ctx){.cfg = cfg, .st = st, .list = l, .msg = msg, .meta = meta};
    c->senders = pmsg_senders(msg, config_get(cfg, "mailman", "sender_headers"));
    c->hits = g_ptr_array_new();
    c->misses = g_ptr_array_new();
    c->reasons = g_ptr_array_new_with_free_func(g_free);
    c->names = g_ptr_array_new_with_free_func(g_free);
}

void post_ctx_clear(struct post_ctx *c)
{
    g_ptr_array_unref(c->senders);
    g_ptr_array_unref(c->hits);
    g_ptr_array_unref(c->misses);
    g_ptr_array_unref(c->reasons);
    g_ptr_array_unref(c->names);
}

char *post_join_rules(GPtrArray *names)
{
    if (names->len == 0)
        return NULL;
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < names->len; i++)
        g_string_append_printf(s, "%s%s", i ? "; " : "", (const char *)names->pdata[i]);
    return g_string_free(s, FALSE);
}

static void reason(struct post_ctx *c, const char *text)
{
    g_ptr_array_add(c->reasons, g_strdup(text));
}

bool post_password_ok(const char *stored, const char *given)
{
    if (stored == NULL || *stored == '\0' || given == NULL)
        return false;
    if (g_str_has_prefix(stored, "{plaintext}"))
        return strcmp(stored + strlen("{plaintext}"), given) == 0;
    if (stored[0] == '$') {
        struct crypt_data cd = {0};
        const char *h = crypt_r(given, stored, &cd);
        return h && h[0] != '*' && strcmp(h, stored) == 0;
    }
    return strcmp(stored, given) == 0;
}

/* ---- the rules: each returns 1 (hit), 0 (miss) or -1 (store error) ---- */

static const char *const approve_headers[] = {"approved", "approve", "x-approved", "x-approve",
                                              NULL};

/* A body whose first non-blank line is "Approved: pw": the line is taken
 * out when the body is plain text without MIME structure. */
static char *body_password(struct post_ctx *c)
{
    g_autofree char *text = pmsg_first_text(c->msg);
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    const char *eol = strchr(p, '\n');
    g_autofree char *line = eol ? g_strndup(p, (gsize)(eol - p)) : g_strdup(p);
    char *colon = strchr(line, ':');
    if (colon == NULL)
        return NULL;
    *colon = '\0';
    g_autofree char *name = g_ascii_strdown(g_strstrip(line), -1);
    if (!g_strv_contains(approve_headers, name))
        return NULL;
    char *pw = g_strdup(g_strstrip(colon + 1));
    g_autofree char *ct = pmsg_get(c->msg, "Content-Type");
    g_autofree char *cte = pmsg_get(c->msg, "Content-Transfer-Encoding");
    bool plain = (ct == NULL || g_ascii_strncasecmp(ct, "text/plain", 10) == 0) &&
                 (cte == NULL || g_ascii_strcasecmp(cte, "7bit") == 0 ||
                  g_ascii_strcasecmp(cte, "8bit") == 0);
    if (plain) {
        /* drop the leading blank lines and the password line */
        char *b = c->msg->body;
        char *q = b;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        char *nl = strchr(q, '\n');
        size_t skip = nl ? (size_t)(nl + 1 - b) : c->msg->body_len;
        memmove(b, b + skip, c->msg->body_len - skip + 1);
        c->msg->body_len -= skip;
    }
    return pw;
}

static int rule_approved(struct post_ctx *c)
{
    const char *stored = store_list_attr(c->list, "moderator_password");
    if (stored == NULL || *stored == '\0')
        return 0;
    g_autofree char *pw = NULL;
    for (const char *const *h = approve_headers; *h && pw == NULL; h++)
        pw = pmsg_get(c->msg, *h);
    if (pw) {
        for (const char *const *h = approve_headers; *h; h++)
            pmsg_remove(c->msg, *h);
    } else {
        pw = body_password(c);
    }
    if (pw == NULL)
        return 0;
    c->approved = post_password_ok(stored, pw);
    return c->approved;
}

static int rule_emergency(struct post_ctx *c)
{
    if (!store_list_attr_bool(c->list, "emergency") ||
        queue_meta_get(c->meta, "moderator_approved"))
        return 0;
    reason(c, "Emergency hold");
    return 1;
}

static int rule_loop(struct post_ctx *c)
{
    g_auto(GStrv) v = pmsg_get_all(c->msg, "List-Post");
    for (char **p = v; *p; p++)
        if (g_ascii_strcasecmp(*p, c->list->fqdn_listname) == 0)
            return 1;
    return 0;
}

static int banned(struct post_ctx *c, char **error_r)
{
    for (guint i = 0; i < c->senders->len; i++) {
        int b = store_ban_is_banned(c->st, c->list->list_id, c->senders->pdata[i], error_r);
        if (b != 0)
            return b;
    }
    return 0;
}

static enum store_action list_action(struct post_ctx *c, const char *attr)
{
    int a = store_action_parse(store_list_attr(c->list, attr));
    return a < 0 ? STORE_ACTION_HOLD : (enum store_action)a;
}

/* The first sender who is a member (role member), or NULL. */
static int sender_member(struct post_ctx *c, int role, struct store_member **m_r, char **error_r)
{
    *m_r = NULL;
    for (guint i = 0; i < c->senders->len; i++) {
        int rc = store_member_get_by_email(c->st, c->list->list_id, c->senders->pdata[i], role, m_r,
                                           error_r);
        if (rc < 0)
            return -1;
        if (*m_r)
            return 1;
    }
    return 0;
}

static int rule_member_moderation(struct post_ctx *c, enum store_action *action_r, char **error_r)
{
    int b = banned(c, error_r);
    if (b != 0)
        return b < 0 ? -1 : 0;
    struct store_member *m = NULL;
    int rc = sender_member(c, STORE_ROLE_MEMBER, &m, error_r);
    if (rc <= 0)
        return rc;
    enum store_action a = m->moderation_action == STORE_ACTION_UNSET
                              ? list_action(c, "default_member_action")
                              : (enum store_action)m->moderation_action;
    store_member_free(m);
    if (a == STORE_ACTION_DEFER)
        return 0;
    *action_r = a;
    reason(c, "The message comes from a moderated member");
    return 1;
}

/* accept/hold/reject/discard_these_nonmembers: exact or "^regex". */
static bool in_these(struct post_ctx *c, const char *attr, const char *email)
{
    g_auto(GStrv) v = store_list_attr_strv(c->list, attr);
    for (char **p = v; p && *p; p++) {
        if (**p == '^') {
            GRegex *re = regex_compile(*p, NULL);
            bool hit = re && regex_search(re, email);
            if (re)
                g_regex_unref(re);
            if (hit)
                return true;
        } else if (g_ascii_strcasecmp(*p, email) == 0) {
            return true;
        }
    }
    return false;
}

static int rule_nonmember_moderation(struct post_ctx *c, enum store_action *action_r,
                                     char **error_r)
{
    int b = banned(c, error_r);
    if (b != 0)
        return b < 0 ? -1 : 0;
    if (c->senders->len == 0) {
        *action_r = list_action(c, "default_nonmember_action");
        reason(c, "No sender was found in the message.");
        return 1;
    }
    /* Unknown senders become nonmembers, as Mailman records them. */
    for (guint i = 0; i < c->senders->len; i++) {
        struct store_member *m = NULL;
        if (store_member_get_by_email(c->st, c->list->list_id, c->senders->pdata[i], STORE_ROLE_ANY,
                                      &m, error_r) < 0)
            return -1;
        if (m) {
            store_member_free(m);
            continue;
        }
        char *err = NULL;
        int added = store_member_add(c->st, c->list->list_id, c->senders->pdata[i], NULL,
                                     STORE_ROLE_NONMEMBER, 0, NULL, &err);
        if (added == STORE_INVALID || added == STORE_EXISTS) {
            g_free(err); /* an invalid address: Mailman suppresses it too */
        } else if (added < 0) {
            /* The store failed (locked, say): without the record the
             * sender would pass as no nonmember at all and the post would
             * go out unmoderated. */
            *error_r = err;
            return -1;
        }
    }
    struct store_member *m = NULL;
    int rc = sender_member(c, STORE_ROLE_MEMBER, &m, error_r);
    if (rc < 0)
        return -1;
    if (m) {
        store_member_free(m);
        return 0;
    }
    static const struct {
        const char *attr;
        enum store_action action;
    } these[] = {{"accept_these_nonmembers", STORE_ACTION_ACCEPT},
                 {"hold_these_nonmembers", STORE_ACTION_HOLD},
                 {"reject_these_nonmembers", STORE_ACTION_REJECT},
                 {"discard_these_nonmembers", STORE_ACTION_DISCARD}};
    for (guint i = 0; i < c->senders->len; i++) {
        const char *s = c->senders->pdata[i];
        if (store_member_get_by_email(c->st, c->list->list_id, s, STORE_ROLE_NONMEMBER, &m,
                                      error_r) < 0)
            return -1;
        if (m == NULL)
            continue;
        int own = m->moderation_action;
        store_member_free(m);
        enum store_action a = STORE_ACTION_DEFER;
        bool found = false;
        if (own != STORE_ACTION_UNSET) {
            a = (enum store_action)own;
            found = true;
        }
        for (size_t k = 0; !found && k < G_N_ELEMENTS(these); k++)
            if (in_these(c, these[k].attr, s)) {
                a = these[k].action;
                found = true;
            }
        if (!found)
            a = list_action(c, "default_nonmember_action");
        if (a == STORE_ACTION_DEFER)
            continue;
        *action_r = a;
        reason(c, "The message is not from a list member");
        return 1;
    }
    return 0;
}

static const struct {
    const char *name;
    int min, max;
} email_commands[] = {{"confirm", 1, 1},   {"help", 0, 0},        {"info", 0, 0},   {"lists", 0, 0},
                      {"options", 0, 0},   {"password", 2, 2},    {"remove", 0, 0}, {"set", 3, 3},
                      {"subscribe", 0, 3}, {"unsubscribe", 0, 1}, {"who", 0, 2}};

static bool is_command(const char *line)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    GPtrArray *w = g_ptr_array_new();
    for (char **p = words; *p; p++)
        if (**p)
            g_ptr_array_add(w, *p);
    bool hit = false;
    if (w->len > 0) {
        g_autofree char *first = g_ascii_strdown(w->pdata[0], -1);
        int args = (int)w->len - 1;
        for (size_t i = 0; i < G_N_ELEMENTS(email_commands); i++)
            if (strcmp(first, email_commands[i].name) == 0)
                hit = email_commands[i].min <= args && args <= email_commands[i].max;
    }
    g_ptr_array_unref(w);
    return hit;
}

static int rule_administrivia(struct post_ctx *c)
{
    if (!store_list_attr_bool(c->list, "administrivia"))
        return 0;
    g_autofree char *subject = pmsg_get(c->msg, "Subject");
    bool hit = subject && *subject && is_command(subject);
    if (!hit) {
        g_autofree char *text = pmsg_first_text(c->msg);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        long long max = config_get_int(c->cfg, "mailman", "email_commands_max_lines");
        long long n = 0;
        for (char **p = lines; *p && !hit; p++) {
            g_strstrip(*p);
            if (**p == '\0')
                continue;
            if (++n > max)
                break;
            hit = is_command(*p);
        }
    }
    if (hit)
        reason(c, "Message contains administrivia");
    return hit;
}

static int rule_implicit_dest(struct post_ctx *c)
{
    if (!store_list_attr_bool(c->list, "require_explicit_destination"))
        return 0;
    g_auto(GStrv) aliases = store_list_attr_strv(c->list, "acceptable_aliases");
    static const char *const hdrs[] = {"To", "Cc", "Resent-To", "Resent-Cc"};
    GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
    bool found = false;
    for (size_t h = 0; h < G_N_ELEMENTS(hdrs) && !found; h++) {
        g_autoptr(GPtrArray) a = pmsg_addresses(c->msg, hdrs[h]);
        for (guint i = 0; i < a->len && !found; i++) {
            const char *r = a->pdata[i];
            found = g_ascii_strcasecmp(r, c->list->fqdn_listname) == 0;
            for (char **p = aliases; !found && p && *p; p++)
                found = **p != '^' && g_ascii_strcasecmp(*p, r) == 0;
            g_ptr_array_add(rcpts, g_strdup(r));
        }
    }
    for (char **p = aliases; !found && p && *p; p++) {
        if (**p != '^')
            continue;
        GRegex *re = regex_compile(*p, NULL);
        for (guint i = 0; re && i < rcpts->len && !found; i++)
            found = regex_match_start(re, rcpts->pdata[i]);
        if (re)
            g_regex_unref(re);
    }
    g_ptr_array_unref(rcpts);
    if (found)
        return 0;
    reason(c, "Message has implicit destination");
    return 1;
}

static int rule_max_recipients(struct post_ctx *c)
{
    int64_t max = store_list_attr_int(c->list, "max_num_recipients");
    if (max <= 0)
        return 0;
    g_autoptr(GPtrArray) to = pmsg_addresses(c->msg, "To");
    g_autoptr(GPtrArray) cc = pmsg_addresses(c->msg, "Cc");
    if ((int64_t)(to->len + cc->len) < max)
        return 0;
    reason(c, "Message has more than the maximum number of recipients");
    return 1;
}

static int rule_max_size(struct post_ctx *c)
{
    int64_t max = store_list_attr_int(c->list, "max_message_size");
    const char *size = queue_meta_get(c->meta, "original_size");
    if (max <= 0 || size == NULL)
        return 0;
    if (g_ascii_strtoll(size, NULL, 10) / 1024 <= max)
        return 0;
    g_ptr_array_add(c->reasons,
                    g_strdup_printf("The message's content is larger than the maximum size "
                                    "of %" G_GINT64_FORMAT " KB",
                                    max));
    return 1;
}

static int rule_news_moderation(struct post_ctx *c)
{
    const char *v = store_list_attr(c->list, "newsgroup_moderation");
    if (v == NULL || strcmp(v, "moderated") != 0)
        return 0;
    reason(c, "Post to a moderated newsgroup gateway");
    return 1;
}

static int rule_no_subject(struct post_ctx *c)
{
    g_autofree char *s = pmsg_get(c->msg, "Subject");
    if (s && *s)
        return 0;
    reason(c, "Message has no subject");
    return 1;
}

/* bounce_matching_headers: "header: regex" lines, '#' comments. */
static int rule_suspicious_header(struct post_ctx *c)
{
    const char *text = store_list_attr(c->list, "bounce_matching_headers");
    if (text == NULL)
        return 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **p = lines; *p; p++) {
        g_strstrip(*p);
        if (**p == '\0' || **p == '#')
            continue;
        char *colon = strchr(*p, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        GRegex *re = regex_compile(g_strstrip(colon + 1), NULL);
        if (re == NULL)
            continue;
        g_auto(GStrv) values = pmsg_get_all(c->msg, g_strstrip(*p));
        bool hit = false;
        for (char **v = values; *v && !hit; v++)
            hit = regex_search(re, *v);
        g_regex_unref(re);
        if (hit) {
            reason(c, "The message has a matching header");
            return 1;
        }
    }
    return 0;
}

/* One header-match rule: every value of header, decoded, searched. */
static bool header_matches(struct post_ctx *c, const char *header, const char *pattern)
{
    GRegex *re = regex_compile(pattern, NULL);
    if (re == NULL) {
        log_error("Invalid regexp '%s' in header_matches for %s", pattern, c->list->list_id);
        return false;
    }
    g_auto(GStrv) values = pmsg_get_all_parts(c->msg, header);
    bool hit = false;
    for (char **v = values; *v && !hit; v++) {
        hit = regex_search(re, *v);
        if (hit)
            g_ptr_array_add(c->reasons,
                            g_strdup_printf("Header \"%s\" matched a header rule", header));
    }
    g_regex_unref(re);
    return hit;
}

static void record(struct post_ctx *c, const char *name, bool hit)
{
    g_ptr_array_add(hit ? c->hits : c->misses, (gpointer)name);
}

static const char *owned(struct post_ctx *c, char *s)
{
    g_ptr_array_add(c->names, s);
    return s;
}

/* The header-match chain: the config's checks (deferred, then any → the
 * antispam jump chain), then the list's entries. Returns the chain to jump
 * to (static or owned), or NULL to return to the posting chain. */
static const char *header_match_chain(struct post_ctx *c, char **error_r, int *rc_r)
{
    *rc_r = 0;
    const char *jump = config_get(c->cfg, "antispam", "jump_chain");
    g_auto(GStrv) lines = g_strsplit(config_get(c->cfg, "antispam", "header_checks"), "\n", -1);
    bool any = false;
    for (int i = 0; lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        if (*g_strstrip(lines[i]) == '\0' || colon == NULL)
            continue;
        *colon = '\0';
        bool hit = header_matches(c, g_strstrip(lines[i]), g_strchug(colon + 1));
        record(c, owned(c, g_strdup_printf("header-match-config-%d", i)), hit);
        any |= hit;
    }
    if (any)
        return jump;
    struct store_header_match **v = NULL;
    if (store_header_match_list(c->st, c->list->list_id, &v, error_r) < 0) {
        *rc_r = -1;
        return NULL;
    }
    const char *to = NULL;
    for (int i = 0; v[i] && to == NULL; i++) {
        bool hit = header_matches(c, v[i]->header, v[i]->pattern);
        record(c, owned(c, g_strdup_printf("header-match-%s-%d", c->list->list_id, i)), hit);
        if (hit)
            to = v[i]->chain ? owned(c, g_strdup(v[i]->chain)) : jump;
    }
    store_header_matchv_free(v);
    return to;
}

static enum post_verdict verdict_of_chain(const char *chain)
{
    if (strcmp(chain, "accept") == 0)
        return POST_ACCEPT;
    if (strcmp(chain, "reject") == 0)
        return POST_REJECT;
    if (strcmp(chain, "discard") == 0)
        return POST_DISCARD;
    return POST_HOLD;
}

static enum post_verdict verdict_of_action(enum store_action a)
{
    switch (a) {
    case STORE_ACTION_ACCEPT:
        return POST_ACCEPT;
    case STORE_ACTION_REJECT:
        return POST_REJECT;
    case STORE_ACTION_DISCARD:
        return POST_DISCARD;
    default:
        return POST_HOLD;
    }
}

int post_chain_run(struct post_ctx *c, enum post_verdict *v, char **error_r)
{
    const char *chain = store_list_attr(c->list, "posting_chain");
    if (queue_meta_get(c->meta, "to_owner"))
        chain = store_list_attr(c->list, "owner_chain");
    if (chain && strcmp(chain, "default-owner-chain") == 0) {
        *v = POST_OWNER;
        return 0;
    }
    if (chain && strcmp(chain, "default-posting-chain") != 0) {
        /* a list pointed straight at a terminal chain */
        *v = verdict_of_chain(chain);
        return 0;
    }
    enum store_action action = STORE_ACTION_HOLD;
    int hit;
#define RULE(name, expr, on_hit)                                                                   \
    do {                                                                                           \
        hit = (expr);                                                                              \
        if (hit < 0)                                                                               \
            return -1;                                                                             \
        record(c, name, hit);                                                                      \
        if (hit) {                                                                                 \
            *v = (on_hit);                                                                         \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)
    RULE("dmarc-mitigation", post_dmarc_rule(c), post_dmarc_chain(c));
    RULE("no-senders", c->senders->len == 0, POST_DISCARD);
    RULE("approved", rule_approved(c), POST_ACCEPT);
    RULE("emergency", rule_emergency(c), POST_HOLD);
    RULE("loop", rule_loop(c), POST_DISCARD);
    RULE("banned-address", banned(c, error_r), POST_DISCARD);
    RULE("member-moderation", rule_member_moderation(c, &action, error_r),
         verdict_of_action(action));
    int rc;
    const char *jump = header_match_chain(c, error_r, &rc);
    if (rc < 0)
        return -1;
    if (jump) {
        *v = verdict_of_chain(jump);
        return 0;
    }
    RULE("nonmember-moderation", rule_nonmember_moderation(c, &action, error_r),
         verdict_of_action(action));
#undef RULE
    /* The deferred rules: all run, then any hit holds. */
    bool any = false;
#define DEFER(name, expr)                                                                          \
    do {                                                                                           \
        hit = (expr);                                                                              \
        record(c, name, hit);                                                                      \
        any |= hit;                                                                                \
    } while (0)
    DEFER("administrivia", rule_administrivia(c));
    DEFER("implicit-dest", rule_implicit_dest(c));
    DEFER("max-recipients", rule_max_recipients(c));
    DEFER("max-size", rule_max_size(c));
    DEFER("news-moderation", rule_news_moderation(c));
    DEFER("no-subject", rule_no_subject(c));
    DEFER("digests", 0); /* only with hold_digest, which 3.3.8 lists lack */
    DEFER("suspicious-header", rule_suspicious_header(c));
#undef DEFER
    *v = any ? POST_HOLD : POST_ACCEPT;
    return 0;
}
