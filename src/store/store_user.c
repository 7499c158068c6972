/*
 * store_user - users: create (with an address), get, iterate, delete and
 * the setters of store.h "users and addresses".
 */
#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_db.h"

#define USER_COLS                                                                                  \
    "SELECT u.user_id, u.display_name, u.password, u.created_on, u.is_server_owner, "              \
    "pa.email FROM users u LEFT JOIN address pa ON pa.id = u.preferred_address"

static struct store_user *user_from_row(struct store_stmt *s)
{
    struct store_user *u = g_new0(struct store_user, 1);
    u->user_id = g_strdup(store_db_col_text(s, 0));
    u->display_name = g_strdup(store_db_col_text(s, 1));
    u->password = g_strdup(store_db_col_text(s, 2));
    u->created_on = store_db_col_int(s, 3);
    u->is_server_owner = store_db_col_int(s, 4) != 0;
    u->preferred_email = g_strdup(store_db_col_text(s, 5));
    return u;
}

static int user_get(struct store *st, const char *sql, const char *key, struct store_user **u_r,
                    char **error_r)
{
    *u_r = NULL;
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, key);
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *u_r = user_from_row(s);
    store_db_done(s);
    return rc;
}

int store_user_get(struct store *st, const char *user_id, struct store_user **u_r, char **error_r)
{
    g_autofree char *lower = g_ascii_strdown(user_id ? user_id : "", -1);
    return user_get(st, USER_COLS " WHERE u.user_id = $1", lower, u_r, error_r);
}

int store_user_get_by_email(struct store *st, const char *email, struct store_user **u_r,
                            char **error_r)
{
    *u_r = NULL;
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return 0;
    return user_get(st, USER_COLS " WHERE u.id = (SELECT user_row FROM address WHERE email = $1)",
                    lower, u_r, error_r);
}

int store_user_create(struct store *st, const char *email, const char *display_name,
                      const char *password_hash, bool is_server_owner, struct store_user **u_r,
                      char **error_r)
{
    if (u_r != NULL)
        *u_r = NULL;
    g_autofree char *lower = NULL;
    if (email != NULL) {
        lower = store_db_email_lower(email);
        if (lower == NULL)
            return store_db_bad_email(email, error_r);
    }
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *uuid = store_db_uuid();
    const char *name = display_name && *display_name ? display_name : NULL;
    struct store_stmt *s = store_db_prepare(
        st,
        "INSERT INTO users (user_id, display_name, password, created_on, is_server_owner) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        error_r);
    int64_t urow = 0;
    rc = STORE_ERR;
    if (s != NULL) {
        store_db_bind_text(s, 1, uuid);
        store_db_bind_text(s, 2, name);
        store_db_bind_text(s, 3, password_hash);
        store_db_bind_int(s, 4, store_db_now());
        store_db_bind_int(s, 5, is_server_owner);
        rc = store_db_step(s, error_r);
        if (rc == 1)
            urow = store_db_col_int(s, 0);
        store_db_done(s);
    }
    if (rc >= 0 && lower != NULL) {
        s = store_db_prepare(st,
                             "INSERT INTO address (email, original_email, display_name, "
                             "registered_on, user_row) VALUES ($1, $2, $3, $4, $5)",
                             error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_text(s, 1, lower);
            store_db_bind_text(s, 2, email);
            store_db_bind_text(s, 3, name);
            store_db_bind_int(s, 4, store_db_now());
            store_db_bind_int(s, 5, urow);
            rc = store_db_step(s, error_r);
            store_db_done(s);
            if (rc == STORE_EXISTS)
                rc = store_db_refail(error_r, STORE_EXISTS, "Address already exists: %s", email);
        }
    }
    rc = store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
    if (rc == 0 && u_r != NULL && store_user_get(st, uuid, u_r, error_r) < 0)
        return STORE_ERR;
    return rc;
}

/* Steps s (its parameters bound) through fn, then finishes it. */
static int user_iterate(struct store_stmt *s, int (*fn)(const struct store_user *u, void *ctx),
                        void *ctx, char **error_r)
{
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1) {
        struct store_user *u = user_from_row(s);
        int r = fn(u, ctx);
        store_user_free(u);
        if (r != 0) {
            rc = r;
            break;
        }
    }
    store_db_done(s);
    return rc;
}

int store_user_foreach(struct store *st, bool server_owners_only,
                       int (*fn)(const struct store_user *u, void *ctx), void *ctx, char **error_r)
{
    struct store_stmt *s = store_db_prepare(
        st,
        server_owners_only ? USER_COLS " WHERE u.is_server_owner <> 0 ORDER BY u.created_on, u.id"
                           : USER_COLS " ORDER BY u.created_on, u.id",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    return user_iterate(s, fn, ctx, error_r);
}

int store_user_find(struct store *st, const char *query,
                    int (*fn)(const struct store_user *u, void *ctx), void *ctx, char **error_r)
{
    /* Mailman's find_users(): ilike '%q%' on the user's display name, an
     * address's display name or email, one row per matching address. */
    struct store_stmt *s = store_db_prepare(
        st,
        USER_COLS " JOIN address a ON a.user_row = u.id WHERE lower(u.display_name) LIKE $1 "
                  "OR lower(a.display_name) LIKE $1 OR lower(a.email) LIKE $1 "
                  "ORDER BY u.created_on, u.id, a.id",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    g_autofree char *lower = g_utf8_strdown(query ? query : "", -1);
    g_autofree char *pattern = g_strdup_printf("%%%s%%", lower);
    store_db_bind_text(s, 1, pattern);
    return user_iterate(s, fn, ctx, error_r);
}

int store_user_delete(struct store *st, const char *user_id, char **error_r)
{
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    /* As Mailman's delete_user: the user's addresses (and through them its
     * memberships) go too. */
    int64_t n = store_db_run(
        st, "DELETE FROM address WHERE user_row = (SELECT id FROM users WHERE user_id = $1)",
        error_r, 1, user_id);
    if (n >= 0)
        n = store_db_run(st, "DELETE FROM users WHERE user_id = $1", error_r, 1, user_id);
    rc = n < 0 ? (int)n : n > 0;
    return store_db_tx_end(st, rc, error_r);
}

static int user_set(struct store *st, const char *sql, const char *user_id, const char *value,
                    char **error_r)
{
    int64_t n = store_db_run(st, sql, error_r, 2, value, user_id);
    if (n < 0)
        return (int)n;
    if (n == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such user: %s", user_id);
    return 0;
}

int store_user_set_display_name(struct store *st, const char *user_id, const char *value,
                                char **error_r)
{
    return user_set(st, "UPDATE users SET display_name = $1 WHERE user_id = $2", user_id,
                    value && *value ? value : NULL, error_r);
}

int store_user_set_password(struct store *st, const char *user_id, const char *password_hash,
                            char **error_r)
{
    return user_set(st, "UPDATE users SET password = $1 WHERE user_id = $2", user_id, password_hash,
                    error_r);
}

int store_user_set_server_owner(struct store *st, const char *user_id, bool value, char **error_r)
{
    return user_set(st, "UPDATE users SET is_server_owner = $1 WHERE user_id = $2", user_id,
                    value ? "1" : "0", error_r);
}

int store_user_set_preferred(struct store *st, const char *user_id, const char *email,
                             char **error_r)
{
    if (email == NULL)
        return user_set(st, "UPDATE users SET preferred_address = $1 WHERE user_id = $2", user_id,
                        NULL, error_r);
    g_autofree char *lower = store_db_email_lower(email);
    int64_t arow = 0;
    /* Mailman requires the preferred address to be the user's and verified. */
    int rc = lower == NULL ? 0
                           : store_db_query_int(st,
                                                "SELECT a.id FROM address a JOIN users u ON u.id "
                                                "= a.user_row WHERE a.email = $1 AND u.user_id = "
                                                "$2 AND a.verified_on IS NOT NULL",
                                                &arow, error_r, 2, lower, user_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return store_db_fail(error_r, STORE_INVALID,
                             "Address %s is not a verified address of user %s", email, user_id);
    g_autofree char *row = g_strdup_printf("%" G_GINT64_FORMAT, arow);
    return user_set(st, "UPDATE users SET preferred_address = $1 WHERE user_id = $2", user_id, row,
                    error_r);
}
