#!/usr/bin/env python3
"""Build an application exactly as a user would (pkg-config) and serve it,
also with -std=c99, c11 and c17 -pedantic -Werror."""
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
    check_strict_std(t)


# Uses the json-c and libuv parts of the header too.
STRICT_APP = r'''#include <sluice.h>
static int hi(sl_req *req)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(sl_req_path_param(req, "name")));
    json_object_object_add(o, "loop", json_object_new_boolean(sl_app_loop(sl_req_app(req)) != NULL));
    return sl_resp_json(req, o);
}
int sluice_app(sl_app *app)
{
    return sl_route(app, "GET", "/hi/{name}", hi, SL_LOOP);
}
'''


def check_strict_std(t):
    """sluice.h with a strict standard and every warning an error: the flags
    of pkg-config must bring what uv.h needs (POSIX types)."""
    t.write("strict.c", STRICT_APP)
    for std in ("c99", "c11", "c17"):
        cmd = ("cc -std=%s -Wall -Wextra -pedantic -Werror -shared -fPIC -o strict-%s.so strict.c "
               "$(pkg-config --cflags --libs sluice)" % (std, std))
        r = t.run_cmd(["sh", "-c", cmd], timeout=120)
        if not t.ok(r.returncode == 0, cmd, (r.stdout + r.stderr).decode(errors="replace")):
            continue
        sock = t.path("strict-%s.sock" % std)
        s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock],
                           app=t.path("strict-%s.so" % std), name="strict-" + std)
        r = harness.fcgi_request(sock, "GET", "/hi/bob")
        t.eq((r.status, r.body), (200, b'{"name":"bob","loop":true}'),
             "the app built with -std=%s runs: GET /hi/bob" % std, repr(r))
        s.stop()


harness.run("app_build", main)
