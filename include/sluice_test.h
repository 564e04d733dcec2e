/*
 * sluice_test.h: an in-process test client for sluice applications.
 *
 * It loads an application (its .so, or its entry function linked into the
 * test program) and runs requests through the very code a worker runs:
 * the same routing, validation, error answers and handlers, on a libuv
 * loop of its own and libuv's thread pool, without a socket or a web
 * server.  Request in: method, target (path and query), headers, body.
 * Answer out: status, headers, body, as sluice writes them for the web
 * server.  In the spirit of FastAPI's TestClient:
 *
 *     sl_test *t = sl_test_load("./app.so", NULL, 0);
 *     sl_test_resp *r = sl_test_get(t, "/hi/ann");
 *     ck_assert_int_eq(sl_test_status(r), 200);
 *     ck_assert_str_eq(sl_test_body(r, NULL), "hi ann\n");
 *     sl_test_free(t);        (and r with it)
 *
 * Build a test with `pkg-config --cflags --libs sluice check` (the client
 * is part of libsluice).
 *
 * What a request carries: the CGI parameters nginx's fastcgi_params sends
 * (REQUEST_METHOD, REQUEST_URI, QUERY_STRING, DOCUMENT_URI and SCRIPT_NAME
 * as nginx's $uri, CONTENT_TYPE, CONTENT_LENGTH, SERVER_PROTOCOL
 * "HTTP/1.1", REQUEST_SCHEME "http", GATEWAY_INTERFACE, REMOTE_ADDR
 * "127.0.0.1", REMOTE_PORT "50000", SERVER_ADDR "127.0.0.1", SERVER_PORT
 * "80", SERVER_NAME "testserver", REDIRECT_STATUS, HTTP_HOST as nginx's
 * $host, "testserver" when no Host header is given), then each header as
 * HTTP_NAME ("X-Token" is HTTP_X_TOKEN).  Like nginx, a header whose name
 * holds anything but letters, digits and '-' (an underscore, say) is
 * ignored.  A body (not NULL, even empty) comes with a Content-Length of
 * its size; a Content-Length among the headers is ignored.  A body larger
 * than sluice's --max-body-size default is answered 413, as sluice would.
 *
 * Handlers run as in a worker: a loop handler on the thread calling
 * sl_test_request(), a pool handler on a thread of libuv's pool (sized by
 * UV_THREADPOOL_SIZE).  sl_test_request() turns the loop until the answer
 * is complete: a handler answering later from a timer, or streaming with
 * sl_resp_flush() (the body is then everything flushed, in order), is
 * waited for.  One that takes longer than the client's timeout (sluice's
 * --timeout default, 30 s; see sl_test_set_timeout) is answered 504 as in
 * a worker: the request is cancelled (its sl_req_on_cancel callback runs)
 * and what its handler does afterwards is discarded.  So, at once, is one
 * that returned SL_LATER with nothing left on the loop that could ever end
 * it.
 *
 * The answer is what sluice sends the web server: its X-Request-ID (sent
 * or made up, "test-1", "test-2", ...), the Content-Length of a whole
 * body, and a body for HEAD too (a web server drops that one).
 *
 * Several clients may be alive at once in one process (each has its own
 * loop); a .so loaded by two of them is loaded once, so its static data is
 * shared.  Use a client from one thread at a time.  The error log is
 * standard error, as before anything set it elsewhere.
 */
#ifndef SLUICE_TEST_H
#define SLUICE_TEST_H

#include <stddef.h>
#include <sluice.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One loaded application: its loop, route table and hooks. */
typedef struct sl_test sl_test;
/* One answer. */
typedef struct sl_test_resp sl_test_resp;

/*
 * Load the application at `app_so` (a path; a bare name is taken from the
 * current directory, as sluice does), call its sluice_app(), then its
 * worker start hook.  Returns the client, or NULL with a one-line reason
 * in err[0..errlen) (err may be NULL): the .so cannot be loaded, has no
 * sluice_app, sluice_app() failed, or the start hook did.
 */
SL_API sl_test *sl_test_load(const char *app_so, char *err, size_t errlen);

/* The same with an entry point linked into the program (an app's own
 * sluice_app, or any function of that type). */
SL_API sl_test *sl_test_new(int (*entry)(sl_app *), char *err, size_t errlen);

/*
 * Run the drain hook, wait for requests still in flight (a pool handler
 * still running after its 504, an answer still pending), run the stop
 * hook, close the handles the application left open, and free everything:
 * the answers not freed yet too, the application last.  NULL is ignored.
 */
SL_API void sl_test_free(sl_test *t);

/* The time a request may take before it is answered 504, as sluice's
 * --timeout; 0: none.  The default is sluice's, 30 s. */
SL_API void sl_test_set_timeout(sl_test *t, unsigned ms);

/*
 * One request: `method` ("GET", ...), `target` (the path with its query,
 * as in the request line: "/items/5?q=a%20b"), `headers` ("Name: value"
 * strings, NULL-terminated; or NULL), and a body of `len` bytes (NULL: no
 * body).  Returns the answer once it is complete, or NULL when the
 * arguments are unusable (a NULL method or target, a header without ':',
 * a NULL body with len > 0) or memory ran out; the reason is logged.
 */
SL_API sl_test_resp *sl_test_request(sl_test *t, const char *method, const char *target,
                                     const char *const *headers, const void *body,
                                     size_t len);
/* GET `target`, with no headers and no body. */
SL_API sl_test_resp *sl_test_get(sl_test *t, const char *target);
/* POST `target` with the JSON text `json` as the body, Content-Type
 * application/json. */
SL_API sl_test_resp *sl_test_post_json(sl_test *t, const char *target, const char *json);

/* The status, 200-599; 0 for a NULL answer. */
SL_API int sl_test_status(const sl_test_resp *r);
/* The first header named `name` (case-insensitive), or NULL. */
SL_API const char *sl_test_header(const sl_test_resp *r, const char *name);
/* Every header in the order sent (a second Set-Cookie, say): their
 * number, and the i-th one (0, or -ERANGE). */
SL_API size_t sl_test_header_count(const sl_test_resp *r);
SL_API int sl_test_header_at(const sl_test_resp *r, size_t i, const char **name,
                             const char **value);
/* The body; *len (len may be NULL) gets its size.  Never NULL: NUL-
 * terminated after its last byte, so a text body is a C string ("" for a
 * NULL answer). */
SL_API const void *sl_test_body(const sl_test_resp *r, size_t *len);
/* The body parsed as JSON, owned by the answer; NULL when it is not JSON
 * (or is the JSON text null). */
SL_API json_object *sl_test_json(sl_test_resp *r);
/* Free an answer before its client (NULL is ignored). */
SL_API void sl_test_resp_free(sl_test_resp *r);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TEST_H */
