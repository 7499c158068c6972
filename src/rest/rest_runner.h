/*
 * rest_runner - the "rest" runner kind (Mailman's RESTRunner): the REST
 * server of rest_server.c on [webservice] hostname:port in the runner's
 * event loop, with its own store connection. Readiness is signalled once
 * the port is bound (runner_main does it after start returns 0).
 */
#ifndef CRIER_REST_RUNNER_H
#define CRIER_REST_RUNNER_H

struct runner;

int rest_runner_start(struct runner *r, char **error_r);
void rest_runner_stop(struct runner *r);

#endif
