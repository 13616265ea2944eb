"""What each partner extract must contain, declared in one place.

Each source (DOMAIN.md's nine partner extracts) lists its columns with a *kind* that
says how ingest reads, checks and pseudonymises it, and whether it is required. Column
names are matched case-insensitively after trimming spaces.

Kinds
-----
``uprn``      household key: normalised to digits, then pseudonymised (``household_key``)
``nhs``       NHS number: 10 digits with a valid check digit, then pseudonymised
``person``    a partner's person identifier (often an NHS number), pseudonymised
``reference`` a record reference such as a police incident number, pseudonymised
``name``      a person's name: dropped at source, never read further
``month``     date of birth: coarsened to the first day of its month
``date``      ISO ``2017-01-31``, UK ``31/01/2017``, ``31 Jan 2017``, an Excel day number
              (never US month-first: :func:`geo_risk.inputs.ingest.parse_dates`)
``coord``     British National Grid easting or northing in metres
``postcode``  used only to explain a missing UPRN, then dropped
``year``      an academic year, read as ``2016/17`` from ``2016-17``, ``2016/2017``, DfE's
              ``201617`` or ``16/17``
``flag``      Y/N (also Yes/No, True/False, 1/0)
``category``  one of a fixed set of values, read whatever the case, spacing or punctuation
              (``Child-in-Need``), or under a name a partner's system uses for it (``CIN``,
              ``Children Looked After``, ``Council Tax Support``, ``Male``): the
              column's ``synonyms``
``text``      kept as given (trimmed)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PSEUDONYM_COLUMNS", "SOURCES", "Column", "Schema"]


@dataclass(frozen=True)
class Column:
    kind: str
    required: bool = True
    values: tuple[str, ...] = ()  # allowed values of a category
    #: Other names of a category's values -> the value ("" = not recorded, read as blank).
    synonyms: dict[str, str] = field(default_factory=dict, compare=False)
    #: An identifier's pseudonymised column, where it is not its kind's
    #: (:data:`PSEUDONYM_COLUMNS`): a victim's and a suspect's references in one row.
    key: str = ""

    def pseudonym(self) -> str | None:
        """The column this identifier becomes once pseudonymised (None: not one)."""
        return self.key or PSEUDONYM_COLUMNS.get(self.kind)


@dataclass(frozen=True)
class Schema:
    name: str
    columns: dict[str, Column]
    #: Names of groups of columns of which at least one must be present in a row.
    one_of: tuple[tuple[str, ...], ...] = ()
    description: str = ""
    #: Other names a column has in the product a partner exports it from, read as the
    #: column when it is not there itself (AddressBase's X_COORDINATE is the easting).
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        return [c for c, spec in self.columns.items() if spec.required]


#: Identifier kind -> the pseudonymised column it becomes.
PSEUDONYM_COLUMNS = {"uprn": "household_key", "nhs": "child_key", "person": "person_key",
                     "reference": "record_key"}

_EPISODES = ("early help", "child in need", "child protection", "looked after")
_NEEDS = tuple(f"n{i}" for i in range(1, 10))
_HOUSING = ("homelessness application", "temporary accommodation", "rent arrears",
            "overcrowding", "asb complaint")
_BENEFITS = ("housing benefit", "council tax reduction", "universal credit")
_POLICE = ("domestic abuse", "violence", "drugs", "asb", "other")
#: The DASH risk checklist's grades (SafeLives): standard, medium, high.
_DASH = ("standard", "medium", "high")


def _names(**values: tuple[str, ...]) -> dict[str, str]:
    """Synonyms as written below (``value=("name", ...)``) -> {name: value}; a value
    written with underscores is the value with spaces."""
    return {name: value.replace("_", " ") for value, names in values.items() for name in names}


#: The names children's social care systems and the CIN and CLA census give the episodes.
_EPISODE_NAMES = _names(
    early_help=("eh", "early help assessment", "family support", "early help episode"),
    child_in_need=("cin", "children in need", "child in need plan", "cin plan"),
    child_protection=("cp", "cpp", "child protection plan", "cp plan"),
    looked_after=("lac", "cla", "looked after child", "looked after children",
                  "child looked after", "children looked after", "in care"))
#: The CIN census's names of the primary needs, with or without their codes (N1 ... N9).
_NEED_NAMES = {name: f"n{i}" for i, need in enumerate(
    ["abuse or neglect", "child s disability or illness", "parental disability or illness",
     "family in acute stress", "family dysfunction", "socially unacceptable behaviour",
     "low income", "absent parenting", "cases other than children in need"], start=1)
    for name in (need, f"n{i} {need}")}
_HOUSING_NAMES = _names(
    homelessness_application=("homeless application", "homelessness", "homeless"),
    temporary_accommodation=("ta", "temp accommodation"),
    rent_arrears=("arrears",),
    overcrowding=("overcrowded",),
    asb_complaint=("anti social behaviour complaint", "antisocial behaviour complaint",
                   "asb", "anti social behaviour", "antisocial behaviour"))
_BENEFIT_NAMES = _names(
    housing_benefit=("hb",),
    council_tax_reduction=("ctr", "council tax support", "cts", "local council tax support",
                           "lcts"),
    universal_credit=("uc",))
_POLICE_NAMES = _names(
    domestic_abuse=("domestic", "da", "domestic violence", "domestic incident"),
    violence=("violence against the person", "vap", "violent crime"),
    drugs=("drug offences", "drug offence", "drugs offences"),
    asb=("anti social behaviour", "antisocial behaviour"))
#: DASH grades as forces' systems export them: words, initials, "risk" added, or the
#: older "low"/"standard" pair; "not assessed" is read as not recorded.
_DASH_NAMES = {**_names(standard=("s", "std", "low", "standard risk", "low risk",
                                  "standard low"),
                        medium=("m", "med", "medium risk", "moderate"),
                        high=("h", "high risk", "marac", "high marac")),
               **dict.fromkeys(("not assessed", "na", "n a", "refused", "not completed",
                                "unknown", "none"), "")}
#: Emergency Care Data Set (ECDS) arrival modes and discharge statuses, in words as trusts'
#: extracts give them; "not known" is read as not recorded.
_ARRIVAL = ("ambulance", "own transport", "police", "other")
_ARRIVAL_NAMES = {**_names(
    ambulance=("emergency road ambulance", "road ambulance", "air ambulance", "amb",
               "ambulance service", "emergency ambulance", "helicopter"),
    own_transport=("walk in", "walked in", "self", "self presented", "private transport",
                   "public transport", "car", "own", "taxi"),
    police=("police transport", "brought by police", "police vehicle")),
    **dict.fromkeys(("not known", "unknown", "not stated"), "")}
_DISCHARGE = ("admitted", "follow up", "no follow up", "transferred",
              "left before treatment", "died")
_DISCHARGE_NAMES = {**_names(
    admitted=("admission", "admitted to hospital", "inpatient", "admitted to ward"),
    follow_up=("discharged follow up", "discharged with follow up", "gp follow up",
               "follow up by gp", "follow up gp", "outpatient follow up",
               "community follow up", "discharged follow up by gp"),
    no_follow_up=("no follow up needed", "no follow up required", "discharged no follow up",
                  "discharged no follow up needed", "discharged no follow up required",
                  "discharged home no follow up", "no further follow up",
                  "discharged no further follow up"),
    transferred=("transfer", "transferred to other provider", "transfer to other provider"),
    left_before_treatment=("left without being seen", "lwbs", "did not wait", "dnw",
                           "left before being treated", "self discharged"),
    died=("died in department", "deceased", "death")),
    **dict.fromkeys(("not known", "unknown"), "")}
#: Sex as registers write it; 1 and 2 as the school and CIN censuses code it; a sex not
#: known or not stated is read as not recorded, so the child is still scored.
_SEX_NAMES = {**_names(m=("male", "boy", "1"), f=("female", "girl", "2")),
              **dict.fromkeys(("u", "unknown", "not known", "not stated", "unspecified",
                               "indeterminate", "x", "0", "9"), "")}


SOURCES: dict[str, Schema] = {s.name: s for s in [
    Schema("child_register", {
        "child_id": Column("nhs"), "forename": Column("name", False),
        "surname": Column("name", False), "date_of_birth": Column("month"),
        "sex": Column("category", False, ("m", "f"), _SEX_NAMES), "uprn": Column("uprn"),
        "first_language": Column("text", False)},
        description="children by NHS number with month of birth, sex, address, language"),
    Schema("addresses", {
        "uprn": Column("uprn"), "easting": Column("coord"), "northing": Column("coord"),
        "postcode": Column("postcode", False)},
        description="the address gazetteer: every UPRN with its British National Grid point",
        aliases={"easting": ("x_coordinate",), "northing": ("y_coordinate",),
                 "postcode": ("postcode_locator",)}),
    Schema("social_care", {
        "person_id": Column("person"), "uprn": Column("uprn"), "start_date": Column("date"),
        "end_date": Column("date", False),
        "episode_type": Column("category", values=_EPISODES, synonyms=_EPISODE_NAMES),
        "primary_need": Column("category", False, _NEEDS, _NEED_NAMES)},
        description="children's social care and early help episodes"),
    Schema("school_readiness", {
        "child_id": Column("nhs"), "uprn": Column("uprn"), "academic_year": Column("year"),
        "gld": Column("flag")},
        description="EYFS profile results: Good Level of Development (Y/N) by reception year"),
    Schema("youth_offending", {
        "person_id": Column("person"), "uprn": Column("uprn"), "offence_date": Column("date"),
        "outcome": Column("text", False)},
        description="youth offending service: offences and outcomes"),
    Schema("drugs_alcohol", {
        "person_id": Column("person"), "uprn": Column("uprn"), "referral_date": Column("date"),
        "discharge_date": Column("date", False), "substance": Column("text", False)},
        description="drug and alcohol service referrals"),
    Schema("housing", {
        "uprn": Column("uprn"), "postcode": Column("postcode", False),
        "event_date": Column("date"),
        "event_type": Column("category", values=_HOUSING, synonyms=_HOUSING_NAMES)},
        description="housing register events"),
    Schema("benefits", {
        "uprn": Column("uprn"), "postcode": Column("postcode", False),
        "claim_start": Column("date"), "claim_end": Column("date", False),
        "benefit": Column("category", values=_BENEFITS, synonyms=_BENEFIT_NAMES),
        "lone_parent": Column("flag", False), "income_band": Column("text", False)},
        description="housing benefit, council tax reduction and universal credit claims"),
    Schema("police", {
        "incident_id": Column("reference"), "incident_date": Column("date"),
        "uprn": Column("uprn", False), "easting": Column("coord", False),
        "northing": Column("coord", False),
        "category": Column("category", values=_POLICE, synonyms=_POLICE_NAMES),
        "role": Column("text", False),
        "dash_risk": Column("category", False, _DASH, _DASH_NAMES),
        "victim_ref": Column("person", False, key="victim_key"),
        "suspect_ref": Column("person", False, key="suspect_key")},
        one_of=(("uprn", "easting"),),
        description="police incidents at a UPRN or a grid location",
        aliases={"dash_risk": ("dash", "dash_grade", "dash_risk_level", "risk_level"),
                 "victim_ref": ("victim_id", "victim"), "suspect_ref": ("suspect_id",
                                                                       "suspect")}),
    Schema("emergency_care", {
        "nhs_number": Column("nhs", key="patient_key"), "uprn": Column("uprn", False),
        "postcode": Column("postcode", False), "arrival_date": Column("date"),
        "arrival_mode": Column("category", False, _ARRIVAL, _ARRIVAL_NAMES),
        "chief_complaint": Column("text", False),
        "discharge_status": Column("category", False, _DISCHARGE, _DISCHARGE_NAMES),
        "investigated": Column("flag", False), "treated": Column("flag", False)},
        description="emergency department attendances in the shape of the Emergency Care "
                    "Data Set: NHS number, address, arrival, chief complaint, discharge",
        aliases={"nhs_number": ("nhs_no", "patient_nhs_number", "nhs"),
                 "arrival_date": ("attendance_date", "arrival_datetime", "date_of_arrival",
                                  "em_care_arrival_date"),
                 "arrival_mode": ("mode_of_arrival", "arrival_mode_snomed_description"),
                 "chief_complaint": ("chief_complaint_group", "complaint",
                                     "presenting_complaint"),
                 "discharge_status": ("discharge_destination", "attendance_outcome",
                                      "discharge_follow_up"),
                 "investigated": ("any_investigation", "investigation_done"),
                 "treated": ("any_treatment", "treatment_given")}),
    Schema("marac", {
        "referral_date": Column("date"), "uprn": Column("uprn"),
        "victim_ref": Column("person", key="victim_key"),
        "referrer": Column("text", False)},
        description="MARAC referrals: date, the victim's address and reference, who "
                    "referred",
        aliases={"referral_date": ("date_referred", "marac_date"),
                 "victim_ref": ("victim_id", "victim")}),
]}
