"""Spatial statistics: weights with islands, Moran (Columbus), LISA, Gi*, emerging hot spots."""

from __future__ import annotations

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_risk import columns as C
from geo_risk.areas.hotspots import (
    EHSA_BEYOND,
    EHSA_CATEGORIES,
    benjamini_hochberg,
    beyond_deprivation,
    build_weights,
    classify_emerging,
    emerging_hotspots,
    getis_ord_star,
    global_moran,
    local_moran,
    mann_kendall,
    sen_change,
)


def _grid(n: int, *, island: bool = False) -> gpd.GeoDataFrame:
    cells = [shapely.box(100 * i, 100 * j, 100 * i + 100, 100 * j + 100)
             for j in range(n) for i in range(n)]
    ids = [f"A{k:03d}" for k in range(n * n)]
    if island:
        cells += [shapely.box(100 * n + 1_000, 0, 100 * n + 1_100, 100),  # 1 km offshore
                  shapely.box(100 * n + 50_000, 0, 100 * n + 50_100, 100)]  # far away
        ids += ["ISLAND", "REMOTE"]
    return gpd.GeoDataFrame(index=pd.Index(ids, name="oa11cd"), geometry=cells,
                            crs="EPSG:27700")


def test_columbus_global_moran():
    columbus = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    weights = build_weights(columbus.set_crs("EPSG:27700", allow_override=True))
    assert weights.graph.n_edges == 236 and not weights.isolates
    result = global_moran(columbus["CRIME"], weights)
    assert result["moran_i"] == pytest.approx(0.500189, abs=5e-5)
    assert result["moran_p"] < 0.001


def test_islands_are_joined_or_excluded():
    areas = _grid(5, island=True)
    weights = build_weights(areas, max_join_distance=5_000)
    assert weights.components_before == 3
    assert weights.joins == [("ISLAND", "A004", 1000.0)]
    assert weights.isolates == ["REMOTE"] and weights.components_after == 2
    # the joined graph, built already sorted, is the one libpysal makes of the same edges
    # (its areas' order, not the codes': ISLAND sorts before A004 by code)
    plain = libpysal.graph.Graph.build_contiguity(areas, rook=False).adjacency.reset_index()
    edges = pd.concat([plain[plain["weight"] > 0],
                       pd.DataFrame({"focal": ["ISLAND", "A004", "REMOTE"],
                                     "neighbor": ["A004", "ISLAND", "REMOTE"],
                                     "weight": [1, 1, 0]})])
    edges["order"] = areas.index.get_indexer(edges["focal"]) * len(areas) + \
        areas.index.get_indexer(edges["neighbor"])
    edges = edges.sort_values("order")
    expected = libpysal.graph.Graph.from_arrays(
        edges["focal"].to_numpy(), edges["neighbor"].to_numpy(),
        edges["weight"].to_numpy(float))
    assert weights.graph.adjacency.equals(expected.adjacency)
    assert (weights.graph.sparse != expected.sparse).nnz == 0
    values = pd.Series(np.r_[np.zeros(25), 0.0, 100.0], index=areas.index)
    z, sig = getis_ord_star(values, weights)
    assert list(z.index) == list(weights.ids)
    assert np.isnan(z["REMOTE"]) and not sig["REMOTE"]  # never a hot spot from its own value
    lisa = local_moran(values, weights, permutations=99)
    assert lisa.loc["REMOTE", "lisa_quadrant"] == "no neighbours"


def test_gi_star_matches_esda_with_binary_self_weights():
    rng = np.random.default_rng(4)
    areas = _grid(8)
    weights = build_weights(areas)
    y = rng.gamma(2.0, 1.0, len(areas)) + 0.1
    z, _ = getis_ord_star(pd.Series(y, index=weights.ids), weights)
    ref = esda.G_Local(y, weights.graph.to_W(), transform="B", star=True, permutations=0)
    assert np.allclose(z.to_numpy(), ref.Zs, atol=1e-8)


def test_lisa_finds_a_planted_cluster_and_is_seeded():
    areas = _grid(12)
    weights = build_weights(areas)
    rng = np.random.default_rng(5)
    y = pd.Series(rng.normal(0, 1, len(areas)), index=areas.index)
    block = [f"A{j * 12 + i:03d}" for j in range(3) for i in range(3)]
    y[block] += 4
    a = local_moran(y, weights, permutations=999, random_state=3)
    b = local_moran(y, weights, permutations=999, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert (a.loc[block, "lisa_quadrant"] == "high-high").mean() >= 0.6
    assert (a.drop(index=block)["lisa_quadrant"] == "high-high").sum() <= 5
    assert global_moran(y, weights)["moran_i"] > 0.2


def test_benjamini_hochberg():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, np.nan])
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True] + [False] * 7
    assert not benjamini_hochberg(np.full(100, 0.01), 0.005).any()


def _series(pattern: str, *, rising: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A z-series from a pattern: H hot, C cold, . neither; `rising` adds a trend."""
    t = np.arange(len(pattern))
    z = np.array([{"H": 3.0, "C": -3.0, ".": 0.0}[c] for c in pattern]) + rising * (t - t.mean())
    return z, np.array([c != "." for c in pattern])


@pytest.mark.parametrize("pattern,rising,expected", [
    ("...............H", 0.0, "new hot spot"),
    ("...........HHHHH", 0.0, "consecutive hot spot"),
    ("HHHHHHHHHHHHHHHH", 0.2, "intensifying hot spot"),
    ("HHHHHHHHHHHHHHHH", 0.0, "persistent hot spot"),
    ("HHHHHHHHHHHHHHHH", -0.2, "diminishing hot spot"),
    ("HHHHHHHHHHHHHHH.", 0.0, "historical hot spot"),
    ("..H..HH...H....H", 0.0, "sporadic hot spot"),
    ("CC.....C.......H", 0.0, "oscillating hot spot"),
    ("...............C", 0.0, "new cold spot"),
    ("............CCCC", 0.0, "consecutive cold spot"),
    ("CCCCCCCCCCCCCCCC", -0.2, "intensifying cold spot"),
    ("CCCCCCCCCCCCCCCC", 0.0, "persistent cold spot"),
    ("CCCCCCCCCCCCCCCC", 0.2, "diminishing cold spot"),
    ("CCCCCCCCCCCCCCC.", 0.0, "historical cold spot"),
    (".C..C.....C....C", 0.0, "sporadic cold spot"),
    ("H..............C", 0.0, "oscillating cold spot"),
    ("................", 0.0, "no pattern"),
    ("HH.HH...........", 0.0, "no pattern"),
])
def test_each_category_from_a_hand_built_series(pattern, rising, expected):
    z, sig = _series(pattern, rising=rising)
    assert classify_emerging(z[None, :], sig[None, :])[0] == expected
    assert expected in EHSA_CATEGORIES


def test_a_trend_must_be_material_as_well_as_significant():
    """Overlapping refreshes drift smoothly: z rising by 1.4 over 15 periods is a
    Mann-Kendall trend (p < 0.001) but moves the z-score by less than 1.96, so the area is
    a persistent hot spot; with min_trend=0 (ArcGIS's rule) it would be intensifying."""
    z, sig = _series("H" * 15, rising=0.1)
    assert mann_kendall(z[None, :])[1][0] < 0.001
    assert sen_change(z[None, :])[0] == pytest.approx(1.4)
    assert classify_emerging(z[None, :], sig[None, :])[0] == "persistent hot spot"
    assert classify_emerging(z[None, :], sig[None, :], min_trend=0)[0] == (
        "intensifying hot spot")
    steep, sig = _series("H" * 15, rising=-0.15)
    assert classify_emerging(steep[None, :], sig[None, :])[0] == "diminishing hot spot"


def test_beyond_deprivation_takes_out_the_gradient_not_the_change():
    """Risk that follows deprivation (and a district-wide rise) is taken out; an area whose
    risk rises beyond its deprivation keeps the rise."""
    rng = np.random.default_rng(3)
    d = pd.Series(rng.uniform(0, 1, 300), index=[f"A{i:03d}" for i in range(300)])
    periods = 6
    risk = pd.DataFrame(0.2 + 0.3 * d.to_numpy()[:, None] ** 2 + np.arange(periods) * 0.01
                        + rng.normal(0, 0.005, (300, periods)), index=d.index)
    risk.loc["A007"] += np.linspace(0, 0.2, periods)
    excess = beyond_deprivation(risk, d)
    assert excess.drop(index="A007").abs().max().max() < 0.03
    assert excess.loc["A007"].iloc[-1] == pytest.approx(0.2, abs=0.03)
    assert excess.loc["A007"].iloc[0] == pytest.approx(0.0, abs=0.03)
    with pytest.raises(ValueError, match="deprivation"):
        beyond_deprivation(risk, d.drop(index="A001"))


def test_mann_kendall():
    tau, p = mann_kendall(np.vstack([np.arange(16.0), -np.arange(16.0),
                                     np.tile([0.0, 1.0], 8)]))
    assert tau[0] == 1 and tau[1] == -1 and p[0] < 1e-5 and p[2] > 0.5


def _heating_lattice(*, steady: bool) -> tuple:
    """A 14 x 14 lattice of noise at 10 with a 3 x 3 block heating by 6 over 12 periods
    and, with ``steady``, a block 4 higher throughout: (weights, values, heating, steady)."""
    areas = _grid(14)
    rng = np.random.default_rng(6)
    periods = 12
    x = rng.normal(10, 1, (len(areas), periods))
    heating = [f"A{j * 14 + i:03d}" for j in range(2, 5) for i in range(2, 5)]
    hot = [f"A{j * 14 + i:03d}" for j in range(9, 12) for i in range(9, 12)] if steady else []
    pos = {k: n for n, k in enumerate(areas.index)}
    for k in heating:
        x[pos[k]] += np.linspace(0, 6, periods)
    for k in hot:
        x[pos[k]] += 4
    return build_weights(areas), pd.DataFrame(x, index=areas.index), heating, hot


def test_emerging_hotspots_on_a_lattice():
    """A block that heats up over time becomes an emerging (new/consecutive/intensifying)
    hot spot; a block that is hot throughout is persistent."""
    weights, values, heating, steady = _heating_lattice(steady=True)
    table = emerging_hotspots(values, weights, time_lag=1)
    emerging = {"new hot spot", "consecutive hot spot", "intensifying hot spot"}
    assert table.loc[heating, "ehsa_category"].isin(emerging).mean() >= 0.8
    assert (table.loc[steady, "ehsa_category"] == "persistent hot spot").mean() >= 0.8
    others = table.drop(index=heating + steady)["ehsa_category"]
    assert others.isin(emerging | {"persistent hot spot"}).mean() < 0.15


def test_bagged_categories_tell_a_strong_signal_from_noise():
    """Resampling households (each area's mean redrawn within its standard error): the
    areas of a block heating strongly keep their category; noise that happened to be
    classified does not, and most of it is no longer classed emerging; with no sampling
    error every category is the point estimate's, and certain."""
    from geo_risk.areas.hotspots import EMERGING, bagged_categories

    weights, values, heating, _ = _heating_lattice(steady=False)
    found = emerging_hotspots(values, weights)["ehsa_category"]
    exact = bagged_categories(values, values * 0.0, weights, found, transform=lambda v: v,
                              draws=5)
    assert (exact["stability"] == 1.0).all() and exact["category"].equals(found)
    bagged = bagged_categories(values, values * 0.0 + 1.0, weights, found,
                               transform=lambda v: v, draws=40, random_state=2)
    emerging = found.isin(EMERGING)
    block = bagged["stability"][heating][emerging[heating]]
    chance = emerging & ~found.index.isin(heating)
    assert len(block) >= 6 and block.median() >= 0.8
    assert bagged.loc[heating, "category"].isin(EMERGING).mean() >= 0.8
    outside = bagged["category"].isin(EMERGING) & ~bagged.index.isin(heating)
    assert chance.sum() >= 3 and outside.sum() <= chance.sum() / 2
    assert bagged_categories(values, values * 0.0 + 1.0, weights, found,
                             transform=lambda v: v, draws=40, random_state=2).equals(bagged)


def test_areas_of_concern_known_and_new():
    from geo_risk.areas.hotspots import areas_of_concern

    areas = _grid(12)
    weights = build_weights(areas)
    rng = np.random.default_rng(8)
    risk = pd.Series(rng.normal(0.3, 0.02, len(areas)), index=areas.index)
    known = pd.Series(rng.normal(0.1, 0.02, len(areas)), index=areas.index)
    served = [f"A{j * 12 + i:03d}" for j in range(3) for i in range(3)]
    unseen = [f"A{j * 12 + i:03d}" for j in range(8, 11) for i in range(8, 11)]
    risk[served + unseen] += 0.2
    known[served] += 0.2
    table = areas_of_concern(risk, known, weights)
    assert (table.loc[served, "concern"] == "known").mean() >= 0.7
    assert (table.loc[unseen, "concern"] == "newly identified").mean() >= 0.7
    assert (table.drop(index=served + unseen)["concern"] != "").mean() < 0.15


def test_a_constant_hot_block_is_persistent_not_intensifying():
    """The first period's space-time window is shallower (no earlier period), which gives
    smaller z for the same values; it only serves as history, so an unchanging hot block
    reads as persistent rather than as a rising trend."""
    areas = _grid(10)
    weights = build_weights(areas)
    x = np.full((len(areas), 8), 10.0) + np.arange(len(areas))[:, None] % 3 * 0.1
    block = [f"A{j * 10 + i:03d}" for j in range(3, 6) for i in range(3, 6)]
    x[[areas.index.get_loc(k) for k in block]] += 5
    table = emerging_hotspots(pd.DataFrame(x, index=areas.index), weights, time_lag=1)
    assert (table.loc[block[4], "ehsa_category"]) == "persistent hot spot"
    assert table.loc[block[4], "trend_tau"] == 0


def test_concern_outlines_dissolve_adjacent_areas_only():
    from geo_risk.areas.hotspots import concern_outlines

    areas = _grid(6).assign(**{C.WARD_NAME: lambda g: np.where(
        g.geometry.centroid.x < 300, "West", "East")})
    concern = pd.Series("", index=areas.index)
    concern[["A000", "A001", "A006"]] = "known"  # one L-shaped block of three
    concern[["A035"]] = "known"  # a separate corner
    concern[["A002", "A003", "A004"]] = "newly identified"  # touches the known block
    parts = concern_outlines(areas, concern).sort_values(["concern", "output_areas"])
    assert parts[["concern", "output_areas"]].values.tolist() == [
        ["known", 1], ["known", 3], ["newly identified", 3]]
    assert parts["wards"].tolist() == ["East", "West", "East, West"]
    assert (parts.geom_type == "Polygon").all()


def test_a_run_measures_emerging_hot_spots_beyond_deprivation_when_it_has_imd():
    """With deprivation, a deprived block that is hot throughout is not an emerging or
    persistent hot spot; a block rising beyond it is. Without deprivation the run says it
    measured risk itself, and the deprived block is persistent."""
    from geo_risk.areas import find_hotspots
    from geo_risk.areas.hotspots import EHSA_RISK

    areas = _grid(12).assign(**{C.WARD_NAME: lambda g: np.where(g.geometry.centroid.x < 600,
                                                                 "W", "E")})
    rng = np.random.default_rng(4)
    deprived = [f"A{j * 12 + i:03d}" for j in range(3) for i in range(3)]
    rising = [f"A{j * 12 + i:03d}" for j in range(8, 11) for i in range(8, 11)]
    areas["deprivation"] = rng.uniform(0.1, 0.5, len(areas))
    areas.loc[deprived, "deprivation"] = 0.95
    periods = 10
    risk = pd.DataFrame(0.2 + 0.3 * areas["deprivation"].to_numpy()[:, None] ** 2
                        + rng.normal(0, 0.01, (len(areas), periods)), index=areas.index)
    risk.loc[rising] += np.linspace(0, 0.15, periods)
    current = pd.DataFrame({"mean_risk": risk.iloc[:, -1], "known_share": 0.1})
    emerging = {"new hot spot", "consecutive hot spot", "intensifying hot spot"}
    found = find_hotspots(areas, current, risk, permutations=99)
    table, summary = found.table, found.summary
    assert found.by_ward.columns.tolist() == ["known", "newly identified"]
    assert summary["emerging_measure"] == EHSA_BEYOND
    assert table.loc[rising, "ehsa_category"].isin(emerging).mean() >= 0.8
    assert table.loc[deprived, "ehsa_category"].eq("no pattern").mean() >= 0.8
    found = find_hotspots(areas.drop(columns="deprivation"), current, risk, permutations=99)
    table, summary = found.table, found.summary
    assert summary["emerging_measure"] == EHSA_RISK
    assert table.loc[deprived, "ehsa_category"].eq("persistent hot spot").mean() >= 0.8


def test_every_concern_outline_names_its_output_areas(lattice):
    """A multipart OA's detached piece makes an outline of its own: it still counts its
    OA and names its ward (it was counted by one representative point, so 0 and none)."""
    from geo_risk.areas.hotspots import concern_outlines

    areas = lattice.copy()
    island = shapely.box(501_000, 181_000, 501_050, 181_050)
    areas.loc["E00900001", "geometry"] = shapely.MultiPolygon(
        [areas.loc["E00900001", "geometry"], island])
    concern = pd.Series("", index=areas.index)
    concern[["E00900001", "E00900002"]] = "newly identified"
    outlines = concern_outlines(areas, concern)
    assert len(outlines) == 2 and (outlines["output_areas"] >= 1).all()
    assert (outlines["wards"] != "").all()


def _rising_lattice(seed: int = 3, *, periods: int = 12, late: float = 0.10,
                    shift: float = 0.0) -> tuple:
    """A 14 x 14 lattice of risks near 0.3 with standard errors 0.03: a 3 x 3 block that
    is flat and then rises by ``late`` over the last four refreshes, and every area
    shifted by ``shift`` over those refreshes: (areas, series, se, block)."""
    areas = _grid(14)
    rng = np.random.default_rng(seed)
    se = np.full((len(areas), periods), 0.03)
    x = 0.3 + rng.normal(0, 0.03, (len(areas), periods))
    block = [f"A{j * 14 + i:03d}" for j in range(5, 8) for i in range(5, 8)]
    ramp = np.clip(np.arange(periods) - (periods - 5), 0, 4) / 4
    x += shift * ramp
    pos = [areas.index.get_loc(k) for k in block]
    x[pos] += late * ramp
    cols = [f"2017-{m:02d}" for m in range(1, periods + 1)]
    return (areas, pd.DataFrame(x, index=areas.index, columns=cols),
            pd.DataFrame(se, index=areas.index, columns=cols), block)


def test_a_late_rise_is_seen_and_a_district_wide_shift_is_not():
    """The rise test reads a block's rise over the last year against its standard error:
    a 10-point rise is seen in the block and hardly elsewhere; with no rise, or a rise of
    the whole district, almost nothing is; a series shorter than a year is read from its
    first refresh."""
    from geo_risk.areas import rising_areas

    areas, series, se, block = _rising_lattice()
    weights = build_weights(areas)
    found = rising_areas(series, se, weights)
    assert found.loc[block, "rising"].mean() >= 0.8
    assert found.drop(index=block)["rising"].sum() <= 8  # the block's neighbours at most
    for flat in [_rising_lattice(late=0.0), _rising_lattice(late=0.0, shift=0.1)]:
        assert rising_areas(flat[1], flat[2], weights)["rising"].sum() <= 2
    short = rising_areas(series.iloc[:, -3:], se.iloc[:, -3:], weights)
    assert short["rise"].notna().all() and short.loc[block, "rise"].mean() > 0.015
    # without standard errors the spread of the areas' rises stands in
    assert rising_areas(series, None, weights).loc[block, "rising"].mean() >= 0.5


def test_classify_series_calls_a_rising_area_emerging_and_never_cold():
    """The public classifier: an area rising over the last year is emerging whatever its
    history's category, and a deprived area that rises is never a cold spot although
    the deprivation adjustment puts it below what its deprivation predicts."""
    from geo_risk.areas import classify_series

    areas, series, se, block = _rising_lattice(late=0.15)
    areas["deprivation"] = np.tile(np.linspace(0, 1, 14), 14)
    areas.loc[block, "deprivation"] = 1.0
    # the block starts well below what its deprivation predicts elsewhere
    series = series.add(0.3 * areas["deprivation"] ** 2, axis=0)
    series.loc[block] -= 0.25
    found = classify_series(series, areas, se=se, draws=10, random_state=1)
    assert list(found.columns) == ["ehsa_category", "trend_tau", "trend_p", "trend_change",
                                   "ehsa_stability", "rise", "rise_z", "rising", "emerging"]
    # the block's corners have more neighbours outside it than in: most of it rises
    assert found.loc[block, "rising"].mean() >= 2 / 3
    assert found.loc[block, "emerging"].mean() >= 2 / 3
    cold = found["ehsa_category"].str.endswith("cold spot")
    assert not (found["rising"] & cold).any()
    unadjusted = emerging_hotspots(beyond_deprivation(series, areas["deprivation"]),
                                   build_weights(areas))["ehsa_category"]
    assert unadjusted[block].str.endswith("cold spot").any()  # what the rule prevents
    again = classify_series(series, areas, se=se, draws=10, random_state=1)
    assert again.equals(found)


@pytest.mark.parametrize(("choice", "interior", "corner"), [
    ("queen", 8, 3), ("rook", 4, 2), ("order:2", 24, 8), ("knn:3", 3, 3),
    ("distance:150", 8, 3), ("distance:110", 4, 2), ("distance:50:2", 2, 2)])
def test_weights_as_a_gis_team_chooses_them(choice, interior, corner):
    """Each choice of neighbours gives, on a lattice of 100 m squares, the neighbours the
    GIS tools give: contiguity by edges and corners or by edges, up to two steps, the
    three nearest, a distance band between centroids (141 m is a diagonal), and a band
    too short for any neighbour topped up to its minimum."""
    areas = _grid(7)
    weights = build_weights(areas, weights=choice)
    counts = np.asarray(weights.binary().sum(axis=1)).ravel()
    position = {code: i for i, code in enumerate(weights.ids)}
    assert counts[position["A024"]] == interior  # the centre of the lattice
    assert counts[position["A000"]] == corner
    assert not weights.isolates


@pytest.mark.parametrize("bad", ["queens", "knn", "knn:0", "knn:2.5", "order:x",
                                 "distance", "distance:-5", "distance:100:1:2"])
def test_a_weights_choice_that_cannot_be_read_is_one_clear_error(bad):
    from geo_risk._errors import GeoRiskError

    with pytest.raises(GeoRiskError, match="use one of queen, rook"):
        build_weights(_grid(3), weights=bad)


def _line(values: list[list[float]]) -> tuple:
    """Five 100 m squares in a row (rook: each touches the next) and a value per square
    (rows) per period (columns)."""
    cells = [shapely.box(100 * i, 0, 100 * i + 100, 100) for i in range(5)]
    areas = gpd.GeoDataFrame(index=pd.Index(list("ABCDE"), name="oa11cd"), geometry=cells,
                             crs="EPSG:27700")
    return build_weights(areas, weights="rook"), pd.DataFrame(values, index=areas.index)


@pytest.mark.parametrize(("window", "expected"), [
    ("entire_cube", np.sqrt(3 / 2)), ("neighbourhood_time_step", np.sqrt(2 / 3)),
    ("individual_time_step", np.sqrt(2 / 3)), ("NEIGHBORHOOD_TIME_STEP", np.sqrt(2 / 3))])
def test_gi_star_global_windows_by_hand(window, expected):
    """Five squares in a row, three periods, all 0 but the middle square's 6 in the last.
    Its neighbourhood at the last period with a time lag of 1 is squares B, C, D in
    periods 2 and 3: 6 bins summing to 6 (with the individual time step, B, C, D in period
    3 alone: 3 bins summing to 6).

    - Entire cube: 15 bins, mean 0.4, variance 36/15 - 0.16 = 2.24;
      z = (6 - 0.4 x 6) / sqrt(2.24 x (15 x 6 - 36) / 14) = 3.6 / sqrt(8.64) = sqrt(3/2).
    - Neighbourhood time step: periods 2 and 3, 10 bins, mean 0.6, variance 3.24;
      z = 2.4 / sqrt(3.24 x 24 / 9) = sqrt(2/3).
    - Individual time step: period 3, 5 bins, mean 1.2, variance 5.76;
      z = 2.4 / sqrt(5.76 x 6 / 4) = sqrt(2/3).
    """
    weights, values = _line([[0, 0, 0]] * 2 + [[0, 0, 6]] + [[0, 0, 0]] * 2)
    z, _ = getis_ord_star(values, weights, time_lag=1, global_window=window)
    assert z.loc["C", 2] == pytest.approx(expected, rel=1e-12)
    if window != "entire_cube":  # periods 1 and 2 are all 0: nothing to compare with
        assert z[1].isna().all()


def test_gi_star_neighbourhood_time_step_by_hand():
    """The neighbourhood time step (``time_lag``) of 2 on four periods, all 0 but the
    middle square's 6 in the last: its neighbourhood is B, C, D in periods 2-4, 9 bins
    summing to 6; the cube's 20 bins have mean 0.3 and variance 36/20 - 0.09 = 1.71, so
    z = (6 - 0.3 x 9) / sqrt(1.71 x (20 x 9 - 81) / 19) = 3.3 / sqrt(8.91); with a time
    lag of 0 it is B, C, D in period 4 alone: (6 - 0.9) / sqrt(1.71 x (60 - 9) / 19)."""
    weights, values = _line([[0, 0, 0, 0]] * 2 + [[0, 0, 0, 6]] + [[0, 0, 0, 0]] * 2)
    z, _ = getis_ord_star(values, weights, time_lag=2)
    assert z.loc["C", 3] == pytest.approx(3.3 / np.sqrt(8.91), rel=1e-12)
    z, _ = getis_ord_star(values, weights, time_lag=0)
    assert z.loc["C", 3] == pytest.approx(5.1 / np.sqrt(1.71 * 51 / 19), rel=1e-12)


def test_an_individual_time_step_is_each_periods_own_gi_star():
    """With the individual time step each period is compared with itself alone: its
    z-scores are esda's Gi* of that period, and a rise of the whole district in one period
    (a constant added) changes nothing, where the entire cube calls every area hot."""
    rng = np.random.default_rng(11)
    areas = _grid(8)
    weights = build_weights(areas)
    x = pd.DataFrame(rng.gamma(2.0, 1.0, (len(areas), 4)), index=areas.index)
    x[3] += 10.0  # the whole district rises in the last period
    z, sig = getis_ord_star(x, weights, time_lag=1, global_window="individual_time_step")
    for t in range(4):
        ref = esda.G_Local(x[t].reindex(weights.ids).to_numpy(), weights.graph.to_W(),
                           transform="B", star=True, permutations=0)
        assert np.allclose(z[t].to_numpy(), ref.Zs, atol=1e-8)
    whole, whole_sig = getis_ord_star(x, weights)  # this period alone, against the cube
    assert whole_sig[3].all() and (whole[3] > 0).all()
    assert sig[3].sum() < len(areas) / 4
    table = emerging_hotspots(x, weights, global_window="individual_time_step")
    assert table["ehsa_category"].eq("new hot spot").mean() < 0.25


def test_fdr_off_tests_each_area_at_alpha_alone():
    """Without the false discovery rate each p-value is compared with alpha alone: the
    same p-values give the five below 0.05 where Benjamini-Hochberg keeps two; Gi*, LISA
    and the emerging categories take the setting."""
    from scipy.stats import norm

    from geo_risk.areas.hotspots import significant

    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, np.nan])
    assert significant(p, 0.05, fdr=False).tolist() == [True] * 5 + [False] * 4
    assert significant(p, 0.05).tolist() == benjamini_hochberg(p, 0.05).tolist()
    rng = np.random.default_rng(3)
    areas = _grid(12)
    weights = build_weights(areas)
    y = pd.Series(rng.normal(0, 1, len(areas)), index=areas.index)
    z, sig = getis_ord_star(y, weights, fdr=False)
    assert sig.equals(pd.Series(2 * norm.sf(np.abs(z)) < 0.05, index=z.index, name=sig.name))
    _, corrected = getis_ord_star(y, weights)
    assert sig.sum() > corrected.sum() and not (corrected & ~sig).any()
    lisa = local_moran(y, weights, permutations=999, fdr=False)
    assert lisa["lisa_significant"].equals(lisa["p_sim"] < 0.05)
    x = pd.DataFrame(rng.normal(0, 1, (len(areas), 6)), index=areas.index)
    loose = emerging_hotspots(x, weights, fdr=False)["ehsa_category"]
    strict = emerging_hotspots(x, weights)["ehsa_category"]
    assert (loose != "no pattern").sum() > (strict != "no pattern").sum()


@pytest.mark.parametrize("bad", ["cube", "whole", "time step"])
def test_a_global_window_that_cannot_be_read_is_one_clear_error(bad):
    from geo_risk._errors import GeoRiskError

    weights, values = _line([[0, 1, 2]] * 5)
    with pytest.raises(GeoRiskError, match="use one of entire_cube, neighbourhood_time_step"):
        emerging_hotspots(values, weights, global_window=bad)


def test_lisa_over_time_says_since_when_an_area_is_in_its_cluster():
    """A block that becomes high at the fourth of eight refreshes is high-high since then
    and was not significant before; a block high throughout is high-high throughout; the
    moves between states are counted (giddy), and the test is seeded."""
    from geo_risk.areas.hotspots import LISA_STATES, lisa_over_time

    areas = _grid(10)
    weights = build_weights(areas)
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.normal(0, 0.3, (len(areas), 8)), index=areas.index,
                     columns=[f"2020-{m:02d}-28" for m in range(1, 9)])
    late = [f"A{j * 10 + i:03d}" for j in range(6, 9) for i in range(6, 9)]
    always = [f"A{j * 10 + i:03d}" for j in range(1, 4) for i in range(1, 4)]
    x.loc[always] += 4.0
    x.loc[late, x.columns[3:]] += 4.0
    quadrants, moves, summary = lisa_over_time(x, weights, random_state=1)
    centre_late, centre_always = late[4], always[4]
    assert quadrants.loc[centre_late].tolist()[3:] == ["high-high"] * 5
    assert moves.loc[centre_late].tolist() == ["high-high", "2020-04-28", "not significant"]
    assert moves.loc[centre_always].tolist() == ["high-high", "2020-01-28", ""]
    assert summary["states"] == LISA_STATES and summary["areas"] == len(areas)
    assert sum(map(sum, summary["transitions"])) == len(areas) * 7
    assert summary["transitions"][4][0] >= 5  # not significant -> high-high, the late block
    assert summary["chi2_dof"] == 9 and summary["chi2_p"] < 0.05
    again = lisa_over_time(x, weights, random_state=1)
    assert again[0].equals(quadrants) and again[1].equals(moves)
