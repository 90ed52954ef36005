"""The OpenAPI document resolves for client generators: every reference points inside it."""

import json
from typing import Any

from fastapi.testclient import TestClient


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()


def test_every_reference_in_the_openapi_document_resolves(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    unresolved = []
    for reference in _references(document):
        target: Any = document
        for part in reference.removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            unresolved.append(reference)
    assert unresolved == [], json.dumps(sorted(unresolved))
