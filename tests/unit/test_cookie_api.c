/*
 * test_cookie_api.c: cookies, signed cookies, sessions, set-or-replace
 * headers, redirects and handlers' log lines through the in-process test
 * client (sluice_test.h), and the demo's /cookie routes from demo.so.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sluice_test.h>

#ifndef DEMO_SO
#error "DEMO_SO: the path of the built demo.so"
#endif

/* ---- the test's application -------------------------------------------- */

static int answer(sl_req *req, const char *key, json_object *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, key, v);
    return sl_resp_json(req, o);
}

/* {"v": the cookie named by ?name=, or null} */
static int cookie_get(sl_req *req)
{
    const char *v = sl_req_cookie(req, sl_req_query(req, "name"));
    return answer(req, "v", v ? json_object_new_string(v) : NULL);
}

/* Sets cookies with sl_resp_set_cookie; answers each result. */
static int cookie_set(sl_req *req)
{
    json_object *a = json_object_new_array();
    sl_cookie o = {.max_age = 60, .httponly = true, .samesite = SL_SAMESITE_STRICT};
    json_object_array_add(a, json_object_new_int(sl_resp_set_cookie(req, "a", "1", &o)));
    json_object_array_add(a, json_object_new_int(sl_resp_set_cookie(req, "b", "x y", NULL)));
    json_object_array_add(a, json_object_new_int(sl_resp_set_cookie(req, "c d", "1", NULL)));
    json_object_array_add(a, json_object_new_int(sl_resp_delete_cookie(req, "old", NULL)));
    return answer(req, "rc", a);
}

static int signed_set(sl_req *req)
{
    int rc = sl_resp_set_signed_cookie(req, "s", sl_req_query(req, "v"), NULL);
    return answer(req, "rc", json_object_new_int(rc));
}

/* 200 {"v":...} or 401 {"rc":...} */
static int signed_get(sl_req *req)
{
    const char *v;
    int rc = sl_req_signed_cookie(req, "s", &v);
    if (rc < 0) {
        sl_resp_status(req, 401);
        return answer(req, "rc", json_object_new_int(rc));
    }
    return answer(req, "v", json_object_new_string(v));
}

/* A counter in the session; ?big=N adds a string of N bytes, ?clear=1
 * empties it.  Answers {"n":..., "rc": sl_session_save's}. */
static int session(sl_req *req)
{
    json_object *s = sl_session(req, "sess");
    if (s == NULL)
        return -EINVAL;
    /* one session per request: another name is refused, the same one kept */
    if (sl_session(req, "other") != NULL || sl_session(req, "sess") != s)
        return -EINVAL;
    json_object *n = NULL;
    int64_t count = json_object_object_get_ex(s, "n", &n) ? json_object_get_int64(n) : 0;
    json_object_object_add(s, "n", json_object_new_int64(count + 1));
    const char *big = sl_req_query(req, "big");
    if (big != NULL) {
        size_t len = (size_t)atoi(big);
        char *text = malloc(len + 1);
        memset(text, 'x', len);
        text[len] = '\0';
        json_object_object_add(s, "big", json_object_new_string(text));
        free(text);
    }
    if (sl_req_query(req, "clear") != NULL)
        json_object_object_del(s, "n");
    int rc = sl_session_save(req, NULL);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "n", json_object_new_int64(count + 1));
    json_object_object_add(o, "rc", json_object_new_int(rc));
    return sl_resp_json(req, o);
}

/* sl_resp_json() then a Content-Type of the handler's: sent once. */
static int json_then_type(sl_req *req)
{
    json_object *o = json_object_new_object();
    int rc = sl_resp_json(req, o);
    if (rc == 0)
        rc = sl_resp_header(req, "Content-Type", "application/vnd.x+json");
    return rc;
}

static int set_header(sl_req *req)
{
    sl_resp_header(req, "X-A", "1");
    sl_resp_header(req, "x-a", "2");
    sl_resp_header(req, "X-B", "1");
    int rc = sl_resp_set_header(req, "X-A", "3");
    return rc == 0 ? sl_resp_printf(req, "ok") : rc;
}

/* A value sl_resp_header() refuses, sl_resp_set_header() refuses too. */
static int set_header_bad(sl_req *req)
{
    sl_resp_header(req, "X-B", "1");
    return sl_resp_set_header(req, "X-B", "bad\r\nX-C: 1") == -EINVAL ? SL_OK : -EIO;
}

static int set_type(sl_req *req)
{
    sl_resp_printf(req, "<p>hi</p>");
    sl_resp_header(req, "Content-Type", "text/plain");
    return sl_resp_set_header(req, "content-type", "text/html; charset=utf-8");
}

static int redirect(sl_req *req)
{
    int64_t code = 0;
    sl_req_path_int(req, "code", &code);
    sl_resp_printf(req, "dropped");
    int rc = sl_resp_redirect(req, (int)code, "/to?q=a b&x=\xc3\xa9\r\n");
    if (rc == -EINVAL) {
        sl_resp_status(req, 400);
        return sl_resp_printf(req, "refused");
    }
    return rc;
}

static int created(sl_req *req)
{
    int rc = sl_resp_created(req, "/items/7");
    return rc == 0 ? answer(req, "id", json_object_new_int(7)) : rc;
}

static int logs(sl_req *req)
{
    int rc = sl_req_log(req, SL_LEVEL_WARN, "user %s failed\nforged line \"%s\"", "ann", "x");
    if (rc == 0)
        rc = sl_req_log(req, SL_LEVEL_DEBUG, "not shown at info");
    if (rc == 0 && sl_req_log(req, 9, "bad level") != -EINVAL)
        rc = -EIO;
    if (rc == 0)
        rc = sl_app_log(sl_req_app(req), SL_LEVEL_ERROR, "app-wide %d", 42);
    return rc == 0 ? sl_resp_printf(req, "logged") : rc;
}

static int entry(sl_app *app)
{
    int rc = 0;
    rc |= sl_route(app, "GET", "/c/get", cookie_get, SL_LOOP);
    rc |= sl_route(app, "GET", "/c/set", cookie_set, SL_LOOP);
    rc |= sl_route(app, "GET", "/s/set", signed_set, SL_POOL);
    rc |= sl_route(app, "GET", "/s/get", signed_get, SL_POOL);
    rc |= sl_route(app, "GET", "/session", session, SL_LOOP);
    rc |= sl_route(app, "GET", "/h/json-type", json_then_type, SL_LOOP);
    rc |= sl_route(app, "GET", "/h/set", set_header, SL_LOOP);
    rc |= sl_route(app, "GET", "/h/type", set_type, SL_LOOP);
    rc |= sl_route(app, "GET", "/h/bad", set_header_bad, SL_LOOP);
    rc |= sl_route(app, "GET", "/r/{code:int}", redirect, SL_LOOP);
    rc |= sl_route(app, "POST", "/created", created, SL_LOOP);
    rc |= sl_route(app, "GET", "/log", logs, SL_POOL);
    return rc;
}

/* The same app with a secret of its own. */
static int entry_keyed(sl_app *app)
{
    int rc = sl_app_set_secret(app, "0123456789abcdef0123456789abcdef", 32);
    return rc == 0 ? entry(app) : rc;
}

/* ---- helpers ------------------------------------------------------------ */

static sl_test *client(int (*e)(sl_app *))
{
    char err[256];
    sl_test *t = sl_test_new(e, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    return t;
}

static sl_test_resp *get_with(sl_test *t, const char *target, const char *header)
{
    const char *const h[] = {header, NULL};
    return sl_test_request(t, "GET", target, header ? h : NULL, NULL, 0);
}

/* The n-th Set-Cookie's value, or NULL. */
static const char *set_cookie(const sl_test_resp *r, size_t n)
{
    for (size_t i = 0; i < sl_test_header_count(r); i++) {
        const char *name, *value;
        sl_test_header_at(r, i, &name, &value);
        if (strcasecmp(name, "Set-Cookie") == 0 && n-- == 0)
            return value;
    }
    return NULL;
}

static size_t count_headers(const sl_test_resp *r, const char *want)
{
    size_t k = 0;
    for (size_t i = 0; i < sl_test_header_count(r); i++) {
        const char *name, *value;
        sl_test_header_at(r, i, &name, &value);
        k += strcasecmp(name, want) == 0;
    }
    return k;
}

/* "Cookie: name=value" from a Set-Cookie line (up to its first ';'). */
static void cookie_from(char *out, size_t size, const char *set)
{
    size_t n = strcspn(set, ";");
    snprintf(out, size, "Cookie: %.*s", (int)n, set);
}

static const char *json_str(sl_test_resp *r, const char *key)
{
    json_object *o = sl_test_json(r), *v;
    ck_assert_msg(o != NULL, "not JSON: %s", (const char *)sl_test_body(r, NULL));
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static int json_int(sl_test_resp *r, const char *key)
{
    json_object *o = sl_test_json(r), *v;
    ck_assert_msg(o != NULL && json_object_object_get_ex(o, key, &v), "no %s: %s", key,
                  (const char *)sl_test_body(r, NULL));
    return json_object_get_int(v);
}

/* ---- cookies ------------------------------------------------------------ */

START_TEST(read_cookies)
{
    sl_test *t = client(entry);
    sl_test_resp *r = get_with(t, "/c/get?name=b", "Cookie: a=1; b=\"x y\"; c=3");
    ck_assert_str_eq(json_str(r, "v"), "x y");
    /* a name sent twice: its last value, as Starlette */
    r = get_with(t, "/c/get?name=a", "Cookie: a=1; b=2; a=3");
    ck_assert_str_eq(json_str(r, "v"), "3");
    r = get_with(t, "/c/get?name=z", "Cookie: a=1");
    ck_assert_ptr_null(json_str(r, "v"));
    r = get_with(t, "/c/get?name=a", NULL);
    ck_assert_ptr_null(json_str(r, "v"));
    sl_test_free(t);
}
END_TEST

START_TEST(write_cookies)
{
    sl_test *t = client(entry);
    sl_test_resp *r = sl_test_get(t, "/c/set");
    ck_assert_int_eq(sl_test_status(r), 200);
    json_object *rc = json_object_object_get(sl_test_json(r), "rc");
    ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(rc, 0)), 0);
    ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(rc, 1)), -EINVAL);
    ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(rc, 2)), -EINVAL);
    ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(rc, 3)), 0);
    /* the refused ones add nothing */
    ck_assert_uint_eq(count_headers(r, "Set-Cookie"), 2);
    ck_assert_str_eq(set_cookie(r, 0), "a=1; Max-Age=60; Path=/; HttpOnly; SameSite=Strict");
    ck_assert_str_eq(set_cookie(r, 1), "old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                                       "Max-Age=0; Path=/; SameSite=Lax");
    sl_test_free(t);
}
END_TEST

/* ---- signed cookies ----------------------------------------------------- */

START_TEST(signed_round_trip)
{
    sl_test *t = client(entry);
    sl_test_resp *r = sl_test_get(t, "/s/set?v=caf%C3%A9%20%22x%22%3B%20y");
    ck_assert_int_eq(json_int(r, "rc"), 0);
    const char *set = set_cookie(r, 0);
    ck_assert_ptr_nonnull(set);
    char cookie[512];
    cookie_from(cookie, sizeof cookie, set);
    r = get_with(t, "/s/get", cookie);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(json_str(r, "v"), "caf\xc3\xa9 \"x\"; y");

    /* absent, tampered value, tampered MAC, cut, unsigned */
    r = sl_test_get(t, "/s/get");
    ck_assert_int_eq(sl_test_status(r), 401);
    ck_assert_int_eq(json_int(r, "rc"), -ENOENT);
    char bad[512];
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[strlen("Cookie: s=")] ^= 1;
    r = get_with(t, "/s/get", bad);
    ck_assert_int_eq(json_int(r, "rc"), -EBADMSG);
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
    r = get_with(t, "/s/get", bad);
    ck_assert_int_eq(json_int(r, "rc"), -EBADMSG);
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[strlen(bad) - 1] = '\0';
    r = get_with(t, "/s/get", bad);
    ck_assert_int_eq(json_int(r, "rc"), -EBADMSG);
    r = get_with(t, "/s/get", "Cookie: s=hello");
    ck_assert_int_eq(json_int(r, "rc"), -EBADMSG);

    /* another client, another random secret: refused there */
    sl_test *t2 = client(entry);
    r = get_with(t2, "/s/get", cookie);
    ck_assert_int_eq(sl_test_status(r), 401);
    ck_assert_int_eq(json_int(r, "rc"), -EBADMSG);
    sl_test_free(t2);
    sl_test_free(t);
}
END_TEST

/* sl_app_set_secret(): two clients of one key verify each other's. */
START_TEST(signed_app_secret)
{
    sl_test *a = client(entry_keyed), *b = client(entry_keyed);
    sl_test_resp *r = sl_test_get(a, "/s/set?v=ann");
    char cookie[512];
    cookie_from(cookie, sizeof cookie, set_cookie(r, 0));
    r = get_with(b, "/s/get", cookie);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(json_str(r, "v"), "ann");
    sl_test_free(a);
    sl_test_free(b);
}
END_TEST

/* ---- sessions ----------------------------------------------------------- */

START_TEST(sessions)
{
    sl_test *t = client(entry);
    sl_test_resp *r = sl_test_get(t, "/session");
    ck_assert_int_eq(json_int(r, "n"), 1);
    ck_assert_int_eq(json_int(r, "rc"), 0);
    const char *set = set_cookie(r, 0);
    ck_assert_ptr_nonnull(set);
    ck_assert_msg(strstr(set, "; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax") != NULL,
                  "%s", set);
    char cookie[4200];
    cookie_from(cookie, sizeof cookie, set);
    for (int i = 2; i <= 4; i++) {
        r = get_with(t, "/session", cookie);
        ck_assert_int_eq(json_int(r, "n"), i);
        cookie_from(cookie, sizeof cookie, set_cookie(r, 0));
    }
    /* a tampered session starts anew */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[strlen("Cookie: sess=") + 2] ^= 1;
    r = get_with(t, "/session", bad);
    ck_assert_int_eq(json_int(r, "n"), 1);

    /* the size limit: refused with -EMSGSIZE, nothing set, the old one
     * still good */
    r = get_with(t, "/session?big=2900", cookie);
    ck_assert_int_eq(json_int(r, "rc"), 0);
    ck_assert_uint_le(strlen(set_cookie(r, 0)), 4096);
    r = get_with(t, "/session?big=3100", cookie);
    ck_assert_int_eq(json_int(r, "rc"), -EMSGSIZE);
    ck_assert_ptr_null(set_cookie(r, 0));
    r = get_with(t, "/session", cookie);
    ck_assert_int_eq(json_int(r, "n"), 5);

    /* emptied: the cookie is deleted; with no cookie, nothing is sent */
    r = get_with(t, "/session?clear=1", cookie);
    ck_assert_int_eq(json_int(r, "rc"), 0);
    set = set_cookie(r, 0);
    ck_assert_ptr_nonnull(set);
    ck_assert_msg(strncmp(set, "sess=; Expires=Thu, 01 Jan 1970", 31) == 0, "%s", set);
    r = sl_test_get(t, "/session?clear=1");
    ck_assert_ptr_null(set_cookie(r, 0));
    sl_test_free(t);
}
END_TEST

/* ---- headers and redirects ---------------------------------------------- */

START_TEST(content_type_once)
{
    sl_test *t = client(entry);
    sl_test_resp *r = sl_test_get(t, "/h/json-type");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_uint_eq(count_headers(r, "Content-Type"), 1);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/vnd.x+json");
    r = sl_test_get(t, "/h/type");
    ck_assert_uint_eq(count_headers(r, "Content-Type"), 1);
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "text/html; charset=utf-8");
    sl_test_free(t);
}
END_TEST

START_TEST(set_or_replace)
{
    sl_test *t = client(entry);
    sl_test_resp *r = sl_test_get(t, "/h/set");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_uint_eq(count_headers(r, "X-A"), 1);
    ck_assert_str_eq(sl_test_header(r, "X-A"), "3");
    ck_assert_str_eq(sl_test_header(r, "X-B"), "1");
    /* a refused value ends the answer as a 500, as sl_resp_header's do */
    r = sl_test_get(t, "/h/bad");
    ck_assert_int_eq(sl_test_status(r), 500);
    ck_assert_ptr_null(sl_test_header(r, "X-C"));
    sl_test_free(t);
}
END_TEST

START_TEST(redirects)
{
    sl_test *t = client(entry);
    const int codes[] = {0, 301, 302, 303, 307, 308};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char target[32];
        snprintf(target, sizeof target, "/r/%d", codes[i]);
        sl_test_resp *r = sl_test_get(t, target);
        ck_assert_int_eq(sl_test_status(r), codes[i] ? codes[i] : 307);
        /* quoted as Starlette's RedirectResponse */
        ck_assert_str_eq(sl_test_header(r, "Location"), "/to?q=a%20b&x=%C3%A9%0D%0A");
        ck_assert_uint_eq(count_headers(r, "Location"), 1);
        size_t len;
        sl_test_body(r, &len);
        ck_assert_uint_eq(len, 0);
    }
    sl_test_resp *r = sl_test_get(t, "/r/200");
    ck_assert_int_eq(sl_test_status(r), 400);
    ck_assert_ptr_null(sl_test_header(r, "Location"));
    r = sl_test_request(t, "POST", "/created", NULL, "", 0);
    ck_assert_int_eq(sl_test_status(r), 201);
    ck_assert_str_eq(sl_test_header(r, "Location"), "/items/7");
    ck_assert_int_eq(json_int(r, "id"), 7);
    sl_test_free(t);
}
END_TEST

/* ---- logging ------------------------------------------------------------ */

START_TEST(handler_logs)
{
    sl_test *t = client(entry);
    char path[] = "/tmp/sluice-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    sl_test_resp *r = sl_test_get(t, "/log");
    dup2(saved, STDERR_FILENO);
    close(saved);
    ck_assert_int_eq(sl_test_status(r), 200);
    const char *id = sl_test_header(r, "X-Request-ID");
    ck_assert_ptr_nonnull(id);
    char text[4096] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    ck_assert_int_gt(n, 0);
    text[n] = '\0';
    char want[256];
    snprintf(want, sizeof want,
             " warn: app (id %s): user ann failed\\x0aforged line \\x22x\\x22\n", id);
    ck_assert_msg(strstr(text, want) != NULL, "no line ending '%s' in:\n%s", want, text);
    char pid[32];
    snprintf(pid, sizeof pid, "sluice[%ld] ", (long)getpid());
    ck_assert_msg(strstr(text, pid) != NULL, "no %s in:\n%s", pid, text);
    ck_assert_msg(strstr(text, " error: app: app-wide 42\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "not shown") == NULL, "%s", text);
    ck_assert_msg(strstr(text, "bad level") == NULL, "%s", text);
    /* one line each: the newline in the message did not end one */
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    sl_test_free(t);
}
END_TEST

/* ---- the demo ----------------------------------------------------------- */

START_TEST(demo_cookie)
{
    char err[256];
    sl_test *t = sl_test_load(DEMO_SO, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    sl_test_resp *r = sl_test_get(t, "/cookie/set?v=hello%20world");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(json_str(r, "v"), "hello world");
    const char *set = set_cookie(r, 0);
    ck_assert_ptr_nonnull(set);
    ck_assert_msg(strncmp(set, "demo=", 5) == 0, "%s", set);
    ck_assert_msg(strstr(set, "; Path=/; HttpOnly; SameSite=Lax") != NULL, "%s", set);
    char cookie[512];
    cookie_from(cookie, sizeof cookie, set);
    r = get_with(t, "/cookie/get", cookie);
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_body(r, NULL), "{\"v\":\"hello world\"}");
    r = sl_test_get(t, "/cookie/get");
    ck_assert_int_eq(sl_test_status(r), 401);
    cookie[strlen(cookie) - 2] ^= 1;
    r = get_with(t, "/cookie/get", cookie);
    ck_assert_int_eq(sl_test_status(r), 401);
    /* v is required: the declared route's 422 */
    r = sl_test_get(t, "/cookie/set");
    ck_assert_int_eq(sl_test_status(r), 422);
    sl_test_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cookie_api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, read_cookies);
    tcase_add_test(tc, write_cookies);
    tcase_add_test(tc, signed_round_trip);
    tcase_add_test(tc, signed_app_secret);
    tcase_add_test(tc, sessions);
    tcase_add_test(tc, content_type_once);
    tcase_add_test(tc, set_or_replace);
    tcase_add_test(tc, redirects);
    tcase_add_test(tc, handler_logs);
    tcase_add_test(tc, demo_cookie);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
