/* request.c: struct sl_req and the request accessors of sluice.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "request.h"
#include "router.h"
#include "worker.h"

sl_req *sl_req_new(struct sl_conn *conn, enum sl_proto proto, uint16_t id)
{
    sl_req *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->conn = conn;
    req->proto = proto;
    req->id = id;
    req->status = 200;
    sl_buf_init(&req->raw_params);
    sl_buf_init(&req->pstore);
    sl_buf_init(&req->body);
    sl_buf_init(&req->headers);
    sl_buf_init(&req->out);
    return req;
}

void sl_req_free(sl_req *req)
{
    if (req == NULL)
        return;
    sl_buf_free(&req->raw_params);
    sl_buf_free(&req->pstore);
    sl_buf_free(&req->body);
    sl_buf_free(&req->headers);
    sl_buf_free(&req->out);
    free(req->params);
    free(req->path);
    for (int i = 0; i < SL_ROUTER_MAX_PARAMS; i++)
        free(req->pparams[i]);
    while (req->qcache != NULL) {
        sl_qcache *q = req->qcache;
        req->qcache = q->next;
        free(q->name);
        free(q->value);
        free(q);
    }
    if (req->json != NULL)
        json_object_put(req->json);
    if (req->flow != NULL)
        sl_worker_flow_release(req->worker, req->flow);
    free(req);
}

int sl_req_add_param(sl_req *req, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
    static const char nul = '\0';
    if (sl_buf_append(&req->pstore, name, nlen) < 0 ||
        sl_buf_append(&req->pstore, &nul, 1) < 0 ||
        sl_buf_append(&req->pstore, value, vlen) < 0 ||
        sl_buf_append(&req->pstore, &nul, 1) < 0)
        return -ENOMEM;
    req->nparams++;
    return 0;
}

int sl_req_index_params(sl_req *req)
{
    free(req->params);
    req->params = NULL;
    if (req->nparams == 0)
        return 0;
    req->params = calloc(req->nparams, sizeof *req->params);
    if (req->params == NULL)
        return -ENOMEM;
    size_t off = 0;
    for (size_t i = 0; i < req->nparams; i++) {
        req->params[i].name = off;
        off += strlen(req->pstore.data + off) + 1;
        req->params[i].value = off;
        off += strlen(req->pstore.data + off) + 1;
    }
    return 0;
}

const char *sl_req_param(const sl_req *req, const char *name)
{
    /*
     * The last value wins: nginx appends fastcgi_param lines in order, and
     * a later line for the same name is meant to override an earlier one.
     */
    const char *found = NULL;
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->pstore.data + req->params[i].name, name) == 0)
            found = req->pstore.data + req->params[i].value;
    return found;
}

size_t sl_req_param_count(const sl_req *req) { return req->nparams; }

int sl_req_param_at(const sl_req *req, size_t i, const char **name,
                    const char **value)
{
    if (i >= req->nparams)
        return -ERANGE;
    *name = req->pstore.data + req->params[i].name;
    *value = req->pstore.data + req->params[i].value;
    return 0;
}

static char *decode_dup(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL)
        return NULL;
    long n = sl_percent_decode(p, s, len, 0);
    if (n < 0) {
        free(p);
        errno = EINVAL;
        return NULL;
    }
    p[n] = '\0';
    return p;
}

int sl_req_resolve_path(sl_req *req)
{
    const char *uri = sl_req_param(req, "REQUEST_URI");
    char *joined = NULL;
    if (uri == NULL || uri[0] == '\0')
        uri = sl_req_param(req, "DOCUMENT_URI");
    if (uri == NULL || uri[0] == '\0') {
        const char *sn = sl_req_param(req, "SCRIPT_NAME");
        const char *pi = sl_req_param(req, "PATH_INFO");
        size_t a = sn ? strlen(sn) : 0, b = pi ? strlen(pi) : 0;
        joined = malloc(a + b + 2);
        if (joined == NULL)
            return -ENOMEM;
        memcpy(joined, sn ? sn : "", a);
        memcpy(joined + a, pi ? pi : "", b);
        joined[a + b] = '\0';
        if (a + b == 0)
            strcpy(joined, "/");
        uri = joined;
    }
    size_t len = strcspn(uri, "?");
    req->path = decode_dup(uri, len);
    free(joined);
    if (req->path == NULL)
        return errno == EINVAL ? -EINVAL : -ENOMEM;
    return 0;
}

const char *sl_req_method(const sl_req *req)
{
    const char *m = sl_req_param(req, "REQUEST_METHOD");
    return m ? m : "GET";
}

const char *sl_req_path(const sl_req *req) { return req->path ? req->path : "/"; }

const char *sl_req_route(const sl_req *req)
{
    return req->match.pattern ? req->match.pattern : "";
}

const char *sl_req_query_string(const sl_req *req)
{
    const char *q = sl_req_param(req, "QUERY_STRING");
    return q ? q : "";
}

static sl_qcache *qcache_add(sl_req *req, const char *name)
{
    sl_qcache *q = calloc(1, sizeof *q);
    if (q == NULL || (q->name = strdup(name)) == NULL) {
        free(q);
        return NULL;
    }
    const char *qs = sl_req_query_string(req);
    size_t qlen = strlen(qs);
    /* A decoded value is never longer than the query it comes from. */
    q->value = malloc(qlen + 1);
    if (q->value != NULL && sl_query_get(qs, qlen, name, q->value, qlen + 1) < 0) {
        free(q->value);
        q->value = NULL;
    }
    q->next = req->qcache;
    req->qcache = q;
    return q;
}

const char *sl_req_query(sl_req *req, const char *name)
{
    for (sl_qcache *q = req->qcache; q != NULL; q = q->next)
        if (strcmp(q->name, name) == 0)
            return q->value;
    sl_qcache *q = qcache_add(req, name);
    return q ? q->value : NULL;
}

static int find_path_param(const sl_req *req, const char *name)
{
    for (int i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.params[i].name, name) == 0)
            return i;
    return -1;
}

const char *sl_req_path_param(sl_req *req, const char *name)
{
    int i = find_path_param(req, name);
    if (i < 0)
        return NULL;
    if (req->pparams[i] == NULL)
        req->pparams[i] = strndup(req->match.params[i].value,
                                  req->match.params[i].len);
    return req->pparams[i];
}

int sl_req_path_int(const sl_req *req, const char *name, int64_t *out)
{
    int i = find_path_param(req, name);
    if (i < 0 || req->match.params[i].type != SL_PARAM_INT)
        return -ENOENT;
    *out = req->match.params[i].ival;
    return 0;
}

const char *sl_req_header(const sl_req *req, const char *name)
{
    /* CGI names: upper case, '-' as '_', HTTP_ prefix except for two. */
    char key[256] = "HTTP_";
    size_t n = strlen(name);
    if (n + 6 > sizeof key)
        return NULL;
    int bare = strcasecmp(name, "Content-Type") == 0 ||
               strcasecmp(name, "Content-Length") == 0;
    char *p = bare ? key : key + 5;
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        p[i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    return sl_req_param(req, key);
}

const void *sl_req_body(const sl_req *req, size_t *len)
{
    if (len != NULL)
        *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

json_object *sl_req_json(sl_req *req)
{
    if (!req->json_tried) {
        req->json_tried = 1;
        json_tokener *tok = json_tokener_new();
        if (tok == NULL || req->body.len > (size_t)INT32_MAX) {
            json_tokener_free(tok);
            return NULL;
        }
        req->json = json_tokener_parse_ex(tok, req->body.data ? req->body.data : "",
                                          (int)req->body.len);
        /* Trailing bytes after the value, or an incomplete value: not JSON. */
        if (req->json != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
                                  json_tokener_get_parse_end(tok) != req->body.len)) {
            json_object_put(req->json);
            req->json = NULL;
        }
        json_tokener_free(tok);
    }
    return req->json;
}

const char *sl_req_id(const sl_req *req) { return req->request_id; }
sl_app *sl_req_app(const sl_req *req) { return req->app; }
void sl_req_set_data(sl_req *req, void *data) { req->data = data; }
void *sl_req_data(const sl_req *req) { return req->data; }
void sl_req_on_cancel(sl_req *req, sl_cancel_cb cb) { req->on_cancel = cb; }
int sl_req_cancelled(const sl_req *req) { return req->cancelled; }
