/*
 * store_pending - pended confirmation tokens with an expiry and ordered
 * key/value data (store.h "pendings"; Mailman's pended/pendedkeyvalue).
 */
#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

int store_pending_add(struct store *st, const char *type, int64_t lifetime_us,
                      const char *const *keys, const char *const *values, size_t n, char **token_r,
                      char **error_r)
{
    *token_r = NULL;
    if (type == NULL || *type == '\0')
        return store_db_fail(error_r, STORE_INVALID, "A pending needs a type");
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *token = store_db_token();
    struct store_stmt *s = store_db_prepare(
        st, "INSERT INTO pended (token, type, expires) VALUES ($1, $2, $3) RETURNING id", error_r);
    int64_t id = 0;
    rc = STORE_ERR;
    if (s != NULL) {
        store_db_bind_text(s, 1, token);
        store_db_bind_text(s, 2, type);
        store_db_bind_int(s, 3, store_db_now() + lifetime_us);
        rc = store_db_step(s, error_r);
        if (rc == 1)
            id = store_db_col_int(s, 0);
        store_db_done(s);
    }
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        s = store_db_prepare(
            st, "INSERT INTO pended_kv (pended, seq, key, value) VALUES ($1, $2, $3, $4)", error_r);
        if (s == NULL) {
            rc = STORE_ERR;
            break;
        }
        store_db_bind_int(s, 1, id);
        store_db_bind_int(s, 2, (int64_t)i);
        store_db_bind_text(s, 3, keys[i]);
        store_db_bind_text(s, 4, values[i]);
        rc = store_db_step(s, error_r);
        store_db_done(s);
    }
    rc = store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
    if (rc == 0)
        *token_r = g_steal_pointer(&token);
    return rc;
}

int store_pending_get(struct store *st, const char *token, struct store_pending **p_r,
                      char **error_r)
{
    *p_r = NULL;
    g_autofree char *key = g_ascii_strdown(token ? token : "", -1);
    struct store_stmt *s = store_db_prepare(
        st, "SELECT id, type, expires FROM pended WHERE token = $1 AND expires > $2", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, key);
    store_db_bind_int(s, 2, store_db_now());
    int rc = store_db_step(s, error_r);
    int64_t id = 0;
    struct store_pending *p = NULL;
    if (rc == 1) {
        p = g_new0(struct store_pending, 1);
        id = store_db_col_int(s, 0);
        p->token = g_strdup(key);
        p->type = g_strdup(store_db_col_text(s, 1));
        p->expires = store_db_col_int(s, 2);
    }
    store_db_done(s);
    if (rc != 1)
        return rc;
    s = store_db_prepare(st, "SELECT key, value FROM pended_kv WHERE pended = $1 ORDER BY seq",
                         error_r);
    if (s == NULL) {
        store_pending_free(p);
        return STORE_ERR;
    }
    store_db_bind_int(s, 1, id);
    GPtrArray *k = g_ptr_array_new();
    GPtrArray *v = g_ptr_array_new();
    while ((rc = store_db_step(s, error_r)) == 1) {
        g_ptr_array_add(k, g_strdup(store_db_col_text(s, 0)));
        g_ptr_array_add(v, g_strdup(store_db_col_text(s, 1)));
    }
    store_db_done(s);
    p->n = k->len;
    p->keys = (char **)g_ptr_array_free(k, FALSE);
    p->values = (char **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        store_pending_free(p);
        return rc;
    }
    *p_r = p;
    return 1;
}

int store_pending_delete(struct store *st, const char *token, char **error_r)
{
    g_autofree char *key = g_ascii_strdown(token ? token : "", -1);
    int64_t n = store_db_run(st, "DELETE FROM pended WHERE token = $1", error_r, 1, key);
    return n < 0 ? (int)n : n > 0;
}

int store_pending_find(struct store *st, const char *type, const char *key, const char *value,
                       char ***tokens_r, char **error_r)
{
    *tokens_r = NULL;
    struct store_stmt *s = store_db_prepare(
        st,
        "SELECT p.token FROM pended p WHERE p.expires > $4 AND ($1 IS NULL OR p.type = $1) "
        "AND ($2 IS NULL OR EXISTS (SELECT 1 FROM pended_kv k WHERE k.pended = p.id "
        "AND k.key = $2 AND k.value = $3)) ORDER BY p.id",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, type);
    store_db_bind_text(s, 2, key);
    store_db_bind_text(s, 3, value);
    store_db_bind_int(s, 4, store_db_now());
    GPtrArray *v = g_ptr_array_new();
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1)
        g_ptr_array_add(v, g_strdup(store_db_col_text(s, 0)));
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    char **arr = (char **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        g_strfreev(arr);
        return rc;
    }
    *tokens_r = arr;
    return 0;
}

int store_pending_evict(struct store *st, int64_t now, char **error_r)
{
    struct store_stmt *s = store_db_prepare(st, "DELETE FROM pended WHERE expires <= $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, now != 0 ? now : store_db_now());
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : (int)store_db_changes(st);
}
