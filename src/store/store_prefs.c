/*
 * store_prefs - preferences of members, addresses and users, and their
 * resolution member → address → user → system (store.h "preferences").
 *
 * Each level keeps the seven preferences as nullable p_* columns on its own
 * row; NULL means "inherit".
 */
#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

#define PREFS_SELECT "SELECT p_ack, p_hide, p_lang, p_rlc, p_rop, p_mode, p_status FROM "
#define PREFS_UPDATE                                                                               \
    " SET p_ack = $1, p_hide = $2, p_lang = $3, p_rlc = $4, p_rop = $5, p_mode = $6, "             \
    "p_status = $7 WHERE "

/* Per level: the owner's table and key, as data. */
static const struct {
    const char *get;
    const char *set;
    const char *what;
} prefs_sql[] = {
    [STORE_PREFS_MEMBER] = {PREFS_SELECT "member WHERE member_id = $1",
                            "UPDATE member" PREFS_UPDATE "member_id = $8", "member"},
    [STORE_PREFS_ADDRESS] = {PREFS_SELECT "address WHERE email = $1",
                             "UPDATE address" PREFS_UPDATE "email = $8", "address"},
    [STORE_PREFS_USER] = {PREFS_SELECT "users WHERE user_id = $1",
                          "UPDATE users" PREFS_UPDATE "user_id = $8", "user"},
};

static char *prefs_key(enum store_prefs_kind kind, const char *id)
{
    if (id == NULL)
        return NULL;
    if (kind == STORE_PREFS_ADDRESS)
        return store_db_email_lower(id);
    return g_ascii_strdown(id, -1);
}

static int col_tristate(struct store_stmt *s, int col)
{
    return store_db_col_null(s, col) ? -1 : store_db_col_int(s, col) != 0;
}

int store_prefs_get(struct store *st, enum store_prefs_kind kind, const char *id,
                    struct store_prefs *p, char **error_r)
{
    store_prefs_unset(p);
    g_autofree char *key = prefs_key(kind, id);
    if (key == NULL || (unsigned)kind >= G_N_ELEMENTS(prefs_sql))
        return 0;
    struct store_stmt *s = store_db_prepare(st, prefs_sql[kind].get, error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, key);
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        p->acknowledge_posts = col_tristate(s, 0);
        p->hide_address = col_tristate(s, 1);
        p->preferred_language = g_strdup(store_db_col_text(s, 2));
        p->receive_list_copy = col_tristate(s, 3);
        p->receive_own_postings = col_tristate(s, 4);
        p->delivery_mode = (int)store_db_col_int(s, 5);
        p->delivery_status = (int)store_db_col_int(s, 6);
    }
    store_db_done(s);
    return rc;
}

static void bind_tristate(struct store_stmt *s, int i, int v)
{
    if (v < 0)
        store_db_bind_null(s, i);
    else
        store_db_bind_int(s, i, v != 0);
}

static void bind_enum(struct store_stmt *s, int i, int v)
{
    if (v <= 0)
        store_db_bind_null(s, i);
    else
        store_db_bind_int(s, i, v);
}

int store_prefs_set(struct store *st, enum store_prefs_kind kind, const char *id,
                    const struct store_prefs *p, char **error_r)
{
    if ((unsigned)kind >= G_N_ELEMENTS(prefs_sql))
        return store_db_fail(error_r, STORE_INVALID, "bad preferences kind");
    if (p->delivery_mode != 0 && store_delivery_mode_name(p->delivery_mode) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid delivery mode: %d", p->delivery_mode);
    if (p->delivery_status != 0 && store_delivery_status_name(p->delivery_status) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid delivery status: %d",
                             p->delivery_status);
    g_autofree char *key = prefs_key(kind, id);
    struct store_stmt *s = store_db_prepare(st, prefs_sql[kind].set, error_r);
    if (s == NULL)
        return STORE_ERR;
    bind_tristate(s, 1, p->acknowledge_posts);
    bind_tristate(s, 2, p->hide_address);
    store_db_bind_text(s, 3, p->preferred_language);
    bind_tristate(s, 4, p->receive_list_copy);
    bind_tristate(s, 5, p->receive_own_postings);
    bind_enum(s, 6, p->delivery_mode);
    bind_enum(s, 7, p->delivery_status);
    store_db_bind_text(s, 8, key);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc < 0)
        return rc;
    if (store_db_changes(st) == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such %s: %s", prefs_sql[kind].what,
                             id ? id : "");
    return 0;
}

int store_prefs_effective(struct store *st, const char *member_id, struct store_prefs *p,
                          char **error_r)
{
    store_prefs_system(p);
    struct store_stmt *s = store_db_prepare(
        st,
        "SELECT COALESCE(m.p_ack, a.p_ack, u.p_ack), COALESCE(m.p_hide, a.p_hide, u.p_hide), "
        "COALESCE(m.p_lang, a.p_lang, u.p_lang), COALESCE(m.p_rlc, a.p_rlc, u.p_rlc), "
        "COALESCE(m.p_rop, a.p_rop, u.p_rop), COALESCE(m.p_mode, a.p_mode, u.p_mode), "
        "COALESCE(m.p_status, a.p_status, u.p_status) FROM member m "
        "JOIN address a ON a.id = m.address LEFT JOIN users u ON u.id = a.user_row "
        "WHERE m.member_id = $1",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    g_autofree char *key = g_ascii_strdown(member_id ? member_id : "", -1);
    store_db_bind_text(s, 1, key);
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        if (!store_db_col_null(s, 0))
            p->acknowledge_posts = store_db_col_int(s, 0) != 0;
        if (!store_db_col_null(s, 1))
            p->hide_address = store_db_col_int(s, 1) != 0;
        if (!store_db_col_null(s, 2)) {
            g_free(p->preferred_language);
            p->preferred_language = g_strdup(store_db_col_text(s, 2));
        }
        if (!store_db_col_null(s, 3))
            p->receive_list_copy = store_db_col_int(s, 3) != 0;
        if (!store_db_col_null(s, 4))
            p->receive_own_postings = store_db_col_int(s, 4) != 0;
        if (!store_db_col_null(s, 5))
            p->delivery_mode = (int)store_db_col_int(s, 5);
        if (!store_db_col_null(s, 6))
            p->delivery_status = (int)store_db_col_int(s, 6);
    }
    store_db_done(s);
    return rc;
}
