/*
 * runner_command - Mailman's CommandRunner (reference §7.1): mail to a
 * list's -request, -join, -leave and -confirm addresses. The commands are
 * read from the address (the implicit join, leave, confirm <token>), else
 * from the Subject and the first [mailman] email_commands_max_lines lines
 * of the first text/plain part; each runs (runner_command_eml.c) and the
 * sender gets "The results of your email commands" from -bounces.
 *
 * Mail with Precedence: bulk, junk or list and no X-Ack: yes is dropped.
 * The list's autorespond_requests replybot runs first. Replies are subject
 * to the autoresponse limit ([mta] max_autoresponses_per_day), which
 * Mailman applies only to hold notices: a forged sender cannot have crier
 * mail a victim more than that many times a day per list.
 */
#ifndef CRIER_RUNNER_COMMAND_H
#define CRIER_RUNNER_COMMAND_H

struct runner;
struct queue_entry;

int runner_command_start(struct runner *r, char **error_r);
int runner_command_handle(struct runner *r, struct queue_entry *e, char **error_r);
void runner_command_stop(struct runner *r);

#endif
