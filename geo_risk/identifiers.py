"""Identifier rules shared by the synthetic generator and pseudonymisation.

NHS numbers are 10 digits whose last digit is a modulus-11 check digit over the first
nine (weights 10 down to 2); a remainder giving 10 means the nine digits can never be
an NHS number.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_valid_nhs_number", "nhs_check_digit"]

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


def is_valid_nhs_number(value: str) -> bool:
    """True when ``value`` is exactly ten digits with a correct check digit.

    Examples
    --------
    >>> is_valid_nhs_number("9434765919"), is_valid_nhs_number("9434765918")
    (True, False)
    """
    if len(value) != 10 or not value.isdigit():
        return False
    digits = np.frombuffer(value.encode(), dtype=np.uint8) - ord("0")
    return int(nhs_check_digit(digits[:9])[0]) == int(digits[9])
