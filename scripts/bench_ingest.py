"""Benchmark: peak memory and time to pseudonymise a large partner extract (target: peak
<= 3x the file's size).

    python scripts/bench_ingest.py [--rows 2000000] [--repeat 3] [--keep DIR]

Writes a housing extract of ``--rows`` rows (UPRN, postcode, UK or ISO date, event type;
about 1% defects and 1% exact duplicates, as partners' files have), then runs
``python -m geo_risk pseudonymise`` on it ``--repeat`` times, each in a fresh process,
and prints the wall time and the peak resident memory of that process (the operating
system's own figure), with the median, and the peak as a multiple of the file's size.
``--rows 20000000`` makes a file of about 1 GB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EVENTS = ["homelessness application", "temporary accommodation", "rent arrears",
          "overcrowding", "asb complaint"]


def write_extract(path: Path, rows: int, seed: int = 0) -> None:
    """A housing extract written in blocks (the benchmark itself stays small)."""
    rng = np.random.default_rng(seed)
    block = 500_000
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("uprn,postcode,event_date,event_type\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            uprn = rng.integers(100_000_000_000, 100_000_900_000, n).astype(str)
            bad = rng.random(n) < 0.01
            uprn = np.where(bad, "1.00009E+11", uprn)
            day = rng.integers(0, 3650, n)
            dates = (np.datetime64("2010-01-01") + day).astype(str)
            uk = rng.random(n) < 0.5
            dates = np.where(uk, [f"{d[8:10]}/{d[5:7]}/{d[:4]}" for d in dates], dates)
            events = np.asarray(EVENTS)[rng.integers(0, len(EVENTS), n)]
            lines = [f"{u},SS14 1AA,{d},{e}\n" for u, d, e in zip(uprn, dates, events,
                                                                  strict=True)]
            repeat = rng.random(n) < 0.01  # exact copies of the row before
            lines = [lines[i - 1] if repeat[i] and i else line for i, line in enumerate(lines)]
            f.writelines(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the extract and outputs here")
    parser.add_argument("--write-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only:
        write_extract(args.write_only, args.rows)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    folder.mkdir(parents=True, exist_ok=True)
    extract = folder / "housing.csv"
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--write-only",
                    str(extract)], check=True)  # in a child: this process stays small
    size = extract.stat().st_size
    print(f"extract: {args.rows:,} rows, {size / 1e6:.1f} MB "
          f"(written in {time.perf_counter() - started:.1f} s)")
    key = folder / "bench.key"
    if not key.exists():
        subprocess.run([sys.executable, "-m", "geo_risk", "keygen", str(key)], check=True,
                       capture_output=True)
    walls, peaks = [], []
    for i in range(args.repeat):
        out = folder / f"housing{i}.parquet"
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "geo_risk", "pseudonymise",
                                  "--key-file", str(key), "--source", "housing", str(extract),
                                  str(out)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own accounting
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if child.returncode:
            sys.exit(f"pseudonymise failed with exit code {child.returncode}")
        peak = usage.ru_maxrss * 1024  # kilobytes on Linux
        walls.append(wall)
        peaks.append(peak)
        print(f"run {i + 1}: {wall:.1f} s, {args.rows / wall:,.0f} rows/s, peak "
              f"{peak / 1e6:.0f} MB = {peak / size:.2f}x the file")
    print(f"median: {statistics.median(walls):.1f} s, peak {statistics.median(peaks) / 1e6:.0f} "
          f"MB = {statistics.median(peaks) / size:.2f}x the file's {size / 1e6:.0f} MB "
          "(target <= 3x)")


if __name__ == "__main__":
    main()
