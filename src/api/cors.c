/*
 * cors.c: CORS as Starlette's CORSMiddleware answers it (sluice.h,
 * sl_cors_add()), as one middleware.
 *
 * Every header value that does not depend on the request (the methods,
 * the allowed headers, max-age, expose) is joined once at registration:
 * a request from an allowed origin costs a few header lookups and
 * appends.  The response headers of a request that goes on are set in
 * `before`, not `after`: a streamed answer (server-sent events) has its
 * head out before it ends, and the headers set before the handler stay
 * with its answer and with sluice's errors (a 404, a 422); a handler's
 * failure (a 500) drops them, as an exception does in Starlette.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sluice.h>
#include "api/middleware.h"
#include "api/request.h"
#include "util/buf.h"
#include "util/log.h"

/* Bounds on a configuration: a list is never an unbounded loop. */
#define LIST_MAX 256

/* Starlette's ALL_METHODS and SAFELISTED_HEADERS. */
static const char *const all_methods[] = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH",
                                          "POST", "PUT", NULL};
static const char *const safelisted[] = {"Accept", "Accept-Language", "Content-Language",
                                         "Content-Type", NULL};

typedef struct cors {
    char **origins;             /* exact; none when any_origin */
    size_t norigins;
    int any_origin;
    char **methods;             /* allowed methods, exact */
    size_t nmethods;
    char **headers;             /* allowed request headers, lower case */
    size_t nheaders;
    int any_header;
    int credentials;
    int explicit_origin;        /* preflights answer the origin itself */
    int preflight_status;       /* 200 or 204 */
    char *allow_methods;        /* "GET, POST" */
    char *allow_headers;        /* "Accept, ..., Content-Type" or NULL ("*") */
    char *expose;               /* or NULL */
    char max_age[24];           /* "" for none */
} cors;

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static void cors_free(void *p)
{
    cors *c = p;
    if (c == NULL)
        return;
    free_list(c->origins, c->norigins);
    free_list(c->methods, c->nmethods);
    free_list(c->headers, c->nheaders);
    free(c->allow_methods);
    free(c->allow_headers);
    free(c->expose);
    free(c);
}

/* A string a header value may carry: not empty, no control byte. */
static int sane(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* The length of a NULL-terminated list, or -1 past LIST_MAX or with a
 * string that is not sane. */
static long list_len(const char *const *l)
{
    long n = 0;
    for (; l != NULL && l[n] != NULL; n++)
        if (n == LIST_MAX || !sane(l[n]))
            return -1;
    return n;
}

static int has(const char *const *l, const char *s)
{
    for (size_t i = 0; l != NULL && l[i] != NULL; i++)
        if (strcmp(l[i], s) == 0)
            return 1;
    return 0;
}

/* Copy the list (without "*" entries), lower-cased if asked. */
static int copy_list(const char *const *l, char ***out, size_t *n, int lower)
{
    size_t len = 0;
    while (l != NULL && l[len] != NULL)
        len++;
    *out = calloc(len + 1, sizeof **out);
    if (*out == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        if (strcmp(l[i], "*") == 0)
            continue;
        char *s = strdup(l[i]);
        if (s == NULL)
            return -ENOMEM;
        for (char *p = s; lower && *p != '\0'; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        (*out)[(*n)++] = s;
    }
    return 0;
}

/* "a, b, c"; NULL when out of memory. */
static char *join(char *const *l, size_t n)
{
    sl_buf b;
    sl_buf_init(&b);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i > 0)
            rc = sl_buf_append(&b, ", ", 2);
        if (rc == 0)
            rc = sl_buf_append_str(&b, l[i]);
    }
    if (rc == 0)
        rc = sl_buf_append(&b, "", 1);
    if (rc < 0) {
        sl_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int by_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Starlette's Access-Control-Allow-Headers: sorted(SAFELISTED_HEADERS |
 * set(allow_headers)), as written; and the lower-case list preflights
 * check against.  0 or -ENOMEM. */
static int build_headers(cors *c, const char *const *allow)
{
    size_t n = 0;
    char *all[LIST_MAX + 8];
    for (size_t i = 0; safelisted[i] != NULL; i++)
        all[n++] = (char *)safelisted[i];
    for (size_t i = 0; allow != NULL && allow[i] != NULL; i++) {
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(all[j], allow[i]) == 0;
        if (!dup)
            all[n++] = (char *)allow[i];
    }
    qsort(all, n, sizeof *all, by_strcmp);
    all[n] = NULL;
    if (!c->any_header && (c->allow_headers = join(all, n)) == NULL)
        return -ENOMEM;
    return copy_list((const char *const *)all, &c->headers, &c->nheaders, 1);
}

static int origin_allowed(const cors *c, const char *origin)
{
    if (c->any_origin)
        return 1;
    for (size_t i = 0; i < c->norigins; i++)
        if (strcmp(c->origins[i], origin) == 0)
            return 1;
    return 0;
}

static int method_allowed(const cors *c, const char *m)
{
    for (size_t i = 0; i < c->nmethods; i++)
        if (strcmp(c->methods[i], m) == 0)
            return 1;
    return 0;
}

/* Each of the comma-separated names, lower-cased and stripped, is
 * allowed (an empty one is not, as in Starlette). */
static int headers_allowed(const cors *c, const char *list)
{
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        int ok = 0;
        for (size_t i = 0; i < c->nheaders && !ok; i++)
            ok = strlen(c->headers[i]) == (size_t)(e - s) &&
                 strncasecmp(c->headers[i], s, (size_t)(e - s)) == 0;
        if (!ok)
            return 0;
        if (p[n] == '\0')
            return 1;
        p += n + 1;
    }
}

/* OPTIONS with Origin and Access-Control-Request-Method: answered here. */
static int preflight(sl_req *req, const cors *c, const char *origin, const char *method)
{
    const char *requested = sl_req_header(req, "Access-Control-Request-Headers");
    int bad_origin = !origin_allowed(c, origin);
    int bad_method = !method_allowed(c, method);
    int bad_headers = !c->any_header && requested != NULL && !headers_allowed(c, requested);
    int rc = 0;
    if (c->explicit_origin)
        rc |= sl_resp_header(req, "Vary", "Origin");
    if (bad_origin || bad_method || bad_headers) {
        /* Starlette's text; unlike Starlette, no Access-Control-* header
         * for a preflight that fails: nothing is allowed. */
        rc |= sl_resp_status(req, 400);
        rc |= sl_resp_printf(req, "Disallowed CORS %s%s%s%s%s",
                             bad_origin ? "origin" : "",
                             bad_origin && (bad_method || bad_headers) ? ", " : "",
                             bad_method ? "method" : "",
                             bad_method && bad_headers ? ", " : "",
                             bad_headers ? "headers" : "");
        return rc < 0 ? -ENOMEM : SL_OK;
    }
    rc |= sl_resp_header(req, "Access-Control-Allow-Origin",
                         c->explicit_origin ? origin : "*");
    rc |= sl_resp_header(req, "Access-Control-Allow-Methods", c->allow_methods);
    if (c->max_age[0] != '\0')
        rc |= sl_resp_header(req, "Access-Control-Max-Age", c->max_age);
    /* "*": the requested headers are mirrored, as Starlette does. */
    if (c->any_header && requested != NULL && requested[0] != '\0')
        rc |= sl_resp_header(req, "Access-Control-Allow-Headers", requested);
    else if (c->allow_headers != NULL)
        rc |= sl_resp_header(req, "Access-Control-Allow-Headers", c->allow_headers);
    if (c->credentials)
        rc |= sl_resp_header(req, "Access-Control-Allow-Credentials", "true");
    rc |= sl_resp_status(req, c->preflight_status);
    if (c->preflight_status == 200)
        rc |= sl_resp_write(req, "OK", 2);
    return rc < 0 ? -ENOMEM : SL_OK;
}

static int cors_before(sl_req *req, void *user)
{
    const cors *c = user;
    /* Found as the parameters were stored: a request without Origin, the
     * usual one, costs a load here, not a walk over its parameters. */
    const char *origin = sl_req_known(req, SL_P_ORIGIN);
    if (origin == NULL)
        return SL_NEXT;
    const char *method = sl_req_header(req, "Access-Control-Request-Method");
    if (method != NULL && strcmp(sl_req_method(req), "OPTIONS") == 0)
        return preflight(req, c, origin, method);
    /* A simple (or actual) request: only an allowed origin gets headers. */
    if (!origin_allowed(c, origin))
        return SL_NEXT;
    int rc = 0;
    if (c->any_origin && !c->credentials && sl_req_header(req, "Cookie") == NULL) {
        rc |= sl_resp_header(req, "Access-Control-Allow-Origin", "*");
    } else {
        rc |= sl_resp_header(req, "Access-Control-Allow-Origin", origin);
        rc |= sl_resp_header(req, "Vary", "Origin");
    }
    if (c->credentials)
        rc |= sl_resp_header(req, "Access-Control-Allow-Credentials", "true");
    if (c->expose != NULL)
        rc |= sl_resp_header(req, "Access-Control-Expose-Headers", c->expose);
    /* An Origin that is not a valid header value cannot be allowed: an
     * exact match of one that is.  So a refusal here is memory. */
    return rc < 0 ? -ENOMEM : SL_NEXT;
}

int sl_cors_add(sl_app *app, const sl_cors *cfg)
{
    if (app == NULL || cfg == NULL) {
        sl_error("CORS refused: sl_cors_add() needs an app and a configuration");
        return -EINVAL;
    }
    const char *why = NULL;
    if (list_len(cfg->allow_origins) < 0 || list_len(cfg->allow_methods) < 0 ||
        list_len(cfg->allow_headers) < 0 || list_len(cfg->expose_headers) < 0)
        why = "an empty string, a control byte, or more than 256 in a list";
    else if (cfg->preflight_status != 0 && cfg->preflight_status != 200 &&
             cfg->preflight_status != 204)
        why = "preflight_status must be 0, 200 or 204";
    if (why != NULL) {
        sl_error("CORS refused: %s", why);
        return -EINVAL;
    }
    cors *c = calloc(1, sizeof *c);
    if (c == NULL)
        goto nomem;
    c->any_origin = has(cfg->allow_origins, "*");
    c->any_header = has(cfg->allow_headers, "*");
    c->credentials = cfg->allow_credentials;
    c->explicit_origin = !c->any_origin || c->credentials;
    c->preflight_status = cfg->preflight_status == 204 ? 204 : 200;
    if (cfg->max_age >= 0)
        snprintf(c->max_age, sizeof c->max_age, "%d", cfg->max_age == 0 ? 600 : cfg->max_age);
    static const char *const get_only[] = {"GET", NULL};
    const char *const *methods = cfg->allow_methods != NULL ? cfg->allow_methods : get_only;
    if (has(methods, "*"))
        methods = all_methods;
    if (copy_list(cfg->allow_origins, &c->origins, &c->norigins, 0) < 0 ||
        copy_list(methods, &c->methods, &c->nmethods, 0) < 0 ||
        (c->allow_methods = join(c->methods, c->nmethods)) == NULL ||
        build_headers(c, cfg->allow_headers) < 0)
        goto nomem;
    if (list_len(cfg->expose_headers) > 0) {
        char **l = NULL;
        size_t n = 0;
        int rc = copy_list(cfg->expose_headers, &l, &n, 0);
        c->expose = rc == 0 ? join(l, n) : NULL;
        free_list(l, n);
        if (c->expose == NULL)
            goto nomem;
    }
    sl_middleware mw = { .before = cors_before, .user = c };
    return sl_mw_add_owned(app, &mw, cors_free);
nomem:
    sl_error("CORS refused: out of memory");
    cors_free(c);
    return -ENOMEM;
}
