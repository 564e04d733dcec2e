/* test_router.c: unit tests for the route table. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/router.h"

/* Distinct targets, told apart by their handler pointer. */
static int tag[8];
#define T(i) (&(sl_route_target){ .handler = &tag[i], .flags = 0 })

static sl_router *r;

static void setup(void)
{
    r = sl_router_new();
    ck_assert_ptr_nonnull(r);
}

static void teardown(void)
{
    sl_router_free(r);
    r = NULL;
}

/* Match a NUL-terminated path via an exact-size heap copy (ASan). */
static int match(const char *method, const char *path, sl_match *m)
{
    size_t len = strlen(path);
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, path, len);
    int rc = sl_router_match(r, method, copy, len, NULL, 0, m);
    /* Parameter slices point into the path: rebase them onto `path`. */
    for (int i = 0; (rc == SL_MATCH_OK || rc == SL_MATCH_BAD_PARAM) && i < m->nparams; i++)
        m->params[i].value = path + (m->params[i].value - copy);
    free(copy);
    return rc;
}

static void *matched_handler(const char *method, const char *path)
{
    sl_match m;
    int rc = match(method, path, &m);
    ck_assert_msg(rc == SL_MATCH_OK, "%s %s: rc %d", method, path, rc);
    return m.target->handler;
}

static void assert_param(const sl_match *m, int i, const char *name,
                         const char *value)
{
    ck_assert_int_lt(i, m->nparams);
    ck_assert_str_eq(m->params[i].name, name);
    ck_assert_uint_eq(m->params[i].len, strlen(value));
    ck_assert_int_eq(memcmp(m->params[i].value, value, strlen(value)), 0);
}

/* ---- adding ------------------------------------------------------------- */

START_TEST(test_add_malformed)
{
    static const char *bad[] = {
        "", "items", "items/{id}", "/{", "/}", "/{id", "/id}", "/{}",
        "/{:int}", "/{id:}", "/{id:float}", "/{id:int:x}", "/a{id}",
        "/{id}b", "/{a}{b}", "/{a-b}", "/{rest:path}/x", "/{a}/{a}",
        "/{{id}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(sl_router_add(r, "GET", bad[i], T(0), NULL, 0) == -EINVAL,
                      "pattern '%s' accepted", bad[i]);
    ck_assert_int_eq(sl_router_add(r, "", "/", T(0), NULL, 0), -EINVAL);
    ck_assert_int_eq(sl_router_add(r, "G T", "/", T(0), NULL, 0), -EINVAL);
    ck_assert_int_eq(sl_router_add(r, "GET", NULL, T(0), NULL, 0), -EINVAL);
    ck_assert_int_eq(sl_router_add(r, NULL, "/", T(0), NULL, 0), -EINVAL);

    sl_match m;
    ck_assert_int_eq(match("GET", "/a", &m), SL_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(test_add_max_params)
{
    char pat[512] = "";
    for (int i = 0; i < SL_ROUTER_MAX_PARAMS; i++) {
        char seg[16];
        snprintf(seg, sizeof(seg), "/{p%d}", i);
        strcat(pat, seg);
    }
    ck_assert_int_eq(sl_router_add(r, "GET", pat, T(0), NULL, 0), 0);
    strcat(pat, "/{one_more}");
    ck_assert_int_eq(sl_router_add(r, "GET", pat, T(0), NULL, 0), -EINVAL);

    sl_match m;
    ck_assert_int_eq(match("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", &m),
                     SL_MATCH_OK);
    ck_assert_int_eq(m.nparams, SL_ROUTER_MAX_PARAMS);
    assert_param(&m, 15, "p15", "p");
}
END_TEST

START_TEST(test_add_duplicate)
{
    ck_assert_int_eq(sl_router_add(r, "GET", "/a/{id:int}", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/a/{id:int}", T(1), NULL, 0), -EEXIST);
    /* Same shape under another parameter name is still a duplicate. */
    ck_assert_int_eq(sl_router_add(r, "GET", "/a/{n:int}", T(1), NULL, 0), -EEXIST);
    /* Other method, other type, other literal: fine. */
    ck_assert_int_eq(sl_router_add(r, "POST", "/a/{id:int}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/a/{id}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/b/{id:int}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "*", "/a/{id:int}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "*", "/a/{id:int}", T(1), NULL, 0), -EEXIST);
}
END_TEST

START_TEST(test_pattern_copied)
{
    char pat[] = "/copy/{x}";
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", pat, T(0), NULL, 0), 0);
    memset(pat, 'z', sizeof(pat) - 1);
    ck_assert_int_eq(match("GET", "/copy/1", &m), SL_MATCH_OK);
    ck_assert_str_eq(m.pattern, "/copy/{x}");
    assert_param(&m, 0, "x", "1");
}
END_TEST

/* ---- matching ----------------------------------------------------------- */

START_TEST(test_literals)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/hello", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/hello/world", T(2), NULL, 0), 0);

    ck_assert_ptr_eq(matched_handler("GET", "/"), &tag[0]);
    ck_assert_ptr_eq(matched_handler("GET", "/hello"), &tag[1]);
    ck_assert_ptr_eq(matched_handler("GET", "/hello/world"), &tag[2]);
    ck_assert_int_eq(match("GET", "/hello", &m), SL_MATCH_OK);
    ck_assert_int_eq(m.nparams, 0);
    ck_assert_str_eq(m.pattern, "/hello");

    /* Trailing slash, prefixes, extra segments, no leading slash. */
    ck_assert_int_eq(match("GET", "/hello/", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/hell", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/helloo", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/hello/world/x", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "//", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "hello", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(sl_router_match(r, "GET", "/hello/world", 6, NULL, 0, &m),
                     SL_MATCH_OK);  /* length, not NUL, bounds the path */
    ck_assert_ptr_eq(m.target->handler, &tag[1]);
}
END_TEST

START_TEST(test_str_param)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/users/{name}", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/u/{a:str}/posts/{b}", T(1), NULL, 0),
                     0);

    ck_assert_int_eq(match("GET", "/users/alice", &m), SL_MATCH_OK);
    ck_assert_int_eq(m.nparams, 1);
    assert_param(&m, 0, "name", "alice");
    ck_assert_int_eq(m.params[0].type, SL_PARAM_STR);

    ck_assert_int_eq(match("GET", "/u/bob/posts/7", &m), SL_MATCH_OK);
    ck_assert_int_eq(m.nparams, 2);
    assert_param(&m, 0, "a", "bob");
    assert_param(&m, 1, "b", "7");

    ck_assert_int_eq(match("GET", "/users/", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/users", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/users/a/b", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/u//posts/7", &m), SL_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(test_int_param)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/items/{id:int}", T(0), NULL, 0), 0);

    ck_assert_int_eq(match("GET", "/items/42", &m), SL_MATCH_OK);
    ck_assert_int_eq(m.params[0].type, SL_PARAM_INT);
    ck_assert(m.params[0].ival == 42);
    assert_param(&m, 0, "id", "42");

    ck_assert_int_eq(match("GET", "/items/-7", &m), SL_MATCH_OK);
    ck_assert(m.params[0].ival == -7);
    ck_assert_int_eq(match("GET", "/items/007", &m), SL_MATCH_OK);
    ck_assert(m.params[0].ival == 7);
    ck_assert_int_eq(match("GET", "/items/-0", &m), SL_MATCH_OK);
    ck_assert(m.params[0].ival == 0);

    ck_assert_int_eq(match("GET", "/items/9223372036854775807", &m),
                     SL_MATCH_OK);
    ck_assert(m.params[0].ival == INT64_MAX);
    ck_assert_int_eq(match("GET", "/items/-9223372036854775808", &m),
                     SL_MATCH_OK);
    ck_assert(m.params[0].ival == INT64_MIN);
}
END_TEST

START_TEST(test_int_param_bad)
{
    static const char *bad[] = {
        "/items/9223372036854775808", "/items/-9223372036854775809",
        "/items/99999999999999999999", "/items/00000000000000000001",
        "/items/+1", "/items/-", "/items/1a", "/items/ 1", "/items/1 ",
        "/items/abc", "/items/--1", "/items/0x10",
    };
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/items/{id:int}", T(0), NULL, 0), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(match("GET", bad[i], &m) == SL_MATCH_BAD_PARAM,
                      "%s not 422", bad[i]);
        ck_assert_str_eq(m.bad_param, "id");
        ck_assert_str_eq(m.bad_reason, "value is not a valid integer");
        ck_assert_ptr_null(m.target);
    }
    /* An empty segment is not a parameter at all: 404. */
    ck_assert_int_eq(match("GET", "/items/", &m), SL_MATCH_NOT_FOUND);
    /* Shape must match past the bad int too. */
    ck_assert_int_eq(match("GET", "/items/x/y", &m), SL_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(test_path_param)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/files/{rest:path}", T(0), NULL, 0), 0);
    ck_assert_int_eq(match("GET", "/files/a", &m), SL_MATCH_OK);
    assert_param(&m, 0, "rest", "a");
    ck_assert_int_eq(m.params[0].type, SL_PARAM_PATH);
    ck_assert_int_eq(match("GET", "/files/a/b/c.txt", &m), SL_MATCH_OK);
    assert_param(&m, 0, "rest", "a/b/c.txt");
    ck_assert_int_eq(match("GET", "/files/a/", &m), SL_MATCH_OK);
    assert_param(&m, 0, "rest", "a/");
    ck_assert_int_eq(match("GET", "/files/", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/files", &m), SL_MATCH_NOT_FOUND);
}
END_TEST

/* "/items/new" beats "/items/{id}" in either order of registration. */
START_TEST(test_literal_beats_param)
{
    for (int order = 0; order < 2; order++) {
        sl_router_free(r);
        r = sl_router_new();
        if (order == 0) {
            ck_assert_int_eq(sl_router_add(r, "GET", "/items/{id}", T(0), NULL, 0), 0);
            ck_assert_int_eq(sl_router_add(r, "GET", "/items/new", T(1), NULL, 0), 0);
        } else {
            ck_assert_int_eq(sl_router_add(r, "GET", "/items/new", T(1), NULL, 0), 0);
            ck_assert_int_eq(sl_router_add(r, "GET", "/items/{id}", T(0), NULL, 0), 0);
        }
        ck_assert_ptr_eq(matched_handler("GET", "/items/new"), &tag[1]);
        ck_assert_ptr_eq(matched_handler("GET", "/items/old"), &tag[0]);
    }
}
END_TEST

START_TEST(test_specificity_order)
{
    /* Registered least specific first. */
    ck_assert_int_eq(sl_router_add(r, "GET", "/f/{rest:path}", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/f/{s}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/f/{n:int}", T(2), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/f/x", T(3), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/f/{a}/{b}", T(4), NULL, 0), 0);

    ck_assert_ptr_eq(matched_handler("GET", "/f/x"), &tag[3]);
    ck_assert_ptr_eq(matched_handler("GET", "/f/12"), &tag[2]);
    ck_assert_ptr_eq(matched_handler("GET", "/f/y"), &tag[1]);
    ck_assert_ptr_eq(matched_handler("GET", "/f/y/z"), &tag[4]);
    ck_assert_ptr_eq(matched_handler("GET", "/f/y/z/w"), &tag[0]);

    /* A literal early beats a literal later. */
    ck_assert_int_eq(sl_router_add(r, "GET", "/g/{a}/lit", T(5), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/g/lit/{b}", T(6), NULL, 0), 0);
    ck_assert_ptr_eq(matched_handler("GET", "/g/lit/lit"), &tag[6]);
}
END_TEST

START_TEST(test_methods)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/r", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "POST", "/r", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "*", "/any", T(2), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "HEAD", "/h", T(3), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/h", T(4), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "*", "/h", T(5), NULL, 0), 0);

    ck_assert_ptr_eq(matched_handler("GET", "/r"), &tag[0]);
    ck_assert_ptr_eq(matched_handler("HEAD", "/r"), &tag[0]);
    ck_assert_ptr_eq(matched_handler("POST", "/r"), &tag[1]);
    ck_assert_ptr_eq(matched_handler("DELETE", "/any"), &tag[2]);
    ck_assert_ptr_eq(matched_handler("GET", "/any"), &tag[2]);
    /* Exact method, then GET for HEAD, then "*". */
    ck_assert_ptr_eq(matched_handler("HEAD", "/h"), &tag[3]);
    ck_assert_ptr_eq(matched_handler("GET", "/h"), &tag[4]);
    ck_assert_ptr_eq(matched_handler("PUT", "/h"), &tag[5]);
    /* Methods are case-sensitive. */
    ck_assert_int_eq(match("get", "/r", &m), SL_MATCH_BAD_METHOD);
}
END_TEST

START_TEST(test_bad_method_allow)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/r", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "POST", "/r", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "DELETE", "/r/{id:int}", T(2), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "PUT", "/r/{name}", T(3), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "HEAD", "/h", T(4), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/h", T(5), NULL, 0), 0);

    ck_assert_int_eq(match("PUT", "/r", &m), SL_MATCH_BAD_METHOD);
    ck_assert_str_eq(m.allow, "GET, HEAD, POST");
    ck_assert_ptr_null(m.target);

    /* Union over every shape that matches the path. */
    ck_assert_int_eq(match("GET", "/r/5", &m), SL_MATCH_BAD_METHOD);
    ck_assert_str_eq(m.allow, "DELETE, PUT");
    ck_assert_int_eq(match("GET", "/r/x", &m), SL_MATCH_BAD_METHOD);
    ck_assert_str_eq(m.allow, "PUT");

    /* HEAD listed once even with an explicit HEAD route. */
    ck_assert_int_eq(match("POST", "/h", &m), SL_MATCH_BAD_METHOD);
    ck_assert_str_eq(m.allow, "HEAD, GET");
}
END_TEST

/* Allow stays NUL-terminated and whole tokens within 128 bytes. */
START_TEST(test_allow_overflow)
{
    sl_match m;
    char method[32];

    for (int i = 0; i < 20; i++) {
        snprintf(method, sizeof(method), "METHOD%02dXXXXXXXXXX", i);
        ck_assert_int_eq(sl_router_add(r, method, "/x", T(0), NULL, 0), 0);
    }
    ck_assert_int_eq(match("GET", "/x", &m), SL_MATCH_BAD_METHOD);
    ck_assert_ptr_nonnull(memchr(m.allow, '\0', sizeof(m.allow)));
    size_t len = strlen(m.allow);
    ck_assert_uint_lt(len, sizeof(m.allow));
    /* 18-char tokens + ", ": 6 fit (6*18 + 5*2 = 118). */
    ck_assert_uint_eq(len, 118);
    ck_assert(strncmp(m.allow + len - 18, "METHOD05", 8) == 0);
}
END_TEST

/* OK beats 405 beats 422 beats 404. */
START_TEST(test_precedence)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/p/{id:int}", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "POST", "/p/{name}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/q/{id:int}", T(2), NULL, 0), 0);

    /* The int route matches: OK even though POST /p/{name} also fits. */
    ck_assert_ptr_eq(matched_handler("GET", "/p/3"), &tag[0]);
    /* Not an int: the str route matches the path with POST only: 405. */
    ck_assert_int_eq(match("GET", "/p/abc", &m), SL_MATCH_BAD_METHOD);
    ck_assert_str_eq(m.allow, "POST");
    ck_assert_ptr_eq(matched_handler("POST", "/p/abc"), &tag[1]);
    /* Only the int route has this shape: 422, whatever the method. */
    ck_assert_int_eq(match("GET", "/q/abc", &m), SL_MATCH_BAD_PARAM);
    ck_assert_str_eq(m.bad_param, "id");
    ck_assert_str_eq(m.pattern, "/q/{id:int}");
    ck_assert_int_eq(match("POST", "/q/abc", &m), SL_MATCH_BAD_PARAM);
    /* Nothing: 404. */
    ck_assert_int_eq(match("GET", "/z/abc", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/q", &m), SL_MATCH_NOT_FOUND);
}
END_TEST

/* A declared route checks every parameter of the route whose {x:int}
 * did not convert: the router names that route and fills its parameters. */
START_TEST(test_bad_param_target)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/a/{name}/{id:int}", T(3), NULL, 0), 0);
    ck_assert_int_eq(match("GET", "/a/bob/x1", &m), SL_MATCH_BAD_PARAM);
    ck_assert_ptr_null(m.target);
    ck_assert_ptr_nonnull(m.bad_target);
    ck_assert_ptr_eq(m.bad_target->handler, &tag[3]);
    ck_assert_int_eq(m.nparams, 2);
    ck_assert_str_eq(m.params[0].name, "name");
    ck_assert_int_eq(m.params[0].len, 3);
    ck_assert(memcmp(m.params[0].value, "bob", 3) == 0);
    ck_assert_str_eq(m.params[1].name, "id");
    ck_assert(memcmp(m.params[1].value, "x1", 2) == 0);
    /* a match, a 404 and a 405 name no bad route */
    ck_assert_int_eq(match("GET", "/a/bob/1", &m), SL_MATCH_OK);
    ck_assert_ptr_null(m.bad_target);
    ck_assert_int_eq(match("GET", "/b", &m), SL_MATCH_NOT_FOUND);
    ck_assert_ptr_null(m.bad_target);
    ck_assert_int_eq(m.nparams, 0);
    ck_assert_ptr_eq(sl_router_target_at(r, 0)->handler, &tag[3]);
    ck_assert_ptr_null(sl_router_target_at(r, 1));
}
END_TEST

START_TEST(test_pattern_params)
{
    sl_pattern_param pp[SL_ROUTER_MAX_PARAMS];
    char why[128];
    int n = -1;

    ck_assert_int_eq(sl_pattern_params("/a/{x}/b/{id:int}/{rest:path}", pp, &n, why,
                                       sizeof why), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(pp[0].name, "x");
    ck_assert_int_eq(pp[0].type, SL_PARAM_STR);
    ck_assert_str_eq(pp[1].name, "id");
    ck_assert_int_eq(pp[1].type, SL_PARAM_INT);
    ck_assert_str_eq(pp[2].name, "rest");
    ck_assert_int_eq(pp[2].type, SL_PARAM_PATH);
    ck_assert_int_eq(sl_pattern_params("/plain", pp, &n, why, sizeof why), 0);
    ck_assert_int_eq(n, 0);
    /* what sl_router_add() refuses, for the same reason */
    ck_assert_int_eq(sl_pattern_params("/a/{id", pp, &n, why, sizeof why), -EINVAL);
    ck_assert_str_eq(why, "unbalanced '{'");
    ck_assert_int_eq(sl_pattern_params("a", pp, &n, why, sizeof why), -EINVAL);
    ck_assert_str_eq(why, "the pattern does not start with '/'");
    ck_assert_int_eq(sl_pattern_params("/{x:float}", pp, &n, why, sizeof why), -EINVAL);
    ck_assert_str_eq(why, "unknown type 'float' (str, int or path)");
    char longname[100] = "/{";
    memset(longname + 2, 'a', 70);
    strcpy(longname + 72, "}");
    ck_assert_int_eq(sl_pattern_params(longname, pp, &n, why, sizeof why), -EINVAL);
    ck_assert_str_eq(why, "parameter name 'aaaaaaaaaaaaaaaaaaaa...' is longer than 63 bytes");
}
END_TEST

START_TEST(test_bad_param_second)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/a/{x:int}/b/{y:int}", T(0), NULL, 0),
                     0);
    ck_assert_int_eq(match("GET", "/a/1/b/zz", &m), SL_MATCH_BAD_PARAM);
    ck_assert_str_eq(m.bad_param, "y");
    ck_assert_int_eq(match("GET", "/a/q/b/zz", &m), SL_MATCH_BAD_PARAM);
    ck_assert_str_eq(m.bad_param, "x");
    ck_assert_int_eq(match("GET", "/a/q/c/zz", &m), SL_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(test_target_stable)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/first", T(0), NULL, 0), 0);
    ck_assert_int_eq(match("GET", "/first", &m), SL_MATCH_OK);
    const sl_route_target *t = m.target;
    for (int i = 0; i < 100; i++) {
        char pat[32];
        snprintf(pat, sizeof(pat), "/r%d", i);
        ck_assert_int_eq(sl_router_add(r, "GET", pat, T(1), NULL, 0), 0);
    }
    ck_assert_int_eq(match("GET", "/first", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target, t);
    ck_assert_ptr_eq(matched_handler("GET", "/r99"), &tag[1]);
}
END_TEST

/* "/u/{id:int}" and "/u/{name}" both fit "/u/42": int wins, as sluice.h
 * documents, in either order of registration; a literal beats both. */
START_TEST(test_int_beats_str)
{
    for (int order = 0; order < 2; order++) {
        sl_router_free(r);
        r = sl_router_new();
        if (order == 0) {
            ck_assert_int_eq(sl_router_add(r, "GET", "/u/{id:int}", T(0), NULL, 0), 0);
            ck_assert_int_eq(sl_router_add(r, "GET", "/u/{name}", T(1), NULL, 0), 0);
            ck_assert_int_eq(sl_router_add(r, "GET", "/u/me", T(2), NULL, 0), 0);
        } else {
            ck_assert_int_eq(sl_router_add(r, "GET", "/u/me", T(2), NULL, 0), 0);
            ck_assert_int_eq(sl_router_add(r, "GET", "/u/{name}", T(1), NULL, 0), 0);
            ck_assert_int_eq(sl_router_add(r, "GET", "/u/{id:int}", T(0), NULL, 0), 0);
        }
        ck_assert_ptr_eq(matched_handler("GET", "/u/42"), &tag[0]);
        ck_assert_ptr_eq(matched_handler("GET", "/u/-1"), &tag[0]);
        ck_assert_ptr_eq(matched_handler("GET", "/u/bob"), &tag[1]);
        /* Not an int: the str route takes it, no 422. */
        ck_assert_ptr_eq(matched_handler("GET", "/u/1x"), &tag[1]);
        ck_assert_ptr_eq(matched_handler("GET", "/u/me"), &tag[2]);
    }
}
END_TEST

/* ---- encoded slashes ---------------------------------------------------- */

#define ENC(i) (&(sl_route_target){ .handler = &tag[i], \
                                    .flags = SL_ROUTER_ENCODED_SLASH })

/* Match a normalised path whose encoded slashes are marked by '^' under
 * them in `marks`; the path and the offsets in exact-size heap blocks. */
static int match_marked(const char *method, const char *path,
                        const char *marks, sl_match *m)
{
    size_t len = strlen(path), n = 0;
    uint32_t *enc = malloc(len * sizeof *enc);
    char *copy = malloc(len);
    ck_assert_ptr_nonnull(enc);
    ck_assert_ptr_nonnull(copy);
    for (size_t i = 0; marks[i] != '\0'; i++)
        if (marks[i] == '^') {
            ck_assert_int_eq(path[i], '/');
            enc[n++] = (uint32_t)i;
        }
    memcpy(copy, path, len);
    int rc = sl_router_match(r, method, copy, len, n ? enc : NULL, n, m);
    for (int i = 0; rc == SL_MATCH_OK && i < m->nparams; i++)
        m->params[i].value = path + (m->params[i].value - copy);
    free(copy);
    free(enc);
    return rc;
}

START_TEST(test_encoded_slash)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/u/{name}", T(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/f/{rest:path}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/e/{name}", ENC(2), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/i/{id:int}", T(3), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/u/a/b", T(4), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/w/{rest:path}", T(5), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/w/{one}", T(6), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "GET", "/g/{x}/{y}", ENC(7), NULL, 0), 0);

    /* "/u/a%2Fb": the segments "u" and "a/b".  Not {name} without the
     * flag, and not the literal "/u/a/b" either. */
    ck_assert_int_eq(match_marked("GET", "/u/a/b", "    ^", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_marked("GET", "/u/a/b", "", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target->handler, &tag[4]);
    ck_assert_int_eq(match_marked("GET", "/u/ab", "", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target->handler, &tag[0]);
    /* With the flag, the value holds the slash. */
    ck_assert_int_eq(match_marked("GET", "/e/a/b", "    ^", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target->handler, &tag[2]);
    assert_param(&m, 0, "name", "a/b");
    ck_assert_int_eq(match_marked("GET", "/e/a/b/c", "    ^ ^", &m), SL_MATCH_OK);
    assert_param(&m, 0, "name", "a/b/c");
    /* A real slash still separates: three segments are not "/e/{name}". */
    ck_assert_int_eq(match_marked("GET", "/e/a/b/c", "    ^", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_marked("GET", "/g/a/b/c", "    ^", &m), SL_MATCH_OK);
    assert_param(&m, 0, "x", "a/b");
    assert_param(&m, 1, "y", "c");
    ck_assert_int_eq(match_marked("GET", "/g/a/b/c", "      ^", &m), SL_MATCH_OK);
    assert_param(&m, 0, "x", "a");
    assert_param(&m, 1, "y", "b/c");
    /* {rest:path} always may. */
    ck_assert_int_eq(match_marked("GET", "/f/a/b", "    ^", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target->handler, &tag[1]);
    assert_param(&m, 0, "rest", "a/b");
    /* The one-segment route refuses it, the path route behind it takes it. */
    ck_assert_int_eq(match_marked("GET", "/w/a/b", "    ^", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target->handler, &tag[5]);
    ck_assert_int_eq(match_marked("GET", "/w/ab", "", &m), SL_MATCH_OK);
    ck_assert_ptr_eq(m.target->handler, &tag[6]);
    /* Not the route's shape: 404, not 422. */
    ck_assert_int_eq(match_marked("GET", "/i/1/2", "    ^", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_marked("GET", "/i/12", "", &m), SL_MATCH_OK);
    /* An encoded slash in a literal segment or before the parameter. */
    ck_assert_int_eq(match_marked("GET", "/u/bob", "  ^", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_marked("GET", "/f/x", "  ^", &m), SL_MATCH_NOT_FOUND);
    /* An encoded slash at the end of a segment. */
    ck_assert_int_eq(match_marked("GET", "/u/a/", "    ^", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_marked("GET", "/e/a/", "    ^", &m), SL_MATCH_OK);
    assert_param(&m, 0, "name", "a/");
}
END_TEST

START_TEST(test_encoded_slash_status)
{
    sl_match m;

    ck_assert_int_eq(sl_router_add(r, "GET", "/n/{id:int}", ENC(0), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "POST", "/p/{name}", T(1), NULL, 0), 0);
    ck_assert_int_eq(sl_router_add(r, "POST", "/q/{name}", ENC(2), NULL, 0), 0);

    /* With the flag the shape matches and "1/2" is not an int: 422. */
    ck_assert_int_eq(match_marked("GET", "/n/1/2", "    ^", &m), SL_MATCH_BAD_PARAM);
    ck_assert_str_eq(m.bad_param, "id");
    /* Without it the path has no route at all: 404, not 405. */
    ck_assert_int_eq(match_marked("GET", "/p/a/b", "    ^", &m), SL_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_marked("GET", "/p/ab", "", &m), SL_MATCH_BAD_METHOD);
    /* With it, a 405 lists the route's method. */
    ck_assert_int_eq(match_marked("GET", "/q/a/b", "    ^", &m), SL_MATCH_BAD_METHOD);
    ck_assert_str_eq(m.allow, "POST");
    /* Offsets that are no slash of the path change nothing. */
    uint32_t junk[] = { 1, 3, 4, 7 };
    ck_assert_int_eq(sl_router_match(r, "POST", "/p/ab", 5, junk, 4, &m), SL_MATCH_OK);
    ck_assert_int_eq(sl_router_match(r, "POST", "/p/ab", 5, NULL, 3, &m), SL_MATCH_OK);
}
END_TEST

/* ---- why a route is refused --------------------------------------------- */

static void expect_reason(const char *method, const char *pattern, int rc,
                          const char *why)
{
    char buf[160];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(sl_router_add(r, method, pattern, T(0), buf, sizeof buf), rc);
    ck_assert_msg(strcmp(buf, why) == 0, "%s %s: '%s', want '%s'", method,
                  pattern, buf, why);
}

START_TEST(test_add_reasons)
{
    static const struct { const char *pattern, *why; } cases[] = {
        { "items", "the pattern does not start with '/'" },
        { "", "the pattern does not start with '/'" },
        { "/{", "unbalanced '{'" },
        { "/}", "unbalanced '}'" },
        { "/{id", "unbalanced '{'" },
        { "/id}", "unbalanced '}'" },
        { "/a/{id/b", "unbalanced '{'" },
        { "/{}", "empty parameter name" },
        { "/{:int}", "empty parameter name" },
        { "/{id:}", "empty type after ':' in '{id:}'" },
        { "/{id:x}", "unknown type 'x' (str, int or path)" },
        { "/{id:float}", "unknown type 'float' (str, int or path)" },
        { "/{id:int:x}", "unknown type 'int:x' (str, int or path)" },
        { "/a{id}", "a parameter must be a whole segment ('a{id}')" },
        { "/{id}b", "a parameter must be a whole segment ('{id}b')" },
        { "/{a}{b}", "braces inside a parameter ('{a}{b}')" },
        { "/{{id}}", "braces inside a parameter ('{{id}}')" },
        { "/{a-b}", "parameter name 'a-b' is not letters, digits and '_'" },
        { "/{rest:path}/x", "{rest:path} must be the last segment" },
        { "/{a}/{a}", "parameter name 'a' used twice" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_reason("GET", cases[i].pattern, -EINVAL, cases[i].why);

    char pat[512] = "";
    for (int i = 0; i <= SL_ROUTER_MAX_PARAMS; i++) {
        char seg[16];
        snprintf(seg, sizeof(seg), "/{p%d}", i);
        strcat(pat, seg);
    }
    expect_reason("GET", pat, -EINVAL, "more than 16 parameters");
    expect_reason("G T", "/", -EINVAL, "the method is not an HTTP token (nor \"*\")");
    expect_reason("", "/", -EINVAL, "the method is not an HTTP token (nor \"*\")");

    /* Accepted: the buffer is emptied.  A duplicate names the first. */
    expect_reason("GET", "/u/{id:int}", 0, "");
    expect_reason("GET", "/u/{n:int}", -EEXIST, "duplicate of GET /u/{id:int}");
    expect_reason("*", "/u/{id:int}", 0, "");
    expect_reason("*", "/u/{x:int}", -EEXIST, "duplicate of * /u/{id:int}");
    expect_reason("GET", "/u/{name}", 0, "");

    /* A short buffer gets a cut, terminated line; none, nothing. */
    char small[9];
    ck_assert_int_eq(sl_router_add(r, "GET", "/{", T(0), small, sizeof small), -EINVAL);
    ck_assert_str_eq(small, "unbalanc");
    small[0] = 'z';
    ck_assert_int_eq(sl_router_add(r, "GET", "/{", T(0), small, 0), -EINVAL);
    ck_assert_int_eq(small[0], 'z');
    ck_assert_int_eq(sl_router_add(r, "GET", "/{", T(0), NULL, 0), -EINVAL);
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_add_malformed);
    tcase_add_test(tc, test_add_max_params);
    tcase_add_test(tc, test_add_duplicate);
    tcase_add_test(tc, test_pattern_copied);
    tcase_add_test(tc, test_literals);
    tcase_add_test(tc, test_str_param);
    tcase_add_test(tc, test_int_param);
    tcase_add_test(tc, test_int_param_bad);
    tcase_add_test(tc, test_path_param);
    tcase_add_test(tc, test_literal_beats_param);
    tcase_add_test(tc, test_specificity_order);
    tcase_add_test(tc, test_methods);
    tcase_add_test(tc, test_bad_method_allow);
    tcase_add_test(tc, test_allow_overflow);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_bad_param_second);
    tcase_add_test(tc, test_bad_param_target);
    tcase_add_test(tc, test_pattern_params);
    tcase_add_test(tc, test_target_stable);
    tcase_add_test(tc, test_int_beats_str);
    tcase_add_test(tc, test_encoded_slash);
    tcase_add_test(tc, test_encoded_slash_status);
    tcase_add_test(tc, test_add_reasons);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
