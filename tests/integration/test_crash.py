#!/usr/bin/env python3
"""A request that crashes its worker, behind nginx with the shipped
conf/nginx/sluice.conf, and the crash report it leaves in the error log.

nginx retries a request whose kept upstream connection fails on another
kept connection (fastcgi_next_upstream's default is "error timeout"), so a
request that crashed one worker used to crash the next one too.  sluice
records the crashing request in the pool's crash table and answers its
retry 500 without running it:

  1. two workers, both holding kept connections from nginx; one GET /boom
     (a pool handler dereferencing NULL), then one GET /boom-loop (a loop
     handler): each time exactly one worker dies, the client gets the 500
     of the retry, /hello keeps working;
  2. straight at the socket: the same request again within the window is
     answered 500 and kills nobody; a POST /boom with another body crashes
     (the identity is specific); after the window the first one runs (and
     crashes) again (entries expire);
  3. a "*" route crashed by a request whose method holds a newline and
     bytes that are not UTF-8, with --log-format text and json: every line
     of the error log is one line, and in json each parses.
"""
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP = r'''#include <stdlib.h>
#include <unistd.h>
#include <sluice.h>

static int hello(sl_req *req)
{
    return sl_resp_write(req, "hello\n", 6);
}

/* /pid?ms=N: hold a pool thread N ms, then name the worker. */
static int pid(sl_req *req)
{
    const char *ms = sl_req_query(req, "ms");
    if (ms != NULL)
        usleep((useconds_t)atoi(ms) * 1000);
    return sl_resp_printf(req, "%ld\n", (long)getpid());
}

static int boom(sl_req *req)
{
    (void)req;
    int *volatile p = NULL;
    *p = 42;
    return SL_OK;
}

int sluice_app(sl_app *app)
{
    int rc = sl_route(app, "GET", "/hello", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/pid", pid, SL_POOL);
    rc |= sl_route(app, "*", "/boom", boom, SL_POOL);
    rc |= sl_route(app, "*", "/boom-loop", boom, SL_LOOP);
    return rc;
}
'''

WINDOW = 5.0            # SL_SB_CRASH_WINDOW_MS
DETAIL = "crashed a worker moments ago"
KILLED = "killed by signal"


def workers_of(pid):
    return {p for p in harness.children_of(pid) if harness.pid_alive(p)}


def wait_workers(s, n, timeout=15):
    """n live workers, each answering (its socket is up before its loop)."""
    return harness.wait_until(lambda: (lambda w: w if len(w) == n else None)(workers_of(s.pid)),
                              timeout)


def count(text, needle):
    return sum(1 for ln in text.splitlines() if needle in ln)


def fill_keepalive(t, port, want):
    """Concurrent slow requests through nginx until every worker in `want`
    answered one: each then holds kept connections from nginx."""
    seen = set()
    for _ in range(5):
        res = harness.parallel(lambda: harness.http_get(port, "/pid?ms=300", timeout=20),
                               [()] * 8, timeout=30)
        seen |= {int(r.body) for r, e in res if e is None and r.status == 200}
        if want <= seen:
            break
    t.ok(want <= seen, "keep-alive pool filled: workers %s all answered (%s)"
         % (sorted(want), sorted(seen)))


def crash_through_nginx(t, s, port, path):
    """One GET `path` through nginx kills exactly one worker; the retry is
    answered 500 by another one."""
    before = wait_workers(s, 2)
    t.ok(before, "%s: 2 workers before" % path)
    fill_keepalive(t, port, before or set())
    text0 = s.log_text()
    killed0, refused0 = count(text0, KILLED), count(text0, DETAIL)
    r = harness.http_get(port, path, timeout=30)
    t.note("%s through nginx: %s %s" % (path, r.status, r.body[:200]))
    t.eq(r.status, 500, "%s through nginx: the client gets the 500 of the retry" % path, r)
    t.eq(r.media_type, "application/problem+json", "%s: the 500 is problem+json" % path)
    try:
        detail = r.json().get("detail", "")
    except ValueError:
        detail = ""
    t.ok(DETAIL in detail and "not run again" in detail,
         "%s: its detail says it crashed a worker and is not run again (%r)" % (path, detail))
    # The master logs the death once it reaped the worker; give a second
    # crash (the bug) the time to happen too.
    harness.wait_until(lambda: count(s.log_text(), KILLED) > killed0, 10)
    time.sleep(1.0)
    text = s.log_text()
    killed = count(text, KILLED) - killed0
    t.eq(killed, 1, "%s: exactly one worker died (\"killed by signal\" lines)" % path,
         harness.tail(text, 20))
    alive = workers_of(s.pid)
    t.eq(len(before - alive), 1, "%s: exactly one of the workers %s is gone (alive: %s)"
         % (path, sorted(before), sorted(alive)))
    t.ok(count(text, DETAIL) > refused0,
         "%s: the log says the retry crashed a worker moments ago" % path,
         harness.tail(text, 10))
    for i in range(5):
        r = harness.http_get(port, "/hello", timeout=10)
        if (r.status, r.body) != (200, b"hello\n"):
            break
    t.eq((r.status, r.body), (200, b"hello\n"), "%s: /hello keeps working" % path)


def fcgi_crash(t, sock, method, uri, body=b"", rid=None, what=""):
    """One request straight at the socket; True when the worker died with
    it (the connection drops), else its FCGIResult."""
    extra = {"HTTP_X_REQUEST_ID": rid} if rid else None
    try:
        return harness.fcgi_request(sock, method, uri, body, timeout=10, extra=extra)
    except (ConnectionError, OSError):
        return True


def check_identity(t, s, sock):
    wait_workers(s, 2)
    killed0 = count(s.log_text(), KILLED)
    t0 = time.monotonic()
    got = fcgi_crash(t, sock, "POST", "/boom", b"one", rid="crash-one")
    t.ok(got is True, "POST /boom body 'one' at the socket: the worker dies", repr(got))
    harness.wait_until(lambda: count(s.log_text(), KILLED) > killed0, 10)
    wait_workers(s, 2)
    # The same request again (same parameters, body and X-Request-ID).
    killed1 = count(s.log_text(), KILLED)
    got = fcgi_crash(t, sock, "POST", "/boom", b"one", rid="crash-one")
    t.ok(got is not True and got.status == 500 and DETAIL.encode() in got.body,
         "the same request again within the window: 500, not run", repr(got))
    # Another body: another request, which runs (and crashes).
    got = fcgi_crash(t, sock, "POST", "/boom", b"two", rid="crash-one")
    t.ok(got is True, "POST /boom with another body within the window: it runs (and crashes)",
         repr(got))
    harness.wait_until(lambda: count(s.log_text(), KILLED) > killed1, 10)
    t.eq(count(s.log_text(), KILLED) - killed1, 1, "only the one with another body killed a worker")
    wait_workers(s, 2)
    # Past the window the first one is forgotten.
    time.sleep(max(0.0, WINDOW + 0.3 - (time.monotonic() - t0)))
    killed2 = count(s.log_text(), KILLED)
    got = fcgi_crash(t, sock, "POST", "/boom", b"one", rid="crash-one")
    t.ok(got is True, "the first request again after the %.0f s window: it runs (and crashes)"
         % WINDOW, repr(got))
    harness.wait_until(lambda: count(s.log_text(), KILLED) > killed2, 10)
    t.eq(count(s.log_text(), KILLED) - killed2, 1, "after the window: one worker died")


# A method no web server would pass on: a newline that would start a forged
# line, bytes that are not UTF-8, a double quote and a backslash.
ODD_METHOD = b'GET\nFORGED line "q" \\ \xff\xfe\xc3'

# Lines of the text error log: sl_log's, the crash handler's, and the
# frames backtrace_symbols_fd() writes.
TEXT_LINE = re.compile(rb"^(\d{4}-\d\d-\d\dT\S+ sluice\[\d+\] |sluice\[\d+\] |.*\[0x[0-9a-f]+\]$)")


def check_injection(t, app, fmt):
    sock = t.path("odd-%s.sock" % fmt)
    errlog = t.path("odd-%s-error.log" % fmt)
    t.extra_logs.append(errlog)
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock, "--error-log", errlog,
                        "--log-format", fmt], app=app, name="odd-" + fmt)
    wait_workers(s, 1)
    got = fcgi_crash(t, sock, ODD_METHOD, "/boom")
    t.ok(got is True, "%s: a method with '\\n' and \\xff crashes the '*' route" % fmt, repr(got))
    harness.wait_until(lambda: KILLED in harness.read_text(errlog), 10)
    got = fcgi_crash(t, sock, ODD_METHOD, "/boom-loop")
    t.ok(got is True, "%s: ... and the '*' loop route" % fmt, repr(got))
    harness.wait_until(lambda: count(harness.read_text(errlog), KILLED) >= 2, 10)
    wait_workers(s, 1)
    with open(errlog, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    crash = [ln for ln in lines if b"crashed with signal" in ln]
    t.note("%s crash lines:\n%s" % (fmt, b"\n".join(crash).decode("utf-8", "replace")))
    t.eq(len(crash), 2, "%s: two crash lines" % fmt, raw[-3000:])
    t.ok(all(b"FORGED" in ln for ln in crash),
         "%s: the method, newline and all, is on the crash line" % fmt)
    t.ok(not [ln for ln in lines if ln.startswith(b"FORGED") or b"\"q\" \\ \xff" in ln],
         "%s: no line starts where the method's newline was, no raw bytes of it" % fmt)
    bad_bytes = [ln for ln in lines if re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", ln)]
    t.ok(not bad_bytes, "%s: no control bytes in the log" % fmt, harness.short(bad_bytes[:3]))
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError as e:
        utf8 = e
    t.ok(utf8 is True, "%s: the error log is valid UTF-8" % fmt, repr(utf8))
    if fmt == "text":
        odd = [ln for ln in lines if not TEXT_LINE.match(ln)]
        t.ok(not odd, "text: every line of the error log is a whole log line",
             harness.short(odd[:5]))
        return
    bad, msgs = [], []
    for ln in lines:
        try:
            o = json.loads(ln.decode("utf-8"))
            if not isinstance(o, dict) or "msg" not in o:
                bad.append(ln)
            else:
                msgs.append(o["msg"])
        except ValueError:
            bad.append(ln)
    t.ok(lines and not bad, "json: every line of the error log (%d) parses as a JSON object "
         "with a msg" % len(lines), harness.short(bad[:3]))
    crash_msgs = [m for m in msgs if "crashed with signal" in m]
    t.ok(len(crash_msgs) == 2 and all("FORGED" in m and "\n" not in m for m in crash_msgs),
         "json: the crash messages hold the method escaped, on one line", crash_msgs)


def main(t):
    app = t.build_app("crash", APP, "-g")
    sock = t.path("fcgi.sock")
    s = t.start_sluice(["--workers", "2", "--threads", "4", "--fastcgi", "unix:" + sock],
                       app=app)
    port, _ = t.start_nginx(fcgi_sock=sock)
    t.ok(wait_workers(s, 2), "two workers up")
    crash_through_nginx(t, s, port, "/boom")
    crash_through_nginx(t, s, port, "/boom-loop")
    check_identity(t, s, sock)
    for fmt in ("text", "json"):
        check_injection(t, app, fmt)


harness.run("crash", main)
