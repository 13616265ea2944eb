"""NHS number check digits (generated numbers and the validator agree)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_risk.inputs.identifiers import is_valid_nhs_number
from geo_risk.synth.extracts import nhs_numbers


@settings(deadline=None)  # a busy CI machine took 302 ms over the default 200 ms
@given(st.integers(0, 2**32 - 1))
def test_generated_numbers_are_valid_distinct_and_in_the_test_range(seed):
    numbers = nhs_numbers(np.random.default_rng(seed), 50)
    assert len(set(numbers)) == 50
    assert all(n.startswith("999") and is_valid_nhs_number(n) for n in numbers)


@given(st.integers(0, 2**32 - 1), st.integers(1, 9))
def test_a_changed_check_digit_is_invalid(seed, shift):
    number = nhs_numbers(np.random.default_rng(seed), 1)[0]
    changed = number[:9] + str((int(number[9]) + shift) % 10)
    assert not is_valid_nhs_number(changed)


def test_rejects_malformed():
    assert not is_valid_nhs_number("943 476 5919")
    assert not is_valid_nhs_number("94347659")
    assert not is_valid_nhs_number("9.43477E+09")
