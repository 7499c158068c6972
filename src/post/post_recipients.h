/*
 * post_recipients - a post's recipient list built from a roster read in
 * any order, handed out sorted by bytes (the order of the store's
 * rosters, ORDER BY email) as one newline-separated string: the
 * "recipients" metadata of the out entry.
 *
 * Memory, for n addresses of total length b: the addresses are appended
 * to one buffer (b + n bytes) with an array of n offsets (4 bytes each);
 * finishing sorts the offsets and writes the result into a second buffer
 * of b + n bytes, freeing the first. No allocation per address, and no
 * database sorter, which held about 60 bytes a row on top of its page
 * cache (docs/delivery.md).
 *
 * Limits: at most 4 GiB of addresses (offsets are 32-bit); beyond that
 * post_recipients_add aborts, as an allocation failure does.
 * Ownership: post_recipients_finish returns a g_malloc'd string and frees
 * the builder; post_recipients_free frees an unfinished one.
 */
#ifndef CRIER_POST_RECIPIENTS_H
#define CRIER_POST_RECIPIENTS_H

#include <stddef.h>

struct post_recipients;

struct post_recipients *post_recipients_new(void);
/* Adds email (len bytes, no NUL or LF inside). */
void post_recipients_add(struct post_recipients *r, const char *email, size_t len);
size_t post_recipients_count(const struct post_recipients *r);
/* The addresses sorted by bytes, joined by "\n" (no trailing newline, ""
 * when empty); *len_r gets the length without the NUL. Frees r. */
char *post_recipients_finish(struct post_recipients *r, size_t *len_r);
void post_recipients_free(struct post_recipients *r);

#endif
