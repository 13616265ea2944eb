"""Where a run is: the census vintage of its output areas, the boundary files and their
lookup, and the embedded synthetic town (package data).
"""

from geo_risk.geography.boundaries import (
    DEFAULT_BOUNDARIES,
    BoundaryFiles,
    coverage_problems,
    dissolve_areas,
    load_boundaries,
    load_geography,
    read_reference_csv,
)
from geo_risk.geography.vintage import (
    DEPRIVATION_EDITIONS,
    MEASURES,
    VINTAGE_2011,
    Vintage,
    read_code_columns,
)

__all__ = [
    "DEFAULT_BOUNDARIES",
    "DEPRIVATION_EDITIONS",
    "MEASURES",
    "VINTAGE_2011",
    "BoundaryFiles",
    "Vintage",
    "coverage_problems",
    "dissolve_areas",
    "load_boundaries",
    "load_geography",
    "read_code_columns",
    "read_reference_csv",
]
