"""The risk model: estimator conventions, metrics, scores, flags, reasons and fairness."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo_risk import columns as C
from geo_risk._errors import ModelError
from geo_risk.areas.disclosure import SAFE
from geo_risk.model.estimator import (
    Capacity,
    RiskModel,
    calibration,
    expected_calibration_error,
    flag_households,
    score_households,
)
from geo_risk.model.fairness import audit_fairness
from geo_risk.model.reasons import explain_households


def _toy(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"hs_12m": rng.poisson(0.5, n).astype(float),
                      "bn_lone_parent": rng.random(n) < 0.2,
                      "months_young": rng.integers(0, 12, n).astype(float)})
    p = 1 / (1 + np.exp(-(-1.5 + 0.8 * X["hs_12m"] + 0.9 * X["bn_lone_parent"]
                          + 0.05 * X["months_young"])))
    y = rng.random(n) < p
    return X, y, p.to_numpy()


def test_estimator_conventions_and_determinism():
    X, y, p = _toy()
    model = RiskModel(random_state=3)
    assert model.fit(X, y, groups=np.arange(len(y)) // 2) is model
    assert model.features_ == list(X.columns) and list(model.classes_) == [False, True]
    q = model.predict_proba(X)[:, 1]
    again = RiskModel(random_state=3).fit(X, y, groups=np.arange(len(y)) // 2)
    assert np.array_equal(q, again.predict_proba(X)[:, 1])
    assert np.corrcoef(q, p)[0, 1] > 0.9
    with pytest.raises(ModelError, match="one outcome only"):
        RiskModel().fit(X, np.zeros(len(X), bool))
    with pytest.raises(TypeError, match="DataFrame"):
        RiskModel().fit(X.to_numpy(), y)


def test_the_model_is_the_same_under_any_project_key():
    """Households' pseudonyms change with the key; the calibration folds, and so the model,
    must not (they once followed the keys' sorted order, and a new key moved them)."""
    import hashlib

    X, y, _ = _toy()
    home = np.arange(len(y)) // 2
    keys = [{h: hashlib.sha256(f"{salt}{h}".encode()).hexdigest() for h in set(home)}
            for salt in ["one key", "another key"]]
    first, second = (RiskModel(random_state=3).fit(X, y, groups=[key[h] for h in home])
                     .predict_proba(X)[:, 1] for key in keys)
    assert np.array_equal(first, second)


def test_calibration_metrics():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, 200_000)
    y = rng.random(len(p)) < p
    slope, intercept = calibration(y, p)
    assert slope == pytest.approx(1, abs=0.03) and intercept == pytest.approx(0, abs=0.02)
    assert expected_calibration_error(y, p) < 0.01
    squeezed = 1 / (1 + np.exp(-0.5 * np.log(p / (1 - p))))  # too narrow: slope 2
    assert calibration(y, squeezed)[0] == pytest.approx(2, abs=0.06)
    assert expected_calibration_error(y, np.clip(p + 0.1, 0, 1)) == pytest.approx(0.1, abs=0.02)


def test_capacity():
    scores = pd.Series(np.linspace(0, 1, 101))
    assert Capacity().k(scores) == 6  # ceil(5% of 101)
    assert Capacity(number=511).k(scores) == 101
    assert Capacity(number=10).k(scores) == 10
    assert Capacity(min_score=0.9).k(scores) == 11
    assert "511" in Capacity(number=511).describe()
    assert Capacity(number=3).describe(7) == "the few highest-scoring households (fewer than 8)"
    assert Capacity(share=0.0005).describe() == "the top 0.05% of households with under-fives"
    assert Capacity(share=0.125).describe().startswith("the top 12.5% ")  # not 0% or 12%


class _Fixed:
    """A stand-in model: the probability is the child's ``risk`` column."""

    features_ = ("hs_12m", "bn_lone_parent")

    def predict_proba(self, frame):
        p = (0.1 + 0.2 * frame["hs_12m"] + 0.3 * frame["bn_lone_parent"]).clip(0, 0.99)
        return np.column_stack([1 - p, p])


def test_household_score_flags_and_known():
    children = pd.DataFrame({
        "child_key": ["a", "b", "c", "d"], "household_key": ["h1", "h1", "h2", "h3"],
        "role": "current", "hs_12m": [1.0, 0.0, 0.0, 2.0], "bn_lone_parent": [0, 0, 1, 1],
        C.OA: "E00900001"})
    p, households = score_households(_Fixed(), children)
    assert p.round(6).tolist() == [0.3, 0.1, 0.4, 0.8]
    scores = households.set_index("household_key")["score"]
    assert scores["h1"] == pytest.approx(1 - 0.7 * 0.9)
    assert households["household_key"].tolist() == ["h3", "h2", "h1"]
    features = pd.DataFrame({"household_key": ["h1", "h2", "h3"],
                             "sc_months_since_end": [0.0, 30.0, np.nan]})
    flags = flag_households(households, features, capacity=Capacity(number=2))
    assert flags["flagged"].tolist() == [True, True, False]
    assert flags.set_index("household_key")["known"].to_dict() == {
        "h3": False, "h2": False, "h1": True}
    wider = flag_households(households, features, known_within_months=36)
    assert wider.set_index("household_key").loc["h2", "known"]

    reasons = explain_households(_Fixed(), children, ["h3", "h1"])
    by_key = reasons.set_index("household_key")
    assert by_key.loc["h3", "reasons"].startswith("2 housing events in the last 12 months")
    assert "lone parent on benefits" in by_key.loc["h3", "reasons"]
    assert by_key.loc["h1", "reasons"] == "1 housing event in the last 12 months"


def test_neighbourhood_reasons_name_the_area_facts():
    from geo_risk.model.reasons import _words

    row = pd.Series({"deprivation": 0.9, "area_ta_12m": 0.0, "area_not_gld_3y": 0.5})
    assert _words("neighbourhood", row) == (
        "lives in one of England's 20% most deprived areas, many children nearby not "
        "school ready in recent years")
    calm = pd.Series({"deprivation": 0.2, "area_ta_12m": 0.0, "area_not_gld_3y": 0.3})
    assert _words("neighbourhood", calm) == "neighbourhood context"


def test_fairness_warns_on_a_gap():
    rng = np.random.default_rng(2)
    n = 4000
    test = pd.DataFrame({"male": rng.random(n) < 0.5, "eal": rng.random(n) < 0.2,
                         "months_young": rng.integers(0, 12, n), "deprivation": rng.random(n)})
    test["not_gld"] = rng.random(n) < 0.3
    test["p"] = np.where(test["not_gld"] & test["male"], 0.9, 0.2) + rng.random(n) * 0.01
    table, warnings = audit_fairness(test, k=600)
    boys = table[(table.attribute == "sex") & (table.group == "boys")].iloc[0]
    assert boys["tpr"] > 0.8 and boys["precision"] > 0.99
    assert any(w.startswith("by sex, the share") and w.endswith("(TPR)") for w in warnings)
    assert not any(char.isdigit() for w in warnings for char in w.split("than")[0])
    assert set(table["attribute"]) == {"sex", "first language", "term of birth",
                                       "deprivation quintile"}


def test_children_whose_sex_or_language_is_not_recorded_are_in_no_fairness_group():
    rng = np.random.default_rng(3)
    n = 2000
    test = pd.DataFrame({"male": np.where(rng.random(n) < 0.05, np.nan, rng.random(n) < 0.5),
                         "eal": np.where(rng.random(n) < 0.05, np.nan, rng.random(n) < 0.2),
                         "months_young": rng.integers(0, 12, n), "p": rng.random(n),
                         "not_gld": rng.random(n) < 0.3})
    table, _ = audit_fairness(test, k=200)
    sizes = table.set_index(["attribute", "group"])["children"]
    assert sizes["sex"].to_dict() == {"boys": int((test["male"] == 1).sum()),
                                      "girls": int((test["male"] == 0).sum())}
    assert sizes["first language"].sum() == test["eal"].notna().sum() < n


def test_model_acceptance_on_the_default_world(demo):
    out, summary = demo
    m = {**summary["model"], **summary["evaluation"]["model"]}
    assert m["holdout_auc"] >= 0.95 * m["oracle_auc"]
    assert 0.85 <= m["calibration_slope"] <= 1.15
    assert m["ece"] <= m["oracle_ece"] + 0.01
    assert m["expected_precision_at_k"] >= 0.95 * m["oracle_expected_precision_at_k"]
    assert m["holdout_auc"] > m["area_only_auc"] and m["auc_margin_over_area_only"] > 0.03
    assert 0.40 <= m["flagged_unknown"] / m["households_flagged"] <= 0.65
    assert m["households_flagged"] == m["k"] == int(np.ceil(0.05 * m["households_scored"]))
    assert m["mean_abs_prob_error"] < 0.1
    scored = SAFE.count(m["households_scored"])
    assert m["headline"].startswith(f"{scored} households with under-fives")
    on_disk = json.loads((out / "restricted/run.json").read_text())["model"]
    for key in ["holdout_auc", "holdout_average_precision", "brier", "calibration_slope", "ece",
                "k", "precision_at_k", "recall_at_k", "households_scored",
                "households_flagged", "flagged_unknown"]:
        assert key in on_disk, key
    evaluation = json.loads((out / "synth/evaluation.json").read_text())["model"]
    for key in ["oracle_auc", "oracle_ece", "expected_precision_at_k",
                "oracle_expected_precision_at_k", "mean_abs_prob_error"]:
        assert key in evaluation, key


def test_the_gap_to_logistic_regression_carries_its_cohort_noise(demo):
    """The evaluation says how sure the hold-out cohort is of the model's gap to logistic
    regression: the gap lies inside its own 90% bootstrap band, and the share of resamples
    ranking the model below it agrees with the gap's sign; a model against itself, or
    against noise, gives the band it must."""
    from geo_risk.synth.checks import _auc_gap_band

    _, summary = demo
    m, e = summary["model"], summary["evaluation"]["model"]
    low, high = e["auc_minus_logistic_band_90"]
    gap = m["holdout_auc"] - m["logistic_auc"]
    assert low <= gap <= high and low < high
    assert (e["auc_below_logistic_share"] < 0.5) == (gap > 0)
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.3
    p = np.where(y, 0.6, 0.4) + rng.normal(0, 0.2, 2000)
    assert _auc_gap_band(y, p, p, seed=1) == ([0.0, 0.0], 0.0)
    band, below = _auc_gap_band(y, p, rng.random(2000), seed=1)
    assert band[0] > 0.1 and below == 0.0


def test_records_ceiling_sits_between_the_model_and_the_oracle(demo):
    """The records ceiling (the true probability regressed on the run's own features) is
    at least the model's hold-out AUC and expected precision, up to chance, and below the
    oracle's; the emerging hot spot method on its risk finds the planted rise the records
    carry in the default world."""
    _, summary = demo
    e = summary["evaluation"]
    ceiling, model = e["records_ceiling"], e["model"]
    assert summary["model"]["holdout_auc"] - 0.005 <= ceiling["auc"] < model["oracle_auc"]
    assert model["expected_precision_at_k"] <= ceiling["expected_precision_at_k"] + 0.01
    assert ceiling["expected_precision_at_k"] <= model["oracle_expected_precision_at_k"]
    assert ceiling["recovery"]["emerging"]["recall"] >= 0.8
    assert "by household" in ceiling["method"]


def test_the_records_ceilings_risk_series_is_kept_to_score_again(demo):
    """The demo keeps the records ceiling's mean risk per OA per refresh beside the truth,
    dated as the run's own series, and scoring it again gives the evaluation's figures."""
    from types import SimpleNamespace

    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.synth.checks import recovery_on_series

    out, summary = demo
    series = pd.read_parquet(out / "synth/truth/ceiling_risk_by_refresh.parquet")
    run = pd.read_parquet(out / "work/oa_risk_by_refresh.parquet")
    assert list(series.columns) == list(run.columns) and set(series.index) == set(run.index)
    assert ((series > 0) & (series < 1)).all().all()
    world = SimpleNamespace(population=SimpleNamespace(
        planted=pd.read_csv(out / "synth/truth/planted_hotspots.csv")))
    settings = json.loads((out / "publish/run.json").read_text())["hotspots"]["settings"]
    se = pd.read_parquet(out / "work/oa_risk_se_by_refresh.parquet")
    again = recovery_on_series(world, load_boundaries(), series, se=se, **settings)
    assert again == summary["evaluation"]["records_ceiling"]["recovery"]


def test_restricted_list_and_model_card(demo):
    out, summary = demo
    flagged = pd.read_csv(out / "restricted/flagged_households.csv")
    assert len(flagged) == summary["model"]["households_flagged"]
    assert flagged["rank"].tolist() == list(range(1, len(flagged) + 1))
    assert flagged["score"].is_monotonic_decreasing
    assert (flagged["reasons"].fillna("") != "").mean() > 0.95
    assert set(flagged["status"]) == {"known to children's services", "previously unknown"}
    scores = pd.read_parquet(out / "restricted/household_scores.parquet")  # every household
    assert len(scores) == summary["model"]["households_scored"]
    assert scores["flagged"].sum() == len(flagged) and scores["rank"].is_monotonic_increasing
    assert scores["score"].is_monotonic_decreasing and scores[C.OA].notna().all()
    assert (scores.loc[scores["flagged"], "household_key"] == flagged["household_key"]).all()
    card = (out / "publish/model/model_card.md").read_text()
    auc = f"{summary['model']['holdout_auc']:.3f}"
    for phrase in ["not for eligibility or enforcement decisions", "area only (deprivation)",
                   "Fairness", "Limitations", summary["model"]["holdout_cohort"],
                   f"| gradient boosting (calibrated) | {auc} |", "| calibration slope |"]:
        assert phrase in card, phrase
    page = (out / "publish/model/model_card.html").read_text()
    assert page.startswith("<!doctype html>") and "<table><caption>" in page
    for path in (out / "publish/model").iterdir():  # nothing published names a household
        assert not set(flagged["household_key"]) & set(path.read_text().split())


def test_same_seed_same_scores(demo, tmp_path):
    from geo_risk.run.folder import RunFolder
    from geo_risk.run.pipeline import read_feature_tables, run_model

    out, _ = demo
    tables = read_feature_tables(out / "restricted/link")
    run_model(tables, RunFolder(tmp_path / "again"), random_state=1)
    again = (tmp_path / "again/restricted/flagged_households.csv").read_bytes()
    assert again == (out / "restricted/flagged_households.csv").read_bytes()
    other = run_model(tables, RunFolder(tmp_path / "other"), random_state=2)
    assert len(other.households) == len(pd.read_parquet(out / "restricted/link/households.parquet"))


def test_stumps_are_scored_as_their_step_functions():
    """The model's rounds are stumps, so each fold model is a sum of one step function per
    feature; scoring it as such gives scikit-learn's probabilities, for missing values, for
    values on a step's threshold and beyond the training range too."""
    X, y, _ = _toy()
    X["hs_12m"] = X["hs_12m"].where(np.arange(len(X)) % 7 > 0)  # some missing
    model = RiskModel().fit(X, y, groups=np.arange(len(y)) // 2)
    assert model.steps_ is not None
    feature, thresholds, _, _ = model.steps_.steps[0]
    edge = X.iloc[:len(thresholds) + 1].copy()
    edge.iloc[:, feature] = [*thresholds, thresholds.max() + 100]
    for rows in (X, edge, X * 3, X.assign(months_young=np.nan)):  # never missing in training
        theirs = np.clip(model.calibrated_.predict_proba(rows.astype(float))[:, 1], 0.01, 0.99)
        assert np.abs(model.predict_proba(rows)[:, 1] - theirs).max() < 1e-12
    assert RiskModel(max_depth=2, max_iter=20).fit(X, y).steps_ is None
    # trees in a form not read here (another scikit-learn) are scored by scikit-learn
    from geo_risk.model.estimator import _Steps

    model.calibrated_.calibrated_classifiers_[0].estimator._predictors = [[None]]
    assert _Steps.of(model.calibrated_) is None


def test_the_model_card_names_features_in_words(demo):
    """A board member reads 'rent arrears in the last 12 months', not hs_arrears_12m."""
    import re

    from geo_risk.model import FEATURE_WORDS, feature_columns

    out, _ = demo
    children = pd.read_parquet(out / "restricted/link/children.parquet")
    assert set(feature_columns(children)) <= set(FEATURE_WORDS)
    card = (out / "publish/model/model_card.md").read_text()
    section = card[card.index("## Features"):card.index("## Performance")]
    assert not re.search(r"\b(hs|bn|po|sc|yo|dl|hh)_\w+", section), section
    assert "rent arrears in the last 12 months" in section
