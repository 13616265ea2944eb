"""geo-risk's spatial statistics and neighbours against R's spdep.

``scripts/check_spdep.R`` (R with Debian's r-cran-spdep and r-cran-sf) wrote the golden
figures in ``tests/data/spdep`` for Columbus (Anselin's crime data) and the embedded town
(each output area's LSOA's IMD rank); these tests need no R. Per area, Moran's I, local
Moran's Ii and its analytic z, and Gi*'s z agree to 1e-6, and the neighbour sets of each
choice of weights are identical.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest

from geo_risk.areas.hotspots import build_weights, getis_ord_star, global_moran, local_moran
from geo_risk.geography.boundaries import load_boundaries

GOLDEN = Path(__file__).parent / "data" / "spdep"
TOWN = Path(__file__).parents[1] / "geo_risk" / "geography" / "data"


def _dataset(name: str) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The areas (indexed by the ids R wrote) and their value, as the R script takes them."""
    if name == "columbus":
        areas = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
        areas = areas.set_index(areas["POLYID"].astype(str).rename("id"))
        # Columbus has no CRS; its units are planar, as R's sf takes them
        return areas.set_crs("EPSG:27700", allow_override=True), areas["CRIME"]
    areas = load_boundaries()  # the town as a run reads it
    lookup = pd.read_csv(TOWN / "synthtown_lookup.csv", index_col="OA11CD")
    rank = pd.read_csv(TOWN / "synthtown_imd.csv", index_col="LSOA11CD")["IMD_rank"]
    value = lookup["LSOA11CD"].map(rank).astype(float).reindex(areas.index)
    return areas, value


def _golden(file: str, name: str) -> pd.DataFrame:
    table = pd.read_csv(GOLDEN / file, dtype={"id": str}, keep_default_na=False)
    return table[table["dataset"] == name].drop(columns="dataset")


def test_the_golden_figures_say_where_they_came_from():
    versions = pd.read_csv(GOLDEN / "versions.csv", index_col="software")["version"]
    assert versions["R"].startswith("4.2") and versions["spdep"].startswith("1.")


@pytest.mark.parametrize("name", ["columbus", "town"])
def test_statistics_match_spdep(name):
    areas, value = _dataset(name)
    golden = _golden("local.csv", name).set_index("id")
    assert len(golden) == len(areas) and set(golden.index) == set(areas.index.astype(str))
    np.testing.assert_allclose(value.reindex(golden.index), golden["value"], rtol=1e-9)
    weights = build_weights(areas)
    moran = global_moran(value, weights)
    expected = _golden("global.csv", name).iloc[0]
    assert moran["moran_i"] == pytest.approx(expected["moran_i"], abs=1e-6)
    assert moran["moran_expected"] == pytest.approx(expected["expectation"], abs=1e-6)
    assert moran["moran_z"] == pytest.approx(expected["z"], abs=1e-6)
    lisa = local_moran(value, weights, permutations=99).reindex(golden.index)
    np.testing.assert_allclose(lisa["lisa_i"], golden["ii"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(lisa["lisa_z"], golden["z_ii"], atol=1e-6, rtol=0)
    z, _ = getis_ord_star(value, weights)
    np.testing.assert_allclose(z.reindex(golden.index), golden["gi_star_z"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", ["columbus", "town"])
def test_neighbour_sets_match_spdep(name):
    """poly2nb (queen, rook), knn2nb(knearneigh), dnearneigh topped up to one nearest and
    nblag_cumul (up to two steps): the same neighbours for every area, pair by pair."""
    areas, _ = _dataset(name)
    golden = _golden("neighbours.csv", name)
    assert set(golden["weights"]) >= {"queen", "rook"} and len(set(golden["weights"])) == 5
    for choice, expected in golden.groupby("weights"):
        weights = build_weights(areas, weights=choice)
        adjacency = weights.graph.adjacency
        pairs = adjacency[adjacency > 0].index
        ours = pd.Series(pairs.get_level_values(1).astype(str), index=pairs.get_level_values(
            0).astype(str)).groupby(level=0).agg(lambda s: " ".join(sorted(s)))
        theirs = expected.set_index("id")["neighbours"]
        mismatched = [i for i in theirs.index if ours.get(i, "") != theirs[i]]
        assert not mismatched, (choice, mismatched[:5])
        assert sum(len(n.split()) for n in theirs) == len(pairs), choice


def test_the_r_script_gives_the_committed_figures(tmp_path):
    """Where R and spdep are installed, the script run again writes the same figures (so
    the committed ones are the script's, and current)."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed (apt-get install r-cran-spdep r-cran-sf to check)")
    root = Path(__file__).parents[1]
    done = subprocess.run(["Rscript", "scripts/check_spdep.R", str(tmp_path)], cwd=root,
                          capture_output=True, text=True, timeout=600)
    if done.returncode and "there is no package called" in done.stderr:
        pytest.skip(f"R lacks a package: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    for file in ["neighbours.csv", "global.csv", "local.csv"]:
        again = pd.read_csv(tmp_path / file, keep_default_na=False)
        committed = pd.read_csv(GOLDEN / file, keep_default_na=False)
        pd.testing.assert_frame_equal(again, committed, check_exact=False, atol=1e-12)
