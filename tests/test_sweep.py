"""Sweeps: the seed plan, parameter parsing, the partitioned dataset, and local == Ray."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.dataset as ds
import pytest

from hanzo.sim.scenario import ScenarioError, load
from hanzo.sim.sweep import parse_params, plan, printed, sweep

SMALL = {"scenario.years": 0.3, "users.max": 20_000, "users.initial": 500}


@pytest.fixture(scope="module")
def scenario():
    return load("baseline").with_overrides(**SMALL)


def test_params_parse_into_a_grid_with_typed_values():
    assert parse_params(["users.growth_per_day=0.005,0.01", "tokenomics.burn_mode=from_reward,on_top"]) == [
        ("users.growth_per_day", [0.005, 0.01]), ("tokenomics.burn_mode", ["from_reward", "on_top"])]


@pytest.mark.parametrize("spec", ["growth=0.1", "users.growth_per_day", "users.growth_per_day="])
def test_malformed_param_is_rejected(spec):
    with pytest.raises(ScenarioError, match="expected TABLE.KEY=V1,V2"):
        parse_params([spec])


def test_bad_value_in_the_grid_fails_before_any_run(scenario, tmp_path):
    with pytest.raises(ScenarioError, match=r"\[users\] growth_per_day: expected a value in \[0, 1\], got 5"):
        sweep(scenario, parse_params(["users.growth_per_day=0.01,5"]), runs=2, out=tmp_path)
    assert not (tmp_path / "runs.csv").exists()


def test_seed_plan_is_reproducible_and_shared_across_points(scenario):
    grid = parse_params(["users.growth_per_day=0.005,0.01"])
    a, b = plan(scenario, grid, 3, 42), plan(scenario, grid, 3, 42)
    assert a == b
    seeds = {(t.point, t.run): t.seed for t in a}
    assert seeds[(0, 1)] == seeds[(1, 1)]  # common random numbers across grid points
    assert len({seeds[(0, r)] for r in range(3)}) == 3
    assert plan(scenario, grid, 3, 43)[0].seed != a[0].seed


def test_sweep_writes_partitioned_dataset_and_quantiles(scenario, tmp_path):
    summary = sweep(scenario, parse_params(["users.growth_per_day=0.005,0.02"]), runs=3, out=tmp_path, workers=2)
    data = ds.dataset(tmp_path / "dataset", format="parquet", partitioning="hive")
    table = data.to_table(columns=["point", "run", "day"]).to_pandas()
    assert sorted(table.groupby(["point", "run"]).size().index.tolist()) == [(p, r) for p in (0, 1) for r in range(3)]
    assert (tmp_path / "fan_charts.png").stat().st_size > 10_000
    runs = pd.read_csv(tmp_path / "runs.csv")
    point = runs[runs.point == 1]
    row = summary[summary.point == 1].iloc[0]
    assert row["burned_mean"] == pytest.approx(point["burned"].mean())
    assert row["hanzo_price_final_q50"] == pytest.approx(point["hanzo_price_final"].median())
    assert row["hanzo_price_final_q05"] <= row["hanzo_price_final_q50"] <= row["hanzo_price_final_q95"]
    # faster growth pays more rewards in every run with the same seed
    by_run = runs.pivot(index="run", columns="point", values="rewards_paid_total")
    assert (by_run[1] > by_run[0]).all()
    # what hanzo sweep prints: every heading with its unit, as the report names units; shares in %
    shown = printed(summary, ["users.growth_per_day"])
    assert list(shown.columns) == [
        "users.growth_per_day (per day)", "runs", *(f"hanzo_price_final_q{q} ($)" for q in ("05", "50", "95")),
        *(f"total_supply_q{q} (HANZO)" for q in ("05", "50", "95")), "burned_mean (HANZO)", "staked_mean (HANZO)",
        "reward_gini_mean (0 to 1)"]
    assert shown["total_supply_q50 (HANZO)"].tolist() == summary["total_supply_q50"].tolist()
    shares = printed(summary.assign(**{"users.sell_share": [0.3, 0.6]}), ["users.sell_share"])
    assert shares["users.sell_share (%)"].tolist() == pytest.approx([30, 60])
    # and summary.csv's units, in sweep.json
    units = json.loads((tmp_path / "sweep.json").read_text())["units"]
    assert units["total_supply_q50"] == units["rewards_paid_total_mean"] == "HANZO"
    assert units["hanzo_price_final_q95"] == "$" and units["users.growth_per_day"] == "per day"
    assert set(pd.read_csv(tmp_path / "summary.csv").columns) - set(units) == {"point", "runs"}


def test_ray_backend_gives_the_same_numbers_as_local(scenario, tmp_path):
    grid = parse_params(["users.growth_per_day=0.005,0.02"])
    sweep(scenario, grid, runs=2, out=tmp_path / "local", workers=2)
    sweep(scenario, grid, runs=2, out=tmp_path / "ray", backend="ray")
    local = pd.read_csv(tmp_path / "local" / "runs.csv")
    ray = pd.read_csv(tmp_path / "ray" / "runs.csv")
    pd.testing.assert_frame_equal(local, ray)
