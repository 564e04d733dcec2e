#!/usr/bin/env python3
"""File responses through a real nginx with the shipped conf/nginx/sluice.conf
(its `internal` location /protected/, aliased here to a test directory):
the demo's GET /download/{name} answers X-Accel-Redirect: /protected/<name>
and nginx sends the file.

- /download/a.txt: 200 with the file's bytes, its length and Last-Modified,
  and no X-Accel-Redirect passed on to the client;
- a name with a space and a '?' (sent as %20, %3F) is the file of that name:
  sluice's percent-encoding is what nginx decodes;
- /protected/a.txt asked for directly: 404 (internal);
- Range: bytes=2-9: 206 with those bytes and Content-Range;
- If-Modified-Since the Last-Modified: 304 with no body;
- a missing file: 404 from nginx;
- names with ".." (or a '/' sent as %2F) are 404 and the file next to the
  directory never comes back.
caddy has no X-Accel-Redirect (see the README's "Files"): nginx only."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_get  # noqa: E402

SHIPPED_DIR = "/srv/sluice/files/"
CONTENT = b"0123456789 the file a.txt, sent by nginx\n" * 50
SECRET = b"outside the files directory\n"


def start_nginx(t, sock, files):
    """t.start_nginx(), with the shipped /protected/ alias pointed at `files`."""
    conf, port, _ = t.nginx_conf(fcgi_sock=sock)
    nd = os.path.dirname(conf)
    inc = os.path.join(nd, "sluice.conf")
    text = harness.read_text(inc)
    t.ok(("alias %s;" % SHIPPED_DIR) in text and "internal;" in text,
         "the shipped sluice.conf has the internal /protected/ location")
    with open(inc, "w") as f:
        f.write(text.replace(SHIPPED_DIR, files + "/"))
    t.extra_logs.append(os.path.join(nd, "error.log"))
    p = t.spawn(os.path.basename(nd), ["nginx", "-p", nd + "/", "-e", os.path.join(nd, "error.log"),
                                       "-c", conf])
    harness.wait_until(lambda: harness.tcp_connects(port) or not p.alive(), harness.START_TIMEOUT)
    if not harness.tcp_connects(port):
        raise RuntimeError("nginx not answering: %s" % harness.tail(
            harness.read_text(os.path.join(nd, "error.log"))))
    return port


def main(t):
    files = t.path("files")
    os.makedirs(files, exist_ok=True)
    with open(os.path.join(files, "a.txt"), "wb") as f:
        f.write(CONTENT)
    with open(os.path.join(files, "a b?.txt"), "wb") as f:
        f.write(b"spaced\n")
    with open(t.path("secret.txt"), "wb") as f:
        f.write(SECRET)
    sock = t.path("fcgi.sock")
    t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock])
    port = start_nginx(t, sock, files)

    r = http_get(port, "/download/a.txt")
    t.eq(r.status, 200, "/download/a.txt: 200", r)
    t.ok(r.body == CONTENT, "the file's bytes", (len(r.body), r.body[:60]))
    t.eq(r.header("Content-Length"), str(len(CONTENT)), "the file's length")
    t.eq(r.header("X-Accel-Redirect"), None, "X-Accel-Redirect is not passed on")
    # nginx's type for the file (default_type: the test's nginx.conf loads
    # no mime.types), not sluice's default "text/plain; charset=utf-8"
    t.eq(r.header("Content-Type"), "text/plain", "nginx's Content-Type, not sluice's default")
    lm = r.header("Last-Modified")
    t.ok(lm is not None, "Last-Modified from the file", r.headers)

    r = http_get(port, "/download/a%20b%3F.txt")
    t.eq((r.status, r.body), (200, b"spaced\n"), "'a b?.txt': the file of that name", r)

    r = http_get(port, "/protected/a.txt")
    t.eq(r.status, 404, "/protected/a.txt asked for directly: 404 (internal)", r)
    t.ok(CONTENT not in r.body, "and not the file")

    r = http_get(port, "/download/a.txt", headers={"Range": "bytes=2-9"})
    t.eq(r.status, 206, "Range: 206", r)
    t.eq(r.body, CONTENT[2:10], "Range: bytes 2-9")
    t.eq(r.header("Content-Range"), "bytes 2-9/%d" % len(CONTENT), "Content-Range")

    r = http_get(port, "/download/a.txt", headers={"If-Modified-Since": lm or ""})
    t.eq((r.status, r.body), (304, b""), "If-Modified-Since the Last-Modified: 304, no body", r)

    r = http_get(port, "/download/missing.txt")
    t.eq(r.status, 404, "a missing file: 404", r)

    for path in ["/download/..", "/download/%2e%2e", "/download/..%2Fsecret.txt",
                 "/download/%2E%2E%2Fsecret.txt", "/download/a%2F..%2F..%2Fsecret.txt",
                 "/download/secret.txt"]:
        r = http_get(port, path)
        t.eq(r.status, 404, "%s: 404" % path, r)
        t.ok(SECRET not in r.body, "%s: not the file outside the directory" % path)


harness.run("files", main)
