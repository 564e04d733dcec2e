#!/usr/bin/env python3
"""The connection under hostile FastCGI peers, straight at the socket (no
web server sends any of this):

  - a peer that sends small records that each produce a reply and never
    reads: the worker stops reading it, its memory stays flat, and is given
    back once the peer leaves; other peers are served meanwhile;
  - connections closing after their last answer, whose peer never reads
    it: counted against --max-connections, cut after --read-timeout
    without progress, and they do not hold a stopping worker;
  - requests still arriving across all connections are bounded per worker:
    past the bound BEGIN_REQUEST gets FCGI_OVERLOADED;
  - FCGI_MAX_REQS does not wrap at 32 bits;
  - management records do not push back the keep-alive deadline;
  - GET_VALUES with an empty name or a long one among the known ones is
    answered, the connection stays.
"""
import errno
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (FCGIConnection, fcgi_record, fcgi_nv, fcgi_nv_encode,  # noqa: E402
                     fcgi_nv_decode, fcgi_stream, cgi_params,
                     FCGI_BEGIN_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_GET_VALUES,
                     FCGI_GET_VALUES_RESULT, FCGI_OVERLOADED)

HELLO = b"Hello, world!\n"
SAN = bool(os.environ.get("SLUICE_SANITIZERS"))
# Under AddressSanitizer freed memory waits in a quarantine (16 MiB as make
# check sets it) and shadow pages come on top.
RSS_SLACK_KB = 48 * 1024 if SAN else 4 * 1024


def worker_pid(t, s):
    kids = harness.wait_until(lambda: harness.children_of(s.pid), 5)
    t.ok(kids and len(kids) == 1, "one worker (%s)" % kids)
    return next(iter(kids))


def try_hello(c):
    """(status, body) of GET /hello on c, or what went wrong."""
    try:
        r = c.request("GET", "/hello", timeout=3)
        return (r.status, r.body)
    except Exception as e:
        return repr(e)


def begin(rid, role=1, keep=True):
    return fcgi_record(FCGI_BEGIN_REQUEST, rid, struct.pack(">HB5x", role, 1 if keep else 0))


def healthy_loop(sock, stop, tally):
    """GET /hello on a kept connection every 20 ms until stop is set."""
    c = None
    while not stop.is_set():
        try:
            if c is None:
                c = FCGIConnection(sock, timeout=5)
            r = c.request("GET", "/hello")
            if (r.status, r.body) == (200, HELLO):
                tally["ok"] += 1
            else:
                tally["bad"].append(r.status)
        except Exception as e:
            tally["bad"].append(repr(e))
            if c is not None:
                c.close()
            c = None
        time.sleep(0.02)
    if c is not None:
        c.close()


def check_reply_flood(t):
    """Item: replies without backpressure.  Unknown record types, GET_VALUES
    and BEGIN_REQUEST with another role each make us write a reply; a peer
    sending them without reading made the worker grow by 1.5 GiB in 4 s."""
    sock = t.path("flood.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="flood")
    wpid = worker_pid(t, s)
    with FCGIConnection(sock) as c:
        for _ in range(50):
            c.request("GET", "/hello")
    time.sleep(0.3)
    rss0 = harness.vmrss_kb(wpid)
    # 8-byte records that each get a 16-byte (or longer) reply.
    unit = (fcgi_record(20, 0, b"") * 6
            + fcgi_record(FCGI_GET_VALUES, 0, fcgi_nv("FCGI_MPXS_CONNS", ""))
            + begin(7, role=2, keep=True))
    burst = unit * (65536 // len(unit))
    stop = threading.Event()
    tally = {"ok": 0, "bad": []}
    th = threading.Thread(target=healthy_loop, args=(sock, stop, tally), daemon=True)
    th.start()
    peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    peer.connect(sock)
    peer.setblocking(False)
    sent, peak, blocked_since = 0, rss0, None
    t_end = time.monotonic() + 3.0
    while time.monotonic() < t_end:
        try:
            sent += peer.send(burst)
            blocked_since = None
        except BlockingIOError:
            if blocked_since is None:
                blocked_since = time.monotonic()
            time.sleep(0.01)
        rss = harness.vmrss_kb(wpid) or 0
        peak = max(peak, rss)
    stop.set()
    th.join(10)
    t.note("flood: sent %d KiB; worker RSS %d kB before, peak %d kB"
           % (sent // 1024, rss0, peak))
    t.ok(blocked_since is not None and sent < 2 << 20,
         "the worker stops reading a peer that does not read its replies "
         "(the peer's sends block after %d KiB)" % (sent // 1024))
    t.ok(peak - rss0 < RSS_SLACK_KB,
         "while it floods, the worker's RSS stays within %d KiB (%d -> peak %d kB)"
         % (RSS_SLACK_KB, rss0, peak))
    t.ok(tally["ok"] > 20 and not tally["bad"],
         "other peers are served meanwhile (%d ok, %d failed)"
         % (tally["ok"], len(tally["bad"])), harness.short(tally["bad"][:5]))
    # The peer reads a little: the worker reads again and answers more.
    peer.setblocking(True)
    peer.settimeout(2)
    got = b""
    try:
        while len(got) < 200000:
            d = peer.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    t.ok(len(got) >= 200000, "a peer that reads gets its replies (%d bytes read)" % len(got))
    peer.close()
    back = harness.wait_until(
        lambda: (harness.vmrss_kb(wpid) or 0) - rss0 < RSS_SLACK_KB // 2 or None, 5)
    rss2 = harness.vmrss_kb(wpid)
    t.ok(back, "after the peer leaves the worker's RSS is back near where it started "
         "(%d -> %d kB)" % (rss0, rss2))
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/hello")
    t.eq((r.status, r.body), (200, HELLO), "and it serves requests")
    # Many such peers at once, and no request meanwhile: what their queued
    # answers took is given back once they leave, though no request ran.
    time.sleep(1.5)
    rss0 = harness.vmrss_kb(wpid)
    peers = []
    for _ in range(64):
        p = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        p.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        p.connect(sock)
        p.setblocking(False)
        peers.append(p)
    peak = rss0
    t_end = time.monotonic() + 2.0
    while time.monotonic() < t_end:
        for p in peers:
            try:
                p.send(burst[:8192])
            except BlockingIOError:
                pass
        peak = max(peak, harness.vmrss_kb(wpid) or 0)
    for p in peers:
        p.close()
    t.note("64 peers: worker RSS %d kB before, peak %d kB" % (rss0, peak))
    t.ok(peak - rss0 < 64 * 256 + RSS_SLACK_KB,
         "64 such peers hold at most a few hundred KiB each (%d -> peak %d kB)"
         % (rss0, peak))
    back = harness.wait_until(
        lambda: (harness.vmrss_kb(wpid) or 0) - rss0 < RSS_SLACK_KB // 2 or None, 4)
    t.ok(back, "once they leave the worker gives that memory back (%d -> %d kB)"
         % (rss0, harness.vmrss_kb(wpid)))
    t.eq(harness.children_of(s.pid), {wpid}, "the same worker throughout")
    s.stop()


def hog(sock, size):
    """POST /echo of `size` bytes without FCGI_KEEP_CONN, then never read:
    the answer is the connection's last, and the peer leaves it queued."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(10)
    c.connect(sock)
    body = b"h" * size
    params = cgi_params("POST", "/echo", len(body), "application/octet-stream")
    c.sendall(begin(1, keep=False) + fcgi_stream(FCGI_PARAMS, 1, fcgi_nv_encode(params))
              + fcgi_stream(FCGI_STDIN, 1, body))
    return c


def check_closing_phase(t):
    """Item: connections closing after their last answer.  They left every
    count: no timer, not counted against --max-connections, buffers kept,
    and a stopping worker waited for them until its peers closed."""
    sock = t.path("closing.sock")
    s = t.start_sluice(["--workers", "1", "--read-timeout", "2", "--max-connections", "3",
                        "--graceful-timeout", "30", "--fastcgi", "unix:" + sock],
                       name="closing", log_level="debug")
    wpid = worker_pid(t, s)
    with FCGIConnection(sock) as c:
        c.request("POST", "/echo", body=b"w" * (4 << 20), content_type="text/plain")
    time.sleep(1.5)     # the worker trims its heap after a second idle
    rss0 = harness.vmrss_kb(wpid)
    hogs = [hog(sock, 4 << 20)]
    # The first one's answer stalls now: it is cut --read-timeout (2 s)
    # from here, so the fourth must be seen waiting well before that, also
    # on a loaded machine where sending the other two takes a while.
    t_first = time.monotonic()
    hogs += [hog(sock, 4 << 20) for _ in range(2)]
    # Their answers are queued; the peers read none of it.
    time.sleep(0.3)
    t0 = time.monotonic()
    fourth = FCGIConnection(sock, timeout=10)
    fourth.start(1, "GET", "/hello")
    early = None
    window = min(1.0, 1.7 - (time.monotonic() - t_first))
    t.note("the fourth is watched for %.2f s" % window)
    try:
        if window > 0.05:
            early = fourth.wait([1], timeout=window)[1]
    except Exception:
        pass
    t.ok(early is None, "3 connections closing with unread answers count against "
         "--max-connections 3: a fourth waits")
    r = early or fourth.wait([1], timeout=6)[1]
    el = time.monotonic() - t0
    t.eq((r.status, r.body), (200, HELLO), "the fourth is served once they are cut")
    t.ok(el < 4.5, "they are cut about --read-timeout 2 after their answers stalled "
         "(the fourth waited %.1f s)" % el)
    fourth.close()
    gone = harness.wait_until(lambda: harness.unix_connections(sock) == 0, 3)
    t.ok(gone, "no server-side socket left (%d)" % harness.unix_connections(sock))
    back = harness.wait_until(
        lambda: (harness.vmrss_kb(wpid) or 0) - rss0 < RSS_SLACK_KB or None, 5)
    t.ok(back, "their memory is given back (%d -> %s kB)" % (rss0, harness.vmrss_kb(wpid)))
    for h in hogs:
        h.close()
    # A closing connection whose peer keeps taking some of the answer is
    # not cut: what the socket holds every 0.4 s, of 4 MiB, outlasts the
    # 2 s bound.
    size = 4 << 20
    slow = hog(sock, size)
    slow.setblocking(False)
    got, eof = 0, False
    t0 = time.monotonic()
    while not eof and time.monotonic() - t0 < 20:
        time.sleep(0.4)
        took = 0
        while took < (1 << 20):
            try:
                d = slow.recv(65536)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not d:
                eof = True
                break
            took += len(d)
        got += took
    el = time.monotonic() - t0
    slow.close()
    t.ok(got > size and el > 2.5, "a slow reader that keeps reading gets the whole "
         "answer (%d bytes in %.1f s)" % (got, el))
    # A stopping worker does not wait for its peers to read: it ends once
    # the closing connections are cut, not at --graceful-timeout.
    hogs = [hog(sock, 4 << 20) for _ in range(2)]
    time.sleep(0.5)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    ended = harness.wait_until(lambda: not harness.pid_alive(wpid), 10)
    el = time.monotonic() - t0
    t.ok(ended and el < 5, "a stopping worker ends %.1f s after SIGTERM with 2 peers "
         "not reading (--read-timeout 2, --graceful-timeout 30)" % el)
    for h in hogs:
        h.close()
    s.wait(10)


def check_arriving_bound(t):
    """Item: memory per request id.  A worker holds at most
    max(--max-connections, --max-conn-requests) requests still arriving,
    across its connections; past it BEGIN_REQUEST gets FCGI_OVERLOADED."""
    sock = t.path("arriving.sock")
    s = t.start_sluice(["--workers", "1", "--max-connections", "6", "--max-conn-requests", "4",
                        "--fastcgi", "unix:" + sock], name="arriving")
    a, b = FCGIConnection(sock), FCGIConnection(sock)
    params = fcgi_nv_encode(cgi_params("GET", "/hello"))
    half = params[:len(params) // 2]
    # a: 4 requests begun, parameters half sent; b: 2 more: 6 arriving.
    a.send(b"".join(begin(i) + fcgi_record(FCGI_PARAMS, i, half) for i in range(1, 5)))
    b.send(b"".join(begin(i) + fcgi_record(FCGI_PARAMS, i, half) for i in range(1, 3)))
    time.sleep(0.2)
    b.send(begin(3))
    try:
        r = b.wait([3], timeout=2)[3]
        got = r.protocol_status
    except Exception as e:
        got = repr(e)
    t.eq(got, FCGI_OVERLOADED, "a 7th request arriving in the worker (2nd connection, "
         "which has 2 of its 4) is ended with FCGI_OVERLOADED")
    # Without FCGI_KEEP_CONN that answer is the connection's last: then end
    # of file, and what the peer still sends of the request is taken.
    with FCGIConnection(sock) as d:
        d.send(begin(1, keep=False))
        try:
            r = d.wait([1], timeout=2)[1]
            got = r.protocol_status
        except Exception as e:
            got = repr(e)
        t.eq(got, FCGI_OVERLOADED, "on a connection not kept too")
        t.ok(d.closed_by_peer(timeout=2), "which is then closed (end of file)")
        err = None
        try:
            d.send(fcgi_stream(FCGI_PARAMS, 1, params) + fcgi_record(FCGI_STDIN, 1))
        except OSError as e:
            err = e
        t.ok(err is None, "and the rest of that request is taken, no reset (%r)" % err)
    # One of a's completes: there is room again.
    a.send(fcgi_record(FCGI_PARAMS, 1, params[len(params) // 2:]) + fcgi_record(FCGI_PARAMS, 1)
           + fcgi_record(FCGI_STDIN, 1))
    r = a.wait([1], timeout=5)[1]
    t.eq((r.status, r.body), (200, HELLO), "a request completed on the first connection")
    b.start(4, "GET", "/hello")
    r = b.wait([4], timeout=5)[4]
    t.eq((r.protocol_status, r.status, r.body), (0, 200, HELLO),
         "then a new one on the second is accepted and served")
    # Closing a connection gives its arriving requests' room back.
    a.close()
    time.sleep(0.2)
    for rid in (5, 6, 7):
        b.send(begin(rid) + fcgi_record(FCGI_PARAMS, rid, half))
    b.send(begin(8))
    try:
        r = b.wait([8], timeout=2)[8]
        got = r.protocol_status
    except Exception as e:
        got = repr(e)
    t.eq(got, FCGI_OVERLOADED, "with a closed, b's 4 arriving fill its own --max-conn-requests")
    b.close()
    with FCGIConnection(sock) as c:
        r = c.request("GET", "/hello")
    t.eq((r.status, r.body), (200, HELLO), "a fresh connection is served")
    s.stop()


def get_values(c, names):
    c.send(fcgi_record(FCGI_GET_VALUES, 0, names))
    typ, content = c.wait_management(timeout=3)
    return typ, content


def check_max_reqs(t):
    """Item: FCGI_MAX_REQS was max_connections * max_conn_requests in 32
    bits, which wraps: 1,000,000 x 65,535 read as 1,110,490,560."""
    sock = t.path("maxreqs.sock")
    s = t.start_sluice(["--workers", "1", "--max-connections", "1000000",
                        "--max-conn-requests", "65535", "--fastcgi", "unix:" + sock],
                       name="maxreqs")
    with FCGIConnection(sock) as c:
        typ, content = get_values(c, fcgi_nv_encode([("FCGI_MAX_REQS", ""),
                                                     ("FCGI_MAX_CONNS", "")]))
    vals = fcgi_nv_decode(content)
    t.eq(typ, FCGI_GET_VALUES_RESULT, "GET_VALUES answered")
    t.eq(vals.get("FCGI_MAX_CONNS"), "1000000", "FCGI_MAX_CONNS is --max-connections")
    t.eq(vals.get("FCGI_MAX_REQS"), "4294967295",
         "FCGI_MAX_REQS saturates instead of wrapping (1,000,000 x 65,535)")
    s.stop()


def check_idle_refresh(t):
    """Item: an idle connection refreshed with management records never met
    its keep-alive timeout."""
    sock = t.path("idle.sock")
    s = t.start_sluice(["--workers", "1", "--keepalive-timeout", "1", "--fastcgi",
                        "unix:" + sock], name="idle")
    gv = fcgi_record(FCGI_GET_VALUES, 0, fcgi_nv("FCGI_MPXS_CONNS", ""))
    for what, chunks in (("GET_VALUES", [gv]),
                         ("an unknown record type", [fcgi_record(20, 0, b"x")]),
                         ("GET_VALUES in two halves 150 ms apart", [gv[:11], gv[11:]])):
        with FCGIConnection(sock) as c:
            c.request("GET", "/hello")
            t0 = time.monotonic()
            closed = False
            while time.monotonic() - t0 < 4:
                try:
                    for i, ch in enumerate(chunks):
                        if i:
                            time.sleep(0.15)
                        c.send(ch)
                except OSError:
                    closed = True
                    break
                if c.closed_by_peer(timeout=0.3):
                    closed = True
                    break
            el = time.monotonic() - t0
            t.ok(closed and el < 2.0, "a kept connection sent %s every 300 ms is closed by "
                 "--keepalive-timeout 1 (%s after %.1f s)"
                 % (what, "closed" if closed else "still open", el))
    # The end of a request does push the deadline back.
    with FCGIConnection(sock) as c:
        t0 = time.monotonic()
        for _ in range(4):
            r = c.request("GET", "/hello")
            time.sleep(0.6)
        t.eq((r.status, r.body), (200, HELLO),
             "requests every 0.6 s keep a connection open past --keepalive-timeout 1 "
             "(%.1f s)" % (time.monotonic() - t0))
    s.stop()


def check_get_values_names(t):
    """Item: GET_VALUES with an empty name, or a name longer than 255 bytes,
    among the known ones closed the connection; the specification says to
    answer the names we know and ignore the rest."""
    sock = t.path("gv.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="gv")
    cases = (("an empty name", [("FCGI_MAX_CONNS", ""), ("", ""), ("FCGI_MPXS_CONNS", "")]),
             ("a 300-byte name", [("FCGI_MAX_CONNS", ""), ("N" * 300, ""),
                                  ("FCGI_MPXS_CONNS", "")]),
             ("a 60,000-byte value", [("FCGI_MAX_CONNS", ""), ("X", "v" * 60000),
                                      ("FCGI_MPXS_CONNS", "")]))
    for what, pairs in cases:
        q = fcgi_nv_encode(pairs)
        with FCGIConnection(sock) as c:
            try:
                typ, content = get_values(c, q)
                vals = fcgi_nv_decode(content)
            except Exception as e:
                typ, vals = None, repr(e)
            t.ok(typ == FCGI_GET_VALUES_RESULT and isinstance(vals, dict)
                 and sorted(vals) == ["FCGI_MAX_CONNS", "FCGI_MPXS_CONNS"],
                 "GET_VALUES with %s among known names: the known ones are answered (%s)"
                 % (what, harness.short(vals, 120)))
            t.eq(try_hello(c), (200, HELLO), "and the connection stays open")
    t.ok("malformed GET_VALUES" not in s.log_text(), "no connection closed for them",
         harness.tail(s.log_text()))
    s.stop()


def main(t):
    check_get_values_names(t)
    check_max_reqs(t)
    check_idle_refresh(t)
    check_arriving_bound(t)
    check_reply_flood(t)
    check_closing_phase(t)


if __name__ == "__main__":
    harness.run("hostile", main)
