"""Loading boundaries: checks that fail with a message that names the fix."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, CRSError, SchemaError
from geo_risk.geography.boundaries import (
    BoundaryFiles,
    coverage_problems,
    dissolve_areas,
    load_boundaries,
)
from geo_risk.geography.vintage import VINTAGE_2011

ONS_NAMES = {k: v.upper() for k, v in VINTAGE_2011.fields.items()}


def _write(lattice: gpd.GeoDataFrame, tmp_path, *, crs=True, imd_rows=None):
    oa_file = tmp_path / "oa.gpkg"
    layer = lattice.reset_index()[[C.OA, "geometry"]].rename(columns={C.OA: "OA11CD"})
    if not crs:
        layer = layer.set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        layer.to_file(oa_file, engine="pyogrio")
    lookup = tmp_path / "lookup.csv"
    lattice.drop(columns="geometry").reset_index().rename(columns=ONS_NAMES).to_csv(
        lookup, index=False)
    imd = None
    if imd_rows is not None:
        imd = tmp_path / "imd.csv"
        pd.DataFrame(imd_rows, columns=["LSOA11CD", "IMD_rank"]).to_csv(imd, index=False)
    return BoundaryFiles(oa_file, lookup, imd)


def test_load_projects_and_joins(lattice, tmp_path):
    files = _write(lattice.to_crs("EPSG:4326"), tmp_path,
                   imd_rows=[("E01900001", 1), ("E01900002", 16_422), ("E01900003", 32_844)])
    oas = load_boundaries(files)
    assert oas.crs.to_epsg() == 27700 and oas.index.name == C.OA
    assert oas.area.round().eq(10_000).all()
    assert oas.loc["E00900001", C.DEPRIVATION] == 1.0
    assert oas.loc["E00900009", C.DEPRIVATION] == 0.0
    assert oas.loc["E00900001", C.DEPRIVATION_DECILE] == 1


def test_lookup_and_deprivation_as_a_spreadsheet_saved_them(lattice, tmp_path):
    """A lookup kept as a workbook or saved by Excel in Windows-1252 with semicolons, and
    a deprivation file in UTF-16, read as the CSVs do (each once an unexpected error)."""
    files = _write(lattice, tmp_path, imd_rows=[("E01900001", 1), ("E01900002", 16_422),
                                                ("E01900003", 32_844)])
    expected = load_boundaries(files)
    lookup = pd.read_csv(files.lookup, dtype=str)
    lookup.to_excel(tmp_path / "lookup.xlsx", index=False)
    text = files.imd.read_text()
    files.imd.write_text(text, encoding="utf-16")
    pd.testing.assert_frame_equal(
        pd.DataFrame(load_boundaries(replace(files, lookup=tmp_path / "lookup.xlsx"))),
        pd.DataFrame(expected))
    lookup.assign(WD13NM=lookup["WD13NM"].str.replace("North", "Nörth Ward")).to_csv(
        tmp_path / "excel.csv", sep=";", encoding="cp1252", index=False)
    accented = load_boundaries(replace(files, lookup=tmp_path / "excel.csv"))
    assert set(accented[C.WARD_NAME]) == {"South", "Nörth Ward"}


def test_missing_lookup_column_names_it(lattice, tmp_path):
    files = _write(lattice, tmp_path)
    pd.read_csv(files.lookup).drop(columns="WD13NM").to_csv(files.lookup, index=False)
    with pytest.raises(SchemaError, match=r"lookup.csv: missing column\(s\) WDyyNM.*ONS column"):
        load_boundaries(files)


def test_lookup_and_layer_disagree(lattice, tmp_path):
    files = _write(lattice, tmp_path)
    pd.read_csv(files.lookup).iloc[:-1].to_csv(files.lookup, index=False)
    with pytest.raises(BoundaryError, match=r"1 OA\(s\) have no lookup row \(e.g. E00900009\)"):
        load_boundaries(files)


def test_a_lookup_for_all_england_serves_a_district(lattice, tmp_path):
    """ONS's lookups cover England and Wales: rows for other districts' OAs are set aside;
    an OA of a district the boundaries cover but without a polygon is refused (the
    boundary file was cut short and its households would be lost)."""
    files = _write(lattice, tmp_path)
    lookup = pd.read_csv(files.lookup)
    elsewhere = lookup.head(2).assign(OA11CD=["E00999001", "E00999002"], WD13CD="E05999999",
                                      WD13NM="Elsewhere")
    pd.concat([lookup, elsewhere]).to_csv(files.lookup, index=False)
    oas = load_boundaries(files)
    assert list(oas.index) == list(lattice.index)
    cut_short = lookup.head(1).assign(OA11CD="E00900010")  # in ward E05900001, no polygon
    pd.concat([lookup, elsewhere, cut_short]).to_csv(files.lookup, index=False)
    with pytest.raises(BoundaryError, match=r"1 lookup row\(s\) of the districts the "
                                            r"boundaries cover have no polygon \(e.g. E00900010"):
        load_boundaries(files)


def test_layer_without_crs(lattice, tmp_path):
    files = _write(lattice, tmp_path, crs=False)
    with pytest.raises(CRSError, match="no coordinate reference system; save it"):
        load_boundaries(files)
    shapefile = tmp_path / "oa.shp"  # ONS's shapefiles keep the CRS in oa.prj beside it
    gpd.read_file(files.oa).set_crs(C.BNG).to_file(shapefile, engine="pyogrio")
    shapefile.with_suffix(".prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match=r"a shapefile keeps it in oa\.prj beside it"):
        load_boundaries(replace(files, oa=shapefile))


def test_imd_must_cover_every_lsoa(lattice, tmp_path):
    files = _write(lattice, tmp_path, imd_rows=[("E01900001", 5)])
    with pytest.raises(BoundaryError, match=r"no deprivation row for 2 LSOA\(s\)"):
        load_boundaries(files)


def test_imd_rows_given_twice(lattice, tmp_path):
    rows = [("E01900001", 1), ("E01900002", 16_422), ("E01900003", 32_844)]
    oas = load_boundaries(_write(lattice, tmp_path, imd_rows=[*rows, rows[0]]))
    assert oas.loc["E00900001", C.DEPRIVATION] == 1.0  # the same row pasted twice
    with pytest.raises(SchemaError, match=r"1 LSOA.s. have two different rows, e.g. E01900002"):
        load_boundaries(_write(lattice, tmp_path, imd_rows=[*rows, ("E01900002", 5)]))


def test_imd_rank_out_of_range(lattice, tmp_path):
    rows = [("E01900001", 5), ("E01900002", 0), ("E01900003", 9)]
    with pytest.raises(SchemaError, match="IMD_rank must be a whole number from 1 to 32,844"):
        load_boundaries(_write(lattice, tmp_path, imd_rows=rows))


def test_empty_and_absent_files(lattice, tmp_path):
    files = _write(lattice, tmp_path)
    files.lookup.write_text("")
    with pytest.raises(SchemaError, match="the file is empty"):
        load_boundaries(files)
    with pytest.raises(SchemaError, match="file not found"):
        load_boundaries(BoundaryFiles(tmp_path / "nope.gpkg", files.lookup))


def test_a_file_no_driver_reads_and_heights(lattice, tmp_path):
    files = _write(lattice, tmp_path)
    oas = load_boundaries(files)
    garbage = tmp_path / "oa.geojson"
    garbage.write_text("not a layer")
    with pytest.raises(SchemaError, match=r"oa.geojson: cannot be read as output area boundaries"):
        load_boundaries(replace(files, oa=garbage))
    with pytest.raises(SchemaError, match=r"lookup.csv: a table without geometry"):
        load_boundaries(replace(files, oa=files.lookup))
    with pytest.raises(SchemaError, match=r"oa.gpkg: a map layer, not a table; --lookup"):
        load_boundaries(replace(files, lookup=files.oa))
    garbage.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(SchemaError, match=r"oa.geojson: the layer holds no features"):
        load_boundaries(replace(files, oa=garbage))
    layer = gpd.read_file(files.oa)  # as some exports write it: PolygonZ
    layer.set_geometry(shapely.force_3d(layer.geometry.to_numpy())).to_file(files.oa)
    assert gpd.read_file(files.oa).has_z.all()
    flat = load_boundaries(files)
    assert not flat.has_z.any() and flat.geometry.geom_equals(oas.geometry).all()


def test_the_layer_of_output_areas_in_a_geopackage_of_several(lattice, tmp_path):
    files = _write(lattice, tmp_path)
    oas = load_boundaries(files)
    layer = gpd.read_file(files.oa)
    several = tmp_path / "several.gpkg"
    layer.iloc[:2].drop(columns="OA11CD").assign(note="draft").to_file(several, layer="notes")
    layer.to_file(several, layer="output_areas")
    assert load_boundaries(replace(files, oa=several)).index.equals(oas.index)
    layer.iloc[:2].to_file(several, layer="copy")
    with pytest.raises(SchemaError, match=r"holds 3 layers \(notes, output_areas, copy\) and "
                                          "2 of them"):
        load_boundaries(replace(files, oa=several))


def test_codes_as_typed_match(lattice, tmp_path):
    files = _write(lattice, tmp_path)
    oas = load_boundaries(files)
    layer = gpd.read_file(files.oa)
    layer.assign(OA11CD=" " + layer["OA11CD"].str.lower() + " ").to_file(files.oa)
    lookup = pd.read_csv(files.lookup, dtype=str)
    lookup.assign(WD13CD=lookup["WD13CD"].str.lower() + " ").to_csv(files.lookup, index=False)
    again = load_boundaries(files)
    assert again.index.equals(oas.index) and again[C.WARD].equals(oas[C.WARD])


def test_duplicate_oa_codes(lattice, tmp_path):
    doubled = pd.concat([lattice, lattice.iloc[:1]])
    with pytest.raises(BoundaryError, match=r"appear more than once, e\.g\. E00900001"):
        load_boundaries(_write(doubled, tmp_path))


def test_dissolve_keeps_names_and_counts(lattice):
    wards = dissolve_areas(lattice, C.WARD)
    assert wards.loc["E05900001", "n_oas"] == 6
    assert wards.loc["E05900002", C.WARD_NAME] == "North"
    assert wards.area.sum() == pytest.approx(lattice.area.sum())
    with pytest.raises(ValueError, match="level must be"):
        dissolve_areas(lattice, C.OA)


def test_coverage_problems_sees_overlap_and_gap(lattice):
    assert coverage_problems(lattice.geometry) == {"invalid": 0, "unmatched_edges": 0, "gaps": 0}
    geoms = lattice.geometry.copy()
    geoms.iloc[0] = shapely.box(500_000, 180_000, 500_130, 180_100)  # overlaps its neighbour
    assert coverage_problems(geoms)["unmatched_edges"] > 0
    holed = lattice.geometry.drop(index="E00900005")  # the middle cell
    assert coverage_problems(holed)["gaps"] == 1


def test_overlapping_polygons_are_refused_with_codes_and_area(lattice, tmp_path):
    shifted = lattice.copy()
    shifted.loc["E00900001", "geometry"] = shapely.box(500_000, 180_000, 500_130, 180_100)
    with pytest.raises(BoundaryError, match=r"1 pair\(s\) of output areas overlap, e\.g\. "
                                            r"E00900001 and E00900002 \(3,000 m²\)"):
        load_boundaries(_write(shifted, tmp_path))


def test_a_sliver_shared_along_an_edge_is_noise_and_a_band_is_not(lattice, tmp_path, caplog):
    """Edges digitised 30 cm apart along a whole side share 30 m², more than the 1 m²
    tolerance but a sliver (ONS-style files drawn or generalised apart): loaded and said.
    The same side 3 m into the neighbour is an overlap."""
    for reach, refused in [(0.3, False), (3.0, True)]:
        shifted = lattice.copy()
        shifted.loc["E00900001", "geometry"] = shapely.box(500_000, 180_000,
                                                           500_100 + reach, 180_100)
        (tmp_path / str(reach)).mkdir()
        files = _write(shifted, tmp_path / str(reach))
        if refused:
            with pytest.raises(BoundaryError, match=r"E00900001 and E00900002 \(300 m²\)"):
                load_boundaries(files)
        else:
            assert len(load_boundaries(files)) == len(lattice)
            assert "1 pair(s) of output areas share a sliver narrower than 1 m (30 m² in all)" \
                in caplog.text


def test_self_intersecting_rings_are_repaired_and_said(lattice, tmp_path, caplog):
    bowtie = lattice.copy()  # ONS's own files have a few rings like this
    bowtie.loc["E00900001", "geometry"] = shapely.Polygon(
        [(500_000, 180_000), (500_100, 180_000), (500_050, 180_050), (500_100, 180_100),
         (500_000, 180_100), (500_050, 180_050), (500_000, 180_000)])
    assert not bowtie.is_valid.all()
    files = _write(bowtie, tmp_path)
    oas = load_boundaries(files)
    assert oas.is_valid.all() and oas.loc["E00900001"].geometry.area > 0
    assert "repaired 1 invalid polygon(s) (self-intersecting rings), e.g. E00900001" in \
        caplog.text
    assert oas.attrs["repaired"] == ["E00900001"]  # for run_info
    with pytest.raises(BoundaryError, match=r"1 invalid polygon\(s\).*repair = false"):
        load_boundaries(replace(files, repair=False))


def test_output_areas_without_a_polygon_are_named(lattice, tmp_path):
    """A row with no geometry, a point, or a ring that is nothing but a self-intersection:
    each once stopped the run inside libpysal with no name."""
    broken = lattice.copy()
    broken["geometry"] = broken.geometry.astype(object)
    broken.loc["E00900001", "geometry"] = None
    broken.loc["E00900002", "geometry"] = shapely.Point(500_050, 180_050)
    broken.loc["E00900003", "geometry"] = shapely.Polygon(  # a ring folded onto itself
        [(500_000, 180_200), (500_100, 180_200), (500_000, 180_200), (500_000, 180_200)])
    broken = gpd.GeoDataFrame(broken, geometry="geometry", crs=lattice.crs)
    with pytest.raises(BoundaryError, match=r"3 output area\(s\) have no polygon, e\.g\. "
                                            r"E00900001 \(no geometry\), E00900002 \(point\), "
                                            r"E00900003 \(empty\)"):
        load_boundaries(_write(broken, tmp_path))


def test_metres_in_a_geojson_without_crs_are_a_crs_problem(lattice, tmp_path):
    """A GeoJSON without a 'crs' member is read as longitude/latitude."""
    path = tmp_path / "oa.geojson"
    layer = lattice.reset_index()[[C.OA, "geometry"]].rename(columns={C.OA: "OA11CD"})
    data = json.loads(layer.to_json(drop_id=True))
    data.pop("crs")  # British National Grid coordinates, no crs member
    path.write_text(json.dumps(data))
    files = _write(lattice, tmp_path)
    with pytest.raises(CRSError, match=r"cannot be degrees; they look like British National "
                                       r"Grid metres \(EPSG:27700\)"):
        load_boundaries(BoundaryFiles(path, files.lookup))


def test_boundary_problems_are_collected(lattice, tmp_path):
    files = _write(pd.concat([lattice, lattice.iloc[:1]]), tmp_path)
    lookup = pd.read_csv(files.lookup)
    lookup[lookup["OA11CD"] != "E00900002"].to_csv(files.lookup, index=False)  # one missing
    with pytest.raises(BoundaryError) as err:
        load_boundaries(files)
    message = str(err.value)
    assert message.startswith("4 problems: (1) ") and message.count("appear more than once") == 2
    assert "disagree" in message and "overlap" in message


def test_boundaries_of_a_wider_area_are_cut_to_the_districts_named(lattice, tmp_path,
                                                                   monkeypatch):
    """England's OA file with '[boundaries] districts': the run covers those districts'
    output areas alone, named by code or by name, and reads no other polygon; a district
    the lookup lacks is named."""
    districts = lattice.assign(lad11cd=["E07000001"] * 6 + ["E07000002"] * 3,
                               lad11nm=["North Town"] * 6 + ["Southville"] * 3)
    files = _write(districts, tmp_path)
    assert len(load_boundaries(files)) == 9
    read, read_file = [], gpd.read_file
    monkeypatch.setattr(gpd, "read_file", lambda *a, **k: read.append(k.get("fids"))
                        or read_file(*a, **k))
    south = load_boundaries(replace(files, districts=("southville",)))
    assert list(south.index) == list(lattice.index[6:])
    assert len(read[-1]) == 3  # the features of Southville's three output areas alone
    both = load_boundaries(replace(files, districts=("e07000001", " Southville ")))
    assert len(both) == 9
    with pytest.raises(SchemaError, match=r"districts names 'Basildon', which the lookup does "
                                          r"not hold; .* \(e.g. E07000001 North Town, "
                                          r"E07000002 Southville\)"):
        load_boundaries(replace(files, districts=("Southville", "Basildon")))
    (tmp_path / "plain").mkdir()
    no_districts = _write(lattice, tmp_path / "plain")  # a lookup without LAD columns
    with pytest.raises(SchemaError, match=r"districts needs the districts' codes"):
        load_boundaries(replace(no_districts, districts=("Southville",)))
    recorded = replace(files, districts=("Southville",), repair=False)
    assert BoundaryFiles.from_state(json.loads(json.dumps(recorded.state()))) == recorded


def test_districts_without_a_household_are_pointed_out(lattice, caplog):
    """Boundaries of a wider area without '[boundaries] districts' fill the maps with empty
    districts: the run says so, and how to leave them out."""
    from types import SimpleNamespace

    from geo_risk.run.inputs import _empty_districts

    oas = lattice.assign(lad_code=["E07000001"] * 6 + ["E07000002"] * 3)
    linked = SimpleNamespace(households=pd.DataFrame({C.LAD: ["E07000001"]}), warnings=[])
    _empty_districts(linked, oas, BoundaryFiles("england_oa.gpkg", "lookup.csv"))
    assert linked.warnings == [
        "england_oa.gpkg: 1 of the 2 districts the boundaries cover hold no household (e.g. "
        "E07000002); name the run's districts in [boundaries] districts to leave them out."]
    linked.households = pd.DataFrame({C.LAD: ["E07000001", "E07000002"]})
    linked.warnings = []
    _empty_districts(linked, oas, BoundaryFiles("england_oa.gpkg", "lookup.csv"))
    assert linked.warnings == []
