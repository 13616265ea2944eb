"""The audit trail: who ran which command on which data, kept so that a gap shows.

Every ``geo-risk`` command appends one record to a JSON-lines log: the time (UTC), the
command and its settings, the geo-risk version, the operating-system user, every input
file with its size and SHA-256, the project key's fingerprint (never the key), the outputs
written and how the command ended. Each record carries the SHA-256 of the record before it
(``previous``) and of itself (``hash``), so removing, reordering or editing any record
breaks the chain, and :func:`verify` (``geo-risk audit verify``) says where.

The log lives where the data controller keeps it: ``--audit-log``, the environment
variable ``GEO_RISK_AUDIT_LOG``, or by default ``~/.local/share/geo-risk/audit.jsonl``
(``$XDG_DATA_HOME``). It holds no identifier and no count of people, only file names,
hashes and settings, and is kept when old runs are purged.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from pathlib import Path

from geo_risk._errors import GeoRiskError

__all__ = ["GENESIS", "append", "default_log", "file_digest", "verify"]

#: The ``previous`` of the first record.
GENESIS = "0" * 64


def default_log() -> Path:
    """Where the log is when neither ``--audit-log`` nor ``GEO_RISK_AUDIT_LOG`` says.

    Returns
    -------
    Path
        ``$GEO_RISK_AUDIT_LOG``, else ``geo-risk/audit.jsonl`` under ``$XDG_DATA_HOME``
    (``~/.local/share``).
    """
    if os.environ.get("GEO_RISK_AUDIT_LOG"):
        return Path(os.environ["GEO_RISK_AUDIT_LOG"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share"
    return Path(base) / "geo-risk/audit.jsonl"


def file_digest(path: Path) -> dict:
    """A file's name, size and SHA-256, read in 1 MiB blocks.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    dict
        ``file``, ``bytes`` and ``sha256``.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": Path(path).stat().st_size,
            "sha256": digest.hexdigest()}


def _hash(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def _last_hash(log: Path) -> str:
    if not log.is_file() or log.stat().st_size == 0:
        return GENESIS
    with open(log, "rb") as handle:
        handle.seek(max(0, log.stat().st_size - (1 << 16)))
        lines = handle.read().splitlines()
    last = json.loads(lines[-1]) if lines else {}
    return last.get("hash", GENESIS)


def append(log: Path, *, command: str, settings: dict, inputs: list[dict],
           outputs: list[str], outcome: str, key_fingerprint: str | None,
           version: str) -> dict:
    """Append one record to ``log`` (made if absent, readable only by its owner) and
    return it.

    Parameters
    ----------
    log : Path
        The audit log (JSON lines, each chained to the one before by its SHA-256).
    command, settings, inputs, outputs, outcome
        What ran, with which settings, reading which files (their digests), writing what,
        and how it ended.
    key_fingerprint : str or None
        The project key's fingerprint, never the key.
    version : str
        geo-risk's version.

    Returns
    -------
    dict
        The record as written.
    """
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command, "settings": settings, "geo_risk": version,
        "user": getpass.getuser(), "inputs": inputs, "key_fingerprint": key_fingerprint,
        "outputs": outputs, "outcome": outcome, "previous": _last_hash(log),
    }
    record["hash"] = _hash(record)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
    return record


def verify(log: Path) -> int:
    """Check the chain; return the number of records.
    Parameters
    ----------
    log : Path
        The audit log.

    Returns
    -------
    int
        How many records the intact chain holds.


    Raises
    ------
    GeoRiskError
        Naming the first record (line) that was edited, removed or reordered.
    """
    log = Path(log)
    if not log.is_file():
        raise GeoRiskError(f"{log}: no audit log here; pass --audit-log or set "
                           "GEO_RISK_AUDIT_LOG to where the log is kept.")
    previous = GENESIS
    count = 0
    with open(log, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise GeoRiskError(f"{log}: line {number} is not a JSON record; the log was "
                                   "edited.") from None
            if record.get("previous") != previous:
                raise GeoRiskError(
                    f"{log}: line {number} ({record.get('time', '?')}, "
                    f"{record.get('command', '?')}) does not follow the record before it: a "
                    "record was removed, reordered or edited before it.")
            if record.get("hash") != _hash(record):
                raise GeoRiskError(
                    f"{log}: line {number} ({record.get('time', '?')}, "
                    f"{record.get('command', '?')}) was edited after it was written.")
            previous = record["hash"]
            count += 1
    return count
