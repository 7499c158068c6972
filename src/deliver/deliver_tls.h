/*
 * deliver_tls - OpenSSL for deliver_smtp: the client context built from
 * [mta] smtp_verify_cert and smtp_verify_hostname (Mailman 3.3.8: the
 * certificate chain is checked against the system's default CA paths,
 * which honour SSL_CERT_FILE and SSL_CERT_DIR; the host name check only
 * applies when the chain is checked), one TLS object per connection with
 * SNI and the RFC 6125 name or address check against smtp_host, and a
 * readable reason when a handshake fails.
 *
 * deliver_smtp hands the TLS object to a libevent OpenSSL filter over the
 * connection's bufferevent, which drives the handshake, reads and writes
 * (and frees the object with itself). The caller frees a context with
 * deliver_tls_ctx_free, and a TLS object it did not hand over with
 * deliver_tls_free; returned strings are g_free'd by the caller.
 */
#ifndef CRIER_DELIVER_TLS_H
#define CRIER_DELIVER_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

struct deliver_tls_ctx;

/* A client context (TLS 1.2 or later); NULL with *error_r on failure. */
struct deliver_tls_ctx *deliver_tls_ctx_new(bool verify_cert, bool verify_hostname, char **error_r);
void deliver_tls_ctx_free(struct deliver_tls_ctx *t);

/* A TLS client object towards host, without a socket (libevent gives it
 * its I/O); NULL with *error_r on failure. */
SSL *deliver_tls_new(const struct deliver_tls_ctx *t, const char *host, char **error_r);
/* Why a handshake on ssl failed: the certificate check's verdict
 * ("self-signed certificate", "hostname mismatch", ...), else OpenSSL's
 * error err (from bufferevent_get_openssl_error; 0: none), e.g. "wrong
 * version number", else the socket's errno sock_err (0: none), else
 * "connection closed by the server". */
char *deliver_tls_reason(SSL *ssl, unsigned long err, int sock_err);
/* Sends close_notify when it can without waiting, and frees. */
void deliver_tls_free(SSL *ssl);

#endif
