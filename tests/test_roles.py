"""Compute providers and voters as row strategies (issue 17, item 1): provider rows own the capacity, are paid
for what they serve and take the Compute Providers pool's release into their own wallets; voter rows stake
from their pay and vote their own stake on proposals by their own turnout."""

from __future__ import annotations

import numpy as np
import pytest

from hanzo.sim import compute
from hanzo.sim.agents import View
from hanzo.sim.ledger import UNIT
from hanzo.sim.run import simulate
from hanzo.sim.scenario import ScenarioError, load
from hanzo.sim.world import World

SMALL = {"users.initial": 2_000, "users.max": 20_000, "scenario.years": 1}
PROVIDERS = {"strategies.provider_share": 0.02, "strategies.provider_capacity": "uniform(0.5, 2)"}
# only the voter rows vote (the rest of the stake at turnout 0), against a quorum of 0.1% of the stake
VOTES = {"governance.turnout": 0.0, "policy.quorum": "relative", "policy.relative_quorum": 0.001}


def _world(days: int, **changes) -> World:
    world = World(load("baseline").with_overrides(**SMALL, **changes))
    world.run(days)
    return world


def _providers(world: World):
    st = world.strategies
    return st.active(st.provider, world.users)


@pytest.mark.parametrize("name, changes", [
    ("baseline", {**PROVIDERS, "strategies.voter_share": 0.2, "strategies.provider_cost_usd_per_credit":
                  "lognormal(0.0002, 1)", "agents.reservation_usd_per_interaction": 0.001,
                  "agents.churn_per_day": 0.01, "agents.reservation_spread": 0.5}),
    ("governance_attack", {**PROVIDERS, "strategies.voter_share": 0.3, "strategies.farmer_share": 0.1,
                           "attacker.start_day": 200, "attacker.budget_usd": 20_000.0}),
    ("boost_staking", {**PROVIDERS, "strategies.voter_share": 0.3, "strategies.holder_share": 0.1}),
])
def test_provider_and_voter_rows_keep_the_books(name, changes):
    s = simulate(load(name).with_overrides(**SMALL, **changes)).summary
    assert s["conserved"]  # the ledger's check ran every day: no HANZO made or lost, each account its rows' sum
    provider, voter = s["strategies"]["provider"], s["strategies"]["voter"]
    assert provider["compute_income_hanzo"] > 0 and provider["interactions"] == 0 and min(provider["capacity"]) > 0
    assert voter["staked"] > 0 and s["votes"]["voters_share"] > 0


def test_without_provider_rows_the_aggregate_providers_serve_and_with_them_none():
    aggregate, rows = _world(20), _world(20, **PROVIDERS)
    assert aggregate.strategies.provider is None and aggregate.ledger["providers"] > 0
    assert rows.ledger["providers"] == 0  # every HANZO for compute went to the rows' own wallets
    capacity = rows.strategies.capacity[_providers(rows).index].sum(axis=0)
    # the capacity offered today is the rows' sum (which their policy has moved since, by a fraction)
    assert rows.provider_capacity == pytest.approx(capacity, rel=0.01)
    # providers together start with the headroom the aggregate had (capacity trait of mean 1.25, here)
    assert capacity.sum() / aggregate.provider_capacity.sum() == pytest.approx(1.25, rel=0.3)


def test_compute_income_lands_in_provider_wallets_in_proportion_to_what_each_served():
    world = _world(10, **PROVIDERS)
    rows, users, ledger = _providers(world), world.users, world.ledger
    index, capacity = rows.index, world.strategies.capacity[rows.index]
    assert len(index) > 20 and capacity[:, 0].std() > 0.2 * capacity[:, 0].mean()  # unequal capacities
    before, funds = users.wallet[index].copy(), ledger.units["market_maker"]
    paid = np.array([3.0, 2.0, 1.0])  # HANZO the market maker pays for each tier's credits served
    compute.pay_provider_rows(world, rows, capacity, paid)
    world.market.funds -= paid.sum()  # (what its own books pay out on redeeming the credits)
    got = users.wallet[index] - before
    assert got.sum() == 6 * UNIT and funds - ledger.units["market_maker"] == 6 * UNIT
    exact = capacity @ (paid / capacity.sum(axis=0)) * UNIT  # each tier's pay by each row's share of its capacity
    assert np.abs(got - exact).max() <= 1
    assert got.max() > 2 * got.min()  # not equal shares
    # the day's release of the Compute Providers pool goes the same way, and each sells its own share of its income
    share = rows.traits["sell_share"]
    share.flags.writeable = True  # (a view of the strategy's own column: the rows' traits, set for the test)
    share[:] = np.linspace(0.0, 1.0, len(index))
    pool, orders, mid = ledger.units["compute_pool"], ledger.units["sell_orders"], users.wallet[index].copy()
    compute.provider_rows_day(world, 0.8)
    release, sold = pool - ledger.units["compute_pool"], ledger.units["sell_orders"] - orders
    assert release == round(pool / 365) and sold > 0
    kept = users.wallet[index] - mid
    assert kept.sum() + sold == release  # all of the release into their wallets, less what they sold of their income
    subsidy = release * got / got.sum()
    assert np.abs(kept - (subsidy - np.floor((got + subsidy) * share))).max() <= 2
    ledger.check(int(world.env.now))


def test_a_provider_whose_cost_exceeds_its_income_withdraws_capacity():
    world = _world(5, **PROVIDERS, **{"strategies.provider_cost_usd_per_credit": "uniform(0, 0.001)"})
    st = world.strategies
    policy, rows = st.policies[st.provider], _providers(world)
    cost, capacity = rows.traits["cost_usd_per_credit"], st.capacity[rows.index]
    earns = 1e-4  # USD a credit of the first tier earned yesterday (the others in proportion, as their costs)
    view = View(5, 0.1, 0.1, 0.0, earns / 0.1 * policy.tier_cost_scale, 0.0)
    target = 0.8
    after = policy.capacity(view, rows, capacity, np.full(3, target), target)  # utilization on target: margin only
    losing, winning = cost > 1.05 * earns, cost < 0.95 * earns
    assert losing.sum() > 10 and winning.sum() > 2
    assert (after[losing] < capacity[losing]).all() and (after[winning] > capacity[winning]).all()
    assert (after >= 0).all()
    # over a run, the rows that cost more than a credit earns hold less capacity for their size than those
    # that cost less (each row's growth since it joined: its capacity over what it joined with)
    world = _world(90, **PROVIDERS, **{"strategies.provider_cost_usd_per_credit": "uniform(0, 0.0001)"})
    st = world.strategies
    rows = _providers(world)
    income = world.provider_income_per_credit[0] * world.price_usd  # USD a first-tier credit earned
    grown = st.capacity[rows.index][:, 0] / (rows.traits["capacity"] * st.policies[st.provider].unit[0])
    cost = rows.traits["cost_usd_per_credit"]
    assert (cost > income).sum() > 10 and (cost < income).sum() > 10
    assert grown[cost > 1.5 * income].mean() < 0.8 * grown[cost < income / 1.5].mean()


def _governance(name="baseline", **changes) -> dict:
    return simulate(load(name).with_overrides(**SMALL, **VOTES, **changes)).summary


def test_the_voters_turnout_drives_the_quorum():
    few = _governance(**{"strategies.voter_share": 0.02, "strategies.voter_stake_share": 0.1})
    many = _governance(**{"strategies.voter_share": 0.5, "strategies.voter_stake_share": 1.0})
    absent = _governance(**{"strategies.voter_share": 0.5, "strategies.voter_stake_share": 1.0,
                            "strategies.voter_turnout": 0.0})
    for s in (few, many, absent):
        assert s["conserved"] and s["governance"]["proposals"] > 20
    # nobody but the voter rows votes: voters who never turn out cast nothing, and no proposal reaches the quorum
    assert absent["governance"]["turnout_share"] == 0
    assert absent["governance"]["short_of_quorum"] == absent["governance"]["proposals"]
    # a few voters staking little reach it only late if at all; many staking all their pay, on most proposals
    assert few["governance"]["short_of_quorum"] > 0.8 * few["governance"]["proposals"]
    assert many["governance"]["short_of_quorum"] < 0.3 * many["governance"]["proposals"]
    assert many["votes"]["voters_share"] > 10 * few["votes"]["voters_share"]
    # without voter rows, the [governance] turnout of all the stake votes, as before
    plain = simulate(load("baseline").with_overrides(**SMALL)).summary
    assert "voters_share" not in plain["votes"] and "turnout_share" not in plain["governance"]


@pytest.mark.parametrize("voters, outcome", [
    ({"strategies.voter_stake_share": 1.0, "strategies.voter_turnout": 1.0}, "defeated"),
    ({"strategies.voter_stake_share": 0.1, "strategies.voter_turnout": 1.0}, "passed"),  # too little staked
    ({"strategies.voter_stake_share": 1.0, "strategies.voter_turnout": 0.0}, "passed"),  # nobody turns out
])
def test_the_attackers_capture_is_measured_against_the_stakes_of_the_voters_who_turn_out(voters, outcome):
    s = _governance("governance_attack", **{"strategies.voter_share": 0.5, "attacker.start_day": 250,
                                            "attacker.budget_usd": 12_000.0}, **voters)
    g = s["governance"]
    assert s["conserved"] and g["attack"].startswith(outcome)
    voters_stake = s["strategies"]["voter"]["staked"]
    # the same attacker (the same stake bought) against voters who hold more, or less, than it
    assert g["attacker_hanzo"] == pytest.approx(139_000, rel=0.05)
    assert (voters_stake > 2 * g["attacker_hanzo"]) == (voters["strategies.voter_stake_share"] == 1.0)


@pytest.mark.parametrize("changes, message", [
    ({"strategies.provider_share": 0.1, "strategies.provider_capacity": "uniform(2, 1)"},
     r"\[strategies\] provider_capacity: .*expected low <= high"),
    ({"strategies.provider_share": 0.1, "strategies.provider_cost_usd_per_credit": -1.0},
     r"\[strategies\] provider_cost_usd_per_credit: .*expected values in \[0, 1e\+06\]"),
    ({"strategies.provider_share": 0.1, "strategies.provider_sell_share": "normal(0.5)"},
     r"\[strategies\] provider_sell_share: normal takes 2 numbers"),
    ({"strategies.voter_share": 0.1, "strategies.voter_turnout": 1.5},
     r"\[strategies\] voter_turnout: .*expected values in \[0, 1\]"),
    ({"strategies.voter_share": 0.1, "strategies.voter_stake_share": "gamma(1, 2)"},
     r"\[strategies\] voter_stake_share: unknown distribution 'gamma'"),
    ({"strategies.voter_turnout": 0.5},
     r"\[strategies\] voter_turnout: has no effect unless \[strategies\] voter_share"),
    ({"strategies.provider_capacity": 2.0},
     r"\[strategies\] provider_capacity: has no effect unless \[strategies\] provider_share"),
    ({"strategies.provider_share": 0.6, "strategies.voter_share": 0.6}, r"provider_share \+ voter_share.*at most 1"),
])
def test_bad_provider_and_voter_traits_are_refused_naming_the_key(changes, message):
    with pytest.raises(ScenarioError, match=message):
        load("baseline").with_overrides(**changes)


def test_provider_rows_serve_on_chain_from_their_own_accounts_and_are_paid_as_the_world_pays_them():
    """Chain mode runs provider rows (it refused them before): each provider row is an account with the provider
    role, offering its own capacity (its trait times its share of the users' demand, as the World's row), served
    by the ServiceDesk (alike shares of what each offers), paid what its redemptions pay, and paid the Compute
    Providers pool's release through governance split by the day's pay; it trains nothing and sells its own share
    of its income. The same rows are providers as in the World, every balance reconciles to the wei, and the
    market maker's figures stay near the World's."""
    from hanzo.sim import crosscheck
    from hanzo.sim.onchain import run_on_chain

    sc = load("baseline").with_overrides(**{"users.initial": 1_000_000, "strategies.provider_share": 0.1,
                                            "strategies.provider_capacity": "uniform(0.5, 2)"})
    result = run_on_chain(sc, network="embedded", days=13, users=40)
    assert result.ok, result.differences
    world = World(crosscheck.at_chain_scale(sc, 40))
    world.start()
    world.env.run(until=2)
    kinds = [world.strategies.names[k] for k in world.strategies.kind[:40]]
    assert [b["strategy"] for b in result.by_account.values()] == kinds
    rows = [b for b in result.by_account.values() if b["strategy"] == "provider"]
    assert len(rows) == 5 and all(b["worked"] == b["ops"] == b["earned"] == 0 for b in rows)
    shares = [b["served"] / b["offered"] for b in rows]
    assert min(shares) > 0.5 and max(shares) - min(shares) < 0.01  # alike shares of what each offered
    for b in rows:  # each sells its own share (0.5 by default) of its income, day by day, rounded down
        assert b["compute_income"] // 2 - 13 <= b["sold"] <= b["compute_income"] // 2
    # the pool's releases, ten days after each was proposed (a payment executed on the last day is counted the next)
    paid = [p for p in result.provider_payments if p["status"] == "settled"]
    released = sum(p["payment"] for p in paid if p["settled_day"] < 13)
    assert len(paid) >= 2 and sum(b["compute_income"] for b in rows) > released > 0  # served and released
    versus = crosscheck.compare(crosscheck.world_rows(sc, 40, 13), result.rows)
    assert versus.max_rel_diff["market_maker_reserve"] < 0.05 and versus.max_rel_diff["price_7b"] < 0.2
