"""Domain entities: each module holds one table and the API shapes built on it."""

from monitor.entities.api_key import ApiKey
from monitor.entities.champion import ChampionChange
from monitor.entities.channel import Channel
from monitor.entities.delivery import Delivery
from monitor.entities.delivery_attempt import DeliveryAttempt
from monitor.entities.drift_state import DriftState
from monitor.entities.endpoint import ServingEndpoint
from monitor.entities.event import Event
from monitor.entities.inference import InferenceRecord
from monitor.entities.kserve_pair import ExpiredPairs, PendingPair
from monitor.entities.label import GroundTruthLabel
from monitor.entities.monitor import Monitor
from monitor.entities.quality import MultivariateResult, QualityResult, QualityState
from monitor.entities.reference import ReferenceChunk, ReferenceDataset
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.registry_webhook import RegistryWebhookSecret
from monitor.entities.retraining import (
    ModelLineage,
    RetrainingCursor,
    RetrainingPipeline,
    RetrainingRun,
)
from monitor.entities.rollout import Rollout, RolloutCheck, RolloutTransition, RoutingState
from monitor.entities.run import FeatureResult, MonitorRun, QualityCheck, RunReport
from monitor.entities.segment import InferenceSegment

__all__ = [
    "ApiKey",
    "ChampionChange",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "DriftState",
    "Event",
    "ExpiredPairs",
    "FeatureResult",
    "GroundTruthLabel",
    "InferenceRecord",
    "InferenceSegment",
    "ModelLineage",
    "Monitor",
    "MonitorRun",
    "MultivariateResult",
    "PendingPair",
    "QualityCheck",
    "QualityResult",
    "QualityState",
    "ReferenceChunk",
    "ReferenceDataset",
    "RegisteredModel",
    "RegistryWebhookSecret",
    "RetrainingCursor",
    "RetrainingPipeline",
    "RetrainingRun",
    "Rollout",
    "RolloutCheck",
    "RolloutTransition",
    "RoutingState",
    "RunReport",
    "ServingEndpoint",
]
