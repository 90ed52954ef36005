"""Canary analysis: pure checks of a candidate variant against the stable one, per rollout step.

:mod:`triggers.canary.thresholds` holds the checks' names, outcomes and thresholds (what a
rollout stores), :mod:`triggers.canary.analysis` the checks themselves and
:mod:`triggers.canary.labels` the labelled requests' count of right predictions. The package
imports none of them, so reading a rollout's thresholds does not load the numerical stack."""
