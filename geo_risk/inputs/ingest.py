"""Read partner extracts against their schemas; every row is kept or rejected with a reason.

A partner file arrives as CSV (UTF-8, UTF-8 with a byte-order mark, or Windows-1252),
XLSX or Parquet. Structural problems (unknown source, missing file, empty file, missing
required column, undecodable text) stop with a :class:`~geo_risk.SchemaError` naming the
file and the fix. Row problems never stop the run: the row goes to the rejects table
with its spreadsheet row number (the header is row 1), the column and a reason code.
No rejects table, log line or message ever carries a value from the row.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import dateutil.parser
import numpy as np
import pandas as pd

from geo_risk._errors import SchemaError
from geo_risk.inputs.identifiers import valid_nhs_numbers
from geo_risk.inputs.schemas import SOURCES, Column, Schema
from geo_risk.io.read import CHUNK_ROWS, column_name, header_row, open_table

__all__ = ["REASONS", "REJECT_COLUMNS", "DuplicateRows", "Extract", "clean_extract",
           "get_schema", "iter_extract", "read_extract"]

log = logging.getLogger(__name__)

REJECT_COLUMNS = ["file", "row", "column", "reason", "detail"]

#: A point inside no output area but within this many metres of one is placed in the
#: nearest (:mod:`geo_risk.inputs.link`): a point on a shared edge lies inside neither, and
#: boundaries generalised to 20 m (ONS's BGC files) or clipped at the coast leave some
#: homes just outside.
NEAREST_WITHIN_M = 20.0

#: Reason code -> what it means and how the partner fixes it.
REASONS = {
    "duplicate_row": "an exact copy of an earlier row",
    "uprn_missing": "UPRN is empty; a postcode alone cannot identify a household",
    "uprn_lost_digits": "UPRN in scientific notation (e.g. 1.00012E+11) has lost digits; "
                        "export the column as text",
    "uprn_invalid": "UPRN must be 1 to 12 digits",
    "nhs_invalid": "not a valid NHS number (10 digits with a modulus-11 check digit)",
    "id_missing": "identifier is empty",
    "value_missing": "a required value is empty",
    "date_invalid": "not a date (YYYY-MM-DD, DD/MM/YYYY, 31 Jan 2017 or an Excel day number); "
                    "month-first dates are not read",
    "date_out_of_range": "the year is before 1900 or after 2100; check the date",
    "date_order": "the end date is before the start date",
    "year_invalid": "not an academic year (2016/17, 2016-17, 2016/2017 or 201617)",
    "category_unknown": "not one of the allowed values",
    "flag_invalid": "not a yes or no (Y/N, 1/0, Achieved/Not achieved)",
    "coord_invalid": "not a number of metres on the British National Grid",
    "location_missing": "neither a UPRN nor a grid location",
    "outside_area": f"the point lies more than {NEAREST_WITHIN_M:g} m outside every output area",
    "uprn_not_in_gazetteer": "the UPRN is not in the addresses extract",
    "address_outside_area": f"the UPRN's address lies more than {NEAREST_WITHIN_M:g} m "
                            "outside every output area",
    "duplicate_uprn": "the UPRN already appears in an earlier row of the addresses extract",
}

_FIRST_YEAR, _LAST_YEAR = 1900, 2100  # a record dated outside these is a typo
#: What a yes/no column may say (case, spacing and punctuation aside): Y/N as the schemas
#: ask, and as school information systems export a Good Level of Development.
_TRUE = {"y", "yes", "true", "1", "t", "achieved", "achieved gld", "gld achieved", "met"}
_FALSE = {"n", "no", "false", "0", "f", "not achieved", "not achieved gld",
          "gld not achieved", "not met"}
_START_END = {"end_date": "start_date", "discharge_date": "referral_date",
              "claim_end": "claim_start"}


@dataclass
class Extract:
    """A partner file read as text: one string column per schema column, plus ``row``."""

    source: str
    path: Path
    table: pd.DataFrame
    encoding: str


def get_schema(source: str) -> Schema:
    """The schema of a source, or a :class:`SchemaError` listing the known sources."""
    if source not in SOURCES:
        close = difflib.get_close_matches(source, list(SOURCES), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SchemaError(
            f"unknown source {source!r}; {hint}use one of: {', '.join(SOURCES)}.")
    return SOURCES[source]


def iter_extract(path: Path, source: str, *, chunk_rows: int = CHUNK_ROWS
                 ) -> Iterator[Extract]:
    """Read a partner extract as text, ``chunk_rows`` rows at a time, checking its
    structure against the source schema first.

    Parameters
    ----------
    path
        ``.csv`` (encoding detected), ``.xlsx`` (its one sheet with data) or ``.parquet``.
    source
        One of :data:`geo_risk.inputs.schemas.SOURCES`.

    Yields
    ------
    Extract
        Consecutive parts of the file; ``row`` is the spreadsheet's row number (the header
        is row 1, blank lines count). Blank rows are no records and are left out.

    Raises
    ------
    SchemaError
        Unknown source, missing or empty file, undecodable text, missing required columns,
        rows on several sheets, a header without rows.
    """
    schema = get_schema(source)
    path = Path(path)
    try:
        header, chunks, encoding = open_table(path, chunk_rows, schema.required)
    except pd.errors.EmptyDataError:
        raise SchemaError(
            f"{path}: the file is empty; export the {source} extract again with its header row."
        ) from None
    columns = [column_name(c) for c in header]
    for name, others in schema.aliases.items():
        found = [i for i, c in enumerate(columns) if c in others]
        if name not in columns and len(found) == 1:
            log.info("%s: column %s read as %s", path.name, columns[found[0]], name)
            columns[found[0]] = name
    for name in schema.columns:
        at = [i for i, c in enumerate(columns, start=1) if c == name]
        if len(at) > 1:
            raise SchemaError(
                f"{path}: column {name} appears {len(at)} times (columns "
                f"{', '.join(map(str, at))}: {', '.join(repr(header[i - 1]) for i in at)}); "
                "geo-risk cannot tell which holds the data. Keep one and export again.")
    missing = [c for c in schema.required if c not in columns]
    if missing:
        below = header_row(path, list(schema.required))
        if below:
            above = "row 1" if below == 2 else f"rows 1 to {below - 1}"
            raise SchemaError(
                f"{path}: the {source} extract's header is on row {below}, below a title or "
                f"notes; delete {above} so that the header is the first row, and export "
                "again.")
        raise SchemaError(
            f"{path}: the {source} extract has no column {', '.join(missing)}; it needs "
            f"{', '.join(schema.required)}. Found {', '.join(columns) or 'no columns'}: "
            "rename the columns (case, spaces and hyphens do not matter) or check --source."
        )
    keep = [c for c in schema.columns if c in columns]
    absent = [c for c in schema.columns if c not in columns]  # optional: read as blank
    if absent:
        log.info("%s: no column %s (optional): read as blank", path.name, ", ".join(absent))
    first_row, read = 2, 0  # the header is row 1, as in a spreadsheet
    for table in chunks:
        table = table.fillna("")
        table.columns = columns
        rows = np.arange(first_row, first_row + len(table))
        first_row += len(table)
        table = table.apply(lambda s: s.astype(str).str.strip())
        # a blank line or an empty sheet row is no record: counted in the numbering only
        blank = (table == "").all(axis=1).to_numpy()
        table = table.loc[~blank, keep].reset_index(drop=True).reindex(
            columns=list(schema.columns), fill_value="")
        table.insert(0, "row", rows[~blank])
        read += len(table)
        if len(table):
            yield Extract(source, path, table, encoding)
    if not read:
        raise SchemaError(f"{path}: the {source} extract has a header but no rows; "
                          "export it again with its records.")
    log.info("%s: read %d rows (%s)", path.name, read, encoding)


def read_extract(path: Path, source: str) -> Extract:
    """The whole extract at once (:func:`iter_extract` reads it in parts)."""
    parts = list(iter_extract(path, source))
    table = pd.concat([p.table for p in parts], ignore_index=True)
    return Extract(source, Path(path), table, parts[0].encoding)


def normalise_uprn(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Canonical UPRN digits (no leading zeros) and a reason code where it cannot be had.

    What a spreadsheet does to a long number is undone where nothing was lost
    (:func:`_as_typed`); ``1.00012E+11`` has lost digits and is refused.

    Examples
    --------
    >>> ok, why = normalise_uprn(pd.Series(["100012345678.0", "1.00012E+11", " 0042 ", "",
    ...                                     "100,012,345,678", "1.00012345678E+11"]))
    >>> ok.tolist(), why.tolist()
    (['100012345678', '', '42', '', '100012345678', '100012345678'], \
['', 'uprn_lost_digits', '', 'uprn_missing', '', ''])
    """
    v = _as_typed(values)
    digits = v.where(v.str.fullmatch(r"[0-9]+"), "").str.lstrip("0")
    reason = pd.Series("", index=v.index)
    reason[digits == ""] = "uprn_invalid"
    reason[v.str.fullmatch(r"[+-]?[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+")] = "uprn_lost_digits"
    reason[v == ""] = "uprn_missing"
    reason[(digits.str.len() > 12) & (reason == "")] = "uprn_invalid"
    return digits.where(reason == "", ""), reason


def _as_typed(values: pd.Series) -> pd.Series:
    """A long number as typed before a spreadsheet formatted it, where nothing was lost:
    the text mark (``'100012345678``), a decimal tail (``100012345678.0``), digit groups
    (``100,012,345,678``, ``100 012 345 678``) and scientific notation that kept every
    digit (``1.00012345678E+11``); anything else as given, stripped."""
    v = values.str.strip()
    odd = ~v.str.fullmatch(r"\d*").to_numpy(dtype=bool)  # most are digits alone
    if odd.any():
        v = v.copy()
        v[odd] = _per_distinct(v[odd], _number_as_typed).to_numpy()
    return v


def _number_as_typed(text: str) -> str:
    text = text.removeprefix("'")
    if re.fullmatch(r"\d{1,3}(?:[,\s]\d{3})+(?:\.0*)?", text):
        text = re.sub(r"[,\s]", "", text)
    if m := re.fullmatch(r"(\d+)\.0*", text):
        return m.group(1)
    if (m := re.fullmatch(r"(\d)\.(\d+)[eE]\+?(\d+)", text)) and len(m[2]) == int(m[3]):
        return m[1] + m[2]
    return text


def normalise_nhs(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """NHS numbers as 10 digits (spaces and hyphens removed, a spreadsheet's changes
    undone as for UPRNs) and reason codes."""
    v = _as_typed(values).str.replace(r"[\s-]", "", regex=True)
    valid = valid_nhs_numbers(v)
    reason = pd.Series(np.where(valid, "", "nhs_invalid"), index=v.index)
    reason[v == ""] = "id_missing"
    return v.where(valid, ""), reason


def _normalise_id(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    v = values.str.replace(r"\s", "", regex=True).str.upper()
    return v, pd.Series(np.where(v == "", "id_missing", ""), index=v.index)


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as partners' systems and spreadsheets write them: ISO (``2017-01-31``), UK
    day-first (``31/01/2017``, also with dots or hyphens, or a two-digit year), year first
    with slashes or dots, ``20170131``, a month by name (``31 Jan 2017``,
    ``31-January-2017``, ``Jan 31, 2017``) and Excel's day numbers (``42766``: a date cell
    saved as a number), each with or without a time of day after it, which is left out
    (``31/01/2017 00:00`` is how a spreadsheet exports a date cell). Month-first dates are
    not guessed: ``01/31/2017`` is invalid, and ``01/05/2017`` is the 1st of May.

    Examples
    --------
    >>> d, why = parse_dates(pd.Series(["2017-01-31", "31/01/2017", "01/31/2017", "",
    ...                                 "2300-01-01", "31.1.17", "31 Jan 2017", "42766"]))
    >>> [str(x.date()) if x == x else None for x in d]
    ['2017-01-31', '2017-01-31', None, None, None, '2017-01-31', '2017-01-31', '2017-01-31']
    >>> why.tolist()
    ['', '', 'date_invalid', '', 'date_out_of_range', '', '', '']
    """
    if values.str.contains(":", regex=False).any():  # a time of day after the date
        values = values.str.replace(_TIME_OF_DAY, "", regex=True)
    iso = pd.to_datetime(values.str[:10].where(values.str.match(r"^\d{4}-\d{2}-\d{2}")),
                         format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(values.where(values.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}")),
                        format="%d/%m/%Y", errors="coerce")
    dates = iso.fillna(uk)
    rest = dates.isna().to_numpy() & (values != "").to_numpy()
    if rest.any():  # the commonest forms above are vectorised; the rest, value by value
        dates[rest] = _per_distinct(values[rest], _other_date).to_numpy()
    dates = pd.to_datetime(dates)
    reason = pd.Series(np.where(dates.isna() & (values != ""), "date_invalid", ""),
                       index=values.index)
    year = dates.dt.year
    implausible = (year < _FIRST_YEAR) | (year > _LAST_YEAR)
    reason[implausible.to_numpy()] = "date_out_of_range"
    return dates.mask(implausible).astype("datetime64[ns]"), reason


def parse_months(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as :func:`parse_dates` reads them, and the months of dates given only to the
    month (a register that shares a month and year of birth): ``2015-03``, ``03/2015``,
    ``Mar 2015``, ``March 2015`` and ``Mar-15`` (Excel's "mmm-yy") are 1 March 2015.

    >>> d, why = parse_months(pd.Series(["2015-03-17", "2015-03", "3/2015", "Mar-15",
    ...                                  "March 2015", "13/2015", "Mar"]))
    >>> [str(x.date()) if x == x else None for x in d]
    ['2015-03-17', '2015-03-01', '2015-03-01', '2015-03-01', '2015-03-01', None, None]
    >>> why.tolist()
    ['', '', '', '', '', 'date_invalid', 'date_invalid']
    """
    dates, why = parse_dates(values)
    rest = (why == "date_invalid").to_numpy()
    if rest.any():
        months = pd.to_datetime(_per_distinct(values[rest], _month_of), errors="coerce")
        dates[rest] = months.to_numpy()
        why[rest] = np.where(months.isna(), "date_invalid", "")
    return dates, why


_MONTH_FORMS = [(r"(\d{4})[-/.](\d{1,2})", "{0}-{1}"), (r"(\d{1,2})[-/.](\d{4})", "{1}-{0}"),
                (r"([A-Za-z]{3,9})[-\s/.']*(\d{4})", "{0} {1}"),
                (r"([A-Za-z]{3,9})[-\s/.']*(\d{2})", "{0} 20{1}")]


def _month_of(text: str) -> str:
    """The first day of the month a month-and-year names (ISO), or "" when it names none."""
    for pattern, form in _MONTH_FORMS:
        if m := re.fullmatch(pattern, text.strip()):
            when = pd.to_datetime(form.format(*m.groups()), format="mixed", dayfirst=True,
                                  errors="coerce")
            return "" if pd.isna(when) else when.strftime("%Y-%m-01")
    return ""


#: A time of day after a date (``31/01/2017 00:00``, ``2017-01-31T10:30:00Z``,
#: ``31/01/2017 10:30:00 AM``), as a spreadsheet or a database writes it: left out.
_TIME_OF_DAY = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*"
                          r"(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$")

#: Forms of a date without a month name (value pattern, strptime format), day first.
_DATE_FORMS = [(r"\d{1,2}([/.-])\d{1,2}\1\d{4}", "%d{0}%m{0}%Y"),
               (r"\d{1,2}([/.-])\d{1,2}\1\d{2}", "%d{0}%m{0}%y"),
               (r"\d{4}([/.-])\d{1,2}\1\d{1,2}", "%Y{0}%m{0}%d"),
               (r"\d{8}", "%Y%m%d")]
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 1 is 1900-01-01 (Excel's leap-year slip)
#: Two defaults for the parts a date by name leaves out: it is whole when both agree.
_DEFAULTS = [dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2)]


def _other_date(text: str) -> pd.Timestamp:
    """One value in a form :func:`parse_dates` does not vectorise; NaT if none fits."""
    for pattern, form in _DATE_FORMS:
        if m := re.fullmatch(pattern, text):
            sep = m.group(1) if m.groups() else ""
            return pd.to_datetime(text, format=form.format(sep), errors="coerce")
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _EXCEL_EPOCH + pd.Timedelta(days=int(float(text)))
    if re.search(r"[A-Za-z]{3}", text):
        try:  # a month by name
            read = [dateutil.parser.parse(text, dayfirst=True, default=d) for d in _DEFAULTS]
        except (ValueError, OverflowError):
            return pd.NaT
        return pd.Timestamp(read[0].date()) if read[0] == read[1] else pd.NaT
    return pd.NaT


_ACADEMIC_YEAR = re.compile(r"(\d{4})\s*(?:/|-|–|to)?\s*(\d{4}|\d{2})|(\d{2})\s*[/-]\s*(\d{2})")


def _academic_year(text: str) -> str:
    """An academic year as ``2016/17``, from ``2016/17``, ``2016-17``, ``2016/2017``,
    ``2016 to 2017``, DfE's ``201617`` or ``16/17``; "" when ``text`` is none of these or
    its second year does not follow its first.

    >>> [_academic_year(t) for t in ["2016/17", "201617", "2016 - 2017", "16/17", "2016/18",
    ...                              "2017", "1899/00"]]
    ['2016/17', '2016/17', '2016/17', '2016/17', '', '', '']
    """
    match = _ACADEMIC_YEAR.fullmatch(text.strip())
    if not match:
        return ""
    first, second = (match[1], match[2]) if match[1] else ("20" + match[3], match[4])
    start = int(first)
    follows = int(second) == (start + 1 if len(second) == 4 else (start + 1) % 100)
    return f"{start}/{(start + 1) % 100:02d}" if follows and _FIRST_YEAR <= start < _LAST_YEAR \
        else ""


def _metres(values: pd.Series) -> pd.Series:
    """Coordinates as a spreadsheet may format them, as plain numbers: thousands separated
    (``568,850.7``, Excel's number format) or a decimal comma (``568850,7``, a European
    locale's export).

    >>> _metres(pd.Series(["568,850.7", "568850,7", "568850.7", "1,2,3"])).tolist()
    ['568850.7', '568850.7', '568850.7', '1,2,3']
    """
    thousands = values.str.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
    decimal = values.str.fullmatch(r"-?\d+,\d+") & ~thousands
    return values.mask(thousands, values.str.replace(",", "", regex=False)).mask(
        decimal, values.str.replace(",", ".", regex=False))


def _flag_words(text: str) -> str:
    """A yes/no cell as :data:`_TRUE` and :data:`_FALSE` spell it: ``1.0`` (a spreadsheet's
    number) as ``1``, ``Not Achieved`` as ``not achieved``."""
    words = " ".join(re.sub(r"[^0-9a-z.]+", " ", text.lower()).split())
    return re.sub(r"^([01])\.0*$", r"\1", words)


def _category(spec, text: str) -> str | None:
    """The value of category column ``spec`` that ``text`` names, whatever its case,
    spacing or punctuation, or under one of the column's synonyms; "" for a value not
    recorded; None for a value it does not know.

    >>> from geo_risk.inputs.schemas import SOURCES
    >>> [_category(SOURCES["social_care"].columns["episode_type"], t)
    ...  for t in ["Child-in-Need", "CLA", "Early Help", "adopted"]]
    ['child in need', 'looked after', 'early help', None]
    """
    words = " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())
    value = spec.synonyms.get(words, words)
    known = value in spec.values or text == "" or (value == "" and words != "")
    return value if known else None


def _per_distinct(values: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
    """``fn`` of each value, computed once per distinct value (a category column holds a
    handful in a million rows)."""
    codes, distinct = pd.factorize(values)
    done = np.array([fn(text) for text in distinct] + [""], dtype=object)
    return pd.Series(done[codes], index=values.index)


class DuplicateRows:
    """The rows read so far, by a 64-bit hash of their content, with the row each first
    appeared in: duplicates are found across the parts of a file read in parts, in
    16 bytes a distinct row."""

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)  # sorted
        self._rows = np.empty(0, dtype=np.int64)

    def check(self, content: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row: whether an earlier row (here or in a part before) has the same
        content, and the row number where that content first appeared."""
        hashes = pd.util.hash_pandas_object(content, index=False).to_numpy()
        here = pd.Series(rows, dtype=np.int64).groupby(hashes).transform("first").to_numpy()
        first_here = here == rows
        at = np.minimum(np.searchsorted(self._hashes, hashes), max(len(self._hashes) - 1, 0))
        before = (self._hashes[at] == hashes) if len(self._hashes) else \
            np.zeros(len(hashes), bool)
        first = np.where(before, self._rows[at] if len(self._rows) else here, here)
        new = first_here & ~before
        order = np.argsort(hashes[new], kind="stable")
        new_hashes, new_rows = hashes[new][order], rows[new][order]
        where = np.searchsorted(self._hashes, new_hashes)
        self._hashes = np.insert(self._hashes, where, new_hashes)
        self._rows = np.insert(self._rows, where, new_rows)
        return before | ~first_here, first


def _no_reason(v: pd.Series) -> pd.Series:
    return pd.Series("", index=v.index)


def _reason_where(bad: pd.Series | np.ndarray, code: str, v: pd.Series) -> pd.Series:
    return pd.Series(np.where(bad, code, ""), index=v.index)


# Each kind of column's normaliser: (typed values, reason code per row or "", the values as
# they count when checking that a required one is present).
_Normalised = tuple[pd.Series, pd.Series, pd.Series]


def _as_uprn(spec: Column, v: pd.Series) -> _Normalised:
    return (*normalise_uprn(v), v)


def _as_nhs(spec: Column, v: pd.Series) -> _Normalised:
    return (*normalise_nhs(v), v)


def _as_id(spec: Column, v: pd.Series) -> _Normalised:
    return (*_normalise_id(v), v)


def _as_date(spec: Column, v: pd.Series) -> _Normalised:
    return (*parse_dates(v), v)


def _as_month(spec: Column, v: pd.Series) -> _Normalised:
    dates, why = parse_months(v)
    return dates.dt.to_period("M").dt.start_time, why, v


def _as_coord(spec: Column, v: pd.Series) -> _Normalised:
    num = pd.to_numeric(_metres(v).where(v != ""), errors="coerce")
    return num, _reason_where(num.isna() & (v != ""), "coord_invalid", v), v


def _as_flag(spec: Column, v: pd.Series) -> _Normalised:
    low = _per_distinct(v, _flag_words)
    why = _reason_where(~low.isin(_TRUE | _FALSE) & (v != ""), "flag_invalid", v)
    return low.isin(_TRUE).where(v != ""), why, v


def _as_category(spec: Column, v: pd.Series) -> _Normalised:
    value = _per_distinct(v, partial(_category, spec))
    why = _reason_where(value.isna(), "category_unknown", v)
    # a value "not recorded" is blank from here
    return value.fillna(""), why, v.where(value.isna(), value)


def _as_year(spec: Column, v: pd.Series) -> _Normalised:
    years = _per_distinct(v, _academic_year)
    return years, _reason_where((years == "") & (v != ""), "year_invalid", v), v


def _as_text(spec: Column, v: pd.Series) -> _Normalised:
    return v, _no_reason(v), v


#: Column kind -> its normaliser (a kind not here, a name, is read only to be dropped).
_NORMALISE: dict[str, Callable[[Column, pd.Series], _Normalised]] = {
    "uprn": _as_uprn, "nhs": _as_nhs, "person": _as_id, "reference": _as_id,
    "date": _as_date, "month": _as_month, "coord": _as_coord, "flag": _as_flag,
    "category": _as_category, "year": _as_year, "text": _as_text, "postcode": _as_text,
}


def clean_extract(extract: Extract, *, seen: DuplicateRows | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check and normalise every value; split the rows into kept and rejected.

    Returns
    -------
    kept
        ``row`` plus one typed column per schema column present: identifiers as
        normalised strings (not yet pseudonymised), dates as datetimes, flags as booleans,
        coordinates as floats.
    rejects
        :data:`REJECT_COLUMNS`: file name, row, column, reason code, reason in words.
        The first problem found in a row is the one reported.
    """
    schema = SOURCES[extract.source]
    raw = extract.table
    out = pd.DataFrame({"row": raw["row"]})
    reasons = pd.DataFrame(index=raw.index)

    dup, first_row = (seen or DuplicateRows()).check(raw.drop(columns="row"),
                                                     raw["row"].to_numpy())

    for name, spec in schema.columns.items():
        if name not in raw:
            continue
        v = raw[name]
        normalise = _NORMALISE.get(spec.kind)
        if normalise is None:  # names are read only so that they can be dropped
            why = pd.Series("", index=raw.index)
        else:
            out[name], why, v = normalise(spec, v)
        if spec.required and spec.kind not in {"uprn", "nhs", "person", "reference"}:
            why = why.where(v != "", "value_missing")
        if not spec.required and spec.kind == "uprn":
            why = why.where(why != "uprn_missing", "")
        if not spec.required and spec.kind in {"person", "reference"}:
            why = why.where(why != "id_missing", "")  # an optional reference left blank
        reasons[name] = why

    for end, start in _START_END.items():
        if end in out and start in out:
            bad = out[end].notna() & out[start].notna() & (out[end] < out[start])
            reasons[end] = reasons[end].where(~bad | (reasons[end] != ""), "date_order")
    for group in schema.one_of:
        present = [c for c in group if c in out]
        has_any = pd.concat([raw[c] != "" for c in present], axis=1).any(axis=1)
        reasons[f"*{group[0]}"] = np.where(has_any, "", "location_missing")

    # last: a copy of a row that fails a check fails it too (two households' rows that
    # both lost their UPRN can be identical without being one record twice)
    reasons["*dup"] = np.where(dup, "duplicate_row", "")
    first_bad = reasons.ne("").idxmax(axis=1).where(reasons.ne("").any(axis=1))
    bad = first_bad.notna().to_numpy()
    column = first_bad[bad].str.lstrip("*").replace({"dup": ""})
    code = np.array([reasons.at[i, c] for i, c in zip(first_bad.index[bad], first_bad[bad],
                                                      strict=True)], dtype=object)
    detail = [REASONS[c] if c != "duplicate_row" else f"{REASONS[c]} (row {r})"
              for c, r in zip(code, first_row[bad], strict=True)]
    rejects = pd.DataFrame({"file": extract.path.name, "row": raw["row"][bad].to_numpy(),
                            "column": column.to_numpy(), "reason": code, "detail": detail},
                           columns=REJECT_COLUMNS)
    kept = out[~bad].reset_index(drop=True)
    log.info("%s: kept %d, rejected %d", extract.path.name, len(kept), len(rejects))
    return kept, rejects
