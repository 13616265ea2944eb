"""The model card, in Markdown and HTML from the same content."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo_risk.areas.disclosure import Disclosure
from geo_risk.io.escape import write_csv
from geo_risk.model.fairness import FAIRNESS_COUNTS
from geo_risk.model.outcomes import SCHOOL_READINESS, Outcome
from geo_risk.publish.tables import TABLE_CSS, html_table

if TYPE_CHECKING:
    from geo_risk.model import FeatureTables, Validation

__all__ = [
    "EARLY_WARNING",
    "INTENDED_USE",
    "early_warning_words",
    "fairness_in_words",
    "fairness_words",
    "render_model_card",
    "write_model_card",
]

#: How early the emerging hot spot method saw a planted rise on the family of synthetic
#: worlds, as ``scripts/bench_validity.py --record`` last measured it ({} before then).
_VALIDITY = Path(__file__).with_name("validity.json")
EARLY_WARNING: dict = (json.loads(_VALIDITY.read_text(encoding="utf-8"))
                       if _VALIDITY.is_file() else {})

INTENDED_USE = ("Decision support for planning and early help; not for eligibility or "
                "enforcement decisions.")


def _table_md(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.to_numpy()]
    return "\n".join(lines)


_HEADINGS = {"auc": "AUC", "average_precision": "average precision", "brier": "Brier",
             "calibration_slope": "calibration slope",
             "calibration_intercept": "calibration intercept", "ece": "ECE",
             "precision_at_k": "precision at k", "recall_at_k": "recall at k",
             "flag_rate": "flag rate", "tpr": "TPR", "fpr": "FPR"}


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain column headings and a dash where a rate is undefined (no one flagged)."""
    return frame.astype(object).where(frame.notna(), "–").rename(columns=_HEADINGS)


def render_model_card(sections: list[tuple[str, list[str | pd.DataFrame]]],
                      title: str) -> tuple[str, str]:
    """Render sections (heading, paragraphs and tables) as Markdown and as one HTML page."""
    md = [f"# {title}", ""]
    body = ['<a class="gr-skip" href="#gr-main">Skip to the model card</a><main id="gr-main">'
            f"<h1>{html.escape(title)}</h1>"]
    for heading, parts in sections:
        md += [f"## {heading}", ""]
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for part in parts:
            if isinstance(part, pd.DataFrame):
                md += [_table_md(part), ""]
                body.append(html_table(part, heading))
            else:
                md += [part, ""]
                body.append(f"<p>{html.escape(part)}</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
             "padding:0 1rem;color:#222}table{border-collapse:collapse;margin:1rem 0}"
             "td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}"
             "th{background:#eee}"
             ".gr-skip{position:absolute;left:-999px;top:0;background:#fd0;padding:.5rem}"
             ".gr-skip:focus{left:.5rem}:focus-visible{outline:3px solid #0b0c0c;"
             "outline-offset:2px;box-shadow:0 0 0 5px #fd0}" + TABLE_CSS)
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</main></body></html>\n")
    return "\n".join(md), page


def fairness_in_words(fair: pd.DataFrame) -> list[str]:
    """The published fairness table as one line per attribute: each group's share flagged
    and, of its children who did not reach a good level of development, the share the
    flags found (:func:`fairness_words` says so once); a withheld group says so.

    >>> fair = pd.DataFrame({"attribute": ["sex", "sex"], "group": ["boys", "girls"],
    ...                      "flag_rate": [0.077, float("nan")], "tpr": [0.17, float("nan")]})
    >>> fairness_in_words(fair)[0]
    'By sex: boys 7.7% flagged, 17% found; girls withheld.'
    """
    lines = []
    for attribute, groups in fair.groupby("attribute", sort=False):
        parts = [f"{group} withheld" if pd.isna(flag) else
                 f"{group} {flag:.1%} flagged" + ("" if pd.isna(found) else f", {found:.0%} found")
                 for group, flag, found in groups[["group", "flag_rate", "tpr"]].itertuples(
                     index=False, name=None)]
        lines.append(f"By {attribute}: " + "; ".join(parts) + ".")
    return lines


def fairness_words(outcome: Outcome = SCHOOL_READINESS) -> str:
    """What :func:`fairness_in_words`' lines say."""
    return (f"For each group of the tested cohort: the share of its {outcome.unit[1]} the "
            f"model would have flagged, and the share it found of those {outcome.had_event}."
            " Withheld: so few flagged that a share would give back a count of them.")


def early_warning_words() -> str:
    """How early the method saw a planted rise on the synthetic worlds, in words."""
    v = EARLY_WARNING
    return (f"In tests on {v['worlds']} synthetic worlds, a planted rise was seen (half its "
            "output areas emerging or in a newly identified area of concern) a median of "
            f"{v['median_lead']:g} quarterly refreshes after it began (in the worst "
            f"world: {v['worst_lead']}), and named emerging a median of "
            f"{v['median_lead_emerging']:g} refreshes after it began. Where nothing was "
            f"planted, a median of {v['median_false_alarms']:.2f} groups of output areas per "
            "district per year were newly named emerging. Synthetic worlds are not real "
            "ones: these say how the method behaves where the truth is known.")


def write_model_card(folder: Path, tables: FeatureTables, validation: Validation,
                     fairness: pd.DataFrame, fairness_warnings: list[str], summary: dict,
                     features: list[str], disclosure: Disclosure,
                     outcome: Outcome = SCHOOL_READINESS) -> list[str]:
    """Write the model card (Markdown and HTML), the validation metrics and the fairness
    table for a model run into ``folder``.

    The card is published: every count of children or households goes through the
    ``disclosure`` rules, and a fairness group of ``withhold_up_to`` children or fewer
    shows no rates.

    Parameters
    ----------
    folder : Path
        ``publish/model/``.
    tables : FeatureTables
        The run's feature tables (for the counts described).
    validation : Validation
        The validation of the model and the baselines.
    fairness : DataFrame
        :func:`~geo_risk.model.audit_fairness`'s table.
    fairness_warnings : list of str
        Its warnings.
    summary : dict
        The model section of the run record.
    features : list of str
        The model's features.
    disclosure : Disclosure
        The run's disclosure rules.
    outcome : Outcome
        What the model predicts (its words).

    Returns
    -------
    list of str
        The published fairness table in words (:func:`fairness_in_words`).
    """
    from geo_risk.model.reasons import FACTORS, feature_words

    folder.mkdir(parents=True, exist_ok=True)
    metrics = validation.metrics.round(3).reset_index(names="model")
    # precision among a handful of children, or beside k when it gives back a handful of
    # them, is a count of them
    hidden = ~metrics["precision_at_k"].map(
        lambda p: disclosure.rates_of_flagged(validation.k_test, p)).to_numpy()
    metrics.loc[hidden, ["precision_at_k", "recall_at_k"]] = np.nan
    few = bool(hidden[0])
    write_csv(metrics, folder / "validation.csv", index=False)
    small = (fairness["children"] <= disclosure.withhold_up_to).to_numpy()
    # a group's rates of flagged children give back its counts (flagged, and of them
    # with and without the outcome; of the rest too): withheld where one is a handful
    reveal = fairness[list(FAIRNESS_COUNTS)].apply(
        lambda row: disclosure.reveals(*row), axis=1).to_numpy()
    fair = fairness.drop(columns=list(FAIRNESS_COUNTS)).round(3).astype(object)
    fair.loc[small | reveal, ["flag_rate", "tpr", "fpr", "precision"]] = np.nan
    fair.loc[small, "ece"] = np.nan
    count = disclosure.count
    fair["children"] = fairness["children"].map(count)
    fair = fair.rename(columns={"children": outcome.unit[1]})
    write_csv(fair, folder / "fairness.csv", index=False)
    in_words = fairness_in_words(fair)
    metrics, fair = _readable(metrics), _readable(fair)
    labelled = tables.children[tables.children["role"] == "labelled"]
    units = outcome.unit[1]
    known = f"a {outcome.known_means}"
    cohorts = labelled["academic_year"].value_counts().sort_index().map(count)
    factor_rows = pd.DataFrame(
        [(name, "; ".join(feature_words(c) for c in cols if c in features))
         for name, cols in FACTORS.items()
         if any(c in features for c in cols)], columns=["factor", "features"])
    sections = [
        ("Intended use", [INTENDED_USE, (
            "The flagged-household list is a restricted output for practitioners, "
            "re-identified only by the data controller who holds the key; it is never part "
            "of a partnership-board pack.")]),
        ("Headline", [summary["headline"] + f" (reference date {tables.reference_date.date()}, "
                      f"capacity: {summary['capacity']}; known = {known}"
                      f" open or ended within {summary['known_within_months']:g} "
                      "months)."]),
        ("Data and cohorts", [
            f"Outcome: {outcome.event}. {outcome.when_described}",
            pd.DataFrame({outcome.cohort: cohorts.index, units: cohorts.to_numpy()}),
            f"Validation: trained on {', '.join(validation.train_cohorts)} "
            f"({count(validation.n_train)} {units}), tested on {validation.test_cohort} "
            f"({count(validation.n_test)} {units}). The final model is refitted on all "
            "cohorts."]),
        ("Features", [factor_rows]),
        ("Performance on the later cohort, with baselines", [
            metrics,
            f"Precision and recall at k: the top {count(validation.k_test)} {units} of the "
            "test cohort, the same share as the households flagged"
            + (f" (withheld: among so few {units}, or beside their number, a rate gives back "
               "a count of them)" if few else "")
            + ". ECE over ten equal-count bins; calibration intercept with the slope fixed "
            "at 1."]),
        ("Fairness", [fairness_words(outcome), *in_words, fair,
                      *(fairness_warnings or ["No gap above the bound."])]),
        *([("Emerging areas, seen early", [early_warning_words()])] if EARLY_WARNING else []),
        ("Reasons", ["Each flagged household's reasons come from occlusion: its features, "
                     "group by group, are replaced by a typical household's and the drop in "
                     "its score is the factor's contribution (see geo_risk/model/reasons.py)."]),
        ("Limitations", list(outcome.limitations)),
    ]
    md, page = render_model_card(sections, outcome.card_title)
    (folder / "model_card.md").write_text(md)
    (folder / "model_card.html").write_text(page)
    return in_words
