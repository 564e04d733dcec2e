"""Shared helpers for sluice's integration tests (python3 stdlib only).

A test script does:

    import harness
    def main(t):
        s = t.start_sluice(["--fastcgi", "unix:" + t.path("fcgi.sock")])
        port = t.start_nginx(fcgi_sock=t.path("fcgi.sock"))
        r = harness.http_get(port, "/hello")
        t.eq(r.status, 200, "GET /hello status")
    harness.run("routes", main)

Output is one line per check, "ok - ..." or "not ok - ...".  The script exits
0 when every check passed, 1 otherwise (also when a prerequisite is missing:
tests never skip).  Everything started is killed at the end (SIGTERM, then
SIGKILL after 5 s), whatever happens; the temporary directory is removed
unless KEEP=1.  On failure the tail of every log is printed.

Environment (set by `make check`): SLUICE_BIN, SLUICE_DEMO, SLUICE_CONFDIR
(falls back to $top_srcdir/conf, then to ../../conf next to this file),
SLUICE_INCLUDEDIR, SLUICE_LIBDIR, PKG_CONFIG_PATH, PKG_CONFIG_SYSROOT_DIR,
LD_LIBRARY_PATH, top_srcdir.
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
START_TIMEOUT = 10.0
KILL_GRACE = 5.0


class Prerequisite(Exception):
    """A required program, file or variable is missing: the test fails."""


# --------------------------------------------------------------------------
# Environment

def env_path(name, must_exist=True):
    v = os.environ.get(name)
    if not v:
        raise Prerequisite("environment variable %s is not set" % name)
    if must_exist and not os.path.exists(v):
        raise Prerequisite("%s=%s does not exist" % (name, v))
    return v


def sluice_bin():
    p = env_path("SLUICE_BIN")
    if not os.access(p, os.X_OK):
        raise Prerequisite("SLUICE_BIN=%s is not executable" % p)
    return p


def sluice_demo():
    return env_path("SLUICE_DEMO")


def confdir():
    cands = []
    if os.environ.get("SLUICE_CONFDIR"):
        cands.append(os.environ["SLUICE_CONFDIR"])
    if os.environ.get("top_srcdir"):
        cands.append(os.path.join(os.environ["top_srcdir"], "conf"))
    cands.append(os.path.normpath(os.path.join(HERE, "..", "..", "conf")))
    for c in cands:
        if os.path.isfile(os.path.join(c, "nginx", "sluice.conf")):
            return c
    raise Prerequisite("no conf dir with nginx/sluice.conf among %s" % cands)


def need_program(name):
    p = shutil.which(name)
    if not p:
        raise Prerequisite("program %s not found in PATH" % name)
    return p


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until it returns a true value or timeout; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def unix_connects(path):
    if not os.path.exists(path):
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def tcp_connects(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------
# Processes

class Proc:
    """A started process, in its own session (process group)."""

    def __init__(self, name, argv, log, env=None, cwd=None, stdout_log=None):
        self.name = name
        self.argv = argv
        self.log = log
        self._logf = open(log, "ab")
        out = self._logf
        if stdout_log:
            self._outf = open(stdout_log, "ab")
            out = self._outf
        else:
            self._outf = None
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=self._logf,
            env=env, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid
        self.returncode = None

    def alive(self):
        return self.poll() is None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.popen.poll()
        return self.returncode

    def wait(self, timeout):
        """Exit status, or None if still running after timeout."""
        try:
            self.returncode = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def signal(self, sig):
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def _killpg(self, sig):
        try:
            os.killpg(self.pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def stop(self):
        """SIGTERM to the whole group, SIGKILL after KILL_GRACE seconds."""
        if self.poll() is None:
            self._killpg(signal.SIGTERM)
            if self.wait(KILL_GRACE) is None:
                self._killpg(signal.SIGKILL)
                self.wait(KILL_GRACE)
        # Leftovers of the group (workers whose master died) go too.
        if group_members(self.pid):
            self._killpg(signal.SIGTERM)
            if not wait_until(lambda: not group_members(self.pid), KILL_GRACE):
                self._killpg(signal.SIGKILL)
                wait_until(lambda: not group_members(self.pid), KILL_GRACE)
        for f in (self._logf, self._outf):
            if f:
                f.close()

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def group_members(pgid):
    """Live (non-zombie) pids in process group pgid."""
    out = []
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if len(rest) > 2 and rest[0] != "Z" and int(rest[2]) == pgid:
            out.append(int(ent))
    return out


def children_of(pid):
    """Pids whose parent is pid (all threads' children, else a /proc scan)."""
    kids = set()
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids.update(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    if kids:
        return kids
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                st = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain anything
        rest = st[st.rfind(")") + 2:].split()
        if len(rest) > 1 and int(rest[1]) == pid:
            kids.add(int(ent))
    return kids


def unix_connections(path):
    """Number of connected server-side sockets of the unix socket `path`
    (from /proc/net/unix: accepted sockets carry the listener's path)."""
    n = 0
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 8 and parts[7] == path and parts[5] == "03":
                    n += 1
    except OSError:
        pass
    return n


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rfind(")") + 2:].split()[0]
    except OSError:
        return None


def pid_alive(pid):
    s = proc_state(pid)
    return s is not None and s != "Z"


# --------------------------------------------------------------------------
# The test context

class Test:
    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="sl-%s-" % name, dir="/tmp")
        os.chmod(self.tmp, 0o755)
        self.procs = []
        self.extra_logs = []
        self.count = 0
        self.failed = 0
        self._cleaned = False
        self._lock = threading.Lock()
        atexit.register(self.cleanup)

    # ---- reporting
    def ok(self, cond, desc, diag=None):
        with self._lock:
            self.count += 1
            if cond:
                _say("ok - %s" % desc)
            else:
                self.failed += 1
                _say("not ok - %s" % desc)
                if diag is not None:
                    for line in str(diag).splitlines()[:40]:
                        _say("#   " + line)
        return bool(cond)

    def eq(self, got, want, desc, diag=None):
        if got == want:
            return self.ok(True, desc)
        d = "got:  %s\nwant: %s" % (short(got), short(want))
        if diag:
            d += "\n" + str(diag)
        return self.ok(False, desc, d)

    def note(self, msg):
        for line in str(msg).splitlines():
            _say("# " + line)

    # ---- files
    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, name, text, mode=None):
        p = self.path(name)
        with open(p, "w" if isinstance(text, str) else "wb") as f:
            f.write(text)
        if mode is not None:
            os.chmod(p, mode)
        return p

    # ---- processes
    def spawn(self, name, argv, env=None, cwd=None, stdout_log=None):
        log = self.path("%s.log" % name)
        p = Proc(name, argv, log, env=env, cwd=cwd or self.tmp, stdout_log=stdout_log)
        self.procs.append(p)
        return p

    def start_sluice(self, args, app=None, name="sluice", log_level="info",
                     wait_unix=None, wait_tcp=None, timeout=START_TIMEOUT):
        """Start `SLUICE_BIN [--log-level L] *args APP` and wait for its sockets.

        wait_unix: socket paths to wait for; by default every unix:PATH
        among args.  Raises if sluice exits or a socket is not up in time."""
        argv = [sluice_bin()]
        if log_level:
            argv += ["--log-level", log_level]
        argv += list(args)
        argv.append(app or sluice_demo())
        if wait_unix is None:
            wait_unix = [a[5:] for a in args if isinstance(a, str) and a.startswith("unix:")]
        p = self.spawn(self._unique(name), argv)
        deadline = time.monotonic() + timeout
        for path in wait_unix:
            wait_until(lambda: unix_connects(path) or not p.alive(),
                       max(0.0, deadline - time.monotonic()))
            if not p.alive():
                raise RuntimeError("%s exited with %s during start-up:\n%s"
                                   % (name, p.returncode, tail(p.log_text())))
            if not unix_connects(path):
                raise RuntimeError("%s: socket %s not accepting after %.0f s"
                                   % (name, path, timeout))
        for port in wait_tcp or []:
            wait_until(lambda: tcp_connects(port) or not p.alive(),
                       max(0.0, deadline - time.monotonic()))
            if not tcp_connects(port):
                raise RuntimeError("%s: port %d not accepting" % (name, port))
        return p

    def nginx_conf(self, fcgi_sock=None, scgi_sock=None):
        """Write TMP/nginx/nginx.conf including substituted copies of the
        shipped configs; returns (conf path, fcgi port, scgi port)."""
        need_program("nginx")
        cd = confdir()
        nd = self.path(self._unique("nginx"))
        os.makedirs(nd, exist_ok=True)
        for f in ("fastcgi_params", "scgi_params", "mime.types"):
            src = os.path.join("/etc/nginx", f)
            if not os.path.exists(src):
                raise Prerequisite("%s missing" % src)
            shutil.copy(src, os.path.join(nd, f))
        includes = []
        fport = sport = None
        if fcgi_sock:
            fport = free_port()
            with open(os.path.join(cd, "nginx", "sluice.conf")) as f:
                text = f.read()
            text = text.replace("/run/sluice.sock", fcgi_sock).replace("8080", str(fport))
            includes.append(self._put(os.path.join(nd, "sluice.conf"), text))
        if scgi_sock:
            sport = free_port()
            with open(os.path.join(cd, "nginx", "sluice-scgi.conf")) as f:
                text = f.read()
            text = text.replace("/run/sluice-scgi.sock", scgi_sock).replace("8081", str(sport))
            includes.append(self._put(os.path.join(nd, "sluice-scgi.conf"), text))
        for d in ("body", "fastcgi", "scgi", "proxy", "uwsgi"):
            os.makedirs(os.path.join(nd, "tmp", d), exist_ok=True)
        main = """daemon off;
master_process on;
worker_processes 1;
user root;
pid {nd}/nginx.pid;
error_log {nd}/error.log info;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {nd}/tmp/body;
    fastcgi_temp_path {nd}/tmp/fastcgi;
    scgi_temp_path {nd}/tmp/scgi;
    proxy_temp_path {nd}/tmp/proxy;
    uwsgi_temp_path {nd}/tmp/uwsgi;
{inc}
}}
""".format(nd=nd, inc="".join("    include %s;\n" % i for i in includes))
        return self._put(os.path.join(nd, "nginx.conf"), main), fport, sport

    def _unique(self, base):
        """base, base-2, base-3, ...: a name not used yet in the temp dir."""
        name, i = base, 1
        while os.path.exists(self.path(name)) or os.path.exists(self.path(name + ".log")):
            i += 1
            name = "%s-%d" % (base, i)
        return name

    @staticmethod
    def _put(p, text):
        with open(p, "w") as f:
            f.write(text)
        return p

    def start_nginx(self, fcgi_sock=None, scgi_sock=None, timeout=START_TIMEOUT):
        """Start nginx with the shipped config(s); returns (fcgi port, scgi port)."""
        conf, fport, sport = self.nginx_conf(fcgi_sock, scgi_sock)
        nd = os.path.dirname(conf)
        self.extra_logs.append(os.path.join(nd, "error.log"))
        p = self.spawn(os.path.basename(nd), ["nginx", "-p", nd + "/", "-e", os.path.join(nd, "error.log"),
                                 "-c", conf])
        for port in (fport, sport):
            if port is None:
                continue
            wait_until(lambda: tcp_connects(port) or not p.alive(), timeout)
            if not tcp_connects(port):
                raise RuntimeError("nginx not answering on %d (exit %s):\n%s\n%s" % (
                    port, p.poll(), tail(p.log_text()),
                    tail(read_text(os.path.join(nd, "error.log")))))
        return fport, sport

    def start_caddy(self, fcgi_sock, timeout=START_TIMEOUT):
        """Start caddy with the shipped Caddyfile; returns its port."""
        need_program("caddy")
        cd = confdir()
        d = self.path(self._unique("caddy"))
        for sub in ("home", "data", "config"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        port = free_port()
        with open(os.path.join(cd, "caddy", "Caddyfile")) as f:
            text = f.read()
        text = text.replace("/run/sluice.sock", fcgi_sock).replace("8080", str(port))
        cf = self._put(os.path.join(d, "Caddyfile"), text)
        env = dict(os.environ, HOME=os.path.join(d, "home"),
                   XDG_DATA_HOME=os.path.join(d, "data"),
                   XDG_CONFIG_HOME=os.path.join(d, "config"))
        p = self.spawn(os.path.basename(d), ["caddy", "run", "--config", cf, "--adapter", "caddyfile"],
                       env=env, cwd=d)
        wait_until(lambda: tcp_connects(port) or not p.alive(), timeout)
        if not tcp_connects(port):
            raise RuntimeError("caddy not answering on %d (exit %s):\n%s"
                               % (port, p.poll(), tail(p.log_text())))
        return port

    def run_cmd(self, argv, timeout=30, env=None, input=None, shell=False):
        """Run to completion; returns CompletedProcess (bytes stdout/stderr).
        Raises subprocess.TimeoutExpired after killing it on timeout."""
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             cwd=self.tmp, shell=shell, start_new_session=True)
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.communicate(timeout=KILL_GRACE)
            raise
        return subprocess.CompletedProcess(argv, p.returncode, out, err)

    def build_app(self, name, source, cflags=""):
        """Build NAME.so from C source the way a user builds an app:
        cc -shared -fPIC ... $(pkg-config --cflags --libs sluice).  Records
        one check; raises Prerequisite when it does not build."""
        need_program("cc")
        need_program("pkg-config")
        self.write(name + ".c", source)
        r = self.run_cmd(["sh", "-c", "cc %s -shared -fPIC -o %s.so %s.c "
                          "$(pkg-config --cflags --libs sluice)" % (cflags, name, name)],
                         timeout=120)
        self.eq(r.returncode, 0, "build the test app %s.so with cc and pkg-config" % name,
                (r.stdout + r.stderr).decode(errors="replace"))
        if r.returncode != 0:
            raise Prerequisite("the test app %s does not build" % name)
        return self.path(name + ".so")

    # ---- end
    def dump_logs(self):
        for p in self.procs:
            self.note("---- %s (pid %d, exit %s) log %s, last lines:" % (
                p.name, p.pid, p.poll(), p.log))
            self.note(tail(p.log_text()) or "(empty)")
        for lg in self.extra_logs:
            self.note("---- %s, last lines:" % lg)
            self.note(tail(read_text(lg)) or "(empty)")

    def check_sanitizer_reports(self):
        """In a sanitizer build (configure --enable-sanitizers) every report
        from sluice, its workers or the app fails the test."""
        markers = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "WARNING: ThreadSanitizer")
        logs = [(p.name, p.log_text()) for p in self.procs if p.name.startswith("sluice")]
        # Error logs a test sent to files (--error-log) count too.
        logs += [(lg, read_text(lg)) for lg in self.extra_logs]
        for name, text in logs:
            hits = [ln for ln in text.splitlines() if any(m in ln for m in markers)]
            if hits:
                i = text.find(hits[0])
                self.ok(False, "%s: sanitizer report in its log" % name,
                        text[i:i + 4000])

    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                _say("# cleanup of %s: %r" % (p.name, e))
        self.check_sanitizer_reports()
        try:
            if self.failed or self.count == 0:
                self.dump_logs()
        except Exception:       # e.g. stdout is a closed pipe
            pass
        if os.environ.get("KEEP") == "1":
            _say("# KEEP=1: temporary directory kept: %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _say(line):
    try:
        print(line, flush=True)
    except Exception:
        pass


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def tail(text, n=30):
    return "\n".join(text.splitlines()[-n:])


def short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "... (%d chars)" % len(s)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run(name, main):
    """Run main(t) as test `name` and exit with its verdict."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    t = None
    rc = 1
    try:
        t = Test(name)
        t.note("test %s, temporary directory %s" % (name, t.tmp))
        main(t)
    except Prerequisite as e:
        if t is None:
            _say("not ok - prerequisite: %s" % e)
        else:
            t.ok(False, "prerequisite: %s" % e)
    except BaseException as e:
        msg = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        if t is None:
            _say("not ok - %s raised:\n%s" % (name, msg))
        else:
            t.ok(False, "unexpected exception %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""), msg)
    finally:
        if t is not None:
            t.cleanup()
            rc = 0 if (t.failed == 0 and t.count > 0) else 1
            _say("# %s: %d checks, %d failed" % (name, t.count, t.failed))
    sys.stdout.flush()
    os._exit(rc)   # do not wait for stray client threads


# --------------------------------------------------------------------------
# HTTP client

class Response:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body                # bytes
        self.reason = reason

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def ctype(self):
        return self.header("Content-Type")

    @property
    def media_type(self):
        ct = self.ctype
        return ct.split(";")[0].strip().lower() if ct else None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %s %s %s>" % (self.status, self.ctype, short(self.body, 120))


def http_request(port, method, path, body=None, headers=None, timeout=30, host="127.0.0.1"):
    """One request on a new connection."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data, r.reason)
    finally:
        c.close()


def http_get(port, path, **kw):
    return http_request(port, "GET", path, **kw)


class HTTPClient:
    """A keep-alive HTTP/1.1 connection to 127.0.0.1:port (reconnects)."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.connects = 0

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.connects += 1
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            data = r.read()
            if r.will_close:
                self.close()
            return Response(r.status, r.getheaders(), data, r.reason)
        except Exception:
            self.close()
            raise

    def get(self, path):
        return self.request("GET", path)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --------------------------------------------------------------------------
# FastCGI client

FCGI_VERSION_1 = 1
FCGI_BEGIN_REQUEST = 1
FCGI_ABORT_REQUEST = 2
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_DATA = 8
FCGI_GET_VALUES = 9
FCGI_GET_VALUES_RESULT = 10
FCGI_UNKNOWN_TYPE = 11
FCGI_RESPONDER = 1
FCGI_AUTHORIZER = 2
FCGI_KEEP_CONN = 1
FCGI_REQUEST_COMPLETE = 0
FCGI_CANT_MPX_CONN = 1
FCGI_OVERLOADED = 2
FCGI_UNKNOWN_ROLE = 3


def fcgi_record(rtype, req_id, content=b"", version=FCGI_VERSION_1, pad=True):
    if len(content) > 0xFFFF:
        raise ValueError("record content too long")
    plen = (-len(content)) % 8 if pad else 0
    return struct.pack(">BBHHBx", version, rtype, req_id, len(content), plen) + content + b"\0" * plen


def fcgi_nv(name, value):
    """One name-value pair."""
    if isinstance(name, str):
        name = name.encode()
    if isinstance(value, str):
        value = value.encode()
    out = b""
    for n in (len(name), len(value)):
        out += struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def fcgi_nv_encode(pairs):
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return b"".join(fcgi_nv(k, v) for k, v in items)


def fcgi_nv_pairs(data):
    """Name-value pairs of a FastCGI stream, in order, repeats kept."""
    out = []
    i = 0
    while i < len(data):
        lens = []
        for _ in range(2):
            if data[i] & 0x80:
                lens.append(struct.unpack(">I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
            else:
                lens.append(data[i])
                i += 1
        out.append((data[i:i + lens[0]].decode("latin-1"),
                    data[i + lens[0]:i + lens[0] + lens[1]].decode("latin-1")))
        i += lens[0] + lens[1]
    return out


def fcgi_nv_decode(data):
    """The same as a dict (the last of repeated names wins)."""
    return dict(fcgi_nv_pairs(data))


def vmrss_kb(pid):
    """Resident memory of a process in kB, or None when it is gone."""
    for ln in read_text("/proc/%d/status" % pid).splitlines():
        if ln.startswith("VmRSS:"):
            return int(ln.split()[1])
    return None


def rss_anon_kb(pid):
    """Resident anonymous memory (heap, stacks) of a process in kB, or None
    when it is gone: what it allocated, without the pages of its code and
    libraries, which it maps once and keeps."""
    for ln in read_text("/proc/%d/status" % pid).splitlines():
        if ln.startswith("RssAnon:"):
            return int(ln.split()[1])
    return None


def fcgi_stream(rtype, req_id, data, chunk=65528):
    """Records carrying `data`, then the empty record ending the stream."""
    out = [fcgi_record(rtype, req_id, data[i:i + chunk]) for i in range(0, len(data), chunk)]
    out.append(fcgi_record(rtype, req_id, b""))
    return b"".join(out)


def cgi_params(method, uri, body_len=0, content_type=None, extra=None):
    """The parameters nginx's fastcgi_params would send."""
    path, _, query = uri.partition("?")
    p = {
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type or "",
        "CONTENT_LENGTH": str(body_len) if body_len or method in ("POST", "PUT") else "",
        "SCRIPT_NAME": path,
        "REQUEST_URI": uri,
        "DOCUMENT_URI": path,
        "DOCUMENT_ROOT": "/nonexistent",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "http",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "sluice-test",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "54321",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_NAME": "localhost",
        "HTTP_HOST": "localhost",
    }
    if extra:
        p.update(extra)
    return p


class FCGIResult:
    def __init__(self, req_id):
        self.id = req_id
        self.stdout = b""
        self.stderr = b""
        self.stdout_closed = False
        self.ended = False
        self.app_status = None
        self.protocol_status = None
        self.status = None
        self.headers = []
        self.body = b""

    def parse(self):
        """Split stdout into CGI headers and body; Status defaults to 200."""
        data = self.stdout
        m = re.search(rb"\r?\n\r?\n", data)
        if not m:
            self.headers, self.body = [], data
            self.status = None
            return self
        head, self.body = data[:m.start()], data[m.end():]
        self.headers = []
        for line in re.split(rb"\r?\n", head):
            if b":" in line:
                k, v = line.split(b":", 1)
                self.headers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
        st = self.header("Status")
        self.status = int(st.split()[0]) if st else 200
        return self

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    @property
    def media_type(self):
        ct = self.header("Content-Type")
        return ct.split(";")[0].strip().lower() if ct else None

    def __repr__(self):
        return "<FCGIResult id=%d ended=%s app=%s proto=%s status=%s body=%s>" % (
            self.id, self.ended, self.app_status, self.protocol_status, self.status,
            short(self.body, 120))


class FCGIConnection:
    """A raw FastCGI client connection over a unix (or TCP) socket."""

    def __init__(self, address, timeout=10.0):
        if isinstance(address, tuple):
            self.sock = socket.create_connection(address, timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.results = {}          # id -> FCGIResult
        self.management = []       # (type, content) of id-0 records

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_record(self, rtype, req_id, content=b"", version=FCGI_VERSION_1):
        self.send(fcgi_record(rtype, req_id, content, version))

    def begin(self, req_id, role=FCGI_RESPONDER, keep=True):
        return fcgi_record(FCGI_BEGIN_REQUEST, req_id,
                           struct.pack(">HB5x", role, FCGI_KEEP_CONN if keep else 0))

    def request_bytes(self, req_id, method, uri, body=b"", content_type=None,
                      keep=True, extra=None):
        params = cgi_params(method, uri, len(body), content_type, extra)
        return (self.begin(req_id, keep=keep)
                + fcgi_stream(FCGI_PARAMS, req_id, fcgi_nv_encode(params))
                + fcgi_stream(FCGI_STDIN, req_id, body))

    def start(self, req_id, method, uri, body=b"", content_type=None, keep=True, extra=None):
        self.results[req_id] = FCGIResult(req_id)
        self.send(self.request_bytes(req_id, method, uri, body, content_type, keep, extra))

    def request(self, method, uri, body=b"", content_type=None, req_id=1, keep=True,
                extra=None, timeout=None):
        """Send one request and wait for its END_REQUEST; returns FCGIResult."""
        self.start(req_id, method, uri, body, content_type, keep, extra)
        return self.wait([req_id], timeout)[req_id]

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("FastCGI read timed out")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            self.eof = True
        self.buf += data

    def read_record(self, timeout=None):
        """Next record as (version, type, id, content); None at EOF."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while len(self.buf) < 8:
            if self.eof:
                return None
            self._fill(deadline)
        ver, rtype, rid, clen, plen = struct.unpack(">BBHHBx", self.buf[:8])
        while len(self.buf) < 8 + clen + plen:
            if self.eof:
                return None
            self._fill(deadline)
        content = self.buf[8:8 + clen]
        self.buf = self.buf[8 + clen + plen:]
        return ver, rtype, rid, content

    def dispatch(self, rec):
        ver, rtype, rid, content = rec
        if rid == 0:
            self.management.append((rtype, content))
            return
        r = self.results.setdefault(rid, FCGIResult(rid))
        if rtype == FCGI_STDOUT:
            if content:
                r.stdout += content
            else:
                r.stdout_closed = True
        elif rtype == FCGI_STDERR:
            r.stderr += content
        elif rtype == FCGI_END_REQUEST:
            r.app_status, r.protocol_status = struct.unpack(">IB3x", content[:8])
            r.ended = True
            r.parse()

    def wait(self, ids, timeout=None):
        """Read records until every id in ids has ended; returns {id: result}.
        Raises on timeout or EOF before that."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        for i in ids:
            self.results.setdefault(i, FCGIResult(i))
        while not all(self.results[i].ended for i in ids):
            rec = self.read_record(max(0.001, deadline - time.monotonic()))
            if rec is None:
                raise ConnectionError("connection closed before END_REQUEST of %s"
                                      % [i for i in ids if not self.results[i].ended])
            self.dispatch(rec)
        return {i: self.results.pop(i) for i in ids}

    def wait_management(self, timeout=None):
        """Next id-0 record as (type, content)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not self.management:
            rec = self.read_record(max(0.001, deadline - time.monotonic()))
            if rec is None:
                raise ConnectionError("connection closed before a management record")
            self.dispatch(rec)
        return self.management.pop(0)

    def closed_by_peer(self, timeout=5.0):
        """True if the peer closes the connection within timeout (data is discarded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            except OSError:
                return True
            if not data:
                return True
        return False


def fcgi_request(address, method, uri, body=b"", content_type=None, timeout=10.0, extra=None):
    """One request on a new connection without FCGI_KEEP_CONN."""
    with FCGIConnection(address, timeout) as c:
        return c.request(method, uri, body, content_type, keep=False, extra=extra)


# --------------------------------------------------------------------------
# Small helpers for tests

def parallel(fn, args_list, timeout=60.0):
    """Run fn(*args) for each args in threads; returns list of (result, exception)."""
    results = [None] * len(args_list)
    start = threading.Barrier(len(args_list) + 1) if len(args_list) < 1000 else None

    def work(i, args):
        try:
            if start:
                start.wait(timeout)
            results[i] = (fn(*args), None)
        except BaseException as e:
            results[i] = (None, e)

    threads = [threading.Thread(target=work, args=(i, a), daemon=True)
               for i, a in enumerate(args_list)]
    for th in threads:
        th.start()
    if start:
        start.wait(timeout)
    deadline = time.monotonic() + timeout
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()))
    return [r if r is not None else (None, TimeoutError("thread did not finish")) for r in results]
