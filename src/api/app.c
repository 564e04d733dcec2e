/* app.c: loading an application, its route table and named schemas (see
 * app.h). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api/app.h"
#include "util/log.h"

/* A schema file is read whole at registration: bounded. */
#define SCHEMA_FILE_MAX (4 * 1024 * 1024)

/* Compile every named schema, so that one no route refers to is checked
 * as well: 0, or -EINVAL/-ENOMEM with err. */
static int check_schemas(sl_app *app, char *err, size_t errlen)
{
    if (app->schemas == NULL)
        return 0;
    json_object_object_foreach(sl_schema_set_components(app->schemas), name, src) {
        char why[256] = "";
        const sl_jschema *s;
        (void)src;
        int rc = sl_schema_get(app->schemas, name, &s, why, sizeof why);
        if (rc < 0) {
            snprintf(err, errlen, "schema %s refused: %s", name, why);
            return rc;
        }
    }
    return 0;
}

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
    char why[400];
    if (check_schemas(app, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", name, why);
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

/* "demo" for "/usr/lib/sluice/demo.so": the default title of its OpenAPI
 * document, as FastAPI's is "FastAPI". */
static char *file_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".so") == 0)
        n -= 3;
    return strndup(base, n);
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
    if ((app->name = file_name(path)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        sl_app_free(app);
        return NULL;
    }
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
    for (size_t i = 0; i < app->ndecls; i++)
        sl_decl_free(app->decls[i]);
    free(app->decls);
    for (size_t i = 0; i < app->nmw; i++) {
        free((char *)app->mw[i].def.prefix);
        if (app->mw[i].free_user != NULL)
            app->mw[i].free_user(app->mw[i].def.user);
    }
    free(app->mw);
    sl_schema_set_free(app->schemas);
    free(app->info_title);
    free(app->info_version);
    free(app->info_description);
    free(app->name);
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

/* The app's schema set, made when first needed: 0 or -ENOMEM. */
static int need_schemas(sl_app *app)
{
    if (app->schemas == NULL && (app->schemas = sl_schema_set_new()) == NULL)
        return -ENOMEM;
    return 0;
}

int sl_route_add(sl_app *app, const sl_route_def *def)
{
    const char *m = def && def->method ? def->method : "(null)";
    const char *p = def && def->pattern ? def->pattern : "(null)";
    char why[320] = "out of memory";
    sl_decl *d = NULL;

    if (app == NULL || def == NULL) {
        sl_error("route refused: sl_route_add() needs an app and a record");
        return -EINVAL;
    }
    int rc = need_schemas(app);
    if (rc == 0 && app->ndecls == app->capdecls) {
        size_t cap = app->capdecls ? app->capdecls * 2 : 16;
        sl_decl **n = realloc(app->decls, cap * sizeof *n);
        if (n == NULL)
            rc = -ENOMEM;
        else {
            app->decls = n;
            app->capdecls = cap;
        }
    }
    if (rc == 0)
        rc = sl_decl_build(app->schemas, def, &d, why, sizeof why);
    if (rc == 0) {
        sl_route_target t;
        memset(&t, 0, sizeof t);
        memcpy(&t.handler, &def->handler, sizeof def->handler);
        t.flags = def->flags;
        t.decl = d;
        rc = sl_router_add(app->router, def->method, def->pattern, &t, why, sizeof why);
    }
    if (rc < 0) {
        sl_error("route %s %s refused: %s", m, p, why);
        sl_decl_free(d);
        return rc;
    }
    app->decls[app->ndecls++] = d;
    app->nroutes++;
    return 0;
}

int sl_routes(sl_app *app, const sl_route_def *defs)
{
    if (defs == NULL) {
        sl_error("routes refused: sl_routes() needs a table");
        return -EINVAL;
    }
    for (size_t i = 0; defs[i].method != NULL; i++) {
        int rc = sl_route_add(app, &defs[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* JSON text as the schema compiler reads it (json-c, strict). */
static int parse_json(const char *text, size_t len, json_object **out, char *err,
                      size_t errlen)
{
    json_tokener *tok = json_tokener_new_ex(3 * SL_SCHEMA_MAX_DEPTH + 8);
    *out = NULL;
    if (tok == NULL || len > (size_t)INT32_MAX) {
        json_tokener_free(tok);
        snprintf(err, errlen, tok ? "too long" : "out of memory");
        return tok ? -EINVAL : -ENOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (j == NULL && e == json_tokener_continue) {
        j = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
    }
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success || j == NULL) {
        json_object_put(j);
        snprintf(err, errlen, "not JSON: %s (at byte %zu)", json_tokener_error_desc(e), end);
        return -EINVAL;
    }
    *out = j;
    return 0;
}

/* sl_schema() and sl_schema_file(): `what` names the source in messages. */
static int add_schema(sl_app *app, const char *name, const char *text, size_t len,
                      const char *what)
{
    char why[300] = "out of memory";
    json_object *j = NULL;
    int rc = need_schemas(app);
    if (rc == 0)
        rc = parse_json(text, len, &j, why, sizeof why);
    if (rc == 0)
        rc = sl_schema_set_add(app->schemas, name, j, why, sizeof why);
    json_object_put(j);
    if (rc < 0)
        sl_error("schema %s%s refused: %s", name, what, why);
    return rc;
}

int sl_schema(sl_app *app, const char *name, const char *json)
{
    if (app == NULL || name == NULL || json == NULL) {
        sl_error("schema %s refused: sl_schema() needs an app, a name and JSON text",
                 name ? name : "(null)");
        return -EINVAL;
    }
    return add_schema(app, name, json, strlen(json), "");
}

int sl_schema_file(sl_app *app, const char *name, const char *path)
{
    char what[300];
    struct stat st;

    if (app == NULL || name == NULL || path == NULL) {
        sl_error("schema %s refused: sl_schema_file() needs an app, a name and a path",
                 name ? name : "(null)");
        return -EINVAL;
    }
    snprintf(what, sizeof what, " (%s)", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        sl_error("schema %s%s refused: %s", name, what, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > SCHEMA_FILE_MAX) {
        close(fd);
        sl_error("schema %s%s refused: %s", name, what,
                 S_ISREG(st.st_mode) ? "larger than 4 MiB" : "not a regular file");
        return -EINVAL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *text = malloc(size + 1);
    if (text == NULL) {
        close(fd);
        sl_error("schema %s%s refused: out of memory", name, what);
        return -ENOMEM;
    }
    while (got < size) {
        ssize_t n = read(fd, text + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(text);
            close(fd);
            sl_error("schema %s%s refused: %s", name, what,
                     n < 0 ? strerror(e) : "the file shrank while read");
            return -e;
        }
        got += (size_t)n;
    }
    close(fd);
    int rc = add_schema(app, name, text, size, what);
    free(text);
    return rc;
}

void sl_app_info(sl_app *app, const char *title, const char *version,
                 const char *description)
{
    static const char *const what[] = {"title", "version", "description"};
    const char *const value[] = {title, version, description};

    if (app == NULL)
        return;
    char **field[] = {&app->info_title, &app->info_version, &app->info_description};
    for (size_t i = 0; i < sizeof what / sizeof *what; i++) {
        if (value[i] == NULL)
            continue;
        char *copy = strdup(value[i]);
        if (copy == NULL) {
            sl_error("sl_app_info: out of memory: the OpenAPI document keeps its %s",
                     what[i]);
            continue;
        }
        free(*field[i]);
        *field[i] = copy;
    }
}

void sl_on_worker_start(sl_app *app, sl_hook start) { app->on_start = start; }
void sl_on_worker_drain(sl_app *app, sl_hook drain) { app->on_drain = drain; }
void sl_on_worker_stop(sl_app *app, sl_hook stop) { app->on_stop = stop; }
void sl_app_set_data(sl_app *app, void *data) { app->data = data; }
void *sl_app_data(const sl_app *app) { return app->data; }
uv_loop_t *sl_app_loop(const sl_app *app) { return app->loop; }
