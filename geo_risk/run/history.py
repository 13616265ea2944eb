"""Refreshes of earlier runs, on this run's geography, for a longer hotspot history.

A run recomputes every refresh it can from its extracts; earlier refreshes whose records
are gone (retention) survive only as earlier runs' per-OA risk (``work/`` of each run).
:func:`extend_history` adds them, oldest first, to this run's series. Where an earlier run
used the other census's output areas, ONS's exact-fit lookup (``OA11CD, CHNGIND, OA21CD``;
``CHGIND`` in some releases) carries them across the 2021 change:

- ``U`` (unchanged) and ``M`` (merged: several 2011 OAs make one 2021 OA) map directly;
  counts of the merged areas add up;
- ``S`` (split: one 2011 OA makes several) is apportioned by this run's under-fives in
  each part, or by area where a part has none, so the parts add up to the parent;
- ``X`` (irregular: boundaries redrawn across several areas) is never best-fitted: those
  output areas have no value for the earlier refreshes, and the run lists their codes.

Risk is carried as its two counts (expected not school ready, children) and divided again,
so a merged or split area's mean is weighted by its children. Earlier runs scored with
their own model; emerging hot spots compare each refresh's areas with each other (risk
beyond deprivation per refresh), so a level shift between models does not read as a trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import ConfigError, SchemaError
from geo_risk.geography import read_code_columns, read_reference_csv

__all__ = ["ExactFit", "read_exact_fit", "translate_counts"]

CHANGES = {"U": "unchanged", "S": "split", "M": "merged", "X": "irregular"}


@dataclass(frozen=True)
class ExactFit:
    """An OA exact-fit lookup between two censuses: one row per (old, new) pair."""

    file: str
    old_census: int
    new_census: int
    pairs: pd.DataFrame  # old, new, change (U/S/M/X)


def read_exact_fit(path: Path) -> ExactFit:
    """Read ONS's OA 2011 -> 2021 exact-fit lookup (``OA11CD``, ``CHNGIND``, ``OA21CD``)."""
    path = Path(path)
    table = read_reference_csv(path, "[history] exact_fit")
    oa = {}
    for header in table.columns:
        codes = read_code_columns([header])
        if C.OA in codes:
            oa[codes[C.OA][1]] = header
    change = next((h for h in table.columns if h.strip().lower() in {"chngind", "chgind"}),
                  None)
    if len(oa) != 2 or change is None:
        raise SchemaError(
            f"{path}: an exact-fit lookup needs two output area columns of different censuses "
            f"and a change flag (OA11CD, CHNGIND, OA21CD); found {', '.join(table.columns)}.")
    old, new = sorted(oa)
    pairs = pd.DataFrame({"old": table[oa[old]].str.strip(), "new": table[oa[new]].str.strip(),
                          "change": table[change].str.strip().str.upper()})
    bad = sorted(set(pairs["change"]) - set(CHANGES))
    if bad:
        raise SchemaError(f"{path}: {change} must be U, S, M or X; found {', '.join(bad[:3])}.")
    return ExactFit(path.name, old, new, pairs.drop_duplicates())


def translate_counts(counts: dict[str, pd.DataFrame], fit: ExactFit, weight: pd.Series,
                     area: pd.Series) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Counts by old OA (rows) and refresh (columns) as counts by new OA.

    ``weight`` (new OA -> under-fives now) apportions splits, ``area`` (new OA -> m²)
    where every part of a split has no under-fives. Returns the translated tables (every
    new OA of ``weight``'s index; irregular ones missing) and the irregular new OAs.
    """
    pairs = fit.pairs
    irregular = pairs["change"] == "X"
    irregular_new = sorted(set(pairs.loc[irregular, "new"]))
    regular = pairs[~irregular & ~pairs["new"].isin(irregular_new)].copy()
    w = weight.reindex(regular["new"]).fillna(0).to_numpy(float)
    a = area.reindex(regular["new"]).fillna(0).to_numpy(float)
    by_old_w = pd.Series(w).groupby(regular["old"].to_numpy()).transform("sum").to_numpy()
    by_old_a = pd.Series(a).groupby(regular["old"].to_numpy()).transform("sum").to_numpy()
    share = np.where(by_old_w > 0, w / np.where(by_old_w > 0, by_old_w, 1),
                     a / np.where(by_old_a > 0, by_old_a, 1))
    regular["share"] = share
    out = {}
    for name, table in counts.items():
        moved = table.reindex(regular["old"]).to_numpy(float) * share[:, None]
        frame = pd.DataFrame(moved, columns=table.columns).groupby(
            regular["new"].to_numpy()).sum(min_count=1)
        out[name] = frame.reindex(weight.index)
    return out, irregular_new


def earlier_run(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """An earlier finished run's per-OA risk and children by refresh, and its census."""
    from geo_risk.run.folder import RunFolder
    from geo_risk.run.state import RunState

    run = RunFolder(Path(folder))
    needed = [run.risk_by_refresh, run.children_by_refresh, run.state]
    missing = [run.relative(p) for p in needed if not p.is_file()]
    if missing:
        raise ConfigError(f"[history] {folder}: not a finished geo-risk run with its work/ "
                          f"tables (no {', '.join(missing)}); list the --out folders of "
                          "earlier runs.")
    census = RunState.census_of(run)
    return (pd.read_parquet(run.risk_by_refresh), pd.read_parquet(run.children_by_refresh),
            census)


def extend_history(mean: pd.DataFrame, children: pd.DataFrame, runs: list[Path], *,
                   census: int, fit: ExactFit | None, weight: pd.Series, area: pd.Series
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """This run's risk and children by refresh with the earlier ``runs``' refreshes that
    it lacks added before them, all on this run's output areas (``weight``'s index).

    Returns the extended ``mean`` and ``children`` and the notes for ``run.json``: the
    runs, the refreshes added, how they were carried across a census change and the
    irregular (``X``) output areas left without a value.
    """
    notes: dict = {"runs": [str(r) for r in runs], "refreshes_added": []}
    means, counts = [mean], [children]
    for folder in runs:
        m, n, theirs = earlier_run(folder)
        dates = [d for d in m.columns
                 if d not in set().union(*(set(c.columns) for c in means))]
        if not dates:
            continue
        m, n = m[dates], n[dates].astype(float)
        if theirs != census:
            if fit is None or (fit.old_census, fit.new_census) != (theirs, census):
                raise ConfigError(
                    f"[history] {folder} is on {theirs} output areas and this run on {census}; "
                    f"give [history] exact_fit = the ONS OA{theirs % 100:02d} -> "
                    f"OA{census % 100:02d} exact-fit lookup CSV (OA11CD, CHNGIND, OA21CD).")
            moved, irregular = translate_counts(
                {"expected": m.fillna(0.0) * n, "children": n}, fit, weight, area)
            n = moved["children"]
            m = moved["expected"] / n.where(n > 0)
            changes = fit.pairs.drop_duplicates("old")["change"].value_counts()
            notes["exact_fit"] = fit.file
            notes["changes"] = {CHANGES[k]: int(changes.get(k, 0)) for k in CHANGES}
            notes["irregular_oas"] = sorted(set(notes.get("irregular_oas", [])) | set(irregular))
        else:
            m, n = m.reindex(weight.index), n.reindex(weight.index)
        means.append(m)
        counts.append(n)
        notes["refreshes_added"] += dates
    order = sorted(set().union(*(set(c.columns) for c in means)))
    mean = pd.concat(means, axis=1)[order]
    children = pd.concat(counts, axis=1)[order].fillna(0.0)
    notes["refreshes_added"] = sorted(notes["refreshes_added"])
    return mean, children, notes
