"""Why a household is flagged: its top contributing factors, in plain words.

Method: *occlusion against a typical household*, computed with the fitted model itself.
For each group of related features (housing, benefits, domestic abuse, ...), the
household's values are replaced by those of a typical household (the median of the
children scored), the household score is recomputed, and the factor's contribution is
the drop in score. The factors that raise the score most (on the log-odds scale, so that
factors still rank sensibly when a score is close to 1) are reported, each with the
household's own facts ("3 housing events in the last 12 months") and its contribution in
points of probability.

Why this method: it is faithful by construction (it asks the model, not a surrogate),
works for any model including calibrated boosted trees, respects interactions within a
group (lone parent and low income move together), and its unit (points of probability)
is one a practitioner can read. Its limit: contributions of different groups need not
add up to the score, because the model is not additive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin

from geo_risk.columns import HOUSEHOLD

__all__ = ["FACTORS", "FEATURE_WORDS", "explain_households", "feature_words"]


def _logit(p: pd.Series) -> pd.Series:
    p = p.clip(1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))

#: Factor -> the features it covers.
FACTORS: dict[str, list[str]] = {
    "housing": ["hs_12m", "hs_24m", "hs_ta_24m", "hs_homeless_24m", "hs_arrears_12m",
                "hs_overcrowding_24m", "hs_asb_24m", "hs_months_since"],
    "income": ["bn_open", "bn_lone_parent", "bn_low_income", "bn_universal_credit",
               "bn_claims_24m"],
    "domestic abuse": ["po_da_12m", "po_da_24m", "po_months_since_da", "po_da_high_24m",
                       "po_da_medium_24m", "po_months_since_high"],
    "MARAC": ["marac_12m", "marac_60m", "marac_months_since"],
    "police": ["po_other_24m"],
    "social care": ["sc_open", "sc_12m", "sc_24m", "sc_60m", "sc_level", "sc_months_since"],
    "youth offending": ["yo_24m", "yo_60m"],
    "substance misuse": ["dl_open", "dl_24m", "dl_60m"],
    "neighbourhood": ["deprivation", "area_housing_12m", "area_ta_12m", "area_da_12m",
                      "area_not_gld_3y", "area_da_high_12m", "area_marac_12m"],
    "child": ["male", "months_young", "eal", "age_months"],
    "family size": ["hh_children", "hh_under5"],
}


#: Each feature in words, for the model card (the codes stay in the restricted tables).
FEATURE_WORDS: dict[str, str] = {
    "hs_12m": "housing events in the last 12 months",
    "hs_24m": "housing events in the last 24 months",
    "hs_ta_24m": "temporary accommodation in the last 24 months",
    "hs_homeless_24m": "homelessness applications in the last 24 months",
    "hs_arrears_12m": "rent arrears in the last 12 months",
    "hs_overcrowding_24m": "overcrowding in the last 24 months",
    "hs_asb_24m": "anti-social behaviour complaints in the last 24 months",
    "hs_months_since": "months since the latest housing event",
    "bn_open": "a benefit claim open",
    "bn_lone_parent": "a lone-parent claim open",
    "bn_low_income": "a low-income claim open",
    "bn_universal_credit": "a Universal Credit claim open",
    "bn_claims_24m": "benefit claims in the last 24 months",
    "po_da_12m": "domestic abuse incidents at home in the last 12 months",
    "po_da_24m": "domestic abuse incidents at home in the last 24 months",
    "po_months_since_da": "months since the latest domestic abuse incident",
    "po_other_24m": "other police incidents at home in the last 24 months",
    "po_da_high_24m": "domestic abuse incidents graded high risk (DASH), last 24 months",
    "po_da_medium_24m": "domestic abuse incidents graded medium risk (DASH), last 24 "
                        "months",
    "po_months_since_high": "months since the latest high-risk domestic abuse incident",
    "marac_12m": "MARAC referrals in the last 12 months",
    "marac_60m": "MARAC referrals in the last five years",
    "marac_months_since": "months since the latest MARAC referral",
    "sc_open": "a social care or early help episode open",
    "sc_12m": "social care or early help episodes in the last 12 months",
    "sc_24m": "social care or early help episodes in the last 24 months",
    "sc_60m": "social care or early help episodes in the last five years",
    "sc_level": "the highest level of social care involvement",
    "sc_months_since": "months since the latest social care or early help episode",
    "yo_24m": "youth offending in the household in the last 24 months",
    "yo_60m": "youth offending in the household in the last five years",
    "dl_open": "drug or alcohol treatment open in the household",
    "dl_24m": "drug or alcohol referrals in the last 24 months",
    "dl_60m": "drug or alcohol referrals in the last five years",
    "deprivation": "deprivation of the neighbourhood (LSOA)",
    "area_housing_12m": "housing events per household in the output area, last 12 months",
    "area_ta_12m": "temporary accommodation per household in the output area, last 12 "
                   "months",
    "area_da_12m": "domestic abuse incidents per household in the output area, last 12 "
                   "months",
    "area_not_gld_3y": "share of the output area's children not reaching a good level of "
                       "development, last three cohorts",
    "area_da_high_12m": "high-risk domestic abuse incidents per household in the output "
                        "area, last 12 months",
    "area_marac_12m": "MARAC referrals per household in the output area, last 12 months",
    "male": "the child is a boy",
    "months_young": "how young the child is in the school year (summer-born)",
    "eal": "English is an additional language",
    "age_months": "the child's age in months",
    "hh_children": "children in the household",
    "hh_under5": "children under five in the household",
}


def feature_words(feature: str) -> str:
    """A feature in words; one not listed keeps its name, with underscores as spaces.

    >>> feature_words("po_da_12m"), feature_words("new_feature")
    ('domestic abuse incidents at home in the last 12 months', 'new feature')
    """
    return FEATURE_WORDS.get(feature, feature.replace("_", " "))


def _n(value: float) -> int:
    return int(value) if np.isfinite(value) else 0


def _count(value: float, noun: str) -> str:
    n = _n(value)
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _words(factor: str, row: dict) -> str:
    """The household's own facts behind a factor."""
    if factor == "housing":
        parts = [f"{_count(row.get('hs_12m', 0), 'housing event')} in the last 12 months"]
        if row.get("hs_ta_24m", 0) > 0:
            parts.append("temporary accommodation in the last 2 years")
        return ", ".join(parts)
    if factor == "income":
        if row.get("bn_lone_parent"):
            return "lone parent on benefits"
        return "on low-income benefits" if row.get("bn_open") else "benefit history"
    if factor == "domestic abuse":
        high = row.get("po_da_high_24m", 0)
        return (f"{_count(row.get('po_da_24m', 0), 'domestic abuse incident')} "
                "in the last 2 years" + (f", {_n(high)} graded high risk" if high > 0 else ""))
    if factor == "MARAC":
        return f"{_count(row.get('marac_60m', 0), 'MARAC referral')} in the last 5 years"
    if factor == "police":
        return f"{_count(row.get('po_other_24m', 0), 'police incident')} in the last 2 years"
    if factor == "social care":
        return ("social care or early help episode open" if row.get("sc_open")
                else "past social care or early help involvement")
    if factor == "youth offending":
        return "youth offending in the household"
    if factor == "substance misuse":
        return ("open drug or alcohol referral" if row.get("dl_open")
                else "drug or alcohol service contact")
    if factor == "neighbourhood":
        parts = []
        if row.get("deprivation", 0) >= 0.8:
            parts.append("lives in one of England's 20% most deprived areas")
        if row.get("area_ta_12m", 0) >= 0.1:
            parts.append("many temporary-accommodation placements nearby")
        if row.get("area_not_gld_3y", 0) >= 0.45:
            parts.append("many children nearby not school ready in recent years")
        if row.get("area_da_high_12m", 0) >= 0.05:
            parts.append("many high-risk domestic abuse incidents nearby")
        return ", ".join(parts) or "neighbourhood context"
    if factor == "child":
        return "child factors (age in school year, sex, language)"
    return f"{_count(row.get('hh_under5', 0), 'child')} under five"


def explain_households(model: ClassifierMixin, children: pd.DataFrame, households: list[str],
                       *,
                       top: int = 3) -> pd.DataFrame:
    """Top contributing factors of each household, by occlusion (see module docstring).

    Parameters
    ----------
    model
        A fitted classifier with ``predict_proba`` on the child feature table.
    children
        The current children (features as of the reference date).
    households
        Household keys to explain (e.g. the flagged ones).
    top
        Number of factors to report.

    Returns
    -------
    pandas.DataFrame
        ``household_key``, ``reasons`` (plain words, "; "-separated) and
        ``contributions`` (factor: points of probability).
    """
    features = list(model.features_)
    current = children[children[HOUSEHOLD].isin(households)].reset_index(drop=True)
    typical = children[features].astype(float).median()
    groups = {name: [c for c in cols if c in features] for name, cols in FACTORS.items()}
    groups = {name: cols for name, cols in groups.items() if cols}

    def household_score(frame: pd.DataFrame) -> pd.Series:
        p = model.predict_proba(frame)[:, 1]
        return -np.expm1(pd.Series(np.log1p(-p)).groupby(frame[HOUSEHOLD].to_numpy()).sum())

    base = household_score(current)
    drops, logit_drops = {}, {}
    for name, cols in groups.items():
        altered = current.copy()
        altered[cols] = typical[cols].to_numpy()
        without = household_score(altered)
        drops[name] = base - without
        logit_drops[name] = _logit(base) - _logit(without)
    names = list(drops)
    drops = pd.DataFrame(drops)[names].to_numpy()
    logit_drops = pd.DataFrame(logit_drops)[names].to_numpy()
    facts = current.groupby(HOUSEHOLD).agg({c: "max" for c in features}).loc[base.index]
    rows = []
    for key, fact, drop, logit_drop in zip(base.index, facts.to_dict("records"), drops,
                                           logit_drops, strict=True):
        order = np.argsort(-logit_drop, kind="stable")
        ranked = order[logit_drop[order] > 0.02][:top]
        rows.append((key, "; ".join(_words(names[f], fact) for f in ranked),
                     "; ".join(f"{names[f]} +{drop[f] * 100:.1f}" for f in ranked)))
    return pd.DataFrame(rows, columns=[HOUSEHOLD, "reasons", "contributions"])
