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

import numpy as np
import pandas as pd
from scipy.special import expit

from geo_risk import columns as C
from geo_risk.identifiers import nhs_check_digit
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


def make_extracts(
    pop: Population, ward_names: pd.Series, *, seed: int
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Draw the nine partner extracts and the labelled children's outcomes.

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
    tl, hh, ch = pop.timeline, pop.households, pop.children
    n_h, n_q = len(hh), tl.n_quarters
    uprn = hh["uprn"].astype(str).to_numpy()
    postcode = _postcodes(pop, ward_names)
    trait = {k: hh[k].to_numpy() for k in ["family", "low_income", "lone_parent",
                                              "domestic_abuse", "substance", "youth_offending",
                                              "complex_needs", "eal"]}
    unstable = pop.unstable

    ids = nhs_numbers(rng["child_register"], len(ch) + 2 * n_h)
    child_id, adult_id, sibling_id = ids[:len(ch)], ids[len(ch):len(ch) + n_h], ids[len(ch) + n_h:]
    out: dict[str, pd.DataFrame] = {}

    # child register
    r = rng["child_register"]
    sex = ch["sex"].to_numpy()
    h_child = ch["household"].to_numpy()
    forename = np.where(sex == "M", r.choice(_FORENAMES["M"], len(ch)),
                        r.choice(_FORENAMES["F"], len(ch)))
    family_surname = r.choice(_SURNAMES, n_h)
    household_language = r.choice(_LANGUAGES, n_h)
    language = np.where(trait["eal"][h_child], household_language[h_child], "English")
    out["child_register"] = pd.DataFrame({
        "child_id": child_id, "forename": forename, "surname": family_surname[h_child],
        "date_of_birth": _iso(ch["date_of_birth"].to_numpy()), "sex": sex,
        "uprn": uprn[h_child], "first_language": language,
    })

    # addresses
    out["addresses"] = pd.DataFrame({
        "uprn": uprn, "easting": hh["easting"].map("{:.1f}".format),
        "northing": hh["northing"].map("{:.1f}".format), "postcode": postcode,
    })

    # school readiness: outcomes of the labelled cohorts
    r = rng["school_readiness"]
    rows, q4 = labelled_children(pop)
    p_outcome = expit(pop.logit(rows, q4))
    not_gld = r.random(len(rows)) < p_outcome
    start = ch["school_year_start"].to_numpy()[rows] + 5
    order = np.lexsort((child_id[rows], start))
    out["school_readiness"] = pd.DataFrame({
        "child_id": child_id[rows], "uprn": uprn[h_child[rows]],
        "academic_year": [f"{y}/{(y + 1) % 100:02d}" for y in start],
        "gld": np.where(not_gld, "N", "Y"),
    }).iloc[order].reset_index(drop=True)
    truth_children = pd.DataFrame({
        "child_id": child_id, "uprn": uprn[h_child], C.OA: hh[C.OA].to_numpy()[h_child],
        "date_of_birth": ch["date_of_birth"].to_numpy(), "sex": sex,
        "months_young": ch["months_young"].to_numpy(), "first_language": language,
        "assessed_on": assessment_dates(pop),
    })
    truth_children["labelled"] = False
    truth_children.loc[rows, "labelled"] = True
    truth_children.loc[rows, "p_not_gld_at_4"] = p_outcome
    truth_children.loc[rows, "gld"] = np.where(not_gld, "N", "Y")

    # social care and early help: services see part of the risk
    r = rng["social_care"]
    has_child = np.zeros((n_h, n_q), dtype=bool)
    dob_q = tl.quarter_of(ch["date_of_birth"].to_numpy())
    first_q = pd.Series(dob_q).groupby(h_child).min()
    has_child[first_q.index.to_numpy()] = np.arange(n_q) >= first_q.to_numpy()[:, None]
    has_child |= trait["family"][:, None] & (r.random(n_h) < 0.5)[:, None]  # older siblings
    eta = (-4.5 + 2.0 * trait["complex_needs"] + 0.9 * trait["domestic_abuse"]
           + 0.9 * trait["substance"] + 0.5 * trait["low_income"]
           + 0.4 * trait["youth_offending"])
    reach = hh["reach"].to_numpy()
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
    subject = _subject_child(h, start, h_child, ch["date_of_birth"].to_numpy(), child_id,
                             sibling_id)
    out["social_care"] = _by_date(pd.DataFrame({
        "person_id": subject, "uprn": uprn[h], "start_date": _iso(start), "end_date": _iso(end),
        "episode_type": kind, "primary_need": need}), "start_date")

    # youth offending
    r = rng["youth_offending"]
    h, q = _events(r, lambda b: np.broadcast_to(0.08 * trait["youth_offending"][b, None],
                                                (b.stop - b.start, n_q)), n_h)
    outcomes = ["community resolution", "youth caution", "youth conditional caution",
                "referral order", "youth rehabilitation order", "custody"]
    out["youth_offending"] = _by_date(pd.DataFrame({
        "person_id": sibling_id[h], "uprn": uprn[h],
        "offence_date": _iso(_dates_in_quarters(r, pop, q)),
        "outcome": r.choice(outcomes, len(h), p=[0.3, 0.2, 0.15, 0.2, 0.12, 0.03])}),
        "offence_date")

    # drugs and alcohol
    r = rng["drugs_alcohol"]
    substance = trait["substance"]
    h, q = _events(r, lambda b: (0.035 * substance[b])[:, None]
                   + 0.02 * unstable[b] * substance[b, None] + 0.0015, n_h)
    referral = _dates_in_quarters(r, pop, q)
    discharge = referral + r.gamma(2.0, 100.0, len(h)).astype(int).astype("timedelta64[D]")
    discharge = np.where(discharge > tl.end, np.datetime64("NaT"), discharge)
    out["drugs_alcohol"] = _by_date(pd.DataFrame({
        "person_id": adult_id[h], "uprn": uprn[h], "referral_date": _iso(referral),
        "discharge_date": _iso(discharge),
        "substance": r.choice(["alcohol", "cannabis", "opiates", "crack", "other"], len(h),
                              p=[0.45, 0.2, 0.2, 0.1, 0.05])}), "referral_date")

    # housing: what instability leaves in the housing register
    r = rng["housing"]
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
    out["housing"] = _by_date(pd.DataFrame({
        "uprn": uprn[ev["h"]], "postcode": postcode[ev["h"]],
        "event_date": _iso(_dates_in_quarters(r, pop, ev["q"].to_numpy())),
        "event_type": ev["event_type"]}), "event_date")

    out["benefits"] = _benefits(rng["benefits"], pop, uprn, postcode, trait)
    out["police"] = _police(rng["police"], pop, uprn, trait)
    for name, table in out.items():
        assert list(table.columns) == EXTRACTS[name], name
    return out, truth_children


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


def _benefits(r, pop: Population, uprn, postcode, trait) -> pd.DataFrame:
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


def _police(r, pop: Population, uprn, trait) -> pd.DataFrame:
    hh = pop.households
    n_q = pop.timeline.n_quarters
    tables = []
    def per_household(rate: np.ndarray) -> Callable[[slice], np.ndarray]:
        return lambda b: np.broadcast_to(rate[b, None], (b.stop - b.start, n_q))

    da = trait["domestic_abuse"]
    rates = {
        "domestic abuse": lambda b: (0.10 * da[b])[:, None] * (1 + 0.5 * pop.unstable[b]),
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
