"""Benchmark: how the model and the hotspot method hold over a family of synthetic worlds.

    python scripts/bench_validity.py [--seeds 1 2 3] [--scenarios NAME ...] [--jobs 2]
                                     [--no-basildon] [--csv validity.csv] [--keep DIR]
    python scripts/bench_validity.py --summary validity.csv [--record]  # saved rows
    python scripts/bench_validity.py --outcome domestic_abuse_escalation  # its family

Runs ``geo-risk demo`` on every scenario of :data:`geo_risk.synth.scenarios.SCENARIOS`
with each seed on the embedded town, and on Basildon's real output areas from
``../shared`` (default scenario, seed 1), each world in its own process, and prints one
row per world:

- the model on the latest labelled cohort: AUC beside the records ceiling's, the
  oracle's (the true probabilities) and logistic regression's, and the share of bootstrap
  resamples of the hold-out cohort in which it ranks below logistic regression (how sure
  a gap between the two is on a cohort of this size); calibration slope beside
  the oracle's own 90% bootstrap band on that cohort, ECE beside the oracle's; hold-out
  children;
- the flagged households: expected precision at k as a share of the records ceiling's
  top k and of the oracle's, and the share unknown to children's services;
- emerging and persistent hot spots: recall of the planted OAs, OAs so classed and the
  share of them outside the planted set and its neighbours, beside the same method's
  recall on the records ceiling's risk and on the true risk;
- early warning, replayed as a partnership runs it (every refresh, on the refreshes up
  to then alone: :func:`geo_risk.synth.checks.early_warning`): ``lead``, refreshes from the
  start of the planted rise until half its OAs are classed emerging or lie in a newly
  identified area of concern (``lead_e``: emerging alone; ``lead_c`` and ``lead_t``: the
  same method on the records ceiling's and the truth's series; 99: never), and
  ``alarms``, groups of OAs newly classed emerging outside the planted ones and their
  neighbours per district per year (``al_c``, ``al_t``: the ceiling's, the truth's);
- wall time.

The records ceiling is estimated by the demo's evaluation
(:func:`geo_risk.synth.checks.records_ceiling`: the true probability regressed on the
run's own features, noiseless targets from every labelled cohort, cross-fitted by
household). Then the median and the worst world of each figure, and each acceptance
line of the validity issues. ``--record`` keeps the early-warning figures with the
package (``geo_risk/publish/validity.json``), which the report and model card quote. Not
part of ``scripts/test``: the whole grid takes about 15 minutes here with two jobs.

``--outcome NAME`` runs the family of another outcome (:mod:`geo_risk.model.outcomes`):
for domestic abuse escalation, :data:`HOUSEHOLD_SCENARIOS` by default (the scenarios
whose emerging hotspot's size, strength and timing its world takes up:
:mod:`geo_risk.synth.escalation`), and the columns it measures (:data:`HOUSEHOLD_COLUMNS`:
no child, known-status or truth-series figures).

``--keep DIR`` keeps each world's demo folder (``DIR/town-SCENARIO-SEED``,
``DIR/basildon-default-1``): its refresh series and their standard errors under
``work/``, and the truth's and the records ceiling's beside the planted hotspots under
``synth/truth/``, so other hot spot settings can be scored on saved worlds without
running them again.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

BASILDON = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "basildon"

COLUMNS = [
    ("world", "{:<26}"), ("auc", "{:.3f}"), ("ceil", "{:.3f}"), ("oracle", "{:.3f}"),
    ("logit", "{:.3f}"), ("p_below", "{:.2f}"),
    ("slope", "{:.2f}"), ("band", "{:<9}"), ("ece", "{:.3f}"), ("o_ece", "{:.3f}"),
    ("n_test", "{:>5}"), ("prec/c", "{:.2f}"), ("prec/o", "{:.2f}"), ("unknown", "{:.2f}"),
    ("em_rec", "{:.2f}"), ("em_n", "{:>4}"), ("em_out", "{:.2f}"), ("em_ceil", "{:.2f}"),
    ("out_c", "{:.2f}"), ("em_true", "{:.2f}"),
    ("pe_rec", "{:.2f}"), ("pe_out", "{:.2f}"), ("pe_ceil", "{:.2f}"), ("pe_true", "{:.2f}"),
    ("di_rec", "{:.2f}"),
    ("lead", "{:>4}"), ("lead_e", "{:>6}"), ("lead_c", "{:>6}"), ("lead_t", "{:>6}"),
    ("alarms", "{:.2f}"), ("al_c", "{:.2f}"), ("al_t", "{:.2f}"), ("secs", "{:>4.0f}"),
]
#: A household outcome's columns: the model against the oracle and the records ceiling,
#: its planted hotspots' recovery and the early-warning replay (no truth series: the
#: truth's chance needs a year after the date, which the last refreshes lack).
HOUSEHOLD_COLUMNS = [c for c in COLUMNS if c[0] not in {
    "prec/c", "prec/o", "unknown", "em_true", "pe_true", "di_rec", "lead_t", "al_t"}]
#: The scenarios a household outcome's world takes up by default.
HOUSEHOLD_SCENARIOS = ["default", "early-elsewhere", "rise-in-deprived"]
#: Figures whose worst world is the highest (for the rest, the lowest).
_HIGHER_IS_WORSE = {"em_out", "out_c", "pe_out", "ece", "secs", "p_below", "lead", "lead_e",
                    "lead_c", "lead_t", "alarms", "al_c", "al_t"}
#: A lead time never reached counts as this many refreshes in medians.
NEVER = 99


def one_world(scenario: str, seed: int, basildon: bool, keep: Path | None = None,
              outcome: str = "school_readiness") -> dict:
    """Run the demo of ``outcome`` on one world in a temporary folder (or in a folder of
    ``keep``, kept); return its row."""
    from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES, BoundaryFiles
    from geo_risk.synth.demo import run_demo

    logging.basicConfig(level=logging.ERROR)
    files = DEFAULT_BOUNDARIES
    if basildon:
        files = BoundaryFiles(BASILDON / "oa11_basildon.geojson",
                              BASILDON / "oa11_lookup_basildon.csv",
                              BASILDON / "imd2019_lsoa11_basildon.csv")
    world = f"{'basildon' if basildon else 'town'}/{scenario}/{seed}"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_validity_") as tmp:
        folder = keep / world.replace("/", "-") if keep else Path(tmp) / "run"
        summary = run_demo(folder, seed=seed, files=files, scenario=scenario, ceiling=True,
                           outcome=outcome)
    m, e = summary["model"], summary["evaluation"]
    row = _row(world, m, e)
    if outcome == "school_readiness":  # its figures beyond every outcome's
        o, ceiling, truth = e["model"], e["records_ceiling"], e["planted_recovery_on_truth"]
        row.update({
            "prec/c": o["expected_precision_at_k"] / ceiling["expected_precision_at_k"],
            "prec/o": o["expected_precision_ratio"], "unknown": o["flagged_unknown_share"],
            "em_true": truth["emerging"]["recall"], "pe_true": truth["persistent"]["recall"],
            "di_rec": e["planted_recovery"]["diminishing"]["recall"]})
    return {**row, "secs": time.perf_counter() - started}


def _row(world: str, m: dict, e: dict) -> dict:
    """What every outcome's row has: the model against the oracle and the records
    ceiling, the planted hotspots' recovery, the early-warning replay."""
    o, found, ceiling = e["model"], e["planted_recovery"], e["records_ceiling"]
    band = o["oracle_slope_band_90"]
    return {
        "world": world,
        "auc": m["holdout_auc"], "ceil": ceiling["auc"], "oracle": o["oracle_auc"],
        "logit": m["logistic_auc"], "p_below": o["auc_below_logistic_share"],
        "slope": m["calibration_slope"], "band": f"{band[0]:.2f}-{band[1]:.2f}",
        "slope_in_band": band[0] <= m["calibration_slope"] <= band[1],
        "ece": m["ece"], "o_ece": o["oracle_ece"], "n_test": m["holdout_children"],
        "em_rec": found["emerging"]["recall"], "em_n": found["emerging"]["classed_oas"],
        "em_out": found["emerging"]["outside_share"],
        "em_ceil": ceiling["recovery"]["emerging"]["recall"],
        "out_c": ceiling["recovery"]["emerging"]["outside_share"],
        "pe_rec": found["persistent"]["recall"], "pe_out": found["persistent"]["outside_share"],
        "pe_ceil": ceiling["recovery"]["persistent"]["recall"],
        **_early(e["early_warning"]),
    }


def _early(warning: dict) -> dict:
    """The replay's lead times (refreshes; :data:`NEVER` when never) and false alarms."""
    def lead(value):
        return NEVER if value is None else value

    run, ceiling = warning["run"], warning["ceiling"]
    out = {"lead": lead(run["lead"]), "lead_e": lead(run["lead_emerging"]),
           "lead_c": lead(ceiling["lead"]), "alarms": run["false_alarms"],
           "al_c": ceiling["false_alarms"]}
    if "truth" in warning:  # a household outcome's truth has no series to replay
        out.update(lead_t=lead(warning["truth"]["lead"]),
                   al_t=warning["truth"]["false_alarms"])
    return out


def _line(row: dict) -> str:
    return " ".join(fmt.format(row[name]) for name, fmt in COLUMNS if name in row)


def main() -> None:
    from geo_risk.synth.scenarios import SCENARIOS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scenarios", nargs="+")
    parser.add_argument("--outcome", default="school_readiness",
                        help="the outcome whose family is run (docs/outcomes.md)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-basildon", action="store_true")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--keep", type=Path, help="keep each world's demo folder in KEEP")
    parser.add_argument("--summary", type=Path, help="summarise rows saved with --csv")
    parser.add_argument("--record", action="store_true",
                        help="keep the early-warning figures with the package "
                             "(geo_risk/publish/validity.json), which the report and "
                             "model card quote")
    args = parser.parse_args()
    if args.summary:
        import csv

        with args.summary.open() as f:
            rows = [{k: v if k in {"world", "band"} else
                     v == "True" if v in {"True", "False"} else float(v)
                     for k, v in r.items()} for r in csv.DictReader(f)]
        summarise(rows)
        if args.record:
            record(rows)
        return
    household = args.outcome != "school_readiness"
    if household and args.record:
        parser.error("--record keeps school readiness's early-warning figures, which its "
                     "report and model card quote; leave it out for another outcome")
    scenarios = args.scenarios or (HOUSEHOLD_SCENARIOS if household else list(SCENARIOS))
    worlds = [(s, seed, False) for s in scenarios for seed in args.seeds]
    if not args.no_basildon and (BASILDON / "oa11_basildon.geojson").is_file():
        worlds.append(("default", 1, True))
    print(" ".join(name for name, _ in (HOUSEHOLD_COLUMNS if household else COLUMNS)))
    rows = []
    started = time.perf_counter()
    if args.jobs > 1:  # one thread per world: parallel worlds, not threads fighting
        for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS"]:
            os.environ[name] = "1"
    with cf.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_world, *w, args.keep, args.outcome) for w in worlds]
        for future in cf.as_completed(futures):
            rows.append(future.result())
            print(_line(rows[-1]), flush=True)
    print(f"\n{len(rows)} worlds in {time.perf_counter() - started:.0f} s")
    summarise(rows)
    if args.record:
        record(rows)
    if args.csv:
        import csv

        with args.csv.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"  rows: {args.csv}")


def record(rows: list[dict]) -> None:
    """Write the grid's early-warning figures where the report and model card read them."""
    import json

    path = Path(__file__).resolve().parents[1] / "geo_risk/publish/validity.json"
    worst = max(rows, key=lambda r: r["lead"])
    figures = {
        "worlds": len(rows),
        "median_lead": statistics.median(r["lead"] for r in rows),
        "worst_lead": ("not within the refreshes" if worst["lead"] == NEVER else
                       f"{worst['lead']:g} refreshes") + f" ({worst['world']})",
        "median_lead_emerging": statistics.median(r["lead_e"] for r in rows),
        "median_false_alarms": round(statistics.median(r["alarms"] for r in rows), 3),
        "measured": time.strftime("%Y-%m-%d"),
    }
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"  recorded: {path}")


def summarise(rows: list[dict]) -> None:
    """The median and worst world of each figure, and the validity issue's acceptance
    lines: how many worlds meet each."""
    rows.sort(key=lambda r: r["world"])
    numeric = [name for name, fmt in COLUMNS if name not in {"world", "band"}
               and name in rows[0]]
    n = len(rows)
    for name in numeric:
        values = [r[name] for r in rows]
        worst = (max if name in _HIGHER_IS_WORSE else min)(rows, key=lambda r: r[name])
        print(f"  {name:<8} median {statistics.median(values):.3f}  worst {worst[name]:.3f} "
              f"({worst['world']})")
    def share(name, values):
        return f"{name} {statistics.median(values):.3f} (worst {min(values):.3f})"

    print("acceptance:")
    print("  " + share("AUC / records ceiling", [r["auc"] / r["ceil"] for r in rows]))
    def failing(worlds):
        return f"; failing: {', '.join(r['world'] for r in worlds)}" if worlds else ""

    below = [r for r in rows if r["auc"] < r["logit"]]
    print(f"  AUC below logistic regression's on {len(below)} of {n} worlds"
          + (f" (by at most {max(r['logit'] - r['auc'] for r in below):.3f})" if below else "")
          + failing(below))
    if below:
        print("    below it in these shares of the hold-out cohort's resamples: "
              + ", ".join(f"{r['world']} {r['p_below']:.2f}" for r in below))
    large = [r for r in rows if r["n_test"] >= 2000]
    steep = [r for r in large if not 0.85 <= r["slope"] <= 1.15]
    loose = [r for r in large if r["ece"] > r["o_ece"] + 0.015]
    print(f"  calibration slope 0.85-1.15 on {len(large) - len(steep)} of {len(large)} worlds "
          f"with >= 2,000 hold-out children{failing(steep)}")
    print(f"  ECE <= oracle ECE + 0.015 on {len(large) - len(loose)} of {len(large)} "
          f"worlds{failing(loose)}")
    outside = [r for r in rows if not r["slope_in_band"]]
    print(f"  slope inside the oracle's 90% band on {n - len(outside)} of {n}{failing(outside)}")
    print("  the two lines read against the cohort's own noise (for the issue's owners):")
    sure = [r for r in rows if r["p_below"] >= 0.95]
    print(f"    below logistic regression in >= 95% of the cohort's resamples on {len(sure)} "
          f"of {n}{failing(sure)}")
    either = [r for r in large if not (0.85 <= r["slope"] <= 1.15 or r["slope_in_band"])]
    print(f"    slope inside 0.85-1.15 or the oracle's band on {len(large) - len(either)} of "
          f"{len(large)}{failing(either)}")
    either_all = [r for r in rows if not (0.85 <= r["slope"] <= 1.15 or r["slope_in_band"])]
    print(f"  slope inside 0.85-1.15 or the oracle's band on {n - len(either_all)} of {n} "
          f"(every world){failing(either_all)}")
    loose_all = [r for r in rows if r["ece"] > r["o_ece"] + 0.015]
    print(f"  ECE <= oracle ECE + 0.015 on {n - len(loose_all)} of {n} (every world)"
          f"{failing(loose_all)}")
    if "prec/c" in rows[0]:
        print("  " + share("expected precision at k / records ceiling's",
                           [r["prec/c"] for r in rows]))
    ok = [r for r in rows if r["em_rec"] >= 0.8 * r["em_ceil"] and r["em_out"] <= 0.2]
    print(f"  emerging recall >= 0.8 x the method on the records ceiling, <= 20% outside: "
          f"{len(ok)} of {n} worlds ({len(ok) / n:.0%}); failing: "
          + ", ".join(r["world"] for r in rows if r not in ok))
    beyond = [r for r in rows if r not in ok and r.get("out_c", 0) > 0.2]
    if beyond:
        print("    where the method on the records ceiling's own series is more than 20% "
              "outside too: " + ", ".join(f"{r['world']} ({r['em_out']:.0%}; the ceiling's "
                                          f"{r['out_c']:.0%})" for r in beyond))
    scenarios: dict[str, list[bool]] = {}
    for r in rows:
        place, scenario, _ = r["world"].split("/")
        scenarios.setdefault(f"{place}/{scenario}", []).append(r in ok)
    short = [name for name, held in scenarios.items() if len(held) >= 3 and sum(held) < 2]
    print(f"  ... on at least 2 of 3 seeds of every scenario: "
          f"{'yes' if not short else 'no; short: ' + ', '.join(short)}")
    for name, label in [("lead", "lead time, refreshes from the rise's start (emerging or "
                                  "newly identified concern)"),
                        ("lead_e", "lead time, emerging class alone"),
                        ("lead_c", "the records ceiling's lead time"),
                        ("lead_t", "the truth's lead time")]:
        if name not in rows[0]:
            continue
        values = [r[name] for r in rows]
        worst = max(rows, key=lambda r: r[name])
        print(f"  {label}: median {statistics.median(values):g}, worst "
              f"{'never' if worst[name] == NEVER else worst[name]} ({worst['world']})")
    truth = (f", the truth's {statistics.median([r['al_t'] for r in rows]):.2f}"
             if "al_t" in rows[0] else "")
    print("  false alarms (groups per district per year): median "
          f"{statistics.median([r['alarms'] for r in rows]):.2f} (the records ceiling's "
          f"{statistics.median([r['al_c'] for r in rows]):.2f}{truth}); worst "
          f"{max(r['alarms'] for r in rows):.2f}")
    print("  " + share("persistent recall / the method on the records ceiling",
                       [r["pe_rec"] / r["pe_ceil"] for r in rows if r["pe_ceil"]]))


if __name__ == "__main__":
    main()
