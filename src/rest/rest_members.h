/*
 * rest_members - /members, /members/<id>, /members/find and a list's
 * rosters (/lists/<l>/roster/<role>, /lists/<l>/<role>/<email>)
 * (mailman/rest/members.py, lists.py).
 *
 * POST /members for role member runs the subscription workflow
 * (workflow_subscribe): 201 with the member, or 202 {token, token_owner}
 * when it waits for the subscriber or a moderator; DELETE of a member runs
 * the unsubscription workflow (pre_confirmed true unless given, as
 * Mailman). Owners, moderators and nonmembers are added and removed
 * directly, as in Mailman.
 */
#ifndef CRIER_REST_MEMBERS_H
#define CRIER_REST_MEMBERS_H

struct rest_req;

void rest_members_get(struct rest_req *req);
void rest_members_post(struct rest_req *req);
void rest_members_find(struct rest_req *req);
void rest_member_get(struct rest_req *req);
void rest_member_patch(struct rest_req *req);
void rest_member_delete(struct rest_req *req);
void rest_roster_get(struct rest_req *req);
void rest_address_memberships_get(struct rest_req *req);
/* /lists/<l>/<role>/<email>: the member resource, by role and address. */
void rest_list_member_get(struct rest_req *req);
void rest_list_member_patch(struct rest_req *req);
void rest_list_member_delete(struct rest_req *req);

#endif
