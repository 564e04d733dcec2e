/*
 * errors.h: the error responses sluice makes itself (404, 405, 400, 413,
 * 415, 422, 431, 500, 503, 504), in the app's format (sluice.h:
 * SL_ERRORS_FASTAPI, SL_ERRORS_PROBLEM), then handed to the app's error
 * handler (sl_on_error()).  A handler's own sl_resp_problem() is not one
 * of them.
 */
#ifndef SLUICE_ERRORS_H
#define SLUICE_ERRORS_H

#include <json-c/json.h>
#include <sluice.h>
#include "api/request.h"
#include "util/buf.h"

/* The format in effect for `app`: the one it set, else FastAPI's once it
 * registered a route record, else problem+json (and for no app). */
int sl_errors_format(const sl_app *app);

/*
 * Answer req with sluice's own error: status, with `detail` (NULL: none;
 * FastAPI's format then says the status text) or, for a 422 of
 * validation, `errors` (FastAPI's items, borrowed).  Drops the body and
 * the headers describing it, keeps the others (sl_resp_problem()), then
 * runs the app's error handler.  Loop thread.
 */
void sl_error_answer(sl_req *req, int status, const char *detail, json_object *errors);

/*
 * The same answer encoded into `out` (sl_resp_encode(), final) without
 * touching req, whose response a handler still owns (a 504): made on a
 * copy of the request that borrows its input.  0, or -ENOMEM.
 */
int sl_error_encode_detached(sl_buf *out, const sl_req *req, int status,
                             const char *detail);

#endif
