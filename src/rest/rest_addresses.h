/*
 * rest_addresses - /addresses, /addresses/<email> with its /verify and
 * /unverify, and /users/<id>/addresses (mailman/rest/addresses.py).
 * Addresses are listed by original_email, as Mailman sorts them.
 * /addresses/<email>/user lives in rest_users, .../memberships in
 * rest_members and .../preferences in rest_prefs.
 */
#ifndef CRIER_REST_ADDRESSES_H
#define CRIER_REST_ADDRESSES_H

#include <jansson.h>
#include <stdbool.h>

struct rest_req;
struct rest_pyrepr;
struct store_address;

/* The address the route's first '*' names (any case), or NULL after a
 * 404: Mailman's not_found() body, or falcon's bare one for a child. */
struct store_address *rest_address_of(struct rest_req *req, bool child);
/* The address resource; its etag sees registered_on/verified_on as
 * datetimes. */
json_t *rest_address_json(struct rest_req *req, const struct store_address *a);
extern const struct rest_pyrepr rest_address_hook;
/* Python's email.utils.formataddr((name, email)), as str(IAddress) gives
 * it in Mailman's error texts (g_free). */
char *rest_formataddr(const char *name, const char *email);

void rest_addresses_get(struct rest_req *req);
void rest_address_get(struct rest_req *req);
void rest_address_patch(struct rest_req *req);
void rest_address_delete(struct rest_req *req);
void rest_address_verify(struct rest_req *req);
void rest_address_unverify(struct rest_req *req);
void rest_user_addresses_get(struct rest_req *req);
void rest_user_addresses_post(struct rest_req *req);

#endif
