/*
 * runner_bounce - the "bounces" runner kind (Mailman's BounceRunner,
 * reference §5): for each message to a list's -bounces address, VERP first
 * (a VERP'd bounce whose DSN says only "delayed" is dropped), else the DSN;
 * each permanent failure becomes a bounce event (store_bounce_add) for the
 * scoring step; a bounce with no address found is forwarded as Mailman's
 * "Uncaught bounce notification" per forward_unrecognized_bounces_to
 * (discard, administrators, site_owner), through the virgin queue.
 *
 * Not yet: probe VERP, the non-DSN heuristics of flufl.bounce, keeping the
 * bounce in the message store, the warnings, removals and owner notices
 * (issue 8).
 */
#ifndef CRIER_RUNNER_BOUNCE_H
#define CRIER_RUNNER_BOUNCE_H

struct runner;
struct queue_entry;

int runner_bounce_start(struct runner *r, char **error_r);
int runner_bounce_handle(struct runner *r, struct queue_entry *entry, char **error_r);
void runner_bounce_stop(struct runner *r);
/* Every [runner.bounces] sleep_time: scores the unprocessed bounce events:
 * at most one increment per day, a score reset after
 * bounce_info_stale_after, delivery disabled (by_bounces) at
 * bounce_score_threshold. */
void runner_bounce_tick(struct runner *r);

#endif
