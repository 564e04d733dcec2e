#!/usr/bin/env python3
"""Requests sluice refuses early reach the client as that status, through
nginx, over FastCGI with kept upstream connections (the shipped
conf/nginx/sluice.conf), FastCGI with a connection per request (the same
without keepalive and fastcgi_keep_conn), and SCGI (sluice-scgi.conf):

  - 413 (--max-body-size, answered before the body is read) for bodies
    from just over the limit to 50 times it, each size 20 times: every
    answer is the 413 problem+json, none is 502, none hangs, and normal
    requests interleaved keep working;
  - 431 (--max-params-size) for a huge header;
  - 503 (--limit-concurrency) with a body;
  - and nginx logs no upstream error for any of it.

Before, sluice answered and then closed (or stopped reading) with the body
still coming: the peer's unread bytes reset the connection, and nginx
answered 502 ("readv() failed (104: Connection reset by peer) while
reading upstream", "writev() failed (32: Broken pipe) while sending
request to upstream").

Straight at the socket: a refused request's input is read to its end
before a connection without FCGI_KEEP_CONN is closed, and a kept one
serves the next request.
"""
import os
import shutil
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (FCGIConnection, fcgi_record, fcgi_stream, fcgi_nv_encode,  # noqa: E402
                     cgi_params, FCGI_BEGIN_REQUEST, FCGI_PARAMS, FCGI_STDIN)

HELLO = b"Hello, world!\n"
LIMIT = 100 * 1024
SIZES = [("just over the limit", LIMIT + 1), ("2x", 2 * LIMIT), ("10x", 10 * LIMIT),
         ("20x", 20 * LIMIT), ("50x", 50 * LIMIT)]
REPEAT = 20
SLOW = 5.0          # an answer later than this counts as a hang


def fresh_confdir(t):
    """The shipped configurations, FastCGI without kept connections."""
    src = harness.confdir()
    d = t.path(t._unique("conf-fresh"))
    os.makedirs(os.path.join(d, "nginx"))
    with open(os.path.join(src, "nginx", "sluice.conf")) as f:
        text = f.read()
    for line in ("keepalive 32;", "fastcgi_keep_conn on;"):
        t.ok(line in text, "the shipped sluice.conf has %r" % line)
        text = text.replace(line, "")
    with open(os.path.join(d, "nginx", "sluice.conf"), "w") as f:
        f.write(text)
    shutil.copy(os.path.join(src, "nginx", "sluice-scgi.conf"), os.path.join(d, "nginx"))
    return d


def start_nginx_from(t, confdir, **kw):
    old = os.environ.get("SLUICE_CONFDIR")
    os.environ["SLUICE_CONFDIR"] = confdir
    try:
        return t.start_nginx(**kw)
    finally:
        if old is None:
            del os.environ["SLUICE_CONFDIR"]
        else:
            os.environ["SLUICE_CONFDIR"] = old


def timed(client, method, path, body=None, headers=None):
    """(status, media type, seconds, body) or (the exception, None, seconds, b"")."""
    t0 = time.monotonic()
    try:
        r = client.request(method, path, body=body, headers=headers)
        return r.status, r.media_type, time.monotonic() - t0, r.body
    except Exception as e:
        client.close()
        return repr(e), None, time.monotonic() - t0, b""


def refusal_run(t, port, via, make_request, want, what, normal_every=1):
    """REPEAT refused requests per size (or once per round), each followed by
    normal requests on the same client connection."""
    c = harness.HTTPClient(port, timeout=30)
    bad, slow, normal_bad, n = [], [], [], 0
    for i in range(REPEAT):
        status, mt, el, _ = timed(c, *make_request(i))
        n += 1
        if (status, mt) != (want, "application/problem+json"):
            bad.append((i, status, mt))
        if el > SLOW:
            slow.append((i, round(el, 1)))
        if i % normal_every == 0:
            st, _, _, body = timed(c, "GET", "/hello")
            if (st, body) != (200, HELLO):
                normal_bad.append(("GET /hello", i, st))
            small = b"s%d" % i * 100
            st, _, _, body = timed(c, "POST", "/echo", small, {"Content-Type": "text/plain"})
            if (st, body) != (200, small):
                normal_bad.append(("POST /echo", i, st))
    c.close()
    t.ok(not bad, "%s: %s: all %d answers are the %d problem+json" % (via, what, n, want),
         harness.short(bad[:10]))
    t.ok(not slow, "%s: %s: none took over %.0f s" % (via, what, SLOW), slow[:10])
    t.ok(not normal_bad, "%s: %s: the normal requests in between are served" % (via, what),
         harness.short(normal_bad[:10]))


def nginx_upstream_errors(t, since):
    """[error] lines about the upstream in every nginx error log, past `since`."""
    out = []
    for lg in t.extra_logs:
        text = harness.read_text(lg)[since.get(lg, 0):]
        out += [ln for ln in text.splitlines()
                if "[error]" in ln or "[crit]" in ln or "upstream prematurely" in ln]
    return out


def log_marks(t):
    return {lg: len(harness.read_text(lg)) for lg in t.extra_logs}


def check_413(t, paths):
    body_cache = {}
    for via, port in paths:
        for label, size in SIZES:
            body = body_cache.setdefault(size, b"b" * size)
            refusal_run(t, port, via,
                        lambda i: ("POST", "/echo", body, {"Content-Type": "text/plain"}),
                        413, "%d-byte bodies (%s) against --max-body-size 100k" % (size, label))


def check_431(t, paths):
    big = "h" * 6000        # under nginx's 8k header buffer, over --max-params-size 4k
    for via, port in paths:
        refusal_run(t, port, via, lambda i: ("GET", "/hello", None, {"X-Big": big}),
                    431, "a 6000-byte header against --max-params-size 4k")
        body = b"q" * (LIMIT // 2)
        refusal_run(t, port, via, lambda i: ("POST", "/echo", body,
                                             {"X-Big": big, "Content-Type": "text/plain"}),
                    431, "the same with a 50 KiB body")


def check_503(t, paths, sluice_sock, sluice_ssock):
    """--limit-concurrency 1: one slow request holds the slot; every other
    is refused 503, its body read and dropped."""
    for via, port in paths:
        holder = threading.Thread(target=harness.http_get, args=(port, "/sleep?ms=6000"),
                                  kwargs={"timeout": 20}, daemon=True)
        holder.start()
        time.sleep(0.3)
        body = b"c" * (2 * LIMIT)
        c = harness.HTTPClient(port, timeout=30)
        got, slow = [], []
        for i in range(REPEAT):
            status, mt, el, _ = timed(c, "POST", "/echo", body, {"Content-Type": "text/plain"})
            got.append((status, mt))
            if el > SLOW:
                slow.append(round(el, 1))
        c.close()
        t.ok(all(g == (503, "application/problem+json") for g in got),
             "%s: --limit-concurrency 1 with the slot held: %d POSTs of 200 KiB all get "
             "the 503 problem+json" % (via, REPEAT), harness.short(got))
        t.ok(not slow, "%s: none took over %.0f s" % (via, SLOW), slow)
        holder.join(15)


def raw_keep0(t, sock):
    """Without FCGI_KEEP_CONN the web server waits for our close to end the
    answer and sends no more: the answer, then our side is shut down, and
    what still comes is read and dropped until the peer closes (lingering),
    so nothing the peer sends meets a reset."""
    body = b"z" * (3 * LIMIT)
    params = cgi_params("POST", "/echo", len(body), "text/plain")
    with FCGIConnection(sock) as c:
        c.send(fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack(">HB5x", 1, 0))
               + fcgi_stream(FCGI_PARAMS, 1, fcgi_nv_encode(params))
               + fcgi_record(FCGI_STDIN, 1, body[:1000]))
        r = c.wait([1], timeout=5)[1]
        t.eq(r.status, 413, "straight at the socket, no FCGI_KEEP_CONN: 413 before the body")
        t.ok(c.closed_by_peer(timeout=2), "then end of file: the answer is complete")
        err = None
        try:
            c.send(fcgi_stream(FCGI_STDIN, 1, body[1000:]))
            time.sleep(0.2)
            c.send(b"anything at all" * 1000)
        except OSError as e:
            err = e
        t.ok(err is None, "what the peer still sends is taken, no reset (%r)" % err)
        t.eq(harness.unix_connections(sock), 1, "sluice keeps its side until the peer closes")
    t.ok(harness.wait_until(lambda: harness.unix_connections(sock) == 0, 3),
         "and closes it once the peer has")
    # 400 for a CONTENT_LENGTH that is not a number: the same.
    with FCGIConnection(sock) as c:
        params = cgi_params("POST", "/echo", 10, "text/plain", {"CONTENT_LENGTH": "1O"})
        c.send(fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack(">HB5x", 1, 1))
               + fcgi_stream(FCGI_PARAMS, 1, fcgi_nv_encode(params)))
        r = c.wait([1], timeout=5)[1]
        t.eq(r.status, 400, "CONTENT_LENGTH '1O': 400 before the body")
        c.send(fcgi_stream(FCGI_STDIN, 1, b"0123456789"))
        r = c.request("GET", "/hello", req_id=1)
        t.eq((r.status, r.body), (200, HELLO), "its STDIN is dropped, the kept connection "
             "serves the next request with the same id")


def raw_scgi(t, ssock):
    """SCGI: the answer, end of file, and the body is read and dropped."""
    body = b"y" * (3 * LIMIT)
    hdr = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1"), ("REQUEST_METHOD", "POST"),
           ("REQUEST_URI", "/echo")]
    block = b"".join(n.encode() + b"\0" + v.encode() + b"\0" for n, v in hdr)
    for what, head in (("a 300 KiB body over --max-body-size", b""),
                       ("a header block over --max-params-size", b"x" * 5000)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(ssock)
        blk = block + (b"HTTP_X\0" + head + b"\0" if head else b"")
        whole = str(len(blk)).encode() + b":" + blk + b"," + body
        first = 1000 if head else len(whole) - len(body) + 1000
        s.sendall(whole[:first])
        answer = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                answer += d
        except OSError:
            pass
        want = b"Status: 413" if not head else b"Status: 431"
        t.ok(answer.startswith(want), "SCGI straight at the socket, %s: %s, then end of "
             "file, before the rest is sent" % (what, want.decode()), answer[:200])
        err = None
        try:
            s.sendall(whole[first:])
        except OSError as e:
            err = e
        t.ok(err is None, "SCGI: the rest is taken, no reset (%r)" % err)
        s.close()


def main(t):
    sock, ssock = t.path("fcgi.sock"), t.path("scgi.sock")
    s = t.start_sluice(["--workers", "1", "--max-body-size", "100k", "--max-params-size", "4k",
                        "--fastcgi", "unix:" + sock, "--scgi", "unix:" + ssock],
                       name="refusals")
    kept_port, scgi_port = t.start_nginx(fcgi_sock=sock, scgi_sock=ssock)
    fresh_port, _ = start_nginx_from(t, fresh_confdir(t), fcgi_sock=sock)
    paths = [("nginx FastCGI kept", kept_port), ("nginx FastCGI fresh", fresh_port),
             ("nginx SCGI", scgi_port)]
    marks = log_marks(t)
    check_413(t, paths)
    check_431(t, paths)
    errs = nginx_upstream_errors(t, marks)
    t.ok(not errs, "nginx logged no upstream error (%d lines)" % len(errs),
         "\n".join(errs[:10]))
    warns = [ln for ln in s.log_text().splitlines() if "closing connection" in ln]
    t.ok(not warns, "sluice closed no connection in trouble", "\n".join(warns[:10]))
    t.ok(s.alive(), "sluice is running")
    s.stop()

    # Straight at the socket, without nginx's kept connections around.
    sock, ssock = t.path("raw.sock"), t.path("raws.sock")
    s = t.start_sluice(["--workers", "1", "--max-body-size", "100k", "--max-params-size", "4k",
                        "--fastcgi", "unix:" + sock, "--scgi", "unix:" + ssock], name="raw")
    raw_keep0(t, sock)
    raw_scgi(t, ssock)
    s.stop()

    sock2, ssock2 = t.path("lc.sock"), t.path("lcs.sock")
    s2 = t.start_sluice(["--workers", "1", "--limit-concurrency", "1",
                         "--fastcgi", "unix:" + sock2, "--scgi", "unix:" + ssock2],
                        name="limitconc")
    kept2, scgi2 = t.start_nginx(fcgi_sock=sock2, scgi_sock=ssock2)
    fresh2, _ = start_nginx_from(t, fresh_confdir(t), fcgi_sock=sock2)
    marks = log_marks(t)
    check_503(t, [("nginx FastCGI kept", kept2), ("nginx FastCGI fresh", fresh2),
                  ("nginx SCGI", scgi2)], sock2, ssock2)
    errs = nginx_upstream_errors(t, marks)
    t.ok(not errs, "nginx logged no upstream error for the 503s", "\n".join(errs[:10]))
    s2.stop()


if __name__ == "__main__":
    harness.run("refusals", main)
