"""The geo-risk exception family.

Every error says what is wrong, where (file, row, column, layer or setting) and how to fix
it. The CLI prints the message alone, as one ``error:`` line without a traceback, so the
message must stand on its own for a new user. :class:`GeoRiskError` is a ``ValueError``
(as osmnx's errors are), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["BoundaryError", "CRSError", "ConfigError", "GeoRiskError", "KeyFileError",
           "ModelError", "OutputError", "SchemaError"]


class GeoRiskError(ValueError):
    """Base class: an input or configuration problem the user can fix."""


class SchemaError(GeoRiskError):
    """A file lacks a required column, has the wrong type, or cannot be read."""


class CRSError(GeoRiskError):
    """A layer has no coordinate reference system, or one that cannot be used."""


class BoundaryError(GeoRiskError):
    """Boundaries and lookup disagree, or a geometry is unusable."""


class ConfigError(GeoRiskError):
    """The run configuration is missing something or has a wrong value."""


class KeyFileError(GeoRiskError):
    """The key file is missing, too short, not a key, or readable by others."""


class ModelError(GeoRiskError):
    """The data cannot support the model: too few labelled cohorts, one outcome only."""


class OutputError(GeoRiskError):
    """The output folder cannot be used: a file, not writable, or holding other files."""
