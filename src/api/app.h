/*
 * app.h: the loaded application: its shared object, route table and hooks.
 */
#ifndef SLUICE_APP_H
#define SLUICE_APP_H

#include <uv.h>
#include <sluice.h>
#include "api/router.h"

struct sl_app {
    void *dl;               /* dlopen handle */
    sl_router *router;
    sl_hook on_start;
    sl_hook on_drain;
    sl_hook on_stop;
    void *data;             /* sl_app_set_data() */
    uv_loop_t *loop;        /* the worker's loop; NULL when only checked */
    int nroutes;
};

/*
 * Open `path`, resolve the entry point and call it to register the routes.
 * Returns the app, or NULL with a one-line reason in err ("cannot load
 * PATH: <dlerror>", "PATH: no symbol sluice_app", "PATH: sluice_app failed:
 * ...").
 */
sl_app *sl_app_load(const char *path, uv_loop_t *loop, char *err, size_t errlen);
/* The same for an app given as its entry point (the in-process test
 * client's, worker/testclient.c): no shared object.  The reason on
 * failure: "the application: sluice_app() failed: ...". */
sl_app *sl_app_new(int (*entry)(sl_app *), uv_loop_t *loop, char *err, size_t errlen);
/* dlclose and free. */
void sl_app_free(sl_app *app);

#endif
