#!/usr/bin/env python3
"""The OpenAPI 3.1 document and the docs page, through nginx:

  - the demo's and the example app's (examples/notes) /openapi.json: valid for an independent OpenAPI 3.1
    validator (npm's @seriousme/openapi-schema-validator, pinned in
    npm_deps.py), and its /search and /items operations and the schemas
    they use exactly what FastAPI (Pydantic 2) publishes for the same
    declarations (EXPECTED, printed by gen_openapi_expected.py);
  - a built app that uses every declaration kind (path, query, header and
    cookie parameters of every type, enum, SL_MULTI, optional ones, a body
    inline and by $ref, extra responses, 204, deprecated, tags, declared
    and default operation ids, a clash, sl_app_info(), sl_route() routes,
    a "*" route): valid, and what each produces;
  - the options: --openapi-path, --docs-path, --docs-assets, "off"; GET and
    HEAD only; an app route of the same path is shadowed; the docs page is
    FastAPI's HTML with the assets and the document's URL; --check-config
    prints them and the document's size.
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import npm_deps  # noqa: E402
from test_docs_page import notes_app  # noqa: E402

# python3 gen_openapi_expected.py
EXPECTED = json.loads(r"""
{
 "/items": {
  "post": {
   "operationId": "items_post",
   "requestBody": {
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Item"
      }
     }
    },
    "required": true
   },
   "responses": {
    "201": {
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Item"
       }
      }
     },
     "description": "Successful Response"
    },
    "422": {
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/HTTPValidationError"
       }
      }
     },
     "description": "Validation Error"
    }
   },
   "summary": "Create an item",
   "tags": [
    "demo"
   ]
  }
 },
 "/search": {
  "get": {
   "operationId": "search_get",
   "parameters": [
    {
     "description": "What to look for",
     "in": "query",
     "name": "q",
     "required": true,
     "schema": {
      "description": "What to look for",
      "maxLength": 50,
      "minLength": 1,
      "title": "Q",
      "type": "string"
     }
    },
    {
     "description": "At most this many results",
     "in": "query",
     "name": "limit",
     "required": false,
     "schema": {
      "default": 10,
      "description": "At most this many results",
      "maximum": 100,
      "minimum": 1,
      "title": "Limit",
      "type": "integer"
     }
    },
    {
     "description": "Only results with these tags (repeatable)",
     "in": "query",
     "name": "tag",
     "required": false,
     "schema": {
      "default": [],
      "description": "Only results with these tags (repeatable)",
      "items": {
       "type": "string"
      },
      "title": "Tag",
      "type": "array"
     }
    }
   ],
   "responses": {
    "200": {
     "content": {
      "application/json": {
       "schema": {}
      }
     },
     "description": "Successful Response"
    },
    "422": {
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/HTTPValidationError"
       }
      }
     },
     "description": "Validation Error"
    }
   },
   "summary": "Search",
   "tags": [
    "demo"
   ]
  }
 },
 "Item": {
  "additionalProperties": false,
  "properties": {
   "name": {
    "maxLength": 50,
    "minLength": 1,
    "title": "Name",
    "type": "string"
   },
   "price": {
    "exclusiveMinimum": 0,
    "title": "Price",
    "type": "number"
   },
   "tags": {
    "default": [],
    "items": {
     "type": "string"
    },
    "maxItems": 5,
    "title": "Tags",
    "type": "array"
   }
  },
  "required": [
   "name",
   "price"
  ],
  "title": "Item",
  "type": "object"
 }
}
""")

# fastapi/openapi/utils.py's, as FastAPI publishes them with Pydantic 2.
VALIDATION_SCHEMAS = {
    "HTTPValidationError": {
        "title": "HTTPValidationError", "type": "object",
        "properties": {"detail": {"title": "Detail", "type": "array",
                                  "items": {"$ref": "#/components/schemas/ValidationError"}}}},
    "ValidationError": {
        "title": "ValidationError", "type": "object",
        "properties": {
            "loc": {"title": "Location", "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "input": {"title": "Input"},
            "ctx": {"title": "Context", "type": "object"}},
        "required": ["loc", "msg", "type"]},
}

APP = r"""
#include <sluice.h>

static int ok(sl_req *req) { return sl_resp_json(req, json_object_new_object()); }
static int gone(sl_req *req) { return sl_resp_status(req, 204); }

static const char *const colors[] = {"red", "green", NULL};
static const char *const tags_a[] = {"things", "more", NULL};

static const sl_param_def all_params[] = {
    { .name = "id", .in = SL_IN_PATH, .type = SL_T_INT, .le = "1000",
      .description = "The thing's id" },
    { .name = "i", .in = SL_IN_QUERY, .type = SL_T_INT, .flags = SL_REQUIRED },
    { .name = "s", .in = SL_IN_QUERY, .pattern = "^[a-z]+$" },
    { .name = "n", .in = SL_IN_QUERY, .type = SL_T_NUM, .gt = "0", .dflt = "1.5" },
    { .name = "b", .in = SL_IN_QUERY, .type = SL_T_BOOL, .dflt = "false" },
    { .name = "ints", .in = SL_IN_QUERY, .type = SL_T_INT, .flags = SL_MULTI, .max_items = 3 },
    { .name = "color", .in = SL_IN_QUERY, .choices = colors, .dflt = "red" },
    { .name = "old", .in = SL_IN_QUERY, .flags = SL_DEPRECATED },
    { .name = "X-Token", .in = SL_IN_HEADER, .flags = SL_REQUIRED, .min_length = 3 },
    { .name = "session", .in = SL_IN_COOKIE, .flags = SL_REQUIRED },
    { .name = NULL }
};

static const sl_response_def thing_responses[] = {
    { .status = 404, .description = "No such thing",
      .schema = "{\"type\":\"object\",\"properties\":{\"detail\":{\"type\":\"string\"}}}" },
    { .status = 0 }
};

static const sl_route_def routes[] = {
    { .method = "PUT", .pattern = "/things/{id:int}", .handler = ok, .params = all_params,
      .body = "{\"$ref\":\"#/components/schemas/Thing\"}",
      .response = "{\"$ref\":\"#/components/schemas/Thing\"}",
      .responses = thing_responses, .summary = "Replace a thing",
      .description = "All of it.", .tags = tags_a, .operation_id = "replace_thing" },
    { .method = "POST", .pattern = "/notes", .handler = ok, .flags = SL_BODY_OPTIONAL,
      .body = "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}",
      .status = 201, .deprecated = 1 },
    { .method = "DELETE", .pattern = "/notes/{slug}", .handler = gone, .status = 204,
      .operation_id = "things__id__get" },
    { .method = "GET", .pattern = "/things/{id:int}", .handler = ok },
    { .method = "GET", .pattern = "/openapi.json", .handler = ok },
    { .method = NULL }
};

int sluice_app(sl_app *app)
{
    sl_app_info(app, "Things <API>", "2.5.0", "Every kind of declaration.");
    int rc = sl_schema(app, "Thing", "{\"type\":\"object\",\"title\":\"Thing\","
                       "\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}");
    rc = rc ? rc : sl_routes(app, routes);
    rc = rc ? rc : sl_route(app, "GET", "/files/{rest:path}", ok, SL_LOOP);
    rc = rc ? rc : sl_route(app, "*", "/any", ok, SL_LOOP);
    return rc;
}
"""


def validate(t, npm, doc, what):
    """Run the pinned validator on doc; one check."""
    f = t.write("%s.json" % what, json.dumps(doc))
    r = t.run_cmd(["node", os.path.join(npm, "node_modules", ".bin", "validate-api"), f],
                  timeout=60)
    out = r.stdout.decode(errors="replace")
    try:
        verdict = json.loads(out)
    except ValueError:
        verdict = {}
    t.ok(r.returncode == 0 and verdict.get("valid") is True,
         "%s: a valid OpenAPI 3.1 document for @seriousme/openapi-schema-validator" % what,
         out + r.stderr.decode(errors="replace"))


SERVED = [0]


def serve(t, app=None, args=()):
    SERVED[0] += 1
    sock = t.path("s%d.sock" % SERVED[0])
    t.start_sluice(["--fastcgi", "unix:" + sock, "--workers", "1"] + list(args), app=app)
    port, _ = t.start_nginx(fcgi_sock=sock)
    return port


def check_demo(t, npm):
    port = serve(t)
    r = harness.http_get(port, "/openapi.json")
    t.eq(r.status, 200, "demo: GET /openapi.json is 200")
    t.eq(r.media_type, "application/json", "demo: the document is application/json")
    doc = r.json()
    validate(t, npm, doc, "demo")
    t.eq(doc["openapi"], "3.1.0", "demo: OpenAPI 3.1.0")
    t.eq(doc["info"], {"title": "demo", "version": "0.1.0"},
         "demo: info: the file's name, FastAPI's default version")
    t.ok("servers" not in doc, "demo: no servers without a root path")
    paths = doc["paths"]
    t.eq(paths.get("/search"), EXPECTED["/search"], "demo: GET /search as FastAPI publishes it")
    t.eq(paths.get("/items"), EXPECTED["/items"], "demo: POST /items as FastAPI publishes it")
    schemas = doc.get("components", {}).get("schemas", {})
    t.eq(schemas.get("Item"), EXPECTED["Item"], "demo: components Item is Pydantic's model schema")
    for name, want in VALIDATION_SCHEMAS.items():
        t.eq(schemas.get(name), want, "demo: components %s is FastAPI's" % name)
    t.eq(list(schemas), sorted(schemas), "demo: components sorted by name, as FastAPI's")
    t.eq(paths.get("/items/{id}"), {"get": {
        "operationId": "items__id__get",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "integer", "title": "Id"}}],
        "responses": {"200": {"description": "Successful Response"}}}},
        "demo: an sl_route() route: its path parameter and a plain 200")
    t.eq(r.header("Content-Length"), str(len(r.body)), "demo: the whole document, sized")

    h = harness.http_request(port, "HEAD", "/openapi.json")
    t.eq((h.status, h.body), (200, b""), "demo: HEAD /openapi.json is 200 without a body")
    p = harness.http_request(port, "POST", "/openapi.json", body=b"{}")
    t.eq((p.status, p.header("Allow")), (405, "GET, HEAD"), "demo: POST /openapi.json is 405")

    d = harness.http_get(port, "/docs")
    t.eq(d.status, 200, "demo: GET /docs is 200")
    t.eq(d.header("Content-Type"), "text/html; charset=utf-8", "demo: /docs is HTML")
    page = d.body.decode()
    for want in ('<link type="text/css" rel="stylesheet" '
                 'href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">',
                 '<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/'
                 'swagger-ui-bundle.js"></script>',
                 "<title>demo - Swagger UI</title>",
                 'url: "\\/openapi.json"', '"dom_id": "#swagger-ui"',
                 "SwaggerUIBundle.SwaggerUIStandalonePreset"):
        t.ok(want in page, "demo: the page has %s" % want, page)


def check_app(t, npm):
    app = t.build_app("things", APP)
    port = serve(t, app=app, args=["--docs-assets", "/static/swagger/"])
    r = harness.http_get(port, "/openapi.json")
    doc = r.json()
    validate(t, npm, doc, "things")
    t.eq(doc["info"], {"title": "Things <API>", "description": "Every kind of declaration.",
                       "version": "2.5.0"}, "things: info from sl_app_info()")
    paths = doc["paths"]
    t.eq(list(paths), ["/things/{id}", "/notes", "/notes/{slug}", "/openapi.json",
                       "/files/{rest}"],
         "things: paths as templates, in the table's order; the \"*\" route left out")
    put = paths["/things/{id}"]["put"]
    t.eq([put.get(k) for k in ("tags", "summary", "description", "operationId")],
         [["things", "more"], "Replace a thing", "All of it.", "replace_thing"],
         "things: tags, summary, description, declared operation id")
    params = {p["name"]: p for p in put["parameters"]}
    t.eq([(p["name"], p["in"], p["required"]) for p in put["parameters"]],
         [("id", "path", True), ("i", "query", True), ("s", "query", False),
          ("n", "query", False), ("b", "query", False), ("ints", "query", False),
          ("color", "query", False), ("old", "query", False), ("X-Token", "header", True),
          ("session", "cookie", True)],
         "things: parameters in FastAPI's order, with where and required")
    # What FastAPI publishes for the same Path(), Query(), Header(), Cookie().
    t.eq(params["id"]["schema"], {"type": "integer", "maximum": 1000,
                                  "description": "The thing's id", "title": "Id"},
         "things: an integer path parameter with a bound and a description")
    t.eq(params["id"].get("description"), "The thing's id", "things: the description, twice")
    t.eq(params["s"]["schema"], {"anyOf": [{"type": "string", "pattern": "^[a-z]+$"},
                                           {"type": "null"}], "title": "S"},
         "things: an optional string: anyOf with null, no default (FastAPI's)")
    t.eq(params["n"]["schema"], {"type": "number", "exclusiveMinimum": 0, "default": 1.5,
                                 "title": "N"}, "things: a number with gt and a default")
    t.eq(params["b"]["schema"], {"type": "boolean", "default": False, "title": "B"},
         "things: a boolean with a default")
    t.eq(params["ints"]["schema"], {"anyOf": [{"type": "array", "items": {"type": "integer"},
                                               "maxItems": 3}, {"type": "null"}],
                                    "title": "Ints"}, "things: an optional repeated integer")
    t.eq(params["color"]["schema"].get("enum"), ["red", "green"], "things: choices as an enum")
    t.eq((params["old"].get("deprecated"), params["old"]["schema"].get("deprecated")),
         (True, True), "things: a deprecated parameter")
    t.eq(params["X-Token"]["schema"], {"type": "string", "minLength": 3, "title": "X-Token"},
         "things: a header parameter, titled as FastAPI titles it")
    t.eq(put["requestBody"], {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}}}, "required": True},
        "things: a named body as $ref")
    t.eq(put["responses"]["200"]["content"]["application/json"]["schema"],
         {"$ref": "#/components/schemas/Thing"}, "things: the response schema")
    t.eq(put["responses"]["404"]["description"], "No such thing", "things: a declared response")
    t.ok("422" in put["responses"], "things: 422 on a route that validates")
    notes = paths["/notes"]["post"]
    t.eq((notes.get("deprecated"), notes["operationId"], "required" in notes["requestBody"],
          list(notes["responses"])), (True, "notes_post", False, ["201", "422"]),
         "things: deprecated, default id, an optional body, status 201")
    dele = paths["/notes/{slug}"]["delete"]
    t.eq(dele["responses"]["204"], {"description": "Successful Response"},
         "things: 204 has no content")
    t.eq(dele["parameters"][0]["schema"], {"type": "string", "title": "Slug"},
         "things: an implied {slug} path parameter")
    t.eq(paths["/things/{id}"]["get"]["operationId"], "things__id__get_2",
         "things: a default id another route declares gets _2")
    t.eq(paths["/files/{rest}"]["get"]["parameters"][0]["schema"],
         {"type": "string", "title": "Rest"}, "things: {rest:path} is a string")
    t.eq(sorted(doc["components"]["schemas"]), ["HTTPValidationError", "Thing",
                                                 "ValidationError"],
         "things: components: the named schema and the 422's")
    # The document is answered before routing: the app's own /openapi.json
    # route is shadowed (sluice(1), OPENAPI).
    t.eq(r.json().get("openapi"), "3.1.0", "things: GET /openapi.json is the document, "
         "not the app's route of that path")
    page = harness.http_get(port, "/docs").body.decode()
    t.ok('href="/static/swagger/swagger-ui.css"' in page and
         '<script src="/static/swagger/swagger-ui-bundle.js">' in page,
         "things: --docs-assets names where the page loads Swagger UI from", page)
    t.ok("<title>Things &lt;API&gt; - Swagger UI</title>" in page,
         "things: the title is escaped in the page", page)


def check_notes(t, npm):
    """The example app's document (examples/notes): valid, every route."""
    port = serve(t, app=notes_app(t))
    doc = harness.http_get(port, "/openapi.json").json()
    validate(t, npm, doc, "notes")
    ops = [(m, p) for p, item in doc.get("paths", {}).items() for m in item]
    t.eq(sorted(ops), sorted([("post", "/notes"), ("get", "/notes"), ("get", "/notes/{id}"),
                              ("put", "/notes/{id}"), ("patch", "/notes/{id}"),
                              ("delete", "/notes/{id}")]), "notes: every route published")
    ids = [doc["paths"][p][m]["operationId"] for m, p in ops]
    t.eq(len(set(ids)), len(ids), "notes: operation ids unique", ids)


def check_options(t):
    port = serve(t, args=["--openapi-path", "/api/v1/openapi.json", "--docs-path", "off"])
    t.eq(harness.http_get(port, "/api/v1/openapi.json").status, 200,
         "--openapi-path moves the document")
    t.eq(harness.http_get(port, "/openapi.json").status, 404, "... not at the default path")
    t.eq(harness.http_get(port, "/docs").status, 404, "--docs-path off: no page")
    port = serve(t, args=["--openapi-path", "off"])
    t.eq((harness.http_get(port, "/openapi.json").status,
          harness.http_get(port, "/docs").status), (404, 404),
         "--openapi-path off: neither the document nor the page")
    t.eq(harness.http_get(port, "/hello").status, 200, "... and the app still serves")
    r = t.run_cmd([harness.sluice_bin(), "--check-config", "--docs-path", "",
                   "--docs-assets", "/sw", harness.sluice_demo()])
    out, err = r.stdout.decode(), r.stderr.decode()
    t.ok(r.returncode == 0 and "openapi-path = /openapi.json\n" in out and
         "docs-path = off\n" in out and "docs-assets = /sw\n" in out,
         "--check-config prints the three options (an empty value is off)", out + err)
    t.ok("OpenAPI document: " in err and " bytes, built in " in err,
         "--check-config reports the document's size and build time", err)
    r = t.run_cmd([harness.sluice_bin(), "--check-config", "--openapi-path", "openapi.json",
                   harness.sluice_demo()])
    t.ok(r.returncode != 0 and b"must start with '/'" in r.stderr,
         "--openapi-path without a leading / is refused", r.stderr)


def main(t):
    npm = npm_deps.ensure(t)
    check_demo(t, npm)
    check_app(t, npm)
    check_notes(t, npm)
    check_options(t)


if __name__ == "__main__":
    harness.run("openapi", main)
