"""Red team 17, the market maker after 0231cfa (every exit pays the holder's share of its own cost
basis; the reserve is the sum of bases; a poke owes nothing). A greedy user's attacks, one test
each. A defence that held is a passing test whose docstring says what was tried and the numbers;
a finding is an xfail(strict=True) test asserting the behaviour that should hold.

Default parameters (tests/market.py): depth L = 1e9 credits, tier 0 at 0.001 HANZO a credit,
buy fee 0.3%, sell fee 12.5%, delta_max 0.1178, target utilization 80%. Searches run on the exact
integer model (hanzo.econ.hmm.HMMState); what they find is replayed on the contract beside it."""

from __future__ import annotations

import dataclasses
import random

import ape
import pytest

from hanzo.econ.fixedpoint import WAD, mul_div_up
from hanzo.econ.hmm import LN2_WAD, MAX_LOG_PRICE, HMMError
from hanzo.econ.params import DEFAULT, WEI

from .market import FAR, KAPPA, charge_on, fee_on, fresh_model, quote_redeem, quote_redemptions
from .test_hmm_attacks import give_split

L = 10**9  # the default depth
DAY = 86_400


# ---------------------------------------------------------------- 1. more out than in


def test_model_search_no_coalition_takes_out_more_than_it_paid():
    """Tried: 400 random sequences of 40 steps on the model, a coalition A, B, D and X (D a provider, X
    a second provider colluding with it: a redemption to oneself is refused) buying, partially and
    wholly selling at the top-of-curve valuation, moving credits by single transfers and by batches
    naming an id repeatedly or with zero values, transferring one credit at a time (rounding),
    redeeming at D, X and the honest P (D to itself is tried and refused), pumping (redemptions at
    X) and crashing (idle offers) between steps. Checked after every step: the reserve is the sum of
    bases and bases sum per tier to what the holders paid net of exits, surplus = funds - reserve
    never falls, no holder has basis without credits, and at the end, after everyone leaves, the
    coalition (its HANZO plus what D and X were paid) never got back more than it put in, and the
    honest H (who bought once and never traded) got exactly her basis less the sell fee on its reference
    part (the premium back whole, since the exit fee on the reference part). Result: held in every run; the
    best coalition outcome was a net loss (fees)."""
    rng = random.Random(17)
    coalition = ["A", "B", "D"]
    for run in range(400):
        s = fresh_model()
        start = {a: s.hanzo[a] for a in s.hanzo}
        t = 0
        s.buy("H", 0, rng.randint(1, 3 * L), 2**255, FAR, t)
        h_basis, h_ref = s.basis[("H", 0)], s.ref_basis[("H", 0)]
        surplus = s.surplus()
        for _ in range(40):
            who = rng.choice(coalition)
            op = rng.random()
            held = s.credits.get((who, 0), 0)
            before = s.copy()
            try:
                if op < 0.25:
                    s.buy(who, 0, rng.choice([1, 7, rng.randint(1, 2 * L)]), 2**255, FAR, t)
                elif op < 0.4 and held:
                    s.sell(who, 0, rng.choice([1, held, rng.randint(1, held)]), 0, FAR, t)
                elif op < 0.55 and held:
                    to = rng.choice([c for c in coalition if c != who] + [who])
                    s.transfer(who, to, 0, rng.choice([0, 1, held, rng.randint(0, held)]))
                elif op < 0.62 and held:
                    a = rng.randint(0, held)
                    s.transfer_batch(who, rng.choice(coalition), [(0, a), (0, 0), (0, rng.randint(0, held - a))])
                elif op < 0.67 and held:
                    for _ in range(5):  # one credit at a time: each share rounds down
                        s.transfer(who, rng.choice(coalition), 0, 1) if s.credits.get((who, 0), 0) else None
                elif op < 0.82 and held:
                    n = rng.choice([1, held, rng.randint(1, held)])
                    prov = rng.choice(["D", "P", "X"])
                    s.offer_capacity(prov, 0, n)
                    if who == prov:  # to oneself: refused and nothing moves (the offer stays, idle)
                        with pytest.raises(HMMError, match="SelfRedemption"):
                            s.redeem(who, 0, n, prov)
                        assert s.tiers[0].redeemed == before.tiers[0].redeemed
                    else:
                        s.redeem(who, 0, n, prov)
                elif op < 0.9:
                    s.offer_capacity(rng.choice(["D", "P", "X"]), 0, rng.randint(1, 5 * L))  # idle: a crash
                else:
                    t += DAY
                    s.poke(t)
            except HMMError:
                s = before
            assert s.reserve == sum(s.basis.values())
            assert s.surplus() >= surplus
            surplus = s.surplus()
            for (holder, tid), b in s.basis.items():
                assert b == 0 or s.credits.get((holder, tid), 0) > 0, (holder, b)
        # everyone leaves, D by redeeming at its accomplice X (the exit fee, as on a sale)
        for who in coalition + ["H"]:
            n = s.credits.get((who, 0), 0)
            if n:
                if who == "D":
                    s.offer_capacity("X", 0, n)
                    s.redeem("D", 0, n, "X")
                else:
                    before_h = s.hanzo[who]
                    s.sell(who, 0, n, 0, FAR, t)
                    if who == "H":
                        assert s.hanzo["H"] - before_h == h_basis - mul_div_up(h_ref, s.params.sell_fee, WAD)
        assert s.reserve == 0 and s.tiers[0].supply == 0
        net = sum(s.hanzo[a] - start[a] for a in coalition + ["X"])
        assert net <= 0, (run, net)
        assert s.surplus() == s.funds >= 0


# ---------------------------------------------------------------- 2. the contract beside the model


def test_contract_agrees_with_model_after_odd_sequences(m):
    """Tried on the contract beside the model, assert_same after every step: batches naming tier 0
    three times (one value zero), a self-transfer, one-credit transfers, partial exits at the top of
    the curve, a redemption at the dealer's accomplice (pump; to itself is refused), idle offers
    (crash), pokes, a
    surplus withdrawal, then everyone leaves. Result: the contract and the model agree to the wei
    at every step; the traders and the accomplice together got back less than they paid (one received
    another's credits and their reference part, so alone it is up); the honest provider was paid the
    redeemed credits' share of their holder's refBasis less the exit fee, the holder the rest of a sale's
    proceeds (rule 3h; the model, which pays so, agrees with the contract to the wei)."""
    a, b, d = m.traders
    start = {str(x): m.token.balanceOf(x) for x in m.traders}
    steps = [
        ("buy", a, 0, 2 * L), ("buy", b, 0, L // 3), ("buy", d, 1, 10**8),
        ("give_batch", a, [(0, L // 2), (0, 0), (0, L // 4)], b),
        ("give", a, 0, 12345, a),  # to itself
        ("give", a, 0, 1, b), ("give", a, 0, 1, b), ("give", b, 0, 1, a),
        ("sell", b, 0, L // 5), ("offer", d, 0, L), ("give", a, 0, L // 7, d),
        ("offer", m.accomplice, 0, L // 7), ("redeem", d, 0, L // 7, m.accomplice), ("offer", m.provider, 0, L),
        ("redeem", b, 0, 1000, m.provider), ("poke", a),
        ("give_batch", d, [(1, 3), (1, 10**8 - 3)], a),  # the whole position, in two elements
        ("offer", m.provider, 0, 40 * L), ("poke", b), ("sell", a, 0, 1), ("sell", a, 1, 7),
        ("buy", b, 0, L), ("give_batch", b, [(0, 5), (0, 5), (0, 0)], a), ("poke", d),
    ]
    for step in steps:
        if step[0] == "poke":
            m.advance_epoch()
        r = m.apply(*step)
        assert not isinstance(r, HMMError), (step, r)
        m.assert_same()
    # the surplus is fees; governance takes it all, and holders can still all leave
    m.apply("withdraw", m.deployer, m.hmm.treasury(), m.hmm.surplus())
    m.assert_same()
    for who in m.traders:
        for tid in (0, 1):
            n = m.hmm.balanceOf(who, tid)
            if n:
                m.apply("sell", who, tid, n)
    m.assert_same()
    assert m.hmm.reserve() == 0 and m.token.balanceOf(m.hmm) == m.hmm.surplus()
    gained = sum(m.token.balanceOf(who) - start[str(who)] for who in m.traders) + m.token.balanceOf(m.accomplice)
    assert gained < 0, gained  # the three traders and the accomplice together (its provider pay included)


def test_batch_naming_an_id_repeatedly_moves_no_extra_basis(m):
    """Tried: safeBatchTransferFrom naming tier 0 as [a, 0, b, 0] and as [held, 1] (more than
    held), and a batch mixing tiers [1, 0, 1, 0, 1] that empties tier 1. Result: [a, 0, b, 0] (a = b =
    L/3) moves exactly what one transfer of a + b moves and what two transfers, of a then of b, move: the
    sender gives up 1,145,521 HANZO of its 1,718,282 basis, the receiver gets their reference part, 666,667
    (as basis and refBasis), the sender the premium, 478,855, back whole, less the exit fee on the reference parts,
    83,333 (on the whole shares before the exit fee on the reference part, session 24: 143,190):
    no extra basis, no premium refunded twice, refBasis conserved; the mixed batch leaves the sender no
    basis in the tier it empties and its receiver that tier's reference part; over-naming reverts as in
    OpenZeppelin on both sides (ERC1155InsufficientBalance) and moves nothing."""
    a, b, c = m.traders
    m.apply("buy", a, 0, L)
    basis, ref = m.hmm.costBasis(a, 0), m.hmm.refBasis(a, 0)
    names = m.name(a), m.name(b)
    once, twice = m.model.copy(), m.model.copy()
    whole = once.transfer_split(*names, [(0, 2 * (L // 3))])
    halves = [twice.transfer_split(*names, [(0, L // 3)]) for _ in range(2)]
    share, at_ref, fees = give_split(m, a, [(0, L // 3), (0, 0), (0, L // 3), (0, 0)], b)
    assert (fees, share - at_ref) == whole == tuple(map(sum, zip(*halves)))
    assert (share, at_ref) == (1_145_521_217_827_175_604_360_636, 666_666_666 * 10**15)
    assert whole == (83_333_333_250 * 10**12, 478_854_551_827_175_604_360_636)  # before: fee 143,190
    for s in (once, twice):
        assert (s.basis[(names[1], 0)], s.ref_basis[(names[1], 0)]) == (at_ref, at_ref)
        assert (s.basis[(names[0], 0)], s.ref_basis[(names[0], 0)]) == (basis - share, ref - at_ref)
    m.apply("buy", a, 1, 1000)
    ref_1 = m.hmm.refBasis(a, 1)
    give_split(m, a, [(1, 10), (0, 7), (1, 0), (0, 7), (1, 990)], c)  # mixed tiers, tier 1 whole
    assert (m.hmm.costBasis(a, 1), m.hmm.refBasis(a, 1)) == (0, 0)
    assert m.hmm.costBasis(c, 1) == m.hmm.refBasis(c, 1) == ref_1 > 0
    before = m.model.copy()
    err = m.apply("give_batch", a, [(0, m.hmm.balanceOf(a, 0)), (0, 1)], c)
    assert isinstance(err, HMMError) and err.name == "ERC1155InsufficientBalance" and m.model == before
    m.assert_same()


def test_many_tiny_exits_and_transfers_round_for_the_market():
    """Tried (model, exact): 2,000 one-credit sales and 2,000 one-credit transfers from a position
    of 1e6 credits (0.001 L, basis 1,000.5 HANZO), then the rest, and the receiver's sale. Each share
    rounds down, so a one-credit exit or transfer takes at most its exact share; the last, whole exit
    takes exactly what is left. Result: the shares sold, the shares transferred and the rest total the
    basis to the wei (never more), their reference parts the refBasis; each transfer refunds the sender
    exactly its share's premium less the exit fee on its reference part, and the receiver holds only the reference
    parts (2 HANZO, as basis and refBasis, the pro-rata refBasis to the wei); refBasis is conserved by
    every transfer, the reserve stays the sum of bases; the two together get back 875.250 HANZO, 0.25 (the
    fee on the transferred reference part, paid a second time by the receiver's sale) less than one sale of
    the position pays, to the wei (before the exit fee on the reference part, session 24: 875.188, and 1,500
    wei more, the fees on the shares each rounded up; a credit's reference part, 1e15 wei, takes an exact
    fee), and the surplus holds the difference to the basis."""
    s = fresh_model()
    s.buy("A", 0, 10**6, 2**255, FAR, 0)
    paid, paid_ref = s.basis[("A", 0)], s.ref_basis[("A", 0)]
    sale = s.copy().sell("A", 0, 10**6, 0, FAR, 0)
    start, surplus = s.hanzo["A"] + s.hanzo["B"], s.surplus()
    sold = sold_ref = moved = moved_ref = 0
    for _ in range(2000):
        basis, ref = s.basis[("A", 0)], s.ref_basis[("A", 0)]
        s.sell("A", 0, 1, 0, FAR, 0)
        sold, sold_ref = sold + basis - s.basis[("A", 0)], sold_ref + ref - s.ref_basis[("A", 0)]
        basis, ref, hanzo = s.basis[("A", 0)], s.ref_basis[("A", 0)], s.hanzo["A"]
        refs = ref + s.ref_basis.get(("B", 0), 0)
        fee, premium = s.transfer_split("A", "B", [(0, 1)])
        share, at_ref = basis - s.basis[("A", 0)], ref - s.ref_basis[("A", 0)]
        assert (premium, s.hanzo["A"] - hanzo) == (share - at_ref, premium - fee)
        assert s.ref_basis[("A", 0)] + s.ref_basis[("B", 0)] == refs and s.reserve == sum(s.basis.values())
        moved, moved_ref = moved + share, moved_ref + at_ref
    assert s.basis[("B", 0)] == s.ref_basis[("B", 0)] == moved_ref == paid_ref * 2000 // 10**6
    basis, ref = s.basis[("A", 0)], s.ref_basis[("A", 0)]
    s.sell("A", 0, s.credits[("A", 0)], 0, FAR, 0)
    assert (sold + moved + basis, sold_ref + moved_ref + ref) == (paid, paid_ref)
    assert s.basis[("A", 0)] == 0 and s.reserve == s.basis[("B", 0)]
    s.sell("B", 0, 2000, 0, FAR, 0)
    got = s.hanzo["A"] + s.hanzo["B"] - start
    assert (paid, sale) == (1_000_500_166_708_341 * 10**6, 875_500_166_708_341 * 10**6)
    assert got == 875_250_166_708_341 * 10**6
    assert sale - got == mul_div_up(moved_ref, s.exit_fee(), WAD)  # 1,500 wei more before: fees on the shares
    assert s.reserve == 0 and s.surplus() - surplus == paid - got


# ---------------------------------------------------------------- 3. griefing and the surplus


def test_extreme_prices_neither_overflow_nor_brick_exits_or_pokes(m):
    """Tried: the fastest pump (delta_max ln 2, sell fee 50%, the dealer redeeming one of its
    credits against its accomplice's one-credit offer each epoch) until the log price reaches its ceiling
    ln(1e8), with an honest holder who bought 2 L at the base price inside; then an over-deep buy
    (the pricing position past 40 L), a buy at 1e8 x the base price, partial and whole exits and a poke at the
    ceiling. The uint128 casts of P_ref (<= 2^96 * 1e8 < 2^128) and V (512-bit mulDiv) cannot
    overflow. Result: nothing reverts for anyone but an over-deep buy (DepthExceeded); the honest
    holder still gets exactly her basis less the fee; contract == model."""
    params = dataclasses.replace(m.model.params, delta_max=LN2_WAD, sell_fee=WAD // 2)
    m.hmm.setParams(params.as_tuple(), sender=m.deployer)
    m.model.set_params(params)
    honest, d = m.traders[0], m.dealer
    m.apply("buy", honest, 0, 2 * L)
    basis = m.hmm.costBasis(honest, 0)
    m.apply("buy", d, 0, 60)
    while m.hmm.tier(0).logPrice < MAX_LOG_PRICE:
        m.apply("offer", m.accomplice, 0, 1)
        m.apply("redeem", d, 0, 1, m.accomplice)
        m.advance_epoch()
        m.apply("poke", d)
    assert m.hmm.tier(0).logPrice == MAX_LOG_PRICE
    m.assert_same()
    # the pricing position, not the supply, is bounded: the 2 L decayed over the pump's epochs
    assert m.model.tiers[0].position < L // 1000 < 2 * L < m.model.tiers[0].supply
    err = m.apply("buy", d, 0, 41 * L)  # past the depth bound from any position
    assert isinstance(err, HMMError) and err.name == "DepthExceeded"
    r = m.apply("buy", d, 0, 10**6)  # at 1e8 x the base price: costs, never overflows
    assert not isinstance(r, HMMError) and r[0] > 10**6 * 10**15 * 10**7
    m.apply("sell", honest, 0, L // 2)
    m.apply("offer", m.provider, 0, L)
    m.apply("redeem", honest, 0, L // 2, m.provider)
    m.advance_epoch()
    m.apply("poke", honest)
    before = m.token.balanceOf(honest)
    got_partial = basis - m.hmm.costBasis(honest, 0)
    m.apply("sell", honest, 0, m.hmm.balanceOf(honest, 0))
    m.assert_same()
    assert m.hmm.costBasis(honest, 0) == 0 and m.token.balanceOf(honest) - before > 0
    assert got_partial < basis  # the partial exits took a share, the whole exit the rest


def test_surplus_is_only_fees_and_cannot_be_drained_or_locked(m):
    """Tried: withdrawing surplus + 1 and the reserve (governance), withdrawing as a trader, and a
    holder exit after governance took the whole surplus; donating HANZO to the maker. Result:
    over-asks revert (SurplusExceeded), an outsider reverts (AccessControl), the donation joins the
    surplus, and with the surplus at 0 every holder still exits with its basis (reserve = sum of
    bases is fully held: its basis less the exit fee on the reference part)."""
    a, b = m.traders[0], m.traders[1]
    m.apply("buy", a, 0, L)
    m.apply("buy", b, 0, L)
    m.apply("sell", b, 0, L // 2)
    fees = m.hmm.surplus()
    assert fees > 0
    with ape.reverts():
        m.hmm.withdrawSurplus(fees + 1, sender=m.deployer)
    with ape.reverts():
        m.hmm.withdrawSurplus(1, sender=a)
    m.token.transfer(m.hmm, 5 * WEI, sender=a)
    m.model.hanzo[str(a)] -= 5 * WEI
    m.model.funds += 5 * WEI
    assert m.hmm.surplus() == fees + 5 * WEI
    m.apply("withdraw", m.deployer, m.hmm.treasury(), m.hmm.surplus())
    assert m.hmm.surplus() == 0
    for who in (a, b):
        basis, ref = m.hmm.costBasis(who, 0), m.hmm.refBasis(who, 0)
        before = m.token.balanceOf(who)
        m.apply("sell", who, 0, m.hmm.balanceOf(who, 0))
        # the exit fee is on the reference part, the premium comes back whole
        assert m.token.balanceOf(who) - before == basis - fee_on(ref, m.model.params.sell_fee)
    m.assert_same()


def test_selling_at_basis_after_a_fall_and_rebuying_takes_nothing_from_honest_parties():
    """Tried (model): holders bear no price falls, so A buys 1 L, the price is crashed (idle offers,
    20 epochs, to 0.095x), A sells at her basis less 12.5% of its reference part and rebuys: 1,718,282
    HANZO gross paid, 1,593,282 back, which now buys 2.88 L instead of 1 L (before the exit fee on the
    reference part, session 24: 1,503,497 back, 1.92 L). Measured whether anyone else pays: the
    honest holder H (bought 1 L beside A) still leaves with exactly her basis less the fee, the
    honest provider's receipts are untouched by A's round trip, and the surplus only grows (A's
    sell fee and buy fees). Result: A's gain is cheaper compute, paid by no one's HANZO; what it
    costs providers is the crash itself (see the idle-offer finding)."""
    s = fresh_model()
    t = 0
    s.buy("A", 0, L, 2**255, FAR, t)
    s.buy("H", 0, L, 2**255, FAR, t)
    h_basis, h_ref = s.basis[("H", 0)], s.ref_basis[("H", 0)]
    for _ in range(20):
        s.offer_capacity("D", 0, L // 10)
        t += DAY
        s.poke(t)
    assert s.tiers[0].ref_price * 10 < s.tiers[0].base_price
    surplus, p_before = s.surplus(), s.hanzo.get("P", 0)
    a0 = s.hanzo["A"]
    s.sell("A", 0, L, 0, FAR, t)
    proceeds = s.hanzo["A"] - a0
    lo, hi = 0, 40 * L  # the most credits the proceeds now buy
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if s.quote_buy(0, mid)[0] <= proceeds else (lo, mid - 1)
    s.buy("A", 0, lo, proceeds, FAR, t)
    assert lo > 28 * L // 10  # 2.88 L for the HANZO 1 L returned (H still holds 1 L below)
    assert s.surplus() > surplus and s.hanzo.get("P", 0) == p_before
    h0 = s.hanzo["H"]
    s.sell("H", 0, L, 0, FAR, t)
    assert s.hanzo["H"] - h0 == h_basis - mul_div_up(h_ref, s.params.sell_fee, WAD)


# ---------------------------------------------------------------- 4. economics: findings


def _honest_epoch(m, user, capacity=L // 10):
    """Honest demand at the target: the honest provider offers `capacity`, a user buys and spends
    80% of it there."""
    m.apply("offer", m.provider, 0, capacity)
    m.apply("buy", user, 0, capacity * 8 // 10)
    m.apply("redeem", user, 0, capacity * 8 // 10, m.provider)


def _honest_model(epochs, capacity=L // 10):
    """The same honest market with nobody manipulating it (the exact model): (state, HANZO the
    user spent)."""
    s = fresh_model()
    t = 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, capacity)
        s.buy("U", 0, capacity * 8 // 10, 2**255, FAR, t)
        s.redeem("U", 0, capacity * 8 // 10, "P")
        t += DAY
        s.poke(t)
    return s, 10**40 - s.hanzo["U"]


def test_an_idle_offer_cannot_pay_an_honest_provider_below_its_ask_and_commits_its_maker_to_serve(m):
    """Finding 1 (Medium), closed by asks (it was an xfail: free idle offers counted in utilization; a
    provider offering 0.1 L a day it never served, beside honest demand at the 80% target, drove tier 0
    to 0.095x in 20 epochs at zero cost, then bought 0.8 L for 116,568 HANZO (1,229,218 undisturbed)
    and the honest provider serving them was paid 116,219). Now an offer is supply at a price: the
    honest provider offers at its ask (here what a credit paid at the start), the dealer offers 0.1 L
    a day at ask 0, and the user spends its credits wherever they are accepted. Result: the honest
    provider is never paid below its ask, and the dealer's crash buy is refused there (BelowAsk); once
    the price falls below the honest ask, the only counted capacity is the dealer's, and the user's
    demand is served there: the idle offer became real supply at the crashed price, 19 of 20 epochs,
    which the dealer must serve (on chain it is paid only for what it serves)."""
    user, d, p = m.traders[0], m.dealer, m.provider
    ask = m.model.counted_ask(0)
    served = {"honest": 0, "dealer": 0}
    paid_honest = []
    for _ in range(20):
        m.apply("offer", p, 0, L // 10, ask)
        m.apply("offer", d, 0, L // 10, 0)  # idle unless someone spends credits there
        m.apply("buy", user, 0, 8 * L // 100)
        before = m.token.balanceOf(p)
        if isinstance(m.apply("redeem", user, 0, 8 * L // 100, p), HMMError):
            m.apply("redeem", user, 0, 8 * L // 100, d)
            served["dealer"] += 1
        else:
            served["honest"] += 1
            paid_honest.append(m.token.balanceOf(p) - before)
        m.advance_epoch()
        m.apply("poke", user)
    m.assert_same()
    assert all(paid >= ask * 8 * L // 100 for paid in paid_honest)
    assert served["dealer"] >= 15  # the user's demand went to the capacity that counts
    m.apply("buy", d, 0, 8 * L // 10)
    m.apply("offer", p, 0, 8 * L // 10, ask)
    refused = m.apply("redeem", d, 0, 8 * L // 10, p)
    assert isinstance(refused, HMMError) and refused.name == "BelowAsk"
    m.assert_same()
    ratio = m.model.tiers[0].ref_price / m.model.tiers[0].base_price
    print(f"served: {served}; the honest provider paid >= its ask each time; price {ratio:.3f}x base")


def _late_offers(m, ask, epochs=20, pay_ask=False):
    """Honest demand at the target, the honest provider at `ask`; in each epoch's last second the dealer
    offers 0.1 L at ask 0 (nobody can use it). The user redeems what it holds at the honest provider, with
    redeem, or (`pay_ask`) with redeemAtAsk, paying up to `ask` a credit. Returns the epochs the honest
    provider served."""
    user, d, p = m.traders[0], m.dealer, m.provider
    length, served = m.model.params.epoch_length, 0
    for _ in range(epochs):
        m.apply("offer", p, 0, L // 10, ask)
        m.apply("buy", user, 0, 8 * L // 100)
        held = m.model.credits.get((m.name(user), 0), 0)
        spend = ("redeem_at_ask", user, 0, held, p, ask) if pay_ask else ("redeem", user, 0, held, p)
        served += not isinstance(m.apply(*spend), HMMError)
        m.chain.pending_timestamp = m.hmm.epochStart() + length - 1
        m.apply("offer", d, 0, L // 10, 0)  # the last second: nobody can use it
        m.advance_epoch()
        m.apply("poke", user)
    m.assert_same()
    return served


def test_an_offer_made_as_the_epoch_ends_counts_by_the_time_left_to_serve_it(m):
    """Finding 1's neighbour (red team 20, finding 1): an offer at ask 0 made in the epoch's last second
    (or after its end, just before poke) commits to nothing, since nobody has time to use it. Counted
    whole, 0.1 L a day of them beside honest demand at target took tier 0 to 0.095x in 20 epochs. Now
    capacity offered after the epoch's first 1/24 counts by the share of the epoch left. Result, with
    the honest provider asking 90% of what a credit paid at the start (a margin below the price): it
    serves every epoch, the price stays within 0.1% of its base, and an offer at half-time counts half."""
    assert _late_offers(m, m.model.counted_ask(0) * 9 // 10) == 20
    assert m.model.tiers[0].ref_price * 1000 >= 999 * m.model.tiers[0].base_price
    m.chain.pending_timestamp = m.hmm.epochStart() + m.model.params.epoch_length // 2
    m.apply("offer", m.dealer, 0, L // 10, 0)
    assert m.hmm.tier(0).capacity == L // 20
    m.assert_same()


def test_a_price_below_every_honest_ask_still_reads_the_demand_that_pays_the_ask(m):
    """Red team 17's spiral (Medium, closed; it was an xfail). Tried: the honest provider asks exactly what a
    credit paid at the start (no margin), honest demand at the target, the dealer offers 0.1 L at ask 0 in
    each epoch's last second (weighted 1/86,400). The sliver dips utilization by 1e-5, the price falls below
    the honest ask, and from then the only counted capacity was the dealer's sliver: utilization read 0 and
    the price fell by deltaMax an epoch, 0.107x in 20 epochs, the honest provider serving 2 of 20 (the next
    test: still so for a user that never pays above the price). Refused redemptions revert, so the demand
    left no trace. Now the user pays the provider's ask (redeemAtAsk, bound at the ask), and credits served
    at an ask above the price count as served beside capacity of that over the target: the demand reads as
    the target. Result: the provider serves all 20 epochs, the price stays within 0.05% of where it started
    (0.999603x: the sliver's dip, 1e-5 an epoch), and the user spends what it spends with no dealer and the
    provider asking 0 (1,604,964 HANZO against 1,604,997: its credits a hair cheaper, the top-ups tiny; before the
    exit fee on the reference part, session 24: 1,613,181 against 1,613,215)."""
    user = m.traders[0]
    start = m.token.balanceOf(user)
    assert _late_offers(m, m.model.counted_ask(0), pay_ask=True) == 20
    tier = m.model.tiers[0]
    print(f"price {tier.ref_price / tier.base_price:.6f}x")
    assert 0.9995 * tier.base_price < tier.ref_price < tier.base_price
    undisturbed = fresh_model()
    for _ in range(20):  # the same honest demand, no sliver, the provider asking 0
        t = undisturbed.epoch_start
        undisturbed.offer_capacity("P", 0, L // 10, 0, t)
        undisturbed.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
        undisturbed.redeem("U", 0, 8 * L // 100, "P")
        undisturbed.poke(t + DAY)
    spent = start - m.token.balanceOf(user)
    print(f"user spent {spent / WEI:,.2f}, undisturbed {(10**40 - undisturbed.hanzo['U']) / WEI:,.2f} HANZO")
    assert (spent // WEI, (10**40 - undisturbed.hanzo["U"]) // WEI) == (1_604_964, 1_604_997)


def test_a_user_that_never_pays_above_the_price_leaves_no_trace(m):
    """The spiral's record, as it stands for a user that only calls redeem (BelowAsk at an ask above the price
    its credits do not cover, so nothing is counted): the sliver is then the only counted capacity, nobody
    can use it, utilization reads 0 and the price falls by deltaMax an epoch (0.107x in 20 epochs), the honest
    provider serving 1 of 20 (2 before credits served above the price were counted). The demand exists (the user buys 0.08 L every
    epoch) but never offers the provider's price; redeemAtAsk (the previous test) is how it does."""
    assert _late_offers(m, m.model.counted_ask(0)) == 1
    tier = m.model.tiers[0]
    assert round(tier.ref_price / tier.base_price, 3) == 0.107


def test_an_offer_at_an_ask_the_price_does_not_cover_moves_nothing(m):
    """Finding 1's cause: capacity that nobody buying at the price could use is not supply at that
    price. Tried: beside honest demand at the target, the dealer offers 0.1 L a day for 20 epochs at
    ten times what a credit bought now pays (an offer committing to nothing). Result: the price moves
    exactly as with no dealer at all (the exact model, undisturbed), to the wei, and lowering the ask
    later in the epoch counts the whole standing capacity, while raising it is refused."""
    user, d = m.traders[0], m.dealer
    for _ in range(20):
        _honest_epoch(m, user)
        m.apply("offer", d, 0, L // 10, 10 * m.model.counted_ask(0))
        m.advance_epoch()
        m.apply("poke", user)
    m.assert_same()
    undisturbed, _ = _honest_model(20)
    assert m.model.tiers[0].ref_price == undisturbed.tiers[0].ref_price
    assert m.hmm.tier(0).refPrice == undisturbed.tiers[0].ref_price
    high = 10 * m.model.counted_ask(0)
    m.apply("offer", d, 0, L // 10, high)
    assert m.hmm.tier(0).capacity == 0
    raised = m.apply("offer", d, 0, 1, high + 1)
    assert isinstance(raised, HMMError) and raised.name == "AskRaised"
    m.apply("offer", d, 0, 1, 0)  # lowered: the standing 0.1 L joins
    assert m.hmm.tier(0).capacity == L // 10 + 1
    m.assert_same()


ELASTICITY = 1.2  # the simulator's price_elasticity: honest demand answers the price


def _elastic_wash(step, s, user="U", honest="P", wash_epochs=10, after=20, elasticity=ELASTICITY):
    """The wash against honest demand that answers the price, for `wash_epochs`, then `after` epochs without it
    so the rise it caused lives out its life (docs/congestion.md). Each epoch the honest provider P offers
    0.1 L, the user U buys u* x 0.1 L x (P_ref / base)^-elasticity (0.08 L at the defaults) and spends it at P;
    while washing, the dealer D buys
    0.01 L and redeems it at its accomplice X's 0.01 L offer (X hands the pay back). `step(op, who, *args)`
    runs one operation (the contract and the model, or the model alone) and returns the model's result; `s` is
    the model, `user` and `honest` its names for U and P. Returns [(U's cost, credits bought, U's charge)]."""
    bought = []
    for epoch in range(wash_epochs + after):
        step("offer", "P", 0, L // 10)
        at_target = L // 10 * s.params.target_utilization // WEI  # 0.08 L at the default target
        want = int(at_target * (s.tiers[0].ref_price / s.tiers[0].base_price) ** -elasticity)
        cost = step("buy", "U", 0, want)
        charge = s.quote_redeem_at(user, 0, want, honest)[3]
        step("redeem", "U", 0, want, "P")
        bought.append((cost, want, charge))
        if epoch < wash_epochs:
            step("buy", "D", 0, L // 100)
            step("offer", "X", 0, L // 100)
            step("redeem", "D", 0, L // 100, "X")
        step("poke")
    return bought


def _model_step(s):
    """_elastic_wash's step on the exact model alone (a day an epoch)."""
    clock = [0]

    def step(op, who=None, *args):
        if op == "offer":
            return s.offer_capacity(who, *args)
        if op == "buy":
            return s.buy(who, *args, 2**255, FAR, clock[0])
        if op == "redeem":
            return s.redeem(who, *args)
        clock[0] += DAY
        return s.poke(clock[0])
    return step


def _undisturbed(kappa=None):
    s = fresh_model()
    if kappa is not None:
        s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    return _elastic_wash(_model_step(s), s, wash_epochs=0, after=30)


def _harm(bought, undisturbed):
    """What U paid above the undisturbed run's price per credit, on the credits it bought (first order in its
    lost surplus), and the charges it paid beyond the undisturbed run's."""
    return sum(cost - want * c0 // w0 + charge - ch0
               for (cost, want, charge), (c0, w0, ch0) in zip(bought, undisturbed))


def _model_wash(kappa=None):
    """The elastic wash on the model: (U's harm, what D and X spent, the reference price at the end), the
    congestion charge `kappa` (WAD) or the default's."""
    s = fresh_model()
    if kappa is not None:
        s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    bought = _elastic_wash(_model_step(s), s)
    return _harm(bought, _undisturbed(kappa)), 2 * 10**40 - s.hanzo["D"] - s.hanzo["X"], s.tiers[0].ref_price


@pytest.mark.xfail(strict=True, reason=(
    "Medium, open (red team 17, restated): at the deployed parameters the wash through an accomplice, on honest "
    "demand that answers the price (elasticity 1.2) over the rise's whole life, costs the pair 13,059 HANZO of fees "
    "for 16,665 of honest harm (leverage 1.28; 1.27 before the exit fee on the reference part), and a provider's "
    "own second wallet washing first into its spare capacity 5.78 (red team 26; a dearer form of withholding that "
    "capacity, which harms as much for nothing). "
    "The congestion charge built for it (off by default) brings the accomplice's wash "
    "to 0.66 (the next test) but the own-wallet wash to 8.37, charged to the honest users after it, and gives "
    "users a reason to take surges off the books (red team 26; docs/congestion.md). Next: a signal the wash cannot "
    "feed without paying for it at any provider (served history, a bond, or the excess settled at the poke)."))
def test_wash_redemptions_cost_more_than_the_rise_they_cause_where_demand_answers_the_price():
    """Tried (the model): 10 epochs of the dealer D's 0.01 L a day redeemed at its accomplice X's 0.01 L offer
    (X hands the pay back) beside honest demand that answers the price, then 20 epochs without it, so the rise
    lives out its life. Asserted (what should hold): honest harm below what the pair spent."""
    harm, spent, _ = _model_wash()
    print(f"the pair spent {spent / WEI:,.0f} HANZO; honest harm {harm / WEI:,.0f}; leverage {harm / spent:.2f}")
    assert (spent // WEI, harm // WEI) == (13_058, 16_664)  # measured (passes today; 13,122 before the fee change)
    assert harm < spent


def _wash_leverage(elasticity=ELASTICITY, **params):
    """The elastic wash's leverage (U's harm / what D and X spent) on the model with `params` replaced."""
    runs = []
    for wash_epochs in (10, 0):
        s = fresh_model()
        s.set_params(dataclasses.replace(s.params, **params))
        runs.append((s, _elastic_wash(_model_step(s), s, wash_epochs=wash_epochs, after=30 - wash_epochs,
                                      elasticity=elasticity)))
    (s, bought), (_, undisturbed) = runs
    return _harm(bought, undisturbed) / (2 * 10**40 - s.hanzo["D"] - s.hanzo["X"])


@pytest.mark.parametrize("elasticity, target, exit_fee", [
    (1.2, "0.8", "0.125"), (0.6, "0.8", "0.125"), (2.0, "0.8", "0.125"), (1.2, "0.9", "0.125"), (1.2, "0.8", "0.17")])
def test_the_wash_leverage_is_the_demands_price_externality_over_the_take_rate(elasticity, target, exit_fee):
    """Why no parameter closes the wash for every demand: a credit served above the target share raises the
    price by as much as a genuine buyer's credit there would, and with demand of price elasticity eps the whole
    overpay that rise causes is P_ref x (1 - u*) / eps per credit (docs/congestion.md: the sum of the linearised
    leapfrog, whatever alpha and gamma are; the accomplice's offer sits at 100%, so a washed credit is 1 - u* of
    excess), while the wash pays the take rate, buy fee + exit fee, like any compute: leverage
    (1 - u*) / (eps (b + f)). Measured on the model (30 epochs; the formula in brackets):
      eps 1.2, u* 0.8, f 0.125: 1.28 (1.30)   eps 0.6: 2.52 (2.60)   eps 2.0: 0.74 (0.78)
      u* 0.9: 0.64 (0.65)                      f 0.17: 0.97 (0.96)
    The law holds within 10% (at most 5% off here: the finite horizon, the curve's nonlinearity). So at the
    defaults the wash is below 1 only where demand is more elastic than (1 - u*) / (b + f) = 1.56; a target of
    0.85 or a take of 16.7% brings eps = 1.2 to 1, and less elastic demand above it again."""
    got = _wash_leverage(elasticity, target_utilization=int(float(target) * WEI), sell_fee=int(float(exit_fee) * WEI))
    law = (1 - float(target)) / (elasticity * (float(exit_fee) + DEFAULT.hmm_buy_fee / WEI))
    print(f"leverage {got:.2f}, the law {law:.2f}")
    assert abs(got / law - 1) < 0.1


def test_with_the_charge_on_a_wash_through_an_accomplice_costs_more_than_the_rise_it_causes(m):
    """The congestion charge (off by default; governance's `congestionCharge`, here at 1/1.2): each of D's
    redemptions lifts X's served weight above 80% of X's capacity and D pays kappa x P_ref per credit of that
    excess (1/1.2: the whole overpay a credit of excess causes where demand answers the price). Tried (on the
    contract beside the model): the previous test's wash. Without the charge the pair spent 13,059 HANZO in fees
    for 16,665 of honest harm (1.28); with it 30,060 for 19,842 (0.66), and the price path is the same to the wei
    (before the exit fee on the reference part, session 24: 13,123 for 16,665, 1.27; 30,124 for 19,842).

    The measure: honest demand that answers the price, over the rise's whole life. The xfail before it measured
    harm on demand that never answers the price, over 10 epochs: there a rise never fades, and a genuine buyer's
    full-price compute already scored 3.14 (the next test), so that measure counts real demand as manipulation and
    no charge meets it without taxing real surges 15-20% (docs/congestion.md)."""
    charge_on(m)
    who = {"U": m.traders[0], "D": m.dealer, "X": m.accomplice, "P": m.provider}
    start = {k: m.token.balanceOf(a) for k, a in who.items()}

    def step(op, name=None, *args):
        if op == "poke":
            m.advance_epoch()
            return m.apply("poke", who["U"])[0]
        if op == "redeem":
            args = (*args[:-1], who[args[-1]])
        return m.apply(op, who[name], *args)[0]

    bought = _elastic_wash(step, m.model, m.name(who["U"]), m.name(who["P"]))
    m.assert_same()
    spent = start["D"] + start["X"] - m.token.balanceOf(who["D"]) - m.token.balanceOf(who["X"])
    harm = _harm(bought, _undisturbed(KAPPA))
    print(f"the pair spent {spent / WEI:,.0f} HANZO; honest harm {harm / WEI:,.0f}; leverage {harm / spent:.2f}")
    assert (spent // WEI, harm // WEI) == (30_060, 19_842)
    assert harm < spent
    # without the charge (the model, the same runs): leverage above 1
    harm0, spent0, price0 = _model_wash(kappa=0)
    print(f"without the charge: spent {spent0 / WEI:,.0f}, harm {harm0 / WEI:,.0f}, {harm0 / spent0:.2f}")
    assert (spent0 // WEI, harm0 // WEI) == (13_058, 16_664)
    assert harm0 > spent0
    assert m.hmm.tier(0).refPrice == price0  # the charge moves no price: the same path to the wei


def _inelastic(kind, kappa):
    """10 epochs of honest demand that does not answer the price (U buys and spends 0.08 L at P's 0.1 L) with
    the dealer's move each epoch: "wash" (0.01 L at X's offer, handed back), "compute" (0.01 L of real compute
    at P, before U, paid for in full), or "none". Returns (U's spend, what D and X spent)."""
    s = fresh_model()
    s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    t = 0
    for _ in range(10):
        s.offer_capacity("P", 0, L // 10, 0, t)
        if kind == "compute":
            s.buy("D", 0, L // 100, 2**255, FAR, t)
            s.redeem("D", 0, L // 100, "P")
        s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
        s.redeem("U", 0, 8 * L // 100, "P")
        if kind == "wash":
            s.buy("D", 0, L // 100, 2**255, FAR, t)
            s.offer_capacity("X", 0, L // 100, 0, t)
            s.redeem("D", 0, L // 100, "X")
        t += DAY
        s.poke(t)
    return 10**40 - s.hanzo["U"], 2 * 10**40 - s.hanzo["D"] - s.hanzo["X"]


def test_model_the_inelastic_ten_epoch_measure_scores_real_demand_as_manipulation():
    """Why the wash's xfail was restated: it scored the wash by what honest buyers overpay over 10 epochs when
    their demand never answers the price, so a rise never fades and every credit above target is charged to
    the attacker for ever. On that measure a dealer buying 0.01 L a day of real compute from the honest
    provider, paid in full and not handed back, has leverage 3.14 (3.97 with the congestion charge, which its
    excess then costs the user after it), the wash 6.59 without the charge and 2.86 with it (before the exit fee
    on the reference part, session 24: 3.16, 3.99, 6.59, 2.87): real demand
    reads as manipulation, and a charge bringing the wash to 1 there (kappa >= 3.6) charges real surges
    15-20% (docs/congestion.md). The measure kept is the previous test's, on demand that answers the price."""
    got = {}
    for kappa in (0, KAPPA):
        base = _inelastic("none", kappa)[0]
        for kind in ("wash", "compute"):
            u, spent = _inelastic(kind, kappa)
            got[(kind, kappa > 0)] = round((u - base) / spent, 2)
    print(got)
    assert got == {("wash", False): 6.59, ("compute", False): 3.14, ("wash", True): 2.86, ("compute", True): 3.97}


def test_self_redemption_is_refused_and_a_lone_provider_leaves_by_sale(m):
    """Finding 4 (Low/Medium), its literal form refused (the class, through a second wallet, is
    closed by exits that cost alike: the next test): a redemption paid no fee, so a provider redeeming its own
    credits against its own offer left at its whole basis: 1 L bought for 1,718,282 HANZO gross
    was redeemed to the dealer's own offer for 1,718,282 back, where a sale pays 1,503,497 (the
    214,785 sell fee). A redemption is fee-free because it is compute bought from someone else;
    to oneself it is a sale without the fee, and the provider's own demand counts in utilization
    (the lone form of findings 2 and 3). Now the contract's _serve refuses a redemption whose
    provider is the caller (SelfRedemption), before any other check, for redeem and redeemBatch,
    and the model raises the same error in the same order. Tried: the dealer, with 1 L and its
    own 1 L offer, redeeming all of it, zero of it, and by batches, to itself. Result: every try
    reverts with SelfRedemption(dealer) on both sides (before ZeroAmount), nothing moves, and the
    dealer's only exit is the sale: basis less the 12.5% fee on its reference part (1,593,282: the fee, 125,000,
    kept in the surplus; the premium back whole since the exit fee on the reference part)."""
    d = m.dealer
    m.apply("buy", d, 0, L)
    basis, ref = m.hmm.costBasis(d, 0), m.hmm.refBasis(d, 0)
    m.apply("offer", d, 0, L)
    before = m.model.copy()
    for step in (("redeem", d, 0, L, d), ("redeem", d, 0, 0, d), ("redeem_batch", d, [(0, L // 2), (0, L // 2)], d),
                 ("redeem_batch", d, [(0, 0), (1, 5)], d)):
        err = m.apply(*step)
        assert isinstance(err, HMMError) and err.name == "SelfRedemption" and err.args_ == (m.name(d),), (step, err)
    with ape.reverts(m.hmm.SelfRedemption, provider=d):
        m.hmm.redeem(0, L, d, 0, FAR, sender=d)
    with pytest.raises(HMMError, match="SelfRedemption"):
        m.model.redeem_batch(m.name(d), [(0, L)], m.name(d))
    assert m.model == before and m.hmm.balanceOf(d, 0) == L and m.hmm.costBasis(d, 0) == basis
    m.assert_same()
    surplus = m.hmm.surplus()
    got, _ = m.apply("sell", d, 0, L)
    m.assert_same()
    print(f"basis {basis / WEI:,.0f}; self-redemption refused; the sale pays {got / WEI:,.0f}")
    assert got == basis - fee_on(ref, m.model.params.sell_fee)
    assert m.hmm.surplus() - surplus == fee_on(ref, m.model.params.sell_fee)


@pytest.mark.parametrize("congested", [False, True])
def test_a_provider_exiting_through_a_second_wallet_gets_what_a_sale_pays(m, congested):
    """Finding 4's class (Low/Medium), closed by exits that cost alike (it was an xfail,
    test_a_provider_exits_fee_free_through_a_second_wallet): refusing provider == caller blocks only
    the literal self-redemption, and a provider whose credits sit in a second wallet of its own (an
    address costs nothing) redeemed them at its own offer for the whole basis: 1 L bought for
    1,718,282 HANZO gross came back whole, where a sale pays 1,503,497 (the 214,785 sell fee). Now a
    redemption pays out the share less the same exit fee a sale pays (sellFee, kept in the surplus):
    since rule 3h the provider gets the reference price paid for the credits (refBasis, 1,000,000: 1 L
    at 0.001) less its fee, 875,000, and the wallet the curve's premium back whole, 718,282 (less its fee before the
    exit fee on the reference part, session 24: 628,497).
    Tried: a provider (the accomplice) holds 1 L in a second wallet (a trader account, which buys it:
    to the contract any address is a customer), offers capacity and redeems the credits from that wallet at
    its own offer; beside it, on the same state, the wallet sells them. Result: with 1.25 L offered (the
    redemption at the provider's target share) the provider and its wallet together get exactly what the
    sale pays (1,593,282, 1,503,497 before the fee on the reference part; before 3h the provider alone), split as
    quoteRedeem said, and the surplus keeps the same 125,000 fee (214,785 before). With exactly 1 L offered and the
    congestion charge on, the 0.2 L above target pays it (kappa x P_ref: 166,667, out of the wallet's refund,
    551,615 left), kept in the surplus too: a sale less the charge."""
    provider, wallet = m.accomplice, m.traders[1]
    if congested:
        charge_on(m)  # off by default: governance switches it on
    m.apply("buy", wallet, 0, L)
    basis, ref = m.hmm.costBasis(wallet, 0), m.hmm.refBasis(wallet, 0)
    fee = m.model.params.sell_fee
    assert ref == m.model.ref_basis[(m.name(wallet), 0)] == L * m.model.tiers[0].base_price  # bought at P_ref
    sale, _ = m.model.quote_sell(m.name(wallet), 0, L)
    assert m.hmm.quoteSell(wallet, 0, L)[0] == sale == basis - fee_on(ref, fee)  # the fee on the reference part
    payout, refund, exit_fee = quote_redeem(m, wallet, 0, L)
    assert (payout, exit_fee) == (ref - fee_on(ref, fee), fee_on(ref, fee)) and payout + refund == sale
    assert refund == basis - ref  # the premium back whole
    m.apply("offer", provider, 0, L if congested else L * 5 // 4)
    quoted = tuple(m.hmm.quoteRedeemAt(wallet, 0, L, provider))
    charge = quoted[3]
    assert quoted == m.model.quote_redeem_at(m.name(wallet), 0, L, m.name(provider)) == (payout, refund, exit_fee,
                                                                                          charge)
    assert charge == (166_666_666_666_666_666_600_000 if congested else 0)  # kappa x P_ref x 0.2 L above target
    surplus, before, before_w = m.hmm.surplus(), m.token.balanceOf(provider), m.token.balanceOf(wallet)
    _, receipt = m.apply("redeem", wallet, 0, L, provider)
    got, back = m.token.balanceOf(provider) - before, m.token.balanceOf(wallet) - before_w
    m.assert_same()
    print(f"basis {basis / WEI:,.0f}; redeemed through a second wallet for {got / WEI:,.0f} to the provider "
          f"and {back / WEI:,.0f} back to the wallet; a sale pays {sale / WEI:,.0f}")
    assert [e.charge for e in receipt.decode_logs(m.hmm.Congested)] == ([charge] if congested else [])
    assert (got, back) == (payout, refund - charge)
    assert got + back == sale - charge  # no more than a sale (and no less but the charge: exits cost alike)
    assert (got // WEI, (back + charge) // WEI, sale // WEI) == (875_000, 718_281, 1_593_281)
    assert m.hmm.surplus() - surplus == fee_on(ref, fee) + charge
    assert m.hmm.costBasis(wallet, 0) == m.hmm.refBasis(wallet, 0) == 0


def test_an_honest_buyer_who_redeems_pays_no_more_than_the_documented_fees(m):
    """Exits cost alike, so an honest buyer of compute pays the exit fee on its redemptions too. The
    documented price: the buy fee (0.3%) on top of the credits' gross cost, and the exit fee (12.5%)
    on its reference part (refBasis: since the exit fee on the reference part; on the whole gross before), each
    rounded up by at most a wei, nothing else (docs/hmm.md, "Exits cost alike"); since rule 3h the provider is
    paid the reference price's part less its fee and the buyer gets the curve's premium back, whole. Tried:
    0.8 L bought and spent at the honest provider in three parts, one of them by a batch of two elements, the
    provider offering 1 L (the 0.8 L at its target share: no congestion charge, which applies only above it).
    Result: each part pays the provider and refunds the buyer exactly what quoteRedeem said before it; HANZO
    paid net of refunds - provider paid = buy fee + exit fees, to the wei, and the exit fees are at most 12.5%
    of the reference part (plus a wei a part); all-in, 1.1481 HANZO per HANZO the provider is paid (1.2241
    before the exit fee on the reference part, session 24; 1.1463 before 3h, when the provider was paid the
    premium too; 1.003 when redemptions were free)."""
    user, p = m.traders[0], m.provider
    params = m.model.params
    before_user, before_p, surplus = m.token.balanceOf(user), m.token.balanceOf(p), m.hmm.surplus()
    cost, _ = m.apply("buy", user, 0, 8 * L // 10)
    gross, ref = m.hmm.costBasis(user, 0), m.hmm.refBasis(user, 0)
    buy_fee = cost - gross
    assert buy_fee == mul_div_up(gross, params.buy_fee, WAD)
    assert ref == 8 * L // 10 * m.model.tiers[0].base_price < gross  # the 0.8 L climbed the curve
    m.apply("offer", p, 0, L)
    quoted = [0, 0, 0]  # the provider's pay, the refunds, the exit fees, each part quoted just before it
    for moves in ([(0, L // 4)], [(0, L // 4), (0, L // 10)], [(0, 8 * L // 10 - L // 4 - L // 4 - L // 10)]):
        quoted = [a + b for a, b in zip(quoted, quote_redemptions(m, user, moves, p))]
        r = m.apply("redeem", user, *moves[0], p) if len(moves) == 1 else m.apply("redeem_batch", user, moves, p)
        assert not isinstance(r, HMMError), (moves, r)
    m.assert_same()
    paid = before_user - m.token.balanceOf(user)
    served = m.token.balanceOf(p) - before_p
    refunds = cost - paid
    exit_fees = gross - served - refunds
    assert m.hmm.costBasis(user, 0) == m.hmm.refBasis(user, 0) == 0
    assert [served, refunds, exit_fees] == quoted
    assert paid - served == buy_fee + exit_fees == m.hmm.surplus() - surplus  # every fee kept, nothing else
    assert exit_fees <= mul_div_up(ref, params.sell_fee, WAD) + 4  # four parts, each rounded up at most a wei
    assert served <= ref - mul_div_up(ref, params.sell_fee, WAD) + 4  # the provider: P_ref less the fee
    print(f"paid {paid / WEI:,.0f} net of {refunds / WEI:,.0f} refunded; provider paid {served / WEI:,.0f}; "
          f"all-in {paid / served:.4f}")
    assert f"{paid / served:.4f}" == "1.1481"


def test_a_greedy_holder_takes_no_more_through_any_exit_than_a_sale(m):
    """Exits cost alike. A greedy holder (the dealer, a provider, with a second wallet and an
    accomplice provider) holds 1 L bought before a pump of three epochs (its own wash redemptions at
    the accomplice's offer, so the price now quotes above what it paid) and tries every way out, each
    from the same state: selling (whole, in three parts), redeeming at the accomplice's offer (whole,
    by a batch naming the tier twice, in parts of one credit then the rest), and giving the credits to
    its second wallet (a trader account; the transfer refunds it the premium whole less the exit fee on the
    reference part and hands on the reference part) to redeem at its own offer. The offers are 1.25 L (the
    redemptions at their provider's target share: no congestion charge), and once exactly 1 L (the 0.2 L
    above target charged kappa x P_ref a credit, out of the refund, kept in the surplus: the charge switched on
    after the pump, as governance may).
    Measured what the cartel (the
    dealer, its wallet and its accomplice, who hands its pay back) gets back. Result: no path returns
    more than the sale (the whole sale: its basis less the 12.5% exit fee on its reference part, the premium back
    whole since the exit fee on the reference part; parts round each share down
    and each fee up, so they return at most as much), the charged one exactly the sale less the charge the
    model quotes, and none returns what was put in."""
    d, wallet, x = m.dealer, m.traders[1], m.accomplice
    cartel = (d, wallet, x)
    start = sum(m.token.balanceOf(a) for a in cartel)
    for _ in range(3):  # the pump: its own credits redeemed at the accomplice's offer
        m.apply("buy", d, 0, L // 100)
        m.apply("offer", x, 0, L // 100)
        m.apply("redeem", d, 0, L // 100, x)
        m.advance_epoch()
        m.apply("poke", d)
    m.apply("buy", d, 0, L)
    assert m.hmm.price(0) > m.model.tiers[0].base_price  # pumped
    put_in = start - sum(m.token.balanceOf(a) for a in cartel)  # the 1 L and the pump, fees included
    basis, ref = m.hmm.costBasis(d, 0), m.hmm.refBasis(d, 0)
    sale = basis - fee_on(ref, m.model.params.sell_fee)
    assert m.hmm.quoteSell(d, 0, L)[0] == sale
    charge_on(m)  # off by default: governance switches it on for the exits (the exact offer's is charged)
    roomy = L * 5 // 4  # 0.8 x 1.25 L = 1 L: at target
    paths = {
        "sell": [("sell", d, 0, L)],
        "sell in parts": [("sell", d, 0, L // 3), ("sell", d, 0, L // 3), ("sell", d, 0, L - 2 * (L // 3))],
        "redeem at the accomplice": [("offer", x, 0, roomy), ("redeem", d, 0, L, x)],
        "redeem by a batch": [("offer", x, 0, roomy), ("redeem_batch", d, [(0, L // 2), (0, L - L // 2)], x)],
        "redeem a credit, then the rest": [("offer", x, 0, roomy), ("redeem", d, 0, 1, x),
                                           ("redeem", d, 0, L - 1, x)],
        "second wallet": [("give", d, 0, L, wallet), ("offer", d, 0, roomy), ("redeem", wallet, 0, L, d)],
        "second wallet, by batch": [("give", d, 0, L, wallet), ("offer", d, 0, roomy),
                                    ("redeem_batch", wallet, [(0, 7), (0, L - 7)], d)],
        "redeem at the accomplice's exact offer": [("offer", x, 0, L), ("redeem", d, 0, L, x)],
    }
    got, charged = {}, {}
    for name, steps in paths.items():
        snapshot, model = m.chain.snapshot(), m.model.copy()
        before = sum(m.token.balanceOf(a) for a in cartel)
        charged[name] = 0
        for step in steps:
            if step[0] == "redeem":
                quoted = m.model.quote_redeem_at(m.name(step[1]), *step[2:4], m.name(step[4]))[3]
            r = m.apply(*step)
            assert not isinstance(r, HMMError), (name, step, r)
            if step[0].startswith("redeem"):
                logged = [e.charge for e in r[1].decode_logs(m.hmm.Congested)]
                assert step[0] == "redeem_batch" or logged == ([quoted] if quoted else []), (name, step)
                charged[name] += sum(logged)
        m.assert_same()
        assert m.hmm.balanceOf(d, 0) == m.hmm.balanceOf(wallet, 0) == 0
        got[name] = sum(m.token.balanceOf(a) for a in cartel) - before
        m.chain.restore(snapshot)
        m.model = model
    print({k: f"{v / WEI:,.0f}" for k, v in got.items()}, f"sale {sale / WEI:,.0f}, put in {put_in / WEI:,.0f}")
    exact = "redeem at the accomplice's exact offer"
    assert {k for k, v in charged.items() if v} == {exact}  # at target nothing is charged
    assert charged[exact] == mul_div_up(L // 5 * m.model.tiers[0].ref_price, m.model.params.congestion_charge, WAD)
    assert got["sell"] == got["redeem at the accomplice"] == got[exact] + charged[exact] == sale
    assert got["second wallet"] < sale  # its sender pays the exit fee on the transfer too (red team 18, finding 2)
    assert all(v <= sale for v in got.values()), got
    assert all(v < put_in for v in got.values()), got


def test_a_partial_exit_strips_no_basis_from_credits_transferred_after_it(m):
    """Finding 5 (Low), fixed: exits valued a position as the top of the curve while transfers moved
    basis pro rata; a holder of 2 L (basis 6,389,056 HANZO) selling its top 1 L first took 73.1% of
    the basis (4,670,774) and the 1 L handed on after carried 1,718,282 (26.9%), not the 3,194,528
    its costBasis / balance showed. Exits are now pro rata too. Tried: the order of a holder's exits and
    transfers, to move basis away from credits it passes on (and symmetrically to choose what an honest
    provider is paid for the same compute: at default depth, 0.1 L of a 2 L position redeemed first paid
    the provider 703,162 HANZO, redeemed after selling the rest 105,171, the pro-rata 319,453). Asserted
    (what should hold): credits handed on after a partial exit take from their holder at least the basis
    per credit it had (3,194,528 for the 1 L), and, since a transfer hands on only the reference part
    (rule 3h), the receiver gets at least the refBasis per credit the holder had (1,000,000), the holder
    the premium back whole (2,194,528) and pays the exit fee on the reference part (125,000; before the exit fee
    on the reference part, session 24, on the whole share: 399,316); the receiver's credits
    then pay a provider serving them what their reference part pays (875,000)."""
    seller, receiver = m.traders[0], m.traders[1]
    m.apply("buy", seller, 0, 2 * L)
    basis, ref = m.hmm.costBasis(seller, 0), m.hmm.refBasis(seller, 0)
    per_credit_quoted = basis // (2 * L)  # what the receiver sees when agreeing to the deal
    ref_per_credit = ref // (2 * L)
    m.apply("sell", seller, 0, L)
    share, at_ref, fee = give_split(m, seller, [(0, L)], receiver)
    got = m.hmm.costBasis(receiver, 0)
    m.assert_same()
    print(f"basis {basis / WEI:,.0f}; the 1 L handed on takes {share / WEI:,.0f} of it, carries {got / WEI:,.0f},"
          f" refunds {(share - at_ref) / WEI:,.0f} less {fee / WEI:,.0f}")
    assert share >= per_credit_quoted * L and got == m.hmm.refBasis(receiver, 0) == at_ref >= ref_per_credit * L
    assert (share, at_ref, fee) == (3_194_528_049_465_325_113_500_000, 10**24, 125_000 * WEI)
    m.apply("offer", m.provider, 0, L)
    before = m.token.balanceOf(m.provider)
    m.apply("redeem", receiver, 0, L, m.provider)
    assert m.token.balanceOf(m.provider) - before == at_ref - fee_on(at_ref, m.hmm.exitFee()) == 875_000 * WEI
    m.assert_same()


def test_parked_supply_costs_the_parker_more_than_honest_buyers_overpay(m):
    """Finding 3 (Medium), closed by a pricing position that decays (it was an xfail): parking was
    risk-free (exits pay bases) and cost its fees only. The dealer bought 3 L (19.1M HANZO gross) before
    10 epochs of honest demand and then redeemed them at its accomplice's offer: the pair spent 2,442,949
    HANZO (the 0.3% buy and 12.5% exit fees) while honest buyers paid 15.9M more for compute that cost
    835,369 unparked (x20 = e^3), all of it paid on to providers: leverage ~6.5. No fee within the bound
    closed it (50%: 1.7). Now purchases are priced at the tier's pricing position, which forgets 90% of
    itself at each epoch's close (`positionDecay`, hmm_position_decay; docs/pricing_by_flow.md, rule 1):
    a block held across epochs stops pricing others up the curve after a day or two. Tried: the same
    parking. Result: the pair spends the same fees, 2,442,948, and honest buyers overpay 1,626,396 (the
    first epochs, before the position has decayed): leverage 0.67, below 1, so parking costs its maker
    more than it costs anyone else (at ten times the demand it is 10.5 on the model; docs). Since rule 3h
    (a redemption pays its provider the reference price, the curve's premium back to the buyer less the
    exit fee) honest buyers lose only the fee on the premium the parked block put under them, and the
    providers are paid none of it: the pair still spends 2,442,948 (the accomplice's pay and the
    dealer's refund are a sale's proceeds), honest buyers overpay 207,556: leverage 0.67 -> 0.085. (The
    accomplice offers 3.75 L, the redemption at its target share, so no congestion charge adds to the pair's
    cost: with exactly 3 L it would pay kappa x P_ref on the 0.6 L above target, kept in the surplus.) Since the
    exit fee on the reference part (the premium back whole, to the dealer and to honest buyers alike) the pair
    spends 432,256 (the buy fee and the exit fee on the reference part) and honest buyers overpay 4,864 (the buy
    fee on the premium): leverage 0.011."""
    user, d, x = m.traders[0], m.dealer, m.accomplice
    pair_start = m.token.balanceOf(d) + m.token.balanceOf(x)
    m.apply("buy", d, 0, 3 * L)
    u_start = m.token.balanceOf(user)
    for _ in range(10):
        _honest_epoch(m, user)
        m.advance_epoch()
        m.apply("poke", user)
    m.apply("offer", x, 0, 3 * L * 5 // 4)
    _, receipt = m.apply("redeem", d, 0, 3 * L, x)
    assert not receipt.decode_logs(m.hmm.Congested)
    m.assert_same()
    spent = pair_start - m.token.balanceOf(d) - m.token.balanceOf(x)
    overpaid = (u_start - m.token.balanceOf(user)) - _honest_model(10)[1]
    print(f"dealer and accomplice spent {spent / WEI:,.0f} HANZO; honest buyers overpaid {overpaid / WEI:,.0f}")
    assert (spent // WEI, overpaid // WEI) == (432_256, 4_864)  # (2,442,948, 207,556) before the fee change
    assert 0 < overpaid < spent // 10


@pytest.mark.parametrize("attack", ["wash", "park"])
def test_a_lone_provider_pays_the_sell_fee_to_wash_or_park(m, attack):
    """Findings 2 and 3 by a dealer with no provider's offer to redeem at but its own (no accomplice,
    and no second wallet: with one, a provider is its own accomplice, the xfails above): the dealer cannot
    redeem to itself, so every credit it bought leaves by sale, paying the 12.5% fee (its share of
    its basis less the fee on the share's reference part, exactly), and a sale does not count in utilization.
    Wash (10 epochs beside honest demand at target, 0.01 L bought a day): the self-redemption is
    refused, the dealer sells the 0.01 L back; the price follows honest demand alone (overpaid: 0
    HANZO) and the dealer spent 12,802 HANZO in fees (12,864 before the exit fee on the reference
    part): leverage 0 (with an accomplice: 14,375 spent since exits cost alike, 337 before, 98,107
    overpaid, ~6.8x, ~291x before). Had it offered its own 0.01 L for the refused redemption, the offer,
    left idle, would have pushed the price down instead (honest buyers paid 245,752 less: finding
    1's crash). Its other lever alone is real demand: spending the 0.01 L at the
    honest provider's capacity (utilization 90%) costs it the whole basis, paid to that provider
    (166,057 HANZO in 10 epochs) for 540,770 overpaid by honest buyers, a leverage of 3.3 (5.9 over
    20 epochs), the same as any buyer of compute it leaves unused (measured before rule 3h; since, the
    premium over P_ref comes back to the dealer, whole since the exit fee on the reference part).
    Park (3 L bought before 10 honest epochs): the self-redemption is refused, the dealer sells the
    3 L at its basis (19,085,537) less the fee on its reference part: it spent 432,257 (the buy fee and
    12.5% of the reference part) for 4,865 overpaid by honest buyers (the buy fee on the premium), a leverage
    of 0.011 (before the exit fee on the reference part, session 24: 2,442,949, 12.8%, fees both ways, for
    207,556, 0.085; 1,626,396 overpaid before rule 3h refunded them the premium; 0.67 before 3h, 6.5
    before the pricing position decayed; with an accomplice the same since exits cost alike; 57,257
    spent, ~278x, before that)."""
    user, d = m.traders[0], m.dealer
    d_start, u_start = m.token.balanceOf(d), m.token.balanceOf(user)
    fees = 0

    def leave(n, offer):
        nonlocal fees
        if offer:
            m.apply("offer", d, 0, n)  # its own capacity: still no way out but the sale
        err = m.apply("redeem", d, 0, n, d)
        assert isinstance(err, HMMError) and err.name == "SelfRedemption"
        held, basis, ref = m.hmm.balanceOf(d, 0), m.hmm.costBasis(d, 0), m.hmm.refBasis(d, 0)
        share = basis if n == held else basis * n // held
        at_ref = ref if n == held else ref * n // held
        got, _ = m.apply("sell", d, 0, n)
        assert got == share - fee_on(at_ref, m.model.params.sell_fee)  # the fee on the reference part, on the way out
        fees += fee_on(at_ref, m.model.params.sell_fee)

    if attack == "park":
        m.apply("buy", d, 0, 3 * L)
    for _ in range(10):
        _honest_epoch(m, user)
        if attack == "wash":
            m.apply("buy", d, 0, L // 100)
            leave(L // 100, offer=False)  # an offer left idle would crash the price (finding 1)
        m.advance_epoch()
        m.apply("poke", user)
    if attack == "park":
        leave(3 * L, offer=True)
    m.assert_same()
    spent = d_start - m.token.balanceOf(d)
    overpaid = (u_start - m.token.balanceOf(user)) - _honest_model(10)[1]
    print(f"{attack}: dealer spent {spent / WEI:,.0f} HANZO (sell fees {fees / WEI:,.0f}); "
          f"honest buyers overpaid {overpaid / WEI:,.0f}")
    assert spent > fees > 0 and m.hmm.balanceOf(d, 0) == 0
    if attack == "wash":
        assert overpaid == 0  # sales do not count in utilization: the wash moves nothing
        assert 12_000 * WEI < spent < 14_000 * WEI
    else:
        # 0.011, as with an accomplice (0.085 before the exit fee on the reference part, 0.67 before rule 3h, 6.5
        # before the pricing position decayed, ~278 before exits cost alike)
        assert (spent // WEI, overpaid // WEI) == (432_256, 4_864) and 0 < overpaid < spent // 10


# ---------------------------------------------------------------- 5. model against contract


def test_model_and_contract_agree_on_odd_reverts(m):
    """Tried: operations at the edges, each on both sides through Market.apply (which fails if one
    side reverts and the other does not, or the errors differ): sell/redeem 0 and more than held,
    redeem beyond the offer, a transfer of more than held, a batch over-naming an id, an offer
    beyond 40 L, selling more than the supply, poking early. Result: both sides revert alike on
    every one (a model/contract disagreement is only in error names the harness cannot decode,
    e.g. the token's ERC20InsufficientBalance, not in outcomes)."""
    a, b, d = m.traders
    m.apply("buy", a, 0, 1000)
    cases = [
        (("sell", a, 0, 0), "ZeroAmount"),
        (("sell", a, 0, 1001), "InsufficientSupply"),
        (("sell", b, 0, 10), "ERC1155InsufficientBalance"),
        (("redeem", a, 0, 0, d), "ZeroAmount"),
        (("redeem", a, 0, 5, d), "InsufficientCapacity"),
        (("offer", d, 0, 40 * L + 1), "CapacityTooLarge"),
        (("offer", a, 0, 1), "NotProvider"),
        (("give", a, 0, 1001, b), "ERC1155InsufficientBalance"),
        (("give_batch", a, [(0, 600), (0, 401)], b), "ERC1155InsufficientBalance"),
        (("buy", a, 0, 40 * L), "DepthExceeded"),
        (("poke", a), "EpochNotOver"),
    ]
    for step, name in cases:
        r = m.apply(*step)
        assert isinstance(r, HMMError) and r.name == name, (step, r)
    m.apply("offer", d, 0, 10)
    r = m.apply("redeem", a, 0, 11, d)
    assert isinstance(r, HMMError) and r.name == "InsufficientCapacity"
    m.assert_same()
