"""Retention: restricted material of old runs is deleted; what was published stays.

``geo-risk purge ROOT --older-than 18m`` finds the run folders under ``ROOT`` (the folder
itself, its children and grandchildren that carry the run marker) finished before the
cut-off (the time ``publish/run.json`` was written) and deletes their ``restricted/``
(flagged list, household scores, exact figures, linked tables, pseudonymised extracts)
and ``work/`` (between-stage tables). ``publish/`` and the audit log are kept. Each
purged run gets ``PURGED.txt`` saying when, under which period and what was deleted; the
command's audit record lists the same.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from geo_risk.run.folder import MARKER, RunFolder

__all__ = ["Purged", "purge"]


@dataclass(frozen=True)
class Purged:
    run: Path
    finished: dt.datetime
    deleted: list[str]  # folders deleted, relative to the run
    files: int
    bytes: int


def _runs(root: Path) -> list[RunFolder]:
    candidates = [root, *root.glob("*"), *root.glob("*/*")]
    return [RunFolder(p) for p in sorted(candidates) if (p / MARKER).is_file()]


def purge(root: Path, *, older_than_months: float, now: dt.datetime | None = None,
          dry_run: bool = False) -> list[Purged]:
    """Delete the restricted and working material of runs under ``root`` finished more
    than ``older_than_months`` ago; return what was (or, with ``dry_run``, would be)
    deleted."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=older_than_months * 30.4375)
    done = []
    for run in _runs(Path(root)):
        if not run.summary.is_file():
            continue
        finished = dt.datetime.fromtimestamp(run.summary.stat().st_mtime, dt.UTC)
        targets = [p for p in [run.restricted, run.work] if p.exists()]
        if finished >= cutoff or not targets:
            continue
        files = [f for t in targets for f in t.rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        deleted = [run.relative(t) for t in targets]
        if not dry_run:
            for target in targets:
                shutil.rmtree(target)
            with open(run.root / "PURGED.txt", "a", encoding="utf-8") as note:
                note.write(f"{now.isoformat(timespec='seconds')}: restricted and working "
                           f"material deleted under a retention period of "
                           f"{older_than_months:g} months (run finished "
                           f"{finished.date()}): {', '.join(deleted)} ({len(files)} files, "
                           f"{size:,} bytes). publish/ is kept.\n")
        done.append(Purged(run.root, finished, deleted, len(files), size))
    return done
