"""Where to site services: coverage optimisation on the predicted risk (PySAL ``spopt``).

Demand is the expected number of children not school ready in each output area (the sum
of its under-fives' predicted probabilities), placed at the OA's population-weighted
centroid (the mean address point of its households with under-fives, weighted by their
under-fives). A demand point is *covered* by a site within the service distance: 800 m in
a straight line by default, or a user-supplied distance or travel-time matrix.

Models (solved with the CBC solver that ships with PuLP):

- **maximal covering** (MCLP): the ``p`` new sites that cover the most demand (spopt's
  formulation, built sparse: :class:`Covering`);
- **set covering to a target share**: the fewest new sites covering at least a share of
  demand (partial set covering, one model), then the MCLP with that many (spopt's LSCP
  when the target is all demand);
- **p-median** (option): the ``p`` new sites that minimise demand-weighted distance.

Existing sites are always open: they count as fixed facilities and ``p`` counts the new
ones. The chosen sites are ranked by what each adds in turn (the largest first), so the
table reads as an order of opening.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
from scipy.spatial.distance import cdist
from spopt.locate import LSCP, PMedian

from geo_risk import columns as C
from geo_risk._errors import GeoRiskError, SchemaError
from geo_risk.areas.disclosure import SAFE, Disclosure
from geo_risk.geography.boundaries import read_layer
from geo_risk.geography.vintage import read_code_columns
from geo_risk.io.read import COORDINATES, read_table

__all__ = ["Covering", "Demand", "SitingOutputs", "SitingResult", "SitingSettings", "baselines",
           "demand_points", "distance_matrix", "plan_sites", "read_sites", "site_services",
           "site_table"]

DEFAULT_DISTANCE = 800.0


@dataclass
class Demand:
    """Demand points: expected children not school ready per OA at its weighted centroid."""

    points: gpd.GeoDataFrame  # index oa11cd; columns demand, geometry (EPSG:27700)

    @property
    def weights(self) -> np.ndarray:
        return self.points["demand"].to_numpy(float)


def demand_points(households: pd.DataFrame, children: pd.DataFrame,
                  oas: gpd.GeoDataFrame) -> Demand:
    """Demand per OA from scored children (``household_key``, ``p``) and households
    (``household_key``, ``easting``, ``northing``, ``oa11cd``); an OA without under-fives
    has no demand point.

    Parameters
    ----------
    households : DataFrame
        The linked households with their grid reference and OA.
    children : DataFrame
        Scored children.
    oas : GeoDataFrame
        Output areas in EPSG:27700.

    Returns
    -------
    Demand
        One point per OA with under-fives, at the centre of its households weighted by
        their under-fives, carrying the expected number not school ready (the sum of
        their risks).
    """
    kids = children.groupby("household_key").agg(n=("p", "size"), demand=("p", "sum"))
    homes = households.set_index("household_key")[["easting", "northing", C.OA]].join(
        kids, how="inner")
    homes["wx"] = homes["easting"] * homes["n"]
    homes["wy"] = homes["northing"] * homes["n"]
    per_oa = homes.groupby(C.OA)[["wx", "wy", "n", "demand"]].sum()
    per_oa = per_oa[per_oa["n"] > 0].reindex([o for o in oas.index if o in per_oa.index])
    points = gpd.GeoDataFrame(
        {"demand": per_oa["demand"].to_numpy()},
        geometry=gpd.points_from_xy(per_oa["wx"] / per_oa["n"], per_oa["wy"] / per_oa["n"]),
        crs=oas.crs, index=per_oa.index)
    return Demand(points)


def weighted_demand(demands: dict[str, Demand], weights: dict[str, float]) -> Demand:
    """Several outcomes' demand as one: each output area's expected events of each outcome
    times the outcome's weight, summed, at the weighted centre of the outcomes' points.

    Parameters
    ----------
    demands : dict of str to Demand
        Each outcome's demand (:func:`~geo_risk.siting.plan.demand_points`).
    weights : dict of str to float
        What preventing one event of each outcome is worth, relative to the others.

    Returns
    -------
    Demand
        One point per output area with weighted demand above zero.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> def one(x, d):
    ...     return Demand(gpd.GeoDataFrame({"demand": [d]}, geometry=[Point(x, 0)],
    ...                                    index=pd.Index(["A"], name="oa_code"), crs=27700))
    >>> both = weighted_demand({"a": one(0, 3.0), "b": one(10, 1.0)}, {"a": 1, "b": 3})
    >>> both.points["demand"].tolist(), both.points.geometry.x.tolist()
    ([6.0], [5.0])
    """
    parts = pd.concat([d.points.assign(
        w=weights[name] * d.points["demand"], x=d.points.geometry.x, y=d.points.geometry.y)
        for name, d in demands.items()])
    parts = parts[parts["w"] > 0]
    by = parts.groupby(level=0)
    total = by["w"].sum()
    x = (parts["x"] * parts["w"]).groupby(level=0).sum() / total
    y = (parts["y"] * parts["w"]).groupby(level=0).sum() / total
    first = next(iter(demands.values())).points
    return Demand(gpd.GeoDataFrame({"demand": total}, geometry=gpd.points_from_xy(x, y),
                                   index=total.index.rename(first.index.name), crs=first.crs))


def read_sites(path: Path, *, crs: str = "EPSG:27700") -> gpd.GeoDataFrame:
    """Sites from a GeoPackage / any vector file (points) or a CSV with ``name`` and
    ``easting``/``northing`` (British National Grid) or ``longitude``/``latitude``."""
    path = Path(path)
    if not path.is_file():
        raise GeoRiskError(f"{path}: sites file not found.")
    if path.suffix.lower() in {".csv", ".xlsx", ".xlsm"}:
        table = read_table(path)  # any encoding and separator, or a workbook's sheet
        xy, source_crs = next(((xy, crs) for xy, crs in COORDINATES if set(xy) <= set(table)),
                              (None, None))
        if xy is None:
            raise SchemaError(f"{path}: needs columns easting and northing (British National "
                              "Grid metres) or longitude and latitude.")
        x, y = (pd.to_numeric(table[c], errors="coerce") for c in xy)
        bad = x.isna() | y.isna()
        if bad.any():
            row = int(table.index[bad.to_numpy()][0]) + 2
            raise SchemaError(f"{path}: row {row}: {xy[0]}/{xy[1]} is not a number; fix or "
                              "remove the row.")
        degrees = source_crs == "EPSG:4326"
        far = ~(x.abs() <= 180) | ~(y.abs() <= 90) if degrees else \
            ~x.between(0, 700_000) | ~y.between(0, 1_300_000)
        if far.any():
            row = int(table.index[far.to_numpy()][0]) + 2
            raise SchemaError(
                f"{path}: row {row}: {xy[0]}/{xy[1]} cannot be "
                f"{'degrees' if degrees else 'British National Grid metres'}; put metres in "
                "easting and northing, degrees in longitude and latitude.")
        sites = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y),
                                 crs=source_crs).to_crs(crs).reset_index(drop=True)
    else:
        sites = read_layer(path, "sites",
                           lambda fields: "name" in {f.lower() for f in fields}).to_crs(crs)
        sites.columns = [c.lower() if c != sites.geometry.name else c for c in sites.columns]
    if "name" not in sites:
        raise SchemaError(f"{path}: needs a 'name' column naming each site.")
    if sites.empty:
        raise SchemaError(f"{path}: lists no site; give at least one, a row each.")
    if not (sites.geom_type == "Point").all():
        raise SchemaError(f"{path}: every site must be a point.")
    if sites["name"].duplicated().any():
        dup = sites.loc[sites["name"].duplicated(), "name"].iloc[0]
        raise SchemaError(f"{path}: site name {dup!r} appears twice; names must be unique.")
    return sites.reset_index(drop=True)


def distance_matrix(demand: Demand, sites: gpd.GeoDataFrame, *,
                    matrix: Path | None = None) -> np.ndarray:
    """Demand (rows, OA order) by sites (columns): straight-line metres, or from a CSV
    with the OA code (``OA11CD`` or ``OA21CD``, as the boundaries), ``site`` (name) and
    ``distance`` (any unit matching the radius)."""
    if matrix is None:
        a = np.column_stack([demand.points.geometry.x, demand.points.geometry.y])
        b = np.column_stack([sites.geometry.x, sites.geometry.y])
        return cdist(a, b)
    table = read_table(matrix)
    oa = read_code_columns(table.columns).get(C.OA, (None,))[0]
    missing = [c for c, found in [("OA21CD (or OA11CD)", oa), ("site", "site" in table),
                                  ("distance", "distance" in table)] if not found]
    if missing:
        raise SchemaError(f"{matrix}: needs columns OA21CD (or OA11CD), site, distance "
                          f"(missing {', '.join(missing)}).")
    table["distance"] = pd.to_numeric(table["distance"], errors="coerce")
    wide = table.pivot_table(index=oa, columns="site", values="distance", aggfunc="min")
    wide = wide.reindex(index=demand.points.index, columns=sites["name"].astype(str))
    return wide.fillna(np.inf).to_numpy(float)


@dataclass
class SitingResult:
    """The chosen sites, what they cover, and how the solver did."""

    model: str
    status: str
    seconds: float
    chosen: pd.DataFrame  # ranked new sites: name, newly_covered, cumulative_share
    covered: np.ndarray  # demand point covered (bool, OA order)
    total_demand: float
    covered_demand: float
    existing_covered_demand: float
    notes: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.covered_demand / self.total_demand if self.total_demand else 0.0


#: Seconds the fewest sites' refinement (the ones of that many reaching the most) may search.
REFINE_SECONDS = 20.0


def _solver() -> pulp.LpSolver:
    return pulp.PULP_CBC_CMD(msg=False)


@contextmanager
def _quiet_pulp():
    """PuLP 3.3 announces changes for 4.0 (how spopt builds variables; CBC moving out of
    the PuLP wheel). Neither changes a model under PuLP 3, which the project pins, so the
    announcements are not shown to users."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Constructing LpVariable", DeprecationWarning)
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        yield


def _rank(chosen: list[int], cover: np.ndarray, weights: np.ndarray, already: np.ndarray,
          names: list[str]) -> pd.DataFrame:
    """Order chosen sites by what each adds to what is already covered."""
    covered = already.copy()
    rows, left = [], list(chosen)
    total = weights.sum()
    while left:
        gains = [weights[cover[:, j] & ~covered].sum() for j in left]
        best = left.pop(int(np.argmax(gains)))
        covered |= cover[:, best]
        rows.append((names[best], max(gains), weights[covered].sum() / total))
    return pd.DataFrame(rows, columns=["site", "newly_covered", "cumulative_share"])


def site_services(demand: Demand, candidates: gpd.GeoDataFrame, *,
                  existing: gpd.GeoDataFrame | None = None, distance: np.ndarray | None = None,
                  service_distance: float = DEFAULT_DISTANCE, p: int | None = None,
                  coverage: float | None = None, model: str = "mclp") -> SitingResult:
    """Choose new sites among ``candidates`` (see the module docstring).

    ``distance``: demand by (existing then candidate) sites; straight line when omitted.
    Give ``p`` (MCLP or p-median) or ``coverage`` (a share of demand to reach).
    """
    if (p is None) == (coverage is None):
        raise GeoRiskError("give either a number of new sites (p) or a coverage target.")
    existing = existing if existing is not None else candidates.iloc[0:0]
    sites = pd.concat([existing[["name", "geometry"]], candidates[["name", "geometry"]]],
                      ignore_index=True)
    n_fixed = len(existing)
    names = sites["name"].astype(str).tolist()
    cost = distance_matrix(demand, gpd.GeoDataFrame(sites, crs=candidates.crs)) \
        if distance is None else distance
    weights = demand.weights
    cover = cost <= service_distance
    fixed = np.zeros(len(sites), dtype=int)
    fixed[:n_fixed] = 1
    already = np.asarray(cover[:, :n_fixed].any(axis=1), dtype=bool)
    total = float(weights.sum())
    started = time.perf_counter()
    with _quiet_pulp():
        problem, picked, coverage, notes = _solve(
            cost, weights, cover, already, fixed, n_fixed, len(candidates), service_distance,
            p=p, coverage=coverage, model=model)
    seconds = time.perf_counter() - started
    status = pulp.LpStatus[problem.problem.status] if problem is not None else "Optimal"
    new = [j for j in picked if j >= n_fixed]
    covered = already | cover[:, new].any(axis=1) if new else already.copy()
    ranked = _rank(new, cover, weights, already, names)
    return SitingResult(model="p-median" if model == "pmedian" and p is not None else
                        "maximal covering" if p is not None else "set covering to a target",
                        status=status, seconds=seconds, chosen=ranked, covered=covered,
                        total_demand=total, covered_demand=float(weights[covered].sum()),
                        existing_covered_demand=float(weights[already].sum()), notes=notes)


class Covering:
    """Maximal covering (Church and ReVelle, as spopt's ``MCLP`` states it: the ``p``
    sites covering the most demand) and partial set covering (the fewest sites covering
    a given demand), built over the pairs within reach only.

    spopt builds one constraint per demand point over every site, zero coefficients
    included, and anew for each ``p``: quadratic in areas and sites, and a target share
    took a binary search over ``p`` with a model built and solved for each. Here a point's
    constraint lists the sites that reach it, points no site reaches are left out (nothing
    can cover them), points reached by the same sites are one point with their demand
    summed, and a target is one model: fewest sites subject to the demand covered. A
    candidate that reaches no point another site (open already, or a candidate of lower
    index reaching the same points) does not also reach is dominated and left out: some
    optimum never needs it. The coverage variables are continuous in [0, 1]: with the
    sites whole, an optimum covers a point fully or not at all. ``tests/test_siting.py``
    checks both against spopt's ``MCLP``.
    """

    def __init__(self, cover: np.ndarray, weights: np.ndarray, fixed: np.ndarray) -> None:
        reached = cover.any(axis=1)
        # rows as bits, eight sites a byte: the same order (bytes compare as the rows do)
        # in an eighth of the sort; a county's 5,664 x 1,092 took 1.7 s as booleans
        packed, group = np.unique(np.packbits(cover[reached], axis=1), axis=0,
                                  return_inverse=True)
        patterns = np.unpackbits(packed, axis=1, count=cover.shape[1]).astype(bool)
        self._demand = np.bincount(group.ravel(), weights=weights[reached],
                                   minlength=len(patterns))
        self._columns = np.flatnonzero(~_dominated(patterns, fixed.astype(bool)))
        self._patterns = patterns[:, self._columns]
        self._fixed = fixed[self._columns]
        self._sites = len(fixed)
        self.problem: pulp.LpProblem | None = None  # the last one solved (its status)
        self.note: str | None = None

    def _model(self, sense: int) -> tuple[pulp.LpProblem, list, pulp.LpAffineExpression]:
        problem = pulp.LpProblem("covering", sense)
        sites = [pulp.LpVariable(f"x_{j}", lowBound=int(self._fixed[k]), upBound=1,
                                 cat="Integer")  # an existing site stays open
                 for k, j in enumerate(self._columns)]
        covered = [pulp.LpVariable(f"y_{i}", lowBound=0, upBound=1)
                   for i in range(len(self._patterns))]
        point, site = np.nonzero(self._patterns)
        bounds = np.searchsorted(point, np.arange(len(covered) + 1))
        for i, y in enumerate(covered):  # the sites reaching a point >= its coverage
            terms = [(sites[j], 1) for j in site[bounds[i]:bounds[i + 1]]] + [(y, -1)]
            problem += pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                         sense=pulp.LpConstraintGE, rhs=0)
        return problem, sites, pulp.LpAffineExpression(zip(covered, self._demand, strict=True))

    def _solved(self, problem: pulp.LpProblem, sites: list) -> list[int]:
        problem.solve(_solver())
        self.problem = problem
        return [int(self._columns[k]) for k, x in enumerate(sites) if (x.value() or 0) > 0.5]

    def solve(self, p: int) -> list[int]:
        """The sites open (column indices) covering the most demand with ``p`` open.
        With more sites than undominated ones, the dominated ones of lowest index make up
        the number (they add nothing)."""
        problem, sites, demand = self._model(pulp.LpMaximize)
        problem += demand
        problem += pulp.lpSum(sites) == min(p, len(sites))
        chosen = self._solved(problem, sites)
        kept = set(self._columns.tolist())
        spare = [j for j in range(self._sites) if j not in kept]
        return sorted(chosen + spare[:max(p - len(chosen), 0)])

    def _reach(self, chosen: list[int]) -> float:
        """Demand the sites ``chosen`` (column indices) reach."""
        open_ = np.isin(self._columns, chosen)
        return float(self._demand[self._patterns[:, open_].any(axis=1)].sum())

    def fewest(self, demand: float, *, refine_seconds: float = REFINE_SECONDS) -> list[int]:
        """The fewest sites open covering at least ``demand`` (proven); of those as many,
        the ones covering the most, searched from that answer for at most
        ``refine_seconds`` (``self.note`` says when the search stopped unproven: on a
        county the proof can take minutes and adds a fraction of a percent)."""
        problem, sites, covered = self._model(pulp.LpMinimize)
        problem += pulp.lpSum(sites)
        problem += covered >= demand * (1 - 1e-9)
        first = self._solved(problem, sites)  # self.problem: the proven count's model
        best, sites, total = self._model(pulp.LpMaximize)
        best += total
        best += pulp.lpSum(sites) == len(first)
        for k, x in enumerate(sites):
            x.setInitialValue(int(self._columns[k] in set(first)))
        best.solve(pulp.PULP_CBC_CMD(msg=False, warmStart=True, timeLimit=refine_seconds))
        self.note = None
        if best.sol_status != pulp.LpSolutionOptimal:
            self.note = (f"of the {len(first)} sites, the ones reaching the most were searched "
                         f"for {refine_seconds:g} s, not proven best")
        chosen = [int(self._columns[k]) for k, x in enumerate(sites) if (x.value() or 0) > 0.5]
        if len(chosen) != len(first) or self._reach(chosen) < self._reach(first):
            chosen = first  # the search found nothing better: keep the proven answer
        return chosen


def _dominated(patterns: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Per site (column of ``patterns``, the points each reaches), whether it is a
    candidate whose points another site also reaches: an open site, or a site reaching
    more, or the same points with a lower index. Open sites are never dominated."""
    from scipy import sparse

    reach = sparse.csc_matrix(patterns, dtype=np.int32)
    size = np.asarray(reach.sum(axis=0)).ravel()
    shared = (reach.T @ reach).tocoo()  # points two sites both reach
    j, k, n = shared.row, shared.col, shared.data
    covers = (j != k) & (n == size[j]) & (fixed[k] | (size[k] > size[j])
                                          | ((size[k] == size[j]) & (k < j)))
    dominated = np.zeros(len(size), dtype=bool)
    dominated[j[covers]] = True
    dominated[size == 0] = True
    return dominated & ~fixed


def _solve(cost, weights, cover, already, fixed, n_fixed, n_candidates, service_distance, *,
           p, coverage, model):
    """(solved problem or None, chosen site columns, coverage target, notes); a problem
    has ``.problem``, the PuLP problem (its status)."""
    n_sites = cost.shape[1]
    total = float(weights.sum())
    notes: list[str] = []
    covering = Covering(cover, weights, fixed) if model != "pmedian" or p is None else None

    if model == "pmedian" and p is not None:
        problem = PMedian.from_cost_matrix(np.minimum(cost, 1e7), weights,
                                           p_facilities=n_fixed + p,
                                           predefined_facilities_arr=fixed if n_fixed else None)
        problem.solve(_solver())
        picked = [j for j in range(n_sites) if problem.fac_vars[j].value() > 0.5]
    elif p is not None:
        problem, picked = covering, covering.solve(n_fixed + min(p, n_candidates))
    else:
        reachable = weights[cover.any(axis=1)].sum() / total
        if coverage > reachable + 1e-12:
            notes.append(f"a coverage of {coverage:.0%} is out of reach: only {reachable:.1%} "
                         "of demand lies within the service distance of any site; solved "
                         "for the most reachable")
            coverage = reachable
        if coverage >= 1.0 - 1e-12 and cover.any(axis=1).all():
            problem = LSCP.from_cost_matrix(cost, service_radius=service_distance,
                                            predefined_facilities_arr=fixed if n_fixed
                                            else None)
            problem.solve(_solver())
            picked = [j for j in range(n_sites) if problem.fac_vars[j].value() > 0.5]
        elif weights[already].sum() / total >= coverage:
            problem, picked = None, list(range(n_fixed))
        else:  # one model: the fewest sites covering the target, then the best of as many
            picked = covering.fewest(coverage * total)
            problem = covering
            if covering.note:
                notes.append(covering.note)
    return problem, picked, coverage, notes


def baselines(demand: Demand, candidates: gpd.GeoDataFrame, *, p: int,
              service_distance: float = DEFAULT_DISTANCE, seeds: int = 20,
              distance: np.ndarray | None = None, already: np.ndarray | None = None
              ) -> dict[str, float]:
    """Coverage (share of demand) of two simpler choices of ``p`` sites, with what
    existing sites already cover (``already``): the ``p`` candidates with the highest local
    demand, each counted alone (no overlap accounting), and ``p`` random candidates (mean
    over ``seeds`` seeds)."""
    cost = distance_matrix(demand, candidates) if distance is None else distance
    cover = cost <= service_distance
    w = demand.weights
    p = min(p, len(candidates))  # fewer candidates than sites asked for: all of them
    already = np.zeros(len(w), dtype=bool) if already is None else already
    local = (cover * w[:, None]).sum(axis=0)
    top = np.argsort(-local, kind="stable")[:p]
    greedy = w[already | cover[:, top].any(axis=1)].sum() / w.sum()
    shares = []
    for seed in range(seeds):
        pick = np.random.default_rng(seed).choice(len(candidates), size=p, replace=False)
        shares.append(w[already | cover[:, pick].any(axis=1)].sum() / w.sum())
    return {"highest_local_demand": float(greedy), "random_mean": float(np.mean(shares))}


@dataclass(frozen=True)
class SitingSettings:
    """What the commissioner asks: sites to choose from, distance, and how many."""

    candidates: Path
    existing: Path | None = None
    service_distance: float = DEFAULT_DISTANCE
    matrix: Path | None = None
    p: int | None = 5
    coverage: float | None = None
    model: str = "mclp"


@dataclass
class SitingOutputs:
    """A siting run ready to publish (counts rounded and withheld like every output)."""

    result: SitingResult
    sites: gpd.GeoDataFrame  # chosen new sites and existing ones, published columns
    catchments: gpd.GeoDataFrame  # service area of each site
    by_ward: pd.DataFrame  # published coverage by ward
    summary: dict  # the "siting" section of run.json


def plan_sites(demand: Demand, settings: SitingSettings, oas: gpd.GeoDataFrame,
               hotspots: pd.DataFrame, disclosure: Disclosure = SAFE, *,
               candidates: gpd.GeoDataFrame | None = None,
               existing: gpd.GeoDataFrame | None = None) -> SitingOutputs:
    """Choose sites, compare with simpler choices, and tabulate what the choice reaches.

    Parameters
    ----------
    demand : Demand
        :func:`demand_points`.
    settings : SitingSettings
        The sites to choose from, the distance and how many.
    oas : GeoDataFrame
        Output areas in EPSG:27700, with ward names.
    hotspots : DataFrame
        Per OA: ``concern``.
    disclosure : Disclosure
        The rules the published tables follow.
    candidates, existing : GeoDataFrame, optional
        The sites already read (else read from ``settings``).

    Returns
    -------
    SitingOutputs
        The choice, the sites and catchments, the published coverage by ward and the
        summary for ``run.json``.
    """
    candidates = read_sites(settings.candidates) if candidates is None else candidates
    if existing is None and settings.existing is not None:
        existing = read_sites(settings.existing)
    existing = existing if existing is not None else candidates.iloc[0:0]
    clash = set(existing["name"]) & set(candidates["name"])
    if clash:
        raise GeoRiskError(f"site {sorted(clash)[0]!r} is both a candidate and an existing "
                           "site; list it once.")
    every = gpd.GeoDataFrame(pd.concat([existing, candidates], ignore_index=True),
                             crs=candidates.crs)
    cost = distance_matrix(demand, every, matrix=settings.matrix)
    result = site_services(demand, candidates, existing=existing, distance=cost,
                           service_distance=settings.service_distance, p=settings.p,
                           coverage=settings.coverage, model=settings.model)
    def pub(n: float) -> float:  # a count as published; withheld is missing, not "c"
        shown = disclosure.value(n)
        return np.nan if shown == "c" else float(shown)

    chosen = result.chosen.reset_index(drop=True)
    new = every.set_index("name").loc[chosen["site"]].reset_index()
    new["status"] = [f"new site {i + 1}" for i in range(len(new))]
    new["newly_covered"] = chosen["newly_covered"].map(pub).to_numpy()
    new["cumulative_coverage"] = chosen["cumulative_share"].round(3).to_numpy()
    old = existing.copy()
    old["status"] = "existing"
    existing_cover = cost[:, :len(existing)] <= settings.service_distance  # each alone
    old["newly_covered"] = [pub(demand.weights[existing_cover[:, j]].sum())
                            for j in range(len(old))]
    existing_share = (result.existing_covered_demand / result.total_demand
                      if result.total_demand else 0.0)
    old["cumulative_coverage"] = round(existing_share, 3)
    columns = ["name", "kind", "status", "newly_covered", "cumulative_coverage", "geometry"]
    sites = gpd.GeoDataFrame(pd.concat([old.reindex(columns=columns),
                                        new.reindex(columns=columns)], ignore_index=True),
                             crs=candidates.crs)
    sites["kind"] = sites["kind"].astype(object).fillna("")  # a list without kinds: blank
    sites["newly_covered"] = sites["newly_covered"].astype("Int64")  # numbers, NULL withheld
    sites["cumulative_coverage"] = sites["cumulative_coverage"].astype(float)
    if settings.matrix is None:
        outlines = sites.geometry.buffer(settings.service_distance, quad_segs=16)
    else:  # catchment: the output areas each site covers, as one outline
        index = {n: j for j, n in enumerate(every["name"])}
        outlines = [oas.loc[demand.points.index[cost[:, index[n]] <= settings.service_distance]]
                 .union_all() for n in sites["name"]]
    catchments = gpd.GeoDataFrame({"name": sites["name"], "status": sites["status"]},
                                  geometry=list(outlines), crs=candidates.crs)

    w = pd.Series(demand.weights, index=demand.points.index)
    covered = pd.Series(result.covered, index=demand.points.index)
    ward = oas[C.WARD_NAME].reindex(w.index)
    by_ward = pd.DataFrame({"demand": w.groupby(ward).sum(),
                            "covered": w[covered].groupby(ward[covered]).sum()}).fillna(0.0)
    by_ward["share_covered"] = by_ward["covered"] / by_ward["demand"]
    by_ward = by_ward.sort_values("demand", ascending=False)
    published = pd.DataFrame({
        "expected_not_ready": by_ward["demand"].map(pub),
        "within_reach": by_ward["covered"].map(pub),
        "share_within_reach": by_ward["share_covered"].map(lambda v: f"{v:.0%}")})
    published.index.name = C.WARD_NAME

    concern = hotspots["concern"].reindex(w.index).fillna("")
    concern_reached = {}
    for kind in ["known", "newly identified"]:
        members = concern == kind
        reached = members & covered
        concern_reached[kind] = {
            "oas": int(members.sum()), "oas_reached": int(reached.sum()),
            "share_of_demand_reached": round(float(w[reached].sum() / w[members].sum()), 4)
            if members.any() else None}
    summary = {
        "model": result.model, "status": result.status, "solve_seconds": round(result.seconds, 3),
        "service_distance": settings.service_distance,
        "distance": "straight line" if settings.matrix is None
        else f"matrix {settings.matrix.name}",
        "p": settings.p, "coverage_target": settings.coverage,
        "candidates": len(candidates), "existing": len(existing),
        "new_sites": chosen["site"].tolist(),
        "coverage": round(result.coverage, 4),
        "existing_coverage": round(existing_share, 4),
        "areas_of_concern_reached": concern_reached, "notes": result.notes,
    }
    if settings.p is not None and settings.model == "mclp":
        simple = baselines(demand, candidates, p=settings.p,
                           service_distance=settings.service_distance,
                           distance=cost[:, len(existing):],
                           already=np.asarray(existing_cover.any(axis=1)))
        summary["baselines"] = {k: round(v, 4) for k, v in simple.items()}
        summary["margin_over_highest_local_demand"] = round(
            result.coverage - simple["highest_local_demand"], 4)
        summary["margin_over_random"] = round(result.coverage - simple["random_mean"], 4)
    return SitingOutputs(result, sites, catchments, published, summary)


def site_table(outputs: SitingOutputs) -> pd.DataFrame:
    """The sites, chosen and existing, ranked, with their grid reference (``easting``,
    ``northing`` to 0.1 m) instead of a geometry: what ``sites.csv`` publishes.

    Parameters
    ----------
    outputs : SitingOutputs
        :func:`plan_sites`.

    Returns
    -------
    DataFrame
        One row per site.
    """
    return outputs.sites.drop(columns="geometry").assign(
        easting=outputs.sites.geometry.x.round(1), northing=outputs.sites.geometry.y.round(1))
