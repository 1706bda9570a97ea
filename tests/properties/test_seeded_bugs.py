"""The property suite can fail: seeded bugs in the reference model make named properties fail.

Each test plants one bug, runs a property test of test_market_maker_properties as Hypothesis would,
and expects its falsifying example. The planted bugs: the cost-basis cap removed (the review's
surplus drain), a sell-back fee below the intertemporal bound, and one rounding direction flipped."""

from __future__ import annotations

import dataclasses

import pytest

from hanzo.econ import hmm
from hanzo.econ.fixedpoint import WAD, mul_div

from . import test_market_maker_properties as props


class Uncapped(hmm.HMMState):
    """The planted bug: sales and redemptions pay the whole release (no cost-basis cap)."""

    def _capped(self, holder, tid, amount, held, take=True):
        release = hmm.released(self.tier(tid), amount)
        return release, release


def uncapped(good: hmm.HMMState) -> Uncapped:
    return Uncapped(**{f.name: getattr(good, f.name) for f in dataclasses.fields(good)})


def test_p5_fails_without_the_cost_basis_cap(monkeypatch):
    """The review's drain (finding 1): with sales and redemptions paying the whole release, a
    provider that pumps utilization with its own credits takes the fee surplus."""
    real = props.fresh_model

    def uncapped_model():
        return uncapped(real())

    monkeypatch.setattr(props, "fresh_model", uncapped_model)
    body = props.test_p5_no_pump_over_k_epochs_pays_a_self_redeeming_provider_sell_or_redeem_model.hypothesis.inner_test
    example = dict(tier=0, k=3, d=2 * 10**9, pump=1, honest=3 * 10**9, exit_by="redeem", parts=1, v0=0)
    with pytest.raises(AssertionError):
        body(**example)
    monkeypatch.setattr(props, "fresh_model", real)
    body(**example)  # restored: the same example passes


def test_p5_one_epoch_fails_when_the_sell_fee_is_below_the_intertemporal_bound_without_the_cap(monkeypatch):
    """The sell fee's bound still matters where the cap does not bind (it is the second line of
    defence): without the cap, a 10% fee lets a full 12.5% rise pay."""

    real = props.fresh_model

    def low_fee_uncapped():
        state = uncapped(real())
        state.params = dataclasses.replace(state.params, sell_fee=WAD // 10)
        return state

    inner = props.test_p5_intertemporal_no_arbitrage_model.hypothesis.inner_test
    example = dict(tier=0, pre=0, d=10**6, capacity=1, served=0.0, x0=0, v0=WAD)
    monkeypatch.setattr(props, "fresh_model", low_fee_uncapped)
    with pytest.raises(AssertionError):
        inner(**example)
    monkeypatch.setattr(props, "fresh_model", real)
    inner(**example)


def test_p5_parameter_check_rejects_a_sell_fee_below_the_bound():
    state = props.fresh_model()
    bad = dataclasses.replace(state.params, sell_fee=hmm.min_sell_fee(state.params.delta_max) - 1)
    with pytest.raises(hmm.HMMError, match="sellFee"):
        bad.check()


def test_p4_fails_when_buy_rounds_the_potential_down(monkeypatch):
    class FloorBuy(hmm.HMMState):
        def buy(self, trader, tid, amount, max_cost, deadline, now):
            t = self.tier(tid)

            def v_floor(q):
                if q == 0:
                    return 0
                return mul_div(t.ref_price * t.depth, hmm.exp_wad(hmm.ratio(q, t.depth)) - WAD, WAD)

            gross = v_floor(t.supply + amount) - v_floor(t.supply)
            cost = gross + hmm.mul_div_up(gross, self.params.buy_fee, WAD)
            t.supply += amount
            self.reserve += gross
            self.hanzo[trader] -= cost
            self.funds += cost
            self.credits[(trader, tid)] = self.credits.get((trader, tid), 0) + amount
            self.basis[(trader, tid)] = self.basis.get((trader, tid), 0) + gross
            return cost

    real = props.fresh_model

    def buggy_model():
        good = real()
        return FloorBuy(**{f.name: getattr(good, f.name) for f in dataclasses.fields(good)})

    monkeypatch.setattr(props, "fresh_model", buggy_model)
    # a quiet epoch (capacity offered, nothing served) lowers the price, so V is no longer a whole
    # number of wei; the first buy then rounds its cost down while the reserve rounds V up
    example = [("redeem", 0, 1, 10**10), ("poke", 0, 1, 1), ("buy", 0, 12_345, 1)]
    body = props.test_p4_solvency_after_every_operation_model.hypothesis.inner_test
    with pytest.raises(AssertionError):
        body(ops=example)
    monkeypatch.setattr(props, "fresh_model", real)
    body(ops=example)  # restored: the same example passes


class NoRetained(hmm.HMMState):
    """The planted bug: issue 16's finding 2 put back. An exit is paid min(release, share) and the
    reserve falls by the release, whatever was paid; nothing is retained for the other holders."""

    def _capped(self, holder, tid, amount, held, take=True):
        t = self.tier(tid)
        release = hmm.released(t, amount)
        value = hmm.released(t, held)
        basis = self.basis.get((holder, tid), 0)
        share = mul_div(basis, release, value) if value else 0
        if take:
            self.basis[(holder, tid)] = basis - share
        return min(release, share), release


class BasisReadOnce(hmm.HMMState):
    """The planted bug: issue 16's finding 1 put back. A batch cuts each element's basis share
    from the balance the sender held before any element moved."""

    def transfer_batch(self, holder, to, moves):
        before = {tid: self.credits.get((holder, tid), 0) for tid, _ in moves}
        for tid, amount in moves:
            held = self._held(holder, tid, amount)
            basis = self.basis.get((holder, tid), 0)
            share = basis * amount // before[tid] if before[tid] else 0
            self.basis[(holder, tid)] = basis - share
            self.credits[(holder, tid)] = held - amount
            self.credits[(to, tid)] = self.credits.get((to, tid), 0) + amount
            self.basis[(to, tid)] = self.basis.get((to, tid), 0) + share


@pytest.mark.parametrize("bug,prop", [
    (NoRetained, "test_p8_honest_holders_at_an_unchanged_price_exit_with_their_basis_in_any_order_model"),
    (BasisReadOnce, "test_p9_every_transfer_batch_or_not_moves_basis_pro_rata_and_leaves_none_without_credits_model"),
])
def test_p8_and_p9_find_the_second_review_bugs_when_they_are_put_back(monkeypatch, bug, prop):
    real = props.fresh_model

    def buggy_model():
        good = real()
        return bug(**{f.name: getattr(good, f.name) for f in dataclasses.fields(good)})

    monkeypatch.setattr(props, "fresh_model", buggy_model)
    with pytest.raises(AssertionError):
        getattr(props, prop)()
    monkeypatch.setattr(props, "fresh_model", real)
    getattr(props, prop)()  # restored: the property holds
