/* lmtp_cmd - LMTP commands: table, checks (state) and proceeds (action). */
#include "proto/lmtp_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "proto/lmtp_path.h"
#include "proto/lmtp_server.h"
#include "proto/lmtp_session.h"

enum cmd_args { ARGS_NONE, ARGS_OPTIONAL, ARGS_REQUIRED };

struct lmtp_cmd {
    const char *name;
    enum cmd_args args;
    const char *syntax; /* after "Syntax: " in 501 and HELP replies */
    bool in_help;
    /* 0 to go on; otherwise it has replied. */
    int (*check)(struct lmtp_session *s, const struct lmtp_cmd *cmd);
    void (*proceed)(struct lmtp_session *s, const char *args);
};

/* A 5xx for the client's syntax or command order. */
static void refuse(struct lmtp_session *s, const char *text)
{
    lmtp_session_reply(s, "%s", text);
    lmtp_session_error(s);
}

/* ---- checks: command order ---- */

static int check_any(struct lmtp_session *s, const struct lmtp_cmd *cmd)
{
    return 0;
}

static int check_not_lmtp(struct lmtp_session *s, const struct lmtp_cmd *cmd)
{
    /* Mailman's exact text: RFC 2034 §3 exempts replies to HELO/EHLO from
     * enhanced codes, so tools comparing with Mailman's output still match. */
    lmtp_session_reply(s, "500 Error: command \"%s\" not recognized", cmd->name);
    lmtp_session_error(s);
    return -1;
}

static int check_lhlo_done(struct lmtp_session *s)
{
    if (s->state != LMTP_STATE_INIT)
        return 0;
    refuse(s, "503 5.5.1 Error: send LHLO first");
    return -1;
}

static int check_mail(struct lmtp_session *s, const struct lmtp_cmd *cmd)
{
    if (check_lhlo_done(s) < 0)
        return -1;
    if (s->state == LMTP_STATE_READY)
        return 0;
    refuse(s, "503 5.5.1 Error: nested MAIL command");
    return -1;
}

static int check_rcpt(struct lmtp_session *s, const struct lmtp_cmd *cmd)
{
    if (check_lhlo_done(s) < 0)
        return -1;
    if (s->state == LMTP_STATE_MAIL || s->state == LMTP_STATE_RCPT)
        return 0;
    refuse(s, "503 5.5.1 Error: need MAIL command");
    return -1;
}

static int check_data(struct lmtp_session *s, const struct lmtp_cmd *cmd)
{
    if (check_rcpt(s, cmd) < 0)
        return -1;
    if (s->state == LMTP_STATE_RCPT)
        return 0;
    /* RFC 2033 §4.2: DATA without an accepted recipient gets 503. */
    refuse(s, "503 5.5.1 Error: need RCPT command");
    return -1;
}

/* ---- MAIL parameters (RFC 1870 SIZE, RFC 6152 BODY) ---- */

struct mail_opts {
    bool body_8bitmime;
};

/* Each returns 0, or -1 after replying. */
static int param_size(struct lmtp_session *s, const char *value, struct mail_opts *opts)
{
    size_t n = value != NULL ? strlen(value) : 0;
    if (n == 0 || strspn(value, "0123456789") != n) {
        refuse(s, "501 5.5.4 Syntax: SIZE=<number>");
        return -1;
    }
    /* More digits than a size_t holds is too big as well. */
    errno = 0;
    unsigned long long size = strtoull(value, NULL, 10);
    if (errno == ERANGE || n > 20 || size > s->settings->limits.max_message_size) {
        lmtp_session_reply(s, "552 5.3.4 Error: message size exceeds fixed maximum message size");
        return -1;
    }
    return 0;
}

static int param_body(struct lmtp_session *s, const char *value, struct mail_opts *opts)
{
    if (value != NULL && g_ascii_strcasecmp(value, "8BITMIME") == 0) {
        opts->body_8bitmime = true;
        return 0;
    }
    if (value != NULL && g_ascii_strcasecmp(value, "7BIT") == 0) {
        opts->body_8bitmime = false;
        return 0;
    }
    refuse(s, "501 5.5.4 Error: BODY can only be one of 7BIT, 8BITMIME");
    return -1;
}

static const struct {
    const char *name;
    int (*apply)(struct lmtp_session *s, const char *value, struct mail_opts *opts);
} mail_params[] = {
    {"SIZE", param_size},
    {"BODY", param_body},
};

static int apply_mail_params(struct lmtp_session *s, GPtrArray *params, struct mail_opts *opts)
{
    for (guint i = 0; i < params->len; i++) {
        const char *p = g_ptr_array_index(params, i);
        const char *value;
        size_t klen = lmtp_path_param_split(p, &value);
        size_t j = 0;
        while (j < G_N_ELEMENTS(mail_params) &&
               !(strlen(mail_params[j].name) == klen &&
                 g_ascii_strncasecmp(p, mail_params[j].name, klen) == 0))
            j++;
        if (j == G_N_ELEMENTS(mail_params)) {
            refuse(s, "555 5.5.4 MAIL FROM parameters not recognized or not implemented");
            return -1;
        }
        if (mail_params[j].apply(s, value, opts) < 0)
            return -1;
    }
    return 0;
}

/* ---- proceeds ---- */

static void proceed_lhlo(struct lmtp_session *s, const char *args)
{
    /* RFC 5321 §4.1.4: a repeated LHLO resets the transaction like RSET. */
    lmtp_session_reset(s);
    lmtp_session_set_lhlo(s, args);
    const struct lmtp_server_settings *set = s->settings;
    lmtp_session_reply(s, "250-%s", set->hostname);
    lmtp_session_reply(s, "250-SIZE %zu", set->limits.max_message_size);
    lmtp_session_reply(s, "250-8BITMIME");
    lmtp_session_reply(s, "250-PIPELINING");
    lmtp_session_reply(s, "250-ENHANCEDSTATUSCODES");
    lmtp_session_reply(s, "250 HELP");
    lmtp_session_enter_state(s, LMTP_STATE_READY);
}

static void proceed_mail(struct lmtp_session *s, const char *args)
{
    struct lmtp_path path;
    char *error = NULL;
    if (lmtp_path_parse(args, "FROM", &path, &error) < 0) {
        log_debug("lmtp session %" PRIu64 ": MAIL: %s", s->info.id, error);
        g_free(error);
        refuse(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    struct mail_opts opts = {0};
    if (apply_mail_params(s, path.params, &opts) == 0) {
        s->sender = g_steal_pointer(&path.address);
        s->body_8bitmime = opts.body_8bitmime;
        lmtp_session_reply(s, "250 2.1.0 OK");
        lmtp_session_enter_state(s, LMTP_STATE_MAIL);
    }
    lmtp_path_clear(&path);
}

static void proceed_rcpt(struct lmtp_session *s, const char *args)
{
    struct lmtp_path path;
    char *error = NULL;
    if (lmtp_path_parse(args, "TO", &path, &error) < 0) {
        log_debug("lmtp session %" PRIu64 ": RCPT: %s", s->info.id, error);
        g_free(error);
        refuse(s, "501 5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    if (path.params->len > 0) {
        /* No RCPT parameter is advertised (no DSN). */
        refuse(s, "555 5.5.4 RCPT TO parameters not recognized or not implemented");
    } else if (path.address[0] == '\0') {
        refuse(s, "501 5.1.3 Error: bad recipient address syntax");
    } else if (s->recipients->len >= s->settings->limits.max_recipients) {
        /* RFC 5321 §4.5.3.1.10: 452, the client retries in a new transaction. */
        lmtp_session_reply(s, "452 4.5.3 Error: too many recipients");
    } else {
        struct lmtp_reply reply;
        lmtp_reply_set(&reply, 451, "4.3.0 Error: recipient not checked");
        s->settings->rcpt(s->settings->ctx, &s->info, s->sender, path.address, &reply);
        int code = lmtp_session_reply_checked(s, &reply);
        if (code / 100 == 2) {
            g_ptr_array_add(s->recipients, g_steal_pointer(&path.address));
            lmtp_session_enter_state(s, LMTP_STATE_RCPT);
        }
    }
    lmtp_path_clear(&path);
}

static void proceed_data(struct lmtp_session *s, const char *args)
{
    const struct lmtp_limits *l = &s->settings->limits;
    lmtp_data_init(&s->data, l->max_message_size, l->max_header_size);
    lmtp_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    lmtp_session_enter_state(s, LMTP_STATE_DATA);
}

static void proceed_rset(struct lmtp_session *s, const char *args)
{
    lmtp_session_reset(s);
    lmtp_session_reply(s, "250 2.0.0 OK");
    if (s->state != LMTP_STATE_INIT)
        lmtp_session_enter_state(s, LMTP_STATE_READY);
}

static void proceed_noop(struct lmtp_session *s, const char *args)
{
    lmtp_session_reply(s, "250 2.0.0 OK");
}

static void proceed_quit(struct lmtp_session *s, const char *args)
{
    lmtp_session_close(s, "221 2.0.0 Bye");
}

static void proceed_vrfy(struct lmtp_session *s, const char *args)
{
    lmtp_session_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message "
                          "and attempt delivery");
}

static void proceed_help(struct lmtp_session *s, const char *args);

/* Sorted by name: HELP lists the rows marked in_help in this order. */
static const struct lmtp_cmd commands[] = {
    {"DATA", ARGS_NONE, "DATA", true, check_data, proceed_data},
    {"EHLO", ARGS_OPTIONAL, NULL, false, check_not_lmtp, NULL},
    {"HELO", ARGS_OPTIONAL, NULL, false, check_not_lmtp, NULL},
    {"HELP", ARGS_OPTIONAL, "HELP [command]", true, check_any, proceed_help},
    {"LHLO", ARGS_REQUIRED, "LHLO hostname", true, check_any, proceed_lhlo},
    {"MAIL", ARGS_REQUIRED, "MAIL FROM:<address>", true, check_mail, proceed_mail},
    {"NOOP", ARGS_OPTIONAL, "NOOP", true, check_any, proceed_noop},
    {"QUIT", ARGS_NONE, "QUIT", true, check_any, proceed_quit},
    {"RCPT", ARGS_REQUIRED, "RCPT TO:<address>", true, check_rcpt, proceed_rcpt},
    {"RSET", ARGS_NONE, "RSET", true, check_any, proceed_rset},
    {"VRFY", ARGS_REQUIRED, "VRFY <address>", true, check_any, proceed_vrfy},
};

static const struct lmtp_cmd *find(const char *verb, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strlen(commands[i].name) == len &&
            g_ascii_strncasecmp(verb, commands[i].name, len) == 0)
            return &commands[i];
    }
    return NULL;
}

static void proceed_help(struct lmtp_session *s, const char *args)
{
    const struct lmtp_cmd *cmd = *args != '\0' ? find(args, strlen(args)) : NULL;
    if (cmd != NULL && cmd->in_help) {
        lmtp_session_reply(s, "250 2.0.0 Syntax: %s", cmd->syntax);
        return;
    }
    GString *list = g_string_new("250 2.0.0 Supported commands:");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (commands[i].in_help)
            g_string_append_printf(list, " %s", commands[i].name);
    }
    lmtp_session_reply(s, "%s", list->str);
    g_string_free(list, TRUE);
}

void lmtp_cmd_dispatch(struct lmtp_session *s, char *line)
{
    size_t vlen = strcspn(line, " ");
    if (vlen == 0) {
        refuse(s, "500 5.5.2 Error: bad syntax");
        return;
    }
    char *args = line + vlen;
    while (*args == ' ')
        args++;
    size_t alen = strlen(args);
    while (alen > 0 && args[alen - 1] == ' ')
        args[--alen] = '\0';
    const struct lmtp_cmd *cmd = find(line, vlen);
    if (cmd == NULL) {
        /* Quote a printable, bounded form of what the client sent. */
        char verb[33];
        size_t n = MIN(vlen, sizeof verb - 1);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            verb[i] = c > ' ' && c < 0x7f && c != '"' ? g_ascii_toupper(c) : '?';
        }
        verb[n] = '\0';
        lmtp_session_reply(s, "500 5.5.1 Error: command \"%s\" not recognized", verb);
        lmtp_session_error(s);
        return;
    }
    if (cmd->check(s, cmd) < 0)
        return;
    if ((cmd->args == ARGS_NONE && alen > 0) || (cmd->args == ARGS_REQUIRED && alen == 0)) {
        lmtp_session_reply(s, "501 5.5.4 Syntax: %s", cmd->syntax);
        lmtp_session_error(s);
        return;
    }
    cmd->proceed(s, args);
}
