"""Benchmark: weights + Moran + LISA + Gi* + emerging hot spots over the refreshes.

    python scripts/bench_hotspots.py [--repeat 3] [--basildon]

Input: each output area's mean true risk of its under-fives at each of the 16 refreshes
of the default synthetic world (or of the world on the real Basildon boundaries from
../shared with --basildon); emerging hot spots of risk beyond deprivation, as a run does.
Prints seconds per step; the target is <= 10 s in all for ~570 OAs. No step compiles code
at run time (numba is not used), so there is no one-off JIT cost to report separately.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from geo_risk import columns as C
from geo_risk.boundaries import BoundaryFiles
from geo_risk.hotspots import (
    beyond_deprivation,
    build_weights,
    emerging_hotspots,
    getis_ord_star,
    global_moran,
    local_moran,
)
from geo_risk.synth.world import make_world

BASILDON = Path(__file__).resolve().parents[2] / "shared/data/basildon"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--basildon", action="store_true")
    args = parser.parse_args()
    if args.basildon:
        world = make_world(BoundaryFiles(BASILDON / "oa11_basildon.geojson",
                                         BASILDON / "oa11_lookup_basildon.csv",
                                         BASILDON / "imd2019_lsoa11_basildon.csv"), seed=1)
    else:
        world = make_world(seed=1)
    risk = world.child_risk.pivot_table(index=C.OA, columns="refresh", values="p_not_gld",
                                        aggfunc="mean").reindex(world.oas.index)
    risk = risk.fillna(risk.mean())
    for i in range(args.repeat):
        times = {}
        t = time.perf_counter()
        weights = build_weights(world.oas)
        times["weights"] = time.perf_counter() - t
        last = risk.iloc[:, -1]
        t = time.perf_counter()
        global_moran(last, weights)
        times["moran"] = time.perf_counter() - t
        t = time.perf_counter()
        local_moran(last, weights, permutations=9999, seed=1)
        times["lisa (9,999 permutations)"] = time.perf_counter() - t
        t = time.perf_counter()
        getis_ord_star(last, weights)
        times["gi*"] = time.perf_counter() - t
        t = time.perf_counter()
        emerging_hotspots(beyond_deprivation(risk, world.oas[C.DEPRIVATION]), weights)
        times[f"emerging hot spots ({risk.shape[1]} refreshes, beyond deprivation)"] = (
            time.perf_counter() - t)
        total = sum(times.values())
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
        print(f"run {i + 1}: {len(risk)} OAs: {steps}; total {total:.2f} s")


if __name__ == "__main__":
    main()
