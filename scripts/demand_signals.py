"""Demand signals for the epoch controller (red team 20's open finding: demand the counted capacity
cannot serve is invisible), measured on the exact integer model (hanzo.econ.hmm.HMMState).

poke() moves P_ref by the damped leapfrog driven by utilization u, today redeemed / capacity, both
counted only at asks <= counted_ask (P_ref net of the epoch's exit fee) and weighted by the share of the
epoch left when offered. A refused redemption (BelowAsk) reverts and leaves no trace, so once the price
dips below an honest ask the only counted capacity may be a sliver nobody uses, u reads 0 and the price
spirals down. `Signals` subclasses HMMState, records what each candidate reads, and overrides poke with
the candidate's u (the leapfrog, clamp and resets exactly as the contract's):

  a      today: min(R, C) / C                   (C counted capacity, R counted redemptions; C = 0: target)
  b      max(R, K) / C                          K = credits bought and kept: max(0, supply - supply at start)
  c      max(R, B) / C                          B = gross credits bought this epoch
  d      (R + K) / C
  e1     fallback to purchases: when C < half of all capacity offered at any ask (weighted alike, W),
         max(R, B) / C, else today
  e2     starved: u = 1 when B > C (demand the counted capacity cannot serve), else today
  e3     served anywhere: max(R + S, K) / C     S = credits served at asks above counted_ask
         (each at its provider's average weight, as counted service counts)
  e4     fallback to what was served or kept: when C < W / 2, max(R + S, K) / C, else today
  e5     e4 with the capacity that served at an uncounted ask counted too: when C < W / 2,
         max(R + S, K) / (C + C_S), C_S the weighted capacity of the providers that served at an
         uncounted ask (all of theirs, as offered, weighted alike), else today

(every u clamped at 1; C = 0 with no demand reads the target, as today.)

Scenarios (default parameters, depth L = 1e9, tier 0; the dealer D, its accomplice X, the honest
provider P, the user U, as in tests/test_redteam17_hmm.py and tests/test_redteam20_asks.py):
  spiral         _late_offers: P asks exactly counted_ask at the start, U buys 0.08 L a day and redeems
                 what it holds at P (up to P's 0.1 L; kept when refused), D offers 0.1 L at ask 0 in each
                 epoch's last second (weighted 1/86,400)
  spiral ask 0   the same with P at ask 0
  idle crash     P at the starting counted_ask, D offers 0.1 L at ask 0 at each epoch's start, U redeems
                 0.08 L at P, at D when refused; "refuses D": U holds what P refuses
  slump          no manipulator: P at the starting counted_ask, U's demand falls to 0.02 L a day
  wash           10 honest epochs (P offers 0.1 L at ask 0, U buys and spends 0.08 L), D buys 0.01 L a day
                 and redeems it at X: leverage = honest overpay / the pair's spend (against the same
                 signal's undisturbed run); "uncounted": X asks one wei above counted_ask and D offers 10 L
                 at ten times the price (free: nobody pays that ask) to trip a fallback
  park           D buys 3 L before the 10 honest epochs, leaves through X: leverage
  buy-sell       D buys 0.01 L (and 0.1 L) and sells it back in the same epoch each day: leverage; and
                 0.01 L with D's free 10 L at ten times the price
  idle 1 L       X offers 1 L at counted_ask left idle (today's crash lever), or one wei above it serving
                 D's 1,000 credits there: P_ref / base after 10 honest epochs
  hoard          D buys 0.1 L each epoch and keeps it (10 epochs), leaving through X at the end: leverage;
                 and with D's free 10 L at ten times the price
  stockpile      U keeps 2 days of demand as a buffer (hanzo/sim/compute.py buffer_days), P offers demand / 0.8
                 at ask 0: P_ref / base after day 0 and day 30, steady and 5%/day growing demand, and U's
                 30-day spend against today's rule
Prints a table; the last line is one JSON object of the headline figures.
Usage: PYTHONPATH=. python scripts/demand_signals.py [--sim]
(--sim adds a 365-day baseline World, today's FloatMarket.step and signal b patched in: ~1 s)
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hanzo.econ.fixedpoint import WAD  # noqa: E402
from hanzo.econ.hmm import OFFER_GRACE, HMMError, HMMState, leapfrog_step, ref_price  # noqa: E402
from hanzo.econ.params import DEFAULT, WEI  # noqa: E402

L = DEFAULT.hmm_depth
FAR = 2**64
DAY = 86_400
BIG = 10**40
SIGNALS = ["a", "b", "c", "d", "e1", "e2", "e3", "e4", "e5"]
FALLBACK_SHARE = 2  # e1, e4: counted capacity below 1/2 of all capacity offered (weighted alike) falls back


class Signals(HMMState):
    """HMMState whose poke reads the candidate demand signal `signal` (module docstring)."""

    signal = "a"

    def _at_ref(self, ref, basis, amount, held):
        """A provider paid the whole share, the rule these tables were measured under (before 3h, whose
        premium back to the holder is scripts/pricing_by_flow.py's)."""
        return basis if amount == held else basis * amount // held

    @staticmethod
    def _fee_base(share, at_ref):
        """The exit fee on the whole share, the rule these tables were measured under (before session 24)."""
        return share

    def _redeem_books(self, holder, tid, amount, provider, payout, refund, counted, charge):
        """Credits served at an uncounted ask count nothing, the rule these tables were measured under (before
        2026-12-01, when the contract began counting them at the target utilization: docs/hmm.md)."""
        key, t = (self.epoch, tid, provider), self.tiers[tid]
        kept = (t.capacity, t.redeemed, self.asks[key], self.served.get(key), t.served_above)
        super()._redeem_books(holder, tid, amount, provider, payout, refund, counted, charge)
        if not kept[2][1]:
            t.capacity, t.redeemed, self.asks[key] = kept[:3]
            t.served_above = kept[4]
            if kept[3] is None:
                self.served.pop(key, None)
            else:
                self.served[key] = kept[3]

    def __post_init__(self):
        super().__post_init__()
        self._reset()

    def _reset(self) -> None:
        n = len(self.tiers)
        self.bought_ = [0] * n
        self.served_uncounted = [0] * n
        self.offered_weighted = [0] * n
        self.weighted_by: dict[tuple[int, str], int] = {}  # (tier, provider) -> weighted capacity offered
        self.raw_by: dict[tuple[int, str], int] = {}  # (tier, provider) -> credits offered
        self.served_by: set[tuple[int, str]] = set()  # (tier, provider) that served at an uncounted ask
        self.supply_start = [t.supply for t in self.tiers]

    def add_tier(self, base_price: int, depth: int) -> int:
        tid = super().add_tier(base_price, depth)
        self.bought_.append(0)
        self.served_uncounted.append(0)
        self.offered_weighted.append(0)
        self.supply_start.append(0)
        return tid

    def offer_capacity(self, provider, tid, credits, min_pay=0, now=None):
        super().offer_capacity(provider, tid, credits, min_pay, now)
        length, elapsed = self.params.epoch_length, (self.epoch_start if now is None else now) - self.epoch_start
        w = (credits if elapsed <= length // OFFER_GRACE else 0 if elapsed >= length
             else credits * (length - elapsed) // length)
        self.offered_weighted[tid] += w
        self.weighted_by[(tid, provider)] = self.weighted_by.get((tid, provider), 0) + w
        self.raw_by[(tid, provider)] = self.raw_by.get((tid, provider), 0) + credits

    def buy_batch(self, trader, moves, max_cost, deadline, now):
        cost = super().buy_batch(trader, moves, max_cost, deadline, now)
        for tid, amount in moves:
            self.bought_[tid] += amount
        return cost

    def redeem(self, holder, tid, amount, provider):
        counted = self.asks.get((self.epoch, tid, provider), (0, False))[1]
        payout = super().redeem(holder, tid, amount, provider)
        if not counted:  # at the provider's average weight, as counted service counts
            key = (tid, provider)
            self.served_uncounted[tid] += amount * self.weighted_by[key] // self.raw_by[key]
            self.served_by.add((tid, provider))
        return payout

    def utilization(self, tid: int) -> int:
        t, p = self.tiers[tid], self.params
        c, r, b, s = t.capacity, t.redeemed, self.bought_[tid], self.served_uncounted[tid]
        k = max(0, t.supply - self.supply_start[tid])
        sig = self.signal
        if sig in ("e1", "e4", "e5"):
            fallback = c * FALLBACK_SHARE < self.offered_weighted[tid]
            if fallback and sig == "e5":
                c += sum(self.weighted_by.get(key, 0) for key in self.served_by if key[0] == tid)
            sig = ("c" if sig == "e1" else "e3") if fallback else "a"
        if sig == "e2":
            if b > c:
                return WAD
            sig = "a"
        demand = {"a": r, "b": max(r, k), "c": max(r, b), "d": r + k, "e3": max(r + s, k)}[sig]
        if c == 0:
            return WAD if demand > 0 and sig != "a" else p.target_utilization
        return min(demand, c) * WAD // c

    def poke(self, now: int):
        p = self.params
        ends_at = self.epoch_start + p.epoch_length
        if now < ends_at:
            raise HMMError("EpochNotOver", ends_at)
        out = []
        for tid, t in enumerate(self.tiers):
            u = self.utilization(tid)
            x_next, v_next = leapfrog_step(t.log_price, t.momentum, u, p)
            t.log_price, t.momentum, t.ref_price = x_next, v_next, ref_price(t.base_price, x_next)
            t.capacity = t.redeemed = 0
            t.carried = t.position  # the position kept whole here (no decay); this epoch's purchases become old
            out.append((u, x_next, v_next, t.ref_price))
        self.epoch += 1
        self.epoch_start = now
        self.epoch_exit_fee = p.sell_fee
        self._reset()
        return out


def fresh(signal: str) -> Signals:
    """tests/market.py fresh_model with the candidate signal: P honest, D the dealer, X its accomplice."""
    s = Signals.from_tokenomics(DEFAULT)
    # measured with the pricing position kept whole across epochs (as before 2026-11-30's decay): the levers
    # here are the controller's; decay's effect on parking is docs/pricing_by_flow.md's
    # and without the congestion charge (2026-12-01): each candidate here is a signal alone
    s.params = dataclasses.replace(s.params, position_decay=0, congestion_charge=0)
    s.signal = signal
    s.providers |= {"P", "D", "X"}
    for a in "ABCDHPUX":
        s.hanzo[a] = BIG
    return s


def price(s: HMMState) -> float:
    return s.tiers[0].ref_price / s.tiers[0].base_price


def try_redeem(s: HMMState, holder: str, amount: int, provider: str) -> bool:
    if amount == 0:
        return False
    try:
        s.redeem(holder, 0, amount, provider)
        return True
    except HMMError as e:
        if e.name not in ("BelowAsk", "InsufficientCapacity"):
            raise
        return False


def spiral(signal: str, honest_ask: bool, epochs: int = 20) -> dict:
    """tests/test_redteam17_hmm.py _late_offers on the model alone."""
    s, t = fresh(signal), 0
    ask = s.counted_ask(0) if honest_ask else 0
    served = 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, L // 10, ask, t)
        s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
        # all it holds, as far as P's capacity goes (the test redeems all it holds: InsufficientCapacity
        # once a backlog passes 0.1 L; the same under today's rule, where the backlog is never served)
        served += try_redeem(s, "U", min(s.credits.get(("U", 0), 0), L // 10), "P")
        s.offer_capacity("D", 0, L // 10, 0, t + DAY - 1)  # the last second: nobody can use it
        t += DAY
        s.poke(t)
    return {"price": price(s), "honest_served": served, "held": s.credits.get(("U", 0), 0) / L}


def idle_crash(signal: str, user_refuses_dealer: bool, epochs: int = 20) -> dict:
    """test_an_idle_offer_cannot_pay_an_honest_provider_below_its_ask_and_commits_its_maker_to_serve."""
    s, t = fresh(signal), 0
    ask = s.counted_ask(0)
    honest = dealer = 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, L // 10, ask, t)
        s.offer_capacity("D", 0, L // 10, 0, t)
        s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
        want = s.credits[("U", 0)] if user_refuses_dealer else 8 * L // 100
        if try_redeem(s, "U", min(want, L // 10), "P"):
            honest += 1
        elif not user_refuses_dealer and try_redeem(s, "U", want, "D"):
            dealer += 1
        t += DAY
        s.poke(t)
    return {"price": price(s), "honest_served": honest, "dealer_served": dealer,
            "held": s.credits.get(("U", 0), 0) / L}


def honest_epoch(s: HMMState, t: int) -> None:
    s.offer_capacity("P", 0, L // 10, 0, t)
    s.buy("U", 0, 8 * L // 100, 2**255, FAR, t)
    s.redeem("U", 0, 8 * L // 100, "P")


def attack(signal: str, kind: str, epochs: int = 10) -> HMMState:
    """10 honest epochs with `kind`: none, wash (redeemed at X), park, sell1 / sell10 (buy and sell back
    0.01 L / 0.1 L the same epoch), crash_at / crash_unc (X offers 1 L at counted_ask, idle, or one wei
    above it and serves D's 1,000 credits there), hoard (D buys 0.1 L each epoch and keeps it, leaving
    through X at the end); _trig: D also offers 10 L at ten times the price each epoch (a free
    offer nobody uses, to trip a fallback), and wash_trig redeems at X asking one wei above counted_ask."""
    s, t = fresh(signal), 0
    if kind == "park":
        s.buy("D", 0, 3 * L, 2**255, FAR, t)
    for _ in range(epochs):
        honest_epoch(s, t)
        if kind.endswith("_trig"):  # 10 L at ten times the price: commits to nothing, counts nowhere
            s.offer_capacity("D", 0, 10 * L, 10 * s.counted_ask(0), t)
        if kind.startswith("wash"):
            s.buy("D", 0, L // 100, 2**255, FAR, t)
            # at an uncounted ask (one wei above counted_ask; D's payout covers it) or at 0
            s.offer_capacity("X", 0, L // 100, s.counted_ask(0) + 1 if kind == "wash_trig" else 0, t)
            s.redeem("D", 0, L // 100, "X")
        elif kind.startswith("hoard"):  # 0.1 L bought and kept each epoch, all of it left through X at the end
            s.buy("D", 0, L // 10, 2**255, FAR, t)
        elif kind.startswith("crash"):  # X's 1 L left idle at counted_ask, or one wei above it serving 1,000
            unc = kind == "crash_unc"
            s.offer_capacity("X", 0, L, s.counted_ask(0) + unc, t)
            if unc:
                s.buy("D", 0, 1000, 2**255, FAR, t)
                s.redeem("D", 0, 1000, "X")
        elif kind.startswith("sell"):
            n = L // 10 if kind == "sell10" else L // 100
            s.buy("D", 0, n, 2**255, FAR, t)
            s.sell("D", 0, n, 0, FAR, t)
        t += DAY
        s.poke(t)
    if kind == "park" or kind.startswith("hoard"):
        n = s.credits[("D", 0)]
        s.offer_capacity("X", 0, n, 0, t)
        s.redeem("D", 0, n, "X")
    return s


def spent(s: HMMState, *who: str) -> int:
    return sum(BIG - s.hanzo.get(a, 0) for a in who)


def leverage(signal: str, kind: str, base: int) -> dict:
    s = attack(signal, kind)
    cost, overpaid = spent(s, "D", "X"), spent(s, "U") - base
    return {"spent": cost / WEI, "overpaid": overpaid / WEI, "leverage": overpaid / cost, "price": price(s)}


def stockpile(signal: str, growth: float, days: int = 30, buffer_days: int = 2) -> dict:
    """Users keep `buffer_days` of demand as credits; P offers demand / 0.8 at ask 0."""
    s, t = fresh(signal), 0
    demand0 = 8 * L // 100
    prices = []
    for day in range(days):
        demand = int(demand0 * (1 + growth) ** day)
        s.offer_capacity("P", 0, demand * 10 // 8, 0, t)
        want = demand * (1 + buffer_days) - s.credits.get(("U", 0), 0)
        if want > 0:
            s.buy("U", 0, want, 2**255, FAR, t)
        s.redeem("U", 0, demand, "P")
        t += DAY
        s.poke(t)
        prices.append(price(s))
    return {"day0": prices[0], "day30": prices[-1], "max": max(prices), "min": min(prices),
            "spend": spent(s, "U") / WEI}


def slump(signal: str, epochs: int = 20) -> dict:
    """Demand falls: P offers 0.1 L at what a credit paid at the start (no margin), U wants 0.02 L a
    day (u = 0.25), buys it and redeems all it holds at P, keeping what P refuses. No manipulator."""
    s, t = fresh(signal), 0
    ask = s.counted_ask(0)
    served = 0
    for _ in range(epochs):
        s.offer_capacity("P", 0, L // 10, ask, t)
        s.buy("U", 0, 2 * L // 100, 2**255, FAR, t)
        served += try_redeem(s, "U", min(s.credits[("U", 0)], L // 10), "P")
        t += DAY
        s.poke(t)
    return {"price": price(s), "honest_served": served, "held": s.credits.get(("U", 0), 0) / L}


def measure(signal: str) -> dict:
    base = spent(attack(signal, "none"), "U")
    row = {"signal": signal,
           "spiral": spiral(signal, True), "spiral_ask0": spiral(signal, False),
           "idle": idle_crash(signal, False), "idle_refuses": idle_crash(signal, True)}
    for kind in ("wash", "park", "sell1", "sell10", "wash_trig", "sell1_trig", "hoard", "hoard_trig"):
        row[kind] = leverage(signal, kind, base)
    for kind in ("crash_at", "crash_unc"):
        row[kind] = price(attack(signal, kind))
    row["slump"] = slump(signal)
    row["steady"] = stockpile(signal, 0.0)
    row["growing"] = stockpile(signal, 0.05)
    return row


def simulate_world(days: int = 365) -> dict:
    """The baseline World (hanzo/sim/scenarios/baseline.toml) for `days`, with today's FloatMarket.step and
    with signal b patched in (u from max(redeemed, kept), kept = supply growth over the epoch: users'
    and speculators' credits alike). FloatMarket has no asks, so all its capacity counts: e4/e5's
    fallback never trips and the World runs exactly as today's (by construction)."""
    import numpy as np

    from hanzo.econ.hmm import FloatMarket
    from hanzo.sim.run import simulate
    from hanzo.sim.scenario import load

    original = FloatMarket.step

    def step_b(self, controller="leapfrog"):
        start = getattr(self, "supply_start_", np.zeros_like(self.supply))
        kept = np.maximum(self.supply - start, 0.0)
        self.redeemed = np.minimum(np.maximum(self.redeemed, kept), self.capacity)
        u = original(self, controller)
        self.supply_start_ = self.supply.copy()
        return u

    out = {}
    for name, step in (("a", original), ("b", step_b)):
        FloatMarket.step = step
        try:
            series = simulate(load("baseline"), years=days / 365).series
        finally:
            FloatMarket.step = original
        row = {}
        for tier in ("7b", "32b", "175b"):
            p = series[f"price_hmm_{tier}"]
            row[tier] = {"day1": float(p.iloc[1] / p.iloc[0]), "day7": float(p.iloc[7] / p.iloc[0]),
                         "last": float(p.iloc[-1] / p.iloc[0]), "max": float(p.max() / p.iloc[0]),
                         "u_mean": float(series[f"utilization_hmm_{tier}"].mean())}
        row["inference_spend"] = float(series["inference_spend"].iloc[-1])
        row["hanzo_price_usd"] = float(series["hanzo_price_usd"].iloc[-1])
        row["users"] = float(series["users"].iloc[-1])
        out[name] = row
    a, b = out["a"], out["b"]
    out["b_vs_a"] = {"inference_spend": b["inference_spend"] / a["inference_spend"] - 1,
                     "hanzo_price_usd": b["hanzo_price_usd"] / a["hanzo_price_usd"] - 1,
                     "users": b["users"] / a["users"] - 1,
                     **{t: b[t]["last"] / a[t]["last"] - 1 for t in ("7b", "32b", "175b")}}
    return out


def main() -> None:
    rows = [measure(sig) for sig in SIGNALS]
    print(f"demand signals on the integer model; L = {L:,}, tier 0, default parameters; price = P_ref / base "
          f"after the run; lev. = honest overpay / the manipulators' spend\n")
    print("| signal | spiral: price, P served /20 | spiral, P ask 0 | idle crash: price, P/D served | "
          "idle, U refuses D: price, P served | slump: price, P served /20 | wash lev. | wash at an uncounted "
          "ask + 10 L idle high ask | park lev. | buy-sell 0.01 L / 0.1 L / 0.01 L + idle high ask lev. | "
          "idle 1 L at / above the price, serving 1,000: price | hoard 0.1 L a day lev. / + idle high ask | "
          "stockpile steady: day 0, day 30 | growing 5%/day: day 0, day 30, U spend vs a |")
    print("|---|---|---|---|---|---|---:|---:|---:|---|---|---|---|---|")
    a_spend = rows[0]["growing"]["spend"]
    for r in rows:
        sp, s0, ic, ir, sl = r["spiral"], r["spiral_ask0"], r["idle"], r["idle_refuses"], r["slump"]
        st, gr = r["steady"], r["growing"]
        print(f"| {r['signal']} | {sp['price']:.3f}x, {sp['honest_served']} | {s0['price']:.3f}x, "
              f"{s0['honest_served']} | {ic['price']:.3f}x, {ic['honest_served']}/{ic['dealer_served']} | "
              f"{ir['price']:.3f}x, {ir['honest_served']} | "
              f"{sl['price']:.3f}x, {sl['honest_served']} ({sl['held']:.2f} L held) | "
              f"{r['wash']['leverage']:.2f} | {r['wash_trig']['leverage']:.2f} | {r['park']['leverage']:.2f} | "
              f"{r['sell1']['leverage']:.2f} / {r['sell10']['leverage']:.2f} / {r['sell1_trig']['leverage']:.2f} | "
              f"{r['crash_at']:.3f}x / {r['crash_unc']:.3f}x | "
              f"{r['hoard']['leverage']:.2f} / {r['hoard_trig']['leverage']:.2f} | "
              f"{st['day0']:.3f}x, {st['day30']:.3f}x | "
              f"{gr['day0']:.3f}x, {gr['day30']:.3f}x, "
              f"{gr['spend'] / a_spend - 1:+.1%} |")
    head = {r["signal"]: {"spiral_price": r["spiral"]["price"], "spiral_served": r["spiral"]["honest_served"],
                          "spiral_ask0_price": r["spiral_ask0"]["price"],
                          "idle_price": r["idle"]["price"], "idle_refuses_price": r["idle_refuses"]["price"],
                          "slump_price": r["slump"]["price"], "slump_served": r["slump"]["honest_served"],
                          "wash_leverage": r["wash"]["leverage"], "wash_trig_leverage": r["wash_trig"]["leverage"],
                          "park_leverage": r["park"]["leverage"],
                          "buy_sell_leverage": [r["sell1"]["leverage"], r["sell10"]["leverage"],
                                                r["sell1_trig"]["leverage"]],
                          "hoard_leverage": [r["hoard"]["leverage"], r["hoard_trig"]["leverage"]],
                          "crash_at_price": r["crash_at"], "crash_unc_price": r["crash_unc"],
                          "steady_day0": r["steady"]["day0"], "steady_day30": r["steady"]["day30"],
                          "growing_day30": r["growing"]["day30"],
                          "growing_spend_vs_a": r["growing"]["spend"] / a_spend - 1} for r in rows}
    if "--sim" in sys.argv:
        w = head["world"] = simulate_world()
        print("\n365-day baseline World (the simulator's FloatMarket; price of each tier / day 0):\n")
        print("| rule | 7b day 1 / 7 / 365 / max | 32b day 365 | 175b day 365 | mean u 7b | inference spend | "
              "HANZO USD | users |")
        print("|---|---|---|---|---|---:|---:|---:|")
        for name in ("a", "b"):
            r = w[name]
            print(f"| {name} | {r['7b']['day1']:.3f} / {r['7b']['day7']:.3f} / {r['7b']['last']:.3f} / "
                  f"{r['7b']['max']:.3f} | {r['32b']['last']:.3f} | {r['175b']['last']:.3f} | "
                  f"{r['7b']['u_mean']:.3f} | {r['inference_spend']:,.0f} | {r['hanzo_price_usd']:.4f} | "
                  f"{r['users']:,.0f} |")
        print()
    print(json.dumps(head, default=float))


if __name__ == "__main__":
    main()
