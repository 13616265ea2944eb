"""The whole run, stage after stage; ``geo-risk demo`` on the embedded synthetic town.

Each stage is called through its public function; this module only wires them and
records headline figures in ``OUT/run.json``. Later stages (linkage, model, hotspots,
outputs, siting) join here as they are built.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from geo_risk import __version__
from geo_risk.boundaries import DEFAULT_BOUNDARIES
from geo_risk.synth.checks import describe_world
from geo_risk.synth.world import make_world, write_world

__all__ = ["run_demo"]

log = logging.getLogger(__name__)


def run_demo(out: Path, *, seed: int = 1, periods: int = 16) -> dict:
    """Run everything built so far on the embedded synthetic town.

    Writes the synthetic world under ``out/synth/`` (extracts and truth) and
    ``out/run.json`` with the world's figures. Returns the contents of ``run.json``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    world = make_world(DEFAULT_BOUNDARIES, seed=seed, periods=periods)
    write_world(world, out / "synth")
    summary = {
        "geo_risk": __version__,
        "seed": seed,
        "reference_date": str(world.population.timeline.end),
        "synth": describe_world(world),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("demo finished in %.1f s", summary["seconds"])
    return summary
