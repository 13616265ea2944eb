"""The space-time cube, for other tools: every output area at every refresh, with the
figures the emerging hot spot analysis read.

Two files in ``publish/areas``, with disclosure applied (a withheld value is missing,
never zero):

- ``space_time_cube.nc``: a CF-1.8 discrete sampling geometry (``featureType =
  timeSeries``, orthogonal multidimensional): output areas are the stations (their codes
  the ``timeseries_id``, their centroids' latitude and longitude), refresh dates the
  time. Categories are codes with CF's ``flag_values`` and ``flag_meanings``.
  The same file is a UGRID-1.0 mesh whose faces are the output areas (each area's
  largest part, holes not cut out, in British National Grid), so QGIS opens it as a
  mesh layer whose temporal controller steps through the refreshes. For that the
  area codes are stored as characters and time as days in floating point, which is
  what its MDAL reader takes.
- ``space_time_cube.parquet``: the same as a long GeoParquet table, one row per output
  area and refresh with the area's polygon, for a GIS's time controller.

Variables: ``risk`` (mean predicted risk of the area's under-fives) and ``risk_se`` (its
standard error, households resampled), withheld where the area had from 1 to
``withhold_up_to`` under-fives at that refresh or its risk is withheld at the reference
date; ``hs_z``, ``hs_p`` and ``hs_bin`` (the bin's Gi* z-score, p-value and hot (1) or
cold (-1) spot, of what the emerging hot spot analysis measures, with the run's settings;
missing for the refreshes that give history only); ``lisa_quadrant`` (the local Moran
quadrant at that refresh, withheld as the area's LISA is); and per area
``ehsa_category``, its emerging hot spot category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.areas import EHSA_CATEGORIES, LISA_STATES, Disclosure, RefreshRisk
from geo_risk.geography import Vintage
from geo_risk.model.outcomes import SCHOOL_READINESS, Outcome

__all__ = ["CUBE_NETCDF", "CUBE_PARQUET", "cube_table", "read_cube_tables", "write_cube"]

CUBE_NETCDF, CUBE_PARQUET = "space_time_cube.nc", "space_time_cube.parquet"

#: The quadrant codes of ``lisa_quadrant`` (CF flag values), and their meanings.
_LISA = [*LISA_STATES, "no neighbours"]


def cube_table(bins: pd.DataFrame, refreshes: RefreshRisk, hotspots: pd.DataFrame,
               published_oa: pd.DataFrame, rules: Disclosure) -> pd.DataFrame:
    """The cube as a long table: one row per output area and refresh, disclosure applied.

    Parameters
    ----------
    bins : DataFrame
        Per output area and refresh (index): ``hs_z``, ``hs_p``, ``hs_bin`` and
        ``lisa_quadrant`` (published: a withheld area's quadrants missing).
    refreshes : RefreshRisk
        Each area's mean risk, its standard error and its under-fives at each refresh.
    hotspots : DataFrame
        The published per-OA hotspot table (``ehsa_category``, ``lisa_quadrant``).
    published_oa : DataFrame
        The disclosure-controlled OA table (``mean_risk``).
    rules : Disclosure
        The run's disclosure rules.

    Returns
    -------
    DataFrame
        Indexed by output area and refresh (a date): ``risk``, ``risk_se``, ``hs_z``,
        ``hs_p``, ``hs_bin``, ``lisa_quadrant`` and ``ehsa_category``.
    """
    bins = bins.rename_axis([C.OA, "refresh"])
    oas = bins.index.get_level_values(0).unique()
    children = refreshes.children.reindex(index=oas)
    mean = refreshes.mean.reindex(index=oas, columns=children.columns)
    se = (refreshes.se if refreshes.se is not None else mean * np.nan).reindex_like(mean)
    withheld_now = published_oa["mean_risk"].reindex(oas).isna().to_numpy()
    hidden = (children.fillna(0) <= rules.withhold_up_to).to_numpy() | withheld_now[:, None]
    values = pd.DataFrame({
        "risk": mean.mask(hidden).stack(), "risk_se": se.mask(hidden).stack()})
    values.index = values.index.set_names([C.OA, "refresh"])
    table = values.join(bins, how="outer")
    table["ehsa_category"] = hotspots["ehsa_category"].reindex(
        table.index.get_level_values(0)).to_numpy()
    table = table.reset_index()
    table["refresh"] = pd.to_datetime(table["refresh"])
    return table.set_index([C.OA, "refresh"]).sort_index()


def _codes(values: pd.Series, meanings: list[str]) -> np.ndarray:
    """Categories as CF flag values (their position in ``meanings``), missing as NaN.

    Flags are stored as floats, not bytes: QGIS's mesh reader drops a file's time steps
    when a variable on the areas is an integer."""
    code = {m: i for i, m in enumerate(meanings)}
    return values.map(code).to_numpy(dtype=np.float32)


def _flag(meanings: list[str]) -> dict:
    return {"flag_values": np.arange(len(meanings), dtype=np.float32),
            "flag_meanings": " ".join(m.replace(" ", "_").replace("-", "_")
                                      for m in meanings)}


def _mesh(geometry: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The areas as UGRID faces: each area's largest part's outer ring, anticlockwise.

    Nodes are not shared between faces (each face lists its own), so an area's outline
    is exactly its own; rows of the face-node table are padded with -1.

    >>> from shapely.geometry import box
    >>> x, y, faces = _mesh(gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 3, 1)]))
    >>> faces.tolist()
    [[0, 1, 2, 3], [4, 5, 6, 7]]
    >>> (x[4:].tolist(), y[4:].tolist())
    ([3.0, 3.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0])
    """
    import shapely

    polygons = geometry.explode(index_parts=True)
    largest = polygons.loc[polygons.area.groupby(level=0).idxmax()]
    rings = shapely.get_exterior_ring(shapely.orient_polygons(largest.to_numpy()))
    count = shapely.get_num_coordinates(rings) - 1  # the closing point is not a node
    xy = [shapely.get_coordinates(r)[:-1] for r in rings]
    faces = np.full((len(xy), int(count.max())), -1, dtype=np.int32)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    for row, (first, n) in enumerate(zip(start, count, strict=True)):
        faces[row, :n] = np.arange(first, first + n)
    nodes = np.concatenate(xy)
    return nodes[:, 0], nodes[:, 1], faces


def write_cube(areas_folder: Path, table: pd.DataFrame, oas: gpd.GeoDataFrame,
               vintage: Vintage, *, title: str, settings: dict,
               words: Outcome = SCHOOL_READINESS) -> list[Path]:
    """Write the cube (:func:`cube_table`) as CF NetCDF and long GeoParquet.

    Parameters
    ----------
    areas_folder : Path
        ``publish/areas``.
    table : DataFrame
        :func:`cube_table`'s.
    oas : GeoDataFrame
        The output areas (EPSG:27700), indexed by code.
    vintage : Vintage
        The geography: the published code column's name (``OA11CD``, ``OA21CD``).
    title : str
        What the cube is of (the area's name).
    settings : dict
        The hot spot settings (``run.json``'s), recorded in the NetCDF's attributes.
    words : Outcome
        The run's outcome: who the risk is of, in the variables' names for people.

    Returns
    -------
    list of Path
        The two files written.
    """
    import xarray as xr

    code_name = vintage.fields.get(C.OA, C.OA)
    wide = {c: table[c].unstack() for c in ["risk", "risk_se", "hs_z", "hs_p", "hs_bin",
                                           "lisa_quadrant"]}
    ids = wide["risk"].index
    times = wide["risk"].columns
    centroid = gpd.GeoSeries(oas.geometry.reindex(ids).centroid, crs=oas.crs).to_crs(4326)
    category = table["ehsa_category"].groupby(level=0).first().reindex(ids)
    station, time = ("station", "time")
    number = {"coordinates": "time lat lon station_id", "mesh": "mesh", "location": "face"}
    node_x, node_y, faces = _mesh(oas.geometry.reindex(ids))
    ds = xr.Dataset(
        data_vars={
            "risk": ((station, time), wide["risk"].to_numpy(), {
                "long_name": f"mean predicted risk of the area's {words.population}",
                "units": "1",
                **number}),
            "risk_se": ((station, time), wide["risk_se"].to_numpy(), {
                "long_name": "standard error of risk (households resampled)", "units": "1",
                **number}),
            "hs_z": ((station, time), wide["hs_z"].to_numpy(), {
                "long_name": "Getis-Ord Gi* z-score of the emerging hot spot measure",
                "units": "1", **number}),
            "hs_p": ((station, time), wide["hs_p"].to_numpy(), {
                "long_name": "two-sided p-value of hs_z", "units": "1", **number}),
            "hs_bin": ((station, time), wide["hs_bin"].to_numpy(np.float32), {
                "long_name": "hot or cold spot in this bin",
                "flag_values": np.array([-1, 0, 1], dtype=np.float32),
                "flag_meanings": "cold_spot not_significant hot_spot", **number}),
            "lisa_quadrant": ((station, time), np.column_stack(
                [_codes(wide["lisa_quadrant"][t], _LISA) for t in times]), {
                "long_name": "local Moran quadrant at this refresh",
                **_flag(_LISA), **number}),
            "ehsa_category": ((station,), _codes(category, EHSA_CATEGORIES), {
                "long_name": "emerging hot spot category",
                "coordinates": "lat lon station_id", "mesh": "mesh", "location": "face",
                **_flag(EHSA_CATEGORIES)}),
            "mesh": ((), np.int32(0), {
                "cf_role": "mesh_topology", "long_name": "the output areas as a mesh",
                "topology_dimension": np.int32(2), "face_dimension": station,
                "node_coordinates": "mesh_node_x mesh_node_y",
                "face_node_connectivity": "mesh_face_nodes"}),
            "mesh_face_nodes": ((station, "max_face_nodes"), faces, {
                "cf_role": "face_node_connectivity", "start_index": np.int32(0),
                "long_name": "the nodes of each output area's outline, anticlockwise"}),
            "crs": ((), np.int32(0), {
                "grid_mapping_name": "transverse_mercator", "epsg": np.int32(27700),
                "EPSG_code": "EPSG:27700", "crs_wkt": oas.crs.to_wkt()}),
        },
        coords={
            "time": (time, times.to_numpy(dtype="datetime64[ns]"), {
                "standard_name": "time", "long_name": "refresh date", "axis": "T"}),
            "station_id": (station, np.asarray(ids, dtype=str), {
                "cf_role": "timeseries_id", "long_name": f"output area code ({code_name})"}),
            "lat": (station, centroid.y.to_numpy(), {
                "standard_name": "latitude", "units": "degrees_north",
                "long_name": "output area centroid latitude"}),
            "lon": (station, centroid.x.to_numpy(), {
                "standard_name": "longitude", "units": "degrees_east",
                "long_name": "output area centroid longitude"}),
            "mesh_node_x": ("node", node_x, {
                "standard_name": "projection_x_coordinate", "units": "m",
                "long_name": "easting of an outline node", "grid_mapping": "crs"}),
            "mesh_node_y": ("node", node_y, {
                "standard_name": "projection_y_coordinate", "units": "m",
                "long_name": "northing of an outline node", "grid_mapping": "crs"}),
        },
        attrs={
            "Conventions": "CF-1.8 UGRID-1.0", "featureType": "timeSeries",
            "title": f"geo-risk space-time cube: {title}",
            "source": "geo-risk", "comment": (
                "Withheld values are missing, never zero: an area's risk where it had few "
                f"{words.population} at a refresh or its risk is withheld at the reference "
                "date."),
            "hotspot_settings": ", ".join(f"{k}={v}" for k, v in sorted(settings.items())),
        })
    nc = areas_folder / CUBE_NETCDF
    encoding: dict[str, dict[str, Any]] = {str(v): {"zlib": True, "complevel": 4}
                                           for v in ds.data_vars}
    encoding["mesh_face_nodes"] = {"zlib": True, "complevel": 4, "_FillValue": np.int32(-1)}
    encoding["time"] = {"units": "days since 1970-01-01", "calendar": "standard",
                        "dtype": "float64"}
    encoding["station_id"] = {"dtype": "S1"}
    ds.to_netcdf(nc, engine="netcdf4", encoding=encoding)
    long = table.reset_index().rename(columns={C.OA: code_name})
    long["geometry"] = oas.geometry.reindex(long[code_name]).to_numpy()
    parquet = areas_folder / CUBE_PARQUET
    gpd.GeoDataFrame(long, geometry="geometry", crs=oas.crs).to_parquet(parquet, index=False)
    return [nc, parquet]


def read_cube_tables(cube: Any) -> list[pd.DataFrame]:
    """An opened cube (an ``xarray.Dataset``) as tables, one per set of dimensions its
    variables share (areas by refreshes, areas, the mesh's nodes, ...), so that no table
    is the product of unrelated dimensions."""
    by_dims: dict[tuple, list[str]] = {}
    for name, variable in cube.variables.items():
        by_dims.setdefault(variable.dims, []).append(str(name))
    return [cube[names].to_dataframe() if dims else pd.DataFrame(
                {n: [cube[n].values] for n in names})
            for dims, names in sorted(by_dims.items(), key=str)]
