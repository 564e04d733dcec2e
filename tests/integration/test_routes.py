#!/usr/bin/env python3
"""Every demo route through nginx FastCGI, nginx SCGI and caddy FastCGI."""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

JSON_BODY = b'{"id":123,"name":"widget","tags":["a","b"],"price":9.99}'


def is_problem(t, r, status, label):
    t.eq(r.status, status, "%s: status %d" % (label, status))
    t.eq(r.media_type, "application/problem+json", "%s: Content-Type application/problem+json" % label)
    try:
        doc = json.loads(r.body)
        t.ok(isinstance(doc, dict) and doc.get("status") == status and isinstance(doc.get("title"), str),
             "%s: problem body has status %d and title" % (label, status), harness.short(r.body))
    except ValueError:
        t.ok(False, "%s: problem body is JSON" % label, harness.short(r.body))


def check_json(t, r, want, label, ctype="application/json"):
    t.eq(r.status, 200, "%s: status 200" % label)
    t.eq(r.ctype, ctype, "%s: Content-Type" % label)
    try:
        got = json.loads(r.body)
    except ValueError:
        got = ("not JSON", r.body)
    t.eq(got, want, "%s: JSON body" % label)


def check_routes(t, port, via):
    get = lambda p, **kw: harness.http_get(port, p, **kw)  # noqa: E731

    r = get("/hello")
    t.eq(r.status, 200, "%s GET /hello: status 200" % via)
    t.eq(r.ctype, "text/plain; charset=utf-8", "%s GET /hello: Content-Type" % via)
    t.eq(r.body, b"Hello, world!\n", "%s GET /hello: body" % via)
    # A whole answer carries its length, so the web server need not chunk it.
    t.eq(r.header("Content-Length"), "14", "%s GET /hello: Content-Length" % via)
    t.eq(r.header("Transfer-Encoding"), None, "%s GET /hello: not chunked" % via)

    r = get("/json")
    t.eq(r.status, 200, "%s GET /json: status 200" % via)
    t.eq(r.ctype, "application/json", "%s GET /json: Content-Type" % via)
    t.eq(r.body, JSON_BODY, "%s GET /json: exact body" % via)
    t.eq(r.header("Content-Length"), str(len(JSON_BODY)), "%s GET /json: Content-Length" % via)

    check_json(t, get("/items/5?q=x"), {"item_id": 5, "q": "x"}, "%s GET /items/5?q=x" % via)
    r = get("/items/5?q=x")
    t.eq(r.body, b'{"item_id":5,"q":"x"}', "%s GET /items/5?q=x: exact body" % via)
    check_json(t, get("/items/42"), {"item_id": 42, "q": None}, "%s GET /items/42 (no q)" % via)
    check_json(t, get("/items/7?q=hello%20world"), {"item_id": 7, "q": "hello world"},
               "%s GET /items/7?q=hello%%20world (decoded)" % via)
    is_problem(t, get("/items/abc"), 422, "%s GET /items/abc" % via)

    r = harness.http_request(port, "POST", "/echo", body=b"ping \x00\xff pong",
                             headers={"Content-Type": "application/x-thing"})
    t.eq(r.status, 200, "%s POST /echo: status 200" % via)
    t.eq(r.ctype, "application/x-thing", "%s POST /echo: same Content-Type" % via)
    t.eq(r.body, b"ping \x00\xff pong", "%s POST /echo: same body" % via)

    check_json(t, get("/sleep?ms=20"), {"slept_ms": 20}, "%s GET /sleep?ms=20" % via)
    check_json(t, get("/block?ms=20"), {"blocked_ms": 20}, "%s GET /block?ms=20" % via)

    r = get("/env?a=1&b=2")
    t.eq(r.status, 200, "%s GET /env: status 200" % via)
    t.eq(r.media_type, "application/json", "%s GET /env: JSON" % via)
    try:
        env = json.loads(r.body)
    except ValueError:
        env = {}
    t.ok(isinstance(env, dict) and env.get("REQUEST_METHOD") == "GET",
         "%s GET /env: REQUEST_METHOD=GET" % via, harness.short(r.body))
    t.eq(env.get("QUERY_STRING") if isinstance(env, dict) else None, "a=1&b=2",
         "%s GET /env: QUERY_STRING" % via)
    t.eq(env.get("REQUEST_URI") if isinstance(env, dict) else None, "/env?a=1&b=2",
         "%s GET /env: REQUEST_URI" % via)

    # Long values (4-byte FastCGI lengths) among short ones: every name and
    # value comes back whole after the parameter stream is stored in place.
    sent = {"X-Long-%d" % i: ("v%d-" % i) * (40 * i + 1) for i in range(8)}
    sent["X-Short"] = "s"
    r = get("/env", headers=sent)
    try:
        env = json.loads(r.body)
    except ValueError:
        env = {}
    got = {k: env.get("HTTP_" + k.upper().replace("-", "_")) for k in sent}
    t.eq(got, sent, "%s GET /env: long and short header values intact" % via)

    r = get("/stream?chunks=5")
    t.eq(r.status, 200, "%s GET /stream?chunks=5: status 200" % via)
    t.eq(r.media_type, "text/plain", "%s GET /stream: text/plain" % via)
    t.eq(r.body, b"".join(b"chunk %d\n" % i for i in range(5)), "%s GET /stream?chunks=5: body" % via)
    # Flushed before its end, so its length was not known with its head
    # (caddy may collect a short answer and count it itself).
    if via.startswith("nginx"):
        t.eq(r.header("Content-Length"), None, "%s GET /stream: no Content-Length" % via)

    for code in (201, 204, 302, 418, 503):
        r = get("/status/%d" % code)
        t.eq((r.status, r.body), (code, b""), "%s GET /status/%d: status and empty body" % (via, code))
        want = None if code == 204 else "0"
        t.eq(r.header("Content-Length"), want, "%s GET /status/%d: Content-Length %s" % (via, code, want))

    is_problem(t, get("/no/such/path"), 404, "%s GET /no/such/path" % via)
    r = harness.http_request(port, "POST", "/hello", body=b"x")
    is_problem(t, r, 405, "%s POST /hello" % via)
    allow = r.header("Allow") or ""
    t.ok("GET" in [m.strip() for m in allow.split(",")], "%s POST /hello: Allow header lists GET" % via,
         "Allow: %r" % allow)
    r = harness.http_request(port, "DELETE", "/json")
    t.eq(r.status, 405, "%s DELETE /json: 405" % via)


def main(t):
    fsock, ssock = t.path("fcgi.sock"), t.path("scgi.sock")
    t.start_sluice(["--workers", "2", "--fastcgi", "unix:" + fsock, "--scgi", "unix:" + ssock])
    fport, sport = t.start_nginx(fcgi_sock=fsock, scgi_sock=ssock)
    cport = t.start_caddy(fsock)
    check_routes(t, fport, "nginx-fastcgi")
    check_routes(t, sport, "nginx-scgi")
    check_routes(t, cport, "caddy-fastcgi")


harness.run("routes", main)
