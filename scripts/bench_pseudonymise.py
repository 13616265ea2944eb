"""Benchmark: identifiers pseudonymised per second (target >= 1,000,000/s here).

    python scripts/bench_pseudonymise.py [--n 2000000] [--repeat 3] [--workers 2]

Times HMAC-SHA256 pseudonymisation of ``--n`` distinct 12-digit UPRNs (every one hashed:
no repeats to deduplicate), with one process and with ``--workers`` processes, and
prints identifiers per second for each repeat.
"""

from __future__ import annotations

import argparse
import secrets
import time

import pandas as pd

from geo_risk.pseudonymise import Key, pseudonymise_series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    key = Key(secrets.token_bytes(32))
    uprns = pd.Series([str(900_000_000_000 + 7 * i) for i in range(args.n)])
    import geo_risk.pseudonymise as p

    for workers in sorted({1, args.workers}):
        for i in range(args.repeat):
            p._PARALLEL_FROM = 1 if workers > 1 else 10**12
            t0 = time.perf_counter()
            out = pseudonymise_series(uprns, key, "uprn")
            seconds = time.perf_counter() - t0
            assert out.nunique() == args.n
            print(f"workers={workers} run {i + 1}: {args.n:,} distinct UPRNs in {seconds:.2f} s "
                  f"= {args.n / seconds:,.0f} identifiers/s")


if __name__ == "__main__":
    main()
