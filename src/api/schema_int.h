/*
 * schema_int.h: what the schema files share (compiled nodes, the error
 * list, Python's number and string spellings).  Not for other files.
 */
#ifndef SLUICE_SCHEMA_INT_H
#define SLUICE_SCHEMA_INT_H

#include <stdint.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "api/schema.h"

/* ---- compiled nodes ----------------------------------------------------- */

/* What a node validates, named after the Pydantic type it stands for. */
enum sl_kind {
    SK_ANY, SK_NONE, SK_BOOL, SK_INT, SK_FLOAT, SK_STR, SK_LIST, SK_SET,
    SK_DICT, SK_MODEL, SK_LITERAL, SK_ENUM, SK_UNION, SK_NULLABLE, SK_REF,
    SK_ALLOF
};

/* What an Enum class (an enum with a title, as Pydantic writes one) mixes
 * in: it decides how the input is converted before the lookup. */
enum { SL_ENUM_PLAIN, SL_ENUM_STR, SL_ENUM_INT, SL_ENUM_FLOAT };

/* Numeric bounds, in the order Pydantic checks them (the first that fails
 * is the one reported). */
enum { SB_LE, SB_LT, SB_GE, SB_GT, SB_COUNT };

struct sl_bound {
    int set;
    int64_t i;              /* SK_INT */
    double d;               /* SK_FLOAT */
    char *msg;              /* "Input should be greater than 0" */
};

enum { SL_EXTRA_IGNORE, SL_EXTRA_FORBID, SL_EXTRA_ALLOW };

struct sl_node;

struct sl_prop {
    const char *name;
    struct sl_node *node;
    json_object *def;       /* borrowed from the source; copied when used */
    unsigned char required, has_def;
};

struct sl_node {
    unsigned char kind;         /* enum sl_kind */
    unsigned char constrained;  /* "constrained-int" rather than "int" */
    unsigned char mark;         /* graph walks (compile only) */
    const char *label;          /* Pydantic's name of the validator, the
                                   union member's tag in "loc" */
    const char *where;          /* JSON Pointer, for compile errors */
    union {
        struct sl_bound b[SB_COUNT];                    /* INT, FLOAT */
        struct {
            int64_t min, max;                           /* -1: none */
            pcre2_code *re;
            pcre2_match_context *mctx;                  /* the set's */
            const char *pattern;
            char *msg_min, *msg_max, *msg_pat;
        } str;
        struct {                                        /* LIST, SET */
            struct sl_node *items;
            int64_t min, max;                           /* -1: none */
        } arr;
        struct { struct sl_node *values; } dict;
        struct {
            struct sl_prop *props;
            size_t n;
            int extra;
            struct sl_node *extras;                     /* NULL: any */
        } model;
        struct {                                        /* LITERAL, ENUM */
            json_object **v;                            /* borrowed */
            size_t n;
            char *expected;                             /* "'a' or 'b'" */
            char *msg;
            int sub;                                    /* SL_ENUM_* */
        } lit;
        struct { struct sl_node **c; size_t n; } alt;   /* UNION, ALLOF */
        struct { struct sl_node *inner; } nul;
        struct { struct sl_node *target; } ref;
    } u;
};

struct sl_schema {
    struct sl_node *root;
    json_object *src;
    sl_schema_set *set;
};

/* ---- validation errors -------------------------------------------------- */

enum sl_err {
    SE_MISSING, SE_INT_TYPE, SE_INT_PARSING, SE_INT_FROM_FLOAT,
    SE_INT_PARSING_SIZE, SE_FINITE_NUMBER, SE_FLOAT_TYPE, SE_FLOAT_PARSING,
    SE_BOOL_TYPE, SE_BOOL_PARSING, SE_STRING_TYPE, SE_STRING_TOO_SHORT,
    SE_STRING_TOO_LONG, SE_STRING_PATTERN, SE_BOUND, SE_LITERAL, SE_ENUM,
    SE_LIST_TYPE, SE_SET_TYPE, SE_DICT_TYPE, SE_MODEL_TYPE, SE_TOO_SHORT,
    SE_TOO_LONG, SE_EXTRA_FORBIDDEN, SE_NONE_REQUIRED, SE_RECURSION,
    SE_COUNT
};

/* One step of a "loc": an object key or an array index. */
struct sl_seg {
    const char *key;        /* NULL: an index */
    size_t len;
    int64_t index;
};

/* One error as found; turned into FastAPI's item at the end. */
struct sl_verr {
    unsigned char type;         /* enum sl_err */
    unsigned char bound;        /* SE_BOUND: which */
    unsigned char is_set;       /* SE_TOO_*: "Set" rather than "List" */
    unsigned char input_null;   /* input is null, not the value */
    const struct sl_node *node;
    json_object *input;         /* borrowed from the validated document */
    size_t seg0, nseg;          /* its loc in the segment pool */
    int64_t a, b;               /* SE_TOO_*: limit and actual length */
};

/*
 * The errors of one validation: those kept (at most limit), how many were
 * found in all, and the path being validated.  A union keeps a mark and
 * rolls back to it when a member matches.
 */
struct sl_errlist {
    struct sl_verr *v;
    size_t n, cap, limit, total;
    struct sl_seg *segs;        /* the kept errors' locs */
    size_t nsegs, segcap;
    struct sl_seg *path;        /* where the validator is */
    size_t depth, pathcap;
    int oom;
    struct sl_seg shallow[16];  /* the path while it is short: no malloc */
};

struct sl_errmark { size_t n, nsegs, total; };

void sl_errlist_init(struct sl_errlist *l, size_t limit);
void sl_errlist_free(struct sl_errlist *l);
/* Push / pop one step of the path (push fails only when out of memory). */
int sl_errlist_push(struct sl_errlist *l, const char *key, size_t len,
                    int64_t index);
void sl_errlist_pop(struct sl_errlist *l);
/* Records an error at the current path; returns it (NULL when not kept). */
struct sl_verr *sl_errlist_add(struct sl_errlist *l, int type,
                               const struct sl_node *node, json_object *input);
void sl_errlist_mark(const struct sl_errlist *l, struct sl_errmark *m);
void sl_errlist_rollback(struct sl_errlist *l, const struct sl_errmark *m);
/* Appends the kept errors to errors as FastAPI's items (while it holds
 * fewer than SL_SCHEMA_MAX_ERRORS); each loc starts with loc_prefix's items
 * (a json-c array, or NULL), then names[0..nnames). */
int sl_errlist_emit(const struct sl_errlist *l, json_object *loc_prefix,
                    const char *const *names, size_t nnames,
                    json_object *errors);
/* The message of e, into buf (for compile errors about defaults). */
void sl_verr_message(const struct sl_verr *e, char *buf, size_t len);

/* ---- Python's spellings ------------------------------------------------- */

/* repr(float): "1.0", "0.1", "1e+20", "1.5e-07", "inf", "nan". */
void sl_py_repr_double(double d, char *buf, size_t len);
/* Rust's Display of f64 (Pydantic's messages): "0", "0.5",
 * "100000000000000000000", "0.0000001", "inf", "NaN". */
void sl_rust_display_double(double d, char *buf, size_t len);
/* A new json-c double that serializes as Python's json.dumps writes it. */
json_object *sl_py_double(double d);
/* The serializer sl_py_double installs. */
json_object_to_json_string_fn sl_py_double_serialize;
/* repr() of a JSON scalar as Python prints it: 'a', "it's", 1, 1.5, True,
 * None.  Returns a malloc'd string or NULL. */
char *sl_py_repr_value(json_object *v);


/* Characters (code points) in a UTF-8 string; a byte that is not part of
 * a valid sequence counts as one (Python would have replaced it). */
size_t sl_utf8_chars(const char *s, size_t len);

/* ---- Pydantic's lax conversions (schema_convert.c) ---------------------- */

/* str_as_bool: 1, 0, or -1 when s is none of Pydantic's words ("yes",
 * "off", "1", "f"...; case aside, no spaces). */
int sl_lax_bool(const char *s, size_t len);
/* str_as_int: 0 with *v; SE_INT_PARSING; SE_INT_PARSING_SIZE beyond int64
 * (Pydantic goes on to big ints); -ENOMEM.  Spaces, "+", leading zeros,
 * ".0" and "1_000" as Pydantic takes them. */
int sl_lax_int(const char *s, size_t len, int64_t *v);
/* str_as_float: 0 with *d, SE_FLOAT_PARSING or -ENOMEM (Rust's grammar:
 * "inf", "NaN", ".5", "5.", "1e3"; spaces trimmed; "1_0.5"). */
int sl_lax_float(const char *s, size_t len, double *d);
/* float_as_int: 0 with *v, SE_FINITE_NUMBER, SE_INT_FROM_FLOAT or
 * SE_INT_PARSING_SIZE. */
int sl_lax_float_as_int(double d, int64_t *v);

/* ---- JSON values as Python sees them (schema_values.c) ----------------- */

/* Python's == between two JSON scalars (1 == 1.0 == True). */
int sl_py_equal(json_object *a, json_object *b);
/* Is v == an item of the array o already?  For a set built item by item:
 * past 16 items it keeps a hash table in *tab (*cap slots; free(*tab)
 * when done) and records v as o's next item; 1, 0, or -ENOMEM. */
int sl_set_seen(json_object *o, json_object *v, size_t **tab, size_t *cap);
/* The index of the LITERAL or ENUM node's value that in matches as
 * pydantic-core's LiteralLookup finds it, or -1. */
long sl_literal_find(const struct sl_node *n, json_object *in);
/* A new copy of a value the compiled schema holds (never share one across
 * threads: json-c's reference counts are not atomic).  NULL for null. */
json_object *sl_copy_value(json_object *v);

/* ---- between compile and validate --------------------------------------- */

/* Validates without the public wrapping: 0, SL_SCHEMA_INVALID, -ENOMEM. */
int sl_schema_check(const struct sl_node *root, json_object *input,
                    struct sl_errlist *errs, json_object **out);

#endif
