"""Column names shared by every stage, in one place.

Area columns have vintage-free names inside geo-risk; what a run publishes names them as
the ONS does for the vintage it was given (``oa11cd``, ``wd25nm``: see
:mod:`geo_risk.geography.vintage`). A run uses one vintage throughout.
"""

from __future__ import annotations

OA = "oa_code"
LSOA = "lsoa_code"
LSOA_NAME = "lsoa_name"
WARD = "ward_code"
WARD_NAME = "ward_name"
LAD = "lad_code"
LAD_NAME = "lad_name"

#: Area columns in nesting order, as they appear in the lookup table.
LOOKUP_COLUMNS = [OA, LSOA, LSOA_NAME, WARD, WARD_NAME, LAD, LAD_NAME]

#: Rank of the area's LSOA on the run's deprivation measure (1 = most deprived in
#: England) and its decile (1 = most deprived tenth).
DEPRIVATION_RANK = "deprivation_rank"
DEPRIVATION_DECILE = "deprivation_decile"
#: Deprivation as a share in [0, 1]: 1 = most deprived LSOA in England, 0 = least.
DEPRIVATION = "deprivation"

#: British National Grid, for every distance and area.
BNG = "EPSG:27700"

#: The pseudonymised household key every stage joins on (a keyed hash of the UPRN).
HOUSEHOLD = "household_key"
