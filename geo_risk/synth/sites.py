"""Plausible service sites for the synthetic world: candidates and existing centres.

Candidates are the kind of buildings a commissioner could use for a family hub or a
speech-and-language session: primary schools, libraries, community and church halls,
health and sports centres. Each ward gets one per LSOA it holds, each at a random
address-like point inside a random output area of the ward. Two existing children's
centres stand in the most deprived wards other than the emerging hotspot's (services are
where deprivation has long been; the emerging hotspot is where they are not yet).

Sites are public buildings, not households: they may be drawn on any map.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_risk import columns as C

__all__ = ["make_sites"]

_KINDS = ["primary school", "library", "community hall", "health centre", "church hall",
          "sports centre"]


def make_sites(oas: gpd.GeoDataFrame, planted: pd.DataFrame, *, seed: int
               ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(candidates, existing) with ``name``, ``kind``, ``easting``, ``northing``."""
    rng = np.random.default_rng([seed, 0x517E])
    rows: list[tuple] = []
    for ward, members in oas.groupby(C.WARD_NAME, sort=True):
        n = max(1, members[C.LSOA].nunique())
        picks = rng.choice(len(members), size=n, replace=n > len(members))
        for i, pick in enumerate(picks):
            kind = _KINDS[(i + len(rows)) % len(_KINDS)]
            rows.append((f"{ward} {kind}", kind, members.geometry.iloc[pick]))
    names = pd.Series([r[0] for r in rows])
    names = names + names.groupby(names).cumcount().map(lambda k: f" {k + 1}" if k else "")
    points = [_inside(rng, geom) for *_, geom in rows]
    candidates = _frame(names.tolist(), [r[1] for r in rows], points, oas.crs)

    emerging = set(planted.loc[planted["hotspot"] == "emerging", C.OA])
    wards = oas[~oas.index.isin(emerging)].groupby(C.WARD_NAME)[C.DEPRIVATION].mean()
    existing_names, existing_points = [], []
    for ward in wards.sort_values(ascending=False).index[:2]:
        members = oas[(oas[C.WARD_NAME] == ward) & ~oas.index.isin(emerging)]
        heart = members[C.DEPRIVATION].idxmax()
        existing_names.append(f"{ward} Children's Centre")
        existing_points.append(_inside(rng, oas.geometry[heart]))
    existing = _frame(existing_names, ["children's centre"] * len(existing_names),
                      existing_points, oas.crs)
    return candidates, existing


def _inside(rng: np.random.Generator, geom) -> tuple[float, float]:
    x0, y0, x1, y1 = geom.bounds
    from shapely import contains_xy

    for _ in range(1000):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if contains_xy(geom, x, y):
            return round(x, 1), round(y, 1)
    point = geom.representative_point()
    return round(point.x, 1), round(point.y, 1)


def _frame(names, kinds, points, crs) -> gpd.GeoDataFrame:
    xy = np.array(points, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame({"name": names, "kind": kinds, "easting": xy[:, 0],
                             "northing": xy[:, 1]},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)
