"""The default synthetic world hits its targets, and its truth is consistent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau
from sklearn.linear_model import LogisticRegression

from geo_risk import columns as C
from geo_risk.inputs.identifiers import is_valid_nhs_number
from geo_risk.synth.checks import describe_world, household_risk
from geo_risk.synth.extracts import EXTRACTS
from geo_risk.synth.world import make_world, write_world


@pytest.fixture(scope="module")
def facts(world):
    return describe_world(world)


def test_population_size(facts):
    assert 70_000 <= facts["households"] <= 80_000
    assert 9_000 <= facts["households_with_under_fives"] <= 11_000


def test_not_school_ready_rate_and_ward_gradient(facts):
    assert 0.30 <= facts["not_gld_rate"] <= 0.35
    assert facts["worst_ward_not_gld_rate"] >= 0.45


def test_emerging_hotspot_is_vange_and_rises(world, facts):
    assert facts["emerging_ward"] == "Vange"
    assert facts["emerging_ward_rank_last_refresh"] <= 3
    risk = world.child_risk
    planted = world.population.planted
    vange = planted.loc[planted.hotspot == "emerging", C.OA]
    assert set(vange) == set(world.oas.index[world.oas[C.WARD_NAME] == "Vange"])
    series = risk[risk[C.OA].isin(vange)].groupby("refresh")["p_not_gld"].mean()
    tau, p = kendalltau(series.index, series.to_numpy())
    assert tau > 0.9 and p < 0.001
    assert facts["emerging_rises_every_year"]


def test_persistent_and_diminishing_hotspots(world):
    risk, planted = world.child_risk, world.population.planted
    assert planted.groupby("hotspot").size().to_dict() == {
        "diminishing": 16, "emerging": len(planted[planted.hotspot == "emerging"]),
        "persistent": 16}
    assert planted[C.OA].is_unique
    town_mean = risk.groupby("refresh")["p_not_gld"].mean()
    for kind, trend in [("persistent", 0), ("diminishing", -1)]:
        oas = planted.loc[planted.hotspot == kind, C.OA]
        series = risk[risk[C.OA].isin(oas)].groupby("refresh")["p_not_gld"].mean()
        assert (series > town_mean + 0.08).all(), f"{kind} hotspot is not hot throughout"
        tau, _ = kendalltau(series.index, series.to_numpy())
        assert (tau < -0.8) if trend < 0 else abs(tau) < 0.8


def test_services_know_only_part_of_the_risk(world, facts):
    assert 0.40 <= facts["top_households_unknown_share"] <= 0.65
    hh = household_risk(world.child_risk, int(world.child_risk["refresh"].max()))
    known = hh.index.isin(world.extracts["social_care"]["uprn"])
    assert hh[known].mean() > hh[~known].mean() + 0.05, "contact should correlate with risk"


def test_child_factor_effect_sizes_in_published_range(world):
    """Realised outcomes give odds ratios near England's gaps (DOMAIN.md)."""
    lab = world.children[world.children["labelled"]]
    x = np.column_stack([lab["sex"] == "M", lab["months_young"] / 11.0,
                         lab["first_language"] != "English"]).astype(float)
    y = (lab["gld"] == "N").to_numpy()
    odds = np.exp(LogisticRegression(C=1e6, max_iter=1000).fit(x, y).coef_[0])
    assert 1.5 <= odds[0] <= 2.6, f"boys' odds ratio {odds[0]:.2f}"
    assert 1.5 <= odds[1] <= 2.8, f"summer-born odds ratio {odds[1]:.2f}"
    assert 1.1 <= odds[2] <= 2.2, f"other first language odds ratio {odds[2]:.2f}"


def test_households_lie_inside_their_output_area(world):
    hh = world.population.households
    points = gpd.GeoDataFrame(hh[[C.OA]], geometry=gpd.points_from_xy(hh.easting, hh.northing),
                              crs=C.BNG)
    areas = world.oas.reset_index()[[C.OA, "geometry"]].rename(columns={C.OA: "containing"})
    joined = points.sjoin(areas, predicate="within", how="left")
    assert len(joined) == len(hh) and (joined["containing"] == joined[C.OA]).all()
    assert hh.groupby(C.OA).size().between(40, 250).all()


def test_extracts_are_well_formed(world):
    ex = world.extracts
    assert set(ex) == set(EXTRACTS)
    for name, table in ex.items():
        assert list(table.columns) == EXTRACTS[name]
    uprns = set(ex["addresses"]["uprn"])
    assert all(len(u) == 12 and u.isdigit() for u in uprns)
    for name, table in ex.items():
        if "uprn" in table:
            linked = table["uprn"][table["uprn"] != ""]
            assert linked.isin(uprns).all(), f"{name} has UPRNs not in the gazetteer"
    assert ex["child_register"]["child_id"].map(is_valid_nhs_number).all()
    assert ex["child_register"]["child_id"].is_unique
    years = sorted(ex["school_readiness"]["academic_year"].unique())
    assert years == ["2012/13", "2013/14", "2014/15", "2015/16", "2016/17"]


def test_nothing_dated_after_the_last_refresh(world):
    end = str(world.population.timeline.end)
    for name, table in world.extracts.items():
        for column in [c for c in table.columns if c.endswith(("date", "_start", "_end",
                                                               "date_of_birth"))]:
            dated = table[column][table[column] != ""]
            assert (dated <= end).all(), f"{name}.{column} has dates after {end}"
            assert (dated >= "2000-01-01").all()


def test_truth_refreshes(world):
    risk = world.child_risk
    assert risk["refresh"].nunique() == 16
    assert str(risk["refresh_date"].min().date()) == "2014-03-31"
    assert str(risk["refresh_date"].max().date()) == "2017-12-31"
    assert risk["p_not_gld"].between(0, 1).all()
    assert not risk.duplicated(["child_id", "refresh"]).any()


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    write_world(make_world(seed=5, periods=3, messy=True), tmp_path / "a")
    write_world(make_world(seed=5, periods=3, messy=True), tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(a) == 17 and a == b
    write_world(make_world(seed=6, periods=3, messy=True), tmp_path / "c")
    assert _digest(tmp_path / "c")["extracts/housing.csv"] != a["extracts/housing.csv"]


def test_pipeline_code_never_reads_truth():
    """Only the synthetic generator and its evaluation may touch truth/."""
    package = Path(__file__).resolve().parents[1] / "geo_risk"
    for path in package.rglob("*.py"):
        if path.parent.name == "synth":
            continue
        text = path.read_text()
        assert "truth/" not in text and "child_risk" not in text, path


def test_periods_must_allow_a_trend():
    with pytest.raises(ValueError, match="at least 2"):
        make_world(periods=1)


def test_written_world_reads_back(tmp_path, world):
    manifest = write_world(world, tmp_path)
    assert manifest["refresh_dates"][0] == "2014-03-31" and len(manifest["refresh_dates"]) == 16
    register = pd.read_csv(tmp_path / "extracts/child_register.csv", dtype=str)
    assert len(register) == manifest["files"]["extracts/child_register.csv"]["rows"]
    planted = pd.read_csv(tmp_path / "truth/planted_hotspots.csv")
    assert set(planted["expected_category"]) == {"new|consecutive|intensifying", "persistent",
                                                 "diminishing"}


def test_families_near_an_existing_centre_are_more_often_known(world):
    """Services reach further around the children's centres, so known areas of concern
    gather where services already work."""
    hh = world.population.households
    centres = np.column_stack([world.existing_sites.geometry.x, world.existing_sites.geometry.y])
    gap = np.sqrt(((hh[["easting", "northing"]].to_numpy()[:, None, :]
                    - centres[None, :, :]) ** 2).sum(2)).min(axis=1)
    assert len(centres) == 2
    assert hh.loc[gap < 300, "reach"].min() > 1.7  # about 1 + e^-0.3 and more
    assert hh.loc[gap > 5_000, "reach"].max() < 1.01  # e^-5: next to nothing far away
    families = hh["family"].to_numpy()
    seen = hh["uprn"].astype(str).isin(world.extracts["social_care"]["uprn"]).to_numpy()
    assert seen[families & (gap < 800)].mean() > seen[families & (gap > 3_000)].mean()
