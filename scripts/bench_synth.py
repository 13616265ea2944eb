"""Benchmark: time to generate and write the default synthetic world.

    python scripts/bench_synth.py [--periods 16] [--messy] [--repeat 1]

Prints measured seconds for generation (geography load, population, extracts, truth)
and for writing, on the embedded town with seed 1. Target: <= 60 s for 16 refreshes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from geo_risk.synth.world import make_world, write_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=16)
    parser.add_argument("--messy", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for i in range(args.repeat):
        t0 = time.perf_counter()
        world = make_world(seed=1, periods=args.periods, messy=args.messy)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            write_world(world, Path(tmp))
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        t2 = time.perf_counter()
        rows = sum(len(t) for t in world.extracts.values())
        print(f"run {i + 1}: periods={args.periods} messy={args.messy} "
              f"generate {t1 - t0:.2f} s, write {t2 - t1:.2f} s, total {t2 - t0:.2f} s "
              f"({rows:,} extract rows, {size / 1e6:.1f} MB on disk)")


if __name__ == "__main__":
    main()
