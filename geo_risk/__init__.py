"""geo-risk: linked public-service data to school-readiness risk, hotspots and siting.

The data flows one way: boundaries + partner extracts -> pseudonymise -> link ->
features -> model -> flag -> aggregate -> hotspots -> maps / export / report / siting.

``BoundaryFiles`` and ``load_boundaries`` are imported when first used, so a partner
pseudonymising an extract does not load the geospatial stack.
"""

from __future__ import annotations

__version__ = "0.1.0"

from geo_risk._errors import BoundaryError, CRSError, GeoRiskError, SchemaError

__all__ = [
    "BoundaryError",
    "BoundaryFiles",
    "CRSError",
    "GeoRiskError",
    "SchemaError",
    "__version__",
    "load_boundaries",
]


def __getattr__(name: str):
    if name in {"BoundaryFiles", "load_boundaries"}:
        from geo_risk import boundaries

        return getattr(boundaries, name)
    raise AttributeError(f"module 'geo_risk' has no attribute {name!r}")
