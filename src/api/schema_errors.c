/*
 * schema_errors.c: the errors of a validation and how they read: Pydantic's
 * types and messages, FastAPI's items, Python's and Rust's ways of writing
 * numbers and strings (see schema_int.h).
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/printbuf.h>
#include "api/schema_int.h"

/* Pydantic's error types and messages (pydantic-core src/errors/types.rs,
 * message_template_python: FastAPI validates Python objects).  NULL: the
 * message depends on the node or the lengths. */
static const struct {
    const char *type, *msg;
} kinds[SE_COUNT] = {
    [SE_MISSING] = {"missing", "Field required"},
    [SE_INT_TYPE] = {"int_type", "Input should be a valid integer"},
    [SE_INT_PARSING] = {"int_parsing", "Input should be a valid integer, "
                        "unable to parse string as an integer"},
    [SE_INT_FROM_FLOAT] = {"int_from_float", "Input should be a valid "
                           "integer, got a number with a fractional part"},
    [SE_INT_PARSING_SIZE] = {"int_parsing_size", "Unable to parse input "
                             "string as an integer, exceeded maximum size"},
    [SE_FINITE_NUMBER] = {"finite_number", "Input should be a finite number"},
    [SE_FLOAT_TYPE] = {"float_type", "Input should be a valid number"},
    [SE_FLOAT_PARSING] = {"float_parsing", "Input should be a valid number, "
                          "unable to parse string as a number"},
    [SE_BOOL_TYPE] = {"bool_type", "Input should be a valid boolean"},
    [SE_BOOL_PARSING] = {"bool_parsing", "Input should be a valid boolean, "
                         "unable to interpret input"},
    [SE_STRING_TYPE] = {"string_type", "Input should be a valid string"},
    [SE_STRING_TOO_SHORT] = {"string_too_short", NULL},
    [SE_STRING_TOO_LONG] = {"string_too_long", NULL},
    [SE_STRING_PATTERN] = {"string_pattern_mismatch", NULL},
    [SE_BOUND] = {NULL, NULL},
    [SE_LITERAL] = {"literal_error", NULL},
    [SE_ENUM] = {"enum", NULL},
    [SE_LIST_TYPE] = {"list_type", "Input should be a valid list"},
    [SE_SET_TYPE] = {"set_type", "Input should be a valid set"},
    [SE_DICT_TYPE] = {"dict_type", "Input should be a valid dictionary"},
    [SE_MODEL_TYPE] = {"model_attributes_type", "Input should be a valid "
                       "dictionary or object to extract fields from"},
    [SE_TOO_SHORT] = {"too_short", NULL},
    [SE_TOO_LONG] = {"too_long", NULL},
    [SE_EXTRA_FORBIDDEN] = {"extra_forbidden",
                            "Extra inputs are not permitted"},
    [SE_NONE_REQUIRED] = {"none_required", "Input should be None"},
    [SE_RECURSION] = {"recursion_loop",
                      "Recursion error - cyclic reference detected"},
};

static const struct {
    const char *type, *ctx;
} bounds[SB_COUNT] = {
    [SB_LE] = {"less_than_equal", "le"},
    [SB_LT] = {"less_than", "lt"},
    [SB_GE] = {"greater_than_equal", "ge"},
    [SB_GT] = {"greater_than", "gt"},
};

/* ---- the list ----------------------------------------------------------- */

void sl_errlist_init(struct sl_errlist *l, size_t limit)
{
    l->v = NULL;
    l->n = l->cap = l->total = 0;
    l->limit = limit;
    l->segs = NULL;
    l->nsegs = l->segcap = 0;
    l->path = l->shallow;
    l->depth = 0;
    l->pathcap = sizeof l->shallow / sizeof l->shallow[0];
    l->oom = 0;
}

void sl_errlist_free(struct sl_errlist *l)
{
    free(l->v);
    free(l->segs);
    if (l->path != l->shallow)
        free(l->path);
    l->v = NULL;
    l->segs = NULL;
    l->path = l->shallow;
}

/* Grows *p (of *cap elements of size sz) to hold need; 0 or -ENOMEM. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * sz);
    if (q == NULL)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

int sl_errlist_push(struct sl_errlist *l, const char *key, size_t len,
                    int64_t index)
{
    if (l->depth == l->pathcap && l->path == l->shallow) {
        struct sl_seg *p = malloc(2 * l->pathcap * sizeof *p);
        if (p == NULL) {
            l->oom = 1;
            return -ENOMEM;
        }
        memcpy(p, l->shallow, sizeof l->shallow);
        l->path = p;
        l->pathcap *= 2;
    }
    if (grow((void **)&l->path, &l->pathcap, l->depth + 1, sizeof *l->path)) {
        l->oom = 1;
        return -ENOMEM;
    }
    l->path[l->depth++] = (struct sl_seg){key, len, index};
    return 0;
}

void sl_errlist_pop(struct sl_errlist *l)
{
    l->depth--;
}

struct sl_verr *sl_errlist_add(struct sl_errlist *l, int type,
                               const struct sl_node *node, json_object *input)
{
    l->total++;
    if (l->n >= l->limit)
        return NULL;
    if (grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) ||
        grow((void **)&l->segs, &l->segcap, l->nsegs + l->depth,
             sizeof *l->segs)) {
        l->oom = 1;
        return NULL;
    }
    struct sl_verr *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->type = (unsigned char)type;
    e->node = node;
    e->input = input;
    e->seg0 = l->nsegs;
    e->nseg = l->depth;
    if (l->depth)
        memcpy(l->segs + l->nsegs, l->path, l->depth * sizeof *l->path);
    l->nsegs += l->depth;
    return e;
}

void sl_errlist_mark(const struct sl_errlist *l, struct sl_errmark *m)
{
    m->n = l->n;
    m->nsegs = l->nsegs;
    m->total = l->total;
}

void sl_errlist_rollback(struct sl_errlist *l, const struct sl_errmark *m)
{
    l->n = m->n;
    l->nsegs = m->nsegs;
    l->total = m->total;
}

/* ---- FastAPI's items ---------------------------------------------------- */

static const char *plural(int64_t n)
{
    return n == 1 ? "" : "s";
}

void sl_verr_message(const struct sl_verr *e, char *buf, size_t len)
{
    const struct sl_node *n = e->node;
    const char *fixed = NULL;
    switch (e->type) {
    case SE_STRING_TOO_SHORT: fixed = n->u.str.msg_min; break;
    case SE_STRING_TOO_LONG: fixed = n->u.str.msg_max; break;
    case SE_STRING_PATTERN: fixed = n->u.str.msg_pat; break;
    case SE_BOUND: fixed = n->u.b[e->bound].msg; break;
    case SE_LITERAL:
    case SE_ENUM: fixed = n->u.lit.msg; break;
    case SE_TOO_SHORT:
        snprintf(buf, len, "%s should have at least %" PRId64 " item%s after "
                 "validation, not %" PRId64, e->is_set ? "Set" : "List", e->a,
                 plural(e->a), e->b);
        return;
    case SE_TOO_LONG:
        if (e->b < 0)
            snprintf(buf, len, "%s should have at most %" PRId64 " item%s "
                     "after validation, not more", e->is_set ? "Set" : "List",
                     e->a, plural(e->a));
        else
            snprintf(buf, len, "%s should have at most %" PRId64 " item%s "
                     "after validation, not %" PRId64,
                     e->is_set ? "Set" : "List", e->a, plural(e->a), e->b);
        return;
    default:
        fixed = kinds[e->type].msg;
    }
    snprintf(buf, len, "%s", fixed ? fixed : "");
}

static int add(json_object *o, const char *key, json_object *v)
{
    return json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
                                     JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

/* ctx for e, or NULL with *none set when the type has none. */
static json_object *make_ctx(const struct sl_verr *e, int *none)
{
    const struct sl_node *n = e->node;
    json_object *c;
    *none = 0;
    switch (e->type) {
    case SE_STRING_TOO_SHORT:
        c = json_object_new_object();
        if (c) add(c, "min_length", json_object_new_int64(n->u.str.min));
        return c;
    case SE_STRING_TOO_LONG:
        c = json_object_new_object();
        if (c) add(c, "max_length", json_object_new_int64(n->u.str.max));
        return c;
    case SE_STRING_PATTERN:
        c = json_object_new_object();
        if (c) add(c, "pattern", json_object_new_string(n->u.str.pattern));
        return c;
    case SE_BOUND: {
        const struct sl_bound *b = &n->u.b[e->bound];
        c = json_object_new_object();
        if (c) add(c, bounds[e->bound].ctx, n->kind == SK_INT ?
                   json_object_new_int64(b->i) : sl_py_double(b->d));
        return c;
    }
    case SE_LITERAL:
    case SE_ENUM:
        c = json_object_new_object();
        if (c) add(c, "expected", json_object_new_string(n->u.lit.expected));
        return c;
    case SE_TOO_SHORT:
    case SE_TOO_LONG:
        c = json_object_new_object();
        if (c) {
            add(c, "field_type", json_object_new_string(e->is_set ? "Set"
                                                        : "List"));
            add(c, e->type == SE_TOO_SHORT ? "min_length" : "max_length",
                json_object_new_int64(e->a));
            add(c, "actual_length", e->b < 0 ? NULL :
                json_object_new_int64(e->b));
        }
        return c;
    default:
        *none = 1;
        return NULL;
    }
}

static json_object *copy_scalar(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_int:
        return json_object_new_int64(json_object_get_int64(v));
    case json_type_string:
        return json_object_new_string_len(json_object_get_string(v),
                                          json_object_get_string_len(v));
    default:
        return json_object_get(v);
    }
}

static json_object *make_item(const struct sl_errlist *l,
                              const struct sl_verr *e, json_object *prefix,
                              const char *const *names, size_t nnames)
{
    char msg[512];
    json_object *o = json_object_new_object();
    json_object *loc = json_object_new_array();
    if (o == NULL || loc == NULL)
        goto fail;
    add(o, "type", json_object_new_string(e->type == SE_BOUND ?
                                          bounds[e->bound].type :
                                          kinds[e->type].type));
    add(o, "loc", loc);
    size_t np = prefix ? json_object_array_length(prefix) : 0;
    for (size_t i = 0; i < np; i++)
        if (json_object_array_add(loc, copy_scalar(
                json_object_array_get_idx(prefix, i))))
            goto fail_o;
    for (size_t i = 0; i < nnames; i++)
        if (json_object_array_add(loc, json_object_new_string(names[i])))
            goto fail_o;
    for (size_t i = 0; i < e->nseg; i++) {
        const struct sl_seg *s = &l->segs[e->seg0 + i];
        json_object *p = s->key ? json_object_new_string_len(s->key, (int)s->len)
                                : json_object_new_int64(s->index);
        if (p == NULL || json_object_array_add(loc, p))
            goto fail_o;
    }
    sl_verr_message(e, msg, sizeof msg);
    add(o, "msg", json_object_new_string(msg));
    add(o, "input", e->input_null ? NULL : json_object_get(e->input));
    int none;
    json_object *ctx = make_ctx(e, &none);
    if (!none) {
        if (ctx == NULL)
            goto fail_o;
        add(o, "ctx", ctx);
    }
    return o;
fail:
    json_object_put(loc);
fail_o:
    json_object_put(o);
    return NULL;
}

int sl_errlist_emit(const struct sl_errlist *l, json_object *loc_prefix,
                    const char *const *names, size_t nnames,
                    json_object *errors)
{
    for (size_t i = 0; i < l->n; i++) {
        if (json_object_array_length(errors) >= SL_SCHEMA_MAX_ERRORS)
            break;
        json_object *item = make_item(l, &l->v[i], loc_prefix, names, nnames);
        if (item == NULL || json_object_array_add(errors, item)) {
            json_object_put(item);
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---- numbers ------------------------------------------------------------ */

/*
 * The shortest decimal digits that read back as d (d finite, > 0), as
 * Python's repr and Rust's Display find them: *exp is the decimal exponent
 * of the first digit.  %.{p}e is correctly rounded by glibc; if a k-digit
 * string reads back as a normal d, rounding d to 15 digits gives it padded
 * with zeros, so trying 15, 16 and 17 digits is enough.  Subnormals have
 * fewer digits of precision: every length is tried.
 */
static int shortest_digits(double d, char *digits, int *exp)
{
    char tmp[40];
    for (int p = d < DBL_MIN ? 1 : 15; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (p == 17 || strtod(tmp, NULL) == d)
            break;
    }
    int n = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    *exp = *s == 'e' ? atoi(s + 1) : 0;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

/* Fixed notation of digits (n of them, the first at 10^exp), into b. */
static void fixed(const char *digits, int n, int exp, int dot0, char *b,
                  size_t len)
{
    int decpt = exp + 1;
    size_t k = 0;
#define PUT(c) do { if (k + 1 < len) b[k++] = (c); } while (0)
    if (decpt <= 0) {
        PUT('0');
        PUT('.');
        for (int i = 0; i < -decpt; i++)
            PUT('0');
        for (int i = 0; i < n; i++)
            PUT(digits[i]);
    } else if (decpt >= n) {
        for (int i = 0; i < n; i++)
            PUT(digits[i]);
        for (int i = n; i < decpt; i++)
            PUT('0');
        if (dot0) {
            PUT('.');
            PUT('0');
        }
    } else {
        for (int i = 0; i < n; i++) {
            if (i == decpt)
                PUT('.');
            PUT(digits[i]);
        }
    }
#undef PUT
    b[k] = '\0';
}

void sl_py_repr_double(double d, char *buf, size_t len)
{
    if (isnan(d)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, len, d < 0 ? "-inf" : "inf");
        return;
    }
    const char *sign = signbit(d) ? "-" : "";
    if (d == 0) {
        snprintf(buf, len, "%s0.0", sign);
        return;
    }
    char digits[24], body[400];
    int exp, n = shortest_digits(fabs(d), digits, &exp);
    if (exp < -4 || exp >= 16) {
        if (n > 1)
            snprintf(body, sizeof body, "%c.%se%c%02d", digits[0], digits + 1,
                     exp < 0 ? '-' : '+', abs(exp));
        else
            snprintf(body, sizeof body, "%ce%c%02d", digits[0],
                     exp < 0 ? '-' : '+', abs(exp));
    } else {
        fixed(digits, n, exp, 1, body, sizeof body);
    }
    snprintf(buf, len, "%s%s", sign, body);
}

void sl_rust_display_double(double d, char *buf, size_t len)
{
    if (isnan(d)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, len, d < 0 ? "-inf" : "inf");
        return;
    }
    const char *sign = signbit(d) ? "-" : "";
    if (d == 0) {
        snprintf(buf, len, "%s0", sign);
        return;
    }
    char digits[24], body[400];
    int exp, n = shortest_digits(fabs(d), digits, &exp);
    fixed(digits, n, exp, 0, body, sizeof body);
    snprintf(buf, len, "%s%s", sign, body);
}

int sl_py_double_serialize(json_object *jso, struct printbuf *pb, int level,
                           int flags)
{
    (void)level;
    (void)flags;
    char buf[400];
    double d = json_object_get_double(jso);
    /* json.dumps(allow_nan=True)'s words; FastAPI's allow_nan=False
     * would fail the response. */
    if (isnan(d))
        snprintf(buf, sizeof buf, "NaN");
    else if (isinf(d))
        snprintf(buf, sizeof buf, d < 0 ? "-Infinity" : "Infinity");
    else
        sl_py_repr_double(d, buf, sizeof buf);
    return printbuf_memappend(pb, buf, (int)strlen(buf));
}

json_object *sl_py_double(double d)
{
    json_object *o = json_object_new_double(d);
    if (o)
        json_object_set_serializer(o, sl_py_double_serialize, NULL, NULL);
    return o;
}

/* ---- Python's repr of a string ------------------------------------------ */

/* Decodes one UTF-8 sequence at s (n bytes left); surrogates pass as
 * Python's surrogatepass lets them.  Returns its length, 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t k;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) { k = 2; c = s[0] & 0x1f; min = 0x80; }
    else if ((s[0] & 0xf0) == 0xe0) { k = 3; c = s[0] & 0x0f; min = 0x800; }
    else if ((s[0] & 0xf8) == 0xf0) { k = 4; c = s[0] & 0x07; min = 0x10000; }
    else return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff)
        return 0;
    *cp = c;
    return k;
}

size_t sl_utf8_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        uint32_t cp;
        size_t k = utf8_next(p + i, len - i, &cp);
        i += k ? k : 1;
    }
    return n;
}

/* str.isprintable() for one code point, as far as it matters here: the
 * controls, separators, format characters and surrogates Python escapes.
 * (Unassigned code points, which Python escapes too, are kept.) */
static int printable(uint32_t c)
{
    if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad)
        return 0;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200f) ||
        (c >= 0x2028 && c <= 0x202f) || (c >= 0x205f && c <= 0x206f) ||
        c == 0x3000 || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
        c == 0xfffe || c == 0xffff || (c >= 0x600 && c <= 0x605) ||
        c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x180e)
        return 0;
    if ((c >= 0xd800 && c <= 0xf8ff) || c >= 0xf0000)    /* Cs, Co */
        return 0;
    return 1;
}

static char *repr_string(const char *s, size_t len)
{
    int sq = memchr(s, '\'', len) != NULL, dq = memchr(s, '"', len) != NULL;
    char quote = sq && !dq ? '"' : '\'';
    size_t cap = len * 10 + 3, k = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    out[k++] = quote;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_next(p + i, len - i, &c);
        if (n == 0) {       /* not UTF-8: Python would have read U+FFFD */
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
            continue;
        }
        if (c == (uint32_t)quote || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            out[k++] = '\\';
            out[k++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else if (!printable(c)) {
            k += (size_t)sprintf(out + k, c <= 0xff ? "\\x%02x" :
                                 c <= 0xffff ? "\\u%04x" : "\\U%08x", c);
        } else {
            memcpy(out + k, p + i, n);
            k += n;
        }
        i += n;
    }
    out[k++] = quote;
    out[k] = '\0';
    return out;
}

char *sl_py_repr_value(json_object *v)
{
    char buf[400];
    switch (json_object_get_type(v)) {
    case json_type_null:
        return strdup("None");
    case json_type_boolean:
        return strdup(json_object_get_boolean(v) ? "True" : "False");
    case json_type_int:
        snprintf(buf, sizeof buf, "%" PRId64, json_object_get_int64(v));
        return strdup(buf);
    case json_type_double:
        sl_py_repr_double(json_object_get_double(v), buf, sizeof buf);
        return strdup(buf);
    case json_type_string:
        return repr_string(json_object_get_string(v),
                           (size_t)json_object_get_string_len(v));
    default:
        return NULL;
    }
}
