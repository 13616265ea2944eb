"""``--messy``: the defects real partner extracts arrive with, at stated rates.

Every planted defect is recorded in ``truth/defects.csv`` with the file, the row (as a
spreadsheet numbers it: the header is row 1, the first record row 2), the column, the
defect and how a correct ingest must handle it: ``normalise`` (recover the true value)
or ``reject`` (write the row to the rejects file with this reason). File-level defects
have no row.

=====================  ====================================  =========  ===========
defect                 example                               handling   where, rate
=====================  ====================================  =========  ===========
uprn_float_suffix      ``900012345678.0``                    normalise  4 files, 3%
uprn_scientific        ``9.00012E+11`` (digits lost)          reject     2 files, 0.5%
uprn_whitespace        `` 900012345678 ``                    normalise  2 files, 0.5%
postcode_no_uprn       UPRN empty, postcode present          reject     2 files, 1%
nhs_bad_check_digit    NHS number failing modulus 11         reject     2 files, 0.3%
duplicate_row          an exact copy of the row above        reject     4 files, 1%
out_of_area            coordinates 40 km east of the town    reject     addresses, 0.2%;
                                                                        police, 1% of
                                                                        located rows
uk_dates               ``31/01/2017`` in every date column   normalise  3 files
windows_1252           text encoded cp1252 (£, ë, ç), CRLF   normalise  2 files
byte_order_mark        UTF-8 with a BOM                      normalise  2 files
=====================  ====================================  =========  ===========
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DEFECT_COLUMNS", "FileFormat", "clean_formats", "make_messy"]

DEFECT_COLUMNS = ["file", "row", "column", "defect", "handling"]

_ROW_DEFECTS: list[tuple[str, str, float, list[str]]] = [
    # defect, column, rate, files
    ("uprn_float_suffix", "uprn", 0.03,
     ["housing", "benefits", "school_readiness", "youth_offending"]),
    ("uprn_scientific", "uprn", 0.005, ["housing", "benefits"]),
    ("uprn_whitespace", "uprn", 0.005, ["social_care", "drugs_alcohol"]),
    ("postcode_no_uprn", "uprn", 0.01, ["housing", "benefits"]),
    ("nhs_bad_check_digit", "child_id", 0.003, ["child_register", "school_readiness"]),
    ("out_of_area", "easting", 0.002, ["addresses"]),
]
_DUPLICATED = {"social_care": 0.01, "police": 0.01, "housing": 0.01, "drugs_alcohol": 0.01}
_UK_DATES = ["housing", "benefits", "police"]
_CP1252 = ["child_register", "benefits"]
_BOM = ["social_care", "school_readiness"]
_HANDLING = {"uprn_float_suffix": "normalise", "uprn_whitespace": "normalise",
             "uk_dates": "normalise", "windows_1252": "normalise",
             "byte_order_mark": "normalise"}


class FileFormat(dict):
    """How one extract is written: ``encoding`` and ``lineterminator`` for pandas."""


def clean_formats(names) -> dict[str, FileFormat]:
    """UTF-8 without a byte-order mark, Unix line ends: how a clean extract is written."""
    return {name: FileFormat(encoding="utf-8", lineterminator="\n") for name in names}


def _uk(iso: pd.Series) -> pd.Series:
    parts = iso.str.split("-", expand=True)
    return (parts[2] + "/" + parts[1] + "/" + parts[0]).where(iso != "", "")


def make_messy(
    extracts: dict[str, pd.DataFrame], *, seed: int
) -> tuple[dict[str, pd.DataFrame], dict[str, FileFormat], pd.DataFrame]:
    """Plant the defects; return the messy tables, their file formats and the defect log."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBAD]))
    tables = {name: t.copy() for name, t in extracts.items()}
    formats = clean_formats(tables)
    log: list[tuple[str, int, str, str]] = []  # file, position, column, defect
    taken = {name: np.zeros(len(t), dtype=bool) for name, t in tables.items()}

    def pick(name: str, rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
        free = ~taken[name] if eligible is None else ~taken[name] & eligible
        pool = np.flatnonzero(free)
        n = min(len(pool), round(rate * len(tables[name])))
        chosen = np.sort(rng.choice(pool, n, replace=False)) if n else pool[:0]
        taken[name][chosen] = True
        return chosen

    for defect, column, rate, files in _ROW_DEFECTS:
        for name in files:
            t = tables[name]
            rows = pick(name, rate, (t[column] != "").to_numpy())
            col = t.columns.get_loc(column)
            values = t.iloc[rows, col]
            if defect == "uprn_float_suffix":
                new = values + ".0"
            elif defect == "uprn_scientific":
                new = values.astype("int64").map("{:.5E}".format)
            elif defect == "uprn_whitespace":
                new = " " + values + " "
            elif defect == "postcode_no_uprn":
                new = values.map(lambda _: "")
            elif defect == "nhs_bad_check_digit":
                new = values.str[:9] + ((values.str[9].astype(int) + 1 + rng.integers(
                    0, 9, len(values))) % 10).astype(str)
            elif defect == "out_of_area":
                new = (values.astype(float) + 40_000).map("{:.1f}".format)
            t.iloc[rows, col] = new.to_numpy()
            log += [(name, int(r), column, defect) for r in rows]

    police = tables["police"]
    located = (police["easting"] != "").to_numpy()
    rows = pick("police", 0.01 * located.mean(), located)
    col = police.columns.get_loc("easting")
    police.iloc[rows, col] = (police.iloc[rows, col].astype(float) + 40_000).map(
        "{:.0f}".format).to_numpy()
    log += [("police", int(r), "easting", "out_of_area") for r in rows]

    for name, rate in _DUPLICATED.items():
        rows = pick(name, rate)
        t = tables[name]
        order = np.concatenate([np.arange(len(t)), rows])
        key = np.concatenate([np.arange(len(t)) * 2, rows * 2 + 1])
        tables[name] = t.iloc[order[np.argsort(key, kind="stable")]].reset_index(drop=True)
        # positions of the copies and shifted positions of earlier defects
        shift = np.searchsorted(rows, np.arange(len(t)), side="left")
        log = [(f, int(p + shift[p]) if f == name else p, c, d) for f, p, c, d in log]
        copies = rows + np.arange(1, len(rows) + 1)
        log += [(name, int(p), "", "duplicate_row") for p in copies]

    for name in _UK_DATES:
        t = tables[name]
        for column in [c for c in t.columns if c.endswith(("date", "_start", "_end"))]:
            t[column] = _uk(t[column])
    file_level = [(name, "uk_dates") for name in _UK_DATES]
    for name in _CP1252:
        formats[name] = FileFormat(encoding="cp1252", lineterminator="\r\n")
        file_level.append((name, "windows_1252"))
    for name in _BOM:
        formats[name] = FileFormat(encoding="utf-8-sig", lineterminator="\n")
        file_level.append((name, "byte_order_mark"))

    defects = pd.DataFrame(
        [(f"{f}.csv", p + 2, c, d, _HANDLING.get(d, "reject")) for f, p, c, d in log]
        + [(f"{f}.csv", pd.NA, "", d, _HANDLING[d]) for f, d in file_level],
        columns=DEFECT_COLUMNS,
    ).astype({"row": "Int64"})
    defects = defects.sort_values(["file", "row", "defect"], na_position="first", kind="stable")
    return tables, formats, defects.reset_index(drop=True)
