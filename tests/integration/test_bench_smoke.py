#!/usr/bin/env python3
"""The benchmark still works: bench/run --smoke against the staged install
(a few seconds; no speed threshold, only that every case produced numbers
and no worker died)."""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main(t):
    top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
    run = os.path.join(top, "bench", "run")
    harness.need_program("wrk")
    harness.need_program("nginx")
    env = dict(os.environ)
    env.update({"OUT": t.path("report.md"), "NO_INSTALL": "1",
                "SLUICE_BIN": harness.sluice_bin(), "SLUICE_DEMO": harness.sluice_demo(),
                "PORT_BASE": str(harness.free_port() // 8 * 8 % 50000 + 10000)})
    r = t.run_cmd(["bash", run, "--smoke"], timeout=120, env=env)
    out = (r.stdout + r.stderr).decode(errors="replace")
    t.eq(r.returncode, 0, "bench/run --smoke exits 0", harness.tail(out, 40))
    report = harness.read_text(t.path("report.md"))
    rows = [ln for ln in report.splitlines() if ln.startswith("| sluice-ka-hello") or
            ln.startswith("| null-ka-hello")]
    t.eq(len(rows), 2, "the report has a row for sluice and for the null responder",
         harness.tail(report, 40))
    for row in rows:
        cells = [c.strip() for c in row.split("|")]
        reqs = cells[5].replace(",", "")     # | case | route | ka | conns | req/s |
        t.ok(re.fullmatch(r"\d+", reqs) is not None and int(reqs) > 0,
             "%s has a positive req/s (%s)" % (cells[1], cells[5]), row)


if __name__ == "__main__":
    harness.run("bench_smoke", main)
