/*
 * store_sqlite - the SQLite backend (store_sqlite.c implements store_db.h's
 * backend functions; store_sqlite_schema.c holds the migrations).
 *
 * store_sqlite_schema_migrate() brings a database to the newest schema: it
 * creates the schema_version table if missing and runs, in one IMMEDIATE
 * transaction, every step of its ordered array newer than the recorded
 * version. A database newer than this binary is refused (STORE_ERR). It
 * sets st->schema_version. Returns 0 or < 0 with *error_r.
 */
#ifndef CRIER_STORE_SQLITE_H
#define CRIER_STORE_SQLITE_H

struct store;

int store_sqlite_schema_migrate(struct store *st, char **error_r);
/* The newest schema version this binary knows. */
int store_sqlite_schema_latest(void);

#endif
