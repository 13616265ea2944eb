"""Later stages on a finished run: find the hotspots again, site services, or compare it
with the last run, and publish the result with the rest of the run (``geo-risk
hotspots``, ``geo-risk site``, ``geo-risk compare``).

A finished run keeps what these need in ``work/`` (unpublished): each OA's risk now and
at each refresh, the demand points, and ``run_state.json`` (boundaries, map context,
disclosure rules, the siting asked for). The run is copied to a staging folder, changed
there and moved back into place when complete, as a whole run is.
"""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo_risk._errors import GeoRiskError
from geo_risk.areas import LEVELS, RefreshRisk, find_hotspots
from geo_risk.geography import VINTAGE_2011, Vintage, load_boundaries
from geo_risk.model import SCHOOL_READINESS, Outcome, get_outcome
from geo_risk.run.compare import compare_runs, write_comparison
from geo_risk.run.folder import RunFolder, staged
from geo_risk.run.pipeline import (
    AreaResults,
    published_hotspots,
    run_publish,
    write_hotspots,
    write_siting_tables,
    write_summaries,
)
from geo_risk.run.state import RunState
from geo_risk.siting import (
    Demand,
    SitingOutputs,
    SitingSettings,
    plan_sites,
    site_table,
    weighted_demand,
)

__all__ = ["read_area_results", "run_compare", "run_hotspots",
           "run_siting"]


def read_area_results(folder: RunFolder, vintage: Vintage = VINTAGE_2011,
                      outcome: Outcome = SCHOOL_READINESS) -> AreaResults:
    """The areas stage's results as a finished run of ``vintage`` and ``outcome`` left
    them in ``folder`` (its counts under their internal names again)."""
    needed = [folder.areas / "oa.csv", folder.areas / "oa_hotspots.csv", folder.record,
              folder.risk_by_refresh, folder.state]
    missing = [folder.relative(p) for p in needed if not p.is_file()]
    if missing:
        raise GeoRiskError(f"{folder.root}: not a finished geo-risk run (no "
                           f"{', '.join(missing)}); pass the --out folder of 'geo-risk run' "
                           "or 'geo-risk demo'.")
    internal = {published: name for name, published in outcome.fields.items()}
    tables = {level: vintage.internal(pd.read_csv(folder.areas / f"{level}.csv", index_col=0)
                                      .rename(columns=internal))
              for level in ["oa", "lsoa", "ward", "district"]}
    hotspots = vintage.internal(pd.read_csv(folder.areas / "oa_hotspots.csv", index_col=0,
                                            keep_default_na=False))
    for column in ["p_sim", "gi_z", "trend_tau", "trend_p", "ehsa_stability"]:
        hotspots[column] = pd.to_numeric(hotspots[column], errors="coerce")
    se = (pd.read_parquet(folder.risk_se_by_refresh) if folder.risk_se_by_refresh.is_file()
          else None)
    refreshes = RefreshRisk(pd.read_parquet(folder.risk_by_refresh),
                            pd.read_parquet(folder.children_by_refresh), se)
    summary = json.loads(folder.record.read_text())
    release = pd.read_csv(folder.areas / "release_log.csv")
    release["column"] = release["column"].replace(internal)
    return AreaResults(tables, release, hotspots, refreshes, summary["hotspots"])


def _republish(folder: RunFolder, area_results: AreaResults, record: dict, state: RunState,
               oas,
               siting: SitingOutputs | None) -> dict:
    """Publish a finished run again after a later stage changed; rewrite both run.json."""
    for stale in [folder.maps, folder.siting]:  # rewritten below when still wanted
        for path in sorted(stale.glob("*")) if stale.is_dir() else []:
            path.unlink()
    if siting is not None:
        write_siting_tables(folder.siting, siting, state.vintage, state.ctx.words)
    else:
        record.pop("siting", None)
    record["outputs"] = run_publish(
        folder, oas, area_results, record, ctx=state.ctx,
        linkage_report=pd.read_csv(folder.link / "linkage_report.csv"),
        run_info=state.run_info, synthetic=state.synthetic,
        disclosure=state.disclosure, vintage=state.vintage, siting=siting)
    state.write(folder)
    write_summaries(folder, record, state)
    return record


def _finished_run(folder: RunFolder) -> tuple[AreaResults, RunState, dict, gpd.GeoDataFrame]:
    state = RunState.read(folder)
    oas = load_boundaries(state.files)
    area_results = read_area_results(folder, state.vintage, state.ctx.words)
    # names as the lookup has them (the published CSVs neutralise a leading '=')
    for level, (code, name, _) in LEVELS.items():
        if name and name in oas and level in area_results.tables:
            names = oas.drop_duplicates(code).set_index(code)[name]
            table = area_results.tables[level]
            table[name] = names.reindex(table.index).to_numpy()
    return area_results, state, json.loads(folder.record.read_text()), oas


def _plan(folder: RunFolder, settings: SitingSettings, oas: gpd.GeoDataFrame,
          area_results: AreaResults, state: RunState) -> SitingOutputs:
    demand = Demand(gpd.read_parquet(folder.demand))
    return plan_sites(demand, settings, oas, area_results.hotspots, state.disclosure)


def _check_finished(out: Path, *, published_only: bool = False) -> None:
    """A clear error before anything is copied when ``out`` is not a finished run, or when
    a file a later stage reads is damaged (or was changed since the run)."""
    folder = RunFolder(out)
    needed = [folder.summary, folder.areas / "ward.csv", folder.areas / "oa_hotspots.csv"]
    if not published_only:
        needed += [folder.state, folder.record, folder.risk_by_refresh,
                   folder.children_by_refresh, folder.current_risk, folder.demand,
                   folder.link / "linkage_report.csv",
                   *(folder.areas / f"{name}.csv" for name in
                     ["oa", "lsoa", "district", "release_log"])]
    missing = [folder.relative(p) for p in needed if not p.is_file()]
    if missing:
        raise GeoRiskError(f"{out}: not a finished geo-risk run (no {', '.join(missing)}); "
                           "pass the --out folder of 'geo-risk run' or 'geo-risk demo'.")
    optional = [p for p in [folder.risk_se_by_refresh] if p.is_file()]
    damaged = [folder.relative(p) for p in needed + optional if not _readable(p)]
    if damaged:
        raise GeoRiskError(f"{out}: {', '.join(damaged)} cannot be read (damaged, or changed "
                           "since the run); run 'geo-risk run' again to rebuild the folder.")
    if not published_only:  # the boundary files the run read, where it read them
        files = RunState.read(folder).files
        gone = [str(f) for f in [files.oa, files.lookup, files.imd] if f and not f.is_file()]
        if gone:
            raise GeoRiskError(
                f"{out}: the run's boundary file(s) {', '.join(gone)} are no longer there "
                "(moved or deleted since the run); put them back, or run 'geo-risk run' "
                "again with their new place.")


def _readable(path: Path) -> bool:
    """Whether a file of a finished run reads as what it should be: JSON parses, Parquet
    has its footer, a CSV's header is text."""
    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".parquet":
            pq.read_metadata(path)
        else:
            with path.open(encoding="utf-8-sig") as text:
                text.readline()
    except (OSError, ValueError, pa.ArrowException):  # a JSON or Unicode error is a ValueError
        return False
    return True


def run_siting(out: Path, settings: SitingSettings) -> dict:
    """``geo-risk site``: choose service sites on a finished run and publish them with it
    (``publish/siting/``, the sites map and layers, the report's section, ``run.json``).
    Returns the exact run record."""
    _check_finished(out)
    with staged(out, start_from_current=True) as folder:
        area_results, state, record, oas = _finished_run(folder)
        siting = _plan(folder, settings, oas, area_results, state)
        record["siting"] = siting.summary
        state = state.with_siting(settings, folder)
        return _republish(folder, area_results, record, state, oas, siting)


def run_hotspots(out: Path, *, time_lag: int = 1, alpha: float = 0.05,
                 min_trend: float = 1.96, permutations: int = 9999,
                 weights: str | None = None, global_window: str | None = None,
                 fdr: bool | None = None) -> dict:
    """``geo-risk hotspots``: find the hotspots of a finished run again with other
    settings, and publish them (``areas/oa_hotspots.csv``, maps, GeoPackage, report; the
    siting, if the run had one, is redone on the new areas of concern). ``weights``,
    ``global_window`` and ``fdr`` are the run's own unless given. Returns the exact run
    record."""
    _check_finished(out)
    with staged(out, start_from_current=True) as folder:
        area_results, state, record, oas = _finished_run(folder)
        current = pd.read_parquet(folder.current_risk)
        own = record["hotspots"].get("settings", {})  # the run's own, where not given
        chosen: dict[str, Any] = {k: own.get(k) if v is None else v for k, v in
                  {"weights": weights, "global_window": global_window, "fdr": fdr}.items()}
        found = find_hotspots(oas, current, area_results.refreshes.mean, time_lag=time_lag,
                              alpha=alpha, min_trend=min_trend, permutations=permutations,
                              random_state=state.random_state,
                              se=area_results.refreshes.se,
                              **{k: v for k, v in chosen.items() if v is not None})
        found = published_hotspots(found, area_results.tables["oa"])
        write_hotspots(folder, found, state.vintage, area_results.refreshes,
                       area_results.tables["oa"], state.disclosure, oas, state.ctx.words)
        summary = {**found.summary, "withheld_cells": len(area_results.release_log)}
        area_results = dataclasses.replace(area_results, hotspots=found.table, summary=summary)
        record["hotspots"] = summary
        siting = _replan(folder, state, oas, area_results, record)
        return _republish(folder, area_results, record, state, oas, siting)


def _replan(folder: RunFolder, state: RunState, oas: gpd.GeoDataFrame,
            area_results: AreaResults, record: dict) -> SitingOutputs | None:
    """The run's siting done again (on new areas of concern), when it had one."""
    settings = state.siting_settings(folder)
    if settings is None:
        return None
    siting = _plan(folder, settings, oas, area_results, state)
    record["siting"] = siting.summary
    return siting


def run_compare(old: Path, new: Path) -> dict:
    """``geo-risk compare OLD NEW``: what changed between two runs of one partnership
    (:mod:`geo_risk.run.compare`), written into ``new`` (``publish/since_last_run/``,
    ``restricted/since_last_run/``) with a "Since the last run" section in its report.
    Returns the exact run record of ``new``."""
    if Path(old).resolve() == Path(new).resolve():
        raise GeoRiskError(f"{old}: OLD and NEW are the same run; compare a run with the "
                           "partnership's run before it (its --out folder).")
    _check_finished(new)
    _check_finished(old, published_only=True)
    with staged(new, start_from_current=True) as folder:
        area_results, state, record, oas = _finished_run(folder)
        comparison = compare_runs(old, folder.root, rules=state.disclosure,
                                  oas=oas, outcome=state.ctx.words)
        write_comparison(comparison, folder)
        record["since_last_run"] = comparison.summary
        siting = _replan(folder, state, oas, area_results, record)
        return _republish(folder, area_results, record, state, oas, siting)


def run_overlap(runs: list[Path], out: Path, *, level: str = "ward",
                siting: SitingSettings | None = None,
                weights: dict[str, float] | None = None) -> dict:
    """``geo-risk overlap RUN RUN...``: where the needs of several outcomes overlap, from
    finished runs of one partnership on one geography and date, one run per outcome
    (:func:`~geo_risk.areas.overlap.overlap`).

    Parameters
    ----------
    runs : list of Path
        The runs' ``--out`` folders, each of a different outcome.
    out : Path
        Where to write ``overlap_<level>.csv`` and ``overlap.html`` (publishable: built
        from the runs' published tables only).
    level : str
        The areas compared: ``oa``, ``lsoa`` or ``ward``.
    siting : SitingSettings, optional
        Choose service sites on the outcomes' demand together (``sites.csv``).
    weights : dict of str to float, optional
        With ``siting``: each outcome's weight (what preventing one of its events is
        worth, relative to the others); every outcome 1 when not given. Recorded.

    Returns
    -------
    dict
        What was compared, how many areas are among the highest for two or more
        outcomes, and the siting with its weights.
    """
    from geo_risk.areas.overlap import TOP_SHARE, overlap
    from geo_risk.io import write_csv
    from geo_risk.publish.tables import TABLE_CSS, html_table

    if level not in {"oa", "lsoa", "ward"}:
        raise GeoRiskError(f"--level {level!r}: use oa, lsoa or ward.")
    if len(runs) < 2:
        raise GeoRiskError("give at least two runs, one per outcome, to see where needs "
                           "overlap.")
    tables, folders, dates, names = {}, {}, set(), None
    for run in runs:
        _check_finished(run, published_only=True)
        folder = RunFolder(run)
        state = RunState.read(folder)
        outcome = state.ctx.outcome
        if outcome in tables:
            raise GeoRiskError(f"{run}: a second run of {outcome}; give one run per outcome.")
        table = state.vintage.internal(pd.read_csv(folder.areas / f"{level}.csv",
                                                   index_col=0, dtype={0: str}))
        name = LEVELS[level][1]
        if names is None and name and name in table:
            names = table[name]
        tables[outcome], folders[outcome] = table, folder
        dates.add(json.loads(folder.summary.read_text())["reference_date"])
    if len(dates) > 1:
        raise GeoRiskError(f"the runs are of different dates ({', '.join(sorted(dates))}); "
                           "compare runs of one reference date.")
    reference = dates.pop()
    codes = [set(t.index) for t in tables.values()]
    if any(c != codes[0] for c in codes):
        raise GeoRiskError("the runs cover different areas; compare runs on one geography.")
    found = overlap(tables)
    oas = load_boundaries(state.files)
    summary: dict[str, Any] = {}
    if siting is not None:
        weights = weights or dict.fromkeys(tables, 1.0)
        if set(weights) != set(tables):
            raise GeoRiskError(
                f"--weights names {', '.join(sorted(weights)) or 'no outcome'}; give one "
                f"weight for each outcome compared ({', '.join(tables)}).")
        gone = [str(f.demand) for f in folders.values() if not f.demand.is_file()]
        if gone:
            raise GeoRiskError(f"{gone[0]}: no demand; siting across outcomes needs each "
                               "run's work/ folder.")
        demand = weighted_demand({o: Demand(gpd.read_parquet(f.demand))
                                  for o, f in folders.items()}, weights)
        first = next(iter(folders.values()))
        hotspots = state.vintage.internal(pd.read_csv(first.areas / "oa_hotspots.csv",
                                                      index_col=0, dtype={0: str}))
        planned = plan_sites(demand, siting, oas, hotspots, state.disclosure)
        summary["siting"] = {**planned.summary, "weights": weights}
    if names is not None:
        found.insert(0, names.name, names.reindex(found.index))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _overlap_geopackage(out / "overlap.gpkg", found, list(tables), level, oas, state,
                        reference)
    published = state.vintage.publish(found)
    write_csv(published, out / f"overlap_{level}.csv")
    shown = _overlap_rows(found[found["top_fifth"] >= 2], list(tables), names)
    titles = [get_outcome(o).title for o in tables]
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Where needs overlap</title><style>{TABLE_CSS}{_PAGE_CSS}</style></head>"
        "<body><main><h1>Where needs overlap</h1>"
        f"<p>Outcomes: {', '.join(html.escape(t) for t in titles)}; reference date "
        f"{html.escape(reference)}. An area is among an outcome's highest when its "
        f"predicted risk ranks in the top {TOP_SHARE:.0%} of the areas whose risk is "
        "published for that outcome (a withheld risk is not ranked). The table lists the "
        "areas among the highest for two or more outcomes; every area is in "
        f"overlap_{level}.csv with each outcome's risk, 95% interval and rank.</p>"
        + html_table(shown, "Areas among the highest for two or more outcomes")
        + (_overlap_sites(planned, weights) if siting is not None else "")
        + "</main></body></html>")
    (out / "overlap.html").write_text(page, encoding="utf-8")
    if siting is not None:
        write_csv(site_table(planned), out / "sites.csv", index=False)
    summary.update(outcomes=list(tables), level=level, areas=len(found),
                   overlapping=int((found["top_fifth"] >= 2).sum()))
    (out / "overlap.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def _overlap_geopackage(path: Path, found: pd.DataFrame, outcomes: list[str], level: str,
                        oas: gpd.GeoDataFrame, state: RunState, reference_date: str) -> None:
    """The overlap as a styled GeoPackage layer of the areas compared."""
    from geo_risk import __version__
    from geo_risk.publish.gpkg import field_docs, overlap_layer, write_styled_layers

    code = LEVELS[level][0]
    shapes = (oas.geometry if level == "oa" else
              oas.dissolve(by=code).geometry).reindex(found.index)
    layer = gpd.GeoDataFrame(found, geometry=shapes.to_numpy(), crs=oas.crs)
    path.unlink(missing_ok=True)
    write_styled_layers(path, overlap_layer(layer, outcomes), state.vintage,
                        field_docs(state.vintage), {
                            "made_by": f"geo-risk {__version__} overlap",
                            "outcomes": ", ".join(outcomes), "level": level,
                            "reference_date": reference_date})


_PAGE_CSS = ("body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:70em;"
             "padding:0 1em;line-height:1.45;color:#222}")


def _overlap_rows(found: pd.DataFrame, outcomes: list[str],
                  names: pd.Series | None) -> pd.DataFrame:
    """The overlapping areas as the page shows them: each outcome's risk with its
    interval, and its rank among the areas ranked."""
    rows = pd.DataFrame(index=found.index)
    rows["Area"] = (names.reindex(found.index).fillna(pd.Series(found.index, found.index))
                    if names is not None else found.index)
    for o in outcomes:
        title = get_outcome(o).title
        risk, low, high = (found[f"{o}_{c}"] for c in ["risk", "low95", "high95"])
        rows[f"{title[0].upper()}{title[1:]}: risk (95% interval)"] = [
            f"{r:.0%} ({a:.0%} to {b:.0%})" for r, a, b in zip(risk, low, high, strict=True)]
        rows[f"{title[0].upper()}{title[1:]}: rank"] = found[f"{o}_rank"].astype(str)
    return rows.reset_index(drop=True)


def _overlap_sites(planned: SitingOutputs, weights: dict[str, float] | None) -> str:
    """The overlap page's siting: the weights the commissioner chose, and the sites."""
    from geo_risk.publish.tables import html_table

    chosen = ", ".join(f"{html.escape(o)} {w:g}" for o, w in (weights or {}).items())
    sites = site_table(planned)[["name", "status", "newly_covered", "cumulative_coverage"]]
    sites = sites.rename(columns={"name": "Site", "status": "Status",
                                  "newly_covered": "Weighted demand newly reached",
                                  "cumulative_coverage": "Share reached so far"})
    sites["Share reached so far"] = sites["Share reached so far"].map(lambda v: f"{v:.1%}")
    return ("<h2>Where to site services, across the outcomes</h2>"
            f"<p>Each output area's demand is its expected events of each outcome times the "
            f"outcome's weight (chosen: {chosen}), summed. Sites are chosen to reach as much "
            "of it as they can within the siting's distance; newly covered is weighted "
            "demand, rounded.</p>" + html_table(sites, "Sites chosen on the outcomes' "
                                                      "weighted demand"))
