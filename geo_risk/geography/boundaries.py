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
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, ConfigError, CRSError, SchemaError
from geo_risk.geography.vintage import DEPRIVATION_EDITIONS, MEASURES, Vintage, read_code_columns
from geo_risk.io.read import read_table

__all__ = [
    "DEFAULT_BOUNDARIES",
    "BoundaryFiles",
    "coverage_problems",
    "dissolve_areas",
    "load_boundaries",
    "load_geography",
    "read_reference_csv",
]

log = logging.getLogger(__name__)

#: The embedded town ships inside the package, so an installed wheel runs the demo.
_TOWN = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BoundaryFiles:
    """Where a geography comes from: OA polygons, the ward lookup and (optionally) the
    deprivation file, and which deprivation measure to use from it."""

    oa: Path
    lookup: Path
    imd: Path | None = None
    measure: str = "imd"  # the deprivation measure used from the imd file: "imd" or "idaci"
    uprn_lookup: Path | None = None  # ONSUD/NSUL: addresses placed by UPRN, not by point
    repair: bool = True  # repair invalid rings (ONS's files have a few); False: refuse
    #: The districts the run covers (codes or names as the lookup has them), taken from
    #: boundaries of a wider area (England and Wales as ONS publishes them); () for all.
    districts: tuple[str, ...] = ()

    def state(self) -> dict:
        """As a finished run records it (``work/run_state.json``)."""
        return {k: str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v
                for k, v in vars(self).items()}

    @classmethod
    def from_state(cls, state: dict) -> BoundaryFiles:
        """The inverse of :meth:`state` (runs before ``districts`` recorded paths and
        settings alike as text)."""
        files: dict[str, Any] = dict(state)
        settings: dict[str, Any] = {"measure": files.pop("measure", "imd"),
                    "repair": files.pop("repair", True) not in {False, "False"},
                    "districts": tuple(files.pop("districts", ()) or ())}
        paths: dict[str, Any] = {k: Path(v) if v else None for k, v in files.items()}
        return cls(**paths, **settings)


#: The embedded synthetic town (written by ``scripts/make_boundaries.py``).
DEFAULT_BOUNDARIES = BoundaryFiles(
    oa=_TOWN / "synthtown_oa.geojson",
    lookup=_TOWN / "synthtown_lookup.csv",
    imd=_TOWN / "synthtown_imd.csv",
)


def _read_oa_layer(path: Path, within: tuple[str, set[str]] | None = None
                   ) -> tuple[gpd.GeoDataFrame, dict[str, tuple[str, int]]]:
    """The OA polygons with their code (and LSOA, when the file carries it, as ONS's 2021
    OA files do), and the code columns found: internal name -> (header, year).
    ``within`` (an area column and its codes) reads those areas' polygons alone."""
    path = Path(path)

    def keep(attributes: pd.DataFrame) -> pd.Series | None:
        assert within is not None, "only asked for with an area to keep"
        column, codes = within
        header = read_code_columns(attributes.columns).get(column, (None,))[0]
        return None if header is None else _tidy_codes(
            attributes[[header]].set_axis([column], axis=1))[column].isin(codes)

    layer = read_layer(path, "output area boundaries",
                       lambda fields: C.OA in read_code_columns(fields),
                       keep if within else None)
    codes = read_code_columns(c for c in layer.columns if c != layer.geometry.name)
    if C.OA not in codes:
        raise SchemaError(
            f"{path}: no output area code column (OA11CD or OA21CD); found "
            f"{', '.join(c for c in layer.columns if c != layer.geometry.name)}. Each output "
            "area needs its GSS code in a column named after its census, e.g. OA21CD.")
    names = {header: column for column, (header, _) in codes.items()
             if column in {C.OA, C.LSOA, C.LSOA_NAME}}
    layer = layer[[*names, layer.geometry.name]].rename(columns=names)
    if layer.geometry.name != "geometry":
        layer = layer.rename_geometry("geometry")
    layer = _tidy_codes(layer)
    return layer.to_crs(C.BNG), codes


def read_layer(path: Path, what: str, wanted: Callable[[list[str]], bool],
               keep: Callable[[pd.DataFrame], pd.Series | None] | None = None
               ) -> gpd.GeoDataFrame:
    """The layer of a vector file whose fields are ``wanted`` (a GeoPackage can hold
    several), flat (heights dropped: a PolygonZ export says nothing more here), in the CRS
    it declares, which its coordinates must fit. A file no driver reads, without a CRS, or
    with no layer or several layers of such fields is one error naming it.

    ``keep``, given the layer's attributes, says which features to read (None: all); only
    those features' geometries are read, so a few districts come out of England's file
    without reading the rest."""
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
        if len(names) > 1:
            fit = [n for n in names if wanted(list(pyogrio.read_info(path, layer=n)["fields"]))]
            if len(fit) != 1:
                raise SchemaError(
                    f"{path}: holds {len(names)} layers ({', '.join(names[:5])}) and "
                    f"{len(fit) or 'none'} of them with the columns of {what}; save the "
                    f"layer of {what} on its own.")
            log.info("%s: %s read from its layer %s", path, what, fit[0])
            names = fit
        name = names[0] if names else None
        fids = None
        if keep is not None:
            attributes = pyogrio.read_dataframe(path, layer=name, read_geometry=False,
                                                fid_as_index=True)
            chosen = keep(attributes)
            if chosen is not None and chosen.any():  # none: the checks below say why
                fids = attributes.index[chosen.to_numpy()].to_numpy()
        layer = gpd.read_file(path, engine="pyogrio", layer=name, fids=fids)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as e:
        raise SchemaError(f"{path}: cannot be read as {what} ({type(e).__name__}); save it "
                          "as a GeoPackage, GeoJSON or shapefile.") from None
    if not isinstance(layer, gpd.GeoDataFrame) or layer.geometry.name not in layer:
        raise SchemaError(f"{path}: a table without geometry, not a map layer; {what} are a "
                          "GeoPackage, GeoJSON or shapefile.")
    if layer.empty:
        raise SchemaError(f"{path}: the layer holds no features; export {what} again.")
    if layer.crs is None:
        prj = (f" (a shapefile keeps it in {Path(path).with_suffix('.prj').name} beside it, "
               "which is missing: copy it with the other parts)"
               if str(path).lower().endswith(".shp") else "")
        raise CRSError(f"{path}: the layer has no coordinate reference system{prj}; save it "
                       "with its CRS (e.g. EPSG:27700 or EPSG:4326).")
    if layer.has_z.any():
        layer = layer.set_geometry(layer.geometry.force_2d())
    _check_coordinates(layer, path)
    return layer


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
    """:func:`load_geography` without the vintage.
    Parameters
    ----------
    files : BoundaryFiles
        The boundary, lookup and deprivation files (the embedded town by default).

    Returns
    -------
    GeoDataFrame
        Output areas in EPSG:27700 indexed by OA code, with their lookup columns.


    >>> oas = load_boundaries()
    >>> oas.crs.to_epsg(), oas.index.name
    (27700, 'oa_code')
    """
    return load_geography(files)[0]


def load_geography(files: BoundaryFiles = DEFAULT_BOUNDARIES
                   ) -> tuple[gpd.GeoDataFrame, Vintage]:
    """Load output areas with their lookup (and deprivation) into one checked layer, and
    say which geography it is.

    Parameters
    ----------
    files
        The OA polygon layer (any format pyogrio reads, any CRS) with its code column
        (``OA11CD`` or ``OA21CD``); the ward lookup CSV, by output area (``OA21CD``,
        ``LSOA21CD``, ``WDyyCD``, ``WDyyNM``; ``LSOA21NM``, ``LADyyCD``, ``LADyyNM``
        optional) or by LSOA as ONS publishes it (``LSOA21CD``, ``WDyyCD``, ``WDyyNM``, ...;
        the OA file then carries ``LSOA21CD``); optionally the deprivation CSV by LSOA
        (IoD 2025 or IMD 2019 File 7 as published, or ``LSOA11CD, IMD_rank``), whose
        ``measure`` (IMD or IDACI) is used.

    Returns
    -------
    (geopandas.GeoDataFrame, Vintage)
        One row per OA, indexed by ``oa_code``, in EPSG:27700, with the lookup columns and,
        with deprivation, ``deprivation_rank``, ``deprivation_decile`` and ``deprivation``
        (1 = most deprived); and the vintage read from the files' headers.

    Raises
    ------
    SchemaError, CRSError, BoundaryError
        With the file, the offending codes or columns and the fix; boundary problems are
        collected and reported together.
    """
    if not Path(files.oa).is_file():
        raise SchemaError(f"{files.oa}: file not found; check the --boundaries path.")
    lookup, lookup_codes = _read_lookup(files.lookup)
    ward_level = "oa" if C.OA in lookup_codes else "lsoa"
    within = None
    if files.districts:  # of England's boundaries, these districts' polygons alone are read
        lookup = _in_districts(lookup, files)
        area = C.OA if ward_level == "oa" else C.LSOA
        within = (area, set(lookup[area]))
    oas, layer_codes = _read_oa_layer(files.oa, within)
    census = _census(files, layer_codes, lookup_codes)
    if ward_level == "lsoa":
        lookup = _lookup_by_lsoa(oas, lookup, files)
    for column, default in [(C.LSOA_NAME, C.LSOA), (C.LAD, None), (C.LAD_NAME, None)]:
        if column not in lookup:
            lookup[column] = lookup[default] if default else ""
    ward_year = lookup_codes[C.WARD][1]
    vintage = Vintage(census=census, ward=ward_year,
                      lad=lookup_codes.get(C.LAD, (None, ward_year))[1], ward_level=ward_level,
                      deprivation=None, measure=files.measure)

    if files.districts:  # a file that cannot be read in part was read whole
        oas = oas[oas[C.OA].isin(lookup[C.OA])]
    oas = oas[[C.OA, "geometry"]]
    problems = [_repeated(oas[C.OA], files.oa), _repeated(lookup[C.OA], files.lookup)]
    lookup, unmapped = _lookup_for_layer(lookup, oas, files)
    only_layer = sorted(set(oas[C.OA]) - set(lookup[C.OA]))
    only_lookup = sorted(unmapped)
    if only_layer or only_lookup:
        problems.append(
            f"{files.oa} and {files.lookup} disagree: {len(only_layer)} OA(s) have no lookup row "
            f"(e.g. {', '.join(only_layer[:3]) or 'none'}) and {len(only_lookup)} lookup row(s) "
            f"of the districts the boundaries cover have no polygon (e.g. "
            f"{', '.join(only_lookup[:3]) or 'none'}). Use a lookup of the same census vintage "
            "as the boundaries, and boundaries of whole districts.")
    oas, repaired = _repair(oas, files.oa)
    problems.append(_not_polygons(oas, files.oa))
    if repaired and not files.repair:
        problems.append(
            f"{files.oa}: {len(repaired)} invalid polygon(s) (self-intersecting rings), e.g. "
            f"{', '.join(repaired[:3])}, and [boundaries] repair = false. Repair them (QGIS: "
            "Fix geometries) or let geo-risk repair them (repair = true, the default).")
    problems.append(_overlaps(oas, files.oa))
    found = [p for p in problems if p]
    if found:
        raise BoundaryError(" ".join(found) if len(found) == 1 else
                            f"{len(found)} problems: " + " ".join(
                                f"({i}) {p}" for i, p in enumerate(found, start=1)))

    oas = oas.merge(lookup[C.LOOKUP_COLUMNS], on=C.OA, how="left")
    if files.imd is not None:
        deprivation, edition = _read_deprivation(files.imd, census, files.measure)
        oas = _join_deprivation(oas, deprivation, files.imd)
        vintage = replace(vintage, deprivation=edition)
    oas = oas.set_index(C.OA).sort_index()
    oas.attrs["repaired"] = repaired  # codes whose rings were repaired, for run_info
    log.info("loaded %d output areas in %d LSOAs and %d wards (%s)", len(oas),
             oas[C.LSOA].nunique(), oas[C.WARD].nunique(), vintage.describe())
    return oas, vintage


def read_reference_csv(path: Path, option: str) -> pd.DataFrame:
    """A reference table (lookup, deprivation) as text, or one clear error naming
    ``option``: CSV in any encoding and separator, or a workbook (as published or as saved
    by a spreadsheet); blank rows left out.

    Parameters
    ----------
    path : Path
        The file.
    option : str
        The setting or option that named it, for the error.

    Returns
    -------
    DataFrame
        Every value as text.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: file not found; check the {option} path.")
    if path.suffix.lower() in {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb"}:
        raise SchemaError(f"{path}: a map layer, not a table; {option} is a CSV or workbook "
                          "(the boundaries go to --boundaries).")
    return read_table(path, headers_as_written=True).reset_index(drop=True)


def _read_lookup(path: Path) -> tuple[pd.DataFrame, dict[str, tuple[str, int]]]:
    table = read_reference_csv(path, "--lookup")
    codes = read_code_columns(table.columns)
    need = [C.WARD, C.WARD_NAME] + ([] if C.OA in codes else [C.LSOA])
    missing = [c for c in need if c not in codes]
    if missing:
        wanted = {C.WARD: "WDyyCD", C.WARD_NAME: "WDyyNM", C.LSOA: "OA21CD or LSOA21CD"}
        raise SchemaError(
            f"{path}: missing column(s) {', '.join(wanted[m] for m in missing)}; found "
            f"{', '.join(table.columns)}. A ward lookup is by output area (OA21CD, LSOA21CD, "
            "WD25CD, WD25NM) or by LSOA (LSOA21CD, WD25CD, WD25NM), with the ONS column names "
            "of its vintage (case does not matter).")
    table = table[[header for header, _ in codes.values()]]
    table.columns = list(codes)
    return _tidy_codes(table), codes


def _tidy_codes(table: pd.DataFrame) -> pd.DataFrame:
    """Area columns as text without the spaces a spreadsheet keeps, GSS codes in capitals
    (``e00012345`` is E00012345), so files match whoever typed or exported them."""
    table = table.copy()
    for column in [c for c in table.columns if c in C.LOOKUP_COLUMNS]:
        given = table[column].notna()
        text = table.loc[given, column].astype(str).str.strip()
        table[column] = table[column].astype(object)
        table.loc[given, column] = text.str.upper() if column.endswith("_code") else text
    return table


def _census(files: BoundaryFiles, layer: dict, lookup: dict) -> int:
    """The census of the output areas; refuse files of another census."""
    header, census = layer[C.OA]
    if census not in DEPRIVATION_EDITIONS:
        raise SchemaError(f"{files.oa}: {header} is not a census output area code column; "
                          "output areas come from the 2011 or 2021 census (OA11CD, OA21CD).")
    where = [(files.oa, layer, C.LSOA), (files.lookup, lookup, C.OA),
             (files.lookup, lookup, C.LSOA)]
    for path, codes, column in where:
        if column in codes and codes[column][1] != census:
            raise BoundaryError(
                f"{files.oa} has {header} ({census} output areas) but {path} has "
                f"{codes[column][0]} ({codes[column][1]} areas): areas of one census do not "
                f"nest in the other's. Use files of the {census} census throughout (or "
                "boundaries of the lookup's census).")
    return census


def _lookup_by_lsoa(oas: gpd.GeoDataFrame, lookup: pd.DataFrame, files: BoundaryFiles
                    ) -> pd.DataFrame:
    """A ward lookup by LSOA (ONS's best fit) turned into one by OA, through the LSOA
    each OA polygon carries."""
    if C.LSOA not in oas:
        raise SchemaError(
            f"{files.lookup} looks wards up by LSOA but {files.oa} has no LSOA code column "
            "(e.g. LSOA21CD) to say which LSOA each output area is in. Use the OA boundary "
            "file that carries it (ONS's 2021 OA files do) or a lookup by output area.")
    by_lsoa = lookup.drop_duplicates()
    split = by_lsoa[by_lsoa[C.LSOA].duplicated(keep=False)]
    if len(split):
        code = split[C.LSOA].iloc[0]
        raise BoundaryError(
            f"{files.lookup}: LSOA {code} is given {split[C.LSOA].eq(code).sum()} different "
            f"wards ({', '.join(split.loc[split[C.LSOA] == code, C.WARD])}); a lookup by LSOA "
            "gives each LSOA one ward (ONS's best-fit lookup does). Use that one, or a lookup "
            "by output area.")
    layer_names = [C.LSOA_NAME] if C.LSOA_NAME in oas and C.LSOA_NAME not in by_lsoa else []
    table = oas[[C.OA, C.LSOA, *layer_names]].merge(by_lsoa, on=C.LSOA, how="left")
    unplaced = table.loc[table[C.WARD].isna(), C.LSOA].unique().tolist()
    if unplaced:
        raise BoundaryError(
            f"{files.lookup} has no ward for {len(unplaced)} LSOA(s) of {files.oa}, e.g. "
            f"{', '.join(unplaced[:3])}. Use a lookup that covers every LSOA of the area.")
    return table


def _in_districts(lookup: pd.DataFrame, files: BoundaryFiles) -> pd.DataFrame:
    """The lookup's rows of the districts ``[boundaries] districts`` names, by code or by
    name (case and spacing aside); one error naming any district the lookup lacks."""
    if C.LAD not in lookup or not lookup[C.LAD].astype(bool).any():
        raise SchemaError(f"{files.lookup}: [boundaries] districts needs the districts' codes "
                          "in the lookup (LADyyCD, LADyyNM, as ONS's lookups have them).")
    def tidy(values):
        return pd.Series(values, dtype=str).str.split().str.join(" ").str.casefold()
    named = lookup.get(C.LAD_NAME, pd.Series("", index=lookup.index))  # names optional
    codes, names, wanted = tidy(lookup[C.LAD]), tidy(named), tidy(files.districts)
    keep = (codes.isin(wanted) | names.isin(wanted)).to_numpy()
    unknown = [d for d, w in zip(files.districts, wanted, strict=True)
               if w not in set(codes[keep]) | set(names[keep])]
    if unknown:
        first = ~lookup[C.LAD].duplicated().to_numpy()
        examples = [f"{c} {n}".strip() for c, n in zip(lookup[C.LAD][first][:3],
                                                         named[first][:3], strict=True)]
        raise SchemaError(
            f"{files.lookup}: [boundaries] districts names {', '.join(map(repr, unknown))}, "
            "which the lookup does not hold; give ONS district codes or names as the lookup "
            f"has them (e.g. {', '.join(examples)}).")
    return lookup[keep]


def _lookup_for_layer(lookup: pd.DataFrame, oas: gpd.GeoDataFrame, files: BoundaryFiles
                      ) -> tuple[pd.DataFrame, list[str]]:
    """The lookup's rows for the layer's OAs, and the codes of the OAs it lacks in the
    districts it covers (or wards, where the lookup has no district codes). ONS publishes
    lookups for England and Wales, so rows for other districts' OAs are expected and set
    aside; an OA of a covered district without a polygon means a boundary file cut short,
    whose households would be lost."""
    inside = lookup[C.OA].isin(oas[C.OA])
    if inside.all():
        return lookup, []
    unit = C.LAD if (lookup.loc[inside, C.LAD].fillna("") != "").all() else C.WARD
    covered = lookup[unit].isin(set(lookup.loc[inside, unit]))
    unmapped = lookup.loc[~inside & covered, C.OA].tolist()
    log.info("%s: %d row(s) for output areas of other districts, not in %s, set aside",
             files.lookup.name, int((~inside & ~covered).sum()), files.oa.name)
    return lookup[inside], unmapped


def _repeated(codes: pd.Series, path: Path) -> str | None:
    repeated = codes[codes.duplicated()].unique().tolist()
    if not repeated:
        return None
    return (f"{path}: {len(repeated)} OA code(s) appear more than once, e.g. "
            f"{', '.join(repeated[:3])}; each output area must appear once (dissolve parts "
            "first).")


_POLYGONAL = [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]


def _not_polygons(oas: gpd.GeoDataFrame, path: Path) -> str | None:
    """Every output area needs an area: a row without geometry, with a point or a line, or
    with a polygon that was nothing but a self-intersection, places no household and has
    no neighbours."""
    geoms = oas.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    bad = ~np.isin(kind, _POLYGONAL) | shapely.is_empty(geoms)
    if not bad.any():
        return None
    what = ["no geometry" if k < 0 else "empty" if e else shapely.GeometryType(k).name.lower()
            for k, e in zip(kind[bad], shapely.is_empty(geoms[bad]), strict=True)]
    examples = ", ".join(f"{code} ({w})" for code, w in
                         zip(oas.loc[bad, C.OA][:3], what[:3], strict=False))
    return (f"{path}: {int(bad.sum())} output area(s) have no polygon, e.g. {examples}; every "
            "output area needs its polygon. Export the layer again from the boundary file "
            "as published, or remove those output areas from it and from the lookup.")


def _repair(oas: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Invalid polygons (ONS's own full-resolution files have a few self-intersecting
    rings) are taken as published and repaired, saying so; what is left of a polygon
    must still be a polygon. Returns the layer and the codes repaired."""
    geoms = oas.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms) & np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    if not invalid.any():
        return oas, []
    fixed = geoms.copy()
    repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    polygonal = [shapely.union_all([g for g in shapely.get_parts(r)
                                    if g.geom_type in {"Polygon", "MultiPolygon"}])
                 for r in repaired]
    fixed[invalid] = polygonal
    codes = oas.loc[invalid, C.OA].tolist()
    log.warning("%s: repaired %d invalid polygon(s) (self-intersecting rings), e.g. %s",
                path, len(codes), ", ".join(codes[:3]))
    return oas.set_geometry(fixed), codes


#: Two output areas sharing more than this much area overlap (m²); less is digitising noise.
OVERLAP_TOLERANCE = 1.0
#: ... and so is a shared sliver narrower than this on average (m: twice its area over its
#: perimeter), however long: two edges digitised apart, as independently drawn or
#: generalised boundaries have along a whole street. A home there is placed in one of the
#: two, the same one every run.
SLIVER_WIDTH = 1.0


def _overlaps(oas: gpd.GeoDataFrame, path: Path) -> str | None:
    """Output areas must not overlap: a household inside two would be placed in one of
    them at random. Returns the problem, naming the codes and the area shared; slivers
    (:data:`SLIVER_WIDTH`) are only logged."""
    geoms = oas.geometry.to_numpy()
    left, right = oas.sindex.query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    inner = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    left, right = left[inner], right[inner]
    if not len(left):
        return None
    overlap = shapely.intersection(geoms[left], geoms[right])
    shared = shapely.area(overlap)
    width = 2 * shared / np.maximum(shapely.length(overlap), 1e-9)
    noise = shared <= OVERLAP_TOLERANCE
    sliver = ~noise & (width < SLIVER_WIDTH)
    if sliver.any():
        log.warning("%s: %d pair(s) of output areas share a sliver narrower than %g m "
                    "(%s m² in all); a home there is placed in one of the two", path,
                    int(sliver.sum()), SLIVER_WIDTH, f"{shared[sliver].sum():,.0f}")
    big = ~noise & ~sliver
    if not big.any():
        return None
    codes = oas[C.OA].to_numpy()
    worst = np.argsort(-shared[big])[:3]
    pairs = [f"{codes[left[big][i]]} and {codes[right[big][i]]} "
             f"({shared[big][i]:,.0f} m²)" for i in worst]
    return (f"{path}: {int(big.sum())} pair(s) of output areas overlap, e.g. "
            f"{', '.join(pairs)}; a household there would be placed in either. Use "
            "boundaries that tile without overlaps (ONS's published OA files do).")


#: How the deprivation measures' columns are headed in the published File 7 CSVs (a
#: regular expression, lower case) and in simpler files (exact, lower case).
_MEASURE_COLUMNS = {
    "imd": {"rank": (r"index of multiple deprivation \(imd\) rank", {"imd_rank", "imdrank"}),
            "decile": (r"index of multiple deprivation \(imd\) decile",
                       {"imd_decile", "imddecil", "imddecile"})},
    "idaci": {"rank": (r"income deprivation affecting children index \(idaci\) rank",
                       {"idaci_rank", "idacirank"}),
              "decile": (r"income deprivation affecting children index \(idaci\) decile",
                         {"idaci_decile", "idacidecil", "idacidecile"})},
}


def _find(columns, pattern: str, names: set[str]) -> str | None:
    for header in columns:
        text = str(header).strip().lower()
        if re.match(pattern, text) or text in names:
            return header
    return None


def _read_deprivation(path: Path, census: int, measure: str) -> tuple[pd.DataFrame, str]:
    """The deprivation file as published (IoD 2025 / IMD 2019 File 7 headers, or
    ``LSOA21CD, IMD_rank, IMD_decile``): LSOA, rank, decile and deprivation share of the
    chosen measure, and the edition's name. Ranks are shares of the edition's LSOAs."""
    table = read_reference_csv(path, "--imd")
    lsoa, year = None, None
    for header in table.columns:
        match = re.fullmatch(r"lsoa code \((\d{4})\)", str(header).strip().lower())
        if match:
            lsoa, year = header, int(match[1])
            break
    else:
        codes = read_code_columns(table.columns)
        if C.LSOA in codes:
            lsoa, year = codes[C.LSOA]
    if lsoa is None:
        raise SchemaError(
            f"{path}: no LSOA code column; expected 'LSOA code (2021)' (IoD 2025 File 7 as "
            f"published) or LSOA21CD / LSOA11CD; found {', '.join(table.columns[:8])}.")
    if year != census:
        raise BoundaryError(
            f"{path} ranks {year} LSOAs ({lsoa}) but the output areas are from the {census} "
            f"census: use {DEPRIVATION_EDITIONS[census][0]}, which is on {census} LSOAs.")
    if measure not in _MEASURE_COLUMNS:
        raise ConfigError(f"deprivation measure {measure!r} is not known; use "
                          f"{' or '.join(repr(m) for m in _MEASURE_COLUMNS)}.")
    rank_col = _find(table.columns, *_MEASURE_COLUMNS[measure]["rank"])
    decile_col = _find(table.columns, *_MEASURE_COLUMNS[measure]["decile"])
    if rank_col is None:
        raise SchemaError(
            f"{path}: no {measure.upper()} rank column; expected e.g. '"
            f"{MEASURES[measure]} ({measure.upper()}) Rank (where 1 is most deprived)' or "
            f"{measure.upper()}_rank. IoD File 7 carries IMD and IDACI.")
    edition, england = DEPRIVATION_EDITIONS[census]
    rank = pd.to_numeric(table[rank_col].str.replace(",", ""), errors="coerce")
    bad = table.loc[rank.isna() | (rank < 1) | (rank > england), lsoa].tolist()
    if bad:
        raise SchemaError(
            f"{path}: {rank_col} must be a whole number from 1 to {england:,} ({edition} "
            f"ranks {england:,} LSOAs); it is not for LSOA(s) {', '.join(bad[:3])}.")
    out = pd.DataFrame({C.LSOA: table[lsoa].str.strip().str.upper(),
                        C.DEPRIVATION_RANK: rank.astype(int).to_numpy()})
    decile = (pd.to_numeric(table[decile_col], errors="coerce") if decile_col else
              np.ceil(out[C.DEPRIVATION_RANK] / england * 10))
    out[C.DEPRIVATION_DECILE] = np.asarray(decile)
    out[C.DEPRIVATION_DECILE] = out[C.DEPRIVATION_DECILE].astype("Int64")
    out[C.DEPRIVATION] = deprivation_from_rank(out[C.DEPRIVATION_RANK].to_numpy(), england)
    out = out.drop_duplicates()  # a row pasted twice says nothing new
    twice = out.loc[out[C.LSOA].duplicated(), C.LSOA].unique().tolist()
    if twice:
        raise SchemaError(f"{path}: {len(twice)} LSOA(s) have two different rows, e.g. "
                          f"{', '.join(twice[:3])}; keep one row per LSOA, of one edition.")
    return out, edition


def _join_deprivation(oas: gpd.GeoDataFrame, deprivation: pd.DataFrame, path: Path
                      ) -> gpd.GeoDataFrame:
    missing = sorted(set(oas[C.LSOA]) - set(deprivation[C.LSOA]))
    if missing:
        raise BoundaryError(
            f"{path}: no deprivation row for {len(missing)} LSOA(s) in the lookup, e.g. "
            f"{', '.join(missing[:3])}; supply it for every LSOA or leave --imd out."
        )
    return oas.merge(deprivation, on=C.LSOA, how="left")


def deprivation_from_rank(rank: np.ndarray, england: int) -> np.ndarray:
    """A rank (1 = most deprived of England's ``england`` LSOAs) as a share in [0, 1],
    1 = most deprived.

    >>> deprivation_from_rank([1, 33_755], 33_755).tolist()
    [1.0, 0.0]
    """
    return 1.0 - (np.asarray(rank, dtype=float) - 1.0) / (england - 1.0)


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
