"""The whole run, stage after stage; ``geo-risk demo`` on the embedded synthetic town.

Each stage is called through its public function; this module only wires them, writes
their outputs and records headline figures in ``OUT/run.json``. Later stages (model,
hotspots, outputs, siting) join here as they are built.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from geo_risk import __version__
from geo_risk.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles, load_boundaries
from geo_risk.features import FeatureTables, build_feature_tables
from geo_risk.ingest import REJECT_COLUMNS
from geo_risk.link import link_sources
from geo_risk.pseudonymise import (
    Key,
    pseudonymise_extract,
    read_pseudonymised,
    write_pseudonymised,
)
from geo_risk.schemas import SOURCES

__all__ = ["pseudonymise_folder", "run_demo", "run_link"]

log = logging.getLogger(__name__)


def pseudonymise_folder(extracts: Path, key: Key, out: Path) -> pd.DataFrame:
    """Pseudonymise every ``<source>.csv`` (or .xlsx/.parquet) in a folder, as each partner
    would; returns the reconciliation table (file, source, read, kept, rejected)."""
    rows = []
    for source in SOURCES:
        found = sorted(p for p in Path(extracts).glob(f"{source}.*")
                       if p.suffix.lower() in {".csv", ".xlsx", ".parquet"})
        if not found:
            continue
        result = pseudonymise_extract(found[0], source, key)
        write_pseudonymised(result, Path(out) / f"{source}.parquet")
        rows.append(result.reconciliation)
    return pd.DataFrame(rows)


def run_link(
    pseudonymised: Path,
    out: Path,
    *,
    reference_date: str,
    files: BoundaryFiles = DEFAULT_BOUNDARIES,
    min_match_rate: float = 0.9,
) -> tuple[FeatureTables, pd.DataFrame]:
    """Link pseudonymised extracts and build the feature tables; write them under ``out``.

    Writes ``households.parquet``, ``children.parquet``, ``linkage_report.csv`` and
    ``rejects.csv`` (rows rejected at source, read from each ``*.rejects.csv``, and rows
    that could not be linked). Returns the tables and the linkage report.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {p.stem: read_pseudonymised(p) for p in sorted(Path(pseudonymised).glob("*.parquet"))}
    linked = link_sources(tables, load_boundaries(files), min_match_rate=min_match_rate)
    features = build_feature_tables(linked, reference_date)
    features.households.to_parquet(out / "households.parquet", index=False)
    features.children.to_parquet(out / "children.parquet", index=False)
    linked.report.to_csv(out / "linkage_report.csv", index=False)
    at_source = [pd.read_csv(p, dtype=str, keep_default_na=False)
                 for p in sorted(Path(pseudonymised).glob("*.rejects.csv"))]
    rejects = pd.concat([*at_source, linked.rejects.astype(str)], ignore_index=True)
    rejects.reindex(columns=REJECT_COLUMNS).to_csv(out / "rejects.csv", index=False)
    return features, linked.report


def run_demo(out: Path, *, seed: int = 1, periods: int = 16) -> dict:
    """Run everything built so far on the embedded synthetic town.

    ``out/synth/``: the synthetic world (extracts and truth); ``out/pseudonymised/``: the
    extracts after pseudonymisation at source, with their rejects; ``out/link/``: the
    household and child tables, the linkage report and all rejects; ``out/run.json``:
    headline figures. Returns the contents of ``run.json``.
    """
    from geo_risk.synth.checks import describe_world
    from geo_risk.synth.world import make_world, write_world

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    world = make_world(DEFAULT_BOUNDARIES, seed=seed, periods=periods)
    write_world(world, out / "synth")
    reference_date = str(world.population.timeline.end)
    recon = pseudonymise_folder(out / "synth/extracts", Key.for_demo(seed), out / "pseudonymised")
    features, report = run_link(out / "pseudonymised", out / "link",
                                reference_date=reference_date)
    summary = {
        "geo_risk": __version__,
        "seed": seed,
        "reference_date": reference_date,
        "synth": describe_world(world),
        "linkage": {
            "sources": report.drop(columns="file").to_dict(orient="records"),
            "rows_read": int(recon["read"].sum()),
            "rows_rejected_at_source": int(recon["rejected"].sum()),
            **features.counts,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("demo finished in %.1f s", summary["seconds"])
    return summary
