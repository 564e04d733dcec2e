/*
 * schema_validate.c: validating a value against compiled nodes as
 * Pydantic v2 does in lax mode (pydantic-core src/validators, and
 * src/input/input_python.rs for what each type takes from what).  See
 * schema_int.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema_int.h"

/* How exactly a value matched, for smart unions (pydantic-core's
 * Exactness): the union keeps the most exact member. */
enum { EX_LAX, EX_STRICT, EX_EXACT };

#define MAX_RECURSION (SL_SCHEMA_MAX_DEPTH * 8)

/* Steps allowed per JSON value of the input, past SL_SCHEMA_MAX_STEPS:
 * a large document is not refused, exponential work on a small one is. */
#define STEPS_PER_VALUE 16

struct vst {
    struct sl_errlist *e;
    int exact;
    int has_fields;         /* fields_set_count is Some(fields) */
    long fields;
    unsigned long steps, budget;
    int counted;            /* budget grown to the input's size */
    json_object *top;
    int rec;
    int abort;              /* too deep or too much work: stop */
    pcre2_match_data *md;
};

static int validate(struct vst *st, const struct sl_node *n, json_object *in,
                    json_object **out);

static void floor_exact(struct vst *st, int e)
{
    if (e < st->exact)
        st->exact = e;
}

/* Records an error of type t at the current path; 1 (invalid) or -ENOMEM. */
static int fail(struct vst *st, int t, const struct sl_node *n, json_object *in)
{
    sl_errlist_add(st->e, t, n, in);
    return st->e->oom ? -ENOMEM : SL_SCHEMA_INVALID;
}

/* A json-c integer beyond int64 (json-c keeps uint64 too). */
static int big_uint(json_object *in)
{
    return json_object_get_int64(in) == INT64_MAX &&
           json_object_get_uint64(in) != (uint64_t)INT64_MAX;
}

/* ---- scalars ------------------------------------------------------------ */

static int v_bool(struct vst *st, const struct sl_node *n, json_object *in,
                  json_object **out)
{
    int b = -1, t = SE_BOOL_TYPE;
    int64_t i;
    switch (json_object_get_type(in)) {
    case json_type_boolean:
        *out = json_object_get(in);
        return 0;
    case json_type_string:
        b = sl_lax_bool(json_object_get_string(in),
                        (size_t)json_object_get_string_len(in));
        t = SE_BOOL_PARSING;
        break;
    case json_type_int:
        i = json_object_get_int64(in);
        if (!big_uint(in) && (i == 0 || i == 1))
            b = (int)i;
        t = big_uint(in) ? SE_BOOL_TYPE : SE_BOOL_PARSING;
        break;
    case json_type_double:
        if (sl_lax_float_as_int(json_object_get_double(in), &i) == 0) {
            t = SE_BOOL_PARSING;
            if (i == 0 || i == 1)
                b = (int)i;
        }
        break;
    default:
        break;
    }
    if (b < 0)
        return fail(st, t, n, in);
    floor_exact(st, EX_LAX);
    *out = json_object_new_boolean(b);
    return *out ? 0 : -ENOMEM;
}

/* The bounds of an INT or FLOAT node, in Pydantic's order; NaN fails all. */
static int check_bounds(struct vst *st, const struct sl_node *n,
                        json_object *in, int64_t i, double d)
{
    for (int k = 0; k < SB_COUNT; k++) {
        const struct sl_bound *b = &n->u.b[k];
        if (!b->set)
            continue;
        int ok;
        if (n->kind == SK_INT)
            ok = k == SB_LE ? i <= b->i : k == SB_LT ? i < b->i :
                 k == SB_GE ? i >= b->i : i > b->i;
        else
            ok = k == SB_LE ? d <= b->d : k == SB_LT ? d < b->d :
                 k == SB_GE ? d >= b->d : d > b->d;
        if (!ok) {
            struct sl_verr *e = sl_errlist_add(st->e, SE_BOUND, n, in);
            if (e)
                e->bound = (unsigned char)k;
            return st->e->oom ? -ENOMEM : SL_SCHEMA_INVALID;
        }
    }
    return 0;
}

/* Pydantic's lax int of in: 0 with *i, or the error type; *how is how
 * exactly it matched. */
static int lax_int(json_object *in, int64_t *i, int *how)
{
    *how = EX_LAX;
    switch (json_object_get_type(in)) {
    case json_type_int:
        *i = json_object_get_int64(in);
        *how = EX_EXACT;
        return big_uint(in) ? SE_INT_PARSING_SIZE : 0;
    case json_type_boolean:
        *i = json_object_get_boolean(in);
        return 0;
    case json_type_string:
        return sl_lax_int(json_object_get_string(in),
                          (size_t)json_object_get_string_len(in), i);
    case json_type_double:
        return sl_lax_float_as_int(json_object_get_double(in), i);
    default:
        return SE_INT_TYPE;
    }
}

/* Pydantic's lax float of in (an int is a strict match, a bool lax). */
static int lax_float(json_object *in, double *d, int *how)
{
    *how = EX_LAX;
    switch (json_object_get_type(in)) {
    case json_type_double:
        *d = json_object_get_double(in);
        *how = EX_EXACT;
        return 0;
    case json_type_int:
        *d = big_uint(in) ? (double)json_object_get_uint64(in)
                          : (double)json_object_get_int64(in);
        *how = EX_STRICT;
        return 0;
    case json_type_boolean:
        *d = json_object_get_boolean(in);
        return 0;
    case json_type_string:
        return sl_lax_float(json_object_get_string(in),
                            (size_t)json_object_get_string_len(in), d);
    default:
        return SE_FLOAT_TYPE;
    }
}

static int v_int(struct vst *st, const struct sl_node *n, json_object *in,
                 json_object **out)
{
    int64_t i = 0;
    int how, r = lax_int(in, &i, &how);
    if (r < 0)
        return r;
    if (r)
        return fail(st, r, n, in);
    floor_exact(st, how);
    if ((r = check_bounds(st, n, in, i, 0)) != 0)
        return r;
    *out = how == EX_EXACT ? json_object_get(in) : json_object_new_int64(i);
    return *out ? 0 : -ENOMEM;
}

static int v_float(struct vst *st, const struct sl_node *n, json_object *in,
                   json_object **out)
{
    double d = 0;
    int how, r = lax_float(in, &d, &how);
    if (r < 0)
        return r;
    if (r)
        return fail(st, r, n, in);
    floor_exact(st, how);
    if ((r = check_bounds(st, n, in, 0, d)) != 0)
        return r;
    /* a new double even from a double: it prints as Python's float does,
     * whatever spelling the input kept (a big integer's digits) */
    *out = sl_py_double(d);
    return *out ? 0 : -ENOMEM;
}

static int v_str(struct vst *st, const struct sl_node *n, json_object *in,
                 json_object **out)
{
    if (json_object_get_type(in) != json_type_string)
        return fail(st, SE_STRING_TYPE, n, in);
    const char *s = json_object_get_string(in);
    size_t len = (size_t)json_object_get_string_len(in);
    if (n->u.str.min >= 0 || n->u.str.max >= 0) {
        int64_t chars = (int64_t)sl_utf8_chars(s, len);
        if (n->u.str.min >= 0 && chars < n->u.str.min)
            return fail(st, SE_STRING_TOO_SHORT, n, in);
        if (n->u.str.max >= 0 && chars > n->u.str.max)
            return fail(st, SE_STRING_TOO_LONG, n, in);
    }
    if (n->u.str.re) {
        if (st->md == NULL && (st->md = pcre2_match_data_create(1, NULL)) == NULL)
            return -ENOMEM;
        int rc = pcre2_match(n->u.str.re, (PCRE2_SPTR)s, len, 0, 0, st->md,
                             n->u.str.mctx);
        if (rc == PCRE2_ERROR_NOMEMORY)
            return -ENOMEM;
        if (rc < 0)     /* no match, or a limit: a mismatch (schema.h) */
            return fail(st, SE_STRING_PATTERN, n, in);
    }
    *out = json_object_get(in);
    return 0;
}

/* ---- containers --------------------------------------------------------- */

static int too_long(struct vst *st, const struct sl_node *n, json_object *in,
                    int64_t actual, int is_set)
{
    struct sl_verr *e = sl_errlist_add(st->e, SE_TOO_LONG, n, in);
    if (e) {
        e->a = n->u.arr.max;
        e->b = actual;
        e->is_set = (unsigned char)is_set;
    }
    return st->e->oom ? -ENOMEM : SL_SCHEMA_INVALID;
}

static int too_short(struct vst *st, const struct sl_node *n, json_object *in,
                     int64_t actual, int is_set)
{
    struct sl_verr *e = sl_errlist_add(st->e, SE_TOO_SHORT, n, in);
    if (e) {
        e->a = n->u.arr.min;
        e->b = actual;
        e->is_set = (unsigned char)is_set;
    }
    return st->e->oom ? -ENOMEM : SL_SCHEMA_INVALID;
}

/* Validates in's item i at path step i. */
static int item(struct vst *st, const struct sl_node *n, json_object *in,
                size_t i, json_object **out)
{
    if (sl_errlist_push(st->e, NULL, 0, (int64_t)i))
        return -ENOMEM;
    int r = validate(st, n, json_object_array_get_idx(in, i), out);
    sl_errlist_pop(st->e);
    return r;
}

static int v_list(struct vst *st, const struct sl_node *n, json_object *in,
                  json_object **out)
{
    if (json_object_get_type(in) != json_type_array)
        return fail(st, SE_LIST_TYPE, n, in);
    size_t len = json_object_array_length(in);
    const struct sl_node *it = n->u.arr.items;
    if (it->kind == SK_ANY) {
        /* list[Any]: no item validator, lengths checked first */
        if (n->u.arr.min >= 0 && (int64_t)len < n->u.arr.min)
            return too_short(st, n, in, (int64_t)len, 0);
        if (n->u.arr.max >= 0 && (int64_t)len > n->u.arr.max)
            return too_long(st, n, in, (int64_t)len, 0);
    }
    json_object *o = json_object_new_array_ext((int)(len ? len : 1));
    if (o == NULL)
        return -ENOMEM;
    struct sl_errmark m;
    sl_errlist_mark(st->e, &m);
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        json_object *v = NULL;
        int r = it->kind == SK_ANY ? (v = json_object_get(
                    json_object_array_get_idx(in, i)), 0)
                                   : item(st, it, in, i, &v);
        if (r < 0 || st->abort) {
            json_object_put(o);
            return r < 0 ? r : SL_SCHEMA_INVALID;
        }
        if (n->u.arr.max >= 0 && (int64_t)i + 1 > n->u.arr.max) {
            /* the item past the limit ends it, its errors forgotten */
            json_object_put(v);
            json_object_put(o);
            sl_errlist_rollback(st->e, &m);
            return too_long(st, n, in, (int64_t)len, 0);
        }
        if (r == 0 && !bad) {
            if (json_object_array_add(o, v)) {
                json_object_put(v);
                json_object_put(o);
                return -ENOMEM;
            }
        } else {
            json_object_put(v);
            bad = 1;
        }
    }
    if (bad) {
        json_object_put(o);
        return SL_SCHEMA_INVALID;
    }
    if (n->u.arr.min >= 0 && (int64_t)len < n->u.arr.min) {
        json_object_put(o);
        return too_short(st, n, in, (int64_t)len, 0);
    }
    *out = o;
    return 0;
}

static int v_set(struct vst *st, const struct sl_node *n, json_object *in,
                 json_object **out)
{
    if (json_object_get_type(in) != json_type_array)
        return fail(st, SE_SET_TYPE, n, in);
    floor_exact(st, EX_LAX);    /* a set from a list */
    size_t len = json_object_array_length(in), *tab = NULL, cap = 0;
    json_object *o = json_object_new_array_ext((int)(len ? len : 1));
    if (o == NULL)
        return -ENOMEM;
    struct sl_errmark m;
    sl_errlist_mark(st->e, &m);
    int bad = 0, r = 0;
    for (size_t i = 0; i < len && !st->abort; i++) {
        json_object *v = NULL;
        if ((r = item(st, n->u.arr.items, in, i, &v)) < 0)
            break;
        if (r) {
            bad = 1;
            continue;
        }
        size_t have = json_object_array_length(o);
        int dup = sl_set_seen(o, v, &tab, &cap);
        if (dup) {
            json_object_put(v);
            if ((r = dup < 0 ? dup : 0) < 0)
                break;
            continue;
        }
        if (json_object_array_add(o, v)) {
            json_object_put(v);
            r = -ENOMEM;
            break;
        }
        if (n->u.arr.max >= 0 && (int64_t)have + 1 > n->u.arr.max) {
            json_object_put(o);
            free(tab);
            sl_errlist_rollback(st->e, &m);
            return too_long(st, n, in, -1, 1);
        }
    }
    free(tab);
    size_t have = json_object_array_length(o);
    if (r < 0 || bad || st->abort) {
        json_object_put(o);
        return r < 0 ? r : SL_SCHEMA_INVALID;
    }
    if (n->u.arr.min >= 0 && (int64_t)have < n->u.arr.min) {
        json_object_put(o);
        return too_short(st, n, in, (int64_t)have, 1);
    }
    *out = o;
    return 0;
}

/* Validates v, in's member k, at path step k, and adds the result to o as
 * k (new to o if is_new) unless *bad.  Returns 0, 1 when
 * the member is invalid (and sets *bad), or -ENOMEM. */
static int member(struct vst *st, const struct sl_node *n, const char *k,
                  json_object *v, json_object *o, int *bad, int is_new)
{
    json_object *ov = NULL;
    if (sl_errlist_push(st->e, k, strlen(k), 0))
        return -ENOMEM;
    int r = validate(st, n, v, &ov);
    sl_errlist_pop(st->e);
    if (r != 0 || *bad) {
        json_object_put(ov);
        if (r > 0)
            *bad = 1;
        return r;
    }
    if (json_object_object_add_ex(o, k, ov, is_new ?
                                  JSON_C_OBJECT_ADD_KEY_IS_NEW : 0)) {
        json_object_put(ov);
        return -ENOMEM;
    }
    return 0;
}

static int v_dict(struct vst *st, const struct sl_node *n, json_object *in,
                  json_object **out)
{
    if (json_object_get_type(in) != json_type_object)
        return fail(st, SE_DICT_TYPE, n, in);
    json_object *o = json_object_new_object();
    if (o == NULL)
        return -ENOMEM;
    int bad = 0;
    json_object_object_foreach(in, k, v) {
        int r = member(st, n->u.dict.values, k, v, o, &bad, 0);
        if (r < 0 || st->abort) {
            json_object_put(o);
            return r < 0 ? r : SL_SCHEMA_INVALID;
        }
    }
    if (bad) {
        json_object_put(o);
        return SL_SCHEMA_INVALID;
    }
    *out = o;
    return 0;
}

static int is_prop(const struct sl_node *n, const char *k)
{
    for (size_t i = 0; i < n->u.model.n; i++)
        if (strcmp(n->u.model.props[i].name, k) == 0)
            return 1;
    return 0;
}

static int v_model(struct vst *st, const struct sl_node *n, json_object *in,
                   json_object **out)
{
    if (json_object_get_type(in) != json_type_object)
        return fail(st, SE_MODEL_TYPE, n, in);
    floor_exact(st, EX_STRICT);     /* a new model from a dict */
    json_object *o = json_object_new_object();
    if (o == NULL)
        return -ENOMEM;
    int bad = 0, r = 0;
    long set = 0;
    for (size_t i = 0; i < n->u.model.n && r >= 0 && !st->abort; i++) {
        r = 0;
        const struct sl_prop *p = &n->u.model.props[i];
        json_object *v;
        if (json_object_object_get_ex(in, p->name, &v)) {
            r = member(st, p->node, p->name, v, o, &bad, 1);
            set += r == 0;
        } else if (p->has_def) {
            json_object *d = NULL;
            if (p->def && json_object_deep_copy(p->def, &d, NULL))
                r = -ENOMEM;
            else if (json_object_object_add_ex(o, p->name, d,
                         JSON_C_OBJECT_ADD_KEY_IS_NEW))
                json_object_put(d), r = -ENOMEM;
        } else if (p->required) {
            if (sl_errlist_push(st->e, p->name, strlen(p->name), 0))
                r = -ENOMEM;
            else {
                r = fail(st, SE_MISSING, n, in);
                sl_errlist_pop(st->e);
                bad = 1;
            }
        }
    }
    if (n->u.model.extra != SL_EXTRA_IGNORE && r >= 0 && !st->abort) {
        json_object_object_foreach(in, k, v) {
            if (is_prop(n, k))
                continue;
            if (n->u.model.extra == SL_EXTRA_FORBID) {
                if (sl_errlist_push(st->e, k, strlen(k), 0)) {
                    r = -ENOMEM;
                    break;
                }
                r = fail(st, SE_EXTRA_FORBIDDEN, n, v);
                sl_errlist_pop(st->e);
                bad = 1;
            } else if (n->u.model.extras) {
                r = member(st, n->u.model.extras, k, v, o, &bad, 0);
                if (r > 0)
                    r = 0;
            } else if (!bad) {
                json_object_get(v);
                if (json_object_object_add(o, k, v))
                    json_object_put(v), r = -ENOMEM;
            }
            if (r < 0 || st->abort)
                break;
        }
    }
    if (r < 0 || bad || st->abort) {
        json_object_put(o);
        return r < 0 ? r : SL_SCHEMA_INVALID;
    }
    st->fields += set;
    st->has_fields = 1;
    *out = o;
    return 0;
}

/* ---- literals, unions ---------------------------------------------------- */

static int v_literal(struct vst *st, const struct sl_node *n, json_object *in,
                     json_object **out)
{
    long i = sl_literal_find(n, in);
    if (i < 0)
        return fail(st, SE_LITERAL, n, in);
    json_object *v = n->u.lit.v[i];
    *out = sl_copy_value(v);
    return *out || v == NULL ? 0 : -ENOMEM;
}

/*
 * An Enum class (pydantic-core enum_.rs): the input converted as the
 * mixin's type would be (str exactly, int and float laxly), then looked
 * up; a plain Enum looks up as a Literal does.  The output is the member's
 * value, as its mixin made it (2 in a float Enum is 2.0).  Never better
 * than a lax match.
 */
static int v_enum(struct vst *st, const struct sl_node *n, json_object *in,
                  json_object **out)
{
    json_object *const *v = n->u.lit.v;
    long hit = -1;
    int64_t i;
    double d;
    int how;
    floor_exact(st, EX_LAX);
    switch (n->u.lit.sub) {
    case SL_ENUM_STR:
        if (json_object_get_type(in) == json_type_string)
            for (size_t k = 0; k < n->u.lit.n && hit < 0; k++)
                if (sl_py_equal(v[k], in))
                    hit = (long)k;
        break;
    case SL_ENUM_INT:
        if (lax_int(in, &i, &how) == 0)
            for (size_t k = 0; k < n->u.lit.n && hit < 0; k++)
                if (json_object_get_type(v[k]) == json_type_int ?
                    json_object_get_int64(v[k]) == i :
                    json_object_get_double(v[k]) == (double)i)
                    hit = (long)k;
        break;
    case SL_ENUM_FLOAT:
        if (lax_float(in, &d, &how) == 0)
            for (size_t k = 0; k < n->u.lit.n && hit < 0; k++)
                if (json_object_get_double(v[k]) == d)
                    hit = (long)k;
        break;
    default:
        hit = sl_literal_find(n, in);
    }
    if (hit < 0)
        return fail(st, SE_ENUM, n, in);
    json_object *m = v[hit];
    switch (n->u.lit.sub) {
    case SL_ENUM_INT:
        *out = json_object_new_int64(json_object_get_type(m) == json_type_int ?
                                     json_object_get_int64(m) :
                                     (int64_t)json_object_get_double(m));
        break;
    case SL_ENUM_FLOAT:
        *out = sl_py_double(json_object_get_double(m));
        break;
    default:
        *out = sl_copy_value(m);
    }
    return *out || m == NULL ? 0 : -ENOMEM;
}

/* Smart mode (pydantic-core union.rs validate_smart): an exact match
 * without fields wins at once; else the most fields set, then the most
 * exact; the first of equals.  Members' errors carry their label. */
static int v_union(struct vst *st, const struct sl_node *n, json_object *in,
                   json_object **out)
{
    int old_exact = st->exact, old_has = st->has_fields;
    long old_fields = st->fields;
    struct sl_errmark m;
    sl_errlist_mark(st->e, &m);
    json_object *best = NULL;
    int have = 0, best_exact = 0, best_has = 0;
    long best_fields = 0;
    for (size_t i = 0; i < n->u.alt.n; i++) {
        const struct sl_node *c = n->u.alt.c[i];
        st->exact = EX_EXACT;
        st->has_fields = 0;
        st->fields = 0;
        json_object *o = NULL;
        if (sl_errlist_push(st->e, c->label, strlen(c->label), 0)) {
            json_object_put(best);
            return -ENOMEM;
        }
        int r = validate(st, c, in, &o);
        sl_errlist_pop(st->e);
        if (r < 0 || st->abort) {
            json_object_put(best);
            return r < 0 ? r : SL_SCHEMA_INVALID;
        }
        if (r)
            continue;
        if (st->exact == EX_EXACT && !st->has_fields) {
            json_object_put(best);
            st->exact = old_exact;
            st->has_fields = old_has;
            st->fields = old_fields;
            sl_errlist_rollback(st->e, &m);
            *out = o;
            return 0;
        }
        int better = !have ||
            (best_has && st->has_fields && best_fields != st->fields
                 ? best_fields < st->fields : best_exact < st->exact);
        if (better) {
            json_object_put(best);
            best = o;
            have = 1;
            best_exact = st->exact;
            best_has = st->has_fields;
            best_fields = st->fields;
        } else {
            json_object_put(o);
        }
    }
    st->exact = old_exact;
    st->has_fields = old_has;
    st->fields = old_fields;
    if (!have)
        return SL_SCHEMA_INVALID;
    floor_exact(st, best_exact);
    if (best_has) {
        st->fields += best_fields;
        st->has_fields = 1;
    }
    sl_errlist_rollback(st->e, &m);
    *out = best;
    return 0;
}

/* allOf: every member on the same input; objects merged in order (a key
 * keeps its first value), anything else the first member's output. */
static int v_allof(struct vst *st, const struct sl_node *n, json_object *in,
                   json_object **out)
{
    json_object *acc = NULL;
    int bad = 0, first = 1;
    for (size_t i = 0; i < n->u.alt.n; i++) {
        json_object *o = NULL;
        int r = validate(st, n->u.alt.c[i], in, &o);
        if (r < 0 || st->abort) {
            json_object_put(acc);
            return r < 0 ? r : SL_SCHEMA_INVALID;
        }
        if (r || bad) {
            bad |= r != 0;
            json_object_put(o);
            continue;
        }
        if (first) {
            acc = o;
            first = 0;
            continue;
        }
        if (json_object_get_type(acc) == json_type_object &&
            json_object_get_type(o) == json_type_object) {
            json_object_object_foreach(o, k, v) {
                if (json_object_object_get_ex(acc, k, NULL))
                    continue;
                if (json_object_object_add(acc, k, json_object_get(v))) {
                    json_object_put(o);
                    json_object_put(acc);
                    return -ENOMEM;
                }
            }
        }
        json_object_put(o);
    }
    if (bad) {
        json_object_put(acc);
        return SL_SCHEMA_INVALID;
    }
    *out = acc;
    return 0;
}

/* The JSON values in v (as deep as the validator goes). */
static unsigned long count_values(json_object *v, int depth)
{
    unsigned long n = 1;
    if (depth > MAX_RECURSION)
        return n;
    if (json_object_get_type(v) == json_type_array) {
        size_t len = json_object_array_length(v);
        for (size_t i = 0; i < len; i++)
            n += count_values(json_object_array_get_idx(v, i), depth + 1);
    } else if (json_object_get_type(v) == json_type_object) {
        json_object_object_foreach(v, k, x) {
            (void)k;
            n += count_values(x, depth + 1);
        }
    }
    return n;
}

static int validate(struct vst *st, const struct sl_node *n, json_object *in,
                    json_object **out)
{
    *out = NULL;
    if (++st->steps > st->budget && !st->counted) {
        st->counted = 1;
        unsigned long b = STEPS_PER_VALUE * count_values(st->top, 0);
        if (b > st->budget)
            st->budget = b;
    }
    if (st->steps > st->budget || st->rec >= MAX_RECURSION) {
        st->abort = 1;
        return SL_SCHEMA_INVALID;
    }
    int r;
    st->rec++;
    switch (n->kind) {
    case SK_ANY:
        floor_exact(st, EX_STRICT);
        *out = json_object_get(in);
        r = 0;
        break;
    case SK_NONE:
        r = in == NULL ? 0 : fail(st, SE_NONE_REQUIRED, n, in);
        break;
    case SK_BOOL: r = v_bool(st, n, in, out); break;
    case SK_INT: r = v_int(st, n, in, out); break;
    case SK_FLOAT: r = v_float(st, n, in, out); break;
    case SK_STR: r = v_str(st, n, in, out); break;
    case SK_LIST: r = v_list(st, n, in, out); break;
    case SK_SET: r = v_set(st, n, in, out); break;
    case SK_DICT: r = v_dict(st, n, in, out); break;
    case SK_MODEL: r = v_model(st, n, in, out); break;
    case SK_LITERAL: r = v_literal(st, n, in, out); break;
    case SK_ENUM: r = v_enum(st, n, in, out); break;
    case SK_UNION: r = v_union(st, n, in, out); break;
    case SK_NULLABLE:
        r = in == NULL ? 0 : validate(st, n->u.nul.inner, in, out);
        break;
    case SK_REF: r = validate(st, n->u.ref.target, in, out); break;
    case SK_ALLOF: r = v_allof(st, n, in, out); break;
    default: r = -EINVAL;
    }
    st->rec--;
    if (r != 0 && *out) {
        json_object_put(*out);
        *out = NULL;
    }
    return r;
}

/* ---- entry points ------------------------------------------------------- */

int sl_schema_check(const struct sl_node *root, json_object *input,
                    struct sl_errlist *errs, json_object **out)
{
    struct vst st = {.e = errs, .exact = EX_EXACT,
                     .budget = SL_SCHEMA_MAX_STEPS, .top = input};
    *out = NULL;
    int r = validate(&st, root, input, out);
    pcre2_match_data_free(st.md);
    if (st.abort) {
        /* one error for the whole value: where it went wrong is moot */
        struct sl_errmark none = {0, 0, 0};
        json_object_put(*out);
        *out = NULL;
        sl_errlist_rollback(errs, &none);
        errs->depth = 0;
        sl_errlist_add(errs, SE_RECURSION, root, input);
        r = SL_SCHEMA_INVALID;
    }
    if (errs->oom)
        r = -ENOMEM;
    if (r != 0) {
        json_object_put(*out);
        *out = NULL;
    }
    return r;
}
