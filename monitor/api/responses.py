"""The error answers every API operation declares, so its OpenAPI entry lists all its outcomes.

Generated clients and schemathesis' status-code and response-schema checks read these: a 400
for a body that is not text at all, a 401
without a valid key, a 403 when the key's scope is too narrow, a 404 for a model or other
object that does not exist, a 409 for a name taken or a state that forbids the action, a 413
over the body cap, a 422 naming the field, and a 503 while the database is away.
"""

from typing import Any

from pydantic import BaseModel, Field


class Issue(BaseModel):
    """One problem with the request: where (`loc`), what (`msg`) and its kind (`type`)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorMessage(BaseModel):
    """An error answer: `detail` is a sentence, or a list of issues for a 422."""

    detail: str | list[Issue]
    message: str | None = Field(
        default=None, description="For a refused ingest batch: how many problems it had"
    )


def error_answer(description: str) -> dict[str, Any]:
    """A declared error answer with its own description, in the shape every error takes."""
    return {"model": ErrorMessage, "description": description}


DATABASE_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: error_answer("The database is unavailable; retry after `Retry-After` seconds"),
}

API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_answer("The body could not be read (not UTF-8 text, or a broken form)"),
    401: error_answer("No API key, or one that is invalid, revoked or expired"),
    403: error_answer("The key's scope does not allow this operation"),
    404: error_answer("The model, or another object named in the path, does not exist"),
    409: error_answer("A name already taken, or a state that does not allow this now"),
    413: error_answer("The body is larger than the cap for this kind of request"),
    422: error_answer("The request is invalid; `detail` names each field and the fix"),
    **DATABASE_UNAVAILABLE,
}


def errors_as_json(document: dict[str, Any]) -> None:
    """Error answers are JSON even where success is not (HTML reports, Prometheus text);
    FastAPI files every declared answer under the route's own media type."""
    for operation in (op for item in document["paths"].values() for op in item.values()):
        for status, response in operation.get("responses", {}).items():
            content = response.get("content")
            if not status.startswith(("4", "5")) or not content or "application/json" in content:
                continue
            response["content"] = {"application/json": next(iter(content.values()))}
