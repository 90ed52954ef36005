"""Prometheus metrics of the monitoring itself, read from the store at scrape time: every API
replica exports the same numbers, and a restart loses none of them.

Label cardinality is bounded (docs/integrations.md): per model, its monitors' columns are capped
at `MONITOR_METRICS_MAX_COLUMNS_PER_MODEL` (the prediction and label first, then drifted
features, then the rest by name), everything else is a fixed handful of series per model,
monitor, channel or quality metric. A scrape is eight SQL queries, whatever the fleet's size.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, Row, text
from sqlalchemy.exc import SQLAlchemyError

from monitor.entities.delivery import DeliveryStatus
from monitor.entities.drift_state import ALERT, DriftStatus
from monitor.entities.quality import QualityStatus
from monitor.entities.rollout import RolloutState
from monitor.store.types import UTCDateTime

log = logging.getLogger(__name__)

_FEATURE_RESULTS = text(f"""
SELECT m.name AS model, mo.name AS monitor, fr.feature AS column_name, fr.role, fr.test,
       fr.statistic, fr.effect_size, fr.threshold, fr.drifted
FROM drift_state ds
JOIN feature_result fr ON fr.run_id = ds.last_run_id
JOIN monitor mo ON mo.id = ds.monitor_id
JOIN registered_model m ON m.id = ds.model_id
WHERE ds.feature = '{ALERT}'
""")

_DRIFT_STATES = text("""
SELECT m.name AS model, mo.name AS monitor, ds.feature AS column_name, ds.status
FROM drift_state ds
JOIN monitor mo ON mo.id = ds.monitor_id
JOIN registered_model m ON m.id = ds.model_id
""")

_LAST_RUNS = text(f"""
SELECT m.name AS model, mo.name AS monitor, r.started_at, r.finished_at, r.window_end,
       mv.method AS mv_method, mv.statistic AS mv_statistic, mv.threshold AS mv_threshold,
       mv.drifted AS mv_drifted
FROM drift_state ds
JOIN monitor_run r ON r.id = ds.last_run_id
JOIN monitor mo ON mo.id = ds.monitor_id
JOIN registered_model m ON m.id = ds.model_id
LEFT JOIN multivariate_result mv ON mv.run_id = ds.last_run_id
WHERE ds.feature = '{ALERT}'
""").columns(started_at=UTCDateTime(), finished_at=UTCDateTime(), window_end=UTCDateTime())

_RUN_COUNTS = text("""
SELECT m.name AS model, mo.name AS monitor, r.status, COUNT(*) AS runs
FROM monitor_run r
JOIN monitor mo ON mo.id = r.monitor_id
JOIN registered_model m ON m.id = r.model_id
GROUP BY m.name, mo.name, r.status
""")

# The latest window of each monitor, and its settled quality state.
_QUALITY = text("""
SELECT m.name AS model, mo.name AS monitor, q.metric, q.realized, q.estimated,
       q.label_coverage, qs.status AS state
FROM quality_result q
JOIN (SELECT monitor_id, MAX(window_end) AS window_end FROM quality_result GROUP BY monitor_id)
     latest ON latest.monitor_id = q.monitor_id AND latest.window_end = q.window_end
JOIN monitor mo ON mo.id = q.monitor_id
JOIN registered_model m ON m.id = q.model_id
LEFT JOIN quality_state qs ON qs.monitor_id = q.monitor_id
""")

# The latest rollout of each model (an active one, when there is one: it is the newest).
_ROLLOUTS = text("""
SELECT m.name AS model, r.state, r.weight, r.failed_checks
FROM rollout r
JOIN (SELECT model_id, MAX(id) AS id FROM rollout GROUP BY model_id) latest ON latest.id = r.id
JOIN registered_model m ON m.id = r.model_id
""")

_DELIVERIES = text("""
SELECT c.name AS channel, 'status' AS kind, d.status AS value, COUNT(*) AS n
FROM delivery d JOIN channel c ON c.id = d.channel_id
GROUP BY c.name, d.status
UNION ALL
SELECT c.name, 'attempt', a.outcome, COUNT(*)
FROM delivery_attempt a
JOIN delivery d ON d.id = a.delivery_id
JOIN channel c ON c.id = d.channel_id
GROUP BY c.name, a.outcome
""")

_RETRAINING = text("""
SELECT m.name AS model, r.status, COUNT(*) AS runs
FROM retraining_run r JOIN registered_model m ON m.id = r.model_id
GROUP BY m.name, r.status
""")

_QUERIES = (
    _FEATURE_RESULTS,
    _DRIFT_STATES,
    _LAST_RUNS,
    _RUN_COUNTS,
    _QUALITY,
    _ROLLOUTS,
    _DELIVERIES,
    _RETRAINING,
)
_ROLES_FIRST = ("prediction", "label")


@dataclass(frozen=True)
class ColumnCap:
    """The columns of each model that get series: at most `limit`, chosen from its monitors'
    latest results (prediction and label first, then drifted features, then by name)."""

    limit: int

    def choose(self, results: Sequence[Row[tuple[object, ...]]]) -> dict[str, set[str]]:
        ranked: dict[str, dict[str, tuple[int, int, str]]] = defaultdict(dict)
        for row in results:
            rank = (0 if row.role in _ROLES_FIRST else 1, 0 if row.drifted else 1, row.column_name)
            current = ranked[row.model].get(row.column_name)
            ranked[row.model][row.column_name] = min(rank, current) if current else rank
        return {
            model: {name for *_, name in sorted(columns.values())[: self.limit]}
            for model, columns in ranked.items()
        }


def _seconds(start: object, end: object) -> float | None:
    if start is None or end is None:
        return None
    return float((end - start).total_seconds())  # type: ignore[operator]


class StoreCollector(Collector):
    """Collects the fleet's monitoring state from the store on every scrape."""

    def __init__(self, engine: Engine, *, max_columns_per_model: int) -> None:
        self.engine = engine
        self.cap = ColumnCap(max_columns_per_model)

    def describe(self) -> Iterable[Metric]:
        return ()  # nothing is read from the store when the collector is registered

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "monitor_store_up",
            "1 when this scrape read the store; 0: the store-read series are missing from it.",
        )
        try:
            with self.engine.connect() as connection:
                rows = [connection.execute(query).all() for query in _QUERIES]
        except SQLAlchemyError as error:
            log.warning("/metrics could not read the store: %s", type(error).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        results, states, last_runs, run_counts, quality, rollouts, deliveries, retraining = rows
        chosen = self.cap.choose(results)
        yield from _drift(results, states, chosen)
        yield from _runs(last_runs, run_counts)
        yield from _quality(quality)
        yield from _rollouts(rollouts)
        yield from _deliveries(deliveries)
        yield from _retraining(retraining)


def _drift(
    results: Sequence[Row[tuple[object, ...]]],
    states: Sequence[Row[tuple[object, ...]]],
    chosen: dict[str, set[str]],
) -> Iterator[Metric]:
    labels = ["model", "monitor", "column", "test"]
    statistic = GaugeMetricFamily(
        "monitor_drift_statistic", "The latest run's test statistic of a column.", labels=labels
    )
    effect_size = GaugeMetricFamily(
        "monitor_drift_effect_size",
        "The latest run's effect size of a column (what the threshold applies to).",
        labels=labels,
    )
    threshold = GaugeMetricFamily(
        "monitor_drift_threshold",
        "The effect-size threshold over which the column counts as drifted.",
        labels=labels,
    )
    drifted = GaugeMetricFamily(
        "monitor_drift_drifted", "1 when the latest run found the column drifted.", labels=labels
    )
    omitted: dict[str, set[str]] = defaultdict(set)
    for row in results:
        if row.column_name not in chosen.get(str(row.model), ()):
            omitted[str(row.model)].add(str(row.column_name))
            continue
        key = [str(row.model), str(row.monitor), str(row.column_name), str(row.test)]
        if row.statistic is not None:
            statistic.add_metric(key, float(row.statistic))  # type: ignore[arg-type]
        if row.effect_size is not None:
            effect_size.add_metric(key, float(row.effect_size))  # type: ignore[arg-type]
        if row.threshold is not None:
            threshold.add_metric(key, float(row.threshold))  # type: ignore[arg-type]
        drifted.add_metric(key, 1.0 if row.drifted else 0.0)
    state = GaugeMetricFamily(
        "monitor_drift_state",
        f"1 while the column's settled drift state (with hysteresis) is drifting; the column "
        f"'{ALERT}' is the monitor's alert, '__dataset__' the whole data set's verdict.",
        labels=["model", "monitor", "column"],
    )
    for row in states:
        column = str(row.column_name)
        if column.startswith("__") or column in chosen.get(str(row.model), ()):
            drifting = row.status == DriftStatus.DRIFTING
            state.add_metric([str(row.model), str(row.monitor), column], float(drifting))
    capped = GaugeMetricFamily(
        "monitor_drift_columns_omitted",
        "Columns of the model left out of the drift series by "
        "MONITOR_METRICS_MAX_COLUMNS_PER_MODEL.",
        labels=["model"],
    )
    for model in chosen:
        capped.add_metric([model], float(len(omitted.get(model, ()))))
    yield from (statistic, effect_size, threshold, drifted, state, capped)


def _runs(
    last_runs: Sequence[Row[tuple[object, ...]]], counts: Sequence[Row[tuple[object, ...]]]
) -> Iterator[Metric]:
    labels = ["model", "monitor"]
    duration = GaugeMetricFamily(
        "monitor_run_last_duration_seconds", "Wall time of the latest settled run.", labels=labels
    )
    window_end = GaugeMetricFamily(
        "monitor_run_last_window_end_timestamp_seconds",
        "End of the window the latest settled run judged (Unix time).",
        labels=labels,
    )
    mv_labels = ["model", "monitor", "method"]
    mv_statistic = GaugeMetricFamily(
        "monitor_multivariate_statistic",
        "The latest run's multivariate drift statistic (reconstruction error).",
        labels=mv_labels,
    )
    mv_threshold = GaugeMetricFamily(
        "monitor_multivariate_threshold", "Its threshold.", labels=mv_labels
    )
    mv_drifted = GaugeMetricFamily(
        "monitor_multivariate_drifted", "1 when it was over its threshold.", labels=mv_labels
    )
    for row in last_runs:
        key = [str(row.model), str(row.monitor)]
        seconds = _seconds(row.started_at, row.finished_at)
        if seconds is not None:
            duration.add_metric(key, seconds)
        window_end.add_metric(key, row.window_end.timestamp())  # type: ignore[attr-defined]
        if row.mv_method is None:
            continue
        mv_key = [*key, str(row.mv_method)]
        if row.mv_statistic is not None:
            mv_statistic.add_metric(mv_key, float(row.mv_statistic))  # type: ignore[arg-type]
        if row.mv_threshold is not None:
            mv_threshold.add_metric(mv_key, float(row.mv_threshold))  # type: ignore[arg-type]
        mv_drifted.add_metric(mv_key, 1.0 if row.mv_drifted else 0.0)
    total = CounterMetricFamily(
        "monitor_runs",
        "Monitor runs stored, by outcome (failed: the run crashed; retention may lower it).",
        labels=["model", "monitor", "status"],
    )
    for row in counts:
        total.add_metric([str(row.model), str(row.monitor), str(row.status)], float(row.runs))  # type: ignore[arg-type]
    yield from (duration, window_end, mv_statistic, mv_threshold, mv_drifted, total)


def _quality(rows: Sequence[Row[tuple[object, ...]]]) -> Iterator[Metric]:
    labels = ["model", "monitor", "metric"]
    realized = GaugeMetricFamily(
        "monitor_quality_realized",
        "The latest window's quality from the labels that have arrived.",
        labels=labels,
    )
    estimated = GaugeMetricFamily(
        "monitor_quality_estimated",
        "The latest window's quality estimated from the model's scores (no labels needed).",
        labels=labels,
    )
    coverage = GaugeMetricFamily(
        "monitor_quality_label_coverage_ratio",
        "Share of the latest window's records that have their label.",
        labels=labels,
    )
    state = GaugeMetricFamily(
        "monitor_quality_degraded",
        "1 while the monitor's settled quality state is degraded.",
        labels=["model", "monitor"],
    )
    stated: set[tuple[str, str]] = set()
    for row in rows:
        key = [str(row.model), str(row.monitor), str(row.metric)]
        if row.realized is not None:
            realized.add_metric(key, float(row.realized))  # type: ignore[arg-type]
        if row.estimated is not None:
            estimated.add_metric(key, float(row.estimated))  # type: ignore[arg-type]
        coverage.add_metric(key, float(row.label_coverage))  # type: ignore[arg-type]
        if (key[0], key[1]) not in stated:
            stated.add((key[0], key[1]))
            state.add_metric(key[:2], float(row.state == QualityStatus.DEGRADED))
    yield from (realized, estimated, coverage, state)


def _rollouts(rows: Sequence[Row[tuple[object, ...]]]) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "monitor_rollout_state",
        "The model's latest rollout: 1 for the state it is in, 0 for the others.",
        labels=["model", "state"],
    )
    weight = GaugeMetricFamily(
        "monitor_rollout_canary_weight_ratio",
        "Share of traffic the canary takes in the latest rollout (0 to 1).",
        labels=["model"],
    )
    failed = GaugeMetricFamily(
        "monitor_rollout_failed_checks",
        "Failed checks of the latest rollout, over all its steps.",
        labels=["model"],
    )
    for row in rows:
        model = str(row.model)
        for candidate in RolloutState:
            state.add_metric([model, candidate.value], float(row.state == candidate))
        weight.add_metric([model], float(row.weight) / 100)  # type: ignore[arg-type]
        failed.add_metric([model], float(row.failed_checks))  # type: ignore[arg-type]
    yield from (state, weight, failed)


def _deliveries(rows: Sequence[Row[tuple[object, ...]]]) -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "monitor_delivery_backlog", "Deliveries waiting to be sent.", labels=["channel"]
    )
    dead = GaugeMetricFamily(
        "monitor_delivery_dead_letters",
        "Deliveries given up on (refused, or out of retries); redeliver them by hand.",
        labels=["channel"],
    )
    attempts = CounterMetricFamily(
        "monitor_delivery_attempts",
        "Delivery attempts by outcome.",
        labels=["channel", "outcome"],
    )
    by_status: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        channel, value, n = str(row.channel), str(row.value), float(row.n)  # type: ignore[arg-type]
        if row.kind == "attempt":
            attempts.add_metric([channel, value], n)
        else:
            by_status[channel][value] = n
    for channel, counts in by_status.items():
        backlog.add_metric([channel], counts.get(DeliveryStatus.PENDING, 0.0))
        dead.add_metric([channel], counts.get(DeliveryStatus.DEAD, 0.0))
    yield from (backlog, dead, attempts)


def _retraining(rows: Sequence[Row[tuple[object, ...]]]) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "monitor_retraining_runs",
        "Retraining runs by outcome (queued and running ones included).",
        labels=["model", "status"],
    )
    for row in rows:
        runs.add_metric([str(row.model), str(row.status)], float(row.runs))  # type: ignore[arg-type]
    yield runs
