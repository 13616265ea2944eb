"""Partner extracts to linked households: schemas, identifiers, reading and cleaning
(ingest), keyed pseudonymisation at source, placing addresses by UPRN lookup, linkage, and
the linked records split by district for parallel work; what the community says
(consultations' places, beside the records).

Names are imported when first used, so a partner pseudonymising an extract on its own
machine does not load the geospatial stack that linkage needs.
"""

from __future__ import annotations

import importlib

#: Public name -> the module of this package that defines it.
_WHERE = {
    "PSEUDONYM_COLUMNS": "schemas",
    "SOURCES": "schemas",
    "Column": "schemas",
    "Schema": "schemas",
    "is_valid_nhs_number": "identifiers",
    "nhs_check_digit": "identifiers",
    "valid_nhs_numbers": "identifiers",
    "REASONS": "ingest",
    "REJECT_COLUMNS": "ingest",
    "DuplicateRows": "ingest",
    "Extract": "ingest",
    "clean_extract": "ingest",
    "get_schema": "ingest",
    "iter_extract": "ingest",
    "read_extract": "ingest",
    "UprnLookup": "uprn_lookup",
    "read_uprn_lookup": "uprn_lookup",
    "KEY_BYTES": "pseudonymise",
    "Key": "pseudonymise",
    "make_key": "pseudonymise",
    "pseudonymise_extract": "pseudonymise",
    "pseudonymise_file": "pseudonymise",
    "pseudonymise_files": "pseudonymise",
    "pseudonymise_series": "pseudonymise",
    "read_pseudonymised": "pseudonymise",
    "write_pseudonymised": "pseudonymise",
    "LINK_REPORT_COLUMNS": "link",
    "Linked": "link",
    "key_positions": "link",
    "link_sources": "link",
    "HERE": "parallel",
    "DaskSettings": "parallel",
    "Executor": "parallel",
    "by_district": "parallel",
    "districts": "parallel",
    "executor": "parallel",
    "in_districts": "parallel",
    "Community": "community",
    "read_community": "community",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
