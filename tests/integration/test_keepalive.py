#!/usr/bin/env python3
"""Connection reuse, multiplexing and FastCGI protocol corners."""
import os
import re
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (FCGIConnection, fcgi_record, fcgi_nv_encode, fcgi_nv_decode,  # noqa: E402
                     cgi_params, FCGI_PARAMS, FCGI_STDIN, FCGI_BEGIN_REQUEST)

HELLO = b"Hello, world!\n"


def main(t):
    sock = t.path("fcgi.sock")
    # debug so that the reason a connection is dropped is surely logged
    s = t.start_sluice(["--workers", "2", "--threads", "4", "--fastcgi", "unix:" + sock],
                       log_level="debug")
    port, _ = t.start_nginx(fcgi_sock=sock)

    # 1. 1,000 requests through nginx's keepalive upstream
    c = harness.HTTPClient(port)
    bad = []
    kept = 0
    t0 = time.monotonic()
    for i in range(1000):
        try:
            r = c.get("/hello")
            if r.status != 200 or r.body != HELLO:
                bad.append((i, r))
        except Exception as e:
            bad.append((i, e))
        if len(bad) > 10:
            break
        if i == 500:    # (nginx closes an upstream connection after 1000 requests)
            kept = harness.unix_connections(sock)
    c.close()
    t.ok(1 <= kept <= 40, "nginx keeps its upstream connection open between requests "
         "(%d connected after 500 requests)" % kept)
    t.ok(not bad, "1000 GET /hello through nginx (keepalive upstream) all 200 with the body "
         "(%.1f s)" % (time.monotonic() - t0), harness.short(bad[:5]))

    # 2. 1,000 requests on ONE raw FastCGI connection with FCGI_KEEP_CONN
    conn = FCGIConnection(sock)
    bad = []
    for i in range(1000):
        rid = 1 + i % 7
        try:
            r = conn.request("GET", "/hello", req_id=rid, keep=True)
            if r.status != 200 or r.body != HELLO or r.protocol_status != 0:
                bad.append((i, r))
        except Exception as e:
            bad.append((i, e))
            break
    t.ok(not bad, "1000 requests on one FastCGI connection with FCGI_KEEP_CONN all answered",
         harness.short(bad[:5]))
    t.ok(not conn.eof and not conn.closed_by_peer(0.3), "the connection is still open afterwards")
    r = conn.request("GET", "/json", req_id=1)
    t.eq(r.status, 200, "and still serves a request")

    # 3. multiplexing: three requests with interleaved records on one connection
    reqs = {
        1: ("GET", "/hello", b"", None),
        2: ("POST", "/echo", b"two" * 5000, "text/x-two"),
        3: ("GET", "/items/3?q=z", b"", None),
    }
    pieces = {}
    for rid, (m, uri, body, ct) in reqs.items():
        conn.results[rid] = harness.FCGIResult(rid)
        pv = fcgi_nv_encode(cgi_params(m, uri, len(body), ct))
        half = len(pv) // 2
        recs = [fcgi_record(FCGI_PARAMS, rid, pv[:half]), fcgi_record(FCGI_PARAMS, rid, pv[half:]),
                fcgi_record(FCGI_PARAMS, rid, b"")]
        for i in range(0, len(body), 4000):
            recs.append(fcgi_record(FCGI_STDIN, rid, body[i:i + 4000]))
        recs.append(fcgi_record(FCGI_STDIN, rid, b""))
        pieces[rid] = recs
    out = [conn.begin(rid) for rid in (3, 1, 2)]
    while any(pieces.values()):
        for rid in (2, 3, 1):
            if pieces[rid]:
                out.append(pieces[rid].pop(0))
    for rec in out:         # record by record, so they really interleave
        conn.send(rec)
    try:
        res = conn.wait([1, 2, 3], timeout=10)
        t.ok(res[1].status == 200 and res[1].body == HELLO, "multiplexed id 1: GET /hello", res[1])
        t.ok(res[2].status == 200 and res[2].body == b"two" * 5000
             and res[2].header("Content-Type") == "text/x-two", "multiplexed id 2: POST /echo", res[2])
        t.ok(res[3].status == 200 and res[3].body == b'{"item_id":3,"q":"z"}',
             "multiplexed id 3: GET /items/3?q=z", res[3])
    except Exception as e:
        t.ok(False, "multiplexed requests answered", repr(e))
        conn.close()
        conn = FCGIConnection(sock)

    # 4. GET_VALUES
    names = ["FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"]
    conn.send_record(harness.FCGI_GET_VALUES, 0, fcgi_nv_encode([(n, "") for n in names]))
    try:
        typ, content = conn.wait_management(5)
        t.eq(typ, harness.FCGI_GET_VALUES_RESULT, "GET_VALUES answered with GET_VALUES_RESULT")
        vals = fcgi_nv_decode(content)
        t.ok(all(n in vals for n in names), "GET_VALUES_RESULT has the three names", vals)
        t.eq(vals.get("FCGI_MPXS_CONNS"), "1", "FCGI_MPXS_CONNS=1")
        t.ok(all(vals.get(n, "").isdigit() and int(vals[n]) > 0 for n in names[:2]),
             "FCGI_MAX_CONNS and FCGI_MAX_REQS are positive numbers", vals)
    except Exception as e:
        t.ok(False, "GET_VALUES answered", repr(e))

    # 5. unknown record type
    conn.send_record(20, 0, b"whatever")
    try:
        typ, content = conn.wait_management(5)
        t.eq(typ, harness.FCGI_UNKNOWN_TYPE, "record type 20 answered with FCGI_UNKNOWN_TYPE")
        t.eq(content[:1], b"\x14", "FCGI_UNKNOWN_TYPE names type 20")
    except Exception as e:
        t.ok(False, "record type 20 answered", repr(e))
    r = conn.request("GET", "/hello", req_id=9)
    t.eq(r.body, HELLO, "connection works after the unknown type")

    # 6. authorizer role
    conn.send(fcgi_record(FCGI_BEGIN_REQUEST, 5, struct.pack(">HB5x", harness.FCGI_AUTHORIZER, 1)))
    try:
        r = conn.wait([5], timeout=5)[5]
        t.eq(r.protocol_status, harness.FCGI_UNKNOWN_ROLE, "role 2 answered with FCGI_UNKNOWN_ROLE")
    except Exception as e:
        t.ok(False, "role 2 answered with END_REQUEST", repr(e))
    try:
        r = conn.request("GET", "/hello", req_id=6)
        t.eq(r.body, HELLO, "connection works after the refused role")
    except Exception as e:
        t.ok(False, "connection works after the refused role", repr(e))
        conn.close()
        conn = FCGIConnection(sock)

    # 7. ABORT_REQUEST of a slow request
    conn.start(7, "GET", "/sleep?ms=2000")
    time.sleep(0.2)
    t0 = time.monotonic()
    conn.send_record(harness.FCGI_ABORT_REQUEST, 7)
    try:
        r = conn.wait([7], timeout=5)[7]
        dt = time.monotonic() - t0
        t.ok(dt < 1.0, "ABORT_REQUEST ends /sleep?ms=2000 with END_REQUEST quickly (%.2f s)" % dt)
    except Exception as e:
        t.ok(False, "ABORT_REQUEST ends the request with END_REQUEST", repr(e))
    try:
        r = conn.request("GET", "/hello", req_id=7)
        t.eq(r.body, HELLO, "connection (and id 7) usable after the abort")
    except Exception as e:
        t.ok(False, "connection usable after the abort", repr(e))
        conn.close()
        conn = FCGIConnection(sock)

    # 8. malformed record: version 2
    log_before = len(s.log_text())
    bad = FCGIConnection(sock, timeout=5)
    bad.send(fcgi_record(FCGI_BEGIN_REQUEST, 1, struct.pack(">HB5x", 1, 1), version=2))
    t.ok(bad.closed_by_peer(5.0), "a version 2 record closes that connection")
    bad.close()
    try:
        r = conn.request("GET", "/hello", req_id=2)
        t.eq(r.body, HELLO, "another connection keeps working")
    except Exception as e:
        t.ok(False, "another connection keeps working", repr(e))
    r = harness.http_get(port, "/hello")
    t.eq(r.body, HELLO, "nginx keeps working")
    found = harness.wait_until(
        lambda: [ln for ln in s.log_text()[log_before:].splitlines() if re.search(r"version", ln, re.I)], 3)
    t.ok(found, "sluice's log has a line giving the reason (mentions 'version')",
         harness.tail(s.log_text()[log_before:], 10))
    conn.close()


harness.run("keepalive", main)
