"""Benchmark: weights + Moran + LISA + Gi* + emerging hot spots over the refreshes.

    python scripts/bench_hotspots.py [--repeat 3] [--basildon | --areas N]

Input: each output area's mean true risk of its under-fives at each of the 16 refreshes
of the default synthetic world (or of the world on the real Basildon boundaries from
../shared with --basildon); emerging hot spots of risk beyond deprivation, as a run does.
With ``--areas N`` (England has 171,372 OAs): about N generated areas (a Voronoi tiling
of an England-sized box with three offshore islands that the weights must join)
with a smooth risk field, its trend and noise over 16 refreshes; the weights are also
timed against plain ``Graph.build_contiguity`` on the same polygons.
Prints seconds per step and the peak memory; the target is <= 10 s in all for ~570 OAs
and <= 5 min and 4 GiB for 170,000 areas.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph

from geo_risk import columns as C
from geo_risk.areas.hotspots import (
    beyond_deprivation,
    build_weights,
    emerging_hotspots,
    getis_ord_star,
    global_moran,
    local_moran,
)
from geo_risk.geography.boundaries import BoundaryFiles
from geo_risk.synth.world import make_world

BASILDON = Path(__file__).resolve().parents[2] / "shared/data/basildon"


def generated(n: int, seed: int = 1, refreshes: int = 16
              ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """``n`` Voronoi areas in a 500 x 600 km box with three offshore islands (30 km
    squares in the corners, 2 km of sea between each and the mainland, as England's
    coast has islands), with deprivation, and a risk series: a smooth field, a rising
    patch and noise."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform([0, 0], [500_000, 600_000], size=(n, 2))
    islands = [shapely.box(0, 0, 30_000, 30_000), shapely.box(470_000, 0, 500_000, 30_000),
               shapely.box(470_000, 570_000, 500_000, 600_000)]
    sea = shapely.union_all([shapely.buffer(i, 2_000, join_style="mitre") for i in islands])
    mainland = shapely.box(0, 0, 500_000, 600_000).difference(sea)
    land = np.array([mainland, *islands])
    piece = np.zeros(len(xy), dtype=int)
    for k, island in enumerate(islands, start=1):
        piece[shapely.contains_xy(island, xy[:, 0], xy[:, 1])] = k
    afloat = shapely.contains_xy(sea, xy[:, 0], xy[:, 1]) & (piece == 0)
    xy, piece = xy[~afloat], piece[~afloat]
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=shapely.box(-1, -1, 500_001, 600_001), ordered=True))
    cells = shapely.intersection(cells, land[piece])  # each cell on its own piece of land
    ids = pd.Index([f"G{i:07d}" for i in range(len(cells))], name=C.OA)
    field = np.sin(xy[:, 0] / 40_000) * np.cos(xy[:, 1] / 55_000)
    areas = gpd.GeoDataFrame({C.DEPRIVATION: (field + 1) / 2}, geometry=cells, crs=C.BNG,
                             index=ids)
    patch = np.hypot(xy[:, 0] - 220_000, xy[:, 1] - 310_000) < 15_000
    t = np.arange(refreshes) / (refreshes - 1)
    risk = (0.25 + 0.1 * field[:, None] + 0.1 * patch[:, None] * t[None, :]
            + rng.normal(0, 0.03, (len(xy), refreshes)))
    return areas, pd.DataFrame(risk, index=ids, columns=[f"r{i:02d}" for i in range(refreshes)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--basildon", action="store_true")
    parser.add_argument("--areas", type=int, help="generated areas instead of a world")
    args = parser.parse_args()
    if args.areas:
        oas, risk = generated(args.areas)
        run(oas, risk, args.repeat, contiguity=True)
        return
    if args.basildon:
        world = make_world(BoundaryFiles(BASILDON / "oa11_basildon.geojson",
                                         BASILDON / "oa11_lookup_basildon.csv",
                                         BASILDON / "imd2019_lsoa11_basildon.csv"), seed=1)
    else:
        world = make_world(seed=1)
    risk = world.child_risk.pivot_table(index=C.OA, columns="refresh", values="p_not_gld",
                                        aggfunc="mean").reindex(world.oas.index)
    run(world.oas, risk.fillna(risk.mean()), args.repeat)


def run(oas: gpd.GeoDataFrame, risk: pd.DataFrame, repeat: int, *, contiguity: bool = False
        ) -> None:
    runs = []
    for i in range(repeat):
        times = {}
        if contiguity:
            t = time.perf_counter()
            Graph.build_contiguity(oas, rook=False)
            times["plain Graph.build_contiguity (for comparison, not in total)"] = (
                time.perf_counter() - t)
        t = time.perf_counter()
        weights = build_weights(oas)
        times["weights"] = time.perf_counter() - t
        last = risk.iloc[:, -1]
        t = time.perf_counter()
        global_moran(last, weights)
        times["moran"] = time.perf_counter() - t
        t = time.perf_counter()
        local_moran(last, weights, permutations=9999, random_state=1)
        times["lisa (9,999 permutations)"] = time.perf_counter() - t
        t = time.perf_counter()
        getis_ord_star(last, weights)
        times["gi*"] = time.perf_counter() - t
        t = time.perf_counter()
        emerging_hotspots(beyond_deprivation(risk, oas[C.DEPRIVATION]), weights)
        times[f"emerging hot spots ({risk.shape[1]} refreshes, beyond deprivation)"] = (
            time.perf_counter() - t)
        total = sum(v for k, v in times.items() if "comparison" not in k)
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"run {i + 1}: {len(risk)} OAs ({weights.report()['joins']} joins): {steps}; "
              f"total {total:.2f} s; peak memory so far {peak:.2f} GiB", flush=True)
        runs.append({**times, "total": total})
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median of {repeat}: " + ", ".join(f"{k} {v:.2f} s" for k, v in median.items()))
    plain = [r[k] for r in runs for k in r if "comparison" in k]
    if plain:
        ratios = [r["weights"] / p for r, p in zip(runs, plain, strict=True)]
        print(f"weights / plain Graph.build_contiguity: median {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f}; target <= 1.5)")


if __name__ == "__main__":
    main()
