/*
 * store_message - the message-store index: Message-ID, its hash and the
 * file's path under messages_dir (store.h "message-store index"; the
 * files themselves are written by the message store).
 */
#include <glib.h>

#include "store/store.h"
#include "store/store_db.h"

int store_message_add(struct store *st, const char *message_id, const char *message_id_hash,
                      const char *path, char **error_r)
{
    if (message_id == NULL || message_id_hash == NULL || path == NULL)
        return store_db_fail(error_r, STORE_INVALID, "A message needs an id, a hash and a path");
    int64_t n = store_db_run(st,
                             "INSERT INTO message (message_id, message_id_hash, path) "
                             "VALUES ($1, $2, $3)",
                             error_r, 3, message_id, message_id_hash, path);
    if (n == STORE_EXISTS)
        return store_db_refail(error_r, STORE_EXISTS, "Message already stored: %s", message_id);
    return n < 0 ? (int)n : 0;
}

int store_message_get(struct store *st, const char *key, bool by_hash, struct store_message **m_r,
                      char **error_r)
{
    *m_r = NULL;
    struct store_stmt *s = store_db_prepare(
        st,
        by_hash ? "SELECT message_id, message_id_hash, path FROM message WHERE message_id_hash = $1"
                : "SELECT message_id, message_id_hash, path FROM message WHERE message_id = $1",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, key);
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        struct store_message *m = g_new0(struct store_message, 1);
        m->message_id = g_strdup(store_db_col_text(s, 0));
        m->message_id_hash = g_strdup(store_db_col_text(s, 1));
        m->path = g_strdup(store_db_col_text(s, 2));
        *m_r = m;
    }
    store_db_done(s);
    return rc;
}

int store_message_delete(struct store *st, const char *message_id, char **error_r)
{
    int64_t n =
        store_db_run(st, "DELETE FROM message WHERE message_id = $1", error_r, 1, message_id);
    return n < 0 ? (int)n : n > 0;
}
