/* deliver_chunk - see deliver_chunk.h. */
#include "deliver/deliver_chunk.h"

#include <stdbool.h>
#include <string.h>

static int bucket_of(const char *addr)
{
    const char *dot = strrchr(addr, '.');
    const char *at = strrchr(addr, '@');
    const char *tld = dot && (!at || dot > at) ? dot + 1 : (at ? at + 1 : addr);
    static const struct {
        const char *tld;
        int bucket;
    } map[] = {{"com", 1}, {"net", 2}, {"org", 2}, {"edu", 3}, {"us", 3}, {"ca", 3}};
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (strcmp(tld, map[i].tld) == 0)
            return map[i].bucket;
    return 0;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gint cmp_len_desc(gconstpointer a, gconstpointer b)
{
    const GPtrArray *x = *(GPtrArray *const *)a, *y = *(GPtrArray *const *)b;
    return x->len == y->len ? 0 : (x->len > y->len ? -1 : 1);
}

static bool sorted(const GPtrArray *a)
{
    for (guint i = 1; i < a->len; i++)
        if (strcmp(a->pdata[i - 1], a->pdata[i]) > 0)
            return false;
    return true;
}

static void flush(GPtrArray *chunks, GPtrArray **chunk)
{
    if ((*chunk)->len == 0)
        return;
    /* The pipeline hands the recipients over sorted, and a bucket keeps
     * their order: checking costs one comparison an address, sorting
     * anyway several. */
    if (!sorted(*chunk))
        g_ptr_array_sort(*chunk, cmp_str);
    g_ptr_array_add(chunks, *chunk);
    *chunk = g_ptr_array_new();
}

GPtrArray *deliver_chunkify(char **recipients, guint n, guint max_recipients)
{
    GPtrArray *chunks = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    GPtrArray *chunk = g_ptr_array_new();
    if (max_recipients == 0) {
        for (guint i = 0; i < n; i++)
            g_ptr_array_add(chunk, recipients[i]);
        flush(chunks, &chunk);
        g_ptr_array_unref(chunk);
        return chunks;
    }
    GPtrArray *buckets[4] = {NULL};
    GPtrArray *order = g_ptr_array_new(); /* buckets in order of first appearance */
    for (guint i = 0; i < n; i++) {
        int b = bucket_of(recipients[i]);
        if (buckets[b] == NULL) {
            buckets[b] = g_ptr_array_new();
            g_ptr_array_add(order, buckets[b]);
        }
        g_ptr_array_add(buckets[b], recipients[i]);
    }
    /* g_ptr_array_sort is a stable merge sort: ties keep their order. */
    g_ptr_array_sort(order, cmp_len_desc);
    for (guint b = 0; b < order->len; b++) {
        GPtrArray *bucket = order->pdata[b];
        for (guint i = 0; i < bucket->len; i++) {
            g_ptr_array_add(chunk, bucket->pdata[i]);
            if (chunk->len == max_recipients)
                flush(chunks, &chunk);
        }
        flush(chunks, &chunk);
        g_ptr_array_unref(bucket);
    }
    g_ptr_array_unref(order);
    g_ptr_array_unref(chunk);
    return chunks;
}
