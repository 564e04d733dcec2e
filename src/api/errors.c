/*
 * errors.c: sluice's own error answers, in the app's format, and the app's
 * error handler (see errors.h).
 *
 * FastAPI's shapes: HTTPException answers {"detail": "Not Found"} (the
 * detail given, else the status text), RequestValidationError answers
 * {"detail": [items]}, both application/json.  The problem+json shape is
 * sl_resp_problem()'s, with the 422's items under "errors".  Every answer
 * is first made by sl_resp_problem(), which resets what describes the body
 * and keeps the other headers; the FastAPI body then replaces the
 * document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "api/errors.h"
#include "util/escape.h"
#include "util/log.h"

/*
 * Unless the app chooses, the answers to bad input on a declared route
 * (its 422 listing what failed, and the 400 and 415 of its body) are
 * FastAPI's, which is what a declared route promises, and every other
 * error keeps the problem+json body sluice has always sent (404, 405, 413,
 * ...: clients and tests of existing apps read it).  An app that sets a
 * format gets it for every error.
 */
int sl_errors_format(const sl_app *app)
{
    if (app == NULL)
        return SL_ERRORS_PROBLEM;
    if (app->error_format_set)
        return app->error_format;
    return SL_ERRORS_PROBLEM;
}

/* The format of this answer: see sl_errors_format(). */
static int answer_format(const sl_req *req, int status, const json_object *errors)
{
    const sl_route_target *t = req->match.target ? req->match.target : req->match.bad_target;
    int input = errors != NULL ||
                (t != NULL && t->decl != NULL && (status == 400 || status == 415 || status == 422));
    if (input && (req->app == NULL || !req->app->error_format_set))
        return SL_ERRORS_FASTAPI;
    return sl_errors_format(req->app);
}

void sl_app_set_error_format(sl_app *app, int format)
{
    if (format != SL_ERRORS_FASTAPI && format != SL_ERRORS_PROBLEM) {
        sl_error("sl_app_set_error_format(%d): not SL_ERRORS_FASTAPI nor "
                 "SL_ERRORS_PROBLEM; the format is unchanged", format);
        return;
    }
    app->error_format = format;
    app->error_format_set = 1;
}

void sl_on_error(sl_app *app, sl_error_handler handler)
{
    app->on_error = handler;
}

/* The body of the answer, replacing what sl_resp_problem() wrote. */
static int write_body(sl_req *req, int format, int status, const char *detail,
                      json_object *errors)
{
    json_object *doc = json_object_new_object();
    if (doc == NULL)
        return -ENOMEM;
    if (format == SL_ERRORS_FASTAPI) {
        json_object *d = errors != NULL ? json_object_get(errors)
                         : json_object_new_string(detail ? detail : sl_status_text(status));
        json_object_object_add(doc, "detail", d);
        if (sl_resp_header(req, "Content-Type", "application/json") < 0) {
            json_object_put(doc);
            return -ENOMEM;
        }
    } else {
        char count[64];
        size_t n = json_object_array_length(errors);
        snprintf(count, sizeof count, "%zu error%s in the request's input", n,
                 n == 1 ? "" : "s");
        json_object_object_add(doc, "type", json_object_new_string("about:blank"));
        json_object_object_add(doc, "title", json_object_new_string(sl_status_text(status)));
        json_object_object_add(doc, "status", json_object_new_int(status));
        json_object_object_add(doc, "detail", json_object_new_string(detail ? detail : count));
        json_object_object_add(doc, "errors", json_object_get(errors));
    }
    req->out.len = 0;
    return sl_resp_json(req, doc);
}

/* The request, for a log line: "GET /items/{id:int}" once routed, else
 * its method and path (escaped, as every peer's byte in a log line). */
static const char *who(const sl_req *req, char *buf, size_t size)
{
    if (req->what[0] != '\0')
        return req->what;
    size_t n = sl_escape_cut(buf, size - 1, sl_req_method(req));
    buf[n++] = ' ';
    sl_escape_cut(buf + n, size - n, sl_req_path(req));
    return buf;
}

/* What the error handler may change, kept to put sluice's answer back. */
typedef struct snapshot {
    sl_buf headers;
    int has_ctype, has_clen;
} snapshot;

static void run_handler(sl_req *req, int status, json_object *errors)
{
    sl_error_handler h = req->app->on_error;
    snapshot s = { .has_ctype = req->has_ctype, .has_clen = req->has_clen };
    sl_buf body = req->out;

    sl_buf_init(&s.headers);
    if (sl_buf_append(&s.headers, req->headers.data, req->headers.len) < 0) {
        sl_error("error handler for %d not run: out of memory", status);
        return;
    }
    /* The handler writes into an empty body: what it writes replaces ours. */
    sl_buf_init(&req->out);
    int rc = h(req, status, errors);
    const char *why = NULL;
    if (rc != 0)
        why = "it returned non-zero";
    else if (req->resp_error != NULL)
        why = req->resp_error;
    else if (req->status != status)
        why = "it changed the status";
    char w[128];
    if (why != NULL && req->head_sent) {
        sl_error("error handler for %d (%s): %s, after flushing", status, who(req, w, sizeof w), why);
    } else if (why != NULL) {
        sl_error("error handler for %d (%s): %s; sluice's own answer is sent",
                 status, who(req, w, sizeof w), why);
        sl_buf_free(&req->headers);
        req->headers = s.headers;
        req->has_ctype = s.has_ctype;
        req->has_clen = s.has_clen;
        req->status = status;
        req->resp_error = NULL;
        sl_buf_free(&req->out);
        req->out = body;
        return;
    }
    sl_buf_free(&s.headers);
    if (req->out.len == 0) {
        sl_buf_free(&req->out);
        req->out = body;
    } else {
        sl_buf_free(&body);
    }
}

void sl_error_answer(sl_req *req, int status, const char *detail, json_object *errors)
{
    int format = answer_format(req, status, errors);
    sl_resp_problem(req, status, detail);
    if ((format == SL_ERRORS_FASTAPI || errors != NULL) &&
        write_body(req, format, status, detail, errors) < 0) {
        /* out of memory: the problem document stays, or nothing */
        sl_resp_problem(req, status, detail);
    }
    if (req->app != NULL && req->app->on_error != NULL)
        run_handler(req, status, errors);
}

int sl_error_encode_detached(sl_buf *out, const sl_req *req, int status,
                             const char *detail)
{
    if (req->app == NULL || (sl_errors_format(req->app) == SL_ERRORS_PROBLEM &&
                             req->app->on_error == NULL))
        return sl_resp_encode_problem(out, req->proto, req->id, status, detail,
                                      req->request_id);
    sl_req *c = malloc(sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    sl_req_init(c);
    c->proto = req->proto;
    c->id = req->id;
    c->app = req->app;
    c->state = SL_REQ_RUNNING;
    memcpy(c->request_id, req->request_id, sizeof c->request_id);
    memcpy(c->what, req->what, sizeof c->what);
    memcpy(c->known, req->known, sizeof c->known);
    memcpy(c->known_at, req->known_at, sizeof c->known_at);
    c->match = req->match;
    /* Borrowed, read only: the handler's thread only reads them too. */
    c->pstore = req->pstore;
    c->params = req->params;
    c->nparams = req->nparams;
    c->body = req->body;
    c->content_length = req->content_length;
    c->path = req->path;
    c->path_enc = req->path_enc;
    c->path_nenc = req->path_nenc;
    sl_error_answer(c, status, detail, NULL);
    int rc = sl_resp_encode(c, out, 1);
    sl_buf_init(&c->pstore);
    sl_buf_init(&c->body);
    c->params = NULL;
    c->nparams = 0;
    c->path = NULL;
    sl_req_destroy(c);
    free(c);
    return rc;
}
