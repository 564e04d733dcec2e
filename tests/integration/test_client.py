#!/usr/bin/env python3
"""The in-process test client answers what production answers.

The demo app through sluice behind nginx (the shipped conf/nginx/sluice.conf)
and the same demo.so through sl_test_load() (sluice_test.h, in a program
built with `pkg-config --cflags --libs sluice` as a user's test is) get the
same requests, with the same headers.  For each: the same status, the same
body bytes, and every header the client reports reaches the HTTP client
through nginx with the same value, nginx adding only its own (Server, Date,
Connection, Transfer-Encoding).  For /env, the same CGI parameters with the
same values, but those that name the server (its name, port, software,
document root, the client's port).
"""
import binascii
import collections
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DRIVER = r'''/* Runs the requests of a JSON file through sl_test_load(APP) and
 * writes the answers as JSON: status, every header, the body in hex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sluice_test.h>

static void *unhex(const char *s, size_t *len)
{
    *len = strlen(s) / 2;
    unsigned char *b = malloc(*len + 1);
    for (size_t i = 0; b != NULL && i < *len; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        b[i] = (unsigned char)v;
    }
    return b;
}

static char *hex(const unsigned char *b, size_t len)
{
    char *s = malloc(2 * len + 1);
    for (size_t i = 0; s != NULL && i < len; i++)
        snprintf(s + 2 * i, 3, "%02x", b[i]);
    if (s != NULL)
        s[2 * len] = '\0';
    return s;
}

int main(int argc, char **argv)
{
    char err[512];
    if (argc != 3)
        return 2;
    sl_test *t = sl_test_load(argv[1], err, sizeof err);
    json_object *reqs = json_object_from_file(argv[2]);
    if (t == NULL || reqs == NULL) {
        fprintf(stderr, "%s\n", t == NULL ? err : "cannot read the requests");
        return 1;
    }
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        json_object *q = json_object_array_get_idx(reqs, i), *v;
        json_object_object_get_ex(q, "headers", &v);
        size_t nh = json_object_array_length(v);
        const char **headers = calloc(nh + 1, sizeof *headers);
        for (size_t j = 0; j < nh; j++)
            headers[j] = json_object_get_string(json_object_array_get_idx(v, j));
        size_t len = 0;
        void *body = NULL;
        if (json_object_object_get_ex(q, "body", &v) && v != NULL)
            body = unhex(json_object_get_string(v), &len);
        json_object_object_get_ex(q, "method", &v);
        const char *method = json_object_get_string(v);
        json_object_object_get_ex(q, "target", &v);
        sl_test_resp *r = sl_test_request(t, method, json_object_get_string(v), headers,
                                          body, len);
        json_object *a = json_object_new_object();
        json_object_object_add(a, "status", json_object_new_int(sl_test_status(r)));
        json_object *hs = json_object_new_array();
        for (size_t j = 0; j < sl_test_header_count(r); j++) {
            const char *name, *value;
            sl_test_header_at(r, j, &name, &value);
            json_object *pair = json_object_new_array();
            json_object_array_add(pair, json_object_new_string(name));
            json_object_array_add(pair, json_object_new_string(value));
            json_object_array_add(hs, pair);
        }
        json_object_object_add(a, "headers", hs);
        const void *b = sl_test_body(r, &len);
        char *h = hex(b, len);
        json_object_object_add(a, "body", json_object_new_string(h));
        free(h);
        json_object_array_add(out, a);
        sl_test_resp_free(r);
        free(body);
        free(headers);
    }
    puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    json_object_put(reqs);
    sl_test_free(t);
    return 0;
}
'''

JSON = {"Content-Type": "application/json"}

# (method, target, extra headers, body or None)
REQUESTS = [
    ("GET", "/hello", {}, None),
    ("GET", "/hello?x=1", {"X-Token": "abc"}, None),
    ("GET", "/json", {}, None),
    ("GET", "/items/5?q=x", {}, None),
    ("GET", "/items/42", {}, None),
    ("GET", "/items/7?q=hello%20world", {}, None),
    ("GET", "/items/%35", {}, None),
    ("GET", "/items/abc", {}, None),
    ("GET", "/a/../hello", {}, None),
    ("GET", "//hello", {}, None),
    ("POST", "/echo", {"Content-Type": "application/x-thing"}, b"ping \x00\xff pong"),
    ("POST", "/echo", JSON, b'{"a": [1, 2]}'),
    ("POST", "/echo", {}, b""),
    ("GET", "/sleep?ms=20", {}, None),
    ("GET", "/sleep?ms=abc", {}, None),
    ("GET", "/block?ms=20", {}, None),
    ("GET", "/stream?chunks=5", {}, None),
    ("GET", "/stream?chunks=0", {}, None),
    ("GET", "/status/201", {}, None),
    ("GET", "/status/204", {}, None),
    ("GET", "/status/418", {}, None),
    ("GET", "/status/503", {}, None),
    ("GET", "/status/100", {}, None),
    ("GET", "/no/such/path", {}, None),
    ("POST", "/hello", {}, b"x"),
    ("DELETE", "/json", {}, None),
    # The declared routes of the demo (issue 13, section 5), valid and not.
    ("GET", "/search?q=abc&limit=5&tag=x&tag=y", {}, None),
    ("GET", "/search", {}, None),
    ("GET", "/search?q=&limit=0", {}, None),
    ("POST", "/items", JSON, b'{"name": "pen", "price": 1.5}'),
    ("POST", "/items", JSON, b'{"name": "", "price": 0, "extra": 1}'),
    ("POST", "/items", JSON, b'{"name": '),
    ("POST", "/items", {"Content-Type": "text/plain"}, b'{"name": "pen", "price": 1}'),
]

# nginx's own headers; any other it sends must come from sluice.
NGINX_ADDS = {"server", "date", "connection", "transfer-encoding", "keep-alive"}
# CGI parameters that name the server or the client's port.
SERVER_PARAMS = {"SERVER_NAME", "SERVER_PORT", "SERVER_ADDR", "SERVER_SOFTWARE",
                 "DOCUMENT_ROOT", "REMOTE_PORT"}


def all_headers(port, i, extra):
    """The headers both get: what http.client sends on its own (Host,
    Accept-Encoding), sent explicitly, a request id, and the extra ones."""
    h = {"Host": "127.0.0.1:%d" % port, "Accept-Encoding": "identity",
         "X-Request-ID": "cmp-%d" % i}
    h.update(extra)
    return h


def run_driver(t, driver, reqs):
    path = t.write("requests.json", json.dumps(reqs))
    r = t.run_cmd([driver, harness.sluice_demo(), path], timeout=60)
    t.eq(r.returncode, 0, "the client program ran the %d requests" % len(reqs),
         r.stderr.decode(errors="replace"))
    try:
        return json.loads(r.stdout)
    except ValueError:
        t.ok(False, "the client program's answers are JSON", harness.short(r.stdout))
        return None


def compare(t, label, via, got):
    """via: harness.Response from nginx; got: the client's answer."""
    body = binascii.unhexlify(got["body"])
    t.eq(got["status"], via.status, "%s: the same status" % label)
    t.eq(body, via.body, "%s: the same body" % label)
    # As multisets: nginx orders some headers its own way.
    theirs = collections.Counter((k.lower(), v) for k, v in via.headers)
    mine = collections.Counter((k.lower(), v) for k, v in got["headers"])
    t.eq(sorted((mine - theirs).elements()), [],
         "%s: every header of the client's reaches the HTTP client" % label,
         "client: %r\nnginx: %r" % (sorted(mine.elements()), sorted(theirs.elements())))
    extra = [h for h in (theirs - mine).elements() if h[0] not in NGINX_ADDS]
    t.eq(sorted(extra), [], "%s: nginx sends no header of sluice's that the client lacks"
         % label)


def check_same_answers(t, port, driver):
    reqs = []
    for i, (method, target, extra, body) in enumerate(REQUESTS):
        hs = all_headers(port, i, extra)
        reqs.append({"method": method, "target": target,
                     "headers": ["%s: %s" % kv for kv in hs.items()],
                     "body": binascii.hexlify(body).decode() if body is not None else None})
    answers = run_driver(t, driver, reqs)
    if answers is None or not t.eq(len(answers), len(REQUESTS), "one answer per request"):
        return
    statuses = set()
    for i, (method, target, extra, body) in enumerate(REQUESTS):
        via = harness.http_request(port, method, target, body=body,
                                   headers=all_headers(port, i, extra))
        compare(t, "%s %s" % (method, target), via, answers[i])
        statuses.add(via.status)
    # The set covers the answers that matter, whatever the demo declares.
    for code in (200, 201, 204, 404, 405, 422, 500):
        t.ok(code in statuses, "the requests compared include a %d" % code, sorted(statuses))


def check_same_params(t, port, driver):
    cases = [
        ("GET", "/env?a=1&b=%20", {"X-Token": "abc", "Accept": "text/plain"}, None),
        ("GET", "/x/./y/../../env", {"Host": "Example.COM:8080"}, None),
        ("GET", "/env", {"X_Under": "dropped by nginx"}, None),
        # A body (on a GET: /env is GET only) brings CONTENT_* and HTTP_CONTENT_*.
        ("GET", "/env?p", {"Content-Type": "application/json"}, b"{}"),
    ]
    reqs = []
    for i, (method, target, extra, body) in enumerate(cases):
        hs = all_headers(port, 100 + i, extra)
        reqs.append({"method": method, "target": target,
                     "headers": ["%s: %s" % kv for kv in hs.items()],
                     "body": binascii.hexlify(body).decode() if body is not None else None})
    answers = run_driver(t, driver, reqs)
    if answers is None:
        return
    for i, (method, target, extra, body) in enumerate(cases):
        label = "%s %s %r" % (method, target, extra)
        via = harness.http_request(port, method, target, body=body,
                                   headers=all_headers(port, 100 + i, extra))
        t.eq((answers[i]["status"], via.status), (200, 200), "%s: 200 both ways" % label)
        try:
            theirs = json.loads(via.body)
            mine = json.loads(binascii.unhexlify(answers[i]["body"]))
        except (ValueError, KeyError, IndexError):
            t.ok(False, "%s: both answers are JSON" % label, harness.short(via.body))
            continue
        t.eq(sorted(mine), sorted(theirs), "%s: the same CGI parameters" % label)
        t.eq({k: v for k, v in mine.items() if k not in SERVER_PARAMS},
             {k: v for k, v in theirs.items() if k not in SERVER_PARAMS},
             "%s: the same values, but the server's own" % label)


def main(t):
    harness.sluice_bin()
    harness.need_program("cc")
    harness.need_program("pkg-config")
    t.write("driver.c", DRIVER)
    # A sanitizer build's libsluice needs its runtime in the program too.
    san = os.environ.get("SLUICE_SANITIZERS", "")
    r = t.run_cmd(["sh", "-c", "cc %s -o driver driver.c $(pkg-config --cflags --libs sluice)"
                   % san], timeout=120)
    if not t.eq(r.returncode, 0, "the client program builds with pkg-config",
                (r.stdout + r.stderr).decode(errors="replace")):
        return
    driver = t.path("driver")
    sock = t.path("fcgi.sock")
    t.start_sluice(["--workers", "1", "--fastcgi", "unix:" + sock])
    port, _ = t.start_nginx(fcgi_sock=sock)
    check_same_answers(t, port, driver)
    check_same_params(t, port, driver)


harness.run("client", main)
