/* post_template_uri - see post_template_uri.h. */
#include "post/post_template_uri.h"

#include "config/config.h"
#include "lib/log.h"
#include "post/post.h"
#include "store/store.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <glib.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

struct cached {
    char *text;      /* NULL: the fetch failed */
    int64_t expires; /* g_get_monotonic_time() */
};

static struct store *tstore;
static pid_t tstore_pid;
static GHashTable *cache; /* "user\nuri" -> struct cached */

static void cached_free(gpointer p)
{
    struct cached *c = p;
    g_free(c->text);
    g_free(c);
}

/* This process's store connection, or NULL (logged). */
static struct store *template_store(struct config *cfg)
{
    static int64_t failed_at; /* do not try again at every lookup */
    if (tstore && tstore_pid == getpid())
        return tstore;
    tstore = NULL; /* one inherited across fork is left alone */
    int64_t now = g_get_monotonic_time();
    if (failed_at && now - failed_at < POST_TEMPLATE_URI_RETRY * G_USEC_PER_SEC)
        return NULL;
    g_autofree char *url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    char *err = NULL;
    if (store_open(url, &tstore, &err) < 0) {
        log_error("templates: cannot open the store: %s", err);
        g_free(err);
        tstore = NULL;
        failed_at = now;
        return NULL;
    }
    tstore_pid = getpid();
    return tstore;
}

/* ---- file:// ---- */

/* file://[host]/path: the path as given (Mailman opens urlparse's path). */
static char *fetch_file(const char *uri, char **why)
{
    const char *path = uri + strlen("file://");
    if (*path != '/')
        path = strchr(path, '/');
    gsize len = 0;
    char *text = NULL;
    GError *gerr = NULL;
    if (path == NULL) {
        *why = g_strdup("no path");
    } else if (!g_file_get_contents(path, &text, &len, &gerr)) {
        *why = g_strdup(gerr->message);
        g_error_free(gerr);
    } else if (len > POST_TEMPLATE_URI_MAX || !g_utf8_validate(text, (gssize)len, NULL) ||
               memchr(text, 0, len)) {
        *why = g_strdup("too big or not UTF-8 text");
        g_clear_pointer(&text, g_free);
    }
    return text;
}

/* ---- http(s):// ---- */

struct fetch {
    int status;
    char *body;
    char *why;
};

static void on_response(struct evhttp_request *req, void *arg)
{
    struct fetch *f = arg;
    if (req == NULL || evhttp_request_get_response_code(req) == 0) {
        f->why = g_strdup("no answer (connection, TLS or timeout)");
        return;
    }
    f->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    f->body = g_malloc(len + 1);
    evbuffer_remove(in, f->body, len);
    f->body[len] = '\0';
    if (!g_utf8_validate(f->body, (gssize)len, NULL) || memchr(f->body, 0, len)) {
        f->why = g_strdup("the body is not UTF-8 text");
        g_clear_pointer(&f->body, g_free);
    }
}

/* An SSL for host with SNI and the RFC 6125 name check, or NULL. */
static SSL *tls_for(SSL_CTX *ctx, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        return NULL;
    bool literal = g_hostname_is_ip_address(host);
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if ((!literal && SSL_set_tlsext_host_name(ssl, host) != 1) ||
        (literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : SSL_set1_host(ssl, host)) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* GET uri on a private event loop, at most POST_TEMPLATE_URI_TIMEOUT s. */
static void fetch_http(const char *uri, const char *user, const char *pass, struct fetch *f)
{
    struct evhttp_uri *u = evhttp_uri_parse(uri);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    if (host == NULL) {
        f->why = g_strdup("not a URL");
        if (u)
            evhttp_uri_free(u);
        return;
    }
    bool https = g_ascii_strcasecmp(evhttp_uri_get_scheme(u), "https") == 0;
    int port = evhttp_uri_get_port(u);
    if (port < 0)
        port = https ? 443 : 80;
    const char *query = evhttp_uri_get_query(u);
    const char *path = evhttp_uri_get_path(u);
    g_autofree char *target =
        g_strdup_printf("%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
    struct event_base *base = event_base_new();
    SSL_CTX *ctx = NULL;
    struct bufferevent *bev = NULL;
    if (https) {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl = NULL;
        if (ctx && SSL_CTX_set_default_verify_paths(ctx) == 1) {
            SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
            ssl = tls_for(ctx, host);
        }
        if (ssl)
            bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    struct evhttp_connection *conn =
        bev ? evhttp_connection_base_bufferevent_new(base, NULL, bev, host, (unsigned short)port)
            : NULL;
    if (conn == NULL) {
        f->why = g_strdup("cannot set up the connection");
    } else {
        evhttp_connection_set_timeout(conn, POST_TEMPLATE_URI_TIMEOUT);
        evhttp_connection_set_max_body_size(conn, POST_TEMPLATE_URI_MAX);
        evhttp_connection_set_retries(conn, 0);
        struct evhttp_request *req = evhttp_request_new(on_response, f);
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        evhttp_add_header(out, "Host", host);
        evhttp_add_header(out, "Connection", "close");
        evhttp_add_header(out, "User-Agent", "crier");
        if (user && pass) {
            g_autofree char *cred = g_strdup_printf("%s:%s", user, pass);
            g_autofree char *b64 = g_base64_encode((const guchar *)cred, strlen(cred));
            g_autofree char *auth = g_strdup_printf("Basic %s", b64);
            evhttp_add_header(out, "Authorization", auth);
        }
        if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, target) == 0)
            event_base_dispatch(base);
        else
            f->why = g_strdup("cannot send the request");
        evhttp_connection_free(conn);
    }
    if (conn == NULL && bev)
        bufferevent_free(bev);
    if (ctx)
        SSL_CTX_free(ctx);
    event_base_free(base);
    evhttp_uri_free(u);
}

/* The cached or fetched text; NULL after a failure (*why). */
static char *fetch_http_cached(struct config *cfg, const char *uri, const char *user,
                               const char *pass, char **why)
{
    if (cache == NULL)
        cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_free);
    g_autofree char *key = g_strdup_printf("%s\n%s", user ? user : "", uri);
    int64_t now = g_get_monotonic_time();
    struct cached *c = g_hash_table_lookup(cache, key);
    if (c && c->expires > now) {
        if (c->text == NULL)
            *why = g_strdup("it failed recently");
        return g_strdup(c->text);
    }
    struct fetch f = {0};
    fetch_http(uri, user, pass, &f);
    char *text = NULL;
    if (f.why == NULL && f.status == 404) {
        text = g_strdup(""); /* Mailman: a missing template is empty */
    } else if (f.why == NULL && (f.status < 200 || f.status > 299)) {
        f.why = g_strdup_printf("HTTP status %d", f.status);
    } else if (f.why == NULL) {
        text = g_steal_pointer(&f.body);
    }
    if (g_hash_table_size(cache) >= POST_TEMPLATE_URI_CACHE)
        g_hash_table_remove_all(cache);
    c = g_new0(struct cached, 1);
    c->text = g_strdup(text);
    double life =
        text ? config_get_duration(cfg, "mailman", "cache_life") : POST_TEMPLATE_URI_RETRY;
    c->expires = now + (int64_t)(life * G_USEC_PER_SEC);
    g_hash_table_replace(cache, g_steal_pointer(&key), c);
    *why = g_steal_pointer(&f.why);
    g_free(f.body);
    return text;
}

/* ---- the lookup ---- */

static char *fetch_one(struct config *cfg, const struct store_list *l,
                       const struct store_template *t)
{
    GHashTable *vars = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(vars, "language", (gpointer)config_get(cfg, "mailman", "default_language"));
    if (l) {
        g_hash_table_insert(vars, "list_id", l->list_id);
        g_hash_table_insert(vars, "listname", l->fqdn_listname);
        g_hash_table_insert(vars, "domain_name", l->mail_host);
    }
    g_autofree char *uri = post_substitute(t->uri, vars);
    g_hash_table_unref(vars);
    char *why = NULL, *text = NULL;
    if (g_ascii_strncasecmp(uri, "file://", 7) == 0)
        text = fetch_file(uri, &why);
    else if (g_ascii_strncasecmp(uri, "http://", 7) == 0 ||
             g_ascii_strncasecmp(uri, "https://", 8) == 0)
        text = fetch_http_cached(cfg, uri, t->username, t->password, &why);
    else
        why = g_strdup("unsupported scheme");
    if (text == NULL)
        log_to("http", LOG_LEVEL_ERROR, "Cannot retrieve template %s for %s at %s: %s", t->name,
               t->context ? t->context : "the site", uri, why);
    g_free(why);
    return text;
}

char *post_template_uri(struct config *cfg, const struct store_list *l, const char *name)
{
    struct store *st = template_store(cfg);
    if (st == NULL)
        return NULL;
    const char *contexts[] = {l ? l->list_id : NULL, l ? l->mail_host : NULL, NULL};
    for (size_t i = l ? 0 : 2; i < G_N_ELEMENTS(contexts); i++) {
        struct store_template *t = NULL;
        char *err = NULL;
        if (store_template_get(st, name, contexts[i], &t, &err) < 0) {
            log_error("templates: %s", err);
            g_free(err);
            return NULL;
        }
        char *text = t ? fetch_one(cfg, l, t) : NULL;
        store_template_free(t);
        if (text)
            return text;
    }
    return NULL;
}
