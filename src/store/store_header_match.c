/*
 * store_header_match - a list's header_matches: ordered (header, pattern,
 * chain, tag) rules for the header-match chain (store.h "header
 * matches"). Positions are dense from 0; inserting or deleting shifts the
 * later entries, as Mailman's HeaderMatchList does.
 */
#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

static int list_row(struct store *st, const char *list_id, int64_t *row_r, char **error_r)
{
    int rc = store_db_list_row(st, list_id ? list_id : "", row_r, error_r);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", list_id ? list_id : "");
    return rc < 0 ? rc : 0;
}

static int count_where(struct store *st, const char *sql, int64_t row, const char *a, const char *b,
                       int64_t *n_r, char **error_r)
{
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    if (a != NULL)
        store_db_bind_text(s, 2, a);
    if (b != NULL)
        store_db_bind_text(s, 3, b);
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *n_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

static int shift(struct store *st, const char *sql, int64_t row, int position, char **error_r)
{
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, position);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

int store_header_match_add(struct store *st, const char *list_id, int position, const char *header,
                           const char *pattern, const char *chain, const char *tag, char **error_r)
{
    if (header == NULL || *header == '\0' || pattern == NULL || *pattern == '\0' ||
        !g_utf8_validate(header, -1, NULL) || !g_utf8_validate(pattern, -1, NULL))
        return store_db_fail(error_r, STORE_INVALID, "A header match needs a header and a pattern");
    g_autofree char *lower = g_utf8_strdown(header, -1);
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0, dup = 0, count = 0;
    rc = list_row(st, list_id, &row, error_r);
    if (rc == 0)
        rc = count_where(st,
                         "SELECT count(*) FROM header_match WHERE list = $1 AND header = $2 AND "
                         "pattern = $3",
                         row, lower, pattern, &dup, error_r);
    if (rc == 0 && dup > 0)
        rc = store_db_fail(error_r, STORE_EXISTS, "This header match already exists");
    if (rc == 0)
        rc = count_where(st, "SELECT count(*) FROM header_match WHERE list = $1", row, NULL, NULL,
                         &count, error_r);
    if (rc == 0 && (position < 0 || position > count))
        position = (int)count;
    if (rc == 0 && position < count)
        rc = shift(st,
                   "UPDATE header_match SET position = position + 1 WHERE list = $1 AND "
                   "position >= $2",
                   row, position, error_r);
    if (rc == 0) {
        struct store_stmt *s =
            store_db_prepare(st,
                             "INSERT INTO header_match (list, position, header, "
                             "pattern, chain, tag) VALUES ($1, $2, $3, $4, $5, $6)",
                             error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_int(s, 1, row);
            store_db_bind_int(s, 2, position);
            store_db_bind_text(s, 3, lower);
            store_db_bind_text(s, 4, pattern);
            store_db_bind_text(s, 5, chain && *chain ? chain : NULL);
            store_db_bind_text(s, 6, tag && *tag ? tag : NULL);
            rc = store_db_step(s, error_r);
            store_db_done(s);
        }
    }
    return store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
}

int store_header_match_list(struct store *st, const char *list_id, struct store_header_match ***v_r,
                            char **error_r)
{
    *v_r = NULL;
    int64_t row = 0;
    int rc = list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = store_db_prepare(st,
                                            "SELECT position, header, pattern, chain, tag FROM "
                                            "header_match WHERE list = $1 ORDER BY position",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    GPtrArray *v = g_ptr_array_new();
    while ((rc = store_db_step(s, error_r)) == 1) {
        struct store_header_match *h = g_new0(struct store_header_match, 1);
        h->position = (int)store_db_col_int(s, 0);
        h->header = g_strdup(store_db_col_text(s, 1));
        h->pattern = g_strdup(store_db_col_text(s, 2));
        h->chain = g_strdup(store_db_col_text(s, 3));
        h->tag = g_strdup(store_db_col_text(s, 4));
        g_ptr_array_add(v, h);
    }
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    struct store_header_match **arr = (struct store_header_match **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        store_header_matchv_free(arr);
        return rc;
    }
    *v_r = arr;
    return 0;
}

int store_header_match_delete(struct store *st, const char *list_id, int position, char **error_r)
{
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    rc = list_row(st, list_id, &row, error_r);
    if (rc == 0)
        rc = shift(st, "DELETE FROM header_match WHERE list = $1 AND position = $2", row, position,
                   error_r);
    int deleted = rc == 0 && store_db_changes(st) > 0;
    if (deleted)
        rc = shift(st,
                   "UPDATE header_match SET position = position - 1 WHERE list = $1 AND "
                   "position > $2",
                   row, position, error_r);
    return store_db_tx_end(st, rc < 0 ? rc : deleted, error_r);
}

int store_header_match_clear(struct store *st, const char *list_id, char **error_r)
{
    int64_t row = 0;
    int rc = list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    return shift(st, "DELETE FROM header_match WHERE list = $1 AND $2 = 0", row, 0, error_r);
}
