"""Write the embedded synthetic town to boundaries/ (OA polygons, lookup, synthetic IMD).

    python scripts/make_boundaries.py [--seed 1]

The files are committed so that the demo reads the town exactly as it would read real
boundaries; a test checks they match a fresh generation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_risk import columns as C
from geo_risk.boundaries import DEFAULT_BOUNDARIES
from geo_risk.geography import Vintage
from geo_risk.synth.town import make_town


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    seed = parser.parse_args().seed
    oas, imd = make_town(seed=seed)
    target = DEFAULT_BOUNDARIES
    Path(target.oa).parent.mkdir(exist_ok=True)
    target.oa.unlink(missing_ok=True)
    names = {k: v.upper() for k, v in Vintage().fields.items()}
    oas[[C.OA, "geometry"]].rename(columns=names).to_file(
        target.oa, driver="GeoJSON", engine="pyogrio", layer_options={"COORDINATE_PRECISION": 2})
    lookup = oas.drop(columns="geometry").rename(columns=names)
    lookup.to_csv(target.lookup, index=False)
    imd.rename(columns={C.LSOA: names[C.LSOA], C.DEPRIVATION_RANK: "IMD_rank",
                        C.DEPRIVATION_DECILE: "IMD_decile"}).to_csv(target.imd, index=False)
    print(f"wrote {len(oas)} OAs, {imd.shape[0]} LSOAs to {target.oa.parent}")


if __name__ == "__main__":
    main()
