"""Issue 17's workflow: keys that would change nothing are refused, errors name the option that
caused them, and figures read with their units and the digits they need."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from hanzo.sim.run import simulate
from hanzo.sim.scenario import SCENARIO_DIR, Scenario, ScenarioError, load
from hanzo.sim.sweep import plan

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
