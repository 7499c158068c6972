/*
 * rest_requests - subscription and unsubscription requests waiting on a
 * token (mailman/rest/sub_moderation.py) over src/workflow:
 *   /lists/<l>/requests          GET [token_owner, request_type (default
 *                                subscription), count, page]: the pendings
 *                                of the list, each {token, type, list_id,
 *                                email, display_name, when, token_owner}
 *   /lists/<l>/requests/count    GET [token_owner, request_type]: {count}
 *   /lists/<l>/requests/<token>  GET; POST action (accept, reject, discard,
 *                                defer, hold = defer) [reason] → 204
 * A token of another list, or not a (un)subscription, is 404 here (Mailman
 * shows any pending by its token).
 *
 * rest_workflow_ctx() gives the context the workflows run in for a
 * request (the store, the queues of [paths] queue_dir).
 */
#ifndef CRIER_REST_REQUESTS_H
#define CRIER_REST_REQUESTS_H

#include "workflow/workflow.h"

struct rest_req;

/* Fills w for req; rest_workflow_done() frees what it holds. */
void rest_workflow_ctx(struct rest_req *req, struct workflow_ctx *w);
void rest_workflow_done(struct workflow_ctx *w);

void rest_requests_get(struct rest_req *req);
void rest_requests_count_get(struct rest_req *req);
void rest_request_get(struct rest_req *req);
void rest_request_post(struct rest_req *req);

#endif
