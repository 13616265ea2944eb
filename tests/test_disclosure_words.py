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
