/*
 * test_openapi.c: the OpenAPI document through the in-process test client
 * (which builds it as a worker does): what the table cannot say as it is
 * (two patterns of one template, an operation id declared twice, "*" and
 * methods OpenAPI has no field for), templates of every parameter kind,
 * the 422 of an app that answers problem+json, sl_app_info(), and the
 * docs page shadowing an app route of its path.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sluice_test.h>

static int ok(sl_req *req) { return sl_resp_write(req, "app\n", 4); }

static const sl_param_def q_param[] = {
    { .name = "q", .in = SL_IN_QUERY },
    { .name = NULL }
};

static const sl_route_def clash[] = {
    { .method = "GET", .pattern = "/a", .handler = ok, .operation_id = "same" },
    { .method = "GET", .pattern = "/b", .handler = ok, .operation_id = "same" },
    { .method = "GET", .pattern = "/c", .handler = ok, .params = q_param },
    { .method = NULL }
};

static int app(sl_app *a)
{
    int rc = sl_routes(a, clash);
    rc = rc ? rc : sl_route(a, "GET", "/u/{x:int}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "GET", "/u/{y}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "GET", "/v/{x:int}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "GET", "/v/{x}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "POST", "/v/{x}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "GET", "/f/{n:int}/{ext}/{rest:path}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "*", "/any", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "PURGE", "/cache", ok, SL_LOOP);
    rc = rc ? rc : sl_route(a, "GET", "/docs", ok, SL_LOOP);
    sl_app_info(a, NULL, "3.0", NULL);      /* the title stays the default */
    sl_app_set_error_format(a, SL_ERRORS_PROBLEM);
    return rc;
}

/* The document, or a failed check. */
static json_object *document(sl_test *t, sl_test_resp **r)
{
    *r = sl_test_get(t, "/openapi.json");
    ck_assert_int_eq(sl_test_status(*r), 200);
    ck_assert_str_eq(sl_test_header(*r, "Content-Type"), "application/json");
    json_object *doc = sl_test_json(*r);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static json_object *at(json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save, *k = strtok_r(buf, "|", &save); k; k = strtok_r(NULL, "|", &save)) {
        json_object *next = NULL;
        if (json_object_is_type(o, json_type_array))
            next = json_object_array_get_idx(o, (size_t)atoi(k));
        else if (!json_object_object_get_ex(o, k, &next))
            return NULL;
        o = next;
    }
    return o;
}

static const char *str_at(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v ? json_object_get_string(v) : NULL;
}

START_TEST(test_table_oddities)
{
    char err[256];
    sl_test *t = sl_test_new(app, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    sl_test_resp *r;
    json_object *doc = document(t, &r);
    ck_assert_str_eq(str_at(doc, "info|title"), "sluice app");
    ck_assert_str_eq(str_at(doc, "info|version"), "3.0");
    ck_assert_ptr_null(at(doc, "info|description"));
    /* a declared id twice: the second gets _2 */
    ck_assert_str_eq(str_at(doc, "paths|/a|get|operationId"), "same");
    ck_assert_str_eq(str_at(doc, "paths|/b|get|operationId"), "same_2");
    /* one template, two patterns: the first speaks for both */
    ck_assert_str_eq(str_at(doc, "paths|/u/{x}|get|parameters|0|name"), "x");
    ck_assert_str_eq(str_at(doc, "paths|/u/{x}|get|parameters|0|schema|type"), "integer");
    ck_assert_ptr_null(at(doc, "paths|/u/{y}"));
    ck_assert_str_eq(str_at(doc, "paths|/v/{x}|get|parameters|0|schema|type"), "integer");
    ck_assert_str_eq(str_at(doc, "paths|/v/{x}|post|parameters|0|schema|type"), "string");
    /* every kind of path parameter in one template */
    json_object *f = at(doc, "paths|/f/{n}/{ext}/{rest}|get|parameters");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(json_object_array_length(f), 3);
    ck_assert_str_eq(str_at(f, "2|name"), "rest");
    ck_assert_str_eq(str_at(doc, "paths|/f/{n}/{ext}/{rest}|get|operationId"),
                     "f__n___ext___rest__get");
    /* "*" and PURGE have no place in OpenAPI */
    ck_assert_ptr_null(at(doc, "paths|/any"));
    ck_assert_ptr_null(at(doc, "paths|/cache"));
    /* the app chose problem+json: its 422 says so */
    ck_assert_str_eq(str_at(doc, "paths|/c|get|responses|422|content|"
                                 "application/problem+json|schema|$ref"),
                     "#/components/schemas/ValidationProblem");
    ck_assert_ptr_nonnull(at(doc, "components|schemas|ValidationProblem"));
    ck_assert_ptr_nonnull(at(doc, "components|schemas|ValidationError"));
    ck_assert_ptr_null(at(doc, "components|schemas|HTTPValidationError"));
    /* an optional parameter without a default: anyOf null, no default */
    ck_assert_str_eq(str_at(doc, "paths|/c|get|parameters|0|schema|anyOf|1|type"), "null");
    ck_assert_ptr_null(at(doc, "paths|/c|get|parameters|0|schema|default"));
    ck_assert_str_eq(str_at(doc, "paths|/docs|get|operationId"), "docs_get");
    sl_test_resp_free(r);

    /* answered before routing: the app's own GET /docs is shadowed */
    r = sl_test_get(t, "/docs");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "text/html; charset=utf-8");
    size_t len;
    const char *body = sl_test_body(r, &len);
    ck_assert_ptr_nonnull(memmem(body, len, "<title>sluice app - Swagger UI</title>", 38));
    sl_test_resp_free(r);
    r = sl_test_request(t, "DELETE", "/openapi.json", NULL, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 405);
    sl_test_resp_free(r);
    sl_test_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("document");
    tcase_add_test(tc, test_table_oddities);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
