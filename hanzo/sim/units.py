"""Figures as people read them: with their unit and the digits they need.

The report and the CLI print every summary figure through `figure(key, value)`. A fixed number of
decimals hides the small figures this economy has (a compute price of 0.0003 HANZO a credit, gas
of $0.004 a user-day), so numbers keep four significant digits instead; totals of a thousand and
more print whole, with separators (592,739,495 HANZO).
"""

from __future__ import annotations

import math

# The unit of each summary figure (hanzo/sim/run.py names them), looked up by the full dotted key,
# then by the table it sits in, then by its own name. "$" prints before the number, "%" multiplies
# a share by 100, "day" prints as "day N"; any other unit follows the number.
UNITS = {
    **dict.fromkeys(("total_supply", "circulating_supply", "minted", "emitted", "burned", "burned_by_source",
                     "staked", "treasury", "training_pool_remaining", "rewards_paid_total", "rewards_paid",
                     "deposits_burned", "treasury_drained", "attacker_hanzo", "pool_hanzo", "unmet_hanzo_buys",
                     "sell_backlog", "tail_emitted", "recycled_inference_fees", "training_fees", "fork_stake",
                     "speculators.spent", "speculators.received", "farmers.paid"), "HANZO"),
    **dict.fromkeys(("hanzo_price_usd", "attack_cost_usd", "pool_usd", "pool_volume_usd"), "$"),
    **dict.fromkeys(("wealth_top_1pct_share", "wealth_top_10pct_share", "users_share", "proposers_share",
                     "attacker_share", "top_1pct_users_share", "top_10pct_users_share", "left_share", "voters_share",
                     "turnout_share"), "%"),
    **dict.fromkeys(("users_joined", "users_left"), "users"),
    **dict.fromkeys(("mean_utilization", "paid_share_of_nominal", "gas_share_of_reward", "relative_quorum",
                     "inference_fee_share", "training_fee_burn_share", "boost_stake_share"), "%"),
    **dict.fromkeys(("farmers.peak", "farmers.final"), "farmers"),
    **dict.fromkeys(("users_final", "users_churned", "users_max"), "users"),
    "sell_share": "%",
    "clipped": "%",  # per trait key: the share of its rows' draws clipped to the key's bounds
    "growth_per_day": "per day",
    **dict.fromkeys(("days", "rewards_rationed_days"), "days"),
    **dict.fromkeys(("emission_exhausted_day", "attack_day"), "day"),
    "gas_usd_per_day": "$ per day",
    "gas_usd_per_user_day": "$ per user-day",
    "reward_usd_per_user_day": "$ per user-day",
    "gas_per_day": "gas per day",
    "final_price_hanzo_per_credit": "HANZO per credit",
    "interactions_per_day": "interactions per day",
    "tail_emission_per_year": "HANZO per year",
    "fine_tuning_fee": "HANZO per interaction",
    "base_model_epoch_fee": "HANZO per epoch",
    "base_model_epochs_per_month": "epochs per month",
    "credits_held": "credits",
    "holdings": "HANZO",
    "earned_hanzo": "HANZO",  # per strategy: what its rows earned, their work and what a unit of it earned
    "hanzo_per_interaction": "HANZO per interaction",
    "interactions": "interactions",
    "hours_of_work": "hours",
    "earned_usd": "$",
    "hanzo_per_hour": "HANZO per hour",
    "usd_per_hour": "$ per hour",
    "minutes_per_interaction": "minutes per interaction",
    "compute_income_hanzo": "HANZO",
    "fork_boost_final": "x",
    **dict.fromkeys(("seed", "year"), "id"),  # identifiers: no separators
}


def significant(v: float, digits: int = 4) -> str:
    """`v` to `digits` significant digits (0.0003012, 0.08014, 130.5), whole with separators from
    10**(digits - 1) on (4,351,134,553), trailing zeros dropped (1, not 1.000)."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}" if v else "0"
    if abs(v) < 1e-6:
        return f"{v:.{digits}g}"  # 3.2e-07: a string of zeros reads worse
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit(key: str) -> str | None:
    parts = key.split(".")
    for name in (key, *parts[-2:-1], parts[-1]):
        if name in UNITS:
            return UNITS[name]
    return None


def suffix(key: str) -> str:
    """The unit a figure at `key` prints after its number ("HANZO", "per user-day"), or ""."""
    u = unit(key) or ""
    return "" if u in ("%", "x", "day", "id") else u.removeprefix("$").strip()


def figure(key: str, v, with_suffix: bool = True) -> str:
    """The summary figure `v` at `key` (a dotted path, e.g. "costs.gas_usd_per_user_day") as text;
    without its suffix where a table's heading names the unit."""
    u = unit(key)
    if u == "day":  # a day of the run, or none (-1 and None: it never happened)
        return "none" if v is None or v < 0 else f"day {v:,}"
    if v is None:
        return "none"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if u == "id":
        return str(v)
    if u == "%":
        return f"{significant(100 * v, 3)}%"
    text = f"{v:,}" if isinstance(v, int) else significant(v)
    if u == "x":
        return f"x{text}"
    if u is not None and u.startswith("$"):
        text = f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return f"{text} {suffix(key)}" if with_suffix and suffix(key) else text
