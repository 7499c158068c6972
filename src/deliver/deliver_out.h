/*
 * deliver_out - the "out" runner kind (Mailman's OutgoingRunner, reference
 * §4): each entry's `recipients` are sent to [mta] smtp_host:smtp_port,
 * bulk in Mailman's chunks (deliver_chunk) with the envelope sender
 * `sender` or <list>-bounces@<domain>, or one transaction per recipient
 * with the VERP envelope <list>-bounces+<local>=<domain>@<list domain> when
 * the entry says `verp` or verp_delivery_interval asks for it.
 *
 * The transactions go to deliver_smtp's pool of [mta] max_delivery_threads
 * connections (0, Mailman's default: DELIVER_OUT_CONNECTIONS), kept open
 * from one entry to the next; individual
 * copies are made as a connection is about to take them.
 * Progress: the answered transactions are recorded in the entry's progress
 * log in the order the MTA answered them (see checkpoint() in
 * deliver_out.c), so a crash re-sends about one bulk transaction's worth
 * plus what was in flight.
 * Failures (§4.3): a 5xx other than 552 is a bounce event for that
 * recipient; 4xx, 552 and connection failures (444) go to the retry queue
 * with only those recipients, until delivery_retry_period has passed since
 * the first attempt, then they are dropped with a log line.
 * smtp.log gets Mailman's every/success/refused/failure lines.
 *
 * The connection follows [mta] smtp_secure_mode, smtp_verify_cert,
 * smtp_verify_hostname, smtp_user and smtp_pass (deliver_smtp, deliver_tls);
 * a TLS or AUTH failure is a connection failure like any other: the reason
 * goes to smtp.log, the recipients to the retry queue as 444.
 */
#ifndef CRIER_DELIVER_OUT_H
#define CRIER_DELIVER_OUT_H

/* Connections when [mta] max_delivery_threads is 0. Four delivered a
 * 100,000-recipient fan-out 1.5 times faster than one on the 2-core test
 * machine, eight slower than four (docs/delivery.md); a crash of the out
 * runner repeats the transactions in flight, which grow with them. */
#define DELIVER_OUT_CONNECTIONS 4

struct runner;
struct queue_entry;

int deliver_out_start(struct runner *r, char **error_r);
int deliver_out_handle(struct runner *r, struct queue_entry *entry, char **error_r);
void deliver_out_stop(struct runner *r);

#endif
