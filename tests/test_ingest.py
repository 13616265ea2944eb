"""Reading partner extracts: encodings, formats, normalisation and reasons."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_risk._errors import SchemaError
from geo_risk.inputs.ingest import (
    clean_extract,
    normalise_nhs,
    normalise_uprn,
    parse_dates,
    read_extract,
)

HOUSING = "uprn,postcode,event_date,event_type\n"


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding,prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"),
                                             ("cp1252", b"")])
def test_encodings_are_detected(tmp_path, encoding, prefix):
    text = ("uprn,postcode,claim_start,claim_end,benefit,lone_parent,income_band\r\n"
            "900000000001,SS1 1AA,01/02/2015,,housing benefit,Y,\"£0–£7,499\"\r\n")
    path = tmp_path / "benefits.csv"
    path.write_bytes(prefix + text.encode(encoding))
    extract = read_extract(path, "benefits")
    assert extract.encoding == ("utf-8-sig" if prefix else encoding)
    assert extract.table.loc[0, "income_band"] == "£0–£7,499"
    kept, rejects = clean_extract(extract)
    assert rejects.empty and kept.loc[0, "claim_start"] == pd.Timestamp("2015-02-01")
    assert bool(kept.loc[0, "lone_parent"]) is True


def test_undecodable_text_stops_with_the_fix(tmp_path):
    path = tmp_path / "housing.csv"
    path.write_bytes(HOUSING.encode() + b"9\x81,SS1,2015-01-01,overcrowding\n")
    with pytest.raises(SchemaError, match="cannot be read as UTF-8 or Windows-1252"):
        read_extract(path, "housing")


def test_xlsx_and_parquet(tmp_path):
    table = pd.DataFrame({"UPRN": ["900000000001"], "Event_Date": ["2016-03-04"],
                          "Event_Type": ["Rent Arrears"]})
    table.to_excel(tmp_path / "housing.xlsx", index=False)
    table.to_parquet(tmp_path / "housing.parquet")
    for name in ["housing.xlsx", "housing.parquet"]:
        kept, rejects = clean_extract(read_extract(tmp_path / name, "housing"))
        assert rejects.empty and kept.loc[0, "event_type"] == "rent arrears"
        assert kept.loc[0, "uprn"] == "900000000001"


def test_structural_errors(tmp_path):
    with pytest.raises(SchemaError, match="has no column event_type"):
        read_extract(_write(tmp_path, "h.csv", "uprn,event_date\n1,2015-01-01\n"), "housing")
    with pytest.raises(SchemaError, match="the file is empty"):
        read_extract(_write(tmp_path, "e.csv", ""), "housing")
    with pytest.raises(SchemaError, match="header but no rows"):
        read_extract(_write(tmp_path, "n.csv", HOUSING), "housing")
    with pytest.raises(SchemaError, match="unknown source 'housng'; did you mean 'housing'"):
        read_extract(_write(tmp_path, "x.csv", HOUSING), "housng")
    ragged = HOUSING + "900000000001,SS1 1AA,2015-01-01,overcrowding,extra\n"
    with pytest.raises(SchemaError, match="row 2 has more fields than the header"):
        read_extract(_write(tmp_path, "r.csv", ragged), "housing")
    with pytest.raises(SchemaError, match="file not found"):
        read_extract(tmp_path / "absent.csv", "housing")


def test_a_title_above_the_header_is_named(tmp_path):
    """A report exported as printed: a title (of fewer fields, or padded with separators)
    and notes above the header row. The error says which row the header is on."""
    text = "Housing events extract\nGenerated 02/01/2018,,,\n" + HOUSING + \
        "900000000001,SS1 1AA,2015-01-01,overcrowding\n"
    with pytest.raises(SchemaError, match="the housing extract's header is on row 3, below a "
                                          "title or notes; delete rows 1 to 2"):
        read_extract(_write(tmp_path, "t.csv", text), "housing")
    sheet = pd.DataFrame([["Housing events", "", "", ""], HOUSING.strip().split(","),
                          ["900000000001", "SS1 1AA", "2015-01-01", "overcrowding"]])
    sheet.to_excel(tmp_path / "t.xlsx", index=False, header=False)
    with pytest.raises(SchemaError, match="header is on row 2, below a title or notes; "
                                          "delete row 1 so"):
        read_extract(tmp_path / "t.xlsx", "housing")


def test_a_quote_that_never_closes_names_its_row(tmp_path):
    """A stray quote swallows the rest of the file into one value: the parser (and the csv
    module, past its field size limit) stopped on it with no row; the row is named."""
    rows = "".join(f"9000000000{i:02d},SS1 1AA,2015-01-01,overcrowding\n" for i in range(40))
    text = HOUSING + 'a "quoted ""word"" is fine",SS1 1AA,2015-01-01,overcrowding\n' + rows
    text += '"900000000099,SS1 1AA,2015-01-01,overcrowding\n' + rows * 2000
    with pytest.raises(SchemaError, match="row 43: a quote mark opens a value that is never "
                                          "closed"):
        read_extract(_write(tmp_path, "q.csv", text), "housing")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path, sep):
    """A spreadsheet saved as CSV where the decimal mark is a comma writes semicolons."""
    text = sep.join(["UPRN", "Event Date", "event-type"]) + "\r\n" + sep.join(
        ["900000000001", "04/03/2016", "Rent Arrears"]) + "\r\n"
    for encoding in ["utf-8", "utf-16"]:
        kept, rejects = clean_extract(read_extract(
            _write(tmp_path, f"h{encoding}.csv", text, encoding), "housing"))
        assert rejects.empty and len(kept) == 1
        assert kept.loc[0, "event_date"] == pd.Timestamp("2016-03-04")
    ragged = text + sep.join(["900000000002", "05/03/2016", "Rent Arrears", "extra"])
    with pytest.raises(SchemaError, match="row 3 has more fields than the header"):
        read_extract(_write(tmp_path, "r.csv", ragged), "housing")


def test_a_column_given_twice_is_refused_naming_both(tmp_path):
    """Two columns that both name the event date: never read the first and drop the other."""
    text = ("uprn,event_date,event_type,Event Date\n"
            "900000000001,2016-03-04,overcrowding,2017-01-01\n")
    with pytest.raises(SchemaError, match=r"column event_date appears 2 times \(columns 2, 4: "
                                          r"'event_date', 'Event Date'\)"):
        read_extract(_write(tmp_path, "h.csv", text), "housing")
    extra = "uprn,event_date,event_type,note,note\n900000000001,2016-03-04,overcrowding,a,b\n"
    assert len(read_extract(_write(tmp_path, "n.csv", extra), "housing").table) == 1


def test_row_reasons_and_reconciliation(tmp_path):
    rows = [
        "900000000001,SS1 1AA,2015-01-01,overcrowding",      # kept
        "900000000001,SS1 1AA,2015-01-01,overcrowding",      # duplicate of row 2
        "9.00000E+11,SS1 1AA,2015-01-01,overcrowding",       # lost digits
        ",SS1 1AA,2015-01-01,overcrowding",                  # postcode only
        "900000000002.0,SS1 1AB,31/12/2016,rent arrears",    # kept (normalised)
        "900000000003,SS1 1AB,12/31/2016,rent arrears",      # US date
        "900000000003,SS1 1AB,2016-12-30,eviction",          # unknown category
        "900000000003,SS1 1AB,,rent arrears",                # missing date
        ",SS1 1AA,2015-01-01,overcrowding",                  # another household's, no UPRN
    ]
    extract = read_extract(_write(tmp_path, "housing.csv", HOUSING + "\n".join(rows) + "\n"),
                           "housing")
    kept, rejects = clean_extract(extract)
    assert len(kept) + len(rejects) == len(rows)
    assert kept["row"].tolist() == [2, 6]
    assert kept["uprn"].tolist() == ["900000000001", "900000000002"]
    got = dict(zip(rejects["row"], rejects["reason"], strict=True))
    assert got == {3: "duplicate_row", 4: "uprn_lost_digits", 5: "uprn_missing",
                   7: "date_invalid", 8: "category_unknown", 9: "value_missing",
                   10: "uprn_missing"}  # a copy of row 5, but no UPRN says one household
    assert "(row 2)" in rejects.set_index("row").loc[3, "detail"]
    assert set(rejects.columns) == {"file", "row", "column", "reason", "detail"}
    assert not rejects.isin(["900000000001", "9.00000E+11"]).any().any()


def test_end_before_start_and_police_location(tmp_path):
    sc = ("person_id,uprn,start_date,end_date,episode_type,primary_need\n"
          "A1,900000000001,2016-05-01,2016-04-01,early help,N4\n")
    _, rejects = clean_extract(read_extract(_write(tmp_path, "sc.csv", sc), "social_care"))
    assert rejects["reason"].tolist() == ["date_order"]
    police = ("incident_id,incident_date,uprn,easting,northing,category,role\n"
              "42/1/15,2015-01-01,,,,other,\n42/2/15,2015-01-01,,570000,189000,ASB,\n")
    kept, rejects = clean_extract(read_extract(_write(tmp_path, "p.csv", police), "police"))
    assert rejects["reason"].tolist() == ["location_missing"] and kept["row"].tolist() == [3]


@given(st.integers(1, 999_999_999_999), st.sampled_from(["{}", "{}.0", " {} ", "00{}",
                                                         "{}.00", "'{}", "{:,}", "{:,}.0"]))
def test_uprn_forms_normalise_to_one(uprn, form):
    ok, why = normalise_uprn(pd.Series([form.format(uprn)]))
    assert (ok[0], why[0]) == (str(uprn), "")


@given(st.integers(100_000_000_000, 999_999_999_999))
def test_scientific_uprns_with_every_digit_are_read(uprn):
    ok, why = normalise_uprn(pd.Series([f"{uprn:.11E}", f"{uprn:,}".replace(",", " ")]))
    assert ok.tolist() == [str(uprn)] * 2 and why.tolist() == ["", ""]


@given(st.integers(100_000_000_000, 999_999_999_999))
def test_scientific_uprns_are_never_guessed(uprn):
    ok, why = normalise_uprn(pd.Series([f"{uprn:.5E}", f"{uprn:.5e}".replace("e+", "e")]))
    assert ok.tolist() == ["", ""] and why.tolist() == ["uprn_lost_digits"] * 2


def test_nhs_numbers():
    ok, why = normalise_nhs(pd.Series(["943 476 5919", "943-476-5919", "9434765918", "",
                                       "9434765919.0", "'9434765919", "9.434765919E+09"]))
    assert ok.tolist() == ["9434765919", "9434765919", "", ""] + ["9434765919"] * 3
    assert why.tolist() == ["", "", "nhs_invalid", "id_missing", "", "", ""]


def test_dates_are_day_first_or_iso():
    """As partners' systems and spreadsheets write them; never month-first, never a date
    made up from part of one (a weekday, a month without its day)."""
    read = ["05/04/2016", "2016-04-05T10:00:00", "5/4/2016", "2016/04/05", "5.4.16",
            "05-04-2016", "20160405", "5 Apr 2016", "05-April-2016", "April 5, 2016",
            "42465", "42465.0", "2016-4-5", "5 Apr 2016 10:30", "05/04/2016 00:00",
            "05/04/2016 10:30:00 PM", "2016-04-05T10:00:00Z", "5.4.16 09:15"]
    refused = ["31/02/2016", "04/31/2016", "Tuesday", "April 2016", "n/a", "4/5"]
    dates, why = parse_dates(pd.Series(read + refused))
    assert dates[:len(read)].dt.strftime("%Y-%m-%d").tolist() == ["2016-04-05"] * len(read)
    assert why.tolist() == [""] * len(read) + ["date_invalid"] * len(refused)


def test_utf16_is_recognised(tmp_path):
    text = HOUSING + "900000000001,SS1 1AA,2016-01-01,rent arrears\n"
    for encoding in ["utf-16", "utf-16-le"]:  # with and without a byte-order mark
        extract = read_extract(_write(tmp_path, f"{encoding}.csv", text, encoding), "housing")
        assert extract.encoding.startswith("utf-16") and len(extract.table) == 1


def test_blank_lines_keep_the_spreadsheet_row_numbers(tmp_path):
    text = (HOUSING + "900000000001,SS1 1AA,2016-01-01,rent arrears\n\n"
            ",,,\n900000000002,SS1 1AA,2016-01-01,bad event\n")
    kept, rejects = clean_extract(read_extract(_write(tmp_path, "h.csv", text), "housing"))
    assert kept["row"].tolist() == [2]
    assert rejects[["row", "reason"]].values.tolist() == [[5, "category_unknown"]]


def test_years_far_off_are_rejected_not_a_crash(tmp_path):
    text = (HOUSING + "900000000001,SS1 1AA,2300-01-01,rent arrears\n"
            "900000000002,SS1 1AA,14/10/1066,rent arrears\n")
    kept, rejects = clean_extract(read_extract(_write(tmp_path, "h.csv", text), "housing"))
    assert kept.empty and set(rejects["reason"]) == {"date_out_of_range"}


def test_workbook_with_rows_on_two_sheets_is_refused(tmp_path):
    path = tmp_path / "housing.xlsx"
    rows = {"uprn": ["900000000001"], "event_date": ["2016-01-01"],
            "event_type": ["rent arrears"]}
    with pd.ExcelWriter(path) as book:
        pd.DataFrame(rows).to_excel(book, sheet_name="2016", index=False)
        pd.DataFrame(rows).to_excel(book, sheet_name="2017", index=False)
        pd.DataFrame().to_excel(book, sheet_name="notes", index=False)
    with pytest.raises(SchemaError, match=r"data on 2 sheets \('2016', '2017'\)"):
        read_extract(path, "housing")


def test_workbook_with_a_sheet_of_notes_reads_the_extract(tmp_path):
    path = tmp_path / "housing.xlsx"
    rows = {"UPRN": ["900000000001", "900000000002"], "Event Date": ["2016-01-01"] * 2,
            "event_type": ["rent arrears"] * 2}
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"About": ["Housing register extract", "Run 02/01/2018"]}).to_excel(
            book, sheet_name="Notes", index=False)
        pd.DataFrame(rows).to_excel(book, sheet_name="Data", index=False)
    extract = read_extract(path, "housing")
    assert extract.table["uprn"].tolist() == rows["UPRN"]
    assert extract.table["row"].tolist() == [2, 3]


def test_a_file_whose_name_misleads_says_what_it_holds(tmp_path):
    text = HOUSING + "900000000001,SS1 1AA,2016-01-01,rent arrears\n"
    for name, message in [("housing.xlsx", "cannot be read as an Excel workbook; it looks "
                                           "like text: if it is CSV, rename it .csv"),
                          ("housing.parquet", "cannot be read as Parquet; it looks like text")]:
        with pytest.raises(SchemaError, match=re.escape(message)):
            read_extract(_write(tmp_path, name, text), "housing")
    book = tmp_path / "book.xlsx"
    pd.read_csv(io.StringIO(text), dtype=str).to_excel(book, index=False)
    named_csv = tmp_path / "housing.csv"
    named_csv.write_bytes(book.read_bytes())
    with pytest.raises(SchemaError, match=r"not a CSV file; it is an Excel workbook .* rename "
                                          r"it \.xlsx"):
        read_extract(named_csv, "housing")
    assert read_extract(book, "housing").table["uprn"].tolist() == ["900000000001"]


def test_an_addressbase_export_is_read_as_the_gazetteer(tmp_path):
    text = ("UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE,POSTCODE_LOCATOR\n"
            "100012345678,570000.5,188000.25,51.57,0.47,SS16 4AA\n")
    table = read_extract(_write(tmp_path, "addresses.csv", text), "addresses").table
    assert table[["uprn", "easting", "northing", "postcode"]].values.tolist() == [
        ["100012345678", "570000.5", "188000.25", "SS16 4AA"]]


def test_coordinates_formatted_by_a_spreadsheet_are_read(tmp_path):
    """Thousands separators (Excel's number format) and a decimal comma (a European
    locale's semicolon-separated export) were rejected as not a number, every row."""
    text = ("uprn;easting;northing\n"
            '100000000001;"570,000.5";"188,000"\n'
            "100000000002;570000,5;188000,25\n"
            "100000000003;570000.5;188000\n"
            "100000000004;5,70,000;188000\n")
    kept, rejects = clean_extract(read_extract(_write(tmp_path, "addresses.csv", text),
                                               "addresses"))
    assert kept[["easting", "northing"]].values.tolist() == [
        [570000.5, 188000.0], [570000.5, 188000.25], [570000.5, 188000.0]]
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        [5, "easting", "coord_invalid"]]


def test_categories_read_under_the_names_partner_systems_give_them(tmp_path):
    text = ("person_id,uprn,start_date,end_date,episode_type,primary_need\n"
            "P1,900000000001,2016-01-01,,CIN,N1 - Abuse or neglect\n"
            "P2,900000000001,2016-01-01,,Child-in-Need,Family in acute stress\n"
            "P3,900000000001,2016-01-01,,Children Looked After,n7\n"
            "P4,900000000001,2016-01-01,,CP Plan,\n"
            "P5,900000000001,2016-01-01,,adopted,N1\n"             # no such episode
            "P6,900000000001,2016-01-01,,-,N1\n"                   # not an episode either
            "P7,900000000001,2016-01-01,,,N1\n")                   # none given
    kept, rejects = clean_extract(read_extract(_write(tmp_path, "sc.csv", text), "social_care"))
    assert kept["episode_type"].tolist() == ["child in need", "child in need", "looked after",
                                             "child protection"]
    assert kept["primary_need"].tolist() == ["n1", "n4", "n7", ""]
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        [6, "episode_type", "category_unknown"], [7, "episode_type", "category_unknown"],
        [8, "episode_type", "value_missing"]]


#: Valid NHS numbers (modulus 11), one for each child of a hand-written extract.
_NHS = ["9434765919", "9434765870", "9434765862", "9434765854", "9434765846", "9434765838",
        "9434765811"]


def _children(tmp_path, source: str, column: str, values: list[str]):
    """``clean_extract`` of a ``source`` extract (child register or school results) of one
    child per value of ``column``, every other column valid."""
    other = {"child_register": {"date_of_birth": "2015-03-01", "sex": "F",
                                "uprn": "900000000001"},
             "school_readiness": {"uprn": "900000000001", "academic_year": "2016/17",
                                  "gld": "Y"}}[source]
    table = pd.DataFrame({"child_id": _NHS[:len(values)], **other, column: values})
    path = tmp_path / f"{source}.csv"
    table.to_csv(path, index=False)
    return clean_extract(read_extract(path, source))


def test_good_level_of_development_read_as_school_systems_export_it(tmp_path):
    kept, rejects = _children(tmp_path, "school_readiness", "gld",
                              ["Achieved", "Not Achieved", "1.0", "0", "-1", "N", "Emerging"])
    assert kept["gld"].tolist() == [True, False, True, False, True, False]  # -1: Access's True
    assert rejects[["row", "column", "reason"]].values.tolist() == [[8, "gld", "flag_invalid"]]


def test_a_child_whose_sex_is_not_recorded_is_kept(tmp_path):
    kept, rejects = _children(tmp_path, "child_register", "sex",
                              ["Male", "F", "2", "Not Known", "U", "", "Unicorn"])
    assert kept["sex"].tolist() == ["m", "f", "f", "", "", ""]
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        [8, "sex", "category_unknown"]]


def test_academic_years_written_any_common_way_are_one_cohort(tmp_path):
    kept, rejects = _children(
        tmp_path, "school_readiness", "academic_year",
        ["2016/17", "2016-17", "2016/2017", "201617", "16/17", "2016/18", "Reception"])
    assert kept["academic_year"].tolist() == ["2016/17"] * 5  # once five cohorts of one
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        [7, "academic_year", "year_invalid"], [8, "academic_year", "year_invalid"]]


def test_a_register_sharing_only_the_month_of_birth_is_read(tmp_path):
    """A register that shares month and year of birth (all geo-risk keeps) was rejected
    row by row as incomplete dates, and the run stopped."""
    kept, rejects = _children(tmp_path, "child_register", "date_of_birth",
                              ["2015-03", "03/2015", "Mar-15", "March 2015", "17/03/2015",
                               "2015"])
    assert kept["date_of_birth"].dt.strftime("%Y-%m-%d").tolist() == ["2015-03-01"] * 5
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        [7, "date_of_birth", "date_invalid"]]
