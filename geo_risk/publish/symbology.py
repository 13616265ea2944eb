"""How published layers look: classes, colours and plain-English legend labels.

One definition serves the HTML maps (:mod:`geo_risk.publish.maps`) and the QGIS styles stored in
the GeoPackage (:mod:`geo_risk.publish.gpkg`), so a GIS team sees what the board sees.

Risk is classed into five natural-breaks classes (Fisher-Jenks, mapclassify) with the
boundaries rounded to whole percentages, coloured with ColorBrewer's YlOrRd, a sequential
scheme that is safe for colour-blind readers and in greyscale. Categories (LISA quadrants,
emerging hot spot categories, areas of concern) have fixed colours; areas of concern are
told apart by line style as well as colour.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from geo_risk._pysal import mapclassify
from geo_risk.model.outcomes import SCHOOL_READINESS, Outcome

__all__ = [
    "CASING",
    "COMMUNITY_COLOURS",
    "CONCERN_STYLES",
    "EHSA_COLOURS",
    "EHSA_MEANINGS",
    "NO_DATA_COLOUR",
    "RISING",
    "SITE_COLOURS",
    "UNSTABLE_STYLE",
    "WITHHELD",
    "WITHHELD_COLOUR",
    "Classes",
    "lisa_colours",
    "long_date",
    "risk_classes",
    "show_count",
    "site_fields",
]

#: Shown instead of a withheld value; what it means comes from the run's rules
#: (:meth:`geo_risk.areas.Disclosure.note`).
WITHHELD = "c"
NO_DATA_COLOUR = "#f0f0f0"
WITHHELD_COLOUR = "#858585"  # 3.5:1 against the lowest risk class and no data
#: ColorBrewer YlOrRd, 5 classes (colour-blind safe, print friendly).
RISK_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

#: LISA quadrant -> (colour, plain-English label), the label's population left open.
_LISA = {
    "high-high": ("#d7191c", "High risk, high-risk neighbours (high-high)"),
    "low-low": ("#2c7bb6", "Low risk, low-risk neighbours (low-low)"),
    "high-low": ("#fdae61", "High risk among low-risk neighbours (high-low)"),
    "low-high": ("#abd9e9", "Low risk among high-risk neighbours (low-high)"),
    "not significant": ("#f7f7f7", "No significant cluster"),
    "no neighbours": (NO_DATA_COLOUR, "No neighbouring area: not tested"),
    "withheld": (WITHHELD_COLOUR, "Withheld (c): too few {population} to publish its risk"),
}


def lisa_colours(words: Outcome = SCHOOL_READINESS) -> dict[str, tuple[str, str]]:
    """LISA quadrant -> (colour, plain-English label), in the outcome's words."""
    return {q: (colour, label.format(population=words.population))
            for q, (colour, label) in _LISA.items()}


#: Emerging hot spots draw the eye first (the reason the map exists: new, consecutive and
#: intensifying, dark to darkest), persistent ones next; diminishing, sporadic and the
#: rest are pale, so an improving area never looks worst.
_HOT = {"new": "#e31a1c", "consecutive": "#a50f15", "intensifying": "#67000d",
        "persistent": "#fd8d3c", "diminishing": "#fdd0a2", "sporadic": "#fee6ce",
        "oscillating": "#dadaeb", "historical": "#d9d9d9"}
_COLD = {"new": "#2171b5", "consecutive": "#08519c", "intensifying": "#08306b",
         "persistent": "#6baed6", "diminishing": "#c6dbef", "sporadic": "#deebf7",
         "oscillating": "#c7e9c0", "historical": "#e5e5e5"}
#: Emerging hot spot category -> colour (hot spots warm, cold spots cool).
EHSA_COLOURS = ({f"{k} hot spot": c for k, c in _HOT.items()}
                | {f"{k} cold spot": c for k, c in _COLD.items()}
                | {"no pattern": "#ffffff"})

_MEANS = {"new": "{a} {spot} now, for the first time",
          "consecutive": "{a} {spot} in the latest periods in a row, never before",
          "intensifying": "{a} {spot} almost throughout, growing stronger",
          "persistent": "{a} {spot} almost throughout, steady",
          "diminishing": "{a} {spot} almost throughout, growing weaker",
          "sporadic": "{a} {spot} now, on and off before",
          "oscillating": "{a} {spot} now, the opposite earlier",
          "historical": "{a} {spot} almost throughout, but not now"}
#: Emerging hot spot category -> one plain line for the legend.
EHSA_MEANINGS = ({f"{k} hot spot": m.format(a="a", spot="hot spot") for k, m in _MEANS.items()}
                 | {f"{k} cold spot": m.format(a="a", spot="cold spot")
                    for k, m in _MEANS.items()}
                 | {"no pattern": "none of these"})
#: An area rising significantly over the last year whose category is not an emerging
#: one (it was already high, or dipped): emerging too, drawn in a colour of its own.
RISING = ("#ce1256", "Rising: risk around it rose significantly over the last year, to "
          "above the district's (emerging, though its history gives another category)")
#: How an area whose category most household resamples do not give is drawn: paler,
#: edged with a dashed line (it looks unstable).
UNSTABLE_STYLE = {"color": "#0b0c0c", "dashArray": "3 3", "weight": 1.2, "fill_opacity": 0.4}

#: The light line under every outline of an area of concern, this much wider.
CASING = {"color": "#ffffff", "extra_weight": 3}

#: The service sites' published fields in words (map, tables, report), the demand left
#: open.
_SITE_FIELDS = {"name": "Site", "kind": "Kind", "status": "Status",
               "newly_covered": "Expected {demand} it reaches (a new site: those no site "
                                "above it reaches)",
               "cumulative_coverage": "Share of all reached, with the sites above it "
                                      "(cumulative)"}


def site_fields(words: Outcome = SCHOOL_READINESS) -> dict[str, str]:
    """The service sites' published fields in the outcome's words."""
    return {k: v.format(demand=words.demand) for k, v in _SITE_FIELDS.items()}


#: Service sites: chosen new sites and existing ones.
SITE_COLOURS = {"new": "#1b7837", "existing": "#762a83"}
#: What the community says beside the data (geo_risk.areas.community): agreement darkest,
#: the data alone in the areas-of-concern orange, the community alone a pale purple.
COMMUNITY_COLOURS = {"both": "#54278f", "community only": "#b4a7d6",
                     "data only": "#e6550d", "neither": "#f7f7f7"}

#: Area of concern -> Leaflet path style and legend label. Both lines are dark and drawn
#: over a white casing (:data:`CASING`), so each stands out from every fill beneath it.
CONCERN_STYLES: dict[str, tuple[dict[str, Any], str]] = {
    "known": ({"color": "#08306b", "weight": 3, "dashArray": None},
              "Known area of concern: services already work here (solid blue line)"),
    "newly identified": ({"color": "#3f007d", "weight": 3, "dashArray": "8 6"},
                         "Newly identified: risk concentrates, services are not present "
                         "(dashed purple line)"),
}


def show_count(value) -> str:
    """A published (already disclosure-controlled) count as text: withheld -> ``c``.

    >>> show_count(1234.0), show_count(float("nan"))
    ('1,234', 'c')
    """
    return WITHHELD if pd.isna(value) else f"{int(value):,}"


@dataclass(frozen=True)
class Classes:
    """Classes of a rate: ``uppers[i]`` is the top of class ``i`` (inclusive)."""

    lower: float
    uppers: tuple[float, ...]
    colours: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        lows = (self.lower, *self.uppers[:-1])
        return [f"{lo:.0%} to {hi:.0%}" for lo, hi in zip(lows, self.uppers, strict=True)]

    def band(self, values) -> pd.Series:
        """Class index of each value (0 = lowest), -1 where missing."""
        v = pd.Series(values, dtype=float)
        idx = np.searchsorted(np.asarray(self.uppers), v.to_numpy(), side="left")
        idx = np.minimum(idx, len(self.uppers) - 1)
        return pd.Series(np.where(v.isna(), -1, idx), index=v.index)

    def colour(self, values) -> pd.Series:
        bands = self.band(values)
        return bands.map(lambda b: NO_DATA_COLOUR if b < 0 else self.colours[b])

    def label(self, values) -> pd.Series:
        bands = self.band(values)
        labels = self.labels
        return bands.map(lambda b: "no data" if b < 0 else labels[b])


#: Natural breaks exactly up to this many values; above, on this many quantiles.
BREAKS_EXACT_UP_TO = 600


@lru_cache(maxsize=16)
def _natural_breaks(values: tuple[float, ...], k: int) -> np.ndarray:
    """Fisher-Jenks upper bounds, found once for the same values (a run classes the same
    OA and ward rates for its maps, its GeoPackage and its comparison)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Numba not installed", UserWarning)
        return mapclassify.FisherJenks(np.asarray(values), k=k).bins


def risk_classes(values: ArrayLike, k: int = 5) -> Classes:
    """Natural-breaks classes of a rate in [0, 1], boundaries rounded to whole percent.
    Parameters
    ----------
    values : array-like of float
        The rates (missing ones are left out).
    k : int
        How many classes.

    Returns
    -------
    Classes
        The breaks, labels and colours.


    >>> c = risk_classes([0.1, 0.12, 0.3, 0.31, 0.5, 0.52, 0.7], k=3)
    >>> c.labels
    ['10% to 12%', '12% to 31%', '31% to 70%']
    >>> c.band([0.11, 0.3, 0.69, None]).tolist()
    [0, 1, 2, -1]
    """
    v = pd.Series(values, dtype=float).dropna().to_numpy()
    if len(v) == 0:
        return Classes(0.0, (1.0,), RISK_COLOURS[-1:])
    k = max(1, min(k, len(np.unique(v))))
    # Fisher-Jenks is quadratic in the values (61 s for a county's 5,666 OAs without numba):
    # above a district's size the breaks are found on the values' quantiles, which keep the
    # distribution's shape (the same whole-percent boundaries on a county's spread)
    summary = v if len(v) <= BREAKS_EXACT_UP_TO else np.quantile(
        v, np.linspace(0, 1, BREAKS_EXACT_UP_TO))
    uppers = _natural_breaks(tuple(summary), k) if k > 1 else np.array([v.max()])
    rounded = sorted({math.ceil(round(b * 100, 6)) / 100 for b in uppers})
    lower = math.floor(round(v.min() * 100, 6)) / 100
    colours = RISK_COLOURS if len(rounded) == 5 else tuple(
        RISK_COLOURS[round(i * 4 / max(len(rounded) - 1, 1))] for i in range(len(rounded)))
    return Classes(lower, tuple(rounded), tuple(colours))


def long_date(iso: str) -> str:
    """A date as every published page writes it: "31 December 2017".

    Parameters
    ----------
    iso : str
        The date, as ISO 8601 (``2017-12-31``) or anything pandas reads as a date.

    Returns
    -------
    str
        Day, month in words, year.

    Examples
    --------
    >>> long_date("2017-09-30")
    '30 September 2017'
    """
    d = pd.Timestamp(iso)
    return f"{d.day} {d:%B %Y}"
