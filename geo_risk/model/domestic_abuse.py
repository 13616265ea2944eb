"""The scored table of a domestic abuse outcome: households, landmark dates, labels.

Who is scored at a date ``D``: each household with at least one police-recorded domestic
abuse incident at its address in the 365 days up to ``D`` (the day itself and the 364
before). One row per household, described as of ``D`` by
:func:`~geo_risk.model.features.household_features` with the domestic abuse features
(DASH grades, MARAC referrals).

Labels come from landmark dates a year apart, counted back from the reference date:
``ref - 12 months``, ``ref - 24 months``, … (:data:`LANDMARKS` of them). A landmark's
horizon (the 12 months after it) has fully passed by the reference date, and each
landmark's horizon has passed before the next one's households are described, so
training on the earlier landmarks and testing on the latest is the temporal design
school readiness uses with its cohorts. The event at a landmark:

- ``domestic_abuse_escalation``: a further domestic abuse incident graded high risk
  (DASH) or a MARAC referral, dated in the 12 months after it (the day after to the
  anniversary);
- ``domestic_abuse_repeat``: any further police-recorded domestic abuse incident then.

The table has the columns the school-readiness table has, so the model stage reads both
alike: ``child_key`` is the scored row's key (here the household's), ``academic_year``
its cohort (here the landmark date, ``2016-12-31``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_risk._errors import SchemaError
from geo_risk.columns import HOUSEHOLD
from geo_risk.inputs.link import Linked
from geo_risk.inputs.parallel import HERE, Executor
from geo_risk.model.outcomes import Outcome

__all__ = ["LANDMARKS", "landmark_dates", "scored_households"]

#: Landmark dates labelled, a year apart back from the reference date.
LANDMARKS = 5
WINDOW_DAYS = 365


def _incidents(linked: Linked) -> pd.DataFrame:
    police = linked.events.get("police")
    if police is None:
        raise SchemaError("no police incidents among the linked sources; a domestic abuse "
                          "outcome scores the households with a recent incident, so add "
                          "the police extract (police.csv) to the extracts folder")
    return police[police["category"] == "domestic abuse"]


def landmark_dates(reference_date: pd.Timestamp, *, count: int = LANDMARKS
                   ) -> list[pd.Timestamp]:
    """The landmark dates labelled at ``reference_date``, earliest first.

    >>> [str(d.date()) for d in landmark_dates(pd.Timestamp("2017-12-31"), count=2)]
    ['2015-12-31', '2016-12-31']
    """
    return [reference_date - pd.DateOffset(months=12 * k) for k in range(count, 0, -1)]


def scored_households(linked: Linked, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """``household_key`` and ``as_of`` of each household scored at each of ``dates``."""
    da = _incidents(linked)
    frames = []
    for d in dates:
        recent = da[(da["incident_date"] <= d)
                    & (da["incident_date"] > d - pd.Timedelta(days=WINDOW_DAYS))]
        keys = pd.unique(recent[HOUSEHOLD].dropna())
        frames.append(pd.DataFrame({HOUSEHOLD: np.sort(keys), "as_of": d}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=[HOUSEHOLD, "as_of"])


def event_dates(linked: Linked, outcome: Outcome) -> pd.DataFrame:
    """``household_key`` and ``date`` of each event that counts for ``outcome``."""
    da = _incidents(linked)
    if outcome.name == "domestic_abuse_repeat":
        return da[[HOUSEHOLD, "incident_date"]].set_axis([HOUSEHOLD, "date"], axis=1)
    if "dash_risk" not in da:
        raise SchemaError("the police extract has no dash_risk column; domestic abuse "
                          "escalation counts incidents graded high risk, so export the "
                          "DASH risk grade with each incident (or choose the outcome "
                          "domestic_abuse_repeat)")
    high = da.loc[da["dash_risk"] == "high", [HOUSEHOLD, "incident_date"]].set_axis(
        [HOUSEHOLD, "date"], axis=1)
    marac = linked.events.get("marac")
    parts = [high]
    if marac is not None:
        parts.append(marac[[HOUSEHOLD, "referral_date"]].set_axis([HOUSEHOLD, "date"], axis=1))
    return pd.concat(parts, ignore_index=True).dropna()


def label(pairs: pd.DataFrame, events: pd.DataFrame, *, months: int = 12) -> np.ndarray:
    """Whether each (household, as-of) pair has an event after its date and within
    ``months`` of it."""
    m = pairs.reset_index(drop=True).reset_index().merge(events, on=HOUSEHOLD)
    end = m["as_of"] + pd.DateOffset(months=months)
    hit = m.loc[(m["date"] > m["as_of"]) & (m["date"] <= end), "index"]
    out = np.zeros(len(pairs), dtype=bool)
    out[hit.to_numpy()] = True
    return out


def describe_households(linked: Linked, pairs: pd.DataFrame, role: str, outcome: Outcome,
                        *, windows: tuple[int, ...], run: Executor = HERE) -> pd.DataFrame:
    """The scored rows of ``pairs`` in the school-readiness table's shape (see the module
    docstring), with their household's features."""
    from geo_risk.model.features import household_features

    feats = household_features(linked, pairs, windows=windows, run=run,
                               groups=outcome.features)
    rows = pd.concat([pairs.reset_index(drop=True), feats.reset_index(drop=True)], axis=1)
    return rows.assign(child_key=rows[HOUSEHOLD], role=role,
                       academic_year=rows["as_of"].dt.date.astype(str))


def dates_without_households(linked: Linked, dates: list[str]) -> list[str]:
    """Those of ``dates`` at which no household had a domestic abuse incident in the
    year before."""
    scored = scored_households(linked, [pd.Timestamp(d) for d in dates])
    held = set(scored["as_of"].dt.date.astype(str))
    return [d for d in dates if str(pd.Timestamp(d).date()) not in held]


def labelled_households(linked: Linked, reference_date: pd.Timestamp, outcome: Outcome
                        ) -> pd.DataFrame:
    """The landmark dates' households with their labels (``LABEL`` column)."""
    from geo_risk.model.features import LABEL

    pairs = scored_households(linked, landmark_dates(reference_date))
    return pairs.assign(**{LABEL: label(pairs, event_dates(linked, outcome),
                                        months=outcome.horizon_months)})
