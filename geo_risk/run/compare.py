"""What changed since the last run of the same partnership (``geo-risk compare OLD NEW``;
``geo-risk run`` does it for its report when ``[history] previous`` names the last run).

Published (``publish/since_last_run/``, every count disclosure-controlled):

- ``summary.json``: headline figures side by side, the flag churn as rounded counts,
  how the last run's model did on the results that arrived since, and drift;
- ``wards.csv``: each ward's mean predicted risk then and now, and its risk band on this
  run's map scale (the same five classes applied to both, so a band change is a change
  in risk, not in the classes);
- ``areas.csv``: output areas whose risk band changed (on the same classes) or that
  became, stayed or stopped being emerging hot spots or areas of concern;
- ``drift.csv``: the population stability index (PSI) of each feature between the two
  runs' under-fives, with :data:`PSI_WARNING` as the level that asks for a look.

Restricted (``restricted/since_last_run/``): ``flag_changes.csv`` (each household flagged in
either run: newly flagged, still flagged or no longer flagged, by pseudonymised key, which
stays the same under one project key), ``monitoring.parquet`` (each child whose result
arrived since, the last run's score and the outcome) and ``summary.json`` with exact
counts.

Monitoring is prospective validation: the last run's fitted model (kept in its
``restricted/model.joblib``) scores the children whose school-readiness results were
published after its reference date, described as it would have described them (aged
3½, from records dated before then), against the results now held. Nothing here feeds
the model.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import GeoRiskError
from geo_risk.areas import EMERGING, STABLE, Disclosure
from geo_risk.columns import HOUSEHOLD
from geo_risk.geography import read_code_columns
from geo_risk.inputs import read_pseudonymised
from geo_risk.io import write_csv
from geo_risk.model import (
    LABEL,
    SCHOOL_READINESS,
    Outcome,
    feature_columns,
    outcome_metrics,
    published_on,
)
from geo_risk.publish import risk_classes
from geo_risk.run.folder import RunFolder

__all__ = ["PSI_MODERATE", "PSI_WARNING", "Comparison", "compare_runs",
           "population_stability", "write_comparison"]

#: PSI above which a feature's distribution has shifted enough to check the model
#: (the usual reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a shift).
PSI_WARNING, PSI_MODERATE = 0.25, 0.10
#: Fewest children with newly arrived results before the last run's model is scored on them.
MIN_MONITORED = 50

CHURN = ("newly flagged", "still flagged", "no longer flagged")


@dataclass
class Comparison:
    """Two runs compared: what may be published and what stays restricted."""

    summary: dict  # published: counts disclosure-controlled
    wards: pd.DataFrame  # published
    areas: pd.DataFrame  # published
    drift: pd.DataFrame  # published
    fields: dict[str, str] = field(default_factory=dict)  # area columns as the run publishes
    exact: dict = field(default_factory=dict)  # restricted: exact counts
    flags: pd.DataFrame | None = None  # restricted
    monitoring: pd.DataFrame | None = None  # restricted


def population_stability(old, new, *, bins: int = 10) -> float:
    """PSI of ``new`` against ``old``: bins at ``old``'s deciles (each value its own bin
    when there are few), missing values a bin of their own.

    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=5000)
    >>> round(population_stability(a, rng.normal(size=5000)), 3) < 0.01
    True
    >>> round(population_stability(a, rng.normal(1, 1, size=5000)), 1)
    1.0
    """
    old, new = pd.Series(old, dtype=float), pd.Series(new, dtype=float)
    values = old.dropna().unique()
    if len(values) <= bins:
        edges = np.sort(values)[:-1] + np.diff(np.sort(values)) / 2
    else:
        edges = np.unique(np.quantile(old.dropna(), np.linspace(0, 1, bins + 1)[1:-1]))

    def shares(x: pd.Series) -> np.ndarray:
        which = np.where(x.isna(), len(edges) + 1, np.searchsorted(edges, x, side="right"))
        counts = np.bincount(which.astype(int), minlength=len(edges) + 2)
        return np.maximum(counts / max(len(x), 1), 1e-4)

    a, b = shares(old), shares(new)
    return float(np.sum((b - a) * np.log(b / a)))


# --- reading the two runs ---


def _published(folder: RunFolder) -> dict:
    if not folder.summary.is_file():
        raise GeoRiskError(f"{folder.root}: not a finished geo-risk run (no publish/run.json); "
                           "give the --out folder of an earlier 'geo-risk run'.")
    return json.loads(folder.summary.read_text())


def _area_table(folder: RunFolder, name: str) -> pd.DataFrame:
    """A published area table with its codes under internal names (any vintage)."""
    table = pd.read_csv(folder.areas / name, dtype=str, keep_default_na=False)
    codes = read_code_columns(table.columns)
    return table.rename(columns={header: internal for internal, (header, _) in codes.items()})


def _fingerprint(folder: RunFolder) -> str | None:
    found = sorted(folder.pseudonymised.glob("*.parquet")) if folder.pseudonymised.is_dir() \
        else []
    return read_pseudonymised(found[0])[1].get("key_fingerprint") if found else None


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


# --- the published comparison ---


def _round(value, digits: int = 3):
    return round(value, digits) if isinstance(value, float) else value


def _headline(old: dict, new: dict, outcome: Outcome) -> list[dict]:
    def figures(r: dict) -> dict:
        h, m, s = r.get("headline", {}), r.get("model", {}), r.get("hotspots", {})
        emerging = s.get("emerging_hot_spots", {})
        return {
            f"{outcome.households.capitalize()} scored": h.get("households_scored"),
            "Households flagged": h.get("households_at_risk"),
            "of which unknown to services": h.get("previously_unknown"),
            "Hold-out AUC": _round(m.get("holdout_auc")),
            "Calibration slope": _round(m.get("calibration_slope")),
            "Moran's I of output-area risk": _round(s.get("moran_i")),
            "Emerging hot spot output areas": sum(emerging.get(c, 0) for c in EMERGING),
            "of which stable": s.get("emerging_stable"),
            "Known areas of concern (output areas)": s.get("known_concern_oas"),
            "Newly identified areas of concern (output areas)": s.get("new_concern_oas"),
        }

    before, after = figures(old), figures(new)
    return [{"figure": k, "previous": before[k], "latest": after[k]} for k in after]


def _bands(then: pd.Series, now: pd.Series) -> pd.DataFrame:
    """Mean risk then and now (published strings), and the band of each on the five
    classes of ``now`` (this run's map)."""
    then, now = _number(then).reindex(now.index), _number(now)
    classes = risk_classes(now)
    table = pd.DataFrame({"previous_risk": then, "latest_risk": now,
                          "change": (now - then).round(3)})
    bands = {when: classes.band(table[f"{when}_risk"]) for when in ["previous", "latest"]}
    for when, band in bands.items():
        table[f"{when}_band"] = band.map(lambda b: "" if b < 0 else classes.labels[b])
    moved = np.sign(bands["latest"] - bands["previous"]).where(bands["previous"] >= 0, 0)
    table["band_change"] = moved.map({1: "up", -1: "down", 0: ""})
    return table


def _wards(old: RunFolder, new: RunFolder, names: pd.Series) -> pd.DataFrame:
    then, now = (_area_table(f, "ward.csv").set_index(C.WARD) for f in (old, new))
    table = _bands(then["mean_risk"], now["mean_risk"])
    table.insert(0, C.WARD_NAME, names.reindex(now.index).fillna("").to_numpy())
    return table.sort_values("change", ascending=False)


def _status(before: pd.Series, after: pd.Series) -> pd.Series:
    was, now = before.ne(""), after.ne("")
    return pd.Series(np.select([was & now, now, was], ["continuing", "new", "ended"], ""),
                     index=before.index)


def _areas(old: RunFolder, new: RunFolder, ward_of: pd.Series) -> tuple[pd.DataFrame, dict]:
    """Output areas whose risk band, emerging hot spot or concern status changed."""
    then, now = (_area_table(f, "oa_hotspots.csv").set_index(C.OA) for f in (old, new))
    common = now.index.intersection(then.index)
    risk = [_area_table(f, "oa.csv").set_index(C.OA)["mean_risk"] for f in (old, new)]

    def emerging(t):
        return t["ehsa_category"].where(t["ehsa_category"].isin(EMERGING), "")

    before, after = then.reindex(common), now.reindex(common)
    table = _bands(risk[0].reindex(common), risk[1].reindex(common)).assign(
        previous_category=before["ehsa_category"], latest_category=after["ehsa_category"],
        latest_stability=_number(after.get("ehsa_stability", pd.Series(index=common))),
        emerging=_status(emerging(before), emerging(after)),
        previous_concern=before["concern"], latest_concern=after["concern"],
        concern=_status(before["concern"], after["concern"]))
    table.insert(0, C.WARD_NAME, ward_of.reindex(common).fillna("").to_numpy())
    counts: dict[str, Any] = {
        kind: {s: int((table[kind] == s).sum()) for s in ["new", "continuing", "ended"]}
        for kind in ["emerging", "concern"]}
    counts["band"] = {s: int((table["band_change"] == s).sum()) for s in ["up", "down"]}
    new_emerging = table[(table["emerging"] == "new")
                         & (table["latest_stability"] >= STABLE)]
    counts["wards_with_new_stable_emerging"] = (
        new_emerging[C.WARD_NAME].value_counts().head(3).to_dict())
    counts["output_areas_not_in_both"] = len(now.index.symmetric_difference(then.index))
    changed = (table["band_change"] != "") | (table["emerging"] != "") | (table["concern"] != "")
    return table[changed].sort_values("change", ascending=False).rename_axis(C.OA), counts


# --- the restricted comparison ---


def _churn(old: RunFolder, new: RunFolder) -> pd.DataFrame:
    then, now = (pd.read_parquet(f.scores).set_index(HOUSEHOLD) for f in (old, new))
    keys = then.index[then["flagged"]].union(now.index[now["flagged"]])
    was = then["flagged"].reindex(keys, fill_value=False).to_numpy(dtype=bool)
    is_ = now["flagged"].reindex(keys, fill_value=False).to_numpy(dtype=bool)
    return pd.DataFrame({
        "change": np.select([was & is_, is_], list(CHURN[1::-1]), CHURN[2]),
        "previous_rank": then["rank"].reindex(keys).astype("Int64").to_numpy(),
        "latest_rank": now["rank"].reindex(keys).astype("Int64").to_numpy(),
        "previous_score": then["score"].reindex(keys).round(4).to_numpy(),
        "latest_score": now["score"].reindex(keys).round(4).to_numpy(),
        "known": now["known"].reindex(keys).to_numpy(),
        C.OA: now[C.OA].reindex(keys).fillna(then[C.OA].reindex(keys)).to_numpy()},
        index=keys.rename(HOUSEHOLD)).sort_values(["change", "latest_rank"]).reset_index()


def _known_on(labelled: pd.DataFrame, outcome: Outcome) -> pd.Series:
    """When each labelled row's outcome became known: its cohort's results published (a
    child), its horizon passed (a household at a landmark date)."""
    if outcome.unit[0] == "household":
        return labelled["as_of"] + pd.DateOffset(months=outcome.horizon_months)
    return published_on(labelled["academic_year"])


def _monitoring(old: RunFolder, children: pd.DataFrame, old_record: dict, new_reference: str,
                outcome: Outcome) -> tuple[pd.DataFrame | None, dict]:
    """The last run's model on the rows (of the later run's link) whose outcomes became
    known since (children whose results were published)."""
    reference = pd.Timestamp(old_record["reference_date"])
    labelled = children[children["role"] == "labelled"]
    arrived = labelled[(_known_on(labelled, outcome) > reference)
                       & (labelled["as_of"] <= reference)]
    cohorts = sorted(arrived["academic_year"].unique())
    unit = outcome.unit[1]  # "children", "households": who the count is of
    info = {"results_since": f"{reference.date()} to {new_reference}",
            "cohorts": [str(c) for c in cohorts], "unit": unit, unit: len(arrived)}
    if len(arrived) < MIN_MONITORED or arrived[LABEL].nunique() < 2:
        info["note"] = outcome.too_few_since.format(n=len(arrived))
        return None, info
    model = joblib.load(old.fitted_model)
    missing = [f for f in getattr(model, "features_", []) if f not in arrived]
    if missing:  # e.g. a deprivation measure the later run was not given
        info["note"] = (f"the last run's model uses {', '.join(missing)}, which this run "
                        "does not have, so it cannot score the results that arrived since.")
        return None, info
    p = model.predict_proba(arrived)[:, 1]
    m = old_record["model"]
    share = m["households_flagged"] / max(m["households_scored"], 1)
    k = max(1, math.ceil(share * len(arrived)))
    found = outcome_metrics(arrived[LABEL].astype(bool), p, k)
    info.update({key: round(found[key], 4) for key in
                 ["auc", "calibration_slope", "calibration_intercept", "ece",
                  "precision_at_k", "recall_at_k"]})
    info.update(flagged_share=round(share, 4), k=k,
                previous_holdout_auc=m.get("holdout_auc"),
                previous_calibration_slope=m.get("calibration_slope"),
                observed_rate=round(float(arrived[LABEL].mean()), 4),
                predicted_rate=round(float(p.mean()), 4))
    scored = arrived[["child_key", HOUSEHOLD, "academic_year"]].assign(
        score=p.round(4), **{outcome.field("not_school_ready"):
                             arrived[LABEL].astype(bool).to_numpy()})
    return scored.reset_index(drop=True), info


def _drift(old: RunFolder, children: pd.DataFrame) -> pd.DataFrame:
    then, now = pd.read_parquet(old.link / "children.parquet"), children
    then, now = (t[t["role"] == "current"] for t in (then, now))
    rows = [{"feature": f, "psi": round(population_stability(then[f], now[f]), 4)}
            for f in feature_columns(now) if f in then]
    drift = pd.DataFrame(rows, columns=["feature", "psi"])
    drift["status"] = np.select([drift["psi"] > PSI_WARNING, drift["psi"] > PSI_MODERATE],
                                ["shifted: check the model", "moderate shift"], "stable")
    return drift.sort_values("psi", ascending=False, ignore_index=True)


def compare_runs(old: Path, new: Path, *, rules: Disclosure, oas: pd.DataFrame,
                 new_published: dict | None = None,
                 outcome: Outcome = SCHOOL_READINESS) -> Comparison:
    """Compare two runs of one partnership (``old`` the earlier); see the module docstring.

    ``oas`` are ``new``'s output areas with their wards (names as the lookup has them);
    ``new_published`` is the later run's published record when it is still being written
    (a run comparing itself with its predecessor); otherwise ``new``'s
    ``publish/run.json``. ``outcome``: what both runs predict (its words, and when a
    labelled row's outcome becomes known for monitoring).
    """
    old_f, new_f = RunFolder(old), RunFolder(new)
    old_pub = _published(old_f)
    new_pub = new_published or _published(new_f)
    if old_pub["reference_date"] > new_pub["reference_date"]:
        raise GeoRiskError(
            f"{old}: its reference date {old_pub['reference_date']} is after the later "
            f"run's {new_pub['reference_date']}; give the earlier run first (geo-risk "
            "compare OLD NEW).")
    areas, area_counts = _areas(old_f, new_f, oas[C.WARD_NAME])
    wards = _wards(old_f, new_f, oas.drop_duplicates(C.WARD).set_index(C.WARD)[C.WARD_NAME])
    summary = {"previous_run": str(Path(old).resolve().name),
               "previous_reference_date": old_pub["reference_date"],
               "reference_date": new_pub["reference_date"],
               "headline": _headline(old_pub, new_pub, outcome),
               "wards_band_up": wards.loc[wards["band_change"] == "up", C.WARD_NAME].tolist(),
               "wards_band_down": wards.loc[wards["band_change"] == "down",
                                            C.WARD_NAME].tolist(),
               "wards_largest_rise": [
                   {"ward": w, "previous": p, "latest": n} for w, p, n in
                   wards[wards["change"] > 0].head(3)[[C.WARD_NAME, "previous_risk",
                                                       "latest_risk"]].to_numpy().tolist()],
               "areas": area_counts}
    headers = [*pd.read_csv(new_f.areas / "ward.csv", nrows=0).columns,
               *pd.read_csv(new_f.areas / "oa_hotspots.csv", nrows=0).columns]
    comparison = Comparison(summary, wards, areas, pd.DataFrame(columns=["feature", "psi"]),
                            fields={k: h for k, (h, _) in read_code_columns(headers).items()})
    missing = [f for f in [old_f.scores, old_f.fitted_model, old_f.link / "children.parquet"]
               if not f.is_file()]
    if missing:
        summary["restricted"] = (f"the previous run's restricted material is gone "
                                 f"({', '.join(map(old_f.relative, missing))}; deleted "
                                 "by 'geo-risk purge' or never written), so flag changes, "
                                 "monitoring and drift are not compared")
        return comparison
    children = pd.read_parquet(new_f.link / "children.parquet")
    comparison.drift = _drift(old_f, children)
    summary["drift"] = {"features_shifted": comparison.drift.loc[
        comparison.drift["psi"] > PSI_WARNING, "feature"].tolist(),
        "largest_psi": float(comparison.drift["psi"].max()) if len(comparison.drift) else 0.0,
        "warning_level": PSI_WARNING}
    if _fingerprint(old_f) != _fingerprint(new_f):
        summary["restricted"] = ("the two runs were pseudonymised with different project "
                                 "keys, so no household or child can be matched: flag changes "
                                 "and monitoring are not compared")
        return comparison
    comparison.flags = _churn(old_f, new_f)
    counts = comparison.flags["change"].value_counts()
    comparison.exact["flags"] = {c: int(counts.get(c, 0)) for c in CHURN}
    summary["flags"] = {c: rules.count(n) for c, n in comparison.exact["flags"].items()}
    comparison.monitoring, monitoring = _monitoring(old_f, children, json.loads(
        old_f.record.read_text()), new_pub["reference_date"], outcome)
    comparison.exact["monitoring"] = monitoring
    unit = monitoring["unit"]
    published = {**monitoring, unit: rules.count(monitoring[unit])}
    if "k" in monitoring:
        published["k"] = rules.count(monitoring["k"])
        if monitoring["k"] <= rules.withhold_up_to:  # a rate among a handful is a count
            published.update(precision_at_k="c", recall_at_k="c")
    summary["monitoring"] = published
    return comparison


def write_comparison(comparison: Comparison, folder: RunFolder) -> None:
    """Write the published part under ``publish/since_last_run/`` and the restricted part
    under ``restricted/since_last_run/``."""
    published = folder.publish / "since_last_run"
    restricted = folder.restricted / "since_last_run"
    published.mkdir(parents=True, exist_ok=True)
    restricted.mkdir(parents=True, exist_ok=True)
    (published / "summary.json").write_text(json.dumps(comparison.summary, indent=2) + "\n")
    for name, table in [("wards", comparison.wards), ("areas", comparison.areas)]:
        table = table.rename(columns=comparison.fields).rename_axis(
            comparison.fields.get(table.index.name, table.index.name))
        write_csv(table, published / f"{name}.csv", index=True)
    write_csv(comparison.drift, published / "drift.csv", index=False)
    (restricted / "summary.json").write_text(json.dumps(
        {**comparison.summary, **comparison.exact}, indent=2) + "\n")
    if comparison.flags is not None:
        write_csv(comparison.flags, restricted / "flag_changes.csv", index=False)
    if comparison.monitoring is not None:
        comparison.monitoring.to_parquet(restricted / "monitoring.parquet", index=False)
