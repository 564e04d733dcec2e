/*
 * request.h: struct sl_req, shared by the request accessors (request.c), the
 * response builder (response.c) and the worker that serves it (its
 * connection, its dispatch), which owns it and makes, reuses and frees it
 * with sl_req_init(), sl_req_reset() and sl_req_destroy().
 */
#ifndef SLUICE_REQUEST_H
#define SLUICE_REQUEST_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>
#include <sluice.h>
#include "api/router.h"
#include "config/config.h"
#include "util/buf.h"

struct sl_conn;
struct sl_flow;
typedef struct sl_req_host sl_req_host;

enum sl_req_state {
    SL_REQ_PARAMS,          /* receiving PARAMS */
    SL_REQ_BODY,            /* receiving STDIN */
    SL_REQ_RUNNING,         /* handed to the handler */
    SL_REQ_DONE             /* response ended */
};

/* Offsets into sl_req.pstore, which --max-params-size keeps far below
 * 4 GiB: half the bytes of size_t for every parameter of every request. */
typedef struct sl_param {
    uint32_t name;
    uint32_t value;
} sl_param;

/* CGI parameters sluice itself reads, found once while indexing. */
enum sl_known_param {
    SL_P_METHOD,            /* REQUEST_METHOD */
    SL_P_URI,               /* REQUEST_URI */
    SL_P_QUERY,             /* QUERY_STRING */
    SL_P_CLEN,              /* CONTENT_LENGTH */
    SL_P_DOC_URI,           /* DOCUMENT_URI */
    SL_P_SCRIPT,            /* SCRIPT_NAME */
    SL_P_PATH_INFO,         /* PATH_INFO */
    SL_P_REQID,             /* HTTP_X_REQUEST_ID */
    SL_P_REMOTE,            /* REMOTE_ADDR */
    SL_P_ORIGIN,            /* HTTP_ORIGIN: CORS asks on every request */
    SL_P_KNOWN
};

/* The values of a declared route's parameters (api/args.c), in the order
 * of its decl (NULL: absent), and what a getter misused said, for the
 * 500's log line.  Freed with the request. */
typedef struct sl_args {
    size_t n;
    char error[224];
    json_object *v[];
} sl_args;

/* A decoded query value, kept until the request ends. */
typedef struct sl_qcache {
    struct sl_qcache *next;
    char *name;
    char *value;            /* NULL: absent */
} sl_qcache;

struct sl_req {
    struct sl_req *next;            /* in the connection's list */
    struct sl_conn *conn;           /* NULL once the connection is gone */
    const sl_req_host *host;        /* who serves it; NULL: no one */
    sl_app *app;
    enum sl_proto proto;
    uint16_t id;                    /* FastCGI request id */
    uint8_t keep_conn;              /* FCGI_KEEP_CONN */
    enum sl_req_state state;

    /* Input */
    sl_buf raw_params;              /* FastCGI PARAMS stream, until complete */
    int params_dropped;             /* past --max-params-size: 431 */
    sl_buf pstore;                  /* the names and values, each ending
                                       in a NUL, where params[] says */
    size_t params_size;             /* the parameters as such pairs: their
                                       size, as the metrics count it */
    sl_param *params;
    size_t nparams;
    size_t params_cap;
    const char *known[SL_P_KNOWN];  /* NULL: absent; the last one wins */
    size_t known_at[SL_P_KNOWN];    /* 1 + its index in params, 0: absent */
    sl_buf body;
    unsigned long long content_length;
    char *path;                     /* normalised path (path.h); NULL
                                       until resolved */
    uint32_t *path_enc;             /* its slashes sent as %2F (offsets),
                                       in the same block as path */
    sl_buf path_room;               /* that block, kept for the next request */
    size_t path_nenc;
    sl_match match;
    char *pparams[SL_ROUTER_MAX_PARAMS]; /* NUL-terminated path params */
    sl_qcache *qcache;
    json_object *json;
    int json_tried;
    sl_args *args;                  /* declared values; NULL: none */

    /* In flight: on the worker's running list from dispatch to finish. */
    struct sl_req *wprev, *wnext;
    uint64_t start_ns;              /* uv_hrtime() when dispatched */
    uint64_t handler_ns;            /* when its handler started (queue time) */
    unsigned route_id;              /* scoreboard route index */
    int sb_entry;                   /* 1 + its in-flight entry in the slot */
    pthread_t thread;               /* the pool thread running it */
    int on_thread;                  /* 1 while a pool thread runs it */
    int timed_out;                  /* answered 504; the handler's result is
                                       discarded */
    int slow_logged;
    char request_id[64];
    char what[128];                 /* "GET /items/{id:int}", for crash reports */
    struct sl_flow *flow;           /* streaming from a pool thread (the
                                       worker's, released by it) */

    /* Handler */
    uv_work_t work;
    int handler_rc;
    void *data;
    sl_cancel_cb on_cancel;
    int cancelled;
    int later;                      /* handler returned SL_LATER */
    unsigned mw_stop;               /* middleware: the befores ran up to
                                       here (api/middleware.h); 0: none */
    struct sl_value *values;        /* sl_req_set_value(); NULL: none */

    /* Response */
    int status;
    sl_buf headers;                 /* "Name: value\r\n" ... */
    int has_ctype;
    int has_clen;                   /* the handler set Content-Length */
    sl_buf out;                     /* body not yet encoded */
    int head_sent;                  /* status and headers flushed */
    const char *resp_error;         /* an invalid status or header was set */
    uint64_t bytes_out;

    /* Cookies and the session (api/cookie.c, cookie_sign.c, session.c). */
    void *cookie_kv;                /* the Cookie header's pairs: an sl_kv
                                       array and their text, one block */
    size_t ncookies;
    int cookies_parsed;
    struct sl_keep *keep;           /* text handed to the handler */
    json_object *session;           /* sl_session(); NULL: none */
    char *session_name;
    int session_had;                /* the request sent that cookie */
};

/* Memory handed to the handler and kept until the request ends. */
typedef struct sl_keep {
    struct sl_keep *next;
    char data[];
} sl_keep;

/*
 * What the request's owner does for the response functions that reach
 * past the request: sending a flushed part, and ending a response later.
 * The owner (the worker) sets req->host; neither is on the path of an
 * ordinary request, which its handler's return ends.
 */
struct sl_req_host {
    /* sl_resp_flush(): send `bytes` (taken; left empty), from the thread
     * running the handler, loop or pool.  0 or -errno. */
    int (*flush)(sl_req *req, sl_buf *bytes);
    /* sl_resp_end() of a handler that returned SL_LATER: 0, or -EINVAL
     * off the loop thread. */
    int (*end)(sl_req *req);
    /* The response of a request that has no connection is complete (loop
     * thread, before the request is freed): the in-process test client
     * takes it here (sl_resp_encode).  NULL for a worker's requests: of
     * those, only one whose peer went away or that was cancelled reaches
     * it, never an ordinary one. */
    void (*sink)(sl_req *req);
};

/* Make the memory at `req` a new request: empty, status 200, no host. */
void sl_req_init(sl_req *req);
/* Make a request that has ended new again, for the next one: what it owns
 * is freed but its buffers and parameter index, which are emptied and
 * kept (up to a size) so the next request allocates nothing for them. */
void sl_req_reset(sl_req *req);
/* Free all the request owns (the struct itself is the owner's); it is left
 * new and empty. */
void sl_req_destroy(sl_req *req);

/* Store one CGI parameter, copied from outside the store (SCGI's header).
 * 0, or -ENOMEM. */
int sl_req_add_param(sl_req *req, const char *name, size_t nlen,
                     const char *value, size_t vlen);
/*
 * The FastCGI PARAMS stream in req->raw_params is complete: it becomes the
 * parameter store, each pair made "name\0value\0" where it lies (names
 * move one byte, values not at all), and is indexed; state SL_REQ_BODY.
 * The last NUL takes the byte after the stream: the buffer is grown by that
 * byte when it has no room (a connection's read leaves some as a rule).
 * NULL, or why the stream is refused (malformed, a NUL in a parameter, out
 * of memory).
 */
const char *sl_req_params_from_fcgi(sl_req *req);

/* Once all are stored: find the well-known ones.  0, or -ENOMEM. */
int sl_req_index_params(sl_req *req);
/* A well-known parameter, or NULL. */
static inline const char *sl_req_known(const sl_req *req, enum sl_known_param p)
{
    return req->known[p];
}

/*
 * The path routing sees, from REQUEST_URI (up to '?' or '#'), else
 * DOCUMENT_URI, else SCRIPT_NAME + PATH_INFO (those two decoded already:
 * not decoded again), normalised as nginx's $uri (path.h) into req->path,
 * with req->path_enc/path_nenc.  0; -EINVAL with *why set to
 * what is wrong (a malformed escape, a NUL, a path climbing above the
 * root, one not starting with '/'): the client's error; -ENOMEM.
 */
int sl_req_resolve_path(sl_req *req, const char **why);

/*
 * Encode what the handler wrote into `out` for the wire: on the first call
 * the status line and headers, then the body bytes; with `final` the end of
 * the response (FastCGI: empty STDOUT + END_REQUEST).  Thread-safe as long
 * as one thread owns the request.  0, or -ENOMEM.
 */
int sl_resp_encode(sl_req *req, sl_buf *out, int final);

/*
 * The whole of a problem answer (as sl_resp_problem() makes it, with the
 * request id as X-Request-ID, "" or NULL: none), encoded into `out` for
 * `proto` and FastCGI request `id`, without a request: the answer to a
 * request whose own response a handler still holds (a 504).  0, or
 * -ENOMEM.
 */
int sl_resp_encode_problem(sl_buf *out, enum sl_proto proto, uint16_t id, int status,
                           const char *detail, const char *request_id);

#endif
