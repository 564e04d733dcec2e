/* request.c: struct sl_req and the request accessors of sluice.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/request.h"
#include "api/router.h"
#include "proto/fcgi.h"
#include "proto/jsonbody.h"
#include "proto/path.h"
#include "proto/url.h"

/* The buffer size a request keeps for the next one (sl_req_reset). */
#define KEEP_BYTES (8 * 1024)
/* ... and the parameter index slots. */
#define KEEP_PARAMS 256

void sl_req_init(sl_req *req)
{
    memset(req, 0, sizeof *req);
    req->status = 200;
}

/*
 * A request's buffers are kept with it on reset, so the next one starts
 * with room for its parameters and its answer: no allocation on the path
 * of an ordinary request.  A buffer grown past KEEP_BYTES goes, so one
 * large request does not pin its memory.
 */
static void keep_or_free(sl_buf *b)
{
    if (b->cap > KEEP_BYTES)
        sl_buf_free(b);
    b->len = 0;
}

/* What a request owns beyond its buffers and parameter index. */
static void release_extras(sl_req *req)
{
    /* Path parameters are copied only when asked for: mostly none. */
    for (int i = 0; i < SL_ROUTER_MAX_PARAMS; i++)
        if (req->pparams[i] != NULL)
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
    if (req->args != NULL) {
        for (size_t i = 0; i < req->args->n; i++)
            json_object_put(req->args->v[i]);
        free(req->args);
    }
    /* Cookies and the session: set only by a handler that reads them. */
    free(req->cookie_kv);
    while (req->keep != NULL) {
        sl_keep *k = req->keep;
        req->keep = k->next;
        free(k);
    }
    if (req->session != NULL)
        json_object_put(req->session);
    free(req->session_name);
}

void sl_req_reset(sl_req *req)
{
    release_extras(req);
    /* Everything but the kept buffers starts from zero again. */
    sl_buf keep[6] = {req->raw_params, req->pstore, req->body, req->headers, req->out,
                      req->path_room};
    for (int i = 0; i < 6; i++)
        keep_or_free(&keep[i]);
    sl_param *params = req->params;
    size_t params_cap = req->params_cap;
    if (params_cap > KEEP_PARAMS) {
        free(params);
        params = NULL;
        params_cap = 0;
    }
    sl_req_init(req);
    req->raw_params = keep[0];
    req->pstore = keep[1];
    req->body = keep[2];
    req->headers = keep[3];
    req->out = keep[4];
    req->path_room = keep[5];
    req->params = params;
    req->params_cap = params_cap;
}

void sl_req_destroy(sl_req *req)
{
    release_extras(req);
    sl_buf_free(&req->raw_params);
    sl_buf_free(&req->pstore);
    sl_buf_free(&req->body);
    sl_buf_free(&req->headers);
    sl_buf_free(&req->out);
    sl_buf_free(&req->path_room);
    free(req->params);
    sl_req_init(req);
}

/* Room for `count` more index slots. */
static int grow_index(sl_req *req, size_t count)
{
    if (count > req->params_cap - req->nparams) {
        size_t cap = req->nparams + count;
        sl_param *p = realloc(req->params, cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        req->params = p;
        req->params_cap = cap;
    }
    return 0;
}

/* The index grows by doubling, from 32 slots. */
static size_t index_growth(const sl_req *req)
{
    return req->params_cap ? req->params_cap : 32;
}

/* Room for `bytes` more of parameters and `count` more index slots. */
static int reserve_params(sl_req *req, size_t bytes, size_t count)
{
    if (sl_buf_reserve(&req->pstore, bytes) < 0)
        return -ENOMEM;
    return grow_index(req, count);
}

/* 8 bytes as a number, for comparing names a word at a time (a constant
 * string's words become constants). */
static inline uint64_t word_at(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* n[0..len) == lit[0..len), for 8 <= len <= 16: two words, overlapping. */
static inline int same8_16(const char *n, const char *lit, size_t len)
{
    return word_at(n) == word_at(lit) && word_at(n + len - 8) == word_at(lit + len - 8);
}

static inline void put_word(char *p, uint64_t w)
{
    memcpy(p, &w, sizeof w);
}

/*
 * p[0..n) moved one byte back, to p[-1..n-1).  A parameter name is short:
 * up to 32 bytes it is moved a word at a time, every word read before any
 * is written (the words overlap each other and the bytes they go to).
 */
static inline void shift_back(char *p, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a = word_at(p), b = word_at(p + n - 8);
        put_word(p - 1, a);
        put_word(p + n - 9, b);
    } else if (n > 16 && n <= 32) {
        uint64_t a = word_at(p), b = word_at(p + 8);
        uint64_t c = word_at(p + n - 16), d = word_at(p + n - 8);
        put_word(p - 1, a);
        put_word(p + 7, b);
        put_word(p + n - 17, c);
        put_word(p + n - 9, d);
    } else {
        memmove(p - 1, p, n);
    }
}

/*
 * Is this one of the parameters sluice reads itself?  By length and first
 * byte, then two words compared, so the usual parameter costs a switch
 * and no call.  (Every known name is 9 to 17 bytes long.)
 */
static inline int known_index(const char *n, size_t len)
{
#define IS(lit) same8_16(n, lit, sizeof lit - 1)
    switch (len) {
    case 9:
        return IS("PATH_INFO") ? SL_P_PATH_INFO : -1;
    case 11:
        if (n[0] == 'S')
            return IS("SCRIPT_NAME") ? SL_P_SCRIPT : -1;
        if (n[0] == 'H')
            return IS("HTTP_ORIGIN") ? SL_P_ORIGIN : -1;
        if (n[0] != 'R')
            return -1;
        if (IS("REQUEST_URI"))
            return SL_P_URI;
        return IS("REMOTE_ADDR") ? SL_P_REMOTE : -1;
    case 12:
        if (n[0] == 'Q')
            return IS("QUERY_STRING") ? SL_P_QUERY : -1;
        return n[0] == 'D' && IS("DOCUMENT_URI") ? SL_P_DOC_URI : -1;
    case 14:
        if (n[0] == 'R')
            return IS("REQUEST_METHOD") ? SL_P_METHOD : -1;
        return n[0] == 'C' && IS("CONTENT_LENGTH") ? SL_P_CLEN : -1;
    case 17:
        /* One byte past two words: the first 16, and the last. */
        return same8_16(n, "HTTP_X_REQUEST_ID", 16) && n[16] == 'D' ? SL_P_REQID : -1;
    default:
        return -1;
    }
#undef IS
}

int sl_req_add_param(sl_req *req, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
    /* The index grows by doubling, the store as sl_buf does. */
    if (req->params_cap == req->nparams ||
        req->pstore.cap - req->pstore.len < nlen + vlen + 2) {
        size_t more = req->params_cap > req->nparams ? 0 : index_growth(req);
        if (reserve_params(req, nlen + vlen + 2, more) < 0)
            return -ENOMEM;
    }
    char *p = req->pstore.data + req->pstore.len;
    memcpy(p, name, nlen);
    p[nlen] = '\0';
    memcpy(p + nlen + 1, value, vlen);
    p[nlen + 1 + vlen] = '\0';
    req->params[req->nparams].name = (uint32_t)req->pstore.len;
    req->params[req->nparams].value = (uint32_t)(req->pstore.len + nlen + 1);
    int k = known_index(p, nlen);
    if (k >= 0)
        req->known_at[k] = req->nparams + 1;
    req->pstore.len += nlen + vlen + 2;
    req->params_size += nlen + vlen + 2;
    req->nparams++;
    return 0;
}

int sl_req_index_params(sl_req *req)
{
    /* Pointers only now: pstore may have moved while the pairs came in. */
    for (int k = 0; k < SL_P_KNOWN; k++)
        req->known[k] = req->known_at[k] == 0 ? NULL
                        : req->pstore.data + req->params[req->known_at[k] - 1].value;
    return 0;
}

/*
 * One pair length of the PARAMS stream at p[pos], whose first byte is
 * `first` (the byte itself may be gone: see below): 1 byte below 128, else
 * 4 bytes, the high bit cleared.  The new position, or 0 when the length
 * runs past the end.
 */
static inline size_t pair_len(const unsigned char *p, size_t len, size_t pos,
                              unsigned first, size_t *out)
{
    if (first < 0x80) {
        *out = first;
        return pos + 1;
    }
    if (len - pos < 4)
        return 0;
    *out = ((size_t)(first & 0x7f) << 24) | ((size_t)p[pos + 1] << 16) |
           ((size_t)p[pos + 2] << 8) | (size_t)p[pos + 3];
    return pos + 4;
}

/*
 * The PARAMS stream is complete: it becomes the request's parameter store
 * where it lies, each pair made "name\0value\0" in place.  A pair comes as
 * its two lengths (2 to 8 bytes), its name, then its value.  The name
 * moves one byte back, over the last byte of the lengths, and its NUL takes
 * the place of its own last byte; the value stays where it is, and its NUL
 * takes the place of the first byte of the next pair, which was read before
 * (`first`).  So only names are moved, a few bytes each, values never, and
 * no second copy of the parameters is ever held; the last value's NUL needs
 * the byte after the stream, made when the buffer has none.  The store's
 * old room takes the stream's place, kept for the next request
 * (sl_req_reset).  The checks and their reasons are fcgi_pairs_next()'s.
 */
const char *sl_req_params_from_fcgi(sl_req *r)
{
    sl_buf stream = r->raw_params;
    if (stream.cap == stream.len) {
        /* Rare: a stream that filled its buffer exactly. */
        char *d = realloc(stream.data, stream.len + 1);
        if (d == NULL)
            return "out of memory";
        stream.data = d;
        stream.cap = stream.len + 1;
    }
    r->raw_params = r->pstore;
    r->raw_params.len = 0;
    r->pstore = stream;
    r->pstore.len = 0;
    unsigned char *p = (unsigned char *)stream.data;
    size_t len = stream.len, pos = 0, stored = 0;
    /* In locals, not reloaded from r after every call below. */
    sl_param *params = r->params;
    size_t n = r->nparams, cap = r->params_cap;
    const char *err = NULL;
    unsigned first = len > 0 ? p[0] : 0;
    /*
     * A NUL in a name or a value is refused.  Rather than a scan of every
     * pair, `zero` is where the next zero byte of the stream is (len: none
     * left), searched for again only once a pair's lengths hold it (an
     * empty value's length, the high bytes of a 4-byte one): a few scans
     * for the whole stream.  The bytes searched lie past every byte
     * written so far (the NULs written go at or before the next pair's
     * first byte, which `first` keeps).
     */
    const unsigned char *z = len > 0 ? memchr(p, 0, len) : NULL;
    size_t zero = z != NULL ? (size_t)(z - p) : len;
    while (pos < len) {
        size_t nl, vl;
        pos = pair_len(p, len, pos, first, &nl);
        if (pos == 0 || pos >= len ||
            (pos = pair_len(p, len, pos, p[pos], &vl)) == 0) {
            err = "truncated parameter length";
            break;
        }
        /* pos <= len: what is left is compared, no length is added. */
        if (nl > len - pos) {
            err = "parameter name runs past the end";
            break;
        }
        if (vl > len - pos - nl) {
            err = "parameter value runs past the end";
            break;
        }
        if (nl == 0) {
            err = "empty parameter name";
            break;
        }
        char *name = (char *)p + pos;
        size_t end = pos + nl + vl;
        /* Zero bytes among this pair's lengths are lengths; past them,
         * the next one must not be in its name or value. */
        while (zero < pos) {
            z = memchr(p + zero + 1, 0, len - zero - 1);
            zero = z != NULL ? (size_t)(z - p) : len;
        }
        if (zero < end) {
            err = "NUL byte in a parameter";
            break;
        }
        first = end < len ? p[end] : 0;
        if (n == cap) {
            r->nparams = n;
            if (grow_index(r, index_growth(r)) < 0) {
                err = "out of memory";
                break;
            }
            params = r->params;
            cap = r->params_cap;
        }
        shift_back(name, nl);
        name[nl - 1] = '\0';
        p[end] = '\0';
        params[n].name = (uint32_t)(pos - 1);
        params[n].value = (uint32_t)(pos + nl);
        int k = known_index(name - 1, nl);
        n++;
        if (k >= 0)
            r->known_at[k] = n;
        stored += nl + vl + 2;
        pos = end;
    }
    r->nparams = n;
    if (err != NULL)
        return err;
    r->pstore.len = len + 1;
    r->params_size = stored;
    if (sl_req_index_params(r) < 0)
        return "out of memory";
    r->state = SL_REQ_BODY;
    return NULL;
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

/*
 * Normalise uri into one block: the path (at most len + 2 bytes with its
 * NUL), then, only when the target has %2F at all, room for their offsets.
 * The block is req->path_room, kept for the next request like the buffers.
 */
static int normalise_into(sl_req *req, const char *uri, int decoded,
                          const char **why)
{
    size_t len = strlen(uri);
    size_t nenc = decoded ? 0 : sl_path_max_enc(uri, len);
    size_t at = (len + 2 + sizeof(uint32_t) - 1) & ~(sizeof(uint32_t) - 1);
    if (nenc > (SIZE_MAX - at) / sizeof(uint32_t))
        return -ENOMEM;
    size_t need = nenc > 0 ? at + nenc * sizeof(uint32_t) : len + 2;
    req->path = NULL;
    req->path_room.len = 0;
    if (sl_buf_reserve(&req->path_room, need) < 0)
        return -ENOMEM;
    char *block = req->path_room.data;
    sl_path p = {
        .decoded = decoded, .buf = block, .cap = len + 2,
        .enc = nenc > 0 ? (uint32_t *)(void *)(block + at) : NULL, .enc_cap = nenc,
    };
    int rc = sl_path_normalise(&p, uri, len);
    if (rc < 0) {
        *why = p.error;
        return rc == -EINVAL ? -EINVAL : -ENOMEM;   /* -ENOBUFS: cannot be */
    }
    req->path = block;
    req->path_enc = p.enc;
    req->path_nenc = p.nenc;
    return 0;
}

int sl_req_resolve_path(sl_req *req, const char **why)
{
    const char *uri = sl_req_known(req, SL_P_URI);
    char *joined = NULL;
    /* Only REQUEST_URI is as the client sent it; the CGI variables are
     * decoded already, and decoding them again would make "%252e" a dot. */
    int decoded = uri == NULL || uri[0] == '\0';
    if (decoded)
        uri = sl_req_known(req, SL_P_DOC_URI);
    if (uri == NULL || uri[0] == '\0') {
        const char *sn = sl_req_known(req, SL_P_SCRIPT);
        const char *pi = sl_req_known(req, SL_P_PATH_INFO);
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
    *why = NULL;
    int rc = normalise_into(req, uri, decoded, why);
    free(joined);
    return rc;
}

const char *sl_req_method(const sl_req *req)
{
    const char *m = sl_req_known(req, SL_P_METHOD);
    return m ? m : "GET";
}

const char *sl_req_path(const sl_req *req) { return req->path ? req->path : "/"; }

const char *sl_req_route(const sl_req *req)
{
    return req->match.pattern ? req->match.pattern : "";
}

const char *sl_req_query_string(const sl_req *req)
{
    const char *q = sl_req_known(req, SL_P_QUERY);
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
        req->json = sl_json_parse(req->body.data, req->body.len);
    }
    return req->json;
}

const char *sl_req_id(const sl_req *req) { return req->request_id; }
sl_app *sl_req_app(const sl_req *req) { return req->app; }
void sl_req_set_data(sl_req *req, void *data) { req->data = data; }
void *sl_req_data(const sl_req *req) { return req->data; }
void sl_req_on_cancel(sl_req *req, sl_cancel_cb cb) { req->on_cancel = cb; }
/* Read on pool threads while the loop sets it (sl_worker_cancel): atomic. */
int sl_req_cancelled(const sl_req *req)
{
    return __atomic_load_n(&req->cancelled, __ATOMIC_RELAXED);
}
