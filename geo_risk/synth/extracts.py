"""The nine partner extracts, as partners would export them, from the synthetic truth.

Each extract is a table of strings with raw synthetic identifiers: NHS numbers from the
999 range that NHS England reserves for testing, 12-digit UPRNs from 9xxxxxxxxxxx (never
issued), incident references of a fictional force. Events are drawn quarter by quarter
from the households' latent traits and housing-instability chain (see
:mod:`geo_risk.synth.population`), up to the last refresh date. Dates are ISO 8601 here;
``--messy`` (:mod:`geo_risk.synth.messy`) turns them into what spreadsheets produce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from geo_risk import columns as C
from geo_risk.cores import local_map
from geo_risk.inputs import nhs_check_digit
from geo_risk.synth.population import Population, assessment_dates, labelled_children

__all__ = ["EXTRACTS", "make_extracts"]

#: Extract name -> its columns, in file order (DOMAIN.md's partner extracts).
EXTRACTS: dict[str, list[str]] = {
    "child_register": ["child_id", "forename", "surname", "date_of_birth", "sex", "uprn",
                       "first_language"],
    "addresses": ["uprn", "easting", "northing", "postcode"],
    "social_care": ["person_id", "uprn", "start_date", "end_date", "episode_type",
                    "primary_need"],
    "school_readiness": ["child_id", "uprn", "academic_year", "gld"],
    "youth_offending": ["person_id", "uprn", "offence_date", "outcome"],
    "drugs_alcohol": ["person_id", "uprn", "referral_date", "discharge_date", "substance"],
    "housing": ["uprn", "postcode", "event_date", "event_type"],
    "benefits": ["uprn", "postcode", "claim_start", "claim_end", "benefit", "lone_parent",
                 "income_band"],
    "police": ["incident_id", "incident_date", "uprn", "easting", "northing", "category",
               "role"],
}

_FORENAMES = {
    "M": ["Oliver", "Harry", "Jack", "George", "Noah", "Charlie", "Jacob", "Alfie", "Freddie",
          "Oscar", "Leo", "Mohammed", "Jakub", "Mateus", "José", "Kacper", "Tomás", "Ethan"],
    "F": ["Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophia", "Grace", "Mia", "Poppy",
          "Ella", "Lily", "Zoë", "Chloé", "Amélie", "Zuzanna", "Aoife", "Renée", "Maja"],
}
_SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
             "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
             "O'Brien", "Nowak", "Kowalski", "Müller", "Núñez", "Gonçalves", "Okafor", "Begum"]
_LANGUAGES = ["Polish", "Romanian", "Urdu", "Bengali", "Lithuanian", "Twi", "Português",
              "Turkish", "Panjabi", "Yorùbá"]
_NEEDS = ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"]
_INCOME_BANDS = ["£0–£7,499", "£7,500–£14,999", "£15,000–£24,999", "£25,000+"]
_POSTCODE_DISTRICTS = {
    "Billericay West": "CM12", "Billericay East": "CM11", "Burstead": "CM11",
    "Crouch": "SS11", "Wickford Castledon": "SS12", "Wickford North": "SS12",
    "Wickford Park": "SS11", "Laindon Park": "SS15", "Langdon Hills": "SS16",
    "Nethermayne": "SS16", "Lee Chapel North": "SS15", "St Martin's": "SS14",
    "Fryerns": "SS14", "Vange": "SS16", "Pitsea North West": "SS13", "Pitsea South East": "SS13",
}
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


#: Nine-digit stems of synthetic NHS numbers: the NHS test range 999 first, then the other
#: blocks starting 99 (no NHS number starting with 9 is issued), so a county-sized world
#: never runs out: 10 million stems, about 9 million with a valid check digit.
_TEST_STEM, _STEMS = 999_000_000, 10_000_000


def nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid NHS numbers in unissued ranges (999..., then 990-998...), as strings.

    >>> len(set(nhs_numbers(np.random.default_rng(1), 2_000_000)))
    2000000
    """
    want = int(n * 1.15) + 32
    if want <= 1_000_000:  # the test range alone (as every world so far was drawn)
        stem = _TEST_STEM + rng.choice(1_000_000, size=want, replace=False)
    elif want <= _STEMS:
        stem = _TEST_STEM - 9_000_000 + rng.choice(_STEMS, size=want, replace=False)
    else:
        raise ValueError(f"{n:,} synthetic NHS numbers asked for; at most about 8.5 million "
                         "can be drawn from the unissued ranges.")
    digits = np.column_stack([(stem // 10**k) % 10 for k in range(8, -1, -1)])
    check = nhs_check_digit(digits)
    ok = check >= 0
    numbers = stem[ok] * 10 + check[ok]
    return numbers[:n].astype(str)


def _iso(dates: np.ndarray) -> np.ndarray:
    """ISO text of each date ("" where missing), each distinct day formatted once."""
    codes, days = pd.factorize(dates.astype("datetime64[D]"))  # a missing date: code -1
    return np.append(np.datetime_as_string(days.astype("datetime64[D]"), unit="D"), "")[codes]


def _dates_in_quarters(rng: np.random.Generator, pop: Population, q: np.ndarray) -> np.ndarray:
    start = pop.timeline.quarter_start(q)
    length = (pop.timeline.quarter_end(q) - start).astype(int) + 1
    return start + (rng.random(len(q)) * length).astype(int).astype("timedelta64[D]")


#: Households a block: a county's household x quarter arrays are 0.4 GB each, so the
#: draws are made a block of households at a time. Each block's draws continue the same
#: random stream, so the world is the one a single draw would give.
_BLOCK = 65_536


def _by_block(n_h: int, draw: Callable[[slice], tuple[np.ndarray, np.ndarray]]
              ) -> tuple[np.ndarray, np.ndarray]:
    parts = [draw(slice(a, min(a + _BLOCK, n_h))) for a in range(0, n_h, _BLOCK)]
    return (np.concatenate([h for h, _ in parts]) if parts else np.zeros(0, int),
            np.concatenate([q for _, q in parts]) if parts else np.zeros(0, int))


def _events(rng: np.random.Generator, rate: Callable[[slice], np.ndarray], n_h: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events per household x quarter at ``rate(households)`` (a block's rates):
    (household, quarter) of each event."""
    def draw(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.poisson(rate(rows))
        h, q = np.nonzero(counts)
        reps = counts[h, q]
        return np.repeat(h + rows.start, reps), np.repeat(q, reps)
    return _by_block(n_h, draw)


def _cells(rng: np.random.Generator, p: Callable[[slice], np.ndarray], n_h: int, n_q: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """(household, quarter) of each cell where a uniform draw falls below
    ``p(households)`` (a block's probabilities)."""
    def draw(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        h, q = np.nonzero(rng.random((rows.stop - rows.start, n_q)) < p(rows))
        return h + rows.start, q
    return _by_block(n_h, draw)


def _postcodes(pop: Population, ward_names: pd.Series) -> np.ndarray:
    """Postcode units of about 15 neighbouring households, sector by ward."""
    hh = pop.households
    ward, names = pd.factorize(ward_names.reindex(hh[C.OA]), sort=True)
    oa = pd.factorize(hh[C.OA], sort=True)[0]
    order = np.lexsort((hh["easting"].to_numpy(), oa))
    order = order[np.argsort(ward[order], kind="stable")]  # by ward, then OA and easting
    w = ward[order]
    k = (np.arange(len(order)) - np.searchsorted(w, w)) // 15  # the unit within its ward
    per_ward = k.max(initial=0) + 1
    units, at = np.unique(w * per_ward + k, return_inverse=True)  # each code made once
    text = np.array([f"{_POSTCODE_DISTRICTS.get(names[i], f'SS{20 + i}')} {1 + i % 9 + j // 400}"
                     f"{_UNIT_LETTERS[(j // 20) % 20]}{_UNIT_LETTERS[j % 20]}"
                     for i, j in zip(*np.divmod(units, per_ward), strict=True)], dtype=object)
    codes = np.empty(len(hh), dtype=object)
    codes[order] = text[at]
    return codes


@dataclass(frozen=True)
class _Households:
    """What every partner's extract is drawn from: the population, the households' traits
    and identifiers (read only, so the extracts can be drawn in forked processes)."""

    pop: Population
    uprn: np.ndarray
    postcode: np.ndarray
    trait: dict[str, np.ndarray]
    h_child: np.ndarray  # each registered child's household
    child_id: np.ndarray
    adult_id: np.ndarray  # a parent of each household
    sibling_id: np.ndarray  # an older sibling of each household


def make_extracts(
    pop: Population, ward_names: pd.Series, *, seed: int
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Draw the nine partner extracts and the labelled children's outcomes.

    Each extract has its own random stream, so the six extracts of events are drawn on
    this machine's cores (:func:`~geo_risk.cores.local_map`) and the world is the same
    however many there are.

    Parameters
    ----------
    pop
        The synthetic population.
    ward_names
        Ward name of each OA (indexed by ``oa11cd``), for postcode districts.
    seed
        Seed of every random draw.

    Returns
    -------
    extracts
        Extract name -> table of strings with the columns in :data:`EXTRACTS`.
    children
        The truth about every registered child (identifier, household, outcome, ...).
    """
    ss = np.random.SeedSequence([seed, 0xE77]).spawn(9)
    rng = {name: np.random.default_rng(s) for name, s in zip(EXTRACTS, ss, strict=True)}
    hh, ch = pop.households, pop.children
    n_h = len(hh)
    ids = nhs_numbers(rng["child_register"], len(ch) + 2 * n_h)
    w = _Households(
        pop=pop, uprn=hh["uprn"].astype(str).to_numpy(), postcode=_postcodes(pop, ward_names),
        trait={k: hh[k].to_numpy() for k in ["family", "low_income", "lone_parent",
                                               "domestic_abuse", "substance", "youth_offending",
                                               "complex_needs", "eal"]},
        h_child=ch["household"].to_numpy(), child_id=ids[:len(ch)],
        adult_id=ids[len(ch):len(ch) + n_h], sibling_id=ids[len(ch) + n_h:])
    out = {"child_register": _child_register(rng["child_register"], w),
           "addresses": pd.DataFrame({
               "uprn": w.uprn, "easting": hh["easting"].map("{:.1f}".format),
               "northing": hh["northing"].map("{:.1f}".format), "postcode": w.postcode})}
    out["school_readiness"], truth_children = _school_readiness(
        rng["school_readiness"], w, out["child_register"]["first_language"].to_numpy())
    # the costliest first, so the cores finish together
    events = ["police", "housing", "social_care", "benefits", "drugs_alcohol",
              "youth_offending"]
    drawn = dict(zip(events, local_map(lambda name: _EVENTS[name](rng[name], w), events),
                     strict=True))
    out |= {name: drawn[name] for name in EXTRACTS if name in drawn}
    for name, table in out.items():
        assert list(table.columns) == EXTRACTS[name], name
    return out, truth_children


def _child_register(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    ch = w.pop.children
    sex = ch["sex"].to_numpy()
    n_h = len(w.uprn)
    forename = np.where(sex == "M", r.choice(_FORENAMES["M"], len(ch)),
                        r.choice(_FORENAMES["F"], len(ch)))
    family_surname = r.choice(_SURNAMES, n_h)
    household_language = r.choice(_LANGUAGES, n_h)
    h = w.h_child
    language = np.where(w.trait["eal"][h], household_language[h], "English")
    return pd.DataFrame({
        "child_id": w.child_id, "forename": forename, "surname": family_surname[h],
        "date_of_birth": _iso(ch["date_of_birth"].to_numpy()), "sex": sex,
        "uprn": w.uprn[h], "first_language": language,
    })


def _school_readiness(r: np.random.Generator, w: _Households, language: np.ndarray
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The labelled cohorts' outcomes, and the truth about every registered child."""
    pop, ch, h_child, child_id = w.pop, w.pop.children, w.h_child, w.child_id
    rows, q4 = labelled_children(pop)
    p_outcome = expit(pop.logit(rows, q4))
    not_gld = r.random(len(rows)) < p_outcome
    start = ch["school_year_start"].to_numpy()[rows] + 5
    order = np.lexsort((child_id[rows], start))
    results = pd.DataFrame({
        "child_id": child_id[rows], "uprn": w.uprn[h_child[rows]],
        "academic_year": [f"{y}/{(y + 1) % 100:02d}" for y in start],
        "gld": np.where(not_gld, "N", "Y"),
    }).iloc[order].reset_index(drop=True)
    truth = pd.DataFrame({
        "child_id": child_id, "uprn": w.uprn[h_child],
        C.OA: pop.households[C.OA].to_numpy()[h_child],
        "date_of_birth": ch["date_of_birth"].to_numpy(), "sex": ch["sex"].to_numpy(),
        "months_young": ch["months_young"].to_numpy(), "first_language": language,
        "assessed_on": assessment_dates(pop),
    })
    truth["labelled"] = False
    truth.loc[rows, "labelled"] = True
    truth.loc[rows, "p_not_gld_at_4"] = p_outcome
    truth.loc[rows, "gld"] = np.where(not_gld, "N", "Y")
    return results, truth


def _social_care(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    """Social care and early help episodes: services see part of the risk."""
    pop, trait, h_child = w.pop, w.trait, w.h_child
    tl, ch = pop.timeline, pop.children
    n_h, n_q = len(w.uprn), tl.n_quarters
    has_child = np.zeros((n_h, n_q), dtype=bool)
    dob_q = tl.quarter_of(ch["date_of_birth"].to_numpy())
    first_q = pd.Series(dob_q).groupby(h_child).min()
    has_child[first_q.index.to_numpy()] = np.arange(n_q) >= first_q.to_numpy()[:, None]
    has_child |= trait["family"][:, None] & (r.random(n_h) < 0.5)[:, None]  # older siblings
    eta = (-4.5 + 2.0 * trait["complex_needs"] + 0.9 * trait["domestic_abuse"]
           + 0.9 * trait["substance"] + 0.5 * trait["low_income"]
           + 0.4 * trait["youth_offending"])
    reach = pop.households["reach"].to_numpy()
    unstable = pop.unstable
    h, q = _cells(r, lambda b: expit(eta[b, None] + 0.7 * unstable[b]) * reach[b, None]
                  * has_child[b], n_h, n_q)
    start = _dates_in_quarters(r, pop, q)
    severe = trait["complex_needs"][h] | trait["domestic_abuse"][h]
    u = r.random(len(h))
    kind = np.select(
        [u < np.where(severe, 0.40, 0.70), u < np.where(severe, 0.70, 0.92),
         u < np.where(severe, 0.92, 0.98)],
        ["early help", "child in need", "child protection"], "looked after")
    mean_days = pd.Series({"early help": 150, "child in need": 240, "child protection": 300,
                           "looked after": 500})[kind].to_numpy()
    end = start + (r.gamma(2.0, mean_days / 2.0)).astype(int).astype("timedelta64[D]")
    end = np.where(end > tl.end, np.datetime64("NaT"), end)
    need = np.where(severe & (r.random(len(h)) < 0.6), "N1", r.choice(_NEEDS, len(h)))
    subject = _subject_child(h, start, h_child, ch["date_of_birth"].to_numpy(), w.child_id,
                             w.sibling_id)
    return _by_date(pd.DataFrame({
        "person_id": subject, "uprn": w.uprn[h], "start_date": _iso(start),
        "end_date": _iso(end), "episode_type": kind, "primary_need": need}), "start_date")


def _youth_offending(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    n_h, n_q = len(w.uprn), w.pop.timeline.n_quarters
    yo = w.trait["youth_offending"]
    h, q = _events(r, lambda b: np.broadcast_to(0.08 * yo[b, None], (b.stop - b.start, n_q)),
                   n_h)
    outcomes = ["community resolution", "youth caution", "youth conditional caution",
                "referral order", "youth rehabilitation order", "custody"]
    return _by_date(pd.DataFrame({
        "person_id": w.sibling_id[h], "uprn": w.uprn[h],
        "offence_date": _iso(_dates_in_quarters(r, w.pop, q)),
        "outcome": r.choice(outcomes, len(h), p=[0.3, 0.2, 0.15, 0.2, 0.12, 0.03])}),
        "offence_date")


def _drugs_alcohol(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    pop, tl = w.pop, w.pop.timeline
    unstable = pop.unstable
    treated = _recorded(pop.households, "substance", tl.n_quarters)  # reaching treatment
    h, q = _events(r, lambda b: 0.035 * treated(b) + 0.02 * unstable[b] * treated(b)
                   + 0.0015, len(w.uprn))
    referral = _dates_in_quarters(r, pop, q)
    discharge = referral + r.gamma(2.0, 100.0, len(h)).astype(int).astype("timedelta64[D]")
    discharge = np.where(discharge > tl.end, np.datetime64("NaT"), discharge)
    return _by_date(pd.DataFrame({
        "person_id": w.adult_id[h], "uprn": w.uprn[h], "referral_date": _iso(referral),
        "discharge_date": _iso(discharge),
        "substance": r.choice(["alcohol", "cannabis", "opiates", "crack", "other"], len(h),
                              p=[0.45, 0.2, 0.2, 0.1, 0.05])}), "referral_date")


def _housing(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    """What instability leaves in the housing register."""
    pop, trait = w.pop, w.trait
    unstable = pop.unstable
    n_h, n_q = unstable.shape
    entered = unstable & ~np.column_stack([np.zeros(n_h, bool), unstable[:, :-1]])
    asb = 0.004 + 0.02 * trait["youth_offending"] + 0.01 * trait["substance"]
    kinds = []
    for event_type, p in [
            ("homelessness application", lambda b: np.where(entered[b], 0.6, 0.0)),
            ("temporary accommodation",
             lambda b: np.where(entered[b], 0.35 + 0.25 * pop.area_effect[b], 0.0)),
            ("rent arrears", lambda b: np.where(unstable[b], 0.45, 0.0)),
            ("overcrowding", lambda b: np.where(unstable[b], 0.08, 0.0)),
            ("ASB complaint", lambda b: asb[b, None])]:
        h, q = _cells(r, p, n_h, n_q)
        kinds.append(pd.DataFrame({"h": h, "q": q, "event_type": event_type}))
    ev = pd.concat(kinds, ignore_index=True)
    return _by_date(pd.DataFrame({
        "uprn": w.uprn[ev["h"]], "postcode": w.postcode[ev["h"]],
        "event_date": _iso(_dates_in_quarters(r, pop, ev["q"].to_numpy())),
        "event_type": ev["event_type"]}), "event_date")


def _by_date(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Sort as a partner system would export: by date, ties kept in a stable order.

    Two draws of the same event on the same day are one record: clean extracts have no
    exact duplicate rows, so every duplicate in a messy extract is a planted defect.
    """
    table = table.sort_values(column, kind="stable").drop_duplicates()
    return table.reset_index(drop=True)


def _subject_child(h, start, h_child, dob, child_id, sibling_id) -> np.ndarray:
    """The household's youngest child born by ``start``, else its older sibling."""
    episodes = pd.DataFrame({"h": h, "start": start, "pos": np.arange(len(h))})
    kids = pd.DataFrame({"h": h_child, "dob": dob, "id": child_id})
    matched = pd.merge_asof(episodes.sort_values("start"), kids.sort_values("dob"),
                            left_on="start", right_on="dob", by="h", direction="backward")
    matched = matched.sort_values("pos")
    return np.where(matched["id"].isna(), sibling_id[h], matched["id"].to_numpy())


def _benefits(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    pop, uprn, postcode, trait = w.pop, w.uprn, w.postcode, w.trait
    tl = pop.timeline
    window_start = tl.quarter_start(0)
    li = np.flatnonzero(trait["low_income"])
    start = np.datetime64("2005-01-01") + r.integers(0, 9 * 365, len(li)).astype("timedelta64[D]")
    ended = r.random(len(li)) < 0.15
    end = start + r.integers(180, 6 * 365, len(li)).astype("timedelta64[D]")
    end = np.where(ended & (end < tl.end), end, np.datetime64("NaT"))
    rows = [pd.DataFrame({"h": li, "start": start, "end": end})]
    restart = li[ended]  # a later claim after a gap
    restart_start = end[ended] + r.integers(60, 720, ended.sum()).astype("timedelta64[D]")
    rows.append(pd.DataFrame({"h": restart, "start": restart_start, "end": np.datetime64("NaT")}))
    other = np.flatnonzero(~trait["low_income"] & (r.random(len(uprn)) < 0.08))
    s = window_start + r.integers(0, int((tl.end - window_start).astype(int)),
                                  len(other)).astype("timedelta64[D]")
    rows.append(pd.DataFrame({"h": other, "start": s,
                              "end": s + r.integers(90, 540, len(other)).astype("timedelta64[D]")}))
    claims = pd.concat(rows, ignore_index=True)
    claims = claims[(claims["start"] <= tl.end)
                    & (claims["end"].isna() | (claims["end"] >= window_start))]
    claims["end"] = claims["end"].where(claims["end"] <= tl.end)
    uc = claims["start"] >= np.datetime64("2016-04-01")
    renter = r.random(len(claims)) < 0.7
    main = np.where(uc, "universal credit", np.where(renter, "housing benefit",
                                                      "council tax reduction"))
    claims = pd.concat([claims.assign(benefit=main),
                        claims[~uc & renter].assign(benefit="council tax reduction")])
    h = claims["h"].to_numpy()
    band = np.where(trait["low_income"][h], r.choice(_INCOME_BANDS[:2], len(h)),
                    r.choice(_INCOME_BANDS[1:], len(h)))
    return _by_date(pd.DataFrame({
        "uprn": uprn[h], "postcode": postcode[h],
        "claim_start": _iso(claims["start"].to_numpy()),
        "claim_end": _iso(claims["end"].to_numpy(dtype="datetime64[ns]")),
        "benefit": claims["benefit"].to_numpy(),
        "lone_parent": np.where(trait["lone_parent"][h], "Y", "N"),
        "income_band": band}), "claim_start")


def _recorded(hh: pd.DataFrame, trait: str, quarters: int) -> Callable[[slice], np.ndarray]:
    """A block of households' ``trait`` per quarter as services can see it: held then
    (it may start during the timeline) and told to them (1.0 or 0.0)."""
    start = hh[f"{trait}_from"].to_numpy()
    told = hh[f"{trait}_told"].to_numpy()
    q = np.arange(quarters)
    return lambda b: ((start[b, None] <= q) & told[b, None]).astype(float)


def _police(r: np.random.Generator, w: _Households) -> pd.DataFrame:
    pop, uprn, trait = w.pop, w.uprn, w.trait
    hh = pop.households
    n_q = pop.timeline.n_quarters
    tables = []
    def per_household(rate: np.ndarray) -> Callable[[slice], np.ndarray]:
        return lambda b: np.broadcast_to(rate[b, None], (b.stop - b.start, n_q))

    da = trait["domestic_abuse"]
    reported = _recorded(hh, "domestic_abuse", n_q)  # abuse that reaches the police
    rates = {
        "domestic abuse": lambda b: 0.10 * reported(b) * (1 + 0.5 * pop.unstable[b]),
        "violence": per_household(0.004 + 0.02 * da),
        "drugs": per_household(0.002 + 0.03 * trait["substance"]),
        "ASB": per_household(0.006 + 0.02 * trait["youth_offending"]),
        "other": per_household(np.full(len(hh), 0.006)),
    }
    for category, rate in rates.items():
        h, q = _events(r, rate, len(hh))
        tables.append(pd.DataFrame({"h": h, "q": q, "category": category}))
    ev = pd.concat(tables, ignore_index=True)
    h = ev["h"].to_numpy()
    date = _dates_in_quarters(r, pop, ev["q"].to_numpy())
    street = (ev["category"].to_numpy() != "domestic abuse") & (r.random(len(ev)) < 0.25)
    # street incidents carry a grid location in the home's OA (to 10 m), not a UPRN
    e = hh["street_easting"].to_numpy()[h]
    n = hh["street_northing"].to_numpy()[h]
    role = np.where(ev["category"].to_numpy() == "domestic abuse",
                    r.choice(["victim", "suspect", "witness"], len(ev), p=[0.55, 0.35, 0.1]),
                    r.choice(["victim", "suspect", "witness", "other"], len(ev)))
    def grid(metres: np.ndarray) -> np.ndarray:
        out = np.full(len(metres), "", dtype=object)
        out[street] = np.round(metres[street]).astype(np.int64).astype(str)  # as f"{v:.0f}"
        return out

    table = pd.DataFrame({
        "date": date, "uprn": np.where(street, "", uprn[h]),
        "easting": grid(e), "northing": grid(n),
        "category": ev["category"].to_numpy(), "role": role,
    }).sort_values("date", kind="stable").reset_index(drop=True)
    years = (table["date"].dt.year % 100).astype(str).str.zfill(2)
    serial = pd.Series(np.arange(1, len(table) + 1)).astype(str).str.zfill(6)
    table.insert(0, "incident_id", ("42/" + serial + "/" + years).to_numpy())  # 42/000001/17
    table.insert(1, "incident_date", _iso(table.pop("date").to_numpy()))
    return table


#: The extracts of events, each drawn from its own random stream.
_EVENTS: dict[str, Callable[[np.random.Generator, _Households], pd.DataFrame]] = {
    "social_care": _social_care, "youth_offending": _youth_offending,
    "drugs_alcohol": _drugs_alcohol, "housing": _housing, "benefits": _benefits,
    "police": _police}
