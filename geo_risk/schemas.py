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
              (never US month-first: :func:`geo_risk.ingest.parse_dates`)
``coord``     British National Grid easting or northing in metres
``postcode``  used only to explain a missing UPRN, then dropped
``flag``      Y/N (also Yes/No, True/False, 1/0)
``category``  one of a fixed set of values (case and spacing ignored)
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

SOURCES: dict[str, Schema] = {s.name: s for s in [
    Schema("child_register", {
        "child_id": Column("nhs"), "forename": Column("name", False),
        "surname": Column("name", False), "date_of_birth": Column("month"),
        "sex": Column("category", values=("m", "f")), "uprn": Column("uprn"),
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
        "episode_type": Column("category", values=_EPISODES),
        "primary_need": Column("category", False, _NEEDS)},
        description="children's social care and early help episodes"),
    Schema("school_readiness", {
        "child_id": Column("nhs"), "uprn": Column("uprn"), "academic_year": Column("text"),
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
        "event_date": Column("date"), "event_type": Column("category", values=_HOUSING)},
        description="housing register events"),
    Schema("benefits", {
        "uprn": Column("uprn"), "postcode": Column("postcode", False),
        "claim_start": Column("date"), "claim_end": Column("date", False),
        "benefit": Column("category", values=_BENEFITS),
        "lone_parent": Column("flag", False), "income_band": Column("text", False)},
        description="housing benefit, council tax reduction and universal credit claims"),
    Schema("police", {
        "incident_id": Column("reference"), "incident_date": Column("date"),
        "uprn": Column("uprn", False), "easting": Column("coord", False),
        "northing": Column("coord", False), "category": Column("category", values=_POLICE),
        "role": Column("text", False)},
        one_of=(("uprn", "easting"),),
        description="police incidents at a UPRN or a grid location"),
]}
