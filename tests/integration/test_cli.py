#!/usr/bin/env python3
"""Command line, configuration file and socket handling."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HELLO = b"Hello, world!\n"


def run(t, args, timeout=15):
    """Run sluice to completion; a sluice still running after timeout is
    killed and reported as returncode 'timeout'."""
    argv = [harness.sluice_bin()] + args
    try:
        return t.run_cmd(argv, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(argv, "timeout", e.stdout or b"",
                                           (e.stderr or b"") + b"\n(killed after %d s)" % timeout)


def err_text(r):
    return r.stderr.decode("utf-8", "replace")


def main(t):
    demo = harness.sluice_demo()
    sock = t.path("s.sock")

    # bad option
    r = run(t, ["--no-such-option", "--fastcgi", "unix:" + sock, demo])
    t.eq(r.returncode, 2, "bad option: exit 2")
    lines = err_text(r).splitlines()
    t.eq(len(lines), 1, "bad option: exactly one line on stderr")
    if len(lines) != 1:
        t.note(err_text(r))
    t.ok(not os.path.exists(sock), "bad option: no socket created")

    # --help / --version
    r = run(t, ["--help"])
    t.eq(r.returncode, 0, "--help: exit 0")
    t.ok(re.search(rb"usage", r.stdout, re.I) and b"--fastcgi" in r.stdout,
         "--help: prints usage (with --fastcgi) on stdout", harness.short(r.stdout + r.stderr))
    r = run(t, ["--version"])
    t.eq(r.returncode, 0, "--version: exit 0")
    t.ok(re.search(rb"\d+\.\d+", r.stdout), "--version: prints a version on stdout",
         harness.short(r.stdout + r.stderr))

    # missing app
    missing = t.path("no-such-app.so")
    r = run(t, ["--fastcgi", "unix:" + sock, missing])
    t.eq(r.returncode, 1, "missing app file: exit 1")
    t.ok("no-such-app.so" in err_text(r), "missing app file: message names the file", err_text(r))
    t.ok(not os.path.exists(sock), "missing app file: no socket left behind")

    # a .so without sluice_app
    harness.need_program("cc")
    src = t.write("nosym.c", "int not_the_entry_point(void) { return 42; }\n")
    b = t.run_cmd(["cc", "-shared", "-fPIC", "-o", t.path("nosym.so"), src], timeout=60)
    t.eq(b.returncode, 0, "build nosym.so", b.stderr.decode(errors="replace") if b.returncode else None)
    r = run(t, ["--fastcgi", "unix:" + sock, t.path("nosym.so")])
    t.eq(r.returncode, 1, ".so without sluice_app: exit 1")
    t.ok("sluice_app" in err_text(r), ".so without sluice_app: message names the symbol", err_text(r))
    t.ok(not os.path.exists(sock), ".so without sluice_app: no socket left behind")

    # a socket held by a live sluice
    first = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="sluice-first")
    r = run(t, ["--workers", "1", "--fastcgi", "unix:" + sock, demo])
    t.ok(r.returncode != 0, "second sluice on a live socket: non-zero exit (%s)" % r.returncode)
    t.ok(re.search(r"in use", err_text(r), re.I), "second sluice: message says the socket is in use",
         err_text(r))
    t.ok(first.alive(), "the first sluice is still running")
    t.ok(os.path.exists(sock), "the socket file is still there")
    try:
        rr = harness.fcgi_request(sock, "GET", "/hello")
        t.eq(rr.body, HELLO, "the first sluice keeps serving")
    except Exception as e:
        t.ok(False, "the first sluice keeps serving", repr(e))
    first.signal(signal.SIGTERM)
    t.eq(first.wait(15), 0, "first sluice exits 0 on SIGTERM")
    t.ok(not os.path.exists(sock), "the socket file is removed after exit")

    # a stale socket file
    stale = t.path("stale.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(stale)
    ls.listen(1)
    ls.close()
    t.ok(os.path.exists(stale) and not harness.unix_connects(stale), "a stale socket file exists")
    try:
        st = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + stale], name="sluice-stale")
        rr = harness.fcgi_request(stale, "GET", "/hello")
        t.eq(rr.body, HELLO, "a stale socket file is replaced and served")
        st.signal(signal.SIGTERM)
        t.eq(st.wait(15), 0, "stale-socket sluice exits 0")
        t.ok(not os.path.exists(stale), "its socket file is removed after exit")
    except Exception as e:
        t.ok(False, "a stale socket file is replaced and served", repr(e))

    # config file
    csock = t.path("conf.sock")
    cfg = t.write("sluice.ini", "; test configuration\nworkers = 1\nfastcgi = unix:%s\n" % csock)
    try:
        cs = t.start_sluice(["-c", cfg], name="sluice-conf", wait_unix=[csock])
        rr = harness.fcgi_request(csock, "GET", "/hello")
        t.eq(rr.body, HELLO, "config file with workers and fastcgi keys: serving")
        kids = harness.wait_until(lambda: (lambda k: k if len(k) == 1 else None)(
            {p for p in harness.children_of(cs.pid) if harness.pid_alive(p)}), 3)
        t.ok(kids, "config file workers = 1: one worker",
             harness.children_of(cs.pid))
        cs.signal(signal.SIGTERM)
        t.eq(cs.wait(15), 0, "config-file sluice exits 0")
    except Exception as e:
        t.ok(False, "config file with workers and fastcgi keys works", repr(e))

    bad = t.write("bad.ini", "workers = 1\nno_such_key = 3\n")
    r = run(t, ["-c", bad, "--fastcgi", "unix:" + sock, demo])
    t.eq(r.returncode, 2, "config file with an unknown key: exit 2")
    t.ok(re.search(r"bad\.ini:2\b", err_text(r)), "unknown key: message names FILE:LINE (bad.ini:2)",
         err_text(r))
    t.ok(not os.path.exists(sock), "unknown key: no socket created")

    check_identity(t, demo)
    check_config_file_kinds(t, demo)
    check_loopback(t, demo)


def check_identity(t, demo):
    sock = t.path("ident.sock")
    # --group alone would leave the workers root
    r = run(t, ["--group", "nogroup", "--fastcgi", "unix:" + sock, demo])
    t.eq(r.returncode, 2, "--group without --user: exit 2", err_text(r))
    t.ok("--group" in err_text(r) and "--user" in err_text(r) and "root" in err_text(r),
         "--group without --user: the message names --user as the fix", err_text(r))
    t.ok(not os.path.exists(sock), "--group without --user: no socket created")
    r = run(t, ["--check-config", "--group", "nogroup", demo])
    t.eq(r.returncode, 1, "--check-config --group without --user: exit 1", err_text(r))

    # started as root without --user: one clear warning naming --user
    s = t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock], name="sluice-nouser")
    lines = harness.wait_until(lambda: [ln for ln in s.log_text().splitlines()
                                        if " warn: " in ln and "--user" in ln], 3)
    t.ok(lines and len(lines) == 1 and "root" in lines[0],
         "as root without --user: one warn line at start naming --user and root",
         harness.tail(s.log_text(), 8))
    s.signal(signal.SIGTERM)
    t.eq(s.wait(15), 0, "as root without --user: exit 0 on SIGTERM")
    s = t.start_sluice(["--workers", "1", "--user", "nobody", "--fastcgi", "unix:" + sock],
                       name="sluice-withuser")
    time.sleep(0.3)
    t.ok("--user" not in s.log_text(), "with --user nobody: no such warning",
         harness.tail(s.log_text(), 8))
    s.signal(signal.SIGTERM)
    t.eq(s.wait(15), 0, "with --user: exit 0 on SIGTERM")

    # --check-config looks the names up
    for args, name in ((["--user", "no-such-user-x"], "no-such-user-x"),
                       (["--user", "nobody", "--group", "no-such-group-x"], "no-such-group-x"),
                       (["--socket-owner", "no-such-owner-x"], "no-such-owner-x"),
                       (["--socket-group", "no-such-sgroup-x"], "no-such-sgroup-x")):
        opt = args[-2]
        r = run(t, ["--check-config"] + args + ["--fastcgi", "unix:" + sock, demo])
        t.eq(r.returncode, 1, "--check-config %s %s (unknown): exit 1" % (opt, name),
             err_text(r) + r.stdout.decode(errors="replace"))
        t.ok(opt in err_text(r) and name in err_text(r),
             "--check-config %s: the message names the option and '%s'" % (opt, name),
             err_text(r))
    r = run(t, ["--check-config", "--user", "nobody", "--group", "nogroup", "--socket-owner",
                "nobody", "--socket-group", "nogroup", "--fastcgi", "unix:" + sock, demo])
    t.eq(r.returncode, 0, "--check-config with users and groups that exist: exit 0",
         err_text(r))
    t.ok(not os.path.exists(sock), "--check-config binds nothing")


def check_config_file_kinds(t, demo):
    sock = t.path("kinds.sock")
    for path, what in (("/dev/zero", "a character device"), (t.tmp, "a directory")):
        t0 = time.monotonic()
        r = run(t, ["-c", path, "--fastcgi", "unix:" + sock, demo], timeout=10)
        dt = time.monotonic() - t0
        t.eq(r.returncode, 2, "-c %s (%s): exit 2 at once (%.1f s)" % (path, what, dt),
             err_text(r))
        t.ok("not a regular file" in err_text(r) and path in err_text(r),
             "-c %s: the message says it is not a regular file" % path, err_text(r))
    fifo = t.path("conf.fifo")
    os.mkfifo(fifo)
    r = run(t, ["-c", fifo, "--fastcgi", "unix:" + sock, demo], timeout=10)
    t.eq(r.returncode, 2, "-c FIFO: exit 2, without waiting for a writer", err_text(r))
    big = t.write("big.ini", "; padding\n" * 120000 + "workers = 1\n")
    r = run(t, ["-c", big, "--fastcgi", "unix:" + sock, demo], timeout=10)
    t.eq(r.returncode, 2, "-c with a 1.2 MB file: exit 2", err_text(r))
    t.ok("bytes" in err_text(r) and big in err_text(r),
         "-c with a 1.2 MB file: the message says it is too big", err_text(r))
    t.ok(not os.path.exists(sock), "bad config files: no socket created")


def check_loopback(t, demo):
    for addr in ("127.evil.example:9000", "127.0.0.1.nip.io:9000", "localhost.evil:9000",
                 "[::2]:9000", "10.0.0.1:9000"):
        r = run(t, ["--check-config", "--fastcgi", addr, demo])
        t.eq(r.returncode, 1, "--fastcgi %s without --allow-from: refused (exit 1 under "
             "--check-config)" % addr, err_text(r) + r.stdout.decode(errors="replace"))
        t.ok("--allow-from" in err_text(r), "--fastcgi %s: the message names --allow-from"
             % addr, err_text(r))
    for addr in ("127.0.0.1:9000", "127.1.2.3:9000", "[::1]:9000", "localhost:9000"):
        r = run(t, ["--check-config", "--fastcgi", addr, demo])
        t.eq(r.returncode, 0, "--fastcgi %s: loopback, accepted without --allow-from" % addr,
             err_text(r))


harness.run("cli", main)
