#!/usr/bin/env python3
"""Declared routes in an application built as a user builds one
(t.build_app), served behind nginx:

  - every getter on every type (str, int, num, bool, SL_MULTI, has, count,
    the _at forms), defaults, optional values, the route's user pointer and
    success status, on a loop and on a pool handler;
  - header names matched case-insensitively, cookies parsed as Starlette
    parses them, repeated query parameters, a {x} path parameter declared
    an integer with a bound, choices and a pattern;
  - a body: optional, $ref to a schema read from a file, 415;
  - a getter used wrongly (undeclared name, wrong type, past the count):
    a 500 and one log line naming the route and the name;
  - the error format: FastAPI's by default with records, problem+json by
    default without, either when set; the app's error handler replacing
    404, 422 and 504 bodies, and sluice's own answer when the handler fails;
  - a malformed declaration: sluice exits 1 at start with the reason, and
    --check-config reports it.
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP = r'''
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sluice.h>

static const char *const colors[] = {"red", "green", "blue", NULL};

static const sl_param_def all_params[] = {
    { .name = "id", .in = SL_IN_PATH, .type = SL_T_INT, .le = "1000" },
    { .name = "i", .in = SL_IN_QUERY, .type = SL_T_INT, .flags = SL_REQUIRED },
    { .name = "s", .in = SL_IN_QUERY, .pattern = "^[a-z]+$" },
    { .name = "n", .in = SL_IN_QUERY, .type = SL_T_NUM, .gt = "0", .dflt = "1.5" },
    { .name = "b", .in = SL_IN_QUERY, .type = SL_T_BOOL, .dflt = "false" },
    { .name = "ints", .in = SL_IN_QUERY, .type = SL_T_INT, .flags = SL_MULTI,
      .max_items = 3 },
    { .name = "bools", .in = SL_IN_QUERY, .type = SL_T_BOOL, .flags = SL_MULTI,
      .dflt = "[true]" },
    { .name = "nums", .in = SL_IN_QUERY, .type = SL_T_NUM, .flags = SL_MULTI,
      .dflt = "[]" },
    { .name = "color", .in = SL_IN_QUERY, .choices = colors, .dflt = "red" },
    { .name = "X-Token", .in = SL_IN_HEADER, .flags = SL_REQUIRED, .min_length = 3 },
    { .name = "x-opt", .in = SL_IN_HEADER, .type = SL_T_INT },
    { .name = "session", .in = SL_IN_COOKIE, .flags = SL_REQUIRED },
    { .name = "theme", .in = SL_IN_COOKIE, .dflt = "light" },
    { .name = NULL }
};

static int all(sl_req *req)
{
    json_object *o = json_object_new_object(), *a;
    json_object_object_add(o, "id", json_object_new_int64(sl_arg_int(req, "id")));
    json_object_object_add(o, "i", json_object_new_int64(sl_arg_int(req, "i")));
    json_object_object_add(o, "s", sl_arg_has(req, "s") ?
                           json_object_new_string(sl_arg_str(req, "s")) : NULL);
    json_object_object_add(o, "s_null", json_object_new_boolean(sl_arg_str(req, "s") == NULL));
    json_object_object_add(o, "n", json_object_new_double(sl_arg_num(req, "n")));
    json_object_object_add(o, "b", json_object_new_boolean(sl_arg_bool(req, "b")));
    a = json_object_new_array();
    for (size_t k = 0; k < sl_arg_count(req, "ints"); k++)
        json_object_array_add(a, json_object_new_int64(sl_arg_int_at(req, "ints", k)));
    json_object_object_add(o, "ints", a);
    json_object_object_add(o, "ints_has", json_object_new_boolean(sl_arg_has(req, "ints")));
    a = json_object_new_array();
    for (size_t k = 0; k < sl_arg_count(req, "bools"); k++)
        json_object_array_add(a, json_object_new_boolean(sl_arg_bool_at(req, "bools", k)));
    json_object_object_add(o, "bools", a);
    a = json_object_new_array();
    for (size_t k = 0; k < sl_arg_count(req, "nums"); k++)
        json_object_array_add(a, json_object_new_double(sl_arg_num_at(req, "nums", k)));
    json_object_object_add(o, "nums", a);
    json_object_object_add(o, "color", json_object_new_string(sl_arg_str(req, "color")));
    json_object_object_add(o, "token", json_object_new_string(sl_arg_str(req, "X-Token")));
    json_object_object_add(o, "opt", sl_arg_has(req, "x-opt") ?
                           json_object_new_int64(sl_arg_int(req, "x-opt")) : NULL);
    json_object_object_add(o, "session", json_object_new_string(sl_arg_str(req, "session")));
    json_object_object_add(o, "theme", json_object_new_string(sl_arg_str(req, "theme")));
    const char *user = sl_req_route_user(req);
    json_object_object_add(o, "user", json_object_new_string(user ? user : "(none)"));
    return sl_resp_json(req, o);
}

/* Each use is a handler's bug: the answer is a 500. */
static int misuse(sl_req *req)
{
    const char *what = sl_arg_str(req, "what");
    if (strcmp(what, "undeclared") == 0)
        sl_arg_str(req, "nope");
    else if (strcmp(what, "type") == 0)
        sl_arg_int(req, "what");
    else if (strcmp(what, "multi") == 0)
        sl_arg_str(req, "tags");
    else if (strcmp(what, "past") == 0)
        sl_arg_str_at(req, "tags", 2);
    else if (strcmp(what, "problem") == 0) {
        sl_arg_str(req, "nope");
        return sl_resp_problem(req, 409, "the handler's own answer");
    }
    return sl_resp_printf(req, "fine\n");
}

static const sl_param_def misuse_params[] = {
    { .name = "tags", .in = SL_IN_QUERY, .flags = SL_MULTI, .dflt = "[\"a\",\"b\"]" },
    { .name = NULL }
};

/* sl_route(): its path parameters are declared by the pattern. */
static int plain(sl_req *req)
{
    if (sl_req_query(req, "bad") != NULL)
        sl_arg_str(req, "zzz");
    return sl_resp_printf(req, "%s %lld %d\n", sl_arg_str(req, "name"),
                          (long long)sl_arg_int(req, "n"), (int)sl_arg_has(req, "n"));
}

static const sl_param_def num_params[] = {
    { .name = "x", .in = SL_IN_PATH, .type = SL_T_INT, .ge = "10" },
    { .name = NULL }
};

static int num(sl_req *req)
{
    return sl_resp_printf(req, "%lld\n", (long long)sl_arg_int(req, "x"));
}

/* The body as validated (NULL: an optional body that is absent). */
static int body(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "body", json_object_get(sl_req_json(req)));
    if (sl_req_query(req, "status") != NULL)
        sl_resp_status(req, atoi(sl_req_query(req, "status")));
    return sl_resp_json(req, o);
}

static const char opt_body[] =
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"default\":1},"
    "\"b\":{\"type\":\"boolean\"}}}";

static int slow(sl_req *req)
{
    sleep(3);
    return sl_resp_printf(req, "late\n");
}

static const sl_route_def routes[] = {
    { .method = "GET", .pattern = "/all/{id:int}", .handler = all, .flags = SL_LOOP,
      .params = all_params, .user = "loop route" },
    { .method = "GET", .pattern = "/pool/{id:int}", .handler = all, .flags = SL_POOL,
      .params = all_params, .user = "pool route" },
    { .method = "GET", .pattern = "/misuse/{what}", .handler = misuse, .flags = SL_LOOP,
      .params = misuse_params },
    { .method = "GET", .pattern = "/num/{x}", .handler = num, .params = num_params },
    { .method = "POST", .pattern = "/opt", .handler = body, .flags = SL_LOOP | SL_BODY_OPTIONAL,
      .body = opt_body, .status = 201 },
    { .method = "POST", .pattern = "/thing", .handler = body, .flags = SL_LOOP,
      .body = "{\"$ref\":\"#/components/schemas/Thing\"}" },
    { .method = "GET", .pattern = "/slow", .handler = slow },
    { .method = NULL }
};

/* The app's error handler (HANDLER=1). */
static int on_error(sl_req *req, int status, json_object *errors)
{
    json_object *o = json_object_new_object();
    switch (status) {
    case 404:
        sl_resp_header(req, "Content-Type", "application/vnd.err+json");
        sl_resp_header(req, "X-Err", "1");
        json_object_object_add(o, "error", json_object_new_string("no such thing"));
        json_object_object_add(o, "path", json_object_new_string(sl_req_path(req)));
        return sl_resp_json(req, o);
    case 422:
        json_object_object_add(o, "count", json_object_new_int(
            errors ? (int)json_object_array_length(errors) : -1));
        return sl_resp_json(req, o);
    case 504:
        json_object_object_add(o, "late", json_object_new_string(sl_req_path(req)));
        return sl_resp_json(req, o);
    case 405:
        json_object_put(o);
        return -1;                      /* fails: sluice's own answer */
    case 415:
        json_object_put(o);
        sl_resp_header(req, "X-Seen", "415");   /* keeps sluice's body */
        return 0;
    default:
        json_object_put(o);
        return sl_resp_status(req, 200);  /* refused: the status is not its */
    }
}

int sluice_app(sl_app *app)
{
    const char *fmt = getenv("FMT");
    int rc;
    if (getenv("HANDLER") != NULL)
        sl_on_error(app, on_error);
    if (fmt != NULL)
        sl_app_set_error_format(app, strcmp(fmt, "problem") == 0 ? SL_ERRORS_PROBLEM
                                                                  : SL_ERRORS_FASTAPI);
    if (getenv("PLAIN") != NULL)
        return sl_route(app, "GET", "/plain/{name}/{n:int}", plain, SL_LOOP);
    rc = sl_route(app, "GET", "/plain/{name}/{n:int}", plain, SL_LOOP);
    if (rc == 0)
        rc = sl_schema_file(app, "Thing", "thing.json");
    return rc ? rc : sl_routes(app, routes);
}
'''

THING = {"type": "object", "title": "Thing",
         "properties": {"name": {"type": "string"},
                        "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}},
         "required": ["name"], "additionalProperties": False}

# Malformed declarations, one per build of BAD_APP (-DCASE=n): each must
# stop the start with a line naming the route and what is wrong.
BAD_APP = r'''
#include <sluice.h>
static int h(sl_req *req) { return sl_resp_printf(req, "x\n"); }
#if CASE == 1
static const sl_param_def p[] = {
    { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "0", .ge = "1" },
    { .name = NULL } };
#define ROUTE "/search"
#elif CASE == 2
static const sl_param_def p[] = {
    { .name = "id", .in = SL_IN_PATH, .type = SL_T_INT }, { .name = NULL } };
#define ROUTE "/items"
#elif CASE == 3
static const sl_param_def p[] = {
    { .name = "q", .in = SL_IN_QUERY, .pattern = "([a-z" }, { .name = NULL } };
#define ROUTE "/re"
#elif CASE == 4
static const sl_param_def p[] = {
    { .name = "q", .in = SL_IN_QUERY, .type = (sl_type)9 }, { .name = NULL } };
#define ROUTE "/type"
#elif CASE == 5
static const sl_param_def p[] = { { .name = NULL } };
#define ROUTE "/a/{id"
#elif CASE == 6
static const sl_param_def p[] = { { .name = NULL } };
#define ROUTE "/body"
#define BODY "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"strin\"}}}"
#elif CASE == 7
static const sl_param_def p[] = {
    { .name = "n", .in = SL_IN_QUERY, .type = SL_T_INT, .min_length = 2 }, { .name = NULL } };
#define ROUTE "/rule"
#endif
#ifndef BODY
#define BODY NULL
#endif
static const sl_route_def r[] = {
    { .method = "GET", .pattern = ROUTE, .handler = h, .params = p, .body = BODY },
    { .method = NULL } };
int sluice_app(sl_app *app) { return sl_routes(app, r); }
'''

BAD_CASES = [
    (1, "route GET /search refused: query parameter 'limit': default '0' is refused by its "
        "own rules: Input should be greater than or equal to 1"),
    (2, "route GET /items refused: path parameter 'id': the pattern has no {id}"),
    (3, "route GET /re refused: query parameter 'q': "),
    (4, "route GET /type refused: query parameter 'q': unknown type (9)"),
    (5, "route GET /a/{id refused: unbalanced '{'"),
    (6, "route GET /body refused: body schema: /properties/n/type"),
    (7, "route GET /rule refused: query parameter 'n': min_length applies to SL_T_STR, not int"),
]


class Server:
    """sluice with the app, started with an environment, behind nginx."""

    def __init__(self, t, app, name, env=None, args=()):
        self.sock = t.path(name + ".sock")
        e = dict(os.environ)
        e.update(env or {})
        argv = [harness.sluice_bin(), "--log-level", "info", "--workers", "1",
                "--fastcgi", "unix:" + self.sock] + list(args) + [app]
        self.proc = t.spawn(name, argv, env=e)
        harness.wait_until(lambda: harness.unix_connects(self.sock) or not self.proc.alive(), 10)
        if not harness.unix_connects(self.sock):
            raise RuntimeError("%s did not start:\n%s" % (name, harness.tail(self.proc.log_text())))
        self.port, _ = t.start_nginx(fcgi_sock=self.sock)
        self.client = harness.HTTPClient(self.port)

    def get(self, target, headers=None):
        return self.client.request("GET", target, headers=headers or {})

    def post(self, target, body, ctype="application/json"):
        h = {"Content-Type": ctype} if ctype else {}
        return self.client.request("POST", target, body=body, headers=h)


GOOD_HEADERS = {"X-Token": "abc", "Cookie": "session=s1"}


def err(typ, loc, msg, inp, ctx=None):
    e = {"type": typ, "loc": loc, "msg": msg, "input": inp}
    if ctx is not None:
        e["ctx"] = ctx
    return e


def check_getters(t, s):
    for path, user in (("/all", "loop route"), ("/pool", "pool route")):
        r = s.get(path + "/7?i=3", GOOD_HEADERS)
        t.eq((r.status, r.json() if r.status == 200 else r.body), (200, {
            "id": 7, "i": 3, "s": None, "s_null": True, "n": 1.5, "b": False, "ints": [],
            "ints_has": False, "bools": [True], "nums": [], "color": "red", "token": "abc",
            "opt": None, "session": "s1", "theme": "light", "user": user}),
             "%s: defaults filled, optional values absent, the route's user pointer" % path)
    r = s.get("/all/1000?i=%2B4&s=abc&n=2.25&b=YES&ints=1&ints=%202&bools=off&bools=1"
              "&nums=1e3&nums=.5&color=blue",
              {"x-token": "xyz", "X-OPT": " 12 ",
               "Cookie": 'theme="dark \\"mode\\"\\054x"; session=old;  session = s2 ; junk'})
    t.eq((r.status, r.json() if r.status == 200 else r.body), (200, {
        "id": 1000, "i": 4, "s": "abc", "s_null": False, "n": 2.25, "b": True, "ints": [1, 2],
        "ints_has": True, "bools": [False, True], "nums": [1000.0, 0.5], "color": "blue",
        "token": "xyz", "opt": 12, "session": "s2", "theme": 'dark "mode",x',
        "user": "loop route"}),
         "every value given: converted as Pydantic's lax mode; headers in any case; "
         "cookies as Starlette parses them (quotes, \\054, last of a name)")


def check_errors_422(t, s):
    # (Pydantic reports a list too long alone, whatever its items.)
    r = s.get("/all/1001?s=ABC&n=0&b=maybe&ints=1&ints=x&ints=3&ints=4&color=pink",
              {"X-Token": "ab", "X-Opt": "many"})
    want = [
        err("less_than_equal", ["path", "id"], "Input should be less than or equal to 1000",
            "1001", {"le": 1000}),
        err("missing", ["query", "i"], "Field required", None),
        err("string_pattern_mismatch", ["query", "s"], "String should match pattern '^[a-z]+$'",
            "ABC", {"pattern": "^[a-z]+$"}),
        err("greater_than", ["query", "n"], "Input should be greater than 0", "0", {"gt": 0.0}),
        err("bool_parsing", ["query", "b"], "Input should be a valid boolean, unable to "
            "interpret input", "maybe"),
        err("too_long", ["query", "ints"], "List should have at most 3 items after "
            "validation, not 4", ["1", "x", "3", "4"],
            {"field_type": "List", "max_length": 3, "actual_length": 4}),
        err("enum", ["query", "color"], "Input should be 'red', 'green' or 'blue'", "pink",
            {"expected": "'red', 'green' or 'blue'"}),
        err("string_too_short", ["header", "X-Token"], "String should have at least 3 "
            "characters", "ab", {"min_length": 3}),
        err("int_parsing", ["header", "x-opt"], "Input should be a valid integer, unable to "
            "parse string as an integer", "many"),
        err("missing", ["cookie", "session"], "Field required", None),
    ]
    got = r.json().get("detail") if r.status == 422 else r.body
    t.eq(r.status, 422, "every input wrong: 422")
    if isinstance(got, list) and len(got) == len(want):
        for g, w in zip(got, want):
            t.eq(g, w, "the 422 lists %s at %s, in FastAPI's order" % (w["type"], w["loc"]))
    else:
        t.eq(got, want, "the 422 lists every error in FastAPI's order")
    r = s.get("/all/1?i=1&ints=5&ints=x", GOOD_HEADERS)
    t.eq(r.json(), {"detail": [err("int_parsing", ["query", "ints", 1], "Input should be a "
                                   "valid integer, unable to parse string as an integer", "x")]},
         "SL_MULTI: a value that does not convert is reported at its index")
    r = s.get("/all/1?i=1", {"Cookie": "session=a"})
    t.eq(r.json(), {"detail": [err("missing", ["header", "X-Token"], "Field required", None)]},
         "a missing header is reported under its declared name")
    r = s.get("/num/abc")
    t.eq((r.status, r.json()), (422, {"detail": [err(
        "int_parsing", ["path", "x"], "Input should be a valid integer, unable to parse "
        "string as an integer", "abc")]}), "{x} declared SL_T_INT: /num/abc is int_parsing")
    r = s.get("/num/5")
    t.eq((r.status, r.json()), (422, {"detail": [err(
        "greater_than_equal", ["path", "x"], "Input should be greater than or equal to 10",
        "5", {"ge": 10})]}), "{x} declared SL_T_INT with ge 10: /num/5")
    r = s.get("/num/%2B12")
    t.eq((r.status, r.body), (200, b"12\n"), "{x} declared SL_T_INT: /num/+12 is 12 (lax)")
    r = s.get("/all/abc?i=x", GOOD_HEADERS)
    t.eq((r.status, [e["loc"] for e in r.json()["detail"]]),
         (422, [["path", "id"], ["query", "i"]]),
         "an {id:int} that is not an integer is listed with the other errors")


def check_bodies(t, s):
    r = s.post("/opt", b"", None)
    t.eq((r.status, r.json()), (201, {"body": None}),
         "SL_BODY_OPTIONAL, absent: sl_req_json() is NULL; the declared status 201")
    r = s.post("/opt", b'{"b":"yes","c":1}')
    t.eq((r.status, r.json()), (201, {"body": {"a": 1, "b": True}}),
         "the body validated: the default filled, 'yes' a bool, an undeclared field dropped")
    r = s.post("/opt?status=202", b"{}")
    t.eq(r.status, 202, "the handler's own status beats the declared one")
    r = s.post("/opt", b"a=1", "application/x-www-form-urlencoded")
    t.eq((r.status, r.media_type), (415, "application/json"), "a form body: 415")
    r = s.post("/thing", b'{"name":"a","parts":[{"name":"b","parts":[{"x":1}]}]}')
    t.eq((r.status, r.json()), (422, {"detail": [
        err("missing", ["body", "parts", 0, "parts", 0, "name"], "Field required", {"x": 1}),
        err("extra_forbidden", ["body", "parts", 0, "parts", 0, "x"],
            "Extra inputs are not permitted", 1)]}),
         "a $ref to a schema read from a file, recursive: nested locs")
    r = s.post("/thing", b'{"name":"a","parts":[{"name":"b"}]}')
    t.eq((r.status, r.json()), (200, {"body": {"name": "a", "parts": [{"name": "b"}]}}),
         "a valid recursive body")


def check_misuse(t, s):
    cases = [("undeclared", 'sl_arg_str("nope") on GET /misuse/{what}: the route declares '
                            'no such parameter'),
             ("type", 'sl_arg_int("what") on GET /misuse/{what}: it is declared SL_T_STR'),
             ("multi", 'sl_arg_str("tags") on GET /misuse/{what}: it is declared SL_T_STR '
                       '| SL_MULTI'),
             ("past", 'sl_arg_str_at("tags", 2) on GET /misuse/{what}: it has 2 values')]
    for what, line in cases:
        before = s.proc.log_text().count(line)
        r = s.get("/misuse/" + what)
        t.eq(r.status, 500, "a getter misused (%s): 500" % what, r)
        harness.wait_until(lambda: s.proc.log_text().count(line) > before, 5)
        t.eq(s.proc.log_text().count(line) - before, 1,
             "a getter misused (%s): one log line names the route and the name" % what,
             harness.tail(s.proc.log_text(), 5))
    r = s.get("/misuse/problem")
    t.eq(r.status, 409, "a misuse followed by sl_resp_problem(): the handler's answer")
    r = s.get("/misuse/ok")
    t.eq((r.status, r.body), (200, b"fine\n"), "the getters used rightly: 200")
    r = s.get("/plain/bob/42")
    t.eq((r.status, r.body), (200, b"bob 42 1\n"),
         "sl_route(): sl_arg_str and sl_arg_int read the pattern's parameters")
    r = s.get("/plain/bob/42?bad=1")
    t.eq(r.status, 500, "sl_route(): an undeclared name is a 500 too")


def check_formats(t, app):
    s = Server(t, app, "default")
    r = s.get("/nowhere")
    t.eq((r.status, r.media_type, r.json()),
         (404, "application/problem+json", {"type": "about:blank", "title": "Not Found",
                                            "status": 404}),
         "records, no format set: the 404 stays problem+json (only bad input is FastAPI's)")
    check_getters(t, s)
    check_errors_422(t, s)
    check_bodies(t, s)
    check_misuse(t, s)
    s.proc.stop()

    s = Server(t, app, "problem", {"FMT": "problem"})
    r = s.get("/nowhere")
    t.eq((r.status, r.media_type, r.json()),
         (404, "application/problem+json", {"type": "about:blank", "title": "Not Found",
                                            "status": 404}),
         "SL_ERRORS_PROBLEM: the 404 is problem+json")
    r = s.get("/all/1?i=z", GOOD_HEADERS)
    t.eq((r.status, r.media_type, r.json()), (422, "application/problem+json", {
        "type": "about:blank", "title": "Unprocessable Content", "status": 422,
        "detail": "1 error in the request's input",
        "errors": [err("int_parsing", ["query", "i"], "Input should be a valid integer, "
                       "unable to parse string as an integer", "z")]}),
         "SL_ERRORS_PROBLEM: the 422 is problem+json with FastAPI's items under errors")
    s.proc.stop()

    s = Server(t, app, "plain", {"PLAIN": "1"})
    r = s.get("/nowhere")
    t.eq((r.status, r.media_type), (404, "application/problem+json"),
         "sl_route() only, no format set: problem+json, as before records")
    r = s.get("/plain/a/b")
    t.eq((r.status, r.json()["detail"]), (422, "path parameter 'n': value is not a valid integer"),
         "sl_route() only: the {n:int} 422 as before")
    s.proc.stop()

    s = Server(t, app, "plainfast", {"PLAIN": "1", "FMT": "fastapi"})
    r = s.get("/plain/a/b")
    t.eq((r.status, r.json()), (422, {"detail": [err(
        "int_parsing", ["path", "n"], "Input should be a valid integer, unable to parse "
        "string as an integer", "b")]}), "sl_route() only, SL_ERRORS_FASTAPI: FastAPI's 422")
    r = s.get("/nowhere")
    t.eq((r.status, r.json()), (404, {"detail": "Not Found"}),
         "sl_route() only, SL_ERRORS_FASTAPI: FastAPI's 404")
    s.proc.stop()


def check_handler(t, app):
    s = Server(t, app, "handler", {"HANDLER": "1"}, ["--timeout", "1"])
    r = s.get("/nowhere")
    t.eq((r.status, r.media_type, r.header("X-Err"), r.json()),
         (404, "application/vnd.err+json", "1", {"error": "no such thing", "path": "/nowhere"}),
         "the error handler replaces the 404's body, type and headers")
    r = s.get("/all/1?i=a&b=c", GOOD_HEADERS)
    t.eq((r.status, r.json()), (422, {"count": 2}), "the error handler gets the 422's items")
    r = s.client.request("DELETE", "/slow")
    t.eq((r.status, r.json().get("title"), r.header("Allow")),
         (405, "Method Not Allowed", "GET, HEAD"),
         "an error handler that fails: sluice's own 405, Allow kept")
    r = s.post("/opt", b"x", "text/plain")
    t.eq((r.status, r.header("X-Seen"), "detail" in r.json()), (415, "415", True),
         "an error handler that writes no body keeps sluice's, with its header added")
    r = s.get("/misuse/undeclared")
    t.eq((r.status, r.json().get("title")), (500, "Internal Server Error"),
         "an error handler that changes the status: sluice's own 500")
    log = s.proc.log_text()
    t.ok("error handler for 405 (DELETE /slow): it returned non-zero" in log and
         "error handler for 500 (GET /misuse/{what}): it changed the status" in log,
         "each failing error handler is logged", harness.tail(log, 8))
    t0 = time.monotonic()
    r = s.get("/slow")
    t.eq((r.status, r.json()), (504, {"late": "/slow"}),
         "the 504 goes through the error handler, which reads the request's path")
    t.ok(time.monotonic() - t0 < 2.8, "the 504 came at --timeout, not when the handler ended")
    s.proc.stop()


def check_bad_declarations(t):
    for case, line in BAD_CASES:
        so = t.build_app("bad%d" % case, BAD_APP, cflags="-DCASE=%d" % case)
        r = t.run_cmd([harness.sluice_bin(), "--workers", "1", "--fastcgi",
                       "unix:" + t.path("bad%d.sock" % case), so], timeout=30)
        err_text = r.stderr.decode(errors="replace")
        t.eq(r.returncode, 1, "malformed declaration %d: sluice exits 1 at start" % case, err_text)
        t.ok(line in err_text, "malformed declaration %d: the start names the route and the "
             "reason" % case, "want: %s\ngot:\n%s" % (line, harness.tail(err_text, 6)))
        r = t.run_cmd([harness.sluice_bin(), "--check-config", so], timeout=30)
        err_text = r.stderr.decode(errors="replace")
        t.ok(r.returncode != 0 and line in err_text,
             "malformed declaration %d: --check-config reports it" % case,
             "exit %d\n%s" % (r.returncode, harness.tail(err_text, 6)))


def main(t):
    t.write("thing.json", json.dumps(THING))
    app = t.build_app("decl", APP)
    check_formats(t, app)
    check_handler(t, app)
    check_bad_declarations(t)


harness.run("decl_app", main)
