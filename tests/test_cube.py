"""The space-time cube for other tools: CF NetCDF (a time series per output area) and a
long GeoParquet table, disclosure applied (withheld values missing, never zero)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_risk.areas import SAFE, RefreshRisk
from geo_risk.publish.cube import CUBE_NETCDF, CUBE_PARQUET, cube_table

xr = pytest.importorskip("xarray")


def test_cube_table_withholds_each_bin_with_few_under_fives():
    """An area with 3 under-fives at a refresh has no risk there; an area withheld at the
    reference date has none at any refresh, nor quadrants; the Gi* bins stay."""
    index = pd.Index(["A", "B", "C"], name="oa")
    dates = ["2017-09-30", "2017-12-31"]
    refreshes = RefreshRisk(
        mean=pd.DataFrame([[0.2, 0.3], [0.4, 0.5], [0.1, 0.6]], index=index, columns=dates),
        children=pd.DataFrame([[20, 3], [30, 30], [40, 40]], index=index, columns=dates),
        se=pd.DataFrame(0.01, index=index, columns=dates))
    bins = pd.DataFrame({"hs_z": [0.5, 1.0, 2.5, 3.1, -0.1, 0.2],
                         "hs_p": [0.6, 0.3, 0.01, 0.002, 0.9, 0.8],
                         "hs_bin": [0, 0, 1, 1, 0, 0],
                         "lisa_quadrant": ["not significant"] * 4 + [np.nan, np.nan]},
                        index=pd.MultiIndex.from_product([index, dates],
                                                         names=["oa", "refresh"]))
    hotspots = pd.DataFrame({"ehsa_category": ["no pattern", "new hot spot", "no pattern"]},
                            index=index)
    published = pd.DataFrame({"mean_risk": [0.3, 0.5, np.nan]}, index=index)
    table = cube_table(bins, refreshes, hotspots, published, SAFE)
    assert table.loc["A", "risk"].tolist()[0] == 0.2 and np.isnan(table.loc["A", "risk"]
                                                                 .tolist()[1])
    assert table.loc["B", "risk"].tolist() == [0.4, 0.5]
    assert table.loc["C", ["risk", "risk_se"]].isna().all().all()
    assert table.loc["C", "hs_z"].tolist() == [-0.1, 0.2]
    assert table.loc["B", "ehsa_category"].unique().tolist() == ["new hot spot"]
    assert table.index.get_level_values("refresh").dtype.kind == "M"


def test_the_demo_cube_opens_as_cf_and_as_geoparquet(demo):
    """The NetCDF decodes with cf_xarray as a CF discrete sampling geometry (featureType
    timeSeries, the output area codes its timeseries_id, latitude, longitude and time);
    every variable is there; the GeoParquet reads back with geopandas; both hold the same
    figures, withhold what the published tables withhold, and pass the privacy scan."""
    cf_xarray = pytest.importorskip("cf_xarray")
    from geo_risk.publish import privacy_scan

    out, summary = demo
    h = summary["hotspots"]
    with xr.open_dataset(out / "publish/areas" / CUBE_NETCDF) as cube:
        assert cube.attrs["Conventions"].split() == ["CF-1.8", "UGRID-1.0"]
        assert cube.attrs["featureType"] == "timeSeries"
        assert cube.cf.cf_roles == {"timeseries_id": ["station_id"], "mesh_topology": ["mesh"],
                                    "face_node_connectivity": ["mesh_face_nodes"]}
        assert cube.cf["latitude"].name == "lat" and cube.cf["longitude"].name == "lon"
        assert cube.cf["T"].dtype.kind == "M"
        assert (cube.sizes["station"], cube.sizes["time"]) == (h["areas"], h["refreshes"])
        assert set(cube.data_vars) == {"risk", "risk_se", "hs_z", "hs_p", "hs_bin",
                                       "lisa_quadrant", "ehsa_category", "mesh",
                                       "mesh_face_nodes", "crs"}
        assert 51 < float(cube["lat"].mean()) < 52  # the town is in Essex
        # the same file is a UGRID mesh: one face per output area, its outline's nodes
        mesh = cube["mesh"].attrs
        assert mesh["cf_role"] == "mesh_topology" and mesh["face_dimension"] == "station"
        faces = cube["mesh_face_nodes"].to_numpy()
        assert faces.shape[0] == h["areas"] and np.nanmax(faces) == cube.sizes["node"] - 1
        assert cube["crs"].attrs["epsg"] == 27700
        xy = np.column_stack([cube["mesh_node_x"], cube["mesh_node_y"]])
        outline = gpd.GeoSeries([shapely.Polygon(xy[row[row >= 0].astype(int)])
                                 for row in faces], index=cube["station_id"].to_numpy(),
                               crs=27700)
        risk = cube["risk"].to_pandas()
        risk.index = cube["station_id"].to_numpy()
        meanings = cube["ehsa_category"].attrs["flag_meanings"].split()
        category = pd.Series(cube["ehsa_category"].to_numpy(), index=risk.index)
        assert cf_xarray.__version__
    oa = pd.read_csv(out / "publish/areas/oa.csv", index_col=0)
    hot = pd.read_csv(out / "publish/areas/oa_hotspots.csv", index_col=0)
    withheld = oa.index[oa["mean_risk"].isna()]
    assert len(withheld) > 5 and risk.loc[withheld].isna().all().all()
    assert (risk.drop(withheld).iloc[:, -1] - oa["mean_risk"].drop(withheld)).abs().max() < 0.05
    names = category.map(lambda c: meanings[int(c)].replace("_", " "))
    assert names.equals(hot["ehsa_category"].reindex(names.index).rename(None))
    long = gpd.read_parquet(out / "publish/areas" / CUBE_PARQUET)
    assert long.crs.to_epsg() == 27700 and len(long) == h["areas"] * h["refreshes"]
    code = long.columns[0]
    assert long.loc[long[code].isin(withheld), ["risk", "risk_se"]].isna().all().all()
    assert long.loc[long[code].isin(withheld), "lisa_quadrant"].isna().all()
    assert not (long["risk"] == 0).any()
    drawn = long.drop_duplicates(code).set_index(code).geometry
    simple = drawn.geom_type.eq("Polygon") & drawn.interiors.str.len().eq(0)
    assert simple.mean() > 0.9 and outline.is_valid.all()
    assert outline[simple].normalize().geom_equals_exact(drawn[simple].normalize(),
                                                         tolerance=1e-6).all()
    last = long[long["refresh"] == long["refresh"].max()].set_index(code)["risk"]
    pd.testing.assert_series_equal(last.rename(None), risk.iloc[:, -1].rename(None),
                                   check_names=False, check_index_type=False)
    scan = privacy_scan(out / "publish")
    assert scan["pseudonym_like_tokens"] == 0 and scan["withheld_area_counts"] == 0
    assert scan["files_scanned"] >= 2 + sum(1 for _ in (out / "publish").rglob("*.csv"))
