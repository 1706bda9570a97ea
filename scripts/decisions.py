"""What the seeds leave open, priced: the year-6 reward cliff against a tail emission and recycled
inference fees, the seed's training fees, boost staking, an absolute quorum against one relative
to stake, and what a training op costs on chain against what it pays (issue 10, part 4).

Then the cheapest capture of the treasury under each defence of issue 16 (finding 7), priced by
the pool as the attack scenarios buy: what the cheapest attack that passes costs, and what that
capture takes out of the treasury within a year, in USD. The deployed default (DEFAULT_DEFENCE,
HanzoTreasury's rate limit) must take out less than it costs. The treasury is the only way a
captured governance reaches HANZO: minting, the oracle role, stake and the fees are closed in the
contracts (tests/test_capture_paths.py), so its release is the whole take.

Runs each scenario once (its file's seed) and prints markdown tables; the last line is one JSON
object, with `cheapest_capture_usd` and `capture_take_usd` for the deployed default.
Usage: python scripts/decisions.py [--years N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hanzo.econ.params import DAY, WEI  # noqa: E402
from hanzo.econ.treasury import max_take  # noqa: E402
from hanzo.sim.run import simulate  # noqa: E402
from hanzo.sim.scenario import load  # noqa: E402

ROWS = [
    ("baseline", "baseline: the cliff"),
    ("reward_tail", "tail emission 50M/yr"),
    ("reward_recycling", "20% inference fee recycled"),
    ("reward_pacing", "pool paced at 0.2% a day"),
    ("seed_fees", "seed's training fees"),
    ("boost_staking", "boost staking (25% of earnings)"),
    ("low_adoption", "low adoption, absolute quorum"),
    ("low_adoption_relative_quorum", "low adoption, 4% relative quorum"),
    ("governance_attack", "$20M attack, absolute quorum"),
    ("governance_attack_relative_quorum", "$20M attack, 4% relative quorum"),
]
YEAR = 365 * DAY
TREASURY_QUORUM = 40_000_000  # the Treasury-type candidate's quorum, HANZO (4x the absolute quorum)
# Each candidate defence: (key, label, attack scenario, tokenomics overrides, rate-limited?). Vote
# escrow and the veto are priced by the rule shared with a candidate, explained in NOTES.
DEFENCES = [
    ("none", "none: absolute quorum 10M (before)", "governance_attack", {}, False),
    ("none_relative_quorum", "none: 4%-of-stake quorum", "governance_attack_relative_quorum", {}, False),
    ("treasury_type", f"Treasury type: quorum {TREASURY_QUORUM / 1e6:g}M, longer delay", "governance_attack",
     {"tokenomics.quorum": TREASURY_QUORUM}, False),
    ("vote_escrow", "vote escrow (attacker locks for the maximum)", "governance_attack", {}, False),
    ("rate_limit", "rate limit (HanzoTreasury, deployed)", "governance_attack", {}, True),
]
DEFAULT_DEFENCE = "rate_limit"
NOTES = {
    "vote_escrow": "an attacker locks its bought stake for the maximum and counts in full; with an absolute quorum "
                   "it needs the same HANZO from the pool (honest stake locked for less counts less, so the honest "
                   "vote against it only shrinks). The pool cannot price the lock (the HANZO stays the attacker's).",
    "veto": "a cancel-only guardian: not priced by the pool; it costs what capturing or bribing the guardian "
            "costs, and takes everything if it is captured.",
    "treasury_type": "holds only if the Governor classifies calls by target (any call reaching the treasury, the "
                     "timelock or a role is Treasury type); a type the proposer names is routed around.",
}
L1_GWEI = 20.0  # Ethereum mainnet, for comparison with the scenarios' L2 default (0.01 gwei)


def paid_share(summary: dict, years: range) -> float | None:
    rows = [r for r in summary["rewards_by_year"] if r["year"] in years and r["paid_share_of_nominal"] is not None]
    return sum(r["paid_share_of_nominal"] for r in rows) / len(rows) if rows else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--years", type=float, default=None, help="override every scenario's horizon")
    ap.add_argument("--seeds", type=int, default=0, help="also run each scenario on this many seeds (1..N) and "
                    "print the final price and the paid share of years 7-10 as mean ± sd")
    args = ap.parse_args()
    figures = {}
    print("| scenario | years | HANZO at the end | total supply | rewards paid | paid / nominal, years 5-6 | "
          "years 7-10 | proposals passed / short of quorum | attack | gas $ per user-day (0.01 gwei / 20 gwei) "
          "| reward $ per user-day |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for name, label in ROWS:
        sc = load(name)
        s = simulate(sc, years=args.years).summary
        g, c = s["governance"], s["costs"]
        l2 = c["gas_usd_per_user_day"]
        l1 = l2 * L1_GWEI / sc["costs"]["gas_price_gwei"] if sc["costs"]["gas_price_gwei"] else 0.0
        mid, late = paid_share(s, range(5, 7)), paid_share(s, range(7, 11))
        years = s["days"] / 365
        attack = g["attack"] if sc["attacker"]["enabled"] else "-"
        print(f"| {label} | {years:g} | ${s['hanzo_price_usd']['final']:.4f} | {s['total_supply'] / 1e6:,.1f}M "
              f"| {s['rewards_paid_total'] / 1e6:,.1f}M | {'-' if mid is None else f'{mid:.0%}'} "
              f"| {'-' if late is None else f'{late:.0%}'} | {g['passed']} / {g['short_of_quorum']} | {attack} "
              f"| ${l2:.5f} / ${l1:.2f} | ${c['reward_usd_per_user_day']:.5f} |")
        figures[name] = {"price_final_usd": s["hanzo_price_usd"]["final"], "total_supply": s["total_supply"],
                         "rewards_paid": s["rewards_paid_total"], "paid_share_years_5_6": mid,
                         "paid_share_years_7_10": late, "passed": g["passed"], "short_of_quorum": g["short_of_quorum"],
                         "attack": attack, "gas_usd_per_user_day_l2": l2, "gas_usd_per_user_day_l1": l1,
                         "reward_usd_per_user_day": c["reward_usd_per_user_day"], "gas_per_day": c["gas_per_day"],
                         "attacker_hanzo": g["attacker_hanzo"]}
    if args.seeds:
        print(f"\n| scenario | HANZO at the end, {args.seeds} seeds | paid / nominal, years 7-10 | total supply |"
              "\n|---|---:|---:|---:|")
        for name, label in ROWS:
            runs = [simulate(load(name), years=args.years, seed=k).summary for k in range(1, args.seeds + 1)]
            price = [r["hanzo_price_usd"]["final"] for r in runs]
            late = [x for x in (paid_share(r, range(7, 11)) for r in runs) if x is not None]
            supply = [r["total_supply"] / 1e6 for r in runs]
            cell = lambda v, f: f"{f(statistics.mean(v))} ± {f(statistics.stdev(v))}" if len(v) > 1 else "-"  # noqa: E731
            print(f"| {label} | {cell(price, lambda x: f'${x:.4f}')} | {cell(late, lambda x: f'{x:.1%}')} "
                  f"| {cell(supply, lambda x: f'{x:,.1f}M')} |")
            figures[f"seeds_{name}"] = {"price_mean": statistics.mean(price), "price_sd": statistics.stdev(price)
                                        if len(price) > 1 else 0.0}
    # the cheapest attack that drains the treasury, by quorum rule (bisection on the budget)
    print("\n| quorum | cheapest attack that drains the treasury | HANZO it buys |\n|---|---:|---:|")
    for rule, name in (("absolute 10M", "governance_attack"), ("4% of stake", "governance_attack_relative_quorum")):
        budget, bought = cheapest_attack(load(name))
        figures[f"cheapest_attack_{name}"] = {"budget_usd": budget, "hanzo": bought}
        print(f"| {rule} | ${budget:,.0f} | {bought / 1e6:,.2f}M |")
    defences = price_defences()
    print("\n| defence | cheapest capture | HANZO it buys | HANZO price at capture | takes within a year "
          "| its USD value | take < cost |\n|---|---:|---:|---:|---:|---:|---|")
    for row in defences:
        print(f"| {row['label']} | ${row['cheapest_capture_usd']:,.0f} | {row['hanzo_bought'] / 1e6:,.2f}M "
              f"| ${row['price_usd']:.4f} | {row['take_hanzo'] / 1e6:,.2f}M | ${row['capture_take_usd']:,.0f} "
              f"| {'yes' if row['capture_take_usd'] < row['cheapest_capture_usd'] else 'no'} |")
    print("| veto (cancel-only guardian) | not priced by the pool | - | - | everything, if captured | - | - |")
    for key, note in NOTES.items():
        print(f"\n{key}: {note}")
    default = next(r for r in defences if r["key"] == DEFAULT_DEFENCE)
    figures["capture_defences"] = {r["key"]: r for r in defences}
    figures["default_defence"] = DEFAULT_DEFENCE
    figures["cheapest_capture_usd"] = default["cheapest_capture_usd"]
    figures["capture_take_usd"] = default["capture_take_usd"]
    print(json.dumps(figures))


def capture(scenario, budget: float) -> dict:
    """One attack with `budget` USD: whether it passed, the HANZO it bought, the treasury it found and
    the highest pool price from its proposal to a year later (what the take is valued at)."""
    r = simulate(scenario.with_overrides(**{"attacker.budget_usd": budget}))
    g, series = r.summary["governance"], r.series
    day = g["attack_day"]
    prices = series["hanzo_price_usd"].iloc[max(day, 0):day + 366]
    return {"passed": g["attack"].startswith("passed"), "hanzo_bought": g["attacker_hanzo"],
            "price_usd": float(prices.max()), "treasury_hanzo": float(series["treasury"].iloc[max(day, 0)])}


def cheapest_capture(scenario, low: float = 1e3, high: float = 2e7, steps: int = 18) -> dict:
    """The least budget (to within (high - low) / 2**steps) whose attack passes, with capture()'s figures."""
    best = capture(scenario, high)
    if not best["passed"]:
        return {"budget_usd": float("inf"), **best}
    for _ in range(steps):
        mid = (low + high) / 2
        run = capture(scenario, mid)
        if run["passed"]:
            high, best = mid, run
        else:
            low = mid
    return {"budget_usd": high, **best}


def take_within_a_year(params, treasury_hanzo: float, rate_limited: bool) -> float:
    """HANZO a capture takes out of the treasury within a year: all of it, or (HanzoTreasury) at most
    hanzo.econ.treasury.max_take of a year, the bucket full at capture."""
    if not rate_limited:
        return treasury_hanzo
    return min(treasury_hanzo, max_take(params, YEAR) / WEI)


def price_defences(bounds: dict[str, tuple[float, float]] | None = None, steps: int = 18,
                   keys: tuple[str, ...] | None = None) -> list[dict]:
    """The cheapest capture under each candidate of DEFENCES (or those named in `keys`) and what it
    takes within a year, in USD. `bounds` narrows the bisection per candidate (tests use it to run fast)."""
    rows, cache = [], {}
    for key, label, name, overrides, limited in DEFENCES:
        if keys is not None and key not in keys:
            continue
        scenario = load(name).with_overrides(**overrides) if overrides else load(name)
        cache_key = (name, tuple(sorted(overrides.items())))
        if cache_key not in cache:
            low, high = (bounds or {}).get(key, (1e3, 2e8 if overrides else 2e7))
            cache[cache_key] = cheapest_capture(scenario, low, high, steps)
        c = cache[cache_key]
        take = take_within_a_year(scenario.tokenomics, c["treasury_hanzo"], limited)
        rows.append({"key": key, "label": label, "cheapest_capture_usd": c["budget_usd"],
                     "hanzo_bought": c["hanzo_bought"], "price_usd": c["price_usd"], "take_hanzo": take,
                     "capture_take_usd": take * c["price_usd"]})
    return rows


def cheapest_attack(scenario, low: float = 1e3, high: float = 2e7, steps: int = 18) -> tuple[float, float]:
    """The least budget (to within (high - low) / 2**steps) whose attack passes."""
    def run(budget):
        s = simulate(scenario.with_overrides(**{"attacker.budget_usd": budget})).summary["governance"]
        return s["attack"].startswith("passed"), s["attacker_hanzo"]

    if not run(high)[0]:
        return float("inf"), 0.0
    for _ in range(steps):
        mid = (low + high) / 2
        low, high = (low, mid) if run(mid)[0] else (mid, high)
    return high, run(high)[1]


if __name__ == "__main__":
    main()
