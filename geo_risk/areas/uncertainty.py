"""How sure each published area figure is, as public health publishes it.

OHID's Fingertips gives every indicator value a 95% and a 99.8% confidence interval and
compares an area with its benchmark by whether the benchmark lies outside the area's 95%
interval (higher, similar, lower). geo-risk does the same:

- an **observed proportion** (a share of people counted) has Wilson's score interval,
  the method of ``PHEindicatormethods::phe_proportion`` and of statsmodels'
  ``proportion_confint(method="wilson")``;
- an area's **predicted risk** is the mean of its under-fives' predicted probabilities.
  Its interval comes from resampling the area's households: the standard error of a
  ratio estimator with households as clusters (siblings together), and a normal interval
  clipped to [0, 1]. It measures how much the figure rests on the few households an area
  has; the model's own uncertainty (its fitted coefficients) is not in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm

__all__ = ["LEVELS_OF_CONFIDENCE", "compare_with", "mean_interval", "ratio_se",
           "wilson_interval"]

#: The two intervals every published rate carries, as Fingertips gives them.
LEVELS_OF_CONFIDENCE = {"95": 0.95, "998": 0.998}


def wilson_interval(count: ArrayLike, n: ArrayLike, level: float = 0.95
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval of ``count`` out of ``n``.

    Parameters
    ----------
    count, n : array-like
        Successes and trials (``n`` = 0 gives a missing interval).
    level : float
        Confidence level (0.95, 0.998).

    Returns
    -------
    lower, upper : ndarray
        The interval's ends.

    Examples
    --------
    >>> low, high = wilson_interval([3, 0], [10, 20])
    >>> [round(float(v), 4) for v in [*low, *high]]
    [0.1078, 0.0, 0.6032, 0.1611]
    """
    x, m = np.asarray(count, dtype=float), np.asarray(n, dtype=float)
    z = norm.isf((1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denominator = 1 + z ** 2 / m
        centre = (p + z ** 2 / (2 * m)) / denominator
        half = z * np.sqrt(p * (1 - p) / m + z ** 2 / (4 * m ** 2)) / denominator
    return centre - half, centre + half


def ratio_se(sums: pd.Series, sizes: pd.Series, groups: pd.Series | list[pd.Series]
             ) -> pd.Series:
    """The standard error of each group's ratio ``sum(sums) / sum(sizes)`` when its
    clusters (households: ``sums`` of their children's risks, ``sizes`` children) are
    resampled; missing for a group of one cluster.

    Parameters
    ----------
    sums, sizes : Series
        Per cluster.
    groups : Series or list of Series
        Each cluster's group (area code), or several keys (refresh date and area code).

    Returns
    -------
    Series
        Indexed by group.

    Examples
    --------
    >>> se = ratio_se(pd.Series([0.5, 1.5, 0.2]), pd.Series([1, 2, 1]),
    ...               pd.Series(["A", "A", "B"]))
    >>> round(float(se["A"]), 4), bool(np.isnan(se["B"]))
    (0.1111, True)
    """
    keys = ([g.to_numpy() for g in groups] if isinstance(groups, list)
            else groups.to_numpy())
    frame = pd.DataFrame({"s": sums.to_numpy(float), "n": sizes.to_numpy(float)})
    by = frame.groupby(keys)
    ratio = by["s"].transform("sum") / by["n"].transform("sum")
    spread = ((frame["s"] - ratio * frame["n"]) ** 2).groupby(keys).sum()
    m, n = by.size(), by["n"].sum()
    return np.sqrt(m / (m - 1).where(m > 1) * spread / n ** 2)


def mean_interval(mean: ArrayLike, se: ArrayLike, level: float = 0.95
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A normal interval of a predicted share, clipped to [0, 1].

    Parameters
    ----------
    mean, se : array-like
        The share and its standard error.
    level : float
        Confidence level.

    Returns
    -------
    lower, upper : ndarray
        The interval's ends.
    """
    z = norm.isf((1 - level) / 2)
    m, s = np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
    return np.clip(m - z * s, 0, 1), np.clip(m + z * s, 0, 1)


def compare_with(benchmark: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> np.ndarray:
    """Fingertips' comparison: "higher" where the benchmark lies below the area's
    interval, "lower" where above, "similar" where inside; "" without an interval.

    Parameters
    ----------
    benchmark : array-like
        The benchmark's value (the district's), per area.
    lower, upper : array-like
        The area's 95% interval.

    Returns
    -------
    ndarray of str

    Examples
    --------
    >>> compare_with([0.3, 0.3, 0.3, 0.3], [0.35, 0.1, 0.2, np.nan],
    ...              [0.5, 0.25, 0.4, np.nan]).tolist()
    ['higher', 'lower', 'similar', '']
    """
    b = np.asarray(benchmark, dtype=float)
    low, high = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    out = np.where(b < low, "higher", np.where(b > high, "lower", "similar"))
    return np.where(np.isnan(low) | np.isnan(high) | np.isnan(b), "", out).astype(object)
