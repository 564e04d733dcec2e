#!/usr/bin/env python3
"""Write the seed corpora (fuzz/corpus/<target>/) and dictionaries
(fuzz/<target>.dict) for the libFuzzer targets.  Deterministic; rerun after
editing.  python3 stdlib only."""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- FastCGI -------------------------------------------------------------

BEGIN, ABORT, END, PARAMS, STDIN, STDOUT, STDERR, DATA, GETV, GETVR, UNKT = \
    range(1, 12)


def rec(rtype, rid, content=b"", pad=None, version=1):
    if pad is None:                      # nginx pads to a multiple of 8
        pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", version, rtype, rid, len(content), pad, 0) \
        + content + b"\0" * pad


def plen(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def pairs(kv):
    out = b""
    for k, v in kv:
        k, v = k.encode(), v.encode()
        out += plen(len(k)) + plen(len(v)) + k + v
    return out


def nginx_params(method, uri, body=b"", ctype=None, extra=()):
    path, _, query = uri.partition("?")
    kv = [("QUERY_STRING", query), ("REQUEST_METHOD", method),
          ("CONTENT_TYPE", ctype or ""), ("CONTENT_LENGTH",
                                          str(len(body)) if body else ""),
          ("SCRIPT_NAME", path), ("REQUEST_URI", uri), ("DOCUMENT_URI", path),
          ("DOCUMENT_ROOT", "/srv/www"), ("SERVER_PROTOCOL", "HTTP/1.1"),
          ("REQUEST_SCHEME", "https"), ("HTTPS", "on"),
          ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "nginx/1.22.1"),
          ("REMOTE_ADDR", "192.0.2.7"), ("REMOTE_PORT", "51234"),
          ("SERVER_ADDR", "192.0.2.1"), ("SERVER_PORT", "443"),
          ("SERVER_NAME", "example.org"), ("REDIRECT_STATUS", "200"),
          ("HTTP_HOST", "example.org"), ("HTTP_USER_AGENT", "curl/7.88.1"),
          ("HTTP_ACCEPT", "*/*")]
    kv += list(extra)
    return pairs(kv)


def request(rid, method, uri, body=b"", ctype=None, keep=1, extra=(),
            split=None):
    p = nginx_params(method, uri, body, ctype, extra)
    out = rec(BEGIN, rid, struct.pack(">HB5x", 1, keep))
    if split:                             # PARAMS in several records
        for i in range(0, len(p), split):
            out += rec(PARAMS, rid, p[i:i + split])
    else:
        out += rec(PARAMS, rid, p)
    out += rec(PARAMS, rid)
    if body:
        out += rec(STDIN, rid, body)
    return out + rec(STDIN, rid)


def get_values(names):
    return rec(GETV, 0, pairs([(n, "") for n in names]))


JSON_BODY = b'{"name":"widget","qty":3,"tags":["a","b"],"price":9.5}'
FCGI_STREAMS = {
    "get": request(1, "GET", "/hello?name=world&x=1"),
    "get-item": request(1, "GET", "/items/42"),
    "post-form": request(1, "POST", "/items", b"name=a+b&qty=2",
                         "application/x-www-form-urlencoded"),
    "post-json": request(1, "POST", "/items", JSON_BODY, "application/json"),
    "two-keepalive": request(1, "GET", "/") + request(1, "HEAD", "/hello"),
    "multiplexed": request(1, "GET", "/a") + request(2, "PUT", "/items/7",
                                                     b"x" * 20),
    "split-params": request(3, "GET", "/users/bob?q=%41", split=37),
    "long-param": request(1, "GET", "/files/x",
                          extra=[("HTTP_COOKIE", "k=" + "v" * 300)]),
    "get-values": get_values(["FCGI_MAX_CONNS", "FCGI_MAX_REQS",
                              "FCGI_MPXS_CONNS"]),
    "get-values-unknown": get_values(["FCGI_MAX_REQS", "X", "FCGI_MAX_REQS"]),
    "abort": rec(BEGIN, 1, struct.pack(">HB5x", 1, 1)) + rec(ABORT, 1)
    + request(2, "GET", "/"),
    "unknown-type": rec(STDOUT, 1, b"x") + rec(42, 0, b"abc")
    + request(1, "GET", "/"),
    "no-pad": rec(BEGIN, 1, struct.pack(">HB5x", 1, 0), pad=0)
    + rec(PARAMS, 1, nginx_params("GET", "/"), pad=0) + rec(PARAMS, 1)
    + rec(STDIN, 1),
    "big-pad": rec(BEGIN, 1, struct.pack(">HB5x", 1, 1), pad=255)
    + rec(PARAMS, 1, nginx_params("GET", "/x"), pad=200) + rec(PARAMS, 1)
    + rec(STDIN, 1, b"body", pad=3) + rec(STDIN, 1),
    "data-filter": rec(BEGIN, 1, struct.pack(">HB5x", 3, 0))
    + rec(PARAMS, 1) + rec(STDIN, 1) + rec(DATA, 1, b"filedata") + rec(DATA, 1),
    "bad-version": rec(BEGIN, 1, struct.pack(">HB5x", 1, 1), version=2),
    "bad-begin-len": rec(BEGIN, 1, b"\0\1\0"),
}

PAIRS = {
    "nginx": nginx_params("GET", "/hello?name=world"),
    "post": nginx_params("POST", "/items", b"a=1", "text/plain"),
    "long": pairs([("HTTP_COOKIE", "x" * 200), ("Y" * 130, "")]),
    "four-byte-short": b"\x80\x00\x00\x01\x80\x00\x00\x02ABC",
    "getvalues": pairs([("FCGI_MAX_CONNS", ""), ("FCGI_MPXS_CONNS", "")]),
    "truncated": b"\x05\x10NAME",
    "empty-name": b"\x00\x01x",
}

FCGI_DICT = [
    b"\x01\x01\x00\x01\x00\x08\x00\x00", b"\x00\x01\x01\x00\x00\x00\x00\x00",
    b"\x01\x02\x00\x01\x00\x00\x00\x00", b"\x01\x04\x00\x01",
    b"\x01\x04\x00\x01\x00\x00\x00\x00", b"\x01\x05\x00\x01",
    b"\x01\x05\x00\x01\x00\x00\x00\x00", b"\x01\x08\x00\x01",
    b"\x01\x09\x00\x00", b"\x01\x0b\x00\x00", b"\x01\x06\x00\x01",
    b"\xff\xff", b"\xff\xf8\x00", b"\x80\x00\x01\x00", b"\x7f\xff\xff\xff",
    b"FCGI_MAX_CONNS", b"FCGI_MAX_REQS", b"FCGI_MPXS_CONNS",
    b"REQUEST_METHOD", b"REQUEST_URI", b"QUERY_STRING", b"CONTENT_LENGTH",
    b"CONTENT_TYPE", b"HTTP_HOST", b"SCRIPT_NAME", b"DOCUMENT_URI",
]

# ---- SCGI ----------------------------------------------------------------


def scgi(headers, body=b"", maxsel=b"\x40"):
    block = b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                     for k, v in headers)
    return maxsel + str(len(block)).encode() + b":" + block + b"," + body


def scgi_req(method, uri, body=b"", extra=()):
    path, _, query = uri.partition("?")
    return [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1"),
            ("REQUEST_METHOD", method), ("REQUEST_URI", uri),
            ("QUERY_STRING", query), ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("REMOTE_ADDR", "192.0.2.7"), ("HTTP_HOST", "example.org")] \
        + list(extra)


SCGI = {
    "get": scgi(scgi_req("GET", "/hello?x=1")),
    "post": scgi(scgi_req("POST", "/items", JSON_BODY), JSON_BODY),
    "max-any": scgi(scgi_req("GET", "/"), maxsel=b"\xff"),
    "tight-max": scgi(scgi_req("GET", "/"), maxsel=b"\x01"),
    "no-scgi": scgi([("CONTENT_LENGTH", "0"), ("A", "b")]),
    "dup": scgi([("CONTENT_LENGTH", "0"), ("SCGI", "1"), ("SCGI", "1")]),
    "leading-zero": scgi([("CONTENT_LENGTH", "07"), ("SCGI", "1")]),
    "big-cl": scgi([("CONTENT_LENGTH", "18446744073709551615"),
                    ("SCGI", "1")]),
    "partial": scgi(scgi_req("GET", "/"))[:30],
}
SCGI_DICT = [b"CONTENT_LENGTH\x00", b"SCGI\x001\x00", b"\x00", b":", b",",
             b"REQUEST_METHOD\x00GET\x00", b"18446744073709551616",
             b"9999999999:", b"0:"]

# ---- router --------------------------------------------------------------

ROUTER = {
    "hello": b"GET\n/hello\nGET\n/greet/{who}",
    "item-int": b"GET\n/items/42\nPOST\n/items/{id:int}/tags",
    "item-neg": b"DELETE\n/items/-9223372036854775808\n*\n/x/{a}",
    "item-overflow": b"PUT\n/items/9223372036854775808\nGET\n/{a}/{b}/{c}",
    "bad-int": b"GET\n/items/12ab\nGET\n/items/new",
    "new": b"GET\n/items/new\nGET\n/lit/eral",
    "path": b"GET\n/files/a/b/c.txt\nGET\n/f/{rest:path}",
    "posts": b"HEAD\n/users/ann/posts/7\nGET\n/users/{n}/{m:int}",
    "method": b"POST\n/hello\nGET\n/bad/{x:float}",
    "any": b"BREW\n/any/pot\nGET\n/{a}/{a}",
    "deep": b"GET\n/x/1/2/3/4\nGET\n/p/{rest:path}/x",
    "trailing": b"GET\n/hello/\nGET\n/hello/",
    "root": b"OPTIONS\n/\n*\n/",
    # a method too long for sl_match.allow: 405 with an empty allow
    "long-method": b"PUT\n/item3/x\n" + b"B" * 150 + b"\n/{a}/{bc}",
}
ROUTER_DICT = [b"{", b"}", b"{id:int}", b"{rest:path}", b"{x:str}", b":int}",
               b"GET", b"HEAD", b"POST", b"*", b"/items/", b"/users/",
               b"/files/", b"-9223372036854775808", b"9223372036854775807",
               b"\n"]

# ---- query ---------------------------------------------------------------

QUERY = {
    "simple": b"\x05name\tx\nname=world&x=1",
    "plus": b"\x08q\nq=a+b%20c&q=second",
    "escapes": b"\x00caf\xc3\xa9\ncaf%C3%A9=1&%41=b",
    "malformed": b"\x03a\na=%zz&a=%4",
    "empty": b"\x02e\tf\ne&f=&&=x",
    "nul": b"\x04n\nn%00=1&n=%00",
    "small": b"\x01k\nk=" + b"v" * 40,
}
QUERY_DICT = [b"%", b"%00", b"%2B", b"%25", b"%zz", b"+", b"=", b"&", b"\t",
              b"\n", b"%C3%A9"]

# ---- params: a query string, a Cookie header, a Content-Type at once ----

PARAMS = {
    "search": b"q=pen&limit=3&tag=a&tag=b",
    "lax": b"q=a+b&limit=%2B7&price=1_0.5&on=YES&ids=1&ids=%207&color=red",
    "bad": b"q=&limit=abc&price=-1&on=maybe&ids=x&ids=1&ids=2&ids=3&ids=4&color=pink",
    "utf8": b"q=caf%C3%A9&tag=%ff%fe&tag=\xe9&%E2%82=1",
    "cookie": b'session=abc; theme="dark \\"mode\\"\\054"; =x; junk',
    "ctype": b"application/vnd.x+json; charset=utf-8",
    "empty": b"&&=&q",
}
PARAMS_DICT = [b"q=", b"limit=", b"price=", b"on=", b"ids=", b"tag=", b"color=", b"&",
               b";", b"=", b"%", b"%C3%A9", b"\"", b"\\0", b"+json", b"application/",
               b"1_0", b"inf", b"yes"]

# ---- cookie: byte 0 a position, then a (signed) cookie value -------------

COOKIE = {
    # signed with fuzz_cookie.c's key for the name "s": verifies
    "signed": b"\x05aGVsbG8.sb7hQh6qHmOyBr00O1-NkS6O3mOE00A9U9gUbzyvga8",
    "plain": b"\x00hello world",
    "b64": b"\x07Zm9vYmFy",
    "b64-bad-bits": b"\x01Zh",
    "dots": b"\x02a.b.c.",
    "json": b'\x09{"user":"ann","n":1}',
    "nul": b"\x03a\x00b",
    "empty": b"\x00",
}
COOKIE_DICT = [b".", b"-", b"_", b"=", b"A", b"Q", b"g", b"0", b"\x00"]

# ---- path ----------------------------------------------------------------

PATH = {
    "hello": b"/hello?name=world",
    "dots": b"/a/b/c/./../../g",
    "climb": b"/a/../..",
    "admin-dotdot": b"/admin/..%2Fpublic",
    "encoded-dots": b"/admin/%2e%2E/x",
    "encoded-slash": b"/u/a%2Fb%2f..%2Fc",
    "merge": b"//admin///x//",
    "absolute": b"http://example.org:8080/p/../q?x#f",
    "fragment": b"/public#/../admin/x",
    "malformed": b"/a%2/%zz",
    "nul": b"/a%00b",
    "double": b"/a/%252F/%25",
}
PATH_DICT = [b"/", b"//", b"/.", b"/..", b"%2F", b"%2f", b"%2e", b"%2E",
             b"%2e%2e", b"%00", b"%25", b"?", b"#", b"http://", b"h:80",
             b"%"]

# ---- JSON ----------------------------------------------------------------

JSON = {
    "object": JSON_BODY,
    "nested": json.dumps({"a": [1, 2.5, -3e10, True, False, None],
                          "b": {"c": "d\u00e9\n\"\\/"}}).encode(),
    "array": b'[1, "two", {"three": 3}, [], {}]',
    "string": b'"\\u00e9\\ud83d\\ude00\\u0000"',
    "number-ws": b"42\n",
    "bignum": b"[18446744073709551616, -9223372036854775809, 1e400]",
    "deep": b"[" * 40 + b"]" * 40,
    "dup-keys": b'{"a":1,"a":2}',
    "lenient": b"[NaN, Infinity, 'single', /* c */ 1,]",
    "trailing": b'{"a":1} x',
}
JSON_DICT = [b"{", b"}", b"[", b"]", b'"', b":", b",", b"true", b"false",
             b"null", b"NaN", b"Infinity", b"-Infinity", b"\\u0000",
             b"\\ud800", b"\\udc00", b"1e308", b"-0", b"0.5e-3", b"/*", b"*/",
             b"//", b"'", b"\\\"", b"\\/"]


def dict_line(b):
    return '"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92)
                         else "\\x%02x" % c for c in b) + '"'


def write(target, seeds, dictionary=None):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    if dictionary:
        with open(os.path.join(HERE, target + ".dict"), "w") as f:
            f.write("# generated by make-seeds.py\n")
            for i, entry in enumerate(dictionary):
                f.write("kw%d=%s\n" % (i, dict_line(entry)))


def main():
    # fcgi_decode: a chunk-size prefix, then the stream (fuzz_fcgi_decode.c).
    prefixes = [b"\x00", b"\x01\x00", b"\x03\x07\x00\x1f", b"\x02\xff\x02"]
    write("fcgi_decode", {n: prefixes[i % len(prefixes)] + s
                          for i, (n, s) in enumerate(FCGI_STREAMS.items())},
          FCGI_DICT)
    write("fcgi_roundtrip", FCGI_STREAMS, FCGI_DICT)
    write("fcgi_pairs", PAIRS, FCGI_DICT[13:])
    # store: the same streams; the first byte's bit 0 also picks the
    # block's byte of room (fuzz_store.c).
    write("store", PAIRS, FCGI_DICT[13:])
    write("scgi", SCGI, SCGI_DICT)
    write("router", ROUTER, ROUTER_DICT)
    write("query", QUERY, QUERY_DICT)
    write("json", JSON, JSON_DICT)
    write("path", PATH, PATH_DICT)
    write("params", PARAMS, PARAMS_DICT)
    write("cookie", COOKIE, COOKIE_DICT)


if __name__ == "__main__":
    main()
