"""geo-risk: linked public-service data to school-readiness risk, hotspots and siting.

The data flows one way: boundaries + partner extracts -> pseudonymise -> link ->
features -> model -> flag -> aggregate -> hotspots -> maps / export / report / siting.

``BoundaryFiles`` and ``load_boundaries`` are imported when first used, so a partner
pseudonymising an extract does not load the geospatial stack.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

# OpenMP threads that wait for work sleep rather than spin. Boosting stumps meets a
# barrier every few milliseconds, and beside another busy process (a second run) spinning
# threads took the cores from working ones: the default world's model stage took 98.7 s
# beside a process fitting the same model, and 13.8 s with waiting threads asleep; alone,
# 8.8 s against 9.2 s (medians of 3, python scripts/bench_model.py [--beside]). Set before
# scikit-learn loads its OpenMP runtime; a value already set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
        from geo_risk.geography import boundaries

        return getattr(boundaries, name)
    raise AttributeError(f"module 'geo_risk' has no attribute {name!r}")
