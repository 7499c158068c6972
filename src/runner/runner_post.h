/*
 * runner_post - Mailman's IncomingRunner ("in": the posting or owner chain
 * over each message, then pipeline, or a hold, a reject, a discard) and
 * PipelineRunner ("pipeline": the list's pipeline, then out). See
 * src/post/post.h for the rules and handlers.
 */
#ifndef CRIER_RUNNER_POST_H
#define CRIER_RUNNER_POST_H

struct runner;
struct queue_entry;

int runner_post_start(struct runner *r, char **error_r);
int runner_in_handle(struct runner *r, struct queue_entry *e, char **error_r);
int runner_pipeline_handle(struct runner *r, struct queue_entry *e, char **error_r);
void runner_post_stop(struct runner *r);
/* Mailman's VirginRunner: internally generated mail through the virgin
 * pipeline (cook-headers, the reduced rfc-2369 headers), then out. */
int runner_virgin_handle(struct runner *r, struct queue_entry *e, char **error_r);

/* The store runner_post_start opened. */
struct store *runner_post_store(struct runner *r);

/* Mailman's ArchiveRunner (runner_archive.c); uses runner_post_start's
 * state. */
int runner_archive_handle(struct runner *r, struct queue_entry *e, char **error_r);

#endif
