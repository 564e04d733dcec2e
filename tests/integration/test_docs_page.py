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
  - the same for the example app, examples/notes (built from its
    sources): its operations listed, its real 401 (no token: Swagger UI has
    no field for one);
  - a screenshot of each is kept: TMP/docs-APP.png, copied to the build
    tree's tests/artefacts/docs-APP.png.

The app is a parameter: SLUICE_DOCS_APP=path/to/app.so (default the demo
and the notes example),
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


# The example app: its routes need a bearer token, which Swagger UI has no
# field for (the document declares no security scheme), so its real answer
# is FastAPI's HTTPBearer 401; the form's checks come first (id "x").
NOTES_TRIES = [
    {"method": "GET", "path": "/notes", "status": "401",
     "body_json": {"detail": "Not authenticated"}},
    {"method": "GET", "path": "/notes/{id}", "params": {"id": "x"},
     "refused": "For 'id': Value must be an integer."},
    {"method": "GET", "path": "/notes/{id}", "params": {"id": "7"}, "status": "401",
     "body_json": {"detail": "Not authenticated"}},
]


def notes_app(t):
    """examples/notes built as its Makefile builds it (installed sources,
    else the source tree's), with the token and database it needs."""
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [os.path.join(os.path.dirname(os.environ.get("SLUICE_CONFDIR", "")),
                          "examples", "notes"),
             os.path.join(here, "..", "..", "examples", "notes")]
    src = next((c for c in cands if os.path.isfile(os.path.join(c, "notes.c"))), None)
    if src is None:
        raise harness.Prerequisite("the notes example is not found among %s" % cands)
    d = t.path("notes")
    shutil.copytree(src, d)
    harness.need_program("make")
    cflags = "-O2 -g " + os.environ.get("SLUICE_SANITIZERS", "")
    r = t.run_cmd(["make", "-C", d, "CFLAGS=" + cflags.strip(), "notes.so"], timeout=120)
    t.eq(r.returncode, 0, "build examples/notes", (r.stdout + r.stderr).decode(errors="replace"))
    if r.returncode != 0:
        raise harness.Prerequisite("examples/notes does not build")
    os.environ["NOTES_TOKEN"] = "docs-page-token"
    os.environ["NOTES_DB"] = t.path("notes.db")
    return os.path.join(d, "notes.so")


def run_app(t, npm, app, tries):
    name = os.path.basename(app).rsplit(".", 1)[0]
    t.note("---- %s" % name)
    assets = os.path.join(npm, "node_modules", "swagger-ui-dist")
    sock = t.path("%s.sock" % name)
    t.start_sluice(["--fastcgi", "unix:" + sock, "--workers", "1",
                    "--docs-assets", "/swagger-ui/"], app=app, name="sluice-" + name)
    port = start_nginx(t, sock, assets)
    t.eq(harness.http_get(port, "/swagger-ui/swagger-ui-bundle.js").status, 200,
         "%s: nginx serves swagger-ui-dist" % name)
    doc = harness.http_get(port, "/openapi.json").json()
    want_ops = sorted((m.upper(), p) for p, item in doc["paths"].items() for m in item)

    shot = t.path("docs-%s.png" % name)
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
    t.ok(r.returncode == 0 and res, "%s: chromium ran the page (playwright-core)" % name,
         out + r.stderr.decode(errors="replace"))
    t.eq(res.get("errors"), [], "%s: no page error, no step timed out" % name)
    t.eq(res.get("failed"), [], "%s: no request of the page failed (nothing from outside)"
         % name)
    t.ok(res.get("title", "").startswith(doc["info"]["title"]),
         "%s: the page shows the app's title" % name, res.get("title"))
    got_ops = sorted((o["method"], o["path"]) for o in res.get("operations", []))
    t.eq(got_ops, want_ops, "%s: every operation of the document is listed (%d)"
         % (name, len(want_ops)))
    got_tries = res.get("tries", [])
    for i, want in enumerate(tries):
        got = got_tries[i] if i < len(got_tries) else {}
        what = "%s: Try it out %s %s %s" % (name, want["method"], want["path"],
                                            want.get("params") or want.get("body") or "")
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
         "%s: a screenshot of the page" % name, shot)
    if os.path.exists(shot):
        dest = os.path.join(harness.env_path("SLUICE_BUILDDIR"), "tests", "artefacts")
        os.makedirs(dest, exist_ok=True)
        shutil.copy(shot, os.path.join(dest, "docs-%s.png" % name))
        t.note("screenshot: tests/artefacts/docs-%s.png" % name)


def main(t):
    harness.need_program("chromium")
    npm = npm_deps.ensure(t)
    if os.environ.get("SLUICE_DOCS_APP"):
        tries = json.loads(os.environ.get("SLUICE_DOCS_TRIES") or "[]")
        run_app(t, npm, os.environ["SLUICE_DOCS_APP"], tries)
        return
    run_app(t, npm, harness.sluice_demo(), DEMO_TRIES)
    run_app(t, npm, notes_app(t), NOTES_TRIES)


if __name__ == "__main__":
    harness.run("docs_page", main)
