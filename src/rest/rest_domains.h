/* rest_domains - /domains and /domains/<mail_host> (mailman/rest/domains.py).
 * /domains/<mail_host>/lists is rest_lists', .../owners rest_users'. */
#ifndef CRIER_REST_DOMAINS_H
#define CRIER_REST_DOMAINS_H

struct rest_req;
struct store_domain;

/* The domain the route's first '*' names, or NULL after answering 404. */
struct store_domain *rest_domain_of(struct rest_req *req);

void rest_domains_get(struct rest_req *req);
void rest_domains_post(struct rest_req *req);
void rest_domain_get(struct rest_req *req);
void rest_domain_put(struct rest_req *req);
void rest_domain_patch(struct rest_req *req);
void rest_domain_delete(struct rest_req *req);

#endif
