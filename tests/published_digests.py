"""Digests of a run's published files, as their content rather than their bytes.

The school-readiness demo's published files must stay the same while the outcome is made
a declared thing (#36). A file's bytes also carry what does not belong to its content:
the run's date and timings, the GeoPackage's change times, the Parquet writer's version.
So each file is read back and reduced to its content first:

- ``run.json``: without its timings (every ``…seconds`` key) and ``workers``;
- text (CSV, HTML, Markdown, JSON): the run's date, in the forms geo-risk writes it,
  replaced by ``<run date>``;
- GeoPackage: every layer's rows (floats to 6 decimal places, geometry as WKB), the
  run date replaced likewise; its change times are not read;
- Parquet and NetCDF: their tables and attributes, floats to 6 places.

The stored list (``tests/data/demo_digests.json``) records the library versions it was
made with: numbers can move in their last digits when scikit-learn or NumPy change, and
that is no change of ours. Regenerate with ``python tests/published_digests.py RUN``,
where ``RUN`` is a finished ``geo-risk demo --ceiling`` folder.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import shapely

from geo_risk.publish.cube import read_cube_tables

STORED = Path(__file__).parent / "data" / "demo_digests.json"
#: Libraries whose versions can move a published figure.
LIBRARIES = ["numpy", "scipy", "pandas", "scikit-learn", "esda", "libpysal", "giddy",
             "mapclassify", "spopt", "shapely", "pyogrio", "folium", "branca", "xarray"]


def _run_dates(run: Path) -> list[str]:
    """The run's date as geo-risk writes it (ISO, and '7 December 2026')."""
    state = json.loads((run / "work" / "run_state.json").read_text())
    day = pd.Timestamp(state["run_info"]["run_date"])
    return [str(day.date()), f"{day.day} {day:%B %Y}"]


def _untimed(record):
    """``record`` without its timings (keys ending in ``seconds``; ``workers``)."""
    if isinstance(record, dict):
        return {k: _untimed(v) for k, v in record.items()
                if not k.endswith("seconds") and k != "workers"}
    return [_untimed(v) for v in record] if isinstance(record, list) else record


def _text(text: str, dates: list[str]) -> str:
    for d in dates:
        text = text.replace(d, "<run date>")
    return text


def _frame(frame: pd.DataFrame, dates: list[str]) -> str:
    frame = pd.DataFrame(frame).copy()
    if "geometry" in frame:  # as WKB, however it was read
        frame["geometry"] = [g if isinstance(g, bytes) else shapely.to_wkb(g)
                             for g in frame["geometry"]]
    return _text(frame.to_csv(float_format="%.6f"), dates)


def _content(path: Path, dates: list[str]) -> str:
    if path.name == "run.json":
        return json.dumps(_untimed(json.loads(path.read_text())), sort_keys=True)
    if path.suffix == ".gpkg":
        import pyogrio

        return "\n".join(f"## {name}\n" + _frame(
            pyogrio.read_dataframe(path, layer=name), dates)
            for name, _ in pyogrio.list_layers(path))
    if path.suffix == ".parquet":
        return _frame(pd.read_parquet(path), dates)
    if path.suffix == ".nc":
        import xarray as xr

        with xr.open_dataset(path) as cube:
            attrs = json.dumps({"": cube.attrs, **{v: cube[v].attrs for v in cube.variables}},
                               sort_keys=True, default=str)
            return _text(attrs, dates) + "".join(_frame(t, dates) for t in read_cube_tables(cube))
    return _text(path.read_text(encoding="utf-8"), dates)


def published_digests(run: Path) -> dict[str, str]:
    """SHA-256 of each published file's content (see the module docstring), by path."""
    run = Path(run)
    dates = _run_dates(run)
    return {str(p.relative_to(run / "publish")): hashlib.sha256(
        _content(p, dates).encode()).hexdigest()
        for p in sorted((run / "publish").rglob("*")) if p.is_file()}


def versions() -> dict[str, str]:
    return {name: version(name) for name in LIBRARIES}


if __name__ == "__main__":
    STORED.write_text(json.dumps({"versions": versions(),
                                  "digests": published_digests(Path(sys.argv[1]))},
                                 indent=2) + "\n")
    print(f"wrote {STORED}")
