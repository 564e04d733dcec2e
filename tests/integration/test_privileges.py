#!/usr/bin/env python3
"""Privileges: application code never runs as the master's user, and files a
local user could plant do not turn the root master against other files.

- --user nobody: sluice_app(), the start hook and a handler record their ids
  (real, effective and saved uid and gid, supplementary groups) at start-up
  (the check process and the workers), under --check-config (also with
  --group), and after a SIGHUP reload: never root's.
- A symlink (or a hard link) planted at the --pidfile, --error-log and
  --access-log paths, pointing at a victim file: refused with a clear error,
  the victim unchanged.
- The unix socket: made with --socket-mode at bind() (its mode checked while
  bind() is held by strace), its owner changed through a descriptor, never a
  chmod or chown on a path; a symlink swapped in right after bind() is
  refused and the file it points to keeps its owner and mode.
- Log rotation with --user: on SIGUSR1 the master hands the workers the new
  files, so their lines and the access log land in the new files.

Every check runs in its own sluice, stopped when it is done; an exception in
one check fails it and the others still run."""
import grp
import os
import pwd
import re
import signal
import stat
import sys
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP = r'''#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sluice.h>

/* Each record is one line appended with one write(), from any process. */
static void record(const char *phase)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg, g[64];
    getresuid(&ru, &eu, &su);
    getresgid(&rg, &eg, &sg);
    int n = getgroups(64, g);
    char line[1024];
    int len = snprintf(line, sizeof line, "%s pid=%ld uid=%ld,%ld,%ld gid=%ld,%ld,%ld groups=",
                       phase, (long)getpid(), (long)ru, (long)eu, (long)su,
                       (long)rg, (long)eg, (long)sg);
    for (int i = 0; i < n && len < 900; i++)
        len += snprintf(line + len, sizeof line - len, "%s%ld", i ? "," : "", (long)g[i]);
    line[len++] = '\n';
    int fd = open("@RECORDS@", O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)len);
        (void)w;
        close(fd);
    }
}

static int who(sl_req *req)
{
    record("handler");
    return sl_resp_printf(req, "%ld\n", (long)getpid());
}

static int say(sl_req *req)
{
    const char *m = sl_req_query(req, "m");
    fprintf(stderr, "said %s\n", m ? m : "-");
    return sl_resp_printf(req, "ok\n");
}

static int start(sl_app *app)
{
    (void)app;
    record("start");
    return 0;
}

int sluice_app(sl_app *app)
{
    record("app");
    sl_on_worker_start(app, start);
    int rc = sl_route(app, "GET", "/who", who, SL_POOL);
    if (rc == 0)
        rc = sl_route(app, "GET", "/say", say, SL_LOOP);
    return rc;
}
'''


def workers_of(pid):
    return {p for p in harness.children_of(pid) if harness.pid_alive(p)}


def wait_workers(master, n, timeout=10, exclude=()):
    return harness.wait_until(
        lambda: (lambda w: w if len(w) == n else None)(workers_of(master) - set(exclude)),
        timeout)


def records(path):
    """[(phase, pid, (uids), (gids), [groups])] from the record file."""
    out = []
    for ln in harness.read_text(path).splitlines():
        m = re.match(r"(\w+) pid=(\d+) uid=([\d,]+) gid=([\d,]+) groups=([\d,]*)$", ln)
        if m:
            out.append((m.group(1), int(m.group(2)),
                        tuple(int(x) for x in m.group(3).split(",")),
                        tuple(int(x) for x in m.group(4).split(",")),
                        sorted(int(x) for x in m.group(5).split(",") if x)))
    return out


def check_records(t, recs, what, uid, gid, groups):
    """Every record is (uid, gid, groups) in all three ids; none is root."""
    bad = [r for r in recs if r[2] != (uid, uid, uid) or r[3] != (gid, gid, gid)
           or r[4] != groups or 0 in r[2] or 0 in r[4]]
    t.ok(recs and not bad, "%s: %d records, all uid %d, gid %d, groups %s (real, "
         "effective and saved)" % (what, len(recs), uid, gid, groups),
         "\n".join(map(str, bad or recs)))


def start_plain(t, name, argv, env=None, wait_unix=(), timeout=10):
    """Start exactly argv (no APP appended), wait for its sockets."""
    p = t.spawn(t._unique(name), argv, env=env)
    deadline = time.monotonic() + timeout
    for path in wait_unix:
        harness.wait_until(lambda: harness.unix_connects(path) or not p.alive(),
                           max(0.0, deadline - time.monotonic()))
        if not harness.unix_connects(path):
            raise RuntimeError("%s: socket %s not accepting (exit %s):\n%s"
                               % (name, path, p.poll(), harness.tail(p.log_text())))
    return p


def no_leak_env():
    # LeakSanitizer cannot run under ptrace (strace): in a sanitizer build,
    # the traced runs do without it.
    return dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")


# --------------------------------------------------------------------------
# A: application code runs as --user

def check_app_user(t, app, rec):
    pw = pwd.getpwnam("nobody")
    uid, gid = pw.pw_uid, pw.pw_gid
    groups = sorted(set(os.getgrouplist("nobody", gid)))
    sock = t.path("user.sock")
    s = t.start_sluice(["--workers", "2", "--user", "nobody", "--fastcgi", "unix:" + sock],
                       app=app, name="sluice-user")
    w0 = wait_workers(s.pid, 2, 10)
    t.ok(w0, "--user nobody: 2 workers (%s)" % sorted(w0 or []))
    got = set()
    for _ in range(10):
        r = harness.fcgi_request(sock, "GET", "/who")
        if r.status == 200:
            got.add(int(r.body))
    t.ok(got and got <= (w0 or set()), "--user nobody: /who answered by the workers %s"
         % sorted(got))
    recs = records(rec)
    apps = [r for r in recs if r[0] == "app"]
    t.ok(len(apps) == 3 and len({r[1] for r in apps}) == 3 and not ({r[1] for r in apps} & {s.pid}),
         "start-up: sluice_app ran in 3 processes (the check process and 2 workers), "
         "not in the master", "\n".join(map(str, recs)))
    t.eq(len([r for r in recs if r[0] == "start"]), 2, "start-up: the start hook ran twice")
    check_records(t, [r for r in recs if r[0] == "app"], "start-up: sluice_app", uid, gid, groups)
    check_records(t, [r for r in recs if r[0] == "start"], "start-up: the start hook",
                  uid, gid, groups)
    check_records(t, [r for r in recs if r[0] == "handler"], "start-up: the handler",
                  uid, gid, groups)

    # --check-config, with the user's own group and with --group
    for extra, g in ((["--user", "nobody"], gid),
                     (["--user", "nobody", "--group", "daemon"], grp.getgrnam("daemon").gr_gid)):
        n = len(records(rec))
        r = t.run_cmd([harness.sluice_bin(), "--check-config", "--fastcgi",
                       "unix:" + t.path("cc.sock")] + extra + [app], timeout=20)
        t.eq(r.returncode, 0, "--check-config %s: exit 0" % " ".join(extra),
             (r.stdout + r.stderr).decode(errors="replace"))
        new = records(rec)[n:]
        t.eq([x[0] for x in new], ["app"], "--check-config %s: sluice_app ran once"
             % " ".join(extra))
        check_records(t, new, "--check-config %s: sluice_app" % " ".join(extra), uid, g,
                      sorted(set(os.getgrouplist("nobody", g))))

    # SIGHUP: the check process and the new generation
    n = len(records(rec))
    s.signal(signal.SIGHUP)
    w1 = wait_workers(s.pid, 2, 15, exclude=w0 or ())
    t.ok(w1, "SIGHUP: a new generation of 2 workers (%s)" % sorted(w1 or []))
    gone = harness.wait_until(lambda: not (workers_of(s.pid) & (w0 or set())), 10)
    t.ok(gone, "SIGHUP: the old generation is gone")
    for _ in range(5):
        harness.fcgi_request(sock, "GET", "/who")
    new = records(rec)[n:]
    t.eq(len([x for x in new if x[0] == "app"]), 3,
         "SIGHUP: sluice_app ran in the check process and the 2 new workers",
         "\n".join(map(str, new)))
    check_records(t, [x for x in new if x[0] == "app"], "SIGHUP: sluice_app", uid, gid, groups)
    check_records(t, [x for x in new if x[0] == "start"], "SIGHUP: the start hook",
                  uid, gid, groups)
    check_records(t, [x for x in new if x[0] == "handler"], "SIGHUP: the handler",
                  uid, gid, groups)
    s.signal(signal.SIGTERM)
    t.eq(s.wait(15), 0, "--user nobody: SIGTERM stops sluice with exit 0")


# --------------------------------------------------------------------------
# B: planted symlinks and hard links

def victim_file(t, name):
    p = t.write(name, "precious: must stay as it is\n")
    os.chmod(p, 0o644)
    st = os.stat(p)
    return p, (st.st_uid, st.st_gid, st.st_mode, harness.read_text(p))


def victim_state(p):
    st = os.stat(p)
    return (st.st_uid, st.st_gid, st.st_mode, harness.read_text(p))


def run_sluice(t, args, app, timeout=15):
    argv = [harness.sluice_bin(), "--workers", "1"] + args + [app]
    try:
        r = t.run_cmd(argv, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")
    except Exception as e:   # still running: it wrote through the link
        return "timeout", repr(e)


def check_planted_files(t, app):
    sock = t.path("plant.sock")
    for opt, what in (("--pidfile", "pidfile"), ("--error-log", "error log"),
                      ("--access-log", "access log")):
        victim, before = victim_file(t, "victim-%s" % opt.strip("-"))
        link = t.path("planted-%s" % opt.strip("-"))
        os.symlink(victim, link)
        rc, out = run_sluice(t, [opt, link, "--fastcgi", "unix:" + sock], app)
        t.eq(rc, 1, "%s: a symlink planted at the path: sluice exits 1" % what, out)
        t.ok(re.search(r"symbolic link", out) and link in out,
             "%s: the error names the path and says it is a symbolic link" % what, out)
        t.eq(victim_state(victim), before, "%s: the file the symlink points to is unchanged"
             % what)
        t.ok(not os.path.exists(sock), "%s: no socket left behind" % what)

    # a hard link to a root-owned file at the pidfile path
    victim, before = victim_file(t, "victim-hardlink")
    link = t.path("hardlinked.pid")
    os.link(victim, link)
    rc, out = run_sluice(t, ["--pidfile", link, "--fastcgi", "unix:" + sock], app)
    t.eq(rc, 1, "pidfile: a hard link planted at the path: sluice exits 1", out)
    t.ok("not a plain file of ours" in out, "pidfile: the error says why", out)
    t.eq(victim_state(victim), before, "pidfile: the hard-linked file is unchanged")

    # a stale pidfile left by a crash is still replaced
    pidf = t.write("stale.pid", "999999\n")
    s = t.start_sluice(["--workers", "1", "--pidfile", pidf, "--fastcgi", "unix:" + sock],
                       app=app, name="sluice-stalepid")
    text = harness.wait_until(lambda: harness.read_text(pidf).strip() == str(s.pid), 5)
    t.ok(text, "pidfile: a stale pidfile is replaced with the master's pid",
         harness.read_text(pidf))
    s.signal(signal.SIGTERM)
    t.eq(s.wait(15), 0, "pidfile: sluice exits 0")
    t.ok(not os.path.exists(pidf), "pidfile: removed at exit")


def check_socket_calls(t, app):
    harness.need_program("strace")
    sock = t.path("traced.sock")
    trace = t.path("socket.trace")
    pw = pwd.getpwnam("nobody")
    ng = grp.getgrnam("nogroup").gr_gid
    s = start_plain(t, "strace-socket", [
        "strace", "-f", "-qq", "-o", trace, "-e",
        "trace=chmod,fchmod,fchmodat,chown,fchown,lchown,fchownat",
        harness.sluice_bin(), "--workers", "1", "--socket-mode", "0600", "--socket-owner",
        "nobody", "--socket-group", "nogroup", "--fastcgi", "unix:" + sock, app],
        env=no_leak_env(), wait_unix=[sock], timeout=30)
    st = os.lstat(sock)
    t.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
         "socket: mode 0600 as --socket-mode says (%o)" % st.st_mode)
    t.eq((st.st_uid, st.st_gid), (pw.pw_uid, ng), "socket: owned by nobody:nogroup")
    r = harness.fcgi_request(sock, "GET", "/say?m=x")
    t.eq(r.status, 200, "socket: it serves")
    # strace's child is the master
    master = [p for p in harness.children_of(s.pid) if harness.pid_alive(p)]
    for p in master:
        os.kill(p, signal.SIGTERM)
    t.eq(s.wait(15), 0, "socket: SIGTERM to the master %s stops it" % master)
    calls = [ln for ln in harness.read_text(trace).splitlines()
             if re.search(r"\b(chmod|fchmod|fchmodat|chown|fchown|lchown|fchownat)\(", ln)]
    by_path = [ln for ln in calls if not re.search(r'fchownat\(\d+, "", \d+, \d+, AT_EMPTY_PATH\)', ln)]
    t.ok(calls and not by_path, "socket: no chmod and no chown by path; the owner is set "
         "with fchownat(fd, \"\", ..., AT_EMPTY_PATH) (%d calls)" % len(calls),
         "\n".join(by_path or calls or ["(no call traced)"]))


def check_socket_swap(t, app):
    """bind() is held for 1.5 s by strace: the socket is looked at as bind()
    made it, then replaced with a symlink to a victim file."""
    harness.need_program("strace")
    sock = t.path("swap.sock")
    victim, before = victim_file(t, "victim-socket")
    s = t.spawn("strace-swap", [
        "strace", "-f", "-qq", "-o", t.path("swap.trace"), "-e", "trace=bind",
        "-e", "inject=bind:delay_exit=1500000",
        harness.sluice_bin(), "--workers", "1", "--socket-mode", "0600", "--socket-owner",
        "nobody", "--socket-group", "nogroup", "--fastcgi", "unix:" + sock, app],
        env=no_leak_env())
    made = harness.wait_until(lambda: os.path.lexists(sock), 20, interval=0.01)
    t.ok(made, "swap: the socket file appears (bind() held by strace)")
    if not made:
        return
    st = os.lstat(sock)
    t.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
         "swap: the socket has mode 0600 the moment bind() made it (%o)" % st.st_mode)
    os.unlink(sock)
    os.symlink(victim, sock)
    rc = s.wait(20)
    out = s.log_text()
    t.eq(rc, 1, "swap: sluice refuses a socket path replaced by a symlink (exit 1)", out)
    t.ok("no longer names the socket" in out, "swap: the error says the path was replaced",
         harness.tail(out, 10))
    t.eq(victim_state(victim), before, "swap: the symlink's target keeps its owner, group, "
         "mode and content")


# --------------------------------------------------------------------------
# D: log rotation with --user

def check_rotation(t, app):
    elog = t.path("rot-error.log")
    alog = t.path("rot-access.log")
    sock = t.path("rot.sock")
    s = t.start_sluice(["--workers", "2", "--user", "nobody", "--error-log", elog,
                        "--access-log", alog, "--fastcgi", "unix:" + sock],
                       app=app, name="sluice-rotate")
    t.extra_logs += [elog, elog + ".1"]
    ws = wait_workers(s.pid, 2, 10)
    t.ok(ws, "rotate: 2 workers as nobody (%s)" % sorted(ws or []))
    harness.wait_until(lambda: harness.read_text(elog).count("worker ready") >= 2, 5)
    for i in range(4):
        harness.fcgi_request(sock, "GET", "/say?m=before%d" % i)
    t.ok(harness.wait_until(lambda: "said before3" in harness.read_text(elog), 3),
         "rotate: the workers' lines go to the error log", harness.tail(harness.read_text(elog)))
    os.rename(elog, elog + ".1")
    os.rename(alog, alog + ".1")
    s.signal(signal.SIGUSR1)
    t.ok(harness.wait_until(lambda: "SIGUSR1: log files reopened" in harness.read_text(elog), 5),
         "rotate: SIGUSR1: the master writes to a new error log")
    t.ok(harness.wait_until(lambda: harness.read_text(elog).count("worker info: log files reopened") >= 2, 5),
         "rotate: both workers say in the new error log that they took the new files",
         harness.tail(harness.read_text(elog)) + "\n--- old:\n" +
         harness.tail(harness.read_text(elog + ".1")))
    pids, statuses = set(), []
    for i in range(8):
        r = harness.fcgi_request(sock, "GET", "/say?m=after%d" % i)
        statuses.append(r.status)
        r = harness.fcgi_request(sock, "GET", "/who")
        statuses.append(r.status)
        pids.add(int(r.body))
    t.eq(statuses, [200] * 16, "rotate: 16 requests after SIGUSR1 served")
    new_e = harness.wait_until(lambda: (lambda x: x if "said after7" in x else None)(
        harness.read_text(elog)), 3) or harness.read_text(elog)
    old_e = harness.read_text(elog + ".1")
    t.ok(all("said after%d" % i in new_e for i in range(8)),
         "rotate: the workers' lines after SIGUSR1 land in the new error log", harness.tail(new_e))
    t.ok("said after" not in old_e, "rotate: none in the renamed one", harness.tail(old_e))
    new_a = harness.wait_until(lambda: (lambda x: x if x.count("GET /who\"") == 8 else None)(
        harness.read_text(alog)), 3) or harness.read_text(alog)
    old_a = harness.read_text(alog + ".1")
    t.ok(all("/say?m=after%d" % i in new_a for i in range(8)) and new_a.count("GET /who\"") == 8,
         "rotate: the access log lines after SIGUSR1 land in the new access log",
         harness.tail(new_a))
    t.ok("after" not in old_a and "/say?m=before3" in old_a,
         "rotate: the renamed access log has only the earlier lines", harness.tail(old_a))
    st = os.stat(alog)
    t.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o640,
         "rotate: the new access log is root's, mode 0640 (%d, %o)" % (st.st_uid, st.st_mode))
    t.ok(pids and pids <= (ws or set()), "rotate: the same workers serve (%s)" % sorted(pids))


def section(t, name, fn, *args):
    n = len(t.procs)
    t0 = time.monotonic()
    try:
        fn(t, *args)
    except Exception as e:
        t.ok(False, "%s: unexpected %s: %s" % (name, type(e).__name__,
                                               str(e).splitlines()[0] if str(e) else ""),
             traceback.format_exc())
    finally:
        for p in t.procs[n:]:
            try:
                p.stop()
            except Exception as e:
                t.note("stopping %s: %r" % (p.name, e))
        t.note("%s: %.1f s" % (name, time.monotonic() - t0))


def main(t):
    d = t.path("records")
    os.makedirs(d)
    os.chmod(d, 0o777)      # nobody may write there, whoever the writer is
    rec = os.path.join(d, "ids")
    with open(rec, "w"):
        pass
    os.chmod(rec, 0o666)
    app = t.build_app("priv", APP.replace("@RECORDS@", rec))
    section(t, "app-user", check_app_user, app, rec)
    section(t, "planted-files", check_planted_files, app)
    section(t, "socket-calls", check_socket_calls, app)
    section(t, "socket-swap", check_socket_swap, app)
    section(t, "rotation", check_rotation, app)


if __name__ == "__main__":
    harness.run("privileges", main)
