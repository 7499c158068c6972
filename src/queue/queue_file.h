/*
 * queue_file - the on-disk form of one queue entry, and its file name.
 *
 * A queue file is (see docs/queues.md):
 *     crier-queue 1\n
 *     message-size: <decimal byte count of the message>\n
 *     <key>: <escaped value>\n          (zero or more, see queue_meta.h)
 *     \n
 *     <the raw message bytes, exactly message-size of them>
 * It is not a Python pickle, although it keeps Mailman's file names:
 * "<seconds>.<7 digits>+<40 hex digits of SHA-1>" plus ".pck" (waiting),
 * ".bak" (claimed by a runner), ".psv" (preserved in bad) or ".tmp" (being
 * written).
 *
 * Parsing is strict and bounded: anything but the exact layout (wrong
 * version, a line over QUEUE_FILE_MAX_LINE, a metadata block over
 * QUEUE_FILE_MAX_META or QUEUE_FILE_MAX_KEYS keys, a duplicate key, a bad
 * escape, a message shorter or longer than message-size) is an error.
 *
 * Functions returning int give 0 or -1 with a newly allocated *error_r.
 * Returned strings and maps are newly allocated (g_free, queue_meta_free).
 */
#ifndef CRIER_QUEUE_FILE_H
#define CRIER_QUEUE_FILE_H

#include "queue/queue_meta.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_FILE_MAGIC     "crier-queue"
#define QUEUE_FILE_VERSION   1
#define QUEUE_FILE_SIZE_KEY  "message-size"
#define QUEUE_FILE_MAX_LINE  (64u << 20) /* one metadata line: 1,000,000 recipients fit */
#define QUEUE_FILE_MAX_META  (96u << 20) /* the whole metadata block */
#define QUEUE_FILE_MAX_KEYS  1024u
#define QUEUE_FILE_MAX_SIZE  (1024u << 20) /* a whole file, message included */
#define QUEUE_FILE_BASE_MAX  64            /* strlen of a base we create, with room */
#define QUEUE_FILE_MAX_SLICE (1u << 16)    /* most instances of one runner */

/* Appends the header (version line, message-size, metadata, blank line) for
 * a message of msg_len bytes to out. Keys starting with '_' are skipped; an
 * invalid key is an error. */
int queue_file_format_header(GString *out, const struct queue_meta *meta, size_t msg_len,
                             char **error_r);
/* The same without the key skip (NULL: none), so that a writer need not copy
 * the whole map, recipients and all, to leave one key out. */
int queue_file_format_header_skip(GString *out, const struct queue_meta *meta, const char *skip,
                                  size_t msg_len, char **error_r);

/* The checks of queue_file_format_header_skip alone (nothing is built). */
int queue_file_check_header(const struct queue_meta *meta, const char *skip, size_t msg_len,
                            char **error_r);
/* Writes the header (which must have passed queue_file_check_header) and
 * the message to fd, through a buffer of about 1 MiB: a value of many
 * megabytes (a fan-out's recipients) is escaped slice by slice, never
 * whole in memory a second time. -1 with errno. */
int queue_file_write_entry(int fd, const struct queue_meta *meta, const char *skip, const void *msg,
                           size_t msg_len);

/* Parses a whole file image. On success *meta_r is the metadata and the
 * message is data[*msg_off_r .. len). */
int queue_file_parse(const char *data, size_t len, struct queue_meta **meta_r, size_t *msg_off_r,
                     char **error_r);

/* Reads the file name (relative to the directory dirfd) into memory, at most
 * QUEUE_FILE_MAX_SIZE bytes. *data_r is NUL-terminated. -1 with errno set on
 * a system error (ENOENT when the file is gone), with errno EFBIG when too
 * large. */
int queue_file_read(int dirfd, const char *name, char **data_r, size_t *len_r, char **error_r);

/* Writes head then body to fd, retrying short writes; -1 with errno. */
int queue_file_write_all(int fd, const void *head, size_t head_len, const void *body,
                         size_t body_len);

/* renameat that never replaces an existing file (RENAME_NOREPLACE, or a
 * check first where the file system lacks it); -1 with errno (EEXIST). */
int queue_file_rename_noreplace(int from_dirfd, const char *from, int to_dirfd, const char *to);

/* A new, unique base name for content: the current time and the SHA-1 of
 * the parts (their first QUEUE_FILE_BASE_HASHED bytes each, and their
 * lengths), the time, the pid and a process-wide counter. The time, pid
 * and counter make it unique; the hash, as in Mailman's names, only ties
 * the name to the content, so a large message is not hashed whole on
 * every hop. */
#define QUEUE_FILE_BASE_HASHED 4096
char *queue_file_new_base(const void *part1, size_t len1, const void *part2, size_t len2);

/* What a base name tells: its time (for FIFO order) and the top 64 bits of
 * its hash (for slicing). */
struct queue_file_base {
    int64_t seconds;
    uint32_t nanos;
    uint64_t hash_top;
};

/* Parses "<digits>[.<digits>]+<40 hex>" (up to len bytes of name); false if
 * name is not of that form. */
bool queue_file_parse_base(const char *name, size_t len, struct queue_file_base *base_r);

/* Checks that count is a power of two in 1..QUEUE_FILE_MAX_SLICE and that
 * index < count. */
int queue_file_check_slice(unsigned count, unsigned index, char **error_r);

/* True if the base falls into slice index of count (Mailman's SHA-1 ranges:
 * the top log2(count) bits of the hash are the slice). */
bool queue_file_in_slice(const struct queue_file_base *base, unsigned count, unsigned index);

/* FIFO order: by time, then by name (qsort-style result). */
int queue_file_compare(const struct queue_file_base *a, const char *name_a,
                       const struct queue_file_base *b, const char *name_b);

#endif
