/*
 * post_dmarc_dns - the DNS half of DMARC mitigation: the TXT records of a
 * `_dmarc.<domain>` name, through c-ares, with Mailman's [dmarc] timeouts
 * and a per-process cache.
 *
 *   resolver_timeout   one attempt at one name server (c-ares' timeout)
 *   resolver_lifetime  the whole question; past it the query is cancelled
 *   resolver           crier's own key: "host[:port]" (IPv6 as "[addr]:port"),
 *                      comma-separated for several; empty = /etc/resolv.conf
 *   cache_lifetime     answers are kept for their DNS TTL, at most this long;
 *                      failures are never cached
 *
 * The lookup is synchronous (as Mailman's dnspython call is): the incoming
 * runner waits at most resolver_lifetime per name.
 */
#ifndef CRIER_POST_DMARC_DNS_H
#define CRIER_POST_DMARC_DNS_H

#include <glib.h>

struct config;

enum post_dmarc_dns_status {
    POST_DMARC_DNS_FOUND, /* TXT records for the name (after CNAMEs) */
    POST_DMARC_DNS_NONE,  /* NXDOMAIN, or no TXT record for the name */
    POST_DMARC_DNS_FAIL,  /* timeout, SERVFAIL, refused, bad answer, bad resolver */
};

/* Looks up the TXT records of name (ASCII; IDNA already applied). FOUND:
 * *txt_r gets each record's strings joined, as UTF-8 (g_ptr_array_unref),
 * and *cname_r the name they belong to, with a final dot as Mailman logs it
 * (g_free). FAIL: *error_r gets the reason (g_free). */
enum post_dmarc_dns_status post_dmarc_dns_txt(const struct config *cfg, const char *name,
                                              GPtrArray **txt_r, char **cname_r, char **error_r);

/* Parses a DNS answer to a TXT question for qname: the TXT records of the
 * name the answer's CNAME chain ends at. *ttl_r: the smallest TTL of the
 * answer records, or for an answer without them the negative TTL of the
 * authority SOA (RFC 2308 §5), -1 when there is none. Returns FOUND, NONE
 * or FAIL (malformed). Exposed for the unit tests. */
enum post_dmarc_dns_status post_dmarc_dns_parse(const unsigned char *abuf, int alen,
                                                const char *qname, GPtrArray **txt_r,
                                                char **cname_r, long *ttl_r);

/* Forgets every cached answer (tests). */
void post_dmarc_dns_cache_clear(void);

#endif
