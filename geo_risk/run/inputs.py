"""Partner extracts to linked tables, the first stages of a run: find each partner's
extract in the extracts folder, pseudonymise it, link the records to households placed in
the output areas, describe them as of the reference date, and stop with one error when
the records cannot carry the run (a whole extract rejected, a reference date or
refreshes the records cannot describe). :mod:`geo_risk.run.pipeline` goes on from here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, ConfigError, GeoRiskError, SchemaError
from geo_risk.areas import MIN_REFRESHES
from geo_risk.geography import BoundaryFiles, Vintage, load_geography
from geo_risk.inputs import (
    HERE,
    REASONS,
    REJECT_COLUMNS,
    SOURCES,
    Executor,
    Key,
    Linked,
    UprnLookup,
    link_sources,
    pseudonymise_files,
    read_pseudonymised,
)
from geo_risk.io import column_name, write_csv
from geo_risk.model import (
    FeatureTables,
    Outcome,
    build_feature_tables,
    dates_without_under_fives,
)

__all__ = ["EXTRACT_FORMATS", "check_refreshes", "find_extracts",
           "pseudonymise_folder", "run_link"]

log = logging.getLogger(__name__)


def pseudonymise_folder(extracts: Path, key: Key, out: Path, *,
                        uprn_lookup: UprnLookup | None = None) -> pd.DataFrame:
    """Pseudonymise every ``<source>.csv`` (or .xlsx/.parquet) in a folder, as each partner
    would (the addresses with their OA from ``uprn_lookup``, when given); returns the
    reconciliation table (file, source, read, kept, rejected)."""
    jobs = [(path, source, Path(out) / f"{source}.parquet")
            for source, path in find_extracts(extracts).items()]
    counts = pd.DataFrame(pseudonymise_files(jobs, key, uprn_lookup=uprn_lookup))
    for (path, _, parquet), row in zip(jobs, counts.itertuples(), strict=True):
        if row.kept == 0 and row.rejected > 0:
            _all_rejected(path, parquet.with_suffix(".rejects.csv"), row.rejected)
    return counts


#: The formats an extract is read from, and those a partner may send that are not.
EXTRACT_FORMATS = {".csv", ".tsv", ".xlsx", ".xlsm", ".parquet"}
_UNREAD_FORMATS = {".xls", ".ods", ".gz", ".zip", ".7z", ".sav", ".dta", ".accdb",
                   ".mdb"}


def find_extracts(folder: Path) -> dict[str, Path]:
    """Each partner's extract in ``folder``: a file named after its source, in any case and
    with spaces for underscores (``Child Register.xlsx``). A table no source is named by,
    one in a format geo-risk does not read, or two files for one source stop the run,
    naming them, rather than running on without their rows; other files (notes, a
    spreadsheet's lock file) are passed over, and logged."""
    found: dict[str, list[Path]] = {}
    for path in sorted(Path(folder).iterdir()):
        suffix, source = path.suffix.lower(), column_name(path.name.split(".")[0])
        tabular = suffix in EXTRACT_FORMATS | _UNREAD_FORMATS
        if path.is_dir() or path.name.startswith((".", "~$")) or not tabular:
            log.info("%s: not an extract, passed over", path)
        elif source not in SOURCES:
            raise SchemaError(
                f"{path}: names no partner extract, so its rows would not be read. Name each "
                f"extract after its source ({', '.join(SOURCES)}), or move the file out of "
                "the extracts folder.")
        elif suffix not in EXTRACT_FORMATS:
            raise SchemaError(f"{path}: geo-risk reads extracts as CSV, XLSX or Parquet; save "
                              "it as one of those (uncompressed).")
        else:
            found.setdefault(source, []).append(path)
    for source, paths in found.items():
        if len(paths) > 1:
            raise SchemaError(
                f"{folder}: {len(paths)} files for the {source} extract "
                f"({', '.join(p.name for p in paths)}); keep one, so that no row is read twice "
                "or left out.")
    return {source: found[source][0] for source in SOURCES if source in found}


def _all_rejected(path: Path, rejects: Path, n: int) -> None:
    """An extract none of whose rows could be used has a fault of the whole file (a column
    exported as a formula, a code the schema does not know): stop rather than run on as if
    the partner had sent nothing."""
    why = pd.read_csv(rejects, dtype=str, keep_default_na=False).value_counts(
        ["column", "reason"])
    (column, reason), most = why.index[0], why.iloc[0]
    raise SchemaError(
        f"{path}: all {n:,} rows were rejected, {most:,} of them for {column or 'the row'}: "
        f"{REASONS.get(reason, reason)}. Fix the column and export the extract again (`geo-"
        "risk pseudonymise` lists every row's reason), or take the file out of the extracts "
        "folder to run without it.")


#: What :func:`run_link` says of the tables it wrote: the outcome they are for.
TABLES_JSON = "tables.json"


def run_link(
    pseudonymised: Path,
    out: Path,
    *,
    reference_date: str,
    files: BoundaryFiles,
    min_match_rate: float = 0.9,
    run: Executor = HERE,
    geography: tuple[gpd.GeoDataFrame, Vintage] | None = None,
    outcome: Outcome | None = None,
) -> tuple[FeatureTables, Linked]:
    """Link pseudonymised extracts and build the feature tables; write them under ``out``.

    Writes ``households.parquet``, ``children.parquet``, ``tables.json`` (the outcome they
    were built for and their counts), ``linkage_report.csv`` and ``rejects.csv`` (rows
    rejected at source, read from each ``*.rejects.csv``, and rows that could not be
    linked). Returns the tables and the linked records (with the
    linkage report). ``geography`` is ``files`` already loaded (by
    :func:`~geo_risk.geography.boundaries.load_geography`), which a run does once.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {p.stem: read_pseudonymised(p) for p in sorted(Path(pseudonymised).glob("*.parquet"))}
    oas, vintage = geography or load_geography(files)
    census = tables.get("addresses", (None, {}))[1].get("uprn_lookup_census")
    if census is not None and census != vintage.census:
        raise BoundaryError(
            f"{pseudonymised}: the addresses were placed by a UPRN lookup of {census} output "
            f"areas ({tables['addresses'][1]['uprn_lookup']}) but {files.oa} holds "
            f"{vintage.census} output areas; use a lookup and boundaries of one census.")
    linked = link_sources(tables, oas, min_match_rate=min_match_rate)
    _empty_districts(linked, oas, files)
    _check_reference_date(linked, reference_date)
    features = build_feature_tables(linked, reference_date, run=run, outcome=outcome)
    features.households.to_parquet(out / "households.parquet", index=False)
    features.children.to_parquet(out / "children.parquet", index=False)
    (out / TABLES_JSON).write_text(json.dumps(
        {"outcome": features.outcome, "counts": features.counts}, indent=2) + "\n")
    write_csv(linked.report, out / "linkage_report.csv", index=False)
    at_source = [pd.read_csv(p, dtype=str, keep_default_na=False)
                 for p in sorted(Path(pseudonymised).glob("*.rejects.csv"))]
    rejects = pd.concat([*at_source, linked.rejects.astype(str)], ignore_index=True)
    write_csv(rejects.reindex(columns=REJECT_COLUMNS), out / "rejects.csv", index=False)
    return features, linked


def _empty_districts(linked: Linked, oas, files: BoundaryFiles) -> None:
    """Warn when the boundaries cover districts without a single household: boundaries of
    a wider area (England's), whose empty districts would fill the maps and the tables."""
    if C.LAD not in oas or C.LAD not in linked.households or oas[C.LAD].nunique() < 2:
        return
    empty = sorted(set(oas[C.LAD]) - set(linked.households[C.LAD]))
    if empty:
        message = (f"{files.oa}: {len(empty)} of the {oas[C.LAD].nunique()} districts the "
                   f"boundaries cover hold no household (e.g. {', '.join(empty[:3])}); name "
                   "the run's districts in [boundaries] districts to leave them out.")
        log.warning(message)
        linked.warnings.append(message)


#: How long after the newest record the reference date may lie: an extract is taken a
#: little after the events it holds. Later, the time since would read as a time in which
#: no family had an event, and refreshes past the register's births as no under-fives.
STALE_AFTER = pd.Timedelta(days=92)


def _check_reference_date(linked: Linked, reference_date: str) -> None:
    """Stop when the reference date lies well after every record in the extracts."""
    newest = {source: table.select_dtypes("datetime").max().max()
              for tables in [linked.events, linked.area_events]
              for source, table in tables.items() if len(table)}
    newest = {source: when for source, when in newest.items() if pd.notna(when)}
    if not newest:
        return
    source = max(newest, key=lambda s: newest[s])
    when, reference = newest[source], pd.Timestamp(reference_date)
    if reference > when + STALE_AFTER:
        raise GeoRiskError(
            f"reference date {reference.date()}: the newest record in the extracts is dated "
            f"{when.date()} ({source}), {(reference - when).days:,} days earlier, so features "
            "as of the reference date would read the time since as a time without events. "
            "Set reference_date to the day the extracts were taken, or use extracts that "
            "reach it.")


def check_refreshes(linked: Linked, refresh_dates: list[str],
                    outcome: Outcome | None = None) -> None:
    """Stop when a refresh (or the reference date, the last) finds nobody to score (no
    under-fives in the child register, for school readiness): it has no risk to map, and
    the hot spot series would have a hole."""
    empty = dates_without_under_fives(linked, refresh_dates, outcome)
    if not empty:
        return
    if outcome is not None and outcome.unit[0] == "household":
        raise GeoRiskError(
            f"on {empty[-1]} no household is among {outcome.scored} (as of that date), so "
            "there is no risk to map; check the police extract's dates and categories, or "
            "set fewer refreshes.")
    fit = len(refresh_dates) - 1 - refresh_dates.index(empty[-1])
    if fit < MIN_REFRESHES:
        when = "the reference date" if empty[-1] == refresh_dates[-1] else "that refresh"
        raise GeoRiskError(
            f"on {empty[-1]} no child aged 0-4 in the child register lives at an address in "
            f"the output areas, so {when} "
            "has no risk to map; check the register's dates of birth, the reference date, and "
            "the register's links to addresses (restricted/link/linkage_report.csv).")
    raise ConfigError(
        f"refreshes = {len(refresh_dates)} reach back to {refresh_dates[0]}, but on "
        f"{len(empty)} of them ({empty[0]} to {empty[-1]}) the child register holds no child "
        f"aged 0-4, so there is no risk to map; the latest {fit} each have some. Set "
        f"refreshes = {fit} or fewer.")
