/*
 * Unit tests of src/api/declare.c: route records compiled into decls.  The
 * schema each parameter gets (what is enforced and what OpenAPI shows),
 * the order parameters are validated in, and the one-line reason of every
 * refusal.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api/declare.h"

static sl_schema_set *set;

static int h(sl_req *req)
{
    (void)req;
    return 0;
}

static void setup(void)
{
    set = sl_schema_set_new();
    ck_assert_ptr_nonnull(set);
}

static void teardown(void)
{
    sl_schema_set_free(set);
}

static const char *source(const sl_decl_param *p)
{
    return json_object_to_json_string_ext(sl_schema_source(p->schema),
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

START_TEST(test_schemas)
{
    static const char *const colors[] = {"red", "blue", NULL};
    const sl_param_def params[] = {
        { .name = "q", .in = SL_IN_QUERY, .flags = SL_REQUIRED, .min_length = 1,
          .max_length = 50, .pattern = "^a" },
        { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = " 10", .ge = "1",
          .le = "100" },
        { .name = "ratio", .in = SL_IN_QUERY, .type = SL_T_NUM, .gt = "0", .lt = "0.5" },
        { .name = "tag", .in = SL_IN_QUERY, .flags = SL_MULTI, .dflt = "[]",
          .max_items = 5 },
        { .name = "on", .in = SL_IN_QUERY, .type = SL_T_BOOL, .dflt = "yes" },
        { .name = "color", .in = SL_IN_QUERY, .choices = colors },
        { .name = "X-Token", .in = SL_IN_HEADER },
        { .name = "content-type", .in = SL_IN_HEADER },
        { .name = NULL }
    };
    const sl_route_def def = { .method = "GET", .pattern = "/s", .handler = h,
                               .params = params, .summary = "S" };
    sl_decl *d;
    char why[256];
    ck_assert_int_eq(sl_decl_build(set, &def, &d, why, sizeof why), 0);
    ck_assert_uint_eq(d->nparams, 8);
    ck_assert_str_eq(source(&d->params[0]),
                     "{\"type\":\"string\",\"minLength\":1,\"maxLength\":50,\"pattern\":\"^a\"}");
    ck_assert_int_eq(d->params[0].required, 1);
    /* the default converted by its own rules: " 10" is 10 */
    ck_assert_str_eq(source(&d->params[1]),
                     "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":10}");
    ck_assert_int_eq(d->params[1].has_default, 1);
    ck_assert_str_eq(source(&d->params[2]),
                     "{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":0.5}");
    ck_assert_str_eq(source(&d->params[3]),
                     "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":5,"
                     "\"default\":[]}");
    ck_assert_str_eq(source(&d->params[4]), "{\"type\":\"boolean\",\"default\":true}");
    ck_assert_str_eq(source(&d->params[5]),
                     "{\"type\":\"string\",\"enum\":[\"red\",\"blue\"],\"title\":\"color\"}");
    ck_assert_str_eq(d->params[6].cgi, "HTTP_X_TOKEN");
    ck_assert_str_eq(d->params[6].where, "header");
    ck_assert_str_eq(d->params[7].cgi, "CONTENT_TYPE");
    ck_assert_str_eq(d->summary, "S");
    ck_assert_int_eq(d->status, 200);
    ck_assert_ptr_eq(sl_decl_find(d, "on"), &d->params[4]);
    ck_assert_ptr_null(sl_decl_find(d, "off"));
    sl_decl_free(d);
}
END_TEST

START_TEST(test_order_and_path)
{
    /* declared out of order: validated path, query, header, cookie; the
     * pattern's own parameters after the declared path ones */
    const sl_param_def params[] = {
        { .name = "c", .in = SL_IN_COOKIE },
        { .name = "h", .in = SL_IN_HEADER },
        { .name = "q", .in = SL_IN_QUERY },
        { .name = "b", .in = SL_IN_PATH, .type = SL_T_BOOL },
        { .name = NULL }
    };
    static const char *const tags[] = {"x", "y", NULL};
    static const sl_response_def responses[] = {
        { .status = 404, .description = "none", .schema = "{\"type\":\"string\"}" },
        { .status = 0 }
    };
    const sl_route_def def = { .method = "POST", .pattern = "/a/{id:int}/{b}/{rest:path}",
                               .handler = h, .params = params, .status = 201,
                               .body = "{\"type\":\"object\"}", .tags = tags,
                               .responses = responses, .user = (void *)&tags };
    sl_decl *d;
    char why[256];
    ck_assert_int_eq(sl_decl_build(set, &def, &d, why, sizeof why), 0);
    static const char *const names[] = {"b", "id", "rest", "q", "h", "c"};
    ck_assert_uint_eq(d->nparams, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(d->params[i].name, names[i]);
    ck_assert_int_eq(d->params[0].path_index, 1);
    ck_assert_int_eq(d->params[0].implicit, 0);
    ck_assert_int_eq(d->params[1].path_index, 0);
    ck_assert_int_eq(d->params[1].implicit, 1);
    ck_assert_int_eq(d->params[1].type, SL_T_INT);
    ck_assert_int_eq(d->params[2].type, SL_T_STR);
    ck_assert_int_eq(d->params[2].path_index, 2);
    ck_assert_str_eq(source(&d->params[1]), "{\"type\":\"integer\"}");
    ck_assert_int_eq(d->status, 201);
    ck_assert_ptr_nonnull(d->body);
    ck_assert_int_eq(d->body_required, 1);
    ck_assert_uint_eq(d->ntags, 2);
    ck_assert_str_eq(d->tags[1], "y");
    ck_assert_uint_eq(d->nresponses, 1);
    ck_assert_int_eq(d->responses[0].status, 404);
    ck_assert_ptr_nonnull(d->responses[0].schema);
    ck_assert_ptr_eq(d->user, (void *)&tags);
    ck_assert_int_eq(sl_decl_method_matches(d, "POST"), 1);
    ck_assert_int_eq(sl_decl_method_matches(d, "GET"), 0);
    sl_decl_free(d);
}
END_TEST

/* One refused record: rc and the start of its reason. */
static void refused(const sl_route_def *def, int rc, const char *reason)
{
    sl_decl *d = (sl_decl *)1;
    char why[320];
    int got = sl_decl_build(set, def, &d, why, sizeof why);
    ck_assert_msg(got == rc, "%s: rc %d, want %d (%s)", reason, got, rc, why);
    ck_assert_ptr_null(d);
    ck_assert_msg(strncmp(why, reason, strlen(reason)) == 0, "why: '%s'\nwant: '%s'", why,
                  reason);
}

#define REFUSED1(reason, ...) do { \
        const sl_param_def p_[] = { __VA_ARGS__, { .name = NULL } }; \
        const sl_route_def d_ = { .method = "GET", .pattern = "/r/{id}", .handler = h, \
                                  .params = p_ }; \
        refused(&d_, -EINVAL, reason); \
    } while (0)

START_TEST(test_refusals)
{
    static const char *const none[] = {NULL};
    static const char *const one[] = {"a", NULL};
    REFUSED1("query parameter 'limit': default '0' is refused by its own rules: Input should "
             "be greater than or equal to 1",
             { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "0", .ge = "1" });
    REFUSED1("query parameter 'n': default 'x' is refused by its own rules: Input should be a "
             "valid integer, unable to parse string as an integer",
             { .name = "n", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "x" });
    REFUSED1("query parameter 't': default 'a' is not a JSON array (SL_MULTI)",
             { .name = "t", .in = SL_IN_QUERY, .flags = SL_MULTI, .dflt = "a" });
    REFUSED1("query parameter 't': default '[1]' is refused by its own rules: Input should "
             "be a valid string", { .name = "t", .in = SL_IN_QUERY, .flags = SL_MULTI,
                                    .dflt = "[1]" });
    REFUSED1("path parameter 'x': the pattern has no {x}", { .name = "x", .in = SL_IN_PATH });
    REFUSED1("path parameter 'id': a path parameter takes no default",
             { .name = "id", .in = SL_IN_PATH, .dflt = "a" });
    REFUSED1("query parameter 'q': unknown type (7)",
             { .name = "q", .in = SL_IN_QUERY, .type = (sl_type)7 });
    REFUSED1("parameter 'q': unknown in (9)", { .name = "q", .in = (sl_in)9 });
    REFUSED1("query parameter 'q': unknown flags 0x10",
             { .name = "q", .in = SL_IN_QUERY, .flags = 16 });
    REFUSED1("header parameter 'h': SL_MULTI is for query parameters",
             { .name = "h", .in = SL_IN_HEADER, .flags = SL_MULTI });
    REFUSED1("query parameter 'q': SL_REQUIRED and a default",
             { .name = "q", .in = SL_IN_QUERY, .flags = SL_REQUIRED, .dflt = "a" });
    REFUSED1("header parameter 'a b': not an HTTP header name",
             { .name = "a b", .in = SL_IN_HEADER });
    REFUSED1("query parameter 'q': ge applies to SL_T_INT and SL_T_NUM, not str",
             { .name = "q", .in = SL_IN_QUERY, .ge = "1" });
    REFUSED1("query parameter 'q': le '1x' is not a number",
             { .name = "q", .in = SL_IN_QUERY, .type = SL_T_NUM, .le = "1x" });
    REFUSED1("query parameter 'q': max_length applies to SL_T_STR, not bool",
             { .name = "q", .in = SL_IN_QUERY, .type = SL_T_BOOL, .max_length = 3 });
    REFUSED1("query parameter 'q': choices and pattern: the choices are the rule",
             { .name = "q", .in = SL_IN_QUERY, .choices = one, .pattern = "a" });
    REFUSED1("query parameter 'q': choices, but none",
             { .name = "q", .in = SL_IN_QUERY, .choices = none });
    REFUSED1("query parameter 'q': min_items and max_items apply to SL_MULTI",
             { .name = "q", .in = SL_IN_QUERY, .max_items = 2 });
    REFUSED1("query parameter 'q': /pattern: invalid pattern",
             { .name = "q", .in = SL_IN_QUERY, .pattern = "(" });
    REFUSED1("query parameter 'q': /minimum: ",
             { .name = "q", .in = SL_IN_QUERY, .type = SL_T_INT, .ge = "1.5" });
    REFUSED1("parameter 'q' declared twice", { .name = "q", .in = SL_IN_QUERY },
             { .name = "q", .in = SL_IN_HEADER });
    REFUSED1("a query parameter with an empty name", { .name = "", .in = SL_IN_QUERY });
}
END_TEST

START_TEST(test_refusals_route)
{
    const sl_route_def bad_pattern = { .method = "GET", .pattern = "/a/{id", .handler = h };
    refused(&bad_pattern, -EINVAL, "unbalanced '{'");
    const sl_route_def int_path = { .method = "GET", .pattern = "/a/{id:int}", .handler = h,
        .params = (const sl_param_def[]){ { .name = "id", .in = SL_IN_PATH }, { .name = NULL } } };
    refused(&int_path, -EINVAL, "path parameter 'id': {id:int} in the pattern, declared str");
    const sl_route_def no_handler = { .method = "GET", .pattern = "/a" };
    refused(&no_handler, -EINVAL, "no handler");
    const sl_route_def flags = { .method = "GET", .pattern = "/a", .handler = h, .flags = 64 };
    refused(&flags, -EINVAL, "unknown flags 0x40");
    const sl_route_def status = { .method = "GET", .pattern = "/a", .handler = h, .status = 101 };
    refused(&status, -EINVAL, "status 101: a final status is 200-599");
    const sl_route_def optional = { .method = "GET", .pattern = "/a", .handler = h,
                                    .flags = SL_BODY_OPTIONAL };
    refused(&optional, -EINVAL, "SL_BODY_OPTIONAL without a body");
    const sl_route_def body = { .method = "GET", .pattern = "/a", .handler = h,
                                .body = "{\"type\":" };
    refused(&body, -EINVAL, "body schema: schema is not JSON");
    const sl_route_def ref = { .method = "GET", .pattern = "/a", .handler = h,
                               .body = "{\"$ref\":\"#/components/schemas/Nope\"}" };
    refused(&ref, -EINVAL, "body schema: ");
    const sl_route_def resp = { .method = "GET", .pattern = "/a", .handler = h,
        .responses = (const sl_response_def[]){ { .status = 200 }, { .status = 0 } } };
    refused(&resp, -EINVAL, "response 200: the success status");
    const sl_route_def resp2 = { .method = "GET", .pattern = "/a", .handler = h,
        .responses = (const sl_response_def[]){ { .status = 404 }, { .status = 404 },
                                                { .status = 0 } } };
    refused(&resp2, -EINVAL, "response 404: listed twice");
    const sl_route_def resp3 = { .method = "GET", .pattern = "/a", .handler = h,
        .responses = (const sl_response_def[]){ { .status = 99 }, { .status = 0 } } };
    refused(&resp3, -EINVAL, "response 99: not a status");
    const sl_route_def resp4 = { .method = "GET", .pattern = "/a", .handler = h,
        .response = "{\"type\":\"nope\"}" };
    refused(&resp4, -EINVAL, "response schema: ");
}
END_TEST

START_TEST(test_refused_leaves_set_usable)
{
    /* a refused default leaves nothing behind; the set compiles on */
    const sl_param_def bad[] = {
        { .name = "n", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "0", .ge = "1" },
        { .name = NULL }
    };
    const sl_route_def d1 = { .method = "GET", .pattern = "/a", .handler = h, .params = bad };
    refused(&d1, -EINVAL, "query parameter 'n'");
    const sl_route_def d2 = { .method = "GET", .pattern = "/a", .handler = h,
                              .body = "{\"type\":\"integer\"}" };
    sl_decl *d;
    char why[256];
    ck_assert_int_eq(sl_decl_build(set, &d2, &d, why, sizeof why), 0);
    sl_decl_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("declare");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_schemas);
    tcase_add_test(tc, test_order_and_path);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_refusals_route);
    tcase_add_test(tc, test_refused_leaves_set_usable);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
