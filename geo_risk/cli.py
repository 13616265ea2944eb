"""The ``geo-risk`` command line: thin, one public function per subcommand.

Errors a user can fix (:class:`geo_risk.GeoRiskError`) print as one message, no
traceback, and exit with status 2.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import re
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from geo_risk import __version__
from geo_risk._errors import GeoRiskError
from geo_risk.inputs import SOURCES
from geo_risk.synth.scenarios import SCENARIOS

if TYPE_CHECKING:
    from geo_risk.geography import BoundaryFiles

app = typer.Typer(
    help="geo-risk: school-readiness risk from linked public-service data, by area.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console(stderr=True, soft_wrap=True)
_SOURCE_NAMES = ", ".join(SOURCES)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)  # one line per layer written


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _error(message: str) -> None:
    """One ``error:`` line. The message may quote an input (a column's name): Rich markup
    in it is shown as text, and control characters as escapes, so that no input can
    restyle or move about the user's terminal."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", message)
    console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def _fail(err: GeoRiskError) -> NoReturn:
    _error(str(err))
    raise typer.Exit(2)


try:  # the command line framework's usage errors (newer typer carries its own click)
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError  # type: ignore[assignment]


def entry() -> None:
    """The ``geo-risk`` command: a problem the user can fix is one ``error:`` line (see
    :func:`_fail`); anything else is a bug, reported in one line too, without its message
    (which may quote a value from the data) unless ``--verbose`` asks for the traceback."""
    try:
        status = app(standalone_mode=False)
    except UsageError as err:  # an option's value, a missing option, an unknown command
        if type(err).__name__ == "NoArgsIsHelpError":  # the framework showed the help
            raise SystemExit(2) from None
        names: list[str] = []
        ctx = err.ctx
        while ctx is not None and ctx.parent is not None:  # the subcommands, outermost first
            names, ctx = [str(ctx.info_name), *names], ctx.parent
        where = " ".join(["geo-risk", *names])
        _error(f"{err.format_message().rstrip('.')}; see '{where} --help'.")
        raise SystemExit(2) from None
    except typer.Abort:
        console.print("stopped.", highlight=False)
        raise SystemExit(130) from None
    except GeoRiskError as err:  # raised outside a command's own handler
        _error(str(err))
        raise SystemExit(2) from None
    except OSError as err:
        if (message := _machine_error(err)) is None:
            _unexpected(err)
        _error(message)
        raise SystemExit(2) from None
    except Exception as err:
        _unexpected(err)
    raise SystemExit(status if isinstance(status, int) else 0)


#: What the machine refused -> what the user can do about it.
_MACHINE = {errno.ENOSPC: "free some space or write the run elsewhere (--out)",
            errno.EDQUOT: "free some of your quota or write the run elsewhere (--out)",
            errno.EACCES: "check who may read and write it, or write the run elsewhere",
            errno.EPERM: "check who may read and write it, or write the run elsewhere",
            errno.EROFS: "write the run elsewhere (--out)",
            errno.EMFILE: "raise the limit on open files (ulimit -n)"}


def _machine_error(err: OSError) -> str | None:
    """The error line for a refusal by the machine rather than a fault in geo-risk (a full
    disk, a folder the user may not write): its reason and the file, which is a path the
    user gave or geo-risk made, never a value from the data. None for any other OSError."""
    code = err.errno if err.errno in _MACHINE else next(  # pyarrow's say it in words only
        (c for c in _MACHINE if err.errno is None and os.strerror(c) in str(err)), None)
    if code is None:
        return None
    where = f" ({err.filename})" if err.filename and code == err.errno else ""
    return f"{os.strerror(code).lower()}{where}; {_MACHINE[code]}."


def _unexpected(err: Exception) -> NoReturn:
    """A bug, in one line: where it happened, not its message."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        raise err
    frame = traceback.extract_tb(err.__traceback__)[-1]
    console.print(
        f"[bold red]error:[/] geo-risk stopped on an unexpected {type(err).__name__} in "
        f"{escape(Path(frame.filename).name)} line {frame.lineno}. This is a bug; its "
        "message is withheld because it may quote your data. Run again with --verbose "
        "for the traceback and report it.", highlight=False, soft_wrap=True)
    raise SystemExit(1) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"geo-risk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    audit_log: Annotated[Path | None, typer.Option(
        "--audit-log", envvar="GEO_RISK_AUDIT_LOG",
        help="The audit trail every command appends to (default "
             "~/.local/share/geo-risk/audit.jsonl).")] = None,
) -> None:
    """Predict, map and act on the risk of children not being school ready at five."""
    from geo_risk.governance import default_log

    _setup_logging(verbose)
    _AUDIT["log"] = audit_log or default_log()


#: The audit log of this invocation (set by :func:`main`).
_AUDIT: dict = {"log": None}  # and "outputs" a command adds (e.g. what purge deleted)


def _inputs(kwargs: dict) -> tuple[list[dict], str | None]:
    """Every input file a command was given (a folder: the files in it), with SHA-256, and
    the project key's fingerprint; for 'run', the files its configuration names."""
    from geo_risk.governance import file_digest
    from geo_risk.inputs import Key

    paths: list[Path] = []
    key_file = kwargs.get("key_file")
    outs = {kwargs.get(k) for k in ["out", "out_file"]}
    for name, value in kwargs.items():
        if isinstance(value, Path) and value not in outs and name != "key_file":
            paths.append(value)
    if kwargs.get("config") is not None:
        from geo_risk.config import load_config

        try:
            cfg = load_config(kwargs["config"])
        except GeoRiskError:
            cfg = None
        if cfg is not None:
            key_file = cfg.key_file
            paths += [cfg.extracts, *(v for v in vars(cfg.settings.files).values()
                                     if isinstance(v, Path))]
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file())
        elif path.is_file():
            files.append(path)
    fingerprint = None
    if key_file is not None and Path(key_file).is_file():
        try:
            fingerprint = Key.load(key_file).fingerprint
        except GeoRiskError:
            fingerprint = "unreadable"
    return [file_digest(f) for f in files], fingerprint


def _audited(command):
    """Append one audit record for each run of ``command``, however it ends."""
    import functools

    @functools.wraps(command)
    def wrapper(**kwargs):
        outcome = "ok"
        try:
            return command(**kwargs)
        except typer.Exit as stop:
            outcome = "ok" if stop.exit_code == 0 else f"stopped with exit code {stop.exit_code}"
            raise
        except BaseException as err:
            outcome = f"stopped on {type(err).__name__}"
            raise
        finally:
            if _AUDIT["log"] is not None and not kwargs.get("example"):
                _record(command.__name__, kwargs, outcome)
    return wrapper


def _record(command: str, kwargs: dict, outcome: str) -> None:
    from geo_risk.governance import append

    out = kwargs.get("out") or kwargs.get("out_file")
    outputs = []
    if out is not None and Path(out).exists():
        outputs = [str(out), *sorted(str(p) for p in Path(out).iterdir())] \
            if Path(out).is_dir() else [str(out)]
    outputs += _AUDIT.pop("outputs", [])
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in kwargs.items()
                if v is None or isinstance(v, str | int | float | bool | Path)}
    inputs, fingerprint = _inputs(kwargs)
    try:
        append(_AUDIT["log"], command=command.replace("_", "-"), settings=settings,
               inputs=inputs, outputs=outputs, outcome=outcome, key_fingerprint=fingerprint,
               version=__version__)
    except OSError as err:
        console.print(f"[bold red]error:[/] the audit log {escape(str(_AUDIT['log']))} could "
                      f"not be written ({escape(err.strerror or str(err))}); give a writable "
                      "--audit-log or GEO_RISK_AUDIT_LOG.", highlight=False)
        raise typer.Exit(2) from None


@app.command()
@_audited
def purge(
    root: Annotated[Path, typer.Argument(help="A run folder, or a folder of runs.")],
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Retention period: 18m, 2y, 90d.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; delete "
                                                            "nothing.")] = False,
) -> None:
    """Delete the restricted and working material (restricted/, work/) of runs finished
    longer ago than the retention period; publish/ and the audit log are kept, and each
    purged run gets PURGED.txt saying what went."""
    from geo_risk.config import months
    from geo_risk.run.retention import purge as purge_runs

    try:
        done = purge_runs(root, older_than_months=months(older_than), dry_run=dry_run)
    except GeoRiskError as err:
        _fail(err)
    _AUDIT["outputs"] = [f"{'would delete' if dry_run else 'deleted'} {p.run / d}"
                         for p in done for d in p.deleted]
    verb = "would delete" if dry_run else "deleted"
    for p in done:
        console.print(f"{p.run} (finished {p.finished.date()}): {verb} "
                      f"{', '.join(p.deleted)} ({p.files} files, {p.bytes:,} bytes)",
                      highlight=False)
    if not done:
        console.print(f"{root}: no run finished more than {older_than} ago holds restricted "
                      "material.", highlight=False)


review_app = typer.Typer(help="The practitioners' review ledger: import filled review "
                                "forms, summarise them.")
app.add_typer(review_app, name="review")
Ledger = Annotated[Path, typer.Option("--ledger", help="The review ledger (SQLite; made if "
                                                       "absent). Keep it restricted.")]


@review_app.command("import")
@_audited
def review_import(
    form: Annotated[Path, typer.Argument(help="The filled review_form.csv.")],
    run_dir: Annotated[Path, typer.Option("--run", help="The run whose flags were reviewed.")],
    ledger: Ledger,
) -> None:
    """Check a filled review form against the run's flagged list and add it to the
    ledger; rows that cannot be used go to FORM's .rejects.csv with row, column, reason."""
    import json

    from geo_risk.governance import import_reviews
    from geo_risk.run.folder import RunFolder

    run = RunFolder(run_dir)
    try:
        if not run.record.is_file():
            raise GeoRiskError(f"{run_dir}: not a finished geo-risk run (no "
                               "restricted/run.json); pass the run the form came from.")
        reference = json.loads(run.record.read_text())["reference_date"]
        counts = import_reviews(ledger, form, run.flagged, reference)
    except GeoRiskError as err:
        _fail(err)
    console.print(f"{form}: {counts['rows']:,} rows = {counts['imported']:,} imported + "
                  f"{counts['not_reviewed']:,} not reviewed yet + {counts['rejected']:,} "
                  f"rejected ({form.with_suffix('.rejects.csv')}); ledger {ledger}",
                  highlight=False)


@review_app.command("summary")
@_audited
def review_summary(ledger: Ledger) -> None:
    """Reviews per run: flags, reviewed, decisions, overridden (exact: restricted)."""
    from geo_risk.governance import read_ledger

    try:
        reviews, runs = read_ledger(ledger)
    except GeoRiskError as err:
        _fail(err)
    for run in runs.sort_values("reference_date").itertuples():
        mine = reviews[reviews["reference_date"] == run.reference_date]
        decisions = ", ".join(f"{d} {n}" for d, n in mine["decision"].value_counts().items())
        console.print(f"run of {run.reference_date}: {run.flags:,} flags, {len(mine):,} "
                      f"reviewed ({decisions or 'none'}); {int(mine['overridden'].sum()):,} "
                      "set aside", highlight=False)


audit_app = typer.Typer(help="The audit trail: check that no record was removed or edited.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's chain of hashes: one line saying how many records hold, or
    one error naming the first record that was removed, reordered or edited."""
    from geo_risk.governance import verify

    try:
        n = verify(_AUDIT["log"])
    except GeoRiskError as err:
        _fail(err)
    console.print(f"{_AUDIT['log']}: {n} record(s), the chain holds.", highlight=False)


Out = Annotated[Path, typer.Option("--out", help="Output folder (created if absent).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random draw.")]
ScenarioName = Annotated[str, typer.Option(
    "--scenario", help="Which world of the synthetic family: " + ", ".join(SCENARIOS)
    + " (geo_risk/synth/scenarios.py says what each tests).")]
Periods = Annotated[int | None, typer.Option("--periods", min=2,
                                      help="Quarterly refreshes from 2014Q1.")]
OAFile = Annotated[Path | None, typer.Option(
    "--boundaries", help="OA polygons (any GDAL format, any CRS) with an OA21CD or OA11CD "
                         "column (and LSOA21CD for a lookup by LSOA).")]
LookupFile = Annotated[Path | None, typer.Option(
    "--lookup", help="Ward lookup CSV with ONS names of any vintage, by OA (OA21CD, LSOA21CD, "
                     "WD25CD, WD25NM, LAD25CD...) or by LSOA (LSOA21CD, WD25CD, WD25NM...).")]
Workers = Annotated[int, typer.Option(
    "--workers", min=0, help="Describe and score households district by district on this "
                             "many local Dask worker processes (0: in this process).")]
OutcomeName = Annotated[str | None, typer.Option(
    "--outcome", help="What is predicted (docs/outcomes.md): school_readiness (the "
                      "default), domestic_abuse_escalation or domestic_abuse_repeat.")]
IMDFile = Annotated[Path | None, typer.Option(
    "--imd", help="Deprivation by LSOA: IoD 2025 (or IMD 2019) File 7 CSV as published, or "
                  "LSOA21CD, IMD_rank. Drives deprivation.")]


@app.command()
@_audited
def synth(
    out: Out,
    seed: Seed = 1,
    periods: Periods = None,
    scenario: ScenarioName = "default",
    messy: Annotated[bool, typer.Option("--messy", help="Plant realistic defects.")] = False,
    boundaries: OAFile = None,
    lookup: LookupFile = None,
    imd: IMDFile = None,
) -> None:
    """Generate a synthetic world: OUT/extracts (nine partner files) and OUT/truth."""
    from geo_risk.synth.checks import describe_world
    from geo_risk.synth.world import make_world, write_world

    try:
        files = _boundary_files(boundaries, lookup, imd)
        with console.status("generating the synthetic world"):
            world = make_world(files, seed=seed, periods=periods, messy=messy,
                               scenario=scenario)
            write_world(world, out)
    except GeoRiskError as err:
        _fail(err)
    facts = describe_world(world)
    console.print(
        f"wrote {out}: {facts['households']:,} households, "
        f"{facts['households_with_under_fives']:,} with under-fives, "
        f"{facts['labelled_children']:,} labelled children "
        f"({facts['not_gld_rate']:.1%} not school ready), "
        f"{len(world.defects):,} planted defects", highlight=False)


@app.command()
@_audited
def keygen(
    key_file: Annotated[Path, typer.Argument(help="Where to write the new key (must not exist).")],
) -> None:
    """Create a project key: 32 random bytes, readable only by you. Keep it with the data
    controller; never share it, commit it or send it with data."""
    from geo_risk.inputs import make_key

    try:
        key = make_key(key_file)
    except GeoRiskError as err:
        _fail(err)
    console.print(f"wrote a new key to {key_file} (fingerprint {key.fingerprint})",
                  highlight=False)


@app.command()
@_audited
def pseudonymise(
    key_file: Annotated[Path, typer.Option(
        "--key-file", help="The project key (geo-risk keygen).")],
    source: Annotated[str, typer.Option("--source", help=f"Which extract: {_SOURCE_NAMES}.")],
    in_file: Annotated[Path, typer.Argument(
        metavar="IN", help="The raw extract (CSV, XLSX, Parquet).")],
    out_file: Annotated[Path, typer.Argument(
        metavar="OUT", help="Pseudonymised Parquet to write.")],
    uprn_lookup: Annotated[Path | None, typer.Option(
        "--uprn-lookup", help="ONSUD or NSUL CSV (UPRN, OA21CD): the addresses extract then "
                              "carries each UPRN's output area, joined before pseudonymising."
    )] = None,
) -> None:
    """Pseudonymise one partner extract at source, before it is shared.

    Identifiers are normalised and replaced by keyed HMAC-SHA256 pseudonyms; names and
    postcodes are dropped; dates of birth keep only the month. Rows that cannot be used go
    to OUT's .rejects.csv with row, column and reason (never the value).
    """
    from geo_risk.inputs import Key, pseudonymise_file, read_uprn_lookup

    try:
        key = Key.load(key_file)
        if uprn_lookup is not None and source != "addresses":
            raise GeoRiskError("--uprn-lookup places the addresses extract; use it with "
                               "--source addresses.")
        places = read_uprn_lookup(uprn_lookup) if uprn_lookup else None
        r = pseudonymise_file(in_file, source, key, out_file, uprn_lookup=places)
    except GeoRiskError as err:
        _fail(err)
    rejects = Path(out_file).with_suffix(".rejects.csv")
    console.print(f"{r['file']}: read {r['read']:,} = kept {r['kept']:,} + rejected "
                  f"{r['rejected']:,} (rejects: {rejects}); wrote {out_file}", highlight=False)


@app.command()
@_audited
def link(
    in_dir: Annotated[Path, typer.Option("--in", help="Folder of pseudonymised <source>.parquet.")],
    out: Out,
    reference_date: Annotated[str, typer.Option(
        "--reference-date", help="Build features as of this date (YYYY-MM-DD).")],
    boundaries: OAFile = None,
    lookup: LookupFile = None,
    imd: IMDFile = None,
    min_match_rate: Annotated[float, typer.Option(
        "--min-match-rate", min=0.0, max=1.0,
        help="Warn when a source links fewer of its records than this.")] = 0.9,
    outcome: OutcomeName = None,
) -> None:
    """Link pseudonymised extracts by household, geocode them to output areas and build the
    tables of who is scored as of the reference date, for the outcome predicted."""
    from geo_risk.model import get_outcome
    from geo_risk.run.inputs import run_link

    try:
        when = _date(reference_date)
        words = get_outcome(outcome)
        files = _real_boundary_files(boundaries, lookup, imd)
        features, linked = run_link(in_dir, out, reference_date=when, files=files,
                                    min_match_rate=min_match_rate, outcome=words)
    except GeoRiskError as err:
        _fail(err)
    for r in linked.report.itertuples():
        console.print(f"  {r.source:<17} {r.linked:>8,} of {r.records:>8,} linked "
                      f"({r.match_rate:.1%})", highlight=False)
    c = features.counts
    if words.unit[0] == "household":
        what = (f"{c['households_current']:,} {words.headline_households} scored, "
                f"{c['households_labelled']:,} labelled at {c['landmark_dates']} past dates")
    else:
        what = (f"{c['households_with_current_children']:,} {words.headline_households}, "
                f"{c['children_current']:,} current and {c['children_labelled']:,} labelled "
                "children")
    console.print(f"wrote {out}: {what}", highlight=False)


@app.command()
@_audited
def model(
    in_dir: Annotated[Path, typer.Option("--in", help="The folder 'geo-risk link' wrote.")],
    out: Out,
    capacity: Annotated[float | None, typer.Option(
        "--capacity", min=0.0,
        help="Households to flag: a share below 1 (0.05 = top 5%) or a number (e.g. 511); "
             "default: as run.toml's [capacity].")] = None,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", "--threshold", min=0.0, max=1.0,
        help="Flag every household scoring at least this instead of --capacity "
             "(--threshold is the old name).")] = None,
    known_within: Annotated[float | None, typer.Option(
        "--known-within-months", min=0.0,
        help="Known to services: an episode open, or ended within this many months; "
             "default: as run.toml's [capacity].")] = None,
    seed: Seed = 1,
) -> None:
    """Train and validate the risk model on past cohorts, score who is scored today (for
    the outcome 'geo-risk link' built the tables for), flag households and explain why.
    Writes OUT/publish/model (model card, validation, fairness) and the restricted list
    OUT/restricted/flagged_households.csv."""
    from geo_risk.config import parse_capacity
    from geo_risk.model import KNOWN_WITHIN_MONTHS, get_outcome
    from geo_risk.run.folder import RunFolder
    from geo_risk.run.pipeline import read_feature_tables, run_model

    try:
        cap = (parse_capacity(min_score=min_score) if min_score is not None
               else parse_capacity() if capacity is None
               else parse_capacity(number=int(capacity)) if capacity >= 1
               else parse_capacity(share=capacity, zero_share="--capacity 0"))
        tables = read_feature_tables(in_dir)
        result = run_model(tables, RunFolder(out), capacity=cap,
                           known_within_months=KNOWN_WITHIN_MONTHS if known_within is None
                           else known_within, random_state=seed,
                           outcome=get_outcome(tables.outcome))
    except GeoRiskError as err:
        _fail(err)
    m = result.summary
    console.print(
        f"{m['headline']}\n  validation on {m['holdout_cohort']}: AUC {m['holdout_auc']:.3f} "
        f"(area only {m.get('area_only_auc', float('nan')):.3f}), calibration slope "
        f"{m['calibration_slope']:.2f}, ECE {m['ece']:.3f}; precision at k "
        f"{m['precision_at_k']:.0%}, recall at k {m['recall_at_k']:.0%}\n"
        f"  restricted list: {out / 'restricted/flagged_households.csv'} (never publish)",
        highlight=False)


def _date(text: str) -> str:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise GeoRiskError(f"--reference-date {text!r} is not a date; write it as "
                           "YYYY-MM-DD, e.g. 2017-12-31.") from None


def _real_boundary_files(boundaries: Path | None, lookup: Path | None, imd: Path | None
                         ) -> BoundaryFiles:
    """Boundaries for a command on real extracts: never the synthetic town."""
    from geo_risk.geography import BoundaryFiles

    if boundaries is None or lookup is None:
        missing = " and ".join(o for o, v in [("--boundaries", boundaries),
                                               ("--lookup", lookup)] if v is None)
        raise GeoRiskError(f"{missing} missing: real extracts are placed in your own output "
                           "areas; pass --boundaries OA_FILE --lookup LOOKUP.csv (and --imd "
                           "IMD.csv for deprivation).")
    return BoundaryFiles(boundaries, lookup, imd)


def _boundary_files(boundaries: Path | None, lookup: Path | None, imd: Path | None
                    ) -> BoundaryFiles:
    from geo_risk.geography import DEFAULT_BOUNDARIES, BoundaryFiles

    if (boundaries is None) != (lookup is None):
        raise GeoRiskError("--boundaries and --lookup go together: give both, or neither "
                           "for the embedded synthetic town.")
    if boundaries is None and imd is not None:
        raise GeoRiskError("--imd needs --boundaries and --lookup; the embedded town has its "
                           "own synthetic IMD.")
    if boundaries is None or lookup is None:
        return DEFAULT_BOUNDARIES
    return BoundaryFiles(boundaries, lookup, imd)


@app.command()
@_audited
def demo(out: Out = Path("out/demo"), seed: Seed = 1, scenario: ScenarioName = "default",
         boundaries: OAFile = None, lookup: LookupFile = None, imd: IMDFile = None,
         workers: Workers = 0,
         ceiling: Annotated[bool, typer.Option(
             "--ceiling", help="Also estimate the records ceiling (the best the records "
                               "allow) for synth/evaluation.json; as long again as the run "
                               "at county size.")] = False,
         outcome: OutcomeName = None) -> None:
    """The whole job on a synthetic world: the embedded town, or synthetic households on
    real boundaries (--boundaries, --lookup, --imd). Writes OUT/publish/ (the board report
    index.html, maps/, geo_risk.gpkg, run.json), OUT/restricted/, OUT/work/ and OUT/synth/
    (the world and synth/evaluation.json, the run scored against its truth)."""
    from geo_risk.inputs import DaskSettings
    from geo_risk.model import get_outcome
    from geo_risk.synth.demo import run_demo

    try:
        files = _boundary_files(boundaries, lookup, imd)
        words = get_outcome(outcome)
        with console.status("running the demo"):
            summary = run_demo(out, seed=seed, files=files, scenario=scenario,
                               dask=DaskSettings(workers) if workers else None,
                               ceiling=ceiling, outcome=words.name)
    except GeoRiskError as err:
        _fail(err)
    evaluation = summary["evaluation"]
    if words.unit[0] == "household":
        m = {**summary["model"], **evaluation["model"]}
        console.print(
            f"[bold]geo-risk demo[/] ({words.title}) -> {out}  (reference date "
            f"{summary['reference_date']}, {evaluation['seconds']} s)\n"
            f"  model: {m['headline']} (AUC {m['holdout_auc']:.3f} = "
            f"{m['auc_ratio_to_oracle']:.0%} of the oracle's; calibration slope "
            f"{m['calibration_slope']:.2f}, oracle's band {m['oracle_slope_band_90']})",
            highlight=False)
        _print_outputs(out, summary)
        return
    s = evaluation["synth"]
    console.print(
        f"[bold]geo-risk demo[/] -> {out}  (reference date {summary['reference_date']}, "
        f"{evaluation['seconds']} s)\n"
        f"  {s['households']:,} households, {s['households_with_under_fives']:,} with "
        f"under-fives; {s['not_gld_rate']:.1%} of {s['labelled_children']:,} labelled children "
        f"not school ready (worst ward {s['worst_ward']} {s['worst_ward_not_gld_rate']:.1%})\n"
        f"  emerging hotspot {s['emerging_ward']}: mean true risk "
        f"{s['emerging_mean_risk_first']:.1%} -> {s['emerging_mean_risk_last']:.1%}, ward rank "
        f"{s['emerging_ward_rank_last_refresh']} at the last refresh\n"
        f"  top {s['top_households']} households by true risk: "
        f"{s['top_households_unknown_share']:.0%} unknown to social care / early help",
        highlight=False)
    m = {**summary["model"], **evaluation["model"]}
    console.print(
        f"  model: {m['headline']} (AUC {m['holdout_auc']:.3f} = "
        f"{m['auc_ratio_to_oracle']:.0%} of the oracle's; calibration slope "
        f"{m['calibration_slope']:.2f}; expected precision at k "
        f"{m['expected_precision_at_k']:.0%} vs oracle {m['oracle_expected_precision_at_k']:.0%})",
        highlight=False)
    _print_outputs(out, summary)


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _print_outputs(out: Path, summary: dict) -> None:
    from geo_risk.run.folder import RunFolder

    folder = RunFolder(out)
    k = summary["linkage"]
    worst = min(k["sources"], key=lambda r: r["match_rate"])
    h = summary["hotspots"]
    console.print(
        f"  linkage: {k['rows_read']:,} rows read, {_count(k['rows_rejected_at_source'])} "
        f"rejected at "
        f"source; lowest match rate {worst['source']} {worst['match_rate']:.1%}\n"
        f"  hotspots: Moran's I {h['moran_i']:.3f}; {h['known_concern_oas']} OAs in known and "
        f"{h['new_concern_oas']} in newly identified areas of concern\n"
        f"  publish: board report {folder.report}; maps {folder.maps}; GeoPackage "
        f"{folder.geopackage}\n"
        f"  restricted list {folder.flagged} (never publish)",
        highlight=False)


@app.command()
@_audited
def run(
    config: Annotated[Path | None, typer.Option(
        "--config", help="The run configuration (TOML); see --example.")] = None,
    out: Out = Path("out/run"),
    example: Annotated[bool, typer.Option(
        "--example", help="Print a documented example configuration and stop.")] = False,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="The last run of the partnership (its --out folder): the report "
        "says what changed since ([history] previous).")] = None,
) -> None:
    """The whole job from the partners' extracts: pseudonymise at source, link, model,
    areas and hotspots, then what may be published in OUT/publish/ (the board report
    index.html, offline maps maps/, the GeoPackage geo_risk.gpkg, run.json) and what may not
    in OUT/restricted/ (the flagged list)."""
    from geo_risk.config import example as example_text
    from geo_risk.config import load_config
    from geo_risk.inputs import Key
    from geo_risk.run.pipeline import run_pipeline

    if example:
        typer.echo(example_text(), nl=False)
        return
    if config is None:
        _fail(GeoRiskError("give --config CONFIG.toml (start from 'geo-risk run --example')."))
    try:
        cfg = load_config(config)
        settings = (cfg.settings if previous is None
                    else dataclasses.replace(cfg.settings, previous=previous))
        key = Key.load(cfg.key_file)
        with console.status("running"):
            summary, _ = run_pipeline(cfg.extracts, key, out, settings)
    except GeoRiskError as err:
        _fail(err)
    m = summary["model"]
    console.print(f"[bold]geo-risk run[/] -> {out}  (reference date "
                  f"{summary['reference_date']}, {summary['seconds']} s)\n  {m['headline']}",
                  highlight=False)
    _print_outputs(out, summary)


@app.command()
@_audited
def site(
    in_dir: Annotated[Path, typer.Option(
        "--in", help="A finished run: the --out folder of 'geo-risk run' or 'demo'.")],
    candidates: Annotated[Path, typer.Option(
        "--candidates", help="Candidate sites: GeoPackage/any vector file of points, or CSV "
        "with name and easting/northing (or longitude/latitude).")],
    existing: Annotated[Path | None, typer.Option(
        "--existing", help="Existing sites, always open (same formats).")] = None,
    p: Annotated[int | None, typer.Option(
        "--p", min=1, help="Number of new sites (maximal covering).")] = None,
    coverage: Annotated[float | None, typer.Option(
        "--coverage", min=0.0, max=1.0,
        help="Instead of --p: the fewest new sites reaching this share of demand.")] = None,
    distance: Annotated[float, typer.Option(
        "--distance", min=0.0, help="Service distance in metres (straight line), or in the "
        "matrix's unit with --matrix.")] = 800.0,
    matrix: Annotated[Path | None, typer.Option(
        "--matrix", help="CSV of oa11cd, site, distance (e.g. walking times) instead of "
        "straight lines.")] = None,
    pmedian: Annotated[bool, typer.Option(
        "--p-median", help="Minimise demand-weighted distance instead (with --p).")] = False,
) -> None:
    """Where to site services: the new sites that bring the most expected at-risk demand
    within reach (PySAL spopt, CBC). Writes IN/siting/, the sites map and GeoPackage layers,
    and a section of the board report."""
    from geo_risk.run.rerun import run_siting
    from geo_risk.siting import SitingSettings

    if (p is None) == (coverage is None):
        _fail(GeoRiskError("give --p N (new sites) or --coverage SHARE (e.g. 0.8), not both."))
    try:
        settings = SitingSettings(candidates=candidates, existing=existing,
                                  service_distance=distance, matrix=matrix, p=p,
                                  coverage=coverage, model="pmedian" if pmedian else "mclp")
        with console.status("choosing sites"):
            summary = run_siting(in_dir, settings)
    except GeoRiskError as err:
        _fail(err)
    s = summary["siting"]
    console.print(
        f"[bold]geo-risk site[/] -> {in_dir / 'publish/siting'}: {s['model']} ({s['status']}, "
        f"{s['solve_seconds']:.1f} s): {len(s['new_sites'])} new sites bring "
        f"{s['coverage']:.1%} of expected demand within reach (existing sites "
        f"{s['existing_coverage']:.1%})\n  " + "\n  ".join(
            f"{i + 1}. {name}" for i, name in enumerate(s["new_sites"])), highlight=False)
    for note in s["notes"]:
        console.print(f"  note: {note}", highlight=False)


@app.command()
@_audited
def overlap(
    runs: Annotated[list[Path], typer.Argument(
        help="Finished runs of one partnership, geography and date: one per outcome.")],
    out: Out,
    level: Annotated[str, typer.Option(
        "--level", help="The areas compared: ward (default), lsoa or oa.")] = "ward",
    candidates: Annotated[Path | None, typer.Option(
        "--candidates", help="Also choose service sites on the outcomes' demand together: "
        "candidate sites, as 'geo-risk site' takes them.")] = None,
    existing: Annotated[Path | None, typer.Option(
        "--existing", help="With --candidates: existing sites, always open.")] = None,
    p: Annotated[int, typer.Option("--p", min=1, help="With --candidates: new sites.")] = 5,
    distance: Annotated[float, typer.Option(
        "--distance", min=0.0, help="With --candidates: service distance in metres.")] = 800.0,
    weights: Annotated[str, typer.Option(
        "--weights", help="With --candidates: what one event of each outcome is worth, e.g. "
        "'school_readiness=1,domestic_abuse_escalation=3' (default: 1 each); recorded in "
        "OUT/overlap.json.")] = "",
) -> None:
    """Where needs overlap: each outcome's risk, 95% interval and rank by area, and the
    areas in the top fifth for two or more outcomes (OUT/overlap_<level>.csv,
    OUT/overlap.html), from the runs' published tables only; with --candidates, service
    sites chosen on the outcomes' weighted demand (OUT/sites.csv)."""
    from geo_risk.run.rerun import run_overlap
    from geo_risk.siting import SitingSettings

    try:
        chosen = _weights(weights) if weights else None
        siting = None if candidates is None else SitingSettings(
            candidates=candidates, existing=existing, service_distance=distance, p=p)
        found = run_overlap(runs, out, level=level, siting=siting, weights=chosen)
    except GeoRiskError as err:
        _fail(err)
    _AUDIT["outputs"] = [str(out)]
    console.print(f"{found['overlapping']} of {found['areas']} areas ({found['level']}) are "
                  f"among the highest for two or more of {', '.join(found['outcomes'])}; "
                  f"wrote {escape(str(out))}", highlight=False)
    if "siting" in found:
        s = found["siting"]
        console.print(f"  {len(s['new_sites'])} new sites bring {s['coverage']:.1%} of the "
                      "weighted demand within reach: " + ", ".join(s["new_sites"]),
                      highlight=False)


def _weights(text: str) -> dict[str, float]:
    """``--weights`` as outcome -> weight.

    >>> _weights("school_readiness=1, domestic_abuse_escalation=2.5")
    {'school_readiness': 1.0, 'domestic_abuse_escalation': 2.5}
    """
    from geo_risk.model import get_outcome

    found = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            raise GeoRiskError(f"--weights {part.strip()!r}: write each as OUTCOME=NUMBER, "
                               "e.g. school_readiness=1") from None
        if not weight >= 0:
            raise GeoRiskError(f"--weights {part.strip()!r}: a weight is 0 or more.")
        found[get_outcome(name).name] = weight
    return found


@app.command()
@_audited
def compare(
    old: Annotated[Path, typer.Argument(help="The earlier run (its --out folder).")],
    new: Annotated[Path, typer.Argument(help="The later run; the comparison is written "
                                        "into it.")],
) -> None:
    """What changed between two runs of one partnership: headline figures side by side,
    wards whose risk band moved, new, continuing and ended emerging hot spots and areas of
    concern (NEW/publish/since_last_run/), households newly, still and no longer flagged
    (NEW/restricted/since_last_run/), how OLD's model did on the results that arrived
    since, and feature drift. NEW's report gets a "Since the last run" section."""
    from geo_risk.run.rerun import run_compare

    try:
        with console.status("comparing"):
            record = run_compare(old, new)
    except GeoRiskError as err:
        _fail(err)
    _AUDIT["outputs"] = [str(new / "publish/since_last_run"),
                         str(new / "restricted/since_last_run")]
    v = record["since_last_run"]
    a = v["areas"]
    lines = [f"[bold]geo-risk compare[/] {escape(str(old))} ({v['previous_reference_date']}) "
             f"-> {escape(str(new))} ({v['reference_date']})",
             f"  wards whose risk band rose: {', '.join(v['wards_band_up']) or 'none'}; fell: "
             f"{', '.join(v['wards_band_down']) or 'none'}",
             "  emerging hot spot OAs: " + ", ".join(f"{n} {k}" for k, n in
                                                     a["emerging"].items())
             + "; areas of concern: " + ", ".join(f"{n} {k}" for k, n in a["concern"].items())]
    if "flags" in v:
        lines.append("  flagged households: " + ", ".join(
            f"{n} {k}" for k, n in v["flags"].items()))
    m = v.get("monitoring", {})
    if "auc" in m:
        unit = m.get("unit", "children")
        lines.append(f"  the last run's model on the results of {m[unit]} {unit} since: AUC "
                     f"{m['auc']:.3f}, calibration slope {m['calibration_slope']:.2f}, ECE "
                     f"{m['ece']:.3f}")
    elif m:
        lines.append(f"  monitoring: {m['note']}")
    if v.get("drift"):
        shifted = v["drift"]["features_shifted"]
        lines.append(f"  drift: {', '.join(shifted) if shifted else 'no feature'} beyond PSI "
                     f"{v['drift']['warning_level']}")
    if "restricted" in v:
        lines.append(f"  not compared: {v['restricted']}")
    console.print("\n".join(escape(line) if i else line for i, line in enumerate(lines)),
                  highlight=False)


@app.command()
@_audited
def hotspots(
    in_dir: Annotated[Path, typer.Option(
        "--in", help="A finished run: the --out folder of 'geo-risk run' or 'demo'.")],
    time_lag: Annotated[int, typer.Option(
        "--time-lag", min=0, help="Earlier refreshes in each emerging hot spot "
        "neighbourhood (ArcGIS's time step interval).")] = 1,
    alpha: Annotated[float, typer.Option(
        "--alpha", min=0.001, max=0.2,
        help="False discovery rate (or, with --no-fdr, each test's level) before an "
        "area counts as significant.")] = 0.05,
    min_trend: Annotated[float, typer.Option(
        "--min-trend", min=0.0, help="Smallest change of an area's Gi* z-score over the "
        "refreshes (Theil-Sen) that counts as a trend, beside Mann-Kendall's test.")] = 1.96,
    permutations: Annotated[int, typer.Option(
        "--permutations", min=99, help="LISA permutations (seeded).")] = 9999,
    weights: Annotated[str | None, typer.Option(
        "--weights", help="Each area's neighbours: queen (edges and corners), rook "
        "(edges), order:N (contiguity up to N steps), knn:K (K nearest) or "
        "distance:METRES[:MIN] (a fixed distance band, at least MIN neighbours); "
        "default: the run's own ([hotspots] weights, queen).")] = None,
    global_window: Annotated[str | None, typer.Option(
        "--global-window", help="What each emerging hot spot bin is compared with, as "
        "ArcGIS's global window: entire_cube, neighbourhood_time_step or "
        "individual_time_step; default: the run's own (entire_cube).")] = None,
    fdr: Annotated[bool | None, typer.Option(
        "--fdr/--no-fdr", help="False discovery rate correction of every test (default: "
        "the run's own, on); --no-fdr tests each at --alpha alone.")] = None,
) -> None:
    """Where risk concentrates: Moran's I, LISA, Getis-Ord Gi*, emerging hot spots over
    the refreshes, and known vs newly identified areas of concern, on a finished run (they
    also run inside 'run' and 'demo'). Rewrites IN/publish/areas/oa_hotspots.csv, the maps,
    GeoPackage, report and the hotspots section of both run.json."""
    from geo_risk.run.rerun import run_hotspots

    try:
        with console.status("finding hotspots"):
            summary = run_hotspots(in_dir, time_lag=time_lag, alpha=alpha,
                                   min_trend=min_trend, permutations=permutations,
                                   weights=weights, global_window=global_window, fdr=fdr)
    except GeoRiskError as err:
        _fail(err)
    h = summary["hotspots"]
    emerging = {k: v for k, v in h["emerging_hot_spots"].items() if v}
    console.print(
        f"[bold]geo-risk hotspots[/] -> {in_dir / 'publish/areas/oa_hotspots.csv'}: Moran's I "
        f"{h['moran_i']:.3f} (p {h['moran_p']:.2g}); {h['components']} component(s), "
        f"{h['isolates']} isolated area(s)\n  emerging hot spot categories: "
        + ", ".join(f"{k} {v}" for k, v in emerging.items())
        + f"\n  areas of concern: {h['known_concern_oas']} OAs known, "
        f"{h['new_concern_oas']} newly identified", highlight=False)
