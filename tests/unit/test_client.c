/*
 * test_client.c: the framework through the in-process test client
 * (sluice_test.h), as an application's own tests use it: routes and their
 * typed parameters, 400/404/405/413/422 answers, loop and pool handlers,
 * answers made later from a timer, streaming, request and response
 * headers, the CGI parameters a request carries, the hooks, the demo app
 * loaded from its .so, and two clients at once.  No socket, no web server,
 * no root: linked with libsluice like any test program.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sluice_test.h>

#ifndef DEMO_SO
#error "DEMO_SO: the path of the built demo.so"
#endif

/* The thread that runs the test (and so the client's loop). */
static pthread_t test_thread;

/* ---- an application of the test's own ---------------------------------- */

static int hello(sl_req *req)
{
    return sl_resp_printf(req, "Hello\n");
}

static int item(sl_req *req)
{
    int64_t id = 0;
    sl_req_path_int(req, "id", &id);
    const char *q = sl_req_query(req, "q");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "q", q ? json_object_new_string(q) : NULL);
    return sl_resp_json(req, o);
}

static int user(sl_req *req)
{
    return sl_resp_printf(req, "user %s\n", sl_req_path_param(req, "name"));
}

static int file(sl_req *req)
{
    return sl_resp_printf(req, "file %s\n", sl_req_path_param(req, "rest"));
}

static int echo(sl_req *req)
{
    size_t len;
    const void *body = sl_req_body(req, &len);
    const char *ct = sl_req_header(req, "Content-Type");
    sl_resp_header(req, "Content-Type", ct && *ct ? ct : "application/octet-stream");
    return sl_resp_write(req, body, len);
}

/* Which thread runs a handler: the caller's for loop handlers, one of the
 * pool's for the others. */
static int which_thread(sl_req *req)
{
    return sl_resp_printf(req, "%s", pthread_equal(pthread_self(), test_thread) ? "caller"
                                                                                : "other");
}

/* Answers from a timer on the loop, ms later. */
typedef struct later {
    uv_timer_t timer;
    sl_req *req;
    long ms;
    int left;               /* streaming: pieces still to flush */
} later;

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *timer)
{
    later *l = timer->data;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "later", json_object_new_int64(l->ms));
    sl_resp_json(l->req, o);
    sl_resp_end(l->req);
    uv_close((uv_handle_t *)timer, later_closed);
}

static int answer_later(sl_req *req)
{
    const char *ms = sl_req_query(req, "ms");
    later *l = calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->req = req;
    l->ms = ms ? atol(ms) : 0;
    uv_timer_init(sl_app_loop(sl_req_app(req)), &l->timer);
    l->timer.data = l;
    sl_req_set_data(req, l);
    uv_timer_start(&l->timer, later_fire, (uint64_t)l->ms, 0);
    return SL_LATER;
}

/* Streams a piece every 5 ms from the loop, then ends. */
static void piece_fire(uv_timer_t *timer)
{
    later *l = timer->data;
    sl_resp_printf(l->req, "piece %d\n", l->left);
    if (--l->left > 0) {
        sl_resp_flush(l->req);
        return;
    }
    sl_resp_end(l->req);
    uv_close((uv_handle_t *)timer, later_closed);
}

static int stream_later(sl_req *req)
{
    later *l = calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->req = req;
    l->left = 3;
    uv_timer_init(sl_app_loop(sl_req_app(req)), &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, piece_fire, 5, 5);
    return SL_LATER;
}

/* A pool handler flushing a line at a time. */
static int stream_pool(sl_req *req)
{
    const char *n = sl_req_query(req, "n");
    for (int i = 0; i < (n ? atoi(n) : 3); i++) {
        int rc = sl_resp_printf(req, "line %d\n", i);
        if (rc == 0)
            rc = sl_resp_flush(req);
        if (rc < 0)
            return rc;
    }
    return SL_OK;
}

/* What the request carries, as JSON: the headers asked for by
 * ?h=Name,Name and every CGI parameter under "params". */
static int carried(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object *params = json_object_new_object();
    for (size_t i = 0; i < sl_req_param_count(req); i++) {
        const char *name, *value;
        sl_req_param_at(req, i, &name, &value);
        json_object_object_add(params, name, json_object_new_string(value));
    }
    json_object_object_add(o, "params", params);
    json_object_object_add(o, "path", json_object_new_string(sl_req_path(req)));
    json_object_object_add(o, "method", json_object_new_string(sl_req_method(req)));
    const char *tok = sl_req_header(req, "X-Token");
    json_object_object_add(o, "x-token", tok ? json_object_new_string(tok) : NULL);
    size_t len;
    sl_req_body(req, &len);
    json_object_object_add(o, "body_len", json_object_new_int64((int64_t)len));
    json_object *j = sl_req_json(req);
    json_object_object_add(o, "json", j ? json_object_get(j) : NULL);
    return sl_resp_json(req, o);
}

static int set_headers(sl_req *req)
{
    int rc = sl_resp_status(req, 201);
    rc |= sl_resp_header(req, "Content-Type", "text/html");
    rc |= sl_resp_header(req, "Set-Cookie", "a=1");
    rc |= sl_resp_header(req, "Set-Cookie", "b=2");
    rc |= sl_resp_header(req, "content-type", "text/csv");
    rc |= sl_resp_header(req, "X-Empty", "");
    rc |= sl_resp_write(req, "a,b", 3);
    return rc;
}

static int problem(sl_req *req)
{
    int rc = sl_resp_header(req, "Set-Cookie", "session=abc; HttpOnly");
    rc |= sl_resp_printf(req, "<html>discarded</html>");
    return rc == 0 ? sl_resp_problem(req, 403, "not yours") : rc;
}

static int fails(sl_req *req)
{
    sl_resp_header(req, "Cache-Control", "max-age=3600");
    sl_resp_printf(req, "partial");
    return -EIO;
}

static int bad_header(sl_req *req)
{
    sl_resp_header(req, "X-Bad", "a\nb");
    return sl_resp_printf(req, "should not be seen");
}

/* A header value with the byte ?b=N between "a" and "b". */
static int ctl(sl_req *req)
{
    const char *b = sl_req_query(req, "b");
    char v[4] = {'a', (char)(b ? atoi(b) : 'x'), 'b', '\0'};
    int rc = sl_resp_header(req, "X-Ctl", v);
    sl_resp_printf(req, "rc=%d\n", rc);
    return SL_OK;
}

static int status_header(sl_req *req)
{
    sl_resp_header(req, "Status", "404 Not Found");
    return sl_resp_printf(req, "should not be seen\n");
}

static int json_then_type(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "a", json_object_new_int(1));
    int rc = sl_resp_json(req, o);
    return rc == 0 ? sl_resp_header(req, "Content-Type", "application/vnd.test+json") : rc;
}

static int type_twice(sl_req *req)
{
    int rc = sl_resp_header(req, "Content-Type", "text/html");
    rc |= sl_resp_header(req, "X-Between", "1");
    rc |= sl_resp_header(req, "Content-Length", "9");
    rc |= sl_resp_header(req, "Content-Length", "3");
    rc |= sl_resp_write(req, "a,b", 3);
    return rc;
}

static int not_modified(sl_req *req)
{
    int rc = sl_resp_status(req, 304);
    return rc == 0 ? sl_resp_header(req, "ETag", "\"v1\"") : rc;
}

/* Answers later, but is cancelled first (the client's timeout). */
static int cancels;

static void slow_cancel(sl_req *req)
{
    later *l = sl_req_data(req);
    cancels++;
    uv_timer_stop(&l->timer);
    sl_resp_end(req);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static int slow_later(sl_req *req)
{
    sl_req_on_cancel(req, slow_cancel);
    return answer_later(req);
}

/* A pool handler slower than the client's timeout, flushing a line
 * before (with ?flush) and one after. */
static int slow_pool(sl_req *req)
{
    if (sl_req_query(req, "flush") != NULL) {
        sl_resp_printf(req, "early\n");
        sl_resp_flush(req);
    }
    usleep(300 * 1000);
    sl_resp_printf(req, "late\n");
    sl_resp_flush(req);
    return sl_resp_printf(req, "end\n");
}

/* SL_LATER, and nothing that will ever end it. */
static int never(sl_req *req)
{
    (void)req;
    return SL_LATER;
}

static int any_method(sl_req *req)
{
    return sl_resp_printf(req, "%s\n", sl_req_method(req));
}

static int status(sl_req *req)
{
    int64_t code = 0;
    sl_req_path_int(req, "code", &code);
    return sl_resp_status(req, (int)code);
}

static int fw_app(sl_app *app)
{
    int rc = 0;
    rc |= sl_route(app, "GET", "/hello", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/items/{id:int}", item, SL_LOOP);
    rc |= sl_route(app, "GET", "/users/{name}", user, SL_POOL);
    rc |= sl_route(app, "GET", "/files/{rest:path}", file, SL_LOOP);
    rc |= sl_route(app, "POST", "/echo", echo, SL_POOL);
    rc |= sl_route(app, "GET", "/thread/loop", which_thread, SL_LOOP);
    rc |= sl_route(app, "GET", "/thread/pool", which_thread, SL_POOL);
    rc |= sl_route(app, "GET", "/later", answer_later, SL_LOOP);
    rc |= sl_route(app, "GET", "/stream/later", stream_later, SL_LOOP);
    rc |= sl_route(app, "GET", "/stream/pool", stream_pool, SL_POOL);
    rc |= sl_route(app, "*", "/carried", carried, SL_LOOP);
    rc |= sl_route(app, "GET", "/set-headers", set_headers, SL_LOOP);
    rc |= sl_route(app, "GET", "/problem", problem, SL_POOL);
    rc |= sl_route(app, "GET", "/fails", fails, SL_POOL);
    rc |= sl_route(app, "GET", "/bad-header", bad_header, SL_LOOP);
    rc |= sl_route(app, "GET", "/never", never, SL_LOOP);
    rc |= sl_route(app, "*", "/any", any_method, SL_LOOP);
    rc |= sl_route(app, "GET", "/status/{code:int}", status, SL_LOOP);
    rc |= sl_route(app, "GET", "/ctl", ctl, SL_LOOP);
    rc |= sl_route(app, "GET", "/status-header", status_header, SL_POOL);
    rc |= sl_route(app, "GET", "/json-then-type", json_then_type, SL_LOOP);
    rc |= sl_route(app, "GET", "/type-twice", type_twice, SL_LOOP);
    rc |= sl_route(app, "GET", "/not-modified", not_modified, SL_LOOP);
    rc |= sl_route(app, "GET", "/enc/{name}", user, SL_LOOP | SL_ENCODED_SLASH);
    rc |= sl_route(app, "GET", "/users/me", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/slow/later", slow_later, SL_LOOP);
    rc |= sl_route(app, "GET", "/slow/pool", slow_pool, SL_POOL);
    return rc ? -EINVAL : 0;
}

/* ---- helpers --------------------------------------------------------------- */

static sl_test *t;

static void setup(void)
{
    char err[256] = "";
    test_thread = pthread_self();
    t = sl_test_new(fw_app, err, sizeof err);
    ck_assert_msg(t != NULL, "sl_test_new: %s", err);
}

static void teardown(void)
{
    sl_test_free(t);
    t = NULL;
}

static const char *body_of(const sl_test_resp *r)
{
    return sl_test_body(r, NULL);
}

/* A string member of a JSON object, or NULL. */
static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
        return NULL;
    return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(o != NULL && json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_int64(v);
}

/* A problem answer: status, type and the status inside. */
static void assert_problem(sl_test_resp *r, int code)
{
    ck_assert_int_eq(sl_test_status(r), code);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/problem+json");
    json_object *doc = sl_test_json(r);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(jint(doc, "status"), code);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- routes and the answers sluice makes -------------------------------- */

START_TEST(test_hello)
{
    sl_test_resp *r = sl_test_get(t, "/hello");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(body_of(r), "Hello\n");
    size_t len = 0;
    sl_test_body(r, &len);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_str_eq(sl_test_header(r, "content-length"), "6");
    ck_assert_str_eq(sl_test_header(r, "X-Request-ID"), "test-1");
    ck_assert_ptr_null(sl_test_header(r, "Status"));
    ck_assert_ptr_null(sl_test_json(r));
    sl_test_resp_free(r);
    r = sl_test_get(t, "/hello");
    ck_assert_str_eq(sl_test_header(r, "X-Request-ID"), "test-2");
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_params)
{
    sl_test_resp *r = sl_test_get(t, "/items/42?q=a%20b&q=second");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(body_of(r), "{\"id\":42,\"q\":\"a b\"}");
    ck_assert_int_eq(jint(sl_test_json(r), "id"), 42);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/json");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/items/-7");
    ck_assert_str_eq(body_of(r), "{\"id\":-7,\"q\":null}");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/users/ann%20b");
    ck_assert_str_eq(body_of(r), "user ann b\n");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/files/a/b/../c.txt");
    ck_assert_str_eq(body_of(r), "file a/c.txt\n");
    sl_test_resp_free(r);
    /* %2F stays inside a {name} only with SL_ENCODED_SLASH: 404 here. */
    r = sl_test_get(t, "/users/a%2Fb");
    assert_problem(r, 404);
    sl_test_resp_free(r);
    r = sl_test_get(t, "/enc/a%2Fb");
    ck_assert_str_eq(body_of(r), "user a/b\n");
    sl_test_resp_free(r);
    /* A literal beats {x}, whatever the order they were registered in. */
    r = sl_test_get(t, "/users/me");
    ck_assert_str_eq(body_of(r), "Hello\n");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/users/mo");
    ck_assert_str_eq(body_of(r), "user mo\n");
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_route_errors)
{
    sl_test_resp *r = sl_test_get(t, "/no/such/path");
    assert_problem(r, 404);
    sl_test_resp_free(r);
    r = sl_test_request(t, "DELETE", "/hello", NULL, NULL, 0);
    assert_problem(r, 405);
    ck_assert_ptr_nonnull(sl_test_header(r, "Allow"));
    ck_assert_ptr_nonnull(strstr(sl_test_header(r, "Allow"), "GET"));
    sl_test_resp_free(r);
    r = sl_test_get(t, "/items/abc");
    assert_problem(r, 422);
    ck_assert_ptr_nonnull(strstr(jstr(sl_test_json(r), "detail"), "'id'"));
    sl_test_resp_free(r);
    /* Paths nginx would refuse, refused by sluice too. */
    r = sl_test_get(t, "/a/../..");
    assert_problem(r, 400);
    ck_assert_ptr_nonnull(strstr(jstr(sl_test_json(r), "detail"), "climbs above the root"));
    sl_test_resp_free(r);
    r = sl_test_get(t, "/bad%zz");
    assert_problem(r, 400);
    sl_test_resp_free(r);
    /* GET routes answer HEAD; "*" routes any method. */
    r = sl_test_request(t, "HEAD", "/hello", NULL, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 200);
    sl_test_resp_free(r);
    r = sl_test_request(t, "PATCH", "/any", NULL, "x", 1);
    ck_assert_str_eq(body_of(r), "PATCH\n");
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_statuses)
{
    sl_test_resp *r = sl_test_get(t, "/status/204");
    ck_assert_int_eq(sl_test_status(r), 204);
    ck_assert_ptr_null(sl_test_header(r, "Content-Type"));
    ck_assert_ptr_null(sl_test_header(r, "Content-Length"));
    sl_test_resp_free(r);
    r = sl_test_get(t, "/status/418");
    ck_assert_int_eq(sl_test_status(r), 418);
    ck_assert_str_eq(sl_test_header(r, "Content-Length"), "0");
    sl_test_resp_free(r);
    /* An interim status is not an answer: 500. */
    r = sl_test_get(t, "/status/100");
    assert_problem(r, 500);
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_response_headers)
{
    sl_test_resp *r = sl_test_get(t, "/set-headers");
    ck_assert_int_eq(sl_test_status(r), 201);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "text/csv");
    ck_assert_str_eq(sl_test_header(r, "Set-Cookie"), "a=1");
    ck_assert_str_eq(sl_test_header(r, "X-Empty"), "");
    /* Every header, in the order sluice wrote them. */
    static const char *const want[][2] = {
        {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}, {"content-type", "text/csv"},
        {"X-Empty", ""}, {"Content-Length", "3"}, {"X-Request-ID", "test-1"},
    };
    ck_assert_uint_eq(sl_test_header_count(r), 6);
    for (size_t i = 0; i < 6; i++) {
        const char *name, *value;
        ck_assert_int_eq(sl_test_header_at(r, i, &name, &value), 0);
        ck_assert_str_eq(name, want[i][0]);
        ck_assert_str_eq(value, want[i][1]);
    }
    const char *name = NULL, *value = NULL;
    ck_assert_int_eq(sl_test_header_at(r, 6, &name, &value), -ERANGE);
    ck_assert_int_eq(sl_test_header_at(NULL, 0, &name, &value), -ERANGE);
    ck_assert_uint_eq(sl_test_header_count(NULL), 0);
    ck_assert_str_eq(sl_test_header(r, "Content-Length"), "3");
    ck_assert_str_eq(body_of(r), "a,b");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/problem");
    assert_problem(r, 403);
    ck_assert_str_eq(sl_test_header(r, "Set-Cookie"), "session=abc; HttpOnly");
    ck_assert_str_eq(jstr(sl_test_json(r), "detail"), "not yours");
    ck_assert_ptr_null(strstr(body_of(r), "discarded"));
    sl_test_resp_free(r);
    /* A failing handler: sluice's 500, none of its headers or body. */
    r = sl_test_get(t, "/fails");
    assert_problem(r, 500);
    ck_assert_ptr_null(sl_test_header(r, "Cache-Control"));
    ck_assert_ptr_null(strstr(body_of(r), "partial"));
    sl_test_resp_free(r);
    r = sl_test_get(t, "/bad-header");
    assert_problem(r, 500);
    ck_assert_ptr_null(sl_test_header(r, "X-Bad"));
    sl_test_resp_free(r);
}
END_TEST

/* What sluice refuses of a response, and the headers it keeps once. */
START_TEST(test_response_rules)
{
    /* A handler's own Status header: refused, a 500 of sluice's. */
    sl_test_resp *r = sl_test_get(t, "/status-header");
    assert_problem(r, 500);
    ck_assert_ptr_null(strstr(body_of(r), "should not be seen"));
    sl_test_resp_free(r);
    /* Control bytes in a value: only HTAB passes. */
    static const int refused[] = {1, 8, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f, 13, 10};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char target[32];
        snprintf(target, sizeof target, "/ctl?b=%d", refused[i]);
        r = sl_test_get(t, target);
        ck_assert_msg(sl_test_status(r) == 500, "byte 0x%02x: %d", refused[i],
                      sl_test_status(r));
        ck_assert_ptr_null(sl_test_header(r, "X-Ctl"));
        sl_test_resp_free(r);
    }
    static const struct { int b; const char *shown; } allowed[] = {
        {9, "a\tb"}, {0x20, "a b"}, {0xe9, "a\xe9" "b"},
    };
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        char target[32];
        snprintf(target, sizeof target, "/ctl?b=%d", allowed[i].b);
        r = sl_test_get(t, target);
        ck_assert_int_eq(sl_test_status(r), 200);
        ck_assert_str_eq(sl_test_header(r, "X-Ctl"), allowed[i].shown);
        ck_assert_str_eq(body_of(r), "rc=0\n");
        sl_test_resp_free(r);
    }
    /* One Content-Type, the later one; one Content-Length, the later one. */
    r = sl_test_get(t, "/json-then-type");
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/vnd.test+json");
    ck_assert_str_eq(body_of(r), "{\"a\":1}");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/type-twice");
    int types = 0, lengths = 0;
    for (size_t i = 0; i < sl_test_header_count(r); i++) {
        const char *name, *value;
        sl_test_header_at(r, i, &name, &value);
        types += strcasecmp(name, "Content-Type") == 0;
        lengths += strcasecmp(name, "Content-Length") == 0;
    }
    ck_assert_int_eq(types, 1);
    ck_assert_int_eq(lengths, 1);
    ck_assert_str_eq(sl_test_header(r, "Content-Length"), "3");
    ck_assert_str_eq(sl_test_header(r, "X-Between"), "1");
    sl_test_resp_free(r);
    /* 304 keeps its ETag and has neither a type nor a body. */
    r = sl_test_get(t, "/not-modified");
    ck_assert_int_eq(sl_test_status(r), 304);
    ck_assert_str_eq(sl_test_header(r, "ETag"), "\"v1\"");
    ck_assert_ptr_null(sl_test_header(r, "Content-Type"));
    ck_assert_ptr_null(sl_test_header(r, "Content-Length"));
    ck_assert_str_eq(body_of(r), "");
    sl_test_resp_free(r);
}
END_TEST

/* ---- handlers: loop, pool, later, streaming ----------------------------- */

START_TEST(test_threads)
{
    sl_test_resp *r = sl_test_get(t, "/thread/loop");
    ck_assert_str_eq(body_of(r), "caller");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/thread/pool");
    ck_assert_str_eq(body_of(r), "other");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/users/pool");
    ck_assert_str_eq(body_of(r), "user pool\n");
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_later)
{
    /* The loop stood still meanwhile: the handler's timer counts from its
     * request all the same. */
    usleep(150 * 1000);
    double t0 = now_ms();
    sl_test_resp *r = sl_test_get(t, "/later?ms=50");
    double took = now_ms() - t0;
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(body_of(r), "{\"later\":50}");
    ck_assert_msg(took >= 49, "answered after %.1f ms, before its timer", took);
    sl_test_resp_free(r);
    r = sl_test_get(t, "/later?ms=0");
    ck_assert_str_eq(body_of(r), "{\"later\":0}");
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_streaming)
{
    sl_test_resp *r = sl_test_get(t, "/stream/pool?n=4");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(body_of(r), "line 0\nline 1\nline 2\nline 3\n");
    /* Flushed before its end: its length was not known with its head. */
    ck_assert_ptr_null(sl_test_header(r, "Content-Length"));
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "text/plain; charset=utf-8");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/stream/pool?n=0");
    ck_assert_str_eq(body_of(r), "");
    ck_assert_str_eq(sl_test_header(r, "Content-Length"), "0");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/stream/later");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(body_of(r), "piece 3\npiece 2\npiece 1\n");
    ck_assert_ptr_null(sl_test_header(r, "Content-Length"));
    sl_test_resp_free(r);
    /* A big streamed answer, from the pool: every byte, in order. */
    r = sl_test_get(t, "/stream/pool?n=20000");
    size_t len = 0;
    const char *b = sl_test_body(r, &len);
    ck_assert_uint_eq(len, 10 * 7 + 90 * 8 + 900 * 9 + 9000 * 10 + 10000 * 11);
    ck_assert_int_eq(strncmp(b + len - 11, "line 19999\n", 11), 0);
    sl_test_resp_free(r);
}
END_TEST

/* A handler that answers later with nothing on the loop to end it: 504 at
 * once (a worker would give it its --timeout first), and the request is
 * freed with the client. */
START_TEST(test_never_answered)
{
    double t0 = now_ms();
    sl_test_resp *r = sl_test_get(t, "/never");
    ck_assert_msg(now_ms() - t0 < 1000, "waited %.0f ms", now_ms() - t0);
    assert_problem(r, 504);
    ck_assert_str_eq(sl_test_header(r, "X-Request-ID"), "test-1");
    sl_test_resp_free(r);
    r = sl_test_get(t, "/hello");
    ck_assert_str_eq(body_of(r), "Hello\n");
    sl_test_resp_free(r);
}
END_TEST

/* Past the client's timeout: the worker's 504, the request cancelled, and
 * what its handler does afterwards discarded; the client serves on
 * meanwhile, and sl_test_free() waits for the pool thread still running
 * one (the sanitizer build checks that nothing is touched after it is
 * freed, and nothing leaks). */
START_TEST(test_timeout)
{
    sl_test_set_timeout(t, 100);
    double t0 = now_ms();
    sl_test_resp *r = sl_test_get(t, "/slow/later?ms=5000");
    double took = now_ms() - t0;
    assert_problem(r, 504);
    ck_assert_str_eq(jstr(sl_test_json(r), "detail"), "the request took longer than --timeout");
    ck_assert_msg(took >= 99 && took < 2000, "504 after %.0f ms", took);
    ck_assert_int_eq(cancels, 1);
    sl_test_resp_free(r);
    /* A pool handler: 504 while its thread still sleeps. */
    r = sl_test_get(t, "/slow/pool");
    assert_problem(r, 504);
    sl_test_resp_free(r);
    r = sl_test_get(t, "/hello");
    ck_assert_str_eq(body_of(r), "Hello\n");
    sl_test_resp_free(r);
    /* One that flushed before: the answer ends where it was. */
    r = sl_test_get(t, "/slow/pool?flush");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(body_of(r), "early\n");
    sl_test_resp_free(r);
    /* Both pool handlers' late lines went nowhere: this one answers
     * alone, while they may still be running. */
    sl_test_set_timeout(t, 0);
    r = sl_test_get(t, "/later?ms=400");
    ck_assert_str_eq(body_of(r), "{\"later\":400}");
    sl_test_resp_free(r);
}
END_TEST

/* ---- what a request carries ---------------------------------------------- */

START_TEST(test_cgi_params)
{
    const char *h[] = {"X-Token: secret", "Host: Example.COM:8080", "X_Under: dropped",
                       "Accept:  text/plain  ", NULL};
    sl_test_resp *r = sl_test_request(t, "GET", "/x/../carried?a=1&b=%20", h, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 200);
    json_object *o = sl_test_json(r), *p;
    ck_assert_ptr_nonnull(o);
    ck_assert(json_object_object_get_ex(o, "params", &p));
    ck_assert_str_eq(jstr(o, "x-token"), "secret");
    ck_assert_str_eq(jstr(o, "path"), "/carried");
    ck_assert_str_eq(jstr(p, "REQUEST_METHOD"), "GET");
    ck_assert_str_eq(jstr(p, "REQUEST_URI"), "/x/../carried?a=1&b=%20");
    ck_assert_str_eq(jstr(p, "QUERY_STRING"), "a=1&b=%20");
    ck_assert_str_eq(jstr(p, "DOCUMENT_URI"), "/carried");
    ck_assert_str_eq(jstr(p, "SCRIPT_NAME"), "/carried");
    ck_assert_str_eq(jstr(p, "CONTENT_TYPE"), "");
    ck_assert_str_eq(jstr(p, "CONTENT_LENGTH"), "");
    ck_assert_str_eq(jstr(p, "SERVER_PROTOCOL"), "HTTP/1.1");
    ck_assert_str_eq(jstr(p, "REQUEST_SCHEME"), "http");
    ck_assert_str_eq(jstr(p, "GATEWAY_INTERFACE"), "CGI/1.1");
    ck_assert_str_eq(jstr(p, "REMOTE_ADDR"), "127.0.0.1");
    ck_assert_str_eq(jstr(p, "SERVER_NAME"), "testserver");
    ck_assert_str_eq(jstr(p, "HTTP_HOST"), "example.com");
    ck_assert_str_eq(jstr(p, "HTTP_X_TOKEN"), "secret");
    ck_assert_str_eq(jstr(p, "HTTP_ACCEPT"), "text/plain");
    ck_assert_ptr_null(jstr(p, "HTTP_X_UNDER"));
    ck_assert_ptr_null(jstr(p, "HTTP_CONTENT_LENGTH"));
    ck_assert_int_eq(json_object_object_length(p), 22);
    sl_test_resp_free(r);

    /* No Host: the server's name; slashes merged in DOCUMENT_URI. */
    r = sl_test_get(t, "//carried");
    o = sl_test_json(r);
    ck_assert(json_object_object_get_ex(o, "params", &p));
    ck_assert_str_eq(jstr(p, "HTTP_HOST"), "testserver");
    ck_assert_str_eq(jstr(p, "DOCUMENT_URI"), "/carried");
    ck_assert_str_eq(jstr(p, "QUERY_STRING"), "");
    ck_assert_ptr_null(jstr(o, "x-token"));
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_bodies)
{
    sl_test_resp *r = sl_test_post_json(t, "/carried", "{\"a\":[1,2]}");
    json_object *o = sl_test_json(r), *p, *j;
    ck_assert(json_object_object_get_ex(o, "params", &p));
    ck_assert_str_eq(jstr(o, "method"), "POST");
    ck_assert_str_eq(jstr(p, "CONTENT_TYPE"), "application/json");
    ck_assert_str_eq(jstr(p, "HTTP_CONTENT_TYPE"), "application/json");
    ck_assert_str_eq(jstr(p, "CONTENT_LENGTH"), "11");
    ck_assert_str_eq(jstr(p, "HTTP_CONTENT_LENGTH"), "11");
    ck_assert_int_eq(jint(o, "body_len"), 11);
    ck_assert(json_object_object_get_ex(o, "json", &j));
    ck_assert_str_eq(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), "{\"a\":[1,2]}");
    sl_test_resp_free(r);

    /* Bytes of any kind, both ways; an empty body is a body. */
    static const char bin[] = "ping \0\xff pong";
    const char *h[] = {"Content-Type: application/x-thing", "Content-Length: 999", NULL};
    r = sl_test_request(t, "POST", "/echo", h, bin, sizeof bin - 1);
    size_t len = 0;
    const void *b = sl_test_body(r, &len);
    ck_assert_uint_eq(len, sizeof bin - 1);
    ck_assert_int_eq(memcmp(b, bin, len), 0);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/x-thing");
    sl_test_resp_free(r);
    r = sl_test_request(t, "POST", "/carried", NULL, "", 0);
    o = sl_test_json(r);
    ck_assert(json_object_object_get_ex(o, "params", &p));
    ck_assert_str_eq(jstr(p, "CONTENT_LENGTH"), "0");
    sl_test_resp_free(r);

    /* Past --max-body-size (32 MiB by default): 413, as a worker answers. */
    size_t big = 32 * 1024 * 1024 + 1;
    char *huge = calloc(1, big);
    ck_assert_ptr_nonnull(huge);
    r = sl_test_request(t, "POST", "/echo", NULL, huge, big);
    free(huge);
    assert_problem(r, 413);
    sl_test_resp_free(r);
}
END_TEST

/* Answers not freed are the client's to free (a leak otherwise, which
 * the sanitizer build's LeakSanitizer reports). */
START_TEST(test_answers_freed_with_client)
{
    char err[256];
    sl_test *c = sl_test_new(fw_app, err, sizeof err);
    ck_assert_ptr_nonnull(c);
    sl_test_resp *a = sl_test_get(c, "/hello");
    sl_test_resp *b = sl_test_get(c, "/items/1");
    sl_test_resp *d = sl_test_get(c, "/stream/pool");
    ck_assert_ptr_nonnull(sl_test_json(b));
    sl_test_resp_free(b);   /* one from the middle of its list */
    ck_assert_str_eq(body_of(a), "Hello\n");
    ck_assert_int_eq(sl_test_status(d), 200);
    sl_test_free(c);
}
END_TEST

START_TEST(test_request_id)
{
    const char *h[] = {"X-Request-ID: abc-123", NULL};
    sl_test_resp *r = sl_test_request(t, "GET", "/hello", h, NULL, 0);
    ck_assert_str_eq(sl_test_header(r, "X-Request-ID"), "abc-123");
    sl_test_resp_free(r);
}
END_TEST

START_TEST(test_bad_arguments)
{
    const char *no_colon[] = {"X-Token secret", NULL};
    ck_assert_ptr_null(sl_test_request(t, "GET", "/hello", no_colon, NULL, 0));
    ck_assert_ptr_null(sl_test_request(t, NULL, "/hello", NULL, NULL, 0));
    ck_assert_ptr_null(sl_test_request(t, "GET", NULL, NULL, NULL, 0));
    ck_assert_ptr_null(sl_test_request(t, "POST", "/echo", NULL, NULL, 5));
    ck_assert_ptr_null(sl_test_get(NULL, "/hello"));
    /* A NULL answer reads as none. */
    size_t len = 7;
    ck_assert_int_eq(sl_test_status(NULL), 0);
    ck_assert_ptr_null(sl_test_header(NULL, "X"));
    ck_assert_str_eq(sl_test_body(NULL, &len), "");
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_null(sl_test_json(NULL));
    sl_test_resp_free(NULL);
    sl_test_free(NULL);
    /* The client still serves. */
    sl_test_resp *r = sl_test_get(t, "/hello");
    ck_assert_int_eq(sl_test_status(r), 200);
    sl_test_resp_free(r);
    /* A target nginx would refuse: sluice's own 400. */
    r = sl_test_get(t, "hello");
    assert_problem(r, 400);
    sl_test_resp_free(r);
}
END_TEST

/* ---- loading and hooks --------------------------------------------------- */

static char hook_log[64];
static uv_timer_t ticker;   /* left open by the app: sl_test_free closes it */

static void tick(uv_timer_t *timer)
{
    (void)timer;
}

static int on_start(sl_app *app)
{
    strcat(hook_log, "start,");
    uv_timer_init(sl_app_loop(app), &ticker);
    return uv_timer_start(&ticker, tick, 1, 1);
}

static int on_drain(sl_app *app)
{
    (void)app;
    strcat(hook_log, "drain,");
    return 0;
}

static int on_stop(sl_app *app)
{
    (void)app;
    strcat(hook_log, "stop,");
    return -EIO;    /* logged, nothing more */
}

static int hooked_app(sl_app *app)
{
    sl_on_worker_start(app, on_start);
    sl_on_worker_drain(app, on_drain);
    sl_on_worker_stop(app, on_stop);
    sl_route(app, "GET", "/later", answer_later, SL_LOOP);
    return sl_route(app, "GET", "/hello", hello, SL_POOL);
}

START_TEST(test_hooks)
{
    char err[256];
    hook_log[0] = '\0';
    sl_test *h = sl_test_new(hooked_app, err, sizeof err);
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(hook_log, "start,");
    /* Requests while the app's own timer keeps the loop busy. */
    sl_test_resp *r = sl_test_get(h, "/later?ms=20");
    ck_assert_str_eq(body_of(r), "{\"later\":20}");
    sl_test_resp_free(r);
    r = sl_test_get(h, "/hello");
    ck_assert_str_eq(body_of(r), "Hello\n");
    sl_test_resp_free(r);
    sl_test_free(h);
    ck_assert_str_eq(hook_log, "start,drain,stop,");
}
END_TEST

static int failing_start(sl_app *app)
{
    (void)app;
    strcat(hook_log, "start,");
    return -EADDRINUSE;
}

static int failing_start_app(sl_app *app)
{
    sl_on_worker_start(app, failing_start);
    sl_on_worker_drain(app, on_drain);
    sl_on_worker_stop(app, on_stop);
    return sl_route(app, "GET", "/hello", hello, SL_LOOP);
}

static int failing_app(sl_app *app)
{
    sl_route(app, "GET", "/hello", hello, SL_LOOP);
    return sl_route(app, "GET", "/a/{b", hello, SL_LOOP);
}

START_TEST(test_load_errors)
{
    char err[256] = "";
    hook_log[0] = '\0';
    ck_assert_ptr_null(sl_test_new(failing_start_app, err, sizeof err));
    ck_assert_msg(strstr(err, "start hook failed") && strstr(err, "Address already in use"),
                  "%s", err);
    /* A worker whose start failed runs neither drain nor stop. */
    ck_assert_str_eq(hook_log, "start,");
    ck_assert_ptr_null(sl_test_new(failing_app, err, sizeof err));
    ck_assert_msg(strstr(err, "sluice_app() failed: Invalid argument") != NULL, "%s", err);
    ck_assert_ptr_null(sl_test_load("./no-such-app.so", err, sizeof err));
    ck_assert_msg(strstr(err, "cannot load ./no-such-app.so") != NULL, "%s", err);
    ck_assert_ptr_null(sl_test_load("./no-such-app.so", NULL, 0));
    ck_assert_ptr_null(sl_test_new(NULL, err, sizeof err));
    ck_assert_ptr_null(sl_test_load(NULL, err, sizeof err));
}
END_TEST

/* The demo, from its .so, as a user's test loads an app. */
START_TEST(test_demo_so)
{
    char err[512];
    sl_test *d = sl_test_load(DEMO_SO, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    sl_test_resp *r = sl_test_get(d, "/hello");
    ck_assert_str_eq(body_of(r), "Hello, world!\n");
    sl_test_resp_free(r);
    r = sl_test_get(d, "/sleep?ms=10");
    ck_assert_str_eq(body_of(r), "{\"slept_ms\":10}");
    sl_test_resp_free(r);
    r = sl_test_get(d, "/block?ms=5");
    ck_assert_str_eq(body_of(r), "{\"blocked_ms\":5}");
    sl_test_resp_free(r);
    r = sl_test_get(d, "/stream?chunks=3");
    ck_assert_str_eq(body_of(r), "chunk 0\nchunk 1\nchunk 2\n");
    sl_test_resp_free(r);
    r = sl_test_get(d, "/items/5?q=x");
    ck_assert_str_eq(body_of(r), "{\"item_id\":5,\"q\":\"x\"}");
    sl_test_resp_free(r);
    sl_test_free(d);
}
END_TEST

/* ---- several clients --------------------------------------------------- */

START_TEST(test_two_clients)
{
    char err[512];
    sl_test *d = sl_test_load(DEMO_SO, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    /* Interleaved, each with its own routes, ids and loop. */
    for (int i = 0; i < 3; i++) {
        sl_test_resp *a = sl_test_get(t, "/stream/pool?n=2");
        sl_test_resp *b = sl_test_get(d, "/hello");
        sl_test_resp *c = sl_test_get(d, "/later?ms=1");
        ck_assert_str_eq(body_of(a), "line 0\nline 1\n");
        ck_assert_str_eq(body_of(b), "Hello, world!\n");
        ck_assert_int_eq(sl_test_status(c), 404);
        char id[16];
        snprintf(id, sizeof id, "test-%d", i + 1);
        ck_assert_str_eq(sl_test_header(a, "X-Request-ID"), id);
        sl_test_resp_free(a);
        sl_test_resp_free(b);
        sl_test_resp_free(c);
    }
    sl_test_free(d);
    sl_test_resp *r = sl_test_get(t, "/hello");
    ck_assert_int_eq(sl_test_status(r), 200);
    sl_test_resp_free(r);
}
END_TEST

/* Two clients, each on its own thread, at the same time. */
static void *client_thread(void *arg)
{
    (void)arg;
    char err[256];
    sl_test *c = sl_test_new(fw_app, err, sizeof err);
    long bad = c == NULL;
    for (int i = 0; c != NULL && i < 40; i++) {
        char target[64];
        snprintf(target, sizeof target, i % 2 ? "/users/u%d" : "/later?ms=%d", i);
        sl_test_resp *r = sl_test_get(c, target);
        char want[64];
        snprintf(want, sizeof want, i % 2 ? "user u%d\n" : "{\"later\":%d}", i);
        bad += strcmp(body_of(r), want) != 0;
        sl_test_resp_free(r);
    }
    sl_test_free(c);
    return (void *)bad;
}

START_TEST(test_clients_on_threads)
{
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, client_thread, NULL), 0);
    for (int i = 0; i < 2; i++) {
        void *bad;
        pthread_join(th[i], &bad);
        ck_assert_int_eq((long)bad, 0);
    }
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("framework");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_hello);
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_route_errors);
    tcase_add_test(tc, test_statuses);
    tcase_add_test(tc, test_response_headers);
    tcase_add_test(tc, test_response_rules);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_later);
    tcase_add_test(tc, test_streaming);
    tcase_add_test(tc, test_never_answered);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_cgi_params);
    tcase_add_test(tc, test_bodies);
    tcase_add_test(tc, test_request_id);
    tcase_add_test(tc, test_answers_freed_with_client);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_two_clients);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("loading");
    tcase_set_timeout(tl, 20);
    tcase_add_test(tl, test_hooks);
    tcase_add_test(tl, test_load_errors);
    tcase_add_test(tl, test_demo_so);
    tcase_add_test(tl, test_clients_on_threads);
    suite_add_tcase(s, tl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(client_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
