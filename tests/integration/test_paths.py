#!/usr/bin/env python3
"""Paths route the way nginx sees them.

nginx matches its `location` blocks against $uri: the path decoded, dot
segments resolved, slashes merged.  sluice routes REQUEST_URI, so it must
make the same path, or `location /admin/ { deny all; }` is bypassed by
"/admin/..%2Fpublic"-like spellings.  Two test apps are built with cc and
pkg-config:

  routes.so  GET /admin/{rest:path}, /public, /u/{name},
             /e/{name} (SL_ENCODED_SLASH), /files/{rest:path}; it also
             registers a malformed and a duplicate route and checks the
             errors sl_route() returns (the log must name them);
  echo.so    answers every path with sl_req_path() and DOCUMENT_URI (which
             nginx's fastcgi_params fills with $document_uri, that is $uri).

Part 1 runs routes.so behind the shipped conf/nginx/sluice.conf with a
`location /admin/ { deny all; }` added, and straight at the socket.
Part 2 runs echo.so behind the shipped conf as it is and compares, for a
list of hand-picked and of generated request-targets, the path sluice
routes with nginx's $uri; where nginx refuses a target itself (400), sluice
must refuse it too when it gets it straight.
"""
import json
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROUTES_APP = r'''#include <sluice.h>
#include <errno.h>
#include <string.h>

/* Every handler says which route ran and with what; none may see a ".."
 * segment, whatever the client sent. */
static int answer(sl_req *req, const char *what, const char *value)
{
    sl_resp_header(req, "X-Route", sl_req_route(req));
    if (value != NULL) {
        size_t n = strlen(value);
        if (strcmp(value, "..") == 0 || strncmp(value, "../", 3) == 0 ||
            strstr(value, "/../") != NULL ||
            (n >= 3 && strcmp(value + n - 3, "/..") == 0))
            return sl_resp_printf(req, "DOTDOT %s:%s\n", what, value);
    }
    return sl_resp_printf(req, "%s:%s\n", what, value ? value : "");
}

static int admin(sl_req *req) { return answer(req, "admin", sl_req_path_param(req, "rest")); }
static int public_(sl_req *req) { return answer(req, "public", NULL); }
static int user(sl_req *req) { return answer(req, "u", sl_req_path_param(req, "name")); }
static int enc(sl_req *req) { return answer(req, "e", sl_req_path_param(req, "name")); }
static int files(sl_req *req) { return answer(req, "files", sl_req_path_param(req, "rest")); }

int sluice_app(sl_app *app)
{
    int rc = 0;
    rc |= sl_route(app, "GET", "/admin/{rest:path}", admin, SL_LOOP);
    rc |= sl_route(app, "GET", "/public", public_, SL_LOOP);
    rc |= sl_route(app, "GET", "/u/{name}", user, SL_LOOP);
    rc |= sl_route(app, "GET", "/e/{name}", enc, SL_LOOP | SL_ENCODED_SLASH);
    rc |= sl_route(app, "GET", "/files/{rest:path}", files, SL_LOOP);
    if (rc != 0)
        return -EINVAL;
    /* Refused, and logged with the reason; the app goes on without them. */
    if (sl_route(app, "GET", "/bad/{x", user, SL_LOOP) != -EINVAL)
        return -EPROTO;
    if (sl_route(app, "GET", "/u/{other}", user, SL_LOOP) != -EEXIST)
        return -EPROTO;
    if (sl_route(app, "GET", "/z/{rest:path}/x", user, SL_LOOP) != -EINVAL)
        return -EPROTO;
    return 0;
}
'''

ECHO_APP = r'''#include <sluice.h>

static int echo(sl_req *req)
{
    const char *doc = sl_req_param(req, "DOCUMENT_URI");
    return sl_resp_printf(req, "path=%s\ndoc=%s\n", sl_req_path(req), doc ? doc : "(none)");
}

int sluice_app(sl_app *app)
{
    int rc = sl_route(app, "*", "/", echo, SL_LOOP);
    if (rc == 0)
        rc = sl_route(app, "*", "/{rest:path}", echo, SL_LOOP);
    return rc;
}
'''

# Hand-picked targets for the comparison with nginx.
TARGETS = [
    "/", "/hello", "/admin/..", "/admin/..%2Fpublic", "/x/..%2F..%2Fadmin/y",
    "/admin/%2e%2e/x", "//admin/x", "/public/../admin/x", "/..", "/a/../..",
    "/a/%2e%2e/%2e%2e", "/u/a%2Fb", "/a/.", "/a/..", "/a/%00b", "/a/%zz",
    "/a/%4", "/a%2F%2Fb", "/a/%2F./b", "/a#frag", "/public#/../admin/x",
    "/a/b#x/../c", "/a/%3Fb?q", "/a?b/../c", "http://h/abs/../x?y", "http://h",
    "%2Fadmin", "/a/.%2e", "/a/...", "/%2e", "/a%5C..%5Cb", "/a/b/%2E%2E/c",
    "/a/b/.%2E%2f../c", "/a/b//../c", "/a/.//b", "/./../x", "/a//..", "/a/./",
    "/a/b/..//c", "//..//", "/a/b/c/../../..", "/a/b/c/../../../..",
    "/a%2f..%2f..%2fb", "/a/%2e%2e%2fb", "/..a/b", "/a/..b/", "/a/%2E",
    "/a/b/%2e%2E", "/a/%25%32%46b", "/a/%c3%a9", "/a/%0a", "/b/c/./../../g",
    "/files/x/../../etc/passwd", "/files/a/%2e%2e/%2e%2e/b", "/a/b%2Fc/..",
]

# Pieces for the generated targets.
PIECES = ["a", "b", "/", "/", "//", ".", "..", "%2e", "%2E", "%2F", "%2f",
          "%2e%2e", "%25", "%41", "?", "#", "%3F", "x.", "%"]


def get(port, target):
    return harness.http_get(port, target, timeout=10)


def fcgi(sock, target):
    return harness.fcgi_request(sock, "GET", target, timeout=10)


def problem_detail(r):
    try:
        return json.loads(r.body).get("detail")
    except (ValueError, AttributeError):
        return None


def nginx_with_admin_deny(t, sock):
    """The shipped sluice.conf with `location /admin/ { deny all; }` added
    before `location /`, started like harness.start_nginx does; its port."""
    conf, port, _ = t.nginx_conf(fcgi_sock=sock)
    nd = os.path.dirname(conf)
    site = os.path.join(nd, "sluice.conf")
    with open(site) as f:
        text = f.read()
    marker = "    location / {"
    t.ok(text.count(marker) == 1, "the shipped sluice.conf has one `location /`")
    text = text.replace(marker, "    location /admin/ {\n        deny all;\n    }\n\n" + marker)
    with open(site, "w") as f:
        f.write(text)
    t.extra_logs.append(os.path.join(nd, "error.log"))
    p = t.spawn(os.path.basename(nd), ["nginx", "-p", nd + "/", "-e",
                                       os.path.join(nd, "error.log"), "-c", conf])
    harness.wait_until(lambda: harness.tcp_connects(port) or not p.alive(), harness.START_TIMEOUT)
    if not harness.tcp_connects(port):
        raise RuntimeError("nginx not answering on %d:\n%s" % (
            port, harness.tail(harness.read_text(os.path.join(nd, "error.log")))))
    return port


def check_routes_app(t):
    app = t.build_app("routes", ROUTES_APP)
    sock = t.path("routes.sock")
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], app=app, name="routes")
    port = nginx_with_admin_deny(t, sock)

    # Route registration errors: one line each, method, pattern and why.
    log = harness.wait_until(lambda: s.log_text() if "/z/{rest:path}/x" in s.log_text() else None, 5) \
        or s.log_text()
    for line in ("route GET /bad/{x refused: unbalanced '{'",
                 "route GET /u/{other} refused: duplicate of GET /u/{name}",
                 "route GET /z/{rest:path}/x refused: {rest:path} must be the last segment"):
        t.ok(line in log, "the log says: %s" % line, harness.tail(log))

    # Sanity: the deny works, the routes answer.
    r = get(port, "/admin/x")
    t.eq(r.status, 403, "nginx: /admin/x is denied (403)")
    r = get(port, "/public")
    t.eq((r.status, r.body), (200, b"public:\n"), "nginx: /public reaches the public handler")
    r = get(port, "/u/ab")
    t.eq((r.status, r.body), (200, b"u:ab\n"), "nginx: /u/ab reaches /u/{name}")

    # Spellings of the admin area: nginx denies them, or they route elsewhere.
    for target, want in (
            ("/admin/..", (404, None)),
            ("/admin/..%2Fpublic", (200, b"public:\n")),
            ("/admin/%2e%2e/public", (200, b"public:\n")),
            ("/admin/%2E%2E%2Fpublic", (200, b"public:\n")),
            ("/admin/.%2e/public", (200, b"public:\n")),
            ("/public#/../admin/x", (200, b"public:\n")),
            ("/x/..%2F..%2Fadmin/y", (400, None)),
            ("/public/%2e%2e/admin/x", (403, None)),
            ("/public/%2e%2e%2fadmin/x", (403, None)),
            ("//admin/x", (403, None)),
            ("/public/../admin/x", (403, None)),
            ("/admin%2Fx", (403, None))):
        r = get(port, target)
        t.ok(b"admin:" not in r.body, "nginx: %s never reaches the admin handler" % target, r)
        t.eq(r.status, want[0], "nginx: %s answers %d" % (target, want[0]), r)
        if want[1] is not None:
            t.eq(r.body, want[1], "nginx: %s reaches %s" % (target, want[1].decode().strip()))

    # {rest:path} never holds a ".." segment.
    for target, want in (("/files/x/../../etc/passwd", (404, None)),
                         ("/files/a/b/../c", (200, b"files:a/c\n")),
                         ("/files/a/%2e%2e/%2e%2e/files/b", (200, b"files:b\n")),
                         ("/files/a/..%2F..%2Ffiles/c", (200, b"files:c\n")),
                         ("/files/a%2F..%2Fb", (200, b"files:b\n"))):
        for via, r in (("nginx", get(port, target)), ("socket", fcgi(sock, target))):
            t.ok(b"DOTDOT" not in r.body and b".." not in r.body,
                 "%s: %s hands no '..' to a handler" % (via, target), r)
            t.eq(r.status, want[0], "%s: %s answers %d" % (via, target, want[0]), r)
            if want[1] is not None:
                t.eq(r.body, want[1], "%s: %s reaches the handler with %s"
                     % (via, target, want[1].decode().strip()))

    # Straight at the socket: what nginx refuses itself is refused here, 400
    # with the reason; the admin spellings route as nginx would see them.
    for target, why in (("/..", "the path climbs above the root"),
                        ("/a/../..", "the path climbs above the root"),
                        ("/x/..%2F..%2Fadmin/y", "the path climbs above the root"),
                        ("/admin/%2e%2e/..", "the path climbs above the root"),
                        ("/a%00b", "NUL in the path"),
                        ("/a%zz", "malformed percent-encoding"),
                        ("/a%2", "malformed percent-encoding")):
        r = fcgi(sock, target)
        t.eq((r.status, r.media_type), (400, "application/problem+json"),
             "socket: %s is 400 problem+json" % target, r)
        t.eq(problem_detail(r), why, "socket: %s: the detail says why" % target)
        n = get(port, target)
        t.ok(n.status == 400 and n.header("Content-Type", "").startswith("text/html"),
             "nginx: %s is nginx's own 400 (never passed on)" % target, n)
    for target, want in (("/admin/..", 404), ("/admin/..%2Fpublic", b"public:\n"),
                         ("/admin/%2e%2e/public", b"public:\n"), ("//admin/x", b"admin:x\n"),
                         ("/public/../admin/x", b"admin:x\n"), ("http://h/admin/../public", b"public:\n")):
        r = fcgi(sock, target)
        if want == 404:
            t.eq(r.status, 404, "socket: %s is 404 (the path is \"/\")" % target, r)
        else:
            t.eq((r.status, r.body), (200, want), "socket: %s routes as nginx's $uri" % target)

    # Without REQUEST_URI, DOCUMENT_URI or SCRIPT_NAME + PATH_INFO: decoded
    # already, so normalised but never decoded again.
    for extra, want in (({"DOCUMENT_URI": "/files/100%"}, (200, b"files:100%\n")),
                        ({"DOCUMENT_URI": "/files/%2e%2e/x"}, (200, b"files:%2e%2e/x\n")),
                        ({"DOCUMENT_URI": "/admin/../public"}, (200, b"public:\n")),
                        ({"DOCUMENT_URI": "/public/%2e%2e/admin/x"}, (404, None)),
                        ({"DOCUMENT_URI": "/a/../.."}, (400, None)),
                        ({"DOCUMENT_URI": "", "SCRIPT_NAME": "/files",
                          "PATH_INFO": "/a/../b%41"}, (200, b"files:b%41\n"))):
        extra = dict(extra, REQUEST_URI="")
        label = "socket, no REQUEST_URI: %s" % " + ".join(
            "%s=%s" % (k, v) for k, v in sorted(extra.items()) if v)
        r = harness.fcgi_request(sock, "GET", "/unused", timeout=10, extra=extra)
        t.eq(r.status, want[0], "%s answers %d" % (label, want[0]), r)
        if want[1] is not None:
            t.eq(r.body, want[1], "%s reaches %s" % (label, want[1].decode().strip()))

    # Encoded slashes: not in {name}; in a route with SL_ENCODED_SLASH.
    for via, ask in (("nginx", lambda p: get(port, p)), ("socket", lambda p: fcgi(sock, p))):
        r = ask("/u/a%2Fb")
        t.eq(r.status, 404, "%s: /u/a%%2Fb is 404 (/u/{name} takes no encoded slash)" % via, r)
        r = ask("/e/a%2Fb")
        t.eq((r.status, r.body), (200, b"e:a/b\n"),
             "%s: /e/a%%2Fb reaches the SL_ENCODED_SLASH route with \"a/b\"" % via)
        r = ask("/e/a/b")
        t.eq(r.status, 404, "%s: /e/a/b is 404 (a real slash still separates)" % via, r)
        r = ask("/files/a%2Fb")
        t.eq((r.status, r.body), (200, b"files:a/b\n"), "%s: {rest:path} takes a%%2Fb" % via)


def compare(t, port, sock, target, stats):
    """nginx's $uri (DOCUMENT_URI) against sluice's path for one target."""
    n = get(port, target)
    if n.status == 400:
        stats["refused"] += 1
        r = fcgi(sock, target)
        return t.ok(r.status == 400, "%s: nginx refuses it (400), sluice too" % target, r)
    if n.status != 200:
        return t.ok(False, "%s: nginx passes it on" % target, n)
    stats["same"] += 1
    lines = dict(ln.split(b"=", 1) for ln in n.body.split(b"\n") if b"=" in ln)
    return t.eq(lines.get(b"path"), lines.get(b"doc"), "%s: sluice's path is nginx's $uri" % target, n)


def check_same_as_nginx(t):
    app = t.build_app("echo", ECHO_APP)
    sock = t.path("echo.sock")
    t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], app=app, name="echo")
    port, _ = t.start_nginx(fcgi_sock=sock)
    stats = {"same": 0, "refused": 0}
    for target in TARGETS:
        compare(t, port, sock, target, stats)
    # Generated ones, quietly: one check for all of them.
    rnd = random.Random(11)
    bad = []
    for _ in range(300):
        target = "/" + "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 9)))
        n = get(port, target)
        if n.status == 400:
            stats["refused"] += 1
            r = fcgi(sock, target)
            if r.status != 400:
                bad.append((target, "nginx 400, sluice %s" % r.status))
            continue
        stats["same"] += 1
        lines = dict(ln.split(b"=", 1) for ln in n.body.split(b"\n") if b"=" in ln)
        if n.status != 200 or lines.get(b"path") != lines.get(b"doc"):
            bad.append((target, n.status, n.body))
    t.ok(not bad, "300 generated targets: sluice's path is nginx's $uri, or both refuse",
         "\n".join(repr(b) for b in bad[:20]))
    t.note("compared with nginx: %d passed on with the same path, %d refused by both"
           % (stats["same"], stats["refused"]))


def main(t):
    harness.need_program("nginx")
    check_routes_app(t)
    check_same_as_nginx(t)


if __name__ == "__main__":
    harness.run("paths", main)
