"""Keyed pseudonymisation at source: the step each partner runs before sharing.

Identifiers are normalised to one canonical form (see :mod:`geo_risk.inputs.ingest`) and
replaced by HMAC-SHA256 under a secret key held by the data controller, one key per
project. A plain hash would not do: the space of UPRNs or NHS numbers (10^9 to 10^12)
can be enumerated in hours. Pseudonyms are the first 128 bits of the HMAC in hex, with
the identifier's domain mixed in (``uprn:`` for households, ``person:`` for NHS numbers
and partners' person identifiers, ``reference:`` for record references), so a UPRN and
an NHS number with the same digits never collide.

Names and postcodes are dropped; dates of birth are already coarsened to the month. The
output Parquet carries a key fingerprint (an HMAC of a fixed label, which reveals nothing
about the key) so that linkage can tell when partners used different keys.

The key never appears in an output, a log line or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from geo_risk import columns as C
from geo_risk._errors import GeoRiskError, KeyFileError
from geo_risk.cores import local_map
from geo_risk.inputs.ingest import (
    REJECT_COLUMNS,
    DuplicateRows,
    clean_extract,
    get_schema,
    iter_extract,
)
from geo_risk.inputs.schemas import SOURCES
from geo_risk.inputs.uprn_lookup import UprnLookup
from geo_risk.io.escape import write_csv
from geo_risk.io.read import CHUNK_ROWS

__all__ = [
    "KEY_BYTES",
    "Key",
    "make_key",
    "pseudonymise_extract",
    "pseudonymise_file",
    "pseudonymise_files",
    "pseudonymise_series",
    "read_pseudonymised",
    "write_pseudonymised",
]

log = logging.getLogger(__name__)

KEY_BYTES = 32
_DOMAIN = {"uprn": "uprn", "nhs": "person", "person": "person", "reference": "reference"}
_PARALLEL_FROM = 400_000  # distinct identifiers worth two processes


@dataclass(frozen=True)
class Key:
    """A pseudonymisation key. Its ``repr`` never shows the secret."""

    secret: bytes

    def __repr__(self) -> str:
        return f"Key(fingerprint={self.fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        """A public label for the key: the same key gives the same fingerprint."""
        return hmac.new(self.secret, b"geo-risk key fingerprint", hashlib.sha256).hexdigest()[:16]

    @classmethod
    def load(cls, path: Path) -> Key:
        """Read a key file written by :func:`make_key` (hex text of >= 32 random bytes)."""
        path = Path(path)
        if not path.is_file():
            raise KeyFileError(f"{path}: key file not found. Create one with "
                               "'geo-risk keygen KEYFILE' and keep it with the data "
                               "controller.")
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise KeyFileError(
                f"{path}: the key file can be read by other users (permissions "
                f"{mode & 0o777:o}); anyone who reads it can reverse the pseudonyms. Make it "
                f"yours alone with 'chmod 600 {path}' and try again.")
        try:
            secret = bytes.fromhex(path.read_text().strip())
        except ValueError:
            raise KeyFileError(f"{path}: not a geo-risk key (expected hexadecimal text); "
                               "create one with 'geo-risk keygen KEYFILE'.") from None
        if len(secret) < KEY_BYTES or len(set(secret)) < 8:
            raise KeyFileError(f"{path}: the key must be at least {KEY_BYTES} random bytes; "
                               "create one with 'geo-risk keygen KEYFILE'.")
        return cls(secret)


def make_key(path: Path) -> Key:
    """Write a new random key (32 bytes as hex, file mode 600); never overwrites a key.

    Parameters
    ----------
    path : Path
        Where to write the key; nothing may be there yet.

    Returns
    -------
    Key
        The new key.

    Raises
    ------
    KeyFileError
        ``path`` exists already.
    """
    path = Path(path)
    if path.exists():
        raise KeyFileError(f"{path}: already exists; a key is never overwritten (pseudonyms "
                           "made with it would no longer link). Choose another path.")
    key = Key(secrets.token_bytes(KEY_BYTES))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.secret.hex() + "\n")
    return key


def _pads(secret: bytes) -> tuple[bytes, bytes]:
    block = (hashlib.sha256(secret).digest() if len(secret) > 64 else secret).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def _hmac_hex(secret: bytes, prefix: str, values: list[str]) -> bytes:
    """Hex of the first 16 bytes of HMAC-SHA256(key, prefix + value) for each value,
    concatenated (32 ASCII characters per value)."""
    ipad, opad = _pads(secret)
    inner, outer = hashlib.sha256(ipad).copy, hashlib.sha256(opad).copy

    def one(message: bytes) -> bytes:
        i = inner()
        i.update(message)
        o = outer()
        o.update(i.digest())
        return o.digest()

    if not values:
        return b""
    messages = (prefix + ("\n" + prefix).join(values)).encode().split(b"\n")
    digests = np.frombuffer(b"".join([one(m) for m in messages]), dtype=np.uint8)
    return digests.reshape(-1, 32)[:, :16].tobytes().hex().encode("ascii")


def hmac_hex(values: list[str], key: Key, *, prefix: str = "", workers: int | None = None
             ) -> pa.Array:
    """HMAC-SHA256 of ``prefix + value`` under the key, as 32 hex characters (128 bits).

    Equivalent to ``hmac.new(key, (prefix + value).encode(), sha256).hexdigest()[:32]``,
    computed from pre-keyed hash states; large batches use this machine's cores. Values
    must not contain a newline (normalised identifiers never do).

    Examples
    --------
    >>> key = Key(bytes(range(32)))
    >>> hmac_hex(["100012345678"], key, prefix="uprn:")[0].as_py() == hmac.new(
    ...     key.secret, b"uprn:100012345678", hashlib.sha256).hexdigest()[:32]
    True
    """
    n = len(values)
    workers = workers or min(os.cpu_count() or 1, 2)
    if n >= _PARALLEL_FROM and workers > 1:  # a slice a process, forked: the key is not sent
        step = -(-n // (2 * workers))
        hexed = b"".join(local_map(lambda a: _hmac_hex(key.secret, prefix, values[a:a + step]),
                                   range(0, n, step)))
    else:
        hexed = _hmac_hex(key.secret, prefix, values)
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), n, [None, pa.py_buffer(hexed)])
    return fixed.cast(pa.string())


def pseudonymise_series(values: pd.Series, key: Key, kind: str) -> pd.Series:
    """Pseudonyms for normalised identifiers of one kind; empty stays empty.

    Each distinct identifier is hashed once.
    """
    text = values.astype(str)
    array = pa.array(text.array)  # chunked when pandas holds a long column in pieces
    encoded = pc.dictionary_encode(array.combine_chunks() if isinstance(array, pa.ChunkedArray)
                                   else array)
    hashed = hmac_hex(encoded.dictionary.to_pylist(), key, prefix=_DOMAIN[kind] + ":")
    out = pd.Series(pd.arrays.ArrowStringArray(hashed.take(encoded.indices)),
                    index=values.index).astype(str)
    return out.where(text != "", "")


@dataclass
class Pseudonymised:
    """A pseudonymised extract, its rejects and the reconciliation of its rows."""

    source: str
    file: str
    table: pd.DataFrame
    rejects: pd.DataFrame
    encoding: str
    key_fingerprint: str

    @property
    def reconciliation(self) -> dict[str, int | str]:
        read = len(self.table) + len(self.rejects)
        return {"file": self.file, "source": self.source, "read": read,
                "kept": len(self.table), "rejected": len(self.rejects)}


def _parts(path: Path, source: str, key: Key, chunk_rows: int, uprn_area: pd.Series | None
           ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, str]]:
    """The extract read, checked and pseudonymised part by part: (table, rejects,
    encoding); duplicates are found across parts. ``uprn_area`` (normalised UPRN -> OA
    code) adds each address's OA, joined on the raw UPRN before it is pseudonymised."""
    schema = get_schema(source)
    seen = DuplicateRows()
    for extract in iter_extract(path, source, chunk_rows=chunk_rows):
        kept, rejects = clean_extract(extract, seen=seen)
        table = pd.DataFrame({"row": kept["row"]})
        for name, spec in schema.columns.items():
            if name not in kept or spec.kind in {"name", "postcode"}:
                continue
            if spec.pseudonym():
                table[spec.pseudonym()] = pseudonymise_series(kept[name], key, spec.kind)
            else:
                table[name] = kept[name]
        if uprn_area is not None and source == "addresses":
            table[C.OA] = kept["uprn"].map(uprn_area).fillna("").astype(str).to_numpy()
        yield table, rejects, extract.encoding


def pseudonymise_extract(path: Path, source: str, key: Key, *,
                         chunk_rows: int = CHUNK_ROWS) -> Pseudonymised:
    """Read, check, normalise and pseudonymise one partner extract, in memory
    (:func:`pseudonymise_file` writes it out in bounded memory instead).

    Parameters
    ----------
    path
        The partner's raw extract (CSV, XLSX or Parquet).
    source
        Which extract it is (:data:`geo_risk.inputs.schemas.SOURCES`).
    key
        The project key (:meth:`Key.load`).

    Returns
    -------
    Pseudonymised
        ``table`` has ``row`` (the source row), pseudonymised identifier columns
        (``household_key``, ``child_key``, ``person_key``, ``record_key``) and the other
        checked columns; names and postcodes are gone.
    """
    tables, rejects, encodings = zip(*_parts(path, source, key, chunk_rows, None), strict=True)
    return Pseudonymised(source, Path(path).name, pd.concat(tables, ignore_index=True),
                         pd.concat(rejects, ignore_index=True), encodings[0],
                         key.fingerprint)


_ARROW = {"date": pa.timestamp("ns"), "month": pa.timestamp("us"), "flag": pa.bool_(),
          "coord": pa.float64()}


def _arrow_schema(source: str, table: pd.DataFrame) -> pa.Schema:
    """One schema for every part (a column empty in one part is not typed differently)."""
    kinds = {spec.pseudonym() or name: spec.kind
             for name, spec in SOURCES[source].columns.items()}
    return pa.schema([("row", pa.int64())] + [(c, _ARROW.get(kinds.get(c, ""), pa.string()))
                                              for c in table.columns if c != "row"])


class _Writer:
    """Parquet and rejects written part by part, moved into place when complete."""

    def __init__(self, out: Path, source: str, file: str, fingerprint: str) -> None:
        self.out, self.source, self.file = Path(out), source, file
        self.fingerprint = fingerprint
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.out.with_name(self.out.name + ".partial")
        self.rejects = self.out.with_suffix(".rejects.csv")
        self.rejects_partial = self.rejects.with_name(self.rejects.name + ".partial")
        pd.DataFrame(columns=REJECT_COLUMNS).to_csv(self.rejects_partial, index=False)
        self.writer: pq.ParquetWriter | None = None
        self.kept = self.rejected = 0
        self.encoding = "binary"
        self.extra: dict = {}

    def write(self, table: pd.DataFrame, rejects: pd.DataFrame, encoding: str) -> None:
        if self.writer is None:
            self.schema = _arrow_schema(self.source, table)
            self.writer = pq.ParquetWriter(self.partial, self.schema)
        self.writer.write_table(pa.Table.from_pandas(table, schema=self.schema,
                                                     preserve_index=False))
        write_csv(rejects.reindex(columns=REJECT_COLUMNS), self.rejects_partial, mode="a",
                  header=False, index=False)
        self.kept += len(table)
        self.rejected += len(rejects)
        self.encoding = encoding

    @property
    def reconciliation(self) -> dict[str, int | str]:
        return {"file": self.file, "source": self.source, "read": self.kept + self.rejected,
                "kept": self.kept, "rejected": self.rejected}

    def close(self) -> Path:
        meta = {"source": self.source, "key_fingerprint": self.fingerprint,
                "encoding": self.encoding, "reconciliation": self.reconciliation,
                **self.extra}
        assert self.writer is not None, "close() after at least one write()"
        self.writer.add_key_value_metadata({"geo_risk": json.dumps(meta)})
        self.writer.close()
        self.partial.replace(self.out)
        self.rejects_partial.replace(self.rejects)
        return self.rejects


def pseudonymise_file(path: Path, source: str, key: Key, out: Path, *,
                      chunk_rows: int = CHUNK_ROWS, uprn_lookup: UprnLookup | None = None
                      ) -> dict[str, int | str]:
    """:func:`pseudonymise_extract` straight to ``out`` (Parquet, with source, key
    fingerprint and reconciliation in its metadata) and ``<out>.rejects.csv``, a part at
    a time: memory stays bounded whatever the size of the extract. With ``uprn_lookup``
    the addresses extract also carries each UPRN's OA code (see
    :mod:`geo_risk.inputs.uprn_lookup`). Returns the reconciliation (file, source, read, kept,
    rejected). ``out`` must be a ``.parquet`` path that is neither the extract itself nor
    a file geo-risk did not write: a slip of the command line never overwrites raw data.

    Parameters
    ----------
    path : Path
        The partner's raw extract (CSV, XLSX or Parquet).
    source : str
        Which extract it is (:data:`~geo_risk.inputs.schemas.SOURCES`).
    key : Key
        The project key.
    out : Path
        The pseudonymised Parquet file to write.
    chunk_rows : int
        Rows read, checked and written at a time.
    uprn_lookup : UprnLookup, optional
        ONSUD or NSUL, to place the addresses extract's UPRNs in output areas.

    Returns
    -------
    dict
        The reconciliation: ``file``, ``source``, ``read``, ``kept``, ``rejected``.
    """
    _check_out(Path(path), Path(out))
    writer = _Writer(out, source, Path(path).name, key.fingerprint)
    if uprn_lookup is not None and source == "addresses":
        writer.extra = {"uprn_lookup": uprn_lookup.describe(),
                        "uprn_lookup_census": uprn_lookup.census}
    area = uprn_lookup.area if uprn_lookup is not None else None
    for table, rejects, encoding in _parts(path, source, key, chunk_rows, area):
        writer.write(table, rejects, encoding)
    writer.close()
    return writer.reconciliation


def _check_out(path: Path, out: Path) -> None:
    if out.suffix.lower() != ".parquet":
        raise GeoRiskError(f"{out}: a pseudonymised extract is written as Parquet; name the "
                           "output <source>.parquet.")
    written = [out, out.with_suffix(".rejects.csv")]
    if path.exists() and any(w.exists() and w.samefile(path) for w in written):
        raise GeoRiskError(f"{out}: would overwrite the extract {path} itself; write the "
                           "pseudonymised extract to another file.")
    if out.exists():
        try:
            ours = b"geo_risk" in (pq.read_metadata(out).metadata or {})
        except (OSError, pa.ArrowException):
            ours = False
        if not ours:
            raise GeoRiskError(f"{out}: exists and was not written by geo-risk pseudonymise; "
                               "geo-risk does not overwrite it. Choose another output path.")


def pseudonymise_files(jobs: list[tuple[Path, str, Path]], key: Key, *,
                       uprn_lookup: UprnLookup | None = None) -> list[dict[str, int | str]]:
    """:func:`pseudonymise_file` for each ``(path, source, out)``, as the partners would
    each run it: several at a time on this machine's cores, the largest first (the key
    reaches the other processes as forked memory, never through a pipe). Returns the
    reconciliations in the order of ``jobs``.

    Parameters
    ----------
    jobs : list of (Path, str, Path)
        Each extract, its source and its output.
    key : Key
        The project key.
    uprn_lookup : UprnLookup, optional
        As for :func:`pseudonymise_file`.

    Returns
    -------
    list of dict
        Each job's reconciliation, in the order of ``jobs``.
    """
    largest = sorted(range(len(jobs)), key=lambda i: -Path(jobs[i][0]).stat().st_size)

    def one(i: int) -> dict[str, int | str]:
        path, source, out = jobs[i]
        return pseudonymise_file(path, source, key, out, uprn_lookup=uprn_lookup)

    done = dict(zip(largest, local_map(one, largest), strict=True))
    return [done[i] for i in range(len(jobs))]


def write_pseudonymised(result: Pseudonymised, out: Path) -> Path:
    """Write an in-memory result as :func:`pseudonymise_file` does; returns the rejects
    path."""
    writer = _Writer(out, result.source, result.file, result.key_fingerprint)
    writer.write(result.table, result.rejects, result.encoding)
    return writer.close()


def read_pseudonymised(path: Path) -> tuple[pd.DataFrame, dict]:
    """Read a pseudonymised extract and its metadata (source, key fingerprint, counts).

    Parameters
    ----------
    path : Path
        A file :func:`pseudonymise_file` wrote.

    Returns
    -------
    table : DataFrame
        The pseudonymised records.
    meta : dict
        Its source, key fingerprint, encoding and reconciliation.
    """
    table = pq.read_table(path)
    meta = json.loads((pq.read_metadata(path).metadata or {}).get(b"geo_risk", b"{}"))
    if "source" not in meta:
        raise GeoRiskError(f"{path}: not written by 'geo-risk pseudonymise'; pseudonymise the "
                           "partner's extract first (raw extracts are never linked).")
    return table.to_pandas(), meta
