#!/usr/bin/env python3
"""The notes example (examples/notes/) as its README tells a user to use it.

- Its installed sources (share/doc/sluice/examples/notes) are copied out and
  built with their own Makefile against the staged install (pkg-config
  sluice sqlite3), without a warning; its Check tests (test_notes.c,
  through the in-process client) pass.
- notes.so is served by sluice with two workers behind nginx configured
  with the example's own nginx.conf (only the socket and the port
  changed): a create/list/get/update/delete round trip, the 401s with
  WWW-Authenticate: Bearer, a 422 in FastAPI's shape, and the two workers
  writing and reading one SQLite file at once (WAL mode: no request fails
  on a locked database, every note written by one worker is read by the
  other); the notes stay in the file when sluice is stopped and started
  again.
"""
import json
import os
import re
import shutil
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "tok-" + os.urandom(6).hex()
AUTH = {"Authorization": "Bearer " + TOKEN}
JSON_AUTH = dict(AUTH, **{"Content-Type": "application/json"})
FILES = ("Makefile", "README", "fastapi_notes.py", "nginx.conf", "notes.c", "test_notes.c")
SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def example_dir():
    """The installed example (SLUICE_CONFDIR's sibling); else the source
    tree's, when the test is run by hand against a build tree."""
    cands = []
    if os.environ.get("SLUICE_CONFDIR"):
        cands.append(os.path.join(os.path.dirname(os.environ["SLUICE_CONFDIR"]),
                                  "examples", "notes"))
    else:
        if os.environ.get("top_srcdir"):
            cands.append(os.path.join(os.environ["top_srcdir"], "examples", "notes"))
        cands.append(os.path.normpath(os.path.join(HERE, "..", "..", "examples", "notes")))
    for c in cands:
        if os.path.isfile(os.path.join(c, "notes.c")):
            return c
    raise harness.Prerequisite("the notes example is not found among %s" % cands)


def build_and_check(t):
    """Copy the example out, `make check` it as a user would; the path of
    the directory holding notes.so."""
    src = example_dir()
    t.note("the example from " + src)
    t.eq(sorted(f for f in FILES if os.path.isfile(os.path.join(src, f))), sorted(FILES),
         "the example's files are installed: " + " ".join(FILES), sorted(os.listdir(src)))
    d = t.path("notes")
    shutil.copytree(src, d)
    harness.need_program("make")
    harness.need_program("pkg-config")
    r = t.run_cmd(["pkg-config", "--exists", "sluice", "sqlite3", "check"])
    if r.returncode != 0:
        raise harness.Prerequisite("pkg-config knows no sluice, sqlite3 or check "
                                   "(libsqlite3-dev and check from tests/lib/deps.sh)")
    # A sanitizer build's libsluice needs its runtime in test_notes too; and
    # notes.so, built with it, is checked with the rest.
    cflags = "-O2 -g -Wall -Wextra " + os.environ.get("SLUICE_SANITIZERS", "")
    # As a user runs it: not as a sub-make of the project's `make check`,
    # whose jobserver flags it would inherit (and warn about).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = t.run_cmd(["make", "-C", d, "CFLAGS=" + cflags.strip(), "check"], timeout=180, env=env)
    out = (r.stdout + r.stderr).decode(errors="replace")
    t.eq(r.returncode, 0, "make check in the example: builds and its Check tests pass", out)
    t.ok("warning:" not in out, "the example builds without a warning (-Wall -Wextra)", out)
    n = harness.read_text(os.path.join(d, "test_notes.c")).count("\nSTART_TEST(")
    t.ok(n >= 10 and "100%%: Checks: %d, Failures: 0, Errors: 0" % n in out,
         "... Check ran the example's %d tests" % n, harness.tail(out, 10))
    t.ok(not any(m in out for m in SAN_MARKERS), "... no sanitizer report", out)
    if not os.path.isfile(os.path.join(d, "notes.so")):
        raise harness.Prerequisite("notes.so was not built")
    return d


def code_lines(path):
    """(lines, lines of code): blank lines and comments not counted (C's
    /* */ and //, Python's #), as the README counts them."""
    lines = harness.read_text(path).splitlines()
    code, in_comment = 0, False
    for ln in lines:
        s = ln.strip()
        if path.endswith(".py"):
            code += bool(s) and not s.startswith("#")
        elif in_comment:
            in_comment = "*/" not in s
        elif s.startswith("/*"):
            in_comment = "*/" not in s
        else:
            code += bool(s) and not s.startswith("//")
    return len(lines), code


def check_readme(t, d):
    """The README's line counts are the files' (an honest comparison stays
    one), and its build commands are the Makefile's."""
    readme = harness.read_text(os.path.join(d, "README"))
    for f in ("notes.c", "fastapi_notes.py"):
        m = re.search(r"^    %s +(\d+) lines, +(\d+) of code$" % re.escape(f), readme, re.M)
        t.eq(m and (int(m.group(1)), int(m.group(2))), code_lines(os.path.join(d, f)),
             "README: the line count of %s is right" % f)
    mk = harness.read_text(os.path.join(d, "Makefile"))
    for pc in ("sluice sqlite3", "sluice check"):
        t.ok("--cflags --libs %s)" % pc in mk and "--cflags --libs %s)" % pc in readme,
             "README and Makefile: pkg-config --cflags --libs " + pc)
    conf = harness.read_text(os.path.join(d, "nginx.conf"))
    block = "\n".join(ln for ln in conf.splitlines() if not ln.startswith("#"))
    t.ok("\n".join("    " + ln for ln in block.splitlines()) in readme,
         "README shows nginx.conf as shipped")
    r = t.run_cmd([sys.executable, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())",
                   os.path.join(d, "fastapi_notes.py")])
    t.eq(r.returncode, 0, "fastapi_notes.py is Python", r.stderr.decode(errors="replace"))


def start_nginx(t, src, sock):
    """nginx with the example's nginx.conf (socket and port changed)."""
    harness.need_program("nginx")
    nd = t.path("nginx")
    for sub in ("", "tmp/body", "tmp/fastcgi", "tmp/scgi", "tmp/proxy", "tmp/uwsgi"):
        os.makedirs(os.path.join(nd, sub), exist_ok=True)
    shutil.copy("/etc/nginx/fastcgi_params", os.path.join(nd, "fastcgi_params"))
    port = harness.free_port()
    conf = harness.read_text(os.path.join(src, "nginx.conf"))
    t.ok("unix:/run/notes.sock" in conf and "127.0.0.1:8080" in conf,
         "nginx.conf: the socket and the address to change are where expected", conf)
    conf = conf.replace("/run/notes.sock", sock).replace("127.0.0.1:8080", "127.0.0.1:%d" % port)
    t.write("nginx/notes.conf", conf)
    t.write("nginx/nginx.conf", """daemon off;
master_process on;
worker_processes 1;
user root;
pid {nd}/nginx.pid;
error_log {nd}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {nd}/tmp/body;
    fastcgi_temp_path {nd}/tmp/fastcgi;
    scgi_temp_path {nd}/tmp/scgi;
    proxy_temp_path {nd}/tmp/proxy;
    uwsgi_temp_path {nd}/tmp/uwsgi;
    include {nd}/notes.conf;
}}
""".format(nd=nd))
    t.extra_logs.append(os.path.join(nd, "error.log"))
    p = t.spawn("nginx", ["nginx", "-p", nd + "/", "-e", os.path.join(nd, "error.log"),
                          "-c", os.path.join(nd, "nginx.conf")])
    harness.wait_until(lambda: harness.tcp_connects(port) or not p.alive(), 10)
    if not harness.tcp_connects(port):
        raise RuntimeError("nginx with the example's nginx.conf does not answer:\n%s"
                           % harness.read_text(os.path.join(nd, "error.log")))
    return port


def note(i, title, body="", tags=()):
    return {"id": i, "title": title, "body": body, "tags": list(tags)}


def round_trip(t, port):
    c = harness.HTTPClient(port)

    def call(method, path, obj=None, headers=JSON_AUTH):
        body = json.dumps(obj).encode() if obj is not None else None
        return c.request(method, path, body=body, headers=headers)

    def ans(r):
        return (r.status, r.json() if r.body else None)

    r = call("POST", "/notes", {"title": "shopping", "body": "milk", "tags": ["home"]})
    t.eq(ans(r), (201, note(1, "shopping", "milk", ["home"])), "POST /notes: 201 and the note")
    t.eq(r.header("Location"), "/notes/1", "... Location: /notes/1")
    t.eq(r.media_type, "application/json", "... application/json")
    r = call("POST", "/notes", {"title": "work", "tags": ["office", "today"]})
    t.eq(ans(r), (201, note(2, "work", "", ["office", "today"])),
         "POST /notes: body and tags take their defaults")
    t.eq(ans(call("GET", "/notes")), (200, [note(1, "shopping", "milk", ["home"]),
                                            note(2, "work", "", ["office", "today"])]),
         "GET /notes: both, in order")
    t.eq(ans(call("GET", "/notes?tag=today&tag=office")),
         (200, [note(2, "work", "", ["office", "today"])]), "GET /notes?tag=today&tag=office")
    t.eq(ans(call("GET", "/notes?limit=1&offset=1")),
         (200, [note(2, "work", "", ["office", "today"])]), "GET /notes?limit=1&offset=1")
    t.eq(ans(call("GET", "/notes/1")), (200, note(1, "shopping", "milk", ["home"])),
         "GET /notes/1")
    t.eq(ans(call("PUT", "/notes/1", {"title": "groceries"})),
         (200, note(1, "groceries")), "PUT /notes/1: every field replaced")
    t.eq(ans(call("PATCH", "/notes/1", {"body": "eggs"})),
         (200, note(1, "groceries", "eggs")), "PATCH /notes/1: the field given changed")
    r = call("DELETE", "/notes/1")
    t.eq((r.status, r.body, r.header("Content-Type")), (204, b"", None),
         "DELETE /notes/1: 204, no body")
    t.eq(ans(call("GET", "/notes/1")), (404, {"detail": "Note not found"}),
         "GET /notes/1 after the delete: 404 Note not found")
    t.eq(ans(call("DELETE", "/notes/1")), (404, {"detail": "Note not found"}),
         "DELETE /notes/1 again: 404")
    t.eq(ans(call("GET", "/notes")), (200, [note(2, "work", "", ["office", "today"])]),
         "GET /notes: the other one is left")

    # Auth: every route, answered before anything is read or written.
    for method, path in (("GET", "/notes"), ("POST", "/notes"), ("GET", "/notes/2"),
                         ("PUT", "/notes/2"), ("PATCH", "/notes/2"), ("DELETE", "/notes/2")):
        body = {"title": "taken"} if method in ("POST", "PUT", "PATCH") else None
        for hdrs, detail, what in (({}, "Not authenticated", "no Authorization"),
                                   ({"Authorization": "Basic " + TOKEN}, "Not authenticated",
                                    "another scheme"),
                                   ({"Authorization": "Bearer nope"},
                                    "Could not validate credentials", "a wrong token")):
            r = call(method, path, body, dict(hdrs, **{"Content-Type": "application/json"}))
            t.eq((ans(r), r.header("WWW-Authenticate")),
                 ((401, {"detail": detail}), "Bearer"),
                 "%s %s with %s: 401 %s, WWW-Authenticate: Bearer" % (method, path, what, detail))
    t.eq(ans(call("GET", "/notes")), (200, [note(2, "work", "", ["office", "today"])]),
         "nothing changed without the token")

    # A 422, in FastAPI's words (what FastAPI with Pydantic 2 answers).
    r = call("POST", "/notes", {"title": "", "tags": ["ok", 5]})
    t.eq(ans(r), (422, {"detail": [
        {"type": "string_too_short", "loc": ["body", "title"],
         "msg": "String should have at least 1 character", "input": "",
         "ctx": {"min_length": 1}},
        {"type": "string_type", "loc": ["body", "tags", 1],
         "msg": "Input should be a valid string", "input": 5}]}),
         "POST /notes with a bad body: 422, every error listed")
    t.eq(ans(call("GET", "/notes?limit=0")), (422, {"detail": [
        {"type": "greater_than_equal", "loc": ["query", "limit"],
         "msg": "Input should be greater than or equal to 1", "input": "0",
         "ctx": {"ge": 1}}]}), "GET /notes?limit=0: 422")
    r = call("DELETE", "/notes/2")
    t.eq(r.status, 204, "DELETE /notes/2: the table is empty again")
    c.close()


def share(t, port, alog, db):
    """Two workers, one file: clients write and read at once through nginx."""
    threads, per = 8, 25
    results, errors = [], []
    lock = threading.Lock()

    def client(k):
        c = harness.HTTPClient(port)
        try:
            for i in range(per):
                r = c.request("POST", "/notes", body=json.dumps(
                    {"title": "t%d-%d" % (k, i), "tags": ["c%d" % k]}).encode(), headers=JSON_AUTH)
                got = r.json() if r.status == 201 else None
                with lock:
                    results.append((r.status, r.header("X-Request-ID"), got, (k, i), r.body))
        except Exception as e:  # reported below
            with lock:
                errors.append(repr(e))
        finally:
            c.close()

    ths = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    t.eq(errors, [], "%d clients x %d POSTs at once: no client error" % (threads, per))
    bad = [(s, b[:200]) for s, _, _, _, b in results if s != 201]
    t.eq((len(results), bad), (threads * per, []),
         "every POST answered 201 (no 500 from a locked database)")
    ids = sorted(g["id"] for _, _, g, _, _ in results if g)
    t.eq(len(set(ids)), len(ids), "every note has its own id")
    t.ok(os.path.exists(db + "-wal"), "the database is in WAL mode (%s-wal exists)"
         % os.path.basename(db))

    # Read every note back, on other connections: note the worker of each.
    got = {}
    for chunk in range(0, len(ids), 20):
        c = harness.HTTPClient(port)
        for i in ids[chunk:chunk + 20]:
            r = c.request("GET", "/notes/%d" % i, headers=AUTH)
            got[i] = (r.status, r.header("X-Request-ID"), r.json() if r.status == 200 else r.body)
        c.close()
    want = {g["id"]: g for _, _, g, _, _ in results if g}
    t.ok(all(got[i][0] == 200 and got[i][2] == want[i] for i in ids),
         "every note reads back as it was written",
         [(i, got[i], want[i]) for i in ids if got[i][0] != 200 or got[i][2] != want[i]][:5])
    page = []
    for off in range(0, len(ids) + 100, 100):
        r = harness.http_request(port, "GET", "/notes?limit=100&offset=%d" % off, headers=AUTH)
        page += r.json() if r.status == 200 else []
    t.eq([n["id"] for n in page], ids, "GET /notes pages through all %d notes" % len(ids))
    r = harness.http_request(port, "GET", "/notes?tag=c3&limit=100", headers=AUTH)
    t.eq(sorted(n["title"] for n in r.json()), sorted("t3-%d" % i for i in range(per)),
         "GET /notes?tag=c3: the notes of client 3")

    # Which worker did what: the access log has each request's id and pid.
    pid_of = {}
    for line in harness.read_text(alog).splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pid_of[parts[1]] = parts[0]
    writer = {g["id"]: pid_of.get(rid) for _, rid, g, _, _ in results if g}
    reader = {i: pid_of.get(got[i][1]) for i in ids}
    pids = set(writer.values()) | set(reader.values())
    t.eq(len(pids - {None}), 2, "both workers served requests", sorted(map(str, pids)))
    crossed = [i for i in ids if writer[i] and reader[i] and writer[i] != reader[i]]
    t.ok(len(crossed) > 0, "notes written by one worker were read by the other (%d of %d)"
         % (len(crossed), len(ids)))
    gone = [harness.http_request(port, "DELETE", "/notes/%d" % i, headers=AUTH).status
            for i in ids]
    t.eq(set(gone), {204}, "DELETE each note: 204")
    r = harness.http_request(port, "GET", "/notes", headers=AUTH)
    t.eq((r.status, r.json()), (200, []), "every note deleted")


def main(t):
    d = build_and_check(t)
    check_readme(t, d)
    sock = t.path("notes.sock")
    db = t.path("notes.db")
    alog = t.path("access.log")
    port = start_nginx(t, d, sock)
    os.environ["NOTES_TOKEN"] = TOKEN
    os.environ["NOTES_DB"] = db
    s = t.start_sluice(["--fastcgi", "unix:" + sock, "--workers", "2",
                        "--access-log", alog,
                        "--access-log-format", "{pid} {request_id} {method} {uri} {status}"],
                       app=os.path.join(d, "notes.so"), name="sluice-notes")
    round_trip(t, port)
    share(t, port, alog, db)
    r = harness.http_request(port, "POST", "/notes", body=b'{"title": "kept"}', headers=JSON_AUTH)
    t.eq(r.status, 201, "POST a note to keep")
    kept = r.json() if r.status == 201 else None
    s.signal(15)
    t.ok(s.wait(15) == 0, "sluice stops on SIGTERM, exit 0", harness.tail(s.log_text()))

    # Started again on the same file: the note is there.
    s2 = t.start_sluice(["--fastcgi", "unix:" + sock, "--workers", "2"],
                        app=os.path.join(d, "notes.so"), name="sluice-notes")
    r = harness.http_request(port, "GET", "/notes", headers=AUTH)
    t.eq((r.status, r.json() if r.status == 200 else r.body), (200, [kept]),
         "started again, sluice serves the note kept in the file")
    s2.signal(15)
    t.ok(s2.wait(15) == 0, "sluice stops again, exit 0")
    for p in (s, s2):
        log = p.log_text()
        t.ok("notes:" not in log and "start hook failed" not in log
             and "exited with status 0" in log and " exited with status " not in
             log.replace("exited with status 0", ""),
             "%s: every worker started, none failed, the app logged no error" % p.name,
             harness.tail(log))


harness.run("notes", main)
