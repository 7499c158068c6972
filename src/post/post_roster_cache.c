/* post_roster_cache - see post_roster_cache.h. */
#include "post/post_roster_cache.h"

#include <string.h>

struct cached {
    int64_t version;
    struct post_roster *roster;
};

struct post_roster_cache {
    GHashTable *lists; /* list_id → struct cached */
    size_t min_members, max_bytes;
};

static size_t roster_bytes(const struct post_roster *r)
{
    return r->len + 1 + r->n * sizeof(uint32_t);
}

void post_roster_free(struct post_roster *r)
{
    if (r == NULL)
        return;
    g_free(r->all);
    g_free(r->offsets);
    if (r->no_copy)
        g_hash_table_unref(r->no_copy);
    g_free(r);
}

static void cached_free(gpointer p)
{
    struct cached *c = p;
    post_roster_free(c->roster);
    g_free(c);
}

struct post_roster_cache *post_roster_cache_new(size_t min_members, size_t max_bytes)
{
    struct post_roster_cache *c = g_new0(struct post_roster_cache, 1);
    c->lists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_free);
    c->min_members = min_members;
    c->max_bytes = max_bytes;
    return c;
}

void post_roster_cache_free(struct post_roster_cache *c)
{
    if (c == NULL)
        return;
    g_hash_table_unref(c->lists);
    g_free(c);
}

const struct post_roster *post_roster_cache_get(struct post_roster_cache *c, const char *list_id,
                                                int64_t version)
{
    struct cached *e = g_hash_table_lookup(c->lists, list_id);
    if (e == NULL)
        return NULL;
    if (e->version == version)
        return e->roster;
    /* Out of date: nothing else will ever ask for this one. */
    g_hash_table_remove(c->lists, list_id);
    return NULL;
}

struct post_roster *post_roster_cache_put(struct post_roster_cache *c, const char *list_id,
                                          int64_t version, char *all, size_t len,
                                          GHashTable *no_copy, bool *kept_r)
{
    struct post_roster *r = g_new0(struct post_roster, 1);
    r->all = all;
    r->len = len;
    r->no_copy = no_copy;
    *kept_r = false;
    /* Offsets are 32-bit, as in post_recipients, which stops before a
     * list this long is built; a roster without offsets would send the
     * post to no one, so this is never returned quietly. */
    if (len >= UINT32_MAX)
        g_error("post_roster_cache: more than 4 GiB of addresses");
    size_t n = len ? 1 : 0;
    for (const char *p = all; (p = memchr(p, '\n', len - (size_t)(p - all))) != NULL; p++)
        n++;
    r->offsets = g_new(uint32_t, n ? n : 1);
    r->n = n;
    size_t k = 0, start = 0;
    for (size_t i = 0; n && i <= len; i++) {
        if (i == len || all[i] == '\n') {
            r->offsets[k++] = (uint32_t)start;
            start = i + 1;
        }
    }
    size_t bytes = roster_bytes(r);
    if (n < c->min_members || bytes > c->max_bytes)
        return r;
    g_hash_table_remove(c->lists, list_id);
    size_t total = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->lists);
    while (g_hash_table_iter_next(&it, NULL, &v))
        total += roster_bytes(((struct cached *)v)->roster);
    if (total + bytes > c->max_bytes)
        g_hash_table_remove_all(c->lists);
    struct cached *e = g_new0(struct cached, 1);
    e->version = version;
    e->roster = r;
    g_hash_table_insert(c->lists, g_strdup(list_id), e);
    *kept_r = true;
    return r;
}

/* The address at index i, and its length. */
static const char *entry_at(const struct post_roster *r, size_t i, size_t *len_r)
{
    size_t start = r->offsets[i];
    size_t end = i + 1 < r->n ? r->offsets[i + 1] - 1 : r->len;
    *len_r = end - start;
    return r->all + start;
}

ptrdiff_t post_roster_find(const struct post_roster *r, const char *address)
{
    size_t alen = strlen(address);
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, elen;
        const char *e = entry_at(r, mid, &elen);
        int cmp = memcmp(e, address, MIN(elen, alen));
        if (cmp == 0)
            cmp = elen < alen ? -1 : (elen > alen ? 1 : 0);
        if (cmp == 0)
            return (ptrdiff_t)mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}
