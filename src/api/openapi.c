/*
 * openapi.c: the OpenAPI 3.1 document (see openapi.h).
 *
 * FastAPI 0.141's get_openapi(), step by step, over the route table
 * instead of APIRoutes:
 *   {"openapi": "3.1.0", "info": {title, version, description},
 *    "servers": [{"url": root_path}], "paths": {...},
 *    "components": {"schemas": {...}}}
 * paths in the order routes were registered, each operation as
 * get_openapi_path() writes it: tags, summary, description, operationId,
 * deprecated, parameters (path, query, header, cookie: the order they are
 * validated in), requestBody, responses.  A parameter's schema is the one
 * its declaration compiled (declare.c: what Pydantic publishes for the
 * same Query(), Header(), ... field) with what FastAPI adds around it
 * (get_schema_from_model_field: description, deprecated, default, title);
 * components/schemas sorted by name, as FastAPI sorts them.
 *
 * Where C differs: no function name, so no default summary and an
 * operation id made from the path alone; an enumeration stays inline
 * (FastAPI refers to its Enum class in components, and C has no class
 * name).  Everything the document holds is its own (deep copies), so
 * that building it never touches the reference counts of compiled
 * schemas.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "api/declare.h"
#include "api/openapi.h"
#include "api/router.h"
#include "api/schema.h"
#include "util/log.h"

#define REF_PREFIX "#/components/schemas/"

/* fastapi/openapi/utils.py validation_error_definition and
 * validation_error_response_definition, as FastAPI publishes them. */
static const char validation_error[] =
    "{\"title\":\"ValidationError\",\"type\":\"object\",\"properties\":{"
    "\"loc\":{\"title\":\"Location\",\"type\":\"array\",\"items\":{\"anyOf\":"
    "[{\"type\":\"string\"},{\"type\":\"integer\"}]}},"
    "\"msg\":{\"title\":\"Message\",\"type\":\"string\"},"
    "\"type\":{\"title\":\"Error Type\",\"type\":\"string\"},"
    "\"input\":{\"title\":\"Input\"},"
    "\"ctx\":{\"title\":\"Context\",\"type\":\"object\"}},"
    "\"required\":[\"loc\",\"msg\",\"type\"]}";
static const char http_validation_error[] =
    "{\"title\":\"HTTPValidationError\",\"type\":\"object\",\"properties\":{"
    "\"detail\":{\"title\":\"Detail\",\"type\":\"array\",\"items\":"
    "{\"$ref\":\"" REF_PREFIX "ValidationError\"}}}}";
/* The 422 of an app that chose SL_ERRORS_PROBLEM (api/errors.c): RFC
 * 9457's members and FastAPI's items under "errors". */
static const char validation_problem[] =
    "{\"title\":\"ValidationProblem\",\"type\":\"object\",\"properties\":{"
    "\"type\":{\"title\":\"Type\",\"type\":\"string\"},"
    "\"title\":{\"title\":\"Title\",\"type\":\"string\"},"
    "\"status\":{\"title\":\"Status\",\"type\":\"integer\"},"
    "\"detail\":{\"title\":\"Detail\",\"type\":\"string\"},"
    "\"errors\":{\"title\":\"Errors\",\"type\":\"array\",\"items\":"
    "{\"$ref\":\"" REF_PREFIX "ValidationError\"}}},"
    "\"required\":[\"type\",\"title\",\"status\",\"detail\",\"errors\"]}";

/* The schemas the 422 responses refer to, when some route needs them. */
static const struct builtin {
    const char *name, *json;
    int problem;            /* needed by the problem+json 422 (else FastAPI's) */
} builtins[] = {
    {"HTTPValidationError", http_validation_error, 0},
    {"ValidationError", validation_error, -1},      /* by both */
    {"ValidationProblem", validation_problem, 1},
};

/* The methods a path item has a field for (OpenAPI 3.1). */
static const char *const methods[] = {
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
};

typedef struct builder {
    const sl_app *app;
    const sl_openapi_opts *opts;
    json_object *paths;
    json_object *used;          /* operation ids given: {"id": null, ...} */
    json_object *shapes;        /* {"/u/{}": "/u/{x}"}: the template that has
                                   each shape (OpenAPI: one per shape) */
    json_object *declared;      /* operation ids the table declares */
    int fastapi_422;            /* some route's 422 is FastAPI's */
    int problem_422;            /* ... or the problem document */
} builder;

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

static int append(json_object *a, json_object *val)
{
    if (val == NULL)
        return -ENOMEM;
    if (json_object_array_add(a, val)) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

/* A copy of the document's own; NULL if out of memory. */
static json_object *copy(json_object *src)
{
    json_object *dst = NULL;
    if (json_object_deep_copy(src, &dst, NULL) != 0)
        return NULL;
    return dst;
}

static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c >= 0x80;
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * A parameter's title as FastAPI gives it: Python's str.title() of the
 * name, then '_' as ' ' ("item_id" "Item Id", "X-Token" "X-Token",
 * "limit2x" "Limit2X").  Letters are ASCII's; a byte of a UTF-8 sequence
 * is kept and counts as a letter (Python's cased characters), so it is
 * followed by lower case.
 */
static json_object *py_title(const char *name)
{
    size_t n = strlen(name);
    char *t = malloc(n + 1);
    if (t == NULL)
        return NULL;
    int after_letter = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (is_alpha(c)) {
            t[i] = (char)(after_letter ? (c | 0x20) : (c & ~0x20));
            after_letter = 1;
        } else {
            t[i] = c == '_' ? ' ' : (char)c;
            after_letter = c >= 0x80;
        }
    }
    json_object *s = json_object_new_string(t);
    free(t);
    return s;
}

/* "/items/{id:int}" as OpenAPI writes it, "/items/{id}" (FastAPI's
 * path_format): inside braces, what follows the ':' is left out.  The
 * pattern is one the router took. */
static char *template_of(const char *pattern)
{
    char *t = malloc(strlen(pattern) + 1), *o = t;
    if (t == NULL)
        return NULL;
    int in_param = 0, skip = 0;
    for (const char *p = pattern; *p != '\0'; p++) {
        if (*p == '{') {
            in_param = 1;
        } else if (*p == '}') {
            in_param = skip = 0;
        } else if (*p == ':' && in_param) {
            skip = 1;
        }
        if (!skip)
            *o++ = *p;
    }
    *o = '\0';
    return t;
}

/* "/u/{x}" less its parameters' names, "/u/{}": templates of one shape are
 * one path for OpenAPI, which allows only one of them. */
static char *shape_of(const char *template)
{
    char *t = malloc(strlen(template) + 1), *o = t;
    if (t == NULL)
        return NULL;
    int in_param = 0;
    for (const char *p = template; *p != '\0'; p++) {
        if (*p == '}')
            in_param = 0;
        if (!in_param)
            *o++ = *p;
        if (*p == '{')
            in_param = 1;
    }
    *o = '\0';
    return t;
}

/*
 * The default operation id: FastAPI's generate_unique_id() without the
 * function's name, f"{path_format}" with \W made '_', less its first
 * character (the leading '/'), then "_" + the method in lower case.
 */
static char *default_id(const char *template, const char *method)
{
    size_t n = strlen(template), m = strlen(method);
    char *s = malloc(n + m + 2), *o = s;
    if (s == NULL)
        return NULL;
    for (size_t i = 1; i < n; i++)
        *o++ = is_word((unsigned char)template[i]) ? template[i] : '_';
    *o++ = '_';
    for (size_t i = 0; i < m; i++)
        *o++ = (char)(is_alpha((unsigned char)method[i]) ? (method[i] | 0x20) : method[i]);
    *o = '\0';
    return s;
}

static int has_key(json_object *o, const char *key)
{
    return json_object_object_get_ex(o, key, NULL);
}

/*
 * The operation id of one route: its declared one if no earlier route
 * has it, else `want` with "_2", "_3", ... as the first free; a default
 * id also stays clear of every declared one.  NULL if out of memory.
 */
static json_object *claim_id(builder *b, const char *want, int declared)
{
    char buf[512];
    const char *id = want;
    if (has_key(b->used, want) || (!declared && has_key(b->declared, want))) {
        for (unsigned k = 2;; k++) {
            snprintf(buf, sizeof buf, "%.480s_%u", want, k);
            if (!has_key(b->used, buf) && !has_key(b->declared, buf))
                break;
        }
        id = buf;
        if (declared)
            sl_log(b->opts->warn_level, "OpenAPI: operation id '%s' is declared twice: "
                   "the second is published as '%s'", want, id);
    }
    if (json_object_object_add(b->used, id, NULL))
        return NULL;
    return json_object_new_string(id);
}

/* The schema a declared parameter is published with. */
static json_object *param_schema(const sl_decl_param *p)
{
    json_object *src = sl_schema_source(p->schema);
    json_object *inner = json_object_new_object(), *s = NULL, *dflt = NULL;
    if (inner == NULL)
        return NULL;
    /* title and default are FastAPI's to place (below) */
    json_object_object_foreach(src, k, v) {
        if (strcmp(k, "title") == 0)
            continue;
        if (strcmp(k, "default") == 0) {
            dflt = v;
            continue;
        }
        if (put(inner, k, copy(v)))
            goto fail;
    }
    int optional = !p->required && !p->has_default;
    if (optional) {
        /* `x: T | None = None`: what FastAPI publishes for a parameter
         * that may be absent and has no value then. */
        json_object *any = json_object_new_array(), *null = json_object_new_object();
        if ((s = json_object_new_object()) == NULL || put(s, "anyOf", any) ||
            append(any, inner)) {
            inner = NULL;
            json_object_put(null);
            goto fail;
        }
        inner = NULL;
        if (null == NULL || put(null, "type", json_object_new_string("null")) ||
            append(any, null))
            goto fail;
    } else {
        s = inner;
        inner = NULL;
    }
    if (p->description != NULL && put(s, "description", json_object_new_string(p->description)))
        goto fail;
    if ((p->flags & SL_DEPRECATED) && put(s, "deprecated", json_object_new_boolean(1)))
        goto fail;
    /* `x: T | None = None` has no "default" in FastAPI's document. */
    if (!optional && p->has_default && put(s, "default", dflt ? copy(dflt) : NULL))
        goto fail;
    if (put(s, "title", py_title(p->name)))
        goto fail;
    return s;
fail:
    json_object_put(inner);
    json_object_put(s);
    return NULL;
}

/* {"name", "in", "required", "schema", "description", "deprecated"}, in
 * FastAPI's order; schema is consumed whatever happens (NULL: out of
 * memory). */
static json_object *parameter(const char *name, const char *in, int required,
                              json_object *schema, const char *description,
                              int deprecated)
{
    json_object *r = json_object_new_object();
    if (r == NULL || schema == NULL || put(r, "name", json_object_new_string(name)) ||
        put(r, "in", json_object_new_string(in)) ||
        put(r, "required", json_object_new_boolean(required))) {
        json_object_put(r);
        json_object_put(schema);
        return NULL;
    }
    if (put(r, "schema", schema) ||
        (description != NULL && put(r, "description", json_object_new_string(description))) ||
        (deprecated && put(r, "deprecated", json_object_new_boolean(1)))) {
        json_object_put(r);
        return NULL;
    }
    return r;
}

/* The parameters of a route record. */
static json_object *decl_parameters(const sl_decl *d)
{
    json_object *a = json_object_new_array();
    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < d->nparams; i++) {
        const sl_decl_param *p = &d->params[i];
        if (append(a, parameter(p->name, p->where, p->required, param_schema(p),
                                p->description, (p->flags & SL_DEPRECATED) != 0))) {
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

/* The path parameters of a route registered with sl_route(): {x} and
 * {x:path} strings, {x:int} an integer. */
static json_object *plain_parameters(const char *pattern)
{
    sl_pattern_param pp[SL_ROUTER_MAX_PARAMS];
    int n = 0;
    json_object *a = json_object_new_array();
    if (a == NULL)
        return NULL;
    /* The router took the pattern: it parses. */
    if (sl_pattern_params(pattern, pp, &n, NULL, 0) < 0)
        n = 0;
    for (int i = 0; i < n; i++) {
        json_object *s = json_object_new_object();
        if (s != NULL &&
            (put(s, "type", json_object_new_string(pp[i].type == SL_PARAM_INT ? "integer"
                                                                               : "string")) ||
             put(s, "title", py_title(pp[i].name)))) {
            json_object_put(s);
            s = NULL;
        }
        if (append(a, parameter(pp[i].name, "path", 1, s, NULL, 0))) {
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

/* {"application/json": {"schema": schema}} */
static json_object *json_content(const char *media, json_object *schema)
{
    json_object *c = json_object_new_object(), *m = json_object_new_object();
    if (c == NULL || m == NULL || put(m, "schema", schema)) {
        json_object_put(c);
        json_object_put(m);
        return NULL;
    }
    if (put(c, media, m)) {
        json_object_put(c);
        return NULL;
    }
    return c;
}

/* FastAPI's is_body_allowed_for_status_code(). */
static int body_allowed(int status)
{
    return !(status < 200 || status == 204 || status == 205 || status == 304);
}

static json_object *response(const char *description, json_object *content)
{
    json_object *r = json_object_new_object();
    if (r == NULL || put(r, "description", json_object_new_string(description)) ||
        (content != NULL && put(r, "content", content))) {
        json_object_put(r);
        return NULL;
    }
    return r;
}

/* The responses of a route record: the success status, the documented
 * ones, then the 422 of validation unless one is documented. */
static json_object *decl_responses(builder *b, const sl_decl *d)
{
    char key[16];
    json_object *rs = json_object_new_object(), *content = NULL;
    if (rs == NULL)
        return NULL;
    snprintf(key, sizeof key, "%d", d->status);
    if (body_allowed(d->status) &&
        (content = json_content("application/json",
                                d->response ? copy(sl_schema_source(d->response))
                                            : json_object_new_object())) == NULL)
        goto fail;
    if (put(rs, key, response("Successful Response", content)))
        goto fail;
    int has_422 = 0;
    for (size_t i = 0; i < d->nresponses; i++) {
        const sl_decl_response *r = &d->responses[i];
        const char *desc = r->description;
        if (desc == NULL || *desc == '\0')
            desc = sl_status_text(r->status);
        if (*desc == '\0')
            desc = "Additional Response";
        content = NULL;
        if (r->schema != NULL &&
            (content = json_content("application/json",
                                    copy(sl_schema_source(r->schema)))) == NULL)
            goto fail;
        snprintf(key, sizeof key, "%d", r->status);
        if (put(rs, key, response(desc, content)))
            goto fail;
        has_422 |= r->status == 422;
    }
    if ((d->nparams > 0 || d->body != NULL) && !has_422) {
        /* The format of the route's 422 (api/errors.c): FastAPI's unless
         * the app chose problem+json. */
        int problem = b->app->error_format_set && b->app->error_format == SL_ERRORS_PROBLEM;
        json_object *ref = json_object_new_object();
        if (ref == NULL || put(ref, "$ref", json_object_new_string(
                                   problem ? REF_PREFIX "ValidationProblem"
                                           : REF_PREFIX "HTTPValidationError"))) {
            json_object_put(ref);
            goto fail;
        }
        content = json_content(problem ? "application/problem+json" : "application/json", ref);
        if (content == NULL || put(rs, "422", response("Validation Error", content)))
            goto fail;
        if (problem)
            b->problem_422 = 1;
        else
            b->fastapi_422 = 1;
    }
    return rs;
fail:
    json_object_put(rs);
    return NULL;
}

/* fastapi/openapi/constants.py METHODS_WITH_BODY */
static int method_with_body(const char *m)
{
    static const char *const with[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < sizeof with / sizeof *with; i++)
        if (strcmp(m, with[i]) == 0)
            return 1;
    return 0;
}

static json_object *request_body(const sl_decl *d)
{
    json_object *rb = json_object_new_object();
    if (rb == NULL ||
        put(rb, "content", json_content("application/json", copy(sl_schema_source(d->body)))) ||
        (d->body_required && put(rb, "required", json_object_new_boolean(1)))) {
        json_object_put(rb);
        return NULL;
    }
    return rb;
}

/* One operation: a route record's (d), or a plain route's (d NULL). */
static json_object *operation(builder *b, const sl_decl *d, const char *method,
                              const char *pattern, const char *template)
{
    json_object *op = json_object_new_object(), *v;
    if (op == NULL)
        return NULL;
    if (d != NULL && d->ntags > 0) {
        json_object *tags = json_object_new_array();
        if (put(op, "tags", tags))
            goto fail;
        for (size_t i = 0; i < d->ntags; i++)
            if (append(tags, json_object_new_string(d->tags[i])))
                goto fail;
    }
    if (d != NULL && d->summary != NULL && put(op, "summary", json_object_new_string(d->summary)))
        goto fail;
    if (d != NULL && d->description != NULL &&
        put(op, "description", json_object_new_string(d->description)))
        goto fail;
    if (d != NULL && d->operation_id != NULL) {
        v = claim_id(b, d->operation_id, 1);
    } else {
        char *id = default_id(template, method);
        v = id ? claim_id(b, id, 0) : NULL;
        free(id);
    }
    if (put(op, "operationId", v))
        goto fail;
    if (d != NULL && d->deprecated && put(op, "deprecated", json_object_new_boolean(1)))
        goto fail;
    v = d != NULL ? decl_parameters(d) : plain_parameters(pattern);
    if (v == NULL)
        goto fail;
    if (json_object_array_length(v) == 0)
        json_object_put(v);
    else if (put(op, "parameters", v))
        goto fail;
    if (d != NULL && d->body != NULL && method_with_body(method) &&
        put(op, "requestBody", request_body(d)))
        goto fail;
    if (d != NULL)
        v = decl_responses(b, d);
    else
        v = (v = json_object_new_object()) == NULL || put(v, "200",
            response("Successful Response", NULL)) ? (json_object_put(v), NULL) : v;
    if (put(op, "responses", v))
        goto fail;
    return op;
fail:
    json_object_put(op);
    return NULL;
}

/* The path item field of a method, or NULL when OpenAPI has none. */
static const char *method_field(const char *method)
{
    static const char *const fields[] = {
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    };
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(method, methods[i]) == 0)
            return fields[i];
    return NULL;
}

/* One route into paths. */
static int add_route(builder *b, const char *method, const char *pattern,
                     const sl_route_target *t)
{
    const char *field = method_field(method);
    if (field == NULL) {
        /* "*" answers every method, and OpenAPI 3.1 lists none but its
         * eight: like a FastAPI route with include_in_schema=False. */
        sl_debug("OpenAPI: %s %s is not in the document (%s)", method, pattern,
                 strcmp(method, "*") == 0 ? "any method" : "a method OpenAPI 3.1 has no field for");
        return 0;
    }
    char *template = template_of(pattern), *shape = template ? shape_of(template) : NULL;
    int rc = -ENOMEM;
    json_object *item, *owner;
    if (shape == NULL)
        goto done;
    if (json_object_object_get_ex(b->shapes, shape, &owner)) {
        if (strcmp(json_object_get_string(owner), template) != 0) {
            /* "/u/{y}" after "/u/{x}": the same path to OpenAPI, whose
             * parameters would have two names. */
            sl_log(b->opts->warn_level, "OpenAPI: %s %s is left out: %s has its place",
                   method, pattern, json_object_get_string(owner));
            rc = 0;
            goto done;
        }
    } else if (put(b->shapes, shape, json_object_new_string(template))) {
        goto done;
    }
    if (!json_object_object_get_ex(b->paths, template, &item)) {
        if (put(b->paths, template, item = json_object_new_object()))
            goto done;
    }
    if (has_key(item, field)) {
        /* "/u/{x:int}" and "/u/{x}" are one OpenAPI path: the first one
         * registered speaks for both. */
        sl_log(b->opts->warn_level, "OpenAPI: %s %s is left out: %s %s has its place",
               method, pattern, method, template);
        rc = 0;
        goto done;
    }
    rc = put(item, field, operation(b, t->decl, method, pattern, template));
done:
    free(shape);
    free(template);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* components/schemas: the named schemas and the 422's, sorted by name as
 * FastAPI sorts them; NULL with *empty when there are none. */
static json_object *schemas(builder *b, int *empty)
{
    json_object *named = b->app->schemas ? sl_schema_set_components(b->app->schemas) : NULL;
    size_t nb = sizeof builtins / sizeof *builtins;
    size_t n = named ? (size_t)json_object_object_length(named) : 0;
    const char **names = calloc(n + nb + 1, sizeof *names);
    json_object *out = NULL, **values = calloc(n + nb + 1, sizeof *values);
    size_t k = 0;

    *empty = 0;
    if (names == NULL || values == NULL)
        goto done;
    if (named != NULL) {
        json_object_object_foreach(named, name, src) {
            names[k] = name;
            values[k++] = src;
        }
    }
    for (size_t i = 0; i < nb; i++) {
        int need = builtins[i].problem < 0 ? (b->fastapi_422 || b->problem_422)
                   : builtins[i].problem ? b->problem_422 : b->fastapi_422;
        if (!need)
            continue;
        if (named != NULL && has_key(named, builtins[i].name)) {
            sl_log(b->opts->warn_level, "OpenAPI: the app's schema %s stands where "
                   "the 422 responses expect FastAPI's", builtins[i].name);
            continue;
        }
        names[k] = builtins[i].name;
        values[k++] = NULL;     /* parsed below */
    }
    if (k == 0) {
        *empty = 1;
        goto done;
    }
    /* Sort (name, value) pairs by name: sort the names, then find values. */
    const char **sorted = malloc(k * sizeof *sorted);
    if (sorted == NULL)
        goto done;
    memcpy(sorted, names, k * sizeof *sorted);
    qsort(sorted, k, sizeof *sorted, cmp_str);
    if ((out = json_object_new_object()) == NULL) {
        free(sorted);
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        size_t j = 0;
        while (names[j] != sorted[i])
            j++;
        json_object *v = NULL;
        if (values[j] != NULL) {
            v = copy(values[j]);
        } else {
            for (size_t x = 0; x < nb; x++)
                if (strcmp(builtins[x].name, names[j]) == 0)
                    v = json_tokener_parse(builtins[x].json);
        }
        if (put(out, sorted[i], v)) {
            json_object_put(out);
            out = NULL;
            break;
        }
    }
    free(sorted);
done:
    free(names);
    free(values);
    return out;
}

const char *sl_openapi_title(const sl_app *app)
{
    if (app->info_title != NULL)
        return app->info_title;
    return app->name != NULL && app->name[0] != '\0' ? app->name : "sluice app";
}

static json_object *info(const sl_app *app)
{
    json_object *i = json_object_new_object();
    const char *desc = app->info_description;
    if (i == NULL || put(i, "title", json_object_new_string(sl_openapi_title(app))) ||
        (desc != NULL && *desc != '\0' && put(i, "description", json_object_new_string(desc))) ||
        put(i, "version", json_object_new_string(app->info_version ? app->info_version
                                                                   : "0.1.0"))) {
        json_object_put(i);
        return NULL;
    }
    return i;
}

/* [{"url": root_path}] without its trailing slashes (FastAPI's rstrip),
 * or *none when that leaves nothing. */
static json_object *servers(const char *root_path, int *none)
{
    size_t n = root_path ? strlen(root_path) : 0;
    while (n > 0 && root_path[n - 1] == '/')
        n--;
    *none = n == 0;
    if (n == 0)
        return NULL;
    json_object *a = json_object_new_array(), *s = json_object_new_object();
    if (a == NULL || s == NULL || put(s, "url", json_object_new_string_len(root_path, (int)n))) {
        json_object_put(a);
        json_object_put(s);
        return NULL;
    }
    if (append(a, s)) {
        json_object_put(a);
        return NULL;
    }
    return a;
}

int sl_openapi_build(const sl_app *app, const sl_openapi_opts *opts, json_object **out)
{
    builder b = { .app = app, .opts = opts };
    json_object *doc = json_object_new_object(), *v;
    const char *method, *pattern;
    int rc = -ENOMEM, none;

    *out = NULL;
    b.used = json_object_new_object();
    b.declared = json_object_new_object();
    b.paths = json_object_new_object();
    b.shapes = json_object_new_object();
    if (doc == NULL || b.used == NULL || b.declared == NULL || b.paths == NULL ||
        b.shapes == NULL)
        goto done;
    /* Declared ids first: a default id never takes one a later route declares. */
    for (size_t i = 0; sl_router_route_at(app->router, i, &method, &pattern) == 0; i++) {
        const sl_route_target *t = sl_router_target_at(app->router, i);
        if (t->decl != NULL && t->decl->operation_id != NULL && method_field(method) &&
            json_object_object_add(b.declared, t->decl->operation_id, NULL))
            goto done;
    }
    for (size_t i = 0; sl_router_route_at(app->router, i, &method, &pattern) == 0; i++)
        if ((rc = add_route(&b, method, pattern, sl_router_target_at(app->router, i))) < 0)
            goto done;
    rc = -ENOMEM;
    if (put(doc, "openapi", json_object_new_string("3.1.0")) || put(doc, "info", info(app)))
        goto done;
    v = servers(opts->root_path, &none);
    if (!none && put(doc, "servers", v))
        goto done;
    if (put(doc, "paths", b.paths)) {
        b.paths = NULL;
        goto done;
    }
    b.paths = NULL;
    v = schemas(&b, &none);
    if (!none) {
        json_object *components = json_object_new_object();
        if (put(doc, "components", components) || put(components, "schemas", v))
            goto done;
    }
    *out = doc;
    doc = NULL;
    rc = 0;
done:
    json_object_put(doc);
    json_object_put(b.paths);
    json_object_put(b.used);
    json_object_put(b.declared);
    json_object_put(b.shapes);
    return rc;
}
