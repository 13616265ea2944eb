"""The command line as a new user meets it: help everywhere, one clear message on error."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from geo_risk.cli import app
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES

runner = CliRunner()


@pytest.mark.parametrize("args", [["--help"], ["synth", "--help"], ["demo", "--help"]])
def test_help_everywhere(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("geo-risk ")


def test_boundaries_without_lookup_is_one_clear_message(tmp_path):
    result = runner.invoke(app, ["synth", "--out", str(tmp_path), "--boundaries", "x.gpkg"])
    assert result.exit_code == 2
    assert "--boundaries and --lookup go together" in result.output
    assert "Traceback" not in result.output


def test_missing_boundary_file_is_one_clear_message(tmp_path):
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("OA11CD,LSOA11CD,WD13CD,WD13NM\n")
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "o"),
                                 "--boundaries", str(tmp_path / "missing.geojson"),
                                 "--lookup", str(lookup)])
    assert result.exit_code == 2
    assert "missing.geojson: file not found" in result.output
    assert "Traceback" not in result.output


def test_demo_writes_run_json(demo):
    out, summary = demo  # the session's demo runs through the command line
    record = {k: v for k, v in summary.items() if k != "evaluation"}
    assert record == json.loads((out / "restricted/run.json").read_text())
    assert summary["reference_date"] == "2017-12-31" and summary["complete"]
    assert 0.30 <= summary["evaluation"]["synth"]["not_gld_rate"] <= 0.35
    assert (out / "synth/extracts/child_register.csv").is_file()


def test_synth_messy_small(tmp_path):
    result = runner.invoke(app, ["synth", "--out", str(tmp_path), "--periods", "2", "--messy",
                                 "--seed", "4"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["messy"] and manifest["seed"] == 4 and len(manifest["refresh_dates"]) == 2


@pytest.mark.parametrize("command", ["keygen", "pseudonymise", "link", "model"])
def test_help_for_stage_commands(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_partner_workflow_and_new_user_errors(tmp_path, messy_dir):
    key = tmp_path / "project.key"
    assert runner.invoke(app, ["keygen", str(key)]).exit_code == 0
    out = tmp_path / "pseudo"
    for source in ["addresses", "child_register", "school_readiness", "housing"]:
        result = runner.invoke(app, ["pseudonymise", "--key-file", str(key), "--source", source,
                                     str(messy_dir / f"extracts/{source}.csv"),
                                     str(out / f"{source}.parquet")])
        assert result.exit_code == 0, result.output
        assert re.search(r"read [\d,]+ = kept [\d,]+ \+ rejected [\d,]+", result.output)
    town = ["--boundaries", str(DEFAULT_BOUNDARIES.oa),
            "--lookup", str(DEFAULT_BOUNDARIES.lookup)]
    # real extracts never fall back to the synthetic town
    result = runner.invoke(app, ["link", "--in", str(out), "--out", str(tmp_path / "link"),
                                 "--reference-date", "2014-12-31"])
    assert result.exit_code == 2 and result.output.count("error:") == 1
    assert "--boundaries and --lookup missing" in result.output
    result = runner.invoke(app, ["link", "--in", str(out), "--out", str(tmp_path / "link"),
                                 "--reference-date", "2014-12-31", *town])
    assert result.exit_code == 0, result.output
    for name in ["households.parquet", "children.parquet", "linkage_report.csv", "rejects.csv"]:
        assert (tmp_path / "link" / name).is_file()

    bad = tmp_path / "bad.csv"
    bad.write_text("uprn,event_date\n900000000001,2015-01-01\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cases = [
        (["--source", "housing", str(bad)], "has no column event_type"),
        (["--source", "housing", str(empty)], "the file is empty"),
        (["--source", "housin", str(bad)], "unknown source 'housin'; did you mean 'housing'"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["pseudonymise", "--key-file", str(key), *args[:2], args[2],
                                     str(tmp_path / "x.parquet")])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        assert result.output.count("error:") == 1
    result = runner.invoke(app, ["link", "--in", str(out), "--out", str(tmp_path / "l2"),
                                 "--reference-date", "31/12/2014", *town])
    assert result.exit_code == 2 and "write it as YYYY-MM-DD" in result.output
    assert key.read_text().strip() not in result.output


def test_model_command_capacity_options(demo, tmp_path):
    import pandas as pd

    out, _ = demo
    result = runner.invoke(app, ["model", "--in", str(out / "restricted/link"), "--out",
                                 str(tmp_path / "n"), "--capacity", "20"])
    assert result.exit_code == 0, result.output
    assert "20 flagged" in result.output and "never publish" in result.output
    assert len(pd.read_csv(tmp_path / "n/restricted/flagged_households.csv")) == 20
    # --min-score flags every household scoring at least that (the capacity it makes, on
    # the scores just written; the option itself is parsed before any model is fitted)
    from geo_risk.model.estimator import Capacity

    scores = pd.read_parquet(tmp_path / "n/restricted/household_scores.parquet")["score"]
    assert Capacity(share=None, min_score=0.95).k(scores) == (scores >= 0.95).sum() > 0
    result = runner.invoke(app, ["model", "--in", str(tmp_path / "nowhere"), "--out",
                                 str(tmp_path / "x"), "--min-score", "1.5"])
    assert result.exit_code == 2  # out of range: refused before anything is read
    result = runner.invoke(app, ["model", "--in", str(tmp_path / "nowhere"), "--out",
                                 str(tmp_path / "x")])
    assert result.exit_code == 2 and "run 'geo-risk link' first" in result.output


def test_an_input_quoted_in_an_error_cannot_drive_the_terminal(tmp_path):
    """A column name with Rich markup and an escape sequence is shown as text."""
    key = tmp_path / "key"
    assert runner.invoke(app, ["keygen", str(key)]).exit_code == 0
    extract = tmp_path / "housing.csv"
    extract.write_text("uprn,[bold]when\x1b[2J,event_type\n900000000001,2016-03-04,x\n")
    result = runner.invoke(app, ["pseudonymise", str(extract), str(tmp_path / "h.parquet"),
                                 "--key-file", str(key), "--source", "housing"])
    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "[bold]when\\x1b[2j" in result.output.replace("\n", "")
