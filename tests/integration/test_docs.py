#!/usr/bin/env python3
"""The documentation as a newcomer uses it.

- README: the application of "Write an application", built and run with
  the commands of "Build it and run it", behind nginx configured with the
  README's own snippet, nginx's workers running as www-data as on Debian:
  the requests get through (a socket nginx may not open gives 502), and
  its declared route answers bad input with the 422 the README shows.  Its
  Check test of that app (the in-process test client), built and run with
  the README's commands, passes; and fails once the app answers otherwise.
- doc/sluice.1 documents every long option `sluice --help` lists, and
  lists none that --help does not.
"""
import json
import os
import re
import shlex
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NGINX_USER = "www-data"


def source_file(name):
    """A file of the source tree: $top_srcdir/name, else ../../name."""
    cands = []
    if os.environ.get("top_srcdir"):
        cands.append(os.path.join(os.environ["top_srcdir"], name))
    cands.append(os.path.normpath(os.path.join(HERE, "..", "..", name)))
    for c in cands:
        if os.path.isfile(c):
            return c
    raise harness.Prerequisite("%s not found among %s" % (name, cands))


def block_after(text, marker):
    """The first indented block (4 spaces) after the line holding `marker`
    (past the rest of its paragraph, or a heading's underline), unindented."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if marker in ln), None)
    if start is None:
        return None
    i = start + 1
    while i < len(lines) and not lines[i].startswith("    "):
        i += 1
    out = []
    while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
        out.append(lines[i][4:])
        i += 1
    return "\n".join(out).strip("\n")


# --------------------------------------------------------------------------

def check_readme_quickstart(t):
    readme = harness.read_text(source_file("README"))
    app = block_after(readme, "Write an application")
    build = block_after(readme, "Build it and run it")
    snippet = block_after(readme, "`conf/nginx/sluice.conf` (installed under")
    if not t.ok(app and "sluice_app" in app and build and snippet and "upstream" in snippet,
                "README: the app, the build and run commands and the nginx snippet are found",
                "%r\n%r\n%r" % (app, build, snippet)):
        return
    cmds = [ln for ln in build.splitlines() if ln.strip()]
    t.eq(len(cmds), 2, "README: two commands under \"Build it and run it\"", build)
    cc, run = cmds[0], cmds[-1]

    # Build it as written.
    t.write("app.c", app + "\n")
    r = t.run_cmd(["sh", "-c", cc], timeout=120)
    if not t.ok(r.returncode == 0, "README's build command: " + cc,
                (r.stdout + r.stderr).decode(errors="replace")):
        return

    # Run it as written, with the socket in our directory.
    sock = t.path("sluice.sock")
    argv = shlex.split(run.replace("/run/sluice.sock", sock))
    t.eq((argv[0], argv[-1]), ("sluice", "./app.so"), "README's run command: sluice ... ./app.so",
         run)
    t.start_sluice(argv[1:-1], app=t.path("app.so"), name="readme")

    # nginx with the README's snippet, its workers as www-data.
    harness.need_program("nginx")
    try:
        import pwd
        pwd.getpwnam(NGINX_USER)
    except KeyError:
        raise harness.Prerequisite("user %s (nginx's on Debian) does not exist" % NGINX_USER)
    nd = t.path("nginx")
    for d in ("", "tmp/body", "tmp/fastcgi", "tmp/scgi", "tmp/proxy", "tmp/uwsgi"):
        os.makedirs(os.path.join(nd, d), exist_ok=True)
    shutil.copy("/etc/nginx/fastcgi_params", os.path.join(nd, "fastcgi_params"))
    port = harness.free_port()
    site = snippet.replace("/run/sluice.sock", sock).replace("127.0.0.1:8080",
                                                             "127.0.0.1:%d" % port)
    t.write("nginx/readme.conf", site + "\n")
    t.write("nginx/nginx.conf", """daemon off;
master_process on;
worker_processes 1;
user {user};
pid {nd}/nginx.pid;
error_log {nd}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {nd}/tmp/body;
    fastcgi_temp_path {nd}/tmp/fastcgi;
    scgi_temp_path {nd}/tmp/scgi;
    proxy_temp_path {nd}/tmp/proxy;
    uwsgi_temp_path {nd}/tmp/uwsgi;
    include {nd}/readme.conf;
}}
""".format(user=NGINX_USER, nd=nd))
    t.extra_logs.append(os.path.join(nd, "error.log"))
    p = t.spawn("nginx-readme", ["nginx", "-p", nd + "/", "-e", os.path.join(nd, "error.log"),
                                 "-c", os.path.join(nd, "nginx.conf")])
    harness.wait_until(lambda: harness.tcp_connects(port) or not p.alive(), 10)
    if not t.ok(harness.tcp_connects(port), "nginx with the README's snippet answers",
                harness.read_text(os.path.join(nd, "error.log"))):
        return
    r = harness.http_get(port, "/hi/newcomer")
    t.eq((r.status, r.body), (200, b"hi newcomer\n"),
         "GET /hi/newcomer through nginx (workers as %s): the README's app answers"
         % NGINX_USER, harness.tail(harness.read_text(os.path.join(nd, "error.log")), 5))
    r = harness.http_get(port, "/items/42")
    t.eq((r.status, r.body), (200, b'{"id":42}'), "GET /items/42: {\"id\":42}")
    # The README's declared route: its 422, as the README shows it.
    shown = block_after(readme, "answers bad input with FastAPI's own 422")
    lines = (shown or "").splitlines()
    t.ok(len(lines) >= 2 and lines[0].startswith("$ curl -s localhost:8080/items/0"),
         "README: the 422 example is found", shown)
    r = harness.http_get(port, "/items/0")
    try:
        want = json.loads("".join(lines[1:]))
    except ValueError:
        want = ("README's 422 is not JSON", lines[1:])
    t.eq((r.status, r.json() if r.status == 422 else r.body), (422, want),
         "GET /items/0: the README's 422, exactly")


def check_readme_test(t):
    """The README's Check test of its app, built and run as it says, next
    to the app.so check_readme_quickstart built."""
    readme = harness.read_text(source_file("README"))
    test = block_after(readme, "test of the app above:")
    cmds = block_after(readme, "Build the test and run it")
    if not t.ok(test and "sluice_test.h" in test and "START_TEST" in test and cmds,
                "README: the Check test and its commands are found", "%r\n%r" % (test, cmds)):
        return
    cmds = [ln for ln in cmds.splitlines() if ln.strip()]
    t.eq(len(cmds), 2, "README: two commands to build and run the test", cmds)
    cc, run = cmds[0], cmds[-1]
    t.ok("pkg-config --cflags --libs sluice check" in cc,
         "README: the test builds with pkg-config --cflags --libs sluice check", cc)
    if not t.ok(os.path.isfile(t.path("app.so")), "the README's app.so is built"):
        return
    t.write("test_app.c", test + "\n")
    # A sanitizer build's libsluice needs its runtime in the program too.
    san = os.environ.get("SLUICE_SANITIZERS", "")
    r = t.run_cmd(["sh", "-c", cc.replace("cc ", "cc %s " % san, 1)], timeout=120)
    if not t.ok(r.returncode == 0, "README's test build command: " + cc,
                (r.stdout + r.stderr).decode(errors="replace")):
        return
    r = t.run_cmd(["sh", "-c", run], timeout=60)
    out = (r.stdout + r.stderr).decode(errors="replace")
    t.eq(r.returncode, 0, "README's test passes: " + run, out)
    t.ok("100%: Checks: 1, Failures: 0, Errors: 0" in out, "... Check ran its one test", out)
    # The same test against an app that answers otherwise fails: it tests.
    app = harness.read_text(t.path("app.c")).replace('"hi %s\\n"', '"hello %s\\n"')
    os.makedirs(t.path("other"), exist_ok=True)
    t.write("other/app.c", app)
    r = t.run_cmd(["sh", "-c", "cd other && cc -shared -fPIC -o app.so app.c "
                   "$(pkg-config --cflags --libs sluice) && ../test_app"], timeout=120)
    out = (r.stdout + r.stderr).decode(errors="replace")
    t.ok(r.returncode != 0 and "Failures: 1" in out,
         "README's test fails against an app answering \"hello\"", out)


# --------------------------------------------------------------------------

def help_options(text):
    return set(re.findall(r"(?<![\w-])--([a-z][a-z-]*[a-z])", text))


def man_options(text):
    """Long options of the items (.TP tags) of a man page."""
    opts = set()
    lines = text.splitlines()
    for i, ln in enumerate(lines[:-1]):
        if ln.startswith(".TP"):
            # Without font changes (\fR...) and with plain dashes.
            tag = re.sub(r"\\f[RBIP]", "", lines[i + 1]).replace("\\-", "-")
            opts |= set(re.findall(r"(?<![\w-])--([a-z][a-z-]*[a-z])", tag))
    return opts


def check_help_vs_man(t):
    r = t.run_cmd([harness.sluice_bin(), "--help"], timeout=15)
    t.eq(r.returncode, 0, "sluice --help: exit 0")
    helped = help_options(r.stdout.decode(errors="replace"))
    t.ok(len(helped) > 30, "sluice --help lists the long options (%d)" % len(helped),
         sorted(helped))
    man = man_options(harness.read_text(source_file("doc/sluice.1")))
    t.eq(sorted(helped - man), [], "every long option of --help has an item in doc/sluice.1")
    t.eq(sorted(man - helped), [], "every option item of doc/sluice.1 is in --help")


def main(t):
    harness.sluice_bin()
    check_help_vs_man(t)
    check_readme_quickstart(t)
    check_readme_test(t)


harness.run("docs", main)
