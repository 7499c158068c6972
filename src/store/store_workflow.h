/*
 * store_workflow - the rows behind src/workflow/: a subscription
 * workflow's saved state, keyed by its pending token (Mailman's
 * workflowstate; deleted with the pending, so an expired or consumed token
 * takes its state with it), and the autoresponder's records (Mailman's
 * autoresponserecord: one row per automatic response sent, by list, email,
 * kind and day).
 *
 * Conventions as store.h: 0 / 1 found / < 0 with *error_r; strings
 * returned through *_r are newly allocated (g_free). Days are "YYYY-MM-DD"
 * strings chosen by the caller (its clock).
 */
#ifndef CRIER_STORE_WORKFLOW_H
#define CRIER_STORE_WORKFLOW_H

#include <stdint.h>

struct store;

/* Saves (or replaces) the state of the workflow waiting on token, which
 * must be an existing pending (STORE_NOT_FOUND otherwise). */
int store_workflow_save(struct store *st, const char *token, const char *step, const char *data,
                        char **error_r);
/* 1 found (*step_r, *data_r), 0 none. */
int store_workflow_get(struct store *st, const char *token, char **step_r, char **data_r,
                       char **error_r);

/* How many responses of kind went to email for list_id on day. */
int store_autoresponse_count(struct store *st, const char *list_id, const char *email, int kind,
                             const char *day, int64_t *count_r, char **error_r);
/* Records one response. STORE_NOT_FOUND for an unknown list. */
int store_autoresponse_add(struct store *st, const char *list_id, const char *email, int kind,
                           const char *day, char **error_r);
/* The day of the latest response of kind to email on list_id: 1 found
 * (*day_r), 0 none. */
int store_autoresponse_last(struct store *st, const char *list_id, const char *email, int kind,
                            char **day_r, char **error_r);

#endif
