/*
 * schema_values.c: JSON scalars as Python sees them once json.loads has
 * made them Python objects: == (1 == 1.0 == True), a hash that agrees
 * with it (for sets), Literal's lookup, and fresh copies of the values a
 * compiled schema holds.  See schema_int.h.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema_int.h"

/* A number's value as Python sees it; bools are 0 and 1. */
static int numeric(json_object *v, int *is_int, int64_t *i, double *d)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        *is_int = 1;
        *i = json_object_get_boolean(v);
        return 1;
    case json_type_int:
        *is_int = 1;
        *i = json_object_get_int64(v);
        return 1;
    case json_type_double:
        *is_int = 0;
        *d = json_object_get_double(v);
        return 1;
    default:
        return 0;
    }
}

int sl_py_equal(json_object *a, json_object *b)
{
    int ai, bi;
    int64_t ia = 0, ib = 0;
    double da = 0, db = 0;
    if (numeric(a, &ai, &ia, &da) && numeric(b, &bi, &ib, &db)) {
        if (ai && bi)
            return ia == ib;
        if (!ai && !bi)
            return da == db;
        int64_t i = ai ? ia : ib;
        double d = ai ? db : da;
        /* exactly, as Python compares int with float */
        if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
            d >= 9223372036854775808.0)
            return 0;
        return (int64_t)d == i;
    }
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if (ta != tb)
        return 0;
    if (ta == json_type_null)
        return 1;
    if (ta == json_type_string)
        return json_object_get_string_len(a) == json_object_get_string_len(b)
            && memcmp(json_object_get_string(a), json_object_get_string(b),
                      (size_t)json_object_get_string_len(a)) == 0;
    return 0;
}

/* A hash that agrees with Python's == on scalars (1, 1.0 and True
 * alike); NaN never equals anything, so its hash does not matter. */
static uint64_t py_hash(json_object *v)
{
    uint64_t h;
    double d;
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        h = (uint64_t)json_object_get_boolean(v);
        break;
    case json_type_int:
        h = (uint64_t)json_object_get_int64(v);
        break;
    case json_type_double:
        d = json_object_get_double(v);
        if (d == floor(d) && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0)
            h = (uint64_t)(int64_t)d;
        else
            memcpy(&h, &d, sizeof h);
        break;
    case json_type_string: {
        const unsigned char *p = (const unsigned char *)json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        h = 1469598103934665603ULL;                     /* FNV-1a */
        for (size_t i = 0; i < n; i++)
            h = (h ^ p[i]) * 1099511628211ULL;
        h ^= 0x5bd1e995;
        break;
    }
    default:
        h = 0x9e3779b97f4a7c15ULL;
    }
    h ^= h >> 33;                                       /* splitmix64's end */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Is v == an item of o already?  Short sets are searched; longer ones
 * keep a hash table of indices + 1 in *tab (cap slots, a power of 2). */
int sl_set_seen(json_object *o, json_object *v, size_t **tab, size_t *cap)
{
    size_t have = json_object_array_length(o);
    if (*tab == NULL && have < 16) {
        for (size_t j = 0; j < have; j++)
            if (sl_py_equal(json_object_array_get_idx(o, j), v))
                return 1;
        return 0;
    }
    if (*tab == NULL || have * 2 >= *cap) {
        size_t c = 64;
        while (c < have * 4)
            c *= 2;
        size_t *t = calloc(c, sizeof *t);
        if (t == NULL)
            return -ENOMEM;
        for (size_t j = 0; j < have; j++) {
            size_t k = (size_t)py_hash(json_object_array_get_idx(o, j)) & (c - 1);
            while (t[k])
                k = (k + 1) & (c - 1);
            t[k] = j + 1;
        }
        free(*tab);
        *tab = t;
        *cap = c;
    }
    size_t k = (size_t)py_hash(v) & (*cap - 1);
    for (; (*tab)[k]; k = (k + 1) & (*cap - 1))
        if (sl_py_equal(json_object_array_get_idx(o, (*tab)[k] - 1), v))
            return 1;
    (*tab)[k] = have + 1;   /* the caller adds v at index have */
    return 0;
}

/* pydantic-core's LiteralLookup, in its order: a bool only as a bool, an
 * int only as an int, a str only as a str; then floats and None by
 * Python's ==; last, any expected bool, int or str that == the input
 * (1.0 matches 1, True matches 1); of equal keys the last one counts.
 * Returns the index of the value found, or -1. */
long sl_literal_find(const struct sl_node *n, json_object *in)
{
    enum json_type t = json_object_get_type(in);
    json_object *const *v = n->u.lit.v;
    size_t cnt = n->u.lit.n;
    for (int pass = 0; pass < 3; pass++) {
        enum json_type want = pass == 0 ? json_type_boolean :
                              pass == 1 ? json_type_int : json_type_string;
        if (t != want)
            continue;
        long hit = -1;
        for (size_t i = 0; i < cnt; i++)
            if (json_object_get_type(v[i]) == want && sl_py_equal(v[i], in))
                hit = (long)i;
        if (hit >= 0)
            return hit;
    }
    if (t == json_type_array || t == json_type_object)
        return -1;
    for (size_t i = cnt; i-- > 0;) {
        enum json_type vt = json_object_get_type(v[i]);
        if ((vt == json_type_double || vt == json_type_null) &&
            sl_py_equal(v[i], in))
            return (long)i;
    }
    for (size_t i = cnt; i-- > 0;) {
        enum json_type vt = json_object_get_type(v[i]);
        if ((vt == json_type_boolean || vt == json_type_int ||
             vt == json_type_string) && sl_py_equal(v[i], in))
            return (long)i;
    }
    return -1;
}

json_object *sl_copy_value(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return NULL;
    case json_type_boolean:
        return json_object_new_boolean(json_object_get_boolean(v));
    case json_type_int:
        return json_object_new_int64(json_object_get_int64(v));
    case json_type_double:
        return sl_py_double(json_object_get_double(v));
    case json_type_string:
        return json_object_new_string_len(json_object_get_string(v),
                                          json_object_get_string_len(v));
    default: {
        json_object *c = NULL;
        json_object_deep_copy(v, &c, NULL);
        return c;
    }
    }
}
