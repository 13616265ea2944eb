"""The GeoPackage opened as QGIS opens it (Debian's python3-qgis, run by the system Python
in a subprocess; skips where it is not installed)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

SYSTEM_PYTHON = Path("/usr/bin/python3")

_CHECK = textwrap.dedent("""
    import json, sys
    from qgis.core import QgsApplication, QgsRenderContext, QgsVectorLayer
    app = QgsApplication([], False)
    app.initQgis()
    out = {}
    for name, field in [("oa_risk", "risk_band"), ("lisa", "lisa_quadrant")]:
        layer = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
        layer.loadDefaultStyle()
        renderer = layer.renderer()
        context = QgsRenderContext()
        renderer.startRender(context, layer.fields())
        colours = []
        for feature in layer.getFeatures():
            if str(feature[field]).startswith("withheld"):
                symbol = renderer.symbolForFeature(feature, context)
                colours.append(symbol.color().name() if symbol else None)
        renderer.stopRender(context)
        alias = layer.attributeAlias(layer.fields().indexOf("mean_risk"))
        out[name] = {"renderer": renderer.type(), "withheld": colours, "alias": alias}
    print(json.dumps(out), flush=True)
    import os
    os._exit(0)  # QGIS 3.22 can crash on exitQgis(); the answer is out
""")


def _qgis() -> bool:
    if not SYSTEM_PYTHON.is_file():
        return False
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return found.returncode == 0


@pytest.mark.skipif(not _qgis(), reason="QGIS's Python bindings are not installed "
                    "(apt-get install python3-qgis)")
def test_qgis_draws_every_withheld_area_grey_by_its_default_style(demo):
    from geo_risk.publish.symbology import WITHHELD_COLOUR

    out, _ = demo
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    run = subprocess.run([SYSTEM_PYTHON, "-c", _CHECK, str(out / "publish/geo_risk.gpkg")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    for name in ["oa_risk", "lisa"]:
        assert found[name]["renderer"] == "categorizedSymbol"
        assert len(found[name]["withheld"]) > 5
        assert set(found[name]["withheld"]) == {WITHHELD_COLOUR}, found[name]
    assert found["oa_risk"]["alias"] == "Predicted risk"


_CUBE = textwrap.dedent("""
    import json, sys
    from qgis.core import (QgsApplication, QgsMeshDatasetIndex, QgsMeshLayer, QgsRenderContext,
                           QgsVectorLayer)
    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(sys.argv[1] + "|layername=space_time_cube", "cube", "ogr")
    layer.loadDefaultStyle()
    temporal = layer.temporalProperties()
    renderer = layer.renderer()
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    hot = [renderer.symbolForFeature(f, context).color().name() for f in layer.getFeatures()
           if f["hs_bin"] == 1][:3]
    renderer.stopRender(context)
    mesh = QgsMeshLayer(sys.argv[2], "cube", "mdal")
    data = mesh.dataProvider()
    groups = {data.datasetGroupMetadata(QgsMeshDatasetIndex(g)).name(): g
              for g in range(data.datasetGroupCount())}
    risk = groups["mean predicted risk of the area's under-fives"]
    last = data.datasetValues(QgsMeshDatasetIndex(risk, data.datasetCount(risk) - 1), 0,
                              data.faceCount())
    print(json.dumps({
        "valid": layer.isValid(), "active": temporal.isActive(), "mode": int(temporal.mode()),
        "field": temporal.startField(), "features": layer.featureCount(), "hot": hot,
        "netcdf": {"valid": mesh.isValid(), "crs": mesh.crs().authid(),
                   "faces": data.faceCount(), "steps": data.datasetCount(risk),
                   "temporal": mesh.temporalProperties().isActive(),
                   "first": mesh.temporalProperties().timeExtent().begin().toString(
                       "yyyy-MM-dd"),
                   "last": [last.value(i).scalar() for i in range(data.faceCount())]}}),
          flush=True)
    import os
    os._exit(0)
""")


@pytest.mark.skipif(not _qgis(), reason="QGIS's Python bindings are not installed "
                    "(apt-get install python3-qgis)")
def test_qgis_opens_the_space_time_cube_for_its_temporal_controller(demo):
    """The cube's GeoPackage layer opens in QGIS with its time set (each row from its
    refresh, for three months) and hot bins red; the NetCDF opens as a mesh layer of the
    output areas in British National Grid whose temporal controller steps through the
    refreshes, with the same risks xarray reads (withheld ones missing)."""
    out, summary = demo
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    run = subprocess.run([SYSTEM_PYTHON, "-c", _CUBE, str(out / "publish/geo_risk.gpkg"),
                          str(out / "publish/areas/space_time_cube.nc")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    areas = summary["hotspots"]["areas"]
    assert found["valid"] and found["active"] and found["field"] == "refresh"
    assert found["mode"] == 1  # a date per row, shown for a fixed duration
    assert found["features"] == areas * summary["hotspots"]["refreshes"]
    assert found["hot"] and set(found["hot"]) == {"#d7191c"}
    mesh = found["netcdf"]
    assert mesh["valid"] and mesh["temporal"] and mesh["crs"] == "EPSG:27700"
    assert mesh["faces"] == areas and mesh["steps"] == summary["hotspots"]["refreshes"]
    with xr.open_dataset(out / "publish/areas/space_time_cube.nc") as cube:
        assert mesh["first"] == str(cube["time"].values[0])[:10]
        expected = cube["risk"].isel(time=-1).to_numpy()
    np.testing.assert_allclose(np.array(mesh["last"], dtype=float), expected, rtol=1e-9)
    assert np.isnan(expected).sum() > 5
