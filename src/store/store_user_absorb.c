/*
 * store_user_absorb - one user takes over another, as Mailman's
 * User.absorb(): the other's addresses (and so their memberships), its
 * domain ownerships, the preferences it has where this one has none, and
 * its display name, password and server-owner flag where this one has
 * none; then the other user is deleted. See store.h.
 */
#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

static const char *const absorb_sql[] = {
    /* $1 this user's row, $2 the other's. */
    "UPDATE address SET user_row = $1 WHERE user_row = $2",
    "UPDATE domain_owner SET user_row = $1 WHERE user_row = $2 AND domain NOT IN "
    "(SELECT domain FROM domain_owner WHERE user_row = $1)",
    "UPDATE users SET "
    "p_ack = COALESCE(p_ack, (SELECT p_ack FROM users WHERE id = $2)), "
    "p_hide = COALESCE(p_hide, (SELECT p_hide FROM users WHERE id = $2)), "
    "p_lang = COALESCE(p_lang, (SELECT p_lang FROM users WHERE id = $2)), "
    "p_rlc = COALESCE(p_rlc, (SELECT p_rlc FROM users WHERE id = $2)), "
    "p_rop = COALESCE(p_rop, (SELECT p_rop FROM users WHERE id = $2)), "
    "p_mode = COALESCE(p_mode, (SELECT p_mode FROM users WHERE id = $2)), "
    "p_status = COALESCE(p_status, (SELECT p_status FROM users WHERE id = $2)), "
    "display_name = COALESCE(NULLIF(display_name, ''), (SELECT display_name FROM users WHERE id "
    "= $2)), "
    "password = COALESCE(NULLIF(password, ''), (SELECT password FROM users WHERE id = $2)), "
    "is_server_owner = MAX(is_server_owner, (SELECT is_server_owner FROM users WHERE id = $2)) "
    "WHERE id = $1",
    "DELETE FROM users WHERE id = $2",
};

int store_user_absorb(struct store *st, const char *user_id, const char *other_id, char **error_r)
{
    int64_t me = 0, other = 0;
    int rc =
        store_db_query_int(st, "SELECT id FROM users WHERE user_id = $1", &me, error_r, 1, user_id);
    if (rc == 1)
        rc = store_db_query_int(st, "SELECT id FROM users WHERE user_id = $1", &other, error_r, 1,
                                other_id);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such user");
    if (rc < 0)
        return rc;
    if (me == other)
        return 0;
    rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *a = g_strdup_printf("%" G_GINT64_FORMAT, me);
    g_autofree char *b = g_strdup_printf("%" G_GINT64_FORMAT, other);
    for (size_t i = 0; i < G_N_ELEMENTS(absorb_sql) && rc >= 0; i++) {
        int64_t n = store_db_run(st, absorb_sql[i], error_r, 2, a, b);
        rc = n < 0 ? (int)n : 0;
    }
    return store_db_tx_end(st, rc, error_r);
}
