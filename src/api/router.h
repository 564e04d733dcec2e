/*
 * router.h: the route table, matching method + path to a route, and typed
 * path parameters.
 *
 * A pattern is a path of literal segments and parameters: "/items/{id:int}",
 * "/users/{name}", "/files/{rest:path}".  Types: str (default: one non-empty
 * segment), int (a decimal integer fitting int64_t, optional leading '-'),
 * path (the rest of the path, may contain '/'; last segment only).
 * Matching is on the normalised path (path.h: decoded, dot segments
 * resolved) together with the offsets of the slashes that were sent as
 * %2F: only real slashes separate segments.  Where several routes match,
 * the first segment position at which they differ decides, literal > int >
 * str > path, whatever the order of registration: "/items/new" wins over
 * "/items/{id:int}", which wins over "/items/{name}".
 *
 * Pure: no I/O, no libuv.
 */
#ifndef SLUICE_ROUTER_H
#define SLUICE_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#define SL_ROUTER_MAX_PARAMS 16

enum sl_param_type { SL_PARAM_STR, SL_PARAM_INT, SL_PARAM_PATH };

typedef struct sl_router sl_router;

/*
 * A route flag the router reads (sluice.h's SL_ENCODED_SLASH has the same
 * value): a one-segment parameter of the route may hold a '/' sent as %2F.
 * Without it such a value does not match ({rest:path} always may).
 */
#define SL_ROUTER_ENCODED_SLASH 2u

struct sl_decl;

/* What a route carries; the router treats it as opaque but for
 * SL_ROUTER_ENCODED_SLASH in flags. */
typedef struct sl_route_target {
    void *handler;          /* the application's function */
    unsigned flags;         /* SL_LOOP, SL_ENCODED_SLASH etc. */
    const struct sl_decl *decl;     /* a route record's declarations
                                       (api/declare.h); NULL for sl_route() */
} sl_route_target;

/* Every request in flight carries SL_ROUTER_MAX_PARAMS of these: the
 * fields are ordered for no padding, and a path is far shorter than 4 GiB. */
typedef struct sl_path_param {
    const char *name;       /* owned by the router (pattern storage) */
    const char *value;      /* slice of the matched path, not NUL-terminated */
    int64_t ival;           /* for SL_PARAM_INT */
    uint32_t len;
    enum sl_param_type type;
} sl_path_param;

enum {
    SL_MATCH_OK = 0,
    SL_MATCH_NOT_FOUND = -1,        /* no pattern matches the path: 404 */
    SL_MATCH_BAD_METHOD = -2,       /* path matches, method does not: 405 */
    SL_MATCH_BAD_PARAM = -3         /* path shape matches but a typed
                                       parameter does not convert: 422 */
};

typedef struct sl_match {
    const sl_route_target *target;  /* SL_MATCH_OK */
    const char *pattern;            /* the matched route's pattern */
    sl_path_param params[SL_ROUTER_MAX_PARAMS];
    int nparams;
    /* SL_MATCH_BAD_METHOD: the methods that would match, "GET, HEAD, POST" */
    char allow[128];
    /* SL_MATCH_BAD_PARAM: which parameter and why (for the problem body),
     * and the route it belongs to (params[] then hold its parameters) */
    const char *bad_param;
    const char *bad_reason;
    const sl_route_target *bad_target;
} sl_match;

sl_router *sl_router_new(void);
void sl_router_free(sl_router *r);

/*
 * Add a route.  `method` is an HTTP method name ("GET", "POST", ...) or "*"
 * for any.  A GET route also answers HEAD.  The pattern is copied.
 * Returns 0, -EINVAL for a malformed pattern (unbalanced braces, unknown
 * type, empty name, more than SL_ROUTER_MAX_PARAMS parameters, "path" not
 * last, not starting with '/'), -EEXIST for the same method and shape
 * twice, -ENOMEM.  On an error, when `why` is not NULL, why[0..whylen)
 * gets one NUL-terminated line saying what is wrong ("unbalanced '{'",
 * "unknown type 'x' (str, int or path)", "{rest:path} must be the last
 * segment", "duplicate of GET /u/{id:int}", ...); on success it gets "".
 */
int sl_router_add(sl_router *r, const char *method, const char *pattern,
                  const sl_route_target *target, char *why, size_t whylen);

/* The i-th route added (0, 1, ...): its method and pattern, owned by the
 * router.  0, or -ERANGE past the last one. */
int sl_router_route_at(const sl_router *r, size_t i, const char **method,
                       const char **pattern);

/* The i-th route's target (as added, with its decl), or NULL past the
 * last one.  For walking the table in order (OpenAPI). */
const sl_route_target *sl_router_target_at(const sl_router *r, size_t i);

/* A parameter of a pattern, as sl_pattern_params() lists it. */
typedef struct sl_pattern_param {
    char name[64];
    enum sl_param_type type;
} sl_pattern_param;

/*
 * The parameters of `pattern`, in order, into out[0..SL_ROUTER_MAX_PARAMS)
 * with *n their count: 0, or -EINVAL (why as sl_router_add() says it) for
 * a pattern sl_router_add() would refuse, or one with a parameter name of
 * 64 bytes or more; -ENOMEM.
 */
int sl_pattern_params(const char *pattern, sl_pattern_param *out, int *n,
                      char *why, size_t whylen);

/*
 * Match a method and a normalised path (path[0..len), need not be
 * NUL-terminated).  enc[0..nenc) are the offsets in path of the slashes
 * sent as %2F, ascending (sl_path.enc; NULL and 0 when there are none).
 * Returns SL_MATCH_* and fills *m.  Parameter slices point into `path`.
 * Allocates nothing.
 */
int sl_router_match(const sl_router *r, const char *method, const char *path,
                    size_t len, const uint32_t *enc, size_t nenc,
                    sl_match *m);

#endif
