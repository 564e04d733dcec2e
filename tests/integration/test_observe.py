#!/usr/bin/env python3
"""Observability through a real nginx: the health, status and metrics
endpoints, the access log (text and json), request ids, slow-request
backtraces, the app's stderr in the error log, the json error log, and the
crash report of a worker that dies in a handler.

It builds its own app (cc + pkg-config) and runs sluice in these ways:

  run A: --log-format text, access log in the default text format,
         --threads 1 (so two /block requests per worker fill every pool);
  run B: --log-format json --access-log-format json --timeout 1;
  run C: a method with a newline and bytes past ASCII, in the text and the
         json error log (slow-request, backtrace and timeout lines);
  run D: made-up methods against the route table of the metrics.

The Prometheus text is parsed by prometheus_client's parser, run as
`/usr/bin/python3` (Debian's python3-prometheus-client), reading the text
from stdin; a missing parser is a failure, never a skip.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FCGIConnection  # noqa: E402

APP = r'''#include <sluice.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int hello(sl_req *req)
{
    return sl_resp_printf(req, "hello\n");
}

/* Sleeps in usleep() slices until the deadline, so a signal (the slow-request
 * backtrace) does not cut the sleep short. */
static void sleep_ms(long ms)
{
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ms / 1000;
    end.tv_nsec += (ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = (long)(end.tv_sec - now.tv_sec) * 1000000L + (end.tv_nsec - now.tv_nsec) / 1000;
        if (left <= 0)
            return;
        usleep((useconds_t)(left > 100000 ? 100000 : left));
    }
}

/* Not static: the slow-request backtrace must show its name. */
int block_handler(sl_req *req)
{
    const char *ms = sl_req_query(req, "ms");
    long v = ms ? strtol(ms, NULL, 10) : 100;
    if (v < 0 || v > 60000)
        return sl_resp_problem(req, 400, "ms out of range");
    sleep_ms(v);
    return sl_resp_printf(req, "slept %ld ms\n", v);
}

static int items(sl_req *req)
{
    int64_t id;
    int rc = sl_req_path_int(req, "id", &id);
    if (rc < 0)
        return rc;
    return sl_resp_printf(req, "%" PRId64 "\n", id);
}

static int warn(sl_req *req)
{
    fprintf(stderr, "app says hello\n");
    fflush(stderr);
    return sl_resp_printf(req, "warned\n");
}

static int rid(sl_req *req)
{
    return sl_resp_printf(req, "%s", sl_req_id(req));
}

static int crash(sl_req *req)
{
    (void)req;
    int *volatile p = NULL;
    *p = 42;
    return SL_OK;
}

/* Any method: slow enough for --slow-request-ms and --timeout 1. */
static int slow_any(sl_req *req)
{
    sleep_ms(1300);
    return sl_resp_printf(req, "slow\n");
}

static int any(sl_req *req)
{
    return sl_resp_printf(req, "any\n");
}

int sluice_app(sl_app *app)
{
    int rc = sl_route(app, "GET", "/hello", hello, SL_LOOP);
    rc |= sl_route(app, "*", "/slow/{rest:path}", slow_any, SL_POOL);
    rc |= sl_route(app, "*", "/any", any, SL_LOOP);
    rc |= sl_route(app, "GET", "/block", block_handler, SL_POOL);
    rc |= sl_route(app, "GET", "/items/{id:int}", items, SL_LOOP);
    rc |= sl_route(app, "GET", "/warn", warn, SL_POOL);
    rc |= sl_route(app, "GET", "/rid", rid, SL_LOOP);
    rc |= sl_route(app, "GET", "/crash", crash, SL_POOL);
    return rc;
}
'''

PROM_PARSER = r'''
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name,
                    "labels": dict(s.labels), "value": s.value})
print(json.dumps(out))
'''

SYS_PYTHON = "/usr/bin/python3"

# A REQUEST_URI no web server would pass on as is: a double quote, a raw
# newline and bytes that are not UTF-8, all in the query (the path is /hello).
ODD_URI = b'/hello?q="x\ny\xff\xfez'
ODD_TEXT = r'/hello?q=\x22x\x0ay\xff\xfez'          # the text access log
ODD_JSON = '/hello?q="x\ny\\xff\\xfez'              # the json "uri", decoded

TEXT_LINE = re.compile(r'^(\S+) - \[([^\]]+)\] "(\S+) ([^"]*)" (\d{3}) (\d+) (\d+)us '
                       r'queue=(\d+)us route="([^"]*)" pid=(\d+) id=(\S+)$')
JSON_FIELDS = ("remote", "method", "uri", "status", "bytes", "duration_us", "queue_us",
               "route", "pid", "request_id", "time")
REASONS = ("crash", "heartbeat", "max_requests", "max_memory", "stuck", "reload", "scale")


# --------------------------------------------------------------------------

class Client:
    """Requests through nginx (and raw FastCGI ones to sluice's socket),
    counted: the access log must have exactly one line per request."""

    def __init__(self, port, sock):
        self.port = port
        self.sock = sock
        self.n = 0
        self.unlogged = 0       # requests that cannot have a line (a crash)
        self._lock = threading.Lock()

    def count(self, n=1):
        with self._lock:
            self.n += n

    def get(self, path, headers=None, timeout=30):
        self.count()
        return harness.http_get(self.port, path, headers=headers, timeout=timeout)

    def fcgi(self, uri, extra=None, timeout=10):
        self.count()
        return harness.fcgi_request(self.sock, "GET", uri, timeout=timeout, extra=extra)

    def status(self, full=False):
        r = self.get("/status?full" if full else "/status")
        if r.status != 200:
            raise RuntimeError("GET /status: %r" % r)
        return r.json()

    def status_or_none(self, full=False):
        try:
            return self.status(full)
        except Exception:
            return None


def build_app(t):
    return t.build_app("obs", APP, "-g")


def parse_metrics(t, text):
    """Samples as dicts (family, type, name, labels, value), or None."""
    if not os.access(SYS_PYTHON, os.X_OK):
        t.ok(False, "%s exists to run prometheus_client's parser" % SYS_PYTHON)
        return None
    try:
        r = t.run_cmd([SYS_PYTHON, "-c", PROM_PARSER], input=text.encode(), timeout=30)
    except subprocess.TimeoutExpired:
        t.ok(False, "prometheus_client's parser finishes within 30 s")
        return None
    ok = r.returncode == 0
    t.ok(ok, "/metrics parses with prometheus_client's text_string_to_metric_families "
         "(%s; install python3-prometheus-client)" % SYS_PYTHON,
         r.stderr.decode(errors="replace") + "\n" + text[:1500])
    return json.loads(r.stdout.decode()) if ok else None


def sample(samples, name, **labels):
    """The value of the sample `name` whose labels include `labels`; None if
    none, a list if several."""
    hits = [s["value"] for s in samples if s["name"] == name and
            all(s["labels"].get(k) == v for k, v in labels.items())]
    return hits[0] if len(hits) == 1 else (None if not hits else hits)


def workers_of(pid):
    return {p for p in harness.children_of(pid) if harness.pid_alive(p)}


def detail_pids(st):
    return sorted(w.get("pid") for w in (st or {}).get("workers_detail", []))


def all_ready(st, n=2):
    ws = (st or {}).get("workers_detail", [])
    return st if len(ws) == n and all(w.get("state") in ("ready", "busy") for w in ws) else None


def log_since(path, mark):
    return harness.read_text(path)[mark:]


def wait_log(path, mark, pred, timeout=5.0):
    """Wait until pred(new text) is true; returns the new text."""
    harness.wait_until(lambda: pred(log_since(path, mark)), timeout)
    return log_since(path, mark)


def log_excerpt(text, needle, before=2, after=12):
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if needle in ln:
            return "\n".join(lines[max(0, i - before):i + after])
    return harness.tail(text, 20)


def common_args(sock, access, errlog):
    return ["--workers", "2", "--health-path", "/healthz", "--status-path", "/status",
            "--metrics-path", "/metrics", "--access-log", access, "--error-log", errlog,
            "--slow-request-ms", "300", "--fastcgi", "unix:" + sock]


# --------------------------------------------------------------------------
# Run A: text logs

def check_status_counts(t, cl, s):
    n_hello = 25
    for i in range(n_hello):
        r = cl.get("/hello")
        if r.status != 200 or r.body != b"hello\n":
            t.ok(False, "GET /hello #%d through nginx" % i, repr(r))
            break
    r = cl.get("/status")
    t.eq(r.status, 200, "/status through nginx: 200")
    t.eq(r.media_type, "application/json", "/status is application/json")
    try:
        st = r.json()
    except ValueError as e:
        t.ok(False, "/status is JSON: %s" % e, r.body[:500])
        return None
    t.eq(st.get("accepted_requests"), n_hello + 1,
         "accepted_requests after 25 /hello and this /status on a fresh sluice", json.dumps(st))
    t.eq((st.get("workers") or {}).get("total"), 2, "workers.total == 2", json.dumps(st))
    restarts = st.get("restarts") or {}
    t.ok(restarts and all(v == 0 for v in restarts.values()),
         "every restart counter is 0 on a fresh pool: %s" % json.dumps(restarts))
    t.eq(st.get("draining"), False, "\"draining\": false while serving")

    st = harness.wait_until(lambda: all_ready(cl.status_or_none(full=True)), 5)
    t.ok(st is not None, "/status?full: workers_detail has 2 ready workers", json.dumps(st))
    real = sorted(workers_of(s.pid))
    t.eq(detail_pids(st), real, "/status?full: the workers' pids are the master's children")
    return n_hello


def check_health(t, cl):
    r = cl.get("/healthz")
    t.eq((r.status, r.body), (200, b"ok\n"), "/healthz through nginx: 200 \"ok\"")


def check_metrics(t, cl, n_hello):
    r = cl.get("/nope")
    t.eq(r.status, 404, "GET /nope: 404")
    r = cl.get("/items/abc")
    t.eq(r.status, 422, "GET /items/abc: 422")
    r = cl.get("/items/7")
    t.eq((r.status, r.body), (200, b"7\n"), "GET /items/7: 200 \"7\"")
    r = cl.get("/block?ms=250")
    t.eq(r.status, 200, "GET /block?ms=250: 200")

    r = cl.get("/metrics")
    t.eq(r.status, 200, "/metrics through nginx: 200")
    ct = r.ctype or ""
    t.ok(ct.replace(" ", "").startswith("text/plain;version=0.0.4"),
         "/metrics Content-Type is text/plain; version=0.0.4 (%s)" % ct)
    text = r.body.decode("utf-8", "replace")
    samples = parse_metrics(t, text)
    if samples is None:
        return
    diag = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))[:3000]
    t.eq(sample(samples, "sluice_requests_total", route="/hello", method="GET", status="2xx"),
         n_hello, 'sluice_requests_total{route="/hello",method="GET",status="2xx"} == '
         'the /hello requests made', diag)
    t.eq(sample(samples, "sluice_requests_total", route="unmatched", status="4xx"), 2,
         'the 404 (/nope) and the 422 (/items/abc) count under route="unmatched",status="4xx"',
         diag)
    t.eq(sample(samples, "sluice_requests_total", route="/items/{id:int}", method="GET",
                status="2xx"), 1, "GET /items/7 counts under its route pattern", diag)
    cnt = sample(samples, "sluice_request_duration_seconds_count", route="/block", method="GET")
    sm = sample(samples, "sluice_request_duration_seconds_sum", route="/block", method="GET")
    inf = sample(samples, "sluice_request_duration_seconds_bucket", route="/block",
                 method="GET", le="+Inf")
    t.eq(cnt, 1, "the /block histogram has count 1 after one /block request", diag)
    t.ok(isinstance(sm, float) and 0.2 <= sm < 5, "its _sum is >= 0.2 s for ms=250 (%r)" % sm)
    t.eq(inf, cnt, "its +Inf bucket equals its count")
    states = [s for s in samples if s["name"] == "sluice_workers"]
    t.eq(sum(s["value"] for s in states), 2, "sluice_workers{state=...} sums to 2",
         json.dumps(states))
    reasons = {s["labels"].get("reason"): s["value"] for s in samples
               if s["name"] == "sluice_worker_restarts_total"}
    t.ok(all(reasons.get(x) == 0 for x in REASONS),
         "sluice_worker_restarts_total has every reason, all 0: %s" % json.dumps(reasons))


def check_busy_status(t, cl):
    res = {}
    th = threading.Thread(target=lambda: res.update(r=cl.get("/block?ms=2000")), daemon=True)
    th.start()

    def busy():
        st = cl.status_or_none(full=True)
        for w in (st or {}).get("workers_detail", []):
            if (w.get("state") == "busy" and "/block" in (w.get("current_route") or "")
                    and (w.get("current_elapsed_ms") or 0) > 0):
                return (w, st)
        return None
    got = harness.wait_until(busy, 1.8, interval=0.1)
    t.ok(got, "/status?full during /block?ms=2000: a busy worker with current_route "
         "\"GET /block\" and current_elapsed_ms > 0", json.dumps(got[1] if got else None))
    if got:
        t.eq(got[0].get("current_route"), "GET /block", "current_route is \"GET /block\"")
    th.join(10)
    t.eq(getattr(res.get("r"), "status", None), 200, "the /block?ms=2000 request: 200")


def check_health_under_load(t, cl):
    """--threads 1.  Two /block?ms=3000 multiplexed on one raw FastCGI
    connection fill the pool of the worker holding it (one running, one
    queued); a /healthz sent on that same connection is answered by that
    worker, on its loop, at once.  Two more /block?ms=3000 go through nginx,
    and /healthz through nginx answers at once too.  (Which worker accepts a
    connection is up to the kernel, so only the raw connection pins one.)"""
    results = []
    ths = []
    c = FCGIConnection(cl.sock, timeout=20)
    try:
        cl.count(2)
        c.start(1, "GET", "/block?ms=3000")
        c.start(2, "GET", "/block?ms=3000")
        for _ in range(2):
            th = threading.Thread(
                target=lambda: results.append(cl.get("/block?ms=3000", timeout=40)), daemon=True)
            th.start()
            ths.append(th)

        def loaded():
            st = cl.status_or_none(full=True)
            fl = [w.get("in_flight") or 0 for w in (st or {}).get("workers_detail", [])]
            # four /block and this /status itself
            return st if len(fl) == 2 and sum(fl) >= 5 and max(fl) >= 2 else None
        st = harness.wait_until(loaded, 2.0, interval=0.1)
        t.ok(st, "four /block?ms=3000 in flight, two of them on one worker with 1 pool thread",
             json.dumps(cl.status_or_none(full=True)))
        if st:
            t.note("in flight per worker (this /status included): %s"
                   % [w.get("in_flight") for w in st["workers_detail"]])
        cl.count()
        t0 = time.monotonic()
        r = c.request("GET", "/healthz", req_id=3, timeout=5)
        el = time.monotonic() - t0
        t.eq((r.status, r.body), (200, b"ok\n"), "/healthz on the connection whose worker's "
             "pool thread is busy (and one more request queued): 200 \"ok\"")
        t.ok(el < 0.5, "... answered in < 0.5 s (%.3f s)" % el)
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            r = cl.get("/healthz", timeout=5)
            times.append(time.monotonic() - t0)
            if (r.status, r.body) != (200, b"ok\n"):
                t.ok(False, "/healthz through nginx under load: 200 ok", repr(r))
                break
        t.ok(max(times) < 0.5, "/healthz through nginx answers in < 0.5 s under load (%s s)"
             % ", ".join("%.3f" % x for x in times))
        res = c.wait([1, 2], timeout=20)
        t.eq([res[1].status, res[2].status], [200, 200], "the two multiplexed /block?ms=3000: 200")
    finally:
        c.close()
    for th in ths:
        th.join(40)
    t.eq(sorted(r.status for r in results), [200, 200], "the two /block?ms=3000 via nginx: 200")


def check_request_ids(t, cl):
    r = cl.get("/rid", headers={"X-Request-ID": "abc-123"})
    t.eq(r.body, b"abc-123", "X-Request-ID: abc-123 through nginx: sl_req_id() is abc-123")
    t.eq(r.header("X-Request-ID"), "abc-123", "the response carries X-Request-ID: abc-123")
    ids = []
    for _ in range(20):
        r = cl.get("/rid")
        ids.append((r.header("X-Request-ID"), r.body.decode(errors="replace")))
    hdr = [h for h, _ in ids]
    t.ok(all(hdr) and len(set(hdr)) == 20,
         "without the header: a generated X-Request-ID, unique across 20 requests", ids)
    t.ok(all(h == b for h, b in ids), "the generated id is the one sl_req_id() returns")
    return hdr


def check_odd_uri(t, cl):
    r = cl.fcgi("/hello", extra={"REQUEST_URI": ODD_URI})
    t.eq(r.status, 200, "raw FastCGI request with '\"', '\\n', \\xff\\xfe in REQUEST_URI: 200")


def check_slow(t, cl, errlog):
    mark = len(harness.read_text(errlog))
    r = cl.get("/block?ms=800")
    t.eq(r.status, 200, "GET /block?ms=800: 200")
    new = wait_log(errlog, mark, lambda x: "block_handler" in x, 3)
    m = re.search(r"slow request: GET /block \(route /block\b[^\n]*", new)
    t.ok(m, "error log: \"slow request\" for GET /block with its route",
         harness.tail(new, 30))
    after = new[m.start():] if m else new
    i = after.find("backtrace of thread")
    t.ok(i >= 0, "error log: a backtrace (\"backtrace of thread\") follows", harness.tail(new, 30))
    t.ok(i >= 0 and "block_handler" in after[i:],
         "the backtrace shows block_handler", after[:3000])


def check_app_stderr(t, cl, errlog, master):
    mark = len(harness.read_text(errlog))
    r = cl.get("/warn")
    t.eq((r.status, r.body), (200, b"warned\n"), "GET /warn: 200")
    new = wait_log(errlog, mark, lambda x: "app says hello" in x, 3)
    m = re.search(r"^.*sluice\[(\d+)\][^\n]*app: app says hello$", new, re.M)
    t.ok(m, "error log: a line \"app: app says hello\" for the app's stderr", harness.tail(new))
    if m:
        pid = int(m.group(1))
        t.ok(pid in workers_of(master.pid),
             "its prefix has a worker's pid (%d; workers %s)" % (pid, sorted(workers_of(master.pid))),
             m.group(0))


def check_sigkill(t, cl, s):
    st = harness.wait_until(lambda: all_ready(cl.status_or_none(full=True)), 5)
    if not t.ok(st, "two ready workers before the SIGKILL", json.dumps(st)):
        return
    victim = detail_pids(st)[0]
    os.kill(victim, signal.SIGKILL)
    t.note("SIGKILL sent to worker %d" % victim)

    def replaced():
        st = all_ready(cl.status_or_none(full=True))
        if st and st.get("restarts", {}).get("crash") == 1 and victim not in detail_pids(st):
            return st
        return None
    st = harness.wait_until(replaced, 10, interval=0.1)
    last = cl.status_or_none(full=True)
    t.ok(st, "after SIGKILL of a worker: restarts.crash == 1 and a new worker is ready",
         json.dumps(last))
    if st:
        t.ok(all(v == 0 for k, v in st["restarts"].items() if k != "crash"),
             "no other restart reason counted: %s" % json.dumps(st["restarts"]))
        t.eq(detail_pids(st), sorted(workers_of(s.pid)),
             "workers_detail pids are the master's children again")


def check_drain(t, cl, s, sock):
    """SIGTERM while a request is in flight on a kept connection: a health
    check sent on that connection afterwards says 503 draining."""
    c = FCGIConnection(sock, timeout=10)
    try:
        cl.count()
        c.start(1, "GET", "/block?ms=2000")
        time.sleep(0.4)
        s.signal(signal.SIGTERM)
        time.sleep(0.4)
        r2 = None
        try:
            cl.count()
            c.start(2, "GET", "/healthz")
            r2 = c.wait([2], timeout=3)[2]
        except Exception as e:
            t.ok(False, "after SIGTERM: /healthz on a connection with a request in flight "
                 "is answered (%s: %s)" % (type(e).__name__, e))
        if r2 is not None:
            t.eq((r2.status, r2.body), (503, b"draining\n"),
                 "after SIGTERM: /healthz says 503 \"draining\"")
        try:
            r1 = c.wait([1], timeout=5)[1]
            t.eq(r1.status, 200, "the in-flight /block?ms=2000 still completes after SIGTERM")
        except Exception as e:
            t.ok(False, "the in-flight /block?ms=2000 completes after SIGTERM (%s)" % e)
    finally:
        c.close()
    rc = s.wait(15)
    t.eq(rc, 0, "sluice exits 0 after the graceful stop")


def check_text_access_log(t, cl, access, gen_ids):
    want = cl.n
    harness.wait_until(lambda: len(harness.read_text(access).splitlines()) >= want, 3)
    raw = open(access, "rb").read()
    lines = raw.decode("utf-8", "replace").splitlines()
    t.eq(len(lines), want, "text access log: one line per request made (%d)" % want,
         "\n".join(lines[-10:]))
    bad = [ln for ln in lines if not TEXT_LINE.match(ln)]
    t.ok(not bad, "every access log line has the default format", "\n".join(bad[:10]))
    t.ok(all(b < 0x80 for b in raw), "the text access log is pure ASCII")
    odd = [ln for ln in lines if "?q=" in ln]
    t.eq(len(odd), 1, "the odd-URI request has exactly one line", "\n".join(odd))
    if odd:
        t.ok(ODD_TEXT in odd[0], "its URI is on the line as %s (\\x22 \\x0a \\xff escapes)"
             % ODD_TEXT, odd[0])
    rid = [ln for ln in lines if 'route="/rid"' in ln and ln.endswith(" id=abc-123")]
    t.eq(len(rid), 1, "the X-Request-ID: abc-123 request's line has id=abc-123",
         "\n".join(ln for ln in lines if "/rid" in ln)[:2000])
    logged = {m.group(11) for m in map(TEXT_LINE.match, lines) if m}
    t.ok(set(gen_ids) <= logged, "the generated ids are the ones in the access log")


def run_text(t, app):
    sock = t.path("a.sock")
    access = t.path("a-access.log")
    errlog = t.path("a-error.log")
    t.extra_logs.append(errlog)
    s = t.start_sluice(common_args(sock, access, errlog) + ["--threads", "1", "--log-format",
                                                            "text"], app=app, name="sluice-text")
    port, _ = t.start_nginx(fcgi_sock=sock)
    cl = Client(port, sock)

    t.note("-- run A: --log-format text, text access log, --threads 1")
    n_hello = check_status_counts(t, cl, s)
    check_health(t, cl)
    check_metrics(t, cl, n_hello)
    check_busy_status(t, cl)
    check_health_under_load(t, cl)
    gen_ids = check_request_ids(t, cl)
    check_odd_uri(t, cl)
    check_slow(t, cl, errlog)
    check_app_stderr(t, cl, errlog, s)
    check_sigkill(t, cl, s)
    check_drain(t, cl, s, sock)
    check_text_access_log(t, cl, access, gen_ids)


# --------------------------------------------------------------------------
# Run B: json logs, --timeout 1, a crash

def check_crash(t, cl, s, errlog):
    mark = len(harness.read_text(errlog))
    before = workers_of(s.pid)
    # Raw FastCGI, not through nginx: nginx retries a request whose cached
    # upstream connection fails, which could crash a second worker.
    cl.count()      # its line comes from the master, status 502
    try:
        r = harness.fcgi_request(cl.sock, "GET", "/crash", timeout=5)
        t.ok(False, "GET /crash: the worker dies, no answer", repr(r))
    except (ConnectionError, OSError) as e:
        t.ok(True, "GET /crash: the connection drops (%s)" % type(e).__name__)
    new = wait_log(errlog, mark, lambda x: "crashed with signal" in x and "killed by signal" in x, 5)
    m = re.search(r"crashed with signal 11 \(SIGSEGV\)[^\n]*", new)
    t.ok(m, "error log: \"crashed with signal 11 (SIGSEGV)\"", log_excerpt(new, "crash"))
    t.ok(m and "while running" in m.group(0) and "/crash" in m.group(0),
         "the crash line names what the thread was running (\"while running GET /crash\")",
         log_excerpt(new, "crashed with signal"))
    excerpt = new[new.find("crashed with signal"):] if m else new
    t.ok(m and "backtrace of thread" in excerpt, "a backtrace follows the crash line",
         excerpt[:2000])

    def replaced():
        st = all_ready(cl.status_or_none(full=True))
        if st and st.get("restarts", {}).get("crash") == 1 and set(detail_pids(st)) != before:
            return st
        return None
    st = harness.wait_until(replaced, 10, interval=0.1)
    t.ok(st, "after the crash: restarts.crash == 1 in /status and a new worker is ready",
         json.dumps(cl.status_or_none(full=True)))


def check_timeout_504(t, cl):
    # ms=1800, not 3000: with --timeout 1 the handler would still hold its
    # thread at 2 s (twice --timeout) and the worker would retire as "stuck".
    t0 = time.monotonic()
    r = cl.get("/block?ms=1800")
    el = time.monotonic() - t0
    t.eq(r.status, 504, "GET /block?ms=1800 with --timeout 1: 504 through nginx")
    t.ok(el < 1.7, "the 504 comes at the deadline, not when the handler returns (%.2f s)" % el)
    # Let the handler finish (1.8 s after it started): its late result must
    # not add a second access log line.
    time.sleep(max(0.0, 2.1 - el))


def check_json_access_log(t, cl, access):
    want = cl.n - cl.unlogged
    harness.wait_until(lambda: len(harness.read_text(access).splitlines()) >= want, 3)
    lines = harness.read_text(access).splitlines()
    t.eq(len(lines), want, "json access log: one line per request made (%d, the crashed one "
         "included)" % want, "\n".join(lines[-10:]))
    objs, bad = [], []
    for ln in lines:
        try:
            o = json.loads(ln)
            objs.append(o)
            if not isinstance(o, dict) or any(k not in o for k in JSON_FIELDS):
                bad.append(ln)
        except ValueError:
            bad.append(ln)
    t.ok(not bad and objs, "every json access log line parses and has %s" % ", ".join(JSON_FIELDS),
         "\n".join(bad[:10]))
    odd = [o for o in objs if "?q=" in str(o.get("uri"))]
    t.eq(len(odd), 1, "the odd-URI request has one json line")
    if odd:
        t.eq(odd[0].get("uri"), ODD_JSON, "its uri round-trips: '\"' and '\\n' as they are, "
             "\\xff\\xfe as escaped text")
    to = [o for o in objs if o.get("route") == "/block"]
    t.eq([o.get("status") for o in to], [504], "the timed-out /block has one line, status 504",
         json.dumps(to))
    rid = [o for o in objs if o.get("request_id") == "abc-123"]
    t.eq(len(rid), 1, "the X-Request-ID: abc-123 request's line has request_id abc-123")
    if rid:
        t.eq((rid[0].get("route"), rid[0].get("status")), ("/rid", 200),
             "... for route /rid, status 200")
    t.ok(objs and all(isinstance(o.get(k), int) for o in objs
                      for k in ("status", "bytes", "duration_us", "queue_us", "pid")),
         "status, bytes, duration_us, queue_us and pid are JSON numbers")


def check_json_error_log(t, errlog, workers):
    lines = harness.read_text(errlog).splitlines()
    objs, bad = [], []
    for ln in lines:
        try:
            o = json.loads(ln)
        except ValueError:
            bad.append(ln)
            continue
        objs.append(o)
    t.ok(lines and not bad, "--log-format json: every line of the error log parses as JSON "
         "(%d of %d do not)" % (len(bad), len(lines)), "\n".join(bad[:25]))
    missing = [o for o in objs if not isinstance(o, dict) or
               any(k not in o for k in ("time", "level", "pid", "msg"))]
    t.ok(objs and not missing, "every JSON error log line has time, level, pid, msg "
         "(%d lines)" % len(objs), "\n".join(json.dumps(o) for o in missing[:10]))
    app = [o for o in objs if o.get("msg") == "app: app says hello"]
    t.ok(len(app) == 1 and app[0].get("pid") in workers,
         "json error log: the app's stderr line, with a worker's pid", json.dumps(app))
    slow = [o for o in objs if "slow request" in str(o.get("msg"))]
    t.ok(slow, "json error log: the slow request is logged as a JSON line")


def run_json(t, app):
    sock = t.path("b.sock")
    access = t.path("b-access.log")
    errlog = t.path("b-error.log")
    t.extra_logs.append(errlog)
    s = t.start_sluice(common_args(sock, access, errlog) +
                       ["--threads", "2", "--timeout", "1", "--log-format", "json",
                        "--access-log-format", "json"], app=app, name="sluice-json")
    port, _ = t.start_nginx(fcgi_sock=sock)
    cl = Client(port, sock)
    t.note("-- run B: --log-format json --access-log-format json --timeout 1")

    for _ in range(3):
        r = cl.get("/hello")
    t.eq((r.status, r.body), (200, b"hello\n"), "run B: GET /hello")
    t.eq(cl.get("/nope").status, 404, "run B: GET /nope: 404")
    r = cl.get("/rid", headers={"X-Request-ID": "abc-123"})
    t.eq((r.body, r.header("X-Request-ID")), (b"abc-123", "abc-123"),
         "run B: X-Request-ID: abc-123 comes back")
    check_odd_uri(t, cl)
    r = cl.get("/warn")
    t.eq(r.status, 200, "run B: GET /warn")
    check_timeout_504(t, cl)
    st = harness.wait_until(lambda: all_ready(cl.status_or_none(full=True)), 5)
    workers = set(detail_pids(st))
    check_crash(t, cl, s, errlog)
    # Every line written: stop sluice before reading the logs.
    s.signal(signal.SIGTERM)
    t.eq(s.wait(15), 0, "run B: sluice exits 0 on SIGTERM")
    check_json_access_log(t, cl, access)
    check_json_error_log(t, errlog, workers)


def run_killed(t):
    """A request whose worker is killed still gets its access log line
    (written by the master, with the 502 the web server answered)."""
    sock = t.path("killed.sock")
    alog = t.path("killed-access.log")
    s = t.start_sluice(["--workers", "1", "--access-log", alog, "--access-log-format", "json",
                        "--fastcgi", "unix:" + sock], name="killed")
    conn = harness.FCGIConnection(sock, timeout=10)
    conn.start(1, "GET", "/block?ms=5000", extra=[("HTTP_X_REQUEST_ID", "doomed-1")])
    time.sleep(0.5)
    workers = harness.children_of(s.pid)
    t.eq(len(workers), 1, "one worker")
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    line = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and line is None:
        for ln in harness.read_text(alog).splitlines():
            try:
                d = json.loads(ln)
            except ValueError:
                continue
            if d.get("request_id") == "doomed-1":
                line = d
        time.sleep(0.1)
    conn.close()
    t.ok(line is not None, "the killed worker's request has its access log line",
         harness.read_text(alog))
    if line is not None:
        t.eq((line["status"], line["method"], line["route"], line["pid"]),
             (502, "GET", "/block", list(workers)[0]),
             "with status 502, its method, route and the dead worker's pid")
        t.ok(line["duration_us"] >= 400000, "and how long it ran (%d us)" % line["duration_us"])


# --------------------------------------------------------------------------
# Run C: a peer's method and path in the error log

# A method no web server would pass, straight over FastCGI: a newline that
# would start a forged line, and bytes that are not UTF-8.
EVIL_METHOD = b"GET\nFORGED line \x80\xff\xfe"
EVIL_URI = "/slow/x%0aFORGED%ff"
EVIL_METHOD_ESC = r"GET\x0aFORGED line \x80\xff\xfe"
EVIL_PATH_ESC = r"/slow/x\x0aFORGED\xff"
# Error log lines: "2026-...Z sluice[pid] ...", a backtrace's "sluice[pid] ...",
# and the frames backtrace_symbols_fd writes ("file(sym+0x1) [0x...]").
TEXT_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+Z sluice\[\d+\] |sluice\[\d+\] |"
                           r"\S*(\(\S*\))? ?\[0x[0-9a-f]+\]$)")


def check_log_safety(t, app, fmt):
    sock = t.path("evil-%s.sock" % fmt)
    errlog = t.path("evil-%s-error.log" % fmt)
    t.extra_logs.append(errlog)
    s = t.start_sluice(["--workers", "1", "--threads", "2", "--timeout", "1",
                        "--slow-request-ms", "150", "--log-format", fmt, "--error-log", errlog,
                        "--fastcgi", "unix:" + sock], app=app, name="sluice-evil-" + fmt)
    r = harness.fcgi_request(sock, "GET", EVIL_URI, timeout=10,
                             extra=[("REQUEST_METHOD", EVIL_METHOD)])
    t.eq(r.status, 504, "%s: a \"*\" route's slow handler, called with a method holding "
         "'\\n' and 0x80-0xff: 504 at --timeout 1" % fmt)
    harness.wait_until(lambda: "timed out" in harness.read_text(errlog) and
                       "backtrace of thread" in harness.read_text(errlog), 3)
    time.sleep(0.6)     # the handler returns (1.3 s): nothing more to log
    s.signal(signal.SIGTERM)
    t.eq(s.wait(15), 0, "%s: sluice exits 0 on SIGTERM" % fmt)
    raw = open(errlog, "rb").read()
    lines = raw.split(b"\n")[:-1]
    if fmt == "text":
        text = raw.decode("latin-1")
        t.ok(all(b < 0x80 for b in raw), "text: the error log is pure ASCII",
             [ln for ln in lines if any(b >= 0x80 for b in ln)][:5])
        bad = [ln for ln in text.splitlines() if not TEXT_LOG_LINE.match(ln)]
        t.ok(not bad, "text: every line is a log line, none forged", "\n".join(bad[:10]))
        msgs = text.splitlines()
    else:
        msgs, bad = [], []
        for ln in lines:
            try:
                o = json.loads(ln.decode("utf-8"))     # strict: UTF-8 or fail
                msgs.append(o["msg"])
            except (ValueError, KeyError, TypeError):
                bad.append(ln)
        t.ok(lines and not bad, "json: every line is valid UTF-8 and parses as JSON with a "
             "msg (%d of %d do not)" % (len(bad), len(lines)),
             b"\n".join(bad[:10]).decode("latin-1"))
    t.ok(not any(m.startswith("FORGED") for m in msgs), "%s: no line starts with the "
         "peer's text" % fmt)
    want = {
        "slow request": "slow request: %s %s (route /slow/{rest:path}" % (EVIL_METHOD_ESC,
                                                                          EVIL_PATH_ESC),
        "timeout": "request %s %s (route /slow/{rest:path}" % (EVIL_METHOD_ESC, EVIL_PATH_ESC),
        "backtrace": "running %s /slow/{rest:path}:" % EVIL_METHOD_ESC,
    }
    for what, needle in want.items():
        t.ok(any(needle in m for m in msgs), "%s: the %s line has the method and path "
             "escaped as in the access log (%s)" % (fmt, what, needle),
             "\n".join(m for m in msgs if "slow" in m)[:3000])


# --------------------------------------------------------------------------
# Run D: the route table under made-up methods

def check_route_table(t, app):
    sock = t.path("table.sock")
    t.start_sluice(["--workers", "1", "--health-path", "/healthz", "--status-path", "/status",
                    "--metrics-path", "/metrics", "--fastcgi", "unix:" + sock], app=app,
                   name="sluice-table")
    n = 70
    with FCGIConnection(sock) as c:
        bad = []
        for path in ("/healthz", "/status", "/metrics"):
            for i in range(n):
                r = c.request("M%d" % i, path)
                if (r.status, r.header("Allow")) != (405, "GET, HEAD"):
                    bad.append((path, i, r.status, r.header("Allow")))
        t.ok(not bad, "%d made-up methods each to /healthz, /status, /metrics: 405 with "
             "Allow: GET, HEAD" % n, bad[:5])
        r = c.request("HEAD", "/healthz")
        t.eq(r.status, 200, "HEAD /healthz: 200")
        bad = []
        for i in range(n):
            r = c.request("X%d" % i, "/any")
            if (r.status, r.body) != (200, b"any\n"):
                bad.append((i, r.status, r.body))
        t.ok(not bad, "%d made-up methods to a \"*\" route: 200" % n, bad[:5])
        for _ in range(3):
            r = c.request("GET", "/hello")
        t.eq((r.status, r.body), (200, b"hello\n"), "GET /hello after them: 200")
        r = c.request("GET", "/metrics")
    text = r.body.decode("utf-8", "replace")
    samples = parse_metrics(t, text)
    if samples is None:
        return
    diag = "\n".join(ln for ln in text.splitlines() if ln.startswith("sluice_requests_total"))
    t.eq(sample(samples, "sluice_requests_total", route="/hello", method="GET", status="2xx"),
         3, "GET /hello counts under its own row after %d made-up methods" % (4 * n), diag)
    t.eq(sample(samples, "sluice_requests_total", route="unmatched", status="4xx"), 3 * n,
         "the 405s of /healthz, /status, /metrics count under \"unmatched\"", diag)
    odd = [s for s in samples if s["name"] == "sluice_requests_total" and
           s["labels"].get("route") in ("/healthz", "/status", "/metrics") and
           s["labels"].get("method") not in ("GET", "HEAD")]
    t.ok(not odd, "no row for /healthz, /status or /metrics with another method", odd[:5])
    rows = {(s["labels"].get("route"), s["labels"].get("method")) for s in samples
            if s["name"] == "sluice_requests_total"}
    t.ok(len(rows) <= 64, "the table stays bounded: %d rows" % len(rows), diag)
    anys = [s["value"] for s in samples if s["name"] == "sluice_requests_total" and
            s["labels"].get("route") == "/any"]
    over = sample(samples, "sluice_requests_total", route="overflow", status="2xx")
    t.ok(isinstance(over, float) and over > 0,
         "methods past the table's room count under route=\"overflow\" (%r)" % over, diag)
    t.eq(sum(anys) + (over or 0), n, "/any rows and the overflow row add up to the %d "
         "requests: none lost" % n, diag)


def main(t):
    harness.sluice_bin()
    harness.need_program("nginx")
    app = build_app(t)
    run_text(t, app)
    run_json(t, app)
    run_killed(t)
    t.note("-- run C: a peer's method and path in the error log")
    check_log_safety(t, app, "text")
    check_log_safety(t, app, "json")
    t.note("-- run D: the route table under made-up methods")
    check_route_table(t, app)


harness.run("observe", main)
