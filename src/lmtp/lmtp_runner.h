/*
 * lmtp_runner - the "lmtp" runner kind (Mailman's LMTPRunner): the LMTP
 * server of proto/ on [mta] lmtp_host:lmtp_port, with Mailman's addressing
 * (lmtp_route), its intake edits (lmtp_intake) and its routing table
 * (reference §2): one queue entry per accepted recipient.
 *
 * Durability: a recipient gets 250 only once its entry is on stable storage.
 * Deliveries completed in the same turn of the event loop are committed
 * together (queue_batch: one sync pass, one fsync per directory), so
 * concurrent sessions share fsyncs instead of paying one each.
 */
#ifndef CRIER_LMTP_RUNNER_H
#define CRIER_LMTP_RUNNER_H

struct runner;

int lmtp_runner_start(struct runner *r, char **error_r);
void lmtp_runner_stop(struct runner *r);

#endif
