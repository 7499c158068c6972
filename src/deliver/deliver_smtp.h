/*
 * deliver_smtp - the out runner's asynchronous SMTP client on libevent: a
 * pool of up to `conns` connections to one MTA that delivers the
 * transactions a caller hands it, each to whichever connection is free.
 *
 * Per connection a state machine (enter_state): greeting, EHLO (HELO when
 * EHLO is refused, as Python's smtplib does for Mailman), STARTTLS and EHLO
 * again (RFC 3207) or TLS from the first byte (RFC 8314 §3.3), AUTH PLAIN
 * (RFC 4616) or else AUTH LOGIN when a user and a password are set, then
 * transactions. With PIPELINING (RFC 2920) MAIL, every RCPT and DATA go in
 * one write, and the next transaction's MAIL, RCPT and DATA follow the
 * message's final "." in the same write (RFC 2920 §3.1 allows the message
 * content to be followed by the next group), so a transaction costs about
 * one round trip; without it, one command at a time. CRLF line ends and
 * dot-stuffing (RFC 5321 §4.5.2; deliver_smtp_data_block), multi-line
 * replies, a connection reused for up to per_conn transactions (0: no
 * limit), then QUIT and a new one. Timeouts per RFC 5321 §4.5.3.2: 5
 * minutes for the greeting, MAIL, RCPT and the rest, 2 for the reply to
 * DATA, 3 for sending a data block, 10 for the reply to the final ".";
 * options.timeout_s, when non-zero, caps them all, and options.timeout_div
 * divides them all (both for tests).
 *
 * With STARTTLS requested and not offered the connection is not used
 * (never in clear). The certificate checks are deliver_tls's. The password
 * is never logged.
 *
 * Results per recipient follow Mailman (reference §4.3): a refused RCPT
 * keeps its code; the DATA and final replies apply to every accepted
 * recipient; a socket failure or timeout is code 444 for everyone not yet
 * answered. A transaction whose message was not sent yet when its
 * connection broke (a stale reused connection, or the next transaction
 * pipelined behind one that failed) cannot have been delivered: it is
 * handed to a connection again, once, before it gets 444. A connection
 * that cannot be set up (connect, TLS, greeting, EHLO, AUTH) fails one
 * waiting transaction with 444 and the reason, "<host>:<port>: <what>"
 * (e.g. "127.0.0.1:25: AUTH PLAIN as lists: 535 5.7.8 ..."), and another
 * connection is tried for the rest, so an MTA that is down costs one
 * attempt per transaction. While another connection to the MTA works (or
 * is still being set up), a failed set-up fails nothing: the run goes on
 * with the connections that work (an MTA that limits connections per
 * client).
 *
 * A server that breaks the protocol (a code whose first digit is not 2 to
 * 5, one reply with different codes, a reply to no command or to one not
 * sent yet, anything but 354 or 4yz/5yz to DATA, a line over 64 KiB or a
 * reply over 1 MiB) or says 421 in a transaction: its connection is
 * dropped, as if it had broken.
 *
 * The pool owns its event_base; connections stay open between runs for the
 * next entry (a connection the MTA closed meanwhile is noticed and
 * replaced). Not thread-safe; one pool per runner process.
 */
#ifndef CRIER_DELIVER_SMTP_H
#define CRIER_DELIVER_SMTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define DELIVER_SMTP_REPLY_MAX 512

struct deliver_smtp_pool;
struct deliver_tls_ctx;

enum deliver_smtp_security { DELIVER_SMTP_PLAIN, DELIVER_SMTP_SMTPS, DELIVER_SMTP_STARTTLS };

/* Borrowed by the pool for its whole life. */
struct deliver_smtp_options {
    const char *host;
    unsigned port;
    const char *helo;
    unsigned timeout_s;   /* 0: RFC 5321's; else a cap on every timeout */
    unsigned timeout_div; /* 0 or 1: RFC 5321's; else each divided by it */
    enum deliver_smtp_security security;
    const struct deliver_tls_ctx *tls; /* unless security is DELIVER_SMTP_PLAIN */
    const char *user, *pass;           /* AUTH when both are non-empty */
};

struct deliver_result {
    int code;
    char text[DELIVER_SMTP_REPLY_MAX];
};

/* One transaction. The caller fills the first fields, keeps them valid
 * until done() and allocates results (n entries); the pool fills results.
 * The rest is the pool's. */
struct deliver_smtp_txn {
    const char *sender;
    char *const *rcpts;
    size_t n;
    const char *data; /* deliver_smtp_data_block's str */
    size_t data_len;
    struct deliver_result *results;

    unsigned tries;  /* times handed to a connection */
    bool data_sent;  /* the message went out: no second attempt */
    bool mail_ok;    /* MAIL's reply was 2xx */
    size_t answered; /* RCPT replies so far */
    size_t accepted; /* of which 2xx */
};

/* How a run gets its transactions and gives them back. */
struct deliver_smtp_source {
    /* The next transaction, or NULL when there are no more. */
    struct deliver_smtp_txn *(*next)(void *ud);
    /* t is answered (results filled), in the order the MTA answered;
     * error is a connection's set-up failure, else NULL. t is the
     * caller's again. */
    void (*done)(void *ud, struct deliver_smtp_txn *t, const char *error);
    void *ud;
};

/* A pool of up to conns connections (at least 1). */
struct deliver_smtp_pool *deliver_smtp_pool_new(const struct deliver_smtp_options *o,
                                                unsigned conns, unsigned per_conn);
/* Delivers every transaction src gives; returns when all are done. */
void deliver_smtp_pool_run(struct deliver_smtp_pool *p, const struct deliver_smtp_source *src);
/* QUIT on every open connection (waiting at most a second), and frees. */
void deliver_smtp_pool_free(struct deliver_smtp_pool *p);

/* The message (LF or CRLF line ends) as DATA sends it: CRLF line ends,
 * a "." doubled at the start of a line, ended by ".\r\n". */
GString *deliver_smtp_data_block(const char *msg, size_t len);

/* Extension flags from the lines of an EHLO reply after the first. */
enum {
    DELIVER_SMTP_EXT_PIPELINING = 1 << 0,
    DELIVER_SMTP_EXT_STARTTLS = 1 << 1,
    DELIVER_SMTP_EXT_AUTH_PLAIN = 1 << 2,
    DELIVER_SMTP_EXT_AUTH_LOGIN = 1 << 3,
};
unsigned deliver_smtp_ehlo_ext(char *const *lines, size_t n);

#endif
