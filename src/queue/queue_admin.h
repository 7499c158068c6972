/*
 * queue_admin - queue operations behind the CLI verbs and the REST
 * resources (reference §8, §9): listing, qfile, unshunt, inject.
 *
 * Ownership: everything returned is newly allocated; arrays free their
 * elements (g_ptr_array_unref); strings inside belong to their struct.
 * Functions returning int give 0 or -1 with a newly allocated *error_r.
 */
#ifndef CRIER_QUEUE_ADMIN_H
#define CRIER_QUEUE_ADMIN_H

#include "queue/queue_meta.h"
#include "queue/queue_root.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* One queue as /queues shows it: its waiting (".pck") entries, FIFO. As in
 * Mailman, preserved ".psv" files in bad are not counted. */
struct queue_admin_info {
    char *name;
    char *dir;
    GPtrArray *bases; /* of char *; its length is the count */
};

/* Every queue of root, sorted by name (directories are created if needed). */
int queue_admin_list_all(struct queue_root *root, GPtrArray **infos_r, char **error_r);

/* qfile: reads and parses the queue file at path (any queue, any state). */
int queue_admin_read(const char *path, struct queue_meta **meta_r, char **msg_r, size_t *msg_len_r,
                     char **error_r);

/* qfile -p: the entry in Mailman's framing ("[----- start pickle -----]",
 * one "<----- start object N ----->" for the message and one for the
 * metadata, shown as a sorted Python-style dict, "[----- end pickle -----]").
 * Unlike Mailman, which prints the message object's repr, object 1 is the
 * raw message. The result may hold any byte (use its len). */
GString *queue_admin_dump(const struct queue_meta *meta, const char *msg, size_t msg_len);

struct queue_admin_unshunt {
    unsigned moved;      /* requeued to their whichq */
    unsigned discarded;  /* removed (discard) */
    GPtrArray *failures; /* of char *: "Cannot unshunt message <base>, skipping:\n<why>" */
};

/* unshunt: every shunted entry goes back to its whichq (default "in"), or
 * with discard is removed. An entry that cannot move stays in shunt and is
 * listed in failures. Leftover claims in shunt are recovered first.
 * Free result->failures with g_ptr_array_unref. */
int queue_admin_unshunt(struct queue_root *root, bool discard, struct queue_admin_unshunt *result,
                        char **error_r);

/* inject: durably enqueues msg with meta to the queue called name; an unknown
 * name gives "No such queue: <name>". *base_r (may be NULL) gets the base. */
int queue_admin_inject(struct queue_root *root, const char *name, const struct queue_meta *meta,
                       const void *msg, size_t msg_len, char **base_r, char **error_r);

#endif
