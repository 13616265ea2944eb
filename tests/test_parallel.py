"""The household stages district by district (issue: county in two minutes, partitions on
Dask): the same figures as one process, whether the districts run here or on Dask."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import run_config, write_config

from geo_risk import columns as C
from geo_risk.geography.boundaries import DEFAULT_BOUNDARIES as TOWN
from geo_risk.inputs.link import Linked
from geo_risk.model.features import (
    _area_results,
    _Homes,
    _pair_features,
    build_feature_tables,
    household_features,
)


class Districts:
    """Runs here, but as an executor of two workers does: one item per district."""

    workers = 2

    def __init__(self) -> None:
        self.items: list[int] = []

    def map(self, fn, items):
        self.items.append(len(items))
        return [fn(item) for item in items]

    def peak_memory(self) -> dict:
        return {}


def two_districts(linked: Linked) -> Linked:
    """The town's last five wards made a district of their own."""
    homes = linked.households
    last = homes[C.WARD].isin(sorted(homes[C.WARD].unique())[-5:])
    return replace(linked, households=homes.assign(**{C.LAD: np.where(last, "E2", "E1")}))


def test_features_district_by_district_are_the_whole_runs(messy_linked):
    """Each household's features computed district by district (as every run does when
    there are districts) are those computed for all households at once."""
    linked = two_districts(messy_linked)
    register = linked.events["child_register"]
    pairs = pd.concat([register[["household_key"]].assign(as_of=pd.Timestamp(d))
                       for d in ["2014-06-30", "2014-12-31"]], ignore_index=True)
    pairs = pairs.drop_duplicates().sample(frac=1.0, random_state=0)  # any order
    districts = Districts()
    split = household_features(linked, pairs, run=districts)
    assert districts.items == [2]  # it did split
    whole = _pair_features((linked, pairs), windows=(12, 24))
    pd.testing.assert_frame_equal(split, whole)
    assert split["area_not_gld_3y"].notna().mean() > 0.5
    tables = build_feature_tables(linked, "2014-12-31", run=districts)
    here = build_feature_tables(linked, "2014-12-31")
    pd.testing.assert_frame_equal(tables.children, here.children)
    assert tables.counts == here.counts


def test_each_district_shrinks_to_its_own_share():
    """An output area's results are shrunk towards its own district's share, so a
    district's figures do not depend on its neighbours'."""
    homes = pd.DataFrame({"household_key": ["a", "b", "c"], C.OA: ["E1", "E2", "E3"],
                          C.LAD: ["D1", "D1", "D2"]})
    rows = [("a", "2013/14", False)] * 2 + [("b", "2013/14", True)] * 8 \
        + [("c", "2013/14", False)] * 10
    results = pd.DataFrame(rows, columns=["household_key", "academic_year", "gld"])
    linked = Linked(homes, {"school_readiness": results}, {}, pd.DataFrame(), pd.DataFrame())
    pairs = pd.DataFrame({"household_key": ["a", "c"],
                          "as_of": pd.to_datetime(["2015-01-01", "2015-01-01"])})
    got = _area_results(_Homes.of(linked), pairs, results)
    prior = 20 / 3  # one year of results
    assert got[0] == pytest.approx((2 + prior * 2 / 10) / (2 + prior))  # D1: 2 of 10 not ready
    assert got[1] == pytest.approx((10 + prior * 1.0) / (10 + prior))  # D2: 10 of 10


@pytest.fixture(scope="module")
def two_district_runs(demo, tmp_path_factory):
    """'geo-risk run' on the demo's extracts with the town cut into two districts (three
    refreshes), once in one process and once on two local Dask workers."""
    out, _ = demo
    folder = tmp_path_factory.mktemp("districts")
    lookup = pd.read_csv(TOWN.lookup, dtype=str)
    second = lookup["WD13CD"].isin(sorted(lookup["WD13CD"].unique())[-5:])
    lookup.loc[second, ["LAD11CD", "LAD11NM"]] = ["E07900099", "Northtown"]
    lookup.to_csv(folder / "lookup.csv", index=False)
    runs = {}
    for name, tables in [("here", ""), ("dask", "[dask]\nworkers = 2\n")]:
        config = write_config(folder, out / "synth/extracts", lookup=folder / "lookup.csv",
                              name=name, tables=tables)
        runs[name] = run_config(config, folder / name)
    return runs


def test_a_dask_run_equals_the_single_process_run(two_district_runs):
    here, dask = two_district_runs["here"], two_district_runs["dask"]
    record = json.loads((dask / "restricted/run.json").read_text())
    assert record["workers"]["where"] == "2 local Dask workers"
    peaks = record["workers"]["peak_gib"]
    assert len(peaks) == 2 and all(0 < gib < 4 for gib in peaks.values())
    assert "workers" not in json.loads((dask / "publish/run.json").read_text())
    # the same scores and flags
    for table in ["restricted/household_scores.parquet", "work/oa_risk_by_refresh.parquet"]:
        pd.testing.assert_frame_equal(pd.read_parquet(dask / table),
                                      pd.read_parquet(here / table))
    # the same published files, byte for byte, but for the run's timings
    published = sorted(p.relative_to(here) for p in (here / "publish").rglob("*")
                       if p.is_file())
    assert {p.relative_to(dask) for p in (dask / "publish").rglob("*") if p.is_file()} \
        == set(published)
    differ = [str(p) for p in published if (here / p).read_bytes() != (dask / p).read_bytes()]
    assert set(differ) <= {"publish/run.json", "publish/geo_risk.gpkg"}, differ
    timings = {"seconds", "stage_seconds"}
    summary = [{k: v for k, v in json.loads((run / "publish/run.json").read_text()).items()
                if k not in timings} for run in (here, dask)]
    assert summary[0] == summary[1]
    for layer in pyogrio.list_layers(here / "publish/geo_risk.gpkg")[:, 0]:
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(dask / "publish/geo_risk.gpkg", layer=layer),
            pyogrio.read_dataframe(here / "publish/geo_risk.gpkg", layer=layer))
    # and it ran two districts: both are in the published table
    districts = pd.read_csv(here / "publish/areas/district.csv")
    assert len(districts) == 2
