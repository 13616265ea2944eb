"""Households to areas: aggregation under disclosure control, the risk of each area at each
refresh, and where risk concentrates (Moran's I, LISA, Gi*, emerging hot spots, areas of
concern).
"""

from geo_risk.areas.analysis import (
    FoundHotspots,
    find_hotspots,
)
from geo_risk.areas.disclosure import (
    COUNT_COLUMNS,
    LEVELS,
    OWN_VALUE_FIELDS,
    SAFE,
    Disclosure,
    aggregate_areas,
    disclose,
    disclose_hotspots,
    published_summary,
)
from geo_risk.areas.hotspots import (
    EHSA_BEYOND,
    EHSA_CATEGORIES,
    EHSA_RISK,
    EMERGING,
    MIN_REFRESHES,
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
from geo_risk.areas.refresh import (
    RefreshRisk,
    risk_by_refresh,
)

__all__ = [
    "COUNT_COLUMNS",
    "EHSA_BEYOND",
    "EHSA_CATEGORIES",
    "EHSA_RISK",
    "EMERGING",
    "LEVELS",
    "MIN_REFRESHES",
    "OWN_VALUE_FIELDS",
    "SAFE",
    "STABILITY_DRAWS",
    "STABLE",
    "Disclosure",
    "FoundHotspots",
    "RefreshRisk",
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
    "disclose_hotspots",
    "emerging_hotspots",
    "find_hotspots",
    "getis_ord_star",
    "global_moran",
    "local_moran",
    "mann_kendall",
    "published_summary",
    "risk_by_refresh",
    "sen_change",
]
