/*
 * mta_regen - regenerates what the MTA reads from the store, for every
 * caller that changes lists or domains (`crier aliases`, `create`,
 * `remove`, `start`, and the REST API): under [mta] incoming
 * mailman.mta.postfix.LMTP, the Postfix maps (mta.h) written into dir (NULL:
 * data_dir) from one query for every list with its alias domain; nothing
 * for the other MTAs. The writer holds LOCK_DIR/mta (flock), the lock
 * Mailman's callers take, so writers in several processes take turns.
 *
 * Returns 0, or -1 with a newly allocated *error_r.
 */
#ifndef CRIER_MTA_REGEN_H
#define CRIER_MTA_REGEN_H

#include "mta/mta.h"

struct config;
struct store;

/* [mta] and the Postfix file's settings; the strings belong to cfg. */
struct mta_settings mta_regen_settings(const struct config *cfg);

int mta_regen(const struct config *cfg, struct store *st, const char *dir, char **error_r);

#endif
