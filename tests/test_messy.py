"""--messy: every planted defect is where the ledger says, and nothing else is defective."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from geo_risk.inputs.identifiers import is_valid_nhs_number
from geo_risk.synth.extracts import EXTRACTS

_ENCODING = {"child_register.csv": "cp1252", "benefits.csv": "cp1252",
             "social_care.csv": "utf-8-sig", "school_readiness.csv": "utf-8-sig"}


@pytest.fixture(scope="module")
def ledger(messy_dir):
    return pd.read_csv(messy_dir / "truth/defects.csv", dtype={"row": "Int64"},
                       keep_default_na=False, na_values={"row": [""]})


@pytest.fixture(scope="module")
def files(messy_dir):
    return {f"{name}.csv": pd.read_csv(messy_dir / f"extracts/{name}.csv", dtype=str,
                                       keep_default_na=False,
                                       encoding=_ENCODING.get(f"{name}.csv", "utf-8"))
            for name in EXTRACTS}


def _cell(files, file, row, column):
    return files[file].iloc[row - 2][column]  # spreadsheet row: header is row 1


def test_every_defect_kind_is_planted(ledger):
    assert set(ledger["defect"]) == {
        "uprn_float_suffix", "uprn_scientific", "uprn_whitespace", "postcode_no_uprn",
        "nhs_bad_check_digit", "duplicate_row", "out_of_area", "uk_dates", "windows_1252",
        "byte_order_mark"}
    assert set(ledger["handling"]) == {"normalise", "reject"}
    assert not ledger.duplicated(["file", "row"]).loc[ledger["row"].notna()].any()


def test_each_row_defect_is_in_the_file(ledger, files):
    town_east = 580_000  # the town ends well west of this easting
    for d in ledger[ledger["row"].notna()].itertuples():
        if d.defect == "duplicate_row":
            table = files[d.file]
            assert table.iloc[d.row - 2].equals(table.iloc[d.row - 3]), d
            continue
        value = _cell(files, d.file, d.row, d.column)
        check = {
            "uprn_float_suffix": lambda v: re.fullmatch(r"\d{12}\.0", v),
            "uprn_scientific": lambda v: re.fullmatch(r"\d\.\d{5}E\+11", v),
            "uprn_whitespace": lambda v: v != v.strip() and re.fullmatch(r"\d{12}", v.strip()),
            "postcode_no_uprn": lambda v: v == "",
            "nhs_bad_check_digit": lambda v: re.fullmatch(r"\d{10}", v)
            and not is_valid_nhs_number(v),
            "out_of_area": lambda v: float(v) > town_east,
        }[d.defect]
        assert check(value), (d, value)
        if d.defect == "postcode_no_uprn":
            assert _cell(files, d.file, d.row, "postcode") != ""


def test_rows_outside_the_ledger_are_clean(ledger, files):
    """The ledger is complete: no defect hides in an unrecorded row."""
    for file, table in files.items():
        recorded = set(ledger.loc[(ledger["file"] == file) & ledger["row"].notna(), "row"])
        rows = pd.Series(range(2, len(table) + 2))
        clean = ~rows.isin(recorded).to_numpy()
        if "uprn" in table and file != "police.csv":
            assert table.loc[clean, "uprn"].str.fullmatch(r"\d{12}").all(), file
        if "child_id" in table:
            assert table.loc[clean, "child_id"].map(is_valid_nhs_number).all(), file
        assert not table[clean].duplicated().any(), file


def test_file_level_defects(ledger, messy_dir, files):
    raw = {f: (messy_dir / "extracts" / f).read_bytes() for f in files}
    for d in ledger[ledger["row"].isna()].itertuples():
        data = raw[d.file]
        if d.defect == "byte_order_mark":
            assert data.startswith(b"\xef\xbb\xbf")
        elif d.defect == "windows_1252":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            assert b"\r\n" in data
        elif d.defect == "uk_dates":
            table = files[d.file]
            column = next(c for c in table.columns if c.endswith(("date", "_start")))
            assert table[column].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    untouched = {f for f in files} - set(ledger.loc[ledger["row"].isna(), "file"])
    for f in untouched:
        raw[f].decode("utf-8")
        assert not raw[f].startswith(b"\xef\xbb\xbf")
