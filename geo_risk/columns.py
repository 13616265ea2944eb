"""Column names shared by every stage, in one place.

Area codes are ONS GSS codes under the names of the vintage in use: 2011 output areas
and LSOAs, 2013 electoral wards (the vintage of the Basildon reference data and of the
embedded synthetic town). A run uses one vintage throughout.
"""

from __future__ import annotations

OA = "oa11cd"
LSOA = "lsoa11cd"
LSOA_NAME = "lsoa11nm"
WARD = "wd13cd"
WARD_NAME = "wd13nm"
LAD = "lad11cd"
LAD_NAME = "lad11nm"

#: Area columns in nesting order, as they appear in the lookup table.
LOOKUP_COLUMNS = [OA, LSOA, LSOA_NAME, WARD, WARD_NAME, LAD, LAD_NAME]

#: Index of Multiple Deprivation rank of the area's LSOA (1 = most deprived in England).
IMD_RANK = "imd_rank"
IMD_DECILE = "imd_decile"
#: Deprivation as a share in [0, 1]: 1 = most deprived LSOA in England, 0 = least.
DEPRIVATION = "deprivation"

#: Number of LSOAs in England in the 2011 geography (the denominator of IMD ranks).
ENGLAND_LSOAS = 32_844

#: British National Grid, for every distance and area.
BNG = "EPSG:27700"
