/*
 * test_request.c: unit tests for the request (src/api/request.c): the
 * FastCGI PARAMS stream made the parameter store where it lies (names moved
 * a byte back, NULs in place of length bytes), short and long names and
 * values, a stream that fills its buffer, the index of the parameters sluice reads
 * itself, header lookup, the query cache, the path, and a reset that keeps
 * the buffers for the next request.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/request.h"
#include "fcgi_pair.h"

static sl_req *req;

static void setup(void)
{
    req = malloc(sizeof *req);
    ck_assert_ptr_nonnull(req);
    sl_req_init(req);
    req->proto = SL_PROTO_FASTCGI;
}

static void teardown(void)
{
    sl_req_destroy(req);
    free(req);
    req = NULL;
}

/* A PARAMS stream of pairs, into req->raw_params as the connection leaves
 * it: in a block of the stream's size and `room` bytes more (1: the byte
 * the last NUL takes; 0: none, the store must grow), so that a read or a
 * write past them is caught by ASan. */
struct pair {
    const char *name;
    size_t nlen;
    const char *value;
    size_t vlen;
};

static void put_stream_room(const struct pair *pairs, size_t n, size_t room)
{
    sl_buf enc;
    sl_buf_init(&enc);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(fcgi_pair_encode(&enc, pairs[i].name, pairs[i].nlen,
                                          pairs[i].value, pairs[i].vlen), 0);
    sl_buf_free(&req->raw_params);
    req->raw_params.data = malloc(enc.len + room ? enc.len + room : 1);
    ck_assert_ptr_nonnull(req->raw_params.data);
    if (enc.len > 0)
        memcpy(req->raw_params.data, enc.data, enc.len);
    req->raw_params.len = enc.len;
    req->raw_params.cap = enc.len + room;
    sl_buf_free(&enc);
}

static void put_stream(const struct pair *pairs, size_t n)
{
    put_stream_room(pairs, n, 1);
}

#define P(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

/* ---- the PARAMS stream rewritten in place --------------------------------- */

START_TEST(test_params_in_place)
{
    static const struct pair pairs[] = {
        P("REQUEST_METHOD", "GET"),
        P("REQUEST_URI", "/items/42?q=a%20b"),
        P("QUERY_STRING", "q=a%20b&x=1&e=&flag"),
        P("EMPTY", ""),
        P("HTTP_X_TOKEN", "t0k"),
        P("CONTENT_TYPE", "application/json"),
        P("CONTENT_LENGTH", ""),
        P("REMOTE_ADDR", "192.0.2.1"),
    };
    size_t n = sizeof pairs / sizeof *pairs;
    put_stream(pairs, n);
    char *stream = req->raw_params.data;
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    /* The stream's own block became the store: nothing was copied out. */
    ck_assert_ptr_eq(req->pstore.data, stream);
    ck_assert_int_eq(req->state, SL_REQ_BODY);
    ck_assert_uint_eq(sl_req_param_count(req), n);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        ck_assert_int_eq(sl_req_param_at(req, i, &name, &value), 0);
        ck_assert_str_eq(name, pairs[i].name);
        ck_assert_str_eq(value, pairs[i].value);
    }
    /* Where they lie: each name one byte before where it came (over the
     * last byte of its lengths, 1 byte each here), each value where it
     * came. */
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        ck_assert_int_eq(sl_req_param_at(req, i, &name, &value), 0);
        at += 2;
        ck_assert_ptr_eq(name, stream + at - 1);
        at += pairs[i].nlen;
        ck_assert_ptr_eq(value, stream + at);
        at += pairs[i].vlen;
    }
    const char *name, *value;
    ck_assert_int_eq(sl_req_param_at(req, n, &name, &value), -ERANGE);
    ck_assert_str_eq(sl_req_param(req, "EMPTY"), "");
    ck_assert_ptr_null(sl_req_param(req, "ABSENT"));
}
END_TEST

/* A stream that fills its buffer to the last byte: the store grows by the
 * byte the last value's NUL takes, and nothing is lost. */
START_TEST(test_params_no_room)
{
    static const struct pair pairs[] = {
        P("REQUEST_METHOD", "PUT"),
        P("LAST", "the last value, up to the end of the block"),
    };
    put_stream_room(pairs, 2, 0);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_str_eq(sl_req_method(req), "PUT");
    ck_assert_str_eq(sl_req_param(req, "LAST"), "the last value, up to the end of the block");
    /* Also with no parameters at all. */
    sl_req_reset(req);
    put_stream_room(NULL, 0, 0);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_uint_eq(sl_req_param_count(req), 0);
}
END_TEST

/* Names and values of 128 bytes and more take 4-byte lengths: the write
 * falls further behind the read with each of them. */
START_TEST(test_params_long)
{
    size_t big = 70000, name_len = 300;
    char *v = malloc(big), *nm = malloc(name_len + 1);
    for (size_t i = 0; i < big; i++)
        v[i] = (char)('A' + i % 26);
    for (size_t i = 0; i < name_len; i++)
        nm[i] = (char)('a' + i % 26);
    nm[name_len] = '\0';
    struct pair pairs[] = {
        {nm, name_len, v, big},
        P("SHORT", "s"),
        {"LONG_VALUE", 10, v, 128},
        {"EDGE", 4, v, 127},
        P("REQUEST_METHOD", "POST"),
        {nm, 127, "", 0},
    };
    size_t n = sizeof pairs / sizeof *pairs;
    put_stream(pairs, n);
    char *stream = req->raw_params.data;
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_ptr_eq(req->pstore.data, stream);
    ck_assert_uint_eq(sl_req_param_count(req), n);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        ck_assert_int_eq(sl_req_param_at(req, i, &name, &value), 0);
        ck_assert_uint_eq(strlen(name), pairs[i].nlen);
        ck_assert_int_eq(memcmp(name, pairs[i].name, pairs[i].nlen), 0);
        ck_assert_uint_eq(strlen(value), pairs[i].vlen);
        ck_assert_int_eq(memcmp(value, pairs[i].value, pairs[i].vlen), 0);
    }
    ck_assert_str_eq(sl_req_method(req), "POST");
    free(v);
    free(nm);
}
END_TEST

/* Many pairs: the index grows (from 32 slots) while the store does not. */
START_TEST(test_params_many)
{
    enum { N = 1000 };
    static char names[N][16], values[N][16];
    static struct pair pairs[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "P%d", i);
        snprintf(values[i], sizeof values[i], "v%d", i * 7);
        pairs[i] = (struct pair){names[i], strlen(names[i]), values[i], strlen(values[i])};
    }
    put_stream(pairs, N);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_uint_eq(sl_req_param_count(req), N);
    ck_assert_str_eq(sl_req_param(req, "P0"), "v0");
    ck_assert_str_eq(sl_req_param(req, "P999"), "v6993");
}
END_TEST

/*
 * Zero bytes that are lengths (an empty value's, the high bytes of a
 * 4-byte one) are no NUL in a parameter, before, between and after such
 * pairs; a NUL anywhere in a name or a value is, wherever it lies.
 */
START_TEST(test_params_zero_bytes)
{
    static char big[256];
    memset(big, 'v', sizeof big);
    const struct pair ok[] = {
        P("EMPTY1", ""), P("EMPTY2", ""),
        {"BIG", 3, big, sizeof big},            /* lengths 03 80 00 01 00 */
        P("EMPTY3", ""), P("A", "1"), P("EMPTY4", ""),
    };
    put_stream(ok, 6);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_uint_eq(sl_req_param_count(req), 6);
    ck_assert_str_eq(sl_req_param(req, "EMPTY3"), "");
    ck_assert_str_eq(sl_req_param(req, "A"), "1");
    ck_assert_uint_eq(strlen(sl_req_param(req, "BIG")), sizeof big);

    static char big_nul[300];
    memset(big_nul, 'w', sizeof big_nul);
    big_nul[299] = '\0';                        /* the stream's last byte */
    const struct pair bad[][3] = {
        {P("EMPTY", ""), {"B", 1, "x\0y", 3}, P("C", "3")},
        {P("EMPTY", ""), {"N\0M", 3, "v", 1}, P("C", "3")},
        {{"BIG", 3, big, sizeof big}, P("EMPTY", ""), {"Z", 1, "\0", 1}},
        {P("EMPTY", ""), P("E2", ""), {"BIG", 3, big_nul, sizeof big_nul}},
        {{"F\0", 2, "", 0}, P("A", "1"), P("B", "2")},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sl_req_reset(req);
        put_stream(bad[i], 3);
        const char *why = sl_req_params_from_fcgi(req);
        ck_assert_msg(why != NULL && strcmp(why, "NUL byte in a parameter") == 0,
                      "case %zu: %s", i, why ? why : "accepted");
    }
}
END_TEST

START_TEST(test_params_refused)
{
    static const struct pair nul[] = {P("A", "1"), {"B", 1, "x\0y", 3}};
    put_stream(nul, 2);
    ck_assert_str_eq(sl_req_params_from_fcgi(req), "NUL byte in a parameter");

    sl_req_reset(req);
    static const struct pair empty_name[] = {{"", 0, "v", 1}};
    put_stream(empty_name, 1);
    ck_assert_ptr_nonnull(sl_req_params_from_fcgi(req));

    sl_req_reset(req);
    /* A length running past the end of the stream. */
    static const char cut[] = {5, 1, 'A', 'B'};
    sl_buf_free(&req->raw_params);
    sl_buf_append(&req->raw_params, cut, sizeof cut);
    ck_assert_ptr_nonnull(sl_req_params_from_fcgi(req));
}
END_TEST

/* ---- the parameters sluice reads itself ------------------------------------ */

START_TEST(test_known_index)
{
    static const struct pair pairs[] = {
        P("REQUEST_METHOD", "GET"),
        P("REQUEST_URX", "not the uri"),      /* same length and first byte */
        P("QUERY_STRINGS", "not the query"),  /* one byte longer */
        P("request_uri", "lower case"),
        P("REQUEST_URI", "/first"),
        P("DOCUMENT_URI", "/doc"),
        P("SCRIPT_NAME", "/s"),
        P("PATH_INFO", "/p"),
        P("HTTP_X_REQUEST_ID", "rid"),
        P("REMOTE_ADDR", "::1"),
        P("CONTENT_LENGTH", "12"),
        P("REQUEST_URI", "/last"),           /* a later line wins */
    };
    put_stream(pairs, sizeof pairs / sizeof *pairs);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_str_eq(sl_req_known(req, SL_P_METHOD), "GET");
    ck_assert_str_eq(sl_req_known(req, SL_P_URI), "/last");
    ck_assert_str_eq(sl_req_param(req, "REQUEST_URI"), "/last");
    ck_assert_ptr_null(sl_req_known(req, SL_P_QUERY));
    ck_assert_str_eq(sl_req_known(req, SL_P_DOC_URI), "/doc");
    ck_assert_str_eq(sl_req_known(req, SL_P_SCRIPT), "/s");
    ck_assert_str_eq(sl_req_known(req, SL_P_PATH_INFO), "/p");
    ck_assert_str_eq(sl_req_known(req, SL_P_REQID), "rid");
    ck_assert_str_eq(sl_req_known(req, SL_P_REMOTE), "::1");
    ck_assert_str_eq(sl_req_known(req, SL_P_CLEN), "12");
    ck_assert_str_eq(sl_req_query_string(req), "");
}
END_TEST

/* Parameters added one by one (SCGI's way), from outside the store. */
START_TEST(test_add_param)
{
    req->proto = SL_PROTO_SCGI;
    ck_assert_int_eq(sl_req_add_param(req, "REQUEST_METHOD", 14, "PUT", 3), 0);
    ck_assert_int_eq(sl_req_add_param(req, "QUERY_STRING", 12, "a=1", 3), 0);
    ck_assert_int_eq(sl_req_index_params(req), 0);
    ck_assert_str_eq(sl_req_method(req), "PUT");
    ck_assert_str_eq(sl_req_query_string(req), "a=1");
}
END_TEST

/* ---- headers and the query --------------------------------------------------- */

START_TEST(test_header_lookup)
{
    static const struct pair pairs[] = {
        P("CONTENT_TYPE", "text/csv"),
        P("CONTENT_LENGTH", "5"),
        P("HTTP_X_TOKEN", "abc"),
        P("HTTP_ACCEPT_ENCODING", "gzip"),
        P("HTTP_CONTENT_TYPE", "never read"),
    };
    put_stream(pairs, sizeof pairs / sizeof *pairs);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_str_eq(sl_req_header(req, "Content-Type"), "text/csv");
    ck_assert_str_eq(sl_req_header(req, "content-length"), "5");
    ck_assert_str_eq(sl_req_header(req, "X-Token"), "abc");
    ck_assert_str_eq(sl_req_header(req, "x-token"), "abc");
    ck_assert_str_eq(sl_req_header(req, "Accept-Encoding"), "gzip");
    ck_assert_ptr_null(sl_req_header(req, "X-Absent"));
    char longname[300];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_ptr_null(sl_req_header(req, longname));
}
END_TEST

START_TEST(test_query_cache)
{
    static const struct pair pairs[] = {P("QUERY_STRING", "q=a%20b&x=1&e=&flag&bad=%zz&q=2")};
    put_stream(pairs, 1);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    const char *q = sl_req_query(req, "q");
    ck_assert_str_eq(q, "a b");
    /* Asked again: the same string, decoded once. */
    ck_assert_ptr_eq(sl_req_query(req, "q"), q);
    ck_assert_str_eq(sl_req_query(req, "x"), "1");
    ck_assert_str_eq(sl_req_query(req, "e"), "");
    ck_assert_str_eq(sl_req_query(req, "flag"), "");
    ck_assert_ptr_null(sl_req_query(req, "bad"));
    ck_assert_ptr_null(sl_req_query(req, "absent"));
    ck_assert_ptr_null(sl_req_query(req, "absent"));
    /* Still valid after more lookups. */
    ck_assert_str_eq(q, "a b");
}
END_TEST

/* ---- the path ----------------------------------------------------------------- */

static const char *path_of(const struct pair *pairs, size_t n, int *rc)
{
    sl_req_reset(req);
    put_stream(pairs, n);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    const char *why = NULL;
    *rc = sl_req_resolve_path(req, &why);
    return *rc == 0 ? sl_req_path(req) : why;
}

START_TEST(test_path)
{
    int rc;
    static const struct pair uri[] = {P("REQUEST_URI", "/a/./b/../c%2Fd?x=1"),
                                      P("DOCUMENT_URI", "/ignored")};
    ck_assert_str_eq(path_of(uri, 2, &rc), "/a/c/d");
    ck_assert_uint_eq(req->path_nenc, 1);
    static const struct pair doc[] = {P("DOCUMENT_URI", "/x%2541")};
    ck_assert_str_eq(path_of(doc, 1, &rc), "/x%2541");   /* decoded already */
    static const struct pair cgi[] = {P("SCRIPT_NAME", "/app"), P("PATH_INFO", "/p/q")};
    ck_assert_str_eq(path_of(cgi, 2, &rc), "/app/p/q");
    ck_assert_str_eq(path_of(NULL, 0, &rc), "/");
    static const struct pair climb[] = {P("REQUEST_URI", "/a/../..")};
    path_of(climb, 1, &rc);
    ck_assert_int_eq(rc, -EINVAL);
}
END_TEST

/* ---- reset and destroy ------------------------------------------------------- */

START_TEST(test_reset_keeps_buffers)
{
    static const struct pair pairs[] = {P("REQUEST_METHOD", "GET"), P("QUERY_STRING", "a=1"),
                                        P("REQUEST_URI", "/a/long/path/../here?a=1")};
    put_stream(pairs, 3);
    ck_assert_ptr_null(sl_req_params_from_fcgi(req));
    ck_assert_str_eq(sl_req_query(req, "a"), "1");
    const char *why;
    ck_assert_int_eq(sl_req_resolve_path(req, &why), 0);
    ck_assert_str_eq(sl_req_path(req), "/a/long/here");
    char *room = req->path_room.data;
    sl_buf_append(&req->body, "body", 4);
    sl_buf_append(&req->out, "out", 3);
    req->status = 404;
    req->head_sent = 1;
    char *store = req->pstore.data, *body = req->body.data;
    sl_param *params = req->params;
    sl_req_reset(req);
    /* Kept, and empty. */
    ck_assert_ptr_eq(req->pstore.data, store);
    ck_assert_ptr_eq(req->body.data, body);
    ck_assert_ptr_eq(req->params, params);
    ck_assert_ptr_eq(req->path_room.data, room);
    ck_assert_ptr_null(req->path);          /* not resolved yet */
    ck_assert_str_eq(sl_req_path(req), "/");
    ck_assert_uint_eq(req->pstore.len, 0);
    ck_assert_uint_eq(req->body.len, 0);
    ck_assert_uint_eq(req->out.len, 0);
    ck_assert_uint_eq(sl_req_param_count(req), 0);
    ck_assert_ptr_null(req->qcache);
    /* Everything else as new. */
    ck_assert_int_eq(req->status, 200);
    ck_assert_int_eq(req->head_sent, 0);
    ck_assert_ptr_null(sl_req_known(req, SL_P_METHOD));
    ck_assert_str_eq(sl_req_method(req), "GET");
    /* A buffer grown large is not kept. */
    char big[20000] = {0};
    sl_buf_append(&req->body, big, sizeof big);
    sl_req_reset(req);
    ck_assert_ptr_null(req->body.data);
}
END_TEST

START_TEST(test_json_body)
{
    sl_buf_append(&req->body, "{\"a\":[1,2]}", 11);
    json_object *o = sl_req_json(req);
    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_eq(sl_req_json(req), o);
    size_t len;
    ck_assert_ptr_nonnull(sl_req_body(req, &len));
    ck_assert_uint_eq(len, 11);
    sl_req_reset(req);
    sl_buf_append(&req->body, "{", 1);
    ck_assert_ptr_null(sl_req_json(req));
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("request");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_params_in_place);
    tcase_add_test(tc, test_params_long);
    tcase_add_test(tc, test_params_no_room);
    tcase_add_test(tc, test_params_many);
    tcase_add_test(tc, test_params_zero_bytes);
    tcase_add_test(tc, test_params_refused);
    tcase_add_test(tc, test_known_index);
    tcase_add_test(tc, test_add_param);
    tcase_add_test(tc, test_header_lookup);
    tcase_add_test(tc, test_query_cache);
    tcase_add_test(tc, test_path);
    tcase_add_test(tc, test_reset_keeps_buffers);
    tcase_add_test(tc, test_json_body);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(request_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
