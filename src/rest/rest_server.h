/*
 * rest_server - Mailman's REST API (reference §9) over HTTP/1.1 on
 * libevent's evhttp: persistent connections, bounded headers and bodies,
 * HTTP Basic auth against [webservice] admin_user/admin_pass, the /3.0/ and
 * /3.1/ prefixes, and dispatch through the route table (rest_routes.c).
 *
 * As Mailman (falcon's router, then its auth middleware): a path no route
 * matches is 404 {"title": "404 Not Found"} even without credentials; a
 * routed request without valid credentials is 401 with Mailman's body and
 * WWW-Authenticate header; a method the route lacks is 405 with Allow.
 *
 * Handlers run synchronously on the loop (the store is SQLite in-process)
 * and fill the response through the rest_* helpers below; a handler that
 * sets nothing answers 500. Limits: REST_MAX_BODY request bytes (a route
 * may allow up to REST_MAX_BULK_BODY),
 * REST_MAX_HEADERS header bytes, REST_IDLE_TIMEOUT seconds of silence.
 */
#ifndef CRIER_REST_SERVER_H
#define CRIER_REST_SERVER_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "rest/rest_etag.h"

#define REST_MAX_BODY (1024 * 1024)
/* The bound for routes that take more (max_body), and so evhttp's own:
 * a body over REST_MAX_BULK_BODY is refused from its headers, one over
 * the route's bound once read (413 either way). */
#define REST_MAX_BULK_BODY (32 * 1024 * 1024)
#define REST_MAX_HEADERS   (64 * 1024)
#define REST_IDLE_TIMEOUT  60
#define REST_MAX_ARGS      4

struct config;
struct event_base;
struct store;
struct rest_server;

enum rest_method { REST_GET, REST_POST, REST_PUT, REST_PATCH, REST_DELETE, REST_N_METHODS };

struct rest_req;
typedef void (*rest_handler)(struct rest_req *req);

/* One row of the route table: a path under /<api>/ as '/'-separated
 * segments, '*' matching any one segment, a handler per method, and the
 * body bound when it is not REST_MAX_BODY (at most REST_MAX_BULK_BODY). */
struct rest_route {
    const char *pattern;
    rest_handler on[REST_N_METHODS];
    size_t max_body;
};

struct rest_req {
    struct config *cfg;
    struct store *store;
    enum rest_method method;
    const char *api; /* "3.0" or "3.1" */
    char **seg;      /* the path after /<api>/, decoded */
    size_t n_seg;
    json_t *query;                   /* query string plus a form body */
    json_t *media;                   /* a JSON body's object, or NULL */
    const char *args[REST_MAX_ARGS]; /* the segments the '*'s matched */
    /* the response */
    int status;
    json_t *body;
    char *location;
    const char *content_type;
};

/* Mailman's get_request_params(): the JSON body's object for a JSON
 * request, else the query and form parameters. Borrowed. */
json_t *rest_params(struct rest_req *req);
/* The segment matched by the i-th '*' of the route's pattern. */
const char *rest_arg(struct rest_req *req, size_t i);

/* "<scheme>://<hostname>:<port>/<api>/<path>" (Mailman's path_to). */
char *rest_path_to(struct rest_req *req, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* A JSON string taking s (g_free'd); JSON null for NULL. */
json_t *rest_jstr_take(char *s);
/* A JSON string of s, or null for NULL. */
json_t *rest_jstr_or_null(const char *s);

/* 200 with the resource (steals it), its http_etag set (hook may be NULL). */
void rest_ok(struct rest_req *req, json_t *resource, const struct rest_pyrepr *hook);
/* 200 with a collection of entries (steals the array): paging from the
 * query, every entry etagged, "entries" only when the page is not empty.
 * A paging error answers 400 instead. */
void rest_ok_collection(struct rest_req *req, json_t *entries, const struct rest_pyrepr *hook);
/* The same collection, not yet answered (for resources that add keys to
 * it before rest_ok); NULL after answering 400. */
json_t *rest_collection(struct rest_req *req, json_t *entries, const struct rest_pyrepr *hook);
/* 202 with the resource (steals it), its http_etag set (Mailman's
 * accepted()). */
void rest_accepted(struct rest_req *req, json_t *resource);
/* 202 without a body (Mailman's accepted(response) with nothing). */
void rest_accepted_empty(struct rest_req *req);
/* 201 with Location: path_to(path). */
void rest_created(struct rest_req *req, const char *path);
void rest_no_content(struct rest_req *req);
/* {"title": title, "description": text}; text NULL leaves it out. */
void rest_error(struct rest_req *req, int status, const char *title, const char *text);
void rest_bad_request(struct rest_req *req, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Mailman's not_found(): with a description ("404 Not Found" when NULL). */
void rest_not_found(struct rest_req *req, const char *text);
/* A child resource that does not exist (falcon's bare 404). */
void rest_no_such_child(struct rest_req *req);
void rest_conflict(struct rest_req *req, const char *text);
/* 403 with Mailman's forbidden() body. */
void rest_forbidden(struct rest_req *req);
/* 200 without a body (Mailman's okay(response) with nothing). */
void rest_ok_empty(struct rest_req *req);
struct rest_field;
/* The request's parameters through Mailman's Validator (rest_validate.h):
 * the converted values (json_decref), or NULL after answering 400. */
json_t *rest_values(struct rest_req *req, const struct rest_field *fields, size_t n);
/* Ends a handler's transaction (store_begin'd by the handler): commits
 * when rc >= 0, else rolls back and answers 400 with *err (500 for a
 * backend failure). Returns rc, or the commit's failure. Frees *err. */
int rest_store_end(struct rest_req *req, int rc, char **err);
/* 500 with the reason logged, not shown. */
void rest_internal_error(struct rest_req *req, const char *what, const char *err);

/* Binds [webservice] hostname:port and serves on base. */
int rest_server_new(struct event_base *base, struct config *cfg, struct store *st,
                    struct rest_server **srv_r, char **error_r);
void rest_server_free(struct rest_server *srv);

/* For tests: dispatches one request without a socket. auth is the
 * Authorization header value or NULL; body/content_type may be NULL. The
 * caller frees req with rest_req_clear(). */
void rest_dispatch(struct config *cfg, struct store *st, enum rest_method method,
                   const char *path_and_query, const char *auth, const char *content_type,
                   const char *body, size_t body_len, struct rest_req *req, char **allow_r);
void rest_req_clear(struct rest_req *req);

/* The route table (rest_routes.c). */
extern const struct rest_route rest_routes[];
extern const size_t rest_n_routes;

#endif
