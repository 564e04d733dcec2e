#!/usr/bin/env python3
"""bench/lib/summarize.py RUN_DIR: the markdown tables of bench/run (stdout).

Reads RUN_DIR/cases.tsv (id, group, path, conns, kind, route, ka) and, per round r and case id,
RUN_DIR/raw/r<r>-<id>.wrk (BENCH_RESULT line of lib/report.lua), .cpu (utime+stime and
write syscalls of every backend process and of nginx just before wrk starts and just after it
exits) and .mem (RSS/PSS of every backend process, sampled each second during the run), plus
RUN_DIR/raw/idle.mem. Environment: CLK_TCK, WORKERS.
"""
import glob
import os
import re
import statistics
import sys

RUN = sys.argv[1]
TCK = int(os.environ.get("CLK_TCK", "100"))
WORKERS = int(os.environ.get("WORKERS", "2"))
THREADS = 4                      # sluice's default --threads
SPREAD_MIN_TICKS = 200           # CPU-share spread is only judged with >= 2 s of worker CPU

cases = []
for line in open(os.path.join(RUN, "cases.tsv")):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 7:
        cases.append(dict(id=f[0], group=f[1], path=f[2], conns=int(f[3]), kind=f[4], route=f[5], ka=f[6]))
rounds = sorted({int(m.group(1)) for p in glob.glob(os.path.join(RUN, "raw", "r*-*.wrk"))
                 for m in [re.search(r"/r(\d+)-", p)] if m})


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ideal(c):
    if c["kind"] == "sleep":
        return c["conns"] / 0.1
    if c["kind"] == "block":
        return WORKERS * THREADS / 0.010
    return None


def parse_round(r, c):
    base = os.path.join(RUN, "raw", f"r{r}-{c['id']}")
    try:
        txt = open(base + ".wrk").read()
    except OSError:
        return None
    m = re.search(r"^BENCH_RESULT (.*)$", txt, re.M)
    if not m:
        return None
    v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    ok = v["requests"] - v["status"]
    if ok <= 0:
        return None
    d = dict(ok=ok, rps=ok / (v["duration_us"] / 1e6), p50=v["p50_us"] / 1000, p90=v["p90_us"] / 1000,
             p99=v["p99_us"] / 1000, max=v["max_us"] / 1000,
             errors=v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"],
             err_detail=(v["connect"], v["read"], v["write"], v["status"], v["timeout"]))
    pre, post = {}, {}
    for line in open(base + ".cpu"):
        ph, kind, pid, role, ticks, syscw = line.split()
        (pre if ph == "pre" else post)[(kind, pid)] = (role, float(ticks), int(syscw))
    if ("t", "0") in pre and ("t", "0") in post:
        # whole machine during the run, in % of one CPU (200 % = both cores of a 2-core machine)
        d["busy"] = (post[("t", "0")][1] - pre[("t", "0")][1]) / TCK / (v["duration_us"] / 1e6) * 100
        d["steal"] = (post[("t", "0")][2] - pre[("t", "0")][2]) / TCK / (v["duration_us"] / 1e6) * 100
    bt = nt = 0.0
    workers = []
    d["new_pids"] = 0
    for key, (role, t1, w1) in post.items():
        if key[0] == "t":
            continue
        if key not in pre:          # a process started during the run (a replaced worker): all its CPU
            t0, w0 = 0.0, 0
            d["new_pids"] += key[0] == "b"
        else:
            _, t0, w0 = pre[key]
        if key[0] == "b":
            bt += t1 - t0
            if role == "worker":
                workers.append((t1 - t0, w1 - w0))
        elif key[0] == "n":
            nt += t1 - t0
    d["lost_pids"] = sum(1 for key in pre if key[0] == "b" and key not in post)
    d["clean"] = d["new_pids"] == 0 and d["lost_pids"] == 0
    d["cpu_us"] = bt / TCK * 1e6 / ok
    d["backend_pct"] = bt / TCK / (v["duration_us"] / 1e6) * 100
    d["nginx_pct"] = nt / TCK / (v["duration_us"] / 1e6) * 100
    d["nginx_us"] = nt / TCK * 1e6 / ok
    d["wticks"] = sum(w[0] for w in workers)
    d["nworkers"] = len(workers)

    def spread(vals):
        if len(vals) < 2 or sum(vals) <= 0:
            return None
        mean = sum(vals) / len(vals)
        return ((max(vals) - mean) / mean * 100, (min(vals) - mean) / mean * 100)
    d["spread_cpu"] = spread([w[0] for w in workers])
    d["spread_w"] = spread([float(w[1]) for w in workers])
    # for the target: CPU share when the workers used enough CPU to resolve it, else write() calls
    if d["spread_cpu"] and d["wticks"] >= SPREAD_MIN_TICKS:
        d["spread_judge"] = max(abs(x) for x in d["spread_cpu"])
    elif d["spread_w"] and sum(w[1] for w in workers) >= 1000:
        d["spread_judge"] = max(abs(x) for x in d["spread_w"])
    # memory: per sample, totals; the maximum over the samples
    samples = {}
    try:
        for line in open(base + ".mem"):
            tag, pid, role, rss, pss = line.split()
            samples.setdefault(tag, []).append((role, int(rss), int(pss)))
    except OSError:
        pass
    if samples:
        d["rss"] = max(sum(x[1] for x in s) for s in samples.values()) / 1024
        d["pss"] = max(sum(x[2] for x in s) for s in samples.values()) / 1024
        d["pss_master"] = max((sum(x[2] for x in s if x[0] == "master") for s in samples.values()), default=0) / 1024
        d["pss_worker"] = max((x[2] for s in samples.values() for x in s if x[0] == "worker"), default=0) / 1024
        d["rss_worker"] = max((x[1] for s in samples.values() for x in s if x[0] == "worker"), default=0) / 1024
        d["nprocs"] = max(len(s) for s in samples.values())
    return d


R = {c["id"]: {r: parse_round(r, c) for r in rounds} for c in cases}
C = {c["id"]: c for c in cases}


PROC_KEYS = {"cpu_us", "nginx_us", "backend_pct", "nginx_pct", "spread_cpu", "spread_w", "spread_judge"}


def rounds_for(cid, key):
    ds = [d for d in R.get(cid, {}).values() if d]
    if key in PROC_KEYS and any(d["clean"] for d in ds):
        ds = [d for d in ds if d["clean"]]   # rounds in which a backend process died or appeared are left out
    return ds


def agg(cid, key):
    return med([d.get(key) for d in rounds_for(cid, key)])


def fmt(x, nd=0, suffix=""):
    if x is None:
        return "-"
    if nd == 0:
        return f"{x:,.0f}{suffix}"
    return f"{x:,.{nd}f}{suffix}"


def spread_txt(cid, key="spread_cpu"):
    vals = [d[key] for d in rounds_for(cid, key) if d.get(key)]
    if not vals:
        return "-"
    hi = statistics.median(v[0] for v in vals)
    lo = statistics.median(v[1] for v in vals)
    return f"+{hi:.0f} / {lo:.0f}"


LABEL = {"null": "null responder", "libfcgi": "libfcgi C", "libfcgi-ka": "libfcgi C", "sluice": "sluice"}

print("## Results (median of rounds)")
print()
print("req/s counts 2xx answers; p50/p99 are wrk's exact histogram percentiles; errors are all wrk errors "
      "(connect/read/write/non-2xx/timeout) summed over the rounds; CPU µs/req = utime+stime of the "
      "backend's processes (of nginx's) from just before to just after the measured wrk run, divided by "
      "the 2xx answers; RSS/PSS = sum over the backend's processes (master + workers), highest 1 s sample "
      "during the run; per-worker = the largest worker; spread = each worker's share of the workers' CPU "
      "time during the run, max / min deviation from an even share in %, median over rounds (in brackets the same for the "
      "workers' write() system calls, /proc/PID/io syscw); CPU % = share of one core during the run, "
      "machine = all processes on all cores (what the rest of the machine did shows as machine - backend - nginx - wrk's ~100). "
      "Rounds in which a backend process died or was replaced are left out of the CPU and spread columns when another round is clean.")
print()
print("| Case | Route | Upstream ka | Conns | req/s | % of ideal | p50 ms | p99 ms | wrk errors | backend CPU µs/req | nginx CPU µs/req | CPU % backend / nginx / machine | RSS MiB (PSS) total | PSS MiB master / per worker | worker spread CPU % (writes %) |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in cases:
    cid = c["id"]
    ds = [d for d in R[cid].values() if d]
    if not ds:
        print(f"| {cid} | {c['path']} | {c['ka']} | {c['conns']} | NO NUMBERS | | | | | | | | | | |")
        continue
    rps = agg(cid, "rps")
    idl = ideal(c)
    errs = sum(d["errors"] for d in ds)
    ed = [sum(d["err_detail"][i] for d in ds) for i in range(5)]
    etxt = str(errs) if not errs else f"{errs} (c{ed[0]} r{ed[1]} w{ed[2]} s{ed[3]} t{ed[4]})"
    dirty = sum(1 for d in ds if not d["clean"])
    if dirty:
        etxt += f"; backend process died/replaced in {dirty} of {len(ds)} rounds" + (
            " (CPU columns from the other rounds)" if dirty < len(ds) else " (CPU columns incomplete)")
    rss, pss = agg(cid, "rss"), agg(cid, "pss")
    mem = f"{fmt(rss, 1)} ({fmt(pss, 2)})" if rss is not None else "-"
    pm = f"{fmt(agg(cid, 'pss_master'), 2)} / {fmt(agg(cid, 'pss_worker'), 2)}" if rss is not None else "-"
    spread = spread_txt(cid) + " (" + spread_txt(cid, "spread_w") + ")" if c["group"] in ("sluice", "null", "libfcgi", "libfcgi-ka") else "-"
    print(f"| {cid} | {c['path']} | {c['ka']} | {c['conns']} | {fmt(rps)} | "
          f"{fmt(rps / idl * 100 if idl and rps else None, 1, ' %')} | {fmt(agg(cid, 'p50'), 2)} | {fmt(agg(cid, 'p99'), 2)} | "
          f"{etxt} | {fmt(agg(cid, 'cpu_us'), 1)} | {fmt(agg(cid, 'nginx_us'), 1)} | "
          f"{fmt(agg(cid, 'backend_pct'))} / {fmt(agg(cid, 'nginx_pct'))} / {fmt(agg(cid, 'busy'))} | {mem} | {pm} | {spread} |")
print()
if any(C[c]["kind"] == "block" for c in C):
    print(f"Ideal: /sleep?ms=100 = conns / 0.1 s; /block?ms=10 = {WORKERS} workers x {THREADS} pool threads / 10 ms = "
          f"{WORKERS * THREADS / 0.01:,.0f} req/s.")
    print()

# ---- per round
if len(rounds) > 1:
    print("### req/s per round (spread of the median)")
    print()
    print("| Case | " + " | ".join(f"round {r}" for r in rounds) + " | backend CPU µs/req per round |")
    print("|---|" + "---:|" * len(rounds) + "---:|")
    for c in cases:
        cid = c["id"]
        cells = [fmt(R[cid][r]["rps"]) if R[cid].get(r) else "-" for r in rounds]
        cpus = " / ".join(fmt(R[cid][r]["cpu_us"], 1) if R[cid].get(r) else "-" for r in rounds)
        print(f"| {cid} | " + " | ".join(cells) + f" | {cpus} |")
    print()

# ---- memory idle
idle = {}
for line in open(os.path.join(RUN, "raw", "idle.mem")):
    tag, pid, role, rss, pss = line.split()
    idle.setdefault(tag, []).append((pid, role, int(rss), int(pss)))
groups = []
for c in cases:
    if c["group"] not in groups:
        groups.append(c["group"])
print("### Memory per process: idle (before and after the matrix) and under load")
print()
print("| Backend | When | processes | master RSS / PSS KiB | per worker RSS / PSS KiB (max) | total RSS / PSS KiB |")
print("|---|---|---:|---:|---:|---:|")
# idle.mem tags are "<when>:<group>"
blocks = {}
for tag, rows in idle.items():
    if ":" not in tag:
        continue
    when, g = tag.split(":", 1)
    blocks[(g, when)] = rows
for g in groups:
    rows_by_when = []
    for when in ("idle-start", "idle-end"):
        rows = blocks.get((g, when))
        if rows:
            rows_by_when.append((when.replace("-", " "), rows))
    for when, rows in rows_by_when:
        m = [r for r in rows if r[1] == "master"]
        w = [r for r in rows if r[1] == "worker"]
        mt = f"{m[0][2]:,} / {m[0][3]:,}" if m else "-"
        wt = f"{max(r[2] for r in w):,} / {max(r[3] for r in w):,}" if w else "-"
        print(f"| {LABEL.get(g, g)} ({g}) | {when} | {len(rows)} | {mt} | {wt} | "
              f"{sum(r[2] for r in rows):,} / {sum(r[3] for r in rows):,} |")
    loadc = [c["id"] for c in cases if c["group"] == g and agg(c["id"], "pss") is not None]
    if loadc:
        worst = max(loadc, key=lambda cid: agg(cid, "pss"))
        print(f"| {LABEL.get(g, g)} ({g}) | under load, worst case ({worst}) | {fmt(agg(worst, 'nprocs'))} | "
              f"- / {agg(worst, 'pss_master') * 1024:,.0f} | {agg(worst, 'rss_worker') * 1024:,.0f} / {agg(worst, 'pss_worker') * 1024:,.0f} | "
              f"{agg(worst, 'rss') * 1024:,.0f} / {agg(worst, 'pss') * 1024:,.0f} |")
print()


# ---- ratios
def per_round_ratio(a, b, key="rps"):
    vals = []
    for r in rounds:
        da, db = R.get(a, {}).get(r), R.get(b, {}).get(r)
        if da and db and db.get(key):
            vals.append(da[key] / db[key])
    return med(vals)


def cid_for(group_prefix, route, ka):
    for c in cases:
        g = c["group"]
        if c["route"] == route and c["ka"] == ka and (g == group_prefix or (group_prefix == "libfcgi" and g.startswith("libfcgi"))):
            return c["id"]
    return None


rows = []
for route in ("hello", "json"):
    for ka in ("ka", "no"):
        s = cid_for("sluice", route, ka)
        n = cid_for("null", "hello", ka)
        l = cid_for("libfcgi", route, ka)
        if s:
            rows.append((route, ka, s, n, l))
if rows:
    print("## Ratios (median of the per-round ratios; the null responder answers /hello only, so /json is set against its /hello)")
    print()
    print("| Route | Upstream ka | sluice req/s | null req/s | libfcgi req/s | sluice / null req/s | sluice / libfcgi req/s | CPU µs/req sluice / null / libfcgi | sluice / null CPU | p99 ms sluice / null / libfcgi |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for route, ka, s, n, l in rows:
        print(f"| /{route} | {ka} | {fmt(agg(s, 'rps'))} | {fmt(agg(n, 'rps')) if n else '-'} | {fmt(agg(l, 'rps')) if l else '-'} | "
              f"{fmt(per_round_ratio(s, n), 3) if n else '-'} | {fmt(per_round_ratio(s, l), 3) if l else '-'} | "
              f"{fmt(agg(s, 'cpu_us'), 1)} / {fmt(agg(n, 'cpu_us'), 1) if n else '-'} / {fmt(agg(l, 'cpu_us'), 1) if l else '-'} | "
              f"{fmt(per_round_ratio(s, n, 'cpu_us'), 2) if n else '-'} | "
              f"{fmt(agg(s, 'p99'), 2)} / {fmt(agg(n, 'p99'), 2) if n else '-'} / {fmt(agg(l, 'p99'), 2) if l else '-'} |")
    print()

# ---- targets
T = []


def target(name, value_txt, ok):
    T.append((name, value_txt, "met" if ok is True else ("**NOT MET**" if ok is False else "not measured")))


for ka in ("ka", "no"):
    s, n = cid_for("sluice", "hello", ka), cid_for("null", "hello", ka)
    r = per_round_ratio(s, n) if s and n else None
    target(f"/hello req/s >= 0.9 x null ({'keep-alive' if ka == 'ka' else 'no keep-alive'})",
           f"{r:.3f} x" if r is not None else "-", (r >= 0.9) if r is not None else None)
s, l = cid_for("sluice", "json", "ka"), cid_for("libfcgi", "json", "ka")
r = per_round_ratio(s, l) if s and l else None
target("/json keep-alive req/s >= 1.3 x libfcgi /json keep-alive", f"{r:.3f} x" if r is not None else "-",
       (r >= 1.3) if r is not None else None)
for ka in ("ka", "no"):
    s, n, l = cid_for("sluice", "hello", ka), cid_for("null", "hello", ka), cid_for("libfcgi", "hello", ka)
    if s and n and l and agg(s, "cpu_us") is not None and agg(n, "cpu_us") is not None and agg(l, "cpu_us") is not None:
        cs, cn, cl = agg(s, "cpu_us"), agg(n, "cpu_us"), agg(l, "cpu_us")
        lim = cn + (cl - cn) / 3
        target(f"/hello backend CPU/req <= null + (libfcgi - null)/3 ({'keep-alive' if ka == 'ka' else 'no keep-alive'})",
               f"{cs:.1f} µs vs limit {lim:.1f} µs (null {cn:.1f}, libfcgi {cl:.1f})", cs <= lim)
    else:
        target(f"/hello backend CPU/req <= null + (libfcgi - null)/3 ({'keep-alive' if ka == 'ka' else 'no keep-alive'})", "-", None)
n = cid_for("null", "hello", "ka")
for route in ("hello", "json"):
    s = cid_for("sluice", route, "ka")
    if s and n and agg(s, "p99") is not None and agg(n, "p99") is not None:
        ps, pn = agg(s, "p99"), agg(n, "p99")
        target(f"p99 keep-alive /{route} <= 2 x null's (/hello keep-alive)", f"{ps:.2f} ms vs limit {2 * pn:.2f} ms", ps <= 2 * pn)
    elif s:
        target(f"p99 keep-alive /{route} <= 2 x null's (/hello keep-alive)", "-", None)
sl = [c["id"] for c in cases if c["group"] == "sluice" and any(R[c["id"]].values())]
if sl:
    errs = {cid: sum(d["errors"] for d in R[cid].values() if d) for cid in sl}
    bad = {k: v for k, v in errs.items() if v}
    target("zero wrk errors (all sluice cases, all rounds)", "0" if not bad else ", ".join(f"{k}: {v}" for k, v in bad.items()), not bad)
for c in cases:
    if c["group"] == "sluice" and c["kind"] == "sleep":
        rps = agg(c["id"], "rps")
        need = 0.97 if c["conns"] <= 200 else 0.90
        share = rps / ideal(c) if rps else None
        target(f"/sleep?ms=100 at {c['conns']} conns ({'keep-alive' if c['ka'] == 'ka' else 'no keep-alive'}) >= {need * 100:.0f} % of {ideal(c):,.0f} req/s",
               f"{share * 100:.1f} % ({rps:,.0f} req/s)" if share else "-", (share >= need) if share else None)
# Throughput load and many requests held at once (/sleep) are judged apart:
# the second is bounded by what each request in flight must hold.
held = max((c["conns"] for c in cases if c["kind"] == "sleep"), default=0)
for label, pick in (("throughput cases (/hello, /json, /block)", lambda c: c["kind"] != "sleep"),
                    (f"/sleep, up to {held:,} requests in flight", lambda c: c["kind"] == "sleep")):
    loaded = [c["id"] for c in cases if c["id"] in sl and pick(c) and agg(c["id"], "pss") is not None]
    if loaded:
        worst = max(loaded, key=lambda cid: agg(cid, "pss"))
        p = agg(worst, "pss")
        target(f"PSS master + workers <= 3 MiB under load, {label} (worst case)", f"{p:.2f} MiB ({worst})", p <= 3.0)
try:
    soak = {ln.split()[0]: [int(x) for x in ln.split()[1:]] for ln in open(os.path.join(RUN, "raw", "soak")) if ln.strip()}
    (n1, pss1, anon1), (n2, pss2, anon2, errs) = soak["first"][:3], soak["end"][:4]
    target(f"no memory growth over {n2:,} requests (workers' anonymous PSS after {n1:,} and at the end; 64 KiB allowed)",
           f"{anon1:,} -> {anon2:,} KiB (PSS {pss1:,} -> {pss2:,} KiB), {errs} errors", anon2 - anon1 <= 64 and errs == 0)
except (OSError, KeyError, ValueError):
    pass
spread_cases = []
for cid in sl:
    v = agg(cid, "spread_judge")
    if v is not None:
        spread_cases.append((cid, v))
try:
    w0, w1 = open(os.path.join(RUN, "raw", "sluice-workers")).read().strip().split("|")
    same = w0.split() == w1.split()
    target("no sluice worker died or was replaced during the run", "same workers at start and end" if same else f"workers {w0.strip()} at the start, {w1.strip()} at the end", same)
except (OSError, ValueError):
    pass
if spread_cases:
    worst = max(spread_cases, key=lambda x: x[1])
    target(f"worker spread within 20 % (CPU share; write() calls where the workers used < {SPREAD_MIN_TICKS / TCK:.0f} s CPU)",
           f"worst {worst[1]:.1f} % ({worst[0]})", worst[1] <= 20)
if T:
    print("## Target check")
    print()
    print("| Target | Measured | |")
    print("|---|---|---|")
    for name, v, st in T:
        print(f"| {name} | {v} | {st} |")
    print()
    nm = sum(1 for t in T if t[2] == "met")
    notmet = [t[0] for t in T if t[2] == "**NOT MET**"]
    nomeas = [t[0] for t in T if t[2] == "not measured"]
    print(f"{nm} of {len(T)} targets met" + (f"; **not met**: {'; '.join(notmet)}" if notmet else "")
          + (f"; not measured in this run: {'; '.join(nomeas)}" if nomeas else "") + ".")
    print()
