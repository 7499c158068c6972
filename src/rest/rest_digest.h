/*
 * rest_digest - /lists/<list>/digest (mailman/rest/lists.py ListDigest):
 * GET next_digest_number and volume; POST [send, bump, periodic] (as
 * lazr.config's as_boolean) → 202 without a body: bump runs
 * bump_digest_number_and_volume, send (or periodic, when the list's
 * digest_send_periodic is on) maybe_send_digest_now(force=True), both
 * through post_digest.h. No parameter at all is 200 without a body; send
 * with periodic is 400 "send and periodic options are mutually exclusive".
 */
#ifndef CRIER_REST_DIGEST_H
#define CRIER_REST_DIGEST_H

struct rest_req;

void rest_list_digest_get(struct rest_req *req);
void rest_list_digest_post(struct rest_req *req);

#endif
