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


def _pointer(document: Any, reference: str) -> Any:
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        target = target.get(part) if isinstance(target, dict) else None
    return target


def test_every_link_points_to_an_operation_of_the_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    links = [
        link
        for item in document["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 30
    assert all(_pointer(document, link["operationRef"]) is not None for link in links)


def test_every_api_operation_declares_its_error_answers_as_json(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("401", "403", "404", "413", "422", "503"):
                assert status in responses, f"{method} {path} does not declare {status}"
                assert "application/json" in responses[status]["content"], (method, path)
