#!/usr/bin/env python3
"""bench/decl_cost.py: the CPU a worker spends validating a declared route,
through the real dispatch path (not run by the tests).

    SLUICE_BIN=.../bin/sluice PKG_CONFIG_PATH=.../lib/pkgconfig \\
        python3 bench/decl_cost.py [REQUESTS]

Builds a two-route application with cc and pkg-config: POST /d declares
three query parameters (q: string 1..50 required, limit: integer 1..100
default 10, tag: repeated string) and a small JSON body ({"name": string
1..50, "price": number > 0, "tags": at most 5 strings, default []}, no
other field), the demo's pair of issue 13; POST /p is the same route
without declarations.  Both handlers answer "ok".  A --workers 1 sluice
serves REQUESTS (default 20000) of each, sent over one kept FastCGI
connection straight at its socket:

    POST /X?q=hello&limit=20&tag=a&tag=b   {"name":"pen","price":1.5,"tags":["a","b"]}

and the worker's CPU time (user + system, /proc/PID/stat) is read before
and after each batch.  The difference between the two routes per request
is what declaring costs: reading the query and the body as Starlette
would, converting and validating them, and keeping the values.  Five
rounds, alternating; the lowest of each is printed (on a shared machine
the others carry its neighbours' noise), with every round.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402

APP = r'''
#include <sluice.h>
static int ok(sl_req *req) { return sl_resp_write(req, "ok", 2); }
static const sl_param_def params[] = {
    { .name = "q", .in = SL_IN_QUERY, .flags = SL_REQUIRED, .min_length = 1, .max_length = 50 },
    { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "10", .ge = "1", .le = "100" },
    { .name = "tag", .in = SL_IN_QUERY, .flags = SL_MULTI, .dflt = "[]" },
    { .name = NULL }
};
static const char item[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":50},"
    "\"price\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":5,\"default\":[]}},"
    "\"required\":[\"name\",\"price\"],\"additionalProperties\":false}";
static const sl_route_def routes[] = {
    { .method = "POST", .pattern = "/d", .handler = ok, .flags = SL_LOOP,
      .params = params, .body = item },
    { .method = "POST", .pattern = "/p", .handler = ok, .flags = SL_LOOP },
    { .method = NULL }
};
int sluice_app(sl_app *app) { return sl_routes(app, routes); }
'''

BODY = b'{"name":"pen","price":1.5,"tags":["a","b"]}'
QUERY = "?q=hello&limit=20&tag=a&tag=b"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def worker_of(master):
    for _ in range(100):
        kids = harness.children_of(master)
        if kids:
            return min(kids)
        time.sleep(0.05)
    raise RuntimeError("no worker")


def batch(conn, path, n):
    for i in range(n):
        r = conn.request("POST", path + QUERY, BODY, "application/json")
        if r.status != 200 or r.body != b"ok":
            raise RuntimeError("%s: %r" % (path, r))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    sluice = harness.sluice_bin()
    tmp = tempfile.mkdtemp(prefix="sl-decl-cost-")
    src, so, sock = (os.path.join(tmp, x) for x in ("app.c", "app.so", "s.sock"))
    with open(src, "w") as f:
        f.write(APP)
    subprocess.run(["sh", "-c", "cc -O2 -shared -fPIC -o %s %s $(pkg-config --cflags --libs "
                    "sluice)" % (so, src)], check=True)
    p = subprocess.Popen([sluice, "--workers", "1", "--log-level", "warn", "--fastcgi",
                          "unix:" + sock, so], stderr=subprocess.DEVNULL)
    try:
        harness.wait_until(lambda: harness.unix_connects(sock), 10)
        w = worker_of(p.pid)
        conn = harness.FCGIConnection(sock)
        batch(conn, "/d", 2000)         # warm up both
        batch(conn, "/p", 2000)
        rounds = {"/d": [], "/p": []}
        for _ in range(5):
            for path in ("/d", "/p"):
                t0 = cpu_seconds(w)
                batch(conn, path, n)
                rounds[path].append((cpu_seconds(w) - t0) / n * 1e6)
        conn.close()
        med = {k: min(v) for k, v in rounds.items()}
        for k, label in (("/d", "declared (3 query parameters + JSON body)"),
                         ("/p", "the same route, no declarations")):
            print("%-44s %6.1f us CPU/request  (rounds: %s)" % (
                label, med[k], ", ".join("%.1f" % x for x in rounds[k])))
        print("%-44s %6.1f us CPU/request" % ("declaring costs", med["/d"] - med["/p"]))
    finally:
        p.terminate()
        p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
