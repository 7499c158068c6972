/*
 * post_template_uri - the first step of Mailman's ITemplateLoader: template
 * URIs set through REST (/lists/<l>/uris, /domains/<d>/uris, /uris; the
 * store's template table), looked up for the list, then its domain, then
 * the site, before template_dir's files and the built-in texts
 * (post_template in post_pipeline.c).
 *
 * A URI's $list_id, $listname, $domain_name and $language are substituted
 * first, as Mailman's expand(). file:// is read directly at every lookup
 * (Mailman caches it too, so that an edited file shows only after
 * [mailman] cache_life); http:// and https:// are fetched with a
 * POST_TEMPLATE_URI_TIMEOUT-second timeout, HTTP Basic auth when the
 * template has a username and password, certificates checked against the
 * system's CAs, and kept for [mailman] cache_life (as Mailman's cache
 * manager; at most POST_TEMPLATE_URI_CACHE entries per process). A 404 is
 * an empty template (as Mailman); another failure (unreachable, other
 * status, a file that cannot be read, not UTF-8, over
 * POST_TEMPLATE_URI_MAX bytes) is logged and the next context is tried; a
 * failed http(s) URI is not tried again for POST_TEMPLATE_URI_RETRY
 * seconds, so a dead server does not stall every delivery.
 *
 * The store is opened on first use in each process (runners are forked
 * processes; a connection is never shared across fork).
 */
#ifndef CRIER_POST_TEMPLATE_URI_H
#define CRIER_POST_TEMPLATE_URI_H

#define POST_TEMPLATE_URI_TIMEOUT 5
#define POST_TEMPLATE_URI_MAX     (1024 * 1024)
#define POST_TEMPLATE_URI_CACHE   64
#define POST_TEMPLATE_URI_RETRY   60

struct config;
struct store_list;

/* The template's text (g_free) from the first URI set for it, or NULL when
 * no URI is set (or none could be fetched). l NULL: the site only. */
char *post_template_uri(struct config *cfg, const struct store_list *l, const char *name);

#endif
