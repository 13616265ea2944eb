"""Where risk concentrates: spatial weights, Moran's I, LISA, Gi* and emerging hot spots.

Weights
-------
Queen contiguity (libpysal ``Graph``, ``rook=False``) from unsimplified EPSG:27700
geometry, built once per geography and reused for every refresh. Islands and
disconnected components are handled explicitly: each smaller component is joined to the
nearest polygon of another component when it lies within ``max_join_distance`` metres
(a bridge or ferry crossing, say); an area still without neighbours is excluded from
local inference and never reported as a hot spot, because its Gi* would otherwise come
from its own value alone.

Statistics
----------
- Global Moran's I with row-standardised weights and analytic (randomisation) inference.
- Local Moran (LISA) with conditional permutations (seeded, one process); esda's
  ``p_sim`` is one-sided (folded), so it is doubled for a two-sided test, then
  Benjamini-Hochberg at ``alpha`` across areas before a quadrant is called significant.
- Getis-Ord Gi* computed directly (vectorised) with binary weights including the area
  itself, as ArcGIS does, analytic z-scores and Benjamini-Hochberg per period.

Emerging hot spots
------------------
Following ArcGIS Pro's Emerging Hot Spot Analysis: a Gi* z-score for every area in every
period over a space-time neighbourhood (the area and its neighbours in the same period
and in the previous ``time_lag`` periods, default 1: ArcGIS's neighbourhood time step),
with the mean and standard deviation of ArcGIS's global window (:data:`GLOBAL_WINDOWS`:
the whole cube's by default); Benjamini-Hochberg per period (or, without ``fdr``, each
test at ``alpha`` alone); a trend test of each area's
z-series; then the categories. The first ``time_lag`` periods only provide history:
their windows are shallower, so their z-scores are smaller for the same values, which
would read as a rising trend everywhere; with 16 refreshes and ``time_lag=1`` an area's
series has 15 periods.

A trend is Mann-Kendall's (p < ``trend_alpha``, default 0.05) *and* material: the z-score
moves by at least ``min_trend`` over the series by Theil-Sen's slope (default 1.96: as
far as from no clustering to the two-sided 5% critical value). ArcGIS uses the test
alone, but quarterly refreshes overlap: an under-five is counted in up to 20 consecutive
ones, so an area's series drifts smoothly and Mann-Kendall calls a drift of a few tenths
of a z "significant", which would make a steady hot spot intensifying or diminishing.

The categories:

=================  ========================================================================
new                hot in the final period only
consecutive        one unbroken run of >= 2 hot periods ending in the final one, never hot
                   before it, hot in < 90% of periods
intensifying       hot in >= 90% of periods including the final, z rising (a trend)
persistent         hot in >= 90% of periods including the final, no trend
diminishing        hot in >= 90% of periods including the final, z falling (a trend)
sporadic           hot in the final period, on and off before, < 90%, never cold
oscillating        hot in the final period, cold in some earlier period, < 90% hot
historical         not hot in the final period but hot in >= 90% of periods
=================  ========================================================================

and the same for cold spots. "90%" is a share of the periods (at 16 periods, 15 or
more). Where the published rules overlap the precedence is: the 90% categories first,
then oscillating (an earlier opposite spot), then new, consecutive and sporadic; so a
final-period hot spot that was once a cold spot is oscillating, not new.

A run publishes each area's category as the one most resamples of its households give,
with the share that give it (:func:`bagged_categories`); its trend columns are the point
estimate's.

A run measures risk beyond what deprivation predicts (:func:`beyond_deprivation`): the
most deprived areas are hot spots of risk in every period, which LISA and Gi* already
show; what an emerging hot spot analysis adds is where risk moves away from that.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph
from scipy import sparse
from scipy.stats import norm
from sklearn.linear_model import HuberRegressor

from geo_risk import columns as C
from geo_risk._errors import BoundaryError, CRSError, GeoRiskError
from geo_risk._pysal import esda
from geo_risk.cores import local_map

__all__ = [
    "EHSA_BEYOND",
    "EHSA_CATEGORIES",
    "EHSA_RISK",
    "EMERGING",
    "GLOBAL_WINDOWS",
    "LISA_STATES",
    "MIN_REFRESHES",
    "RISE_REFRESHES",
    "STABILITY_DRAWS",
    "STABLE",
    "WEIGHTS",
    "Weights",
    "areas_of_concern",
    "bagged_categories",
    "benjamini_hochberg",
    "beyond_deprivation",
    "build_weights",
    "classify_emerging",
    "concern_outlines",
    "emerging_hotspots",
    "getis_ord_star",
    "global_moran",
    "global_window_choice",
    "lisa_over_time",
    "local_moran",
    "mann_kendall",
    "moved_into",
    "quadrant_transitions",
    "rising_areas",
    "sen_change",
    "significant",
    "weights_choice",
]

log = logging.getLogger(__name__)

_KINDS = ["new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
          "oscillating", "historical"]
#: What an emerging hot spot analysis of a run measures: risk beyond deprivation when the
#: geography has IMD (:func:`beyond_deprivation`), otherwise risk itself.
EHSA_BEYOND = "mean predicted risk beyond what deprivation predicts"
EHSA_RISK = "mean predicted risk"
#: The 17 emerging hot spot categories.
EHSA_CATEGORIES = ([f"{k} hot spot" for k in _KINDS] + [f"{k} cold spot" for k in _KINDS]
                   + ["no pattern"])
#: The categories that say an area is becoming a hot spot.
EMERGING = ("new hot spot", "consecutive hot spot", "intensifying hot spot")
#: Resamples drawn for each area's category stability, and the share of them giving the
#: same category above which a category is called stable (and named in the report).
STABILITY_DRAWS, STABLE = 100, 0.8

#: Refreshes over which a rise is read: a year of quarterly refreshes.
RISE_REFRESHES = 4

#: The fewest refreshes an emerging hot spot trend can be read from.
MIN_REFRESHES = 3
_DRAWS_AT_ONCE = 25  # resamples' noise held at once (England's: 0.5 GB)


@dataclass
class Weights:
    """Contiguity between areas, with what was done about islands and components."""

    graph: Graph  # binary queen contiguity after joins, no self-weights
    isolates: list[str]  # still without neighbours: excluded from local inference
    components_before: int
    components_after: int
    joins: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def ids(self) -> pd.Index:
        return pd.Index(self.graph.unique_ids)

    def binary(self, *, self_weight: bool = False) -> sparse.csr_matrix:
        """The binary adjacency as a sparse matrix in ``ids`` order."""
        a = sparse.csr_matrix(self.graph.sparse, dtype=float)
        a.data[:] = 1.0
        a.eliminate_zeros()
        return a + sparse.identity(a.shape[0], format="csr") if self_weight else a

    def report(self) -> dict:
        return {"areas": len(self.ids), "components_before_joins": self.components_before,
                "components": self.components_after, "joins": len(self.joins),
                "isolates": len(self.isolates), "isolated_areas": self.isolates}


#: How areas' neighbours can be chosen (``build_weights``' ``weights``), as a GIS team
#: names them: contiguity by edges and corners (the default) or by edges, higher-order
#: contiguity, k nearest neighbours, and a fixed distance band with a minimum number of
#: neighbours (ArcGIS's fixed distance; distances between centroids, in metres).
WEIGHTS = {"queen": "contiguity, edges and corners", "rook": "contiguity, edges only",
           "order:N": "queen contiguity up to N steps away",
           "knn:K": "the K nearest areas (centroids)",
           "distance:METRES[:MIN]": "areas whose centroids are within METRES, and at least "
                                    "MIN nearest (default 1)"}


def weights_choice(text: str) -> tuple[str, tuple[float, ...]]:
    """A ``weights`` setting read: its kind and numbers, or a clear error.

    Parameters
    ----------
    text : str
        ``queen``, ``rook``, ``order:N``, ``knn:K`` or ``distance:METRES[:MIN]``.

    Returns
    -------
    tuple of (str, tuple of float)
        The kind and its numbers.

    Raises
    ------
    GeoRiskError
        The setting names no choice of :data:`WEIGHTS`.

    Examples
    --------
    >>> weights_choice("queen"), weights_choice("knn:8"), weights_choice("distance:1500:4")
    (('queen', ()), ('knn', (8.0,)), ('distance', (1500.0, 4.0)))
    """
    kind, *numbers = str(text).strip().lower().split(":")
    counts = {"queen": (0, 0), "rook": (0, 0), "order": (1, 1), "knn": (1, 1),
              "distance": (1, 2)}
    try:
        values = tuple(float(n) for n in numbers)
    except ValueError:
        values = ()
        numbers = ["?"]
    if (kind not in counts or not counts[kind][0] <= len(numbers) <= counts[kind][1]
            or len(values) != len(numbers) or any(v <= 0 for v in values)
            or (kind in {"order", "knn"} and values and not values[0].is_integer())):
        raise GeoRiskError(f"weights {text!r}: use one of "
                           + ", ".join(WEIGHTS) + " (N, K and MIN whole numbers above 0)")
    return kind, values


def build_weights(areas: gpd.GeoDataFrame, *, max_join_distance: float = 5_000.0,
                  weights: str = "queen") -> Weights:
    """Neighbours as ``weights`` chooses them (:data:`WEIGHTS`; queen contiguity by
    default), with islands and components handled (see the module docstring): contiguity
    of any order joins components first; k nearest and a distance band leave none
    unjoined within their reach.

    Parameters
    ----------
    areas
        Polygons in a projected CRS (EPSG:27700), indexed by area code.
    max_join_distance
        Largest gap in metres across which a component is joined to its nearest neighbour.
    weights
        ``queen``, ``rook``, ``order:N``, ``knn:K`` or ``distance:METRES[:MIN]``.
    """
    if areas.crs is None or not areas.crs.is_projected:
        raise CRSError(f"areas are in {areas.crs or 'no CRS'}; distances need a projected CRS "
                       "such as British National Grid (EPSG:27700)")
    kind, values = weights_choice(weights)
    if kind in {"knn", "distance"}:
        points = gpd.GeoSeries(areas.geometry.centroid, index=areas.index)
        least = int(values[0] if kind == "knn" else values[1] if len(values) > 1 else 1)
        graph = Graph.build_knn(points, k=min(least, len(areas) - 1)).transform("b")
        if kind == "distance":
            graph = graph.union(Graph.build_distance_band(points, values[0]))
        graph = graph.transform("b")
        return Weights(graph, [str(i) for i in graph.isolates], int(graph.n_components),
                       int(graph.n_components))
    graph = Graph.build_contiguity(areas, rook=kind == "rook")
    before = graph.n_components
    joins = _joins(areas, graph.component_labels.reindex(areas.index).to_numpy(),
                   max_join_distance) if before > 1 else []
    if joins:
        adj = graph.adjacency
        ids = pd.Index(np.asarray(areas.index, dtype=object))
        focal, neighbor = (ids.get_indexer(level)[codes] for level, codes
                           in zip(adj.index.levels, adj.index.codes, strict=True))
        edge = adj.to_numpy() > 0
        a, b, _ = zip(*joins, strict=True)
        a, b = ids.get_indexer(list(a)), ids.get_indexer(list(b))
        graph = _graph_from(np.concatenate([focal[edge], a, b]),
                            np.concatenate([neighbor[edge], b, a]),
                            np.concatenate([adj.to_numpy(float)[edge], np.ones(2 * len(a))]),
                            ids)
    if kind == "order":  # every area up to N contiguity steps away, after the joins
        graph = graph.higher_order(k=int(values[0]), lower_order=True).transform("b")
    isolates = [str(i) for i in graph.isolates]
    if joins or isolates:
        log.info("weights: %d join(s) across gaps, %d isolated area(s)", len(joins),
                 len(isolates))
    return Weights(graph, isolates, int(before), int(graph.n_components), joins)


def _joins(areas: gpd.GeoDataFrame, labels: np.ndarray, max_distance: float
           ) -> list[tuple[str, str, float]]:
    """The shortest gaps that connect the components, in one pass: every pair of areas in
    different components within ``max_distance`` (found from the areas outside the largest
    component, one spatial-index query), then Kruskal's rule over components: the shortest
    gap first, a gap kept only when it joins components not yet connected."""
    geoms = areas.geometry.to_numpy()
    largest = np.bincount(labels).argmax()
    small = np.flatnonzero(labels != largest)
    b = shapely.bounds(geoms[small])  # boxes grown by the distance: exact distances are
    grown = shapely.box(b[:, 0] - max_distance, b[:, 1] - max_distance,  # measured only
                        b[:, 2] + max_distance, b[:, 3] + max_distance)  # across components
    hit, right = areas.sindex.query(grown)
    left = small[hit]
    apart = labels[left] != labels[right]
    left, right = left[apart], right[apart]
    dist = shapely.distance(geoms[left], geoms[right])
    near = dist <= max_distance
    left, right, dist = left[near], right[near], dist[near]
    parent = {c: c for c in np.unique(labels)}

    def find(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    ids = areas.index
    joins = []
    for k in np.lexsort((right, left, dist)):  # shortest first; ties in a fixed order
        a, b = find(labels[left[k]]), find(labels[right[k]])
        if a != b:
            parent[a] = b
            joins.append((ids[left[k]], ids[right[k]], float(dist[k])))
    return joins


def _graph_from(focal: np.ndarray, neighbor: np.ndarray, weight: np.ndarray, ids: pd.Index
                ) -> Graph:
    """A Graph from its edges as positions in ``ids`` (focal, neighbor) and weights; areas
    without an edge become isolates (a zero self-loop, libpysal's convention). The
    adjacency is built sorted as libpysal keeps it (both levels in ``ids`` order, in
    values and codes), so :class:`~libpysal.graph.Graph` need not sort it again: for
    England's OAs, making and sorting the area codes again took as long as finding the
    joins."""
    lonely = np.setdiff1d(np.arange(len(ids)), focal)
    focal = np.concatenate([focal, lonely])
    neighbor = np.concatenate([neighbor, lonely])
    weight = np.concatenate([weight, np.zeros(len(lonely))])
    order = np.lexsort((neighbor, focal))
    index = pd.MultiIndex(levels=[ids, ids], codes=[focal[order], neighbor[order]],
                          names=["focal", "neighbor"], verify_integrity=False)
    return Graph(pd.Series(weight[order], index=index, name="weight"), is_sorted=True)


#: ArcGIS's global window of an emerging hot spot analysis: the bins each bin's
#: neighbourhood is compared with (their mean and variance), by its name here.
GLOBAL_WINDOWS = {
    "entire_cube": "every bin of the cube (ArcGIS's default)",
    "neighbourhood_time_step": "the bins of the bin's own neighbourhood time step: its period "
                               "and the time lag's periods before it",
    "individual_time_step": "the bins of the bin's own period; its neighbourhood is then its "
                            "neighbours in that period alone (the time lag does not apply)",
}


def global_window_choice(text: str) -> str:
    """A ``global_window`` setting read (ArcGIS's names, either spelling, any case), or a
    clear error.

    Parameters
    ----------
    text : str
        ``entire_cube``, ``neighbourhood_time_step`` or ``individual_time_step``
        (:data:`GLOBAL_WINDOWS`), or ArcGIS's ``ENTIRE_CUBE``, ``NEIGHBORHOOD_TIME_STEP``,
        ``INDIVIDUAL_TIME_STEP``.

    Returns
    -------
    str
        The choice's name in :data:`GLOBAL_WINDOWS`.

    Raises
    ------
    GeoRiskError
        The setting names no global window.

    Examples
    --------
    >>> global_window_choice("NEIGHBORHOOD_TIME_STEP"), global_window_choice("entire cube")
    ('neighbourhood_time_step', 'entire_cube')
    """
    key = (str(text).strip().lower().replace("-", "_").replace(" ", "_")
           .replace("neighborhood", "neighbourhood"))
    if key not in GLOBAL_WINDOWS:
        raise GeoRiskError(f"global window {text!r}: use one of {', '.join(GLOBAL_WINDOWS)}")
    return key


def significant(p: np.ndarray, alpha: float = 0.05, *, fdr: bool = True) -> np.ndarray:
    """Which p-values are significant: at false discovery rate ``alpha`` across them
    (Benjamini-Hochberg, ``fdr``) or each below ``alpha`` on its own (NaN never is)."""
    if fdr:
        return benjamini_hochberg(p, alpha)
    p = np.asarray(p, dtype=float)
    return np.isfinite(p) & (p < alpha)


def benjamini_hochberg(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Which p-values are significant at false discovery rate ``alpha`` (NaN never is)."""
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    out = np.zeros(p.shape, dtype=bool)
    m = ok.sum()
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    ranked = p[ok][order]
    below = ranked <= alpha * np.arange(1, m + 1) / m
    if below.any():
        cutoff = ranked[np.flatnonzero(below).max()]
        out[ok] = p[ok] <= cutoff
    return out


def global_moran(values: pd.Series, weights: Weights) -> dict[str, float]:
    """Global Moran's I (row-standardised weights; isolates left out), analytic inference."""
    keep = ~weights.ids.isin(weights.isolates)
    graph = weights.graph.subgraph(weights.ids[keep]) if (~keep).any() else weights.graph
    y = values.reindex(graph.unique_ids).to_numpy(dtype=float)
    m = esda.Moran(y, graph.transform("r"), permutations=0)
    return {"moran_i": float(m.I), "moran_expected": float(m.EI), "moran_z": float(m.z_rand),
            "moran_p": float(m.p_rand)}


def local_moran(values: pd.Series, weights: Weights, *, permutations: int = 9999,
                alpha: float = 0.05, random_state: int = 0, fdr: bool = True
                ) -> pd.DataFrame:
    """LISA quadrants with two-sided permutation p-values and Benjamini-Hochberg (or,
    without ``fdr``, each p-value against ``alpha`` alone).

    Returns ``lisa_i``, ``lisa_z`` (its analytic z-score under conditional randomisation,
    as R's spdep ``localmoran`` gives it with ``mlvar = FALSE``), ``p_sim`` (two-sided),
    ``lisa_significant`` and ``lisa_quadrant`` (high-high, low-high, low-low, high-low,
    not significant, or no neighbours).
    """
    keep = ~weights.ids.isin(weights.isolates)
    ids = weights.ids[keep]
    graph = weights.graph.subgraph(ids) if (~keep).any() else weights.graph
    y = values.reindex(graph.unique_ids).to_numpy(dtype=float)
    with warnings.catch_warnings():
        # esda announces a change of its default alternative; the doubling below already
        # makes the test two-sided whatever that default becomes in this version
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        # the simulated values are not kept: at England's 171,372 areas they would take
        # 12.8 GiB for 9,999 permutations (p-values need only the counts)
        lisa = esda.Moran_Local(y, graph.transform("r"), permutations=permutations,
                                seed=random_state, n_jobs=1, keep_simulations=False)
    p = np.minimum(1.0, 2 * lisa.p_sim)
    sig = significant(p, alpha, fdr=fdr)
    names = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
    out = pd.DataFrame(index=weights.ids)
    out["lisa_i"] = pd.Series(lisa.Is, index=graph.unique_ids)
    with np.errstate(invalid="ignore", divide="ignore"):  # no variance: no z (NaN)
        z = (lisa.Is - lisa.EIc) / np.sqrt(lisa.VIc)
    out["lisa_z"] = pd.Series(z, index=graph.unique_ids)
    out["p_sim"] = pd.Series(p, index=graph.unique_ids)
    out["lisa_significant"] = pd.Series(sig, index=graph.unique_ids).reindex(
        out.index, fill_value=False).astype(bool)
    quadrant = pd.Series([names[q] for q in lisa.q], index=graph.unique_ids)
    out["lisa_quadrant"] = quadrant.where(out["lisa_significant"].reindex(quadrant.index),
                                          "not significant").reindex(out.index)
    out.loc[out.index.isin(weights.isolates), "lisa_quadrant"] = "no neighbours"
    return out


def lisa_over_time(series: pd.DataFrame, weights: Weights, *, alpha: float = 0.05,
                   fdr: bool = True, permutations: int = 9999, random_state: int = 0
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Each area's local Moran quadrant at each refresh, and how it moved between them.

    At each refresh, :func:`local_moran` of that refresh's values (the same test as the
    run's LISA: ``permutations``, ``alpha``, ``fdr``; the seed ``random_state`` plus the
    refresh's position). The moves between quadrants over all areas, and the test that an
    area's moves are independent of its neighbours', are giddy's LISA Markov
    (row-standardised weights, isolates left out, significant or not, as giddy counts
    them).

    Parameters
    ----------
    series : DataFrame
        A value per area (rows, codes) per refresh (columns, in date order).
    weights : Weights
        The areas' neighbours.
    alpha, fdr, permutations, random_state
        Each refresh's local Moran test.

    Returns
    -------
    tuple of (DataFrame, DataFrame, dict)
        The quadrant of each area at each refresh (as ``series``: high-high, low-high,
        low-low, high-low, not significant, or no neighbours); per area ``lisa_last`` (its
        quadrant at the last refresh), ``lisa_since`` (the refresh from which it has been
        in it without a break) and ``lisa_from`` (its quadrant before then; blank when it
        has been in it throughout); and the moves (:func:`quadrant_transitions`) with
        giddy's LISA Markov test that an area's moves are independent of its
        neighbours' (``chi2``, ``chi2_p``, ``chi2_dof``; on the values, significant or
        not).
    """
    from giddy.markov import LISA_Markov  # imports seaborn: only when asked

    def quadrant(t: int) -> pd.Series:
        return local_moran(series.iloc[:, t], weights, permutations=permutations,
                           alpha=alpha, fdr=fdr, random_state=random_state + t)[
                               "lisa_quadrant"]

    # a refresh a core (forked: each inherits the series and the weights)
    found = local_map(quadrant, list(range(series.shape[1])))
    quadrants = pd.DataFrame(dict(zip(series.columns, found, strict=True)),
                             index=weights.ids)
    q = quadrants.to_numpy(dtype=object)
    last = q[:, -1]
    start = q.shape[1] - _final_run((q == last[:, None]).astype(bool))
    before = np.where(start > 0, q[np.arange(len(q)), np.maximum(start - 1, 0)], "")
    moves = pd.DataFrame({"lisa_last": last,
                          "lisa_since": np.asarray(series.columns, dtype=object)[start],
                          "lisa_from": before}, index=weights.ids)
    keep = ~weights.ids.isin(weights.isolates)
    graph = weights.graph.subgraph(weights.ids[keep]) if (~keep).any() else weights.graph
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        markov = LISA_Markov(series.reindex(graph.unique_ids).to_numpy(dtype=float),
                             graph.transform("r").to_W(), permutations=0)
    chi2, chi2_p, dof = markov.chi_2
    summary = {**quadrant_transitions(quadrants), "chi2": round(float(chi2), 3),
               "chi2_p": float(chi2_p), "chi2_dof": int(dof)}
    return quadrants, moves, summary


def moved_into(moves: pd.DataFrame, quadrant: str = "high-high") -> pd.Series:
    """Which areas are in ``quadrant`` at the last refresh and were not at every refresh
    (:func:`lisa_over_time`'s ``lisa_last`` and ``lisa_from``; a withheld area is in no
    quadrant, and a blank ``lisa_from``, read back from a CSV as missing, is throughout).

    Parameters
    ----------
    moves : DataFrame
        Per area, ``lisa_last`` and ``lisa_from`` (``oa_hotspots.csv`` has them).
    quadrant : str
        The local Moran quadrant moved into.

    Returns
    -------
    Series of bool
        Indexed as ``moves``.

    Examples
    --------
    >>> moved_into(pd.DataFrame({"lisa_last": ["high-high", "high-high", "withheld"],
    ...                          "lisa_from": ["not significant", None, "withheld"]})).tolist()
    [True, False, False]
    """
    return (moves["lisa_last"] == quadrant) & moves["lisa_from"].fillna("").ne("")


#: The states an area's local Moran takes at a refresh, in the order of the transitions.
LISA_STATES = ["high-high", "low-high", "low-low", "high-low", "not significant"]


def quadrant_transitions(quadrants: pd.DataFrame) -> dict:
    """How areas moved between local Moran states from one refresh to the next: giddy's
    Markov counts over the areas whose every refresh has a state (:data:`LISA_STATES`;
    withheld and isolated areas left out).

    Parameters
    ----------
    quadrants : DataFrame
        The state of each area (rows) at each refresh (columns, in date order).

    Returns
    -------
    dict
        ``states`` and ``transitions`` (counts, rows the state moved from), and
        ``areas``, the areas counted.

    Examples
    --------
    >>> q = pd.DataFrame([["high-high", "high-high", "not significant"],
    ...                   ["low-low", "withheld", "low-low"]])
    >>> quadrant_transitions(q)["transitions"][0]
    [1, 0, 0, 0, 1]
    """
    from giddy.markov import Markov  # imports seaborn: only when asked

    counted = quadrants[quadrants.isin(LISA_STATES).all(axis=1)]
    if counted.shape[1] < 2 or counted.empty:
        moves = np.zeros((len(LISA_STATES), len(LISA_STATES)))
    else:
        moves = Markov(counted.to_numpy(dtype=object), classes=np.asarray(LISA_STATES),
                       summary=False).transitions
    return {"states": LISA_STATES, "transitions": moves.astype(int).tolist(),
            "areas": len(counted)}


def getis_ord_star(values: pd.Series | pd.DataFrame, weights: Weights, *,
                   time_lag: int = 0, alpha: float = 0.05, fdr: bool = True,
                   global_window: str = "entire_cube"
                   ) -> tuple[pd.Series, pd.Series] | tuple[pd.DataFrame, pd.DataFrame]:
    """Gi* z-scores and significance of a value per area (a Series indexed by area code)
    or per area and period (a DataFrame: areas as rows, periods as columns in order).

    With periods, each area's neighbourhood in period t is itself and its neighbours in
    periods t - ``time_lag`` ... t, compared with the mean and variance of the bins of
    ``global_window`` (:data:`GLOBAL_WINDOWS`; by default the whole cube's). Binary
    weights with the area itself; isolates get NaN and are never significant.
    Significance is Benjamini-Hochberg at ``alpha`` within each period (without ``fdr``,
    each p-value against ``alpha`` alone). Returns ``(z, significant)`` of the kind given,
    indexed by ``weights.ids``.
    """
    window_kind = global_window_choice(global_window)
    if window_kind == "individual_time_step":
        time_lag = 0
    frame = values.reindex(weights.ids)
    one = isinstance(frame, pd.Series)
    x = frame.to_numpy(dtype=float)
    x = x[:, None] if one else x
    periods = x.shape[1]
    w = weights.binary(self_weight=True)
    lag = np.asarray(w @ x)
    size = np.asarray(w.sum(axis=1)).ravel()
    window = np.cumsum(lag, axis=1)
    window[:, time_lag + 1:] -= window[:, :-(time_lag + 1)].copy()
    depth = np.minimum(np.arange(periods) + 1, time_lag + 1)
    count = size[:, None] * depth[None, :]
    if window_kind == "entire_cube":
        mean, sd, total = x.mean(), x.std(), np.full(periods, x.size)
    else:  # each period's own window of bins: its neighbourhood time step, or itself
        slices = [x[:, max(0, t - time_lag):t + 1] for t in range(periods)]
        mean = np.array([b.mean() for b in slices])
        sd = np.array([b.std() for b in slices])
        total = np.array([b.size for b in slices])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (window - mean * count) / (sd * np.sqrt((total * count - count**2) / (total - 1)))
    z[~np.isfinite(z)] = np.nan
    z[np.isin(weights.ids, weights.isolates)] = np.nan
    p = 2 * norm.sf(np.abs(z))
    sig = np.column_stack([significant(p[:, t], alpha, fdr=fdr) for t in range(periods)])
    ids = pd.Index(weights.ids, name=frame.index.name)
    if one:
        return (pd.Series(z[:, 0], index=ids, name="gi_z"),
                pd.Series(sig[:, 0], index=ids, name="gi_significant"))
    return (pd.DataFrame(z, index=ids, columns=frame.columns),
            pd.DataFrame(sig, index=ids, columns=frame.columns))


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall trend test per row: Kendall's tau and two-sided p (no-ties variance;
    differences at floating-point rounding level count as ties)."""
    x = np.asarray(series, dtype=float)
    periods = x.shape[1]
    i, j = np.triu_indices(periods, k=1)
    diff = x[:, j] - x[:, i]
    # differences at rounding level are ties, not a trend
    diff[np.abs(diff) <= 1e-9 * np.maximum(1.0, np.abs(x[:, i]))] = 0.0
    s = np.sign(diff).sum(axis=1)
    var = periods * (periods - 1) * (2 * periods + 5) / 18
    z = (s - np.sign(s)) / np.sqrt(var)
    tau = s / (periods * (periods - 1) / 2)
    p = 2 * norm.sf(np.abs(z))
    return tau, np.where(np.isnan(x).any(axis=1), np.nan, p)


def sen_change(series: np.ndarray) -> np.ndarray:
    """Theil-Sen change over each row: the median pairwise slope times (periods - 1)."""
    x = np.asarray(series, dtype=float)
    periods = x.shape[1]
    i, j = np.triu_indices(periods, k=1)
    return np.median((x[:, j] - x[:, i]) / (j - i), axis=1) * (periods - 1)


def classify_emerging(z: np.ndarray, significant: np.ndarray, *, trend_alpha: float = 0.05,
                      min_trend: float = 1.96, trend: tuple | None = None) -> np.ndarray:
    """Emerging hot spot category of each row of a z-series (see the module docstring).

    A trend counts when Mann-Kendall's p is below ``trend_alpha`` *and* the Theil-Sen
    change of the z-score over the series is at least ``min_trend``. ``trend``: the
    series' Mann-Kendall tau and p and Theil-Sen change when already computed.
    """
    z = np.asarray(z, dtype=float)
    sig = np.asarray(significant, dtype=bool) & np.isfinite(z)
    tau, p, change = trend or (*mann_kendall(np.nan_to_num(z)), sen_change(np.nan_to_num(z)))
    p = np.where(np.abs(change) >= min_trend, p, 1.0)
    out = np.full(len(z), "no pattern", dtype=object)
    for sign, word, other in [(1, "hot", -1), (-1, "cold", 1)]:
        spot = sig & (np.sign(z) == sign)
        opposite = sig & (np.sign(z) == other)
        share = spot.mean(axis=1)
        final = spot[:, -1]
        rising = (p < trend_alpha) & (sign * tau > 0)
        falling = (p < trend_alpha) & (sign * tau < 0)
        mostly = share >= 0.9
        run = _final_run(spot)
        earlier = spot.sum(axis=1) - run
        rules = [
            (final & mostly & rising, "intensifying"),
            (final & mostly & falling, "diminishing"),
            (final & mostly, "persistent"),
            (~final & mostly, "historical"),
            (final & opposite[:, :-1].any(axis=1), "oscillating"),
            (final & (spot.sum(axis=1) == 1), "new"),
            (final & (run >= 2) & (earlier == 0), "consecutive"),
            (final, "sporadic"),
        ]
        chosen = np.zeros(len(z), dtype=bool)
        for mask, kind in rules:
            take = mask & ~chosen & (out == "no pattern")
            out[take] = f"{kind} {word} spot"
            chosen |= mask
    return out


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending in the last column, per row."""
    reversed_ = flags[:, ::-1]
    first_false = np.where(~reversed_.any(axis=1) | reversed_.all(axis=1), flags.shape[1],
                           np.argmin(reversed_, axis=1))
    return np.where(reversed_.all(axis=1), flags.shape[1], first_false)


def beyond_deprivation(values: pd.DataFrame, deprivation: pd.Series) -> pd.DataFrame:
    """Each area's value beyond what its deprivation predicts, per period (columns).

    The deprivation gradient (value on deprivation and its square) is fitted once, on the
    first period, by Huber's robust regression, so a few extreme areas do not bend it, and
    is subtracted from every period; each period is then centred on its median. Fixing the
    gradient at the first period keeps a deprived area that worsens visible as a change;
    centring each period takes out a shift of the whole district, which Gi* cannot place.
    """
    d = deprivation.reindex(values.index).to_numpy(dtype=float)
    if np.isnan(d).any():
        raise BoundaryError("every area needs a deprivation value; supply IMD for every LSOA "
                            "or leave --imd out")
    shape = np.column_stack([d, d**2])
    first = values.iloc[:, 0].to_numpy(dtype=float)
    expected = HuberRegressor().fit(shape, first).predict(shape)
    excess = values.sub(expected, axis=0)
    return excess - excess.median()


def emerging_hotspots(values: pd.DataFrame, weights: Weights, *, time_lag: int = 1,
                      alpha: float = 0.05, trend_alpha: float = 0.05,
                      min_trend: float = 1.96, global_window: str = "entire_cube",
                      fdr: bool = True) -> pd.DataFrame:
    """Emerging hot spot analysis of a value per area (rows) per period (columns, in order),
    with ArcGIS's neighbourhood time step (``time_lag``), global window
    (:data:`GLOBAL_WINDOWS`) and false discovery rate correction (``fdr``).

    Returns one row per area: ``ehsa_category``, ``trend_tau``, ``trend_p``,
    ``trend_change`` (Theil-Sen change of the z-score over the series), the share of
    periods hot and cold, and the final period's ``gi_z``.
    """
    x = values.reindex(weights.ids)
    if x.isna().any().any():
        raise GeoRiskError("every area needs a value in every period (fill gaps first)")
    if x.shape[1] <= time_lag + 1:
        raise GeoRiskError(f"--time-lag {time_lag}: emerging hot spots need more than "
                           f"{time_lag + 1} refreshes with this time lag and the run has "
                           f"{x.shape[1]}; use a time lag of at most {x.shape[1] - 2}.")
    z, sig = getis_ord_star(x, weights, time_lag=time_lag, alpha=alpha, fdr=fdr,
                            global_window=global_window)
    if global_window_choice(global_window) == "individual_time_step":
        time_lag = 0  # every window is full
    # full windows only (module docstring)
    z, sig = z.to_numpy()[:, time_lag:], sig.to_numpy()[:, time_lag:]
    filled = np.nan_to_num(z)
    tau, p = mann_kendall(filled)
    change = sen_change(filled)
    category = classify_emerging(z, sig, trend_alpha=trend_alpha, min_trend=min_trend,
                                 trend=(tau, p, change))
    isolated = np.isin(weights.ids, weights.isolates)
    category[isolated] = "no pattern"
    return pd.DataFrame({
        "ehsa_category": category, "trend_tau": tau, "trend_p": np.where(isolated, np.nan, p),
        "trend_change": np.where(isolated, np.nan, change),
        "share_hot": (sig & (z > 0)).mean(axis=1), "share_cold": (sig & (z < 0)).mean(axis=1),
        "gi_z": z[:, -1]}, index=weights.ids)


def rising_areas(values: pd.DataFrame, se: pd.DataFrame | None, weights: Weights, *,
                 refreshes: int = RISE_REFRESHES, alpha: float = 0.05, fdr: bool = True
                 ) -> pd.DataFrame:
    """Where risk rose significantly over the last ``refreshes`` refreshes, beyond the
    district's own change: a test of each area's rise against its standard error.

    An area's neighbourhood is itself and its contiguous neighbours (as for Gi*); its
    mean at the last refresh less its mean ``refreshes`` before (the first refresh when
    the series is shorter) is its rise, less the median rise of all areas (a district-wide
    shift is no area's). The rise's standard error comes from the areas' own (``se``: the
    standard error of each area's mean per refresh, households resampled) as if the two
    refreshes were independent; they share many children, so this overstates it and the
    test errs towards calling no rise. Without standard errors, the spread of all areas'
    rises (scaled median absolute deviation) stands in. One-sided z, significant by
    Benjamini-Hochberg at ``alpha`` over the areas.

    EHSA reads a trend in the Gi* z-scores over the whole series and names it by its
    history, so an area that was already high, or dipped, is "sporadic" or "oscillating"
    however steeply it now rises; this test asks only whether it rose, and so sees a rise
    a year in.

    Parameters
    ----------
    values : DataFrame
        A value per area (rows) per refresh (columns, in order).
    se : DataFrame or None
        Its standard errors, the same shape; None when there are none.
    weights : Weights
        The areas' contiguity.
    refreshes : int
        How far back the rise is read from.
    alpha : float
        False discovery rate.

    Returns
    -------
    DataFrame
        Per area (``weights.ids``): ``rise`` (the neighbourhood's rise less the median),
        ``rise_z`` and ``rising`` (significant and positive; never for an isolate).
    """
    x = values.reindex(weights.ids).to_numpy(dtype=float)
    w = weights.binary(self_weight=True)
    size = np.asarray(w.sum(axis=1)).ravel()
    back = -1 - min(refreshes, x.shape[1] - 1)
    nb = np.asarray(w @ x[:, [back, -1]]) / size[:, None]
    rise = nb[:, 1] - nb[:, 0]
    rise = rise - np.nanmedian(rise)
    s = (np.zeros_like(x[:, [back, -1]]) if se is None else
         se.reindex(index=weights.ids, columns=values.columns).fillna(0.0)
         .to_numpy(dtype=float)[:, [back, -1]])
    nb_se = np.sqrt(np.asarray(w @ s**2)) / size[:, None]
    spread = np.sqrt((nb_se**2).sum(axis=1))
    if not (spread > 0).any():  # no standard errors: the spread of the rises
        mad = np.nanmedian(np.abs(rise - np.nanmedian(rise))) * 1.4826
        spread = np.full(len(rise), mad if mad > 0 else np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread > 0, rise / spread, 0.0)
    isolated = np.isin(weights.ids, weights.isolates)
    z[isolated | (x.shape[1] < 2)] = np.nan
    rising = significant(norm.sf(z), alpha, fdr=fdr) & (z > 0)
    return pd.DataFrame({"rise": rise, "rise_z": z, "rising": rising}, index=weights.ids)


def bagged_categories(values: pd.DataFrame, se: pd.DataFrame, weights: Weights,
                      categories: pd.Series, *, transform, draws: int = STABILITY_DRAWS,
                      random_state: int = 0, **settings) -> pd.DataFrame:
    """Each area's emerging hot spot category over resamples of households, and how sure
    it is: ``category`` (the one most resamples give; the point estimate's ``categories``
    where it ties) and ``stability`` (the share of ``draws`` resamples giving it).

    A resample redraws every area's value at every period from its sampling distribution,
    ``values`` plus ``se`` times a standard normal (``se``: the standard error of the area's
    mean when its households are resampled, so this is a bootstrap of households by the
    normal approximation), applies ``transform`` (e.g. :func:`beyond_deprivation`) and runs
    :func:`emerging_hotspots` with ``settings``. An area whose value has no standard error
    (0 or missing) is not redrawn. Taking the category most resamples give (bagging) drops
    a category that sampling noise alone made: on the family of synthetic worlds, most
    emerging hot spots outside the planted ones were unstable.
    """
    rng = np.random.default_rng(random_state)
    x = values.reindex(weights.ids)
    s = se.reindex(index=weights.ids, columns=x.columns).fillna(0.0).to_numpy()
    code = {c: i for i, c in enumerate(EHSA_CATEGORIES)}
    point = categories.reindex(weights.ids).map(code).to_numpy()

    def category_codes(noise: np.ndarray) -> np.ndarray:
        found = emerging_hotspots(transform(x + s * noise), weights, **settings)
        return found["ehsa_category"].map(code).to_numpy(dtype=np.int16)

    counts = np.zeros((len(x), len(EHSA_CATEGORIES)))
    rows = np.arange(len(x))
    for first in range(0, draws, _DRAWS_AT_ONCE):
        # a block's draws in one call: the same stream as one draw after another
        noise = rng.standard_normal((min(_DRAWS_AT_ONCE, draws - first), *x.shape))
        for codes in local_map(category_codes, list(noise)):
            counts[rows, codes] += 1
    modal = np.argmax(counts + 0.5 * (np.arange(counts.shape[1]) == point[:, None]), axis=1)
    return pd.DataFrame({"category": np.asarray(EHSA_CATEGORIES, dtype=object)[modal],
                         "stability": counts[rows, modal] / draws}, index=weights.ids)


def areas_of_concern(risk: pd.Series, known_share: pd.Series, weights: Weights, *,
                     alpha: float = 0.05, fdr: bool = True) -> pd.DataFrame:
    """Known and newly identified areas of concern.

    *Known*: a significant Gi* concentration (hot spot) of households already known to
    children's services (``known_share``: the share of households with under-fives with an
    open or recent social care or early help episode). *Newly identified*: a significant
    risk hot spot (``risk``) that is not a known area. Returns ``concern`` ("known",
    "newly identified" or "") with both Gi* z-scores, indexed like the weights.
    """
    risk_z, risk_sig = getis_ord_star(risk, weights, alpha=alpha, fdr=fdr)
    known_z, known_sig = getis_ord_star(known_share, weights, alpha=alpha, fdr=fdr)
    known = known_sig & (known_z > 0)
    new = risk_sig & (risk_z > 0) & ~known
    concern = pd.Series(np.where(known, "known", np.where(new, "newly identified", "")),
                        index=known.index)
    return pd.DataFrame({"concern": concern, "risk_gi_z": risk_z, "known_gi_z": known_z})


def concern_outlines(areas: gpd.GeoDataFrame, concern: pd.Series) -> gpd.GeoDataFrame:
    """The areas of concern as geometries: adjacent output areas of the same kind of concern
    dissolved into one outline each, with ``concern``, ``output_areas`` (how many it joins)
    and ``wards`` (their ward names, when ``areas`` has a ``wd13nm`` column)."""
    kind = concern.reindex(areas.index).fillna("")
    flagged = areas[["geometry"]].assign(concern=kind.to_numpy())[kind.to_numpy() != ""]
    parts = flagged.dissolve("concern").explode(index_parts=False).reset_index()
    members = flagged.reset_index(drop=True)
    if C.WARD_NAME in areas:
        members["ward"] = areas.loc[flagged.index, C.WARD_NAME].to_numpy()
    # an OA belongs to each outline it shares area with (a multipart OA's detached piece
    # makes an outline of its own, which still names its OA and ward)
    inside = gpd.sjoin(members, parts[["geometry"]], predicate="intersects")
    shared = shapely.area(shapely.intersection(
        members.geometry.to_numpy()[inside.index.to_numpy()],
        parts.geometry.to_numpy()[inside["index_right"].to_numpy()]))
    inside = inside[shared > 1e-6]
    parts["output_areas"] = inside.groupby("index_right").size().reindex(
        parts.index, fill_value=0).to_numpy()
    if "ward" in inside:
        parts["wards"] = inside.groupby("index_right")["ward"].agg(
            lambda w: ", ".join(sorted(set(w)))).reindex(parts.index, fill_value="").to_numpy()
    return parts
