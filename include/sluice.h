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

#include <stdbool.h>
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

/* ---- declared routes ------------------------------------------------- */

/*
 * A route can also be a record that declares its inputs, as a FastAPI path
 * operation does: sluice converts and validates them after routing and
 * before the handler runs, answers bad input with FastAPI's 422 (every
 * failing input listed, with Pydantic v2's types, locations and messages),
 * and the handler reads the converted values by name.  A table of records
 * registers a whole application:
 *
 *     static const sl_param_def search_params[] = {
 *         { .name = "q", .in = SL_IN_QUERY, .flags = SL_REQUIRED,
 *           .min_length = 1, .max_length = 50 },
 *         { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT,
 *           .dflt = "10", .ge = "1", .le = "100" },
 *         { .name = NULL }
 *     };
 *     static const sl_route_def routes[] = {
 *         { .method = "GET", .pattern = "/search", .handler = search,
 *           .flags = SL_LOOP, .params = search_params,
 *           .summary = "Search" },
 *         { .method = NULL }
 *     };
 *     int sluice_app(sl_app *app) { return sl_routes(app, routes); }
 *
 * and in the handler sl_arg_str(req, "q"), sl_arg_int(req, "limit").
 */

/* Where a declared parameter comes from, and what it converts to. */
typedef enum sl_in { SL_IN_QUERY = 0, SL_IN_PATH, SL_IN_HEADER, SL_IN_COOKIE } sl_in;
typedef enum sl_type { SL_T_STR = 0, SL_T_INT, SL_T_NUM, SL_T_BOOL } sl_type;

/* Parameter flags. */
#define SL_REQUIRED   1u   /* absent: 422 "missing" (path parameters always are) */
#define SL_MULTI      2u   /* a repeated query parameter: an array of sl_type */
#define SL_DEPRECATED 4u   /* documented as deprecated */

/*
 * One declared parameter.  Unset fields (0 / NULL) mean "no such rule": a
 * static const table with designated initializers reads well.
 *
 * Values convert as Pydantic's lax mode converts text: an int accepts
 * " 7", "+7", "1_000" and "7.0"; a number "1e3", ".5", "inf"; a bool
 * "true", "1", "yes", "on" and their opposites, in any case.  A query
 * parameter given twice counts its last value (SL_MULTI: every value, in
 * order); a header its first; a cookie its last.  Header and cookie values
 * are read as Latin-1, as Starlette reads them (a UTF-8 é arrives as two
 * characters); query values and path parameters as UTF-8, a byte that is
 * not UTF-8 becoming U+FFFD.  The Cookie header is parsed as Starlette
 * parses it ("a=1; b=\"x y\"").
 *
 * Rules, each checked as Pydantic checks it (its error type in brackets):
 *   ge, gt, le, lt    SL_T_INT and SL_T_NUM bounds, as JSON numbers in
 *                     text ("1", "0.5"); integral for SL_T_INT
 *                     [greater_than_equal, greater_than, ...]
 *   min_length, max_length, pattern     SL_T_STR, in characters; pattern
 *                     is a PCRE2 regular expression searched anywhere in
 *                     the value (anchor it with ^...$) [string_too_short,
 *                     string_too_long, string_pattern_mismatch]
 *   choices           SL_T_STR: the only values allowed, a NULL-terminated
 *                     list (a str Enum) [enum]; not with the three above
 *   min_items, max_items    SL_MULTI: the number of values [too_short,
 *                     too_long]
 * A value that does not convert is [int_parsing], [float_parsing] or
 * [bool_parsing]; an absent SL_REQUIRED one [missing].
 *
 * `dflt` is the value an absent parameter takes, written as it would be
 * sent ("10", "true", "abc"; for SL_MULTI a JSON array: "[]", "[\"a\"]"),
 * converted and checked against the rules at registration.  A parameter
 * neither SL_REQUIRED nor defaulted is optional: absent, sl_arg_has() is
 * false.  Path parameters are always required and take no default.
 *
 * A path parameter of the pattern needs no entry: {name} is declared as a
 * string, {id:int} as an integer.  An entry with in = SL_IN_PATH adds rules
 * (or a description) to one; {name} may also be declared SL_T_INT,
 * SL_T_NUM or SL_T_BOOL, converted and checked like a query value, while
 * {id:int} stays SL_T_INT and {rest:path} SL_T_STR.  Header names are
 * HTTP names ("X-Token"), matched case-insensitively and reported as
 * written here; SL_MULTI is for query parameters only.
 */
typedef struct sl_param_def {
    const char *name;           /* query/cookie name, header's HTTP name
                                   (matched case-insensitively), or the
                                   pattern's {name} */
    sl_in in;
    sl_type type;
    unsigned flags;
    const char *dflt;           /* default, as text ("10"); checked against
                                   the rules at registration */
    const char *ge, *gt, *le, *lt;  /* numeric bounds, as text ("1", "0.5") */
    size_t min_length, max_length;  /* strings */
    const char *pattern;        /* strings: a regular expression (PCRE2) */
    const char *const *choices; /* strings: an enum, NULL-terminated */
    size_t min_items, max_items;    /* SL_MULTI */
    const char *description;
} sl_param_def;

/* A route dependency (see "middleware and dependencies" below). */
typedef struct sl_depend {
    int (*fn)(sl_req *req, void *user);    /* SL_NEXT, SL_OK or -errno */
    void *user;
} sl_depend;

/* A documented response besides the success one (docs only). */
typedef struct sl_response_def {
    int status;
    const char *description;
    const char *schema;         /* JSON Schema text of its JSON body, or NULL */
} sl_response_def;

/*
 * A route as a record.  New fields will be added at the end only.
 *
 * `body` declares a JSON request body by its JSON Schema (the 2020-12
 * subset OpenAPI 3.1 uses: type, properties, required,
 * additionalProperties, items, enum, const, minimum, maximum and the
 * exclusive forms, minLength, maxLength, pattern, minItems, maxItems,
 * uniqueItems, a "null" type, $ref to a schema named with sl_schema(),
 * allOf, anyOf, oneOf), validated as Pydantic validates the model it
 * stands for: "5" is a valid integer, absent properties take their
 * "default", undeclared ones are dropped (additionalProperties false:
 * refused, [extra_forbidden]).  The body must come as application/json or
 * a +json type (application/ld+json; parameters allowed) or without a
 * Content-Type; another type
 * with a non-empty body is answered 415.  Text that is not JSON is
 * [json_invalid], answered alone as FastAPI does; an empty body (or the
 * JSON null) is [missing] at ["body"] unless SL_BODY_OPTIONAL (then the
 * schema's "default", or no body).  sl_req_json() returns the validated
 * value.
 *
 * Validation runs on the loop thread after routing; the errors of every
 * input are collected in FastAPI's order (path, query, header, cookie,
 * body) and answered 422 in the app's error format
 * (sl_app_set_error_format()).  `status` is the response's status unless
 * the handler sets another.  `response`, `responses`, `summary`,
 * `description`, `operation_id`, `tags` and `deprecated` only document
 * the route.  Every string is copied.
 */
typedef struct sl_route_def {
    const char *method;         /* as sl_route() */
    const char *pattern;
    sl_handler handler;
    unsigned flags;             /* SL_POOL | SL_LOOP | SL_ENCODED_SLASH | SL_BODY_OPTIONAL */
    const sl_param_def *params; /* ends with an entry whose name is NULL; or NULL */
    const char *body;           /* JSON Schema text of a JSON body, or NULL */
    int status;                 /* the success status (default 200): documented,
                                   and the response's status unless the handler sets one */
    const char *response;       /* JSON Schema text of the success body (docs) */
    const sl_response_def *responses;  /* more responses, status 0 ends; or NULL */
    const char *summary;
    const char *description;
    const char *operation_id;   /* default: made from the path and method,
                                   FastAPI-like ("search_get"): see
                                   sl_app_info() */
    const char *const *tags;    /* NULL-terminated, or NULL */
    int deprecated;
    void *user;                 /* sl_req_route_user() */
    const sl_depend *depends;   /* run before the handler, in order; ends
                                   with an entry whose fn is NULL; or NULL
                                   (see "middleware and dependencies") */
} sl_route_def;
#define SL_BODY_OPTIONAL 4u     /* a declared body may be absent */

/*
 * Register a route record.  Returns 0, -EINVAL for a malformed record, with
 * one error line naming the route and what is wrong ("route GET /search
 * refused: query parameter 'limit': default '0' is refused by its own
 * rules: Input should be greater than or equal to 1"): a bad pattern or
 * method, an unknown `in`, type or flag, a rule that does not apply to the
 * type, a bound that is not a number, a default its own rules refuse, a
 * path parameter the pattern lacks, a name declared twice, a bad regular
 * expression, a schema that is not JSON or not of the subset; -EEXIST for
 * a duplicate route (as sl_route()); -ENOMEM.  sluice_app() returning it
 * stops the start (sluice exits 1 with the line) and --check-config
 * reports it.
 */
SL_API int sl_route_add(sl_app *app, const sl_route_def *def);
/* A whole table, ending with an entry whose method is NULL: stops at the
 * first refusal and returns it. */
SL_API int sl_routes(sl_app *app, const sl_route_def *defs);
/*
 * A named schema, for "$ref": "#/components/schemas/NAME" in bodies and
 * responses; from JSON text, or from a file (path relative to the
 * working directory, read at registration).  Name a schema before the
 * routes that refer to it; schemas may refer to each other (and to
 * themselves) in any order.  Every named schema is compiled once
 * sluice_app() returns: a bad one fails the start like a bad route.
 * Returns 0, -EINVAL (not JSON, a bad name: empty, '/' or '~' in it),
 * -EEXIST (the name is taken), -ENOENT or another -errno for the file,
 * -ENOMEM; each logged as one line.
 */
SL_API int sl_schema(sl_app *app, const char *name, const char *json);
SL_API int sl_schema_file(sl_app *app, const char *name, const char *path);

/*
 * The OpenAPI 3.1 document.  Each worker builds it once at start from the
 * route table and serves it at --openapi-path (default /openapi.json),
 * with a Swagger UI page at --docs-path (default /docs), as FastAPI does;
 * sluice(1), OPENAPI, has the rules.  In short, for each route:
 *   - the path in OpenAPI's form ("/items/{id:int}" is "/items/{id}") and
 *     the method (a "*" route, or a method OpenAPI has no field for, is
 *     left out; a GET route's HEAD is not listed; of templates that differ
 *     only in parameter names, "/u/{x}" and "/u/{y}", one path to OpenAPI,
 *     the first registered is kept);
 *   - summary, description, tags and deprecated as declared;
 *   - operationId: the declared one, else FastAPI's default
 *     (generate_unique_id) without the function's name, which C does not
 *     have: the OpenAPI path less its leading '/', every character that is
 *     not a letter, a digit or '_' made '_', then '_' and the method in
 *     lower case ("search_get"; GET /items/{id:int}: "items__id__get").
 *     One already taken (declared ids are served first, then the table's
 *     order) gets "_2", "_3", ...;
 *   - parameters with the JSON Schema FastAPI publishes for the same
 *     declaration (title, description, default, bounds; an optional one
 *     without a default as anyOf with null); a JSON body, named schemas as
 *     $ref to components/schemas; the success status ("Successful
 *     Response", with the `response` schema), the `responses` declared,
 *     and 422 with FastAPI's HTTPValidationError on every route that
 *     declares a parameter or a body (a problem document under
 *     SL_ERRORS_PROBLEM).
 * A route registered with sl_route() has its path parameters and a plain
 * 200.  The components are the named schemas and, when needed, FastAPI's
 * ValidationError and HTTPValidationError.
 *
 * sl_app_info() sets the document's info: `title` (default: the shared
 * object's file name less ".so", "sluice app" for sl_test_new()),
 * `version` (default "0.1.0", as FastAPI's) and `description` (default
 * none).  NULL keeps a field as it is; strings are copied.  Call it from
 * sluice_app().
 */
SL_API void sl_app_info(sl_app *app, const char *title, const char *version,
                        const char *description);

/*
 * Declared, converted and validated values, by name; from the handler, on
 * the thread that runs it.  A declared parameter always has a value unless
 * it is optional without a default: sl_arg_has() tells (and then the
 * getters return NULL, 0, 0.0 or false).  Strings are owned by the request.
 * The getter must fit the declaration: sl_arg_str for SL_T_STR, _int for
 * SL_T_INT, _num for SL_T_NUM, _bool for SL_T_BOOL, the _at forms and
 * sl_arg_count for SL_MULTI.  Reading a name the route does not declare,
 * with the wrong getter, or past sl_arg_count() is the handler's bug: one
 * error line names the route and the name, and the response ends as a 500
 * whatever the handler does next (unless it calls sl_resp_problem()).  A
 * route registered with sl_route() declares its path parameters only.
 */
SL_API const char *sl_arg_str(sl_req *req, const char *name);
SL_API int64_t sl_arg_int(sl_req *req, const char *name);
SL_API double sl_arg_num(sl_req *req, const char *name);
SL_API bool sl_arg_bool(sl_req *req, const char *name);
SL_API bool sl_arg_has(sl_req *req, const char *name);   /* given or defaulted */
SL_API size_t sl_arg_count(sl_req *req, const char *name);  /* SL_MULTI items */
SL_API const char *sl_arg_str_at(sl_req *req, const char *name, size_t i);
SL_API int64_t sl_arg_int_at(sl_req *req, const char *name, size_t i);
SL_API double sl_arg_num_at(sl_req *req, const char *name, size_t i);
SL_API bool sl_arg_bool_at(sl_req *req, const char *name, size_t i);
/* The matched route record's `user` pointer; NULL for sl_route(). */
SL_API void *sl_req_route_user(const sl_req *req);

/*
 * Errors sluice generates (404, 405, 400 for a bad path, 413, 415, 422,
 * 431, 500 when a handler fails, 503, 504) are written in the app's
 * format:
 *   SL_ERRORS_FASTAPI  as FastAPI writes them, application/json:
 *                      {"detail":"Not Found"}, and the 422 of validation
 *                      {"detail":[{"type":...,"loc":[...],"msg":...,
 *                      "input":...,"ctx":{...}}, ...]}
 *   SL_ERRORS_PROBLEM  RFC 9457, application/problem+json:
 *                      {"type":"about:blank","title":"Not Found",
 *                      "status":404}, the 422 with the same list under
 *                      "errors" and a "detail" counting them
 * An app that sets nothing gets FastAPI's format for bad input to a
 * declared route (its 422 listing what failed, and the 400 and 415 of its
 * body: what a declared route promises) and problem+json for every other
 * error (as sluice has always answered them); an app that sets a format
 * gets it for every error.  The
 * operator's endpoints (--health-path ...) and sl_resp_problem() answer
 * problem+json always.
 */
#define SL_ERRORS_FASTAPI 0     /* {"detail":...} for every error */
#define SL_ERRORS_PROBLEM 1     /* RFC 9457 problem+json, the list under "errors" */
SL_API void sl_app_set_error_format(sl_app *app, int format);
/*
 * Called for every error response sluice makes (404, 405, 413, 415, 422,
 * 431, 500, 503, 504; also 400), and for sl_resp_error(), with sluice's
 * own response already written: it may replace the body, headers and
 * content type (not the status).  `errors` is the 422's list (FastAPI's
 * items), else NULL.  Loop thread (or the pool thread of a pool route's
 * dependency or handler calling sl_resp_error()); must not block.
 *
 * The body it writes (sl_resp_write(), sl_resp_json(), ...) replaces
 * sluice's; writing none keeps it.  sl_resp_header() adds headers, and a
 * Content-Type replaces sluice's.  The request's input can be read as in
 * a handler.  A non-zero return, an invalid header or a changed status
 * puts sluice's own answer back (logged).  For a 504 the request is a copy
 * holding its input, since the handler still owns the real one.
 */
typedef int (*sl_error_handler)(sl_req *req, int status, json_object *errors);
SL_API void sl_on_error(sl_app *app, sl_error_handler handler);

/* ---- middleware and dependencies ------------------------------------ */

/*
 * Middleware runs around every request of the app, as Starlette's
 * middleware does (`async def dispatch(request, call_next)`): C has no
 * coroutine to suspend at call_next(), so one middleware is a record of
 * the two halves of such a function, the part before call_next()
 * (`before`) and the part after it (`after`), with a pointer they share:
 *
 *     static int auth(sl_req *req, void *user)
 *     {
 *         if (sl_req_header(req, "Authorization") == NULL)
 *             return sl_resp_error(req, 401, "Not authenticated");
 *         return SL_NEXT;
 *     }
 *     static void log_it(sl_req *req, void *user)
 *     {
 *         fprintf(stderr, "%s %d %.1f ms\n", sl_req_path(req),
 *                 sl_resp_get_status(req), sl_req_elapsed_ns(req) / 1e6);
 *     }
 *     static const sl_middleware mw[] = {
 *         { .after = log_it },
 *         { .prefix = "/admin", .before = auth },
 *     };
 *     ... sl_middleware_add(app, &mw[0]); sl_middleware_add(app, &mw[1]);
 *
 * The `before` halves run in registration order on the loop thread, after
 * the path is resolved and BEFORE routing: so an auth middleware answers
 * 401 before a 404, 405 or 422 can tell which routes exist.  Each returns
 * SL_NEXT to go on (to the next middleware, then routing, validation,
 * dependencies and the handler), SL_OK when it wrote the whole response
 * itself (sl_resp_error(), sl_resp_problem(), sl_resp_status() and
 * sl_resp_write() ...; the chain stops there), or a negative errno value
 * (a 500, logged).  It must not block; it may read the request as a
 * handler does (no route is matched yet: sl_req_route() is "" and there
 * are no path parameters or declared values) and attach values with
 * sl_req_set_value().
 *
 * The `after` halves run in the reverse order (the first registered is
 * the outermost, as in Starlette), once the response is complete and
 * before it is encoded, on the loop thread, whatever made it: the
 * handler (a loop handler answering later from a timer, or a pool
 * handler: then on the loop once it returned), a 404/405/422 of routing
 * and validation, a dependency or an inner middleware that answered.
 * They see the status, headers, body length and elapsed time
 * (sl_resp_get_status(), sl_resp_get_header(), sl_resp_body_length(),
 * sl_req_elapsed_ns()) and may add headers (sl_resp_header()) or change
 * the body.  An `after` runs only if its `before` went on (returned
 * SL_NEXT) or it has no `before`: a middleware that answers itself does
 * not see its own answer.  For a streamed response (sl_resp_flush()) the
 * head is already out: sl_resp_header() then returns -EALREADY.  A
 * request cancelled by the web server or answered 504 (--timeout) has no
 * response to see: no `after` runs for it (the access log has it).
 *
 * `prefix` scopes a middleware to the paths under it: "/admin" is
 * "/admin" and "/admin/..." (not "/administrator"), matched against the
 * normalised path (sl_req_path()); NULL, "" or "/" is every path.
 *
 * Not seen by middleware: the operator's endpoints (--health-path,
 * --metrics-path ...), which are sluice's, not the app's; and what
 * sluice refuses before any of the app runs (a 400 for a path that does
 * not resolve, 413, 431, the 503 of --limit-concurrency).
 */
#define SL_NEXT 2       /* middleware and dependencies: go on */

typedef struct sl_middleware {
    const char *prefix;         /* only paths under it; NULL: all (copied) */
    int (*before)(sl_req *req, void *user);  /* SL_NEXT, SL_OK or -errno; or NULL */
    void (*after)(sl_req *req, void *user);  /* or NULL */
    void *user;
} sl_middleware;

/*
 * Add a middleware, after those added before (from sluice_app()).
 * Returns 0, -EINVAL (no app or record, neither half, a prefix not
 * starting with '/', more than 64 middlewares), -ENOMEM; logged.
 */
SL_API int sl_middleware_add(sl_app *app, const sl_middleware *mw);

/*
 * Route dependencies, FastAPI's Depends: the functions of a route record's
 * `depends` run after routing and validation, before the handler, in
 * order, on the thread that runs the handler: the loop for an SL_LOOP
 * route, the handler's pool thread for a pool route (so a dependency of a
 * pool route may block: look the session up in a database).  Each gets
 * the request (the declared values are readable: sl_arg_*) and its
 * entry's `user`, and returns as a middleware's `before`: SL_NEXT to go
 * on, SL_OK when it answered (sl_resp_error(req, 401, ...); the handler
 * and the dependencies after it do not run), or a negative errno (500).
 * One that goes on may attach a value for the handler:
 *
 *     static int current_user(sl_req *req, void *user)
 *     {
 *         struct account *a = lookup(sl_req_header(req, "X-Token"));
 *         if (a == NULL)
 *             return sl_resp_error(req, 401, "Not authenticated");
 *         return sl_req_set_value(req, "user", a, free) < 0 ? -ENOMEM : SL_NEXT;
 *     }
 *     static const sl_depend needs_user[] = {{ current_user }, { NULL }};
 *     { .method = "GET", .pattern = "/me", .handler = me,
 *       .depends = needs_user },
 *
 * and the handler reads sl_req_value(req, "user").
 */

/*
 * A value attached to the request by name, for a later middleware,
 * dependency, handler or `after` (Starlette's request.state).  Setting a
 * name again replaces its value (the old one is freed with its free_fn).
 * `free_fn` (may be NULL) is called with the value when the request ends.
 * From the thread that runs the request.  0, -EINVAL (NULL name), -ENOMEM
 * (free_fn is then called on `value`).
 */
SL_API int sl_req_set_value(sl_req *req, const char *name, void *value,
                            void (*free_fn)(void *));
/* The value attached as `name`, or NULL. */
SL_API void *sl_req_value(const sl_req *req, const char *name);

/*
 * Answer with an error in the app's format (sl_app_set_error_format():
 * {"detail":"Not authenticated"} as FastAPI's HTTPException, or
 * problem+json), then the app's error handler (sl_on_error()), as sluice's
 * own errors; `detail` may be NULL (the status text).  Returns SL_OK, so
 * that `return sl_resp_error(req, 403, "Forbidden");` answers; or a
 * negative errno for a status outside 400-599.  Any thread that runs the
 * request (the error handler then runs there).
 */
SL_API int sl_resp_error(sl_req *req, int status, const char *detail);

/* The response as an `after` sees it: its status; the value of its
 * header `name` (case-insensitive; Content-Type is the default one when
 * none was set and the status has a body) copied into buf[size]: its
 * length, -ENOENT when absent, -ERANGE when cut to fit; its body's length
 * in bytes (flushed parts included). */
SL_API int sl_resp_get_status(const sl_req *req);
SL_API int sl_resp_get_header(const sl_req *req, const char *name, char *buf, size_t size);
SL_API uint64_t sl_resp_body_length(const sl_req *req);
/* Nanoseconds since the request's input was all in (before middleware). */
SL_API uint64_t sl_req_elapsed_ns(const sl_req *req);

/* ---- stock middleware ---------------------------------------------- */

/*
 * CORS, as Starlette's CORSMiddleware (the nginx way: README).  A request
 * without Origin passes untouched.  A preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered here, without reaching a
 * route: `preflight_status` (0: 200 with the body "OK", as Starlette; 204
 * without a body) with Access-Control-Allow-Origin (the origin itself, or
 * "*" when any origin is allowed without credentials), -Allow-Methods,
 * -Allow-Headers (the CORS-safelisted Accept, Accept-Language,
 * Content-Language and Content-Type plus `allow_headers`, sorted; the
 * requested ones when "*"), -Max-Age, -Allow-Credentials, and Vary:
 * Origin; a preflight whose origin, method or headers are not allowed is
 * answered 400 "Disallowed CORS origin, method, headers" (those that
 * failed), with no Access-Control-* header.  Other requests from an
 * allowed origin go on, and their response gets Access-Control-Allow-
 * Origin (the origin itself, with Vary: Origin, unless any origin is
 * allowed without credentials and no Cookie was sent: "*"),
 * -Allow-Credentials and -Expose-Headers.  A request from an origin not
 * allowed goes on and its response gets no CORS header (Starlette still
 * adds -Allow-Credentials and -Expose-Headers there; a browser ignores
 * them without -Allow-Origin).  Origins compare exactly (scheme, host,
 * port, as sent); methods and headers as Starlette: methods exactly,
 * header names case-insensitively.  The simple headers are set before
 * routing, so they stay on streamed answers and on sluice's 404/405/422;
 * a handler's failure (a 500) drops them, as an exception does in
 * Starlette.  With allow_credentials and "*", a request gets its origin
 * back (Starlette sends "*", which a browser refuses with credentials).
 */
typedef struct sl_cors {
    const char *const *allow_origins;   /* NULL-terminated; "*": any */
    const char *const *allow_methods;   /* NULL-terminated; NULL: GET only;
                                           "*": DELETE GET HEAD OPTIONS
                                           PATCH POST PUT */
    const char *const *allow_headers;   /* NULL-terminated or NULL; "*": any */
    const char *const *expose_headers;  /* NULL-terminated or NULL */
    bool allow_credentials;
    int max_age;                /* seconds; 0: 600 (Starlette's); < 0: no header */
    int preflight_status;       /* 0 or 200: 200 "OK"; 204 */
} sl_cors;
/* Add CORS as a middleware of every path (sl_middleware_add()); every
 * string is copied.  0, -EINVAL (a status other than 0, 200 or 204, a
 * string with a control byte or a ',' in a name), -ENOMEM; logged. */
SL_API int sl_cors_add(sl_app *app, const sl_cors *cors);

/*
 * Trusted hosts, as Starlette's TrustedHostMiddleware: a request whose
 * Host (without its port; case-insensitive) is not one of `hosts` is
 * answered 400 "Invalid host header" (text/plain) before routing.  An
 * entry "*.example.com" allows every subdomain of example.com (not
 * example.com itself), "*" any host.  As Starlette with www_redirect, a
 * host H not allowed while "www.H" is gets a 307 to the same URL on
 * www.H.  `hosts` is NULL-terminated and copied.  0, -EINVAL (empty list,
 * empty entry, '*' but as a leading "*." or alone), -ENOMEM; logged.
 */
SL_API int sl_trusted_hosts_add(sl_app *app, const char *const *hosts);

/*
 * A request-timing header on every response: "Server-Timing:
 * app;dur=1.234", the milliseconds from the request's input being in to
 * its response being complete (middleware, routing, validation,
 * dependencies, the handler and its queueing for a pool thread), which a
 * browser's developer tools show.  Add it first to time the other
 * middleware too.  Not on a streamed response (its head went out before
 * the end).  It tells every client how long a request took: add it where
 * that is fine.  0, -ENOMEM.
 */
SL_API int sl_timing_add(sl_app *app);

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
/* The body parsed as JSON, owned by the request; NULL when it is not JSON.
 * On a route that declares a body: the validated value (converted,
 * defaults filled), NULL only for an optional body that is absent. */
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

/*
 * Set-or-replace: every header named `name` set so far (any case) is
 * dropped, then this one added; sl_resp_header() adds one more instead (a
 * second Set-Cookie, say).  Same checks and results as sl_resp_header().
 */
SL_API int sl_resp_set_header(sl_req *req, const char *name, const char *value);
/*
 * A redirect: `status` 301, 302, 303, 307 or 308 (0: 307, the default of
 * FastAPI's RedirectResponse), Location `url` (set-or-replace) and an
 * empty body.  The URL is quoted as Starlette's RedirectResponse quotes
 * it: every byte but letters, digits, "-._~" and ":/%#?=@[]!$&'()*+,;"
 * becomes %XX (a space, a control byte, a byte past ASCII), so no URL
 * can break the header.  Returns 0, -EINVAL (another status, an empty or
 * NULL url: the response is left as it was), -EALREADY, -ENOMEM.
 */
SL_API int sl_resp_redirect(sl_req *req, int status, const char *url);
/* 201 Created with Location `location` (quoted as above); the body is the
 * handler's to write (sl_resp_json() of the new resource, say). */
SL_API int sl_resp_created(sl_req *req, const char *location);

/* How sl_resp_send_file() asks the web server for the file. */
enum {
    SL_FILE_ACCEL = 1,      /* nginx: X-Accel-Redirect: <uri> */
    SL_FILE_SENDFILE = 2,   /* Apache mod_xsendfile, lighttpd: X-Sendfile: <path> */
};
/*
 * Answer with a file that the web server sends itself (so Range,
 * If-Modified-Since, sendfile(2) and its buffers are the web server's):
 * SL_FILE_ACCEL sets X-Accel-Redirect to `path`, a URI that nginx serves
 * from an `internal` location (conf/nginx/sluice.conf, /protected/),
 * percent-encoded as nginx decodes it (a space, '?', '#', '%', a byte past
 * ASCII become %XX); SL_FILE_SENDFILE sets X-Sendfile to `path`, a file
 * system path, as it is.  The body written so far is dropped and none may
 * follow; the default Content-Type is not sent, so the web server picks the
 * file's; a Content-Type or Content-Disposition the handler sets stays
 * (nginx keeps them from sluice).  The status is left as it is (200).
 * Returns 0; -EINVAL (NULL, not absolute, a control byte, a ".." segment,
 * another `how`: the response is left as it was); -EALREADY; -ENOMEM.
 */
SL_API int sl_resp_send_file(sl_req *req, const char *path, int how);

/* ---- cookies and sessions ------------------------------------------- */

/*
 * The value of cookie `name` in the request's Cookie header, parsed as
 * Starlette parses it (chunks split at ';', "name=value" split at the
 * first '=' and stripped, a double-quoted value unquoted); a name sent
 * twice gives its last value, as Starlette's request.cookies does.  Bytes
 * are read as Latin-1 and returned as UTF-8 (as sl_param_def cookies).
 * NULL when absent.  Owned by the request.
 */
SL_API const char *sl_req_cookie(sl_req *req, const char *name);

/* SameSite (sl_cookie.samesite). */
#define SL_SAMESITE_LAX 0       /* the default, as Starlette's set_cookie */
#define SL_SAMESITE_STRICT 1
#define SL_SAMESITE_NONE 2      /* sent cross-site; adds Secure, without which
                                   browsers refuse SameSite=None */
#define SL_SAMESITE_OMIT 3      /* no SameSite attribute */

/*
 * A cookie's attributes (RFC 6265bis).  Zero means the default: a static
 * or designated-initializer record reads well, and NULL in place of one
 * means all defaults (Path=/; SameSite=Lax, as Starlette's set_cookie).
 */
typedef struct sl_cookie {
    int64_t max_age;            /* Max-Age in seconds (> 0); 0: none */
    int64_t expires;            /* Expires, a Unix time (> 0); 0: none */
    const char *path;           /* NULL: "/"; "": no Path attribute */
    const char *domain;         /* NULL: none (the cookie is host-only) */
    bool secure;
    bool httponly;
    int samesite;               /* SL_SAMESITE_* */
} sl_cookie;

/*
 * Add a Set-Cookie header "name=value; Expires=...; Max-Age=...;
 * Domain=...; Path=...; Secure; HttpOnly; SameSite=Lax" (the attributes
 * present in that order).  `name` must be an HTTP token; `value` only
 * RFC 6265 cookie-octets (visible ASCII but '"', ',', ';' and '\'; may be
 * empty): a value that would need quoting is refused, not quoted, since
 * clients disagree on unquoting; encode such values first (percent-
 * encoding, base64url) or use a signed cookie, whose value is any text.
 * Path and Domain may hold no ';' nor control byte, a Domain only
 * letters, digits, '-' and '.'.  The whole header value is at most 4096
 * bytes, what every browser keeps.  Returns 0; -EINVAL (a bad name,
 * value, path, domain, a negative max_age or expires, an unknown
 * samesite); -EMSGSIZE (past 4096 bytes); -EALREADY (the head was
 * flushed); -ENOMEM.  On a refusal nothing is added and the response
 * goes on (unlike sl_resp_header()'s, these refusals do not make it a 500).
 */
SL_API int sl_resp_set_cookie(sl_req *req, const char *name, const char *value,
                              const sl_cookie *opts);
/*
 * Delete cookie `name` as Starlette's delete_cookie does: an empty value
 * with Max-Age=0 and an Expires in the past (1 January 1970), with the
 * Path, Domain, Secure, HttpOnly and SameSite of `opts` (they must be
 * those the cookie was set with for the browser to match it; NULL:
 * defaults).  max_age and expires of `opts` are ignored.  Results as
 * sl_resp_set_cookie().
 */
SL_API int sl_resp_delete_cookie(sl_req *req, const char *name, const sl_cookie *opts);

/*
 * Signed cookies.  The value sent is
 *
 *     base64url(value) "." base64url(HMAC-SHA256(secret, name "=" base64url(value)))
 *
 * (RFC 4648 base64url without padding): any text fits, the cookie's name
 * is signed with it (a value signed for one cookie does not verify as
 * another), and the signature is compared in constant time.  A signed
 * value is readable by the client: sign, do not hide.  It does not
 * expire by itself: Max-Age asks the browser to drop it, and changing the
 * secret invalidates every cookie signed with the old one.
 *
 * The secret is the config key `secret` (config file only, so it never
 * shows in a process list; at least 16 bytes; never logged nor printed by
 * --check-config).  Unset, the master makes a random one at start, before
 * it forks, so every worker shares it (and a reload keeps it); cookies
 * then do not survive a restart.  The in-process test client makes a
 * random one per client.  sl_app_set_secret() replaces it for one app
 * (from sluice_app() or a start hook): `len` bytes of `key`, at least 16.
 * 0, or -EINVAL.
 */
SL_API int sl_app_set_secret(sl_app *app, const void *key, size_t len);
/* Set cookie `name` to `value` (NUL-terminated text) signed, with `opts`
 * as sl_resp_set_cookie(); also -ENOKEY when there is no secret. */
SL_API int sl_resp_set_signed_cookie(sl_req *req, const char *name, const char *value,
                                     const sl_cookie *opts);
/*
 * Read signed cookie `name`: *value gets its text (owned by the request).
 * 0; -ENOENT when absent; -EBADMSG when it is not of the form above, its
 * signature does not verify (a changed value or signature, a value signed
 * with another secret or for another name, a cut one) or its text holds a
 * NUL; -ENOKEY without a secret; -ENOMEM.  *value is NULL but on 0.
 */
SL_API int sl_req_signed_cookie(sl_req *req, const char *name, const char **value);

/*
 * A session: a JSON object kept in signed cookie `name`, as Starlette's
 * SessionMiddleware keeps request.session.  sl_session() returns the
 * object, owned by the request: the cookie's when it verifies and holds a
 * JSON object, otherwise a new empty one (absent, tampered or malformed:
 * the session starts anew).  Change it with json-c, then sl_session_save()
 * sets the cookie: with `opts` (NULL: Path=/, HttpOnly, SameSite=Lax,
 * Max-Age 14 days, as SessionMiddleware), or, when the object is empty and
 * the request had a session cookie, deletes it.  One session per request:
 * another name gets NULL, as do a missing secret and no memory.
 * sl_session_save() returns 0; -EMSGSIZE when the cookie would pass 4096
 * bytes (nothing is set; keep big data server-side); -EINVAL without an
 * sl_session() first; -ENOKEY, -EALREADY, -ENOMEM.
 */
SL_API json_object *sl_session(sl_req *req, const char *name);
SL_API int sl_session_save(sl_req *req, const sl_cookie *opts);

/* ---- logging -------------------------------------------------------- */

/* Levels, most severe first, as --log-level names them. */
#define SL_LEVEL_ERROR 0
#define SL_LEVEL_WARN 1
#define SL_LEVEL_INFO 2
#define SL_LEVEL_DEBUG 3

/*
 * Write one line to sluice's error log at `level`, when --log-level lets
 * it through, in its format (text or --log-format json), tagged as every
 * line with the time, sluice[pid] and "worker", then "app (id ID):" with
 * the request id (sl_req_id()), or "app:" for sl_app_log() (hooks, timers).
 * The message is escaped as the other lines quote peer bytes: a control
 * byte, '"', '\' and bytes past ASCII become \xHH, so it stays one line;
 * past about 2000 bytes it is cut.  Any thread.  Returns 0, or -EINVAL for
 * an unknown level (nothing written).  What an app writes to stderr is
 * still logged too, as "warn: app: ..." lines.
 */
SL_API int sl_req_log(sl_req *req, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
SL_API int sl_app_log(sl_app *app, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
