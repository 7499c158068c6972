/*
 * store_sqlite_schema - SQLite's schema as an ordered array of migration
 * steps. A step is never edited once released: a change is a new step.
 *
 * Times are INTEGER microseconds since the epoch (UTC); enums are Mailman's
 * stored values. Preferences live as nullable p_* columns on users, address
 * and member (NULL = inherit), so a roster resolves them with COALESCE in
 * the same query. List attributes are key/value rows holding only what
 * differs from the legacy-default table in list_attr.c.
 */
#include "store/store_sqlite.h"

#include <glib.h>

#include "store/store_db.h"

struct schema_step {
    int version;
    const char *sql;
};

#define PREFS_COLUMNS                                                                              \
    "p_ack INTEGER, p_hide INTEGER, p_lang TEXT, p_rlc INTEGER, p_rop INTEGER, "                   \
    "p_mode INTEGER, p_status INTEGER"

static const struct schema_step schema_steps[] = {
    {1, "CREATE TABLE domain ("
        " id INTEGER PRIMARY KEY,"
        " mail_host TEXT NOT NULL UNIQUE,"
        " description TEXT,"
        " alias_domain TEXT);"
        "CREATE TABLE mailinglist ("
        " id INTEGER PRIMARY KEY,"
        " domain INTEGER NOT NULL REFERENCES domain(id) ON DELETE CASCADE,"
        " list_name TEXT NOT NULL,"
        " mail_host TEXT NOT NULL,"
        " list_id TEXT NOT NULL UNIQUE,"
        " next_request_id INTEGER NOT NULL DEFAULT 1,"
        " UNIQUE (list_name, mail_host));"
        "CREATE INDEX mailinglist_domain ON mailinglist(domain);"
        "CREATE TABLE list_attr ("
        " list INTEGER NOT NULL REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " name TEXT NOT NULL,"
        " value TEXT NOT NULL,"
        " PRIMARY KEY (list, name)) WITHOUT ROWID;"
        "CREATE TABLE users ("
        " id INTEGER PRIMARY KEY,"
        " user_id TEXT NOT NULL UNIQUE,"
        " display_name TEXT,"
        " password TEXT,"
        " created_on INTEGER NOT NULL,"
        " is_server_owner INTEGER NOT NULL DEFAULT 0,"
        " preferred_address INTEGER REFERENCES address(id) ON DELETE SET NULL, " PREFS_COLUMNS ");"
        "CREATE TABLE address ("
        " id INTEGER PRIMARY KEY,"
        " email TEXT NOT NULL UNIQUE,"
        " original_email TEXT NOT NULL,"
        " display_name TEXT,"
        " verified_on INTEGER,"
        " registered_on INTEGER NOT NULL,"
        " user_row INTEGER REFERENCES users(id) ON DELETE SET NULL, " PREFS_COLUMNS ");"
        "CREATE INDEX address_user ON address(user_row);"
        "CREATE INDEX users_preferred ON users(preferred_address);"
        "CREATE TABLE domain_owner ("
        " domain INTEGER NOT NULL REFERENCES domain(id) ON DELETE CASCADE,"
        " user_row INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        " PRIMARY KEY (domain, user_row));"
        "CREATE INDEX domain_owner_user ON domain_owner(user_row);"
        "CREATE TABLE member ("
        " id INTEGER PRIMARY KEY,"
        " member_id TEXT NOT NULL UNIQUE,"
        " list INTEGER NOT NULL REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " address INTEGER NOT NULL REFERENCES address(id) ON DELETE CASCADE,"
        " role INTEGER NOT NULL,"
        " moderation_action INTEGER,"
        " bounce_score INTEGER NOT NULL DEFAULT 0,"
        " last_bounce_received INTEGER,"
        " last_warning_sent INTEGER NOT NULL,"
        " total_warnings_sent INTEGER NOT NULL DEFAULT 0, " PREFS_COLUMNS ","
        " UNIQUE (list, role, address));"
        "CREATE INDEX member_address ON member(address);"
        "CREATE TABLE ban ("
        " id INTEGER PRIMARY KEY,"
        " list INTEGER REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " email TEXT NOT NULL);"
        "CREATE INDEX ban_email ON ban(email);"
        "CREATE INDEX ban_list ON ban(list);"
        "CREATE TABLE pended ("
        " id INTEGER PRIMARY KEY,"
        " token TEXT NOT NULL UNIQUE,"
        " type TEXT NOT NULL,"
        " expires INTEGER NOT NULL);"
        "CREATE INDEX pended_expires ON pended(expires);"
        "CREATE TABLE pended_kv ("
        " pended INTEGER NOT NULL REFERENCES pended(id) ON DELETE CASCADE,"
        " seq INTEGER NOT NULL,"
        " key TEXT NOT NULL,"
        " value TEXT,"
        " PRIMARY KEY (pended, seq));"
        "CREATE INDEX pended_kv_key ON pended_kv(key, value);"
        "CREATE TABLE request ("
        " list INTEGER NOT NULL REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " req_id INTEGER NOT NULL,"
        " type INTEGER NOT NULL,"
        " key TEXT NOT NULL,"
        " data_token TEXT,"
        " PRIMARY KEY (list, req_id));"
        "CREATE TABLE bounce_event ("
        " id INTEGER PRIMARY KEY,"
        " list_id TEXT,"
        " email TEXT NOT NULL,"
        " timestamp INTEGER NOT NULL,"
        " message_id TEXT,"
        " context INTEGER NOT NULL,"
        " processed INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX bounce_event_processed ON bounce_event(processed, id);"
        "CREATE INDEX bounce_event_list ON bounce_event(list_id);"
        "CREATE TABLE header_match ("
        " list INTEGER NOT NULL REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " position INTEGER NOT NULL,"
        " header TEXT NOT NULL,"
        " pattern TEXT NOT NULL,"
        " chain TEXT,"
        " tag TEXT);"
        "CREATE INDEX header_match_list ON header_match(list, position);"
        "CREATE TABLE message ("
        " id INTEGER PRIMARY KEY,"
        " message_id TEXT NOT NULL UNIQUE,"
        " message_id_hash TEXT NOT NULL UNIQUE,"
        " path TEXT NOT NULL);"},
    /* The subscription workflows' saved state (Mailman's workflowstate),
     * gone with its pending; the autoresponder's records (Mailman's
     * autoresponserecord), date_sent as "YYYY-MM-DD". */
    {2, "CREATE TABLE workflowstate ("
        " token TEXT PRIMARY KEY REFERENCES pended(token) ON DELETE CASCADE,"
        " step TEXT,"
        " data TEXT);"
        "CREATE TABLE autoresponserecord ("
        " id INTEGER PRIMARY KEY,"
        " list INTEGER NOT NULL REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " email TEXT NOT NULL,"
        " response_type INTEGER NOT NULL,"
        " date_sent TEXT NOT NULL);"
        "CREATE INDEX autoresponserecord_key ON autoresponserecord(list, email, response_type,"
        " date_sent);"},
    /* Template URIs (Mailman's template table; context '' is the site,
     * else a list_id or a mail_host) and each list's archiver switches
     * (listarchiver). */
    {3, "CREATE TABLE template ("
        " id INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " context TEXT NOT NULL,"
        " uri TEXT NOT NULL,"
        " username TEXT,"
        " password TEXT,"
        " UNIQUE (name, context));"
        "CREATE TABLE listarchiver ("
        " list INTEGER NOT NULL REFERENCES mailinglist(id) ON DELETE CASCADE,"
        " name TEXT NOT NULL,"
        " enabled INTEGER NOT NULL,"
        " PRIMARY KEY (list, name));"},
    /* A counter that every change a roster can see moves, kept by
     * triggers (so also for writes from outside crier): the pipeline
     * runner reuses a large list's recipients while it stays the same. */
    {4, "CREATE TABLE roster_version (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " v INTEGER NOT NULL);"
        "INSERT INTO roster_version (id, v) VALUES (1, 0);"
        "CREATE TRIGGER roster_member_ins AFTER INSERT ON member BEGIN UPDATE roster_version SET v "
        "= v + 1 WHERE id = 1; END;"
        "CREATE TRIGGER roster_member_del AFTER DELETE ON member BEGIN UPDATE roster_version SET v "
        "= v + 1 WHERE id = 1; END;"
        "CREATE TRIGGER roster_member_upd AFTER UPDATE OF list, role, address, p_rlc, p_rop,"
        " p_mode, p_status ON member BEGIN UPDATE roster_version SET v = v + 1 WHERE id = 1; END;"
        "CREATE TRIGGER roster_address_upd AFTER UPDATE OF email, user_row, p_rlc, p_rop,"
        " p_mode, p_status ON address BEGIN UPDATE roster_version SET v = v + 1 WHERE id = 1; END;"
        "CREATE TRIGGER roster_address_del AFTER DELETE ON address BEGIN UPDATE roster_version SET "
        "v = v + 1 WHERE id = 1; END;"
        "CREATE TRIGGER roster_users_upd AFTER UPDATE OF p_rlc, p_rop, p_mode, p_status ON users"
        " BEGIN UPDATE roster_version SET v = v + 1 WHERE id = 1; END;"
        "CREATE TRIGGER roster_users_del AFTER DELETE ON users BEGIN UPDATE roster_version SET v = "
        "v + 1 WHERE id = 1; END;"},
};

int store_sqlite_schema_latest(void)
{
    return schema_steps[G_N_ELEMENTS(schema_steps) - 1].version;
}

static int current_version(struct store *st, int *version_r, char **error_r)
{
    int64_t v = 0;
    int rc = store_db_query_int(st, "SELECT COALESCE(max(version), 0) FROM schema_version", &v,
                                error_r, 0);
    if (rc < 0)
        return rc;
    *version_r = (int)v;
    return 0;
}

int store_sqlite_schema_migrate(struct store *st, char **error_r)
{
    /* A current schema needs no write lock: a second connection of a
     * process that holds a transaction on its first must not wait for it
     * (the template lookup's, post_template_uri.c). */
    int current = 0;
    if (current_version(st, &current, NULL) == 0 && current == store_sqlite_schema_latest()) {
        st->schema_version = current;
        return 0;
    }
    /* IMMEDIATE: two processes opening a fresh file at once serialize here,
     * and the second finds the schema already current. */
    int brc = store_db_exec(st, "BEGIN IMMEDIATE", error_r);
    if (brc < 0)
        return brc; /* STORE_BUSY while another process holds the write lock */
    int version = 0;
    int rc = store_db_exec(st,
                           "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT "
                           "NULL, applied_at INTEGER NOT NULL)",
                           error_r);
    if (rc == 0)
        rc = current_version(st, &version, error_r);
    if (rc == 0 && version > store_sqlite_schema_latest())
        rc = store_db_fail(error_r, STORE_ERR,
                           "database schema version %d is newer than this crier (%d)", version,
                           store_sqlite_schema_latest());
    for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS(schema_steps); i++) {
        const struct schema_step *step = &schema_steps[i];
        if (step->version <= version)
            continue;
        rc = store_db_exec(st, step->sql, error_r);
        if (rc == 0) {
            g_autofree char *v = g_strdup_printf("%d", step->version);
            g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT, store_db_now());
            int64_t n =
                store_db_run(st, "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                             error_r, 2, v, now);
            rc = n < 0 ? (int)n : 0;
        }
        if (rc == 0)
            version = step->version;
    }
    if (rc < 0) {
        store_db_exec(st, "ROLLBACK", NULL);
        return rc;
    }
    if (store_db_exec(st, "COMMIT", error_r) < 0) {
        store_db_exec(st, "ROLLBACK", NULL);
        return STORE_ERR;
    }
    st->schema_version = version;
    return 0;
}
