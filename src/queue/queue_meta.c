/* queue_meta - see queue_meta.h. */
#include "queue/queue_meta.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct queue_meta_item {
    char *key;
    char *value; /* len bytes plus a NUL */
    size_t len;
};

struct queue_meta {
    /* A handful of keys per entry: a linear scan beats a hash table here and
     * keeps the insertion order for free. */
    GPtrArray *items;
};

static void item_free(gpointer p)
{
    struct queue_meta_item *item = p;
    g_free(item->key);
    g_free(item->value);
    g_free(item);
}

struct queue_meta *queue_meta_new(void)
{
    struct queue_meta *meta = g_new0(struct queue_meta, 1);
    meta->items = g_ptr_array_new_with_free_func(item_free);
    return meta;
}

void queue_meta_free(struct queue_meta *meta)
{
    if (meta == NULL)
        return;
    g_ptr_array_free(meta->items, TRUE);
    g_free(meta);
}

struct queue_meta *queue_meta_copy(const struct queue_meta *meta)
{
    struct queue_meta *copy = queue_meta_new();
    for (guint i = 0; i < meta->items->len; i++) {
        const struct queue_meta_item *item = g_ptr_array_index(meta->items, i);
        queue_meta_set_len(copy, item->key, item->value, item->len);
    }
    return copy;
}

bool queue_meta_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > QUEUE_META_MAX_KEY)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!g_ascii_isalnum(c) && c != '_' && c != '.')
            return false;
    }
    return true;
}

static struct queue_meta_item *find(const struct queue_meta *meta, const char *key, guint *index_r)
{
    for (guint i = 0; i < meta->items->len; i++) {
        struct queue_meta_item *item = g_ptr_array_index(meta->items, i);
        if (strcmp(item->key, key) == 0) {
            if (index_r != NULL)
                *index_r = i;
            return item;
        }
    }
    return NULL;
}

void queue_meta_set_len(struct queue_meta *meta, const char *key, const void *value, size_t len)
{
    char *copy = g_malloc(len + 1);
    if (len > 0)
        memcpy(copy, value, len);
    copy[len] = '\0';
    queue_meta_set_owned(meta, key, copy, len);
}

void queue_meta_set_owned(struct queue_meta *meta, const char *key, char *copy, size_t len)
{
    struct queue_meta_item *item = find(meta, key, NULL);
    if (item != NULL) {
        g_free(item->value);
    } else {
        item = g_new0(struct queue_meta_item, 1);
        item->key = g_strdup(key);
        g_ptr_array_add(meta->items, item);
    }
    item->value = copy;
    item->len = len;
}

void queue_meta_set(struct queue_meta *meta, const char *key, const char *value)
{
    queue_meta_set_len(meta, key, value, strlen(value));
}

void queue_meta_set_uint(struct queue_meta *meta, const char *key, uint64_t value)
{
    char buf[32];
    int n = g_snprintf(buf, sizeof buf, "%" PRIu64, value);
    queue_meta_set_len(meta, key, buf, (size_t)n);
}

const char *queue_meta_get_len(const struct queue_meta *meta, const char *key, size_t *len_r)
{
    const struct queue_meta_item *item = find(meta, key, NULL);
    if (item == NULL)
        return NULL;
    if (len_r != NULL)
        *len_r = item->len;
    return item->value;
}

const char *queue_meta_get(const struct queue_meta *meta, const char *key)
{
    return queue_meta_get_len(meta, key, NULL);
}

int queue_meta_get_uint(const struct queue_meta *meta, const char *key, uint64_t *value_r,
                        char **error_r)
{
    size_t len;
    const char *value = queue_meta_get_len(meta, key, &len);
    if (value == NULL)
        return 0;
    /* strtoull alone accepts signs, blanks and an empty string. */
    bool digits = len > 0 && len <= 20;
    for (size_t i = 0; digits && i < len; i++)
        digits = g_ascii_isdigit(value[i]);
    errno = 0;
    unsigned long long n = digits ? strtoull(value, NULL, 10) : 0;
    if (!digits || errno != 0) {
        *error_r = g_strdup_printf("metadata %s is not an unsigned number", key);
        return -1;
    }
    *value_r = n;
    return 1;
}

char *queue_meta_steal(struct queue_meta *meta, const char *key, size_t *len_r)
{
    guint index;
    struct queue_meta_item *item = find(meta, key, &index);
    if (item == NULL)
        return NULL;
    char *value = g_steal_pointer(&item->value);
    if (len_r != NULL)
        *len_r = item->len;
    g_ptr_array_remove_index(meta->items, index);
    return value;
}

bool queue_meta_remove(struct queue_meta *meta, const char *key)
{
    guint index;
    if (find(meta, key, &index) == NULL)
        return false;
    g_ptr_array_remove_index(meta->items, index);
    return true;
}

size_t queue_meta_count(const struct queue_meta *meta)
{
    return meta->items->len;
}

const char *queue_meta_nth(const struct queue_meta *meta, size_t i, const char **value_r,
                           size_t *len_r)
{
    const struct queue_meta_item *item = g_ptr_array_index(meta->items, i);
    if (value_r != NULL)
        *value_r = item->value;
    if (len_r != NULL)
        *len_r = item->len;
    return item->key;
}

/* How many bytes escaping adds to each byte: 0 for those written as they
 * are, 1 for \\ \n \r, 3 for \xHH. A table, so that measuring and copying
 * a 25 MB value are plain loops. */
/* clang-format off */
static const unsigned char escape_extra[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 3, 3, 1, 3, 3, /* 0x00-0x0f: LF, CR 1 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x10-0x1f */
    ['\\'] = 1,
    [0x7f] = 3,
};
/* clang-format on */

/* Bytes written as themselves. */
static bool plain_byte(unsigned char c)
{
    return escape_extra[c] == 0;
}

/* Eight bytes at a time: a mask with the high bit set in every byte of the
 * word that is below 0x20, a backslash or DEL (the bytes that are not
 * plain), by the classic has-zero / has-less bit tricks. Their borrows can
 * also flag a byte above a true hit, never one below it, so the lowest
 * flag is exact. */
#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static uint64_t word_specials(uint64_t w)
{
    uint64_t ctl = (w - ONES * 0x20) & ~w & HIGHS;
    uint64_t bs = w ^ (ONES * '\\'), del = w ^ (ONES * 0x7f);
    return ctl | ((bs - ONES) & ~bs & HIGHS) | ((del - ONES) & ~del & HIGHS);
}

/* The length of the run of plain bytes at the start of p[0, len): a
 * recipient list is long runs (the addresses) between single newlines. */
static size_t plain_run(const unsigned char *p, size_t len)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Little-endian: the word's lowest byte is the first in memory. */
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        uint64_t m = word_specials(w);
        if (m != 0)
            return i + (size_t)__builtin_ctzll(m) / 8;
    }
#endif
    while (i < len && plain_byte(p[i]))
        i++;
    return i;
}

/* The escaped form is sized first and written in place: a recipient list of
 * 25 MB is one allocation and one pass of plain stores, not 25 million
 * appends. */
size_t queue_meta_escaped_len(const void *value, size_t len)
{
    const unsigned char *p = value;
    size_t n = len;
    for (size_t i = 0; i < len; i++) {
        i += plain_run(p + i, len - i);
        if (i < len)
            n += escape_extra[p[i]];
    }
    return n;
}

void queue_meta_escape(GString *out, const void *value, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = value;
    size_t start = out->len;
    g_string_set_size(out, start + queue_meta_escaped_len(value, len));
    char *o = out->str + start;
    for (size_t i = 0; i < len; i++) {
        size_t run = plain_run(p + i, len - i);
        memcpy(o, p + i, run);
        o += run;
        i += run;
        if (i == len)
            break;
        unsigned char c = p[i];
        if (c == '\\' || c == '\n' || c == '\r') {
            *o++ = '\\';
            *o++ = c == '\\' ? '\\' : c == '\n' ? 'n' : 'r';
        } else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t queue_meta_unescape_to(char *out, const char *in, size_t len)
{
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        size_t run = plain_run((const unsigned char *)in + i, len - i);
        memcpy(o, in + i, run);
        o += run;
        i += run;
        if (i == len)
            break;
        unsigned char c = (unsigned char)in[i];
        /* A raw control byte means the writer was not ours: refuse it rather
         * than guess what it meant. */
        if (c != '\\' || ++i >= len)
            return (size_t)-1;
        switch (in[i]) {
        case '\\':
            *o++ = '\\';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 'x': {
            if (i + 2 >= len)
                return (size_t)-1;
            int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return (size_t)-1;
            *o++ = (char)(hi << 4 | lo);
            i += 2;
            break;
        }
        default:
            return (size_t)-1;
        }
    }
    return (size_t)(o - out);
}

int queue_meta_unescape(GString *out, const char *in, size_t len)
{
    size_t start = out->len;
    g_string_set_size(out, start + len);
    size_t n = queue_meta_unescape_to(out->str + start, in, len);
    if (n == (size_t)-1) {
        g_string_truncate(out, start);
        return -1;
    }
    g_string_truncate(out, start + n);
    return 0;
}
