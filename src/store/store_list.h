/*
 * store_list - mailing lists (store.h "mailing lists"): create, get, list,
 * remove; store_list_attr.c has the attribute reads and writes.
 *
 * Internal helpers for other store files:
 * - store_list_purge() deletes one list and everything hanging off it:
 *   rows that cascade by foreign key (members, attributes, requests, bans,
 *   header matches) plus pendings and bounce events, which name the list
 *   by list_id text. Call it inside a transaction.
 * - store_list_find() resolves a spec (fqdn or list_id, any case) to the
 *   list's row and list_id (g_free): 1 found, 0 not, < 0 error.
 * - store_list_load() reads one list and its attributes (1 / 0 / < 0).
 */
#ifndef CRIER_STORE_LIST_H
#define CRIER_STORE_LIST_H

#include <stdint.h>

struct store;
struct store_list;

int store_list_purge(struct store *st, int64_t row, const char *list_id, char **error_r);
int store_list_find(struct store *st, const char *spec, int64_t *row_r, char **list_id_r,
                    char **error_r);
int store_list_load(struct store *st, int64_t row, struct store_list **l_r, char **error_r);

#endif
