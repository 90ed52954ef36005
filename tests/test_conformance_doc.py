"""docs/conformance.md is what `python -m benchmarks.conformance` writes from the registered tests:
its defaults section matches the code, its table has a row for every registered test on every
shape it accepts, and the published figures meet the acceptance bars."""

import re

from benchmarks.conformance import (
    DOC,
    NEVER_SEEN_HEADING,
    REGENERATE,
    SIZES,
    render_defaults,
    table_rows,
)

ROW = re.compile(r"^\| (?P<shape>[^|]+) \| `(?P<test>\w+)` \| (?P<cells>.+) \|$")


def measured() -> dict[tuple[str, str], list[tuple[float, float]]]:
    table = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            cells = [cell.strip() for cell in match["cells"].split("|")]
            pairs = [tuple(float(part.strip(" %")) for part in cell.split("/")) for cell in cells]
            table[(match["shape"], match["test"])] = pairs
    return table  # type: ignore[return-value]


def test_the_defaults_section_matches_the_registered_tests() -> None:
    assert render_defaults() in DOC.read_text(), (
        f"docs/conformance.md is out of date with the registered tests; run: {REGENERATE}"
    )


def test_the_table_has_a_row_for_every_registered_test_on_every_shape() -> None:
    assert sorted(measured()) == sorted(table_rows()), f"run: {REGENERATE}"


def test_every_published_cell_has_a_figure_for_each_window_size() -> None:
    assert all(len(cells) == len(SIZES) for cells in measured().values())


def test_published_false_alarms_stay_at_or_under_five_percent() -> None:
    worst = max(null for cells in measured().values() for null, _ in cells)
    assert worst <= 5.0


def test_published_power_from_a_thousand_rows_is_at_least_95_percent() -> None:
    weakest = min(power for cells in measured().values() for _, power in cells[1:])
    assert weakest >= 95.0


def test_the_doc_names_the_command_that_regenerates_it() -> None:
    assert f"`{REGENERATE}`" in DOC.read_text()


NEVER_SEEN_ROW = re.compile(r"^\| (?P<shape>[^|`]+) \| (?P<test>\w+) \| (?P<cells>[0-9.% |]+) \|$")


def test_one_never_seen_row_never_flags_drift_in_the_published_section() -> None:
    section = DOC.read_text().split(NEVER_SEEN_HEADING)[1]
    rows = {
        (match["shape"], match["test"]): [float(c.strip(" %")) for c in match["cells"].split("|")]
        for match in map(NEVER_SEEN_ROW.match, section.splitlines())
        if match
    }
    categorical = sorted(row for row in table_rows() if row in rows)
    assert categorical and sorted(rows) == categorical, f"run: {REGENERATE}"
    assert all(len(cells) == len(SIZES) and max(cells) == 0.0 for cells in rows.values())
