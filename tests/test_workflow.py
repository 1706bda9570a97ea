"""Issue 17's workflow: keys that would change nothing are refused, errors name the option that
caused them, and figures read with their units and the digits they need."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pandas as pd
import pytest

from hanzo.chain.toolchain import ROOT
from hanzo.sim.report import summary_lines
from hanzo.sim.run import simulate, write
from hanzo.sim.scenario import SCENARIO_DIR, Scenario, ScenarioError, builtin, load
from hanzo.sim.sweep import plan
from hanzo.sim.units import figure, significant

# key: (a value, settings that leave it inert, settings that make it act, the switch its refusal names)
CASES = {
    # issue 17: the other venues' walk was accepted and changed nothing without arbitrageurs
    "market.daily_volatility": (0.1, {}, {"market.external_venues": True}, "[market] external_venues"),
    "market.jump_probability": (0.5, {}, {"market.external_venues": True}, "[market] external_venues"),
    "attacker.start_day": (5, {}, {"attacker.enabled": True}, "[attacker] enabled"),
    "attacker.budget_usd": (1e7, {}, {"attacker.enabled": True, "attacker.start_day": 1}, "[attacker] enabled"),
    "compute.shock_factor": (3.0, {}, {"compute.shock_day": 10}, "[compute] shock_day"),
    "policy.training_fee_burn_share": (0.9, {}, {"policy.fine_tuning_fee": 0.0001}, "[policy] fine_tuning_fee"),
    # the baseline's absolute quorum is never reached: a relative one lets proposals pass or fail
    "governance.pass_probability": (0.1, {"governance.proposals_per_month": 0.0},
                                    {"policy.quorum": "relative", "governance.proposals_per_month": 30.0},
                                    "[governance] proposals_per_month"),
    "governance.turnout": (0.9, {"governance.proposals_per_month": 0.0}, {}, "[governance] proposals_per_month"),
}
SHORT = {"scenario.years": 40 / 365, "users.max": 20_000}


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_key_that_acts_only_behind_an_off_switch_is_refused_and_names_the_switch(key):
    value, off, on, switch = CASES[key]
    table, name = key.split(".")
    with pytest.raises(ScenarioError) as info:
        load("baseline").with_overrides(where="--set", **off, **{key: value})
    assert str(info.value).startswith(f"--set: [{table}] {name}: has no effect unless ")
    assert f"{switch} is set" in str(info.value)
    load("baseline").with_overrides(**on, **{key: value})  # with its switch on it is accepted


def _forced(scenario: Scenario, changes: dict) -> Scenario:
    """The scenario with `changes` written past validation: what a run would do if they were accepted."""
    values = copy.deepcopy(scenario.values)
    for dotted, value in changes.items():
        table, key = dotted.split(".")
        values[table][key] = value
    return Scenario(scenario.path, values, scenario.tokenomics, scenario.tokenomics_overrides)


@pytest.mark.parametrize("key", sorted(CASES))
def test_every_refused_key_really_changes_nothing_without_its_switch(key):
    """The reason for the refusal: a 40-day run is the same to the last figure with the key forced
    in; with its switch on (the control), the same value moves something."""
    value, off, on, _ = CASES[key]
    base = load("baseline").with_overrides(**SHORT)
    inert = _forced(base, off)
    # the other venues' price is recorded as drawn (the walk itself): nothing else may move
    recorded = ["external_price_usd"]
    pd.testing.assert_frame_equal(simulate(inert).series.drop(columns=recorded),
                                  simulate(_forced(inert, {key: value})).series.drop(columns=recorded))
    acting = _forced(base, on)
    assert not simulate(acting).series.equals(simulate(_forced(acting, {key: value})).series)


def test_turnout_acts_with_an_attacker_even_without_honest_proposals():
    load("baseline").with_overrides(**{"governance.proposals_per_month": 0.0, "attacker.enabled": True,
                                       "governance.turnout": 0.9})


def test_turning_a_switch_off_on_the_command_line_drops_what_the_file_set_behind_it():
    """`--set attacker.enabled=false` on governance_attack runs it without the attacker (its budget
    and start day, set in the file, go with it); what the same call sets behind an off switch is refused."""
    off = load("governance_attack").with_overrides(where="--set", **{"attacker.enabled": False})
    assert off["attacker"] == {"enabled": False, "start_day": 365, "budget_usd": 2_000_000.0}
    assert off["governance"]["turnout"] == 0.15  # acts with honest proposals: kept
    no_shock = load("demand_shock").with_overrides(**{"compute.shock_day": 0})
    assert no_shock["compute"]["shock_factor"] == 1.0
    with pytest.raises(ScenarioError, match=r"^--set: \[attacker\] budget_usd: has no effect unless"):
        load("governance_attack").with_overrides(where="--set", **{"attacker.enabled": False,
                                                                   "attacker.budget_usd": 5e6})


def test_every_builtin_scenario_still_loads():
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        load(path)


def test_a_bad_value_is_blamed_on_the_option_that_gave_it_not_the_scenario_file():
    baseline = load("baseline")
    with pytest.raises(ScenarioError) as info:
        plan(baseline, [("users.max", [50_000, -5])], runs=1, master_seed=1)
    assert str(info.value) == "--param: [users] max: expected a value in [1, 100000000], got -5"
    with pytest.raises(ScenarioError, match=r"^--seed: \[scenario\] seed: expected"):
        simulate(baseline, seed=-1)
    with pytest.raises(ScenarioError, match=r"^--years: \[scenario\] years: expected"):
        simulate(baseline, years=0)
    # a copy keeps its file's name, so the next option's error does not blame the previous option
    changed = baseline.with_overrides(where="--set", **{"users.max": 50_000})
    assert changed.path == baseline.path
    with pytest.raises(ScenarioError, match=r"^--seed: "):
        simulate(changed, seed=-1)


@pytest.mark.parametrize("key, value, text", [
    # issue 17: a $0.0003 price and $0.004 of gas a user-day read 0.00 with two fixed decimals
    ("hanzo_price_usd.final", 0.0003, "$0.0003"),
    ("costs.gas_usd_per_user_day", 0.004, "$0.004 per user-day"),
    ("compute.HMM-7B.final_price_hanzo_per_credit", 0.00030124, "0.0003012 HANZO per credit"),
    ("hanzo_price_usd.final", 0.0801423, "$0.08014"),
    ("hanzo_price_usd.final", 1.0647, "$1.065"),
    ("costs.gas_usd_per_day", 130.534, "$130.5 per day"),
    ("total_supply", 592_739_494.547, "592,739,495 HANZO"),
    ("burned_by_source.nft_fee", 0.0, "0 HANZO"),
    ("users_final", 274_858, "274,858 users"),
    ("costs.gas_share_of_reward", 0.036071, "3.61%"),
    ("compute.HMM-7B.mean_utilization", 0.80294, "80.3%"),
    ("policy.relative_quorum", 0.04, "4%"),
    ("reward_gini", 0.650394, "0.6504"),
    ("fees.fork_boost_final", 1.25, "x1.25"),
    ("emission_exhausted_day", 2189, "day 2,189"),
    ("emission_exhausted_day", None, "none"),
    ("governance.attack_day", -1, "none"),
    ("seed", 12345, "12345"),
    ("governance.attack", "none", "none"),
])
def test_figures_read_with_their_unit_and_the_digits_they_need(key, value, text):
    assert figure(key, value) == text


def test_significant_digits_never_round_a_small_figure_away():
    assert significant(3.2e-7) == "3.2e-07"
    assert significant(0.000001) == "0.000001"
    assert significant(999.96) == "1,000"
    assert significant(-0.00123456) == "-0.001235"


def test_the_report_shows_rewards_by_year_as_a_table_and_small_figures_with_their_digits(tmp_path):
    result = simulate(load("baseline").with_overrides(**{"scenario.years": 1.5, "users.max": 20_000}))
    result.summary["costs"]["gas_usd_per_user_day"] = 0.0000123  # as on an L2 with cheaper gas
    files = write(result, tmp_path)
    page = files["report"].read_text()
    assert "<td>costs.gas_usd_per_user_day</td><td>$0.0000123 per user-day</td>" in page
    assert ("<tr><th>year</th><th>interactions per day</th><th>rewards paid (HANZO)</th>"
            "<th>paid share of nominal</th></tr>") in page
    years = result.summary["rewards_by_year"]
    assert len(years) == 2
    for row in years:  # a row a year, each figure as the summary table prints it, its unit in the heading
        cells = "".join(f"<td>{c}</td>" for c in (row["year"], significant(row["interactions_per_day"]),
                                                    significant(row["rewards_paid"]),
                                                    figure("x.paid_share_of_nominal", row["paid_share_of_nominal"])))
        assert f"<tr>{cells}</tr>" in page
    assert "[{" not in page and "rewards_by_year" not in page  # no Python repr, no dotted rows
    # summary.json keeps six significant digits of a small figure, not six decimals
    saved = json.loads(files["summary"].read_text())
    assert saved["costs"]["gas_usd_per_user_day"] == 0.0000123
    assert saved["rewards_by_year"][0]["year"] == 1


def _summary(**changes) -> dict:
    """A run's summary with some figures replaced (the CLI's text is a function of the summary)."""
    s = simulate(load("baseline").with_overrides(**{"scenario.years": 20 / 365})).summary
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        d = s
        for part in path:
            d = d[part]
        d[last] = value
    return s


def test_the_cli_summary_prints_units_and_small_prices_with_their_digits():
    s = _summary(**{"hanzo_price_usd.final": 0.0000312, "costs.gas_usd_per_user_day": 0.004})
    lines = summary_lines(s, {"enabled": False})
    text = "\n".join(lines)
    assert lines[0].startswith("baseline: 20 days, seed 1, ")
    assert "   HANZO $0.0000312   reward Gini " in text
    assert f"  HANZO: supply {s['total_supply']:,.0f}   burned {s['burned']:,.0f}   " in text
    assert "  gas $0.004 per user-day against rewards of $" in text
    assert "attack" not in text


def test_the_cli_prints_a_governance_attacks_outcome_whatever_it_was():
    defeated = {"attack": "defeated: deposit burned", "attack_day": 395, "attack_cost_usd": 100_000.0,
                "attacker_hanzo": 1_667_593.2, "treasury_drained": 0.0}
    lines = summary_lines(_summary(**{f"governance.{k}": v for k, v in defeated.items()}), {"enabled": True})
    assert lines[-1] == "  attack defeated: deposit burned on day 395: $100,000 bought 1,667,593 HANZO"
    passed = {**defeated, "attack": "passed: governance captured", "treasury_drained": 4_806_666.7}
    s = _summary(**{f"governance.{k}": v for k, v in passed.items()}, treasury=152_680_306.0)
    assert summary_lines(s, {"enabled": True})[-1] == (
        "  attack passed: governance captured on day 395: $100,000 bought 1,667,593 HANZO; it took 4,806,667 HANZO "
        "of the treasury at the release limit's pace (152,680,306 HANZO left)")


def test_the_cli_says_when_the_attacker_starts_after_the_horizon(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hanzo.cli", "simulate", "governance_attack", "--years", "0.2",
                          "--quiet", "--set", "users.max=20000", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "  attack none: the attacker starts buying on day 365, after the 73 days simulated\n" in out.stdout


def test_hanzo_scenarios_lists_each_built_in_scenario_with_its_line(tmp_path):
    listed = subprocess.run([sys.executable, "-m", "hanzo.cli", "scenarios"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split(maxsplit=1) for line in listed.stdout.splitlines()]
    assert [name for name, _ in rows] == sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    for name, line in rows:  # every built-in scenario says what it is in its own [scenario] description
        assert line == load(name)["scenario"]["description"] and line.strip()
    # a file without a description: its first comment, else a line saying one is missing
    (tmp_path / "a.toml").write_text("#\n# Users double overnight.\n[users]\ninitial = 20000\n")
    (tmp_path / "b.toml").write_text("[users]\ninitial = 20000\n")
    assert builtin(tmp_path) == [("a", "Users double overnight."),
                                 ("b", "(no description: add [scenario] description)")]


def test_a_builtin_scenario_is_found_from_a_folder_holding_a_directory_of_its_name(tmp_path, monkeypatch):
    """`hanzo simulate baseline` run where a folder called baseline exists (an earlier --out) used to
    fail with 'no such scenario file' while listing baseline among the built-in ones."""
    from hanzo.sim.scenario import load

    (tmp_path / "baseline").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load("baseline").path.endswith("baseline.toml")


def test_a_bound_is_printed_as_a_reader_writes_it():
    from hanzo.sim.scenario import ScenarioError, load

    with pytest.raises(ScenarioError, match=r"expected a value in \[0\.00274, 100\], got 0\.001"):
        load("baseline").with_overrides(**{"scenario.years": 0.001})
