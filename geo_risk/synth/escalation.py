r"""Domestic abuse escalation in the synthetic world: DASH grades, MARAC referrals, truth.

Drawn for a world made with the ``domestic_abuse_escalation`` outcome (or its repeat
variant), after the nine extracts and from its own random stream, so that a world made
for school readiness is the one it always was.

The latent model
----------------
A household in which abuse is happening (``domestic_abuse`` held in that quarter: the
trait, or its onset under a scenario) has, in each quarter ``q``, a chance that the abuse
is high risk:

.. math::

    e_{hq} = \sigma\big(\beta_0 + 0.45 \min(n_{hq}, 3) + 0.50\,r_{hq} + 0.60\,sm_{hq}
             + 0.40\,k_{hq} + 0.50\,lp + 0.50\,u_{hq} + 0.8\,d + g_{hq} + v_h\big)

- ``n``: police-recorded domestic abuse incidents at the home in the previous four
  quarters, and ``r`` one in the previous quarter. Prior incidents and their recency are
  the strongest predictors of further and more severe abuse (repeat victimisation: about
  a third of victims report again within a year, Home Office; Robinson, 2010, on DASH);
  OR 1.6 per incident up to three, 1.6 more when the last was recent.
- ``sm``: substance misuse (OR 1.8; the "toxic trio", and a DASH risk factor).
- ``k``: a child under five in the household or on the way (a birth within the next two
  quarters); pregnancy and young children are DASH risk factors (OR 1.5).
- ``lp``: a lone parent, read as separated (separation is a high-risk time; OR 1.6).
- ``u``: housing instability that quarter (OR 1.6).
- ``d``: the area's deprivation; ``g``: the planted area effect of this outcome's
  hotspots, in other places than school readiness's (below); ``v ~ N(0, 0.4)``.

``beta_0`` is solved so that 15% of recorded domestic abuse incidents are graded high
(about one in seven DASH assessments is high risk in published force figures).

What is recorded
----------------
- Where the planted effect ``g`` is (below), the police hear of a household's abuse more
  often: its incidents come at the rate times ``exp(0.5 g)`` (x2.2 at the emerging
  hotspot's full 1.6; scaled as the scenario scales g's recorded part). These further
  incidents join the police extract. An escalating area reports more, which is what
  records show of it.
- Each police-recorded domestic abuse incident (drawn with the police extract) is graded
  high with chance ``e``, otherwise medium (40%) or standard; 5% are not assessed.
  Its victim and suspect references are the household's.
- A high-risk incident goes to MARAC with chance 0.85, within 28 days. Other agencies
  (health, IDVA, social care) refer a household in abuse with chance ``0.08 e`` a quarter,
  police contact or not: MARAC sees some escalation the police do not.

The truth
---------
The event at a landmark date (a quarter's end) is a high-risk incident or a MARAC referral
in the next four quarters. Its true probability knows the world's latent state (abuse,
substance misuse, children, instability, the area's effect, each household's ``v``)
and the incidents recorded up to the date, but not the draws after it: incidents in the
window raise the later quarters' ``e``, so it is summed over their possible counts
(:func:`_escalation_truth`); a MARAC referral already on its way at the date (a high-risk
incident of its last weeks) makes it certain. A quarter without the event has chance
``(1 - 0.95 e)^incidents (1 - 0.08 e)``; incidents arrive at ``lambda``, 0.10 a quarter
for a household whose abuse reaches the police, times 1.5 when unstably housed and
``exp(0.5 g)`` in a planted area. The
repeat variant's is ``1 - exp(-sum lambda)`` over the same quarters.

Planted hotspots
----------------
An emerging hotspot (``g`` rising as the scenario's emerging hotspot does) and a
persistent one (``g = 1.0``) of 16 OAs each, in wards other than school readiness's
planted hotspots (Pitsea North West and St Martin's on the town, when present).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from geo_risk import columns as C
from geo_risk.synth.population import Population, plant_hotspots, trailing_sum
from geo_risk.synth.scenarios import AREA_ON_HOUSING

__all__ = ["DA_HOTSPOT_WARDS", "Escalation", "draw_escalation"]

DA_HOTSPOT_WARDS = {"emerging": "Pitsea North West", "persistent": "St Martin's",
                    "diminishing": "Billericay East"}
HIGH_SHARE = 0.15
NOT_ASSESSED = 0.05
MARAC_FROM_HIGH = 0.85
AGENCY_REFERRAL = 0.08
INCIDENT_RATE = 0.10
PERSISTENT_EFFECT = 1.0
#: How much more often the police hear of abuse where the planted effect is g: the rate
#: times exp(0.5 g) (x2.2 at the emerging hotspot's full 1.6), scaled as a scenario
#: scales g's recorded part (its ``area_on_housing`` against the default's).
AREA_ON_INCIDENTS = 0.5


@dataclass
class Escalation:
    """What the escalation draw adds to a world."""

    police: pd.DataFrame  # the police extract with dash_risk, victim_ref, suspect_ref
    marac: pd.DataFrame  # the MARAC referrals extract
    risk: pd.DataFrame  # truth: uprn, quarter_end, p_escalation, p_repeat (abuse held)
    planted: pd.DataFrame  # truth: oa code, hotspot, expected_category
    beta0: float


def _counts(h: np.ndarray, q: np.ndarray, n_h: int, n_q: int) -> np.ndarray:
    out = np.zeros((n_h, n_q), dtype=np.int16)
    np.add.at(out, (h, q), 1)
    return out


def _young_children(pop: Population) -> np.ndarray:
    """Per household and quarter: a child under five, or one born in the next two
    quarters (pregnancy)."""
    tl, ch = pop.timeline, pop.children
    born = np.clip(tl.quarter_of(ch["date_of_birth"].to_numpy()), 0, tl.n_quarters)
    diff = np.zeros((len(pop.households), tl.n_quarters + 1), dtype=np.int16)
    h = ch["household"].to_numpy()
    np.add.at(diff, (h, np.clip(born - 2, 0, tl.n_quarters)), 1)
    np.add.at(diff, (h, np.clip(born + 20, 0, tl.n_quarters)), -1)
    return np.cumsum(diff, axis=1)[:, :-1] > 0


def _planted(oas: gpd.GeoDataFrame, pop: Population) -> pd.DataFrame:
    """This outcome's hotspots: other OAs than school readiness's."""
    taken = set(pop.planted[C.OA])
    free = oas.drop(index=[o for o in oas.index if o in taken])
    planted = plant_hotspots(free, DA_HOTSPOT_WARDS, pop.scenario)
    return planted[planted["hotspot"] != "diminishing"].reset_index(drop=True)


def draw_escalation(pop: Population, oas: gpd.GeoDataFrame, police: pd.DataFrame, *,
                    seed: int) -> Escalation:
    """DASH grades and references on ``police``, the MARAC extract and the truth."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDA5]))
    tl, hh, sc = pop.timeline, pop.households, pop.scenario
    n_h, n_q = len(hh), tl.n_quarters
    row_of = pd.Series(np.arange(n_h), index=hh["uprn"].astype(str).to_numpy())

    planted = _planted(oas, pop)
    g_oa = pd.DataFrame(0.0, index=oas.index, columns=range(n_q))
    for kind, effect in [("emerging", (0.0, sc.emerging_effect)),
                         ("persistent", (PERSISTENT_EFFECT, PERSISTENT_EFFECT))]:
        members = planted.loc[planted["hotspot"] == kind, C.OA]
        ramp = tl.ramp(sc.rise_from if kind == "emerging" else 0)
        g_oa.loc[members] = effect[0] + (effect[1] - effect[0]) * ramp
    g = g_oa.to_numpy()[oas.index.get_indexer(hh[C.OA])]

    q = np.arange(n_q)
    held = hh["domestic_abuse_from"].to_numpy()[:, None] <= q
    told = hh["domestic_abuse_told"].to_numpy()[:, None]
    # the police hear of abuse in the planted areas more often: the recorded part of g
    # (as school readiness's g shows in housing), scaled as the scenario scales that
    on_incidents = AREA_ON_INCIDENTS * sc.area_on_housing / AREA_ON_HOUSING
    rate = INCIDENT_RATE * (told & held) * (1 + 0.5 * pop.unstable)
    police = _more_incidents(rng, pop, police, rate * np.expm1(on_incidents * g))
    rate = rate * np.exp(on_incidents * g)

    is_da = (police["category"] == "domestic abuse").to_numpy()
    da_h = row_of.reindex(police.loc[is_da, "uprn"]).to_numpy()
    da_q = tl.quarter_of(pd.to_datetime(police.loc[is_da, "incident_date"]).to_numpy(
        "datetime64[D]"))
    n = _counts(da_h, da_q, n_h, n_q)
    before4 = np.zeros((n_h, n_q), dtype=np.int32)  # incidents in quarters q-4 .. q-1
    before4[:, 1:] = trailing_sum(n, 4)[:, :-1]
    recent = np.zeros((n_h, n_q), dtype=bool)
    recent[:, 1:] = n[:, :-1] > 0

    sm = hh["substance_from"].to_numpy()[:, None] <= q
    kids = _young_children(pop)
    v = rng.normal(0, 0.4, n_h)
    static = (0.60 * sm + 0.40 * kids + 0.50 * hh["lone_parent"].to_numpy()[:, None]
              + 0.50 * pop.unstable + 0.8 * hh[C.DEPRIVATION].to_numpy()[:, None] + g
              + v[:, None])  # all but the incidents' terms
    partial = static + _incident_terms(before4, recent)
    at_incident = partial[da_h, da_q]
    beta0 = float(brentq(lambda b: expit(at_incident + b).mean() - HIGH_SHARE, -15, 10))
    static += beta0
    e = expit(partial + beta0) * held

    # DASH grades and references of the recorded incidents
    high = rng.random(len(da_h)) < e[da_h, da_q]
    grade = np.where(high, "high", np.where(rng.random(len(da_h)) < 0.4 / 0.85, "medium",
                                            "standard"))
    grade = np.where(rng.random(len(da_h)) < NOT_ASSESSED, "", grade)
    person = 700_000_000 + rng.choice(99_999_999, 2 * n_h, replace=False)
    victim, suspect = person[:n_h].astype(str), person[n_h:].astype(str)
    police = police.assign(dash_risk="", victim_ref="", suspect_ref="")
    police.loc[is_da, "dash_risk"] = grade
    police.loc[is_da, "victim_ref"] = np.char.add("V", victim[da_h])
    police.loc[is_da, "suspect_ref"] = np.char.add("S", suspect[da_h])

    # MARAC: high-risk incidents referred, and other agencies' referrals
    dates = pd.to_datetime(police.loc[is_da, "incident_date"]).to_numpy("datetime64[D]")
    sent = (grade == "high") & (rng.random(len(da_h)) < MARAC_FROM_HIGH)
    from_police = dates[sent] + rng.integers(0, 29, sent.sum()).astype("timedelta64[D]")
    agency = rng.random((n_h, n_q)) < AGENCY_REFERRAL * e
    ah, aq = np.nonzero(agency)
    start = tl.quarter_start(aq)
    length = (tl.quarter_end(aq) - start).astype(int) + 1
    from_agency = start + (rng.random(len(aq)) * length).astype(int).astype("timedelta64[D]")
    h_all = np.concatenate([da_h[sent], ah])
    when = np.concatenate([from_police, from_agency])
    keep = when <= tl.end
    referrer = np.concatenate([np.full(sent.sum(), "police"),
                               rng.choice(["health", "IDVA", "children's social care",
                                           "housing"], len(ah))])
    marac = pd.DataFrame({
        "referral_date": np.datetime_as_string(when[keep], unit="D"),
        "uprn": hh["uprn"].astype(str).to_numpy()[h_all[keep]],
        "victim_ref": np.char.add("V", victim[h_all[keep]]),
        "referrer": referrer[keep]}).sort_values("referral_date", kind="stable"
                                                 ).reset_index(drop=True)

    # truth: the event's probability over the next four quarters, at each quarter's end
    last = n_q - 4  # quarters whose four following quarters are all in the world
    rows, cols = np.nonzero(held[:, :last])
    p = _escalation_truth(static, held, n, rate, rows, cols)
    # a referral already on its way: a high-risk incident of quarter L referred after it
    late = from_police > tl.quarter_end(da_q[sent])
    on_way = pd.MultiIndex.from_arrays([da_h[sent][late], da_q[sent][late]])
    p[pd.MultiIndex.from_arrays([rows, cols]).isin(on_way)] = 1.0
    risk = pd.DataFrame({
        "uprn": hh["uprn"].astype(str).to_numpy()[rows],
        "quarter_end": tl.quarter_end(cols),
        "p_escalation": p,
        "p_repeat": -np.expm1(-sum(rate[rows, cols + k] for k in range(1, 5)))})
    return Escalation(police, marac, risk, planted, beta0)


def _more_incidents(rng: np.random.Generator, pop: Population, police: pd.DataFrame,
                    rate: np.ndarray) -> pd.DataFrame:
    """``police`` with further domestic abuse incidents drawn at ``rate`` (households x
    quarters), at the home, references of their own (``42/D000001/17``)."""
    counts = rng.poisson(rate)
    h, q = np.nonzero(counts)
    h, q = np.repeat(h, counts[h, q]), np.repeat(q, counts[h, q])
    tl = pop.timeline
    start = tl.quarter_start(q)
    length = (tl.quarter_end(q) - start).astype(int) + 1
    day = start + (rng.random(len(q)) * length).astype(int).astype("timedelta64[D]")
    year = (day.astype("datetime64[Y]").astype(int) + 1970) % 100
    serial = np.char.zfill(np.arange(1, len(q) + 1).astype(str), 6)
    more = pd.DataFrame({
        "incident_id": np.char.add(np.char.add("42/D", serial),
                                   np.char.add("/", np.char.zfill(year.astype(str), 2))),
        "incident_date": np.datetime_as_string(day, unit="D"),
        "uprn": pop.households["uprn"].astype(str).to_numpy()[h],
        "easting": "", "northing": "", "category": "domestic abuse",
        "role": rng.choice(["victim", "suspect", "witness"], len(q), p=[0.55, 0.35, 0.1])})
    return pd.concat([police, more], ignore_index=True).sort_values(
        "incident_date", kind="stable").reset_index(drop=True)


def _incident_terms(before4, recent):
    """The logit's terms of the home's recorded incidents: those in the four quarters
    before (up to three counted) and one in the quarter before."""
    return 0.45 * np.minimum(before4, 3) + 0.50 * recent


def _escalation_truth(static: np.ndarray, held: np.ndarray, n: np.ndarray, rate: np.ndarray,
                      rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The chance of a recorded escalation in the four quarters after quarter ``L``
    (``cols``) for each household of ``rows``, knowing the world's latent state but not
    its draws after ``L``.

    Incidents in the window raise the later quarters' chance of high risk (they enter
    the four-quarter count), so the chance is taken over every count of incidents in the
    window's first three quarters (0 to 3, Poisson at each quarter's rate, the tail
    counted as 3); in the last quarter only the expected number matters. Given the
    counts, a quarter passes without the event with chance ``(1 - 0.95 e)^incidents``
    (graded high and assessed) times ``1 - 0.08 e`` (no referral from another agency).
    """
    prior = np.stack([n[rows, np.maximum(cols - j, 0)] * (cols - j >= 0)
                      for j in range(4)])  # incidents in quarters L, L-1, L-2, L-3
    lam = np.stack([rate[rows, cols + k] for k in range(1, 5)])
    pmf = np.stack([np.exp(-lam[:3]) * lam[:3] ** c / math.factorial(c) for c in range(3)])
    pmf = np.concatenate([pmf, 1 - pmf.sum(0, keepdims=True)])  # counts 0, 1, 2, 3+
    none = np.zeros(len(rows))
    for counts in itertools.product(range(4), repeat=3):
        weight = np.prod([pmf[c, k] for k, c in enumerate(counts)], axis=0)
        log_none = np.zeros(len(rows))
        for k in range(4):  # window quarter k + 1
            before4 = prior[:4 - k].sum(0) + sum(counts[:k])
            recent = (counts[k - 1] if k else prior[0]) > 0
            q = cols + k + 1
            e = expit(static[rows, q] + _incident_terms(before4, recent)) * held[rows, q]
            log_none += np.log1p(-AGENCY_REFERRAL * e)
            log_none += (counts[k] * np.log1p(-(1 - NOT_ASSESSED) * e) if k < 3
                         else -lam[3] * (1 - NOT_ASSESSED) * e)
        none += weight * np.exp(log_none)
    return 1 - none
