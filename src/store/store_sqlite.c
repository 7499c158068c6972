/*
 * store_sqlite - the SQLite backend of store_db.h: connection, pragmas,
 * the prepared-statement cache, binding and stepping.
 *
 * The database runs in WAL mode with synchronous=NORMAL (a commit is durable
 * once the WAL is synced at checkpoint; a power loss may drop the last
 * commits but never corrupts), foreign_keys=ON (the cascades that remove a
 * list's members, requests, bans ... rely on it) and a 5 s busy timeout so
 * that the CLI and the runners can share the file. The page cache is
 * 64 MiB (allocated as used, per connection).
 */
#include "store/store_sqlite.h"

#include <glib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_db.h"

#define STORE_SQLITE_BUSY_MS 5000
/* Page cache, as PRAGMA cache_size (negative: KiB): 64 MiB normally (see
 * the open below), 2 MiB during a roster scan, which reads each page once
 * and would otherwise fill the whole cache of the reading process. */
#define STORE_SQLITE_CACHE_PRAGMA      "PRAGMA cache_size=-65536"
#define STORE_SQLITE_SCAN_CACHE_PRAGMA "PRAGMA cache_size=-2048"

struct store_stmt {
    struct store *st;
    sqlite3_stmt *stmt;
    int nmap;
    int *map;       /* map[k] = SQLite's index of "$k" (0 when absent) */
    bool busy;      /* handed out and not yet done */
    bool transient; /* prepared because the cached copy was busy */
};

static void stmt_free(gpointer p)
{
    struct store_stmt *s = p;
    sqlite3_finalize(s->stmt);
    g_free(s->map);
    g_free(s);
}

/* SQLITE_BUSY and SQLITE_LOCKED (with their extended codes) once the busy
 * timeout is over: another connection holds the lock; trying again later
 * may succeed. Everything else is not expected to go away by itself. */
static int error_code(struct store *st)
{
    int primary = sqlite3_errcode(st->db) & 0xff;
    st->temp_error = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
    return st->temp_error ? STORE_BUSY : STORE_ERR;
}

static int fail_db(struct store *st, char **error_r, const char *what)
{
    int code = error_code(st);
    return store_db_fail(error_r, code, "%s: %s", what, sqlite3_errmsg(st->db));
}

int store_db_open(struct store *st, const char *path, char **error_r)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int r = store_db_fail(error_r, STORE_ERR, "cannot open database %s: %s", path,
                              st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        sqlite3_close(st->db);
        st->db = NULL;
        return r;
    }
    st->stmt_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stmt_free);
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_SQLITE_BUSY_MS);
    /* journal_mode answers with a row; sqlite3_exec discards it. */
    static const char *const pragmas[] = {
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        /* 64 MiB of page cache: a bulk import of 100,000 members fits, so
         * pages are not spilled to the WAL again and again mid-transaction. */
        STORE_SQLITE_CACHE_PRAGMA,
        "PRAGMA temp_store=MEMORY",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(pragmas); i++) {
        int r = store_db_exec(st, pragmas[i], error_r);
        if (r < 0) {
            store_db_close(st);
            return r;
        }
    }
    return 0;
}

void store_db_scan_mode(struct store *st, bool on)
{
    /* Shrinking frees the pages beyond the new size; failing, the scan only
     * runs with the larger cache. */
    store_db_exec(st, on ? STORE_SQLITE_SCAN_CACHE_PRAGMA : STORE_SQLITE_CACHE_PRAGMA, NULL);
}

void store_db_close(struct store *st)
{
    if (st->stmt_cache != NULL) {
        g_hash_table_destroy(st->stmt_cache);
        st->stmt_cache = NULL;
    }
    if (st->db != NULL) {
        sqlite3_close(st->db);
        st->db = NULL;
    }
}

int store_db_exec(struct store *st, const char *sql, char **error_r)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int r = store_db_fail(error_r, error_code(st), "database error: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return r;
    }
    return 0;
}

static struct store_stmt *stmt_new(struct store *st, const char *sql, char **error_r)
{
    sqlite3_stmt *raw = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL) != SQLITE_OK) {
        fail_db(st, error_r, "cannot prepare statement");
        return NULL;
    }
    struct store_stmt *s = g_new0(struct store_stmt, 1);
    s->st = st;
    s->stmt = raw;
    /* Parameters are named $1..$n in the shared dialect; SQLite numbers
     * named parameters by first appearance, so map them explicitly. */
    int n = sqlite3_bind_parameter_count(raw);
    int max = 0;
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(raw, i);
        if (name != NULL && name[0] == '$')
            max = MAX(max, atoi(name + 1));
    }
    s->nmap = max + 1;
    s->map = g_new0(int, s->nmap);
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(raw, i);
        int k = (name != NULL && name[0] == '$') ? atoi(name + 1) : 0;
        if (k > 0 && k <= max)
            s->map[k] = i;
    }
    return s;
}

struct store_stmt *store_db_prepare(struct store *st, const char *sql, char **error_r)
{
    st->temp_error = false;
    struct store_stmt *s = g_hash_table_lookup(st->stmt_cache, sql);
    if (s == NULL) {
        s = stmt_new(st, sql, error_r);
        if (s == NULL)
            return NULL;
        g_hash_table_insert(st->stmt_cache, g_strdup(sql), s);
    } else if (s->busy) {
        /* The same statement is in use further up the stack (a callback
         * inside an iteration): use a private copy, freed when done. */
        s = stmt_new(st, sql, error_r);
        if (s == NULL)
            return NULL;
        s->transient = true;
    }
    s->busy = true;
    return s;
}

static int param_index(struct store_stmt *s, int i)
{
    return (i > 0 && i < s->nmap) ? s->map[i] : 0;
}

void store_db_bind_text(struct store_stmt *s, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(s->stmt, param_index(s, i));
    else
        sqlite3_bind_text(s->stmt, param_index(s, i), v, -1, SQLITE_TRANSIENT);
}

void store_db_bind_int(struct store_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(s->stmt, param_index(s, i), v);
}

void store_db_bind_null(struct store_stmt *s, int i)
{
    sqlite3_bind_null(s->stmt, param_index(s, i));
}

int store_db_step(struct store_stmt *s, char **error_r)
{
    int rc = sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return store_db_fail(error_r, STORE_EXISTS, "already exists: %s",
                             sqlite3_errmsg(s->st->db));
    return fail_db(s->st, error_r, "database error");
}

const char *store_db_col_text(struct store_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(s->stmt, col);
}

int64_t store_db_col_int(struct store_stmt *s, int col)
{
    return sqlite3_column_int64(s->stmt, col);
}

bool store_db_col_null(struct store_stmt *s, int col)
{
    return sqlite3_column_type(s->stmt, col) == SQLITE_NULL;
}

void store_db_done(struct store_stmt *s)
{
    if (s == NULL)
        return;
    sqlite3_reset(s->stmt);
    sqlite3_clear_bindings(s->stmt);
    s->busy = false;
    if (s->transient)
        stmt_free(s);
}

int64_t store_db_changes(struct store *st)
{
    return sqlite3_changes64(st->db);
}

int store_db_migrate(struct store *st, char **error_r)
{
    return store_sqlite_schema_migrate(st, error_r);
}
