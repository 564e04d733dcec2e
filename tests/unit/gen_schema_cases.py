#!/usr/bin/env python3
"""Write tests/unit/schema_cases.json: what FastAPI with Pydantic v2 answers
for a battery of JSON Schemas and inputs, for tests/unit/test_schema.c.

Needs pydantic 2 (the test suite does not: it reads the committed file).
Run it from anywhere:  python3 tests/unit/gen_schema_cases.py

Each schema is turned into the Pydantic type it stands for (the mapping of
src/api/schema.h: properties make a model, uniqueItems a set, enum a
Literal, anyOf a Union, "null" Optional...), and each input is validated
the way FastAPI 0.141 does it (fastapi/dependencies/utils.py
_validate_value_with_model_field, request_params_to_args; fastapi/routing.py
for the body; fastapi/_compat/v2.py get_missing_field_error):
TypeAdapter(T).validate_python(value, from_attributes=True), every error's
loc prefixed, "missing" with input None for an absent parameter or body, a
body that is not JSON answered with json_invalid at Python's position.

A case is one of
  {"name", "schema", "components"?, "value": INPUT, "prefix": [...]}
  {"name", "schema", "param": {"where", "name", "values": [...],
                               "required": bool}}
  {"name", "schema", "body_hex": HEX, "required": bool}
with the expectation
  "errors": [FastAPI's items]  or  "output": the validated value
  or "status": 400 (FastAPI's "There was an error parsing the body").
The output of a model is model_dump(by_alias=True) with properties absent
from the input and without a default left out (sluice leaves them out);
a set is written in first-occurrence order (sluice keeps that order;
Python's is the hash's).
"""
import json
import os
import sys
import typing
from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union

import pydantic
import pydantic_core
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field,
                      TypeAdapter, ValidationError)

FASTAPI_VERSION = "0.141.1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "schema_cases.json")


class Absent:
    """The default of a property that is neither required nor defaulted."""

    def __repr__(self):
        return "ABSENT"


ABSENT = Absent()


class Unsupported(Exception):
    """A schema Pydantic has no type for (sluice's own semantics)."""


def _dedup(values):
    out = []
    for v in values:
        if not any(v == w for w in out):
            out.append(v)
    return out


class Builder:
    """JSON Schema -> Pydantic type, as src/api/schema.h maps it.  With
    ordered=True a set becomes a de-duplicated list (first occurrence
    first), to write the expected output in sluice's order."""

    def __init__(self, components=None, root=None, ordered=False):
        self.components = components or {}
        self.defs = (root or {}).get("$defs", {}) if isinstance(root, dict) else {}
        self.ordered = ordered
        self.named = {}
        self.building = set()
        self.serial = 0

    def ref(self, ref):
        for prefix, table in (("#/components/schemas/", self.components),
                              ("#/$defs/", self.defs)):
            if ref.startswith(prefix):
                name = ref[len(prefix):]
                key = (prefix, name)
                if key in self.named:
                    return self.named[key]
                if key in self.building:
                    # recursion: a forward reference, resolved on rebuild
                    return typing.ForwardRef(_ident(name))
                self.building.add(key)
                t = self.type(table[name], model_name=name)
                self.building.discard(key)
                self.named[key] = t
                return t
        raise Unsupported(ref)

    def type(self, s, model_name=None):
        if s is True:
            return Any
        if "$ref" in s:
            return self.ref(s["$ref"])
        for kw in ("anyOf", "oneOf"):
            if kw in s:
                members = tuple(self.type(m) for m in s[kw])
                return members[0] if len(members) == 1 else Union[members]
        if "allOf" in s:
            if len(s["allOf"]) != 1:
                raise Unsupported("allOf")
            return self.type(s["allOf"][0])
        if "enum" in s and isinstance(s.get("title"), str) and \
                s.get("type", "string") in ("string", "integer", "number"):
            # how Pydantic writes an Enum class: an Enum (its "type" is the
            # mixin; without one, a plain Enum)
            mixin = {"string": str, "integer": int, "number": float}.get(
                s.get("type"))
            members = [("m%d" % i, v) for i, v in enumerate(s["enum"])]
            if mixin:
                return Enum(s["title"], members, type=mixin)
            return Enum(s["title"], members)
        if "enum" in s:
            return Literal[tuple(s["enum"])]
        if "const" in s:
            return Literal[s["const"]]
        if "type" not in s:
            return Any
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        members = [self.one(s, t, model_name) for t in types if t != "null"]
        if not members:
            return type(None)
        t = members[0] if len(members) == 1 else Union[tuple(members)]
        return Optional[t] if "null" in types else t

    def one(self, s, t, model_name):
        if t == "string":
            f = {k: s[j] for j, k in (("minLength", "min_length"),
                                      ("maxLength", "max_length"),
                                      ("pattern", "pattern")) if j in s}
            return Annotated[str, Field(**f)] if f else str
        if t in ("integer", "number"):
            f = {k: s[j] for j, k in (("minimum", "ge"), ("maximum", "le"),
                                      ("exclusiveMinimum", "gt"),
                                      ("exclusiveMaximum", "lt")) if j in s}
            base = int if t == "integer" else float
            return Annotated[base, Field(**f)] if f else base
        if t == "boolean":
            return bool
        if t == "array":
            item = self.type(s["items"]) if "items" in s else Any
            f = {k: s[j] for j, k in (("minItems", "min_length"),
                                      ("maxItems", "max_length")) if j in s}
            if s.get("uniqueItems"):
                if self.ordered:
                    base = Annotated[list[item], AfterValidator(_dedup)]
                else:
                    base = set[item]
            else:
                base = list[item]
            return Annotated[base, Field(**f)] if f else base
        if t == "object":
            add = s.get("additionalProperties")
            if "properties" in s or add is False:
                return self.model(s, model_name)
            if add is None or add is True or add == {}:
                return dict[str, Any]
            return dict[str, self.type(add)]
        raise Unsupported(t)

    def model(self, s, model_name):
        self.serial += 1
        name = s.get("title") or model_name or "Model"
        add = s.get("additionalProperties")
        extra = "forbid" if add is False else "ignore" if add is None else "allow"
        ann, ns = {}, {}
        required = set(s.get("required", []))
        for i, (prop, ps) in enumerate(s.get("properties", {}).items()):
            field = "f%d" % i
            ann[field] = self.type(ps)
            if prop in required:
                ns[field] = Field(alias=prop)
            elif isinstance(ps, dict) and "default" in ps:
                ns[field] = Field(default=ps["default"], alias=prop)
            else:
                ns[field] = Field(default=ABSENT, alias=prop)
        if extra == "allow" and add not in (True, {}):
            ann["__pydantic_extra__"] = dict[str, self.type(add)]
        ns["__annotations__"] = ann
        ns["model_config"] = ConfigDict(extra=extra,
                                        arbitrary_types_allowed=True)
        cls = type(name, (BaseModel,), ns)
        cls.__qualname__ = name
        return cls

    def rebuild(self):
        space = {_ident(n): t for (_, n), t in self.named.items()}
        for t in self.named.values():
            if isinstance(t, type) and issubclass(t, BaseModel):
                t.model_rebuild(_types_namespace=space)


def _ident(name):
    return "T_" + "".join(c if c.isalnum() else "_" for c in name)


def dump(v):
    """model_dump(by_alias=True), leaving out the fields left ABSENT."""
    if isinstance(v, BaseModel):
        out = {}
        for name, f in type(v).model_fields.items():
            x = getattr(v, name)
            if x is not ABSENT:
                out[name if f.alias is None else f.alias] = dump(x)
        for k, x in (v.__pydantic_extra__ or {}).items():
            out[k] = dump(x)
        return out
    if isinstance(v, dict):
        return {k: dump(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [dump(x) for x in v]
    if isinstance(v, Enum):
        return v.value
    assert not isinstance(v, (set, frozenset)), "sets are lists when ordered"
    return v


def adapter(schema, components, ordered=False):
    b = Builder(components, schema, ordered)
    t = b.type(schema)
    b.rebuild()
    return TypeAdapter(t)


def validate(schema, components, value, prefix):
    """FastAPI's field.validate: (output, errors)."""
    try:
        adapter(schema, components).validate_python(value, from_attributes=True)
    except ValidationError as e:
        errs = e.errors(include_url=False)
        return None, [dict(err, loc=list(prefix) + list(err["loc"]))
                      for err in errs]
    ta = adapter(schema, components, ordered=True)
    return dump(ta.validate_python(value, from_attributes=True)), []


def missing(loc):
    return [{"type": "missing", "loc": list(loc), "msg": "Field required",
             "input": None}]


def is_sequence(schema, components):
    """FastAPI's field_annotation_is_sequence on the schema's type."""
    t = schema
    while isinstance(t, dict) and "$ref" in t:
        t = components[t["$ref"].split("/")[-1]]
    if not isinstance(t, dict):
        return False
    types = t.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        return True
    return any(is_sequence(m, components) for m in t.get("anyOf", []))


CASES = []


def _record(case, out, errs):
    if errs:
        case["errors"] = errs
    else:
        case["output"] = out
    CASES.append(case)


def value(name, schema, inputs, components=None, prefix=("body",)):
    """One case per input: the value as FastAPI's JSON body would be."""
    for i, inp in enumerate(inputs):
        case = {"name": "%s/%d" % (name, i), "schema": schema,
                "prefix": list(prefix), "value": inp}
        if components:
            case["components"] = components
        out, errs = validate(schema, components, inp, prefix)
        _record(case, out, errs)


def param(name, schema, values_list, where="query", pname="q", required=True,
          components=None):
    for i, values in enumerate(values_list):
        case = {"name": "%s/%d" % (name, i), "schema": schema,
                "param": {"where": where, "name": pname, "values": values,
                          "required": required}}
        if components:
            case["components"] = components
        loc = (where, pname)
        seq = is_sequence(schema, components or {})
        v = None if not values else values if seq else values[-1]
        if v is None:
            if required:
                out, errs = None, missing(loc)
            else:
                out, errs = schema.get("default"), []
        else:
            out, errs = validate(schema, components, v, loc)
        _record(case, out, errs)


def body(name, schema, bodies, required=True, components=None):
    for i, b in enumerate(bodies):
        raw = b if isinstance(b, bytes) else b.encode()
        case = {"name": "%s/%d" % (name, i), "schema": schema,
                "body_hex": raw.hex(), "required": required}
        if components:
            case["components"] = components
        v = None
        if raw:
            try:
                v = json.loads(raw)
            except json.JSONDecodeError as e:
                _record(case, None, [{
                    "type": "json_invalid", "loc": ["body", e.pos],
                    "msg": "JSON decode error", "input": {},
                    "ctx": {"error": e.msg}}])
                continue
            except Exception:       # RecursionError, UnicodeDecodeError...
                case["status"] = 400
                CASES.append(case)
                continue
        if v is None:
            if required:
                out, errs = None, missing(("body",))
            else:
                out, errs = schema.get("default"), []
        else:
            out, errs = validate(schema, components, v, ("body",))
        _record(case, out, errs)


# ---- the battery ------------------------------------------------------------

ANY_JSON = [None, True, False, 0, 1, -1, 2, 1.0, 0.5, "", "a", [], {}, [1],
            {"a": 1}]


def scalars():
    value("int", {"type": "integer"}, [
        5, -3, 0, "5", " 5 ", "+5", "-5", "-0", "007", "0_0", "5.0", "5.00",
        "5.", "5.5", "1_000", "_1", "1_", "1__0", "1e3", "abc", "", " ",
        5.0, 5.5, -0.0, 1e20, -1e20, True, False, None, [], {}, [5], "0x10",
        "+-5", "-+5", "--5", "0-5", "\u0665", "\u00a05\u3000", "9223372036854775807",
        "-9223372036854775808", 9223372036854775807, float("inf"),
        float("nan"), "00.0", "-007.000", "1.0e3", "0", "00", "0.", " +0 "])
    value("number", {"type": "number"}, [
        1.5, 1, 0, -0.0, "1.5", " 1.5 ", "1_0.5", " 1_0", "1_0 ", "inf",
        "-Infinity", "INF", "nan", "-nan", "+infinity", "1e3", "1E+3", ".5",
        "5.", "+1.5", "abc", "", "1e", "e5", "0x10", "1,5", True, False,
        None, [], {}, "1__0", "_1", 1e300, "1e400", "4.9e-324", "\u00a01.5"])
    value("bool", {"type": "boolean"}, [
        True, False, "yes", "YES", "Yes", "on", "OFF", "t", "F", "y", "N",
        "1", "0", "2", "true ", " true", "truE", "", 1, 0, 2, -1, 1.0, 0.0,
        0.5, 2.0, float("inf"), 1e20, None, [], {}])
    value("str", {"type": "string"}, [
        "x", "", 5, 1.5, True, None, [], {}, ["a"]])
    value("null", {"type": "null"}, [None, 0, "", "null", False, []])
    value("any", {}, ANY_JSON)
    value("any-true", True, [None, [1, {"b": None}]])


def constraints():
    value("str-len", {"type": "string", "minLength": 2, "maxLength": 4}, [
        "", "a", "ab", "abcd", "abcde", "\u00e9\u00e9", "\u00e9",
        "\U0001F600", "\U0001F600\U0001F600", "\U0001F600" * 5, 5])
    value("str-len1", {"type": "string", "minLength": 1, "maxLength": 1},
          ["", "ab", "a"])
    value("str-pattern", {"type": "string", "pattern": "^[a-z]+$"}, [
        "abc", "Abc", "", "abc\n", "abc1", 3])
    value("str-pattern-search", {"type": "string", "pattern": "b+"}, [
        "abc", "ac", "BBB"])
    value("str-pattern-digit", {"type": "string", "pattern": "^\\d+$"}, [
        "123", "\u0661\u0662", "12a"])
    value("str-pattern-quote", {"type": "string", "pattern": "it's"}, [
        "it's", "its"])
    value("str-all", {"type": "string", "minLength": 2, "maxLength": 3,
                      "pattern": "^a"}, ["b", "bbbb", "bb", "abc", "a"])
    value("int-range", {"type": "integer", "minimum": 1, "maximum": 10}, [
        0, 1, 10, 11, "11", 5.0, "0", 10.5, -5])
    value("int-excl", {"type": "integer", "exclusiveMinimum": 0,
                       "exclusiveMaximum": 10}, [0, 1, 9, 10, "10", True,
                                                 False])
    value("int-all4", {"type": "integer", "minimum": 5, "maximum": 1,
                       "exclusiveMinimum": 4, "exclusiveMaximum": 2}, [
        3, 0, 6])
    value("int-float-bound", {"type": "integer", "minimum": 2.0}, [1, 2])
    value("num-range", {"type": "number", "minimum": 0.5, "maximum": 2}, [
        0, 0.4, 0.5, 2, 2.5, "3", True, float("nan")])
    value("num-gt0", {"type": "number", "exclusiveMinimum": 0}, [
        0, -1, 0.0, 1, "-1"])
    value("num-fmt", {"type": "number", "exclusiveMaximum": 1e20,
                      "minimum": 1e-7}, [1e21, 1e-8, 1e20, 1])
    value("num-fmt2", {"type": "number", "maximum": -0.0}, [1])
    value("num-fmt3", {"type": "number", "minimum": 123456789.125}, [1])
    value("num-fmt4", {"type": "number", "minimum": 1e16}, [1])
    value("num-fmt5", {"type": "number", "minimum": 1e15}, [1])
    value("num-fmt6", {"type": "number", "maximum": 0.1}, [1])
    value("num-fmt7", {"type": "number", "maximum": 1.5e-300}, [1])
    value("num-fmt8", {"type": "number", "exclusiveMinimum": 0.30000000000000004},
          [0.1])
    value("num-fmt9", {"type": "number", "minimum": 0.0001}, [0])
    value("num-fmt10", {"type": "number", "minimum": 0.00001}, [0])
    value("num-intbound", {"type": "number", "minimum": 3}, [2, 2.5, "2"])


def nullable_unions():
    value("nullable-str", {"type": ["string", "null"]}, [None, "a", 5])
    value("nullable-anyof", {"anyOf": [{"type": "integer"}, {"type": "null"}]},
          [None, 1, "1", "x", []])
    value("null-first", {"type": ["null", "integer"], "minimum": 1}, [
        None, 0, 2])
    value("str-int", {"type": ["string", "integer"]}, [
        "5", 5, 5.5, True, None, [], 5.0])
    value("int-str", {"type": ["integer", "string"]}, ["5", 5, 1.0])
    value("int-num", {"anyOf": [{"type": "integer"}, {"type": "number"}]}, [
        1, 1.5, "1", "1.5", True, "x"])
    value("num-int", {"anyOf": [{"type": "number"}, {"type": "integer"}]}, [
        1, 1.5, "1", 1.0])
    value("bool-int", {"anyOf": [{"type": "boolean"}, {"type": "integer"}]}, [
        "1", 1, True, "yes", 2])
    value("int-bool", {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}, [
        "1", True, "true"])
    value("constrained-union", {"anyOf": [
        {"type": "string", "minLength": 3},
        {"type": "integer", "exclusiveMinimum": 1}]}, [0, "ab", "abc", 2])
    value("nested-union", {"anyOf": [
        {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        {"type": "boolean"}]}, [[], "x", 1.5])
    value("union-null-inside", {"anyOf": [
        {"type": ["integer", "null"]}, {"type": "string"}]}, [[], None, "x"])
    value("oneof", {"oneOf": [{"type": "integer"}, {"type": "string"}]}, [
        "5", 5, [], 1.5])
    value("union-labels", {"anyOf": [
        {"type": "object"},
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"enum": ["a", "b"]},
        {"type": "array", "items": {"type": "string", "minLength": 1}},
        {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        {"type": "array", "items": {"type": ["integer", "null"]}},
        {"type": "array"},
        {"type": "object", "additionalProperties": {"type": ["integer",
                                                            "null"]}},
        {"type": "array", "items": {"anyOf": [{"type": "integer"},
                                              {"type": "string"}]}}]},
        [5.5, [1, "x"], {"a": "x"}])
    value("union-any", {"anyOf": [{"type": "integer"}, {}]}, ["5", 5, [1]])
    value("union-list", {"anyOf": [
        {"type": "array", "items": {"type": "integer"}},
        {"type": "array", "items": {"type": "string"}}]}, [["1"], [1], [1.5]])
    value("union-dict-model", {"anyOf": [
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"type": "object", "properties": {"a": {"type": "integer"}}}]}, [
        {"a": 1}, {"a": "1"}, {"b": "x"}])


def literals():
    value("enum-str", {"enum": ["a", "b"]}, ["a", "c", 1, None, ["a"]])
    value("enum-str-typed", {"type": "string", "enum": ["red", "green"]}, [
        "green", "Red"])
    value("enum-one", {"enum": ["a"]}, ["b"])
    value("enum-int", {"enum": [1, 2]}, [1, "1", 1.0, True, 3, 2.5])
    value("enum-float", {"enum": [1.5, 2.0]}, [1.5, "1.5", 2, True])
    value("enum-bool", {"enum": [True]}, [True, 1, "true", 1.0, False])
    value("enum-null", {"enum": ["a", None]}, [None, 0, "a"])
    value("enum-mixed", {"enum": [1, "a", True, None]}, [5, "1", True, 1])
    value("enum-quotes", {"enum": ["it's", "say \"hi\"", "both ' \"",
                                   "back\\slash", "tab\tnl\n", "caf\u00e9",
                                   "nb\u00a0sp", "\x7f"]}, ["x"])
    value("const", {"const": "x"}, ["x", "y"])
    value("const-int", {"const": 0}, [0, False, 0.0, "0"])
    value("enum-nullable", {"anyOf": [{"enum": ["a"]}, {"type": "null"}]},
          [0, None])
    value("enum-bigger", {"type": "integer", "enum": [1, 2, 3],
                          "minimum": 1}, [2, 4])
    # Enum classes, as Pydantic writes them: enum with a title
    value("enum-class-str", {"enum": ["low", "high"], "title": "P",
                             "type": "string"}, [
        "low", "mid", 1, None, "LOW", ["low"]])
    value("enum-class-int", {"enum": [1, 2], "title": "N", "type": "integer"},
          [1, "1", 1.0, True, 3, "x", 1.5, " 2 ", None])
    value("enum-class-float", {"enum": [1.5, 2], "title": "F",
                               "type": "number"}, [
        1.5, "1.5", 2, 2.0, True, 3, "x"])
    value("enum-class-plain", {"enum": [1, "x", None], "title": "M"}, [
        1, "1", "x", None, 1.0, True, 2])
    value("enum-class-union", {"anyOf": [
        {"enum": ["a", "b"], "title": "P", "type": "string"},
        {"enum": [1, 2], "title": "N", "type": "integer"},
        {"enum": [1.5], "title": "F", "type": "number"},
        {"enum": [True, "t"], "title": "M"},
        {"type": "integer"}]}, ["x", "1", 1, "a", 1.5])
    value("enum-class-in-model", {"type": "object", "properties": {
        "p": {"$ref": "#/components/schemas/Priority", "default": "low"}}},
        [{}, {"p": "high"}, {"p": "mid"}], components={
            "Priority": {"enum": ["low", "high"], "title": "Priority",
                         "type": "string"}})


def arrays():
    ints = {"type": "array", "items": {"type": "integer"}}
    value("list-int", ints, [[1, "2", 3], [1, "x", "y"], [], "abc", {},
                             None, 5, [[1]]])
    value("list-max", dict(ints, maxItems=2), [[1, "x", 3], ["x", "y", "z"],
                                              [1, 2], [1, 2, 3, 4]])
    value("list-min", dict(ints, minItems=2), [[], ["x"], [1], [1, 2]])
    value("list-min1", dict(ints, minItems=1, maxItems=1), [[], [1, 2]])
    value("list-any-len", {"type": "array", "minItems": 2, "maxItems": 3}, [
        [1], [1, "a"], [1, 2, 3, 4], "x"])
    value("list-any", {"type": "array"}, [[1, "a", None, [2]], {}])
    value("list-nested", {"type": "array", "items": {
        "type": "array", "items": {"type": "number"}}}, [
        [[1, "2.5"], ["x", 3]], [1]])
    value("set-int", dict(ints, uniqueItems=True), [
        [1, "1", 2, 1.0], [3, 1, 3], "x", [1, "x"], [], [True, 1]])
    value("set-max", dict(ints, uniqueItems=True, maxItems=1), [
        [1, "1", 2, 1.0], [1, 1, "1"]])
    value("set-min", dict(ints, uniqueItems=True, minItems=3), [
        [1, "1", 2, 1.0], [1, 2, 3]])
    value("set-str", {"type": "array", "items": {"type": "string"},
                      "uniqueItems": True, "minItems": 1}, [
        ["b", "a", "b"], [], ["a", 1]])
    value("set-num", {"type": "array", "items": {"type": "number"},
                      "uniqueItems": True}, [[1, 1.0, "1", 2]])
    value("set-enum", {"type": "array", "items": {"enum": ["x", "y"]},
                       "uniqueItems": True}, [["y", "x", "y"], ["z"]])


ITEM = {"type": "object", "title": "Item", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 50},
    "price": {"type": "number", "exclusiveMinimum": 0},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5,
             "default": []}},
    "required": ["name", "price"], "additionalProperties": False}


def objects():
    value("item", ITEM, [
        {"name": "pen", "price": 1.5},
        {"price": "2", "name": "pen", "tags": ["a", "b"]},
        {"name": "", "price": -1, "tags": ["a", 1], "x": 1},
        {}, {"name": "x"}, [], "x", None, 5,
        {"name": "n", "price": 0, "tags": ["1", "2", "3", "4", "5", "6"]},
        {"name": "x" * 51, "price": "abc", "tags": None, "extra": {"a": 1},
         "more": 2},
        {"name": 5, "price": True}])
    ignore = {"type": "object", "properties": {"a": {"type": "integer"},
                                               "b": {"type": "string"}}}
    value("model-ignore", ignore, [
        {"b": "x", "a": "1", "c": 3}, {}, {"a": None}, {"c": 1}])
    allow = {"type": "object", "properties": {"a": {"type": "integer"}},
             "additionalProperties": True}
    value("model-allow", allow, [{"z": 1, "a": "2", "y": [None]}])
    typed = {"type": "object", "properties": {"a": {"type": "integer"}},
             "additionalProperties": {"type": "integer"}, "required": ["a"]}
    value("model-extra-typed", typed, [
        {"z": "1", "a": "2"}, {"z": "x", "y": "y"}])
    forbid = {"type": "object", "properties": {},
              "additionalProperties": False}
    value("model-empty-forbid", forbid, [{}, {"a": 1, "b": 2}, []])
    value("model-forbid-noprops", {"type": "object",
                                   "additionalProperties": False}, [
        {}, {"a": 1}])
    value("dict", {"type": "object"}, [{}, {"a": [1]}, [], "x", None])
    value("dict-int", {"type": "object",
                       "additionalProperties": {"type": "integer"}}, [
        {"a": "1", "b": "x", "c": 2.5}, {"a": 1}])
    nested = {"type": "object", "properties": {
        "user": {"type": "object", "title": "User", "properties": {
            "id": {"type": "integer"},
            "emails": {"type": "array", "items": {"type": "string",
                                                  "pattern": "@"}}},
            "required": ["id"]},
        "count": {"type": "integer", "default": 10},
        "note": {"type": ["string", "null"], "default": None}},
        "required": ["user"]}
    value("nested", nested, [
        {"user": {"id": "7", "emails": ["a@b", "c"]}, "count": "x"},
        {"user": {"emails": ["a@b"]}},
        {"user": {"id": 1}},
        {"user": {"id": 1, "emails": []}, "note": "n", "count": 3},
        {"user": []}, {"user": None}])
    order = {"type": "object", "properties": {
        "z": {"type": "integer"}, "a": {"type": "integer", "default": 1},
        "m": {"type": "string"}}, "required": ["z"]}
    value("order", order, [{"m": "x", "z": 1}, {"a": 2, "z": "3"}])
    deflt = {"type": "object", "properties": {
        "opts": {"type": "object", "properties": {
            "x": {"type": "integer"}}, "default": {"x": 1}},
        "lst": {"type": "array", "items": {"type": "integer"},
                "default": [1, 2]},
        "num": {"type": "number", "default": 1},
        "flag": {"type": "boolean", "default": False}}}
    value("defaults", deflt, [{}, {"num": 2, "lst": ["3"]}])
    value("missing-input", {"type": "object", "properties": {
        "a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"]}, [{"c": 1}])
    value("models-union", {"anyOf": [
        {"type": "object", "title": "A", "properties": {
            "x": {"type": "integer"}}, "required": ["x"]},
        {"type": "object", "title": "B", "properties": {
            "y": {"type": "integer"}}, "required": ["y"]}]}, [
        {"x": 1, "y": 2}, {"x": "a", "y": 2}, {"z": 1}, 5])
    value("models-union-fields", {"anyOf": [
        {"type": "object", "title": "A", "properties": {
            "x": {"type": "integer"}}},
        {"type": "object", "title": "B", "properties": {
            "x": {"type": "integer"}, "y": {"type": "integer"}}}]}, [
        {"x": 1, "y": 2}, {"x": 1}, {}])
    value("list-models-union", {"anyOf": [
        {"type": "array", "items": {"type": "object", "title": "A",
                                    "properties": {"x": {"type": "integer"}},
                                    "required": ["x"]}},
        {"type": "array", "items": {"type": "object", "title": "B",
                                    "properties": {"x": {"type": "string"}},
                                    "required": ["x"]}}]}, [
        [{"x": "1"}], [{"x": 1}], [{"y": 1}], [{"x": 1.5}]])
    value("nullable-default", {"type": "object", "properties": {
        "n": {"anyOf": [{"type": "integer"}, {"type": "null"}],
              "default": None}}}, [{}, {"n": None}, {"n": "2"}, {"n": "x"}])
    value("dict-models", {"type": "object", "additionalProperties": {
        "type": "object", "title": "V", "properties": {
            "v": {"type": "integer"}}, "required": ["v"]}}, [
        {"a": {"v": "1"}, "b": {}}, {"a": []}])
    value("odd-names", {"type": "object", "properties": {
        "class": {"type": "integer"}, "model_config": {"type": "string"},
        "caf\u00e9": {"type": "boolean"}, "": {"type": "integer"},
        "a/b~c": {"type": "integer"}},
        "required": ["class", "caf\u00e9"], "additionalProperties": False}, [
        {"class": "1", "model_config": "x", "caf\u00e9": "yes", "": 2,
         "a/b~c": 3},
        {"": "x", "a/b~c": "y", "z\u00e9": 1}])
    value("set-nullable", {"type": "array", "uniqueItems": True,
                           "items": {"type": ["integer", "null"]}}, [
        [1, None, None, "1"]])
    value("model-untitled", {"anyOf": [
        {"type": "object", "properties": {"x": {"type": "integer"}},
         "required": ["x"]}, {"type": "integer"}]}, [{}, "x"])


COMPONENTS = {
    "Item": dict(ITEM),
    "Tag": {"type": "object", "title": "Tag", "properties": {
        "label": {"type": "string", "minLength": 1}}, "required": ["label"]},
    "Order": {"type": "object", "title": "Order", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"},
                  "minItems": 1},
        "tag": {"$ref": "#/components/schemas/Tag"},
        "priority": {"$ref": "#/components/schemas/Priority",
                     "default": "low"}},
        "required": ["items"]},
    "Priority": {"type": "string", "enum": ["low", "high"],
                 "title": "Priority"},
    "Node": {"type": "object", "title": "Node", "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"},
                     "default": []}}, "required": ["value"]},
}


def refs():
    value("ref-item", {"$ref": "#/components/schemas/Item"}, [
        {"name": "a", "price": 1}, {"name": "", "price": 0}],
        components=COMPONENTS)
    value("ref-order", {"$ref": "#/components/schemas/Order"}, [
        {"items": [{"name": "a", "price": 1}]},
        {"items": [{"name": "a", "price": "x"}, {"price": 2}], "tag": {},
         "priority": "mid"},
        {"items": []}, {"tag": {"label": "t"}}],
        components=COMPONENTS)
    value("ref-recursive", {"$ref": "#/components/schemas/Node"}, [
        {"value": 1, "children": [{"value": "2"}, {"value": 3, "children": [
            {"value": "x"}]}]},
        {"value": 1, "children": [{"value": 2, "children": [{"children": []}]}]}],
        components=COMPONENTS)
    value("ref-union", {"anyOf": [{"$ref": "#/components/schemas/Tag"},
                                  {"$ref": "#/components/schemas/Item"}]}, [
        {"label": ""}, {"name": "n", "price": 1}, 3],
        components=COMPONENTS)
    value("ref-allof-default", {"type": "object", "properties": {
        "t": {"allOf": [{"$ref": "#/components/schemas/Tag"}],
              "default": {"label": "d"}}}}, [{}, {"t": {"label": ""}}],
        components=COMPONENTS)
    value("defs", {"$defs": {"P": {"type": "object", "title": "P",
                                   "properties": {"q": {"type": "integer"}},
                                   "required": ["q"]}},
                   "type": "array", "items": {"$ref": "#/$defs/P"}}, [
        [{"q": 1}, {"q": "x"}, {}]])


def params():
    limit = {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    param("limit", limit, [["5"], ["0"], ["x"], [], ["5", "500"], [" 7 "],
                           ["1e2"], ["5.0"], [""]], pname="limit",
          required=False)
    param("limit-required", {"type": "integer"}, [[], ["3"]], pname="limit")
    q = {"type": "string", "minLength": 1, "maxLength": 50}
    param("q", q, [["hello"], [""], ["x" * 51], [], ["a", "b"]])
    param("flag", {"type": "boolean", "default": False}, [
        ["yes"], ["off"], ["1"], ["maybe"], [], ["TRUE"]], pname="flag",
        required=False)
    param("price", {"type": "number", "exclusiveMinimum": 0}, [
        ["1.5"], ["1e3"], ["-1"], ["inf"], ["nan"], ["abc"], ["1_000.5"]],
        pname="price")
    tags = {"type": "array", "items": {"type": "string"}, "default": []}
    param("tags", tags, [["a", "b"], [], ["x"]], pname="tag", required=False)
    ids = {"type": "array", "items": {"type": "integer"}, "maxItems": 3}
    param("ids", ids, [["1", "2"], ["1", "x", "y"], ["1", "2", "3", "4"], []],
          pname="id")
    param("ids-set", {"type": "array", "items": {"type": "integer"},
                      "uniqueItems": True}, [["2", "1", "2"]], pname="id")
    param("sort", {"enum": ["asc", "desc"], "default": "asc"}, [
        ["desc"], ["up"], []], pname="sort", required=False)
    param("opt", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, [
        [], ["5"], ["x"]], pname="opt", required=False)
    param("opt-list", {"anyOf": [{"type": "array", "items": {"type": "integer"}},
                                 {"type": "null"}]}, [["1", "2"], []],
          pname="n", required=False)
    param("header", {"type": "string", "pattern": "^Bearer "}, [
        ["Bearer x"], ["Basic y"], []], where="header", pname="authorization")
    param("cookie", {"type": "integer"}, [["12"], ["ab"]], where="cookie",
          pname="session")
    param("path", {"type": "integer", "minimum": 1}, [["0"], ["9"]],
          where="path", pname="item_id")
    param("str-any", {"type": "string"}, [["caf\u00e9"]], pname="s")


def bodies():
    anyschema = {}
    body("json", anyschema, [
        "", "null", "  ", "{", "}", "[", "]", "[1,]", "[1 2]", "[1,2",
        '{"a":1,}', '{"a" 1}', '{"a":}', '{1:2}', '{"a":1 "b":2}', '{"a"',
        '{"a":1', '"abc', '"a\\x"', '"\\u12"', '"\\u12x4"', '"a\nb"',
        '"\\ud800\\u12"', "nul", "tru", "-", "01", "1.", "1e", "1e+", ".5",
        "1 2", "[1]x", "NaN", "-Infinity", "Infinity", "-Inf", "nan",
        '{"a":1,"a":2,"b":3}', '"\\ud83d\\ude00"', '"\\ud800"',
        '"\\ud800\\u0041"', '"caf\u00e9" x', "\u00e9", '["\u00e9\u00e9", x]',
        "[true, false, null]", "1e999", "-0", "9223372036854775807",
        '"\\/\\b\\f\\n\\r\\t"', "'a'", "[1,2,]", '{"a":[1,{"b":}]}',
        "\t\n 5 \r", "0.1", "1E2", '"\\"', '"\\u"', '"\\u00', "[" * 1500,
        "[" * 64 + "]" * 64])
    body("json-bytes", anyschema, [
        b"\xef\xbb\xbf[1]", b"\xc3\x28", b'"\xed\xa0\x80"', b"[\x80]",
        b'{"a":"\xe9"}', b'\xef\xbb\xbf{"a": [1, "\xc3\xa9"]} x',
        b"5" + b"0" * 4400])
    body("item-body", ITEM, [
        '{"name": "pen", "price": 2}', '{"name": "", "price": 0, "x": 1}',
        "", "null", "[]", '{"name": "pen", "price": 2', "{}"])
    body("item-body-optional", {"anyOf": [ITEM, {"type": "null"}],
                                "default": None}, ["", "null", "{}"],
         required=False)
    body("int-body", {"type": "integer"}, ["5", '"5"', "5.5", "true"])


def reprs():
    """Doubles and Python's repr of them (sluice writes floats so)."""
    import random
    rng = random.Random(13)
    vals = [0.0, -0.0, 1.0, 0.1, 0.2 + 0.1, 1.5, 1e16, 1e15, 1e-4, 1e-5,
            123456789.125, 1e20, 1e-7, 5e-324, 1.7976931348623157e308,
            2.2250738585072014e-308, 9007199254740993.0, 0.3, 2 / 3, 100.0,
            1234567890123456789.0, 1e22, 1e23, 4.35, 0.000123]
    for _ in range(150):
        vals.append(rng.uniform(-1e6, 1e6))
        vals.append(rng.random() * 10 ** rng.randint(-30, 30))
        vals.append(float(rng.randint(-10 ** 17, 10 ** 17)))
    return [[v, repr(v)] for v in vals]


def main():
    for part in (scalars, constraints, nullable_unions, literals, arrays,
                 objects, refs, params, bodies):
        part()
    doc = {
        "generator": "tests/unit/gen_schema_cases.py",
        "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__,
        "fastapi_followed": FASTAPI_VERSION,
        "python": "%d.%d" % sys.version_info[:2],
        "cases": CASES,
        "reprs": reprs(),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=True, allow_nan=True)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print("%d cases -> %s" % (len(CASES), OUT))


if __name__ == "__main__":
    main()
