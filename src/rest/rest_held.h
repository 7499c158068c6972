/*
 * rest_held - a list's held messages (mailman/rest/post_moderation.py):
 * /lists/<l>/held, /held/count and /held/<request_id>, over
 * src/post/post_moderate.h. An entry has hold_date, msg (the message as
 * held), reason, sender, subject (RFC 2047 decoded) and original_subject,
 * message_id, request_id and self_link. Mailman also copies the held
 * post's other metadata into the entry; crier shows these fields only.
 * POST /held/<id> takes action (hold, reject, discard, accept, defer;
 * hold is defer) and an optional comment (the reason a rejection gives)
 * and answers 204; an unknown id is 404.
 */
#ifndef CRIER_REST_HELD_H
#define CRIER_REST_HELD_H

struct rest_req;

void rest_held_get(struct rest_req *req);
void rest_held_count_get(struct rest_req *req);
void rest_held_one_get(struct rest_req *req);
void rest_held_one_post(struct rest_req *req);

#endif
