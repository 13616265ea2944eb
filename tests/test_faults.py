"""Faults a council analyst meets: weak settings, bad output folders, killed runs, and
mistakes that once ended in a traceback. Each ends in one ``error:`` line (or a rejects
row), never a traceback, and no run is left half-finished."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_risk._errors import ConfigError, ModelError, OutputError
from geo_risk.cli import app
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES as TOWN
from geo_risk.run.folder import MARKER, RunFolder, staged

runner = CliRunner()


def _config(tmp_path: Path, extra: str = "", **tables: str) -> Path:
    from geo_risk.inputs.pseudonymise import make_key

    key = tmp_path / "project.key"
    if not key.exists():
        make_key(key)  # not through the command line, which sets up its own logging
    (tmp_path / "extracts").mkdir(exist_ok=True)
    config = tmp_path / "run.toml"
    config.write_text(
        'area_name = "Synthtown"\nreference_date = 2017-12-31\nkey_file = "project.key"\n'
        f'extracts = "extracts"\n{extra}'
        f'[boundaries]\noa = "{TOWN.oa}"\nlookup = "{TOWN.lookup}"\n'
        + "".join(f"[{name}]\n{body}\n" for name, body in tables.items()))
    return config


def _one_error(result, *phrases: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("error:") == 1 and "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)


@pytest.mark.parametrize("disclosure", ["withhold_up_to = 0\nrounding = 1", "withhold_up_to = 3",
                                        "rounding = 1"])
def test_weaker_disclosure_is_refused_without_a_reason(tmp_path, disclosure):
    result = runner.invoke(app, ["run", "--config", str(_config(tmp_path,
                                                                disclosure=disclosure))])
    _one_error(result, "is weaker than the safe rules", "reason = ")


def test_weaker_disclosure_with_a_reason_is_carried(tmp_path):
    from geo_risk.config import load_config

    config = _config(tmp_path, disclosure='withhold_up_to = 5\nreason = "agreed with the DPO"')
    settings = load_config(config).settings
    assert settings.disclosure.withhold_up_to == 5
    assert settings.disclosure.reason == "agreed with the DPO"


def test_share_zero_is_a_config_error(tmp_path):
    result = runner.invoke(app, ["run", "--config", str(_config(tmp_path,
                                                                capacity="share = 0.0"))])
    _one_error(result, "[capacity] share = 0 flags no household")


def test_out_naming_a_file_or_an_unwritable_place(tmp_path):
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine")
    with pytest.raises(OutputError, match="is a file, not a folder"), staged(a_file):
        pass
    with pytest.raises(OutputError, match="cannot create"), staged(a_file / "run"):
        pass
    other = tmp_path / "documents"
    other.mkdir()
    (other / "budget.xlsx").write_text("x")
    with pytest.raises(OutputError, match="holds other files and is not a geo-risk run"), \
            staged(other):
        pass
    assert (other / "budget.xlsx").read_text() == "x"  # never replaced
    result = runner.invoke(app, ["demo", "--out", str(a_file)])
    _one_error(result, "is a file, not a folder")


def test_a_rerun_replaces_the_whole_run(tmp_path):
    out = tmp_path / "run"
    with staged(out) as folder:
        (folder.maps).mkdir(parents=True)
        (folder.maps / "service_sites.html").write_text("old")
        (folder.root / "stray.txt").write_text("stray")
    assert (out / MARKER).is_file() and (out / "stray.txt").is_file()
    with staged(out) as folder:
        folder.summary.write_text("{}")
    assert not (out / "stray.txt").exists()
    assert not RunFolder(out).maps.exists()  # nothing stale survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_failed_run_leaves_the_previous_run(tmp_path):
    out = tmp_path / "run"
    with staged(out) as folder:
        folder.summary.write_text('{"complete": true}')
    with pytest.raises(RuntimeError), staged(out) as folder:
        folder.summary.write_text('{"half": true}')
        raise RuntimeError("killed")
    assert json.loads(RunFolder(out).summary.read_text()) == {"complete": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_second_run_into_the_same_folder_stops_while_the_first_writes(tmp_path):
    """Two runs into one folder (a scheduled refresh and an analyst's) once shared one
    staging folder, each deleting and mixing the other's files."""
    out = tmp_path / "run"
    with staged(out) as first:
        with pytest.raises(OutputError, match="another geo-risk run is writing"), \
                staged(out):
            pass
        assert first.root.is_dir()  # the first run's staging folder is untouched
        first.summary.write_text('{"complete": true}')
    assert json.loads(RunFolder(out).summary.read_text()) == {"complete": True}
    with staged(out) as again:  # and once it has finished, the next run goes ahead
        again.summary.write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_killing_a_rerun_leaves_the_finished_run_intact(demo, tmp_path):
    """SIGKILL in the middle of 'geo-risk hotspots' on a finished run: the run is as it
    was, and what the killed run left is a hidden '.incomplete' folder that the next run
    removes."""
    import shutil

    source, _ = demo
    out = tmp_path / "run"
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("extracts", "pseudonymised"))
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    process = subprocess.Popen([sys.executable, "-m", "geo_risk", "hotspots", "--in",
                                str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stage = tmp_path / ".run.incomplete"
    deadline = time.monotonic() + 60
    while not (stage / "publish").is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # into the work
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert stage.is_dir()  # hidden, named incomplete; its run.json, if copied, is the old
    left = stage / "publish/run.json"
    assert not left.exists() or left.read_bytes() == before[Path("publish/run.json")]
    result = runner.invoke(app, ["hotspots", "--in", str(out), "--permutations", "99"])
    assert result.exit_code == 0, result.output
    assert not stage.exists()
    assert json.loads((out / "publish/run.json").read_text())["hotspots"]["permutations"] == 99


def test_too_few_labelled_cohorts_is_a_clear_error(demo):
    from geo_risk.run.pipeline import read_feature_tables, run_model

    out, _ = demo
    tables = read_feature_tables(out / "restricted/link")
    children = tables.children
    latest = children.loc[children["role"] == "labelled", "academic_year"].max()
    tables.children = children[(children["role"] != "labelled")
                               | (children["academic_year"] == latest)]
    with pytest.raises(ModelError, match=r"1 labelled cohort\(s\) of school-readiness "
                                         r"results .* at least two"):
        run_model(tables, RunFolder(out / "never"), random_state=1)
    assert not (out / "never").exists()


def test_dates_the_records_cannot_describe_are_clear_errors(demo, tmp_path):
    """A reference date years after the extracts, or refreshes reaching back before the
    register's first births, once ended on NaN inside the hot spot regression."""
    from geo_risk._errors import GeoRiskError
    from geo_risk.config import quarterly_refreshes
    from geo_risk.run.inputs import check_refreshes, run_link

    out, _ = demo
    pseudonymised = out / "restricted/pseudonymised"
    with pytest.raises(GeoRiskError, match=r"reference date 2030-12-31: the newest record in "
                                           r"the extracts is dated 2017-12-\d\d"):
        run_link(pseudonymised, tmp_path / "late", reference_date="2030-12-31", files=TOWN)
    _, linked = run_link(pseudonymised, tmp_path / "link", reference_date="2017-12-31",
                         files=TOWN)
    with pytest.raises(ConfigError, match=r"refreshes = 80 reach back to 1998-03-31, but on "
                                          r"\d+ of them .* Set refreshes = (\d+) or fewer") as err:
        check_refreshes(linked, quarterly_refreshes("2017-12-31", 80))
    fit = int(re.search(r"Set refreshes = (\d+)", str(err.value)).group(1))
    assert 16 <= fit < 80
    check_refreshes(linked, quarterly_refreshes("2017-12-31", fit))  # each has under-fives
    with pytest.raises(GeoRiskError, match="on 2000-12-31 no child aged 0-4 in the child "
                                           "register lives at an address in the output areas, "
                                           "so the reference date has no risk to map"):
        check_refreshes(linked, quarterly_refreshes("2000-12-31", 4))


def test_synth_on_two_wards_is_a_clear_error(tmp_path):
    import geopandas as gpd

    lookup = pd.read_csv(TOWN.lookup, dtype=str)
    lookup = lookup[lookup["WD13CD"].isin(lookup["WD13CD"].unique()[:2])]
    lookup.to_csv(tmp_path / "lookup.csv", index=False)
    oas = gpd.read_file(TOWN.oa)
    oas[oas["OA11CD"].isin(lookup["OA11CD"])].to_file(tmp_path / "oa.gpkg")
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "w"), "--boundaries",
                                 str(tmp_path / "oa.gpkg"), "--lookup",
                                 str(tmp_path / "lookup.csv")])
    _one_error(result, "2 ward(s)", "at least three wards")


def test_an_unexpected_failure_is_one_line_without_the_data(monkeypatch, capsys):
    """A bug still ends in one line, and its message (which may quote a value from the
    data) is withheld."""
    from geo_risk import cli

    def broken(*args, **kwargs):
        raise KeyError("100012345678")

    monkeypatch.setattr("geo_risk.synth.world.make_world", broken)
    monkeypatch.setattr(sys, "argv", ["geo-risk", "synth", "--out", "/tmp/never"])
    with pytest.raises(SystemExit) as done:
        cli.entry()
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "unexpected KeyError" in err and "bug" in err
    assert "100012345678" not in err and "Traceback" not in err


@pytest.mark.parametrize(("raised", "said"), [
    (OSError(errno.ENOSPC, "No space left on device", "/runs/out/.staging/oa.parquet"),
     "error: no space left on device (/runs/out/.staging/oa.parquet); free some space or "
     "write the run elsewhere (--out)."),
    (PermissionError(errno.EACCES, "Permission denied", "/runs/out"),
     "error: permission denied (/runs/out); check who may read and write it, or write the "
     "run elsewhere."),
    (OSError("Failed to write: No space left on device"),  # as pyarrow says it
     "error: no space left on device; free some space or write the run elsewhere (--out)."),
])
def test_a_full_disk_or_a_folder_not_writable_is_one_line_not_a_bug(monkeypatch, capsys,
                                                                     raised, said):
    from geo_risk import cli

    def refused(*args, **kwargs):
        raise raised

    monkeypatch.setattr("geo_risk.synth.world.make_world", refused)
    monkeypatch.setattr(sys, "argv", ["geo-risk", "synth", "--out", "/tmp/never"])
    with pytest.raises(SystemExit) as done:
        cli.entry()
    assert done.value.code == 2
    assert capsys.readouterr().err.strip() == said


@pytest.mark.parametrize(("argv", "message"), [
    (["synth", "--periods", "1", "--out", "x"],
     "error: Invalid value for '--periods': Input should be greater than or equal to 2; see "
     "'geo-risk synth --help'."),
    (["synth", "--bogus"], "error: No such option: --bogus"),
    (["synth"], "error: Missing option '--out'; see 'geo-risk synth --help'."),
    (["frobnicate"], "error: No such command 'frobnicate'; see 'geo-risk --help'."),
])
def test_a_mistyped_command_line_is_one_error_line(monkeypatch, capsys, argv, message):
    """An option's value out of range, an unknown option or command, a missing option:
    one ``error:`` line naming it and where the help is (the framework drew a box)."""
    from geo_risk import cli

    monkeypatch.setattr(sys, "argv", ["geo-risk", *argv])
    with pytest.raises(SystemExit) as done:
        cli.entry()
    assert done.value.code == 2
    out = capsys.readouterr()
    lines = (out.out + out.err).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_a_command_that_succeeds_exits_zero(monkeypatch, capsys):
    from geo_risk import cli

    monkeypatch.setattr(sys, "argv", ["geo-risk", "--version"])
    with pytest.raises(SystemExit) as done:
        cli.entry()
    assert done.value.code == 0 and capsys.readouterr().out.startswith("geo-risk ")


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_renamed_settings_still_work_with_a_warning(tmp_path, caplog):
    from geo_risk.config import load_config

    config = _config(tmp_path, extra="seed = 4\n", capacity="threshold = 0.7",
                     disclosure="threshold = 9")
    settings = load_config(config).settings
    assert settings.random_state == 4 and settings.capacity.min_score == 0.7
    assert settings.disclosure.withhold_up_to == 9
    assert "[disclosure] threshold is now called [disclosure] withhold_up_to" in caplog.text
    assert "seed is now called random_state" in caplog.text
    assert "[capacity] threshold is now called [capacity] min_score" in caplog.text
    both = _config(tmp_path, extra="seed = 4\nrandom_state = 5\n")
    result = runner.invoke(app, ["run", "--config", str(both)])
    _one_error(result, "seed and random_state are the same setting")


@pytest.mark.parametrize(("dask", "message"), [
    ('scheduler = ""', "[dask] scheduler must be the scheduler's address"),
    ('workers = 2\nscheduler = "tcp://10.0.0.5:8786"', "[dask] takes workers"),
    ("workers = -1", "workers = -1 is outside 0 to 256"),
])
def test_dask_settings_are_checked(tmp_path, dask, message):
    result = runner.invoke(app, ["run", "--config", str(_config(tmp_path, dask=dask))])
    _one_error(result, message)


def test_dask_workers_zero_runs_here(tmp_path):
    from geo_risk.config import load_config

    assert load_config(_config(tmp_path, dask="workers = 0")).settings.dask is None
    assert load_config(_config(tmp_path, dask="workers = 3")).settings.dask.workers == 3


def test_an_unreachable_scheduler_is_one_error():
    from geo_risk._errors import GeoRiskError
    from geo_risk.inputs.parallel import DaskSettings, executor

    with pytest.raises(GeoRiskError, match=r"\[dask\] scheduler = 'tcp://127.0.0.1:9': "
                                           "cannot reach it"), \
            executor(DaskSettings(scheduler="tcp://127.0.0.1:9")):
        pass


def test_an_extract_whose_every_row_is_rejected_stops_the_run(tmp_path):
    """A whole column exported wrongly once left a run going on without the extract."""
    from geo_risk._errors import SchemaError
    from geo_risk.inputs.pseudonymise import Key, make_key
    from geo_risk.run.inputs import pseudonymise_folder

    make_key(tmp_path / "project.key")
    key = Key.load(tmp_path / "project.key")
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    housing = "uprn,postcode,event_date,event_type\n"
    (extracts / "housing.csv").write_text(housing + "1.00012E+11,SS16 4AA,2016-01-05,rent "
                                          "arrears\nx,SS16 4AA,2016-01-06,rent arrears\n")
    with pytest.raises(SchemaError, match=r"housing.csv: all 2 rows were rejected, 1 of them "
                                          r"for uprn: UPRN .*geo-risk pseudonymise"):
        pseudonymise_folder(extracts, key, tmp_path / "out")
    (extracts / "housing.csv").write_text(housing + "100012345678,SS16 4AA,2016-01-05,rent "
                                          "arrears\nx,SS16 4AA,2016-01-06,rent arrears\n")
    counts = pseudonymise_folder(extracts, key, tmp_path / "out")
    assert counts[["read", "kept", "rejected"]].values.tolist() == [[2, 1, 1]]


def test_extracts_are_found_by_name_and_none_is_passed_over(tmp_path):
    """An extract saved as "HOUSING.CSV", "Child Register.xlsx" or ".tsv" is read; a table
    no source names, one compressed, or two for one source, once ran on without its rows."""
    from geo_risk._errors import SchemaError
    from geo_risk.run.inputs import find_extracts

    folder = tmp_path / "extracts"
    folder.mkdir()
    for name in ["HOUSING.CSV", "Child Register.xlsx", "police.tsv", "notes.txt",
                 "~$Child Register.xlsx", ".housing.csv.swp"]:
        (folder / name).write_text("x")
    (folder / "old").mkdir()
    assert {s: p.name for s, p in find_extracts(folder).items()} == {
        "child_register": "Child Register.xlsx", "housing": "HOUSING.CSV",
        "police": "police.tsv"}
    for name, message in [("housing – copy (2).csv", "names no partner extract"),
                          ("benefits.csv.gz", "reads extracts as CSV, XLSX or Parquet"),
                          ("housing.parquet", "2 files for the housing extract "
                                              "(HOUSING.CSV, housing.parquet)")]:
        (folder / name).write_text("x")
        with pytest.raises(SchemaError, match=re.escape(message)):
            find_extracts(folder)
        (folder / name).unlink()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_configuration_as_notepad_saves_it(tmp_path, encoding):
    """With a byte-order mark or as "Unicode" (UTF-16): once 'not valid TOML' and a crash."""
    from geo_risk.config import load_config

    config = _config(tmp_path)
    plain = load_config(config)
    config.write_bytes(config.read_text().replace("\n", "\r\n").encode(encoding))
    assert load_config(config) == plain


def test_a_setting_of_the_wrong_type_says_what_it_must_be(tmp_path):
    from geo_risk.config import load_config

    with pytest.raises(ConfigError, match=r"refreshes must be a whole number \(unquoted\), "
                                          r"not 'many'"):
        load_config(_config(tmp_path, 'refreshes = "many"\n'))


def test_a_configuration_with_three_mistakes_names_all_three(tmp_path):
    """Every problem is found before one is reported, so a council analyst fixes them in
    one pass, not three runs."""
    config = _config(tmp_path, 'refreshes = "many"\nrandom_stat = 2\n',
                     disclosure="rounding = 0")
    result = runner.invoke(app, ["run", "--config", str(config)])
    _one_error(result, "3 problems", "refreshes must be a whole number",
               "unknown setting 'random_stat'. Did you mean 'random_state'?",
               "rounding = 0 is outside 1 to None")
