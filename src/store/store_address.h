/*
 * store_address - addresses (store.h "users and addresses"), plus the
 * helper other store files use to find or create an address.
 *
 * store_address_ensure() finds the address of email (any case) or creates
 * it (original_email as given, display_name, registered now); with
 * want_user, an address without a user gets a new user (Mailman's
 * subscription does the same) whose display name is display_name. Gives
 * the address row and (if urow_r) the user row (0 when none). Returns 0,
 * STORE_INVALID for a bad email, or < 0. Call it inside a transaction.
 */
#ifndef CRIER_STORE_ADDRESS_H
#define CRIER_STORE_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

struct store;

int store_address_ensure(struct store *st, const char *email, const char *display_name,
                         bool want_user, int64_t *arow_r, int64_t *urow_r, char **error_r);

#endif
