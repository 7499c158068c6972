/*
 * rest_mta - what Mailman's create_list/remove_list do for the MTA when
 * REST creates or removes lists (reference §3): the list's data directory
 * (digests live there; Exim finds lists by it) and, under
 * mailman.mta.postfix.LMTP, the regenerated transport maps (mta_regen, the
 * same code and lock the CLI verbs use).
 *
 * Return 0, or -1 with a newly allocated *error_r.
 */
#ifndef CRIER_REST_MTA_H
#define CRIER_REST_MTA_H

struct config;
struct store;

int rest_mta_list_created(struct config *cfg, struct store *st, const char *list_id,
                          char **error_r);
/* Also removes list_data_dir/<list_id>, as remove_list does. */
int rest_mta_list_removed(struct config *cfg, struct store *st, const char *list_id,
                          char **error_r);
/* After a domain (and its lists) is deleted or its alias_domain changes. */
int rest_mta_regenerate(struct config *cfg, struct store *st, char **error_r);

#endif
