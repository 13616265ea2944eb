"""Benchmark: training + validation + scoring time for the default synthetic world.

    python scripts/bench_model.py [--repeat 2] [--beside]

Builds the default world (seed 1), pseudonymises and links it once (not timed), then
times the model stage (temporal validation with two baselines, final fit, scoring,
flags, reasons, fairness audit, model card) and prints seconds. Target: <= 30 s here.

``--beside`` times it with a busy neighbour: another process fitting the same model
over and over, as a second run on the same machine would. With OpenMP's waiting threads
spinning (``OMP_WAIT_POLICY=ACTIVE``; geo-risk sets ``PASSIVE`` unless told otherwise)
each waits on the other's threads.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path

from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES
from geo_risk.run.folder import RunFolder
from geo_risk.run.inputs import pseudonymise_folder, run_link
from geo_risk.run.pipeline import run_model
from geo_risk.synth.demo import demo_key
from geo_risk.synth.world import make_world, write_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--beside", action="store_true",
                        help="time it beside another process fitting the same model")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        world = make_world(seed=1)
        write_world(world, out / "synth")
        pseudonymise_folder(out / "synth/extracts", demo_key(1), out / "pseudo")
        tables, _ = run_link(out / "pseudo", out / "link",
                             reference_date=str(world.population.timeline.end),
                             files=DEFAULT_BOUNDARIES)
        labelled = int((tables.children["role"] == "labelled").sum())
        current = int((tables.children["role"] == "current").sum())
        neighbour = None
        if args.beside:
            neighbour = multiprocessing.get_context("fork").Process(
                target=_fit_forever, args=(tables,), daemon=True)
            neighbour.start()
        for i in range(args.repeat):
            t0 = time.perf_counter()
            result = run_model(tables, RunFolder(out / f"run{i}"), random_state=1)
            seconds = time.perf_counter() - t0
            print(f"run {i + 1}: model stage {seconds:.2f} s ({labelled:,} labelled children "
                  f"for training, {current:,} children and "
                  f"{result.summary['households_scored']:,} households scored)"
                  + (" beside a process fitting the same model" if neighbour else ""))
        if neighbour is not None:
            neighbour.terminate()


def _fit_forever(tables) -> None:
    from geo_risk.columns import HOUSEHOLD
    from geo_risk.model.estimator import RiskModel, feature_columns
    from geo_risk.model.features import LABEL

    labelled = tables.children[tables.children["role"] == "labelled"]
    features = feature_columns(tables.children)
    while True:
        RiskModel().fit(labelled[features], labelled[LABEL].astype(bool),
                        groups=labelled[HOUSEHOLD])


if __name__ == "__main__":
    main()
