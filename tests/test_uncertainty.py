"""Intervals as public health publishes them, checked against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from geo_risk.areas import compare_with, mean_interval, ratio_se, wilson_interval


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from([0.95, 0.998]))
def test_wilson_matches_statsmodels(count_n, level):
    count, n = count_n
    low, high = wilson_interval(count, n, level)
    ref_low, ref_high = proportion_confint(count, n, alpha=1 - level, method="wilson")
    assert float(low) == pytest.approx(ref_low, abs=1e-12)
    assert float(high) == pytest.approx(ref_high, abs=1e-12)


def test_higher_similar_or_lower_on_constructed_cases():
    mean = np.array([0.40, 0.20, 0.31, 0.30])
    se = np.array([0.02, 0.02, 0.02, np.nan])
    low, high = mean_interval(mean, se, 0.95)
    assert compare_with(np.full(4, 0.30), low, high).tolist() == [
        "higher", "lower", "similar", ""]
    # on the edge: 0.40 - 1.96 * 0.052 = 0.298, so 0.30 is inside: similar; with 0.051
    # the interval starts at 0.30004, above the district: higher
    low, high = mean_interval([0.40, 0.40], [0.052, 0.051], 0.95)
    assert compare_with([0.30, 0.30], low, high).tolist() == ["similar", "higher"]
    low95, high95 = mean_interval(mean[:3], se[:3], 0.95)
    low998, high998 = mean_interval(mean[:3], se[:3], 0.998)
    assert (low998 < low95).all() and (high998 > high95).all()  # the wider, as it should


def test_the_ratio_estimator_resamples_households():
    """Siblings share a household: a household of two children moves the area as one."""
    rng = np.random.default_rng(0)
    homes = pd.DataFrame({"n": rng.integers(1, 4, 400)})
    homes["s"] = homes["n"] * rng.uniform(0.1, 0.6, 400)
    homes["area"] = np.repeat(["A", "B"], 200)
    se = ratio_se(homes["s"], homes["n"], homes["area"])
    draws = []
    part = homes[homes["area"] == "A"]
    for _ in range(2000):
        pick = part.sample(len(part), replace=True, random_state=rng)
        draws.append(pick["s"].sum() / pick["n"].sum())
    assert se["A"] == pytest.approx(np.std(draws), rel=0.1)
