"""The pieces that make a county quicker without changing a figure: work on this
machine's cores, Arrow key lookups, the exact calibration slope and the synthetic world
drawn a block of households at a time."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from geo_risk.cores import local_map
from geo_risk.inputs.link import key_positions
from geo_risk.model.estimator import calibration_slope
from geo_risk.synth import extracts
from geo_risk.synth.population import ByArea
from geo_risk.synth.world import make_world


def test_local_map_keeps_order_and_uses_other_processes():
    here = os.getpid()
    done = local_map(lambda i: (i * i, os.getpid()), range(7))
    assert [v for v, _ in done] == [i * i for i in range(7)]
    if (os.cpu_count() or 1) > 1:
        assert {pid for _, pid in done} - {here}  # forked: the work ran elsewhere


def test_key_positions_finds_each_key_and_marks_the_missing():
    values = pd.Series(["b", "a", "c"], dtype="str")
    keys = pd.Series(["c", "x", "a", "a", None], dtype="str")
    assert key_positions(keys, values).tolist() == [2, -1, 1, 1, -1]
    assert key_positions(np.array(["a"], dtype=object), pd.Index(["q", "a"])).tolist() == [1]


def test_calibration_slope_is_the_maximum_likelihood_fit():
    rng = np.random.default_rng(3)
    p = rng.beta(2, 5, 4000)
    y = rng.random(4000) < expit(0.8 * logit(p) - 0.1)
    fitted = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(logit(p)[:, None], y)
    assert abs(calibration_slope(y, p) - fitted.coef_[0, 0]) < 1e-5
    assert 0.6 < calibration_slope(y, p) < 1.0


def test_by_area_reads_as_the_whole_array():
    values = np.arange(12.0).reshape(4, 3)
    area = np.array([2, 0, 0, 3, 1])
    whole = values[area]
    by_area = ByArea(values, area)
    assert np.array_equal(by_area[:, 1], whole[:, 1])
    assert np.array_equal(by_area[1:4], whole[1:4])
    h, q = np.array([4, 0, 3]), np.array([2, 0, 1])
    assert np.array_equal(by_area[h, q], whole[h, q])


def _fingerprint(world) -> dict[str, str]:
    return {name: hashlib.sha256(pd.util.hash_pandas_object(table, index=True)
                                 .to_numpy().tobytes()).hexdigest()
            for name, table in world.extracts.items()}


def test_the_world_does_not_depend_on_the_block_size(monkeypatch):
    whole = _fingerprint(make_world(seed=2, periods=4))
    monkeypatch.setattr(extracts, "_BLOCK", 9_999)  # eight blocks of the town's households
    assert _fingerprint(make_world(seed=2, periods=4)) == whole


def test_the_world_is_the_same_drawn_in_one_process(monkeypatch):
    """The extracts of events are drawn on the cores, each from its own random stream."""
    on_cores = make_world(seed=3, periods=4)
    monkeypatch.setattr(extracts, "local_map", lambda fn, items: [fn(i) for i in items])
    here = make_world(seed=3, periods=4)
    assert _fingerprint(here) == _fingerprint(on_cores)
    assert list(here.extracts) == list(on_cores.extracts)


def test_hmac_of_a_large_batch_is_the_same_on_the_cores():
    from geo_risk.inputs.pseudonymise import Key, hmac_hex

    key = Key(bytes(range(32)))
    values = [str(100_000_000_000 + 7 * i) for i in range(400_003)]
    assert hmac_hex(values, key, prefix="uprn:", workers=2).equals(
        hmac_hex(values, key, prefix="uprn:", workers=1))


def test_waiting_openmp_threads_sleep_unless_told_otherwise():
    import subprocess
    import sys

    def policy(**env) -> str:
        base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        code = "import geo_risk, os; print(os.environ['OMP_WAIT_POLICY'])"
        return subprocess.run([sys.executable, "-c", code], env={**base, **env}, check=True,
                              capture_output=True, text=True).stdout.strip()

    assert policy() == "PASSIVE"
    assert policy(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
