#!/usr/bin/env python3
"""Master/worker supervision: a killed worker is replaced; graceful stop."""
import os
import re
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HELLO = b"Hello, world!\n"


def workers_of(pid):
    return {p for p in harness.children_of(pid) if harness.pid_alive(p)}


def test_worker_restart(t):
    sock = t.path("fcgi.sock")
    s = t.start_sluice(["--workers", "2", "--fastcgi", "unix:" + sock], name="sluice-restart")
    port, _ = t.start_nginx(fcgi_sock=sock)
    before = harness.wait_until(lambda: (lambda w: w if len(w) == 2 else None)(workers_of(s.pid)), 5)
    t.ok(before and len(before) == 2, "master %d has 2 workers: %s" % (s.pid, sorted(before or [])))
    if not before:
        return

    stop = threading.Event()
    stats = {"ok": 0, "fail": 0}

    def loop():
        c = harness.HTTPClient(port, timeout=10)
        for _ in range(100000):
            if stop.is_set():
                break
            try:
                r = c.get("/hello")
                stats["ok" if r.status == 200 and r.body == HELLO else "fail"] += 1
            except Exception:
                stats["fail"] += 1
                time.sleep(0.01)
        c.close()

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    harness.wait_until(lambda: stats["ok"] >= 20, 10)
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    t.note("SIGKILL sent to worker %d" % victim)
    new = harness.wait_until(lambda: workers_of(s.pid) - before, 5)
    t.ok(new, "a new worker appears within 5 s (new: %s)" % sorted(new or []))
    t.ok(not harness.pid_alive(victim), "the killed worker %d is gone" % victim)
    time.sleep(0.3)
    stop.set()
    th.join(15)
    t.note("requests during the kill: %d ok, %d failed" % (stats["ok"], stats["fail"]))
    t.ok(s.alive(), "the master is still running")

    fails = []
    c = harness.HTTPClient(port, timeout=10)
    for i in range(50):
        try:
            r = c.get("/hello")
            if r.status != 200 or r.body != HELLO:
                fails.append((i, r))
        except Exception as e:
            fails.append((i, e))
    c.close()
    t.ok(not fails, "the final 50 requests all succeed", harness.short(fails[:5]))
    for i in range(20):
        try:
            r = harness.fcgi_request(sock, "GET", "/hello")
            if r.body != HELLO:
                fails.append(("raw", i, r))
        except Exception as e:
            fails.append(("raw", i, e))
    t.ok(not fails, "20 new raw FastCGI connections all served", harness.short(fails[:5]))

    pat = re.compile(r"\b%d\b" % victim)
    lines = harness.wait_until(lambda: [ln for ln in s.log_text().splitlines()
                                        if pat.search(ln) and re.search(r"signal|kill", ln, re.I)], 3)
    t.ok(lines, "the log names the dead worker %d and the signal" % victim,
         harness.tail(s.log_text(), 15))


def test_graceful(t):
    sock = t.path("grace.sock")
    s = t.start_sluice(["--workers", "2", "--graceful-timeout", "10", "--fastcgi", "unix:" + sock],
                       name="sluice-graceful")
    # directly over FastCGI first; behind nginx in test_graceful_nginx
    results = [None] * 5

    def one(i):
        try:
            results[i] = harness.fcgi_request(sock, "GET", "/sleep?ms=1500", timeout=20)
        except Exception as e:
            results[i] = e

    ths = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(5)]
    for th in ths:
        th.start()
    time.sleep(0.4)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(12)
    dt = time.monotonic() - t0
    for th in ths:
        th.join(10)
    okc = [r for r in results if isinstance(r, harness.FCGIResult) and r.status == 200
           and r.body == b'{"slept_ms":1500}']
    t.eq(len(okc), 5, "all 5 in-flight /sleep?ms=1500 answered 200 after SIGTERM")
    if len(okc) != 5:
        t.note(harness.short(results))
    t.eq(rc, 0, "master exits 0 after SIGTERM (%.2f s, --graceful-timeout 10)" % dt)
    t.ok(dt < 10.5, "...within the graceful timeout")
    t.ok(not os.path.exists(sock), "the socket file is removed")
    # the workers are gone too
    left = harness.group_members(s.pid)
    t.ok(not left, "no process of the sluice group is left", left)


def test_graceful_nginx(t):
    """The same behind nginx (keepalive upstream connections must not hold the stop)."""
    sock = t.path("grace2.sock")
    s = t.start_sluice(["--workers", "2", "--graceful-timeout", "10", "--fastcgi", "unix:" + sock],
                       name="sluice-graceful-nginx")
    port, _ = t.start_nginx(fcgi_sock=sock)
    for _ in range(20):     # fill nginx's keepalive cache
        harness.http_get(port, "/hello")
    res = [None] * 5

    def one(i):
        try:
            res[i] = harness.http_get(port, "/sleep?ms=1500", timeout=20)
        except Exception as e:
            res[i] = e

    ths = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(5)]
    for th in ths:
        th.start()
    time.sleep(0.4)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(12)
    dt = time.monotonic() - t0
    for th in ths:
        th.join(10)
    okc = [r for r in res if isinstance(r, harness.Response) and r.status == 200]
    t.eq(len(okc), 5, "behind nginx: all 5 in-flight requests answered 200 after SIGTERM")
    t.eq(rc, 0, "behind nginx: master exits 0 (%.2f s)" % dt)
    t.ok(dt < 5.0, "behind nginx: idle keepalive connections do not delay the stop")


def test_other_signals(t):
    for name in ("SIGINT", "SIGQUIT"):
        sock = t.path("%s.sock" % name.lower())
        s = t.start_sluice(["--workers", "2", "--fastcgi", "unix:" + sock], name="sluice-" + name.lower())
        r = harness.fcgi_request(sock, "GET", "/hello")
        t.eq(r.body, HELLO, "%s test instance serves" % name)
        s.signal(getattr(signal, name))
        rc = s.wait(12)
        t.eq(rc, 0, "%s stops sluice with exit 0" % name)
        t.ok(not os.path.exists(sock), "%s: the socket file is removed" % name)


def main(t):
    test_worker_restart(t)
    test_graceful(t)
    test_graceful_nginx(t)
    test_other_signals(t)


harness.run("process", main)
