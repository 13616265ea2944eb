"""Figures that show a synthetic world hits its targets (evaluation only: reads the truth).

:func:`describe_world` reports the rate of not reaching GLD, the ward gradient, the
emerging hotspot's rise and how much of the highest true risk services already know.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.columns import HOUSEHOLD
from geo_risk.synth.world import World

__all__ = ["describe_world", "early_warning", "hotspot_recovery", "household_risk",
           "planted_recovery", "records_ceiling", "recovery_on_series", "recovery_on_truth",
           "true_series"]


def household_risk(child_risk: pd.DataFrame, refresh: int) -> pd.Series:
    """True probability that at least one under-five in the household misses GLD."""
    at = child_risk[child_risk["refresh"] == refresh]
    return 1 - (1 - at["p_not_gld"]).groupby(at["uprn"]).prod()


def true_child_risk(world: World, key) -> pd.Series:
    """Each labelled child's true risk at four, indexed by pseudonymised child key."""
    from geo_risk.inputs import pseudonymise_series

    truth = world.children[world.children["labelled"]]
    return pd.Series(truth["p_not_gld_at_4"].to_numpy(),
                     index=pseudonymise_series(truth["child_id"], key, "nhs").to_numpy())


def true_household_risk(world: World, key) -> pd.Series:
    """:func:`household_risk` at the last refresh, indexed by pseudonymised household key."""
    from geo_risk.inputs import pseudonymise_series

    last = int(world.child_risk["refresh"].max())
    now = world.child_risk[world.child_risk["refresh"] == last]
    return household_risk(now.assign(uprn=pseudonymise_series(now["uprn"], key, "uprn")), last)


def known_households(world: World, *, within_months: int = 24) -> set[str]:
    """UPRNs with a social care or early help episode open at the last refresh or ended
    within ``within_months`` of it (the model stage's definition of "known")."""
    sc = world.extracts["social_care"]
    end = pd.Timestamp(world.population.timeline.end)
    ended = pd.to_datetime(sc["end_date"].where(sc["end_date"] != ""))
    recent = ended.isna() | (ended >= end - pd.DateOffset(months=within_months))
    return set(sc.loc[recent, "uprn"].str.strip())


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
    unknown_share = float(np.mean(~top.index.isin(known_households(world))))

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
        "known_within_months": 24,
    }


def escalation_truth(world: World, key, outcome: str) -> pd.Series:
    """The true probability of a domestic abuse outcome's event (:mod:`~geo_risk.synth.
    escalation`) per household key and quarter end (a two-level index)."""
    from geo_risk.inputs import pseudonymise_series

    assert world.escalation is not None, "a world made for a domestic abuse outcome"
    risk = world.escalation.risk
    column = "p_repeat" if outcome == "domestic_abuse_repeat" else "p_escalation"
    return pd.Series(risk[column].to_numpy(), index=pd.MultiIndex.from_arrays(
        [pseudonymise_series(risk["uprn"], key, "uprn").to_numpy(),
         pd.to_datetime(risk["quarter_end"]).to_numpy()]))


def _pairs(rows: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([rows[HOUSEHOLD].to_numpy(), rows["as_of"].to_numpy()])


def escalation_figures(world: World, key, model_run, outcome: str) -> dict:
    """A household outcome's model against the truth (synthetic runs only): the oracle's
    AUC, calibration slope (with its 90% band) and ECE on the model's hold-out landmark
    date, the model's AUC as a share of the oracle's, and how sure it is to rank below
    logistic regression there (:func:`_auc_gap_band`)."""
    from sklearn.metrics import roc_auc_score

    from geo_risk.model import LABEL, calibration, expected_calibration_error

    test = model_run.validation.test
    p_true = escalation_truth(world, key, outcome).reindex(_pairs(test)).to_numpy()
    held = ~np.isnan(p_true)
    test, p_true = test[held], p_true[held]
    y, p = test[LABEL].astype(bool).to_numpy(), test["p"].to_numpy()
    gap_band, below = _auc_gap_band(y, p, test["p_logistic"].to_numpy(), seed=world.seed)
    return {
        "oracle_auc": round(float(roc_auc_score(y, p_true)), 4),
        "oracle_calibration_slope": round(calibration(y, p_true)[0], 4),
        "oracle_slope_band_90": _slope_band(y, p_true, seed=world.seed),
        "oracle_ece": round(expected_calibration_error(y, p_true), 4),
        "auc_ratio_to_oracle": round(float(roc_auc_score(y, p) / roc_auc_score(y, p_true)), 4),
        "auc_minus_logistic_band_90": gap_band,
        "auc_below_logistic_share": below,
        "holdout_with_truth": int(held.sum()),
        "event_rate": round(float(y.mean()), 4),
    }


def escalation_ceiling(world: World, key, tables, linked, refresh_dates: list[str], *,
                       model_run, outcome: str, folds: int = 5) -> dict:
    """:func:`records_ceiling` of a household outcome: the true probability at each
    labelled landmark regressed on the run's features, cross-fitted by household; its
    AUC and ECE on the run's hold-out landmark and its ``series`` (each OA's mean over
    the households scored at each refresh)."""
    from sklearn.metrics import roc_auc_score

    from geo_risk.model import LABEL, current_children, expected_calibration_error, get_outcome

    truth = escalation_truth(world, key, outcome)
    rows = tables.children
    labelled = rows[rows["role"] == "labelled"]
    target = truth.reindex(_pairs(labelled)).to_numpy()
    labelled, target = labelled[~np.isnan(target)], target[~np.isnan(target)]
    held_out, predict = _cross_fitted(labelled, target, model_run, folds, world.seed)
    test = (labelled["academic_year"] == model_run.validation.test_cohort).to_numpy()
    p_test = np.clip(held_out[test], 0.001, 0.999)
    y = labelled.loc[test, LABEL].astype(bool).to_numpy()
    by_refresh = current_children(linked, refresh_dates, outcome=get_outcome(outcome))
    by_refresh = by_refresh.assign(p=predict(by_refresh),
                                   refresh=by_refresh["as_of"].dt.strftime("%Y-%m-%d"))
    return {
        "method": "gradient-boosted regression of the true probability on the run's "
                  f"features, all labelled landmarks, {folds} folds by household",
        "auc": round(float(roc_auc_score(y, p_test)), 4),
        "ece": round(expected_calibration_error(y, p_test), 4),
        "series": by_refresh.groupby([C.OA, "refresh"])["p"].mean().unstack(),
    }


def oracle_figures(world: World, key, model_run) -> dict:
    """The model against the truth (synthetic runs only): oracle AUC and ECE on the same
    test cohort, expected precision at k for the model's and the oracle's top k households,
    and the mean absolute error of the scored children's probabilities."""
    from sklearn.metrics import roc_auc_score

    from geo_risk.inputs import pseudonymise_series
    from geo_risk.model import calibration, expected_calibration_error

    true_p = true_child_risk(world, key)
    test = model_run.validation.test
    y = test["not_gld"].astype(bool)
    p_true = true_p.reindex(test["child_key"]).to_numpy()

    last = int(world.child_risk["refresh"].max())
    now = world.child_risk[world.child_risk["refresh"] == last]
    now_p = pd.Series(now["p_not_gld"].to_numpy(),
                      index=pseudonymise_series(now["child_id"], key, "nhs").to_numpy())
    households = model_run.households
    hh_true = true_household_risk(world, key)
    k = int(households["flagged"].sum())
    flagged = households.loc[households["flagged"], "household_key"]
    expected = float(hh_true.reindex(flagged).mean())
    oracle = float(hh_true.nlargest(k).mean())
    scored = model_run.children
    slope_band = _slope_band(y.to_numpy(), p_true, seed=world.seed)
    gap_band, below = _auc_gap_band(y.to_numpy(), test["p"].to_numpy(),
                                    test["p_logistic"].to_numpy(), seed=world.seed)
    return {
        "oracle_auc": round(float(roc_auc_score(y, p_true)), 4),
        "oracle_calibration_slope": round(calibration(y, p_true)[0], 4),
        "oracle_slope_band_90": slope_band,
        "oracle_ece": round(expected_calibration_error(y, p_true), 4),
        "auc_minus_logistic_band_90": gap_band,
        "auc_below_logistic_share": below,
        "auc_ratio_to_oracle": round(float(roc_auc_score(y, test["p"])
                                           / roc_auc_score(y, p_true)), 4),
        "expected_precision_at_k": round(expected, 4),
        "oracle_expected_precision_at_k": round(oracle, 4),
        "expected_precision_ratio": round(expected / oracle, 4),
        "mean_abs_prob_error": round(float(np.abs(
            scored["p"].to_numpy() - now_p.reindex(scored["child_key"]).to_numpy()).mean()), 4),
        "flagged_unknown_share": round(
            float((~households.loc[households["flagged"], "known"]).mean()), 4),
    }


def _resampled(statistic, y: np.ndarray, *scores: np.ndarray, seed: int,
               draws: int = 200) -> np.ndarray:
    """``statistic(y, *scores)`` on each of ``draws`` bootstrap resamples of the cohort."""
    rng = np.random.default_rng(seed)
    return np.array([statistic(y[i], *(s[i] for s in scores))
                     for i in (rng.integers(0, len(y), len(y)) for _ in range(draws))])


def _slope_band(y: np.ndarray, p: np.ndarray, *, seed: int) -> list[float]:
    """The 5th and 95th percentiles of the true probabilities' own calibration slope over
    bootstrap resamples of the cohort: how far a perfect model's slope wanders on a cohort
    of this size."""
    from geo_risk.model import calibration_slope

    slopes = _resampled(calibration_slope, y, p, seed=seed)
    return [round(float(q), 4) for q in np.percentile(slopes, [5, 95])]


def _auc_gap_band(y: np.ndarray, p: np.ndarray, q: np.ndarray, *, seed: int
                  ) -> tuple[list[float], float]:
    """The 5th and 95th percentiles of AUC(p) - AUC(q) over bootstrap resamples of the
    cohort (both scored on each), and the share of resamples in which p ranks below q: how
    much of a gap between two models one cohort of this size can show."""
    from sklearn.metrics import roc_auc_score

    gaps = _resampled(lambda y, p, q: roc_auc_score(y, p) - roc_auc_score(y, q), y, p, q,
                      seed=seed)
    band = [round(float(g), 4) for g in np.percentile(gaps, [5, 95])]
    return band, round(float((gaps < 0).mean()), 3)


def recovery_on_series(world: World, oas, series: pd.DataFrame, *,
                       se: pd.DataFrame | None = None, planted: pd.DataFrame | None = None,
                       **settings) -> dict:
    """:func:`hotspot_recovery` of the run's method (:func:`geo_risk.areas.classify_series`,
    with ``settings``) applied to another risk series (mean risk per OA (rows) per refresh
    (columns, in order)): what the method finds on the truth or on the records ceiling.
    ``se``: the run's standard errors, so the method sees the same sampling noise;
    ``planted``: the hotspots scored (the world's, school readiness's, by default)."""
    from geo_risk.areas import build_weights, classify_series

    weights = build_weights(oas, weights=settings.pop("weights", "queen"))
    found = classify_series(series, oas, se=se, weights=weights, **settings)
    return hotspot_recovery(world.population.planted if planted is None else planted, found,
                            weights)


def true_series(world: World, dates) -> pd.DataFrame:
    """The true mean risk of each OA's under-fives at each refresh, dated as ``dates``."""
    risk = world.child_risk
    series = risk.groupby([C.OA, "refresh"])["p_not_gld"].mean().unstack()
    series.columns = list(dates)[:series.shape[1]]
    return series


def recovery_on_truth(world: World, oas, dates, **kwargs) -> dict:
    """The emerging hot spot method on the true mean risk of each OA's under-fives at each
    refresh (``kwargs``: as :func:`recovery_on_series`)."""
    return recovery_on_series(world, oas, true_series(world, dates), **kwargs)


def _cross_fitted(labelled: pd.DataFrame, target: np.ndarray, model_run, folds: int,
                  seed: int):
    """The records ceiling's regression (:func:`records_ceiling`) of ``target`` (the true
    probability of each labelled row) on the run's features: each labelled row's
    prediction by the fold model that never saw its household, and a function predicting
    other rows by one model fitted on them all."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from geo_risk.model import household_folds

    features = [f for f in model_run.model.features_ if f in labelled]
    X = labelled[features].astype(float)
    held_out = np.empty(len(labelled))
    rounds = []

    def booster(**stopping) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=40,
            random_state=seed, **stopping)

    for fit, held in household_folds(X, None, labelled[HOUSEHOLD], folds):
        model = booster(max_iter=400, early_stopping=True, validation_fraction=0.1)
        held_out[held] = model.fit(X.iloc[fit], target[fit]).predict(X.iloc[held])
        rounds.append(model.n_iter_)
    # rows no fold saw (current, each refresh's): one model on every labelled row, with
    # as many rounds as the folds' early stopping chose
    whole = booster(max_iter=int(np.median(rounds)), early_stopping=False).fit(X, target)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.clip(whole.predict(frame[features].astype(float)), 0.001, 0.999)

    return held_out, predict


def records_ceiling(world: World, key, tables, linked, refresh_dates: list[str], oas, *,
                    model_run, folds: int = 5) -> dict:
    """The records ceiling: the best prediction what partners record allows, estimated.

    A flexible model (gradient-boosted regression trees, 31 leaves) of the *true*
    probability on the run's own features: the records as geo-risk links and describes
    them. The target is noiseless, which is worth far more than ten times the labels, and
    every labelled cohort trains it (the hold-out cohort too), cross-fitted by household:
    each labelled child is predicted by the fold model that never saw its household (so
    no household's unrecorded effect leaks from a sibling), the current children and
    each refresh's by one model fitted on them all. Areas are not held out: what other
    families' records and results say about an area is recorded information, and an
    area's identity is in its deprivation rank. So it estimates ``E[true risk |
    records]`` on this world; no model of the same records should beat it except by
    chance. (It sees the records as linked: what linkage loses is lost to the ceiling
    too.)

    Returns its hold-out AUC and ECE on the run's hold-out cohort, the expected precision
    of its top k households, and its ``series`` (mean risk per OA (rows) per refresh
    (columns, ISO dates)), which the demo scores with the run's hot spot method.
    """
    from sklearn.metrics import roc_auc_score

    from geo_risk.model import current_children, expected_calibration_error

    true_p = true_child_risk(world, key)
    children = tables.children
    labelled = children[children["role"] == "labelled"]
    labelled = labelled[labelled["child_key"].isin(true_p.index)]
    held_out, predict = _cross_fitted(labelled, true_p.reindex(labelled["child_key"]).to_numpy(),
                                      model_run, folds, world.seed)
    test = (labelled["academic_year"] == model_run.validation.test_cohort).to_numpy()
    p_test = np.clip(held_out[test], 0.001, 0.999)
    y = labelled.loc[test, "not_gld"].astype(bool).to_numpy()

    current = children[children["role"] == "current"]
    p_now = pd.Series(predict(current), index=current.index)
    hh_ceiling = 1 - (1 - p_now).groupby(current[HOUSEHOLD].to_numpy()).prod()
    hh_true = true_household_risk(world, key)
    k = int(model_run.households["flagged"].sum())
    top = hh_ceiling.nlargest(k).index

    by_refresh = current_children(linked, refresh_dates)
    by_refresh = by_refresh.assign(p=predict(by_refresh),
                                   refresh=by_refresh["as_of"].dt.strftime("%Y-%m-%d"))
    series = by_refresh.groupby([C.OA, "refresh"])["p"].mean().unstack()  # dates in order
    return {
        "method": "gradient-boosted regression of the true probability on the run's "
                  f"features, all labelled cohorts, {folds} folds by household",
        "auc": round(float(roc_auc_score(y, p_test)), 4),
        "ece": round(expected_calibration_error(y, p_test), 4),
        "expected_precision_at_k": round(float(hh_true.reindex(top).mean()), 4),
        "series": series,
    }


def hotspot_recovery(planted: pd.DataFrame, found: pd.DataFrame, weights) -> dict:
    """How an emerging hot spot analysis recovers each planted hotspot.

    ``planted``: the world's ``oa11cd``, ``hotspot`` and ``expected_category`` (categories
    joined by "|"); ``found``: per OA, ``ehsa_category`` and ``emerging``
    (:func:`geo_risk.areas.classify_series`); ``weights``: the run's
    :class:`~geo_risk.areas.hotspots.Weights`. The planted emerging hotspot is found where
    ``emerging`` holds, the others where the category is one expected. Per hotspot:
    ``recall`` (share of its OAs found), ``classed_oas`` (OAs found anywhere) and
    ``outside_share`` (of those, the share outside the hotspot and its first-order
    neighbours).
    """
    adjacency = weights.binary()
    position = {code: i for i, code in enumerate(weights.ids)}
    found = found.reindex(weights.ids)
    out = {}
    for kind, group in planted.groupby("hotspot", sort=False):
        if kind == "emerging":
            hit = found["emerging"].fillna(False).astype(bool)
        else:
            expected = set(group["expected_category"].iat[0].split("|"))
            hit = found["ehsa_category"].isin({f"{c} hot spot" for c in expected})
        members = [position[c] for c in group[C.OA]]
        near = set(members) | set(adjacency[members].indices)
        classed = np.flatnonzero(hit.to_numpy())
        out[kind] = {
            "recall": round(float(hit.reindex(group[C.OA]).mean()), 4),
            "classed_oas": len(classed),
            "outside_share": round(float(np.mean([i not in near for i in classed]))
                                   if len(classed) else 0.0, 4),
        }
    return out


def early_warning(planted: pd.DataFrame, oas, series: pd.DataFrame, *, rise_from: int,
                  se: pd.DataFrame | None = None, known_share: pd.Series | None = None,
                  draws: int = 50, **settings) -> dict:
    """How early the run's method sees the planted rise, replayed as a partnership runs
    it: at each refresh, :func:`geo_risk.areas.classify_series` on the refreshes up to
    then alone (``draws`` resamples each, half a run's, to keep the replay quick).

    - ``lead``: refreshes from the start of the rise (``rise_from``, 0-based) until at
      least half the planted emerging OAs are classed emerging or lie in a newly
      identified area of concern (risk concentrating where services are not present:
      :func:`geo_risk.areas.areas_of_concern` on that refresh's risk, with
      ``known_share``, services' presence as at the reference date); None if never.
    - ``lead_emerging``: the same counting only the emerging class.
    - ``false_alarms``: connected groups of OAs newly classed emerging (not so at the
      refresh before) outside the planted emerging OAs and their neighbours, per
      district per year of refreshes replayed.
    """
    from scipy.sparse.csgraph import connected_components

    from geo_risk.areas import MIN_REFRESHES, areas_of_concern, build_weights, classify_series

    weights = build_weights(oas, weights=settings.pop("weights", "queen"))
    adjacency = weights.binary()
    position = {code: i for i, code in enumerate(weights.ids)}
    members = [position[c] for c in planted.loc[planted["hotspot"] == "emerging", C.OA]]
    near = np.zeros(len(weights.ids), dtype=bool)
    near[members] = True
    near[adjacency[members].indices] = True
    districts = int(oas[C.LAD].nunique()) if C.LAD in oas else 1
    lead = lead_emerging = None
    groups, before = 0, None
    steps = range(max(MIN_REFRESHES, settings.get("time_lag", 1) + 2), series.shape[1] + 1)
    for t in steps:
        so_far = series.iloc[:, :t]
        found = classify_series(so_far, oas, se=None if se is None else se.iloc[:, :t],
                                weights=weights, draws=draws, **settings)
        emerging = found["emerging"].to_numpy()
        if before is not None:
            new = np.flatnonzero(emerging & ~before & ~near)
            if len(new):
                groups += connected_components(adjacency[new][:, new], directed=False)[0]
        before = emerging
        if t - 1 < rise_from:
            continue
        if lead_emerging is None and emerging[members].mean() >= 0.5:
            lead_emerging = t - 1 - rise_from
        if lead is None:
            seen = emerging[members]
            if known_share is not None:
                current = so_far.iloc[:, -1].reindex(weights.ids)
                concern = areas_of_concern(current.fillna(current.mean()),
                                           known_share.reindex(weights.ids).fillna(0.0),
                                           weights, alpha=settings.get("alpha", 0.05))
                seen = seen | (concern["concern"] == "newly identified").to_numpy()[members]
            if seen.mean() >= 0.5:
                lead = t - 1 - rise_from
    years = len(steps) / 4
    return {"lead": lead, "lead_emerging": lead_emerging,
            "false_alarms": round(groups / districts / years, 3) if years else 0.0,
            "refreshes_replayed": len(steps)}


def planted_recovery(synth: Path, oas, found: pd.DataFrame) -> dict | None:
    """:func:`hotspot_recovery` of a run whose world was written to ``synth`` (as
    ``geo-risk demo`` does); None for a world without a recorded truth."""
    from geo_risk.areas import build_weights

    path = Path(synth) / "truth/planted_hotspots.csv"
    if not path.is_file():
        return None
    return hotspot_recovery(pd.read_csv(path), found, build_weights(oas))
