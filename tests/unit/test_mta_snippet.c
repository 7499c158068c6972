/* Unit tests for `crier aliases --snippet`: the lines each MTA is hooked up
 * with (the integration tests run the real MTAs on them). Table-driven:
 * each case gives a site and the lines its output must, and must not,
 * contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mta/mta_snippet.h"

#include <glib.h>
#include <string.h>

#define MAX_LINES 8

struct snippet_case {
    const char *name;
    const char *mta;
    const char *lmtp_host;
    bool regex;
    bool with_alias; /* example.net has the alias X.Example.net */
    const char *want[MAX_LINES];
    const char *never[MAX_LINES];
};

static const struct snippet_case cases[] = {
    {"postfix hash, no alias",
     "postfix",
     "127.0.0.1",
     false,
     false,
     {"recipient_delimiter = +", "unknown_local_recipient_reject_code = 550",
      "owner_request_special = no", "transport_maps = hash:/srv/data/postfix_lmtp",
      "local_recipient_maps = hash:/srv/data/postfix_lmtp",
      "relay_recipient_maps = hash:/srv/data/postfix_lmtp",
      "relay_domains = hash:/srv/data/postfix_domains"},
     /* Postfix answers 451 to all mail while a named map is missing. */
     {"virtual_alias_maps =", "virtual_alias_domains =", "regexp:", "listen everywhere"}},
    {"postfix regexp, alias",
     "postfix",
     "127.0.0.1",
     true,
     true,
     {"transport_maps = regexp:/srv/data/postfix_lmtp",
      "relay_recipient_maps = regexp:/srv/data/postfix_lmtp",
      "relay_domains = regexp:/srv/data/postfix_domains",
      "virtual_alias_maps = regexp:/srv/data/postfix_vmap", "virtual_alias_domains = example.net",
      "# once per process, so run postfix reload after every crier"},
     {"hash:"}},
    {"postfix, wildcard lmtp_host",
     "POSTFIX",
     "0.0.0.0",
     false,
     false,
     {"# run postfix reload). crier's LMTP runner: [0.0.0.0]:8024, written into",
      "# lmtp_host 0.0.0.0 (listen everywhere) is in postfix_lmtp as it"},
     {NULL}},
    {"exim4, no alias",
     "exim4",
     "127.0.0.1",
     false,
     false,
     {"CRIER_LISTS = /srv/lists", "CRIER_LMTP_HOST = 127.0.0.1", "CRIER_LMTP_PORT = 8024",
      "domainlist crier_domains = example.com : example.net", "CRIER_ALIAS_DOMAINS =",
      "  require_files = CRIER_LISTS/${local_part}."
      "${extract{$domain}{CRIER_ALIAS_DOMAINS}{$value}{$domain}}",
      "  rcpt_include_affixes = true"},
     {"x.example.net"}},
    {"exim4, alias and wildcard host",
     "exim4",
     "0.0.0.0",
     false,
     true,
     /* The alias is routed too, to the list of its mail_host. */
     {"domainlist crier_domains = example.com : example.net : x.example.net",
      "CRIER_ALIAS_DOMAINS = x.example.net=example.net", "CRIER_LMTP_HOST = 127.0.0.1"},
     {"0.0.0.0"}},
    {"exim4, IPv6 host", "exim4", "::1", false, false, {"CRIER_LMTP_HOST = <; ::1"}, {NULL}},
    {"sendmail, alias",
     "sendmail",
     "::",
     false,
     true,
     {"\tT=DNS/RFC822/SMTP, A=TCP $h 8024", "example.com\tcrier:[IPv6:::1]",
      "X.Example.net\tcrier:[IPv6:::1]", "X.Example.net"},
     {NULL}},
};

static char *build(const struct snippet_case *c)
{
    struct mta_settings s = {c->lmtp_host, 8024, "/usr/sbin/postmap", c->regex};
    const struct mta_snippet_domain domains[] = {
        {"example.com", NULL},
        {"example.net", c->with_alias ? "X.Example.net" : ""},
    };
    struct mta_snippet_site site = {&s, "/srv/data", "/srv/lists", domains, 2};
    return mta_snippet_build(c->mta, &site);
}

static void test_cases(void **state)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct snippet_case *c = &cases[i];
        g_autofree char *text = build(c);
        if (text == NULL)
            fail_msg("%s: no snippet", c->name);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (size_t w = 0; w < MAX_LINES && c->want[w]; w++)
            if (!g_strv_contains((const char *const *)lines, c->want[w]))
                fail_msg("%s: no line \"%s\" in:\n%s", c->name, c->want[w], text);
        for (size_t n = 0; n < MAX_LINES && c->never[n]; n++)
            if (strstr(text, c->never[n]))
                fail_msg("%s: \"%s\" should not be in:\n%s", c->name, c->never[n], text);
    }
}

/* Every main.cf line is "name = value" or a comment: postconf takes it. */
static void test_postfix_lines_are_settings(void **state)
{
    g_autofree char *text = build(&cases[1]);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++)
        if (**l && **l != '#' && !strstr(*l, " = "))
            fail_msg("not a main.cf setting: \"%s\"", *l);
}

static void test_names(void **state)
{
    assert_true(mta_snippet_known("Exim4"));
    assert_false(mta_snippet_known("qmail"));
    assert_string_equal(mta_snippet_choices(), "'postfix', 'exim4', 'sendmail'");
    const struct snippet_case c = {"qmail", "qmail", "127.0.0.1", false, false, {NULL}, {NULL}};
    assert_null(build(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_postfix_lines_are_settings),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
