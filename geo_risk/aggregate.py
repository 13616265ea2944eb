"""From scored households to areas, and statistical disclosure control for publication.

:func:`aggregate_areas` sums the scored children and households of each output area
(children under five, households, expected number not school ready = the sum of the
children's probabilities, flagged, flagged-unknown and known households) and rolls them
up to LSOAs, wards and the district; mean risk is expected / children, and an
empirical-Bayes smoothed rate (esda) pulls small areas towards the overall rate.

:func:`disclose` applies UK statistical disclosure control to a table of counts before
anything is published:

- primary suppression: a count from 1 to ``threshold`` (7) is withheld;
- secondary suppression: where a parent area (the OA's LSOA, the LSOA's or ward's
  district) has exactly one withheld child area, the smallest other child area is
  withheld too, so the withheld value cannot be recovered from the parent's total;
- every other count is rounded to the nearest ``base`` (5);
- rates computed from a withheld count of children are withheld with it.

Withheld values are missing (shown as ``c``, with a legend, never ``-99``); the release
log says what was withheld and why, without the values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from esda.smoothing import Empirical_Bayes

from geo_risk import columns as C
from geo_risk.link import HOUSEHOLD

__all__ = ["COUNT_COLUMNS", "LEVELS", "aggregate_areas", "disclose", "publish_count",
           "publish_value"]

COUNT_COLUMNS = ["children_under5", "households", "expected_not_ready", "flagged_households",
                 "flagged_unknown", "known_households"]
RATE_COLUMNS = ["mean_risk", "eb_risk"]
#: Level -> (area code column, name column, parent level used for secondary suppression).
LEVELS = {
    "oa": (C.OA, None, "lsoa"),
    "lsoa": (C.LSOA, C.LSOA_NAME, "district"),
    "ward": (C.WARD, C.WARD_NAME, "district"),
    "district": (C.LAD, C.LAD_NAME, None),
}


def aggregate_areas(children: pd.DataFrame, households: pd.DataFrame,
                    areas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Counts and rates per output area, LSOA, ward and district (unpublished).

    Parameters
    ----------
    children
        Scored children: ``household_key`` and ``p``.
    households
        Scored households: ``household_key``, ``oa11cd``, ``flagged``, ``known``.
    areas
        Output areas indexed by ``oa11cd`` with the lookup columns (every OA is kept,
        with zeros where nobody was scored).
    """
    homes = households.set_index(HOUSEHOLD)
    kids = children.assign(oa=homes[C.OA].reindex(children[HOUSEHOLD]).to_numpy())
    per_oa = pd.DataFrame(index=areas.index)
    per_oa["children_under5"] = kids.groupby("oa").size()
    per_oa["expected_not_ready"] = kids.groupby("oa")["p"].sum()
    by_oa = homes.groupby(C.OA)
    per_oa["households"] = by_oa.size()
    per_oa["flagged_households"] = by_oa["flagged"].sum()
    per_oa["flagged_unknown"] = (homes["flagged"] & ~homes["known"]).groupby(homes[C.OA]).sum()
    per_oa["known_households"] = by_oa["known"].sum()
    per_oa = per_oa.fillna(0.0)[COUNT_COLUMNS]
    lookup = areas.drop(columns="geometry", errors="ignore")

    out = {}
    for level, (code, name, _) in LEVELS.items():
        if level == "oa":
            table = per_oa.copy()
        else:
            if code not in lookup:
                continue
            keys = lookup[code].reindex(per_oa.index)
            table = per_oa.groupby(keys.to_numpy()).sum()
            table.index.name = code
            if name and name in lookup:
                table.insert(0, name, lookup.groupby(code)[name].first())
        table["mean_risk"] = table["expected_not_ready"] / table["children_under5"].where(
            table["children_under5"] > 0)
        populated = (table["children_under5"] > 0).to_numpy()
        table["eb_risk"] = table["mean_risk"]
        if populated.sum() > 1:
            eb = Empirical_Bayes(table["expected_not_ready"].to_numpy()[populated, None],
                                 table["children_under5"].to_numpy()[populated, None])
            table.loc[populated, "eb_risk"] = np.asarray(eb.r).ravel()
        out[level] = table
    return out


def publish_value(value: float, *, threshold: int = 7, base: int = 5) -> int | str:
    """One count as published: ``"c"`` from 1 to ``threshold``, otherwise the whole
    number rounded to the nearest ``base``.

    >>> publish_value(3), publish_value(509), publish_value(0)
    ('c', 510, 0)
    """
    n = round(float(value))
    if 1 <= n <= threshold:
        return "c"
    return int(np.floor(n / base + 0.5) * base)


def publish_count(value: float, *, threshold: int = 7, base: int = 5) -> str:
    """:func:`publish_value` as text, with thousands separators.

    >>> publish_count(3), publish_count(509), publish_count(0), publish_count(10_171)
    ('c', '510', '0', '10,170')
    """
    shown = publish_value(value, threshold=threshold, base=base)
    return shown if shown == "c" else f"{shown:,}"


def _round(values: pd.Series, base: int) -> pd.Series:
    return (np.floor(values / base + 0.5) * base).astype("Int64")


def disclose(tables: dict[str, pd.DataFrame], areas: pd.DataFrame, *, threshold: int = 7,
             base: int = 5) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Apply disclosure control to every level; return the safe tables and a release log.

    Counts are published as nullable integers (missing = withheld); rates as floats
    (missing where the count of children was withheld or zero). The release log has
    ``level``, ``area``, ``column`` and ``reason`` (``primary`` or ``secondary``).
    """
    lookup = areas.drop(columns="geometry", errors="ignore")
    log_rows = []
    safe = {}
    for level, table in tables.items():
        code, _, parent = LEVELS[level]
        parent_code = LEVELS[parent][0] if parent else None
        if parent_code and parent_code in lookup:
            parent_of = lookup.groupby(code)[parent_code].first() if level != "oa" else \
                lookup[parent_code]
            groups = parent_of.reindex(table.index).to_numpy()
        else:
            groups = np.zeros(len(table))
        out = table.copy()
        for column in COUNT_COLUMNS:
            raw = table[column].round().astype(int)
            primary = (raw >= 1) & (raw <= threshold)
            withheld = primary.copy()
            for _, idx in pd.Series(np.arange(len(raw))).groupby(groups):
                members = idx.to_numpy()
                if withheld.iloc[members].sum() == 1 and len(members) > 1:
                    others = [m for m in members if not withheld.iloc[m]]
                    pick = min(others, key=lambda m: (raw.iloc[m] == 0, raw.iloc[m]))
                    withheld.iloc[pick] = True
            out[column] = _round(raw.astype(float), base).mask(withheld.to_numpy())
            for area in raw.index[withheld]:
                log_rows.append((level, area, column,
                                 "primary" if primary[area] else "secondary"))
        hidden = out["children_under5"].isna() | (out["children_under5"] == 0)
        for column in RATE_COLUMNS:
            out[column] = table[column].mask(hidden.to_numpy()).round(3)
        safe[level] = out
    release = pd.DataFrame(log_rows, columns=["level", "area", "column", "reason"])
    return safe, release
