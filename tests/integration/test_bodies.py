#!/usr/bin/env python3
"""Request and response bodies of many sizes through nginx FastCGI and SCGI."""
import hashlib
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def digest(b):
    return "%d bytes, sha1 %s" % (len(b), hashlib.sha1(b).hexdigest())


def check_echo(t, port, via, size, ctype):
    body = os.urandom(size)
    headers = {"Content-Type": ctype} if ctype else {}
    label = "%s POST /echo %d bytes%s" % (via, size, "" if ctype else " without Content-Type")
    try:
        r = harness.http_request(port, "POST", "/echo", body=body, headers=headers, timeout=60)
    except Exception as e:
        t.ok(False, label, repr(e))
        return
    t.eq(r.status, 200, label + ": status 200")
    t.eq(r.ctype, ctype or "application/octet-stream", label + ": Content-Type")
    t.ok(r.body == body, label + ": body echoed byte for byte",
         None if r.body == body else "got %s, want %s" % (digest(r.body), digest(body)))


def check_stream(t, port, via, n):
    want = b"".join(b"chunk %d\n" % i for i in range(n))
    r = harness.http_get(port, "/stream?chunks=%d" % n, timeout=60)
    t.eq(r.status, 200, "%s GET /stream?chunks=%d: status 200" % (via, n))
    t.ok(r.body == want, "%s GET /stream?chunks=%d: complete (%d bytes)" % (via, n, len(want)),
         None if r.body == want else "got %s, want %s" % (digest(r.body), digest(want)))


def main(t):
    fsock, ssock = t.path("fcgi.sock"), t.path("scgi.sock")
    t.start_sluice(["--workers", "2", "--fastcgi", "unix:" + fsock, "--scgi", "unix:" + ssock])
    fport, sport = t.start_nginx(fcgi_sock=fsock, scgi_sock=ssock)
    for port, via in ((fport, "nginx-fastcgi"), (sport, "nginx-scgi")):
        for size in (0, 1, 64 * 1024, 8 * 1024 * 1024):
            check_echo(t, port, via, size, "application/x-test-bytes")
        check_echo(t, port, via, 100, None)
        for n in (2000, 100000):
            check_stream(t, port, via, n)

    # the same directly over FastCGI (no nginx buffering in between)
    body = os.urandom(3 * 1024 * 1024 + 17)
    r = harness.fcgi_request(fsock, "POST", "/echo", body, "application/x-raw", timeout=30)
    t.ok(r.status == 200 and r.body == body and r.header("Content-Type") == "application/x-raw",
         "raw FastCGI POST /echo 3 MiB+17 echoed", "%r, got %s" % (r, digest(r.body)))
    r = harness.fcgi_request(fsock, "GET", "/stream?chunks=50000", timeout=30)
    want = b"".join(b"chunk %d\n" % i for i in range(50000))
    t.ok(r.status == 200 and r.body == want, "raw FastCGI GET /stream?chunks=50000 complete",
         "got %s, want %s" % (digest(r.body), digest(want)))


harness.run("bodies", main)
