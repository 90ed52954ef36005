"""The conformance report: every registered test's false alarms with no drift and power on a known
shift, at defaults, for windows of 100 to 1,000,000 rows on the shapes of
:mod:`benchmarks.shapes`; written into ``docs/conformance.md``.

    .venv/bin/python -m benchmarks.conformance [--trials 200] [--large-trials 20]
    .venv/bin/python -m benchmarks.conformance --never-seen-only   # that section alone

Each shape gets a 100,000-row reference profile (seed 0); each trial draws a fresh seeded window
with no drift and one with the shape's shift, and every test of the kind reads the same window
summary. ``--trials`` windows per cell for n <= 10,000, ``--large-trials`` for 100,000 and
1,000,000 (fewer, as each takes seconds). The defaults section is derived from the code alone;
``tests/test_conformance_doc.py`` keeps it, and the table's rows, in step with the registry.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

if not __package__:  # run as a file: its folder would shadow the detectors package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from benchmarks.shapes import SHAPES, Shape
from detectors import DEFAULT_TESTS, TESTS, FeatureSpec, ReferenceProfile, make_test
from detectors.profile import DISCRETE_MAX_VALUES, FeatureProfile
from detectors.schema import FeatureKind
from detectors.stattests.categories import MIN_EXPECTED, NEW_CATEGORY_DRIFT_SHARE
from detectors.window import summarize

DOC = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"
REGENERATE = "python -m benchmarks.conformance"
SIZES = (100, 1_000, 10_000, 100_000, 1_000_000)
REFERENCE_ROWS = 100_000
NEVER_SEEN = "never-seen-category"
NEVER_SEEN_HEADING = "## One never-seen category"


def tests_for(shape: Shape) -> list[str]:
    return [name for name, cls in sorted(TESTS.items()) if shape.kind in cls.kinds]


def render_defaults() -> str:
    """The registered tests with their default configuration, and the defaults per kind."""
    lines = [
        "## Defaults measured",
        "",
        "| test | kinds | default configuration |",
        "|---|---|---|",
    ]
    for name, cls in sorted(TESTS.items()):
        params = ", ".join(
            f"{k}={v!r}" for k, v in make_test(name).to_dict().items() if k != "test"
        )
        kinds = ", ".join(sorted(kind.value for kind in cls.kinds))
        lines.append(f"| `{name}` | {kinds} | {params} |")
    lines += ["", "| feature kind | default tests (the first decides) |", "|---|---|"]
    lines += [f"| {kind.value} | {', '.join(names)} |" for kind, names in DEFAULT_TESTS.items()]
    lines += [
        "",
        f"Categorical cells expecting fewer than {MIN_EXPECTED:g} rows are pooled; unseen "
        f"categories count as drift beyond {NEW_CATEGORY_DRIFT_SHARE:.0%} of the window above the "
        f"expected unseen share; numerical references with at most {DISCRETE_MAX_VALUES} distinct "
        "values take KS's discrete path.",
        "",
    ]
    return "\n".join(lines)


def table_rows() -> list[tuple[str, str]]:
    """(shape, test) for every registered test on every shape of a kind it accepts."""
    return [(shape.name, name) for shape in SHAPES for name in tests_for(shape)]


def _profile(shape: Shape) -> FeatureProfile:
    frame = pd.DataFrame({"x": shape.draw(np.random.default_rng(0), REFERENCE_ROWS, False)})
    return ReferenceProfile.fit(frame, [FeatureSpec("x", shape.kind)]).features[0]


def measure(shape: Shape, trials: int, large_trials: int) -> dict[str, list[tuple[int, int, int]]]:
    """Per test, per size: (windows, flagged without drift, flagged with the shift)."""
    profile = _profile(shape)
    tests = {name: make_test(name) for name in tests_for(shape)}
    cells: dict[str, list[tuple[int, int, int]]] = {name: [] for name in tests}
    for size in SIZES:
        count = trials if size <= 10_000 else large_trials
        flagged = {name: [0, 0] for name in tests}
        for trial in range(count):
            for shifted in (0, 1):
                seed = 10_000_000 * shifted + 1_000 * size + trial
                sample = shape.draw(np.random.default_rng(seed), size, bool(shifted))
                window = summarize(profile, sample, keep_values=10_000)
                for name, test in tests.items():
                    flagged[name][shifted] += test.test(profile, window).drifted
        for name in tests:
            cells[name].append((count, *flagged[name]))
    return cells


def measure_never_seen(shape: Shape, trials: int, large_trials: int) -> dict[str, list[float]]:
    """Per test, per size: the share of the main table's no-drift windows that one added row of
    a category the reference never had turns from quiet into drift."""
    profile = _profile(shape)
    tests = {name: make_test(name) for name in tests_for(shape)}
    shares: dict[str, list[float]] = {name: [] for name in tests}
    for size in SIZES:
        count = trials if size <= 10_000 else large_trials
        flagged = dict.fromkeys(tests, 0)
        for trial in range(count):
            sample = shape.draw(np.random.default_rng(1_000 * size + trial), size, False)
            plain = summarize(profile, sample, keep_values=10_000)
            added = pd.concat([sample, pd.Series([NEVER_SEEN])], ignore_index=True)
            window = summarize(profile, added, keep_values=10_000)
            for name, test in tests.items():
                turned = (
                    test.test(profile, window).drifted and not test.test(profile, plain).drifted
                )
                flagged[name] += turned
        for name in tests:
            shares[name].append(100 * flagged[name] / count)
    return shares


def render_never_seen(trials: int, large_trials: int) -> str:
    """The section on one never-seen category: a data-quality finding, never drift."""
    lines = [
        NEVER_SEEN_HEADING,
        "",
        "The no-drift windows above, each with one more row of a category the reference never",
        "had: the share of windows that this one row turns from quiet into drift (the new",
        "category shows in data quality instead).",
        "",
        "| shape, plus one never-seen row | test | "
        + " | ".join(f"n = {n:,}" for n in SIZES)
        + " |",
        "|---|---|" + "---|" * len(SIZES),
    ]
    for shape in SHAPES:
        if shape.kind is FeatureKind.NUMERICAL:
            continue
        for name, values in measure_never_seen(shape, trials, large_trials).items():
            cells = " | ".join(f"{value:.1f}%" for value in values)
            lines.append(f"| {shape.name} | {name} | {cells} |")
            print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def render(trials: int, large_trials: int, seconds: float) -> str:
    header = [
        "# Conformance report",
        "",
        f"Generated by `{REGENERATE}` (do not edit by hand). Every registered test at its",
        "defaults against a 100,000-row reference profile: the share of windows flagged with no",
        "drift (false alarms) and with a known shift (power): 0.5 standard deviations added to",
        "the mean of numericals (discrete counts: Poisson(1.5) to Poisson(1.5 + 0.5 sqrt(1.5))),",
        "10 points added to the most frequent category of categoricals, the others shrinking in",
        f"proportion. {trials} windows per cell for n <= 10,000, {large_trials} for 100,000 and",
        "1,000,000 (reduced: each such window takes seconds; a single false alarm there is",
        f"{100 / large_trials:.0f}%). Each cell reads false alarms / power. Run time",
        f"{seconds:.0f} s on the 2-core development machine.",
        "",
        render_defaults(),
        "",
        "## Measured",
        "",
        "| shape | test | " + " | ".join(f"n = {n:,}" for n in SIZES) + " |",
        "|---|---|" + "---|" * len(SIZES),
    ]
    return "\n".join(header) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--large-trials", type=int, default=20)
    parser.add_argument(
        "--never-seen-only", action="store_true", help="rewrite only the never-seen section"
    )
    args = parser.parse_args()
    if args.never_seen_only:
        measured_part = DOC.read_text().split(NEVER_SEEN_HEADING)[0].rstrip("\n")
        never_seen = render_never_seen(args.trials, args.large_trials)
        DOC.write_text(f"{measured_part}\n\n{never_seen}")
        print(f"wrote {DOC}")
        return
    started = time.perf_counter()
    rows = []
    for shape in SHAPES:
        cells = measure(shape, args.trials, args.large_trials)
        for name, values in cells.items():
            text = " | ".join(
                f"{100 * null / count:.1f}% / {100 * power / count:.0f}%"
                for count, null, power in values
            )
            rows.append(f"| {shape.name} | `{name}` | {text} |")
            print(rows[-1], flush=True)
    document = render(args.trials, args.large_trials, time.perf_counter() - started)
    never_seen = render_never_seen(args.trials, args.large_trials)
    DOC.write_text(document + "\n".join(rows) + "\n\n" + never_seen)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
