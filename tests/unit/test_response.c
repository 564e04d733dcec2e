/*
 * test_response.c: unit tests for building and encoding a response
 * (src/api/response.c): the head and the body for FastCGI and SCGI,
 * statuses, headers, the Content-Length rules, answers past one record's
 * 64 KiB, a flush then the final part, and a problem answer encoded with
 * or without a request.  No worker: a test host takes what is flushed.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fastcgi.h>
#include "api/request.h"
#include "fcgi_rec.h"

static sl_req *req;

static void setup(void)
{
    req = malloc(sizeof *req);
    ck_assert_ptr_nonnull(req);
    sl_req_init(req);
    req->proto = SL_PROTO_FASTCGI;
    req->id = 7;
}

static void teardown(void)
{
    sl_req_destroy(req);
    free(req);
    req = NULL;
}

/* The final encoding of `req` for FastCGI: its STDOUT bytes as a string
 * (the caller frees it), checked to end with END_REQUEST, complete. */
static char *final_fcgi(void)
{
    sl_buf out, so;
    sl_buf_init(&out);
    sl_buf_init(&so);
    ck_assert_int_eq(sl_resp_encode(req, &out, 1), 0);
    int pstatus = -1;
    size_t used = 0;
    ck_assert_int_eq(fcgi_rec_answer(out.data, out.len, req->id, &so, &pstatus, &used), 1);
    ck_assert_uint_eq(used, out.len);       /* nothing after END_REQUEST */
    ck_assert_int_eq(pstatus, FCGI_REQUEST_COMPLETE);
    sl_buf_append(&so, "", 1);
    sl_buf_free(&out);
    return so.data;
}

/* The final encoding for SCGI: the bytes as they are. */
static char *final_scgi(void)
{
    sl_buf out;
    sl_buf_init(&out);
    req->proto = SL_PROTO_SCGI;
    ck_assert_int_eq(sl_resp_encode(req, &out, 1), 0);
    sl_buf_append(&out, "", 1);
    return out.data;
}

/* ---- the head ------------------------------------------------------------ */

START_TEST(test_default_answer)
{
    memcpy(req->request_id, "abc-1", 6);
    ck_assert_int_eq(sl_resp_write(req, "hi", 2), 0);
    char *s = final_fcgi();
    ck_assert_str_eq(s, "Status: 200 OK\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: 2\r\n"
                        "X-Request-ID: abc-1\r\n"
                        "\r\n"
                        "hi");
    free(s);
    ck_assert_int_eq(req->head_sent, 1);
    ck_assert_uint_eq(req->bytes_out, 2);
    ck_assert_uint_eq(req->out.len, 0);
}
END_TEST

START_TEST(test_scgi_answer)
{
    ck_assert_int_eq(sl_resp_status(req, 201), 0);
    ck_assert_int_eq(sl_resp_header(req, "Location", "/items/1"), 0);
    ck_assert_int_eq(sl_resp_printf(req, "%d item%s", 1, ""), 0);
    char *s = final_scgi();
    ck_assert_str_eq(s, "Status: 201 Created\r\n"
                        "Location: /items/1\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: 6\r\n"
                        "\r\n"
                        "1 item");
    free(s);
}
END_TEST

START_TEST(test_statuses)
{
    static const struct { int status; const char *line; } known[] = {
        {404, "Status: 404 Not Found\r\n"},
        {418, "Status: 418 I'm a teapot\r\n"},
        {503, "Status: 503 Service Unavailable\r\n"},
        {599, "Status: 599 \r\n"},          /* no standard phrase */
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        sl_req_reset(req);
        req->proto = SL_PROTO_FASTCGI;
        req->id = 7;
        ck_assert_int_eq(sl_resp_status(req, known[i].status), 0);
        char *s = final_fcgi();
        ck_assert_msg(strncmp(s, known[i].line, strlen(known[i].line)) == 0, "%s", s);
        ck_assert_ptr_nonnull(strstr(s, "Content-Length: 0\r\n"));
        free(s);
    }
}
END_TEST

/* 1xx is interim, not an answer; past 599 is no status: both refused, and
 * the response is marked to end as a 500. */
START_TEST(test_status_refused)
{
    ck_assert_int_eq(sl_resp_status(req, 100), -EINVAL);
    ck_assert_int_eq(req->status, 200);
    ck_assert_ptr_nonnull(req->resp_error);
    ck_assert_int_eq(sl_resp_status(req, 600), -EINVAL);
    ck_assert_int_eq(sl_resp_status(req, 199), -EINVAL);
    ck_assert_int_eq(sl_resp_status(req, 200), 0);
}
END_TEST

/* 204 and 304 have no body: no Content-Type by default, no length. */
START_TEST(test_no_body_statuses)
{
    int st[] = {204, 304};
    for (int i = 0; i < 2; i++) {
        sl_req_reset(req);
        req->proto = SL_PROTO_FASTCGI;
        req->id = 7;
        ck_assert_int_eq(sl_resp_status(req, st[i]), 0);
        char *s = final_fcgi();
        ck_assert_ptr_null(strstr(s, "Content-Type"));
        ck_assert_ptr_null(strstr(s, "Content-Length"));
        ck_assert(strstr(s, "\r\n\r\n") != NULL && strstr(s, "\r\n\r\n")[4] == '\0');
        free(s);
    }
}
END_TEST

/* ---- headers -------------------------------------------------------------- */

START_TEST(test_content_headers_replace)
{
    ck_assert_int_eq(sl_resp_header(req, "Content-Type", "text/html"), 0);
    ck_assert_int_eq(sl_resp_header(req, "X-A", "1"), 0);
    ck_assert_int_eq(sl_resp_header(req, "content-type", "image/png"), 0);
    ck_assert_int_eq(sl_resp_header(req, "Content-Length", "3"), 0);
    ck_assert_int_eq(sl_resp_header(req, "Content-Length", "4"), 0);
    ck_assert_int_eq(sl_resp_write(req, "abcd", 4), 0);
    char *s = final_fcgi();
    ck_assert_str_eq(s, "Status: 200 OK\r\n"
                        "X-A: 1\r\n"
                        "content-type: image/png\r\n"
                        "Content-Length: 4\r\n"
                        "\r\n"
                        "abcd");
    free(s);
}
END_TEST

START_TEST(test_headers_refused)
{
    ck_assert_int_eq(sl_resp_header(req, "Bad Name", "x"), -EINVAL);
    ck_assert_int_eq(sl_resp_header(req, "X-A", "a\r\nX-B: b"), -EINVAL);
    ck_assert_int_eq(sl_resp_header(req, "X-A", "nul\x01"), -EINVAL);
    ck_assert_int_eq(sl_resp_header(req, "Status", "404"), -EINVAL);
    ck_assert_int_eq(sl_resp_header(req, "", "x"), -EINVAL);
    ck_assert_int_eq(sl_resp_header(req, NULL, "x"), -EINVAL);
    ck_assert_ptr_nonnull(req->resp_error);
    ck_assert_uint_eq(req->headers.len, 0);
    /* A tab and bytes past ASCII are field content. */
    ck_assert_int_eq(sl_resp_header(req, "X-T", "a\tb \xc3\xa9"), 0);
}
END_TEST

/* A name is a token (RFC 9110 5.6.2): every byte but NUL tried in one. */
START_TEST(test_header_name_bytes)
{
    for (int c = 1; c < 256; c++) {
        int token = c > ' ' && c < 127 && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
        char name[4] = {'X', (char)c, 'Y', '\0'};
        req->headers.len = 0;
        req->resp_error = NULL;
        ck_assert_msg(sl_resp_header(req, name, "v") == (token ? 0 : -EINVAL),
                      "byte 0x%02x in a name: %s", c, token ? "refused" : "accepted");
    }
}
END_TEST

START_TEST(test_json_and_problem)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "a", json_object_new_string("/x"));
    ck_assert_int_eq(sl_resp_json(req, o), 0);
    ck_assert_int_eq(sl_resp_header(req, "Set-Cookie", "k=v"), 0);
    ck_assert_int_eq(sl_resp_header(req, "Content-Encoding", "gzip"), 0);
    char *s;
    /* A problem replaces the body and what describes it, keeps the rest. */
    ck_assert_int_eq(sl_resp_problem(req, 404, "no such item"), 0);
    s = final_fcgi();
    ck_assert_str_eq(s, "Status: 404 Not Found\r\n"
                        "Set-Cookie: k=v\r\n"
                        "Content-Type: application/problem+json\r\n"
                        "Content-Length: 79\r\n"
                        "\r\n"
                        "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                        "\"detail\":\"no such item\"}");
    free(s);
}
END_TEST

START_TEST(test_printf_long)
{
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(sl_resp_printf(req, "<%s>", big), 0);
    ck_assert_uint_eq(req->out.len, sizeof big + 1);
    ck_assert_int_eq(req->out.data[0], '<');
    ck_assert_int_eq(req->out.data[sizeof big], '>');
}
END_TEST

/* ---- past one record ------------------------------------------------------ */

START_TEST(test_records_over_64k)
{
    size_t n = 200000;
    char *body = malloc(n);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)('a' + i % 26);
    ck_assert_int_eq(sl_resp_write(req, body, n), 0);
    sl_buf out;
    sl_buf_init(&out);
    ck_assert_int_eq(sl_resp_encode(req, &out, 1), 0);
    /* Records of at most 65535 content bytes, each padded to 8. */
    size_t off = 0, used, nstdout = 0;
    fcgi_rec r;
    sl_buf so;
    sl_buf_init(&so);
    int ended = 0;
    while (fcgi_rec_next(out.data + off, out.len - off, &r, &used) == 1) {
        off += used;
        ck_assert_uint_eq(r.id, 7);
        ck_assert_uint_eq((r.clen + r.plen) % 8, 0);
        if (r.type == FCGI_STDOUT && r.clen > 0) {
            nstdout++;
            sl_buf_append(&so, r.content, r.clen);
        } else if (r.type == FCGI_END_REQUEST) {
            ended = 1;
        }
    }
    ck_assert_uint_eq(off, out.len);
    ck_assert(ended);
    ck_assert_uint_ge(nstdout, 4);
    const char *head_end = memmem(so.data, so.len, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(head_end);
    ck_assert_ptr_nonnull(memmem(so.data, (size_t)(head_end - so.data) + 2,
                                 "Content-Length: 200000\r\n", 24));
    size_t hl = (size_t)(head_end - so.data) + 4;
    ck_assert_uint_eq(so.len - hl, n);
    ck_assert_int_eq(memcmp(so.data + hl, body, n), 0);
    sl_buf_free(&so);
    sl_buf_free(&out);
    free(body);
}
END_TEST

/* ---- flushing ---------------------------------------------------------------- */

static sl_buf flushed;
static int nflush, nend;

static int host_flush(sl_req *r, sl_buf *bytes)
{
    (void)r;
    nflush++;
    sl_buf_append(&flushed, bytes->data, bytes->len);
    sl_buf_free(bytes);
    return 0;
}

static int host_end(sl_req *r)
{
    (void)r;
    nend++;
    return 0;
}

static const sl_req_host test_host = {.flush = host_flush, .end = host_end};

START_TEST(test_flush_then_final)
{
    sl_buf_init(&flushed);
    nflush = 0;
    req->host = &test_host;
    ck_assert_int_eq(sl_resp_header(req, "X-Stream", "1"), 0);
    ck_assert_int_eq(sl_resp_write(req, "one\n", 4), 0);
    ck_assert_int_eq(sl_resp_flush(req), 0);
    ck_assert_int_eq(nflush, 1);
    /* The head went with the first part, without a length: the web
     * server frames a streamed body itself.  No end yet. */
    sl_buf so;
    sl_buf_init(&so);
    int pstatus;
    size_t used;
    ck_assert_int_eq(fcgi_rec_answer(flushed.data, flushed.len, 7, &so, &pstatus, &used), 0);
    ck_assert_uint_eq(used, flushed.len);
    sl_buf_append(&so, "", 1);
    ck_assert_str_eq(so.data, "Status: 200 OK\r\n"
                              "X-Stream: 1\r\n"
                              "Content-Type: text/plain; charset=utf-8\r\n"
                              "\r\n"
                              "one\n");
    /* The head is out: status and headers are fixed now. */
    ck_assert_int_eq(sl_resp_status(req, 500), -EALREADY);
    ck_assert_int_eq(sl_resp_header(req, "X-Late", "1"), -EALREADY);
    ck_assert_int_eq(sl_resp_problem(req, 500, NULL), -EALREADY);
    /* Nothing written: a flush sends no record at all. */
    ck_assert_int_eq(sl_resp_flush(req), 0);
    ck_assert_int_eq(nflush, 2);
    ck_assert_uint_eq(flushed.len, used);
    ck_assert_int_eq(sl_resp_write(req, "two\n", 4), 0);
    char *s = final_fcgi();
    ck_assert_str_eq(s, "two\n");
    free(s);
    ck_assert_uint_eq(req->bytes_out, 8);
    sl_buf_free(&so);
    sl_buf_free(&flushed);
}
END_TEST

START_TEST(test_flush_refused)
{
    ck_assert_int_eq(sl_resp_write(req, "x", 1), 0);
    ck_assert_int_eq(sl_resp_flush(req), -ENOTCONN);     /* no host */
    req->host = &test_host;
    nflush = 0;
    ck_assert_int_eq(sl_resp_status(req, 1000), -EINVAL);
    ck_assert_int_eq(sl_resp_flush(req), -EINVAL);       /* it ends as a 500 */
    ck_assert_int_eq(nflush, 0);
    ck_assert_int_eq(req->head_sent, 0);
}
END_TEST

START_TEST(test_end_later)
{
    nend = 0;
    ck_assert_int_eq(sl_resp_end(req), -EINVAL);         /* no host, not later */
    req->host = &test_host;
    ck_assert_int_eq(sl_resp_end(req), -EINVAL);         /* not later */
    req->later = 1;
    ck_assert_int_eq(sl_resp_end(req), 0);
    ck_assert_int_eq(nend, 1);
}
END_TEST

/* ---- a problem answer without a request ----------------------------------- */

static void expect_same_problem(enum sl_proto proto, const char *rid, const char *detail)
{
    sl_buf a, b;
    sl_buf_init(&a);
    sl_buf_init(&b);
    sl_req_reset(req);
    req->proto = proto;
    req->id = 300;
    snprintf(req->request_id, sizeof req->request_id, "%s", rid ? rid : "");
    ck_assert_int_eq(sl_resp_problem(req, 504, detail), 0);
    ck_assert_int_eq(sl_resp_encode(req, &a, 1), 0);
    ck_assert_int_eq(sl_resp_encode_problem(&b, proto, 300, 504, detail, rid), 0);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
    sl_buf_free(&a);
    sl_buf_free(&b);
}

START_TEST(test_encode_problem)
{
    expect_same_problem(SL_PROTO_FASTCGI, "id-1", "the request took longer than --timeout");
    expect_same_problem(SL_PROTO_FASTCGI, NULL, NULL);
    expect_same_problem(SL_PROTO_SCGI, "id-2", "slow");
    expect_same_problem(SL_PROTO_SCGI, "", NULL);
}
END_TEST

static Suite *response_suite(void)
{
    Suite *s = suite_create("response");
    TCase *tc = tcase_create("response");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_default_answer);
    tcase_add_test(tc, test_scgi_answer);
    tcase_add_test(tc, test_statuses);
    tcase_add_test(tc, test_status_refused);
    tcase_add_test(tc, test_no_body_statuses);
    tcase_add_test(tc, test_content_headers_replace);
    tcase_add_test(tc, test_headers_refused);
    tcase_add_test(tc, test_header_name_bytes);
    tcase_add_test(tc, test_json_and_problem);
    tcase_add_test(tc, test_printf_long);
    tcase_add_test(tc, test_records_over_64k);
    tcase_add_test(tc, test_flush_then_final);
    tcase_add_test(tc, test_flush_refused);
    tcase_add_test(tc, test_end_later);
    tcase_add_test(tc, test_encode_problem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(response_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
