/*
 * openapi.h: the app's OpenAPI 3.1 document, made from its route table as
 * FastAPI's get_openapi() makes one (fastapi/openapi/utils.py, 0.141):
 * what each route declares (api/declare.h), in the same structure and
 * with the same schemas FastAPI publishes for the same declarations.  The
 * rules C needs of its own (operation ids, routes left out) are in
 * sluice.h at sl_app_info() and in sluice(1), OPENAPI.
 *
 * Pure: json-c and the app's tables; built once per worker at start.
 */
#ifndef SLUICE_OPENAPI_H
#define SLUICE_OPENAPI_H

#include <json-c/json.h>
#include <sluice.h>

/* Where the document is served from, beyond the app's own tables. */
typedef struct sl_openapi_opts {
    /* FastAPI's root_path: the prefix the app is mounted at, seen by
     * clients but not by the routes.  NULL or "": none.  Otherwise the
     * document's servers are [{"url": root_path}] (as FastAPI's with
     * root_path_in_servers). */
    const char *root_path;
    /* The level (util/log.h) of the lines saying what the document could
     * not say as the table does (a route left out for another of the same
     * OpenAPI path and method, an operation id declared twice, a named
     * schema called ValidationError): the check process warns, each worker
     * only says it at debug. */
    int warn_level;
} sl_openapi_opts;

/*
 * Build the document of `app` (loaded, its routes registered) into *out,
 * a new json-c object the caller puts.  Returns 0, or -ENOMEM (*out NULL).
 * Reads the app's tables only; never fails for what they hold.
 */
int sl_openapi_build(const sl_app *app, const sl_openapi_opts *opts, json_object **out);

/* The default of the document's info.title: the shared object's name less
 * ".so", else "sluice app"; or what sl_app_info() set. */
const char *sl_openapi_title(const sl_app *app);

#endif
