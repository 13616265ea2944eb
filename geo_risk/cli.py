"""The ``geo-risk`` command line: thin, one public function per subcommand.

Errors a user can fix (:class:`geo_risk.GeoRiskError`) print as one message, no
traceback, and exit with status 2.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from geo_risk import __version__
from geo_risk._errors import GeoRiskError
from geo_risk.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles

app = typer.Typer(
    help="geo-risk: school-readiness risk from linked public-service data, by area.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )


def _fail(err: GeoRiskError) -> None:
    console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"geo-risk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Predict, map and act on the risk of children not being school ready at five."""
    _setup_logging(verbose)


Out = Annotated[Path, typer.Option("--out", help="Output folder (created if absent).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random draw.")]
Periods = Annotated[int, typer.Option("--periods", min=2,
                                      help="Quarterly refreshes from 2014Q1.")]


@app.command()
def synth(
    out: Out,
    seed: Seed = 1,
    periods: Periods = 16,
    messy: Annotated[bool, typer.Option("--messy", help="Plant realistic defects.")] = False,
    boundaries: Annotated[Path | None, typer.Option(
        "--boundaries", help="OA polygons (any GDAL format, any CRS) with an OA11CD column."
    )] = None,
    lookup: Annotated[Path | None, typer.Option(
        "--lookup", help="CSV: OA11CD, LSOA11CD, WD13CD, WD13NM (LSOA11NM, LAD11CD optional)."
    )] = None,
    imd: Annotated[Path | None, typer.Option(
        "--imd", help="CSV of IMD 2019 by LSOA (LSOA11CD, IMD_rank): drives deprivation."
    )] = None,
) -> None:
    """Generate a synthetic world: OUT/extracts (nine partner files) and OUT/truth."""
    from geo_risk.synth.checks import describe_world
    from geo_risk.synth.world import make_world, write_world

    if (boundaries is None) != (lookup is None):
        _fail(GeoRiskError("--boundaries and --lookup go together: give both, or neither "
                           "for the embedded synthetic town."))
    if boundaries is None and imd is not None:
        _fail(GeoRiskError("--imd needs --boundaries and --lookup; the embedded town has its "
                           "own synthetic IMD."))
    files = DEFAULT_BOUNDARIES if boundaries is None else BoundaryFiles(boundaries, lookup, imd)
    try:
        with console.status("generating the synthetic world"):
            world = make_world(files, seed=seed, periods=periods, messy=messy)
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
def demo(out: Out = Path("out/demo"), seed: Seed = 1) -> None:
    """Run everything built so far on the embedded synthetic town."""
    from geo_risk.pipeline import run_demo

    try:
        with console.status("running the demo"):
            summary = run_demo(out, seed=seed)
    except GeoRiskError as err:
        _fail(err)
    s = summary["synth"]
    console.print(
        f"[bold]geo-risk demo[/] -> {out}  (reference date {summary['reference_date']}, "
        f"{summary['seconds']} s)\n"
        f"  {s['households']:,} households, {s['households_with_under_fives']:,} with "
        f"under-fives; {s['not_gld_rate']:.1%} of {s['labelled_children']:,} labelled children "
        f"not school ready (worst ward {s['worst_ward']} {s['worst_ward_not_gld_rate']:.1%})\n"
        f"  emerging hotspot {s['emerging_ward']}: mean true risk "
        f"{s['emerging_mean_risk_first']:.1%} -> {s['emerging_mean_risk_last']:.1%}, ward rank "
        f"{s['emerging_ward_rank_last_refresh']} at the last refresh\n"
        f"  top {s['top_households']} households by true risk: "
        f"{s['top_households_unknown_share']:.0%} unknown to social care / early help",
        highlight=False)
