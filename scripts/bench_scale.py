"""Benchmark: the whole demo on generated towns of growing size, stage by stage.

    python scripts/bench_scale.py [--sizes 572 1144 2288] [--seed 1] [--workers 2]

For each size the synthetic town's generator makes a town of that many output areas
(LSOAs of about 5.2 OAs, 16 wards; districts of about 470 OAs, as Essex's are, of whole
wards; its area grows with its OAs, each of the default town's size, so a county-sized
town covers a county), written as real boundary files, and ``geo-risk demo`` runs on it in a fresh
process (so peak memory is that run's process: without ``--workers`` the run also forks
a process per core for the districts and the extracts, which share its pages and whose
own peaks the kernel does not tell apart from it; with ``--workers`` the household
stages run on that many local Dask workers, whose peaks are printed too). Prints, per
size,
households, wall seconds of the world's generation and of each stage of the run
(``run.json``'s ``stage_seconds``) and peak memory; then each stage's growth exponent,
the slope of log seconds on log output areas between the smallest and the largest size
(1 = linear, 2 = quadratic).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile

_ONE = """
import json, resource, sys
from pathlib import Path
from geo_risk import columns as C
from geo_risk.geography.vintage import Vintage
from geo_risk.synth.demo import run_demo
from geo_risk.inputs.parallel import DaskSettings
from geo_risk.synth.town import make_town, with_districts
from geo_risk.synth.vintages import write_geography

n, seed, out, workers = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
oas, imd = make_town(seed=seed, n_oas=n, n_lsoas=max(16, round(n / 5.2)))
oas = with_districts(oas, min(16, max(1, round(n / 470))))
oas = oas.set_index(C.OA).join(imd.set_index(C.LSOA), on=C.LSOA)
files = write_geography(oas, out / "geography", Vintage(), published=True)
summary = run_demo(out / "run", seed=seed, files=files,
                   dask=DaskSettings(workers) if workers else None)
e = summary["evaluation"]
print(json.dumps({"oas": n, "households": e["synth"]["households"],
                  "districts": int(oas[C.LAD].nunique()),
                  "total": e["seconds"], "run": summary["seconds"],
                  "stages": summary["stage_seconds"],
                  "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "workers": summary.get("workers", {}).get("peak_gib", {})}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[572, 1144, 2288])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0,
                        help="local Dask workers for the household stages (0: none)")
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
            done = subprocess.run([sys.executable, "-c", _ONE, str(n), str(args.seed), tmp,
                                   str(args.workers)],
                                  capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"{n} OAs: the demo failed\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["stages"] = {"synth": round(row["total"] - row["run"], 2), **row["stages"]}
        rows.append(row)
        workers = ", ".join(f"{gib:.2f}" for gib in row["workers"].values())
        print(f"{n:>6,} OAs {row['households']:>9,} households, {row['districts']} "
              f"district(s): {row['total']:7.1f} s, peak {row['peak_gib']:.2f} GiB"
              + (f" (workers {workers} GiB)" if workers else "") + "; " + ", ".join(
                  f"{k} {v:.1f}" for k, v in row["stages"].items()), flush=True)
    if len(rows) < 2:
        return
    first, last = rows[0], rows[-1]
    span = math.log(last["oas"] / first["oas"])
    print(f"growth exponent ({first['oas']:,} -> {last['oas']:,} OAs; 1 = linear):")
    for stage in last["stages"]:
        a, b = first["stages"].get(stage, 0.0), last["stages"][stage]
        if a > 0.05 and b > 0.05:
            print(f"  {stage:<13} {math.log(b / a) / span:5.2f}  ({a:.1f} s -> {b:.1f} s)")
    print(f"  {'whole demo':<13} {math.log(last['total'] / first['total']) / span:5.2f}")
    print(f"  {'peak memory':<13} "
          f"{math.log(last['peak_gib'] / first['peak_gib']) / span:5.2f}")


if __name__ == "__main__":
    main()
