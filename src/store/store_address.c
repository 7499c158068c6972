/*
 * store_address - addresses: create, get, iterate, delete, verify, link to
 * a user, and change an address everywhere. See store.h and
 * store_address.h.
 */
#include "store/store_address.h"

#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_db.h"

#define ADDRESS_COLS                                                                               \
    "SELECT a.email, a.original_email, a.display_name, a.verified_on, a.registered_on, "           \
    "u.user_id FROM address a LEFT JOIN users u ON u.id = a.user_row"

static struct store_address *address_from_row(struct store_stmt *s)
{
    struct store_address *a = g_new0(struct store_address, 1);
    a->email = g_strdup(store_db_col_text(s, 0));
    a->original_email = g_strdup(store_db_col_text(s, 1));
    a->display_name = g_strdup(store_db_col_text(s, 2));
    a->verified_on = store_db_col_int(s, 3);
    a->registered_on = store_db_col_int(s, 4);
    a->user_id = g_strdup(store_db_col_text(s, 5));
    return a;
}

/* Inserts a user row; gives its row id. */
static int user_insert(struct store *st, const char *display_name, int64_t *urow_r, char **error_r)
{
    struct store_stmt *s =
        store_db_prepare(st,
                         "INSERT INTO users (user_id, display_name, created_on, is_server_owner) "
                         "VALUES ($1, $2, $3, 0) RETURNING id",
                         error_r);
    if (s == NULL)
        return STORE_ERR;
    g_autofree char *uuid = store_db_uuid();
    store_db_bind_text(s, 1, uuid);
    store_db_bind_text(s, 2, display_name && *display_name ? display_name : NULL);
    store_db_bind_int(s, 3, store_db_now());
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *urow_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc == 1 ? 0 : (rc < 0 ? rc : STORE_ERR);
}

int store_address_ensure(struct store *st, const char *email, const char *display_name,
                         bool want_user, int64_t *arow_r, int64_t *urow_r, char **error_r)
{
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return store_db_bad_email(email, error_r);
    const char *name = display_name && *display_name ? display_name : NULL;
    struct store_stmt *s = store_db_prepare(
        st, "SELECT id, user_row, display_name IS NULL FROM address WHERE email = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, lower);
    int rc = store_db_step(s, error_r);
    int64_t arow = 0, urow = 0;
    bool no_name = false;
    if (rc == 1) {
        arow = store_db_col_int(s, 0);
        urow = store_db_col_int(s, 1);
        no_name = store_db_col_int(s, 2) != 0;
    }
    store_db_done(s);
    if (rc < 0)
        return rc;

    if (rc == 0) {
        if (want_user && (rc = user_insert(st, name, &urow, error_r)) < 0)
            return rc;
        s = store_db_prepare(st,
                             "INSERT INTO address (email, original_email, display_name, "
                             "registered_on, user_row) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                             error_r);
        if (s == NULL)
            return STORE_ERR;
        store_db_bind_text(s, 1, lower);
        store_db_bind_text(s, 2, email);
        store_db_bind_text(s, 3, name);
        store_db_bind_int(s, 4, store_db_now());
        if (urow != 0)
            store_db_bind_int(s, 5, urow);
        else
            store_db_bind_null(s, 5);
        rc = store_db_step(s, error_r);
        if (rc == 1)
            arow = store_db_col_int(s, 0);
        store_db_done(s);
        if (rc != 1)
            return rc < 0 ? rc : STORE_ERR;
    } else {
        if (want_user && urow == 0) {
            if ((rc = user_insert(st, name, &urow, error_r)) < 0)
                return rc;
            s = store_db_prepare(st, "UPDATE address SET user_row = $1 WHERE id = $2", error_r);
            if (s == NULL)
                return STORE_ERR;
            store_db_bind_int(s, 1, urow);
            store_db_bind_int(s, 2, arow);
            rc = store_db_step(s, error_r);
            store_db_done(s);
            if (rc < 0)
                return rc;
        }
        if (name != NULL && no_name) {
            s = store_db_prepare(st, "UPDATE address SET display_name = $1 WHERE id = $2", error_r);
            if (s == NULL)
                return STORE_ERR;
            store_db_bind_text(s, 1, name);
            store_db_bind_int(s, 2, arow);
            rc = store_db_step(s, error_r);
            store_db_done(s);
            if (rc < 0)
                return rc;
        }
    }
    *arow_r = arow;
    if (urow_r != NULL)
        *urow_r = urow;
    return 0;
}

int store_address_create(struct store *st, const char *email, const char *display_name,
                         struct store_address **a_r, char **error_r)
{
    if (a_r != NULL)
        *a_r = NULL;
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return store_db_bad_email(email, error_r);
    struct store_stmt *s = store_db_prepare(st,
                                            "INSERT INTO address (email, original_email, "
                                            "display_name, registered_on) VALUES ($1, $2, $3, $4)",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, lower);
    store_db_bind_text(s, 2, email);
    store_db_bind_text(s, 3, display_name && *display_name ? display_name : NULL);
    store_db_bind_int(s, 4, store_db_now());
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc == STORE_EXISTS)
        return store_db_refail(error_r, STORE_EXISTS, "Address already exists: %s", email);
    if (rc < 0)
        return rc;
    if (a_r != NULL && store_address_get(st, lower, a_r, error_r) < 0)
        return STORE_ERR;
    return 0;
}

int store_address_get(struct store *st, const char *email, struct store_address **a_r,
                      char **error_r)
{
    *a_r = NULL;
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return 0;
    struct store_stmt *s = store_db_prepare(st, ADDRESS_COLS " WHERE a.email = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, lower);
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *a_r = address_from_row(s);
    store_db_done(s);
    return rc;
}

int store_address_foreach(struct store *st, const char *user_id,
                          int (*fn)(const struct store_address *a, void *ctx), void *ctx,
                          char **error_r)
{
    struct store_stmt *s =
        user_id == NULL
            ? store_db_prepare(st, ADDRESS_COLS " ORDER BY a.email", error_r)
            : store_db_prepare(st, ADDRESS_COLS " WHERE u.user_id = $1 ORDER BY a.email", error_r);
    if (s == NULL)
        return STORE_ERR;
    if (user_id != NULL)
        store_db_bind_text(s, 1, user_id);
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1) {
        struct store_address *a = address_from_row(s);
        int r = fn(a, ctx);
        store_address_free(a);
        if (r != 0) {
            rc = r;
            break;
        }
    }
    store_db_done(s);
    return rc;
}

int store_address_delete(struct store *st, const char *email, char **error_r)
{
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return 0;
    /* Memberships go with it (ON DELETE CASCADE); a user's preferred
     * address pointer is cleared (ON DELETE SET NULL). */
    int64_t n = store_db_run(st, "DELETE FROM address WHERE email = $1", error_r, 1, lower);
    return n < 0 ? (int)n : n > 0;
}

static int address_update(struct store *st, struct store_stmt *s, const char *email, char **error_r)
{
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc < 0)
        return rc;
    if (store_db_changes(st) == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such address: %s", email);
    return 0;
}

int store_address_set_verified(struct store *st, const char *email, int64_t when, char **error_r)
{
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such address: %s", email);
    struct store_stmt *s =
        store_db_prepare(st, "UPDATE address SET verified_on = $1 WHERE email = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    if (when != 0)
        store_db_bind_int(s, 1, when);
    else
        store_db_bind_null(s, 1);
    store_db_bind_text(s, 2, lower);
    return address_update(st, s, email, error_r);
}

int store_address_set_display_name(struct store *st, const char *email, const char *value,
                                   char **error_r)
{
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such address: %s", email);
    struct store_stmt *s =
        store_db_prepare(st, "UPDATE address SET display_name = $1 WHERE email = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, value && *value ? value : NULL);
    store_db_bind_text(s, 2, lower);
    return address_update(st, s, email, error_r);
}

int store_address_set_user(struct store *st, const char *email, const char *user_id, char **error_r)
{
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such address: %s", email);
    if (user_id == NULL) {
        struct store_stmt *s =
            store_db_prepare(st, "UPDATE address SET user_row = NULL WHERE email = $1", error_r);
        if (s == NULL)
            return STORE_ERR;
        store_db_bind_text(s, 1, lower);
        return address_update(st, s, email, error_r);
    }
    int64_t urow = 0, current = 0;
    int rc = store_db_query_int(st, "SELECT id FROM users WHERE user_id = $1", &urow, error_r, 1,
                                user_id);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such user: %s", user_id);
    if (rc < 0)
        return rc;
    rc = store_db_query_int(st, "SELECT COALESCE(user_row, 0) FROM address WHERE email = $1",
                            &current, error_r, 1, lower);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such address: %s", email);
    if (rc < 0)
        return rc;
    if (current != 0 && current != urow)
        return store_db_fail(error_r, STORE_EXISTS, "Address %s is already linked to a user",
                             email);
    struct store_stmt *s =
        store_db_prepare(st, "UPDATE address SET user_row = $1 WHERE email = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, urow);
    store_db_bind_text(s, 2, lower);
    return address_update(st, s, email, error_r);
}

int store_address_change(struct store *st, const char *old_email, const char *new_email,
                         char **error_r)
{
    g_autofree char *old_lower = store_db_email_lower(old_email);
    g_autofree char *new_lower = store_db_email_lower(new_email);
    if (old_lower != NULL && new_lower != NULL && strcmp(old_lower, new_lower) == 0 &&
        strcmp(old_email, new_email) == 0)
        return store_db_fail(error_r, STORE_INVALID,
                             "Addresses are not different.  Nothing to change.");
    if (new_lower == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Address %s is not a valid email address.",
                             new_email ? new_email : "");
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t arow = 0, other = 0;
    rc = old_lower == NULL ? 0 : store_db_address_row(st, old_lower, &arow, error_r);
    if (rc == 0)
        rc = store_db_fail(error_r, STORE_NOT_FOUND, "Address %s not found.",
                           old_email ? old_email : "");
    if (rc > 0 && strcmp(old_lower, new_lower) != 0) {
        rc = store_db_address_row(st, new_lower, &other, error_r);
        if (rc == 1)
            rc = store_db_fail(error_r, STORE_EXISTS, "Address %s already exists; can't change.",
                               new_email);
        else if (rc == 0)
            rc = 1;
    }
    if (rc > 0) {
        /* Memberships and owners point at the address row, so they follow.
         * Exact (non-regex) bans follow too. */
        struct store_stmt *s = store_db_prepare(
            st, "UPDATE address SET email = $1, original_email = $2 WHERE id = $3", error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_text(s, 1, new_lower);
            store_db_bind_text(s, 2, new_email);
            store_db_bind_int(s, 3, arow);
            rc = store_db_step(s, error_r);
            store_db_done(s);
        }
        if (rc >= 0) {
            int64_t n = store_db_run(st, "UPDATE ban SET email = $1 WHERE email = $2", error_r, 2,
                                     new_lower, old_lower);
            rc = n < 0 ? (int)n : 0;
        }
    }
    return store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
}
