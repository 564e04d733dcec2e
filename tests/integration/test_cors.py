#!/usr/bin/env python3
"""The demo's CORS contract (issue 14, section 5) through nginx (FastCGI and
SCGI) and caddy: a preflight from http://app.example is answered 204 with
the allowed methods, headers, credentials and max-age, without reaching a
route; a request from that origin gets Access-Control-Allow-Origin with
credentials and Vary: Origin; any other origin gets no CORS header, on a
preflight (400) or a request; a request without Origin is untouched."""
import harness

ORIGIN = "http://app.example"


def cors_headers(r):
    return sorted((k.lower(), v) for k, v in r.headers if k.lower().startswith("access-control-"))


def check(t, port, via):
    pre = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "content-type"}
    for path in ("/items", "/no-such-route"):
        r = harness.http_request(port, "OPTIONS", path, headers=pre)
        t.eq(r.status, 204, "%s: preflight OPTIONS %s answered 204" % (via, path), r)
        t.eq(r.body, b"", "%s: preflight %s has no body" % (via, path))
        t.eq(cors_headers(r), [
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-headers",
             "Accept, Accept-Language, Content-Language, Content-Type"),
            ("access-control-allow-methods", "GET, POST"),
            ("access-control-allow-origin", ORIGIN),
            ("access-control-max-age", "600"),
        ], "%s: preflight %s headers" % (via, path))
        t.eq(r.header("Vary"), "Origin", "%s: preflight %s Vary" % (via, path))

    for why, hdrs in (("another origin", dict(pre, Origin="http://evil.example")),
                      ("a method not allowed", dict(pre, **{"Access-Control-Request-Method": "DELETE"})),
                      ("a header not allowed", dict(pre, **{"Access-Control-Request-Headers": "x-secret"}))):
        r = harness.http_request(port, "OPTIONS", "/items", headers=hdrs)
        t.eq(r.status, 400, "%s: preflight with %s refused 400" % (via, why), r)
        t.eq(cors_headers(r), [], "%s: preflight with %s has no CORS header" % (via, why))
    t.ok(harness.http_request(port, "OPTIONS", "/items", headers=dict(
        pre, Origin="http://evil.example")).body.startswith(b"Disallowed CORS origin"),
        "%s: the refusal says why, as Starlette" % via)

    r = harness.http_get(port, "/hello", headers={"Origin": ORIGIN})
    t.eq((r.status, r.body), (200, b"Hello, world!\n"), "%s: GET /hello from the origin" % via)
    t.eq(cors_headers(r), [("access-control-allow-credentials", "true"),
                           ("access-control-allow-origin", ORIGIN)],
         "%s: GET /hello from the origin has its CORS headers" % via)
    t.eq(r.header("Vary"), "Origin", "%s: ... and Vary: Origin" % via)
    r = harness.http_request(port, "POST", "/items", body=b'{"name":"a","price":1}',
                             headers={"Origin": ORIGIN, "Content-Type": "application/json"})
    t.eq(r.status, 201, "%s: POST /items from the origin" % via, r)
    t.eq(r.header("Access-Control-Allow-Origin"), ORIGIN, "%s: POST /items allowed" % via)

    r = harness.http_get(port, "/hello", headers={"Origin": "http://evil.example"})
    t.eq(r.status, 200, "%s: GET /hello from another origin still answers" % via)
    t.eq(cors_headers(r), [], "%s: ... without any CORS header" % via)
    t.eq(r.header("Vary"), None, "%s: ... nor Vary" % via)
    r = harness.http_get(port, "/hello")
    t.eq(cors_headers(r), [], "%s: GET /hello without Origin: no CORS header" % via)


def main(t):
    fsock, ssock = t.path("fcgi.sock"), t.path("scgi.sock")
    t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + fsock, "--scgi", "unix:" + ssock])
    fport, sport = t.start_nginx(fcgi_sock=fsock, scgi_sock=ssock)
    cport = t.start_caddy(fsock)
    check(t, fport, "nginx-fastcgi")
    check(t, sport, "nginx-scgi")
    check(t, cport, "caddy-fastcgi")


harness.run("cors", main)
