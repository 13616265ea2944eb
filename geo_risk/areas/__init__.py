"""Households to areas: aggregation under disclosure control, the risk of each area at each
refresh, and where risk concentrates (Moran's I, LISA, Gi*, emerging hot spots, areas of
concern).
"""

from geo_risk.areas.disclosure import (
    COUNT_COLUMNS,
    LEVELS,
    Disclosure,
    aggregate_areas,
    disclose,
)
from geo_risk.areas.hotspots import (
    EHSA_BEYOND,
    EHSA_CATEGORIES,
    EHSA_RISK,
    EMERGING,
    STABILITY_DRAWS,
    STABLE,
    Weights,
    areas_of_concern,
    bagged_categories,
    benjamini_hochberg,
    beyond_deprivation,
    build_weights,
    classify_emerging,
    concern_outlines,
    emerging_hotspots,
    getis_ord_star,
    global_moran,
    local_moran,
    mann_kendall,
    sen_change,
)

__all__ = [
    "COUNT_COLUMNS",
    "EHSA_BEYOND",
    "EHSA_CATEGORIES",
    "EHSA_RISK",
    "EMERGING",
    "LEVELS",
    "STABILITY_DRAWS",
    "STABLE",
    "Disclosure",
    "Weights",
    "aggregate_areas",
    "areas_of_concern",
    "bagged_categories",
    "benjamini_hochberg",
    "beyond_deprivation",
    "build_weights",
    "classify_emerging",
    "concern_outlines",
    "disclose",
    "emerging_hotspots",
    "getis_ord_star",
    "global_moran",
    "local_moran",
    "mann_kendall",
    "sen_change",
]
