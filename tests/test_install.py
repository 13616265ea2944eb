"""geo-risk installed as a council's IT would install it: a wheel, not the editable checkout.

The embedded town and the map page's script are package data; a wheel that left them
out would run from the repository and nowhere else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_wheel_runs_the_demo_from_another_folder(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
         str(tmp_path / "wheel"), str(ROOT)], capture_output=True, text=True)
    if built.returncode and "Could not find a version" in built.stderr:
        pytest.skip(f"no package registry to build the wheel with: {built.stderr[-200:]}")
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "wheel").glob("geo_risk-*.whl"))
    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin/python"
    # the dependencies are this environment's (no download); geo-risk itself is the wheel's
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    where = subprocess.check_output(
        [python, "-c", "import geo_risk; print(geo_risk.__file__)"], cwd=elsewhere,
        env=clean, text=True).strip()
    assert Path(where).is_relative_to(env), where  # not the checkout
    demo = subprocess.run([env / "bin/geo-risk", "demo", "--out", "run"], cwd=elsewhere,
                          env=clean, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    publish = elsewhere / "run/publish"
    assert (publish / "index.html").is_file() and (publish / "geo_risk.gpkg").is_file()
    page = (publish / "maps/map.html").read_text(encoding="utf-8")
    assert "function ring(steps)" in page  # the page's script, from the package data
