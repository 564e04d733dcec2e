#!/usr/bin/env python3
"""libsluice.so exports the API of its public headers, and nothing else.

`nm -D --defined-only` on the built library (.libs/libsluice.so, run from
the build directory as `make check` does; or the path given) must list
exactly the functions the public headers (sluice.h, and sluice_test.h, the
in-process test client) declare, but sluice_app(), which each application
defines; and every function they declare must carry SL_API.  Prints "ok - ..." / "not ok - ..." lines; exits 1 when a check
failed.  Needs python3 and nm (binutils).
"""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True

# Declared in sluice.h, defined by the application, not by the library.
APP_DEFINES = {"sluice_app"}

# The public headers (include/), each with the fewest functions it may
# declare and one it must.
HEADERS = [("sluice.h", 30, "sluice_main"), ("sluice_test.h", 10, "sl_test_request")]


def declarations(header_text):
    """Function names declared at the top level of the header, and those of
    them declared without SL_API."""
    text = re.sub(r"/\*.*?\*/", "", header_text, flags=re.S)
    names, bare = set(), set()
    for m in re.finditer(r"^(?!typedef|#)([A-Za-z_][^;{}()]*?)\b((?:sl|sluice)_[a-z0-9_]+)\s*\(",
                         text, re.M):
        names.add(m.group(2))
        if not re.search(r"\bSL_API\b", m.group(1)):
            bare.add(m.group(2))
    return names, bare


def exports(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True,
                         text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            syms.add(parts[-1].split("@")[0])
    return syms


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.environ.get("top_srcdir") or os.path.join(here, "..", "..")
    lib = sys.argv[1] if len(sys.argv) > 1 else os.path.join(".libs", "libsluice.so")
    failed = 0

    def ok(cond, what, detail=()):
        nonlocal failed
        print("%s - %s" % ("ok" if cond else "not ok", what))
        if not cond:
            failed += 1
            for d in detail:
                print("#   " + d)

    if not os.path.isfile(lib):
        ok(False, "the library is built: %s" % lib)
        return 1
    declared = set()
    for name, at_least, one in HEADERS:
        with open(os.path.join(top, "include", name), encoding="utf-8") as f:
            names, bare = declarations(f.read())
        ok(len(names) >= at_least, "%s declares %d functions" % (name, len(names)))
        ok(not bare, "every function %s declares carries SL_API" % name, sorted(bare))
        ok(one in names, "%s declares %s()" % (name, one))
        declared |= names
    want = declared - APP_DEFINES
    have = exports(lib)
    extra = sorted(have - want)
    missing = sorted(want - have)
    ok(not extra, "%s exports nothing the headers do not declare (%d symbols)" % (lib, len(have)),
       extra[:40] + (["... and %d more" % (len(extra) - 40)] if len(extra) > 40 else []))
    ok(not missing, "%s exports every function the headers declare (%d)" % (lib, len(want)),
       missing)
    ok(not (have & APP_DEFINES), "the library does not define the application's sluice_app()")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
