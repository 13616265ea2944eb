"""Write the embedded synthetic town to geo_risk/geography/data/ (OAs, lookup, synthetic IMD).

    python scripts/make_boundaries.py [--seed 1]
    python scripts/make_boundaries.py --vintage 2021 --out DIR

The files are committed so that the demo reads the town exactly as it would read real
boundaries; a test checks they match a fresh generation. ``--vintage 2021`` writes the
same town as a 2021 GIS team holds it instead (OA21 polygons with LSOA21CD, an LSOA21 ->
WD25 best-fit lookup, IoD 2025 File 7 headers) into DIR, for trying today's geography:
``geo-risk run`` with ``[boundaries] oa = "DIR/oa.gpkg"``, ``lookup = "DIR/ward_lookup.csv"``,
``imd = "DIR/deprivation.csv"``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_risk import columns as C
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES, load_boundaries
from geo_risk.geography.vintage import Vintage
from geo_risk.synth.town import make_town
from geo_risk.synth.vintages import as_2021, write_geography


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vintage", type=int, choices=[2011, 2021], default=2011)
    parser.add_argument("--out", type=Path, help="folder for --vintage 2021")
    args = parser.parse_args()
    if args.vintage == 2021:
        if args.out is None:
            parser.error("--vintage 2021 writes into --out DIR (the embedded town stays 2011)")
        oas, vintage = as_2021(load_boundaries())
        files = write_geography(oas, args.out, vintage, ward_level="lsoa", published=True)
        print(f"wrote {len(oas)} OAs as 2021 geography: {files.oa}, {files.lookup}, "
              f"{files.imd}")
        return
    seed = args.seed
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
