/*
 * test_middleware.c: app middleware and route dependencies through the
 * in-process test client: the order of the before and after halves, a
 * middleware answering before routing (401 ahead of 404/405/422), prefix
 * scoping, the after halves seeing status, headers, body length and time
 * on loop handlers answering later, pool handlers and sluice's own errors,
 * failures becoming 500s, and dependencies answering or attaching values
 * on loop and pool routes.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sluice_test.h>

static pthread_t test_thread;
static sl_test *t;

/* What ran, in order: "b:A b:B h a:B a:A ". */
static char trace[512];

static void note(const char *s)
{
    size_t n = strlen(trace);
    snprintf(trace + n, sizeof trace - n, "%s ", s);
}

/* What the last after saw. */
static struct seen {
    int status;
    char ctype[64];
    char custom[64];
    uint64_t len;
    uint64_t elapsed_ns;
    int on_caller;
} seen;

/* ---- handlers ------------------------------------------------------- */

static int hello(sl_req *req)
{
    note("h");
    return sl_resp_printf(req, "Hello\n");
}

static int item(sl_req *req)
{
    note("h");
    return sl_resp_printf(req, "item\n");
}

typedef struct later {
    uv_timer_t timer;
    sl_req *req;
} later;

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *timer)
{
    later *l = timer->data;
    sl_resp_status(l->req, 202);
    sl_resp_header(l->req, "X-Custom", "from-timer");
    sl_resp_json(l->req, json_object_new_string("later"));
    sl_resp_end(l->req);
    uv_close((uv_handle_t *)timer, later_closed);
}

static int answer_later(sl_req *req)
{
    later *l = calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->req = req;
    uv_timer_init(sl_app_loop(sl_req_app(req)), &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, later_fire, 20, 0);
    return SL_LATER;
}

/* A pool handler that takes a while. */
static int pool_slow(sl_req *req)
{
    usleep(20 * 1000);
    sl_resp_status(req, 201);
    sl_resp_header(req, "X-Custom", "from-pool");
    return sl_resp_printf(req, "0123456789");
}

static int stream(sl_req *req)
{
    sl_resp_printf(req, "one\n");
    sl_resp_flush(req);
    return sl_resp_printf(req, "two\n");
}

/* Who the current user is, as the dependency attached it, and where the
 * handler runs. */
static int me(sl_req *req)
{
    const char *u = sl_req_value(req, "user");
    const char *mwv = sl_req_value(req, "from-mw");
    note("h");
    return sl_resp_printf(req, "me %s %s %s", u ? u : "-", mwv ? mwv : "-",
                          pthread_equal(pthread_self(), test_thread) ? "caller" : "other");
}

/* ---- middleware ------------------------------------------------------ */

static int before_a(sl_req *req, void *user)
{
    (void)req;
    (void)user;
    note("b:A");
    return SL_NEXT;
}

static void after_a(sl_req *req, void *user)
{
    (void)user;
    note("a:A");
    seen.status = sl_resp_get_status(req);
    seen.ctype[0] = seen.custom[0] = '\0';
    sl_resp_get_header(req, "content-type", seen.ctype, sizeof seen.ctype);
    sl_resp_get_header(req, "X-Custom", seen.custom, sizeof seen.custom);
    seen.len = sl_resp_body_length(req);
    seen.elapsed_ns = sl_req_elapsed_ns(req);
    seen.on_caller = pthread_equal(pthread_self(), test_thread);
    sl_resp_header(req, "X-After", "A");
}

static int before_b(sl_req *req, void *user)
{
    (void)user;
    note("b:B");
    /* A value for the handler, as request.state in Starlette. */
    return sl_req_set_value(req, "from-mw", "mw", NULL) < 0 ? -ENOMEM : SL_NEXT;
}

static void after_b(sl_req *req, void *user)
{
    (void)user;
    note("a:B");
    sl_resp_header(req, "X-After-B", "B");
}

/* 401 unless Authorization is sent: before routing. */
static int auth(sl_req *req, void *user)
{
    (void)user;
    note("auth");
    if (sl_req_header(req, "Authorization") == NULL)
        return sl_resp_error(req, 401, "Not authenticated");
    return SL_NEXT;
}

static void after_auth(sl_req *req, void *user)
{
    (void)req;
    (void)user;
    note("a:auth");
}

/* Scoped to /admin. */
static int admin_only(sl_req *req, void *user)
{
    (void)user;
    note("admin");
    sl_resp_status(req, 403);
    sl_resp_printf(req, "no\n");
    return SL_OK;
}

/* Fails when the query asks it to. */
static int failing(sl_req *req, void *user)
{
    (void)user;
    const char *q = sl_req_query(req, "fail");
    if (q == NULL)
        return SL_NEXT;
    if (strcmp(q, "errno") == 0)
        return -EIO;
    if (strcmp(q, "header") == 0) {
        sl_resp_header(req, "Bad Name", "x");
        return SL_OK;
    }
    return 7;   /* not a result */
}

/* ---- dependencies ---------------------------------------------------- */

static int need_token(sl_req *req, void *user)
{
    (void)user;
    note("d:token");
    const char *tok = sl_req_header(req, "X-Token");
    if (tok == NULL)
        return sl_resp_error(req, 401, "Not authenticated");
    if (strcmp(tok, "secret") != 0)
        return sl_resp_error(req, 403, NULL);
    return SL_NEXT;
}

static int current_user(sl_req *req, void *user)
{
    note("d:user");
    char *name = strdup(user);
    if (name == NULL)
        return -ENOMEM;
    /* The thread a dependency runs on is the handler's. */
    if (!pthread_equal(pthread_self(), test_thread))
        name[0] = (char)(name[0] - 32);
    return sl_req_set_value(req, "user", name, free) < 0 ? -ENOMEM : SL_NEXT;
}

static int dep_fails(sl_req *req, void *user)
{
    (void)req;
    (void)user;
    return -EACCES;
}

static const sl_depend user_deps[] = {
    { need_token, NULL }, { current_user, "ann" }, { NULL, NULL }
};
static const sl_depend failing_deps[] = {{ dep_fails, NULL }, { NULL, NULL }};

static const sl_param_def n_param[] = {
    { .name = "n", .in = SL_IN_QUERY, .type = SL_T_INT, .flags = SL_REQUIRED },
    { .name = NULL }
};

static const sl_route_def dep_routes[] = {
    { .method = "GET", .pattern = "/me", .handler = me, .flags = SL_LOOP,
      .depends = user_deps },
    { .method = "GET", .pattern = "/me/pool", .handler = me, .flags = SL_POOL,
      .depends = user_deps },
    { .method = "GET", .pattern = "/me/checked", .handler = me, .flags = SL_LOOP,
      .params = n_param, .depends = user_deps },
    { .method = "GET", .pattern = "/broken", .handler = me, .flags = SL_POOL,
      .depends = failing_deps },
    { .method = NULL }
};

static int app_common(sl_app *app)
{
    int rc = 0;
    rc |= sl_route(app, "GET", "/hello", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/items/{id:int}", item, SL_LOOP);
    rc |= sl_route(app, "GET", "/later", answer_later, SL_LOOP);
    rc |= sl_route(app, "GET", "/pool", pool_slow, SL_POOL);
    rc |= sl_route(app, "GET", "/stream", stream, SL_POOL);
    rc |= sl_route(app, "GET", "/admin", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/admin/x", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/administrator", hello, SL_LOOP);
    return rc ? -EINVAL : sl_routes(app, dep_routes);
}

/* Two middlewares around everything; /admin scoped; one that may fail. */
static int app_chain(sl_app *app)
{
    static const sl_middleware a = { .before = before_a, .after = after_a };
    static const sl_middleware b = { .before = before_b, .after = after_b };
    static const sl_middleware adm = { .prefix = "/admin/", .before = admin_only };
    static const sl_middleware f = { .before = failing };
    int rc = app_common(app);
    if (rc == 0)
        rc = sl_middleware_add(app, &a);
    if (rc == 0)
        rc = sl_middleware_add(app, &b);
    if (rc == 0)
        rc = sl_middleware_add(app, &adm);
    if (rc == 0)
        rc = sl_middleware_add(app, &f);
    return rc;
}

/* An outer after-only middleware, then auth. */
static int app_auth(sl_app *app)
{
    static const sl_middleware outer = { .after = after_a };
    static const sl_middleware au = { .before = auth, .after = after_auth };
    int rc = app_common(app);
    if (rc == 0)
        rc = sl_middleware_add(app, &outer);
    return rc ? rc : sl_middleware_add(app, &au);
}

static int app_fastapi_errors(sl_app *app)
{
    sl_app_set_error_format(app, SL_ERRORS_FASTAPI);
    return app_auth(app);
}

static void start(int (*entry)(sl_app *))
{
    char err[256] = "";
    test_thread = pthread_self();
    trace[0] = '\0';
    memset(&seen, 0, sizeof seen);
    t = sl_test_new(entry, err, sizeof err);
    ck_assert_msg(t != NULL, "sl_test_new: %s", err);
}

static void teardown(void)
{
    sl_test_free(t);
    t = NULL;
}

static sl_test_resp *get(const char *target, const char *const *headers)
{
    trace[0] = '\0';
    memset(&seen, 0, sizeof seen);
    return sl_test_request(t, "GET", target, headers, NULL, 0);
}

/* ---- tests ---------------------------------------------------------- */

START_TEST(test_order)
{
    start(app_chain);
    sl_test_resp *r = get("/hello", NULL);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(trace, "b:A b:B h a:B a:A ");
    ck_assert_str_eq(sl_test_header(r, "X-After"), "A");
    ck_assert_str_eq(sl_test_header(r, "X-After-B"), "B");
    ck_assert_int_eq(seen.status, 200);
    ck_assert_str_eq(seen.ctype, "text/plain; charset=utf-8");
    ck_assert_int_eq(seen.len, 6);
    ck_assert(seen.on_caller);
    /* The value a middleware attached reaches the handler. */
    r = get("/me?x", (const char *const[]){"X-Token: secret", NULL});
    ck_assert_str_eq(sl_test_body(r, NULL), "me ann mw caller");
    teardown();
}
END_TEST

START_TEST(test_after_sees_errors)
{
    start(app_chain);
    sl_test_resp *r = get("/nowhere", NULL);
    ck_assert_int_eq(sl_test_status(r), 404);
    ck_assert_str_eq(trace, "b:A b:B a:B a:A ");
    ck_assert_int_eq(seen.status, 404);
    ck_assert_str_eq(seen.ctype, "application/problem+json");
    ck_assert_str_eq(sl_test_header(r, "X-After"), "A");
    size_t len;
    sl_test_body(r, &len);
    ck_assert_int_eq(seen.len, len);
    r = sl_test_request(t, "POST", "/hello", NULL, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 405);
    ck_assert_int_eq(seen.status, 405);
    teardown();
}
END_TEST

START_TEST(test_after_later_and_pool)
{
    start(app_chain);
    sl_test_resp *r = get("/later", NULL);
    ck_assert_int_eq(sl_test_status(r), 202);
    ck_assert_int_eq(seen.status, 202);
    ck_assert_str_eq(seen.ctype, "application/json");
    ck_assert_str_eq(seen.custom, "from-timer");
    ck_assert_int_eq(seen.len, strlen("\"later\""));
    ck_assert_uint_ge(seen.elapsed_ns, 15 * 1000000ull);
    ck_assert(seen.on_caller);
    ck_assert_str_eq(sl_test_header(r, "X-After"), "A");
    ck_assert_str_eq(trace, "b:A b:B a:B a:A ");

    r = get("/pool", NULL);
    ck_assert_int_eq(sl_test_status(r), 201);
    ck_assert_int_eq(seen.status, 201);
    ck_assert_str_eq(seen.custom, "from-pool");
    ck_assert_int_eq(seen.len, 10);
    ck_assert_uint_ge(seen.elapsed_ns, 15 * 1000000ull);
    ck_assert(seen.on_caller);     /* the after runs on the loop */
    ck_assert_str_eq(sl_test_header(r, "X-After"), "A");

    /* Streamed: the head is out, no header can be added; the length
     * counts every piece. */
    r = get("/stream", NULL);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_body(r, NULL), "one\ntwo\n");
    ck_assert_int_eq(seen.len, 8);
    ck_assert_ptr_null(sl_test_header(r, "X-After"));
    teardown();
}
END_TEST

START_TEST(test_prefix)
{
    start(app_chain);
    sl_test_resp *r = get("/admin", NULL);
    ck_assert_int_eq(sl_test_status(r), 403);
    ck_assert_str_eq(trace, "b:A b:B admin a:B a:A ");
    ck_assert_int_eq(seen.status, 403);
    r = get("/admin/x", NULL);
    ck_assert_int_eq(sl_test_status(r), 403);
    /* Not a path under /admin: */
    r = get("/administrator", NULL);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(trace, "b:A b:B h a:B a:A ");
    /* The normalised path is what is scoped: */
    r = get("/hello/../admin/x", NULL);
    ck_assert_int_eq(sl_test_status(r), 403);
    r = get("/%61dmin", NULL);
    ck_assert_int_eq(sl_test_status(r), 403);
    teardown();
}
END_TEST

START_TEST(test_short_circuit_before_routing)
{
    start(app_auth);
    static const char *const authz[] = {"Authorization: Bearer x", NULL};
    /* Without credentials: 401 whatever the route table would say. */
    const char *targets[] = {"/nowhere", "/items/abc", "/hello", "/me/checked?n=x"};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        sl_test_resp *r = get(targets[i], NULL);
        ck_assert_msg(sl_test_status(r) == 401, "%s: %d", targets[i], sl_test_status(r));
        ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/problem+json");
        ck_assert_str_eq(trace, "auth a:A ");
    }
    sl_test_resp *r = sl_test_request(t, "DELETE", "/hello", NULL, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 401);
    ck_assert_int_eq(seen.status, 401);    /* the outer after saw it */
    json_object *j = sl_test_json(r);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(j, "status")), 401);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "detail")),
                     "Not authenticated");
    /* With them, routing answers as it always did. */
    ck_assert_int_eq(sl_test_status(get("/nowhere", authz)), 404);
    ck_assert_int_eq(sl_test_status(sl_test_request(t, "DELETE", "/hello", authz, NULL, 0)), 405);
    ck_assert_int_eq(sl_test_status(get("/items/abc", authz)), 422);
    ck_assert_int_eq(sl_test_status(get("/hello", authz)), 200);
    ck_assert_str_eq(trace, "auth h a:auth a:A ");
    teardown();
}
END_TEST

START_TEST(test_error_format)
{
    start(app_fastapi_errors);
    sl_test_resp *r = get("/hello", NULL);
    ck_assert_int_eq(sl_test_status(r), 401);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/json");
    ck_assert_str_eq(sl_test_body(r, NULL), "{\"detail\":\"Not authenticated\"}");
    teardown();
}
END_TEST

START_TEST(test_failures)
{
    start(app_chain);
    const char *targets[] = {"/hello?fail=errno", "/hello?fail=header", "/hello?fail=other"};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        sl_test_resp *r = get(targets[i], NULL);
        ck_assert_msg(sl_test_status(r) == 500, "%s: %d", targets[i], sl_test_status(r));
        ck_assert_ptr_null(sl_test_header(r, "Bad Name"));
        /* The middlewares outside it still see the 500 go out. */
        ck_assert_int_eq(seen.status, 500);
        ck_assert_str_eq(trace, "b:A b:B a:B a:A ");
    }
    teardown();
}
END_TEST

START_TEST(test_dependencies)
{
    start(app_auth);
    static const char *const good[] = {"Authorization: x", "X-Token: secret", NULL};
    static const char *const bad[] = {"Authorization: x", "X-Token: nope", NULL};
    static const char *const none[] = {"Authorization: x", NULL};
    sl_test_resp *r = get("/me", good);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_body(r, NULL), "me ann - caller");
    ck_assert_str_eq(trace, "auth d:token d:user h a:auth a:A ");
    /* A pool route's dependencies run on its pool thread, before it. */
    r = get("/me/pool", good);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_body(r, NULL), "me Ann - other");
    ck_assert_str_eq(trace, "auth d:token d:user h a:auth a:A ");
    /* Answering: the handler and later dependencies do not run. */
    const char *targets[] = {"/me", "/me/pool"};
    for (size_t i = 0; i < 2; i++) {
        r = get(targets[i], none);
        ck_assert_int_eq(sl_test_status(r), 401);
        ck_assert_str_eq(trace, "auth d:token a:auth a:A ");
        ck_assert_int_eq(seen.status, 401);
        json_object *j = sl_test_json(r);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "detail")),
                         "Not authenticated");
        r = get(targets[i], bad);
        ck_assert_int_eq(sl_test_status(r), 403);
        j = sl_test_json(r);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "title")),
                         "Forbidden");
    }
    /* After validation: a 422 comes before any dependency runs. */
    r = get("/me/checked?n=x", good);
    ck_assert_int_eq(sl_test_status(r), 422);
    ck_assert_str_eq(trace, "auth a:auth a:A ");
    r = get("/me/checked?n=1", good);
    ck_assert_int_eq(sl_test_status(r), 200);
    /* A failing one is a 500. */
    r = get("/broken", good);
    ck_assert_int_eq(sl_test_status(r), 500);
    teardown();
}
END_TEST

static int bad_records(sl_app *app)
{
    static const sl_middleware none = { .prefix = "/x" };
    static const sl_middleware rel = { .prefix = "x", .before = before_a };
    ck_assert_int_eq(sl_middleware_add(app, &none), -EINVAL);
    ck_assert_int_eq(sl_middleware_add(app, &rel), -EINVAL);
    ck_assert_int_eq(sl_middleware_add(app, NULL), -EINVAL);
    static const sl_middleware ok = { .after = after_b };
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(sl_middleware_add(app, &ok), 0);
    ck_assert_int_eq(sl_middleware_add(app, &ok), -EINVAL);
    return sl_route(app, "GET", "/hello", hello, SL_LOOP);
}

START_TEST(test_refusals)
{
    start(bad_records);
    sl_test_resp *r = get("/hello", NULL);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(trace, "h a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B "
                            "a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B "
                            "a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B "
                            "a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B a:B "
                            "a:B ");
    teardown();
}
END_TEST


/* ---- stock middleware ----------------------------------------------- */

static const char *const demo_origins[] = {"http://app.example", NULL};
static const char *const get_post[] = {"GET", "POST", NULL};
static const char *const ctype_only[] = {"Content-Type", NULL};
static const char *const any[] = {"*", NULL};
static const char *const expose[] = {"X-Total", "X-Page", NULL};

/* The demo's contract: credentials, 204 preflights; the timing header
 * outermost. */
static int app_cors(sl_app *app)
{
    static const sl_cors cfg = {
        .allow_origins = demo_origins, .allow_methods = get_post,
        .allow_headers = ctype_only, .allow_credentials = true, .max_age = 600,
        .preflight_status = 204, .expose_headers = expose,
    };
    int rc = app_common(app);
    if (rc == 0)
        rc = sl_timing_add(app);
    return rc ? rc : sl_cors_add(app, &cfg);
}

/* Starlette's defaults with any origin: GET only, 200 "OK" preflights. */
static int app_cors_any(sl_app *app)
{
    static const sl_cors cfg = { .allow_origins = any, .allow_headers = any };
    int rc = app_common(app);
    return rc ? rc : sl_cors_add(app, &cfg);
}

static int app_hosts(sl_app *app)
{
    static const char *const hosts[] = {"example.com", "*.example.org", "www.example.net",
                                        NULL};
    int rc = app_common(app);
    return rc ? rc : sl_trusted_hosts_add(app, hosts);
}

static int count_headers(const sl_test_resp *r, const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < sl_test_header_count(r); i++) {
        const char *name, *value;
        sl_test_header_at(r, i, &name, &value);
        n += strncasecmp(name, prefix, strlen(prefix)) == 0;
    }
    return n;
}

START_TEST(test_cors_preflight)
{
    start(app_cors);
    static const char *const ok[] = {"Origin: http://app.example",
                                     "Access-Control-Request-Method: POST",
                                     "Access-Control-Request-Headers: content-type", NULL};
    sl_test_resp *r = sl_test_request(t, "OPTIONS", "/items/5", ok, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 204);
    ck_assert_str_eq(trace, "");        /* no route, no handler */
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "http://app.example");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Methods"), "GET, POST");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Headers"),
                     "Accept, Accept-Language, Content-Language, Content-Type");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Credentials"), "true");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Max-Age"), "600");
    ck_assert_str_eq(sl_test_header(r, "Vary"), "Origin");
    ck_assert_ptr_null(sl_test_header(r, "Content-Type"));
    ck_assert_ptr_nonnull(sl_test_header(r, "Server-Timing"));
    size_t len;
    sl_test_body(r, &len);
    ck_assert_int_eq(len, 0);
    /* Also for a path no route has. */
    r = sl_test_request(t, "OPTIONS", "/nowhere", ok, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 204);

    /* Refused: 400 with Starlette's text, no Access-Control-* header. */
    struct { const char *const *h; const char *body; } bad[] = {
        {(const char *const[]){"Origin: http://evil.example",
                               "Access-Control-Request-Method: POST", NULL},
         "Disallowed CORS origin"},
        {(const char *const[]){"Origin: http://app.example",
                               "Access-Control-Request-Method: DELETE", NULL},
         "Disallowed CORS method"},
        {(const char *const[]){"Origin: http://app.example",
                               "Access-Control-Request-Method: GET",
                               "Access-Control-Request-Headers: Content-Type, X-Secret", NULL},
         "Disallowed CORS headers"},
        {(const char *const[]){"Origin: http://app.example.evil",
                               "Access-Control-Request-Method: PUT",
                               "Access-Control-Request-Headers: X-Secret", NULL},
         "Disallowed CORS origin, method, headers"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = sl_test_request(t, "OPTIONS", "/hello", bad[i].h, NULL, 0);
        ck_assert_int_eq(sl_test_status(r), 400);
        ck_assert_str_eq(sl_test_body(r, NULL), bad[i].body);
        ck_assert_int_eq(count_headers(r, "Access-Control-"), 0);
    }
    /* OPTIONS without Access-Control-Request-Method is no preflight: it
     * goes on to routing (405 here) with the simple headers. */
    r = sl_test_request(t, "OPTIONS", "/hello",
                        (const char *const[]){"Origin: http://app.example", NULL}, NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 405);
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "http://app.example");
    teardown();
}
END_TEST

START_TEST(test_cors_simple)
{
    start(app_cors);
    sl_test_resp *r = get("/hello", (const char *const[]){"Origin: http://app.example", NULL});
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(trace, "h ");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "http://app.example");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Credentials"), "true");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Expose-Headers"), "X-Total, X-Page");
    ck_assert_str_eq(sl_test_header(r, "Vary"), "Origin");
    ck_assert_ptr_null(sl_test_header(r, "Access-Control-Allow-Methods"));
    /* On sluice's errors and streamed answers too. */
    r = get("/nowhere", (const char *const[]){"Origin: http://app.example", NULL});
    ck_assert_int_eq(sl_test_status(r), 404);
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "http://app.example");
    r = get("/stream", (const char *const[]){"Origin: http://app.example", NULL});
    ck_assert_str_eq(sl_test_body(r, NULL), "one\ntwo\n");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "http://app.example");
    /* Another origin, or none: no CORS header at all. */
    r = get("/hello", (const char *const[]){"Origin: http://evil.example", NULL});
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_int_eq(count_headers(r, "Access-Control-"), 0);
    ck_assert_ptr_null(sl_test_header(r, "Vary"));
    r = get("/hello", NULL);
    ck_assert_int_eq(count_headers(r, "Access-Control-"), 0);
    teardown();
}
END_TEST

START_TEST(test_cors_any_origin)
{
    start(app_cors_any);
    /* Without credentials: "*", no Vary; a Cookie makes it the origin. */
    sl_test_resp *r = get("/hello", (const char *const[]){"Origin: http://x.example", NULL});
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "*");
    ck_assert_ptr_null(sl_test_header(r, "Vary"));
    ck_assert_ptr_null(sl_test_header(r, "Access-Control-Allow-Credentials"));
    r = get("/hello", (const char *const[]){"Origin: http://x.example", "Cookie: a=1", NULL});
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "http://x.example");
    ck_assert_str_eq(sl_test_header(r, "Vary"), "Origin");
    /* Starlette's preflight: 200 "OK", "*", GET only, headers mirrored. */
    r = sl_test_request(t, "OPTIONS", "/hello",
                        (const char *const[]){"Origin: http://x.example",
                                              "Access-Control-Request-Method: GET",
                                              "Access-Control-Request-Headers: X-A, X-B", NULL},
                        NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_body(r, NULL), "OK");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Origin"), "*");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Methods"), "GET");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Allow-Headers"), "X-A, X-B");
    ck_assert_str_eq(sl_test_header(r, "Access-Control-Max-Age"), "600");
    r = sl_test_request(t, "OPTIONS", "/hello",
                        (const char *const[]){"Origin: http://x.example",
                                              "Access-Control-Request-Method: POST", NULL},
                        NULL, 0);
    ck_assert_int_eq(sl_test_status(r), 400);
    ck_assert_str_eq(sl_test_body(r, NULL), "Disallowed CORS method");
    teardown();
}
END_TEST

static int bad_cors(sl_app *app)
{
    static const char *const empty[] = {"", NULL};
    static const char *const ctl[] = {"http://a\r\nX: y", NULL};
    sl_cors c = { .allow_origins = empty };
    ck_assert_int_eq(sl_cors_add(app, &c), -EINVAL);
    c.allow_origins = ctl;
    ck_assert_int_eq(sl_cors_add(app, &c), -EINVAL);
    c.allow_origins = demo_origins;
    c.preflight_status = 201;
    ck_assert_int_eq(sl_cors_add(app, &c), -EINVAL);
    ck_assert_int_eq(sl_cors_add(app, NULL), -EINVAL);
    static const char *const star_mid[] = {"a.*.com", NULL};
    static const char *const star_only[] = {"*example.com", NULL};
    static const char *const none[] = {NULL};
    ck_assert_int_eq(sl_trusted_hosts_add(app, star_mid), -EINVAL);
    ck_assert_int_eq(sl_trusted_hosts_add(app, star_only), -EINVAL);
    ck_assert_int_eq(sl_trusted_hosts_add(app, none), -EINVAL);
    ck_assert_int_eq(sl_trusted_hosts_add(app, empty), -EINVAL);
    return app_common(app);
}

START_TEST(test_stock_refusals)
{
    start(bad_cors);
    ck_assert_int_eq(sl_test_status(get("/hello", NULL)), 200);
    teardown();
}
END_TEST

START_TEST(test_trusted_hosts)
{
    start(app_hosts);
    struct { const char *host; int status; } cases[] = {
        {"Host: example.com", 200}, {"Host: EXAMPLE.com:8080", 200},
        {"Host: api.example.org", 200}, {"Host: a.b.example.org", 200},
        {"Host: example.org", 400}, {"Host: evil.com", 400}, {"Host: notexample.com", 400},
        {"Host: www.example.net", 200}, {"Host: example.net:8443", 307},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_test_resp *r = get("/items/1?x=1", (const char *const[]){cases[i].host, NULL});
        ck_assert_msg(sl_test_status(r) == cases[i].status, "%s: %d", cases[i].host,
                      sl_test_status(r));
        if (cases[i].status == 400) {
            ck_assert_str_eq(sl_test_body(r, NULL), "Invalid host header");
            ck_assert_str_eq(trace, "");
        }
    }
    /* www_redirect keeps the port, path and query (nginx's $host has no
     * port: the test client sends it so). */
    sl_test_resp *r = get("/items/1?x=1", (const char *const[]){"Host: example.net", NULL});
    ck_assert_int_eq(sl_test_status(r), 307);
    ck_assert_str_eq(sl_test_header(r, "Location"), "http://www.example.net/items/1?x=1");
    /* Before routing: an unknown path from a bad host is a 400, not 404. */
    r = get("/nowhere", (const char *const[]){"Host: evil.com", NULL});
    ck_assert_int_eq(sl_test_status(r), 400);
    /* No Host header: the test client's server name, not allowed. */
    ck_assert_int_eq(sl_test_status(get("/hello", NULL)), 400);
    teardown();
}
END_TEST

START_TEST(test_timing)
{
    start(app_cors);
    sl_test_resp *r = get("/later", NULL);
    ck_assert_int_eq(sl_test_status(r), 202);
    const char *v = sl_test_header(r, "Server-Timing");
    ck_assert_ptr_nonnull(v);
    unsigned ms = 0, frac = 0;
    ck_assert_int_eq(sscanf(v, "app;dur=%u.%3u", &ms, &frac), 2);
    ck_assert_uint_ge(ms, 15);      /* the timer's 20 ms */
    ck_assert_uint_lt(ms, 10000);
    r = get("/pool", NULL);
    ck_assert_int_eq(sscanf(sl_test_header(r, "Server-Timing"), "app;dur=%u.%3u", &ms, &frac), 2);
    ck_assert_uint_ge(ms, 15);
    /* sluice's errors are timed too; a streamed answer cannot be. */
    ck_assert_ptr_nonnull(sl_test_header(get("/nowhere", NULL), "Server-Timing"));
    ck_assert_ptr_null(sl_test_header(get("/stream", NULL), "Server-Timing"));
    teardown();
}
END_TEST

static Suite *mw_suite(void)
{
    Suite *s = suite_create("middleware");
    TCase *tc = tcase_create("middleware");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_after_sees_errors);
    tcase_add_test(tc, test_after_later_and_pool);
    tcase_add_test(tc, test_prefix);
    tcase_add_test(tc, test_short_circuit_before_routing);
    tcase_add_test(tc, test_error_format);
    tcase_add_test(tc, test_failures);
    tcase_add_test(tc, test_dependencies);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("stock");
    tcase_set_timeout(ts, 20);
    tcase_add_test(ts, test_cors_preflight);
    tcase_add_test(ts, test_cors_simple);
    tcase_add_test(ts, test_cors_any_origin);
    tcase_add_test(ts, test_stock_refusals);
    tcase_add_test(ts, test_trusted_hosts);
    tcase_add_test(ts, test_timing);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mw_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
