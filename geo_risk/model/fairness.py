"""Fairness audit of the flags on the validation cohort, group by group.

For each attribute (sex, first language, term of birth, area deprivation quintile) and
each of its groups: children, flag rate, true positive rate, false positive rate,
precision and expected calibration error, with the children flagged as at capacity. A
gap between groups larger than ``max_gap`` in TPR, FPR or ECE raises a warning. Flag
rates are expected to differ where risk truly differs (boys, summer-born children); the
warnings are about error rates and calibration, which should not.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.model.estimator import expected_calibration_error
from geo_risk.model.features import LABEL
from geo_risk.model.outcomes import SCHOOL_READINESS, Outcome

__all__ = ["FAIRNESS_COUNTS", "audit_fairness"]

#: Each group's counts behind its rates (exact: for disclosure control, never published).
FAIRNESS_COUNTS = ("flagged", "true_positives", "false_positives", "false_negatives",
                   "true_negatives")

log = logging.getLogger(__name__)


def _groups(test: pd.DataFrame) -> dict[str, pd.Series]:
    groups = {}
    if "male" in test:  # children: a child whose sex or language is not recorded is in
        groups = {  # neither group
            "sex": test["male"].astype(float).map({1.0: "boys", 0.0: "girls"}),
            "first language": test["eal"].astype(float).map({1.0: "other than English",
                                                             0.0: "English"}),
            "term of birth": pd.cut(test["months_young"], [-1, 3, 7, 11],
                                    labels=["autumn", "spring", "summer"]).astype(str),
        }
    elif "hh_under5" in test:  # households: with young children or without
        groups["young children"] = np.where(test["hh_under5"] > 0, "a child aged 0-4",
                                            "no child aged 0-4")
        groups["young children"] = pd.Series(groups["young children"], index=test.index)
    if C.DEPRIVATION in test:
        quintile = np.clip(np.ceil((1 - test[C.DEPRIVATION]) * 5), 1, 5).astype(int)
        names = {1: "1 (most deprived)", 5: "5 (least deprived)"}
        groups["deprivation quintile"] = quintile.map(lambda q: names.get(q, str(q)))
    return groups


def audit_fairness(test: pd.DataFrame, *, k: int, max_gap: float = 0.10,
                   words: Outcome = SCHOOL_READINESS) -> tuple[pd.DataFrame, list[str]]:
    """Per-group flag rate, TPR, FPR, precision and ECE; warnings for large gaps.

    Parameters
    ----------
    test
        The validation cohort with the model's probability ``p`` and ``not_gld``.
    k
        Children flagged (the top ``k`` by ``p``), as at capacity.
    max_gap
        Largest acceptable difference between groups in TPR, FPR or ECE.
    words
        The outcome, whose words the warnings use.

    Returns
    -------
    table : DataFrame
        One row per group of each characteristic: its size, rates and the exact counts
        behind them (:data:`FAIRNESS_COUNTS`).
    warnings : list of str
        The gaps above ``max_gap``, in words.
    """
    y = test[LABEL].astype(bool).to_numpy()
    flagged = np.zeros(len(test), dtype=bool)
    flagged[np.argsort(-test["p"].to_numpy(), kind="stable")[:k]] = True
    rows = []
    for attribute, labels in _groups(test).items():
        for group in sorted(labels.dropna().unique()):
            g = (labels == group).to_numpy()
            pos, neg = y[g], ~y[g]
            rows.append({
                "attribute": attribute, "group": group, "children": int(g.sum()),
                "flag_rate": flagged[g].mean(),
                "tpr": flagged[g][pos].mean() if pos.any() else np.nan,
                "fpr": flagged[g][neg].mean() if neg.any() else np.nan,
                "precision": y[g][flagged[g]].mean() if flagged[g].any() else np.nan,
                "ece": expected_calibration_error(y[g], test["p"].to_numpy()[g],
                                                  bins=max(1, min(10, int(g.sum()) // 100))),
                **dict(zip(FAIRNESS_COUNTS, [
                    int(flagged[g].sum()), int((flagged[g] & pos).sum()),
                    int((flagged[g] & neg).sum()), int((~flagged[g] & pos).sum()),
                    int((~flagged[g] & neg).sum())], strict=True)),
            })
    table = pd.DataFrame(rows)
    warnings = []
    for attribute, part in table.groupby("attribute", sort=False):
        for metric, what in _gaps(words).items():
            gap = part[metric].max() - part[metric].min()
            if gap > max_gap:
                # published: the gap's size is left out, as with a withheld group it
                # would give back that group's rate (the log, restricted, keeps it)
                log.warning("fairness: %s: %s differs by %.2f between groups (bound %.2f)",
                            attribute, metric.upper(), gap, max_gap)
                warnings.append(f"by {attribute}, {what} differs between groups by more "
                                f"than {max_gap:.0%} ({metric.upper()})")
    return table, warnings


def _gaps(o: Outcome) -> dict[str, str]:
    """A fairness metric -> what it is, in the outcome's words."""
    return {"tpr": f"the share of the {o.unit[1]} {o.had_event} that the flags find",
            "fpr": f"the share of the {o.unit[1]} {o.no_event} that the flags wrongly pick",
            "ece": "how far predicted chances are from what happened"}
