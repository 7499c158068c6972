/*
 * bounce - who a bounce is about (reference §5), without I/O:
 *
 * bounce_verp(): Mailman's StandardVERP. Every address in To,
 *   Delivered-To, Envelope-To and Apparently-To is matched against
 *   [mta] verp_regexp (case-insensitive); a match whose `bounces` group is
 *   the list's -bounces local part gives `local@domain`.
 * bounce_dsn(): RFC 3464 delivery status notifications, as flufl.bounce's
 *   DSN detector reads them: every message/delivery-status part, every
 *   per-recipient block. An Action starting with "delayed" is temporary,
 *   one starting with "fail" or "error" is permanent, others are ignored.
 *   The address comes from Original-Recipient, else Final-Recipient
 *   ("rfc822; addr", or a bare "<addr>").
 *
 * Results are sets of addresses (GHashTable used as a set, keys owned by
 * the table; g_hash_table_unref). A message that GMime cannot parse gives
 * empty sets. Limits: BOUNCE_MAX_PARTS MIME parts are looked at.
 */
#ifndef CRIER_BOUNCE_H
#define CRIER_BOUNCE_H

#include <glib.h>
#include <stddef.h>

#define BOUNCE_MAX_PARTS 200

/* verp_re: the compiled verp_regexp (lib/regex.h); bounces_local: the local
 * part of the list's -bounces address. */
GHashTable *bounce_verp(const char *msg, size_t len, const GRegex *verp_re,
                        const char *bounces_local);

/* Mailman's ProbeVERP: the same headers matched against [mta]
 * verp_probe_regexp; gives the probe tokens (lower-case). */
GHashTable *bounce_verp_probe(const char *msg, size_t len, const GRegex *probe_re,
                              const char *bounces_local);

struct bounce_dsn {
    GHashTable *permanent;
    GHashTable *temporary;
};

void bounce_dsn(const char *msg, size_t len, struct bounce_dsn *result);
void bounce_dsn_clear(struct bounce_dsn *result);

/* The common formats that are not DSNs (flufl.bounce's heuristic
 * detectors): Postfix's and qmail's "<addr>: reason" reports, Exim's
 * indented recipients, Exchange/Outlook's "Delivery has failed to these
 * recipients or groups", Gmail's "Delivery to the following recipient failed
 * permanently" and "wasn't delivered to". Adds permanent failures to the
 * set. Delay warnings are not failures. */
void bounce_heuristics(const char *msg, size_t len, GHashTable *permanent);

/* Parses the body of one message/delivery-status part (exposed for tests). */
void bounce_dsn_parse_status(const char *text, size_t len, struct bounce_dsn *result);

#endif
