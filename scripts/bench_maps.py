"""Benchmark: HTML map and report sizes, and the time to the first drawn feature in
headless Chromium (offline, every network request blocked).

    python scripts/bench_maps.py [--from OUT] [--basildon | --county OAS] [--repeat 3]

Without --from it runs the demo first (the embedded town, or synthetic households on the
real Basildon boundaries from ../shared with --basildon) into a temporary folder. The
targets: the one map file <= 1 MB for a district, <= 3 MB for a county.
Time to first drawn feature is measured in the page
(performance.now() when the first Leaflet path enters the DOM, from a MutationObserver)
and, for comparison, from Python around navigation.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

BASILDON = Path(__file__).resolve().parents[2] / "shared/data/basildon"
OBSERVER = """
window.__firstPath = null;
new MutationObserver((_, obs) => {
  if (document.querySelector('path.leaflet-interactive, canvas.leaflet-zoom-animated')) {
    window.__firstPath = performance.now(); obs.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="an existing demo/run folder")
    parser.add_argument("--basildon", action="store_true")
    parser.add_argument("--county", type=int, metavar="OAS",
                        help="a generated county of this many output areas (Essex: about "
                             "4,500), in districts of about 470")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    out = args.source
    if out is None:
        from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles
        from geo_risk.synth.demo import run_demo

        files = DEFAULT_BOUNDARIES
        if args.basildon:
            files = BoundaryFiles(BASILDON / "oa11_basildon.geojson",
                                  BASILDON / "oa11_lookup_basildon.csv",
                                  BASILDON / "imd2019_lsoa11_basildon.csv")
        out = Path(tempfile.mkdtemp(prefix="bench_maps_"))
        if args.county:
            from geo_risk import columns as C
            from geo_risk.geography.vintage import Vintage
            from geo_risk.synth.town import make_town, with_districts
            from geo_risk.synth.vintages import write_geography

            n = args.county
            oas, imd = make_town(seed=1, n_oas=n, n_lsoas=max(16, round(n / 5.2)))
            oas = with_districts(oas, min(16, max(1, round(n / 470))))
            oas = oas.set_index(C.OA).join(imd.set_index(C.LSOA), on=C.LSOA)
            files = write_geography(oas, Path(tempfile.mkdtemp(prefix="bench_maps_geo_")),
                                    Vintage(), published=True)
        started = time.perf_counter()
        run_demo(out, files=files)
        print(f"demo run: {time.perf_counter() - started:.1f} s -> {out}")

    pages = [out / "publish/index.html", *sorted((out / "publish/maps").glob("*.html"))]
    n_oas = len(pd.read_csv(out / "publish/areas/oa.csv", usecols=[0]))
    for page in pages:
        size = page.stat().st_size
        print(f"{page.relative_to(out)}: {size / 1e6:.2f} MB ({size / n_oas:,.0f} bytes per "
              f"output area, {n_oas:,} output areas)")

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        for page_path in [p for p in pages if p.name == "map.html"]:  # the drawn map
            in_page, around = [], []
            for _ in range(args.repeat):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(OBSERVER)
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                    ("file:", "data:")) else r.abort())
                started = time.perf_counter()
                page.goto(page_path.as_uri(), wait_until="commit")
                page.wait_for_function("window.__firstPath !== null", timeout=60_000)
                around.append(time.perf_counter() - started)
                in_page.append(page.evaluate("window.__firstPath") / 1000)
                page.close()
            print(f"{page_path.name}: first feature drawn {statistics.median(in_page):.2f} s "
                  f"after navigation (page clock; {args.repeat} loads: "
                  f"{', '.join(f'{t:.2f}' for t in in_page)}); "
                  f"{statistics.median(around):.2f} s measured from Python")
        browser.close()


if __name__ == "__main__":
    main()
