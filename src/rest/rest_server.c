/* rest_server - see rest_server.h. Texts and status codes follow
 * mailman/rest/wsgiapp.py and helpers.py and falcon 3.1's error bodies. */
#include "rest/rest_server.h"

#include "config/config.h"
#include "lib/log.h"
#include "rest/rest_ids.h"
#include "rest/rest_params.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#define CT_JSON      "application/json"
#define CT_JSON_UTF8 "application/json; charset=UTF-8"
#define REALM        "Basic realm=\"mailman3-rest\",charset=\"utf-8\""

struct rest_server {
    struct evhttp *http;
    struct config *cfg;
    struct store *store;
    SSL_CTX *tls; /* [webservice] use_https with tls_certificate: HTTPS */
};

/* evhttp's bufferevent callback for HTTPS: every connection is TLS. */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    SSL_CTX *ctx = arg;
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* The TLS context for [webservice] tls_certificate / tls_key (crier's own
 * keys: Mailman's use_https only changes the scheme of its links). */
static SSL_CTX *tls_context(struct config *cfg, char **error_r)
{
    const char *cert = config_get(cfg, "webservice", "tls_certificate");
    const char *key = config_get(cfg, "webservice", "tls_key");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        *error_r = g_strdup("cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, *key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        *error_r = g_strdup_printf("[webservice] tls_certificate %s / tls_key %s: %s", cert,
                                   *key ? key : "(in the certificate file)", buf);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static const char *const method_names[REST_N_METHODS] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

/* ---- response helpers -------------------------------------------------- */

json_t *rest_params(struct rest_req *req)
{
    return req->media ? req->media : req->query;
}

const char *rest_arg(struct rest_req *req, size_t i)
{
    return i < REST_MAX_ARGS ? req->args[i] : NULL;
}

char *rest_path_to(struct rest_req *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *path = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    struct config *cfg = req->cfg;
    return g_strdup_printf(
        "%s://%s:%s/%s/%s", config_get_bool(cfg, "webservice", "use_https") ? "https" : "http",
        config_get(cfg, "webservice", "hostname"), config_get(cfg, "webservice", "port"), req->api,
        path[0] == '/' ? path + 1 : path);
}

json_t *rest_jstr_take(char *s)
{
    json_t *j = s ? json_string(s) : json_null();
    g_free(s);
    return j;
}

json_t *rest_jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void set_body(struct rest_req *req, int status, json_t *body, const char *content_type)
{
    if (req->body)
        json_decref(req->body);
    req->status = status;
    req->body = body;
    req->content_type = content_type;
}

void rest_ok(struct rest_req *req, json_t *resource, const struct rest_pyrepr *hook)
{
    rest_etag_set(resource, hook);
    set_body(req, 200, resource, CT_JSON);
}

void rest_accepted(struct rest_req *req, json_t *resource)
{
    rest_etag_set(resource, NULL);
    set_body(req, 202, resource, CT_JSON);
}

json_t *rest_collection(struct rest_req *req, json_t *entries, const struct rest_pyrepr *hook)
{
    struct rest_page page;
    char *err = NULL;
    size_t total = json_array_size(entries);
    if (rest_page_compute(req->query, total, &page, &err) < 0) {
        rest_error(req, 400, "Invalid parameter", err);
        g_free(err);
        json_decref(entries);
        return NULL;
    }
    json_t *result = json_object();
    json_object_set_new(result, "start", json_integer((json_int_t)page.start));
    json_object_set_new(result, "total_size", json_integer((json_int_t)total));
    if (page.end > page.first) {
        json_t *slice = json_array();
        for (size_t i = page.first; i < page.end; i++) {
            json_t *e = json_array_get(entries, i);
            rest_etag_set(e, hook);
            json_array_append(slice, e);
        }
        json_object_set_new(result, "entries", slice);
    }
    json_decref(entries);
    return result;
}

void rest_ok_collection(struct rest_req *req, json_t *entries, const struct rest_pyrepr *hook)
{
    json_t *result = rest_collection(req, entries, hook);
    if (result)
        rest_ok(req, result, hook);
}

void rest_created(struct rest_req *req, const char *path)
{
    set_body(req, 201, NULL, NULL);
    g_free(req->location);
    req->location = rest_path_to(req, "%s", path);
}

void rest_accepted_empty(struct rest_req *req)
{
    set_body(req, 202, NULL, NULL);
}

void rest_no_content(struct rest_req *req)
{
    set_body(req, 204, NULL, NULL);
}

void rest_error(struct rest_req *req, int status, const char *title, const char *text)
{
    json_t *body = json_object();
    json_object_set_new(body, "title", json_string(title));
    if (text)
        json_object_set_new(body, "description", json_string(text));
    set_body(req, status, body, CT_JSON_UTF8);
}

void rest_bad_request(struct rest_req *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    rest_error(req, 400, "400 Bad Request", text);
}

void rest_not_found(struct rest_req *req, const char *text)
{
    rest_error(req, 404, "404 Not Found", text ? text : "404 Not Found");
}

void rest_no_such_child(struct rest_req *req)
{
    rest_error(req, 404, "404 Not Found", NULL);
    req->content_type = CT_JSON;
}

void rest_conflict(struct rest_req *req, const char *text)
{
    rest_error(req, 409, "409 Conflict", text);
}

void rest_forbidden(struct rest_req *req)
{
    rest_error(req, 403, "403 Forbidden", "403 Forbidden");
}

void rest_ok_empty(struct rest_req *req)
{
    set_body(req, 200, NULL, NULL);
}

void rest_internal_error(struct rest_req *req, const char *what, const char *err)
{
    log_to("http", LOG_LEVEL_ERROR, "REST %s: %s", what, err ? err : "?");
    rest_error(req, 500, "500 Internal Server Error", NULL);
    req->content_type = CT_JSON;
}

json_t *rest_values(struct rest_req *req, const struct rest_field *fields, size_t n)
{
    json_t *values = NULL;
    char *err = NULL;
    if (rest_validate(rest_params(req), fields, n, &values, &err) < 0) {
        rest_bad_request(req, "%s", err);
        g_free(err);
        return NULL;
    }
    return values;
}

int rest_store_end(struct rest_req *req, int rc, char **err)
{
    if (rc >= 0)
        rc = store_commit(req->store, err);
    if (rc < 0) {
        store_rollback(req->store, NULL);
        if (rc == STORE_ERR || rc == STORE_BUSY)
            rest_internal_error(req, "store", *err);
        else
            rest_bad_request(req, "%s", *err);
    }
    g_clear_pointer(err, g_free);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

/* RFC 7617: "Basic base64(user:pass)"; the password compared in constant
 * time, as Mailman's hmac.compare_digest. */
static bool authorized(struct config *cfg, const char *auth)
{
    if (auth == NULL || strncmp(auth, "Basic ", 6) != 0)
        return false;
    gsize len = 0;
    g_autofree guchar *raw = g_base64_decode(auth + 6, &len);
    if (raw == NULL || len == 0)
        return false;
    g_autofree char *cred = g_strndup((const char *)raw, len);
    char *colon = strchr(cred, ':');
    if (colon == NULL || strlen(cred) != len)
        return false;
    *colon = '\0';
    const char *user = config_get(cfg, "webservice", "admin_user");
    const char *pass = config_get(cfg, "webservice", "admin_pass");
    const char *given = colon + 1;
    size_t plen = strlen(pass), glen = strlen(given);
    unsigned diff = (unsigned)(plen ^ glen);
    for (size_t i = 0; i < glen; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)pass[i % (plen ? plen : 1)];
    return strcmp(cred, user) == 0 && diff == 0 && plen == glen;
}

/* Percent-decoding of one path segment (no '+'); NULL if not UTF-8. */
static char *decode_segment(const char *s, size_t len)
{
    GString *out = g_string_sized_new(len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) &&
            g_ascii_isxdigit(s[i + 2])) {
            g_string_append_c(
                out, (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2])));
            i += 2;
        } else {
            g_string_append_c(out, s[i]);
        }
    }
    if (!g_utf8_validate(out->str, (gssize)out->len, NULL) || memchr(out->str, 0, out->len)) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

static const struct rest_route *route_find(struct rest_req *req)
{
    for (size_t r = 0; r < rest_n_routes; r++) {
        g_auto(GStrv) pat = g_strsplit(rest_routes[r].pattern, "/", -1);
        size_t n = g_strv_length(pat), nargs = 0;
        if (n != req->n_seg)
            continue;
        bool match = true;
        for (size_t i = 0; i < n && match; i++) {
            if (strcmp(pat[i], "*") == 0) {
                if (nargs < REST_MAX_ARGS)
                    req->args[nargs++] = req->seg[i];
            } else {
                match = strcmp(pat[i], req->seg[i]) == 0;
            }
        }
        if (match)
            return &rest_routes[r];
    }
    return NULL;
}

static char *allow_header(const struct rest_route *route)
{
    GString *allow = g_string_new(NULL);
    for (int m = 0; m < REST_N_METHODS; m++)
        if (route->on[m])
            g_string_append_printf(allow, "%s%s", allow->len ? ", " : "", method_names[m]);
    g_string_append_printf(allow, "%sOPTIONS", allow->len ? ", " : "");
    return g_string_free(allow, FALSE);
}

/* Splits "/3.1/a/b?x=y" into req; false when the path cannot be routed. */
static bool parse_target(struct rest_req *req, const char *target)
{
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    char *err = NULL;
    if (q && rest_params_add_form(req->query, q + 1, strlen(q + 1), &err) < 0) {
        g_free(err); /* unroutable as falcon would not decode it either */
        return false;
    }
    GPtrArray *segs = g_ptr_array_new();
    const char *p = target, *end = target + plen;
    bool ok = true;
    while (p < end && ok) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *send = slash ? slash : end;
        if (send > p) {
            char *s = decode_segment(p, (size_t)(send - p));
            if (s)
                g_ptr_array_add(segs, s);
            ok = s != NULL;
        }
        p = send + 1;
    }
    g_ptr_array_add(segs, NULL);
    char **all = (char **)g_ptr_array_free(segs, FALSE);
    if (!ok || all[0] == NULL || (strcmp(all[0], "3.0") != 0 && strcmp(all[0], "3.1") != 0)) {
        g_strfreev(all);
        return false;
    }
    req->api = strcmp(all[0], "3.0") == 0 ? "3.0" : "3.1";
    g_free(all[0]);
    req->seg = all;
    /* The rest of the vector moves down over the version. */
    memmove(all, all + 1, sizeof(char *) * g_strv_length(all + 1) + sizeof(char *));
    req->n_seg = g_strv_length(all);
    return true;
}

void rest_dispatch(struct config *cfg, struct store *st, enum rest_method method,
                   const char *target, const char *auth, const char *content_type, const char *body,
                   size_t body_len, struct rest_req *req, char **allow_r)
{
    memset(req, 0, sizeof *req);
    req->cfg = cfg;
    req->store = st;
    req->method = method;
    req->query = json_object();
    *allow_r = NULL;
    const struct rest_route *route = NULL;
    if (parse_target(req, target))
        route = req->n_seg ? route_find(req) : NULL;
    if (route == NULL) {
        rest_no_such_child(req);
        return;
    }
    if (!authorized(cfg, auth)) {
        rest_error(req, 401, "401 Unauthorized", "REST API authorization failed");
        req->content_type = CT_JSON;
        return;
    }
    if ((int)method == REST_N_METHODS) { /* OPTIONS */
        *allow_r = allow_header(route);
        rest_no_content(req);
        req->status = 200;
        return;
    }
    if (route->on[method] == NULL) {
        *allow_r = allow_header(route);
        rest_error(req, 405, "405 Method Not Allowed", NULL);
        req->content_type = CT_JSON;
        return;
    }
    if (body_len > (route->max_body ? route->max_body : REST_MAX_BODY)) {
        rest_error(req, 413, "413 Payload Too Large", NULL);
        req->content_type = CT_JSON;
        return;
    }
    char *err = NULL;
    if (content_type && g_str_has_prefix(content_type, "application/json")) {
        if (rest_params_from_json(body, body_len, &req->media, &err) < 0) {
            rest_error(req, 400, "Invalid JSON", err);
            g_free(err);
            return;
        }
    } else if (content_type &&
               g_str_has_prefix(content_type, "application/x-www-form-urlencoded") && body) {
        /* falcon: form values replace query values of the same name. */
        json_t *form = json_object();
        int rc = rest_params_add_form(form, body, body_len, &err);
        json_object_update(req->query, form);
        json_decref(form);
        if (rc < 0) {
            rest_bad_request(req, "%s", err);
            g_free(err);
            return;
        }
    }
    route->on[method](req);
    if (req->status == 0)
        rest_internal_error(req, target, "the handler gave no response");
}

void rest_req_clear(struct rest_req *req)
{
    g_strfreev(req->seg);
    if (req->query)
        json_decref(req->query);
    if (req->media)
        json_decref(req->media);
    if (req->body)
        json_decref(req->body);
    g_free(req->location);
    memset(req, 0, sizeof *req);
}

/* ---- evhttp ------------------------------------------------------------------ */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 501:
        return "Not Implemented";
    default:
        return "Internal Server Error";
    }
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct rest_server *srv = arg;
    int method;
    switch (evhttp_request_get_command(ev)) {
    case EVHTTP_REQ_GET:
        method = REST_GET;
        break;
    case EVHTTP_REQ_POST:
        method = REST_POST;
        break;
    case EVHTTP_REQ_PUT:
        method = REST_PUT;
        break;
    case EVHTTP_REQ_PATCH:
        method = REST_PATCH;
        break;
    case EVHTTP_REQ_DELETE:
        method = REST_DELETE;
        break;
    default:
        method = REST_N_METHODS; /* OPTIONS */
    }
    struct evkeyvalq *in = evhttp_request_get_input_headers(ev);
    struct evbuffer *buf = evhttp_request_get_input_buffer(ev);
    size_t len = evbuffer_get_length(buf);
    const char *body = len ? (const char *)evbuffer_pullup(buf, -1) : NULL;
    struct rest_req req;
    char *allow = NULL;
    const char *target = evhttp_request_get_uri(ev);
    rest_dispatch(srv->cfg, srv->store, (enum rest_method)method, target,
                  evhttp_find_header(in, "Authorization"), evhttp_find_header(in, "Content-Type"),
                  body, len, &req, &allow);
    struct evkeyvalq *out = evhttp_request_get_output_headers(ev);
    struct evbuffer *reply = evbuffer_new();
    if (req.body) {
        char *text = json_dumps(req.body, JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
        /* API 3.0's ids are integers wider than jansson's (rest_ids.h). */
        g_autofree char *json =
            strcmp(req.api ? req.api : "", "3.0") == 0 ? rest_bigint_untag(text) : g_strdup(text);
        evbuffer_add(reply, json, strlen(json));
        free(text);
        evhttp_add_header(out, "Content-Type", req.content_type ? req.content_type : CT_JSON);
    }
    if (req.status >= 400)
        evhttp_add_header(out, "Vary", "Accept");
    if (req.status == 401)
        evhttp_add_header(out, "WWW-Authenticate", REALM);
    if (allow)
        evhttp_add_header(out, "Allow", allow);
    if (req.location)
        evhttp_add_header(out, "Location", req.location);
    evhttp_add_header(out, "Server", "crier");
    log_to("http", LOG_LEVEL_INFO, "\"%s %s\" %d %zu",
           method < REST_N_METHODS ? method_names[method] : "OPTIONS", target, req.status,
           evbuffer_get_length(reply));
    evhttp_send_reply(ev, req.status, reason(req.status), reply);
    evbuffer_free(reply);
    g_free(allow);
    rest_req_clear(&req);
}

int rest_server_new(struct event_base *base, struct config *cfg, struct store *st,
                    struct rest_server **srv_r, char **error_r)
{
    const char *host = config_get(cfg, "webservice", "hostname");
    const char *port = config_get(cfg, "webservice", "port");
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        *error_r =
            g_strdup_printf("cannot resolve [webservice] hostname %s: %s", host, gai_strerror(gai));
        return -1;
    }
    struct rest_server *srv = g_new0(struct rest_server, 1);
    srv->cfg = cfg;
    srv->store = st;
    srv->http = evhttp_new(base);
    evhttp_set_max_body_size(srv->http, REST_MAX_BULK_BODY);
    evhttp_set_max_headers_size(srv->http, REST_MAX_HEADERS);
    evhttp_set_timeout(srv->http, REST_IDLE_TIMEOUT);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS);
    evhttp_set_default_content_type(srv->http, NULL);
    evhttp_set_gencb(srv->http, on_request, srv);
    if (config_get_bool(cfg, "webservice", "use_https") &&
        *config_get(cfg, "webservice", "tls_certificate")) {
        srv->tls = tls_context(cfg, error_r);
        if (srv->tls == NULL) {
            freeaddrinfo(ai);
            rest_server_free(srv);
            return -1;
        }
        evhttp_set_bevcb(srv->http, tls_bev, srv->tls);
    }
    /* "localhost" may name ::1 and 127.0.0.1: listen on every address. */
    int bound = 0;
    g_autofree char *why = NULL;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        struct evconnlistener *l = evconnlistener_new_bind(
            base, NULL, NULL,
            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
                (a->ai_family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0),
            -1, a->ai_addr, (int)a->ai_addrlen);
        if (l == NULL) {
            if (why == NULL)
                why = g_strdup(g_strerror(errno));
            continue;
        }
        evhttp_bind_listener(srv->http, l);
        bound++;
    }
    freeaddrinfo(ai);
    if (bound == 0) {
        *error_r =
            g_strdup_printf("cannot listen on %s:%s: %s", host, port, why ? why : "no address");
        rest_server_free(srv);
        return -1;
    }
    *srv_r = srv;
    return 0;
}

void rest_server_free(struct rest_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->http)
        evhttp_free(srv->http);
    if (srv->tls)
        SSL_CTX_free(srv->tls);
    g_free(srv);
}
