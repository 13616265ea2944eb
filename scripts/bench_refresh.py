"""Benchmark: the hotspot series (each refresh's under-fives described and scored).

    python scripts/bench_refresh.py [--repeat 3] [--refreshes 16] [--basildon]

Builds the default world (or Basildon's, from ../shared), pseudonymises, links and fits
the model once (not timed), then times, for the run's quarterly refreshes:

- ``one pass``: :func:`geo_risk.areas.risk_by_refresh` as a run does it, every
  refresh's children described together (``features.current_children``);
- ``per refresh``: the earlier way, the whole feature tables (labelled children
  included) rebuilt for each refresh and their current children scored.

Prints each run's seconds and the median of each, and checks the two give the same risk.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.areas import risk_by_refresh
from geo_risk.config import quarterly_refreshes
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles
from geo_risk.model.estimator import RiskModel, feature_columns
from geo_risk.model.features import build_feature_tables
from geo_risk.run.inputs import pseudonymise_folder, run_link
from geo_risk.synth.demo import demo_key
from geo_risk.synth.world import make_world, write_world

BASILDON = Path(__file__).resolve().parents[1] / "../shared/data/basildon"


def per_refresh(linked, dates, model) -> pd.DataFrame:
    means = {}
    for date in dates:
        children = build_feature_tables(linked, date).children
        current = children[children["role"] == "current"]
        p = pd.Series(model.predict_proba(current)[:, 1])
        means[str(pd.Timestamp(date).date())] = p.groupby(current[C.OA].to_numpy()).mean()
    return pd.DataFrame(means)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--refreshes", type=int, default=16)
    parser.add_argument("--basildon", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    files = DEFAULT_BOUNDARIES
    if args.basildon:
        files = BoundaryFiles(BASILDON / "oa11_basildon.geojson",
                              BASILDON / "oa11_lookup_basildon.csv",
                              BASILDON / "imd2019_lsoa11_basildon.csv")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        world = make_world(files, seed=1)
        write_world(world, out / "synth")
        pseudonymise_folder(out / "synth/extracts", demo_key(1), out / "pseudo")
        end = str(world.population.timeline.end)
        tables, linked = run_link(out / "pseudo", out / "link", reference_date=end,
                                  files=files)
        labelled = tables.children[tables.children["role"] == "labelled"]
        features = feature_columns(tables.children)
        model = RiskModel(random_state=1).fit(labelled[features],
                                              labelled["not_gld"].astype(bool))
        dates = quarterly_refreshes(end, args.refreshes)
        times: dict[str, list[float]] = {"one pass": [], "per refresh": []}
        for i in range(args.repeat):
            t0 = time.perf_counter()
            together = risk_by_refresh(linked, dates, model).mean
            times["one pass"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            alone = per_refresh(linked, dates, model)
            times["per refresh"].append(time.perf_counter() - t0)
            same = np.allclose(together.to_numpy(float), alone.reindex(together.index)
                               .to_numpy(float), equal_nan=True)
            print(f"run {i + 1}: one pass {times['one pass'][-1]:.1f} s, per refresh "
                  f"{times['per refresh'][-1]:.1f} s ({len(dates)} refreshes, "
                  f"{len(together)} OAs; same risk: {same})")
        a, b = (statistics.median(times[k]) for k in ["one pass", "per refresh"])
        print(f"median: one pass {a:.1f} s, per refresh {b:.1f} s ({b / a:.1f}x)")


if __name__ == "__main__":
    main()
