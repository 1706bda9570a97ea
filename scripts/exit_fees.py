"""Exits that cost alike (issue 16, red team 17's findings 2-4): the exit fee, charged alike on a sale
and on a redemption, swept on the exact integer model of the market maker (hanzo.econ.hmm.HMMState).

For each exit fee f (and buy fee b) it replays red team 17's attacks (tests/test_redteam17_hmm.py,
default depth and tier 0) and prices what honest users pay:

- second wallet: a provider's second wallet buys 1 L and redeems it at the provider's offer; its gain
  over selling the same credits (HANZO). Zero when exits cost alike; today the whole sell fee.
- wash: 10 epochs of honest demand at target (0.1 L offered, 80% bought and spent), the dealer buying
  0.01 L a day and redeeming it at its accomplice's offer: what the pair spent (buy and exit fees),
  what honest buyers overpaid against the undisturbed market, and the ratio (the leverage).
- park: the dealer buys 3 L before the same 10 epochs and leaves through the accomplice's offer.
  A lone dealer (no offer to use but its own, refused) sells: the same figures with exits alike.
- honest all-in: HANZO an honest buyer pays per HANZO its provider is paid for the compute,
  (1 + b) / (1 - f) (measured over the 10 undisturbed epochs), against today's (1 + b, redemptions free).
- round trip: buy 1 L and sell it back, in the same epoch and after a pump to the clamp (one epoch,
  exp(delta_max)); the HANZO lost (must be > 0: no-arbitrage). With exits at basis it holds for any
  f >= 0; the put (sell back at basis after a fall, buy again cheaper) gains credits after a fall of
  more than 1 - (1 - f) / (1 + b).

"today" is the rule before this change: sales pay f = 12.5%, redemptions nothing.
Prints a markdown table; the last line is one JSON object (the rows, and the chosen default).
Usage: python scripts/exit_fees.py
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hanzo.econ.fixedpoint import WAD  # noqa: E402
from hanzo.econ.hmm import HMMState, min_sell_fee  # noqa: E402
from hanzo.econ.params import DEFAULT, WEI  # noqa: E402

L = DEFAULT.hmm_depth
FAR = 2**64
DAY = 86_400
EPOCHS = 10
FEES = ["0", "0.005", "0.01", "0.02", "0.03", "0.05", "0.075", "0.1", "0.111", "0.125", "0.2", "0.3", "0.5"]
BUY_FEES = ["0.003"]
CHOSEN = "0.125"  # docs/hmm.md, "Exits cost alike": why


class BeforePremiumBack(HMMState):
    """The model with the rule these figures were measured under: a redemption pays its provider the whole share
    (the premium back to the holder, rule 3h, is measured in scripts/pricing_by_flow.py)."""

    def _at_ref(self, ref, basis, amount, held):
        return basis if amount == held else basis * amount // held

    @staticmethod
    def _fee_base(share, at_ref):
        """The exit fee on the whole share (before session 24's fee on the reference part)."""
        return share


class Today(BeforePremiumBack):
    """The rule before: a redemption pays the whole share, fee-free (only sales pay the sell fee)."""

    def redeem(self, holder, tid, amount, provider):
        params = self.params
        self.params = dataclasses.replace(params, sell_fee=0)
        try:
            return super().redeem(holder, tid, amount, provider)
        finally:
            self.params = params


def market(exit_fee: int, buy_fee: int, today: bool) -> HMMState:
    s = (Today if today else BeforePremiumBack).from_tokenomics(DEFAULT)
    # past the bounds on purpose; the pricing position kept whole across epochs (no decay), as when the fee was
    # chosen: decay is measured in scripts/pricing_by_flow.py
    # (and without the congestion charge, built after: docs/congestion.md)
    s.params = dataclasses.replace(s.params, sell_fee=exit_fee, buy_fee=buy_fee, position_decay=0, congestion_charge=0)
    s.providers |= {"P", "D", "X"}  # honest P; the dealer D and its accomplice X
    for a in "DXUW":
        s.hanzo[a] = 10**40
    return s


def honest_epoch(s: HMMState, t: int) -> int:
    s.offer_capacity("P", 0, L // 10)
    s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
    s.redeem("U", 0, 8 * L // 100, "P")
    return t + DAY


def run(exit_fee: int, buy_fee: int, attack: str, today: bool = False) -> HMMState:
    """10 epochs of honest demand, with `attack` ("none", "wash", "park" via the accomplice, "park_alone")."""
    s = market(exit_fee, buy_fee, today)
    t = 0
    if attack.startswith("park"):
        s.buy("D", 0, 3 * L, 2**255, FAR, t)
    for _ in range(EPOCHS):
        t = honest_epoch(s, t)
        if attack == "wash":
            s.buy("D", 0, L // 100, 2**255, FAR, t)
            s.offer_capacity("X", 0, L // 100)
            s.redeem("D", 0, L // 100, "X")
        s.poke(t)
    if attack == "park":
        s.offer_capacity("X", 0, 3 * L)
        s.redeem("D", 0, 3 * L, "X")
    elif attack == "park_alone":
        s.sell("D", 0, 3 * L, 0, FAR, t)
    return s


def spent(s: HMMState, *who: str) -> int:
    """HANZO the accounts `who` (funded with 10**40 each) lost together."""
    return sum(10**40 - s.hanzo.get(a, 0) for a in who)


def measure(exit_fee: int, buy_fee: int, today: bool = False) -> dict:
    undisturbed = run(exit_fee, buy_fee, "none", today)
    u_cost = spent(undisturbed, "U")
    row = {"exit_fee": exit_fee / WAD, "buy_fee": buy_fee / WAD, "today": today}
    # the second wallet: W buys 1 L, redeems it at X's offer; against selling it
    s = market(exit_fee, buy_fee, today)
    s.buy("W", 0, L, 2**255, FAR, 0)
    sale = s.copy()
    sale.sell("W", 0, L, 0, FAR, 0)
    s.offer_capacity("X", 0, L)
    s.redeem("W", 0, L, "X")
    row["second_wallet_gain"] = (s.hanzo["X"] - 10**40) - (sale.hanzo["W"] - s.hanzo["W"])
    for attack in ("wash", "park", "park_alone"):
        a = run(exit_fee, buy_fee, attack, today)
        cost = spent(a, "D", "X")
        overpaid = spent(a, "U") - u_cost
        row[attack] = {"spent": cost, "overpaid": overpaid, "leverage": overpaid / cost if cost > 0 else math.inf}
    paid_to_providers = undisturbed.hanzo.get("P", 0)
    row["honest_all_in"] = u_cost / paid_to_providers
    # round trips: same epoch, and across one epoch pumped to the clamp (the sale pays basis either way)
    s = market(exit_fee, buy_fee, today)
    s.buy("W", 0, L, 2**255, FAR, 0)
    s.sell("W", 0, L, 0, FAR, 0)
    row["round_trip_loss"] = 10**40 - s.hanzo["W"]
    s.buy("W", 0, L, 2**255, FAR, 0)
    s.offer_capacity("X", 0, 1)
    s.buy("D", 0, 1, 2**255, FAR, 0)
    s.redeem("D", 0, 1, "X")
    s.poke(DAY)
    s.sell("W", 0, L, 0, FAR, DAY)
    row["pumped_round_trip_loss"] = 10**40 - s.hanzo["W"] - row["round_trip_loss"]
    row["put_threshold"] = 1 - (1 - exit_fee / WAD) / (1 + buy_fee / WAD)
    return row


def wad(x: str) -> int:
    return int(Decimal(x) * WAD)


def main() -> None:
    rows = [measure(DEFAULT.hmm_sell_fee, DEFAULT.hmm_buy_fee, today=True)]
    for b in BUY_FEES:
        rows += [measure(wad(f), wad(b)) for f in FEES]
    today_all_in = rows[0]["honest_all_in"]
    print(f"exit fee swept on the integer model; depth L = {L:,}, tier 0, {EPOCHS} epochs of honest demand "
          f"(0.08 L a day); the bound 1 - exp(-delta_max) = {min_sell_fee(DEFAULT.hmm_delta_max) / WAD:.4f}\n")
    print("| exit fee | buy fee | 2nd-wallet gain over a sale | wash: spent / overpaid (leverage) | "
          "park via accomplice (leverage) | park alone, by sale (leverage) | honest all-in (vs today) | "
          "round trip loss / pumped | put after a fall of |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w, p, pa = r["wash"], r["park"], r["park_alone"]
        label = f"{r['exit_fee']:.3g}" + (" sale only (today)" if r["today"] else "")
        print(f"| {label} | {r['buy_fee']:.3g} | {r['second_wallet_gain'] / WEI:,.0f} | "
              f"{w['spent'] / WEI:,.0f} / {w['overpaid'] / WEI:,.0f} ({w['leverage']:.1f}) | "
              f"{p['spent'] / WEI:,.0f} / {p['overpaid'] / WEI:,.0f} ({p['leverage']:.1f}) | "
              f"{pa['spent'] / WEI:,.0f} ({pa['leverage']:.1f}) | "
              f"{r['honest_all_in']:.4f} ({r['honest_all_in'] / today_all_in - 1:+.1%}) | "
              f"{r['round_trip_loss'] / WEI:,.0f} / {r['pumped_round_trip_loss'] / WEI:,.0f} | "
              f"{r['put_threshold']:.1%} |")
    chosen = next(r for r in rows[1:] if r["exit_fee"] == float(CHOSEN))
    print(f"\nchosen: exit fee {CHOSEN} on every exit (docs/hmm.md, 'Exits cost alike')")
    for r in rows:
        for k in ("wash", "park", "park_alone"):
            r[k] = {kk: (vv / WEI if kk != "leverage" else vv) for kk, vv in r[k].items()}
        for k in ("second_wallet_gain", "round_trip_loss", "pumped_round_trip_loss"):
            r[k] = r[k] / WEI
    print(json.dumps({"rows": rows, "chosen_exit_fee": float(CHOSEN),
                      "chosen_second_wallet_gain": chosen["second_wallet_gain"],
                      "chosen_park_leverage": chosen["park"]["leverage"],
                      "chosen_wash_leverage": chosen["wash"]["leverage"],
                      "chosen_honest_all_in": chosen["honest_all_in"], "today_honest_all_in": today_all_in}))


if __name__ == "__main__":
    main()
