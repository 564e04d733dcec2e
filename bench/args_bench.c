/*
 * args_bench: CPU time of what declaring a route adds to a request, on the
 * dispatch path itself (not run by the tests).
 *
 *   make bench/args_bench && bench/args_bench [ITERATIONS]
 *
 * The route is the demo's pair of issue 13 on one operation: POST with
 * three query parameters (q: string 1..50 required, limit: integer 1..100
 * default 10, tag: repeated string) and a small JSON body ({"name": string
 * 1..50, "price": number > 0, "tags": array of at most 5 strings, default
 * []}, no other fields), registered as a route record; and the same route
 * without declarations.  Each iteration is what a worker does with the
 * request between its input being in and its handler: a request reset and
 * filled with nginx's CGI parameters and the body, its path resolved, the
 * route matched, and for the record sl_args_run() (the query and body read
 * as Starlette does, converted, validated, kept); the values are freed by
 * the next reset, as a worker's are.  The difference between the two is
 * the cost of declaring.  Time: the process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) over all iterations, divided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api/app.h"
#include "api/args.h"
#include "api/declare.h"
#include "api/request.h"
#include "api/router.h"

static int ok(sl_req *req)
{
    return sl_resp_write(req, "ok", 2);
}

static const sl_param_def params[] = {
    { .name = "q", .in = SL_IN_QUERY, .flags = SL_REQUIRED, .min_length = 1, .max_length = 50 },
    { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "10", .ge = "1",
      .le = "100" },
    { .name = "tag", .in = SL_IN_QUERY, .flags = SL_MULTI, .dflt = "[]" },
    { .name = NULL }
};

static const char item[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":50},"
    "\"price\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":5,"
    "\"default\":[]}},\"required\":[\"name\",\"price\"],\"additionalProperties\":false}";

static const char body[] = "{\"name\":\"pen\",\"price\":1.5,\"tags\":[\"a\",\"b\"]}";

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sl_router *router;
static sl_app app;

/* One request for `path`, up to where its handler would run. */
static void one(sl_req *req, const char *path)
{
    char uri[128];
    static const char query[] = "q=hello&limit=20&tag=a&tag=b";
    snprintf(uri, sizeof uri, "%s?%s", path, query);
    sl_req_reset(req);
    req->app = &app;
    static const char *const fixed[][2] = {
        {"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", "application/json"},
        {"CONTENT_LENGTH", "43"}, {"SERVER_PROTOCOL", "HTTP/1.1"},
        {"REMOTE_ADDR", "127.0.0.1"}, {"HTTP_HOST", "localhost"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        sl_req_add_param(req, fixed[i][0], strlen(fixed[i][0]), fixed[i][1],
                         strlen(fixed[i][1]));
    sl_req_add_param(req, "QUERY_STRING", 12, query, sizeof query - 1);
    sl_req_add_param(req, "REQUEST_URI", 11, uri, strlen(uri));
    sl_req_index_params(req);
    sl_buf_append(&req->body, body, sizeof body - 1);
    const char *why;
    if (sl_req_resolve_path(req, &why) < 0 ||
        sl_router_match(router, "POST", req->path, strlen(req->path), req->path_enc,
                        req->path_nenc, &req->match) != SL_MATCH_OK) {
        fprintf(stderr, "args_bench: %s does not route\n", path);
        exit(1);
    }
    if (req->match.target->decl != NULL && sl_args_run(req) != 0) {
        fprintf(stderr, "args_bench: %s refused: %.*s\n", path, (int)req->out.len,
                req->out.data);
        exit(1);
    }
}

static double run(sl_req *req, const char *path, long n)
{
    for (long i = 0; i < n / 10; i++)       /* warm up */
        one(req, path);
    double t0 = cpu_now();
    for (long i = 0; i < n; i++)
        one(req, path);
    return (cpu_now() - t0) / (double)n * 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char why[256];
    sl_schema_set *set = sl_schema_set_new();
    sl_decl *d;
    const sl_route_def def = { .method = "POST", .pattern = "/d", .handler = ok,
                               .params = params, .body = item };
    router = sl_router_new();
    if (set == NULL || router == NULL || sl_decl_build(set, &def, &d, why, sizeof why) < 0) {
        fprintf(stderr, "args_bench: %s\n", why);
        return 1;
    }
    sl_route_target td = { .decl = d }, tp = { .decl = NULL };
    memcpy(&td.handler, &(sl_handler){ok}, sizeof(sl_handler));
    tp.handler = td.handler;
    if (sl_router_add(router, "POST", "/d", &td, why, sizeof why) < 0 ||
        sl_router_add(router, "POST", "/p", &tp, why, sizeof why) < 0) {
        fprintf(stderr, "args_bench: %s\n", why);
        return 1;
    }
    app.ndecls = 1;
    sl_req *req = malloc(sizeof *req);
    sl_req_init(req);
    double declared = 0, plain = 0;
    for (int round = 0; round < 3; round++) {
        double a = run(req, "/d", n), b = run(req, "/p", n);
        if (round == 0 || a < declared)
            declared = a;
        if (round == 0 || b < plain)
            plain = b;
    }
    printf("%-50s %6.0f ns/request\n", "declared: 3 query parameters + JSON body", declared);
    printf("%-50s %6.0f ns/request\n", "the same route without declarations", plain);
    printf("%-50s %6.0f ns/request  (%ld requests x 3 rounds, best)\n",
           "declaring costs", declared - plain, n);
    sl_req_destroy(req);
    free(req);
    sl_router_free(router);
    sl_decl_free(d);
    sl_schema_set_free(set);
    return 0;
}
