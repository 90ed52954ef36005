"""The CloudEvents KServe's agent sends, read from an HTTP request in binary content mode.

The agent (kserve/kserve `pkg/logger/worker.go`) sets `ce-specversion: 1.0`, `ce-id` (the
inference request's id, shared by its request and response events), `ce-type`
(`org.kubeflow.serving.inference.request` or `.response`), `ce-source`, `ce-time` (when the
request arrived or the response left) and the extensions `ce-inferenceservicename`,
`ce-namespace`, `ce-component`, `ce-endpoint` (`default` or `canary`), `ce-metadata` and
`ce-recordedtime`; the body is the inference payload as the model server saw it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import unquote

REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
MAX_ID_CHARACTERS = 200  # leaves room for "#<index>" within a record's 256-character request_id
# KServe's endpoint label, as the variant the inferences API knows.
VARIANTS = {"default": "stable", "canary": "canary"}


class Half(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"


class NotAnInferenceEvent(ValueError):
    """The HTTP request is not a KServe payload-logger CloudEvent; the message names the header."""


@dataclass(frozen=True, slots=True)
class InferenceEvent:
    half: Half
    event_id: str
    time: datetime | None
    inference_service: str | None
    variant: str | None


def _attribute(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(f"ce-{name}")
    if value is None:
        return None
    # The HTTP binding percent-encodes what a header cannot carry (3.1.3.2).
    text = unquote(value).strip()
    if not text.isprintable():
        raise NotAnInferenceEvent(f"ce-{name} holds control characters; send printable text")
    return text


def _time(headers: Mapping[str, str]) -> datetime | None:
    text = _attribute(headers, "time")
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise NotAnInferenceEvent(
            f"ce-time {text[:40]!r} is not an RFC 3339 timestamp; the CloudEvents spec requires "
            "one, e.g. 2026-12-03T13:00:00.123456789Z"
        ) from error
    if value.tzinfo is None:
        raise NotAnInferenceEvent(f"ce-time {text[:40]!r} has no zone offset (RFC 3339)")
    return value


def read_event(headers: Mapping[str, str]) -> InferenceEvent:
    """The event's attributes from `ce-*` headers (lower-case names, as Starlette gives them)."""
    if "ce-specversion" not in headers:
        raise NotAnInferenceEvent(
            "no ce-specversion header: send the CloudEvent in binary content mode, as KServe's "
            "logger does (structured mode, application/cloudevents+json, is not accepted)"
        )
    if _attribute(headers, "specversion") != "1.0":
        raise NotAnInferenceEvent("ce-specversion must be 1.0")
    event_type = _attribute(headers, "type")
    halves = {REQUEST_TYPE: Half.REQUEST, RESPONSE_TYPE: Half.RESPONSE}
    if event_type not in halves:
        raise NotAnInferenceEvent(
            f"ce-type {str(event_type)[:80]!r} is not a KServe inference event; expected "
            f"{REQUEST_TYPE} or {RESPONSE_TYPE}"
        )
    event_id = _attribute(headers, "id")
    if not event_id or len(event_id) > MAX_ID_CHARACTERS:
        raise NotAnInferenceEvent(
            f"ce-id must be 1 to {MAX_ID_CHARACTERS} characters: it joins a request with its "
            "response and becomes the records' request_id"
        )
    return InferenceEvent(
        half=halves[event_type],
        event_id=event_id,
        time=_time(headers),
        inference_service=_attribute(headers, "inferenceservicename") or None,
        variant=VARIANTS.get(_attribute(headers, "endpoint") or ""),
    )
