"""The embedded synthetic town: a valid, nested, deterministic coverage."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo_risk import columns as C
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES, coverage_problems, load_boundaries
from geo_risk.synth.town import WARDS, make_town


@pytest.fixture(scope="module")
def town():
    return make_town(seed=1)


@pytest.mark.parametrize("seed", [1, 7])
def test_coverage_is_valid(seed):
    oas, _ = make_town(seed=seed)
    assert coverage_problems(oas.geometry) == {"invalid": 0, "unmatched_edges": 0, "gaps": 0}
    assert (oas.geom_type == "Polygon").all()


def test_sizes_names_and_codes(town):
    oas, imd = town
    assert 550 <= len(oas) <= 600
    assert sorted(oas[C.WARD_NAME].unique()) == sorted(WARDS)
    assert 100 <= oas[C.LSOA].nunique() <= 120
    assert len(imd) == oas[C.LSOA].nunique()
    assert oas[C.OA].str.fullmatch(r"E00\d{6}").all() and oas[C.OA].is_unique
    assert oas[C.LSOA].str.fullmatch(r"E01\d{6}").all()
    assert oas[C.WARD].str.fullmatch(r"E05\d{6}").all()
    # codes sit outside every range ONS has issued, so they cannot name a real area
    assert (oas[C.OA].str[3:].astype(int) > 900_000).all()


def test_nesting_and_contiguity(town):
    oas, _ = town
    assert (oas.groupby(C.LSOA)[C.WARD].nunique() == 1).all(), "an LSOA spans two wards"
    assert (oas.groupby(C.WARD)[C.WARD_NAME].nunique() == 1).all()
    for level in [C.LSOA, C.WARD]:
        dissolved = oas.dissolve(by=level)
        assert (dissolved.geom_type == "Polygon").all(), f"a {level} is in several pieces"
    union = shapely.union_all(oas.geometry.to_numpy())
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert oas.groupby(C.LSOA).size().between(2, 9).all()


def test_same_seed_same_town_other_seed_other_town(town):
    again, imd_again = make_town(seed=1)
    assert_geodataframe_equal(town[0], again)
    assert town[1].equals(imd_again)
    other, _ = make_town(seed=2)
    assert not np.allclose(other.area.to_numpy()[:50], town[0].area.to_numpy()[:50])


def test_committed_boundaries_match_the_generator(town):
    """geo_risk/geography/data/ is what scripts/make_boundaries.py writes; it must not drift."""
    oas, imd = town
    loaded = load_boundaries(DEFAULT_BOUNDARIES)
    assert list(loaded.index) == list(oas[C.OA])
    fresh = gpd.GeoSeries(oas.geometry.to_numpy(), crs=C.BNG)
    assert shapely.equals_exact(loaded.geometry.to_numpy(), fresh.to_numpy(), tolerance=0.011).all()
    assert (loaded[C.WARD_NAME].to_numpy() == oas[C.WARD_NAME].to_numpy()).all()
    by_lsoa = loaded.groupby(C.LSOA)[C.DEPRIVATION_RANK].first()
    assert (by_lsoa.reindex(imd[C.LSOA]).to_numpy() == imd[C.DEPRIVATION_RANK].to_numpy()).all()


def test_deprivation_follows_basildon_order(town):
    oas, imd = town
    rank = oas.merge(imd, on=C.LSOA).groupby(C.WARD_NAME)[C.DEPRIVATION_RANK].mean()
    assert rank.idxmin() == "Vange"
    assert set(rank.nlargest(3).index) <= {"Billericay West", "Billericay East", "Burstead",
                                           "Wickford Park"}


def test_lookup_file_has_ons_headers():
    header = DEFAULT_BOUNDARIES.lookup.read_text().splitlines()[0]
    assert re.fullmatch(r"OA11CD,LSOA11CD,LSOA11NM,WD13CD,WD13NM,LAD11CD,LAD11NM", header)


def test_a_larger_town_covers_more_ground_not_smaller_areas(town):
    """Four times the output areas: four times the area, output areas of the same size (a
    county-sized town is a county, so a service's reach holds as many areas at any size)."""
    oas, _ = town
    larger, _ = make_town(seed=1, n_oas=4 * len(oas), n_lsoas=440)
    assert coverage_problems(larger.geometry) == {"invalid": 0, "unmatched_edges": 0, "gaps": 0}
    assert larger.area.sum() / oas.area.sum() == pytest.approx(4, rel=0.05)
    assert larger.area.median() / oas.area.median() == pytest.approx(1, rel=0.15)
