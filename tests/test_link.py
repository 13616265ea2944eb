"""Linkage on the messy world: every planted defect normalised or rejected, nothing lost."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_risk import columns as C
from geo_risk._errors import GeoRiskError
from geo_risk.inputs.ingest import read_extract
from geo_risk.inputs.link import link_sources
from geo_risk.inputs.pseudonymise import Key, pseudonymise_extract, read_pseudonymised

#: Planted defect -> the reason a correct ingest rejects it with.
EXPECTED_REASON = {
    "uprn_scientific": "uprn_lost_digits",
    "postcode_no_uprn": "uprn_missing",
    "nhs_bad_check_digit": "nhs_invalid",
    "duplicate_row": "duplicate_row",
    "out_of_area": "outside_area",
}


@pytest.fixture(scope="module")
def all_rejects(messy_pseudonymised, messy_linked):
    folder, _ = messy_pseudonymised
    at_source = pd.concat([pd.read_csv(p) for p in folder.glob("*.rejects.csv")])
    return pd.concat([at_source, messy_linked.rejects], ignore_index=True)


@pytest.fixture(scope="module")
def ledger(messy_dir):
    return pd.read_csv(messy_dir / "truth/defects.csv", dtype={"row": "Int64"})


def test_every_planted_defect_is_handled(ledger, all_rejects, messy_linked):
    reason_at = all_rejects.set_index(["file", "row"])["reason"]
    assert not reason_at.index.duplicated().any(), "a row was rejected twice"
    linked_rows = {(f"{source}.csv", row) for source, table in messy_linked.events.items()
                   for row in table["row"]}
    rows = ledger[ledger["row"].notna()]
    for d in rows.itertuples():
        got = reason_at.get((d.file, d.row))
        if d.handling == "reject":
            assert got == EXPECTED_REASON[d.defect], (d, got)
        else:  # normalised: used, unless its household's own address was out of area
            assert (d.file, d.row) in linked_rows or got == "address_outside_area", (d, got)
    assert len(rows) > 1000


def test_file_level_defects_are_normalised(ledger, all_rejects, messy_pseudonymised):
    folder, _ = messy_pseudonymised
    for d in ledger[ledger["row"].isna()].itertuples():
        rejected = all_rejects[all_rejects["file"] == d.file]
        assert not rejected["reason"].isin(["date_invalid", "value_missing"]).any(), d
    register, meta = read_pseudonymised(folder / "child_register.parquet")
    assert meta["encoding"] == "cp1252"
    assert register["first_language"].isin(["Português", "Yorùbá"]).any()
    benefits, _ = read_pseudonymised(folder / "benefits.parquet")
    assert benefits["income_band"].str.startswith("£").all()
    assert benefits["claim_start"].dt.year.min() >= 2005


def test_every_row_is_used_or_rejected(messy_pseudonymised, messy_linked, all_rejects):
    _, recon = messy_pseudonymised
    assert (recon["read"] == recon["kept"] + recon["rejected"]).all()
    report = messy_linked.report.set_index("source")
    for r in recon.itertuples():
        used = report.loc[r.source, "linked"] + report.loc[r.source, "area_only"]
        rejected = (all_rejects["file"] == r.file).sum()
        assert used + rejected == r.read, r.source


def test_linkable_records_are_linked(messy_linked):
    report = messy_linked.report
    assert (report["match_rate"] >= 0.99).all(), report
    assert not messy_linked.warnings
    households = messy_linked.households
    assert households["household_key"].is_unique
    assert households[C.OA].notna().all() and households[C.WARD].notna().all()


def test_a_partner_with_another_key_is_an_error(messy_dir, messy_pseudonymised):
    """Once a warning, and the run went on without every record of that partner."""
    folder, _ = messy_pseudonymised
    tables = {p.stem: read_pseudonymised(p) for p in folder.glob("*.parquet")}
    other = pseudonymise_extract(messy_dir / "extracts/housing.csv", "housing",
                                 Key(bytes(range(100, 132))))
    tables["housing"] = (other.table, {"key_fingerprint": other.key_fingerprint,
                                       "reconciliation": other.reconciliation})
    from geo_risk.geography.boundaries import load_boundaries

    with pytest.raises(GeoRiskError, match="housing: pseudonymised with another key than "
                                           "the addresses extract"):
        link_sources(tables, load_boundaries())


def test_a_partner_whose_records_mostly_do_not_link_is_loud(messy_pseudonymised, caplog):
    folder, _ = messy_pseudonymised
    tables = {p.stem: read_pseudonymised(p) for p in folder.glob("*.parquet")}
    housing, meta = tables["housing"]
    half = housing.index % 2 == 0  # as if UPRNs were normalised another way
    housing = housing.assign(household_key=housing["household_key"].where(~half, "elsewhere"))
    tables["housing"] = (housing, meta)
    from geo_risk.geography.boundaries import load_boundaries

    linked = link_sources(tables, load_boundaries())
    rate = linked.report.set_index("source").loc["housing", "match_rate"]
    assert 0.4 < rate < 0.55
    assert f"housing: only {rate:.1%}" in caplog.text
    assert any(f"housing: only {rate:.1%}" in w for w in linked.warnings)


def test_linkage_report_accounts_for_every_record(lattice):
    """records = linked + not in the gazetteer + outside the area + placed by grid
    reference only; a police incident with only a grid reference outside every OA is
    counted as outside, and not in the UPRN match rate's denominator."""
    meta = {"key_fingerprint": "k"}
    addresses = pd.DataFrame({"row": [2, 3], "household_key": ["h1", "h2"],
                              "easting": [500_050.0, 400_000.0],  # h2 outside every OA
                              "northing": [180_050.0, 100_000.0]})
    police = pd.DataFrame({
        "row": [2, 3, 4, 5, 6],
        "household_key": ["h1", "h2", "h9", "", ""],
        "easting": [None, None, None, 500_150.0, 400_000.0],  # a grid reference inside,
        "northing": [None, None, None, 180_150.0, 100_000.0],  # and one outside
        "incident_date": pd.to_datetime(["2016-01-01"] * 5),
        "category": ["other"] * 5,
    })
    register = pd.DataFrame({"row": [2], "child_key": ["c1"], "household_key": ["h1"],
                             "date_of_birth": pd.to_datetime(["2015-01-01"]), "sex": ["F"]})
    linked = link_sources({"addresses": (addresses, meta), "police": (police, meta),
                           "child_register": (register, meta)}, lattice.assign(
                               lad11cd="E07", lad11nm="Lattice"))
    row = linked.report.set_index("source").loc["police"]
    assert (row["linked"], row["uprn_not_in_gazetteer"], row["address_outside_area"],
            row["area_only"]) == (1, 1, 2, 1)
    assert row["records"] == row["linked"] + row["uprn_not_in_gazetteer"] + \
        row["address_outside_area"] + row["area_only"]
    assert row["match_rate"] == pytest.approx(1 / 3, abs=1e-4)  # of the three with a UPRN


def test_a_home_on_an_edge_or_just_outside_the_boundaries_is_placed_in_the_nearest(lattice):
    """A point on the edge two OAs share lies inside neither, and boundaries generalised
    to 20 m or clipped at the coast leave homes just outside: each was rejected as
    outside every OA. Within 20 m it goes to the nearest; farther, it is still outside."""
    meta = {"key_fingerprint": "k"}
    addresses = pd.DataFrame({
        "row": [2, 3, 4, 5, 6], "household_key": ["h1", "h2", "h3", "h4", "h5"],
        "easting": [500_100.0, 500_050.0, 499_990.0, 499_900.0, 500_150.0],
        "northing": [180_050.0, 180_050.0, 180_150.0, 180_150.0, 180_315.0]})
    linked = link_sources({"addresses": (addresses, meta)}, lattice)
    placed = linked.households.set_index("household_key")[C.OA]
    assert placed.to_dict() == {"h1": "E00900001", "h2": "E00900001", "h3": "E00900004",
                                "h5": "E00900008"}  # on an edge; inside; 10 m and 15 m out
    assert linked.rejects[["row", "reason"]].values.tolist() == [[5, "outside_area"]]


def test_addresses_nowhere_near_the_boundaries_are_one_error(lattice):
    """Every address outside every output area (another district's boundaries, or
    coordinates in the wrong units) once ran on to an empty model; it is named at once."""
    from geo_risk._errors import GeoRiskError

    meta = {"key_fingerprint": "k", "reconciliation": {"file": "addresses.csv"}}
    addresses = pd.DataFrame({"row": [2, 3], "household_key": ["h1", "h2"],
                              "easting": [51.5, 51.6], "northing": [0.45, 0.46]})
    with pytest.raises(GeoRiskError, match=r"addresses.csv: none of its 2 addresses lies "
                                           r"inside the output areas \(addresses from \(52, 0\)"):
        link_sources({"addresses": (addresses, meta)}, lattice)
    for easting, northing, cause in [
            ([0.45, 0.46], [51.5, 51.6], "These look like longitude and latitude in degrees"),
            ([180_050.0, 180_150.0], [500_050.0, 500_150.0], "the two columns look swapped"),
            ([400_000.0, 400_100.0], [100_000.0, 100_100.0], r"\)\)\. The addresses")]:
        with pytest.raises(GeoRiskError, match=cause):
            link_sources({"addresses": (addresses.assign(easting=easting, northing=northing),
                                        meta)}, lattice)


def test_extracts_without_their_optional_columns_link_and_describe(messy_dir, test_key,
                                                                   tmp_path):
    """A police extract located by grid reference alone (no uprn column), social care
    without end dates or needs, benefits without end, lone-parent or income columns:
    each once stopped the run on an unexpected KeyError."""
    import shutil

    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.model.features import build_feature_tables
    from geo_risk.run.inputs import pseudonymise_folder

    extracts = tmp_path / "extracts"
    shutil.copytree(messy_dir / "extracts", extracts)
    drop = {"police": ["uprn"], "social_care": ["end_date", "primary_need"],
            "benefits": ["claim_end", "lone_parent", "income_band"]}
    for source, columns in drop.items():
        path = next(extracts.glob(f"{source}.*"))
        table = read_extract(path, source).table.drop(columns=["row", *columns])
        path.unlink()
        table.to_csv(extracts / f"{source}.csv", index=False)
    recon = pseudonymise_folder(extracts, test_key, tmp_path / "pseudonymised")
    assert (recon["read"] == recon["kept"] + recon["rejected"]).all()
    tables = {p.stem: read_pseudonymised(p)
              for p in sorted((tmp_path / "pseudonymised").glob("*.parquet"))}
    linked = link_sources(tables, load_boundaries())
    police = linked.report.set_index("source").loc["police"]
    assert police["linked"] == 0 and police["area_only"] > 0  # by grid reference alone
    households = build_feature_tables(linked, "2016-12-31").households
    assert households["sc_open"].any() and households["bn_open"].any()
    assert not households["bn_lone_parent"].any() and not households["bn_low_income"].any()
