"""The simulator: scenario validation, determinism, and the economy's books against the
reference model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hanzo.econ.params import DAY, WEI
from hanzo.econ.reference import emitted_at
from hanzo.chain.toolchain import ROOT
from hanzo.sim.run import simulate, write
from hanzo.sim.scenario import SCENARIO_DIR, ScenarioError, load, parse
from hanzo.sim.world import World, gini

SHORT = {"scenario.years": 1.0, "users.max": 50_000, "users.initial": 1_000}


@pytest.fixture(scope="module")
def baseline_year():
    return simulate(load("baseline").with_overrides(**SHORT))


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_builtin_scenario_loads_and_runs_a_month(path):
    result = simulate(load(path).with_overrides(**{"scenario.years": 30 / 365}))
    assert len(result.series) == 30
    assert result.summary["total_supply"] > 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"usres": {}}, "unknown table [usres]"),
        ({"users": {"grwoth_per_day": 0.1}}, "[users] unknown key 'grwoth_per_day'"),
        ({"users": {"initial": "many"}}, "[users] initial: expected an integer, got 'many'"),
        ({"users": {"initial": 1.5}}, "[users] initial: expected an integer, got 1.5"),
        ({"users": {"growth_per_day": 2.0}}, "[users] growth_per_day: expected a value in [0, 1], got 2.0"),
        ({"scenario": {"controller": "pid"}}, "[scenario] controller: expected one of leapfrog, eip1559"),
        ({"attacker": {"enabled": "yes"}}, "[attacker] enabled: expected true or false"),
        ({"users": {"initial": 10, "max": 5}}, "[users] initial: expected at most [users] max (5)"),
        ({"compute": {"tier_mix": "0.5,0.5"}}, "tier_mix: expected three non-negative shares summing to 1"),
        ({"tokenomics": {"burn_mode": "sideways"}}, "[tokenomics]: burn_mode: expected one of from_reward, on_top"),
        ({"tokenomics": {"max_suply": 1}}, "[tokenomics]: unknown key 'max_suply'"),
        ({"users": 3}, "[users] must be a table"),
    ],
)
def test_invalid_scenario_names_file_table_key_and_expectation(data, message):
    with pytest.raises(ScenarioError) as info:
        parse(data, "my.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("my.toml")


def test_missing_scenario_lists_the_builtin_ones():
    with pytest.raises(ScenarioError, match="built-in scenarios: .*baseline"):
        load("no_such_scenario")


def test_same_seed_same_results_other_seed_other_results():
    scenario = load("baseline").with_overrides(**SHORT)
    a, b = simulate(scenario), simulate(scenario)
    c = simulate(scenario, seed=99)
    assert a.summary == b.summary
    assert a.series.equals(b.series)
    assert not a.series["hanzo_price_usd"].equals(c.series["hanzo_price_usd"])


def test_written_files_are_byte_identical_for_the_same_seed(tmp_path):
    scenario = load("baseline").with_overrides(**{"scenario.years": 0.25, "users.max": 20_000})
    first = write(simulate(scenario), tmp_path / "a")
    second = write(simulate(scenario), tmp_path / "b")
    for key in ("series", "summary", "report", "plot_supply", "plot_price"):
        assert first[key].read_bytes() == second[key].read_bytes(), key
    html = first["report"].read_text()
    assert "data:image/png;base64," in html and "emission_mode" in html


def test_emission_follows_the_reference_schedule_and_stops_at_the_pools(params):
    scenario = load("baseline").with_overrides(**{"scenario.years": 7.0, "users.max": 10_000, "users.initial": 100})
    result = simulate(scenario)
    series = result.series
    for day in (0, 364, 1459, 1460, 2000, 2554):
        assert series.loc[day, "emitted"] == pytest.approx(emitted_at(params, (day + 1) * DAY) / WEI, rel=1e-12)
    assert result.summary["emission_exhausted_day"] == 6 * 365 - 1
    assert series["emitted"].max() == pytest.approx(params.pool_total / WEI)
    assert (series["minted"] <= params.token_cap / WEI * (1 + 1e-12)).all()


def test_books_balance_minted_less_burned_is_supply(baseline_year):
    s = baseline_year.series
    assert np.allclose(s["minted"] - s["burned"], s["total_supply"])
    parts = s[[c for c in s.columns if c.startswith("burned_")]].sum(axis=1)
    assert np.allclose(parts, s["burned"])
    assert (s["burned"].diff().dropna() >= -1e-6).all()


@pytest.mark.parametrize("mode, ratio", [("from_reward", 1 / 9), ("on_top", 1 / 10)])
def test_training_burn_is_ten_percent_of_reward_in_both_modes(mode, ratio):
    scenario = load("baseline").with_overrides(**SHORT, **{"tokenomics.burn_mode": mode})
    world = World(scenario)
    world.run(60)
    paid = sum(r["rewards_paid"] for r in world.rows)
    assert world.ledger["burned_training"] / paid == pytest.approx(ratio, rel=1e-9)


def test_inflation_mode_mints_all_genesis_and_emits_on_top(params):
    result = simulate(load("inflation_mode").with_overrides(**SHORT))
    first = result.series.iloc[0]
    assert first["minted"] - first["emitted"] == pytest.approx(params.max_supply / WEI)
    assert result.summary["minted"] > params.max_supply / WEI


@pytest.mark.parametrize("budget, outcome", [(50_000_000.0, "passed"), (1_000.0, "could not propose")])
def test_governance_attack_succeeds_only_with_enough_stake(budget, outcome):
    scenario = load("governance_attack").with_overrides(**{"scenario.years": 1.2, "attacker.start_day": 60,
                                                            "attacker.budget_usd": budget, "users.max": 50_000})
    result = simulate(scenario)
    assert result.summary["governance"]["attack"].startswith(outcome)
    if outcome == "passed":
        # the captured governance takes what HanzoTreasury's bucket lets out, not the treasury
        from hanzo.econ.treasury import max_take

        p = scenario.tokenomics
        drained = result.summary["governance"]["treasury_drained"]
        days = 1.2 * 365 - (60 + 30 + (p.voting_delay + p.voting_period) // 86_400)
        assert p.treasury_release_limit / 1e18 < drained <= max_take(p, int(days) * 86_400) / 1e18 + 1


def test_gini_of_equal_and_concentrated_rewards():
    assert gini(np.ones(1000)) == pytest.approx(0.0, abs=1e-12)
    assert gini(np.r_[np.zeros(999), 1.0]) == pytest.approx(0.999, abs=1e-9)
    assert 0.3 < gini(np.random.default_rng(1).lognormal(0, 1, 10_000)) < 0.6


def test_cli_simulate_writes_report_and_rejects_bad_input(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "hanzo.cli", "simulate", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT, timeout=300)
    ok = run("baseline", "--years", "0.2", "--quiet", "--out", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["days"] == 73
    assert (tmp_path / "report.html").is_file() and (tmp_path / "series.parquet").is_file()
    assert "No what-if or agent response is on" in (tmp_path / "report.html").read_text()
    page = (tmp_path / "report.html").read_text()
    price = json.loads((tmp_path / "summary.json").read_text())["hanzo_price_usd"]["final"]
    assert f"<td>hanzo_price_usd.final</td><td>${price:.4g}</td>" in page  # units, and digits a price needs
    assert "[{" not in page and "<th>rewards paid (HANZO)</th>" in page  # a table, a row a year, not a repr
    paced = run("reward_pacing", "--years", "0.1", "--quiet", "--out", str(tmp_path / "paced"))
    assert paced.returncode == 0, paced.stderr
    assert "Scenario: reward_pacing" in (tmp_path / "paced" / "report.html").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text("[users]\ngrowth_per_day = -1\n")
    err = run(str(bad), "--quiet")
    assert err.returncode == 1
    assert err.stderr.strip() == f"error: {bad}: [users] growth_per_day: expected a value in [0, 1], got -1"


def test_the_benchmarks_radcad_models_record_the_same_history_as_the_aggregate_model(monkeypatch):
    """benchmarks/sim.py compares speeds only if the models agree: every variable, every day."""
    import importlib.util
    import sys

    from hanzo.chain.toolchain import ROOT

    spec = importlib.util.spec_from_file_location("bench_sim", ROOT / "benchmarks" / "sim.py")
    bench = importlib.util.module_from_spec(spec)  # benchmarks/sim.py (the name `sim` is the simulator's)
    monkeypatch.setitem(sys.modules, "bench_sim", bench)  # (its dataclasses look their module up there)
    spec.loader.exec_module(bench)

    class Box:
        def put(self, value):
            self.value = value

    out = {}
    for name, fn, args in (("ours", bench.ours, ()), ("tuned", bench.radcad, ("tuned",)),
                           ("array", bench.radcad, ("array",))):
        box = Box()
        fn(3, 200, *args, box)
        out[name] = box.value
    assert out["ours"]["digest"] == out["tuned"]["digest"] == out["array"]["digest"]
    assert out["tuned"]["settings"] == {"engine_attached": True, "backend": "SINGLE_PROCESS", "deepcopy": False,
                                        "drop_substeps": True}


def test_cli_lists_the_built_in_scenarios_and_overrides_keys_with_set(tmp_path):
    """Issue 17's workflow: `hanzo scenarios` lists every built-in scenario with its line;
    `simulate --set TABLE.KEY=VALUE` overrides a key (a bad one is blamed on --set, not the file);
    a governance attack's outcome is printed."""
    from hanzo.sim.scenario import SCENARIO_DIR

    run = lambda *a: subprocess.run([sys.executable, "-m", "hanzo.cli", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT, timeout=300)
    listed = run("scenarios")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    assert all(len(line.split(maxsplit=1)) == 2 for line in listed.stdout.splitlines())  # each has its line
    ok = run("simulate", "governance_attack", "--years", "0.5", "--quiet", "--out", str(tmp_path),
             "--set", "users.max=50000", "--set", "attacker.start_day=30", "--set", "attacker.budget_usd=5e7")
    assert ok.returncode == 0, ok.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["users_final"] <= 50_000
    assert f"attack {summary['governance']['attack']} on day" in ok.stdout
    assert summary["governance"]["attack"].startswith("passed")
    bad = run("simulate", "baseline", "--quiet", "--set", "users.max=-5", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: --set: [users] max: expected a value in [1, 100000000], got -5"
    shape = run("simulate", "baseline", "--quiet", "--set", "usersmax", "--out", str(tmp_path / "bad"))
    assert shape.returncode == 1 and "expected TABLE.KEY=VALUE" in shape.stderr
    # a chain run's horizon is --days or --years, not both; --days means nothing to the World
    both = run("simulate", "baseline", "--chain", "--days", "3", "--years", "1", "--quiet")
    assert both.returncode == 1 and both.stderr.strip() == "error: --days and --years: give one (a chain run's horizon)"
    world_days = run("simulate", "baseline", "--days", "3", "--quiet")
    assert world_days.returncode == 1 and "--days: only with --chain" in world_days.stderr
    long = run("simulate", "baseline", "--chain", "--years", "11", "--quiet")
    assert long.returncode == 1 and "expected 1 to 3650 days on chain, got 4015" in long.stderr
