/*
 * store_db - the store's internal statement layer, shared by every entity
 * file (store_domain.c, store_member.c, ...) and implemented per backend
 * (store_sqlite.c today, store_pg.c later).
 *
 * SQL dialect: the entity files write statements that both SQLite and
 * PostgreSQL accept: parameters as $1, $2, ... (bound with 1-based
 * indexes), INSERT ... ON CONFLICT DO NOTHING, RETURNING, no backend
 * functions beyond lower()/COALESCE/count. Values are bound, never
 * interpolated. DDL (the migrations) is per backend.
 *
 * Statements are prepared once per store and cached by their SQL text;
 * store_db_prepare() hands back the cached statement reset and unbound, so
 * a statement must be finished (store_db_done) before it is prepared again.
 * Text returned by store_db_col_text() is valid until the next step or done.
 *
 * Transactions: store_db_tx_begin() opens a transaction, or a savepoint
 * when one is already open (the caller's store_begin()), so every public
 * operation is atomic on its own; store_db_tx_end() commits (rc >= 0) or
 * rolls back (rc < 0) and returns rc, or the commit's error.
 */
#ifndef CRIER_STORE_DB_H
#define CRIER_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_stmt;
struct sqlite3;

enum store_backend { STORE_BACKEND_SQLITE };

struct store {
    enum store_backend backend;
    struct sqlite3 *db;
    void *stmt_cache; /* GHashTable: SQL text -> backend statement */
    bool in_tx;       /* an explicit store_begin() or an internal transaction */
    int tx_depth;     /* internal nesting (savepoints) */
    int schema_version;
    bool temp_error; /* the last failed statement failed with STORE_BUSY */
};

/* Backend entry points used by store.c (store_sqlite.c implements them). */
int store_db_open(struct store *st, const char *path, char **error_r);
void store_db_close(struct store *st);
int store_db_migrate(struct store *st, char **error_r);

/* Runs SQL without parameters or rows (BEGIN, SAVEPOINT, DDL); errors as
 * store_db_step. */
int store_db_exec(struct store *st, const char *sql, char **error_r);
struct store_stmt *store_db_prepare(struct store *st, const char *sql, char **error_r);
void store_db_bind_text(struct store_stmt *s, int i, const char *v); /* NULL binds NULL */
void store_db_bind_int(struct store_stmt *s, int i, int64_t v);
void store_db_bind_null(struct store_stmt *s, int i);
/* 1 a row, 0 done, < 0 error: STORE_EXISTS for a unique-constraint
 * violation, STORE_BUSY when the database stayed busy or locked past the
 * busy timeout, STORE_ERR otherwise (message in *error_r). */
int store_db_step(struct store_stmt *s, char **error_r);
const char *store_db_col_text(struct store_stmt *s, int col); /* NULL for NULL */
int64_t store_db_col_int(struct store_stmt *s, int col);
bool store_db_col_null(struct store_stmt *s, int col);
/* Resets the statement (releases its read locks). NULL is fine. */
void store_db_done(struct store_stmt *s);
/* A long read-only scan (the roster of a large list) reads each page once:
 * on, the page cache is held to a few MiB, so that the scan does not grow
 * the reading process by the whole cache; off restores it. */
void store_db_scan_mode(struct store *st, bool on);
/* Rows changed by the last INSERT/UPDATE/DELETE. */
int64_t store_db_changes(struct store *st);

int store_db_tx_begin(struct store *st, char **error_r);
int store_db_tx_end(struct store *st, int rc, char **error_r);

/* Helpers over the statement layer (store_db.c). */
/* Runs a statement with text parameters (NULL = NULL) and no rows;
 * returns changes, or < 0. */
int64_t store_db_run(struct store *st, const char *sql, char **error_r, int n, ...);
/* Runs a query with text parameters and gives the first column of its first
 * row as an integer: 1 found, 0 no row, < 0 error. */
int store_db_query_int(struct store *st, const char *sql, int64_t *v_r, char **error_r, int n, ...);

/* The row id of a list by list_id (1 / 0 / < 0). */
int store_db_list_row(struct store *st, const char *list_id, int64_t *row_r, char **error_r);
/* The row id of an address by lower-case email. */
int store_db_address_row(struct store *st, const char *email, int64_t *row_r, char **error_r);

/* Utilities shared by the entity files (store_db.c). */
/* Lower-cases UTF-8 text from outside (g_free); NULL for NULL or invalid
 * UTF-8, which glib's case functions must never see. */
char *store_db_lower(const char *s);
int64_t store_db_now(void);
char *store_db_uuid(void);  /* 32 lower hex, random */
char *store_db_token(void); /* 40 lower hex, random */
/* Lower-cases an email after a minimal sanity check (one '@', non-empty
 * parts, no whitespace or control characters, valid UTF-8, bounded);
 * NULL when it fails. */
char *store_db_email_lower(const char *email);
/* The error for an email that failed store_db_email_lower. */
int store_db_bad_email(const char *email, char **error_r);
/* Sets *error_r (if error_r) to a formatted message and returns code.
 * Public functions set *error_r only when they fail and never read it. */
int store_db_fail(char **error_r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, replacing (freeing) a message this call already set. */
int store_db_refail(char **error_r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
