#!/usr/bin/env python3
"""The bad-input battery: malformed, hostile and corner-case FastCGI and SCGI
input sent on raw unix sockets to ONE running `sluice --workers 1`, while a
healthy client keeps sending GET /hello through nginx (FastCGI, keepalive
upstream) and must only ever see 200s.

Every case is a row of CASES: (name, protocol, input, expected).  The input
is a list of steps: bytes to send, EOF (shutdown our write side) or a float
(pause that many seconds).  Each case is run twice, once sent as one write
and once one byte per send() call with no sleeps ("byte at a time"), except
the huge ones (the 1 MiB value; the 65,535 request ids, which are pipelined
512 requests at a time), which are sent once.

The expected outcome is data too, one of

  ANSWER(items..., after=...)   answered as the FastCGI spec says: each item
        is ("resp", id, status, body-or-predicate) a complete response,
        ("end", id, protocolStatus) an END_REQUEST without STDOUT content,
        ("unknown_type", T) the FCGI_UNKNOWN_TYPE record for type T,
        ("values", names, seconds) a GET_VALUES_RESULT holding exactly
        `names`, each once, within `seconds`.  Then `after` is "alive" (a
        follow-up GET /hello on the same connection works and no record
        beyond the expected ones came) or "quiet_close" (the server closes
        the connection).  No "closing connection from <us>" log line.
  CLOSED(reason)   the server closes the connection AND its log gets exactly
        one new line "closing connection from <peer>: <reason>" naming us
        (our pid: "unix socket peer pid N"), whose reason matches the regular
        expression `reason` (None: any reason, for messages that do not exist
        yet and so are not fixed).
  OPEN()   nothing happens: the connection stays open and the worker keeps
        serving others (for a truncated header followed by silence: there is
        no read timeout yet; when there is, this becomes CLOSED).
  SCGI_RESP(status, body)   an SCGI response (body None: any), then the
        server closes, no log.

After the battery: the worker is the same process (same pid, no worker
exit/start in the log), its VmRSS grew less than RSS_SLACK over the value
after a warm-up, the master is alive, and the healthy client made requests
and saw no failure.
"""
import json
import os
import re
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (FCGIConnection, cgi_params, fcgi_nv_encode,  # noqa: E402
                     FCGI_BEGIN_REQUEST as BEGIN, FCGI_ABORT_REQUEST as ABORT,
                     FCGI_END_REQUEST as END_REQUEST, FCGI_PARAMS as PARAMS,
                     FCGI_STDIN as STDIN, FCGI_STDOUT as STDOUT,
                     FCGI_STDERR as STDERR, FCGI_GET_VALUES as GET_VALUES,
                     FCGI_GET_VALUES_RESULT as GET_VALUES_RESULT,
                     FCGI_UNKNOWN_TYPE as UNKNOWN_TYPE,
                     FCGI_UNKNOWN_ROLE as UNKNOWN_ROLE)

HELLO = b"Hello, world!\n"
MYPID = os.getpid()
RSS_SLACK_KB = 8 * 1024
# Under AddressSanitizer freed memory sits in a quarantine (16 MiB as
# make check sets it) and shadow pages come on top: a wider bound there.
if os.environ.get("SLUICE_SANITIZERS"):
    RSS_SLACK_KB = 64 * 1024
FOLLOW_ID = 65000           # request id of the follow-up request
CLOSE_WAIT = 1.0            # a correct server closes within milliseconds
ANSWER_WAIT = 3.0
EOF = object()              # step: shutdown(SHUT_WR)

# --------------------------------------------------------------------------
# Building input


def rec(rtype, rid, content=b"", pad=None, version=1, clen=None):
    """One record; pad=None pads to 8 bytes, clen overrides the length field."""
    if pad is None:
        pad = (-len(content)) % 8
    if clen is None:
        clen = len(content)
    return struct.pack(">BBHHBx", version, rtype, rid, clen, pad) + content + b"\0" * pad


def begin(rid=1, role=1, flags=1, pad=0, version=1):
    return rec(BEGIN, rid, struct.pack(">HB5x", role, flags), pad=pad, version=version)


def nvlen(n, four=False):
    return struct.pack(">I", n | 0x80000000) if (four or n >= 128) else bytes([n])


def pair(name, value, nfour=False, vfour=False):
    if isinstance(name, str):
        name = name.encode()
    if isinstance(value, str):
        value = value.encode()
    return nvlen(len(name), nfour) + nvlen(len(value), vfour) + name + value


def pv(method="GET", uri="/hello", body_len=0, extra=None, drop=(), cl=None):
    """The name-value bytes nginx would send (fastcgi_params)."""
    p = cgi_params(method, uri, body_len, None, extra)
    if cl is not None:
        p["CONTENT_LENGTH"] = cl
    for k in drop:
        p.pop(k, None)
    return fcgi_nv_encode(p)


def stream(rtype, rid, data, chunk=65528, pad=None):
    out = [rec(rtype, rid, data[i:i + chunk], pad) for i in range(0, len(data), chunk)]
    return b"".join(out) + rec(rtype, rid, b"", pad)


def request(rid=1, method="GET", uri="/hello", body=b"", flags=1, params=None, **kw):
    params = pv(method, uri, len(body), **kw) if params is None else params
    return begin(rid, flags=flags) + stream(PARAMS, rid, params) + stream(STDIN, rid, body)


def post(rid=1, body=b"", cl=None, uri="/echo"):
    """POST /echo up to the end of PARAMS (STDIN is up to the case)."""
    return begin(rid) + stream(PARAMS, rid, pv("POST", uri, len(body), cl=cl))


def scgi(headers=None, body=b"", netlen=None, colon=b":", comma=b","):
    if headers is None:
        headers = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1"),
                   ("REQUEST_METHOD", "POST"), ("REQUEST_URI", "/echo"),
                   ("CONTENT_TYPE", "text/plain"), ("SERVER_PROTOCOL", "HTTP/1.1")]
    block = b"".join(n.encode() + b"\0" + v.encode() + b"\0" for n, v in headers)
    if netlen is None:
        netlen = str(len(block))
    return netlen.encode() + colon + block + comma + body


def scgi_block(strings, body=b""):
    """A netstring made of raw NUL-terminated strings (for odd counts)."""
    block = b"".join(s.encode() + b"\0" for s in strings)
    return str(len(block)).encode() + b":" + block + b"," + body


# --------------------------------------------------------------------------
# Expected outcomes


def CLOSED(reason=None, max_ends=None):
    return ("closed", reason, max_ends)


def ANSWER(*items, after="alive"):
    return ("answer", items, after)


def OPEN():
    return ("open",)


def SCGI_RESP(status, body):
    return ("scgi_resp", status, body)


def env_has(name, value):
    def check(body):
        try:
            return json.loads(body.decode("utf-8")).get(name) == value
        except ValueError:
            return False
    check.desc = "/env has %s=%s" % (name, harness.short(value, 40))
    return check


# --------------------------------------------------------------------------
# The cases

def max_params_record():
    """GET /hello whose PARAMS is ONE record of 65535 bytes with 255 of padding."""
    base = pv("GET", "/hello")
    filler = 65535 - len(base) - (1 + 4 + len("HTTP_X_FILL"))
    content = base + pair("HTTP_X_FILL", b"f" * filler)
    assert len(content) == 65535
    return begin(1) + rec(PARAMS, 1, content, pad=255) + rec(PARAMS, 1, b"") + rec(STDIN, 1, b"")


MAX_BODY = bytes(range(256)) * 255 + bytes(range(255))        # 65535 bytes


def every_record_padded():
    p = pv("POST", "/echo", 11)
    h = len(p) // 2
    return (begin(1, pad=255) + rec(PARAMS, 1, p[:h], pad=1) + rec(PARAMS, 1, p[h:], pad=200)
            + rec(PARAMS, 1, b"", pad=255) + rec(STDIN, 1, b"padded body", pad=3)
            + rec(STDIN, 1, b"", pad=255))


def params_with(raw, method="GET", uri="/env"):
    """A request whose PARAMS stream is nginx's params + `raw` bytes."""
    return begin(1) + stream(PARAMS, 1, pv(method, uri) + raw) + rec(STDIN, 1, b"")


def params_records(chunks, uri="/env"):
    """A request whose PARAMS stream is exactly the given records' contents."""
    return (begin(1) + b"".join(rec(PARAMS, 1, c) for c in chunks)
            + rec(PARAMS, 1, b"") + rec(STDIN, 1, b""))


def tiny_pairs(n):
    extra = b"".join(pair("HTTP_T%d" % i, "v") for i in range(n))
    return begin(1) + stream(PARAMS, 1, pv("GET", "/env") + extra) + rec(STDIN, 1, b"")


def straddle_every_byte():
    p = pv("GET", "/env", extra={"HTTP_X_LONG": "L" * 300})
    return params_records([p[i:i + 1] for i in range(len(p))])


def straddle_prefix():
    """A 4-byte value length split 2+2 over two records, its value over three."""
    base = pv("GET", "/env")
    pr = pair("HTTP_X_SPLIT", "s" * 200)     # 1 + 4 + 12 + 200 bytes
    return params_records([base + pr[:3], pr[3:5] + pr[5:60], pr[60:150], pr[150:]])


GV_NAMES = ["FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"]


def get_values_query():
    q = [("FCGI_MAX_CONNS", ""), ("FCGI_MAX_CONNS", ""), ("NO_SUCH_VALUE", ""),
         ("FCGI_MPXS_CONNS", ""), ("FCGI_MAX_REQS", "ignored"), ("FCGI_MPXS_CONNS", ""),
         ("x", "")]
    return b"".join(pair(n, v) for n, v in q)


def build_cases():
    C = []

    def add(name, steps, expected, proto="fcgi", bytewise=True):
        C.append((name, proto, steps if isinstance(steps, list) else [steps], expected, bytewise))

    R = request()
    # ---- truncated input.  Half a record then EOF: the peer died or has a
    # bug; the connection must go and the log must say so (one warning).
    for n in (1, 4, 7):
        add("truncated header (%d of 8 bytes) then EOF" % n, [R[:n], EOF], CLOSED())
    add("truncated BEGIN_REQUEST body then EOF", [R[:12], EOF], CLOSED())
    p = pv()
    add("truncated PARAMS content then EOF",
        [begin(1) + rec(PARAMS, 1, p)[:8 + len(p) // 2], EOF], CLOSED())
    add("truncated padding then EOF",
        [begin(1) + rec(PARAMS, 1, p, pad=100)[:-50], EOF], CLOSED())
    add("complete request, then a truncated header then EOF",
        [R + request(2)[:5], EOF], CLOSED(max_ends=1))
    # Half a header then nothing: no read timeout exists yet, so for now the
    # connection just stays open and the worker is unaffected.
    add("truncated header then silence", R[:5], OPEN())

    # ---- versions: only version 1 exists; anything else is not FastCGI.
    for v in (0, 2, 255):
        add("version %d on BEGIN_REQUEST" % v, begin(1, version=v) + R[16:],
            CLOSED(r"version"))
    add("version 2 on a PARAMS record mid-request",
        begin(1) + rec(PARAMS, 1, p, version=2), CLOSED(r"version"))

    # ---- legal extremes: answered normally
    add("maximum record in PARAMS (65535 content + 255 padding)", max_params_record(),
        ANSWER(("resp", 1, 200, HELLO)))
    add("maximum record in STDIN (65535 content + 255 padding)",
        post(1, MAX_BODY) + rec(STDIN, 1, MAX_BODY, pad=255) + rec(STDIN, 1, b""),
        ANSWER(("resp", 1, 200, MAX_BODY)))
    add("padding on every record (1..255 bytes)", every_record_padded(),
        ANSWER(("resp", 1, 200, b"padded body")))
    add("padding on management records",
        rec(GET_VALUES, 0, pair("FCGI_MPXS_CONNS", ""), pad=255) + rec(30, 0, b"z", pad=255),
        ANSWER(("values", ["FCGI_MPXS_CONNS"], ANSWER_WAIT), ("unknown_type", 30)))

    # ---- unknown record types: FCGI_UNKNOWN_TYPE, whatever the id (the type
    # is unknown before the id means anything); a request in progress goes on.
    for t in (20, 0, 255):
        add("unknown type %d on id 0" % t, rec(t, 0, b"whatever"),
            ANSWER(("unknown_type", t)))
        add("unknown type %d on an active id" % t,
            begin(1) + rec(PARAMS, 1, p) + rec(t, 1, b"junk") + rec(PARAMS, 1, b"")
            + rec(STDIN, 1, b""),
            ANSWER(("unknown_type", t), ("resp", 1, 200, HELLO)))
        add("unknown type %d on an inactive id" % t, rec(t, 7, b"junk"),
            ANSWER(("unknown_type", t)))

    # ---- records only an application sends: the peer is confused; close.
    for t, tn in ((STDOUT, "STDOUT"), (END_REQUEST, "END_REQUEST"), (STDERR, "STDERR"),
                  (GET_VALUES_RESULT, "GET_VALUES_RESULT"), (UNKNOWN_TYPE, "UNKNOWN_TYPE")):
        add("application-only record %s sent to us (id 0)" % tn, rec(t, 0, b"\x00" * 8),
            CLOSED(r"only by applications"))
    add("application-only record STDOUT on an active id",
        begin(1) + rec(PARAMS, 1, p) + rec(STDOUT, 1, b"hi"), CLOSED(r"only by applications"))

    # ---- BEGIN_REQUEST
    for n in (0, 7, 9):
        add("BEGIN_REQUEST with content length %d" % n,
            rec(BEGIN, 1, (struct.pack(">HB5x", 1, 1) + b"\0")[:n]) + R[16:],
            CLOSED(r"BEGIN_REQUEST"))
    add("BEGIN_REQUEST with id 0", begin(0) + stream(PARAMS, 0, p), CLOSED(r"id 0"))
    add("BEGIN_REQUEST twice for one active id", begin(1) + rec(PARAMS, 1, p) + begin(1),
        CLOSED(r"already in progress"))
    for role in (0, 2, 3, 99):
        # the PARAMS and STDIN that follow are for an inactive id: ignored
        add("BEGIN_REQUEST with unknown role %d" % role,
            begin(1, role=role) + stream(PARAMS, 1, p) + rec(STDIN, 1, b""),
            ANSWER(("end", 1, UNKNOWN_ROLE)))
    # reserved flag bits are ignored; only FCGI_KEEP_CONN counts
    add("BEGIN_REQUEST flags 0xFE (unknown bits, no KEEP_CONN)", request(flags=0xFE),
        ANSWER(("resp", 1, 200, HELLO), after="quiet_close"))
    add("BEGIN_REQUEST flags 0xFF (unknown bits + KEEP_CONN)", request(flags=0xFF),
        ANSWER(("resp", 1, 200, HELLO)))

    # ---- stream order and body length
    add("PARAMS after STDIN", post(1, b"0123456789") + rec(STDIN, 1, b"01234")
        + rec(PARAMS, 1, pair("HTTP_LATE", "x")), CLOSED(r"PARAMS after"))
    add("STDIN before the end of PARAMS", begin(1) + rec(PARAMS, 1, p) + rec(STDIN, 1, b"x"),
        CLOSED(r"STDIN before"))
    add("STDIN longer than CONTENT_LENGTH (one record)",
        post(1, b"12345") + rec(STDIN, 1, b"1234567890") + rec(STDIN, 1, b""),
        CLOSED(r"longer than CONTENT_LENGTH"))
    add("STDIN longer than CONTENT_LENGTH (over two records)",
        post(1, b"12345") + rec(STDIN, 1, b"123") + rec(STDIN, 1, b"456") + rec(STDIN, 1, b""),
        CLOSED(r"longer than CONTENT_LENGTH"))
    # Shorter: the web server promised CONTENT_LENGTH bytes and ended the
    # stream early, so its framing is broken (nginx never does that; a client
    # that stops sending makes nginx close the connection, not end STDIN).
    # Running the request on a truncated body would be wrong, and a 400 would
    # blame the HTTP client for the web server's fault: close, as SCGI does.
    add("STDIN shorter than CONTENT_LENGTH, then the empty STDIN",
        post(1, b"0123456789") + rec(STDIN, 1, b"01234") + rec(STDIN, 1, b""),
        CLOSED(r"(?i)shorter|content_length|length|body"))

    # ---- CONTENT_LENGTH.  Missing or empty means no body (CGI; nginx sends
    # it empty on every GET).  Anything else that is not a decimal number
    # within the body limit is the web server's error: close (not a 400 or a
    # 413: nginx validated Content-Length, so this is not the client's doing).
    add("CONTENT_LENGTH missing (GET)", request(drop=("CONTENT_LENGTH",)),
        ANSWER(("resp", 1, 200, HELLO)))
    add("CONTENT_LENGTH missing (POST, empty STDIN)",
        request(method="POST", uri="/echo", drop=("CONTENT_LENGTH",)),
        ANSWER(("resp", 1, 200, b"")))
    add("CONTENT_LENGTH missing but STDIN has data",
        begin(1) + stream(PARAMS, 1, pv("POST", "/echo", drop=("CONTENT_LENGTH",)))
        + stream(STDIN, 1, b"12345"), CLOSED(r"CONTENT_LENGTH"))
    add("CONTENT_LENGTH empty (GET)", request(cl=""), ANSWER(("resp", 1, 200, HELLO)))
    # A CONTENT_LENGTH that is not plain digits is the client's malformed
    # request as passed on: answered 400 as soon as the parameters are in.
    # One beyond --max-body-size is answered 413 before any body is read.
    # Either way the connection goes on (the STDIN that follows belongs to
    # an ended request and is ignored).
    for label, v, status in (("negative (-1)", "-1", 400), ("negative (-0)", "-0", 400),
                             ("huge, overflows 64 bits", "99999999999999999999999", 400),
                             ("huge, 2^64-1", "18446744073709551615", 413),
                             ("huge, 1 TiB, beyond the body limit", "1099511627776", 413),
                             ("not a number (12abc)", "12abc", 400),
                             ("with a space ( 5)", " 5", 400)):
        add("CONTENT_LENGTH %s" % label,
            begin(1) + stream(PARAMS, 1, pv("POST", "/echo", cl=v)) + rec(STDIN, 1, b""),
            ANSWER(("resp", 1, status, None)))

    # ---- name-value pairs
    add("name length 0", params_with(pair("", "x")), CLOSED(r"empty parameter name"))
    add("value length 0", params_with(pair("HTTP_X_EMPTY", "")),
        ANSWER(("resp", 1, 200, env_has("HTTP_X_EMPTY", ""))))
    n127 = "HTTP_X_" + "N" * 120
    add("name and value length 127 (1-byte form)", params_with(pair(n127, "v" * 127)),
        ANSWER(("resp", 1, 200, env_has(n127, "v" * 127))))
    n128 = "HTTP_X_" + "N" * 121
    add("name and value length 128 (4-byte form)", params_with(pair(n128, "w" * 128)),
        ANSWER(("resp", 1, 200, env_has(n128, "w" * 128))))
    add("non-minimal 4-byte lengths (5 and 3 in 4 bytes)",
        params_with(pair("HTTP_NM", "abc", nfour=True, vfour=True)),
        ANSWER(("resp", 1, 200, env_has("HTTP_NM", "abc"))))
    add("non-minimal 4-byte length of an empty value",
        params_with(pair("HTTP_NZ", "", vfour=True)),
        ANSWER(("resp", 1, 200, env_has("HTTP_NZ", ""))))
    add("value length 0x7FFFFFFF", params_with(b"\x07\xff\xff\xff\xffHTTP_BIGabc"),
        CLOSED(r"past the end|limit|exceed"))
    add("name length 0x7FFFFFFF", params_with(b"\xff\xff\xff\xff\x01abc"),
        CLOSED(r"past the end|limit|exceed"))
    add("name length beyond its record, completed by the next record",
        params_records([pv("GET", "/env") + b"\x09\x02HTTP_", b"LATEok"]),
        ANSWER(("resp", 1, 200, env_has("HTTP_LATE", "ok"))))
    add("value length beyond the end of the stream",
        params_with(b"\x08\x32HTTP_ENDtooshort"), CLOSED(r"past the end"))
    add("4-byte length prefix cut by the end of the stream", params_with(b"\x08\x80\x00"),
        CLOSED(r"truncated parameter length"))
    add("4-byte length prefix and value straddling records", straddle_prefix(),
        ANSWER(("resp", 1, 200, env_has("HTTP_X_SPLIT", "s" * 200))))
    add("every PARAMS byte in its own record", straddle_every_byte(),
        ANSWER(("resp", 1, 200, env_has("HTTP_X_LONG", "L" * 300))))
    add("10,000 tiny pairs", tiny_pairs(10000),
        ANSWER(("resp", 1, 200, env_has("HTTP_T9999", "v"))))
    # Past --max-params-size (128 KiB by default) the parameters are counted
    # and dropped, never stored, and the request is answered 431.
    big = pair("HTTP_X_BIG", b"b" * (1 << 20))
    add("1 MiB value (over the parameter limit)",
        begin(1) + stream(PARAMS, 1, pv() + big) + rec(STDIN, 1, b""),
        ANSWER(("resp", 1, 431, None)), bytewise=False)

    # ---- GET_VALUES
    add("GET_VALUES with repeated and unknown names, request in flight",
        request(1, uri="/sleep?ms=1000") + rec(GET_VALUES, 0, get_values_query()),
        ANSWER(("values", GV_NAMES, 0.8), ("resp", 1, 200, b'{"slept_ms":1000}')))
    add("GET_VALUES empty", rec(GET_VALUES, 0, b""), ANSWER(("values", [], ANSWER_WAIT)))
    add("GET_VALUES malformed (length past the end)", rec(GET_VALUES, 0, b"\x05\x00ab"),
        CLOSED(r"GET_VALUES"))

    # ---- ABORT_REQUEST at every stage: END_REQUEST for the id, nothing else
    half = len(p) // 2
    add("ABORT_REQUEST after BEGIN", begin(1) + rec(ABORT, 1), ANSWER(("end", 1, 0)))
    add("ABORT_REQUEST mid PARAMS", begin(1) + rec(PARAMS, 1, p[:half]) + rec(ABORT, 1),
        ANSWER(("end", 1, 0)))
    add("ABORT_REQUEST after PARAMS", begin(1) + stream(PARAMS, 1, p) + rec(ABORT, 1),
        ANSWER(("end", 1, 0)))
    add("ABORT_REQUEST mid STDIN", post(1, b"0123456789") + rec(STDIN, 1, b"01234")
        + rec(ABORT, 1), ANSWER(("end", 1, 0)))
    add("ABORT_REQUEST while /sleep?ms=500 runs",
        [request(1, uri="/sleep?ms=500"), 0.1, rec(ABORT, 1)], ANSWER(("end", 1, 0)))
    add("ABORT_REQUEST after completion (inactive id: ignored)",
        [request(1), 0.05, rec(ABORT, 1)], ANSWER(("resp", 1, 200, HELLO)))
    add("ABORT_REQUEST for an id never begun (ignored)", rec(ABORT, 9), ANSWER())

    # ---- 65,535 request ids on one connection (special runner)
    add("65,535 request ids on one connection", [], ("ids",), bytewise=False)

    # ---- bytes after the empty STDIN: never a request
    slow = request(1, uri="/sleep?ms=300")
    add("garbage after the empty STDIN", R + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        CLOSED(r"version", max_ends=1))
    add("a second empty STDIN after the empty STDIN", slow + rec(STDIN, 1, b""),
        CLOSED(r"STDIN after", max_ends=0))
    add("a second STDIN with data after the empty STDIN",
        slow + rec(STDIN, 1, b"GET /hello") + rec(STDIN, 1, b""),
        CLOSED(r"STDIN after", max_ends=0))
    add("PARAMS again after the empty STDIN",
        slow + stream(PARAMS, 1, pv()) + rec(STDIN, 1, b""),
        CLOSED(r"PARAMS after", max_ends=0))
    add("a whole second request for the same id after the empty STDIN",
        slow + request(1), CLOSED(r"already in progress", max_ends=0))

    # ---- SCGI
    body = b"scgi body!"
    good = scgi(body=body)
    block_len = len(good.split(b":", 1)[0])
    rest = good[block_len:]          # ":" + block + "," + body
    add("SCGI valid request (baseline)", good, SCGI_RESP(200, body), proto="scgi")
    add("SCGI netstring length with a leading zero", b"0" + good, CLOSED(r"leading zero"),
        proto="scgi")
    add("SCGI netstring length with '+'", b"+" + good, CLOSED(r"start with a length"),
        proto="scgi")
    add("SCGI netstring length with '-'", b"-" + good, CLOSED(r"start with a length"),
        proto="scgi")
    add("SCGI netstring length with a leading space", b" " + good,
        CLOSED(r"start with a length"), proto="scgi")
    add("SCGI netstring length with a space before ':'",
        good[:block_len] + b" " + rest, CLOSED(r"not followed by ':'"), proto="scgi")
    # A header block declared longer than --max-params-size is answered 431
    # as soon as its length digits say so, without reading it.
    add("SCGI netstring length of 20 digits", b"12345678901234567890" + rest,
        SCGI_RESP(431, None), proto="scgi")
    add("SCGI netstring without ':'", scgi(body=body, colon=b""),
        CLOSED(r"not followed by ':'"), proto="scgi")
    add("SCGI netstring without ','", scgi(body=body, comma=b""),
        CLOSED(r"not terminated by ','"), proto="scgi")
    add("SCGI first header is not CONTENT_LENGTH",
        scgi([("SCGI", "1"), ("CONTENT_LENGTH", "0"), ("REQUEST_METHOD", "GET"),
              ("REQUEST_URI", "/hello")]), CLOSED(r"first header is not CONTENT_LENGTH"),
        proto="scgi")
    add("SCGI duplicate header names",
        scgi([("CONTENT_LENGTH", "0"), ("SCGI", "1"), ("REQUEST_METHOD", "GET"),
              ("REQUEST_URI", "/hello"), ("REQUEST_METHOD", "POST")]),
        CLOSED(r"duplicate"), proto="scgi")
    add("SCGI odd number of strings",
        scgi_block(["CONTENT_LENGTH", "0", "SCGI", "1", "REQUEST_METHOD"]),
        CLOSED(r"without a value"), proto="scgi")
    add("SCGI CONTENT_LENGTH negative",
        scgi([("CONTENT_LENGTH", "-1"), ("SCGI", "1"), ("REQUEST_METHOD", "GET"),
              ("REQUEST_URI", "/hello")]), CLOSED(r"CONTENT_LENGTH"), proto="scgi")
    # One CONTENT_LENGTH rule for both protocols (src/proto/cgi.c): what
    # nginx may pass, the client's text with its leading zeros, is accepted.
    add("SCGI CONTENT_LENGTH with a leading zero",
        scgi([("CONTENT_LENGTH", "05"), ("SCGI", "1"), ("REQUEST_METHOD", "POST"),
              ("REQUEST_URI", "/echo")], body=b"12345"), SCGI_RESP(200, b"12345"),
        proto="scgi")
    add("SCGI header SCGI missing",
        scgi([("CONTENT_LENGTH", "0"), ("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/hello")]),
        CLOSED(r"SCGI header"), proto="scgi")
    add("SCGI truncated header then EOF", [good[:20], EOF], CLOSED(), proto="scgi")
    add("SCGI body shorter than CONTENT_LENGTH then EOF",
        [scgi(body=body)[:-4], EOF], CLOSED(), proto="scgi")
    # SCGI frames the body by CONTENT_LENGTH alone: once that many bytes are
    # in, the request is complete and what follows is never read as anything.
    add("SCGI body longer than CONTENT_LENGTH",
        scgi([("CONTENT_LENGTH", "5"), ("SCGI", "1"), ("REQUEST_METHOD", "POST"),
              ("REQUEST_URI", "/echo")]) + b"12345EXTRA BYTES",
        SCGI_RESP(200, b"12345"), proto="scgi")
    return C


# --------------------------------------------------------------------------
# Running

class Battery:
    def __init__(self, t, sluice, fsock, ssock):
        self.t = t
        self.s = sluice
        self.fsock = fsock
        self.ssock = ssock
        self.passed = 0
        self.failed = 0
        self.mismatches = []

    # ---- log
    def log_size(self):
        try:
            return os.path.getsize(self.s.log)
        except OSError:
            return 0

    def close_lines(self, since):
        with open(self.s.log, "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        out = []
        for ln in text.splitlines():
            m = re.search(r"closing connection from (.*?): (.*)$", ln)
            if m and re.search(r"\bpid %d\b" % MYPID, m.group(1)):
                out.append((ln, m.group(2)))
        return out

    # ---- sending
    @staticmethod
    def send_steps(conn, steps, bytewise):
        """Returns None, or the error that stopped the sending."""
        for st in steps:
            try:
                if st is EOF:
                    conn.sock.shutdown(socket.SHUT_WR)
                elif isinstance(st, float):
                    time.sleep(st)
                elif bytewise:
                    sock = conn.sock
                    for i in range(len(st)):
                        sock.sendall(st[i:i + 1])
                else:
                    conn.sock.sendall(st)
            except OSError as e:
                return e
        return None

    @staticmethod
    def drain_close(conn, timeout=1.0):
        """EOF from us; give the server time to see it, then close."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        conn.closed_by_peer(timeout)
        conn.close()

    @staticmethod
    def recv_all(conn, timeout):
        """Everything until EOF: (bytes, closed?)."""
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                d = conn.sock.recv(262144)
            except socket.timeout:
                return data, False
            except OSError:
                return data, True
            if not d:
                return data, True
            data += d
        return data, False

    # ---- one case, one variant
    def run(self, name, proto, steps, expected, bytewise):
        mode = ("byte at a time" if bytewise else
                "pipelined, 512 a batch" if expected[0] == "ids" else "one write")
        desc = "%s: %s [%s]" % (proto, name, mode)
        since = self.log_size()
        kind = expected[0]
        t0 = time.monotonic()
        try:
            if kind == "ids":
                ok, why = self.run_ids()
            else:
                conn = FCGIConnection(self.fsock if proto == "fcgi" else self.ssock,
                                      timeout=ANSWER_WAIT)
                try:
                    err = self.send_steps(conn, steps, bytewise)
                    if kind == "closed":
                        ok, why = self.check_closed(conn, expected, since)
                    elif kind == "answer":
                        ok, why = self.check_answer(conn, expected, since, err)
                    elif kind == "open":
                        ok, why = self.check_open(conn, since, err)
                    elif kind == "scgi_resp":
                        ok, why = self.check_scgi(conn, expected, since, err)
                    else:
                        raise ValueError(kind)
                finally:
                    self.drain_close(conn)
        except Exception as e:
            ok, why = False, "exception %s: %s" % (type(e).__name__, e)
        dt = time.monotonic() - t0
        self.t.ok(ok, "%s -> %s (%.2f s)" % (desc, self.describe(expected), dt),
                  None if ok else why)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.mismatches.append((desc, self.describe(expected), why))

    @staticmethod
    def describe(expected):
        kind = expected[0]
        if kind == "closed":
            return "closed, logged" + (" /%s/" % expected[1] if expected[1] else "")
        if kind == "open":
            return "connection stays open, worker unaffected (no read timeout yet)"
        if kind == "scgi_resp":
            return "SCGI %d response" % expected[1]
        if kind == "ids":
            return "all answered"
        parts = []
        for it in expected[1]:
            if it[0] == "resp":
                parts.append("%d for id %d" % (it[2], it[1]))
            elif it[0] == "end":
                parts.append("END_REQUEST(protocolStatus %d) for id %d" % (it[2], it[1]))
            elif it[0] == "unknown_type":
                parts.append("UNKNOWN_TYPE(%d)" % it[1])
            elif it[0] == "values":
                parts.append("GET_VALUES_RESULT%s" % (it[1] and "(%s)" % ",".join(it[1]) or "()"))
        parts.append({"alive": "connection still usable", "quiet_close": "then closed"}[expected[2]])
        return ", ".join(parts)

    def check_closed(self, conn, expected, since):
        _, reason, max_ends = expected
        data, closed = self.recv_all(conn, CLOSE_WAIT)
        ends = count_records(data, END_REQUEST)
        problems = []
        if not closed:
            problems.append("the connection was NOT closed by the server within %.1f s" % CLOSE_WAIT)
        if max_ends is not None and ends > max_ends:
            problems.append("%d END_REQUEST records came back (at most %d expected): "
                            "bytes after the request were run as a request" % (ends, max_ends))
        lines = harness.wait_until(lambda: self.close_lines(since), 0.5 if closed else 0.05)
        if not lines:
            problems.append("no 'closing connection from <this peer>: <reason>' log line")
        elif len(lines) > 1:
            problems.append("%d closing lines, want exactly 1: %s" % (len(lines), lines))
        elif reason and not re.search(reason, lines[0][1]):
            problems.append("reason %r does not match /%s/" % (lines[0][1], reason))
        if problems:
            problems.append("received before close/timeout: %s" % summarize(data))
            return False, "\n".join(problems)
        return True, None

    def check_answer(self, conn, expected, since, send_err):
        _, items, after = expected
        if send_err is not None:
            return False, "the server closed the connection while we sent: %r; log: %s" % (
                send_err, self.close_lines(since))
        problems = []
        t_sent = time.monotonic()
        ids = [it[1] for it in items if it[0] in ("resp", "end")]
        try:
            for it in items:
                if it[0] == "values":
                    left = it[2] - (time.monotonic() - t_sent)
                    typ, content = conn.wait_management(max(0.05, left))
                    if typ != GET_VALUES_RESULT:
                        problems.append("management record type %d, want GET_VALUES_RESULT" % typ)
                        continue
                    got = harness.fcgi_nv_pairs(content)
                    names = [n for n, _ in got]
                    if sorted(names) != sorted(it[1]):
                        problems.append("GET_VALUES_RESULT names %s, want each of %s once"
                                        % (names, it[1]))
                    for n, v in got:
                        if not v.isdigit() or (n == "FCGI_MPXS_CONNS" and v not in ("0", "1")):
                            problems.append("GET_VALUES_RESULT %s=%r is not a valid value" % (n, v))
                elif it[0] == "unknown_type":
                    typ, content = conn.wait_management(ANSWER_WAIT)
                    if typ != UNKNOWN_TYPE or content[:1] != bytes([it[1]]):
                        problems.append("management record (%d, %r), want UNKNOWN_TYPE(%d)"
                                        % (typ, content[:8], it[1]))
            res = conn.wait(ids, timeout=ANSWER_WAIT + 1.0) if ids else {}
        except Exception as e:
            return False, "\n".join(problems + ["%s: %s; closing lines: %s" % (
                type(e).__name__, e, self.close_lines(since))])
        for it in items:
            if it[0] == "resp":
                r = res[it[1]]
                body_ok = it[3](r.body) if callable(it[3]) else (it[3] is None or r.body == it[3])
                if r.protocol_status != 0 or r.status != it[2] or not body_ok:
                    problems.append("id %d: %r, want status %d%s" % (
                        it[1], r, it[2], " and " + getattr(it[3], "desc", "the body")))
            elif it[0] == "end":
                r = res[it[1]]
                if r.protocol_status != it[2] or r.stdout:
                    problems.append("id %d: END_REQUEST protocolStatus %s with %d STDOUT bytes; "
                                    "want protocolStatus %d and no STDOUT"
                                    % (it[1], r.protocol_status, len(r.stdout), it[2]))
        if after == "alive":
            try:
                r = conn.request("GET", "/hello", req_id=FOLLOW_ID, timeout=ANSWER_WAIT)
                if r.status != 200 or r.body != HELLO:
                    problems.append("follow-up GET /hello on the same connection: %r" % r)
            except Exception as e:
                problems.append("follow-up GET /hello on the same connection failed: %s: %s"
                                % (type(e).__name__, e))
            extra = {i: r for i, r in conn.results.items() if r.stdout or r.ended or r.stderr}
            if extra or conn.management:
                problems.append("unexpected records: %s %s" % (list(extra.values()),
                                                               conn.management))
        else:
            data, closed = self.recv_all(conn, CLOSE_WAIT)
            if not closed:
                problems.append("the server did not close the connection after the answer")
            if data:
                problems.append("unexpected bytes after the answer: %s" % summarize(data))
        lines = self.close_lines(since)
        if lines:
            problems.append("unexpected log line(s): %s" % [ln for ln, _ in lines])
        return (not problems), "\n".join(problems) or None

    def check_open(self, conn, since, send_err):
        problems = []
        if send_err is not None:
            problems.append("send failed: %r" % send_err)
        if conn.closed_by_peer(0.5):
            problems.append("the server closed the connection")
        try:
            r = harness.fcgi_request(self.fsock, "GET", "/hello", timeout=ANSWER_WAIT)
            if r.status != 200 or r.body != HELLO:
                problems.append("another connection got %r" % r)
        except Exception as e:
            problems.append("another connection failed: %s: %s" % (type(e).__name__, e))
        if self.close_lines(since):
            problems.append("log: %s" % self.close_lines(since))
        return (not problems), "\n".join(problems) or None

    def check_scgi(self, conn, expected, since, send_err):
        _, status, body = expected
        data, closed = self.recv_all(conn, ANSWER_WAIT)
        r = harness.FCGIResult(0)
        r.stdout = data
        r.parse()
        problems = []
        # A send error is no failure here: once CONTENT_LENGTH bytes are in,
        # the server may answer and close before we are done sending extra.
        if r.status != status or (body is not None and r.body != body):
            problems.append("response %r, want %d with %r" % (r, status, body))
        if not closed:
            problems.append("the server did not close the connection after the response")
        if self.close_lines(since):
            problems.append("unexpected log line(s): %s" % self.close_lines(since))
        return (not problems), "\n".join(problems) or None

    # ---- 65,535 ids
    def run_ids(self, batch=512, budget=40.0):
        """Requests 1..65535 on one FCGI_KEEP_CONN connection, `batch` at a
        time (below the 1024 requests per connection limit), answers read."""
        params = fcgi_nv_encode([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/hello"),
                                 ("CONTENT_LENGTH", ""), ("SERVER_PROTOCOL", "HTTP/1.1")])
        ppad = (-len(params)) % 8
        bbody = struct.pack(">HB5x", 1, 1)
        hdr = struct.Struct(">BBHHBx")
        conn = FCGIConnection(self.fsock, timeout=10)
        t0 = time.monotonic()
        bad = []
        total = 0
        try:
            rid = 1
            while rid <= 65535:
                if time.monotonic() - t0 > budget:
                    return False, "over the %.0f s budget at id %d" % (budget, rid)
                ids = range(rid, min(65536, rid + batch))
                out = []
                for i in ids:
                    out.append(hdr.pack(1, BEGIN, i, 8, 0) + bbody
                               + hdr.pack(1, PARAMS, i, len(params), ppad) + params + b"\0" * ppad
                               + hdr.pack(1, PARAMS, i, 0, 0) + hdr.pack(1, STDIN, i, 0, 0))
                conn.sock.sendall(b"".join(out))
                want = set(ids)
                hello = set()
                buf = b""
                while want:
                    conn.sock.settimeout(10)
                    d = conn.sock.recv(1 << 20)
                    if not d:
                        return False, "connection closed at batch starting %d; %d unanswered" % (
                            rid, len(want))
                    buf += d
                    off = 0
                    while len(buf) - off >= 8:
                        _, typ, i, clen, plen = hdr.unpack_from(buf, off)
                        if len(buf) - off < 8 + clen + plen:
                            break
                        if typ == STDOUT and HELLO in buf[off + 8:off + 8 + clen]:
                            hello.add(i)
                        elif typ == END_REQUEST:
                            if i not in want or i not in hello or buf[off + 12] != 0:
                                bad.append(i)
                            want.discard(i)
                            total += 1
                        off += 8 + clen + plen
                    buf = buf[off:]
                if bad:
                    return False, "ids answered badly: %s" % bad[:10]
                rid = ids[-1] + 1
            if total != 65535:
                return False, "%d END_REQUEST records for 65535 requests" % total
            r = conn.request("GET", "/hello", req_id=1, timeout=ANSWER_WAIT)
            if r.body != HELLO:
                return False, "id 1 again after the run: %r" % r
            self.t.note("65,535 requests on one connection in %.1f s" % (time.monotonic() - t0))
            return True, None
        finally:
            self.drain_close(conn)


def count_records(data, rtype):
    n = off = 0
    while len(data) - off >= 8:
        _, typ, _, clen, plen = struct.unpack_from(">BBHHBx", data, off)
        if typ == rtype:
            n += 1
        off += 8 + clen + plen
    return n


def summarize(data):
    recs = []
    off = 0
    while len(data) - off >= 8 and len(recs) < 12:
        v, typ, rid, clen, plen = struct.unpack_from(">BBHHBx", data, off)
        recs.append("(t%d id%d %dB)" % (typ, rid, clen))
        off += 8 + clen + plen
    return "%d bytes %s" % (len(data), " ".join(recs))


class Healthy(threading.Thread):
    """GET /hello through nginx in a loop; every answer must be a 200."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.count = 0
        self.failures = []

    def run(self):
        c = harness.HTTPClient(self.port, timeout=10)
        while not self.stop.is_set():
            try:
                r = c.get("/hello")
                if r.status != 200 or r.body != HELLO:
                    self.failures.append(r)
            except Exception as e:
                self.failures.append(e)
            self.count += 1
            time.sleep(0.002)
        c.close()


def main(t):
    t_start = time.monotonic()
    fsock, ssock = t.path("fcgi.sock"), t.path("scgi.sock")
    s = t.start_sluice(["--workers", "1", "--threads", "2", "--fastcgi", "unix:" + fsock,
                        "--scgi", "unix:" + ssock])
    port, _ = t.start_nginx(fcgi_sock=fsock)
    kids = harness.wait_until(lambda: harness.children_of(s.pid), 5)
    t.eq(len(kids), 1, "one worker process")
    wpid = min(kids)

    healthy = Healthy(port)
    healthy.start()

    # warm-up: ordinary traffic and each kind of large buffer once
    with FCGIConnection(fsock) as c:
        for i in range(300):
            c.request("GET", "/hello", req_id=1 + i % 5)
        c.request("POST", "/echo", body=MAX_BODY, req_id=2)
        c.request("GET", "/env", req_id=3, extra={"HTTP_X_W": "w" * 60000})
    time.sleep(0.3)
    rss0 = harness.vmrss_kb(wpid)
    log_warm = os.path.getsize(s.log)
    t.note("worker %d, VmRSS after warm-up %d kB" % (wpid, rss0))

    b = Battery(t, s, fsock, ssock)
    cases = build_cases()
    t.note("%d cases" % len(cases))
    for name, proto, steps, expected, bytewise in cases:
        b.run(name, proto, steps, expected, False)
        if bytewise:
            b.run(name, proto, steps, expected, True)
        elif expected[0] != "ids":
            t.note("%s: byte-at-a-time variant skipped (too large)" % name)
        else:
            t.note("%s: no byte-at-a-time variant (65,535 pipelined requests)" % name)

    # ---- afterwards
    time.sleep(0.3)
    healthy.stop.set()
    healthy.join(15)
    t.ok(harness.pid_alive(wpid), "the worker %d is still alive" % wpid)
    t.eq(sorted(harness.children_of(s.pid)), [wpid], "the worker is the same process")
    with open(s.log, "rb") as f:
        f.seek(log_warm)
        later = f.read().decode("utf-8", "replace")
    restarts = [ln for ln in later.splitlines()
                if re.search(r"started worker|worker \d+ (exited|killed)|workers died", ln)]
    t.ok(not restarts, "no worker exit or restart in the log", restarts[:5])
    rss1 = harness.vmrss_kb(wpid) if harness.pid_alive(wpid) else None
    t.ok(rss1 is not None and rss1 - rss0 <= RSS_SLACK_KB,
         "worker VmRSS %s kB after the battery, %d kB after the warm-up (bound +%d kB)"
         % (rss1, rss0, RSS_SLACK_KB))
    t.ok(s.alive(), "the master is alive")
    t.ok(healthy.count > 0 and not healthy.failures,
         "healthy client through nginx: %d requests, %d failures"
         % (healthy.count, len(healthy.failures)), harness.short(healthy.failures[:5]))

    t.note("%d cases, %d runs: %d passed, %d failed (%.1f s)" % (
        len(cases), b.passed + b.failed, b.passed, b.failed, time.monotonic() - t_start))
    if b.mismatches:
        t.note("mismatches (case [variant] -> expected: what happened):")
        for desc, exp, why in b.mismatches:
            t.note("  %s -> %s: %s" % (desc, exp, (why or "").splitlines()[0]))
    print("%d passed, %d failed" % (t.count - t.failed, t.failed), flush=True)


harness.run("badinput", main)
