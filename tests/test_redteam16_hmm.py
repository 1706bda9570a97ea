"""Review 16b (redteam16), the market maker: a rise of the price spent what was retained for a
tier's dear holders, so who left first moved a quarter of a position (half, pumped by a provider).
Fixed by paying every exit its share of its own basis (the price prices purchases only): each test
failed before (Alice got 521,850 / 314,148 of the 679,975 HANZO she was owed) and passes now. Since the exit fee
on the reference part (the premium back whole) she is owed her basis less the fee on its reference part: 764,614.
On the contract beside its model (tests/market.py), default parameters."""

from __future__ import annotations

from hanzo.econ.fixedpoint import WAD, mul_div_up
from hanzo.econ.params import WEI

from .market import charge_on

L = 10**9  # the default depth


def _setup(m, self_dealing: bool):
    """C buys 1 L (cheap, the bottom of the curve), B buys 1 L, Alice buys 0.1 L last (the top).
    B spends its credits at a provider who offered exactly them (utilization 100%: an honest user
    of compute, or the dealer redeeming at its accomplice, a colluding provider who hands the HANZO
    back: redeeming to itself is refused since red team 17; either way B pays the congestion charge on the
    0.2 L above the provider's target share), and the epoch's poke raises the price by
    e^0.1 (alpha 0.5 x (1 - 0.8)). Returns (alice, c, what Alice paid, her basis, its reference part)."""
    c, alice, b = m.traders[0], m.traders[1], m.dealer
    m.apply("buy", c, 0, L)
    m.apply("buy", b, 0, L)
    before = m.token.balanceOf(alice)
    m.apply("buy", alice, 0, L // 10)
    paid = before - m.token.balanceOf(alice)
    provider = m.accomplice if self_dealing else m.provider
    m.apply("offer", provider, 0, L)
    m.apply("redeem", b, 0, L, provider)
    assert m.hmm.reserve() == m.hmm.costBasis(c, 0) + m.hmm.costBasis(alice, 0)  # B's exit took B's basis
    ref = m.hmm.tier(0).refPrice
    m.advance_epoch()
    m.apply("poke", c)
    assert m.hmm.tier(0).refPrice > ref  # the rise, which used to be paid for out of Alice's backing
    m.assert_same()
    return alice, c, paid, m.hmm.costBasis(alice, 0), m.hmm.refBasis(alice, 0)


def _exit_all(m, who):
    before = m.token.balanceOf(who)
    m.apply("sell", who, 0, m.hmm.balanceOf(who, 0))
    return m.token.balanceOf(who) - before


def _owed(m, basis, ref):
    """The basis less the exit fee on its reference part (the premium back whole)."""
    return basis - mul_div_up(ref, m.model.params.sell_fee, WAD)


def test_alice_leaving_last_is_paid_her_basis_less_the_sell_fee(m):
    """The control: the same market, Alice leaves after C: she gets her basis less the fee."""
    alice, c, paid, basis, ref = _setup(m, self_dealing=False)
    _exit_all(m, c)
    assert _exit_all(m, alice) == _owed(m, basis, ref)
    m.assert_same()


def test_a_dear_holder_leaving_first_after_a_rise_is_paid_her_basis_less_the_sell_fee(m):
    alice, c, paid, basis, ref = _setup(m, self_dealing=False)
    got = _exit_all(m, alice)
    print(f"Alice paid {paid / WEI:,.0f}, owed {_owed(m, basis, ref) / WEI:,.0f}, got {got / WEI:,.0f}")
    m.assert_same()
    assert got == _owed(m, basis, ref)  # to the wei, in either order


def test_a_self_dealing_provider_cannot_make_a_dear_holder_leave_short(m):
    charge_on(m)  # the congestion charge (off by default) switched on, as governance may: the dealer pays it too
    dealer, x = m.dealer, m.accomplice  # the pair: the accomplice hands its pay back
    start = m.token.balanceOf(dealer) + m.token.balanceOf(x)
    alice, c, paid, basis, ref = _setup(m, self_dealing=True)
    cost = start - m.token.balanceOf(dealer) - m.token.balanceOf(x)
    got = _exit_all(m, alice)
    print(f"dealer spent {cost / WEI:,.0f}; Alice owed {_owed(m, basis, ref) / WEI:,.0f}, got {got / WEI:,.0f}")
    # the attack's price: the buy fee on 1 L (0.3% of 4.67M), and since exits cost alike the exit fee on
    # the dealer's redemptions at its accomplice's offer (12.5% of their reference part since the exit fee on the
    # reference part): 139,012 HANZO (597,859 on the whole share before; 19,167 when redemptions were free);
    # and since the congestion charge, kappa x P_ref on the 0.2 L served above the accomplice's target share
    # (166,667 HANZO): 305,679 in all (764,526 before)
    t0 = m.model.tiers[0]
    excess = L - L * m.model.params.target_utilization // WAD
    charge = mul_div_up(excess * t0.base_price, m.model.params.congestion_charge, WAD)  # P_ref was the base then
    assert charge == 166_666_666_666_666_666_600_000
    assert cost - charge < 140_000 * WEI and cost == 305_678_989_478_081_481_576_000
    assert got == _owed(m, basis, ref)


def test_a_provider_pumping_two_epochs_cannot_take_half_of_a_dear_holders_exit(m):
    x, alice, k = m.dealer, m.traders[1], m.accomplice  # k serves x's redemptions (never x itself)
    start = m.token.balanceOf(x)
    m.apply("buy", x, 0, L)
    m.apply("buy", x, 0, L)
    m.apply("buy", alice, 0, L // 10)
    basis, ref = m.hmm.costBasis(alice, 0), m.hmm.refBasis(alice, 0)
    m.apply("offer", k, 0, L)
    m.apply("redeem", x, 0, L, k)
    for pump in range(2):
        if pump:
            m.apply("offer", k, 0, 1)
            m.apply("redeem", x, 0, 1, k)
        m.advance_epoch()
        m.apply("poke", x)
    got = _exit_all(m, alice)
    held = m.hmm.balanceOf(x, 0)
    m.apply("offer", k, 0, held)
    m.apply("redeem", x, 0, held, k)
    m.assert_same()
    net = m.token.balanceOf(x) + m.token.balanceOf(k) - start
    print(f"Alice owed {_owed(m, basis, ref) / WEI:,.0f}, got {got / WEI:,.0f}; "
          f"dealer and accomplice net {net / WEI:,.0f}; surplus {m.hmm.surplus() / WEI:,.0f}")
    assert got == _owed(m, basis, ref)
