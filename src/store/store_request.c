/*
 * store_request - a list's pending moderator requests: held messages and
 * (un)subscription requests, numbered per list from 1 (store.h "requests";
 * Mailman's _request table with mailinglist.next_request_id).
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

int store_request_add(struct store *st, const char *list_id, int type, const char *key,
                      const char *data_token, int *id_r, char **error_r)
{
    if (store_request_type_name(type) == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid request type: %d", type);
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0, id = 0;
    rc = list_row(st, list_id, &row, error_r);
    struct store_stmt *s = NULL;
    if (rc == 0) {
        s = store_db_prepare(st,
                             "UPDATE mailinglist SET next_request_id = next_request_id + 1 "
                             "WHERE id = $1 RETURNING next_request_id - 1",
                             error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_int(s, 1, row);
            rc = store_db_step(s, error_r);
            if (rc == 1)
                id = store_db_col_int(s, 0);
            store_db_done(s);
        }
    }
    if (rc >= 0) {
        s = store_db_prepare(st,
                             "INSERT INTO request (list, req_id, type, key, data_token) "
                             "VALUES ($1, $2, $3, $4, $5)",
                             error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_int(s, 1, row);
            store_db_bind_int(s, 2, id);
            store_db_bind_int(s, 3, type);
            store_db_bind_text(s, 4, key ? key : "");
            store_db_bind_text(s, 5, data_token);
            rc = store_db_step(s, error_r);
            store_db_done(s);
        }
    }
    rc = store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
    if (rc == 0 && id_r != NULL)
        *id_r = (int)id;
    return rc;
}

#define REQUEST_COLS                                                                               \
    "SELECT r.req_id, l.list_id, r.type, r.key, r.data_token FROM request r "                      \
    "JOIN mailinglist l ON l.id = r.list"

static struct store_request *request_from_row(struct store_stmt *s)
{
    struct store_request *r = g_new0(struct store_request, 1);
    r->id = (int)store_db_col_int(s, 0);
    r->list_id = g_strdup(store_db_col_text(s, 1));
    r->type = (int)store_db_col_int(s, 2);
    r->key = g_strdup(store_db_col_text(s, 3));
    r->data_token = g_strdup(store_db_col_text(s, 4));
    return r;
}

int store_request_get(struct store *st, const char *list_id, int id, struct store_request **r_r,
                      char **error_r)
{
    *r_r = NULL;
    int64_t row = 0;
    int rc = store_db_list_row(st, list_id ? list_id : "", &row, error_r);
    if (rc != 1)
        return rc;
    struct store_stmt *s =
        store_db_prepare(st, REQUEST_COLS " WHERE r.list = $1 AND r.req_id = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, id);
    rc = store_db_step(s, error_r);
    if (rc == 1)
        *r_r = request_from_row(s);
    store_db_done(s);
    return rc;
}

int store_request_list(struct store *st, const char *list_id, int type, struct store_request ***v_r,
                       char **error_r)
{
    *v_r = NULL;
    int64_t row = 0;
    int rc = list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = store_db_prepare(
        st, REQUEST_COLS " WHERE r.list = $1 AND ($2 = 0 OR r.type = $2) ORDER BY r.req_id",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, type);
    GPtrArray *v = g_ptr_array_new();
    while ((rc = store_db_step(s, error_r)) == 1)
        g_ptr_array_add(v, request_from_row(s));
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    struct store_request **arr = (struct store_request **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        store_requestv_free(arr);
        return rc;
    }
    *v_r = arr;
    return 0;
}

int store_request_count(struct store *st, const char *list_id, int type, int64_t *count_r,
                        char **error_r)
{
    *count_r = 0;
    int64_t row = 0;
    int rc = list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = store_db_prepare(
        st, "SELECT count(*) FROM request WHERE list = $1 AND ($2 = 0 OR type = $2)", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, type);
    rc = store_db_step(s, error_r);
    if (rc == 1)
        *count_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

int store_request_delete(struct store *st, const char *list_id, int id, char **error_r)
{
    int64_t row = 0;
    int rc = store_db_list_row(st, list_id ? list_id : "", &row, error_r);
    if (rc != 1)
        return rc;
    struct store_stmt *s =
        store_db_prepare(st, "DELETE FROM request WHERE list = $1 AND req_id = $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, id);
    rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : store_db_changes(st) > 0;
}
