/*
 * store - opening a store from a [database] url, explicit transactions, the
 * enum name tables and the free functions of store.h.
 */
#include "store/store.h"

#include <glib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "store/store_db.h"
#include "store/store_enum.h"

static int open_sqlite(const char *url, const char *rest, struct store **st_r, char **error_r)
{
    /* Mailman writes sqlite:///$DATA_DIR/mailman.db, i.e. "sqlite:///" plus
     * an absolute path whose own leading '/' was swallowed or not: SQLAlchemy
     * reads "sqlite:///rel" as relative and "sqlite:////abs" as absolute,
     * but Mailman's paths are always absolute, so both forms mean /abs. */
    if (strncmp(rest, "///", 3) != 0)
        return store_db_fail(error_r, STORE_INVALID,
                             "Invalid database url: %s (expected sqlite:///ABSOLUTE/PATH)", url);
    const char *path = rest + 2; /* keep one '/' */
    while (path[0] == '/' && path[1] == '/')
        path++;
    if (path[1] == '\0')
        return store_db_fail(error_r, STORE_INVALID, "Invalid database url: %s (no path)", url);

    /* Mailman creates var/data at startup; a fresh crier does the same. */
    g_autofree char *dir = g_path_get_dirname(path);
    if (fs_mkdirs(dir, 0755, error_r) < 0)
        return STORE_ERR;
    struct store *st = g_new0(struct store, 1);
    st->backend = STORE_BACKEND_SQLITE;
    int orc = store_db_open(st, path, error_r);
    if (orc < 0) {
        g_free(st);
        return orc;
    }
    int rc = store_db_migrate(st, error_r);
    if (rc < 0) {
        store_close(st);
        return rc;
    }
    *st_r = st;
    return 0;
}

int store_open(const char *url, struct store **st_r, char **error_r)
{
    *st_r = NULL;
    if (url == NULL)
        return store_db_fail(error_r, STORE_INVALID, "No database url");
    if (g_str_has_prefix(url, "sqlite:"))
        return open_sqlite(url, url + strlen("sqlite:"), st_r, error_r);
    if (g_str_has_prefix(url, "postgres://") || g_str_has_prefix(url, "postgresql://") ||
        g_str_has_prefix(url, "postgresql+"))
        return store_db_fail(error_r, STORE_UNSUPPORTED,
                             "PostgreSQL databases are not supported yet: %s", url);
    return store_db_fail(error_r, STORE_INVALID,
                         "Unsupported database url: %s (expected sqlite:///PATH)", url);
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->in_tx)
        store_db_exec(st, "ROLLBACK", NULL);
    store_db_close(st);
    g_free(st);
}

int store_schema_version(struct store *st)
{
    return st->schema_version;
}

bool store_error_temporary(const struct store *st)
{
    return st->temp_error;
}

int store_begin(struct store *st, char **error_r)
{
    if (st->in_tx || st->tx_depth > 0)
        return store_db_fail(error_r, STORE_ERR, "a transaction is already open");
    if (store_db_exec(st, "BEGIN IMMEDIATE", error_r) < 0)
        return STORE_ERR;
    st->in_tx = true;
    return 0;
}

int store_commit(struct store *st, char **error_r)
{
    if (!st->in_tx)
        return store_db_fail(error_r, STORE_ERR, "no transaction is open");
    if (store_db_exec(st, "COMMIT", error_r) < 0) {
        store_db_exec(st, "ROLLBACK", NULL);
        st->in_tx = false;
        return STORE_ERR;
    }
    st->in_tx = false;
    return 0;
}

int store_rollback(struct store *st, char **error_r)
{
    if (!st->in_tx)
        return store_db_fail(error_r, STORE_ERR, "no transaction is open");
    st->in_tx = false;
    return store_db_exec(st, "ROLLBACK", error_r);
}

/* ---- enum names ------------------------------------------------------ */

static const char *enum_name(const struct store_enum_value *t, int v)
{
    for (; t->name != NULL; t++)
        if (t->value == v)
            return t->name;
    return NULL;
}

static int enum_parse(const struct store_enum_value *t, const char *name)
{
    if (name == NULL)
        return -1;
    for (; t->name != NULL; t++)
        if (g_ascii_strcasecmp(t->name, name) == 0)
            return t->value;
    return -1;
}

const char *store_role_name(int role)
{
    return enum_name(store_enum_role, role);
}
int store_role_parse(const char *name)
{
    return enum_parse(store_enum_role, name);
}
const char *store_delivery_mode_name(int mode)
{
    return enum_name(store_enum_delivery_mode, mode);
}
int store_delivery_mode_parse(const char *name)
{
    return enum_parse(store_enum_delivery_mode, name);
}
const char *store_delivery_status_name(int status)
{
    return enum_name(store_enum_delivery_status, status);
}
int store_delivery_status_parse(const char *name)
{
    return enum_parse(store_enum_delivery_status, name);
}
const char *store_action_name(int action)
{
    return enum_name(store_enum_action, action);
}
int store_action_parse(const char *name)
{
    return enum_parse(store_enum_action, name);
}
const char *store_request_type_name(int type)
{
    return enum_name(store_enum_request_type, type);
}
int store_request_type_parse(const char *name)
{
    return enum_parse(store_enum_request_type, name);
}

/* ---- free functions --------------------------------------------------- */

#define FREEV(fn, type, one)                                                                       \
    void fn(type **v)                                                                              \
    {                                                                                              \
        if (v == NULL)                                                                             \
            return;                                                                                \
        for (type **p = v; *p != NULL; p++)                                                        \
            one(*p);                                                                               \
        g_free(v);                                                                                 \
    }

void store_domain_free(struct store_domain *d)
{
    if (d == NULL)
        return;
    g_free(d->mail_host);
    g_free(d->description);
    g_free(d->alias_domain);
    g_free(d);
}
FREEV(store_domainv_free, struct store_domain, store_domain_free)

void store_user_free(struct store_user *u)
{
    if (u == NULL)
        return;
    g_free(u->user_id);
    g_free(u->display_name);
    g_free(u->password);
    g_free(u->preferred_email);
    g_free(u);
}

void store_address_free(struct store_address *a)
{
    if (a == NULL)
        return;
    g_free(a->email);
    g_free(a->original_email);
    g_free(a->display_name);
    g_free(a->user_id);
    g_free(a);
}

void store_member_free(struct store_member *m)
{
    if (m == NULL)
        return;
    g_free(m->member_id);
    g_free(m->list_id);
    g_free(m->email);
    g_free(m->original_email);
    g_free(m->display_name);
    g_free(m->user_id);
    g_free(m->user_display_name);
    g_free(m);
}

struct store_member *store_member_dup(const struct store_member *m)
{
    struct store_member *c = g_new(struct store_member, 1);
    *c = *m;
    c->member_id = g_strdup(m->member_id);
    c->list_id = g_strdup(m->list_id);
    c->email = g_strdup(m->email);
    c->original_email = g_strdup(m->original_email);
    c->display_name = g_strdup(m->display_name);
    c->user_id = g_strdup(m->user_id);
    c->user_display_name = g_strdup(m->user_display_name);
    return c;
}

void store_pending_free(struct store_pending *p)
{
    if (p == NULL)
        return;
    g_free(p->token);
    g_free(p->type);
    for (size_t i = 0; i < p->n; i++) {
        g_free(p->keys[i]);
        g_free(p->values[i]);
    }
    g_free(p->keys);
    g_free(p->values);
    g_free(p);
}

void store_request_free(struct store_request *r)
{
    if (r == NULL)
        return;
    g_free(r->list_id);
    g_free(r->key);
    g_free(r->data_token);
    g_free(r);
}
FREEV(store_requestv_free, struct store_request, store_request_free)

void store_header_match_free(struct store_header_match *h)
{
    if (h == NULL)
        return;
    g_free(h->header);
    g_free(h->pattern);
    g_free(h->chain);
    g_free(h->tag);
    g_free(h);
}
FREEV(store_header_matchv_free, struct store_header_match, store_header_match_free)

void store_message_free(struct store_message *m)
{
    if (m == NULL)
        return;
    g_free(m->message_id);
    g_free(m->message_id_hash);
    g_free(m->path);
    g_free(m);
}

/* ---- preference helpers ------------------------------------------------ */

void store_prefs_system(struct store_prefs *p)
{
    /* Mailman's [mailman] defaults for a new installation. */
    p->acknowledge_posts = 0;
    p->hide_address = 1;
    p->preferred_language = g_strdup("en");
    p->receive_list_copy = 1;
    p->receive_own_postings = 1;
    p->delivery_mode = STORE_DELIVERY_REGULAR;
    p->delivery_status = STORE_DELIVERY_ENABLED;
}

void store_prefs_unset(struct store_prefs *p)
{
    p->acknowledge_posts = -1;
    p->hide_address = -1;
    p->preferred_language = NULL;
    p->receive_list_copy = -1;
    p->receive_own_postings = -1;
    p->delivery_mode = STORE_DELIVERY_MODE_UNSET;
    p->delivery_status = STORE_DELIVERY_STATUS_UNSET;
}

void store_prefs_clear(struct store_prefs *p)
{
    g_free(p->preferred_language);
    p->preferred_language = NULL;
}

int store_generation(struct store *st, int64_t *gen_r, char **error_r)
{
    /* SQLite: data_version changes when another connection commits. */
    struct store_stmt *s = store_db_prepare(st, "PRAGMA data_version", error_r);
    if (s == NULL)
        return STORE_ERR;
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *gen_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc == 1 ? 0 : (rc < 0 ? rc : STORE_ERR);
}
