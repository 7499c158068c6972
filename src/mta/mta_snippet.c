/* mta_snippet - see mta_snippet.h. Each text here is what a test feeds a
 * real MTA; change them together. */
#include "mta/mta_snippet.h"

#include <glib.h>
#include <string.h>

/* Mailman's subaddresses as Exim local_part_suffix patterns: the VERP and
 * confirm suffixes carry "+..." after them. */
static const char exim_suffixes[] = "-bounces : -bounces+* : -confirm : -confirm+* : \\\n"
                                    "                      -join : -leave : -owner : "
                                    "-request : \\\n"
                                    "                      -subscribe : -unsubscribe";

static bool has_alias(const struct mta_snippet_domain *d)
{
    return d->alias_domain && *d->alias_domain;
}

/* Where an MTA connects: a wildcard bind address means "this host". */
static const char *connect_host(const char *lmtp_host)
{
    if (lmtp_host == NULL || *lmtp_host == '\0' || strcmp(lmtp_host, "0.0.0.0") == 0)
        return "127.0.0.1";
    if (strcmp(lmtp_host, "::") == 0)
        return "::1";
    return lmtp_host;
}

static char *postfix_build(const struct mta_snippet_site *site)
{
    const struct mta_settings *s = site->mta;
    const char *t = s->regex ? "regexp" : "hash";
    const char *d = site->map_dir;
    GString *out = g_string_new(NULL);
    g_string_append_printf(out,
                           "# Postfix main.cf lines for crier (set each with postconf -e, then\n"
                           "# run postfix reload). crier's LMTP runner: [%s]:%u, written into\n"
                           "# postfix_lmtp by crier create, remove, aliases and start.\n"
                           "recipient_delimiter = +\n"
                           "unknown_local_recipient_reject_code = 550\n"
                           "owner_request_special = no\n"
                           "transport_maps = %s:%s/postfix_lmtp\n"
                           "local_recipient_maps = %s:%s/postfix_lmtp\n"
                           "# List domains are relay domains: this refuses their unknown\n"
                           "# addresses with 550 at RCPT time.\n"
                           "relay_recipient_maps = %s:%s/postfix_lmtp\n"
                           "relay_domains = %s:%s/postfix_domains\n",
                           s->lmtp_host, s->lmtp_port, t, d, t, d, t, d, t, d);
    /* Mailman writes lmtp_host into the maps as it is; so do we. */
    if (s->lmtp_host && *s->lmtp_host && strcmp(connect_host(s->lmtp_host), s->lmtp_host) != 0)
        g_string_append_printf(out,
                               "# lmtp_host %s (listen everywhere) is in postfix_lmtp as it\n"
                               "# is, as Mailman writes it: Postfix on this host reaches\n"
                               "# crier through it, Postfix on another host does not.\n",
                               s->lmtp_host);
    GString *hosts = g_string_new(NULL);
    for (size_t i = 0; i < site->n_domains; i++)
        if (has_alias(&site->domains[i]))
            g_string_append_printf(hosts, "%s%s", hosts->len ? " " : "",
                                   site->domains[i].mail_host);
    if (hosts->len)
        g_string_append_printf(out,
                               "# Alias domains: mail for these mail_hosts is rewritten to\n"
                               "# their alias_domain by postfix_vmap.\n"
                               "virtual_alias_maps = %s:%s/postfix_vmap\n"
                               "virtual_alias_domains = %s\n",
                               t, d, hosts->str);
    else
        g_string_append(out, "# No domain has an alias_domain: do not set virtual_alias_maps\n"
                             "# to postfix_vmap (crier deletes that file then, and Postfix\n"
                             "# defers all mail while a map it is given is missing).\n");
    g_string_free(hosts, TRUE);
    if (s->regex)
        g_string_append(out, "# transport_file_type is regex: Postfix reads regexp tables\n"
                             "# once per process, so run postfix reload after every crier\n"
                             "# create or remove.\n");
    return g_string_free(out, FALSE);
}

/* The list domains (mail_hosts and alias domains) and, as Exim's
 * "key=value" pairs, the alias domain -> mail_host map the router uses: a
 * list's directory is named after its mail_host, whatever domain the mail
 * came for. Exim lowercases $domain; so do we. */
static void append_exim_domains(GString *out, const struct mta_snippet_site *site)
{
    GString *aliases = g_string_new(NULL);
    g_string_append(out, "domainlist crier_domains = ");
    for (size_t i = 0; i < site->n_domains; i++) {
        const struct mta_snippet_domain *d = &site->domains[i];
        g_autofree char *host = g_ascii_strdown(d->mail_host, -1);
        g_string_append_printf(out, "%s%s", i ? " : " : "", host);
        if (has_alias(d)) {
            g_autofree char *alias = g_ascii_strdown(d->alias_domain, -1);
            g_string_append_printf(out, " : %s", alias);
            g_string_append_printf(aliases, "%s%s=%s", aliases->len ? " " : "", alias, host);
        }
    }
    g_string_append_c(out, '\n');
    if (site->n_domains == 0)
        g_string_append(out, "# (no domain yet: list each mail_host above)\n");
    g_string_append(out, "# Each alias_domain=mail_host: mail for an alias domain goes to\n"
                         "# the list of its mail_host (empty when no domain has an alias).\n");
    g_string_append_printf(out, "CRIER_ALIAS_DOMAINS =%s%s\n", aliases->len ? " " : "",
                           aliases->str);
    g_string_free(aliases, TRUE);
}

static char *exim4_build(const struct mta_snippet_site *site)
{
    const struct mta_settings *s = site->mta;
    const char *host = connect_host(s->lmtp_host);
    GString *out = g_string_new(NULL);
    g_string_append(out, "# Exim 4 for crier ([mta] incoming: mailman.mta.exim4.LMTP).\n"
                         "# 1. Main section (before the first \"begin\"); add +crier_domains\n"
                         "#    to relay_to_domains (or local_domains) so the RCPT ACL takes\n"
                         "#    them, and verify recipients there to refuse unknown ones.\n");
    g_string_append_printf(out,
                           "CRIER_LISTS = %s\n"
                           "CRIER_LMTP_HOST = %s%s\n"
                           "CRIER_LMTP_PORT = %u\n",
                           site->list_data_dir, strchr(host, ':') ? "<; " : "", host, s->lmtp_port);
    append_exim_domains(out, site);
    g_string_append_printf(out,
                           "\n"
                           "# 2. Routers section, first router (Debian: "
                           "conf.d/router/150_crier_lists).\n"
                           "crier_lists:\n"
                           "  driver = accept\n"
                           "  domains = +crier_domains\n"
                           "  # A list exists while crier's list data directory does;\n"
                           "  # it is named after the list's mail_host.\n"
                           "  require_files = CRIER_LISTS/${local_part}."
                           "${extract{$domain}{CRIER_ALIAS_DOMAINS}{$value}{$domain}}\n"
                           "  local_part_suffix = %s\n"
                           "  local_part_suffix_optional\n"
                           "  transport = crier_lmtp\n"
                           "\n"
                           "# 3. Transports section (Debian: conf.d/transport/30_crier_lmtp).\n"
                           "crier_lmtp:\n"
                           "  driver = smtp\n"
                           "  protocol = lmtp\n"
                           "  hosts = CRIER_LMTP_HOST\n"
                           "  port = CRIER_LMTP_PORT\n"
                           "  allow_localhost\n"
                           "  # crier needs the whole address, suffix included.\n"
                           "  rcpt_include_affixes = true\n",
                           exim_suffixes);
    return g_string_free(out, FALSE);
}

/* A mailertable host: [1.2.3.4], [IPv6:::1] or [name] (no MX lookup). */
static char *sendmail_host(const char *host)
{
    return strchr(host, ':') ? g_strdup_printf("[IPv6:%s]", host) : g_strdup_printf("[%s]", host);
}

static char *sendmail_build(const struct mta_snippet_site *site)
{
    const struct mta_settings *s = site->mta;
    g_autofree char *host = sendmail_host(connect_host(s->lmtp_host));
    GString *out = g_string_new(NULL);
    g_string_append_printf(
        out,
        "dnl sendmail.mc lines for crier (then rebuild sendmail.cf and restart\n"
        "dnl sendmail). The list domains go to crier's LMTP port; note that\n"
        "dnl unknown addresses in them are bounced after crier refuses them,\n"
        "dnl not refused at RCPT time.\n"
        "FEATURE(`mailertable', `hash -o /etc/mail/mailertable')dnl\n"
        "RELAY_DOMAIN_FILE(`/etc/mail/relay-domains')dnl\n"
        "dnl After the MAILER() lines:\n"
        "MAILER_DEFINITIONS\n"
        "Mcrier,\tP=[IPC], F=mlDFMuXz, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP/HdrFromSMTP, "
        "E=\\r\\n, L=990,\n"
        "\tT=DNS/RFC822/SMTP, A=TCP $h %u\n"
        "\n"
        "# /etc/mail/mailertable (then: makemap hash /etc/mail/mailertable "
        "< /etc/mail/mailertable)\n",
        s->lmtp_port);
    for (size_t i = 0; i < site->n_domains; i++) {
        g_string_append_printf(out, "%s\tcrier:%s\n", site->domains[i].mail_host, host);
        /* crier's LMTP runner maps an alias_domain to its mail_host itself. */
        if (has_alias(&site->domains[i]))
            g_string_append_printf(out, "%s\tcrier:%s\n", site->domains[i].alias_domain, host);
    }
    g_string_append(out, "\n# /etc/mail/relay-domains (read at start: restart sendmail)\n");
    for (size_t i = 0; i < site->n_domains; i++) {
        g_string_append_printf(out, "%s\n", site->domains[i].mail_host);
        if (has_alias(&site->domains[i]))
            g_string_append_printf(out, "%s\n", site->domains[i].alias_domain);
    }
    return g_string_free(out, FALSE);
}

static const struct {
    const char *name;
    char *(*build)(const struct mta_snippet_site *site);
} builders[] = {
    {"postfix", postfix_build},
    {"exim4", exim4_build},
    {"sendmail", sendmail_build},
};

static int builder_of(const char *mta)
{
    for (size_t i = 0; i < G_N_ELEMENTS(builders); i++)
        if (g_ascii_strcasecmp(mta, builders[i].name) == 0)
            return (int)i;
    return -1;
}

bool mta_snippet_known(const char *mta)
{
    return builder_of(mta) >= 0;
}

char *mta_snippet_build(const char *mta, const struct mta_snippet_site *site)
{
    int i = builder_of(mta);
    return i < 0 ? NULL : builders[i].build(site);
}

const char *mta_snippet_choices(void)
{
    /* Built once from the table, so a new row shows up in the error. */
    static char *choices;
    if (choices == NULL) {
        GString *out = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(builders); i++)
            g_string_append_printf(out, "%s'%s'", i ? ", " : "", builders[i].name);
        choices = g_string_free(out, FALSE);
    }
    return choices;
}
