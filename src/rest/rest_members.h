/*
 * rest_members - /members, /members/<id>, /members/find and a list's
 * rosters (/lists/<l>/roster/<role>, /lists/<l>/<role>/<email>)
 * (mailman/rest/members.py, lists.py).
 *
 * POST /members subscribes at once (201) when Mailman's subscription
 * workflow would need no step: the address verified or pre_verified, and
 * confirmation and moderation not required by the list's
 * subscription_policy or waived (pre_confirmed, pre_approved). Pending
 * workflows (202 with a token) are not implemented yet: such a request is
 * answered 501 and changes nothing. DELETE likewise for unsubscription.
 * Owners, moderators and nonmembers are added and removed directly, as in
 * Mailman. No welcome or goodbye message is sent yet.
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
