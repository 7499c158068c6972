/*
 * rest_unsubscribe - mass unsubscription: DELETE /lists/<list>/roster/<role>
 * with `emails` (one or more; "" is none) (mailman/rest/lists.py
 * MembersOfList.on_delete and ISubscriptionService.unsubscribe_members):
 * each address subscribed to the list as a member (whatever the role the
 * URL names, as Mailman) is removed at once, without the unsubscription
 * workflow or a goodbye message. 200 with {email: true|false, ...,
 * http_etag}; all in one store transaction. As in Mailman the emails are
 * matched exactly against the stored (lower-case) addresses.
 */
#ifndef CRIER_REST_UNSUBSCRIBE_H
#define CRIER_REST_UNSUBSCRIBE_H

struct rest_req;

void rest_roster_delete(struct rest_req *req);

#endif
