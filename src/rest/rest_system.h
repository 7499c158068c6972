/* rest_system - /system and /system/versions (mailman/rest/root.py). */
#ifndef CRIER_REST_SYSTEM_H
#define CRIER_REST_SYSTEM_H

struct rest_req;

void rest_system_versions_get(struct rest_req *req);

#endif
