"""A store at fleet size on PostgreSQL: 1,000 models of 24 features, each with an hourly monitor
and a week of runs (168,000 runs), drift states and 40,000 events. The newest day of windows
has a result per column (600,000 rows: what the model page's heat map reads); older runs keep
their counts only, which is all the overview, events and runs pages read of them (a result per
column of the whole week, 4.2 million rows, would take minutes to seed on a small CI machine).

Seeded set-based inside the server (INSERT ... SELECT over generate_series: nothing crosses the
wire, faster than COPY from here) into a template database named after the schema's head and
this file, so a later session on the same server clones it (CREATE DATABASE ... TEMPLATE, a
file copy) instead of seeding again. The template is built under a scratch name and renamed
when complete: a seed that dies leaves no half template behind."""

import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlmodel import Session

from monitor.entities.drift_state import ALERT
from monitor.entities.monitor import MonitorCreate
from monitor.entities.registered_model import RegisteredModelCreate
from monitor.services import models, monitors
from monitor.store.engine import make_engine
from monitor.store.migrations import alembic_config, upgrade_to_head

MODELS = 1_000
FEATURES = [f"f{i:02d}" for i in range(24)]
HOURS = 168  # a week of hourly windows
RESULT_HOURS = 24  # the newest windows with a result per column
EVENTS_PER_MODEL = 40
# The week ends at a fixed hour, so a cloned template reads the same whenever it was built.
WEEK_END = datetime(2026, 12, 1, tzinfo=UTC)


def model_name(index: int) -> str:
    return f"fleet-{index:04d}"


def _template_name() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    digest = hashlib.sha256(Path(__file__).read_bytes() + ",".join(sorted(heads)).encode())
    return f"monitor_fleet_{digest.hexdigest()[:12]}"


def _first_model(url: str) -> None:
    """The first model and its monitor through the services, so their stored JSON is exactly
    what the API writes; the other 999 are copies of these rows."""
    engine = make_engine(url)
    with Session(engine) as session:
        features = [{"name": name, "kind": "numerical"} for name in FEATURES]
        model = models.register_model(
            session=session,
            model_in=RegisteredModelCreate(
                name=model_name(0), task="regression", features=features
            ),
        )
        monitors.create_monitor(
            session=session, model=model, monitor_in=MonitorCreate(window={"duration": "1h"})
        )
    engine.dispose()


SEED = [
    # 999 more models and their monitors, copied from the first.
    """INSERT INTO registered_model (name, task, description, features, class_labels,
           created_at, updated_at)
       SELECT 'fleet-' || lpad(i::text, 4, '0'), task, description, features, class_labels,
              created_at, updated_at
       FROM registered_model, generate_series(1, %(models)s - 1) AS i""",
    """INSERT INTO monitor (model_id, name, config, enabled, created_at, updated_at)
       SELECT m.id, first.name, first.config, first.enabled, first.created_at, first.updated_at
       FROM registered_model m, (SELECT * FROM monitor ORDER BY id LIMIT 1) AS first
       WHERE m.id <> first.model_id""",
    # A week of hourly runs per monitor; a few drifted columns now and then.
    """INSERT INTO monitor_run (monitor_id, model_id, status, trigger, window_start, window_end,
           missed_ticks, rows, drifted_features, tested_features, dataset_drifted,
           quality_failed, load_seconds, compute_seconds, started_at, finished_at,
           heartbeat_at)
       SELECT m.id, m.model_id, 'succeeded', 'schedule', t - interval '1 hour', t, 0, 2000,
              d, %(columns)s, d > 2, false, 0.02, 0.03, t, t, t
       FROM monitor m,
            generate_series(%(end)s - (%(hours)s - 1) * interval '1 hour', %(end)s,
                            interval '1 hour') AS t,
            LATERAL (SELECT ((m.id * 7 + extract(epoch FROM t)::bigint / 3600) %% 23 = 0)::int
                            * 3 AS d) AS drift""",
    # A result per column of every run.
    """INSERT INTO feature_result (run_id, monitor_id, window_end, feature, role, test, method,
           statistic, effect_size, p_value, adjusted_p_value, threshold, p_value_threshold,
           drifted, n_ref, n_cur, new_categories)
       SELECT r.id, r.monitor_id, r.window_end, c.name,
              CASE WHEN c.name = 'prediction' THEN 'prediction' ELSE 'feature' END,
              'ks', 'grid', e.effect, e.effect, 0.01, 0.02, 0.1, 0.05, e.effect > 0.1,
              2000, 2000, '[]'
       FROM monitor_run r,
            unnest(%(names)s::text[]) AS c(name),
            LATERAL (SELECT (hashtext(r.id || c.name) & 1023) / 8192.0 AS effect) AS e
       WHERE r.window_end > %(end)s - %(result_hours)s * interval '1 hour'""",
    # The monitor's alert state and every column's state.
    """INSERT INTO drift_state (monitor_id, model_id, feature, status, drifted_streak,
           clean_streak, since, updated_at)
       SELECT m.id, m.model_id, c.name,
              CASE WHEN m.model_id %% 7 = 0 THEN 'drifting' ELSE 'ok' END, 0, 0,
              %(end)s, %(end)s
       FROM monitor m, unnest(%(states)s::text[]) AS c(name)""",
    # Drift onsets, resolutions and failed runs over the week.
    """INSERT INTO event (uid, type, time, model_id, model, monitor_id, severity, data,
           fanned_out_at)
       SELECT 'evt_fleet' || m.id || '_' || k,
              (ARRAY['drift.detected', 'drift.resolved', 'run.failed'])[k %% 3 + 1],
              %(end)s - (k * 4 + m.id %% 4) * interval '1 hour' - m.id * interval '1 second',
              m.id, m.name, mon.id,
              (ARRAY['warning', 'info', 'error'])[k %% 3 + 1],
              jsonb_build_object('monitor', mon.name, 'features', jsonb_build_array('f00')),
              %(end)s
       FROM registered_model m JOIN monitor mon ON mon.model_id = m.id,
            generate_series(0, %(events)s - 1) AS k""",
]


def _seed(url: str) -> None:
    upgrade_to_head(url)
    _first_model(url)
    parameters = {
        "models": MODELS,
        "columns": len(FEATURES) + 1,
        "end": WEEK_END,
        "hours": HOURS,
        "result_hours": RESULT_HOURS,
        "names": [*FEATURES, "prediction"],
        "states": [ALERT, *FEATURES, "prediction"],
        "events": EVENTS_PER_MODEL,
    }
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute("SET synchronous_commit = off")  # a test seed, rebuilt if lost
        for statement in SEED:
            connection.execute(statement, parameters)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def ensure_template(server: str) -> str:
    """The fleet template's name on `server` (`postgresql://user@host:port`), built if absent."""
    name = _template_name()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return name
        scratch = f"{name}_{uuid.uuid4().hex[:6]}"
        admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            started = time.perf_counter()
            _seed(f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{scratch}")
            print(f"seeded the fleet template in {time.perf_counter() - started:.1f} s")
            admin.execute(f'ALTER DATABASE "{scratch}" RENAME TO "{name}"')
        except psycopg.errors.DuplicateDatabase:
            pass  # another session built it meanwhile: theirs is as good
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    return name


@contextmanager
def fleet_database(server: str) -> Iterator[str]:
    """A throwaway copy of the fleet template; yields its SQLAlchemy URL."""
    template = ensure_template(server)
    name = f"monitor_fleet_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
