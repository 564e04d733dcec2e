/*
 * fuzz_json: the JSON request body path: src/proto/jsonbody.c's
 * sl_json_parse (what sl_req_json calls) over exactly the body bytes, in
 * an exact-size heap block, not NUL-terminated.
 *
 * Checks: an accepted document serializes with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE (as a handler
 * echoing it through sl_resp_json would), that text is accepted by the
 * same parse, and compares equal with json_object_equal (with a fallback
 * for numbers that change type on the way: json-c clamps integers beyond
 * 64 bits).  A bare top-level number or literal must be accepted as the
 * whole body (once a finding: json-c waits for more digits at the end of
 * the buffer; see findings/json-bare-scalar).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/jsonbody.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * Numbers that may change type on the round trip: json-c's lenient tokener
 * reads "2e" as the double 2, which prints as "2" and comes back as an int;
 * "1111...1e" (a double 1.1e116 printed without its 'e') comes back as an
 * integer, which json-c clamps to UINT64_MAX (or INT64_MIN).
 */
static int same_number(json_object *d, json_object *i)
{
    double x = json_object_get_double(d);
    if (x == json_object_get_double(i))
        return 1;
    if (json_object_get_uint64(i) == UINT64_MAX)
        return x >= 18446744073709551615.0;
    return json_object_get_int64(i) == INT64_MIN && x <= -9223372036854775808.0;
}

/* json_object_equal, but NaN equals NaN and same_number() numbers match. */
static int equal(json_object *a, json_object *b)
{
    if (json_object_equal(a, b))
        return 1;
    if (a == NULL || b == NULL)
        return 0;
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if (ta == json_type_double && tb == json_type_int)
        return same_number(a, b);
    if (ta == json_type_int && tb == json_type_double)
        return same_number(b, a);
    if (ta != tb)
        return 0;
    switch (json_object_get_type(a)) {
    case json_type_double: {
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return isnan(x) && isnan(y);
    }
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!equal(json_object_array_get_idx(a, i),
                       json_object_array_get_idx(b, i)))
                return 0;
        return 1;
    }
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return 0;
        json_object_object_foreach(a, k, v) {
            json_object *w;
            if (!json_object_object_get_ex(b, k, &w) || !equal(v, w))
                return 0;
        }
        return 1;
    }
    default:
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Like sl_req.body: NULL when empty, else exactly the bytes. */
    char *body = size ? malloc(size) : NULL;
    if (size > 0) {
        CHECK(body != NULL);
        memcpy(body, data, size);
    }
    json_object *o = sl_json_parse(body, size);
    free(body);
    if (o == NULL)
        return 0;

    size_t slen;
    const char *s = json_object_to_json_string_length(o, FLAGS, &slen);
    CHECK(s != NULL && strlen(s) <= slen);
    char *copy = malloc(slen ? slen : 1);
    CHECK(copy != NULL);
    memcpy(copy, s, slen);
    json_object *o2 = sl_json_parse(copy, slen);
    CHECK(o2 != NULL);
    CHECK(equal(o, o2));
    free(copy);
    json_object_put(o);
    json_object_put(o2);
    return 0;
}
