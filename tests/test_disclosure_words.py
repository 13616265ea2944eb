"""Every published word about disclosure comes from the run's rules, not the defaults."""

from __future__ import annotations

import html
import json
import re

from conftest import run_config, write_config

from geo_risk.areas import SAFE, Disclosure
from geo_risk.publish import privacy_scan


def test_stricter_rules_are_the_rules_every_published_page_states(demo, tmp_path):
    out, _ = demo
    config = write_config(tmp_path, out / "synth/extracts", name="strict",
                          tables="[disclosure]\nwithhold_up_to = 10\n")
    run = run_config(config, tmp_path / "strict")
    publish = run / "publish"
    page = html.unescape((publish / "maps/map.html").read_text(encoding="utf-8"))
    assert "withheld (c): fewer than 11 under-fives" in page
    assert "fewer than 8" not in page
    report = html.unescape((publish / "index.html").read_text(encoding="utf-8"))
    assert "a count from 1 to 10, or a count that would reveal one" in report
    assert "counts from 1 to 10 are withheld" in report
    assert not re.search(r"1 to 7\b|1-7\b|fewer than 8\b", report)
    annex = html.unescape((publish / "transparency/dpia_annex.html").read_text())
    assert "area counts from 1 to 10" in annex and "1 to 7" not in annex
    atrs = json.loads((publish / "transparency/atrs.json").read_text())
    assert "1-7" not in json.dumps(atrs) and "1-10" in json.dumps(atrs)
    assert json.loads((publish / "run.json").read_text())["disclosure"]["withhold_up_to"] == 10


def test_the_privacy_scan_looks_for_the_counts_the_rules_withhold(tmp_path):
    areas = tmp_path / "areas"
    areas.mkdir()
    (areas / "oa.csv").write_text("oa11cd,children_under5,households\nA,9,40\nB,c,10\n")
    assert privacy_scan(tmp_path, SAFE)["withheld_area_counts"] == 0
    assert privacy_scan(tmp_path, Disclosure(withhold_up_to=10))["withheld_area_counts"] == 2


def test_the_privacy_scan_multiplies_rates_by_their_denominators(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "fairness.csv").write_text(
        "attribute,group,children,flag_rate,tpr,fpr,precision,ece\n"
        'sex,boys,"1,220",0.077,0.17,0.021,0.83,0.031\n'  # 94 flagged, 78 and 16
        "quintile,3,155,0.007,0.026,0.0,1.0,0.032\n"  # 1 flagged: that child's outcome
        "quintile,4,675,0.0,0.0,0.0,,0.025\n"  # none flagged: nothing to give back
        "quintile,5,395,0.05,0.1,0.01,0.97,0.02\n")  # 20 flagged, of them 19 and 1
    assert privacy_scan(tmp_path, SAFE)["counts_from_rates"] == 2


def test_no_published_rate_gives_back_a_handful_of_flagged_children(demo, tmp_path):
    """The two cases of the bad-input corpus: the demo's fairness table (one child
    flagged in a deprivation quintile of 155, with precision 1.0), and a capacity of three
    households, whose flag rates by group were each the one flagged child."""
    import pandas as pd

    out, _ = demo
    config = write_config(tmp_path, out / "synth/extracts", name="three",
                          tables="[capacity]\nnumber = 3\n")
    three = run_config(config, tmp_path / "three")
    for run in [out, three]:
        scan = privacy_scan(run / "publish", SAFE)
        assert scan["counts_from_rates"] == 0 and scan["withheld_area_counts"] == 0
        fair = pd.read_csv(run / "publish/model/fairness.csv", thousands=",")
        flagged = (fair["flag_rate"] * fair["children"]).round()
        assert not flagged.between(1, SAFE.withhold_up_to).any()
        assert "flagged" not in fair and "true_positives" not in fair
    fair = pd.read_csv(out / "publish/model/fairness.csv", thousands=",")
    assert fair["flag_rate"].notna().sum() >= 6  # large groups keep their rates
    validation = pd.read_csv(three / "publish/model/validation.csv")
    assert validation["precision_at_k"].isna().all()
    assert json.loads((three / "publish/run.json").read_text())["model"]["precision_at_k"] == "c"
