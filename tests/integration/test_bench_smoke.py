#!/usr/bin/env python3
"""The benchmark still works, from the repository alone: bench/run --smoke
against the staged install builds its two comparison programs from bench/
(the null FastCGI responder and the libfcgi program) and measures them
beside sluice (a few seconds; no speed threshold, only that every case
produced numbers, no worker died and no answer failed)."""
import os
import random
import re
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def port_base():
    """Six consecutive loopback ports that are free now, below Linux's
    ephemeral range (32768-60999), where an outgoing connection of another
    program could take one between our check and nginx's bind."""
    for _ in range(200):
        base = random.randrange(20000, 32000)
        if all(port_free(base + i) for i in range(6)):
            return base
    raise harness.Prerequisite("no six free consecutive ports in 20000-32000")


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def main(t):
    top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
    run = os.path.join(top, "bench", "run")
    harness.need_program("wrk")
    harness.need_program("nginx")
    env = dict(os.environ)
    env.update({"OUT": t.path("report.md"), "NO_INSTALL": "1",
                "SLUICE_BIN": harness.sluice_bin(), "SLUICE_DEMO": harness.sluice_demo(),
                "PORT_BASE": str(port_base())})
    r = t.run_cmd(["bash", run, "--smoke"], timeout=120, env=env)
    out = (r.stdout + r.stderr).decode(errors="replace")
    t.eq(r.returncode, 0, "bench/run --smoke exits 0", harness.tail(out, 40))
    report = harness.read_text(t.path("report.md"))
    want = {"sluice-ka-hello": "sluice", "null-ka-hello": "the null responder",
            "c-ka-hello": "the libfcgi program"}
    rows = {}
    for ln in report.splitlines():
        cells = [c.strip() for c in ln.split("|")]
        if len(cells) > 9 and cells[1] in want:
            rows[cells[1]] = cells
    for case, who in want.items():
        t.ok(case in rows, "the report has a row for %s (%s)" % (who, case),
             harness.tail(report, 40))
    for case, cells in rows.items():
        # | case | route | ka | conns | req/s | % of ideal | p50 | p99 | wrk errors | ...
        reqs = cells[5].replace(",", "")
        t.ok(re.fullmatch(r"\d+", reqs) is not None and int(reqs) > 0,
             "%s has a positive req/s (%s)" % (case, cells[5]), " | ".join(cells))
        # The libfcgi program serves one kept connection per thread, so with
        # keep-alive some of wrk's connections may wait: only the two event
        # driven backends must answer every request.
        if case != "c-ka-hello":
            t.eq(cells[9], "0", "%s: no wrk errors" % case, " | ".join(cells))
    # the comparison programs came from the repository, not from beside it
    t.ok("the repository's bench/" in report and "null_fcgi.c" in report
         and "libfcgi_app.c" in report,
         "the report says the comparison programs were built from bench/",
         harness.tail(report, 60))

if __name__ == "__main__":
    harness.run("bench_smoke", main)
