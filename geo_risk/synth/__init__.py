"""The synthetic town and partner extracts, with the truth that scores every answer."""

from geo_risk.synth.population import Timeline
from geo_risk.synth.town import make_town
from geo_risk.synth.world import World, make_world, write_world

__all__ = ["Timeline", "World", "make_town", "make_world", "write_world"]
