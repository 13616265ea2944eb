"""Benchmark: siting on the default world (all candidate sites), p = 5 within 800 m.

    python scripts/bench_siting.py [--from OUT] [--repeat 3]

Without --from it runs the demo first (to get the model's expected demand per output area).
Prints the solve time of the maximal covering model (target <= 20 s), its coverage against
the two simpler choices, and the time for the fewest sites reaching 50% of demand.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd

from geo_risk.siting import Demand, baselines, read_sites, site_services


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="a finished demo folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    out = args.source
    if out is None:
        from geo_risk.synth.demo import run_demo

        out = Path(tempfile.mkdtemp(prefix="bench_siting_"))
        started = time.perf_counter()
        run_demo(out)
        print(f"demo run: {time.perf_counter() - started:.1f} s -> {out}")
    demand = Demand(gpd.read_parquet(out / "work/oa_demand.parquet"))
    candidates = read_sites(out / "synth/sites/candidates.csv")
    print(f"{len(demand.points)} demand points, {len(candidates)} candidate sites, "
          f"expected demand {demand.weights.sum():.0f}")
    times, result = [], None
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = site_services(demand, candidates, p=5)
        times.append(time.perf_counter() - started)
    simple = baselines(demand, candidates, p=5)
    print(f"MCLP p=5, 800 m: {statistics.median(times):.2f} s median of {args.repeat} "
          f"(status {result.status}; solver {result.seconds:.2f} s in the last); coverage "
          f"{result.coverage:.3f} vs highest local demand {simple['highest_local_demand']:.3f} "
          f"(+{result.coverage - simple['highest_local_demand']:.3f}) and random "
          f"{simple['random_mean']:.3f} (+{result.coverage - simple['random_mean']:.3f})")
    started = time.perf_counter()
    target = site_services(demand, candidates, coverage=0.5)
    print(f"fewest sites reaching 50%: {len(target.chosen)} sites, coverage "
          f"{target.coverage:.3f}, {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
