"""Stored documents: the strict-JSON envelope every fitted object shares (format name, version)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self


class StoredDocument:
    """Base of the fitted objects the service stores: :meth:`to_json` is standard JSON (no NaN;
    floats round-trip exactly) led by ``format`` and ``version``, which :meth:`from_dict` checks
    (:meth:`check_header`) before reading anything else."""

    __slots__ = ()
    FORMAT: ClassVar[str]
    VERSION: ClassVar[int]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        raise NotImplementedError

    def header(self) -> dict[str, Any]:
        return {"format": self.FORMAT, "version": self.VERSION}

    @classmethod
    def check_header(cls, data: Mapping[str, Any]) -> None:
        if data.get("format") != cls.FORMAT or data.get("version") != cls.VERSION:
            raise ValueError(
                f"not a {cls.FORMAT} version {cls.VERSION} document: "
                f"format={data.get('format')!r}, version={data.get('version')!r}"
            )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        return cls.from_dict(json.loads(text))
