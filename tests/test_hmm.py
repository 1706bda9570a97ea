"""HamiltonianMarketMaker: every revert, access control, bounded governance, deployment wiring."""

from __future__ import annotations

import dataclasses

import ape
import pytest

from hanzo.econ.hmm import HMMParams, min_sell_fee
from hanzo.econ.params import WEI

FAR = 2**64


def test_buy_mints_credits_and_charges_the_potential_difference(m):
    t = m.traders[0]
    (cost, receipt) = m.apply("buy", t, 1, 5_000)
    assert m.hmm.balanceOf(t, 1) == 5_000
    [event] = receipt.decode_logs(m.hmm.Bought)
    assert (event.amount, event.cost, event.supply) == (5_000, cost, 5_000)
    assert m.hmm.quoteBuy(1, 10) == m.model.quote_buy(1, 10)
    m.assert_same()


def test_slippage_limits_revert_with_the_actual_figure(m):
    t = m.traders[0]
    cost, _ = m.hmm.quoteBuy(0, 1_000)
    with ape.reverts(m.hmm.Slippage, actual=cost, limit=cost - 1):
        m.hmm.buy(0, 1_000, cost - 1, FAR, sender=t)
    m.hmm.buy(0, 1_000, cost, FAR, sender=t)
    proceeds, _ = m.hmm.quoteSell(t, 0, 1_000)
    with ape.reverts(m.hmm.Slippage, actual=proceeds, limit=proceeds + 1):
        m.hmm.sell(0, 1_000, proceeds + 1, FAR, sender=t)


def test_expired_deadline_reverts(m):
    deadline = m.chain.pending_timestamp - 1
    with ape.reverts(m.hmm.Expired, deadline=deadline):
        m.hmm.buy(0, 1, 2**255, deadline, sender=m.traders[0])
    with ape.reverts(m.hmm.Expired):
        m.hmm.sell(0, 1, 0, deadline, sender=m.traders[0])


def test_zero_unknown_and_oversized_trades_revert(m):
    t = m.traders[0]
    with ape.reverts(m.hmm.ZeroAmount):
        m.hmm.buy(0, 0, 2**255, FAR, sender=t)
    with ape.reverts(m.hmm.UnknownTier, tier=9):
        m.hmm.buy(9, 1, 2**255, FAR, sender=t)
    with ape.reverts(m.hmm.InsufficientSupply, requested=1, supply=0):
        m.hmm.sell(0, 1, 0, FAR, sender=t)
    depth = m.model.tiers[0].depth
    with ape.reverts(m.hmm.DepthExceeded):
        m.hmm.buy(0, 40 * depth + 1, 2**255, FAR, sender=t)


def test_selling_credits_one_does_not_hold_reverts(m):
    m.apply("buy", m.traders[0], 0, 1_000)
    with ape.reverts(m.hmm.ERC1155InsufficientBalance):
        m.hmm.sell(0, 10, 0, FAR, sender=m.traders[1])


def test_redeem_pays_the_provider_within_offered_capacity(m):
    t, p = m.traders[0], m.provider
    m.apply("buy", t, 2, 3_000)
    with ape.reverts(m.hmm.InsufficientCapacity, provider=p.address, requested=100, available=0):
        m.hmm.redeem(2, 100, p, 0, FAR, sender=t)
    m.apply("offer", p, 2, 1_000)
    (payout, receipt) = m.apply("redeem", t, 2, 1_000)
    assert m.token.balanceOf(p) == payout > 0
    assert receipt.decode_logs(m.hmm.Redeemed)[0].payout == payout
    with ape.reverts(m.hmm.InsufficientCapacity):
        m.hmm.redeem(2, 1, p, 0, FAR, sender=t)
    m.assert_same()


def test_only_providers_offer_capacity(m):
    with ape.reverts(m.hmm.NotProvider, provider=m.traders[0].address):
        m.hmm.offerCapacity(0, 10, 0, sender=m.traders[0])


def test_poke_before_the_epoch_ends_reverts_then_steps_every_tier(m):
    with ape.reverts(m.hmm.EpochNotOver):
        m.hmm.poke(sender=m.traders[0])
    m.apply("buy", m.traders[0], 0, 10_000)
    m.apply("offer", m.provider, 0, 2_000)
    m.apply("redeem", m.traders[0], 0, 2_000)  # utilization 100% > 80% target: the price rises
    m.advance_epoch()
    result, receipt = m.apply("poke", m.traders[1])
    assert len(receipt.decode_logs(m.hmm.EpochStepped)) == 3
    assert m.hmm.tier(0).logPrice > 0
    m.assert_same()


def test_governance_functions_need_governance_role(m):
    outsider = m.traders[0]
    with ape.reverts(m.hmm.AccessControlUnauthorizedAccount):
        m.hmm.addTier(10**15, 10**6, sender=outsider)
    with ape.reverts(m.hmm.AccessControlUnauthorizedAccount):
        m.hmm.setParams(m.model.params.as_tuple(), sender=outsider)


@pytest.mark.parametrize(
    "field, value, which",
    [
        ("alpha", 10 * WEI + 1, "alpha"),
        ("dt", 0, "dt"),
        ("delta_max", 0, "deltaMax"),
        ("target_utilization", WEI + 1, "targetUtilization"),
        ("buy_fee", WEI // 10 + 1, "buyFee"),
        ("epoch_length", 0, "epochLength"),
    ],
)
def test_parameters_out_of_bounds_revert_and_name_the_field(m, field, value, which):
    bad = dataclasses.replace(m.model.params, **{field: value})
    with ape.reverts(m.hmm.ParamOutOfBounds, which=which):
        m.hmm.setParams(bad.as_tuple(), sender=m.deployer)


def test_sell_fee_below_intertemporal_bound_is_rejected(m):
    p = m.model.params
    low = dataclasses.replace(p, sell_fee=min_sell_fee(p.delta_max) - 1)
    with ape.reverts(m.hmm.ParamOutOfBounds, which="sellFee"):
        m.hmm.setParams(low.as_tuple(), sender=m.deployer)
    ok = dataclasses.replace(p, sell_fee=min_sell_fee(p.delta_max))
    receipt = m.hmm.setParams(ok.as_tuple(), sender=m.deployer)
    assert receipt.decode_logs(m.hmm.ParamsChanged)
    assert m.hmm.params().sellFee == ok.sell_fee


def test_deployed_suite_hands_the_market_maker_to_governance(suite, params):
    hmm = suite.hmm
    assert hmm.tierCount() == 3
    assert hmm.hasRole(hmm.GOVERNANCE_ROLE(), suite.timelock.address)
    assert not hmm.hasRole(hmm.GOVERNANCE_ROLE(), suite.roles.deployer.address)
    assert tuple(hmm.params()) == HMMParams.from_tokenomics(params).as_tuple()
    assert [hmm.tier(i).basePrice for i in range(3)] == [b for _, b in params.inference_tiers]


def test_float_form_agrees_with_the_integer_model_across_tiers_and_runs(params):
    """The simulator's float form, vectorised over (tiers, runs), against the exact model."""
    import numpy as np

    from hanzo.econ.hmm import HMMState, buy_cost_float, price_float

    model = HMMState.from_tokenomics(params)
    p = model.params
    base = np.array([[t.base_price / WEI] for t in model.tiers])  # (3, 1)
    depth = float(model.tiers[0].depth)
    supply = np.array([[0.0, 5e8, 2e9]] * 3)  # (3 tiers, 3 runs)
    amount = 1e8
    for tier in range(3):
        for run, q in enumerate(supply[tier]):
            s = model.copy()
            s.hanzo["t"] = 10**40
            if q:
                s.buy("t", tier, int(q), 2**255, 1, 0)
            cost = s.quote_buy(tier, int(amount))[0] / WEI
            assert buy_cost_float(base, depth, supply, amount, p.buy_fee / WEI)[tier, run] == pytest.approx(cost, rel=1e-9)
            assert price_float(base, depth, supply)[tier, run] == pytest.approx(s.price(tier) / WEI, rel=1e-9)
