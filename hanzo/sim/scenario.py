"""Scenarios: a TOML file per economic story, validated before anything runs.

A scenario has a [scenario] table (name, horizon, seed, controller), a [tokenomics] table that
overrides hanzo.econ.params (the same keys and units as `hanzo deploy --params`), and one table
per group of agents. Every key is known, typed and bounded: an unknown key, a wrong type or an
out-of-range value raises ScenarioError naming the file, the table, the key and what was expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hanzo.econ.params import ParameterError, Tokenomics, from_mapping

from .strategies import BOUNDS, PAY_LIMIT, REGISTRY, TRAITS, distribution, resolve

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file, table and key."""


# table -> key -> (type, low, high, default, meaning). type: int, float, bool, str or a tuple of choices.
SPEC: dict[str, dict[str, tuple]] = {
    "scenario": {
        "name": (str, None, None, "baseline", "what the report calls this scenario"),
        "description": (str, None, None, "", "one line on the story"),
        "years": (float, 1 / 365, 100.0, 10.0, "horizon in years (365-day)"),
        "seed": (int, 0, 2**63 - 1, 1, "master seed of every random stream"),
        "controller": (("leapfrog", "eip1559"), None, None, "leapfrog", "compute price controller"),
    },
    "users": {
        "initial": (int, 0, 100_000_000, 10_000, "active users on day 0"),
        "max": (int, 1, 100_000_000, 1_000_000, "adoption ceiling (logistic)"),
        "growth_per_day": (float, 0.0, 1.0, 0.01, "logistic growth rate per day"),
        "interactions_per_day": (float, 0.0, 10_000.0, 20.0, "mean training interactions of a user per day"),
        "activity_sigma": (float, 0.0, 3.0, 1.0, "lognormal spread of activity across users"),
        "low_quality_share": (float, 0.0, 1.0, 0.1, "share of updates scored low-quality (reward burned)"),
        "mean_multiplier": (float, 1.0, 10.0, 3.0, "mean quality multiplier of accepted updates"),
        "developer_model_share": (float, 0.0, 1.0, 0.5, "share of training on developers' models (the rest on own forks)"),
        "sell_share": (float, 0.0, 1.0, 0.5, "share of earned HANZO sold at once"),
        "stake_share": (float, 0.0, 1.0, 0.25, "share of earned HANZO staked"),
        "fork_performance": (int, 0, 1000, 50, "base-model performance score of the forks users mint"),
        "inference_credits_per_day": (float, 0.0, 1e6, 50.0, "mean compute credits a user consumes per day"),
        "price_elasticity": (float, 0.0, 10.0, 1.2, "demand elasticity to the USD price of compute"),
        "max_demand_multiple": (float, 1.0, 1000.0, 10.0, "most cheap compute multiplies a user's base demand"),
    },
    "compute": {
        "tier_mix": (str, None, None, "0.7,0.25,0.05", "share of credits per tier (7B, 32B, 175B)"),
        "capacity_headroom": (float, 0.1, 10.0, 1.25, "initial capacity / initial demand"),
        "capacity_response": (float, 0.0, 1.0, 0.05, "daily capacity growth per unit of utilization above target"),
        "buffer_days": (float, 0.0, 30.0, 2.0, "days of demand users hold as credits"),
        "shock_day": (int, 0, 36_500, 0, "day demand jumps (0: no shock)"),
        "shock_factor": (float, 0.0, 100.0, 1.0, "demand multiplier from shock_day on"),
    },
    "market": {
        "daily_volatility": (float, 0.0, 1.0, 0.02, "daily log-price noise"),
        "jump_probability": (float, 0.0, 1.0, 0.01, "daily chance of a jump"),
        "jump_size": (float, 0.0, 0.99, 0.2, "relative size of a jump (down or up)"),
        "max_slippage": (float, 0.001, 1.0, 0.05, "most a day's sells (or buys) move the pool price; the rest waits"),
        "external_venues": (bool, None, None, False, "other venues exist, and arbitrageurs trade the pool toward "
                                                     "their price (a random walk); false: the pool is the only market"),
        "arbitrage_speed": (float, 0.0, 1.0, 0.3, "with external_venues: share of the log gap arbitrageurs close a day"),
        "team_sell_share": (float, 0.0, 1.0, 0.5, "share of vested team tokens sold"),
    },
    "staking": {
        "unstake_per_day": (float, 0.0, 1.0, 0.001, "share of stake requested for unstaking each day"),
    },
    "governance": {
        "proposals_per_month": (float, 0.0, 100.0, 2.0, "honest proposals per 30 days"),
        "pass_probability": (float, 0.0, 1.0, 0.6, "chance an honest proposal passes"),
        "turnout": (float, 0.0, 1.0, 0.3, "share of staked HANZO that votes"),
        "developer_stake_share": (float, 0.0, 1.0, 0.2, "share of the Model Developers allocation staked by proposers"),
    },
    # How agents respond (hanzo/sim/agents.py); every response is off at its default.
    "agents": {
        "reservation_usd_per_interaction": (float, 0.0, 1000.0, 0.0, "USD a paid interaction must be worth for users "
                                            "to train, join and stay as usual (0: they do regardless)"),
        "reward_elasticity": (float, 0.0, 10.0, 1.0, "how steeply training and adoption fall below the reservation"),
        "churn_per_day": (float, 0.0, 1.0, 0.0, "share of users leaving a day when a paid interaction is worth nothing"),
        "reservation_spread": (float, 0.0, 3.0, 0.0, "lognormal spread (mean 1) of each user's own reservation wage "
                               "around the scenario's, per day of its usual work (0: every user has the same per "
                               "interaction)"),
        "momentum_response": (float, 0.0, 100.0, 0.0, "how much more holders sell per unit of 30-day log price fall"),
        "spam_leak": (float, 0.0, 1.0, 0.0, "share of junk the oracle accepts (paid at multiplier 1)"),
        "spam_max_share": (float, 0.0, 1.0, 0.5, "most of all interactions junk reaches when it pays"),
        "provider_cost_usd_per_credit": (float, 0.0, 1e6, 0.0, "providers' USD cost per credit of the first tier "
                                         "(7B) served, the others' in proportion to their base prices (0: capacity "
                                         "follows utilization only)"),
        "speculator_budget_per_day": (float, 0.0, 1e9, 0.0, "HANZO speculators put into compute credits a day "
                                      "while a tier's price is pushed up (0: no speculators)"),
        "speculator_hold_days": (float, 1.0, 365.0, 7.0, "days over which speculators sell a position back"),
        "farmers_max": (int, 0, 100_000_000, 0, "ceiling of the reward-farmer population (0: no farmers)"),
        "farm_entry_per_day": (float, 0.0, 1.0, 0.01, "share of farmers_max entering a day per unit of margin"),
        "farm_cost_usd_per_interaction": (float, 0.0, 1000.0, 0.0002, "a farmer's USD cost per interaction "
                                          "(compute and gas)"),
        "farm_interactions_per_day": (float, 0.0, 1e6, 1000.0, "interactions a farmer's scripts make a day (the "
                                      "per-fork daily cap is 10,000)"),
    },
    # A strategy per user row (hanzo/sim/strategies.py): shares of the users, honest trainers the rest. A
    # "dist" key is a number (every row the same) or a distribution each row draws its own value from when it
    # joins: "uniform(low, high)", "normal(mean, sd)", "lognormal(mean, sigma)", "triangular(low, mode, high)".
    # The farmers' and spammers' pay is the oracle's measured verdict on their text (docs/oracle.md, the
    # farming benchmark, `make bench-farming`, the run of 2026-11-29): the best farm earns 0.51x an honest
    # session and 0.74x per 1,000 characters (the per-character figure is the steadier one, over all honest
    # sessions: a unit of work here is an interaction); own text padded with fragment salad 0.06x per 1,000 own
    # characters; word salad is low quality (burned); 84% of honest sessions are paid, which is already inside
    # the honest pay these ratios multiply ([users] low_quality_share and mean_multiplier).
    "strategies": {
        "farmer_share": (float, 0.0, 1.0, 0.0, "share of users who farm"),
        "spammer_share": (float, 0.0, 1.0, 0.0, "share of users who spam"),
        "holder_share": (float, 0.0, 1.0, 0.0, "share of users who train and hold (their own sell and stake shares)"),
        "speculator_share": (float, 0.0, 1.0, 0.0, "share of users who train and sell on the price's momentum"),
        "provider_share": (float, 0.0, 1.0, 0.0, "share of users who provide compute (each its own capacity, paid "
                           "for what it serves; they do not train): 0 keeps the aggregate providers' wallet"),
        "voter_share": (float, 0.0, 1.0, 0.0, "share of users who train, stake for votes and vote on proposals, "
                        "each by its own turnout"),
        "custom_share": (float, 0.0, 1.0, 0.0, "share of users who follow custom_policy"),
        # what an hour of work earns each strategy (summary.json: strategies.*.hanzo_per_hour, usd_per_hour):
        # the oracle pays an honest 3,000-character session about 9 interactions (docs/oracle.md's farming
        # benchmark: 0.083 HANZO at 0.009 a paid interaction), one per ~320 characters of new writing, and new
        # prose comes at about 20 words (130 characters) a minute
        "minutes_per_interaction": (float, 0.001, 1000.0, 2.5, "a person's minutes of work per training "
                                    "interaction (writing new text in the domain), for earnings per hour"),
        "custom_policy": (str, None, None, "", "a Strategy subclass: a registered name or a dotted path "
                          "(package.module.Class)"),
        "farmer_pay": ("dist", 0.0, 10.0, 0.74, "what a unit of a farmer's work earns against honest work's (the "
                       "farming benchmark's best farm: 0.74x honest per 1,000 characters)"),
        "farmer_cost_usd_per_interaction": ("dist", 0.0, 1000.0, 0.0, "a farmer's USD cost per interaction; it "
                                            "farms while its pay beats it"),
        "spammer_pay": ("dist", 0.0, 10.0, 0.06, "what a unit of a spammer's work earns against honest work's (the "
                        "benchmark: own text padded with fragment salad, 0.06x per 1,000 own characters)"),
        "spammer_low_quality": ("dist", 0.0, 1.0, 0.0, "share of a spammer's work judged low quality, burned and "
                                "unpaid (word salad: 1, with spammer_pay 0)"),
        "holder_sell_share": ("dist", 0.0, 1.0, 0.1, "share of its pay a holder sells"),
        "holder_stake_share": ("dist", 0.0, 1.0, 0.5, "share of its pay a holder stakes (with holder_sell_share at most 1, "
                               "less [policy] boost_stake_share; a row whose draws pass it sells what its stake leaves)"),
        "speculator_momentum_response": ("dist", 0.0, 100.0, 3.0, "how much more a speculator sells per unit of "
                                         "30-day log price fall"),
        "provider_capacity": ("dist", 0.0, 1000.0, 1.0, "a provider's capacity when it joins, per tier, as a multiple "
                              "of its share of the users' compute demand times [compute] capacity_headroom (1: "
                              "providers together start with the headroom the aggregate has)"),
        "provider_cost_usd_per_credit": ("dist", 0.0, 1e6, 0.0, "a provider's USD cost per credit served of the first "
                                         "tier (the others scaled as their base prices); it withdraws capacity while "
                                         "a credit earns less, adds it while more (0: it follows utilization only)"),
        "provider_sell_share": ("dist", 0.0, 1.0, 0.5, "share of its income (credits served, the Compute Providers "
                                "pool's release) a provider sells"),
        "voter_stake_share": ("dist", 0.0, 1.0, 0.5, "share of its pay a voter stakes for votes (at most 1 less its "
                              "fork's boost stake)"),
        "voter_turnout": ("dist", 0.0, 1.0, 0.5, "a voter's chance of voting its stake on a proposal (drawn per "
                          "proposal)"),
    },
    # What-ifs the contracts do not implement (yet): each is off by default, so a scenario that turns one on
    # measures a decision before anyone writes it in Solidity. The report names what a run turned on.
    "policy": {
        "tail_emission_per_year": (float, 0.0, 1e9, 0.0, "HANZO a year minted into the Training Rewards pool once the "
                                   "halving schedule has released it all (above the 1B cap: D1 would change)"),
        "inference_fee_share": (float, 0.0, 1.0, 0.0, "fee on compute spending, paid in HANZO on top of the credits "
                                "and recycled into the Training Rewards pool"),
        "quorum": (("absolute", "relative"), None, None, "absolute", "absolute: [tokenomics] quorum in HANZO, as "
                   "HanzoGovernor counts it; relative: relative_quorum of staked HANZO (OpenZeppelin's "
                   "GovernorVotesQuorumFraction)"),
        "relative_quorum": (float, 0.001, 1.0, 0.04, "with quorum = relative: the share of staked HANZO that must vote"),
        "fine_tuning_fee": (float, 0.0, 1.0, 0.0, "HANZO a user pays per training interaction (the seed: 0.0001)"),
        "base_model_epochs_per_month": (float, 0.0, 1000.0, 0.0, "base-model training epochs developers pay for"),
        "base_model_epoch_fee": (float, 0.0, 1e9, 1000.0, "HANZO per base-model training epoch (the seed: 1,000)"),
        "training_fee_burn_share": (float, 0.0, 1.0, 0.5, "share of fine-tuning and base-model fees burned; the rest "
                                    "goes to the treasury (as the fork mint fee)"),
        "boost_stake_share": (float, 0.0, 1.0, 0.0, "share of earned HANZO users stake on their own forks; the fork's "
                              "boost (ModelNFT's formula) then multiplies its rewards (TrainingRewards does not today)"),
    },
    # What a training op costs to put on chain, against what it pays.
    "costs": {
        "gas_per_op": (int, 0, 10_000_000, 50_602, "gas per training op (benchmarks/gas.py: one op of a batch of 100; "
                       "103,014 alone; the (fork, adapter) key costs a fresh slot each)"),
        "ops_per_user_day": (float, 0.0, 1000.0, 1.0, "training ops (judged sessions) per active user per day"),
        "gas_price_gwei": (float, 0.0, 100_000.0, 0.01, "gas price (0.01 gwei: an L2; 20: Ethereum mainnet)"),
        "eth_usd": (float, 0.0, 1e7, 3000.0, "USD per unit of the chain's gas token"),
    },
    "attacker": {
        "enabled": (bool, None, None, False, "a governance attacker appears"),
        "start_day": (int, 0, 36_500, 365, "day the attacker starts buying"),
        "budget_usd": (float, 0.0, 1e12, 2_000_000.0, "USD the attacker spends on HANZO to stake"),
    },
    # What is not known, drawn from the run's seed (hanzo/sim/uncertainty.py), so that Monte Carlo runs spread;
    # every key is 0 by default: a run is then the deterministic one.
    "uncertainty": {
        "growth_spread": (float, 0.0, 3.0, 0.0, "lognormal spread of the run's [users] growth_per_day, drawn once "
                          "(the scenario's is the median run's)"),
        "ceiling_spread": (float, 0.0, 3.0, 0.0, "lognormal spread of the run's adoption ceiling [users] max, drawn "
                           "once (the scenario's is the median run's; never below [users] initial)"),
        "adoption_volatility": (float, 0.0, 3.0, 0.0, "daily lognormal noise (mean 1) on the logistic step of "
                                "adoption: good and bad days for word of mouth"),
        "demand_volatility": (float, 0.0, 1.0, 0.0, "daily volatility of log compute demand around what users and "
                              "prices make it, a mean-reverting (AR(1)) process of mean 1"),
        "demand_reversion": (float, 0.001, 1.0, 0.05, "with demand_volatility: share of log demand's gap closed a "
                             "day (0.05: a swing halves in two weeks)"),
        "sell_share_spread": (float, 0.0, 0.5, 0.0, "standard deviation of the run's [users] sell_share, drawn once "
                              "(normal around it, clipped to 0 and to what staking leaves)"),
    },
}


# [strategies] *_share: honest is the rest
SHARES = ("farmer", "spammer", "holder", "speculator", "provider", "voter", "custom")
BOUNDS.update({k: (lo, hi) for k, (kind, lo, hi, _, _) in SPEC["strategies"].items() if kind == "dist"})


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: `values[table][key]` for the agents, `tokenomics` for the economy."""

    path: str
    values: dict[str, dict[str, Any]]
    tokenomics: Tokenomics
    tokenomics_overrides: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, table: str) -> dict[str, Any]:
        return self.values[table]

    @property
    def name(self) -> str:
        return self.values["scenario"]["name"]

    @property
    def days(self) -> int:
        return max(1, round(self.values["scenario"]["years"] * 365))

    @property
    def tier_mix(self) -> list[float]:
        return _tier_mix(self.values["compute"]["tier_mix"], self.path)

    def with_overrides(self, where: str | None = None, **changes: Any) -> "Scenario":
        """A copy with `table.key=value` changes (keys as "table.key"), validated like the file;
        errors name `where` (what made the changes, e.g. the command line) rather than the file."""
        # only what differs from the defaults, as a file would say it (so keys that act behind a
        # switch are judged on what was set, not on the defaults filled in)
        raw = {t: {k: x for k, x in v.items() if x != SPEC[t][k][3]} for t, v in self.values.items()}
        raw["tokenomics"] = dict(self.tokenomics_overrides)
        for dotted, value in changes.items():
            table, _, key = dotted.partition(".")
            if not key:
                raise ScenarioError(f"{dotted!r}: expected TABLE.KEY, for example users.growth_per_day")
            raw.setdefault(table, {})[key] = value
        # A change that turns a switch off (--set attacker.enabled=false) drops what the file set behind
        # it: the user asked for the switch off. What this call itself sets behind an off switch is refused.
        for (table, key), switches in INERT_UNLESS.items():
            if key in raw.get(table, {}) and f"{table}.{key}" not in changes and not any(
                    _on(needs, raw.get(t, {}).get(k, SPEC[t][k][3])) for (t, k), needs in switches):
                del raw[table][key]
        # the copy keeps its file's name: a later override's error must not blame the earlier one's `where`
        return replace(parse(raw, where or self.path), path=self.path)


def builtin(folder: Path = SCENARIO_DIR) -> list[tuple[str, str]]:
    """The built-in scenarios: (name, its one-line description), by name. The description is the
    file's [scenario] description, else its first comment line, else says there is none."""
    out = []
    for path in sorted(folder.glob("*.toml")):
        text = path.read_text()
        comments = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
        line = str(tomllib.loads(text).get("scenario", {}).get("description", "")) or next(
            (c for c in comments if c), "(no description: add [scenario] description)")
        out.append((path.stem, line))
    return out


def parse_setting(item: str) -> tuple[str, Any]:
    """`TABLE.KEY=VALUE` from the command line -> ("TABLE.KEY", value): the value read as TOML would
    read it (numbers, true/false, quoted strings), else as a plain string."""
    key, sep, text = item.partition("=")
    if not sep or "." not in key or not key.strip():
        raise ScenarioError(f"--set {item!r}: expected TABLE.KEY=VALUE, for example users.max=50000")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return key.strip(), value


def _tier_mix(text: str, where: str) -> list[float]:
    try:
        mix = [float(x) for x in text.split(",")]
    except ValueError:
        raise ScenarioError(f"{where}: [compute] tier_mix: expected three numbers like '0.7,0.25,0.05', got {text!r}") from None
    if len(mix) != 3 or any(m < 0 for m in mix) or abs(sum(mix) - 1.0) > 1e-9:
        raise ScenarioError(f"{where}: [compute] tier_mix: expected three non-negative shares summing to 1, got {text!r}")
    return mix


def _value(kind, lo, hi, raw, where: str):
    if kind == "dist":  # kept as written (a number or a string), checked here, drawn by the World
        try:
            distribution(raw, where, lo, hi)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
        return float(raw) if isinstance(raw, (int, float)) else raw
    if isinstance(kind, tuple):
        if raw not in kind:
            raise ScenarioError(f"{where}: expected one of {', '.join(kind)}, got {raw!r}")
        return raw
    if kind is bool:
        if not isinstance(raw, bool):
            raise ScenarioError(f"{where}: expected true or false, got {raw!r}")
        return raw
    if kind is str:
        if not isinstance(raw, str):
            raise ScenarioError(f"{where}: expected a string, got {raw!r}")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ScenarioError(f"{where}: expected {'an integer' if kind is int else 'a number'}, got {raw!r}")
    if kind is int and not (isinstance(raw, int) or float(raw).is_integer()):
        raise ScenarioError(f"{where}: expected an integer, got {raw!r}")
    value = kind(raw)
    if value < lo or value > hi:
        raise ScenarioError(f"{where}: expected a value in [{_bound(lo)}, {_bound(hi)}], got {raw!r}")
    return value


def _bound(x: float) -> str:
    """A bound as a reader writes it: 1/365 is 'one day' (0.00274), not 0.0027397260273972603."""
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def parse(data: dict[str, Any], source: str) -> Scenario:
    """Validate a scenario mapping (as read from TOML)."""
    unknown = set(data) - set(SPEC) - {"tokenomics"}
    if unknown:
        raise ScenarioError(f"{source}: unknown table [{sorted(unknown)[0]}]; known tables: "
                            f"{', '.join(sorted(SPEC))}, tokenomics")
    values: dict[str, dict[str, Any]] = {}
    for table, spec in SPEC.items():
        given = data.get(table, {})
        if not isinstance(given, dict):
            raise ScenarioError(f"{source}: [{table}] must be a table")
        extra = set(given) - set(spec)
        for key in sorted(extra):
            if (table, key) in REMOVED:
                raise ScenarioError(f"{source}: [{table}] {key} was removed: {REMOVED[(table, key)]}")
        if extra:
            raise ScenarioError(f"{source}: [{table}] unknown key {sorted(extra)[0]!r}; known keys: {', '.join(spec)}")
        values[table] = {
            key: _value(kind, lo, hi, given[key], f"{source}: [{table}] {key}") if key in given else default
            for key, (kind, lo, hi, default, _) in spec.items()
        }
    for (table, key), switches in INERT_UNLESS.items():
        if key in data.get(table, {}) and not any(needs(values[t][k]) for (t, k), needs in switches):
            unless = " or ".join(f"[{t}] {k} is set ({_NEEDS[needs]})" for (t, k), needs in switches)
            raise ScenarioError(f"{source}: [{table}] {key}: has no effect unless {unless}; a scenario that set it "
                                "would be silently ignored, so it is refused")
    overrides = data.get("tokenomics", {})
    if not isinstance(overrides, dict):
        raise ScenarioError(f"{source}: [tokenomics] must be a table")
    for key in sorted(overrides):
        if key in NOT_SIMULATED:
            raise ScenarioError(f"{source}: [tokenomics] {key}: not simulated ({NOT_SIMULATED[key]}); a scenario "
                                "that changed it would be silently ignored, so it is refused")
    try:
        tokenomics = from_mapping(overrides, source=f"{source}: [tokenomics]")
    except ParameterError as exc:
        raise ScenarioError(str(exc)) from None
    if values["users"]["initial"] > values["users"]["max"]:
        raise ScenarioError(f"{source}: [users] initial: expected at most [users] max ({values['users']['max']}), "
                            f"got {values['users']['initial']}")
    _tier_mix(values["compute"]["tier_mix"], source)
    if values["users"]["mean_multiplier"] > tokenomics.max_multiplier:
        raise ScenarioError(f"{source}: [users] mean_multiplier: expected at most [tokenomics] max_multiplier "
                            f"({tokenomics.max_multiplier}), got {values['users']['mean_multiplier']}")
    kept = values["users"]["sell_share"] + values["users"]["stake_share"] + values["policy"]["boost_stake_share"]
    if kept > 1 + 1e-12:
        raise ScenarioError(f"{source}: [users] sell_share + stake_share + [policy] boost_stake_share: expected at most "
                            f"1 (shares of what users earn), got {kept:g}")
    if values["policy"]["boost_stake_share"] == 0:
        for key in ("boost_ref_stake", "boost_max_extra_bps"):
            if key in overrides:
                raise ScenarioError(f"{source}: [tokenomics] {key}: not simulated unless [policy] boost_stake_share "
                                    "> 0 (nobody stakes on forks otherwise); a scenario that changed it would be "
                                    "silently ignored, so it is refused")
    st = values["strategies"]
    if sum(v for k, v in st.items() if k.endswith("_share") and k[:-6] in SHARES) > 1 + 1e-12:
        raise ScenarioError(f"{source}: [strategies] {' + '.join(f'{k}_share' for k in SHARES)}: expected at most 1 "
                            "(shares of the users; honest trainers are the rest)")
    if st["holder_share"] > 0 and all(isinstance(st[k], float) for k in ("holder_sell_share", "holder_stake_share")):
        kept = st["holder_sell_share"] + st["holder_stake_share"] + values["policy"]["boost_stake_share"]
        if kept > 1 + 1e-12:  # (as [users] below: every holder would sell less than the scenario says)
            raise ScenarioError(f"{source}: [strategies] holder_sell_share + holder_stake_share + [policy] "
                                f"boost_stake_share: expected at most 1 (shares of what a holder earns), got {kept:g}")
    limit = tokenomics.max_multiplier / values["users"]["mean_multiplier"]  # (strategies.max_pay)
    for name in ("farmer", "spammer"):
        if st[f"{name}_share"] > 0:
            try:
                distribution(st[f"{name}_pay"], f"{source}: [strategies] {name}_pay", 0.0, limit)
            except ValueError as exc:
                raise ScenarioError(f"{exc} ({PAY_LIMIT})") from None
    if st["custom_share"] > 0:
        if not st["custom_policy"]:
            raise ScenarioError(f"{source}: [strategies] custom_share: expected [strategies] custom_policy too (a "
                                "registered strategy or a dotted path to a Strategy subclass)")
        try:
            cls = resolve(st["custom_policy"])
            for trait, spec in cls.traits.items():
                distribution(spec, f"{cls.__name__}.traits[{trait!r}]")
        except ValueError as exc:
            raise ScenarioError(f"{source}: [strategies] custom_policy: {exc}") from None
        builtin = next((name for name in TRAITS if name != "honest" and REGISTRY[name] is cls), None)
        if builtin:  # its traits come from the [strategies] table, its numbers from its share: as custom it had neither
            raise ScenarioError(f"{source}: [strategies] custom_policy: {st['custom_policy']!r} is a built-in "
                                f"strategy: set [strategies] {builtin}_share (and its traits) instead")
    if values["policy"]["quorum"] == "relative" and "quorum" in overrides:
        raise ScenarioError(f"{source}: [tokenomics] quorum: ignored with [policy] quorum = \"relative\" (set "
                            "[policy] relative_quorum instead), so it is refused")
    return Scenario(source, values, tokenomics, dict(overrides))


# Tokenomics parameters the World does not read, and why: every key a scenario sets is honoured
# or refused, never silently ignored.
NOT_SIMULATED = {
    "test_usd_float": "the World's buyers hold US dollars; TestUSD's float is a test chain's",
    "hmm_epoch": "the world steps the market maker's controller once a day, the default epoch",
    "timelock_delay": "a passed proposal takes effect when voting ends; the delay is not modelled",
    "proposal_queue_window": "a passed proposal takes effect when voting ends; queueing is not modelled",
    "execution_grace_period": "a passed proposal takes effect when voting ends; its execution is not modelled",
    "quality_threshold": "quality is the scenario's distribution ([users] low_quality_share, mean_multiplier)",
    "quality_step": "quality is the scenario's distribution ([users] low_quality_share, mean_multiplier)",
    "quality_z": "quality is the scenario's distribution ([users] low_quality_share, mean_multiplier)",
    "quality_gain_per_interaction": "quality is the scenario's distribution ([users] low_quality_share, "
                                    "mean_multiplier)",
    "max_base_regression": "quality is the scenario's distribution ([users] low_quality_share, mean_multiplier)",
    "max_compression_ratio": "the oracle's gate is not modelled; low_quality_share stands for refused work",
    "max_duplicate_share": "the oracle's gate is not modelled; low_quality_share stands for refused work",
    "max_unknown_word_share": "the oracle's gate is not modelled; low_quality_share stands for refused work",
    "max_public_trigram_share": "the oracle's gate is not modelled; low_quality_share stands for refused work",
    "min_letter_share": "the oracle's gate is not modelled; low_quality_share stands for refused work",
    "max_interactions_per_op": "users are cohorts; per-op and per-fork caps are not modelled",
    "max_interactions_per_fork_day": "users are cohorts; per-op and per-fork caps are not modelled",
    "nft_max_performance": "only a bound on registration; forks use [users] fork_performance",
}

# Keys that act only when another switch is on: set without it, they are refused, not ignored.
def _positive(v) -> bool:
    return v > 0


def _relative(v) -> bool:
    return v == "relative"


def _true(v) -> bool:
    return v is True


def _on(needs, value) -> bool:
    """Whether a switch is on; a value of the wrong type counts as on (parse names it)."""
    try:
        return needs(value)
    except TypeError:
        return True


_NEEDS = {_positive: "above 0", _relative: 'to "relative"', _true: "to true"}
# (table, key) -> the switches, any of which makes it act: [((table, key), predicate), ...]
INERT_UNLESS = {
    ("agents", "reward_elasticity"): [(("agents", "reservation_usd_per_interaction"), _positive)],
    ("agents", "churn_per_day"): [(("agents", "reservation_usd_per_interaction"), _positive)],
    ("agents", "reservation_spread"): [(("agents", "reservation_usd_per_interaction"), _positive)],
    ("agents", "spam_max_share"): [(("agents", "spam_leak"), _positive)],
    ("agents", "speculator_hold_days"): [(("agents", "speculator_budget_per_day"), _positive)],
    ("agents", "farm_entry_per_day"): [(("agents", "farmers_max"), _positive)],
    ("agents", "farm_cost_usd_per_interaction"): [(("agents", "farmers_max"), _positive)],
    ("agents", "farm_interactions_per_day"): [(("agents", "farmers_max"), _positive)],
    ("strategies", "custom_policy"): [(("strategies", "custom_share"), _positive)],
    ("strategies", "farmer_pay"): [(("strategies", "farmer_share"), _positive)],
    ("strategies", "farmer_cost_usd_per_interaction"): [(("strategies", "farmer_share"), _positive)],
    ("strategies", "spammer_pay"): [(("strategies", "spammer_share"), _positive)],
    ("strategies", "spammer_low_quality"): [(("strategies", "spammer_share"), _positive)],
    ("strategies", "holder_sell_share"): [(("strategies", "holder_share"), _positive)],
    ("strategies", "holder_stake_share"): [(("strategies", "holder_share"), _positive)],
    ("strategies", "speculator_momentum_response"): [(("strategies", "speculator_share"), _positive)],
    ("strategies", "provider_capacity"): [(("strategies", "provider_share"), _positive)],
    ("strategies", "provider_cost_usd_per_credit"): [(("strategies", "provider_share"), _positive)],
    ("strategies", "provider_sell_share"): [(("strategies", "provider_share"), _positive)],
    ("strategies", "voter_stake_share"): [(("strategies", "voter_share"), _positive)],
    ("strategies", "voter_turnout"): [(("strategies", "voter_share"), _positive)],
    ("policy", "relative_quorum"): [(("policy", "quorum"), _relative)],
    ("policy", "base_model_epoch_fee"): [(("policy", "base_model_epochs_per_month"), _positive)],
    # only fine-tuning and base-model fees are split between the burn and the treasury
    ("policy", "training_fee_burn_share"): [(("policy", "fine_tuning_fee"), _positive),
                                            (("policy", "base_model_epochs_per_month"), _positive)],
    # the other venues' random walk moves nothing unless arbitrageurs link it to the pool
    ("market", "daily_volatility"): [(("market", "external_venues"), _true)],
    ("market", "jump_probability"): [(("market", "external_venues"), _true)],
    ("market", "jump_size"): [(("market", "external_venues"), _true)],
    ("market", "arbitrage_speed"): [(("market", "external_venues"), _true)],
    # the attacker's plan is read only when there is an attacker
    ("attacker", "start_day"): [(("attacker", "enabled"), _true)],
    ("attacker", "budget_usd"): [(("attacker", "enabled"), _true)],
    # the factor is read only from shock_day on (shock_day alone is accepted: a factor of 1 is no shock)
    ("compute", "shock_factor"): [(("compute", "shock_day"), _positive)],
    # the reversion shapes the demand noise only
    ("uncertainty", "demand_reversion"): [(("uncertainty", "demand_volatility"), _positive)],
    # honest proposals' odds and votes matter only when there are proposals (or an attacker's)
    ("governance", "pass_probability"): [(("governance", "proposals_per_month"), _positive)],
    ("governance", "turnout"): [(("governance", "proposals_per_month"), _positive), (("attacker", "enabled"), _true)],
}

# Keys an older scenario may still carry, and why they no longer mean anything.
REMOVED = {
    ("market", "liquidity_usd"): "the HANZO price comes from a constant-product pool whose depth is the Liquidity "
                                 "allocation at [tokenomics] pool_initial_price; change [tokenomics] "
                                 "alloc_liquidity_bps instead",
    # one source of truth: HanzoPool's deployed price and fee are tokenomics parameters
    ("market", "initial_price"): "the pool's starting price is the contract's: set [tokenomics] pool_initial_price "
                                 "(USD per HANZO)",
    ("market", "pool_fee"): "the pool's fee is the contract's: set [tokenomics] pool_fee_bps (basis points; 0.003 "
                            "is 30)",
    ("policy", "pool_pace_per_day"): "pacing is TrainingRewards' rule now: set [tokenomics] pool_pace_bps (basis "
                                     "points of the pool a day; 0.002 is 20)",
}


def load(name_or_path: str | Path) -> Scenario:
    """A scenario by file path, or by name from hanzo/sim/scenarios/ (`baseline` -> baseline.toml)."""
    path = Path(name_or_path)
    if not path.suffix and not path.is_file():  # a folder named like a scenario is not one
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise ScenarioError(f"{name_or_path}: no such scenario file (built-in scenarios: {known})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path))
