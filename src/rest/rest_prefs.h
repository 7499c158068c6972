/*
 * rest_prefs - preferences (mailman/rest/preferences.py): the system's
 * (read-only), a user's, an address's and a member's (GET, PATCH, PUT,
 * DELETE), and a member's resolved ones (/members/<id>/all/preferences,
 * read-only). A resource shows only the preferences set at its level, as
 * Mailman does; DELETE unsets them all. PATCH takes any of the seven, PUT
 * needs all seven. preferred_language must name a [language.*] section
 * of the configuration (Mailman fails with a 500 there; crier gives 400).
 */
#ifndef CRIER_REST_PREFS_H
#define CRIER_REST_PREFS_H

struct rest_req;

void rest_system_prefs_get(struct rest_req *req);
void rest_user_prefs_get(struct rest_req *req);
void rest_user_prefs_patch(struct rest_req *req);
void rest_user_prefs_put(struct rest_req *req);
void rest_user_prefs_delete(struct rest_req *req);
void rest_address_prefs_get(struct rest_req *req);
void rest_address_prefs_patch(struct rest_req *req);
void rest_address_prefs_put(struct rest_req *req);
void rest_address_prefs_delete(struct rest_req *req);
void rest_member_prefs_get(struct rest_req *req);
void rest_member_prefs_patch(struct rest_req *req);
void rest_member_prefs_put(struct rest_req *req);
void rest_member_prefs_delete(struct rest_req *req);
void rest_member_all_prefs_get(struct rest_req *req);

#endif
