"""Differencing: two runs whose inputs differ by one household publish nothing that
reveals it. Every published count is withheld or rounded, so the two runs' figures differ
by 0 or by a multiple of the rounding base, never by the household's own one (or its
number of children)."""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest
from conftest import run_config, write_config


def _run(tmp, extracts, name):
    return run_config(write_config(tmp, extracts, name=name), tmp / name)


@pytest.fixture(scope="module")
def two_runs(demo, town_run, tmp_path_factory):
    """The demo's extracts, and the same without one household's only under-five."""
    out, _ = demo
    tmp = tmp_path_factory.mktemp("differencing")
    shutil.copy2(town_run.parent / "project.key", tmp / "project.key")  # one project key
    register = pd.read_csv(out / "synth/extracts/child_register.csv", dtype=str)
    labelled = set(pd.read_csv(out / "synth/extracts/school_readiness.csv",
                               dtype=str)["child_id"])
    sizes = register["uprn"].map(register["uprn"].value_counts())
    alone = register[(sizes == 1) & ~register["child_id"].isin(labelled)
                     & (register["date_of_birth"] >= "2014-01")]
    one = alone.index[len(alone) // 2]
    fewer = tmp / "fewer_extracts"
    fewer.mkdir()
    for path in (out / "synth/extracts").glob("*.csv"):
        (fewer / path.name).write_bytes(path.read_bytes())
    register.drop(index=one).to_csv(fewer / "child_register.csv", index=False)
    return town_run, _run(tmp, fewer, "fewer")


def _counts(obj, path=""):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _counts(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _counts(value, f"{path}[{i}]")
    elif (isinstance(obj, int) and not isinstance(obj, bool)) or obj == "c":
        yield path, obj


def _differ_safely(a, b) -> bool:
    if a == b:
        return True
    if "c" in (a, b) or any(isinstance(v, float) and math.isnan(v) for v in (a, b)):
        return True  # withheld on one side: nothing exact to subtract
    return abs(a - b) % 5 == 0


def test_one_household_apart_publishes_nothing_that_reveals_it(two_runs):
    everyone, fewer = two_runs
    exact = [json.loads((run / "restricted/run.json").read_text())["model"]
             for run in two_runs]
    # the exact records do tell the household apart (so the test can fail)...
    assert exact[0]["households_scored"] - exact[1]["households_scored"] == 1
    assert exact[0]["children_scored"] - exact[1]["children_scored"] == 1

    # ...and nothing published does
    # counts of records, people and households; the hotspots section counts output areas
    # by their classification (published area by area in oa_hotspots.csv anyway), which a
    # household can move as it moves an area's mean risk, as it moves the published rates
    published = [{k: v for k, v in _counts(json.loads((run / "publish/run.json").read_text()))
                  if not k.startswith(".hotspots.")} for run in two_runs]
    shared = set(published[0]) & set(published[1])
    assert len(shared) > 30
    bad = [(k, published[0][k], published[1][k]) for k in sorted(shared)
           if not _differ_safely(published[0][k], published[1][k])]
    assert not bad, bad

    compared = 0
    for level in ["oa", "lsoa", "ward", "district"]:
        a, b = (pd.read_csv(run / f"publish/areas/{level}.csv", index_col=0)
                for run in (everyone, fewer))
        for column in ["children_under5", "households", "expected_not_ready",
                       "flagged_households", "flagged_unknown", "known_households"]:
            for x, y in zip(a[column], b.loc[a.index, column], strict=True):
                assert _differ_safely(x, y), (level, column, x, y)
                compared += 1
    assert compared > 3000


def test_a_capacity_of_a_handful_publishes_no_count_and_no_rate_of_them(demo, tmp_path):
    """``[capacity] number = 3``: the capacity's words would have published the count
    flagged ("the 3 highest-scoring households"), and precision at k among one child of
    the hold-out cohort ("100% of the children it would have flagged") is that child's
    outcome. Both are withheld in everything published; the restricted record keeps them."""
    from conftest import people_counts, run_config, write_config

    out, _ = demo
    run = run_config(write_config(tmp_path, out / "synth/extracts",
                                  tables="[capacity]\nnumber = 3\n"), tmp_path / "few")
    exact = json.loads((run / "restricted/run.json").read_text())["model"]
    assert exact["households_flagged"] == 3 and 1 <= exact["holdout_k"] <= 7
    assert isinstance(exact["precision_at_k"], float)
    published = json.loads((run / "publish/run.json").read_text())
    model = published["model"]
    assert model["households_flagged"] == model["holdout_k"] == "c"
    assert model["precision_at_k"] == model["recall_at_k"] == "c"
    assert "3" not in model["capacity"] and "3" not in published["headline"]["flagged"]
    assert not [(k, v) for k, v in people_counts(published) if 1 <= v <= 7 or v % 5]
    validation = pd.read_csv(run / "publish/model/validation.csv")
    assert validation[["precision_at_k", "recall_at_k"]].isna().all().all()
    assert validation["auc"].notna().all()
    report = (run / "publish/index.html").read_text()
    assert "too few children of that cohort" in report
    assert "the 3 highest" not in report and "of the children it would have flagged did" \
        not in report
    card = (run / "publish/model/model_card.md").read_text()
    assert "withheld: among so few children, or beside their number, a rate gives" in card
    assert "the 3 highest" not in card
    atrs = (run / "publish/transparency/atrs.json").read_text()
    assert "withheld (too few children)" in atrs
