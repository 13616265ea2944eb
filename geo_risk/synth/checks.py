"""Figures that show a synthetic world hits its targets (evaluation only: reads the truth).

:func:`describe_world` reports the rate of not reaching GLD, the ward gradient, the
emerging hotspot's rise and how much of the highest true risk services already know.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.synth.world import World

__all__ = ["describe_world", "household_risk"]


def household_risk(child_risk: pd.DataFrame, refresh: int) -> pd.Series:
    """True probability that at least one under-five in the household misses GLD."""
    at = child_risk[child_risk["refresh"] == refresh]
    return 1 - (1 - at["p_not_gld"]).groupby(at["uprn"]).prod()


def describe_world(world: World, *, top_share: float = 0.05) -> dict:
    """Summary figures of a synthetic world (see the foundation issue's acceptance)."""
    ch, risk, oas = world.children, world.child_risk, world.oas
    ward_of = oas[C.WARD_NAME]
    labelled = ch[ch["labelled"]]
    not_gld = labelled["gld"] == "N"
    ward_rate = not_gld.groupby(ward_of.reindex(labelled[C.OA]).to_numpy()).mean()

    last = int(risk["refresh"].max())
    at_last = risk[risk["refresh"] == last]
    ward_risk = at_last["p_not_gld"].groupby(ward_of.reindex(at_last[C.OA]).to_numpy()).mean()
    ward_rank = ward_risk.rank(ascending=False).astype(int)

    planted = world.population.planted
    emerging = planted.loc[planted["hotspot"] == "emerging", C.OA]
    emerging_ward = ward_of.loc[emerging].mode().iat[0]
    in_emerging = risk[risk[C.OA].isin(emerging)]
    trend = in_emerging.groupby("refresh")["p_not_gld"].mean()

    hh = household_risk(risk, last)
    top = hh.nlargest(int(np.ceil(top_share * len(hh))))
    known = set(world.extracts["social_care"]["uprn"].str.strip())
    unknown_share = float(np.mean([u not in known for u in top.index]))

    return {
        "households": len(world.population.households),
        "children_registered": len(ch),
        "households_with_under_fives": len(hh),
        "under_fives": len(at_last),
        "labelled_children": len(labelled),
        "not_gld_rate": round(float(not_gld.mean()), 4),
        "worst_ward": str(ward_rate.idxmax()),
        "worst_ward_not_gld_rate": round(float(ward_rate.max()), 4),
        "emerging_ward": str(emerging_ward),
        "emerging_ward_rank_last_refresh": int(ward_rank[emerging_ward]),
        "emerging_mean_risk_first": round(float(trend.iloc[0]), 4),
        "emerging_mean_risk_last": round(float(trend.iloc[-1]), 4),
        "emerging_rises_every_year": bool(np.all(np.diff(trend.to_numpy()[::4]) > 0)),
        "top_households": len(top),
        "top_households_unknown_share": round(unknown_share, 4),
    }
