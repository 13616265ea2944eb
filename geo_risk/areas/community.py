"""The community's view beside the data's: where both see concern, where only the
community does, and where only the data does.

The data's concern is the run's areas of concern (known and newly identified, from the
hot spot analysis). The community's is the places residents, community groups and
frontline staff named (:func:`geo_risk.inputs.community.read_community`). They are set
side by side by ward, the unit a partnership board and a community both talk in (a
ward is of the community's concern where it was named at least :data:`MIN_MENTIONS` times
and :data:`OVER_DISTRICT` times as often per output area as the district), and by output
area for the GeoPackage (an area is named or not). What is published is the view, the themes and
the number of mentions under the run's disclosure rules; the rows themselves (their
places and dates) stay in the run's working folder.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.areas.disclosure import Disclosure

__all__ = ["MIN_MENTIONS", "OVER_DISTRICT", "VIEWS", "agreement"]

#: A ward is of concern to the community where it was named at least this often and at
#: least ``OVER_DISTRICT`` times as often per output area as the district as a whole: a
#: consultation names most wards somewhere, so a single mention says little.
MIN_MENTIONS, OVER_DISTRICT = 3, 1.5

#: The four views, in the order the report gives them.
VIEWS = ("both", "community only", "data only", "neither")


def _view(data: pd.Series, community: pd.Series) -> np.ndarray:
    """Each row's view from whether the data and the community see concern.

    >>> _view(pd.Series([True, False, True, False]), pd.Series([True, True, False, False]))
    array(['both', 'community only', 'data only', 'neither'], dtype='<U14')
    """
    return np.select([data & community, community, data], list(VIEWS[:3]), VIEWS[3])


def _themes(mentions: pd.DataFrame, by: str) -> pd.Series:
    """The themes named in each area, most often named first (ties by name), joined."""
    counts = mentions.groupby([by, "theme"]).size().rename("n").reset_index()
    counts = counts.sort_values([by, "n", "theme"], ascending=[True, False, True])
    return counts.groupby(by)["theme"].agg("; ".join)


def agreement(mentions: pd.DataFrame, oas: gpd.GeoDataFrame, hotspots: pd.DataFrame,
              rules: Disclosure) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The two views by ward and by output area, published, and their summary.

    Parameters
    ----------
    mentions : DataFrame
        The places named, one row per area named (``oa``, ``theme``, ``date``, ``row``).
    oas : GeoDataFrame
        The run's output areas with their wards (``ward_code``, ``ward_name``).
    hotspots : DataFrame
        The published hot spot table by output area (``concern``: known, newly
        identified or missing).
    rules : Disclosure
        The run's disclosure rules: mention counts from 1 to ``withhold_up_to`` are
        withheld, the rest rounded.

    Returns
    -------
    by_ward : DataFrame
        Per ward: ``data_concern_oas`` (output areas in an area of concern),
        ``community_mentions`` (as published), ``themes`` and ``view``.
    by_oa : DataFrame
        Per output area: ``data_concern``, ``community_named``, ``themes`` and ``view``.
    summary : dict
        How many wards and output areas hold each view, the mentions used and their dates.
    """
    concern = hotspots["concern"].reindex(oas.index).isin(["known", "newly identified"])
    ward = oas[C.WARD_NAME]
    named = mentions.assign(ward=ward.reindex(mentions[C.OA]).to_numpy())
    by_oa = pd.DataFrame({
        "data_concern": concern,
        "community_named": oas.index.isin(named[C.OA]),
        "themes": _themes(named, C.OA).reindex(oas.index).fillna("")}, index=oas.index)
    by_oa["view"] = _view(by_oa["data_concern"], by_oa["community_named"])
    # each row of insight counts once in a ward however many of its areas it names
    said = named.drop_duplicates(["row", "ward"])
    count = said.groupby("ward").size()
    wards = pd.Index(sorted(ward.unique()), name=C.WARD_NAME)
    by_ward = pd.DataFrame({
        C.WARD: oas.groupby(C.WARD_NAME)[C.WARD].first().reindex(wards),
        "data_concern_oas": concern.groupby(ward).sum().reindex(wards, fill_value=0),
        "community_mentions": [rules.value(count.get(w, 0)) for w in wards],
        "themes": _themes(said, "ward").reindex(wards).fillna("")}, index=wards)
    rate = count.reindex(wards, fill_value=0) / ward.value_counts().reindex(wards)
    district = said["row"].nunique() / len(oas)
    voiced = (count.reindex(wards, fill_value=0) >= MIN_MENTIONS) & (
        rate >= OVER_DISTRICT * district)
    by_ward["view"] = _view(by_ward["data_concern_oas"] > 0, voiced)
    summary = {
        "rows_used": int(mentions["row"].nunique()),
        "first_date": str(mentions["date"].min().date()) if len(mentions) else None,
        "last_date": str(mentions["date"].max().date()) if len(mentions) else None,
        "wards": {v: int((by_ward["view"] == v).sum()) for v in VIEWS},
        "oas": {v: int((by_oa["view"] == v).sum()) for v in VIEWS},
        "community_only_wards": by_ward.index[by_ward["view"] == "community only"].tolist(),
        "data_only_wards": by_ward.index[by_ward["view"] == "data only"].tolist(),
        "both_wards": by_ward.index[by_ward["view"] == "both"].tolist(),
    }
    return by_ward.reset_index(), by_oa.rename_axis(C.OA), summary
