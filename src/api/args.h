/*
 * args.h: a declared route's inputs on a request: read as Starlette reads
 * them (api/starlette.h), converted and validated by the route's decl
 * (api/declare.h) as FastAPI validates a path operation's, and kept on the
 * request for the sl_arg_* getters of sluice.h; bad input is answered 415,
 * 422 or 400 in the app's error format (api/errors.h).
 */
#ifndef SLUICE_ARGS_H
#define SLUICE_ARGS_H

#include "api/request.h"

/*
 * The route req matched has a decl (req->match.target->decl != NULL):
 * set its success status, then read, convert and validate its inputs.
 * Returns 0 when the handler is to run (the values are on the request,
 * sl_req_json() is the validated body), 1 when req was answered (415,
 * 422, 400, or 500 when out of memory).  Loop thread, before the handler.
 *
 * FastAPI's order: a body that is not JSON (415, json_invalid as the only
 * error, 400 for bytes it cannot read) is answered before anything else
 * is looked at; then every parameter (path, query, header, cookie) and
 * the body are validated and all their errors listed in one 422.
 */
int sl_args_run(sl_req *req);

/*
 * The router's SL_MATCH_BAD_PARAM: an {x:int} segment that is not an
 * integer.  On a declared route, a 422 listing it with every other failing
 * input (on the route's method; else the path parameters only), as
 * FastAPI answers a path parameter declared int; on another, a 422 with
 * its one error, in the app's format.  Loop thread.
 */
void sl_args_bad_path(sl_req *req);

#endif
