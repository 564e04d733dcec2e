/*
 * schema_compile.c: one schema object's keywords to compiled nodes, as
 * schema.h maps them to Pydantic's types: what a keyword takes, which may
 * stand together, the messages of the bounds and literals.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema_build.h"

enum {
    C_ANNOT = 1, C_STR = 2, C_NUM = 4, C_ARR = 8, C_OBJ = 16, C_OTHER = 32,
    C_ROOT = 64
};

enum {
    K_TYPE, K_PROPERTIES, K_REQUIRED, K_ADDPROPS, K_ITEMS, K_ENUM, K_CONST,
    K_MINIMUM, K_MAXIMUM, K_EXMIN, K_EXMAX, K_MINLEN, K_MAXLEN, K_PATTERN,
    K_MINITEMS, K_MAXITEMS, K_UNIQUE, K_REF, K_ALLOF, K_ANYOF, K_ONEOF,
    K_DEFAULT, K_DEFS, K_SCHEMA, K_TITLE, K_DESCRIPTION, K_EXAMPLES,
    K_EXAMPLE, K_FORMAT, K_DEPRECATED, K_READONLY, K_WRITEONLY, K_COMMENT,
    K_COUNT
};

static const struct {
    const char *name;
    int cls;
} kws[K_COUNT] = {
    [K_TYPE] = {"type", C_OTHER},
    [K_PROPERTIES] = {"properties", C_OBJ},
    [K_REQUIRED] = {"required", C_OBJ},
    [K_ADDPROPS] = {"additionalProperties", C_OBJ},
    [K_ITEMS] = {"items", C_ARR},
    [K_ENUM] = {"enum", C_OTHER},
    [K_CONST] = {"const", C_OTHER},
    [K_MINIMUM] = {"minimum", C_NUM},
    [K_MAXIMUM] = {"maximum", C_NUM},
    [K_EXMIN] = {"exclusiveMinimum", C_NUM},
    [K_EXMAX] = {"exclusiveMaximum", C_NUM},
    [K_MINLEN] = {"minLength", C_STR},
    [K_MAXLEN] = {"maxLength", C_STR},
    [K_PATTERN] = {"pattern", C_STR},
    [K_MINITEMS] = {"minItems", C_ARR},
    [K_MAXITEMS] = {"maxItems", C_ARR},
    [K_UNIQUE] = {"uniqueItems", C_ARR},
    [K_REF] = {"$ref", C_OTHER},
    [K_ALLOF] = {"allOf", C_OTHER},
    [K_ANYOF] = {"anyOf", C_OTHER},
    [K_ONEOF] = {"oneOf", C_OTHER},
    [K_DEFAULT] = {"default", C_ANNOT},
    [K_DEFS] = {"$defs", C_ROOT},
    [K_SCHEMA] = {"$schema", C_ROOT},
    [K_TITLE] = {"title", C_ANNOT},
    [K_DESCRIPTION] = {"description", C_ANNOT},
    [K_EXAMPLES] = {"examples", C_ANNOT},
    [K_EXAMPLE] = {"example", C_ANNOT},
    [K_FORMAT] = {"format", C_ANNOT},
    [K_DEPRECATED] = {"deprecated", C_ANNOT},
    [K_READONLY] = {"readOnly", C_ANNOT},
    [K_WRITEONLY] = {"writeOnly", C_ANNOT},
    [K_COMMENT] = {"$comment", C_ANNOT},
};

enum { T_STRING, T_INTEGER, T_NUMBER, T_BOOLEAN, T_NULL, T_ARRAY, T_OBJECT,
       T_COUNT };
static const char *const type_names[T_COUNT] = {
    "string", "integer", "number", "boolean", "null", "array", "object"
};

/* One schema object's keywords. */
struct kwset {
    json_object *v[K_COUNT];
    int has[K_COUNT];
    const char *where;
    json_object *doc;           /* the document, for #/$defs */
    const char *model_name;     /* a named schema's name */
    int depth;
};

static int is_type(json_object *v, enum json_type t)
{
    return json_object_get_type(v) == t;
}

static int is_number(json_object *v)
{
    return is_type(v, json_type_int) || is_type(v, json_type_double);
}

/* A non-negative integer keyword (minLength...): 0 with *out, or -1. */
static int count_kw(struct sl_cx *cx, const struct kwset *k, int kw, int64_t *out)
{
    *out = -1;
    if (!k->has[kw])
        return 0;
    json_object *v = k->v[kw];
    double d;
    if (is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
        *out = json_object_get_int64(v);
        return 0;
    }
    if (is_type(v, json_type_double) && (d = json_object_get_double(v)) >= 0 &&
        d == floor(d) && d < 9007199254740992.0) {
        *out = (int64_t)d;
        return 0;
    }
    sl_sc_fail(cx, k->where, kws[kw].name, "not a non-negative integer");
    return -1;
}

/* The node of a type name's keywords (kinds INT, FLOAT). */
static int bounds(struct sl_cx *cx, const struct kwset *k, struct sl_node *n)
{
    static const int kw_of[SB_COUNT] = {
        [SB_LE] = K_MAXIMUM, [SB_LT] = K_EXMAX, [SB_GE] = K_MINIMUM,
        [SB_GT] = K_EXMIN
    };
    static const char *const words[SB_COUNT] = {
        [SB_LE] = "less than or equal to", [SB_LT] = "less than",
        [SB_GE] = "greater than or equal to", [SB_GT] = "greater than"
    };
    for (int b = 0; b < SB_COUNT; b++) {
        int kw = kw_of[b];
        if (!k->has[kw])
            continue;
        json_object *v = k->v[kw];
        if (!is_number(v)) {
            sl_sc_fail(cx, k->where, kws[kw].name, is_type(v, json_type_boolean) ?
                    "not a number (OpenAPI 3.0's boolean form is not 3.1's)" :
                    "not a number");
            return -1;
        }
        struct sl_bound *sb = &n->u.b[b];
        char num[400], msg[480];
        sb->set = 1;
        if (n->kind == SK_INT) {
            if (is_type(v, json_type_int)) {
                sb->i = json_object_get_int64(v);
            } else {
                double d = json_object_get_double(v);
                if (d != floor(d) || !(d > -9223372036854775808.0 &&
                                        d < 9223372036854775808.0)) {
                    sl_sc_fail(cx, k->where, kws[kw].name, "not an integer, for "
                            "type integer (Pydantic: 'must be coercible to an "
                            "integer')");
                    return -1;
                }
                sb->i = (int64_t)d;
            }
            snprintf(num, sizeof num, "%" PRId64, sb->i);
        } else {
            sb->d = json_object_get_double(v);
            sl_rust_display_double(sb->d, num, sizeof num);
        }
        snprintf(msg, sizeof msg, "Input should be %s %s", words[b], num);
        if ((sb->msg = sl_sc_strdup(cx->set, msg)) == NULL) {
            sl_sc_oom(cx);
            return -1;
        }
        n->constrained = 1;
    }
    return 0;
}

static struct sl_node *build_string(struct sl_cx *cx, const struct kwset *k)
{
    struct sl_node *n = sl_sc_node(cx, SK_STR, k->where);
    if (n == NULL || count_kw(cx, k, K_MINLEN, &n->u.str.min) ||
        count_kw(cx, k, K_MAXLEN, &n->u.str.max))
        return NULL;
    char msg[600];
    if (n->u.str.min >= 0) {
        snprintf(msg, sizeof msg, "String should have at least %" PRId64
                 " character%s", n->u.str.min, n->u.str.min == 1 ? "" : "s");
        if ((n->u.str.msg_min = sl_sc_strdup(cx->set, msg)) == NULL)
            goto oom;
    }
    if (n->u.str.max >= 0) {
        snprintf(msg, sizeof msg, "String should have at most %" PRId64
                 " character%s", n->u.str.max, n->u.str.max == 1 ? "" : "s");
        if ((n->u.str.msg_max = sl_sc_strdup(cx->set, msg)) == NULL)
            goto oom;
    }
    if (k->has[K_PATTERN]) {
        json_object *p = k->v[K_PATTERN];
        if (!is_type(p, json_type_string)) {
            sl_sc_fail(cx, k->where, "pattern", "not a string");
            return NULL;
        }
        int code;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile(
            (PCRE2_SPTR)json_object_get_string(p),
            (PCRE2_SIZE)json_object_get_string_len(p),
            PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
        if (re == NULL) {
            PCRE2_UCHAR why[160];
            pcre2_get_error_message(code, why, sizeof why);
            sl_sc_fail(cx, k->where, "pattern", "invalid pattern: %s at offset %zu",
                    (char *)why, (size_t)off);
            return NULL;
        }
        if (sl_sc_grow((void **)&cx->set->codes, &cx->set->capcodes,
                 cx->set->ncodes + 1, sizeof *cx->set->codes)) {
            pcre2_code_free(re);
            goto oom;
        }
        cx->set->codes[cx->set->ncodes++] = re;
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* faster if it can */
        n->u.str.re = re;
        n->u.str.mctx = cx->set->mctx;
        n->u.str.pattern = json_object_get_string(p);
        size_t need = strlen(n->u.str.pattern) + 40;
        char *m = sl_sc_alloc(cx->set, need);
        if (m == NULL)
            goto oom;
        snprintf(m, need, "String should match pattern '%s'", n->u.str.pattern);
        n->u.str.msg_pat = m;
    }
    n->constrained = k->has[K_MINLEN] || k->has[K_MAXLEN] || k->has[K_PATTERN];
    return n;
oom:
    sl_sc_oom(cx);
    return NULL;
}

static struct sl_node *build_array(struct sl_cx *cx, const struct kwset *k)
{
    json_object *u = k->v[K_UNIQUE];
    if (k->has[K_UNIQUE] && !is_type(u, json_type_boolean)) {
        sl_sc_fail(cx, k->where, "uniqueItems", "not a boolean");
        return NULL;
    }
    int set = k->has[K_UNIQUE] && json_object_get_boolean(u);
    struct sl_node *n = sl_sc_node(cx, set ? SK_SET : SK_LIST, k->where);
    if (n == NULL || count_kw(cx, k, K_MINITEMS, &n->u.arr.min) ||
        count_kw(cx, k, K_MAXITEMS, &n->u.arr.max))
        return NULL;
    if (k->has[K_ITEMS]) {
        char *w = sl_sc_ptr(cx, k->where, "items");
        n->u.arr.items = w ? sl_sc_build(cx, k->v[K_ITEMS], w, k->doc, k->depth + 1,
                                   NULL) : NULL;
    } else {
        n->u.arr.items = sl_sc_node(cx, SK_ANY, k->where);
    }
    return n->u.arr.items ? n : NULL;
}

static struct sl_node *build_object(struct sl_cx *cx, const struct kwset *k)
{
    json_object *props = k->v[K_PROPERTIES], *req = k->v[K_REQUIRED],
                *add = k->v[K_ADDPROPS];
    if (k->has[K_PROPERTIES] && !is_type(props, json_type_object)) {
        sl_sc_fail(cx, k->where, "properties", "not an object");
        return NULL;
    }
    size_t nreq = 0;
    if (k->has[K_REQUIRED]) {
        if (!is_type(req, json_type_array)) {
            sl_sc_fail(cx, k->where, "required", "not an array of names");
            return NULL;
        }
        nreq = json_object_array_length(req);
        for (size_t i = 0; i < nreq; i++) {
            json_object *r = json_object_array_get_idx(req, i);
            if (!is_type(r, json_type_string)) {
                sl_sc_fail(cx, k->where, "required", "not an array of names");
                return NULL;
            }
            const char *name = json_object_get_string(r);
            for (size_t j = 0; j < i; j++)
                if (strcmp(json_object_get_string(
                        json_object_array_get_idx(req, j)), name) == 0) {
                    sl_sc_fail(cx, k->where, "required", "'%s' listed twice", name);
                    return NULL;
                }
            if (!k->has[K_PROPERTIES] ||
                !json_object_object_get_ex(props, name, NULL)) {
                sl_sc_fail(cx, k->where, "required", "'%s' is not in properties "
                        "(a model has no field to require)", name);
                return NULL;
            }
        }
    }
    if (k->has[K_ADDPROPS] && !is_type(add, json_type_boolean) &&
        !is_type(add, json_type_object)) {
        sl_sc_fail(cx, k->where, "additionalProperties",
                "not a boolean or a schema");
        return NULL;
    }
    int add_false = k->has[K_ADDPROPS] && is_type(add, json_type_boolean) &&
                    !json_object_get_boolean(add);
    int add_true = k->has[K_ADDPROPS] && ((is_type(add, json_type_boolean) &&
                   json_object_get_boolean(add)) || (is_type(add,
                   json_type_object) && json_object_object_length(add) == 0));
    struct sl_node *extras = NULL;
    if (k->has[K_ADDPROPS] && !add_false && !add_true) {
        char *w = sl_sc_ptr(cx, k->where, "additionalProperties");
        if (w == NULL ||
            (extras = sl_sc_build(cx, add, w, k->doc, k->depth + 1, NULL)) == NULL)
            return NULL;
    }
    if (!k->has[K_PROPERTIES] && !add_false) {
        /* dict[str, additionalProperties] */
        struct sl_node *n = sl_sc_node(cx, SK_DICT, k->where);
        if (n == NULL)
            return NULL;
        n->u.dict.values = extras ? extras : sl_sc_node(cx, SK_ANY, k->where);
        return n->u.dict.values ? n : NULL;
    }
    struct sl_node *n = sl_sc_node(cx, SK_MODEL, k->where);
    if (n == NULL)
        return NULL;
    n->u.model.extra = add_false ? SL_EXTRA_FORBID :
                       k->has[K_ADDPROPS] ? SL_EXTRA_ALLOW : SL_EXTRA_IGNORE;
    n->u.model.extras = extras;
    json_object *title = k->v[K_TITLE];
    n->label = k->has[K_TITLE] && is_type(title, json_type_string) ?
               json_object_get_string(title) :
               k->model_name ? k->model_name : "Model";
    size_t np = k->has[K_PROPERTIES] ? (size_t)json_object_object_length(props)
                                     : 0;
    n->u.model.n = np;
    if (np && (n->u.model.props = sl_sc_alloc(cx->set, np *
                                              sizeof *n->u.model.props)) == NULL) {
        sl_sc_oom(cx);
        return NULL;
    }
    char *pw = np ? sl_sc_ptr(cx, k->where, "properties") : NULL;
    if (np && pw == NULL)
        return NULL;
    size_t i = 0;
    if (np) {
        json_object_object_foreach(props, name, ps) {
            struct sl_prop *p = &n->u.model.props[i++];
            char *w = sl_sc_ptr(cx, pw, name);
            if (w == NULL)
                return NULL;
            p->name = name;
            for (size_t j = 0; j < nreq; j++)
                if (strcmp(json_object_get_string(
                        json_object_array_get_idx(req, j)), name) == 0)
                    p->required = 1;
            if (is_type(ps, json_type_object) &&
                json_object_object_get_ex(ps, "default", &p->def)) {
                if (p->required) {
                    sl_sc_fail(cx, w, NULL, "required and with a default (a "
                            "field with a default is not required)");
                    return NULL;
                }
                p->has_def = 1;
            }
            if ((p->node = sl_sc_build(cx, ps, w, k->doc, k->depth + 1, NULL)) == NULL)
                return NULL;
        }
    }
    return n;
}

/* The kinds a constraint class applies to. */
static int applies(int cls, const int *types)
{
    return (cls == C_STR && types[T_STRING]) ||
           (cls == C_NUM && (types[T_INTEGER] || types[T_NUMBER])) ||
           (cls == C_ARR && types[T_ARRAY]) ||
           (cls == C_OBJ && types[T_OBJECT]);
}

/* "type" (a name or an array of names) into types[]; the order into
 * order[], the count returned; -1 on error. */
static int parse_types(struct sl_cx *cx, const struct kwset *k, int *types,
                       int *order)
{
    json_object *t = k->v[K_TYPE];
    size_t n = is_type(t, json_type_array) ? json_object_array_length(t) : 1;
    if (!is_type(t, json_type_string) && (!is_type(t, json_type_array) || n == 0)) {
        sl_sc_fail(cx, k->where, "type", "not a type name or an array of them");
        return -1;
    }
    int cnt = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = is_type(t, json_type_array) ?
                         json_object_array_get_idx(t, i) : t;
        const char *s = is_type(e, json_type_string) ? json_object_get_string(e)
                                                     : "";
        int j;
        for (j = 0; j < T_COUNT && strcmp(type_names[j], s) != 0; j++)
            ;
        if (j == T_COUNT) {
            sl_sc_fail(cx, k->where, "type", "unknown type '%s'", s);
            return -1;
        }
        if (types[j]) {
            sl_sc_fail(cx, k->where, "type", "'%s' listed twice", s);
            return -1;
        }
        types[j] = 1;
        order[cnt++] = j;
    }
    return cnt;
}

/* Python's typing: one member is itself, "null" makes it Optional. */
static struct sl_node *union_of(struct sl_cx *cx, const char *where,
                                struct sl_node **c, size_t n, int nullable)
{
    struct sl_node *u;
    if (n == 0)
        return sl_sc_node(cx, SK_NONE, where);
    if (n == 1) {
        u = c[0];
    } else {
        if ((u = sl_sc_node(cx, SK_UNION, where)) == NULL)
            return NULL;
        if ((u->u.alt.c = sl_sc_alloc(cx->set, n * sizeof *c)) == NULL) {
            sl_sc_oom(cx);
            return NULL;
        }
        memcpy(u->u.alt.c, c, n * sizeof *c);
        u->u.alt.n = n;
    }
    if (!nullable)
        return u;
    struct sl_node *w = sl_sc_node(cx, SK_NULLABLE, where);
    if (w)
        w->u.nul.inner = u;
    return w;
}

/* type and the keywords of types. */
static struct sl_node *build_typed(struct sl_cx *cx, const struct kwset *k)
{
    int types[T_COUNT] = {0}, order[T_COUNT], cnt = 0;
    if (k->has[K_TYPE] && (cnt = parse_types(cx, k, types, order)) < 0)
        return NULL;
    for (int kw = 0; kw < K_COUNT; kw++) {
        int cls = kws[kw].cls;
        if (!k->has[kw] || !(cls & (C_STR | C_NUM | C_ARR | C_OBJ)))
            continue;
        if (!k->has[K_TYPE]) {
            sl_sc_fail(cx, k->where, kws[kw].name, "needs a \"type\" it applies "
                    "to (Pydantic has no untyped constraints)");
            return NULL;
        }
        if (!applies(cls, types)) {
            sl_sc_fail(cx, k->where, kws[kw].name, "does not apply to the "
                    "schema's type");
            return NULL;
        }
    }
    if (!k->has[K_TYPE])
        return sl_sc_node(cx, SK_ANY, k->where);
    struct sl_node *c[T_COUNT];
    size_t nc = 0;
    for (int i = 0; i < cnt; i++) {
        struct sl_node *n = NULL;
        switch (order[i]) {
        case T_STRING: n = build_string(cx, k); break;
        case T_INTEGER:
        case T_NUMBER:
            n = sl_sc_node(cx, order[i] == T_INTEGER ? SK_INT : SK_FLOAT, k->where);
            if (n && bounds(cx, k, n))
                n = NULL;
            break;
        case T_BOOLEAN: n = sl_sc_node(cx, SK_BOOL, k->where); break;
        case T_NULL: continue;
        case T_ARRAY: n = build_array(cx, k); break;
        case T_OBJECT: n = build_object(cx, k); break;
        }
        if (n == NULL)
            return NULL;
        c[nc++] = n;
    }
    return union_of(cx, k->where, c, nc, types[T_NULL]);
}

/* repr() of an Enum member's value: a float or int mixin converts it. */
static char *member_repr(json_object *v, int sub)
{
    char buf[400];
    double d = json_object_get_double(v);
    if (sub == SL_ENUM_FLOAT && (json_object_is_type(v, json_type_int) ||
                                 json_object_is_type(v, json_type_double))) {
        sl_py_repr_double(d, buf, sizeof buf);
        return strdup(buf);
    }
    if (sub == SL_ENUM_INT && json_object_is_type(v, json_type_double)) {
        snprintf(buf, sizeof buf, "%.0f", d);
        return strdup(buf);
    }
    return sl_py_repr_value(v);
}

/*
 * enum or const.  Pydantic writes a Python Enum class as "enum" with a
 * "title" (and "type" string, integer or number for its str, int or float
 * mixin): that is an Enum, whose errors are "enum"; any other enum or const
 * is a Literal (literal_error).  Its "type" must fit every value; other
 * keywords are checked against the values (they would add nothing else).
 */
static struct sl_node *build_literal(struct sl_cx *cx, const struct kwset *k)
{
    int is_enum = k->has[K_ENUM];
    json_object *e = is_enum ? k->v[K_ENUM] : k->v[K_CONST];
    if (k->has[K_ENUM] && k->has[K_CONST]) {
        sl_sc_fail(cx, k->where, "const", "not allowed beside enum");
        return NULL;
    }
    size_t n = is_enum ? (is_type(e, json_type_array) ?
                          json_object_array_length(e) : 0) : 1;
    if (n == 0) {
        sl_sc_fail(cx, k->where, "enum", "not a non-empty array");
        return NULL;
    }
    int types[T_COUNT] = {0}, order[T_COUNT], ntypes = 0;
    if (k->has[K_TYPE] && (ntypes = parse_types(cx, k, types, order)) < 0)
        return NULL;
    json_object *title = k->v[K_TITLE];
    int enum_class = is_enum && k->has[K_TITLE] &&
                     is_type(title, json_type_string) &&
                     (ntypes == 0 || (ntypes == 1 && (types[T_STRING] ||
                                      types[T_INTEGER] || types[T_NUMBER])));
    int sub = !enum_class || ntypes == 0 ? SL_ENUM_PLAIN :
              types[T_STRING] ? SL_ENUM_STR :
              types[T_INTEGER] ? SL_ENUM_INT : SL_ENUM_FLOAT;
    struct sl_node *lit = sl_sc_node(cx, enum_class ? SK_ENUM : SK_LITERAL,
                                     k->where);
    if (lit == NULL)
        return NULL;
    lit->u.lit.sub = sub;
    if ((lit->u.lit.v = sl_sc_alloc(cx->set, n * sizeof *lit->u.lit.v)) == NULL) {
        sl_sc_oom(cx);
        return NULL;
    }
    lit->u.lit.n = n;
    size_t cap = 64, len = 0, llen = 0;
    char *exp = malloc(cap), *lab = malloc(cap + 16);
    if (exp == NULL || lab == NULL)
        goto oom;
    /* Pydantic's names: literal['a','b'], str-enum[Color] */
    if (enum_class) {
        static const char *const pre[] = {
            [SL_ENUM_PLAIN] = "enum", [SL_ENUM_STR] = "str-enum",
            [SL_ENUM_INT] = "int-enum", [SL_ENUM_FLOAT] = "float-enum"
        };
        const char *t = json_object_get_string(title);
        char *l = malloc(strlen(t) + 16);
        if (l == NULL)
            goto oom;
        sprintf(l, "%s[%s]", pre[sub], t);
        lit->label = sl_sc_strdup(cx->set, l);
        free(l);
        if (lit->label == NULL)
            goto oom;
    }
    llen = (size_t)sprintf(lab, "literal[");
    for (size_t i = 0; i < n; i++) {
        json_object *v = is_enum ? json_object_array_get_idx(e, i) : e;
        const char *kw = is_enum ? "enum" : "const";
        enum json_type t = json_object_get_type(v);
        if (t == json_type_array || t == json_type_object) {
            sl_sc_fail(cx, is_enum ? sl_sc_ptr_index(cx, k->where, kw, i) : k->where,
                    is_enum ? NULL : kw, "not a string, number, boolean or "
                    "null (Literal's values)");
            goto fail;
        }
        if (k->has[K_TYPE]) {
            int ok = (t == json_type_string && types[T_STRING]) ||
                     (t == json_type_boolean && types[T_BOOLEAN]) ||
                     (t == json_type_null && types[T_NULL]) ||
                     ((t == json_type_int || t == json_type_double) &&
                      types[T_NUMBER]) ||
                     (t == json_type_int && types[T_INTEGER]) ||
                     (t == json_type_double && types[T_INTEGER] &&
                      json_object_get_double(v) ==
                          floor(json_object_get_double(v)));
            if (!ok) {
                sl_sc_fail(cx, is_enum ? sl_sc_ptr_index(cx, k->where, kw, i) : k->where,
                        is_enum ? NULL : kw, "not of the schema's type");
                goto fail;
            }
        }
        lit->u.lit.v[i] = v;
        char *r = member_repr(v, sub);
        if (r == NULL)
            goto oom;
        size_t rl = strlen(r);
        if (len + rl + 8 > cap || llen + rl + 8 > cap) {
            cap = (cap + rl) * 2;
            char *e2 = realloc(exp, cap), *l2 = e2 ? realloc(lab, cap + 16) : NULL;
            if (e2)
                exp = e2;
            if (l2)
                lab = l2;
            if (e2 == NULL || l2 == NULL) {
                free(r);
                goto oom;
            }
        }
        /* "'a', 'b' or 'c'" (expected_repr_name) */
        if (i > 0)
            len += (size_t)sprintf(exp + len, i + 1 == n ? " or " : ", ");
        memcpy(exp + len, r, rl);
        len += rl;
        exp[len] = '\0';
        llen += (size_t)sprintf(lab + llen, "%s%s", i ? "," : "", r);
        free(r);
    }
    strcpy(lab + llen, "]");
    lit->u.lit.expected = sl_sc_strdup(cx->set, exp);
    if (lit->label == NULL)
        lit->label = sl_sc_strdup(cx->set, lab);
    size_t ml = strlen(exp) + 20;
    if ((lit->u.lit.msg = sl_sc_alloc(cx->set, ml)) == NULL ||
        lit->u.lit.expected == NULL || lit->label == NULL)
        goto oom;
    snprintf(lit->u.lit.msg, ml, "Input should be %s", exp);
    free(exp);
    free(lab);
    /* the other keywords: each value must pass them */
    int constrained = 0;
    for (int kw = 0; kw < K_COUNT; kw++)
        constrained |= k->has[kw] && (kws[kw].cls & (C_STR | C_NUM | C_ARR |
                                                     C_OBJ));
    if (constrained) {
        struct sl_node *chk = build_typed(cx, k);
        if (chk == NULL)
            return NULL;
        for (size_t i = 0; i < n; i++)
            sl_sc_check(cx, chk, lit->u.lit.v[i], is_enum ?
                      sl_sc_ptr_index(cx, k->where, "enum", i) :
                      sl_sc_ptr(cx, k->where, "const"), "fails the other keywords");
    }
    return lit;
oom:
    sl_sc_oom(cx);
fail:
    free(exp);
    free(lab);
    return NULL;
}

/* anyOf, oneOf (unions) and allOf. */
static struct sl_node *build_combined(struct sl_cx *cx, const struct kwset *k,
                                      int kw)
{
    json_object *a = k->v[kw];
    size_t n = is_type(a, json_type_array) ? json_object_array_length(a) : 0;
    if (n == 0) {
        sl_sc_fail(cx, k->where, kws[kw].name, "not a non-empty array of schemas");
        return NULL;
    }
    struct sl_node **c = sl_sc_alloc(cx->set, n * sizeof *c);
    if (c == NULL) {
        sl_sc_oom(cx);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char *w = sl_sc_ptr_index(cx, k->where, kws[kw].name, i);
        if (w == NULL || (c[i] = sl_sc_build(cx, json_object_array_get_idx(a, i), w,
                                       k->doc, k->depth + 1, NULL)) == NULL)
            return NULL;
    }
    if (n == 1)
        return c[0];
    struct sl_node *u = sl_sc_node(cx, kw == K_ALLOF ? SK_ALLOF : SK_UNION,
                                 k->where);
    if (u) {
        u->u.alt.c = c;
        u->u.alt.n = n;
    }
    return u;
}

static struct sl_node *build_ref(struct sl_cx *cx, const struct kwset *k)
{
    json_object *r = k->v[K_REF];
    const char *s = is_type(r, json_type_string) ? json_object_get_string(r) : "";
    static const char comp[] = "#/components/schemas/", defs[] = "#/$defs/";
    struct sl_target *t = NULL;
    json_object *src;
    if (strncmp(s, comp, sizeof comp - 1) == 0) {
        const char *name = s + sizeof comp - 1;
        if (!json_object_object_get_ex(cx->set->components, name, &src)) {
            sl_sc_fail(cx, k->where, "$ref", "unknown $ref '%s'", s);
            return NULL;
        }
        char where[300];
        snprintf(where, sizeof where, "#/components/schemas/%s", name);
        t = sl_sc_target(cx, NULL, name, src, where);
    } else if (strncmp(s, defs, sizeof defs - 1) == 0) {
        const char *name = s + sizeof defs - 1;
        json_object *d;
        if (!json_object_object_get_ex(k->doc, "$defs", &d) ||
            !is_type(d, json_type_object) ||
            !json_object_object_get_ex(d, name, &src)) {
            sl_sc_fail(cx, k->where, "$ref", "unknown $ref '%s'", s);
            return NULL;
        }
        const char *base = "";
        for (struct sl_target *x = cx->set->targets; x; x = x->next)
            if (x->src == k->doc && x->doc == NULL)
                base = x->where;
        char where[600];
        snprintf(where, sizeof where, "%s/$defs/%s", base, name);
        t = sl_sc_target(cx, k->doc, name, src, where);
    } else {
        sl_sc_fail(cx, k->where, "$ref", "unsupported $ref '%s' (only "
                "#/components/schemas/NAME and #/$defs/NAME)", s);
        return NULL;
    }
    if (t == NULL)
        return NULL;
    struct sl_node *n = sl_sc_node(cx, SK_REF, k->where);
    if (n == NULL || sl_sc_grow((void **)&cx->refs, &cx->caprefs, cx->nrefs + 1,
                          sizeof *cx->refs)) {
        if (n)
            sl_sc_oom(cx);
        return NULL;
    }
    cx->refs[cx->nrefs].ref = n;
    cx->refs[cx->nrefs++].t = t;
    return n;
}

/* The keywords that may stand beside $ref, anyOf, oneOf, allOf. */
static int only_annotations(struct sl_cx *cx, const struct kwset *k, int kw)
{
    for (int i = 0; i < K_COUNT; i++)
        if (k->has[i] && i != kw && !(kws[i].cls & (C_ANNOT | C_ROOT))) {
            sl_sc_fail(cx, k->where, kws[i].name, "not allowed beside '%s'",
                    kws[kw].name);
            return -1;
        }
    return 0;
}

static int check_annotations(struct sl_cx *cx, const struct kwset *k)
{
    static const struct { int kw; enum json_type t; const char *what; } a[] = {
        {K_TITLE, json_type_string, "not a string"},
        {K_DESCRIPTION, json_type_string, "not a string"},
        {K_FORMAT, json_type_string, "not a string"},
        {K_COMMENT, json_type_string, "not a string"},
        {K_SCHEMA, json_type_string, "not a string"},
        {K_EXAMPLES, json_type_array, "not an array"},
        {K_DEPRECATED, json_type_boolean, "not a boolean"},
        {K_READONLY, json_type_boolean, "not a boolean"},
        {K_WRITEONLY, json_type_boolean, "not a boolean"},
        {K_DEFS, json_type_object, "not an object"},
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (k->has[a[i].kw] && !is_type(k->v[a[i].kw], a[i].t)) {
            sl_sc_fail(cx, k->where, kws[a[i].kw].name, "%s", a[i].what);
            return -1;
        }
    if ((k->has[K_DEFS] || k->has[K_SCHEMA]) && k->depth > 0) {
        sl_sc_fail(cx, k->where, k->has[K_DEFS] ? "$defs" : "$schema",
                "only at a document's root");
        return -1;
    }
    return 0;
}

struct sl_node *sl_sc_build(struct sl_cx *cx, json_object *s, const char *where,
                             json_object *doc, int depth,
                             const char *model_name)
{
    if (cx->failed)
        return NULL;
    if (depth > SL_SCHEMA_MAX_DEPTH) {
        sl_sc_fail(cx, where, NULL, "nested more than %d deep",
                SL_SCHEMA_MAX_DEPTH);
        return NULL;
    }
    if (is_type(s, json_type_boolean) && json_object_get_boolean(s))
        return sl_sc_node(cx, SK_ANY, where);     /* true: anything */
    if (!is_type(s, json_type_object)) {
        sl_sc_fail(cx, where, NULL, is_type(s, json_type_boolean) ?
                "the schema false (nothing valid) is not supported" :
                "not a schema (an object)");
        return NULL;
    }
    struct kwset k = {.where = where, .doc = doc, .depth = depth,
                      .model_name = model_name};
    json_object_object_foreach(s, key, v) {
        int i;
        for (i = 0; i < K_COUNT && strcmp(kws[i].name, key) != 0; i++)
            ;
        if (i == K_COUNT) {
            sl_sc_fail(cx, where, key, "unsupported keyword '%s'", key);
            return NULL;
        }
        k.v[i] = v;
        k.has[i] = 1;
    }
    if (check_annotations(cx, &k))
        return NULL;
    struct sl_node *n;
    int comb = k.has[K_ANYOF] ? K_ANYOF : k.has[K_ONEOF] ? K_ONEOF :
               k.has[K_ALLOF] ? K_ALLOF : -1;
    if (k.has[K_REF]) {
        n = only_annotations(cx, &k, K_REF) ? NULL : build_ref(cx, &k);
    } else if (comb >= 0) {
        n = only_annotations(cx, &k, comb) ? NULL : build_combined(cx, &k, comb);
    } else if (k.has[K_ENUM] || k.has[K_CONST]) {
        n = build_literal(cx, &k);
    } else {
        n = build_typed(cx, &k);
    }
    if (n && k.has[K_DEFAULT])
        sl_sc_check(cx, n, k.v[K_DEFAULT], sl_sc_ptr(cx, where, "default"),
                  "does not validate against its schema");
    return n;
}
