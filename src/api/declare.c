/*
 * declare.c: compiling a route record into a decl (see declare.h).
 *
 * Each parameter becomes the JSON Schema FastAPI would publish for it, and
 * is compiled by the schema compiler, so that one implementation converts
 * and checks values (Pydantic's lax rules and messages) and the OpenAPI
 * document shows exactly what is enforced.  A default is written as it
 * would be sent ("10") and converted by the same rules: it is checked in a
 * scratch set against the schema without it, then the converted value
 * goes into the schema as "default" (which the compiler checks again).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/declare.h"
#include "api/router.h"

#define ROUTE_FLAGS (SL_LOOP | SL_ENCODED_SLASH | SL_BODY_OPTIONAL)
#define PARAM_FLAGS (SL_REQUIRED | SL_MULTI | SL_DEPRECATED)

/* Where a refusal is written. */
typedef struct why {
    char *buf;
    size_t len;
} why_t;

static int refuse(why_t *w, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(why_t *w, int rc, const char *fmt, ...)
{
    if (w->buf != NULL && w->len > 0 && w->buf[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->buf, w->len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *const where_names[] = {"query", "path", "header", "cookie"};
static const char *const type_names[] = {"str", "int", "num", "bool"};

/* strdup of an optional string: 0, or -ENOMEM. */
static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

/* json-c's add, that reports failure and always consumes val. */
static int put(json_object *o, const char *key, json_object *val)
{
    if (val == NULL)
        return -ENOMEM;
    if (json_object_object_add(o, key, val)) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

/* A bound given as text: a JSON number, or -EINVAL. */
static int number_text(const char *text, json_object **out)
{
    json_object *errs = json_object_new_array();
    *out = NULL;
    if (errs == NULL)
        return -ENOMEM;
    int r = sl_schema_parse_json(text, strlen(text), out, errs);
    json_object_put(errs);
    if (r == -ENOMEM)
        return r;
    if (r != 0 || *out == NULL ||
        !(json_object_is_type(*out, json_type_int) ||
          json_object_is_type(*out, json_type_double))) {
        json_object_put(*out);
        *out = NULL;
        return -EINVAL;
    }
    return 0;
}

/* "parameter 'x'" with its place, for messages. */
static void label(char *buf, size_t len, const sl_param_def *p)
{
    snprintf(buf, len, "%s parameter '%s'",
             (unsigned)p->in <= SL_IN_COOKIE ? where_names[p->in] : "?", p->name);
}

/* A header name is an HTTP token. */
static int token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s) != NULL)
            return 0;
    return 1;
}

/* The CGI name of a header: HTTP_ + upper case, '-' as '_'; Content-Type
 * and Content-Length without the prefix, as CGI passes them. */
static char *cgi_name(const char *name)
{
    int bare = strcasecmp(name, "Content-Type") == 0 ||
               strcasecmp(name, "Content-Length") == 0;
    size_t n = strlen(name);
    char *s = malloc(n + 6);
    if (s == NULL)
        return NULL;
    char *p = s;
    if (!bare) {
        memcpy(p, "HTTP_", 5);
        p += 5;
    }
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        p[i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    return s;
}

/* The rules of p that fit its type, as JSON Schema keywords into s (an
 * object with "type" already); or -EINVAL naming the misplaced one. */
static int add_rules(json_object *s, const sl_param_def *p, const char *lbl,
                     why_t *w)
{
    static const struct { const char *kw, *field; size_t off; } bounds[] = {
        {"minimum", "ge", offsetof(sl_param_def, ge)},
        {"exclusiveMinimum", "gt", offsetof(sl_param_def, gt)},
        {"maximum", "le", offsetof(sl_param_def, le)},
        {"exclusiveMaximum", "lt", offsetof(sl_param_def, lt)},
    };
    int numeric = p->type == SL_T_INT || p->type == SL_T_NUM;
    int str = p->type == SL_T_STR;

    for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
        const char *text = *(const char *const *)(const void *)((const char *)p + bounds[i].off);
        if (text == NULL)
            continue;
        if (!numeric)
            return refuse(w, -EINVAL, "%s: %s applies to SL_T_INT and SL_T_NUM, not %s",
                          lbl, bounds[i].field, type_names[p->type]);
        json_object *v;
        int r = number_text(text, &v);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            return refuse(w, -EINVAL, "%s: %s '%s' is not a number", lbl,
                          bounds[i].field, text);
        if (put(s, bounds[i].kw, v))
            return -ENOMEM;
    }
    if (!str && (p->min_length || p->max_length || p->pattern || p->choices))
        return refuse(w, -EINVAL, "%s: %s applies to SL_T_STR, not %s", lbl,
                      p->min_length ? "min_length" : p->max_length ? "max_length"
                      : p->pattern ? "pattern" : "choices", type_names[p->type]);
    if (p->choices && (p->min_length || p->max_length || p->pattern))
        return refuse(w, -EINVAL, "%s: choices and %s: the choices are the rule", lbl,
                      p->min_length ? "min_length" : p->max_length ? "max_length"
                      : "pattern");
    if (p->min_length > INT64_MAX || p->max_length > INT64_MAX)
        return refuse(w, -EINVAL, "%s: a length past INT64_MAX", lbl);
    if (p->min_length && put(s, "minLength", json_object_new_int64((int64_t)p->min_length)))
        return -ENOMEM;
    if (p->max_length && put(s, "maxLength", json_object_new_int64((int64_t)p->max_length)))
        return -ENOMEM;
    if (p->pattern && put(s, "pattern", json_object_new_string(p->pattern)))
        return -ENOMEM;
    if (p->choices) {
        json_object *e = json_object_new_array();
        if (put(s, "enum", e))
            return -ENOMEM;
        size_t n = 0;
        for (; p->choices[n] != NULL; n++) {
            if (n == SL_DECL_MAX_CHOICES)
                return refuse(w, -EINVAL, "%s: more than %d choices (or no NULL at "
                              "their end)", lbl, SL_DECL_MAX_CHOICES);
            if (json_object_array_add(e, json_object_new_string(p->choices[n])))
                return -ENOMEM;
        }
        if (n == 0)
            return refuse(w, -EINVAL, "%s: choices, but none", lbl);
        /* A str Enum, as Pydantic publishes one: its title is the class
         * name, here the parameter's. */
        if (put(s, "title", json_object_new_string(p->name)))
            return -ENOMEM;
    }
    return 0;
}

/* The schema of p without its default; NULL with *rc set. */
static json_object *rule_schema(const sl_param_def *p, const char *lbl, why_t *w,
                                int *rc)
{
    static const char *const json_types[] = {"string", "integer", "number", "boolean"};
    json_object *item = json_object_new_object(), *s = item;

    *rc = -ENOMEM;
    if (item == NULL || put(item, "type", json_object_new_string(json_types[p->type])))
        goto fail;
    if ((*rc = add_rules(item, p, lbl, w)) < 0)
        goto fail;
    if (!(p->flags & SL_MULTI)) {
        if (p->min_items || p->max_items) {
            *rc = refuse(w, -EINVAL, "%s: min_items and max_items apply to SL_MULTI", lbl);
            goto fail;
        }
        return s;
    }
    *rc = -ENOMEM;
    if ((s = json_object_new_object()) == NULL)
        goto fail;
    if (put(s, "type", json_object_new_string("array")) || put(s, "items", item)) {
        item = NULL;
        goto fail;
    }
    item = NULL;
    if (p->min_items > INT64_MAX || p->max_items > INT64_MAX) {
        *rc = refuse(w, -EINVAL, "%s: an item count past INT64_MAX", lbl);
        goto fail;
    }
    if ((p->min_items && put(s, "minItems", json_object_new_int64((int64_t)p->min_items))) ||
        (p->max_items && put(s, "maxItems", json_object_new_int64((int64_t)p->max_items))))
        goto fail;
    return s;
fail:
    json_object_put(item);
    if (s != item)
        json_object_put(s);
    return NULL;
}

/* The first error's message, for a refusal. */
static const char *first_msg(json_object *errors)
{
    json_object *e = json_object_array_get_idx(errors, 0), *msg;
    if (e != NULL && json_object_object_get_ex(e, "msg", &msg))
        return json_object_get_string(msg);
    return "refused";
}

/*
 * The default of p converted by its own rules (schema s), into *out: in a
 * scratch set, so that a refused default leaves nothing in the app's.
 */
static int convert_default(json_object *s, const sl_param_def *p, const char *lbl,
                           why_t *w, json_object **out)
{
    char err[256] = "";
    const sl_jschema *sc;
    json_object *errors = json_object_new_array(), *in = NULL;
    sl_schema_set *tmp = sl_schema_set_new();
    int r = -ENOMEM;

    *out = NULL;
    if (errors == NULL || tmp == NULL)
        goto done;
    r = sl_schema_compile(tmp, s, &sc, err, sizeof err);
    if (r < 0) {
        if (r != -ENOMEM)
            r = refuse(w, -EINVAL, "%s: %s", lbl, err);
        goto done;
    }
    if (p->flags & SL_MULTI) {
        r = sl_schema_parse_json(p->dflt, strlen(p->dflt), &in, errors);
        if (r == -ENOMEM)
            goto done;
        if (r != 0 || !json_object_is_type(in, json_type_array)) {
            r = refuse(w, -EINVAL, "%s: default '%s' is not a JSON array (SL_MULTI)",
                       lbl, p->dflt);
            goto done;
        }
        r = sl_schema_validate(sc, in, NULL, out, errors);
    } else {
        const char *v = p->dflt;
        r = sl_schema_validate_param(sc, where_names[p->in], p->name, &v, NULL, 1, 1,
                                     out, errors);
    }
    if (r > 0)
        r = refuse(w, -EINVAL, "%s: default '%s' is refused by its own rules: %s",
                   lbl, p->dflt, first_msg(errors));
done:
    json_object_put(in);
    json_object_put(errors);
    sl_schema_set_free(tmp);
    if (r != 0) {
        json_object_put(*out);
        *out = NULL;
    }
    return r;
}

/* One declared parameter p into d (filled in place), pattern params pp. */
static int build_param(sl_schema_set *set, const sl_param_def *p,
                       const sl_pattern_param *pp, int npp, sl_decl_param *d,
                       why_t *w)
{
    char lbl[160], err[256] = "";
    int rc;

    if ((unsigned)p->in > SL_IN_COOKIE)
        return refuse(w, -EINVAL, "parameter '%s': unknown in (%d)", p->name, (int)p->in);
    label(lbl, sizeof lbl, p);
    if (p->name[0] == '\0')
        return refuse(w, -EINVAL, "a %s parameter with an empty name", where_names[p->in]);
    if ((unsigned)p->type > SL_T_BOOL)
        return refuse(w, -EINVAL, "%s: unknown type (%d)", lbl, (int)p->type);
    if (p->flags & ~PARAM_FLAGS)
        return refuse(w, -EINVAL, "%s: unknown flags 0x%x", lbl, p->flags & ~PARAM_FLAGS);
    if ((p->flags & SL_MULTI) && p->in != SL_IN_QUERY)
        return refuse(w, -EINVAL, "%s: SL_MULTI is for query parameters", lbl);
    if ((p->flags & SL_REQUIRED) && p->dflt != NULL)
        return refuse(w, -EINVAL, "%s: SL_REQUIRED and a default", lbl);
    if (p->in == SL_IN_HEADER && !token(p->name))
        return refuse(w, -EINVAL, "%s: not an HTTP header name", lbl);
    d->path_index = -1;
    if (p->in == SL_IN_PATH) {
        int i = 0;
        while (i < npp && strcmp(pp[i].name, p->name) != 0)
            i++;
        if (i == npp)
            return refuse(w, -EINVAL, "%s: the pattern has no {%s}", lbl, p->name);
        if (p->dflt != NULL)
            return refuse(w, -EINVAL, "%s: a path parameter takes no default", lbl);
        if (pp[i].type == SL_PARAM_INT && p->type != SL_T_INT)
            return refuse(w, -EINVAL, "%s: {%s:int} in the pattern, declared %s", lbl,
                          p->name, type_names[p->type]);
        if (pp[i].type == SL_PARAM_PATH && p->type != SL_T_STR)
            return refuse(w, -EINVAL, "%s: {%s:path} in the pattern, declared %s", lbl,
                          p->name, type_names[p->type]);
        d->path_index = i;
    }
    json_object *s = rule_schema(p, lbl, w, &rc);
    if (s == NULL)
        return rc;
    if (p->dflt != NULL) {
        json_object *v;
        if ((rc = convert_default(s, p, lbl, w, &v)) < 0) {
            json_object_put(s);
            return rc;
        }
        /* null is a valid default only of... nothing here: v is a value */
        if (put(s, "default", v)) {
            json_object_put(s);
            return -ENOMEM;
        }
        d->has_default = 1;
    }
    rc = sl_schema_compile(set, s, &d->schema, err, sizeof err);
    json_object_put(s);
    if (rc < 0)
        return rc == -ENOMEM ? rc : refuse(w, -EINVAL, "%s: %s", lbl, err);
    d->in = p->in;
    d->type = p->type;
    d->flags = p->flags | (p->in == SL_IN_PATH ? SL_REQUIRED : 0);
    d->required = (d->flags & SL_REQUIRED) != 0;
    d->where = where_names[p->in];
    if ((d->name = strdup(p->name)) == NULL || dup_opt(&d->description, p->description))
        return -ENOMEM;
    if (p->in == SL_IN_HEADER && (d->cgi = cgi_name(p->name)) == NULL)
        return -ENOMEM;
    return 0;
}

/* A path parameter only the pattern declares: {x} a string, {x:int} an
 * integer, {x:path} a string. */
static int build_implicit(sl_schema_set *set, const sl_pattern_param *pp, int i,
                          sl_decl_param *d, why_t *w)
{
    char err[256] = "";
    const char *text = pp->type == SL_PARAM_INT ? "{\"type\":\"integer\"}"
                                                : "{\"type\":\"string\"}";
    int rc = sl_schema_compile_text(set, text, strlen(text), &d->schema, err, sizeof err);
    if (rc < 0)
        return rc == -ENOMEM ? rc : refuse(w, -EINVAL, "path parameter '%s': %s",
                                           pp->name, err);
    d->in = SL_IN_PATH;
    d->type = pp->type == SL_PARAM_INT ? SL_T_INT : SL_T_STR;
    d->flags = SL_REQUIRED;
    d->required = 1;
    d->implicit = 1;
    d->where = "path";
    d->path_index = i;
    return (d->name = strdup(pp->name)) ? 0 : -ENOMEM;
}

/* A schema given as text (body, responses), compiled in the app's set. */
static int build_schema(sl_schema_set *set, const char *text, const char *what,
                        const sl_jschema **out, why_t *w)
{
    char err[256] = "";
    int rc = sl_schema_compile_text(set, text, strlen(text), out, err, sizeof err);
    if (rc < 0)
        return rc == -ENOMEM ? rc : refuse(w, -EINVAL, "%s: %s", what, err);
    return 0;
}

static int build_params(sl_schema_set *set, const sl_route_def *def, sl_decl *d,
                        why_t *w)
{
    sl_pattern_param pp[SL_ROUTER_MAX_PARAMS];
    int npp = 0;
    int rc = sl_pattern_params(def->pattern, pp, &npp, w->buf, w->len);
    if (rc < 0)
        return rc;

    size_t ndef = 0;
    if (def->params != NULL)
        for (; def->params[ndef].name != NULL; ndef++)
            if (ndef == SL_DECL_MAX_PARAMS)
                return refuse(w, -EINVAL, "more than %d parameters (or no entry with "
                              "a NULL name at their end)", SL_DECL_MAX_PARAMS);
    d->params = calloc(ndef + (size_t)npp + 1, sizeof *d->params);
    if (d->params == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < ndef; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(def->params[i].name, def->params[j].name) == 0)
                return refuse(w, -EINVAL, "parameter '%s' declared twice",
                              def->params[i].name);

    /* FastAPI's order: path (declared, then implied), query, header, cookie. */
    static const sl_in order[] = {SL_IN_PATH, SL_IN_QUERY, SL_IN_HEADER, SL_IN_COOKIE};
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        for (size_t i = 0; i < ndef; i++) {
            const sl_param_def *p = &def->params[i];
            /* Unknown `in` values are refused in the first pass. */
            if (!(p->in == order[k] || (k == 0 && (unsigned)p->in > SL_IN_COOKIE)))
                continue;
            if ((rc = build_param(set, p, pp, npp, &d->params[d->nparams], w)) < 0)
                return rc;
            d->nparams++;
            d->has_query |= p->in == SL_IN_QUERY;
            d->has_cookie |= p->in == SL_IN_COOKIE;
        }
        if (order[k] != SL_IN_PATH)
            continue;
        for (int i = 0; i < npp; i++) {
            if (sl_decl_find(d, pp[i].name) != NULL)
                continue;
            if ((rc = build_implicit(set, &pp[i], i, &d->params[d->nparams], w)) < 0)
                return rc;
            d->nparams++;
        }
    }
    return 0;
}

static int build_docs(sl_schema_set *set, const sl_route_def *def, sl_decl *d,
                      why_t *w)
{
    char what[64];
    int rc;

    if (def->response != NULL &&
        (rc = build_schema(set, def->response, "response schema", &d->response, w)) < 0)
        return rc;
    size_t n = 0;
    if (def->responses != NULL)
        for (; def->responses[n].status != 0; n++)
            if (n == SL_DECL_MAX_RESPONSES)
                return refuse(w, -EINVAL, "more than %d responses (or no entry with "
                              "status 0 at their end)", SL_DECL_MAX_RESPONSES);
    if (n > 0 && (d->responses = calloc(n, sizeof *d->responses)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const sl_response_def *r = &def->responses[i];
        sl_decl_response *o = &d->responses[i];
        if (r->status < 100 || r->status > 599)
            return refuse(w, -EINVAL, "response %d: not a status (100-599)", r->status);
        if (r->status == d->status)
            return refuse(w, -EINVAL, "response %d: the success status", r->status);
        for (size_t j = 0; j < i; j++)
            if (d->responses[j].status == r->status)
                return refuse(w, -EINVAL, "response %d: listed twice", r->status);
        o->status = r->status;
        d->nresponses++;
        snprintf(what, sizeof what, "response %d schema", r->status);
        if ((r->schema != NULL && (rc = build_schema(set, r->schema, what, &o->schema, w)) < 0))
            return rc;
        if (dup_opt(&o->description, r->description))
            return -ENOMEM;
    }
    n = 0;
    if (def->tags != NULL)
        for (; def->tags[n] != NULL; n++)
            if (n == SL_DECL_MAX_TAGS)
                return refuse(w, -EINVAL, "more than %d tags (or no NULL at their end)",
                              SL_DECL_MAX_TAGS);
    if (n > 0 && (d->tags = calloc(n, sizeof *d->tags)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++, d->ntags++)
        if ((d->tags[i] = strdup(def->tags[i])) == NULL)
            return -ENOMEM;
    if (dup_opt(&d->summary, def->summary) || dup_opt(&d->description, def->description) ||
        dup_opt(&d->operation_id, def->operation_id))
        return -ENOMEM;
    d->deprecated = def->deprecated != 0;
    d->user = def->user;
    /* Dependencies: the list is copied, bounded as the others. */
    n = 0;
    if (def->depends != NULL)
        for (; def->depends[n].fn != NULL; n++)
            if (n == SL_DECL_MAX_DEPENDS)
                return refuse(w, -EINVAL, "more than %d dependencies (or no NULL fn at "
                              "their end)", SL_DECL_MAX_DEPENDS);
    if (n > 0 && (d->depends = malloc(n * sizeof *d->depends)) == NULL)
        return -ENOMEM;
    if (n > 0)
        memcpy(d->depends, def->depends, n * sizeof *d->depends);
    d->ndepends = n;
    return 0;
}

int sl_decl_build(sl_schema_set *set, const sl_route_def *def, sl_decl **out,
                  char *why, size_t whylen)
{
    why_t w = { why, whylen };
    int rc;

    *out = NULL;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (set == NULL || def == NULL || def->method == NULL || def->pattern == NULL)
        return refuse(&w, -EINVAL, "no schema set, record, method or pattern");
    if (def->handler == NULL)
        return refuse(&w, -EINVAL, "no handler");
    if (def->flags & ~ROUTE_FLAGS)
        return refuse(&w, -EINVAL, "unknown flags 0x%x", def->flags & ~ROUTE_FLAGS);
    if (def->status != 0 && (def->status < 200 || def->status > 599))
        return refuse(&w, -EINVAL, "status %d: a final status is 200-599", def->status);
    if ((def->flags & SL_BODY_OPTIONAL) && def->body == NULL)
        return refuse(&w, -EINVAL, "SL_BODY_OPTIONAL without a body");
    sl_decl *d = calloc(1, sizeof *d);
    if (d == NULL)
        return refuse(&w, -ENOMEM, "out of memory");
    d->flags = def->flags;
    d->status = def->status ? def->status : 200;
    rc = -ENOMEM;
    if ((d->method = strdup(def->method)) == NULL || (d->pattern = strdup(def->pattern)) == NULL)
        goto fail;
    if ((rc = build_params(set, def, d, &w)) < 0)
        goto fail;
    if (def->body != NULL) {
        if ((rc = build_schema(set, def->body, "body schema", &d->body, &w)) < 0)
            goto fail;
        d->body_required = !(def->flags & SL_BODY_OPTIONAL);
        rc = -ENOMEM;
        if ((d->body_loc = json_object_new_array()) == NULL ||
            json_object_array_add(d->body_loc, json_object_new_string("body")))
            goto fail;
    }
    if ((rc = build_docs(set, def, d, &w)) < 0)
        goto fail;
    *out = d;
    return 0;
fail:
    if (rc == -ENOMEM)
        refuse(&w, rc, "out of memory");
    sl_decl_free(d);
    return rc;
}

void sl_decl_free(sl_decl *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nparams; i++) {
        free(d->params[i].name);
        free(d->params[i].description);
        free(d->params[i].cgi);
    }
    /* A parameter that failed part-way is past nparams: calloc'd, so its
     * pointers are NULL or its own. */
    if (d->params != NULL) {
        free(d->params[d->nparams].name);
        free(d->params[d->nparams].description);
        free(d->params[d->nparams].cgi);
    }
    free(d->params);
    for (size_t i = 0; i < d->nresponses; i++)
        free(d->responses[i].description);
    free(d->responses);
    for (size_t i = 0; i < d->ntags; i++)
        free(d->tags[i]);
    free(d->tags);
    free(d->depends);
    json_object_put(d->body_loc);
    free(d->method);
    free(d->pattern);
    free(d->summary);
    free(d->description);
    free(d->operation_id);
    free(d);
}

const sl_decl_param *sl_decl_find(const sl_decl *d, const char *name)
{
    for (size_t i = 0; i < d->nparams; i++)
        if (d->params[i].name != NULL && strcmp(d->params[i].name, name) == 0)
            return &d->params[i];
    return NULL;
}

int sl_decl_method_matches(const sl_decl *d, const char *method)
{
    return strcmp(d->method, method) == 0 || strcmp(d->method, "*") == 0 ||
           (strcmp(d->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}
