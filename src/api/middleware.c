/*
 * middleware.c: an app's middleware and a route's dependencies on a
 * request, the values they attach to it, and what an `after` reads of the
 * response (see middleware.h, and sluice.h for the contract).
 *
 * The chain is walked with an index, not a stack of frames: a request
 * remembers only where its `before` halves stopped (req->mw_stop), and
 * the `after` halves are those below that index whose prefix covers the
 * path, which has not changed since.  So a request that answers later from
 * a timer, or on a pool thread, carries one number for its middleware.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/app.h"
#include "api/errors.h"
#include "api/middleware.h"
#include "util/escape.h"
#include "util/log.h"

/* One attached value.  Few per request: a list. */
struct sl_value {
    struct sl_value *next;
    void *value;
    void (*free_fn)(void *);
    char name[];
};

/* ---- registering ---------------------------------------------------- */

int sl_mw_add_owned(sl_app *app, const sl_middleware *mw, void (*free_user)(void *))
{
    const char *why = NULL;
    if (app == NULL || mw == NULL)
        why = "sl_middleware_add() needs an app and a record";
    else if (mw->before == NULL && mw->after == NULL)
        why = "neither a before nor an after function";
    else if (mw->prefix != NULL && mw->prefix[0] != '\0' && mw->prefix[0] != '/')
        why = "a prefix must start with '/'";
    else if (app->nmw == SL_APP_MAX_MW)
        why = "more than 64 middlewares";
    if (why != NULL) {
        sl_error("middleware refused: %s", why);
        if (free_user != NULL && mw != NULL)
            free_user(mw->user);
        return -EINVAL;
    }
    /* "/admin/" scopes as "/admin"; "/" as every path. */
    size_t plen = mw->prefix != NULL ? strlen(mw->prefix) : 0;
    while (plen > 0 && mw->prefix[plen - 1] == '/')
        plen--;
    char *prefix = NULL;
    sl_app_mw *n = realloc(app->mw, (app->nmw + 1) * sizeof *n);
    if (n != NULL)
        app->mw = n;
    if (n == NULL || (plen > 0 && (prefix = strndup(mw->prefix, plen)) == NULL)) {
        sl_error("middleware refused: out of memory");
        if (free_user != NULL)
            free_user(mw->user);
        return -ENOMEM;
    }
    sl_app_mw *e = &app->mw[app->nmw++];
    e->def = *mw;
    e->def.prefix = prefix;
    e->prefix_len = plen;
    e->free_user = free_user;
    return 0;
}

int sl_middleware_add(sl_app *app, const sl_middleware *mw)
{
    return sl_mw_add_owned(app, mw, NULL);
}

/* ---- running -------------------------------------------------------- */

/* Whether `e` covers the request's path: its prefix, then the path's end
 * or a '/'. */
static int covers(const sl_app_mw *e, const sl_req *req)
{
    size_t n = e->prefix_len;
    if (n == 0)
        return 1;
    const char *p = req->path;
    return strncmp(p, e->def.prefix, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* "GET /path" with the peer's bytes escaped, for a log line. */
static const char *who(const sl_req *req, char *buf, size_t size)
{
    size_t n = sl_escape_cut(buf, size - 1, sl_req_method(req));
    buf[n++] = ' ';
    sl_escape_cut(buf + n, size - n, req->path != NULL ? req->path : "?");
    return buf;
}

/*
 * What a before, dependency or after left: SL_NEXT or SL_OK when it is
 * fine; otherwise logged, and the response becomes sluice's 500 (none of
 * its headers kept: see dispatch.c's fail_500).  Returns SL_OK when it
 * answered, SL_NEXT to go on.
 */
static int settle(sl_req *req, int rc, const char *what, size_t index)
{
    char w[160];
    const char *why = NULL;
    if (rc < 0)
        why = strerror(-rc);
    else if (rc != SL_OK && rc != SL_NEXT)
        why = "invalid return value";
    else if (req->resp_error != NULL && !req->head_sent)
        why = req->resp_error;
    if (why == NULL)
        return rc;
    sl_error("%s %zu for %s failed (%s): sending 500", what, index + 1,
             who(req, w, sizeof w), why);
    if (!req->head_sent) {
        req->headers.len = 0;
        sl_error_answer(req, 500, NULL, NULL);
    }
    return SL_OK;
}

int sl_mw_before(sl_req *req)
{
    const sl_app *app = req->app;
    for (size_t i = 0; i < app->nmw; i++) {
        const sl_app_mw *e = &app->mw[i];
        if (e->def.before == NULL || !covers(e, req))
            continue;
        int rc = settle(req, e->def.before(req, e->def.user), "middleware", i);
        if (rc != SL_NEXT) {
            req->mw_stop = (unsigned)i;
            return SL_OK;
        }
    }
    req->mw_stop = (unsigned)app->nmw;
    return SL_NEXT;
}

void sl_mw_after(sl_req *req)
{
    const sl_app *app = req->app;
    for (size_t i = req->mw_stop; i-- > 0;) {
        const sl_app_mw *e = &app->mw[i];
        if (e->def.after != NULL && covers(e, req))
            e->def.after(req, e->def.user);
    }
    req->mw_stop = 0;
    if (req->resp_error != NULL && !req->head_sent)
        settle(req, SL_OK, "middleware (after)", 0);
}

int sl_deps_run(sl_req *req)
{
    const sl_decl *d = req->match.target->decl;
    for (size_t i = 0; i < d->ndepends; i++) {
        int rc = settle(req, d->depends[i].fn(req, d->depends[i].user), "dependency", i);
        if (rc != SL_NEXT)
            return SL_OK;
    }
    return SL_NEXT;
}

/* ---- values ------------------------------------------------------------ */

static struct sl_value **find_value(sl_req *req, const char *name)
{
    struct sl_value **v = &req->values;
    while (*v != NULL && strcmp((*v)->name, name) != 0)
        v = &(*v)->next;
    return v;
}

int sl_req_set_value(sl_req *req, const char *name, void *value, void (*free_fn)(void *))
{
    if (req == NULL || name == NULL) {
        if (free_fn != NULL)
            free_fn(value);
        return -EINVAL;
    }
    struct sl_value **at = find_value(req, name);
    if (*at != NULL) {
        if ((*at)->free_fn != NULL)
            (*at)->free_fn((*at)->value);
        (*at)->value = value;
        (*at)->free_fn = free_fn;
        return 0;
    }
    size_t n = strlen(name);
    struct sl_value *v = malloc(sizeof *v + n + 1);
    if (v == NULL) {
        if (free_fn != NULL)
            free_fn(value);
        return -ENOMEM;
    }
    memcpy(v->name, name, n + 1);
    v->value = value;
    v->free_fn = free_fn;
    v->next = NULL;
    *at = v;
    return 0;
}

void *sl_req_value(const sl_req *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    for (const struct sl_value *v = req->values; v != NULL; v = v->next)
        if (strcmp(v->name, name) == 0)
            return v->value;
    return NULL;
}

void sl_values_free(sl_req *req)
{
    while (req->values != NULL) {
        struct sl_value *v = req->values;
        req->values = v->next;
        if (v->free_fn != NULL)
            v->free_fn(v->value);
        free(v);
    }
}

/* ---- answering, and the response as an `after` sees it ------------------ */

int sl_resp_error(sl_req *req, int status, const char *detail)
{
    if (status < 400 || status > 599) {
        if (req->resp_error == NULL)
            req->resp_error = "sl_resp_error() with a status outside 400-599";
        return -EINVAL;
    }
    if (req->head_sent)
        return -EALREADY;
    sl_error_answer(req, status, detail, NULL);
    return SL_OK;
}

int sl_resp_get_status(const sl_req *req)
{
    return req->status;
}

int sl_resp_get_header(const sl_req *req, const char *name, char *buf, size_t size)
{
    size_t nl = name != NULL ? strlen(name) : 0;
    const char *h = req->headers.data, *end = h + req->headers.len;
    const char *value = NULL;
    size_t vlen = 0;
    while (nl > 0 && h != NULL && h < end) {
        const char *lf = memchr(h, '\n', (size_t)(end - h));
        const char *next = lf != NULL ? lf + 1 : end;
        size_t len = (size_t)(next - h);
        if (len > nl + 1 && h[nl] == ':' && strncasecmp(h, name, nl) == 0) {
            value = h + nl + 1;
            while (value < next && *value == ' ')
                value++;
            vlen = (size_t)(next - value);
            while (vlen > 0 && (value[vlen - 1] == '\n' || value[vlen - 1] == '\r'))
                vlen--;
            break;
        }
        h = next;
    }
    /* The type the encoder adds when none was set (response.c). */
    if (value == NULL && nl > 0 && !req->has_ctype && strcasecmp(name, "Content-Type") == 0 &&
        req->status != 204 && req->status != 304) {
        value = "text/plain; charset=utf-8";
        vlen = strlen(value);
    }
    if (value == NULL)
        return -ENOENT;
    if (size == 0)
        return -ERANGE;
    size_t n = vlen < size ? vlen : size - 1;
    memcpy(buf, value, n);
    buf[n] = '\0';
    return n == vlen ? (int)(vlen > INT32_MAX ? INT32_MAX : vlen) : -ERANGE;
}

uint64_t sl_resp_body_length(const sl_req *req)
{
    return req->bytes_out + req->out.len;
}

uint64_t sl_req_elapsed_ns(const sl_req *req)
{
    return uv_hrtime() - req->start_ns;
}
