"""The audit trail: one record per command, chained by hashes so that a gap shows."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geo_risk.cli import app
from geo_risk.inputs.pseudonymise import Key

runner = CliRunner()


def _lines(log):
    return log.read_text().splitlines()


def test_every_command_appends_a_chained_record_and_verify_finds_tampering(tmp_path):
    log = tmp_path / "audit.jsonl"
    env = {"GEO_RISK_AUDIT_LOG": str(log)}
    key = tmp_path / "project.key"
    extract = tmp_path / "housing.csv"
    extract.write_text("uprn,event_date,event_type\n100012345678,2017-01-31,rent arrears\n")
    assert runner.invoke(app, ["keygen", str(key)], env=env).exit_code == 0
    ok = runner.invoke(app, ["pseudonymise", "--key-file", str(key), "--source", "housing",
                             str(extract), str(tmp_path / "h.parquet")], env=env)
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["pseudonymise", "--key-file", str(key), "--source", "nope",
                              str(extract), str(tmp_path / "x.parquet")], env=env)
    assert bad.exit_code == 2
    records = [json.loads(line) for line in _lines(log)]
    assert [r["command"] for r in records] == ["keygen", "pseudonymise", "pseudonymise"]
    assert [r["outcome"] for r in records] == ["ok", "ok", "stopped with exit code 2"]
    second = records[1]
    assert second["inputs"][0]["path"] == str(extract)
    assert len(second["inputs"][0]["sha256"]) == 64 and second["user"]
    assert second["key_fingerprint"] == records[0]["key_fingerprint"]
    secret = Key.load(key).secret.hex()
    assert secret not in log.read_text() and secret.upper() not in log.read_text()
    assert second["previous"] == records[0]["hash"]

    verified = runner.invoke(app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0 and "3 record(s), the chain holds" in verified.output

    lines = _lines(log)
    log.write_text("\n".join([lines[0], lines[2]]) + "\n")  # the middle record removed
    removed = runner.invoke(app, ["audit", "verify"], env=env)
    assert removed.exit_code == 2 and "line 2" in removed.output
    assert "does not follow the record before it" in removed.output

    edited = json.loads(lines[1])
    edited["outcome"] = "ok, nothing to see"
    log.write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    changed = runner.invoke(app, ["audit", "verify"], env=env)
    assert changed.exit_code == 2 and "line 2" in changed.output
    assert "edited after it was written" in changed.output


def test_purge_deletes_old_restricted_material_keeps_published_and_says_so(tmp_path):
    import os
    import time

    from geo_risk.run.folder import RunFolder

    log = tmp_path / "audit.jsonl"
    env = {"GEO_RISK_AUDIT_LOG": str(log)}
    runs = {}
    for name, age_days in [("old", 600), ("recent", 30)]:
        run = RunFolder(tmp_path / "runs" / name).make()
        for path in [run.flagged, run.state, run.summary, run.report]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        stamp = time.time() - age_days * 86_400
        os.utime(run.summary, (stamp, stamp))
        runs[name] = run
    dry = runner.invoke(app, ["purge", str(tmp_path / "runs"), "--older-than", "18m",
                              "--dry-run"], env=env)
    assert dry.exit_code == 0 and "would delete restricted, work" in dry.output
    assert runs["old"].flagged.is_file()
    done = runner.invoke(app, ["purge", str(tmp_path / "runs"), "--older-than", "18m"],
                         env=env)
    assert done.exit_code == 0, done.output
    old, recent = runs["old"], runs["recent"]
    assert not old.restricted.exists() and not old.work.exists() and old.report.is_file()
    assert recent.flagged.is_file() and recent.state.is_file()
    assert "retention period of 18 months" in (old.root / "PURGED.txt").read_text()
    record = json.loads(_lines(log)[-1])
    assert record["command"] == "purge" and any("deleted" in o and "restricted" in o
                                                for o in record["outputs"])
    assert runner.invoke(app, ["purge", str(tmp_path), "--older-than", "soon"],
                         env=env).exit_code == 2


def test_review_form_imports_reconciles_and_rejects_with_row_numbers(town_run, tmp_path):
    import pandas as pd

    from geo_risk.governance.review import read_ledger
    from geo_risk.synth.reviews import simulate_reviews

    form = pd.read_csv(town_run / "restricted/review_form.csv", dtype=str,
                       keep_default_na=False)
    flagged = pd.read_csv(town_run / "restricted/flagged_households.csv", dtype=str)
    assert list(form["household_key"]) == list(flagged.sort_values(
        "rank", key=lambda r: r.astype(int))["household_key"])
    filled = simulate_reviews(form, seed=3)
    bad = filled.iloc[:3].copy()
    bad.loc[bad.index[0], "household_key"] = "f" * 32  # not flagged by this run
    bad.loc[bad.index[1], "decision"] = "sent a letter"
    bad.loc[bad.index[2], "review_date"] = "02/31/2018"
    for i in bad.index:
        bad.loc[i, ["role", "reason"]] = ["health visitor", "x"]
        if bad.loc[i, "review_date"] == "":
            bad.loc[i, "review_date"] = "2018-02-15"
        if bad.loc[i, "decision"] == "":
            bad.loc[i, "decision"] = "offered support"
    path = tmp_path / "review_form.csv"
    pd.concat([filled, bad], ignore_index=True).to_csv(path, index=False)
    path.write_text(path.read_text() + "\n,,,,,,\n")  # blank lines a spreadsheet leaves
    ledger = tmp_path / "ledger.sqlite"
    result = runner.invoke(app, ["review", "import", str(path), "--run", str(town_run),
                                 "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "review_form.rejects.csv")
    rows = len(filled) + 3
    assert f"{rows:,} rows = " in result.output  # the blank lines are no rows of the form
    assert rejects["row"].tolist() == [rows - 1, rows, rows + 1]  # header is row 1
    assert rejects["column"].tolist() == ["household_key", "decision", "review_date"]
    reviews, runs = read_ledger(ledger)
    reviewed = int((filled["decision"] != "").sum())
    assert len(reviews) == reviewed
    assert len(reviews) + (filled["decision"] == "").sum() + len(rejects) == rows
    assert reviews["decision"].value_counts().to_dict() == \
        filled.loc[filled["decision"] != "", "decision"].value_counts().to_dict()
    assert runs["flags"].tolist() == [len(flagged)]
    assert f"{len(reviews):,} reviewed" in runner.invoke(
        app, ["review", "summary", "--ledger", str(ledger)]).output


@pytest.mark.parametrize("saved_as", ["cp1252;", "utf-16\t", "xlsx"])
def test_a_review_form_saved_by_a_spreadsheet_imports(town_run, tmp_path, saved_as):
    """Excel in a UK or European office saves the form in Windows-1252 or UTF-16, with
    semicolons or tabs, or keeps it as a workbook, and capitalises or spaces the headers:
    each once stopped the import on an unexpected error."""
    import pandas as pd

    from geo_risk.governance.review import read_ledger
    from geo_risk.synth.reviews import simulate_reviews

    form = pd.read_csv(town_run / "restricted/review_form.csv", dtype=str,
                       keep_default_na=False)
    filled = simulate_reviews(form, seed=3)
    reviewed = filled["decision"] != ""
    filled.loc[reviewed, "reason"] = "café – “helpful”, £5"  # Windows-1252 has each
    filled.columns = [c.replace("_", " ").title() for c in filled.columns]
    if saved_as == "xlsx":
        path = tmp_path / "form.xlsx"
        filled.to_excel(path, index=False)
    else:
        path = tmp_path / "form.csv"
        filled.to_csv(path, index=False, encoding=saved_as[:-1], sep=saved_as[-1])
    ledger = tmp_path / "ledger.sqlite"
    result = runner.invoke(app, ["review", "import", str(path), "--run", str(town_run),
                                 "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    reviews, _ = read_ledger(ledger)
    assert len(reviews) == reviewed.sum() > 0
    assert set(reviews["reason"]) == {"café – “helpful”, £5"}
