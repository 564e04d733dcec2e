#!/usr/bin/env python3
"""The worker's life cycle as an application sees it.

- A start hook that fails in every worker: sluice exits 1 at start-up, with
  what the hook wrote to stderr in the log, instead of respawning forever;
  on a reload the old generation keeps serving; a worker that started and
  dies later is replaced as before.
- An application holding its own libuv handles (a referenced uv_async_t, a
  repeating uv_timer_t) and no drain hook: SIGTERM and SIGHUP finish within
  a second or two, and every worker's stop hook runs (its marker written,
  its stderr logged).
- A drain hook runs when the worker begins to stop, while the loop turns: a
  timer it starts fires before the stop hook, while a request finishes.

The application (APP below) is told what to do by files in a control
directory; it writes one line per event ("start PID", "drain PID",
"drain-timer PID", "stop PID") to DIR/events."""
import os
import re
import signal
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP = r'''#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sluice.h>

#define DIR "@DIR@"

/* Static: sluice closes what the app leaves open, without a callback. */
static uv_timer_t tick;
static uv_async_t wake;
static uv_timer_t drain_timer;
static unsigned long ticks;

static void event(const char *what)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%s %ld\n", what, (long)getpid());
    int fd = open(DIR "/events", O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
}

static int flag(const char *name)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", DIR, name);
    return stat(p, &st) == 0;
}

static void on_tick(uv_timer_t *t) { (void)t; ticks++; }
static void on_wake(uv_async_t *a) { (void)a; }

static int start(sl_app *app)
{
    if (flag("fail-start")) {
        fprintf(stderr, "start: cannot reach the database at db.invalid:5432\n");
        return -EIO;
    }
    uv_loop_t *loop = sl_app_loop(app);
    /* Referenced, and never stopped by the app: they would keep the loop
     * alive forever. */
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    uv_async_init(loop, &wake, on_wake);
    event("start");
    return 0;
}

#ifdef WITH_DRAIN
static void on_drain_timer(uv_timer_t *t)
{
    (void)t;
    event("drain-timer");
}

static int drain(sl_app *app)
{
    event("drain");
    uv_timer_init(sl_app_loop(app), &drain_timer);
    uv_timer_start(&drain_timer, on_drain_timer, 50, 0);
    return 0;
}
#endif

static int stop(sl_app *app)
{
    (void)app;
    event("stop");
    fprintf(stderr, "stop: goodbye from %ld after %lu ticks\n", (long)getpid(), ticks);
    return 0;
}

static int pid(sl_req *req)
{
    return sl_resp_printf(req, "%ld\n", (long)getpid());
}

typedef struct sleeper {
    uv_timer_t timer;
    sl_req *req;
} sleeper;

static void sleeper_free(uv_handle_t *h) { free(h->data); }

static void sleep_done(uv_timer_t *t)
{
    sleeper *s = t->data;
    sl_resp_printf(s->req, "slept\n");
    sl_resp_end(s->req);
    uv_close((uv_handle_t *)t, sleeper_free);
}

static int do_sleep(sl_req *req)
{
    const char *q = sl_req_query(req, "ms");
    sleeper *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->req = req;
    uv_timer_init(sl_app_loop(sl_req_app(req)), &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, sleep_done, q ? strtoul(q, NULL, 10) : 0, 0);
    return SL_LATER;
}

int sluice_app(sl_app *app)
{
    sl_on_worker_start(app, start);
#ifdef WITH_DRAIN
    sl_on_worker_drain(app, drain);
#endif
    sl_on_worker_stop(app, stop);
    int rc = sl_route(app, "GET", "/pid", pid, SL_LOOP);
    if (rc == 0)
        rc = sl_route(app, "GET", "/sleep", do_sleep, SL_LOOP);
    return rc;
}
'''


def workers_of(pid):
    return {p for p in harness.children_of(pid) if harness.pid_alive(p)}


def wait_workers(master, n, timeout=10, exclude=()):
    return harness.wait_until(
        lambda: (lambda w: w if len(w) == n else None)(workers_of(master) - set(exclude)),
        timeout)


class Ctl:
    """The app's control directory and its event file."""

    def __init__(self, t):
        self.dir = t.path("ctl")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)

    def set(self, name, on):
        p = os.path.join(self.dir, name)
        if on:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    def events(self):
        out = []
        for ln in harness.read_text(os.path.join(self.dir, "events")).splitlines():
            what, _, pid = ln.partition(" ")
            out.append((what, int(pid)))
        return out

    def of(self, pid):
        return [w for w, p in self.events() if p == pid]


def clean_exits(t, s, what):
    """Every worker of `s` exited with status 0: none crashed or was killed
    on its way out."""
    text = s.log_text()
    exits = re.findall(r"worker \d+ (exited with status \d+|killed by signal \d+)", text)
    bad = [e for e in exits if e != "exited with status 0"]
    t.ok(exits and not bad and "crashed" not in text,
         "%s: every worker exited with status 0 (%d exits)" % (what, len(exits)),
         "\n".join(bad) + "\n" + harness.tail(text, 20))


def get_pid(sock):
    r = harness.fcgi_request(sock, "GET", "/pid", timeout=10)
    return int(r.body) if r.status == 200 else None


def check_failing_start(t, app, ctl):
    ctl.set("fail-start", True)
    sock = t.path("fail.sock")
    s = t.spawn("sluice-failstart", [harness.sluice_bin(), "--log-level", "info", "--workers",
                                     "2", "--fastcgi", "unix:" + sock, app])
    t0 = time.monotonic()
    rc = s.wait(15)
    dt = time.monotonic() - t0
    text = s.log_text()
    t.eq(rc, 1, "failing start hook: sluice exits 1 at start-up (after %.1f s)" % dt,
         harness.tail(text, 15))
    t.ok(dt < 10, "failing start hook: ... within 10 s, not respawning forever")
    lines = text.splitlines()
    reason = [i for i, ln in enumerate(lines)
              if "app: start: cannot reach the database at db.invalid:5432" in ln]
    failed = [i for i, ln in enumerate(lines) if "start hook failed" in ln]
    t.ok(reason and failed and reason[0] < failed[0],
         "failing start hook: what the hook wrote to stderr is logged, before the failure",
         harness.tail(text, 15))
    t.ok([ln for ln in lines if "no worker could start" in ln],
         "failing start hook: the master says no worker could start", harness.tail(text, 15))
    t.eq(text.count("started worker"), 2, "failing start hook: the 2 workers were not respawned")
    t.ok("died within" not in text, "failing start hook: no crash-storm respawning")
    t.ok(not os.path.exists(sock), "failing start hook: the socket is removed")
    ctl.set("fail-start", False)


def check_stop_with_handles(t, app, ctl):
    sock = t.path("handles.sock")
    s = t.start_sluice(["--workers", "2", "--graceful-timeout", "20", "--fastcgi",
                        "unix:" + sock], app=app, name="sluice-handles")
    ws = wait_workers(s.pid, 2, 10) or set()
    harness.wait_until(lambda: all("start" in ctl.of(w) for w in ws), 5)
    t.ok(ws and get_pid(sock) in ws, "handles: 2 workers serve (%s)" % sorted(ws))
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(8)
    dt = time.monotonic() - t0
    t.eq(rc, 0, "handles: SIGTERM: sluice exits 0 (%.2f s)" % dt, harness.tail(s.log_text()))
    t.ok(dt < 2.5, "handles: SIGTERM: within a second or two, though the app holds a "
         "referenced async and a repeating timer (%.2f s, --graceful-timeout 20)" % dt)
    t.ok(ws and all(ctl.of(w)[-1:] == ["stop"] for w in ws),
         "handles: SIGTERM: every worker's stop hook ran", ctl.events())
    text = s.log_text()
    t.ok(ws and all(re.search(r"app: stop: goodbye from %d after \d+ ticks" % w, text) for w in ws),
         "handles: SIGTERM: what the stop hook wrote to stderr is logged", harness.tail(text))
    t.ok("graceful timeout: killing" not in text and "did not drain" not in text,
         "handles: SIGTERM: no worker had to be killed")
    clean_exits(t, s, "handles")


def check_reload_with_handles(t, app, ctl):
    sock = t.path("reload.sock")
    s = t.start_sluice(["--workers", "2", "--graceful-timeout", "20", "--fastcgi",
                        "unix:" + sock], app=app, name="sluice-reload")
    w0 = wait_workers(s.pid, 2, 10) or set()
    t.ok(w0, "reload: 2 workers (%s)" % sorted(w0))
    t0 = time.monotonic()
    s.signal(signal.SIGHUP)
    w1 = wait_workers(s.pid, 2, 10, exclude=w0)
    gone = harness.wait_until(lambda: not (workers_of(s.pid) & w0), 10)
    dt = time.monotonic() - t0
    t.ok(w1 and gone and dt < 3.0, "reload: SIGHUP: the old workers, holding their handles, "
         "are gone within a few seconds (%.2f s, --graceful-timeout 20)" % dt,
         harness.tail(s.log_text()))
    t.ok(w0 and all(ctl.of(w)[-1:] == ["stop"] for w in w0),
         "reload: SIGHUP: every old worker's stop hook ran", ctl.events())
    w1 = w1 or set()
    t.ok(get_pid(sock) in w1, "reload: the new generation serves")

    # a reload whose start hook fails: the old generation keeps serving
    n = len(s.log_text().splitlines())
    ctl.set("fail-start", True)
    s.signal(signal.SIGHUP)
    failed = harness.wait_until(lambda: [ln for ln in s.log_text().splitlines()[n:]
                                         if "reload failed" in ln], 10)
    new = s.log_text().splitlines()[n:]
    t.ok(failed, "failing reload: the log says the reload failed", "\n".join(new[-15:]))
    t.ok([ln for ln in new if "app: start: cannot reach the database" in ln],
         "failing reload: the hook's reason is in the log", "\n".join(new[-15:]))
    ctl.set("fail-start", False)
    time.sleep(0.5)
    pids = {get_pid(sock) for _ in range(10)}
    t.ok(s.alive() and pids <= w1 and workers_of(s.pid) == w1,
         "failing reload: the same workers %s keep serving (%s)" % (sorted(w1), sorted(pids)))

    # a worker that started and served, then dies, is replaced
    victim = sorted(w1)[0]
    os.kill(victim, signal.SIGKILL)
    w2 = wait_workers(s.pid, 2, 10, exclude={victim})
    t.ok(w2 and victim not in w2, "a worker killed later is replaced (%s)" % sorted(w2 or []))
    got = harness.wait_until(lambda: (w2 or set()) - w1 <= {p for p in
                                                            (get_pid(sock) for _ in range(20))}, 5)
    t.ok(got, "the replacement serves")
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(8)
    t.eq(rc, 0, "reload: SIGTERM: exit 0 within %.2f s" % (time.monotonic() - t0))
    text = s.log_text()
    kills = re.findall(r"worker (\d+) killed by signal 9", text)
    t.eq(kills, [str(victim)], "reload: only the worker the test killed died of a signal",
         harness.tail(text, 20))


def check_drain_hook(t, app, ctl):
    sock = t.path("drain.sock")
    s = t.start_sluice(["--workers", "1", "--graceful-timeout", "20", "--fastcgi",
                        "unix:" + sock], app=app, name="sluice-drain")
    ws = wait_workers(s.pid, 1, 10) or set()
    w = next(iter(ws), None)
    harness.wait_until(lambda: "start" in ctl.of(w), 5)
    res = {}

    def slow():
        try:
            res["r"] = harness.fcgi_request(sock, "GET", "/sleep?ms=800", timeout=10)
        except Exception as e:
            res["r"] = e

    th = threading.Thread(target=slow, daemon=True)
    th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(8)
    dt = time.monotonic() - t0
    th.join(5)
    r = res.get("r")
    t.ok(isinstance(r, harness.FCGIResult) and r.status == 200 and r.body == b"slept\n",
         "drain: the request in flight is answered", repr(r))
    t.eq(rc, 0, "drain: sluice exits 0 (%.2f s)" % dt)
    t.eq(ctl.of(w), ["start", "drain", "drain-timer", "stop"],
         "drain: the drain hook ran, a timer it started fired while the loop turned, "
         "then the stop hook")
    clean_exits(t, s, "drain")
    # idle: the drain hook still comes before the stop hook, and the worker
    # does not wait for what the app holds
    s = t.start_sluice(["--workers", "1", "--graceful-timeout", "20", "--fastcgi",
                        "unix:" + sock], app=app, name="sluice-drain-idle")
    w = next(iter(wait_workers(s.pid, 1, 10) or set()), None)
    harness.wait_until(lambda: "start" in ctl.of(w), 5)
    t0 = time.monotonic()
    s.signal(signal.SIGHUP)
    gone = harness.wait_until(lambda: not harness.pid_alive(w), 10)
    dt = time.monotonic() - t0
    ev = ctl.of(w)
    t.ok(gone and dt < 3.0, "drain (idle, SIGHUP): the old worker is gone within %.2f s" % dt)
    t.ok(ev[:2] == ["start", "drain"] and ev[-1:] == ["stop"],
         "drain (idle, SIGHUP): drain, then stop (%s)" % ev)
    s.signal(signal.SIGTERM)
    t.eq(s.wait(8), 0, "drain (idle): SIGTERM: exit 0")
    clean_exits(t, s, "drain (idle)")


def section(t, name, fn, *args):
    n = len(t.procs)
    t0 = time.monotonic()
    try:
        fn(t, *args)
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
    ctl = Ctl(t)
    src = APP.replace("@DIR@", ctl.dir)
    app = t.build_app("life", src)
    drain_app = t.build_app("life_drain", src, "-DWITH_DRAIN")
    section(t, "failing-start", check_failing_start, app, ctl)
    section(t, "stop-with-handles", check_stop_with_handles, app, ctl)
    section(t, "reload-with-handles", check_reload_with_handles, app, ctl)
    section(t, "drain-hook", check_drain_hook, drain_app, ctl)


if __name__ == "__main__":
    harness.run("lifecycle", main)
