"""The champion's history: which version served as champion (stable) from when on. Promotions
write it, the registry reconciler writes what it sees moved in MLflow, and the first stable
endpoint that names its version starts it."""

from datetime import datetime

from sqlmodel import Session, col, select

from monitor.entities.champion import ChampionChange, ChampionSource
from monitor.entities.registered_model import RegisteredModel
from monitor.windows.reader import VersionScope


def latest_change(session: Session, model_id: int) -> ChampionChange | None:
    return session.exec(
        select(ChampionChange)
        .where(ChampionChange.model_id == model_id)
        .order_by(col(ChampionChange.since).desc(), col(ChampionChange.id).desc())
    ).first()


def current_champion(*, session: Session, model: RegisteredModel) -> str | None:
    """The version that is champion now; None where the control plane knows none."""
    assert model.id is not None
    change = latest_change(session, model.id)
    return change.model_version if change else None


def champion_at(session: Session, model_id: int, moment: datetime) -> str | None:
    """The version that was champion just before `moment` (a window's end is not in it); before
    the first change the control plane saw, the first champion it knows (it served before it
    was noticed); None where it knows none."""
    changes = select(ChampionChange).where(ChampionChange.model_id == model_id)
    change = (
        session.exec(
            changes.where(ChampionChange.since < moment).order_by(
                col(ChampionChange.since).desc(), col(ChampionChange.id).desc()
            )
        ).first()
        or session.exec(changes.order_by(col(ChampionChange.since), col(ChampionChange.id))).first()
    )
    return change.model_version if change else None


def record_champion(
    session: Session,
    model: RegisteredModel,
    version: str,
    *,
    since: datetime,
    source: ChampionSource,
    rollout_id: int | None = None,
) -> ChampionChange | None:
    """Note `version` as champion from `since` on, in the caller's transaction; nothing when it
    already is (returns None then)."""
    assert model.id is not None
    current = latest_change(session, model.id)
    if current is not None and current.model_version == version:
        return None
    change = ChampionChange(
        model_id=model.id,
        model_version=version,
        previous_version=current.model_version if current else None,
        since=since,
        source=source,
        rollout_id=rollout_id,
    )
    session.add(change)
    return change


def champion_history(session: Session, model_id: int) -> list[ChampionChange]:
    """Every change, oldest first."""
    return list(
        session.exec(
            select(ChampionChange)
            .where(ChampionChange.model_id == model_id)
            .order_by(col(ChampionChange.since), col(ChampionChange.id))
        ).all()
    )


def judged_scope(
    session: Session, model_id: int, pinned: str | None, window_end: datetime
) -> VersionScope:
    """The records a monitor's window judges: the pinned version's, or the stable traffic of the
    version that was champion at the window's end."""
    if pinned is not None:
        return VersionScope.judged(pinned, pinned=True)
    return VersionScope(champion_at(session, model_id, window_end))
