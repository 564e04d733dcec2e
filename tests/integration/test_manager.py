#!/usr/bin/env python3
"""The process manager, through a real nginx, with real signals and load:
--timeout (504, stuck pool thread retires the worker), heartbeats (a loop
that stops turning is killed with a backtrace), --max-requests(-jitter),
--max-worker-memory, SIGHUP reloads under load (also bad ones), SIGTTIN /
SIGTTOU, crash storms, --limit-concurrency, SIGUSR1 log reopening,
--pidfile / --chdir / --check-config, --user / --group, and the systemd
protocol (socket activation, NOTIFY_SOCKET) without systemd.

The application is built here from C source (MGR_APP below).  Every check
runs in its own sluice (and nginx), stopped when it is done; an exception in
one check fails it and the others still run.  MANAGER_ONLY=timeout,reload,...
runs only the named checks (see main), for debugging."""
import os
import pwd
import re
import shutil
import signal
import socket
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HELLO = b"Hello, world!\n"

MGR_APP = r'''#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sluice.h>

static long query_long(sl_req *req, const char *name, long dflt, long max)
{
    const char *s = sl_req_query(req, name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > max)
        return -1;
    return v;
}

static int hello(sl_req *req)
{
    return sl_resp_write(req, "Hello, world!\n", 14);
}

static int pid(sl_req *req)
{
    return sl_resp_printf(req, "%ld\n", (long)getpid());
}

/* /sleep: a timer on the loop, as in the demo. */
typedef struct sleeper {
    uv_timer_t timer;
    sl_req *req;
} sleeper;

static void sleeper_free(uv_handle_t *h)
{
    free(h->data);
}

static void sleep_done(uv_timer_t *t)
{
    sleeper *s = t->data;
    sl_resp_printf(s->req, "slept\n");
    sl_resp_end(s->req);
    uv_close((uv_handle_t *)t, sleeper_free);
}

static void sleep_cancel(sl_req *req)
{
    sleeper *s = sl_req_data(req);
    uv_timer_stop(&s->timer);
    sl_resp_end(req);
    uv_close((uv_handle_t *)&s->timer, sleeper_free);
}

static int do_sleep(sl_req *req)
{
    long ms = query_long(req, "ms", 0, 3600 * 1000);
    if (ms < 0)
        return sl_resp_problem(req, 422, "bad ms");
    sleeper *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->req = req;
    uv_timer_init(sl_app_loop(sl_req_app(req)), &s->timer);
    s->timer.data = s;
    sl_req_set_data(req, s);
    sl_req_on_cancel(req, sleep_cancel);
    uv_timer_start(&s->timer, sleep_done, (uint64_t)ms, 0);
    return SL_LATER;
}

/* /block: a pool thread held. */
static int block(sl_req *req)
{
    long ms = query_long(req, "ms", 0, 600 * 1000);
    if (ms < 0)
        return sl_resp_problem(req, 422, "bad ms");
    usleep((useconds_t)ms * 1000);
    return sl_resp_printf(req, "blocked %ld ms\n", ms);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /spin: a LOOP handler that busy-waits, so the event loop stops turning.
 * Not static: its name is in the dynamic symbol table, for backtraces. */
int spin_handler(sl_req *req);
int spin_handler(sl_req *req)
{
    long ms = query_long(req, "ms", 0, 600 * 1000);
    if (ms < 0)
        return sl_resp_problem(req, 422, "bad ms");
    volatile unsigned long n = 0;
    double end = now_s() + (double)ms / 1000.0;
    while (now_s() < end)
        n++;
    return sl_resp_printf(req, "spun %ld ms\n", ms);
}

/* /forever: a pool thread stuck for an hour. */
static int forever(sl_req *req)
{
    for (int i = 0; i < 36000; i++)
        usleep(100000);
    return sl_resp_printf(req, "done\n");
}

/* /crash: NULL dereference on a pool thread. */
static int crash(sl_req *req)
{
    volatile int *volatile p = NULL;
    *p = 42;
    return sl_resp_printf(req, "not reached\n");
}

/* /leak: memory that is never freed (but stays reachable, so a
 * LeakSanitizer build does not report it). */
static void *volatile leaked[1024];
static volatile int nleaked;

static int leak(sl_req *req)
{
    long mb = query_long(req, "mb", 1, 4096);
    if (mb < 0)
        return sl_resp_problem(req, 422, "bad mb");
    size_t len = (size_t)mb * 1024 * 1024;
    char *p = malloc(len);
    if (p == NULL)
        return -ENOMEM;
    memset(p, 0x5a, len);
    if (nleaked < 1024)
        leaked[nleaked++] = p;
    return sl_resp_printf(req, "leaked %ld MiB\n", mb);
}

int sluice_app(sl_app *app)
{
    int rc = 0;
    rc |= sl_route(app, "GET", "/hello", hello, SL_LOOP);
    rc |= sl_route(app, "GET", "/pid", pid, SL_LOOP);
    rc |= sl_route(app, "GET", "/sleep", do_sleep, SL_LOOP);
    rc |= sl_route(app, "GET", "/block", block, SL_POOL);
    rc |= sl_route(app, "GET", "/spin", spin_handler, SL_LOOP);
    rc |= sl_route(app, "GET", "/forever", forever, SL_POOL);
    rc |= sl_route(app, "GET", "/crash", crash, SL_POOL);
    rc |= sl_route(app, "GET", "/leak", leak, SL_POOL);
    return rc;
}
'''


# --------------------------------------------------------------------------
# helpers

def workers_of(pid):
    return {p for p in harness.children_of(pid) if harness.pid_alive(p)}


def wait_workers(master, n, timeout=10, exclude=()):
    """Wait until the master has exactly n live workers not in exclude."""
    return harness.wait_until(
        lambda: (lambda w: w if len(w) == n else None)(workers_of(master) - set(exclude)),
        timeout)


def uid_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        return None
    return None


def get_pid(port):
    r = harness.http_get(port, "/pid", timeout=10)
    if r.status != 200:
        return None
    return int(r.body.decode().strip())


def log_grep(text, *needles):
    """Lines of text containing every needle."""
    return [ln for ln in text.splitlines() if all(n in ln for n in needles)]


def wait_log(proc_or_path, pred, timeout):
    """Wait until pred(text) is true for a process's log (or a file)."""
    def text():
        if isinstance(proc_or_path, str):
            return harness.read_text(proc_or_path)
        return proc_or_path.log_text()
    return harness.wait_until(lambda: pred(text()), timeout)


class Load:
    """Client threads looping on one path through nginx (keep-alive),
    counting answers; every answer that is not 200 `expect` is a failure."""

    def __init__(self, port, nthreads=1, path="/hello", expect=HELLO, pause=0.002):
        self.port = port
        self.path = path
        self.expect = expect
        self.pause = pause
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.fails = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(nthreads)]
        for th in self.threads:
            th.start()

    def _run(self):
        c = harness.HTTPClient(self.port, timeout=15)
        while not self.stop_ev.is_set():
            try:
                r = c.get(self.path)
                good = r.status == 200 and (self.expect is None or r.body == self.expect)
                with self.lock:
                    if good:
                        self.ok += 1
                    else:
                        self.fails.append((time.strftime("%H:%M:%S"), r.status, r.body[:200]))
            except Exception as e:
                with self.lock:
                    self.fails.append((time.strftime("%H:%M:%S"), "exception", repr(e)))
                c.close()
                c = harness.HTTPClient(self.port, timeout=15)
                time.sleep(0.01)
            if self.pause:
                time.sleep(self.pause)
        c.close()

    def wait_ok(self, n, timeout=10):
        return harness.wait_until(lambda: self.ok >= n, timeout)

    def stop(self):
        self.stop_ev.set()
        for th in self.threads:
            th.join(20)
        return self.ok, list(self.fails)


def start_plain(t, name, argv, env=None, wait_unix=(), timeout=10, cwd=None):
    """Start sluice with exactly argv (no APP appended), wait for sockets."""
    p = t.spawn(t._unique(name), argv, env=env, cwd=cwd)
    deadline = time.monotonic() + timeout
    for path in wait_unix:
        harness.wait_until(lambda: harness.unix_connects(path) or not p.alive(),
                           max(0.0, deadline - time.monotonic()))
        if not harness.unix_connects(path):
            raise RuntimeError("%s: socket %s not accepting (exit %s):\n%s"
                               % (name, path, p.poll(), harness.tail(p.log_text())))
    return p


def sluice_nginx(t, name, args, app):
    """sluice with args and the test app on a fresh socket, nginx in front."""
    sock = t.path("%s.sock" % name)
    s = t.start_sluice(list(args) + ["--fastcgi", "unix:" + sock], app=app, name=name)
    port, _ = t.start_nginx(fcgi_sock=sock)
    return s, port, sock


# --------------------------------------------------------------------------
# the checks

def check_timeout(t, app):
    s, port, _ = sluice_nginx(t, "timeout", ["--workers", "1", "--timeout", "2",
                                              "--graceful-timeout", "3"], app)
    pid0 = get_pid(port)
    t.ok(pid0 is not None and pid0 in workers_of(s.pid),
         "timeout: /pid names the one worker (%s)" % pid0)
    load = Load(port, nthreads=2)
    load.wait_ok(20, 5)
    t0 = time.monotonic()
    r = harness.http_get(port, "/forever", timeout=20)
    dt = time.monotonic() - t0
    t.eq(r.status, 504, "timeout: GET /forever answers 504 (after %.2f s)" % dt, r)
    t.eq(r.media_type, "application/problem+json", "timeout: the 504 is application/problem+json")
    t.ok(1.8 <= dt <= 4.5, "timeout: the 504 comes after --timeout 2 (%.2f s, want 1.8-4.5)" % dt)
    lines = wait_log(s, lambda x: log_grep(x, "timed out", "/forever", str(pid0)), 2)
    t.ok(lines, "timeout: the log has a 'timed out' line naming /forever and worker %d" % pid0,
         harness.tail(s.log_text(), 15))
    during_ok = load.ok
    t.ok(during_ok > 20 and not load.fails,
         "timeout: /hello kept being served while /forever was stuck (%d ok, %d failed)"
         % (during_ok, len(load.fails)), harness.short(load.fails[:5]))
    t.eq(get_pid(port), pid0, "timeout: right after the 504, the same worker answers /pid")
    # Past 2x --timeout the stuck thread makes the worker ask for a replacement.
    new = harness.wait_until(lambda: workers_of(s.pid) - {pid0}, 8)
    old_alive_then = harness.pid_alive(pid0)
    t.ok(new, "timeout: a replacement worker starts once the thread is stuck past 2x "
         "--timeout (%.1f s after the request; new %s)" % (time.monotonic() - t0, sorted(new or [])),
         harness.tail(s.log_text(), 15))
    t.ok(old_alive_then, "timeout: the replacement starts before the old worker %d exits" % pid0)
    t.ok(log_grep(s.log_text(), "stuck"), "timeout: the log says why (a stuck thread)",
         harness.tail(s.log_text(), 15))
    # the new worker takes over and the old one goes (--graceful-timeout 3)
    t1 = time.monotonic()
    gone = harness.wait_until(lambda: not harness.pid_alive(pid0), 12)
    t.ok(gone, "timeout: the old worker %d with the stuck thread exits (waited %.1f s, "
         "--graceful-timeout 3)" % (pid0, time.monotonic() - t1),
         "\n".join(log_grep(s.log_text(), str(pid0))[-10:]))
    p_new = harness.wait_until(lambda: (lambda p: p if p != pid0 else None)(get_pid(port)), 5)
    t.ok(p_new is not None and p_new in (new or set()),
         "timeout: afterwards /pid is answered by the replacement (%s)" % p_new)
    ok, fails = load.stop()
    t.ok(ok > during_ok and not fails,
         "timeout: /hello never failed during the whole retirement (%d ok, %d failed)"
         % (ok, len(fails)), harness.short(fails[:5]))


def check_heartbeat(t, app):
    s, port, _ = sluice_nginx(t, "heartbeat", ["--workers", "1", "--timeout", "2"], app)
    pid0 = get_pid(port)
    t.ok(pid0 is not None, "heartbeat: worker %s answers" % pid0)
    res = {}

    def spin():
        try:
            res["r"] = harness.http_get(port, "/spin?ms=10000", timeout=30)
        except Exception as e:
            res["r"] = e

    th = threading.Thread(target=spin, daemon=True)
    t0 = time.monotonic()
    th.start()
    died = harness.wait_until(lambda: not harness.pid_alive(pid0), 9)
    dt = time.monotonic() - t0
    t.ok(died and dt <= 6.5, "heartbeat: the worker whose loop spins is killed within ~6 s "
         "(%.2f s)" % dt, harness.tail(s.log_text(), 15))
    text = s.log_text()
    t.ok(log_grep(text, "has not turned", str(pid0)),
         "heartbeat: the master logs that worker %d's loop 'has not turned'" % pid0,
         harness.tail(text, 15))
    bt = wait_log(s, lambda x: "backtrace of thread" in x, 2)
    text = s.log_text()
    t.ok(bt, "heartbeat: the log holds a backtrace ('backtrace of thread')", harness.tail(text, 15))
    t.ok(re.search(r"\(spin_handler\+0x[0-9a-f]+\)", text),
         "heartbeat: the backtrace names the handler (spin_handler+0x...)",
         "\n".join(text.splitlines()[-40:]))
    th.join(20)
    t.note("heartbeat: the /spin request got %r" % (res.get("r"),))
    p_new = harness.wait_until(
        lambda: (lambda p: p if p not in (None, pid0) else None)(_try_pid(port)), 8)
    t.ok(p_new, "heartbeat: a new worker (%s) serves afterwards" % p_new)
    r = harness.http_get(port, "/hello", timeout=10)
    t.eq((r.status, r.body), (200, HELLO), "heartbeat: /hello works afterwards")
    t.ok(s.alive(), "heartbeat: the master is alive")


def _try_pid(port):
    try:
        return get_pid(port)
    except Exception:
        return None


def check_max_requests(t, app):
    s, port, _ = sluice_nginx(t, "maxreq", ["--workers", "2", "--max-requests", "50",
                                             "--max-requests-jitter", "10"], app)
    wait_workers(s.pid, 2, 5)
    first = workers_of(s.pid)
    counts = {"ok": 0}
    fails = []
    lock = threading.Lock()

    def client():
        c = harness.HTTPClient(port, timeout=15)
        for _ in range(250):
            try:
                r = c.get("/hello")
                with lock:
                    if r.status == 200 and r.body == HELLO:
                        counts["ok"] += 1
                    else:
                        fails.append((r.status, r.body[:200]))
            except Exception as e:
                with lock:
                    fails.append(repr(e))
                c.close()
            time.sleep(0.005)   # spread the load over a few master ticks
        c.close()

    t0 = time.monotonic()
    res = harness.parallel(client, [()] * 4, timeout=90)
    dt = time.monotonic() - t0
    errs = [e for _, e in res if e is not None]
    t.ok(counts["ok"] == 1000 and not fails and not errs,
         "max-requests: 1000 /hello from 4 threads, all 200 (%d ok, %d failed, %.1f s)"
         % (counts["ok"], len(fails), dt), harness.short((fails + errs)[:5]))
    # the last retirements may still be under way: give them a few ticks
    wait_log(s, lambda x: len(log_grep(x, "asks to retire", "max-requests")) >= 2, 5)
    text = s.log_text()
    retire = log_grep(text, "asks to retire", "max-requests")
    t.ok(len(retire) >= 2, "max-requests: workers retired for max-requests at least twice "
         "(%d)" % len(retire), harness.tail(text, 20))
    started = log_grep(text, "started worker")
    t.ok(len(started) >= 4, "max-requests: new workers started (%d 'started worker' lines, 2 "
         "at start)" % len(started))
    # Each retirement is the worker's own: it served 50..60 requests first.
    served = {}
    for ln in log_grep(text, "asking to be replaced", "--max-requests"):
        m = re.search(r"sluice\[(\d+)\].*served (\d+) requests", ln)
        if m:
            served[int(m.group(1))] = int(m.group(2))
    bogus = []
    for ln in retire:
        m = re.search(r"worker (\d+) asks to retire", ln)
        if m and not 50 <= served.get(int(m.group(1)), -1) <= 61:
            bogus.append("%s (served %s)" % (m.group(1), served.get(int(m.group(1)), "nothing logged")))
    t.ok(not bogus, "max-requests: every worker retired for max-requests had served 50-60 "
         "requests (%d of %d did not)" % (len(bogus), len(retire)),
         "not asked by the worker itself: %s\n%s" % (", ".join(bogus[:10]),
                                                      "\n".join(retire[:10])))
    now = wait_workers(s.pid, 2, 5, exclude=first) or workers_of(s.pid)
    t.ok(len(now) == 2 and not (now & first),
         "max-requests: afterwards exactly --workers 2 workers run, both new (first %s, now %s)"
         % (sorted(first), sorted(now)), harness.tail(text, 12))
    t.ok(log_grep(text, "it was leaving: max-requests"),
         "max-requests: the master logs the retired workers leaving for max-requests")


def check_max_memory(t, app):
    s, port, _ = sluice_nginx(t, "maxmem", ["--workers", "1", "--max-worker-memory", "64"], app)
    pid0 = get_pid(port)
    r = harness.http_get(port, "/leak?mb=100", timeout=20)
    t.eq(r.status, 200, "max-worker-memory: /leak?mb=100 answers 200", r)
    t0 = time.monotonic()
    fails = []
    newpid = None
    c = harness.HTTPClient(port, timeout=10)
    while time.monotonic() - t0 < 7:
        try:
            r = c.get("/hello")
            if r.status != 200 or r.body != HELLO:
                fails.append((r.status, r.body[:200]))
            r = c.get("/pid")
            if r.status != 200:
                fails.append((r.status, r.body[:200]))
            elif int(r.body) != pid0:
                newpid = int(r.body)
                break
        except Exception as e:
            fails.append(repr(e))
            c.close()
        time.sleep(0.02)
    dt = time.monotonic() - t0
    c.close()
    t.ok(newpid is not None and dt <= 5.5,
         "max-worker-memory: a new worker (%s) answers within ~5 s of the leak (%.1f s)"
         % (newpid, dt), harness.tail(s.log_text(), 10))
    t.ok(not fails, "max-worker-memory: no request failed meanwhile (%d failed)" % len(fails),
         harness.short(fails[:5]))
    t.ok(log_grep(s.log_text(), "max-worker-memory"),
         "max-worker-memory: the log says max-worker-memory", harness.tail(s.log_text(), 10))
    gone = harness.wait_until(lambda: not harness.pid_alive(pid0), 5)
    t.ok(gone, "max-worker-memory: the bloated worker %d exits" % pid0)


def check_reload(t, app):
    s, port, _ = sluice_nginx(t, "reload", ["--workers", "2"], app)
    gen1 = wait_workers(s.pid, 2, 5) or workers_of(s.pid)
    wrk = shutil.which("wrk")
    load = None
    proc = None
    if wrk:
        out = t.path("wrk.out")
        proc = t.spawn("wrk", [wrk, "-t2", "-c16", "-d8s", "http://127.0.0.1:%d/hello" % port],
                       stdout_log=out)
    else:
        load = Load(port, nthreads=8, pause=0)
    t0 = time.monotonic()
    time.sleep(2.0)
    s.signal(signal.SIGHUP)
    t.note("reload: SIGHUP 1 at %.1f s" % (time.monotonic() - t0))
    g2 = wait_log(s, lambda x: "generation 2 is serving" in x, 2.0)
    gen2 = wait_workers(s.pid, 2, 2.0, exclude=gen1) or (workers_of(s.pid) - gen1)
    time.sleep(max(0.0, 4.0 - (time.monotonic() - t0)))
    s.signal(signal.SIGHUP)
    t.note("reload: SIGHUP 2 at %.1f s" % (time.monotonic() - t0))
    g3 = wait_log(s, lambda x: "generation 3 is serving" in x, 3.0)
    gen3 = wait_workers(s.pid, 2, 3.0, exclude=gen1 | gen2) or (workers_of(s.pid) - gen1 - gen2)
    if proc is not None:
        rc = proc.wait(20)
        text = harness.read_text(out)
        t.note("wrk: " + " | ".join(ln.strip() for ln in text.splitlines() if ln.strip()))
        m = re.search(r"(\d+) requests in", text)
        t.ok(rc == 0 and m and int(m.group(1)) > 100,
             "reload: wrk ran 8 s with traffic (%s requests)" % (m.group(1) if m else "?"), text)
        t.ok("Non-2xx or 3xx responses" not in text,
             "reload: wrk saw zero non-2xx responses across two reloads", text)
        t.ok("Socket errors" not in text,
             "reload: wrk saw zero socket errors across two reloads", text)
    else:
        time.sleep(max(0.0, 8.0 - (time.monotonic() - t0)))
        ok, fails = load.stop()
        t.ok(ok > 100 and not fails, "reload: 8 clients saw no failure across two reloads "
             "(%d ok, %d failed)" % (ok, len(fails)), harness.short(fails[:5]))
    t.ok(g2 and g3, "reload: the log says 'reload: generation 2 is serving' and then 3",
         "\n".join(log_grep(s.log_text(), "reload")))
    t.ok(len(gen2) == 2 and not (gen2 & gen1),
         "reload: generation 2 is 2 new workers (%s -> %s)" % (sorted(gen1), sorted(gen2)))
    t.ok(len(gen3) == 2 and not (gen3 & (gen1 | gen2)),
         "reload: generation 3 is 2 new workers (%s)" % sorted(gen3))
    final = wait_workers(s.pid, 2, 5)
    t.ok(final and final == gen3, "reload: only generation 3 remains (%s)" % sorted(final or []))
    r = harness.http_get(port, "/hello")
    t.eq((r.status, r.body), (200, HELLO), "reload: /hello after the reloads")


def write_conf(t, name, lines):
    return t.write(name, "".join(ln + "\n" for ln in lines))


def check_bad_reload(t, app):
    sock = t.path("badrl.sock")
    conf = t.path("badrl.ini")
    good = ["app = " + app, "fastcgi = unix:" + sock, "workers = 2", "log-level = info"]
    write_conf(t, "badrl.ini", good)
    s = start_plain(t, "badreload", [harness.sluice_bin(), "-c", conf], wait_unix=[sock])
    port, _ = t.start_nginx(fcgi_sock=sock)
    w0 = wait_workers(s.pid, 2, 5)
    t.ok(w0, "bad reload: started from -c CONFIG with 2 workers (%s)" % sorted(w0 or []))
    w0 = w0 or workers_of(s.pid)

    def serving_same(what):
        load_pids = set()
        fails = []
        for _ in range(30):
            try:
                r = harness.http_get(port, "/pid", timeout=10)
                if r.status == 200:
                    load_pids.add(int(r.body))
                else:
                    fails.append(r.status)
                r = harness.http_get(port, "/hello", timeout=10)
                if (r.status, r.body) != (200, HELLO):
                    fails.append(r.status)
            except Exception as e:
                fails.append(repr(e))
        t.ok(not fails and load_pids and load_pids <= w0 and workers_of(s.pid) == w0,
             "bad reload (%s): the same workers %s keep serving /hello (answered by %s)"
             % (what, sorted(w0), sorted(load_pids)), harness.short(fails[:5]))

    # 1. the app does not exist
    n_before = len(s.log_text().splitlines())
    write_conf(t, "badrl.ini", ["app = " + t.path("nonexistent.so")] + good[1:])
    s.signal(signal.SIGHUP)
    msg = wait_log(s, lambda x: [ln for ln in x.splitlines()[n_before:]
                                 if "reload" in ln and ("cannot be loaded" in ln or "failed" in ln)], 5)
    t.ok(msg, "bad reload (missing app): the log says the reload failed / cannot be loaded",
         harness.tail(s.log_text(), 10))
    time.sleep(0.5)
    serving_same("missing app")
    t.ok(s.alive(), "bad reload (missing app): the master is alive")
    # 2. an unknown key
    n_before = len(s.log_text().splitlines())
    write_conf(t, "badrl.ini", good + ["no-such-key = 1"])
    s.signal(signal.SIGHUP)
    msg = wait_log(s, lambda x: [ln for ln in x.splitlines()[n_before:]
                                 if "reload" in ln and "no-such-key" in ln], 5)
    t.ok(msg, "bad reload (unknown key): the log names the key and the failed reload",
         harness.tail(s.log_text(), 10))
    time.sleep(0.5)
    serving_same("unknown key")
    # 3. a good config with workers = 3
    write_conf(t, "badrl.ini", ["app = " + app, "fastcgi = unix:" + sock, "workers = 3",
                                "log-level = info"])
    s.signal(signal.SIGHUP)
    w3 = wait_workers(s.pid, 3, 10, exclude=w0)
    t.ok(w3, "bad reload: a good config with workers = 3 then gives 3 new workers (%s)"
         % sorted(w3 or []), harness.tail(s.log_text(), 10))
    gone = harness.wait_until(lambda: not (workers_of(s.pid) & w0), 10)
    t.ok(gone, "bad reload: the old generation drained")
    r = harness.http_get(port, "/hello")
    t.eq((r.status, r.body), (200, HELLO), "bad reload: /hello after the good reload")


def check_scaling(t, app):
    s, port, _ = sluice_nginx(t, "scale", ["--workers", "2"], app)
    w2 = wait_workers(s.pid, 2, 5)
    load = Load(port, nthreads=4)
    load.wait_ok(50, 5)
    s.signal(signal.SIGTTIN)
    w3 = wait_workers(s.pid, 3, 5)
    t.ok(w3 and w2 and w2 < w3, "SIGTTIN: a third worker appears (%s)" % sorted(w3 or []))
    load.wait_ok(load.ok + 50, 5)
    s.signal(signal.SIGTTOU)
    time.sleep(0.5)
    s.signal(signal.SIGTTOU)
    w1 = wait_workers(s.pid, 1, 10)
    t.ok(w1, "SIGTTOU twice: down to 1 worker (%s)" % sorted(w1 or workers_of(s.pid)),
         harness.tail(s.log_text(), 10))
    load.wait_ok(load.ok + 50, 5)
    ok, fails = load.stop()
    t.ok(ok > 150 and not fails, "SIGTTIN/SIGTTOU under load: no request failed (%d ok, %d "
         "failed)" % (ok, len(fails)), harness.short(fails[:5]))
    t.ok(log_grep(s.log_text(), "SIGTTIN") and log_grep(s.log_text(), "SIGTTOU"),
         "SIGTTIN/SIGTTOU are logged")


def check_crash_storm(t, app):
    s, port, _ = sluice_nginx(t, "crash", ["--workers", "1"], app)
    first = get_pid(port)
    statuses = []
    t0 = time.monotonic()
    for _ in range(6):
        try:
            r = harness.http_get(port, "/crash", timeout=20)
            statuses.append(r.status)
        except Exception as e:
            statuses.append(repr(e))
    dt = time.monotonic() - t0
    t.note("crash: 6 x /crash took %.1f s, answers %s" % (dt, statuses))
    t.ok(all(x in (500, 502, 503, 504) for x in statuses),
         "crash: each /crash gets an error answer from nginx (%s)" % statuses)
    t.ok(s.alive(), "crash: the master is alive after 6 crashes")
    t1 = time.monotonic()
    back = None
    while time.monotonic() - t1 < 8:
        try:
            r = harness.http_get(port, "/hello", timeout=8)
            if (r.status, r.body) == (200, HELLO):
                back = time.monotonic() - t1
                break
        except Exception:
            pass
        time.sleep(0.1)
    t.ok(back is not None and back <= 5.0, "crash: /hello works again within ~5 s (%s s)"
         % ("%.1f" % back if back is not None else "never"))
    text = s.log_text()
    t.ok(log_grep(text, "died within"), "crash: the log says workers 'died within' the window "
         "and respawns slow down", harness.tail(text, 20))
    crash_lines = log_grep(text, "SIGSEGV")
    t.ok(crash_lines, "crash: the crash log line names the signal (SIGSEGV)", harness.tail(text, 20))
    t.ok([ln for ln in crash_lines if "while running" in ln and "/crash" in ln],
         "crash: the crash line names the route ('while running ... /crash')",
         "\n".join(crash_lines[:3]) or harness.tail(text, 10))
    t.ok(log_grep(text, "killed by signal 11"), "crash: the master logs the worker killed by "
         "signal 11")
    t.ok(first is not None and get_pid(port) != first, "crash: a new worker is serving")


def check_limit_concurrency(t, app):
    s, port, _ = sluice_nginx(t, "limit", ["--workers", "1", "--threads", "4",
                                           "--limit-concurrency", "2"], app)
    harness.http_get(port, "/hello")

    def one():
        t0 = time.monotonic()
        r = harness.http_get(port, "/block?ms=1000", timeout=20)
        return r, time.monotonic() - t0

    res = harness.parallel(one, [()] * 6, timeout=30)
    errs = [e for _, e in res if e is not None]
    got = [r for r, _ in (x for x, e in res if e is None)]
    times = [dt for _, dt in (x for x, e in res if e is None)]
    n200 = [i for i, r in enumerate(got) if r.status == 200]
    n503 = [i for i, r in enumerate(got) if r.status == 503]
    t.ok(not errs and len(n503) >= 3 and len(n200) + len(n503) == 6 and n200,
         "limit-concurrency 2: of 6 concurrent /block?ms=1000, %d got 503 and %d got 200"
         % (len(n503), len(n200)), harness.short([(r.status, round(d, 2)) for r, d in
                                                   zip(got, times)] + errs))
    bad = [got[i] for i in n503 if not got[i].header("Retry-After")
           or got[i].media_type != "application/problem+json"]
    t.ok(n503 and not bad, "limit-concurrency: every 503 has Retry-After and is problem+json",
         harness.short(bad[:3]))
    slow = [round(times[i], 2) for i in n503 if times[i] >= 0.5]
    t.ok(n503 and not slow, "limit-concurrency: the 503s arrive at once, well before 1 s "
         "(%s)" % [round(times[i], 2) for i in n503])
    ok200 = [round(times[i], 2) for i in n200]
    t.ok(all(0.9 <= x < 3 for x in ok200), "limit-concurrency: the 200s took ~1 s (%s)" % ok200)


def check_reopen(t, app):
    elog = t.path("reopen-error.log")
    alog = t.path("reopen-access.log")
    sock = t.path("reopen.sock")
    s = t.start_sluice(["--workers", "1", "--error-log", elog, "--access-log", alog,
                        "--fastcgi", "unix:" + sock], app=app, name="reopen")
    port, _ = t.start_nginx(fcgi_sock=sock)
    for i in range(5):
        harness.http_get(port, "/hello?round=1")
    got1 = wait_log(alog, lambda x: x.count("round=1") >= 5, 3)
    t.ok(got1, "reopen: the access log has the first requests",
         harness.tail(harness.read_text(alog), 5))
    os.rename(elog, elog + ".1")
    os.rename(alog, alog + ".1")
    s.signal(signal.SIGUSR1)
    reopened = wait_log(elog, lambda x: "reopened" in x, 3)
    t.ok(reopened and os.path.exists(elog), "reopen: SIGUSR1 creates a new error log that "
         "says 'reopened'", harness.tail(harness.read_text(elog + ".1"), 5))
    time.sleep(0.5)    # the workers take the signal on their own loops
    for i in range(5):
        harness.http_get(port, "/hello?round=2")
    # a new worker writes to the error log too: the lines must go to the new file
    s.signal(signal.SIGTTIN)
    got2 = wait_log(alog, lambda x: x.count("round=2") >= 5, 3)
    t.ok(got2, "reopen: the new access log gets the new request lines",
         "new: %s\nold: %s" % (harness.tail(harness.read_text(alog), 5),
                               harness.tail(harness.read_text(alog + ".1"), 5)))
    t.ok("round=2" not in harness.read_text(alog + ".1"),
         "reopen: the renamed access log does not get the new lines")
    wait_log(elog, lambda x: "worker ready" in x, 5)
    time.sleep(0.3)
    new_e = harness.read_text(elog)
    old_e = harness.read_text(elog + ".1")
    t.ok("started worker" in new_e and "worker ready" in new_e,
         "reopen: the new error log gets the master's and a worker's new lines", new_e)
    t.ok("reopened" not in old_e and "SIGTTIN" not in old_e and old_e.count("started worker") == 1
         and old_e.count("worker ready") == 1,
         "reopen: the renamed error log does not get the new lines", harness.tail(old_e, 8))


def check_files_and_config(t, app):
    # --pidfile
    pidf = t.path("sluice.pid")
    sock = t.path("pidf.sock")
    s = t.start_sluice(["--workers", "1", "--pidfile", pidf, "--fastcgi", "unix:" + sock],
                       app=app, name="pidfile")
    text = harness.wait_until(lambda: harness.read_text(pidf).strip(), 3)
    t.eq(text, str(s.pid), "--pidfile holds the master's pid while running")
    s.signal(signal.SIGTERM)
    rc = s.wait(10)
    t.eq(rc, 0, "--pidfile: SIGTERM stops sluice with exit 0")
    t.ok(not os.path.exists(pidf), "--pidfile: the file is removed after SIGTERM")
    # --chdir with a relative socket path
    d = t.path("chdir-here")
    os.makedirs(d, exist_ok=True)
    s = start_plain(t, "chdir", [harness.sluice_bin(), "--log-level", "info", "--workers", "1",
                                 "--chdir", d, "--fastcgi", "unix:rel.sock", app],
                    wait_unix=[os.path.join(d, "rel.sock")])
    t.ok(harness.unix_connects(os.path.join(d, "rel.sock")) and
         not os.path.exists(t.path("rel.sock")),
         "--chdir DIR: the relative socket unix:rel.sock is created inside DIR")
    r = harness.fcgi_request(os.path.join(d, "rel.sock"), "GET", "/hello")
    t.eq(r.body, HELLO, "--chdir: it serves")
    s.stop()
    # --check-config
    good = write_conf(t, "check-good.ini", ["app = " + app, "fastcgi = unix:" + t.path("cc.sock"),
                                            "workers = 3"])
    r = t.run_cmd([harness.sluice_bin(), "-c", good, "--check-config"], timeout=20)
    out = r.stdout.decode(errors="replace")
    t.eq(r.returncode, 0, "--check-config with a good config exits 0",
         out + r.stderr.decode(errors="replace"))
    t.ok(re.search(r"^workers = 3$", out, re.M), "--check-config prints 'workers = 3'", out)
    t.ok(not os.path.exists(t.path("cc.sock")), "--check-config binds nothing")
    bad = write_conf(t, "check-bad.ini", ["app = " + app, "no-such-key = 1", "workers = 2",
                                          "another-bad-key = x"])
    r = t.run_cmd([harness.sluice_bin(), "-c", bad, "--check-config"], timeout=20)
    err = r.stderr.decode(errors="replace") + r.stdout.decode(errors="replace")
    t.eq(r.returncode, 1, "--check-config with two bad keys exits 1", err)
    t.ok("%s:2:" % bad in err and "no-such-key" in err,
         "--check-config names the first bad key with FILE:2", err)
    t.ok("%s:4:" % bad in err and "another-bad-key" in err,
         "--check-config names the second bad key with FILE:4", err)


def check_user(t, app):
    nobody = pwd.getpwnam("nobody").pw_uid
    s, port, sock = sluice_nginx(t, "user", ["--workers", "2", "--user", "nobody",
                                             "--group", "nogroup"], app)
    ws = wait_workers(s.pid, 2, 5) or set()
    # A worker is forked as root and drops to --user before it loads the
    # app: look once each has had the time to (a slow sanitizer build).
    def dropped():
        u = {w: uid_of(w) for w in ws}
        return u if all(v and v[0] == nobody and v[1] == nobody for v in u.values()) else None
    harness.wait_until(dropped, 10)
    uids = {w: uid_of(w) for w in ws}
    t.ok(ws and all(u and u[0] == nobody and u[1] == nobody for u in uids.values()),
         "--user nobody: the workers run as uid %d (%s)" % (nobody, uids))
    mu = uid_of(s.pid)
    t.ok(mu and mu[0] == 0 and mu[1] == 0, "--user: the master stays root (%s)" % mu)
    fails = []
    for _ in range(20):
        r = harness.http_get(port, "/hello")
        if (r.status, r.body) != (200, HELLO):
            fails.append(r)
    t.ok(not fails, "--user: requests are served through nginx (as root) on the socket",
         harness.short(fails[:3]))
    p = get_pid(port)
    t.ok(p in ws, "--user: the answering worker %s is one of the unprivileged ones" % p)


WRAPPER = r'''
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(64)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)   # survives the exec (dup2(3, 3) would not clear CLOEXEC)
os.environ["LISTEN_PID"] = str(os.getpid())   # exec keeps the pid
os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[2], sys.argv[2:])
'''


def check_systemd(t, app):
    # socket activation: the socket is made by a python wrapper, handed over as fd 3
    sock = t.path("activated.sock")
    wrapper = t.write("activate.py", WRAPPER)
    s = start_plain(t, "activated", [sys.executable, wrapper, sock, harness.sluice_bin(),
                                     "--log-level", "info", "--workers", "1", app],
                    wait_unix=[sock])
    ok = []
    for _ in range(5):
        try:
            r = harness.fcgi_request(sock, "GET", "/hello")
            ok.append(r.body == HELLO)
        except Exception as e:
            ok.append(repr(e))
    t.ok(all(x is True for x in ok), "socket activation: requests on the inherited fd 3 are "
         "served (%s)" % ok, harness.tail(s.log_text(), 10))
    t.ok(log_grep(s.log_text(), "listening", "fd:3"), "socket activation: the log says it "
         "listens on fd:3", harness.tail(s.log_text(), 10))
    t.ok(not os.path.exists(t.path("sluice.sock")), "socket activation: no default socket made")
    s.stop()
    # NOTIFY_SOCKET
    npath = t.path("notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(npath)
    msgs = []

    def recv_until(want, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ns.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                m = ns.recv(4096).decode(errors="replace")
            except socket.timeout:
                break
            msgs.append(m)
            if want in m.split("\n"):
                return True
        return False

    try:
        nsock = t.path("notified.sock")
        env = dict(os.environ, NOTIFY_SOCKET=npath)
        s = start_plain(t, "notify", [harness.sluice_bin(), "--log-level", "info", "--workers",
                                      "2", "--fastcgi", "unix:" + nsock, app],
                        env=env, wait_unix=[nsock])
        t.ok(recv_until("READY=1", 5), "NOTIFY_SOCKET: READY=1 within 5 s (%s)" % msgs)
        del msgs[:]
        s.signal(signal.SIGHUP)
        got_rl = recv_until("RELOADING=1", 5)
        got_ready = got_rl and recv_until("READY=1", 10)
        t.ok(got_rl and got_ready, "NOTIFY_SOCKET: SIGHUP sends RELOADING=1 then READY=1 (%s)"
             % msgs)
        del msgs[:]
        s.signal(signal.SIGTERM)
        t.ok(recv_until("STOPPING=1", 5), "NOTIFY_SOCKET: SIGTERM sends STOPPING=1 (%s)" % msgs)
        t.eq(s.wait(10), 0, "NOTIFY_SOCKET: sluice exits 0")
    finally:
        ns.close()


# --------------------------------------------------------------------------

def build_app(t):
    t.build_app("mgr", MGR_APP, "-O1")
    r = t.run_cmd(["sh", "-c", "nm -D --defined-only mgr.so | grep -w spin_handler"], timeout=20)
    t.ok(r.returncode == 0, "spin_handler is in the app's dynamic symbol table",
         (r.stdout + r.stderr).decode(errors="replace"))
    return t.path("mgr.so")


def section(t, name, fn, app):
    """Run one check; an exception fails it without stopping the others.
    What it started is stopped afterwards."""
    n = len(t.procs)
    t0 = time.monotonic()
    try:
        fn(t, app)
    except Exception as e:
        t.ok(False, "%s: unexpected %s: %s" % (name, type(e).__name__,
                                               str(e).splitlines()[0] if str(e) else ""),
             traceback.format_exc())
    finally:
        for p in t.procs[n:]:
            try:
                p.stop()
            except Exception as e:
                t.note("stopping %s: %r" % (p.name, e))
        t.note("%s: %.1f s" % (name, time.monotonic() - t0))


def main(t):
    harness.need_program("nginx")
    app = build_app(t)
    only = os.environ.get("MANAGER_ONLY", "").split(",")
    for name, fn in (("timeout", check_timeout),
                     ("heartbeat", check_heartbeat),
                     ("max-requests", check_max_requests),
                     ("max-worker-memory", check_max_memory),
                     ("reload", check_reload),
                     ("bad-reload", check_bad_reload),
                     ("scaling", check_scaling),
                     ("crash-storm", check_crash_storm),
                     ("limit-concurrency", check_limit_concurrency),
                     ("reopen", check_reopen),
                     ("files-and-config", check_files_and_config),
                     ("user", check_user),
                     ("systemd", check_systemd)):
        if only != [""] and name not in only:
            continue
        section(t, name, fn, app)


if __name__ == "__main__":
    harness.run("manager", main)
