"""Household and child features as of a reference date, with nothing from after it.

Every feature is computed for a (household, as-of date) pair from records dated on or
before the as-of date; a record dated later cannot change any feature. Episodes
(social care, drug and alcohol referrals, benefit claims) count as *open* when they
started on or before the date and have no end on or before it, so a later end date says
no more than "still open", which was known that day.

Current children (aged 0-4 at the reference date) are described as of the reference
date. Labelled children (whose reception-year result was published by the reference
date) are described as of age 3½ (42 months), before they start school, as a model
trained on them will see today's under-fives.

Windows are in months of 30.4375 days, and no feature looks back more than 60 months
(recency included), so that no feature depends on how far back an extract reaches: an
"ever" flag would mean two years for an early cohort and eight for a late one, and the
model's picture would drift from refresh to refresh. Columns (``{w}`` is each window,
default 12, 24):

- ``sc_open``, ``sc_{w}m``, ``sc_60m``, ``sc_level``, ``sc_months_since``,
  ``sc_months_since_end``: social care and early help episodes (level: 0 none, 1 early
  help, 2 child in need, 3 child protection, 4 looked after; the highest open or started
  in the last 24 months; months since the last episode ended, 0 while one is open);
- ``hs_{w}m``, ``hs_ta_24m``, ``hs_homeless_24m``, ``hs_arrears_12m``,
  ``hs_overcrowding_24m``, ``hs_asb_24m``, ``hs_months_since``: housing events;
- ``bn_open``, ``bn_lone_parent``, ``bn_low_income``, ``bn_universal_credit``,
  ``bn_claims_24m``: benefit claims open at the date (low income: band under £15,000);
- ``po_da_{w}m``, ``po_other_24m``, ``po_months_since_da``: police incidents at the home;
- ``yo_24m``, ``yo_60m``: youth offending; ``dl_open``, ``dl_24m``, ``dl_60m``: drug and
  alcohol referrals;
- ``hh_children``, ``hh_under5``: registered children in the household born by the date;
- ``area_housing_12m``, ``area_ta_12m``, ``area_da_12m``: housing events, temporary
  accommodation placements and domestic abuse incidents in the household's output area in
  the last 12 months, per household there (how the neighbourhood is changing), records
  placed in the area by grid reference alone included;
- ``po_da_high_24m``, ``po_da_medium_24m``, ``po_months_since_high`` (the ``dash``
  features), ``marac_12m``, ``marac_60m``, ``marac_months_since`` (``marac``), and
  ``area_da_high_12m``, ``area_marac_12m`` (their area rates, as the ones above): for an
  outcome that asks for them (domestic abuse);
- ``area_not_gld_3y``: the share of the output area's children who did not reach GLD in
  the last three academic years' published results, shrunk towards the district's share
  as much while the first years come in as later (what the area's own outcomes say that
  the household records do not);
- ``male``, ``months_young`` (September-born 0 ... August-born 11), ``eal``,
  ``age_months``: the child;
- ``deprivation``, ``deprivation_decile``: the output area's LSOA, when deprivation was
  supplied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import SchemaError
from geo_risk.columns import HOUSEHOLD
from geo_risk.inputs.link import Linked, key_positions
from geo_risk.inputs.parallel import HERE, Executor, in_districts
from geo_risk.model import domestic_abuse as da
from geo_risk.model.outcomes import Outcome, get_outcome

__all__ = [
    "LABEL",
    "FeatureTables",
    "build_feature_tables",
    "current_children",
    "dates_without_under_fives",
    "household_features",
    "published_on",
]

log = logging.getLogger(__name__)

MONTH_DAYS = 30.4375
#: No feature looks further back than this (months), so no feature depends on how far
#: back a partner's extract reaches (the synthetic extracts start in January 2006, 62
#: months before the oldest labelled cohort is described at age 3½).
HISTORY_MONTHS = 60
LABEL = "not_gld"
#: Results of the academic year ending in year Y are taken as published on 31 October Y.
RESULTS_PUBLISHED = (10, 31)
LABEL_AGE_MONTHS = 42
#: The area's recent results: academic years looked back on, and the prior's weight in
#: children for that many years' results (how far a small area's share is shrunk towards
#: the district's).
AREA_RESULT_YEARS = 3
AREA_RESULT_PRIOR = 20.0
_LEVEL = {"early help": 1, "child in need": 2, "child protection": 3, "looked after": 4}


@dataclass
class FeatureTables:
    """The household and child tables at a reference date, how they were counted, and the
    outcome they were built for (its name)."""

    reference_date: pd.Timestamp
    households: pd.DataFrame
    children: pd.DataFrame
    counts: dict[str, int]
    outcome: str = "school_readiness"


def _pairs_with(pairs: pd.DataFrame, events: pd.DataFrame, date: str,
                extra: Sequence[str] = ()) -> pd.DataFrame:
    """Events of each pair's household dated on or before its as-of date, with their age."""
    m = pairs[["pair", HOUSEHOLD, "as_of"]].merge(
        events[[HOUSEHOLD, date, *extra]], on=HOUSEHOLD)
    m = m[m[date] <= m["as_of"]]
    return m.assign(months=(m["as_of"] - m[date]).dt.days / MONTH_DAYS)


def _open_at(m: pd.DataFrame, end: str) -> pd.Series:
    return m[end].isna() | (m[end] > m["as_of"])


def household_features(
    linked: Linked, pairs: pd.DataFrame, *, windows: tuple[int, ...] = (12, 24),
    run: Executor = HERE, groups: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Features of each (household, as-of date) pair; see the module docstring.

    Parameters
    ----------
    linked
        Linked records from :func:`geo_risk.inputs.link.link_sources`.
    pairs
        ``household_key`` and ``as_of`` (datetime) columns.
    windows
        Look-back windows in months.
    run
        Where the districts' pairs are described, one district at a time
        (:mod:`geo_risk.inputs.parallel`): here, or on a Dask cluster.
    groups
        Further features an outcome asks for (:data:`_FURTHER`): ``dash`` (the DASH
        grades of the home's domestic abuse incidents), ``marac`` (its MARAC referrals).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``pairs``, one column per feature.
    """
    return in_districts(run, linked, pairs, partial(_pair_features, windows=windows,
                                                    groups=groups))


def _pair_features(part: tuple[Linked, pd.DataFrame], windows: tuple[int, ...],
                   groups: tuple[str, ...] = ()) -> pd.DataFrame:
    """:func:`household_features` of one district's pairs (or of every pair): each
    source's features in turn (:data:`_BY_SOURCE`, then the ``groups`` of
    :data:`_FURTHER`), then the area context."""
    linked, pairs = part
    pairs = pairs.assign(pair=np.arange(len(pairs)))
    d = _Pairs(pairs, pd.DataFrame(index=pairs["pair"]), windows)
    for source, describe in [*_BY_SOURCE.items(), *(_FURTHER[g] for g in groups)]:
        events = linked.events.get(source)
        if events is not None:
            describe(d, events)
    f = d.features
    homes = _Homes.of(linked)
    for name, source, date, keep in [*_AREA_RATES,
                                     *(r for g in groups for r in _FURTHER_AREA.get(g, []))]:
        table, placed = linked.events.get(source), linked.area_events.get(source)
        if table is None:
            continue
        table = table[keep(table)]
        rows, days = [homes.rows(table[HOUSEHOLD])], [table[date]]
        if placed is not None and len(placed):  # located by grid reference alone
            placed = placed[keep(placed)]
            rows.append(homes.area_rows(placed[C.OA]))
            days.append(placed[date])
        f[name] = _area_rate(homes, pairs, np.concatenate(rows), pd.concat(days))

    results = linked.events.get("school_readiness")
    if results is not None:
        f["area_not_gld_3y"] = _area_results(homes, pairs, results)

    kids = linked.events.get("child_register")
    if kids is not None:
        m = _pairs_with(pairs, kids, "date_of_birth")
        f["hh_children"] = d.count(m)
        f["hh_under5"] = d.count(m, m["months"] < 60)

    f.index = pairs.index
    return f


@dataclass
class _Pairs:
    """The (household, date) pairs being described and their features so far."""

    pairs: pd.DataFrame  # household_key, as_of, pair (its row number)
    features: pd.DataFrame  # one row per pair, indexed by pair
    windows: tuple[int, ...]

    def count(self, m: pd.DataFrame, mask: pd.Series | None = None) -> pd.Series:
        """Events per pair (of those ``mask`` keeps)."""
        s = m["pair"][mask] if mask is not None else m["pair"]
        return s.value_counts().reindex(self.features.index, fill_value=0)

    def latest(self, m: pd.DataFrame) -> pd.Series:
        """Months since each pair's latest event within the history; NaN for none."""
        recent = m[m["months"] < HISTORY_MONTHS]
        return recent.groupby("pair")["months"].min().reindex(self.features.index)


def _social_care(d: _Pairs, events: pd.DataFrame) -> None:
    f = d.features
    m = _pairs_with(d.pairs, events, "start_date", ["end_date", "episode_type"])
    is_open = _open_at(m, "end_date")
    f["sc_open"] = d.count(m, is_open) > 0
    for w in d.windows:
        f[f"sc_{w}m"] = d.count(m, m["months"] < w)
    f["sc_60m"] = d.count(m, m["months"] < HISTORY_MONTHS)
    level = m["episode_type"].map(_LEVEL).where(is_open | (m["months"] < 24), 0)
    f["sc_level"] = level.groupby(m["pair"]).max().reindex(f.index, fill_value=0)
    f["sc_months_since"] = d.latest(m)
    since_end = ((m["as_of"] - m["end_date"]).dt.days / MONTH_DAYS).where(~is_open, 0.0)
    f["sc_months_since_end"] = since_end.groupby(m["pair"]).min().reindex(f.index)


def _housing(d: _Pairs, events: pd.DataFrame) -> None:
    f = d.features
    m = _pairs_with(d.pairs, events, "event_date", ["event_type"])
    for w in d.windows:
        f[f"hs_{w}m"] = d.count(m, m["months"] < w)
    for name, kind, w in [("hs_ta_24m", "temporary accommodation", 24),
                          ("hs_homeless_24m", "homelessness application", 24),
                          ("hs_arrears_12m", "rent arrears", 12),
                          ("hs_overcrowding_24m", "overcrowding", 24),
                          ("hs_asb_24m", "asb complaint", 24)]:
        f[name] = d.count(m, (m["event_type"] == kind) & (m["months"] < w))
    f["hs_months_since"] = d.latest(m)


def _benefits(d: _Pairs, events: pd.DataFrame) -> None:
    f = d.features
    extra = [c for c in ["claim_end", "benefit", "lone_parent", "income_band"] if c in events]
    m = _pairs_with(d.pairs, events, "claim_start", extra)
    is_open = _open_at(m, "claim_end")
    f["bn_open"] = d.count(m, is_open) > 0
    lone = m["lone_parent"].fillna(False).astype(bool) if "lone_parent" in m else False
    f["bn_lone_parent"] = d.count(m, is_open & lone) > 0
    band_floor = pd.to_numeric(
        m.get("income_band", pd.Series("", index=m.index)).str.replace(",", "")
        .str.extract(r"(\d+)", expand=False), errors="coerce")
    f["bn_low_income"] = d.count(m, is_open & (band_floor < 15_000)) > 0
    f["bn_universal_credit"] = d.count(m, is_open & (m["benefit"] == "universal credit")) > 0
    f["bn_claims_24m"] = d.count(m, m["months"] < 24)


def _police(d: _Pairs, events: pd.DataFrame) -> None:
    f = d.features
    m = _pairs_with(d.pairs, events, "incident_date", ["category"])
    da = m["category"] == "domestic abuse"
    for w in d.windows:
        f[f"po_da_{w}m"] = d.count(m, da & (m["months"] < w))
    f["po_other_24m"] = d.count(m, ~da & (m["months"] < 24))
    f["po_months_since_da"] = d.latest(m[da])


def _youth_offending(d: _Pairs, events: pd.DataFrame) -> None:
    m = _pairs_with(d.pairs, events, "offence_date")
    d.features["yo_24m"] = d.count(m, m["months"] < 24)
    d.features["yo_60m"] = d.count(m, m["months"] < HISTORY_MONTHS)


def _drugs_alcohol(d: _Pairs, events: pd.DataFrame) -> None:
    f = d.features
    m = _pairs_with(d.pairs, events, "referral_date", ["discharge_date"])
    f["dl_open"] = d.count(m, _open_at(m, "discharge_date")) > 0
    f["dl_24m"] = d.count(m, m["months"] < 24)
    f["dl_60m"] = d.count(m, m["months"] < HISTORY_MONTHS)


def _dash(d: _Pairs, events: pd.DataFrame) -> None:
    """DASH grades of the home's domestic abuse incidents: high and medium in the last
    24 months, months since the last high one."""
    if "dash_risk" not in events:
        return
    f = d.features
    m = _pairs_with(d.pairs, events, "incident_date", ["category", "dash_risk"])
    m = m[m["category"] == "domestic abuse"]
    high = m["dash_risk"] == "high"
    f["po_da_high_24m"] = d.count(m, high & (m["months"] < 24))
    f["po_da_medium_24m"] = d.count(m, (m["dash_risk"] == "medium") & (m["months"] < 24))
    f["po_months_since_high"] = d.latest(m[high])


def _marac(d: _Pairs, events: pd.DataFrame) -> None:
    """MARAC referrals of the home: in the last 12 and 60 months, months since the last."""
    f = d.features
    m = _pairs_with(d.pairs, events, "referral_date")
    f["marac_12m"] = d.count(m, m["months"] < 12)
    f["marac_60m"] = d.count(m, m["months"] < HISTORY_MONTHS)
    f["marac_months_since"] = d.latest(m)


#: Each partner source's household features, in the order the feature table has them.
_BY_SOURCE: dict[str, Callable[[_Pairs, pd.DataFrame], None]] = {
    "social_care": _social_care, "housing": _housing, "benefits": _benefits,
    "police": _police, "youth_offending": _youth_offending, "drugs_alcohol": _drugs_alcohol,
}
#: Features an outcome asks for by name (:attr:`geo_risk.outcomes.Outcome.features`):
#: name -> (the source they are read from, how).
_FURTHER: dict[str, tuple[str, Callable[[_Pairs, pd.DataFrame], None]]] = {
    "dash": ("police", _dash), "marac": ("marac", _marac),
}


#: Area context: events in the household's output area in the last 12 months, per
#: household living there (name, source, date column, which records).
_AREA_RATES = [
    ("area_housing_12m", "housing", "event_date", lambda t: t["event_type"] != ""),
    ("area_ta_12m", "housing", "event_date",
     lambda t: t["event_type"] == "temporary accommodation"),
    ("area_da_12m", "police", "incident_date", lambda t: t["category"] == "domestic abuse"),
]


#: Area context an outcome's further features add (:data:`_FURTHER`'s names): high-risk
#: domestic abuse incidents and MARAC referrals in the area in the last 12 months, per
#: household there (how often abuse escalates around the household).
_FURTHER_AREA = {
    "dash": [("area_da_high_12m", "police", "incident_date",
              lambda t: (t["category"] == "domestic abuse") & (t["dash_risk"] == "high")
              if "dash_risk" in t else t["category"] != t["category"])],
    "marac": [("area_marac_12m", "marac", "referral_date", lambda t: t["referral_date"].notna())],
}


@dataclass(frozen=True)
class _Homes:
    """Where the households live: each household's output area as a row number (``row``,
    beside the household ``keys``), how many households each area has, and each area's
    district as a number (all 0 without district codes). Made once per description."""

    keys: pd.Series
    row: np.ndarray
    per_area: np.ndarray
    district: np.ndarray
    codes: pd.Index  # the output area of each row number

    @classmethod
    def of(cls, linked: Linked) -> _Homes:
        homes = linked.households
        rows, codes = pd.factorize(homes[C.OA].to_numpy(), sort=True)
        district = np.zeros(len(codes), dtype=int)
        if C.LAD in homes:
            district[rows] = pd.factorize(homes[C.LAD].fillna("").to_numpy(), sort=True)[0]
        return cls(homes[HOUSEHOLD], rows, np.bincount(rows, minlength=len(codes)), district,
                   pd.Index(codes))

    def area_rows(self, oa: pd.Series) -> np.ndarray:
        """The row number of each output area code; NaN for an area without households."""
        at = self.codes.get_indexer(oa.to_numpy())
        return np.where(at >= 0, at, np.nan)

    def rows(self, keys: pd.Series) -> np.ndarray:
        """The area row of each household key; floats with NaN where a key is of no
        household here."""
        at = key_positions(keys, self.keys)
        return self.row[at] if (at >= 0).all() else np.where(at >= 0, self.row[at], np.nan)


def _area_rate(homes: _Homes, pairs: pd.DataFrame, event_rows: np.ndarray,
               event_dates: pd.Series) -> np.ndarray:
    """Events in each pair's output area in the 365 days up to its as-of date (the day
    itself and the 364 before), per household living there; an event is in the area of
    its row (:meth:`_Homes.rows` of its household, or :meth:`_Homes.area_rows` of the
    area it was placed in; NaN: none with households).

    Each event is a key (its area's row, then its day), sorted once; a pair's count is
    the number of keys between two of its own, so every window is exact to the day and
    nothing after the as-of date is counted.
    """
    known = event_dates.notna().to_numpy() & ~np.isnan(event_rows)
    if not known.any() or pairs.empty:
        return np.zeros(len(pairs))
    ev_day = event_dates[known].to_numpy("datetime64[D]").astype(np.int64)
    day = pairs["as_of"].to_numpy("datetime64[D]").astype(np.int64)
    first = min(ev_day.min(), day.min()) - 365
    span = max(ev_day.max(), day.max()) - first + 1
    keys = np.sort(event_rows[known].astype(np.int64) * span + (ev_day - first))
    oa = homes.rows(pairs[HOUSEHOLD])
    end = oa.astype(np.int64) * span + (day - first)
    in_window = (np.searchsorted(keys, end, side="right")
                 - np.searchsorted(keys, end - 364, side="left"))
    return in_window / homes.per_area[oa]


def published_on(academic_year: pd.Series) -> pd.Series:
    """When an academic year's results are published (``RESULTS_PUBLISHED`` after its end).

    Parameters
    ----------
    academic_year : Series of str
        Academic years as ``2016/17``.

    Returns
    -------
    Series of Timestamp
        The day each year's results count as published.
    """
    year_end = pd.to_numeric(academic_year.astype(str).str[:4], errors="coerce") + 1
    return pd.to_datetime({"year": year_end, "month": RESULTS_PUBLISHED[0],
                           "day": RESULTS_PUBLISHED[1]}, errors="coerce")


def _years_published(as_of: pd.Series) -> np.ndarray:
    """The calendar year of the last results published by each date (one set a year)."""
    month, day = RESULTS_PUBLISHED
    before = (as_of.dt.month < month) | ((as_of.dt.month == month) & (as_of.dt.day < day))
    return (as_of.dt.year - before.astype(int)).to_numpy()


def _area_results(homes: _Homes, pairs: pd.DataFrame, results: pd.DataFrame,
                  *, years: int = AREA_RESULT_YEARS, prior: float = AREA_RESULT_PRIOR
                  ) -> np.ndarray:
    """Share of children not reaching GLD in each pair's output area, over the last
    ``years`` academic years with results published by its as-of date, shrunk towards its
    district's share over the same years with the weight of ``prior`` children (empirical
    Bayes, as an output area has a handful of results a year). NaN until the district has
    a result published.

    While fewer than ``years`` years have been published, the prior weighs that share of
    ``prior`` children: an area's results and the prior grow together, so an area's share
    is shrunk alike at every date. With a fixed prior, the spread of the shares grew from
    0.043 to 0.074 (standard deviation over children, quiet-hotspot/1) as the first three
    years of results came in, and the model's risk in every area that differs steadily
    from its district moved with it, which the emerging hot spot analysis read as hot
    spots intensifying.

    A result counts in the output area of the household it was recorded at. A child's own
    result is published after it starts school, long after it is described (aged 3½ at
    most), so it never describes itself. Everything here is within one district, so a
    run split by district gives the same figures.
    """
    if pairs.empty:
        return np.zeros(0)
    areas, district = len(homes.per_area), homes.district
    published = published_on(results["academic_year"])
    results = results.assign(oa=homes.rows(results[HOUSEHOLD]),
                             year=published.dt.year, not_gld=~results["gld"].astype(bool))
    results = results.dropna(subset=["oa", "year"])
    upto_year = _years_published(pairs["as_of"])
    first = int(min(results["year"].min(), upto_year.min())) if len(results) else 0
    last = int(max(results["year"].max(), upto_year.max())) if len(results) else 0
    year = results["year"].to_numpy(dtype=int) - first
    oa = results["oa"].to_numpy(dtype=int)
    shape = (areas, last - first + 2)  # column y + 1: results published up to year y
    n, k = np.zeros(shape), np.zeros(shape)
    np.add.at(n, (oa, year + 1), 1)
    np.add.at(k, (oa, year + 1), results["not_gld"].to_numpy(dtype=float))
    n, k = n.cumsum(axis=1), k.cumsum(axis=1)
    upto = np.clip(upto_year - first + 1, 0, shape[1] - 1)
    since = np.maximum(upto - years, 0)
    row = homes.rows(pairs[HOUSEHOLD])
    area_n = n[row, upto] - n[row, since]
    area_k = k[row, upto] - k[row, since]
    district_n, district_k = np.zeros((district.max() + 1, shape[1])), np.zeros(
        (district.max() + 1, shape[1]))
    np.add.at(district_n, district, n)
    np.add.at(district_k, district, k)
    d = district[row]
    share_d = ((district_k[d, upto] - district_k[d, since])
               / np.maximum(district_n[d, upto] - district_n[d, since], 1))
    # the prior weighs ``prior`` children per ``years`` of results the window holds, so an
    # area's share is shrunk alike at every date, however few years are published yet
    held = (np.diff(district_n, axis=1, prepend=0.0) > 0).cumsum(axis=1)
    weight = prior * np.maximum(held[d, upto] - held[d, since], 1) / years
    share = (area_k + weight * share_d) / (area_n + weight)
    return np.where(district_n[d, upto] > 0, share, np.nan)


def _age_months(dob: pd.Series, as_of: pd.Series | pd.Timestamp) -> pd.Series:
    as_of = pd.Series(as_of, index=dob.index) if isinstance(as_of, pd.Timestamp) else as_of
    return ((as_of.dt.year - dob.dt.year) * 12 + as_of.dt.month - dob.dt.month
            - (as_of.dt.day < dob.dt.day).astype(int))


def _register(linked: Linked) -> pd.DataFrame:
    register = linked.events.get("child_register")
    if register is None:
        raise SchemaError("no child register among the linked sources; add the "
                          "child_register extract (child_register.csv) to the extracts folder")
    return register


def _current(register: pd.DataFrame, ref: pd.Timestamp) -> pd.DataFrame:
    """Registered children born by ``ref`` and aged 0-4 then, described as of ``ref``."""
    register = register[register["date_of_birth"] <= ref]
    register = register.drop_duplicates("child_key", keep="first")
    age = _age_months(register["date_of_birth"], ref)
    return register[age < 60].assign(role="current", as_of=ref)


#: Sex -> the ``male`` feature; a sex not recorded is missing (NaN), never either.
_MALE = {"m": 1.0, "f": 0.0}
#: First language: English as registers and the school census write it (ENG; ENB,
#: believed English), and what says it is not known (NOT, not obtained; REF, refused).
_ENGLISH = {"english", "eng", "enb", "english believed"}
_LANGUAGE_NOT_KNOWN = {"", "not", "ref", "nk", "not known", "unknown", "not obtained",
                       "refused", "information not obtained", "information refused"}


def _other_language(language: pd.Series) -> pd.Series:
    """The ``eal`` feature: 1 for a first language other than English, 0 for English,
    missing (NaN) where it is not known."""
    words = language.str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip()
    return pd.Series(np.where(words.isin(_LANGUAGE_NOT_KNOWN), np.nan,
                              (~words.isin(_ENGLISH)).astype(float)), index=language.index)


def dates_without_under_fives(linked: Linked, dates: list[str],
                              outcome: Outcome | None = None) -> list[str]:
    """Those of ``dates`` at which nobody is scored: the child register holds no child
    aged 0-4 (for a household outcome: no household is in its population).

    Parameters
    ----------
    linked : Linked
        The linked records.
    dates : list of str
        ISO dates.
    outcome : Outcome, optional
        What is predicted (school readiness by default).

    Returns
    -------
    list of str
        The dates with nobody scored, in the order given.
    """
    if outcome is not None and outcome.unit[0] == "household":
        return da.dates_without_households(linked, dates)
    register = _register(linked)
    return [d for d in dates if _current(register, pd.Timestamp(d)).empty]


def _describe(linked: Linked, children: pd.DataFrame, windows: tuple[int, ...],
              run: Executor) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Children with their own columns, their household's features as of their ``as_of``
    date and their area; and the features of each (household, as-of date) pair."""
    blank = pd.Series("", index=children.index)
    children = children.assign(
        male=children.get("sex", blank).map(_MALE),
        months_young=(children["date_of_birth"].dt.month - 9) % 12,
        eal=_other_language(children.get("first_language", blank)),
        age_months=_age_months(children["date_of_birth"], children["as_of"]))
    pairs = children[[HOUSEHOLD, "as_of"]].drop_duplicates().reset_index(drop=True)
    feats = household_features(linked, pairs, windows=windows, run=run)
    pair_feats = pd.concat([pairs, feats], axis=1)
    area = linked.households.set_index(HOUSEHOLD)
    keep = ["child_key", HOUSEHOLD, "role", "as_of", "academic_year", LABEL, "male",
            "months_young", "eal", "age_months"]
    described = (children.reindex(columns=keep).merge(pair_feats, on=[HOUSEHOLD, "as_of"],
                                                      how="left")
                 .join(area[_area_columns(area)], on=HOUSEHOLD))
    return described, pair_feats


def _area_columns(area: pd.DataFrame) -> list[str]:
    return [c for c in [C.OA, C.LSOA, C.WARD, C.DEPRIVATION, C.DEPRIVATION_DECILE]
            if c in area]


def current_children(linked: Linked, dates: list[str], *, windows: tuple[int, ...] = (12, 24),
                     run: Executor = HERE, outcome: Outcome | None = None) -> pd.DataFrame:
    """The rows scored at each of ``dates`` (children aged 0-4; for a household outcome,
    its households), described as of that date, in one pass (each once per date;
    ``as_of`` says which). The same rows :func:`build_feature_tables` gives as ``role ==
    "current"`` for each date alone; ``run`` says where the households' features are
    computed."""
    outcome = get_outcome(None) if outcome is None else outcome
    if outcome.unit[0] == "household":
        pairs = da.scored_households(linked, [pd.Timestamp(d) for d in dates])
        return _with_areas(linked, da.describe_households(linked, pairs, "current", outcome,
                                                          windows=windows, run=run))
    register = _register(linked)
    children = pd.concat([_current(register, pd.Timestamp(d)) for d in dates],
                         ignore_index=True)
    return _describe(linked, children, windows, run)[0]


def build_feature_tables(
    linked: Linked, reference_date: str | pd.Timestamp, *, windows: tuple[int, ...] = (12, 24),
    run: Executor = HERE, outcome: Outcome | None = None,
) -> FeatureTables:
    """The child and household tables as of a reference date.

    Parameters
    ----------
    linked
        Linked records from :func:`geo_risk.inputs.link.link_sources`.
    reference_date
        Nothing dated after it is used.
    windows
        Look-back windows in months.
    run
        Where the households' features are computed (:mod:`geo_risk.inputs.parallel`).
    outcome
        What is predicted (:mod:`geo_risk.outcomes`; school readiness by default). A
        household outcome's table is built by :func:`_household_tables`.

    Returns
    -------
    FeatureTables
        ``children``: one row per current child (``role`` = ``current``, aged 0-4) and per
        labelled child (``role`` = ``labelled``, with ``not_gld`` and ``academic_year``),
        with ``as_of`` and the features. ``households``: one row per household with a
        current child, features as of the reference date.
    """
    ref = pd.Timestamp(reference_date)
    outcome = get_outcome(None) if outcome is None else outcome
    if outcome.unit[0] == "household":
        return _household_tables(linked, ref, outcome, windows, run)
    register = _register(linked)
    current = _current(register, ref)
    register = register[register["date_of_birth"] <= ref]
    register = register.drop_duplicates("child_key", keep="first")

    results = linked.events.get("school_readiness", pd.DataFrame(
        columns=["child_key", "academic_year", "gld"]))
    results = results[published_on(results["academic_year"]) <= ref]
    results = results.drop_duplicates("child_key", keep="first")
    labelled = register.merge(results[["child_key", "academic_year", "gld"]], on="child_key")
    labelled = labelled.assign(
        role="labelled",
        as_of=labelled["date_of_birth"] + pd.DateOffset(months=LABEL_AGE_MONTHS),
        **{LABEL: ~labelled.pop("gld").astype(bool)})
    labelled = labelled[labelled["as_of"] <= ref]

    children, pair_feats = _describe(linked, pd.concat([current, labelled], ignore_index=True),
                                     windows, run)
    area = linked.households.set_index(HOUSEHOLD)
    area_cols = _area_columns(area)
    now = pair_feats[pair_feats["as_of"] == ref]
    households = now[key_positions(now[HOUSEHOLD], current[HOUSEHOLD]) >= 0].join(
        area[area_cols], on=HOUSEHOLD).reset_index(drop=True)
    counts = {
        "children_registered": len(linked.events["child_register"]),
        "children_current": int((children["role"] == "current").sum()),
        "children_labelled": int((children["role"] == "labelled").sum()),
        "results_without_register_entry": int(
            (key_positions(results["child_key"], register["child_key"]) < 0).sum()),
        "households_with_current_children": len(households),
    }
    log.info("features as of %s: %d current and %d labelled children, %d households",
             ref.date(), counts["children_current"], counts["children_labelled"],
             counts["households_with_current_children"])
    return FeatureTables(ref, households, children, counts)


def _with_areas(linked: Linked, rows: pd.DataFrame) -> pd.DataFrame:
    area = linked.households.set_index(HOUSEHOLD)
    return rows.join(area[_area_columns(area)], on=HOUSEHOLD)


def _household_tables(linked: Linked, ref: pd.Timestamp, outcome: Outcome,
                      windows: tuple[int, ...], run: Executor) -> FeatureTables:
    """:func:`build_feature_tables` for an outcome that scores households
    (:mod:`geo_risk.model.domestic_abuse`): each landmark date's households with their
    label, and the households scored at ``ref``."""
    labelled = da.labelled_households(linked, ref, outcome)
    current = da.scored_households(linked, [ref])
    rows = pd.concat([
        da.describe_households(linked, labelled[[HOUSEHOLD, "as_of"]], "labelled", outcome,
                               windows=windows, run=run).assign(
            **{LABEL: labelled[LABEL].to_numpy()}),
        da.describe_households(linked, current, "current", outcome, windows=windows,
                               run=run)], ignore_index=True)
    rows = _with_areas(linked, rows)
    now = rows[rows["role"] == "current"]
    households = now.drop(columns=["child_key", "role", "academic_year", LABEL]
                          ).reset_index(drop=True)
    counts = {
        "households_current": len(now),
        "households_labelled": int((rows["role"] == "labelled").sum()),
        "landmark_dates": int(rows.loc[rows["role"] == "labelled", "as_of"].nunique()),
        "households_with_current_children": len(households),
    }
    log.info("features as of %s: %d households scored, %d labelled", ref.date(),
             counts["households_current"], counts["households_labelled"])
    return FeatureTables(ref, households, rows, counts, outcome.name)
