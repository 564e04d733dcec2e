/*
 * router.c: the route table (see router.h).
 *
 * Routes live in a growable array of pointers (so a matched target stays
 * put when more routes are added).  Each route keeps its pattern twice: the
 * original, for sl_match.pattern, and a working copy cut into NUL-terminated
 * segment strings that the parsed segment list points into.
 *
 * Matching walks every route; tables are small and built at startup, so a
 * linear scan keeps the rules obvious.  Choices callers should know:
 *   - a path is split on '/' after its leading '/': "/" is one empty
 *     segment, and "/hello/" is ("hello", "") so it does NOT match "/hello"
 *     (no trailing-slash redirects);
 *   - methods are case-sensitive ("get" is not "GET");
 *   - among routes that match, the one with the most specific segment at the
 *     first position where they differ wins: literal > int > str > path;
 *     on equal shapes the exact method beats GET-answering-HEAD, which
 *     beats "*";
 *   - -EEXIST is for the same method and the same shape (literals and
 *     parameter types, names ignored), since the second could never match;
 *   - segments end at real slashes only: a '/' the client sent as %2F stays
 *     inside its segment, so it never equals a literal, and a one-segment
 *     parameter holding one does not match unless the route has
 *     SL_ROUTER_ENCODED_SLASH.  With no encoded slash (nearly every
 *     request) matching does what it did before they were told apart: the
 *     only cost is a test of the count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/router.h"

struct seg {
    const char *text;           /* literal text or parameter name */
    size_t len;
    int is_param;
    enum sl_param_type type;
};

struct route {
    char *method;
    char *pattern;              /* original, NUL-terminated */
    char *work;                 /* segments cut out of a copy */
    struct seg *segs;
    int nsegs;
    sl_route_target target;
};

struct sl_router {
    struct route **routes;
    size_t n, cap;
};

/* Result of matching one route against a path. */
enum { MR_NO, MR_MATCH, MR_BAD_INT };

/* The path being matched, and which of its slashes were sent as %2F. */
struct subject {
    const char *path;
    size_t len;
    const uint32_t *enc;        /* ascending offsets into path */
    size_t nenc;
};

static const char bad_int_reason[] = "value is not a valid integer";

sl_router *sl_router_new(void)
{
    return calloc(1, sizeof(sl_router));
}

static void route_free(struct route *rt)
{
    if (rt == NULL)
        return;
    free(rt->method);
    free(rt->pattern);
    free(rt->work);
    free(rt->segs);
    free(rt);
}

void sl_router_free(sl_router *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        route_free(r->routes[i]);
    free(r->routes);
    free(r);
}

/* ---- pattern parsing ---------------------------------------------------- */

/* An HTTP token (RFC 9110 tchar), or "*". */
static int valid_method(const char *m)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (*m == '\0')
        return 0;
    if (strcmp(m, "*") == 0)
        return 1;
    for (; *m != '\0'; m++) {
        char c = *m;
        int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9');
        if (!alnum && strchr(extra, c) == NULL)
            return 0;
    }
    return 1;
}

static int valid_param_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Why a pattern was refused: the caller's buffer, or none. */
typedef struct why {
    char *buf;
    size_t len;
} why_t;

/* Say why (when the caller asked) and return rc. */
static int refuse(why_t *w, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(why_t *w, int rc, const char *fmt, ...)
{
    if (w != NULL && w->buf != NULL && w->len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->buf, w->len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/*
 * Parse one segment, already cut and NUL-terminated in place (s[0..len)).
 * It is either a literal with no braces, or exactly "{name}" or
 * "{name:type}"; braces anywhere else are an error, so "a{b}" is rejected
 * rather than silently treated as a literal.
 */
static int parse_seg(char *s, size_t len, struct seg *seg, why_t *w)
{
    int open = memchr(s, '{', len) != NULL, close = memchr(s, '}', len) != NULL;

    if (len == 0 || s[0] != '{') {
        if (open && close)
            return refuse(w, -EINVAL, "a parameter must be a whole segment ('%s')", s);
        if (open || close)
            return refuse(w, -EINVAL, "unbalanced '%c'", open ? '{' : '}');
        seg->text = s;
        seg->len = len;
        seg->is_param = 0;
        return 0;
    }
    if (len < 2 || s[len - 1] != '}') {
        if (close)
            return refuse(w, -EINVAL, "a parameter must be a whole segment ('%s')", s);
        return refuse(w, -EINVAL, "unbalanced '{'");
    }
    s[len - 1] = '\0';
    char *name = s + 1;
    if (strchr(name, '{') != NULL || strchr(name, '}') != NULL)
        return refuse(w, -EINVAL, "braces inside a parameter ('{%s}')", name);

    seg->type = SL_PARAM_STR;
    char *colon = strchr(name, ':');
    if (colon != NULL) {
        *colon = '\0';
        const char *type = colon + 1;
        if (strcmp(type, "str") == 0)
            seg->type = SL_PARAM_STR;
        else if (strcmp(type, "int") == 0)
            seg->type = SL_PARAM_INT;
        else if (strcmp(type, "path") == 0)
            seg->type = SL_PARAM_PATH;
        else if (*type == '\0')
            return refuse(w, -EINVAL, "empty type after ':' in '{%s:}'", name);
        else
            return refuse(w, -EINVAL, "unknown type '%s' (str, int or path)", type);
    }
    if (*name == '\0')
        return refuse(w, -EINVAL, "empty parameter name");
    if (!valid_param_name(name))
        return refuse(w, -EINVAL, "parameter name '%s' is not letters, digits and '_'", name);
    seg->text = name;
    seg->len = strlen(name);
    seg->is_param = 1;
    return 0;
}

/* Cross-segment rules: parameter count, unique names, "path" last. */
static int check_segs(const struct route *rt, why_t *w)
{
    int nparams = 0;

    for (int i = 0; i < rt->nsegs; i++) {
        const struct seg *a = &rt->segs[i];
        if (!a->is_param)
            continue;
        if (++nparams > SL_ROUTER_MAX_PARAMS)
            return refuse(w, -EINVAL, "more than %d parameters", SL_ROUTER_MAX_PARAMS);
        if (a->type == SL_PARAM_PATH && i != rt->nsegs - 1)
            return refuse(w, -EINVAL, "{%s:path} must be the last segment", a->text);
        for (int j = 0; j < i; j++) {
            const struct seg *b = &rt->segs[j];
            if (b->is_param && strcmp(a->text, b->text) == 0)
                return refuse(w, -EINVAL, "parameter name '%s' used twice", a->text);
        }
    }
    return 0;
}

/* Split the working copy (after its leading '/') into segments. */
static int parse_pattern(struct route *rt, why_t *w)
{
    char *p = rt->work + 1;
    int n = 1;

    for (const char *q = p; *q != '\0'; q++)
        n += *q == '/';
    rt->segs = calloc((size_t)n, sizeof(*rt->segs));
    if (rt->segs == NULL)
        return refuse(w, -ENOMEM, "out of memory");

    for (int i = 0; i < n; i++) {
        char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (slash != NULL)
            *slash = '\0';
        int rc = parse_seg(p, len, &rt->segs[i], w);
        if (rc < 0)
            return rc;
        rt->nsegs = i + 1;
        p += len + 1;
    }
    return check_segs(rt, w);
}

static int same_shape(const struct route *a, const struct route *b)
{
    if (a->nsegs != b->nsegs)
        return 0;
    for (int i = 0; i < a->nsegs; i++) {
        const struct seg *x = &a->segs[i], *y = &b->segs[i];
        if (x->is_param != y->is_param)
            return 0;
        if (x->is_param && x->type != y->type)
            return 0;
        if (!x->is_param &&
            (x->len != y->len || memcmp(x->text, y->text, x->len) != 0))
            return 0;
    }
    return 1;
}

static struct route *route_new(const char *method, const char *pattern,
                               const sl_route_target *target, int *err,
                               why_t *w)
{
    struct route *rt = calloc(1, sizeof(*rt));

    *err = -ENOMEM;
    if (rt == NULL) {
        refuse(w, -ENOMEM, "out of memory");
        return NULL;
    }
    rt->method = strdup(method);
    rt->pattern = strdup(pattern);
    rt->work = strdup(pattern);
    if (rt->method == NULL || rt->pattern == NULL || rt->work == NULL) {
        refuse(w, -ENOMEM, "out of memory");
        goto fail;
    }
    *err = parse_pattern(rt, w);
    if (*err < 0)
        goto fail;
    if (target != NULL)
        rt->target = *target;
    return rt;
fail:
    route_free(rt);
    return NULL;
}

static int grow(sl_router *r)
{
    if (r->n < r->cap)
        return 0;
    size_t cap = r->cap ? r->cap * 2 : 16;
    struct route **p = realloc(r->routes, cap * sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    r->routes = p;
    r->cap = cap;
    return 0;
}

int sl_router_add(sl_router *r, const char *method, const char *pattern,
                  const sl_route_target *target, char *why, size_t whylen)
{
    why_t w = { why, whylen };
    int err;

    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (r == NULL || method == NULL || pattern == NULL)
        return refuse(&w, -EINVAL, "no router, method or pattern");
    if (!valid_method(method))
        return refuse(&w, -EINVAL, "the method is not an HTTP token (nor \"*\")");
    if (pattern[0] != '/')
        return refuse(&w, -EINVAL, "the pattern does not start with '/'");
    struct route *rt = route_new(method, pattern, target, &err, &w);
    if (rt == NULL)
        return err;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *o = r->routes[i];
        if (strcmp(o->method, method) == 0 && same_shape(o, rt)) {
            route_free(rt);
            return refuse(&w, -EEXIST, "duplicate of %s %s", o->method, o->pattern);
        }
    }
    if (grow(r) < 0) {
        route_free(rt);
        return refuse(&w, -ENOMEM, "out of memory");
    }
    r->routes[r->n++] = rt;
    return 0;
}

int sl_router_route_at(const sl_router *r, size_t i, const char **method,
                       const char **pattern)
{
    if (r == NULL || i >= r->n)
        return -ERANGE;
    *method = r->routes[i]->method;
    *pattern = r->routes[i]->pattern;
    return 0;
}

const sl_route_target *sl_router_target_at(const sl_router *r, size_t i)
{
    return r != NULL && i < r->n ? &r->routes[i]->target : NULL;
}

int sl_pattern_params(const char *pattern, sl_pattern_param *out, int *n,
                      char *why, size_t whylen)
{
    why_t w = { why, whylen };
    int err;

    *n = 0;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (pattern == NULL || pattern[0] != '/')
        return refuse(&w, -EINVAL, "the pattern does not start with '/'");
    struct route *rt = route_new("GET", pattern, NULL, &err, &w);
    if (rt == NULL)
        return err;
    for (int i = 0; i < rt->nsegs; i++) {
        const struct seg *sg = &rt->segs[i];
        if (!sg->is_param)
            continue;
        if (sg->len >= sizeof out[0].name) {
            /* the name lives in rt: say why before freeing it */
            refuse(&w, -EINVAL, "parameter name '%.20s...' is longer than %zu bytes",
                   sg->text, sizeof out[0].name - 1);
            route_free(rt);
            return -EINVAL;
        }
        /* check_segs() allowed at most SL_ROUTER_MAX_PARAMS. */
        memcpy(out[*n].name, sg->text, sg->len + 1);
        out[*n].type = sg->type;
        (*n)++;
    }
    route_free(rt);
    return 0;
}

/* ---- matching ----------------------------------------------------------- */

/*
 * Optional '-', 1..19 digits, fitting int64_t.  Accumulate the magnitude
 * unsigned and check before each step, so INT64_MIN (whose magnitude does
 * not fit int64_t) is handled without signed overflow.
 */
static int parse_int64(const char *s, size_t len, int64_t *out)
{
    int neg = len > 0 && s[0] == '-';
    size_t i = (size_t)neg;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;

    if (len - i < 1 || len - i > 19)
        return -EINVAL;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

/*
 * The first real separator at or after `slash` (the first '/' of the rest
 * of the path, or NULL), skipping the encoded ones.  *k indexes the first
 * encoded slash not yet passed; offsets only grow along one walk.
 */
static const char *real_slash(const struct subject *sj, const char *slash,
                              size_t *k)
{
    while (slash != NULL) {
        size_t at = (size_t)(slash - sj->path);
        while (*k < sj->nenc && sj->enc[*k] < at)
            (*k)++;
        if (*k == sj->nenc || sj->enc[*k] != at)
            return slash;
        slash = memchr(slash + 1, '/', sj->len - at - 1);
    }
    return NULL;
}

/*
 * Match one route's shape against the path (which starts with '/').
 * `cur` is the start of the next path segment; cur == len + 1 means the
 * path is used up.  Fills params when non-NULL.  An int parameter that does
 * not convert does not stop the walk: the rest of the shape must still
 * match for the failure to count as MR_BAD_INT (a 422, not a 404); *bad is
 * the segment index of the first such parameter.
 *
 * Always inlined, into match_plain() with no encoded slashes as a
 * constant, so that the common case compiles without their tests.
 */
static inline __attribute__((always_inline)) int
match_shape(const struct route *rt, const struct subject *sj,
            sl_path_param *params, int *bad)
{
    const char *path = sj->path;
    size_t len = sj->len, cur = 1, k = 0;
    int np = 0, result = MR_MATCH;

    for (int i = 0; i < rt->nsegs; i++) {
        const struct seg *sg = &rt->segs[i];
        if (cur > len)
            return MR_NO;
        const char *s = path + cur;
        const char *slash = memchr(s, '/', len - cur);
        if (sj->nenc > 0)
            slash = real_slash(sj, slash, &k);
        size_t slen = slash ? (size_t)(slash - s) : len - cur;

        if (!sg->is_param) {
            /* An encoded slash inside the segment never equals a literal. */
            if (slen != sg->len || memcmp(s, sg->text, slen) != 0)
                return MR_NO;
            cur += slen + 1;
            continue;
        }
        if (sg->type == SL_PARAM_PATH)
            slen = len - cur;       /* the rest, slashes and all */
        if (slen == 0)
            return MR_NO;
        /* Segments end at real slashes, so a '/' inside is an encoded one. */
        if (sj->nenc > 0 && sg->type != SL_PARAM_PATH &&
            !(rt->target.flags & SL_ROUTER_ENCODED_SLASH) &&
            memchr(s, '/', slen) != NULL)
            return MR_NO;
        int64_t ival = 0;
        if (sg->type == SL_PARAM_INT && parse_int64(s, slen, &ival) < 0 &&
            result == MR_MATCH) {
            result = MR_BAD_INT;
            *bad = i;
        }
        if (params != NULL) {
            params[np].name = sg->text;
            params[np].type = sg->type;
            params[np].value = s;
            params[np].len = (uint32_t)slen;   /* len < 4 GiB: checked on entry */
            params[np].ival = ival;
        }
        np++;
        cur += slen + 1;
    }
    return cur == len + 1 ? result : MR_NO;
}

/* A path with no encoded slash: nearly every request. */
static int match_plain(const struct route *rt, const char *path, size_t len,
                       sl_path_param *params, int *bad)
{
    const struct subject sj = { path, len, NULL, 0 };
    return match_shape(rt, &sj, params, bad);
}

static int match_enc(const struct route *rt, const struct subject *sj,
                     sl_path_param *params, int *bad)
{
    return match_shape(rt, sj, params, bad);
}

static inline int match_route(const struct route *rt, const struct subject *sj,
                              sl_path_param *params, int *bad)
{
    if (sj->nenc == 0)
        return match_plain(rt, sj->path, sj->len, params, bad);
    return match_enc(rt, sj, params, bad);
}

static int seg_rank(const struct seg *sg)
{
    if (!sg->is_param)
        return 3;
    switch (sg->type) {
    case SL_PARAM_INT:
        return 2;
    case SL_PARAM_STR:
        return 1;
    default:
        return 0;
    }
}

/*
 * Compare two routes that both match the same path: > 0 when a is more
 * specific.  The first differing position decides; both routes cover the
 * same path, so a shorter list can only end in a path parameter, which
 * differs from the other route at that position anyway.
 */
static int shape_cmp(const struct route *a, const struct route *b)
{
    for (int i = 0; i < a->nsegs && i < b->nsegs; i++) {
        int d = seg_rank(&a->segs[i]) - seg_rank(&b->segs[i]);
        if (d != 0)
            return d;
    }
    return 0;
}

/* 0: method does not match; higher is a better match. */
static int method_rank(const struct route *rt, const char *method)
{
    if (strcmp(rt->method, method) == 0)
        return 3;
    if (strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0)
        return 2;
    if (strcmp(rt->method, "*") == 0)
        return 1;
    return 0;
}

static int better(const struct route *a, int arank, const struct route *b,
                  int brank)
{
    if (b == NULL)
        return 1;
    int d = shape_cmp(a, b);
    return d > 0 || (d == 0 && arank > brank);
}

/* Is `method` already one of the ", "-separated tokens in allow? */
static int allow_has(const char *allow, const char *method)
{
    size_t mlen = strlen(method);

    for (const char *p = allow; *p != '\0';) {
        const char *end = strstr(p, ", ");
        size_t tlen = end ? (size_t)(end - p) : strlen(p);
        if (tlen == mlen && memcmp(p, method, mlen) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 2;
    }
    return 0;
}

/* Append a method; one that would not fit is left out, never cut. */
static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t cur = strlen(allow);
    size_t sep = cur ? 2 : 0;
    size_t mlen = strlen(method);

    if (allow_has(allow, method))
        return;
    if (cur + sep + mlen + 1 > cap)
        return;
    memcpy(allow + cur, ", ", sep);
    memcpy(allow + cur + sep, method, mlen + 1);
}

/* The methods of every route whose shape matches the path, in order. */
static void fill_allow(const sl_router *r, const struct subject *sj,
                       sl_match *m)
{
    int bad;

    m->allow[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = r->routes[i];
        if (match_route(rt, sj, NULL, &bad) != MR_MATCH)
            continue;
        allow_add(m->allow, sizeof(m->allow), rt->method);
        if (strcmp(rt->method, "GET") == 0)
            allow_add(m->allow, sizeof(m->allow), "HEAD");
    }
}

int sl_router_match(const sl_router *r, const char *method, const char *path,
                    size_t len, const uint32_t *enc, size_t nenc, sl_match *m)
{
    const struct subject sj = { path, len, enc, enc != NULL ? nenc : 0 };
    const struct route *best = NULL, *bad_route = NULL;
    int best_rank = 0, bad_rank = -1, bad_seg = 0, path_matched = 0;

    /* Not the whole struct: params[] is filled only as far as nparams. */
    m->target = NULL;
    m->pattern = NULL;
    m->nparams = 0;
    m->allow[0] = '\0';
    m->bad_param = NULL;
    m->bad_reason = NULL;
    m->bad_target = NULL;
    if (r == NULL || method == NULL || path == NULL || len == 0 ||
        len > UINT32_MAX || path[0] != '/')
        return SL_MATCH_NOT_FOUND;

    /*
     * The path's first segment, found once: a route whose first segment is
     * a literal other than it cannot match, and is passed over without a
     * walk (in a table spread over a few prefixes, nearly every route).
     */
    size_t k = 0;
    const char *first = path + 1;
    const char *slash = memchr(first, '/', len - 1);
    if (sj.nenc > 0)
        slash = real_slash(&sj, slash, &k);
    size_t first_len = slash ? (size_t)(slash - first) : len - 1;

    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = r->routes[i];
        const struct seg *s0 = &rt->segs[0];
        if (!s0->is_param &&
            (s0->len != first_len ||
             (first_len > 0 && (s0->text[0] != first[0] ||
                                memcmp(s0->text, first, first_len) != 0))))
            continue;
        int seg = 0;
        int mr = match_route(rt, &sj, NULL, &seg);
        if (mr == MR_NO)
            continue;
        int rank = method_rank(rt, method);

        if (mr == MR_MATCH) {
            path_matched = 1;
            if (rank > 0 && better(rt, rank, best, best_rank)) {
                best = rt;
                best_rank = rank;
            }
        } else if (mr == MR_BAD_INT && better(rt, rank, bad_route, bad_rank)) {
            bad_route = rt;
            bad_rank = rank;
            bad_seg = seg;
        }
    }

    if (best != NULL) {
        int unused;
        match_route(best, &sj, m->params, &unused);
        for (int i = 0; i < best->nsegs; i++)
            m->nparams += best->segs[i].is_param;
        m->target = &best->target;
        m->pattern = best->pattern;
        return SL_MATCH_OK;
    }
    if (path_matched) {
        fill_allow(r, &sj, m);
        return SL_MATCH_BAD_METHOD;
    }
    if (bad_route != NULL) {
        int unused;
        /* Its parameters, the bad one included: a declared route checks
         * them all and says what FastAPI would (api/args.c). */
        match_route(bad_route, &sj, m->params, &unused);
        for (int i = 0; i < bad_route->nsegs; i++)
            m->nparams += bad_route->segs[i].is_param;
        m->bad_target = &bad_route->target;
        m->pattern = bad_route->pattern;
        m->bad_param = bad_route->segs[bad_seg].text;
        m->bad_reason = bad_int_reason;
        return SL_MATCH_BAD_PARAM;
    }
    return SL_MATCH_NOT_FOUND;
}
