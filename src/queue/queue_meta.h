/*
 * queue_meta - the metadata of a queue entry: an ordered map from key to a
 * byte-string value, and the escaping that lets any value live on one line
 * of a queue file.
 *
 * Keys are 1..QUEUE_META_MAX_KEY bytes of [A-Za-z0-9_.]. Keys starting with
 * '_' are runtime-only (Mailman's convention): they live in the map but are
 * never written to disk. Values are arbitrary bytes (NUL included); every
 * stored value is also NUL-terminated so that text values can be used as C
 * strings. Insertion order is kept and is the order written to disk.
 *
 * Ownership: the map copies keys and values; pointers returned by the
 * getters belong to the map and stay valid until the key is set again or
 * removed, or the map is freed.
 *
 * Escaping (values only; see docs/queues.md): '\' -> "\\", LF -> "\n",
 * CR -> "\r", every other byte below 0x20 and 0x7f -> "\xHH" (lower-case
 * hex). Bytes 0x20..0x7e other than '\' and all bytes >= 0x80 are written as
 * they are, so UTF-8 stays readable.
 */
#ifndef CRIER_QUEUE_META_H
#define CRIER_QUEUE_META_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_META_MAX_KEY 128

struct queue_meta;

struct queue_meta *queue_meta_new(void);
void queue_meta_free(struct queue_meta *meta);
struct queue_meta *queue_meta_copy(const struct queue_meta *meta);

/* True if key follows the key grammar above. */
bool queue_meta_key_valid(const char *key);

/* Sets key to value (a C string, or len bytes), replacing any previous value
 * in place (the key keeps its position). */
void queue_meta_set(struct queue_meta *meta, const char *key, const char *value);
void queue_meta_set_len(struct queue_meta *meta, const char *key, const void *value, size_t len);
/* Like queue_meta_set_len, but takes value (g_malloc'd, len bytes and a
 * NUL at value[len]) instead of copying it: a recipient list of many
 * megabytes is not duplicated. */
void queue_meta_set_owned(struct queue_meta *meta, const char *key, char *value, size_t len);
void queue_meta_set_uint(struct queue_meta *meta, const char *key, uint64_t value);

/* The value of key (NUL-terminated; *len_r gets its length), or NULL. */
const char *queue_meta_get(const struct queue_meta *meta, const char *key);
const char *queue_meta_get_len(const struct queue_meta *meta, const char *key, size_t *len_r);

/* Lookup of an unsigned decimal value: 1 found (in *value_r), 0 absent,
 * -1 present but not a decimal number below 2^64 (error in *error_r). */
int queue_meta_get_uint(const struct queue_meta *meta, const char *key, uint64_t *value_r,
                        char **error_r);

/* Removes key and hands its value over (g_free; NUL-terminated, *len_r
 * bytes), or NULL when absent: for a reader that cuts a large value in
 * place instead of copying it. */
char *queue_meta_steal(struct queue_meta *meta, const char *key, size_t *len_r);

/* Removes key; returns whether it was present. */
bool queue_meta_remove(struct queue_meta *meta, const char *key);

size_t queue_meta_count(const struct queue_meta *meta);
/* The i-th key in insertion order (i < count); its value through value_r
 * and len_r (either may be NULL). */
const char *queue_meta_nth(const struct queue_meta *meta, size_t i, const char **value_r,
                           size_t *len_r);

/* The length of value once escaped. */
size_t queue_meta_escaped_len(const void *value, size_t len);
/* Appends the escaped form of value to out. */
void queue_meta_escape(GString *out, const void *value, size_t len);
/* Appends the bytes that the escaped text in[0..len) stands for to out.
 * Returns 0, or -1 on a malformed escape or a raw control byte. */
int queue_meta_unescape(GString *out, const char *in, size_t len);
/* The same into out, which has room for len bytes (the unescaped text is
 * never longer): the byte count written, or (size_t)-1 when malformed. */
size_t queue_meta_unescape_to(char *out, const char *in, size_t len);

#endif
