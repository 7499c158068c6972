/*
 * post_dmarc - DMARC mitigation on the posting path (reference §6.2, §6.5),
 * as Mailman 3.3.8's rules/dmarc.py, chains/dmarc.py and handlers/dmarc.py.
 *
 *   post_dmarc_rule     the dmarc-mitigation rule. With a list action other
 *                       than no_mitigation it looks up the From domain's
 *                       DMARC policy (_dmarc.<domain>, then the
 *                       organisational domain's, whose sp= wins). p=reject
 *                       or quarantine and action reject/discard: a hit (1),
 *                       with the metadata "dmarc_action" and the moderation
 *                       reason. munge_from/wrap_message: a miss (0) that
 *                       sets the metadata "dmarc" for the handler.
 *   post_dmarc_chain    the dmarc chain: POST_REJECT or POST_DISCARD.
 *   post_dmarc_handler  the pipeline's dmarc handler: munge_from or
 *                       wrap_message when the rule flagged the post or the
 *                       list mitigates unconditionally; not on anonymous
 *                       lists.
 *
 * Unlike Mailman, a DNS failure (timeout, SERVFAIL, no server) counts as
 * "no policy": Mailman mitigates then. The public suffix list is Debian's
 * file (or a file:// org_domain_data_url); nothing is downloaded.
 * The pieces below the line are exposed for the unit tests.
 */
#ifndef CRIER_POST_DMARC_H
#define CRIER_POST_DMARC_H

#include "post/post.h"

#include <glib.h>
#include <stdbool.h>

/* Debian's publicsuffix package. */
#define POST_DMARC_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

int post_dmarc_rule(struct post_ctx *c);
enum post_verdict post_dmarc_chain(struct post_ctx *c);
void post_dmarc_handler(struct post_ctx *c);

/* ---- exposed for tests ---- */

enum post_dmarc_policy {
    POST_DMARC_KEEP_LOOKING = -1, /* no v=DMARC1 record: try the org domain */
    POST_DMARC_NO = 0,            /* none, or no p=, or several records */
    POST_DMARC_YES = 1,           /* p= (sp= for the org domain) reject or quarantine */
};
/* Mailman's verdict on the TXT records of one _dmarc name; org: the
 * organisational domain's record, where sp= overrides p=. *policy_r and
 * *entry_r (g_free, may be NULL) get the policy and the record on YES. */
enum post_dmarc_policy post_dmarc_policy(GPtrArray *txt, bool org, const char *dmarc_domain,
                                         char **policy_r, char **entry_r);

/* The public suffix list's rules: rule text (lower-case, without '!') →
 * GINT_TO_POINTER(1) for a rule, (2) for an exception. g_hash_table_unref. */
GHashTable *post_dmarc_psl_parse(const char *text);
/* Mailman's get_organizational_domain(). g_free. */
char *post_dmarc_org_domain(GHashTable *rules, const char *domain);

/* Mailman's utilities.string.wrap(): paragraphs filled to 70 columns as
 * textwrap does (sentence ends get two spaces), indented ones kept. g_free. */
char *post_dmarc_wrap(const char *text);

/* The realname Mailman puts before " via <Display>": a name that ends like
 * an address domain loses it ("a@b.c" → "a---"). g_free. */
char *post_dmarc_realname(const char *name);

#endif
