/* runner_command - see runner_command.h. The structure is Mailman's
 * runners/command.py: CommandFinder (which lines), the loop (which
 * command), Results (what the reply says). */
#include "runner/runner_command.h"

#include "config/config.h"
#include "lib/log.h"
#include "lib/regex.h"
#include "mail/gmime_safe.h"
#include "post/pmsg.h"
#include "queue/queue.h"
#include "runner/runner.h"
#include "runner/runner_command_eml.h"
#include "store/store.h"
#include "workflow/workflow.h"
#include "workflow/workflow_mail.h"

#include <gmime/gmime.h>
#include <string.h>

struct command_state {
    struct store *st;
    GRegex *confirm_re; /* [mta] verp_confirm_regexp */
};

int runner_command_start(struct runner *r, char **error_r)
{
    struct command_state *s = g_new0(struct command_state, 1);
    r->state = s;
    g_mime_init();
    s->confirm_re = regex_compile(config_get(r->cfg, "mta", "verp_confirm_regexp"), error_r);
    if (s->confirm_re == NULL)
        return -1;
    g_autofree char *url = config_expand(r->cfg, config_get(r->cfg, "database", "url"), NULL);
    return store_open(url, &s->st, error_r);
}

void runner_command_stop(struct runner *r)
{
    struct command_state *s = r->state;
    if (s == NULL)
        return;
    if (s->st)
        store_close(s->st);
    if (s->confirm_re)
        g_regex_unref(s->confirm_re);
    g_free(s);
    r->state = NULL;
}

/* ---- CommandFinder ---- */

struct finder {
    GPtrArray *lines; /* command lines, in order */
    guint next;       /* the next one to process */
    GString *ignored; /* the stripped, non-empty lines past the limit */
    bool implicit;    /* the address said what to do */
};

/* Python's str.splitlines(): \n, \r\n, \r, \v, \f, \x1c-\x1e, U+0085,
 * U+2028, U+2029 end a line; no empty last line. */
static void split_lines(const char *text, long long max, struct finder *f)
{
    long long n = 0;
    const char *p = text, *start = text;
    while (*p) {
        size_t brk = 0, skip = 0;
        unsigned char ch = (unsigned char)*p;
        if (ch == '\r')
            brk = 1, skip = p[1] == '\n' ? 2 : 1;
        else if (ch == '\n' || ch == '\v' || ch == '\f' || (ch >= 0x1c && ch <= 0x1e))
            brk = skip = 1;
        else if (ch == 0xc2 && (unsigned char)p[1] == 0x85)
            brk = skip = 2;
        else if (ch == 0xe2 && (unsigned char)p[1] == 0x80 &&
                 ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
            brk = skip = 3;
        if (brk == 0) {
            p++;
            if (*p)
                continue;
        }
        g_autofree char *line = g_strndup(start, (gsize)(p - start));
        if (n++ < max) {
            g_ptr_array_add(f->lines, g_steal_pointer(&line));
        } else if (*line) {
            g_strstrip(line);
            g_string_append(f->ignored, line);
            g_string_append_c(f->ignored, '\n');
        }
        p += skip;
        start = p;
    }
}

static GMimeObject *first_plain(GMimeObject *o, int depth)
{
    if (o == NULL || depth > 32)
        return NULL;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
            GMimeObject *t = first_plain(g_mime_multipart_get_part(mp, i), depth + 1);
            if (t)
                return t;
        }
        return NULL;
    }
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        return inner ? first_plain(g_mime_message_get_mime_part(inner), depth + 1) : NULL;
    }
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    if (GMIME_IS_TEXT_PART(o) && g_mime_content_type_is_type(ct, "text", "plain"))
        return o;
    return NULL;
}

/* The Subject (ASCII only), then the body's lines. */
static void find_in_message(struct runner *r, const struct queue_entry *e, const struct pmsg *m,
                            struct finder *f, GString *out)
{
    g_autofree char *subject = pmsg_get(m, "Subject");
    GString *ascii = g_string_new(NULL);
    for (const char *p = subject ? subject : ""; *p; p++)
        if ((unsigned char)*p < 0x80)
            g_string_append_c(ascii, *p);
    g_ptr_array_add(f->lines, g_string_free(ascii, FALSE));

    GMimeMessage *msg = gmime_safe_message_parse(e->msg, e->msg_len);
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    GMimeObject *part = first_plain(top, 0);
    if (part == NULL || part != top)
        g_string_append(out, "Ignoring non-text/plain MIME parts\n");
    if (part) {
        char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
        char *valid = g_utf8_make_valid(text ? text : "", -1);
        split_lines(valid, config_get_int(r->cfg, "mailman", "email_commands_max_lines"), f);
        g_free(valid);
        g_free(text);
    }
    if (msg)
        g_object_unref(msg);
}

static void finder_init(struct runner *r, const struct queue_entry *e, const struct pmsg *m,
                        struct command_ctx *c, struct finder *f)
{
    struct command_state *s = r->state;
    f->lines = g_ptr_array_new_with_free_func(g_free);
    f->ignored = g_string_new(NULL);
    c->send_response = true;
    const char *sub = queue_meta_get(e->meta, "subaddress");
    if (sub && (strcmp(sub, "join") == 0 || strcmp(sub, "leave") == 0)) {
        g_ptr_array_add(f->lines, g_strdup(sub));
        f->implicit = true;
    } else if (sub && strcmp(sub, "confirm") == 0) {
        /* re.match(verp_confirm_regexp, To, re.DOTALL) */
        const char *raw = pmsg_get_raw(m, "To");
        g_autofree char *to = g_strdup(raw ? raw : "");
        char *w = to;
        for (const char *p = to; *p; p++)
            if (*p != '\r' && *p != '\n')
                *w++ = *p;
        *w = '\0';
        g_strchug(to);
        GMatchInfo *mi = NULL;
        if (g_utf8_validate(to, -1, NULL) &&
            g_regex_match(s->confirm_re, to, G_REGEX_MATCH_ANCHORED, &mi)) {
            g_autofree char *cookie = g_match_info_fetch_named(mi, "cookie");
            if (cookie && *cookie) {
                g_ptr_array_add(f->lines, g_strdup_printf("confirm %s", cookie));
                f->implicit = true;
            }
        }
        g_match_info_free(mi);
    }
    if (f->implicit)
        c->send_response = false;
    else
        find_in_message(r, e, m, f, c->out);
}

static void finder_clear(struct finder *f)
{
    g_ptr_array_unref(f->lines);
    g_string_free(f->ignored, TRUE);
}

/* line.strip().split(), lower-cased; NULL when empty. */
static char **words(const char *line)
{
    g_auto(GStrv) raw = g_strsplit_set(line, " \t\n\r\v\f\x1c\x1d\x1e\x1f", -1);
    GPtrArray *v = g_ptr_array_new();
    for (char **w = raw; *w; w++)
        if (**w)
            g_ptr_array_add(v, g_utf8_strdown(*w, -1));
    if (v->len == 0) {
        g_ptr_array_free(v, TRUE);
        return NULL;
    }
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(v, FALSE);
}

/* Runs the command lines; -1 when the store failed. */
static int run_commands(struct command_ctx *c, struct finder *f)
{
    while (f->next < f->lines->len) {
        g_auto(GStrv) parts = words(f->lines->pdata[f->next++]);
        if (parts == NULL)
            continue;
        /* there may be a Re: (or some such) first: try the second word */
        size_t i = 0;
        const struct command *cmd = runner_command_eml_find(parts[i++]);
        if (cmd == NULL && parts[i])
            cmd = runner_command_eml_find(parts[i++]);
        if (cmd == NULL) {
            g_string_append_printf(c->out, "No such command: %s\n", parts[i - 1]);
            continue;
        }
        enum command_status st = cmd->process(c, cmd, parts + i);
        if (st == COMMAND_FAIL)
            return -1;
        if (st == COMMAND_STOP)
            break;
    }
    return 0;
}

static char *header_or(const struct pmsg *m, const char *name)
{
    char *v = pmsg_get(m, name);
    return v ? v : g_strdup("n/a");
}

static bool bulk(const struct pmsg *m, char **precedence_r)
{
    g_autofree char *ack = pmsg_get(m, "X-Ack");
    char *p = pmsg_get(m, "Precedence");
    *precedence_r = p;
    if (ack && g_ascii_strcasecmp(ack, "yes") == 0)
        return false;
    return p && (g_ascii_strcasecmp(p, "bulk") == 0 || g_ascii_strcasecmp(p, "junk") == 0 ||
                 g_ascii_strcasecmp(p, "list") == 0);
}

/* The reply, when the sender may get one today. */
static int reply(struct command_ctx *c, struct finder *f, char **error_r)
{
    GString *out = c->out;
    GString *rest = g_string_new(NULL);
    for (guint i = f->next; i < f->lines->len; i++) {
        const char *line = f->lines->pdata[i];
        if (*line == '\0')
            continue;
        g_autofree char *stripped = g_strstrip(g_strdup(line));
        g_string_append_printf(rest, "%s\n", stripped);
    }
    if (rest->len)
        g_string_append_printf(out, "\n- Unprocessed:\n%s", rest->str);
    g_string_free(rest, TRUE);
    if (f->ignored->len)
        g_string_append_printf(out, "\n- Ignored:\n%s", f->ignored->str);
    g_string_append(out, "\n- Done.\n");
    if (c->sender == NULL)
        return 0;
    int ok = workflow_autorespond_ok(&c->w, c->l, WORKFLOW_RESPONSE_RESULTS, c->sender, error_r);
    if (ok <= 0)
        return ok;
    const struct store_list *l = c->l;
    g_autofree char *bounces = g_strdup_printf("%s-bounces@%s", l->list_name, l->mail_host);
    const char *rcpts[] = {c->sender, NULL};
    return workflow_mail_send(&c->w, l, bounces, NULL, rcpts, "The results of your email commands",
                              out->str, 0, NULL, error_r);
}

/* The results: the header, the commands, the reply. */
static int run_and_reply(struct runner *r, struct queue_entry *e, const struct pmsg *m,
                         struct command_ctx *c, char **error_r)
{
    g_autoptr(GPtrArray) senders = pmsg_senders(m, config_get(r->cfg, "mailman", "sender_headers"));
    c->sender = senders->len ? senders->pdata[0] : NULL;
    g_autofree char *msgid = header_or(m, "Message-ID");
    g_autofree char *from = header_or(m, "From");
    g_autofree char *subject = header_or(m, "Subject");
    g_autofree char *date = header_or(m, "Date");
    g_string_append_printf(c->out,
                           "- Original message details:\n    From: %s\n    Subject: %s\n"
                           "    Date: %s\n    Message-ID: %s\n\n- Results:\n",
                           from, subject, date, msgid);
    struct finder f = {0};
    finder_init(r, e, m, c, &f);
    int rc = run_commands(c, &f);
    if (rc < 0 && error_r)
        *error_r = g_strdup("the store failed while running a command");
    if (rc == 0 && c->send_response)
        rc = reply(c, &f, error_r) < 0 ? -1 : 0;
    finder_clear(&f);
    return rc;
}

static int process(struct runner *r, struct queue_entry *e, const struct store_list *l,
                   const struct pmsg *m, char **error_r)
{
    struct command_state *s = r->state;
    g_autofree char *msgid = header_or(m, "Message-ID");
    g_autofree char *precedence = NULL;
    if (bulk(m, &precedence)) {
        g_autofree char *lower = g_ascii_strdown(precedence, -1);
        log_to("vette", LOG_LEVEL_INFO, "%s Precedence: %s message discarded by: %s-request@%s",
               msgid, lower, l->list_name, l->mail_host);
        return 0;
    }
    struct command_ctx c = {
        .w = {.cfg = r->cfg, .st = s->st, .qroot = r->qroot},
        .l = l,
        .msg = m,
        .out = g_string_new("The results of your email command are provided below.\n\n"),
        .joins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .confirms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .leaves = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    int rc = workflow_replybot(&c.w, l, m, e->meta, error_r);
    const char *action = store_list_attr(l, "autorespond_requests");
    if (rc >= 0 && action && strcmp(action, "respond_and_discard") == 0)
        log_to("vette", LOG_LEVEL_INFO, "%s -request message replied and discarded", msgid);
    else if (rc >= 0)
        rc = run_and_reply(r, e, m, &c, error_r);
    g_string_free(c.out, TRUE);
    g_hash_table_unref(c.joins);
    g_hash_table_unref(c.confirms);
    g_hash_table_unref(c.leaves);
    return rc < 0 ? -1 : 0;
}

int runner_command_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct command_state *s = r->state;
    const char *listid = queue_meta_get(e->meta, "listid");
    struct store_list *l = NULL;
    if (listid == NULL) {
        *error_r = g_strdup("no listid in the entry");
        return -1;
    }
    if (store_list_get(s->st, listid, &l, error_r) < 0)
        return -1;
    if (l == NULL) {
        log_error("command: dropping a message for the missing list %s", listid);
        return queue_finish(e, error_r);
    }
    struct pmsg *m = pmsg_parse(e->msg, e->msg_len);
    int rc = process(r, e, l, m, error_r);
    pmsg_free(m);
    store_list_free(l);
    return rc < 0 ? -1 : queue_finish(e, error_r);
}
