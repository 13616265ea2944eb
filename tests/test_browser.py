"""The maps in real Chromium: Playwright driving Debian's /usr/bin/chromium, headless,
with every network request blocked (a council laptop with no internet)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import open_page as _open


def test_oa_map_in_chromium(browser, demo):
    out, _ = demo
    page, errors, external = _open(browser, out / "publish/maps/map.html")
    assert errors == [] and external == []
    assert page.evaluate("L.version").startswith("1.9")
    drawn = page.evaluate("Object.fromEntries(Object.entries(GEO_RISK_LAYERS).map("
                          "([k, v]) => [k, v.getLayers().length]))")
    assert drawn == page.evaluate("GEO_RISK_COUNTS")
    oas = pd.read_csv(out / "publish/areas/oa.csv")
    assert drawn["Risk by output area"] == len(oas)
    assert page.locator("path.leaflet-interactive").count() == len(oas)  # only the main layer

    # hover over the output area nearest the middle of the map: its tooltip appears
    x, y, code = page.evaluate("""() => {
        const map = GEO_RISK_MAP, size = map.getSize();
        let best = null, dist = Infinity;
        GEO_RISK_LAYERS['Risk by output area'].eachLayer(l => {
            const p = map.latLngToContainerPoint(l.getCenter());
            const d = Math.hypot(p.x - size.x / 2, p.y - size.y / 2);
            if (d < dist) { dist = d; best = [p.x, p.y, l.feature.properties.code]; }
        });
        return best; }""")
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert code in tooltip.inner_text() and "Predicted risk" in tooltip.inner_text()

    # switch the ward layer on from the layer control
    assert not page.evaluate("GEO_RISK_MAP.hasLayer(GEO_RISK_LAYERS['Risk by ward'])")
    page.locator(".leaflet-control-layers label", has_text="Risk by ward").click()
    assert page.evaluate("GEO_RISK_MAP.hasLayer(GEO_RISK_LAYERS['Risk by ward'])")
    assert page.locator('.gr-legend section[data-layer="Risk by ward"]').is_visible()

    shots = Path(os.environ.get("GEO_RISK_SCREENSHOTS", out.parent / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 790)
    page.screenshot(path=shots / "oa_risk.png")
    assert (shots / "oa_risk.png").stat().st_size > 20_000
    print(f"screenshot: {shots / 'oa_risk.png'}")
    page.close()


@pytest.mark.parametrize("view", ["ward_risk", "hotspots", "clusters", "areas_of_concern",
                                  "service_sites"])
def test_each_view_opens_the_map_on_its_layers(browser, demo, view):
    """The report links into the one map by fragment (map.html#hotspots): the page opens
    with that view's layers, and only those, switched on; following another link
    switches over."""
    from geo_risk.publish.maps import SITES_VIEW, VIEWS

    out, _ = demo
    page, errors, external = _open(browser, out / "publish/maps/map.html", view)
    assert errors == [] and external == []
    shown = page.evaluate("Object.keys(GEO_RISK_LAYERS).filter("
                          "k => GEO_RISK_MAP.hasLayer(GEO_RISK_LAYERS[k]))")
    assert set(shown) == set({**VIEWS, **SITES_VIEW}[view])
    drawn = page.evaluate("Object.fromEntries(Object.entries(GEO_RISK_LAYERS).map("
                          "([k, v]) => [k, v.getLayers().length]))")
    assert drawn == page.evaluate("GEO_RISK_COUNTS")
    page.evaluate("location.hash = 'oa_risk'")
    page.wait_for_timeout(100)
    assert page.evaluate("Object.keys(GEO_RISK_LAYERS).filter("
                         "k => GEO_RISK_MAP.hasLayer(GEO_RISK_LAYERS[k]))") == [
        "Risk by output area"]
    page.close()


def test_report_opens_offline(browser, demo):
    out, _ = demo
    page = browser.new_page()
    errors, external = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else (external.append(r.request.url), r.abort()))
    page.goto((out / "publish/index.html").as_uri())
    assert errors == [] and external == []
    assert page.locator("h1").inner_text().startswith("Synthtown")
    assert page.locator("svg path").count() > 500
    page.close()


def test_transparency_record_and_dpia_annex_are_written_and_read(browser, demo):
    """Every run writes an ATRS-shaped record (every section and field the standard lists,
    the partnership's own fields marked as still to complete) and a DPIA annex whose scan
    of everything published found nothing; both read in Chromium."""
    import json

    from geo_risk.publish.transparency import ATRS_FIELDS, TO_COMPLETE

    out, _ = demo
    folder = out / "publish/transparency"
    record = json.loads((folder / "atrs.json").read_text())
    for section, fields in ATRS_FIELDS.items():
        assert all(record[section].get(f) for f in fields), section
    assert record["owner_and_responsibility"]["organisation"] == TO_COMPLETE
    assert "owner_and_responsibility.organisation" in record["fields_to_complete"]
    assert not [f for f in record["fields_to_complete"] if not f.startswith(
        ("tier_1.website", "tier_1.contact_email", "owner_and_responsibility"))]
    published = json.loads((out / "publish/run.json").read_text())
    assert published["headline"]["households_at_risk"] in record["tier_1"][
        "why_the_tool_is_used"]
    annex = (folder / "dpia_annex.html").read_text()
    assert "0 pseudonym-shaped tokens, 0 area counts from 1 to 7" in annex
    shots = Path(os.environ.get("GEO_RISK_SCREENSHOTS", out.parent / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    for name in ["atrs", "dpia_annex"]:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        errors = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto((folder / f"{name}.html").as_uri())
        assert errors == [] and page.locator("h2").count() >= 5
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        assert (shots / f"{name}.png").stat().st_size > 20_000
        page.close()


WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _offline(browser, path: Path, width: int = 1400, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
               else r.abort())
    page.goto(path.as_uri())
    return page


@pytest.mark.parametrize("run", ["demo", "da_demo"])
def test_every_published_page_passes_axe(browser, run, request):
    """axe-core (the engine behind most accessibility audits) finds nothing against WCAG
    2.2 AA on any published page: the report, the map, its tables, the model card and the
    transparency record, of school readiness and of domestic abuse escalation."""
    from axe_playwright_python.sync_playwright import Axe

    out, _ = request.getfixturevalue(run)
    pages = sorted((out / "publish").rglob("*.html"))
    assert len(pages) >= 6
    for path in pages:
        page = _offline(browser, path)
        page.wait_for_timeout(300)
        found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        violations = [(v["id"], [n["target"] for n in v["nodes"][:3]])
                      for v in found.response["violations"]]
        assert violations == [], (path.name, violations)
        assert page.locator("main").count() == 1 and page.title()
        assert page.evaluate("document.documentElement.lang") == "en"
        page.close()


def test_a_keyboard_reaches_the_skip_link_and_the_controls_first(browser, demo):
    out, _ = demo
    page = _offline(browser, out / "publish/maps/map.html")
    page.wait_for_function("window.GEO_RISK_LAYERS !== undefined")
    stops = []
    for _ in range(7):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id || "
                                   "document.activeElement.className || "
                                   "document.activeElement.tagName"))
    assert "gr-skip" in stops[0]
    assert stops[1:3] == ["gr-find", "BUTTON"]  # the find box in the title, then the map's
    assert "leaflet-control-zoom-in" in stops[3] and "leaflet-control-zoom-out" in stops[4]
    assert all("leaflet-control-layers-selector" in s for s in stops[5:])
    assert page.locator("path.leaflet-interactive:not([tabindex='-1'])").count() == 0
    # a tooltip opened by the pointer closes with Escape
    x, y = page.evaluate("""() => {
        const map = GEO_RISK_MAP, size = map.getSize();
        let best = null, dist = Infinity;
        GEO_RISK_LAYERS['Risk by output area'].eachLayer(l => {
            const p = map.latLngToContainerPoint(l.getCenter());
            const d = Math.hypot(p.x - size.x / 2, p.y - size.y / 2);
            if (d < dist) { dist = d; best = [p.x, p.y]; }
        });
        return best; }""")
    page.mouse.move(x, y)
    page.locator(".leaflet-tooltip").wait_for(state="visible", timeout=5_000)
    page.keyboard.press("Escape")
    page.locator(".leaflet-tooltip").wait_for(state="detached", timeout=5_000)
    page.close()


def test_the_report_reflows_at_320_pixels(browser, demo):
    out, _ = demo
    for name in ["index.html", "maps/tables.html", "model/model_card.html"]:
        page = _offline(browser, out / "publish" / name, width=320, height=800)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, name
        page.close()


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (1024, 768), (320, 640)])
def test_no_panel_covers_the_planted_emerging_area(browser, demo, width, height):
    """The title, legend, marking, controls and credits leave the planted emerging
    hotspot in view, on a desktop, a small laptop and a phone."""
    out, _ = demo
    planted = pd.read_csv(out / "synth/truth/planted_hotspots.csv")
    codes = sorted(planted.loc[planted["hotspot"] == "emerging", "oa_code"])
    page = _offline(browser, out / "publish/maps/map.html", width, height)
    page.wait_for_function("window.GEO_RISK_LAYERS !== undefined")
    page.wait_for_timeout(300)
    box = page.evaluate("""(codes) => {
        const map = GEO_RISK_MAP; let b = null;
        GEO_RISK_LAYERS['Risk by output area'].eachLayer(l => {
            if (codes.includes(l.feature.properties.code)) {
                b = b ? b.extend(l.getBounds()) : L.latLngBounds(
                    l.getBounds().getSouthWest(), l.getBounds().getNorthEast()); } });
        const nw = map.latLngToContainerPoint(b.getNorthWest());
        const se = map.latLngToContainerPoint(b.getSouthEast());
        return [nw.x, nw.y, se.x, se.y]; }""", codes)
    assert 0 <= box[0] < box[2] <= width and 0 <= box[1] < box[3] <= height
    for selector in [".gr-title", ".gr-legend", ".gr-marking", ".leaflet-control-layers",
                     ".leaflet-control-attribution", ".leaflet-control-zoom",
                     ".leaflet-control-scale"]:
        for panel in page.locator(selector).all():
            b = panel.bounding_box() if panel.is_visible() else None
            if b is None:
                continue
            apart = (b["x"] + b["width"] <= box[0] or b["x"] >= box[2]
                     or b["y"] + b["height"] <= box[1] or b["y"] >= box[3])
            assert apart, (selector, b, box)
    page.close()


def test_the_map_names_its_wards_and_finds_a_ward_or_an_area(browser, demo):
    """Ward names are drawn (for sight: hidden from screen readers, which have the table
    page) and the find box zooms to a ward, an LSOA or an output area and says so; a name
    from the inputs is text, never markup."""
    out, _ = demo
    wards = pd.read_csv(out / "publish/areas/ward.csv")
    page = _offline(browser, out / "publish/maps/map.html")
    page.wait_for_function("window.GEO_RISK_LAYERS !== undefined")
    drawn = page.locator(".gr-label span").all_inner_texts()
    assert len(drawn) >= len(wards) // 2 and set(drawn) <= set(wards["wd13nm"])
    assert page.evaluate("document.querySelector('.leaflet-labels-pane')"
                         ".getAttribute('aria-hidden')") == "true"
    ward = wards.sort_values("mean_risk").iloc[0]["wd13nm"]
    page.fill("#gr-find", ward.lower())
    page.keyboard.press("Enter")
    assert page.inner_text(".gr-found").startswith(f"Showing {ward} (ward")
    centre = page.evaluate("GEO_RISK_MAP.getCenter()")
    inside = page.evaluate("""([name, c]) => {
        let hit = false;
        GEO_RISK_LAYERS['Risk by ward'].eachLayer(l => {
            if (l.feature.properties.Ward === name && l.getBounds().contains(c)) hit = true; });
        return hit; }""", [ward, centre])
    assert inside
    page.fill("#gr-find", "<b>nowhere</b>")
    page.keyboard.press("Enter")
    assert page.inner_text(".gr-found").startswith('Nothing called "<b>nowhere</b>"')
    oa = pd.read_csv(out / "publish/areas/oa.csv")["oa11cd"].iloc[0]
    page.fill("#gr-find", oa)
    page.keyboard.press("Enter")
    assert page.inner_text(".gr-found").startswith(f"Showing {oa} (output area")
    page.close()


def test_an_unstable_category_looks_unstable(browser, demo):
    """An emerging hot spot category most resamples of households do not give is drawn
    paler with a dashed edge, and the legend says what that means."""
    out, _ = demo
    hot = pd.read_csv(out / "publish/areas/oa_hotspots.csv")
    unstable = set(hot.loc[(hot["ehsa_category"] != "no pattern")
                           & (hot["ehsa_stability"] < 0.8), "oa11cd"])
    assert unstable  # the demo has some
    page = _offline(browser, out / "publish/maps/map.html")
    page.wait_for_function("window.GEO_RISK_LAYERS !== undefined")
    styles = page.evaluate("""() => { const out = {};
        GEO_RISK_LAYERS['Emerging hot spots'].eachLayer(l => {
            out[l.feature.properties.code] = [l.options.dashArray || null,
                                              l.options.fillOpacity]; });
        return out; }""")
    assert {c for c, (dash, _) in styles.items() if dash} == unstable
    assert all(styles[c][1] < 0.8 for c in unstable)
    assert "under 80% of the resamples" in page.text_content(".gr-legend")
    page.close()
