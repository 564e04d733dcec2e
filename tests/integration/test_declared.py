#!/usr/bin/env python3
"""The demo's declared routes, GET /search and POST /items, checked from
outside through nginx (conf/nginx/sluice.conf) against what FastAPI with
Pydantic v2 answers for the same declarations: every case of
demo_cases.json (written by gen_demo_cases.py, which emulates FastAPI
around the real Pydantic) must come back with the same status and the
same JSON body (type, loc, msg, input and ctx of every error, in order).

Then what FastAPI has no case for: a body with a Content-Type that is not
JSON is 415, in FastAPI's format like the route's other answers to bad
input; and the demo's other errors keep the problem+json they always had
(404, 405, the int path parameter of a route that declares nothing).
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def load_cases():
    with open(os.path.join(HERE, "demo_cases.json"), encoding="utf-8") as f:
        return json.load(f)["cases"]


def send(client, case):
    headers = {}
    if case["content_type"] is not None:
        headers["Content-Type"] = case["content_type"]
    body = bytes.fromhex(case["body_hex"]) if case["method"] == "POST" else None
    return client.request(case["method"], case["target"], body=body, headers=headers)


def check_cases(t, port):
    cases = load_cases()
    t.ok(len(cases) >= 60, "demo_cases.json holds %d cases" % len(cases))
    client = harness.HTTPClient(port)
    bad = []
    for case in cases:
        r = send(client, case)
        try:
            got = r.json()
        except ValueError:
            got = r.body
        want_type = "application/json"
        if (r.status, got) != (case["status"], case["json"]) or r.media_type != want_type:
            bad.append(case)
        t.eq((r.status, r.media_type, got), (case["status"], want_type, case["json"]),
             "%s %s: %s" % (case["method"], case["target"][:60], case["name"]))
    client.close()
    # The error types the cases reach, so that a lost one shows.
    types = {e["type"] for c in cases if c["status"] == 422 for e in c["json"]["detail"]}
    want = {"missing", "string_too_short", "string_too_long", "int_parsing",
            "greater_than_equal", "less_than_equal", "greater_than", "float_parsing",
            "float_type", "string_type", "list_type", "too_long", "extra_forbidden",
            "model_attributes_type", "json_invalid"}
    t.eq(sorted(want - types), [], "the cases reach every error type of the two routes")
    several = [c for c in cases if c["status"] == 422 and len(c["json"]["detail"]) >= 4]
    t.ok(several, "a case lists four errors or more at once")


def check_415(t, port):
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "application/json/x", "application/jsonx"):
        r = harness.http_request(port, "POST", "/items", body=b'{"name":"pen","price":1}',
                                 headers={"Content-Type": ctype})
        t.eq(r.status, 415, "POST /items with Content-Type %s: 415" % ctype, r)
        t.eq(r.media_type, "application/json", "the 415 is in the app's format (FastAPI's)")
        detail = r.json().get("detail") if r.status == 415 else None
        t.ok(isinstance(detail, str) and ctype in detail,
             "the 415 says which type was refused", r.body)
    # No body: nothing to refuse, the body is missing (as in FastAPI).
    r = harness.http_request(port, "POST", "/items", body=b"",
                             headers={"Content-Type": "text/plain"})
    t.eq(r.status, 422, "an empty text/plain body is not a 415 but a missing body")


def check_other_errors(t, port):
    """Errors that are not bad input to a declared route keep sluice's
    problem+json: the demo's contract from before records existed."""
    problem = "application/problem+json"
    r = harness.http_get(port, "/no/such/path")
    t.eq((r.status, r.media_type, r.json()),
         (404, problem, {"type": "about:blank", "title": "Not Found", "status": 404}),
         "GET /no/such/path: the problem+json 404")
    r = harness.http_request(port, "DELETE", "/search")
    t.eq((r.status, r.media_type, r.json().get("title")), (405, problem, "Method Not Allowed"),
         "DELETE /search: the problem+json 405")
    t.eq(r.header("Allow"), "GET, HEAD", "the 405 keeps its Allow header")
    r = harness.http_get(port, "/items/abc")
    t.eq((r.status, r.media_type, r.json().get("detail")),
         (422, problem, "path parameter 'id': value is not a valid integer"),
         "GET /items/abc (a route that declares nothing): the problem+json 422")
    r = harness.http_request(port, "HEAD", "/search?q=x")
    t.eq((r.status, r.body), (200, b""), "HEAD /search?q=x: 200, no body")
    r = harness.http_request(port, "HEAD", "/search")
    t.eq(r.status, 422, "HEAD /search without q: 422")
    # The routes that declare nothing are as they were.
    r = harness.http_get(port, "/items/5?q=a")
    t.eq((r.status, r.json()), (200, {"item_id": 5, "q": "a"}), "GET /items/5?q=a unchanged")
    r = harness.http_get(port, "/hello")
    t.eq((r.status, r.body), (200, b"Hello, world!\n"), "GET /hello unchanged")


def main(t):
    sock = t.path("fcgi.sock")
    t.start_sluice(["--workers", "2", "--fastcgi", "unix:" + sock])
    port, _ = t.start_nginx(fcgi_sock=sock)
    check_cases(t, port)
    check_415(t, port)
    check_other_errors(t, port)


harness.run("declared", main)
