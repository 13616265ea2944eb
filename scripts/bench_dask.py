"""Benchmark: the household stages on Dask workers against one process, same world.

    python scripts/bench_dask.py [--oas 2288] [--workers 2] [--seed 1]

A generated town of ``--oas`` output areas in districts of about 470 OAs (as
``bench_scale.py`` makes it) runs ``geo-risk demo`` twice, each in a fresh process: on
this machine (the districts a core each in forked processes, as a run without
``[dask]`` does), and with its household stages (features at the reference date and at every
refresh, refresh scores) on ``--workers`` local Dask workers, one thread each. Prints
each run's wall time, stage seconds and peak memory, each worker's peak memory, and
whether the two runs' household scores, risk by refresh and published tables are equal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_scale import _ONE  # the same world, made the same way


def _run(n: int, seed: int, out: Path, workers: int) -> dict:
    done = subprocess.run([sys.executable, "-c", _ONE, str(n), str(seed), str(out),
                           str(workers)], capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"the demo failed ({workers} workers)\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _same(a: Path, b: Path) -> list[str]:
    """What differs between two runs' scores, refresh risk and published tables."""
    differ = []
    for table in ["restricted/household_scores.parquet", "work/oa_risk_by_refresh.parquet"]:
        if not pd.read_parquet(a / table).equals(pd.read_parquet(b / table)):
            differ.append(table)
    for path in sorted((a / "publish").rglob("*.csv")):
        if path.read_bytes() != (b / path.relative_to(a)).read_bytes():
            differ.append(str(path.relative_to(a)))
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oas", type=int, default=2288)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_dask_") as tmp:
        rows = {}
        for label, workers in [("one process", 0), (f"{args.workers} workers", args.workers)]:
            row = rows[label] = _run(args.oas, args.seed, Path(tmp) / label, workers)
            stages = row["stages"]
            print(f"{label:>12}: {row['oas']:,} OAs, {row['households']:,} households, "
                  f"{row['districts']} districts: demo {row['total']:.1f} s, run "
                  f"{row['run']:.1f} s (link {stages['link']:.1f}, model "
                  f"{stages['model']:.1f}, areas {stages['areas']:.1f}); peak "
                  f"{row['peak_gib']:.2f} GiB", flush=True)
            for address, gib in row["workers"].items():
                print(f"{'':>14}worker {address}: peak {gib:.2f} GiB")
        differ = _same(Path(tmp) / "one process/run", Path(tmp) / f"{args.workers} workers/run")
        print("scores, risk by refresh and published tables: "
              + ("equal" if not differ else "DIFFER: " + ", ".join(differ)))
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
