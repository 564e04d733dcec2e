/*
 * fuzz_router: sl_router_add and sl_router_match (src/api/router.c).
 *
 * Input: "METHOD\nPATH\nPATTERN_METHOD\nPATTERN" (missing parts are empty).
 * A router is built from a fixed table (every add must succeed) plus the
 * input's pattern, which must be accepted (0, with an empty reason) or
 * refused cleanly (-EINVAL, -EEXIST, with a one-line reason); a refused one
 * must leave the table working.  An accepted pattern without braces must
 * then match itself.  The path (any bytes, not NUL-terminated, in an
 * exact-size heap block) is matched twice: as it is, without encoded
 * slashes, and, when src/proto/path.c accepts it, normalised with its encoded
 * slashes.  On a match the parameters lie inside the path, are non-empty,
 * str and int ones hold no '/' but an encoded one, and that only on a
 * route with SL_ROUTER_ENCODED_SLASH, and int ones are '-'? digits that
 * strtoll reads back to ival; a GET match also matches HEAD; on a 405 every
 * method in `allow` matches.  Other outcomes carry their documented fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/router.h"
#include "proto/path.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const table[][2] = {
    { "GET", "/" }, { "GET", "/hello" }, { "GET", "/items/new" },
    { "GET", "/items/{id:int}" }, { "PUT", "/items/{id:int}" },
    { "DELETE", "/items/{id:int}" }, { "POST", "/items" },
    { "GET", "/users/{name}" }, { "GET", "/users/{name:str}/posts/{pid:int}" },
    { "*", "/any/{x}" }, { "GET", "/files/{rest:path}" },
    { "GET", "/a/{b:str}/c" }, { "POST", "/upload/{name}/{rest:path}" },
    { "GET", "/x/{a}/{b}/{c}/{d:int}" }, { "PATCH", "/items/{id}" },
};
/* The same, with SL_ROUTER_ENCODED_SLASH. */
static const char *const enc_table[][2] = {
    { "GET", "/enc/{name}" }, { "GET", "/enc/{a}/{n:int}" },
    { "POST", "/users/{name}" },
};

/* Is at (a pointer into path) one of the encoded slashes? */
static int is_enc(const char *path, const char *at, const uint32_t *enc,
                  size_t nenc)
{
    for (size_t i = 0; i < nenc; i++)
        if (path + enc[i] == at)
            return 1;
    return 0;
}

/* Next '\n'-separated part of the input as a fresh NUL-terminated string. */
static char *part(const char **p, const char *end, size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    if (len != NULL)
        *len = n;
    return s;
}

static void check_match(const sl_router *r, const char *method,
                        const char *path, size_t len, const uint32_t *enc,
                        size_t nenc, int long_method)
{
    sl_match m;
    int rc = sl_router_match(r, method, path, len, enc, nenc, &m);

    switch (rc) {
    case SL_MATCH_OK:
        CHECK(m.target != NULL && m.pattern != NULL);
        CHECK(m.nparams >= 0 && m.nparams <= SL_ROUTER_MAX_PARAMS);
        for (int i = 0; i < m.nparams; i++) {
            const sl_path_param *pp = &m.params[i];
            CHECK(pp->name != NULL && pp->len > 0);
            CHECK(pp->value > path && pp->value + pp->len <= path + len);
            CHECK(pp->value[-1] == '/');
            if (pp->type != SL_PARAM_PATH)
                for (const char *c = pp->value; c < pp->value + pp->len; c++)
                    CHECK(*c != '/' || ((m.target->flags & SL_ROUTER_ENCODED_SLASH) &&
                                        is_enc(path, c, enc, nenc)));
            if (pp->type == SL_PARAM_INT) {
                char num[24];
                CHECK(pp->len < sizeof(num));
                memcpy(num, pp->value, pp->len);
                num[pp->len] = '\0';
                for (size_t k = num[0] == '-'; k < pp->len; k++)
                    CHECK(num[k] >= '0' && num[k] <= '9');
                char *end;
                errno = 0;
                long long v = strtoll(num, &end, 10);
                CHECK(errno == 0 && *end == '\0' && v == pp->ival);
            }
        }
        break;
    case SL_MATCH_BAD_METHOD:
        /* A method too long for allow[] is left out, so only short ones. */
        CHECK(memchr(m.allow, '\0', sizeof(m.allow)) != NULL);
        CHECK(m.allow[0] != '\0' || long_method);
        break;
    case SL_MATCH_BAD_PARAM:
        CHECK(m.pattern != NULL && m.bad_param != NULL && m.bad_reason != NULL);
        break;
    case SL_MATCH_NOT_FOUND:
        break;
    default:
        abort();
    }
    if (rc == SL_MATCH_OK && strcmp(method, "GET") == 0)
        CHECK(sl_router_match(r, "HEAD", path, len, enc, nenc, &m) == SL_MATCH_OK);
    if (rc == SL_MATCH_BAD_METHOD)      /* the allowed methods do match */
        for (char *a = m.allow, *e; *a != '\0'; a = e + 2) {
            e = strstr(a, ", ");
            char meth[128];
            size_t n = e ? (size_t)(e - a) : strlen(a);
            memcpy(meth, a, n);
            meth[n] = '\0';
            sl_match m2;
            CHECK(sl_router_match(r, meth, path, len, enc, nenc, &m2) == SL_MATCH_OK);
            if (e == NULL)
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sl_route_target tgt = { .handler = NULL, .flags = 0 };
    static const sl_route_target etgt = { .handler = NULL, .flags = SL_ROUTER_ENCODED_SLASH };
    char why[64];
    const char *p = (const char *)data, *end = p + size;
    size_t plen;

    char *method = part(&p, end, NULL);
    char *path = part(&p, end, &plen);
    char *pmethod = part(&p, end, NULL);
    char *pattern = part(&p, end, NULL);

    sl_router *r = sl_router_new();
    CHECK(r != NULL);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        CHECK(sl_router_add(r, table[i][0], table[i][1], &tgt, NULL, 0) == 0);
    for (size_t i = 0; i < sizeof(enc_table) / sizeof(enc_table[0]); i++)
        CHECK(sl_router_add(r, enc_table[i][0], enc_table[i][1], &etgt, NULL, 0) == 0);

    memset(why, 'x', sizeof(why));
    int rc = sl_router_add(r, pmethod, pattern, &tgt, why, sizeof(why));
    CHECK(rc == 0 || rc == -EINVAL || rc == -EEXIST);
    CHECK(memchr(why, '\0', sizeof(why)) != NULL);
    CHECK(rc == 0 ? why[0] == '\0' : why[0] != '\0');
    if (pattern[0] != '/' || pmethod[0] == '\0')
        CHECK(rc == -EINVAL);
    CHECK(sl_router_add(r, "GET", "/hello", &tgt, why, sizeof(why)) == -EEXIST);
    CHECK(strcmp(why, "duplicate of GET /hello") == 0);
    if (rc == 0 && strpbrk(pattern, "{}") == NULL) {
        /* A literal pattern matches itself, and wins. */
        sl_match m;
        CHECK(sl_router_match(r, pmethod, pattern, strlen(pattern), NULL, 0, &m) ==
              SL_MATCH_OK);
        CHECK(strcmp(m.pattern, pattern) == 0 && m.nparams == 0);
    }

    /* The path in an exact-size block, so reads past `len` are caught. */
    char *exact = malloc(plen ? plen : 1);
    CHECK(exact != NULL);
    if (plen > 0)
        memcpy(exact, path, plen);
    int long_method = strlen(pmethod) > 60;
    check_match(r, method, exact, plen, NULL, 0, long_method);
    check_match(r, "GET", exact, plen, NULL, 0, long_method);

    /* The path as a request-target: normalised, with its encoded slashes. */
    size_t ecap = sl_path_max_enc(path, plen);
    sl_path np = { .buf = malloc(plen + 2), .cap = plen + 2,
                   .enc = ecap ? malloc(ecap * sizeof(uint32_t)) : NULL,
                   .enc_cap = ecap };
    CHECK(np.buf != NULL && (ecap == 0 || np.enc != NULL));
    if (sl_path_normalise(&np, path, plen) == 0) {
        char *nexact = malloc(np.len);
        CHECK(nexact != NULL);
        memcpy(nexact, np.buf, np.len);
        check_match(r, method, nexact, np.len, np.enc, np.nenc, long_method);
        check_match(r, "GET", nexact, np.len, np.enc, np.nenc, long_method);
        free(nexact);
    }
    free(np.buf);
    free(np.enc);

    sl_router_free(r);
    free(exact);
    free(method);
    free(path);
    free(pmethod);
    free(pattern);
    return 0;
}
