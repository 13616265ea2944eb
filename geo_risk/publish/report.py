"""The partnership-board report: one self-contained HTML page.

Written for a board member reading it once: the headline with its denominators, where
risk is highest, the known and newly identified areas of concern, what changed since the
previous refresh, links to the maps, what the model can and cannot do, and how the
figures were made. Every count is a published one (under the run's disclosure rules);
nothing comes from ``restricted/``. No external resource is loaded.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk.areas.community import MIN_MENTIONS, OVER_DISTRICT
from geo_risk.areas.disclosure import SAFE, Disclosure
from geo_risk.areas.hotspots import EMERGING, STABLE, moved_into, weights_choice
from geo_risk.model.outcomes import Outcome
from geo_risk.publish.maps import LEGEND_CSS, MapContext, interval_text, site_rows
from geo_risk.publish.model_card import (
    EARLY_WARNING,
    INTENDED_USE,
    early_warning_words,
    fairness_words,
)
from geo_risk.publish.symbology import WITHHELD, long_date, show_count
from geo_risk.publish.tables import TABLE_CSS, html_table
from geo_risk.siting.plan import SitingOutputs

__all__ = ["ReportInputs", "write_report"]



@dataclass
class ReportInputs:
    """Everything the report shows, already published (disclosure-controlled)."""

    ctx: MapContext
    model: dict  # run.json "model" section
    hotspots_summary: dict  # run.json "hotspots" section
    ward: pd.DataFrame  # published ward table
    district: pd.DataFrame  # published district table
    oa_hotspots: pd.DataFrame  # per OA: ehsa_category, concern
    oa_wards: pd.Series  # OA -> ward name
    ward_change: pd.DataFrame  # ward name -> previous, latest (mean predicted risk)
    previous_date: str
    maps: dict[str, str]  # title -> relative link
    linkage_match: tuple[float, float]  # lowest and highest match rate
    preview: str  # static map (svg_preview)
    siting: SitingOutputs | None = None
    disclosure: Disclosure = SAFE
    retention: str = ""  # how long restricted material is kept (run_info's words)
    reviews: dict | None = None  # the last run's flags as practitioners reviewed them
    since: dict | None = None  # what changed since the last run (geo_risk.run.compare, published)
    synthetic: bool = False  # True only for a run on the synthetic generator's households
    oa_districts: pd.Series | None = None  # OA -> district name, for a run over several
    # what the community says beside the data, by ward, and its summary (published)
    community: tuple[pd.DataFrame, dict] | None = None


def _e(text) -> str:
    return html.escape(str(text))


def _table(frame: pd.DataFrame, caption: str) -> str:
    return html_table(frame, caption)


def _pct(value) -> str:
    return WITHHELD if pd.isna(value) else f"{value:.0%}"


def _community(by_ward: pd.DataFrame, said: dict, rules: Disclosure) -> str:
    """The community's view beside the data's, by ward, and what each adds."""
    def names(key: str) -> str:
        wards = said[key]
        return ", ".join(_e(w) for w in wards) if wards else "no ward"

    n = rules.count(said["rows_used"])
    when = (f" dated {_e(long_date(said['first_date']))} to {_e(long_date(said['last_date']))}"
            if said["first_date"] else "")
    text = (
        f"<p>Residents, community groups and frontline staff named {n} places or areas of "
        f"concern in the consultations imported ({_e(said['file'])}){when}. Set beside the "
        "areas of concern the data finds:</p><ul>"
        f"<li><strong>Both see concern</strong> in {names('both_wards')}: the strongest "
        "case for acting there.</li>"
        f"<li><strong>Only the community does</strong> in {names('community_only_wards')}: "
        "what the records do not hold (needs that do not reach services, or concerns "
        "other than this outcome); worth hearing before deciding the data is right.</li>"
        f"<li><strong>Only the data does</strong> in {names('data_only_wards')}: risk the "
        "consultations named seldom or not at all; worth asking the community there.</li>"
        "</ul><p>A ward is the community's concern where it was named at least "
        f"{MIN_MENTIONS} times and at least {OVER_DISTRICT:g} times as often, for its number "
        "of output areas, as the district as a whole; the data's where any of its output "
        "areas is in an area of concern.</p>"
        "<p>Free text from the consultations is never published; rows holding a person's "
        "details were refused. Counts of mentions are rounded and small ones withheld.</p>")
    shown = by_ward[by_ward["view"] != "neither"].rename(columns={
        "data_concern_oas": "Output areas of concern (data)",
        "community_mentions": "Mentions (community)", "themes": "Themes named",
        "view": "Who sees concern", C.WARD_NAME: "Ward"}).drop(columns=C.WARD)
    return text + _table(shown, "The community's view and the data's, by ward")


def _reviews(v: dict, rules: Disclosure) -> str:
    """The published summary of the review ledger (counts already disclosure-controlled)."""
    share = (f" ({v['share_reviewed']:.0%})" if v.get("share_reviewed") is not None else "")
    rows = pd.DataFrame({"Decision": list(v["decisions"]),
                         "Households": list(v["decisions"].values())})
    text = (f"<p>Of the {_e(v['flags'])} households flagged at the run of "
            f"{_e(long_date(v['reference_date']))}, practitioners recorded a review of "
            f"{_e(v['reviewed'])}{share}; they set the flag aside for {_e(v['overridden'])}. "
            f"Counts are rounded to {rules.rounding} and counts from {rules.withheld_range} "
            "withheld (c). Nothing from the reviews feeds the model.</p>"
            + _table(rows, "Reviews of the last run's flags, by decision"))
    rates = v.get("override_rate_by_deprivation_quintile")
    if rates:
        text += ("<p>Share of reviewed flags set aside, by deprivation quintile of the "
                 f"household's area (c: {rules.fewer_than('reviews')}):</p>"
                 + _table(pd.DataFrame({"Quintile": list(rates), "Set aside": [
                     r if r == "c" else f"{r:.0%}" for r in rates.values()]}),
                     "Reviewed flags set aside, by deprivation quintile"))
    return text


def _across(district: pd.DataFrame, o: Outcome) -> str:
    """The whole area's expected number with the event (children not school ready); with
    several districts, the sum of their published counts (nothing finer than what is
    published) and a table."""
    if len(district) == 1:
        d = district.iloc[0]
        return (f"<p>Across the district an expected {show_count(d['expected_not_ready'])} "
                f"of {show_count(d['children_under5'])} {o.people} "
                f"({_pct(d['mean_risk'])}"
                + (f"; 95% interval {interval_text(district)[0]}"
                   if interval_text(district)[0] else "")
                + f") {o.would} if nothing changes.</p>")
    counts = district[["expected_not_ready", "children_under5"]].apply(
        pd.to_numeric, errors="coerce")
    expected, children = counts.sum(min_count=len(counts)).to_numpy()
    if pd.isna(expected + children):  # a district's count withheld: no total
        return "<p>By district (no total: a district's count is withheld):</p>" + _table(
            _district_table(district, o), "Districts")
    return (f"<p>Across the {len(district)} districts an expected {show_count(expected)} of "
            f"{show_count(children)} {o.people} ({_pct(expected / children)}) {o.would} if "
            "nothing changes (the sum of the districts' rounded counts). By district:</p>"
            + _table(_district_table(district, o), "Districts"))


def _district_table(district: pd.DataFrame, o: Outcome) -> pd.DataFrame:
    rows = district.sort_values("mean_risk", ascending=False)
    return pd.DataFrame({
        "District": rows[C.LAD_NAME].to_numpy() if C.LAD_NAME in rows else rows.index,
        o.count_heading: rows["children_under5"].map(show_count).to_numpy(),
        o.expected: rows["expected_not_ready"].map(show_count).to_numpy(),
        "Predicted risk": rows["mean_risk"].map(_pct).to_numpy(),
        "Households flagged": rows["flagged_households"].map(show_count).to_numpy(),
        "of which unknown to services": rows["flagged_unknown"].map(show_count).to_numpy()})


def _by_district(r: ReportInputs) -> str:
    """A part per district of a county run: its published figures, its wards of highest
    predicted risk, and its areas of concern and stable emerging hot spots (output areas
    counted, wards named): what each district's own board reads."""
    assert r.oa_districts is not None, "a part per district needs the OAs' districts"
    districts = r.oa_districts.reindex(r.oa_hotspots.index)
    ward_district = r.oa_districts.groupby(r.oa_wards.reindex(r.oa_districts.index)
                                           .to_numpy()).agg(lambda d: d.mode().iat[0])
    o = r.ctx.words
    table = _district_table(r.district, o).set_index("District")
    cats = r.oa_hotspots["ehsa_category"]
    stability = r.oa_hotspots.get("ehsa_stability", pd.Series(dtype=float))
    stable = cats.isin(EMERGING) & (stability.reindex(cats.index) >= STABLE)
    parts = []
    for name in table.index:
        row = table.loc[name]
        here = districts == name
        wards = r.ward[r.ward[C.WARD_NAME].map(ward_district) == name]
        wards = wards.sort_values("mean_risk", ascending=False).head(3)
        emerging_wards = r.oa_wards.reindex(cats.index[here & stable]).value_counts()
        concern = r.oa_hotspots.loc[here, "concern"].fillna("")
        parts.append(
            f"<h3>{_e(name)}</h3><p>An expected {_e(row[o.expected])} of "
            f"{_e(row[o.count_heading])} {o.people} ({_e(row['Predicted risk'])}); "
            f"{_e(row['Households flagged'])} households flagged, "
            f"{_e(row['of which unknown to services'])} of them unknown to services. "
            "Highest predicted risk: " + (", ".join(
                f"{_e(w)} ({_pct(v)})" for w, v in zip(wards[C.WARD_NAME], wards["mean_risk"],
                                                       strict=True)) or "none")
            + f". Areas of concern: {int((concern == 'known').sum())} output areas known, "
            f"{int((concern == 'newly identified').sum())} newly identified. Stable emerging "
            f"hot spots: {int((here & stable).sum())} output areas"
            + (" (" + ", ".join(f"{_e(w)} {n}" for w, n in emerging_wards.head(3).items())
               + ")" if len(emerging_wards) else "") + ".</p>")
    return "".join(parts)


def _names(names) -> str:
    return ", ".join(_e(n) for n in names) if names else "none"


def _since(v: dict, rules: Disclosure, o: Outcome) -> str:
    """What changed since the last run (:mod:`geo_risk.run.compare`, already published)."""
    rows = pd.DataFrame(v["headline"]).fillna("").rename(columns={
        "figure": "", "previous": long_date(v["previous_reference_date"]),
        "latest": long_date(v["reference_date"])})
    text = (f"<p>Compared with the last run (reference date "
            f"{_e(long_date(v['previous_reference_date']))}); {rules.rule()}. This compares "
            "the two runs' published figures, each from the model its run fitted; 'What "
            "changed since the previous refresh' above follows this run's one model across "
            "its refreshes, so the two can differ.</p>"
            + _table(rows, "What changed since the last run")
            + "<p>Largest changes upward in predicted risk between the two runs: " + (", ".join(
                f"{_e(r['ward'])} ({r['previous']:.1%} to {r['latest']:.1%})"
                for r in v.get("wards_largest_rise", [])) or "none")
            + f". Wards whose risk band rose: {_names(v['wards_band_up'])}; fell: "
            f"{_names(v['wards_band_down'])} (bands of this run's map, applied to both).</p>")
    a = v["areas"]
    e, c = a["emerging"], a["concern"]
    wards = a.get("wards_with_new_stable_emerging") or {}
    text += (f"<p>Emerging hot spots: {e['new']} output areas new, {e['continuing']} "
             f"continuing, {e['ended']} ended"
             + (", the stable new ones most in " + ", ".join(
                 f"{_e(w)} ({n})" for w, n in wards.items()) if wards else "")
             + f". Areas of concern: {c['new']} output areas new, {c['continuing']} "
             f"continuing, {c['ended']} ended. Output areas whose risk band rose: "
             f"{a['band']['up']}; fell: {a['band']['down']}.</p>")
    if "flags" in v:
        f = v["flags"]
        text += (f"<p>Flagged households: {_e(f['newly flagged'])} newly flagged, "
                 f"{_e(f['still flagged'])} still flagged, {_e(f['no longer flagged'])} no "
                 "longer flagged (the restricted list of each is in "
                 "restricted/since_last_run/).</p>")
    m = v.get("monitoring")
    if m and "auc" in m:
        text += (
            f"<p>How the last run's model did on the {_e(m[o.unit[1]])} {o.unit[1]} whose "
            f"{o.results_since} since ({_e(', '.join(m['cohorts']))} "
            f"cohort): AUC {m['auc']:.2f} (at its own hold-out "
            f"{m['previous_holdout_auc']:.2f}), calibration slope "
            f"{m['calibration_slope']:.2f}; it predicted {m['predicted_rate']:.0%} "
            f"{o.would_short} and {m['observed_rate']:.0%} {o.did}.</p>")
    elif m:
        text += f"<p>Monitoring: {_e(m['note'])}</p>"
    d = v.get("drift")
    if d:
        text += (f"<p>Feature drift between the two runs' {o.population} (population "
                 "stability index): " + (f"shifted beyond {d['warning_level']}: "
                               f"{_names(d['features_shifted'])}; check the model."
                               if d["features_shifted"] else
                               f"no feature shifted beyond {d['warning_level']} (largest "
                               f"{d['largest_psi']:.2f}).") + "</p>")
    if "restricted" in v:
        text += f"<p>Not compared: {_e(v['restricted'])}.</p>"
    return text + ('<p>Tables: <a href="since_last_run/wards.csv">wards</a>, '
                   '<a href="since_last_run/areas.csv">output areas</a>, '
                   '<a href="since_last_run/drift.csv">drift</a>.</p>')


def _history(notes: dict | None, o: Outcome) -> str:
    """The method note on refreshes taken from earlier runs, naming irregular areas."""
    if not notes or not notes["refreshes_added"]:
        return ""
    added = notes["refreshes_added"]
    span = _e(added[0]) if len(added) == 1 else f"{_e(added[0])} to {_e(added[-1])}"
    text = (f"<li>Hotspot history: {len(added)} earlier refresh(es) ({span}) taken from "
            "earlier runs' output-area risk")
    if "exact_fit" in notes:
        c = notes["changes"]
        text += (f", carried to this run's output areas by the exact-fit lookup "
                 f"{_e(notes['exact_fit'])} ({c['unchanged']:,} unchanged, {c['merged']:,} "
                 f"merged, {c['split']:,} split and apportioned by {o.population})")
        if notes["irregular_oas"]:
            text += (f"; {len(notes['irregular_oas'])} output area(s) changed irregularly and "
                     f"have no earlier value: {_e(', '.join(notes['irregular_oas']))}")
    return text + ".</li>"


def _sections(r: ReportInputs) -> list[tuple[str, str]]:
    """The report's sections in order, as (title, HTML): one function each."""
    sections = [("Headline", _headline(r)), ("Where risk is highest", _where(r)),
                ("Known and newly identified areas of concern", _concern(r)),
                ("What changed since the previous refresh", _changed(r))]
    if r.community is not None:
        sections.insert(3, ("What the community says", _community(*r.community, r.disclosure)))
    if r.oa_districts is not None and r.oa_districts.nunique() > 1:
        sections.append(("By district", _by_district(r)))
    if r.since:
        sections.append(("Since the last run", _since(r.since, r.disclosure, r.ctx.words)))
    if r.reviews:
        sections.append(("Practitioners' reviews of the last run's flags",
                         _reviews(r.reviews, r.disclosure)))
    if r.siting is not None:
        sections.append(("Where to site services", _siting(r.siting, r.ctx.words)))
    return [*sections, ("Maps", _maps(r)), ("The model and its limits", _model(r)),
            ("Method and data", _method(r)),
            ("Words used in this report", _glossary(r.ctx.words))]


def _headline(r: ReportInputs) -> str:
    m, rules, o = r.model, r.disclosure, r.ctx.words
    pub = rules.count
    flagged, unknown = pub(m["households_flagged"]), pub(m["flagged_unknown"])
    scored = pub(m["households_scored"])
    headline = (
        f'<p class="headline"><strong>{flagged}</strong> {o.headline_households} '
        f"are predicted to be {o.predicted}; "
        f"<strong>{unknown}</strong> of them are previously unknown to "
        f"{o.known_to}.</p><p>Out of {scored} {o.households} scored at the "
        f"reference date; flagged = {_e(m['capacity'])} (the capacity the partnership set). "
        f"Unknown = no {o.known_means} open or ended in the last "
        f"{int(m['known_within_months'])} months. Counts are rounded to the nearest "
        f"{rules.rounding}.</p>")
    headline += _across(r.district, o)

    return headline


def _newly_identified(r: ReportInputs, wards: pd.Series) -> pd.Series:
    """Output areas newly identified as of concern, per ward of ``wards`` (names)."""
    concern = pd.crosstab(r.oa_wards.reindex(r.oa_hotspots.index),
                          r.oa_hotspots["concern"].fillna(""))
    return concern.get("newly identified", pd.Series(dtype=int)).reindex(
        wards).fillna(0).astype(int)


def _where(r: ReportInputs) -> str:
    rules = r.disclosure
    wards = r.ward.sort_values("mean_risk", ascending=False)
    newly = _newly_identified(r, wards[C.WARD_NAME])
    top = pd.DataFrame({
        "Ward": wards[C.WARD_NAME].to_numpy(),
        r.ctx.words.count_heading: wards["children_under5"].map(show_count).to_numpy(),
        r.ctx.words.expected: wards["expected_not_ready"].map(show_count).to_numpy(),
        "Predicted risk": wards["mean_risk"].map(_pct).to_numpy(),
        "95% interval": interval_text(wards),
        "Compared with the district": wards.get(
            "vs_district", pd.Series("", index=wards.index)).to_numpy(),
        "Households flagged": wards["flagged_households"].map(show_count).to_numpy(),
        "of which unknown to services": wards["flagged_unknown"].map(show_count).to_numpy(),
        "Newly identified output areas": newly.to_numpy(),
    }).head(8)
    where = (f"<p>The eight wards with the highest predicted risk. {_e(rules.note())}.</p>"
             + _table(top, "The eight wards with the highest predicted risk"))

    return where


def _concern(r: ReportInputs) -> str:
    h = r.hotspots_summary
    wards = r.ward.sort_values("mean_risk", ascending=False)  # ties as the ward table has them
    newly = _newly_identified(r, wards[C.WARD_NAME])
    known_n, new_n = h["known_concern_oas"], h["new_concern_oas"]
    new_wards = newly[newly > 0].sort_values(ascending=False)
    concern_text = (
        f"<p><strong>Known areas of concern</strong> are where households already open to "
        f"social care or early help concentrate (a cluster beyond chance): "
        f"{known_n} output areas. <strong>Newly identified areas</strong> are significant "
        f"concentrations of predicted risk outside them: {new_n} output areas"
        + (", most in " + ", ".join(f"{_e(w)} ({n})" for w, n in new_wards.head(3).items())
           if len(new_wards) else "")
        + ". These are places to look at with local partners: services are not yet "
        "present where risk is concentrating.</p>")

    return concern_text


def _significant_rises(change: pd.DataFrame, z: float = 1.96) -> pd.DataFrame:
    """Wards whose risk rose by more than ``z`` standard errors of the change (the two
    refreshes' errors combined as independent, which overstates the error of a change in
    the same households: a rise called significant is one), largest first.

    >>> t = pd.DataFrame({"previous": [0.30, 0.30, 0.30], "latest": [0.40, 0.31, 0.20],
    ...                   "previous_se": [0.01] * 3, "latest_se": [0.01] * 3},
    ...                  index=["A", "B", "C"])
    >>> _significant_rises(t).index.tolist()
    ['A']
    """
    out = change.assign(change=change["latest"] - change["previous"])
    se = np.sqrt(change.get("previous_se", np.nan) ** 2 + change.get("latest_se", np.nan) ** 2)
    out = out.assign(low=out["change"] - z * se, high=out["change"] + z * se)
    return out[out["low"] > 0].sort_values("change", ascending=False)


def _changed(r: ReportInputs) -> str:
    h = r.hotspots_summary
    change = _significant_rises(r.ward_change)
    change_table = pd.DataFrame({
        "Ward": change.index,
        f"Risk at {r.previous_date}": change["previous"].map(_pct).to_numpy(),
        f"Risk at {r.ctx.reference_date}": change["latest"].map(_pct).to_numpy(),
        "Change (percentage points)": change["change"].map(
            lambda v: f"{v * 100:+.1f}").to_numpy(),
        "95% interval of the change": [
            f"{lo * 100:+.1f} to {hi * 100:+.1f}" for lo, hi in
            zip(change["low"], change["high"], strict=True)],
    }).head(5)
    rises = (f"<p>Wards whose predicted risk rose since the previous refresh "
             f"({_e(r.previous_date)}), where the rise is more than the households' "
             "chance variation (95% level), largest first:</p>"
             + _table(change_table, "Wards whose predicted risk rose significantly")
             if len(change) else
             "<p>No ward's predicted risk rose since the previous refresh "
             f"({_e(r.previous_date)}) by more than the households' chance variation "
             "(95% level).</p>")
    cats = r.oa_hotspots["ehsa_category"]
    emerging = cats[cats.isin(EMERGING)]
    stability = r.oa_hotspots.get("ehsa_stability", pd.Series(dtype=float))
    stable = emerging[stability.reindex(emerging.index) >= STABLE]
    emerging_wards = r.oa_wards.reindex(stable.index).value_counts()
    changed = (
        rises
        + f"<p>Over all {h['refreshes']} refreshes, <strong>{len(emerging)}</strong> output "
        "areas are new, consecutive or intensifying hot spots (emerging hot spot analysis"
        + (f" of {_e(h['emerging_measure'])}" if h.get("emerging_measure") else "") + ")"
        + (f"; <strong>{len(stable)}</strong> of them stably (the same category in at "
           f"least {STABLE:.0%} of {h.get('stability_draws', 0)} resamples of households)"
           if len(emerging) else "")
        + (", most in " + ", ".join(f"{_e(w)} ({n})" for w, n in
                                    emerging_wards.head(3).items()) if len(stable) else "")
        + "."
        + (" Only stable areas are named here; the maps and the GeoPackage give every "
           "area's stability." if len(emerging) > len(stable) else "")
        + " Also " + ", ".join(f"{h['emerging_hot_spots'].get(c, 0)} {c}s" for c in
                               ["persistent hot spot", "diminishing hot spot"])
        + ".</p>" + _rising(r) + _lisa_moves(r) + _early_warning_figures())

    return changed


def _lisa_moves(r: ReportInputs) -> str:
    """The areas that moved into a cluster of high risk (local Moran's I at each refresh)
    and are in one now."""
    h = r.oa_hotspots
    if "lisa_last" not in h:
        return ""
    moved = h.index[moved_into(h)]
    if not len(moved):
        return ""
    since = h.loc[moved, "lisa_since"]
    wards = r.oa_wards.reindex(moved).value_counts()
    return (f"<p><strong>{len(moved)}</strong> output areas moved into a cluster of high "
            "risk among high-risk neighbours (high-high, local Moran's I at each refresh) "
            f"and are in one now: since {_e(long_date(since.min()))} at the earliest and "
            f"{_e(long_date(since.max()))} at the latest, most in "
            + ", ".join(f"{_e(w)} ({n})" for w, n in wards.head(3).items())
            + ". The map's cluster layer and the GeoPackage say since when for every area."
            "</p>")


def _rising(r: ReportInputs) -> str:
    """The areas rising over the last year, whatever their history's category."""
    if "rising" not in r.oa_hotspots:
        return ""
    rising = r.oa_hotspots.index[r.oa_hotspots["rising"].fillna(False).astype(bool)]
    if not len(rising):
        return ("<p>No output area's risk, with its neighbours', rose over the last year "
                "by more than chance variation beyond the district's own change.</p>")
    wards = r.oa_wards.reindex(rising).value_counts()
    other = ~r.oa_hotspots.loc[rising, "ehsa_category"].isin(EMERGING)
    return (f"<p><strong>{len(rising)}</strong> output areas are <strong>rising</strong>: "
            "the predicted risk of the area and its neighbours rose over the last year by "
            "more than chance variation, beyond the district's own change, to above the "
            "district's, most in "
            + ", ".join(f"{_e(w)} ({n})" for w, n in wards.head(3).items()) + ". "
            + (f"{int(other.sum())} of them are not named emerging by the analysis over all "
               "refreshes (their history reads as already high, or on and off); they are "
               "emerging all the same, and the map colours them so." if other.any() else "")
            + "</p>")


def _early_warning_figures() -> str:
    """How early the method has seen a rise on the family of synthetic worlds (the
    validity benchmark's figures, kept with the package)."""
    return f"<p>{_e(early_warning_words())}</p>" if EARLY_WARNING else ""


def _maps(r: ReportInputs) -> str:
    links = "".join(f'<li><a href="{_e(href)}">{_e(title)}</a></li>'
                    for title, href in r.maps.items())
    maps = ("<p>Predicted risk by output area, with the known (solid blue) and newly "
            "identified (dashed purple) areas of concern:</p>" + r.preview
            + "<p>The interactive map is one file that works without internet; each link "
            "below opens it on one view. Switch layers on and off at the top right; hover "
            f"over an area for its figures.</p><ul>{links}</ul>")

    return maps


def _model(r: ReportInputs) -> str:
    m, rules, o = r.model, r.disclosure, r.ctx.words
    pub = rules.count
    model = (
        f"<p>{_e(INTENDED_USE)}</p><p>A gradient-boosted model, calibrated, trained on "
        f"earlier cohorts and tested on the later {_e(m['holdout_cohort'])} cohort "
        f"({pub(m['holdout_children'])} {o.unit[1]}): it ranks {o.ranks} "
        f"{m['holdout_auc']:.0%} of the "
        f"time (AUC {m['holdout_auc']:.2f}; deprivation alone: "
        f"{m.get('area_only_auc', float('nan')):.2f}). "
        + (o.found.format(p=f"{m['precision_at_k']:.0%}", r=f"{m['recall_at_k']:.0%}")
           if rules.rates_of_flagged(m.get("holdout_k", 0), m["precision_at_k"]) else
           o.too_few)
        + "Predicted "
        f"probabilities match observed rates to within {m['ece']:.1%} on average "
        f"(calibration).</p>"
        + (f"<p>Who the flags fall on. {_e(fairness_words(o))}</p><ul>"
           + "".join(f"<li>{_e(t)}</li>" for t in m["fairness_by_group"]) + "</ul>"
           if m.get("fairness_by_group") else "")
        + ("<p>Fairness checks raised: " + "; ".join(_e(w) for w in m["fairness_warnings"])
           + ". The model card gives every group's rates so the partnership can watch "
           "them.</p>" if m.get("fairness_warnings") else "")
        + "<p>Limitations:</p><ul>" + "".join(f"<li>{_e(t)}</li>" for t in o.limitations)
        + '</ul><p>The full model card: <a href="model/model_card.html">model card</a>.</p>')

    return model


def _method(r: ReportInputs) -> str:
    h, rules = r.hotspots_summary, r.disclosure
    low, high = r.linkage_match
    moran_p = "&lt; 0.001" if h["moran_p"] < 0.001 else f"= {h['moran_p']:.3f}"
    notes = (
        "<ul>"
        '<li>Accountability: the <a href="transparency/atrs.html">algorithmic transparency '
        'record</a> (also as <a href="transparency/atrs.json">JSON</a>), the <a '
        'href="transparency/dpia_annex.html">DPIA evidence annex</a>, the <a '
        'href="model/model_card.html">model card</a> and the <a '
        'href="transparency/accessibility.html">accessibility statement</a>.</li>'
        "<li>Each partner pseudonymised its extract before sharing it (keyed HMAC-SHA256); "
        "records were linked by household (UPRN). "
        + (f"Every source's records were linked to a household ({low:.1%})."
           if round(low, 3) == round(high, 3) else
           f"From {low:.1%} to {high:.1%} of each source's records were linked to a "
           "household.") + "</li>"
        f"<li>Features use only what was known on the reference date, "
        f"{_e(r.ctx.reference_date)}.</li>"
        f"<li>Disclosure control: counts from 1 to {rules.withhold_up_to} are withheld (c), with "
        f"a second cell withheld where a total would reveal one; other counts are rounded "
        f"to the nearest {rules.rounding}; {h['withheld_cells']:,} cells withheld in all. No "
        "household is shown on any map."
        + (f" <strong>These rules are weaker than the safe ones (1 to "
           f"{rules.SAFE_WITHHOLD} withheld, rounding to {rules.SAFE_ROUNDING}), because: "
           f"{_e(rules.reason)}</strong>" if rules.weaker and rules.reason else "") + "</li>"
        f"<li>Spatial statistics on output areas' mean predicted risk: global Moran's I "
        f"{h['moran_i']:.2f} (p {moran_p}), local Moran (LISA) and Getis-Ord Gi* with "
        f"neighbours by {_e(_neighbours(h))}, {_significance(h)}; emerging hot spots "
        f"from Gi* over {_time_window(h)}, a "
        "trend being a Mann-Kendall trend that also moves the z-score by at least "
        f"{h.get('min_trend', 0):.2f}. "
        + _plural(h["components"], "group of areas", "groups of areas")
        + " joined by shared boundaries; "
        + _plural(h["isolates"], "area", "areas") + " with no neighbour, not tested.</li>"
        + _history(h.get("history"), r.ctx.words)
        + (f"<li>Retention: {_e(r.retention)}.</li>" if r.retention else "")
        + f"<li>Geography: {_e(r.ctx.vintage)}."
        + (f" {_e(r.ctx.attribution)}." if r.ctx.attribution.strip() else "") + "</li>"
        + ("<li><strong>All household data in this report is synthetic</strong>, generated "
           "by geo-risk with a known truth; no real household is described.</li>"
           if r.synthetic else "")
        + "</ul>")
    return notes


def _neighbours(h: dict) -> str:
    """How the run chose each area's neighbours, in words."""
    choice = h.get("settings", {}).get("weights", "queen")
    kind, values = weights_choice(choice)
    n = [f"{v:g}" for v in values]
    if kind == "order":
        return f"contiguity up to {n[0]} steps away"
    if kind == "knn":
        return f"the {n[0]} nearest areas"
    if kind == "distance":
        return (f"a fixed distance of {n[0]} m between centroids"
                + (f", at least {n[1]} each" if len(n) > 1 else ""))
    return {"queen": "queen contiguity (shared edges or corners)",
            "rook": "rook contiguity (shared edges)"}[kind]


def _significance(h: dict) -> str:
    """How the run called a test significant, in words."""
    settings = h.get("settings", {})
    level = f"{settings.get('alpha', h.get('alpha', 0.05)):.1%}".replace(".0%", "%")
    if settings.get("fdr", True):
        return f"false discovery rate {level}"
    return f"each test at {level} on its own (no false discovery rate correction)"


def _time_window(h: dict) -> str:
    """The emerging hot spot analysis' space-time neighbourhood and global window, in words
    (ArcGIS's names in brackets where the run chose other than its defaults)."""
    settings = h.get("settings", {})
    lag = int(settings.get("time_lag", h.get("time_lag", 1)))
    window = settings.get("global_window", "entire_cube")
    if window == "individual_time_step":
        return ("each refresh alone, compared with that refresh's areas (ArcGIS's "
                "individual time step)")
    where = ("each refresh alone" if lag == 0 else "each refresh and its predecessor"
             if lag == 1 else f"each refresh and its {lag} predecessors")
    if window == "neighbourhood_time_step":
        return (f"{where}, compared with the areas over the same refreshes (ArcGIS's "
                "neighbourhood time step)")
    return where


def _plural(n: int, one: str, many: str) -> str:
    """``n`` things in words: "1 area", "3 areas", "no area".

    >>> _plural(1, "area", "areas"), _plural(0, "area", "areas"), _plural(3, "area", "areas")
    ('1 area', 'no area', '3 areas')
    """
    return f"no {one}" if n == 0 else f"{n:,} {one if n == 1 else many}"


#: The report's technical words, each in one line; None: the outcome's own
#: (:attr:`~geo_risk.model.Outcome.glossary`).
GLOSSARY: list[tuple[str, str | None]] = [
    ("Predicted risk", None),
    ("95% interval", "the range the area's predicted risk would fall in 95 times out of "
     "100 had other households of the same kind lived there; higher, similar or lower than "
     "the district means the district's figure lies below, inside or above it."),
    ("Flagged", "among the households the partnership can reach (its capacity), those "
     "with the highest predicted risk."),
    ("Known / previously unknown", None),
    ("Area of concern", "output areas where predicted risk clusters beyond chance; known "
     "where services already concentrate, newly identified where they do not."),
    ("Emerging hot spot", "an area that has become (new), stayed (consecutive) or grown "
     "into (intensifying) a cluster of high risk over the refreshes."),
    ("Cluster (LISA)", "an area whose risk, with its neighbours', is higher or lower than "
     "chance would put together (local Moran's I)."),
    ("Getis-Ord Gi*", "the statistic that finds clusters of high or low values around "
     "each area, the area included."),
    ("Mann-Kendall test", "a test of whether a series keeps rising or falling over time."),
    ("AUC", None),
    ("Calibration", "whether predicted probabilities match how often it happens."),
    ("c", "a count withheld to protect privacy."),
]


def _glossary(o: Outcome) -> str:
    return ("<dl>" + "".join(f"<dt>{_e(term)}</dt><dd>{_e(words or o.glossary[term])}</dd>"
                             for term, words in GLOSSARY) + "</dl>")


def _siting(siting: SitingOutputs, o: Outcome) -> str:
    s = siting.summary
    distance = (f"{s['service_distance']:,.0f} m in a straight line"
                if s["distance"] == "straight line"
                else f"{s['service_distance']:g} by the supplied {s['distance']}")
    how = (f"the {len(s['new_sites'])} new sites that reach the most" if s["p"] is not None
           else f"the fewest new sites that reach {s['coverage_target']:.0%}")
    text = (f"<p>Demand is the expected number of {o.demand} in each output "
            f"area, at its population-weighted centre; a site reaches an area within "
            f"{_e(distance)}. Choosing {_e(how)} ({_e(s['model'])}, solved: "
            f"{_e(s['status'].lower())}) brings <strong>{s['coverage']:.0%}</strong> of expected "
            f"demand within reach")
    if s["existing"]:
        text += f", against {s['existing_coverage']:.0%} for the {s['existing']} existing sites"
    text += ".</p>"
    if "baselines" in s:
        b = s["baselines"]
        text += (f"<p>For comparison, the same number of sites picked one by one by the demand "
                 f"around each (ignoring overlaps) would reach {b['highest_local_demand']:.0%}, "
                 f"and sites picked at random {b['random_mean']:.0%} on average.</p>")
    reach = s["areas_of_concern_reached"]
    text += ("<p>Output areas of concern within reach: "
             + "; ".join(f"{v['oas_reached']} of {v['oas']} {k}" for k, v in reach.items())
             + ".</p>")
    sites = site_rows(siting.sites, o)
    wards = siting.by_ward.reset_index()
    for column in ["expected_not_ready", "within_reach"]:
        wards[column] = wards[column].map(show_count)
    wards = wards.rename(columns={
        C.WARD_NAME: "Ward", "expected_not_ready": o.expected,
        "within_reach": "Within reach", "share_within_reach": "Share within reach"}).head(8)
    notes = "".join(f"<p>Note: {_e(n)}.</p>" for n in s["notes"])
    return (text + notes + _table(sites, "Sites chosen and existing, in order")
            + "<p>Coverage in the wards with most demand:</p>"
            + _table(wards, "Coverage in the wards with most demand"))


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:62rem;margin:0 auto;padding:0 1rem 3rem;
 color:#222;line-height:1.45}
.marking{text-align:center;color:#b00020;font-weight:bold;letter-spacing:.05em;
 border-bottom:2px solid #b00020;padding:.3rem}
h1{margin:1.2rem 0 .2rem}.sub{color:#555;margin-top:0}
.headline{font-size:1.35rem;background:#fff5e6;border-left:6px solid #e66101;padding:.6rem 1rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.95rem}
td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}
th{background:#eee}
.gr-preview{margin:0}.gr-preview svg{width:100%;height:auto;border:1px solid #bbb}
.gr-preview figcaption{font-size:.85rem;columns:2}
.gr-skip{position:absolute;left:-999px;top:0;background:#fd0;color:#0b0c0c;padding:.5rem}
.gr-skip:focus{left:.5rem}
:focus-visible{outline:3px solid #0b0c0c;outline-offset:2px;box-shadow:0 0 0 5px #fd0}
svg{max-width:100%;height:auto}
@media (max-width:30rem){.gr-preview figcaption{columns:1}}
""" + LEGEND_CSS + TABLE_CSS


def write_report(path: Path, inputs: ReportInputs) -> Path:
    """Write the board report to ``path`` (normally ``OUT/index.html``).

    Parameters
    ----------
    path : Path
        The page to write.
    inputs : ReportInputs
        Everything the report says, all of it published already.

    Returns
    -------
    Path
        ``path``.
    """
    ctx = inputs.ctx
    body = "".join(f"<h2>{_e(title)}</h2>{content}"
                   for title, content in _sections(inputs))
    marking = f'<div class="marking">{_e(ctx.marking)}</div>' if ctx.marking else ""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(ctx.area_name)}: {ctx.words.title} risk, {_e(ctx.reference_date)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        '<a class="gr-skip" href="#gr-main">Skip to the report</a>'
        f'{marking}<main id="gr-main">'
        f"<h1>{_e(ctx.area_name)}: {ctx.words.at_risk}</h1>"
        f'<p class="sub">Partnership board report · reference date '
        f"{_e(ctx.reference_date)} · {_e(ctx.vintage)}</p>{body}</main>{marking}</body></html>")
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
