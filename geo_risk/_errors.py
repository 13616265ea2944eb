"""The geo-risk exception family.

Every error says what is wrong, where (file, row, column, layer) and how to fix it.
The CLI prints the message alone, without a traceback, so the message must stand on
its own for a new user.
"""

from __future__ import annotations

__all__ = ["BoundaryError", "CRSError", "GeoRiskError", "SchemaError"]


class GeoRiskError(Exception):
    """Base class: an input or configuration problem the user can fix."""


class SchemaError(GeoRiskError):
    """A file lacks a required column, has the wrong type, or cannot be read."""


class CRSError(GeoRiskError):
    """A layer has no coordinate reference system, or one that cannot be used."""


class BoundaryError(GeoRiskError):
    """Boundaries and lookup disagree, or a geometry is unusable."""
