/* store_task - the task runner's clean-ups (Mailman's TaskRunner
 * _evict_pendings, after the pendings themselves): see store.h. */
#include "store/store.h"
#include "store/store_db.h"

#include <glib.h>

int store_evict_orphans(struct store *st, int64_t *requests_r, char ***paths_r, char **error_r)
{
    *paths_r = NULL;
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    /* Requests whose data pending is gone (an expired subscription request,
     * say). Workflow states go with their pendings (ON DELETE CASCADE). */
    int64_t n = store_db_run(st,
                             "DELETE FROM request WHERE data_token IS NOT NULL AND data_token NOT "
                             "IN (SELECT token FROM pended)",
                             error_r, 0);
    GPtrArray *paths = g_ptr_array_new();
    if (n >= 0) {
        *requests_r = n;
        /* Stored messages no held-message data refers to. */
        static const char q[] = "SELECT path FROM message WHERE message_id NOT IN "
                                "(SELECT value FROM pended_kv WHERE key = '_mod_message_id' "
                                "AND value IS NOT NULL)";
        struct store_stmt *s = store_db_prepare(st, q, error_r);
        int step = s ? 1 : -1;
        while (s && (step = store_db_step(s, error_r)) == 1)
            g_ptr_array_add(paths, g_strdup(store_db_col_text(s, 0)));
        store_db_done(s);
        if (step < 0)
            n = step;
        else
            n = store_db_run(st,
                             "DELETE FROM message WHERE message_id NOT IN (SELECT value FROM "
                             "pended_kv WHERE key = '_mod_message_id' AND value IS NOT NULL)",
                             error_r, 0);
    }
    rc = store_db_tx_end(st, n < 0 ? (int)n : 0, error_r);
    if (rc < 0) {
        g_ptr_array_free(paths, TRUE);
        return rc;
    }
    g_ptr_array_add(paths, NULL);
    *paths_r = (char **)g_ptr_array_free(paths, FALSE);
    return 0;
}
