"""Red team 26: the congestion charge (HamiltonianMarketMaker._serve / _countServed / _congestion / _settle,
quoteRedeemAt; the model's HMMState._plan / _congestion / _settle_check / _redeem_books; docs/congestion.md).

A counted redemption adds amount x weightedCredits / countedCredits to its provider's served weight for the epoch
and tier; the part above 80% of the provider's counted weighted capacity pays ceil(excess x P_ref x kappa / 1e18),
kappa = 1/1.2, paid by the holder (netted from its refund, the rest pulled by transferFrom), kept in the surplus;
redeem / redeemBatch take a signed bound minNet (NetSlippage).

The charge is off by default since this red team (hmm_congestion_charge 0: the findings below); every test here
switches it on at 1/1.2, as governance may (tests/market.py charge_on / charged_model).

Attacked as a greedy user, a manipulator (the dealer D, its accomplice provider X, and W, the honest-looking
provider P's own second wallet) and a demanding protocol engineer, on the exact integer model (wide searches and
the 30-epoch elastic measure of docs/congestion.md) and on the contract beside it (tests/market.py: m.apply,
m.assert_same). Default parameters: L = 1e9 credits, tier 0 at P_ref = 0.001 HANZO a credit (0.01 L = 10,000
HANZO at P_ref), buy fee 0.3%, exit fee 12.5%, target 80%, kappa 0.8333.

Found:
- Medium, restated (session 26) as
  `test_model_a_providers_own_wallet_wash_adds_less_harm_to_withholding_the_same_utilization_than_it_costs`: the
  charge falls on whoever redeems after the provider crosses 80%. A provider that also serves honest users washes
  its own capacity through a second wallet W (or a colluding dealer), first in the epoch: W pays no charge, the
  honest users after it pay the wash's charge. On the elastic measure (30 epochs, eps = 1.2) the wash into P's
  spare 0.01 L reads 5.81 without the charge and 8.41 with it (14,262 HANZO spent, 119,988 of harm); with P
  padding its offer by the wash (as X does) 1.28 -> 1.85; washing last 1.15. The finding's bound (the cartel pays
  at least the harm) cannot hold for a provider's own wallet under any rule on redemptions: P offering less
  reaches the same utilization, the same price path and the same harm for nothing (with the charge on, 2,462 /
  477 / -3,780 HANZO less harm than the wash), so the own-wallet wash is withholding plus fees, the class "a
  provider steers the price of compute" (docs/security.md). What the charge adds (a provider decides, by its
  offer, whether its users are charged) is a measured cost of switching it on.
- Medium, restated (session 26) as
  `test_model_a_provider_washing_its_own_capacity_ends_poorer_than_withholding_the_same_utilization`: the same
  wash on demand that does not answer the price (10 days) is profitable, charge or not: P + W gain 67,904 HANZO
  (padded; 432,050 into spare capacity), since the overpay goes to the provider serving the honest user and W,
  first, is never charged. Withholding the same utilization gains more (82,209; 453,139), alone in the tier or
  beside a second provider, and with idle capacity elsewhere in the tier the wash loses: market power, not the
  wash's accounting.
- Medium, `test_compute_above_a_providers_target_costs_more_on_the_books_than_off_them`: selling the credits and
  paying the provider the quoted payout costs exactly a redemption less the charge (paying in credits: 14,166 of
  16,667 saved), so users above 80% leave the books and the controller never sees a surge (1.5x demand: the price
  1.000x for 30 days instead of 1.415x).
- Medium, `test_the_wash_leverage_rises_above_one_when_honest_capacity_is_offered_late`: the charge prices an
  excess credit at P_ref / eps assuming the volume the rise reprices is u* x the tier's *weighted* capacity.
  Honest capacity offered during the epoch counts by the share left, but its users buy whole credits: with P
  offering at noon the charged wash at X's start-of-day offer reads 1.17 (at 18:00: 2.15; 0.66 at 00:00).
- Low, `test_the_model_and_the_contract_agree_on_a_charged_holder_without_allowance`: the model ignored the
  HANZO allowance a pulled charge needs (contract: ERC20InsufficientAllowance, model: success). Closed: the model
  checks and spends the allowance of the holders it is told about (HMMState.allowance).
- Note (passing, numbers in the docstring): a just-in-time provider (offering what it serves) makes every user
  pay kappa x 20% = 16.7% of P_ref a credit; a first-come greedy user at a shared provider pays nothing while
  the user after it pays for both.

Held (one passing test each, the numbers in its docstring): a model search (money never comes out, the surplus
never falls, the charged excess always covers the tier's excess at the poke, with late offers, lowered asks,
batches, dust); batch order, repeated ids, splitting among holders; late capacity and lowered asks on the
contract; minNet against a front-run at the same provider and a kappa raise mid-epoch; quoteRedeemAt exactness
(with an ask's top-up); rounding on dust; extreme prices and kappa at its bound; no offer raises the next user's
charge; the docs' accomplice variants (two, first, last hour, at exactly 80%) and the padded floor."""

from __future__ import annotations

import dataclasses
import random

import ape
import pytest

from hanzo.econ.fixedpoint import WAD, mul_div_up
from hanzo.econ.hmm import HMMError
from hanzo.econ.params import WEI

from .market import FAR, NO_BOUND, charge_on, charged_model, error_name

L = 10**9  # the default depth
DAY = 86_400
ELASTICITY = 1.2


@pytest.fixture
def m(market_factory):
    """tests/conftest.py's market, the congestion charge switched on (off by default) at 1/1.2."""
    market = market_factory()
    charge_on(market)
    return market


# ---------------------------------------------------------------- helpers: the elastic measure on the model


def _charge_of(s, excess) -> int:
    return mul_div_up(excess * s.tiers[0].ref_price, s.params.congestion_charge, WAD)


def _elastic(lever=None, *, kappa=None, epochs=10, after=20, p_cap=L // 10, want0=8 * L // 100, p_at=0):
    """docs/congestion.md's measure on the model: each epoch the honest P offers `p_cap` (at `p_at` seconds into the
    epoch: late capacity counts by the share left), U buys want0 x (P_ref / base)^-1.2 and spends it at P; for the
    first `epochs` epochs `lever(s, phase)` acts at phase "first" (before U) and "after" (after U), returning the
    extra capacity P offers for it (phase "offer"). Returns (the model, [(U's cost, credits, U's charge)], what
    the lever's redemptions paid P (handed back where P is in the cartel))."""
    s = charged_model("ABCDHPUWX")
    if kappa is not None:
        s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    rows, paid = [], [0]
    for epoch in range(epochs + after):
        on = lever is not None and epoch < epochs
        t0 = s.epoch_start
        want = int(want0 * (s.tiers[0].ref_price / s.tiers[0].base_price) ** -ELASTICITY)
        if on:
            lever(s, "start", paid)
        s.offer_capacity("P", 0, p_cap + (lever(s, "offer", paid) if on else 0), 0, t0 + p_at)
        if on:
            lever(s, "first", paid)
        cost = s.buy("U", 0, want, 2**255, FAR, t0)
        charge = s.quote_redeem_at("U", 0, want, "P")[3]
        s.redeem("U", 0, want, "P")
        rows.append((cost, want, charge))
        if on:
            lever(s, "after", paid)
        s.poke(t0 + DAY)
    return s, rows, paid[0]


def _harm(rows, undisturbed) -> int:
    """docs/congestion.md's harm: what U paid above the undisturbed run's price per credit, plus its extra charges."""
    return sum(cost - want * c0 // w0 + charge - ch0 for (cost, want, charge), (c0, w0, ch0) in zip(rows, undisturbed))


def _spent(s, names, paid_back=0) -> int:
    return sum(10**40 - s.hanzo.get(n, 0) for n in names) - paid_back


def _wash_at(provider, amount=L // 100, when="after", extra=0, own_offer=None):
    """A lever: W (or D) buys `amount` and redeems it at `provider` at phase `when`; P offers `extra` more for it;
    `own_offer`: the accomplice's offer (X offers it at the epoch's start)."""
    wallet = "W" if provider == "P" else "D"

    def lever(s, phase, paid):
        if phase == "offer":
            return extra
        if phase == "start" and own_offer:
            s.offer_capacity(provider, 0, own_offer, 0, s.epoch_start)
        if phase == when:
            s.buy(wallet, 0, amount, 2**255, FAR, s.epoch_start)
            payout = s.redeem(wallet, 0, amount, provider)
            if provider == "P":
                paid[0] += payout  # P's second wallet: the pay comes back to the cartel
        return 0

    return lever


def _leverage(lever, cartel, **kw) -> tuple[float, int, int]:
    _, undisturbed, _ = _elastic(None, kappa=kw.get("kappa"), p_at=kw.get("p_at", 0),
                                 want0=kw.get("want0", 8 * L // 100))
    s, rows, paid = _elastic(lever, **kw)
    harm, spent = _harm(rows, undisturbed), _spent(s, cartel, paid)
    return round(harm / spent, 2), spent // WEI, harm // WEI


def _measured(got, expected):
    """The figures a finding reports: a mismatch is an error (RuntimeError), never the expected failure."""
    if got != expected:
        raise RuntimeError(f"measured {got}, expected {expected}")


# ---------------------------------------------------------------- 1. findings on the elastic measure


def _withholding_as_the_wash(x=L // 100, pad=0, want0=8 * L // 100, p_cap=L // 10):
    """A lever: no wash; P alone offers what gives it the counted utilization P's own wallet washing `x` a day into
    it (P offering `pad` more) would, each epoch: U's want / (want + x) of that offer (U's demand read as
    `_elastic` reads it)."""

    def lever(s, phase, paid):
        if phase != "offer":
            return 0
        want = int(want0 * (s.tiers[0].ref_price / s.tiers[0].base_price) ** -ELASTICITY)
        return want * (p_cap + pad) // (want + x) - p_cap

    return lever


OWN_WALLET = {"first spare": ("first", 0), "first padded": ("first", L // 100), "last padded": ("after", L // 100)}


def test_model_a_providers_own_wallet_wash_adds_less_harm_to_withholding_the_same_utilization_than_it_costs():
    """Red team 26's first finding, restated (it was a strict xfail, "Medium: the charge falls on whoever redeems after
    the provider crosses 80%"). Tried (model, docs/congestion.md's elastic measure: 10 epochs of the lever, 20
    after, U's demand answering the price with eps = 1.2): a wash not through an accomplice's own offer but
    through the capacity of a provider P that also serves the honest user U, by P's second wallet W (W's pay to
    P comes back). Measured (leverage = U's harm / what the cartel spent, charges included; kappa 0 -> 0.8333):
      x-wash (the doc's): D 0.01 L at X's 0.01 L                         1.28 -> 0.66 (spent 30,060, harm 19,842)
      W first into P's spare 0.01 L (P offers 0.1 L as always)          5.81 -> 8.41 (spent 14,262, harm 119,988)
      W first, P offering 0.11 L (padded by the wash, as X)             1.28 -> 1.85 (spent 13,058, harm 24,099)
      W last, P offering 0.11 L (the charge is exactly the tier excess) 1.28 -> 1.15 (spent 17,315, harm 19,842)
    The finding asked the cartel to pay at least the harm in every row. That cannot hold for the own-wallet rows
    under any rule on redemptions: P reaches the same counted utilization, so the same price path (to 1e-8) and
    the same harm, by offering less (`_withholding_as_the_wash`: want / (want + 0.01 L) of its offer), which
    costs it nothing: harm 82,870 / 16,664 / 16,664 with the charge off (the wash's to the HANZO), 117,526 /
    23,623 / 23,623 with it on (U charged on the whole excess). What the wash adds to that free harm is under
    its cost: 0 against 14,262 / 13,058 / 13,058 with the charge off, and 2,462 / 477 / -3,780 against 14,262 /
    13,058 / 17,315 with it on (W first makes U pay the charge on W's credits' excess too). So the own-wallet
    wash is withholding with fees on top: the class "a provider steers the price of compute" (docs/security.md),
    bounded by other providers' spare capacity
    (`test_model_a_provider_washing_its_own_capacity_ends_poorer_than_withholding_the_same_utilization`), not by
    a rule on redemptions. The charge's part in it is a cost of switching it on, measured: a provider decides
    whether its users are charged, by what it offers (23,623 against 16,664 for the same withholding). The
    accomplice's row (0.66 with the charge on) is the one the charge was built for (tests/test_redteam17_hmm.py)."""
    kappa0 = {"kappa": 0}
    got = {"x": (_leverage(_wash_at("X", own_offer=L // 100), ["D", "X"], **kappa0)[0],
                 _leverage(_wash_at("X", own_offer=L // 100), ["D", "X"]))}
    for row, (when, pad) in OWN_WALLET.items():
        got[row] = (_leverage(_wash_at("P", when=when, extra=pad), ["W"], **kappa0)[0],
                    _leverage(_wash_at("P", when=when, extra=pad), ["W"]))
    print(got)
    _measured(got, {"x": (1.28, (0.66, 30_060, 19_842)), "first spare": (5.81, (8.41, 14_262, 119_988)),
                    "first padded": (1.28, (1.85, 13_058, 24_099)), "last padded": (1.28, (1.15, 17_315, 19_842))})
    added = {}
    for kappa in (0, None):
        _, undisturbed, _ = _elastic(None, kappa=kappa)
        for row, (when, pad) in OWN_WALLET.items():
            s, rows, paid = _elastic(_wash_at("P", when=when, extra=pad), kappa=kappa)
            w, withheld, _ = _elastic(_withholding_as_the_wash(pad=pad), kappa=kappa)
            assert abs(w.tiers[0].ref_price - s.tiers[0].ref_price) * 10**8 < s.tiers[0].ref_price, row  # one path
            added[(kappa, row)] = (round((_harm(rows, undisturbed) - _harm(withheld, undisturbed)) / WEI),
                                   _spent(s, ["W"], paid) // WEI, _harm(withheld, undisturbed) // WEI)
    print(added)
    _measured(added, {(0, "first spare"): (0, 14_262, 82_870), (0, "first padded"): (0, 13_058, 16_664),
                      (0, "last padded"): (0, 13_058, 16_664), (None, "first spare"): (2_462, 14_262, 117_526),
                      (None, "first padded"): (477, 13_058, 23_623), (None, "last padded"): (-3_780, 17_315, 23_623)})
    assert all(extra < spent for extra, spent, _ in added.values())


def test_model_withholding_spare_capacity_moves_the_price_as_the_own_wallet_wash_does_for_nothing():
    """What bounds the previous test's worst variant (a provider's second wallet washing into its spare capacity):
    the provider need not wash at all. Tried (model, the elastic measure, the charge off as deployed): instead of
    W's 0.01 L a day at P, P offers 0.01 L, 0.0111 L (utilization 0.9, as the wash's) or 0.02 L less for the same
    10 epochs (still more than U wants). Result: U's harm 67,266 / 74,718 / 133,065 HANZO at no cost, against the
    wash's 82,870 for 14,262 of fees (14,332 before the exit fee on the reference part): utilization is served
    over offered, and a provider decides what it offers, so the own-wallet wash is a dearer form of withholding. No
    rule on redemptions reaches that; what bounds it is another provider offering at the risen price (entry, not
    measured here), as for any seller with market power. The accomplice's wash (X offering what D redeems) is the
    variant a provider's own offer does not explain."""
    _, undisturbed, _ = _elastic(None, kappa=0)
    s, rows, paid = _elastic(_wash_at("P", when="first"), kappa=0)
    wash = (_harm(rows, undisturbed) // WEI, _spent(s, ["W"], paid) // WEI)
    withheld = {}
    for less in (L // 100, L // 90, L // 50):
        _, rows, _ = _elastic(lambda s, phase, paid, less=less: -less if phase == "offer" else 0, kappa=0)
        withheld[less] = _harm(rows, undisturbed) // WEI
    print(f"wash (harm, spent) {wash}; withholding {withheld}")
    assert wash == (82_870, 14_262)
    assert withheld == {L // 100: 67_266, L // 90: 74_718, L // 50: 133_065}
    assert withheld[L // 50] > wash[0]


def _own_wallet_days(wash=0, *, kappa=None, pad=0, less=0, q_offer=0, q_served=0, days=10):
    """`days` epochs of demand that does not answer the price: P offers 0.1 L (+ `pad`, - `less`), its second wallet
    W buys `wash` credits and redeems them at P first, U buys and spends 0.08 L at P; a second provider Q offers
    `q_offer`, of which its user A spends `q_served`. Returns the model."""
    s = charged_model("ABCDHPQUWX")
    s.providers |= {"Q"}
    if kappa is not None:
        s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    for _ in range(days):
        t = s.epoch_start
        s.offer_capacity("P", 0, L // 10 + pad - less, 0, t)
        if q_offer:
            s.offer_capacity("Q", 0, q_offer, 0, t)
        if wash:
            s.buy("W", 0, wash, 2**255, FAR, t)
            s.redeem("W", 0, wash, "P")
        for user, provider, amount in (("U", "P", 8 * L // 100), ("A", "Q", q_served)):
            if amount:
                s.buy(user, 0, amount, 2**255, FAR, t)
                s.redeem(user, 0, amount, provider)
        s.poke(t + DAY)
    return s


def test_model_a_provider_washing_its_own_capacity_ends_poorer_than_withholding_the_same_utilization():
    """Red team 26's second finding, restated (it was a strict xfail: "Medium: where demand does not answer the price
    (10 days), a provider washing its own capacity first through a second wallet ends richer, charge or not").
    Tried (model): P's wallet W washes 0.01 L a day into P first, on demand that does not answer the price; the
    overpay U makes goes to P (rule 3h pays P_ref at purchase). Measured: P + W end richer by 67,904 HANZO with
    P padding its offer by the wash (the price 1.358x), 432,050 washing into P's spare capacity (2.954x), the
    same to the wei with kappa 0 and 0.8333 (W, first, is never charged); U pays 94,246 more padded (112,870
    with the charge), 519,490 into spare capacity (656,769). (Demand answering the price, eps = 1.2: the cartel
    loses 16,042 / 30,171 over 30 days.)
    The finding's "ends no richer" cannot hold under any rule on redemptions: P reaches the same tier utilization by
    offering C x / (S + x) less (C the tier's capacity, S what is served, x the wash), so the same price path (to
    1e-4) and the same overpay by every honest user (to the HANZO; with the charge on U pays less), for nothing, and
    ends richer than washing by the wash's fees: alone in the tier 453,139 against 432,050 (82,209 against 67,904
    padded). Beside a second provider Q the same holds (Q at 80% of 0.05 L: 361,580 against 342,166; Q at 40%:
    46,893 against 37,711), and where Q's offer is idle the tier sits below target: the wash loses 1,527 and
    withholding gains 6,566 over 10 days (the price 1.018x the undisturbed run's, which falls to 0.308x of its
    start). So the profit is a provider's market power over a tier it nearly fills ("a provider steers the price of
    compute", docs/security.md), which other providers' spare capacity takes away, not a flaw of the wash's
    accounting. Holds: the wash never beats withholding, and with spare capacity elsewhere in the tier the wash
    loses."""
    cases = {"P alone": {}, "P alone, padded": {"pad": L // 100}, "Q at 80%": {"q_offer": L // 20, "q_served": L // 25},
             "Q at 40%": {"q_offer": L // 20, "q_served": L // 50}, "Q idle": {"q_offer": L // 20}}
    got = {}
    for kappa in (0, None):
        for name, kw in cases.items():
            pad, rest = kw.get("pad", 0), {k: v for k, v in kw.items() if k != "pad"}
            capacity = L // 10 + pad + rest.get("q_offer", 0)
            served = 8 * L // 100 + rest.get("q_served", 0)
            less = capacity - capacity * served // (served + L // 100) - pad
            base = _own_wallet_days(kappa=kappa, **rest)
            s = _own_wallet_days(L // 100, kappa=kappa, pad=pad, **rest)
            w = _own_wallet_days(kappa=kappa, less=less, **rest)
            assert abs(w.tiers[0].ref_price - s.tiers[0].ref_price) * 10**4 < s.tiers[0].ref_price, name
            if kappa == 0:  # the same overpay by every honest user (with the charge on, U pays less of it)
                assert abs(w.hanzo["U"] - s.hanzo["U"]) < WEI and abs(w.hanzo["A"] - s.hanzo["A"]) < WEI, name
            got[(kappa, name)] = ((s.hanzo["P"] + s.hanzo["W"] - base.hanzo["P"] - base.hanzo["W"]) // WEI,
                                  (w.hanzo["P"] - base.hanzo["P"]) // WEI, (base.hanzo["U"] - s.hanzo["U"]) // WEI,
                                  round(s.tiers[0].ref_price / base.tiers[0].ref_price, 3))
    print(got)
    _measured({k: v for k, v in got.items() if k[0] == 0},
              {(0, "P alone"): (432_050, 453_139, 519_490, 2.954),
               (0, "P alone, padded"): (67_904, 82_209, 94_246, 1.358),
               (0, "Q at 80%"): (342_166, 361_580, 414_525, 2.673), (0, "Q at 40%"): (37_711, 46_893, 53_759, 1.154),
               (0, "Q idle"): (-1_527, 6_566, 7_528, 1.018)})
    assert all(wash < withheld for wash, withheld, _, _ in got.values())
    assert got[(0, "Q idle")][0] < 0 and got[(None, "Q idle")][0] < 0


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "Medium: kappa = 1/eps prices an excess credit as if the rise repriced u* x the tier's weighted capacity; "
    "honest capacity offered late counts by the share of the day left while its users buy whole credits: the "
    "charged x-wash reads 0.66 with P offering at 00:00, 1.17 at 12:00 (30,713 spent, 35,946 harm), 2.15 at 18:00 "
    "(32,212 spent, 69,333 harm); without the charge 1.28 / 2.48 / 4.72"))
def test_the_wash_leverage_rises_above_one_when_honest_capacity_is_offered_late():
    """Tried (model, the elastic measure): the doc's x-wash (D buys 0.01 L a day and redeems it at X's 0.01 L,
    offered at the epoch's start) beside an honest P whose 0.1 L is offered at 00:00, 12:00 or 18:00 (its
    capacity and what it serves count by the share of the day left, red team 20; the undisturbed run offers at
    the same hour). X's weight is 1, P's 0.5 or 0.25: the tier's weighted capacity shrinks, so the wash's excess is
    a larger share of it and kicks harder, while U still buys (and the rise reprices) whole credits. Measured
    (leverage, spent, harm in HANZO):
      P at 00:00: none 1.28; charged 0.66 (30,060, 19,842)
      P at 12:00: none 2.48; charged 1.17 (30,713, 35,946)
      P at 18:00: none 4.72; charged 2.15 (32,212, 69,333)
    (Before the exit fee on the reference part: none 1.27 / 2.47 / 4.70; charged spent 30,124 / 30,778 / 32,281.)
    The charge still halves the lever, but the docs' derivation (overpay = P_ref E / eps "whatever alpha and gamma
    are") holds only when the volume the rise reprices is u* times the weighted capacity; honest capacity that
    comes online during the day breaks it by 1 / its weight. Should hold: below 1 whenever honest capacity is
    offered (a charge on weight over the tier's weighted share, or kappa scaled by counted / weighted credits)."""
    got = {}
    for hour in (0, 12, 18):
        at = hour * 3600
        got[hour] = (_leverage(_wash_at("X", own_offer=L // 100), ["D", "X"], kappa=0, p_at=at)[0],
                     _leverage(_wash_at("X", own_offer=L // 100), ["D", "X"], p_at=at))
    print(got)
    _measured(got, {0: (1.28, (0.66, 30_060, 19_842)), 12: (2.48, (1.17, 30_713, 35_946)),
                    18: (4.72, (2.15, 32_212, 69_333))})
    assert all(charged[0] < 1 for _, charged in got.values())


def test_model_the_accomplice_padded_to_exactly_target_lifts_no_floor_worth_its_fees():
    """Tried (model, the elastic measure): the floor with the charge dodged by padding. Honest u 0.6 (U wants
    0.06 L at P's 0.1 L, so the price falls); D washes at X each epoch: X at 100% (0.1 L at 0.1 L, the doc's floor,
    charged 20% of it) against X padded to exactly its 80% (0.1 L at 0.125 L; 0.4 L at 0.5 L; 0.5 L at 0.625 L:
    no charge at all). Padding dodges the charge but the padded capacity pulls the tier toward 80% only, never
    above: leverage 0.98 -> 0.41 for the doc's floor with the charge, and padded -0.06 (the floor's buying lowers
    U's later purchases), 0.04, 0.04: the fees of washing 0.1-0.5 L a day (102,877-569,383 HANZO) buy 0-20,907 of
    harm. (Before the exit fee on the reference part: 0.93 -> 0.40, padded -0.05, 0.03, 0.03, fees
    108,066-733,627.) Defence held: at exactly target the accomplice cannot lift the tier past it, and below it the fees
    outweigh the harm."""
    want0 = 6 * L // 100
    got = {}
    for name, (cap, wash) in {"doc floor": (L // 10, L // 10), "padded": (L // 8, L // 10),
                              "padded 0.4 L": (L // 2, 2 * L // 5), "padded 0.5 L": (5 * L // 8, L // 2)}.items():
        got[name] = _leverage(_wash_at("X", amount=wash, own_offer=cap), ["D", "X"], want0=want0)
    print(got)
    assert got["doc floor"][0] == 0.41 and _leverage(_wash_at("X", amount=L // 10, own_offer=L // 10), ["D", "X"],
                                                     want0=want0, kappa=0)[0] == 0.98
    assert [got[k][0] for k in ("padded", "padded 0.4 L", "padded 0.5 L")] == [-0.06, 0.04, 0.04]
    assert all(v[0] < 1 for v in got.values())


# ---------------------------------------------------------------- 2. the search: money paths and the invariant

CARTEL = ["A", "D", "W", "X"]  # a wallet, the dealer (a provider), P's second wallet, the accomplice (a provider)
HONEST = ["U", "H"]  # honest holders, served by the honest provider P only


def _value(s, who) -> int:
    """`who`'s HANZO plus what their positions sell for now (the basis less the exit fee on its reference part,
    the refBasis): the liquidation value."""
    total = 0
    for a in who:
        total += s.hanzo.get(a, 0)
        for t in range(len(s.tiers)):
            b, ref = s.basis.get((a, t), 0), s.ref_basis.get((a, t), 0)
            total += b - mul_div_up(ref, s.exit_fee(), WAD)
    return total


def _served(s, tid, provider) -> tuple[int, int]:
    """(the provider's served weight, its threshold: the target share of its counted weighted capacity) now."""
    weighted = s.asks.get((s.epoch, tid, provider), (0, False, 0, 0))[3]
    return s.served.get((s.epoch, tid, provider), 0), weighted * s.params.target_utilization // WAD


def _search_run(rng, steps=70):
    """One random run on the model: the cartel and the honest users buy (1 credit to 1 L, tiers 0-2), offer
    (P, D, X: 1 credit to 1 L, at asks 0, countedAsk / 2, countedAsk or above it (uncounted, then lowered), at any
    time of the day: late capacity), redeem (single, and batches naming a tier up to 4 times, dust of 1-7 credits;
    the honest at P only, the cartel at any provider), transfer, sell and poke. Checked after every step: the
    reserve is the sum of the bases, the surplus never falls, a cartel action never raises the cartel's
    liquidation value; at every poke, per tier, the excess charged this epoch covers the tier's excess over
    target. Returns (the cartel's gain once it sold everything, the least margin of charged over tier excess in
    weighted credits, the charges paid, the redemptions charged)."""
    s = charged_model("ABCDHPUWX")
    start = sum(s.hanzo[a] for a in CARTEL)
    clock, charged, margin, charges, hits = s.epoch_start, {}, None, 0, 0
    for _ in range(steps):
        k, who = rng.random(), rng.choice(CARTEL + HONEST)
        tid = rng.randrange(3) if rng.random() < 0.3 else 0
        hour = rng.choice([0, 0, 3600, 4000, DAY // 2, DAY - 600])
        clock = min(max(clock, s.epoch_start + hour), s.epoch_start + DAY)
        before, cartel, surplus = s.copy(), _value(s, CARTEL), s.surplus()
        held = s.credits.get((who, tid), 0)
        try:
            if k < 0.2:
                s.buy(who, tid, rng.choice([1, 7, L // 1000, L // 100, L // 10, L]), 2**255, FAR, clock)
                continue
            if k < 0.38:
                ask = s.counted_ask(tid)
                s.offer_capacity(rng.choice(["P", "D", "X"]), tid, rng.choice([1, 10, L // 100, L // 10, L]),
                                 rng.choice([0, ask // 2, ask, 2 * ask]), clock)
                continue
            if k < 0.72:
                provider = "P" if who in HONEST else rng.choice(["P", "D", "X"])
                provider = "X" if provider == who else provider
                n = rng.randrange(1, 5)
                moves = []
                for _ in range(n):
                    t2 = tid if rng.random() < 0.7 else rng.randrange(3)
                    h = s.credits.get((who, t2), 0)
                    amounts = [1, 7, max(1, h // (2 * n)), max(1, h // n), rng.randrange(1, h + 2)]
                    moves.append((t2, rng.choice(amounts)))
                tiers = sorted({t for t, _ in moves})
                for t in tiers:  # often just in time: the provider offers what this redemption needs
                    need = sum(a for t2, a in moves if t2 == t) - s.provider_capacity.get((s.epoch, t, provider), 0)
                    if need > 0 and rng.random() < 0.6:
                        s.offer_capacity(provider, t, need, rng.choice([0, s.counted_ask(t)]), clock)
                was = {t: _served(s, t, provider) for t in tiers}
                paid = s.hanzo.get(who, 0)
                if n == 1:
                    s.redeem(who, *moves[0], provider)
                else:
                    s.redeem_batch(who, moves, provider)
                for t in tiers:  # a batch is one step: the threshold does not move within it
                    (s0, low), (s1, _) = was[t], _served(s, t, provider)
                    charged[t] = charged.get(t, 0) + max(0, s1 - max(s0, low))
                plan_charge = s.surplus() - surplus  # the fees and the charges, all kept
                assert plan_charge >= 0
                got = s.hanzo.get(who, 0) - paid
                hits += any(_served(s, t, provider)[0] > _served(s, t, provider)[1] for t in tiers)
                charges += max(0, -got)
            elif k < 0.82:
                if not held:
                    continue
                to = rng.choice(CARTEL + HONEST if who in CARTEL else HONEST)
                s.transfer(who, to, tid, rng.choice([held, held // 2, 1]))
            elif k < 0.9:
                if not held:
                    continue
                s.sell(who, tid, rng.choice([held, held // 2, 1]), 0, FAR, clock)
            else:
                for t, tier in enumerate(s.tiers):
                    gap = charged.get(t, 0) * WAD - (tier.redeemed * WAD - tier.capacity * s.params.target_utilization)
                    assert gap >= 0, (t, charged, tier)
                    if tier.redeemed * WAD > tier.capacity * s.params.target_utilization:
                        margin = gap if margin is None else min(margin, gap)
                clock = s.epoch_start + DAY
                s.poke(clock)
                charged = {}
                continue
        except HMMError:
            s = before
            continue
        assert s.reserve == sum(s.basis.values())
        assert s.surplus() >= surplus
        if who in CARTEL:
            assert _value(s, CARTEL) - cartel <= 8, _value(s, CARTEL) - cartel
    for (a, t), n in list(s.credits.items()):
        if n and a in CARTEL:
            s.sell(a, t, n, 0, FAR, clock)
    return sum(s.hanzo[a] for a in CARTEL) - start, margin, charges, hits


def test_model_search_no_cartel_gains_and_the_charged_excess_always_covers_the_tiers():
    """Tried: 300 random runs of 70 steps on the model (see _search_run): orders of redemptions (the cartel first
    or last at P, D and X), batches naming a tier up to 4 times, 1- and 7-credit dust, capacity offered late in the
    day (weights 1 down to 1/144), asks above countedAsk then lowered so standing capacity joins, transfers and
    sales before redeeming, pokes moving the price. Checked after every step: reserve = the sum of the bases, the
    surplus never falls (every charge stays in it; no path pays it out), no cartel action raised the cartel's
    liquidation value by more than 8 wei of rounding; at every one of the pokes, per tier, the excess charged in
    the epoch covered the tier's excess over 80% of its weighted capacity (the docs' invariant): the least margin
    where a tier was over target is reported. Offers just in time (what the redemption needs) put providers past 80%
    often: 170 runs had a tier over target at a poke, 574 redemptions left their provider past its threshold, and
    holders paid 1,774,691 HANZO of charges beyond their refunds (1,927,584 before the exit fee on the reference
    part, whose larger refunds cover more of the charges; 1,927,705 before an exit left others' fresh purchases on
    the curve: the prices paid moved); the least margin of charged over tier excess was
    0 (a lone provider over target: charged exactly the tier's excess), never negative. The best run left the cartel
    0.0034 HANZO poorer once it sold everything (its fees). Defence held."""
    rng = random.Random(26)
    runs = [_search_run(rng) for _ in range(300)]
    best = max(r[0] for r in runs)
    margins = [r[1] for r in runs if r[1] is not None]
    charges, hits = sum(r[2] for r in runs), sum(r[3] for r in runs)
    print(f"best cartel gain {best / WEI:,.4f} HANZO; tiers over target at a poke in {len(margins)} runs, least "
          f"margin {min(margins) / WAD:.6f} weighted credits; {hits} redemptions past a threshold, "
          f"{charges / WEI:,.2f} HANZO of net pulls")
    assert best < 0 and min(margins) >= 0
    assert (len(margins), hits, charges // WEI) == (170, 574, 1_774_691)


# ---------------------------------------------------------------- 3. on the contract beside the model


def _charges(receipt, hmm) -> list[tuple[int, int]]:
    """(excess, charge) of every Congested event in a receipt."""
    return [(log.excess, log.charge) for log in receipt.decode_logs(hmm.Congested)]


def _at(m, seconds):
    """Move the clock to `seconds` into the current epoch (never back)."""
    m.chain.pending_timestamp = max(m.chain.pending_timestamp, m.hmm.epochStart() + seconds)


def _redeem(m, holder, moves, provider):
    """A redemption (a batch where `moves` has several elements) on both sides; returns its Congested charges."""
    if len(moves) == 1:
        r = m.apply("redeem", holder, *moves[0], provider)
    else:
        r = m.apply("redeem_batch", holder, moves, provider)
    assert not isinstance(r, HMMError), r
    return _charges(r[1], m.hmm)


def test_a_batch_charges_as_its_single_redemptions_whatever_the_order_repeated_ids_or_holders(m):
    """Tried (contract beside the model): P offers 0.1 L; A redeems 0.06 L (under 80%: no charge), then 0.035 L
    more crossing P's threshold (0.08 L) by every arrangement, each from the same state: one redemption; a batch of
    0.01 + 0.02 + 0.005 L and the same reversed; a batch naming the tier four times (0.005 / 0.015 / 0.01 / 0.005);
    three single redemptions; half by A and half by B (two holders: credits transferred first, so B's carry no
    premium). The excess is 0.015 L every time and so is the charge, to the wei: 12,499.999999999999995 HANZO
    (kappa = 0.833333333333333333; each element's ceiling rounds up at most a wei, here nothing: P_ref = 1e15 wei
    makes every element's charge whole). Whoever holds the credits and whatever their basis, the weight and the
    charge are the same; the provider's pay never includes any of it (the surplus grows by the fees and the
    charges). Defence held."""
    a, b, p = m.traders[0], m.traders[1], m.provider
    m.apply("buy", a, 0, 12 * L // 100)
    m.apply("offer", p, 0, L // 10)
    _redeem(m, a, [(0, 6 * L // 100)], p)
    m.apply("give", a, 0, 35 * L // 2000, b)
    m.assert_same()
    arrangements = {
        "one": [(a, [(0, 35 * L // 1000)])],
        "batch": [(a, [(0, L // 100), (0, 2 * L // 100), (0, L // 200)])],
        "reversed": [(a, [(0, L // 200), (0, 2 * L // 100), (0, L // 100)])],
        "repeated": [(a, [(0, L // 200), (0, 15 * L // 1000), (0, L // 100), (0, L // 200)])],
        "singles": [(a, [(0, L // 100)]), (a, [(0, 2 * L // 100)]), (a, [(0, L // 200)])],
        "two holders": [(a, [(0, 35 * L // 2000)]), (b, [(0, 35 * L // 2000)])],
    }
    got = {}
    for name, steps in arrangements.items():
        snapshot, model = m.chain.snapshot(), m.model.copy()
        surplus, before_p = m.hmm.surplus(), m.token.balanceOf(p)
        charges = [c for holder, moves in steps for c in _redeem(m, holder, moves, p)]
        m.assert_same()
        excess, charge = sum(e for e, _ in charges), sum(c for _, c in charges)
        assert m.hmm.asks(0, 0, p).servedWeight == 95 * L // 1000
        assert m.hmm.surplus() - surplus >= charge  # kept: fees and charges
        got[name] = (excess, charge, m.token.balanceOf(p) - before_p)
        m.chain.restore(snapshot)
        m.model = model
    print({k: (e, c / WEI) for k, (e, c, _) in got.items()})
    exact = 15 * L // 1000 * m.model.tiers[0].ref_price * m.model.params.congestion_charge // WAD
    for name, (excess, charge, pay) in got.items():
        assert excess == 15 * L // 1000, name
        assert 0 <= charge - exact <= 2, (name, charge - exact)
    assert {c for _, c, _ in got.values()} == {exact} == {12_499_999_999_999_999_995_000}
    assert len({pay for _, _, pay in got.values()}) <= 3  # the provider's pay: the split's rounding, no charge


def test_late_capacity_and_a_lowered_ask_leave_the_charged_excess_above_the_tiers(m):
    """Tried (contract beside the model), one epoch: X offers 0.01 L at 00:00 (weight 1) and D redeems 0.008 L at
    it (X exactly at 80%: free); D then offers 0.05 L at twice countedAsk (not counted) and lowers it to 0 at 12:00
    with a 1-credit offer (the 0.05 L joins at weight 1/2); A redeems 0.05 L at D (served weight 0.025 L of 0.025 L
    weighted: 100%); at 18:00 X offers 0.1 L more (weight 1/4: X's average weight falls to 0.318) and D redeems
    0.1 L at it: at X's average weight it carries 0.0318 L, more than X's weighted capacity left (0.027 L), and
    since red team 27 it counts only that, so X's served weight stops at its weighted capacity (0.035 L) while the
    charge stays on the weight carried; P serves A 0.05 L of its 0.1 L (50%). Every charge is on the provider's own
    excess: 4,999,999 credits at D (A pays 4,166.67 HANZO), 11,818,181 at X (D pays 9,848.48: above 80% of X's
    grown capacity, on all it carries); the tier's excess at the poke is below target (P's slack offsets it) while
    16.8M was charged, and the utilization the poke reads is the same weighted count. Late capacity lowered the
    weight D's wash counts at, and the charge with it; no arrangement left an excess uncharged. Defence held."""
    a, d, x, p = m.traders[0], m.dealer, m.accomplice, m.provider
    m.apply("buy", a, 0, L // 10)
    m.apply("buy", d, 0, L // 5)
    charged = []
    m.apply("offer", x, 0, L // 100)
    m.apply("offer", p, 0, L // 10)
    charged += _redeem(m, d, [(0, 8 * L // 1000)], x)
    m.apply("offer", d, 0, L // 20, 2 * m.hmm.countedAsk(0))
    assert not m.hmm.asks(0, 0, d).counted
    _at(m, DAY // 2)
    m.apply("offer", d, 0, 1, 0)
    assert m.hmm.asks(0, 0, d).counted
    charged += _redeem(m, a, [(0, L // 20)], d)
    _at(m, 3 * DAY // 4)
    m.apply("offer", x, 0, L // 10)
    charged += _redeem(m, d, [(0, L // 10)], x)
    charged += _redeem(m, a, [(0, L // 20)], p)
    m.assert_same()
    t = m.hmm.tier(0)
    ask_x = m.hmm.asks(0, 0, x)
    tier_excess = t.redeemed * WAD - t.capacity * m.model.params.target_utilization
    print(charged, t.redeemed, t.capacity, ask_x.servedWeight, ask_x.weightedCredits)
    assert ask_x.servedWeight == ask_x.weightedCredits  # counted to its weighted capacity, charged on all carried
    assert [e for e, _ in charged if e] == [4_999_999, 11_818_181]
    assert sum(e for e, _ in charged) * WAD >= tier_excess
    m.advance_epoch()
    m.apply("poke", a)
    m.assert_same()


def _quote_at(m, holder, tid, amount, provider):
    """quoteRedeemAt on the contract, checked against the model's: (payout, refund, fee, charge)."""
    quoted = tuple(m.hmm.quoteRedeemAt(holder, tid, amount, provider))
    assert quoted == m.model.quote_redeem_at(m.name(holder), tid, amount, m.name(provider)), quoted
    return quoted


def test_min_net_turns_a_front_run_at_the_same_provider_into_a_revert_and_the_quote_is_exact(m):
    """Tried (contract beside the model): P offers 0.12 L. U holds 0.05 L and quotes its redemption at P with
    quoteRedeemAt: no charge (P would be at 42%); it sends redeem with minNet = refund - charge. A griefer G gets in
    first with 0.07 L of its own at P (real compute, paid to P). U's redemption now reverts NetSlippage and nothing
    moves (balances, credits, P's served weight, the surplus). Re-quoted: U's 0.05 L would lift P to 0.12 L of 0.12
    L, an excess of 0.024 L, a charge of 20,000 HANZO (less kappa's truncation) against a refund of 1,271 (1,112
    before the exit fee on the reference part); U accepting that bound pays exactly the quote (refund - charge to
    the wei, P paid as quoted, Congested(excess, charge) as quoted). Per epoch: the outside griefer's 0.07 L cost it
    70,229 HANZO net of its refund (71,007 before), 61,250 of it paid to P: the grief costs G 70,229 to charge U
    20,000 (or nothing: U keeps its bound, waits or routes). P's own wallet doing it gets P's pay back and spends
    8,979 (the fees; 9,757 before) to charge U 20,000: the first finding.
    Defence held: minNet protects a pending redemption; quoteRedeemAt is exact before and after."""
    u, g, p = m.traders[0], m.traders[1], m.provider
    g_start = m.token.balanceOf(g)
    m.apply("buy", u, 0, L // 20)
    m.apply("buy", g, 0, 7 * L // 100)
    m.apply("offer", p, 0, 12 * L // 100)
    payout, refund, fee, charge = _quote_at(m, u, 0, L // 20, p)
    assert charge == 0
    p_start = m.token.balanceOf(p)
    _redeem(m, g, [(0, 7 * L // 100)], p)
    g_paid = m.token.balanceOf(p) - p_start
    before = (m.token.balanceOf(u), m.hmm.balanceOf(u, 0), m.hmm.asks(0, 0, p).servedWeight, m.hmm.surplus())
    r = m.apply("redeem", u, 0, L // 20, p, refund - charge)
    assert isinstance(r, HMMError) and r.name == "NetSlippage", r
    assert before == (m.token.balanceOf(u), m.hmm.balanceOf(u, 0), m.hmm.asks(0, 0, p).servedWeight, m.hmm.surplus())
    payout2, refund2, fee2, charge2 = _quote_at(m, u, 0, L // 20, p)
    assert (payout2, refund2, fee2) == (payout, refund, fee)
    u_before, p_before = m.token.balanceOf(u), m.token.balanceOf(p)
    r = m.apply("redeem", u, 0, L // 20, p, refund2 - charge2)
    assert not isinstance(r, HMMError)
    assert m.token.balanceOf(u) - u_before == refund2 - charge2 and m.token.balanceOf(p) - p_before == payout2
    assert _charges(r[1], m.hmm) == [(24 * L // 1000, charge2)]
    m.assert_same()
    g_spent = g_start - m.token.balanceOf(g)
    print(f"refund {refund / WEI:,.2f}, charge after the front-run {charge2 / WEI:,.6f}; G spent {g_spent / WEI:,.2f}"
          f", P paid {g_paid / WEI:,.2f}, G's cost as P's wallet {(g_spent - g_paid) / WEI:,.2f}")
    assert charge2 == 20_000 * WEI - 8_000
    assert (refund // WEI, g_spent // WEI, g_paid // WEI, (g_spent - g_paid) // WEI) == (1_271, 70_228, 61_250, 8_978)


def test_the_provider_wallet_wash_on_the_contract_charges_the_honest_user_not_the_wallet(m):
    """The first finding's mechanics, on the contract beside the model, 3 epochs: P offers 0.1 L a day; its second
    wallet W (a trader account, handing P's pay back) buys 0.01 L and redeems it at P first; U buys 0.08 L x
    (P_ref / base)^-1.2 and spends it at P. W's redemptions raise no Congested event (P at 10%); U's do, on the
    part of the wash above P's 80%: 0.01 L (8,333.33 HANZO) the first day, 0.0053 L (4,679.17) the second as U's
    demand answers the risen price (0.0753 L), none the third (0.0695 L: P at 79.5%). Utilization read at each
    poke: U's and W's credits over 0.1 L (90% the first day); contract and model agree to the wei. With W's
    redemption last, W is charged the same excess instead (checked on the model)."""
    u, w, p = m.traders[0], m.traders[1], m.provider
    rows = []
    for _ in range(3):
        m.apply("offer", p, 0, L // 10)
        m.apply("buy", w, 0, L // 100)
        assert _redeem(m, w, [(0, L // 100)], p) == []
        want = int(8 * L // 100 * (m.model.tiers[0].ref_price / m.model.tiers[0].base_price) ** -ELASTICITY)
        m.apply("buy", u, 0, want)
        rows.append((want, _redeem(m, u, [(0, want)], p)))
        m.advance_epoch()
        (utilization, *_), = m.apply("poke", u)[0][:1]
        assert utilization == (want + L // 100) * WAD // (L // 10)
    m.assert_same()
    print(rows)
    assert rows[0] == (8 * L // 100, [(L // 100, 8_333_333_333_333_333_330_000)])
    assert [sum(e for e, _ in c) for _, c in rows] == [max(0, n + L // 100 - 8 * L // 100) for n, _ in rows]
    assert [n for n, _ in rows] == [80_000_000, 75_341_162, 69_467_277]
    assert rows[1][1] == [(5_341_162, 4_679_174_359_718_302_032_337)] and rows[2][1] == []
    # washing last instead (model): W pays exactly what U paid above
    s = charged_model("ABCDHPUWX")
    s.offer_capacity("P", 0, L // 10, 0, 0)
    s.buy("U", 0, 8 * L // 100, 2**255, FAR, 0)
    s.buy("W", 0, L // 100, 2**255, FAR, 0)
    assert s.quote_redeem_at("U", 0, 8 * L // 100, "P")[3] == 0
    s.redeem("U", 0, 8 * L // 100, "P")
    assert s.quote_redeem_at("W", 0, L // 100, "P")[3] == rows[0][1][0][1]


def _gifted_holder(m, holder, funded):
    """`holder` (no approval to the maker) receives 0.05 L by gift (credits that carry no premium: no refund to net
    a charge against) and, if `funded`, 100,000 HANZO; P offers exactly 0.05 L, so a redemption of it is charged
    0.01 L x kappa x P_ref = 8,333.33 HANZO, all pulled."""
    a, p = m.traders[0], m.provider
    m.apply("buy", a, 0, L // 20)
    m.apply("give", a, 0, L // 20, holder)
    if funded:
        m.token.mint(holder, 100_000 * WEI, sender=m.deployer)
        m.model.hanzo[m.name(holder)] = 100_000 * WEI
    m.apply("offer", p, 0, L // 20)
    assert m.hmm.quoteRedeemAt(holder, 0, L // 20, p)[1] == 0  # no refund: the charge is all pulled


def test_the_model_and_the_contract_agree_on_a_charged_holder_without_allowance(m, accounts):
    """Low, closed (it was an xfail: the model checked the balance only). Tried: a holder that never bought
    (credits by gift, so no approval was ever needed; 100,000 HANZO of its own) redeems at a provider its
    redemption takes past 80%: the charge (8,333.33 HANZO, no refund to net it against) is pulled by
    transferFrom. The contract reverts ERC20InsufficientAllowance and nothing moves; the model, told the holder's
    allowance (HMMState.allowance: holders not named there approved the maker without limit, as the harness's
    traders and chain mode's accounts did), raises the same error, so the differential harness agrees. Approved
    for the charge exactly, both redeem, and the allowance is spent on both sides."""
    h, p = accounts[1], m.provider
    _gifted_holder(m, h, funded=True)
    m.model.allowance[m.name(h)] = m.token.allowance(h, m.hmm)
    assert m.model.allowance[m.name(h)] == 0
    out = m.apply("redeem", h, 0, L // 20, p)
    assert isinstance(out, HMMError) and out.name == "ERC20InsufficientAllowance"
    assert out.args_[1:] == (0, 8_333_333_333_333_333_330_000)
    m.assert_same()
    m.token.approve(m.hmm, 8_333_333_333_333_333_330_000, sender=h)
    m.model.allowance[m.name(h)] = 8_333_333_333_333_333_330_000
    m.apply("redeem", h, 0, L // 20, p)
    assert m.token.allowance(h, m.hmm) == m.model.allowance[m.name(h)] == 0
    m.assert_same()


def test_a_charged_holder_short_of_balance_reverts_whole_and_needs_no_allowance_when_its_refund_covers(m, accounts):
    """Tried: (1) an approved holder with no HANZO redeeming into a pulled charge: both sides revert
    ERC20InsufficientBalance (8,333.33 HANZO owed) and nothing moves: its credits, P's capacity and served weight,
    the tier's count; a holder that cannot pay cannot count its redemption (no free pump by an empty wallet).
    (2) the unapproved holder of the finding above redeeming 0.04 L instead (P at exactly 80%, no charge): passes,
    approval needed only where the charge is pulled. Defence held (the model's allowance gap aside)."""
    h, b, p = accounts[1], m.traders[1], m.provider
    m.apply("buy", m.traders[0], 0, L // 20)
    m.apply("give", m.traders[0], 0, L // 20, b)
    m.token.transfer(m.deployer, m.token.balanceOf(b), sender=b)
    m.model.hanzo[m.name(b)] = 0
    m.apply("offer", p, 0, L // 20)
    state = (m.hmm.balanceOf(b, 0), m.hmm.providerCapacity(0, 0, p), m.hmm.asks(0, 0, p).servedWeight,
             m.hmm.tier(0).redeemed)
    with pytest.raises(HMMError) as model_error:
        m.model.copy().redeem(m.name(b), 0, L // 20, m.name(p))
    assert model_error.value.name == "ERC20InsufficientBalance"
    assert model_error.value.args_[2] == 8_333_333_333_333_333_330_000
    try:
        m.hmm.redeem(0, L // 20, p, NO_BOUND, FAR, sender=b)
        raise RuntimeError("the contract did not revert")
    except Exception as exc:  # noqa: BLE001 - the token's custom error, which the maker's ABI does not decode
        if isinstance(exc, RuntimeError):
            raise
        assert error_name(exc, m.token) == "ERC20InsufficientBalance"
    assert state == (m.hmm.balanceOf(b, 0), m.hmm.providerCapacity(0, 0, p), m.hmm.asks(0, 0, p).servedWeight,
                     m.hmm.tier(0).redeemed)
    m.assert_same()
    m.apply("buy", m.traders[0], 0, L // 20)
    m.apply("give", m.traders[0], 0, L // 20, h)
    r = m.apply("redeem", h, 0, 4 * L // 100, p)
    assert not isinstance(r, HMMError) and _charges(r[1], m.hmm) == []
    m.assert_same()


# ---------------------------------------------------------------- 4. rounding, extremes, honest costs


def test_dust_redemptions_neither_dodge_the_charge_nor_count_without_it(m):
    """Tried (contract beside the model): (1) P offers 10 credits at 00:00 (weight 1) and A redeems them one at a
    time: the first 8 are free, the 9th and 10th each pay ceil(kappa x P_ref) = 833,333,333,333,334 wei,
    1,666,666,666,666,668 in all, where one redemption of 10 pays ceil(2 kappa P_ref) = 1,666,666,666,666,667: the
    ceiling costs the splitter a wei a charged piece, never the market; (2) D offers 10 credits at
    12:00 (weight 1/2: 5 weighted) and A redeems them one at a time: each counts floor(1 x 5 / 10) = 0 weight, so
    no charge and no count in the tier (its redeemed stays 8 + 2 from (1)), where one redemption of 10 counts 5 and
    pays for 1 above 4. Dust at late capacity escapes the charge only by escaping the utilization it would lift:
    no pump, nothing to charge (and each credit's gas is worth far more than its 0.00083 HANZO). Defence held."""
    a, d, p = m.traders[0], m.dealer, m.provider
    m.apply("buy", a, 0, 40)
    m.apply("offer", p, 0, 10)
    charges = [c for _ in range(10) for c in _redeem(m, a, [(0, 1)], p)]
    assert charges == [(1, 833_333_333_333_334)] * 2
    assert mul_div_up(2 * m.model.tiers[0].ref_price, m.model.params.congestion_charge, WAD) == 1_666_666_666_666_667
    snapshot, model = m.chain.snapshot(), m.model.copy()
    _at(m, DAY // 2)
    m.apply("offer", d, 0, 10)
    assert m.hmm.asks(0, 0, d).weightedCredits == 5
    assert [c for _ in range(10) for c in _redeem(m, a, [(0, 1)], d)] == []
    assert m.hmm.tier(0).redeemed == 10 and m.hmm.asks(0, 0, d).servedWeight == 0
    m.assert_same()
    m.chain.restore(snapshot)
    m.model = model
    _at(m, DAY // 2)
    m.apply("offer", d, 0, 10)
    assert _redeem(m, a, [(0, 10)], d) == [(1, 833_333_333_333_334)]
    assert m.hmm.tier(0).redeemed == 15
    m.assert_same()


def test_extreme_prices_and_kappa_at_its_bound_neither_overflow_nor_skip_the_charge(m):
    """Tried (contract beside the model): governance sets kappa to its bound, 2e18 (2e18 + 1 reverts
    ParamOutOfBounds("congestionCharge") on both) and adds a tier at the highest base price, 2^96 - 1 wei
    (79.2 billion HANZO a credit); a trader buys 3 credits, P offers 1 and the trader redeems it: P at 100%, the
    excess 1 credit (threshold floor(0.8) = 0), charge 2 x P_ref = 158,456,325,028.5 HANZO, pulled from the
    trader's balance (refund 92.4 HANZO of premium) and kept in the surplus; contract and model agree to the wei.
    The products stay far inside 256 bits (excess < 2^96 x P_ref < 2^96 x kappa < 2^62: under 2^254). servedWeight
    (uint96, SafeCast) cannot overflow in practice: it grows by at most the credits served, and one offer is at most
    40 L = 4e19 at the deepest tier, so an epoch would need 2^96 / 4e19 = 1.98e9 offers and as many credits
    redeemed. Defence held."""
    trader, p = m.traders[0], m.provider
    high = dataclasses.replace(m.model.params, congestion_charge=2 * WAD + 1)
    with pytest.raises(HMMError, match="congestionCharge"):
        high.check()
    try:
        m.hmm.setParams(high.as_tuple(), sender=m.deployer)
        raise RuntimeError("accepted")
    except Exception as exc:  # noqa: BLE001
        assert not isinstance(exc, RuntimeError)
    params = dataclasses.replace(m.model.params, congestion_charge=2 * WAD)
    m.hmm.setParams(params.as_tuple(), sender=m.deployer)
    m.model.set_params(params)
    base = 2**96 - 1
    tid = len(m.model.tiers)
    m.hmm.addTier(base, L, sender=m.deployer)
    m.model.add_tier(base, L)
    m.apply("buy", trader, tid, 3)
    m.apply("offer", p, tid, 1)
    surplus = m.hmm.surplus()
    payout, refund, fee, charge = _quote_at(m, trader, tid, 1, p)
    assert charge == 2 * base
    charges = _redeem(m, trader, [(tid, 1)], p)
    assert charges == [(1, 2 * base)]
    assert m.hmm.surplus() - surplus == fee + charge
    m.assert_same()
    assert 2**96 // (40 * 10**18) == 1_980_704_062
    print(f"charge {charge / WEI:,.1f} HANZO, refund {refund / WEI:,.1f}")


def _honest_days(offer, users, days=10, kappa=None):
    """`days` epochs on the model: P offers `offer` at the day's start, each user (name, credits) in order buys and
    spends its credits at P. Returns ({user: what it paid in all, refunds and charges netted}, {user: charges})."""
    s = charged_model("ABCDHPUWX")
    if kappa is not None:
        s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    charges = {}
    for _ in range(days):
        s.offer_capacity("P", 0, offer, 0, s.epoch_start)
        for name, n in users:
            s.buy(name, 0, n, 2**255, FAR, s.epoch_start)
            charges[name] = charges.get(name, 0) + s.quote_redeem_at(name, 0, n, "P")[3]
            s.redeem(name, 0, n, "P")
        s.poke(s.epoch_start + DAY)
    return {name: 10**40 - s.hanzo[name] for name, _ in users}, charges


def test_model_honest_costs_of_the_order_lever_and_of_a_just_in_time_provider():
    """Measured (model, 10 days, demand that does not answer the price), the charge's costs to honest users, for
    the record (not attacks: no one gains the charges, which stay in the surplus):
    - first come, first free: U and H each spend 0.05 L a day at P's 0.1 L. Whoever redeems first is never
      charged; the second pays for all of P's excess (0.02 L a day: 16,667 HANZO the first day, 294,655 over the
      10 days as the price rises with u at 100%) though both lifted P alike: a greedy user racing to redeem
      early moves the whole charge onto the other, where pro rata each would pay half;
    - a just-in-time provider: P offering exactly the 0.08 L U spends (100%, where it could have said 0.1 L) makes
      U pay kappa x 20% = 16.7% of P_ref on every credit (13,333 HANZO the first day, 235,724 over 10 days; U
      spends 851,988 more than at 0.1 L in all, 855,143 before the exit fee on the reference part, the rest the rise
      the controller reads from 100%, as before the charge) against no charge at 0.1 L; U can only route elsewhere
      or ask its provider to state spare capacity (docs/congestion.md's "overstated capacity" caveat, measured).
    Asserted: the figures."""
    order, order_charges = _honest_days(L // 10, [("U", L // 20), ("H", L // 20)])
    jit, jit_charges = _honest_days(8 * L // 100, [("U", 8 * L // 100)])
    padded, padded_charges = _honest_days(L // 10, [("U", 8 * L // 100)])
    print({k: v / WEI for k, v in order_charges.items()}, jit_charges["U"] / WEI, padded_charges["U"] / WEI,
          (jit["U"] - padded["U"]) / WEI)
    assert order_charges["U"] == 0 < order_charges["H"]
    assert jit_charges["U"] > 0 == padded_charges["U"]
    assert (order_charges["H"] // WEI, jit_charges["U"] // WEI, (jit["U"] - padded["U"]) // WEI) == (
        294_655, 235_724, 851_987)


def _surge(mult, off_book, kappa=None, days=30):
    """docs/congestion.md's real demand: P offers 0.1 L a day, U wants mult x 0.08 L x (P_ref / base)^-1.2 (at most
    0.1 L) and spends it at P; `off_book`: U redeems only up to P's 80% and, for the rest, sells the credits and
    pays P by a plain HANZO transfer what the redemption would have paid it. Returns (U's spend, its charges, the
    price after `days` against the base, the credits served)."""
    s = charged_model("ABCDHPUWX")
    if kappa is not None:
        s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    charges = served = 0
    for _ in range(days):
        t = s.epoch_start
        s.offer_capacity("P", 0, L // 10, 0, t)
        want = min(L // 10, int(mult * 8 * L // 100 * (s.tiers[0].ref_price / s.tiers[0].base_price) ** -ELASTICITY))
        s.buy("U", 0, want, 2**255, FAR, t)
        on = min(want, 8 * L // 100) if off_book else want
        charges += s.quote_redeem_at("U", 0, on, "P")[3]
        s.redeem("U", 0, on, "P")
        if want > on:
            payout = s.quote_redeem_at("U", 0, want - on, "P")[0]
            s.sell("U", 0, want - on, 0, FAR, t)
            s.hanzo["U"] -= payout
            s.hanzo["P"] += payout
        served += want
        s.poke(t + DAY)
    price = round(s.tiers[0].ref_price / s.tiers[0].base_price, 3)
    return (10**40 - s.hanzo["U"]) // WEI, charges // WEI, price, served


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "Medium: selling the credits and paying the provider its quoted payout in HANZO costs exactly a redemption "
    "less the charge (16,666.67 HANZO on 0.02 L above P's 80%; paying P in credits: 14,166 cheaper), so rational "
    "users keep compute above 80% off the books and the controller never sees a surge: at 1.1x / 1.5x / 2x "
    "demand the price stays 1.000x for 30 days "
    "(on the books 1.087x / 1.415x / 1.770x), P at 100% every day"))
def test_compute_above_a_providers_target_costs_more_on_the_books_than_off_them(m):
    """Tried (contract beside the model): P offers 0.1 L; U holds 0.1 L and redeems 0.08 L at P (P at 80%, free).
    For its last 0.02 L, from the same state: (a) redeem at P: charged 16,666.67 HANZO (0.02 L x kappa x P_ref)
    beyond its refund; (b) sell the 0.02 L and transfer P, in HANZO, the payout quoteRedeemAt gives. Both pay the
    same exit fee, so (b) leaves P paid the same to the wei and U better off by exactly the charge, and the 0.02 L
    never reach the tier's count. (c) in-protocol, paying P in credits (a transfer: U pays the exit fee on the share
    and gets the premium back, P sells the reference part): P gets the same pay, U pays the fee on the reference part
    again (2,500 HANZO) instead of the charge, 14,166 better off, and nothing counts either. The charge turns the
    old indifference between the books and a sale into a private reward for leaving them (docs/congestion.md
    notes "a charged holder may prefer to sell"; measured here).
    On the model (the doc's real-demand runs, 30 days, eps = 1.2), users who do so for everything above P's 80%:
      1.1x: on the books 23,592 charges, price 1.087x; off the books 0 charges, price 1.000x (P at 100% daily)
      1.5x: 87,517 charges, 1.415x, 2.43e9 credits served for 3,464,244 HANZO; off: 1.000x, 3.0e9 for 3,028,856
      2x:   146,129 charges, 1.770x; off: 1.000x
    The surge the charge was sized not to disturb ("price path unchanged") disappears from the controller's input
    once users answer the charge: the price never clears demand and no supply is called. Should hold: keeping
    compute on the books costs no more than taking it off (e.g. no charge a sale plus a payment avoids)."""
    u, p = m.traders[0], m.provider
    m.apply("buy", u, 0, L // 10)
    m.apply("offer", p, 0, L // 10)
    _redeem(m, u, [(0, 8 * L // 100)], p)
    payout, refund, fee, charge = _quote_at(m, u, 0, L // 50, p)
    got = {}
    for path in ("redeem", "sell and pay", "give to P, P sells"):
        snapshot, model = m.chain.snapshot(), m.model.copy()
        u0, p0 = m.token.balanceOf(u), m.token.balanceOf(p)
        if path == "redeem":
            _redeem(m, u, [(0, L // 50)], p)
        elif path == "give to P, P sells":  # paying in credits: in-protocol, and uncounted too
            m.apply("give", u, 0, L // 50, p)
            m.apply("sell", p, 0, L // 50)
        else:
            m.apply("sell", u, 0, L // 50)
            m.token.transfer(p, payout, sender=u)
            m.model.hanzo[m.name(u)] -= payout
            m.model.hanzo[m.name(p)] = m.model.hanzo.get(m.name(p), 0) + payout
        m.assert_same()
        got[path] = (m.token.balanceOf(u) - u0, m.token.balanceOf(p) - p0, m.hmm.tier(0).redeemed)
        m.chain.restore(snapshot)
        m.model = model
    surges = {mult: (_surge(mult, False)[1:3], _surge(mult, True)[1:3]) for mult in (1.1, 1.5, 2.0)}
    print(got, surges, _surge(1.5, False), _surge(1.5, True))
    _measured((charge, got["redeem"][1] == got["sell and pay"][1] == payout,
               got["sell and pay"][0] - got["redeem"][0] == charge, got["redeem"][2] - got["sell and pay"][2]),
              (16_666_666_666_666_666_660_000, True, True, L // 50))
    _measured(surges, {1.1: ((23_592, 1.087), (0, 1.0)), 1.5: ((87_517, 1.415), (0, 1.0)),
                       2.0: ((146_129, 1.77), (0, 1.0))})
    gift = got["give to P, P sells"]
    _measured((gift[1] == payout, (gift[0] - got["redeem"][0]) // WEI, gift[2]), (True, 14_166, 8 * L // 100))
    assert got["sell and pay"][0] <= got["redeem"][0] and gift[0] <= got["redeem"][0]


def _accomplice_wash(kind):
    """The doc's wash variants as _elastic levers (D buys 0.01 L a day, X and Y its accomplices, pay handed back)."""

    def lever(s, phase, paid):
        if phase == "offer":
            return 0
        start = s.epoch_start
        if phase == "start":
            s.providers.add("Y")
            if kind == "two":
                s.offer_capacity("X", 0, L // 200, 0, start)
                s.offer_capacity("Y", 0, L // 200, 0, start)
            elif kind == "at target":
                s.offer_capacity("X", 0, L // 80, 0, start)
            elif kind == "first":
                s.offer_capacity("X", 0, L // 100, 0, start)
                s.buy("D", 0, L // 100, 2**255, FAR, start)
                s.redeem("D", 0, L // 100, "X")
        if phase == "after" and kind != "first":
            if kind == "last hour":
                s.offer_capacity("X", 0, L // 100, 0, start + DAY - 3600)
            s.buy("D", 0, L // 100, 2**255, FAR, start)
            if kind == "two":
                s.redeem("D", 0, L // 200, "X")
                paid[0] += s.redeem("D", 0, L // 200, "Y")  # Y's pay, handed back
            else:
                s.redeem("D", 0, L // 100, "X")
        return 0

    return lever


def test_model_the_docs_wash_variants_hold_on_the_built_model():
    """Tried (model, the elastic measure, the built HMMState rather than docs/congestion.md's design subclass):
    the wash's variants through accomplices' own offers. Leverage without -> with the charge (spent, harm):
      two accomplices X and Y (0.005 L each, both at 100%)     1.28 -> 0.66 (30,060, 19,842): the same as one
      D washing first at X (before U)                          1.28 -> 0.66 (30,060, 19,842): the order is X's own
      X offering in the day's last hour (weight 1/24)          0.05 -> 0.06 (13,506, 860): late capacity weighs little
      X offering 0.0125 L (the wash exactly its 80%)           0.00 -> 0.00 (12,801, 0): no charge, and no rise
    (Before the exit fee on the reference part: 1.27 -> 0.66 (30,124), 1.27 -> 0.66 (30,124), spent 13,569 and
    12,864; the harms the same.)
    Defence held (against accomplices that bring their own capacity: see the findings for a shared provider and
    for honest capacity offered late)."""
    got = {}
    for kind in ("two", "first", "last hour", "at target"):
        got[kind] = (_leverage(_accomplice_wash(kind), ["D", "X"], kappa=0)[0], _leverage(_accomplice_wash(kind),
                                                                                          ["D", "X"]))
    print(got)
    assert got == {"two": (1.28, (0.66, 30_060, 19_842)), "first": (1.28, (0.66, 30_060, 19_842)),
                   "last hour": (0.05, (0.06, 13_506, 860)), "at target": (0.0, (0.0, 12_801, 0))}


def test_quote_at_meets_an_ask_and_a_charge_exactly_and_min_net_bounds_a_kappa_raise(m):
    """Tried (contract beside the model): U buys 1 L at base price (premium 72%); three epochs of u = 100% raise
    the price; P offers 0.05 L at countedAsk (above what U's reference part pays: the top-up comes out of U's
    refund) and U redeems all 0.05 L (100%: 0.01 L of excess). quoteRedeemAt gives payout = the ask x 0.05 L, the
    refund less the top-up, and the charge: minNet = refund - charge + 1 reverts NetSlippage, exactly refund -
    charge passes and moves exactly that. Before that, governance raising kappa to its bound (2e18) mid-epoch
    (kappa, unlike the exit fee, applies at once) makes the pending redemption's bound revert it (NetSlippage)
    rather than charge it 2.4x more. Measured: ask 0.001224 HANZO a credit (P_ref up 39.9%), payout 61,194.52,
    refund after the top-up 18,469.57 (13,980.31 before the exit fee on the reference part), charge 11,656.10
    (27,974.64 at kappa 2: the holder would have paid 9,505 HANZO instead of receiving 6,813; before, 13,994 instead
    of 2,324). Defence held."""
    u, p = m.traders[0], m.provider
    m.apply("buy", u, 0, L)
    m.raise_price(m.traders[1], m.accomplice, 3)
    ask = m.hmm.countedAsk(0)
    m.apply("offer", p, 0, L // 20, ask)
    payout, refund, fee, charge = _quote_at(m, u, 0, L // 20, p)
    assert payout == ask * (L // 20) and charge > 0
    bound = refund - charge
    params = dataclasses.replace(m.model.params, congestion_charge=2 * WAD)
    snapshot, model = m.chain.snapshot(), m.model.copy()
    m.hmm.setParams(params.as_tuple(), sender=m.deployer)
    m.model.set_params(params)
    high = _quote_at(m, u, 0, L // 20, p)[3]
    r = m.apply("redeem", u, 0, L // 20, p, bound)
    assert isinstance(r, HMMError) and r.name == "NetSlippage" and r.args_ == (refund - high, bound), r
    m.chain.restore(snapshot)
    m.model = model
    r = m.apply("redeem", u, 0, L // 20, p, bound + 1)
    assert isinstance(r, HMMError) and r.name == "NetSlippage"
    u0, p0 = m.token.balanceOf(u), m.token.balanceOf(p)
    r = m.apply("redeem", u, 0, L // 20, p, bound)
    assert not isinstance(r, HMMError)
    assert (m.token.balanceOf(u) - u0, m.token.balanceOf(p) - p0) == (bound, payout)
    assert _charges(r[1], m.hmm) == [(L // 100, charge)]
    m.assert_same()
    print(f"ask {ask}, payout {payout / WEI:,.2f}, refund {refund / WEI:,.2f}, charge {charge / WEI:,.2f} -> "
          f"{high / WEI:,.2f} at kappa 2")
    assert high == mul_div_up(L // 100 * m.model.tiers[0].ref_price, 2 * WAD, WAD)
    assert (payout // WEI, refund // WEI, charge // WEI, high // WEI) == (61_194, 18_469, 11_656, 27_974)


def test_model_no_offer_made_before_a_redemption_raises_its_charge():
    """Tried (model, 1,774 random states): can a provider (or an accomplice lowering its ask) raise what its next
    user is charged by offering more first? A provider's capacity is offered in 1-4 parts at random hours (weights
    1 down to 1/144), some at an ask above countedAsk that a later offer lowers (the standing capacity joins), with
    random redemptions between; then, from the same state, a user's redemption is quoted with and without one more
    offer (1 credit to 1 L, at the same hour or later, at ask 0) just before it. A later offer can only add
    capacity at a weight no higher than the average already counted, so the threshold rises and the weight a credit
    adds does not: the charge never rose (it fell in 587 of the states, to nothing in 283). Defence held."""
    rng = random.Random(2626)
    fell = vanished = tried = 0
    for _ in range(2000):
        s = charged_model("ABCDHPUWX")
        s.buy("U", 0, L, 2**255, FAR, 0)
        clock = 0
        for _ in range(rng.randrange(1, 5)):
            clock = min(DAY, clock + rng.choice([0, 3600, 4 * 3600, DAY // 2]))
            ask = rng.choice([0, 0, 2 * s.counted_ask(0)])
            if (0, 0, "P") in s.asks and ask > s.asks[(0, 0, "P")][0]:
                ask = s.asks[(0, 0, "P")][0]
            s.offer_capacity("P", 0, rng.choice([L // 100, L // 20, L // 10]), ask, clock)
            if rng.random() < 0.5 and s.asks[(0, 0, "P")][1]:
                n = rng.randrange(1, s.provider_capacity[(0, 0, "P")] + 1)
                s.redeem("U", 0, min(n, s.credits[("U", 0)]), "P")
        available = s.provider_capacity[(0, 0, "P")]
        if not available or not s.asks[(0, 0, "P")][1]:
            continue
        n = rng.randrange(1, available + 1)
        before = s.quote_redeem_at("U", 0, n, "P")[3]
        s.offer_capacity("P", 0, rng.choice([1, L // 100, L]), 0, min(DAY, clock + rng.choice([0, 3600, DAY // 3])))
        after = s.quote_redeem_at("U", 0, n, "P")[3]
        assert after <= before, (before, after)
        tried += 1
        fell += after < before
        vanished += after == 0 < before
    print(tried, fell, vanished)
    assert (tried, fell, vanished) == (1_774, 587, 283)


def test_a_random_charged_run_on_the_contract_agrees_with_the_model_and_its_quotes(m):
    """Tried: 200 random steps on the contract beside the model: the three traders buy, the honest P, the dealer D
    and the accomplice X offer at random hours (weights down to 1/144) and asks (0, countedAsk, twice it and then
    lowered), traders redeem singly and by batches naming a tier twice, at providers often pushed past 80% by
    just-in-time offers, each redemption first quoted by quoteRedeemAt (the contract's quote equal to the model's,
    and the first element's refund - charge the bound it is sent with: it passes, since it binds exactly), pokes
    move the price. Both sides succeed or fail alike, with the same errors; after the run every balance, basis,
    ask (served weight included) and tier agrees to the wei: 36 redemptions quoted and made, 595,018.22 HANZO
    charged (602,436.68 before the exit fee on the reference part). Defence held."""
    rng = random.Random(2600)
    traders, providers = m.traders, [m.provider, m.dealer, m.accomplice]
    charged = quoted = done = 0
    for _ in range(200):
        k, who = rng.random(), rng.choice(traders)
        tid = 0 if rng.random() < 0.8 else 1
        if k < 0.3:
            m.apply("buy", who, tid, rng.choice([L // 1000, L // 100, L // 20]))
        elif k < 0.45:
            _at(m, rng.choice([0, 3600, DAY // 2, DAY - 600]))
            ask = m.hmm.countedAsk(tid)
            m.apply("offer", rng.choice(providers), tid, rng.choice([L // 1000, L // 100, L // 20]),
                    rng.choice([0, ask, 2 * ask]))
        elif k < 0.9:
            provider = rng.choice([p for p in providers if p != who])
            held = m.hmm.balanceOf(who, tid)
            if not held:
                continue
            n = rng.choice([1, held // 3 + 1, held])
            if m.hmm.providerCapacity(m.hmm.epoch(), tid, provider) < n and rng.random() < 0.7:
                m.apply("offer", provider, tid, n, 0 if rng.random() < 0.5 else m.hmm.countedAsk(tid))
            try:
                q = tuple(m.hmm.quoteRedeemAt(who, tid, n, provider))
            except ape.exceptions.ContractLogicError:
                q = None
            try:
                assert m.model.quote_redeem_at(m.name(who), tid, n, m.name(provider)) == q
            except HMMError:
                assert q is None  # both refuse alike
            quoted += q is not None
            if rng.random() < 0.3 and n > 1:
                r = m.apply("redeem_batch", who, [(tid, n // 2), (tid, n - n // 2)], provider)
            else:
                r = m.apply("redeem", who, tid, n, provider, None if q is None else q[1] - q[3])
            if not isinstance(r, HMMError):
                charged += sum(c for _, c in _charges(r[1], m.hmm))
                done += 1
        else:
            m.advance_epoch()
            m.apply("poke", who)
    m.assert_same()
    print(f"{quoted} quoted, {done} redeemed, charged {charged / WEI:,.2f} HANZO")
    assert (quoted, done, charged // 10**16) == (36, 36, 59_501_822)


def test_the_padded_provider_wallet_wash_replays_on_the_contract(m):
    """The first finding's padded figure on the contract beside the model: 30 epochs; in the first 10 P offers
    0.11 L and its second wallet W (a trader account) buys 0.01 L and redeems it at P before U; U buys 0.08 L x
    (P_ref / base)^-1.2 and spends it at P every epoch. W's loss less P's pay from W's redemptions (handed back):
    13,058 HANZO; U's harm against the model's undisturbed run: 24,099 (its charges included): leverage 1.85, the
    same to the wei as the model's (the finding's xfail), and W was never charged (before the exit fee on the
    reference part: 13,122 spent, 1.84). Recorded as passing: the
    figures, not the defence."""
    u, w, p = m.traders[0], m.traders[1], m.provider
    w0, rows, handed, w_charges = m.token.balanceOf(w), [], 0, 0
    for epoch in range(30):
        on = epoch < 10
        m.apply("offer", p, 0, L // 10 + (L // 100 if on else 0))
        if on:
            m.apply("buy", w, 0, L // 100)
            p0 = m.token.balanceOf(p)
            w_charges += sum(c for _, c in _redeem(m, w, [(0, L // 100)], p))
            handed += m.token.balanceOf(p) - p0
        want = int(8 * L // 100 * (m.model.tiers[0].ref_price / m.model.tiers[0].base_price) ** -ELASTICITY)
        cost, _ = m.apply("buy", u, 0, want)
        charge = _quote_at(m, u, 0, want, p)[3]
        _redeem(m, u, [(0, want)], p)
        rows.append((cost, want, charge))
        m.advance_epoch()
        m.apply("poke", u)
    m.assert_same()
    spent = w0 - m.token.balanceOf(w) - handed
    harm = _harm(rows, _elastic(None)[1])
    print(f"spent {spent / WEI:,.2f}, harm {harm / WEI:,.2f}, leverage {harm / spent:.2f}")
    assert w_charges == 0 and (spent // WEI, harm // WEI, round(harm / spent, 2)) == (13_058, 24_099, 1.85)
