"""Buying and redeeming several tiers in one transaction (buyBatch, redeemBatch): the same credits,
bases (and their reference parts, refBasis), costs, payouts and refunds as the single calls in the
batch's order, one HANZO transfer instead of one a tier (a redemption: one to the provider and one
summed refund to the holder, rule 3h), and all or nothing. On the contract beside its integer model
(tests/market.py)."""

from __future__ import annotations

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hanzo.econ.hmm import HMMError, HMMState
from hanzo.econ.params import DEFAULT

moves = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3 * 10**9)), min_size=1, max_size=5)


def _model() -> HMMState:
    m = HMMState.from_tokenomics(DEFAULT)
    m.hanzo["t"] = 10**40
    m.providers.add("p")
    return m


@settings(max_examples=200, deadline=None)
@given(batch=moves)
def test_a_batch_buy_is_the_single_buys_in_its_order_model(batch):
    one, many = _model(), _model()
    try:
        paid = many.buy_batch("t", batch, 2**255, 1, 0)
    except HMMError as exc:  # a batch past the depth bound refuses what the singles would refuse
        assert exc.name == "DepthExceeded"
        with pytest.raises(HMMError, match="DepthExceeded"):
            for tid, n in batch:
                one.buy("t", tid, n, 2**255, 1, 0)
        return
    assert paid == sum(one.buy("t", tid, n, 2**255, 1, 0) for tid, n in batch)
    assert (one.reserve, one.funds, one.basis, one.ref_basis, one.credits) == (
        many.reserve, many.funds, many.basis, many.ref_basis, many.credits)
    assert [t.supply for t in one.tiers] == [t.supply for t in many.tiers]


@settings(max_examples=200, deadline=None)
@given(buys=moves, batch=moves)
def test_a_batch_redemption_is_the_single_redemptions_in_its_order_or_nothing_model(buys, batch):
    m = _model()
    for tid, n in buys:
        try:
            m.buy("t", tid, n, 2**255, 1, 0)
        except HMMError:
            pass
    for tid in range(3):
        m.offer_capacity("p", tid, 2 * 10**9)
    one, before = m.copy(), m.copy()
    try:
        paid = m.redeem_batch("t", batch, "p")
    except HMMError as exc:
        # refused whole: nothing moved, and the singles fail at the same element for the same reason
        assert (m.funds, m.basis, m.ref_basis, m.credits, m.hanzo) == (
            before.funds, before.basis, before.ref_basis, before.credits, before.hanzo)
        with pytest.raises(HMMError) as single:
            for tid, n in batch:
                one.redeem("t", tid, n, "p")
        assert single.value.name == exc.name
        return
    assert paid == sum(one.redeem("t", tid, n, "p") for tid, n in batch)
    assert (one.reserve, one.funds, one.basis, one.ref_basis, one.credits, one.hanzo) == (
        m.reserve, m.funds, m.basis, m.ref_basis, m.credits, m.hanzo)


@settings(max_examples=8, deadline=None)
@given(buys=moves, redeems=moves)
def test_batches_on_the_contract_match_the_model_to_the_wei(market_factory, buys, redeems):
    m = market_factory()
    t = m.traders[0]
    m.apply("buy_batch", t, buys)
    for tid in range(3):
        m.apply("offer", m.provider, tid, 2 * 10**9)
    m.apply("redeem_batch", t, redeems)
    m.assert_same()
    for tid in range(3):  # assert_same does not read refBasis
        assert m.hmm.refBasis(t, tid) == m.model.ref_basis.get((m.name(t), tid), 0)


def test_a_tier_named_twice_costs_what_two_single_buys_cost_and_moves_one_transfer(m):
    a = m.traders[0]
    before = m.model.copy()
    cost, receipt = m.apply("buy_batch", a, [(0, 10**9), (0, 10**9), (2, 5 * 10**8)])
    name = m.name(a)
    expected = sum(before.buy(name, tid, n, 2**255, 2**64, 0) for tid, n in [(0, 10**9), (0, 10**9), (2, 5 * 10**8)])
    assert cost == expected
    assert m.hmm.costBasis(a, 0) == before.basis[(name, 0)] and m.hmm.costBasis(a, 2) == before.basis[(name, 2)]
    transfers = receipt.decode_logs(m.token.Transfer)
    assert [(str(t.event_arguments["from"]), t.value) for t in transfers] == [(name, cost)]
    assert [e.amount for e in receipt.decode_logs(m.hmm.Bought)] == [10**9, 10**9, 5 * 10**8]
    m.assert_same()


def test_a_batch_buy_over_its_limit_is_refused_whole(m):
    a = m.traders[0]
    batch = [(0, 10**9), (1, 10**9)]
    total = m.model.copy().buy_batch(m.name(a), batch, 2**255, 2**64, 0)
    held = m.token.balanceOf(a)
    out = m.apply("buy_batch", a, batch, total - 1)
    assert isinstance(out, HMMError) and out.name == "Slippage"
    assert m.token.balanceOf(a) == held and m.hmm.balanceOf(a, 0) == 0 and m.hmm.reserve() == 0
    assert m.apply("buy_batch", a, [], 2**255).name == "ZeroAmount"
    assert m.apply("buy_batch", a, [(0, 10**9), (1, 0)]).name == "ZeroAmount"
    with ape.reverts(m.hmm.ERC1155InvalidArrayLength, idsLength=2, valuesLength=1):
        m.hmm.buyBatch([0, 1], [10**9], 2**255, 2**64, sender=a)
    with ape.reverts(m.hmm.ERC1155InvalidArrayLength, idsLength=1, valuesLength=2):
        m.hmm.redeemBatch([0], [1, 2], m.provider, 0, 2**64, sender=a)
    m.assert_same()


def test_a_batch_redemption_past_the_offer_on_its_last_element_is_refused_whole(m):
    """Refused at its last element, the batch moves nothing; within the offer it pays what the single
    redemptions in its order would (rule 3h: the provider the credits' reference part less the fee, the
    holder the curve's premium back less its fee), in two transfers: the provider's pay, then the
    holder's summed refund."""
    a = m.traders[0]
    m.apply("buy_batch", a, [(0, 10**9), (1, 10**9)])
    m.apply("offer", m.provider, 0, 10)
    m.apply("offer", m.provider, 1, 10**9)
    basis = m.hmm.costBasis(a, 0), m.hmm.costBasis(a, 1), m.hmm.refBasis(a, 0), m.hmm.refBasis(a, 1)
    held = m.token.balanceOf(a)
    out = m.apply("redeem_batch", a, [(1, 10**8), (0, 4), (0, 7)])
    assert isinstance(out, HMMError) and out.name == "InsufficientCapacity" and out.args_[1:] == (7, 6)
    assert (m.hmm.costBasis(a, 0), m.hmm.costBasis(a, 1), m.hmm.refBasis(a, 0), m.hmm.refBasis(a, 1)) == basis
    assert m.token.balanceOf(m.provider) == 0 and m.token.balanceOf(a) == held
    batch = [(1, 10**8), (0, 4), (0, 4)]  # 8 of 10: at the target, no congestion charge
    singles, name = m.model.copy(), m.name(a)
    splits = [singles.redeem_split(name, tid, n, m.name(m.provider)) for tid, n in batch]  # before the batch
    payout, refund = sum(p for p, _ in splits), sum(r for _, r in splits)
    assert refund > 0  # the credits were bought up the curve: the premium comes back
    paid, receipt = m.apply("redeem_batch", a, batch)
    assert paid == payout
    transfers = [(str(t.event_arguments["to"]), t.value) for t in receipt.decode_logs(m.token.Transfer)]
    assert transfers == [(str(m.provider.address), payout), (name, refund)]  # one payment, one refund: the batch
    assert [(e.payout, e.refund) for e in receipt.decode_logs(m.hmm.Redeemed)] == splits
    assert m.token.balanceOf(m.provider) == payout and m.token.balanceOf(a) == held + refund
    assert (m.hmm.refBasis(a, 0), m.hmm.refBasis(a, 1)) == (singles.ref_basis[(name, 0)], singles.ref_basis[(name, 1)])
    m.assert_same()
