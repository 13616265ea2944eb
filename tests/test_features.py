"""Features as of a reference date: correct on a hand-built household, and leak-proof."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from geo_risk import columns as C
from geo_risk.inputs.link import Linked
from geo_risk.model.features import build_feature_tables, household_features

MAIN_DATE = {"social_care": "start_date", "housing": "event_date", "benefits": "claim_start",
             "police": "incident_date", "youth_offending": "offence_date",
             "drugs_alcohol": "referral_date", "child_register": "date_of_birth"}
END_DATE = {"social_care": "end_date", "benefits": "claim_end", "drugs_alcohol": "discharge_date"}


def _linked(events: dict[str, pd.DataFrame]) -> Linked:
    households = pd.DataFrame({"household_key": ["h1", "h2"], C.OA: ["E00900001"] * 2})
    return Linked(households, events, {}, pd.DataFrame(), pd.DataFrame())


def test_hand_built_household():
    d = pd.Timestamp
    events = {
        "housing": pd.DataFrame({"household_key": ["h1"] * 4, "row": range(4),
                                 "event_date": [d("2017-11-01"), d("2017-02-01"),
                                                d("2016-06-01"), d("2018-01-05")],
                                 "event_type": ["rent arrears", "temporary accommodation",
                                                "homelessness application", "rent arrears"]}),
        "social_care": pd.DataFrame({"household_key": ["h1", "h1"], "row": [1, 2],
                                     "start_date": [d("2015-01-01"), d("2017-10-01")],
                                     "end_date": [d("2015-06-01"), d("2018-03-01")],
                                     "episode_type": ["early help", "child in need"]}),
        "benefits": pd.DataFrame({"household_key": ["h1"], "row": [1],
                                  "claim_start": [d("2012-01-01")], "claim_end": [pd.NaT],
                                  "benefit": ["housing benefit"], "lone_parent": [True],
                                  "income_band": ["£7,500–£14,999"]}),
    }
    pairs = pd.DataFrame({"household_key": ["h1", "h2"], "as_of": [d("2017-12-31")] * 2})
    f = household_features(_linked(events), pairs)
    h1, h2 = f.iloc[0], f.iloc[1]
    assert (h1["hs_12m"], h1["hs_24m"], h1["hs_ta_24m"], h1["hs_arrears_12m"]) == (2, 3, 1, 1)
    assert h1["hs_months_since"] == pytest.approx(60 / 30.4375)
    assert bool(h1["sc_open"]) and h1["sc_level"] == 2 and h1["sc_24m"] == 1
    assert bool(h1["bn_open"]) and bool(h1["bn_lone_parent"]) and bool(h1["bn_low_income"])
    assert h2["hs_24m"] == 0 and h2["sc_60m"] == 0 and np.isnan(h2["hs_months_since"])


def test_area_rates_count_incidents_placed_by_grid_reference_alone(monkeypatch):
    """A domestic abuse incident with a grid reference and no UPRN happened in its output
    area as much as one at a home there (once left out of the area's rate)."""
    d = pd.Timestamp
    households = pd.DataFrame({"household_key": ["h1", "h2", "h3"],
                               C.OA: ["E00900001", "E00900001", "E00900002"],
                               C.LAD: ["E07900001", "E07900001", "E07900002"]})
    police = pd.DataFrame({"household_key": ["h1"], "row": [2], "incident_date": [d("2017-05-01")],
                           "category": ["domestic abuse"]})
    placed = pd.DataFrame({"household_key": [""] * 4, "row": [3, 4, 5, 6],
                           C.OA: ["E00900001", "E00900001", "E00900002", "E00900099"],
                           "incident_date": [d("2017-06-01"), d("2017-07-01"),
                                             d("2016-01-01"), d("2017-06-01")],
                           "category": ["domestic abuse", "other", "domestic abuse",
                                        "domestic abuse"]})
    linked = Linked(households, {"police": police}, {"police": placed}, pd.DataFrame(),
                    pd.DataFrame())
    pairs = pd.DataFrame({"household_key": ["h1", "h2", "h3"], "as_of": [d("2017-12-31")] * 3})
    whole = household_features(linked, pairs)
    assert whole["area_da_12m"].tolist() == [1.0, 1.0, 0.0]  # 2 incidents / 2 homes; too old
    monkeypatch.setattr(Linked, "districts", property(lambda self: (
        np.array(["E07900001", "E07900002"]), np.array([0, 0, 1]),
        {"police": np.zeros(len(self.events["police"]), dtype=int)})))
    assert household_features(linked, pairs)["area_da_12m"].tolist() == [1.0, 1.0, 0.0]


def _knowable_at(events: dict[str, pd.DataFrame], ref: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """What the partners' systems held on the reference date."""
    out = {}
    for source, table in events.items():
        if source in MAIN_DATE:
            table = table[table[MAIN_DATE[source]] <= ref].copy()
        if source in END_DATE:
            end = END_DATE[source]
            table[end] = table[end].where(table[end] <= ref)
        if source == "school_readiness":
            year_end = table["academic_year"].str[:4].astype(int) + 1
            table = table[pd.to_datetime(year_end.astype(str) + "-10-31") <= ref]
        out[source] = table
    return out


def _future_copies(events: dict[str, pd.DataFrame], ref: pd.Timestamp, rng) -> dict:
    """Every source gets copies of its rows dated 1 day to 3 years after the reference date."""
    out = {}
    for source, table in events.items():
        extra = table.sample(frac=0.3, random_state=rng).copy()
        shift = pd.to_timedelta(rng.integers(1, 3 * 365, len(extra)), unit="D")
        if source in MAIN_DATE:
            col = MAIN_DATE[source]
            extra[col] = ref + shift
        if source in END_DATE:
            extra[END_DATE[source]] = ref + shift + pd.Timedelta(days=30)
        if source == "school_readiness":
            extra["academic_year"] = f"{ref.year}/{(ref.year + 1) % 100:02d}"
            extra["gld"] = ~extra["gld"].astype(bool)
        out[source] = pd.concat([table, extra], ignore_index=True)
    return out


@pytest.mark.parametrize("reference_date", ["2014-06-30", "2014-12-31"])
def test_nothing_after_the_reference_date_changes_a_feature(messy_linked, reference_date):
    ref = pd.Timestamp(reference_date)
    rng = np.random.default_rng(11)
    base = build_feature_tables(messy_linked, ref)
    for events in [_knowable_at(messy_linked.events, ref),
                   _future_copies(messy_linked.events, ref, rng)]:
        other = build_feature_tables(_linked_like(messy_linked, events), ref)
        for name, key in [("children", ["child_key"]), ("households", ["household_key"])]:
            a = getattr(base, name).sort_values(key).reset_index(drop=True)
            b = getattr(other, name).sort_values(key).reset_index(drop=True)
            assert_frame_equal(a, b[a.columns], check_dtype=False)
    assert base.counts["children_labelled"] > 1000 and base.counts["children_current"] > 5000


def _linked_like(linked: Linked, events: dict[str, pd.DataFrame]) -> Linked:
    return Linked(linked.households, events, linked.area_events, linked.report, linked.rejects)


def test_labelled_children_are_seen_at_three_and_a_half(messy_linked):
    tables = build_feature_tables(messy_linked, "2014-12-31")
    lab = tables.children[tables.children["role"] == "labelled"]
    assert (lab["age_months"] == 42).all()
    assert set(lab["academic_year"]) == {"2012/13", "2013/14"}  # 2014/15 not yet published
    cur = tables.children[tables.children["role"] == "current"]
    assert cur["age_months"].between(0, 59).all() and cur["not_gld"].isna().all()
    assert set(tables.households["household_key"]) == set(cur["household_key"])


def test_area_results_use_only_published_years_shrunk_to_the_district():
    """The area's recent results: the last three published academic years of its own
    output area, shrunk towards the district with 20 children's weight for three years'
    results (a third of that for each year the window holds); nothing published after
    the as-of date; NaN before anything is published."""
    from geo_risk.model.features import _area_results, _Homes

    households = pd.DataFrame({"household_key": ["a1", "a2", "b1"],
                               C.OA: ["E1", "E1", "E2"]})
    rows = [("a1", "2012/13", False)] * 4 + [("a2", "2013/14", True)] * 6 \
        + [("b1", "2013/14", False)] * 10 + [("a1", "2016/17", False)] * 30
    results = pd.DataFrame(rows, columns=["household_key", "academic_year", "gld"])
    linked = Linked(households, {"school_readiness": results}, {}, pd.DataFrame(),
                    pd.DataFrame())
    pairs = pd.DataFrame({"household_key": ["a2", "a2", "b1", "a1"],
                          "as_of": pd.to_datetime(["2013-10-30", "2015-01-01", "2015-01-01",
                                                   "2017-10-30"])})
    got = _area_results(_Homes.of(linked), pairs, results)
    assert np.isnan(got[0])  # 2012/13 results are published on 31 October 2013
    district = 14 / 20  # 2012/13 and 2013/14: 4 + 10 of 20 children did not reach GLD
    prior = 20 * 2 / 3  # two years of results published
    assert got[1] == pytest.approx((4 + prior * district) / (10 + prior))  # E1: 4 of 10
    assert got[2] == pytest.approx((10 + prior * district) / (10 + prior))  # E2: 10 of 10
    # 2016/17 is not published until 31 October 2017, so the last three published years
    # are 2013/14 to 2015/16: only 2013/14 has results (E1: 0 of 6; the district: 10 of
    # 16); a gap in the extract's years is not filled with older ones
    assert got[3] == pytest.approx((0 + 20 / 3 * 10 / 16) / (6 + 20 / 3))


def test_an_area_with_the_same_results_every_year_is_described_alike_from_the_first():
    """While the first results come in, an area's share is shrunk as much as later: an
    area whose results are the same every year has the same share after one year as after
    three, so a model's risk in a steadily different area does not drift with them."""
    from geo_risk.model.features import _area_results, _Homes

    households = pd.DataFrame({"household_key": ["a", "b"], C.OA: ["E1", "E2"]})
    rows = []
    for year in ["2012/13", "2013/14", "2014/15"]:
        rows += [("a", year, False)] * 3 + [("a", year, True)] * 2  # E1: 3 of 5 not GLD
        rows += [("b", year, False)] * 1 + [("b", year, True)] * 9  # E2: 1 of 10
    results = pd.DataFrame(rows, columns=["household_key", "academic_year", "gld"])
    linked = Linked(households, {"school_readiness": results}, {}, pd.DataFrame(),
                    pd.DataFrame())
    pairs = pd.DataFrame({"household_key": ["a"] * 3 + ["b"] * 3,
                          "as_of": pd.to_datetime(["2014-01-01", "2015-01-01",
                                                   "2016-01-01"] * 2)})
    got = _area_results(_Homes.of(linked), pairs, results)
    district = 4 / 15
    assert got[:3] == pytest.approx([(3 + 20 / 3 * district) / (5 + 20 / 3)] * 3)
    assert got[3:] == pytest.approx([(1 + 20 / 3 * district) / (10 + 20 / 3)] * 3)


def test_risk_by_refresh_scores_every_refresh_with_one_model(messy_linked):
    from geo_risk.areas import risk_by_refresh
    from geo_risk.model.estimator import RiskModel, feature_columns

    tables = build_feature_tables(messy_linked, "2014-12-31")
    labelled = tables.children[tables.children["role"] == "labelled"]
    model = RiskModel(max_iter=30, random_state=0).fit(
        labelled[feature_columns(tables.children)], labelled["not_gld"].astype(bool),
        groups=labelled["household_key"])
    refreshes = risk_by_refresh(messy_linked, ["2014-06-30", "2014-12-31"], model)
    risk = refreshes.mean
    current = tables.children[tables.children["role"] == "current"]
    own = pd.Series(model.predict_proba(current)[:, 1]).groupby(current[C.OA].to_numpy())
    pd.testing.assert_series_equal(risk["2014-12-31"].dropna(), own.mean(),
                                   check_names=False)
    assert (refreshes.children.sum() > 10_000).all()
    assert list(risk.columns) == ["2014-06-30", "2014-12-31"]
    assert risk.notna().all().all() and ((risk > 0) & (risk < 1)).all().all()
    assert risk.index.str.fullmatch(r"E00\d{6}").all() and len(risk) > 500


def test_risk_by_refresh_is_the_same_in_pieces(messy_linked, monkeypatch):
    import geo_risk.areas.refresh as pipeline
    from geo_risk.model.estimator import RiskModel, feature_columns

    tables = build_feature_tables(messy_linked, "2014-12-31")
    labelled = tables.children[tables.children["role"] == "labelled"]
    model = RiskModel(max_iter=30, random_state=0).fit(
        labelled[feature_columns(tables.children)], labelled["not_gld"].astype(bool),
        groups=labelled["household_key"])
    dates = ["2013-12-31", "2014-06-30", "2014-12-31"]
    monkeypatch.setattr(pipeline, "_CHILD_DATES_AT_ONCE", 10**9)  # every refresh at once
    whole = pipeline.risk_by_refresh(messy_linked, dates, model)
    monkeypatch.setattr(pipeline, "_CHILD_DATES_AT_ONCE", 1)  # one refresh a piece
    pieces = pipeline.risk_by_refresh(messy_linked, dates, model)
    pd.testing.assert_frame_equal(pieces.mean, whole.mean, rtol=1e-12)
    pd.testing.assert_frame_equal(pieces.se, whole.se, rtol=1e-12)
    pd.testing.assert_frame_equal(pieces.children, whole.children)


def test_refresh_risk_by_group_weights_by_children():
    from geo_risk.areas import RefreshRisk

    mean = pd.DataFrame({"2017-09-30": [0.2, 0.6, 0.9], "2017-12-31": [0.4, 0.6, None]},
                        index=["A", "B", "C"])
    children = pd.DataFrame({"2017-09-30": [3, 1, 2], "2017-12-31": [1, 1, 0]},
                            index=["A", "B", "C"])
    wards = pd.Series(["W1", "W1", "W2"], index=["A", "B", "C"])
    by = RefreshRisk(mean, children).by(wards)
    assert by.loc["W1", "2017-09-30"] == pytest.approx((3 * 0.2 + 0.6) / 4)
    assert by.loc["W1", "2017-12-31"] == pytest.approx(0.5)
    assert by.loc["W2", "2017-09-30"] == pytest.approx(0.9)
    assert pd.isna(by.loc["W2", "2017-12-31"])  # no under-fives: no rate, not zero


def test_every_refresh_described_in_one_pass_as_each_alone(messy_linked):
    """The refreshes' under-fives described together (as the hotspot series is) are the
    rows each refresh's own feature tables give, value for value."""
    from geo_risk.model.features import current_children

    dates = ["2016-12-31", "2017-06-30", "2017-12-31"]
    together = current_children(messy_linked, dates)
    alone = pd.concat([build_feature_tables(messy_linked, d).children.query("role == 'current'")
                       for d in dates], ignore_index=True)
    assert len(together) == len(alone) > 1000
    key = ["as_of", "child_key"]
    together = together.sort_values(key).reset_index(drop=True)
    alone = alone.sort_values(key).reset_index(drop=True)[together.columns]
    pd.testing.assert_frame_equal(together, alone, check_dtype=False)


def test_sex_and_language_as_registers_and_the_school_census_write_them():
    from geo_risk.model.features import _MALE, _other_language

    language = pd.Series(["English", "ENG", "ENB", "Polish", "OTB", "NOT", "REF", "", "Urdu"])
    eal = _other_language(language)
    assert eal.fillna(-1).tolist() == [0, 0, 0, 1, 1, -1, -1, -1, 1]
    assert pd.Series(["m", "f", ""]).map(_MALE).fillna(-1).tolist() == [1, 0, -1]
