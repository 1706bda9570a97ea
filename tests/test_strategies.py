"""A strategy per user row (issue 17, item 2): shares and traits from the scenario's [strategies]
table, each strategy one policy over its rows, farmers' and spammers' pay the oracle's measured
ratios, and a user's own policy plugged in by a dotted path (the example in docs/simulator.md)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from hanzo.sim.run import simulate
from hanzo.sim.scenario import SPEC, ScenarioError, load
from hanzo.sim.strategies import ClippedWarning, Decision, Strategy, StrategyError, distribution, register
from hanzo.sim.world import World

# the defaults are the farming benchmark's measured ratios (docs/oracle.md); they flow from the schema
FARMER_PAY, SPAMMER_PAY = SPEC["strategies"]["farmer_pay"][3], SPEC["strategies"]["spammer_pay"][3]
SMALL = {"users.initial": 2_000, "users.max": 20_000, "scenario.years": 1}
MIX = {"strategies.farmer_share": 0.2, "strategies.spammer_share": 0.1, "strategies.holder_share": 0.1,
       "strategies.speculator_share": 0.1}
DOC = Path(__file__).resolve().parents[1] / "docs" / "simulator.md"


def _run(**changes):
    return simulate(load("baseline").with_overrides(**SMALL, **changes)).summary


@pytest.fixture(scope="module")
def mixed():
    return _run(**MIX)


def test_farming_and_spamming_pay_less_than_honest_work_per_interaction_in_the_baseline(mixed):
    s = mixed["strategies"]
    assert mixed["conserved"]
    honest = s["honest"]["hanzo_per_interaction"]
    # the oracle's measured ratios (docs/oracle.md's farming table), paid through the same pool and split
    assert s["farmer"]["hanzo_per_interaction"] / honest == pytest.approx(FARMER_PAY, rel=1e-6)
    assert s["spammer"]["hanzo_per_interaction"] / honest == pytest.approx(SPAMMER_PAY, rel=1e-6)
    assert s["farmer"]["hanzo_per_interaction"] < honest and s["spammer"]["hanzo_per_interaction"] < honest
    # holders and speculators train as honest users do; only what they do with their pay differs
    assert s["holder"]["hanzo_per_interaction"] == pytest.approx(honest, rel=1e-6)
    shares = {k: v["users"] / sum(x["users"] for x in s.values()) for k, v in s.items()}
    assert shares["farmer"] == pytest.approx(0.2, abs=0.02) and shares["honest"] == pytest.approx(0.5, abs=0.02)


def test_earnings_per_hour_of_work_are_a_strategys_pay_for_the_minutes_its_interactions_take(mixed):
    """Issue 17, item 3: what an hour of work earns each strategy, in HANZO and in USD at each day's
    price; twice the minutes an interaction takes halves it, and nothing else moves."""
    minutes = SPEC["strategies"]["minutes_per_interaction"][3]
    slow = _run(**MIX, **{"strategies.minutes_per_interaction": 2 * minutes})
    low, high = mixed["hanzo_price_usd"]["min"], mixed["hanzo_price_usd"]["max"]
    for name, row in mixed["strategies"].items():
        assert row["hours_of_work"] == pytest.approx(row["interactions"] * minutes / 60)
        assert row["hanzo_per_hour"] == pytest.approx(row["hanzo_per_interaction"] * 60 / minutes)
        # each day's pay at that day's price: between the run's lowest and highest
        assert low * row["earned_hanzo"] * (1 - 1e-9) <= row["earned_usd"] <= high * row["earned_hanzo"] * (1 + 1e-9)
        assert row["usd_per_hour"] == pytest.approx(row["earned_usd"] / row["hours_of_work"])
        assert slow["strategies"][name]["usd_per_hour"] == pytest.approx(row["usd_per_hour"] / 2)
        assert slow["strategies"][name]["earned_hanzo"] == row["earned_hanzo"]
    assert mixed["strategies"]["farmer"]["usd_per_hour"] < mixed["strategies"]["honest"]["usd_per_hour"]


def test_all_honest_is_the_population_path_unchanged():
    base = load("baseline").with_overrides(**SMALL)
    assert not World(base).strategies.mixed and "strategies" not in _run()
    assert _run() == _run(**{"strategies.farmer_share": 0.0})


def test_spam_judged_low_quality_is_burned_unpaid_and_word_salad_is_not_worth_its_gas():
    padded = _run(**{"strategies.spammer_share": 0.3})
    half = _run(**{"strategies.spammer_share": 0.3, "strategies.spammer_low_quality": 0.5})
    honest = half["strategies"]["honest"]["hanzo_per_interaction"]
    assert half["strategies"]["spammer"]["hanzo_per_interaction"] / honest == pytest.approx(SPAMMER_PAY * 0.5, rel=1e-6)
    assert half["burned_by_source"]["low_quality"] > 1.5 * padded["burned_by_source"]["low_quality"]
    # word salad (docs/oracle.md: low quality, one interaction burned) never pays, so no spammer sends it
    salad = _run(**{"strategies.spammer_share": 0.3, "strategies.spammer_pay": 0.0,
                    "strategies.spammer_low_quality": 1.0})
    assert salad["strategies"]["spammer"]["interactions"] == 0 and salad["strategies"]["spammer"]["earned_hanzo"] == 0


def test_draws_clipped_to_a_keys_bound_are_counted_warned_once_naming_the_key_and_in_the_summary():
    """A distribution half beyond its key's bound is not what its rows follow: the run says so once,
    naming the key, the bound and the share clipped, and summary.json records the share."""
    rng = np.random.default_rng(0)
    values, below, above = distribution("normal(1, 0.3)", "x", 0.0, 1.0).drawn(rng, 10_000)
    assert below == np.count_nonzero(values == 0.0) and above == np.count_nonzero(values == 1.0)
    assert 0.45 < above / 10_000 < 0.55 and below < 10
    scenario = load("baseline").with_overrides(**SMALL, **{"strategies.holder_share": 0.5,
                                                           "strategies.holder_sell_share": "normal(1, 0.3)"})
    with pytest.warns(ClippedWarning) as caught:
        s = simulate(scenario, years=0.1).summary
    said = [str(w.message) for w in caught if w.category is ClippedWarning]
    assert len(said) == 1, said
    assert re.match(r"\[strategies\] holder_sell_share: (4\d|5\d)\.\d% of [\d,]+ rows drew normal\(1, 0\.3\) "
                    r"above the key's bound 1 and were clipped to it", said[0]), said[0]
    assert list(s["clipped"]) == ["[strategies] holder_sell_share"] and 0.45 < s["clipped"][
        "[strategies] holder_sell_share"] < 0.55


def test_draws_within_their_bounds_warn_nothing_and_the_summary_has_no_clipped_entry():
    scenario = load("baseline").with_overrides(**SMALL, **MIX, **{"strategies.holder_sell_share": "uniform(0, 0.2)"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClippedWarning)
        s = simulate(scenario, years=0.1).summary
    assert "strategies" in s and "clipped" not in s


def test_traits_are_drawn_per_row_from_the_named_distribution():
    world = World(load("baseline").with_overrides(**SMALL, **{"strategies.holder_share": 0.5,
                                                               "strategies.holder_sell_share": "uniform(0, 0.2)"}))
    world.run(3)
    st = world.strategies
    k = st.names.index("holder")
    sell = st.traits[k]["sell_share"][:world.users.rows][st.kind[:world.users.rows] == k]
    assert len(sell) > 500 and 0 <= sell.min() and sell.max() <= 0.2 and sell.std() > 0.04
    rng = np.random.default_rng(0)
    draws = distribution("lognormal(0.68, 0.5)", "x", 0.0, 10.0).draw(rng, 200_000)
    assert draws.mean() == pytest.approx(0.68, rel=0.01) and draws.max() <= 10.0


@pytest.mark.parametrize("changes, message", [
    ({"strategies.farmer_share": 0.7, "strategies.spammer_share": 0.4}, r"\[strategies\] farmer_share \+ .*at most 1"),
    ({"strategies.farmer_share": 0.1, "strategies.farmer_pay": "gamma(1, 2)"},
     r"\[strategies\] farmer_pay: unknown distribution 'gamma'"),
    ({"strategies.farmer_share": 0.1, "strategies.farmer_pay": "uniform(0.5)"},
     r"\[strategies\] farmer_pay: uniform takes 2 numbers"),
    ({"strategies.holder_share": 0.1, "strategies.holder_sell_share": "uniform(0.5, 2)"},
     r"\[strategies\] holder_sell_share: .*expected values in \[0, 1\]"),
    ({"strategies.farmer_pay": 0.5}, r"\[strategies\] farmer_pay: has no effect unless \[strategies\] farmer_share"),
    ({"strategies.custom_policy": "honest"}, r"custom_policy: has no effect unless \[strategies\] custom_share"),
    ({"strategies.custom_share": 0.1}, r"custom_share: expected \[strategies\] custom_policy too"),
    ({"strategies.custom_share": 0.1, "strategies.custom_policy": "no.such.Module"},
     r"custom_policy: 'no.such.Module': cannot import it"),
    ({"strategies.custom_share": 0.1, "strategies.custom_policy": "numpy.ndarray"},
     r"custom_policy: 'numpy.ndarray': expected a subclass of hanzo.sim.strategies.Strategy"),
])
def test_a_bad_strategies_table_is_refused_naming_the_key(changes, message):
    with pytest.raises(ScenarioError, match=message):
        load("baseline").with_overrides(**changes)


@register
class _Overseller(Strategy):
    name = "test_overseller"

    def decide(self, view, rows):
        return Decision(sell=np.full(len(rows), 1.5))


def test_a_policy_that_decides_the_impossible_is_stopped_naming_it():
    scenario = load("baseline").with_overrides(**SMALL, **{"strategies.custom_share": 0.5,
                                                            "strategies.custom_policy": "test_overseller"})
    with pytest.raises(StrategyError, match=r"day 0: strategy 'custom' decided sell outside \[0, 1\]"):
        World(scenario).run(2)


def test_the_documented_plug_in_runs_from_a_dotted_path_and_changes_what_its_rows_do(tmp_path, monkeypatch):
    # the worked example of docs/simulator.md, as a user would save it
    block = re.search(r"```python\n(# my_policies\.py\n.*?)```", DOC.read_text(), re.S).group(1)
    (tmp_path / "my_policies.py").write_text(block)
    monkeypatch.syspath_prepend(str(tmp_path))
    scenario = load("baseline").with_overrides(**SMALL, **{"strategies.custom_share": 0.3,
                                                            "strategies.custom_policy": "my_policies.Quitter"})
    world = World(scenario)
    world.run(scenario.days)
    st, n = world.strategies, world.users.rows
    custom, honest = st.kind[:n] == st.names.index("custom"), st.kind[:n] == st.names.index("honest")
    per_user = {name: st.worked[:n][rows].sum() / rows.sum() for name, rows in (("custom", custom),
                                                                                ("honest", honest))}
    # quitters train at most 60 days of a year, then stop; they sell all they are paid and stake nothing
    assert per_user["custom"] < 0.4 * per_user["honest"]
    stake = world.users.stake[:n]
    assert stake[custom].sum() == 0 and stake[honest].sum() > 0
    patience = st.traits[st.names.index("custom")]["patience"][:n]
    late = custom & (world.users.joined[:n] + patience < scenario.days - 90)
    assert late.sum() > 100  # rows whose patience ran out long ago trained nothing since: the same work a day later
    before = st.worked[:n][late].copy()
    world.env.run(until=scenario.days + 1)
    assert (st.worked[:n][late] == before).all()
    assert world.conserved


def test_the_service_desk_serves_first_come_in_shares_of_offer_and_never_to_the_holder_itself():
    """Chain mode's provider rows (hanzo.sim.onchain.ServiceDesk): what is served is first come, first served up to
    the offer; each provider serves its offer's share of it to the credit, as the World's rows do; a provider's
    own credits go to the others (the contract refuses a self-redemption), and what nobody else has room for
    stays with the holder."""
    from hanzo.sim.onchain import ServiceDesk

    desk = ServiceDesk(np.array([[100, 0], [300, 10]]), ["p0", "p1"])
    wanted = {f"u{i}": [35, 0] for i in range(8)}  # 280 of tier 0 wanted, 400 offered
    wanted["p1"] = [5, 4]  # a provider's own: tier 1's only provider is itself
    plan = desk.plan(wanted)
    assert desk.served[:, 0].tolist() == [71, 214]  # 285 served: 1 : 3, to the credit
    assert plan["p1"] == [(0, [(0, 5)])] and desk.served[1, 1] == 0  # p1's tier-1 credits stay with it
    assert sum(k for g in plan.values() for _, spends in g for _, k in spends) == 285
    assert sum(len(g) for g in plan.values()) <= len(plan) + 1  # one holder's credits split where p0's part ends
    desk = ServiceDesk(np.array([[50, 0]]), ["p0"])
    plan = desk.plan({"a": [30, 0], "b": [30, 0]})  # more wanted than offered: the first comes first
    assert plan == {"a": [(0, [(0, 30)])], "b": [(0, [(0, 20)])]}


def test_split_wei_is_exact_and_in_proportion():
    from hanzo.sim.onchain import split_wei

    parts = split_wei(10**18 + 7, [("a", 1), ("b", 2), ("c", 0), ("d", 3)])
    assert sum(x for _, x in parts) == 10**18 + 7 and [a for a, _ in parts] == ["a", "b", "d"]
    assert all(abs(x - (10**18 + 7) * w // 6) <= 1 for (_, x), w in zip(parts, (1, 2, 3)))
    assert split_wei(5, [("a", 0)]) == [] and split_wei(0, [("a", 1)]) == []


@register
class _Plain(Strategy):
    name = "test_plain"

    def decide(self, view, rows):
        return Decision()  # everything by default: all its usual work, honest pay, the scenario's shares


def test_a_policy_that_decides_nothing_of_its_own_is_an_honest_trainer():
    world = World(load("baseline").with_overrides(**{**SMALL, "scenario.years": 0.2}, **{
        "strategies.custom_share": 0.5, "strategies.custom_policy": "test_plain"}))
    world.run(60)
    st, n = world.strategies, world.users.rows
    earned, stake = world.users.earned[:n], world.users.stake[:n]
    per_work, staked = [], []
    for k in range(2):  # honest, custom
        mine = st.kind[:n] == k
        per_work.append(earned[mine].sum() / st.worked[:n][mine].sum())
        staked.append(stake[mine].sum() / earned[mine].sum())  # a quarter staked, less what is unstaking since
    assert per_work[1] == pytest.approx(per_work[0], rel=1e-6)
    assert staked[1] == pytest.approx(staked[0], rel=0.01) and 0.22 < staked[0] < 0.25


@pytest.mark.parametrize("name, changes", [
    ("boost_staking", {}), ("seed_fees", {}), ("governance_attack", {}),
    ("baseline", {"agents.reservation_usd_per_interaction": 0.001, "agents.churn_per_day": 0.01,
                  "agents.reservation_spread": 0.5}),
])
def test_strategies_keep_the_books_with_boosts_fees_an_attacker_and_churn(name, changes):
    s = simulate(load(name).with_overrides(**SMALL, **MIX, **changes, **{
        "strategies.holder_sell_share": "uniform(0, 0.3)",
        "strategies.farmer_cost_usd_per_interaction": "lognormal(0.001, 1)"})).summary
    honest = s["strategies"]["honest"]["hanzo_per_interaction"]
    assert s["conserved"]
    assert s["strategies"]["farmer"]["hanzo_per_interaction"] / honest == pytest.approx(FARMER_PAY, rel=0.01)


def test_a_wallet_overdraft_names_the_strategy_of_the_agent_that_would_overdraw():
    """The review: with strategies mixed, an overdraft named the agent kind "user" only."""
    from hanzo.sim.ledger import WalletOverdraft

    w = World(load("baseline").with_overrides(**SMALL, **MIX))
    w.run(2)
    n = w.users.rows
    too_much = np.full(n, 10**15, dtype=np.int64)  # a billion HANZO each, in ledger units
    with pytest.raises(WalletOverdraft) as info:
        w.users.pay_parts(w.ledger, [("sell_orders", too_much, "users sell")], None)
    kind = w.strategies.names[w.strategies.kind[info.value.row]]
    assert info.value.kind == f"{kind} user" and f"{kind} user agent(s) would overdraw" in str(info.value)


def test_hanzo_simulate_says_which_traits_draws_were_clipped_in_one_line_each(tmp_path):
    import subprocess
    import sys

    from hanzo.chain.toolchain import ROOT

    shown = subprocess.run([sys.executable, "-m", "hanzo.cli", "simulate", "baseline", "--years", "0.05", "--quiet",
                            "--set", "users.initial=2000", "--set", "users.max=20000",
                            "--set", "strategies.holder_share=0.5",
                            "--set", "strategies.holder_sell_share=normal(1, 0.3)",
                            "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert shown.returncode == 0, shown.stderr
    said = [line for line in shown.stderr.splitlines() if line.startswith("warning: ")]
    assert len(said) == 1 and said[0].startswith("warning: [strategies] holder_sell_share: "), shown.stderr
    assert "above the key's bound 1 and were clipped to it" in said[0]
    assert "<td>clipped.[strategies] holder_sell_share</td><td>" in (tmp_path / "report.html").read_text()
