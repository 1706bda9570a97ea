"""Pricing by flow: candidate fixes for red team 17's open findings (tests/test_redteam17_hmm.py, the xfails
test_wash_redemptions_pump_the_price_honest_buyers_pay and test_parked_supply_makes_honest_buyers_pay_at_no_risk),
measured on the exact integer model (hanzo.econ.hmm.HMMState, subclassed here; the model and the contract are
untouched). The scenarios are scripts/exit_fees.py's (default parameters, tier 0, L = 1e9 credits, 10 epochs of
honest demand: 0.1 L offered by the honest provider P, 0.08 L bought and redeemed there each day):

- wash: the dealer D buys 0.01 L a day and redeems it at its accomplice X's offer (X hands the HANZO back);
  also at the worst of 0.01-0.2 L a day, and through the honest provider P colluding (the majority provider);
- park: D buys 3 L before the 10 epochs and leaves at the end (at X's offer; by sale where a sale pays more);
- hold (the greedy parker against a decaying position): D buys p before the first epoch and tops its pricing
  position back up to p at the start of every later epoch (it keeps the credits at basis: its true cost is
  the fees, and any premium an exit forfeits), at several p, with the usual demand and with 10x (0.8 L a day);
- heavy: after the 10 honest epochs an honest buyer H buys 0.8 L in one epoch (10x the usual demand) and
  redeems it at P (1 L offered);
- crowd: the honest all-in again with the day's demand bought by 10 buyers before any of them redeems.

Figures: leverage = honest buyers' overpay (against the same candidate undisturbed) / what D and X spent; the
cartel's profit = what the honest provider P was paid beyond the undisturbed run (a provider cartel that parks
pockets it) less what D and X spent; honest all-in = HANZO the honest buyer pays per HANZO P is paid; provider
pay per credit and the heavy buyer's spend and all-in, each against today (HMMState as it is).

Candidates (docs/pricing_by_flow.md says what the numbers mean):
1. decay d: the curve is evaluated at a pricing position p, not q: buys add to p, exits take min(amount, p),
   poke multiplies p by (1 - d).
2. premium to the surplus: an exit pays min(the share of the basis, the share of amount x P_ref at purchase)
   less the exit fee, the rest of the basis staying in the surplus: on redemptions only (2r), or on every
   exit, sales too (2a).
3. others found here: 1 + 2a; 3o, 2a's cap at what the credits would have cost from position 0 (only the
   premium that others' standing credits put under a purchase goes to the surplus), and 1 + 3o; 3h, the
   capped part to the provider and the rest of the share back to the holder (each less the exit fee: in all
   what a sale pays, so no coalition takes out more than today), and 1 + 3h; the controller ignoring
   redemptions of credits bought in the same epoch (honest users and the dealer then buy a day ahead: their
   best response); the controller's input as the capacity-weighted median of the providers' utilizations.
   A cap on one address's share of the epoch's redemptions is not measured: a Sybil splits across addresses
   at no cost, so its figures are today's.

The model checks after every run that the market is solvent (funds >= the reserve, the sum of the bases).

Prints a markdown table and the greedy parker's sweep; the last line is one JSON object of the headline figures.
Usage: PYTHONPATH=. python scripts/pricing_by_flow.py   (~1 s)
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exit_fees import DAY, EPOCHS, FAR, L, spent, wad  # noqa: E402

from hanzo.econ.fixedpoint import WAD, mul_div, mul_div_up  # noqa: E402
from hanzo.econ.hmm import HMMError, HMMState, potential  # noqa: E402
from hanzo.econ.params import DEFAULT, WEI  # noqa: E402

RICH = 10**40
DEMAND = 8 * L // 100  # the usual honest demand a day (exit_fees.honest_epoch)
DECAYS = ["0.1", "0.3", "0.5", "0.9"]
HOLDS = [L // 10, 3 * L // 10, L, 2 * L, 3 * L]  # the greedy parker's positions
WASHES = [L // 100, 5 * L // 100, 11 * L // 100, L // 5]  # the dealer's wash a day (X offers as much)


@dataclass
class Candidate(HMMState):
    """HMMState with the candidate rules (none set: exactly HMMState). Single-tier scenarios; transfers are not
    modelled (they move basis, and would move cand_ref and fresh credits alike)."""

    decay: int = 0  # WAD: poke multiplies the pricing position by (1 - decay)
    premium: str = ""  # "": exits pay the share of the basis; "redeem" / "all": capped at amount x P_ref paid;
    # "others": every exit capped at what the credits would have cost from position 0 (V(amount) at purchase);
    # "holder": a redemption pays the provider the capped part, the rest of the share goes back to the holder
    # (each less the exit fee); a sale pays the share less the fee, as today
    fresh_uncounted: bool = False  # redemptions of credits bought this epoch do not count in utilization
    median: bool = False  # the controller's input: the capacity-weighted median of the providers' utilizations
    pos: dict = field(default_factory=dict)  # tier -> pricing position p
    # (holder, tier) -> the candidate's own reference basis (HMMState.ref_basis is the contract's 3h, unused here)
    cand_ref: dict = field(default_factory=dict)
    # (holder, tier) -> credits bought this epoch still held (its own: HMMState.fresh is the contract's rule)
    bought_now: dict = field(default_factory=dict)
    served: dict = field(default_factory=dict)  # (tier, provider) -> [counted capacity, counted redeemed], epoch

    def offer_capacity(self, provider, tid, credits, min_pay=0):
        before = self.tier(tid).capacity
        super().offer_capacity(provider, tid, credits, min_pay)
        self.served.setdefault((tid, provider), [0, 0])[0] += self.tiers[tid].capacity - before

    def position(self, tid: int) -> int:
        return self.pos.get(tid, 0)

    def buy_batch(self, trader, moves, max_cost, deadline, now):
        tids = {tid for tid, _ in moves}
        for tid in tids:  # price at p: the parent prices at its own position, set to the candidate's
            self.tiers[tid].position = self.position(tid)
        try:
            cost = super().buy_batch(trader, moves, max_cost, deadline, now)
        finally:
            for tid in tids:
                self.pos[tid] = self.tiers[tid].position
        for tid, amount in moves:
            key, t = (trader, tid), self.tiers[tid]
            ref = potential(t.ref_price, t.depth, amount) if self.premium == "others" else amount * t.ref_price
            self.cand_ref[key] = self.cand_ref.get(key, 0) + ref
            self.bought_now[key] = self.bought_now.get(key, 0) + amount
        return cost

    def _paid_on(self, holder, tid, amount, held, share, exit_kind):
        """(the part of the share an exit pays before the fee, the ref share it takes, the credits it counts)."""
        ref = self.cand_ref.get((holder, tid), 0)
        ref_share = ref if amount == held else mul_div(ref, amount, held)
        capped = self.premium in ("all", "others") or (self.premium in ("redeem", "holder") and exit_kind == "redeem")
        old = held - self.bought_now.get((holder, tid), 0)  # old credits leave first
        counted = min(amount, old) if self.fresh_uncounted else amount
        return (min(share, ref_share) if capped else share), ref_share, counted

    def _after_exit(self, holder, tid, amount, held, ref_share):
        key = (holder, tid)
        self.cand_ref[key] = self.cand_ref.get(key, 0) - ref_share
        old = held - self.bought_now.get(key, 0)
        self.bought_now[key] = self.bought_now.get(key, 0) - max(0, amount - old)
        self.pos[tid] = self.position(tid) - min(amount, self.position(tid))

    def redeem(self, holder, tid, amount, provider):
        """HMMState.redeem, paying `_paid_on` less the exit fee, counting `_paid_on`'s credits."""
        if holder == provider:
            raise HMMError("SelfRedemption", provider)
        if amount == 0:
            raise HMMError("ZeroAmount")
        t = self.tier(tid)
        key = (self.epoch, tid, provider)
        available = self.provider_capacity.get(key, 0)
        if amount > available:
            raise HMMError("InsufficientCapacity", provider, amount, available)
        if amount > t.supply:
            raise HMMError("InsufficientSupply", amount, t.supply)
        held = self._held(holder, tid, amount)
        share = self._share(holder, tid, amount, held)
        pay, ref_share, counts = self._paid_on(holder, tid, amount, held, share, "redeem")
        payout = pay - mul_div_up(pay, self.exit_fee(), WAD)
        self._check_ask(tid, provider, amount, payout, 0)  # the candidate's pay alone covers the ask
        counted = self.asks.get(key, (0, False))[1]  # the scenarios' asks are covered or far above (no joins)
        self._exit(holder, tid, amount, held)  # the whole share leaves the reserve: what is not paid joins the surplus
        self._burn(holder, tid, amount)
        self._after_exit(holder, tid, amount, held, ref_share)
        self.provider_capacity[key] = available - amount
        t.supply -= amount
        if counted:
            t.redeemed += counts
            self.served.setdefault((tid, provider), [0, 0])[1] += counts
        self.funds -= payout
        self.hanzo[provider] = self.hanzo.get(provider, 0) + payout
        if self.premium == "holder":  # the premium, less its exit fee, back to the holder: in all, what a sale pays
            rebate = share - mul_div_up(share, self.exit_fee(), WAD) - payout
            self.funds -= rebate
            self.hanzo[holder] = self.hanzo.get(holder, 0) + rebate
        return payout

    def sell(self, trader, tid, amount, min_proceeds, deadline, now):
        if now > deadline:
            raise HMMError("Expired", deadline)
        if amount == 0:
            raise HMMError("ZeroAmount")
        t = self.tier(tid)
        if amount > t.supply:
            raise HMMError("InsufficientSupply", amount, t.supply)
        held = self._held(trader, tid, amount)
        share = self._share(trader, tid, amount, held)
        pay, ref_share, _ = self._paid_on(trader, tid, amount, held, share, "sell")
        proceeds = pay - mul_div_up(pay, self.exit_fee(), WAD)
        if proceeds < min_proceeds:
            raise HMMError("Slippage", proceeds, min_proceeds)
        self._exit(trader, tid, amount, held)
        self._burn(trader, tid, amount)
        self._after_exit(trader, tid, amount, held, ref_share)
        t.supply -= amount
        self.funds -= proceeds
        self.hanzo[trader] = self.hanzo.get(trader, 0) + proceeds
        return proceeds

    def poke(self, now):
        for tid, t in enumerate(self.tiers):
            if self.median and t.capacity:  # redeemed := the weighted median utilization x capacity
                us = sorted((r * WAD // c, c) for (i, _), (c, r) in self.served.items() if i == tid and c)
                acc = 0
                for u, c in us:
                    acc += c
                    if 2 * acc >= t.capacity:
                        t.redeemed = u * t.capacity // WAD
                        break
        self.served.clear()
        out = super().poke(now)
        for tid, p in self.pos.items():
            self.pos[tid] = p - mul_div(p, self.decay, WAD)
        self.bought_now.clear()
        return out


CANDIDATES = (
    [("today", "-", {})]
    + [("1 decaying position", d, {"decay": wad(d)}) for d in DECAYS]
    + [("2r premium to surplus, redemptions", "-", {"premium": "redeem"}),
       ("2a premium to surplus, every exit", "-", {"premium": "all"})]
    + [("3 = 1 + 2a", d, {"decay": wad(d), "premium": "all"}) for d in ("0.5", "0.9")]
    + [("3o others' premium to surplus, every exit", "-", {"premium": "others"})]
    + [("3 = 1 + 3o", d, {"decay": wad(d), "premium": "others"}) for d in ("0.5", "0.9")]
    + [("3h premium back to the holder", "-", {"premium": "holder"})]
    + [("3 = 1 + 3h", d, {"decay": wad(d), "premium": "holder"}) for d in ("0.3", "0.5", "0.9")]
    + [("3 fresh redemptions uncounted", "day ahead", {"fresh_uncounted": True}),
       ("3 median utilization", "by capacity", {"median": True}),
       ("3 = 1 + 3h + median", "0.9", {"decay": wad("0.9"), "premium": "holder", "median": True})]
)


def market(rules: dict) -> Candidate:
    s = Candidate.from_tokenomics(DEFAULT)
    # the candidates keep their own pricing position (Candidate.pos, `decay`): the model's own decays not
    # (and without the congestion charge, built after them: docs/congestion.md)
    s.params = dataclasses.replace(s.params, position_decay=0, congestion_charge=0)
    for k, v in rules.items():
        setattr(s, k, v)
    s.providers |= {"P", "D", "X"}  # honest P; the dealer D and its accomplice X
    for a in "DXUH":
        s.hanzo[a] = RICH
    return s


def run(rules: dict, attack: str = "none", demand: int = DEMAND, hold: int = 3 * L, wash: int = L // 100
        ) -> Candidate:
    """EPOCHS epochs of honest demand (`demand` a day at 1.25x it offered), with `attack`: "none", "wash"
    (`wash` a day at X's offer), "wash_big" (the same at the honest provider's offer, P colluding: the
    accomplice is the majority provider), "park" (D buys `hold` first, leaves at the end), "hold" (park,
    topping p back up to `hold` every epoch). Under fresh_uncounted everyone buys a day ahead (a same-epoch
    redemption would not count). `s.refund`: what D's wash redemptions paid P (handed back to D)."""
    s, t = market(rules), 0
    s.refund = 0
    ahead = rules.get("fresh_uncounted", False)
    washing = attack in ("wash", "wash_big")
    via = "P" if attack == "wash_big" else "X"
    if attack in ("park", "hold"):
        s.buy("D", 0, hold, 2**255, FAR, t)
    if ahead:  # the first day's credits, bought in an epoch of their own (nothing offered: no step)
        s.buy("U", 0, demand, 2**255, FAR, t)
        if washing:
            s.buy("D", 0, wash, 2**255, FAR, t)
        t += DAY
        s.poke(t)
    for k in range(EPOCHS):
        if attack == "hold" and k and hold > s.position(0):
            s.buy("D", 0, hold - s.position(0), 2**255, FAR, t)
        s.offer_capacity("P", 0, demand * 5 // 4 + (wash if via == "P" and washing else 0))
        if ahead:
            s.redeem("U", 0, demand, "P")
            if k < EPOCHS - 1:
                s.buy("U", 0, demand, 2**255, FAR, t)
        else:
            s.buy("U", 0, demand, 2**255, FAR, t)
            s.redeem("U", 0, demand, "P")
        if washing:
            if not ahead:
                s.buy("D", 0, wash, 2**255, FAR, t)
            if via == "X":
                s.offer_capacity("X", 0, wash)
            paid = s.redeem("D", 0, wash, via)
            s.refund += paid if via == "P" else 0
            if ahead and k < EPOCHS - 1:
                s.buy("D", 0, wash, 2**255, FAR, t)
        t += DAY
        s.poke(t)
    held = s.credits.get(("D", 0), 0)
    if attack in ("park", "hold") and held:
        if s.premium == "redeem":  # a sale pays the whole share: the parker's better exit
            s.sell("D", 0, held, 0, FAR, t)
        else:
            s.offer_capacity("X", 0, held)
            s.redeem("D", 0, held, "X")
    solvent(s)
    return s


def solvent(s: Candidate) -> None:
    assert s.funds >= s.reserve == sum(s.basis.values()) and min(s.basis.values(), default=0) >= 0


def attack_figures(rules: dict, attack: str, demand: int = DEMAND, hold: int = 3 * L, base=None,
                   wash: int = L // 100) -> dict:
    base = base or run(rules, "none", demand)
    a = run(rules, attack, demand, hold, wash)
    cost = spent(a, "D", "X") - a.refund
    overpaid = spent(a, "U") - spent(base, "U")
    captured = a.hanzo.get("P", 0) - a.refund - base.hanzo.get("P", 0)
    return {"spent": cost, "overpaid": overpaid, "captured": captured, "cartel_profit": captured - cost,
            "leverage": overpaid / cost if cost else float("inf")}


def crowd_all_in(rules: dict, n: int = 10) -> float:
    """Honest all-in when the day's demand comes from `n` buyers who all buy before any of them redeems
    (each 1/n of it): under 3o each then pays the premium the others' purchases put under its own."""
    s, t = market(rules), 0
    buyers = [f"U{i}" for i in range(n)]
    for b in buyers:
        s.hanzo[b] = RICH
    ahead = rules.get("fresh_uncounted", False)
    if ahead:
        for b in buyers:
            s.buy(b, 0, DEMAND // n, 2**255, FAR, t)
        t += DAY
        s.poke(t)
    for k in range(EPOCHS):
        s.offer_capacity("P", 0, DEMAND * 5 // 4)
        if not ahead:
            for b in buyers:
                s.buy(b, 0, DEMAND // n, 2**255, FAR, t)
        for b in buyers:
            s.redeem(b, 0, DEMAND // n, "P")
        if ahead and k < EPOCHS - 1:
            for b in buyers:
                s.buy(b, 0, DEMAND // n, 2**255, FAR, t)
        t += DAY
        s.poke(t)
    solvent(s)
    return spent(s, *buyers) / s.hanzo["P"]


def heavy(rules: dict) -> tuple[int, int]:
    """After the honest epochs, H buys 0.8 L in one epoch and redeems it at P: (H's spend, what P is paid)."""
    s = run(rules, "none")
    before = s.hanzo.get("P", 0)
    s.offer_capacity("P", 0, L)
    s.buy("H", 0, 8 * L // 10, 2**255, FAR, s.epoch_start)
    s.redeem("H", 0, 8 * L // 10, "P")
    solvent(s)
    return spent(s, "H"), s.hanzo["P"] - before


def greedy(rules: dict, demand: int) -> dict:
    """The greedy parker's sweep over HOLDS: its best leverage, and its best profit as a provider cartel."""
    base = run(rules, "none", demand)
    rows = {h: attack_figures(rules, "hold", demand, h, base) for h in HOLDS}
    best = max(rows, key=lambda h: rows[h]["leverage"])
    richest = max(rows, key=lambda h: rows[h]["cartel_profit"])
    return {"rows": rows, "best_hold": best, "best_leverage": rows[best]["leverage"],
            "best_profit_hold": richest, "best_profit": rows[richest]["cartel_profit"]}


def measure(rules: dict) -> dict:
    base = run(rules, "none")
    u, paid = spent(base, "U"), base.hanzo["P"]
    h_spent, h_paid = heavy(rules)
    washes = {w: attack_figures(rules, "wash", base=base, wash=w) for w in WASHES}
    best_wash = max(washes, key=lambda w: washes[w]["leverage"])
    return {"wash": washes[WASHES[0]], "wash_best": (best_wash, washes[best_wash]),
            "wash_big": attack_figures(rules, "wash_big", base=base),
            "park": attack_figures(rules, "park", base=base),
            "greedy": greedy(rules, DEMAND), "greedy_10x": greedy(rules, 10 * DEMAND),
            "honest_spent": u, "all_in": u / paid, "crowd_all_in": crowd_all_in(rules), "pay_per_credit": paid / (EPOCHS * DEMAND),
            "heavy_spent": h_spent,
            "heavy_all_in": h_spent / h_paid}


def hz(x: int) -> str:
    return f"{x / WEI:,.0f}"


def main() -> None:
    results = [(name, param, measure(rules)) for name, param, rules in CANDIDATES]
    today = results[0][2]
    print(f"depth L = {L:,}, tier 0, {EPOCHS} epochs of honest demand ({DEMAND / L:g} L a day); leverage = honest "
          "overpay / manipulators' spend; profit = what the honest provider gained less that spend (HANZO)\n")
    print("| candidate | param | wash 0.01 L: leverage (cartel profit) | wash, worst size: leverage @w (profit) | "
          "wash 0.01 L via the majority provider | park 3 L: leverage (cartel profit) | "
          "greedy parker: best leverage @p (best profit) | same, 10x demand | honest all-in (vs today) | "
          "same, 10 buyers a day (vs today) | "
          "provider pay per credit vs today | heavy 0.8 L: spend vs today (all-in) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, param, r in results:
        w, p, g, g10 = r["wash"], r["park"], r["greedy"], r["greedy_10x"]
        ws, wb = r["wash_best"]
        print(f"| {name} | {param} | {w['leverage']:.2f} ({hz(w['cartel_profit'])}) | "
              f"{wb['leverage']:.2f} @{ws / L:g} L ({hz(wb['cartel_profit'])}) | "
              f"{r['wash_big']['leverage']:.2f} ({hz(r['wash_big']['cartel_profit'])}) | "
              f"{p['leverage']:.2f} ({hz(p['cartel_profit'])}) | "
              f"{g['best_leverage']:.2f} @{g['best_hold'] / L:g} L ({hz(g['best_profit'])}) | "
              f"{g10['best_leverage']:.2f} @{g10['best_hold'] / L:g} L ({hz(g10['best_profit'])}) | "
              f"{r['all_in']:.4f} ({r['all_in'] / today['all_in'] - 1:+.1%}) | "
              f"{r['crowd_all_in']:.4f} ({r['crowd_all_in'] / today['crowd_all_in'] - 1:+.1%}) | "
              f"{r['pay_per_credit'] / today['pay_per_credit'] - 1:+.1%} | "
              f"{r['heavy_spent'] / today['heavy_spent'] - 1:+.1%} ({r['heavy_all_in']:.3f}) |")
    w, p = today["wash"], today["park"]
    print(f"\ntoday (the red team's figures): wash spent {hz(w['spent'])}, honest overpay {hz(w['overpaid'])}; "
          f"park spent {hz(p['spent'])}, honest overpay {hz(p['overpaid'])}")
    print("\ngreedy parker (tops p back up every epoch), per held position p: leverage / cartel profit (HANZO)")
    print("| candidate | param | demand | " + " | ".join(f"p = {h / L:g} L" for h in HOLDS) + " |")
    print("|---|---|---|" + "---:|" * len(HOLDS))
    for name, param, r in results:
        for key, label in (("greedy", "1x"), ("greedy_10x", "10x")):
            cells = " | ".join(f"{c['leverage']:.2f} / {hz(c['cartel_profit'])}" for c in r[key]["rows"].values())
            print(f"| {name} | {param} | {label} | {cells} |")
    headline = {}
    for name, param, r in results:
        headline[f"{name} {param}".strip(" -")] = {
            "wash_leverage": round(r["wash"]["leverage"], 3),
            "wash_cartel_profit": round(r["wash"]["cartel_profit"] / WEI),
            "wash_worst_leverage": round(r["wash_best"][1]["leverage"], 3),
            "wash_worst_size_L": r["wash_best"][0] / L,
            "wash_via_majority_leverage": round(r["wash_big"]["leverage"], 3),
            "park_leverage": round(r["park"]["leverage"], 3),
            "park_cartel_profit": round(r["park"]["cartel_profit"] / WEI),
            "greedy_best_leverage": round(r["greedy"]["best_leverage"], 3),
            "greedy_best_profit": round(r["greedy"]["best_profit"] / WEI),
            "greedy_profitable": r["greedy"]["best_profit"] > 0,
            "greedy_10x_profitable": r["greedy_10x"]["best_profit"] > 0,
            "greedy_10x_best_leverage": round(r["greedy_10x"]["best_leverage"], 3),
            "greedy_10x_best_profit": round(r["greedy_10x"]["best_profit"] / WEI),
            "honest_all_in": round(r["all_in"], 4),
            "honest_all_in_10_buyers": round(r["crowd_all_in"], 4),
            "honest_spend_vs_today": round(r["honest_spent"] / today["honest_spent"], 4),
            "provider_pay_per_credit_vs_today": round(r["pay_per_credit"] / today["pay_per_credit"], 4),
            "heavy_spend_vs_today": round(r["heavy_spent"] / today["heavy_spent"], 4),
            "heavy_all_in": round(r["heavy_all_in"], 4)}
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
