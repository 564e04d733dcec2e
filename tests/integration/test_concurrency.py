#!/usr/bin/env python3
"""One worker with one pool thread serves 200 concurrent sleeping requests."""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

N = 200


def main(t):
    sock = t.path("fcgi.sock")
    s = t.start_sluice(["--workers", "1", "--threads", "1", "--fastcgi", "unix:" + sock])
    port, _ = t.start_nginx(fcgi_sock=sock)
    r = harness.http_get(port, "/hello")
    t.eq(r.status, 200, "warm-up GET /hello")
    wpid = min(harness.wait_until(lambda: harness.children_of(s.pid), 5) or {0})
    # Anonymous memory: pages of code that the burst runs for the first
    # time (libc's formatting, say) stay mapped, and are not what it held.
    rss0 = harness.rss_anon_kb(wpid) or 0

    t0 = time.monotonic()
    res = harness.parallel(lambda: harness.http_get(port, "/sleep?ms=200", timeout=30),
                           [()] * N, timeout=40)
    dt = time.monotonic() - t0
    good = [r for r, e in res if e is None and r.status == 200 and r.body == b'{"slept_ms":200}']
    bad = [(r, e) for r, e in res if not (e is None and r.status == 200 and r.body == b'{"slept_ms":200}')]
    t.eq(len(good), N, "%d concurrent GET /sleep?ms=200 all answered 200 {\"slept_ms\":200}" % N)
    if bad:
        t.note("first failures: %s" % harness.short(bad[:5]))
    t.ok(dt < 10.0, "...within 10 s in total (took %.2f s; one held thread would need %d s)" % (dt, N * 200 // 1000))

    # The memory a burst held is given back once the worker is idle: after a
    # second of idleness, at least half of what the worker grew by.
    rss_peak = [rss0]

    def sample():
        time.sleep(0.7)
        rss_peak[0] = max(rss_peak[0], harness.rss_anon_kb(wpid) or 0)
    burst = lambda: harness.http_get(port, "/sleep?ms=1500", timeout=30)  # noqa: E731
    res = harness.parallel(lambda f: f(), [(burst,)] * N + [(sample,)], timeout=40)
    t.eq(sum(1 for r, e in res[:N] if e is None and r.status == 200), N,
         "a second burst of %d GET /sleep?ms=1500 all answered 200" % N)
    time.sleep(1.6)
    rss1 = harness.rss_anon_kb(wpid) or 0
    grew = rss_peak[0] - rss0
    diag = "RssAnon %d kB before, %d kB with the requests held, %d kB after a second idle" % (rss0, rss_peak[0], rss1)
    if os.environ.get("SLUICE_SANITIZERS"):
        # AddressSanitizer's allocator holds freed memory in its quarantine.
        t.note("not measured under the sanitizers: memory given back after a burst (%s)" % diag)
    else:
        t.ok(grew > 0 and rss1 - rss0 <= grew / 2,
             "after a burst of %d held requests the idle worker gave memory back" % N, diag)

    t0 = time.monotonic()
    r = harness.http_get(port, "/block?ms=100")
    dt = time.monotonic() - t0
    t.eq((r.status, r.body), (200, b'{"blocked_ms":100}'), "GET /block?ms=100")
    t.ok(0.09 <= dt < 5.0, "GET /block?ms=100 took about 100 ms (%.3f s)" % dt)

    res = harness.parallel(lambda: harness.http_get(port, "/block?ms=50", timeout=30), [()] * 4, timeout=30)
    t.ok(all(e is None and r.status == 200 and json.loads(r.body) == {"blocked_ms": 50} for r, e in res),
         "4 concurrent GET /block?ms=50 on one pool thread all answered", harness.short(res))

    r = harness.http_get(port, "/hello")
    t.eq((r.status, r.body), (200, b"Hello, world!\n"), "still serving afterwards")


harness.run("concurrency", main)
