/*
 * rest_queues - /queues, /queues/<name> and /queues/<name>/<file>
 * (mailman/rest/queues.py) over src/queue: a queue shows its waiting
 * entries' bases (files, FIFO) and their count; POST injects a message
 * (list_id, text) as `crier inject` does and answers 201 with the new
 * entry's URL; DELETE removes a waiting entry. Where Mailman's DELETE only
 * renames the file to ".bak" (so a restart brings it back), crier claims
 * and removes it.
 */
#ifndef CRIER_REST_QUEUES_H
#define CRIER_REST_QUEUES_H

struct rest_req;

void rest_queues_get(struct rest_req *req);
void rest_queue_get(struct rest_req *req);
void rest_queue_post(struct rest_req *req);
void rest_queue_file_delete(struct rest_req *req);

#endif
