/*
 * sluice.h: the whole application API of sluice.
 *
 * An application is a shared object that exports one function,
 *
 *     int sluice_app(sl_app *app);
 *
 * which registers routes and hooks.  sluice calls it once in every worker
 * process, after the fork; and also once in a short-lived check process
 * before the workers start (at start-up, on every SIGHUP reload, and for
 * --check-config), which loads the application to report a bad one before
 * anything is bound or replaced, and then exits without running a hook or a
 * handler (there, sl_app_loop() returns NULL).  So sluice_app() should only
 * register: open connections, files and threads in the start hook.  With
 * --user (and --group), each of these processes becomes that user, with
 * the user's supplementary groups, before it loads the application:
 * application code never runs as the master's user.  Build it with
 *
 *     cc -shared -fPIC -o app.so app.c $(pkg-config --cflags --libs sluice)
 *
 * and run it with `sluice app.so`.
 *
 * Conventions, as in libuv:
 * - every public name starts with sl_ (types, functions) or SL_ (constants);
 * - functions that can fail return 0 or a negative errno value (-ENOMEM,
 *   -EINVAL, ...);
 * - strings returned by sl_req_* functions are NUL-terminated, owned by the
 *   request, and valid until the response ends (sl_resp_end() or the handler
 *   returning SL_OK); copy what you need longer.
 *
 * Threads.  A handler runs either on the worker's event loop (SL_LOOP: it
 * must not block, and may answer later from a libuv callback) or on one of
 * the worker's pool threads (the default: it may block).  One request is
 * only ever touched by one thread at a time: the pool thread while its
 * handler runs, the loop thread otherwise.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_VERSION "0.1.0"

/* Marks what libsluice exports: everything declared here, and nothing
 * else (the library is built with hidden visibility by default). */
#if defined(__GNUC__) && __GNUC__ >= 4
#define SL_API __attribute__((visibility("default")))
#else
#define SL_API
#endif

/* The name of the entry point sluice looks up in an application. */
#define SL_APP_SYMBOL "sluice_app"

/* The application: routes and hooks, one per worker process. */
typedef struct sl_app sl_app;
/* One request and its response. */
typedef struct sl_req sl_req;

/*
 * Handler results.  A handler returns SL_OK when the response is complete,
 * SL_LATER (loop handlers only) when it will call sl_resp_end() itself
 * later from the loop thread, or a negative errno value, which becomes a 500
 * problem response unless part of the response was already flushed.
 */
#define SL_OK 0
#define SL_LATER 1

typedef int (*sl_handler)(sl_req *req);

/* Route flags. */
#define SL_POOL 0u      /* run on a pool thread; may block (the default) */
#define SL_LOOP 1u      /* run on the event loop; must not block */
/* A one-segment parameter may hold a '/' sent as %2F.  Without it, a
 * request whose {name} or {id:int} value would hold one does not match the
 * route (another route may; otherwise 404).  {rest:path} always may. */
#define SL_ENCODED_SLASH 2u

/* The entry point every application defines. Returns 0 or negative errno. */
SL_API int sluice_app(sl_app *app);

/*
 * Register a route.  `method` is "GET", "POST", ... or "*" for any; a GET
 * route also answers HEAD.  `pattern` is a path with typed parameters:
 * "/items/{id:int}", "/users/{name}" (one segment), "/files/{rest:path}"
 * (the rest of the path).  An unknown path answers 404, a known path with
 * another method 405 with Allow, a typed parameter that does not convert
 * 422.  Both strings are copied.  `flags`: SL_POOL or SL_LOOP, optionally
 * | SL_ENCODED_SLASH.
 *
 * Routes match the path of REQUEST_URI (up to '?' or '#'); when the web
 * server sends none, DOCUMENT_URI, then SCRIPT_NAME + PATH_INFO (those are
 * decoded already and are not decoded again).  The path is first
 * normalised as nginx normalises $uri, the path its
 * `location` blocks are matched against: percent-decoded once, "." and
 * ".." segments resolved (also %2e forms, also across %2F), runs of
 * slashes merged.  So `location /admin/ { deny all; }` in nginx keeps
 * "/admin/..%2Fx" and "/public/../admin/x" away from an "/admin/..." route
 * just as it keeps "/admin/x" away, and no parameter ever holds a ".."
 * segment.  A malformed escape, a NUL, or a path that climbs above the root
 * ("/a/../..") is answered 400 before any route is looked at.  Segments are
 * split at real slashes only: "/u/a%2Fb" has the two segments "u" and
 * "a/b" (see SL_ENCODED_SLASH).
 *
 * Where several routes match a path, the first segment position at which
 * their patterns differ decides: a literal beats {x:int}, which beats {x}
 * ({x:str}), which beats {x:path}; then the exact method beats GET
 * answering HEAD, which beats "*".  Registration order never matters.
 * With "/u/me", "/u/{id:int}" and "/u/{name}": "/u/me" goes to the first,
 * "/u/42" to the second, "/u/bob" to the third.
 *
 * Returns 0, -EINVAL for a malformed pattern or method, -EEXIST for a
 * duplicate (same method, same literals and parameter types), -ENOMEM;
 * each refusal is also logged as one error line naming the method, the
 * pattern and why ("route GET /a/{id refused: unbalanced '{'").
 */
SL_API int sl_route(sl_app *app, const char *method, const char *pattern,
                    sl_handler handler, unsigned flags);

/*
 * Worker hooks, all run on the loop thread.
 *
 * `start` runs in each worker after the routes are registered and before it
 * accepts; a non-zero return makes the worker exit, and what it wrote to
 * stderr is logged with the failure.  When no worker of the first
 * generation can start, sluice exits 1; when no worker of a reload's new
 * generation can, the old generation keeps serving.  A worker that started
 * and dies later is replaced.
 *
 * `drain` runs when the worker begins to stop (SIGTERM, a reload, a
 * retirement): it accepts no more connections, and the loop keeps turning
 * while the requests in flight finish.  Stop the application's own timers,
 * listeners and other handles here, or begin closing them.
 *
 * `stop` runs once those requests are done, on the loop, before the worker
 * exits; what it writes to stderr is logged.  Handles the application still
 * holds then no longer keep the worker alive: `stop` runs whatever they are.
 * Close them there (uv_close() with a callback that frees them); whatever
 * is still open afterwards sluice closes without a callback, so memory of
 * such a handle must stay valid until the worker exits (a static handle,
 * say).  `drain` and `stop` run only in a worker whose `start` succeeded
 * (or that has none); a non-zero result is logged.  A worker killed past
 * --graceful-timeout runs neither.
 */
typedef int (*sl_hook)(sl_app *app);
SL_API void sl_on_worker_start(sl_app *app, sl_hook start);
SL_API void sl_on_worker_drain(sl_app *app, sl_hook drain);
SL_API void sl_on_worker_stop(sl_app *app, sl_hook stop);

/* An application-owned pointer, for the hooks and handlers to share. */
SL_API void sl_app_set_data(sl_app *app, void *data);
SL_API void *sl_app_data(const sl_app *app);
/* The worker's event loop (for timers and other libuv handles). */
SL_API uv_loop_t *sl_app_loop(const sl_app *app);

/* ---- the request ---------------------------------------------------- */

/* "GET", "POST", ...; never NULL. */
SL_API const char *sl_req_method(const sl_req *req);
/* The path routing used, without the query string; never NULL: REQUEST_URI
 * percent-decoded (else DOCUMENT_URI, else SCRIPT_NAME + PATH_INFO) and
 * normalised as nginx's $uri (see sl_route()); a '/' sent as %2F appears
 * as '/'. */
SL_API const char *sl_req_path(const sl_req *req);
/* The matched route's pattern, e.g. "/items/{id:int}"; never NULL. */
SL_API const char *sl_req_route(const sl_req *req);
/* The raw query string (QUERY_STRING), "" when none. */
SL_API const char *sl_req_query_string(const sl_req *req);
/* The first value of query parameter `name`, decoded; NULL when absent. */
SL_API const char *sl_req_query(sl_req *req, const char *name);
/* A path parameter as text; NULL when the route has no such parameter. */
SL_API const char *sl_req_path_param(sl_req *req, const char *name);
/* An {name:int} path parameter.  0, or -ENOENT when there is none. */
SL_API int sl_req_path_int(const sl_req *req, const char *name, int64_t *out);
/* A CGI parameter as the web server sent it ("REMOTE_ADDR", ...); or NULL. */
SL_API const char *sl_req_param(const sl_req *req, const char *name);
/* The number of CGI parameters, and the i-th one (0 or -ERANGE). */
SL_API size_t sl_req_param_count(const sl_req *req);
SL_API int sl_req_param_at(const sl_req *req, size_t i, const char **name,
                           const char **value);
/* An HTTP request header by its HTTP name ("Content-Type", "X-Token"),
 * case-insensitive; NULL when absent. */
SL_API const char *sl_req_header(const sl_req *req, const char *name);
/* The request body; *len gets its size.  Never NULL (may be empty). */
SL_API const void *sl_req_body(const sl_req *req, size_t *len);
/* The body parsed as JSON, owned by the request; NULL when it is not JSON. */
SL_API json_object *sl_req_json(sl_req *req);
/* The request id: the web server's X-Request-ID when it sent a sane one,
 * otherwise one made up by sluice; also sent back as X-Request-ID and
 * written in the logs. */
SL_API const char *sl_req_id(const sl_req *req);
/* The application, and through it the worker's loop. */
SL_API sl_app *sl_req_app(const sl_req *req);
/* A per-request pointer for the handler's own use. */
SL_API void sl_req_set_data(sl_req *req, void *data);
SL_API void *sl_req_data(const sl_req *req);
/*
 * Loop handlers that answer later: `cb` is called on the loop thread when
 * the request is cancelled (the web server aborted it or the connection
 * closed).  The request stays valid until you call sl_resp_end(), which you
 * still must; what you write after a cancel is discarded.
 */
typedef void (*sl_cancel_cb)(sl_req *req);
SL_API void sl_req_on_cancel(sl_req *req, sl_cancel_cb cb);
/* 1 once the request was cancelled. */
SL_API int sl_req_cancelled(const sl_req *req);

/* ---- the response --------------------------------------------------- */

/*
 * The response starts as 200 with Content-Type "text/plain; charset=utf-8"
 * (no Content-Type at all for 204 and 304, which have no body).  Status and
 * headers may be changed until the first flush.  A response that is never
 * flushed goes out whole with a Content-Length (unless the handler set one,
 * or the status has no body: 204, 304); a flushed one has none, and the web
 * server frames it for the client.
 *
 * An invalid status or header is refused with -EINVAL, and the response
 * then ends as a 500 (logged) whatever the handler does next, unless it
 * calls sl_resp_problem().
 */
/* A final status, 200-599; a 1xx (interim) status is refused. */
SL_API int sl_resp_status(sl_req *req, int status);
/* Add a header.  Content-Type and Content-Length replace an earlier one
 * (the default type included).  The name must be a token and may not be
 * "Status" (use sl_resp_status()); the value may hold no control byte but
 * HTAB (-EINVAL). */
SL_API int sl_resp_header(sl_req *req, const char *name, const char *value);
/* Append body bytes. */
SL_API int sl_resp_write(sl_req *req, const void *data, size_t len);
/* Append printf-formatted text. */
SL_API int sl_resp_printf(sl_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Serialize `obj` as the body with Content-Type application/json.  Takes
 * ownership of one reference of `obj` (it is put, also on error). */
SL_API int sl_resp_json(sl_req *req, json_object *obj);
/* A whole problem response (RFC 9457, application/problem+json) with
 * `status`, its standard title, and `detail` (may be NULL); discards the
 * body written so far and the Content-Type, Content-Length and
 * Content-Encoding set, and keeps the other headers (a Set-Cookie, say). */
SL_API int sl_resp_problem(sl_req *req, int status, const char *detail);
/* Send the status, headers and body written so far to the web server now,
 * and go on streaming.  From a pool handler or from the loop thread. */
SL_API int sl_resp_flush(sl_req *req);
/* Finish a response whose handler returned SL_LATER.  Loop thread only.
 * The request is freed: do not touch it afterwards. */
SL_API int sl_resp_end(sl_req *req);

/* The standard reason phrase of an HTTP status ("Not Found"), "" if unknown. */
SL_API const char *sl_status_text(int status);

/* ---- the program ---------------------------------------------------- */

/*
 * The whole sluice program in one call: what the `sluice` command does
 * with its command line (see sluice(1): options, a config file, the master
 * and its workers, signals), returning its exit status: 0, 1 when it could
 * not start or serve, 2 for a bad command line or configuration.  To embed
 * sluice in a program of one's own:
 *
 *     int main(int argc, char **argv) { return sluice_main(argc, argv); }
 *
 * It takes over the process as the command does: it forks the workers,
 * handles the signals of sluice(1), and returns only once stopped.  Call it
 * once, from the main thread, before starting threads of one's own.
 */
SL_API int sluice_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_H */
