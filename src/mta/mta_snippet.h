/*
 * mta_snippet - the configuration lines that hook an MTA up to this crier
 * installation, for `crier aliases --snippet MTA` and docs/mta.md:
 *
 *   postfix   main.cf lines on the maps in map_dir (hash: or regexp:)
 *   exim4     macros, a domain list, the list router and the LMTP transport
 *             (Exim finds a list by its directory in list_data_dir)
 *   sendmail  sendmail.mc lines, the "crier" LMTP mailer, the mailertable
 *             and relay-domains contents
 *
 * They are the settings tests/integration/test_postfix.py, test_exim.py and
 * test_sendmail.py run real MTAs with, paths, host and port filled in.
 *
 * mta_snippet_build returns a newly allocated string (g_free), or NULL when
 * it does not know the MTA; mta_snippet_choices returns a static string.
 */
#ifndef CRIER_MTA_SNIPPET_H
#define CRIER_MTA_SNIPPET_H

#include "mta/mta.h"

#include <stdbool.h>
#include <stddef.h>

struct mta_snippet_domain {
    const char *mail_host;
    const char *alias_domain; /* NULL or "" when the domain has none */
};

struct mta_snippet_site {
    const struct mta_settings *mta;           /* lmtp_host, lmtp_port, regex */
    const char *map_dir;                      /* where postfix_lmtp and friends are */
    const char *list_data_dir;                /* list_data_dir: one directory per list */
    const struct mta_snippet_domain *domains; /* sorted by mail_host */
    size_t n_domains;
};

/* The snippet for mta ("postfix", "exim4" or "sendmail", any case). */
char *mta_snippet_build(const char *mta, const struct mta_snippet_site *site);

/* Whether mta_snippet_build knows mta. */
bool mta_snippet_known(const char *mta);

/* "'postfix', 'exim4', 'sendmail'": the accepted names, for usage errors. */
const char *mta_snippet_choices(void);

#endif
