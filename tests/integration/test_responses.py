#!/usr/bin/env python3
"""Responses an application builds, as they reach the web server: only
final statuses (a 1xx through nginx must not hand the next request's answer
to the previous client), no Status header of the app's, no control bytes in
header values, one Content-Type (a later one replaces an earlier one), none
by default on a 204 or 304, and the headers set before sl_resp_problem()
kept.  Raw SCGI and FastCGI show the headers as sluice writes them, which
nginx would merge or hide."""
import os
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FCGIConnection  # noqa: E402

HELLO = b"Hello, world!\n"

APP = r'''#include <sluice.h>
#include <errno.h>
#include <stdlib.h>

/* A header value with the byte ?b=N between "a" and "b". */
static int ctl(sl_req *req)
{
    const char *b = sl_req_query(req, "b");
    char v[4] = {'a', (char)(b ? atoi(b) : 'x'), 'b', '\0'};
    int rc = sl_resp_header(req, "X-Ctl", v);
    sl_resp_printf(req, "rc=%d\n", rc);
    return SL_OK;
}

static int status_header(sl_req *req)
{
    sl_resp_header(req, "Status", "404 Not Found");
    return sl_resp_printf(req, "should not be seen\n");
}

static int json_then_type(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "a", json_object_new_int(1));
    int rc = sl_resp_json(req, o);
    if (rc == 0)
        rc = sl_resp_header(req, "Content-Type", "application/vnd.test+json");
    return rc;
}

static int type_twice(sl_req *req)
{
    int rc = sl_resp_header(req, "Content-Type", "text/html");
    rc |= sl_resp_header(req, "X-Between", "1");
    rc |= sl_resp_header(req, "content-type", "text/csv");
    rc |= sl_resp_header(req, "Content-Length", "9");
    rc |= sl_resp_header(req, "Content-Length", "3");
    rc |= sl_resp_write(req, "a,b", 3);
    return rc;
}

static int no_content(sl_req *req)
{
    return sl_resp_status(req, 204);
}

static int not_modified(sl_req *req)
{
    int rc = sl_resp_status(req, 304);
    if (rc == 0)
        rc = sl_resp_header(req, "ETag", "\"v1\"");
    return rc;
}

static int problem(sl_req *req)
{
    int rc = sl_resp_header(req, "Set-Cookie", "session=abc; HttpOnly");
    rc |= sl_resp_header(req, "Content-Type", "text/html");
    rc |= sl_resp_header(req, "Content-Length", "1000");
    rc |= sl_resp_header(req, "Content-Encoding", "gzip");
    rc |= sl_resp_header(req, "Cache-Control", "no-store");
    rc |= sl_resp_printf(req, "<html>discarded</html>");
    if (rc == 0)
        rc = sl_resp_problem(req, 403, "not yours");
    return rc;
}

/* Fails after setting headers: sluice's 500 carries none of them. */
static int fails(sl_req *req)
{
    sl_resp_header(req, "Cache-Control", "max-age=3600");
    sl_resp_header(req, "Set-Cookie", "half=done");
    sl_resp_printf(req, "partial");
    return -EIO;
}

int sluice_app(sl_app *app)
{
    int rc = sl_route(app, "GET", "/ctl", ctl, SL_LOOP);
    rc |= sl_route(app, "GET", "/fails", fails, SL_POOL);
    rc |= sl_route(app, "GET", "/status-header", status_header, SL_POOL);
    rc |= sl_route(app, "GET", "/json-then-type", json_then_type, SL_LOOP);
    rc |= sl_route(app, "GET", "/type-twice", type_twice, SL_LOOP);
    rc |= sl_route(app, "GET", "/no-content", no_content, SL_LOOP);
    rc |= sl_route(app, "GET", "/not-modified", not_modified, SL_LOOP);
    rc |= sl_route(app, "GET", "/problem", problem, SL_POOL);
    return rc;
}
'''


def scgi_get(sock, uri, timeout=10):
    """One SCGI request; returns (header lines as (name, value), body)."""
    hdrs = [("CONTENT_LENGTH", "0"), ("SCGI", "1"), ("REQUEST_METHOD", "GET"),
            ("REQUEST_URI", uri), ("SERVER_PROTOCOL", "HTTP/1.1")]
    block = b"".join(n.encode() + b"\0" + v.encode() + b"\0" for n, v in hdrs)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        s.sendall(str(len(block)).encode() + b":" + block + b",")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = []
    for ln in head.split(b"\r\n"):
        k, _, v = ln.partition(b":")
        lines.append((k.decode("latin-1"), v.strip().decode("latin-1")))
    return lines, body


def named(lines, name):
    return [v for k, v in lines if k.lower() == name.lower()]


# --------------------------------------------------------------------------

class HTTPPipe:
    """One client connection to nginx that reads answers as HTTP/1.1 says:
    a 1xx is interim and the final answer follows it.  So an interim status
    sent as the whole answer makes the client take the next request's
    answer for this one's."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, path):
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("nginx closed the connection")
        self.buf += data

    def _head(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _chunked(self):
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            size, _, self.buf = self.buf.partition(b"\r\n")
            n = int(size.split(b";")[0], 16)
            body += self._take(n + 2)[:n]
            if n == 0:
                return body

    def final(self):
        """The next final answer: (interim statuses seen, status, headers, body)."""
        interim = []
        while True:
            status, hdrs = self._head()
            if 100 <= status < 200:
                interim.append(status)
                continue
            if hdrs.get("transfer-encoding", "").lower() == "chunked":
                body = self._chunked()
            else:
                body = self._take(int(hdrs.get("content-length", "0")))
            return interim, status, hdrs, body


def check_interim_status(t):
    """A 1xx from a handler, through nginx, on kept connections."""
    sock = t.path("demo.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="demo")
    port, _ = t.start_nginx(fcgi_sock=sock)
    r = harness.http_get(port, "/hello")
    t.eq((r.status, r.body), (200, HELLO), "GET /hello through nginx: 200")
    for code in (100, 199):
        # Two requests on one client connection (and nginx's one kept
        # upstream connection): each must get its own answer.
        c = HTTPPipe(port)
        try:
            c.send("/status/%d" % code)
            c.send("/hello")
            interim, status, hdrs, body = c.final()
            t.eq((interim, status, hdrs.get("content-type")),
                 ([], 500, "application/problem+json"),
                 "GET /status/%d through nginx: a 500 problem (1xx is not a final status)"
                 % code, body)
            interim, status, hdrs, body = c.final()
            t.eq((status, body), (200, HELLO),
                 "the next request on the same connection gets its own answer", body)
        except Exception as e:
            t.ok(False, "GET /status/%d then GET /hello on one connection through nginx: "
                 "both answered (%s: %s)" % (code, type(e).__name__, e))
        finally:
            c.close()
    t.eq(harness.unix_connections(sock), 1,
         "nginx kept one upstream connection for all of them")
    log = s.log_text()
    t.ok(log.count("handler for GET /status/{code:int} failed") >= 2,
         "each 1xx is logged", harness.tail(log))
    # Straight at the socket: the 500 is the whole answer, no interim head.
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/status/100")
        t.eq(r.status, 500, "raw FastCGI GET /status/100: 500")
        t.ok(b"100 Continue" not in r.stdout, "no 100 status line is written", r.stdout)
        r = c.request("GET", "/status/200")
        t.eq(r.status, 200, "raw FastCGI GET /status/200 on the same connection: 200")
    for code in (200, 204, 599):
        r = harness.fcgi_request(sock, "GET", "/status/%d" % code)
        t.eq(r.status, code, "GET /status/%d: %d (final statuses still pass)" % (code, code))


def check_headers(t, ssock, fsock, s):
    # A Status header of the app's: refused, one Status line, a 500.
    lines, body = scgi_get(ssock, "/status-header")
    t.eq(named(lines, "Status"), ["500 Internal Server Error"],
         "a handler's own Status header: one Status line, 500", lines)
    t.ok(b"should not be seen" not in body, "... and its body is not sent", body)
    # Control bytes in a value: only HTAB passes.
    for b in (1, 8, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f, 13, 10):
        with FCGIConnection(fsock) as c:
            r = c.request("GET", "/ctl?b=%d" % b)
        t.eq(r.status, 500, "a header value with byte 0x%02x: refused, 500" % b, r.stdout)
        t.ok(b"X-Ctl" not in r.stdout, "... and not written (0x%02x)" % b, r.stdout)
    for b, shown in ((9, "a\tb"), (0x20, "a b"), (0xe9, "a\xe9b")):
        with FCGIConnection(fsock) as c:
            r = c.request("GET", "/ctl?b=%d" % b)
        t.eq((r.status, r.header("X-Ctl"), r.body), (200, shown, b"rc=0\n"),
             "a header value with byte 0x%02x is allowed" % b, r.stdout)
    t.ok(s.log_text().count("control byte in a value") >= 9,
         "each refused value is logged", harness.tail(s.log_text()))


def check_content_type(t, ssock):
    lines, body = scgi_get(ssock, "/json-then-type")
    t.eq(named(lines, "Content-Type"), ["application/vnd.test+json"],
         "Content-Type after sl_resp_json(): one Content-Type, the later one", lines)
    t.eq(body, b'{"a":1}', "... with the JSON body")
    lines, body = scgi_get(ssock, "/type-twice")
    t.eq(named(lines, "Content-Type"), ["text/csv"],
         "Content-Type set twice (any case): the later one only", lines)
    t.eq(named(lines, "Content-Length"), ["3"],
         "Content-Length set twice: the later one only", lines)
    t.eq(named(lines, "X-Between"), ["1"], "a header between them stays", lines)
    t.eq(body, b"a,b", "... body a,b")
    lines, body = scgi_get(ssock, "/no-content")
    t.eq(named(lines, "Status"), ["204 No Content"], "GET /no-content: 204", lines)
    t.eq(named(lines, "Content-Type"), [], "a 204 has no default Content-Type", lines)
    t.eq((named(lines, "Content-Length"), body), ([], b""), "... no Content-Length, no body")
    lines, body = scgi_get(ssock, "/not-modified")
    t.eq(named(lines, "Status"), ["304 Not Modified"], "GET /not-modified: 304", lines)
    t.eq(named(lines, "Content-Type"), [], "a 304 has no default Content-Type", lines)
    t.eq(named(lines, "ETag"), ['"v1"'], "... and keeps its ETag", lines)


def check_problem(t, ssock, port):
    lines, body = scgi_get(ssock, "/problem")
    t.eq(named(lines, "Status"), ["403 Forbidden"], "sl_resp_problem(403): 403", lines)
    t.eq(named(lines, "Set-Cookie"), ["session=abc; HttpOnly"],
         "the Set-Cookie set before sl_resp_problem() is kept", lines)
    t.eq(named(lines, "Cache-Control"), ["no-store"], "so is Cache-Control", lines)
    t.eq(named(lines, "Content-Type"), ["application/problem+json"],
         "one Content-Type, application/problem+json", lines)
    t.eq(named(lines, "Content-Length"), [str(len(body))],
         "one Content-Length, the problem body's", lines)
    t.eq(named(lines, "Content-Encoding"), [], "the Content-Encoding set before is dropped",
         lines)
    t.ok(b"discarded" not in body and b'"status":403' in body,
         "the body is the problem document", body)
    lines, body = scgi_get(ssock, "/fails")
    t.eq(named(lines, "Status"), ["500 Internal Server Error"], "a failing handler: 500", lines)
    t.eq((named(lines, "Cache-Control"), named(lines, "Set-Cookie")), ([], []),
         "sluice's 500 carries none of the failed handler's headers", lines)
    t.ok(b"partial" not in body, "nor its body", body)
    r = harness.http_get(port, "/problem")
    t.eq((r.status, r.header("Set-Cookie"), r.media_type),
         (403, "session=abc; HttpOnly", "application/problem+json"),
         "through nginx SCGI: 403 with the Set-Cookie", repr(r))


def main(t):
    harness.sluice_bin()
    harness.need_program("nginx")
    check_interim_status(t)
    app = t.build_app("resp", APP)
    ssock = t.path("resp-scgi.sock")
    fsock = t.path("resp-fcgi.sock")
    s = t.start_sluice(["--workers", "1", "--scgi", "unix:" + ssock, "--fastcgi",
                        "unix:" + fsock], app=app, name="resp")
    _, sport = t.start_nginx(scgi_sock=ssock)
    check_headers(t, ssock, fsock, s)
    check_content_type(t, ssock)
    check_problem(t, ssock, sport)


harness.run("responses", main)
