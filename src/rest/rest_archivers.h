/*
 * rest_archivers - /lists/<list>/archivers (mailman/rest/lists.py
 * ListArchivers): the archivers enabled site-wide ([archiver.<x>] enable:
 * yes with a class), each with the list's own switch; PUT (all of them)
 * and PATCH (some) set the switches in one transaction.
 *
 * An archiver's name is its class's, as Mailman's: "mhonarc",
 * "mail-archive", "prototype", "hyperkitty"; for a class crier does not
 * know, the section's suffix. A list that never set a switch has it on:
 * Mailman creates the list's switch from the site's enable the first
 * time it looks, which is on for every archiver it shows.
 */
#ifndef CRIER_REST_ARCHIVERS_H
#define CRIER_REST_ARCHIVERS_H

struct rest_req;

void rest_list_archivers_get(struct rest_req *req);
void rest_list_archivers_put(struct rest_req *req);
void rest_list_archivers_patch(struct rest_req *req);

#endif
