"""OpenAPI links between operations: where an answer's identifiers can be used next.

A client generator shows them as "next steps", and schemathesis' stateful phase follows them
(register a model, then read it, add a monitor, run it, read the run), so operations are
reached with objects that exist instead of 404s. Each link names its target by path and
method; a link whose source or target is missing fails the document build, so a renamed
route cannot leave a dangling link.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from monitor.api.responses import errors_as_json

MODEL = "/api/v1/models/{model}"
MONITOR = f"{MODEL}/monitors/{{monitor}}"
ROLLOUT = f"{MODEL}/rollouts/{{rollout_id}}"
CHANNEL = "/api/v1/channels/{name}"
KEY = "/api/v1/keys/{prefix}"

_FROM_CREATED_MODEL = {"model": "$response.body#/name"}
_SAME_MODEL = {"model": "$request.path.model"}


@dataclass(frozen=True, slots=True)
class Link:
    source: tuple[str, str, str]  # path, method, status
    target: tuple[str, str]  # path, method
    parameters: dict[str, str]

    @property
    def name(self) -> str:
        """`get_api_v1_models_model`: link names keep to letters, digits and `_`."""
        path, method = self.target
        return re.sub(r"[^A-Za-z0-9]+", "_", f"{method}{path}").strip("_")


def _from(
    source: tuple[str, str, str], parameters: dict[str, str], *targets: tuple[str, str]
) -> list[Link]:
    return [Link(source, target, parameters) for target in targets]


LINKS: list[Link] = [
    *_from(
        ("/api/v1/models", "post", "201"),
        _FROM_CREATED_MODEL,
        (MODEL, "get"),
        (MODEL, "patch"),
        (f"{MODEL}/monitors", "post"),
        (f"{MODEL}/monitors", "get"),
        (f"{MODEL}/pipeline", "put"),
        (f"{MODEL}/endpoints", "post"),
        (f"{MODEL}/inferences", "post"),
        (f"{MODEL}/labels", "post"),
        (f"{MODEL}/reference", "post"),
        (f"{MODEL}/routing", "get"),
        (f"{MODEL}/runs", "get"),
        (f"{MODEL}/rollouts", "post"),
    ),
    *_from(
        (f"{MODEL}/monitors", "post", "201"),
        {**_SAME_MODEL, "monitor": "$response.body#/name"},
        (MONITOR, "get"),
        (MONITOR, "patch"),
        (f"{MONITOR}/runs", "post"),
        (f"{MONITOR}/backfill", "post"),
        (f"{MONITOR}/drift-matrix", "get"),
    ),
    *_from(
        (f"{MONITOR}/runs", "post", "202"),
        {**_SAME_MODEL, "run_id": "$response.body#/run_ids/0"},
        (f"{MODEL}/runs/{{run_id}}", "get"),
        (f"{MODEL}/runs/{{run_id}}/report", "get"),
    ),
    *_from(
        (f"{MODEL}/pipeline", "put", "200"),
        _SAME_MODEL,
        (f"{MODEL}/pipeline", "get"),
        (f"{MODEL}/retraining/runs", "post"),
    ),
    *_from(
        (f"{MODEL}/retraining/runs", "post", "202"),
        {**_SAME_MODEL, "run_id": "$response.body#/id"},
        (f"{MODEL}/retraining/runs/{{run_id}}", "get"),
    ),
    *_from(
        (f"{MODEL}/endpoints", "post", "201"),
        {**_SAME_MODEL, "name": "$response.body#/name"},
        (f"{MODEL}/endpoints/{{name}}", "delete"),
    ),
    *_from(
        (f"{MODEL}/rollouts", "post", "201"),
        {**_SAME_MODEL, "rollout_id": "$response.body#/id"},
        (ROLLOUT, "get"),
        (f"{ROLLOUT}/checks", "get"),
        (f"{ROLLOUT}/{{action}}", "post"),
    ),
    *_from(
        ("/api/v1/channels", "post", "201"),
        {"name": "$response.body#/name"},
        (CHANNEL, "get"),
        (CHANNEL, "patch"),
        (CHANNEL, "delete"),
        (f"{CHANNEL}/test", "post"),
    ),
    *_from(
        (f"{CHANNEL}/test", "post", "200"),
        {"delivery_id": "$response.body#/delivery/id"},
        ("/api/v1/deliveries/{delivery_id}", "get"),
        ("/api/v1/deliveries/{delivery_id}/redeliver", "post"),
    ),
    *_from(
        ("/api/v1/keys", "post", "201"),
        {"prefix": "$response.body#/prefix"},
        (f"{KEY}/revoke", "post"),
        (f"{KEY}/rotate", "post"),
    ),
]


def _operation_ref(path: str, method: str) -> str:
    pointer = path.replace("~", "~0").replace("/", "~1")
    return f"#/paths/{pointer}/{method}"


def add_links(document: dict[str, Any], links: list[Link] = LINKS) -> None:
    paths = document["paths"]
    for link in links:
        path, method, status = link.source
        target_path, target_method = link.target
        if target_method not in paths.get(target_path, {}):
            raise ValueError(f"OpenAPI link to missing operation {target_method} {target_path}")
        response = paths[path][method]["responses"][status]
        response.setdefault("links", {})[link.name] = {
            "operationRef": _operation_ref(target_path, target_method),
            "parameters": link.parameters,
        }


def publish_links(app: FastAPI) -> None:
    """Make `app.openapi()` return the document with `LINKS` in it and error answers filed as
    JSON (built once, cached)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            add_links(document)
            errors_as_json(document)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
