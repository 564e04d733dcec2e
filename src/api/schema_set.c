/*
 * schema_set.c: the set of named schemas, and compiling as rounds (see
 * schema.h for the mapping to Pydantic's types; schema_compile.c reads the
 * keywords).
 *
 * A compile is a round: build the document's nodes, then those of every
 * named schema it reaches that no earlier round built; resolve $ref; then
 * check what needs the whole graph (no $ref cycle that consumes no input),
 * flatten unions as Python's typing does (Union[Union[a, b], None] is
 * Optional[Union[a, b]]), name every node as Pydantic names its validators
 * (the labels in union errors' loc), and validate defaults and enum values.
 * A round that fails leaves the named schemas it built unbuilt.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema_build.h"

struct sl_chunk {
    struct sl_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *sl_sc_alloc(sl_schema_set *set, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct sl_chunk *c = set->arena;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > 16384 ? size : 16384;
        if ((c = malloc(sizeof *c + cap)) == NULL)
            return NULL;
        c->next = set->arena;
        c->used = 0;
        c->cap = cap;
        set->arena = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *sl_sc_strdup(sl_schema_set *set, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sl_sc_alloc(set, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

sl_schema_set *sl_schema_set_new(void)
{
    sl_schema_set *set = calloc(1, sizeof *set);
    if (set == NULL)
        return NULL;
    set->components = json_object_new_object();
    set->keep = json_object_new_array();
    set->mctx = pcre2_match_context_create(NULL);
    if (set->components == NULL || set->keep == NULL || set->mctx == NULL) {
        sl_schema_set_free(set);
        return NULL;
    }
    /* PCRE2 backtracks: bound it (Pydantic's Rust regex never needs to) */
    pcre2_set_match_limit(set->mctx, 100000);
    pcre2_set_depth_limit(set->mctx, 10000);
    pcre2_set_heap_limit(set->mctx, 4096);
    return set;
}

void sl_schema_set_free(sl_schema_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->ncodes; i++)
        pcre2_code_free(set->codes[i]);
    free(set->codes);
    pcre2_match_context_free(set->mctx);
    for (struct sl_target *t = set->targets, *nx; t; t = nx) {
        nx = t->next;
        free(t->name);
        free(t->where);
        free(t);
    }
    for (struct sl_chunk *c = set->arena, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    json_object_put(set->components);
    json_object_put(set->keep);
    free(set);
}

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int sl_schema_set_add(sl_schema_set *set, const char *name, json_object *schema,
                      char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 255 || strpbrk(name, "/~") != NULL) {
        say(err, errlen, "schema name '%s': empty, longer than 255 bytes, or "
            "holding '/' or '~'", name ? name : "");
        return -EINVAL;
    }
    if (json_object_object_get_ex(set->components, name, NULL)) {
        say(err, errlen, "schema name '%s': added twice", name);
        return -EEXIST;
    }
    json_object_get(schema);
    if (json_object_object_add(set->components, name, schema)) {
        json_object_put(schema);
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

json_object *sl_schema_set_components(const sl_schema_set *set)
{
    return set->components;
}

json_object *sl_schema_source(const sl_jschema *schema)
{
    return schema->src;
}

json_object *sl_schema_default(const sl_jschema *schema, int *has)
{
    json_object *d = NULL;
    int h = json_object_get_type(schema->src) == json_type_object &&
            json_object_object_get_ex(schema->src, "default", &d);
    if (has)
        *has = h;
    return h ? d : NULL;
}

/* ---- a round -------------------------------------------------------------- */

int sl_sc_grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * sz);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* The first error of the round wins; every later one is a consequence. */
void sl_sc_fail(struct sl_cx *cx, const char *where, const char *key,
                    const char *fmt, ...)
{
    if (cx->failed)
        return;
    cx->failed = 1;
    if (cx->err == NULL || cx->errlen == 0)
        return;
    int k = snprintf(cx->err, cx->errlen, "%s%s%s: ",
                     where[0] || key ? where : "(root)",
                     key ? "/" : "", key ? key : "");
    if (k < 0 || (size_t)k >= cx->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->err + k, cx->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

void sl_sc_oom(struct sl_cx *cx)
{
    if (!cx->failed)
        say(cx->err, cx->errlen, "out of memory");
    cx->failed = cx->oom = 1;
}

/* where + "/" + key as a JSON Pointer (RFC 6901: ~ is ~0, / is ~1). */
char *sl_sc_ptr(struct sl_cx *cx, const char *where, const char *key)
{
    size_t n = strlen(where), k = strlen(key), extra = 0;
    for (size_t i = 0; i < k; i++)
        extra += key[i] == '~' || key[i] == '/';
    char *p = sl_sc_alloc(cx->set, n + k + extra + 2);
    if (p == NULL) {
        sl_sc_oom(cx);
        return NULL;
    }
    memcpy(p, where, n);
    p[n++] = '/';
    for (size_t i = 0; i < k; i++) {
        if (key[i] == '~' || key[i] == '/') {
            p[n++] = '~';
            p[n++] = key[i] == '~' ? '0' : '1';
        } else {
            p[n++] = key[i];
        }
    }
    p[n] = '\0';
    return p;
}

char *sl_sc_ptr_index(struct sl_cx *cx, const char *where, const char *key,
                       size_t i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", i);
    char *w = sl_sc_ptr(cx, where, key);
    return w ? sl_sc_ptr(cx, w, buf) : NULL;
}

struct sl_node *sl_sc_node(struct sl_cx *cx, int kind, const char *where)
{
    if (++cx->set->nodes > SL_SCHEMA_MAX_NODES) {
        sl_sc_fail(cx, where, NULL, "schema too large (more than %d nodes)",
                SL_SCHEMA_MAX_NODES);
        return NULL;
    }
    struct sl_node *n = sl_sc_alloc(cx->set, sizeof *n);
    if (n == NULL ||
        sl_sc_grow((void **)&cx->made, &cx->capmade, cx->nmade + 1, sizeof *cx->made)) {
        sl_sc_oom(cx);
        return NULL;
    }
    n->kind = (unsigned char)kind;
    n->where = where;
    cx->made[cx->nmade++] = n;
    return n;
}

void sl_sc_check(struct sl_cx *cx, struct sl_node *node, json_object *value,
                      const char *where, const char *what)
{
    if (sl_sc_grow((void **)&cx->checks, &cx->capchecks, cx->nchecks + 1,
             sizeof *cx->checks)) {
        sl_sc_oom(cx);
        return;
    }
    cx->checks[cx->nchecks++] = (struct sl_check){node, value, where, what};
}

/* The target for (doc, name), made if new. */
struct sl_target *sl_sc_target(struct sl_cx *cx, json_object *doc, const char *name,
                             json_object *src, const char *where)
{
    for (struct sl_target *t = cx->set->targets; t; t = t->next)
        if (t->doc == doc && strcmp(t->name, name) == 0)
            return t;
    struct sl_target *t = calloc(1, sizeof *t);
    if (t == NULL || (t->name = strdup(name)) == NULL ||
        (t->where = strdup(where)) == NULL) {
        if (t)
            free(t->name);
        free(t);
        sl_sc_oom(cx);
        return NULL;
    }
    t->doc = doc;
    t->src = src;
    t->next = cx->set->targets;
    cx->set->targets = t;
    return t;
}

/* ---- the passes over a round's graph -------------------------------------- */

/* Follows $ref to what it names. */
static struct sl_node *deref(struct sl_node *n)
{
    while (n->kind == SK_REF)
        n = n->u.ref.target;
    return n;
}

enum { M_NONE, M_BUSY, M_DONE };

/* A cycle through $ref, unions, allOf and Optional consumes no input: the
 * validator would never end.  Through properties and items it does. */
static int cycle(struct sl_cx *cx, struct sl_node *n)
{
    if (n->mark == M_DONE)
        return 0;
    if (n->mark == M_BUSY) {
        sl_sc_fail(cx, n->where, NULL, "a $ref cycle that consumes no input "
                "(reach a property or an item first)");
        return -1;
    }
    n->mark = M_BUSY;
    int r = 0;
    switch (n->kind) {
    case SK_REF: r = cycle(cx, n->u.ref.target); break;
    case SK_NULLABLE: r = cycle(cx, n->u.nul.inner); break;
    case SK_UNION:
    case SK_ALLOF:
        for (size_t i = 0; i < n->u.alt.n && !r; i++)
            r = cycle(cx, n->u.alt.c[i]);
        break;
    }
    n->mark = M_DONE;
    return r;
}

/* Union[Union[a, b], c] is Union[a, b, c], Union[Optional[a], b] is
 * Optional[Union[a, b]], Union[a] is a. */
static int flatten(struct sl_cx *cx, struct sl_node *n)
{
    if (n->kind != SK_UNION || n->mark == M_DONE)
        return 0;
    n->mark = M_DONE;
    size_t cap = 0, cnt = 0;
    struct sl_node **c = NULL;
    int nullable = 0;
    for (size_t i = 0; i < n->u.alt.n; i++) {
        struct sl_node *m = n->u.alt.c[i], *t = deref(m);
        if (flatten(cx, t))
            return -1;
        if (t->kind == SK_NULLABLE) {
            nullable = 1;
            t = deref(t->u.nul.inner);
            m = t;
        } else if (t->kind == SK_NONE) {
            nullable = 1;
            continue;
        }
        size_t add = t->kind == SK_UNION ? t->u.alt.n : 1;
        if (sl_sc_grow((void **)&c, &cap, cnt + add, sizeof *c)) {
            free(c);
            sl_sc_oom(cx);
            return -1;
        }
        if (t->kind == SK_UNION) {
            memcpy(c + cnt, t->u.alt.c, add * sizeof *c);
            cnt += add;
        } else {
            c[cnt++] = m;
        }
    }
    struct sl_node **keep = cnt ? sl_sc_alloc(cx->set, cnt * sizeof *c) : NULL;
    if (cnt && keep == NULL) {
        free(c);
        sl_sc_oom(cx);
        return -1;
    }
    if (cnt)
        memcpy(keep, c, cnt * sizeof *c);
    free(c);
    struct sl_node *inner = n;
    if (nullable && cnt > 1) {
        /* this node becomes Optional[...]: its union moves to a new node */
        if ((inner = sl_sc_node(cx, SK_UNION, n->where)) == NULL)
            return -1;
        inner->mark = M_DONE;
    }
    if (cnt == 0) {
        n->kind = SK_NONE;
        return 0;
    }
    if (cnt == 1) {
        inner = keep[0];
    } else {
        inner->kind = SK_UNION;
        inner->u.alt.c = keep;
        inner->u.alt.n = cnt;
    }
    if (nullable) {
        n->kind = SK_NULLABLE;
        n->u.nul.inner = inner;
    } else if (cnt == 1) {
        n->kind = SK_REF;       /* a hop to the one member: its label */
        n->u.ref.target = inner;
    }
    return 0;
}

/* Pydantic's get_name() of each validator. */
static const char *label(struct sl_cx *cx, struct sl_node *n)
{
    if (n->label)
        return n->label;
    if (n->mark == M_BUSY)
        return "...";
    n->mark = M_BUSY;
    const char *l = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    switch (n->kind) {
    case SK_ANY: l = "any"; break;
    case SK_NONE: l = "none"; break;
    case SK_BOOL: l = "bool"; break;
    case SK_INT: l = n->constrained ? "constrained-int" : "int"; break;
    case SK_FLOAT: l = n->constrained ? "constrained-float" : "float"; break;
    case SK_STR: l = n->constrained ? "constrained-str" : "str"; break;
    case SK_REF: l = label(cx, n->u.ref.target); break;
    default:
        if ((f = open_memstream(&buf, &len)) == NULL)
            break;
        switch (n->kind) {
        case SK_LIST:
        case SK_SET:
            fprintf(f, "%s[%s]", n->kind == SK_SET ? "set" : "list",
                    label(cx, n->u.arr.items));
            break;
        case SK_DICT:
            fprintf(f, "dict[str,%s]", label(cx, n->u.dict.values));
            break;
        case SK_NULLABLE:
            fprintf(f, "nullable[%s]", label(cx, n->u.nul.inner));
            break;
        case SK_UNION:
        case SK_ALLOF:
            fputs(n->kind == SK_UNION ? "union[" : "all-of[", f);
            for (size_t i = 0; i < n->u.alt.n; i++)
                fprintf(f, "%s%s", i ? "," : "", label(cx, n->u.alt.c[i]));
            fputc(']', f);
            break;
        }
        if (fclose(f) == 0) {
            /* a long chain of named arrays could make every label long:
             * past 1 KiB, only the outer name ("list[...]") */
            if (len > 1024)
                strcpy(strchr(buf, '[') + 1, "...]");
            l = sl_sc_strdup(cx->set, buf);
        }
        free(buf);
    }
    n->mark = M_DONE;
    if (l == NULL) {
        sl_sc_oom(cx);
        return "";
    }
    /* a label found while its own is being made stays unstored ("...") */
    if (strcmp(l, "...") != 0 || n->kind == SK_REF)
        n->label = l;
    return l;
}

/* set[...]'s items must be hashable: scalars, literals, unions of them. */
static int scalar(struct sl_node *n, int depth)
{
    n = deref(n);
    if (depth > SL_SCHEMA_MAX_DEPTH)
        return 0;
    switch (n->kind) {
    case SK_NONE: case SK_BOOL: case SK_INT: case SK_FLOAT: case SK_STR:
    case SK_LITERAL:
    case SK_ENUM:
        return 1;
    case SK_NULLABLE:
        return scalar(n->u.nul.inner, depth + 1);
    case SK_UNION:
        for (size_t i = 0; i < n->u.alt.n; i++)
            if (!scalar(n->u.alt.c[i], depth + 1))
                return 0;
        return 1;
    default:
        return 0;
    }
}

static int run_checks(struct sl_cx *cx)
{
    for (size_t i = 0; i < cx->nchecks && !cx->failed; i++) {
        struct sl_check *c = &cx->checks[i];
        struct sl_errlist l;
        json_object *out = NULL;
        sl_errlist_init(&l, 1);
        int r = sl_schema_check(c->node, c->value, &l, &out);
        json_object_put(out);
        if (r < 0) {
            sl_sc_oom(cx);
        } else if (r > 0) {
            char msg[512];
            if (l.n)
                sl_verr_message(&l.v[0], msg, sizeof msg);
            else
                msg[0] = '\0';
            sl_sc_fail(cx, c->where ? c->where : "", NULL, "%s: %s", c->what, msg);
        }
        sl_errlist_free(&l);
    }
    return cx->failed ? -1 : 0;
}

static void cx_free(struct sl_cx *cx)
{
    free(cx->made);
    free(cx->checks);
    free(cx->refs);
}

/* Builds root (may be NULL: only pending targets) and what it reaches. */
static int round_run(sl_schema_set *set, json_object *doc, struct sl_node **root,
                     char *err, size_t errlen)
{
    struct sl_cx cx = {.set = set, .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (doc)
        *root = sl_sc_build(&cx, doc, "", doc, 0, NULL);
    for (int more = 1; more && !cx.failed;) {
        more = 0;
        for (struct sl_target *t = set->targets; t && !cx.failed; t = t->next) {
            if (t->state != 0)
                continue;
            int wanted = 0;
            for (size_t i = 0; i < cx.nrefs && !wanted; i++)
                wanted = cx.refs[i].t == t;
            if (!wanted)
                continue;
            t->state = 1;
            more = 1;
            t->node = sl_sc_build(&cx, t->src, t->where, t->doc ? t->doc : t->src, 0,
                            t->name);
        }
    }
    for (size_t i = 0; i < cx.nrefs && !cx.failed; i++)
        cx.refs[i].ref->u.ref.target = cx.refs[i].t->node;
    for (size_t i = 0; i < cx.nmade && !cx.failed; i++)
        cycle(&cx, cx.made[i]);
    for (size_t i = 0; i < cx.nmade; i++)
        cx.made[i]->mark = M_NONE;
    for (size_t i = 0; i < cx.nmade && !cx.failed; i++)
        flatten(&cx, cx.made[i]);
    for (size_t i = 0; i < cx.nmade; i++)
        cx.made[i]->mark = M_NONE;
    for (size_t i = 0; i < cx.nmade && !cx.failed; i++)
        label(&cx, cx.made[i]);
    for (size_t i = 0; i < cx.nmade && !cx.failed; i++) {
        struct sl_node *n = cx.made[i];
        if (n->kind == SK_SET && !scalar(n->u.arr.items, 0))
            sl_sc_fail(&cx, n->where, "uniqueItems", "needs scalar items "
                    "(Pydantic validates the array as a set)");
    }
    if (!cx.failed)
        run_checks(&cx);
    for (struct sl_target *t = set->targets; t; t = t->next)
        if (t->state == 1) {
            t->state = cx.failed ? 0 : 2;
            if (cx.failed)
                t->node = NULL;
        }
    int r = cx.failed ? (cx.oom ? -ENOMEM : -EINVAL) : 0;
    cx_free(&cx);
    return r;
}

static struct sl_schema *new_schema(sl_schema_set *set, struct sl_node *root,
                                    json_object *src)
{
    struct sl_schema *s = sl_sc_alloc(set, sizeof *s);
    if (s) {
        s->root = root;
        s->src = src;
        s->set = set;
    }
    return s;
}

int sl_schema_compile(sl_schema_set *set, json_object *schema,
                      const sl_jschema **out, char *err, size_t errlen)
{
    struct sl_node *root = NULL;
    *out = NULL;
    if (json_object_array_add(set->keep, json_object_get(schema))) {
        json_object_put(schema);
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int r = round_run(set, schema, &root, err, errlen);
    if (r)
        return r;
    if ((*out = new_schema(set, root, schema)) == NULL) {
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int sl_schema_compile_text(sl_schema_set *set, const char *text, size_t len,
                           const sl_jschema **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len > (size_t)INT32_MAX) {
        say(err, errlen, "schema text too long");
        return -EINVAL;
    }
    /* a schema level is up to three JSON levels ("properties": {"x": {}}) */
    json_tokener *tok = json_tokener_new_ex(3 * SL_SCHEMA_MAX_DEPTH + 8);
    if (tok == NULL) {
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (j == NULL && e == json_tokener_continue) {
        j = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
    }
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success || j == NULL) {
        json_object_put(j);
        say(err, errlen, "schema is not JSON: %s (at byte %zu)",
            json_tokener_error_desc(e), end);
        return -EINVAL;
    }
    int r = sl_schema_compile(set, j, out, err, errlen);
    json_object_put(j);
    return r;
}

int sl_schema_get(sl_schema_set *set, const char *name, const sl_jschema **out,
                  char *err, size_t errlen)
{
    json_object *src;
    *out = NULL;
    if (!json_object_object_get_ex(set->components, name, &src)) {
        say(err, errlen, "no schema named '%s'", name);
        return -ENOENT;
    }
    /* a round on {"$ref": it} builds it if no round did */
    char ref[300];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    json_object *doc = json_object_new_object();
    if (doc == NULL ||
        json_object_object_add(doc, "$ref", json_object_new_string(ref)) ||
        json_object_array_add(set->keep, doc)) {
        json_object_put(doc);
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct sl_node *root;
    int r = round_run(set, doc, &root, err, errlen);
    if (r)
        return r;
    struct sl_target *t = set->targets;
    while (t && (t->doc != NULL || strcmp(t->name, name) != 0))
        t = t->next;
    if (t == NULL || t->node == NULL)
        return -ENOENT;
    if (t->schema == NULL && (t->schema = new_schema(set, t->node, src)) == NULL) {
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *out = t->schema;
    return 0;
}
