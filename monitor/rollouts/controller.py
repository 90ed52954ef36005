"""The canary controller: on every tick, each active rollout whose shadow phase or step bake
has run its time moves on. A step is judged on its own traffic: it advances when no check
fails, bakes again when some fail (each failed check spends one of `max_failed_checks`; the
last one spent rolls back), and pauses as inconclusive when a variant served fewer than
`min_requests` even after baking on for `STARVED_BAKES` bake times (records can arrive late).
Passing the last step promotes. All state lives in the store, timers included, so a restarted
control plane (a new controller) carries on where the last one stopped."""

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.event import EventType
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import ACTIVE_STATES, Rollout, RolloutCheck, RolloutState
from monitor.rollouts.lifecycle import transition
from monitor.rollouts.promotion import PromotionFailed, promote
from monitor.rollouts.traffic import step_traffic
from monitor.settings import Settings
from monitor.store.types import utc_now
from triggers.canary.analysis import StepAnalysis, analyse_step

log = logging.getLogger(__name__)


STARVED_BAKES = 3  # a step short of min_requests bakes this many times over before pausing


def starved_step_deadline(rollout: Rollout) -> datetime:
    """When a step still short of `min_requests` pauses as inconclusive."""
    return rollout.step_started_at + timedelta(seconds=STARVED_BAKES * rollout.bake_seconds)


def step_label(rollout: Rollout) -> str:
    return f"step {rollout.step_index + 1} of {len(rollout.steps)} ({rollout.weight}%)"


class RolloutController:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def tick(self, now: datetime | None = None) -> None:
        """One pass over the active rollouts; `now` defaults to the clock (tests pass their
        own). A rollout that fails is logged and tried again on the next tick."""
        now = now or utc_now()
        with Session(self.engine) as session:
            active = session.exec(
                select(Rollout.id).where(col(Rollout.state).in_(ACTIVE_STATES))
            ).all()
        for rollout_id in active:
            try:
                self.advance(rollout_id, now)  # type: ignore[arg-type]
            except Exception:
                log.exception("rollout %s: the controller failed; retrying next tick", rollout_id)

    def advance(self, rollout_id: int, now: datetime) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            rollout = session.get(Rollout, rollout_id, with_for_update=True)
            if rollout is None or rollout.state not in (
                RolloutState.SHADOWING,
                RolloutState.PROGRESSING,
            ):
                return
            model = session.get_one(RegisteredModel, rollout.model_id)
            if rollout.state == RolloutState.SHADOWING:
                if now >= rollout.step_started_at + timedelta(seconds=rollout.shadow_seconds):
                    self._start_step(session, rollout, model, 0, now, "the shadow phase ended")
                    session.commit()
                return
            if now < rollout.step_started_at + timedelta(seconds=rollout.bake_seconds):
                return
            stable, canary = step_traffic(session, rollout, model, now)
            analysis = analyse_step(
                stable,
                canary,
                rollout.limits,
                min_requests=rollout.min_requests,
                task=str(model.task),
                class_labels=model.class_labels or (),
            )
            if analysis.starved is not None and now < starved_step_deadline(rollout):
                # Records can lag the traffic (a sidecar replaying its spool after an outage):
                # a step short of requests bakes on, unjudged, before anyone is asked to look.
                waiting = f"baking on at {step_label(rollout)}: {analysis.starved}"
                if rollout.reason != waiting:
                    rollout.reason = waiting
                    session.add(rollout)
                    session.commit()
                return
            checks = [
                RolloutCheck(
                    rollout_id=rollout_id,
                    time=now,
                    step_index=rollout.step_index,
                    weight=rollout.weight,
                    **asdict(check),
                )
                for check in analysis.checks
            ]
            try:
                # Before the checks are written: promotion calls MLflow, and no store write
                # lock should be held meanwhile.
                self._decide(session, rollout, model, analysis, now)
            except PromotionFailed as error:
                log.error("rollout %s: %s; trying again next tick", rollout_id, error)
                session.rollback()
                self._note(rollout_id, f"{error}; trying again every tick")
                return
            session.add_all(checks)
            session.commit()

    def _note(self, rollout_id: int, reason: str) -> None:
        """Show why the rollout is stuck in its reason (no state change: no transition)."""
        with Session(self.engine) as session:
            rollout = session.get_one(Rollout, rollout_id, with_for_update=True)
            if rollout.reason != reason:
                rollout.reason = reason
                session.add(rollout)
                session.commit()

    def _decide(
        self,
        session: Session,
        rollout: Rollout,
        model: RegisteredModel,
        analysis: StepAnalysis,
        now: datetime,
    ) -> None:
        step = step_label(rollout)
        if analysis.starved is not None:
            transition(
                session,
                rollout,
                model,
                state=RolloutState.PAUSED,
                weight=rollout.weight,
                reason=f"inconclusive at {step}: {analysis.starved}; resume to bake it again",
                now=now,
                event=EventType.ROLLOUT_PAUSED,
            )
            return
        if analysis.failed:
            rollout.failed_checks += len(analysis.failed)
            failures = "; ".join(f"{c.name.value}: {c.detail}" for c in analysis.failed)
            budget = f"{rollout.failed_checks} of {rollout.max_failed_checks} failed checks spent"
            if rollout.failed_checks >= rollout.max_failed_checks:
                transition(
                    session,
                    rollout,
                    model,
                    state=RolloutState.ROLLED_BACK,
                    weight=0,
                    reason=f"rolled back at {step} ({budget}): {failures}",
                    now=now,
                    event=EventType.ROLLOUT_ROLLED_BACK,
                )
                return
            rollout.step_started_at = now
            transition(
                session,
                rollout,
                model,
                state=RolloutState.PROGRESSING,
                weight=rollout.weight,
                reason=f"{step} failed ({budget}), baking it again: {failures}",
                now=now,
                event=None,
            )
            return
        if rollout.step_index + 1 < len(rollout.steps):
            self._start_step(session, rollout, model, rollout.step_index + 1, now, f"{step} passed")
            return
        promote(
            session,
            self.settings,
            rollout,
            model,
            now=now,
            reason=f"promoted: every step passed, the last at {rollout.weight}%",
        )

    @staticmethod
    def _start_step(
        session: Session,
        rollout: Rollout,
        model: RegisteredModel,
        index: int,
        now: datetime,
        why: str,
    ) -> None:
        rollout.step_index = index
        rollout.step_started_at = now
        transition(
            session,
            rollout,
            model,
            state=RolloutState.PROGRESSING,
            weight=rollout.steps[index],
            reason=f"{why}; canary at {rollout.steps[index]}%",
            now=now,
            event=EventType.ROLLOUT_STEP,
        )


def rollout_tick(engine: Engine, settings: Settings) -> None:
    """The scheduler's housekeeping entry."""
    RolloutController(engine, settings).tick()
