"""Hostile input and faults (issue: safe with hostile input).

A council's own files name the wards, LSOAs and service sites, and its run configuration
names the area, the marking and the credit line; any of them can hold markup, a script or
a spreadsheet formula. One run is made from a configuration whose every name is hostile;
the tests read what it published as a board member's browser, a spreadsheet and a GIS
would.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil

import pandas as pd
import pytest
from conftest import open_page, run_config, write_config

from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES as TOWN
from geo_risk.io.escape import FORMULA_STARTS

#: Markup and script that must show as text; formulae a spreadsheet must not run.
MARKUP = ['"><img src=x onerror="window.__pwned=1">',
          "</script><script>window.__pwned=2</script>",
          "${window.__pwned=3}`'\\",
          "<svg onload=window.__pwned=4>"]
FORMULAE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1)", "\tTAB"]
HOSTILE = MARKUP + FORMULAE
REASON = MARKUP[3] + " tables agreed with the data protection officer"
DISTRICT = MARKUP[1] + " Northtown"


def hostile(i: int, original: str) -> str:
    """The i-th hostile payload in front of a real name (names stay unique)."""
    return f"{HOSTILE[i % len(HOSTILE)]} {original}"


@pytest.fixture(scope="module")
def hostile_run(demo, town_run, tmp_path_factory):
    """'geo-risk run' on the demo's extracts with hostile ward, LSOA, site and area
    names, community themes, marking and attribution (three refreshes, to keep it quick),
    compared with the town's run ([history] previous, under the same key)."""
    out, _ = demo
    folder = tmp_path_factory.mktemp("hostile")
    shutil.copy(town_run.parent / "project.key", folder / "project.key")
    lookup = pd.read_csv(TOWN.lookup, dtype=str)
    wards = {w: hostile(i, w) for i, w in enumerate(lookup["WD13NM"].unique())}
    lookup["WD13NM"] = lookup["WD13NM"].map(wards)
    lookup["LSOA11NM"] = [hostile(i + 3, n) for i, n in enumerate(lookup["LSOA11NM"])]
    # two districts, as in a county run: the last five wards in a district of their own
    second = lookup["WD13CD"].isin(sorted(lookup["WD13CD"].unique())[-5:])
    lookup.loc[second, ["LAD11CD", "LAD11NM"]] = ["E07900099", DISTRICT]
    lookup.to_csv(folder / "lookup.csv", index=False)
    sites = pd.read_csv(out / "synth/sites/candidates.csv", dtype=str)
    sites["name"] = [hostile(i, n) for i, n in enumerate(sites["name"])]
    sites.to_csv(folder / "candidates.csv", index=False)
    said = pd.read_csv(out / "synth/community/consultation.csv", dtype=str)
    said["theme"] = [hostile(i, t)[:60] for i, t in enumerate(said["theme"])]
    said.to_csv(folder / "consultation.csv", index=False)
    config = write_config(
        folder, out / "synth/extracts", lookup=folder / "lookup.csv",
        settings=f"area_name = {json.dumps(MARKUP[0] + ' Synthtown')}\n"
                 f"marking = {json.dumps(MARKUP[1])}\n"
                 f"attribution = {json.dumps(MARKUP[2])}",
        tables='[siting]\ncandidates = "candidates.csv"\np = 5\n'
               f"[disclosure]\nrounding = 3\nreason = {json.dumps(REASON)}\n"
               f"[transparency]\norganisation = {json.dumps(MARKUP[0])}\n"
               f'[history]\nprevious = "{town_run}"\n'
               '[community]\nfile = "consultation.csv"\n')
    run_config(config, folder / "out")
    return folder / "out"


def test_published_csvs_hold_no_formula(hostile_run):
    published = sorted((hostile_run / "publish").rglob("*.csv"))
    assert {p.name for p in published} >= {"ward.csv", "lsoa.csv", "ward_concern.csv",
                                           "sites.csv", "coverage_by_ward.csv"}
    seen = 0
    for path in published:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    if cell.startswith(FORMULA_STARTS):
                        float(cell)  # only a number may start with - or +
                    seen += cell.startswith("'=")
    assert seen > 10  # the hostile names are there, neutralised


def test_report_and_geopackage_keep_hostile_names_as_text(hostile_run):
    import pyogrio

    page = (hostile_run / "publish/index.html").read_text(encoding="utf-8")
    for payload in MARKUP:
        assert payload not in page  # never as markup
    assert "&lt;img src=x onerror=" in page and "<img" not in page
    wards = pyogrio.read_dataframe(hostile_run / "publish/geo_risk.gpkg", layer="ward_risk")
    assert any(n.startswith(MARKUP[0]) for n in wards["wd13nm"])  # data as data for a GIS
    districts = pyogrio.read_dataframe(hostile_run / "publish/geo_risk.gpkg",
                                       layer="district_risk")  # a county's: one per district
    assert sorted(districts["lad11nm"]) == sorted(["Synthtown", DISTRICT])
    assert (districts["children_under5"] > 0).all()
    # weaker disclosure rules, with the reason the configuration gave, said where people look
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "weaker than the safe ones" in text and html.escape(REASON) in page
    info = pyogrio.read_dataframe(hostile_run / "publish/geo_risk.gpkg", layer="run_info")
    assert REASON in info.set_index("key").loc["disclosure_control", "value"]
    # two districts: the headline sums them and a table gives each, names as text
    assert "Across the 2 districts" in text and html.escape(DISTRICT) in page
    # and a part for each district: the hostile name as its heading, as text
    part = page.split("<h2>By district</h2>")[1].split("<h2>")[0]
    assert part.count("<h3>") == 2 and f"<h3>{html.escape(DISTRICT)}</h3>" in part
    assert part.count("Highest predicted risk: ") == 2
    # compared with the town's run: the section is there, its tables published beside
    assert "Since the last run" in text and "monitoring:" in text.lower()
    assert (hostile_run / "publish/since_last_run/wards.csv").is_file()
    assert (hostile_run / "restricted/since_last_run/flag_changes.csv").is_file()
    # the space-time cube names the districts as data, and opens
    import xarray as xr

    with xr.open_dataset(hostile_run / "publish/areas/space_time_cube.nc") as cube:
        assert DISTRICT in cube.attrs["title"] and cube.sizes["time"] == 3
    # the community's themes: every row used, the themes shown as text in the report and
    # kept as data in the GeoPackage
    said = json.loads((hostile_run / "restricted/run.json").read_text())["community"]
    assert said["rows_rejected"] == 2 and said["reconciles"]  # the two with a person's details
    community = page.split("<h2>What the community says</h2>")[1].split("<h2>")[0]
    assert html.escape(MARKUP[1]) in community or html.escape(MARKUP[0]) in community
    view = pyogrio.read_dataframe(hostile_run / "publish/geo_risk.gpkg", layer="community_view")
    assert view["themes"].str.contains(MARKUP[0], regex=False).any()


def test_maps_show_hostile_names_as_text_in_chromium(hostile_run, browser):
    """Every feature's tooltip in every layer of every map is opened (as hovering does):
    the names show as text, no element is added, no script runs, no dialog opens."""
    maps = sorted((hostile_run / "publish/maps").glob("*.html"))
    assert [p.name for p in maps] == ["map.html", "tables.html"]
    tables = maps[1].read_text(encoding="utf-8")  # the table view: names as text too
    for payload in MARKUP:
        assert payload not in tables and html.escape(payload) in tables
    for path, view in [(maps[0], ""), (maps[0], "ward_risk")]:
        page, errors, external = open_page(browser, path, view)
        dialogs = []
        page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
        texts = page.evaluate("""() => {
            const map = GEO_RISK_MAP, out = [];
            for (const [name, layer] of Object.entries(GEO_RISK_LAYERS)) {
                map.addLayer(layer);
                layer.eachLayer(l => {
                    const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
                    l.openTooltip(at);
                    const tip = l.getTooltip();
                    out.push(tip && tip.getElement() ? tip.getElement().textContent : '');
                    l.closeTooltip();
                });
            }
            return out; }""")
        # and a real hover over the middle of the map
        page.mouse.move(640, 400)
        page.wait_for_timeout(200)
        assert errors == [] and external == [] and dialogs == [], path.name
        assert page.evaluate("window.__pwned") is None, path.name
        assert page.locator("img, script[src], iframe").count() == 0, path.name
        joined = "\n".join(texts)
        assert len(texts) > 500 and all(texts), path.name
        for payload in MARKUP:
            assert payload.strip() in joined, (path.name, payload)
        title = page.locator(".gr-title h1").inner_text()
        assert title.startswith(MARKUP[0])
        assert page.locator(".gr-marking").inner_text() == MARKUP[1]
        assert page.evaluate("window.GEO_RISK_OUTLINES") == ["Ward boundaries",
                                                             "District boundaries"]
        assert MARKUP[2].strip() in page.locator(".leaflet-control-attribution").inner_text()
        # the find box's places and the names drawn on the map are text too
        options = page.evaluate("Array.from(document.querySelectorAll('#gr-places option'))"
                                ".map(o => o.value)")
        assert any(o.startswith(MARKUP[0]) for o in options), path.name
        page.fill("#gr-find", MARKUP[0])
        page.keyboard.press("Enter")
        assert page.inner_text(".gr-found").startswith(f"Showing {MARKUP[0]}")
        labels = page.evaluate("Array.from(document.querySelectorAll('.gr-label span'))"
                               ".map(s => s.textContent)")
        assert page.locator(".gr-label img").count() == 0
        assert page.evaluate("window.__pwned") is None and dialogs == [], path.name
        assert all(isinstance(t, str) for t in labels)
        page.close()


def test_report_opens_without_running_hostile_names(hostile_run, browser):
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else r.abort())
    for name, shows_a_name in [("index.html", True), ("transparency/atrs.html", True),
                               ("transparency/dpia_annex.html", False)]:
        page.goto((hostile_run / "publish" / name).as_uri())
        assert page.evaluate("window.__pwned") is None and dialogs == [], name
        assert page.locator("img").count() == 0, name
        if shows_a_name:  # the hostile area name or organisation, as text
            assert re.search(r"onerror=", page.locator("body").inner_text()), name
    page.close()


def test_a_rerun_keeps_the_names_as_the_lookup_has_them(hostile_run, tmp_path):
    """'geo-risk hotspots' reads the published tables back: a name the CSV neutralised
    ('=... as '=...) is shown as the lookup has it, not with the apostrophe."""
    from typer.testing import CliRunner

    from geo_risk.cli import app

    run = tmp_path / "run"
    shutil.copytree(hostile_run, run)
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--permutations", "99"])
    assert result.exit_code == 0, result.output
    page = (run / "publish/maps/map.html").read_text(encoding="utf-8")
    formula = json.dumps(FORMULAE[0])[1:-1]  # as it stands inside the map's JSON
    assert formula in page
    assert "'" + formula not in page and "\\u0027" + formula not in page
