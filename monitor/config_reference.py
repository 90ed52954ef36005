"""The configuration reference (docs/configuration.md), rendered from the settings classes so the
document cannot drift from the code: `monitor config-reference > docs/configuration.md`."""

import enum
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from monitor.settings import Settings
from monitor.sidecar.settings import SidecarSettings

REGENERATE = "monitor config-reference > docs/configuration.md"

SECTIONS: tuple[tuple[str, type[BaseSettings], str], ...] = (
    (
        "Control plane",
        Settings,
        "Read by `monitor serve`, `monitor scheduler`, `monitor migrate` and the other commands "
        "that use the store; also from a `.env` file in the working directory.",
    ),
    (
        "Sidecar",
        SidecarSettings,
        "Read by `monitor sidecar`; each is also an option of that command (`model` is "
        "`--model`), and an option given wins over the variable.",
    ),
)

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret string",
}
# Attributes of pydantic's constraint markers (`Field(ge=1)` -> `Ge(ge=1)`).
_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) in {Union, types.UnionType}:
        named = [_type_name(arg) for arg in get_args(annotation) if arg is not type(None)]
        return " or ".join(named) + ", optional"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " or ".join(f"`{member.value}`" for member in annotation)
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _type_cell(field: FieldInfo) -> str:
    bounds = [
        f"{symbol} {getattr(constraint, attribute)}"
        for constraint in field.metadata
        for attribute, symbol in _BOUNDS
        if getattr(constraint, attribute, None) is not None
    ]
    text = _type_name(field.annotation)
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _default_cell(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    default = field.default
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, enum.Enum):
        return f"`{default.value}`"
    return f"`{default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table(settings_class: type[BaseSettings]) -> str:
    """One markdown table row per field: variable, type, default, description."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    for name, field in settings_class.model_fields.items():
        if not field.description:
            raise ValueError(
                f"{settings_class.__name__}.{name} has no description: give its Field a "
                "`description=` saying what it does, then run: " + REGENERATE
            )
        variable = f"`{prefix}{name.upper()}`"
        cells = (variable, _type_cell(field), _default_cell(field), field.description)
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def render_reference() -> str:
    """The whole of docs/configuration.md."""
    parts = [
        "# Configuration reference",
        "",
        "Every setting is an environment variable. This page is generated from the settings "
        f"classes; do not edit it by hand, run `{REGENERATE}`.",
        "",
        "Booleans accept `true`/`false` (also `1`/`0`, `yes`/`no`); durations are in seconds. "
        "With `MONITOR_ENVIRONMENT=production` the control plane refuses to start on the "
        "embedded SQLite store: set `MONITOR_DATABASE_URL`.",
    ]
    for title, settings_class, note in SECTIONS:
        parts += ["", f"## {title}", "", note, "", settings_table(settings_class)]
    return "\n".join(parts) + "\n"
