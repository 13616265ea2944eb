r"""Synthetic households and children, and the latent model that gives their true risk.

Everything here is the *truth* of the synthetic world. No pipeline stage may read it;
only evaluation compares the pipeline's answers with it.

Time
----
The world runs in quarters from 2006Q1 (eight years of history before the first refresh,
so that every labelled cohort has five years of records behind it at age 3½)
to the last refresh. Refreshes are quarterly, by default 16 from 2014Q1 to 2017Q4; each
refresh's reference date is the last day of its quarter.

Households
----------
Each output area holds about 130 households (40-250) at random address points inside
it. About a quarter are families with children. Every household has latent traits
(lone parent, youth offending and complex needs in families only) drawn from logistic
models of its area's deprivation ``d`` (IMD rank as a share, 1 = most deprived in
England):

=================  ==================================================  ===============
trait              P(trait) = sigmoid(...)                             seen through
=================  ==================================================  ===============
low income         -2.0 + 3.0 d                                        benefit claims
lone parent        -2.2 + 1.2 d + 0.8 low_income                       benefit claims
domestic abuse     -3.6 + 1.4 d + 0.6 low_income + 0.4 lone_parent     police incidents
substance misuse   -3.8 + 1.2 d + 0.7 domestic_abuse                   drug/alcohol referrals
youth offending    -4.0 + 1.4 d + 0.6 substance + 0.4 low_income      youth offending
complex needs      -3.4 + 1.0 d + 0.9 da + 0.9 substance + 0.4 lp      social care (partly)
other language     -2.3 + 0.6 d                                        child register
=================  ==================================================  ===============

plus an unobserved household effect ``e ~ N(0, 0.3)``.

Housing instability is a quarterly two-state chain: a stable household becomes unstable
with probability ``sigmoid(-4.9 + 1.1 low_income + 0.5 lone_parent + 0.6 substance +
0.5 domestic_abuse + 1.0 d + 1.5 g)`` and an unstable one recovers with probability
0.3. ``g`` is the planted area effect (below). Instability shows as homelessness
applications, temporary-accommodation placements, rent arrears and overcrowding.

Children's true risk
--------------------
A child's true probability of *not* reaching a Good Level of Development, evaluated in
quarter ``q``, is ``sigmoid(eta)`` with

.. math::

    \eta = \beta_0 + 0.67\,male + 0.066\,m + 0.30\,eal + 0.45\,li + 0.25\,lp
           + 0.30\,li \cdot lp + 0.9\,(1 - e^{-u/2}) + 0.55\,da + 0.55\,sm
           + 0.35\,yo + 0.70\,cn + 0.35\,da \cdot sm + 1.1\,d^2 + 0.6\,g + e

where ``m`` is months younger than the oldest in the school year (September = 0, August
= 11) and ``u`` the household's unstable quarters among the last eight. Effect sizes sit
in the published range: boys OR 1.95 (England: 75.0% vs 60.7% reach GLD), summer-born vs
autumn-born OR 2.07 (75.6% vs 60.0%), other first language OR 1.35, low income OR 1.57
(FSM gap), with a lone-parent interaction, saturating housing instability, a convex
deprivation effect and the "toxic trio" interaction of domestic abuse and substance
misuse. ``beta_0`` is solved so that 32% of labelled children do not reach GLD (England
2023/24). A labelled child's outcome is drawn from its risk in the quarter of its fourth
birthday.

Services see only part of the risk: a family's quarterly chance of a social care or
early help episode is ``sigmoid(-4.5 + 2.0 cn + 0.9 da + 0.9 sm + 0.5 li + 0.7 unstable
+ 0.4 yo)`` times the household's service reach: 0.5 in the emerging hotspot, where
services are not yet present, 1 elsewhere, times ``1 + e^(-d / 1 km)`` for a family ``d``
metres from the nearest existing children's centre (:mod:`geo_risk.synth.sites`), since
families near a centre are more often known to early help. Known areas of concern
therefore gather around the centres, as they do where services have long worked.

Planted hotspots
----------------
``g`` rises from 0 to 1.6 across the refreshes in the emerging hotspot (default: all of
Vange's OAs, as families are placed in temporary accommodation there), is 1.2 throughout
in a persistent hotspot (16 OAs at the heart of Fryerns) and falls from 2.4 to 0.6 in a
diminishing hotspot (16 OAs in Lee Chapel North). Before the first refresh ``g`` keeps
its first value. When a named ward is absent (real boundaries of another district) the
most deprived ward hosts the emerging hotspot and the next most deprived wards, away
from it, host the others. The effects are large enough for an emerging hot spot analysis
of the model's predicted risk to tell them apart from small areas' noise (about 20
under-fives each) on the synthetic town and on Basildon's real output areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from geo_risk import columns as C
from geo_risk.synth.scenarios import SCENARIOS, Scenario

__all__ = ["HOTSPOT_CATEGORIES", "Population", "Timeline",
           "make_population", "plant_hotspots"]

#: Planted hotspot -> the emerging hot spot categories it is meant to show.
HOTSPOT_CATEGORIES = {
    "emerging": "new|consecutive|intensifying",
    "persistent": "persistent",
    "diminishing": "diminishing",
}
DEFAULT_HOTSPOT_WARDS = {"emerging": "Vange", "persistent": "Fryerns",
                         "diminishing": "Lee Chapel North"}
_CLUSTER_OAS = 16
TARGET_NOT_GLD = 0.32
#: Services reach families near an existing centre more: reach x (1 + BOOST e^(-d/RANGE)).
SERVICE_BOOST = 1.0
SERVICE_RANGE = 1000.0
#: Services reach families in the emerging hotspot less: they are not yet present there.
EMERGING_REACH = 0.5
#: Planted area effect g of each hotspot: (value at the first refresh, value at the last),
#: moving linearly between them.
PLANTED_EFFECT = {"emerging": (0.0, 1.6), "persistent": (1.2, 1.2), "diminishing": (2.4, 0.6)}
REGISTER_START = np.datetime64("2007-09-01")  # oldest labelled cohort: reception 2012/13


@dataclass(frozen=True)
class Timeline:
    """Quarters from 2006Q1; refreshes are ``periods`` quarters from 2014Q1."""

    periods: int = 16
    start_year: int = 2006
    first_refresh: int = 32  # 2014Q1

    @property
    def n_quarters(self) -> int:
        return self.first_refresh + self.periods

    def quarter_start(self, q: np.ndarray | int) -> np.ndarray:
        q = np.asarray(q)
        months = (self.start_year - 1970) * 12 + 3 * q
        return months.astype("datetime64[M]").astype("datetime64[D]")

    def quarter_end(self, q: np.ndarray | int) -> np.ndarray:
        return self.quarter_start(np.asarray(q) + 1) - np.timedelta64(1, "D")

    def quarter_of(self, dates: np.ndarray) -> np.ndarray:
        months = dates.astype("datetime64[M]").astype(int) - (self.start_year - 1970) * 12
        return months // 3

    @property
    def refresh_quarters(self) -> np.ndarray:
        return np.arange(self.first_refresh, self.n_quarters)

    @property
    def refresh_dates(self) -> np.ndarray:
        return self.quarter_end(self.refresh_quarters)

    @property
    def end(self) -> np.datetime64:
        return self.refresh_dates[-1]

    def ramp(self, rise_from: int = 0) -> np.ndarray:
        """0 up to refresh ``rise_from`` (the first by default), rising linearly to 1 at the
        last, per quarter."""
        q = np.arange(self.n_quarters)
        start = self.first_refresh + rise_from
        return np.clip((q - start) / max(self.periods - 1 - rise_from, 1), 0.0, 1.0)


@dataclass(frozen=True)
class ByArea:
    """A households x quarters array held as its output areas' rows (a county's whole
    array is 0.3 GB): ``by_area[h, q]`` is ``values[area[h], q]``."""

    values: np.ndarray  # areas x quarters
    area: np.ndarray  # each household's area row

    def __getitem__(self, key) -> np.ndarray:
        rows, quarters = key if isinstance(key, tuple) else (key, slice(None))
        return self.values[self.area[rows], quarters]


@dataclass
class Population:
    """The synthetic population and its latent state (the truth)."""

    timeline: Timeline
    households: pd.DataFrame  # one row per household, traits and location
    children: pd.DataFrame  # one row per child in the register window
    unstable: np.ndarray  # households x quarters, bool
    area_effect: ByArea  # households x quarters, planted g
    planted: pd.DataFrame  # oa11cd, hotspot, expected_category
    beta0: float = 0.0
    scenario: Scenario = SCENARIOS["default"]

    def __post_init__(self) -> None:
        # unstable quarters among the last eight (inclusive), per household and quarter
        self.unstable_recent = trailing_sum(self.unstable, 8, np.int16)

    def logit(self, child_rows: np.ndarray, quarters: np.ndarray) -> np.ndarray:
        """Latent logit of not reaching GLD for children (row positions) in quarters."""
        ch = self.children
        h = ch["household"].to_numpy()[child_rows]
        hh = self.households
        trait = {k: hh[k].to_numpy()[h].astype(float) for k in _TRAITS}
        unstable_recent = self.unstable_recent[h, quarters]
        g = self.area_effect[h, quarters]
        d = hh[C.DEPRIVATION].to_numpy()[h]
        sc = self.scenario
        # domestic abuse and substance misuse as of each quarter (they can start)
        da = (hh["domestic_abuse_from"].to_numpy()[h] <= quarters).astype(float)
        sm = (hh["substance_from"].to_numpy()[h] <= quarters).astype(float)
        return (
            self.beta0
            + 0.67 * (ch["sex"].to_numpy()[child_rows] == "M")
            + 0.066 * ch["months_young"].to_numpy()[child_rows]
            + 0.30 * trait["eal"]
            + 0.45 * trait["low_income"]
            + 0.25 * trait["lone_parent"]
            + 0.30 * sc.interaction * trait["low_income"] * trait["lone_parent"]
            + 0.9 * (1 - np.exp(-unstable_recent / 2))
            + 0.55 * da
            + 0.55 * sm
            + 0.35 * trait["youth_offending"]
            + 0.70 * trait["complex_needs"]
            + 0.35 * sc.interaction * da * sm
            + (1.1 * d**2 if sc.deprivation == "convex" else 1.4 * (d >= 0.8))
            + sc.area_direct * g
            + hh["hidden"].to_numpy()[h]
            + hh["neighbourhood"].to_numpy()[h]
        )


def trailing_sum(a: np.ndarray, window: int, dtype=np.int32) -> np.ndarray:
    """Per row, the sum of each column and the ``window - 1`` before it (households x
    quarters: events in the last ``window`` quarters, this one included).

    >>> trailing_sum(np.array([[1, 1, 0, 1]]), 2).tolist()
    [[1, 2, 1, 1]]
    """
    c = np.cumsum(a, axis=1, dtype=dtype)
    out = c.copy()
    out[:, window:] -= c[:, :-window]
    return out


_TRAITS = ["low_income", "lone_parent", "domestic_abuse", "substance", "youth_offending",
           "complex_needs", "eal"]

def plant_hotspots(oas: gpd.GeoDataFrame, wards: dict[str, str] | None = None,
                   scenario: Scenario = SCENARIOS["default"]) -> pd.DataFrame:
    """Choose the planted hotspots' output areas (see the module docstring and
    :class:`Scenario`: the emerging hotspot's ward and size).

    Returns a frame with ``oa11cd``, ``hotspot`` and ``expected_category``.
    """
    wards = dict(DEFAULT_HOTSPOT_WARDS if wards is None else wards)
    ward_dep = oas.groupby(C.WARD_NAME)[C.DEPRIVATION].mean().sort_values(ascending=False)
    if scenario.emerging_ward == "middle":  # a ward of middling deprivation
        wards["emerging"] = ward_dep.index[len(ward_dep) // 2]
    centroids = oas.geometry.centroid
    chosen: dict[str, list[str]] = {}
    used: set[str] = set()
    for kind in ["emerging", "persistent", "diminishing"]:
        name = wards.get(kind)
        if name not in ward_dep.index:
            taken = {w for w in ward_dep.index if set(oas.index[oas[C.WARD_NAME] == w]) & used}
            far = [w for w in ward_dep.index if w not in taken and not _touches(oas, w, used)]
            name = (far or [w for w in ward_dep.index if w not in taken])[0]
        in_ward = oas.index[oas[C.WARD_NAME] == name]
        size = scenario.emerging_oas if kind == "emerging" else _CLUSTER_OAS
        if size is None:
            members = list(in_ward)
        else:
            heart = centroids[in_ward].distance(
                oas.loc[in_ward].union_all().centroid).idxmin()
            free = centroids.drop(list(used))
            members = list(free.distance(centroids[heart]).nsmallest(size).index)
        chosen[kind] = members
        used |= set(members)
    rows = [(oa, kind, HOTSPOT_CATEGORIES[kind]) for kind, m in chosen.items() for oa in m]
    return pd.DataFrame(rows, columns=[C.OA, "hotspot", "expected_category"])


def _touches(oas: gpd.GeoDataFrame, ward: str, used: set[str]) -> bool:
    if not used:
        return False
    ward_shape = oas.loc[oas[C.WARD_NAME] == ward].union_all()
    return bool(oas.loc[list(used)].intersects(ward_shape).any())


def _area_effect(oas: gpd.GeoDataFrame, planted: pd.DataFrame, tl: Timeline,
                 scenario: Scenario) -> pd.DataFrame:
    """Planted effect g per OA (rows) and quarter (columns)."""
    g = pd.DataFrame(0.0, index=oas.index, columns=range(tl.n_quarters))
    effects = {**PLANTED_EFFECT, "emerging": (0.0, scenario.emerging_effect)}
    for kind, (first, last) in effects.items():
        members = planted.loc[planted["hotspot"] == kind, C.OA]
        ramp = tl.ramp(scenario.rise_from if kind == "emerging" else 0)
        g.loc[members] = first + (last - first) * ramp
    return g


def _onsets(rng: np.random.Generator, g: ByArea, has: np.ndarray, scenario: Scenario,
            reported: float) -> tuple[np.ndarray, np.ndarray]:
    """For a household trait that can start (domestic abuse, substance misuse): the
    quarter it starts in each household (0: held throughout; the number of quarters:
    never) and whether services will hear of it (always for one held throughout). Each
    quarter a household without it starts it with chance ``emerging_onset * g /
    emerging_effect`` (``g``: its area's planted effect per quarter, the emerging
    hotspot's only)."""
    n, quarters = len(has), g.values.shape[1]
    start = np.where(has, 0, quarters)
    if scenario.emerging_onset > 0:
        chance = scenario.emerging_onset * g[:] / max(scenario.emerging_effect, 1e-9)
        begins = rng.random((n, quarters)) < chance
        first = np.where(begins.any(axis=1), np.argmax(begins, axis=1), quarters)
        start = np.where(has, 0, first)
    told = has | (rng.random(n) < reported)
    return start, told


def _bern(rng: np.random.Generator, logit: np.ndarray) -> np.ndarray:
    return rng.random(np.shape(logit)) < expit(logit)


def _points_in(rng: np.random.Generator, geoms: gpd.GeoSeries, counts: np.ndarray,
               *, resolution: float = 0.1) -> np.ndarray:
    """``counts[i]`` random points inside each polygon ``geoms[i]``, on a grid of
    ``resolution`` metres (rounded first, so rounding can never move a point outside)."""
    import shapely

    out = np.empty((counts.sum(), 2))
    pos = 0
    for geom, n in zip(geoms, counts, strict=True):
        x0, y0, x1, y1 = geom.bounds
        shapely.prepare(geom)
        got = np.empty((0, 2))
        while len(got) < n:
            cand = np.round(rng.uniform((x0, y0), (x1, y1), (4 * n + 16, 2)) / resolution)
            cand *= resolution
            got = np.vstack([got, cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]])
        out[pos:pos + n] = got[:n]
        pos += n
    return out


def make_population(
    oas: gpd.GeoDataFrame,
    *,
    seed: int,
    timeline: Timeline,
    hotspot_wards: dict[str, str] | None = None,
    service_points: np.ndarray | None = None,
    scenario: Scenario = SCENARIOS["default"],
) -> Population:
    """Generate households, children, traits, instability and the planted hotspots.

    Parameters
    ----------
    oas
        Output areas from :func:`geo_risk.geography.boundaries.load_boundaries`, with a
        ``deprivation`` column (see :func:`geo_risk.synth.world.make_world`).
    seed
        Seed of every random draw.
    timeline
        Quarters and refreshes.
    hotspot_wards
        Ward names for the planted hotspots (keys ``emerging``, ``persistent``,
        ``diminishing``); defaults to Vange, Fryerns and Lee Chapel North.
    service_points
        Existing service centres (x, y in metres): families near one are more often known
        to services (see the module docstring).
    scenario
        What this world changes (:data:`SCENARIOS`).
    """
    streams = np.random.SeedSequence([seed, 0xB0B]).spawn(4)
    rng, rng_kids, rng_chain, rng_addr = (np.random.default_rng(s) for s in streams)
    tl = timeline

    # households: count per OA, position, type and traits
    n_oa = len(oas)
    per_oa = np.clip(np.round(rng.normal(131, 24, n_oa)), 40, 250).astype(int)
    oa_of = np.repeat(np.arange(n_oa), per_oa)
    n = len(oa_of)
    xy = _points_in(rng_addr, oas.geometry, per_oa)
    street = _points_in(rng_addr, oas.geometry, per_oa, resolution=10.0)
    d = oas[C.DEPRIVATION].to_numpy()[oa_of]
    family = _bern(rng, -1.15 + 0.3 * d)
    li = _bern(rng, -2.0 + 3.0 * d)
    lp = family & _bern(rng, -2.2 + 1.2 * d + 0.8 * li)
    da = _bern(rng, -3.6 + 1.4 * d + 0.6 * li + 0.4 * lp)
    sm = _bern(rng, -3.8 + 1.2 * d + 0.7 * da)
    yo = family & _bern(rng, -4.0 + 1.4 * d + 0.6 * sm + 0.4 * li)
    cn = family & _bern(rng, -3.4 + 1.0 * d + 0.9 * da + 0.9 * sm + 0.4 * lp)
    eal = _bern(rng, -2.3 + 0.6 * d)
    hidden = rng.normal(0, 0.3, n)
    uprn = 900_000_000_000 + np.sort(rng.choice(99_999_999_999, n, replace=False))
    uprn = uprn[rng.permutation(n)]

    planted = plant_hotspots(oas, hotspot_wards, scenario)
    g_oa = _area_effect(oas, planted, tl, scenario).to_numpy()
    emerging = oas.index.isin(planted.loc[planted.hotspot == "emerging", C.OA])
    reach_oa = np.where(emerging, EMERGING_REACH, 1.0) * scenario.recording
    reach = reach_oa[oa_of]
    if service_points is not None and len(service_points):
        gap = np.sqrt(((xy[:, None, :] - np.asarray(service_points)[None, :, :]) ** 2).sum(2))
        reach = reach * (1.0 + SERVICE_BOOST * np.exp(-gap.min(axis=1) / SERVICE_RANGE))
    area_effect = ByArea(g_oa, oa_of)
    # households that start domestic abuse or substance misuse in the emerging hotspot
    # (scenario "unrecorded-onset"; by default nobody does and these draw nothing used)
    rng_onset = np.random.default_rng(np.random.SeedSequence([seed, 0x0A5E7]))
    g_emerging = ByArea(np.where(emerging[:, None], g_oa, 0.0), oa_of)
    da_from, da_told = _onsets(rng_onset, g_emerging, da, scenario, scenario.onset_reported[0])
    sm_from, sm_told = _onsets(rng_onset, g_emerging, sm, scenario, scenario.onset_reported[1])

    # housing instability chain
    unstable = np.zeros((n, tl.n_quarters), dtype=bool)
    base = -4.9 + 1.1 * li + 0.5 * lp + 0.6 * sm + 0.5 * da + 1.0 * d
    state = _bern(rng_chain, base + 1.5)  # start near the chain's steady state
    for q in range(tl.n_quarters):
        enter = _bern(rng_chain, base + scenario.area_on_housing * area_effect[:, q])
        stay = rng_chain.random(n) >= 0.3
        state = np.where(state, stay, enter)
        unstable[:, q] = state

    households = pd.DataFrame({
        "uprn": uprn, C.OA: oas.index.to_numpy()[oa_of], "easting": xy[:, 0],
        "northing": xy[:, 1], "street_easting": street[:, 0], "street_northing": street[:, 1],
        C.DEPRIVATION: d, "family": family, "low_income": li,
        "lone_parent": lp, "domestic_abuse": da, "substance": sm, "youth_offending": yo,
        "complex_needs": cn, "eal": eal, "hidden": hidden, "reach": reach,
        "domestic_abuse_from": da_from, "domestic_abuse_told": da_told,
        "substance_from": sm_from, "substance_told": sm_told,
        "neighbourhood": _neighbourhood(oas, scenario, seed)[oa_of],
    })
    children = _make_children(rng_kids, households, tl)
    pop = Population(tl, households, children, unstable, area_effect, planted,
                     scenario=scenario)
    pop.beta0 = _solve_intercept(pop)
    return pop


def _neighbourhood(oas: gpd.GeoDataFrame, scenario: Scenario, seed: int) -> np.ndarray:
    """Per OA, an area effect no record shows: white noise smoothed over about 1 km
    (Gaussian kernel on OA centroids), scaled to ``scenario.neighbourhood``; zeros (and no
    random draw) in a world without one."""
    if not scenario.neighbourhood:
        return np.zeros(len(oas))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x4E1]))
    c = oas.geometry.centroid
    xy = np.column_stack([c.x, c.y])
    noise = rng.normal(0, 1, len(oas))
    kernel = np.exp(-((xy[:, None, :] - xy[None, :, :]) ** 2).sum(2) / (2 * 600.0**2))
    field_ = kernel @ noise
    return scenario.neighbourhood * (field_ - field_.mean()) / (field_.std() or 1.0)


def _make_children(rng: np.random.Generator, hh: pd.DataFrame, tl: Timeline) -> pd.DataFrame:
    """Children born into family households; the register keeps those born from 2007-09."""
    fam = np.flatnonzero(hh["family"].to_numpy())
    first = np.datetime64("2002-01-01")
    span = int((tl.end - first).astype(int))
    n_kids = 1 + rng.poisson(0.9, len(fam))
    rows_h, rows_dob = [], []
    dob = first + rng.integers(0, span, len(fam)).astype("timedelta64[D]")
    for k in range(n_kids.max()):
        alive = n_kids > k
        rows_h.append(fam[alive])
        rows_dob.append(dob[alive])
        gap = (rng.gamma(4.0, 9.0, len(fam)) * 30.4 + 300).astype(int)  # months * days
        dob = dob + gap.astype("timedelta64[D]")
    h = np.concatenate(rows_h)
    dob = np.concatenate(rows_dob)
    keep = (dob >= REGISTER_START) & (dob <= tl.end)
    h, dob = h[keep], dob[keep]
    order = np.lexsort((h, dob))
    h, dob = h[order], dob[order]
    month = dob.astype("datetime64[M]").astype(int) % 12 + 1
    sex = np.where(rng.random(len(h)) < 0.512, "M", "F")
    return pd.DataFrame({
        "household": h, "date_of_birth": dob, "sex": sex,
        "months_young": (month - 9) % 12,
        "school_year_start": dob.astype("datetime64[Y]").astype(int) + 1970 - (month < 9),
    })


def _solve_intercept(pop: Population) -> float:
    """beta_0 giving a mean true risk of TARGET_NOT_GLD over labelled children."""
    rows, quarters = labelled_children(pop)
    partial = pop.logit(rows, quarters)  # with beta0 = 0
    return float(brentq(lambda b: expit(partial + b).mean() - TARGET_NOT_GLD, -15, 10))


def assessment_dates(pop: Population) -> np.ndarray:
    """The end of each child's reception year (30 June), when GLD is assessed."""
    year = pop.children["school_year_start"].to_numpy() + 6
    return (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(180, "D")


def labelled_children(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Children assessed by the last refresh, and the quarter of their fourth birthday."""
    rows = np.flatnonzero(assessment_dates(pop) <= pop.timeline.end)
    dob = pop.children["date_of_birth"].to_numpy()[rows]
    fourth = (dob.astype("datetime64[M]") + np.timedelta64(48, "M")).astype("datetime64[D]")
    q = np.clip(pop.timeline.quarter_of(fourth), 0, pop.timeline.n_quarters - 1)
    return rows, q
