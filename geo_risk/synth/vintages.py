"""A geography written as the files a GIS team gets from the ONS and MHCLG, in either
census vintage.

No real 2021 boundaries are available here, so the embedded town is also written as
2021 geography: :func:`as_2021` gives its areas 2021-style codes in a range ONS has not
issued (``E00970001``..., wards ``E05970001``...) and IoD 2025 ranks (the same shares of
England's 33,755 LSOAs as its IMD 2019 ranks are of 32,844); :func:`write_geography` writes
OA polygons, the ward lookup (by OA, or by LSOA as ONS's best-fit lookups come, the OA
file then carrying ``LSOA21CD``) and the deprivation CSV, as published (IoD File 7
headers) or in the short form (``LSOA11CD, IMD_rank, IMD_decile``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.geography import DEPRIVATION_EDITIONS, VINTAGE_2011, BoundaryFiles, Vintage

__all__ = ["IDACI_RANK", "as_2021", "write_geography"]

#: Optional column of ``oas`` with an IDACI rank (else the IMD rank is written for both).
IDACI_RANK = "idaci_rank"

_MEASURE_NAMES = {"imd": "Index of Multiple Deprivation (IMD)",
                  "idaci": "Income Deprivation Affecting Children Index (IDACI)"}


def as_2021(oas: gpd.GeoDataFrame, *, ward_year: int = 2025) -> tuple[gpd.GeoDataFrame,
                                                                      Vintage]:
    """The embedded town's 2011 areas relabelled as 2021 geography (same polygons, same
    nesting; codes moved from the ``...900...`` to the ``...970...`` range; ranks
    rescaled to IoD 2025's 33,755 LSOAs) and its vintage."""
    out = oas.copy()
    out.index = out.index.str.replace(r"^(E\d\d)90", r"\g<1>97", regex=True)
    for column in [C.LSOA, C.WARD, C.LAD]:
        out[column] = out[column].str.replace(r"^(E\d\d)90", r"\g<1>97", regex=True)
    old, new = DEPRIVATION_EDITIONS[2011][1], DEPRIVATION_EDITIONS[2021][1]
    for column in [C.DEPRIVATION_RANK, IDACI_RANK]:
        if column in out:
            out[column] = np.round(1 + (out[column] - 1) * (new - 1) / (old - 1)).astype(int)
    vintage = Vintage(census=2021, ward=ward_year, lad=ward_year, deprivation="IoD 2025")
    return out, vintage


def write_geography(oas: gpd.GeoDataFrame, folder: Path, vintage: Vintage = VINTAGE_2011,
                    *, ward_level: str = "oa", published: bool = False) -> BoundaryFiles:
    """Write ``oas`` (indexed by OA code, with the lookup columns and optionally
    ``deprivation_rank``, ``deprivation_decile`` and ``idaci_rank``) into ``folder`` as
    ``oa.gpkg``, ``ward_lookup.csv`` and ``deprivation.csv``, headed for ``vintage``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = {k: v.upper() for k, v in vintage.fields.items()}
    oa_columns = [C.OA] + ([C.LSOA, C.LSOA_NAME] if ward_level == "lsoa" else [])
    layer = oas.reset_index()[[*oa_columns, "geometry"]].rename(columns=names)
    files = BoundaryFiles(folder / "oa.gpkg", folder / "ward_lookup.csv")
    files.oa.unlink(missing_ok=True)
    layer.to_file(files.oa, engine="pyogrio")

    lookup = oas.reset_index()[[c for c in C.LOOKUP_COLUMNS if c in oas.reset_index()]]
    if ward_level == "lsoa":
        lookup = lookup.drop(columns=[C.OA, C.LSOA_NAME]).drop_duplicates()
    lookup.rename(columns=names).to_csv(files.lookup, index=False)

    if C.DEPRIVATION_RANK not in oas:
        return files
    by_lsoa = oas.drop_duplicates(C.LSOA).set_index(C.LSOA).sort_index()
    england = DEPRIVATION_EDITIONS[vintage.census][1]
    ranks = {"imd": by_lsoa[C.DEPRIVATION_RANK],
             "idaci": by_lsoa[IDACI_RANK] if IDACI_RANK in by_lsoa else
             by_lsoa[C.DEPRIVATION_RANK]}
    deciles = {m: np.ceil(r / england * 10).astype(int) for m, r in ranks.items()}
    if C.DEPRIVATION_DECILE in by_lsoa:
        deciles["imd"] = by_lsoa[C.DEPRIVATION_DECILE]
    if published:  # File 7 of the English Indices of Deprivation, as MHCLG publishes it
        year = vintage.census
        table = pd.DataFrame({
            f"LSOA code ({year})": by_lsoa.index,
            f"LSOA name ({year})": by_lsoa[C.LSOA_NAME].to_numpy(),
            "Local Authority District code (2024)": by_lsoa[C.LAD].to_numpy(),
            "Local Authority District name (2024)": by_lsoa[C.LAD_NAME].to_numpy()})
        for measure, title in _MEASURE_NAMES.items():
            table[f"{title} Score"] = np.round(80 * (1 - ranks[measure] / england), 3).to_numpy()
            table[f"{title} Rank (where 1 is most deprived)"] = ranks[measure].to_numpy()
            table[f"{title} Decile (where 1 is most deprived 10% of LSOAs)"] = \
                deciles[measure].to_numpy()
    else:
        table = pd.DataFrame({names[C.LSOA]: by_lsoa.index,
                              "IMD_rank": ranks["imd"].to_numpy(),
                              "IMD_decile": deciles["imd"].to_numpy()})
    files = replace(files, imd=folder / "deprivation.csv")
    table.to_csv(files.imd, index=False)
    return files
