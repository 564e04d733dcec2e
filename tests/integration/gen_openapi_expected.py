#!/usr/bin/env python3
"""Print the OpenAPI operations FastAPI (with Pydantic 2) publishes for the
demo's declared routes, GET /search and POST /items, and the schemas they
refer to: the expected document of test_openapi.py.  Schemas come from
Pydantic's model_json_schema() for the same fields; the structure around
them is FastAPI's get_openapi_path() (fastapi/openapi/utils.py): the
parameter objects, requestBody, "Successful Response", the 422 with
HTTPValidationError.  FastAPI's default summary and operation id use the
function's name, which C has not: the demo declares its summaries, and the
ids are sluice's rule (sluice(1), OPENAPI).  Run it where Pydantic 2 is
installed; the tests never import it."""
import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class SearchQuery(BaseModel):
    """def search(q: Annotated[str, Query(min_length=1, max_length=50, ...)],
    limit: Annotated[int, Query(ge=1, le=100, ...)] = 10,
    tag: Annotated[list[str], Query(...)] = [])"""
    q: Annotated[str, Field(min_length=1, max_length=50, description="What to look for")]
    limit: Annotated[int, Field(ge=1, le=100, description="At most this many results")] = 10
    tag: Annotated[list[str], Field(
        description="Only results with these tags (repeatable)")] = []


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=50)]
    price: Annotated[float, Field(gt=0)]
    tags: Annotated[list[str], Field(max_length=5)] = []


VALIDATION_ERROR = {"description": "Validation Error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}


def main():
    props = SearchQuery.model_json_schema()["properties"]
    required = SearchQuery.model_json_schema()["required"]
    params = []
    for name in ("q", "limit", "tag"):
        s = props[name]
        p = {"name": name, "in": "query", "required": name in required, "schema": s}
        if "description" in s:
            p["description"] = s["description"]
        params.append(p)
    item_ref = {"$ref": "#/components/schemas/Item"}
    expected = {
        "/search": {"get": {
            "tags": ["demo"], "summary": "Search", "operationId": "search_get",
            "parameters": params,
            "responses": {"200": {"description": "Successful Response",
                                  "content": {"application/json": {"schema": {}}}},
                          "422": VALIDATION_ERROR}}},
        "/items": {"post": {
            "tags": ["demo"], "summary": "Create an item", "operationId": "items_post",
            "requestBody": {"content": {"application/json": {"schema": item_ref}},
                            "required": True},
            "responses": {"201": {"description": "Successful Response",
                                  "content": {"application/json": {"schema": item_ref}}},
                          "422": VALIDATION_ERROR}}},
        "Item": Item.model_json_schema(mode="validation"),
    }
    # FastAPI gives one "Item" only when both modes publish the same schema.
    assert Item.model_json_schema(mode="serialization") == expected["Item"]
    print(json.dumps(expected, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
