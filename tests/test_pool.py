"""The HANZO/USD pool the simulation clears against (issue 10, part 1): Uniswap v2's rule, and a
price that comes from inside the economy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hanzo.sim.pool import ConstantProductPool, PoolError
from hanzo.sim.run import simulate
from hanzo.sim.scenario import ScenarioError, load, parse


def pool():
    return ConstantProductPool(50e6, 5e6)  # the default Liquidity allocation at $0.10


def test_a_swap_follows_the_constant_product_rule_and_the_fee_stays_in_the_pool():
    p = pool()
    k = p.hanzo * p.usd
    out = p.sell(1e6)
    assert out == pytest.approx(1e6 * 0.997 * 5e6 / (50e6 + 1e6 * 0.997), rel=1e-12)
    assert p.hanzo * p.usd > k  # the fee deepened the pool
    assert p.price < 0.1


def test_a_round_trip_never_profits_and_costs_about_twice_the_fee():
    p = pool()
    usd = p.buy(2e6)
    back = p.sell(2e6)
    assert back < usd
    assert (usd - back) / usd == pytest.approx(0.006, abs=0.001)


def test_buying_a_quarter_of_the_pool_costs_far_more_than_the_spot_price_says():
    p = pool()
    spot = p.price
    cost = p.cost(12.5e6)
    assert cost / (12.5e6 * spot) > 1.3  # the curve: 1 / (1 - 0.25) = 1.33x, plus the fee
    with pytest.raises(PoolError):
        p.cost(50e6)


def test_the_slippage_limit_and_the_arbitrage_step_move_the_price_as_asked():
    p = pool()
    p.sell(p.hanzo_to_move(0.95))
    assert p.price == pytest.approx(0.095, rel=0.01)  # 5% down (less the fee's part)
    q = pool()
    q.trade_toward(0.2, 0.5)  # half the log gap to $0.20: sqrt(2) x
    assert q.price == pytest.approx(0.1 * math.sqrt(2), rel=1e-3)  # the fee stays in the pool: a hair above


def years(name, y=3.0, **overrides):
    return simulate(load(name).with_overrides(**{"scenario.years": y, **overrides}))


def test_the_price_comes_from_inside_selling_more_lowers_it():
    keep = years("baseline", **{"users.sell_share": 0.2}).series["hanzo_price_usd"].iloc[-1]
    dump = years("baseline", **{"users.sell_share": 0.75}).series["hanzo_price_usd"].iloc[-1]
    assert dump < 0.8 * keep


def test_the_price_does_not_follow_an_outside_random_walk_unless_venues_are_on():
    alone = years("baseline").series
    linked = years("baseline", **{"market.external_venues": True, "market.arbitrage_speed": 0.5}).series
    corr = lambda s: float(np.corrcoef(np.log(s["hanzo_price_usd"]), np.log(s["external_price_usd"]))[0, 1])  # noqa: E731
    gap = lambda s: float(np.abs(np.log(s["hanzo_price_usd"] / s["external_price_usd"])).mean())  # noqa: E731
    assert gap(linked) < 0.5 * gap(alone)
    assert corr(linked) > corr(alone)


def test_inflation_mode_supply_lowers_the_price_against_pools_mode():
    pools = years("baseline", 8.0).series["hanzo_price_usd"].iloc[-1]
    inflation = years("inflation_mode", 8.0).series["hanzo_price_usd"].iloc[-1]
    assert inflation < pools


def test_the_attackers_budget_buys_what_the_pool_sells_not_budget_over_spot():
    r = years("governance_attack", 1.2, **{"attacker.start_day": 60, "users.max": 50_000})
    gov = r.summary["governance"]
    spot = float(r.series["hanzo_price_usd"].iloc[59])
    assert gov["attack_cost_usd"] == pytest.approx(20e6)
    assert gov["attacker_hanzo"] < 0.5 * gov["attack_cost_usd"] / spot  # the curve, not the spot price
    assert float(r.series["hanzo_price_usd"].iloc[60:90].max()) > 3 * spot  # and the buying lifts it


def test_the_removed_liquidity_key_is_refused_with_the_reason():
    with pytest.raises(ScenarioError, match=r"\[market\] liquidity_usd was removed: .*constant-product pool"):
        parse({"market": {"liquidity_usd": 1e6}}, "old.toml")


def test_the_pool_starts_as_hanzopool_is_deployed_one_source_of_truth():
    """The World's pool takes its price and fee from the tokenomics parameters the contract is
    deployed with; the scenario's own copies of them were a second source of truth, now refused."""
    s = parse({"tokenomics": {"pool_initial_price": "0.25", "pool_fee_bps": 100}}, "s.toml")
    pool = ConstantProductPool.at_genesis(s)
    assert pool.price == pytest.approx(0.25) and pool.fee == 0.01
    assert pool.hanzo == s.tokenomics.pool_seed_hanzo / 10**18 and pool.usd == s.tokenomics.pool_seed_usd / 10**18
    for key, instead in (("initial_price", "pool_initial_price"), ("pool_fee", "pool_fee_bps")):
        with pytest.raises(ScenarioError, match=rf"\[market\] {key} was removed: .*\[tokenomics\] {instead}"):
            parse({"market": {key: 0.2}}, "old.toml")


@pytest.mark.parametrize("key, value", [("hmm_epoch", 2), ("timelock_delay", 5), ("quality_step", "0.02"),
                                        ("test_usd_float", "1000")])
def test_a_tokenomics_key_the_world_does_not_read_is_refused_not_ignored(key, value):
    with pytest.raises(ScenarioError, match=rf"\[tokenomics\] {key}: not simulated \(.+\)"):
        parse({"tokenomics": {key: value}}, "s.toml")
