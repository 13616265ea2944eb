"""Shared fixtures: a 3x3 lattice of output areas, the Basildon pack, synthetic worlds."""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo_risk import _pysal  # noqa: F401  (before any test imports esda: its NumPy path)
from geo_risk import columns as C

# every geo-risk command appends to an audit log; the tests' go to a temporary one,
# removed when the test process ends
os.environ["GEO_RISK_AUDIT_LOG"] = str(Path(tempfile.mkdtemp(prefix="geo-risk-audit-"))
                                       / "audit.jsonl")
from geo_risk.geography.boundaries import BoundaryFiles
from geo_risk.synth.world import make_world

atexit.register(shutil.rmtree, Path(os.environ["GEO_RISK_AUDIT_LOG"]).parent,
                ignore_errors=True)

BASILDON = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "basildon"


@pytest.fixture
def lattice() -> gpd.GeoDataFrame:
    """Nine 100 m square OAs in EPSG:27700: three LSOAs (rows) in two wards."""
    cells = [shapely.box(500_000 + 100 * i, 180_000 + 100 * j,
                         500_100 + 100 * i, 180_100 + 100 * j)
             for j in range(3) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            C.OA: [f"E00{900001 + k:06d}" for k in range(9)],
            C.LSOA: [f"E01{900001 + k // 3:06d}" for k in range(9)],
            C.LSOA_NAME: [f"Lattice 00{k // 3 + 1}A" for k in range(9)],
            C.WARD: ["E05900001"] * 6 + ["E05900002"] * 3,
            C.WARD_NAME: ["South"] * 6 + ["North"] * 3,
        },
        geometry=cells,
        crs=C.BNG,
    ).set_index(C.OA)


@pytest.fixture(scope="session")
def basildon_files() -> BoundaryFiles:
    """The real Basildon pack in ../shared (skips, saying why, when it is absent)."""
    if not (BASILDON / "oa11_basildon.geojson").is_file():
        pytest.skip(f"real Basildon boundaries not found at {BASILDON} (../shared/data/basildon)")
    return BoundaryFiles(
        oa=BASILDON / "oa11_basildon.geojson",
        lookup=BASILDON / "oa11_lookup_basildon.csv",
        imd=BASILDON / "imd2019_lsoa11_basildon.csv",
    )


@pytest.fixture(scope="session")
def world():
    """The default synthetic world (embedded town, seed 1, 16 refreshes), in memory."""
    return make_world(seed=1)


@pytest.fixture(scope="session")
def messy_dir(tmp_path_factory) -> Path:
    """A messy synthetic world written to disk (seed 3, 4 refreshes)."""
    from geo_risk.synth.world import write_world

    out = tmp_path_factory.mktemp("messy")
    write_world(make_world(seed=3, periods=4, messy=True), out)
    return out


@pytest.fixture(scope="session")
def test_key():
    from geo_risk.inputs.pseudonymise import Key

    return Key(bytes(range(7, 39)))


@pytest.fixture(scope="session")
def messy_pseudonymised(messy_dir, test_key, tmp_path_factory):
    """The messy world's extracts pseudonymised at source, and the reconciliation."""
    from geo_risk.run.inputs import pseudonymise_folder

    out = tmp_path_factory.mktemp("pseudonymised")
    recon = pseudonymise_folder(messy_dir / "extracts", test_key, out)
    return out, recon


@pytest.fixture(scope="session")
def messy_linked(messy_pseudonymised):
    from geo_risk.geography.boundaries import load_boundaries
    from geo_risk.inputs.link import link_sources
    from geo_risk.inputs.pseudonymise import read_pseudonymised

    folder, _ = messy_pseudonymised
    tables = {p.stem: read_pseudonymised(p) for p in sorted(folder.glob("*.parquet"))}
    return link_sources(tables, load_boundaries())


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """``geo-risk demo --ceiling`` on the embedded town (seed 1), run once through the
    command line: (folder, the exact run record ``restricted/run.json`` with the demo's
    ``synth/evaluation.json`` under ``evaluation``)."""
    import json

    from typer.testing import CliRunner

    from geo_risk.cli import app

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--ceiling"])
    assert result.exit_code == 0, result.output
    assert "geo-risk demo" in result.output and "board report" in result.output
    record = json.loads((out / "restricted/run.json").read_text())
    record["evaluation"] = json.loads((out / "synth/evaluation.json").read_text())
    return out, record


@pytest.fixture(scope="session")
def da_demo(tmp_path_factory):
    """``geo-risk demo --outcome domestic_abuse_escalation --ceiling`` on the embedded
    town: (folder, its ``synth/evaluation.json``)."""
    import json

    from typer.testing import CliRunner

    from geo_risk.cli import app

    out = tmp_path_factory.mktemp("da_demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--outcome",
                                      "domestic_abuse_escalation", "--ceiling"])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "synth/evaluation.json").read_text())


@pytest.fixture(scope="session")
def town_run(demo, tmp_path_factory) -> Path:
    """``geo-risk run`` on the demo's extracts with the embedded town's geography (2011
    census) and three refreshes: the baseline other runs are compared with."""
    out, _ = demo
    tmp = tmp_path_factory.mktemp("town_run")
    return run_config(write_config(tmp, out / "synth/extracts", name="all"), tmp / "all")


@pytest.fixture(scope="session")
def earlier_run(demo, town_run, tmp_path_factory) -> Path:
    """``geo-risk run`` a quarter before the town's run (30 September 2017), on the same
    extracts and project key, configured as a council might: 400 households flagged,
    three new service sites chosen and what the community says read beside the data. The
    2016/17 results are published between the two."""
    import shutil

    out, _ = demo
    tmp = tmp_path_factory.mktemp("earlier_run")
    shutil.copy(town_run.parent / "project.key", tmp / "project.key")
    config = write_config(tmp, out / "synth/extracts", name="earlier",
                          tables="[capacity]\nnumber = 400\n[siting]\ncandidates = "
                                 f'"{out / "synth/sites/candidates.csv"}"\np = 3\n'
                                 "[community]\nfile = "
                                 f'"{out / "synth/community/consultation.csv"}"\n')
    config.write_text(config.read_text().replace("2017-12-31", "2017-09-30"))
    return run_config(config, tmp / "earlier")


# --- the browser: Playwright driving Debian's Chromium, offline ---

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str):
    if os.environ.get("CI"):  # CI installs both: a missing browser there is a failure
        pytest.fail(f"{reason} (CI must run the browser test; see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright, headless (skips, or fails in CI, without it)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


def open_page(browser, path: Path, fragment: str = ""):
    """Open a page offline (every non-file request blocked), at ``#fragment`` when given;
    wait for the map."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors, external = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri() + (f"#{fragment}" if fragment else ""))
    page.wait_for_function("window.GEO_RISK_LAYERS !== undefined", timeout=20_000)
    return page, errors, external


# --- a run from a configuration, as a council makes one ---


def write_config(folder: Path, extracts: Path, *, settings: str = "", tables: str = "",
                 name: str = "run", lookup: Path | None = None,
                 boundaries: BoundaryFiles | None = None) -> Path:
    """A fixed key (written once per folder) and ``folder/<name>.toml`` on the embedded town's
    geography (or ``boundaries``) with three refreshes; ``settings`` adds top-level lines
    (``area_name`` defaults to Synthtown), ``tables`` adds tables. Returns the
    configuration's path."""
    from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES

    town = boundaries or DEFAULT_BOUNDARIES

    key = folder / "project.key"
    if not key.exists():  # one fixed key, so every session's runs are the same bytes (the
        # model's folds once followed the keys' order, and a random key moved a test's ward
        # ranking; test_model checks the model no longer depends on the key)
        key.write_text(hashlib.sha256(b"geo-risk test key").hexdigest() + "\n")
        key.chmod(0o600)
    config = folder / f"{name}.toml"
    config.write_text(
        ('area_name = "Synthtown"\n' if "area_name" not in settings else "")
        + f"{settings}\nreference_date = 2017-12-31\nrefreshes = 3\n"
        f'key_file = "project.key"\nextracts = "{extracts}"\n'
        f'[boundaries]\noa = "{town.oa}"\nlookup = "{lookup or town.lookup}"\n'
        f'imd = "{town.imd}"\nmeasure = "{town.measure}"\n{tables}')
    return config


def run_config(config: Path, out: Path) -> Path:
    """``geo-risk run --config CONFIG --out OUT`` through the command line; returns OUT."""
    from typer.testing import CliRunner

    from geo_risk.cli import app

    result = CliRunner().invoke(app, ["run", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def people_counts(obj, path=""):
    """Integer values in run.json under keys that count people, households or records
    (not output areas, which are not people)."""
    people = re.compile(r"household|children|child|flagged|known|unknown|records|rows|read"
                        r"|rejected|linked|under_five|^k$|labelled|registered")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, (dict, list)):
                yield from people_counts(value, f"{path}.{key}")
            elif (isinstance(value, int) and not isinstance(value, bool)
                  and people.search(key) and not re.search(r"months|oas$|areas", key)):
                yield f"{path}.{key}", value
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from people_counts(value, f"{path}[{i}]")
