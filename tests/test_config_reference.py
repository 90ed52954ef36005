"""docs/configuration.md is exactly what `monitor config-reference` generates from the settings."""

from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.config_reference import REGENERATE, render_reference, settings_table
from tests.cli import run_monitor

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_configuration_doc_matches_the_settings() -> None:
    assert DOC.read_text() == render_reference(), (
        f"docs/configuration.md is out of date with the settings classes; run: {REGENERATE}"
    )


def test_the_cli_prints_the_reference(tmp_path: Path) -> None:
    printed = run_monitor("config-reference", cwd=tmp_path)
    assert printed.stdout == render_reference()


def test_a_row_shows_the_variable_type_bounds_default_and_description() -> None:
    class Example(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="EXAMPLE_")
        workers: int = Field(4, ge=1, le=64, description="Threads | processes at once.")
        url: str | None = Field(None, description="Where it lives.")

    rows = settings_table(Example).splitlines()
    assert rows[2] == (
        "| `EXAMPLE_WORKERS` | integer (>= 1, <= 64) | `4` | Threads \\| processes at once. |"
    )
    assert rows[3] == "| `EXAMPLE_URL` | string, optional | unset | Where it lives. |"


def test_a_setting_without_a_description_is_refused_with_the_fix() -> None:
    class Undocumented(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="EXAMPLE_")
        workers: int = 4

    with pytest.raises(ValueError, match=r"Undocumented\.workers has no description"):
        settings_table(Undocumented)
