"""Each output area's risk at each refresh: the series emerging hot spots are found in.

One model (the run's final one) scores every refresh's children aged 0-4 with features as
of that refresh's date, so a change in an area is a change in its families' recorded
circumstances, not a model refitted on a new cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.areas.uncertainty import ratio_se
from geo_risk.columns import HOUSEHOLD
from geo_risk.inputs.link import Linked
from geo_risk.inputs.parallel import HERE, Executor, districts
from geo_risk.model.estimator import RiskModel
from geo_risk.model.features import current_children
from geo_risk.model.outcomes import Outcome

__all__ = ["RefreshRisk", "risk_by_refresh"]


@dataclass
class RefreshRisk:
    """Mean predicted risk and the number of under-fives of each OA (rows) at each
    refresh (columns, ISO dates); an OA with no under-fives at a refresh has no mean."""

    mean: pd.DataFrame
    children: pd.DataFrame
    se: pd.DataFrame | None = None  # standard error of each mean, households resampled

    def by(self, groups: pd.Series) -> pd.DataFrame:
        """Mean risk of groups of OAs (``groups``: OA -> group), weighted by children."""
        weight = self.children.reindex(groups.index).fillna(0)
        total = (self.mean.reindex(groups.index).fillna(0) * weight).groupby(groups).sum()
        return total / weight.groupby(groups).sum().where(lambda n: n > 0)

    def se_by(self, groups: pd.Series) -> pd.DataFrame:
        """The standard error of :meth:`by` (output areas are independent samples of
        households: ``sqrt(sum(n**2 * se**2)) / sum(n)``); missing without ``se``."""
        weight = self.children.reindex(groups.index).fillna(0)
        if self.se is None:
            return pd.DataFrame(np.nan, index=weight.groupby(groups).sum().index,
                                columns=self.mean.columns)
        var = (weight ** 2 * self.se.reindex(groups.index).fillna(0) ** 2).groupby(groups).sum()
        return np.sqrt(var) / weight.groupby(groups).sum().where(lambda n: n > 0)


def risk_by_refresh(linked: Linked, refresh_dates: list[str], model: RiskModel, *,
                    run: Executor = HERE, outcome: Outcome | None = None) -> RefreshRisk:
    """Mean predicted risk of the under-fives of each output area at each refresh.

    One model (the run's final one) scores every refresh's children aged 0-4, with
    features as of that refresh's date: one instrument, so a change in an area is a change
    in its families' recorded circumstances, not a model refitted on a new cohort. (Models
    refitted each year moved areas' risk by as much as the planted hotspots did.) The
    children are described and scored a district (and for a large one, a few refreshes)
    at a time, on ``run`` (:mod:`geo_risk.inputs.parallel`), so a county's memory is a
    district's.

    Parameters
    ----------
    linked : Linked
        The run's linked records.
    refresh_dates : list of str
        ISO dates, oldest first; the last is the reference date.
    model : RiskModel
        The fitted model that scores every refresh.
    run : Executor
        Where the districts are described and scored (this process by default).
    outcome : Outcome, optional
        What is predicted, so who is scored at each refresh (school readiness's
        under-fives by default).

    Returns
    -------
    RefreshRisk
        Each OA's mean risk, its number of under-fives and the mean's standard error (a
        ratio estimator with households resampled), OAs by refreshes.
    """
    work = []
    for part in districts(linked):
        rows = part.events.get("child_register", part.events.get("police"))
        step = max(1, _CHILD_DATES_AT_ONCE // max(len(rows) if rows is not None else 0, 1))
        work += [(part, refresh_dates[i:i + step]) for i in range(0, len(refresh_dates), step)]
    homes = pd.concat(run.map(partial(_scored_homes, model=model, outcome=outcome), work),
                      ignore_index=True)
    by = homes.groupby(["date", "oa"])
    table = pd.DataFrame({"total": by["sum"].sum(), "n": by["size"].sum()})
    table["mean"] = table["total"] / table["n"]
    # the mean's standard error when households are resampled (a ratio estimator, one
    # household's children together): what the stability of a category is drawn from
    table["se"] = ratio_se(homes["sum"], homes["size"],
                           [homes["date"], homes["oa"]]).fillna(0.0)
    order = [str(pd.Timestamp(d).date()) for d in refresh_dates]

    def wide(column):
        return table[column].unstack(0).reindex(columns=order)

    return RefreshRisk(wide("mean"), wide("n").fillna(0).astype(int), wide("se"))


#: Registered children x refreshes described at once: a county of one district, its 16
#: refreshes at once, took 1.3 GB more; in a county of 12 districts, two districts' 16
#: refreshes at once (1,000,000) took the run's processes to 3.09 GiB, and 250,000 (four
#: or five refreshes a piece) to 2.81 GiB, in the same time.
_CHILD_DATES_AT_ONCE = 250_000


def _scored_homes(work: tuple[Linked, list[str]], *, model: RiskModel,
                  outcome: Outcome | None = None) -> pd.DataFrame:
    """Each household's under-fives at each of some refreshes (``date``, ``oa``,
    ``home``): their summed risk (``sum``) and how many (``size``), in one pass."""
    linked, dates = work
    children = current_children(linked, dates, outcome=outcome)
    homes = pd.DataFrame({"date": children["as_of"].dt.date.astype(str).to_numpy(),
                          "oa": children[C.OA].to_numpy(), "home": children[HOUSEHOLD].to_numpy(),
                          "p": model.predict_proba(children)[:, 1]})
    return homes.groupby(["date", "oa", "home"])["p"].agg(["sum", "size"]).reset_index()

