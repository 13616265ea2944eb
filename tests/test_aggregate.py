"""Aggregation to areas and disclosure control: no count 1-7, nothing recoverable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_risk import columns as C
from geo_risk.areas.disclosure import COUNT_COLUMNS, _secondary, aggregate_areas, disclose
from geo_risk.areas.hotspots import EHSA_BEYOND, build_weights
from geo_risk.geography.boundaries import load_boundaries
from geo_risk.synth.checks import hotspot_recovery


def _areas(n_lsoa: int, per: int) -> pd.DataFrame:
    n = n_lsoa * per
    return pd.DataFrame({
        C.LSOA: [f"L{k // per}" for k in range(n)], C.LSOA_NAME: [f"L{k // per}" for k in range(n)],
        C.WARD: [f"W{k // (2 * per)}" for k in range(n)],
        C.WARD_NAME: [f"Ward {k // (2 * per)}" for k in range(n)],
        C.LAD: "D", C.LAD_NAME: "District"},
        index=pd.Index([f"O{k:03d}" for k in range(n)], name=C.OA))


def _scored(areas: pd.DataFrame, kids_per_oa: np.ndarray, rng) -> tuple[pd.DataFrame, ...]:
    oa = np.repeat(areas.index.to_numpy(), kids_per_oa)
    households = pd.DataFrame({"household_key": [f"h{i}" for i in range(len(oa))], C.OA: oa,
                               "flagged": rng.random(len(oa)) < 0.2,
                               "known": rng.random(len(oa)) < 0.3})
    children = pd.DataFrame({"household_key": households["household_key"],
                             "p": rng.uniform(0.05, 0.9, len(oa))})
    return children, households


def test_aggregation_conserves_totals():
    rng = np.random.default_rng(0)
    areas = _areas(4, 5)
    children, households = _scored(areas, rng.integers(0, 40, len(areas)), rng)
    tables = aggregate_areas(children, households, areas)
    assert set(tables) == {"oa", "lsoa", "ward", "district"}
    for level in ["lsoa", "ward", "district"]:
        for column in COUNT_COLUMNS:
            assert tables[level][column].sum() == pytest.approx(tables["oa"][column].sum())
    district = tables["district"].iloc[0]
    assert district["children_under5"] == len(children)
    assert district["expected_not_ready"] == pytest.approx(children["p"].sum())
    assert district["mean_risk"] == pytest.approx(children["p"].mean())


def _recoverable(published: pd.Series, raw_parent_total: pd.Series, groups: pd.Series) -> int:
    """An attacker's try: a group with exactly one withheld cell gives it away as the
    parent's total less the published siblings."""
    found = 0
    for _, cells in published.groupby(groups.to_numpy()):
        if cells.isna().sum() == 1 and len(cells) > 1:
            found += 1
    return found


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=12, max_size=12), st.integers(0, 10_000))
def test_no_published_count_from_1_to_7_and_nothing_recoverable(counts, seed):
    rng = np.random.default_rng(seed)
    areas = _areas(3, 4)
    children, households = _scored(areas, np.array(counts), rng)
    safe, release = disclose(aggregate_areas(children, households, areas), areas)
    for level, table in safe.items():
        for column in COUNT_COLUMNS:
            values = table[column].dropna().astype(int)
            assert not values.between(1, 7).any(), (level, column)
            assert (values % 5 == 0).all()
    for column in COUNT_COLUMNS:
        oa = safe["oa"][column]
        assert _recoverable(oa, safe["lsoa"][column], areas[C.LSOA]) == 0
        withheld = int(oa.isna().sum())
        assert withheld == ((release["level"] == "oa") & (release["column"] == column)).sum()
    hidden = safe["oa"]["children_under5"].isna()
    assert safe["oa"].loc[hidden, "mean_risk"].isna().all()


def test_release_log_carries_no_values():
    rng = np.random.default_rng(3)
    areas = _areas(2, 3)
    children, households = _scored(areas, np.array([3, 12, 20, 0, 9, 40]), rng)
    _, release = disclose(aggregate_areas(children, households, areas), areas)
    assert list(release.columns) == ["level", "area", "column", "reason"]
    first = release[(release["level"] == "oa") & (release["column"] == "children_under5")]
    assert first.set_index("area")["reason"].to_dict() == {"O000": "primary",
                                                           "O001": "secondary"}


def test_secondary_cell_is_the_smallest_other_count_of_its_group():
    raw = np.array([3, 0, 20, 12, 12,   5, 0,   4, 6, 30,   2,   0, 50])
    group = np.array([1, 1, 1, 1, 1,    2, 2,   3, 3, 3,    4,   5, 5])
    primary = (raw >= 1) & (raw <= 7)
    picked = np.flatnonzero(_secondary(primary, raw, group)).tolist()
    # group 1: 12 (the first of two), before 0 and 20; group 2: the zero, the only other;
    # group 3: two primary cells already; group 4: alone; group 5: nothing withheld
    assert picked == [3, 6]


def test_demo_areas_are_published_safely(demo):
    out, summary = demo
    for level in ["oa", "lsoa", "ward", "district"]:
        table = pd.read_csv(out / f"publish/areas/{level}.csv")
        for column in COUNT_COLUMNS:
            values = table[column].dropna()
            assert not values.between(1, 7).any(), (level, column)
            assert (values % 5 == 0).all()
    district = pd.read_csv(out / "publish/areas/district.csv").iloc[0]
    model = summary["model"]
    assert abs(district["flagged_households"] - model["households_flagged"]) <= 2.5
    release = pd.read_csv(out / "publish/areas/release_log.csv")
    assert len(release) == summary["hotspots"]["withheld_cells"] > 0


def test_demo_hotspots(demo):
    out, summary = demo
    h = summary["hotspots"]
    assert h["moran_i"] > 0.3 and h["moran_p"] < 0.001  # risk clusters in space
    assert sum(h["emerging_hot_spots"].values()) == h["areas"] == 572
    assert h["isolates"] == 0 and h["components"] == 1
    table = pd.read_csv(out / "publish/areas/oa_hotspots.csv", index_col=0)
    planted = pd.read_csv(out / "synth/truth/planted_hotspots.csv")
    vange = planted.loc[planted["hotspot"] == "emerging", C.OA]
    assert h["emerging_measure"] == EHSA_BEYOND
    recovery = hotspot_recovery(planted, table, build_weights(load_boundaries()))
    assert recovery == summary["evaluation"]["planted_recovery"]
    for kind, found in recovery.items():  # the acceptance, on the default world
        assert found["recall"] >= 0.8 and found["outside_share"] <= 0.15, (kind, found)
    assert (table.loc[vange, "lisa_quadrant"] == "high-high").mean() > 0.5


def test_the_public_classifier_gives_the_runs_emerging_areas_again(demo):
    """classify_series on a run's saved series, with the run's published settings, gives
    back the emerging areas the run published: the function the held-back worlds are
    scored with is the run's own method."""
    import json

    from geo_risk.areas import classify_series

    out, _ = demo
    series = pd.read_parquet(out / "work/oa_risk_by_refresh.parquet")
    se = pd.read_parquet(out / "work/oa_risk_se_by_refresh.parquet")
    settings = json.loads((out / "publish/run.json").read_text())["hotspots"]["settings"]
    found = classify_series(series, load_boundaries(), se=se, **settings)
    published = pd.read_csv(out / "publish/areas/oa_hotspots.csv", index_col=0)
    assert found["emerging"].sum() >= 20
    assert found["emerging"].equals(published["emerging"].reindex(found.index))
    assert found["ehsa_category"].equals(published["ehsa_category"].reindex(found.index))


@pytest.mark.parametrize("option", [
    {"weights": "rook"}, {"weights": "order:2"}, {"weights": "knn:6"},
    {"weights": "distance:800"}, {"weights": "distance:300:4"},
    {"global_window": "neighbourhood_time_step"}, {"global_window": "individual_time_step"},
    {"fdr": False}, {"time_lag": 2}])
def test_every_hotspot_option_runs_on_the_demo_town(demo, option):
    """Each choice of neighbours and each emerging hot spot option, on the demo's own
    series: the planted emerging hot spot (Vange) is still found emerging, and the
    categories are ArcGIS's."""
    from geo_risk.areas import EHSA_CATEGORIES, classify_series

    out, _ = demo
    series = pd.read_parquet(out / "work/oa_risk_by_refresh.parquet")
    se = pd.read_parquet(out / "work/oa_risk_se_by_refresh.parquet")
    oas = load_boundaries()
    found = classify_series(series, oas, se=se, draws=0, **option)
    assert found["ehsa_category"].isin(EHSA_CATEGORIES).all()
    vange = oas.index[oas[C.WARD_NAME] == "Vange"]
    assert found.loc[vange, "emerging"].mean() >= 0.5, found.loc[vange, "emerging"].mean()


def test_the_planted_rise_is_seen_early_and_few_false_alarms_are_raised(demo):
    """The demo's replay of the run's method refresh by refresh: on the default world the
    rise (from the first refresh) is seen within 4 refreshes, named emerging later, with
    at most one group of false alarms per district per year; the truth and the records
    ceiling are replayed alike."""
    _, summary = demo
    warning = summary["evaluation"]["early_warning"]
    run = warning["run"]
    assert run["refreshes_replayed"] == 14  # refreshes 3 to 16
    assert run["lead"] is not None and run["lead"] <= 4
    assert run["lead_emerging"] is not None and run["lead"] <= run["lead_emerging"] <= 8
    assert run["false_alarms"] <= 1.0
    assert set(warning) == {"run", "ceiling", "truth"}
    assert warning["truth"]["lead"] is not None


def test_hotspots_command_on_a_finished_run(demo, tmp_path):
    """'geo-risk hotspots' finds the hotspots again with other settings and publishes
    them, siting included; the run's own numbers come back with the same settings."""
    import json
    import shutil

    from typer.testing import CliRunner

    from geo_risk.cli import app

    out, summary = demo
    run = tmp_path / "run"
    # the siting's candidates and the planted truth stay; the extracts are not needed
    shutil.copytree(out, run, ignore=shutil.ignore_patterns("pseudonymised", "extracts"))
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run)])
    assert result.exit_code == 0, result.output
    again = json.loads((run / "restricted/run.json").read_text())["hotspots"]
    assert again == summary["hotspots"]  # same settings, same seed: the same answer
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--time-lag", "0",
                                      "--min-trend", "0", "--permutations", "999"])
    assert result.exit_code == 0, result.output
    after = json.loads((run / "restricted/run.json").read_text())
    assert after["hotspots"]["time_lag"] == 0 and after["hotspots"]["permutations"] == 999
    assert after["hotspots"]["min_trend"] == 0
    # the real command leaves the demo's own evaluation as the demo wrote it
    evaluation = json.loads((run / "synth/evaluation.json").read_text())
    assert evaluation["planted_recovery"] == summary["evaluation"]["planted_recovery"]
    assert after["hotspots"]["emerging_hot_spots"] != summary["hotspots"]["emerging_hot_spots"]
    table = pd.read_csv(run / "publish/areas/oa_hotspots.csv", index_col=0)
    assert table["ehsa_category"].value_counts().to_dict() == {
        k: v for k, v in after["hotspots"]["emerging_hot_spots"].items() if v}
    assert after["siting"]["new_sites"]
    assert "Service sites" in (run / "publish/maps/map.html").read_text()
    # neighbours as a GIS team chooses them, recorded and said in the report's method
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--weights", "knn:6",
                                      "--permutations", "999"])
    assert result.exit_code == 0, result.output
    knn = json.loads((run / "restricted/run.json").read_text())["hotspots"]
    assert knn["settings"]["weights"] == "knn:6" and knn["moran_i"] != after["hotspots"][
        "moran_i"]
    assert "with neighbours by the 6 nearest areas" in (run / "publish/index.html").read_text()
    # ArcGIS's global window and no false discovery rate; the neighbours stay the run's own
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--global-window",
                                      "INDIVIDUAL_TIME_STEP", "--no-fdr", "--permutations",
                                      "999"])
    assert result.exit_code == 0, result.output
    windowed = json.loads((run / "restricted/run.json").read_text())["hotspots"]
    assert windowed["settings"] == {**knn["settings"], "global_window": "individual_time_step",
                                    "fdr": False}
    method = " ".join((run / "publish/index.html").read_text().split())
    assert "(ArcGIS's individual time step)" in method
    assert "each test at 5% on its own (no false discovery rate correction)" in method
    assert windowed["gi_star_hot"] > knn["gi_star_hot"]
    bad = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--weights", "hexagons"])
    assert bad.exit_code != 0 and "use one of queen, rook" in bad.output
    assert "Traceback" not in bad.output
    bad = CliRunner().invoke(app, ["hotspots", "--in", str(run), "--global-window", "cube"])
    assert bad.exit_code != 0 and "global window 'cube': use one of entire_cube" in bad.output
    assert "Traceback" not in bad.output
    missing = CliRunner().invoke(app, ["hotspots", "--in", str(tmp_path)])
    assert missing.exit_code == 2 and "not a finished geo-risk run" in missing.output
    # a file damaged since the run (each once an unexpected error): named, and the run
    # left as it was
    for damaged in ["work/oa_risk_by_refresh.parquet", "restricted/run.json"]:
        kept = (run / damaged).read_bytes()
        (run / damaged).write_text("garbage")
        result = CliRunner().invoke(app, ["hotspots", "--in", str(run)])
        assert result.exit_code == 2, result.output
        assert f"{damaged} cannot be read (damaged" in " ".join(result.output.split())
        assert (run / damaged).read_text() == "garbage"
        (run / damaged).write_bytes(kept)
    state = json.loads((run / "work/run_state.json").read_text())
    state["files"]["lookup"] = str(tmp_path / "moved/lookup.csv")  # moved since the run
    (run / "work/run_state.json").write_text(json.dumps(state))
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run)])
    assert result.exit_code == 2 and "moved/lookup.csv are no longer there" in " ".join(
        result.output.split())


@pytest.mark.parametrize(("options", "said"), [
    (["--weights", "rook", "--global-window", "neighbourhood_time_step"],
     ["neighbours by rook contiguity (shared edges)", "(ArcGIS's neighbourhood time step)"]),
    (["--weights", "order:2"], ["neighbours by contiguity up to 2 steps away"]),
    (["--weights", "distance:300:2"],
     ["neighbours by a fixed distance of 300 m between centroids, at least 2 each"]),
])
def test_every_other_choice_runs_on_the_town(demo, tmp_path, options, said):
    """The choices the command test above does not run (rook, higher order, a distance
    band with its minimum, the neighbourhood time step's window) run on the embedded
    town end to end: recorded in run.json, said in the report's method, published."""
    import json
    import shutil

    from typer.testing import CliRunner

    from geo_risk.cli import app

    out, summary = demo
    run = tmp_path / "run"
    shutil.copytree(out, run, ignore=shutil.ignore_patterns("pseudonymised", "extracts"))
    result = CliRunner().invoke(app, ["hotspots", "--in", str(run), *options,
                                      "--permutations", "99"])
    assert result.exit_code == 0, result.output
    settings = json.loads((run / "restricted/run.json").read_text())["hotspots"]["settings"]
    for option, value in zip(options[::2], options[1::2], strict=True):
        assert settings[option.lstrip("-").replace("-", "_")] == value
    method = " ".join((run / "publish/index.html").read_text().split())
    assert all(words in method for words in said), said
    table = pd.read_csv(run / "publish/areas/oa_hotspots.csv", index_col=0)
    assert len(table) == summary["hotspots"]["areas"]
