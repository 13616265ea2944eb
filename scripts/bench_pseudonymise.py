"""Benchmark: identifiers pseudonymised per second (target >= 1,000,000/s here).

    python scripts/bench_pseudonymise.py [--n 2000000] [--repeat 3] [--workers 2]

Times HMAC-SHA256 pseudonymisation of ``--n`` distinct 12-digit UPRNs (every one hashed:
no repeats to deduplicate, the worst case), with one process and with ``--workers``
processes, and prints identifiers per second for each repeat. Then times the identifier
columns of the default synthetic world's nine extracts, where identifiers repeat (a
household has many records) and each distinct one is hashed once.
"""

from __future__ import annotations

import argparse
import secrets
import time

import pandas as pd

from geo_risk.inputs.pseudonymise import Key, pseudonymise_series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    key = Key(secrets.token_bytes(32))
    uprns = pd.Series([str(900_000_000_000 + 7 * i) for i in range(args.n)])
    import geo_risk.inputs.pseudonymise as p

    for workers in sorted({1, args.workers}):
        for i in range(args.repeat):
            p._PARALLEL_FROM = 1 if workers > 1 else 10**12
            t0 = time.perf_counter()
            out = pseudonymise_series(uprns, key, "uprn")
            seconds = time.perf_counter() - t0
            assert out.nunique() == args.n
            print(f"workers={workers} run {i + 1}: {args.n:,} distinct UPRNs in {seconds:.2f} s "
                  f"= {args.n / seconds:,.0f} identifiers/s")

    from geo_risk.inputs.schemas import SOURCES
    from geo_risk.synth.world import make_world

    world = make_world(seed=1)
    cells, distinct, seconds = 0, 0, 0.0
    for name, table in world.extracts.items():
        for column, spec in SOURCES[name].columns.items():
            if spec.kind in {"uprn", "nhs", "person", "reference"}:
                values = table[column]
                t0 = time.perf_counter()
                pseudonymise_series(values, key, spec.kind)
                seconds += time.perf_counter() - t0
                cells += len(values)
                distinct += values.nunique()
    print(f"default world extracts: {cells:,} identifier values ({distinct:,} distinct) in "
          f"{seconds:.2f} s = {cells / seconds:,.0f} identifier values/s")


if __name__ == "__main__":
    main()
