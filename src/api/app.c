/* app.c: loading an application and its route table (see app.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "util/log.h"

typedef int (*entry_fn)(sl_app *);

/*
 * Register the app: call its entry point.  Whatever an app needs done once
 * its routes are in belongs here, where a loaded app (sl_app_load) and one
 * given as a function (sl_app_new) both pass.  The app, or NULL (freed)
 * with the reason in err.
 */
static sl_app *app_enter(sl_app *app, entry_fn entry, const char *name, char *err,
                         size_t errlen)
{
    int rc = entry(app);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s() failed: %s", name, SL_APP_SYMBOL,
                 strerror(rc < 0 ? -rc : rc));
        sl_app_free(app);
        return NULL;
    }
    return app;
}

sl_app *sl_app_new(int (*entry)(sl_app *), uv_loop_t *loop, char *err, size_t errlen)
{
    sl_app *app = calloc(1, sizeof *app);
    if (app == NULL || (app->router = sl_router_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(app);
        return NULL;
    }
    app->loop = loop;
    return app_enter(app, entry, "the application", err, errlen);
}

sl_app *sl_app_load(const char *path, uv_loop_t *loop, char *err, size_t errlen)
{
    /*
     * dlopen() searches the library path for a bare name; an application is
     * a file, so make a bare name relative to the current directory.
     */
    char local[4096];
    if (strchr(path, '/') == NULL) {
        snprintf(local, sizeof local, "./%s", path);
        path = local;
    }
    sl_app *app = calloc(1, sizeof *app);
    if (app == NULL || (app->router = sl_router_new()) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(app);
        return NULL;
    }
    app->loop = loop;
    app->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (app->dl == NULL) {
        snprintf(err, errlen, "cannot load %s: %s", path, dlerror());
        sl_app_free(app);
        return NULL;
    }
    entry_fn entry;
    void *sym = dlsym(app->dl, SL_APP_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    if (sym == NULL) {
        snprintf(err, errlen, "%s: missing symbol %s (the entry point every app defines)",
                 path, SL_APP_SYMBOL);
        sl_app_free(app);
        return NULL;
    }
    return app_enter(app, entry, path, err, errlen);
}

void sl_app_free(sl_app *app)
{
    if (app == NULL)
        return;
    sl_router_free(app->router);
    if (app->dl != NULL)
        dlclose(app->dl);
    free(app);
}

int sl_route(sl_app *app, const char *method, const char *pattern,
             sl_handler handler, unsigned flags)
{
    /* The router reads this flag itself and knows it by its own name. */
    _Static_assert(SL_ENCODED_SLASH == SL_ROUTER_ENCODED_SLASH,
                   "SL_ENCODED_SLASH and SL_ROUTER_ENCODED_SLASH differ");
    char why[256];

    if (app == NULL || method == NULL || pattern == NULL || handler == NULL) {
        sl_error("route %s %s refused: sl_route() needs an app, a method, a pattern "
                 "and a handler", method ? method : "(null)", pattern ? pattern : "(null)");
        return -EINVAL;
    }
    sl_route_target t;
    memset(&t, 0, sizeof t);
    /* Function and object pointers are the same size on every POSIX system. */
    memcpy(&t.handler, &handler, sizeof handler);
    t.flags = flags;
    int rc = sl_router_add(app->router, method, pattern, &t, why, sizeof why);
    if (rc == 0)
        app->nroutes++;
    else
        sl_error("route %s %s refused: %s", method, pattern, why);
    return rc;
}

void sl_on_worker_start(sl_app *app, sl_hook start) { app->on_start = start; }
void sl_on_worker_drain(sl_app *app, sl_hook drain) { app->on_drain = drain; }
void sl_on_worker_stop(sl_app *app, sl_hook stop) { app->on_stop = stop; }
void sl_app_set_data(sl_app *app, void *data) { app->data = data; }
void *sl_app_data(const sl_app *app) { return app->data; }
uv_loop_t *sl_app_loop(const sl_app *app) { return app->loop; }
