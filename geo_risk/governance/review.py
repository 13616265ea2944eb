"""The practitioners' review ledger: what was done with each flag, kept apart.

Each run writes ``restricted/review_form.csv`` beside the flagged list: one row per flagged
household (pseudonymised key, rank) with empty columns for the review: ``review_date``,
``role`` (a role, never a name), ``decision`` (one of :data:`DECISIONS`), ``reason`` (short
free text) and ``overridden`` (Y if the practitioner set the flag aside). ``geo-risk review
import`` checks a filled form against the run's flagged list and stores it in a SQLite
ledger that the data controller keeps (``[review] ledger``); rows it cannot use go to
``<form>.rejects.csv`` with row, column and reason, and rows left blank are not reviewed
yet. The next run's report gives a published, disclosure-controlled summary (share of flags
reviewed, decisions by type, override rate by deprivation quintile). Nothing from the
ledger feeds the model.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geo_risk._errors import SchemaError
from geo_risk.columns import HOUSEHOLD
from geo_risk.inputs.ingest import parse_dates
from geo_risk.io.escape import write_csv
from geo_risk.io.read import read_table

__all__ = [
    "DECISIONS",
    "FORM_COLUMNS",
    "import_reviews",
    "latest_summary",
    "read_ledger",
    "review_form",
]

DECISIONS = ("offered support", "already supported", "not appropriate", "could not contact")
FORM_COLUMNS = [HOUSEHOLD, "rank", "review_date", "role", "decision", "reason", "overridden"]
REASON_CHARS = 200

_SCHEMA = """CREATE TABLE IF NOT EXISTS reviews (
    household_key TEXT NOT NULL, reference_date TEXT NOT NULL, review_date TEXT NOT NULL,
    role TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT, overridden INTEGER NOT NULL,
    imported TEXT NOT NULL, PRIMARY KEY (household_key, reference_date));
CREATE TABLE IF NOT EXISTS runs (reference_date TEXT PRIMARY KEY, flags INTEGER NOT NULL)"""


def review_form(flagged: pd.DataFrame) -> pd.DataFrame:
    """The review form for a run's flagged households (restricted, like the list): each
    household's key and rank, with the columns practitioners fill in left empty.

    Parameters
    ----------
    flagged : DataFrame
        The flagged households: ``household_key`` and ``rank``.

    Returns
    -------
    DataFrame
        :data:`FORM_COLUMNS`, in the order of ``flagged``.
    """
    form = flagged[[HOUSEHOLD, "rank"]].copy()
    for column in FORM_COLUMNS[2:]:
        form[column] = ""
    return form


def import_reviews(ledger: Path, form: Path, flagged: Path, reference_date: str
                   ) -> dict[str, int]:
    """Check a filled review form against the run's flagged list and add it to the
    ledger (a later review of the same flag replaces the earlier one). Returns counts:
    ``rows``, ``imported``, ``not_reviewed`` (left blank), ``rejected`` (in
    ``<form>.rejects.csv``).

    Parameters
    ----------
    ledger : Path
        The review ledger (SQLite; made if absent).
    form : Path
        The filled review form (CSV or workbook, as saved).
    flagged : Path
        The run's restricted list of flagged households.
    reference_date : str
        The run's reference date (ISO).

    Returns
    -------
    dict of str to int
        ``rows``, ``imported``, ``not_reviewed`` and ``rejected``.
    """
    form, flagged = Path(form), Path(flagged)
    if not form.is_file():
        raise SchemaError(f"{form}: file not found; pass the filled review form.")
    if not flagged.is_file():
        raise SchemaError(f"{flagged}: no flagged list; pass the --run folder the form came "
                          "from.")
    table = read_table(form)  # as a spreadsheet saved it: any encoding, separator, .xlsx
    missing = [c for c in FORM_COLUMNS if c not in table]
    if missing:
        raise SchemaError(f"{form}: missing column(s) {', '.join(missing)}; fill in the "
                          "review_form.csv the run wrote, keeping its header.")
    table["row"] = table.index + 2  # the header is row 1; blank lines (no flags) left out
    keys = set(pd.read_csv(flagged, dtype=str)[HOUSEHOLD])
    flags = len(keys)
    blank = (table[["review_date", "role", "decision", "reason", "overridden"]]
             .apply(lambda c: c.str.strip()).eq("").all(axis=1))
    rows = table[~blank].copy()
    dates, _ = parse_dates(rows["review_date"].str.strip())
    decision = rows["decision"].str.strip().str.lower()
    overridden = rows["overridden"].str.strip().str.upper().map(
        {"Y": 1, "YES": 1, "N": 0, "NO": 0, "": 0})
    problems = [
        (~rows[HOUSEHOLD].isin(keys), HOUSEHOLD, "not in this run's flagged list"),
        (dates.isna(), "review_date", "not a date (2025-03-31 or 31/03/2025)"),
        (rows["role"].str.strip() == "", "role", "empty: give the reviewer's role"),
        (~decision.isin(DECISIONS), "decision", f"must be one of: {', '.join(DECISIONS)}"),
        (rows["reason"].str.len() > REASON_CHARS, "reason",
         f"longer than {REASON_CHARS} characters; keep it short"),
        (overridden.isna(), "overridden", "must be Y or N"),
    ]
    bad = pd.Series(False, index=rows.index)
    rejects = []
    for mask, column, reason in problems:
        new = mask & ~bad
        rejects += [(r, column, reason) for r in rows.loc[new, "row"]]
        bad |= mask
    write_csv(pd.DataFrame(sorted(rejects), columns=["row", "column", "reason"]),
              form.with_suffix(".rejects.csv"), index=False)
    good = rows[~bad]
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with sqlite3.connect(ledger) as db:
        db.executescript(_SCHEMA)
        db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?)", (str(reference_date), flags))
        db.executemany(
            "INSERT OR REPLACE INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(k, str(reference_date), str(d.date()), role.strip(), dec, reason.strip(),
              int(o), now)
             for k, d, role, dec, reason, o in zip(
                 good[HOUSEHOLD], dates[~bad], good["role"], decision[~bad], good["reason"],
                 overridden[~bad], strict=True)])
    Path(ledger).chmod(0o600)
    return {"rows": len(table), "imported": len(good), "not_reviewed": int(blank.sum()),
            "rejected": len(rejects)}


def read_ledger(ledger: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every review in the ledger, and each reviewed run's number of flags.

    Parameters
    ----------
    ledger : Path
        The review ledger.

    Returns
    -------
    reviews : DataFrame
        One row per reviewed flag.
    runs : DataFrame
        ``reference_date`` and ``flags`` of each run with reviews.
    """
    if not Path(ledger).is_file():
        raise SchemaError(f"{ledger}: no review ledger here; 'geo-risk review import' makes "
                          "it.")
    with sqlite3.connect(ledger) as db:
        return (pd.read_sql_query("SELECT * FROM reviews", db),
                pd.read_sql_query("SELECT * FROM runs", db))


def latest_summary(ledger: Path, deprivation: pd.Series | None,
                   count: Callable[[float], str]) -> dict | None:
    """:func:`summarise` for the latest run the ledger has reviews of (None if none).

    Parameters
    ----------
    ledger : Path
        The review ledger.
    deprivation : Series or None
        Each household's deprivation (household key -> share), for the override rate by
        quintile.
    count : callable
        How a count is published (:meth:`geo_risk.areas.Disclosure.count`).

    Returns
    -------
    dict or None
        The published summary of the latest reviewed run's flags.
    """
    if not Path(ledger).is_file():
        return None
    reviews, runs = read_ledger(ledger)
    if runs.empty:
        return None
    latest = runs.sort_values("reference_date").iloc[-1]
    chosen = reviews[reviews["reference_date"] == latest["reference_date"]]
    return {"reference_date": latest["reference_date"],
            **summarise(chosen, int(latest["flags"]), deprivation, count)}


def summarise(reviews: pd.DataFrame, flagged: int, deprivation: pd.Series | None,
              count) -> dict:
    """What the reviews of one run's flags say, for publication: every count through
    ``count`` (disclosure control); a rate only where its denominator is published."""
    out = {"flags": count(flagged), "reviewed": count(len(reviews)),
           # a share among a handful of flags is a count of them: the run's own rule
           "share_reviewed": (round(len(reviews) / flagged, 2)
                              if flagged > 0 and count(flagged) != "c" else None),
           "decisions": {d: count((reviews["decision"] == d).sum()) for d in DECISIONS},
           "overridden": count(reviews["overridden"].sum())}
    if deprivation is not None and len(reviews):
        quintile = pd.cut(deprivation.reindex(reviews[HOUSEHOLD]).to_numpy(),
                          [-0.01, 0.2, 0.4, 0.6, 0.8, 1.0],
                          labels=["least deprived", "2", "3", "4", "most deprived"])
        by = reviews.assign(q=quintile).groupby("q", observed=False)["overridden"]
        out["override_rate_by_deprivation_quintile"] = {
            str(q): (round(float(g.mean()), 2) if len(g) > 7 else "c") for q, g in by}
    return out
