/* config_schema - see config_schema.h. Defaults are Mailman 3.3.8's. */
#include "lib/regex.h"
#include "config/config_schema.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(sec, key, def)                                                                           \
    {                                                                                              \
        sec, key, CONFIG_STRING, def, 0, 0, NULL                                                   \
    }
#define B(sec, key, def)                                                                           \
    {                                                                                              \
        sec, key, CONFIG_BOOL, def, 0, 0, NULL                                                     \
    }
#define I(sec, key, def, lo, hi)                                                                   \
    {                                                                                              \
        sec, key, CONFIG_INT, def, lo, hi, NULL                                                    \
    }
#define D(sec, key, def)                                                                           \
    {                                                                                              \
        sec, key, CONFIG_DURATION, def, 0, 0, NULL                                                 \
    }
#define C(sec, key, def, choices)                                                                  \
    {                                                                                              \
        sec, key, CONFIG_CHOICE, def, 0, 0, choices                                                \
    }
#define R(sec, key, def)                                                                           \
    {                                                                                              \
        sec, key, CONFIG_REGEX, def, 0, 0, NULL                                                    \
    }
#define PORT(sec, key, def) I(sec, key, def, 1, 65535)
#define BIG                 2147483647LL

const struct config_key config_schema[] = {
    S("mailman", "site_owner", "changeme@example.com"),
    S("mailman", "noreply_address", "noreply"),
    S("mailman", "default_language", "en"),
    S("mailman", "sender_headers", "from from_ reply-to sender"),
    S("mailman", "anonymous_list_keep_headers",
      "^x-mailman- ^x-content-filtered-by: ^x-topics:\n"
      "^x-ack: ^x-beenthere: ^x-list-administrivia: ^x-spam-"),
    I("mailman", "email_commands_max_lines", "10", 0, BIG),
    D("mailman", "pending_request_life", "3d"),
    D("mailman", "moderator_request_life", "180d"),
    D("mailman", "cache_life", "7d"),
    D("mailman", "run_tasks_every", "1h"),
    S("mailman", "layout", "here"),
    B("mailman", "filtered_messages_are_preservable", "no"),
    S("mailman", "html_to_plain_text_command", "/usr/bin/lynx -dump $filename"),
    B("mailman", "filter_report", "no"),
    S("mailman", "listname_chars", "[-_.0-9a-z]"),
    B("mailman", "hold_digest", "no"),
    I("mailman", "masthead_threshold", "4", 0, BIG),
    B("mailman", "check_max_size_on_filtered_message", "no"),
    S("mailman", "pre_hook", ""),
    S("mailman", "post_hook", ""),

    S("plugin.master", "class", ""),
    B("plugin.master", "enabled", "no"),
    S("plugin.master", "configuration", ""),
    S("plugin.master", "component_package", ""),

    S("shell", "prompt", ">>>"),
    S("shell", "banner",
      "Welcome to the GNU Mailman shell\n"
      "Use commit() to commit changes.\n"
      "Use abort() to discard changes since the last commit.\n"
      "Exit with ctrl+D does an implicit commit() but exit() does not."),
    B("shell", "use_ipython", "no"),
    S("shell", "history_file", ""),

    S("paths.master", "var_dir", "/var/tmp/mailman"),
    S("paths.master", "queue_dir", "$var_dir/queue"),
    S("paths.master", "bin_dir", "$argv"),
    S("paths.master", "list_data_dir", "$var_dir/lists"),
    S("paths.master", "log_dir", "$var_dir/logs"),
    S("paths.master", "lock_dir", "$var_dir/locks"),
    S("paths.master", "data_dir", "$var_dir/data"),
    S("paths.master", "cache_dir", "$var_dir/cache"),
    S("paths.master", "etc_dir", "$var_dir/etc"),
    S("paths.master", "ext_dir", "$var_dir/ext"),
    S("paths.master", "messages_dir", "$var_dir/messages"),
    S("paths.master", "archive_dir", "$var_dir/archives"),
    S("paths.master", "template_dir", "$var_dir/templates"),
    S("paths.master", "pid_file", "$var_dir/master.pid"),
    S("paths.master", "lock_file", "$lock_dir/master.lck"),

    B("devmode", "enabled", "no"),
    S("devmode", "recipient", ""),
    B("devmode", "testing", "no"),
    D("devmode", "wait", "60s"),

    S("passwords", "configuration", "python:mailman.config.passlib"),
    I("passwords", "password_length", "8", 1, 1024),

    S("runner.master", "class", "mailman.core.runner.Runner"),
    S("runner.master", "path", "$QUEUE_DIR/$name"),
    {"runner.master", "instances", CONFIG_POW2, "1", 1, 1024, NULL},
    B("runner.master", "start", "yes"),
    I("runner.master", "max_restarts", "10", 0, BIG),
    D("runner.master", "sleep_time", "1s"),

    /* crier's own keys (Mailman ignores unknown keys, so a shared
     * mailman.cfg stays valid): the LMTP server's limits. */
    I("runner.lmtp", "max_message_size", "33554432", 1024, 1LL << 31),
    I("runner.lmtp", "max_header_size", "1048576", 1024, 64LL << 20),
    I("runner.lmtp", "max_line_length", "2048", 512, 65536),
    I("runner.lmtp", "max_recipients", "1000", 1, 100000),
    I("runner.lmtp", "max_connections", "512", 1, 65536),
    I("runner.lmtp", "sync_threads", "1", 1, 64),
    I("runner.pipeline", "roster_cache_bytes", "67108864", 0, 1LL << 40),
    I("runner.pipeline", "roster_cache_min_members", "10000", 1, 1LL << 32),
    C("runner.lmtp", "sync_method", "auto", "auto writeback fdatasync syncfs"),
    D("runner.lmtp", "command_timeout", "5m"),
    D("runner.lmtp", "data_timeout", "10m"),
    D("runner.lmtp", "session_timeout", "1h"),
    D("runner.lmtp", "evict_idle", "10s"),

    C("database", "class", "mailman.database.sqlite.SQLiteDatabase",
      "mailman.database.sqlite.SQLiteDatabase mailman.database.postgresql.PostgreSQLDatabase "
      "mailman.database.mysql.MySQLDatabase"),
    S("database", "url", "sqlite:///$DATA_DIR/mailman.db"),
    B("database", "debug", "no"),

    S("logging.template", "format", "%(asctime)s (%(process)d) %(message)s"),
    S("logging.template", "datefmt", "%b %d %H:%M:%S %Y"),
    B("logging.template", "propagate", "no"),
    {"logging.template", "level", CONFIG_LOGLEVEL, "info", 0, 0, NULL},
    S("logging.template", "path", "mailman.log"),
    S("logging.smtp", "every",
      "$msgid smtp to $listname for $recip recips, completed in $time seconds"),
    S("logging.smtp", "success", "$msgid post to $listname from $sender, $size bytes"),
    S("logging.smtp", "refused",
      "$msgid post to $listname from $sender, $size bytes, $refused failures"),
    S("logging.smtp", "failure", "$msgid delivery to $recip failed with code $smtpcode, $smtpmsg"),

    S("webservice", "hostname", "localhost"),
    PORT("webservice", "port", "8001"),
    B("webservice", "use_https", "no"),
    B("webservice", "show_tracebacks", "yes"),
    C("webservice", "api_version", "3.1", "3.0 3.1"),
    S("webservice", "admin_user", "restadmin"),
    S("webservice", "admin_pass", "restpass"),
    /* crier: with use_https, serve HTTPS with this PEM certificate chain and
     * key (the key may be in the certificate file); empty: plain HTTP, as
     * Mailman (which leaves TLS to a proxy). */
    S("webservice", "tls_certificate", ""),
    S("webservice", "tls_key", ""),
    I("webservice", "workers", "2", 1, 1024),
    S("webservice", "configuration", "python:mailman.config.gunicorn"),

    S("language.master", "description", "English (USA)"),
    S("language.master", "charset", "us-ascii"),
    B("language.master", "enabled", "yes"),

    B("ARC", "enabled", "no"),
    B("ARC", "dmarc", "yes"),
    B("ARC", "dkim", "yes"),
    S("ARC", "authserv_id", ""),
    S("ARC", "trusted_authserv_ids", ""),
    S("ARC", "privkey", ""),
    S("ARC", "selector", ""),
    S("ARC", "domain", ""),
    S("ARC", "sig_headers",
      "From, Sender, Reply-To, Subject, Date, Message-ID, To, Cc, MIME-Version, Content-Type, "
      "Content-Transfer-Encoding, Content-ID, Content-Description, Resent-Date, Resent-From, "
      "Resent-Sender, Resent-To, Resent-Cc, Resent-Message-ID, In-Reply-To, References, List-Id, "
      "List-Help, List-Unsubscribe, List-Subscribe, List-Post, List-Owner, List-Archive"),

    S("antispam", "header_checks", ""),
    S("antispam", "jump_chain", "hold"),

    C("mta", "incoming", "mailman.mta.postfix.LMTP",
      "mailman.mta.postfix.LMTP mailman.mta.exim4.LMTP mailman.mta.null.NullMTA"),
    S("mta", "outgoing", "mailman.mta.deliver.deliver"),
    S("mta", "smtp_host", "localhost"),
    PORT("mta", "smtp_port", "25"),
    S("mta", "smtp_user", ""),
    S("mta", "smtp_pass", ""),
    C("mta", "smtp_secure_mode", "smtp", "smtp smtps starttls"),
    B("mta", "smtp_verify_cert", "yes"),
    B("mta", "smtp_verify_hostname", "yes"),
    S("mta", "lmtp_host", "127.0.0.1"),
    PORT("mta", "lmtp_port", "8024"),
    I("mta", "max_recipients", "500", 0, BIG),
    I("mta", "max_sessions_per_connection", "0", 0, BIG),
    I("mta", "max_delivery_threads", "0", 0, 1024),
    D("mta", "delivery_retry_period", "5d"),
    S("mta", "verp_delimiter", "+"),
    S("mta", "verp_format", "${bounces}+${local}=${domain}"),
    S("mta", "verp_confirm_format", "$address+$cookie"),
    R("mta", "verp_regexp", "^(?P<bounces>[^+]+?)\\+(?P<local>[^=]+)=(?P<domain>[^@]+)@.*$"),
    R("mta", "verp_confirm_regexp", "^(.*<)?(?P<addr>[^+]+?)\\+(?P<cookie>[^@]+)@.*$"),
    B("mta", "verp_confirmations", "yes"),
    B("mta", "verp_personalized_deliveries", "no"),
    I("mta", "verp_delivery_interval", "0", 0, BIG),
    S("mta", "verp_probe_format", "$bounces+$token@$domain"),
    R("mta", "verp_probe_regexp", "^(?P<bounces>[^+]+?)\\+(?P<token>[^@]+)@.*$"),
    B("mta", "verp_probes", "no"),
    I("mta", "max_autoresponses_per_day", "10", 0, BIG),
    B("mta", "remove_dkim_headers", "no"),
    S("mta", "configuration", "python:mailman.config.postfix"),

    D("bounces", "register_bounces_every", "15m"),

    S("archiver.master", "class", ""),
    B("archiver.master", "enable", "no"),
    S("archiver.master", "configuration", "changeme"),
    C("archiver.master", "clobber_date", "maybe", "maybe never always"),
    D("archiver.master", "clobber_skew", "1d"),

    S("styles", "default", "legacy-default"),

    S("digests", "mime_digest_keep_headers",
      "Date From To Cc Subject Message-ID Keywords\n"
      "In-Reply-To References Content-Type MIME-Version\n"
      "Content-Transfer-Encoding Precedence Reply-To\n"
      "Message List-Post"),
    S("digests", "plain_digest_keep_headers",
      "Message Date From\nSubject To Cc\nMessage-ID Keywords\nContent-Type"),

    S("nntp", "user", ""),
    S("nntp", "password", ""),
    S("nntp", "host", ""),
    S("nntp", "port", ""),
    S("nntp", "remove_headers",
      "nntp-posting-host nntp-posting-date x-trace\n"
      "x-complaints-to xref date-received posted\n"
      "posting-version relay-version received"),
    S("nntp", "rewrite_duplicate_headers",
      "To X-Original-To\nCC X-Original-CC\n"
      "Content-Transfer-Encoding X-Original-Content-Transfer-Encoding\n"
      "MIME-Version X-MIME-Version"),
    D("nntp", "gatenews_every", "5m"),

    D("dmarc", "resolver_timeout", "3s"),
    D("dmarc", "resolver_lifetime", "5s"),
    S("dmarc", "org_domain_data_url", "https://publicsuffix.org/list/public_suffix_list.dat"),
    D("dmarc", "cache_lifetime", "7d"),
    /* crier's own: the DNS server(s) for _dmarc lookups, "host[:port]"
     * comma-separated; empty = /etc/resolv.conf */
    S("dmarc", "resolver", ""),

    /* The MTA's own file ([mta] configuration): Mailman's postfix.cfg. */
    S("postfix", "postmap_command", "/usr/sbin/postmap"),
    C("postfix", "transport_file_type", "hash", "hash regex"),
    {NULL, NULL, CONFIG_STRING, NULL, 0, 0, NULL},
};

#define LANG(code, desc)                                                                           \
    {"language." code, "description", desc},                                                       \
    {                                                                                              \
        "language." code, "charset", "utf-8"                                                       \
    }

const struct config_override config_builtin[] = {
    {"paths.local", NULL, NULL},
    {"paths.dev", "var_dir", "$cfg_file/../.."},
    {"paths.here", "var_dir", "$cwd/var"},
    {"paths.fhs", "bin_dir", "/sbin"},
    {"paths.fhs", "var_dir", "/var/lib/mailman"},
    {"paths.fhs", "queue_dir", "/var/spool/mailman"},
    {"paths.fhs", "log_dir", "/var/log/mailman"},
    {"paths.fhs", "lock_dir", "/var/lock/mailman"},
    {"paths.fhs", "etc_dir", "/etc"},
    {"paths.fhs", "ext_dir", "/etc/mailman.d"},
    {"paths.fhs", "pid_file", "/var/run/mailman/master.pid"},
    {"language.en", NULL, NULL},
    LANG("ar", "Arabic"),
    LANG("ast", "Asturian"),
    LANG("bg", "Bulgarian"),
    LANG("ca", "Catalan"),
    LANG("cs", "Czech"),
    LANG("da", "Danish"),
    LANG("de", "German"),
    LANG("el", "Greek"),
    LANG("es", "Spanish"),
    LANG("et", "Estonian"),
    LANG("eu", "Euskara"),
    LANG("fi", "Finnish"),
    LANG("fr", "French"),
    LANG("gl", "Galician"),
    LANG("he", "Hebrew"),
    LANG("hr", "Croatian"),
    LANG("hu", "Hungarian"),
    LANG("ia", "Interlingua"),
    LANG("it", "Italian"),
    LANG("ja", "Japanese"),
    LANG("ko", "Korean"),
    LANG("lt", "Lithuanian"),
    LANG("nl", "Dutch"),
    LANG("no", "Norwegian"),
    LANG("pl", "Polish"),
    LANG("pt", "Portuguese"),
    LANG("pt_BR", "Portuguese (Brazil)"),
    LANG("ro", "Romanian"),
    LANG("ru", "Russian"),
    LANG("sk", "Slovak"),
    LANG("sl", "Slovenian"),
    LANG("sr", "Serbian"),
    LANG("sv", "Swedish"),
    LANG("tr", "Turkish"),
    LANG("uk", "Ukrainian"),
    LANG("vi", "Vietnamese"),
    LANG("zh_CN", "Chinese"),
    LANG("zh_TW", "Chinese (Taiwan)"),
    {"runner.archive", "class", "mailman.runners.archive.ArchiveRunner"},
    {"runner.bad", "class", "mailman.runners.fake.BadRunner"},
    {"runner.bad", "start", "no"},
    {"runner.bounces", "class", "mailman.runners.bounce.BounceRunner"},
    {"runner.bounces", "sleep_time", "2m"},
    {"runner.command", "class", "mailman.runners.command.CommandRunner"},
    {"runner.in", "class", "mailman.runners.incoming.IncomingRunner"},
    {"runner.lmtp", "class", "mailman.runners.lmtp.LMTPRunner"},
    {"runner.lmtp", "path", ""},
    {"runner.nntp", "class", "mailman.runners.nntp.NNTPRunner"},
    {"runner.out", "class", "mailman.runners.outgoing.OutgoingRunner"},
    {"runner.pipeline", "class", "mailman.runners.pipeline.PipelineRunner"},
    {"runner.rest", "class", "mailman.runners.rest.RESTRunner"},
    {"runner.rest", "path", ""},
    {"runner.retry", "class", "mailman.runners.retry.RetryRunner"},
    {"runner.retry", "sleep_time", "15m"},
    {"runner.shunt", "class", "mailman.runners.fake.ShuntRunner"},
    {"runner.shunt", "start", "no"},
    {"runner.task", "class", "mailman.runners.task.TaskRunner"},
    {"runner.task", "sleep_time", "1m"},
    {"runner.task", "path", ""},
    {"runner.virgin", "class", "mailman.runners.virgin.VirginRunner"},
    {"runner.digest", "class", "mailman.runners.digest.DigestRunner"},
    {"logging.root", NULL, NULL},
    {"logging.archiver", NULL, NULL},
    {"logging.bounce", "path", "bounce.log"},
    {"logging.config", NULL, NULL},
    {"logging.database", "level", "warn"},
    {"logging.debug", "path", "debug.log"},
    {"logging.debug", "level", "info"},
    {"logging.error", NULL, NULL},
    {"logging.fromusenet", NULL, NULL},
    {"logging.http", "format", "%(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\""},
    {"logging.locks", NULL, NULL},
    {"logging.mischief", NULL, NULL},
    {"logging.plugins", "path", "plugins.log"},
    {"logging.runner", NULL, NULL},
    {"logging.smtp", "path", "smtp.log"},
    {"logging.subscribe", NULL, NULL},
    {"logging.task", NULL, NULL},
    {"logging.vette", NULL, NULL},
    {"archiver.mhonarc", "class", "mailman.archiving.mhonarc.MHonArc"},
    {"archiver.mhonarc", "configuration", "python:mailman.config.mhonarc"},
    {"archiver.mail_archive", "class", "mailman.archiving.mailarchive.MailArchive"},
    {"archiver.mail_archive", "configuration", "python:mailman.config.mail_archive"},
    {"archiver.prototype", "class", "mailman.archiving.prototype.Prototype"},
    {NULL, NULL, NULL},
};

/* Categories whose sections may have any name, as lazr.config allows for
 * Mailman's "<category>.template"/".master" sections (Debian's own
 * mailman.cfg has a [logging.debian], for one). */
static const char *const open_categories[] = {"runner", "archiver", "paths", "language",
                                              "plugin", "logging",  NULL};

bool config_schema_category_open(const char *category)
{
    for (const char *const *c = open_categories; *c; c++)
        if (strcmp(*c, category) == 0)
            return true;
    return false;
}

const char *config_schema_template_of(const char *section)
{
    static const struct {
        const char *prefix, *tmpl;
    } map[] = {{"runner.", "runner.master"}, {"archiver.", "archiver.master"},
               {"paths.", "paths.master"},   {"language.", "language.master"},
               {"plugin.", "plugin.master"}, {"logging.", "logging.template"}};
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (g_str_has_prefix(section, map[i].prefix) && strcmp(section, map[i].tmpl) != 0)
            return map[i].tmpl;
    return NULL;
}

bool config_parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1", "on", "enable", "enabled"};
    static const char *const no[] = {"false", "no", "0", "off", "disable", "disabled"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (g_ascii_strcasecmp(value, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* lazr.config's as_timedelta: components [0-9.]+ followed by w, d, h, m, s,
 * each at most once and in that order; a bare number is refused. */
bool config_parse_duration(const char *value, double *seconds_out)
{
    static const struct {
        char unit;
        double seconds;
    } units[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    const char *p = value;
    size_t next_unit = 0;
    double total = 0;
    if (*p == '\0')
        return false;
    while (*p) {
        const char *start = p;
        while (g_ascii_isdigit(*p) || *p == '.')
            p++;
        if (p == start || *p == '\0')
            return false;
        size_t u = next_unit;
        while (u < G_N_ELEMENTS(units) && units[u].unit != g_ascii_tolower(*p))
            u++;
        if (u == G_N_ELEMENTS(units))
            return false;
        char *num = g_strndup(start, (gsize)(p - start));
        char *end;
        errno = 0;
        double v = g_ascii_strtod(num, &end);
        bool ok = *end == '\0' && errno == 0;
        g_free(num);
        if (!ok)
            return false;
        total += v * units[u].seconds;
        next_unit = u + 1;
        p++;
    }
    *seconds_out = total;
    return true;
}

static bool parse_int(const char *value, long long *out)
{
    char *end;
    errno = 0;
    const char *p = value;
    while (g_ascii_isspace(*p))
        p++;
    if (*p == '\0')
        return false;
    long long v = strtoll(p, &end, 10);
    while (g_ascii_isspace(*end))
        end++;
    if (*end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

static bool word_in(const char *word, const char *list)
{
    g_auto(GStrv) words = g_strsplit(list, " ", -1);
    for (char **w = words; *w; w++)
        if (g_ascii_strcasecmp(*w, word) == 0)
            return true;
    return false;
}

bool config_schema_check(const struct config_key *k, const char *value, const char **form_r)
{
    static char form[512];
    bool b;
    double d;
    long long n;
    switch (k->type) {
    case CONFIG_STRING:
        return true;
    case CONFIG_BOOL:
        *form_r = "a boolean: yes, no, true, false, on, off, 1, 0, enable(d), disable(d)";
        return config_parse_bool(value, &b);
    case CONFIG_DURATION:
        *form_r = "a duration such as 5d, 15m, 1d6h or 2.5s (units w d h m s, in that order)";
        return config_parse_duration(value, &d);
    case CONFIG_INT:
    case CONFIG_POW2:
        snprintf(form, sizeof form, "%s from %lld to %lld",
                 k->type == CONFIG_POW2 ? "a power of two" : "an integer", k->min, k->max);
        *form_r = form;
        if (!parse_int(value, &n) || n < k->min || n > k->max)
            return false;
        return k->type == CONFIG_INT || (n & (n - 1)) == 0;
    case CONFIG_CHOICE:
        snprintf(form, sizeof form, "one of: %s", k->choices);
        *form_r = form;
        return word_in(value, k->choices);
    case CONFIG_LOGLEVEL:
        *form_r = "a log level: debug, info, warn, warning, error, critical, fatal, notset";
        return word_in(value, "debug info warn warning error critical fatal notset");
    case CONFIG_REGEX: {
        *form_r = "a valid regular expression";
        GRegex *re = regex_compile(value, NULL);
        if (re == NULL)
            return false;
        g_regex_unref(re);
        return true;
    }
    }
    return false;
}
