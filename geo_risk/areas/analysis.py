"""The areas stage's statistics on one run's risk: where it concentrates now, where it
is emerging over the refreshes, and which clusters services already know.

:func:`find_hotspots` returns data; the run layer writes ``oa_hotspots.csv`` and
``ward_concern.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import norm

from geo_risk import columns as C
from geo_risk.areas.hotspots import (
    EHSA_BEYOND,
    EHSA_CATEGORIES,
    EHSA_RISK,
    EMERGING,
    RISE_REFRESHES,
    STABILITY_DRAWS,
    STABLE,
    Weights,
    areas_of_concern,
    bagged_categories,
    beyond_deprivation,
    build_weights,
    emerging_hotspots,
    getis_ord_star,
    global_moran,
    global_window_choice,
    lisa_over_time,
    local_moran,
    moved_into,
    rising_areas,
)

__all__ = ["FoundHotspots", "classify_series", "ehsa_bins", "find_hotspots"]


@dataclass(frozen=True)
class FoundHotspots:
    """What :func:`find_hotspots` found."""

    table: pd.DataFrame  # per OA: LISA, Gi*, emerging category and stability, concern
    by_ward: pd.DataFrame  # OAs of known and of newly identified concern, per ward name
    summary: dict  # the hotspots section of run.json
    # the space-time cube's bins, per OA and refresh: Gi* z, p and bin (ehsa_bins) and
    # the local Moran quadrant (lisa_over_time)
    bins: pd.DataFrame | None = None


def classify_series(series: pd.DataFrame, oas: gpd.GeoDataFrame, *,
                    se: pd.DataFrame | None = None, time_lag: int = 1, alpha: float = 0.05,
                    min_trend: float = 1.96, draws: int = STABILITY_DRAWS,
                    random_state: int = 0, rise_refreshes: int = RISE_REFRESHES,
                    weights: Weights | str = "queen", global_window: str = "entire_cube",
                    fdr: bool = True) -> pd.DataFrame:
    """Which output areas are emerging hot spots, from any risk series: the run's own
    method, with the run's settings (``run.json``'s ``hotspots.settings``).

    Two signals, either of which makes an area *emerging*:

    - its emerging hot spot category (EHSA on the Gi* z-scores, in risk beyond what
      deprivation predicts when ``oas`` has ``deprivation``, otherwise in risk centred
      each refresh) is new, consecutive or intensifying, as most resamples of households
      give it, and stably so (at least :data:`~geo_risk.areas.hotspots.STABLE` of the
      ``draws`` resamples; :func:`~geo_risk.areas.hotspots.bagged_categories`, ``se``
      redraws them): an unstable category flickers from one refresh to the next, and each
      flicker would be a false alarm;
    - it is *rising*: its neighbourhood's risk rose significantly over the last
      ``rise_refreshes`` refreshes, beyond the district's change
      (:func:`~geo_risk.areas.hotspots.rising_areas`), and its risk is now above the
      district's (the Gi* z-score of its risk at the last refresh is positive: a
      low-risk area becoming less low is not becoming a hot spot). EHSA names an area by
      its history, so one already high, or with a dip, reads "sporadic" or
      "oscillating" while it rises; the rise test sees it.

    An area rising significantly is never called a cold spot: its cold-spot category
    (which only a deprivation adjustment that overshoots a deprived area can give it) is
    replaced by "no pattern".

    Parameters
    ----------
    series : DataFrame
        Mean risk per output area (rows, codes as ``oas``' index) per refresh (columns,
        in date order): the run's ``work/oa_risk_by_refresh.parquet``, or any other.
    oas : GeoDataFrame
        The output areas (EPSG:27700), with ``deprivation`` for the adjustment.
    se : DataFrame, optional
        Standard errors of ``series`` (``work/oa_risk_se_by_refresh.parquet``); without
        them no resampling and the rise test's noise is the spread of all areas' rises.
    time_lag, alpha, min_trend, global_window, fdr
        The emerging hot spot settings (:func:`~geo_risk.areas.hotspots.emerging_hotspots`):
        ArcGIS's neighbourhood time step, the false discovery rate (or, without ``fdr``,
        each test's level), the smallest trend, ArcGIS's global window
        (:data:`~geo_risk.areas.hotspots.GLOBAL_WINDOWS`); ``alpha`` and ``fdr`` also hold
        for the rise test and the current Gi*.
    draws, random_state
        Resamples of households for each category's stability, and their seed.
    rise_refreshes : int
        Refreshes over which a rise is read (4: a year).
    weights : Weights or str
        The areas' neighbours: a choice of :data:`~geo_risk.areas.hotspots.WEIGHTS`
        (``run.json``'s setting), or the :class:`Weights` already built from it.

    Returns
    -------
    DataFrame
        Per output area: ``ehsa_category``, ``trend_tau``, ``trend_p``, ``trend_change``,
        ``ehsa_stability``, ``rise``, ``rise_z``, ``rising`` and ``emerging``.

    Examples
    --------
    Scoring a saved run's series again (the held-back worlds are scored this way)::

        series = pd.read_parquet("OUT/work/oa_risk_by_refresh.parquet")
        se = pd.read_parquet("OUT/work/oa_risk_se_by_refresh.parquet")
        settings = json.loads(Path("OUT/publish/run.json").read_text())["hotspots"]["settings"]
        found = classify_series(series, load_boundaries(files), se=se, **settings)
        found["emerging"]
    """
    if isinstance(weights, str):
        weights = build_weights(oas, weights=weights)
    series = _filled(series, weights)
    transform = _measure(oas)
    settings: dict[str, Any] = {"time_lag": time_lag, "alpha": alpha, "min_trend": min_trend,
                                "global_window": global_window, "fdr": fdr}
    ehsa = emerging_hotspots(transform(series), weights, **settings)
    if draws:
        bagged = bagged_categories(
            series, se if se is not None else series * 0.0, weights, ehsa["ehsa_category"],
            transform=transform, draws=draws, random_state=random_state, **settings)
        category, stability = bagged["category"], bagged["stability"].round(2)
    else:
        category, stability = ehsa["ehsa_category"], pd.Series(float("nan"), ehsa.index)
    rise = rising_areas(series, se, weights, refreshes=rise_refreshes, alpha=alpha, fdr=fdr)
    # becoming a hot spot: a rise that leaves the area's risk at or below the district's
    # (a low-risk area less low) is not one
    now, _ = getis_ord_star(series.iloc[:, -1], weights, alpha=alpha, fdr=fdr)
    rise["rising"] &= (now > 0).to_numpy()
    category = category.where(~(rise["rising"] & category.str.endswith("cold spot")),
                              "no pattern")
    return pd.DataFrame({
        "ehsa_category": category, "trend_tau": ehsa["trend_tau"],
        "trend_p": ehsa["trend_p"], "trend_change": ehsa["trend_change"],
        "ehsa_stability": stability, "rise": rise["rise"].round(4),
        "rise_z": rise["rise_z"].round(3), "rising": rise["rising"],
        "emerging": (category.isin(EMERGING) & ~(stability < STABLE)) | rise["rising"]},
        index=weights.ids)


def _filled(series: pd.DataFrame, weights: Weights) -> pd.DataFrame:
    """A risk series on the weights' areas, an area without a value at a refresh given
    that refresh's mean (it has no under-fives then)."""
    series = series.reindex(weights.ids)
    return series.fillna(series.mean())


def _measure(oas: gpd.GeoDataFrame) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """What the emerging hot spot analysis measures of a risk series: risk beyond what
    deprivation predicts where the areas have it, otherwise risk centred each refresh."""
    if C.DEPRIVATION in oas:
        return lambda x: beyond_deprivation(x, oas[C.DEPRIVATION])
    return lambda x: x - x.median()


def ehsa_bins(series: pd.DataFrame, oas: gpd.GeoDataFrame, weights: Weights, *,
              time_lag: int = 1, alpha: float = 0.05, fdr: bool = True,
              global_window: str = "entire_cube") -> pd.DataFrame:
    """The bins of the space-time cube the emerging hot spot categories are read from:
    per output area and refresh, the Gi* z-score of what :func:`classify_series`
    measures, its two-sided p-value and whether the bin is a hot spot (1), a cold spot
    (-1) or neither (0), with the same settings. The first ``time_lag`` refreshes give
    history only (their windows are shallower): missing, as the categories do not use
    them.

    Parameters
    ----------
    series, oas, weights
        As :func:`classify_series` takes them.
    time_lag, alpha, fdr, global_window
        The emerging hot spot settings.

    Returns
    -------
    DataFrame
        Indexed by output area and refresh: ``hs_z``, ``hs_p`` and ``hs_bin`` (ArcGIS's
        HS_Z, HS_PVALUE and HS_BIN).
    """
    z, sig = getis_ord_star(_measure(oas)(_filled(series, weights)), weights,
                            time_lag=time_lag, alpha=alpha, fdr=fdr,
                            global_window=global_window)
    history = 0 if global_window_choice(global_window) == "individual_time_step" else time_lag
    z.iloc[:, :history] = np.nan  # a NaN z is never significant: bin 0
    kind = (np.sign(z).fillna(0) * sig).astype(int)
    p = pd.DataFrame(2 * norm.sf(z.abs()), index=z.index, columns=z.columns)
    frame = pd.DataFrame({"hs_z": z.stack(), "hs_p": p.stack(), "hs_bin": kind.stack()})
    return frame.rename_axis([C.OA, "refresh"])


def find_hotspots(oas: gpd.GeoDataFrame, current: pd.DataFrame, by_refresh: pd.DataFrame,
                  *, time_lag: int = 1, alpha: float = 0.05, min_trend: float = 1.96,
                  permutations: int = 9999, random_state: int = 0,
                  se: pd.DataFrame | None = None, draws: int = STABILITY_DRAWS,
                  rise_refreshes: int = RISE_REFRESHES, weights: str = "queen",
                  global_window: str = "entire_cube", fdr: bool = True) -> FoundHotspots:
    """Moran's I, LISA, Gi*, emerging hot spots and areas of concern on one run's risk.

    Emerging hot spots are found in risk beyond what deprivation predicts when ``oas`` has
    deprivation (the deprived areas are hot spots of risk throughout, which the LISA and
    Gi* of the current risk already show; what changes beyond them is what an emerging
    hot spot analysis is for), otherwise in risk itself, centred each refresh.

    Parameters
    ----------
    oas : GeoDataFrame
        Output areas in EPSG:27700, indexed by OA code, with ward names and (optionally)
        ``deprivation``.
    current : DataFrame
        Per OA, ``mean_risk`` and ``known_share`` at the reference date.
    by_refresh : DataFrame
        Mean risk per OA (rows) per refresh (columns, in date order).
    time_lag, alpha, min_trend, global_window, fdr
        The emerging hot spot settings (:func:`classify_series`); ``alpha`` and ``fdr``
        hold for every test here (LISA, Gi*, areas of concern).
    permutations : int
        LISA permutations.
    random_state : int
        Seed of the LISA permutations and the stability draws.
    se : DataFrame, optional
        Standard error of each refresh's mean (households resampled); none: no spread.
    draws : int
        Stability draws of each area's category.
    rise_refreshes : int
        Refreshes over which a rise is read (:func:`classify_series`).
    weights : str
        How each area's neighbours are chosen, for every statistic here
        (:data:`~geo_risk.areas.hotspots.WEIGHTS`).

    Returns
    -------
    FoundHotspots
        The per-OA table, OAs of each kind of concern per ward, and the ``hotspots``
        section of ``run.json``.
    """
    neighbours = build_weights(oas, weights=weights)
    global_window = global_window_choice(global_window)
    risk = current["mean_risk"].fillna(current["mean_risk"].mean())
    moran = global_moran(risk, neighbours)
    lisa = local_moran(risk, neighbours, permutations=permutations, alpha=alpha,
                       random_state=random_state, fdr=fdr)
    gi_z, gi_sig = getis_ord_star(risk, neighbours, alpha=alpha, fdr=fdr)
    quadrants, moves, lisa_moves = lisa_over_time(
        _filled(by_refresh, neighbours), neighbours, alpha=alpha, fdr=fdr,
        permutations=permutations, random_state=random_state)
    measure = EHSA_BEYOND if C.DEPRIVATION in oas else EHSA_RISK
    settings: dict[str, Any] = {"time_lag": time_lag, "alpha": alpha, "min_trend": min_trend,
                                "draws": draws, "random_state": random_state,
                                "rise_refreshes": rise_refreshes, "weights": weights,
                                "global_window": global_window, "fdr": bool(fdr)}
    ehsa = classify_series(by_refresh, oas, se=se, **{**settings, "weights": neighbours})
    stability = ehsa["ehsa_stability"]
    concern = areas_of_concern(risk, current["known_share"].fillna(0.0), neighbours,
                               alpha=alpha, fdr=fdr)
    hotspots = lisa[["lisa_quadrant", "p_sim"]].join(moves).assign(
        gi_z=gi_z, gi_significant=gi_sig, ehsa_category=ehsa["ehsa_category"],
        trend_tau=ehsa["trend_tau"], trend_p=ehsa["trend_p"],
        trend_change=ehsa["trend_change"], ehsa_stability=stability, rise=ehsa["rise"],
        rise_z=ehsa["rise_z"], rising=ehsa["rising"], emerging=ehsa["emerging"],
        concern=concern["concern"]).rename_axis(C.OA)
    ward_of = oas[C.WARD_NAME].reindex(concern.index)
    by_ward = pd.crosstab(ward_of, concern["concern"]).reindex(
        columns=["known", "newly identified"], fill_value=0)
    counts = ehsa["ehsa_category"].value_counts()
    summary = {
        **{k: round(v, 6) for k, v in moran.items()},
        "lisa": lisa["lisa_quadrant"].value_counts().to_dict(),
        "lisa_over_time": {**lisa_moves,
                           "moved_into_high_high": int(moved_into(moves).sum())},
        "gi_star_hot": int((gi_sig & (gi_z > 0)).sum()),
        "gi_star_cold": int((gi_sig & (gi_z < 0)).sum()),
        "emerging_hot_spots": {c: int(counts.get(c, 0)) for c in EHSA_CATEGORIES},
        "refreshes": by_refresh.shape[1],
        "emerging_measure": measure,
        "time_lag": time_lag, "alpha": alpha, "min_trend": min_trend,
        "stability_draws": draws, "stable_share": STABLE,
        "settings": settings,
        "rising": int(ehsa["rising"].sum()),
        "emerging": int(ehsa["emerging"].sum()),
        "emerging_stable": int(((stability >= STABLE) & ehsa["ehsa_category"].isin(
            EMERGING)).sum()),
        "permutations": permutations,
        **neighbours.report(),
        "known_concern_oas": int((concern["concern"] == "known").sum()),
        "new_concern_oas": int((concern["concern"] == "newly identified").sum()),
        "wards_most_newly_identified": by_ward["newly identified"].sort_values(
            ascending=False).head(3).index.tolist(),
    }
    bins = ehsa_bins(by_refresh, oas, neighbours, time_lag=time_lag, alpha=alpha, fdr=fdr,
                     global_window=global_window).join(
        quadrants.rename_axis(C.OA).stack().rename("lisa_quadrant").rename_axis(
            [C.OA, "refresh"]))
    return FoundHotspots(hotspots, by_ward, summary, bins)

