/*
 * store_bounce - bounce events waiting for the bounce runner (store.h
 * "bounce events"; Mailman's bounceevent table).
 */
#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

int store_bounce_add(struct store *st, const char *list_id, const char *email, int64_t timestamp,
                     const char *message_id, int context, int64_t *id_r, char **error_r)
{
    if (context != STORE_BOUNCE_NORMAL && context != STORE_BOUNCE_PROBE)
        return store_db_fail(error_r, STORE_INVALID, "Invalid bounce context: %d", context);
    if (email == NULL || !g_utf8_validate(email, -1, NULL))
        return store_db_bad_email(email, error_r);
    g_autofree char *lower = g_utf8_strdown(email, -1);
    g_autofree char *list_lower = store_db_lower(list_id);
    struct store_stmt *s = store_db_prepare(st,
                                            "INSERT INTO bounce_event (list_id, email, timestamp, "
                                            "message_id, context, processed) "
                                            "VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, list_lower);
    store_db_bind_text(s, 2, lower);
    store_db_bind_int(s, 3, timestamp != 0 ? timestamp : store_db_now());
    store_db_bind_text(s, 4, message_id);
    store_db_bind_int(s, 5, context);
    int rc = store_db_step(s, error_r);
    if (rc == 1 && id_r != NULL)
        *id_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

int store_bounce_foreach_unprocessed(struct store *st,
                                     int (*fn)(const struct store_bounce_event *e, void *ctx),
                                     void *ctx, char **error_r)
{
    struct store_stmt *s = store_db_prepare(st,
                                            "SELECT id, list_id, email, timestamp, message_id, "
                                            "context, processed FROM bounce_event "
                                            "WHERE processed = 0 ORDER BY id",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1) {
        struct store_bounce_event e = {
            .id = store_db_col_int(s, 0),
            .list_id = (char *)store_db_col_text(s, 1),
            .email = (char *)store_db_col_text(s, 2),
            .timestamp = store_db_col_int(s, 3),
            .message_id = (char *)store_db_col_text(s, 4),
            .context = (int)store_db_col_int(s, 5),
            .processed = store_db_col_int(s, 6) != 0,
        };
        int r = fn(&e, ctx);
        if (r != 0) {
            rc = r;
            break;
        }
    }
    store_db_done(s);
    return rc;
}

int store_bounce_mark_processed(struct store *st, int64_t id, char **error_r)
{
    struct store_stmt *s =
        store_db_prepare(st, "UPDATE bounce_event SET processed = 1 WHERE id = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, id);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    if (rc < 0)
        return rc;
    if (store_db_changes(st) == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such bounce event: %" G_GINT64_FORMAT,
                             id);
    return 0;
}
