"""The ``geo-risk run`` configuration: one TOML file names the inputs and the choices.

:data:`SETTINGS` declares every setting once: its table and key, its kind, its default and
what it means. The loader reads it, the allowed keys come from it, and so does the
documented example (:func:`example`, printed by ``geo-risk run --example``). Paths are
relative to the configuration file. Every problem in a file is found before any is
reported: one :class:`ConfigError` names the file and, for each, the key and the fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import logging
import re
import textwrap
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

import pandas as pd

from geo_risk._errors import ConfigError, GeoRiskError
from geo_risk.areas import (
    MIN_REFRESHES,
    SAFE,
    Disclosure,
    global_window_choice,
    weights_choice,
)
from geo_risk.geography import BoundaryFiles
from geo_risk.inputs import DaskSettings
from geo_risk.io import read_text
from geo_risk.model import DEFAULT_CAPACITY, KNOWN_WITHIN_MONTHS, Capacity
from geo_risk.model.outcomes import DEFAULT_OUTCOME, OUTCOMES, get_outcome
from geo_risk.siting import SitingSettings

__all__ = [
    "RENAMED",
    "SETTINGS",
    "ConfigError",
    "RunConfig",
    "RunSettings",
    "Setting",
    "example",
    "load_config",
    "months",
    "parse_capacity",
    "quarterly_refreshes",
]

log = logging.getLogger(__name__)

_REQUIRED = object()  # the default of a setting a configuration must give


@dataclass(frozen=True)
class Setting:
    """One setting of ``run.toml``: where it lives, what it holds and what it means."""

    table: str  # "" for the top level
    key: str
    kind: str  # text, int, float, bool, date, file, folder, folders, names, choice, period
    default: Any = None
    doc: str = ""
    #: As the example shows it (a TOML literal); None: the default's.
    example: str | None = None
    #: Commented out in the example: an alternative, or an optional file.
    shown: bool = True
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"[{self.table}] {self.key}" if self.table else self.key

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


_S = Setting
#: Tables in the order the example shows them, with what each is for.
TABLES = {
    "": "",
    "boundaries": "required",
    "capacity": "how many households the partnership can reach",
    "history": "earlier runs whose refreshes (kept in their work/ folders) extend the "
               "hotspot history when this run's records no longer reach back",
    "transparency": "who answers for the tool, in its transparency record "
                    "(publish/transparency/atrs.json); empty fields are listed there as "
                    '"to be completed by the partnership"',
    "review": "",
    "retention": "",
    "disclosure": "",
    "linkage": "",
    "hotspots": "how the hot spot statistics choose each area's neighbours, compare each "
                "bin and call a test significant",
    "outcome": "what the run predicts: who is scored, the event and its words "
               "(docs/outcomes.md)",
    "dask": "for a county or more: households' features and scores district by district",
    "community": "optional: places residents, community groups and frontline staff named "
                 "in consultations, set beside the model's areas (docs/community.md)",
    "siting": "optional: where to site services",
}
#: Every setting, declared once.
SETTINGS = (
    _S("", "area_name", "text", _REQUIRED, "required: shown on every map and in the report",
       '"Basildon"'),
    _S("", "reference_date", "date", _REQUIRED,
       "required: features use only what was known on this day", "2017-12-31"),
    _S("", "refreshes", "int", 16, "quarterly refreshes ending on the reference date",
       low=MIN_REFRESHES, high=200),
    _S("", "key_file", "file", _REQUIRED,
       "required: from 'geo-risk keygen'; never share it", '"project.key"'),
    _S("", "extracts", "folder", _REQUIRED,
       "required: folder with the partner extracts, named after their source: "
       "child_register, addresses, social_care, school_readiness, youth_offending, "
       "drugs_alcohol, housing, benefits, police (.csv, .xlsx or .parquet)", '"extracts"'),
    _S("", "marking", "text", "OFFICIAL-SENSITIVE",
       'handling marking on maps and report ("" for none)'),
    _S("", "attribution", "text", "", "", '"Contains Ordnance Survey and Office for National '
       "Statistics data © Crown copyright and database right, Open Government Licence v3.0; "
       "English Indices of Deprivation 2019, MHCLG, Open Government Licence v3.0\""),
    _S("", "random_state", "int", 1, "every random step (model, permutations) uses it", low=0),
    _S("", "background_tiles", "bool", False,
       "true adds an OpenStreetMap layer (off; needs internet)"),
    _S("hotspots", "weights", "text", "queen",
       'neighbours: "queen" (edges and corners), "rook" (edges), "order:N" (contiguity up '
       'to N steps), "knn:K" (K nearest), "distance:METRES[:MIN]" (a fixed distance band, '
       "at least MIN neighbours), as ArcGIS and GeoDa name them"),
    _S("hotspots", "global_window", "text", "entire_cube",
       'what each emerging hot spot bin is compared with, as ArcGIS\'s global window: '
       '"entire_cube", "neighbourhood_time_step" or "individual_time_step"'),
    _S("hotspots", "fdr", "bool", True,
       "false discovery rate correction of every hot spot test (false: each test at its "
       "own 5% level)"),
    _S("outcome", "name", "choice", DEFAULT_OUTCOME,
       "what is predicted: " + "; ".join(f'"{o.name}" ({o.at_risk})'
                                          for o in OUTCOMES.values()),
       choices=tuple(OUTCOMES)),
    _S("boundaries", "oa", "file", _REQUIRED, "OA polygons, any CRS pyogrio reads",
       '"boundaries/oa11_basildon.geojson"'),
    _S("boundaries", "lookup", "file", _REQUIRED,
       "OA11CD, LSOA11CD, WD13CD, WD13NM, ... (any vintage: OA21CD, WD25CD...; or by LSOA: "
       "LSOA21CD, WD25CD, WD25NM, as ONS publishes it)",
       '"boundaries/oa11_lookup_basildon.csv"'),
    _S("boundaries", "imd", "file", None, "optional: deprivation by LSOA (IoD 2025 or IMD "
       "2019 File 7 CSV as published)", '"boundaries/imd2019_lsoa11_basildon.csv"'),
    _S("boundaries", "measure", "choice", "imd",
       '"imd" or "idaci" (the child-focused income domain)', choices=("imd", "idaci")),
    _S("boundaries", "repair", "bool", True, "repair invalid rings (ONS's BFC files have a "
       "few), listed in run_info; false refuses them instead"),
    _S("boundaries", "uprn_lookup", "file", None, "optional: place addresses by UPRN (ONSUD "
       "or NSUL, joined before pseudonymising) instead of by point",
       '"ONSUD_MAY_2025_EE.csv"', shown=False),
    _S("boundaries", "districts", "names", (), "optional: the districts the run covers (ONS "
       "codes or names, as the lookup has them), when oa is a file of a wider area, such as "
       "England and Wales as ONS publishes it", '["E07000066"]', shown=False),
    _S("capacity", "share", "float", DEFAULT_CAPACITY.share,
       "the top 5%; or: number = 511; or: min_score = 0.6", low=0.0, high=1.0),
    _S("capacity", "number", "int", None, "a number of households instead of a share",
       "511", shown=False, low=1),
    _S("capacity", "min_score", "float", None, "every household scoring at least this",
       "0.6", shown=False, low=0.0, high=1.0),
    _S("capacity", "known_within_months", "float", KNOWN_WITHIN_MONTHS,
       '"known": an episode open or ended this recently', "24", low=0.0),
    _S("history", "runs", "folders", (), 'e.g. ["../2024-q4"]', "[]"),
    _S("history", "exact_fit", "file", None,
       "carries 2011-OA runs to 2021 OAs (U, M, S; X listed)", '"OA11_OA21_EW_LU.csv"',
       shown=False),
    _S("history", "previous", "folder", None, 'the last run: the report gets "Since the last '
       "run\" (what changed, flag churn, how its model did on the results since, drift); as "
       "'geo-risk compare OLD NEW'", '"../2024-q4"', shown=False),
    _S("transparency", "organisation", "text", ""),
    _S("transparency", "team", "text", ""),
    _S("transparency", "senior_responsible_owner", "text", "", "a role, not a name"),
    _S("transparency", "contact_email", "text", ""),
    _S("transparency", "website", "text", ""),
    _S("review", "ledger", "text", "", "the practitioners' review ledger (SQLite, kept by the "
       "data controller; 'geo-risk review import' fills it): the report then summarises the "
       "last run's reviews"),
    _S("retention", "period", "period", "18m", "restricted and working material of a run is "
       "kept this long, then deleted by 'geo-risk purge --older-than'"),
    _S("disclosure", "withhold_up_to", "int", SAFE.withhold_up_to,
       "counts from 1 to this are withheld", low=0),
    _S("disclosure", "rounding", "int", SAFE.rounding,
       "other counts are rounded to the nearest this", low=1),
    _S("disclosure", "reason", "text", "", "required (and published) only if the rules "
       f"above are weaker than {SAFE.SAFE_WITHHOLD} and {SAFE.SAFE_ROUNDING}; otherwise leave "
       "it empty"),
    _S("linkage", "min_match_rate", "float", 0.9, "warn when a source links below this share",
       low=0.0, high=1.0),
    _S("dask", "workers", "int", 2, "local worker processes (one thread each; 0: in this "
       "process), or", "0", low=0, high=256),
    _S("dask", "scheduler", "text", None, "a cluster already running (geo-risk installed on "
       "its workers); the results are the same either way", '"tcp://10.0.0.5:8786"',
       shown=False),
    _S("community", "file", "file", None,
       "points or polygons with a theme and a date: CSV (easting/northing, longitude/"
       "latitude or postcode), GeoJSON or GeoPackage", '"community/consultation.csv"'),
    _S("community", "postcodes", "file", None,
       "optional: a postcode lookup (ONSPD's CSV) for rows placed by postcode",
       '"ONSPD.csv"', shown=False),
    _S("siting", "candidates", "file", _REQUIRED,
       "points with a name: schools, libraries, halls...", '"sites/candidates.gpkg"'),
    _S("siting", "existing", "file", None, "optional: sites already open (always kept)",
       '"sites/existing.csv"'),
    _S("siting", "distance", "float", SitingSettings.service_distance,
       "metres in a straight line (or the matrix's unit)", "800", low=0.0),
    _S("siting", "matrix", "file", None,
       "optional: oa11cd, site, distance instead of straight lines", '"walking_times.csv"',
       shown=False),
    _S("siting", "p", "int", 5, "new sites; or: coverage = 0.8 (fewest reaching 80%)", low=1),
    _S("siting", "coverage", "float", None, "the fewest new sites reaching this share",
       "0.8", shown=False, low=0.0, high=1.0),
    _S("siting", "model", "choice", "mclp",
       'maximal covering; "pmedian" minimises weighted distance', choices=("mclp", "pmedian")),
)
_BY_NAME = {(s.table, s.key): s for s in SETTINGS}
_TOP = {s.key for s in SETTINGS if not s.table} | {t for t in TABLES if t}
_TABLES = {t: {s.key for s in SETTINGS if s.table == t} for t in TABLES if t}


def _default(table: str, key: str) -> Any:
    return _BY_NAME[(table, key)].default


@dataclass(frozen=True)
class RunSettings:
    """What a whole run needs besides the extracts and the key.

    Defaults are those of :data:`SETTINGS`, so a run built in code (the demo) and one
    read from ``run.toml`` differ only where a setting was given.
    """

    reference_date: str
    refresh_dates: list[str]
    area_name: str
    attribution: str
    files: BoundaryFiles
    capacity: Capacity = DEFAULT_CAPACITY
    known_within_months: float = _default("capacity", "known_within_months")
    disclosure: Disclosure = SAFE
    marking: str = _default("", "marking")
    background_tiles: bool = _default("", "background_tiles")  # OpenStreetMap: internet
    synthetic: bool = False
    min_match_rate: float = _default("linkage", "min_match_rate")
    random_state: int = _default("", "random_state")
    siting: SitingSettings | None = None
    retention: str = _default("retention", "period")  # restricted material kept this long
    transparency: dict = field(default_factory=dict)  # [transparency]: who owns the tool
    review_ledger: Path | None = None  # practitioners' reviews of earlier runs' flags
    history: tuple[Path, ...] = ()  # earlier runs whose refreshes extend the series
    exact_fit: Path | None = None  # OA exact-fit lookup, for history across a census
    previous: Path | None = None  # the last run: the report says what changed since
    dask: DaskSettings | None = None  # household stages on Dask, district by district
    # the hot spot statistics' settings ([hotspots]: weights, global_window, fdr)
    hotspots: dict = field(default_factory=dict)
    outcome: str = DEFAULT_OUTCOME  # what is predicted ([outcome] name; geo_risk.outcomes)
    community: Path | None = None  # what the community says ([community] file)
    community_postcodes: Path | None = None  # a postcode lookup for it


@dataclass(frozen=True)
class RunConfig:
    """A checked configuration: where the inputs are and the run's settings."""

    extracts: Path
    key_file: Path
    settings: RunSettings


def quarterly_refreshes(reference_date: str, periods: int) -> list[str]:
    """``periods`` refresh dates three months apart, ending at the reference date.

    >>> quarterly_refreshes("2017-12-31", 3)
    ['2017-06-30', '2017-09-30', '2017-12-31']
    """
    end = pd.Timestamp(reference_date)
    month_end = end == end + pd.offsets.MonthEnd(0)
    dates = [end - pd.DateOffset(months=3 * i) for i in range(periods)][::-1]
    if month_end:
        dates = [d + pd.offsets.MonthEnd(0) for d in dates]
    return [str(d.date()) for d in dates]


def months(text: str) -> float:
    """A retention period as months: ``18m``, ``2y``, ``90d`` (a month = 30.4375 days).

    >>> months("18m"), months("2y"), round(months("90d"), 2)
    (18.0, 24.0, 2.96)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dmy])\s*", str(text).lower())
    if not match:
        raise ConfigError(f"retention period {text!r}: give a number and a unit, e.g. 18m "
                          "(months), 2y (years) or 90d (days).")
    value, unit = float(match[1]), match[2]
    return {"d": value / 30.4375, "m": value, "y": value * 12}[unit]


def parse_capacity(*, share: float | None = None, number: int | None = None,
                   min_score: float | None = None,
                   zero_share: str = "[capacity] share = 0") -> Capacity:
    """The capacity from the one way it was given (the TOML's ``[capacity]`` and the
    ``--capacity`` / ``--min-score`` options both come here); ``zero_share`` is how a
    share of 0 was written, for the error.

    Raises
    ------
    ConfigError
        More than one way given, or a share of 0 (which flags no household).

    Examples
    --------
    >>> parse_capacity(share=0.05) == Capacity(share=0.05)
    True
    >>> parse_capacity(number=511).describe()
    'the 511 highest-scoring households'
    """
    given = {k: v for k, v in [("share", share), ("number", number),
                               ("min_score", min_score)] if v is not None}
    if len(given) > 1:
        raise ConfigError(f"[capacity] takes one of share, number or min_score, not "
                          f"{' and '.join(given)}.")
    if number is not None:
        return Capacity(share=None, number=number)
    if min_score is not None:
        return Capacity(share=None, min_score=min_score)
    share = DEFAULT_CAPACITY.share if share is None else share
    if share == 0:
        raise ConfigError(f"{zero_share} flags no household; give a share above 0 "
                          "(0.05 = the top 5%), a number or a min_score.")
    return Capacity(share=share)


#: Settings renamed so that one name means one thing: (table or "", old) -> new. The old
#: name still works, with a warning, for one release (0.2).
RENAMED = {("", "seed"): "random_state",  # random_state, as everywhere else
           ("capacity", "threshold"): "min_score",  # a score, not a count
           ("disclosure", "threshold"): "withhold_up_to"}  # a count, not a score


class _Reader:
    """Reads settings from the parsed TOML by their declaration, collecting every
    problem (as osmnx's validators do) instead of stopping at the first."""

    _WHAT: ClassVar[dict[str, str]] = {"int": "a whole number", "float": "a number",
                                       "bool": "true or false"}

    def __init__(self, path: Path, raw: dict) -> None:
        self.path, self.raw = path, raw
        self.problems: list[str] = []
        self.folder = path.parent

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def table(self, table: str) -> dict:
        value = self.raw.get(table, {}) if table else self.raw
        return value if isinstance(value, dict) else {}

    def given(self, table: str, key: str) -> bool:
        return key in self.table(table)

    def get(self, table: str, key: str) -> Any:
        """The value of one declared setting, checked; its default when not given; None
        (with the problem noted) when it is wrong."""
        spec = _BY_NAME[(table, key)]
        if not self.given(table, key):
            if spec.required:
                return None  # reported once, by check_required
            return spec.default
        value = self.table(table)[key]
        parse: Callable[[Setting, Any], Any] = getattr(self, f"_{spec.kind}")
        try:
            return parse(spec, value)
        except ConfigError as err:
            self.problem(str(err))
            return None

    def _number(self, spec: Setting, given: Any, kind: type) -> Any:
        value: Any = given
        if kind is float and isinstance(given, int) and not isinstance(given, bool):
            value = float(given)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ConfigError(f"{spec.key} must be {self._WHAT[spec.kind]} (unquoted), not "
                              f"{value!r}.")
        number = cast(float, value)
        if ((spec.low is not None and number < spec.low)
                or (spec.high is not None and number > spec.high)):
            raise ConfigError(f"{spec.key} = {value!r} is outside {spec.low} to {spec.high}.")
        return value

    def _int(self, spec: Setting, value: Any) -> int:
        return self._number(spec, value, int)

    def _float(self, spec: Setting, value: Any) -> float:
        return self._number(spec, value, float)

    def _bool(self, spec: Setting, value: Any) -> bool:
        return self._number(spec, value, bool)

    def _text(self, spec: Setting, value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"{spec.name} must be text in quotes.")
        return value

    def _choice(self, spec: Setting, value: Any) -> str:
        if value not in spec.choices:
            raise ConfigError(f"{spec.name} = {value!r} is not one of "
                              f"{', '.join(repr(a) for a in spec.choices)}.")
        return value

    def _date(self, spec: Setting, value: Any) -> dt.date:
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ConfigError(f"{spec.key} must be a date written YYYY-MM-DD, e.g. "
                              f"{spec.key} = 2017-12-31.")
        return value

    def _path(self, spec: Setting, value: Any, *, folder: bool) -> Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{spec.name} must be a path in quotes, e.g. {spec.key} = "
                              '"...".')
        resolved = (self.folder / value).resolve()
        if not (resolved.is_dir() if folder else resolved.is_file()):
            kind = "folder" if folder else "file"
            raise ConfigError(f"{spec.name} = {value!r}: {kind} not found at {resolved}; "
                              "paths are relative to the configuration file.")
        return resolved

    def _file(self, spec: Setting, value: Any) -> Path:
        return self._path(spec, value, folder=False)

    def _folder(self, spec: Setting, value: Any) -> Path:
        return self._path(spec, value, folder=True)

    def _folders(self, spec: Setting, value: Any) -> tuple[Path, ...]:
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise ConfigError(f"{spec.name} must be a list of folders in quotes, e.g. "
                              f'{spec.key} = ["../2024-q4"].')
        return tuple(self._path(spec, r, folder=True) for r in value)

    def _names(self, spec: Setting, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise ConfigError(f"{spec.name} must be a list of district codes or names, e.g. "
                              f'{spec.key} = ["E07000066", "Castle Point"].')
        return tuple(v.strip() for v in value)

    def _period(self, spec: Setting, value: Any) -> str:
        try:
            months(str(value))
        except ConfigError as err:
            raise ConfigError(f"[{spec.table}] {err}") from None
        return str(value)

    def check_keys(self) -> None:
        """Renamed keys read under their new name; unknown keys, tables that are not
        tables and missing required settings, each noted."""
        for (table, old), new in RENAMED.items():
            where = self.table(table)
            if old in where:
                if new in where:
                    self.problem(f"{_name(table, old)} and {_name(table, new)} are the same "
                                 f"setting; keep {_name(table, new)} only.")
                    continue
                where[new] = where.pop(old)
                log.warning("%s: %s is now called %s; the old name will stop working in "
                            "geo-risk 0.2.", self.path, _name(table, old), _name(table, new))
        self._unknown("", set(self.raw), _TOP)
        for table, allowed in _TABLES.items():
            if table in self.raw and not isinstance(self.raw[table], dict):
                self.problem(f"[{table}] must be a table of settings.")
                continue
            self._unknown(f"[{table}] ", set(self.table(table)), allowed)
        missing = [s.key for s in SETTINGS if not s.table and s.required
                   and s.key not in self.raw]
        if "boundaries" not in self.raw:
            missing.append("boundaries")
        if missing:
            self.problem(f"missing {', '.join(missing)}; see 'geo-risk run --example'.")
        for table in ["boundaries", "siting"]:  # [siting] = {} asks for no siting
            if isinstance(self.raw.get(table), dict) and (table == "boundaries"
                                                          or self.raw[table]):
                for spec in SETTINGS:
                    if spec.table == table and spec.required and spec.key not in self.raw[table]:
                        self.problem(f"[{table}] needs {spec.key} = \"...\""
                                     + (" (a file of sites)." if table == "siting" else "."))

    def _unknown(self, where: str, keys: set[str], allowed: set[str]) -> None:
        for key in sorted(keys - allowed):
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            self.problem(f"unknown setting {where}{key!r}.{hint} See 'geo-risk run --example' "
                         "for every setting.")

    def error(self) -> ConfigError | None:
        """All the problems as one error, or None."""
        if not self.problems:
            return None
        if len(self.problems) == 1:
            return ConfigError(f"{self.path}: {self.problems[0]}")
        listed = " ".join(f"({i}) {p}" for i, p in enumerate(self.problems, start=1))
        return ConfigError(f"{self.path}: {len(self.problems)} problems: {listed}")


def _name(table: str, key: str) -> str:
    return f"[{table}] {key}" if table else key


def load_config(path: Path) -> RunConfig:
    """Read and check a run configuration (see :func:`example`).

    Parameters
    ----------
    path : Path
        The TOML file, as Notepad or a spreadsheet saved it (UTF-8 with or without a
        byte-order mark, UTF-16, Windows-1252).

    Returns
    -------
    RunConfig
        The extracts folder, the key file and the run's settings.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or has one or more problems (every one is named).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found; start from "
                          "'geo-risk run --example > run.toml'.")
    try:
        raw = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}).") from None
    r = _Reader(path, raw)
    r.check_keys()
    files = _boundary_files(r)
    reference = r.get("", "reference_date")
    refreshes = r.get("", "refreshes")
    capacity = _capacity(r)
    disclosure = _disclosure(r)
    rule = get_outcome(r.get("outcome", "name")).withhold_up_to  # stricter, never weaker
    if disclosure is not None and rule > disclosure.withhold_up_to:
        disclosure = dataclasses.replace(disclosure, withhold_up_to=rule)
    siting = _siting(r) if raw.get("siting") else None
    dask = _dask(r) if "dask" in raw else None
    ledger = r.get("review", "ledger")
    hotspots = {"weights": str(r.get("hotspots", "weights")),
                "global_window": str(r.get("hotspots", "global_window")),
                "fdr": r.get("hotspots", "fdr")}
    for check, key in [(weights_choice, "weights"), (global_window_choice, "global_window")]:
        try:
            check(hotspots[key])
        except GeoRiskError as err:
            r.problem(f"[hotspots] {err}")
    settings = dict(
        area_name=str(raw.get("area_name", "")),
        attribution=str(r.get("", "attribution")),
        capacity=capacity,
        known_within_months=r.get("capacity", "known_within_months"),
        disclosure=disclosure,
        marking=str(raw.get("marking", _default("", "marking"))),
        background_tiles=r.get("", "background_tiles"),
        min_match_rate=r.get("linkage", "min_match_rate"),
        random_state=r.get("", "random_state"),
        siting=siting,
        retention=r.get("retention", "period"),
        transparency={k: str(v) for k, v in r.table("transparency").items()},
        review_ledger=(path.parent / ledger).resolve() if ledger else None,
        history=r.get("history", "runs"),
        exact_fit=r.get("history", "exact_fit"),
        previous=r.get("history", "previous"),
        dask=dask,
        hotspots=hotspots,
        outcome=r.get("outcome", "name"),
        community=r.get("community", "file"),
        community_postcodes=r.get("community", "postcodes"),
    )
    extracts, key_file = r.get("", "extracts"), r.get("", "key_file")
    if (error := r.error()) is not None:
        raise error
    assert files is not None and reference is not None and extracts is not None
    return RunConfig(extracts=extracts, key_file=key_file, settings=RunSettings(
        reference_date=reference.isoformat(),
        refresh_dates=quarterly_refreshes(reference.isoformat(), refreshes),
        files=files, **settings))


def _boundary_files(r: _Reader) -> BoundaryFiles | None:
    oa, lookup = r.get("boundaries", "oa"), r.get("boundaries", "lookup")
    rest = {key: r.get("boundaries", key)
            for key in ["imd", "measure", "uprn_lookup", "repair", "districts"]}
    if oa is None or lookup is None or any(v is None for k, v in rest.items()
                                           if k not in {"imd", "uprn_lookup"}):
        return None
    return BoundaryFiles(oa=oa, lookup=lookup, **rest)


def _capacity(r: _Reader) -> Capacity | None:
    ways = {key: r.get("capacity", key) for key in ["share", "number", "min_score"]
            if r.given("capacity", key)}
    try:
        return parse_capacity(**ways)
    except ConfigError as err:
        r.problem(str(err))
        return None


def _disclosure(r: _Reader) -> Disclosure | None:
    reason = r.get("disclosure", "reason")
    rules = Disclosure(withhold_up_to=r.get("disclosure", "withhold_up_to"),
                       rounding=r.get("disclosure", "rounding"), reason=reason or None)
    if rules.withhold_up_to is None or rules.rounding is None:
        return None
    try:
        rules.check(str(r.path))
    except ConfigError as err:
        r.problem(str(err).removeprefix(f"{r.path}: "))
    return rules


def _dask(r: _Reader) -> DaskSettings | None:
    scheduler = r.table("dask").get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        r.problem("[dask] scheduler must be the scheduler's address in quotes, e.g. "
                  'scheduler = "tcp://10.0.0.5:8786".')
        return None
    if scheduler and r.given("dask", "workers"):
        r.problem("[dask] takes workers (local processes) or scheduler (a cluster already "
                  "running), one of the two.")
        return None
    workers = r.get("dask", "workers")
    if not scheduler and workers == 0:
        return None  # in this process
    return DaskSettings(workers=workers, scheduler=scheduler or None)


def _siting(r: _Reader) -> SitingSettings | None:
    if r.given("siting", "p") == r.given("siting", "coverage"):
        r.problem("[siting] takes p (new sites) or coverage (a share), one of the two.")
    model, candidates = r.get("siting", "model"), r.get("siting", "candidates")
    if model is None or candidates is None:  # each problem noted by the reader
        return None
    return SitingSettings(
        candidates=candidates, existing=r.get("siting", "existing"),
        service_distance=r.get("siting", "distance"), matrix=r.get("siting", "matrix"),
        p=r.get("siting", "p") if r.given("siting", "p") else None,
        coverage=r.get("siting", "coverage"), model=model)


_COMMENT_AT, _WIDTH = 35, 92


def example() -> str:
    """A documented example configuration, from :data:`SETTINGS` (``geo-risk run
    --example``): every setting with its default or an example value, and what it
    means; alternatives and optional files commented out.

    >>> text = example()
    >>> tomllib.loads(text)["capacity"]["share"], "# number = 511" in text
    (0.05, True)
    """
    lines = ["# geo-risk run configuration: `geo-risk run --config THIS_FILE --out OUT`",
             '# Paths are relative to this file. Only the lines marked "required" must be set.']
    for table, doc in TABLES.items():
        lines.append("")
        if table:
            lines += _commented(f"[{table}]", doc)
        for spec in (s for s in SETTINGS if s.table == table):
            literal = spec.example if spec.example is not None else _literal(spec.default)
            entry = f"{spec.key} = {literal}"
            lines += _commented(entry if spec.shown else f"# {entry}", spec.doc)
    return "\n".join(lines) + "\n"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _commented(entry: str, doc: str) -> list[str]:
    if not doc:
        return [entry]
    return textwrap.wrap(doc, _WIDTH, initial_indent=entry.ljust(_COMMENT_AT - 1) + " # ",
                         subsequent_indent=" " * _COMMENT_AT + "# ", break_on_hyphens=False)
