"""HTTP pipelines: starting a run in an outside orchestrator (a generic URL, Airflow's DAG-run
API, GitHub's `repository_dispatch`), and the HMAC signatures of its completion callback and of
the export link it downloads the training data from."""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from triggers.egress import EgressTransport, answer_summary

SIGNATURE_HEADER = "X-Monitor-Signature"
TIMESTAMP_HEADER = "X-Monitor-Timestamp"
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "model-monitor-retraining/1"


class HttpStyle(StrEnum):
    GENERIC = "generic"  # POST the payload as it is
    AIRFLOW = "airflow"  # POST /api/v1|v2/dags/{dag_id}/dagRuns: the payload is the run's conf
    GITHUB = "github"  # POST /repos/{owner}/{repo}/dispatches: the payload is client_payload


class TriggerFailed(RuntimeError):
    """The orchestrator refused the trigger or could not be reached."""


@dataclass(frozen=True, slots=True)
class HttpTrigger:
    url: str
    style: HttpStyle = HttpStyle.GENERIC
    event_type: str = "monitor-retrain"  # GitHub's repository_dispatch event type
    authorization: str | None = None  # the whole Authorization header value, e.g. "Bearer ..."
    timeout_seconds: float = 10.0
    allow_private: bool = False  # the egress policy: non-public addresses are refused

    def request_body(self, run_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        if self.style is HttpStyle.AIRFLOW:
            # logical_date null: Airflow 3 requires the field, Airflow 2 accepts null.
            return {
                "dag_run_id": f"monitor-retrain-{run_id}",
                "logical_date": None,
                "conf": dict(payload),
            }
        if self.style is HttpStyle.GITHUB:
            return {"event_type": self.event_type, "client_payload": dict(payload)}
        return dict(payload)

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        if self.style is HttpStyle.GITHUB:
            headers["Accept"] = "application/vnd.github+json"
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        else:
            headers["Accept"] = "application/json"
        if self.authorization:
            headers["Authorization"] = self.authorization
        return headers

    def send(
        self, run_id: int, payload: Mapping[str, Any], transport: httpx.BaseTransport | None = None
    ) -> int:
        """POST the trigger; the orchestrator's status code when it accepted it (2xx)."""
        try:
            transport = transport or EgressTransport(allow_private=self.allow_private)
            with httpx.Client(timeout=self.timeout_seconds, transport=transport) as client:
                response = client.post(
                    self.url, json=self.request_body(run_id, payload), headers=self.headers()
                )
        except httpx.HTTPError as error:
            raise TriggerFailed(
                f"could not reach the {self.style} trigger at {self.url}: {error}"
            ) from error
        if not response.is_success:
            raise TriggerFailed(
                f"the {self.style} trigger at {self.url} answered {answer_summary(response)}"
            )
        return response.status_code


class SignatureRejected(ValueError):
    """A callback or link whose signature does not verify; the message says why."""


def _digest(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_callback(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Monitor-Signature` value: HMAC-SHA256 over `<timestamp>.<raw body>`."""
    return SIGNATURE_PREFIX + _digest(secret, f"{timestamp}.".encode() + body)


def verify_callback(
    secret: str,
    *,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance_seconds: float,
) -> None:
    if not timestamp or not signature:
        raise SignatureRejected(
            f"send the {TIMESTAMP_HEADER} (Unix seconds) and {SIGNATURE_HEADER} "
            f"('{SIGNATURE_PREFIX}' + hex HMAC-SHA256 of '<timestamp>.<body>') headers"
        )
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    if abs(now - sent) > tolerance_seconds:
        raise SignatureRejected(
            f"{TIMESTAMP_HEADER} is {now - sent:+.0f} s off this server's clock (allowed: "
            f"{tolerance_seconds:g} s); sign each callback when it is sent"
        )
    if not hmac.compare_digest(sign_callback(secret, sent, body), signature.strip()):
        raise SignatureRejected(
            f"{SIGNATURE_HEADER} does not match the body; sign the exact bytes sent with the "
            "pipeline's callback secret"
        )


def sign_link(secret: str, path: str, expires: int) -> str:
    """Signature of a download link: HMAC-SHA256 over `GET <path>?expires=<expires>`."""
    return _digest(secret, f"GET {path}?expires={expires}".encode())


def verify_link(secret: str, *, path: str, expires: int, signature: str, now: float) -> None:
    if now > expires:
        raise SignatureRejected("the link has expired; trigger a new run to get a fresh one")
    if not hmac.compare_digest(sign_link(secret, path, expires), signature):
        raise SignatureRejected("the link's signature does not match; use the link as sent")
