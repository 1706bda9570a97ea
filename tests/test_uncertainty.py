"""[uncertainty] (issue 17, item 4): off, a run is the deterministic one; on, runs spread by seed, repeat
with it, spread more with more volatility, keep the books, and sweeps show the spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hanzo.sim.run import simulate
from hanzo.sim.scenario import SPEC, ScenarioError, load, parse
from hanzo.sim.sweep import sweep
from hanzo.sim.uncertainty import Demand, draw
from hanzo.sim.world import World

SMALL = {"scenario.years": 0.5, "users.max": 50_000, "users.initial": 1_000}
OFF = {f"uncertainty.{k}": 0.0 for k in SPEC["uncertainty"] if k != "demand_reversion"}


@pytest.fixture(scope="module")
def uncertain():
    return load("uncertain").with_overrides(**SMALL)


def finals(scenario, seeds, column: str) -> np.ndarray:
    return np.array([simulate(scenario, seed=s).series[column].iloc[-1] for s in seeds])


def test_keys_at_zero_leave_the_run_as_it_was():
    baseline = load("baseline").with_overrides(**SMALL)
    zeros = baseline.with_overrides(**OFF)
    world = World(baseline)
    assert world.s is baseline and world.demand is None  # nothing drawn, no demand noise
    # the streams every process drew from before keep their draws (the new one is spawned after them)
    before = np.random.SeedSequence(baseline["scenario"]["seed"]).spawn(8)
    for rng, seq in zip((world.rng_users, world.rng_market, world.rng_agents, world.rng_strategies),
                        (before[0], before[1], before[6], before[7])):
        assert rng.random() == np.random.default_rng(seq).random()
    a, b = simulate(baseline), simulate(zeros)
    assert a.summary == b.summary and "drawn" not in a.summary
    assert a.series.equals(b.series)


def test_uncertain_runs_differ_by_seed_and_repeat_with_it(uncertain):
    one, again, other = simulate(uncertain, seed=1), simulate(uncertain, seed=1), simulate(uncertain, seed=2)
    assert one.summary == again.summary and one.series.equals(again.series)
    assert one.summary["hanzo_price_usd"]["final"] != other.summary["hanzo_price_usd"]["final"]
    assert one.summary["drawn"] != other.summary["drawn"]


# demand's swings show in what compute costs; over half a year they hardly reach the HANZO price (they revert,
# and users' credit buffers even out their purchases), nor does adoption: it shows first in the users
@pytest.mark.parametrize("key, levels, column", [
    ("uncertainty.demand_volatility", (0.0, 0.03, 0.15), "price_hmm_7b"),
    ("uncertainty.growth_spread", (0.0, 0.1, 0.5), "users")])
def test_spread_across_seeds_grows_with_the_key(key, levels, column):
    base = load("baseline").with_overrides(**SMALL)
    spread = [np.std(np.log(finals(base.with_overrides(**{key: x}), range(1, 7), column))) for x in levels]
    assert spread[0] < 1e-3 < spread[1] < spread[2], spread


def test_books_balance_every_day_with_everything_uncertain(uncertain):
    for seed in (1, 2, 3):
        result = simulate(uncertain, seed=seed)
        s, last = result.summary, result.series.iloc[-1]
        assert s["conserved"] and len(result.series) == uncertain.days
        assert last["minted"] - last["burned"] == pytest.approx(last["total_supply"], abs=1e-6)


def test_a_draw_stays_inside_the_scenarios_bounds():
    sc = load("baseline").with_overrides(**{"uncertainty.growth_spread": 3.0, "uncertainty.ceiling_spread": 3.0,
                                            "uncertainty.sell_share_spread": 0.5, "users.initial": 50_000,
                                            "policy.boost_stake_share": 0.1})
    drawn = [draw(sc, np.random.default_rng(seed))["users"] for seed in range(300)]
    sell = np.array([u["sell_share"] for u in drawn])
    assert sell.min() == 0.0 and sell.max() == pytest.approx(1 - 0.25 - 0.1)  # clipped at both ends
    assert min(u["max"] for u in drawn) == 50_000  # never fewer than the users on day 0
    assert max(u["growth_per_day"] for u in drawn) == 1.0  # the key's own bound
    growth = np.array([u["growth_per_day"] for u in drawn])
    assert 0.005 < np.median(growth[growth < 1.0]) < 0.02  # the scenario's 0.01 is the median run's


def test_demand_noise_mean_reverts_with_mean_one():
    volatility, reversion = 0.05, 0.05
    demand = Demand(volatility, reversion, np.random.default_rng(7))
    factor = np.array([demand.factor() for _ in range(200_000)])
    logs = np.log(factor)
    assert factor.mean() == pytest.approx(1.0, abs=0.01)
    assert logs.std() == pytest.approx(volatility / np.sqrt(reversion * (2 - reversion)), rel=0.05)
    assert np.corrcoef(logs[:-1], logs[1:])[0, 1] == pytest.approx(1 - reversion, abs=0.01)


@pytest.mark.parametrize("table, message", [
    ({"demand_volatility": 2.0}, "my.toml: [uncertainty] demand_volatility: expected a value in [0, 1], got 2.0"),
    ({"sell_share_spread": -0.1}, "my.toml: [uncertainty] sell_share_spread: expected a value in [0, 0.5], got -0.1"),
    ({"demand_reversion": 0.2}, "my.toml: [uncertainty] demand_reversion: has no effect unless [uncertainty] "
                                "demand_volatility is set (above 0)"),
])
def test_bad_values_are_refused_naming_the_key(table, message):
    with pytest.raises(ScenarioError) as info:
        parse({"uncertainty": table}, "my.toml")
    assert message in str(info.value)


def test_a_sweep_of_the_uncertain_scenario_has_bands(uncertain, tmp_path):
    summary = sweep(uncertain.with_overrides(**{"scenario.years": 0.3}), [], runs=4, out=tmp_path, workers=2)
    row = summary.iloc[0]
    for figure in ("hanzo_price_final", "total_supply"):
        assert row[f"{figure}_q05"] < row[f"{figure}_q50"] < row[f"{figure}_q95"], figure
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert runs["drawn_growth_per_day"].nunique() == 4  # each run says what it drew
