"""The synthetic town and partner extracts, with the truth that scores every answer.

Its names are imported when first used, so that reading the list of scenarios (as the
command line does on every start) does not load the generator and its libraries.
"""

from importlib import import_module

__all__ = ["Timeline", "World", "make_town", "make_world", "write_world"]

_WHERE = {"Timeline": "population", "World": "world", "make_town": "town",
          "make_world": "world", "write_world": "world"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"geo_risk.synth.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'geo_risk.synth' has no attribute {name!r}")
