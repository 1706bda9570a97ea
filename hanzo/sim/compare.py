"""Scenarios side by side: a table of their headline figures, with units, and their price and supply
overlaid in one plot.

Each scenario runs exactly as `hanzo simulate` would run it (its own seed unless --seed names one,
the same --years and --set for all), so a column of the table is what simulate prints for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .run import Result, simulate
from .scenario import ScenarioError, load
from .units import figure, suffix

# name -> (the figure's dotted key in a run's summary, what the table calls it). The sensitivity
# analysis reads its outputs from the same list, so both commands name a figure the same way.
HEADLINES = {
    "days": ("days", "days simulated"),  # each scenario's own horizon unless --years names one
    "users": ("users_final", "users, final"),
    "price": ("hanzo_price_usd.final", "HANZO price, final"),
    "price_min": ("hanzo_price_usd.min", "HANZO price, lowest"),
    "price_max": ("hanzo_price_usd.max", "HANZO price, highest"),
    "total_supply": ("total_supply", "total supply"),
    "circulating_supply": ("circulating_supply", "circulating supply"),
    "burned": ("burned", "burned"),
    "staked": ("staked", "staked"),
    "treasury": ("treasury", "treasury"),
    "rewards_paid": ("rewards_paid_total", "rewards paid"),
    "reward_gini": ("reward_gini", "reward Gini"),
    # who holds the HANZO and who holds the votes at the end (hanzo.sim.run._distribution)
    "wealth_gini": ("wealth_gini", "wealth Gini"),
    "wealth_top_1pct": ("wealth_top_1pct_share", "top 1% of users' share of their HANZO"),
    "wealth_top_10pct": ("wealth_top_10pct_share", "top 10% of users' share of their HANZO"),
    "votes_users": ("votes.users_share", "users' share of the votes"),
    "votes_top_1pct": ("votes.top_1pct_users_share", "top 1% of users' share of the votes"),
    "votes_top_10pct": ("votes.top_10pct_users_share", "top 10% of users' share of the votes"),
    "votes_proposers": ("votes.proposers_share", "proposers' share of the votes"),
    "votes_attacker": ("votes.attacker_share", "attacker's share of the votes"),
    "reward_per_user_day": ("costs.reward_usd_per_user_day", "rewards per user-day"),
    "gas_per_user_day": ("costs.gas_usd_per_user_day", "gas per user-day"),
    "emission_exhausted": ("emission_exhausted_day", "emission exhausted"),
    "attack": ("governance.attack", "governance attack"),
}


def lookup(summary: dict, dotted: str) -> Any:
    """The summary figure at a dotted key ("costs.gas_usd_per_user_day")."""
    value: Any = summary
    for part in dotted.split("."):
        value = value[part]
    return value


@dataclass
class Comparison:
    labels: list[str]  # one per scenario: its name, numbered where two share one
    results: list[Result]

    def table(self) -> pd.DataFrame:
        """The headline figures as numbers: a row per figure, a column per scenario."""
        rows = {name: [lookup(r.summary, key) for r in self.results] for name, (key, _) in HEADLINES.items()}
        return pd.DataFrame.from_dict(rows, orient="index", columns=self.labels)

    def lines(self) -> list[str]:
        """The table as printed: each figure's unit in its row's label ($ before the number)."""
        cells = [["", *self.labels]]
        for key, label in HEADLINES.values():
            named = f"{label} ({suffix(key)})" if suffix(key) and suffix(key) not in label else label
            cells.append([named, *(figure(key, lookup(r.summary, key), with_suffix=False) for r in self.results)])
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        # labels left, figures right, so digits line up
        return ["  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:]))]).rstrip()
                for row in cells]


def compare(names: list[str], *, years: float | None = None, seed: int | None = None,
            settings: dict[str, Any] | None = None, progress: bool = False) -> Comparison:
    """Run each named scenario (a built-in name or a TOML file) with the same horizon and overrides."""
    if len(names) < 2:
        raise ScenarioError(f"compare: expected at least two scenarios, got {len(names)}")
    # every scenario is loaded and checked before the first one runs: a typo fails at once
    scenarios = [load(n).with_overrides(where="--set", **settings) if settings else load(n) for n in names]
    results = [simulate(sc, years=years, seed=seed, progress=progress) for sc in scenarios]
    labels = []
    for r in results:
        label = r.scenario.name
        labels.append(label if label not in labels else f"{label} ({len(labels) + 1})")
    return Comparison(labels, results)


def write(c: Comparison, out: Path) -> dict[str, Path]:
    """compare.csv (the table's numbers) and compare.png (price and supply overlaid)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"table": out / "compare.csv", "plot": out / "compare.png"}
    table = c.table()
    table.insert(0, "figure", [label for _, label in HEADLINES.values()])
    table.insert(1, "key", [key for key, _ in HEADLINES.values()])
    table.to_csv(files["table"], index_label="name")
    _plot(c, files["plot"])
    return files


def _plot(c: Comparison, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (price, supply) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, r in zip(c.labels, c.results):
        years = r.series["day"] / 365.0
        line = price.plot(years, r.series["hanzo_price_usd"], label=label)[0]
        supply.plot(years, r.series["total_supply"] / 1e6, color=line.get_color(), label=label)
        supply.plot(years, r.series["circulating_supply"] / 1e6, color=line.get_color(), linestyle="--")
    price.set_yscale("log")  # prices of different scenarios differ by orders of magnitude
    price.set_ylabel("USD per HANZO")
    price.set_title("HANZO price")
    supply.set_ylabel("million HANZO")
    supply.set_title("Supply (solid: total, dashed: circulating)")
    for ax in (price, supply):
        ax.set_xlabel("year")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})  # no version or date: same run, same bytes
    plt.close(fig)
