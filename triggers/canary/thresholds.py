"""What a canary check is called, what it can conclude, and how much worse than stable the
canary may be: the vocabulary a rollout stores, apart from the analysis and its numerical stack."""

from dataclasses import dataclass
from enum import StrEnum

from detectors.validation import check_float, check_int


class CheckName(StrEnum):
    ERROR_RATE = "error_rate"
    LATENCY_P99 = "latency_p99"
    PREDICTION_PSI = "prediction_psi"
    ACCURACY = "accuracy"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"  # too little data to judge; never spends the failure budget


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How much worse than stable the canary may be. Error rate: an increase in absolute
    points (0.02 = two percentage points); latency: a ratio of the p99s; prediction PSI: the
    canary's outputs against the stable's; accuracy: an absolute drop, judged only once both
    variants have `min_labels` labelled requests."""

    max_error_rate_increase: float = 0.02
    max_p99_latency_ratio: float = 1.5
    max_prediction_psi: float = 0.2
    max_accuracy_drop: float = 0.05
    min_labels: int = 30

    def __post_init__(self) -> None:
        check_float("max_error_rate_increase", self.max_error_rate_increase, 0, 1, open_low=False)
        check_float("max_p99_latency_ratio", self.max_p99_latency_ratio, 1, 1000, open_low=False)
        check_float("max_prediction_psi", self.max_prediction_psi, 0, 100, open_low=True)
        check_float("max_accuracy_drop", self.max_accuracy_drop, 0, 1, open_low=False)
        check_int("min_labels", self.min_labels, 1, 1_000_000)
