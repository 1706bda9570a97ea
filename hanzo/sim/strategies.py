"""A strategy per user (issue 17, item 2): each user row follows one strategy, and each strategy is
one policy vectorised over its rows, with traits (per-agent parameters) drawn once per row, when it
joins, from distributions the scenario's [strategies] table names.

The built-in strategies are the populations the World already models, now as rows among the users:

    honest       trains its own writing; trains less below its reservation wage (the [agents] table)
                 and sells and stakes the scenario's shares ([users] sell_share, stake_share)
    farmer       submits the best farm the oracle's benchmark found, paid `pay` x what honest work
                 earns per unit of work (docs/oracle.md: 0.74x per 1,000 characters); works while
                 that beats its own cost per interaction; sells everything
    spammer      pads a little own text with public fragments (the benchmark: 0.06x honest); a share
                 `low_quality` of its work judged low quality (word salad: burned, unpaid); spams
                 while what it is paid beats its gas; sells everything
    holder       trains as honest users do, sells less and stakes more (its own shares)
    speculator   trains as honest users do, and sells its pay on the 30-day price momentum, each by
                 its own response (sells more after a fall)
    provider     serves compute and trains nothing: owns capacity per tier (`capacity`: a multiple of what
                 one provider stands for, its share of the users' demand with [compute] capacity_headroom),
                 is paid by the market maker for what it serves and takes the Compute Providers pool's
                 release, both into its own wallet and in proportion to what it served; sells `sell_share`
                 of that income; adds or withdraws capacity by the aggregate providers' rule, its margin its
                 own (`cost_usd_per_credit`: withdraws while a credit earns it less) (hanzo.sim.compute)
    voter        trains as honest users do, stakes its own `stake_share` of its pay for votes, and votes its
                 stake on each proposal with its own `turnout` chance; the honest votes are then the stakes
                 of the voters who turn out, plus [governance] turnout of the rest (hanzo.sim.governance)

Providers and voters are opt-in: without provider rows the providers are an aggregate wallet with one
capacity per tier, and without voter rows a [governance] turnout share of all the stake votes.

A user's own policy plugs in as a subclass of `Strategy`, named in the scenario by a dotted path or
a registered name ([strategies] custom_policy and custom_share):

    class Quitter(Strategy):
        traits = {"patience": "uniform(0, 60)"}  # days each row trains before it quits
        def decide(self, view, rows):
            return Decision(work=(view.day - rows.joined) < rows.traits["patience"], sell=1.0)

`decide` gets yesterday's `View` and its active rows (`Rows`: row numbers, activity, reservation
wage, join day, traits, each an array of the same length) and returns a `Decision`, each field a
number for all its rows or an array with one value per row. It is called once a day per strategy,
so a policy is numpy over its rows, never a Python loop over agents.
"""

from __future__ import annotations

import importlib
import math
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .agents import View, _worth_each
from .ledger import UNIT

if TYPE_CHECKING:
    from .world import World


class StrategyError(ValueError):
    """A strategy is unknown, not a Strategy, or decided something impossible; the message names it."""


class ClippedWarning(UserWarning):
    """More than CLIPPED_WARNING of a trait's draws fell beyond its key's bounds and were clipped to them."""


CLIPPED_WARNING = 0.01  # a share of rows clipped that changes the trait's mean or spread visibly


# ------------------------------------------------------------------------------ distributions

_DIST = re.compile(r"^\s*(\w+)\s*\(([^)]*)\)\s*$")
_ARITY = {"fixed": 1, "uniform": 2, "normal": 2, "lognormal": 2, "triangular": 3}
_FORMS = "a number, uniform(low, high), normal(mean, sd), lognormal(mean, sigma) or triangular(low, mode, high)"


@dataclass(frozen=True)
class Distribution:
    """Where a trait's values come from: a kind and its numbers; draws are clipped to [low, high],
    the bounds of the scenario key (or the plug-in's trait) that named it."""

    kind: str
    args: tuple[float, ...]
    low: float = -math.inf
    high: float = math.inf

    @property
    def mean(self) -> float:
        a = self.args
        return {"fixed": a[0], "uniform": (a[0] + a[-1]) / 2, "normal": a[0], "lognormal": a[0],
                "triangular": sum(a) / 3}[self.kind]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.drawn(rng, n)[0]

    def drawn(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, int, int]:
        """`n` draws clipped to [low, high], and how many fell below low and above high: a clipped
        draw is not what the scenario wrote, so the World counts them (Strategies.clipped)."""
        a = self.args
        if self.kind == "fixed":
            return np.full(n, a[0]), 0, 0
        if self.kind == "uniform":
            x = rng.uniform(a[0], a[1], n)
        elif self.kind == "normal":
            x = rng.normal(a[0], a[1], n)
        elif self.kind == "lognormal":  # mean `a[0]` whatever the spread, like [agents] reservation_spread
            x = a[0] * rng.lognormal(-a[1] * a[1] / 2, a[1], n)
        else:
            x = rng.triangular(a[0], a[1], a[2], n)
        below, above = int(np.count_nonzero(x < self.low)), int(np.count_nonzero(x > self.high))
        return np.clip(x, self.low, self.high), below, above


def distribution(value: Any, where: str, low: float = -math.inf, high: float = math.inf) -> Distribution:
    """A trait's distribution from what a scenario wrote: a number (every row the same) or a
    string like "lognormal(0.68, 0.3)"; a ValueError naming `where` says what was expected."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected {_FORMS}, got {value!r}")
    if isinstance(value, (int, float)):
        kind, args = "fixed", (float(value),)
    elif isinstance(value, str) and (m := _DIST.match(value)):
        kind = m.group(1).lower()
        if kind not in _ARITY:
            raise ValueError(f"{where}: unknown distribution {m.group(1)!r}; expected {_FORMS}")
        try:
            args = tuple(float(x) for x in m.group(2).split(","))
        except ValueError:
            raise ValueError(f"{where}: expected numbers in {value!r}") from None
        if len(args) != _ARITY[kind]:
            raise ValueError(f"{where}: {kind} takes {_ARITY[kind]} numbers, got {len(args)} in {value!r}")
    else:
        raise ValueError(f"{where}: expected {_FORMS}, got {value!r}")
    if not all(math.isfinite(x) for x in args):
        raise ValueError(f"{where}: expected finite numbers, got {value!r}")
    spread_ok = kind not in ("normal", "lognormal") or 0 <= args[-1] <= (3 if kind == "lognormal" else math.inf)
    ordered = kind not in ("uniform", "triangular") or args[0] <= args[len(args) // 2] <= args[-1]
    if not spread_ok or not ordered:
        raise ValueError(f"{where}: {value!r}: expected low <= high (and mode between), a spread >= 0 (lognormal "
                         "sigma at most 3)")
    located = [args[0], args[-1]] if kind in ("uniform", "triangular") else [args[0]]
    if any(x < low or x > high for x in located):
        raise ValueError(f"{where}: {value!r}: expected values in [{low:.4g}, {high:.4g}]")
    return Distribution(kind, args, low, high)


# ------------------------------------------------------------------------------ the interface

class Rows:
    """A strategy's active rows today: `index` (row numbers among all users) and, each an array in
    the same order, `activity` (usual activity, mean 1 across all users), `reservation` (USD per day
    of usual work below which it would rather not; 0: none), `joined` (the day it joined) and
    `traits[name]` (its own parameters, drawn when it joined). Each is a read-only view of the
    strategy's own columns, copied from the users' rows once, when they joined (Strategies.join),
    so that a day reads a strategy's rows as contiguous arrays instead of gathering them."""

    def __init__(self, index: np.ndarray, columns: dict[str, np.ndarray], traits: dict[str, np.ndarray]):
        self.index = index
        self.activity, self.reservation, self.joined = columns["activity"], columns["reservation"], columns["joined"]
        self.traits = traits

    def __len__(self) -> int:
        return len(self.index)


@dataclass
class Decision:
    """What a strategy's rows do today; each field one number for all of them or one per row.

    work: share (0 to 1) of its usual interactions it makes today.
    pay: what a unit of its work earns against honest work's (the oracle's verdict on its text), at most
    [tokenomics] max_multiplier / [users] mean_multiplier (the contract's highest multiplier against honest work's).
    low_quality: share (0 to 1) of its work the oracle judges low quality: unpaid, its reward burned.
    sell, stake: shares (0 to 1) of today's pay sold, and staked for votes; what a fork's boost
    stake ([policy] boost_stake_share) takes comes first, then the stake, then the sale. None (the
    default): the scenario's [users] sell_share and stake_share."""

    work: Any = 1.0
    pay: Any = 1.0
    low_quality: Any = 0.0
    sell: Any = None
    stake: Any = None


class Strategy:
    """One policy for all rows of a strategy. Subclass it, set `traits` (trait name -> a number or
    a distribution string, drawn once per row when it joins) and write `decide`; `name` is what
    `register` files it under. It reads the scenario's figures from `self.scenario` (and, at hand,
    `sell_share`, `stake_share`, `interactions_per_day`, `ops_per_day`, `costs`)."""

    name = "custom"
    traits: dict[str, Any] = {}

    def __init__(self, scenario, traits: dict[str, Distribution] | None = None):
        self.scenario = scenario
        u, costs = scenario["users"], scenario["costs"]
        self.sell_share, self.stake_share = u["sell_share"], u["stake_share"]
        self.interactions_per_day = u["interactions_per_day"]
        self.ops_per_day, self.costs = costs["ops_per_user_day"], costs
        self.distributions = traits if traits is not None else {
            k: distribution(v, f"{type(self).__name__}.traits[{k!r}]") for k, v in self.traits.items()}

    def decide(self, view: View, rows: Rows) -> Decision:
        raise NotImplementedError(f"{type(self).__name__}.decide(view, rows) -> Decision")


REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Make a strategy selectable by its `name` (as a decorator)."""
    REGISTRY[cls.name] = cls
    return cls


@register
class Honest(Strategy):
    """Honest trainers: the [agents] policies (trainers' reservation wage, holders' momentum)."""

    name = "honest"

    def __init__(self, scenario, traits=None):
        super().__init__(scenario, traits)
        from .agents import from_scenario
        policies = from_scenario(scenario)
        self.trainers, self.holders = policies["trainers"], policies["holders"]

    def work(self, view: View, rows: Rows):
        if self.trainers.reservation_usd > 0 and self.trainers.elasticity:
            pay = view.reward_usd_per_interaction * self.interactions_per_day * rows.activity
            return _worth_each(pay, rows.reservation, self.trainers.elasticity, out=pay)  # (pay is ours: reused)
        return self.trainers.decide(view)

    def decide(self, view: View, rows: Rows) -> Decision:
        sell, stake = self.holders.decide(view)
        return Decision(work=self.work(view, rows), sell=sell, stake=stake)


@register
class Farmer(Strategy):
    name = "farmer"

    def decide(self, view: View, rows: Rows) -> Decision:
        pay, cost = rows.traits["pay"], rows.traits["cost_usd_per_interaction"]
        return Decision(work=pay * view.reward_usd_per_interaction > cost, pay=pay, sell=1.0, stake=0.0)


@register
class Spammer(Strategy):
    name = "spammer"

    def decide(self, view: View, rows: Rows) -> Decision:
        pay, low = rows.traits["pay"], rows.traits["low_quality"]
        earns = pay * (1 - low) * view.reward_usd_per_interaction * self.interactions_per_day * rows.activity
        return Decision(work=earns > self.ops_per_day * view.gas_usd_per_op, pay=pay, low_quality=low, sell=1.0,
                        stake=0.0)


@register
class Holder(Honest):
    name = "holder"

    def decide(self, view: View, rows: Rows) -> Decision:
        return Decision(work=self.work(view, rows), sell=rows.traits["sell_share"], stake=rows.traits["stake_share"])


@register
class Speculator(Honest):
    name = "speculator"

    def decide(self, view: View, rows: Rows) -> Decision:
        # as agents.Holders, each row by its own response: what is not sold is staked in the usual proportion
        sell = np.clip(self.sell_share * np.exp(-rows.traits["momentum_response"] * view.momentum), 0.0, 1.0)
        kept = 1.0 - self.sell_share
        stake = self.stake_share * (1.0 - sell) / kept if kept > 0 else 0.0
        return Decision(work=self.work(view, rows), sell=sell, stake=stake)


@register
class Provider(Strategy):
    """Compute providers as rows (hanzo.sim.compute serves, pays and releases to them): a provider does not
    train; it owns capacity per tier (`capacity_at_join`, then `capacity`), is paid for what it serves and
    sells a share of its income (its trait); its decision here is only that it trains nothing."""

    name = "provider"

    def __init__(self, scenario, traits=None):
        super().__init__(scenario, traits)
        tiers = scenario.tokenomics.inference_tiers
        c = scenario["compute"]
        # what one provider row stands for: its share of every user's credits a day, with the headroom
        per_user = scenario["users"]["inference_credits_per_day"] * np.asarray(scenario.tier_mix, dtype=float)
        self.unit = per_user * c["capacity_headroom"] / scenario["strategies"]["provider_share"]
        self.response = c["capacity_response"]
        self.tier_cost_scale = np.array([b / tiers[0][1] for _, b in tiers], dtype=float)

    def decide(self, view: View, rows: Rows) -> Decision:
        return Decision(work=0.0, sell=0.0, stake=0.0)

    def capacity_at_join(self, size: np.ndarray) -> np.ndarray:
        """Each joining row's capacity per tier (credits a day, a row each): its `capacity` trait times
        what one provider stands for."""
        return np.multiply.outer(size, self.unit)

    def capacity(self, view: View, rows: Rows, capacity: np.ndarray, utilization, target: float) -> np.ndarray:
        """Each row's capacity tomorrow (a row each, a column per tier), as the aggregate providers'
        rule (hanzo.sim.agents.Providers) row by row: up while a tier's utilization runs above target
        and, for a row with a USD cost, down while a credit of that tier earned it less than it costs it
        (up while more), by [compute] capacity_response; never below 0."""
        growth = self.response * (np.asarray(utilization, dtype=float) - target) / target  # (a tier each)
        cost = rows.traits["cost_usd_per_credit"]
        if cost.max(initial=0.0) > 0:
            per_credit = np.asarray(view.provider_income_hanzo_per_credit, dtype=float) * view.price_usd
            cost = np.multiply.outer(cost, self.tier_cost_scale)
            margin = np.divide(per_credit, cost, out=np.ones_like(cost), where=cost > 0) - 1.0
            growth = growth + self.response * np.clip(margin, -1.0, 1.0)
        return capacity * np.maximum(1.0 + growth, 0.0)


@register
class Voter(Honest):
    """Trains as honest users do, stakes its own share of its pay for votes and, on each proposal,
    votes its stake with its own turnout (hanzo.sim.governance)."""

    name = "voter"

    def decide(self, view: View, rows: Rows) -> Decision:
        return Decision(work=self.work(view, rows), stake=rows.traits["stake_share"])


# each built-in strategy's traits: trait -> its [strategies] key
TRAITS = {
    "honest": {},
    "farmer": {"pay": "farmer_pay", "cost_usd_per_interaction": "farmer_cost_usd_per_interaction"},
    "spammer": {"pay": "spammer_pay", "low_quality": "spammer_low_quality"},
    "holder": {"sell_share": "holder_sell_share", "stake_share": "holder_stake_share"},
    "speculator": {"momentum_response": "speculator_momentum_response"},
    "provider": {"capacity": "provider_capacity", "cost_usd_per_credit": "provider_cost_usd_per_credit",
                 "sell_share": "provider_sell_share"},
    "voter": {"stake_share": "voter_stake_share", "turnout": "voter_turnout"},
}


def resolve(name: str) -> type[Strategy]:
    """A strategy class by registered name or dotted path ("package.module.Class" or "package.module:Class")."""
    if name in REGISTRY:
        return REGISTRY[name]
    module, sep, attr = name.partition(":") if ":" in name else name.rpartition(".")
    if not sep or not module or not attr:
        raise StrategyError(f"{name!r}: not a registered strategy ({', '.join(REGISTRY)}) nor a dotted path "
                            "like package.module.Class")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise StrategyError(f"{name!r}: cannot import it ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(f"{name!r}: expected a subclass of hanzo.sim.strategies.Strategy, got {cls!r}")
    if cls.decide is Strategy.decide:
        raise StrategyError(f"{name!r}: {cls.__name__} does not define decide(view, rows)")
    return cls


def shares(table: dict) -> dict[str, float]:
    """Each strategy's share of the users (honest: what the others leave), the custom one last."""
    out = {name: table[f"{name}_share"] for name in ("farmer", "spammer", "holder", "speculator", "provider", "voter")}
    out["custom"] = table["custom_share"]
    return {"honest": max(0.0, 1.0 - sum(out.values())), **out}


# ------------------------------------------------------------------------------ the contract's limit on pay

PAY_LIMIT = ("TrainingRewards pays an interaction at most [tokenomics] max_multiplier times the reward, and honest "
             "work [users] mean_multiplier times it: a strategy's pay is at most their ratio")


def max_pay(scenario) -> float:
    """The most a unit of a strategy's work can earn against honest work's: a text the oracle rates at the
    contract's highest multiplier, against honest work's mean multiplier (10 / 3 by default)."""
    return scenario.tokenomics.max_multiplier / scenario["users"]["mean_multiplier"]


def pay_bounds(key: str, bounds: tuple[float, float], scenario) -> tuple[float, float]:
    """A trait key's bounds; for a strategy's pay (farmer_pay, spammer_pay) at most `max_pay`."""
    return (bounds[0], min(bounds[1], max_pay(scenario))) if key.endswith("_pay") else bounds


# ------------------------------------------------------------------------------ the executor

# the users' fields a policy reads (Rows), copied into each strategy's own columns as its rows join
COLUMNS = {"activity": np.float64, "reservation": np.float64, "joined": np.int32}


@dataclass
class Today:
    """The day's decisions, over all user rows (rows not active: nothing trained): the activity each
    row trains, that less its low-quality share (`kept`), that times its pay against honest work's
    (`paid`: its weight in the rewards), its sell and stake shares (a number when the same for all).
    When the shares differ between rows, they are capped already (the fork's boost first, then the
    stake, then the sale: hanzo.sim.training.shares, strategy by strategy) and `paid_out` is the share of
    its pay each row puts out of its wallet (sold, staked, staked on its fork); else None."""

    trained: np.ndarray
    kept: np.ndarray
    paid: np.ndarray
    sell: Any
    stake: Any
    spread: Any  # a field's decisions over all rows (hanzo.sim.strategies.Strategies.today)
    paid_out: Any = None

    def weights(self, trained: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kept, paid) for `trained`: the day's own, or, when fees cut what rows trained, recomputed."""
        if trained is self.trained:
            return self.kept, self.paid
        kept = trained * (1.0 - self.spread("low_quality"))
        return kept, kept * self.spread("pay")



class Strategies:
    """Which strategy each user row follows and its traits, and the day's decisions of all rows."""

    def __init__(self, scenario):
        table = scenario["strategies"]
        self.shares = {k: v for k, v in shares(table).items() if v > 0}
        self.mixed = set(self.shares) != {"honest"}  # all honest: the World's population path, unchanged
        self.policies: list[Strategy] = []
        self.keys: list[dict[str, str]] = []  # per strategy, its traits' keys as a scenario's errors name them
        for name in self.shares:
            if name == "custom":
                cls = resolve(table["custom_policy"])
                self.policies.append(cls(scenario))
                self.keys.append({t: f"{cls.__name__}.traits[{t!r}]" for t in self.policies[-1].distributions})
            else:
                traits = {t: distribution(table[key], f"[strategies] {key}", *pay_bounds(key, BOUNDS[key], scenario))
                          for t, key in TRAITS[name].items()}
                self.policies.append(REGISTRY[name](scenario, traits))
                self.keys.append({t: f"[strategies] {key}" for t, key in TRAITS[name].items()})
        # per trait key: its distribution, and the rows that drew from it and of them those clipped to its low
        # and to its high bound (a clipped draw is not what the scenario wrote: see `clipped`)
        self.draws: dict[str, tuple[Distribution, list[int]]] = {}
        self.names = [p.name if n != "custom" else n for n, p in zip(self.shares, self.policies)]
        self.max_pay = max_pay(scenario)  # the most a unit of any strategy's work can earn against honest work's
        # the provider and voter strategies' numbers, if any (hanzo.sim.compute and hanzo.sim.governance read them)
        self.provider = self.names.index("provider") if "provider" in self.shares else None
        self.voter = self.names.index("voter") if "voter" in self.shares else None
        # per user row: the compute capacity it offers (credits a day, a column per tier: providers' rows only)
        # and the HANZO it was paid for compute (served and the Compute Providers pool's release)
        self.capacity = np.zeros((0, len(scenario.tokenomics.inference_tiers) if self.provider is not None else 0))
        self.income = np.zeros(0)
        self.kind = np.zeros(0, dtype=np.int8)
        self.earned_usd = np.zeros(len(self.names))  # per strategy: its pay, each day's at that day's price
        self.minutes_per_interaction = table["minutes_per_interaction"]
        self.traits: list[dict[str, np.ndarray]] = [{t: np.zeros(0) for t in p.distributions} for p in self.policies]
        self.worked = np.zeros(0)  # interactions each row has made (its work)
        # each strategy's rows (in row order) and, in the same order, the users' fields its policy reads and
        # its traits: copied once when they join, so that a day reads each strategy's rows as contiguous arrays
        # instead of gathering them from all rows; the rows of users who left are dropped when next seen
        self.members = [np.zeros(0, dtype=np.int64) for _ in self.policies]
        self.columns = [{c: np.zeros(0, dtype=dtype) for c, dtype in COLUMNS.items()} for _ in self.policies]
        self.own_traits = [{t: np.zeros(0) for t in p.distributions} for p in self.policies]
        self.counts = [0] * len(self.policies)
        self.departed = 0  # users who had left when the members were last pruned
        self._buffers: dict[str, np.ndarray] = {}  # the day's arrays over all rows, reused (no page faults)
        self._rows: dict[int, tuple] = {}  # each strategy's last Rows: (its count, its members' array, Rows)

    def join(self, first: int, end: int, rng: np.random.Generator, users) -> None:
        """Rows first..end-1 of `users` joined: each is given a strategy by the shares, and its traits."""
        if not self.mixed or end <= first:
            return
        if end > len(self.kind):
            size = max(end, 2 * len(self.kind), 1024) if end > users.capacity else users.capacity  # (as the users')
            self.kind = _grown(self.kind, size)
            self.worked = _grown(self.worked, size)
            self.traits = [{t: _grown(a, size) for t, a in traits.items()} for traits in self.traits]
            if self.provider is not None:
                self.capacity = _grown(self.capacity, size)
                self.income = _grown(self.income, size)
        p = np.array(list(self.shares.values()))
        kind = rng.choice(len(p), end - first, p=p / p.sum()).astype(np.int8)
        self.kind[first:end] = kind
        for k, policy in enumerate(self.policies):
            rows = first + np.flatnonzero(kind == k)
            drawn = {}
            for t, dist in policy.distributions.items():
                values, below, above = dist.drawn(rng, len(rows))
                drawn[t] = self.traits[k][t][rows] = values
                counts = self.draws.setdefault(self.keys[k][t], (dist, [0, 0, 0]))[1]
                counts[0] += len(rows)
                counts[1] += below
                counts[2] += above
            if k == self.provider:
                self.capacity[rows] = policy.capacity_at_join(drawn["capacity"])
            self._append(k, rows, {c: getattr(users, c)[rows] for c in COLUMNS}, drawn)

    def _append(self, k: int, rows: np.ndarray, columns: dict[str, np.ndarray], traits: dict[str, np.ndarray]):
        """Strategy k's new members `rows`, with their fields and traits."""
        to = self.counts[k] + len(rows)
        if to > len(self.members[k]):
            size = max(to, 2 * len(self.members[k]), 1024)
            self.members[k] = _grown(self.members[k], size)
            self.columns[k] = {c: _grown(a, size) for c, a in self.columns[k].items()}
            self.own_traits[k] = {t: _grown(a, size) for t, a in self.own_traits[k].items()}
        at = slice(self.counts[k], to)
        self.members[k][at] = rows
        for c, values in columns.items():
            self.columns[k][c][at] = values
        for t, values in traits.items():
            self.own_traits[k][t][at] = values
        self.counts[k] = to

    def _prune(self, users) -> None:
        """Drop the members who left since the last pruning (rows never come back), from every column."""
        on = users.on[:users.rows]
        for k in range(len(self.policies)):
            m = self.counts[k]
            staying = on[self.members[k][:m]]
            if staying.all():
                continue
            kept = int(np.count_nonzero(staying))
            for column in (self.members[k], *self.columns[k].values(), *self.own_traits[k].values()):
                column[:kept] = column[:m][staying]
            self.counts[k] = kept
        self.departed = users.rows - users.active

    def _buffer(self, name: str, n: int) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is None or len(buf) < n:
            buf = self._buffers[name] = np.empty(max(n + n // 8, 1024))  # (room as hanzo.sim.users._scratch)
        return buf[:n]

    def rows(self, k: int) -> Rows:
        """Strategy k's active rows (pruned first: see `today`), as read-only views of its columns (the
        same views while no row joined or left it: a day then makes none)."""
        m = self.counts[k]
        cached = self._rows.get(k)
        if cached is not None and cached[0] == m and cached[1] is self.members[k]:
            return cached[2]

        def view(column: np.ndarray) -> np.ndarray:
            v = column[:m]
            v.flags.writeable = False  # (a policy must not write into the strategy's own columns)
            return v

        rows = Rows(view(self.members[k]), {c: view(a) for c, a in self.columns[k].items()},
                    {t: view(a) for t, a in self.own_traits[k].items()})
        self._rows[k] = (m, self.members[k], rows)
        return rows

    def active(self, k: int, users) -> Rows:
        """Strategy k's active rows now (those who left since the last pruning dropped first)."""
        if users.rows - users.active != self.departed:
            self._prune(users)
        return self.rows(k)

    def decision(self, k: int, d: Decision, rows: int, day: int) -> dict[str, Any]:
        """Strategy k's Decision `d` for its `rows` rows, checked: each field a float (one number for all its
        rows) or an array of a value per row; sell and stake left None are the scenario's shares. A field
        of the wrong length or outside its range is a StrategyError naming the strategy, the day and why."""
        policy, out = self.policies[k], {}
        usual = {"sell": policy.sell_share, "stake": policy.stake_share}
        for name in ("work", "pay", "low_quality", "sell", "stake"):
            value = getattr(d, name)
            if value is None:
                value = usual[name]
            if isinstance(value, (float, int)):  # one number for all its rows (bool included: 0 or 1)
                value = low = high = float(value)
            else:
                value = np.asarray(value, dtype=np.float64)
                if value.ndim and value.shape != (rows,):
                    raise StrategyError(f"day {day}: strategy {self.names[k]!r} decided {name} for "
                                        f"{value.shape[0]} rows, expected one number or {rows}")
                low, high = (value.min(), value.max()) if value.ndim else (value, value)
                value = value if value.ndim else float(value)
            top = self.max_pay if name == "pay" else 1.0
            if not (low >= 0 and high <= top):  # (NaN fails both)
                raise StrategyError(f"day {day}: strategy {self.names[k]!r} decided {name} outside "
                                    f"[0, {top:.4g}]" + (f" ({PAY_LIMIT})" if name == "pay" else ""))
            out[name] = value
        return out

    def today(self, w: World) -> Today:
        """Every strategy decides for its active rows (its own columns, contiguous), and what each row
        trains today, the share of it not judged low quality and that times its pay are put in rows over
        all users (rows not active: nothing), with each row's sell and stake shares."""
        users = w.users
        n = users.rows
        if n - users.active != self.departed:  # users left since the last day: drop them from their strategies
            self._prune(users)
        everyone = users.active == n  # nobody has left: the strategies' rows together are every row
        fields = ("work", "pay", "low_quality", "sell", "stake")
        decided: dict[str, dict[int, Any]] = {name: {} for name in fields}
        rows_of: dict[int, np.ndarray] = {}
        trained, kept, paid = (self._buffer(name, n) for name in ("trained", "kept", "weights_paid"))
        if not everyone:
            trained.fill(0.0)
        kept_of: dict[int, np.ndarray] = {}
        paid_of: dict[int, np.ndarray] = {}
        lowered, repriced = [], []  # the strategies whose kept (paid) differs from their trained (kept)
        for k, policy in enumerate(self.policies):
            if not self.counts[k]:
                continue
            rows = self.rows(k)
            idx = rows_of[k] = rows.index
            for name, value in self.decision(k, policy.decide(w.view, rows), len(idx), w.view.day).items():
                decided[name][k] = value  # (a float, or an array of a value per row: isinstance tells them apart)
            # (each as the rows over all users would compute it, row by row: the same numbers)
            work, pay, low = (decided[name][k] for name in ("work", "pay", "low_quality"))
            mine = np.multiply(rows.activity, work, out=self._buffer("mine", len(idx)))  # (read in this pass only)
            trained[idx] = mine
            # (kept is trained where nothing is judged low quality: copied below)
            if isinstance(low, np.ndarray) or low != 0.0:
                mine = kept_of[k] = mine * (1.0 - low)
                lowered.append(k)
            if isinstance(pay, np.ndarray) or pay != 1.0:  # (and paid is kept where work pays as honest work)
                paid_of[k] = mine * pay
                repriced.append(k)
        # kept and paid: trained copied whole (a contiguous copy costs a fraction of putting rows in place),
        # then the strategies whose low-quality share or pay changes them put their own rows in place
        np.copyto(kept, trained)
        for k in lowered:
            kept[rows_of[k]] = kept_of[k]
        np.copyto(paid, kept)
        for k in repriced:
            paid[rows_of[k]] = paid_of[k]
        largest = max(rows_of, key=lambda k: len(rows_of[k]), default=None)

        def spread(name: str):
            """One number when every strategy decided the same number, else a value per user row: the
            largest strategy's number filled in (or its rows' values), then each other strategy's put
            in its rows, so a day costs the minorities' rows (rows not active: whatever, as they train
            nothing)."""
            values = decided[name]
            numbers = {k: v for k, v in values.items() if not isinstance(v, np.ndarray)}
            if len(numbers) == len(values) and len(set(numbers.values())) <= 1:
                return next(iter(numbers.values()), 0.0)
            out = self._buffer(name, n)
            out.fill(numbers.get(largest, 0.0))
            for k, v in values.items():
                if k != largest or k not in numbers:
                    out[rows_of[k]] = v
            return out

        def one_number(name: str) -> bool:
            values = decided[name].values()
            return not any(isinstance(v, np.ndarray) for v in values) and len(set(values)) <= 1

        if one_number("sell") and one_number("stake"):  # one sell share and one stake share for all
            return Today(trained, kept, paid, spread("sell"), spread("stake"), spread)
        # the shares per row, capped as hanzo.sim.training.shares caps them, strategy by strategy (a number for
        # a strategy that decided numbers: the same arithmetic, on its rows only) before they are spread
        boost = w.s["policy"]["boost_stake_share"]
        decided["stake_capped"], decided["paid_out"] = {}, {}
        for k in rows_of:
            sell_k, stake_k = decided["sell"][k], decided["stake"][k]
            if isinstance(sell_k, np.ndarray) or isinstance(stake_k, np.ndarray):
                if boost:  # (stakes are at most 1, checked above: only a boost caps them)
                    stake_k = np.minimum(stake_k, 1.0 - boost)
                room = np.subtract(1.0, stake_k)  # (without a boost, >= 0)
                if boost:
                    room = np.maximum(room - boost, 0.0)
                out_k = np.add(np.minimum(sell_k, room), stake_k)
            else:  # numbers: the same arithmetic in Python (a numpy call on a number costs a microsecond)
                if boost:
                    stake_k = min(stake_k, 1.0 - boost)
                room = 1.0 - stake_k
                if boost:
                    room = max(room - boost, 0.0)
                out_k = min(sell_k, room) + stake_k
            if boost:
                out_k = out_k + boost
            decided["stake_capped"][k] = stake_k
            decided["paid_out"][k] = out_k
        return Today(trained, kept, paid, None, spread("stake_capped"), spread, spread("paid_out"))

    def clipped(self) -> dict[str, float]:
        """Per trait key whose draws were clipped to its bounds: the share of its rows' draws clipped."""
        return {key: (below + above) / rows for key, (_, (rows, below, above)) in self.draws.items()
                if below + above}

    def warn_clipped(self, share: float = CLIPPED_WARNING) -> None:
        """A ClippedWarning per trait key more than `share` of whose draws were clipped to a bound: those
        rows follow another distribution than the one the scenario names (its mean, its spread)."""
        for key, (dist, (rows, below, above)) in self.draws.items():
            for n, side, bound in ((below, "below", dist.low), (above, "above", dist.high)):
                if n > share * rows:
                    args = ", ".join(f"{a:g}" for a in dist.args)
                    warnings.warn(f"{key}: {n / rows:.1%} of {rows:,} rows drew {dist.kind}({args}) {side} the "
                                  f"key's bound {bound:.4g} and were clipped to it: those rows do not follow the "
                                  "distribution as written", ClippedWarning, stacklevel=2)

    def record(self, trained: np.ndarray, per_activity: float) -> None:
        """Rows made `trained` x `per_activity` interactions today."""
        n = len(trained)
        self.worked[:n] += np.multiply(trained, per_activity, out=self._buffer("worked", n))

    def record_pay(self, paid: np.ndarray, price_usd: float) -> None:
        """Rows were paid `paid` (ledger units, a row each) today, at `price_usd` a HANZO."""
        n = len(paid)
        self.earned_usd += np.bincount(self.kind[:n], weights=paid, minlength=len(self.names)) / UNIT * price_usd

    def summary(self, users) -> dict:
        """Per strategy: its users, their HANZO earned, their interactions and earnings per interaction and
        per hour of work ([strategies] minutes_per_interaction; in USD at each day's price), and what they
        hold at the end (HANZO, and of it staked: their votes)."""
        n = users.rows
        earned, kind = users.earned[:n] / UNIT, self.kind[:n]
        stake, held = users.stake[:n] / UNIT, users.holdings() / UNIT
        out = {}
        for k, name in enumerate(self.names):
            mine = kind == k
            work = float(self.worked[:n][mine].sum())
            hours = work * self.minutes_per_interaction / 60
            out[name] = {"users": int(mine.sum()), "earned_hanzo": float(earned[mine].sum()), "interactions": work,
                         "hanzo_per_interaction": float(earned[mine].sum()) / work if work else None,
                         "hours_of_work": hours, "earned_usd": float(self.earned_usd[k]),
                         "hanzo_per_hour": float(earned[mine].sum()) / hours if hours else None,
                         "usd_per_hour": float(self.earned_usd[k]) / hours if hours else None,
                         "holdings": float(held[mine].sum()), "staked": float(stake[mine].sum())}
            if k == self.provider:  # what they were paid for compute, and the capacity of those still active
                on = mine & users.on[:n]
                out[name].update(compute_income_hanzo=float(self.income[:n][mine].sum()),
                                 capacity=[float(x) for x in self.capacity[:n][on].sum(axis=0)])
        return out


def _grown(rows: np.ndarray, size: int) -> np.ndarray:
    new = np.zeros((size, *rows.shape[1:]), dtype=rows.dtype)
    new[:len(rows)] = rows
    return new


# the [strategies] keys' bounds, for the distributions (set by hanzo.sim.scenario from its SPEC)
BOUNDS: dict[str, tuple[float, float]] = {}
