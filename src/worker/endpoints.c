/* endpoints.c: health, status and metrics (see endpoints.h). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include "util/log.h"
#include "worker/endpoints.h"

/*
 * The accept queue of the first TCP listener: Linux reports it for a
 * listening socket in tcpi_unacked.  For unix sockets the kernel has no
 * such call, so the status says null.
 */
static long listen_queue(const sl_endpoints *e)
{
    for (int i = 0; i < e->nlisteners; i++) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        if (e->listener_fds[i] >= 0 &&
            getsockopt(e->listener_fds[i], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
            return (long)ti.tcpi_unacked;
    }
    return -1;
}

static void health(const sl_endpoints *e, int draining, sl_req *req)
{
    int stopping = draining || (e->sb != NULL && e->sb->pool.draining);
    sl_resp_status(req, stopping ? 503 : 200);
    sl_resp_write(req, stopping ? "draining\n" : "ok\n", stopping ? 9 : 3);
}

static void status(const sl_endpoints *e, int draining, sl_req *req)
{
    (void)draining;
    const char *qs = sl_req_query_string(req);
    int full = strcmp(qs, "full") == 0 || strncmp(qs, "full&", 5) == 0 ||
               sl_req_query(req, "full") != NULL;
    sl_resp_header(req, "Content-Type", "application/json");
    sl_resp_header(req, "Cache-Control", "no-store");
    if (sl_sb_status_json(e->sb, full, listen_queue(e), &req->out) < 0)
        sl_resp_problem(req, 500, NULL);
}

static void metrics(const sl_endpoints *e, int draining, sl_req *req)
{
    (void)draining;
    sl_resp_header(req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    sl_resp_header(req, "Cache-Control", "no-store");
    if (sl_sb_metrics_text(e->sb, &req->out) < 0)
        sl_resp_problem(req, 500, NULL);
}

/* The app's OpenAPI document and its page, from memory (apidocs.h). */
static void openapi_doc(const sl_endpoints *e, int draining, sl_req *req)
{
    (void)draining;
    sl_resp_header(req, "Content-Type", "application/json");
    sl_resp_write(req, e->docs.json, e->docs.json_len);
}

static void docs_page(const sl_endpoints *e, int draining, sl_req *req)
{
    (void)draining;
    sl_resp_header(req, "Content-Type", "text/html; charset=utf-8");
    sl_resp_write(req, e->docs.html, e->docs.html_len);
}

int sl_endpoint_answer(const sl_endpoints *e, int draining, sl_req *req)
{
    const sl_config *cfg = e->cfg;
    const char *path = req->path;
    void (*answer)(const sl_endpoints *, int, sl_req *) = NULL;
    const char *pattern = NULL;
    if (cfg->health_path[0] && strcmp(path, cfg->health_path) == 0) {
        answer = health;
        pattern = cfg->health_path;
    } else if (cfg->status_path[0] && e->sb && strcmp(path, cfg->status_path) == 0) {
        answer = status;
        pattern = cfg->status_path;
    } else if (cfg->metrics_path[0] && e->sb && strcmp(path, cfg->metrics_path) == 0) {
        answer = metrics;
        pattern = cfg->metrics_path;
    } else if (e->docs.json != NULL && strcmp(path, e->docs.openapi_path) == 0) {
        answer = openapi_doc;
        pattern = e->docs.openapi_path;
    } else if (e->docs.html != NULL && strcmp(path, e->docs.docs_path) == 0) {
        answer = docs_page;
        pattern = e->docs.docs_path;
    }
    if (answer == NULL)
        return 0;
    req->match.pattern = pattern;
    /*
     * They are documents to read: any other method is a 405, counted with
     * the router's under "unmatched", so that methods made up by a peer do
     * not each take a row of the metrics table.
     */
    const char *m = sl_req_method(req);
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
        sl_resp_problem(req, 405, NULL);
        sl_resp_header(req, "Allow", "GET, HEAD");
        return 1;
    }
    if (e->sb != NULL)
        req->route_id = sl_sb_route_id(e->sb, m, pattern);
    answer(e, draining, req);
    return 1;
}

/* Register one row; say so when the table has no room left for it. */
static void register_row(sl_scoreboard *sb, const char *method, const char *pattern)
{
    if (sl_sb_route_register(sb, method, pattern) == SL_SB_ROUTE_OVERFLOW)
        sl_warn("the metrics table is full (%d routes): %s %s is counted under "
                "route \"overflow\"", SL_SB_ROUTES - 2, method, pattern);
}

void sl_endpoint_register_routes(const sl_endpoints *e, const sl_router *router)
{
    if (e->sb == NULL)
        return;
    const char *method, *pattern;
    for (size_t i = 0; sl_router_route_at(router, i, &method, &pattern) == 0; i++)
        if (strcmp(method, "*") != 0)
            register_row(e->sb, method, pattern);
    const sl_config *cfg = e->cfg;
    const char *paths[] = {cfg->health_path, cfg->status_path, cfg->metrics_path,
                           e->docs.openapi_path, e->docs.docs_path};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (paths[i] != NULL && paths[i][0] != '\0')
            register_row(e->sb, "GET", paths[i]);
}
