/*
 * post_roster_cache - the pipeline runner's memory of large rosters.
 *
 * member-recipients reads a list's whole regular-delivery roster for every
 * post: about 0.4 s for 1,000,000 members. The roster rarely changes
 * between two posts, so the runner keeps the sorted result of the last
 * scan of each large list, tagged with store_roster_version (a counter
 * that database triggers move on every change a roster can see), and
 * uses it while the counter has not moved. A post still gets its own
 * list: the cached one without the sender (receive_own_postings) and
 * without the explicit recipients who do not want a list copy.
 *
 * Only rosters of at least min_members are kept (a small one costs less
 * to read than to copy), and at most max_bytes of them in all: storing a
 * roster that does not fit empties the cache first.
 *
 * Ownership: post_roster_cache_put takes the strings it is given; the
 * roster returned by post_roster_cache_get stays owned by the cache and
 * valid until the next put or free.
 */
#ifndef CRIER_POST_ROSTER_CACHE_H
#define CRIER_POST_ROSTER_CACHE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct post_roster_cache;

struct post_roster {
    char *all;         /* sorted by bytes, joined by "\n", NUL-terminated */
    size_t len;        /* of all, without the NUL */
    uint32_t *offsets; /* n: where each address starts in all */
    size_t n;
    GHashTable *no_copy; /* addresses with receive_list_copy off (char *) */
};

struct post_roster_cache *post_roster_cache_new(size_t min_members, size_t max_bytes);
void post_roster_cache_free(struct post_roster_cache *c);

/* The roster of list_id as of version, or NULL. */
const struct post_roster *post_roster_cache_get(struct post_roster_cache *c, const char *list_id,
                                                int64_t version);
/* Builds a roster from all (sorted, "\n"-joined, len bytes) and no_copy,
 * taking both; keeps it when it is large enough and fits. Returns the
 * roster, to be freed with post_roster_free when *kept_r is false. */
struct post_roster *post_roster_cache_put(struct post_roster_cache *c, const char *list_id,
                                          int64_t version, char *all, size_t len,
                                          GHashTable *no_copy, bool *kept_r);
void post_roster_free(struct post_roster *r);

/* Where address sits in r (byte order, as r is sorted), or -1. */
ptrdiff_t post_roster_find(const struct post_roster *r, const char *address);

#endif
