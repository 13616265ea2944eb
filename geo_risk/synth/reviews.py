"""Practitioners' reviews of a run's flags, simulated with known decisions.

For testing the review ledger: a share of the flagged households is reviewed, each given
a decision drawn with fixed weights, a role, a date and a short reason; every tenth review
sets the flag aside. Also returns the decisions, so an import can be checked against them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_risk.governance import DECISIONS

__all__ = ["simulate_reviews"]

_ROLES = ("health visitor", "early help practitioner", "family support worker")
_WEIGHTS = (0.45, 0.25, 0.2, 0.1)


def simulate_reviews(form: pd.DataFrame, *, seed: int = 1, share: float = 0.6,
                     date: str = "2018-02-15") -> pd.DataFrame:
    """``form`` (a run's review_form.csv) with ``share`` of its rows filled in."""
    rng = np.random.default_rng(seed)
    out = form.copy().astype(str).replace("nan", "")
    chosen = rng.random(len(out)) < share
    n = int(chosen.sum())
    out.loc[chosen, "review_date"] = date
    out.loc[chosen, "role"] = rng.choice(_ROLES, n)
    out.loc[chosen, "decision"] = rng.choice(DECISIONS, n, p=_WEIGHTS)
    out.loc[chosen, "reason"] = "discussed at the team meeting"
    out.loc[chosen, "overridden"] = np.where(np.arange(n) % 10 == 0, "Y", "N")
    return out
