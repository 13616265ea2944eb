"""Which geography a run uses: census vintage of output areas and LSOAs, ward and district
vintage, deprivation index and measure, and how wards were looked up.

Inside geo-risk area columns have vintage-free names (``oa_code``, ``ward_name``, ...; see
:mod:`geo_risk.columns`). What a run publishes carries the vintage it was given, as the ONS
names it: ``oa11cd`` or ``oa21cd``, ``wd13nm`` or ``wd25nm``, ``lad24cd``. A
:class:`Vintage` is read from the input files' own headers (:func:`read_code_columns`),
recorded in ``run_info``, the maps and the report, and renames frames on their way out
(:meth:`Vintage.publish`) and back in (:meth:`Vintage.internal`).

Deprivation comes from the English Indices of Deprivation of the LSOAs' census: IMD 2019
on 2011 LSOAs (32,844 in England), IoD 2025 on 2021 LSOAs (33,755). A rank is a share of
the LSOAs of its own edition, never of a fixed number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from geo_risk import columns as C

__all__ = ["DEPRIVATION_EDITIONS", "MEASURES", "VINTAGE_2011", "Vintage", "read_code_columns"]

#: Census year of the LSOAs -> (edition of the English Indices of Deprivation on them,
#: number of LSOAs in England it ranks).
DEPRIVATION_EDITIONS = {2011: ("IMD 2019", 32_844), 2021: ("IoD 2025", 33_755)}

#: Area deprivation measures geo-risk can use -> how the report names them.
MEASURES = {"imd": "Index of Multiple Deprivation",
            "idaci": "Income Deprivation Affecting Children Index"}

_CODE = re.compile(r"^(oa|lsoa|wd|lad)(\d{2})(cd|nm)$")
_INTERNAL = {("oa", "cd"): C.OA, ("lsoa", "cd"): C.LSOA, ("lsoa", "nm"): C.LSOA_NAME,
             ("wd", "cd"): C.WARD, ("wd", "nm"): C.WARD_NAME, ("lad", "cd"): C.LAD,
             ("lad", "nm"): C.LAD_NAME}


def _year(two_digits: str) -> int:
    return 2000 + int(two_digits)


def read_code_columns(columns: Iterable[str]) -> dict[str, tuple[str, int]]:
    """The ONS area-code columns among ``columns``: internal name -> (header, year).
    Parameters
    ----------
    columns : iterable of str
        Column headers as a file has them.

    Returns
    -------
    dict of str to (str, int)
        Internal area column -> (the header, the year of its codes).


    >>> read_code_columns(["OA21CD", "LSOA21CD", "WD25CD", "WD25NM", "other"])
    {'oa_code': ('OA21CD', 2021), 'lsoa_code': ('LSOA21CD', 2021), 'ward_code': ('WD25CD', 2025), 'ward_name': ('WD25NM', 2025)}
    """  # noqa: E501
    found: dict[str, tuple[str, int]] = {}
    for header in columns:
        match = _CODE.match(str(header).strip().lower())
        if match and (match[1], match[3]) in _INTERNAL:
            found.setdefault(_INTERNAL[match[1], match[3]], (str(header), _year(match[2])))
    return found


@dataclass(frozen=True)
class Vintage:
    """The geography of one run.

    ``census`` is the year of the output areas and LSOAs (2011 or 2021); ``ward`` and
    ``lad`` are the years of the ward and district codes (e.g. 2013, 2025); ``ward_level``
    says whether wards came from a lookup by output area (``"oa"``) or by LSOA
    (``"lsoa"``, ONS's best fit); ``measure`` is the deprivation measure (``"imd"`` or
    ``"idaci"``) and ``deprivation`` its edition (``"IMD 2019"``, ``"IoD 2025"``), None
    without a deprivation file.
    """

    census: int = 2011
    ward: int = 2013
    lad: int = 2011
    ward_level: str = "oa"
    deprivation: str | None = "IMD 2019"
    measure: str = "imd"

    @property
    def fields(self) -> dict[str, str]:
        """Internal column -> published field name of this vintage.

        >>> Vintage(census=2021, ward=2025, lad=2025).fields[C.WARD_NAME]
        'wd25nm'
        """
        c, w, d = (f"{y % 100:02d}" for y in (self.census, self.ward, self.lad))
        return {C.OA: f"oa{c}cd", C.LSOA: f"lsoa{c}cd", C.LSOA_NAME: f"lsoa{c}nm",
                C.WARD: f"wd{w}cd", C.WARD_NAME: f"wd{w}nm", C.LAD: f"lad{d}cd",
                C.LAD_NAME: f"lad{d}nm"}

    @property
    def england_lsoas(self) -> int:
        """How many LSOAs the deprivation edition of this census ranks."""
        return DEPRIVATION_EDITIONS[self.census][1]

    def publish(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its area columns and index named as this vintage publishes them."""
        out = frame.rename(columns=self.fields)
        out.index = out.index.set_names([self.fields.get(n, n) for n in out.index.names])
        return out

    def internal(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The inverse of :meth:`publish`, for a published table read back."""
        back = {v: k for k, v in self.fields.items()}
        out = frame.rename(columns=back)
        out.index = out.index.set_names([back.get(n, n) for n in out.index.names])
        return out

    def describe(self) -> str:
        """The geography in words, for maps, report and ``run_info``.

        >>> Vintage().describe()
        'Output areas and LSOAs 2011, wards 2013; deprivation IMD 2019'
        >>> Vintage(2021, 2025, 2025, "lsoa", "IoD 2025", "idaci").describe()
        'Output areas and LSOAs 2021, wards 2025 (by LSOA, best fit); deprivation IoD 2025 (IDACI)'
        """
        wards = f"wards {self.ward}" + (" (by LSOA, best fit)" if self.ward_level == "lsoa"
                                        else "")
        text = f"Output areas and LSOAs {self.census}, {wards}"
        if self.deprivation:
            text += f"; deprivation {self.deprivation}"
            if self.measure != "imd":
                text += f" ({self.measure.upper()})"
        return text


#: The embedded synthetic town's and Basildon's geography (2011 census, 2013 wards,
#: IMD 2019); the default of functions that publish.
VINTAGE_2011 = Vintage()
