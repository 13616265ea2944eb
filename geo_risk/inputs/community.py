"""What the community says: places that residents, community groups or frontline staff
named in consultations, each with a theme and a date, read to set beside the model's
areas (:mod:`geo_risk.areas.community`).

A file of insight is one of:

- a CSV or workbook with ``easting``/``northing`` (British National Grid metres) or
  ``longitude``/``latitude``, or a ``postcode`` placed by a postcode lookup (ONSPD's
  ``pcds`` with ``oseast1m``/``osnrth1m``, or any table of postcode and coordinates);
- any vector file (GeoJSON, GeoPackage) of points or polygons, in the CRS it declares.

Each row needs a ``theme`` (a short category: "housing conditions", "youth provision")
and a ``date`` (ISO or UK day-first). A free-text column (``comment``, ``notes``,
``text``, ``quote`` or ``description``) may come with it: it is read only to refuse a row
that holds a person's details (a name after a title or "called", an address, a postcode,
a phone number, an e-mail address) and is never kept, logged or published. The theme is
published, so it is checked the same way.

Nothing is lost: every row is used or in the rejects with its row number and reason;
a reason never quotes the row's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import SchemaError
from geo_risk.io.read import COORDINATES

__all__ = ["TEXT_COLUMNS", "Community", "personal_details", "read_community"]

#: Columns of free text: scanned, never kept.
TEXT_COLUMNS = ("comment", "comments", "notes", "note", "text", "quote", "description")

#: The longest theme: a theme is a category, not an account.
MAX_THEME = 60

_POSTCODE_COLUMNS = ("postcode", "pcds", "pcd", "pcd7", "pcd8", "post_code")
_STREET = (r"Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Crescent|Court|Ct|"
           r"Gardens|Place|Grove|Hill|Terrace|Walk|Mews|Rise|Green|Parade|Square|Row|Vale")
#: What a person's details look like in free text, in the order they are named.
_DETAILS = [
    ("a phone number", re.compile(
        r"(?<![\d.])(?:\+44\s?\(?0?\)?|0044\s?|0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\d)")),
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("a postcode", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.I)),
    ("an address", re.compile(  # a number, then capitalised words ending in a street's
        rf"\b\d{{1,4}}[a-z]?,?\s+(?:[A-Z][A-Za-z']*\s+){{1,3}}(?:{_STREET})\b")),
    ("a name", re.compile(r"\b(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+|(?:called|named|name is)\s+)"
                          r"[A-Z][a-z'-]+")),
]


def personal_details(text: str) -> str | None:
    """What in ``text`` looks like a person's details (its kind, never the text), or None.

    >>> personal_details("Kids hanging round the shops at night")
    >>> personal_details("ring me on 07700 900123")
    'a phone number'
    >>> personal_details("Mrs Patel's family needs help"), personal_details("14 Vange Hill Drive")
    ('a name', 'an address')
    >>> personal_details("near SS16 4AB"), personal_details("Youth club closed in 2019")
    ('a postcode', None)
    >>> personal_details("3 kids on the green every night")
    """
    for kind, pattern in _DETAILS:
        if pattern.search(str(text)):
            return kind
    return None


@dataclass
class Community:
    """The places named, and what could not be used.

    ``mentions``: one row per input row used, by ``row`` (its spreadsheet row number, or
    feature number), with ``theme``, ``date`` and the output areas it names (``oa``; a
    polygon names several, a row each). ``rejects``: ``row`` and ``reason``. ``read``: the
    rows read, each either used or rejected.
    """

    mentions: pd.DataFrame
    rejects: pd.DataFrame
    read: int
    file: str

    def reconciles(self) -> bool:
        return self.mentions["row"].nunique() + len(self.rejects) == self.read


def read_community(path: Path, oas: gpd.GeoDataFrame, *, reference_date: str,
                   postcodes: Path | None = None) -> Community:
    """Read a file of community insight and place each row in the run's output areas.

    Parameters
    ----------
    path : Path
        The insight file (see the module's docstring).
    oas : GeoDataFrame
        The run's output areas (EPSG:27700), indexed by code.
    reference_date : str
        The run's date: insight dated after it is rejected.
    postcodes : Path, optional
        A postcode lookup, for rows placed by postcode.

    Returns
    -------
    Community
        What was placed, and the rejects with their reasons.

    Raises
    ------
    SchemaError
        A file that cannot be read as insight: no theme or date column, no way to place
        its rows.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: community insight file not found; fix [community] file.")
    table, geometry, first = _read(path, postcodes)
    for need in ["theme", "date"]:
        if need not in table:
            raise SchemaError(f"{path}: needs a '{need}' column (each place named: its "
                              "theme, and the date it was said).")
    rows = pd.Series(table.index.to_numpy() + first, index=table.index)
    reason = pd.Series("", index=table.index)

    def reject(mask: pd.Series, why: str) -> None:
        reason[mask & reason.eq("")] = why

    theme = table["theme"].astype(str).str.strip()
    reject(theme.eq("") | theme.eq("nan"), "theme is empty; give each place its theme")
    reject(theme.str.len() > MAX_THEME,
           f"theme is longer than {MAX_THEME} characters; a theme is a short category "
           "(e.g. 'housing conditions'); put accounts in the comment column")
    from geo_risk.inputs.ingest import parse_dates

    when, _ = parse_dates(table["date"].astype(str).str.strip())
    reject(when.isna(), "date cannot be read; write it as YYYY-MM-DD or DD/MM/YYYY")
    reject(when > pd.Timestamp(reference_date),
           f"dated after the run's reference date {reference_date}")
    texts = [c for c in table.columns if c in TEXT_COLUMNS]
    for column in ["theme", *texts]:
        kind = table[column].astype(str).map(personal_details)
        for k in kind.dropna().unique():
            reject(kind.eq(k), f"{column} holds what looks like {k}; remove it and import "
                               "again (free text is never published)")
    reject(geometry.isna() | geometry.is_empty,
           "no place: give coordinates, a postcode the lookup holds, or a geometry")
    placed = _place(geometry[reason.eq("")], oas)
    reject(~table.index.isin(placed.index), "outside the run's output areas")
    used = reason.eq("")
    mentions = placed[placed.index.isin(table.index[used])].to_frame(C.OA).join(
        pd.DataFrame({"row": rows, "theme": theme, "date": when})).reset_index(drop=True)
    rejects = pd.DataFrame({"row": rows[~used], "reason": reason[~used]}).reset_index(drop=True)
    return Community(mentions[["row", C.OA, "theme", "date"]], rejects, len(table),
                     str(path))


def _read(path: Path, postcodes: Path | None) -> tuple[pd.DataFrame, gpd.GeoSeries, int]:
    """The rows (columns named as geo-risk names them), each row's place in British
    National Grid (missing where it has none), and the number of the first row."""
    from geo_risk.io.read import column_name, read_table

    if path.suffix.lower() not in {".csv", ".txt", ".xlsx", ".xlsm", ".parquet"}:
        from geo_risk.geography.boundaries import read_layer

        layer = read_layer(path, "community insight",
                           lambda fields: "theme" in {column_name(f) for f in fields})
        layer = layer.rename(columns={c: column_name(c) for c in layer.columns
                                      if c != layer.geometry.name}).reset_index(drop=True)
        shapes = layer.geometry.to_crs(27700)
        bad = ~shapes.geom_type.isin(["Point", "MultiPoint", "Polygon", "MultiPolygon"])
        return pd.DataFrame(layer.drop(columns=layer.geometry.name)), shapes.where(~bad), 1
    table = read_table(path)
    found = _coordinates(table)
    if found is None:
        code = next((c for c in _POSTCODE_COLUMNS if c in table), None)
        if code is None:
            raise SchemaError(f"{path}: needs easting and northing (British National Grid "
                              "metres), longitude and latitude, or a postcode for each row.")
        if postcodes is None:
            raise SchemaError(f"{path}: rows are placed by postcode; give a postcode lookup "
                              "([community] postcodes = ONSPD's CSV, or postcode, easting "
                              "and northing).")
        return table, _by_postcode(table[code], postcodes), 2
    (x, y), crs = found
    return table, _points(table[x], table[y], crs), 2


def _coordinates(table: pd.DataFrame) -> tuple[tuple[str, str], str] | None:
    """The first pair of coordinate columns ``table`` has, and their CRS."""
    return next(((xy, crs) for xy, crs in COORDINATES if set(xy) <= set(table)), None)


def _points(x: pd.Series, y: pd.Series, crs: str) -> gpd.GeoSeries:
    """Points from coordinate columns, missing where they are not numbers in range."""
    x, y = (pd.to_numeric(v, errors="coerce") for v in (x, y))
    if crs == "EPSG:4326":
        ok = x.between(-180, 180) & y.between(-90, 90)
    else:
        ok = x.between(0, 700_000) & y.between(0, 1_300_000)
    points = gpd.GeoSeries(gpd.points_from_xy(x.where(ok), y.where(ok)), index=x.index,
                           crs=crs).to_crs(27700)
    return points.where(ok)


def _postcode(values: pd.Series) -> pd.Series:
    return values.astype(str).str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def _by_postcode(codes: pd.Series, lookup: Path) -> gpd.GeoSeries:
    """Each postcode's point from the lookup; missing where the lookup does not hold it."""
    from geo_risk.io.read import read_table

    table = read_table(lookup)
    code = next((c for c in _POSTCODE_COLUMNS if c in table), None)
    found = _coordinates(table)
    if code is None or found is None:
        raise SchemaError(f"{lookup}: a postcode lookup needs a postcode column (pcds or "
                          "postcode) and oseast1m/osnrth1m, easting/northing or "
                          "longitude/latitude.")
    (x, y), crs = found
    points = _points(table[x], table[y], crs)
    where = pd.Series(points.to_numpy(), index=_postcode(table[code])).groupby(level=0).first()
    return gpd.GeoSeries(where.reindex(_postcode(codes)).to_numpy(), index=codes.index,
                         crs=27700)


def _place(shapes: gpd.GeoSeries, oas: gpd.GeoDataFrame) -> pd.Series:
    """The output areas each row names, indexed by row (repeated for several): a point
    names the area it falls in; a polygon every area it covers at least half of, or else
    the area holding its representative point."""
    frame = gpd.GeoDataFrame(geometry=shapes.rename("geometry"), crs=27700)
    frame["row"] = frame.index
    areas = gpd.GeoDataFrame({C.OA: oas.index.to_numpy()}, geometry=oas.geometry.to_numpy(),
                             crs=oas.crs)
    polygon = frame.geom_type.str.contains("Polygon")
    points = frame[~polygon].copy()
    points["geometry"] = points.representative_point()  # a multipoint: one of its points
    inside = gpd.sjoin(points, areas, predicate="within", how="inner")
    found = [inside.drop_duplicates("row").set_index("row")[C.OA]]
    if polygon.any():
        pieces = gpd.overlay(frame[polygon], areas, how="intersection", keep_geom_type=True)
        share = pieces.area / oas.geometry.area.reindex(pieces[C.OA]).to_numpy()
        covered = pieces[share.to_numpy() >= 0.5]
        found.append(covered.set_index("row")[C.OA])
        rest = frame[polygon & ~frame["row"].isin(covered["row"])].copy()
        rest["geometry"] = rest.representative_point()
        held = gpd.sjoin(rest, areas, predicate="within", how="inner")
        found.append(held.drop_duplicates("row").set_index("row")[C.OA])
    return pd.concat(found).rename(C.OA).sort_index(kind="stable")
