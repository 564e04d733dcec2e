/*
 * testclient.c: the in-process test client (include/sluice_test.h).
 *
 * A client is a worker without listeners, connections, scoreboard or
 * master: an sl_worker on a loop of its own, whose requests come from
 * sl_test_request() instead of a connection.  Each goes through the
 * worker's own dispatch (sl_worker_dispatch: routing, validation, error
 * answers, the handler on the loop or the pool) and ends in its
 * sl_worker_finish(), which, finding no connection, hands the response to
 * the request's host's sink.  So whatever the worker does to a request,
 * the client's requests get too, with no branch of their own on a
 * worker's path.
 *
 * The client's host differs from a worker's in two functions: `flush` and
 * `sink` collect the bytes sluice would send a web server over SCGI
 * ("Status: 200 OK", the headers, a blank line, the body; a streamed
 * answer in its flushed pieces), which the client then reads back as a
 * web server does.  A request's CGI parameters are made as nginx's
 * fastcgi_params makes them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sluice_test.h>
#include "api/middleware.h"
#include "proto/jsonbody.h"
#include "proto/path.h"
#include "util/log.h"
#include "worker/worker.h"

struct sl_test {
    sl_worker w;            /* its req_host is every request's host */
    sl_config cfg;          /* sluice's defaults: --timeout, --max-body-size */
    uv_timer_t deadline;    /* the request's timeout, and sl_test_free's
                               wait; unreferenced: it keeps nothing alive */
    uint64_t timeout_ms;    /* sl_test_set_timeout(); 0: none */
    int expired;
    /* The request being answered and its bytes so far: pool threads
     * flush into them, so they are guarded.  cur is NULL once it is
     * answered or given up; only the loop thread sets it. */
    uv_mutex_t lock;
    sl_req *cur;
    sl_buf out;
    sl_test_resp *answers;  /* not freed yet: sl_test_free frees them */
};

struct sl_test_resp {
    sl_test *client;        /* in its list of answers */
    sl_test_resp *prev, *next;
    int status;
    sl_buf raw;             /* as sluice sent it: the head cut into strings
                               in place, the body NUL-terminated */
    struct header {
        const char *name, *value;
    } *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    json_object *json;
    int json_tried;
};

/* What nginx's fastcgi_params sends that no request changes. */
#define SERVER_NAME "testserver"
#define SERVER_SOFTWARE "sluice-test/" SLUICE_VERSION
#define REMOTE_ADDR "127.0.0.1"
#define REMOTE_PORT "50000"

static sl_test *req_client(const sl_req *req)
{
    return (sl_test *)(void *)((char *)sl_req_worker(req) - offsetof(sl_test, w));
}

/* ---- the host: the answer's bytes ------------------------------------- */

/* sl_resp_flush(), from the loop or a pool thread: a piece of the current
 * answer; one of an answer given up (504) is dropped, as a worker drops
 * what comes after the connection is gone. */
static int client_flush(sl_req *req, sl_buf *bytes)
{
    sl_test *t = req_client(req);
    int rc = 0;
    uv_mutex_lock(&t->lock);
    if (req == t->cur)
        rc = sl_buf_append(&t->out, bytes->data, bytes->len);
    uv_mutex_unlock(&t->lock);
    sl_buf_free(bytes);
    return rc;
}

/* sl_worker_finish(), on the loop: the rest of the answer, and its end. */
static void client_sink(sl_req *req)
{
    sl_test *t = req_client(req);
    uv_mutex_lock(&t->lock);
    if (req == t->cur) {
        if (sl_resp_encode(req, &t->out, 1) < 0)
            t->out.len = 0;     /* read back as no answer (NULL) */
        t->cur = NULL;
    }
    uv_mutex_unlock(&t->lock);
}

static void on_deadline(uv_timer_t *timer)
{
    sl_test *t = timer->data;
    t->expired = 1;
}

/*
 * The current request is past --timeout, or returned SL_LATER with nothing
 * left on the loop that could end it (a worker would wait for its --timeout
 * to pass; the client need not): answer 504 as a worker does.  Its handler's
 * result, whenever it comes, is discarded.
 */
static void give_up(sl_test *t)
{
    sl_req *req = t->cur;
    uv_mutex_lock(&t->lock);
    /* Nothing of the answer out yet: a worker's whole 504.  Otherwise
     * the answer ends where it is, as it would for the web server. */
    if (t->out.len == 0 &&
        sl_resp_encode_problem(&t->out, SL_PROTO_SCGI, 0, 504,
                               "the request took longer than --timeout",
                               req->request_id) < 0)
        t->out.len = 0;
    t->cur = NULL;
    uv_mutex_unlock(&t->lock);
    if (!t->expired)
        sl_error("the handler of %s answers later, but nothing on the loop is left "
                 "to end it: 504", sl_req_route(req));
    /* Logged, counted and cancelled as in a worker: on_cancel may end it,
     * so req is not touched afterwards. */
    sl_worker_time_out(&t->w, req);
}

/* ---- the answer, read back ------------------------------------------------ */

/* Cut the head of r->raw into the status and header strings.  0, or -1
 * when it is not an answer sluice writes. */
static int parse_head(sl_test_resp *r)
{
    char *data = r->raw.data;
    char *end = memmem(data, r->raw.len, "\r\n\r\n", 4);
    if (end == NULL)
        return -1;
    r->body = end + 4;
    r->body_len = r->raw.len - (size_t)(r->body - data);
    end[2] = '\0';              /* the head: lines ending "\r\n" */
    size_t lines = 0;
    for (char *p = data; (p = strstr(p, "\r\n")) != NULL; p += 2)
        lines++;
    r->headers = calloc(lines, sizeof *r->headers);
    if (r->headers == NULL)
        return -1;
    for (char *line = data; *line != '\0';) {
        char *eol = strstr(line, "\r\n");
        if (eol == NULL)
            return -1;
        *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon == NULL)
            return -1;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (strcasecmp(line, "Status") == 0) {
            if (r->status != 0 || strlen(value) < 3 || strspn(value, "0123456789") < 3)
                return -1;
            r->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        } else {
            r->headers[r->nheaders].name = line;
            r->headers[r->nheaders++].value = value;
        }
        line = eol + 2;
    }
    return r->status != 0 ? 0 : -1;
}

/* The answer made of `bytes` (taken), or NULL. */
static sl_test_resp *read_answer(sl_test *t, sl_buf *bytes)
{
    sl_test_resp *r = calloc(1, sizeof *r);
    if (r == NULL || sl_buf_append(bytes, "", 1) < 0) {
        free(r);
        sl_buf_free(bytes);
        return NULL;
    }
    bytes->len--;               /* the NUL is after the body, not in it */
    r->raw = *bytes;
    sl_buf_init(bytes);
    if (parse_head(r) < 0) {
        sl_error("sl_test_request: the answer is not one sluice writes (out of memory?)");
        sl_test_resp_free(r);
        return NULL;
    }
    r->client = t;
    r->next = t->answers;
    if (t->answers != NULL)
        t->answers->prev = r;
    t->answers = r;
    return r;
}

/* ---- the request, as nginx's fastcgi_params makes it ----------------------- */

static int add(sl_req *req, const char *name, const char *value, size_t vlen)
{
    return sl_req_add_param(req, name, strlen(name), value, vlen);
}

static int adds(sl_req *req, const char *name, const char *value)
{
    return add(req, name, value, strlen(value));
}

/* "Name: value": the name's length, the value and its length (without the
 * whitespace around it, as nginx takes it).  -1 without a ':'. */
static int split_header(const char *h, size_t *nlen, const char **value, size_t *vlen)
{
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h)
        return -1;
    *nlen = (size_t)(colon - h);
    const char *v = colon + 1;
    v += strspn(v, " \t");
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *value = v;
    *vlen = n;
    return 0;
}

static int is_header(const char *h, size_t nlen, const char *name)
{
    return strlen(name) == nlen && strncasecmp(h, name, nlen) == 0;
}

/* The first header named `name`, or NULL. */
static const char *find_header(const char *const *headers, const char *name,
                               size_t *vlen)
{
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        size_t nlen, n;
        const char *v;
        if (split_header(headers[i], &nlen, &v, &n) == 0 &&
            is_header(headers[i], nlen, name)) {
            *vlen = n;
            return v;
        }
    }
    *vlen = 0;
    return NULL;
}

/* nginx's $host: the Host header in lower case, without its port and a
 * trailing dot; the server's name when there is none. */
static int add_host(sl_req *req, const char *const *headers)
{
    size_t vlen = 0;
    const char *v = find_header(headers, "Host", &vlen);
    if (v == NULL || vlen == 0)
        return adds(req, "HTTP_HOST", SERVER_NAME);
    size_t n = vlen;
    if (v[0] == '[') {
        const char *close = memchr(v, ']', vlen);
        n = close != NULL ? (size_t)(close - v) + 1 : vlen;
    } else {
        const char *colon = memchr(v, ':', vlen);
        if (colon != NULL)
            n = (size_t)(colon - v);
    }
    if (n > 1 && v[n - 1] == '.')
        n--;
    char *host = malloc(n + 1);
    if (host == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        host[i] = (v[i] >= 'A' && v[i] <= 'Z') ? (char)(v[i] + 32) : v[i];
    int rc = add(req, "HTTP_HOST", host, n);
    free(host);
    return rc;
}

/* Each header as HTTP_NAME, but those fastcgi_params or the body set
 * (Host, Content-Length) and those nginx ignores: a name of anything but
 * letters, digits and '-'. */
static int add_headers(sl_req *req, const char *const *headers, sl_buf *name)
{
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        const char *h = headers[i], *value;
        size_t nlen, vlen;
        split_header(h, &nlen, &value, &vlen);      /* checked before */
        if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < nlen ||
            is_header(h, nlen, "Host") || is_header(h, nlen, "Content-Length"))
            continue;
        name->len = 0;
        if (sl_buf_append_str(name, "HTTP_") < 0 || sl_buf_reserve(name, nlen + 1) < 0)
            return -ENOMEM;
        for (size_t j = 0; j < nlen; j++)
            name->data[name->len++] = h[j] == '-' ? '_'
                                      : (h[j] >= 'a' && h[j] <= 'z') ? (char)(h[j] - 32) : h[j];
        if (sl_req_add_param(req, name->data, name->len, value, vlen) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* nginx's $uri: the target's path decoded and normalised (path.h); as sent
 * when nginx would have refused it with its own 400 (sluice then refuses
 * it from REQUEST_URI).  Malloc'd, or NULL. */
static char *dollar_uri(const char *target, size_t *ulen)
{
    size_t len = strlen(target);
    size_t nenc = sl_path_max_enc(target, len);
    sl_path p = {.buf = malloc(len + 2), .cap = len + 2, .enc_cap = nenc};
    p.enc = nenc > 0 ? malloc(nenc * sizeof *p.enc) : NULL;
    if (p.buf == NULL || (nenc > 0 && p.enc == NULL)) {
        free(p.buf);
        free(p.enc);
        return NULL;
    }
    int rc = sl_path_normalise(&p, target, len);
    free(p.enc);
    if (rc == 0) {
        *ulen = p.len;
    } else {
        *ulen = strcspn(target, "?#");
        memcpy(p.buf, target, *ulen);
        p.buf[*ulen] = '\0';
    }
    return p.buf;
}

static int make_params(sl_req *req, const char *method, const char *target,
                       const char *const *headers, const void *body, size_t len)
{
    const char *q = strchr(target, '?');
    size_t ctlen = 0, ulen = 0;
    const char *ctype = find_header(headers, "Content-Type", &ctlen);
    char clen[24] = "";
    if (body != NULL)
        snprintf(clen, sizeof clen, "%zu", len);
    char *uri = dollar_uri(target, &ulen);
    sl_buf name;
    sl_buf_init(&name);
    if (uri == NULL)
        return -ENOMEM;
    /* In fastcgi_params' order; each fails only for want of memory. */
    int rc = 0;
    rc |= adds(req, "QUERY_STRING", q != NULL ? q + 1 : "");
    rc |= adds(req, "REQUEST_METHOD", method);
    rc |= add(req, "CONTENT_TYPE", ctype != NULL ? ctype : "", ctlen);
    rc |= adds(req, "CONTENT_LENGTH", clen);
    rc |= add(req, "SCRIPT_NAME", uri, ulen);
    rc |= adds(req, "REQUEST_URI", target);
    rc |= add(req, "DOCUMENT_URI", uri, ulen);
    rc |= adds(req, "DOCUMENT_ROOT", "/");
    rc |= adds(req, "SERVER_PROTOCOL", "HTTP/1.1");
    rc |= adds(req, "REQUEST_SCHEME", "http");
    rc |= adds(req, "GATEWAY_INTERFACE", "CGI/1.1");
    rc |= adds(req, "SERVER_SOFTWARE", SERVER_SOFTWARE);
    rc |= adds(req, "REMOTE_ADDR", REMOTE_ADDR);
    rc |= adds(req, "REMOTE_PORT", REMOTE_PORT);
    rc |= adds(req, "REMOTE_USER", "");
    rc |= adds(req, "SERVER_ADDR", REMOTE_ADDR);
    rc |= adds(req, "SERVER_PORT", "80");
    rc |= adds(req, "SERVER_NAME", SERVER_NAME);
    rc |= adds(req, "REDIRECT_STATUS", "200");
    rc |= add_host(req, headers);
    rc |= add_headers(req, headers, &name);
    if (body != NULL)
        rc |= adds(req, "HTTP_CONTENT_LENGTH", clen);
    sl_buf_free(&name);
    free(uri);
    if (rc == 0)
        rc = sl_req_index_params(req);
    return rc != 0 ? -ENOMEM : 0;
}

/* ---- requests ------------------------------------------------------------ */

static int args_ok(const char *method, const char *target, const char *const *headers,
                   const void *body, size_t len)
{
    if (method == NULL || target == NULL || (body == NULL && len > 0)) {
        sl_error("sl_test_request: %s", method == NULL ? "no method" : target == NULL
                 ? "no target" : "a NULL body with a length");
        return 0;
    }
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        size_t nlen, vlen;
        const char *v;
        if (split_header(headers[i], &nlen, &v, &vlen) < 0) {
            sl_error("sl_test_request: header \"%s\" is not \"Name: value\"", headers[i]);
            return 0;
        }
    }
    return 1;
}

/* Turn the loop until the current request is answered or given up. */
static void run(sl_test *t)
{
    while (t->cur != NULL) {
        int alive = uv_run(&t->w.loop, UV_RUN_ONCE);
        if (t->cur != NULL && (t->expired || !alive))
            give_up(t);
    }
}

sl_test_resp *sl_test_request(sl_test *t, const char *method, const char *target,
                              const char *const *headers, const void *body, size_t len)
{
    if (t == NULL || !args_ok(method, target, headers, body, len))
        return NULL;
    sl_worker *w = &t->w;
    sl_req *req = sl_conns_host_req_new(&w->conns, NULL, SL_PROTO_SCGI, 0);
    if (req == NULL || make_params(req, method, target, headers, body, len) < 0) {
        sl_error("sl_test_request: out of memory");
        sl_worker_req_free(w, req);
        return NULL;
    }
    /* Its input is in, as the connection's would be: checked as it checks
     * it (conn_input.c), then dispatched. */
    req->state = SL_REQ_BODY;
    req->content_length = len;
    int too_large = len > (size_t)t->cfg.max_body_size;
    if (!too_large && body != NULL && sl_buf_append(&req->body, body, len) < 0) {
        sl_error("sl_test_request: out of memory");
        sl_worker_req_free(w, req);
        return NULL;
    }
    w->loop_thread = uv_thread_self();      /* the thread turning the loop */
    /* The loop stood still since the last request: a handler's timers
     * count from now, as in a worker woken by its request. */
    uv_update_time(&w->loop);
    uv_mutex_lock(&t->lock);
    t->cur = req;
    t->out.len = 0;
    uv_mutex_unlock(&t->lock);
    t->expired = 0;
    if (t->timeout_ms > 0)
        uv_timer_start(&t->deadline, on_deadline, t->timeout_ms, 0);
    if (too_large)
        sl_conns_host_reject(&w->conns, req, 413, "the request body exceeds --max-body-size");
    else
        sl_worker_dispatch(w, req);
    run(t);
    uv_timer_stop(&t->deadline);
    uv_mutex_lock(&t->lock);
    sl_buf bytes = t->out;
    sl_buf_init(&t->out);
    uv_mutex_unlock(&t->lock);
    return read_answer(t, &bytes);
}

void sl_test_set_timeout(sl_test *t, unsigned ms)
{
    if (t != NULL)
        t->timeout_ms = ms;
}

sl_test_resp *sl_test_get(sl_test *t, const char *target)
{
    return sl_test_request(t, "GET", target, NULL, NULL, 0);
}

sl_test_resp *sl_test_post_json(sl_test *t, const char *target, const char *json)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    if (json == NULL)
        json = "";
    return sl_test_request(t, "POST", target, headers, json, strlen(json));
}

/* ---- the answer -------------------------------------------------------- */

int sl_test_status(const sl_test_resp *r)
{
    return r != NULL ? r->status : 0;
}

const char *sl_test_header(const sl_test_resp *r, const char *name)
{
    for (size_t i = 0; r != NULL && name != NULL && i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

size_t sl_test_header_count(const sl_test_resp *r)
{
    return r != NULL ? r->nheaders : 0;
}

int sl_test_header_at(const sl_test_resp *r, size_t i, const char **name,
                      const char **value)
{
    if (r == NULL || i >= r->nheaders)
        return -ERANGE;
    *name = r->headers[i].name;
    *value = r->headers[i].value;
    return 0;
}

const void *sl_test_body(const sl_test_resp *r, size_t *len)
{
    if (len != NULL)
        *len = r != NULL ? r->body_len : 0;
    return r != NULL ? r->body : "";
}

json_object *sl_test_json(sl_test_resp *r)
{
    if (r == NULL)
        return NULL;
    if (!r->json_tried) {
        r->json_tried = 1;
        r->json = sl_json_parse(r->body, r->body_len);
    }
    return r->json;
}

void sl_test_resp_free(sl_test_resp *r)
{
    if (r == NULL)
        return;
    if (r->client != NULL) {
        if (r->prev != NULL)
            r->prev->next = r->next;
        else
            r->client->answers = r->next;
        if (r->next != NULL)
            r->next->prev = r->prev;
    }
    if (r->json != NULL)
        json_object_put(r->json);
    free(r->headers);
    sl_buf_free(&r->raw);
    free(r);
}

/* ---- the client's life --------------------------------------------------- */

/* A hook's non-zero result is worth a line, as in a worker. */
static void run_hook(sl_test *t, sl_hook hook, const char *name)
{
    if (hook == NULL || !t->w.app_started)
        return;
    int rc = hook(t->w.app);
    if (rc != 0)
        sl_warn("the application's worker %s hook failed (%d%s%s)", name, rc,
                rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
}

static void close_left(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* A pool handler still runs (one given up on): its thread holds the
 * request, which must outlive it. */
static int pool_in_flight(const sl_worker *w)
{
    for (const sl_req *r = w->running; r != NULL; r = r->wnext)
        if (r->match.target != NULL && !(r->match.target->flags & SL_LOOP))
            return 1;
    return 0;
}

/* After the drain hook: requests still in flight (given up on, answered
 * 504 already) get the loop until they end, for as long as a request may
 * take (a worker gives them --graceful-timeout); a pool handler is waited
 * for whatever it takes, its thread holding the request. */
static void drain(sl_test *t)
{
    sl_worker *w = &t->w;
    uint64_t ms = t->timeout_ms > 0 ? t->timeout_ms : (uint64_t)t->cfg.graceful_timeout * 1000;
    t->expired = 0;
    uv_timer_start(&t->deadline, on_deadline, ms, 0);
    while (w->inflight > 0 && (!t->expired || pool_in_flight(w)))
        if (uv_run(&w->loop, UV_RUN_ONCE) == 0)
            break;
    uv_timer_stop(&t->deadline);
}

void sl_test_free(sl_test *t)
{
    if (t == NULL)
        return;
    sl_worker *w = &t->w;
    w->loop_thread = uv_thread_self();
    if (w->app != NULL) {
        run_hook(t, w->app->on_drain, "drain");
        drain(t);
        run_hook(t, w->app->on_stop, "stop");
    }
    w->app_started = 0;
    /* Whatever is still open is closed, as when a worker exits; closing
     * also runs what the stop hook's own uv_close() calls left to do. */
    uv_walk(&w->loop, close_left, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    /* Answers the application never ended: no one can end them now. */
    while (w->running != NULL) {
        sl_req *req = w->running;
        w->running = req->wnext;
        sl_values_free(req);
        sl_req_destroy(req);
        free(req);
    }
    sl_worker_req_cache_free(w);
    int rc = uv_loop_close(&w->loop);
    if (rc < 0)
        sl_error("sl_test_free: the loop does not close: %s", uv_strerror(rc));
    uv_mutex_destroy(&w->flush_lock);
    uv_cond_destroy(&w->flush_cond);
    uv_mutex_destroy(&t->lock);
    /* The application's code goes last: nothing of it can run any more. */
    sl_apidocs_free(&w->endpoints.docs);
    sl_app_free(w->app);
    sl_buf_free(&t->out);
    while (t->answers != NULL)
        sl_test_resp_free(t->answers);
    free(t);
}

/* A worker of our own: no listeners, no connections, no scoreboard, no
 * master; the error log as it is. */
static sl_test *client_new(const char *app_so, int (*entry)(sl_app *), char *err,
                           size_t errlen)
{
    char none[1];
    if (err == NULL || errlen == 0) {
        err = none;
        errlen = sizeof none;
    }
    sl_test *t = calloc(1, sizeof *t);
    if (t == NULL || uv_loop_init(&t->w.loop) < 0) {
        snprintf(err, errlen, "out of memory");
        free(t);
        return NULL;
    }
    sl_worker *w = &t->w;
    sl_config_defaults(&t->cfg);
    sl_config_fill_secret(&t->cfg, NULL);   /* signed cookies: random, as a start's */
    t->timeout_ms = (uint64_t)t->cfg.timeout * 1000;
    uv_mutex_init(&w->flush_lock);
    uv_cond_init(&w->flush_cond);
    uv_mutex_init(&t->lock);
    w->cfg = &t->cfg;
    w->log_fd = -1;
    w->access_fd = -1;
    w->ctl_fd = -1;
    w->req_host = (sl_req_host){
        .flush = client_flush, .end = sl_worker_host_end, .sink = client_sink,
    };
    w->endpoints = (sl_endpoints){.cfg = &t->cfg};
    w->loop_thread = uv_thread_self();
    /* Request ids test-1, test-2, ...: the same in every run. */
    snprintf(w->id_prefix, sizeof w->id_prefix, "test");
    uv_timer_init(&w->loop, &t->deadline);
    t->deadline.data = t;
    uv_unref((uv_handle_t *)&t->deadline);
    w->app = app_so != NULL ? sl_app_load(app_so, &w->loop, err, errlen)
                            : sl_app_new(entry, &w->loop, err, errlen);
    if (w->app == NULL) {
        sl_test_free(t);
        return NULL;
    }
    int rc = sl_worker_app_start(w);
    if (rc != 0) {
        snprintf(err, errlen, "the application's worker start hook failed (%d%s%s)", rc,
                 rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
        sl_test_free(t);
        return NULL;
    }
    return t;
}

sl_test *sl_test_load(const char *app_so, char *err, size_t errlen)
{
    if (app_so == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "sl_test_load: no path");
        return NULL;
    }
    return client_new(app_so, NULL, err, errlen);
}

sl_test *sl_test_new(int (*entry)(sl_app *), char *err, size_t errlen)
{
    if (entry == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "sl_test_new: no entry point");
        return NULL;
    }
    return client_new(NULL, entry, err, errlen);
}
