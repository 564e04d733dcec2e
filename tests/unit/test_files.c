/*
 * test_files.c: sl_resp_send_file() through the in-process test client
 * (sluice_test.h): the header nginx or Apache reads, quoted for nginx, no
 * body and no default Content-Type, the refusals; and the demo's
 * /download/{name} from demo.so.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sluice_test.h>

#ifndef DEMO_SO
#error "DEMO_SO: the path of the built demo.so"
#endif

/* ?p= the path, ?how= 1 or 2 (else 0); answers the path's file, or on a
 * refusal a 400 problem with the result as its detail. */
static int send_it(sl_req *req)
{
    const char *how = sl_req_query(req, "how");
    sl_resp_printf(req, "dropped");
    sl_resp_header(req, "Content-Length", "7");
    int rc = sl_resp_send_file(req, sl_req_query(req, "p"), how ? atoi(how) : SL_FILE_ACCEL);
    if (rc < 0) {
        char detail[16];
        snprintf(detail, sizeof detail, "%d", rc);
        return sl_resp_problem(req, 400, detail);
    }
    return SL_OK;
}

/* The handler's own Content-Type and Content-Disposition stay. */
static int typed(sl_req *req)
{
    sl_resp_header(req, "Content-Type", "application/pdf");
    sl_resp_header(req, "Content-Disposition", "attachment; filename=\"r.pdf\"");
    return sl_resp_send_file(req, "/protected/r.pdf", SL_FILE_ACCEL);
}

/* After a flush the head is out: -EALREADY. */
static int late(sl_req *req)
{
    sl_resp_printf(req, "x");
    sl_resp_flush(req);
    int rc = sl_resp_send_file(req, "/protected/a", SL_FILE_ACCEL);
    return sl_resp_printf(req, "%d", rc);
}

static int entry(sl_app *app)
{
    int rc = 0;
    rc |= sl_route(app, "GET", "/send", send_it, SL_LOOP);
    rc |= sl_route(app, "GET", "/typed", typed, SL_POOL);
    rc |= sl_route(app, "GET", "/late", late, SL_LOOP);
    return rc;
}

static sl_test *client(int (*e)(sl_app *))
{
    char err[256];
    sl_test *t = sl_test_new(e, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    return t;
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

static size_t body_len(const sl_test_resp *r)
{
    size_t len = 0;
    sl_test_body(r, &len);
    return len;
}

START_TEST(accel)
{
    sl_test *t = client(entry);
    /* p=/protected/a b?c#d%e&f=é, quoted as nginx decodes it */
    sl_test_resp *r = sl_test_get(t, "/send?p=%2Fprotected%2Fa%20b%3Fc%23d%25e%26f%3D%C3%A9");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_header(r, "X-Accel-Redirect"), "/protected/a%20b%3Fc%23d%25e&f=%C3%A9");
    ck_assert_uint_eq(count_headers(r, "X-Accel-Redirect"), 1);
    ck_assert_ptr_null(sl_test_header(r, "X-Sendfile"));
    /* no body, and no type: nginx picks the file's */
    ck_assert_uint_eq(body_len(r), 0);
    ck_assert_ptr_null(sl_test_header(r, "Content-Type"));
    ck_assert_uint_eq(count_headers(r, "Content-Length"), 1);
    ck_assert_str_eq(sl_test_header(r, "Content-Length"), "0");
    sl_test_free(t);
}
END_TEST

START_TEST(sendfile)
{
    sl_test *t = client(entry);
    /* a file system path goes as it is */
    sl_test_resp *r = sl_test_get(t, "/send?how=2&p=%2Fsrv%2Ff%20%C3%A9%3F.txt");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_header(r, "X-Sendfile"), "/srv/f \xc3\xa9?.txt");
    ck_assert_ptr_null(sl_test_header(r, "X-Accel-Redirect"));
    ck_assert_uint_eq(body_len(r), 0);
    ck_assert_ptr_null(sl_test_header(r, "Content-Type"));
    sl_test_free(t);
}
END_TEST

START_TEST(kept_headers)
{
    sl_test *t = client(entry);
    sl_test_resp *r = sl_test_get(t, "/typed");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_header(r, "X-Accel-Redirect"), "/protected/r.pdf");
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/pdf");
    ck_assert_str_eq(sl_test_header(r, "Content-Disposition"), "attachment; filename=\"r.pdf\"");
    ck_assert_uint_eq(body_len(r), 0);
    sl_test_free(t);
}
END_TEST

START_TEST(refusals)
{
    static const char *const bad[] = {
        "/send",                                    /* NULL */
        "/send?p=",                                 /* empty */
        "/send?p=protected%2Fa",                    /* not absolute */
        "/send?p=%2Fprotected%2Fa%0D%0AX-B%3A%201", /* CR LF */
        "/send?p=%2Fprotected%2Fa%09b",             /* HTAB: a control byte too */
        "/send?p=%2Fprotected%2F..%2Fetc%2Fpasswd", /* a ".." segment */
        "/send?p=%2Fprotected%2F..",
        "/send?how=2&p=%2Fsrv%2F..%2Fetc",
        "/send?how=2&p=srv%2Ff",
        "/send?how=3&p=%2Fprotected%2Fa",           /* another how */
        "/send?how=0&p=%2Fprotected%2Fa",
    };
    sl_test *t = client(entry);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_test_resp *r = sl_test_get(t, bad[i]);
        ck_assert_msg(sl_test_status(r) == 400, "%s: %d", bad[i], sl_test_status(r));
        ck_assert_msg(strstr(sl_test_body(r, NULL), "\"detail\":\"-22\"") != NULL, "%s: %s",
                      bad[i], (const char *)sl_test_body(r, NULL));
        ck_assert_ptr_null(sl_test_header(r, "X-Accel-Redirect"));
        ck_assert_ptr_null(sl_test_header(r, "X-Sendfile"));
    }
    /* ".." inside a name is no segment: "/a..b" and "/...": fine */
    sl_test_resp *r = sl_test_get(t, "/send?p=%2Fp%2Fa..b%2F...");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_header(r, "X-Accel-Redirect"), "/p/a..b/...");
    r = sl_test_get(t, "/late");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_body(r, NULL), "x-114");
    ck_assert_ptr_null(sl_test_header(r, "X-Accel-Redirect"));
    sl_test_free(t);
}
END_TEST

START_TEST(demo_download)
{
    char err[256];
    sl_test *t = sl_test_load(DEMO_SO, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    sl_test_resp *r = sl_test_get(t, "/download/a.txt");
    ck_assert_int_eq(sl_test_status(r), 200);
    ck_assert_str_eq(sl_test_header(r, "X-Accel-Redirect"), "/protected/a.txt");
    ck_assert_uint_eq(body_len(r), 0);
    r = sl_test_get(t, "/download/a%20b%3F.txt");
    ck_assert_str_eq(sl_test_header(r, "X-Accel-Redirect"), "/protected/a%20b%3F.txt");
    /* not one plain segment: 404, nothing for nginx to send */
    static const char *const bad[] = {"/download/..", "/download/%2e%2e", "/download/.",
                                      "/download/a%2Fb", "/download/..%2Fsluice.conf",
                                      "/download/a%5Cb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = sl_test_get(t, bad[i]);
        ck_assert_msg(sl_test_status(r) == 404, "%s: %d", bad[i], sl_test_status(r));
        ck_assert_ptr_null(sl_test_header(r, "X-Accel-Redirect"));
    }
    sl_test_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("files");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, accel);
    tcase_add_test(tc, sendfile);
    tcase_add_test(tc, kept_headers);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, demo_download);
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
