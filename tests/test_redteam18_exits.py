"""Red team 18, "exits cost alike" (1de7104): a redemption pays out the holder's share of its cost basis
less the exit fee (sellFee, 12.5%), as a sale pays the seller; since rule 3h (docs/pricing_by_flow.md) the
provider gets the reference price's part of it (refBasis) less its fee and the holder the rest back. The exit
fee of every exit is now on that reference part only, the premium coming back whole (on the whole share until
session 24). An ERC1155 transfer is an exit too: its sender pays the exit fee on the reference part of the
share of its basis it moves and, as a redemption, gets the premium back, only the reference part going with the
credits (the receiver's basis and refBasis); this closed the Low finding that rule 3h had opened, a provider paid in
credits by transfer being paid the premium a redemption refunds (section 3).
A greedy user's and a competitor's attacks on every exit path, one test each. A defence that held is a
passing test named after the property, its docstring saying what was tried and the numbers; a finding is an
xfail(strict=True) test asserting the behaviour that should hold, the measured numbers in its reason.

Default parameters (tests/market.py): depth L = 1e9 credits, tier 0 at 0.001 HANZO a credit, buy fee
0.3%, exit fee 12.5%, delta_max 0.1178 (so the exit fee's floor is 11.1%), epochs of a day. The wide
searches run on the exact integer model (hanzo.econ.hmm.HMMState, which the contract matches:
`m.assert_same()` after each replay here)."""

from __future__ import annotations

import dataclasses
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hanzo.econ.fixedpoint import WAD, mul_div_up
from hanzo.econ.hmm import HMMError, min_sell_fee
from hanzo.econ.params import DEFAULT, WEI

from .market import FAR, fee_on, fresh_model, quote_redeem, quote_redemptions
from .test_hmm_attacks import uncongested

LONG = os.environ.get("HANZO_PROPERTIES") == "long"  # the wide searches: `make test-properties-long`

L = 10**9  # the default depth
DAY = 86_400


# ---------------------------------------------------------------- 1. batches and rounding


def test_redeem_batch_of_tiny_repeated_and_mixed_elements_returns_no_more_than_a_sale(m):
    """Tried: a holder of 1,000 credits of tier 0 and 1 L of tier 1 redeems through an accomplice's
    offer by one batch of 200 elements: 100 one-credit elements of tier 0 (each share rounds down,
    each fee could round to 0 for the caller), tier 1 named repeatedly with 1, 2, 3 credits, and the
    rest of each tier at the end; beside it, on the same state, it sells both positions. Result: every
    element's fee rounds up (>= 1 wei, never 0), the batch pays the accomplice and refunds the holder
    (rule 3h: the provider the reference part, the holder the premium) exactly the elements' quotes in
    order, together at most what the two sales pay (the fees of 200 elements sum to at least the fee of
    the whole), the surplus grows by exactly the fees, and the model agrees to the wei. (The accomplice offers
    1.25 times each position, so the batch ends at its target share: no congestion charge.)"""
    holder, x = m.traders[0], m.accomplice
    m.apply("buy", holder, 0, 1000)
    m.apply("buy", holder, 1, L)
    sale = m.hmm.quoteSell(holder, 0, 1000)[0] + m.hmm.quoteSell(holder, 1, L)[0]
    bases = m.hmm.costBasis(holder, 0) + m.hmm.costBasis(holder, 1)
    moves = [(0, 1)] * 100 + [(1, 1), (1, 2), (1, 3)] * 33 + [(0, 900), (1, L - 6 * 33)]
    m.apply("offer", x, 0, uncongested(m, 1000))
    m.apply("offer", x, 1, uncongested(m, L))
    quoted = quote_redemptions(m, holder, moves, x)
    surplus, before, before_h = m.hmm.surplus(), m.token.balanceOf(x), m.token.balanceOf(holder)
    r = m.apply("redeem_batch", holder, moves, x)
    assert not isinstance(r, HMMError), r
    got, refunds = m.token.balanceOf(x) - before, m.token.balanceOf(holder) - before_h
    m.assert_same()
    fees = m.hmm.surplus() - surplus
    print(f"batch of {len(moves)} paid {got} wei and refunded {refunds} wei; the sales pay {sale} wei; fees {fees} wei")
    assert [got, refunds, fees] == quoted and r[0] == got
    assert got + refunds <= sale
    assert m.hmm.balanceOf(holder, 0) == m.hmm.balanceOf(holder, 1) == 0
    assert m.hmm.costBasis(holder, 0) == m.hmm.costBasis(holder, 1) == 0
    assert m.hmm.reserve() == 0
    assert got + refunds + fees == bases  # the shares sum to the bases: nothing but fees stayed behind
    assert fees >= len(moves) and fees >= bases - sale  # each element paid a fee, together at least the sales'


@settings(max_examples=300 if LONG else 60, deadline=None, suppress_health_check=list(HealthCheck))
@given(basis=st.integers(1, 10**30), at_ref=st.integers(0, WAD), held=st.integers(1, 10**12),
       parts=st.lists(st.integers(1, 10**12), max_size=12),
       fee=st.integers(min_sell_fee(DEFAULT.hmm_delta_max), WAD // 2))
def test_splitting_an_exit_never_lowers_its_fees_or_raises_its_pay_model(basis, at_ref, held, parts, fee):
    """Tried: any position (basis, of which any part paid at the reference price: its refBasis; credits
    held), exited in any split of parts (each part's shares of basis and refBasis round down, each fee, on
    the part's reference share, rounds up) at any exit fee the bounds allow, against the whole exited at
    once. Result: the parts pay at most the whole, their fees sum to at least the whole's fee, each fee
    is at most its share (a part never costs more than it carries), and the shares sum to the basis."""
    s = fresh_model()
    s.set_params(dataclasses.replace(s.params, sell_fee=fee))
    s.epoch_exit_fee = fee  # as if the epoch began under it (a raise waits for the next epoch)
    s.tiers[0].supply = held  # the position, written in directly: the exits see only bases and credits
    ref = basis * at_ref // WAD
    s.credits[("A", 0)], s.basis[("A", 0)], s.reserve, s.funds = held, basis, basis, basis
    s.ref_basis[("A", 0)] = ref
    whole = basis - fee_on(ref, fee)
    out, fees, shares, left = 0, 0, 0, held
    for part in parts:
        if part >= left:
            break
        value, ref_value = s._share("A", 0, part, left), s.ref_basis[("A", 0)] * part // left
        proceeds = s.sell("A", 0, part, 0, FAR, 0)
        assert proceeds + fee_on(ref_value, fee) == value and fee_on(ref_value, fee) <= value
        out, fees, shares, left = out + proceeds, fees + fee_on(ref_value, fee), shares + value, left - part
    value, ref_value = s.basis[("A", 0)], s.ref_basis[("A", 0)]
    out += s.sell("A", 0, left, 0, FAR, 0)
    shares, fees = shares + value, fees + fee_on(ref_value, fee)
    assert shares == basis and out <= whole and fees >= fee_on(ref, fee)
    assert s.reserve == 0 and s.surplus() == fees


def test_transfers_with_repeated_ids_before_an_exit_move_no_value(m):
    """Tried: the dealer holds 1 L of tier 0 and 0.5 L of tier 1, moves them to its second wallet by a
    safeBatchTransferFrom naming tier 0 three times (one credit, a third, the rest but a credit) and tier
    1 twice, then moves single credits back one at a time (each share rounding down: the sender keeps the
    fraction), then both wallets leave, one by a sale, the other by a batch redemption at the accomplice.
    Result: after the transfers the refBasis of the two wallets sums to the paid reference parts, their
    bases to the paid gross less the premiums the transfers refunded, and the maker's reserve fell by as
    much (the batch refunded the dealer 2,205,495 HANZO of premium and charged it 750,000 of exit fees on
    the reference parts moved, 1,025,687 on the whole shares before the fee on the reference part, session
    24; the wallet's single credits, carrying their reference part only, refund nothing); the surplus grew
    by exactly the transfers' fees, and the cartel (dealer, wallet, accomplice) gets back the two bases
    less every fee it paid, transfers' and exits' alike: 6,705,495 (session 24: 6,429,808), where the
    whole positions sold pay 7,455,495 (session 24: 7,179,808): one more fee on the reference parts moved
    (750,000 on 6,000,000), and another on those of the 10 credits moved back (0.0055 HANZO, net of the 2
    credits never moved)."""
    d, w, x = m.dealer, m.traders[1], m.accomplice
    m.apply("buy", d, 0, L)
    m.apply("buy", d, 1, L // 2)
    b0, b1 = m.hmm.costBasis(d, 0), m.hmm.costBasis(d, 1)
    r0, r1 = m.hmm.refBasis(d, 0), m.hmm.refBasis(d, 1)
    sale = m.hmm.quoteSell(d, 0, L)[0] + m.hmm.quoteSell(d, 1, L // 2)[0]
    cartel = (d, w, x)
    start = sum(m.token.balanceOf(a) for a in cartel)
    surplus, reserve, own = m.hmm.surplus(), m.hmm.reserve(), m.token.balanceOf(d)
    fees, _ = m.apply("give_batch", d, [(0, 1), (0, L // 3), (1, 7), (0, L - L // 3 - 2), (1, L // 2 - 8)], w)
    premiums = reserve - m.hmm.reserve()  # the premiums refunded leave the reserve
    assert m.token.balanceOf(d) - own == premiums - fees  # settled in one HANZO transfer
    batch = (premiums, fees)
    for _ in range(5):
        fees += m.apply("give", w, 0, 1, d)[0]
        fees += m.apply("give", w, 1, 1, d)[0]
    assert reserve - m.hmm.reserve() == premiums  # the wallet's credits carry no premium: none refunded
    # the reference parts moved whole, the premiums went back to the dealer; the fees went to the surplus
    assert sum(m.hmm.refBasis(a, t) for a in (d, w) for t in (0, 1)) == r0 + r1
    assert sum(m.hmm.costBasis(a, t) for a in (d, w) for t in (0, 1)) == b0 + b1 - premiums == m.hmm.reserve()
    assert m.hmm.surplus() - surplus == fees > fee_on(b0, m.model.params.sell_fee)
    assert sum(m.token.balanceOf(a) for a in cartel) - start == premiums - fees
    for tid in (0, 1):
        m.apply("sell", d, tid, m.hmm.balanceOf(d, tid))
    moves = [(0, m.hmm.balanceOf(w, 0)), (1, m.hmm.balanceOf(w, 1))]
    m.apply("offer", x, 0, uncongested(m, moves[0][1]))  # at target: no congestion charge
    m.apply("offer", x, 1, uncongested(m, moves[1][1]))
    m.apply("redeem_batch", w, moves, x)
    m.assert_same()
    got = sum(m.token.balanceOf(a) for a in cartel) - start
    print(f"the batch refunded {batch[0] / WEI:,.0f} of premium and charged {batch[1] / WEI:,.0f} of fees; "
          f"cartel got {got / WEI:,.0f}; the whole positions sold pay {sale / WEI:,.0f}")
    assert got == b0 + b1 - (m.hmm.surplus() - surplus)  # the bases less every fee, nothing else kept
    assert sale - got >= fee_on(r0, m.model.params.sell_fee) + fee_on(r1, m.model.params.sell_fee)
    assert m.hmm.reserve() == 0
    assert [v // WEI for v in (*batch, got, sale)] == [2_205_494, 749_999, 6_705_494, 7_455_494]


# ---------------------------------------------------------------- 2. epochs, governance, surplus


def test_an_offer_does_not_outlive_its_epoch_and_a_refused_redemption_costs_nothing(m):
    """Tried: the honest provider offers 1 L; a holder redeems half of it; a poke closes the epoch (anyone
    may call it once the epoch has lasted a day); the holder then redeems the rest against the old offer,
    and by a batch. Result: both refused (InsufficientCapacity against the new epoch's empty offer, on
    both sides), nothing moved (the holder keeps its credits and the basis they carry, the provider is
    not paid, the surplus is unchanged); the closed epoch counted the half redeemed against the whole
    offer (utilization 50%); with a fresh offer the rest is paid exactly its basis less the exit fee on
    its reference part, split (rule 3h) into the provider's pay (the rest of the refBasis less that fee)
    and the holder's refund (the premium, whole)."""
    h, p = m.traders[0], m.provider
    m.apply("buy", h, 0, L)
    basis = m.hmm.costBasis(h, 0)
    m.apply("offer", p, 0, L)
    m.apply("redeem", h, 0, L // 2, p)
    m.advance_epoch()
    m.apply("poke", h)
    state = (m.hmm.balanceOf(h, 0), m.hmm.costBasis(h, 0), m.token.balanceOf(p), m.hmm.surplus())
    assert isinstance(m.apply("redeem", h, 0, L // 2, p), HMMError)
    assert isinstance(m.apply("redeem_batch", h, [(0, 1)], p), HMMError)
    assert (m.hmm.balanceOf(h, 0), m.hmm.costBasis(h, 0), m.token.balanceOf(p), m.hmm.surplus()) == state
    assert m.hmm.providerCapacity(0, 0, p) == L // 2  # the old epoch's leftover, dead
    m.apply("offer", p, 0, uncongested(m, L // 2))  # the rest at the provider's target share: no charge
    before, before_h = m.token.balanceOf(p), m.token.balanceOf(h)
    ref = m.hmm.refBasis(h, 0)
    payout, refund, _ = quote_redeem(m, h, 0, L // 2)
    m.apply("redeem", h, 0, L // 2, p)
    m.assert_same()
    rest = basis - basis // 2  # the first half took floor(basis / 2)
    fee = m.model.params.sell_fee
    assert (m.token.balanceOf(p) - before, m.token.balanceOf(h) - before_h) == (payout, refund)
    assert payout == ref - fee_on(ref, fee) and payout + refund == rest - fee_on(ref, fee)


def test_withdrawing_the_whole_surplus_leaves_every_honest_exit_paid(m):
    """Tried: three holders buy on two tiers, one moves part of its credits to another, fees accrue
    (a partial sale, a redemption); governance withdraws the whole surplus, then everyone leaves by every
    path (sale, redemption, batch redemption, through a pump in between: a poke after utilization 100%).
    The exits' offers leave them at the provider's target share (no congestion charge).
    Result: every exit paid its share less the fee on its reference part (its refBasis share; a redemption
    split, rule 3h, into the provider's pay and the holder's refund, each as quoteRedeem said); the maker
    ends holding exactly the fees kept since
    the withdrawal (reserve 0); a withdrawal of one wei more than the surplus is refused at every step."""
    a, b, c = m.traders
    p = m.provider
    m.apply("buy", a, 0, L)
    m.apply("buy", b, 0, L // 3)
    m.apply("buy", c, 1, L // 2)
    m.apply("give", a, 0, L // 4, c)
    m.apply("sell", b, 0, L // 10)
    m.apply("offer", p, 0, L // 10)
    m.apply("redeem", a, 0, L // 10, p)  # above target: its congestion charge is kept in the surplus too
    assert isinstance(m.apply("withdraw", m.deployer, m.hmm.treasury(), m.hmm.surplus() + 1), HMMError)
    m.apply("withdraw", m.deployer, m.hmm.treasury(), m.hmm.surplus())
    assert m.hmm.surplus() == 0
    m.advance_epoch()
    m.apply("poke", a)  # utilization 100%: the price rises; exits still pay bases
    fees = 0
    for who, tid, how in ((a, 0, "redeem"), (b, 0, "sell"), (c, 0, "batch"), (c, 1, "sell")):
        n, basis, ref = m.hmm.balanceOf(who, tid), m.hmm.costBasis(who, tid), m.hmm.refBasis(who, tid)
        fee = fee_on(ref, m.model.params.sell_fee)
        if how == "sell":
            got, _ = m.apply("sell", who, tid, n)
        else:
            m.apply("offer", p, tid, uncongested(m, n))  # at target: no congestion charge
            before, before_who = m.token.balanceOf(p), m.token.balanceOf(who)
            moves = [(tid, n)] if how == "redeem" else [(tid, n // 2), (tid, n - n // 2)]
            quoted = quote_redemptions(m, who, moves, p)
            r = m.apply("redeem", who, tid, n, p) if how == "redeem" else m.apply("redeem_batch", who, moves, p)
            assert not isinstance(r, HMMError), r
            paid, refund = m.token.balanceOf(p) - before, m.token.balanceOf(who) - before_who
            assert [paid, refund] == quoted[:2], (who, tid, how)
            got = paid + refund
            if how == "batch":
                half = ref * (n // 2) // n  # the first element's reference share, the second the rest
                fee = fee_on(half, m.model.params.sell_fee) + fee_on(ref - half, m.model.params.sell_fee)
        assert got == basis - fee, (who, tid, how)
        fees += fee
        assert isinstance(m.apply("withdraw", m.deployer, m.hmm.treasury(), m.hmm.surplus() + 1), HMMError)
    m.assert_same()
    assert m.hmm.reserve() == 0 and m.token.balanceOf(m.hmm) == m.hmm.surplus() == fees


def test_a_fee_raise_waits_for_the_next_epoch_so_a_standing_offer_is_paid_as_documented(m):
    """Red team 18, finding 1 (Low), closed. Tried: governance (timelocked in deployment) raises the exit
    fee to 50% (the bound) after an honest purchase and an honest offer. The fee was read at exit, a
    redemption has no minimum and an offer cannot be taken back: the provider was paid 859,141 HANZO
    for 1 L where 1,503,497 was documented (-42.9%), the rest to the surplus. Now an exit pays the lower
    of the new fee and the fee in force when the epoch began (`exitFee`): the raise waits for the next
    epoch, for sales and redemptions alike (exits still cost alike), so the standing offer is paid as
    documented; from the next epoch, when offers are made knowing it, both exits pay 50%. Since rule 3h
    the documented pay is the reference price's part (refBasis, 1,000,000 for the 1 L) less the fee:
    875,000 at 12.5%, 500,000 at 50%, the holder refunded the rest of what the sale pays (the premium,
    whole: the fee is on the reference part only). (The offers leave
    the redemptions at the provider's target share: no congestion charge.)"""
    h, p = m.traders[0], m.provider
    old = m.model.params.sell_fee
    m.apply("buy", h, 0, L)
    basis, ref = m.hmm.costBasis(h, 0), m.hmm.refBasis(h, 0)
    documented = basis - fee_on(ref, old)
    m.apply("offer", p, 0, uncongested(m, L))  # at target: no congestion charge
    m.set_sell_fee(WAD // 2)
    assert m.hmm.params().sellFee == WAD // 2 and m.hmm.exitFee() == m.model.exit_fee() == old
    assert m.hmm.quoteSell(h, 0, L)[0] == documented  # a sale now pays what the redemption below pays
    payout, refund, _ = quote_redeem(m, h, 0, L)
    assert payout == ref - fee_on(ref, old) == 875_000 * WEI and payout + refund == documented
    before, before_h = m.token.balanceOf(p), m.token.balanceOf(h)
    m.apply("redeem", h, 0, L, p)
    m.assert_same()
    assert (m.token.balanceOf(p) - before, m.token.balanceOf(h) - before_h) == (payout, refund)
    # the next epoch: the raise is in force for both exits, and the change is announced by an event
    m.apply("buy", h, 0, L)
    m.advance_epoch()
    m.model.poke(m.now())  # the time the poke below is mined at
    receipt = m.hmm.poke(sender=h)
    assert [(e.epoch, e.fee) for e in receipt.decode_logs(m.hmm.ExitFeeFixed)] == [(1, WAD // 2)]
    assert m.hmm.exitFee() == m.model.exit_fee() == WAD // 2
    basis, ref = m.hmm.costBasis(h, 0), m.hmm.refBasis(h, 0)
    assert m.hmm.quoteSell(h, 0, L)[0] == basis - fee_on(ref, WAD // 2)
    m.apply("offer", p, 0, uncongested(m, L))
    payout, refund, _ = quote_redeem(m, h, 0, L)
    assert payout == ref - fee_on(ref, WAD // 2) and payout + refund == basis - fee_on(ref, WAD // 2)
    before, before_h = m.token.balanceOf(p), m.token.balanceOf(h)
    m.apply("redeem", h, 0, L, p)
    m.assert_same()
    assert (m.token.balanceOf(p) - before, m.token.balanceOf(h) - before_h) == (payout, refund)


def test_a_fee_cut_applies_at_once_and_a_poke_without_a_change_emits_no_fee_event(m):
    """The other direction of the rule: a cut is in force at once (it can only pay exits more), and the
    epoch's fee follows it at the next poke with no event when it did not change."""
    h = m.traders[0]
    old = m.model.params.sell_fee
    m.apply("buy", h, 0, L)
    m.advance_epoch()
    m.model.poke(m.now())
    assert not m.hmm.poke(sender=h).decode_logs(m.hmm.ExitFeeFixed)  # unchanged: no event
    lower = dataclasses.replace(m.model.params, delta_max=1, sell_fee=old // 2)
    m.hmm.setParams(lower.as_tuple(), sender=m.deployer)
    m.model.set_params(lower)
    assert m.hmm.exitFee() == m.model.exit_fee() == old // 2
    basis = m.hmm.costBasis(h, 0)
    m.apply("sell", h, 0, L)
    m.assert_same()
    assert m.model.hanzo[m.name(h)] == m.token.balanceOf(h)
    assert m.hmm.surplus() == m.model.surplus() and m.hmm.reserve() == 0
    assert m.hmm.epochExitFee() == old and basis > 0


def test_a_fee_cut_between_buy_and_exit_lets_nobody_take_out_more_than_was_paid(m):
    """Tried: the other direction: the dealer buys 1 L at the 12.5% exit fee, governance lowers the fee to
    its floor (first delta_max to 1 wei, which allows an exit fee of 1 wei), then the dealer leaves by a
    sale and by its accomplice's offer (at the accomplice's target share: no congestion charge). Result: it
    gets back its basis less the 1e-18 fee on its reference part (1,000,000 wei in all, on the 1,000,000
    HANZO of its refBasis, of a basis of 1,718,282 HANZO; before the fee on the reference part, session 24:
    1,718,282 wei, on the whole basis), no more; the
    reserve pays it and nothing of the surplus (the fees already kept) is released by the cut."""
    d, x = m.dealer, m.accomplice
    m.apply("buy", d, 0, L)
    basis, ref, surplus = m.hmm.costBasis(d, 0), m.hmm.refBasis(d, 0), m.hmm.surplus()
    p = dataclasses.replace(m.model.params, delta_max=1, sell_fee=1)
    m.hmm.setParams(p.as_tuple(), sender=m.deployer)
    m.model.set_params(p)
    m.apply("offer", x, 0, uncongested(m, L // 2))  # at target: no congestion charge
    before = m.token.balanceOf(x) + m.token.balanceOf(d)
    m.apply("redeem", d, 0, L // 2, x)
    m.apply("sell", d, 0, L - L // 2)
    m.assert_same()
    got = m.token.balanceOf(x) + m.token.balanceOf(d) - before
    half = ref * (L // 2) // L  # the redemption's reference share, the sale's the rest
    fees = fee_on(half, 1) + fee_on(ref - half, 1)  # 1e-18 of each reference share, rounded up: 500,000 wei each
    print(f"basis {basis} wei; got back {got} wei; fees {fees} wei")
    assert got == basis - fees and m.hmm.surplus() == surplus + fees and m.hmm.reserve() == 0


# ---------------------------------------------------------------- 3. the economics of the fee


def _by_redemption_and_by_transfer(m):
    """A customer's 1 L (bought at the base price, so its basis holds the curve's premium over P_ref)
    paid to a provider by redemption at the honest provider (offering 1.25 L, so at its target share: no
    congestion charge), and beside it, on the same state, by
    transfer to the rival (the accomplice account), who resells the credits off-chain at the basis they
    carry to the next customer. Returns the figures (HANZO wei) of both routes."""
    c1, c2, honest, rival = m.traders[0], m.traders[1], m.provider, m.accomplice
    m.apply("buy", c1, 0, L)
    f = {"basis": m.hmm.costBasis(c1, 0), "ref": m.hmm.refBasis(c1, 0)}
    m.apply("offer", honest, 0, uncongested(m, L))  # at target: no congestion charge
    snapshot, model = m.chain.snapshot(), m.model.copy()
    before, before_c, surplus = m.token.balanceOf(honest), m.token.balanceOf(c1), m.hmm.surplus()
    f["quoted"] = quote_redeem(m, c1, 0, L)
    m.apply("redeem", c1, 0, L, honest)
    f["by_redemption"], f["refund"] = m.token.balanceOf(honest) - before, m.token.balanceOf(c1) - before_c
    f["redemption_fee"] = m.hmm.surplus() - surplus
    m.assert_same()
    m.chain.restore(snapshot)
    m.model = model
    # the transfer route: the honest provider's offer stays idle
    own, surplus, reserve = m.token.balanceOf(c1), m.hmm.surplus(), m.hmm.reserve()
    f["fee"], _ = m.apply("give", c1, 0, L, rival)
    f["customer_net"], f["fee_kept"] = m.token.balanceOf(c1) - own, m.hmm.surplus() - surplus
    f["premium"] = reserve - m.hmm.reserve()  # refunded to the customer out of the reserve
    f["claim"], f["claim_ref"] = m.hmm.costBasis(rival, 0), m.hmm.refBasis(rival, 0)
    f["by_sale"] = m.hmm.quoteSell(rival, 0, L)[0]  # the claim in HANZO by a sale: one exit more
    claim = f["claim"]
    m.token.transfer(rival, claim, sender=c2)  # off-chain resale at the basis, settled in HANZO
    m.model.hanzo[m.name(c2)] -= claim
    m.model.hanzo[m.name(rival)] = m.model.hanzo.get(m.name(rival), 0) + claim
    own = m.token.balanceOf(rival)
    fee2, _ = m.apply("give", rival, 0, L, c2)  # the rival pays the fee on handing them on
    f["fee2"], f["premium2"] = fee2, m.token.balanceOf(rival) - own + fee2  # what it got back besides the fee
    f["by_resale"] = claim - fee2
    f["next_customer"] = (m.hmm.costBasis(c2, 0), m.hmm.refBasis(c2, 0))
    f["redeemed"] = m.hmm.tier(0).redeemed
    m.advance_epoch()
    m.apply("poke", c1)
    m.assert_same()
    print(f"basis {f['basis'] / WEI:,.0f} (at P_ref {f['ref'] / WEI:,.0f}); by redemption the provider gets "
          f"{f['by_redemption'] / WEI:,.0f}, the customer {f['refund'] / WEI:,.0f} back (fee "
          f"{f['redemption_fee'] / WEI:,.0f}); by transfer: the customer pays a fee of {f['fee'] / WEI:,.0f} and is "
          f"refunded {f['premium'] / WEI:,.0f} (net {f['customer_net'] / WEI:,.0f}), the rival nets "
          f"{f['by_sale'] / WEI:,.0f} sold, {f['by_resale'] / WEI:,.0f} resold")
    return f


def test_paying_a_provider_by_transfer_costs_the_customer_a_redemptions_fee_and_refunds_its_premium(m):
    """Finding 2 (Medium, economic; closed): paying a provider in credits by ERC1155 transfer cost no
    exit fee, so it dominated redemption by 12.5% for the provider and the customer alike, and the
    compute it paid for was invisible to the controller. Measured before the fix: a customer bought 1 L
    for 1,723,437 HANZO (basis 1,718,282); redeemed at the honest provider, the provider is paid
    1,503,497; transferred to a competing provider, that provider held 1 L carrying the whole basis and
    resold it to the next customer for 1,718,282 (the maker, with the credits kept outstanding, asked
    4,684,787 for the next 1 L): +214,785 HANZO (+14.3%) over the honest provider for the same compute.
    The tier's redeemed count stayed 0: the honest offer idle, utilization 0, the poke cut the price by
    the largest step (x0.889). (Charging the fee out of the basis moved instead put it on whoever
    finally served the credits: red team 19, tests/test_redteam19_transfers.py.)
    Tried again: the competitor (the accomplice account, a provider that behaves honestly otherwise)
    takes payment in credits by safeTransferFrom instead of redemptions, and resells the credits
    off-chain (a HANZO transfer between the two customers' accounts) to the next customer, at the basis
    they carry. Beside it on the same state, the honest provider is paid by redemption (rule 3h: the
    reference part, refBasis 1,000,000 less the fee, 875,000; the customer refunded the premium whole,
    718,282; before the fee on the reference part, session 24: less its fee, 628,497). The sender of a
    transfer pays the exit fee on the reference part of the share it moves and, as a redemption, gets the
    premium back whole: only the reference part goes with the credits (the rule that closed the Low finding
    below). Result: the customer pays the redemption's fee, 125,000 (session 24: 214,785, on the whole share),
    and is refunded the premium, 718,282, in one settlement (net +593,282, where the redemption refunds it
    718,282; session 24: +503,497 and 628,497); the
    competitor's claim is the reference part, 1,000,000 (basis and refBasis alike), which turns into
    875,000 by a sale or by a resale at the basis less the fee it pays handing the credits on (no premium
    is left to refund it): exactly the redemption's pay. The customer and the provider together get
    125,000 less than by redemption (one fee more, on the reference part); the next customer holds the
    basis and refBasis it paid for; the redeemed count stays 0 (the compute still off the book, and paid
    for by that fee)."""
    f = _by_redemption_and_by_transfer(m)
    fee = ref_fee = fee_on(f["ref"], m.model.params.sell_fee)  # the exit fee is on the reference part only
    assert f["quoted"] == (f["by_redemption"], f["refund"], f["redemption_fee"])
    assert f["by_redemption"] == f["ref"] - ref_fee
    assert f["by_redemption"] + f["refund"] == f["basis"] - fee and f["redemption_fee"] == fee
    assert f["fee"] == f["fee_kept"] == fee  # a transfer costs its sender a redemption's fee
    assert f["premium"] == f["basis"] - f["ref"] and f["customer_net"] == f["premium"] - fee  # one settlement
    assert (f["claim"], f["claim_ref"]) == (f["ref"], f["ref"]) == f["next_customer"]  # the reference part only
    assert f["fee2"] == ref_fee and f["premium2"] == 0  # the rival's claim holds no premium to refund
    assert f["by_sale"] == f["by_resale"] == f["by_redemption"]
    assert f["redeemed"] == 0
    pair_by_redemption = f["by_redemption"] + f["refund"]  # the customer and the provider together
    pair_by_transfer = f["by_sale"] + f["customer_net"]
    assert pair_by_transfer == pair_by_redemption - ref_fee
    assert [x // WEI for x in (f["basis"], f["ref"], f["by_redemption"], f["refund"], fee, f["premium"],
                               f["customer_net"], f["by_sale"])] == [
        1_718_281, 1_000_000, 875_000, 718_281, 125_000, 718_281, 593_281, 875_000]


def test_paying_a_provider_by_transfer_pays_no_more_than_a_redemption(m):
    """Finding 2's premise under rule 3h: a Low finding, closed. A transfer moved the whole basis, premium
    included, so a provider paid 1 L (bought at the base price: basis 1,718,282, refBasis 1,000,000) in
    credits by transfer and selling them was paid what a sale pays, 1,503,497 HANZO, where the same
    compute paid by redemption pays it 875,000 and refunds the customer 628,497: +628,497 (+71.8%), the
    curve's premium that rule 3h denies redemptions, paid by the customer (the fee and the refund
    forgone). Now a transfer refunds its sender the premium and moves only the reference part. Tried: as
    above, the customer's 1 L paid to the rival by transfer, who sells the credits or resells them at
    their basis, beside the honest provider paid by redemption on the same state. Result: the rival's
    claim is 1,000,000, and both its sale and its resale pay it 875,000, exactly the redemption's pay: no
    provider is paid more for the same compute by taking credits off the book than by the redemption the
    controller counts."""
    f = _by_redemption_and_by_transfer(m)
    assert max(f["by_sale"], f["by_resale"]) <= f["by_redemption"]
    assert f["by_sale"] == f["by_resale"] == f["by_redemption"] == 875_000 * WEI


def test_an_honest_providers_pay_is_the_documented_share_whoever_redeems(m):
    """Tried: can a customer hand an honest provider credits carrying less than they cost? The
    provider is paid the redeemer's basis share, so the customer mixes its position first: it buys
    1 L at the bottom (an empty tier), then the price is pumped three epochs (utilization 100%) and it
    buys one credit more. Redeeming that one credit pays the average basis of the position, not the
    new price, by design (the price prices purchases only); and a dust transfer can lower a credit's
    basis by less than a wei. Result: the provider is paid, per credit, the redeemer's average
    reference price at purchase (its refBasis per credit, rule 3h; before 3h the average basis) less
    12.5% (never less than the lowest reference price ever paid less the fee), the redeemer refunded the
    rest of its average basis whole (the premium: the fee is on the reference part only), and a credit moved
    alone takes floor(basis / held) off its sender, at most a wei under its share, and carries
    floor(refBasis / held) as both its basis and its refBasis, the sender refunded the rest (the premium)
    less the transfer's exit fee on that reference part: no
    credit carries a zero basis while prices are >= 1e4 wei (MIN_BASE_PRICE * 1e-8)."""
    h, p = m.traders[0], m.provider
    m.apply("buy", h, 0, L)
    low, low_ref = m.hmm.costBasis(h, 0), m.hmm.refBasis(h, 0)
    for _ in range(3):
        m.apply("offer", p, 0, 1)
        m.apply("buy", m.traders[1], 0, 1)
        m.apply("redeem", m.traders[1], 0, 1, p)
        m.advance_epoch()
        m.apply("poke", h)
    m.apply("buy", h, 0, 1)
    assert m.hmm.price(0) > m.model.tiers[0].base_price
    held, basis, ref = m.hmm.balanceOf(h, 0), m.hmm.costBasis(h, 0), m.hmm.refBasis(h, 0)
    last_ref = ref - low_ref  # the one credit's P_ref, the pumped price
    assert last_ref == m.model.tiers[0].ref_price > low_ref // L
    own = m.token.balanceOf(h)
    m.apply("give", h, 0, 1, m.traders[2])
    assert m.hmm.costBasis(m.traders[2], 0) == m.hmm.refBasis(m.traders[2], 0) == ref // held > 0
    assert m.hmm.costBasis(h, 0) == basis - basis // held and m.hmm.refBasis(h, 0) == ref - ref // held
    assert m.token.balanceOf(h) - own == basis // held - ref // held - fee_on(ref // held, m.hmm.exitFee())
    m.apply("offer", p, 0, uncongested(m, 1))  # 2 credits: the one served at target, no congestion charge
    before, before_h = m.token.balanceOf(p), m.token.balanceOf(h)
    m.apply("redeem", h, 0, 1, p)
    got, refund = m.token.balanceOf(p) - before, m.token.balanceOf(h) - before_h
    share = m.model.basis[(m.name(h), 0)]  # after: what is left
    m.assert_same()
    fee = m.model.params.sell_fee
    avg, avg_ref = (basis - basis // held) // (held - 1), (ref - ref // held) // (held - 1)
    assert got == avg_ref - fee_on(avg_ref, fee)
    assert got + refund == avg - fee_on(avg_ref, fee)
    last = basis - low  # the one credit bought after the pump: low on the curve again, its 1 L's position decayed
    assert got >= low_ref // L * 7 // 8 - 1 and last > 0 and share > 0


def test_the_exit_fee_is_the_same_for_every_provider_so_a_rebate_is_only_a_price_cut(m):
    """Tried: a competing provider (the accomplice account) pays its customers' exit fee back off-chain to
    undercut the honest provider. Two customers buy 1 L each (the second at the same price: the first's
    credits are redeemed first, so both buy from an empty tier); one redeems at the honest provider, the
    other at the competitor, who rebates the whole 12.5% fee (each provider offering 1.25 L, the redemption at
    its target share: no congestion charge). Result: the contract pays both providers
    the same (rule 3h: the reference part, 875,000 HANZO for refBasis 1,000,000 of a basis of 1,718,282;
    1,503,497 before 3h) and refunds both customers the same premium, whole (718,282; 628,497 before the
    fee on the reference part, session 24), the fee (125,000, on the reference part; 214,785 in session 24)
    goes to the surplus either way, and the rebate comes out of the competitor's own pay (its net 750,000,
    75.0% of the reference price paid; 660,215 in session 24, 1,288,711 before 3h): an ordinary price cut,
    no edge the protocol hands one provider over another. (Paying by transfer was the edge, finding 2,
    closed above: a transfer now costs the same fee, and refunds its sender the premium, so it pays the
    provider no more than this redemption either.)"""
    c1, c2, honest, rival = m.traders[0], m.traders[1], m.provider, m.accomplice
    pays, refunds, fee = [], [], m.model.params.sell_fee
    for customer, prov in ((c1, honest), (c2, rival)):
        m.apply("buy", customer, 0, L)
        basis, ref = m.hmm.costBasis(customer, 0), m.hmm.refBasis(customer, 0)
        m.apply("offer", prov, 0, uncongested(m, L))  # at target: no congestion charge
        before, before_c, surplus = m.token.balanceOf(prov), m.token.balanceOf(customer), m.hmm.surplus()
        m.apply("redeem", customer, 0, L, prov)
        pays.append(m.token.balanceOf(prov) - before)
        refunds.append(m.token.balanceOf(customer) - before_c)
        assert m.hmm.surplus() - surplus == fee_on(ref, fee)  # the fee on the reference part only
    m.assert_same()
    rebate = fee_on(ref, fee)  # the customer's whole exit fee, paid back off-chain
    net = pays[1] - rebate
    print(f"basis {basis / WEI:,.0f} (at P_ref {ref / WEI:,.0f}); paid {pays[0] / WEI:,.0f} and {pays[1] / WEI:,.0f}"
          f", refunded {refunds[0] / WEI:,.0f} and {refunds[1] / WEI:,.0f}; after a full rebate the competitor nets "
          f"{net / WEI:,.0f} ({net / ref:.1%} of the reference price paid)")
    assert pays[0] == pays[1] == ref - fee_on(ref, fee)
    assert refunds[0] == refunds[1] == basis - fee_on(ref, fee) - pays[0] == basis - ref  # the premium, whole
    assert (pays[0] // WEI, refunds[0] // WEI, net // WEI) == (875_000, 718_281, 750_000)
    assert net < pays[0]


# ---------------------------------------------------------------- 4. the wide search


OPS = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "redeem", "redeem_batch", "give", "give_batch", "offer", "poke", "fee",
                         "withdraw"]),
        st.sampled_from("ABD"),  # the coalition: A, B and the dealer D (a provider)
        st.sampled_from("ABDXH"),  # the other party: a transfer's receiver (H too: gifts), a provider
        st.sampled_from([0, 1]),
        st.one_of(st.sampled_from([1, 2, 3, 7]), st.integers(1, 2 * L)),
        st.integers(0, 2**32),
    ),
    min_size=5, max_size=40)


def _pair(s, pair):
    """The pair's (sum of bases, sum of refBasis, HANZO plus what its positions sell for whole) on both tiers."""
    held = [(x, i, s.credits.get((x, i), 0)) for x in pair for i in (0, 1)]
    return (sum(s.basis.get((x, i), 0) for x, i, _ in held), sum(s.ref_basis.get((x, i), 0) for x, i, _ in held),
            sum(s.hanzo.get(x, 0) for x in pair) + sum(s.quote_sell(x, i, k)[0] for x, i, k in held if k))


@settings(max_examples=400 if LONG else 60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS, h_amount=st.integers(1, 3 * L))
def test_no_exit_path_beats_a_sale_and_the_surplus_is_only_fees_model(ops, h_amount):
    """Tried (Hypothesis, 400 sequences of up to 40 steps on the exact model, two tiers): a coalition A,
    B, the dealer D (a provider) and its accomplice provider X buy, sell (whole and in parts), redeem at
    D, X or the honest P singly and by batches naming tiers repeatedly and mixing them, transfer singly
    and by batches with repeated ids, offer idle capacity (crashes), poke across epochs, while governance
    moves the exit fee anywhere in its bounds and withdraws parts of the surplus. Checked at every step:
    the reserve is the sum of bases and the maker holds reserve + surplus; the surplus moves only by the
    fees and congestion charges (up on every exit by exactly its fee and charge, a transfer's fee included,
    down only by withdrawals); a
    transfer's sender settles the fee on the reference part of the share it moves less the premium refunded
    to it in one HANZO transfer, the receiver's basis grows by the reference part only (for a single move,
    to the wei), the
    refBasis of the pair is conserved and its bases fall by the premiums, as the reserve does, and the
    pair, its HANZO and what its positions sell for together, is never worth more after a transfer than
    before (no transfer beats a sale); every single exit pays exactly
    the sale quote at the same state and every batch exactly the same moves sold in order, less the congestion
    charges the model quotes where a redemption lifts its provider above its target share (a redemption,
    rule 3h, in two parts: the provider min(share, refShare) less its fee, as quote_redeem says, and the
    holder the rest less its charge), so no exit returns more than the sale; no basis without credits, and no
    refBasis above its basis. At the end, with everyone
    out (D through X), the coalition got back no more than it put in
    and the honest H, who bought once (and may have been handed credits of any basis by the coalition),
    got its whole basis, never less than what it paid, less the fee in force at its exit on its reference
    part (its refBasis)."""
    s = fresh_model()
    coalition = ["A", "B", "D", "X"]
    start = sum(s.hanzo[a] for a in coalition)
    t = 0
    s.buy("H", 0, h_amount, 2**255, FAR, t)
    h_basis = s.basis[("H", 0)]
    floor = min_sell_fee(s.params.delta_max)
    for op, who, other, tid, n, r in ops:
        if op in ("sell", "redeem", "redeem_batch", "give", "give_batch") and not s.credits.get((who, tid), 0):
            try:  # something to exit or move: a purchase first (its fee checked as a buy's below would be)
                s.buy(who, tid, n, 2**255, FAR, t)
            except HMMError:
                pass
        before = s.copy()
        held = s.credits.get((who, tid), 0)
        surplus = s.surplus()
        expected_fee = None
        try:
            if op == "buy":
                s.buy(who, tid, n, 2**255, FAR, t)
                expected_fee = mul_div_up(s.basis[(who, tid)] - before.basis.get((who, tid), 0), s.params.buy_fee, WAD)
            elif op == "sell" and held:
                k = min(n, held)
                quote, fee = s.quote_sell(who, tid, k)
                assert s.sell(who, tid, k, 0, FAR, t) == quote
                expected_fee = fee
            elif op in ("redeem", "redeem_batch") and held:
                prov = other if other != who else "P"
                if prov in ("A", "B", "H"):
                    prov = "P"
                if op == "redeem":
                    k = min(n, held)
                    quote, fee = s.quote_sell(who, tid, k)
                    split = s.quote_redeem(who, tid, k)
                    share = s._share(who, tid, k, held)
                    at_ref = min(share, s.ref_basis.get((who, tid), 0) * k // held if k < held
                                 else s.ref_basis.get((who, tid), 0))
                    assert split[0] == at_ref - mul_div_up(at_ref, s.exit_fee(), WAD) and split[2] == fee
                    s.offer_capacity(prov, tid, k)  # exactly k: charged unless the provider had room
                    charge = s.quote_redeem_at(who, tid, k, prov)[3]
                    got = s.redeem_split(who, tid, k, prov)
                    assert got == (split[0], split[1] - charge) and sum(split[:2]) == quote
                    assert sum(got) <= quote  # a charged redemption returns less than the sale
                    expected_fee = fee + charge  # the charge is kept in the surplus beside the fee
                else:
                    moves = [(tid, 1), (tid, min(n, held) // 2 or 1)]
                    if s.credits.get((who, 1 - tid), 0):
                        moves.insert(1, (1 - tid, 1))
                    trial = s.copy()  # the same moves as sales, in order, at the same state
                    sales = sum(trial.sell(who, i, k, 0, FAR, t) for i, k in moves)
                    for i, k in moves:
                        s.offer_capacity(prov, i, k)
                    single, charges = s.copy(), 0  # a batch charges as its elements one after another would
                    for i, k in moves:
                        charges += single.quote_redeem_at(who, i, k, prov)[3]
                        single.redeem_split(who, i, k, prov)
                    own, paid_before = s.hanzo[who], s.hanzo.get(prov, 0)
                    paid = s.redeem_batch(who, moves, prov)
                    assert paid == s.hanzo[prov] - paid_before and paid + s.hanzo[who] - own == sales - charges
                    assert paid + s.hanzo[who] - own <= sales
                    expected_fee = trial.surplus() - surplus + charges
            elif op in ("give", "give_batch") and held:
                if op == "give":
                    moves = [(tid, min(n, held))]
                else:
                    a = r % (held + 1)
                    moves = [(tid, a), (tid, 0), (1 - tid, 0), (tid, (held - a) // 2)]
                pair = {who, other}
                bases, refs, worth = _pair(s, pair)
                paying, reserve, received = s.hanzo[who], s.reserve, s.basis.get((other, tid), 0)
                share = s.basis.get((who, tid), 0) * moves[0][1] // held
                ref_share = s.ref_basis.get((who, tid), 0) * moves[0][1] // held
                fees, premiums = s.transfer_split(who, other, moves)  # a transfer costs as an exit (finding 2)
                if op == "give" and other != who:  # the reference part moves, the premium goes back
                    assert (fees, premiums) == (mul_div_up(ref_share, s.exit_fee(), WAD), share - ref_share)
                    assert s.basis[(other, tid)] - received == ref_share
                after = _pair(s, pair)
                assert paying - s.hanzo[who] == fees - premiums  # one settlement, the sender's
                assert after[:2] == (bases - premiums, refs) and s.reserve == reserve - premiums
                assert after[2] <= worth  # the pair is never richer than its credits sold were
                expected_fee = fees  # what the sender owed, and nothing else, to the surplus
            elif op == "offer":
                s.offer_capacity(other if other in ("D", "X") else "P", tid, n)
                expected_fee = 0
            elif op == "poke":
                t += DAY
                s.poke(t)
                expected_fee = 0
            elif op == "fee":
                s.set_params(dataclasses.replace(s.params, sell_fee=floor + r * (WAD // 2 - floor) // 2**32))
                expected_fee = 0
            elif op == "withdraw":
                s.withdraw_surplus("T", s.surplus() * (r % 101) // 100)
        except HMMError:
            s = before
            expected_fee = 0
        assert s.reserve == sum(s.basis.values())
        assert s.funds == s.reserve + s.surplus() and s.surplus() >= 0
        if op != "withdraw" and expected_fee is not None:
            assert s.surplus() - surplus == expected_fee, (op, who, tid, n)
        for (holder, i), b in s.basis.items():
            assert b == 0 or s.credits.get((holder, i), 0) > 0, (holder, i, b)
            assert s.ref_basis.get((holder, i), 0) <= b, (holder, i, b)
    for who in ["A", "B", "D", "X", "H"]:
        for i in (0, 1):
            k = s.credits.get((who, i), 0)
            if not k:
                continue
            if who == "D":
                s.offer_capacity("X", i, k)
                s.redeem("D", i, k, "X")
            else:
                before_h, fee, basis = s.hanzo[who], s.exit_fee(), s.basis.get((who, i), 0)
                ref = s.ref_basis.get((who, i), 0)
                s.sell(who, i, k, 0, FAR, t)
                if who == "H" and i == 0:  # its own purchase, and whatever the coalition gave it
                    assert s.hanzo["H"] - before_h == basis - mul_div_up(ref, fee, WAD)  # the fee on the reference part
                    assert basis >= h_basis  # a gift never takes basis away
    assert s.reserve == 0 and s.funds == s.surplus()
    assert sum(s.hanzo.get(a, 0) for a in coalition) <= start


def test_contract_agrees_with_model_through_fee_changes_batches_and_epochs(m):
    """The searches above run on the model; this replays 60 random steps of the same kinds on the
    contract beside it (m.apply fails on any difference of result or revert), with governance moving
    the exit fee between steps, and compares every balance, basis, price and the surplus at the end."""
    import random

    rng = random.Random(18)
    floor = min_sell_fee(m.model.params.delta_max)
    a, b, d = m.traders
    who_all, provs = [a, b, d], [m.provider, m.accomplice, d]
    for _ in range(60):
        who, tid, other = rng.choice(who_all), rng.choice([0, 1]), rng.choice(who_all + [m.accomplice])
        held = m.hmm.balanceOf(who, tid)
        n = rng.choice([1, 2, 7, rng.randint(1, L // 2)])
        op = rng.random()
        if op < 0.2 or not held:
            m.apply("buy", who, tid, n)
        elif op < 0.3:
            m.apply("sell", who, tid, min(n, held))
        elif op < 0.45:
            prov = rng.choice(provs)
            m.apply("offer", prov, tid, n)
            m.apply("redeem", who, tid, min(n, held), prov)  # to itself: refused alike
        elif op < 0.55:
            prov = rng.choice(provs)
            moves = [(tid, 1), (tid, 1), (tid, max(1, min(n, held) // 3)), (1 - tid, 1)]
            m.apply("offer", prov, 0, 10 * L)
            m.apply("offer", prov, 1, 10 * L)
            m.apply("redeem_batch", who, moves, prov)
        elif op < 0.7:
            m.apply("give", who, tid, rng.choice([1, held, rng.randint(0, held)]), other)
        elif op < 0.78:
            x = rng.randint(0, held)
            m.apply("give_batch", who, [(tid, x), (tid, 0), (tid, rng.randint(0, held - x)), (1 - tid, 0)], other)
        elif op < 0.86:
            m.advance_epoch()
            m.apply("poke", who)
        elif op < 0.94:
            m.set_sell_fee(floor + rng.randint(0, WAD // 2 - floor))
        else:
            m.apply("withdraw", m.deployer, m.hmm.treasury(), m.hmm.surplus() // 2)
        assert m.hmm.reserve() == m.model.reserve == sum(m.model.basis.values())
    m.assert_same()
