"""Refusing JSON bodies with text no store can keep: NUL (U+0000) and unpaired surrogates.

JSON may carry `\\u0000` or a lone `\\ud800` inside any string and Python keeps them, but
PostgreSQL refuses NUL in `text` and `jsonb` and no UTF-8 encoder takes a lone surrogate, so
without this check the INSERT fails and the caller gets a 500. Both can only arrive as `\\u`
escapes, so the raw bytes are searched first and the body is parsed only when one is there, to
name the field. Uploads are left to their own streaming readers, and a caller without a valid
key to the route's refusal: its body is never read.
"""

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from monitor.api.deps import holds_a_valid_key
from monitor.api.limits import RouteClass, body_limit

_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _location(node: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first string (key or value) that cannot be stored, if any."""
    if isinstance(node, str):
        return path if _unstorable(node) else None
    if isinstance(node, dict):
        for key, value in node.items():
            found = (*path, key) if _unstorable(key) else _location(value, (*path, key))
            if found is not None:
                return found
    if isinstance(node, list):
        for index, item in enumerate(node):
            found = _location(item, (*path, index))
            if found is not None:
                return found
    return None


async def refuse_unstorable_text(request: Request) -> None:
    """An app-wide dependency: 422 naming the first field whose text cannot be stored."""
    if request.method not in _METHODS_WITH_BODY:
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    if body_limit(request.url.path, request.app.state.settings).route_class is RouteClass.UPLOAD:
        return
    if not holds_a_valid_key(request):
        return  # the route refuses it (401) without reading the body; neither may this
    body = await request.body()
    if _SUSPECT_ESCAPE.search(body) is None:
        return
    try:
        location = _location(json.loads(body))
    except ValueError:
        return  # malformed JSON: the route's own parsing answers it
    if location is None:
        return  # an escaped backslash before `u0000`, or a valid surrogate pair: both fine
    raise RequestValidationError(
        [
            {
                "loc": ("body", *location),
                "msg": "text must not contain NUL (\\u0000) or an unpaired surrogate "
                "(\\ud800-\\udfff); remove it",
                "type": "value_error",
            }
        ]
    )
