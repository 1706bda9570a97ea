"""redeemAtAsk: a holder pays a provider's ask above the price (red team 17's spiral, closed), and credits served
above the price count at the target utilization. A money path, so each test is an attack or a bound: who pays,
how much, what a provider re-asking across the poke can take, what a cartel's wash through it moves, what a
greedy coalition takes out (contract beside the exact model, or the model's wide search).

Default parameters (tests/market.py): depth L = 1e9 credits, tier 0 at 0.001 HANZO a credit, buy fee 0.3%, exit
fee 12.5%, target utilization 80%, epochs of a day."""

from __future__ import annotations

import random

import pytest

from hanzo.econ.fixedpoint import WAD, mul_div_up
from hanzo.econ.hmm import HMMError
from hanzo.econ.params import WEI

from .market import FAR, charge_on, fresh_model

L = 10**9
DAY = 86_400


def _balances(m, *accounts):
    return [m.token.balanceOf(a) for a in accounts]


def test_redeem_at_ask_pays_the_ask_out_of_the_refund_then_the_balance(m):
    """A provider asks 1.5x what a credit bought now pays (above countedAsk: uncounted, and redeem refuses it,
    BelowAsk). The user buys 0.08 L and spends it there with redeemAtAsk at exactly that ask. Result: the
    provider gets the ask x amount to the wei; of the difference from its part, the user's refund (the premium,
    whole) pays first and the rest is pulled from its balance (AskToppedUp names that rest);
    quoteRedeemAtAsk said so beforehand; the maker keeps exactly the exit fee (a top-up never stays in it); the
    model agrees to the wei."""
    user, p = m.traders[0], m.provider
    ask = m.model.counted_ask(0) * 3 // 2
    m.apply("offer", p, 0, L // 10, ask)
    m.apply("buy", user, 0, 8 * L // 100)
    n = 8 * L // 100
    part, refund, fee = m.hmm.quoteRedeem(user, 0, n)
    err = m.apply("redeem", user, 0, n, p)
    assert isinstance(err, HMMError) and err.name == "BelowAsk"
    quoted = m.hmm.quoteRedeemAtAsk(user, 0, n, p, ask)
    assert tuple(quoted) == m.model.quote_redeem_at_ask(m.name(user), 0, n, m.name(p), ask, now=m.now())
    surplus, (u0, p0) = m.hmm.surplus(), _balances(m, user, p)
    (payout, net), receipt = m.apply("redeem_at_ask", user, 0, n, p, ask)
    u1, p1 = _balances(m, user, p)
    top_up = ask * n - part
    print(f"part {part / WEI:,.2f}, refund {refund / WEI:,.2f}, top-up {top_up / WEI:,.2f} HANZO")
    assert top_up > refund > 0  # the refund pays first, the balance the rest
    assert payout == p1 - p0 == ask * n and tuple(quoted) == (payout, net)
    assert net == refund - top_up == u1 - u0 < 0
    assert [log.topUp for log in receipt.decode_logs(m.hmm.AskToppedUp)] == [top_up - refund]
    assert m.hmm.surplus() - surplus == fee
    m.assert_same()


def test_an_ask_above_the_holders_bound_is_refused_and_changes_nothing(m):
    """Tried: the same purchase, redeemAtAsk with maxAsk one wei below the provider's ask, and with the exact
    quote's net plus one wei as minNet. Result: AskAboveBound and NetSlippage, on the contract and the model,
    every balance and book unchanged; with the ask's bound and the quote's net, served."""
    user, p = m.traders[0], m.provider
    ask = m.model.counted_ask(0) * 3 // 2
    m.apply("offer", p, 0, L // 10, ask)
    m.apply("buy", user, 0, L // 100)
    n = L // 100
    before = _balances(m, user, p, m.hmm), m.hmm.tier(0), m.hmm.balanceOf(user, 0)
    err = m.apply("redeem_at_ask", user, 0, n, p, ask - 1)
    assert isinstance(err, HMMError) and err.name == "AskAboveBound" and err.args_ == (m.name(p), ask, ask - 1)
    _, net = m.hmm.quoteRedeemAtAsk(user, 0, n, p, ask)
    err = m.apply("redeem_at_ask", user, 0, n, p, ask, net + 1)
    assert isinstance(err, HMMError) and err.name == "NetSlippage"
    assert (_balances(m, user, p, m.hmm), m.hmm.tier(0), m.hmm.balanceOf(user, 0)) == before
    m.apply("redeem_at_ask", user, 0, n, p, ask, net)
    m.assert_same()


def test_a_provider_re_asking_across_the_poke_takes_no_more_than_the_holders_bound(m):
    """Red team 23/24's front-run on the new path: the user quotes redeemAtAsk at the provider's ask A and sends
    it with maxAsk A and the quote's net as minNet; before it is mined the epoch ends, the provider pokes and
    offers again in the new epoch at 2A, then at A again after the price moved. Result: at 2A, AskAboveBound
    (the credits stay the user's); at A after two pokes that lowered the price it is served, netting what was
    quoted (its part and premium are its basis's, which no poke changes, so here exactly the quote): a bound of
    maxAsk and minNet is all a holder needs to send one pending across a poke."""
    user, p, x = m.traders[0], m.provider, m.accomplice
    ask = m.model.counted_ask(0) * 6 // 5
    m.apply("offer", p, 0, L // 10, ask)
    m.apply("buy", user, 0, L // 50)
    n = L // 50
    _, net = m.hmm.quoteRedeemAtAsk(user, 0, n, p, ask)
    m.apply("offer", x, 0, L, 0)  # idle capacity: the price falls at the poke
    m.advance_epoch()
    m.apply("poke", p)
    assert m.model.tiers[0].ref_price < m.model.tiers[0].base_price
    m.apply("offer", p, 0, L // 10, 2 * ask)
    err = m.apply("redeem_at_ask", user, 0, n, p, ask, net)
    assert isinstance(err, HMMError) and err.name == "AskAboveBound"
    m.advance_epoch()
    m.apply("poke", p)
    m.apply("offer", p, 0, L // 10, ask)
    u0 = m.token.balanceOf(user)
    m.apply("redeem_at_ask", user, 0, n, p, ask, net)
    assert m.token.balanceOf(user) - u0 == net
    m.assert_same()


def test_service_above_the_price_reads_at_the_target_and_is_never_charged(m):
    """With the congestion charge on: only service above the price in an epoch (a provider asking 1.2x the
    price, the user paying it for 0.05 L, then 0.03 L, then 1 credit late in the day). Result: nothing enters the
    tier's counted capacity or redemptions; its servedAbove holds the weight served (0.05 L whole, 0.03 L at half
    the day left, the last credit at an hour left: 0), the poke reads exactly 0.8, no Congested event, the
    provider's ask keeps its served weight within its target share, and the price does not move."""
    charge_on(m)
    user, p = m.traders[0], m.provider
    ask = m.model.counted_ask(0) * 6 // 5
    m.apply("offer", p, 0, L // 10, ask)
    m.apply("buy", user, 0, 8 * L // 100 + 1)
    for n, hour in ((5 * L // 100, 0), (3 * L // 100, 12), (1, 23)):
        m.chain.pending_timestamp = max(m.chain.pending_timestamp, m.hmm.epochStart() + hour * 3600)
        got = m.apply("redeem_at_ask", user, 0, n, p, ask)
        assert not isinstance(got, HMMError), got
        receipt = got[1]
        assert not list(receipt.decode_logs(m.hmm.Congested))
    t = m.hmm.tier(0)
    served = 5 * L // 100 + 3 * L // 100 // 2 + 1 // 24  # whole, half the day left, an hour left (0)
    assert (t.redeemed, t.capacity, t.servedAbove) == (0, 0, served)
    ask_p = m.hmm.asks(0, 0, p)
    assert ask_p.servedWeight == served and ask_p.weightedCredits == mul_div_up(served, WAD, 8 * WAD // 10)
    base = t.refPrice
    m.advance_epoch()
    u = m.apply("poke", user)[0][0][0]  # tier 0's utilization
    assert u == 8 * WAD // 10
    assert abs(m.hmm.tier(0).refPrice - base) * 10**9 < base  # within 1e-9
    m.assert_same()


def _wash_price(through_ask: bool, epochs: int = 10) -> int:
    """The model: honest demand at the target (P offers 0.1 L, U spends 0.08 L) and the dealer D's wash of
    0.01 L a day at its accomplice X, either through an offer of 0.01 L at ask 0 (the wash red team 17 measured)
    or through X asking twice the price with D paying it (redeemAtAsk; X hands the pay back). Returns the
    reference price after `epochs`."""
    s = fresh_model()
    t = 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, L // 10, 0, t)
        s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
        s.redeem("U", 0, 8 * L // 100, "P")
        s.buy("D", 0, L // 100, 2**255, FAR, t)
        if through_ask:
            ask = 2 * s.counted_ask(0)
            s.offer_capacity("X", 0, L // 100, ask, t)
            s.redeem_at_ask("D", 0, L // 100, "X", ask, now=t)
        else:
            s.offer_capacity("X", 0, L // 100, 0, t)
            s.redeem("D", 0, L // 100, "X", now=t)
        t += DAY
        s.poke(t)
    return s.tiers[0].ref_price


def test_model_a_wash_through_a_paid_ask_moves_the_price_less_than_one_through_an_offer_at_ask_0():
    """Does redeemAtAsk open a cheaper pump? Tried (model): red team 17's wash, 0.01 L a day for 10 epochs beside
    honest demand at the target, through the accomplice X's offer at ask 0 (X at 100% of its offer) and through
    X asking twice the price with the dealer paying it (X hands it back: the same fees). Result: at ask 0 the
    price rises (the wash's 1.36x of red team 17, here with u 0.818 a day); through the paid ask the tier reads
    0.09 / 0.1125 = 0.8, the target, and the price does not move: the new path pumps nothing, so the cheaper
    pump is still the one measured before."""
    base = fresh_model().tiers[0].base_price
    at_zero, at_ask = _wash_price(False), _wash_price(True)
    print(f"wash at ask 0: {at_zero / base:.4f}x; through a paid ask: {at_ask / base:.6f}x")
    assert at_zero > 1.3 * base
    assert abs(at_ask - base) * 10**6 < base


def test_a_huge_offer_at_a_high_ask_and_one_paid_credit_lower_nothing(m):
    """Does service above the price let uncommitted capacity in? Tried: beside honest demand at the target, the
    accomplice offers 40 L (the most one offer may) at 100x the price, so it commits to nothing anyone will pay,
    and the dealer pays that ask for one credit. Result: the tier's counted capacity does not grow (the one credit
    is read at the target: as 1.25 credits of capacity), not 40 L: the price moves as with no accomplice at all,
    within 1e-7."""
    user, d, x = m.traders[0], m.dealer, m.accomplice
    m.apply("offer", m.provider, 0, L // 10, 0)
    m.apply("buy", user, 0, 8 * L // 100)
    m.apply("redeem", user, 0, 8 * L // 100, m.provider)
    capacity = m.hmm.tier(0).capacity
    huge = 100 * m.model.counted_ask(0)
    m.apply("offer", x, 0, 40 * L, huge)
    assert m.hmm.tier(0).capacity == capacity
    m.apply("buy", d, 0, 1)
    m.apply("redeem_at_ask", d, 0, 1, x, huge)
    assert m.hmm.tier(0).capacity == capacity and m.hmm.tier(0).servedAbove == 1
    m.advance_epoch()
    m.apply("poke", user)
    alone = fresh_model()
    alone.offer_capacity("P", 0, L // 10)
    alone.buy("U", 0, 8 * L // 100, 2**255, FAR, 0)
    alone.redeem("U", 0, 8 * L // 100, "P")
    alone.poke(DAY)
    print(f"price {m.hmm.tier(0).refPrice} against {alone.tiers[0].ref_price} alone")
    assert abs(m.hmm.tier(0).refPrice - alone.tiers[0].ref_price) * 10**7 < alone.tiers[0].ref_price
    m.assert_same()


def test_the_model_and_the_contract_agree_on_a_top_up_without_allowance(m, accounts):
    """A holder that never approved the maker (its credits a gift) pays an ask above the price: the top-up beyond
    its refund is pulled, so the token refuses it (ERC20InsufficientAllowance) on the contract and the model
    alike, and nothing changes; approved for exactly that, it is served and the allowance spent."""
    user, h, p = m.traders[0], accounts[8], m.provider
    m.apply("buy", user, 0, L // 100)
    m.apply("give", user, 0, L // 100, h)
    m.model.allowance[m.name(h)] = m.token.allowance(h, m.hmm)
    m.token.mint(h, 10**6 * WEI, sender=m.deployer)
    m.model.hanzo[m.name(h)] = m.token.balanceOf(h)
    ask = m.model.counted_ask(0) * 3 // 2
    m.apply("offer", p, 0, L // 10, ask)
    n = m.hmm.balanceOf(h, 0)
    _, net = m.hmm.quoteRedeemAtAsk(h, 0, n, p, ask)
    assert net < 0
    err = m.apply("redeem_at_ask", h, 0, n, p, ask)
    assert isinstance(err, HMMError) and err.name == "ERC20InsufficientAllowance"
    m.token.approve(m.hmm, -net, sender=h)
    m.model.allowance[m.name(h)] = -net
    m.apply("redeem_at_ask", h, 0, n, p, ask)
    assert m.token.allowance(h, m.hmm) == 0 == m.model.allowance[m.name(h)]
    m.assert_same()


@pytest.mark.parametrize("seed", [0, 1])
def test_model_search_no_coalition_takes_out_more_than_it_put_in_through_paid_asks(seed):
    """Tried: 150 random runs of 40 steps on the model: a coalition A, D (a provider) and X (its accomplice)
    buying, selling, moving credits, offering at asks from 0 to 3x the price, redeeming with redeem and with
    redeemAtAsk at any bound (at X and D, and at the honest P), lowering asks, poking; honest H bought 1 L
    first. Checked after every step: the reserve is the sum of the bases, the surplus never falls, no served-above-
    the-price ask reads above its target share; at the end, after everyone sells, the coalition (its HANZO, what
    D and X were paid included) never has more than it started with, and H gets its basis less the exit fee on
    its reference part (its refBasis: the curve's premium comes back whole)."""
    rng = random.Random(100 + seed)
    coalition, providers = ["A", "D", "X"], ["D", "X", "P"]
    worst = -(2**255)
    for _ in range(150):
        s = fresh_model("ADHPX")
        start = {a: s.hanzo[a] for a in coalition}
        t = 0
        s.buy("H", 0, L, 2**255, FAR, t)
        h_basis, h_ref = s.basis[("H", 0)], s.ref_basis[("H", 0)]
        surplus = s.surplus()
        for _ in range(40):
            who = rng.choice(coalition[:2])
            held = s.credits.get((who, 0), 0)
            before = s.copy()
            op = rng.random()
            try:
                if op < 0.3:
                    s.buy(who, 0, rng.choice([1, L // 100, rng.randint(1, L)]), 2**255, FAR, t)
                elif op < 0.45:
                    prov = rng.choice(["D", "X"])
                    ask = rng.choice([0, s.counted_ask(0), s.counted_ask(0) * rng.randint(1, 30) // 10])
                    s.offer_capacity(prov, 0, rng.randint(1, L // 10), ask, t + rng.randint(0, DAY))
                elif op < 0.7 and held:
                    prov = rng.choice([p for p in providers if p != who])
                    n = rng.choice([1, held, rng.randint(1, held)])
                    if rng.random() < 0.5:
                        s.redeem(who, 0, n, prov, now=t + rng.randint(0, DAY))
                    else:
                        bound = rng.choice([0, s.counted_ask(0), 5 * s.counted_ask(0), 2**128])
                        s.redeem_at_ask(who, 0, n, prov, bound, now=t + rng.randint(0, DAY))
                elif op < 0.8 and held:
                    s.sell(who, 0, rng.randint(1, held), 0, FAR, t)
                elif op < 0.88 and held:
                    s.transfer(who, rng.choice(coalition), 0, rng.randint(1, held))
                else:
                    t += DAY
                    s.poke(t)
                    s.offer_capacity("P", 0, L // 10, s.counted_ask(0) * rng.randint(8, 15) // 10, t)
            except HMMError:
                s = before
            assert s.reserve == sum(s.basis.values())
            assert s.surplus() >= surplus
            surplus = s.surplus()
            for (epoch, tid, prov), (_, counted, _, weighted) in s.asks.items():
                if epoch == s.epoch and not counted:
                    assert s.served.get((epoch, tid, prov), 0) * WAD <= weighted * s.params.target_utilization
        for who in coalition + ["H"]:
            n = s.credits.get((who, 0), 0)
            if n:
                got = s.hanzo[who]
                basis, ref = s.basis[(who, 0)], s.ref_basis.get((who, 0), 0)
                s.sell(who, 0, n, 0, FAR, t)
                if who == "H":
                    assert (basis, ref) == (h_basis, h_ref) and ref < basis
                    assert s.hanzo["H"] - got == basis - mul_div_up(ref, 125 * WAD // 1000, WAD)
        net = sum(s.hanzo[a] - start[a] for a in coalition)
        worst = max(worst, net)
        assert net <= 0
    print(f"best coalition outcome: {worst / WEI:,.2f} HANZO")


def _surge(kind: str, epochs: int = 10):
    """The model: a real surge (P offers 0.1 L at ask 0, U spends 0.1 L a day: utilization 1) for `epochs`, with
    the cartel's move each day: "paid" (the dealer D spends 0.08 L at its accomplice X's ask of twice the price,
    paying it; X hands it back), "idle" (X offers 0.1 L at ask 0 that nobody uses) or "none"."""
    s = fresh_model()
    t = 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, L // 10, 0, t)
        s.buy("U", 0, L // 10, 2**255, FAR, t)
        s.redeem("U", 0, L // 10, "P", now=t)
        if kind == "paid":
            s.buy("D", 0, 8 * L // 100, 2**255, FAR, t)
            ask = 2 * s.counted_ask(0)
            s.offer_capacity("X", 0, 8 * L // 100, ask, t)
            s.redeem_at_ask("D", 0, 8 * L // 100, "X", ask, now=t)
        elif kind == "idle":
            s.offer_capacity("X", 0, L // 10, 0, t)
        t += DAY
        s.poke(t)
    return s


def test_model_damping_a_real_surge_through_paid_asks_costs_more_than_it_takes_from_the_provider():
    """Service above the price reads as the target, so it pulls a tier's utilization toward 0.8 from either side:
    can a cartel slow a real rise with it? Tried (model): a real surge (utilization 1 for 10 days, the price
    3.19x), the dealer spending 0.08 L a day at its accomplice's ask of twice the price (paid, handed back).
    Result: the price 2.95x instead of 3.19x; the honest provider paid 105,515 HANZO less, for 168,850 of the
    cartel's fees (leverage 0.62; 175,619 and 0.60 before the fee on the reference part, session 24). For the
    record, idle capacity at ask 0 does more for nothing (0.31x): the committed-capacity class the ask rules
    accept (red team 17, finding 1: anyone may spend credits there)."""
    none, paid, idle = _surge("none"), _surge("paid"), _surge("idle")
    spent = 2 * 10**40 - paid.hanzo["D"] - paid.hanzo["X"]
    harm = none.hanzo["P"] - paid.hanzo["P"]
    prices = [round(s.tiers[0].ref_price / s.tiers[0].base_price, 2) for s in (none, paid, idle)]
    print(f"prices {prices}; provider paid {harm / WEI:,.0f} less; cartel spent {spent / WEI:,.0f}")
    assert prices == [3.19, 2.95, 0.31]
    assert (harm // WEI, spent // WEI) == (105_515, 168_850)
    assert harm < spent
