/*
 * rest_header_matches - /lists/<l>/header-matches, /<position> and /find
 * (mailman/rest/header_matches.py): a list's ordered header-match rules.
 * An entry has position, header (lower-cased), pattern, self_link, and
 * action and tag when set. PATCH and PUT change a rule in one transaction
 * (Mailman sets attribute after attribute and may stop half-way); a new
 * position moves the rule, shifting the others, as Mailman's model does.
 */
#ifndef CRIER_REST_HEADER_MATCHES_H
#define CRIER_REST_HEADER_MATCHES_H

struct rest_req;

void rest_header_matches_get(struct rest_req *req);
void rest_header_matches_post(struct rest_req *req);
void rest_header_matches_delete(struct rest_req *req);
void rest_header_matches_find(struct rest_req *req);
void rest_header_match_get(struct rest_req *req);
void rest_header_match_patch(struct rest_req *req);
void rest_header_match_put(struct rest_req *req);
void rest_header_match_delete(struct rest_req *req);

#endif
