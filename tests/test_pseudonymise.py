"""Keyed pseudonymisation: deterministic per key, different across keys, and leak-free."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import stat

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_risk.inputs.pseudonymise import (
    Key,
    KeyFileError,
    make_key,
    pseudonymise_extract,
    pseudonymise_file,
    pseudonymise_series,
    read_pseudonymised,
    write_pseudonymised,
)
from geo_risk.synth.extracts import EXTRACTS

keys = st.binary(min_size=32, max_size=64).filter(lambda b: len(set(b)) >= 8).map(Key)
uprns = st.lists(st.integers(1, 999_999_999_999).map(str), min_size=1, max_size=30)


@given(keys, uprns)
def test_deterministic_for_a_key_and_equal_to_hmac(key, values):
    a = pseudonymise_series(pd.Series(values), key, "uprn")
    b = pseudonymise_series(pd.Series(list(reversed(values))), key, "uprn")
    assert a.tolist() == list(reversed(b.tolist()))
    expected = [hmac.new(key.secret, f"uprn:{v}".encode(), hashlib.sha256).hexdigest()[:32]
                for v in values]
    assert a.tolist() == expected


@given(keys, keys, uprns)
def test_different_keys_give_different_pseudonyms(k1, k2, values):
    if k1.secret == k2.secret:
        return
    a = pseudonymise_series(pd.Series(values), k1, "uprn")
    b = pseudonymise_series(pd.Series(values), k2, "uprn")
    assert not set(a) & set(b)


@given(keys, st.integers(1_000_000_000, 9_999_999_999).map(str))
def test_domains_never_collide(key, digits):
    household = pseudonymise_series(pd.Series([digits]), key, "uprn")[0]
    person = pseudonymise_series(pd.Series([digits]), key, "nhs")[0]
    assert household != person and len(household) == 32


def test_a_column_held_in_pieces_is_pseudonymised_whole(test_key):
    import pyarrow as pa

    pieces = pa.chunked_array([["100012345678", "200012345678"], ["100012345678", ""]])
    held = pd.Series(pd.arrays.ArrowStringArray(pieces))  # as pandas holds a long column
    whole = pseudonymise_series(pd.Series(pieces.to_pylist()), test_key, "uprn")
    assert pseudonymise_series(held, test_key, "uprn").tolist() == whole.tolist()


def test_empty_stays_empty_and_large_batches_match(test_key):
    import geo_risk.inputs.pseudonymise as p

    values = pd.Series([str(900_000_000_000 + i) for i in range(3000)] + [""])
    serial = pseudonymise_series(values, test_key, "uprn")
    old = p._PARALLEL_FROM
    p._PARALLEL_FROM = 1000  # force the two-process path
    try:
        parallel = pseudonymise_series(values, test_key, "uprn")
    finally:
        p._PARALLEL_FROM = old
    assert serial.tolist() == parallel.tolist() and serial.iloc[-1] == ""


def test_key_files(tmp_path):
    path = tmp_path / "project.key"
    key = make_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Key.load(path) == key and key.secret.hex() not in repr(key)
    with pytest.raises(KeyFileError, match="already exists; a key is never overwritten"):
        make_key(path)
    def write(name, text):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o600)

    write("short.key", "ab" * 16)
    with pytest.raises(KeyFileError, match="at least 32 random bytes"):
        Key.load(tmp_path / "short.key")
    write("weak.key", "00" * 40)
    with pytest.raises(KeyFileError, match="at least 32 random bytes"):
        Key.load(tmp_path / "weak.key")
    write("text.key", "my secret password")
    with pytest.raises(KeyFileError, match="not a geo-risk key"):
        Key.load(tmp_path / "text.key")
    with pytest.raises(KeyFileError, match="key file not found"):
        Key.load(tmp_path / "none.key")
    # readable by others: refused, as ssh refuses an unprotected private key
    write("open.key", key.secret.hex())
    (tmp_path / "open.key").chmod(0o644)
    with pytest.raises(KeyFileError, match=r"can be read by other users \(permissions 644\)"
                       r".*chmod 600"):
        Key.load(tmp_path / "open.key")


#: Whole numbers of 6+ digits, not digit runs inside a hexadecimal pseudonym (a 32-hex
#: pseudonym can contain a 10-digit run by chance).
_NUMBERS = re.compile(r"(?<![0-9a-fA-F])\d{6,}(?![0-9a-fA-F])")


def _raw_identifiers(messy_dir) -> set[str]:
    """Every raw identifier in the messy extracts, digits only (UPRN, NHS, person ids)."""
    found: set[str] = set()
    for name, columns in EXTRACTS.items():
        encoding = "cp1252" if name in {"child_register", "benefits"} else "utf-8-sig"
        table = pd.read_csv(messy_dir / f"extracts/{name}.csv", dtype=str,
                            keep_default_na=False, encoding=encoding)
        for column in {"uprn", "child_id", "person_id", "incident_id"} & set(columns):
            values = table[column].str.replace(r"\D", "", regex=True)
            found |= set(values[values.str.len() >= 6])
    return found


def test_no_output_holds_a_raw_identifier_or_the_key(messy_dir, messy_pseudonymised, test_key):
    folder, recon = messy_pseudonymised
    raw = _raw_identifiers(messy_dir)
    assert len(raw) > 50_000
    leak = next(iter(raw))
    assert _NUMBERS.findall(f"row,{leak},b589caf2,{leak}f0a") == [leak]  # the scan can see one
    secret_forms = {test_key.secret.hex(), test_key.secret.hex().upper()}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".parquet":
            table, meta = read_pseudonymised(path)
            text = table.astype(str).to_csv(index=False) + str(meta)
            assert test_key.secret not in path.read_bytes()
        else:
            text = path.read_text()
        digit_runs = set(_NUMBERS.findall(text))
        assert not digit_runs & raw, f"{path.name} holds a raw identifier"
        assert not any(s in text for s in secret_forms), f"{path.name} holds the key"
    assert (recon["read"] == recon["kept"] + recon["rejected"]).all()


def test_names_and_postcodes_are_dropped_and_birth_month_kept(messy_dir, test_key, tmp_path):
    result = pseudonymise_extract(messy_dir / "extracts/child_register.csv", "child_register",
                                  test_key)
    assert {"forename", "surname", "child_id", "uprn"}.isdisjoint(result.table.columns)
    assert (result.table["date_of_birth"].dt.day == 1).all()
    write_pseudonymised(result, tmp_path / "cr.parquet")
    _, meta = read_pseudonymised(tmp_path / "cr.parquet")
    assert meta["key_fingerprint"] == test_key.fingerprint
    assert meta["reconciliation"]["read"] == meta["reconciliation"]["kept"] + meta[
        "reconciliation"]["rejected"]
    housing = pseudonymise_extract(messy_dir / "extracts/housing.csv", "housing", test_key)
    assert "postcode" not in housing.table.columns


@pytest.mark.parametrize("source", ["housing", "child_register"])
def test_logs_carry_no_values(messy_dir, test_key, caplog, source):
    raw = _raw_identifiers(messy_dir)
    with caplog.at_level(logging.DEBUG):
        pseudonymise_extract(messy_dir / f"extracts/{source}.csv", source, test_key)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert not set(_NUMBERS.findall(logged)) & raw
    assert test_key.secret.hex() not in logged


def test_the_output_never_overwrites_raw_data(test_key, tmp_path):
    """`geo-risk pseudonymise housing.csv housing.csv` once replaced the raw extract."""
    from geo_risk._errors import GeoRiskError

    raw = tmp_path / "housing.csv"
    raw.write_text("uprn,event_date,event_type\n100012345678,2016-01-05,rent arrears\n")
    before = raw.read_bytes()
    other = tmp_path / "addresses.parquet"
    pd.DataFrame({"uprn": ["100012345678"]}).to_parquet(other)
    for out, message in [(raw, "is written as Parquet"),
                         (other, "was not written by geo-risk pseudonymise")]:
        with pytest.raises(GeoRiskError, match=message):
            pseudonymise_file(raw, "housing", test_key, out)
    same = tmp_path / "housing.parquet"
    pd.DataFrame({"uprn": ["100012345678"], "event_date": ["2016-01-05"],
                  "event_type": ["rent arrears"]}).to_parquet(same)
    with pytest.raises(GeoRiskError, match="would overwrite the extract"):
        pseudonymise_file(same, "housing", test_key, same)
    assert raw.read_bytes() == before
    done = pseudonymise_file(raw, "housing", test_key, tmp_path / "out.parquet")
    assert done["kept"] == 1  # and again over its own output
    assert pseudonymise_file(raw, "housing", test_key, tmp_path / "out.parquet") == done
