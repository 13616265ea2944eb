"""Where to site services: exact answers on a hand-built case, and the default world."""

from __future__ import annotations

import html
import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from geo_risk import columns as C
from geo_risk._errors import CRSError, SchemaError
from geo_risk.cli import app
from geo_risk.siting.plan import Demand, baselines, read_sites, site_services


def _line(xs, weights, index=None):
    return Demand(gpd.GeoDataFrame({"demand": np.asarray(weights, float)},
                                   geometry=gpd.points_from_xy(xs, [0] * len(xs)), crs=27700,
                                   index=index or [f"d{i}" for i in range(len(xs))]))


# demand on a line: 5 at x=0, 1 at 10, 1 at 20, 4 at 100; service distance 6
DEMAND = _line([0, 10, 20, 100], [5, 1, 1, 4])
SITES = gpd.GeoDataFrame({"name": ["A", "A2", "B", "C"]},
                         geometry=gpd.points_from_xy([5, -3, 15, 100], [0] * 4), crs=27700)


def _brute_force(p, radius=6.0):
    d = np.abs(DEMAND.points.geometry.x.to_numpy()[:, None]
               - SITES.geometry.x.to_numpy()[None, :])
    w = DEMAND.weights
    best = max(itertools.combinations(range(len(SITES)), p),
               key=lambda c: w[(d[:, list(c)] <= radius).any(axis=1)].sum())
    return {SITES["name"][j] for j in best}, w[(d[:, list(best)] <= radius).any(axis=1)].sum()


@pytest.mark.parametrize("p", [1, 2, 3])
def test_maximal_covering_is_optimal_on_a_tiny_case(p):
    result = site_services(DEMAND, SITES, service_distance=6, p=p)
    names, covered = _brute_force(p)
    assert result.status == "Optimal"
    assert result.covered_demand == pytest.approx(covered)
    assert set(result.chosen["site"]) == names or result.covered_demand == covered
    if p == 2:
        # A covers 6, A2 covers 5 (overlapping A), C covers 4: the best pair is A + C
        assert set(result.chosen["site"]) == {"A", "C"}
        assert result.chosen["site"].tolist() == ["A", "C"]  # ranked by what each adds
        assert result.chosen["newly_covered"].tolist() == [6.0, 4.0]
        simple = baselines(DEMAND, SITES, p=2, service_distance=6)
        assert simple["highest_local_demand"] == pytest.approx(6 / 11)  # picks A and A2


@pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning",
                            "ignore:PULP_CBC_CMD is deprecated:DeprecationWarning")
@pytest.mark.parametrize("seed", [0, 1])
def test_the_sparse_covering_model_matches_spopts_mclp(seed):
    """Random points and sites (some fixed): the sparse model's optimum is spopt's, and
    the fewest sites reaching a target is one more than any MCLP short of it."""
    import pulp
    from spopt.locate import MCLP

    from geo_risk.siting.plan import Covering

    rng = np.random.default_rng(seed)
    points, sites = rng.uniform(0, 3000, (300, 2)), rng.uniform(0, 3000, (40, 2))
    cost = np.sqrt(((points[:, None] - sites[None]) ** 2).sum(axis=2))
    weights = rng.gamma(2.0, 1.0, 300).round(2)
    weights[:20] = weights[20:40]  # some points twice
    fixed = np.zeros(40, dtype=int)
    fixed[:3] = 1
    covering = Covering(cost <= 500, weights, fixed)
    for p in [3, 5, 9]:
        ours = covering.solve(p)
        spopt = MCLP.from_cost_matrix(cost, weights, service_radius=500, p_facilities=p,
                                      predefined_facilities_arr=fixed)
        spopt.solve(pulp.PULP_CBC_CMD(msg=False))
        theirs = [j for j in range(40) if spopt.fac_vars[j].value() > 0.5]
        assert len(ours) == p and set(range(3)) <= set(ours)

        def covered(chosen):
            return weights[(cost[:, chosen] <= 500).any(axis=1)].sum()

        assert covered(ours) == pytest.approx(covered(theirs))
    # the fewest sites reaching 60% of demand: as many as the smallest p whose MCLP does
    target = 0.6 * weights.sum()
    fewest = covering.fewest(target)
    assert covered(fewest) >= target - 1e-6
    smaller = covering.solve(len(fewest) - 1)
    assert covered(smaller) < target


def test_existing_sites_stay_open_and_count():
    result = site_services(DEMAND, SITES.iloc[:3], existing=SITES.iloc[3:],
                           service_distance=6, p=1)
    assert result.chosen["site"].tolist() == ["A"]
    assert result.existing_covered_demand == 4 and result.covered_demand == 10


def test_coverage_target_takes_the_fewest_sites():
    result = site_services(DEMAND, SITES, service_distance=6, coverage=0.8)
    assert set(result.chosen["site"]) == {"A", "C"}  # 10/11; one site reaches only 6/11
    full = site_services(DEMAND, SITES, service_distance=6, coverage=1.0)
    assert full.coverage == 1.0 and len(full.chosen) == 3  # A, B and C (spopt LSCP)
    unreachable = site_services(_line([0, 500], [1, 1]), SITES, service_distance=6,
                                coverage=0.9)
    assert unreachable.notes and "out of reach" in unreachable.notes[0]


def test_p_median_minimises_weighted_distance():
    result = site_services(DEMAND, SITES, service_distance=6, p=2, model="pmedian")
    d = np.abs(DEMAND.points.geometry.x.to_numpy()[:, None]
               - SITES.geometry.x.to_numpy()[None, :])
    cost = {c: (DEMAND.weights * d[:, list(c)].min(axis=1)).sum()
            for c in itertools.combinations(range(4), 2)}
    best = min(cost, key=cost.get)
    assert set(result.chosen["site"]) == {SITES["name"][j] for j in best}


def test_sites_files_are_checked(tmp_path):
    good = tmp_path / "sites.csv"
    good.write_text("Name,Easting,Northing\nHall,570000,188000\nLibrary,571000,188500\n")
    assert read_sites(good)["name"].tolist() == ["Hall", "Library"]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,easting,northing\nHall,570000,188000\n\n,,\nLibrary,five,188500\n")
    with pytest.raises(SchemaError, match=r"bad.csv: row 5: easting/northing is not a number"):
        read_sites(bad)  # blank rows (as a spreadsheet leaves them) are no sites, and count
    blank = tmp_path / "blank.csv"
    blank.write_text("name,easting,northing\nHall,570000,188000\n\n,,\n")
    assert read_sites(blank)["name"].tolist() == ["Hall"]
    nocoords = tmp_path / "nocoords.csv"
    nocoords.write_text("name,postcode\nHall,SS16 4AA\n")
    with pytest.raises(SchemaError, match="easting and northing"):
        read_sites(nocoords)
    garbage = tmp_path / "sites.gpkg"
    garbage.write_text("not a layer")
    with pytest.raises(SchemaError, match=r"sites.gpkg: cannot be read as sites"):
        read_sites(garbage)
    metres = tmp_path / "sites.geojson"  # no 'crs' member, read as degrees, holding metres
    metres.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                      '"properties": {"name": "Hall"}, "geometry": {"type": "Point", '
                      '"coordinates": [570000, 185000, 12]}}]}')
    with pytest.raises(CRSError, match="look like British National Grid metres"):
        read_sites(metres)
    degrees = tmp_path / "degrees.csv"
    degrees.write_text("name,lat,lon\nHall,51.57,0.47\n")
    assert read_sites(degrees).geometry.x.round(-3).tolist() == [571000.0]
    swapped = tmp_path / "swapped.csv"  # metres where degrees belong
    swapped.write_text("name,longitude,latitude\nHall,570000,188000\n")
    with pytest.raises(SchemaError, match="row 2: longitude/latitude cannot be degrees"):
        read_sites(swapped)
    twice = tmp_path / "twice.csv"
    twice.write_text("name,easting,northing\nHall,1,2\nHall,3,4\n")
    with pytest.raises(SchemaError, match="'Hall' appears twice"):
        read_sites(twice)
    # as Excel saves it in Europe: Windows-1252, semicolons (a decimal comma)
    excel = tmp_path / "excel.csv"
    excel.write_bytes("Name;Easting; Northing \nSt Mary’s Café Hall;570000;188000\n"
                      .encode("cp1252"))
    assert read_sites(excel)["name"].tolist() == ["St Mary’s Café Hall"]
    assert read_sites(excel).geometry.x.tolist() == [570000.0]


def test_siting_acceptance_on_the_default_world(demo):
    """p = 5 new sites within 800 m cover more expected at-risk demand than the 5 with the
    highest local demand (no overlap accounting) and than 5 at random (20 seeds)."""
    out, summary = demo
    s = summary["siting"]
    assert s["status"] == "Optimal" and s["p"] == 5 and len(s["new_sites"]) == 5
    assert s["coverage"] > s["baselines"]["highest_local_demand"]
    assert s["coverage"] > s["baselines"]["random_mean"]
    assert s["margin_over_highest_local_demand"] > 0.02 and s["margin_over_random"] > 0.05
    print(f"MCLP {s['coverage']:.3f}, highest local demand "
          f"{s['baselines']['highest_local_demand']:.3f}, random "
          f"{s['baselines']['random_mean']:.3f}, solved in {s['solve_seconds']} s")
    sites = pd.read_csv(out / "publish/siting/sites.csv")
    assert sites["status"].tolist()[:2] == ["existing", "existing"]
    published = pd.to_numeric(sites["newly_covered"], errors="coerce").dropna()
    assert not ((published >= 1) & (published <= 7)).any() and (published % 5 == 0).all()
    layers = dict(pyogrio.list_layers(out / "publish/geo_risk.gpkg"))
    assert layers.get("service_sites") == "Point" and "site_catchments" in layers
    page = (out / "publish/index.html").read_text(encoding="utf-8")
    assert "Where to site services" in page and html.escape(s["new_sites"][0]) in page


def test_site_command_reaches_a_coverage_target(demo, tmp_path):
    import shutil

    out, _ = demo
    run = tmp_path / "run"
    shutil.copytree(out, run, ignore=shutil.ignore_patterns("synth", "pseudonymised"))
    result = CliRunner().invoke(app, [
        "site", "--in", str(run), "--candidates", str(out / "synth/sites/candidates.csv"),
        "--coverage", "0.25"])
    assert result.exit_code == 0, result.output
    s = json.loads((run / "restricted/run.json").read_text())["siting"]
    assert s["coverage"] >= 0.25 and s["existing"] == 0
    # the fewest: one site fewer cannot reach the target
    fewer = CliRunner().invoke(app, [
        "site", "--in", str(run), "--candidates", str(out / "synth/sites/candidates.csv"),
        "--p", str(len(s["new_sites"]) - 1)])
    assert fewer.exit_code == 0, fewer.output
    assert json.loads((run / "restricted/run.json").read_text())["siting"]["coverage"] < 0.25
    assert "Service sites" in (run / "publish/maps/map.html").read_text()
    missing = CliRunner().invoke(app, ["site", "--in", str(tmp_path), "--candidates",
                                       str(out / "synth/sites/candidates.csv"), "--p", "2"])
    assert missing.exit_code == 2 and "not a finished geo-risk run" in missing.output


def test_a_site_list_given_from_another_folder_serves_later_commands(demo, tmp_path,
                                                                   monkeypatch):
    """Candidates named relative to where 'geo-risk site' ran are kept absolute, so that
    'geo-risk hotspots' (which redoes the siting) still finds them from anywhere; and more
    sites asked for than candidates listed takes them all."""
    import shutil

    out, _ = demo
    run = tmp_path / "run"
    shutil.copytree(out, run, ignore=shutil.ignore_patterns("synth", "pseudonymised"))
    (tmp_path / "here").mkdir()
    (tmp_path / "here/two.csv").write_text("name,easting,northing\nA,570000,188000\n"
                                            "B,571000,188500\n")
    monkeypatch.chdir(tmp_path / "here")
    result = CliRunner().invoke(app, ["site", "--in", str(run), "--candidates", "two.csv",
                                      "--p", "5"])
    assert result.exit_code == 0, result.output
    assert sorted(json.loads((run / "restricted/run.json").read_text())["siting"]
                  ["new_sites"]) == ["A", "B"]
    monkeypatch.chdir(tmp_path)
    again = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--permutations", "99"])
    assert again.exit_code == 0, again.output
    (tmp_path / "none.csv").write_text("name,easting,northing\n")
    none = CliRunner().invoke(app, ["site", "--in", str(run), "--candidates", "none.csv",
                                    "--p", "1"])
    assert none.exit_code == 2 and "lists no site" in none.output


def test_demand_sits_at_the_population_weighted_centre():
    from geo_risk.siting.plan import demand_points

    oas = gpd.GeoDataFrame(index=pd.Index(["O1", "O2"], name="oa11cd"),
                           geometry=gpd.GeoSeries.from_wkt(
                               ["POLYGON((0 0,100 0,100 100,0 100,0 0))",
                                "POLYGON((100 0,200 0,200 100,100 100,100 0))"]), crs=27700)
    households = pd.DataFrame({"household_key": ["a", "b", "c"], "easting": [10.0, 90.0, 150],
                               "northing": [50.0, 50.0, 50.0], C.OA: ["O1", "O1", "O2"]})
    children = pd.DataFrame({"household_key": ["a", "b", "b", "b"], "p": [0.5, 0.1, 0.2, 0.3]})
    demand = demand_points(households, children, oas)
    assert demand.points.index.tolist() == ["O1"]  # O2 has no under-fives: no demand point
    assert demand.points.geometry.x.iloc[0] == pytest.approx((10 + 3 * 90) / 4)
    assert demand.weights.tolist() == pytest.approx([1.1])


def test_the_sites_layer_holds_numbers_a_gis_can_use(demo):
    """What each site reaches and the share reached so far are numbers in the GeoPackage
    and the CSV (they were text, '90' and '3%'); a withheld count is NULL."""
    import pyogrio

    out, _ = demo
    sites = pyogrio.read_dataframe(out / "publish/geo_risk.gpkg", layer="service_sites")
    assert pd.api.types.is_numeric_dtype(sites["newly_covered"])
    assert pd.api.types.is_float_dtype(sites["cumulative_coverage"])
    assert sites["cumulative_coverage"].between(0, 1).all()
    table = pd.read_csv(out / "publish/siting/sites.csv")
    assert pd.api.types.is_float_dtype(table["cumulative_coverage"])
