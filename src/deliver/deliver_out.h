/*
 * deliver_out - the "out" runner kind (Mailman's OutgoingRunner, reference
 * §4): each entry's `recipients` are sent to [mta] smtp_host:smtp_port,
 * bulk in Mailman's chunks (deliver_chunk) with the envelope sender
 * `sender` or <list>-bounces@<domain>, or one transaction per recipient
 * with the VERP envelope <list>-bounces+<local>=<domain>@<list domain> when
 * the entry says `verp` or verp_delivery_interval asks for it.
 *
 * Progress: at most every 250 ms the entry's `recipients` is rewritten in
 * place without the ones answered (queue_checkpoint), so a crash re-sends
 * at most what went out since (the rewrite holds the whole list, so doing
 * it after every transaction would be quadratic for large lists).
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

struct runner;
struct queue_entry;

int deliver_out_start(struct runner *r, char **error_r);
int deliver_out_handle(struct runner *r, struct queue_entry *entry, char **error_r);
void deliver_out_stop(struct runner *r);

#endif
