/*
 * lmtp_runner - the "lmtp" runner kind (Mailman's LMTPRunner): the LMTP
 * server of proto/ on [mta] lmtp_host:lmtp_port, with Mailman's addressing
 * (lmtp_route), its intake edits (lmtp_intake) and its routing table
 * (reference §2): one queue entry per accepted recipient.
 *
 * Durability: a recipient gets 250 only once its entry is on stable storage.
 * Group commit: a sync thread makes one batch durable (queue_batch: one
 * sync pass, one fsync per directory) while the event loop goes on serving
 * the other sessions; every delivery completed meanwhile joins the next
 * batch. So concurrent sessions share fsyncs instead of paying one each,
 * and the loop never waits for the disk.
 */
#ifndef CRIER_LMTP_RUNNER_H
#define CRIER_LMTP_RUNNER_H

struct runner;

int lmtp_runner_start(struct runner *r, char **error_r);
void lmtp_runner_stop(struct runner *r);

#endif
