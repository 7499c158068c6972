/* rest_system - /system, /system/versions, /system/configuration[/<section>],
 * /system/pipelines and /system/chains (mailman/rest/root.py). The
 * configuration is shown as Mailman shows it: every section of the loaded
 * configuration, and a section's keys with their raw string values. */
#ifndef CRIER_REST_SYSTEM_H
#define CRIER_REST_SYSTEM_H

struct rest_req;

void rest_system_versions_get(struct rest_req *req);
void rest_system_config_get(struct rest_req *req);
void rest_system_pipelines_get(struct rest_req *req);
void rest_system_chains_get(struct rest_req *req);

#endif
