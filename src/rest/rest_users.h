/*
 * rest_users - /users, /users/<id or email>, its /login and
 * /preferred_address, /owners, /domains/<d>/owners and
 * /addresses/<email>/user (mailman/rest/users.py, addresses.py).
 *
 * A user's id is written and read in the API version's form (rest_ids.h);
 * a path segment with '@' names the user owning that address. Creating a
 * user without a password gives it a random one, as Mailman does, so every
 * user has a hash (rest_password.h). Users are listed in creation order.
 */
#ifndef CRIER_REST_USERS_H
#define CRIER_REST_USERS_H

#include <jansson.h>
#include <stdbool.h>

struct rest_req;
struct rest_pyrepr;
struct store_user;

/* The user a path segment names (an id in the API's form, or an email),
 * or NULL after answering 404: Mailman's not_found() body, or falcon's
 * bare one for a child resource (child). */
struct store_user *rest_user_of(struct rest_req *req, const char *ident, bool child);
/* The user resource, and what its etag sees (created_on is a datetime). */
json_t *rest_user_json(struct rest_req *req, const struct store_user *u);
extern const struct rest_pyrepr rest_user_hook;

void rest_users_get(struct rest_req *req);
void rest_users_post(struct rest_req *req);
void rest_user_get(struct rest_req *req);
void rest_user_patch(struct rest_req *req);
void rest_user_put(struct rest_req *req);
void rest_user_delete(struct rest_req *req);
void rest_user_login(struct rest_req *req);
void rest_user_preferred_get(struct rest_req *req);
void rest_user_preferred_post(struct rest_req *req);
void rest_user_preferred_delete(struct rest_req *req);
void rest_owners_get(struct rest_req *req);
void rest_domain_owners_get(struct rest_req *req);
void rest_domain_owners_post(struct rest_req *req);
void rest_domain_owners_delete(struct rest_req *req);
void rest_address_user_get(struct rest_req *req);
void rest_address_user_post(struct rest_req *req);
void rest_address_user_put(struct rest_req *req);
void rest_address_user_delete(struct rest_req *req);

#endif
