"""The run's transparency record (ATRS-shaped) and its DPIA evidence annex.

The Algorithmic Transparency Recording Standard (ATRS) is the UK public sector's record of
an algorithmic tool: tier 1 for the public (what the tool is, how and why it is used, how
to find out more) and tier 2 in five sections (owner and responsibility; description and
rationale; decision-making process; tool specification; data specification; risks,
mitigations and impact assessments). Every run writes one into
``publish/transparency/`` as ``atrs.json`` and ``atrs.html``, filled from the published
``run.json`` (so every count in it is already disclosure-controlled), the model card's
wording and the ``[transparency]`` settings (organisation, team, senior responsible owner,
contact); a field the partnership must complete says so, and :func:`missing_fields` lists
them. ``dpia_annex.html`` is the evidence a data protection impact assessment needs: the
data flows of the nine sources, what is minimised at source, the disclosure control
applied and the result of a scan of everything published, the fairness gaps, retention.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pandas as pd

from geo_risk.areas.disclosure import SAFE, Disclosure
from geo_risk.inputs.schemas import SOURCES
from geo_risk.model.outcomes import OUTCOMES, SCHOOL_READINESS, Outcome, reads
from geo_risk.publish.model_card import INTENDED_USE

__all__ = ["ATRS_FIELDS", "TO_COMPLETE", "missing_fields", "privacy_scan",
           "published_text",
           "write_transparency"]

#: What a field the partnership has not filled in says.
TO_COMPLETE = "to be completed by the partnership"

#: The record's sections and fields (ATRS v3 names), every one required.
ATRS_FIELDS = {
    "metadata": ["title", "standard_version", "date_of_completion", "tool_version"],
    "tier_1": ["name", "description", "how_the_tool_works", "why_the_tool_is_used",
               "decision_making_process", "website", "contact_email"],
    "owner_and_responsibility": ["organisation", "team", "senior_responsible_owner",
                                 "external_supplier"],
    "description_and_rationale": ["detailed_description", "scope", "benefits",
                                  "alternatives_considered"],
    "decision_making_process": ["process_integration", "information_provided",
                                "frequency_and_scale", "human_decisions_and_review",
                                "appeals_and_review"],
    "tool_specification": ["system_architecture", "phase", "model_type", "performance",
                           "fairness", "limitations"],
    "data_specification": ["source_data", "data_categories", "data_collection",
                           "data_minimisation", "data_access_and_storage", "retention"],
    "risks_mitigations_and_impact_assessments": ["impact_assessments", "risks",
                                                 "mitigations"],
}

_PSEUDONYM = re.compile(r"\b[0-9a-f]{32}\b")


def privacy_scan(publish: Path, rules: Disclosure = SAFE) -> dict:
    """What a scan of every published text file finds: pseudonym-shaped tokens (32 hex
    characters) anywhere, counts the ``rules`` withhold (1 to ``withhold_up_to``) in the
    area tables, and rates of flagged people that, multiplied by the denominator published
    beside them, give back such a count. All should be 0.

    Parameters
    ----------
    publish : Path
        A run's ``publish/`` folder.
    rules : Disclosure
        The rules the run published under.

    Returns
    -------
    dict
        ``files_scanned``, ``pseudonym_like_tokens``, ``withheld_area_counts`` and
        ``counts_from_rates``.
    """
    files = sorted(p for p in Path(publish).rglob("*") if p.is_file() and p.suffix in
                   {".csv", ".html", ".json", ".md", ".parquet", ".nc"})
    tokens = small = from_rates = 0
    withheld = {str(n) for n in range(1, rules.withhold_up_to + 1)}
    count_columns = {"children_under5", "households", "expected_not_ready",
                     "flagged_households", "flagged_unknown", "known_households",
                     *(name for o in OUTCOMES.values() for name in o.fields.values())}
    for path in files:
        text = published_text(path)
        tokens += len(_PSEUDONYM.findall(text))
        if path.suffix == ".csv":
            from_rates += _counts_from_rates(text, rules)
        if path.parent.name == "areas" and path.suffix == ".csv":
            lines = text.splitlines()
            header = lines[0].split(",") if lines else []
            counted = [i for i, h in enumerate(header) if h in count_columns]
            for line in lines[1:]:
                cells = line.split(",")
                small += sum(1 for i in counted if i < len(cells) and cells[i] in withheld)
    return {"files_scanned": len(files), "pseudonym_like_tokens": tokens,
            "withheld_area_counts": small, "counts_from_rates": from_rates}


def published_text(path: Path) -> str:
    """A published file as text to scan: a table (GeoParquet, NetCDF) as CSV, without
    its geometry."""
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
        return table.drop(columns="geometry", errors="ignore").to_csv()
    if path.suffix == ".nc":
        import xarray as xr

        from geo_risk.publish.cube import read_cube_tables

        with xr.open_dataset(path, decode_cf=False) as cube:
            return "".join(t.to_csv() for t in read_cube_tables(cube)) + "\n".join(
                f"{k}: {v}" for k, v in cube.attrs.items())
    return path.read_text(encoding="utf-8", errors="replace")


#: A published rate of flagged people -> the count column it is a share of.
_RATE_OF = {"flag_rate": "children"}


def _counts_from_rates(text: str, rules: Disclosure) -> int:
    """Rows of a published CSV where a rate of flagged people times its published
    denominator gives back a withheld count: the flagged, or of them those with and
    without the outcome (``precision``)."""
    found = 0
    for row in csv.DictReader(io.StringIO(text)):
        for rate, of in _RATE_OF.items():
            share, denominator = _number(row.get(rate)), _number(row.get(of))
            if share is None or denominator is None:
                continue
            flagged = share * denominator
            precision = _number(row.get("precision"))
            with_outcome = flagged * precision if precision is not None else None
            found += rules.reveals(flagged) or (
                with_outcome is not None and rules.reveals(with_outcome, flagged - with_outcome))
    return found


def _number(cell: str | None) -> float | None:
    """A published cell as a number; None when blank (withheld), "c" or absent."""
    try:
        return float((cell or "").replace(",", ""))
    except ValueError:
        return None


def _record(published: dict, run_info: dict, settings: dict,
            outcome: Outcome = SCHOOL_READINESS) -> dict:
    m, h = published["model"], published["hotspots"]
    head = published["headline"]
    own = {k: settings.get(k) or TO_COMPLETE
           for k in ["organisation", "team", "senior_responsible_owner", "contact_email",
                     "website"]}
    sources = "; ".join(f"{name} ({schema.description})" for name, schema in SOURCES.items()
                        if name in outcome.sources)
    performance = (
        f"Validated on the latest labelled cohort ({m['holdout_cohort']}): AUC "
        f"{m['holdout_auc']:.3f} (logistic regression {m['logistic_auc']:.3f}"
        + (f", deprivation of the area alone {m['area_only_auc']:.3f}" if "area_only_auc" in m
           else "") + f"); calibration slope {m['calibration_slope']:.2f}, expected "
        f"calibration error {m['ece']:.3f}"
        + (f"; precision at the flagged share {m['precision_at_k']:.2f}, recall "
           f"{m['recall_at_k']:.2f}." if m["precision_at_k"] != "c" else
           f"; precision and recall at the flagged share withheld (too few "
           f"{outcome.unit[1]})."))
    return {
        "metadata": {"title": f"geo-risk: {run_info.get('reference_date', '')} run",
                     "standard_version": "ATRS 3.0 (shape)",
                     "date_of_completion": run_info.get("run_date", ""),
                     "tool_version": f"geo-risk {published.get('geo_risk', '')}"},
        "tier_1": {
            "name": f"geo-risk: {outcome.at_risk}",
            "description": outcome.purpose,
            "how_the_tool_works": outcome.how_it_works,
            "why_the_tool_is_used": (
                f"{head['households_at_risk']} households are flagged at this run "
                f"({head['flagged']}), {head['previously_unknown']} of them unknown to "
                f"{outcome.known_to}: families who might otherwise be missed."),
            "decision_making_process": INTENDED_USE + (
                " A practitioner reviews every flagged household with the reasons given "
                "and decides what, if anything, to offer; no decision is automated."),
            "website": own["website"],
            "contact_email": own["contact_email"],
        },
        "owner_and_responsibility": {
            "organisation": own["organisation"], "team": own["team"],
            "senior_responsible_owner": own["senior_responsible_owner"],
            "external_supplier": "none: geo-risk is open source, run by the partnership",
        },
        "description_and_rationale": {
            "detailed_description": run_info.get("capacity", "") and (
                f"Capacity: {run_info['capacity']}. Geography: {run_info.get('geography', '')}."
                f" Emerging hot spots: {h.get('emerging_measure', '')}."),
            "scope": outcome.scope,
            "benefits": "Earlier, better-targeted early help; services sited where need is.",
            "alternatives_considered": (
                "Area deprivation alone and logistic regression are scored beside the model "
                "on the same cohort (see performance)."),
        },
        "decision_making_process": {
            "process_integration": (
                "Published: area maps and a board report. Restricted: a flagged list with "
                "reasons, for practitioners, re-identified only by the data controller."),
            "information_provided": "Each flagged household's score, rank and reasons.",
            "frequency_and_scale": (
                f"Each refresh; this run scored {_n(m['households_scored'])} households."),
            "human_decisions_and_review": (
                "Every flag is reviewed by a practitioner, who may decline or override it."),
            "appeals_and_review": (
                "Families can ask the data controller what is held and have it corrected "
                "(UK GDPR rights); the partnership reviews the tool at each refresh."),
        },
        "tool_specification": {
            "system_architecture": (
                "Pseudonymise at source (keyed HMAC-SHA256) -> link by UPRN -> features as "
                "of a date -> calibrated model -> disclosure-controlled areas -> maps, "
                "GeoPackage, report."),
            "phase": "production" if "partner extracts" in run_info.get("data", "")
            else "demonstration on synthetic data",
            "model_type": "histogram gradient boosting with Platt (sigmoid) calibration",
            "performance": performance,
            "fairness": "; ".join(m.get("fairness_warnings") or ["no gap above the bound"]),
            "limitations": " ".join(outcome.limitations),
        },
        "data_specification": {
            "source_data": sources,
            "data_categories": (
                "Special category and criminal offence data about children and families "
                "(social care, police, youth offending, drugs and alcohol)."),
            "data_collection": run_info.get("data", ""),
            "data_minimisation": (
                "At source: names and postcodes dropped, dates of birth kept to the month, "
                "identifiers replaced by keyed pseudonyms; published outputs are area "
                "aggregates only."),
            "data_access_and_storage": (
                "restricted/ and work/ stay with the data controller; publish/ holds only "
                "disclosure-controlled aggregates."),
            "retention": run_info.get("retention", ""),
        },
        "risks_mitigations_and_impact_assessments": {
            "impact_assessments": (
                "DPIA required (matching data from several sources; profiling of "
                f"{'children' if outcome.unit[0] == 'child' else 'households'}): "
                "dpia_annex.html gives the evidence this run produced."),
            "risks": (
                "Stigmatising families or areas; bias where services record some groups "
                "more than others; re-identification from published figures."),
            "mitigations": (
                f"Disclosure control ({run_info.get('disclosure_control', '')}); fairness "
                "audit by group each run; human review of every flag; an audit trail of "
                "every command; retention limits."),
        },
    }


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def missing_fields(record: dict) -> list[str]:
    """Required fields absent, empty or still ``TO_COMPLETE``, as ``section.field``."""
    return [f"{section}.{name}" for section, names in ATRS_FIELDS.items() for name in names
            if not record.get(section, {}).get(name)
            or record[section][name] == TO_COMPLETE]


def _html(title: str, sections: list[tuple[str, list[tuple[str, str]]]], marking: str = ""
          ) -> str:
    body = "".join(
        f"<h2>{html.escape(name.replace('_', ' ').capitalize())}</h2><dl>"
        + "".join(f"<dt>{html.escape(k.replace('_', ' ').capitalize())}</dt>"
                  f"<dd>{html.escape(str(v))}</dd>" for k, v in rows) + "</dl>"
        for name, rows in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>'
            f"{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:"
            "60em;margin:2em auto;padding:0 1rem;line-height:1.4;overflow-wrap:anywhere}"
            "dt{font-weight:bold;margin-top:.6em}dd{margin-left:1.5em}"
            ".gr-skip{position:absolute;left:-999px;top:0;background:#fd0;padding:.5rem}"
            ".gr-skip:focus{left:.5rem}</style></head><body>"
            '<a class="gr-skip" href="#gr-main">Skip to the record</a>'
            + (f'<p class="marking"><strong>{html.escape(marking)}</strong></p>' if marking
               else "")
            + f'<main id="gr-main"><h1>{html.escape(title)}</h1>{body}</main></body></html>')


def write_transparency(publish: Path, published: dict, run_info: dict, settings: dict,
                       outcome: Outcome = SCHOOL_READINESS) -> Path:
    """Write ``atrs.json``, ``atrs.html``, ``dpia_annex.html`` and the accessibility
    statement (``accessibility.html``) into ``publish/transparency/``; returns the folder.

    Parameters
    ----------
    publish : Path
        The run's ``publish/`` folder (scanned for privacy).
    published : dict
        The published run record.
    run_info : dict
        How the run was made, in words.
    settings : dict
        The ``[transparency]`` settings: who answers for the tool.
    outcome : Outcome
        What the run predicts: the record's name, description, scope and limitations, and
        the sources its data flows list.

    Returns
    -------
    Path
        ``publish/transparency/``.
    """
    folder = Path(publish) / "transparency"
    folder.mkdir(parents=True, exist_ok=True)
    record = _record(published, run_info, settings, outcome)
    record["fields_to_complete"] = missing_fields(record)
    (folder / "atrs.json").write_text(json.dumps(record, indent=2) + "\n")
    sections = [(s, list(record[s].items())) for s in ATRS_FIELDS]
    marking = run_info.get("marking", "")
    (folder / "atrs.html").write_text(_html("Algorithmic transparency record: geo-risk",
                                            sections, marking))
    rules = Disclosure(**published.get("disclosure", {}))
    scan = privacy_scan(publish, rules)
    flows = [(name, f"{schema.description}. Kept after pseudonymisation: "
                    + ", ".join(c for c, spec in schema.columns.items()
                                if spec.kind not in {"name", "postcode"}
                                and reads(outcome, name, c)))
             for name, schema in SOURCES.items()
             if name in outcome.sources]
    annex = [
        ("data flows", flows),
        ("minimisation at source", [
            ("identifiers", "UPRNs, NHS numbers, person and record references replaced by "
                            "keyed HMAC-SHA256 pseudonyms before leaving the partner"),
            ("names and postcodes", "dropped at source, never read further"),
            ("dates of birth", "kept to the month")]),
        ("disclosure control", [
            ("rules", run_info.get("disclosure_control", "")),
            ("privacy scan of publish/", f"{scan['files_scanned']} files scanned: "
             f"{scan['pseudonym_like_tokens']} pseudonym-shaped tokens, "
             f"{scan['withheld_area_counts']} area counts from {rules.withheld_range}, "
             f"{scan['counts_from_rates']} rates that give one back")]),
        ("fairness", [("gaps above the bound",
                       "; ".join(published["model"].get("fairness_warnings") or ["none"]))]),
        ("retention", [("period", run_info.get("retention", ""))]),
    ]
    (folder / "dpia_annex.html").write_text(_html("DPIA evidence annex: geo-risk run", annex,
                                                  marking))
    (folder / ACCESSIBILITY_FILE).write_text(_html(
        "Accessibility statement: the published pages of this run",
        _accessibility(run_info, settings), marking))
    return folder


#: The accessibility statement (PSBAR 2018), beside the transparency record.
ACCESSIBILITY_FILE = "accessibility.html"


def _accessibility(run_info: dict, settings: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """The statement's sections, in the order of the GOV.UK model statement."""
    who = settings.get("organisation") or "The partnership that published these pages"
    contact = settings.get("contact_email")
    return [
        ("what it covers", [
            ("pages", "The board report (index.html), the map (maps/map.html), every map "
                      "layer as a table (maps/tables.html), the model card, the algorithmic "
                      "transparency record and the DPIA evidence annex, as written by "
                      f"geo-risk {run_info.get('geo_risk_version', '')} on "
                      f"{run_info.get('run_date', '')}"),
            ("publisher", who)]),
        ("how accessible it is", [
            ("standard", "Meant to meet the Web Content Accessibility Guidelines (WCAG) 2.2 "
                         "at level AA, as the Public Sector Bodies Accessibility "
                         "Regulations 2018 require"),
            ("status", "Partially compliant: the map is a picture of the data, so its "
                       "figures are also given as tables (below)"),
            ("how it was checked", "Each page is checked when geo-risk is tested: axe-core "
             "finds no failure of the WCAG 2.0, 2.1 and 2.2 A and AA rules; a keyboard "
             "reaches the skip link and the map's controls first, Escape closes a map "
             "tooltip, the report reflows at 320 pixels wide and no panel covers the map "
             "at 1400, 1024 or 320 pixels wide. Automated checks do not find every "
             "problem; the publisher should also test with the people who use the pages")]),
        ("known limitations", [
            ("the map", "Its areas cannot be reached one by one with a keyboard or read by a "
                        "screen reader. Every area's figures and categories are in the "
                        "table page, linked from the map's skip link and from the report, "
                        "and in the CSV files and the GeoPackage"),
            ("ward names on the map", "Drawn for sight only; the tables name every area"),
            ("street map background", "Optional, off by default and from a third party: "
                                      "not checked"),
            ("data files", "CSV files and the GeoPackage are data, not documents")]),
        ("another format or a problem", [
            ("contact", contact or "Ask the publisher named above"),
            ("enforcement", "If you are not happy with the reply, contact the Equality "
                            "Advisory and Support Service (EASS)")]),
    ]
