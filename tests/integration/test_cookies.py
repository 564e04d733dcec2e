#!/usr/bin/env python3
"""The demo's signed cookie through nginx, two workers: GET /cookie/set?v=
sets `demo` (HttpOnly, SameSite=Lax, Path=/), GET /cookie/get answers
{"v":...} from it, 401 when it is missing or does not verify.

- Without a `secret`, the master makes one before forking: a cookie set
  by one worker verifies at the other (which worker answered is read from
  the access log's pid=), and a restart makes a new one (the old cookie
  is then 401).
- With `secret` in the config file, the cookie is the documented
  base64url(v).base64url(HMAC-SHA256(secret, "demo=" base64url(v))),
  computed here with Python's hmac; the secret shows neither in
  --check-config nor in the error log."""
import base64
import hashlib
import hmac
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_get  # noqa: E402

SECRET = "k3y-for-the-cookie-test-0123456789"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(secret, name, value):
    v = b64(value.encode())
    mac = hmac.new(secret.encode(), ("%s=%s" % (name, v)).encode(), hashlib.sha256).digest()
    return "%s.%s" % (v, b64(mac))


def set_cookie(t, port, v, marker):
    r = http_get(port, "/cookie/set?v=%s&n=%s" % (v, marker))
    t.eq(r.status, 200, "set %s: 200" % marker, r)
    sc = r.header("Set-Cookie") or ""
    return r, sc


def pids_by_marker(log):
    """n=MARKER -> pid, from the access log lines."""
    out = {}
    for line in harness.read_text(log).splitlines():
        m = re.search(r'[?&]n=(\w+).* pid=(\d+)', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def check_two_workers(t, port, access):
    r, sc = set_cookie(t, port, "hello%20world", "set0")
    t.ok(sc.startswith("demo="), "Set-Cookie names demo", sc)
    attrs = [a.strip() for a in sc.split(";")[1:]]
    t.eq(sorted(attrs), sorted(["Path=/", "HttpOnly", "SameSite=Lax"]),
         "attributes: Path=/, HttpOnly, SameSite=Lax", sc)
    t.eq(r.json(), {"v": "hello world"}, "set answers the value")
    cookie = sc.split(";")[0]

    # Which worker answers is the kernel's choice; made certain here: with
    # --max-requests 1 each worker retires after one answer and the master
    # forks a new one, so every read below is answered by another worker
    # than the one that set the cookie (the access log's pid= tells), all
    # of them forked from the master that made the secret.
    results = {}
    for i in range(2):
        key = "set0" if i == 0 else "g%d" % (i - 1)
        last = harness.wait_until(lambda: pids_by_marker(access).get(key), 5)
        t.ok(last is not None and harness.wait_until(lambda: not harness.pid_alive(int(last)), 15),
             "the worker that answered last (%s) retired" % last)
        results[i] = http_get(port, "/cookie/get?n=g%d" % i, headers={"Cookie": cookie})
    # the access log line is written just after the answer
    harness.wait_until(lambda: all("g%d" % i in pids_by_marker(access) for i in results), 5)
    pids = pids_by_marker(access)
    t.ok("set0" in pids, "the access log names the worker that set the cookie", pids)
    others = [i for i in results if pids.get("g%d" % i) not in (None, pids.get("set0"))]
    t.eq(len(others), len(results), "every read was answered by another worker",
         (pids.get("set0"), pids))
    bad = [(i, r.status, r.body) for i, r in results.items()
           if r.status != 200 or r.json() != {"v": "hello world"}]
    t.eq(bad, [], "every read, at another worker, verifies: 200 {\"v\":\"hello world\"}")

    r = http_get(port, "/cookie/get")
    t.eq(r.status, 401, "no cookie: 401", r)
    t.ok("detail" in r.json(), "401 in FastAPI's shape", r.body)
    value = cookie[len("demo="):]
    i = value.index(".")
    for desc, v in [("changed value", ("A" if value[0] != "A" else "B") + value[1:]),
                    ("changed signature", value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]),
                    ("cut short", value[:-1]),
                    ("unsigned", value[:i]),
                    ("signed with another secret", signed("another-secret-0123456789", "demo",
                                                          "hello world"))]:
        r = http_get(port, "/cookie/get", headers={"Cookie": "demo=" + v})
        t.eq(r.status, 401, "%s: 401" % desc, r)
    return cookie


def main(t):
    sock = t.path("fcgi.sock")
    access = t.path("access.log")
    p = t.start_sluice(["--workers", "2", "--max-requests", "1", "--fastcgi", "unix:" + sock,
                        "--access-log", access])
    port, _ = t.start_nginx(fcgi_sock=sock)
    cookie = check_two_workers(t, port, access)

    # A restart makes a new random secret: yesterday's cookie no longer verifies.
    p.stop()
    p = t.start_sluice(["--workers", "2", "--fastcgi", "unix:" + sock])
    r = http_get(port, "/cookie/get", headers={"Cookie": cookie})
    t.eq(r.status, 401, "after a restart without a secret, the old cookie: 401", r)
    p.stop()

    # The config's secret: the documented form, computed here.
    conf = t.write("sluice.ini", "secret = %s\n" % SECRET)
    r = t.run_cmd([harness.sluice_bin(), "--check-config", "-c", conf, "--fastcgi",
                   "unix:" + sock, harness.sluice_demo()])
    out = (r.stdout + r.stderr).decode()
    t.eq(r.returncode, 0, "--check-config with a secret: exit 0", out)
    t.ok(SECRET not in out and "not shown" in out, "--check-config does not show the secret", out)
    p = t.start_sluice(["-c", conf, "--workers", "2", "--fastcgi", "unix:" + sock])
    r, sc = set_cookie(t, port, "caf%C3%A9%20%3B%22x%22", "cfg")
    t.eq(sc.split(";")[0], "demo=" + signed(SECRET, "demo", 'café ;"x"'),
         "the cookie is base64url(v).base64url(HMAC-SHA256(secret, 'demo=' base64url(v)))", sc)
    r = http_get(port, "/cookie/get", headers={"Cookie": "demo=" + signed(SECRET, "demo", "made here")})
    t.eq((r.status, r.body), (200, b'{"v":"made here"}'), "a cookie signed with the secret here verifies")
    r = http_get(port, "/cookie/get", headers={"Cookie": "demo=" + signed(SECRET, "other", "x")})
    t.eq(r.status, 401, "signed for another cookie name: 401", r)
    short = t.write("short.ini", "secret = too-short\n")
    r = t.run_cmd([harness.sluice_bin(), "--check-config", "-c", short, harness.sluice_demo()])
    err = (r.stdout + r.stderr).decode()
    t.eq(r.returncode, 1, "--check-config, a secret under 16 bytes: exit 1", err)
    t.ok("shorter than 16 bytes" in err and "too-short" not in err,
         "the refusal says why without quoting it", err)
    p.stop()
    t.ok(SECRET not in p.log_text(), "the secret is not in the error log")


harness.run("cookies", main)
