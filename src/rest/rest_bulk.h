/*
 * rest_bulk - crier's bulk-subscribe endpoint, an extension to Mailman's
 * API (docs/rest.md "Crier extensions"):
 *
 *   POST /<api>/lists/<list>/roster/member/bulk
 *   {"members": [{"email": ..., "display_name": ..., "delivery_mode": ...}, ...]}
 *
 * Every entry is subscribed as a member directly (as `crier addmembers`,
 * no confirmation, approval or welcome message) in one store transaction
 * (store_member_add_bulk). The answer is 200 with one result per entry, in
 * order: {"email", "status"} with the status a direct POST /members
 * (pre_verified, pre_confirmed, pre_approved) would have answered for that
 * address alone (201 subscribed, 409 "Member already
 * subscribed", 400 with Mailman's text for a bad entry, a banned address
 * or the list's own posting address), and the counts. A backend failure
 * rolls everything back (500). The body bound is REST_MAX_BULK_BODY;
 * REST_MAX_BULK_MEMBERS entries at most.
 */
#ifndef CRIER_REST_BULK_H
#define CRIER_REST_BULK_H

#define REST_MAX_BULK_MEMBERS 200000

struct rest_req;

void rest_roster_bulk_post(struct rest_req *req);

#endif
