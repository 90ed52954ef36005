"""Validation problems, reported in the same shape as FastAPI's own 422 details."""

from dataclasses import dataclass, field
from typing import Any

MAX_REPORTED_ERRORS = 100


@dataclass(frozen=True, slots=True)
class FieldError:
    loc: tuple[str | int, ...]
    msg: str
    type: str

    def as_detail(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


@dataclass
class ErrorCollector:
    """Collects every problem of a batch (up to a cap) so one reply names them all."""

    errors: list[FieldError] = field(default_factory=list)
    total: int = 0

    def add(self, loc: tuple[str | int, ...], msg: str, kind: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(FieldError(loc, msg, kind))

    def __bool__(self) -> bool:
        return self.total > 0


class BatchRejected(Exception):
    """A batch broke the model's schema; nothing of it was stored."""

    def __init__(self, errors: ErrorCollector, what: str = "records") -> None:
        self.errors = errors
        self.what = what
        super().__init__(f"{errors.total} invalid {what}")

    def detail(self) -> list[dict[str, Any]]:
        return [error.as_detail() for error in self.errors.errors]
