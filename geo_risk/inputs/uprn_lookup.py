"""Placing addresses in output areas by a UPRN -> area lookup (ONSUD or NSUL) instead of
by point in polygon.

The ONS UPRN Directory (ONSUD) and the National Statistics UPRN Lookup (NSUL) give every
UPRN's output area, every six weeks, as CSV (``uprn`` / ``UPRN``, ``oa21cd`` / ``OA21CD``
and many other columns). The lookup is joined to the addresses extract *at source*, on
the raw UPRN, before it is pseudonymised: the pseudonymised gazetteer then carries each
household's OA code, and no UPRN list ever leaves the data controller. An address whose
UPRN the lookup lacks (newer than the release) is placed by its point as before; the run
says how many were placed each way, which file and which release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv

from geo_risk import columns as C
from geo_risk._errors import SchemaError
from geo_risk.geography.vintage import read_code_columns
from geo_risk.inputs.ingest import normalise_uprn

__all__ = ["UprnLookup", "read_uprn_lookup"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class UprnLookup:
    """A UPRN -> OA lookup read into memory: ``area`` maps normalised UPRNs to OA codes."""

    file: str
    header: str  # the OA column as the file heads it, e.g. oa21cd
    census: int
    release: str  # e.g. "May 2025", from the file name; "not stated" otherwise
    area: pd.Series

    def describe(self) -> str:
        return f"{self.file} (release {self.release}; {self.header.upper()})"


def _release(name: str) -> str:
    """The release month in an ONSUD/NSUL file name.

    >>> _release("ONSUD_MAY_2025_EE.csv"), _release("NSUL_NOV_2025_EN.csv"), _release("x.csv")
    ('May 2025', 'Nov 2025', 'not stated')
    """
    match = re.search(r"(?i)(" + "|".join(_MONTHS) + r")[a-z]*[_\- ]?(20\d\d)", name)
    return f"{match[1].title()} {match[2]}" if match else "not stated"


def read_uprn_lookup(path: Path) -> UprnLookup:
    """Read the UPRN and OA columns of an ONSUD or NSUL CSV (any case), nothing else.
    Parameters
    ----------
    path : Path
        The ONSUD or NSUL CSV.

    Returns
    -------
    UprnLookup
        Each UPRN's output area, and the census of those areas.


    Raises
    ------
    SchemaError
        The file is missing or has no UPRN or no OA code column.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: file not found; check the [boundaries] uprn_lookup path.")
    try:
        with open(path, encoding="utf-8-sig") as handle:
            header = handle.readline().strip().split(",")
    except UnicodeDecodeError:
        raise SchemaError(f"{path}: not a UTF-8 CSV; a UPRN lookup is ONSUD's or NSUL's CSV "
                          "as published.") from None
    header = [h.strip().strip('"') for h in header]
    uprn = next((h for h in header if h.lower() == "uprn"), None)
    codes = read_code_columns(header)
    if uprn is None or C.OA not in codes:
        raise SchemaError(
            f"{path}: a UPRN lookup needs a UPRN column and an output area column (OA21CD or "
            f"OA11CD), as ONSUD and NSUL have; found {', '.join(header[:12])}.")
    oa, census = codes[C.OA]
    try:
        table = pv.read_csv(path, read_options=pv.ReadOptions(encoding="utf-8-sig"),
                            convert_options=pv.ConvertOptions(
                                include_columns=[uprn, oa],
                                column_types={uprn: pa.string(), oa: pa.string()}))
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        where = re.search(r"[Rr]ow #?(\d+)", str(error))  # Arrow's message may quote data
        raise SchemaError(f"{path}: cannot be read as a CSV"
                          f"{f' (row {where.group(1)})' if where else ''}; a UPRN lookup is "
                          "ONSUD's or NSUL's CSV as published.") from None
    frame = table.to_pandas()
    keys, reason = normalise_uprn(frame[uprn].fillna(""))
    ok = (reason == "") & frame[oa].notna()
    area = pd.Series(frame.loc[ok, oa].str.strip().str.upper().to_numpy(),
                     index=keys[ok].to_numpy())
    area = area[~area.index.duplicated(keep="first")]
    return UprnLookup(path.name, oa, census, _release(path.name), area)
