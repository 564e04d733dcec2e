/*
 * schema_bench: CPU time of validating one declared route's inputs with
 * src/api/schema*.c (not run by the tests).
 *
 *   make bench/schema_bench && bench/schema_bench [ITERATIONS]
 *
 * The route is the demo's pair of issue 13: three query parameters
 * (q: string 1..50 required, limit: integer 1..100 default 10, tag:
 * repeated string) and a small JSON body ({"name": string 1..50, "price":
 * number > 0, "tags": array of at most 5 strings, default []}, no other
 * fields).  Per request: the three parameters as text and the body as
 * bytes, validated, results freed; the time is the process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) over all iterations, divided.  Also timed:
 * the same request with every input wrong (the 422 path, errors built),
 * and the body alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api/schema.h"

static const char q_schema[] =
    "{\"type\":\"string\",\"minLength\":1,\"maxLength\":50}";
static const char limit_schema[] =
    "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":10}";
static const char tag_schema[] =
    "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"default\":[]}";
static const char item_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":50},"
    "\"price\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"maxItems\":5,\"default\":[]}},"
    "\"required\":[\"name\",\"price\"],\"additionalProperties\":false}";

static const sl_jschema *compile(sl_schema_set *set, const char *text)
{
    const sl_jschema *s;
    char err[256];
    if (sl_schema_compile_text(set, text, strlen(text), &s, err, sizeof err)) {
        fprintf(stderr, "schema_bench: %s\n", err);
        exit(1);
    }
    return s;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct req {
    const char *q, *limit, *tags[2], *body;
    size_t ntags;
};

static const sl_jschema *sq, *slimit, *stag, *sitem;

/* One request's inputs, as the server would validate them; returns how
 * many were invalid. */
static int one(const struct req *r, int body_only)
{
    json_object *errors = json_object_new_array(), *out;
    int bad = 0;
    if (!body_only) {
        bad += sl_schema_validate_param(sq, "query", "q", &r->q, NULL, 1, 1,
                                        &out, errors) != 0;
        json_object_put(out);
        bad += sl_schema_validate_param(slimit, "query", "limit", &r->limit,
                                        NULL, 1, 0, &out, errors) != 0;
        json_object_put(out);
        bad += sl_schema_validate_param(stag, "query", "tag", r->tags, NULL,
                                        r->ntags, 0, &out, errors) != 0;
        json_object_put(out);
    }
    bad += sl_schema_validate_body(sitem, r->body, strlen(r->body), 1, &out,
                                   errors) != 0;
    json_object_put(out);
    json_object_put(errors);
    return bad;
}

static void run(const char *what, const struct req *r, int body_only, long n,
                int want_bad)
{
    for (long i = 0; i < n / 10; i++)       /* warm up */
        one(r, body_only);
    double t0 = cpu_now();
    for (long i = 0; i < n; i++)
        if ((one(r, body_only) != 0) != want_bad) {
            fprintf(stderr, "schema_bench: %s: unexpected result\n", what);
            exit(1);
        }
    double t = cpu_now() - t0;
    printf("%-34s %8.0f ns/request  (%ld requests, %.2f s CPU)\n", what,
           t / (double)n * 1e9, n, t);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    sl_schema_set *set = sl_schema_set_new();
    sq = compile(set, q_schema);
    slimit = compile(set, limit_schema);
    stag = compile(set, tag_schema);
    sitem = compile(set, item_schema);
    struct req good = {"hello", "20", {"a", "b"},
                       "{\"name\":\"pen\",\"price\":1.5,\"tags\":[\"a\",\"b\"]}", 2};
    struct req bad = {"", "500", {"a", "b"},
                      "{\"name\":\"\",\"price\":-1,\"tags\":[1],\"x\":true}", 2};
    run("3 query parameters + body, valid", &good, 0, n, 0);
    run("3 query parameters + body, 422", &bad, 0, n / 4, 1);
    run("body alone, valid", &good, 1, n, 0);
    sl_schema_set_free(set);
    return 0;
}
