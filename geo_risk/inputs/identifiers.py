"""Identifier rules shared by the synthetic generator and pseudonymisation.

NHS numbers are 10 digits whose last digit is a modulus-11 check digit over the first
nine (weights 10 down to 2); a remainder giving 10 means the nine digits can never be
an NHS number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["is_valid_nhs_number", "nhs_check_digit", "valid_nhs_numbers"]

_WEIGHTS = np.arange(10, 1, -1)


def nhs_check_digit(first_nine: np.ndarray) -> np.ndarray:
    """Check digit for each row of nine digits; -1 where no valid check digit exists.

    Examples
    --------
    >>> int(nhs_check_digit(np.array([[9, 4, 3, 4, 7, 6, 5, 9, 1]]))[0])
    9
    """
    digits = np.atleast_2d(first_nine)
    check = (11 - (digits @ _WEIGHTS) % 11) % 11
    return np.where(check == 10, -1, check)


def valid_nhs_numbers(values: pd.Series) -> np.ndarray:
    """For each value, whether it is exactly ten digits 0-9 with a correct check digit
    (a whole column at once).

    Examples
    --------
    >>> valid_nhs_numbers(pd.Series(["9434765919", "9434765918", "943 476 5919", ""]))
    array([ True, False, False, False])
    """
    ten = values.str.fullmatch(r"[0-9]{10}").fillna(False).to_numpy(dtype=bool)
    valid = np.zeros(len(values), dtype=bool)
    if ten.any():
        text = "".join(values[ten].astype(str)).encode("ascii")
        digits = (np.frombuffer(text, dtype=np.uint8) - ord("0")).reshape(-1, 10)
        valid[ten] = nhs_check_digit(digits[:, :9]) == digits[:, 9]
    return valid


def is_valid_nhs_number(value: str) -> bool:
    """True when ``value`` is exactly ten digits with a correct check digit.

    Examples
    --------
    >>> is_valid_nhs_number("9434765919"), is_valid_nhs_number("9434765918")
    (True, False)
    """
    return bool(valid_nhs_numbers(pd.Series([value], dtype=object))[0])
