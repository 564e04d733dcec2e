/*
 * app.h: the loaded application: its shared object, route table and hooks.
 */
#ifndef SLUICE_APP_H
#define SLUICE_APP_H

#include <uv.h>
#include <sluice.h>
#include "api/declare.h"
#include "api/router.h"
#include "api/schema.h"

/* One middleware (sl_middleware_add()): the record with its prefix
 * copied, and what frees its `user` with the app (stock middleware's
 * configuration; NULL for an app's own). */
typedef struct sl_app_mw {
    sl_middleware def;
    size_t prefix_len;          /* 0: every path */
    void (*free_user)(void *user);
} sl_app_mw;

/* The most middlewares an app may add: a request's chain is bounded. */
#define SL_APP_MAX_MW 64

struct sl_app {
    void *dl;               /* dlopen handle */
    sl_router *router;
    sl_hook on_start;
    sl_hook on_drain;
    sl_hook on_stop;
    void *data;             /* sl_app_set_data() */
    uv_loop_t *loop;        /* the worker's loop; NULL when only checked */
    int nroutes;
    sl_schema_set *schemas; /* named schemas and every compiled one; NULL
                               until a record or sl_schema() needs it */
    sl_decl **decls;        /* the route records, as registered (each also
                               a route target's decl) */
    size_t ndecls, capdecls;
    int error_format;       /* SL_ERRORS_*, when error_format_set */
    int error_format_set;
    sl_error_handler on_error;
    sl_app_mw *mw;          /* middleware in registration order; NULL:
                               none, and a request pays nothing for it */
    size_t nmw;
    /* OpenAPI's info (sl_app_info()): copies, or NULL for the defaults */
    char *info_title, *info_version, *info_description;
    char *name;             /* the file's name less its directory and ".so"
                               (the default title); NULL for sl_app_new() */
    unsigned char secret[64]; size_t secret_len;  /* cookie signing key (api/cookie_sign.c) */
};

/*
 * Open `path`, resolve the entry point and call it to register the routes,
 * then compile every named schema (one that no route used is checked too).
 * Returns the app, or NULL with a one-line reason in err ("cannot load
 * PATH: <dlerror>", "PATH: no symbol sluice_app", "PATH: sluice_app failed:
 * ...", "PATH: schema NAME: ...").
 */
sl_app *sl_app_load(const char *path, uv_loop_t *loop, char *err, size_t errlen);
/* The same for an app given as its entry point (the in-process test
 * client's, worker/testclient.c): no shared object.  The reason on
 * failure: "the application: sluice_app() failed: ...". */
sl_app *sl_app_new(int (*entry)(sl_app *), uv_loop_t *loop, char *err, size_t errlen);
/* dlclose and free. */
void sl_app_free(sl_app *app);

#endif
