/*
 * runner_digest - Mailman's DigestRunner. Each entry of the digest queue
 * (metadata listid, digest_path, volume, digest_number; queued by the
 * to-digest handler) names a finished MMDF file of posts. The runner builds
 * two digests from it, as Mailman 3.3.8 does:
 *
 *   MIME      multipart/mixed: the masthead, the optional digest header, the
 *             table of contents, a multipart/digest of message/rfc822 parts
 *             (each post whole, plus "Message: n"), the optional footer, and
 *             "End of <digest id>" as the epilogue;
 *   RFC 1153  one text/plain body: masthead, header, table of contents,
 *             each post with the [digests] plain_digest_keep_headers and
 *             its text/plain parts (other parts replaced by a note), the
 *             footer as a last "message", and the sign-off.
 *
 * Both come From <list>-request, To and Reply-To the posting address,
 * Subject "<Display> Digest, Vol V, Issue N", and go to the virgin queue:
 * the MIME one for MIME- and summary-digest members, the plain one for
 * plain-digest members (enabled delivery only). Then the MMDF file is
 * deleted and the entry finished (to-digest, which queued it, already
 * bumped the number and set digest_last_sent_at, as Mailman).
 *
 * Uses runner_post_start's state (the store). A store that is busy retries
 * the entry (RUNNER_RETRY); a missing or unreadable MMDF file shunts it.
 */
#ifndef CRIER_RUNNER_DIGEST_H
#define CRIER_RUNNER_DIGEST_H

#include <stddef.h>

struct runner;
struct queue_entry;

int runner_digest_handle(struct runner *r, struct queue_entry *e, char **error_r);

/* The posts of an MMDF mailbox (records between "\001\001\001\001\n"
 * lines), each a newly allocated string in the returned GPtrArray (unref).
 * Exposed for the unit test. */
struct _GPtrArray *runner_digest_split_mmdf(const char *data, size_t len);

#endif
