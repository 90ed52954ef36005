"""The traffic split for a model's sidecars.

Until canary rollouts exist every model has a single stable variant taking all traffic,
served by the sidecar's configured upstream.
"""

from monitor.entities.registered_model import RegisteredModel
from monitor.entities.routing import Routing, RoutingVariant


def current_routing(*, model: RegisteredModel) -> Routing:
    return Routing(
        revision=1,
        variants=[RoutingVariant(name="stable", model_version=None, endpoint=None, weight=100)],
    )
