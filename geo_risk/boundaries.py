"""Load, validate and project the area layers; the OA -> LSOA -> ward lookup.

A geography is one GeoDataFrame of output areas in British National Grid, indexed by
the OA code and carrying its LSOA, ward and district from the lookup and, when an IMD
table is given, the deprivation of its LSOA. Coarser layers are dissolved from it, so
nesting holds by construction.

The embedded synthetic town lives in ``boundaries/`` at the top of the repository (written
by ``scripts/make_boundaries.py``); real boundaries come in the same three files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, CRSError, SchemaError

__all__ = [
    "DEFAULT_BOUNDARIES",
    "BoundaryFiles",
    "coverage_problems",
    "dissolve_areas",
    "load_boundaries",
    "read_table",
]

log = logging.getLogger(__name__)

_REPO_BOUNDARIES = Path(__file__).resolve().parents[1] / "boundaries"


@dataclass(frozen=True)
class BoundaryFiles:
    """Where a geography comes from: OA polygons, the lookup and (optionally) IMD."""

    oa: Path
    lookup: Path
    imd: Path | None = None


#: The embedded synthetic town (written by ``scripts/make_boundaries.py``).
DEFAULT_BOUNDARIES = BoundaryFiles(
    oa=_REPO_BOUNDARIES / "synthtown_oa.geojson",
    lookup=_REPO_BOUNDARIES / "synthtown_lookup.csv",
    imd=_REPO_BOUNDARIES / "synthtown_imd.csv",
)


def read_table(path: Path, required: list[str], *, optional: list[str] = ()) -> pd.DataFrame:
    """Read a small CSV reference table with case-insensitive, lower-cased column names.

    Parameters
    ----------
    path
        CSV file (UTF-8, a byte-order mark is tolerated).
    required
        Lower-case column names that must be present.
    optional
        Lower-case column names kept when present.

    Raises
    ------
    SchemaError
        The file is missing, empty, or lacks a required column (all missing ones named).
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: file not found; check the path.")
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise SchemaError(
            f"{path}: the file is empty; export it again with a header row."
        ) from None
    table.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{path}: missing column(s) {', '.join(m.upper() for m in missing)}; "
            f"found {', '.join(c.upper() for c in table.columns)}. "
            "Rename the columns to the ONS names (case does not matter)."
        )
    return table[[c for c in [*required, *optional] if c in table.columns]]


def _read_oa_layer(path: Path) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: file not found; check the --boundaries path.")
    layer = gpd.read_file(path, engine="pyogrio")
    layer.columns = [c if c == layer.geometry.name else c.lower() for c in layer.columns]
    if C.OA not in layer.columns:
        raise SchemaError(
            f"{path}: no {C.OA.upper()} column; found {', '.join(layer.columns)}. "
            f"Each output area needs its GSS code in a column named {C.OA.upper()}."
        )
    if layer.crs is None:
        raise CRSError(
            f"{path}: the layer has no coordinate reference system; "
            "save it with its CRS (e.g. EPSG:27700 or EPSG:4326)."
        )
    layer = layer[[C.OA, layer.geometry.name]]
    if layer.geometry.name != "geometry":
        layer = layer.rename_geometry("geometry")
    _check_coordinates(layer, path)
    return layer.to_crs(C.BNG)


def _check_coordinates(layer: gpd.GeoDataFrame, path: Path) -> None:
    """Coordinates must fit the CRS the file declares: a GeoJSON without a ``crs`` member
    is read as longitude/latitude, so metres there are a CRS problem, not bad polygons."""
    if not layer.crs.is_geographic or layer.empty:
        return
    x0, y0, x1, y1 = layer.total_bounds
    if min(x0, y0) >= -180 and max(x1, y1) <= 180 and min(y0, -y1) >= -90:
        return
    metres = 0 <= x0 and x1 <= 700_000 and 0 <= y0 and y1 <= 1_300_000
    guess = ("they look like British National Grid metres (EPSG:27700): save the file with "
             "that CRS (in QGIS: Export > Save Features As, CRS EPSG:27700)" if metres else
             "save the file with the CRS its coordinates are in")
    raise CRSError(
        f"{path}: the file says its coordinates are longitude/latitude ({layer.crs.name}), "
        f"but they run from ({x0:,.0f}, {y0:,.0f}) to ({x1:,.0f}, {y1:,.0f}), which cannot be "
        f"degrees; {guess}. A GeoJSON without a 'crs' member is read as longitude/latitude.")


def load_boundaries(files: BoundaryFiles = DEFAULT_BOUNDARIES) -> gpd.GeoDataFrame:
    """Load output areas with their lookup (and deprivation) into one checked layer.

    Parameters
    ----------
    files
        The OA polygon layer (any format pyogrio reads, any CRS), the OA -> LSOA -> ward
        lookup CSV (ONS column names: OA11CD, LSOA11CD, WD13CD, WD13NM; LSOA11NM, LAD11CD
        and LAD11NM optional) and optionally an IMD 2019 CSV by LSOA (LSOA11CD, IMD_rank).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per OA, indexed by ``oa11cd``, in EPSG:27700, with the lookup columns and,
        with IMD, ``imd_rank``, ``imd_decile`` and ``deprivation`` (1 = most deprived).

    Raises
    ------
    SchemaError, CRSError, BoundaryError
        With the file, the offending codes and the fix.

    Examples
    --------
    >>> oas = load_boundaries()
    >>> oas.crs.to_epsg(), oas.index.name
    (27700, 'oa11cd')
    """
    oas = _read_oa_layer(files.oa)
    lookup = read_table(
        files.lookup,
        [C.OA, C.LSOA, C.WARD, C.WARD_NAME],
        optional=[C.LSOA_NAME, C.LAD, C.LAD_NAME],
    )
    for column, default in [(C.LSOA_NAME, C.LSOA), (C.LAD, None), (C.LAD_NAME, None)]:
        if column not in lookup:
            lookup[column] = lookup[default] if default else ""

    problems = [_repeated(oas[C.OA], files.oa), _repeated(lookup[C.OA], files.lookup)]
    only_layer = sorted(set(oas[C.OA]) - set(lookup[C.OA]))
    only_lookup = sorted(set(lookup[C.OA]) - set(oas[C.OA]))
    if only_layer or only_lookup:
        problems.append(
            f"{files.oa} and {files.lookup} disagree: {len(only_layer)} OA(s) have no lookup row "
            f"(e.g. {', '.join(only_layer[:3]) or 'none'}) and {len(only_lookup)} lookup row(s) "
            f"have no polygon (e.g. {', '.join(only_lookup[:3]) or 'none'}). "
            "Use a lookup of the same census vintage as the boundaries.")
    oas = _repair(oas, files.oa)
    problems.append(_overlaps(oas, files.oa))
    problems = [p for p in problems if p]
    if problems:
        raise BoundaryError(" ".join(problems) if len(problems) == 1 else
                            f"{len(problems)} problems: " + " ".join(
                                f"({i}) {p}" for i, p in enumerate(problems, start=1)))

    oas = oas.merge(lookup[C.LOOKUP_COLUMNS], on=C.OA, how="left")
    if files.imd is not None:
        oas = _join_imd(oas, files.imd)
    oas = oas.set_index(C.OA).sort_index()
    log.info("loaded %d output areas in %d LSOAs and %d wards",
             len(oas), oas[C.LSOA].nunique(), oas[C.WARD].nunique())
    return oas


def _repeated(codes: pd.Series, path: Path) -> str | None:
    repeated = codes[codes.duplicated()].unique().tolist()
    if not repeated:
        return None
    return (f"{path}: {len(repeated)} OA code(s) appear more than once, e.g. "
            f"{', '.join(repeated[:3])}; each output area must appear once (dissolve parts "
            "first).")


def _repair(oas: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Invalid polygons (ONS's own full-resolution files have a few self-intersecting
    rings) are taken as published and repaired, saying so; what is left of a polygon
    must still be a polygon."""
    geoms = oas.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return oas
    fixed = geoms.copy()
    repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    polygonal = [shapely.union_all([g for g in shapely.get_parts(r)
                                    if g.geom_type in {"Polygon", "MultiPolygon"}])
                 for r in repaired]
    fixed[invalid] = polygonal
    codes = oas.loc[invalid, C.OA].tolist()
    log.warning("%s: repaired %d invalid polygon(s) (self-intersecting rings), e.g. %s",
                path, len(codes), ", ".join(codes[:3]))
    return oas.set_geometry(fixed)


#: Two output areas sharing more than this much area overlap (m²); less is digitising noise.
OVERLAP_TOLERANCE = 1.0


def _overlaps(oas: gpd.GeoDataFrame, path: Path) -> str | None:
    """Output areas must not overlap: a household inside two would be placed in one of
    them at random. Returns the problem, naming the codes and the area shared."""
    geoms = oas.geometry.to_numpy()
    left, right = oas.sindex.query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    inner = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    left, right = left[inner], right[inner]
    if not len(left):
        return None
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = shared > OVERLAP_TOLERANCE
    if not big.any():
        return None
    codes = oas[C.OA].to_numpy()
    worst = np.argsort(-shared[big])[:3]
    pairs = [f"{codes[left[big][i]]} and {codes[right[big][i]]} "
             f"({shared[big][i]:,.0f} m²)" for i in worst]
    return (f"{path}: {int(big.sum())} pair(s) of output areas overlap, e.g. "
            f"{', '.join(pairs)}; a household there would be placed in either. Use "
            "boundaries that tile without overlaps (ONS's published OA files do).")


def _join_imd(oas: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    imd = read_table(path, [C.LSOA, C.IMD_RANK], optional=[C.IMD_DECILE])
    rank = pd.to_numeric(imd[C.IMD_RANK], errors="coerce")
    bad = imd.loc[rank.isna() | (rank < 1) | (rank > C.ENGLAND_LSOAS), C.LSOA].tolist()
    if bad:
        raise SchemaError(
            f"{path}: IMD_rank must be a whole number from 1 to {C.ENGLAND_LSOAS:,}; "
            f"it is not for LSOA(s) {', '.join(bad[:3])}."
        )
    imd = imd.assign(**{C.IMD_RANK: rank.astype(int)})
    if C.IMD_DECILE in imd:
        imd[C.IMD_DECILE] = pd.to_numeric(imd[C.IMD_DECILE], errors="coerce").astype("Int64")
    else:
        imd[C.IMD_DECILE] = (np.ceil(imd[C.IMD_RANK] / C.ENGLAND_LSOAS * 10)).astype("Int64")
    missing = sorted(set(oas[C.LSOA]) - set(imd[C.LSOA]))
    if missing:
        raise BoundaryError(
            f"{path}: no IMD row for {len(missing)} LSOA(s) in the lookup, e.g. "
            f"{', '.join(missing[:3])}; supply IMD for every LSOA or leave --imd out."
        )
    imd[C.DEPRIVATION] = deprivation_from_rank(imd[C.IMD_RANK].to_numpy())
    keep = [C.LSOA, C.IMD_RANK, C.IMD_DECILE, C.DEPRIVATION]
    return oas.merge(imd[keep], on=C.LSOA, how="left")


def deprivation_from_rank(rank: np.ndarray) -> np.ndarray:
    """IMD rank (1 = most deprived of England's LSOAs) as a share in [0, 1], 1 = most deprived."""
    return 1.0 - (np.asarray(rank, dtype=float) - 1.0) / (C.ENGLAND_LSOAS - 1.0)


def dissolve_areas(oas: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Dissolve output areas to LSOAs or wards (``level`` is ``lsoa11cd`` or ``wd13cd``).

    The coarser layer keeps its name column and the number of OAs it contains.
    """
    names = {C.LSOA: C.LSOA_NAME, C.WARD: C.WARD_NAME}
    if level not in names:
        raise ValueError(f"level must be {C.LSOA!r} or {C.WARD!r}, not {level!r}")
    grouped = oas.reset_index().dissolve(by=level, aggfunc={names[level]: "first", C.OA: "count"})
    return grouped.rename(columns={C.OA: "n_oas"})


def coverage_problems(polygons: gpd.GeoSeries) -> dict[str, int]:
    """Count what stops a set of polygons from being a clean coverage.

    Returns the number of invalid polygons, of polygons whose edges do not match their
    neighbours' (overlaps or unnoded shared edges, by :func:`shapely.coverage_is_valid`),
    and of gaps (holes in the union that are not holes of any polygon).
    """
    geoms = polygons.to_numpy()
    invalid = int((~shapely.is_valid(geoms)).sum())
    unmatched = int(shapely.length(shapely.coverage_invalid_edges(geoms)).astype(bool).sum())
    union = shapely.union_all(geoms)
    holes = [h for part in shapely.get_parts(union) for h in part.interiors]
    own_holes = sum(len(p.interiors) for g in geoms for p in shapely.get_parts(g))
    gaps = max(len(holes) - own_holes, 0)
    return {"invalid": invalid, "unmatched_edges": unmatched, "gaps": gaps}
