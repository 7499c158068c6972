/* deliver_tls - see deliver_tls.h. */
#include "deliver/deliver_tls.h"

#include <errno.h>
#include <glib.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

struct deliver_tls_ctx {
    SSL_CTX *ssl_ctx;
    bool verify_cert;
    bool verify_hostname;
};

/* An OpenSSL error code as text. */
static char *error_text(unsigned long e)
{
    const char *reason = ERR_reason_error_string(e);
    if (reason)
        return g_strdup(reason);
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return g_strdup(buf);
}

/* OpenSSL's latest error as text, or fallback when there is none. */
static char *openssl_reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    return e == 0 ? g_strdup(fallback) : error_text(e);
}

struct deliver_tls_ctx *deliver_tls_ctx_new(bool verify_cert, bool verify_hostname, char **error_r)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        g_autofree char *why = openssl_reason("out of memory");
        *error_r = g_strdup_printf("cannot set up TLS: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* libevent retries an unfinished SSL_write with the same bytes, but
     * from wherever its buffer is by then. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (verify_cert) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            g_autofree char *why = openssl_reason("unknown error");
            *error_r = g_strdup_printf("cannot load the system's CA certificates: %s", why);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    struct deliver_tls_ctx *t = g_new0(struct deliver_tls_ctx, 1);
    t->ssl_ctx = ctx;
    t->verify_cert = verify_cert;
    t->verify_hostname = verify_hostname;
    return t;
}

void deliver_tls_ctx_free(struct deliver_tls_ctx *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ssl_ctx);
    g_free(t);
}

SSL *deliver_tls_new(const struct deliver_tls_ctx *t, const char *host, char **error_r)
{
    SSL *ssl = SSL_new(t->ssl_ctx);
    if (ssl == NULL)
        goto fail;
    bool literal = g_hostname_is_ip_address(host);
    /* RFC 6066 §3: server_name carries a DNS name, never a literal address. */
    if (!literal && SSL_set_tlsext_host_name(ssl, host) != 1)
        goto fail;
    if (t->verify_cert && t->verify_hostname) {
        /* RFC 6125 §6.4: the name we connected to must be in the
         * certificate (subjectAltName; for an address, an iPAddress entry);
         * "*" only as the whole left-most label. */
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : SSL_set1_host(ssl, host);
        if (ok != 1)
            goto fail;
    }
    SSL_set_connect_state(ssl);
    return ssl;
fail:;
    g_autofree char *why = openssl_reason("out of memory");
    *error_r = g_strdup_printf("cannot set up TLS towards %s: %s", host, why);
    SSL_free(ssl);
    return NULL;
}

char *deliver_tls_reason(SSL *ssl, unsigned long err, int sock_err)
{
    long verdict = SSL_get_verify_result(ssl);
    ERR_clear_error();
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) && verdict != X509_V_OK)
        return g_strdup_printf("certificate verification failed: %s",
                               X509_verify_cert_error_string(verdict));
    if (err != 0)
        return error_text(err);
    if (sock_err != 0)
        return g_strdup(g_strerror(sock_err));
    return g_strdup("connection closed by the server");
}

void deliver_tls_free(SSL *ssl)
{
    if (ssl == NULL)
        return;
    /* One attempt: the socket is non-blocking and the peer's close_notify
     * is not worth waiting for (RFC 8446 §6.1 allows closing right away). */
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}
