/*
 * endpoints.h: the health, status and metrics documents (--health-path,
 * --status-path, --metrics-path), answered on the loop ahead of every
 * handler, so they answer even when every pool thread is busy.  Each is
 * built from the shared scoreboard, so any worker answers for the pool.
 */
#ifndef SLUICE_ENDPOINTS_H
#define SLUICE_ENDPOINTS_H

#include "request.h"

struct sl_worker;

/* If the request is for one of the configured paths, build its response
 * and return 1; otherwise 0. */
int sl_endpoint_answer(struct sl_worker *w, sl_req *req);

#endif
