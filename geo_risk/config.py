"""The ``geo-risk run`` configuration: one TOML file names the inputs and the choices.

:data:`EXAMPLE` is a documented example (``geo-risk run --example``). Paths are relative
to the configuration file. Every problem is one :class:`ConfigError` naming the file,
the key and the fix.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo_risk._errors import ConfigError
from geo_risk.areas import MIN_REFRESHES, SAFE, Disclosure
from geo_risk.geography import BoundaryFiles
from geo_risk.inputs import DaskSettings
from geo_risk.io import read_text
from geo_risk.model import DEFAULT_CAPACITY, Capacity
from geo_risk.siting import SitingSettings

__all__ = ["EXAMPLE", "RENAMED", "ConfigError", "RunConfig", "RunSettings", "load_config", "months",
           "quarterly_refreshes"]

log = logging.getLogger(__name__)

EXAMPLE = Path(__file__).with_name("example_run.toml")

_TOP = {"area_name", "reference_date", "refreshes", "key_file", "extracts", "marking",
        "attribution", "random_state", "background_tiles", "boundaries", "capacity", "disclosure",
        "linkage", "siting", "history", "retention", "transparency", "review", "dask"}
_TABLES = {"boundaries": {"oa", "lookup", "imd", "measure", "uprn_lookup", "repair",
                          "districts"},
           "capacity": {"share", "number", "min_score", "known_within_months"},
           "disclosure": {"withhold_up_to", "rounding", "reason"}, "linkage": {"min_match_rate"},
           "history": {"runs", "exact_fit", "previous"}, "retention": {"period"},
           "review": {"ledger"}, "dask": {"workers", "scheduler"},
           "transparency": {"organisation", "team", "senior_responsible_owner",
                            "contact_email", "website"},
           "siting": {"candidates", "existing", "distance", "matrix", "p", "coverage",
                      "model"}}
_REQUIRED = ["area_name", "reference_date", "key_file", "extracts", "boundaries"]


@dataclass(frozen=True)
class RunSettings:
    """What a whole run needs besides the extracts and the key."""

    reference_date: str
    refresh_dates: list[str]
    area_name: str
    attribution: str
    files: BoundaryFiles
    capacity: Capacity = DEFAULT_CAPACITY
    known_within_months: float = 24.0
    disclosure: Disclosure = SAFE
    marking: str = "OFFICIAL-SENSITIVE"
    background_tiles: bool = False  # OpenStreetMap under the maps: needs internet
    synthetic: bool = False
    min_match_rate: float = 0.9
    random_state: int = 0
    siting: SitingSettings | None = None
    retention: str = "18m"  # restricted and working material kept this long (purge)
    transparency: dict = field(default_factory=dict)  # [transparency]: who owns the tool
    review_ledger: Path | None = None  # practitioners' reviews of earlier runs' flags
    history: tuple[Path, ...] = ()  # earlier runs whose refreshes extend the series
    exact_fit: Path | None = None  # OA exact-fit lookup, for history across a census
    previous: Path | None = None  # the last run: the report says what changed since
    dask: DaskSettings | None = None  # household stages on Dask, district by district


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


@dataclass(frozen=True)
class RunConfig:
    """A checked configuration: where the inputs are and the run's settings."""

    extracts: Path
    key_file: Path
    settings: RunSettings


def _unknown(path: Path, where: str, keys: set[str], allowed: set[str]) -> None:
    for key in sorted(keys - allowed):
        close = difflib.get_close_matches(key, sorted(allowed), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{path}: unknown setting {where}{key!r}.{hint} See "
                          "'geo-risk run --example' for every setting.")


#: Settings renamed so that one name means one thing: (table or "", old) -> new. The old
#: name still works, with a warning, for one release (0.2).
RENAMED = {("", "seed"): "random_state",  # random_state, as everywhere else
           ("capacity", "threshold"): "min_score",  # a score, not a count
           ("disclosure", "threshold"): "withhold_up_to"}  # a count, not a score


def _renamed(path: Path, raw: dict) -> None:
    for (table, old), new in RENAMED.items():
        where = raw.get(table, {}) if table else raw
        if isinstance(where, dict) and old in where:
            if new in where:
                raise ConfigError(f"{path}: {_name(table, old)} and {_name(table, new)} are "
                                  f"the same setting; keep {_name(table, new)} only.")
            where[new] = where.pop(old)
            log.warning("%s: %s is now called %s; the old name will stop working in "
                        "geo-risk 0.2.", path, _name(table, old), _name(table, new))


def _name(table: str, key: str) -> str:
    return f"[{table}] {key}" if table else key


def _file(path: Path, config_dir: Path, value, key: str, *, folder: bool = False) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: {key} must be a path in quotes, e.g. {key} = \"...\".")
    resolved = (config_dir / value).resolve()
    exists = resolved.is_dir() if folder else resolved.is_file()
    if not exists:
        kind = "folder" if folder else "file"
        raise ConfigError(f"{path}: {key} = {value!r}: {kind} not found at {resolved}; paths "
                          "are relative to the configuration file.")
    return resolved


def _retention(path: Path, table: dict) -> str:
    period = str(table.get("period", "18m"))
    try:
        months(period)
    except ConfigError as err:
        raise ConfigError(f"{path}: [retention] {err}") from None
    return period


def _districts(path: Path, value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{path}: [boundaries] districts must be a list of district codes "
                          'or names, e.g. districts = ["E07000066", "Castle Point"].')
    return tuple(v.strip() for v in value)


def _choice(path: Path, table: dict, key: str, allowed: list[str], default: str) -> str:
    value = table.get(key, default)
    if value not in allowed:
        raise ConfigError(f"{path}: [boundaries] {key} = {value!r} is not one of "
                          f"{', '.join(repr(a) for a in allowed)}.")
    return value


def _number(path: Path, table: dict, key: str, kind: type, default, *, low=None, high=None):
    value = table.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        what = {int: "a whole number", float: "a number", bool: "true or false"}.get(
            kind, kind.__name__)
        raise ConfigError(f"{path}: {key} must be {what} (unquoted), not {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{path}: {key} = {value!r} is outside {low} to {high}.")
    return value


def _dask(path: Path, table: dict) -> DaskSettings | None:
    scheduler = table.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ConfigError(f"{path}: [dask] scheduler must be the scheduler's address in "
                          'quotes, e.g. scheduler = "tcp://10.0.0.5:8786".')
    if scheduler and "workers" in table:
        raise ConfigError(f"{path}: [dask] takes workers (local processes) or scheduler (a "
                          "cluster already running), one of the two.")
    workers = _number(path, table, "workers", int, 2, low=0, high=256)
    if not scheduler and workers == 0:
        return None  # in this process
    return DaskSettings(workers=workers, scheduler=scheduler or None)


def _siting(path: Path, config_dir: Path, table: dict) -> SitingSettings:
    if "candidates" not in table:
        raise ConfigError(f"{path}: [siting] needs candidates = \"...\" (a file of sites).")
    if ("p" in table) == ("coverage" in table):
        raise ConfigError(f"{path}: [siting] takes p (new sites) or coverage (a share), one "
                          "of the two.")
    model = table.get("model", "mclp")
    if model not in {"mclp", "pmedian"}:
        raise ConfigError(f"{path}: [siting] model = {model!r}: use \"mclp\" (maximal "
                          "covering) or \"pmedian\".")
    return SitingSettings(
        candidates=_file(path, config_dir, table["candidates"], "[siting] candidates"),
        existing=_file(path, config_dir, table["existing"], "[siting] existing")
        if "existing" in table else None,
        service_distance=_number(path, table, "distance", float, 800.0, low=0.0),
        matrix=_file(path, config_dir, table["matrix"], "[siting] matrix") if "matrix" in table
        else None,
        p=_number(path, table, "p", int, 5, low=1) if "p" in table else None,
        coverage=_number(path, table, "coverage", float, 0.8, low=0.0, high=1.0)
        if "coverage" in table else None,
        model=model)


def load_config(path: Path) -> RunConfig:
    """Read and check a run configuration (see :data:`EXAMPLE`)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found; start from "
                          "'geo-risk run --example > run.toml'.")
    try:
        raw = tomllib.loads(read_text(path))  # as Notepad saves it, with a mark or UTF-16
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}).") from None
    _renamed(path, raw)
    _unknown(path, "", set(raw), _TOP)
    for table, allowed in _TABLES.items():
        value = raw.get(table, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{table}] must be a table of settings.")
        _unknown(path, f"[{table}] ", set(value), allowed)
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}; see 'geo-risk run --example'.")
    config_dir = path.parent

    bounds = raw["boundaries"]
    for key in ["oa", "lookup"]:
        if key not in bounds:
            raise ConfigError(f"{path}: [boundaries] needs {key} = \"...\".")
    files = BoundaryFiles(
        oa=_file(path, config_dir, bounds["oa"], "[boundaries] oa"),
        lookup=_file(path, config_dir, bounds["lookup"], "[boundaries] lookup"),
        imd=_file(path, config_dir, bounds["imd"], "[boundaries] imd") if "imd" in bounds else None,
        measure=_choice(path, bounds, "measure", ["imd", "idaci"], "imd"),
        uprn_lookup=_file(path, config_dir, bounds["uprn_lookup"], "[boundaries] uprn_lookup")
        if "uprn_lookup" in bounds else None,
        repair=_number(path, bounds, "repair", bool, True),
        districts=_districts(path, bounds.get("districts", [])))

    reference = raw["reference_date"]
    if isinstance(reference, str):
        try:
            reference = dt.date.fromisoformat(reference)
        except ValueError:
            reference = None
    if not isinstance(reference, dt.date) or isinstance(reference, dt.datetime):
        raise ConfigError(f"{path}: reference_date must be a date written YYYY-MM-DD, e.g. "
                          "reference_date = 2017-12-31.")
    refreshes = _number(path, raw, "refreshes", int, 16, low=MIN_REFRESHES, high=200)

    cap = raw.get("capacity", {})
    chosen = [k for k in ["share", "number", "min_score"] if k in cap]
    if len(chosen) > 1:
        raise ConfigError(f"{path}: [capacity] takes one of share, number or min_score, not "
                          f"{' and '.join(chosen)}.")
    if "number" in cap:
        capacity = Capacity(share=None, number=_number(path, cap, "number", int, 0, low=1))
    elif "min_score" in cap:
        capacity = Capacity(share=None, min_score=_number(path, cap, "min_score", float, 0.5,
                                                          low=0.0, high=1.0))
    else:
        share = _number(path, cap, "share", float, 0.05, low=0.0, high=1.0)
        if share == 0:
            raise ConfigError(f"{path}: [capacity] share = 0 flags no household; give a share "
                              "above 0 (0.05 = the top 5%), a number or a min_score.")
        capacity = Capacity(share=share)
    disclosure = raw.get("disclosure", {})
    reason = disclosure.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ConfigError(f"{path}: [disclosure] reason must be text in quotes.")
    rules = Disclosure(withhold_up_to=_number(path, disclosure, "withhold_up_to", int, 7, low=0),
                       rounding=_number(path, disclosure, "rounding", int, 5, low=1),
                       reason=reason)
    rules.check(str(path))
    siting = _siting(path, config_dir, raw["siting"]) if raw.get("siting") else None
    history = raw.get("history", {})
    runs = history.get("runs", [])
    if not isinstance(runs, list) or not all(isinstance(r, str) for r in runs):
        raise ConfigError(f"{path}: [history] runs must be a list of folders in quotes, e.g. "
                          'runs = ["../2024-q4"].')
    settings = RunSettings(
        reference_date=reference.isoformat(),
        refresh_dates=quarterly_refreshes(reference.isoformat(), refreshes),
        area_name=str(raw["area_name"]),
        attribution=str(raw.get("attribution", "")),
        files=files,
        capacity=capacity,
        known_within_months=_number(path, cap, "known_within_months", float, 24.0, low=0.0),
        disclosure=rules,
        marking=str(raw.get("marking", "OFFICIAL-SENSITIVE")),
        background_tiles=_number(path, raw, "background_tiles", bool, False),
        min_match_rate=_number(path, raw.get("linkage", {}), "min_match_rate", float, 0.9,
                               low=0.0, high=1.0),
        random_state=_number(path, raw, "random_state", int, 1, low=0),
        siting=siting,
        retention=_retention(path, raw.get("retention", {})),
        transparency={k: str(v) for k, v in raw.get("transparency", {}).items()},
        review_ledger=(config_dir / raw["review"]["ledger"]).resolve()
        if raw.get("review", {}).get("ledger") else None,
        history=tuple(_file(path, config_dir, r, "[history] runs", folder=True) for r in runs),
        exact_fit=_file(path, config_dir, history["exact_fit"], "[history] exact_fit")
        if "exact_fit" in history else None,
        previous=_file(path, config_dir, history["previous"], "[history] previous",
                       folder=True) if "previous" in history else None,
        dask=_dask(path, raw["dask"]) if "dask" in raw else None,
    )
    return RunConfig(extracts=_file(path, config_dir, raw["extracts"], "extracts", folder=True),
                     key_file=_file(path, config_dir, raw["key_file"], "key_file"),
                     settings=settings)
