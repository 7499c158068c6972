/*
 * deliver_tls - OpenSSL for deliver_smtp: the client context built from
 * [mta] smtp_verify_cert and smtp_verify_hostname (Mailman 3.3.8: the
 * certificate chain is checked against the system's default CA paths,
 * which honour SSL_CERT_FILE and SSL_CERT_DIR; the host name check only
 * applies when the chain is checked), one TLS object per connection with
 * SNI and the RFC 6125 name or address check against smtp_host, and a
 * readable reason when a handshake fails.
 *
 * deliver_smtp owns the socket and its timeouts: it drives SSL_connect,
 * SSL_read and SSL_write itself, and asks deliver_tls_want() what to wait
 * for. The caller frees what the *_new functions return with the matching
 * *_free; returned strings are g_free'd by the caller.
 */
#ifndef CRIER_DELIVER_TLS_H
#define CRIER_DELIVER_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

struct deliver_tls_ctx;

/* A client context (TLS 1.2 or later); NULL with *error_r on failure. */
struct deliver_tls_ctx *deliver_tls_ctx_new(bool verify_cert, bool verify_hostname, char **error_r);
void deliver_tls_ctx_free(struct deliver_tls_ctx *t);

/* A TLS client on the connected (non-blocking) socket fd towards host;
 * NULL with *error_r on failure. */
SSL *deliver_tls_new(const struct deliver_tls_ctx *t, int fd, const char *host, char **error_r);
/* After an SSL_* call returned ret <= 0: POLLIN or POLLOUT to wait for
 * before calling again, or 0 when the connection failed. */
short deliver_tls_want(SSL *ssl, int ret);
/* Why the last SSL_* call on ssl failed: the certificate check's verdict
 * ("self-signed certificate", "hostname mismatch", ...) or OpenSSL's
 * error, e.g. "wrong version number". Clears OpenSSL's error queue. */
char *deliver_tls_reason(SSL *ssl);
/* Sends close_notify when it can without waiting, and frees. */
void deliver_tls_free(SSL *ssl);

#endif
