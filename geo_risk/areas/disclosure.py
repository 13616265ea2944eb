"""From scored households to areas, and statistical disclosure control for publication.

:func:`aggregate_areas` sums the scored children and households of each output area
(children under five, households, expected number not school ready = the sum of the
children's probabilities, flagged, flagged-unknown and known households) and rolls them
up to LSOAs, wards and the district; mean risk is expected / children, and an
empirical-Bayes smoothed rate (esda) pulls small areas towards the overall rate.

:func:`disclose` applies UK statistical disclosure control to a table of counts before
anything is published:

- primary suppression: a count from 1 to ``withhold_up_to`` (7) is withheld;
- secondary suppression: where a parent area (the OA's LSOA, the LSOA's or ward's
  district) has exactly one withheld child area, the smallest other child area is
  withheld too, so the withheld value cannot be recovered from the parent's total;
- every other count is rounded to the nearest ``rounding`` (5);
- rates computed from a withheld count of children are withheld with it.

Withheld values are missing (shown as ``c``, with a legend, never ``-99``); the release
log says what was withheld and why, without the values. :class:`Disclosure` holds the
rules; every published count in geo-risk goes through one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import ConfigError
from geo_risk._pysal import esda
from geo_risk.areas.uncertainty import (
    LEVELS_OF_CONFIDENCE,
    compare_with,
    mean_interval,
    ratio_se,
)
from geo_risk.columns import HOUSEHOLD

__all__ = ["COUNT_COLUMNS", "LEVELS", "OWN_VALUE_FIELDS", "SAFE", "Disclosure",
           "aggregate_areas", "disclose", "disclose_hotspots", "published_summary"]

log = logging.getLogger(__name__)

COUNT_COLUMNS = ["children_under5", "households", "expected_not_ready", "flagged_households",
                 "flagged_unknown", "known_households"]
#: Each area's predicted risk with its 95% and 99.8% intervals (households resampled:
#: :mod:`geo_risk.areas.uncertainty`), and the empirical-Bayes rate for comparison.
INTERVAL_COLUMNS = [f"mean_risk_{end}{level}" for level in LEVELS_OF_CONFIDENCE
                    for end in ["low", "high"]]
RATE_COLUMNS = ["mean_risk", *INTERVAL_COLUMNS, "eb_risk"]
#: Higher, similar or lower than the district (a district: than the whole area), by
#: whether the benchmark lies outside the area's 95% interval.
COMPARED = "vs_district"
#: Level -> (area code column, name column, parent level used for secondary suppression).
LEVELS = {
    "oa": (C.OA, None, "lsoa"),
    "lsoa": (C.LSOA, C.LSOA_NAME, "district"),
    "ward": (C.WARD, C.WARD_NAME, "district"),
    "district": (C.LAD, C.LAD_NAME, None),
}


def aggregate_areas(children: pd.DataFrame, households: pd.DataFrame,
                    oas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Counts and rates per output area, LSOA, ward and district (unpublished).

    Parameters
    ----------
    children
        Scored children: ``household_key`` and ``p``.
    households
        Scored households: ``household_key``, ``oa11cd``, ``flagged``, ``known``.
    oas
        Output areas indexed by ``oa11cd`` with the lookup columns (every OA is kept,
        with zeros where nobody was scored).

    Returns
    -------
    dict of str to DataFrame
        ``oa``, ``lsoa``, ``ward`` and ``district`` tables, indexed by area code: exact
        counts (children, households, flagged, known, expected not ready) and rates.
    """
    homes = households.set_index(HOUSEHOLD)
    kids = children.assign(oa=homes[C.OA].reindex(children[HOUSEHOLD]).to_numpy())
    per_oa = pd.DataFrame(index=oas.index)
    per_oa["children_under5"] = kids.groupby("oa").size()
    per_oa["expected_not_ready"] = kids.groupby("oa")["p"].sum()
    by_oa = homes.groupby(C.OA)
    per_oa["households"] = by_oa.size()
    per_oa["flagged_households"] = by_oa["flagged"].sum()
    per_oa["flagged_unknown"] = (homes["flagged"] & ~homes["known"]).groupby(homes[C.OA]).sum()
    per_oa["known_households"] = by_oa["known"].sum()
    per_oa = per_oa.fillna(0.0)[COUNT_COLUMNS]
    lookup = oas.drop(columns="geometry", errors="ignore")
    # each household's under-fives: their summed risk and how many, and its output area
    per_home = kids.groupby(HOUSEHOLD).agg(s=("p", "sum"), n=("p", "size"), oa=("oa", "first"))

    out = {}
    for level, (code, name, _) in LEVELS.items():
        if level == "oa":
            table = per_oa.copy()
        else:
            if code not in lookup:
                continue
            keys = lookup[code].reindex(per_oa.index)
            table = per_oa.groupby(keys.to_numpy()).sum()
            table.index.name = code
            if name and name in lookup:
                table.insert(0, name, lookup.groupby(code)[name].first())
        table["mean_risk"] = table["expected_not_ready"] / table["children_under5"].where(
            table["children_under5"] > 0)
        area_of = (per_home["oa"] if level == "oa" else
                   lookup[code].reindex(per_home["oa"].to_numpy()).set_axis(per_home.index))
        se = ratio_se(per_home["s"], per_home["n"], area_of).reindex(table.index)
        for label, confidence in LEVELS_OF_CONFIDENCE.items():
            low, high = mean_interval(table["mean_risk"], se, confidence)
            table[f"mean_risk_low{label}"], table[f"mean_risk_high{label}"] = low, high
        populated = (table["children_under5"] > 0).to_numpy()
        table["eb_risk"] = table["mean_risk"]
        if populated.sum() > 1:
            eb = esda.smoothing.Empirical_Bayes(
                table["expected_not_ready"].to_numpy()[populated, None],
                table["children_under5"].to_numpy()[populated, None])
            table.loc[populated, "eb_risk"] = np.asarray(eb.r).ravel()
        out[level] = table
    _compare_with_districts(out, lookup)
    return out


def _compare_with_districts(tables: dict[str, pd.DataFrame], lookup: pd.DataFrame) -> None:
    """Each area's :data:`COMPARED`: against its district's predicted risk, or (without
    districts, and for the districts themselves) against the whole area's."""
    whole = tables["oa"]["expected_not_ready"].sum() / max(
        tables["oa"]["children_under5"].sum(), 1)
    district = tables.get("district")
    for level, table in tables.items():
        code = LEVELS[level][0]
        if district is None or level == "district" or C.LAD not in lookup:
            benchmark = np.full(len(table), whole)
        else:
            lad = (lookup[C.LAD] if level == "oa" else lookup.groupby(code)[C.LAD].first())
            benchmark = district["mean_risk"].reindex(lad.reindex(table.index)).to_numpy()
        table[COMPARED] = compare_with(benchmark, table["mean_risk_low95"],
                                       table["mean_risk_high95"])


@dataclass(frozen=True)
class Disclosure:
    """The disclosure rules of a run: counts from 1 to ``withhold_up_to`` are withheld
    (``c``), every other count is rounded to the nearest ``rounding``. Rules weaker than
    the safe ones (7 and 5) need a ``reason``, printed in the report and ``run_info``.

    >>> rules = Disclosure()
    >>> rules.value(3), rules.value(509), rules.value(0), rules.count(10_171)
    ('c', 510, 0, '10,170')
    """

    withhold_up_to: int = 7
    rounding: int = 5
    reason: str | None = None

    #: The documented safe rules.
    SAFE_WITHHOLD, SAFE_ROUNDING = 7, 5

    def value(self, n: float) -> int | str:
        """One count as published: ``"c"`` or a whole number rounded to ``rounding``."""
        n = round(float(n))
        if 1 <= n <= self.withhold_up_to:
            return "c"
        return int(np.floor(n / self.rounding + 0.5) * self.rounding)

    def count(self, n: float) -> str:
        """:meth:`value` as text, with thousands separators."""
        shown = self.value(n)
        return shown if shown == "c" else f"{shown:,}"

    def rates_among(self, n: float) -> bool:
        """Whether rates among ``n`` people may be published: among a handful (1 to
        ``withhold_up_to``) a rate is a count (100% of three children is three)."""
        return not 1 <= round(float(n)) <= self.withhold_up_to

    def reveals(self, *counts: float) -> bool:
        """Whether any of ``counts`` is one the rules withhold (1 to ``withhold_up_to``):
        a rate published beside the denominator it came from gives that count back."""
        return any(1 <= round(float(n)) <= self.withhold_up_to for n in counts)

    def rates_of_flagged(self, k: float, precision: float) -> bool:
        """Whether precision and recall among ``k`` flagged people may be published: not
        among a handful, and neither the flagged who had the outcome (``precision * k``)
        nor those who did not is a withheld count.

        >>> SAFE.rates_of_flagged(3, 1.0), SAFE.rates_of_flagged(100, 0.97)
        (False, False)
        >>> SAFE.rates_of_flagged(100, 0.85)
        True
        """
        if not self.rates_among(k):
            return False
        found = round(float(precision) * float(k)) if pd.notna(precision) else 0
        return not self.reveals(found, float(k) - found)

    @property
    def weaker(self) -> bool:
        return self.withhold_up_to < self.SAFE_WITHHOLD or self.rounding < self.SAFE_ROUNDING

    def check(self, where: str) -> None:
        """Refuse rules weaker than the safe ones unless a reason is given.

        >>> Disclosure(10, 5).check("run.toml")
        >>> Disclosure(0, 1).check("run.toml")
        Traceback (most recent call last):
        ...
        geo_risk._errors.ConfigError: run.toml: [disclosure] withhold_up_to = 0, rounding = 1 is ...
        """
        if not self.weaker:
            return
        if self.reason and self.reason.strip():
            log.warning("disclosure control weaker than the safe rules (withhold up to %d, "
                        "rounding %d): %s", self.withhold_up_to, self.rounding,
                        self.reason.strip())
            return
        raise ConfigError(
            f"{where}: [disclosure] withhold_up_to = {self.withhold_up_to}, rounding = "
            f"{self.rounding} is weaker than the safe rules (counts 1-{self.SAFE_WITHHOLD} "
            f"withheld, others rounded to {self.SAFE_ROUNDING}), so published figures could "
            f"identify a household. Use withhold_up_to >= {self.SAFE_WITHHOLD} and rounding "
            f">= {self.SAFE_ROUNDING}, or give [disclosure] reason = \"...\" (printed in the "
            "report and run_info).")

    @property
    def withheld_range(self) -> str:
        """The counts withheld, in words: ``"1 to 7"``."""
        return f"1 to {self.withhold_up_to}"

    def fewer_than(self, what: str) -> str:
        """Why a figure among few is withheld: ``"fewer than 8 under-fives"``."""
        return f"fewer than {self.withhold_up_to + 1} {what}"

    def note(self) -> str:
        """What ``c`` means, for every legend and table.

        >>> Disclosure(10, 5).note()
        'c = withheld to protect privacy (a count from 1 to 10, or a count that would reveal one)'
        """
        return (f"c = withheld to protect privacy (a count from {self.withheld_range}, or a "
                "count that would reveal one)")

    def rule(self) -> str:
        """The rules in a clause: ``"counts rounded to 5, 1 to 7 withheld (c)"``."""
        return f"counts rounded to {self.rounding}, {self.withheld_range} withheld (c)"

    def describe(self) -> str:
        """The rules in words, for ``run_info`` and the report."""
        text = (f"counts 1-{self.withhold_up_to} withheld (NULL, shown as c) with secondary "
                f"suppression; other counts rounded to the nearest {self.rounding}")
        if self.weaker and self.reason:
            text += (f" (weaker than the safe rules of 1-{self.SAFE_WITHHOLD} and "
                     f"{self.SAFE_ROUNDING}, because: {self.reason.strip()})")
        return text


SAFE = Disclosure()


def _round(values: pd.Series, rounding: int) -> pd.Series:
    return (np.floor(values / rounding + 0.5) * rounding).astype("Int64")


def _secondary(primary: np.ndarray, raw: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The cells withheld so that a group's one withheld cell cannot be found from its
    total: in each group of two or more with exactly one primary cell, the smallest of
    the others (a non-zero count before a zero; the first where equal)."""
    by = pd.DataFrame({"group": groups, "primary": primary, "zero": raw == 0, "raw": raw})
    group = by.groupby("group", sort=False)["primary"]
    candidates = by[(group.transform("sum") == 1) & (group.transform("size") > 1) & ~primary]
    first = candidates.sort_values(["zero", "raw"], kind="stable").groupby(
        "group", sort=False).head(1)
    out = np.zeros(len(raw), dtype=bool)
    out[first.index.to_numpy()] = True
    return out


def disclose(tables: dict[str, pd.DataFrame], oas: pd.DataFrame, rules: Disclosure = SAFE
             ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Apply disclosure control to every level; return the safe tables and a release log.

    Counts are published as nullable integers (missing = withheld); rates as floats
    (missing where the count of children was withheld or zero). The release log has
    ``level``, ``area``, ``column`` and ``reason`` (``primary`` or ``secondary``).

    Parameters
    ----------
    tables : dict of str to DataFrame
        The exact tables of :func:`aggregate_areas`.
    oas : DataFrame
        Output areas with the lookup columns (each area's parents, for secondary
        suppression).
    rules : Disclosure
        What is withheld and how counts are rounded.

    Returns
    -------
    tables : dict of str to DataFrame
        The publishable tables, level by level.
    release_log : DataFrame
        Every withheld cell and why.
    """
    lookup = oas.drop(columns="geometry", errors="ignore")
    log_rows = []
    safe = {}
    for level, table in tables.items():
        code, _, parent = LEVELS[level]
        parent_code = LEVELS[parent][0] if parent else None
        if parent_code and parent_code in lookup:
            parent_of = lookup.groupby(code)[parent_code].first() if level != "oa" else \
                lookup[parent_code]
            groups = parent_of.reindex(table.index).to_numpy()
        else:
            groups = np.zeros(len(table))
        out = table.copy()
        for column in COUNT_COLUMNS:
            raw = table[column].round().astype(int)
            primary = (raw >= 1) & (raw <= rules.withhold_up_to)
            withheld = primary | _secondary(primary.to_numpy(), raw.to_numpy(), groups)
            out[column] = _round(raw.astype(float), rules.rounding).mask(withheld.to_numpy())
            for area in raw.index[withheld]:
                log_rows.append((level, area, column,
                                 "primary" if primary[area] else "secondary"))
        hidden = out["children_under5"].isna() | (out["children_under5"] == 0)
        for column in RATE_COLUMNS:
            out[column] = table[column].mask(hidden.to_numpy()).round(3)
        out[COMPARED] = table[COMPARED].mask(hidden.to_numpy(), "")
        safe[level] = out
    release = pd.DataFrame(log_rows, columns=["level", "area", "column", "reason"])
    return safe, release


def _rounded(obj, rules: Disclosure):
    """Every whole number in ``obj`` (a count) as ``rules`` publish it.

    >>> _rounded({"sources": [{"rejected": 3, "read": 122, "rate": 0.5}], "n": 0}, SAFE)
    {'sources': [{'rejected': 'c', 'read': 120, 'rate': 0.5}], 'n': 0}
    """
    if isinstance(obj, dict):
        return {k: _rounded(v, rules) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, rules) for v in obj]
    if isinstance(obj, int | np.integer) and not isinstance(obj, bool):
        return rules.value(int(obj))
    return obj


#: Whole numbers in the model section that are not counts of people.
_MODEL_SETTINGS = {"known_within_months"}


def published_summary(record: dict, rules: Disclosure) -> dict:
    """The published ``run.json`` from the exact record: every count of records, people
    or households (the linkage and model sections, and the siting's demand) is
    disclosure-controlled; counts of output areas and the settings stay as they are.

    Parameters
    ----------
    record : dict
        The exact run record (``restricted/run.json``).
    rules : Disclosure
        The run's disclosure rules.

    Returns
    -------
    dict
        The record to publish, with the rules it was published under.
    """
    out = {k: v for k, v in record.items() if k not in {"linkage", "model", "workers"}}
    out["linkage"] = _rounded(record["linkage"], rules)
    out["model"] = {k: v if k in _MODEL_SETTINGS else _rounded(v, rules)
                    for k, v in record["model"].items()}
    model = record["model"]
    if not rules.rates_of_flagged(model.get("holdout_k", 0), model.get("precision_at_k", 0.0)):
        out["model"].update(precision_at_k="c", recall_at_k="c")
    if "community" in record:  # rows of insight are counted as records are
        said = record["community"]
        out["community"] = {**said, **{k: rules.value(said[k]) for k in
                                       ["rows_read", "rows_rejected", "rows_used"]},
                            "reasons": {k: rules.value(n) for k, n in said["reasons"].items()}}
    out["disclosure"] = {"withhold_up_to": rules.withhold_up_to, "rounding": rules.rounding}
    return out


#: Per-OA hotspot fields that an area's own value decides (its LISA quadrant says whether
#: its risk is above or below the mean), with what a withheld area shows instead.
OWN_VALUE_FIELDS = {"lisa_quadrant": "withheld", "p_sim": np.nan, "lisa_last": "withheld",
                    "lisa_since": "withheld", "lisa_from": "withheld"}


def disclose_hotspots(hotspots: pd.DataFrame, published_oa: pd.DataFrame) -> pd.DataFrame:
    """The per-OA hotspot table with :data:`OWN_VALUE_FIELDS` withheld wherever the
    published OA table withholds the area's risk, so that no layer tells whether a
    withheld risk is high or low.

    Parameters
    ----------
    hotspots : DataFrame
        Per OA (index): ``lisa_quadrant``, ``p_sim`` and the other statistics.
    published_oa : DataFrame
        The disclosure-controlled OA table: ``children_under5`` and ``mean_risk``.

    Returns
    -------
    DataFrame
        A copy of ``hotspots``, those fields withheld.

    Examples
    --------
    >>> hot = pd.DataFrame({"lisa_quadrant": ["high-high", "low-low"], "p_sim": [0.01, 0.02]},
    ...                    index=["A", "B"])
    >>> oa = pd.DataFrame({"children_under5": [pd.NA, 40], "mean_risk": [None, 0.2]},
    ...                   index=["A", "B"])
    >>> disclose_hotspots(hot, oa)["lisa_quadrant"].tolist()
    ['withheld', 'low-low']
    """
    oa = published_oa.reindex(hotspots.index)
    withheld = (oa["mean_risk"].isna() & oa["children_under5"].isna()).to_numpy()
    out = hotspots.copy()
    for column, shown in OWN_VALUE_FIELDS.items():
        if column in out:
            out[column] = out[column].where(~withheld, shown)
    return out
