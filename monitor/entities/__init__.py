"""Domain entities: each module holds one table and the API shapes built on it."""

from monitor.entities.api_key import ApiKey
from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.entities.reference import ReferenceChunk, ReferenceDataset
from monitor.entities.registered_model import RegisteredModel

__all__ = [
    "ApiKey",
    "GroundTruthLabel",
    "InferenceRecord",
    "ReferenceChunk",
    "ReferenceDataset",
    "RegisteredModel",
]
