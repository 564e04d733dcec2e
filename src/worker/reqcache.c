/*
 * reqcache.c: the worker's requests, made and freed.  A request that ends
 * is kept for the next one (up to CACHE_MAX of them) with its buffers, so
 * an ordinary request allocates nothing: request.c resets it, this file
 * keeps it.
 */
#include <stdlib.h>
#include "api/middleware.h"
#include "worker/worker.h"

/* Requests a worker keeps for reuse. */
#define CACHE_MAX 32

/* The connections' host (conn.h): a request for connection `c`. */
sl_req *sl_conns_host_req_new(sl_conns *cs, sl_conn *c, enum sl_proto proto, uint16_t id)
{
    sl_worker *w = sl_conns_worker(cs);
    sl_req *req = w->req_cache;
    if (req != NULL) {
        w->req_cache = req->next;
        w->req_cached--;
        req->next = NULL;
    } else {
        req = malloc(sizeof *req);
        if (req == NULL)
            return NULL;
        sl_req_init(req);
    }
    req->conn = c;
    req->host = &w->req_host;
    req->proto = proto;
    req->id = id;
    return req;
}

void sl_worker_req_free(sl_worker *w, sl_req *req)
{
    if (req == NULL)
        return;
    /* A streaming request's flow may outlive it (queued writes hold it). */
    if (req->flow != NULL)
        sl_worker_flow_release(w, req->flow);
    if (req->values != NULL)
        sl_values_free(req);
    if (w->req_cached < CACHE_MAX && !w->conns.draining) {
        sl_req_reset(req);
        req->next = w->req_cache;
        w->req_cache = req;
        w->req_cached++;
        return;
    }
    sl_req_destroy(req);
    free(req);
}

void sl_worker_req_cache_free(sl_worker *w)
{
    while (w->req_cache != NULL) {
        sl_req *req = w->req_cache;
        w->req_cache = req->next;
        sl_req_destroy(req);
        free(req);
    }
    w->req_cached = 0;
}

/* The connections' host (conn.h): a request that did not run, or whose
 * connection went before it did. */
void sl_conns_host_req_free(sl_conns *cs, sl_req *req)
{
    sl_worker_req_free(sl_conns_worker(cs), req);
}
