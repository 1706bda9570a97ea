"""Run a scenario and write its results: the daily series (Parquet), summary.json, plots, report.

The same scenario and seed give byte-identical files: every random stream comes from the seed,
the processes wake in a fixed order, and no file carries a timestamp.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import agents
from .ledger import UNIT
from .scenario import SPEC, Scenario
from .world import World, gini, hanzo


@dataclass
class Result:
    scenario: Scenario
    series: pd.DataFrame
    summary: dict


def simulate(scenario: Scenario, *, years: float | None = None, seed: int | None = None,
             progress: bool = False) -> Result:
    """Run `scenario` (optionally for another horizon or seed) and return its series and summary."""
    # each named by its option, so a bad value is not blamed on the scenario's file
    if years is not None:
        scenario = scenario.with_overrides(where="--years", **{"scenario.years": years})
    if seed is not None:
        scenario = scenario.with_overrides(where="--seed", **{"scenario.seed": seed})
    world = World(scenario)
    days = scenario.days
    if progress:
        from tqdm import tqdm

        with tqdm(total=days, unit="day", desc=scenario.name, mininterval=0.5) as bar:
            world.run(days, bar.update)
    else:
        world.run(days)
    series = pd.DataFrame(world.rows)
    world.strategies.warn_clipped()  # once a run, from all its rows' draws
    return Result(scenario, series, summarize(world, series))


def summarize(world: World, series: pd.DataFrame) -> dict:
    """Every headline number of a run."""
    s, last = world.s, series.iloc[-1]
    p = world.p
    done = series.index[series["emitted"] >= hanzo(p.max_emission) * (1 - 1e-12)]
    tiers = {}
    for name, _ in p.inference_tiers:
        key = name.lower().replace("-", "_")
        tiers[name] = {
            "final_price_hanzo_per_credit": float(last[f"price_{key}"]),
            "mean_utilization": float(series[f"utilization_{key}"].mean()),
        }
    return {
        "scenario": s.name,
        "seed": s["scenario"]["seed"],
        "days": int(len(series)),
        "choices": {"emission_mode": p.emission_mode, "burn_mode": p.burn_mode,
                    "controller": s["scenario"]["controller"]},
        "users_final": int(last["users"]),
        "users_waiting_peak": int(series["users_waiting"].max()),  # for their fork's fee
        "conserved": world.conserved,
        "total_supply": float(last["total_supply"]),
        "circulating_supply": float(last["circulating_supply"]),
        "minted": float(last["minted"]),
        "emitted": float(last["emitted"]),
        "burned": float(last["burned"]),
        "burned_by_source": {k[len("burned_"):]: float(last[k]) for k in series.columns if k.startswith("burned_")},
        "staked": float(last["staked"]),
        "treasury": float(last["treasury"]),
        "training_pool_remaining": float(last["training_pool"]),
        "emission_exhausted_day": int(series.loc[done[0], "day"]) if len(done) else None,
        "rewards_rationed_days": int(world.rationed_days),
        "hanzo_price_usd": {"final": float(last["hanzo_price_usd"]), "min": float(series["hanzo_price_usd"].min()),
                            "max": float(series["hanzo_price_usd"].max())},
        "compute": tiers,
        "rewards_paid_total": float(series["rewards_paid"].sum()),
        "reward_gini": gini(world.users.earned_active()),  # what each active user earned since it joined
        "wealth_gini": gini(world.users.holdings()),  # the HANZO each user holds (wallet, stakes), leavers too
        **_distribution(world),
        "rewards_by_year": _rewards_by_year(series),
        "policy": dict(s["policy"]),
        "fees": {"tail_emitted": world.supply.tail_emitted, "recycled_inference_fees": world.supply.recycled_fees,
                 "training_fees": world.supply.training_fees, "fork_stake": world.fork_stake,
                 "fork_boost_final": world.boost},
        "costs": _costs(series, s["costs"]),
        "farmers": {"peak": float(series["farmers"].max()), "final": float(last["farmers"]),
                    "paid": float(last["farm_paid"])},
        "users_churned": world.churned,
        **({"strategies": world.strategies.summary(world.users)} if world.strategies.mixed else {}),
        # per trait key, the share of its rows' draws clipped to the key's bounds (none clipped: no entry)
        **({"clipped": clipped} if (clipped := world.strategies.clipped()) else {}),
        **({"drawn": drawn(s)} if uncertain(s) else {}),
        "speculators": {"spent": world.speculator_spent, "received": world.speculator_received,
                        "credits_held": float(world.market.holding("speculators").sum())},
        "governance": {"proposals": world.gov.proposals, "passed": world.gov.passed,
                       "short_of_quorum": world.gov.short_of_quorum, "quorum_mode": s["policy"]["quorum"],
                       "defeated": world.gov.defeated, "deposits_burned": world.gov.deposits_burned,
                       "attack": world.gov.attack, "attack_day": world.gov.attack_day,
                       "treasury_drained": world.gov.treasury_drained, "attack_cost_usd": world.gov.attack_cost_usd,
                       "attacker_hanzo": world.attacker_bought,
                       **({"turnout_share": world.gov.votes_cast / world.gov.votes_staked if world.gov.votes_staked
                           else None} if world.strategies.voter is not None else {})},
        "market": {"pool_hanzo": world.pool.hanzo, "pool_usd": world.pool.usd, "pool_volume_usd": world.pool.volume_usd,
                   "unmet_hanzo_buys": float(series["unmet_hanzo_buys"].sum()),
                   "refused_hanzo_buys": float(series["refused_hanzo_buys"].sum()),
                   "credits_unfunded_days": int((series["credits_unfunded"] > 0).sum()),
                   # what the users paid for redeeming past the target share of capacity (docs/congestion.md)
                   "congestion_charges": float(series["congestion_charges"].sum()),
                   "sell_backlog": world.sell_backlog},
    }


def uncertain(s: Scenario) -> bool:
    """Whether the run drew anything ([uncertainty] set; the reversion alone is refused)."""
    return any(v != SPEC["uncertainty"][k][3] for k, v in s["uncertainty"].items())


def drawn(s: Scenario) -> dict:
    """The figures this run drew once ([uncertainty] *_spread: the scenario's own where a spread is 0)."""
    u = s["users"]
    return {"growth_per_day": u["growth_per_day"], "users_max": u["max"], "sell_share": u["sell_share"]}


def top_share(values: np.ndarray, share: float) -> float:
    """What the largest `share` of the values (at least one) hold, as a share of their sum."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or v.sum() <= 0:
        return 0.0
    k = max(1, int(v.size * share))
    return float(np.partition(v, v.size - k)[v.size - k:].sum() / v.sum())


def _distribution(world: World) -> dict:
    """Who holds what at the end, from the users' wallets: the top 1% and 10% of users' share of
    the users' HANZO; who holds the votes (staked HANZO: the users, the proposers, an attacker, and
    the top users' share of all of it); and per year of joining, how many users left by the end."""
    users, ledger = world.users, world.ledger
    holdings = users.holdings()
    votes = world.staked_total
    stake = users.rows_of("stake").astype(np.float64) / UNIT

    def users_top(share: float) -> float:  # of all votes, not only the users'
        return top_share(stake, share) * float(stake.sum()) / votes if votes else 0.0

    joined, left = users.rows_of("joined"), users.rows_of("left")
    cohorts = []
    for year in range(int(joined.max()) // 365 + 1 if joined.size else 0):
        mine = (joined // 365) == year
        n, gone = int(mine.sum()), int((left[mine] >= 0).sum())
        cohorts.append({"year": year + 1, "users_joined": n, "users_left": gone,
                        "left_share": gone / n if n else None})
    return {
        "wealth_top_1pct_share": top_share(holdings, 0.01),
        "wealth_top_10pct_share": top_share(holdings, 0.10),
        "votes": {"users_share": ledger["stake_holders"] / votes if votes else 0.0,
                  "proposers_share": ledger["stake_developers"] / votes if votes else 0.0,
                  "attacker_share": ledger["stake_attacker"] / votes if votes else 0.0,
                  "top_1pct_users_share": users_top(0.01), "top_10pct_users_share": users_top(0.10),
                  **({"voters_share": voters_share(world, stake, votes)} if world.strategies.voter is not None
                     else {})},
        "churn_by_cohort": cohorts,
    }


def voters_share(world: World, stake: np.ndarray, votes: float) -> float:
    """The voter rows' share of all votes (staked HANZO), from their rows (`stake`: each user row's, HANZO)."""
    st = world.strategies
    mine = st.kind[:len(stake)] == st.voter
    return float(stake[mine].sum()) / votes if votes else 0.0


def _rewards_by_year(series: pd.DataFrame) -> list[dict]:
    """Per year: the interactions a day, and the share of the contract's nominal reward the pool
    actually paid (1: never rationed; 0: the pool was empty)."""
    out = []
    for year, days in series.groupby(series["day"] // 365):
        nominal = float(days["rewards_nominal"].sum())
        out.append({"year": int(year) + 1, "interactions_per_day": float(days["interactions"].mean()),
                    "rewards_paid": float(days["rewards_paid"].sum()),
                    "paid_share_of_nominal": float(days["rewards_paid"].sum()) / nominal if nominal else None})
    return out


def _costs(series: pd.DataFrame, costs: dict) -> dict:
    """What putting the day's training ops on chain costs, against what they pay, per user-day."""
    user_days = float(series["users"].sum())
    gas_usd = agents.gas_usd(series["gas"], costs)
    reward_usd = series["rewards_paid"] * series["hanzo_price_usd"]
    return {"gas_per_day": float(series["gas"].mean()), "gas_usd_per_day": float(gas_usd.mean()),
            "gas_usd_per_user_day": float(gas_usd.sum()) / user_days if user_days else 0.0,
            "reward_usd_per_user_day": float(reward_usd.sum()) / user_days if user_days else 0.0,
            "gas_share_of_reward": float(gas_usd.sum() / reward_usd.sum()) if reward_usd.sum() else None}


def write(result: Result, out: Path) -> dict[str, Path]:
    """Write series.parquet, summary.json, the plots and report.html into `out`."""
    from .report import plots, render_html

    out.mkdir(parents=True, exist_ok=True)
    files = {"series": out / "series.parquet", "summary": out / "summary.json"}
    result.series.to_parquet(files["series"], index=False)
    files["summary"].write_text(json.dumps(_jsonable(result.summary), indent=2, sort_keys=True) + "\n")
    files.update(plots(result.series, result.summary, out))
    files["report"] = render_html(result, files, out)
    return files


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):  # rewards_by_year's rows
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        # six decimals, and at least six significant digits below 0.1 (a $0.0000031 price is not 3e-06)
        v = float(value)
        small = math.isfinite(v) and 0 < abs(v) < 0.1
        return round(v, 5 - math.floor(math.log10(abs(v))) if small else 6)
    if isinstance(value, np.integer):
        return int(value)
    return value
