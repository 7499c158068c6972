/*
 * lmtp_cmd - the LMTP command table: one row per verb with its argument
 * rule, a check step (state; replies 503/500 and refuses) and a proceed
 * step (parses arguments, acts, replies), as OpenSMTPD's smtp_check_* /
 * smtp_proceed_* pairs.
 *
 * Verbs are matched without regard to case. HELO and EHLO are rows that
 * always refuse with Mailman's text (LMTP has only LHLO, RFC 2033 §4.1).
 * Unknown verbs get `500 5.5.1 Error: command "VERB" not recognized`.
 * Every 5xx caused by the client's syntax or command order counts toward
 * max_errors; replies from the rcpt callback do not.
 */
#ifndef CRIER_LMTP_CMD_H
#define CRIER_LMTP_CMD_H

struct lmtp_session;

/* line: one command without its CRLF, NUL-terminated, no NUL inside. */
void lmtp_cmd_dispatch(struct lmtp_session *session, char *line);

#endif
