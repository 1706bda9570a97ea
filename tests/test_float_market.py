"""One market maker, two back-ends (issue 10, part 3): the simulator's float market (FloatMarket)
runs the contract's rules, checked operation by operation against the integer model that is
itself checked wei for wei against the contract (tests/properties)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hanzo.econ.fixedpoint import WAD
from hanzo.econ.hmm import FloatMarket, HMMError, HMMState, leapfrog_step, potential_float
from hanzo.econ.params import CONGESTION_CHARGE_ON, DEFAULT

# the congestion charge switched on (off by default), so that every replay checks the two back-ends charge alike
CHARGED = dataclasses.replace(DEFAULT, hmm_congestion_charge=CONGESTION_CHARGE_ON)

ops = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 2), st.integers(1, 3 * 10**9)),
    st.tuples(st.just("offer"), st.integers(0, 2), st.integers(1, 2 * 10**9)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.floats(0.0, 1.0)),
    st.tuples(st.just("sell"), st.integers(0, 2), st.floats(0.0, 1.0)),
    st.tuples(st.just("poke"), st.just(0), st.just(0)),
), min_size=1, max_size=40)


def pair():
    model = HMMState.from_tokenomics(CHARGED)
    model.providers.add("p")
    model.hanzo["h"] = 10**40
    return model, FloatMarket.from_tokenomics(CHARGED)


def close(a: float, b: float, rel: float = 1e-7, abs_: float = 1e-6) -> bool:
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def _replay(ops, who):
    """Apply `ops` to both back-ends, the holder of each op drawn from `who`, checking every figure."""
    model, market = pair()
    for name in who:
        model.hanzo[name] = 10**40
    now = 0
    for i, (op, tier, x) in enumerate(ops):
        h = who[i % len(who)]
        one = np.zeros(3)
        if op == "buy":
            try:
                paid = model.buy(h, tier, x, 2**255, 2**64, now)
            except HMMError as exc:
                assert exc.name == "DepthExceeded"
                continue
            one[tier] = x
            assert close(float(market.buy(one, h)[tier]), paid / WAD)
        elif op == "offer":
            model.offer_capacity("p", tier, x)
            market.capacity[tier] += x
        elif op in ("redeem", "sell"):
            available = model.provider_capacity.get((model.epoch, tier, "p"), 0) if op == "redeem" else 10**30
            n = int(min(model.credits.get((h, tier), 0), available) * x)
            if n == 0:
                continue
            one[tier] = n
            if op == "redeem":
                paid, net = model.redeem_split(h, tier, n, "p")  # net: the refund less the congestion charge
                got, got_net = market.redeem_split(one, h)
                assert close(float(got[tier]), paid / WAD) and close(float(got_net[tier]), net / WAD, abs_=1e-3)
            else:
                paid = model.sell(h, tier, n, 0, 2**64, now)
                assert close(float(market.sell(one, h)[tier]), paid / WAD)
        else:
            now += model.params.epoch_length
            steps = model.poke(now)
            u = market.step()
            assert np.allclose(u, [s[0] / WAD for s in steps], rtol=1e-12)
        for t, tier_state in enumerate(model.tiers):
            assert market.supply[t] == tier_state.supply
            assert close(float(market.ref_price[t]), tier_state.ref_price / WAD, rel=1e-7)
            for name in who:
                held, basis = market._holder(name)
                assert held[t] == model.credits.get((name, t), 0)
                assert close(float(basis[t]), model.basis.get((name, t), 0) / WAD, abs_=1e-3)
        assert close(market.funds, model.funds / WAD, abs_=1e-3)
        assert close(market.reserve, model.reserve / WAD, abs_=1e-3)


@settings(max_examples=150, deadline=None)
@given(ops=ops)
def test_the_float_market_follows_the_integer_model_operation_by_operation(ops):
    _replay(ops, ["h"])


@settings(max_examples=150, deadline=None)
@given(ops=ops)
def test_with_two_holders_each_exit_is_capped_by_its_own_basis_as_on_chain(ops):
    """Users and speculators in one market: each holder's credits and basis, and every payout,
    match the integer model's accounts."""
    _replay(ops, ["h", "s"])


def test_a_charged_redemption_costs_the_holder_alike_on_both_back_ends():
    """With the charge on, past the target share (80%) of the epoch's capacity the holder pays
    congestion_charge x P_ref per credit of the excess, out of its refund and then its balance, kept in the
    maker's funds: with one provider the integer model's provider excess is the float market's tier excess."""
    model, market = pair()
    model.buy("h", 0, 10**9, 2**255, 2**64, 0)
    market.buy(np.array([1e9, 0, 0]), "h")
    model.offer_capacity("p", 0, 10**6)
    market.capacity[0] = 1e6
    nets = []
    for n in (7 * 10**5, 2 * 10**5, 10**5):  # 70%: no charge; 90%: 10% charged; 100%: all charged
        _, net = model.redeem_split("h", 0, n, "p")
        _, got = market.redeem_split(np.array([n, 0.0, 0.0]), "h")
        assert close(float(got[0]), net / WAD, abs_=1e-6)
        nets.append(net / WAD)
    kappa, p_ref = CONGESTION_CHARGE_ON / WAD, model.tiers[0].ref_price / WAD
    # the second redemption, 2e5 credits, pays for the 1e5 past 8e5 (the charge is what moves the net:
    # the refund per credit is the same for all three, the holder's basis being pro rata)
    assert nets[1] == pytest.approx(2 * nets[0] / 7 - kappa * p_ref * 1e5, rel=1e-6)
    assert nets[2] == pytest.approx(nets[0] / 7 - kappa * p_ref * 1e5, rel=1e-6) and nets[2] < 0
    assert close(market.funds, model.funds / WAD, abs_=1e-6)


def test_every_tier_moves_by_its_own_utilization_and_no_rise_is_cut():
    """A rise owes nobody anything (exits pay bases), so the controller's step is never cut: six
    epochs of full use raise every tier by the clamp each time, on both back-ends, and the maker
    holds every basis whatever the price."""
    model, market = pair()
    for t in range(3):
        model.buy("h", t, 10**9, 2**255, 2**64, 0)
        market.buy(np.eye(3)[t] * 10**9)
    for _ in range(6):
        for t in range(3):
            model.offer_capacity("p", t, 10)
            market.capacity[t] = 10
            model.redeem("h", t, 10, "p")  # fully used: every tier's controller pushes up
            market.redeem(np.eye(3)[t] * 10)
        model.poke(model.epoch_start + model.params.epoch_length)
        market.step()
    x = v = 0
    for _ in range(6):
        x, v = leapfrog_step(x, v, WAD, model.params)  # the controller's own path at full use, uncut
    assert [t.log_price for t in model.tiers] == [x] * 3 and x > 0
    assert np.allclose(market.log_price, x / WAD, rtol=1e-9)
    assert np.allclose(market.ref_price, [t.ref_price / WAD for t in model.tiers], rtol=1e-7)
    assert close(market.funds, model.funds / WAD, abs_=1e-3)
    assert np.allclose(market.basis, [model.basis.get(("h", t), 0) / WAD for t in range(3)], rtol=1e-7)
    assert market.funds >= market.reserve * (1 - 1e-12)  # solvent, as P4 on the contract


def test_the_eip1559_anchor_leaves_the_maker_solvent():
    _, market = pair()
    market.buy(np.array([2e9, 2e9, 2e9]))
    market.capacity[:] = 1.0
    market.redeem(np.array([1.0, 1.0, 1.0]))
    for _ in range(20):
        market.step("eip1559")
        market.capacity[:] = 1.0
        market.redeem(np.array([1.0, 1.0, 1.0]))
    assert market.funds >= market.reserve * (1 - 1e-12)


@pytest.mark.parametrize("field", ["base_price", "supply", "capacity"])
def test_the_float_market_is_vectorised_over_tiers(field):
    market = FloatMarket.from_tokenomics(DEFAULT)
    assert getattr(market, field).shape == (3,)


def test_after_a_rise_providers_are_paid_the_cost_basis_share_as_the_contract_pays():
    model, market = pair()
    model.buy("h", 0, 10**9, 2**255, 2**64, 0)
    market.buy(np.array([1e9, 0, 0]))
    for _ in range(3):
        model.offer_capacity("p", 0, 1000)
        market.capacity[0] = 1000
        model.redeem("h", 0, 1000, "p")
        market.redeem(np.array([1000.0, 0, 0]))
        model.poke(model.epoch_start + model.params.epoch_length)
        market.step()
    assert market.log_price[0] > 0.25  # three rises of about 10%
    model.offer_capacity("p", 0, 5 * 10**8)
    market.capacity[0] = 5e8
    q = market.supply[0]
    release = float(potential_float(market.ref_price[0], market.depth, q) -
                    potential_float(market.ref_price[0], market.depth, q - 5e8))
    paid = model.redeem("h", 0, 5 * 10**8, "p") / WAD
    got = float(market.redeem(np.array([5e8, 0, 0]))[0])
    # the basis share, not what the risen curve would release, and both back-ends pay it alike
    assert close(got, paid) and got < 0.9 * release
