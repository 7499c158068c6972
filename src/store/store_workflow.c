/* store_workflow - see store_workflow.h. */
#include "store/store_workflow.h"

#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

int store_workflow_save(struct store *st, const char *token, const char *step, const char *data,
                        char **error_r)
{
    g_autofree char *key = g_ascii_strdown(token ? token : "", -1);
    int64_t found = 0;
    int rc = store_db_query_int(st, "SELECT count(*) FROM pended WHERE token = $1", &found, error_r,
                                1, key);
    if (rc < 0)
        return rc;
    if (found == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such token: %s", key);
    int64_t n = store_db_run(st,
                             "INSERT INTO workflowstate (token, step, data) VALUES ($1, $2, $3) "
                             "ON CONFLICT (token) DO UPDATE SET step = excluded.step, "
                             "data = excluded.data",
                             error_r, 3, key, step, data);
    return n < 0 ? (int)n : 0;
}

int store_workflow_get(struct store *st, const char *token, char **step_r, char **data_r,
                       char **error_r)
{
    *step_r = *data_r = NULL;
    g_autofree char *key = g_ascii_strdown(token ? token : "", -1);
    struct store_stmt *s =
        store_db_prepare(st, "SELECT step, data FROM workflowstate WHERE token = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, key);
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        *step_r = g_strdup(store_db_col_text(s, 0));
        *data_r = g_strdup(store_db_col_text(s, 1));
    }
    store_db_done(s);
    return rc;
}

int store_autoresponse_count(struct store *st, const char *list_id, const char *email, int kind,
                             const char *day, int64_t *count_r, char **error_r)
{
    *count_r = 0;
    g_autofree char *lower = store_db_lower(email);
    g_autofree char *k = g_strdup_printf("%d", kind);
    int rc = store_db_query_int(st,
                                "SELECT count(*) FROM autoresponserecord r JOIN mailinglist l "
                                "ON l.id = r.list WHERE l.list_id = $1 AND r.email = $2 AND "
                                "r.response_type = $3 AND r.date_sent = $4",
                                count_r, error_r, 4, list_id, lower ? lower : "", k, day);
    return rc < 0 ? rc : 0;
}

int store_autoresponse_add(struct store *st, const char *list_id, const char *email, int kind,
                           const char *day, char **error_r)
{
    int64_t row = 0;
    int rc = store_db_list_row(st, list_id ? list_id : "", &row, error_r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", list_id);
    g_autofree char *lower = store_db_lower(email);
    g_autofree char *r = g_strdup_printf("%" G_GINT64_FORMAT, row);
    g_autofree char *k = g_strdup_printf("%d", kind);
    int64_t n = store_db_run(st,
                             "INSERT INTO autoresponserecord (list, email, response_type, "
                             "date_sent) VALUES ($1, $2, $3, $4)",
                             error_r, 4, r, lower ? lower : "", k, day);
    return n < 0 ? (int)n : 0;
}

int store_autoresponse_last(struct store *st, const char *list_id, const char *email, int kind,
                            char **day_r, char **error_r)
{
    *day_r = NULL;
    g_autofree char *lower = store_db_lower(email);
    struct store_stmt *s = store_db_prepare(
        st,
        "SELECT max(r.date_sent) FROM autoresponserecord r JOIN mailinglist l ON l.id = r.list "
        "WHERE l.list_id = $1 AND r.email = $2 AND r.response_type = $3",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, list_id);
    store_db_bind_text(s, 2, lower ? lower : "");
    store_db_bind_int(s, 3, kind);
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        const char *d = store_db_col_text(s, 0);
        if (d != NULL)
            *day_r = g_strdup(d);
        else
            rc = 0;
    }
    store_db_done(s);
    return rc;
}
