#!/usr/bin/env python3
"""Bounded resources and safe output: socket permissions, 413/431/400,
read and keep-alive timeouts (slowloris), the connection limit, --allow-from,
and responses an application gets wrong."""
import os
import resource
import socket
import stat
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (FCGIConnection, fcgi_record, fcgi_stream, fcgi_nv_encode,  # noqa: E402
                     cgi_params, FCGI_PARAMS, FCGI_STDIN)

HELLO = b"Hello, world!\n"

BAD_APP = r'''#include <sluice.h>
static int badheader(sl_req *req) {
    sl_resp_header(req, "X-Injected", "a\r\nSet-Cookie: evil=1");
    return sl_resp_printf(req, "should not be seen\n");
}
static int badname(sl_req *req) {
    sl_resp_header(req, "Bad Name", "x");
    return sl_resp_printf(req, "should not be seen\n");
}
static int badstatus(sl_req *req) {
    sl_resp_status(req, 1000);
    return sl_resp_printf(req, "should not be seen\n");
}
static int plain(sl_req *req) {
    return sl_resp_write(req, "<b>hi</b>", 9);
}
int sluice_app(sl_app *app) {
    int rc = sl_route(app, "GET", "/badheader", badheader, SL_LOOP);
    rc |= sl_route(app, "GET", "/badname", badname, 0);
    rc |= sl_route(app, "GET", "/badstatus", badstatus, SL_LOOP);
    rc |= sl_route(app, "GET", "/plain", plain, SL_LOOP);
    return rc;
}
'''


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def log_count(proc, needle):
    return proc.log_text().count(needle)


def check_socket_modes(t):
    sock = t.path("mode.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="mode")
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    t.eq(oct(mode), oct(0o660), "the unix socket is created 0660 by default")
    s.stop()
    sock2 = t.path("mode2.sock")
    s = t.start_sluice(["--workers", "1", "--socket-mode", "0600", "--fastcgi", "unix:" + sock2],
                       name="mode2")
    t.eq(oct(stat.S_IMODE(os.stat(sock2).st_mode)), oct(0o600), "--socket-mode 0600 is applied")
    s.stop()
    import grp
    import pwd
    sock3 = t.path("mode3.sock")
    s = t.start_sluice(["--workers", "1", "--socket-owner", "nobody", "--socket-group", "nogroup",
                        "--fastcgi", "unix:" + sock3], name="mode3")
    st = os.stat(sock3)
    t.eq((st.st_uid, st.st_gid), (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid),
         "--socket-owner nobody --socket-group nogroup own the socket")
    s.stop()


def check_early_answers(t, sock):
    # 413 from CONTENT_LENGTH alone: no body is sent, the answer comes anyway.
    with FCGIConnection(sock) as c:
        params = cgi_params("POST", "/echo", 5000, "text/plain")
        c.send(c.begin(1, keep=True) + fcgi_stream(FCGI_PARAMS, 1, fcgi_nv_encode(params)))
        r = c.wait([1], timeout=5)[1]
        t.eq(r.status, 413, "CONTENT_LENGTH over --max-body-size: 413 before the body is read")
        t.eq(r.media_type, "application/problem+json", "413 is a problem+json")
        # The connection goes on: the body records nginx would still send are
        # ignored, and the next request is served.
        c.send(fcgi_stream(FCGI_STDIN, 1, b"x" * 5000))
        r = c.request("GET", "/hello", req_id=1)
        t.eq((r.status, r.body), (200, HELLO), "the connection serves the next request after a 413")
    # 431 for parameters over --max-params-size; they are dropped, not stored.
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/hello", extra=[("HTTP_COOKIE", "c" * 8000)])
        t.eq(r.status, 431, "parameters over --max-params-size: 431")
        r = c.request("GET", "/hello")
        t.eq((r.status, r.body), (200, HELLO), "the connection serves the next request after a 431")
    # 400 for a CONTENT_LENGTH that is not a number.
    for bad in ("abc", "-5", "1e3", " 5"):
        with FCGIConnection(sock) as c:
            r = c.request("POST", "/echo", extra=[("CONTENT_LENGTH", bad)])
            t.eq(r.status, 400, "CONTENT_LENGTH %r: 400" % bad)


def check_timeouts(t):
    sock = t.path("to.sock")
    s = t.start_sluice(["--workers", "1", "--read-timeout", "1", "--keepalive-timeout", "2",
                        "--fastcgi", "unix:" + sock], name="timeouts", log_level="debug")
    # A partial record, then silence: closed by the read timeout.
    with FCGIConnection(sock) as c:
        c.send(b"\x01\x01\x00")
        t0 = time.monotonic()
        closed = c.closed_by_peer(timeout=5)
        t.ok(closed and time.monotonic() - t0 < 4,
             "a partial record then silence is closed by --read-timeout 1 (%.1f s)"
             % (time.monotonic() - t0))
    # A request trickled one byte at a time is closed too: the deadline is
    # not pushed back by each byte.
    with FCGIConnection(sock) as c:
        data = c.request_bytes(1, "GET", "/hello")
        t0 = time.monotonic()
        closed = False
        for b in data:
            try:
                c.send(bytes([b]))
            except OSError:
                closed = True
                break
            if c.closed_by_peer(timeout=0.2):
                closed = True
                break
        t.ok(closed and time.monotonic() - t0 < 5,
             "a request trickled a byte every 0.2 s is closed by the read timeout (%.1f s)"
             % (time.monotonic() - t0))
    # An idle kept connection is closed by the keep-alive timeout, quietly.
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/hello", keep=True)
        t.eq(r.status, 200, "a kept connection serves a request")
        t0 = time.monotonic()
        closed = c.closed_by_peer(timeout=6)
        el = time.monotonic() - t0
        t.ok(closed and 1.5 <= el < 5, "idle kept connection closed by --keepalive-timeout 2 "
             "(%.1f s)" % el)
    # A slow handler is not a slow request: /sleep?ms=1500 outlives the 1 s
    # read timeout and is answered.
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/sleep?ms=1500", timeout=5)
        t.eq(r.status, 200, "a handler running longer than --read-timeout is not cut off")
    t.ok("read timeout" in s.log_text(), "the read timeout is logged with its reason",
         harness.tail(s.log_text()))


def slowloris(t):
    n = 1000
    limit = raise_fd_limit(n + 200)
    sock = t.path("slow.sock")
    s = t.start_sluice(["--workers", "1", "--read-timeout", "2", "--fastcgi", "unix:" + sock],
                       name="slowloris")
    port, _ = t.start_nginx(fcgi_sock=sock)
    stop = threading.Event()
    healthy = {"ok": 0, "bad": []}

    def healthy_client():
        c = harness.HTTPClient(port, timeout=10)
        while not stop.is_set():
            try:
                r = c.get("/hello")
                if r.status == 200 and r.body == HELLO:
                    healthy["ok"] += 1
                else:
                    healthy["bad"].append(r.status)
            except Exception as e:
                healthy["bad"].append(repr(e))
                c.close()
                c = harness.HTTPClient(port, timeout=10)
            time.sleep(0.01)
        c.close()

    th = threading.Thread(target=healthy_client, daemon=True)
    th.start()
    conns = []
    try:
        for i in range(n):
            cs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            cs.settimeout(10)
            cs.connect(sock)
            conns.append(cs)
        t.note("%d slow connections open (fd limit %d)" % (len(conns), limit))
        closed = set()
        deadline = time.monotonic() + 15
        step = 0
        while len(closed) < len(conns) and time.monotonic() < deadline:
            for i, cs in enumerate(conns):
                if i in closed:
                    continue
                try:
                    cs.send(b"\x01"[:1] if step == 0 else b"\x00")
                except OSError:
                    closed.add(i)
            step += 1
            time.sleep(1.0)
        t.eq(len(closed), len(conns),
             "%d connections trickling a byte a second are all closed by the read timeout" % n)
    finally:
        for cs in conns:
            cs.close()
        stop.set()
        th.join(15)
    t.ok(healthy["ok"] > 0 and not healthy["bad"],
         "the healthy client's requests kept succeeding (%d ok, %d failed)"
         % (healthy["ok"], len(healthy["bad"])), harness.short(healthy["bad"][:5]))
    t.ok(s.alive(), "sluice is still running")


def check_connection_limit(t):
    sock = t.path("cl.sock")
    t.start_sluice(["--workers", "1", "--max-connections", "2", "--fastcgi", "unix:" + sock],
                   name="connlimit")
    a, b = FCGIConnection(sock), FCGIConnection(sock)
    for c in (a, b):
        t.eq(c.request("GET", "/hello").status, 200, "a connection within --max-connections")
    third = FCGIConnection(sock, timeout=5)
    third.start(1, "GET", "/hello")
    got = None
    try:
        got = third.wait([1], timeout=1.0)
    except Exception:
        pass
    t.ok(got is None, "a third connection waits while two are open (accepting paused)")
    a.close()
    r = third.wait([1], timeout=5)[1]
    t.eq((r.status, r.body), (200, HELLO), "it is served once a slot frees up")
    b.close()
    third.close()


def check_connection_limit_peers(t):
    """A worker at --max-connections leaves new connections to the others.
    libuv accepts before it calls back: a worker that kept watching the
    listener at its limit took the next connection and held it unanswered
    until one of its own closed, with the other worker idle."""
    sock = t.path("clp.sock")
    t.start_sluice(["--workers", "2", "--max-connections", "1", "--fastcgi", "unix:" + sock],
                   name="connlimit-peers")
    held = 0
    for i in range(20):
        with FCGIConnection(sock) as first:
            first.request("GET", "/hello")
            with FCGIConnection(sock, timeout=3) as second:
                try:
                    r = second.request("GET", "/hello")
                    if r.status != 200:
                        held += 1
                except Exception:
                    held += 1
    t.eq(held, 0, "20 times: with one connection open at one worker, a second is "
         "served by the other at once (none held at the full one)")
    # Both full: a third waits in the queue, and is served when either frees.
    a, b = FCGIConnection(sock), FCGIConnection(sock)
    for c in (a, b):
        c.request("GET", "/hello")
    third = FCGIConnection(sock, timeout=5)
    third.start(1, "GET", "/hello")
    got = None
    try:
        got = third.wait([1], timeout=1.0)
    except Exception:
        pass
    t.ok(got is None, "with both workers full, a third connection waits")
    b.close()
    r = third.wait([1], timeout=5)[1]
    t.eq(r.status, 200, "and is served once either frees a slot")
    a.close()
    third.close()


def check_allow_from(t):
    port = harness.free_port()
    s = t.start_sluice(["--workers", "1", "--fastcgi", "127.0.0.1:%d" % port,
                        "--allow-from", "192.0.2.0/24"], name="deny", wait_tcp=[port])
    with FCGIConnection(("127.0.0.1", port)) as c:
        try:
            c.send(c.request_bytes(1, "GET", "/hello", keep=False))
        except OSError:
            pass
        t.ok(c.closed_by_peer(timeout=5), "a peer not in --allow-from is closed at accept")
    harness.wait_until(lambda: "not in --allow-from" in s.log_text(), 3)
    t.ok("not in --allow-from" in s.log_text(), "and that is logged")
    s.stop()
    port = harness.free_port()
    t.start_sluice(["--workers", "1", "--fastcgi", "127.0.0.1:%d" % port,
                    "--allow-from", "10.0.0.0/8, 127.0.0.0/8"], name="allow", wait_tcp=[port])
    with FCGIConnection(("127.0.0.1", port)) as c:
        r = c.request("GET", "/hello")
        t.eq(r.status, 200, "a peer inside an --allow-from range is served")
    # A listener beyond loopback without --allow-from is a configuration error.
    r = t.run_cmd([harness.sluice_bin(), "--fastcgi", "0.0.0.0:%d" % harness.free_port(),
                   harness.sluice_demo()], timeout=10)
    t.eq(r.returncode, 2, "a non-loopback TCP listener without --allow-from exits 2",
         r.stderr.decode(errors="replace"))
    t.ok(b"--allow-from" in r.stderr, "and says so", r.stderr.decode(errors="replace"))


def check_bad_responses(t):
    t.build_app("bad", BAD_APP)
    sock = t.path("bad.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], app=t.path("bad.so"),
                       name="badapp")
    for path, what in (("/badheader", "CR LF in a header value"),
                       ("/badname", "a header name that is not a token"),
                       ("/badstatus", "status 1000")):
        with FCGIConnection(sock) as c:
            r = c.request("GET", path)
            raw = r.stdout
            t.eq(r.status, 500, "%s: 500 instead" % what)
            t.ok(b"evil" not in raw and b"should not be seen" not in raw,
                 "%s: nothing of it is written" % what, raw)
    t.ok(s.log_text().count("invalid response") >= 3, "each is logged",
         harness.tail(s.log_text()))
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/plain")
        t.ok(r.media_type == "text/plain", "a response without Content-Type is text/plain, "
             "never HTML (%s)" % r.header("Content-Type"))


def check_peer_gone(t):
    """A web server that closes while we write costs that connection only:
    the worker must not die of SIGPIPE."""
    sock = t.path("gone.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="gone")
    # The socket is bound before the worker is forked: wait for the worker.
    pids0 = harness.wait_until(lambda: harness.children_of(s.pid), 5)
    for i in range(20):
        with FCGIConnection(sock) as c:
            c.send(c.request_bytes(1, "GET", "/stream?chunks=200000", keep=False))
            c.sock.recv(100)
        with FCGIConnection(sock) as c:
            c.send(c.request_bytes(1, "GET", "/block?ms=50", keep=False))
    time.sleep(0.5)
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/hello")
    t.eq((r.status, r.body), (200, HELLO), "served after 40 peers left mid-response")
    t.eq(harness.children_of(s.pid), pids0, "the worker is the same process (no SIGPIPE death)")
    t.ok("signal 13" not in s.log_text(), "no worker killed by signal 13",
         harness.tail(s.log_text()))


def check_stalled_reader(t):
    """A web server that stops reading stops the producer: a pool handler
    streaming a million lines waits once 256 KiB are queued, and the
    worker's memory does not grow with what it would have produced."""
    sock = t.path("stall.sock")
    s = t.start_sluice(["--workers", "1", "--timeout", "0", "--fastcgi", "unix:" + sock],
                       name="stall")
    (wpid,) = harness.wait_until(lambda: harness.children_of(s.pid), 5)
    with FCGIConnection(sock) as c:
        c.request("GET", "/hello")
    rss0 = harness.vmrss_kb(wpid)
    c = FCGIConnection(sock)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(c.request_bytes(1, "GET", "/stream?chunks=300000", keep=False))
    time.sleep(3)
    rss1 = harness.vmrss_kb(wpid)
    slack = 64 * 1024 if os.environ.get("SLUICE_SANITIZERS") else 4 * 1024
    t.ok(rss1 is not None and rss1 - rss0 < slack,
         "a stalled reader: the worker's RSS stays within %d KiB (%s -> %s kB)"
         % (slack, rss0, rss1))
    with FCGIConnection(sock) as c2:
        r = c2.request("GET", "/hello")
    t.eq((r.status, r.body), (200, HELLO), "the worker serves others meanwhile")
    # Now read it all: every line arrives, in order, and the stream ends.
    c.sock.settimeout(60)
    data = bytearray()
    while True:
        chunk = c.sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    c.close()
    body = bytearray()
    off = 0
    while off + 8 <= len(data):         # STDOUT records' content
        _, rtype, _, clen, plen = struct.unpack(">BBHHBx", data[off:off + 8])
        if rtype == 6:
            body += data[off + 8:off + 8 + clen]
        off += 8 + clen + plen
    lines = bytes(body).split(b"\r\n\r\n", 1)[-1].split(b"\n")
    t.ok(len(lines) == 300001 and lines[299999] == b"chunk 299999",
         "then the whole stream arrives (%d lines)" % (len(lines) - 1))


def main(t):
    check_stalled_reader(t)
    check_peer_gone(t)
    check_socket_modes(t)
    sock = t.path("lim.sock")
    t.start_sluice(["--workers", "1", "--max-body-size", "1k", "--max-params-size", "4k",
                    "--fastcgi", "unix:" + sock], name="limits")
    check_early_answers(t, sock)
    check_timeouts(t)
    check_connection_limit(t)
    check_connection_limit_peers(t)
    check_allow_from(t)
    check_bad_responses(t)
    slowloris(t)


if __name__ == "__main__":
    harness.run("limits", main)
