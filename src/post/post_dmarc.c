/* post_dmarc - see post_dmarc.h. */
#include "post/post_dmarc.h"

#include "mail/gmime_safe.h"
#include "mail/notice.h"

#include "config/config.h"
#include "lib/log.h"
#include "lib/regex.h"
#include "post/post_dmarc_dns.h"
#include "queue/queue.h"
#include "store/store.h"

#include <gmime/gmime.h>
#include <string.h>

/* ---- the policy record ---- */

/* The first group of pattern in s, lower-cased, or NULL. */
static char *tag(const char *pattern, const char *s)
{
    GRegex *re = regex_compile(pattern, NULL);
    GMatchInfo *mi = NULL;
    char *v = NULL;
    if (re && g_utf8_validate(s, -1, NULL) && g_regex_match(re, s, 0, &mi)) {
        g_autofree char *g = g_match_info_fetch(mi, 1);
        v = g_ascii_strdown(g, -1);
    }
    g_match_info_free(mi);
    if (re)
        g_regex_unref(re);
    return v;
}

enum post_dmarc_policy post_dmarc_policy(GPtrArray *txt, bool org, const char *dmarc_domain,
                                         char **policy_r, char **entry_r)
{
    *policy_r = NULL;
    *entry_r = NULL;
    const char *entry = NULL;
    unsigned n = 0;
    for (guint i = 0; txt && i < txt->len; i++)
        if (g_str_has_prefix(txt->pdata[i], "v=DMARC1;")) {
            entry = txt->pdata[i];
            n++;
        }
    if (n == 0)
        return POST_DMARC_KEEP_LOOKING;
    if (n > 1) {
        log_error("RRset of TXT records for %s has %u v=DMARC1 entries; "
                  "ignoring them per RFC 7849",
                  dmarc_domain, n);
        return POST_DMARC_NO;
    }
    /* Python's \w is Unicode; policies are ASCII words either way. */
    char *policy = org ? tag("\\bsp=(\\w*)\\b", entry) : NULL;
    if (policy == NULL)
        policy = tag("\\bp=(\\w*)\\b", entry);
    if (policy && (strcmp(policy, "reject") == 0 || strcmp(policy, "quarantine") == 0)) {
        *policy_r = policy;
        *entry_r = g_strdup(entry);
        return POST_DMARC_YES;
    }
    g_free(policy);
    return POST_DMARC_NO;
}

/* ---- the organisational domain (public suffix list) ---- */

GHashTable *post_dmarc_psl_parse(const char *text)
{
    GHashTable *rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *line = *l;
        if (g_str_has_prefix(line, "//"))
            continue;
        /* everything from the first white space on goes (so does a line
         * that starts with it) */
        line[strcspn(line, " \t\r\f\v")] = '\0';
        if (*line == '\0' || !g_utf8_validate(line, -1, NULL))
            continue;
        bool exception = *line == '!';
        char *rule = g_utf8_strdown(line + exception, -1);
        g_hash_table_replace(rules, rule, GINT_TO_POINTER(exception ? 2 : 1));
    }
    return rules;
}

/* The last n labels of labels[0..len). */
static char *last_labels(char **labels, guint len, guint n)
{
    n = MIN(n, len);
    return g_strjoinv(".", labels + (len - n));
}

char *post_dmarc_org_domain(GHashTable *rules, const char *domain)
{
    g_autofree char *low = g_utf8_strdown(domain, -1);
    g_auto(GStrv) labels = g_strsplit(low, ".", -1);
    guint len = g_strv_length(labels);
    /* Mailman matches every rule against the domain's last labels, '*'
     * matching any label; the list puts '*' only leftmost, so the rules
     * that can match a suffix of n labels are the suffix itself and
     * "*." + its last n-1 labels. */
    guint label = 0;
    for (guint n = 1; n <= len; n++) {
        g_autofree char *suffix = last_labels(labels, len, n);
        g_autofree char *tail = n > 1 ? last_labels(labels, len, n - 1) : NULL;
        g_autofree char *wild = tail ? g_strconcat("*.", tail, NULL) : NULL;
        int exact = GPOINTER_TO_INT(g_hash_table_lookup(rules, suffix));
        int star = wild ? GPOINTER_TO_INT(g_hash_table_lookup(rules, wild)) : 0;
        if (exact == 2 || star == 2) /* an exception: its parent is the suffix */
            return last_labels(labels, len, n);
        if (exact || star)
            label = n;
    }
    if (label == 0) /* no rule: the last two labels */
        return last_labels(labels, len, 2);
    return last_labels(labels, len, label + 1);
}

static struct {
    GHashTable *rules;
    char *path;
    gint64 loaded; /* monotonic µs */
} psl;

/* The suffix list, read again after [dmarc] cache_lifetime. A missing file
 * leaves no rules (the organisational domain is then the last two labels). */
static GHashTable *psl_rules(struct config *cfg)
{
    const char *url = config_get(cfg, "dmarc", "org_domain_data_url");
    const char *path =
        g_str_has_prefix(url, "file://") ? url + strlen("file://") : POST_DMARC_PSL_FILE;
    gint64 now = g_get_monotonic_time();
    double life = config_get_duration(cfg, "dmarc", "cache_lifetime");
    if (psl.rules && g_strcmp0(psl.path, path) == 0 &&
        now - psl.loaded < (gint64)(life * G_USEC_PER_SEC))
        return psl.rules;
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        if (psl.rules == NULL || g_strcmp0(psl.path, path) != 0)
            log_error("Unable to read the public suffix list %s: %s", path, err->message);
        g_error_free(err);
        text = g_strdup("");
    }
    if (psl.rules)
        g_hash_table_unref(psl.rules);
    psl.rules = post_dmarc_psl_parse(text);
    g_free(text);
    g_free(psl.path);
    psl.path = g_strdup(path);
    psl.loaded = now;
    return psl.rules;
}

/* ---- the rule ---- */

/* One _dmarc name: Mailman's is_reject_or_quarantine(), except that a DNS
 * failure is "no policy" (POST_DMARC_NO) where Mailman mitigates. */
static enum post_dmarc_policy lookup(struct post_ctx *c, const char *email, const char *domain,
                                     bool org)
{
    g_autofree char *ascii = g_hostname_to_ascii(domain);
    g_autofree char *name = g_strconcat("_dmarc.", ascii ? ascii : domain, NULL);
    GPtrArray *txt = NULL;
    char *cname = NULL, *error = NULL;
    enum post_dmarc_dns_status st = post_dmarc_dns_txt(c->cfg, name, &txt, &cname, &error);
    if (st == POST_DMARC_DNS_FAIL) {
        log_error("DNSException: Unable to query DMARC policy for %s (%s). %s; "
                  "treated as no policy",
                  email, name, error);
        g_free(error);
        return POST_DMARC_NO;
    }
    if (st == POST_DMARC_DNS_NONE)
        return POST_DMARC_KEEP_LOOKING;
    char *policy, *entry;
    enum post_dmarc_policy p = post_dmarc_policy(txt, org, name, &policy, &entry);
    if (p == POST_DMARC_YES)
        log_to("vette", LOG_LEVEL_INFO, "%s: DMARC lookup for %s (%s) found p=%s in %s = %s",
               c->list->list_name, email, name, policy, cname, entry);
    g_free(policy);
    g_free(entry);
    g_free(cname);
    g_ptr_array_unref(txt);
    return p;
}

/* Mailman's maybe_mitigate(). */
static bool maybe_mitigate(struct post_ctx *c, const char *address)
{
    g_autofree char *email = g_utf8_strdown(address, -1);
    const char *at = strrchr(email, '@');
    if (at == NULL)
        return false;
    const char *domain = at + 1;
    /* RFC 1035 §2.3.4: no longer name can have a record (and this bounds
     * the work on a hostile From) */
    if (*domain == '\0' || strlen(domain) > 253)
        return false;
    enum post_dmarc_policy p = lookup(c, email, domain, false);
    if (p != POST_DMARC_KEEP_LOOKING)
        return p == POST_DMARC_YES;
    g_autofree char *org = post_dmarc_org_domain(psl_rules(c->cfg), domain);
    if (strcmp(org, domain) != 0)
        return lookup(c, email, org, true) == POST_DMARC_YES;
    return false;
}

static const char *action(const struct post_ctx *c)
{
    const char *a = store_list_attr(c->list, "dmarc_mitigate_action");
    return a ? a : "no_mitigation";
}

int post_dmarc_rule(struct post_ctx *c)
{
    const char *a = action(c);
    if (strcmp(a, "no_mitigation") == 0)
        return 0;
    /* parseaddr(msg.get('from')): the first address of the first From */
    g_autoptr(GPtrArray) from = pmsg_mailboxes(c->msg, "From");
    const char *address = from->len ? ((struct pmsg_mailbox *)from->pdata[0])->addr : "";
    if (!maybe_mitigate(c, address))
        return 0;
    queue_meta_set(c->meta, "dmarc", "true");
    if (strcmp(a, "discard") == 0) {
        g_ptr_array_add(c->reasons, g_strdup("DMARC moderation"));
    } else if (strcmp(a, "reject") == 0) {
        const char *notice = store_list_attr(c->list, "dmarc_moderation_notice");
        g_autofree char *text =
            notice && *notice
                ? g_strdup(notice)
                : g_strdup_printf(
                      "You are not allowed to post to this mailing list From: a domain which "
                      "publishes a DMARC policy of reject or quarantine, and your message has "
                      "been automatically rejected.  If you think that your messages are "
                      "being rejected in error, contact the mailing list owner at %s-owner@%s.",
                      c->list->list_name, c->list->mail_host);
        g_ptr_array_add(c->reasons, post_dmarc_wrap(text));
    } else {
        return 0; /* munge_from, wrap_message: the handler acts */
    }
    queue_meta_set(c->meta, "dmarc_action", a);
    queue_meta_set(c->meta, "moderation_sender", address);
    return 1;
}

enum post_verdict post_dmarc_chain(struct post_ctx *c)
{
    const char *a = queue_meta_get(c->meta, "dmarc_action");
    return a && strcmp(a, "discard") == 0 ? POST_DISCARD : POST_REJECT;
}

/* ---- wrap ---- */

static bool ws(char ch)
{
    return ch && strchr(" \t\n\v\f\r", ch);
}

/* textwrap.TextWrapper(width, break_on_hyphens=False,
 * fix_sentence_endings=True).fill(text), widths counted in characters. */
static void fill(GString *out, const char *text, glong width)
{
    /* expandtabs(8), then every white space character becomes a space */
    GString *t = g_string_new(NULL);
    glong col = 0;
    for (const char *p = text; *p; p = g_utf8_next_char(p)) {
        if (*p == '\t') {
            do
                g_string_append_c(t, ' ');
            while (++col % 8);
            continue;
        }
        col = (*p == '\n' || *p == '\r') ? 0 : col + 1;
        if (ws(*p))
            g_string_append_c(t, ' ');
        else
            g_string_append_len(t, p, g_utf8_next_char(p) - p);
    }
    /* chunks: runs of spaces and runs of the rest */
    GPtrArray *chunks = g_ptr_array_new_with_free_func(g_free);
    for (const char *p = t->str; *p;) {
        const char *e = p;
        bool space = *p == ' ';
        while (*e && (*e == ' ') == space)
            e++;
        g_ptr_array_add(chunks, g_strndup(p, (gsize)(e - p)));
        p = e;
    }
    g_string_free(t, TRUE);
    GRegex *end = g_regex_new("[a-z][.!?][\"']?\\z", 0, 0, NULL);
    for (guint i = 0; i + 1 < chunks->len; i++)
        if (strcmp(chunks->pdata[i + 1], " ") == 0 && g_utf8_validate(chunks->pdata[i], -1, NULL) &&
            g_regex_match(end, chunks->pdata[i], 0, NULL)) {
            g_free(chunks->pdata[i + 1]);
            chunks->pdata[i + 1] = g_strdup("  ");
            i++;
        }
    g_regex_unref(end);
    /* chunk next starts at byte off (a long word cut on the last line);
     * lengths in characters, counted once */
    GArray *lens = g_array_sized_new(FALSE, FALSE, sizeof(glong), chunks->len);
    for (guint i = 0; i < chunks->len; i++) {
        glong l = g_utf8_strlen(chunks->pdata[i], -1);
        g_array_append_val(lens, l);
    }
    guint next = 0;
    gsize off = 0;
    bool first = true;
    while (next < chunks->len) {
        if (!first && ((char *)chunks->pdata[next])[off] == ' ') {
            next++; /* white space does not start a line */
            off = 0;
        }
        GString *line = g_string_new(NULL);
        glong len = 0;
        bool last_space = false;
        while (next < chunks->len && len + g_array_index(lens, glong, next) <= width) {
            const char *w = (const char *)chunks->pdata[next] + off;
            last_space = *w == ' ';
            g_string_append(line, w);
            len += g_array_index(lens, glong, next++);
            off = 0;
        }
        if (next < chunks->len && g_array_index(lens, glong, next) > width) {
            /* a chunk longer than the line is cut */
            const char *w = (const char *)chunks->pdata[next] + off;
            glong room = MAX(width - len, 1);
            const char *cut = g_utf8_offset_to_pointer(w, room);
            g_string_append_len(line, w, cut - w);
            last_space = *w == ' ';
            off += (gsize)(cut - w);
            g_array_index(lens, glong, next) -= room;
        }
        /* nor ends one */
        while (last_space && line->len > 0 && line->str[line->len - 1] == ' ')
            g_string_truncate(line, line->len - 1);
        if (line->len) {
            if (!first)
                g_string_append_c(out, '\n');
            g_string_append(out, line->str);
            first = false;
        }
        g_string_free(line, TRUE);
    }
    g_array_unref(lens);
    g_ptr_array_unref(chunks);
}

char *post_dmarc_wrap(const char *text)
{
    /* paragraphs: blank lines, and changes between indented and not */
    GPtrArray *paras = g_ptr_array_new_with_free_func(g_free);
    GString *para = g_string_new(NULL);
    bool last_indented = false;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        const char *e = nl ? nl + 1 : p + strlen(p);
        g_autofree char *line = g_strndup(p, (gsize)(e - p));
        p = e;
        bool indented = ws(line[0]);
        if (strcmp(line, "\n") == 0) {
            if (para->len)
                g_ptr_array_add(paras, g_strdup(para->str));
            g_ptr_array_add(paras, g_strdup("\n"));
            last_indented = false;
            g_string_truncate(para, 0);
        } else if (last_indented != indented) {
            if (para->len)
                g_ptr_array_add(paras, g_strdup(para->str));
            g_string_assign(para, line);
            last_indented = indented;
        } else {
            g_string_append(para, line);
        }
    }
    if (para->len)
        g_ptr_array_add(paras, g_strdup(para->str));
    g_string_free(para, TRUE);
    GString *out = g_string_new(NULL);
    bool brk = false;
    for (guint i = 0; i < paras->len; i++) {
        const char *pt = paras->pdata[i];
        if (brk) {
            g_string_append_c(out, '\n');
            brk = false;
        }
        if (strcmp(pt, "\n") == 0) {
            g_string_append_c(out, '\n');
        } else if (ws(pt[0])) {
            g_string_append(out, pt); /* indented: verbatim */
        } else {
            fill(out, pt, 70);
            brk = true;
        }
    }
    g_ptr_array_unref(paras);
    return g_string_free(out, FALSE);
}

/* ---- the handler ---- */

char *post_dmarc_realname(const char *name)
{
    g_autofree char *valid = g_utf8_make_valid(name, -1);
    GRegex *re = g_regex_new("@([^ .]+\\.)+[^ .]+$", 0, 0, NULL);
    char *out = g_regex_replace_literal(re, valid, -1, 0, "---", 0, NULL);
    g_regex_unref(re);
    if (out == NULL)
        out = g_strdup(valid);
    return out;
}

struct field {
    const char *name;
    char *value;
    bool raw; /* as it was (the "other" header when wrapping) */
};

static bool is_no_munging(const struct store_list *l)
{
    const char *v = store_list_attr(l, "reply_goes_to_list");
    return v == NULL || strcmp(v, "no_munging") == 0;
}

/* The display name of the member or nonmember email, or "". */
static char *member_name(struct post_ctx *c, const char *email)
{
    g_autofree char *low = g_utf8_strdown(email, -1);
    static const int roles[] = {STORE_ROLE_MEMBER, STORE_ROLE_NONMEMBER};
    for (size_t i = 0; i < G_N_ELEMENTS(roles); i++) {
        struct store_member *m = NULL;
        char *err = NULL;
        if (store_member_get_by_email(c->st, c->list->list_id, low, roles[i], &m, &err) < 0) {
            log_error("dmarc: %s: %s", c->list->list_id, err);
            g_free(err);
            return g_strdup("");
        }
        if (m) {
            const char *n = m->display_name && *m->display_name             ? m->display_name
                            : m->user_display_name && *m->user_display_name ? m->user_display_name
                                                                            : email;
            char *out = g_strdup(n);
            store_member_free(m);
            return out;
        }
    }
    return g_strdup("");
}

/* Mailman's munged_headers(): From "<name> via <Display>" <list>, and the
 * original From added to Reply-To (no Reply-To munging) or else Cc. */
static GArray *munged_headers(struct post_ctx *c, const struct pmsg *msg, bool wrapping)
{
    g_autoptr(GPtrArray) all = pmsg_mailboxes(msg, "From");
    GPtrArray *froms = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++)
        if (strchr(((struct pmsg_mailbox *)all->pdata[i])->addr, '@'))
            g_ptr_array_add(froms, all->pdata[i]);
    const char *orig_name = "", *email;
    if (froms->len == 1) {
        orig_name = ((struct pmsg_mailbox *)froms->pdata[0])->name;
        email = ((struct pmsg_mailbox *)froms->pdata[0])->addr;
    } else {
        email = c->senders->len ? c->senders->pdata[0] : "";
    }
    g_ptr_array_unref(froms);
    g_autofree char *looked_up = *orig_name ? NULL : member_name(c, email);
    const char *realname = *orig_name ? orig_name : *looked_up ? looked_up : email;
    g_autofree char *rn = post_dmarc_realname(realname);
    const char *display = store_list_attr(c->list, "display_name");
    g_autofree char *via = g_strdup_printf("%s via %s", rn, display ? display : "");
    GArray *out = g_array_new(FALSE, TRUE, sizeof(struct field));
    struct field f = {"From", pmsg_formataddr(via, c->list->fqdn_listname), false};
    g_array_append_val(out, f);
    bool reply_to = is_no_munging(c->list);
    const char *add_to = reply_to ? "Reply-To" : "Cc", *other = reply_to ? "Cc" : "Reply-To";
    g_autoptr(GPtrArray) orig = pmsg_mailboxes(msg, add_to);
    GString *v = g_string_new(NULL);
    bool present = false;
    for (guint i = 0; i < orig->len; i++) {
        struct pmsg_mailbox *b = orig->pdata[i];
        g_autofree char *one = pmsg_formataddr(b->name, b->addr);
        g_string_append_printf(v, "%s%s", v->len ? ", " : "", one);
        present |= strcmp(b->addr, email) == 0;
    }
    if (!present) {
        g_autofree char *one = pmsg_formataddr(orig_name, email);
        g_string_append_printf(v, "%s%s", v->len ? ", " : "", one);
    }
    f = (struct field){add_to, g_string_free(v, FALSE), false};
    g_array_append_val(out, f);
    const char *raw = pmsg_get_raw(msg, other);
    if (wrapping && raw) {
        f = (struct field){other, g_strdup(raw), true};
        g_array_append_val(out, f);
    }
    return out;
}

static void put(struct pmsg *m, const struct field *f)
{
    if (f->raw) {
        /* the raw text after the colon, as Mailman copies msg.get(other) */
        pmsg_append(m, f->name, f->value[0] == ' ' ? f->value + 1 : f->value);
        return;
    }
    /* An address list: ASCII after formataddr; folded at ", " past 78. */
    GString *v = g_string_new(NULL);
    gsize col = strlen(f->name) + 2;
    g_auto(GStrv) items = g_strsplit(f->value, ", ", -1);
    for (char **p = items; *p; p++) {
        if (p != items) {
            bool fold = col + 2 + strlen(*p) > 78;
            g_string_append(v, fold ? ",\n " : ", ");
            col = fold ? 1 : col + 2;
        }
        g_string_append(v, *p);
        col += strlen(*p);
    }
    pmsg_append(m, f->name, v->str);
    g_string_free(v, TRUE);
}

static void fields_free(GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_free(g_array_index(a, struct field, i).value);
    g_array_unref(a);
}

static void munge_from(struct post_ctx *c)
{
    GArray *h = munged_headers(c, c->msg, false);
    for (guint i = 0; i < h->len; i++) {
        pmsg_remove(c->msg, g_array_index(h, struct field, i).name);
        put(c->msg, &g_array_index(h, struct field, i));
    }
    fields_free(h);
}

/* Headers of the post that stay on the wrapper (prefixes, any case). */
static const char *const keepers[] = {"archived-at", "date",       "in-reply-to",
                                      "list-",       "precedence", "references",
                                      "subject",     "to",         "x-mailman-"};

static bool keep(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keepers); i++)
        if (g_ascii_strncasecmp(name, keepers[i], strlen(keepers[i])) == 0)
            return true;
    return false;
}

/* The multipart/mixed body: the wrapped text, then the post as a
 * message/rfc822 part, both inline. NULL when GMime cannot parse the post. */
static char *wrapped_body(const char *text, const char *raw, size_t len)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        g_mime_init();
        g_once_init_leave(&once, 1);
    }
    GMimeMessage *orig = gmime_safe_message_parse(raw, len);
    if (orig == NULL)
        return NULL;
    GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
    g_autofree char *wrapped = post_dmarc_wrap(text);
    /* us-ascii or UTF-8, labelled as what it is (notice.h) */
    GMimeTextPart *t = notice_text_part(wrapped);
    g_mime_object_set_disposition(GMIME_OBJECT(t), "inline");
    g_mime_multipart_add(mp, GMIME_OBJECT(t));
    g_object_unref(t);
    GMimeMessagePart *mpart = g_mime_message_part_new_with_message("rfc822", orig);
    g_object_unref(orig);
    g_mime_object_set_disposition(GMIME_OBJECT(mpart), "inline");
    g_mime_multipart_add(mp, GMIME_OBJECT(mpart));
    g_object_unref(mpart);
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    char *out = g_mime_object_to_string(GMIME_OBJECT(mp), fo);
    g_mime_format_options_free(fo);
    g_object_unref(mp);
    return out;
}

static void wrap_message(struct post_ctx *c)
{
    size_t len;
    g_autofree char *raw = pmsg_serialize(c->msg, &len);
    g_autoptr(pmsg) orig = pmsg_parse(raw, len);
    const char *text = store_list_attr(c->list, "dmarc_wrapped_message_text");
    g_autofree char *body = NULL;
    if (text && *text && (body = wrapped_body(text, raw, len)) == NULL) {
        log_error("dmarc: %s: cannot parse the post to wrap it; left as it is", c->list->list_id);
        return;
    }
    GArray *h = munged_headers(c, orig, true);
    for (guint i = c->msg->fields->len; i-- > 0;) {
        struct pmsg_field *f = c->msg->fields->pdata[i];
        if (!keep(f->name))
            g_ptr_array_remove_index(c->msg->fields, i);
    }
    pmsg_append(c->msg, "MIME-Version", "1.0");
    g_autofree char *id = g_mime_utils_generate_message_id(c->list->mail_host);
    g_autofree char *idv = g_strdup_printf("<%s>", id);
    pmsg_append(c->msg, "Message-ID", idv);
    for (guint i = 0; i < h->len; i++)
        put(c->msg, &g_array_index(h, struct field, i));
    fields_free(h);
    g_free(c->msg->body);
    if (body) {
        /* the multipart's own header fields (Content-Type with its
         * boundary) go on the wrapper, then its body */
        g_autoptr(pmsg) mp = pmsg_parse(body, strlen(body));
        for (guint i = 0; i < mp->fields->len; i++) {
            struct pmsg_field *f = mp->fields->pdata[i];
            pmsg_append(c->msg, f->name, f->value[0] == ' ' ? f->value + 1 : f->value);
        }
        c->msg->body = g_steal_pointer(&mp->body);
        c->msg->body_len = mp->body_len;
    } else {
        pmsg_append(c->msg, "Content-Type", "message/rfc822");
        pmsg_append(c->msg, "Content-Disposition", "inline");
        c->msg->body = g_steal_pointer(&raw);
        c->msg->body_len = len;
    }
}

void post_dmarc_handler(struct post_ctx *c)
{
    bool unconditionally = store_list_attr_bool(c->list, "dmarc_mitigate_unconditionally");
    if (!queue_meta_get(c->meta, "dmarc") && !unconditionally)
        return;
    const char *a = action(c);
    if (strcmp(a, "no_mitigation") == 0 || store_list_attr_bool(c->list, "anonymous_list"))
        return;
    if (strcmp(a, "munge_from") == 0)
        munge_from(c);
    else if (strcmp(a, "wrap_message") == 0)
        wrap_message(c);
    else /* reject or discard with unconditionally and no policy found */
        log_error("Invalid DMARC combination for list: %s", c->list->fqdn_listname);
}
