"""geo-risk: linked public-service data to school-readiness risk, hotspots and siting.

The data flows one way: boundaries + partner extracts -> pseudonymise -> link ->
features -> model -> flag -> aggregate -> hotspots -> maps / export / report / siting.
"""

from __future__ import annotations

__version__ = "0.1.0"

from geo_risk._errors import BoundaryError, CRSError, GeoRiskError, SchemaError
from geo_risk.boundaries import BoundaryFiles, load_boundaries

__all__ = [
    "BoundaryError",
    "BoundaryFiles",
    "CRSError",
    "GeoRiskError",
    "SchemaError",
    "__version__",
    "load_boundaries",
]
