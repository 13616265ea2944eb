"""What people use: offline maps, the GeoPackage, the board report, and the whole run."""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import people_counts
from typer.testing import CliRunner

from geo_risk.areas.disclosure import COUNT_COLUMNS
from geo_risk.cli import app
from geo_risk.publish.gpkg import GPKG_LAYERS
from geo_risk.publish.maps import MAP_FILE, SITES_VIEW, VIEWS, external_references, self_contained
from geo_risk.publish.symbology import risk_classes
from geo_risk.publish.transparency import published_text
from geo_risk.synth.demo import demo_key

MAP_FILES = [f"maps/{MAP_FILE}", "maps/tables.html"]
MAP_VIEWS = [f"maps/{MAP_FILE}#{view}" for view in {**VIEWS, **SITES_VIEW}]  # demo sites too


def map_data(page: str) -> dict:
    """The data a map page holds (shape sets, layers and their properties, each layer's
    columns decoded from the page's shared column store)."""
    data = json.loads(re.search(r"data = (\{.*?\}), groups = \{", page).group(1))

    def column(i: int) -> list:
        c = data["columns"][i]
        return c if isinstance(c, list) else [c["values"][k] for k in c["codes"]]

    for layer in data["layers"]:
        layer["props"] = {name: column(i) for name, i in layer["props"].items()}
    return data


def test_demo_writes_every_output(demo):
    out, summary = demo
    for path in ["index.html", *MAP_FILES, "geo_risk.gpkg", "run.json", "model/model_card.html",
                 "siting/sites.csv", "areas/oa.csv"]:
        assert (out / "publish" / path).is_file(), path
    for path in ["restricted/flagged_households.csv", "restricted/run.json",
                 "restricted/link/rejects.csv", "restricted/link/linkage_report.csv",
                 "restricted/NOT_FOR_PUBLICATION.txt", "work/NOT_FOR_PUBLICATION.txt"]:
        assert (out / path).is_file(), path
    # the top of the run holds its three places (and the demo's world), nothing loose
    assert {p.name for p in out.iterdir()} == {"publish", "restricted", "work", "synth",
                                               ".geo-risk-run"}
    assert {"headline", "model", "hotspots", "outputs"} <= set(summary)
    assert summary["outputs"]["maps"] == MAP_FILES
    headline = summary["headline"]
    assert headline["households_at_risk"] == f"{round(summary['model']['k'] / 5) * 5:,}"


def test_maps_work_offline_and_are_small(demo):
    out, _ = demo
    assert external_references((out / "publish/maps/tables.html").read_text()) == []
    for path in MAP_FILES[:1]:
        page = (out / "publish" / path).read_text(encoding="utf-8")
        assert external_references(page) == [], path
        assert "Leaflet 1.9" in page and "BSD 2-Clause" in page  # licence notice kept
        assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
        assert "OFFICIAL-SENSITIVE" in page and "Reference date 31 December 2017" in page
        # no household point: the only points are the service sites and where each
        # ward's name is drawn
        sites = pd.read_csv(out / "publish/siting/sites.csv")
        wards = pd.read_csv(out / "publish/areas/ward.csv")
        data = map_data(page)
        shapes = data["shapes"]
        points = {name: [g for g in set_ if isinstance(g[0], int)]
                  for name, set_ in shapes.items()}
        assert len(points.pop("sites")) == len(sites)
        assert len(points.pop("ward_label")) == len(wards)
        assert not any(points.values())
        # a property column is held once: a ward's name is in the OAs' column (as one
        # of its values), the wards' and the names drawn, not once per output area
        assert page.count('"Vange"') <= 3
        assert len(data["columns"]) < sum(len(layer["props"]) for layer in data["layers"])
        # one file, every shape set once: the five layers of the town in well under 1 MB
        assert len(shapes["oa"]) == len(pd.read_csv(out / "publish/areas/oa.csv"))
        assert (out / "publish" / path).stat().st_size <= 600_000
    assert external_references((out / "publish/index.html").read_text(encoding="utf-8")) == []


def test_self_contained_refuses_what_it_cannot_inline():
    folium_default = ('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
                      '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">'
                      "</script>")
    page = self_contained(folium_default)
    assert "jquery" not in page and page.startswith("<script>/* Leaflet 1.9")
    assert external_references(page) == []
    with pytest.raises(ValueError, match=r"plugin\.js"):
        self_contained('<script src="https://example.org/plugin.js"></script>')
    with pytest.raises(ValueError, match="url"):
        self_contained("<style>.x{background:url(https://example.org/a.png)}</style>")


def _published_tables(out):
    """The published area tables read back, with geo-risk's own column names."""
    from geo_risk.geography.vintage import VINTAGE_2011

    areas = out / "publish/areas"
    tables = {lvl: VINTAGE_2011.internal(pd.read_csv(areas / f"{lvl}.csv", index_col=0))
              for lvl in ["oa", "ward"]}
    return tables, VINTAGE_2011.internal(pd.read_csv(areas / "oa_hotspots.csv", index_col=0,
                                                     keep_default_na=False))


def test_maps_are_deterministic(demo, tmp_path):
    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.publish.maps import MapContext, write_maps

    out, _ = demo
    oas = load_boundaries()
    tables, hotspots = _published_tables(out)
    ctx = MapContext("Synthtown", "31 December 2017", "synthetic")
    write_maps(tmp_path / "a", oas, tables, hotspots, ctx)
    write_maps(tmp_path / "b", oas, tables, hotspots, ctx)
    assert (tmp_path / "a" / MAP_FILE).read_bytes() == (tmp_path / "b" / MAP_FILE).read_bytes()


def test_background_tiles_are_optional_and_labelled(demo, tmp_path):
    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.publish.maps import MapContext, write_maps

    out, _ = demo
    tables, hotspots = _published_tables(out)
    ctx = MapContext("Synthtown", "31 December 2017", "synthetic", tiles=True)
    write_maps(tmp_path, load_boundaries(), tables, hotspots, ctx)
    page = (tmp_path / MAP_FILE).read_text()
    assert "Street map background (needs internet)" in page
    assert external_references(page) == []  # tiles are requested only when switched on
    default = (out / "publish/maps" / MAP_FILE).read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" not in default


def test_geopackage_for_gis_teams(demo):
    out, _ = demo
    path = out / "publish/geo_risk.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert set(GPKG_LAYERS) <= set(layers) and {"run_info", "layer_styles"} <= set(layers)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        styles = pd.read_sql("SELECT * FROM layer_styles", db)
        rtrees = {r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'rtree_%_geom'")}
    for layer in GPKG_LAYERS:
        info = pyogrio.read_info(path, layer=layer)
        assert info["crs"] == "EPSG:27700" and info["geometry_name"] == "geom", layer
        assert f"rtree_{layer}_geom" in rtrees, f"{layer} has no spatial index"
    assert set(styles["f_table_name"]) == {*GPKG_LAYERS, "service_sites", "site_catchments",
                                           "community_view"}
    assert (styles["f_table_schema"] == "").all() and (styles["f_geometry_column"] == "geom").all()
    assert (styles["useAsDefault"] == 1).all()
    # the OA style's classes and colours are the HTML map's
    qml = ET.fromstring(styles.set_index("f_table_name").loc["oa_risk", "styleQML"])
    oa = pyogrio.read_dataframe(path, layer="oa_risk")
    classes = risk_classes(pd.read_csv(out / "publish/areas/oa.csv", index_col=0)["mean_risk"])
    bands = [c.get("value") for c in qml.iter("category")]
    assert bands == [*classes.labels, "withheld (c)", ""]
    colours = [o.get("value") for o in qml.iter("Option") if o.get("name") == "color"]
    assert colours[0] == ",".join(str(int(classes.colours[0][i:i + 2], 16))
                                  for i in (1, 3, 5)) + ",255"
    assert set(oa.columns) >= {"oa11cd", "lsoa11cd", "wd13cd", "mean_risk", "risk_band",
                               "withheld"}
    info = pyogrio.read_dataframe(path, layer="run_info").set_index("key")["value"]
    assert {"run_date", "geo_risk_version", "reference_date", "model_holdout_auc",
            "disclosure_control", "licence", "attribution"} <= set(info.index)
    for layer in ["oa_risk", "lsoa_risk", "ward_risk"]:
        counts = pyogrio.read_dataframe(path, layer=layer)[COUNT_COLUMNS].to_numpy().ravel()
        counts = counts[~np.isnan(counts)]
        assert not ((counts >= 1) & (counts <= 7)).any(), layer
        assert (counts % 5 == 0).all(), layer


def _published_counts(out):
    """Every count a reader sees: report table cells and headline, map tooltips."""
    report = (out / "publish/index.html").read_text(encoding="utf-8")
    headline = re.search(r'<p class="headline">(.*?)</p>', report).group(1)
    counts = re.findall(r"<strong>([\d,]+)</strong>", headline)
    assert len(counts) == 2
    tables = [*_html_tables(out / "publish/index.html").values(),
              *_html_tables(out / "publish/maps/tables.html").values()]
    for table in tables:
        counts += [c for h in table.columns if h in {
            "Under-fives", "Expected not school ready", "Households flagged",
            "of which unknown to services", "Children under five"} for c in table[h]]
    for path in MAP_FILES[:1]:  # the map's tooltips (the table page was read above)
        page = (out / "publish" / path).read_text(encoding="utf-8")
        for layer in map_data(page)["layers"]:
            counts += [v for values in layer["props"].values() for v in values
                       if isinstance(v, str) and re.fullmatch(r"[\d,]+|c", v)]
    return counts


def test_nothing_published_shows_a_small_count_an_identifier_or_the_key(demo):
    out, _ = demo
    counts = _published_counts(out)
    assert len(counts) > 1000  # the scan found the tables and the maps' tooltips
    numbers = [int(c.replace(",", "")) for c in counts if c != "c"]
    assert not [n for n in numbers if 1 <= n <= 7]
    assert all(n % 5 == 0 for n in numbers)
    assert "c" in counts  # and withheld values show as c
    published_run = json.loads((out / "publish/run.json").read_text())
    people = list(people_counts(published_run))
    assert len(people) > 20 and published_run["complete"]
    assert not [(k, v) for k, v in people if 1 <= v <= 7 or v % 5]

    raw = set()
    for name in ["child_register", "social_care", "school_readiness", "addresses"]:
        frame = pd.read_csv(out / f"synth/extracts/{name}.csv", dtype=str)
        for column in ["uprn", "child_id", "person_id"]:
            if column in frame:
                raw |= set(frame[column].dropna())
    pseudonyms = set(pd.read_parquet(out / "restricted/link/households.parquet")["household_key"])
    pseudonyms |= set(pd.read_parquet(out / "restricted/link/children.parquet")["child_key"])
    key = demo_key(1).secret
    published = sorted(p for p in (out / "publish").rglob("*")
                       if p.is_file() and p.suffix != ".gpkg")
    assert len(published) >= 15  # everything under publish/: report, map, tables, card
    texts = [published_text(p) for p in published]  # tables (GeoParquet, NetCDF) as CSV
    for layer in [*GPKG_LAYERS, "run_info"]:
        texts.append(pyogrio.read_dataframe(out / "publish/geo_risk.gpkg", layer=layer).drop(
            columns="geometry", errors="ignore").to_csv())
    for text in texts:
        tokens = set(re.findall(r"[0-9A-Za-z]+", text))
        assert not tokens & raw and not tokens & pseudonyms
        assert key.hex() not in text
    assert len(raw) > 50_000 and len(pseudonyms) > 10_000


def test_report_reads_as_a_board_member_needs(demo):
    out, summary = demo
    page = (out / "publish/index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    head = summary["headline"]
    assert (f"{head['households_at_risk']} households with children under five are "
            "predicted to be at risk") in text
    assert f"{head['previously_unknown']} of them are previously unknown" in text
    assert f"Out of {head['households_scored']} households with under-fives" in text
    for section in ["Where risk is highest", "Known and newly identified areas of concern",
                    "What changed since the previous refresh", "The model and its limits",
                    "Method and data", "Limitations"]:
        assert section in text, section
    assert "Words used in this report" in text and "Mann-Kendall test" in text
    assert "maps/map.html#clusters" in page  # the clusters have their own link
    top = _html_tables(out / "publish/index.html")[
        "The eight wards with the highest predicted risk"]["Ward"].iloc[0]
    assert top == "Vange"  # the planted emerging hotspot has the highest predicted risk
    assert "30 September 2017" in text  # the previous refresh
    assert ("emerging hot spot analysis of mean predicted risk beyond what deprivation "
            "predicts") in text and "(p &lt; 0.001)" in page
    legend = (out / "publish/maps" / MAP_FILE).read_text(encoding="utf-8")
    assert "Trend in mean predicted risk beyond what deprivation predicts" in legend
    assert "<svg" in page and all(f'href="{p}"' in page for p in MAP_VIEWS)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert ">Vange</text>" in svg  # the static map names its wards
    # who the flags fall on, in words, with nothing withheld in the table given back
    fair = pd.read_csv(out / "publish/model/fairness.csv")
    for attribute, groups in fair.groupby("attribute"):
        line = re.search(f"By {attribute}: ([^.]*(?:\\.\\d[^.]*)*)\\.", text).group(1)
        for group, rate in zip(groups["group"], groups["flag_rate"], strict=True):
            assert (f"{group} withheld" if pd.isna(rate) else f"{group} {rate:.1%} flagged"
                    ) in line
    for path in ["index.html", "maps/map.html", "maps/tables.html"]:
        assert "accessibility.html" in (out / "publish" / path).read_text(encoding="utf-8")
    statement = (out / "publish/transparency/accessibility.html").read_text()
    assert "WCAG" in statement and "table page" in statement
    restricted = pd.read_csv(out / "restricted/flagged_households.csv")
    assert not set(restricted["household_key"]) & set(re.findall(r"[0-9a-f]{16,}", page))


def test_run_from_a_config(earlier_run):
    """'geo-risk run' on the demo's synthetic extracts, as a council would run it: a fixed
    number flagged and service sites chosen (the configuration of ``earlier_run``)."""
    summary = json.loads((earlier_run / "restricted/run.json").read_text())
    assert summary["reference_date"] == "2017-09-30"
    assert summary["model"]["households_flagged"] == 400
    assert summary["hotspots"]["refreshes"] == 3
    assert len(summary["siting"]["new_sites"]) == 3 and summary["siting"]["existing"] == 0
    for path in ["index.html", *MAP_FILES, "geo_risk.gpkg", "siting/sites.csv"]:
        assert (earlier_run / "publish" / path).is_file(), path
    assert (earlier_run / "restricted/flagged_households.csv").is_file()


@pytest.mark.parametrize("text, message", [
    ("", "missing area_name, reference_date, key_file, extracts, boundaries"),
    ('area_nme = "x"', "unknown setting 'area_nme'. Did you mean 'area_name'?"),
    ('area_name = "x"\nreference_date = "31/12/2017"\nkey_file = "k"\nextracts = "."\n'
     '[boundaries]\noa = "a"\nlookup = "b"', "oa = 'a': file not found"),
    ('area_name = "x"\nreference_date = 2017-12-31\nkey_file = "k"\nextracts = "."\n'
     "[boundaries]\n[capacity]\nshare = 0.05\nnumber = 5", "[boundaries] needs oa"),
    ('[hotspots]\nweights = "knn:0"', "[hotspots] weights 'knn:0': use one of queen, rook"),
    ('[hotspots]\nglobal_window = "cube"',
     "[hotspots] global window 'cube': use one of entire_cube, neighbourhood_time_step"),
    ('[hotspots]\nfdr = "no"', "fdr must be true or false (unquoted), not 'no'"),
])
def test_config_errors_are_one_clear_message(tmp_path, text, message):
    config = tmp_path / "run.toml"
    config.write_text(text)
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_example_config_is_complete():
    """The example shows every setting the loader knows, and nothing else: both come from
    the one declaration."""
    import re
    import tomllib

    from geo_risk.config import _TABLES, _TOP, SETTINGS

    result = CliRunner().invoke(app, ["run", "--example"])
    assert result.exit_code == 0
    example = tomllib.loads(result.output)
    assert set(example) == _TOP
    assert all(set(example[t]) <= keys for t, keys in _TABLES.items())
    shown = {(t, k) for t, table in example.items() if isinstance(table, dict) for k in table}
    shown |= {("", k) for k, v in example.items() if not isinstance(v, dict)}
    assert shown == {(s.table, s.key) for s in SETTINGS if s.shown}
    commented = set(re.findall(r"^# (\w+) = ", result.output, re.M))
    assert commented == {s.key for s in SETTINGS if not s.shown}


def test_risk_classes_stay_fast_and_close_at_county_size():
    """Above a district's size the breaks come from the values' quantiles: a county's
    5,666 OAs take about a second (61 s exactly) and give a finer summary's classes to
    the whole percent."""
    import time

    import mapclassify

    rng = np.random.default_rng(1)
    values = rng.beta(2, 5, 5_666)
    started = time.perf_counter()
    classes = risk_classes(values)
    assert time.perf_counter() - started < 5
    with pytest.warns(UserWarning, match="Numba"):  # a finer summary as the reference
        exact = mapclassify.FisherJenks(np.quantile(values, np.linspace(0, 1, 1_200)),
                                        k=5).bins
    assert np.allclose(classes.uppers, np.ceil(np.round(exact * 100, 6)) / 100, atol=0.011)
    small = rng.beta(2, 5, 500)  # a district: exact, as before
    assert risk_classes(small).uppers == risk_classes(small.tolist()).uppers


def test_display_simplification_keeps_a_coverage_and_every_area():
    """The map's output areas are simplified for display as a coverage: still no gap or
    overlap, each area within 1% of its own, no more vertices (the town's Voronoi cells have
    none to spare); a set that is not a coverage is simplified polygon by polygon, never
    dropped."""
    import shapely

    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.publish.maps import _display

    oas = load_boundaries()
    shown, coverage = _display(oas.geometry)
    assert coverage and shapely.coverage_is_valid(shown.to_numpy())
    assert shown.index.equals(oas.index)
    assert (abs(shown.area / oas.area - 1) < 0.01).all()
    assert shapely.get_num_coordinates(shown.to_numpy()).sum() <= \
        shapely.get_num_coordinates(oas.geometry.to_numpy()).sum()
    overlapping = oas.geometry.copy()
    overlapping.iloc[0] = overlapping.iloc[0].buffer(50)
    assert not shapely.coverage_is_valid(overlapping.to_numpy())
    shown, coverage = _display(overlapping)
    assert not coverage and shown.notna().all() and len(shown) == len(oas)


def test_edges_that_do_not_quite_meet_still_give_ward_outlines():
    """Detailed real boundaries are not always noded exactly (a shared edge's vertices
    placed a hair apart on its two sides): such a set is no coverage, each polygon is
    simplified alone, and the outlines of wards and districts are a full union of the
    areas shown; a coverage union stopped the run on them ("incorrectly noded inputs")."""
    import shapely

    from geo_risk import columns as C
    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.publish.maps import _display, _outlines

    oas = load_boundaries()

    def wiggle(xy):  # each vertex moved by where it is: both sides of an edge alike
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([x + 1.5 * np.sin(0.31 * x + 0.17 * y),
                                y + 1.5 * np.cos(0.23 * x - 0.29 * y)])

    # vertices every 5 m, placed from each end of an edge: not bit for bit the same
    detailed = oas.geometry.copy()
    detailed[:] = shapely.transform(shapely.segmentize(detailed.to_numpy(), 5.0), wiggle)
    assert shapely.is_valid(detailed.to_numpy()).all()
    shown, coverage = _display(detailed)
    assert not coverage
    wards = _outlines(oas[[C.WARD]].set_geometry(shown), C.WARD, coverage)
    assert len(wards) == oas[C.WARD].nunique() and shapely.is_valid(wards.to_numpy()).all()
    assert abs(wards.area.sum() / oas.area.sum() - 1) < 0.001


def test_no_withheld_area_carries_what_its_own_value_decides(demo):
    """A withheld area's LISA quadrant says whether its withheld risk is above or below
    the mean; it is withheld with the risk, in the CSV, the GeoPackage and the map."""
    import pyogrio

    out, summary = demo
    oa = pd.read_csv(out / "publish/areas/oa.csv", index_col=0)
    hot = pd.read_csv(out / "publish/areas/oa_hotspots.csv", index_col=0)
    withheld = oa.index[oa["mean_risk"].isna() & oa["children_under5"].isna()]
    assert len(withheld) > 5  # the demo's town has small areas
    assert (hot.loc[withheld, "lisa_quadrant"] == "withheld").all()
    assert hot.loc[withheld, "p_sim"].isna().all()
    assert (hot.drop(withheld)["lisa_quadrant"] != "withheld").all()
    layer = pyogrio.read_dataframe(out / "publish/geo_risk.gpkg", layer="lisa")
    shown = layer.set_index(layer.columns[0]).loc[withheld, "lisa_quadrant"]
    assert (shown == "withheld").all()
    assert summary["hotspots"]["lisa"]["withheld"] == len(withheld)
    # and its quadrant over the refreshes, in the CSV, the GeoPackage and the table view
    for column in ["lisa_last", "lisa_since", "lisa_from"]:
        assert (hot.loc[withheld, column] == "withheld").all(), column
        assert (layer.set_index(layer.columns[0]).loc[withheld, column] == "withheld").all()
    assert not hot.drop(withheld)[["lisa_last", "lisa_since"]].isin(["withheld"]).any().any()
    moves = summary["hotspots"]["lisa_over_time"]
    assert moves["areas"] == len(oa) - len(withheld)  # a withheld area's moves not counted
    assert sum(map(sum, moves["transitions"])) == moves["areas"] * (
        summary["hotspots"]["refreshes"] - 1)


def _html_tables(path) -> dict[str, pd.DataFrame]:
    """The tables of a page by caption, every cell as its text."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.cell, self.row, self.caption = {}, None, None, None

        def handle_starttag(self, tag, attrs):
            if tag == "caption":
                self.caption, self.cell = "", ""
            elif tag == "tr":
                self.row = []
            elif tag in {"td", "th"}:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "caption":
                self.tables[self.cell], self.caption, self.cell = [], self.cell, None
            elif tag in {"td", "th"} and self.row is not None:
                self.row.append(self.cell)
                self.cell = None
            elif tag == "tr":
                self.tables[self.caption].append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return {name: pd.DataFrame(rows[1:], columns=rows[0]) for name, rows in parser.tables.items()}


def test_every_map_layer_is_a_table_with_the_geopackage_values(demo):
    """The table view lists every area of each layer with the figures and categories the
    GeoPackage holds: what a screen-reader or keyboard user reads instead of the map."""
    import pyogrio

    from geo_risk.publish.symbology import lisa_colours

    out, _ = demo
    tables = _html_tables(out / "publish/maps/tables.html")
    gpkg = out / "publish/geo_risk.gpkg"

    def layer(name, key):
        return pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False).set_index(key)

    oa = layer("oa_risk", "oa11cd")
    shown = tables["Risk by output area"].set_index("code")
    assert set(shown.index) == set(oa.index) and len(shown) == len(oa)
    expected = [("c" if pd.isna(c) else "no under-fives scored") if pd.isna(r)
                else f"{r:.0%}" for r, c in zip(oa["mean_risk"], oa["children_under5"],
                                                  strict=True)]
    assert shown.loc[oa.index, "Predicted risk"].tolist() == expected
    children = ["c" if pd.isna(c) else f"{int(c):,}" for c in oa["children_under5"]]
    assert shown.loc[oa.index, "Children under five"].tolist() == children
    ward = layer("ward_risk", "wd13cd")
    assert set(tables["Risk by ward"]["code"]) == set(ward.index)
    lisa = layer("lisa", "oa11cd")
    clusters = tables["Clusters of high and low risk (LISA)"].set_index("code")
    assert clusters.loc[lisa.index, "Cluster"].tolist() == [
        lisa_colours()[q][1] for q in lisa["lisa_quadrant"]]
    ehsa = layer("emerging_hotspots", "oa11cd")
    categories = tables["Emerging hot spots"].set_index("code")
    assert (categories.loc[ehsa.index, "Category"].str.lower()
            == ehsa["ehsa_category"].str.lower()).all()
    sites = layer("service_sites", "name")
    assert set(tables["Service sites"]["Site"]) == set(sites.index)


def _contrast(a: str, b: str) -> float:
    """WCAG 2.2's contrast ratio of two colours (#rrggbb)."""
    def luminance(colour):
        rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_outlines_and_withheld_areas_stand_out_from_every_fill():
    """WCAG 1.4.11 (3:1 for what a reader must see): each area-of-concern outline, a dark
    line on a light casing, against every fill it can cross; withheld areas against the
    lowest risk class and against 'no under-fives'."""
    from geo_risk.publish.symbology import (
        CASING,
        CONCERN_STYLES,
        NO_DATA_COLOUR,
        RISK_COLOURS,
        WITHHELD_COLOUR,
    )

    fills = [*RISK_COLOURS, WITHHELD_COLOUR, NO_DATA_COLOUR]
    for style, _ in CONCERN_STYLES.values():
        for fill in fills:
            assert max(_contrast(style["color"], fill),
                       _contrast(CASING["color"], fill)) >= 3, (style["color"], fill)
        assert _contrast(style["color"], CASING["color"]) >= 3
    assert _contrast(WITHHELD_COLOUR, RISK_COLOURS[0]) >= 3
    assert _contrast(WITHHELD_COLOUR, NO_DATA_COLOUR) >= 3
    # the emerging areas, rising ones included, stand out from "no pattern"
    from geo_risk.areas import EMERGING
    from geo_risk.publish.symbology import EHSA_COLOURS, RISING

    for colour in [RISING[0], *(EHSA_COLOURS[c] for c in EMERGING)]:
        assert _contrast(colour, EHSA_COLOURS["no pattern"]) >= 4.5, colour


def test_the_geopackage_styles_draw_withheld_areas_grey(demo):
    """QGIS draws each risk layer by its default style: every withheld area falls in its
    grey category (a graduated style on the NULL risk left them unfilled)."""
    import sqlite3

    import pyogrio

    from geo_risk.publish.symbology import WITHHELD_COLOUR

    out, _ = demo
    gpkg = out / "publish/geo_risk.gpkg"
    with sqlite3.connect(gpkg) as db:
        styles = dict(db.execute("select f_table_name, styleQML from layer_styles "
                                 "where useAsDefault"))
    grey = ",".join(str(int(WITHHELD_COLOUR[i:i + 2], 16)) for i in (1, 3, 5))
    for name in ["oa_risk", "lsoa_risk", "ward_risk"]:
        qml = styles[name]
        assert 'attr="risk_band"' in qml and 'value="withheld (c)"' in qml
        assert grey in qml
        layer = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
        withheld = layer["mean_risk"].isna() & layer["children_under5"].isna()
        assert (layer.loc[withheld, "risk_band"] == "withheld (c)").all()
    assert (pyogrio.read_dataframe(gpkg, layer="oa_risk", read_geometry=False)["risk_band"]
            == "withheld (c)").sum() > 5


def test_every_geopackage_field_is_described(demo):
    """A GIS team reads what each field is (GeoPackage schema extension, which GDAL and
    ArcGIS read) and sees its alias in QGIS (each default style's aliases)."""
    import sqlite3

    out, _ = demo
    with sqlite3.connect(out / "publish/geo_risk.gpkg") as db:
        tables = [t for (t,) in db.execute("select table_name from gpkg_contents "
                                           "where table_name != 'layer_styles'")]
        documented = {(t, c): d for t, c, d in db.execute(
            "select table_name, column_name, description from gpkg_data_columns")}
        assert db.execute("select count(*) from gpkg_extensions where extension_name = "
                          "'gpkg_schema'").fetchone()[0] >= 1
        missing = [(t, c[1]) for t in tables
                   for c in db.execute(f'pragma table_info("{t}")')
                   if c[1] not in {"fid", "geom"} and not documented.get((t, c[1]))]
        qml = dict(db.execute("select f_table_name, styleQML from layer_styles"))
    assert len(tables) >= 8 and not missing, missing
    assert '<alias field="mean_risk"' in qml["oa_risk"]
    assert 'name="Predicted risk"' in qml["oa_risk"]


def test_a_rising_area_of_another_category_has_the_rising_colour():
    """On the map's emerging layer, an area rising over the last year whose category is
    not an emerging one is drawn in the rising colour, not its category's pale one, and
    the legend says what the colour means; an emerging category keeps its own colour."""
    import geopandas as gpd
    import shapely

    from geo_risk import columns as C
    from geo_risk.areas.disclosure import INTERVAL_COLUMNS
    from geo_risk.publish.maps import EHSA, _layers
    from geo_risk.publish.symbology import EHSA_COLOURS, RISING

    codes = [f"E0{i:07d}" for i in range(16)]
    oas = gpd.GeoDataFrame(
        {C.WARD: ["W1"] * 8 + ["W2"] * 8, C.WARD_NAME: ["North"] * 8 + ["South"] * 8},
        geometry=[shapely.box(100 * (i % 4), 100 * (i // 4), 100 * (i % 4) + 100,
                              100 * (i // 4) + 100) for i in range(16)],
        index=pd.Index(codes, name=C.OA), crs="EPSG:27700")
    risk = np.linspace(0.1, 0.5, 16)
    oa = pd.DataFrame({"children_under5": 40.0, "expected_not_ready": 10.0,
                       "mean_risk": risk, **{c: risk for c in INTERVAL_COLUMNS}},
                      index=oas.index)
    ward = pd.DataFrame({C.WARD_NAME: ["North", "South"], "children_under5": 320.0,
                         "expected_not_ready": 80.0, "mean_risk": [0.2, 0.4],
                         **{c: [0.2, 0.4] for c in INTERVAL_COLUMNS}},
                        index=pd.Index(["W1", "W2"], name=C.WARD))
    hotspots = pd.DataFrame({
        "lisa_quadrant": "not significant", "ehsa_category": "no pattern",
        "ehsa_stability": 1.0, "rise": 0.0, "rising": False, "concern": ""},
        index=oas.index)
    hotspots.loc[codes[15], ["ehsa_category", "rise", "rising"]] = [
        "sporadic hot spot", 0.05, True]
    hotspots.loc[codes[14], ["ehsa_category", "rise", "rising"]] = [
        "consecutive hot spot", 0.04, True]
    _, _, layers, _, _ = _layers(oas, {"oa": oa, "ward": ward}, hotspots, None)
    layer = next(lay for lay in layers if lay.name == EHSA)
    fill = dict(zip(codes, layer.fill, strict=True))
    assert fill[codes[15]] == RISING[0]
    assert fill[codes[14]] == EHSA_COLOURS["consecutive hot spot"]
    assert fill[codes[0]] == EHSA_COLOURS["no pattern"]
    assert "Rising: risk around it rose significantly" in layer.legend
    assert layer.props.loc[codes[15], "Rise over the last year"] == "+5.0 points (significant)"
