/*
 * test_conn.c: unit tests for a connection (src/worker/conn.c and
 * conn_input.c) on a real libuv loop, with a host of the test's own in
 * place of the worker: a peer speaks FastCGI or SCGI over a unix socket;
 * the test checks what the host is asked (requests made, dispatched,
 * refused, cancelled, freed; connections gone) and the bytes that come
 * back: an answer per request, keep-alive, closing.
 *
 * The host answers a dispatched request at once with "METHOD URI BODYLEN"
 * (or keeps it running when told to), as the worker would: encode, send,
 * sl_conn_request_done(), free.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fastcgi.h>
#include "fcgi_pair.h"
#include "fcgi_rec.h"
#include "worker/conn.h"

static uv_loop_t loop;
static sl_config cfg;
static sl_conns conns;
static uv_pipe_t listener;
static enum sl_proto listener_proto;
static char dir[32], sock_path[64];

/* ---- the test host ------------------------------------------------------- */

static struct {
    int made, freed, dispatched, rejected, cancelled, gone;
    int hold;               /* dispatch leaves the request running */
    sl_req *held;
    int reject_status;
    char last[256];         /* "METHOD URI BODYLEN" of the last dispatched */
    size_t big;             /* answer with this many bytes of big_byte() */
    sl_buf out;             /* answers are encoded here, kept, as the
                               worker keeps its own (sl_conn_send_copy) */
} host;

static char big_byte(size_t i)
{
    return (char)('a' + i * 7 % 26);
}

sl_req *sl_conns_host_req_new(sl_conns *cs, sl_conn *c, enum sl_proto proto, uint16_t id)
{
    ck_assert_ptr_eq(cs, &conns);
    sl_req *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    sl_req_init(r);
    r->conn = c;
    r->proto = proto;
    r->id = id;
    host.made++;
    return r;
}

void sl_conns_host_req_free(sl_conns *cs, sl_req *r)
{
    (void)cs;
    host.freed++;
    sl_req_destroy(r);
    free(r);
}

/* As the worker ends a request: the answer goes out while the connection
 * lasts, then the request is freed. */
static void finish(sl_req *r)
{
    r->state = SL_REQ_DONE;
    if (r->conn != NULL && !r->cancelled) {
        host.out.len = 0;
        ck_assert_int_eq(sl_resp_encode(r, &host.out, 1), 0);
        sl_conn *c = r->conn;
        sl_conn_send_copy(c, &host.out);
        ck_assert_uint_eq(host.out.len, 0);
        /* The bytes are the host's again: what was queued is a copy. */
        memset(host.out.data, 'X', host.out.cap);
        sl_conn_request_done(c, r);
    }
    sl_conns_host_req_free(&conns, r);
}

void sl_conns_host_dispatch(sl_conns *cs, sl_req *r)
{
    ck_assert_ptr_eq(cs, &conns);
    r->state = SL_REQ_RUNNING;
    host.dispatched++;
    const char *uri = sl_req_known(r, SL_P_URI);
    snprintf(host.last, sizeof host.last, "%s %s %zu", sl_req_method(r),
             uri ? uri : "-", r->body.len);
    if (host.hold) {
        host.held = r;
        return;
    }
    sl_resp_write(r, host.last, strlen(host.last));
    for (size_t i = 0; i < host.big; i++) {
        char ch = big_byte(i);
        sl_resp_write(r, &ch, 1);
    }
    finish(r);
}

void sl_conns_host_reject(sl_conns *cs, sl_req *r, int status, const char *detail)
{
    (void)cs;
    r->state = SL_REQ_RUNNING;
    host.rejected++;
    host.reject_status = status;
    sl_resp_problem(r, status, detail);
    finish(r);
}

void sl_conns_host_cancel(sl_conns *cs, sl_req *r)
{
    (void)cs;
    host.cancelled++;
    r->cancelled = 1;
}

void sl_conns_host_gone(sl_conns *cs)
{
    ck_assert_ptr_eq(cs, &conns);
    host.gone++;
}

/* ---- the loop and the peer ---------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(sl_conn_accept(&conns, server, listener_proto), 0);
}

static void start(enum sl_proto proto)
{
    sl_buf_free(&host.out);
    memset(&host, 0, sizeof host);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.max_connections = 64;
    cfg.max_conn_requests = 16;
    cfg.max_params_size = 128 * 1024;
    cfg.max_body_size = 1024 * 1024;
    cfg.read_timeout = 30;
    cfg.keepalive_timeout = 75;
    ck_assert_int_eq(sl_conns_init(&conns, &loop, &cfg), 0);
    snprintf(dir, sizeof dir, "/tmp/sl-conn-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock_path, sizeof sock_path, "%s/s.sock", dir);
    listener_proto = proto;
    ck_assert_int_eq(uv_pipe_init(&loop, &listener, 0), 0);
    ck_assert_int_eq(uv_pipe_bind(&listener, sock_path), 0);
    ck_assert_int_eq(uv_listen((uv_stream_t *)&listener, 8, on_connection), 0);
}

static void start_fcgi(void) { start(SL_PROTO_FASTCGI); }
static void start_scgi(void) { start(SL_PROTO_SCGI); }

/* Turn the loop until cond() holds, for at most 3 s. */
static int pump(int (*cond)(void))
{
    for (int i = 0; i < 3000; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (cond != NULL && cond())
            return 1;
        usleep(1000);
    }
    return cond == NULL;
}

static int no_conns(void) { return conns.n == 0; }

static void stop(void)
{
    /* Whatever connection is left closes as its peer goes. */
    ck_assert(pump(no_conns));
    uv_close((uv_handle_t *)&listener, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    sl_conns_free(&conns);
    unlink(sock_path);
    rmdir(dir);
}

static int peer_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void peer_send(int fd, const sl_buf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EAGAIN) {
            uv_run(&loop, UV_RUN_NOWAIT);
            continue;
        }
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
    }
}

/* What the peer has read, and whether it read the end of the stream. */
static sl_buf got;
static int got_eof;
static int peer_fd;

static void peer_read(void)
{
    char tmp[65536];
    ssize_t n;
    while ((n = read(peer_fd, tmp, sizeof tmp)) > 0)
        sl_buf_append(&got, tmp, (size_t)n);
    if (n == 0)
        got_eof = 1;
}

static uint16_t want_id;
static sl_buf answer;
static int answer_status;

static int answer_in(void)
{
    peer_read();
    size_t used;
    sl_buf_free(&answer);
    return fcgi_rec_answer(got.data, got.len, want_id, &answer, &answer_status, &used) == 1;
}

/* The whole answer to request `id`: its STDOUT bytes, NUL-terminated. */
static const char *read_answer(uint16_t id)
{
    want_id = id;
    ck_assert_msg(pump(answer_in), "no answer to request %u", id);
    size_t used;
    sl_buf_free(&answer);
    ck_assert_int_eq(fcgi_rec_answer(got.data, got.len, id, &answer, &answer_status, &used), 1);
    ck_assert_int_eq(answer_status, FCGI_REQUEST_COMPLETE);
    sl_buf_consume(&got, used);
    sl_buf_append(&answer, "", 1);
    return answer.data;
}

static int eof_seen(void)
{
    peer_read();
    return got_eof;
}

/* A whole request: BEGIN, PARAMS (in records of `chunk` bytes), STDIN. */
static void put_request(sl_buf *b, uint16_t id, int keep, const char *method,
                        const char *uri, const char *body, size_t chunk)
{
    sl_buf params;
    sl_buf_init(&params);
    char clen[24];
    snprintf(clen, sizeof clen, "%zu", strlen(body));
    fcgi_pair_encode(&params, "REQUEST_METHOD", 14, method, strlen(method));
    fcgi_pair_encode(&params, "REQUEST_URI", 11, uri, strlen(uri));
    fcgi_pair_encode(&params, "CONTENT_LENGTH", 14, clen, strlen(clen));
    fcgi_pair_encode(&params, "SERVER_SOFTWARE", 15, "test", 4);
    fcgi_rec_begin(b, id, keep);
    fcgi_rec_stream(b, FCGI_PARAMS, id, params.data, params.len, chunk);
    fcgi_rec_stream(b, FCGI_STDIN, id, body, strlen(body), chunk);
    sl_buf_free(&params);
}

static void peer_open(void)
{
    sl_buf_init(&got);
    sl_buf_init(&answer);
    got_eof = 0;
    peer_fd = peer_connect();
}

static void peer_close(void)
{
    close(peer_fd);
    sl_buf_free(&got);
    sl_buf_free(&answer);
}

static int one_conn(void) { return conns.n == 1; }
static int dispatched_one(void) { return host.dispatched == 1; }
static int gone_one(void) { return host.gone == 1; }

/* ---- FastCGI --------------------------------------------------------------- */

START_TEST(test_keepalive)
{
    peer_open();
    sl_buf b;
    sl_buf_init(&b);
    put_request(&b, 1, 1, "POST", "/a?x=1", "hello", 65535);
    peer_send(peer_fd, &b);
    ck_assert_ptr_nonnull(strstr(read_answer(1), "\r\n\r\nPOST /a?x=1 5"));
    ck_assert_int_eq(host.made, 1);
    ck_assert_int_eq(host.dispatched, 1);
    /* Kept: the same connection takes the next request, id reused. */
    ck_assert(pump(one_conn));
    b.len = 0;
    put_request(&b, 1, 1, "GET", "/b", "", 3);      /* records of 3 bytes */
    peer_send(peer_fd, &b);
    const char *a = read_answer(1);
    ck_assert_ptr_nonnull(strstr(a, "Status: 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(a, "\r\n\r\nGET /b 0"));
    ck_assert_int_eq(host.dispatched, 2);
    ck_assert_int_eq(conns.n, 1);
    ck_assert_int_eq(host.gone, 0);
    ck_assert_int_eq(conns.arriving, 0);
    sl_buf_free(&b);
    /* The peer closes between requests: a quiet close. */
    peer_close();
    ck_assert(pump(gone_one));
    stop();
}
END_TEST

/* Without FCGI_KEEP_CONN the connection closes after its answer. */
START_TEST(test_close_not_kept)
{
    peer_open();
    sl_buf b;
    sl_buf_init(&b);
    put_request(&b, 3, 0, "GET", "/once", "", 65535);
    peer_send(peer_fd, &b);
    ck_assert_ptr_nonnull(strstr(read_answer(3), "GET /once 0"));
    ck_assert(pump(eof_seen));
    ck_assert(pump(gone_one));
    ck_assert_int_eq(conns.n, 0);
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

/* Two requests in flight on one connection, answered in the other order. */
START_TEST(test_multiplexed)
{
    peer_open();
    host.hold = 1;
    sl_buf b;
    sl_buf_init(&b);
    put_request(&b, 1, 1, "GET", "/first", "", 65535);
    peer_send(peer_fd, &b);
    ck_assert(pump(dispatched_one));
    sl_req *first = host.held;
    host.hold = 0;
    b.len = 0;
    put_request(&b, 2, 1, "GET", "/second", "", 65535);
    peer_send(peer_fd, &b);
    ck_assert_ptr_nonnull(strstr(read_answer(2), "GET /second 0"));
    sl_resp_write(first, "late", 4);
    finish(first);
    ck_assert_ptr_nonnull(strstr(read_answer(1), "\r\n\r\nlate"));
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

/* ABORT_REQUEST of a request still arriving: END_REQUEST, and the request
 * is freed without ever running. */
START_TEST(test_abort_arriving)
{
    peer_open();
    sl_buf b;
    sl_buf_init(&b);
    fcgi_rec_begin(&b, 5, 1);
    fcgi_rec_put(&b, FCGI_PARAMS, 5, "\x0e\x03REQUEST_METHODGET", 19);
    fcgi_rec_put(&b, FCGI_ABORT_REQUEST, 5, NULL, 0);
    peer_send(peer_fd, &b);
    read_answer(5);
    ck_assert_int_eq(host.made, 1);
    ck_assert_int_eq(host.freed, 1);
    ck_assert_int_eq(host.dispatched, 0);
    ck_assert_int_eq(conns.arriving, 0);
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

/* The peer goes while a handler runs: the host cancels the request, which
 * ends later with nothing sent. */
START_TEST(test_cancel_running)
{
    peer_open();
    host.hold = 1;
    sl_buf b;
    sl_buf_init(&b);
    put_request(&b, 9, 1, "GET", "/slow", "", 65535);
    peer_send(peer_fd, &b);
    ck_assert(pump(dispatched_one));
    peer_close();
    ck_assert(pump(gone_one));
    ck_assert_int_eq(host.cancelled, 1);
    ck_assert_ptr_null(host.held->conn);
    finish(host.held);
    ck_assert_int_eq(host.freed, 1);
    sl_buf_free(&b);
    stop();
}
END_TEST

static int have_record(void)
{
    peer_read();
    fcgi_rec r;
    size_t used;
    return fcgi_rec_next(got.data, got.len, &r, &used) == 1;
}

START_TEST(test_get_values)
{
    peer_open();
    sl_buf q, b;
    sl_buf_init(&q);
    sl_buf_init(&b);
    fcgi_pair_encode(&q, "FCGI_MAX_CONNS", 14, "", 0);
    fcgi_pair_encode(&q, "FCGI_UNKNOWN", 12, "", 0);
    fcgi_rec_put(&b, FCGI_GET_VALUES, 0, q.data, q.len);
    peer_send(peer_fd, &b);
    ck_assert(pump(have_record));
    fcgi_rec r;
    size_t used;
    ck_assert_int_eq(fcgi_rec_next(got.data, got.len, &r, &used), 1);
    ck_assert_int_eq(r.type, FCGI_GET_VALUES_RESULT);
    ck_assert_uint_eq(r.clen, 18);
    ck_assert_int_eq(memcmp(r.content, "\x0e\x02" "FCGI_MAX_CONNS" "64", 18), 0);
    ck_assert_int_eq(host.made, 0);
    sl_buf_free(&q);
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

/* A body over --max-body-size is refused before it is read; on a kept
 * connection the rest of it is read and dropped up to its empty STDIN,
 * and the connection serves the next request. */
START_TEST(test_refused_then_next)
{
    peer_open();
    sl_buf params, b;
    sl_buf_init(&params);
    sl_buf_init(&b);
    fcgi_pair_encode(&params, "REQUEST_METHOD", 14, "POST", 4);
    fcgi_pair_encode(&params, "CONTENT_LENGTH", 14, "2000000", 7);
    fcgi_rec_begin(&b, 4, 1);
    fcgi_rec_stream(&b, FCGI_PARAMS, 4, params.data, params.len, 65535);
    peer_send(peer_fd, &b);
    const char *a = read_answer(4);
    ck_assert_ptr_nonnull(strstr(a, "Status: 413 Content Too Large\r\n"));
    ck_assert_int_eq(host.rejected, 1);
    ck_assert_int_eq(host.reject_status, 413);
    /* The body comes anyway; it is dropped. */
    b.len = 0;
    char chunk[60000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 4; i++)
        fcgi_rec_put(&b, FCGI_STDIN, 4, chunk, sizeof chunk);
    fcgi_rec_put(&b, FCGI_STDIN, 4, NULL, 0);
    put_request(&b, 4, 1, "GET", "/after", "", 65535);
    peer_send(peer_fd, &b);
    ck_assert_ptr_nonnull(strstr(read_answer(4), "GET /after 0"));
    ck_assert_int_eq(host.dispatched, 1);
    ck_assert_int_eq(conns.n, 1);
    sl_buf_free(&params);
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

/* A record that is not FastCGI: the connection is closed. */
START_TEST(test_bad_record)
{
    peer_open();
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_append(&b, "GET / HTTP/1.1\r\n\r\n", 18);
    peer_send(peer_fd, &b);
    ck_assert(pump(eof_seen));
    ck_assert(pump(gone_one));
    ck_assert_int_eq(host.made, 0);
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

/* ---- SCGI ------------------------------------------------------------------ */

/*
 * An answer larger than the socket takes while the peer reads nothing: the
 * kernel takes part of it, the rest is copied and queued, and the host's
 * buffer is overwritten at once (finish); the peer still reads it whole.
 */
START_TEST(test_answer_queued)
{
    peer_open();
    int small = 4096;
    setsockopt(peer_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    host.big = 1 << 20;
    sl_buf b;
    sl_buf_init(&b);
    put_request(&b, 1, 1, "GET", "/big", "", 65535);
    peer_send(peer_fd, &b);
    ck_assert(pump(dispatched_one));
    ck_assert_uint_gt(conns.out_queued, 0);     /* some of it is queued */
    const char *a = read_answer(1);
    const char *body = strstr(a, "\r\n\r\nGET /big 0");
    ck_assert_ptr_nonnull(body);
    body += strlen("\r\n\r\nGET /big 0");
    size_t bad = 0;
    for (size_t i = 0; i < host.big; i++)
        bad += body[i] != big_byte(i);
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(strlen(body), host.big);
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

START_TEST(test_scgi_request)
{
    peer_open();
    static const char hdr[] = "CONTENT_LENGTH\0" "4\0" "SCGI\0" "1\0"
                              "REQUEST_METHOD\0" "PUT\0" "REQUEST_URI\0" "/s\0";
    sl_buf b;
    sl_buf_init(&b);
    char len[16];
    int n = snprintf(len, sizeof len, "%zu:", sizeof hdr - 1);
    sl_buf_append(&b, len, (size_t)n);
    sl_buf_append(&b, hdr, sizeof hdr - 1);
    sl_buf_append(&b, ",body", 5);
    peer_send(peer_fd, &b);
    /* The answer as it is, then the close. */
    ck_assert(pump(eof_seen));
    sl_buf_append(&got, "", 1);
    ck_assert_ptr_nonnull(strstr(got.data, "Status: 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(got.data, "\r\n\r\nPUT /s 4"));
    ck_assert(pump(gone_one));
    sl_buf_free(&b);
    peer_close();
    stop();
}
END_TEST

static Suite *conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tf = tcase_create("fastcgi");
    tcase_add_checked_fixture(tf, start_fcgi, NULL);
    tcase_set_timeout(tf, 20);
    tcase_add_test(tf, test_keepalive);
    tcase_add_test(tf, test_close_not_kept);
    tcase_add_test(tf, test_multiplexed);
    tcase_add_test(tf, test_abort_arriving);
    tcase_add_test(tf, test_cancel_running);
    tcase_add_test(tf, test_get_values);
    tcase_add_test(tf, test_refused_then_next);
    tcase_add_test(tf, test_bad_record);
    tcase_add_test(tf, test_answer_queued);
    suite_add_tcase(s, tf);
    TCase *ts = tcase_create("scgi");
    tcase_add_checked_fixture(ts, start_scgi, NULL);
    tcase_set_timeout(ts, 20);
    tcase_add_test(ts, test_scgi_request);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
