/* post_pipeline - the pipeline handlers (reference §6.4, §6.5), templates
 * and decoration (§4.4). */
#include "post/post.h"

#include "config/config.h"
#include "lib/log.h"
#include "mail/notice.h"
#include "post/post_digest.h"
#include "post/post_dmarc.h"
#include "post/post_recipients.h"
#include "post/post_roster_cache.h"
#include "post/post_template_uri.h"
#include "queue/queue.h"
#include "store/store.h"

#include <gmime/gmime.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- templates ---- */

static const struct {
    const char *name, *text;
} builtin_templates[] = {
    {"list:member:regular:header", ""},
    {"list:member:regular:footer", NULL}, /* falls back to generic */
    {"list:member:digest:header", ""},
    {"list:member:digest:footer", NULL}, /* falls back to generic */
    {"list:member:digest:masthead",
     "Send $display_name mailing list submissions to\n\t$listname\n\n"
     "To subscribe or unsubscribe via email, send a message with subject or body\n"
     "'help' to\n\t$request_email\n\n"
     "You can reach the person managing the list at\n\t$owner_email\n\n"
     "When replying, please edit your Subject line so it is more specific than\n"
     "\"Re: Contents of $display_name digest...\"\n"},
    {"list:member:generic:footer",
     "_______________________________________________\n"
     "$display_name mailing list -- $listname\n"
     "To unsubscribe send an email to ${short_listname}-leave@${domain}\n"},
    {"list:user:notice:hold",
     "Your mail to '$listname' with the subject\n\n    $subject\n\n"
     "Is being held until the list moderator can review it for approval.\n\n"
     "The message is being held because:\n\n$reasons\n\n"
     "Either the message will get posted to the list, or you will receive\n"
     "notification of the moderator's decision.\n"},
    {"list:admin:action:post",
     "As list administrator, your authorization is requested for the\n"
     "following mailing list posting:\n\n    List:    $listname\n    From:    $sender_email\n"
     "    Subject: $subject\n\nThe message is being held because:\n\n$reasons\n\n"
     "At your convenience, visit your dashboard to approve or deny the\nrequest.\n"},
    {"list:user:notice:rejected",
     "Your message to the $listname mailing-list was rejected for the following\n"
     "reasons:\n\n$reasons\n\nThe original message as received by Mailman is attached.\n"},
    {"list:admin:notice:disable",
     "$member's subscription has been disabled on $listname due to their bounce score\n"
     "exceeding the mailing list's bounce_score_threshold.\n\n"
     "The triggering DSN if available is attached.\n"},
    {"list:admin:notice:increment", "$member's bounce score on $listname has been incremented.\n\n"
                                    "The triggering DSN if available is attached.\n"},
    {"list:user:notice:probe",
     "This is a probe message.  You can ignore this message.\n\n"
     "The $listname mailing list has received a number of bounces from you,\n"
     "indicating that there may be a problem delivering messages to $sender_email.  A\n"
     "sample is attached below.  Please examine this message to make sure there are\n"
     "no problems with your email address.  You may want to check with your mail\n"
     "administrator for more help.\n\n"
     "You don't need to do anything to remain an enabled member of the mailing list.\n\n"
     "If you have any questions or problems, you can contact the mailing list owner\nat\n\n"
     "    $owner_email\n"},
    {"list:user:notice:post",
     "Your message entitled\n\n    $subject\n\nwas successfully received by the $display_name "
     "mailing list.\n"},
    {"list:user:notice:refuse",
     "Your request to the $listname mailing list\n\n    $request\n\n"
     "has been rejected by the list moderator.  The moderator gave the\n"
     "following reason for rejecting your request:\n\n\"$reason\"\n\n"
     "Any questions or comments should be directed to the list administrator\nat:\n\n"
     "    $owner_email\n"},
    {"list:user:action:subscribe",
     "Email Address Registration Confirmation\n"
     "\n"
     "Hello, this is the GNU Mailman server at $domain.\n"
     "\n"
     "We have received a registration request for the email address\n"
     "\n"
     "    $user_email\n"
     "\n"
     "Before you can start using GNU Mailman at this site, you must first confirm\n"
     "that this is your email address.  You can do this by replying to this message.\n"
     "\n"
     "Or you should include the following line -- and only the following\n"
     "line -- in a message to $request_email:\n"
     "\n"
     "    confirm $token\n"
     "\n"
     "Note that simply sending a `reply' to this message should work from\n"
     "most mail readers.\n"
     "\n"
     "If you do not wish to register this email address, simply disregard this\n"
     "message.  If you think you are being maliciously subscribed to the list, or\n"
     "have any other questions, you may contact\n"
     "\n"
     "    $owner_email\n"},
    {"list:user:action:unsubscribe",
     "Email Address Unsubscription Confirmation\n"
     "\n"
     "Hello, this is the GNU Mailman server at $domain.\n"
     "\n"
     "We have received an unsubscription request for the email address\n"
     "\n"
     "    $user_email\n"
     "\n"
     "Before GNU Mailman can unsubscribe you, you must first confirm your request.\n"
     "You can do this by simply replying to this message.\n"
     "\n"
     "Or you should include the following line -- and only the following\n"
     "line -- in a message to $request_email:\n"
     "\n"
     "    confirm $token\n"
     "\n"
     "Note that simply sending a `reply' to this message should work from\n"
     "most mail readers.\n"
     "\n"
     "If you do not wish to unsubscribe this email address, simply disregard this\n"
     "message.  If you think you are being maliciously unsubscribed from the list,\n"
     "or have any other questions, you may contact\n"
     "\n"
     "    $owner_email\n"},
    {"list:user:action:invite",
     "Your address \"$user_email\" has been invited to join the $short_listname\n"
     "mailing list at $domain by the $short_listname mailing list owner.\n"
     "You may accept the invitation by simply replying to this message.\n"
     "\n"
     "Or you should include the following line -- and only the following\n"
     "line -- in a message to $request_email:\n"
     "\n"
     "    confirm $token\n"
     "\n"
     "Note that simply sending a `reply' to this message should work from\n"
     "most mail readers.\n"
     "\n"
     "If you want to decline this invitation, please simply disregard this\n"
     "message.  If you have any questions, please send them to\n"
     "$owner_email.\n"},
    {"list:user:notice:welcome",
     "Welcome to the \"$display_name\" mailing list!\n"
     "\n"
     "To post to this list, send your message to:\n"
     "\n"
     "  $listname\n"
     "\n"
     "You can unsubscribe or make adjustments to your options via email by sending\n"
     "a message to:\n"
     "\n"
     "  $request_email\n"
     "\n"
     "with the word 'help' in the subject or body (don't include the quotes), and\n"
     "you will get back a message with instructions.  You will need your password to\n"
     "change your options, but for security purposes, this password is not included\n"
     "here.  If you have forgotten your password you will need to reset it via the\n"
     "web UI.\n"},
    {"list:user:notice:goodbye", ""},
    {"list:admin:action:subscribe",
     "Your authorization is required for a mailing list subscription request\n"
     "approval:\n"
     "\n"
     "    For:  $member\n"
     "    List: $listname\n"},
    {"list:admin:action:unsubscribe",
     "Your authorization is required for a mailing list unsubscription\n"
     "request approval:\n"
     "\n"
     "    For:  $member\n"
     "    List: $listname\n"},
    {"list:admin:notice:subscribe", "$member has been successfully subscribed to $display_name.\n"},
    {"list:admin:notice:unsubscribe", "$member has been removed from $display_name.\n"},
    {"list:user:notice:no-more-today",
     "We have received a message from your address <$sender_email> requesting an\n"
     "automated response from the $listname mailing list.\n"
     "\n"
     "The number we have seen today: $count.  In order to avoid problems such as\n"
     "mail loops between email robots, we will not be sending you any further\n"
     "responses today.  Please try again tomorrow.\n"
     "\n"
     "If you believe this message is in error, or if you have any questions, please\n"
     "contact the list owner at $owner_email.\n"},
};

char *post_substitute(const char *text, GHashTable *vars)
{
    GString *out = g_string_new(NULL);
    for (const char *p = text; *p;) {
        if (*p != '$') {
            g_string_append_c(out, *p++);
            continue;
        }
        if (p[1] == '$') {
            g_string_append_c(out, '$');
            p += 2;
            continue;
        }
        const char *s = p + 1, *e;
        bool braced = *s == '{';
        if (braced)
            s++;
        for (e = s; g_ascii_isalnum(*e) || *e == '_'; e++)
            ;
        g_autofree char *name = g_strndup(s, (gsize)(e - s));
        const char *v = *name ? g_hash_table_lookup(vars, name) : NULL;
        if (v == NULL || (braced && *e != '}')) {
            g_string_append_c(out, *p++); /* left alone, as safe_substitute */
            continue;
        }
        g_string_append(out, v);
        p = braced ? e + 1 : e;
    }
    return g_string_free(out, FALSE);
}

static char *read_template(struct config *cfg, const struct store_list *l, const char *name)
{
    /* ITemplateLoader: the URIs set over REST (list, domain, site) first. */
    char *from_uri = post_template_uri(cfg, l, name);
    if (from_uri)
        return from_uri;
    const char *tdir = config_path(cfg, "template_dir");
    const char *lang = config_get(cfg, "mailman", "default_language");
    g_autofree char *file = g_strconcat(name, ".txt", NULL);
    char *dirs[] = {
        l ? g_build_filename(tdir, "lists", l->list_id, lang, file, NULL) : NULL,
        l ? g_build_filename(tdir, "lists", l->fqdn_listname, lang, file, NULL) : NULL,
        l ? g_build_filename(tdir, "domains", l->mail_host, lang, file, NULL) : NULL,
        g_build_filename(tdir, "site", lang, file, NULL),
    };
    char *text = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (text == NULL && dirs[i] && g_file_get_contents(dirs[i], &text, NULL, NULL) &&
            !g_utf8_validate(text, -1, NULL))
            g_clear_pointer(&text, g_free);
        g_free(dirs[i]);
    }
    if (text)
        return text;
    for (size_t i = 0; i < G_N_ELEMENTS(builtin_templates); i++)
        if (strcmp(builtin_templates[i].name, name) == 0) {
            if (builtin_templates[i].text)
                return g_strdup(builtin_templates[i].text);
            if (g_str_has_suffix(name, ":footer"))
                return read_template(cfg, l, "list:member:generic:footer");
        }
    return g_strdup("");
}

char *post_template(struct config *cfg, const struct store_list *l, const char *name,
                    GHashTable *extra)
{
    g_autofree char *text = read_template(cfg, l, name);
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    const char *site = config_get(cfg, "mailman", "site_owner");
    g_hash_table_insert(vars, "site_email", g_strdup(site));
    g_hash_table_insert(vars, "language", g_strdup(config_get(cfg, "mailman", "default_language")));
    if (l) {
        g_hash_table_insert(vars, "listname", g_strdup(l->fqdn_listname));
        g_hash_table_insert(vars, "list_id", g_strdup(l->list_id));
        g_hash_table_insert(vars, "display_name", g_strdup(store_list_attr(l, "display_name")));
        g_hash_table_insert(vars, "short_listname", g_strdup(l->list_name));
        g_hash_table_insert(vars, "domain", g_strdup(l->mail_host));
        g_hash_table_insert(vars, "description", g_strdup(store_list_attr(l, "description")));
        g_hash_table_insert(vars, "info", g_strdup(store_list_attr(l, "info")));
        g_hash_table_insert(vars, "request_email",
                            g_strdup_printf("%s-request@%s", l->list_name, l->mail_host));
        g_hash_table_insert(vars, "owner_email",
                            g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host));
    }
    if (extra) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, extra);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(vars, k, g_strdup(v));
    }
    char *out = post_substitute(text, vars);
    g_hash_table_unref(vars);
    return out;
}

/* ---- recipients ---- */

struct rcpt_ctx {
    struct post_recipients *out;
    const char *exclude;   /* the sender, when they do not want their own posts */
    GHashTable *explicit_; /* lower-case addresses named in To/Cc/Resent-* */
    GHashTable *cc_drop;   /* of those, Cc addresses to drop */
    GString *dup;          /* of those, the ones flagged for X-Mailman-Copy */
    unsigned n;
};

/* Whether a member of the roster gets this post; notes the Cc addresses
 * to drop and the X-Mailman-Copy ones on the way. */
static bool rcpt_take(struct rcpt_ctx *r, const char *email, bool receive_list_copy)
{
    if (r->exclude && strcmp(email, r->exclude) == 0)
        return false;
    if (r->explicit_ && g_hash_table_contains(r->explicit_, email)) {
        if (!receive_list_copy) {
            g_hash_table_add(r->cc_drop, g_strdup(email));
            return false;
        }
        g_string_append_printf(r->dup, "%s%s", r->dup->len ? "\n" : "", email);
    }
    return true;
}

static int add_recipient(const struct store_recipient *m, void *p)
{
    struct rcpt_ctx *r = p;
    if (rcpt_take(r, m->email, m->receive_list_copy)) {
        post_recipients_add(r->out, m->email, m->len);
        r->n++;
    }
    return 0;
}

/* The whole roster, for the cache: every address, and those that want no
 * list copy when they are named explicitly. */
struct full_ctx {
    struct post_recipients *out;
    GHashTable *no_copy;
};

static int add_full(const struct store_recipient *m, void *p)
{
    struct full_ctx *f = p;
    post_recipients_add(f->out, m->email, m->len);
    if (!m->receive_list_copy)
        g_hash_table_add(f->no_copy, g_strndup(m->email, m->len));
    return 0;
}

static int cmp_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends entries [from, to) of ro to out at *o, "\n"-joined. */
static void copy_entries(const struct post_roster *ro, size_t from, size_t to, char *out, size_t *o)
{
    if (from >= to)
        return;
    size_t start = ro->offsets[from];
    size_t stop = to < ro->n ? ro->offsets[to] - 1 : ro->len;
    if (*o > 0)
        out[(*o)++] = '\n';
    memcpy(out + *o, ro->all + start, stop - start);
    *o += stop - start;
}

/* member-recipients through the cache: the same list add_recipient builds
 * (sorted by bytes, the same drops and duplicates), from the roster kept
 * since the last post when nothing changed, else from a fresh scan that
 * is kept for the next one. */
static int recipients_cached(struct post_ctx *c, struct rcpt_ctx *r, char **all_r, size_t *len_r,
                             char **error_r)
{
    int64_t version = 0;
    if (store_roster_version(c->st, &version, error_r) < 0)
        return -1;
    const char *list_id = c->list->list_id;
    const struct post_roster *ro = post_roster_cache_get(c->rosters, list_id, version);
    struct post_roster *own = NULL;
    if (ro == NULL) {
        struct full_ctx f = {post_recipients_new(),
                             g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
        int rc = store_roster_recipients(c->st, list_id, add_full, &f, error_r);
        if (rc != 0) {
            post_recipients_free(f.out);
            g_hash_table_unref(f.no_copy);
            return rc;
        }
        size_t len;
        char *all = post_recipients_finish(f.out, &len);
        bool kept;
        struct post_roster *fresh =
            post_roster_cache_put(c->rosters, list_id, version, all, len, f.no_copy, &kept);
        if (!kept)
            own = fresh;
        ro = fresh;
    }
    /* The few entries this post leaves out, found by binary search. */
    GArray *drop = g_array_new(FALSE, FALSE, sizeof(size_t));
    GPtrArray *named = g_ptr_array_new();
    if (r->exclude)
        g_ptr_array_add(named, (gpointer)r->exclude);
    if (r->explicit_) {
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, r->explicit_);
        while (g_hash_table_iter_next(&it, &k, NULL))
            g_ptr_array_add(named, k);
    }
    for (guint i = 0; i < named->len; i++) {
        const char *a = named->pdata[i];
        ptrdiff_t at = post_roster_find(ro, a);
        if (at < 0 || (i > 0 && r->exclude && strcmp(a, r->exclude) == 0))
            continue;
        if (!rcpt_take(r, a, !g_hash_table_contains(ro->no_copy, a)))
            g_array_append_val(drop, at);
    }
    g_ptr_array_free(named, TRUE);
    if (drop->len > 1)
        qsort(drop->data, drop->len, sizeof(size_t), cmp_index);
    char *out = g_malloc(ro->len + 1);
    size_t o = 0, next = 0;
    for (guint i = 0; i < drop->len; i++) {
        size_t d = g_array_index(drop, size_t, i);
        copy_entries(ro, next, d, out, &o);
        next = MAX(next, d + 1);
    }
    copy_entries(ro, next, ro->n, out, &o);
    out[o] = '\0';
    r->n = (unsigned)(ro->n - drop->len);
    g_array_free(drop, TRUE);
    post_roster_free(own);
    *all_r = out;
    *len_r = o;
    return 0;
}

/* avoid-duplicates: the explicit recipients other than the list's own
 * addresses; NULL when there are none (then the handler does nothing). */
static GHashTable *explicit_recipients(struct post_ctx *c)
{
    const struct store_list *l = c->list;
    g_autofree char *bounces = g_strdup_printf("%s-bounces@%s", l->list_name, l->mail_host);
    g_autofree char *owner = g_strdup_printf("%s-owner@%s", l->list_name, l->mail_host);
    g_autofree char *request = g_strdup_printf("%s-request@%s", l->list_name, l->mail_host);
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    static const char *const hdrs[] = {"To", "Cc", "Resent-To", "Resent-Cc"};
    for (size_t h = 0; h < G_N_ELEMENTS(hdrs); h++) {
        g_autoptr(GPtrArray) a = pmsg_addresses(c->msg, hdrs[h]);
        for (guint i = 0; i < a->len; i++) {
            const char *x = a->pdata[i];
            if (strcmp(x, l->fqdn_listname) && strcmp(x, bounces) && strcmp(x, owner) &&
                strcmp(x, request))
                g_hash_table_add(set, g_strdup(x));
        }
    }
    if (g_hash_table_size(set) == 0) {
        g_hash_table_unref(set);
        return NULL;
    }
    return set;
}

/* member-recipients and avoid-duplicates in one pass over the roster. */
static int member_recipients(struct post_ctx *c, char **error_r)
{
    struct rcpt_ctx r = {.out = post_recipients_new(), .dup = g_string_new(NULL)};
    const char *sender = c->senders->len ? c->senders->pdata[0] : NULL;
    if (sender) {
        struct store_member *m = NULL;
        if (store_member_get_by_email(c->st, c->list->list_id, sender, STORE_ROLE_MEMBER, &m,
                                      error_r) < 0) {
            post_recipients_free(r.out);
            g_string_free(r.dup, TRUE);
            return -1;
        }
        if (m && !m->receive_own_postings)
            r.exclude = sender;
        store_member_free(m);
    }
    r.explicit_ = explicit_recipients(c);
    r.cc_drop = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char *all = NULL;
    size_t len = 0;
    int rc;
    if (c->rosters != NULL) {
        rc = recipients_cached(c, &r, &all, &len, error_r);
    } else {
        rc = store_roster_recipients(c->st, c->list->list_id, add_recipient, &r, error_r);
        if (rc == 0) {
            all = post_recipients_finish(r.out, &len);
            r.out = NULL;
        }
    }
    if (rc == 0) {
        /* The list is handed over, not copied: a million members are one
         * buffer of about 25 MB from here to the out queue's file. */
        queue_meta_set_owned(c->meta, "recipients", all, len);
        if (r.dup->len) /* Mailman's add-dup-header: X-Mailman-Copy at delivery */
            queue_meta_set(c->meta, "add_dup_header", r.dup->str);
        if (r.explicit_) {
            /* Cc goes to the end as "CC", without the dropped addresses. */
            g_autoptr(GPtrArray) cc = pmsg_mailboxes(c->msg, "Cc");
            GString *v = g_string_new(NULL);
            GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            for (guint i = 0; i < cc->len; i++) {
                struct pmsg_mailbox *b = cc->pdata[i];
                g_autofree char *low = g_ascii_strdown(b->addr, -1);
                if (g_hash_table_contains(r.cc_drop, low) || !g_hash_table_add(seen, g_strdup(low)))
                    continue;
                g_autofree char *f1 = pmsg_formataddr(b->name, b->addr);
                g_string_append_printf(v, "%s%s", v->len ? ", " : "", f1);
            }
            pmsg_remove(c->msg, "Cc");
            if (v->len)
                pmsg_append_text(c->msg, "CC", v->str);
            g_string_free(v, TRUE);
            g_hash_table_unref(seen);
        }
    }
    if (r.explicit_)
        g_hash_table_unref(r.explicit_);
    g_hash_table_unref(r.cc_drop);
    post_recipients_free(r.out);
    g_string_free(r.dup, TRUE);
    return rc;
}

static int add_owner(const struct store_member *m, void *p)
{
    GString *s = p;
    if (s->len)
        g_string_append_c(s, '\n');
    g_string_append(s, m->email);
    return 0;
}

/* owner-recipients: owners and moderators with delivery enabled, else the
 * site owner; nodecorate and VERP. */
static int owner_recipients(struct post_ctx *c, char **error_r)
{
    GString *s = g_string_new(NULL);
    struct store_roster_filter f = {
        .list_id = c->list->list_id,
        .role_mask = STORE_MASK(STORE_ROLE_OWNER) | STORE_MASK(STORE_ROLE_MODERATOR),
        .delivery_status_mask = STORE_MASK(STORE_DELIVERY_ENABLED),
    };
    int rc = store_roster(c->st, &f, add_owner, s, error_r);
    if (rc == 0) {
        if (s->len == 0)
            g_string_append(s, config_get(c->cfg, "mailman", "site_owner"));
        queue_meta_set(c->meta, "recipients", s->str);
        queue_meta_set(c->meta, "nodecorate", "true");
        queue_meta_set(c->meta, "verp", "true");
    }
    g_string_free(s, TRUE);
    return rc;
}

/* ---- header handlers ---- */

static void cleanse(struct post_ctx *c)
{
    static const char *const drop[] = {"Approved",
                                       "Approve",
                                       "X-Approved",
                                       "X-Approve",
                                       "Urgent",
                                       "Return-Receipt-To",
                                       "Disposition-Notification-To",
                                       "X-Confirm-Reading-To",
                                       "X-PMRQC",
                                       "Archived-At"};
    for (size_t i = 0; i < G_N_ELEMENTS(drop); i++)
        pmsg_remove(c->msg, drop[i]);
    if (!store_list_attr_bool(c->list, "anonymous_list"))
        return;
    static const char *const anon[] = {"From",         "Reply-To",    "Sender",
                                       "Organization", "Return-Path", "X-Originating-Email",
                                       "Received",     "X-MailFrom",  "X-Envelope-From"};
    for (size_t i = 0; i < G_N_ELEMENTS(anon); i++)
        pmsg_remove(c->msg, anon[i]);
    /* X- headers not kept by [mailman] anonymous_list_keep_headers */
    GRegex *keep = g_regex_new(config_get(c->cfg, "mailman", "anonymous_list_keep_headers"),
                               G_REGEX_CASELESS, 0, NULL);
    for (guint i = c->msg->fields->len; i-- > 0;) {
        struct pmsg_field *f = c->msg->fields->pdata[i];
        if (g_ascii_strncasecmp(f->name, "X-", 2) == 0 &&
            !(keep && g_utf8_validate(f->name, -1, NULL) && g_regex_match(keep, f->name, 0, NULL)))
            g_ptr_array_remove_index(c->msg->fields, i);
    }
    if (keep)
        g_regex_unref(keep);
    pmsg_remove(c->msg, "Message-ID");
    g_autofree char *id = g_mime_utils_generate_message_id(c->list->mail_host);
    g_autofree char *idv = g_strdup_printf("<%s>", id);
    pmsg_append(c->msg, "Message-ID", idv);
    g_autofree char *from =
        pmsg_formataddr(store_list_attr(c->list, "description"), c->list->fqdn_listname);
    pmsg_append(c->msg, "From", from);
    pmsg_append(c->msg, "Reply-To", c->list->fqdn_listname);
}

static bool attr_is(const struct store_list *l, const char *attr, const char *value)
{
    const char *v = store_list_attr(l, attr);
    return v && strcmp(v, value) == 0;
}

struct addr_set {
    GString *out;
    GHashTable *seen;
};

static void addr_set_add(struct addr_set *s, const char *name, const char *addr)
{
    if (addr == NULL || *addr == '\0')
        return;
    if (!g_hash_table_add(s->seen, g_ascii_strdown(addr, -1)))
        return;
    g_autofree char *f = pmsg_formataddr(name, addr);
    g_string_append_printf(s->out, "%s%s", s->out->len ? ", " : "", f);
}

static void cook_headers(struct post_ctx *c, bool fasttrack)
{
    const struct store_list *l = c->list;
    if (queue_meta_get(c->meta, "noack")) {
        pmsg_remove(c->msg, "X-Ack");
        pmsg_append(c->msg, "X-Ack", "no");
    }
    if (!pmsg_has(c->msg, "X-Mailman-Version"))
        pmsg_append(c->msg, "X-Mailman-Version", "3.3.8");
    if (!pmsg_has(c->msg, "Precedence"))
        pmsg_append(c->msg, "Precedence", "list");
    if (fasttrack)
        return;
    struct addr_set s = {g_string_new(NULL),
                         g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    bool explicit_ = attr_is(l, "reply_goes_to_list", "explicit_header") ||
                     attr_is(l, "reply_goes_to_list", "explicit_header_only");
    if (explicit_) {
        g_autoptr(pmsg) tmp = pmsg_parse("", 0);
        pmsg_append(tmp, "X", store_list_attr(l, "reply_to_address"));
        g_autoptr(GPtrArray) b = pmsg_mailboxes(tmp, "X");
        for (guint i = 0; i < b->len; i++) {
            struct pmsg_mailbox *mb = b->pdata[i];
            addr_set_add(&s, mb->name, mb->addr);
        }
    }
    if (!store_list_attr_bool(l, "first_strip_reply_to")) {
        g_autoptr(GPtrArray) b = pmsg_mailboxes(c->msg, "Reply-To");
        for (guint i = 0; i < b->len; i++) {
            struct pmsg_mailbox *mb = b->pdata[i];
            addr_set_add(&s, mb->name, mb->addr);
        }
    }
    if (attr_is(l, "reply_goes_to_list", "point_to_list"))
        addr_set_add(&s, store_list_attr(l, "description"), l->fqdn_listname);
    pmsg_remove(c->msg, "Reply-To");
    if (s.out->len)
        pmsg_append(c->msg, "Reply-To", s.out->str);
    g_string_truncate(s.out, 0);
    g_hash_table_remove_all(s.seen);
    if (attr_is(l, "personalize", "full") && !attr_is(l, "reply_goes_to_list", "point_to_list") &&
        !store_list_attr_bool(l, "anonymous_list")) {
        g_autoptr(GPtrArray) b = pmsg_mailboxes(c->msg, "Cc");
        for (guint i = 0; i < b->len; i++) {
            struct pmsg_mailbox *mb = b->pdata[i];
            addr_set_add(&s, mb->name, mb->addr);
        }
        if (!attr_is(l, "reply_goes_to_list", "explicit_header_only"))
            addr_set_add(&s, store_list_attr(l, "description"), l->fqdn_listname);
        pmsg_remove(c->msg, "Cc");
        if (s.out->len)
            pmsg_append(c->msg, "Cc", s.out->str);
    }
    g_string_free(s.out, TRUE);
    g_hash_table_unref(s.seen);
}

/* Mailman's subject-prefix for one decoded subject; exposed for tests via
 * post_subject_prefix(). */
char *post_subject_prefix(const char *prefix_tmpl, int64_t post_id, const char *subject);

char *post_subject_prefix(const char *prefix_tmpl, int64_t post_id, const char *subject)
{
    /* the pattern of old prefixes: the prefix escaped, %d → \s*\d+\s* */
    g_autofree char *escaped = g_regex_escape_string(prefix_tmpl, -1);
    GString *pat = g_string_new(NULL);
    for (const char *p = escaped; *p; p++) {
        if (*p == '%' && p[1] == 'd') {
            g_string_append(pat, "\\s*\\d+\\s*");
            p++;
        } else {
            g_string_append_c(pat, *p);
        }
    }
    GString *prefix = g_string_new(NULL);
    for (const char *p = prefix_tmpl; *p; p++) {
        if (*p == '%' && p[1] == 'd') {
            g_string_append_printf(prefix, "%" G_GINT64_FORMAT, post_id);
            p++;
        } else {
            g_string_append_c(prefix, *p);
        }
    }
    /* one line */
    g_autofree char *text = g_strdup(subject ? subject : "");
    for (char *p = text; *p; p++)
        if (*p == '\r' || *p == '\n')
            memmove(p, p + 1, strlen(p));
    char *stripped;
    g_autofree char *trimmed = g_strstrip(g_strdup(text));
    if (*trimmed == '\0') {
        stripped = g_strdup("(no subject)");
    } else {
        GRegex *re = g_regex_new(pat->str, 0, 0, NULL);
        stripped = re && g_utf8_validate(text, -1, NULL)
                       ? g_regex_replace_literal(re, text, -1, 0, "", 0, NULL)
                       : g_strdup(text);
        if (re)
            g_regex_unref(re);
    }
    g_string_free(pat, TRUE);
    const char *rest = stripped;
    bool re_colon = false;
    GRegex *rere =
        g_regex_new("^\\s*((RE|AW|SV|VS)(\\[\\d+\\])?\\s*:\\s*)+", G_REGEX_CASELESS, 0, NULL);
    GMatchInfo *mi = NULL;
    if (g_utf8_validate(stripped, -1, NULL) && g_regex_match(rere, stripped, 0, &mi)) {
        int end;
        g_match_info_fetch_pos(mi, 0, NULL, &end);
        rest = stripped + end;
        re_colon = true;
    }
    g_match_info_free(mi);
    g_regex_unref(rere);
    char *out = g_strconcat(prefix->str, re_colon ? "Re: " : "", rest, NULL);
    g_string_free(prefix, TRUE);
    g_free(stripped);
    return out;
}

static void subject_prefix(struct post_ctx *c)
{
    const char *prefix = store_list_attr(c->list, "subject_prefix");
    g_autofree char *trimmed = g_strstrip(g_strdup(prefix ? prefix : ""));
    if (*trimmed == '\0')
        return;
    g_autofree char *subject = pmsg_get(c->msg, "Subject");
    g_autofree char *s =
        post_subject_prefix(prefix, store_list_attr_int(c->list, "post_id"), subject);
    pmsg_remove(c->msg, "Subject");
    pmsg_append_text(c->msg, "Subject", s);
}

static void rfc_2369(struct post_ctx *c, bool reduced)
{
    const struct store_list *l = c->list;
    if (!store_list_attr_bool(l, "include_rfc2369_headers"))
        return;
    const char *desc = store_list_attr(l, "description");
    g_autofree char *bracketed = g_strdup_printf("<%s>", l->list_id);
    g_autofree char *listid = desc && *desc ? pmsg_formataddr(desc, l->list_id) : NULL;
    pmsg_remove(c->msg, "List-Id");
    pmsg_append(c->msg, "List-Id", listid ? listid : bracketed);
    struct {
        const char *name;
        char *value;
    } h[] = {
        {"List-Help",
         g_strdup_printf("<mailto:%s-request@%s?subject=help>", l->list_name, l->mail_host)},
        {"List-Owner", g_strdup_printf("<mailto:%s-owner@%s>", l->list_name, l->mail_host)},
        {"List-Post", reduced ? NULL
                      : store_list_attr_bool(l, "allow_list_posts")
                          ? g_strdup_printf("<mailto:%s>", l->fqdn_listname)
                          : g_strdup("NO")},
        {"List-Subscribe", g_strdup_printf("<mailto:%s-join@%s>", l->list_name, l->mail_host)},
        {"List-Unsubscribe", g_strdup_printf("<mailto:%s-leave@%s>", l->list_name, l->mail_host)},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(h); i++)
        if (h[i].value)
            pmsg_remove(c->msg, h[i].name);
    /* already sorted by name */
    for (size_t i = 0; i < G_N_ELEMENTS(h); i++) {
        if (h[i].value == NULL)
            continue;
        if (strlen(h[i].name) + 2 + strlen(h[i].value) > 78) {
            g_auto(GStrv) parts = g_strsplit(h[i].value, ", ", -1);
            g_autofree char *v = g_strjoinv(",\n\t", parts);
            pmsg_append(c->msg, h[i].name, v);
        } else {
            pmsg_append(c->msg, h[i].name, h[i].value);
        }
        g_free(h[i].value);
    }
}

/* after-delivery: last_post_at and post_id. */
static int after_delivery(struct post_ctx *c, char **error_r)
{
    GDateTime *now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%f");
    g_date_time_unref(now);
    if (store_list_set_attr_internal(c->st, c->list->list_id, "last_post_at", ts, error_r) < 0)
        return -1;
    return store_list_attr_add(c->st, c->list->list_id, "post_id", 1, NULL, error_r);
}

/* acknowledge: a member who asked for it is told the post arrived. */
static int acknowledge(struct post_ctx *c, char **error_r)
{
    if (c->notice == NULL || c->senders->len == 0 || queue_meta_get(c->meta, "noack"))
        return 0;
    const char *sender = c->senders->pdata[0];
    struct store_member *m = NULL;
    if (store_member_get_by_email(c->st, c->list->list_id, sender, STORE_ROLE_MEMBER, &m, error_r) <
        0)
        return -1;
    bool wants = m && m->acknowledge_posts;
    store_member_free(m);
    if (!wants)
        return 0;
    g_autofree char *subject = pmsg_get(c->msg, "Subject");
    GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "subject", g_strdup(subject ? subject : "(no subject)"));
    g_hash_table_insert(vars, "list_name", g_strdup(c->list->list_name));
    g_autofree char *text = post_template(c->cfg, c->list, "list:user:notice:post", vars);
    g_hash_table_unref(vars);
    g_autofree char *from =
        g_strdup_printf("%s-bounces@%s", c->list->list_name, c->list->mail_host);
    g_autofree char *subj =
        g_strdup_printf("%s post acknowledgment", store_list_attr(c->list, "display_name"));
    const char *rcpts[] = {sender, NULL};
    size_t n;
    g_autofree char *msg = notice_build(from, rcpts, subj, text, c->list->mail_host, &n);
    c->notice(c->notice_ud, sender, msg, n);
    return 0;
}

/* to-archive: a copy for the archive runner, as Mailman, unless the list
 * never archives or the post asks not to be. */
static int to_archive(struct post_ctx *c, char **error_r)
{
    if (c->enqueue == NULL || attr_is(c->list, "archive_policy", "never") ||
        queue_meta_get(c->meta, "isdigest") || pmsg_has(c->msg, "X-No-Archive"))
        return 0;
    g_autofree char *xa = pmsg_get(c->msg, "X-Archive");
    if (xa && g_ascii_strcasecmp(xa, "no") == 0)
        return 0;
    size_t len;
    g_autofree char *raw = pmsg_serialize(c->msg, &len);
    struct queue_meta *m = queue_meta_new();
    queue_meta_set(m, "listid", c->list->list_id);
    int rc = c->enqueue(c->notice_ud, "archive", m, raw, len, error_r);
    queue_meta_free(m);
    return rc;
}

/* to-digest: the post is appended to the list's digest.mmdf; past
 * digest_size_threshold KB it is sent (post_digest_send). */
static int to_digest(struct post_ctx *c, char **error_r)
{
    const struct store_list *l = c->list;
    if (c->enqueue == NULL || !store_list_attr_bool(l, "digests_enabled") ||
        queue_meta_get(c->meta, "isdigest"))
        return 0;
    g_autofree char *dir = g_build_filename(config_path(c->cfg, "list_data_dir"), l->list_id, NULL);
    g_autofree char *mbox = g_build_filename(dir, "digest.mmdf", NULL);
    if (g_mkdir_with_parents(dir, 0750) < 0) {
        *error_r = g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
        return -1;
    }
    size_t len;
    g_autofree char *raw = pmsg_serialize(c->msg, &len);
    FILE *f = fopen(mbox, "ab");
    if (f == NULL) {
        *error_r = g_strdup_printf("cannot open %s: %s", mbox, g_strerror(errno));
        return -1;
    }
    static const char sep[] = "\001\001\001\001\n";
    bool ok = fwrite(sep, 1, sizeof sep - 1, f) == sizeof sep - 1 &&
              fwrite(raw, 1, len, f) == len &&
              (len == 0 || raw[len - 1] == '\n' || fputc('\n', f) != EOF) &&
              fwrite(sep, 1, sizeof sep - 1, f) == sizeof sep - 1;
    if (fclose(f) != 0 || !ok) {
        *error_r = g_strdup_printf("cannot write %s: %s", mbox, g_strerror(errno));
        return -1;
    }
    return post_digest_send(c->cfg, c->st, l, false, c->enqueue, c->notice_ud, NULL, error_r);
}

/* ---- decoration ---- */

void post_gmime_put_back(struct pmsg *m, GMimeMessage *msg)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    char *out = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    pmsg_replace(m, out, strlen(out));
    g_free(out);
}

static GMimeObject *text_part(const char *text)
{
    GMimeTextPart *p = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(p, text);
    g_mime_object_set_disposition(GMIME_OBJECT(p), "inline");
    return GMIME_OBJECT(p);
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

void post_decorate(struct config *cfg, const struct store_list *l, struct pmsg *m,
                   GHashTable *member_vars)
{
    g_autofree char *header = post_template(cfg, l, "list:member:regular:header", member_vars);
    g_autofree char *footer = post_template(cfg, l, "list:member:regular:footer", member_vars);
    if (*header == '\0' && *footer == '\0')
        return;
    g_autofree char *ct = pmsg_get(m, "Content-Type");
    g_autofree char *cte = pmsg_get(m, "Content-Transfer-Encoding");
    bool plain = ct == NULL || g_ascii_strncasecmp(ct, "text/plain", 10) == 0;
    bool identity =
        cte == NULL || g_ascii_strcasecmp(cte, "7bit") == 0 || g_ascii_strcasecmp(cte, "8bit") == 0;
    bool ascii_text = is_ascii(header) && is_ascii(footer);
    if (plain && identity && (ascii_text || (ct && strcasestr(ct, "utf-8")))) {
        /* The common case: the text goes around the raw body. */
        GString *b = g_string_new(header);
        if (*header && !g_str_has_suffix(header, "\n"))
            g_string_append_c(b, '\n');
        g_string_append_len(b, m->body, (gssize)m->body_len);
        if (*footer && m->body_len && m->body[m->body_len - 1] != '\n')
            g_string_append_c(b, '\n');
        g_string_append(b, footer);
        g_free(m->body);
        m->body_len = b->len;
        m->body = g_string_free(b, FALSE);
        return;
    }
    GMimeMessage *msg = pmsg_to_gmime(m);
    if (msg == NULL)
        return;
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    if (body && GMIME_IS_TEXT_PART(body) &&
        g_mime_content_type_is_type(g_mime_object_get_content_type(body), "text", "plain")) {
        g_autofree char *old = g_mime_text_part_get_text(GMIME_TEXT_PART(body));
        GString *b = g_string_new(header);
        if (*header && !g_str_has_suffix(header, "\n"))
            g_string_append_c(b, '\n');
        g_string_append(b, old ? old : "");
        if (*footer && b->len && b->str[b->len - 1] != '\n')
            g_string_append_c(b, '\n');
        g_string_append(b, footer);
        g_mime_text_part_set_text(GMIME_TEXT_PART(body), b->str);
        g_string_free(b, TRUE);
    } else if (body && GMIME_IS_MULTIPART(body) &&
               g_mime_content_type_is_type(g_mime_object_get_content_type(body), "multipart",
                                           "mixed")) {
        GMimeMultipart *mp = GMIME_MULTIPART(body);
        if (*header) {
            GMimeObject *h = text_part(header);
            g_mime_multipart_insert(mp, 0, h);
            g_object_unref(h);
        }
        if (*footer) {
            GMimeObject *f = text_part(footer);
            g_mime_multipart_add(mp, f);
            g_object_unref(f);
        }
    } else if (body) {
        GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
        if (*header) {
            GMimeObject *h = text_part(header);
            g_mime_multipart_add(mp, h);
            g_object_unref(h);
        }
        g_mime_multipart_add(mp, body);
        if (*footer) {
            GMimeObject *f = text_part(footer);
            g_mime_multipart_add(mp, f);
            g_object_unref(f);
        }
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
        g_object_unref(mp);
    }
    post_gmime_put_back(m, msg);
    g_object_unref(msg);
}

/* ---- the pipelines ---- */

int post_pipeline_run(struct post_ctx *c, const char *pipeline, char **error_r)
{
    if (strcmp(pipeline, "default-owner-pipeline") == 0)
        return owner_recipients(c, error_r);
    if (strcmp(pipeline, "virgin") == 0) {
        cook_headers(c, true);
        /* notices ask for the reduced set; digests get List-Post too */
        rfc_2369(c, queue_meta_get(c->meta, "reduced_list_headers") != NULL);
        return 0;
    }
    /* validate-authenticity (ARC) and tagger (topics): not yet */
    c->rejected = post_mime_delete(c);
    if (c->rejected)
        return 1;
    if (queue_meta_get(c->meta, "recipients") == NULL && member_recipients(c, error_r) < 0)
        return -1;
    cleanse(c);
    if (config_get_bool(c->cfg, "mta", "remove_dkim_headers")) { /* cleanse-dkim */
        pmsg_remove(c->msg, "DomainKey-Signature");
        pmsg_remove(c->msg, "DKIM-Signature");
        pmsg_remove(c->msg, "Authentication-Results");
    }
    cook_headers(c, false);
    subject_prefix(c);
    rfc_2369(c, false);
    if (to_archive(c, error_r) < 0 || to_digest(c, error_r) < 0)
        return -1;
    /* to-usenet: no NNTP gateway yet */
    if (after_delivery(c, error_r) < 0)
        return -1;
    if (acknowledge(c, error_r) < 0)
        return -1;
    post_dmarc_handler(c);
    /* decoration happens at delivery (deliver_out) */
    return 0;
}
