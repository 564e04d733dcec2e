#!/usr/bin/env python3
"""The docs page in a real browser: Debian's chromium, headless, driven by
playwright-core (npm, pinned in npm_deps.py; docs_page.js), opens /docs
through nginx, with Swagger UI's files (npm's swagger-ui-dist, pinned)
served by the same nginx and sluice run with --docs-assets pointing there:

  - the page loads with nothing failing and nothing fetched from outside;
  - every operation of the app's /openapi.json is listed;
  - "Try it out" + "Execute" shows the real responses: for the demo, GET
    /search?q=hello is 200 with its body; limit=500 is refused by Swagger UI
    itself (it checks every rule /search publishes before sending: the
    bounds reached it); POST /items with a bad body shows sluice's 422
    (FastAPI's, every error), a good one the 201;
  - a screenshot is kept: TMP/docs.png, copied to the build tree's
    tests/artefacts/docs-APP.png.

The app is a parameter: SLUICE_DOCS_APP=path/to/app.so (default the demo),
with SLUICE_DOCS_TRIES a JSON list of tries ({"method", "path", "params",
"body", "status", "body_json"}: the status and, if given, the JSON body
expected; or "refused": Swagger UI's message), default the demo's, so
that it runs on any app.
"""
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import npm_deps  # noqa: E402

DEMO_TRIES = [
    {"method": "GET", "path": "/search", "params": {"q": "hello"}, "status": "200",
     "body_json": {"q": "hello", "limit": 10, "tags": []}},
    # Swagger UI checks a form's parameters against their published schemas
    # before it sends anything, and every rule of /search is one it checks:
    # what it refuses shows that the bounds reached it.
    {"method": "GET", "path": "/search", "params": {"q": "hello", "limit": "500"},
     "refused": "For 'limit': Value must be less than or equal to 100."},
    # It does not check a JSON body: the real 422 comes from sluice.
    {"method": "POST", "path": "/items",
     "body": '{"name": "", "price": 0, "color": "red"}', "status": "422",
     "body_json": {"detail": [
         {"type": "string_too_short", "loc": ["body", "name"],
          "msg": "String should have at least 1 character", "input": "", "ctx": {"min_length": 1}},
         {"type": "greater_than", "loc": ["body", "price"],
          "msg": "Input should be greater than 0", "input": 0, "ctx": {"gt": 0}},
         {"type": "extra_forbidden", "loc": ["body", "color"],
          "msg": "Extra inputs are not permitted", "input": "red"}]}},
    {"method": "POST", "path": "/items", "body": '{"name": "pen", "price": 1.5}',
     "status": "201", "body_json": {"name": "pen", "price": 1.5, "tags": []}},
]


def start_nginx(t, sock, assets):
    """nginx with the shipped config, and /swagger-ui/ served from assets."""
    conf, port, _ = t.nginx_conf(fcgi_sock=sock)
    nd = os.path.dirname(conf)
    site = os.path.join(nd, "sluice.conf")
    text = harness.read_text(site)
    # The harness's nginx.conf has no types: a stylesheet served as
    # text/plain is ignored by the browser.
    loc = ("    location /swagger-ui/ {\n        alias %s/;\n"
           "        types { text/css css; application/javascript js; image/png png; }\n"
           "    }\n" % assets)
    i = text.index("    location ")
    with open(site, "w") as f:
        f.write(text[:i] + loc + text[i:])
    t.extra_logs.append(os.path.join(nd, "error.log"))
    p = t.spawn(os.path.basename(nd), ["nginx", "-p", nd + "/", "-e",
                                       os.path.join(nd, "error.log"), "-c", conf])
    harness.wait_until(lambda: harness.tcp_connects(port) or not p.alive(), 15)
    if not harness.tcp_connects(port):
        raise RuntimeError("nginx not answering:\n" + harness.tail(p.log_text()))
    return port


def main(t):
    harness.need_program("chromium")
    npm = npm_deps.ensure(t)
    app = os.environ.get("SLUICE_DOCS_APP") or harness.sluice_demo()
    tries = json.loads(os.environ["SLUICE_DOCS_TRIES"]) if os.environ.get(
        "SLUICE_DOCS_TRIES") else DEMO_TRIES
    name = os.path.basename(app).rsplit(".", 1)[0]
    assets = os.path.join(npm, "node_modules", "swagger-ui-dist")
    sock = t.path("s.sock")
    t.start_sluice(["--fastcgi", "unix:" + sock, "--workers", "1",
                    "--docs-assets", "/swagger-ui/"], app=app)
    port = start_nginx(t, sock, assets)
    t.eq(harness.http_get(port, "/swagger-ui/swagger-ui-bundle.js").status, 200,
         "nginx serves swagger-ui-dist")
    doc = harness.http_get(port, "/openapi.json").json()
    want_ops = sorted((m.upper(), p) for p, item in doc["paths"].items() for m in item)

    shot = t.path("docs.png")
    r = t.run_cmd(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "docs_page.js"),
                   npm, "http://127.0.0.1:%d/docs" % port, shot,
                   json.dumps([{k: x[k] for k in ("method", "path", "params", "body") if k in x}
                               for x in tries])], timeout=50)
    out = r.stdout.decode(errors="replace")
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {}
    t.ok(r.returncode == 0 and res, "chromium ran the page (playwright-core)",
         out + r.stderr.decode(errors="replace"))
    t.eq(res.get("errors"), [], "no page error, no step timed out")
    t.eq(res.get("failed"), [], "no request of the page failed (nothing from outside)")
    t.ok(res.get("title", "").startswith(doc["info"]["title"]),
         "the page shows the app's title", res.get("title"))
    got_ops = sorted((o["method"], o["path"]) for o in res.get("operations", []))
    t.eq(got_ops, want_ops, "every operation of the document is listed (%d)" % len(want_ops))
    got_tries = res.get("tries", [])
    for i, want in enumerate(tries):
        got = got_tries[i] if i < len(got_tries) else {}
        what = "Try it out %s %s %s" % (want["method"], want["path"],
                                        want.get("params") or want.get("body"))
        if "refused" in want:
            t.ok(want["refused"] in got.get("refused", ""),
                 what + ": Swagger UI refuses the form itself", got)
            continue
        t.eq(got.get("status"), want["status"], what + ": the real status", got)
        if "body_json" in want:
            try:
                body = json.loads(got.get("body", ""))
            except ValueError:
                body = got.get("body")
            t.eq(body, want["body_json"], what + ": the real body")
    t.ok(os.path.exists(shot) and os.path.getsize(shot) > 10000,
         "a screenshot of the page", shot)
    if os.path.exists(shot):
        dest = os.path.join(harness.env_path("SLUICE_BUILDDIR"), "tests", "artefacts")
        os.makedirs(dest, exist_ok=True)
        shutil.copy(shot, os.path.join(dest, "docs-%s.png" % name))
        t.note("screenshot: tests/artefacts/docs-%s.png" % name)


if __name__ == "__main__":
    harness.run("docs_page", main)
