"""Where to site services: coverage models (PySAL ``spopt``) on the predicted demand.
"""

from geo_risk import _pysal  # noqa: F401  (first: libpysal, esda, mapclassify without numba)
from geo_risk.siting.plan import (
    Covering,
    Demand,
    SitingOutputs,
    SitingResult,
    SitingSettings,
    baselines,
    demand_points,
    distance_matrix,
    plan_sites,
    read_sites,
    site_services,
    site_table,
    weighted_demand,
)

__all__ = [
    "Covering",
    "Demand",
    "SitingOutputs",
    "SitingResult",
    "SitingSettings",
    "baselines",
    "demand_points",
    "distance_matrix",
    "plan_sites",
    "read_sites",
    "site_services",
    "site_table",
    "weighted_demand",
]
