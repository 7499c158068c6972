/* lmtp_server - listeners, admission of new clients, the session list. */
#include "proto/lmtp_server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"

/* After an accept() failure (EMFILE ...) listeners pause this long instead
 * of spinning on a socket that stays readable. */
#define ACCEPT_RETRY_MS 500

struct lmtp_server {
    struct event_base *base;
    struct lmtp_server_settings settings; /* strings owned below */
    char *hostname;
    char *greeting;
    GPtrArray *listeners; /* of struct evconnlistener * */
    struct event *accept_retry;
    GQueue sessions; /* of struct lmtp_session *, via session->link */
    uint64_t next_id;
};

void lmtp_server_settings_init(struct lmtp_server_settings *settings)
{
    *settings = (struct lmtp_server_settings){0};
    proto_limits_lmtp_defaults(&settings->limits);
}

int lmtp_server_new(struct event_base *base, const struct lmtp_server_settings *settings,
                    struct lmtp_server **server_r, char **error_r)
{
    if (settings->rcpt == NULL || settings->deliver == NULL) {
        *error_r = g_strdup("LMTP server needs rcpt and deliver callbacks");
        return -1;
    }
    if (proto_limits_lmtp_check(&settings->limits, error_r) < 0)
        return -1;
    struct lmtp_server *srv = g_new0(struct lmtp_server, 1);
    srv->base = base;
    srv->settings = *settings;
    srv->hostname = g_strdup(settings->hostname != NULL ? settings->hostname : g_get_host_name());
    srv->greeting = settings->greeting != NULL
                        ? g_strdup(settings->greeting)
                        : g_strdup_printf("%s crier LMTP runner %s", srv->hostname, CRIER_VERSION);
    srv->settings.hostname = srv->hostname;
    srv->settings.greeting = srv->greeting;
    srv->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)evconnlistener_free);
    g_queue_init(&srv->sessions);
    srv->next_id = 1;
    *server_r = srv;
    return 0;
}

/* Counts the sessions that are not closing and finds the one idle longest
 * that may make room. */
static unsigned count_active(struct lmtp_server *srv, struct lmtp_session **evict_r)
{
    unsigned active = 0;
    int64_t best_idle = -1;
    *evict_r = NULL;
    for (GList *l = srv->sessions.head; l != NULL; l = l->next) {
        struct lmtp_session *s = l->data;
        if (s->state == LMTP_STATE_CLOSING)
            continue;
        active++;
        if (s->state == LMTP_STATE_DELIVER)
            continue; /* a message is being committed: never cut it */
        int64_t idle = lmtp_session_idle_ms(s);
        if (idle >= (int64_t)srv->settings.limits.evict_idle_ms && idle > best_idle) {
            best_idle = idle;
            *evict_r = s;
        }
    }
    return active;
}

static void refuse(struct lmtp_server *srv, int fd)
{
    char *line = g_strdup_printf("421 4.3.2 %s Too many connections\r\n", srv->hostname);
    /* Best effort: a short line fits the empty socket buffer. */
    if (send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        log_debug("lmtp: refusing a client: %s", g_strerror(errno));
    g_free(line);
    close(fd);
}

/* True if there is room for one more client (perhaps after evicting). */
static bool admit(struct lmtp_server *srv)
{
    unsigned max = srv->settings.limits.max_connections;
    if (srv->sessions.length < max)
        return true;
    struct lmtp_session *victim;
    unsigned active = count_active(srv, &victim);
    /* Closing sessions hold sockets too; cap them at max as well. */
    if (srv->sessions.length >= 2 * (size_t)max)
        return false;
    if (active < max)
        return true;
    if (victim == NULL)
        return false;
    log_info("lmtp session %" PRIu64 ": closed to make room (idle %" PRId64 " ms)", victim->info.id,
             lmtp_session_idle_ms(victim));
    lmtp_session_close(victim, "421 4.3.2 %s Error: too many connections, closing idle session",
                       srv->hostname);
    return true;
}

static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct lmtp_server *srv = arg;
    if (!admit(srv)) {
        log_warn("lmtp: %u connections, refusing a new client", srv->sessions.length);
        refuse(srv, fd);
        return;
    }
    struct lmtp_session *s =
        lmtp_session_new(srv, &srv->settings, srv->base, fd, sa, srv->next_id++);
    g_queue_push_tail_link(&srv->sessions, &s->link);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lmtp_server *srv = arg;
    for (guint i = 0; i < srv->listeners->len; i++)
        evconnlistener_enable(g_ptr_array_index(srv->listeners, i));
}

static void accept_error_cb(struct evconnlistener *listener, void *arg)
{
    struct lmtp_server *srv = arg;
    log_warn("lmtp: accept: %s", g_strerror(errno));
    for (guint i = 0; i < srv->listeners->len; i++)
        evconnlistener_disable(g_ptr_array_index(srv->listeners, i));
    if (srv->accept_retry == NULL)
        srv->accept_retry = evtimer_new(srv->base, accept_retry_cb, srv);
    struct timeval tv = {.tv_sec = 0, .tv_usec = ACCEPT_RETRY_MS * 1000};
    evtimer_add(srv->accept_retry, &tv);
}

int lmtp_server_listen_fd(struct lmtp_server *srv, int fd, char **error_r)
{
    if (evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0) {
        *error_r = g_strdup_printf("LMTP listening socket: %s", g_strerror(errno));
        close(fd);
        return -1;
    }
    struct evconnlistener *l = evconnlistener_new(
        srv->base, accept_cb, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (l == NULL) {
        *error_r = g_strdup_printf("LMTP listener: %s", g_strerror(errno));
        close(fd);
        return -1;
    }
    evconnlistener_set_error_cb(l, accept_error_cb);
    g_ptr_array_add(srv->listeners, l);
    return 0;
}

/* Binds and listens on one address; the socket fd, or -1 with *error_r. */
static int bind_one(const struct addrinfo *ai, char **error_r)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *error_r = g_strdup_printf("socket: %s", g_strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        *error_r = g_strdup(g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int lmtp_server_listen(struct lmtp_server *srv, const char *host, unsigned port, char **error_r)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res;
    char service[16];
    snprintf(service, sizeof service, "%u", port);
    if (host != NULL && *host == '\0')
        host = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        *error_r =
            g_strdup_printf("LMTP host %s: %s", host != NULL ? host : "(any)", gai_strerror(rc));
        return -1;
    }
    int bound = 0;
    GString *errors = g_string_new(NULL);
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char *error = NULL;
        int fd = bind_one(ai, &error);
        if (fd < 0 || lmtp_server_listen_fd(srv, fd, &error) < 0) {
            g_string_append_printf(errors, "%s%s", errors->len > 0 ? "; " : "", error);
            g_free(error);
            continue;
        }
        bound++;
        /* A free port is chosen per socket: one address only. */
        if (port == 0)
            break;
    }
    freeaddrinfo(res);
    if (bound == 0) {
        *error_r = g_strdup_printf("cannot listen for LMTP on %s:%u: %s", host != NULL ? host : "*",
                                   port, errors->str);
        g_string_free(errors, TRUE);
        return -1;
    }
    if (errors->len > 0)
        log_warn("LMTP on %s:%u: some addresses failed: %s", host != NULL ? host : "*", port,
                 errors->str);
    g_string_free(errors, TRUE);
    return 0;
}

int lmtp_server_port(const struct lmtp_server *srv)
{
    if (srv->listeners->len == 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = evconnlistener_get_fd(g_ptr_array_index(srv->listeners, 0));
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

unsigned lmtp_server_session_count(const struct lmtp_server *srv)
{
    return srv->sessions.length;
}

void lmtp_server_forget(struct lmtp_server *srv, struct lmtp_session *session)
{
    g_queue_unlink(&srv->sessions, &session->link);
}

void lmtp_server_free(struct lmtp_server *srv)
{
    if (srv == NULL)
        return;
    g_ptr_array_unref(srv->listeners);
    while (srv->sessions.head != NULL)
        lmtp_session_free(srv->sessions.head->data);
    if (srv->accept_retry != NULL)
        event_free(srv->accept_retry);
    g_free(srv->hostname);
    g_free(srv->greeting);
    g_free(srv);
}
