/* response.c: building a response (the sl_resp_* API) and encoding it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/request.h"
#include "proto/fcgi.h"

#define DEFAULT_CTYPE "text/plain; charset=utf-8"
/* How a JSON body is written (sl_resp_json, problem answers). */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

const char *sl_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 418: return "I'm a teapot";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

/* Responses are only built by the thread that owns the request; once the
 * head is flushed, the status and headers are fixed. */
/*
 * An invalid status or header is not only refused: the response is marked,
 * and ends as a 500 whatever the handler does next, so a handler that
 * ignores the error cannot send a response other than the one it meant.
 */
static int refuse(sl_req *req, const char *why)
{
    if (req->resp_error == NULL)
        req->resp_error = why;
    return -EINVAL;
}

/*
 * Only 200-599 are final answers.  A 1xx is an interim one: the web server
 * passes it on and keeps waiting for the final answer on that connection,
 * so a 1xx sent as the whole response leaves the next request's answer to
 * be taken for this one's (a kept upstream connection then answers every
 * client with the previous client's response).
 */
int sl_resp_status(sl_req *req, int status)
{
    if (status < 200 || status > 599)
        return refuse(req, "status outside 200-599");
    if (req->head_sent)
        return -EALREADY;
    req->status = status;
    return 0;
}

/*
 * A field value (RFC 9110 5.5) holds visible ASCII, SP, HTAB and obs-text
 * (bytes 0x80-0xff); any other control byte is refused, not only CR and
 * LF: a NUL cuts the header short in the web server, the others are
 * passed on to clients that may read them as line ends.
 */
static int bad_value(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return 1;
    return 0;
}

/* Header names are HTTP tokens: visible ASCII but the separators. */
static int bad_name(const char *s)
{
    /* 1: a token byte; a table, not a search per byte. */
    static const unsigned char tchar[256] = {
        ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
        ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
        ['~'] = 1,
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
        ['7'] = 1, ['8'] = 1, ['9'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
        ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
        ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
        ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
        ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
        ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
        ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
        ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    };
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (!tchar[*p])
            return 1;
    return 0;
}

/* Length of the header line at h[0..n) ("Name: value\r\n"). */
static size_t line_len(const char *h, size_t n)
{
    const char *lf = memchr(h, '\n', n);
    return lf != NULL ? (size_t)(lf - h) + 1 : n;
}

/* Whether the line at h names `name` (its bytes before ':'). */
static int line_is(const char *h, size_t n, const char *name)
{
    size_t nl = strlen(name);
    return n > nl && h[nl] == ':' && strncasecmp(h, name, nl) == 0;
}

/* Drop every header line named `name` from those set so far. */
static void remove_header(sl_req *req, const char *name)
{
    sl_buf *b = &req->headers;
    size_t i = 0;
    while (i < b->len) {
        size_t n = line_len(b->data + i, b->len - i);
        if (line_is(b->data + i, n, name)) {
            memmove(b->data + i, b->data + i + n, b->len - i - n);
            b->len -= n;
        } else {
            i += n;
        }
    }
}

/*
 * Content-Type and Content-Length describe the one body, so a second one
 * replaces the first (sl_resp_json() then a handler's own Content-Type
 * must not send two).  Status is the status line itself: it is set with
 * sl_resp_status(), and refused here, where it would become a second one.
 */
int sl_resp_header(sl_req *req, const char *name, const char *value)
{
    if (name == NULL || value == NULL || name[0] == '\0')
        return refuse(req, "empty header name or value");
    if (bad_name(name) || bad_value(value))
        return refuse(req, "a header name that is not a token, or a control byte in a value");
    if (strcasecmp(name, "Status") == 0)
        return refuse(req, "a Status header (sl_resp_status() sets the status)");
    if (req->head_sent)
        return -EALREADY;
    if (strcasecmp(name, "Content-Type") == 0) {
        if (req->has_ctype)
            remove_header(req, "Content-Type");
        req->has_ctype = 1;
    } else if (strcasecmp(name, "Content-Length") == 0) {
        if (req->has_clen)
            remove_header(req, "Content-Length");
        req->has_clen = 1;
    }
    if (sl_buf_append_str(&req->headers, name) < 0 ||
        sl_buf_append(&req->headers, ": ", 2) < 0 ||
        sl_buf_append_str(&req->headers, value) < 0 ||
        sl_buf_append(&req->headers, "\r\n", 2) < 0)
        return -ENOMEM;
    return 0;
}

int sl_resp_set_header(sl_req *req, const char *name, const char *value)
{
    /* Checked before anything is dropped: a refused value keeps the old. */
    if (name == NULL || value == NULL || name[0] == '\0' || bad_name(name) ||
        bad_value(value) || strcasecmp(name, "Status") == 0)
        return sl_resp_header(req, name, value);
    if (req->head_sent)
        return -EALREADY;
    remove_header(req, name);
    if (strcasecmp(name, "Content-Type") == 0)
        req->has_ctype = 0;
    else if (strcasecmp(name, "Content-Length") == 0)
        req->has_clen = 0;
    return sl_resp_header(req, name, value);
}

/*
 * Starlette's RedirectResponse: quote(url, safe=":/%#?=@[]!$&'()*+,;"),
 * urllib's quote, which also keeps letters, digits and "_.-~".  Every
 * other byte, a space, a control byte or one past ASCII, becomes %XX.
 */
static const char url_safe[] = ":/%#?=@[]!$&'()*+,;_.-~";

/* `url` into `out`, every byte but letters, digits and `safe` as %XX. */
static int quote_url(sl_buf *out, const char *url, const char *safe)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(url);
    if (n > ((size_t)-1 - 1) / 3 || sl_buf_reserve(out, 3 * n + 1) < 0)
        return -ENOMEM;
    char *p = out->data + out->len;
    for (const unsigned char *s = (const unsigned char *)url; *s != '\0'; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') || (*s < 0x80 && strchr(safe, *s) != NULL)) {
            *p++ = (char)*s;
        } else {
            *p++ = '%';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 15];
        }
    }
    *p = '\0';
    out->len = (size_t)(p - out->data);
    return 0;
}

/* Status `status` and Location `url`, quoted. */
static int located(sl_req *req, int status, const char *url)
{
    if (url == NULL || url[0] == '\0')
        return -EINVAL;
    if (req->head_sent)
        return -EALREADY;
    sl_buf q;
    sl_buf_init(&q);
    int rc = quote_url(&q, url, url_safe);
    if (rc == 0)
        rc = sl_resp_set_header(req, "Location", q.data);
    sl_buf_free(&q);
    if (rc == 0)
        rc = sl_resp_status(req, status);
    return rc;
}

int sl_resp_redirect(sl_req *req, int status, const char *url)
{
    if (status == 0)
        status = 307;
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return -EINVAL;
    int rc = located(req, status, url);
    /* A redirect has no body of its own: what was written goes. */
    if (rc == 0)
        req->out.len = 0;
    return rc;
}

int sl_resp_created(sl_req *req, const char *location)
{
    return located(req, 201, location);
}

/* Whether `path` has a ".." segment ("/../", or "/.." at its end). */
static int has_dotdot(const char *path)
{
    for (const char *p = strstr(path, "/.."); p != NULL; p = strstr(p + 1, "/.."))
        if (p[3] == '/' || p[3] == '\0')
            return 1;
    return 0;
}

/*
 * The web server sends the file: nginx reads X-Accel-Redirect as a URI
 * and percent-decodes it (a '?' there would start its arguments, a '%'
 * an escape), so the path is quoted, keeping only RFC 3986's pchar and
 * '/'; X-Sendfile is a file system path, taken as it is.  A ".." segment
 * is refused for both: nginx answers it 404 anyway, and a path leaving
 * its directory is never what a handler meant.  The default Content-Type
 * is not sent (the web server picks the file's); one the handler set
 * stays, as nginx keeps an upstream Content-Type on a redirect.
 */
int sl_resp_send_file(sl_req *req, const char *path, int how)
{
    static const char pchar[] = "/:@!$&'()*+,;=_.-~";
    /* A HTAB is a control byte too here: no path or URI holds one. */
    if (path == NULL || path[0] != '/' || bad_value(path) || strchr(path, '\t') != NULL ||
        has_dotdot(path) ||
        (how != SL_FILE_ACCEL && how != SL_FILE_SENDFILE))
        return -EINVAL;
    if (req->head_sent)
        return -EALREADY;
    sl_buf v;
    sl_buf_init(&v);
    /* Both leave v NUL-terminated: the path with its own NUL. */
    int rc = how == SL_FILE_ACCEL ? quote_url(&v, path, pchar)
                                  : (sl_buf_append(&v, path, strlen(path) + 1) < 0 ? -ENOMEM : 0);
    if (rc == 0)
        rc = sl_resp_set_header(req, how == SL_FILE_ACCEL ? "X-Accel-Redirect" : "X-Sendfile",
                                v.data);
    sl_buf_free(&v);
    if (rc < 0)
        return rc;
    /* No body of its own: what was written goes, and its length with it. */
    req->out.len = 0;
    if (req->has_clen)
        remove_header(req, "Content-Length");
    req->has_clen = 0;
    req->has_ctype = 1;
    return 0;
}

int sl_resp_write(sl_req *req, const void *data, size_t len)
{
    return sl_buf_append(&req->out, data, len);
}

int sl_resp_printf(sl_req *req, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return sl_buf_append(&req->out, small, (size_t)n);
    /* Too long for the stack: format straight into the body buffer. */
    int rc = sl_buf_reserve(&req->out, (size_t)n + 1);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(req->out.data + req->out.len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    req->out.len += (size_t)n;
    return 0;
}

int sl_resp_json(sl_req *req, json_object *obj)
{
    static const char ctype[] = "Content-Type: application/json\r\n";
    size_t len;
    const char *s = json_object_to_json_string_length(obj, JSON_FLAGS, &len);
    int rc = s ? 0 : -ENOMEM;
    /* sl_resp_header() for a line known to be valid: appended as it is. */
    if (rc == 0 && !req->has_ctype) {
        rc = req->head_sent ? -EALREADY : sl_buf_append(&req->headers, ctype, sizeof ctype - 1);
        req->has_ctype = rc == 0;
    }
    if (rc == 0)
        rc = sl_buf_append(&req->out, s, len);
    json_object_put(obj);
    return rc;
}

/* The RFC 9457 document of a problem answer; NULL when out of memory. */
static json_object *problem_doc(int status, const char *detail)
{
    json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(sl_status_text(status)));
    json_object_object_add(o, "status", json_object_new_int(status));
    if (detail != NULL)
        json_object_object_add(o, "detail", json_object_new_string(detail));
    return o;
}

int sl_resp_problem(sl_req *req, int status, const char *detail)
{
    if (req->head_sent)
        return -EALREADY;
    req->resp_error = NULL;
    /*
     * The headers set so far stay (a Set-Cookie, a Cache-Control), except
     * those that describe the body being replaced: the problem document
     * has its own type and length, and no encoding.
     */
    remove_header(req, "Content-Type");
    remove_header(req, "Content-Length");
    remove_header(req, "Content-Encoding");
    req->out.len = 0;
    req->has_ctype = 0;
    req->has_clen = 0;
    int rc = sl_resp_status(req, status);
    if (rc < 0)
        return rc;
    json_object *o = problem_doc(status, detail);
    if (o == NULL)
        return -ENOMEM;
    rc = sl_resp_header(req, "Content-Type", "application/problem+json");
    if (rc < 0) {
        json_object_put(o);
        return rc;
    }
    return sl_resp_json(req, o);
}

/*
 * What the encoder reads of a response: a request's (sl_resp_encode) or a
 * problem answer made without one (sl_resp_encode_problem).
 */
typedef struct answer {
    enum sl_proto proto;
    uint16_t id;                    /* FastCGI request id */
    int status;
    const char *headers;            /* "Name: value\r\n" ... */
    size_t headers_len;
    int has_ctype;
    int has_clen;
    const char *body;
    size_t body_len;
    const char *request_id;         /* "": none */
} answer;

/* 1xx, 204 and 304 answers have no body (RFC 9110 6.4.1). */
static int has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* The bytes of a line of constant text, and its length. */
#define LINE(s) s, sizeof s - 1
#define CTYPE_LINE "Content-Type: " DEFAULT_CTYPE "\r\n"
/* Room enough for "Content-Length: N\r\n", N a size_t in decimal. */
#define CLEN_ROOM 40

/* Copy n bytes to p; where it ends.  The room was reserved (encode_head). */
static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/*
 * "Status: 200 OK\r\nHeaders\r\n\r\n" into `head`; `final`: the body is
 * the whole of it.  Built by hand into room reserved once for the longest
 * it can be: it is on every response's path.
 *
 * With a final answer comes "Content-Length: N": when the whole body is
 * known as the head goes out, the web server passes the length on instead
 * of re-framing the body as chunks for the client, which is less work for
 * it on every response and lets a client see the size up front.  Not for a
 * streamed answer (its length is not known yet), nor for statuses that
 * have no body, nor when the handler set one.
 */
static int encode_head(const answer *a, sl_buf *head, int final)
{
    const char *text = sl_status_text(a->status);
    size_t tl = strlen(text), idl = strlen(a->request_id);
    /* The default type is for a body; an answer without one has none. */
    int ctype = !a->has_ctype && has_body(a->status);
    int clen = final && !a->has_clen && has_body(a->status);
    size_t room = 14 + tl + a->headers_len + sizeof CTYPE_LINE + CLEN_ROOM + 16 + idl + 2;
    if (sl_buf_reserve(head, room) < 0)
        return -ENOMEM;
    char *p = head->data + head->len;
    p = put(p, LINE("Status: "));
    *p++ = (char)('0' + a->status / 100 % 10);
    *p++ = (char)('0' + a->status / 10 % 10);
    *p++ = (char)('0' + a->status % 10);
    *p++ = ' ';
    p = put(p, text, tl);
    p = put(p, LINE("\r\n"));
    if (a->headers_len > 0)
        p = put(p, a->headers, a->headers_len);
    if (ctype)
        p = put(p, LINE(CTYPE_LINE));
    if (clen) {
        char digits[24];
        int i = sizeof digits;
        size_t v = a->body_len;
        do {
            digits[--i] = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        p = put(p, LINE("Content-Length: "));
        p = put(p, digits + i, sizeof digits - (size_t)i);
        p = put(p, LINE("\r\n"));
    }
    if (idl > 0) {
        p = put(p, LINE("X-Request-ID: "));
        p = put(p, a->request_id, idl);
        p = put(p, LINE("\r\n"));
    }
    p = put(p, LINE("\r\n"));
    head->len = (size_t)(p - head->data);
    return 0;
}

/*
 * The answer's bytes go straight into `out`: for FastCGI inside one STDOUT
 * record built in place, which is every answer up to 64 KiB; a longer one
 * is cut into records afterwards.
 */
static int encode_fcgi(const answer *a, sl_buf *out, int head, int final)
{
    size_t start = out->len;
    if (sl_buf_reserve(out, FCGI_HEADER_LEN + 256 + a->headers_len + a->body_len + 48) < 0)
        return -ENOMEM;
    out->len += FCGI_HEADER_LEN;
    int rc = head ? encode_head(a, out, final) : 0;
    if (rc == 0)
        rc = sl_buf_append(out, a->body, a->body_len);
    if (rc == 0 && out->len > start + FCGI_HEADER_LEN)
        rc = fcgi_close_record(out, start, FCGI_STDOUT, a->id);
    else if (rc == 0)
        out->len = start;       /* nothing to send: no record */
    if (rc == -E2BIG) {
        sl_buf content;
        sl_buf_init(&content);
        rc = sl_buf_append(&content, out->data + start + FCGI_HEADER_LEN,
                           out->len - start - FCGI_HEADER_LEN);
        out->len = start;
        if (rc == 0)
            rc = fcgi_encode_stream(out, FCGI_STDOUT, a->id, content.data, content.len);
        sl_buf_free(&content);
    }
    if (rc == 0 && final)
        rc = fcgi_encode_stream_end(out, FCGI_STDOUT, a->id);
    if (rc == 0 && final)
        rc = fcgi_encode_end_request(out, a->id, 0, FCGI_REQUEST_COMPLETE);
    return rc;
}

static int encode(const answer *a, sl_buf *out, int head, int final)
{
    if (a->proto == SL_PROTO_FASTCGI)
        return encode_fcgi(a, out, head, final);
    int rc = head ? encode_head(a, out, final) : 0;
    return rc == 0 ? sl_buf_append(out, a->body, a->body_len) : rc;
}

int sl_resp_encode(sl_req *req, sl_buf *out, int final)
{
    int head = !req->head_sent;
    /* Read by the loop when it times the request out. */
    __atomic_store_n(&req->head_sent, 1, __ATOMIC_RELEASE);
    answer a = {
        .proto = req->proto, .id = req->id, .status = req->status,
        .headers = req->headers.data, .headers_len = req->headers.len,
        .has_ctype = req->has_ctype, .has_clen = req->has_clen,
        .body = req->out.data, .body_len = req->out.len,
        .request_id = req->request_id,
    };
    int rc = encode(&a, out, head, final);
    req->bytes_out += req->out.len;
    req->out.len = 0;
    return rc;
}

int sl_resp_encode_problem(sl_buf *out, enum sl_proto proto, uint16_t id, int status,
                           const char *detail, const char *request_id)
{
    static const char ctype[] = "Content-Type: application/problem+json\r\n";
    json_object *o = problem_doc(status, detail);
    if (o == NULL)
        return -ENOMEM;
    size_t len;
    const char *body = json_object_to_json_string_length(o, JSON_FLAGS, &len);
    int rc = -ENOMEM;
    if (body != NULL) {
        answer a = {
            .proto = proto, .id = id, .status = status,
            .headers = ctype, .headers_len = sizeof ctype - 1, .has_ctype = 1,
            .body = body, .body_len = len, .request_id = request_id ? request_id : "",
        };
        rc = encode(&a, out, 1, 1);
    }
    json_object_put(o);
    return rc;
}

int sl_resp_flush(sl_req *req)
{
    if (req->resp_error != NULL && !req->head_sent)
        return -EINVAL;     /* it will end as a 500 */
    if (req->host == NULL)
        return -ENOTCONN;
    sl_buf bytes;
    sl_buf_init(&bytes);
    int rc = sl_resp_encode(req, &bytes, 0);
    if (rc < 0) {
        sl_buf_free(&bytes);
        return rc;
    }
    return req->host->flush(req, &bytes);
}

int sl_resp_end(sl_req *req)
{
    if (!req->later || req->host == NULL)
        return -EINVAL;
    return req->host->end(req);
}
