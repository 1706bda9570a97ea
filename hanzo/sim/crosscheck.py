"""The World checked against the contracts: one scenario and seed run by both executors over the
same population, and every headline figure compared day by day.

Chain mode (hanzo.sim.onchain) runs the scenario's population scaled to its accounts (the adoption
curve's ceiling at the chain's `users`, the initial users scaled alike), and the World is run at that
same scale.
Both then release the same emission, pay training by the contract's rule, stake, sell into
HanzoPool, and buy and redeem compute credits; what they share is the scenario, its seed and the
policies (hanzo.sim.agents). Where they differ, the table says by how much, and `EXPLAINED` says
why for the figures whose difference is a known difference of the two executors, not an error.

A figure on each side means the same thing (the chain's HanzoTreasury holds the Community
Treasury, the Compute Providers pool and the mint fees, so the World's `treasury` here is the sum
of those three accounts; `staked` is the users' stake on both sides: the proposers' stake (chain
mode's model developer) is not the users', nor is the governance attacker's, on either side).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .scenario import Scenario
from .world import World

# (figure, the World's value from its ledger and market after a day, the chain run's row key)
FIGURES = (
    ("users", lambda w: w.users.active, "users"),
    ("total_supply", lambda w: w.ledger.minted - sum(w.ledger.burned().values()), "total_supply"),
    ("emitted", lambda w: w.supply.emitted, "emitted"),
    ("burned", lambda w: sum(w.ledger.burned().values()), "burned"),
    ("staked_by_users", lambda w: w.ledger["stake_holders"] + w.ledger["unstaking"], "staked"),
    ("training_pool", lambda w: w.ledger["training_pool"], "reward_pool"),
    ("treasury", lambda w: w.ledger["treasury"] + w.ledger["compute_pool"], "treasury"),
    ("rewards_paid", None, "rewards_paid"),  # to date: a day's pay is one draw of many on chain
    ("hanzo_price_usd", lambda w: w.price_usd, "hanzo_price_usd"),
    ("price_7b", lambda w: float(w.market.price[0]), "price_7b"),
    ("market_maker_reserve", lambda w: w.market.reserve, "market_maker_reserve"),
)

# Why a figure differs between the executors, for the differences that are the executors' and not an error.
EXPLAINED = {
    "burned": "a failed proposal's deposit is burned the day it is made in the World and after its vote on chain "
              "(HanzoGovernor's voting delay and period: 8 days later), chain mode's model developer mints forks "
              "too (a mint fee burned for each: one, and another for each max_interactions_per_fork_day of a "
              "day's training on developers' models), and low-quality work is drawn per op on chain (the World "
              "burns its expected share)",
    "rewards_paid": "(to date) each account's activity is its World row's (the same draws from the World's users "
                    "stream while the two populations grow alike, and the same leavers while the day's chance of "
                    "leaving agrees), but chain mode draws "
                    "its interactions (Poisson) and multiplier per op (a strategy's pay rounded to a whole "
                    "multiplier at random, its low-quality ops drawn op by op); the World pays the mean multiplier "
                    "on each row's expected interactions",
    "staked_by_users": "follows rewards_paid: each side stakes its share of what it paid",
    "training_pool": "follows rewards_paid (what the pool paid out)",
    "hanzo_price_usd": "the World's providers sell half of the Compute Providers pool's daily release; chain mode's "
                       "provider sells half of what governance paid it from the pool, which is ten days late and at "
                       "most HanzoTreasury's bucket (see treasury); the rest follows each side's own rewards and "
                       "credits",
    "price_7b": "follows hanzo_price_usd: demand answers a credit's USD price, so the controller holds that where "
                "demand meets the providers' capacity and a credit's HANZO price moves against HANZO's; besides, "
                "each account buys and spends whole credits (rounded at random about the World's continuous "
                "demand) at the price it sees after the accounts before it have bought",
    "market_maker_reserve": "follows price_7b and so hanzo_price_usd: on both sides the reserve is the holders' "
                            "bases, the HANZO paid for the credits held; the credits held agree (each account's "
                            "whole credits rounded at random about the World's demand), but they were bought at "
                            "each side's HANZO price of a credit, which moves against HANZO's USD price (100 "
                            "accounts for a year: the reserve 0.20 apart on the last day, HANZO's price 0.20; 0.004 "
                            "and 0.014 where HanzoTreasury's limit lets the provider be paid the World's release)",
    "total_supply": "follows burned",
    "treasury": "the World's providers take 1/365 of the Compute Providers pool a day; on chain that pool sits in "
                "HanzoTreasury and governance pays the provider the same 1/365 a day, each payment executed ten days "
                "after it is proposed (voting delay, voting period, timelock) and cut to what the treasury's bucket "
                "lets out (treasury_release_limit per treasury_release_period: by default 200,000 HANZO per 30 "
                "days, about 2.6M in a year against the World's 14.8M), the rest waiting in the treasury (and the "
                "developer's forks add their mint fees); a governance attacker who wins takes the World's bucket "
                "from the day of its vote, and on chain through a proposal a day, each executed ten days later and "
                "sharing the one bucket with the providers' payments",
    "emitted": "floating-point rounding of the World's float emission (the chain's is exact)",
}


def at_chain_scale(scenario: Scenario, users: int) -> Scenario:
    """The scenario at chain mode's scale: its adoption curve with `users` as the ceiling and the
    initial users scaled alike (hanzo.sim.onchain.starting_users), as chain mode grows its accounts."""
    from .onchain import starting_users

    return scenario.with_overrides(where="chain scale", **{"users.initial": starting_users(scenario, users),
                                                           "users.max": users})


def world_rows(scenario: Scenario, users: int, days: int) -> list[dict]:
    """The World at chain scale, the headline figures after each of `days` days."""
    w = World(at_chain_scale(scenario, users))
    w.start()
    rows, paid = [], 0.0
    for day in range(1, days + 1):
        w.env.run(until=day)
        # the recorder (the day's last process) reset the day's flows after recording them: read its row
        paid += w.rows[-1]["rewards_paid"]
        rows.append({"day": day, **{name: read(w) for name, read, _ in FIGURES if read is not None},
                     "rewards_paid": paid})
    return rows


@dataclass
class Comparison:
    table: pd.DataFrame  # a row a day: each figure's World and chain values and their relative difference
    max_rel_diff: dict[str, float]  # each figure's largest relative difference over the days

    def last_day(self) -> dict[str, tuple[float, float, float]]:
        """Each figure's (World, chain, relative difference) on the last day."""
        if not len(self.table):
            return {}
        row = self.table.iloc[-1]
        return {name: (float(row[f"{name}_world"]), float(row[f"{name}_chain"]), float(row[f"{name}_rel_diff"]))
                for name, _, _ in FIGURES}

    @property
    def largest(self) -> tuple[str, float]:
        name = max(self.max_rel_diff, key=self.max_rel_diff.get)
        return name, self.max_rel_diff[name]


def rel_diff(world: float, chain: float) -> float:
    """|chain - world| relative to the larger of the two (0 when both are 0)."""
    scale = max(abs(world), abs(chain))
    return abs(chain - world) / scale if scale else 0.0


def compare(world: list[dict], chain: list[dict]) -> Comparison:
    """Day by day, each figure's World and chain values and their relative difference."""
    if len(world) != len(chain):
        raise ValueError(f"the World ran {len(world)} days and the chain {len(chain)}: compare the same horizon")
    rows, paid = [], 0.0
    for w, c in zip(world, chain):
        paid += c["rewards_paid"]  # the chain run's rows hold each day's pay; the World's, pay to date
        c = {**c, "rewards_paid": paid}
        row = {"day": w["day"]}
        for name, _, key in FIGURES:
            row[f"{name}_world"], row[f"{name}_chain"] = w[name], c[key]
            row[f"{name}_rel_diff"] = rel_diff(w[name], c[key])
        rows.append(row)
    table = pd.DataFrame(rows)
    worst = {name: float(table[f"{name}_rel_diff"].max()) if len(table) else 0.0 for name, _, _ in FIGURES}
    return Comparison(table, worst)


__all__ = ["EXPLAINED", "FIGURES", "Comparison", "at_chain_scale", "compare", "rel_diff", "world_rows"]
