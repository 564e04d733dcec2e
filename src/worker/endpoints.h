/*
 * endpoints.h: the health, status and metrics documents (--health-path,
 * --status-path, --metrics-path), and the app's OpenAPI document and docs
 * page (--openapi-path, --docs-path: apidocs.h), answered on the loop ahead of every
 * handler, so they answer even when every pool thread is busy.  Each is
 * built from the shared scoreboard, so any worker answers for the pool.
 */
#ifndef SLUICE_ENDPOINTS_H
#define SLUICE_ENDPOINTS_H

#include "api/request.h"
#include "api/router.h"
#include "config/config.h"
#include "worker/apidocs.h"
#include "worker/scoreboard.h"

/* What the documents are made from; the worker holds one. */
typedef struct sl_endpoints {
    const sl_config *cfg;           /* the three paths */
    sl_scoreboard *sb;              /* NULL: no status, no metrics, no rows */
    const int *listener_fds;        /* the listening sockets, for the status's */
    int nlisteners;                 /* listen queue */
    sl_apidocs docs;                /* built by sl_worker_app_start() */
} sl_endpoints;

/* If the request is for one of the configured paths, build its response
 * (405 with Allow for a method other than GET and HEAD) and return 1;
 * otherwise 0.  `draining`: this worker is stopping (health says so). */
int sl_endpoint_answer(const sl_endpoints *e, int draining, sl_req *req);

/*
 * Give every route of the app (those of a given method; a "*" route's rows
 * are its requests' methods) and every configured path a row in the
 * scoreboard's route table, before the worker accepts: whatever methods
 * peers send later, these are counted under their own names.  A table
 * without room is logged.
 */
void sl_endpoint_register_routes(const sl_endpoints *e, const sl_router *router);

#endif
