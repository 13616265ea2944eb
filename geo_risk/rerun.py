"""Later stages on a finished run: find the hotspots again, or site services, and
publish the result with the rest of the run (``geo-risk hotspots``, ``geo-risk site``).

A finished run keeps what these need in ``OUT/work/`` (unpublished): each OA's risk now
and at each refresh, the demand points, and ``run_state.json`` (boundaries, map context,
disclosure rules, the siting asked for).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_risk._errors import GeoRiskError
from geo_risk.boundaries import BoundaryFiles, load_boundaries
from geo_risk.maps import MapContext
from geo_risk.pipeline import (
    AreaResults,
    RefreshRisk,
    find_hotspots,
    run_publish,
    siting_state,
)
from geo_risk.siting import (
    Demand,
    SitingOutputs,
    SitingSettings,
    plan_sites,
    write_siting_tables,
)

__all__ = ["read_area_results", "run_hotspots", "run_siting"]


def read_area_results(out: Path) -> AreaResults:
    """The areas stage's results as a finished run left them in ``out``."""
    out = Path(out)
    missing = [p for p in ["areas/oa.csv", "areas/oa_hotspots.csv", "run.json",
                           "work/oa_risk_by_refresh.parquet", "work/run_state.json"]
               if not (out / p).is_file()]
    if missing:
        raise GeoRiskError(f"{out}: not a finished geo-risk run (no {', '.join(missing)}); "
                           "pass the --out folder of 'geo-risk run' or 'geo-risk demo'.")
    tables = {level: pd.read_csv(out / f"areas/{level}.csv", index_col=0)
              for level in ["oa", "lsoa", "ward", "district"]}
    hotspots = pd.read_csv(out / "areas/oa_hotspots.csv", index_col=0, keep_default_na=False)
    for column in ["p_sim", "gi_z", "trend_tau", "trend_p"]:
        hotspots[column] = pd.to_numeric(hotspots[column], errors="coerce")
    refreshes = RefreshRisk(pd.read_parquet(out / "work/oa_risk_by_refresh.parquet"),
                            pd.read_parquet(out / "work/oa_children_by_refresh.parquet"))
    summary = json.loads((out / "run.json").read_text())
    release = pd.read_csv(out / "areas/release_log.csv")
    return AreaResults(tables, release, hotspots, refreshes, summary["hotspots"])


def _republish(out: Path, areas: AreaResults, summary: dict, state: dict, oas,
               siting: SitingOutputs | None) -> dict:
    """Publish a finished run again after a later stage changed; rewrite run.json."""
    summary["outputs"] = run_publish(
        out, oas, areas, summary, ctx=MapContext(**state["ctx"]),
        linkage_report=pd.read_csv(out / "link/linkage_report.csv"),
        run_info=state["run_info"], synthetic=state["synthetic"],
        threshold=state["threshold"], base=state["base"], siting=siting)
    (out / "work/run_state.json").write_text(json.dumps(state, indent=2) + "\n")
    (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _finished_run(out: Path) -> tuple[AreaResults, dict, dict, object]:
    areas = read_area_results(out)
    state = json.loads((out / "work/run_state.json").read_text())
    files = BoundaryFiles(**{k: Path(v) if v else None for k, v in state["files"].items()})
    return areas, state, json.loads((out / "run.json").read_text()), load_boundaries(files)


def _plan(out: Path, settings: SitingSettings, oas, areas: AreaResults, state: dict
          ) -> SitingOutputs:
    demand = Demand(gpd.read_parquet(out / "work/oa_demand.parquet"))
    siting = plan_sites(demand, settings, oas, areas.hotspots, threshold=state["threshold"],
                        base=state["base"])
    write_siting_tables(out / "siting", siting)
    return siting


def run_siting(out: Path, settings: SitingSettings) -> dict:
    """``geo-risk site``: choose service sites on a finished run and publish them with it
    (``siting/``, the sites map and layers, the report's section, ``run.json``)."""
    out = Path(out)
    areas, state, summary, oas = _finished_run(out)
    siting = _plan(out, settings, oas, areas, state)
    summary["siting"] = siting.summary
    state["siting"] = siting_state(settings)
    return _republish(out, areas, summary, state, oas, siting)


def run_hotspots(out: Path, *, time_lag: int = 1, alpha: float = 0.05,
                 min_trend: float = 1.96, permutations: int = 9999) -> dict:
    """``geo-risk hotspots``: find the hotspots of a finished run again with other
    settings, and publish them (``areas/oa_hotspots.csv``, maps, GeoPackage, report; the
    siting, if the run had one, is redone on the new areas of concern)."""
    out = Path(out)
    areas, state, summary, oas = _finished_run(out)
    current = pd.read_parquet(out / "work/oa_current.parquet")
    hotspots, found = find_hotspots(out / "areas", oas, current, areas.refreshes.mean,
                                    time_lag=time_lag, alpha=alpha, min_trend=min_trend,
                                    permutations=permutations,
                                    random_state=state.get("random_state", 0))
    found["withheld_cells"] = len(areas.release_log)
    if "planted_recovery" in summary["hotspots"]:  # a synthetic run: score it again
        from geo_risk.synth.checks import planted_recovery

        recovery = planted_recovery(out, oas, hotspots["ehsa_category"])
        if recovery is not None:
            found["planted_recovery"] = recovery
    areas = AreaResults(areas.tables, areas.release_log, hotspots, areas.refreshes, found)
    summary["hotspots"] = found
    siting = None
    if state.get("siting"):
        settings = SitingSettings(**{k: Path(v) if k in {"candidates", "existing", "matrix"}
                                     and v else v for k, v in state["siting"].items()})
        siting = _plan(out, settings, oas, areas, state)
        summary["siting"] = siting.summary
    return _republish(out, areas, summary, state, oas, siting)
