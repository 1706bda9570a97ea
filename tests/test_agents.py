"""Issue 10, part 2: agents that respond to incentives, each one policy shared by the World and
chain mode. The policies on their own first, then what they do to the economy."""

from __future__ import annotations

import inspect

import pytest

from hanzo.sim import agents, compute, exchange, governance, issuance, onchain, training, users, world
from hanzo.sim.agents import Adopters, Holders, Providers, Spammers, Trainers, View
from hanzo.sim.run import simulate
from hanzo.sim.scenario import load


def view(reward_usd=0.01, price=1.0, price_30d=1.0, income=0.0, gas_usd=0.001) -> View:
    return View(1, price, price_30d, reward_usd / price, income, gas_usd)


def test_trainers_train_less_only_below_their_reservation_wage():
    t = Trainers(reservation_usd=0.01, elasticity=2.0)
    assert t.decide(view(0.02)) == 1.0 and t.decide(view(0.01)) == 1.0
    assert t.decide(view(0.005)) == pytest.approx(0.25)
    assert t.decide(view(0.0)) == 0.0
    assert Trainers(0.0, 2.0).decide(view(0.0)) == 1.0  # no reservation: no response


def test_adopters_slow_down_and_churn_as_pay_falls():
    a = Adopters(growth_per_day=0.01, reservation_usd=0.01, elasticity=1.0, churn_per_day=0.02)
    assert a.decide(view(0.01)) == (0.01, 0.0)
    growth, churn = a.decide(view(0.0025))
    assert growth == pytest.approx(0.0025) and churn == pytest.approx(0.015)


def test_holders_sell_more_after_a_fall_and_never_more_than_they_earn():
    h = Holders(sell_share=0.5, stake_share=0.25, momentum_response=2.0)
    flat, fall, rise = (h.decide(view(price=p1, price_30d=1.0)) for p1 in (1.0, 0.5, 2.0))
    assert flat == (0.5, 0.25)
    assert fall[0] > 0.5 > rise[0]
    assert fall[1] < 0.25 < rise[1]
    for sell, stake in (fall, rise, h.decide(view(price=0.01, price_30d=1.0))):
        assert 0 <= sell <= 1 and 0 <= stake and sell + stake <= 1 + 1e-12


def test_spammers_spam_only_while_junk_pays_more_than_its_gas():
    s = Spammers(base_share=0.1, leak=0.1, max_share=0.5)
    assert s.decide(view(reward_usd=0.01, gas_usd=0.01)) == 0.1  # pays 0.001 a junk op, gas 0.01
    assert s.decide(view(reward_usd=0.01, gas_usd=0.0001)) == pytest.approx(0.5)  # 10x its gas
    assert 0.1 < s.decide(view(reward_usd=0.01, gas_usd=0.0008)) < 0.5
    assert Spammers(0.1, 0.0, 0.5).decide(view(gas_usd=0.0)) == 0.1  # an oracle that lets nothing through


def test_providers_withdraw_capacity_that_does_not_pay_its_cost():
    import numpy as np

    p = Providers(capacity_response=0.05, cost_usd_per_credit=0.002, tier_cost_scale=(1.0, 10.0))
    at_target = np.array([0.8, 0.8])
    growth = p.decide(view(income=np.array([0.001, 0.04])), at_target, 0.8)
    assert growth[0] < 0 < growth[1]  # each tier against its own cost: 0.002 and 0.02
    growth = p.decide(view(income=np.array([0.004, 0.01])), at_target, 0.8)
    assert growth[0] > 0 > growth[1]
    assert (Providers(0.05, 0.0).decide(view(income=np.zeros(2)), at_target, 0.8) == 0.0).all()


def test_the_world_and_chain_mode_decide_through_the_same_policies():
    """No executor keeps its own copy of a decision: both build their agents with
    agents.from_scenario and call decide()."""
    the_world = (world, issuance, users, training, compute, governance, exchange)  # its processes' modules
    for name_, modules in (("world", the_world), ("onchain", (onchain,))):
        source = "".join(inspect.getsource(module) for module in modules)
        assert "from_scenario(scenario)" in source
        for name in ("trainers", "spammers", "holders", "adopters", "speculators"):
            assert f"{name}.decide(" in source, (name_, name)
        assert 'u["low_quality_share"]' not in source and 'u["stake_share"]' not in source
    assert set(agents.from_scenario(load("baseline"))) == {"trainers", "adopters", "holders", "spammers", "providers",
                                                          "farmers", "speculators"}


@pytest.fixture(scope="module")
def baseline():
    return simulate(load("baseline"))


def test_users_who_value_their_time_stop_training_at_the_reward_cliff(baseline):
    """The fixed-share world trains 19.9M interactions a day for nothing after year 6; users
    with a reservation wage train less as pay falls and leave when it is gone."""
    sc = load("baseline").with_overrides(**{"agents.reservation_usd_per_interaction": 0.001,
                                            "agents.churn_per_day": 0.01})
    r = simulate(sc)
    late = r.series[r.series["day"] >= 7 * 365]
    fixed = baseline.series[baseline.series["day"] >= 7 * 365]
    assert late["interactions"].mean() < 0.1 * fixed["interactions"].mean()
    assert late["users"].iloc[-1] < 0.5 * fixed["users"].iloc[-1]
    early = r.series[r.series["day"] < 365]
    assert early["interactions"].sum() == pytest.approx(baseline.series[baseline.series["day"] < 365]["interactions"].sum(),
                                                        rel=0.05)  # while pay is good, nothing changes


def test_junk_that_gets_through_drains_the_rationed_pool_from_honest_users(baseline):
    sc = load("baseline").with_overrides(**{"agents.spam_leak": 0.2, "costs.gas_price_gwei": 0.0001})
    r = simulate(sc)
    assert r.summary["burned_by_source"]["low_quality"] > 2 * baseline.summary["burned_by_source"]["low_quality"]
    honest = lambda res: res.series["rewards_paid"].sum()  # noqa: E731 - paid to all users, junk included
    assert honest(r) <= honest(baseline) * 1.0001  # the pool is rationed: junk does not add money, it takes it


def test_providers_with_usd_costs_offer_less_capacity_than_free_ones(baseline):
    sc = load("baseline").with_overrides(**{"agents.provider_cost_usd_per_credit": 0.01, "scenario.years": 2})
    costly = simulate(sc).series
    free = baseline.series[baseline.series["day"] < len(costly)]
    assert costly["capacity_hmm_7b"].iloc[-1] < free["capacity_hmm_7b"].iloc[-1]


def test_holders_who_sell_falls_move_the_price_path(baseline):
    r = simulate(load("baseline").with_overrides(**{"agents.momentum_response": 3.0}))
    assert r.series["hanzo_price_usd"].min() < baseline.series["hanzo_price_usd"].min()


def test_farmers_enter_on_a_margin_and_leave_without_one():
    from hanzo.sim.agents import Farmers

    f = Farmers(most=1000, entry_per_day=0.01, cost_usd_per_interaction=0.001, interactions_per_day=100)
    paying = View(1, 1.0, 1.0, 0.0, 0.0, 0.0, farm_hanzo_per_interaction=0.002)  # margin +1
    losing = View(1, 1.0, 1.0, 0.0, 0.0, 0.0, farm_hanzo_per_interaction=0.0005)  # margin -0.5
    assert f.decide(paying, 0.0) == 10.0 and f.decide(paying, 995.0) == 1000.0
    assert f.decide(losing, 100.0) == 95.0 and f.decide(losing, 2.0) == 0.0
    assert Farmers(0, 0.01, 0.001, 100).decide(paying, 0.0) == 0.0


def test_farmers_take_rewards_from_users_while_farming_pays_then_leave(baseline):
    r = simulate(load("baseline").with_overrides(**{"agents.farmers_max": 100_000}))
    s = r.series
    assert s.loc[s["day"] < 365, "farmers"].max() > 10_000
    assert s["farmers"].iloc[-1] == 0  # once the pool rations, an interaction pays less than it costs
    farm = s["farm_paid"].iloc[-1]
    assert farm > 0
    users = s["rewards_paid"].sum() - farm
    assert users < baseline.series["rewards_paid"].sum() - 0.5 * farm  # most of what farmers take, users lose
    assert (s["farm_paid"].diff().fillna(0) >= 0).all()


def test_speculators_buy_on_upward_momentum_and_sell_the_rest():
    import numpy as np

    from hanzo.sim.agents import Speculators

    s = Speculators(budget_per_day=100.0, hold_days=4)
    buy, sell = s.decide(np.array([0.1, -0.1, 0.0]), np.array([8.0, 8.0, 8.0]), np.array([1.0, 2.0, 4.0]))
    assert buy.tolist() == [100.0, 0.0, 0.0]
    assert sell.tolist() == [2.0, 8.0, 8.0]


@pytest.mark.parametrize("budget, hold", [(10_000, 7), (100_000, 2), (100_000, 30)])
def test_speculators_in_compute_credits_never_take_out_more_than_they_put_in(budget, hold):
    """The contract's cost-basis cap, in the World: whatever the momentum does, what speculators
    get back from selling is at most what they paid (they lose the fees and any fall)."""
    sc = load("baseline").with_overrides(**{"agents.speculator_budget_per_day": budget,
                                            "agents.speculator_hold_days": hold, "scenario.years": 4})
    s = simulate(sc).summary["speculators"]
    assert s["spent"] > 0
    assert s["received"] <= s["spent"]


def test_the_exit_fee_is_honoured_on_redemptions_and_sales_back():
    """hmm_sell_fee is the exit fee, charged alike on redemptions (out of what providers are paid) and on
    sales back (speculators'), so a scenario without speculators may change it too (it was refused when
    only sales paid it): providers are paid less for the same compute at a higher fee."""
    short = {"scenario.years": 0.1}
    paid = [simulate(load("baseline").with_overrides(**short, **{"tokenomics.hmm_sell_fee": fee})).series
            for fee in (0.125, 0.3)]
    assert paid[1]["wallet_providers"].iloc[-1] < paid[0]["wallet_providers"].iloc[-1]
    base = {"agents.speculator_budget_per_day": 10_000, "scenario.years": 3}
    low = simulate(load("baseline").with_overrides(**base)).summary["speculators"]
    high = simulate(load("baseline").with_overrides(**base, **{"tokenomics.hmm_sell_fee": 0.3})).summary["speculators"]
    assert high["received"] / high["spent"] < low["received"] / low["spent"]
