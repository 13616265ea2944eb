"""Today's geography: Census 2021 output areas, wards of any year (looked up by OA or by
LSOA), IoD 2025 as published, and refusals of vintages that do not nest."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, SchemaError
from geo_risk.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles, load_geography
from geo_risk.geography import VINTAGE_2011
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
