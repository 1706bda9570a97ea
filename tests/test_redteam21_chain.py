"""Red-team regressions for chain mode's attacker, provider rows, churn, venues and farmers (redteam21)."""

from __future__ import annotations

import pytest

from hanzo.sim import crosscheck
from hanzo.sim.onchain import run_on_chain
from hanzo.sim.scenario import load
from hanzo.sim.world import World

FIXED = {"users.initial": 1_000_000}


def _world(sc, users: int, days: int) -> World:
    world = World(crosscheck.at_chain_scale(sc, users))
    world.start()
    world.env.run(until=days + 1)
    return world


def test_an_attacker_starting_on_day_0_spends_its_whole_budget_as_the_worlds():
    """[attacker] start_day 0: the World's attacker buys on days 0-29 and proposes on day 30. The chain's day loop
    starts at day 1, so it bought on days 1-29 only (29/30 of its budget, $1.93M of $2M) and still proposed on day
    30 with less stake than the World's."""
    sc = load("governance_attack").with_overrides(**FIXED, **{"attacker.start_day": 0, "attacker.budget_usd": 3e6})
    result = run_on_chain(sc, network="embedded", days=32, users=6)
    assert result.ok, result.differences
    world = _world(sc, 6, 32)
    assert result.attack["attack_day"] == world.gov.attack_day == 30
    assert result.attack["attack_cost_usd"] == pytest.approx(world.gov.attack_cost_usd) == 3e6
    assert result.attack["bought"] == pytest.approx(world.attacker_bought, rel=0.01)


def test_a_captured_governance_keeps_draining_the_bucket_beside_the_providers_payments():
    """Having won, the attacker proposes a release a day of what HanzoTreasury's bucket holds, as the World's
    captured governance takes the bucket every day. The providers' daily payment (proposed first each day) took
    each day's whole refill, so the attacker never had a second release: over 100 days it drained 180k HANZO, the
    World 607k. Its release now comes first; what it drains follows the World's, a few days' refill behind (each
    release executes ten days after it is proposed), and never above the bucket's limit plus its refill."""
    sc = load("governance_attack").with_overrides(**FIXED, **{"attacker.start_day": 1, "attacker.budget_usd": 5e6})
    days = 100
    result = run_on_chain(sc, network="embedded", days=days, users=6)
    assert result.ok, result.differences
    attack = result.attack
    assert attack["attack"].startswith("passed") and len(attack["proposals"]) > 30  # a release a day
    world = _world(sc, 6, days)
    assert world.gov.attack == attack["attack"]
    assert 0.85 * world.gov.treasury_drained < attack["treasury_drained"] <= world.gov.treasury_drained
    p = sc.tokenomics
    bound = p.treasury_release_limit * (1 + (days - 31) * 86_400 / p.treasury_release_period) / 1e18
    assert attack["treasury_drained"] <= bound


def test_a_lone_provider_rows_own_credits_do_not_leave_its_capacity_unused():
    """A provider row holds credits too, and the contract refuses its self-redemption, so with one provider row its
    own credits stay with it. They were counted against the offer first come all the same, and the capacity they
    took was left unused while others' credits went unserved: offered 10, the provider wanting 5 before a user
    wanting 10, 5 were served, not 10. (With two, a third holder got nothing while a credit of capacity idled.)"""
    import numpy as np

    from hanzo.sim.onchain import ServiceDesk

    desk = ServiceDesk(np.array([[10, 0]]), ["p"])
    assert desk.plan({"p": [5, 0], "u": [10, 0]}) == {"u": [(0, [(0, 10)])]}
    assert desk.served.tolist() == [[10, 0]]
    desk = ServiceDesk(np.array([[6, 0], [4, 0]]), ["p", "q"])
    plan = desk.plan({"p": [5, 0], "q": [5, 0], "u": [10, 0]})
    assert desk.served[:, 0].tolist() == [6, 4]  # every credit offered served, each its offer's part
    assert sum(k for g in plan.values() for _, spends in g for _, k in spends) == 10
    assert all(j != {"p": 0, "q": 1}.get(h) for h, g in plan.items() for j, _ in g)  # never to itself


@pytest.mark.parametrize("key, value", [
    ("policy.fine_tuning_fee", 0.0001), ("policy.base_model_epochs_per_month", 4.0),
    ("policy.boost_stake_share", 0.2), ("market.max_slippage", 0.001)])
def test_chain_mode_refuses_what_it_would_silently_ignore(key, value):
    """Each of these ran on chain as if unset (the rows the same as the baseline's to the bit): `hanzo simulate
    seed_fees --chain` paid no fine-tuning or epoch fee and `boost_staking --chain` boosted nothing, silently. The
    docs say --chain refuses what only the World models; now it does."""
    from hanzo.sim.scenario import ScenarioError

    table, name = key.split(".")
    with pytest.raises(ScenarioError, match=rf"\[{table}\] {name}: .*--chain refuses it"):
        run_on_chain(load("baseline").with_overrides(**{key: value}), network="embedded", days=1, users=1)
    for scenario in ("seed_fees", "boost_staking"):
        with pytest.raises(ScenarioError, match="--chain refuses it"):
            run_on_chain(load(scenario), network="embedded", days=1, users=1)


def test_an_attacker_with_the_largest_budget_is_paid_from_a_float_large_enough():
    """[attacker] budget_usd takes up to $1T, TestUSD's float (the Public Sale's holder, who pays the attacker's
    dollars as it pays the users' top-ups) is $1T by default: the attacker's 30th day's transfer reverted
    (ChainRunError: ERC20InsufficientBalance). The float is outside money on a test chain: the run deploys enough."""
    sc = load("governance_attack").with_overrides(**FIXED, **{"attacker.start_day": 1, "attacker.budget_usd": 1e12})
    result = run_on_chain(sc, network="embedded", days=31, users=2)
    assert result.ok, result.differences
    assert result.attack["attack_cost_usd"] == pytest.approx(1e12) and result.attack["attack_day"] == 31


def test_the_arbitrageur_never_spends_more_dollars_than_it_holds():
    """[market] external_venues at its largest daily_volatility (1.0) with arbitrage_speed 1: by day 155 of seed 3
    the venues' price had risen so far that the day's arbitrage buy cost more than TestUSD's whole float, and it
    reverted (ChainRunError). The arbitrageur now spends at most half its dollars a day, as it sells no more HANZO
    than it holds; the run reconciles."""
    sc = load("baseline").with_overrides(**FIXED, **{
        "scenario.seed": 3, "market.external_venues": True, "market.daily_volatility": 1.0,
        "market.jump_probability": 0.0, "market.arbitrage_speed": 1.0})
    result = run_on_chain(sc, network="embedded", days=160, users=2)
    assert result.ok, result.differences
    assert max(result.venues["external_prices"]) > 1e6  # far beyond what the float could buy the pool up to


def test_with_reservation_spreads_newcomers_join_and_train():
    """[agents] reservation_spread with a population that grows (the baseline's own curve starts below its
    ceiling): the accounts' own worth was computed before the day's joins, and a newcomer's row indexed past it, so
    the first day anyone joined raised IndexError (ChainRunError: "the node stopped answering")."""
    sc = load("baseline").with_overrides(**{"users.initial": 300_000, "users.growth_per_day": 0.2,
                                            "agents.reservation_spread": 1.0,
                                            "agents.reservation_usd_per_interaction": 0.01})
    result = run_on_chain(sc, network="embedded", days=10, users=20)
    assert result.ok, result.differences
    books = list(result.by_account.values())
    assert result.accounts > result.rows[0]["users"] and len({b["reservation_usd"] / b["activity"] for b in books}) \
        == len(books)
    assert sum(b["worked"] for b in books[result.rows[0]["users"]:]) > 0  # the newcomers train


def test_farmers_farm_a_fractional_daily_figure_in_total_as_the_worlds():
    """[agents] farm_interactions_per_day is a float (the World farms farmers x it a day); each chain farmer farmed
    its int(): at 0.5 a day twenty farmers farmed nothing and earned nothing. Now the day's total is the World's,
    rounded once and shared out whole."""
    sc = load("baseline").with_overrides(**FIXED, **{
        "agents.farmers_max": 20, "agents.farm_entry_per_day": 1.0, "agents.farm_cost_usd_per_interaction": 0.0,
        "agents.farm_interactions_per_day": 0.5})
    result = run_on_chain(sc, network="embedded", days=5, users=2)
    assert result.ok, result.differences
    farm = result.farmers
    assert farm["active"] == 20 and farm["earned"] > 0
    assert farm["interactions"] == 5 * round(20 * 0.5)  # each day's total, none deferred
