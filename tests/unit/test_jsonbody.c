/* test_jsonbody.c: unit tests for src/proto/jsonbody.c (a request body as
 * JSON). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "proto/jsonbody.h"

/* Parse exactly the bytes of s, in a block of their size (no NUL after). */
static json_object *parse(const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    json_object *o = sl_json_parse(n ? copy : NULL, n);
    free(copy);
    return o;
}

static void accepts(const char *s, enum json_type t)
{
    json_object *o = parse(s);
    ck_assert_msg(o != NULL, "'%s' should be JSON", s);
    ck_assert_int_eq(json_object_get_type(o), t);
    json_object_put(o);
}

static void refuses(const char *s)
{
    json_object *o = parse(s);
    ck_assert_msg(o == NULL, "'%s' should not be JSON", s);
}

START_TEST(test_documents)
{
    accepts("{\"a\":[1,2,{\"b\":null}]}", json_type_object);
    accepts("[]", json_type_array);
    accepts("  {\"x\": \"y\"}\n", json_type_object);
    accepts("\"text\"", json_type_string);
}
END_TEST

/* A bare number or literal that ends with the body is a whole JSON text. */
START_TEST(test_bare_scalars)
{
    accepts("42", json_type_int);
    accepts("-1.5e3", json_type_double);
    accepts("true", json_type_boolean);
    accepts("false", json_type_boolean);
    accepts("42 ", json_type_int);
    ck_assert_ptr_null(parse("null"));   /* JSON null is NULL, documented */
}
END_TEST

/* json-c's strict mode: no trailing commas, no comments, nothing after the
 * value.  (json-c 0.16 still reads NaN, Infinity and single quotes.) */
START_TEST(test_strict)
{
    refuses("");
    refuses("   ");
    refuses("[1,]");
    refuses("[1 /* c */]");
    refuses("{\"a\":1} x");
    refuses("{\"a\":1}{}");
    refuses("{\"a\":");
    refuses("[1, 2");
    refuses("42x");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonbody");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_documents);
    tcase_add_test(tc, test_bare_scalars);
    tcase_add_test(tc, test_strict);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
