"""The statistical drift tests, one module each; :mod:`detectors.registry` names them."""

from detectors.stattests.base import StatTest
from detectors.stattests.chi_squared import ChiSquared
from detectors.stattests.jensen_shannon import JensenShannon
from detectors.stattests.ks import KolmogorovSmirnov
from detectors.stattests.psi import PopulationStabilityIndex
from detectors.stattests.wasserstein import Wasserstein

__all__ = [
    "ChiSquared",
    "JensenShannon",
    "KolmogorovSmirnov",
    "PopulationStabilityIndex",
    "StatTest",
    "Wasserstein",
]
