"""Each refresh compared with the last (issue: accountable use over time).

Two runs of the town a quarter apart under one project key: the town's run (reference
date 31 December 2017) and the earlier run at 30 September 2017 (``earlier_run``, which
flags 400 households where the town's run flags the top 5%). The school-readiness results of
2016/17 are published in between (31 October), so the earlier run's model can be scored
on them, and the truth the generator kept says what those results were.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from geo_risk.cli import app
from geo_risk.inputs.pseudonymise import Key, pseudonymise_series
from geo_risk.publish.transparency import privacy_scan
from geo_risk.run.compare import population_stability


@pytest.fixture(scope="module")
def compared(earlier_run, town_run, tmp_path_factory):
    """'geo-risk compare OLD NEW' on a copy of the town's run."""
    new = tmp_path_factory.mktemp("compared") / "new"
    shutil.copytree(town_run, new, symlinks=True)
    result = CliRunner().invoke(app, ["compare", str(earlier_run), str(new)])
    assert result.exit_code == 0, result.output
    assert "geo-risk compare" in result.output and "flagged households" in result.output
    return new


def test_flag_churn_reconciles_with_both_runs(earlier_run, compared):
    churn = pd.read_csv(compared / "restricted/since_last_run/flag_changes.csv")
    old = pd.read_parquet(earlier_run / "restricted/household_scores.parquet")
    new = pd.read_parquet(compared / "restricted/household_scores.parquet")
    was = set(old.loc[old["flagged"], "household_key"])
    now = set(new.loc[new["flagged"], "household_key"])
    assert len(churn) == len(was | now) and churn["household_key"].is_unique
    by = churn.groupby("change")["household_key"].agg(set)
    assert by["newly flagged"] == now - was
    assert by["still flagged"] == now & was
    assert by["no longer flagged"] == was - now
    assert 0 < len(now - was) < len(now)  # a quarter moves some flags, not all
    exact = json.loads((compared / "restricted/since_last_run/summary.json").read_text())
    assert exact["flags"] == {"newly flagged": len(now - was), "still flagged": len(now & was),
                              "no longer flagged": len(was - now)}
    published = json.loads((compared / "publish/since_last_run/summary.json").read_text())
    for change, n in published["flags"].items():  # rounded to 5 (or withheld)
        assert n == "c" or (int(n.replace(",", "")) % 5 == 0
                            and abs(int(n.replace(",", "")) - exact["flags"][change]) <= 2)


def test_monitoring_scores_the_last_model_on_the_results_since(demo, earlier_run, compared,
                                                               town_run):
    """The children whose 2016/17 results arrived after 30 September, the earlier run's
    scores for them, and their outcomes as the generator recorded them."""
    out, _ = demo
    scored = pd.read_parquet(compared / "restricted/since_last_run/monitoring.parquet")
    assert set(scored["academic_year"]) == {"2016/17"}
    truth = pd.read_parquet(out / "synth/truth/children.parquet")
    key = Key.load(town_run.parent / "project.key")
    truth = truth[truth["labelled"]].assign(
        child_key=lambda t: pseudonymise_series(t["child_id"], key, "nhs").to_numpy())
    outcome = (truth.set_index("child_key")["gld"] == "N").reindex(scored["child_key"])
    assert outcome.notna().all()  # every monitored child is a real child of the world
    assert (outcome.to_numpy() == scored["not_school_ready"].to_numpy()).all()
    exact = json.loads((compared / "restricted/since_last_run/summary.json").read_text())
    m = exact["monitoring"]
    assert m["children"] == len(scored) > 1000
    assert m["auc"] == pytest.approx(roc_auc_score(outcome, scored["score"]), abs=1e-4)
    # the earlier run's final model was trained on exactly the cohorts the later run's
    # validation trains on, and scored on the cohort it tests: the same AUC
    new = json.loads((town_run / "restricted/run.json").read_text())["model"]
    assert new["holdout_cohort"] == "2016/17"
    assert m["auc"] == pytest.approx(new["holdout_auc"], abs=2e-3)
    assert 0.5 < m["calibration_slope"] < 2 and m["ece"] < 0.1
    assert m["predicted_rate"] == pytest.approx(m["observed_rate"], abs=0.05)


def test_the_planted_emerging_hotspot_grows(demo, earlier_run, compared):
    """The planted emerging hotspot's ward rises most; its output areas rise more than
    the rest."""
    out, record = demo
    wards = pd.read_csv(compared / "publish/since_last_run/wards.csv")
    assert wards.iloc[0]["wd13nm"] == record["evaluation"]["synth"]["emerging_ward"]
    assert wards.iloc[0]["change"] > 0 > wards["change"].min()
    planted = pd.read_csv(out / "synth/truth/planted_hotspots.csv")
    emerging = set(planted.loc[planted["hotspot"] == "emerging", "oa_code"])
    old, new = (pd.read_csv(p / "publish/areas/oa.csv", index_col=0)["mean_risk"]
                for p in [earlier_run, compared])
    rise = new - old.reindex(new.index)
    inside = rise.index.isin(list(emerging))
    assert rise[inside].mean() > rise[~inside].mean() + 0.01


def test_published_part_is_safe_and_in_the_report(compared):
    published = compared / "publish/since_last_run"
    assert {p.name for p in published.iterdir()} == {"summary.json", "wards.csv",
                                                      "areas.csv", "drift.csv"}
    scan = privacy_scan(compared / "publish")
    assert scan["pseudonym_like_tokens"] == 0
    summary = json.loads((published / "summary.json").read_text())
    assert "child_key" not in json.dumps(summary) and "household_key" not in json.dumps(summary)
    assert summary["previous_reference_date"] == "2017-09-30"
    assert {r["figure"] for r in summary["headline"]} >= {"Households flagged",
                                                          "Hold-out AUC"}
    drift = pd.read_csv(published / "drift.csv")
    assert len(drift) > 10 and (drift["psi"] >= 0).all()
    page = (compared / "publish/index.html").read_text(encoding="utf-8")
    assert "Since the last run" in page and "How the last run's model did on the" in page
    record = json.loads((compared / "publish/run.json").read_text())
    assert record["since_last_run"]["reference_date"] == "2017-12-31"
    # each stage's seconds, as the scale benchmark reads them, add up to the run's
    stages = record["stage_seconds"]
    assert list(stages) == ["geography", "pseudonymise", "link", "model", "areas", "siting",
                            "publish"]
    assert sum(stages.values()) == pytest.approx(record["seconds"], abs=0.2)


def test_a_purged_earlier_run_still_compares_what_was_published(earlier_run, town_run,
                                                                tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(earlier_run, old, symlinks=True)
    shutil.copytree(town_run, new, symlinks=True)
    shutil.rmtree(old / "restricted")
    shutil.rmtree(old / "work")
    result = CliRunner().invoke(app, ["compare", str(old), str(new)])
    assert result.exit_code == 0, result.output
    summary = json.loads((new / "publish/since_last_run/summary.json").read_text())
    assert "flags" not in summary and "purge" in summary["restricted"]
    assert not (new / "restricted/since_last_run/flag_changes.csv").exists()
    # the later run given first: one clear error, nothing changed
    earlier = tmp_path / "earlier"
    shutil.copytree(earlier_run, earlier, symlinks=True)
    result = CliRunner().invoke(app, ["compare", str(new), str(earlier)])
    assert result.exit_code == 2 and "error:" in result.output and "incomplete" not in \
        result.output
    assert "give the earlier run first" in " ".join(result.output.split())
    assert not (earlier / "publish/since_last_run").exists()


def test_population_stability_index():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, size=4000)
    assert population_stability(a, rng.integers(0, 3, size=4000)) < 0.01
    assert population_stability(a, np.full(4000, 2)) > 1
    with_missing = np.where(rng.random(4000) < 0.5, np.nan, 1.0)
    assert population_stability(np.ones(4000), with_missing) > 0.25


def test_a_model_saved_before_the_stages_became_packages_is_scored(earlier_run, town_run,
                                                                    tmp_path):
    """Runs saved by geo-risk 0.1.0 before ``geo_risk/model.py`` became the ``model``
    package pickled ``geo_risk.model.RiskModel``; 'geo-risk compare' still loads and scores
    their model. tests/data/model_0.1.0.joblib was written by that code (three features,
    20 stumps) and is kept as it was."""
    import warnings
    import zlib
    from pathlib import Path

    from sklearn.exceptions import InconsistentVersionWarning

    stored = Path(__file__).parent / "data/model_0.1.0.joblib"
    pickled = zlib.decompressobj().decompress(stored.read_bytes())  # joblib's compress=3
    assert b"geo_risk.model\x94\x8c\tRiskModel" in pickled  # the old module path
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(earlier_run, old, symlinks=True)
    shutil.copytree(town_run, new, symlinks=True)
    shutil.copy(stored, old / "restricted/model.joblib")
    with warnings.catch_warnings():  # a scikit-learn newer than the one that saved it
        warnings.simplefilter("ignore", InconsistentVersionWarning)
        result = CliRunner().invoke(app, ["compare", str(old), str(new)])
    assert result.exit_code == 0, result.output
    m = json.loads((new / "restricted/since_last_run/summary.json").read_text())["monitoring"]
    assert m["children"] > 1000 and 0.5 < m["auc"] < 1 and "note" not in m


def test_a_run_compared_with_itself_is_refused(town_run):
    result = CliRunner().invoke(app, ["compare", str(town_run), str(town_run / ".")])
    assert result.exit_code == 2 and "OLD and NEW are the same run" in result.output
