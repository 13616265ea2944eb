"""``geo-risk demo``: the whole run on a synthetic world, scored against its truth.

The demo sits above the run: it writes a synthetic world into the run's staging folder
(``synth/``), runs :func:`geo_risk.run.pipeline.run_into` on its extracts with a key
anyone can derive from the seed (:func:`demo_key`, for synthetic data only), and then
scores what the run found against the world's truth: the model beside the oracle (the
true probabilities) and the recovery of the planted hotspots. The evaluation goes to
``synth/evaluation.json``; nothing in the production path reads the truth.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from geo_risk import columns as C
from geo_risk.areas import build_weights
from geo_risk.config import RunSettings
from geo_risk.cores import give_back_memory
from geo_risk.geography import DEFAULT_BOUNDARIES, BoundaryFiles
from geo_risk.inputs import DaskSettings, Key
from geo_risk.model.outcomes import DEFAULT_OUTCOME, Outcome, get_outcome
from geo_risk.run.folder import RunFolder, staged
from geo_risk.run.pipeline import read_feature_tables, run_into
from geo_risk.siting import SitingSettings
from geo_risk.synth.checks import (
    describe_world,
    early_warning,
    escalation_ceiling,
    escalation_figures,
    hotspot_recovery,
    oracle_figures,
    planted_recovery,
    records_ceiling,
    recovery_on_series,
    recovery_on_truth,
    true_series,
)
from geo_risk.synth.community import consultation, write_consultation
from geo_risk.synth.world import make_world, write_world

__all__ = ["REAL_BOUNDARY_ATTRIBUTION", "SYNTHETIC_ATTRIBUTION", "demo_key",
           "run_demo"]

log = logging.getLogger(__name__)

SYNTHETIC_ATTRIBUTION = ("Synthetic town: boundaries, deprivation and households generated "
                         "by geo-risk")

#: Credit line for real ONS boundaries with IMD 2019 (synthetic households on them).
REAL_BOUNDARY_ATTRIBUTION = (
    "Contains Ordnance Survey and Office for National Statistics data © Crown copyright and "
    "database right, Open Government Licence v3.0; English Indices of Deprivation 2019, "
    "MHCLG, Open Government Licence v3.0; households synthetic")


def demo_key(seed: int) -> Key:
    """A key derived from a seed, for the synthetic demo only: anyone can derive it, so
    it must never pseudonymise real data. It keeps the demo deterministic."""
    return Key(hashlib.sha256(f"geo-risk synthetic demo key {seed}".encode()).digest())


def evaluation_path(folder: RunFolder) -> Path:
    return folder.synth / "evaluation.json"


def area_title(districts) -> str:
    """The whole area a geography covers, for titles: its district, or all of them.

    >>> area_title(["Basildon"] * 3)
    'Basildon'
    >>> area_title(["Basildon", "Castle Point", "Basildon"])
    'Basildon and Castle Point'
    >>> area_title(["A", "B", "C", "D", "E"])
    '5 districts (A, B, C, D and E)'
    """
    names = list(dict.fromkeys(str(d) for d in districts if str(d).strip()))
    if not names:
        return "District"
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return listed if len(names) <= 3 else f"{len(names)} districts ({listed})"


def _early_warning(folder: RunFolder, world, series: dict[str, pd.DataFrame], method: dict,
                   planted: pd.DataFrame) -> dict:
    """How soon the run's method sees the ``planted`` rise, replayed refresh by refresh on
    the run's series and on each of ``series`` (the records ceiling's, the truth's)
    (:func:`~geo_risk.synth.checks.early_warning`)."""
    run = pd.read_parquet(folder.risk_by_refresh)
    known = pd.read_parquet(folder.current_risk)["known_share"]
    common = {"rise_from": world.population.scenario.rise_from, "known_share": known,
              **{k: v for k, v in method.items() if k != "draws"}}
    return {name: early_warning(planted, world.oas, s, **common)
            for name, s in [("run", run), *series.items()]}


def _settings(folder: RunFolder, world, seed: int, files: BoundaryFiles,
              dask: DaskSettings | None, outcome: str = DEFAULT_OUTCOME) -> RunSettings:
    """The demo's run settings on ``world``, with its consultation
    (:mod:`geo_risk.synth.community`) as what the community says."""
    timeline = world.population.timeline
    planted = (world.escalation.planted if world.escalation is not None
               else world.population.planted).set_index(C.OA)
    said = write_consultation(folder.synth / "community/consultation.csv", consultation(
        world.oas, planted, str(timeline.end), seed))
    area = area_title(world.oas[C.LAD_NAME]) if C.LAD_NAME in world.oas else "District"
    return RunSettings(
        reference_date=str(timeline.end),
        refresh_dates=[str(d) for d in timeline.refresh_dates],
        area_name=str(area), files=files,
        attribution=SYNTHETIC_ATTRIBUTION if files == DEFAULT_BOUNDARIES
        else REAL_BOUNDARY_ATTRIBUTION, synthetic=True, random_state=seed,
        siting=SitingSettings(candidates=folder.synth / "sites/candidates.csv",
                              existing=folder.synth / "sites/existing.csv", p=5),
        dask=dask, outcome=outcome, community=said)


def _household_demo(folder: RunFolder, world, seed: int, files: BoundaryFiles,
                    dask: DaskSettings | None, outcome: Outcome, started: float,
                    scenario: str, ceiling: bool) -> dict:
    """The demo of an outcome that scores households: the run, the model beside the
    oracle, the recovery of the outcome's planted hotspots; with ``ceiling``, the records
    ceiling, the same hot spot method on its series and the early-warning replay."""
    settings = _settings(folder, world, seed, files, dask, outcome.name)
    record, model_run, linked = run_into(folder, folder.synth / "extracts", demo_key(seed),
                                         settings)
    assert world.escalation is not None, "a world made for a household outcome"
    planted = world.escalation.planted
    found = pd.read_csv(folder.areas / "oa_hotspots.csv", index_col=0)
    evaluation: dict[str, Any] = {
        "seed": seed, "scenario": scenario, "outcome": outcome.name,
        "model": escalation_figures(world, demo_key(seed), model_run, outcome.name),
        "planted_recovery": hotspot_recovery(planted, found, build_weights(world.oas))}
    if ceiling:
        method = {"se": pd.read_parquet(folder.risk_se_by_refresh),
                  **record["hotspots"]["settings"]}
        evaluation["records_ceiling"] = escalation_ceiling(
            world, demo_key(seed), read_feature_tables(folder.link), linked,
            settings.refresh_dates, model_run=model_run, outcome=outcome.name)
        series = evaluation["records_ceiling"].pop("series")
        series.to_parquet(folder.synth / "truth/ceiling_risk_by_refresh.parquet")
        evaluation["records_ceiling"]["recovery"] = recovery_on_series(
            world, world.oas, series, planted=planted, **method)
        evaluation["early_warning"] = _early_warning(folder, world, {"ceiling": series},
                                                     method, planted)
    evaluation["seconds"] = round(time.perf_counter() - started, 1)
    evaluation_path(folder).write_text(json.dumps(evaluation, indent=2) + "\n")
    return {**record, "evaluation": evaluation}


def run_demo(out: Path, *, seed: int = 1, periods: int | None = None,
             files: BoundaryFiles = DEFAULT_BOUNDARIES, scenario: str = "default",
             dask: DaskSettings | None = None, ceiling: bool = False,
             outcome: str = DEFAULT_OUTCOME) -> dict:
    """The whole job on a synthetic world (``geo-risk demo``): the embedded town, or
    synthetic households on real boundaries given by ``files``; ``scenario`` names the
    world of the family (:data:`~geo_risk.synth.scenarios.SCENARIOS`); ``dask`` runs the
    household stages on Dask workers (:mod:`geo_risk.inputs.parallel`); ``ceiling`` adds the
    records ceiling to the evaluation (:func:`~geo_risk.synth.checks.records_ceiling`,
    as long again as the run at county size, so asked for by the validity benchmark).
    ``outcome`` is what is predicted (:mod:`geo_risk.outcomes`); a household outcome's
    evaluation is the model beside the oracle
    (:func:`~geo_risk.synth.checks.escalation_figures`).

    ``out/synth/``: the synthetic world (extracts, truth) and ``evaluation.json`` (the
    world's facts, the model's figures beside the oracle's, the planted hotspots'
    recovery); everything else as :func:`geo_risk.run.pipeline.run_pipeline` writes it.
    Returns the run's exact record with the evaluation beside it (``synth``,
    ``evaluation``).
    """
    started = time.perf_counter()
    with staged(out) as folder:
        world = make_world(files, seed=seed, periods=periods, scenario=scenario,
                           outcome=outcome)
        words = get_outcome(outcome)
        write_world(world, folder.synth)
        for name in [n for n in world.extracts if n != "social_care"]:
            del world.extracts[name]  # on disk; the evaluation reads social care alone
        # the true risk of every child at every refresh (a county's: 126 MiB) is on disk
        # too, and read back for the evaluation: the run's processes do not carry it
        risk_types, world.child_risk = world.child_risk.dtypes, None
        give_back_memory()
        if words.unit[0] == "household":
            return _household_demo(folder, world, seed, files, dask, words, started,
                                   scenario, ceiling)
        settings = _settings(folder, world, seed, files, dask)
        record, model_run, linked = run_into(folder, folder.synth / "extracts", demo_key(seed),
                                     settings)
        world.child_risk = pd.read_parquet(folder.synth / "truth/child_risk.parquet").astype(
            risk_types)
        found = pd.read_csv(folder.areas / "oa_hotspots.csv", index_col=0)
        # the truth and the ceiling are scored by the run's method, settings and noise
        method = {"se": pd.read_parquet(folder.risk_se_by_refresh),
                  **record["hotspots"]["settings"]}
        evaluation: dict[str, Any] = {
            "seed": seed,
            "scenario": scenario,
            "synth": describe_world(world),
            "model": oracle_figures(world, demo_key(seed), model_run),
            "planted_recovery": planted_recovery(folder.synth, world.oas, found),
            "planted_recovery_on_truth": recovery_on_truth(
                world, world.oas, settings.refresh_dates, **method),
        }
        if ceiling:
            evaluation["records_ceiling"] = records_ceiling(
                world, demo_key(seed), read_feature_tables(folder.link), linked,
                settings.refresh_dates, world.oas, model_run=model_run)
            # the ceiling's risk series, beside the truth, to score other hot spot settings
            series = evaluation["records_ceiling"].pop("series")
            series.to_parquet(folder.synth / "truth/ceiling_risk_by_refresh.parquet")
            evaluation["records_ceiling"]["recovery"] = recovery_on_series(
                world, world.oas, series, **method)
            evaluation["early_warning"] = _early_warning(
                folder, world, {"ceiling": series,
                                "truth": true_series(world, series.columns)}, method,
                world.population.planted)
        evaluation["seconds"] = round(time.perf_counter() - started, 1)
        evaluation_path(folder).write_text(json.dumps(evaluation, indent=2) + "\n")
    log.info("demo finished in %.1f s", evaluation["seconds"])
    return {**record, "evaluation": evaluation}
