/*
 * schema_build.h: what compiling a schema shares between the set and
 * its rounds (schema_set.c) and the keywords (schema_compile.c).  Not for
 * other files.
 */
#ifndef SLUICE_SCHEMA_BUILD_H
#define SLUICE_SCHEMA_BUILD_H

#include "api/schema_int.h"

struct sl_chunk;

/* A named schema (components) or a $defs entry of a document. */
struct sl_target {
    json_object *doc;           /* NULL: components; else whose $defs */
    char *name, *where;
    json_object *src;
    struct sl_node *node;
    struct sl_schema *schema;
    int state;                  /* 0 unbuilt, 1 this round, 2 built */
    struct sl_target *next;
};

struct sl_schema_set {
    json_object *components;    /* name -> schema, as added */
    json_object *keep;          /* the documents compiled */
    struct sl_target *targets;
    struct sl_chunk *arena;
    size_t nodes;
    pcre2_code **codes;
    size_t ncodes, capcodes;
    pcre2_match_context *mctx;
};

struct sl_check {                  /* a value that must validate against node */
    struct sl_node *node;
    json_object *value;
    const char *where, *what;
};

struct sl_cx {
    sl_schema_set *set;
    char *err;
    size_t errlen;
    int failed, oom;
    struct sl_node **made;      /* this round's nodes */
    size_t nmade, capmade;
    struct sl_check *checks;
    size_t nchecks, capchecks;
    struct { struct sl_node *ref; struct sl_target *t; } *refs;
    size_t nrefs, caprefs;
};

/* Memory that lives as long as the set (zeroed); NULL if out of memory. */
void *sl_sc_alloc(sl_schema_set *set, size_t size);
char *sl_sc_strdup(sl_schema_set *set, const char *s);
/* Grows *p (*cap elements of sz bytes) to hold need: 0 or -1. */
int sl_sc_grow(void **p, size_t *cap, size_t need, size_t sz);
/* Fails the round with "WHERE/KEY: why" (where "" and no key: "(root)");
 * the first failure is the one kept. */
void sl_sc_fail(struct sl_cx *cx, const char *where, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sl_sc_oom(struct sl_cx *cx);
/* where + "/" + key as a JSON Pointer (RFC 6901 escapes), and with an
 * index after it; in the set's memory, NULL (round failed) if out of it. */
char *sl_sc_ptr(struct sl_cx *cx, const char *where, const char *key);
char *sl_sc_ptr_index(struct sl_cx *cx, const char *where, const char *key,
                      size_t i);
/* A new node of the round; NULL past SL_SCHEMA_MAX_NODES (round failed). */
struct sl_node *sl_sc_node(struct sl_cx *cx, int kind, const char *where);
/* value must validate against node once the round's graph is complete
 * (defaults, enum values): else "WHERE: what: Pydantic's message". */
void sl_sc_check(struct sl_cx *cx, struct sl_node *node, json_object *value,
                 const char *where, const char *what);
/* The named schema or $defs entry (doc NULL: components) NAME, made if new. */
struct sl_target *sl_sc_target(struct sl_cx *cx, json_object *doc,
                            const char *name, json_object *src,
                            const char *where);
/* The nodes of schema s found at where in document doc, depth schemas
 * deep; model_name names an object that has no title.  NULL: the round
 * failed. */
struct sl_node *sl_sc_build(struct sl_cx *cx, json_object *s, const char *where,
                            json_object *doc, int depth,
                            const char *model_name);

#endif
