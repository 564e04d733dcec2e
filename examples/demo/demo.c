/*
 * demo.c: the demo application, installed as lib/sluice/demo.so.
 *
 * Its behaviour is exact and relied upon by the tests and the benchmarks;
 * see the README for the table of routes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sluice.h>

/* A query parameter as a bounded non-negative count, or `dflt`. */
static long query_long(sl_req *req, const char *name, long dflt, long max)
{
    const char *s = sl_req_query(req, name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > max)
        return -1;
    return v;
}

static int hello(sl_req *req)
{
    return sl_resp_write(req, "Hello, world!\n", 14);
}

static int json(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object *tags = json_object_new_array();
    json_object_array_add(tags, json_object_new_string("a"));
    json_object_array_add(tags, json_object_new_string("b"));
    json_object_object_add(o, "id", json_object_new_int(123));
    json_object_object_add(o, "name", json_object_new_string("widget"));
    json_object_object_add(o, "tags", tags);
    json_object_object_add(o, "price", json_object_new_double_s(9.99, "9.99"));
    return sl_resp_json(req, o);
}

static int item(sl_req *req)
{
    int64_t id = 0;
    sl_req_path_int(req, "id", &id);
    const char *q = sl_req_query(req, "q");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "item_id", json_object_new_int64(id));
    json_object_object_add(o, "q", q ? json_object_new_string(q) : NULL);
    return sl_resp_json(req, o);
}

static int echo(sl_req *req)
{
    size_t len;
    const void *body = sl_req_body(req, &len);
    const char *ct = sl_req_header(req, "Content-Type");
    sl_resp_header(req, "Content-Type", ct && *ct ? ct : "application/octet-stream");
    return sl_resp_write(req, body, len);
}

/* /sleep: a libuv timer on the worker's loop; no thread is held. */
typedef struct sleeper {
    uv_timer_t timer;
    sl_req *req;
    long ms;
} sleeper;

static void sleeper_free(uv_handle_t *h)
{
    free(h->data);
}

static void sleep_done(uv_timer_t *t)
{
    sleeper *s = t->data;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "slept_ms", json_object_new_int64(s->ms));
    sl_resp_json(s->req, o);
    sl_resp_end(s->req);
    uv_close((uv_handle_t *)t, sleeper_free);
}

/* Cancelled: answer now; what is written is discarded anyway. */
static void sleep_cancel(sl_req *req)
{
    sleeper *s = sl_req_data(req);
    uv_timer_stop(&s->timer);
    sl_resp_end(req);
    uv_close((uv_handle_t *)&s->timer, sleeper_free);
}

static int do_sleep(sl_req *req)
{
    long ms = query_long(req, "ms", 0, 3600 * 1000);
    if (ms < 0)
        return sl_resp_problem(req, 422, "ms must be an integer between 0 and 3600000");
    sleeper *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->req = req;
    s->ms = ms;
    uv_timer_init(sl_app_loop(sl_req_app(req)), &s->timer);
    s->timer.data = s;
    sl_req_set_data(req, s);
    sl_req_on_cancel(req, sleep_cancel);
    uv_timer_start(&s->timer, sleep_done, (uint64_t)ms, 0);
    return SL_LATER;
}

/* /block: holds a pool thread, as a blocking database call would. */
static int block(sl_req *req)
{
    long ms = query_long(req, "ms", 0, 600 * 1000);
    if (ms < 0)
        return sl_resp_problem(req, 422, "ms must be an integer between 0 and 600000");
    usleep((useconds_t)ms * 1000);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "blocked_ms", json_object_new_int64(ms));
    return sl_resp_json(req, o);
}

static int env(sl_req *req)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < sl_req_param_count(req); i++) {
        const char *name, *value;
        sl_req_param_at(req, i, &name, &value);
        json_object_object_add(o, name, json_object_new_string(value));
    }
    return sl_resp_json(req, o);
}

/* /stream: each line is flushed to the web server as soon as it is made. */
static int stream(sl_req *req)
{
    long n = query_long(req, "chunks", 10, 1000000);
    if (n < 0)
        return sl_resp_problem(req, 422, "chunks must be an integer between 0 and 1000000");
    for (long i = 0; i < n; i++) {
        int rc = sl_resp_printf(req, "chunk %ld\n", i);
        if (rc == 0)
            rc = sl_resp_flush(req);
        if (rc < 0)
            return rc;
        if (sl_req_cancelled(req))
            break;
    }
    return SL_OK;
}

static int status(sl_req *req)
{
    int64_t code = 0;
    sl_req_path_int(req, "code", &code);
    if (code < 100 || code > 999)
        return sl_resp_problem(req, 422, "code must be between 100 and 999");
    return sl_resp_status(req, (int)code);
}

/* GET /search: declared query parameters (issue 13's contract: invalid
 * input gets FastAPI's own 422). */
static int search(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object *tags = json_object_new_array();
    for (size_t i = 0; i < sl_arg_count(req, "tag"); i++)
        json_object_array_add(tags, json_object_new_string(sl_arg_str_at(req, "tag", i)));
    json_object_object_add(o, "q", json_object_new_string(sl_arg_str(req, "q")));
    json_object_object_add(o, "limit", json_object_new_int64(sl_arg_int(req, "limit")));
    json_object_object_add(o, "tags", tags);
    return sl_resp_json(req, o);
}

/* POST /items: the validated body, as given with its defaults (201). */
static int create_item(sl_req *req)
{
    return sl_resp_json(req, json_object_get(sl_req_json(req)));
}

/* GET /cookie/set?v=...: v kept in the signed cookie "demo"; the secret
 * is the config's `secret` (or one made at start, shared by the workers). */
static int cookie_set(sl_req *req)
{
    static const sl_cookie opts = {.httponly = true, .samesite = SL_SAMESITE_LAX, .path = "/"};
    const char *v = sl_arg_str(req, "v");
    int rc = sl_resp_set_signed_cookie(req, "demo", v, &opts);
    if (rc < 0)
        return rc;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "v", json_object_new_string(v));
    return sl_resp_json(req, o);
}

/* GET /cookie/get: {"v":...} from the cookie, 401 when it is missing or
 * does not verify (as FastAPI's HTTPException writes it). */
static int cookie_get(sl_req *req)
{
    const char *v;
    json_object *o = json_object_new_object();
    if (sl_req_signed_cookie(req, "demo", &v) < 0) {
        sl_resp_status(req, 401);
        json_object_object_add(o, "detail", json_object_new_string(
            "the cookie demo is missing or its signature does not verify"));
        return sl_resp_json(req, o);
    }
    json_object_object_add(o, "v", json_object_new_string(v));
    return sl_resp_json(req, o);
}

/*
 * GET /download/{name}: nginx sends /protected/<name> from its internal
 * location (conf/nginx/sluice.conf), Range and If-Modified-Since with it.
 * A name that is not one plain path segment (".", "..", a '/' sent as %2F
 * or a backslash) is a 404, as Starlette's StaticFiles and nginx itself answer
 * a path leaving the directory: there is no such file, and saying 400
 * would only tell a prober what is being filtered.
 */
static int download(sl_req *req)
{
    const char *name = sl_req_path_param(req, "name");
    char uri[512];
    if (name == NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strpbrk(name, "/\\") != NULL ||
        (size_t)snprintf(uri, sizeof uri, "/protected/%s", name) >= sizeof uri)
        return sl_resp_problem(req, 404, "no such file");
    return sl_resp_send_file(req, uri, SL_FILE_ACCEL);
}

static const sl_param_def cookie_set_params[] = {
    { .name = "v", .in = SL_IN_QUERY, .type = SL_T_STR, .flags = SL_REQUIRED,
      .max_length = 500, .description = "The value to keep in the cookie" },
    { .name = NULL }
};

static const sl_param_def search_params[] = {
    { .name = "q", .in = SL_IN_QUERY, .type = SL_T_STR, .flags = SL_REQUIRED,
      .min_length = 1, .max_length = 50, .description = "What to look for" },
    { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "10",
      .ge = "1", .le = "100", .description = "At most this many results" },
    { .name = "tag", .in = SL_IN_QUERY, .type = SL_T_STR, .flags = SL_MULTI,
      .dflt = "[]", .description = "Only results with these tags (repeatable)" },
    { .name = NULL }
};

/* An Item, as a Pydantic model with extra="forbid" publishes it; named,
 * so that bodies refer to it as FastAPI's OpenAPI does. */
static const char item_schema[] =
    "{\"type\":\"object\",\"title\":\"Item\",\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":50,\"title\":\"Name\"},"
    "\"price\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"title\":\"Price\"},"
    "\"tags\":{\"type\":\"array\",\"title\":\"Tags\",\"items\":{\"type\":\"string\"},"
    "\"maxItems\":5,\"default\":[]}},"
    "\"required\":[\"name\",\"price\"],\"additionalProperties\":false}";

static const char item_ref[] = "{\"$ref\":\"#/components/schemas/Item\"}";

static const char *const demo_tags[] = {"demo", NULL};

static const sl_route_def declared[] = {
    { .method = "GET", .pattern = "/search", .handler = search, .flags = SL_LOOP,
      .params = search_params, .summary = "Search", .tags = demo_tags },
    { .method = "POST", .pattern = "/items", .handler = create_item, .flags = SL_LOOP,
      .body = item_ref, .status = 201, .response = item_ref,
      .summary = "Create an item", .tags = demo_tags },
    { .method = "GET", .pattern = "/cookie/set", .handler = cookie_set, .flags = SL_LOOP,
      .params = cookie_set_params, .summary = "Set the signed cookie demo",
      .tags = demo_tags },
    { .method = "GET", .pattern = "/cookie/get", .handler = cookie_get, .flags = SL_LOOP,
      .summary = "Read the signed cookie demo", .tags = demo_tags },
    { .method = NULL }
};

/* CORS for the demo's front end (issue 14's contract): one origin, GET
 * and POST, a JSON Content-Type, credentials; preflights answered 204
 * (Starlette would say 200 "OK"). */
static const char *const cors_origins[] = {"http://app.example", NULL};
static const char *const cors_methods[] = {"GET", "POST", NULL};
static const char *const cors_headers[] = {"Content-Type", NULL};
static const sl_cors demo_cors = {
    .allow_origins = cors_origins, .allow_methods = cors_methods,
    .allow_headers = cors_headers, .allow_credentials = true, .max_age = 600,
    .preflight_status = 204,
};

int sluice_app(sl_app *app)
{
    int rc = sl_cors_add(app, &demo_cors);
    if (rc < 0)
        return rc;
    rc |= sl_route(app, "GET", "/hello", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/json", json, SL_LOOP);
    rc |= sl_route(app, "GET", "/items/{id:int}", item, SL_LOOP);
    rc |= sl_route(app, "POST", "/echo", echo, SL_LOOP);
    rc |= sl_route(app, "GET", "/sleep", do_sleep, SL_LOOP);
    rc |= sl_route(app, "GET", "/block", block, SL_POOL);
    rc |= sl_route(app, "GET", "/env", env, SL_LOOP);
    rc |= sl_route(app, "GET", "/stream", stream, SL_POOL);
    rc |= sl_route(app, "GET", "/status/{code:int}", status, SL_LOOP);
    rc |= sl_route(app, "GET", "/download/{name}", download, SL_LOOP);
    if (rc)
        return -EINVAL;
    rc = sl_schema(app, "Item", item_schema);
    return rc ? rc : sl_routes(app, declared);
}
