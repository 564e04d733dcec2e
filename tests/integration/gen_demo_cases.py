#!/usr/bin/env python3
"""Write tests/integration/demo_cases.json: what FastAPI with Pydantic v2
answers for the demo's two declared routes, for test_declared.py.

Needs pydantic 2 (the test suite does not: it reads the committed file).
Run it from anywhere:  python3 tests/integration/gen_demo_cases.py

The demo declares (examples/demo/demo.c) what this FastAPI application
would:

    class Item(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(min_length=1, max_length=50)
        price: float = Field(gt=0)
        tags: list[str] = Field(default=[], max_length=5)

    @app.get("/search")
    def search(q: str = Query(min_length=1, max_length=50),
               limit: int = Query(10, ge=1, le=100),
               tag: list[str] = Query([])):
        return {"q": q, "limit": limit, "tags": tag}

    @app.post("/items", status_code=201)
    def create_item(item: Item):
        return item

FastAPI is not installed here, so its request handling is emulated around
the real Pydantic, step by step as FastAPI 0.141 does it
(fastapi/routing.py get_request_handler: the body read first, json.loads
on the bytes, json_invalid or a 400 answered alone;
fastapi/dependencies/utils.py request_params_to_args, _get_multidict_value,
request_body_to_args: each parameter looked up as Starlette exposes it,
"missing" with input None, errors collected path, query, header, cookie,
then body; ModelField.validate: TypeAdapter.validate_python(value,
from_attributes=True), errors(include_url=False) with the loc prefixed).
The query string is read as Starlette reads it: parse_qsl of its Latin-1
text, keep_blank_values=True.

Each case: {"name", "method", "target", "content_type" (or null),
"body_hex", "status", "json"}.  A wrong Content-Type is not here: FastAPI
would validate the raw bytes, sluice answers 415 (test_declared.py checks
that itself).
"""
import json
import os
from typing import Annotated
from urllib.parse import parse_qsl, quote

import pydantic
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

FASTAPI_VERSION = "0.141.1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "demo_cases.json")


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    tags: list[str] = Field(default=[], max_length=5)


# (name, where, adapter, required, default, is_sequence)
SEARCH = [
    ("q", "query", TypeAdapter(Annotated[str, Field(min_length=1, max_length=50)]),
     True, None, False),
    ("limit", "query", TypeAdapter(Annotated[int, Field(ge=1, le=100)]), False, 10, False),
    ("tag", "query", TypeAdapter(list[str]), False, [], True),
]
ITEM = TypeAdapter(Item)


def validate(adapter, value, loc):
    """ModelField.validate: (value, errors)."""
    try:
        return adapter.validate_python(value, from_attributes=True), []
    except ValidationError as e:
        return None, [dict(err, loc=list(loc) + list(err["loc"]))
                      for err in e.errors(include_url=False)]


def missing(loc):
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}


def jsonable(v):
    """fastapi.encoders.jsonable_encoder, for what these errors hold."""
    return json.loads(json.dumps(v, default=str, allow_nan=False))


def search(query):
    """GET /search?query: (status, json)."""
    pairs = parse_qsl(query or "", keep_blank_values=True)
    values, errors = {}, []
    for name, where, adapter, required, default, seq in SEARCH:
        got = [v for k, v in pairs if k == name]
        value = got if seq else (got[-1] if got else None)
        if value is None or (seq and len(value) == 0):
            if required:
                errors.append(missing((where, name)))
            else:
                values[name] = default
            continue
        v, errs = validate(adapter, value, (where, name))
        errors += errs
        values[name] = v
    if errors:
        return 422, {"detail": jsonable(errors)}
    return 200, {"q": values["q"], "limit": values["limit"], "tags": values["tag"]}


def items(raw, content_type):
    """POST /items with body raw: (status, json)."""
    body = None
    if raw:
        is_json = not content_type
        if content_type:
            from email.message import Message
            m = Message()
            m["content-type"] = content_type
            if m.get_content_maintype() == "application":
                sub = m.get_content_subtype()
                is_json = sub == "json" or sub.endswith("+json")
        assert is_json, "a non-JSON Content-Type is sluice's 415, not a case here"
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as e:
            return 422, {"detail": [{"type": "json_invalid", "loc": ["body", e.pos],
                                     "msg": "JSON decode error", "input": {},
                                     "ctx": {"error": e.msg}}]}
        except Exception:
            return 400, {"detail": "There was an error parsing the body"}
    if body is None:
        return 422, {"detail": [missing(("body",))]}
    item, errors = validate(ITEM, body, ("body",))
    if errors:
        return 422, {"detail": jsonable(errors)}
    return 201, item.model_dump()


CASES = []


def get(name, query):
    status, body = search(query)
    CASES.append({"name": name, "method": "GET",
                  "target": "/search" + ("?" + query if query is not None else ""),
                  "content_type": None, "body_hex": "", "status": status, "json": body})


def post(name, raw, content_type="application/json"):
    if isinstance(raw, str):
        raw = raw.encode()
    status, body = items(raw, content_type)
    CASES.append({"name": name, "method": "POST", "target": "/items",
                  "content_type": content_type, "body_hex": raw.hex(),
                  "status": status, "json": body})


def battery():
    # GET /search: valid, with the defaults filled
    get("search: q only, defaults filled (limit 10, tags [])", "q=pen")
    get("search: every parameter", "q=pen&limit=3&tag=a&tag=b")
    get("search: repeated tag, order kept", "q=x&tag=b&tag=a&tag=b")
    get("search: limit at its bounds (1)", "q=x&limit=1")
    get("search: limit at its bounds (100)", "q=x&limit=100")
    get("search: limit ' 7' (lax: spaces)", "q=x&limit=%207")
    get("search: limit +7", "q=x&limit=%2B7")
    get("search: limit 007", "q=x&limit=007")
    get("search: limit 7.0", "q=x&limit=7.0")
    get("search: limit 1_0", "q=x&limit=1_0")
    get("search: q of 50 characters", "q=" + "a" * 50)
    get("search: q of 50 two-byte characters", "q=" + quote("\u00e9" * 50))
    get("search: q decoded (+ and %20 are spaces)", "q=a+b%20c")
    get("search: q given twice, the last counts", "q=first&q=second")
    get("search: a tag that is empty", "q=x&tag=")
    get("search: unknown parameters are ignored", "q=x&other=1")
    get("search: q with invalid UTF-8 escapes", "q=%ff%fe")
    # GET /search: errors
    get("search: missing q (no query)", None)
    get("search: missing q (other parameters)", "limit=5")
    get("search: q empty (string_too_short)", "q=")
    get("search: q without '=' (empty)", "q")
    get("search: q of 51 characters (string_too_long)", "q=" + "a" * 51)
    get("search: q of 51 two-byte characters", "q=" + quote("\u00e9" * 51))
    get("search: limit not an integer (int_parsing)", "q=x&limit=abc")
    get("search: limit empty", "q=x&limit=")
    get("search: limit 1.5", "q=x&limit=1.5")
    get("search: limit 1e3", "q=x&limit=1e3")
    get("search: limit 0 (greater_than_equal)", "q=x&limit=0")
    get("search: limit -1", "q=x&limit=-1")
    get("search: limit 101 (less_than_equal)", "q=x&limit=101")
    get("search: limit given twice, the last counts", "q=x&limit=5&limit=500")
    get("search: several errors at once (missing q, limit)", "limit=abc")
    get("search: several errors at once (q too long, limit 0)", "q=" + "b" * 60 + "&limit=0")
    get("search: q given twice, the last empty", "q=x&q=")

    # POST /items: valid
    post("items: valid, tags default to []", '{"name":"pen","price":1.5}')
    post("items: valid with tags", '{"name":"pen","price":2,"tags":["a","b"]}')
    post("items: price as a string that is a number", '{"name":"pen","price":"2.5"}')
    post("items: five tags", '{"name":"n","price":1,"tags":["1","2","3","4","5"]}')
    post("items: name of 50 characters", json.dumps({"name": "x" * 50, "price": 1}))
    post("items: charset parameter", '{"name":"pen","price":1}',
         "application/json; charset=utf-8")
    post("items: a +json type", '{"name":"pen","price":1}', "application/vnd.item+json")
    post("items: no Content-Type (read as JSON)", '{"name":"pen","price":1}', None)
    post("items: upper-case type", '{"name":"pen","price":1}', "APPLICATION/JSON")
    post("items: a large price", '{"name":"pen","price":1e300}')
    # POST /items: errors
    post("items: no body (missing)", "")
    post("items: no body, no Content-Type", "", None)
    post("items: no body, a text Content-Type (FastAPI reads nothing)", "", "text/plain")
    post("items: the body null (missing)", "null")
    post("items: empty object (name and price missing)", "{}")
    post("items: price missing", '{"name":"pen"}')
    post("items: extra field (extra_forbidden)", '{"name":"pen","price":1,"color":"red"}')
    post("items: tags too long (too_long)",
         '{"name":"pen","price":1,"tags":["1","2","3","4","5","6"]}')
    post("items: price 0 (greater_than)", '{"name":"pen","price":0}')
    post("items: price negative", '{"name":"pen","price":-3.5}')
    post("items: price a string (float_parsing)", '{"name":"pen","price":"cheap"}')
    post("items: price null (float_type)", '{"name":"pen","price":null}')
    post("items: price a list (float_type)", '{"name":"pen","price":[1]}')
    post("items: price true", '{"name":"pen","price":true}')
    post("items: name a number (string_type)", '{"name":5,"price":1}')
    post("items: name empty (string_too_short)", '{"name":"","price":1}')
    post("items: name of 51 characters (string_too_long)",
         json.dumps({"name": "x" * 51, "price": 1}))
    post("items: tags not a list (list_type)", '{"name":"pen","price":1,"tags":"a"}')
    post("items: a tag not a string, nested loc [body, tags, 1]",
         '{"name":"pen","price":1,"tags":["a",2,"c"]}')
    post("items: body a list (model_attributes_type)", "[1,2]")
    post("items: body a string", '"pen"')
    post("items: body a number", "5")
    post("items: several errors at once",
         '{"name":"","price":-1,"tags":["a",1,"c","d","e","f"],"x":true,"y":null}')
    post("items: not JSON (json_invalid)", "{bad json}")
    post("items: truncated JSON", '{"name":"pen","price":')
    post("items: trailing comma", '{"name":"pen","price":1,}')
    post("items: text after the JSON", '{"name":"pen","price":1} x')
    post("items: a single quote", "'pen'")
    post("items: not UTF-8 (400, as FastAPI)", b'{"name":"\xff","price":1}')


def main():
    battery()
    doc = {
        "comment": "written by gen_demo_cases.py: FastAPI %s (emulated) with "
                   "pydantic %s" % (FASTAPI_VERSION, pydantic.VERSION),
        "cases": CASES,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("%d cases written to %s" % (len(CASES), OUT))


if __name__ == "__main__":
    main()
