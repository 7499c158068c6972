/* runner_command_eml - see runner_command_eml.h. Texts are Mailman
 * 3.3.8's, byte for byte. */
#include "runner/runner_command_eml.h"

#include "lib/log.h"
#include "post/pmsg.h"
#include "post/post.h"
#include "post/post_moderate.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static void print(struct command_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void print(struct command_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_string_append_vprintf(c->out, fmt, ap);
    va_end(ap);
    g_string_append_c(c->out, '\n');
}

static bool seen(GHashTable *set, const char *key)
{
    if (g_hash_table_contains(set, key))
        return true;
    g_hash_table_add(set, g_strdup(key));
    return false;
}

/* ---- confirm ---- */

/* The password of an Approved: (Approve:, X-Approved:, X-Approve:)
 * header, or of such a line first in the first text/plain part; NULL when
 * there is none (the approved rule's _get_password). */
static char *approved_password(const struct pmsg *m)
{
    static const char *const names[] = {"approved", "approve", "x-approved", "x-approve"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        char *v = pmsg_get(m, names[i]);
        if (v)
            return v;
    }
    g_autofree char *text = pmsg_first_text(m);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        g_strstrip(*line);
        if (**line == '\0')
            continue;
        const char *colon = strchr(*line, ':');
        if (colon == NULL)
            return NULL;
        g_autofree char *name = g_ascii_strdown(*line, colon - *line);
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
            if (strcmp(name, names[i]) == 0)
                return g_strstrip(g_strdup(colon + 1));
        return NULL;
    }
    return NULL;
}

/* A "held message" token (from the moderator's notice): an Approved:
 * with the list's moderator password accepts the post, no Approved:
 * discards it (eml_confirm.process_held). */
static enum command_status confirm_held(struct command_ctx *c, const struct store_pending *p)
{
    const char *id = NULL, *list_id = NULL;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], "id") == 0)
            id = p->values[i];
        else if (strcmp(p->keys[i], "list_id") == 0)
            list_id = p->values[i];
    if (list_id == NULL || strcmp(list_id, c->l->list_id) != 0) {
        /* another list's held post: not for this list's -request */
        print(c, "Confirmation token did not match");
        return COMMAND_STOP;
    }
    const char *stored = store_list_attr(c->l, "moderator_password");
    bool has_pw = stored && *stored;
    g_autofree char *given = has_pw ? approved_password(c->msg) : NULL;
    enum post_decision d;
    if (given && post_password_ok(stored, given)) {
        d = POST_DECIDE_ACCEPT;
    } else if (given == NULL) {
        d = POST_DECIDE_DISCARD;
    } else {
        print(c, "Invalid Approved: password");
        return COMMAND_STOP;
    }
    char *err = NULL;
    int rc = id ? post_moderate(c->w.st, c->w.cfg, c->w.qroot, c->l, atoi(id), d, NULL, &err) : 0;
    if (rc < 0) {
        log_error("command: held message %s of %s: %s", id, c->l->fqdn_listname, err);
        g_free(err);
        return COMMAND_FAIL;
    }
    if (rc == 0)
        print(c, "Confirmation token did not match");
    else
        print(c, "Message %s", d == POST_DECIDE_ACCEPT ? "accepted" : "discarded");
    return COMMAND_STOP;
}

static enum command_status cmd_confirm(struct command_ctx *c, const struct command *self,
                                       char **args)
{
    if (args[0] == NULL) {
        print(c, "No confirmation token found");
        return COMMAND_STOP;
    }
    const char *token = args[0];
    if (seen(c->confirms, token))
        return COMMAND_STOP;
    char *err = NULL;
    struct store_pending *p = NULL;
    if (strlen(token) == 40 && store_pending_get(c->w.st, token, &p, &err) < 0) {
        log_error("command: %s", err);
        g_free(err);
        return COMMAND_FAIL;
    }
    if (p == NULL) {
        print(c, "Confirmation token did not match");
        c->send_response = true;
        return COMMAND_STOP;
    }
    if (strcmp(p->type, "held message") == 0) {
        enum command_status st = confirm_held(c, p);
        store_pending_free(p);
        return st;
    }
    store_pending_free(p);
    struct workflow_result r;
    int rc = workflow_confirm(&c->w, c->l, token, &r, &err);
    bool ok = false;
    if (rc == 0) {
        ok = r.token == NULL || r.token_owner == WORKFLOW_OWNER_MODERATOR;
        workflow_result_clear(&r);
    } else if (rc == WORKFLOW_ALREADY_MEMBER || rc == WORKFLOW_BANNED) {
        print(c, "%s", err);
        g_free(err);
        return COMMAND_STOP;
    } else if (rc != WORKFLOW_NO_TOKEN) {
        log_error("command: confirm for %s: %s", c->l->fqdn_listname, err);
        g_free(err);
        return COMMAND_FAIL;
    }
    g_free(err);
    print(c, ok ? "Confirmed" : "Confirmation token did not match");
    return COMMAND_STOP;
}

/* ---- echo, end ---- */

static enum command_status cmd_echo(struct command_ctx *c, const struct command *self, char **args)
{
    g_autofree char *joined = g_strjoinv(" ", args);
    print(c, "echo %s", joined);
    return COMMAND_CONTINUE;
}

static enum command_status cmd_end(struct command_ctx *c, const struct command *self, char **args)
{
    return COMMAND_STOP;
}

/* ---- join / subscribe ---- */

static bool email_ok(const char *email)
{
    const char *at = strchr(email, '@');
    return at && at != email && at[1] && !strchr(at + 1, '@') && !strpbrk(email, " \t<>,;\"()");
}

static enum command_status cmd_join(struct command_ctx *c, const struct command *self, char **args)
{
    int mode = STORE_DELIVERY_REGULAR;
    const char *address = NULL;
    for (char **a = args; *a; a++) {
        const char *eq = strchr(*a, '=');
        bool digest = eq && eq - *a == 6 && strncmp(*a, "digest", 6) == 0;
        bool addr = eq && eq - *a == 7 && strncmp(*a, "address", 7) == 0;
        if (!digest && !addr) {
            print(c, "%s bad argument: %s", self->name, *a);
            return COMMAND_STOP;
        }
        if (digest) {
            const char *v = eq + 1;
            mode = strcmp(v, "no") == 0      ? STORE_DELIVERY_REGULAR
                   : strcmp(v, "plain") == 0 ? STORE_DELIVERY_PLAINTEXT_DIGESTS
                   : strcmp(v, "mime") == 0  ? STORE_DELIVERY_MIME_DIGESTS
                                             : -1;
            if (mode < 0) {
                print(c, "%s bad argument: %s", self->name, *a);
                return COMMAND_STOP;
            }
        } else {
            address = eq + 1;
        }
    }
    g_autofree char *name = NULL, *email = NULL;
    if (address == NULL || *address == '\0') {
        g_autoptr(GPtrArray) from = pmsg_mailboxes(c->msg, "From");
        if (from->len > 0) {
            const struct pmsg_mailbox *b = from->pdata[0];
            name = g_strdup(b->name);
            email = g_strdup(b->addr);
        }
    } else {
        email = g_strdup(address);
    }
    if ((email == NULL || *email == '\0') && c->sender) {
        g_free(email);
        email = g_strdup(c->sender);
    }
    if (email == NULL || *email == '\0') {
        print(c, "%s: No valid address found to subscribe", self->name);
        return COMMAND_STOP;
    }
    if (seen(c->joins, email))
        return COMMAND_CONTINUE;
    g_autofree char *person = pmsg_formataddr(name, email);
    if (!email_ok(email)) {
        print(c, "Invalid email address: %s", email);
        return COMMAND_CONTINUE;
    }
    struct workflow_subscribe_opts o = WORKFLOW_SUBSCRIBE_OPTS_INIT;
    o.display_name = name;
    o.delivery_mode = mode;
    struct workflow_result r;
    char *err = NULL;
    int rc = workflow_subscribe(&c->w, c->l, email, &o, &r, &err);
    switch (rc) {
    case 0:
        workflow_result_clear(&r);
        print(c, "Confirmation email sent to %s", person);
        break;
    case WORKFLOW_PENDING:
        print(c, "%s has a pending subscription for %s", person, c->l->fqdn_listname);
        c->send_response = true;
        break;
    case WORKFLOW_ALREADY_MEMBER:
    case WORKFLOW_BANNED:
    case WORKFLOW_INVALID_EMAIL:
        print(c, "%s", err);
        c->send_response = true;
        break;
    default:
        log_error("command: join %s: %s", c->l->fqdn_listname, err);
        g_free(err);
        return COMMAND_FAIL;
    }
    g_free(err);
    return COMMAND_CONTINUE;
}

/* ---- leave / unsubscribe ---- */

struct leave_find {
    struct command_ctx *c;
    char *member_email; /* the first verified address of the user that is a member */
    int rc;
};

static int leave_candidate(const struct store_address *a, void *ctx)
{
    struct leave_find *f = ctx;
    if (a->verified_on == 0)
        return 0;
    struct store_member *m = NULL;
    f->rc = store_member_get_by_email(f->c->w.st, f->c->l->list_id, a->email, STORE_ROLE_MEMBER, &m,
                                      NULL);
    if (m) {
        f->member_email = g_strdup(a->email);
        store_member_free(m);
        return 1;
    }
    return f->rc < 0;
}

static enum command_status cmd_leave(struct command_ctx *c, const struct command *self, char **args)
{
    const char *email = c->sender;
    if (email == NULL) {
        print(c, "%s: No valid email address found to unsubscribe", self->name);
        return COMMAND_STOP;
    }
    struct store *st = c->w.st;
    struct store_user *u = NULL;
    struct store_address *a = NULL;
    char *err = NULL;
    if (store_user_get_by_email(st, email, &u, &err) < 0 ||
        (u && store_address_get(st, email, &a, &err) < 0)) {
        log_error("command: leave: %s", err);
        g_free(err);
        store_user_free(u);
        return COMMAND_FAIL;
    }
    enum command_status status = COMMAND_STOP;
    if (u == NULL) {
        print(c, "No registered user for email address: %s", email);
        c->send_response = true;
        goto out;
    }
    if (a == NULL || a->verified_on == 0) {
        print(c, "Invalid or unverified email address: %s", email);
        c->send_response = true;
        goto out;
    }
    struct leave_find f = {.c = c};
    if (store_address_foreach(st, u->user_id, leave_candidate, &f, &err) < 0 || f.rc < 0) {
        log_error("command: leave: %s", err ? err : "the store failed");
        g_free(err);
        g_free(f.member_email);
        status = COMMAND_FAIL;
        goto out;
    }
    bool left = g_hash_table_contains(c->leaves, email);
    if (f.member_email == NULL && !left) {
        print(c, "%s: %s is not a member of %s", self->name, email, c->l->fqdn_listname);
        goto out;
    }
    status = COMMAND_CONTINUE;
    if (left) {
        g_free(f.member_email);
        goto out;
    }
    g_hash_table_add(c->leaves, g_strdup(email));
    struct workflow_result r;
    int rc = workflow_unsubscribe(&c->w, c->l, f.member_email, false, false, &r, &err);
    g_free(f.member_email);
    if (rc < 0) {
        log_error("command: leave %s: %s", c->l->fqdn_listname, err);
        g_free(err);
        status = COMMAND_FAIL;
        goto out;
    }
    char *person = pmsg_formataddr(u->display_name, email);
    if (r.member_id == NULL)
        print(c, "%s left %s", person, c->l->fqdn_listname);
    else
        print(c, "Confirmation email sent to %s to leave %s", person, c->l->fqdn_listname);
    g_free(person);
    workflow_result_clear(&r);
out:
    store_user_free(u);
    store_address_free(a);
    return status;
}

/* ---- who ---- */

struct who {
    int delivery; /* 0 any, 1 enabled, 2 disabled */
    int mode;     /* 0 any, 1 regular, 2 digest */
    GPtrArray *lines;
};

static int who_member(const struct store_member *m, void *ctx)
{
    struct who *w = ctx;
    bool enabled = m->delivery_status == STORE_DELIVERY_ENABLED;
    bool regular = m->delivery_mode == STORE_DELIVERY_REGULAR;
    if ((w->delivery == 1 && !enabled) || (w->delivery == 2 && enabled) ||
        (w->mode == 1 && !regular) || (w->mode == 2 && regular))
        return 0;
    const char *name = m->display_name && *m->display_name ? m->display_name : m->user_display_name;
    g_autofree char *addr = pmsg_formataddr(name, m->email);
    g_ptr_array_add(w->lines, g_strdup_printf("    %s", addr));
    return 0;
}

static int has_role(struct command_ctx *c, int role)
{
    if (c->sender == NULL)
        return 0;
    struct store_member *m = NULL;
    int rc = store_member_get_by_email(c->w.st, c->l->list_id, c->sender, role, &m, NULL);
    store_member_free(m);
    return rc;
}

static enum command_status cmd_who(struct command_ctx *c, const struct command *self, char **args)
{
    const char *vis = store_list_attr(c->l, "member_roster_visibility");
    bool admin = has_role(c, STORE_ROLE_OWNER) == 1 || has_role(c, STORE_ROLE_MODERATOR) == 1;
    bool show =
        (vis && strcmp(vis, "public") == 0) ||
        (vis && strcmp(vis, "members") == 0 && (has_role(c, STORE_ROLE_MEMBER) == 1 || admin)) ||
        (vis && strcmp(vis, "moderators") == 0 && admin);
    if (!show) {
        print(c, "You are not authorized to see the membership list.");
        return COMMAND_STOP;
    }
    struct who w = {0};
    GString *bad = g_string_new(NULL);
    for (char **a = args; *a; a++) {
        if (strcmp(*a, "delivery=enabled") == 0 || strcmp(*a, "delivery=disabled") == 0)
            w.delivery = (*a)[9] == 'e' ? 1 : 2;
        else if (strcmp(*a, "mode=regular") == 0 || strcmp(*a, "mode=digest") == 0)
            w.mode = (*a)[5] == 'r' ? 1 : 2;
        else
            g_string_append_printf(bad, "%s%s", bad->len ? "\n" : "", *a);
    }
    if (bad->len) {
        print(c, "Unrecognized or invalid argument(s):\n%s", bad->str);
        g_string_free(bad, TRUE);
        return COMMAND_STOP;
    }
    g_string_free(bad, TRUE);
    w.lines = g_ptr_array_new_with_free_func(g_free);
    struct store_roster_filter f = {.list_id = c->l->list_id,
                                    .role_mask = STORE_MASK(STORE_ROLE_MEMBER)};
    char *err = NULL;
    if (store_roster(c->w.st, &f, who_member, &w, &err) < 0) {
        log_error("command: who: %s", err);
        g_free(err);
        g_ptr_array_unref(w.lines);
        return COMMAND_FAIL;
    }
    g_ptr_array_add(w.lines, NULL);
    g_autofree char *joined = g_strjoinv("\n", (char **)w.lines->pdata);
    print(c, "Members of the %s mailing list:\n%s", c->l->fqdn_listname, joined);
    g_ptr_array_unref(w.lines);
    return COMMAND_CONTINUE;
}

/* ---- the table ---- */

static enum command_status cmd_help(struct command_ctx *c, const struct command *self, char **args);

#define JOIN_ARGS "[digest=<no|mime|plain>] [address=user@example.com]"

static const struct command commands[] = {
    {"confirm", "token", "Confirm a subscription or held message request.", NULL, cmd_confirm},
    {"echo", "[args]", "Echo back your arguments.", NULL, cmd_echo},
    {"end", "", "Stop processing commands.", NULL, cmd_end},
    {"help", "[command]", "Get help about available email commands.", NULL, cmd_help},
    {"join", JOIN_ARGS, "Join this mailing list.",
     "You will be asked to confirm your subscription request and you may be\n"
     "issued a provisional password.\n\n"
     "By using the 'digest' option, you can specify whether you want digest\n"
     "delivery or not.  If not specified, the mailing list's default\n"
     "delivery mode will be used.  You can use the 'address' option to\n"
     "request subscription of an address other than the sender of the\n"
     "command.",
     cmd_join},
    {"leave", "", "Leave this mailing list.",
     "Leave this mailing list.\n\nYou may be asked to confirm your request.", cmd_leave},
    {"stop", "", "An alias for 'end'.", NULL, cmd_end},
    {"subscribe", JOIN_ARGS, "An alias for 'join'.", NULL, cmd_join},
    {"unsubscribe", "", "An alias for 'leave'.", NULL, cmd_leave},
    {"who", "[delivery=<enabled|disabled>] [mode=<digest|regular>]",
     "Get a list of the list members.",
     "Produces a list of member names and email addresses.\n\n"
     "The optional delivery= and mode= arguments can be used to limit the\n"
     "report to those members with matching delivery status and/or delivery\n"
     "mode.  If either delivery= or mode= is specified more than once, only\n"
     "the last occurrence is used.",
     cmd_who},
};
static const size_t n_commands = G_N_ELEMENTS(commands);

/* ---- help ---- */

static enum command_status cmd_help(struct command_ctx *c, const struct command *self, char **args)
{
    if (args[0] == NULL) {
        size_t width = 0;
        for (size_t i = 0; i < n_commands; i++)
            width = MAX(width, strlen(commands[i].name));
        for (size_t i = 0; i < n_commands; i++)
            print(c, "%-*s - %s", (int)width, commands[i].name, commands[i].short_description);
        return COMMAND_CONTINUE;
    }
    if (args[1] == NULL) {
        const struct command *cmd = runner_command_eml_find(args[0]);
        if (cmd == NULL) {
            print(c, "%s: no such command: %s", self->name, args[0]);
            return COMMAND_STOP;
        }
        print(c, "%s %s", cmd->name, cmd->argument_description);
        print(c, "%s", cmd->short_description);
        if (cmd->description)
            print(c, "%s", cmd->description);
        return COMMAND_CONTINUE;
    }
    g_autofree char *joined = g_strjoinv(" ", args);
    print(c, "%s: too many arguments: %s", self->name, joined);
    return COMMAND_STOP;
}

const struct command *runner_command_eml_find(const char *name)
{
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}
