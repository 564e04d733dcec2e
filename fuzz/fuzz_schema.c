/*
 * fuzz_schema: src/api/schema*.c, the JSON Schema compiler and validator,
 * on a random schema and a random document.
 *
 * Input: one byte choosing how the document arrives, the schema's JSON
 * text, a NUL, the document's bytes.  The schema is also named "S", so
 * "#/components/schemas/S" makes it recursive.  Modes (byte % 3):
 *   0  the document parsed as Python's json does (sl_schema_parse_json),
 *      then sl_schema_validate with loc prefix ["body"];
 *   1  sl_schema_validate_body on the bytes;
 *   2  sl_schema_validate_param, the bytes split at '&' into values.
 *
 * Checks: compiling says why when it fails; every result is one of the
 * documented ones; errors are FastAPI's items (type, loc starting with the
 * prefix, msg, input; at most SL_SCHEMA_MAX_ERRORS) and serialize; a
 * validated value serializes and validates again (the steps and depth
 * bounds aside); json_invalid's position is within the text.  No crash,
 * leak or timeout: the bounds (depth, nodes, steps, errors) hold.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *type_of(json_object *item)
{
    json_object *t;
    if (!json_object_object_get_ex(item, "type", &t))
        return NULL;
    return json_object_get_string(t);
}

/* FastAPI's error items, every loc starting with first_loc. */
static void check_errors(json_object *errors, const char *first_loc)
{
    size_t n = json_object_array_length(errors);
    CHECK(n <= SL_SCHEMA_MAX_ERRORS);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(errors, i), *loc, *msg;
        CHECK(json_object_is_type(e, json_type_object));
        CHECK(type_of(e) != NULL);
        CHECK(json_object_object_get_ex(e, "loc", &loc));
        CHECK(json_object_is_type(loc, json_type_array));
        CHECK(json_object_array_length(loc) >= 1);
        CHECK(strcmp(json_object_get_string(json_object_array_get_idx(loc, 0)),
                     first_loc) == 0);
        CHECK(json_object_object_get_ex(e, "msg", &msg));
        CHECK(json_object_is_type(msg, json_type_string));
        CHECK(json_object_object_get_ex(e, "input", NULL));
    }
    CHECK(json_object_to_json_string(errors) != NULL);
}

/* Was the last validation stopped by a bound (not the document's fault)? */
static int bounded(json_object *errors)
{
    size_t n = json_object_array_length(errors);
    for (size_t i = 0; i < n; i++)
        if (strcmp(type_of(json_object_array_get_idx(errors, i)),
                   "recursion_loop") == 0)
            return 1;
    return 0;
}

static void again(const sl_jschema *s, json_object *out)
{
    json_object *errors = json_object_new_array(), *out2 = NULL;
    CHECK(errors != NULL);
    CHECK(json_object_to_json_string(out) != NULL);
    int r = sl_schema_validate(s, out, NULL, &out2, errors);
    CHECK(r == 0 || r == -ENOMEM || (r == SL_SCHEMA_INVALID && bounded(errors)));
    json_object_put(out2);
    json_object_put(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    const char *text = (const char *)data + 1;
    size_t rest = size - 1;
    const char *nul = memchr(text, '\0', rest);
    size_t slen = nul ? (size_t)(nul - text) : rest;
    const char *doc = nul ? nul + 1 : "";
    size_t dlen = nul ? rest - slen - 1 : 0;

    sl_schema_set *set = sl_schema_set_new();
    CHECK(set != NULL);
    json_tokener *tok = json_tokener_new_ex(200);
    json_object *sj = json_tokener_parse_ex(tok, text, (int)slen);
    json_tokener_free(tok);
    if (sj)
        (void)sl_schema_set_add(set, "S", sj, NULL, 0);
    json_object_put(sj);

    char err[256] = "";
    const sl_jschema *s = NULL;
    int r = sl_schema_compile_text(set, text, slen, &s, err, sizeof err);
    if (r != 0) {
        CHECK(r == -EINVAL || r == -ENOMEM);
        CHECK(err[0] != '\0');
        CHECK(s == NULL);
        sl_schema_set_free(set);
        return 0;
    }
    /* a copy of the document in a block of its size: no NUL after it */
    char *d = malloc(dlen ? dlen : 1);
    CHECK(d != NULL);
    memcpy(d, doc, dlen);
    json_object *errors = json_object_new_array(), *out = NULL;
    CHECK(errors != NULL);
    const char *first = "body";
    if (mode == 0) {
        json_object *in = NULL;
        r = sl_schema_parse_json(d, dlen, &in, errors);
        CHECK(r == 0 || r == SL_SCHEMA_INVALID || r == SL_SCHEMA_UNREADABLE ||
              r == -ENOMEM);
        if (r == SL_SCHEMA_INVALID) {
            json_object *e = json_object_array_get_idx(errors, 0), *loc;
            CHECK(strcmp(type_of(e), "json_invalid") == 0);
            CHECK(json_object_object_get_ex(e, "loc", &loc));
            CHECK((size_t)json_object_get_int64(json_object_array_get_idx(loc, 1))
                  <= dlen);
        }
        if (r == 0) {
            json_object *prefix = json_object_new_array();
            json_object_array_add(prefix, json_object_new_string("body"));
            r = sl_schema_validate(s, in, prefix, &out, errors);
            json_object_put(prefix);
        }
        json_object_put(in);
    } else if (mode == 1) {
        r = sl_schema_validate_body(s, dlen ? d : NULL, dlen, 1, &out, errors);
    } else {
        const char *vals[32];
        size_t lens[32], n = 0, start = 0;
        for (size_t i = 0; i <= dlen && n < 32; i++)
            if (i == dlen || d[i] == '&') {
                vals[n] = d + start;
                lens[n++] = i - start;
                start = i + 1;
            }
        if (dlen == 0)
            n = 0;
        first = "query";
        r = sl_schema_validate_param(s, "query", "p", vals, lens, n, 1, &out,
                                     errors);
    }
    CHECK(r == 0 || r == SL_SCHEMA_INVALID || r == SL_SCHEMA_UNREADABLE ||
          r == -ENOMEM);
    if (r == 0) {
        CHECK(json_object_array_length(errors) == 0);
        again(s, out);
    } else if (r == SL_SCHEMA_INVALID) {
        CHECK(out == NULL);
        CHECK(json_object_array_length(errors) > 0);
        check_errors(errors, first);
    }
    json_object_put(out);
    json_object_put(errors);
    free(d);
    sl_schema_set_free(set);
    return 0;
}
