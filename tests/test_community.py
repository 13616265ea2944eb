"""What the community says (#37): insight read with every row used or rejected with its
reason, a person's details refused and never repeated, set beside the data's areas of
concern by ward and output area, and published without its free text."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_risk import columns as C
from geo_risk._errors import SchemaError
from geo_risk.areas.community import agreement
from geo_risk.areas.disclosure import SAFE
from geo_risk.geography import DEFAULT_BOUNDARIES, load_geography
from geo_risk.inputs.community import read_community


@pytest.fixture(scope="module")
def town() -> gpd.GeoDataFrame:
    return load_geography(DEFAULT_BOUNDARIES)[0]


def _inside(town, n: int) -> tuple[float, float]:
    point = town.geometry.iloc[n].representative_point()
    return round(point.x, 1), round(point.y, 1)


def test_every_row_is_used_or_rejected_with_a_reason_that_never_quotes_it(town, tmp_path):
    (x0, y0), (x1, y1) = _inside(town, 0), _inside(town, 1)
    rows = pd.DataFrame([
        (x0, y0, "housing conditions", "2017-03-01", "Damp flats by the shops"),
        (x1, y1, "=cmd|' /C calc'!A0", "31/12/2016", ""),  # a formula: kept, escaped later
        (x0, y0, "youth provision", "01/31/2017", ""),  # month first: not guessed
        (x0, y0, "", "2017-01-01", ""),
        (x0, y0, "x" * 61, "2017-01-01", ""),
        (x0, y0, "drug use", "2018-06-01", ""),  # after the reference date
        (x0, y0, "isolation", "2017-01-01", "ring 01268 533 333 any time"),
        (x0, y0, "isolation", "2017-01-01", "write to jo.bloggs@example.org"),
        (x0, y0, "isolation", "2017-01-01", "outside 12 Station Road"),
        (x0, y0, "isolation", "2017-01-01", "my neighbour is called Sandra"),
        (x0, y0, "Mr Patel's house", "2017-01-01", ""),  # the theme is published: scanned
        (100.0, 100.0, "childcare", "2017-01-01", ""),  # in Britain, not in the town
        ("abc", y0, "childcare", "2017-01-01", ""),
    ], columns=["Easting", "Northing", "Theme", "Date", "Comment"])
    path = tmp_path / "said.csv"
    rows.to_csv(path, index=False)
    said = read_community(path, town, reference_date="2017-12-31")
    assert said.read == len(rows) and said.reconciles()
    assert said.mentions["row"].tolist() == [2, 3]
    assert said.mentions[C.OA].tolist() == town.index[:2].tolist()
    assert said.mentions["theme"].iloc[1].startswith("=cmd")
    why = dict(zip(said.rejects["row"], said.rejects["reason"], strict=True))
    assert "date cannot be read" in why[4] and "theme is empty" in why[5]
    assert "longer than 60" in why[6] and "after the run's reference date" in why[7]
    assert [why[r].split(";")[0] for r in range(8, 13)] == [
        "comment holds what looks like a phone number",
        "comment holds what looks like an e-mail address",
        "comment holds what looks like an address",
        "comment holds what looks like a name", "theme holds what looks like a name"]
    assert "outside the run's output areas" in why[13] and "no place" in why[14]
    quoted = " ".join(why.values())
    assert not any(s in quoted for s in ["01268", "bloggs", "Station", "Sandra", "Patel"])


def test_polygons_name_the_areas_they_cover_and_postcodes_need_a_lookup(town, tmp_path):
    ward = town[town[C.WARD_NAME] == "Vange"]
    shape = shapely.unary_union(ward.geometry.to_numpy()).buffer(-1)
    layer = gpd.GeoDataFrame({"Theme": ["cost of living"], "Date": ["2017-05-01"]},
                             geometry=[shape], crs=27700).to_crs(4326)
    layer.to_file(tmp_path / "said.geojson")
    said = read_community(tmp_path / "said.geojson", town, reference_date="2017-12-31")
    assert said.reconciles() and set(said.mentions[C.OA]) == set(ward.index)
    x, y = _inside(town, 5)
    pd.DataFrame({"postcode": ["ss16 4ab", "SS99 9ZZ"], "theme": ["childcare"] * 2,
                  "date": ["2017-01-01"] * 2}).to_csv(tmp_path / "pc.csv", index=False)
    with pytest.raises(SchemaError, match="placed by postcode; give a postcode lookup"):
        read_community(tmp_path / "pc.csv", town, reference_date="2017-12-31")
    pd.DataFrame({"pcds": ["SS16 4AB"], "oseast1m": [x], "osnrth1m": [y]}).to_csv(
        tmp_path / "onspd.csv", index=False)
    said = read_community(tmp_path / "pc.csv", town, reference_date="2017-12-31",
                          postcodes=tmp_path / "onspd.csv")
    assert said.mentions[C.OA].tolist() == [town.index[5]]
    assert "no place" in said.rejects["reason"].iloc[0] and said.reconciles()
    pd.DataFrame({"theme": ["x"], "date": ["2017-01-01"]}).to_csv(tmp_path / "no.csv",
                                                                  index=False)
    with pytest.raises(SchemaError, match="easting and northing"):
        read_community(tmp_path / "no.csv", town, reference_date="2017-12-31")


def test_both_community_only_data_only_by_ward(town):
    """A ward is the community's concern when named often for its size; one mention in
    a large ward is not; the data's is any output area of concern."""
    wards = town[C.WARD_NAME]
    vange, fryerns, crouch = (wards.index[wards == w] for w in
                              ["Vange", "Fryerns", "Crouch"])
    mentions = pd.DataFrame({
        C.OA: [*fryerns[:6], *crouch[:5], vange[0]],
        "theme": ["housing"] * 6 + ["youth provision"] * 4 + ["drug use", "housing"],
        "date": pd.Timestamp("2017-01-01")})
    mentions["row"] = range(2, 2 + len(mentions))
    concern = pd.Series(pd.NA, index=town.index, dtype=object)
    concern[[*vange[:10], *fryerns[:3]]] = "newly identified"
    by_ward, by_oa, summary = agreement(mentions, town, pd.DataFrame({"concern": concern}),
                                        SAFE)
    view = by_ward.set_index(C.WARD_NAME)["view"]
    assert (view["Fryerns"], view["Crouch"], view["Vange"]) == (
        "both", "community only", "data only")
    assert by_ward.set_index(C.WARD_NAME).loc["Crouch", "themes"] == (
        "youth provision; drug use")
    assert by_ward.set_index(C.WARD_NAME).loc["Crouch", "community_mentions"] == "c"
    assert summary["wards"]["both"] == 1 and summary["data_only_wards"] == ["Vange"]
    assert by_oa.loc[fryerns[0], "view"] == "both" and by_oa.loc[vange[0], "view"] == "both"
    assert by_oa.loc[vange[1], "view"] == "data only"


def test_the_demo_publishes_the_views_and_never_the_free_text(demo):
    from geo_risk.publish.transparency import published_text

    out, summary = demo
    said = summary["community"]
    assert said["reconciles"] and said["rows_rejected"] == 2
    assert said["wards"]["data only"] >= 1 and "Vange" in said["data_only_wards"]
    rejects = pd.read_csv(out / "restricted/community/rejects.csv")
    assert [r.split(";")[0] for r in rejects["reason"]] == [
        "comment holds what looks like a phone number", "comment holds what looks like a name"]
    page = (out / "publish/index.html").read_text()
    assert "<h2>What the community says</h2>" in page and "Vange" in page
    published = json.loads((out / "publish/run.json").read_text())["community"]
    assert published["rows_rejected"] == "c"
    for path in (p for p in (out / "publish").rglob("*") if p.is_file()):
        text = published_text(path)
        assert not any(s in text for s in ["drop-in", "07700 900123", "Okafor"]), path
    assert "maps/map.html#community" in page
    for shown in ["maps/map.html", "maps/tables.html"]:
        assert "What the community says, beside the data" in (
            out / "publish" / shown).read_text()
    layer = gpd.read_file(out / "publish/geo_risk.gpkg", layer="community_view")
    assert set(layer["view"]) <= {"both", "community only", "data only", "neither"}
    assert len(layer) == summary["hotspots"]["areas"]


def test_a_council_run_reads_it_and_a_file_it_cannot_use_stops_the_run_at_once(
        earlier_run, demo, tmp_path):
    """A configured run ([community] file) publishes the views; a file without themes is
    one error naming it, before any household is read."""
    from conftest import write_config
    from typer.testing import CliRunner

    from geo_risk.cli import app

    record = json.loads((earlier_run / "publish/run.json").read_text())
    assert record["community"]["reconciles"] and "community" in record["stage_seconds"]
    assert (earlier_run / "publish/areas/community_wards.csv").is_file()
    assert (earlier_run / "restricted/community/mentions.parquet").is_file()
    out, _ = demo
    bad = tmp_path / "said.csv"
    pd.DataFrame({"easting": [1.0], "northing": [2.0], "date": ["2017-01-01"]}).to_csv(
        bad, index=False)
    config = write_config(tmp_path, out / "synth/extracts",
                          tables=f'[community]\nfile = "{bad}"\n')
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--out",
                                      str(tmp_path / "run")])
    assert result.exit_code == 2 and result.output.count("error:") == 1
    assert "said.csv: needs a 'theme' column" in " ".join(result.output.split())
    assert "Traceback" not in result.output and not (tmp_path / "run").exists()
