"""The family of synthetic worlds: what each changes and what it tests.

:class:`Scenario` holds the few numbers of the latent model
(:mod:`geo_risk.synth.population`) that a scenario changes; :data:`SCENARIOS` names the
family a model or hotspot choice is judged on (``geo-risk synth --scenario NAME``,
``geo-risk demo --scenario NAME``, ``scripts/bench_validity.py``). This module imports
nothing heavy, so the command line can list the names.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AREA_DIRECT", "AREA_ON_HOUSING", "SCENARIOS", "Scenario"]

#: How the planted area effect g acts by default: directly on the child's logit, and on the
#: odds of a household becoming unstably housed.
AREA_DIRECT = 0.6
AREA_ON_HOUSING = 1.5


@dataclass(frozen=True)
class Scenario:
    """What a synthetic world makes the model and the hotspot method cope with.

    The default is the world :mod:`geo_risk.synth.population` describes; each named
    scenario in :data:`SCENARIOS` changes one thing (what it tests is said there).

    Attributes
    ----------
    interaction
        Multiplies the two interaction terms (low income x lone parent, domestic abuse x
        substance misuse): 1 by default, 3 when needs compound strongly.
    deprivation
        ``"convex"`` (``1.1 d^2``, the default) or ``"threshold"``: ``1.4`` in the most
        deprived fifth of England (``d >= 0.8``), nothing elsewhere.
    recording
        Multiplies services' reach: 0.4 leaves most families in need never known.
    neighbourhood
        Standard deviation of an area effect on the logit that no record shows (smooth
        over about 1 km); 0 for none.
    emerging_ward
        ``"deprived"``: the emerging hotspot in Vange, or the most deprived ward;
        ``"middle"``: in a ward of middling deprivation (away from the deprived belt).
    emerging_oas
        The emerging hotspot's size: a cluster of this many OAs, or the whole ward (None).
    emerging_effect
        Its planted effect ``g`` at the last refresh (rising from 0).
    area_direct, area_on_housing
        How ``g`` acts: directly on the child's logit (unrecorded) and on the odds of
        housing instability (which housing records show).
    periods
        Quarterly refreshes from 2014Q1, so the reference date (16: 2017-12-31).
    rise_from
        The refresh (0-based) from which the emerging hotspot's ``g`` rises; flat at 0
        before it. 0: rising from the first refresh.
    emerging_onset
        The quarterly chance, at the emerging hotspot's full ``g``, that a household there
        without domestic abuse (and, separately, without substance misuse) starts it;
        scaled by ``g`` before then. 0: none (traits fixed, as by default).
    onset_reported
        Of the households with such an onset, the shares whose domestic abuse reaches the
        police and whose substance misuse reaches treatment services (the rest leave no
        record of it).
    """

    name: str = "default"
    interaction: float = 1.0
    deprivation: str = "convex"
    recording: float = 1.0
    neighbourhood: float = 0.0
    emerging_ward: str = "deprived"
    emerging_oas: int | None = None
    emerging_effect: float = 1.6
    area_direct: float = AREA_DIRECT
    area_on_housing: float = AREA_ON_HOUSING
    periods: int = 16
    rise_from: int = 0
    emerging_onset: float = 0.0
    onset_reported: tuple[float, float] = (0.55, 0.35)


#: The family of synthetic worlds a model or hotspot choice is judged on, name -> scenario.
SCENARIOS = {
    # the world geo_risk.synth.population describes
    "default": Scenario(),
    # needs that compound: a model must find interactions, not add effects up
    "interactions": Scenario("interactions", interaction=3.0),
    # deprivation acts as a step, not smoothly: the deprivation adjustment must not assume
    # a curve
    "threshold": Scenario("threshold", deprivation="threshold"),
    # services know few families: known/unknown and the known areas of concern thin out
    "low-recording": Scenario("low-recording", recording=0.4),
    # an area effect no record shows: risk clusters where nothing is recorded
    "hidden-neighbourhood": Scenario("hidden-neighbourhood", neighbourhood=0.5),
    # a small emerging hotspot (10 OAs) in a middling ward, acting mostly through what no
    # record shows: the hardest to see rise
    "quiet-hotspot": Scenario("quiet-hotspot", emerging_ward="middle", emerging_oas=10,
                              emerging_effect=1.4, area_direct=1.0, area_on_housing=0.8),
    # a stronger, mid-sized emerging hotspot elsewhere, and an earlier reference date
    # (12 refreshes, ending 2016-12-31)
    "early-elsewhere": Scenario("early-elsewhere", emerging_ward="middle", emerging_oas=18,
                                emerging_effect=2.0, periods=12),
    # the emerging hotspot is already the most deprived, highest-risk ward (deprivation a
    # step), and its rise comes late (over the last 8 of 16 refreshes) and mostly directly,
    # through nothing recorded: a rise on top of a high baseline must still read as
    # emerging, and the deprivation adjustment must not call it cold
    "rise-in-deprived": Scenario("rise-in-deprived", deprivation="threshold",
                                 emerging_effect=1.5, area_direct=1.0, area_on_housing=0.6,
                                 rise_from=8),
    # a rise mostly unrecorded whose recorded part is the onset of household episodes:
    # new domestic abuse (55% reach the police) and substance misuse (35% reach
    # treatment) among the area's households, and housing crises
    "unrecorded-onset": Scenario("unrecorded-onset", emerging_effect=1.3, area_direct=0.9,
                                 area_on_housing=0.8, rise_from=6, emerging_onset=0.03),
}
