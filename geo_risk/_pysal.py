"""libpysal, esda and mapclassify, imported on their NumPy paths.

giddy (LISA over time) needs quantecon, which installs numba; libpysal, esda and
mapclassify use numba when they find it. Compiling their functions costs every process
about 17 seconds (esda's conditional permutations; measured here), for no gain at a
run's sizes: local Moran with 9,999 permutations on 4,500 output areas took 1.3 s on
NumPy and 1.0 s compiled. So the packages that use them (:mod:`geo_risk.areas`,
:mod:`geo_risk.publish`, :mod:`geo_risk.siting`) import this first, and these three are
imported with numba hidden; where one of them was imported before (a caller's own use),
they are left as they are.
"""

from __future__ import annotations

import sys

if not {"libpysal", "esda", "mapclassify"} & set(sys.modules):
    hidden = sys.modules.pop("numba", None)
    sys.modules["numba"] = None  # type: ignore[assignment]  # "import numba" fails
    try:
        import esda
        import esda.crand
        import libpysal
        import libpysal.common
        import mapclassify
    finally:
        del sys.modules["numba"]
        if hidden is not None:
            sys.modules["numba"] = hidden

import esda
import libpysal
import mapclassify

__all__ = ["esda", "libpysal", "mapclassify"]
