"""A synthetic consultation: the places residents, community groups and frontline staff
name, for the demo's "What the community says" (:mod:`geo_risk.inputs.community`).

What a community says is not the truth the records are scored against, so it is drawn
from the world with the blind spots the programme met:

- **long-standing hotspots are known**: each output area of a planted persistent hotspot
  is named with chance 0.6 (themes: housing conditions, cost of living, domestic abuse);
- **a rise is not yet seen**: each area of the planted emerging hotspot is named with
  chance 0.05 (Vange: a community nobody had flagged);
- **deprivation is talked about**: every other area with chance 0.12 x its deprivation
  (0.05 to 0.95), on any theme;
- **a concern the records do not hold**: in one ward without a planted hotspot (drawn),
  each area is named with chance 0.5 for anti-social behaviour or youth provision.

Each mention is a point drawn inside its area, dated in the two years to the reference
date, with a line of free text. Two rows hold a person's details (a phone number, a
name), as consultations' free text sometimes does: a run refuses them.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_risk import columns as C

__all__ = ["consultation"]

_THEMES = ["housing conditions", "cost of living", "domestic abuse", "drug use",
           "anti-social behaviour", "youth provision", "childcare", "isolation"]
_KNOWN = _THEMES[:3]
_ELSEWHERE = ["anti-social behaviour", "youth provision"]


def consultation(oas: gpd.GeoDataFrame, planted: pd.DataFrame, reference_date: str,
                 seed: int) -> pd.DataFrame:
    """The consultation's rows: ``easting``, ``northing``, ``theme``, ``date``, ``comment``.

    Parameters
    ----------
    oas : GeoDataFrame
        The world's output areas (EPSG:27700) with ``ward_name`` and ``deprivation``.
    planted : DataFrame
        The planted hotspots (``hotspot``: emerging, persistent, ...), by output area.
    reference_date : str
        The run's date: every mention is dated in the two years to it.
    seed : int
        The world's seed (the consultation has its own stream).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0FFEE]))
    kind = planted["hotspot"].reindex(oas.index).fillna("")
    wards = sorted(set(oas[C.WARD_NAME]) - set(oas.loc[kind != "", C.WARD_NAME]))
    elsewhere = oas[C.WARD_NAME].eq(wards[rng.integers(len(wards))]) if wards else kind.eq(
        "never")
    chance = np.select([kind.eq("persistent"), kind.eq("emerging"), elsewhere],
                       [0.6, 0.05, 0.5], 0.12 * oas[C.DEPRIVATION].to_numpy())
    named = oas.index[rng.random(len(oas)) < chance]
    themes = [rng.choice(_KNOWN) if kind[oa] == "persistent" else rng.choice(_ELSEWHERE)
              if elsewhere[oa] else rng.choice(_THEMES) for oa in named]
    xy = oas.geometry.loc[named].sample_points(1, rng=rng).get_coordinates()
    end = pd.Timestamp(reference_date)
    days = rng.integers(0, 730, len(named))
    rows = pd.DataFrame({
        "easting": xy["x"].round(1).to_numpy(), "northing": xy["y"].round(1).to_numpy(),
        "theme": themes, "date": (end - pd.to_timedelta(days, unit="D")).strftime("%d/%m/%Y"),
        "comment": [f"Raised at a {t} drop-in" for t in themes]})
    private = rows.iloc[:2].assign(comment=["Call me on 07700 900123 about the flats",
                                            "Mrs Okafor's family are struggling"])
    return pd.concat([rows, private], ignore_index=True)


def write_consultation(path: Path, rows: pd.DataFrame) -> Path:
    """Write the consultation as a partner would send it (CSV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False)
    return path
