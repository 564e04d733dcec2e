/*
 * args.c: validating a declared route's inputs, and the sl_arg_* getters
 * (see args.h).
 *
 * FastAPI's request handling (fastapi/routing.py get_request_handler,
 * fastapi/dependencies/utils.py request_params_to_args and
 * request_body_to_args) is followed step by step: the body is read first
 * (not JSON: json_invalid alone), then each parameter is looked up as
 * Starlette exposes it (query: last value, or every value for a list;
 * header: first; cookie: last) and validated, "missing" or the default when
 * absent, and every error of every input is collected, path, query,
 * header, cookie, then body.
 *
 * The values live in req->args (one json-c value per declared parameter,
 * NULL when absent) and the body in req->json, both freed with the
 * request.  A getter used wrongly is the handler's bug: req->resp_error
 * makes the response a 500, whose log line (sl_worker_complete()) carries
 * the getter's complaint, naming the route and the parameter.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "api/args.h"
#include "api/declare.h"
#include "api/errors.h"
#include "api/schema.h"
#include "api/starlette.h"
#include "util/log.h"

/* Pydantic's error for an {x:int} segment the router refused but the lax
 * conversion would take ("+5", " 5", "5.0"): sluice routes by the strict
 * form, so these are not integers here (a documented difference). */
#define INT_PARSING_MSG "Input should be a valid integer, unable to parse string as an integer"

/* What one run reads from the request, made once. */
typedef struct inputs {
    sl_kvlist query, cookies;
    int have_query, have_cookies;
    sl_buf text;                /* a value converted to UTF-8 */
} inputs;

static void inputs_free(inputs *in)
{
    if (in->have_query)
        sl_kvlist_free(&in->query);
    if (in->have_cookies)
        sl_kvlist_free(&in->cookies);
    sl_buf_free(&in->text);
}

/* bytes into in->text, converted by `conv` (factor: its size bound). */
static int convert(inputs *in, const char *s, size_t len, int latin1)
{
    size_t factor = latin1 ? 2 : 3;
    in->text.len = 0;
    if (len > ((size_t)-1) / factor - 1 || sl_buf_reserve(&in->text, len * factor + 1) < 0)
        return -ENOMEM;
    in->text.len = latin1 ? sl_latin1_utf8(in->text.data, s, len)
                          : sl_utf8_replace(in->text.data, s, len);
    in->text.data[in->text.len] = '\0';
    return 0;
}

/* The first CGI parameter named `cgi`, as Starlette's Headers.get() takes
 * the first header. */
static const char *first_param(const sl_req *req, const char *cgi)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->pstore.data + req->params[i].name, cgi) == 0)
            return req->pstore.data + req->params[i].value;
    return NULL;
}

/* An int_parsing item for a path parameter, appended to errors. */
static int int_parsing(json_object *errors, const char *name, const char *text,
                       size_t len)
{
    json_object *item = json_object_new_object(), *loc = json_object_new_array();
    if (item == NULL || loc == NULL || json_object_array_add(errors, item)) {
        json_object_put(item);
        json_object_put(loc);
        return -ENOMEM;
    }
    json_object_object_add(item, "type", json_object_new_string("int_parsing"));
    json_object_array_add(loc, json_object_new_string("path"));
    json_object_array_add(loc, json_object_new_string(name));
    json_object_object_add(item, "loc", loc);
    json_object_object_add(item, "msg", json_object_new_string(INT_PARSING_MSG));
    json_object_object_add(item, "input", json_object_new_string_len(text, (int)len));
    return 0;
}

/* One path parameter's text, validated; the router's refused one must be
 * an error. */
static int path_param(sl_req *req, const sl_decl_param *p, inputs *in,
                      json_object **out, json_object *errors)
{
    const sl_path_param *pp = &req->match.params[p->path_index];
    if (convert(in, pp->value, pp->len, 0) < 0)
        return -ENOMEM;
    const char *v = in->text.data;
    size_t vlen = in->text.len;
    size_t before = json_object_array_length(errors);
    int r = sl_schema_validate_param(p->schema, "path", p->name, &v, &vlen, 1, 1,
                                     out, errors);
    if (r == 0 && req->match.bad_param != NULL &&
        strcmp(req->match.bad_param, p->name) == 0 &&
        json_object_array_length(errors) == before) {
        json_object_put(*out);
        *out = NULL;
        return int_parsing(errors, p->name, v, vlen) < 0 ? -ENOMEM : SL_SCHEMA_INVALID;
    }
    return r;
}

/* Every value of query parameter p, as parse_qsl gave them. */
static int query_param(const sl_decl_param *p, inputs *in, json_object **out,
                       json_object *errors)
{
    const char *small[8], **vals = small;
    size_t smalllen[8], *lens = smalllen, n = 0, cap = 8;
    size_t nlen = strlen(p->name);
    int r;

    for (size_t i = 0; i < in->query.n; i++) {
        const sl_kv *kv = &in->query.kv[i];
        if (kv->nlen != nlen || memcmp(kv->name, p->name, nlen) != 0)
            continue;
        if (n == cap) {
            /* a parameter repeated past 8 times: room for all the pairs */
            cap = in->query.n;
            const char **v2 = malloc(cap * sizeof *v2);
            size_t *l2 = malloc(cap * sizeof *l2);
            if (v2 == NULL || l2 == NULL) {
                free(v2);
                free(l2);
                r = -ENOMEM;
                goto done;
            }
            memcpy(v2, vals, n * sizeof *v2);
            memcpy(l2, lens, n * sizeof *l2);
            vals = v2;
            lens = l2;
        }
        vals[n] = kv->value;
        lens[n++] = kv->vlen;
    }
    r = sl_schema_validate_param(p->schema, "query", p->name, vals, lens, n,
                                 p->required, out, errors);
done:
    if (vals != small) {
        free(vals);
        free(lens);
    }
    return r;
}

static int header_param(const sl_req *req, const sl_decl_param *p, inputs *in,
                        json_object **out, json_object *errors)
{
    const char *raw = first_param(req, p->cgi);
    if (raw == NULL)
        return sl_schema_validate_param(p->schema, "header", p->name, NULL, NULL, 0,
                                        p->required, out, errors);
    if (convert(in, raw, strlen(raw), 1) < 0)
        return -ENOMEM;
    const char *v = in->text.data;
    size_t vlen = in->text.len;
    return sl_schema_validate_param(p->schema, "header", p->name, &v, &vlen, 1,
                                    p->required, out, errors);
}

static int cookie_param(const sl_decl_param *p, inputs *in, json_object **out,
                        json_object *errors)
{
    size_t nlen = strlen(p->name);
    for (size_t i = 0; i < in->cookies.n; i++) {
        const sl_kv *kv = &in->cookies.kv[i];
        if (kv->nlen == nlen && memcmp(kv->name, p->name, nlen) == 0)
            return sl_schema_validate_param(p->schema, "cookie", p->name, &kv->value,
                                            &kv->vlen, 1, p->required, out, errors);
    }
    return sl_schema_validate_param(p->schema, "cookie", p->name, NULL, NULL, 0,
                                    p->required, out, errors);
}

/* The query and cookies, parsed when the route declares any. */
static int read_inputs(const sl_req *req, const sl_decl *d, int full, inputs *in)
{
    if (full && d->has_query) {
        const char *qs = sl_req_query_string(req);
        if (sl_query_pairs(qs, strlen(qs), &in->query) < 0)
            return -ENOMEM;
        in->have_query = 1;
    }
    if (full && d->has_cookie) {
        /* Starlette reads the header as Latin-1, then parses it. */
        const char *c = first_param(req, "HTTP_COOKIE");
        if (c == NULL)
            c = "";
        if (convert(in, c, strlen(c), 1) < 0 ||
            sl_cookie_pairs(in->text.data, in->text.len, &in->cookies) < 0)
            return -ENOMEM;
        in->have_cookies = 1;
    }
    return 0;
}

/*
 * The body before any parameter, as FastAPI reads it: a non-empty body
 * with a Content-Type that is not JSON is refused (415), text that is not
 * JSON is its only error (422), bytes Python could not read are a 400.
 * Returns 0 with *parsed (NULL: absent or null), or 1 when answered.
 */
static int read_body(sl_req *req, json_object **parsed)
{
    char detail[200];
    *parsed = NULL;
    if (req->body.len == 0)
        return 0;
    const char *ct = sl_req_param(req, "CONTENT_TYPE");
    if (sl_content_type_json(ct) == 0) {
        snprintf(detail, sizeof detail, "the body must be JSON (application/json), "
                 "not %.100s", ct);
        sl_error_answer(req, 415, detail, NULL);
        return 1;
    }
    json_object *errors = json_object_new_array();
    int r = errors ? sl_schema_parse_json(req->body.data, req->body.len, parsed, errors)
                   : -ENOMEM;
    if (r == SL_SCHEMA_INVALID)
        sl_error_answer(req, 422, NULL, errors);
    else if (r == SL_SCHEMA_UNREADABLE)
        sl_error_answer(req, 400, "There was an error parsing the body", NULL);
    else if (r < 0)
        sl_error_answer(req, 500, NULL, NULL);
    json_object_put(errors);
    return r != 0;
}

int sl_args_run(sl_req *req)
{
    int bad_path = req->match.target == NULL;
    const sl_decl *d = bad_path ? req->match.bad_target->decl : req->match.target->decl;
    if (!bad_path && d->status != 200)
        req->status = d->status;
    if (d->nparams == 0 && d->body == NULL)
        return 0;

    /* A refused {x:int} on another method than the route's: only the path
     * is checked (the rest is another operation's). */
    int full = !bad_path || sl_decl_method_matches(d, sl_req_method(req));
    json_object *parsed = NULL, *errors = NULL, *body = NULL;
    if (full && d->body != NULL && read_body(req, &parsed))
        return 1;

    inputs in;
    memset(&in, 0, sizeof in);
    sl_buf_init(&in.text);
    sl_args *args = calloc(1, sizeof *args + d->nparams * sizeof args->v[0]);
    int r = -ENOMEM;
    if (args == NULL || (errors = json_object_new_array()) == NULL ||
        read_inputs(req, d, full, &in) < 0)
        goto fail;
    args->n = d->nparams;
    for (size_t i = 0; i < d->nparams; i++) {
        const sl_decl_param *p = &d->params[i];
        json_object **out = &args->v[i];
        switch (p->in) {
        case SL_IN_PATH:
            r = path_param(req, p, &in, out, errors);
            break;
        case SL_IN_QUERY:
            r = full ? query_param(p, &in, out, errors) : 0;
            break;
        case SL_IN_HEADER:
            r = full ? header_param(req, p, &in, out, errors) : 0;
            break;
        default:
            r = full ? cookie_param(p, &in, out, errors) : 0;
        }
        if (r < 0)
            goto fail;
    }
    if (full && d->body != NULL) {
        r = parsed != NULL ? sl_schema_validate(d->body, parsed, d->body_loc, &body, errors)
                           : sl_schema_validate_body(d->body, "", 0, d->body_required,
                                                     &body, errors);
        if (r < 0)
            goto fail;
    }
    inputs_free(&in);
    json_object_put(parsed);
    if (json_object_array_length(errors) > 0) {
        sl_error_answer(req, 422, NULL, errors);
        json_object_put(errors);
        json_object_put(body);
        for (size_t i = 0; i < args->n; i++)
            json_object_put(args->v[i]);
        free(args);
        return 1;
    }
    json_object_put(errors);
    req->args = args;
    if (d->body != NULL) {
        req->json = body;
        req->json_tried = 1;
    }
    return 0;
fail:
    inputs_free(&in);
    json_object_put(parsed);
    json_object_put(errors);
    json_object_put(body);
    if (args != NULL)
        for (size_t i = 0; i < args->n; i++)
            json_object_put(args->v[i]);
    free(args);
    sl_error("validating %s: out of memory: 500", req->what);
    sl_error_answer(req, 500, NULL, NULL);
    return 1;
}

void sl_args_bad_path(sl_req *req)
{
    const sl_route_target *t = req->match.bad_target;
    if (t != NULL && t->decl != NULL) {
        /* The refused parameter is always one of the errors. */
        if (sl_args_run(req) == 0)
            sl_error_answer(req, 422, NULL, NULL);
        return;
    }
    const char *name = req->match.bad_param ? req->match.bad_param : "?";
    if (sl_errors_format(req->app) == SL_ERRORS_PROBLEM) {
        char detail[160];
        snprintf(detail, sizeof detail, "path parameter '%s': %s", name,
                 req->match.bad_reason ? req->match.bad_reason : "invalid");
        sl_error_answer(req, 422, detail, NULL);
        return;
    }
    const char *text = "";
    size_t len = 0;
    for (int i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.params[i].name, name) == 0) {
            text = req->match.params[i].value;
            len = req->match.params[i].len;
        }
    json_object *errors = json_object_new_array();
    sl_buf u;
    sl_buf_init(&u);
    if (errors == NULL || sl_buf_reserve(&u, 3 * len + 1) < 0 ||
        int_parsing(errors, name, u.data, sl_utf8_replace(u.data, text, len)) < 0)
        sl_error_answer(req, 500, NULL, NULL);
    else
        sl_error_answer(req, 422, NULL, errors);
    sl_buf_free(&u);
    json_object_put(errors);
}

/* ---- the getters -------------------------------------------------------- */

/* The handler read an argument wrongly: the response ends as a 500, and
 * the log line says why (sl_worker_complete()). */
static void misuse(sl_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void misuse(sl_req *req, const char *fmt, ...)
{
    char msg[sizeof req->args->error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (req->args == NULL)
        req->args = calloc(1, sizeof *req->args);
    if (req->args != NULL && req->args->error[0] == '\0')
        memcpy(req->args->error, msg, sizeof msg);
    if (req->resp_error == NULL)
        req->resp_error = req->args != NULL ? req->args->error
                                            : "a declared argument was read wrongly";
    /* Already streaming: no 500 can follow, so say it now. */
    if (req->head_sent)
        sl_error("handler for %s: %s", req->what, msg);
}

static const char *const type_names[] = {"SL_T_STR", "SL_T_INT", "SL_T_NUM", "SL_T_BOOL"};

/* A path parameter of a route without declarations: its type from the
 * pattern ({x:int} SL_T_INT, else SL_T_STR); -1 when there is none. */
static int plain_path(const sl_req *req, const char *name, int *index)
{
    for (int i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.params[i].name, name) == 0) {
            *index = i;
            return req->match.params[i].type == SL_PARAM_INT ? SL_T_INT : SL_T_STR;
        }
    return -1;
}

/*
 * What getter `fn` wants of `name`: type `type` (-1: any), SL_MULTI or not
 * (`multi`: 1, 0; -1 either).  Returns the parameter's value in *v (NULL:
 * absent) and 1, or 0 after a complaint.  A route without declarations
 * has its path parameters: *pi then gets the index in req->match.params
 * (else -1).
 */
static int lookup(sl_req *req, const char *fn, const char *name, int type, int multi,
                  json_object **v, int *pi)
{
    const sl_route_target *t = req->match.target;
    const sl_decl *d = t != NULL ? t->decl : NULL;
    *v = NULL;
    *pi = -1;
    if (name == NULL) {
        misuse(req, "%s(NULL) on %s", fn, req->what);
        return 0;
    }
    if (d == NULL) {
        int ty = plain_path(req, name, pi);
        if (ty < 0 || (type >= 0 && ty != type) || multi == 1) {
            misuse(req, "%s(\"%.40s\") on %s: %s", fn, name, req->what,
                   ty < 0 ? "the route declares no such parameter"
                          : ty == SL_T_INT ? "{x:int} is SL_T_INT" : "{x} is SL_T_STR");
            return 0;
        }
        return 1;
    }
    const sl_decl_param *p = sl_decl_find(d, name);
    if (p == NULL) {
        misuse(req, "%s(\"%.40s\") on %s: the route declares no such parameter", fn,
               name, req->what);
        return 0;
    }
    int is_multi = (p->flags & SL_MULTI) != 0;
    if ((type >= 0 && (int)p->type != type) || (multi >= 0 && is_multi != multi)) {
        misuse(req, "%s(\"%.40s\") on %s: it is declared %s%s", fn, name, req->what,
               type_names[p->type], is_multi ? " | SL_MULTI" : "");
        return 0;
    }
    size_t i = (size_t)(p - d->params);
    if (req->args != NULL && i < req->args->n)
        *v = req->args->v[i];
    return 1;
}

/* Item i of an SL_MULTI value, or NULL after a complaint. */
static json_object *item(sl_req *req, const char *fn, const char *name, json_object *v,
                         size_t i)
{
    size_t n = v != NULL ? json_object_array_length(v) : 0;
    if (i >= n) {
        misuse(req, "%s(\"%.40s\", %zu) on %s: it has %zu value%s", fn, name, i,
               req->what, n, n == 1 ? "" : "s");
        return NULL;
    }
    return json_object_array_get_idx(v, i);
}

const char *sl_arg_str(sl_req *req, const char *name)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_str", name, SL_T_STR, 0, &v, &pi))
        return NULL;
    if (pi >= 0)
        return sl_req_path_param(req, name);
    return v != NULL ? json_object_get_string(v) : NULL;
}

int64_t sl_arg_int(sl_req *req, const char *name)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_int", name, SL_T_INT, 0, &v, &pi))
        return 0;
    if (pi >= 0)
        return req->match.params[pi].ival;
    return v != NULL ? json_object_get_int64(v) : 0;
}

double sl_arg_num(sl_req *req, const char *name)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_num", name, SL_T_NUM, 0, &v, &pi))
        return 0.0;
    return v != NULL ? json_object_get_double(v) : 0.0;
}

bool sl_arg_bool(sl_req *req, const char *name)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_bool", name, SL_T_BOOL, 0, &v, &pi))
        return false;
    return v != NULL && json_object_get_boolean(v);
}

bool sl_arg_has(sl_req *req, const char *name)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_has", name, -1, -1, &v, &pi))
        return false;
    return pi >= 0 || v != NULL;
}

size_t sl_arg_count(sl_req *req, const char *name)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_count", name, -1, 1, &v, &pi))
        return 0;
    return v != NULL ? json_object_array_length(v) : 0;
}

const char *sl_arg_str_at(sl_req *req, const char *name, size_t i)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_str_at", name, SL_T_STR, 1, &v, &pi) ||
        (v = item(req, "sl_arg_str_at", name, v, i)) == NULL)
        return NULL;
    return json_object_get_string(v);
}

int64_t sl_arg_int_at(sl_req *req, const char *name, size_t i)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_int_at", name, SL_T_INT, 1, &v, &pi) ||
        (v = item(req, "sl_arg_int_at", name, v, i)) == NULL)
        return 0;
    return json_object_get_int64(v);
}

double sl_arg_num_at(sl_req *req, const char *name, size_t i)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_num_at", name, SL_T_NUM, 1, &v, &pi) ||
        (v = item(req, "sl_arg_num_at", name, v, i)) == NULL)
        return 0.0;
    return json_object_get_double(v);
}

bool sl_arg_bool_at(sl_req *req, const char *name, size_t i)
{
    json_object *v;
    int pi;
    if (!lookup(req, "sl_arg_bool_at", name, SL_T_BOOL, 1, &v, &pi) ||
        (v = item(req, "sl_arg_bool_at", name, v, i)) == NULL)
        return false;
    return json_object_get_boolean(v);
}

void *sl_req_route_user(const sl_req *req)
{
    const sl_route_target *t = req->match.target;
    return t != NULL && t->decl != NULL ? t->decl->user : NULL;
}
