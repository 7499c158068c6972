/*
 * post_moderate - held posts (reference §6.2 "hold", §6.3): what the hold
 * chain records, and the moderator's decisions. Used by the incoming
 * runner (post_hold_record), `crier held` and the REST API's
 * /lists/<l>/held.
 *
 * As in Mailman, a held post is: the message in the message store, a
 * request row (type held message, key the Message-ID) whose data is a
 * "data" pending with the _mod_* fields, and a "held message" pending whose
 * token the moderator notice carries ("confirm <token>").
 */
#ifndef CRIER_POST_MODERATE_H
#define CRIER_POST_MODERATE_H

#include <glib.h>
#include <stdint.h>

struct config;
struct queue_root;
struct store;
struct store_list;

struct post_held {
    int id; /* the request id, per list */
    char *list_id;
    char *message_id;
    char *sender;
    char *subject;
    char *reason;
    char *hold_date; /* naive UTC ISO 8601, as Mailman's _mod_hold_date */
    char *msg;       /* the message as held (NULL in post_held_list) */
    size_t msg_len;
};
void post_held_free(struct post_held *h);

/* Records a held post; *token_r (may be NULL) gets the "held message"
 * token for the moderator notice. */
int post_hold_record(struct store *st, struct config *cfg, const struct store_list *l,
                     const char *message_id, const char *hash, const char *sender,
                     const char *subject, const char *reason, const char *msg, size_t len,
                     int *id_r, char **token_r, char **error_r);

/* The held posts of a list by id (struct post_held *, without msg;
 * g_ptr_array_unref). */
int post_held_list(struct store *st, const char *list_id, GPtrArray **v_r, char **error_r);

/* One held post with its message; *h_r NULL when there is none. */
int post_held_get(struct store *st, struct config *cfg, const char *list_id, int id,
                  struct post_held **h_r, char **error_r);

enum post_decision {
    POST_DECIDE_ACCEPT,
    POST_DECIDE_REJECT,
    POST_DECIDE_DISCARD,
    POST_DECIDE_DEFER
};
/* "accept", "reject", "discard", "defer" (and "hold" = defer); -1 else. */
int post_decision_parse(const char *name);

/* Carries out a moderator's decision on held post id of list l:
 *   accept   the post goes to the pipeline queue with X-Mailman-Approved-At
 *            (the rules are not run again)
 *   reject   the sender gets "Request to mailing list ... rejected" with
 *            reason (NULL: "[No reason given]") through the virgin queue
 *   discard  dropped
 *   defer    kept
 * and, but for defer, the request, its pendings and the stored message go.
 * Returns 1 done, 0 no such held post, -1 error. */
int post_moderate(struct store *st, struct config *cfg, struct queue_root *qroot,
                  const struct store_list *l, int id, enum post_decision d, const char *reason,
                  char **error_r);

#endif
