"""Assemble a synthetic world and write it: ``DIR/extracts/``, ``DIR/truth/``, manifest.

``extracts/`` holds the nine partner extracts as partners would export them (raw
synthetic identifiers); ``sites/`` candidate and existing service sites (public
buildings, :mod:`geo_risk.synth.sites`). ``truth/`` holds what the pipeline must never read and
evaluation compares against:

- ``children.parquet``: every registered child, its household and OA, and for labelled
  children the true risk at age four and the drawn outcome (``gld``);
- ``child_risk.parquet``: true probability of not reaching GLD per child aged 0-4 per
  refresh (``refresh``, ``refresh_date``, ``p_not_gld``);
- ``households.parquet``: every household's latent traits and OA;
- ``planted_hotspots.csv``: the planted hotspots' OAs and the emerging hot spot
  categories each is meant to show;
- ``defects.csv``: every defect ``--messy`` planted (see :mod:`geo_risk.synth.messy`).

The same seed and inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.special import expit

from geo_risk import __version__
from geo_risk import columns as C
from geo_risk._errors import BoundaryError, GeoRiskError
from geo_risk.cores import local_map
from geo_risk.geography import DEFAULT_BOUNDARIES, BoundaryFiles, load_boundaries
from geo_risk.model.outcomes import DEFAULT_OUTCOME, get_outcome
from geo_risk.synth.escalation import Escalation, draw_escalation
from geo_risk.synth.extracts import make_extracts
from geo_risk.synth.messy import DEFECT_COLUMNS, FileFormat, clean_formats, make_messy
from geo_risk.synth.population import Population, Timeline, make_population, plant_hotspots
from geo_risk.synth.scenarios import SCENARIOS, Scenario
from geo_risk.synth.sites import make_sites

__all__ = ["World", "make_world", "write_world"]

log = logging.getLogger(__name__)


@dataclass
class World:
    """A synthetic world: the geography, the extracts and the truth behind them."""

    seed: int
    oas: gpd.GeoDataFrame
    population: Population
    extracts: dict[str, pd.DataFrame]
    formats: dict[str, FileFormat]
    children: pd.DataFrame
    child_risk: pd.DataFrame
    defects: pd.DataFrame
    source: dict[str, str] = field(default_factory=dict)
    candidate_sites: gpd.GeoDataFrame | None = None  # public buildings (synth.sites)
    existing_sites: gpd.GeoDataFrame | None = None
    #: Domestic abuse escalation's truth, for a world made for that outcome
    #: (:mod:`geo_risk.synth.escalation`); its extracts are among ``extracts``.
    escalation: Escalation | None = None


def _synthetic_deprivation(oas: gpd.GeoDataFrame, seed: int) -> np.ndarray:
    """A smooth random deprivation surface in [0.05, 0.95] when no IMD table is given."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDE9]))
    c = oas.geometry.centroid
    xy = np.column_stack([c.x, c.y])
    centres = xy[rng.choice(len(xy), 6, replace=False)]
    weights = rng.uniform(-1, 1, 6)
    field_ = sum(w * np.exp(-((xy - p) ** 2).sum(1) / (2 * 2_000.0**2))
                 for w, p in zip(weights, centres, strict=True))
    field_ = (field_ - field_.min()) / (np.ptp(field_) or 1.0)
    return 0.05 + 0.9 * field_


def make_world(
    files: BoundaryFiles = DEFAULT_BOUNDARIES,
    *,
    seed: int = 1,
    periods: int | None = None,
    messy: bool = False,
    hotspot_wards: dict[str, str] | None = None,
    scenario: str | Scenario = "default",
    outcome: str = DEFAULT_OUTCOME,
) -> World:
    """Generate a synthetic world on the given boundaries (default: the embedded town).

    Parameters
    ----------
    files
        OA boundaries, lookup and optional IMD (see :func:`load_boundaries`). Without
        IMD, a smooth random deprivation surface stands in.
    seed
        Seed of every random draw; the same seed gives the same world.
    periods
        Number of quarterly refreshes from 2014Q1 (the scenario's, 16 by default).
    messy
        Plant realistic defects in the extracts (recorded in ``defects``).
    hotspot_wards
        Ward names hosting the planted hotspots (see :mod:`geo_risk.synth.population`).
    scenario
        What the world makes the model and hotspot method cope with: a name in
        :data:`~geo_risk.synth.population.SCENARIOS` or a
        :class:`~geo_risk.synth.population.Scenario`.
    outcome
        The outcome the world is made for (:mod:`geo_risk.outcomes`). For domestic abuse,
        the police extract gains DASH grades and references, a MARAC extract is drawn and
        the truth holds each household's chance of escalation
        (:mod:`geo_risk.synth.escalation`); school readiness's world is unchanged.

    Examples
    --------
    >>> world = make_world(seed=1, periods=4)
    >>> sorted(world.extracts)[:3]
    ['addresses', 'benefits', 'child_register']
    """
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise GeoRiskError(f"unknown scenario {scenario!r}; use one of: "
                               f"{', '.join(SCENARIOS)}.")
        scenario = SCENARIOS[scenario]
    periods = scenario.periods if periods is None else periods
    if periods < 2:
        raise GeoRiskError(f"periods must be at least 2 (got {periods}): trends need two "
                           "refreshes")
    oas = load_boundaries(files)
    wards = oas[C.WARD_NAME].nunique()
    if wards < 3:
        raise BoundaryError(
            f"{files.lookup}: {wards} ward(s); the synthetic world plants its emerging, "
            "persistent and diminishing hotspots in three different wards, so give "
            "boundaries with at least three wards.")
    if C.DEPRIVATION not in oas:
        oas[C.DEPRIVATION] = _synthetic_deprivation(oas, seed)
    timeline = Timeline(periods=periods)
    candidates, existing = make_sites(oas, plant_hotspots(oas, hotspot_wards, scenario),
                                      seed=seed)
    centres = np.column_stack([existing.geometry.x, existing.geometry.y])
    pop = make_population(oas, seed=seed, timeline=timeline, hotspot_wards=hotspot_wards,
                          service_points=centres, scenario=scenario)
    extracts, children = make_extracts(pop, oas[C.WARD_NAME], seed=seed)
    escalation = None
    if get_outcome(outcome).name.startswith("domestic_abuse"):
        escalation = draw_escalation(pop, oas, extracts["police"], seed=seed)
        extracts["police"], extracts["marac"] = escalation.police, escalation.marac
        del extracts["school_readiness"]  # not this outcome's: a partnership would not send it
    formats = clean_formats(extracts)
    defects = pd.DataFrame(columns=DEFECT_COLUMNS)
    if messy:
        extracts, formats, defects = make_messy(extracts, seed=seed)
    return World(
        seed=seed, oas=oas, population=pop, extracts=extracts, formats=formats,
        children=children, child_risk=_child_risk(pop, children), defects=defects,
        source={k: str(v) for k, v in vars(files).items() if v is not None},
        candidate_sites=candidates, existing_sites=existing, escalation=escalation,
    )


def _child_risk(pop: Population, children: pd.DataFrame) -> pd.DataFrame:
    """True risk of every child aged 0-4 at every refresh."""
    tl = pop.timeline
    dob = pop.children["date_of_birth"].to_numpy()
    frames = []
    for r, (q, date) in enumerate(zip(tl.refresh_quarters, tl.refresh_dates, strict=True)):
        fifth = (dob.astype("datetime64[M]") + np.timedelta64(60, "M")).astype("datetime64[D]")
        rows = np.flatnonzero((dob <= date) & (fifth > date))
        frames.append(pd.DataFrame({
            "child_id": children["child_id"].to_numpy()[rows],
            "uprn": children["uprn"].to_numpy()[rows],
            C.OA: children[C.OA].to_numpy()[rows],
            "refresh": np.int16(r), "refresh_date": date,
            "p_not_gld": expit(pop.logit(rows, np.full(len(rows), q))),
        }))
    return pd.concat(frames, ignore_index=True)


def write_world(world: World, out: Path) -> dict:
    """Write the extracts, truth and ``manifest.json`` under ``out``; return the manifest."""
    out = Path(out)
    (out / "extracts").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    def write(name: str) -> None:
        world.extracts[name].to_csv(out / "extracts" / f"{name}.csv", index=False,
                                    **world.formats[name])

    local_map(write, list(world.extracts))
    files: dict[str, dict] = {
        f"extracts/{name}.csv": {"rows": len(table), **dict(world.formats[name])}
        for name, table in world.extracts.items()}

    pop = world.population
    truth = {
        "truth/children.parquet": world.children,
        "truth/child_risk.parquet": world.child_risk,
        "truth/households.parquet": pop.households,
    }
    if world.escalation is not None:
        truth["truth/escalation_risk.parquet"] = world.escalation.risk
        truth["truth/escalation_planted.parquet"] = world.escalation.planted
    for rel, table in truth.items():
        table.to_parquet(out / rel, index=False)
        files[rel] = {"rows": len(table)}
    world.population.planted.to_csv(out / "truth/planted_hotspots.csv", index=False)
    world.defects.to_csv(out / "truth/defects.csv", index=False)
    files["truth/planted_hotspots.csv"] = {"rows": len(pop.planted)}
    files["truth/defects.csv"] = {"rows": len(world.defects)}
    if world.candidate_sites is not None:
        (out / "sites").mkdir(exist_ok=True)
        for name, sites in [("candidates", world.candidate_sites),
                            ("existing", world.existing_sites)]:
            sites.drop(columns="geometry").to_csv(out / f"sites/{name}.csv", index=False)
            files[f"sites/{name}.csv"] = {"rows": len(sites)}
    for rel, info in files.items():
        info["sha256"] = hashlib.sha256((out / rel).read_bytes()).hexdigest()

    tl = pop.timeline
    manifest = {
        "generator": f"geo-risk {__version__}",
        "seed": world.seed,
        "scenario": vars(pop.scenario),
        "messy": bool(len(world.defects)),
        "boundaries": world.source,
        "refresh_dates": [str(d) for d in tl.refresh_dates],
        "history_from": str(tl.quarter_start(0)),
        "intercept": round(pop.beta0, 6),
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log.info("wrote synthetic world to %s", out)
    return manifest
