#!/usr/bin/env python3
"""libfcgi's cgi-fcgi as an independent FastCGI client."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def cgi_env(method, uri, extra=None):
    path, _, query = uri.partition("?")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "QUERY_STRING": query,
        "SCRIPT_NAME": path,
        "DOCUMENT_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "cgi-fcgi",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
    }
    env.update(extra or {})
    return env


def main(t):
    prog = harness.need_program("cgi-fcgi")
    sock = t.path("fcgi.sock")
    t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock])

    r = t.run_cmd([prog, "-bind", "-connect", sock], env=cgi_env("GET", "/hello"), timeout=15)
    out = r.stdout
    t.eq(r.returncode, 0, "cgi-fcgi GET /hello: exit 0", r.stderr.decode(errors="replace"))
    t.ok(b"Status: 200" in out, "cgi-fcgi GET /hello: Status: 200", harness.short(out))
    t.ok(b"Hello, world!" in out, "cgi-fcgi GET /hello: body", harness.short(out))

    r = t.run_cmd([prog, "-bind", "-connect", sock], env=cgi_env("GET", "/items/9?q=cgi"), timeout=15)
    t.ok(b"Status: 200" in r.stdout and r.stdout.endswith(b'{"item_id":9,"q":"cgi"}'),
         "cgi-fcgi GET /items/9?q=cgi", harness.short(r.stdout))

    body = b"posted through cgi-fcgi\n" * 100
    r = t.run_cmd([prog, "-bind", "-connect", sock],
                  env=cgi_env("POST", "/echo", {"CONTENT_LENGTH": str(len(body)),
                                               "CONTENT_TYPE": "text/x-cgi"}),
                  input=body, timeout=15)
    out = r.stdout
    t.eq(r.returncode, 0, "cgi-fcgi POST /echo: exit 0", r.stderr.decode(errors="replace"))
    t.ok(b"Status: 200" in out, "cgi-fcgi POST /echo: Status: 200", harness.short(out))
    t.ok(b"Content-Type: text/x-cgi" in out, "cgi-fcgi POST /echo: Content-Type echoed", harness.short(out))
    t.ok(out.endswith(b"\r\n\r\n" + body) or out.endswith(b"\n\n" + body),
         "cgi-fcgi POST /echo: body echoed", harness.short(out))

    r = t.run_cmd([prog, "-bind", "-connect", sock], env=cgi_env("GET", "/nope"), timeout=15)
    t.ok(b"Status: 404" in r.stdout, "cgi-fcgi GET /nope: Status: 404", harness.short(r.stdout))


harness.run("cgi_fcgi", main)
