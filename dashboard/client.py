"""The dashboard's only way to the data: the monitor's REST API over HTTP.

Reads and actions use the signed-in user's key (or, run on its own, the operator's
`--api-key`); an action a read key may not take is refused with what to do.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

Json = dict[str, Any]


class ApiError(Exception):
    """The API refused or could not be reached; the message is fit to show to the user."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


def _message(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text[:300] or reply.reason_phrase
    detail = body.get("message") or body.get("detail") if isinstance(body, dict) else body
    return detail if isinstance(detail, str) else str(detail)[:300]


def _segment(name: str) -> str:
    return quote(name, safe="")


class MonitorApi:
    """Typed-by-name calls of the endpoints the pages show; every answer is the API's JSON."""

    def __init__(
        self, base_url: str, user_key: Callable[[], str | None], timeout: float = 10.0
    ) -> None:
        """`user_key`: the key of the request being served (called on every read)."""
        self.base_url = base_url.rstrip("/")
        self.user_key = user_key
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def _send(self, method: str, path: str, key: str | None, **kwargs: Any) -> Any:
        if not key:
            raise ApiError(
                401,
                "no API key: sign in with a key from `monitor keys create --scope read` (or, "
                "for python -m dashboard, set --api-key or MONITOR_DASHBOARD_API_KEY)",
            )
        try:
            reply = self._http.request(
                method, path, headers={"Authorization": f"Bearer {key}"}, **kwargs
            )
        except httpx.HTTPError as error:
            message = f"the monitor API at {self.base_url} is unreachable: {error}"
            raise ApiError(None, message) from error
        if reply.status_code >= 400:
            raise ApiError(reply.status_code, f"{reply.status_code}: {_message(reply)}")
        return (
            reply.json()
            if reply.headers.get("content-type", "").startswith("application/json")
            else reply.text
        )

    def _get(self, path: str, **params: Any) -> Any:
        query = {name: value for name, value in params.items() if value is not None}
        return self._send("GET", path, self.user_key(), params=query)

    def get(self, path: str, **params: Any) -> Json:
        found: Json = self._get(path, **params)
        return found

    def get_list(self, path: str, **params: Any) -> list[Json]:
        found: list[Json] = self._get(path, **params)
        return found

    def check_key(self, key: str) -> None:
        """Raise ApiError unless `key` is a valid key of any scope that may read."""
        self._send("GET", "/api/v1/models", key, params={"limit": 1})

    def act(self, path: str) -> Json:
        """POST an action with the signed-in user's key; it needs the admin scope."""
        try:
            result: Json = self._send("POST", path, self.user_key())
        except ApiError as error:
            if error.status == 403:
                raise ApiError(
                    403,
                    "this action needs an admin key, and you are signed in with a key that may "
                    "only read: sign in again with an admin key (the 'switch key' link at the top; "
                    f"monitor keys create --scope admin makes one). The API said: {error}",
                ) from error
            raise
        return result

    # Models, runs and drift
    def overview(self, *, offset: int, limit: int) -> Json:
        return self.get("/api/v1/overview", offset=offset, limit=limit)

    def model_names(self) -> list[str]:
        names: list[str] = self.get("/api/v1/overview/model-names", limit=10_000)["data"]
        return names

    def model(self, model: str) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}")

    def monitors(self, model: str) -> list[Json]:
        return self.get_list(f"/api/v1/models/{_segment(model)}/monitors")

    def runs(self, model: str, *, monitor: str, offset: int, limit: int) -> Json:
        return self.get(
            f"/api/v1/models/{_segment(model)}/runs", monitor=monitor, offset=offset, limit=limit
        )

    def run(self, model: str, run_id: int) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}/runs/{run_id}")

    def run_report(self, model: str, run_id: int) -> str:
        html: str = self._get(f"/api/v1/models/{_segment(model)}/runs/{run_id}/report")
        return html

    def drift_matrix(self, model: str, monitor: str, *, windows: int) -> Json:
        path = f"/api/v1/models/{_segment(model)}/monitors/{_segment(monitor)}/drift-matrix"
        return self.get(path, windows=windows)

    def distribution(self, model: str, monitor: str, column: str, *, windows: int) -> Json:
        path = (
            f"/api/v1/models/{_segment(model)}/monitors/{_segment(monitor)}"
            f"/distributions/{_segment(column)}"
        )
        return self.get(path, windows=windows)

    def series(
        self, model: str, monitor: str, column: str, *, test: str | None = None, field: str
    ) -> Json:
        path = (
            f"/api/v1/models/{_segment(model)}/monitors/{_segment(monitor)}"
            f"/series/{_segment(column)}"
        )
        return self.get(path, test=test, field=field, limit=500)

    def drift_state(self, model: str) -> list[Json]:
        return self.get_list(f"/api/v1/models/{_segment(model)}/drift")

    def quality(self, model: str, monitor: str) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}/quality", monitor=monitor)

    # Events and deliveries
    def events(
        self,
        *,
        model: str | None,
        types: list[str] | None,
        min_severity: str | None,
        offset: int,
        limit: int,
    ) -> Json:
        return self.get(
            "/api/v1/events",
            model=model,
            type=types or None,
            min_severity=min_severity,
            offset=offset,
            limit=limit,
        )

    def deliveries(self, *, status: str | None, event: str | None, offset: int, limit: int) -> Json:
        return self.get(
            "/api/v1/deliveries", status=status, event=event, offset=offset, limit=limit
        )

    def delivery(self, delivery_id: int) -> Json:
        return self.get(f"/api/v1/deliveries/{delivery_id}")

    def redeliver(self, delivery_id: int) -> Json:
        return self.act(f"/api/v1/deliveries/{delivery_id}/redeliver")

    # Retraining
    def retraining_runs(self, model: str, *, offset: int, limit: int) -> Json:
        return self.get(
            f"/api/v1/models/{_segment(model)}/retraining/runs", offset=offset, limit=limit
        )

    def retraining_run(self, model: str, run_id: int) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}/retraining/runs/{run_id}")

    def lineage(self, model: str) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}/retraining/lineage", limit=100)

    # Rollouts
    def rollouts(self, model: str, *, offset: int, limit: int) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}/rollouts", offset=offset, limit=limit)

    def rollout_checks(self, model: str, rollout_id: int) -> Json:
        return self.get(f"/api/v1/models/{_segment(model)}/rollouts/{rollout_id}/checks")

    def rollout_action(self, model: str, rollout_id: int, action: str) -> Json:
        return self.act(f"/api/v1/models/{_segment(model)}/rollouts/{rollout_id}/{action}")

    # Versions
    def champions(self, model: str) -> list[Json]:
        """When each version became champion, oldest first."""
        history: list[Json] = self.get(f"/api/v1/models/{_segment(model)}/champions")["data"]
        return history

    def references(self, model: str) -> list[Json]:
        """Every reference of the model, newest first."""
        history: list[Json] = self.get(f"/api/v1/models/{_segment(model)}/references")["data"]
        return history
