"""Benchmark: siting on the default world (all candidate sites), p = 5 within 800 m.

    python scripts/bench_siting.py [--from OUT] [--repeat 3]
    python scripts/bench_siting.py --county [--spopt]

Without --from it runs the demo first (to get the model's expected demand per output area).
Prints the solve time of the maximal covering model (target <= 20 s), its coverage against
the two simpler choices, and the time for the fewest sites reaching 50% of demand.

--county generates a county's demand instead (5,666 output areas in 14 towns over 70 x 50
km, as Essex; 1,080 candidate sites near demand) and times the same two choices; --spopt
also times spopt's dense MCLP rebuilt for each number of sites (what geo-risk did before
its sparse model), on the same instance.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pulp
from spopt.locate import MCLP

from geo_risk.siting.plan import (
    Demand,
    _quiet_pulp,
    baselines,
    distance_matrix,
    read_sites,
    site_services,
)


def county(seed: int = 0, areas: int = 5_666, sites: int = 1_080
           ) -> tuple[Demand, gpd.GeoDataFrame]:
    """Demand points in towns of different sizes over 70 x 50 km, candidates near them."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform([0, 0], [70_000, 50_000], (14, 2))
    size = rng.dirichlet(np.full(14, 1.5))
    town = rng.choice(14, size=areas, p=size)
    xy = towns[town] + rng.normal(0, 1_500, (areas, 2)) * (1 + 2 * size[town, None])
    demand = Demand(gpd.GeoDataFrame(
        {"demand": rng.gamma(2.0, 2.0, areas).round(2)},
        geometry=gpd.points_from_xy(xy[:, 0] + 500_000, xy[:, 1] + 150_000), crs=27700,
        index=[f"E{i:08d}" for i in range(areas)]))
    near = xy[rng.choice(areas, sites, replace=False)] + rng.normal(0, 300, (sites, 2))
    candidates = gpd.GeoDataFrame(
        {"name": [f"site {j}" for j in range(sites)]},
        geometry=gpd.points_from_xy(near[:, 0] + 500_000, near[:, 1] + 150_000), crs=27700)
    return demand, candidates


def spopt_fewest(demand: Demand, candidates, target: float, radius: float = 800.0
                 ) -> int:
    """The fewest sites reaching ``target``: spopt's MCLP rebuilt for each p tried."""
    cost = distance_matrix(demand, candidates)
    w, cover = demand.weights, cost <= radius
    lo, hi, found = 1, len(candidates), None
    with _quiet_pulp():
        while lo <= hi:
            k = (lo + hi) // 2
            problem = MCLP.from_cost_matrix(cost, w, service_radius=radius, p_facilities=k)
            problem.solve(pulp.PULP_CBC_CMD(msg=False))
            chosen = [j for j in range(cost.shape[1]) if problem.fac_vars[j].value() > 0.5]
            if w[cover[:, chosen].any(axis=1)].sum() / w.sum() >= target - 1e-9:
                found, hi = k, k - 1
            else:
                lo = k + 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="a finished demo folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--county", action="store_true",
                        help="a generated county's demand and candidates")
    parser.add_argument("--spopt", action="store_true",
                        help="with --county: also spopt's dense MCLP for each p")
    args = parser.parse_args()
    if args.county:
        demand, candidates = county()
        _measure(demand, candidates, args.repeat)
        if args.spopt:
            started = time.perf_counter()
            k = spopt_fewest(demand, candidates, 0.5)
            print(f"spopt dense MCLP rebuilt per p: fewest sites reaching 50%: {k} sites, "
                  f"{time.perf_counter() - started:.1f} s")
        return
    out = args.source
    if out is None:
        from geo_risk.synth.demo import run_demo

        out = Path(tempfile.mkdtemp(prefix="bench_siting_"))
        started = time.perf_counter()
        run_demo(out)
        print(f"demo run: {time.perf_counter() - started:.1f} s -> {out}")
    demand = Demand(gpd.read_parquet(out / "work/oa_demand.parquet"))
    candidates = read_sites(out / "synth/sites/candidates.csv")
    _measure(demand, candidates, args.repeat)


def _measure(demand: Demand, candidates, repeat: int) -> None:
    print(f"{len(demand.points)} demand points, {len(candidates)} candidate sites, "
          f"expected demand {demand.weights.sum():.0f}")
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = site_services(demand, candidates, p=5)
        times.append(time.perf_counter() - started)
    simple = baselines(demand, candidates, p=5)
    print(f"MCLP p=5, 800 m: {statistics.median(times):.2f} s median of {repeat} "
          f"(status {result.status}; solver {result.seconds:.2f} s in the last); coverage "
          f"{result.coverage:.3f} vs highest local demand {simple['highest_local_demand']:.3f} "
          f"(+{result.coverage - simple['highest_local_demand']:.3f}) and random "
          f"{simple['random_mean']:.3f} (+{result.coverage - simple['random_mean']:.3f})")
    started = time.perf_counter()
    target = site_services(demand, candidates, coverage=0.5)
    print(f"fewest sites reaching 50%: {len(target.chosen)} sites, coverage "
          f"{target.coverage:.3f}, {time.perf_counter() - started:.2f} s (status "
          f"{target.status}" + "".join(f"; {n}" for n in target.notes) + ")")


if __name__ == "__main__":
    main()
