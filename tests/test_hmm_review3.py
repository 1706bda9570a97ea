"""Third review of the market maker (exits, falls and the surplus): attacks that fail, kept as
regressions. Each runs on the deployed contract beside its integer model (`m.apply` checks both).

- Attackers who trade around honest holders at an unchanged price (partial redemptions, at a
  colluding provider, of credits just below an honest holder's, batch transfers naming a tier
  repeatedly to a sybil, gifts) take out no more than they put in, and honest holders exit with
  their basis less the fee on its reference part, to the wei.
- A provider who crashes the price with idle offers (free), exits first (at its accomplice, a
  colluding second provider: to itself is refused, SelfRedemption), pumps the price back and
  leaves, with a sybil holding part of its credits by batch, ends with less HANZO than it put in.
- Governance sweeping the surplus every epoch never makes a poke or an exit revert, and the maker
  holds reserve + surplus exactly after every step.
- Forty one-credit exits or transfers accumulate no basis (nor reference part, refBasis): the
  holder's basis is paid out to the wei, no more (by a redemption, rule 3h, split between the
  provider, paid the reference part, and the holder, refunded the curve's premium; by a transfer,
  the premium back to the holder whole, less the exit fee on the reference part, the reference part to the
  sybil).
"""

from __future__ import annotations

import pytest

from hanzo.econ.fixedpoint import WAD, mul_div_up

from .market import FUNDING, TREASURY, fee_on
from .test_hmm_attacks import give_split, redeem_split, uncongested

@pytest.fixture
def sybil(accounts):
    return accounts[8]  # unfunded, not a provider; gets credits only by transfer


def basis(m, a, tier=0):
    return m.hmm.costBasis(a, tier)


def sold_for(m, basis_):
    return basis_ - mul_div_up(basis_, m.model.params.sell_fee, WAD)


def sold_for_ref(m, basis_, ref):
    """What an exit of a share `basis_`, `ref` of it paid at the reference price, pays back in all: the share
    less the exit fee on its reference part (the curve's premium comes back whole)."""
    return basis_ - mul_div_up(min(basis_, ref), m.model.params.sell_fee, WAD)


def poke(m, who):
    m.advance_epoch()
    m.apply("poke", who)


def test_attackers_trading_around_honest_holders_at_an_unchanged_price_gain_nothing(m, sybil):
    """Honest Alice and Bob buy around the dealer's lots; the dealer redeems part of the lot just
    below Bob's at its accomplice (a colluding provider), batches credits to a sybil naming the tier
    three times, gifts one credit to Bob, and sells in parts. No poke: the price never changes. The
    honest holders, leaving in either order, get their basis less the fee on its reference part (their
    refBasis) to the wei; the dealer,
    sybil and accomplice together end with less than the dealer put in. (The providers offer capacity at
    their target share, uncongested: the attack gains nothing without a congestion charge's help, and the
    unfunded sybil, who gets no refund, could not pay one.)"""
    alice, bob, mal = m.traders
    depth = m.model.tiers[0].depth
    m.apply("buy", alice, 0, depth)
    m.apply("buy", mal, 0, depth // 3)
    m.apply("buy", bob, 0, depth // 3)
    m.apply("buy", mal, 0, depth // 2)
    x = m.accomplice
    m.apply("offer", x, 0, uncongested(m, depth // 4))
    m.apply("redeem", mal, 0, depth // 4, x)  # part of the lots below and above Bob, valued at the top
    held = m.hmm.balanceOf(mal, 0)
    m.apply("give_batch", mal, [(0, held // 5), (0, held // 7), (0, 3)], sybil)
    m.apply("give", mal, 0, 1, bob)  # a gift changes Bob's position
    bases = {a: (basis(m, a), m.hmm.refBasis(a, 0)) for a in (alice, bob)}
    m.apply("sell", mal, 0, m.hmm.balanceOf(mal, 0) // 3)
    n = m.hmm.balanceOf(sybil, 0)
    m.apply("offer", mal, 0, uncongested(m, n))
    m.apply("redeem", sybil, 0, n, mal)
    for a in (bob, alice):
        got, _ = m.apply("sell", a, 0, m.hmm.balanceOf(a, 0))
        assert got == sold_for_ref(m, *bases[a])
    n = m.hmm.balanceOf(mal, 0)
    m.apply("offer", x, 0, uncongested(m, n))
    m.apply("redeem", mal, 0, n, x)
    m.assert_same()
    assert m.token.balanceOf(mal) + m.token.balanceOf(sybil) + m.token.balanceOf(x) < FUNDING
    assert m.hmm.reserve() == 0


@pytest.mark.parametrize("crash_epochs", [1, 3])
def test_a_provider_crashing_leaving_first_and_pumping_back_ends_poorer(m, sybil, crash_epochs):
    """The dealer buys at the top with part of its credits batched to a sybil; Alice leaves;
    idle offers crash the price; the sybil leaves first to the dealer, the dealer to its accomplice
    (a colluding provider: to itself is refused); one-credit redemptions at the accomplice pump the
    price back; the dealer leaves. No exit pays past its basis: dealer, sybil and accomplice end
    with less than the dealer put in (its buy fee at least)."""
    alice, bob, mal = m.traders
    depth = m.model.tiers[0].depth
    m.apply("buy", alice, 0, depth)
    m.apply("buy", bob, 0, depth)
    m.apply("buy", mal, 0, depth + 1000)
    put_in = FUNDING - m.token.balanceOf(mal)
    m.apply("give_batch", mal, [(0, depth // 4), (0, depth // 4)], sybil)
    m.apply("sell", alice, 0, depth)
    for _ in range(crash_epochs):
        m.apply("offer", mal, 0, depth)
        poke(m, mal)
    x = m.accomplice
    m.apply("offer", mal, 0, depth)
    m.apply("redeem", sybil, 0, depth // 2, mal)
    m.apply("offer", x, 0, depth // 2)
    m.apply("redeem", mal, 0, depth // 2, x)
    for _ in range(6):
        m.apply("offer", x, 0, 1)
        m.apply("redeem", mal, 0, 1, x)
        poke(m, mal)
    n = m.hmm.balanceOf(mal, 0)
    m.apply("offer", x, 0, n)
    m.apply("redeem", mal, 0, n, x)
    m.assert_same()
    took_out = m.token.balanceOf(mal) + m.token.balanceOf(sybil) + m.token.balanceOf(x) - (FUNDING - put_in)
    assert took_out < put_in
    assert m.hmm.surplus() >= 0


def test_governance_sweeping_the_surplus_every_epoch_never_blocks_a_poke_or_an_exit(m):
    """Rises (the dealer redeeming at its accomplice's one-credit offer), falls (idle offers) and
    sales, with governance taking the whole surplus after each step: every poke and every honest
    exit succeeds, and the maker holds exactly reserve + surplus."""
    alice, bob, mal = m.traders
    depth = m.model.tiers[0].depth
    m.apply("buy", alice, 0, depth)
    m.apply("buy", bob, 1, depth // 2)
    m.apply("buy", mal, 0, depth // 2)
    m.apply("buy", mal, 1, 1000)
    plan = ["rise", "fall", "rise", "fall", "fall", "rise"]
    for k, move in enumerate(plan):
        for tier in (0, 1):
            if move == "rise":
                m.apply("offer", m.accomplice, tier, 1)
                m.apply("redeem", mal, tier, 1, m.accomplice)
            else:
                m.apply("offer", mal, tier, depth)
        if k == 2:
            m.apply("sell", alice, 0, depth // 3)
        m.apply("withdraw", m.deployer, TREASURY, m.hmm.surplus())
        poke(m, alice)
        held = m.token.balanceOf(m.hmm)
        assert held == m.hmm.reserve() + m.hmm.surplus()
    m.apply("sell", alice, 0, m.hmm.balanceOf(alice, 0))
    m.apply("offer", m.provider, 1, depth)
    m.apply("redeem", bob, 1, depth // 2, m.provider)
    m.assert_same()


@pytest.mark.parametrize("how", ["exits", "transfers"])
def test_one_credit_at_a_time_accumulates_no_basis(m, sybil, how):
    """Forty one-credit exits (or transfers to a sybil, who then leaves) round each share down, and
    the rest of the position is paid exactly what is left: the shares total the basis to the wei, and
    their reference parts the refBasis; each redemption (rule 3h) pays the provider its reference part
    less the exit fee on it (rounded up, as a sale's) and the holder the rest of its share whole (the
    curve's premium): together what a sale pays. Each transfer refunds the holder the premium of its share
    whole, less the exit fee on its reference part, and gives the sybil only the reference part, as its
    basis and refBasis: the sybil accumulates the reference parts to the wei, no more, and its redemption
    pays the provider exactly what they pay. The holder, the sybil and the providers serving them get back
    what a sale of the position pays (1,700,907 HANZO; 1,542,981 before the fee on the reference part,
    session 24): by exits exactly (each credit's reference part, P_ref, takes its fee to the wei: 5 wei
    less before, the fees on the shares rounded up), by transfers 0.005 HANZO less (the exit fee on the
    40 credits' reference part, 0.04 HANZO, is paid once by the transfers and again by the sybil's
    redemption; 5 wei more before)."""
    alice, bob, mal = m.traders
    depth = m.model.tiers[0].depth
    m.apply("buy", alice, 0, depth)
    m.apply("buy", mal, 0, depth // 2)
    m.apply("buy", bob, 0, depth)
    paid_basis, paid_ref = basis(m, mal), m.hmm.refBasis(mal, 0)
    assert paid_ref == depth // 2 * m.hmm.tier(0).refPrice < paid_basis
    total = total_ref = 0
    x = m.accomplice  # the dealer's exits are served by a colluding provider (never to itself)
    m.apply("offer", mal, 0, depth)
    m.apply("offer", x, 0, depth)
    sale = m.hmm.quoteSell(mal, 0, depth // 2)[0]
    assert sale == sold_for_ref(m, paid_basis, paid_ref)
    party = (mal, sybil, x)
    tokens = sum(m.token.balanceOf(a) for a in party)

    def redeem(who, n, provider):
        share, at_ref, payout, refund = redeem_split(m, who, 0, n, provider)
        assert payout == sold_for(m, at_ref) and payout + refund == sold_for_ref(m, share, at_ref)
        return share, at_ref

    for _ in range(40):
        if how == "exits":
            share, at_ref = redeem(mal, 1, x)
        else:
            share, at_ref, _ = give_split(m, mal, [(0, 1)], sybil)
        total, total_ref = total + share, total_ref + at_ref
    if how == "transfers":
        assert (basis(m, sybil), m.hmm.refBasis(sybil, 0)) == (total_ref, total_ref)
        assert redeem(sybil, 40, mal) == (total_ref, total_ref)
    share, at_ref = redeem(mal, m.hmm.balanceOf(mal, 0), x)
    assert (total + share, total_ref + at_ref) == (paid_basis, paid_ref)
    got = sum(m.token.balanceOf(a) for a in party) - tokens
    assert sale == 1_700_907_241_879_019_587_000_000
    again = fee_on(total_ref, m.hmm.exitFee()) if how == "transfers" else 0  # the reference part's fee, twice
    assert (sale - got, again) == (again, {"exits": 0, "transfers": 5 * 10**15}[how])
    bob_basis, bob_ref = basis(m, bob), m.hmm.refBasis(bob, 0)
    m.apply("offer", mal, 0, depth)
    assert redeem(bob, depth, mal) == (bob_basis, bob_ref)
    m.assert_same()
