"""`monitor sidecar`: one option per `SidecarSettings` field; an option left out falls back to
its `MONITOR_SIDECAR_*` variable, then to the default."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr, ValidationError

from monitor.sidecar.settings import SidecarSettings

_CLICK_TYPES: dict[Any, Any] = {int: int, float: float, Path: click.Path(path_type=Path)}


def _with_settings_options(command: Callable[..., None]) -> Callable[..., None]:
    for name, field in reversed(SidecarSettings.model_fields.items()):
        env = f"MONITOR_SIDECAR_{name.upper()}"
        default = "" if field.is_required() else f"; default {field.default}"
        if field.annotation is SecretStr:
            default = ""
        command = click.option(
            f"--{name.replace('_', '-')}",
            name,
            type=_CLICK_TYPES.get(field.annotation, str),
            default=None,
            help=f"{field.description} [env {env}{default}]",
        )(command)
    return command


@click.command()
@_with_settings_options
def sidecar(**options: Any) -> None:
    """Proxy a model server: split traffic by the control plane's routing, capture each
    request's features, prediction, latency and status, and ship them in batches."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        settings = SidecarSettings(**given)
    except ValidationError as error:
        problems = "; ".join(
            f"--{'-'.join(str(part) for part in problem['loc']).replace('_', '-')}: "
            f"{problem['msg']}"
            for problem in error.errors()
        )
        raise click.UsageError(
            f"{problems} (give the option or its MONITOR_SIDECAR_* variable)"
        ) from error
    from monitor.sidecar.app import run

    run(settings)
