"""The run: settings, the folder layout, the stages wired in order, and the re-runs.

Nothing here imports :mod:`geo_risk.synth`; the demo (:mod:`geo_risk.synth.demo`) uses the
run.
"""

from geo_risk.run.folder import RunFolder, staged
from geo_risk.run.pipeline import run_pipeline

__all__ = ["RunFolder", "run_pipeline", "staged"]
