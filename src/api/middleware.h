/*
 * middleware.h: an app's middleware (sluice.h's sl_middleware) and a
 * route's dependencies (sl_route_def.depends) on a request, and the values
 * they attach to it (sl_req_set_value()).  The worker calls in at three
 * points of a request's life (worker/dispatch.c):
 *
 *   the input is in, path resolved  ->  sl_mw_before()    (loop)
 *   routed, validated               ->  sl_deps_run()     (the handler's thread)
 *   the response is complete        ->  sl_mw_after()     (loop, before encoding)
 *
 * An app without middleware never gets here: the worker tests app->mw
 * (NULL) and the route's decl's ndepends (0) first.
 */
#ifndef SLUICE_MIDDLEWARE_H
#define SLUICE_MIDDLEWARE_H

#include "api/request.h"

/*
 * The `before` halves of the app's middleware whose prefix covers the
 * request's path, in registration order.  Returns SL_NEXT when the request
 * goes on to routing, SL_OK when one answered (the response is complete:
 * one that failed, returned something else or set an invalid response was
 * logged and answered 500).  Sets req->mw_stop, which sl_mw_after() reads.
 * Loop thread; req->path resolved.
 */
int sl_mw_before(sl_req *req);

/*
 * The `after` halves of the middleware whose `before` went on (or that
 * have none), in reverse order, when req->mw_stop != 0.  A response left
 * invalid (an invalid header set) becomes a 500, logged.  Loop thread,
 * before the response is encoded.
 */
void sl_mw_after(sl_req *req);

/*
 * The matched route's dependencies (its decl has ndepends > 0), in order.
 * SL_NEXT: run the handler; SL_OK: one answered, or one failed and a 500
 * is the answer (logged).  The thread that runs the handler.
 */
int sl_deps_run(sl_req *req);

/* Free the values attached to req (sl_req_set_value()); before the request
 * is reset or destroyed. */
void sl_values_free(sl_req *req);

/* Add a middleware whose `user` is freed with the app by free_user (the
 * stock middleware's configuration; called on `user` also when refused).
 * As sl_middleware_add(). */
int sl_mw_add_owned(sl_app *app, const sl_middleware *mw, void (*free_user)(void *));

#endif
