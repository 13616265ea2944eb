"""What a run predicts, declared: the outcome contract.

A partnership names its outcome in ``run.toml`` (``[outcome] name = "..."``) or on the
demo's command line (``geo-risk demo --outcome NAME``). An :class:`Outcome` says

- **who is scored** at the reference date, and what one row of the scored table is
  (a child, or a household);
- **what the flags are about**: geo-risk flags households, whatever is scored;
- **the event that counts, and its horizon**;
- **how labels are built for past landmark dates**: training uses dates whose horizon
  has fully passed by the reference date, and the hold-out is the latest such date (for
  school readiness, a cohort's results published by then);
- **which sources** it reads;
- **its words**: the title, "at risk of …", a plain definition, the capacity sentence and
  the names of the fields it publishes;
- **its disclosure rules**, which may be stricter than the run's, never weaker.

The stages read the words and rules from here; the model stage builds each outcome's
scored table (:func:`geo_risk.model.build_feature_tables`).
the contract and how a partnership adds its own outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from geo_risk._errors import ConfigError

__all__ = ["DEFAULT_OUTCOME", "OUTCOMES", "Outcome", "get_outcome", "reads"]


@dataclass(frozen=True)
class Outcome:
    """One outcome a run can predict; see the module docstring."""

    name: str
    #: Short title: "school readiness".
    title: str
    #: Who is scored, in a phrase: "children aged 0-4 at the reference date".
    scored: str
    #: One scored row, singular and plural: ("child", "children").
    unit: tuple[str, str]
    #: The population in a few words, for counts: "under-fives".
    population: str
    #: The households flagged, in a phrase: "households with under-fives".
    households: str
    #: The heading's subject and what they are at risk of: "children at risk of not
    #: being school ready".
    at_risk: str
    #: The event as one sentence's object: "not reaching a Good Level of Development at
    #: the end of reception".
    event: str
    #: A plain definition for the report, the model card and the transparency record.
    definition: str
    #: Months after the as-of date within which the event counts (0: at a fixed age).
    horizon_months: int
    #: The event, as an expected count: "Expected not school ready".
    expected: str
    #: Which services a flagged household is "known" to.
    known_to: str
    #: The extracts it reads (those it cannot be built without say so when missing).
    sources: tuple[str, ...]
    #: How each scored row's features are taken: "as of age 3½ for labelled children…".
    when_described: str
    #: What a labelled cohort is called in tables ("academic year").
    cohort: str
    #: Those with the event, as a relative clause: "who did not reach a good level of
    #: development".
    had_event: str = ""
    #: Those without it: "who did reach it".
    no_event: str = ""
    #: The published phrases: the scored in full ("children under five") and as a field
    #: describes them ("Children aged 0-4"), a table heading for their count
    #: ("Under-fives"), the headline's households and what they are predicted to be at
    #: risk of, what the expected number would do ("would not reach a good level of
    #: development"), whose probabilities of what an area's risk is the mean of, that
    #: risk in a few words ("not being school ready"), the expected event in two
    #: ("not ready") and when it is assessed (" at the end of reception").
    people: str = ""
    scored_short: str = ""
    count_heading: str = ""
    headline_households: str = ""
    predicted: str = ""
    would: str = ""
    probabilities: str = ""
    risk_of: str = ""
    event_short: str = ""
    event_when: str = ""
    #: The report glossary's outcome-specific terms: "Predicted risk", "Known / previously
    #: unknown", "AUC".
    glossary: dict[str, str] = field(default_factory=dict)
    #: Monitoring the last run's model on the outcomes known since: what became known
    #: ("school-readiness results were published"), the note while too few have ({n}),
    #: and what the model predicted and what happened ("would not be school ready",
    #: "were not").
    results_since: str = ""
    too_few_since: str = ""
    would_short: str = ""
    did: str = ""
    #: What siting's demand counts: "children not school ready".
    demand: str = ""
    #: What a "known" household had (without an article): "social care or early help
    #: episode".
    known_means: str = ""
    #: The report's sentences on the hold-out: how the model ranks (after "it ranks"), what
    #: share of those flagged had the event ({p}) and what share of those with it were
    #: flagged ({r}), and why neither can be said at a small capacity.
    ranks: str = ""
    found: str = ""
    too_few: str = ""
    #: The transparency record's description of the tool, how it works, and its scope.
    purpose: str = ""
    how_it_works: str = ""
    scope: str = ""
    #: The model card's title and its limitations, sentence by sentence.
    card_title: str = ""
    limitations: tuple[str, ...] = ()
    #: Columns of an extract that only some outcomes read (source -> columns): what
    #: the DPIA annex lists as kept for this outcome.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Further household features it reads (:func:`geo_risk.model.household_features`'s
    #: ``groups``): ``dash``, ``marac``.
    features: tuple[str, ...] = ()
    #: Published names of the area tables' count columns where they differ from the
    #: internal ones (``children_under5``: the scored rows; ``expected_not_ready``: the
    #: sum of their probabilities).
    fields: dict[str, str] = field(default_factory=dict)
    #: The fewest of the scored population an area may show: a count from 1 to this is
    #: withheld. At least the run's own rule (``[disclosure] withhold_up_to``).
    withhold_up_to: int = 0

    def field(self, internal: str) -> str:
        """The published name of an internal count column."""
        return self.fields.get(internal, internal)


SCHOOL_READINESS = Outcome(
    name="school_readiness",
    title="school readiness",
    scored="children aged 0-4 at the reference date",
    unit=("child", "children"),
    population="under-fives",
    households="households with under-fives",
    at_risk="children at risk of not being school ready",
    event="not reaching a Good Level of Development at the end of reception",
    definition=(
        "A child is school ready when the Early Years Foundation Stage Profile at the end "
        "of reception records a Good Level of Development (GLD)."),
    horizon_months=0,
    expected="Expected not school ready",
    known_to="children's services",
    sources=("child_register", "addresses", "school_readiness", "social_care",
             "youth_offending", "drugs_alcohol", "housing", "benefits", "police"),
    when_described=("Features are taken as of age 3½ for labelled children and as of the "
                    "reference date for the children scored; nothing dated later is used."),
    cohort="academic year",
    had_event="who did not reach a good level of development",
    no_event="who did reach it",
    people="children under five",
    count_heading="Under-fives",
    headline_households="households with children under five",
    predicted="at risk of a child not being school ready",
    would="would not reach a good level of development",
    scored_short="Children aged 0-4",
    probabilities=("the under-fives' predicted probabilities of not reaching a good level "
                   "of development"),
    risk_of="not being school ready",
    event_short="not ready",
    event_when=" at the end of reception",
    demand="children not school ready",
    results_since="school-readiness results were published",
    too_few_since=("{n} children's school-readiness results were published between the two "
                   "reference dates (results count as published on 31 October); the last "
                   "run's model is scored once a cohort's results have arrived."),
    would_short="would not be school ready",
    did="were not",
    glossary={
        "Predicted risk": (
            "the average, over an area's children under five, of the model's probability "
            "that a child will not reach a good level of development at the end of "
            "reception."),
        "Known / previously unknown": (
            "whether a flagged household has a social care or early help episode open, or "
            "ended recently."),
        "AUC": ("how often the model ranks a child who does not reach a good level of "
                "development above one who does (0.5 is chance, 1 is perfect)."),
    },
    known_means="social care or early help episode",
    ranks="a child who does not reach a good level of development above one who does",
    found=("In that cohort, {p} of the children it would have flagged did not reach a good "
           "level of development, and it found {r} of all who did not: most children who "
           "struggle are not in the highest-risk few. "),
    too_few=("At this capacity it would have flagged too few children of that cohort to "
             "say how many of them reached a good level of development (a rate among so "
             "few is a count of them). "),
    card_title="geo-risk school-readiness model card",
    purpose=("Links what partner services record about households with children under "
             "five, pseudonymised at source, to estimate which households and areas are "
             "at risk of a child not reaching a good level of development at five, so "
             "that early help and services can be planned and offered."),
    how_it_works=("A gradient-boosted model, calibrated, trained on earlier cohorts' "
                  "school-readiness results and the records their households had at age "
                  "3½, scores today's under-fives; areas' mean risk is mapped with "
                  "disclosure control and tested for hot spots over quarterly refreshes."),
    scope="Households with children under five in the partnership's area.",
    limitations=(
        "Predictions are probabilities for groups, not verdicts on families; most flagged "
        "children will reach a Good Level of Development and many who do not will not be "
        "flagged (see precision and recall).",
        "Records show contact with services, not need: households that services have not "
        "seen look lower-risk than they are, and areas with more services look higher-risk.",
        "Risk drifts: the model is validated on one later cohort; recalibrate each refresh. "
        "The EYFS profile was reformed in 2021/22, so cohorts either side are not "
        "comparable.",
        "Addresses are taken as current; moves between age 3½ and assessment are not seen.",
    ),
)

DOMESTIC_ABUSE_ESCALATION = Outcome(
    name="domestic_abuse_escalation",
    title="domestic abuse escalation",
    scored=("households with at least one police-recorded domestic abuse incident in the "
            "12 months to the reference date"),
    unit=("household", "households"),
    population="households with recent domestic abuse",
    households="households with a domestic abuse incident in the last 12 months",
    at_risk="households at risk of domestic abuse escalating",
    event=("a further domestic abuse incident assessed high risk (DASH) or a MARAC "
           "referral within 12 months"),
    definition=(
        "Domestic abuse escalates when, within 12 months of the date, the household has a "
        "further police-recorded domestic abuse incident whose DASH risk assessment is "
        "high, or a referral to the multi-agency risk assessment conference (MARAC). A "
        "partnership may choose the wider event of any repeat incident "
        "(domestic_abuse_repeat)."),
    horizon_months=12,
    expected="Expected escalations",
    known_to="MARAC or children's social care",
    sources=("police", "marac", "addresses", "social_care", "youth_offending",
             "drugs_alcohol", "housing", "benefits", "child_register"),
    when_described=("Features are taken as of each landmark date for the households "
                    "labelled, and as of the reference date for those scored; nothing "
                    "dated later is used."),
    cohort="landmark date",
    had_event="whose abuse escalated",
    no_event="whose abuse did not escalate",
    people="households with recent domestic abuse",
    count_heading="Households scored",
    headline_households="households with a domestic abuse incident in the last 12 months",
    predicted="at risk of the abuse escalating",
    would="would see the abuse escalate within a year",
    scored_short="Households with a domestic abuse incident in the last 12 months",
    probabilities=("the households' predicted probabilities of the abuse escalating within "
                   "a year (a high-risk incident or a MARAC referral)"),
    risk_of="the abuse escalating within a year",
    event_short="escalations",
    known_means="social care or early help episode, or MARAC referral,",
    demand="escalations of domestic abuse",
    results_since="year after a landmark date has passed",
    too_few_since=("{n} households' year after a landmark date passed between the two "
                   "reference dates; the last run's model is scored once a landmark's "
                   "year has passed."),
    would_short="would see the abuse escalate",
    did="did",
    glossary={
        "Predicted risk": (
            "the average, over an area's households with a domestic abuse incident in the "
            "last 12 months, of the model's probability that the abuse escalates (a "
            "high-risk incident or a MARAC referral) within a year."),
        "Known / previously unknown": (
            "whether a flagged household has a social care or early help episode, or a "
            "MARAC referral, open or recent."),
        "AUC": ("how often the model ranks a household whose abuse escalates above one "
                "whose abuse does not (0.5 is chance, 1 is perfect)."),
    },
    ranks="a household whose abuse escalates above one whose abuse does not",
    found=("At that landmark date, {p} of the households it would have flagged saw the "
           "abuse escalate within the year, and it found {r} of all that did: most "
           "escalations are not among the highest-risk few. "),
    too_few=("At this capacity it would have flagged too few households at that landmark "
             "date to say how many of them saw abuse escalate (a rate among so few is a "
             "count of them). "),
    card_title="geo-risk domestic abuse escalation model card",
    purpose=("Links what partner services record about households where the police have "
             "recorded domestic abuse in the last year, pseudonymised at source, to "
             "estimate which households and areas are at risk of the abuse escalating, so "
             "that outreach, IDVA support and services can be planned and offered."),
    how_it_works=("A gradient-boosted model, calibrated, trained on earlier landmark "
                  "dates' households and whether their abuse escalated within a year, "
                  "scores today's households with a recent incident; areas' mean risk is "
                  "mapped with disclosure control and tested for hot spots over quarterly "
                  "refreshes."),
    scope=("Households with a police-recorded domestic abuse incident in the last 12 "
           "months in the partnership's area."),
    limitations=(
        "Predictions are probabilities for groups, not verdicts on families; most flagged "
        "households will not see abuse escalate and many that do will not be flagged (see "
        "precision and recall).",
        "Police records and MARAC referrals show abuse that was reported, not all abuse: "
        "households that have not reported look lower-risk than they are, and areas where "
        "more is reported look higher-risk.",
        "DASH grades depend on who completes the checklist and how; a force's practice "
        "changing moves the labels. Recalibrate each refresh.",
        "Only households with a police-recorded incident in the last 12 months are scored: "
        "abuse that has never been reported is outside the model.",
    ),
    features=("dash", "marac"),
    columns={"police": ("dash_risk", "victim_ref", "suspect_ref")},
    fields={"children_under5": "households_scored",
            "expected_not_ready": "expected_escalations", "not_school_ready": "escalated"},
)

#: The wider event a partnership may choose: any further domestic abuse incident.
DOMESTIC_ABUSE_REPEAT = replace(
    DOMESTIC_ABUSE_ESCALATION,
    name="domestic_abuse_repeat",
    title="repeat domestic abuse",
    at_risk="households at risk of repeat domestic abuse",
    event="any further police-recorded domestic abuse incident within 12 months",
    definition=(
        "A household has repeat domestic abuse when, within 12 months of the date, the "
        "police record a further domestic abuse incident at it, whatever its DASH risk "
        "assessment."),
    expected="Expected repeats",
    had_event="with a repeat incident",
    no_event="without one",
    predicted="at risk of repeat domestic abuse",
    would="would have a repeat incident within a year",
    probabilities=("the households' predicted probabilities of a repeat incident within "
                   "a year"),
    risk_of="a repeat incident within a year",
    event_short="repeats",
    demand="repeat incidents of domestic abuse",
    would_short="would have a repeat incident",
    glossary={
        "Predicted risk": (
            "the average, over an area's households with a domestic abuse incident in the "
            "last 12 months, of the model's probability of a further incident within a "
            "year."),
        "Known / previously unknown": (
            "whether a flagged household has a social care or early help episode, or a "
            "MARAC referral, open or recent."),
        "AUC": ("how often the model ranks a household with a repeat incident above one "
                "without (0.5 is chance, 1 is perfect)."),
    },
    found=("At that landmark date, {p} of the households it would have flagged had a "
           "repeat incident within the year, and it found {r} of all that did: most repeats "
           "are not among the highest-risk few. "),
    too_few=("At this capacity it would have flagged too few households at that landmark "
             "date to say how many of them had a repeat incident (a rate among so few is a "
             "count of them). "),
    ranks="a household with a repeat incident above one without",
    card_title="geo-risk repeat domestic abuse model card",
    fields={"children_under5": "households_scored",
            "expected_not_ready": "expected_repeats", "not_school_ready": "repeated"},
)

OUTCOMES: dict[str, Outcome] = {o.name: o for o in [
    SCHOOL_READINESS, DOMESTIC_ABUSE_ESCALATION, DOMESTIC_ABUSE_REPEAT]}
DEFAULT_OUTCOME = SCHOOL_READINESS.name


def reads(outcome: Outcome, source: str, column: str) -> bool:
    """Whether ``outcome`` reads ``column`` of ``source``: every column but those only
    other outcomes read (:attr:`Outcome.columns`)."""
    only_others = {c for o in OUTCOMES.values() for c in o.columns.get(source, ())}
    return column not in only_others or column in outcome.columns.get(source, ())


def get_outcome(name: str | None) -> Outcome:
    """The declared outcome called ``name`` (the default when ``None``).

    Parameters
    ----------
    name : str or None
        An outcome's name, in any case, with spaces or hyphens for underscores.

    Returns
    -------
    Outcome
        Its declaration.

    Raises
    ------
    ConfigError
        No outcome of that name.
    """
    if name is None:
        return OUTCOMES[DEFAULT_OUTCOME]
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in OUTCOMES:
        raise ConfigError(f"outcome {name!r} is not one geo-risk knows; use one of "
                          f"{', '.join(OUTCOMES)} ([outcome] name in run.toml, or "
                          "--outcome)")
    return OUTCOMES[key]
