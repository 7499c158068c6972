/*
 * rest_bans - /bans and /lists/<l>/bans, with /<email> under each
 * (mailman/rest/bans.py): an address or a '^' pattern banned globally or
 * on one list. An entry is banned when the email is, itself or through a
 * pattern, on the list or globally (Mailman's is_banned); DELETE of an
 * email banned only through a pattern removes nothing and answers 204, as
 * in Mailman.
 */
#ifndef CRIER_REST_BANS_H
#define CRIER_REST_BANS_H

struct rest_req;

void rest_bans_get(struct rest_req *req);
void rest_bans_post(struct rest_req *req);
void rest_ban_get(struct rest_req *req);
void rest_ban_delete(struct rest_req *req);
void rest_list_bans_get(struct rest_req *req);
void rest_list_bans_post(struct rest_req *req);
void rest_list_ban_get(struct rest_req *req);
void rest_list_ban_delete(struct rest_req *req);

#endif
