/*
 * store_ban - banned addresses, per list or global (store.h "bans").
 *
 * An entry is an address (stored lower-case, matched exactly) or a regular
 * expression starting with '^' (stored as given, matched case-insensitively
 * from the start of the address, as Mailman's re.match(..., IGNORECASE)).
 */
#include "lib/regex.h"
#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_db.h"

/* The list's row, or 0 for global (list_id NULL); NOT_FOUND if unknown. */
static int ban_list_row(struct store *st, const char *list_id, int64_t *row_r, char **error_r)
{
    *row_r = 0;
    if (list_id == NULL)
        return 0;
    int rc = store_db_list_row(st, list_id, row_r, error_r);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", list_id);
    return rc < 0 ? rc : 0;
}

/* The stored form of an entry, or NULL with *error_r. */
static char *ban_entry(const char *email, char **error_r)
{
    if (email == NULL || *email == '\0' || !g_utf8_validate(email, -1, NULL)) {
        store_db_fail(error_r, STORE_INVALID, "Invalid ban entry");
        return NULL;
    }
    if (email[0] != '^')
        return g_utf8_strdown(email, -1);
    g_autofree char *rerr = NULL;
    GRegex *re = regex_compile(email, &rerr);
    if (re == NULL) {
        store_db_fail(error_r, STORE_INVALID, "Invalid regular expression %s: %s", email, rerr);
        return NULL;
    }
    g_regex_unref(re);
    return g_strdup(email);
}

static struct store_stmt *prepare_for(struct store *st, int64_t row, const char *global_sql,
                                      const char *list_sql, char **error_r)
{
    struct store_stmt *s = store_db_prepare(st, row == 0 ? global_sql : list_sql, error_r);
    if (s != NULL && row != 0)
        store_db_bind_int(s, 2, row);
    return s;
}

static int ban_exists(struct store *st, int64_t row, const char *entry, char **error_r)
{
    struct store_stmt *s =
        prepare_for(st, row, "SELECT 1 FROM ban WHERE email = $1 AND list IS NULL",
                    "SELECT 1 FROM ban WHERE email = $1 AND list = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, entry);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc;
}

int store_ban_add(struct store *st, const char *list_id, const char *email, char **error_r)
{
    g_autofree char *entry = ban_entry(email, error_r);
    if (entry == NULL)
        return STORE_INVALID;
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    rc = ban_list_row(st, list_id, &row, error_r);
    if (rc == 0)
        rc = ban_exists(st, row, entry, error_r);
    if (rc == 0) {
        struct store_stmt *s =
            store_db_prepare(st, "INSERT INTO ban (list, email) VALUES ($1, $2)", error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            if (row != 0)
                store_db_bind_int(s, 1, row);
            else
                store_db_bind_null(s, 1);
            store_db_bind_text(s, 2, entry);
            rc = store_db_step(s, error_r);
            store_db_done(s);
        }
    }
    return store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
}

int store_ban_remove(struct store *st, const char *list_id, const char *email, char **error_r)
{
    if (email == NULL)
        return 0;
    g_autofree char *entry = email[0] == '^' ? g_strdup(email) : store_db_lower(email);
    if (entry == NULL)
        return 0;
    int64_t row = 0;
    int rc = ban_list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = prepare_for(st, row, "DELETE FROM ban WHERE email = $1 AND list IS NULL",
                                       "DELETE FROM ban WHERE email = $1 AND list = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, entry);
    rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : store_db_changes(st) > 0;
}

int store_ban_list(struct store *st, const char *list_id, char ***emails_r, char **error_r)
{
    *emails_r = NULL;
    int64_t row = 0;
    int rc = ban_list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s =
        prepare_for(st, row, "SELECT email FROM ban WHERE list IS NULL ORDER BY email",
                    "SELECT email FROM ban WHERE list = $2 ORDER BY email", error_r);
    if (s == NULL)
        return STORE_ERR;
    GPtrArray *v = g_ptr_array_new();
    while ((rc = store_db_step(s, error_r)) == 1)
        g_ptr_array_add(v, g_strdup(store_db_col_text(s, 0)));
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    char **arr = (char **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        g_strfreev(arr);
        return rc;
    }
    *emails_r = arr;
    return 0;
}

int store_ban_is_banned(struct store *st, const char *list_id, const char *email, char **error_r)
{
    g_autofree char *lower = store_db_lower(email);
    if (lower == NULL)
        return 0;     /* not text: cannot match an entry */
    int64_t row = -1; /* matches no list: global bans only */
    if (list_id != NULL) {
        int rc = store_db_list_row(st, list_id, &row, error_r);
        if (rc < 0)
            return rc;
        if (rc == 0)
            row = -1;
    }
    struct store_stmt *s = store_db_prepare(
        st, "SELECT email FROM ban WHERE (list IS NULL OR list = $2) AND email = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, lower);
    store_db_bind_int(s, 2, row);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc != 0)
        return rc;
    s = store_db_prepare(st,
                         "SELECT email FROM ban WHERE (list IS NULL OR list = $1) AND email LIKE "
                         "'^%'",
                         error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    bool banned = false;
    while (!banned && (rc = store_db_step(s, error_r)) == 1) {
        GRegex *re = regex_compile(store_db_col_text(s, 0), NULL);
        if (re != NULL) {
            banned = regex_match_start(re, lower);
            g_regex_unref(re);
        }
    }
    store_db_done(s);
    return rc < 0 ? rc : banned;
}
