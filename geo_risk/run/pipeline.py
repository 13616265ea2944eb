"""The whole run, stage after stage (``geo-risk run``; ``geo-risk demo`` calls it on a
synthetic world from :mod:`geo_risk.synth.demo`).

pseudonymise -> link (features as of the reference date) -> model (scores, flags) ->
areas (disclosure control, hotspots) -> siting (when asked) -> publish (maps, GeoPackage,
report). Each stage is called through its public function; this module only wires them,
writes their outputs where :class:`~geo_risk.run.folder.RunFolder` says, and records the
run's figures: exact in ``restricted/run.json``, disclosure-controlled in
``publish/run.json``. :mod:`geo_risk.run.rerun` runs the later stages again on a finished
run.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import joblib
import numpy as np
import pandas as pd
import pyarrow as pa

from geo_risk import __version__
from geo_risk import columns as C
from geo_risk._errors import BoundaryError, GeoRiskError, ModelError
from geo_risk.areas import (
    SAFE,
    Disclosure,
    FoundHotspots,
    RefreshRisk,
    aggregate_areas,
    agreement,
    disclose,
    disclose_hotspots,
    find_hotspots,
    moved_into,
    published_summary,
    quadrant_transitions,
    risk_by_refresh,
)
from geo_risk.columns import HOUSEHOLD
from geo_risk.config import RunSettings, months
from geo_risk.geography import MEASURES, VINTAGE_2011, BoundaryFiles, Vintage, load_geography
from geo_risk.governance import latest_summary, review_form
from geo_risk.inputs import (
    HERE,
    SOURCES,
    Community,
    Executor,
    Key,
    Linked,
    UprnLookup,
    executor,
    read_community,
    read_uprn_lookup,
)
from geo_risk.io import write_csv
from geo_risk.model import (
    DEFAULT_CAPACITY,
    KNOWN_WITHIN_MONTHS,
    LABEL,
    SCHOOL_READINESS,
    Capacity,
    FeatureTables,
    Outcome,
    RiskModel,
    Validation,
    audit_fairness,
    explain_households,
    feature_columns,
    flag_households,
    get_outcome,
    score_households,
    validate,
)
from geo_risk.publish import (
    CUBE_PARQUET,
    MAP_FILE,
    TABLES_FILE,
    MapContext,
    ReportInputs,
    community_layer,
    cube_layer,
    cube_table,
    long_date,
    site_layers,
    svg_preview,
    write_cube,
    write_geopackage,
    write_maps,
    write_model_card,
    write_report,
    write_transparency,
)
from geo_risk.run.compare import compare_runs, write_comparison
from geo_risk.run.folder import RunFolder, staged
from geo_risk.run.history import extend_history, read_exact_fit
from geo_risk.run.inputs import TABLES_JSON, check_refreshes, pseudonymise_folder, run_link
from geo_risk.run.state import RunState
from geo_risk.siting import (
    SitingOutputs,
    demand_points,
    plan_sites,
    site_table,
)

__all__ = [
    "AreaResults",
    "ModelRun",
    "published_hotspots",
    "read_feature_tables",
    "run_areas",
    "run_into",
    "run_model",
    "run_pipeline",
    "run_publish",
    "write_hotspots",
    "write_siting_tables",
]

log = logging.getLogger(__name__)


@dataclass
class ModelRun:
    """What the model stage produced: the fitted model, validation, scores and flags."""

    model: RiskModel
    validation: Validation
    children: pd.DataFrame  # scored children: child_key, household_key, p
    households: pd.DataFrame  # scored households with rank, flagged, known
    fairness: pd.DataFrame
    summary: dict


def run_model(
    tables: FeatureTables,
    folder: RunFolder,
    *,
    random_state: int,
    capacity: Capacity = DEFAULT_CAPACITY,
    known_within_months: float = KNOWN_WITHIN_MONTHS,
    max_fairness_gap: float = 0.10,
    disclosure: Disclosure = SAFE,
    outcome: Outcome = SCHOOL_READINESS,
) -> ModelRun:
    """Validate, fit, score, flag, explain and audit; write the model card and the
    restricted flagged-household list.

    Writes the published model card (``folder.model``: ``model_card.md``,
    ``model_card.html``, ``validation.csv``, ``fairness.csv``, counts under the ``disclosure``
    rules), ``folder.fitted_model``, ``folder.flagged`` and ``folder.scores`` (every
    household's score, rank, flag, known status and OA), which hold pseudonymised
    household keys and must never be published or read by maps or reports.

    Raises
    ------
    ModelError
        Fewer than two labelled cohorts, or labels of one outcome only.
    """
    children = tables.children
    features = feature_columns(children)
    labelled = children[children["role"] == "labelled"]
    _check_labels(labelled, tables.reference_date, outcome)
    model = RiskModel(random_state=random_state).fit(
        labelled[features], labelled[LABEL].astype(bool), groups=labelled[HOUSEHOLD])
    child_p, scored = score_households(model, children)
    flags = flag_households(scored, tables.households, capacity=capacity,
                            known_within_months=known_within_months)
    k = int(flags["flagged"].sum())
    share = k / max(len(flags), 1)
    validation = validate(children, flag_share=share, random_state=random_state)
    fairness, fairness_warnings = audit_fairness(validation.test, k=validation.k_test,
                                                 words=outcome,
                                        max_gap=max_fairness_gap)
    flagged = flags[flags["flagged"]]
    reasons = explain_households(model, children[children["role"] == "current"],
                                 list(flagged[HOUSEHOLD]))
    restricted = flagged.merge(reasons, on=HOUSEHOLD, how="left").assign(
        status=lambda f: np.where(f["known"], f"known to {outcome.known_to}",
                                  "previously unknown"))
    folder.flagged.parent.mkdir(parents=True, exist_ok=True)
    write_csv(restricted[[HOUSEHOLD, "rank", "score", "children", "status", "reasons",
                          "contributions"]].round({"score": 4}), folder.flagged, index=False)
    write_csv(review_form(restricted.sort_values("rank")), folder.review_form, index=False)
    joblib.dump(model, folder.fitted_model)  # the next run scores the results that arrive
    oa_of = tables.households.set_index(HOUSEHOLD)[C.OA]
    flags[[HOUSEHOLD, "rank", "score", "children", "flagged", "known"]].assign(
        **{C.OA: oa_of.reindex(flags[HOUSEHOLD]).to_numpy()}).to_parquet(folder.scores,
                                                                         index=False)

    gb = validation.metrics.iloc[0]
    metrics = validation.metrics
    summary = {
        "holdout_cohort": validation.test_cohort,
        "holdout_children": validation.n_test,
        "holdout_auc": round(gb["auc"], 4),
        "holdout_average_precision": round(gb["average_precision"], 4),
        "brier": round(gb["brier"], 4),
        "calibration_slope": round(gb["calibration_slope"], 4),
        "calibration_intercept": round(gb["calibration_intercept"], 4),
        "ece": round(gb["ece"], 4),
        "holdout_k": validation.k_test,
        "precision_at_k": round(gb["precision_at_k"], 4),
        "recall_at_k": round(gb["recall_at_k"], 4),
        "logistic_auc": round(metrics.loc["logistic regression", "auc"], 4),
        "k": k,
        "capacity": capacity.describe(disclosure.withhold_up_to, outcome.households),
        "households_scored": len(flags),
        "children_scored": len(child_p),
        "households_flagged": k,
        "flagged_known": int(flagged["known"].sum()),
        "flagged_unknown": int((~flagged["known"]).sum()),
        "known_within_months": known_within_months,
        "fairness_warnings": fairness_warnings,
    }
    if "area only (deprivation)" in metrics.index:
        area_auc = metrics.loc["area only (deprivation)", "auc"]
        summary["area_only_auc"] = round(area_auc, 4)
        summary["auc_margin_over_area_only"] = round(gb["auc"] - area_auc, 4)

    count = disclosure.count
    summary["headline"] = (
        f"{count(len(flags))} {outcome.households} scored; {count(k)} flagged; "
        f"{count(summary['flagged_unknown'])} of them unknown to {outcome.known_to}")
    summary["fairness_by_group"] = write_model_card(
        folder.model, tables, validation, fairness, fairness_warnings, summary, features,
        disclosure, outcome)
    log.info(summary["headline"])
    current = children.loc[child_p.index, ["child_key", HOUSEHOLD]].assign(p=child_p)
    return ModelRun(model, validation, current.reset_index(drop=True), flags, fairness,
                    summary)


def _check_labels(labelled: pd.DataFrame, reference_date,
                  outcome: Outcome = SCHOOL_READINESS) -> None:
    """Stop with a clear message when the labelled cohorts cannot train and validate."""
    cohorts = sorted(labelled["academic_year"].unique()) if len(labelled) else []
    when = pd.Timestamp(reference_date).date()
    if outcome.unit[0] == "household" and (len(cohorts) < 2
                                            or labelled[LABEL].astype(bool).nunique() < 2):
        raise ModelError(
            f"reference date {when}: {len(cohorts)} landmark date(s) a year apart have "
            f"{outcome.scored} with both outcomes ({outcome.event}); the model trains on "
            "earlier landmarks and validates on the latest, so it needs at least two with "
            "some events and some without. Use a later reference date or extracts reaching "
            "further back.")
    if len(cohorts) < 2:
        raise ModelError(
            f"reference date {when}: {len(cohorts)} labelled cohort(s) of school-readiness "
            f"results ({', '.join(cohorts) or 'none'}) are dated on or before it; the model "
            "trains on earlier cohorts and validates on the latest, so it needs at least "
            "two. Use a later reference date or add earlier school_readiness results.")
    outcomes = labelled[LABEL].astype(bool).nunique()
    if outcomes < 2:
        raise ModelError(
            f"reference date {when}: every labelled child has the same school-readiness "
            "result, so there is nothing to learn; check the gld column of the "
            "school_readiness extract.")


@dataclass
class AreaResults:
    """What the areas stage produced (published tables are disclosure-controlled)."""

    tables: dict[str, pd.DataFrame]  # published, by level
    release_log: pd.DataFrame
    hotspots: pd.DataFrame  # per OA: LISA, Gi*, emerging category, concern
    refreshes: RefreshRisk
    summary: dict  # the hotspots section of run.json


def run_areas(
    model_run: ModelRun,
    linked: Linked,
    oas,
    folder: RunFolder,
    *,
    refresh_dates: list[str],
    random_state: int,
    disclosure: Disclosure = SAFE,
    vintage: Vintage = VINTAGE_2011,
    hotspots: dict | None = None,
    history: tuple[Path, ...] = (),
    exact_fit: Path | None = None,
    run: Executor = HERE,
    outcome: Outcome = SCHOOL_READINESS,
) -> AreaResults:
    """Aggregate to areas under disclosure control and find hotspots; write
    ``folder.areas`` (published) and the unpublished tables in ``folder.work``.

    Writes ``oa.csv``, ``lsoa.csv``, ``ward.csv``, ``district.csv`` (after disclosure
    control), ``release_log.csv`` (what was withheld and why), ``oa_hotspots.csv``
    (LISA quadrant, Gi* z and significance at the reference date, emerging hot spot
    category over the refreshes, known or newly identified area of concern) and
    ``ward_concern.csv`` (OAs of each kind of concern per ward). Statistics use each OA's
    mean predicted risk, at the reference date and at each refresh (a mean of model
    probabilities is not a noisy observed rate, so it is not smoothed further; the
    empirical-Bayes rate stays in the tables for comparison). ``folder.work`` keeps the
    unpublished risk of each OA now and at each refresh for the report and for
    ``geo-risk hotspots``. ``hotspots``: the statistics' settings (``[hotspots]`` of
    ``run.toml``: ``weights``, ``global_window``, ``fdr``; the defaults without).
    """
    folder.areas.mkdir(parents=True, exist_ok=True)
    tables = aggregate_areas(model_run.children, model_run.households, oas)
    safe, release = disclose(tables, oas, disclosure)
    named = outcome.fields  # the outcome's published names of the counts
    for level, table in safe.items():
        write_csv(vintage.publish(table.rename(columns=named)), folder.areas / f"{level}.csv")
    write_csv(release.assign(column=release["column"].replace(named)),
              folder.areas / "release_log.csv", index=False)

    refreshes = risk_by_refresh(linked, refresh_dates, model_run.model, run=run,
                                outcome=outcome)
    oa = tables["oa"]
    notes = None
    if history:
        fit = read_exact_fit(exact_fit) if exact_fit else None
        mean, children, notes = extend_history(
            refreshes.mean, refreshes.children, list(history), census=vintage.census, fit=fit,
            weight=oa["children_under5"], area=oas.geometry.area)
        # earlier runs' refreshes carry no standard error: they are not resampled
        assert refreshes.se is not None, "this run's refreshes are resampled"
        refreshes = RefreshRisk(mean, children, refreshes.se.reindex(
            index=mean.index, columns=mean.columns))
    current = pd.DataFrame({
        "mean_risk": oa["mean_risk"],  # already a model estimate: no further smoothing
        "known_share": (oa["known_households"] / oa["households"].where(oa["households"] > 0)
                        ).fillna(0.0)})
    assert refreshes.se is not None, "this run's refreshes are resampled"
    folder.work.mkdir(parents=True, exist_ok=True)
    refreshes.mean.to_parquet(folder.risk_by_refresh)
    refreshes.children.to_parquet(folder.children_by_refresh)
    refreshes.se.to_parquet(folder.risk_se_by_refresh)
    current.to_parquet(folder.current_risk)
    found = find_hotspots(oas, current, refreshes.mean, random_state=random_state,
                          se=refreshes.se, **(hotspots or {}))
    found = published_hotspots(found, safe["oa"])
    write_hotspots(folder, found, vintage, refreshes, safe["oa"], disclosure, oas, outcome)
    summary = {**found.summary, "withheld_cells": len(release)}
    if notes is not None:
        summary["history"] = notes
    return AreaResults(safe, release, found.table, refreshes, summary)


def published_hotspots(found: FoundHotspots, published_oa: pd.DataFrame) -> FoundHotspots:
    """``found`` as it may be published: what a withheld area's own value decides is
    withheld (:func:`~geo_risk.areas.disclose_hotspots`), and counted as such."""
    table = disclose_hotspots(found.table, published_oa)
    summary = {**found.summary, "lisa": table["lisa_quadrant"].value_counts().to_dict()}
    bins = found.bins
    if bins is not None:  # a withheld area's states are missing, and not counted
        withheld = table.index[table["lisa_quadrant"].eq("withheld")]
        bins = bins.assign(lisa_quadrant=bins["lisa_quadrant"].mask(
            bins.index.get_level_values(0).isin(withheld)))
        summary["lisa_over_time"] = {
            **summary.get("lisa_over_time", {}),
            **quadrant_transitions(bins["lisa_quadrant"].unstack()),
            "moved_into_high_high": int(moved_into(table).sum())}
    return dataclasses.replace(found, table=table, summary=summary, bins=bins)


def write_hotspots(folder: RunFolder, found: FoundHotspots, vintage: Vintage,
                   refreshes: RefreshRisk, published_oa: pd.DataFrame, rules: Disclosure,
                   oas: gpd.GeoDataFrame, words: Outcome = SCHOOL_READINESS) -> None:
    """``oa_hotspots.csv``, ``ward_concern.csv`` and the space-time cube
    (:mod:`geo_risk.publish.cube`) into the published areas."""
    write_csv(vintage.publish(found.table.round(4)), folder.areas / "oa_hotspots.csv")
    write_csv(vintage.publish(found.by_ward), folder.areas / "ward_concern.csv")
    if found.bins is not None:
        names = oas[C.LAD_NAME].dropna().unique() if C.LAD_NAME in oas else []
        write_cube(folder.areas, cube_table(found.bins, refreshes, found.table, published_oa,
                                            rules), oas, vintage,
                   title=", ".join(map(str, names)) or "output areas",
                   settings=found.summary.get("settings", {}), words=words)


def read_feature_tables(folder: Path) -> FeatureTables:
    """Read the household and child tables written by :func:`run_link`, with the outcome
    they were built for (school readiness for tables written before outcomes were
    declared)."""
    folder = Path(folder)
    paths = [folder / "children.parquet", folder / "households.parquet"]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise GeoRiskError(f"{folder}: no {', '.join(missing)}; run 'geo-risk link' first and "
                           "pass its --out folder.")
    try:
        children, households = (pd.read_parquet(p) for p in paths)
        said = (json.loads((folder / TABLES_JSON).read_text())
                if (folder / TABLES_JSON).is_file() else {})
        outcome = get_outcome(said.get("outcome")).name
    except (OSError, ValueError, AttributeError, pa.ArrowException) as err:
        raise GeoRiskError(f"{folder}: the tables 'geo-risk link' wrote cannot be read "
                           f"({type(err).__name__}); run 'geo-risk link' again.") from None
    current = children.loc[children["role"] == "current", "as_of"]
    reference = current.max() if len(current) else children["as_of"].max()
    return FeatureTables(pd.Timestamp(reference), households, children,
                         said.get("counts", {}), outcome)


def run_publish(folder: RunFolder, oas, area_results: AreaResults, summary: dict, *,
                ctx: MapContext, linkage_report: pd.DataFrame, run_info: dict,
                synthetic: bool, disclosure: Disclosure = SAFE,
                vintage: Vintage = VINTAGE_2011, siting: SitingOutputs | None = None,
                community: tuple[pd.DataFrame, pd.DataFrame, dict] | None = None) -> dict:
    """Write what people use into ``folder.publish``: ``maps/map.html``, ``geo_risk.gpkg``
    and ``index.html``.

    Everything here is built from the published (disclosure-controlled) area tables and
    the run summary (the report rounds its counts); nothing is read from ``restricted/``.
    Returns the ``outputs`` section of ``run.json``.
    """
    sites = (siting.sites, siting.catchments) if siting is not None else None
    tables, hotspots = area_results.tables, area_results.hotspots
    maps = write_maps(folder.maps, oas, tables, hotspots, ctx, sites=sites,
                      ehsa_measure=summary["hotspots"].get("emerging_measure", ""),
                      disclosure=disclosure,
                      community=None if community is None else community[0])
    extra = site_layers(*sites) if sites else {}
    if (folder.areas / CUBE_PARQUET).is_file():  # the space-time cube, for QGIS's time
        extra.update(cube_layer(gpd.read_parquet(folder.areas / CUBE_PARQUET)))
    if community is not None:
        extra.update(community_layer(gpd.GeoDataFrame(
            community[1], geometry=oas.geometry.reindex(community[1].index), crs=oas.crs)))
    gpkg = write_geopackage(folder.geopackage, oas, tables, hotspots, run_info,
                            extra_layers=extra, vintage=vintage, words=ctx.words)
    by_ward = area_results.refreshes.by(oas[C.WARD_NAME])
    se_by_ward = area_results.refreshes.se_by(oas[C.WARD_NAME])
    previous, latest = by_ward.columns[-2:] if by_ward.shape[1] > 1 else by_ward.columns[[0, 0]]
    titles = {"oa_risk": "Risk by output area", "ward_risk": "Risk by ward",
              "hotspots": "Emerging hot spots",
              "clusters": "Clusters of high and low risk (LISA)",
              "areas_of_concern": "Known and newly identified areas of concern",
              "service_sites": "Where to site services",
              "community": "What the community says, beside the data"}
    inputs = ReportInputs(
        ctx=ctx, model=summary["model"], hotspots_summary=summary["hotspots"],
        ward=area_results.tables["ward"], district=area_results.tables["district"],
        oa_hotspots=area_results.hotspots, oa_wards=oas[C.WARD_NAME],
        oa_districts=oas[C.LAD_NAME] if C.LAD_NAME in oas else None,
        ward_change=pd.DataFrame({"previous": by_ward[previous], "latest": by_ward[latest],
                                  "previous_se": se_by_ward[previous],
                                  "latest_se": se_by_ward[latest]}),
        previous_date=long_date(previous),
        maps={**{titles[view]: f"maps/{link}" for view, link in maps.items()},
              "Every map layer as a table": f"maps/{TABLES_FILE}"},
        linkage_match=(float(linkage_report["match_rate"].min()),
                       float(linkage_report["match_rate"].max())),
        preview=svg_preview(oas, area_results.tables["oa"], area_results.hotspots),
        siting=siting,
        disclosure=disclosure, synthetic=synthetic,
        retention=run_info.get("retention", ""), reviews=summary.get("reviews"),
        since=summary.get("since_last_run"),
        community=None if community is None else (community[0], community[2]))
    report = write_report(folder.report, inputs)
    return {"report": report.name, "maps": [f"maps/{MAP_FILE}", f"maps/{TABLES_FILE}"],
            "geopackage": gpkg.name}


def run_community(read: Community, s: RunSettings, folder: RunFolder,
                  oas: gpd.GeoDataFrame, hotspots: pd.DataFrame, vintage: Vintage
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Set what the community says (``read``, the run's ``[community] file`` as
    :func:`~geo_risk.inputs.community.read_community` placed it, at the start of the run)
    beside the areas of concern.

    Parameters
    ----------
    read : Community
        The places named, and the rows not used.
    s : RunSettings
        The run's settings (its disclosure rules).
    folder : RunFolder
        Where the run writes.
    oas : GeoDataFrame
        The output areas with their wards.
    hotspots : DataFrame
        The published hot spot table by output area (``concern``).
    vintage : Vintage
        The geography, for the published column names.

    Returns
    -------
    tuple
        The views by ward and by output area, and the summary for ``run.json``.

    Writes the places as placed (``restricted/community/mentions.parquet``: their rows,
    areas, themes and dates) and the rows not used with their reasons
    (``restricted/community/rejects.csv``); publishes the views by ward and by output area
    (``publish/areas/community_wards.csv``, ``community_oas.csv``).
    """
    folder.community.mkdir(parents=True, exist_ok=True)
    read.mentions.to_parquet(folder.community / "mentions.parquet", index=False)
    write_csv(read.rejects, folder.community / "rejects.csv", index=False)
    by_ward, by_oa, summary = agreement(read.mentions, oas, hotspots, s.disclosure)
    write_csv(vintage.publish(by_ward), folder.areas / "community_wards.csv", index=False)
    write_csv(vintage.publish(by_oa), folder.areas / "community_oas.csv")
    summary = {"file": Path(read.file).name, "rows_read": read.read,
               "rows_rejected": len(read.rejects), "reconciles": read.reconciles(),
               "reasons": read.rejects["reason"].value_counts().to_dict(), **summary}
    if read.rejects.size:
        log.warning("community insight: %d of %d rows not used (%s)", len(read.rejects),
                    read.read, folder.community / "rejects.csv")
    return by_ward, by_oa, summary


def run_pipeline(extracts: Path, key: Key, out: Path, settings: RunSettings
                 ) -> tuple[dict, ModelRun]:
    """The whole job from partner extracts to published outputs, as ``geo-risk run`` does.

    Builds the run in a staging folder and moves it to ``out`` when complete
    (:func:`~geo_risk.run.folder.staged`); see :class:`~geo_risk.run.folder.RunFolder`
    for what is written where. Returns the exact run record and the model stage's result.
    """
    with staged(out) as folder:
        record, model_run, _ = run_into(folder, extracts, key, settings)
    return record, model_run


def run_into(folder: RunFolder, extracts: Path, key: Key, settings: RunSettings
             ) -> tuple[dict, ModelRun, Linked]:
    """:func:`run_pipeline` into a folder already made (the demo's staging folder); the
    linked records besides, for the demo's evaluation."""
    started = time.perf_counter()
    laps: dict[str, float] = {}  # seconds of each stage, for run.json and bench_scale

    def lap(stage: str) -> None:
        laps[stage] = round(time.perf_counter() - started - sum(laps.values()), 2)

    s = settings
    outcome = get_outcome(s.outcome)
    s.disclosure.check("the run settings")
    oas, vintage, uprn_lookup = _geography(s.files)
    # what the community says is read first, so a file that cannot be used stops the run
    # before the long stages
    said = None if s.community is None else read_community(
        s.community, oas, reference_date=s.reference_date, postcodes=s.community_postcodes)
    lap("geography")
    recon = pseudonymise_folder(extracts, key, folder.pseudonymised, uprn_lookup=uprn_lookup)
    lap("pseudonymise")
    if recon.empty:
        raise GeoRiskError(f"{extracts}: no partner extract found; expected files named "
                           f"after their source ({', '.join(SOURCES)}) as .csv, .xlsx or "
                           ".parquet.")
    with executor(s.dask) as run:
        features, linked = run_link(folder.pseudonymised, folder.link,
                                    reference_date=s.reference_date, files=s.files,
                                    min_match_rate=s.min_match_rate, run=run,
                                    geography=(oas, vintage), outcome=outcome)
        check_refreshes(linked, s.refresh_dates, outcome)
        lap("link")
        model_run = run_model(features, folder, capacity=s.capacity,
                              known_within_months=s.known_within_months,
                              disclosure=s.disclosure, random_state=s.random_state,
                              outcome=outcome)
        lap("model")
        counts = features.counts
        del features  # written under link/, and not needed again (a county's: 0.4 GB)
        area_results = run_areas(model_run, linked, oas, folder, refresh_dates=s.refresh_dates,
                                 disclosure=s.disclosure, random_state=s.random_state,
                                 vintage=vintage, hotspots=s.hotspots,
                                 history=s.history, exact_fit=s.exact_fit, run=run,
                                 outcome=outcome)
        lap("areas")
        workers = run.peak_memory()
    record = _record(s, model_run.summary, recon, linked, counts, area_results, oas,
                     vintage)
    if s.review_ledger is not None:
        deprivation = (linked.households.set_index(HOUSEHOLD)[C.DEPRIVATION]
                       if C.DEPRIVATION in linked.households else None)
        reviews = latest_summary(s.review_ledger, deprivation, s.disclosure.count)
        if reviews is not None:
            record["reviews"] = reviews
    if s.previous is not None:
        comparison = compare_runs(s.previous, folder.root, rules=s.disclosure, oas=oas,
                                  outcome=outcome,
                                  new_published=published_summary(record, s.disclosure))
        write_comparison(comparison, folder)
        record["since_last_run"] = comparison.summary
        lap("compare")
    demand = demand_points(linked.households, model_run.children, oas)
    demand.points.to_parquet(folder.demand)  # for 'geo-risk site'
    siting = None
    if s.siting is not None:
        siting = plan_sites(demand, s.siting, oas, area_results.hotspots, s.disclosure)
        write_siting_tables(folder.siting, siting, vintage, outcome)
        record["siting"] = siting.summary
    lap("siting")
    community = None
    if said is not None:
        community = run_community(said, s, folder, oas, area_results.hotspots, vintage)
        record["community"] = community[2]
        lap("community")
    ctx = MapContext(area_name=s.area_name, reference_date=long_date(s.reference_date),
                     outcome=outcome.name,
                     attribution=s.attribution, marking=s.marking, tiles=s.background_tiles,
                     vintage=vintage.describe())
    run_info = _run_info(s, model_run.summary, recon, linked, oas, vintage, uprn_lookup)
    state = RunState(files=s.files, ctx=ctx, run_info=run_info, synthetic=s.synthetic,
                     disclosure=s.disclosure, vintage=vintage, random_state=s.random_state,
                     transparency=s.transparency).with_siting(s.siting, folder)
    state.write(folder)
    record["outputs"] = run_publish(folder, oas, area_results, record, ctx=ctx,
                                    linkage_report=linked.report, run_info=run_info,
                                    synthetic=s.synthetic, disclosure=s.disclosure,
                                    vintage=vintage, siting=siting, community=community)
    lap("publish")
    record["seconds"] = round(time.perf_counter() - started, 1)
    record["stage_seconds"] = laps
    if s.dask is not None:  # where the household stages ran: restricted/run.json only
        record["workers"] = {"where": s.dask.describe(), "peak_gib": workers}
    write_summaries(folder, record, state)
    return record, model_run, linked



def _geography(files: BoundaryFiles) -> tuple[gpd.GeoDataFrame, Vintage, UprnLookup | None]:
    """The run's output areas, their vintage, and the UPRN lookup of the same census."""
    oas, vintage = load_geography(files)
    uprn_lookup = read_uprn_lookup(files.uprn_lookup) if files.uprn_lookup else None
    if uprn_lookup is not None and uprn_lookup.census != vintage.census:
        raise BoundaryError(
            f"{files.uprn_lookup} has {uprn_lookup.header} ({uprn_lookup.census} output "
            f"areas) but {files.oa} holds {vintage.census} output areas; use a UPRN lookup "
            "of the boundaries' census (ONSUD and NSUL carry OA21CD).")
    return oas, vintage, uprn_lookup


def _record(s: RunSettings, m: dict, recon: pd.DataFrame, linked: Linked, counts: dict,
            area_results: AreaResults, oas: gpd.GeoDataFrame, vintage: Vintage
            ) -> dict[str, Any]:
    """The exact run record (``restricted/run.json``) as the stages left it."""
    return {
        "geo_risk": __version__,
        "reference_date": s.reference_date,
        "headline": {
            "households_at_risk": s.disclosure.count(m["households_flagged"]),
            "previously_unknown": s.disclosure.count(m["flagged_unknown"]),
            "households_scored": s.disclosure.count(m["households_scored"]),
            "flagged": m["capacity"],
        },
        "linkage": {
            "sources": linked.report.drop(columns="file").to_dict(orient="records"),
            "rows_read": int(recon["read"].sum()),
            "rows_rejected_at_source": int(recon["rejected"].sum()),
            "addresses_placed": linked.placed,
            **counts,
        },
        "model": m,
        "hotspots": area_results.summary,
        "boundaries": {"geography": vintage.describe(),
                       "polygons_repaired": list(oas.attrs.get("repaired", []))},
    }


def _run_info(s: RunSettings, m: dict, recon: pd.DataFrame, linked: Linked,
              oas: gpd.GeoDataFrame, vintage: Vintage, uprn_lookup: UprnLookup | None
              ) -> dict[str, str]:
    """How the run was made, in words: the GeoPackage's ``run_info`` layer, the
    transparency record and the report's method section read it."""
    return {
        "run_date": str(pd.Timestamp.now().date()), "geo_risk_version": __version__,
        "reference_date": s.reference_date, "refreshes": ", ".join(s.refresh_dates),
        "boundaries": f"{s.files.oa.name}; lookup {s.files.lookup.name}"
                      + (f"; deprivation {s.files.imd.name}" if s.files.imd else ""),
        "geography": vintage.describe(),
        "boundary_repairs": (f"{len(oas.attrs['repaired'])} invalid polygon(s) repaired "
                             f"(make_valid, polygonal parts kept): "
                             f"{', '.join(oas.attrs['repaired'])}"
                             if oas.attrs.get("repaired") else "none needed"),
        "households_placed": (
            f"by UPRN lookup {uprn_lookup.describe()}: "
            f"{s.disclosure.count(linked.placed['by_uprn_lookup'])} addresses; by point in "
            f"polygon: {s.disclosure.count(linked.placed['by_point'])}" if uprn_lookup else
            "by point in polygon (address coordinates)"),
        "ward_lookup": "by LSOA (ONS best fit)" if vintage.ward_level == "lsoa" else
                       "by output area",
        "deprivation_measure": (f"{MEASURES[vintage.measure]} ({vintage.deprivation})"
                                if vintage.deprivation else "none given"),
        "extracts": ", ".join(
            f"{r.source}: {s.disclosure.count(r.read)} rows"
            for r in recon.itertuples()),
        "capacity": m["capacity"],
        **{f"model_{k}": m[k] for k in ["holdout_cohort", "holdout_auc", "calibration_slope",
                                         "ece", "area_only_auc"] if k in m},
        "disclosure_control": s.disclosure.describe(),
        "retention": f"restricted and working material kept {months(s.retention):g} "
                     "months, then deleted "
                     "(geo-risk purge); published outputs and the audit log kept",
        "data": "synthetic households (geo-risk generator)" if s.synthetic else
                "partner extracts, pseudonymised at source",
        "licence": "Outputs: Open Government Licence v3.0 where the inputs allow",
        "attribution": s.attribution,
        "marking": s.marking,
    }


def write_siting_tables(folder: Path, outputs: SitingOutputs, vintage: Vintage,
                        words: Outcome = SCHOOL_READINESS) -> None:
    """``sites.csv`` (chosen and existing, ranked) and ``coverage_by_ward.csv`` (its
    expected count under the outcome's published name) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(site_table(outputs), folder / "sites.csv", index=False)
    write_csv(vintage.publish(outputs.by_ward.rename(columns=words.fields)),
              folder / "coverage_by_ward.csv")


def write_summaries(folder: RunFolder, record: dict, state: RunState) -> None:
    """The exact record in ``restricted/run.json``; the published one, marked complete,
    in ``publish/run.json``; the transparency record from the published one."""
    record = {**record, "complete": True}
    folder.record.write_text(json.dumps(record, indent=2) + "\n")
    published = published_summary(record, state.disclosure)
    folder.summary.write_text(json.dumps(published, indent=2) + "\n")
    write_transparency(folder.publish, published, state.run_info, state.transparency,
                       state.ctx.words)
