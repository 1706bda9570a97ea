"""Review of issue 17 (agents, strategies, workflow): each test fails without the fix it names."""

from __future__ import annotations

import os
import subprocess
import sys

from hanzo.chain.toolchain import ROOT

SMALL = ["--set", "users.initial=2000", "--set", "users.max=20000"]


def test_a_policy_that_decides_the_impossible_stops_the_cli_with_one_line_not_a_traceback(tmp_path):
    (tmp_path / "greedy_policies.py").write_text(
        "from hanzo.sim.strategies import Decision, Strategy\n\n\n"
        "class Overseller(Strategy):\n"
        "    def decide(self, view, rows):\n"
        "        return Decision(sell=1.5)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    out = subprocess.run([sys.executable, "-m", "hanzo.cli", "simulate", "baseline", "--years", "0.02", "--quiet",
                          *SMALL, "--set", "strategies.custom_share=0.2",
                          "--set", "strategies.custom_policy=greedy_policies.Overseller", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert out.returncode == 1
    assert out.stderr == "error: day 0: strategy 'custom' decided sell outside [0, 1]\n"
    assert "Traceback" not in out.stderr


# ---------------------------------------------------------------- a strategy is paid at most what the contract pays

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hanzo.sim.scenario import ScenarioError, load  # noqa: E402
from hanzo.sim.strategies import Decision, Strategy, StrategyError, register  # noqa: E402
from hanzo.sim.world import World  # noqa: E402

WORLD = {"users.initial": 2_000, "users.max": 20_000}


@register
class _PaidAHundredfold(Strategy):
    name = "test_paid_a_hundredfold"

    def decide(self, view, rows):
        return Decision(pay=np.full(len(rows), 100.0))


def test_a_policy_cannot_be_paid_more_than_the_contracts_highest_multiplier_against_honest_work():
    # TrainingRewards pays an interaction at most max_multiplier (10) x the reward; honest work earns its mean
    # multiplier (3): a strategy claiming 100x honest pay drained the pool at 100x before
    scenario = load("baseline").with_overrides(**WORLD, **{"strategies.custom_share": 0.2,
                                                            "strategies.custom_policy": "test_paid_a_hundredfold"})
    with pytest.raises(StrategyError, match=r"day 0: strategy 'custom' decided pay outside \[0, 3\.333\]"):
        World(scenario).run(2)


@pytest.mark.parametrize("changes", [
    {"strategies.farmer_share": 0.1, "strategies.farmer_pay": 5.0},
    {"strategies.spammer_share": 0.1, "strategies.spammer_pay": "uniform(0, 4)"},
    {"strategies.farmer_share": 0.1, "users.mean_multiplier": 10.0, "strategies.farmer_pay": 1.5},
])
def test_a_farmers_or_spammers_pay_above_the_contracts_limit_is_refused_naming_the_key(changes):
    with pytest.raises(ScenarioError, match=r"\[strategies\] (farmer|spammer)_pay: .*expected values in \[0, "
                                            r".*max_multiplier"):
        load("baseline").with_overrides(**changes)


def test_a_pay_drawn_from_a_wide_distribution_is_clipped_at_the_contracts_limit():
    scenario = load("baseline").with_overrides(**WORLD, **{"scenario.years": 0.05, "strategies.farmer_share": 0.5,
                                                            "strategies.farmer_pay": "normal(2, 3)"})
    w = World(scenario)
    w.run(scenario.days)
    st, n = w.strategies, w.users.rows
    pay = st.traits[st.names.index("farmer")]["pay"][:n][st.kind[:n] == st.names.index("farmer")]
    assert pay.max() == pytest.approx(10 / 3) and pay.min() == 0.0
    assert w.conserved


def test_the_report_names_the_strategies_a_run_turned_on(tmp_path):
    # a run with 30% farmers and a custom policy said "No what-if or agent response is on: the contracts' rules and
    # fixed shares" before: the [strategies] table was not among those the report lists
    from hanzo.sim.run import simulate, write

    scenario = load("baseline").with_overrides(**WORLD, **{"scenario.years": 0.02, "strategies.farmer_share": 0.3,
                                                            "strategies.farmer_pay": "uniform(0.4, 0.6)"})
    write(simulate(scenario), tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "No what-if or agent response is on" not in page
    assert "[strategies] farmer_share = 0.3" in page and "[strategies] farmer_pay = uniform(0.4, 0.6)" in page


@pytest.mark.parametrize("key, value, text", [
    ("strategies.farmer.earned_hanzo", 1432990.4, "1,432,990 HANZO"),
    ("strategies.farmer.hanzo_per_interaction", 0.0109471, "0.01095 HANZO per interaction"),
    ("strategies.farmer.interactions", 130905342.2, "130,905,342 interactions"),
])
def test_each_strategys_figures_carry_their_unit(key, value, text):
    from hanzo.sim.units import figure

    assert figure(key, value) == text


@register
class _Idle(Strategy):
    name = "test_idle"

    def decide(self, view, rows):
        return Decision(work=0.0)


def test_users_who_do_not_train_submit_no_training_op_and_pay_no_gas():
    # gas was counted for every active user, so rows that made no interaction (idle policies, providers, farmers
    # whose cost beats their pay) were charged an op a day: the same gas per user-day as if all trained
    from hanzo.sim.run import simulate

    base = {**WORLD, "scenario.years": 0.1}
    honest = simulate(load("baseline").with_overrides(**base)).summary["costs"]
    idle = simulate(load("baseline").with_overrides(**base, **{"strategies.custom_share": 0.5,
                                                               "strategies.custom_policy": "test_idle"})).summary
    assert honest["gas_usd_per_user_day"] == pytest.approx(50_602 * 0.01e-9 * 3000)  # an op per user a day
    share_training = idle["strategies"]["honest"]["users"] / idle["users_final"]
    assert 0.4 < share_training < 0.6
    assert idle["costs"]["gas_usd_per_user_day"] == pytest.approx(
        honest["gas_usd_per_user_day"] * share_training, rel=0.05)


@pytest.mark.parametrize("name, changes, key", [
    ("baseline", {"policy.quorum": "relative"}, r"\[policy\] quorum"),  # HanzoGovernor's quorum is absolute
])
def test_chain_mode_refuses_what_only_the_world_models(name, changes, key):
    # `hanzo simulate governance_attack --chain` ran without any attacker and said nothing of it
    from hanzo.sim.onchain import run_on_chain

    scenario = load(name).with_overrides(**changes) if changes else load(name)
    with pytest.raises(ScenarioError, match=key + r": .* in the World only, so --chain refuses it"):
        run_on_chain(scenario, days=1)


@pytest.mark.parametrize("policy", ["farmer", "spammer", "holder", "speculator", "provider", "voter",
                                    "hanzo.sim.strategies.Farmer"])
def test_a_built_in_strategy_named_as_the_custom_policy_is_refused_naming_its_share(policy):
    # as the custom strategy it had no traits (a KeyError traceback on day 0) or, a provider, no share (its rows
    # idled, a division by zero)
    with pytest.raises(ScenarioError, match=r"\[strategies\] custom_policy: .* is a built-in strategy: set "
                                            r"\[strategies\] \w+_share"):
        load("baseline").with_overrides(**{"strategies.custom_share": 0.1, "strategies.custom_policy": policy})


def test_honest_named_as_the_custom_policy_still_runs():
    scenario = load("baseline").with_overrides(**WORLD, **{"scenario.years": 0.02, "strategies.custom_share": 0.1,
                                                            "strategies.custom_policy": "honest"})
    w = World(scenario)
    w.run(scenario.days)
    assert w.conserved


def test_a_holders_fixed_sell_and_stake_shares_over_one_are_refused_as_the_users_are():
    # 0.8 sold and 0.8 staked was accepted and every holder silently sold 0.2
    with pytest.raises(ScenarioError, match=r"\[strategies\] holder_sell_share \+ holder_stake_share \+ \[policy\] "
                                            r"boost_stake_share: expected at most 1 .* got 1\.6"):
        load("baseline").with_overrides(**{"strategies.holder_share": 0.1, "strategies.holder_sell_share": 0.8,
                                           "strategies.holder_stake_share": 0.8})
    load("baseline").with_overrides(**{"strategies.holder_share": 0.1, "strategies.holder_sell_share": 0.5,
                                       "strategies.holder_stake_share": 0.5})  # all of it: fine
    load("baseline").with_overrides(**{"strategies.holder_share": 0.1,  # draws: each row capped as documented
                                       "strategies.holder_sell_share": "uniform(0, 1)",
                                       "strategies.holder_stake_share": "uniform(0, 1)"})
