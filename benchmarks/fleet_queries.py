"""The SQL behind the overview, events and runs pages at fleet size, timed with EXPLAIN ANALYZE
on PostgreSQL: 1,000 models x 24 features, a week of hourly runs (168,000), 40,000 events.

Calls the same services the API routes call, for the pages a user opens (first and last page
of each list, one model's runs), records every statement they send, then runs each again under
`EXPLAIN (ANALYZE, BUFFERS)` and prints them slowest first, with the slowest one's plan.

    .venv/bin/python -m benchmarks.fleet_queries [--postgres postgresql://postgres@127.0.0.1:5432]

Seeds the fleet template database once (tests/dashboard/fleet.py; later runs clone it) and
works on a throwaway copy. Not part of the test suite.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, text
from sqlmodel import Session

from monitor.services import events, models, monitors, overview, runs
from monitor.store.engine import make_engine
from monitor.store.types import utc_now
from tests.dashboard.fleet import HOURS, MODELS, fleet_database, model_name

PAGE = 20


@dataclass
class Recorder:
    """Every statement an engine sends while recording, with its parameters."""

    page: str = ""
    statements: list[tuple[str, str, Any]] = field(default_factory=list)

    def attach(self, engine: Engine) -> None:
        def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                self.statements.append((self.page, statement, parameters))

        event.listen(engine, "before_cursor_execute", record)


def pages(session: Session) -> dict[str, Callable[[], object]]:
    """What each page asks the API for, by the services the routes call."""
    model = models.get_model(session=session, name=model_name(MODELS // 2))
    monitor = monitors.get_monitor(session=session, model=model, name="drift")
    now = utc_now()
    return {
        "overview, first page": lambda: overview.model_overview(
            session=session, now=now, hours=24, offset=0, limit=PAGE
        ),
        "overview, last page": lambda: overview.model_overview(
            session=session, now=now, hours=24, offset=MODELS - PAGE, limit=PAGE
        ),
        "events, first page": lambda: events.list_events(session=session, offset=0, limit=PAGE),
        "events, page 100": lambda: events.list_events(
            session=session, offset=99 * PAGE, limit=PAGE
        ),
        "events of one model": lambda: events.list_events(
            session=session, model=model.name, offset=0, limit=PAGE
        ),
        "runs, first page": lambda: runs.list_runs(
            session=session, model=model, monitor=monitor, offset=0, limit=PAGE
        ),
        "runs, last page": lambda: runs.list_runs(
            session=session, model=model, monitor=monitor, offset=HOURS - PAGE, limit=PAGE
        ),
    }


def explain(engine: Engine, statement: str, parameters: Any) -> tuple[float, str]:
    """The statement's execution time in ms (EXPLAIN ANALYZE) and its plan."""
    with engine.connect() as connection:
        cursor = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {statement}", parameters
        )
        plan = "\n".join(row[0] for row in cursor)
    execution = next(line for line in plan.splitlines() if line.startswith("Execution Time"))
    return float(execution.split(":")[1].split()[0]), plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with fleet_database(args.postgres) as url:
        engine = make_engine(url)
        with engine.connect() as connection:
            counts = connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM registered_model), "
                    "(SELECT count(*) FROM monitor_run), (SELECT count(*) FROM event)"
                )
            ).one()
        print(f"{counts[0]:,} models, {counts[1]:,} runs, {counts[2]:,} events")
        recorder = Recorder()
        with Session(engine) as session:
            calls = pages(session)
            recorder.attach(engine)
            for name, call in calls.items():
                recorder.page = name
                call()
        timed = sorted(
            (
                (*explain(engine, statement, parameters), page, statement)
                for page, statement, parameters in recorder.statements
            ),
            key=lambda row: row[0],
            reverse=True,
        )
        for ms, _, page, statement in timed:
            print(f"{ms:8.2f} ms  {page:<22} {' '.join(statement.split())[:110]}")
        slowest_ms, plan, page, statement = timed[0]
        print(f"\nslowest: {slowest_ms:.2f} ms ({page})\n{' '.join(statement.split())}\n{plan}")
        engine.dispose()


if __name__ == "__main__":
    main()
