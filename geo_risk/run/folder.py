"""The run folder: one object names every path under ``OUT/``, and a run is atomic.

::

    OUT/
      publish/       what may be handed to a board or put on a website, as it is:
                     index.html, maps/, geo_risk.gpkg, areas/, model/, siting/,
                     transparency/, since_last_run/ (with a previous run), run.json
                     (every count of people or households disclosure-controlled)
      restricted/    NOT FOR PUBLICATION: flagged_households.csv (pseudonymised keys),
                     household_scores.parquet (every household scored, for another
                     capacity or an evaluation), model.joblib (the fitted model, for
                     the next run's monitoring), run.json with exact figures, link/
                     (linkage report, rejected rows,
                     linked tables), pseudonymised/ (the partners' extracts) and
                     since_last_run/ (flag churn, monitoring; with a previous run)
      work/          NOT FOR PUBLICATION: between-stage tables and the run's settings, for
                     'geo-risk hotspots' and 'geo-risk site'
      synth/         the synthetic world and its evaluation ('geo-risk demo' only)

A run is built in a staging folder beside ``OUT`` (``.OUT.incomplete``) and moved into
place only when complete (:func:`staged`): a killed run leaves the previous run as it
was and nothing that looks finished, and a new run replaces the whole previous one, so
nothing stale survives. ``publish/run.json`` records ``"complete": true``. One run at a
time builds a folder: a second run (or ``hotspots``, ``site``) into the same ``OUT`` stops
with an error while the first holds ``.OUT.lock``, so two runs never write one staging
folder; the operating system releases the lock with its process, so a killed run
never blocks the next.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from geo_risk._errors import OutputError

__all__ = ["MARKER", "RunFolder", "staged"]

#: Written into every run folder; only a folder holding it (or an empty one) is replaced.
MARKER = ".geo-risk-run"

_NOT_FOR_PUBLICATION = (
    "NOT FOR PUBLICATION. This folder holds {what}. Keep it with the data controller; "
    "never put it in a board pack, on a website or in an e-mail. What may be published is "
    "in ../publish/.\n")


@dataclass(frozen=True)
class RunFolder:
    """Every path of a run under its root (see the module docstring)."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # published
    @property
    def publish(self) -> Path:
        return self.root / "publish"

    @property
    def report(self) -> Path:
        return self.publish / "index.html"

    @property
    def maps(self) -> Path:
        return self.publish / "maps"

    @property
    def geopackage(self) -> Path:
        return self.publish / "geo_risk.gpkg"

    @property
    def areas(self) -> Path:
        return self.publish / "areas"

    @property
    def model(self) -> Path:
        return self.publish / "model"

    @property
    def siting(self) -> Path:
        return self.publish / "siting"

    @property
    def summary(self) -> Path:
        """The published run.json (disclosure-controlled)."""
        return self.publish / "run.json"

    # restricted
    @property
    def restricted(self) -> Path:
        return self.root / "restricted"

    @property
    def flagged(self) -> Path:
        return self.restricted / "flagged_households.csv"

    @property
    def review_form(self) -> Path:
        return self.restricted / "review_form.csv"

    @property
    def scores(self) -> Path:
        """Every scored household's score, rank and status (restricted)."""
        return self.restricted / "household_scores.parquet"

    @property
    def fitted_model(self) -> Path:
        """The fitted model (restricted): a later run scores the results that arrive with
        it (:mod:`geo_risk.run.compare`). A pickle: load only a run folder you made."""
        return self.restricted / "model.joblib"

    @property
    def record(self) -> Path:
        """run.json with exact figures (restricted)."""
        return self.restricted / "run.json"

    @property
    def community(self) -> Path:
        """The community insight as placed (its places and dates) and its rejects."""
        return self.restricted / "community"

    @property
    def link(self) -> Path:
        return self.restricted / "link"

    @property
    def pseudonymised(self) -> Path:
        return self.restricted / "pseudonymised"

    # between stages
    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def state(self) -> Path:
        return self.work / "run_state.json"

    @property
    def risk_by_refresh(self) -> Path:
        return self.work / "oa_risk_by_refresh.parquet"

    @property
    def children_by_refresh(self) -> Path:
        return self.work / "oa_children_by_refresh.parquet"

    @property
    def risk_se_by_refresh(self) -> Path:
        return self.work / "oa_risk_se_by_refresh.parquet"

    @property
    def current_risk(self) -> Path:
        return self.work / "oa_current.parquet"

    @property
    def demand(self) -> Path:
        return self.work / "oa_demand.parquet"

    # the demo's synthetic world
    @property
    def synth(self) -> Path:
        return self.root / "synth"

    def make(self) -> RunFolder:
        """Create the folders, each unpublished one saying so in a file of its own."""
        for folder in [self.publish, self.restricted, self.work]:
            folder.mkdir(parents=True, exist_ok=True)
        (self.root / MARKER).write_text("a geo-risk run folder\n")
        (self.restricted / "NOT_FOR_PUBLICATION.txt").write_text(_NOT_FOR_PUBLICATION.format(
            what="pseudonymised records, the restricted list of flagged households and "
                 "exact counts"))
        (self.work / "NOT_FOR_PUBLICATION.txt").write_text(_NOT_FOR_PUBLICATION.format(
            what="unrounded tables passed between the stages of the run"))
        return self

    @overload
    def relative(self, path: Path) -> str: ...

    @overload
    def relative(self, path: None) -> None: ...

    def relative(self, path: Path | None) -> str | None:
        """``path`` relative to the root when inside it (so a run can move), else absolute
        (a path relative to where a command ran would not be found by a later command)."""
        if path is None:
            return None
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(Path(path).resolve())

    def resolve(self, value: str | None) -> Path | None:
        """The inverse of :meth:`relative`."""
        return None if value is None else self.root / value


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file, not a folder; give a folder for the run.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(
            f"--out {out}: the folder holds other files and is not a geo-risk run; a run "
            "replaces its whole folder, so give a new or empty folder.")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"--out {out}: cannot create {parent} ({err.strerror}); choose a "
                          "folder you can write to.") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out {out}: {parent} cannot be written; choose a folder you "
                          "can write to.")


@contextmanager
def _only_run(out: Path) -> Iterator[None]:
    """Hold ``.OUT.lock`` beside ``out`` for the block, or stop if another run holds it.

    The lock is a POSIX record lock (``lockf``): it belongs to this process alone, not to
    the workers it forks (which an ``flock`` would pass on, so a killed run's workers could
    block the next run while they wound down), and the system releases it when the
    process ends, however it ends. A record lock does not keep one process from itself,
    so a second block in this process is refused by :data:`_HELD`."""
    lock = out.parent / f".{out.name}.lock"
    busy = OutputError(f"--out {out}: another geo-risk run is writing this folder now; "
                       "wait for it to finish, or give another folder.")
    if lock.resolve() in _HELD:
        raise busy
    with open(lock, "a+b") as handle:
        try:
            if sys.platform == "win32":  # pragma: no cover
                import msvcrt
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise busy from None
        _HELD.add(held := lock.resolve())
        try:
            yield
        finally:  # removed while still held: a run that opened it before waits no more
            _HELD.discard(held)
            lock.unlink(missing_ok=True)


#: The lock files this process holds.
_HELD: set[Path] = set()


@contextmanager
def staged(out: Path, *, start_from_current: bool = False) -> Iterator[RunFolder]:
    """Build a run in ``.OUT.incomplete`` beside ``out`` and move it into place when the
    block finishes; on an error the staging folder is removed and ``out`` is untouched.

    ``start_from_current`` copies the finished run first (a later stage run again on it).
    """
    out = Path(out)
    _check_target(out)
    stage = out.parent / f".{out.name}.incomplete"
    previous = out.parent / f".{out.name}.previous"
    with _only_run(out):
        for stale in [stage, previous]:  # left by a killed run
            if stale.exists():
                shutil.rmtree(stale)
        if start_from_current:
            shutil.copytree(out, stage, symlinks=True)
        try:
            yield RunFolder(stage).make()
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if out.exists():
            out.rename(previous)
        stage.rename(out)
        shutil.rmtree(previous, ignore_errors=True)
