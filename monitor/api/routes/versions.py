"""A model's versions as monitoring sees them: every reference with the version it validates, and
the champion's history (the promotions the dashboard marks on its time charts)."""

from fastapi import APIRouter

from monitor.api.deps import ModelDep, ReadKey, SessionDep
from monitor.entities.champion import ChampionChangePublic, ChampionHistory
from monitor.entities.reference import ReferenceHistory
from monitor.services.references import reference_history
from monitor.versions.champion import champion_history

router = APIRouter(prefix="/api/v1/models/{model}", tags=["versions"], dependencies=[ReadKey])


@router.get("/references", summary="Every reference of the model, newest first")
def list_references(session: SessionDep, model: ModelDep) -> ReferenceHistory:
    return reference_history(session=session, model=model)


@router.get("/champions", summary="Which version was champion from when on, oldest first")
def list_champions(session: SessionDep, model: ModelDep) -> ChampionHistory:
    changes = champion_history(session, model.id)  # type: ignore[arg-type]
    data = [ChampionChangePublic.model_validate(change) for change in changes]
    return ChampionHistory(data=data, count=len(data))
