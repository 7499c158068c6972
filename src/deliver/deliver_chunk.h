/*
 * deliver_chunk - Mailman's bulk chunking (reference §4.2, mta/bulk.py):
 * recipients are bucketed by top-level domain (com 1; net, org 2; edu, us,
 * ca 3; others 0), the largest bucket first (ties in order of first
 * appearance); each bucket starts a new chunk of at most max_recipients
 * (0: everything in one chunk); addresses are sorted within a chunk.
 *
 * Returns a GPtrArray of GPtrArray of (borrowed) char *; free with
 * g_ptr_array_unref. No I/O.
 */
#ifndef CRIER_DELIVER_CHUNK_H
#define CRIER_DELIVER_CHUNK_H

#include <glib.h>

GPtrArray *deliver_chunkify(char **recipients, guint n, guint max_recipients);

#endif
