/*
 * test_schema.c: unit tests for src/api/schema*.c, the JSON Schema
 * validator.  The bulk of it replays tests/unit/schema_cases.json: what
 * FastAPI with Pydantic v2 answered for each schema and input (written by
 * tests/unit/gen_schema_cases.py), compared value for value: the same
 * JSON types (1 is not 1.0), the same object key order.  The rest:
 * schemas that must not compile, and the bounds.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema.h"
#include "api/schema_int.h"

static json_object *cases;

/* The cases file (its outputs nest deeper than json-c's default 32). */
static json_object *load_cases(void)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/schema_cases.json",
             top ? top : ".");
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(EXIT_FAILURE);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
        exit(EXIT_FAILURE);
    fclose(f);
    json_tokener *tok = json_tokener_new_ex(1000);
    json_object *doc = json_tokener_parse_ex(tok, buf, (int)n);
    if (doc == NULL) {
        fprintf(stderr, "%s: %s\n", path,
                json_tokener_error_desc(json_tokener_get_error(tok)));
        exit(EXIT_FAILURE);
    }
    json_tokener_free(tok);
    free(buf);
    return doc;
}

/* a and b are the same JSON: same types (int is not double), same key
 * order, NaN equal to NaN.  Says where they differ in why. */
static int same(json_object *a, json_object *b, char *why, size_t n)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if (ta != tb) {
        snprintf(why, n, "type %s vs %s", json_type_to_name(ta),
                 json_type_to_name(tb));
        return 0;
    }
    switch (ta) {
    case json_type_null:
        return 1;
    case json_type_boolean:
        if (json_object_get_boolean(a) == json_object_get_boolean(b))
            return 1;
        break;
    case json_type_int:
        if (json_object_get_int64(a) == json_object_get_int64(b) &&
            json_object_get_uint64(a) == json_object_get_uint64(b))
            return 1;
        break;
    case json_type_double: {
        double x = json_object_get_double(a), y = json_object_get_double(b);
        if (x == y ? signbit(x) == signbit(y) : isnan(x) && isnan(y))
            return 1;
        break;
    }
    case json_type_string:
        if (json_object_get_string_len(a) == json_object_get_string_len(b) &&
            memcmp(json_object_get_string(a), json_object_get_string(b),
                   (size_t)json_object_get_string_len(a)) == 0)
            return 1;
        break;
    case json_type_array: {
        size_t la = json_object_array_length(a);
        if (la != json_object_array_length(b)) {
            snprintf(why, n, "array length %zu vs %zu", la,
                     json_object_array_length(b));
            return 0;
        }
        for (size_t i = 0; i < la; i++)
            if (!same(json_object_array_get_idx(a, i),
                      json_object_array_get_idx(b, i), why, n))
                return 0;
        return 1;
    }
    case json_type_object: {
        struct json_object_iterator i = json_object_iter_begin(a),
                                    ie = json_object_iter_end(a),
                                    j = json_object_iter_begin(b),
                                    je = json_object_iter_end(b);
        for (; !json_object_iter_equal(&i, &ie); json_object_iter_next(&i),
             json_object_iter_next(&j)) {
            if (json_object_iter_equal(&j, &je)) {
                snprintf(why, n, "extra key '%s'", json_object_iter_peek_name(&i));
                return 0;
            }
            if (strcmp(json_object_iter_peek_name(&i),
                       json_object_iter_peek_name(&j)) != 0) {
                snprintf(why, n, "key '%s' vs '%s'",
                         json_object_iter_peek_name(&i),
                         json_object_iter_peek_name(&j));
                return 0;
            }
            if (!same(json_object_iter_peek_value(&i),
                      json_object_iter_peek_value(&j), why, n))
                return 0;
        }
        if (!json_object_iter_equal(&j, &je)) {
            snprintf(why, n, "missing key '%s'", json_object_iter_peek_name(&j));
            return 0;
        }
        return 1;
    }
    }
    snprintf(why, n, "%s vs %s",
             json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
             json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
    return 0;
}

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE)
             : "null";
}

static size_t unhex(const char *h, char *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    return n;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, key, &v);
    return v;
}

/* Runs one case; 1 if it matched, else prints why. */
static int run_case(json_object *c)
{
    const char *name = json_object_get_string(get(c, "name"));
    char err[512] = "", why[512] = "";
    sl_schema_set *set = sl_schema_set_new();
    ck_assert_ptr_nonnull(set);
    json_object *comp = get(c, "components");
    if (comp) {
        json_object_object_foreach(comp, k, v)
            ck_assert_int_eq(sl_schema_set_add(set, k, v, err, sizeof err), 0);
    }
    const sl_jschema *s;
    if (sl_schema_compile(set, get(c, "schema"), &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s: does not compile: %s\n", name, err);
        sl_schema_set_free(set);
        return 0;
    }
    json_object *errors = json_object_new_array(), *out = NULL;
    json_object *param = get(c, "param");
    int r;
    if (get(c, "body_hex")) {
        const char *hex = json_object_get_string(get(c, "body_hex"));
        char *raw = malloc(strlen(hex) / 2 + 1);
        size_t n = unhex(hex, raw);
        r = sl_schema_validate_body(s, n ? raw : NULL, n,
                                    json_object_get_boolean(get(c, "required")),
                                    &out, errors);
        free(raw);
    } else if (param) {
        json_object *vals = get(param, "values");
        size_t n = json_object_array_length(vals);
        const char *v[16];
        size_t lens[16];
        ck_assert(n <= 16);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(vals, i);
            v[i] = json_object_get_string(e);
            lens[i] = (size_t)json_object_get_string_len(e);
        }
        r = sl_schema_validate_param(
            s, json_object_get_string(get(param, "where")),
            json_object_get_string(get(param, "name")), v, lens, n,
            json_object_get_boolean(get(param, "required")), &out, errors);
    } else {
        r = sl_schema_validate(s, get(c, "value"), get(c, "prefix"), &out,
                               errors);
    }
    int ok;
    json_object *status = get(c, "status"), *want_err = get(c, "errors");
    if (status) {
        ok = r == SL_SCHEMA_UNREADABLE;
        if (!ok)
            snprintf(why, sizeof why, "wanted 400, got %d", r);
    } else if (want_err) {
        ok = r == SL_SCHEMA_INVALID && same(want_err, errors, why, sizeof why);
        if (r != SL_SCHEMA_INVALID)
            snprintf(why, sizeof why, "wanted errors, got %d", r);
    } else {
        ok = r == 0 && same(get(c, "output"), out, why, sizeof why);
        if (r != 0)
            snprintf(why, sizeof why, "wanted a value, got %d", r);
    }
    if (!ok) {
        fprintf(stderr, "FAIL %s: %s\n  schema %s\n", name, why,
                text(get(c, "schema")));
        fprintf(stderr, "  input  %s\n", get(c, "body_hex") ?
                json_object_get_string(get(c, "body_hex")) :
                param ? text(get(param, "values")) : text(get(c, "value")));
        fprintf(stderr, "  wanted %s\n", status ? "400" : want_err ?
                text(want_err) : text(get(c, "output")));
        fprintf(stderr, "  got    %s\n", r == 0 ? text(out) : text(errors));
    }
    json_object_put(out);
    json_object_put(errors);
    sl_schema_set_free(set);
    return ok;
}

START_TEST(test_pydantic_cases)
{
    json_object *list = get(cases, "cases");
    size_t n = json_object_array_length(list), bad = 0;
    ck_assert_uint_ge(n, 200);
    for (size_t i = 0; i < n; i++)
        bad += !run_case(json_object_array_get_idx(list, i));
    ck_assert_msg(bad == 0, "%zu of %zu cases differ from Pydantic", bad, n);
}
END_TEST

/* ---- schemas that must not compile -------------------------------------- */

static void refused(const char *schema, const char *components,
                    const char *want)
{
    sl_schema_set *set = sl_schema_set_new();
    char err[512] = "";
    const sl_jschema *s;
    if (components) {
        json_object *c = json_tokener_parse(components);
        ck_assert_ptr_nonnull(c);
        json_object_object_foreach(c, k, v)
            ck_assert_int_eq(sl_schema_set_add(set, k, v, NULL, 0), 0);
        json_object_put(c);
    }
    int r = sl_schema_compile_text(set, schema, strlen(schema), &s, err,
                                   sizeof err);
    ck_assert_msg(r == -EINVAL, "'%s' compiled (%d)", schema, r);
    ck_assert_msg(strstr(err, want) != NULL, "'%s': error '%s' lacks '%s'",
                  schema, err, want);
    sl_schema_set_free(set);
}

START_TEST(test_refused)
{
    refused("{\"type\":\"object\",\"properties\":{\"price\":{\"type\":"
            "\"number\",\"minimum\":\"0\"}}}",
            NULL, "/properties/price/minimum: not a number");
    refused("{\"dependentRequired\":{}}", NULL,
            "/dependentRequired: unsupported keyword 'dependentRequired'");
    refused("{\"type\":\"string\",\"nullable\":true}", NULL,
            "unsupported keyword 'nullable'");
    refused("{\"$ref\":\"#/components/schemas/Nope\"}", NULL,
            "/$ref: unknown $ref '#/components/schemas/Nope'");
    refused("{\"$ref\":\"http://example.org/s.json\"}", NULL,
            "unsupported $ref");
    refused("{\"$ref\":\"#/$defs/X\"}", NULL, "unknown $ref '#/$defs/X'");
    refused("{\"minLength\":1}", NULL, "/minLength: needs a \"type\"");
    refused("{\"type\":\"integer\",\"minLength\":1}", NULL,
            "/minLength: does not apply");
    refused("{\"type\":\"integer\",\"minimum\":1.5}", NULL,
            "/minimum: not an integer");
    refused("{\"type\":\"number\",\"exclusiveMinimum\":true}", NULL,
            "OpenAPI 3.0's boolean form");
    refused("{\"type\":\"string\",\"minLength\":-1}", NULL,
            "/minLength: not a non-negative integer");
    refused("{\"type\":\"string\",\"pattern\":\"(\"}", NULL,
            "/pattern: invalid pattern: missing closing parenthesis");
    refused("{\"type\":\"strin\"}", NULL, "/type: unknown type 'strin'");
    refused("{\"type\":[\"string\",\"string\"]}", NULL, "listed twice");
    refused("{\"type\":[]}", NULL, "/type: not a type name");
    refused("{\"type\":\"object\",\"required\":[\"a\"]}", NULL,
            "/required: 'a' is not in properties");
    refused("{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":"
            "[\"a\",\"a\"]}", NULL, "'a' listed twice");
    refused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
            "\"integer\",\"default\":1}},\"required\":[\"a\"]}", NULL,
            "/properties/a: required and with a default");
    refused("{\"type\":\"string\",\"minLength\":3,\"default\":\"ab\"}", NULL,
            "/default: does not validate against its schema: String should "
            "have at least 3 characters");
    refused("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
            "\"integer\",\"default\":\"x\"}}}", NULL,
            "/properties/n/default: does not validate");
    refused("{\"enum\":[]}", NULL, "/enum: not a non-empty array");
    refused("{\"enum\":[[1]]}", NULL, "/enum/0: not a string, number");
    refused("{\"type\":\"string\",\"enum\":[\"a\",1]}", NULL,
            "/enum/1: not of the schema's type");
    refused("{\"type\":\"string\",\"enum\":[\"a\",\"bcd\"],\"maxLength\":2}",
            NULL, "/enum/1: fails the other keywords: String should have at "
            "most 2 characters");
    refused("{\"enum\":[1],\"const\":1}", NULL, "/const: not allowed beside");
    refused("{\"$ref\":\"#/components/schemas/A\",\"minimum\":1}",
            "{\"A\":{\"type\":\"integer\"}}", "/minimum: not allowed beside '$ref'");
    refused("{\"anyOf\":[{\"type\":\"integer\"}],\"type\":\"integer\"}", NULL,
            "/type: not allowed beside 'anyOf'");
    refused("{\"anyOf\":[]}", NULL, "/anyOf: not a non-empty array");
    refused("{\"anyOf\":[{\"type\":\"integer\"},5]}", NULL,
            "/anyOf/1: not a schema");
    refused("false", NULL, "the schema false");
    refused("{\"type\":\"array\",\"items\":false}", NULL,
            "/items: the schema false");
    refused("{\"type\":\"array\",\"uniqueItems\":true,\"items\":{\"type\":"
            "\"object\"}}", NULL, "/uniqueItems: needs scalar items");
    refused("{\"type\":\"array\",\"uniqueItems\":1}", NULL,
            "/uniqueItems: not a boolean");
    refused("{\"$ref\":\"#/components/schemas/A\"}",
            "{\"A\":{\"anyOf\":[{\"$ref\":\"#/components/schemas/B\"},"
            "{\"type\":\"null\"}]},\"B\":{\"$ref\":\"#/components/schemas/A\"}}",
            "a $ref cycle that consumes no input");
    refused("{\"$ref\":\"#/components/schemas/A\"}",
            "{\"A\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":"
            "\"integer\",\"minimum\":\"1\"}}}}",
            "#/components/schemas/A/properties/x/minimum: not a number");
    refused("{\"type\":\"object\",\"properties\":{\"a\":{\"$defs\":{}}}}",
            NULL, "/properties/a/$defs: only at a document's root");
    refused("{\"title\":5}", NULL, "/title: not a string");
    refused("{\"type\":\"object\",\"additionalProperties\":5}", NULL,
            "/additionalProperties: not a boolean or a schema");
    refused("{\"type\": \"integer\",", NULL, "schema is not JSON");
    refused("[]", NULL, "(root): not a schema");
    /* bounded depth and size */
    char deep[2048] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "{\"type\":\"array\",\"items\":");
    strcat(deep, "{}");
    for (int i = 0; i < 70; i++)
        strcat(deep, "}");
    refused(deep, NULL, "nested more than 64 deep");
}
END_TEST

START_TEST(test_big_schema_refused)
{
    /* more nodes than a set may hold */
    size_t cap = 64 + 20 * (SL_SCHEMA_MAX_NODES + 10);
    char *s = malloc(cap);
    size_t k = (size_t)sprintf(s, "{\"anyOf\":[");
    for (int i = 0; i < SL_SCHEMA_MAX_NODES + 5; i++)
        k += (size_t)sprintf(s + k, "%s{\"type\":\"null\"}", i ? "," : "");
    strcpy(s + k, "]}");
    refused(s, NULL, "schema too large");
    free(s);
}
END_TEST

/* ---- the API around it -------------------------------------------------- */

START_TEST(test_set_api)
{
    sl_schema_set *set = sl_schema_set_new();
    char err[256];
    json_object *a = json_tokener_parse("{\"type\":\"integer\",\"default\":3}");
    ck_assert_int_eq(sl_schema_set_add(set, "A", a, err, sizeof err), 0);
    ck_assert_int_eq(sl_schema_set_add(set, "A", a, err, sizeof err), -EEXIST);
    ck_assert_int_eq(sl_schema_set_add(set, "", a, err, sizeof err), -EINVAL);
    ck_assert_int_eq(sl_schema_set_add(set, "a/b", a, err, sizeof err), -EINVAL);
    json_object_put(a);
    ck_assert_int_eq(json_object_object_length(sl_schema_set_components(set)), 1);
    const sl_jschema *s, *s2;
    ck_assert_int_eq(sl_schema_get(set, "B", &s, err, sizeof err), -ENOENT);
    ck_assert_int_eq(sl_schema_get(set, "A", &s, err, sizeof err), 0);
    ck_assert_int_eq(sl_schema_get(set, "A", &s2, err, sizeof err), 0);
    ck_assert_ptr_eq(s, s2);
    int has;
    ck_assert_int_eq(json_object_get_int(sl_schema_default(s, &has)), 3);
    ck_assert_int_eq(has, 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(
        sl_schema_source(s), "type")), "integer");
    /* an absent optional parameter takes the default, a copy */
    json_object *errors = json_object_new_array(), *out = NULL;
    ck_assert_int_eq(sl_schema_validate_param(s, "query", "n", NULL, NULL, 0, 0,
                                              &out, errors), 0);
    ck_assert_int_eq(json_object_get_int(out), 3);
    ck_assert_ptr_ne(out, sl_schema_default(s, NULL));
    json_object_put(out);
    ck_assert_int_eq(json_object_array_length(errors), 0);
    json_object_put(errors);
    sl_schema_set_free(set);
}
END_TEST

/* What validation returns is the caller's: it outlives the set. */
START_TEST(test_output_outlives_set)
{
    sl_schema_set *set = sl_schema_set_new();
    const sl_jschema *s;
    const char *schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
                         "\"integer\"},\"b\":{\"type\":\"array\",\"default\":[1]},"
                         "\"c\":{\"enum\":[\"x\"]}}}";
    ck_assert_int_eq(sl_schema_compile_text(set, schema, strlen(schema), &s,
                                            NULL, 0), 0);
    json_object *errors = json_object_new_array(), *out;
    const char *body = "{\"c\":\"x\",\"a\":\"2\"}";
    ck_assert_int_eq(sl_schema_validate_body(s, body, strlen(body), 1, &out,
                                             errors), 0);
    sl_schema_set_free(set);
    ck_assert_str_eq(text(out), "{\"a\":2,\"b\":[1],\"c\":\"x\"}");
    json_object_put(out);
    json_object_put(errors);
}
END_TEST

/* At most SL_SCHEMA_MAX_ERRORS items, counting those already there. */
START_TEST(test_error_cap)
{
    sl_schema_set *set = sl_schema_set_new();
    const sl_jschema *s;
    const char *schema = "{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}";
    ck_assert_int_eq(sl_schema_compile_text(set, schema, strlen(schema), &s,
                                            NULL, 0), 0);
    json_object *in = json_object_new_array();
    for (int i = 0; i < 1000; i++)
        json_object_array_add(in, json_object_new_string("x"));
    json_object *errors = json_object_new_array(), *out;
    json_object_array_add(errors, json_object_new_string("earlier"));
    ck_assert_int_eq(sl_schema_validate(s, in, NULL, &out, errors),
                     SL_SCHEMA_INVALID);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(json_object_array_length(errors), SL_SCHEMA_MAX_ERRORS);
    /* a full array still says invalid */
    ck_assert_int_eq(sl_schema_validate(s, in, NULL, &out, errors),
                     SL_SCHEMA_INVALID);
    ck_assert_uint_eq(json_object_array_length(errors), SL_SCHEMA_MAX_ERRORS);
    json_object_put(errors);
    json_object_put(in);
    sl_schema_set_free(set);
}
END_TEST

/* A document deeper than the validator goes, and a schema that would take
 * exponential work: one recursion_loop error, quickly. */
START_TEST(test_bounded_work)
{
    sl_schema_set *set = sl_schema_set_new();
    char err[256];
    json_object *comp = json_tokener_parse(
        "{\"N\":{\"type\":\"array\",\"items\":{\"$ref\":"
        "\"#/components/schemas/N\"}},"
        "\"X\":{\"anyOf\":[{\"type\":\"array\",\"items\":{\"$ref\":"
        "\"#/components/schemas/X\"}},{\"type\":\"array\",\"items\":{\"$ref\":"
        "\"#/components/schemas/X\"}},{\"type\":\"integer\"}]}}");
    json_object_object_foreach(comp, k, v)
        ck_assert_int_eq(sl_schema_set_add(set, k, v, err, sizeof err), 0);
    json_object_put(comp);
    const sl_jschema *n, *x;
    ck_assert_int_eq(sl_schema_get(set, "N", &n, err, sizeof err), 0);
    ck_assert_int_eq(sl_schema_get(set, "X", &x, err, sizeof err), 0);
    json_object *deep = json_object_new_array(), *cur = deep;
    for (int i = 0; i < 1000; i++) {
        json_object *a = json_object_new_array();
        json_object_array_add(cur, a);
        cur = a;
    }
    json_object *errors = json_object_new_array(), *out;
    ck_assert_int_eq(sl_schema_validate(n, deep, NULL, &out, errors),
                     SL_SCHEMA_INVALID);
    ck_assert_uint_eq(json_object_array_length(errors), 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(
        json_object_array_get_idx(errors, 0), "type")), "recursion_loop");
    json_object_put(deep);
    /* [[[...["x"]...]]] 40 deep: each level tries two branches */
    json_object *wide = json_object_new_array();
    cur = wide;
    for (int i = 0; i < 40; i++) {
        json_object *a = json_object_new_array();
        json_object_array_add(cur, a);
        cur = a;
    }
    json_object_array_add(cur, json_object_new_string("x"));
    json_object_put(errors);
    errors = json_object_new_array();
    ck_assert_int_eq(sl_schema_validate(x, wide, NULL, &out, errors),
                     SL_SCHEMA_INVALID);
    ck_assert_uint_eq(json_object_array_length(errors), 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(
        json_object_array_get_idx(errors, 0), "type")), "recursion_loop");
    json_object_put(wide);
    json_object_put(errors);
    sl_schema_set_free(set);
}
END_TEST

/* Large inputs are not refused by the step budget, and sets stay linear. */
START_TEST(test_large_inputs)
{
    sl_schema_set *set = sl_schema_set_new();
    const sl_jschema *list, *uniq;
    const char *l = "{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}";
    const char *u = "{\"type\":\"array\",\"items\":{\"type\":\"number\"},"
                    "\"uniqueItems\":true}";
    ck_assert_int_eq(sl_schema_compile_text(set, l, strlen(l), &list, NULL, 0), 0);
    ck_assert_int_eq(sl_schema_compile_text(set, u, strlen(u), &uniq, NULL, 0), 0);
    json_object *in = json_object_new_array(), *errors = json_object_new_array();
    json_object *out;
    for (int i = 0; i < 300000; i++)    /* 50000 distinct values, 1.0 == 1 */
        json_object_array_add(in, i % 3 ? json_object_new_int(i % 50000)
                                        : json_object_new_double(i % 50000));
    ck_assert_int_eq(sl_schema_validate(list, in, NULL, &out, errors), 0);
    ck_assert_uint_eq(json_object_array_length(out), 300000);
    json_object_put(out);
    ck_assert_int_eq(sl_schema_validate(uniq, in, NULL, &out, errors), 0);
    ck_assert_uint_eq(json_object_array_length(out), 50000);
    ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(out, 1)), 1);
    json_object_put(out);
    ck_assert_uint_eq(json_object_array_length(errors), 0);
    json_object_put(errors);
    json_object_put(in);
    sl_schema_set_free(set);
}
END_TEST

/* Python's repr and Rust's Display of doubles, as the cases file lists
 * them (repr from Python itself). */
START_TEST(test_number_spelling)
{
    json_object *reprs = get(cases, "reprs");
    ck_assert_ptr_nonnull(reprs);
    for (size_t i = 0; i < json_object_array_length(reprs); i++) {
        json_object *p = json_object_array_get_idx(reprs, i);
        double d = json_object_get_double(json_object_array_get_idx(p, 0));
        const char *want = json_object_get_string(json_object_array_get_idx(p, 1));
        char buf[400];
        sl_py_repr_double(d, buf, sizeof buf);
        ck_assert_msg(strcmp(buf, want) == 0, "repr %.17g: %s, wanted %s", d,
                      buf, want);
    }
    char buf[400];
    sl_rust_display_double(1e20, buf, sizeof buf);
    ck_assert_str_eq(buf, "100000000000000000000");
    sl_rust_display_double(1e-7, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.0000001");
    sl_rust_display_double(-0.0, buf, sizeof buf);
    ck_assert_str_eq(buf, "-0");
    sl_rust_display_double(2.5, buf, sizeof buf);
    ck_assert_str_eq(buf, "2.5");
    /* a validated double serializes as Python writes it */
    json_object *d = sl_py_double(5.0);
    ck_assert_str_eq(json_object_to_json_string(d), "5.0");
    json_object_put(d);
    d = sl_py_double(1e-7);
    ck_assert_str_eq(json_object_to_json_string(d), "1e-07");
    json_object *copy = NULL;
    ck_assert_int_eq(json_object_deep_copy(d, &copy, NULL), 0);
    ck_assert_str_eq(json_object_to_json_string(copy), "1e-07");
    json_object_put(copy);
    json_object_put(d);
}
END_TEST

/* The body parser keeps Python's spelling of numbers it read. */
START_TEST(test_body_numbers)
{
    json_object *errors = json_object_new_array(), *out;
    const char *body = "[1.50, 1E5, 12345678901234567890, -0.0]";
    ck_assert_int_eq(sl_schema_parse_json(body, strlen(body), &out, errors), 0);
    ck_assert_str_eq(text(out), "[1.5,100000.0,12345678901234567890,-0.0]");
    json_object_put(out);
    json_object_put(errors);
}
END_TEST

/* Validates input against schema (with components) and compares with
 * want: the output, or the errors when invalid is set; want starting with
 * '=' is the exact serialization instead. */
static void expect(const char *components, const char *schema,
                   const char *input, int invalid, const char *want)
{
    sl_schema_set *set = sl_schema_set_new();
    char err[512] = "", why[512] = "";
    if (components) {
        json_object *c = json_tokener_parse(components);
        json_object_object_foreach(c, k, v)
            ck_assert_int_eq(sl_schema_set_add(set, k, v, NULL, 0), 0);
        json_object_put(c);
    }
    const sl_jschema *s;
    ck_assert_msg(sl_schema_compile_text(set, schema, strlen(schema), &s, err,
                                         sizeof err) == 0, "%s: %s", schema, err);
    json_object *errors = json_object_new_array(), *out = NULL;
    int r = sl_schema_validate_body(s, input, strlen(input), 1, &out, errors);
    ck_assert_int_eq(r, invalid ? SL_SCHEMA_INVALID : 0);
    if (want[0] == '=') {
        ck_assert_str_eq(text(invalid ? errors : out), want + 1);
    } else {
        json_object *w = json_tokener_parse(want);
        ck_assert_msg(same(w, invalid ? errors : out, why, sizeof why),
                      "%s on %s: %s; got %s", schema, input, why,
                      text(invalid ? errors : out));
        json_object_put(w);
    }
    json_object_put(out);
    json_object_put(errors);
    sl_schema_set_free(set);
}

/* Where Pydantic has no type, sluice's own answers (schema.h): allOf of
 * several members validates each and merges objects. */
START_TEST(test_allof)
{
    const char *base = "{\"Base\":{\"type\":\"object\",\"properties\":{\"a\":"
                       "{\"type\":\"integer\"}},\"required\":[\"a\"]}}";
    const char *both = "{\"allOf\":[{\"$ref\":\"#/components/schemas/Base\"},"
                       "{\"type\":\"object\",\"properties\":{\"b\":{\"type\":"
                       "\"string\"}},\"required\":[\"b\"]}]}";
    expect(base, both, "{\"b\":\"x\",\"a\":\"1\",\"c\":3}", 0,
           "{\"a\":1,\"b\":\"x\"}");
    expect(base, both, "{}", 1,
           "[{\"type\":\"missing\",\"loc\":[\"body\",\"a\"],\"msg\":"
           "\"Field required\",\"input\":{}},{\"type\":\"missing\",\"loc\":"
           "[\"body\",\"b\"],\"msg\":\"Field required\",\"input\":{}}]");
    const char *range = "{\"allOf\":[{\"type\":\"integer\",\"minimum\":0},"
                        "{\"type\":\"integer\",\"maximum\":10}]}";
    expect(NULL, range, "\"5\"", 0, "5");
    expect(NULL, range, "11", 1,
           "[{\"type\":\"less_than_equal\",\"loc\":[\"body\"],\"msg\":"
           "\"Input should be less than or equal to 10\",\"input\":11,"
           "\"ctx\":{\"le\":10}}]");
    /* a union member that is an allOf is labelled all-of[...] */
    expect(NULL, "{\"anyOf\":[{\"allOf\":[{\"type\":\"integer\"},"
           "{\"type\":\"number\"}]},{\"type\":\"boolean\"}]}", "[]", 1,
           "[{\"type\":\"int_type\",\"loc\":[\"body\",\"all-of[int,float]\"],"
           "\"msg\":\"Input should be a valid integer\",\"input\":[]},"
           "{\"type\":\"float_type\",\"loc\":[\"body\",\"all-of[int,float]\"],"
           "\"msg\":\"Input should be a valid number\",\"input\":[]},"
           "{\"type\":\"bool_type\",\"loc\":[\"body\",\"bool\"],"
           "\"msg\":\"Input should be a valid boolean\",\"input\":[]}]");
}
END_TEST

/* The differences schema.h documents, as they are. */
START_TEST(test_known_differences)
{
    /* beyond int64: Pydantic takes the big int */
    expect(NULL, "{\"type\":\"integer\"}", "12345678901234567890", 1,
           "=[{\"type\":\"int_parsing_size\",\"loc\":[\"body\"],\"msg\":"
           "\"Unable to parse input string as an integer, exceeded maximum "
           "size\",\"input\":12345678901234567890}]");
    expect(NULL, "{\"type\":\"number\"}", "12345678901234567890", 0,
           "=1.2345678901234567e+19");
    /* deeper than SL_SCHEMA_MAX_DEPTH: 400 (Python goes to ~1000) */
    sl_schema_set *set = sl_schema_set_new();
    const sl_jschema *s;
    ck_assert_int_eq(sl_schema_compile_text(set, "{}", 2, &s, NULL, 0), 0);
    char deep[200];
    memset(deep, '[', 70);
    memset(deep + 70, ']', 70);
    json_object *errors = json_object_new_array(), *out;
    ck_assert_int_eq(sl_schema_validate_body(s, deep, 140, 1, &out, errors),
                     SL_SCHEMA_UNREADABLE);
    /* UTF-16 (Python decodes it) */
    ck_assert_int_eq(sl_schema_validate_body(s, "\xff\xfe[\0]\0", 6, 1, &out,
                                             errors), SL_SCHEMA_UNREADABLE);
    ck_assert_uint_eq(json_object_array_length(errors), 0);
    json_object_put(errors);
    sl_schema_set_free(set);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("schema");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pydantic_cases);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_big_schema_refused);
    tcase_add_test(tc, test_set_api);
    tcase_add_test(tc, test_output_outlives_set);
    tcase_add_test(tc, test_error_cap);
    tcase_add_test(tc, test_bounded_work);
    tcase_add_test(tc, test_large_inputs);
    tcase_add_test(tc, test_number_spelling);
    tcase_add_test(tc, test_body_numbers);
    tcase_add_test(tc, test_allof);
    tcase_add_test(tc, test_known_differences);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    cases = load_cases();
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_object_put(cases);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
