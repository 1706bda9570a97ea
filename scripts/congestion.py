"""A congestion charge on redemptions above the controller's target (issue 16's wash), measured on the
exact integer model (hanzo.econ.hmm.HMMState, today's rules: exits alike, rule 3h, position decay).

The wash (tests/test_redteam17_hmm.py, strict xfail): a dealer D buys 0.01 L a day and redeems it at its
accomplice X's 0.01 L offer; u reads 0.818 against the target 0.8, the price rises 1.36x in 10 epochs,
the pair spends ~14,375 HANZO in fees and honest buyers overpay ~94,729: leverage ~6.6. The candidate:
a redemption that lifts counted utilization above the target pays, out of the holder's pocket, a charge
for the price rise it causes times the volume that rise reprices, kept in the surplus.

Sizing (per weighted credit of excess, in units of P_ref): an excess of E weighted credits over target
x C kicks the momentum by dt alpha E / C; with no force after it the log price then rises by
dt^2 alpha (E / C) (1 - rho^j) / (1 - rho) by the j-th epoch after (rho = exp(-gamma dt)), and the volume
it reprices is what the controller aims at, u* C a day, so the overpay over H epochs is

    P_ref E kappa_H,   kappa_H = u* dt^2 alpha sum_{j=1..H} (1 - rho^j) / (1 - rho)       (C cancels)

kappa_1 = 0.40 (the next epoch alone), kappa_5 = 4.73 (the momentum's e-folding time 1 / (gamma dt) = 5
epochs), kappa_10 = 13.4 (the xfail's 10 epochs; with inelastic demand the rise never ends, so no horizon is
"the" life). With demand of price elasticity eps the rise has a life:
u - u* = -u* eps x pulls it back, and summing the linearised leapfrog (v' = rho v - dt alpha u* eps x,
x' = x + dt v') over all epochs gives sum x = (kick) / (alpha u* eps) exactly, so the whole overpay is
P_ref E / eps whatever alpha and gamma are: kappa_eps = 1 / eps = 0.83 at the simulator's eps = 1.2.

Designs (charge = ceil(P_ref x kappa x E), E the part of this redemption's counted weight above target):
  none        today
  tier-k      E against the tier's running count: above max(R before, u* x C so far)
  prov-k      E against the serving provider's own count: its counted served weight above u* x its
              counted weighted capacity. Since the tier's excess at the poke is the sum of providers'
              (R_i - u* C_i) and capacity only grows within an epoch, the charged excess is always at least
              the tier's: no redemption order or split among accomplices lifts u for free.
  (k: k1 = kappa_1, ke = kappa_eps, k5 = kappa_5, k10 = kappa_10)

Scenarios (scripts/demand_signals.py's, by import, on this model; P honest, U its user, D the dealer,
X (and X2) accomplices): wash, park, buy-sell 0.01 L / 0.1 L, hoard (0.1 L a day kept, out through X);
the dodges: wash first (D redeems at the epoch's start, before U), wash at target (X offers 0.0125 L so
its own u is the target), two accomplices (D's 0.01 L split over X and X2 offering 0.005 L each), late (X
offers in the epoch's last hour, just before the poke), D at P
first (D spends 0.01 L at the honest P's offer before U: real compute, the pay not handed back);
unchanged?: the xfail's spiral (red team 20), stockpile steady / growing 5%/day; real demand: P offers
0.1 L at ask 0 each epoch, U wants m x 0.08 L x (P_ref / base)^-eps (eps = 1.2, capped at P's 0.1 L)
for 30 epochs, m = 1.1, 1.5, 2: U's charges, U's spend against today's, the price at the end against
the level that clears it (m^(1/eps)), and the epochs until it first gets within 2% of it; "all-in":
U's demand answers price plus the last epoch's charge per credit (a charge that stands in for the price);
busy provider: P and Q offer 0.1 L each, U spends 0.09 L at P and 0.05 L at Q (tier u 0.7, no manipulator).
Elastic: the wash and D's compute at P first against honest demand of elasticity eps, 10 epochs then 20
without (the rise's life), and the wash sustained for 30; the floor: honest u 0.6, D's wash holding the
tier at target.
Prints a table; the last line is one JSON object of the headline figures.
Usage: PYTHONPATH=. python scripts/congestion.py
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hanzo.econ.fixedpoint import WAD, mul_div_up  # noqa: E402
from hanzo.econ.hmm import HMMState  # noqa: E402
from hanzo.econ.params import DEFAULT, WEI  # noqa: E402
from scripts import demand_signals as ds  # noqa: E402

L, DAY, FAR, BIG = ds.L, ds.DAY, ds.FAR, ds.BIG
ELASTICITY = 1.2  # the simulator's price_elasticity (hanzo/sim/scenario.py)
SURGE_EPOCHS = 30
SURGES = (1.1, 1.5, 2.0)


def kappa_horizon(h: int, p=DEFAULT) -> float:
    """kappa_H: the overpay over H epochs per credit of excess, in P_ref (module docstring)."""
    alpha, gamma, dt, target = (x / WAD for x in (p.hmm_alpha, p.hmm_gamma, p.hmm_dt, p.hmm_target_utilization))
    rho = math.exp(-gamma * dt)
    return target * dt * dt * alpha * sum((1 - rho**j) / (1 - rho) for j in range(1, h + 1))


def momentum_life(p=DEFAULT) -> int:
    """Epochs for the momentum to decay by e with no force (1 / (gamma dt)): the life given to a kick in k5."""
    return round(WAD * WAD / (p.hmm_gamma * p.hmm_dt))


KAPPAS = {"k1": kappa_horizon(1), "ke": 1 / ELASTICITY, "k5": kappa_horizon(momentum_life()),
          "k10": kappa_horizon(10)}
DESIGNS = ["none"] + [f"{scope}-{k}" for scope in ("tier", "prov") for k in KAPPAS]


class Congestion(HMMState):
    """HMMState whose redemptions pay the congestion charge of `design` (module docstring) to the surplus."""

    design = "none"

    @staticmethod
    def _fee_base(share, at_ref):
        """The exit fee on the whole share, the rule these tables were measured under (before session 24)."""
        return share

    def __post_init__(self):
        super().__post_init__()
        self.served_w: dict[tuple[int, int, str], int] = {}  # (epoch, tier, provider) -> counted served weight
        self.charges: dict[str, int] = {}  # holder -> charges paid

    def configure(self, design: str) -> "Congestion":
        self.design = design
        scope, _, k = design.partition("-")
        self.scope = scope
        # a WAD parameter set by governance in a contract: derived off-chain, not recomputed on-chain
        self.kappa = round(KAPPAS[k] * WAD) if k else 0
        return self

    def redeem_split(self, holder, tid, amount, provider, **kw):
        t = self.tier(tid)
        key = (self.epoch, tid, provider)
        before_tier, before_prov = t.redeemed, self.served_w.get(key, 0)
        payout, refund = super().redeem_split(holder, tid, amount, provider, **kw)
        counted = t.redeemed - before_tier
        self.served_w[key] = before_prov + counted
        if self.scope == "none" or counted == 0:
            return payout, refund
        target = self.params.target_utilization
        if self.scope == "tier":
            cap, before = t.capacity, before_tier
        else:
            cap, before = self.asks[key][3], before_prov  # the provider's counted weighted capacity
        threshold = cap * target // WAD
        excess = max(0, min(before + counted, cap) - max(before, threshold))
        charge = mul_div_up(excess * t.ref_price, self.kappa, WAD)
        if charge:
            # the holder pays (docs/congestion.md: why not the provider); kept in the surplus, as fees are
            self.hanzo[holder] -= charge
            self.funds += charge
            self.charges[holder] = self.charges.get(holder, 0) + charge
        return payout, refund - charge


def fresh(design: str) -> Congestion:
    """tests/market.py fresh_model with the charge: today's parameters (position decay included, as the xfail)."""
    s = Congestion.from_tokenomics(DEFAULT).configure(design)
    # the contract's own charge (prov-ke, built 2026-12-01) off: each design here charges by its own rule
    s.params = dataclasses.replace(s.params, congestion_charge=0)
    s.providers |= {"P", "Q", "D", "X", "X2"}
    for a in ("A", "B", "C", "D", "H", "P", "Q", "U", "X", "X2"):
        s.hanzo[a] = BIG
    return s


@contextmanager
def on_this_model():
    """demand_signals' scenarios build their state with its `fresh`: point it at this model for the call."""
    original = ds.fresh
    ds.fresh = fresh
    try:
        yield
    finally:
        ds.fresh = original


def charged(s: Congestion, *who: str) -> float:
    return sum(s.charges.get(a, 0) for a in who) / WEI


def dodge(design: str, kind: str, epochs: int = 10) -> Congestion:
    """The wash's variants a manipulator would try against the charge (module docstring)."""
    s, t = fresh(design), 0
    n = L // 100
    for _ in range(epochs):
        if kind in ("first", "at_p_first"):
            s.offer_capacity("P", 0, L // 10, 0, t)
            s.buy("D", 0, n, 2**255, FAR, t)
            if kind == "first":
                s.offer_capacity("X", 0, n, 0, t)
                s.redeem("D", 0, n, "X")
            else:
                s.redeem("D", 0, n, "P")
            s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
            s.redeem("U", 0, 8 * L // 100, "P")
        else:
            ds.honest_epoch(s, t)
            s.buy("D", 0, n, 2**255, FAR, t)
            if kind == "at_target":
                s.offer_capacity("X", 0, n * 10 // 8, 0, t)
                s.redeem("D", 0, n, "X")
            elif kind == "late":  # offered in the epoch's last hour: weighted 1/24, as is what it serves
                s.offer_capacity("X", 0, n, 0, t + DAY - 3600)
                s.redeem("D", 0, n, "X")
            elif kind == "two":
                for x in ("X", "X2"):
                    s.offer_capacity(x, 0, n // 2, 0, t)
                    s.redeem("D", 0, n // 2, x)
        t += DAY
        s.poke(t)
    return s


def prop(design: str, wash: bool, epochs: int = 10) -> Congestion:
    """Honest demand below target (U spends 0.06 L of P's 0.1 L: u = 0.6, the price falls); with `wash` D
    holds u at the target through X (0.1 L a day at X's 0.1 L: (0.06 + 0.1) / (0.1 + 0.1) = 0.8), where no
    charge applies: a floor under a falling price rather than a pump."""
    s, t = fresh(design), 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, L // 10, 0, t)
        s.buy("U", 0, 6 * L // 100, 2**255, FAR, t)
        s.redeem("U", 0, 6 * L // 100, "P")
        if wash:
            s.buy("D", 0, L // 10, 2**255, FAR, t)
            s.offer_capacity("X", 0, L // 10, 0, t)
            s.redeem("D", 0, L // 10, "X")
        t += DAY
        s.poke(t)
    return s


def prop_leverage(design: str) -> dict:
    base, s = prop(design, False), prop(design, True)
    cost, overpaid = ds.spent(s, "D", "X"), ds.spent(s, "U") - ds.spent(base, "U")
    return {"spent": cost / WEI, "overpaid": overpaid / WEI, "leverage": overpaid / cost, "price": ds.price(s),
            "price_undisturbed": ds.price(base)}


def dodge_leverage(design: str, kind: str, base: int) -> dict:
    s = dodge(design, kind)
    cost, overpaid = ds.spent(s, "D", "X", "X2"), ds.spent(s, "U") - base
    return {"spent": cost / WEI, "overpaid": overpaid / WEI, "leverage": overpaid / cost, "price": ds.price(s),
            "charged_d": charged(s, "D"), "charged_u": charged(s, "U")}


def surge(design: str, m: float, all_in: bool = False, eps: float = ELASTICITY, epochs: int = SURGE_EPOCHS) -> dict:
    """Real demand m times the target's, answering the price with elasticity eps (module docstring)."""
    s, t = fresh(design), 0
    cap = L // 10
    per_credit = 0.0  # the last epoch's charges per credit served, in units of the base price
    clears = m ** (1 / eps)
    reached = None
    prices = []
    for epoch in range(epochs):
        s.offer_capacity("P", 0, cap, 0, t)
        felt = ds.price(s) + (per_credit if all_in else 0.0)
        want = min(cap, int(m * 8 * L // 100 * felt ** -eps))
        before = s.charges.get("U", 0)
        if want:
            s.buy("U", 0, want, 2**255, FAR, t)
            s.redeem("U", 0, want, "P")
        per_credit = (s.charges.get("U", 0) - before) / max(want, 1) / s.tiers[0].base_price
        t += DAY
        s.poke(t)
        prices.append(ds.price(s))
        if reached is None and prices[-1] >= clears * 0.98:
            reached = epoch + 1
    return {"charged": charged(s, "U"), "spent": ds.spent(s, "U") / WEI, "price": prices[-1],
            "max": max(prices), "clears": clears, "reached": reached, "surplus": s.surplus() / WEI,
            "provider_pay": (s.hanzo["P"] - BIG) / WEI}


def busy_provider(design: str, epochs: int = 10) -> dict:
    """No manipulator, the tier below target: P and Q offer 0.1 L each, U spends 0.09 L at P and 0.05 L at Q
    (u = 0.7, P's own 0.9). What U pays in charges for a price that falls."""
    s, t = fresh(design), 0
    for _ in range(epochs):
        for provider in ("P", "Q"):
            s.offer_capacity(provider, 0, L // 10, 0, t)
        for provider, n in (("P", 9 * L // 100), ("Q", 5 * L // 100)):
            s.buy("U", 0, n, 2**255, FAR, t)
            s.redeem("U", 0, n, provider)
        t += DAY
        s.poke(t)
    return {"charged": charged(s, "U"), "spent": ds.spent(s, "U") / WEI, "price": ds.price(s)}


def elastic_attack(design: str, kind: str, epochs: int = 10, after: int = 20, eps: float = ELASTICITY) -> dict:
    """The wash (D at X) or D's real compute at P first, with honest demand that answers the price
    (0.08 L x (P_ref / base)^-eps, P offering 0.1 L), for `epochs` and then `after` more without the
    manipulator, so the rise lives out its life. The harm: what U paid per credit above the undisturbed
    run's price per credit, on the credits it bought (first order in the lost surplus), plus its charges."""
    s, t = fresh(design), 0
    per_credit = []
    for epoch in range(epochs + after):
        s.offer_capacity("P", 0, L // 10, 0, t)
        attacking = kind != "none" and epoch < epochs
        if attacking and kind == "at_p_first":
            s.buy("D", 0, L // 100, 2**255, FAR, t)
            s.redeem("D", 0, L // 100, "P")
        want = int(8 * L // 100 * ds.price(s) ** -eps)
        cost = s.buy("U", 0, want, 2**255, FAR, t)
        s.redeem("U", 0, want, "P")
        per_credit.append((cost, want))
        if attacking and kind == "wash":
            s.buy("D", 0, L // 100, 2**255, FAR, t)
            s.offer_capacity("X", 0, L // 100, 0, t)
            s.redeem("D", 0, L // 100, "X")
        t += DAY
        s.poke(t)
    return {"state": s, "bought": per_credit}


def elastic_leverage(design: str, kind: str, epochs: int = 10, after: int = 20) -> dict:
    base = elastic_attack(design, "none", epochs, after)["bought"]
    run = elastic_attack(design, kind, epochs, after)
    s = run["state"]
    harm = sum(cost - want * c0 / w0 for (cost, want), (c0, w0) in zip(run["bought"], base)) + s.charges.get("U", 0)
    cost = ds.spent(s, "D", "X")
    return {"harm": harm / WEI, "spent": cost / WEI, "leverage": harm / cost, "price": ds.price(s)}


def wash_leverage(design: str) -> float:
    with on_this_model():
        base = ds.spent(ds.attack(design, "none"), "U")
        s = ds.attack(design, "wash")
    return (ds.spent(s, "U") - base) / ds.spent(s, "D", "X")


def kappa_for_wash_leverage_1(scope: str = "prov") -> float:
    """The least kappa (in P_ref) at which the xfail's wash has leverage <= 1: a calibration, for comparison
    with the derived ones (leverage falls as kappa grows: the pair pays more, honest buyers the same)."""
    lo, hi = 0.0, KAPPAS["k10"]
    try:
        for _ in range(30):
            mid = (lo + hi) / 2
            KAPPAS["kx"] = mid
            lo, hi = (mid, hi) if wash_leverage(f"{scope}-kx") > 1 else (lo, mid)
    finally:
        KAPPAS.pop("kx", None)
    return hi


def measure(design: str) -> dict:
    with on_this_model():
        base = ds.spent(ds.attack(design, "none"), "U")
        row = {"design": design}
        for kind in ("wash", "park", "sell1", "sell10", "hoard"):
            s = ds.attack(design, kind)
            cost, overpaid = ds.spent(s, "D", "X"), ds.spent(s, "U") - base
            row[kind] = {"spent": cost / WEI, "overpaid": overpaid / WEI, "leverage": overpaid / cost,
                         "price": ds.price(s), "charged_d": charged(s, "D"), "charged_u": charged(s, "U")}
        for kind in ("first", "at_target", "two", "late", "at_p_first"):
            row[kind] = dodge_leverage(design, kind, base)
    for key, run in (("spiral", lambda: ds.spiral(design, True)), ("steady", lambda: ds.stockpile(design, 0.0)),
                     ("growing", lambda: ds.stockpile(design, 0.05))):
        row[key], state = _with_state(run)
        row[key]["charged_u"] = charged(state, "U")
    for m in SURGES:
        row[f"surge{m}"] = surge(design, m)
    row["surge1.5_allin"] = surge(design, 1.5, all_in=True)
    row["busy"] = busy_provider(design)
    row["elastic_wash"] = elastic_leverage(design, "wash")
    row["elastic_at_p_first"] = elastic_leverage(design, "at_p_first")
    row["elastic_wash_sustained"] = elastic_leverage(design, "wash", SURGE_EPOCHS, 0)
    row["prop"] = prop_leverage(design)
    return row


def _with_state(run) -> tuple[dict, Congestion]:
    """A demand_signals scenario's figures and the state it ran on (it returns figures only)."""
    made = []

    def keep(design):
        made.append(fresh(design))
        return made[-1]

    original = ds.fresh
    ds.fresh = keep
    try:
        return run(), made[-1]
    finally:
        ds.fresh = original


def main() -> None:
    rows = [measure(d) for d in DESIGNS]
    none = rows[0]
    print("congestion charge on the integer model; L = 1e9, tier 0, today's rules; kappa in P_ref per weighted "
          "credit of excess: " + ", ".join(f"{k} = {v:.3f}" for k, v in KAPPAS.items()) + "\n")
    print("| design | wash lev. (pair's charges) | wash first: lev. (U's charges) | wash at target: price | "
          "two accomplices lev. | X offers in the last hour: lev. | D at P first: lev. (U's charges) | park lev. | "
          "buy-sell 0.01 / 0.1 L lev. | "
          "hoard lev. | spiral: price, served, U's charges | stockpile steady / growing day 30 (U's charges) | "
          "busy P, tier u 0.7: U's charges, price |")
    print("|---|---|---|---|---|---|---|---:|---|---:|---|---|---|")
    for r in rows:
        w, f, a, two, ap = r["wash"], r["first"], r["at_target"], r["two"], r["at_p_first"]
        sp, st, gr = r["spiral"], r["steady"], r["growing"]
        print(f"| {r['design']} | {w['leverage']:.2f} ({w['charged_d']:,.0f}) | {f['leverage']:.2f} "
              f"({f['charged_u']:,.0f}) | {a['price']:.3f}x | {two['leverage']:.2f} | {r['late']['leverage']:.2f} | "
              f"{ap['leverage']:.2f} "
              f"({ap['charged_u']:,.0f}) | {r['park']['leverage']:.2f} | {r['sell1']['leverage']:.2f} / "
              f"{r['sell10']['leverage']:.2f} | {r['hoard']['leverage']:.2f} | {sp['price']:.3f}x, "
              f"{sp['honest_served']}, {sp['charged_u']:,.0f} | {st['day30']:.3f}x / {gr['day30']:.3f}x "
              f"({st['charged_u']:,.0f} / {gr['charged_u']:,.0f}) | {r['busy']['charged']:,.0f}, "
              f"{r['busy']['price']:.3f}x |")
    print(f"\nreal demand at m x target, elasticity {ELASTICITY}, {SURGE_EPOCHS} epochs: U's charges (HANZO), U's "
          "spend against today's, the price at the end / the clearing level, epochs to within 2% of it\n")
    print("| design | " + " | ".join(f"{m}x: charges, spend, price / clears, epochs" for m in SURGES)
          + " | 1.5x, demand answers the charge too | 1.5x: charges / P's pay |")
    print("|---|" + "---|" * (len(SURGES) + 2))
    for r in rows:
        cells = []
        for key in [f"surge{m}" for m in SURGES] + ["surge1.5_allin"]:
            x, n = r[key], none[key]
            cells.append(f"{x['charged']:,.0f}, {x['spent'] / n['spent'] - 1:+.1%}, {x['price']:.3f}x / "
                         f"{x['clears']:.3f}x, {x['reached']}")
        cells.append(f"{r['surge1.5']['charged'] / r['surge1.5']['provider_pay']:.1%}")
        print(f"| {r['design']} | " + " | ".join(cells) + " |")
    print(f"\nhonest demand that answers the price (elasticity {ELASTICITY}), 10 epochs of the lever then 20 without, "
          "harm = U's price above the undisturbed run's on what it bought, plus its charges; and the floor: honest "
          "u 0.6, D's wash holding the tier at target\n")
    print("| design | wash: lev. (harm, spent) | wash every epoch of 30: lev., price | D at P first: lev. (harm, "
          "spent) | floor at target: lev., price (undisturbed) |")
    print("|---|---|---|---|---|")
    for r in rows:
        ew, ep, pr, su = r["elastic_wash"], r["elastic_at_p_first"], r["prop"], r["elastic_wash_sustained"]
        print(f"| {r['design']} | {ew['leverage']:.2f} ({ew['harm']:,.0f}, {ew['spent']:,.0f}) | "
              f"{su['leverage']:.2f}, {su['price']:.3f}x | {ep['leverage']:.2f} "
              f"({ep['harm']:,.0f}, {ep['spent']:,.0f}) | {pr['leverage']:.2f}, {pr['price']:.3f}x "
              f"({pr['price_undisturbed']:.3f}x) |")
    lev1 = kappa_for_wash_leverage_1()
    print(f"\nkappa at which the wash's leverage is 1 (prov): {lev1:.3f} P_ref per credit of excess")
    head = {"kappa": KAPPAS, "kappa_wash_leverage_1": lev1}
    for r in rows:
        head[r["design"]] = {
            "wash_leverage": r["wash"]["leverage"], "wash_charged": r["wash"]["charged_d"],
            "wash_first_leverage": r["first"]["leverage"], "wash_first_charged_u": r["first"]["charged_u"],
            "wash_at_target_price": r["at_target"]["price"], "two_accomplices_leverage": r["two"]["leverage"],
            "late_offer_leverage": r["late"]["leverage"],
            "at_p_first_leverage": r["at_p_first"]["leverage"], "park_leverage": r["park"]["leverage"],
            "buy_sell_leverage": [r["sell1"]["leverage"], r["sell10"]["leverage"]],
            "hoard_leverage": r["hoard"]["leverage"],
            "spiral": [r["spiral"]["price"], r["spiral"]["honest_served"], r["spiral"]["charged_u"]],
            "stockpile": [r["steady"]["day30"], r["growing"]["day30"], r["steady"]["charged_u"],
                          r["growing"]["charged_u"]],
            **{f"surge{m}": {"charged": r[f"surge{m}"]["charged"],
                             "spend_vs_none": r[f"surge{m}"]["spent"] / none[f"surge{m}"]["spent"] - 1,
                             "price": r[f"surge{m}"]["price"], "reached": r[f"surge{m}"]["reached"]}
               for m in SURGES},
            "surge1.5_charges_over_provider_pay": r["surge1.5"]["charged"] / r["surge1.5"]["provider_pay"],
            "busy": [r["busy"]["charged"], r["busy"]["price"]],
            "elastic_wash_leverage": r["elastic_wash"]["leverage"],
            "elastic_at_p_first_leverage": r["elastic_at_p_first"]["leverage"],
            "elastic_wash_sustained_leverage": r["elastic_wash_sustained"]["leverage"],
            "floor_leverage": r["prop"]["leverage"],
            "surge1.5_allin": {"charged": r["surge1.5_allin"]["charged"], "price": r["surge1.5_allin"]["price"],
                               "reached": r["surge1.5_allin"]["reached"]}}
    print(json.dumps(head, default=float))


if __name__ == "__main__":
    main()
