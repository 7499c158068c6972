/*
 * mta - what the MTA needs to know about the lists (reference §3): the
 * module named by [mta] incoming, and the Postfix map writer.
 *
 *   mailman.mta.postfix.LMTP  postfix_lmtp, postfix_domains and (when some
 *                             list's domain has an alias_domain)
 *                             postfix_vmap, byte-identical to Mailman's;
 *                             postmap_command run on each in hash mode
 *   mailman.mta.exim4.LMTP    no files: Exim finds a list by its directory
 *                             list_data_dir/<list_id>, which crier creates
 *                             with every list and removes with it
 *   mailman.mta.null.NullMTA  nothing
 *
 * The main.cf lines that hook Postfix up to them come from
 * mta_snippet_build("postfix", ...) (mta_snippet.h), the only place that
 * writes them.
 *
 * Writers are serialized by the caller (it holds LOCK_DIR/mta). Functions
 * return 0, or -1 with a newly allocated *error_r.
 */
#ifndef CRIER_MTA_H
#define CRIER_MTA_H

#include <stdbool.h>
#include <stddef.h>

enum mta_kind { MTA_POSTFIX, MTA_EXIM4, MTA_NULL };

struct mta_list {
    const char *list_name;
    const char *mail_host;
    const char *alias_domain; /* NULL or "" when the domain has none */
};

struct mta_settings {
    const char *lmtp_host;
    unsigned lmtp_port;
    const char *postmap_command; /* run as "<command> <path>" through /bin/sh */
    bool regex;                  /* transport_file_type: regex (else hash) */
};

/* The module for an [mta] incoming value (already checked by the config). */
enum mta_kind mta_kind_of(const char *incoming);

/* Writes the three Postfix files into dir; timestamp is the header's
 * "YYYY-MM-DD HH:MM:SS" (UTC). In hash mode postmap runs once per file
 * written, and failures give Mailman's "command failure: CMD, STATUS,
 * STRERROR" lines. */
int mta_postfix_write(const struct mta_settings *s, const char *dir, const struct mta_list *lists,
                      size_t n, const char *timestamp, char **error_r);

#endif
