/*
 * post_digest - cutting a list's digest (Mailman's mailman/app/digests.py),
 * shared by the to-digest handler and the REST digest resource.
 *
 *   post_digest_bump   bump_digest_number_and_volume(): by
 *                      digest_volume_frequency against digest_last_sent_at,
 *                      volume + 1 and next_digest_number = 1, or
 *                      next_digest_number + 1; digest_last_sent_at = now
 *   post_digest_send   maybe_send_digest_now(): the list's
 *                      <list_data_dir>/<list_id>/digest.mmdf, once it
 *                      reaches digest_size_threshold KB (or, with force,
 *                      when not empty), is renamed
 *                      digest.<volume>.<number>.mmdf, the list bumped,
 *                      and an entry queued to "digest" with listid,
 *                      digest_path, volume and digest_number
 *
 * Both return 0, or -1 with a newly allocated *error_r. l is the list as
 * read before the call (its volume and numbers are the ones used).
 */
#ifndef CRIER_POST_DIGEST_H
#define CRIER_POST_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct queue_meta;
struct store;
struct store_list;

/* Queues msg with meta to the named queue (as post_ctx's enqueue). */
typedef int (*post_digest_enqueue)(void *ud, const char *queue, struct queue_meta *meta,
                                   const char *msg, size_t len, char **error_r);

int post_digest_bump(struct store *st, const struct store_list *l, char **error_r);

/* *sent_r (may be NULL) tells whether a digest was queued. */
int post_digest_send(struct config *cfg, struct store *st, const struct store_list *l, bool force,
                     post_digest_enqueue enqueue, void *ud, bool *sent_r, char **error_r);

#endif
