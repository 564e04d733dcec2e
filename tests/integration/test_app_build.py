#!/usr/bin/env python3
"""Build an application exactly as a user would (pkg-config) and serve it."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP = r'''#include <sluice.h>
static int hi(sl_req *req) {
    const char *name = sl_req_path_param(req, "name");
    return sl_resp_printf(req, "hi %s\n", name);   /* 200 text/plain by default */
}
int sluice_app(sl_app *app) {
    return sl_route(app, "GET", "/hi/{name}", hi, 0);
}
'''


def main(t):
    harness.need_program("cc")
    harness.need_program("pkg-config")
    for v in ("PKG_CONFIG_PATH", "SLUICE_BIN"):
        t.note("%s=%s" % (v, os.environ.get(v, "(unset)")))
    t.write("app.c", APP)
    r = t.run_cmd(["sh", "-c", "pkg-config --cflags --libs sluice"], timeout=30)
    t.eq(r.returncode, 0, "pkg-config --cflags --libs sluice", r.stderr.decode(errors="replace"))
    t.note("pkg-config: %s" % r.stdout.decode(errors="replace").strip())
    r = t.run_cmd(["sh", "-c", "cc -shared -fPIC -o app.so app.c $(pkg-config --cflags --libs sluice)"],
                  timeout=120)
    t.ok(r.returncode == 0 and os.path.exists(t.path("app.so")),
         "cc -shared -fPIC -o app.so app.c $(pkg-config --cflags --libs sluice)",
         (r.stdout + r.stderr).decode(errors="replace"))
    if r.returncode != 0:
        return
    sock = t.path("app.sock")
    t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], app=t.path("app.so"))
    port, _ = t.start_nginx(fcgi_sock=sock)
    for name in ("bob", "alice"):
        r = harness.http_get(port, "/hi/" + name)
        t.eq((r.status, r.body), (200, ("hi %s\n" % name).encode()), "GET /hi/%s" % name)
        t.eq(r.media_type, "text/plain", "GET /hi/%s: text/plain" % name)
    r = harness.http_get(port, "/hello")
    t.eq(r.status, 404, "GET /hello (not a route of this app): 404")


harness.run("app_build", main)
