"""Read the tables councils and partners keep, as they save them.

CSV in UTF-8 (with or without a byte-order mark), UTF-16 or Windows-1252, separated by
commas, semicolons, tabs or bars; an Excel workbook's one sheet of data; Parquet. Every
value is read as text, so nothing a spreadsheet wrote is reinterpreted on the way in;
:mod:`geo_risk.inputs.ingest` checks partner extracts against their schemas, and the
geography, siting and review stages read their tables through :func:`read_table`. A file
that cannot be read is one :class:`~geo_risk.SchemaError` naming it, and the fix.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import logging
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo_risk._errors import SchemaError

__all__ = ["CHUNK_ROWS", "column_name", "header_row", "open_table", "read_table", "read_text"]

log = logging.getLogger(__name__)

#: Rows read at a time: memory stays bounded whatever the size of the file.
CHUNK_ROWS = 50_000


_BLOCK = 1 << 20


def _encoding(path: Path) -> str:
    """The text encoding of a CSV: a UTF-8 byte-order mark, UTF-16 (with or without a
    mark), UTF-8, or else Windows-1252; the whole file is checked, a block at a time."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    utf16 = _utf16(head)
    if utf16:
        return utf16
    where = 0
    for encoding in ["utf-8", "cp1252"]:
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            with path.open("rb") as f:
                while block := f.read(_BLOCK):
                    decoder.decode(block)
                    offset += len(block)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError as err:
            where = offset + err.start
    raise SchemaError(
        f"{path}: byte {where:,} cannot be read as UTF-8 or Windows-1252 text; "
        "export the file again as CSV UTF-8.")


def read_text(path: Path) -> str:
    """A small text file (a configuration) as a spreadsheet or Notepad saved it: UTF-8 with
    or without a byte-order mark, UTF-16 or Windows-1252.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        Its text.

    Raises
    ------
    SchemaError
        A byte that none of those encodings reads.
    """
    return Path(path).read_text(encoding=_encoding(Path(path)))


def _utf16(data: bytes) -> str | None:
    """The codec of UTF-16 text (with or without a byte-order mark), else None: text in
    which every other byte is zero is UTF-16, not a file with NUL bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4000]
    if len(head) >= 4 and head.count(0) >= len(head) // 3:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        return "utf-16-le" if odd > even else "utf-16-be"
    return None


def _separator(path: Path, encoding: str) -> str:
    """The field separator: a comma, or the semicolon, tab or bar of a header line that
    has no comma (a spreadsheet saved as CSV where the decimal mark is a comma writes
    semicolons)."""
    with path.open(encoding=encoding, newline="") as f:
        first = f.readline()
    if "," in first:
        return ","
    counts = {sep: first.count(sep) for sep in [";", "\t", "|"]}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_chunks(path: Path, encoding: str, chunk_rows: int, sep: str = ","
                ) -> Iterator[pd.DataFrame]:
    """CSV as strings, ``chunk_rows`` at a time; blank lines stay as rows (so row numbers
    are the spreadsheet's). A row with more fields than the header stops the read (pandas
    would otherwise shift the columns silently)."""
    options = {"dtype": str, "keep_default_na": False, "index_col": False,
               "skip_blank_lines": False, "encoding": encoding, "sep": sep}
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            with pd.read_csv(path, chunksize=chunk_rows, **options) as reader:
                yield from reader
        except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
            raise SchemaError(f"{path}: {_unreadable_row(path, encoding, sep, str(err))}"
                              ) from None
        except UnicodeDecodeError:
            raise SchemaError(f"{path}: the file is {encoding} text but cannot be read as "
                              "such; export it again as CSV UTF-8.") from None


def _unreadable_row(path: Path, encoding: str, sep: str, message: str) -> str:
    """Which row stopped the CSV parser, and the fix: a quote mark that never closes (the
    rest of the file would be one value), or more fields than the header."""
    if "EOF inside string" in message:
        opened, odd = 0, False  # a quote's line where the count of quotes turns odd
        with path.open(encoding=encoding, newline="") as f:
            for number, text in enumerate(f, start=1):
                if text.count('"') % 2:
                    odd = not odd
                    opened = number if odd else opened
        return (f"row {opened:,}: a quote mark opens a value that is never closed, so the "
                "rest of the file would be read as that one value; remove the stray quote (a "
                'quote inside a quoted value is written twice: "") and export again.')
    line = None
    with path.open(encoding=encoding, newline="") as f:
        rows = csv.reader(f, delimiter=sep)
        try:
            width = len(next(rows))
            line = next((i for i, r in enumerate(rows, start=2) if len(r) > width), None)
        except csv.Error:  # a field past the csv module's limit: a quote left open
            pass
    what = {",": 'commas (e.g. "£7,500")', ";": "semicolons", "\t": "tabs"}.get(
        sep, f"'{sep}'")
    where = f"row {line:,} has" if line else "a row has"
    return (f"{where} more fields than the header; quote values that contain {what} or "
            "remove the extra separators.")


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        yield frame.astype(str).where(frame.notna(), "")


def _looks_like(path: Path) -> str:
    """What a file whose name misleads holds, judged by its first bytes, as advice."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "; it is an Excel workbook (or another zip file): rename it .xlsx"
    if head.startswith(b"PAR1"):
        return "; it is a Parquet file: rename it .parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "; it is an old Excel (.xls) workbook: save it as .xlsx or CSV"
    if head and b"\x00" not in head:
        return "; it looks like text: if it is CSV, rename it .csv"
    return ""


def open_table(path: Path, chunk_rows: int, required: Iterable[str] = ()
                ) -> tuple[list[str], Iterator[pd.DataFrame], str]:
    """A table file's header as written, its rows as text a part at a time, and its
    encoding ("binary" for a workbook or Parquet; its sheet with the ``required`` columns).
    Raises ``EmptyDataError`` for an empty file, and :class:`SchemaError` for one that
    cannot be read."""
    if not path.is_file():
        raise SchemaError(f"{path}: file not found; check the path.")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        whole = _read_workbook(path, required)
        return (list(whole.columns), (whole.iloc[i:i + chunk_rows]
                                      for i in range(0, len(whole), chunk_rows)), "binary")
    if suffix == ".parquet":
        try:
            names = list(pq.ParquetFile(path).schema_arrow.names)
        except (OSError, ValueError, pa.ArrowException):
            raise SchemaError(f"{path}: cannot be read as Parquet{_looks_like(path)}."
                              ) from None
        return names, _parquet_chunks(path, chunk_rows), "binary"
    if (hint := _looks_like(path)) and "looks like text" not in hint:
        raise SchemaError(f"{path}: not a CSV file{hint}.")
    encoding = _encoding(path)
    sep = _separator(path, encoding)
    # the first line as written (pandas would rename a repeated name "x.1")
    header = pd.read_csv(path, nrows=1, header=None, encoding=encoding, sep=sep,
                         index_col=False, dtype=str, keep_default_na=False).iloc[0].tolist()
    return header, _csv_chunks(path, encoding, chunk_rows, sep), encoding


def header_row(path: Path, required: list[str], *, rows: int = 30) -> int | None:
    """The spreadsheet row (2 or later) holding every required column, when a title or
    notes stand above the header (a report exported as it is printed); None otherwise."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            sheet = _read_workbook(path, required)
            lines = [list(sheet.columns), *sheet.head(rows).to_numpy().tolist()]
        elif suffix == ".parquet":
            return None
        else:
            encoding = _encoding(path)
            with path.open(encoding=encoding, newline="") as f:
                lines = list(itertools.islice(
                    csv.reader(f, delimiter=_separator(path, encoding)), rows + 1))
    except (csv.Error, SchemaError, ValueError):
        return None
    wanted = set(required)
    return next((number for number, cells in enumerate(lines[1:], start=2)
                 if wanted <= {column_name(c) for c in cells}), None)


#: Coordinate columns a table of places may have (as geo-risk names columns), and their
#: CRS: British National Grid metres (ONSPD's ``oseast1m``/``osnrth1m`` among them) or
#: degrees.
COORDINATES = [(("easting", "northing"), "EPSG:27700"),
               (("oseast1m", "osnrth1m"), "EPSG:27700"),
               (("x_coordinate", "y_coordinate"), "EPSG:27700"),
               (("longitude", "latitude"), "EPSG:4326"), (("long", "lat"), "EPSG:4326"),
               (("lon", "lat"), "EPSG:4326"), (("lng", "lat"), "EPSG:4326")]


def read_table(path: Path, *, headers_as_written: bool = False) -> pd.DataFrame:
    """A table a person keeps or downloads (a filled review form, a list of sites, a
    distance matrix, a lookup), read as extracts are: CSV in any encoding and separator
    geo-risk detects, a workbook's one sheet, or Parquet; every value as text without
    surrounding spaces; headers named as geo-risk names columns (case, spaces and hyphens
    do not matter), or as written. Blank rows (a spreadsheet leaves some) are left out;
    the index is each row's position, so a row's spreadsheet number is its index + 2."""
    path = Path(path)
    try:
        header, chunks, _ = open_table(path, CHUNK_ROWS)
        parts = list(chunks)
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path}: the file is empty; it needs its header row.") from None
    columns = [str(c).strip() if headers_as_written else column_name(c) for c in header]
    if not parts:
        return pd.DataFrame(columns=columns, dtype=str)
    table = pd.concat(parts, ignore_index=True).fillna("")
    table.columns = columns
    table = table.apply(lambda s: s.astype(str).str.strip())
    return table[(table != "").any(axis=1)]


def column_name(header: object) -> str:
    """A header as geo-risk names columns: lower case, words joined by underscores,
    without the invisible characters (zero-width spaces, direction marks) a copy and paste
    can leave.
    Parameters
    ----------
    header : object
        A header as written.

    Returns
    -------
    str
        The column's name.


    >>> [column_name(h) for h in ["UPRN", " Event Date ", "first-language", "uprn\u200b"]]
    ['uprn', 'event_date', 'first_language', 'uprn']
    """
    text = "".join(ch for ch in str(header) if unicodedata.category(ch) != "Cf")
    return "_".join(text.lower().replace("-", " ").split())


def _read_workbook(path: Path, required: Iterable[str] = ()) -> pd.DataFrame:
    """The one sheet holding data, or the one with the ``required`` columns in its first
    rows beside sheets of notes; a workbook whose rows continue on other sheets is
    refused, naming them (never read in part)."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False,
                               header=None)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile):
        raise SchemaError(f"{path}: cannot be read as an Excel workbook{_looks_like(path)}."
                          ) from None
    used = {name: sheet for name, sheet in sheets.items()
            if not sheet.replace("", np.nan).dropna(how="all").empty}
    wanted = set(required)
    if len(used) > 1 and wanted:  # beside sheets of notes, the one with the header
        table = {name: sheet for name, sheet in used.items() if any(
            wanted <= {column_name(c) for c in cells} for cells in sheet.head(30).to_numpy())}
        if len(table) == 1:
            log.info("%s: read from its sheet %r; the others hold no %s header", path,
                     *table, "/".join(sorted(wanted)))
            used = table
    if len(used) > 1:
        raise SchemaError(
            f"{path}: data on {len(used)} sheets ({', '.join(map(repr, used))}); geo-risk "
            "reads one sheet per extract, so rows on the others would be lost. Put every row "
            "on one sheet, or save each sheet as its own CSV.")
    sheet = next(iter(used.values()), next(iter(sheets.values())))
    if sheet.empty:
        raise pd.errors.EmptyDataError
    header = [str(c) for c in sheet.iloc[0]]
    return pd.DataFrame(sheet.iloc[1:].to_numpy(), columns=header).fillna("")
