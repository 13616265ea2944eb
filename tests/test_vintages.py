"""Today's geography: Census 2021 output areas, wards of any year (looked up by OA or by
LSOA), IoD 2025 as published, and refusals of vintages that do not nest."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, SchemaError
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles, load_geography
from geo_risk.geography.vintage import VINTAGE_2011
from geo_risk.synth.vintages import IDACI_RANK, as_2021, write_geography


@pytest.fixture(scope="module")
def town():
    return load_geography(DEFAULT_BOUNDARIES)[0]


@pytest.fixture(scope="module")
def town_2021(town, tmp_path_factory):
    """The town as a 2021 GIS team holds it: OA21 polygons carrying LSOA21CD, an LSOA21 ->
    WD25 -> LAD25 best-fit lookup and IoD 2025 File 7 with its published headers."""
    oas, vintage = as_2021(town)
    folder = tmp_path_factory.mktemp("town2021")
    return write_geography(oas, folder, vintage, ward_level="lsoa", published=True)


def test_2021_files_are_read_as_published(town, town_2021):
    oas, vintage = load_geography(town_2021)
    assert (vintage.census, vintage.ward, vintage.lad) == (2021, 2025, 2025)
    assert vintage.ward_level == "lsoa" and vintage.deprivation == "IoD 2025"
    assert vintage.fields[C.OA] == "oa21cd" and vintage.fields[C.WARD_NAME] == "wd25nm"
    assert vintage.describe() == ("Output areas and LSOAs 2021, wards 2025 (by LSOA, best "
                                  "fit); deprivation IoD 2025")
    assert oas.index[0].startswith("E0097") and len(oas) == len(town)
    # same areas, same wards, same deprivation (ranks rescaled to 33,755 LSOAs)
    assert (oas[C.WARD_NAME].to_numpy() == town[C.WARD_NAME].to_numpy()).all()
    assert (oas[C.DEPRIVATION] - town[C.DEPRIVATION].to_numpy()).abs().max() < 1e-4
    assert (oas[C.DEPRIVATION_DECILE].to_numpy() == town[C.DEPRIVATION_DECILE].to_numpy()).all()


def test_idaci_is_a_choice_of_measure(town, tmp_path):
    oas = town.assign(**{IDACI_RANK: 32_845 - town[C.DEPRIVATION_RANK]})  # reversed
    files = write_geography(oas, tmp_path, VINTAGE_2011, published=True)
    imd, _ = load_geography(files)
    idaci, vintage = load_geography(BoundaryFiles(files.oa, files.lookup, files.imd, "idaci"))
    assert vintage.measure == "idaci" and "(IDACI)" in vintage.describe()
    assert (imd[C.DEPRIVATION] + idaci[C.DEPRIVATION] - 1).abs().max() < 1e-9


def test_a_2011_file_with_a_2021_lookup_is_refused_naming_both(town, town_2021, tmp_path):
    files_2011 = write_geography(town, tmp_path, VINTAGE_2011)
    mixed = BoundaryFiles(files_2011.oa, town_2021.lookup)
    with pytest.raises(BoundaryError) as caught:
        load_geography(mixed)
    text = str(caught.value)
    assert "OA11CD (2011 output areas)" in text and "LSOA21CD (2021 areas)" in text
    assert str(files_2011.oa) in text and str(town_2021.lookup) in text


def test_deprivation_of_another_census_is_refused(town, town_2021, tmp_path):
    files_2011 = write_geography(town, tmp_path, VINTAGE_2011)
    with pytest.raises(BoundaryError, match=r"ranks 2021 LSOAs \(LSOA code \(2021\)\) but the "
                                            r"output areas are from the 2011 census: use IMD 2019"):
        load_geography(BoundaryFiles(files_2011.oa, files_2011.lookup, town_2021.imd))


def test_a_lookup_by_lsoa_needs_the_lsoa_of_each_oa(town, town_2021, tmp_path):
    oas, vintage = as_2021(town)
    bare = write_geography(oas, tmp_path, vintage)  # OA file without LSOA21CD
    with pytest.raises(SchemaError, match=r"looks wards up by LSOA but .* has no LSOA code"):
        load_geography(BoundaryFiles(bare.oa, town_2021.lookup))


def test_a_lookup_by_lsoa_gives_each_lsoa_one_ward(town_2021, tmp_path):
    lookup = pd.read_csv(town_2021.lookup, dtype=str)
    extra = lookup.iloc[[0]].assign(WD25CD="E05979999", WD25NM="Elsewhere")
    path = tmp_path / "lookup.csv"
    pd.concat([lookup, extra]).to_csv(path, index=False)
    with pytest.raises(BoundaryError, match=f"LSOA {lookup['LSOA21CD'].iat[0]} is given 2 "
                                            "different wards"):
        load_geography(BoundaryFiles(town_2021.oa, path))


def test_an_oa_file_of_no_census_is_refused(town, tmp_path):
    files = write_geography(town, tmp_path, VINTAGE_2011)
    import geopandas as gpd

    layer = gpd.read_file(files.oa).rename(columns={"OA11CD": "OA19CD"})
    layer.to_file(files.oa)
    with pytest.raises(SchemaError, match="OA19CD is not a census output area code column"):
        load_geography(files)


# --- a whole run on 2021 geography ---


@pytest.fixture(scope="module")
def run_2021(demo, town_run, town_2021, tmp_path_factory):
    """The baseline run again, with its key and extracts, on the 2021-labelled town."""
    from conftest import run_config, write_config

    out, _ = demo
    tmp = tmp_path_factory.mktemp("run2021")
    shutil.copy2(town_run.parent / "project.key", tmp / "project.key")
    return run_config(write_config(tmp, out / "synth/extracts", name="r2021",
                                   boundaries=town_2021), tmp / "r2021")


def _codes_2011(codes: pd.Series) -> pd.Series:
    return codes.str.replace(r"^(E\d\d)97", r"\g<1>90", regex=True)


def test_a_2021_run_scores_flags_and_finds_what_the_2011_run_does(town_run, run_2021):
    """Same extracts, same town labelled as 2011 (OA lookup, IMD 2019 short form) and as
    2021 (LSOA best-fit lookup, IoD 2025 File 7): same scores, flags and hotspots."""
    old = pd.read_parquet(town_run / "restricted/household_scores.parquet")
    new = pd.read_parquet(run_2021 / "restricted/household_scores.parquet")
    assert len(old) == len(new) > 1000
    old, new = old.sort_values(["rank"]), new.sort_values(["rank"])
    assert (old["score"].to_numpy() == new["score"].to_numpy()).all()
    assert (old["flagged"].to_numpy() == new["flagged"].to_numpy()).all()
    assert (old[C.OA].to_numpy() == _codes_2011(new[C.OA]).to_numpy()).all()
    hot_old = pd.read_csv(town_run / "publish/areas/oa_hotspots.csv", index_col=0)
    hot_new = pd.read_csv(run_2021 / "publish/areas/oa_hotspots.csv", index_col=0)
    hot_new.index = _codes_2011(hot_new.index.to_series()).to_numpy()
    for column in ["lisa_quadrant", "ehsa_category", "concern"]:
        assert hot_old[column].equals(hot_new.loc[hot_old.index, column]), column


def test_every_published_file_names_the_2021_vintage(run_2021):
    import pyogrio

    publish = run_2021 / "publish"
    assert pd.read_csv(publish / "areas/oa.csv").columns[0] == "oa21cd"
    ward = pd.read_csv(publish / "areas/ward.csv")
    assert list(ward.columns[:2]) == ["wd25cd", "wd25nm"]
    assert pd.read_csv(publish / "areas/oa_hotspots.csv").columns[0] == "oa21cd"
    gpkg = publish / "geo_risk.gpkg"
    assert {"oa21cd", "lsoa21cd", "wd25nm"} <= set(pyogrio.read_info(gpkg, layer="oa_risk")
                                                   ["fields"])
    info = pyogrio.read_dataframe(gpkg, layer="run_info").set_index("key")["value"]
    assert info["geography"].startswith("Output areas and LSOAs 2021, wards 2025 (by LSOA")
    assert info["ward_lookup"] == "by LSOA (ONS best fit)"
    assert info["deprivation_measure"] == "Index of Multiple Deprivation (IoD 2025)"
    for page in [publish / "index.html", *sorted((publish / "maps").glob("*.html"))]:
        assert "Output areas and LSOAs 2021, wards 2025" in page.read_text(), page.name
    for path in publish.rglob("*"):
        if path.suffix in {".csv", ".html", ".json", ".md"}:
            text = path.read_text()
            assert not any(old in text for old in ["oa11cd", "lsoa11", "wd13", "IMD 2019"]), \
                path.name


# --- households placed by a UPRN lookup (ONSUD form) ---


@pytest.fixture(scope="module")
def run_by_uprn(demo, town_run, town, tmp_path_factory):
    """The baseline run again, its addresses placed by an ONSUD-style lookup made by point
    in polygon, except: 2% of UPRNs missing (newer than the release: placed by point) and
    one home of under-fives listed in a different OA than its point's (the lookup wins)."""
    from conftest import run_config, write_config

    from geo_risk.inputs.ingest import normalise_uprn

    out, _ = demo
    tmp = tmp_path_factory.mktemp("by_uprn")
    shutil.copy2(town_run.parent / "project.key", tmp / "project.key")
    addresses = pd.read_csv(out / "synth/extracts/addresses.csv", dtype=str)
    uprn, _ = normalise_uprn(addresses["uprn"].fillna(""))
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
        pd.to_numeric(addresses["easting"], errors="coerce"),
        pd.to_numeric(addresses["northing"], errors="coerce")), crs=C.BNG)
    hit = gpd.sjoin(points, town[["geometry"]], predicate="within", how="inner")
    lookup = pd.DataFrame({"uprn": uprn[hit.index].to_numpy(),
                           "gridgb1e": addresses["easting"][hit.index].to_numpy(),
                           "oa11cd": hit[C.OA].to_numpy()})
    lookup = lookup[lookup["uprn"] != ""].drop_duplicates("uprn")
    newer = lookup.sample(frac=0.02, random_state=3).index
    lookup = lookup.drop(index=newer)
    register = pd.read_csv(out / "synth/extracts/child_register.csv", dtype=str)
    with_children = set(normalise_uprn(register["uprn"].fillna(""))[0])
    moved = lookup.index[lookup["uprn"].isin(with_children)][10]
    old_oa = lookup.at[moved, "oa11cd"]
    lookup.at[moved, "oa11cd"] = next(o for o in town.index if o != old_oa)
    path = tmp / "ONSUD_MAY_2025_EE.csv"
    lookup.to_csv(path, index=False)
    files = BoundaryFiles(DEFAULT_BOUNDARIES.oa, DEFAULT_BOUNDARIES.lookup,
                          DEFAULT_BOUNDARIES.imd, uprn_lookup=path)
    config = write_config(tmp, out / "synth/extracts", name="byuprn", boundaries=files,
                          tables="")
    text = config.read_text().replace('measure = "imd"',
                                      f'measure = "imd"\nuprn_lookup = "{path}"')
    config.write_text(text)
    return run_config(config, tmp / "byuprn"), lookup.at[moved, "uprn"], len(lookup)


def test_a_uprn_lookup_places_households_as_point_in_polygon_does(town_run, run_by_uprn):
    import json

    from geo_risk.inputs.pseudonymise import Key, pseudonymise_series

    run, moved_uprn, listed = run_by_uprn
    old = pd.read_parquet(town_run / "restricted/link/households.parquet")
    new = pd.read_parquet(run / "restricted/link/households.parquet")
    old, new = old.set_index("household_key"), new.set_index("household_key")
    assert set(old.index) == set(new.index)
    moved = pseudonymise_series(pd.Series([moved_uprn]), Key.load(run.parent / "project.key"),
                                "uprn").iat[0]
    differ = old.index[old[C.OA] != new.loc[old.index, C.OA]]
    assert list(differ) == [moved]  # the one UPRN the lookup puts elsewhere; all else equal
    record = json.loads((run / "restricted/run.json").read_text())
    placed = record["linkage"]["addresses_placed"]
    assert placed["by_uprn_lookup"] == listed and placed["by_point"] > 0
    import pyogrio

    info = pyogrio.read_dataframe(run / "publish/geo_risk.gpkg", layer="run_info")
    text = info.set_index("key")["value"]["households_placed"]
    assert text.startswith("by UPRN lookup ONSUD_MAY_2025_EE.csv (release May 2025; OA11CD)")


# --- history across the 2021 change: earlier refreshes on 2011 OAs ---


def test_exact_fit_translation_adds_up_and_lists_irregular_areas():
    from geo_risk.run.history import ExactFit, translate_counts

    pairs = pd.DataFrame([("A", "a", "U"), ("B", "b1", "S"), ("B", "b2", "S"),
                          ("C", "c", "M"), ("D", "c", "M"), ("G", "g1", "S"), ("G", "g2", "S"),
                          ("E", "e1", "X"), ("E", "e2", "X"), ("F", "e1", "X"),
                          ("F", "e2", "X")], columns=["old", "new", "change"])
    fit = ExactFit("fit.csv", 2011, 2021, pairs)
    old = pd.DataFrame({"2017-06-30": [10.0, 8.0, 4.0, 6.0, 5.0, 5.0, 12.0],
                        "2017-09-30": [11.0, 12.0, 4.0, 2.0, 5.0, 5.0, 0.0]},
                       index=list("ABCDEFG"))
    weight = pd.Series({"a": 9, "b1": 30, "b2": 10, "c": 7, "e1": 1, "e2": 1, "g1": 0,
                        "g2": 0})
    area = pd.Series({"a": 1, "b1": 1, "b2": 1, "c": 1, "e1": 1, "e2": 1, "g1": 1.0,
                      "g2": 3.0})
    moved, irregular = translate_counts({"n": old}, fit, weight, area)
    new = moved["n"]
    assert irregular == ["e1", "e2"] and new.loc[["e1", "e2"]].isna().all().all()
    assert new.loc["b1", "2017-06-30"] == 6.0 and new.loc["b2", "2017-06-30"] == 2.0  # 3:1
    assert new.loc["c", "2017-06-30"] == 10.0  # merged: the two add up
    assert new.loc["g2", "2017-06-30"] == 9.0  # no under-fives in either part: by area
    for parent, parts in [("B", ["b1", "b2"]), ("G", ["g1", "g2"])]:
        assert (new.loc[parts].sum() == old.loc[parent]).all()  # split parts add up
    assert new.loc["a"].tolist() == old.loc["A"].tolist()


def _changed_town(town):
    """The town's 2011 OAs as a 2021 geography with real changes: two OAs split in two
    (S), two pairs of neighbours merged (M), one pair redrawn across (X); the rest
    unchanged (U) under 2021-range codes. Returns the 2021 OAs and the exact-fit rows."""
    import shapely

    new, _ = as_2021(town)
    new = new.reset_index()
    code = dict(zip(town.index, new[C.OA], strict=True))
    rows = [(old, code[old], "U") for old in town.index]
    neighbours = gpd.sjoin(town[["geometry"]].reset_index(), town[[C.LSOA, "geometry"]],
                           predicate="touches")
    left, right = f"{C.OA}_left", f"{C.OA}_right"
    pairs = neighbours[(neighbours[C.LSOA] == town[C.LSOA].reindex(neighbours[left]).to_numpy())
                       & (neighbours[left] < neighbours[right])]
    used: set = set()
    chosen = []
    for a, b in pairs[[left, right]].itertuples(index=False):
        if a not in used and b not in used:
            chosen.append((a, b))
            used |= {a, b}
        if len(chosen) == 3:
            break
    singles = [o for o in town.index[100:] if o not in used][:2]
    out = new.set_index(C.OA)
    drop, add = [], []
    serial = iter(range(900, 999))

    def fresh():
        return f"E00979{next(serial):03d}"

    for old in singles:  # split by a vertical line through the centroid
        geom = town.geometry[old]
        x = geom.centroid.x
        x0, y0, x1, y1 = geom.bounds
        parts = [geom.intersection(shapely.box(x0 - 1, y0 - 1, x, y1 + 1)),
                 geom.intersection(shapely.box(x, y0 - 1, x1 + 1, y1 + 1))]
        rows = [r for r in rows if r[0] != old]
        drop.append(code[old])
        for part in parts:
            c = fresh()
            rows.append((old, c, "S"))
            add.append(out.loc[code[old]].to_dict() | {C.OA: c, "geometry": part})
    for a, b in chosen[:2]:  # merged
        c = fresh()
        rows = [r for r in rows if r[0] not in {a, b}] + [(a, c, "M"), (b, c, "M")]
        drop += [code[a], code[b]]
        add.append(out.loc[code[a]].to_dict() | {C.OA: c, "geometry": shapely.union(
            town.geometry[a], town.geometry[b])})
    a, b = chosen[2]  # irregular: the pair redrawn along a horizontal line
    both = shapely.union(town.geometry[a], town.geometry[b])
    y = both.centroid.y
    x0, y0, x1, y1 = both.bounds
    halves = [both.intersection(shapely.box(x0 - 1, y0 - 1, x1 + 1, y)),
              both.intersection(shapely.box(x0 - 1, y, x1 + 1, y1 + 1))]
    drop += [code[a], code[b]]
    cs = [fresh(), fresh()]
    rows = [r for r in rows if r[0] not in {a, b}] + [(o, c, "X") for o in (a, b) for c in cs]
    for c, half in zip(cs, halves, strict=True):
        add.append(out.loc[code[a]].to_dict() | {C.OA: c, "geometry": half})
    out = out.drop(index=drop).reset_index()
    out = gpd.GeoDataFrame(pd.concat([out, pd.DataFrame(add)], ignore_index=True),
                           geometry="geometry", crs=C.BNG).set_index(C.OA)
    fit = pd.DataFrame(rows, columns=["OA11CD", "OA21CD", "CHNGIND"])
    return out, fit, singles, cs


@pytest.fixture(scope="module")
def run_with_history(demo, town_run, town, tmp_path_factory):
    """A later run (reference date a quarter on) on the changed 2021 town, with the 2011
    baseline run as its history and the generated exact-fit lookup."""
    from conftest import run_config, write_config

    from geo_risk.geography.vintage import Vintage

    out, _ = demo
    tmp = tmp_path_factory.mktemp("history")
    oas, fit, splits, irregular = _changed_town(town)
    files = write_geography(oas, tmp / "geo2021",
                            Vintage(census=2021, ward=2025, lad=2025, deprivation="IoD 2025"),
                            published=True)
    fit = fit[["OA11CD", "CHNGIND", "OA21CD"]]
    fit.to_csv(tmp / "OA11_OA21_EW_LU.csv", index=False)
    # practitioners reviewed the earlier run's flags; the later run's report says how
    from geo_risk.governance.review import import_reviews
    from geo_risk.synth.reviews import simulate_reviews

    form = pd.read_csv(town_run / "restricted/review_form.csv", dtype=str,
                       keep_default_na=False)
    simulate_reviews(form, seed=4).to_csv(tmp / "reviews.csv", index=False)
    import_reviews(tmp / "ledger.sqlite", tmp / "reviews.csv",
                   town_run / "restricted/flagged_households.csv", "2017-12-31")
    shutil.copy2(town_run.parent / "project.key", tmp / "project.key")  # one project key
    config = write_config(tmp, out / "synth/extracts", name="later", boundaries=files,
                          tables=f'[history]\nruns = ["{town_run}"]\n'
                                 f'exact_fit = "{tmp / "OA11_OA21_EW_LU.csv"}"\n'
                                 f'[review]\nledger = "{tmp / "ledger.sqlite"}"\n')
    config.write_text(config.read_text().replace("reference_date = 2017-12-31",
                                                 "reference_date = 2018-03-31"))
    return run_config(config, tmp / "later"), oas, fit, splits, irregular


def test_a_history_across_the_2021_change_runs_end_to_end(town_run, run_with_history):
    import json

    run, _, fit, splits, irregular = run_with_history
    record = json.loads((run / "restricted/run.json").read_text())
    history = record["hotspots"]["history"]
    assert history["refreshes_added"] == ["2017-06-30"]
    unchanged = int((fit["CHNGIND"] == "U").sum())
    assert unchanged > 500
    assert history["changes"] == {"unchanged": unchanged, "split": 2, "merged": 4,
                                  "irregular": 2}
    assert history["irregular_oas"] == sorted(irregular)
    assert record["hotspots"]["refreshes"] == 4  # three of its own and one from history
    old_children = pd.read_parquet(town_run / "work/oa_children_by_refresh.parquet")
    new_children = pd.read_parquet(run / "work/oa_children_by_refresh.parquet")
    for parent in splits:
        parts = fit.loc[fit["OA11CD"] == parent, "OA21CD"]
        assert new_children.loc[parts, "2017-06-30"].sum() == pytest.approx(
            old_children.loc[parent, "2017-06-30"])
    assert new_children.loc[irregular, "2017-06-30"].eq(0).all()
    report = (run / "publish/index.html").read_text()
    assert "Hotspot history: 1 earlier refresh(es)" in report
    assert all(code in report for code in irregular)
    # the review ledger of the earlier run's flags, published under disclosure control
    assert "Practitioners&#x27; reviews of the last run&#x27;s flags" in report or \
        "Practitioners' reviews of the last run's flags" in report
    reviews = json.loads((run / "publish/run.json").read_text())["reviews"]
    assert reviews["reference_date"] == "2017-12-31"
    shown = [reviews["flags"], reviews["reviewed"], reviews["overridden"],
             *reviews["decisions"].values()]
    assert all(v == "c" or int(v.replace(",", "")) % 5 == 0 for v in shown), shown
    assert 0.5 < reviews["share_reviewed"] < 0.7  # 60% simulated


def test_a_uprn_lookup_that_cannot_be_read_is_one_error(tmp_path):
    from geo_risk.inputs.uprn_lookup import read_uprn_lookup

    ragged = tmp_path / "ONSUD_NOV_2025_EE.csv"
    ragged.write_text("UPRN,OA21CD\n100012345678,e00000001\n100012345679,E00000002,x\n")
    with pytest.raises(SchemaError, match="cannot be read as a CSV") as err:
        read_uprn_lookup(ragged)
    assert "100012345679" not in str(err.value)  # the row's values are never quoted
    ragged.write_text("UPRN,OA21CD\n100012345678,e00000001 \n")
    assert read_uprn_lookup(ragged).area.to_dict() == {"100012345678": "E00000001"}
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfeU\x00P\x00")
    with pytest.raises(SchemaError, match="not a UTF-8 CSV"):
        read_uprn_lookup(binary)


def test_england_s_2021_files_cut_to_the_districts_named(town, town_2021, tmp_path):
    """The 2021 OA file of a wider area and an LSOA best-fit lookup of England: the run's
    district named in the configuration gives the town alone, as its own files do."""
    from dataclasses import replace

    oas = gpd.read_file(town_2021.oa)
    elsewhere = oas.assign(OA21CD=oas["OA21CD"].str.replace("E0097", "E0098"),
                           LSOA21CD=oas["LSOA21CD"].str.replace("E0197", "E0198"),
                           geometry=oas.translate(50_000))
    wider = tmp_path / "oa_england.gpkg"
    pd.concat([oas, elsewhere]).pipe(gpd.GeoDataFrame, crs=oas.crs).to_file(wider)
    lookup = pd.read_csv(town_2021.lookup, dtype=str)
    other = lookup.assign(LSOA21CD=lookup["LSOA21CD"].str.replace("E0197", "E0198"),
                          WD25CD="E05989999", WD25NM="Elsewhere", LAD25CD="E07989999",
                          LAD25NM="Otherton")
    england = tmp_path / "lookup_england.csv"
    pd.concat([lookup, other]).to_csv(england, index=False)
    files = replace(town_2021, oa=wider, lookup=england, imd=None)
    cut, vintage = load_geography(replace(files, districts=(lookup["LAD25NM"].iat[0],)))
    assert list(cut.index) == list(load_geography(replace(town_2021, imd=None))[0].index)
    assert vintage.ward_level == "lsoa" and len(load_geography(files)[0]) == 2 * len(cut)
