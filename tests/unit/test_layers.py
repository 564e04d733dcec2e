#!/usr/bin/env python3
"""The layers of src/: arrows point one way.

Each folder of src/ is a layer with a rank:

    util 0; config 1; proto 1; api 2; worker 3; master 4; src/main.c 5

A file may include headers of its own folder or of a lower rank, never of
a higher one nor of another folder of its own rank; headers are named by
path from src/ ("util/buf.h"), the public header as <sluice.h>.  A module
is x.c with x.h; no two modules may include each other, directly or round
a longer cycle.

Checks the tree, then plants bad includes in copies of it (one upward, one
across a rank, one cycle inside a folder, one bare name) and checks that
each is caught.  Prints "ok - ..." / "not ok - ..." lines; exits 1 when a
check failed.  Needs nothing but python3: run by `make check` and
`make check-unit`, or by hand: python3 tests/unit/test_layers.py [SRC]
"""
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True

RANKS = {"util": 0, "config": 1, "proto": 1, "api": 2, "worker": 3, "master": 4, "": 5}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def folder_of(rel):
    """'util/buf.c' -> 'util'; 'main.c' -> ''."""
    return rel.split("/")[0] if "/" in rel else ""


def sources(src):
    for dirpath, _, names in os.walk(src):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                path = os.path.join(dirpath, n)
                yield os.path.relpath(path, src).replace(os.sep, "/"), path


def check(src):
    """Every violation in the tree at `src`, as a list of one-line strings."""
    problems = []
    edges = {}                       # module -> {module: "file includes header"}
    for rel, path in sources(src):
        folder = folder_of(rel)
        if folder not in RANKS:
            problems.append("%s: folder %r has no rank" % (rel, folder))
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        module = rel[:-2]
        for kind, inc in INCLUDE.findall(text):
            if kind == "<":
                continue             # system headers, and <sluice.h>
            if "sluice.h" in inc:
                problems.append("%s: includes %s; the public header is <sluice.h>" % (rel, inc))
                continue
            target = os.path.join(src, inc)
            if "/" not in inc or not os.path.isfile(target):
                problems.append("%s: includes \"%s\", not a header named by its path from "
                                "src/" % (rel, inc))
                continue
            tfolder = folder_of(inc)
            if tfolder not in RANKS:
                problems.append("%s: includes %s, in a folder with no rank" % (rel, inc))
                continue
            if tfolder != folder and RANKS[tfolder] >= RANKS[folder]:
                problems.append("%s (%s, rank %d) includes %s (%s, rank %d): %s" % (
                    rel, folder or "src", RANKS[folder], inc, tfolder, RANKS[tfolder],
                    "a higher layer" if RANKS[tfolder] > RANKS[folder]
                    else "another layer of the same rank"))
            tmodule = inc[:-2]
            if tmodule != module:
                edges.setdefault(module, {}).setdefault(tmodule, "%s includes %s" % (rel, inc))
    problems += ["include cycle: " + c for c in cycles(edges)]
    return problems


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                members = set(comp)
                why = [edges[a][b] for a in sorted(members) for b in sorted(edges.get(a, {}))
                       if b in members]
                found.append(" <-> ".join(sorted(comp)) + " (" + "; ".join(why) + ")")

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


class Report:
    def __init__(self):
        self.failed = 0

    def ok(self, cond, what, detail=None):
        print("%s - %s" % ("ok" if cond else "not ok", what))
        if not cond:
            self.failed += 1
            for line in detail or []:
                print("#   " + line)


def plant(src, rel, line):
    """A copy of the tree at `src` with `line` added to src/`rel`: the
    temporary directory and the copy's src/."""
    tmp = tempfile.mkdtemp(prefix="sl-layers-")
    try:
        copy = os.path.join(tmp, "src")
        shutil.copytree(src, copy)
        path = os.path.join(copy, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # After the first include, so the header guard stays around it.
        m = INCLUDE.search(text)
        at = text.index("\n", m.end()) + 1 if m else 0
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:at] + line + "\n" + text[at:])
    except BaseException:
        shutil.rmtree(tmp)
        raise
    return tmp, copy


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.environ.get("top_srcdir") or os.path.join(here, "..", "..")
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "src")
    t = Report()
    if not os.path.isfile(os.path.join(src, "main.c")):
        t.ok(False, "the source tree is at %s" % src)
        return 1
    problems = check(src)
    t.ok(not problems, "src/: no include to a higher or a same-rank layer, headers by path, "
         "no include cycle between modules (%d problems)" % len(problems), problems)
    n = sum(1 for _ in sources(src))
    t.ok(n > 40, "src/: %d files checked" % n)

    # Each planted mistake must be caught, and named.
    planted = [
        ("util/buf.h", '#include "worker/worker.h"', "worker/worker.h", "a higher layer",
         "an include up from util to worker"),
        ("proto/fcgi.c", '#include "config/config.h"', "config/config.h",
         "same rank", "an include across two layers of one rank (proto to config)"),
        ("proto/cgi.h", '#include "proto/scgi.h"', "include cycle", "proto/cgi",
         "a cycle inside a folder (cgi.h to scgi.h, scgi.c to cgi.h)"),
        ("api/request.c", '#include "buf.h"', "not a header named by its path", "buf.h",
         "a header not named by its path"),
    ]
    for rel, line, want1, want2, what in planted:
        if not os.path.isfile(os.path.join(src, rel)):
            t.ok(False, "caught: %s, planted in %s (no such file)" % (what, rel))
            continue
        tmp, copy = plant(src, rel, line)
        try:
            found = check(copy)
        finally:
            shutil.rmtree(tmp)
        hit = [p for p in found if want1 in p and want2 in p]
        t.ok(hit, "caught: %s, planted in %s" % (what, rel), found or ["nothing reported"])
        if hit:
            print("#   " + hit[0])
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
