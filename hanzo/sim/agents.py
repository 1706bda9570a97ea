"""The agents' decisions, written once: each type is one small policy, `decide(view, rng)`, that
the World's cohorts and chain mode's accounts both call, so the two executors cannot drift.

A policy sees a `View` of yesterday's economy (what a participant could read off a price feed and
the ledger) and returns shares and rates; an executor turns them into flows (the World, for a
population at once) or transactions (chain mode, per account). Every response is off at its
default, so a scenario that sets none of the [agents] keys runs the fixed shares it always ran.

- Trainers train less when a paid interaction is worth less than their reservation wage (USD);
  in the World each user agent has its own (USD per day), and decides on it.
- Adopters join on the logistic curve scaled by the same ratio, and churn when it is low (in the
  World: who leaves is drawn at random, each user by its own reservation wage).
- Holders sell more after the price has fallen and less after it has risen (momentum), and stake
  the rest of their share as before.
- Spammers submit junk while its expected pay (the share the oracle lets through, times the
  reward) beats its gas; their low-quality ops burn from the rationed pool.
- Providers add capacity while income per credit covers their USD cost, and withdraw it when not.
- Speculators buy compute credits while the market maker's controller pushes a tier's price up and
  sell them back; the contract's cost-basis cap holds them to what they paid in.
- Farmers are a population of their own: scripts that pass the gate at multiplier 1, sell all they
  earn, and enter while an interaction pays more than it costs them, leaving when it does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hanzo.econ.params import WEI
from hanzo.econ.reference import training_payout


def gas_usd(gas, costs: dict):
    """What `gas` costs in USD at the scenario's [costs] gas price and gas-token price."""
    return gas * costs["gas_price_gwei"] * 1e-9 * costs["eth_usd"]


def starting_pay(p, mean_multiplier: float) -> float:
    """What an accepted interaction pays its user (HANZO) before anything is paid: the
    contract's rule at the scenario's mean multiplier, an unrationed pool."""
    return training_payout(p, 1, 1).user / WEI * mean_multiplier


@dataclass(frozen=True)
class View:
    """What every agent reads at the start of a day: yesterday's figures."""

    day: int
    price_usd: float  # HANZO
    price_usd_30d_ago: float
    reward_hanzo_per_interaction: float  # what an accepted interaction paid its user, after rationing
    provider_income_hanzo_per_credit: object  # what serving a credit paid a provider, per tier (array)
    gas_usd_per_op: float
    farm_hanzo_per_interaction: float = 0.0  # what a farmer's interaction paid (multiplier 1, both shares)

    @property
    def reward_usd_per_interaction(self) -> float:
        return self.reward_hanzo_per_interaction * self.price_usd

    @property
    def momentum(self) -> float:
        """log return over 30 days."""
        if self.price_usd <= 0 or self.price_usd_30d_ago <= 0:
            return 0.0
        return math.log(self.price_usd / self.price_usd_30d_ago)


def _worth(view: View, reservation_usd: float, elasticity: float) -> float:
    """(reward / reservation) ** elasticity, at most 1; 1 when there is no reservation wage."""
    if reservation_usd <= 0 or elasticity == 0:
        return 1.0
    ratio = view.reward_usd_per_interaction / reservation_usd
    return min(1.0, ratio**elasticity) if ratio > 0 else 0.0


def _worth_each(pay_usd, reservation_usd, elasticity: float, out=None):
    """`_worth` per agent: (pay / reservation) ** elasticity, at most 1, for arrays of what a usual
    day of work pays each agent and its reservation wage (both USD per day); 1 without one. Into
    `out` when given (a float array of the same length, `pay_usd` itself when the caller is done
    with it)."""
    pay, reservation = np.asarray(pay_usd, dtype=float), np.asarray(reservation_usd, dtype=float)
    if elasticity == 0 or not len(reservation) or reservation.max() <= 0:
        return np.ones(len(pay))
    if reservation.min() > 0:  # (every agent has one: the usual case, in a third of the passes over the rows)
        ratio = np.divide(pay, reservation, out=out)
    else:
        ratio = np.divide(pay, reservation, out=np.full(len(pay), np.inf), where=reservation > 0)
    # a ratio of 0 gives 0 ** elasticity = 0 (elasticity > 0); pay is never negative
    np.minimum(ratio, 1.0, out=ratio)
    if elasticity != 1.0:  # (x ** 1 is x)
        ratio **= elasticity  # (in place, by the same rule as `x ** elasticity`)
    return ratio


@dataclass(frozen=True)
class Trainers:
    reservation_usd: float  # USD per interaction below which users train less
    elasticity: float

    def decide(self, view: View, rng=None) -> float:
        """The share of their usual interactions users make today."""
        return _worth(view, self.reservation_usd, self.elasticity)

    def decide_each(self, pay_usd, reservation_usd):
        """Per user agent: the share of its usual interactions it makes today, from what a usual day
        of its work pays (yesterday's reward) against its own reservation wage (USD per day)."""
        return _worth_each(pay_usd, reservation_usd, self.elasticity)


@dataclass(frozen=True)
class Adopters:
    growth_per_day: float
    reservation_usd: float
    elasticity: float
    churn_per_day: float  # when a paid interaction is worth nothing; scaled down as it is worth more

    def decide(self, view: View, rng=None) -> tuple[float, float]:
        """(logistic growth rate, share of users who leave today)."""
        worth = _worth(view, self.reservation_usd, self.elasticity)
        return self.growth_per_day * worth, self.churn_per_day * (1.0 - worth)

    def churn_each(self, view: View, pay_usd, reservation_usd, out=None):
        """Per active user agent: its chance of leaving today, from its own reservation wage (USD
        per day) against what a usual day of its work pays (into `out` when given, as `_worth_each`)."""
        chance = np.subtract(1.0, _worth_each(pay_usd, reservation_usd, self.elasticity, out), out=out)
        chance *= self.churn_per_day  # (in place: a row per active user)
        return chance


@dataclass(frozen=True)
class Holders:
    sell_share: float
    stake_share: float
    momentum_response: float  # 0: fixed shares

    def decide(self, view: View, rng=None) -> tuple[float, float]:
        """(share of today's earnings sold, share staked). Selling moves with falling prices; what
        is not sold is staked in the usual proportion, and the total never passes 1."""
        if self.momentum_response == 0:
            return self.sell_share, self.stake_share
        sell = min(1.0, max(0.0, self.sell_share * math.exp(-self.momentum_response * view.momentum)))
        kept = 1.0 - self.sell_share
        stake = self.stake_share * (1.0 - sell) / kept if kept > 0 else 0.0
        return sell, min(stake, 1.0 - sell)


@dataclass(frozen=True)
class Spammers:
    base_share: float  # low-quality share from honest mistakes
    leak: float  # share of junk the oracle accepts (paid at multiplier 1)
    max_share: float  # most of all ops junk can be

    def decide(self, view: View, rng=None) -> float:
        """The share of ops that are low quality today: honest mistakes, plus junk while its
        expected pay per op (leak x the reward of an op's interactions) beats its gas."""
        if self.leak <= 0 or self.max_share <= self.base_share:
            return self.base_share
        pay = self.leak * view.reward_usd_per_interaction
        if view.gas_usd_per_op <= 0:
            return self.max_share if pay > 0 else self.base_share
        edge = pay / view.gas_usd_per_op  # > 1: junk pays
        spam = (self.max_share - self.base_share) * max(0.0, min(1.0, edge - 1.0))
        return self.base_share + spam


@dataclass(frozen=True)
class Providers:
    capacity_response: float
    cost_usd_per_credit: float  # for the first tier (0: capacity follows utilization only)
    tier_cost_scale: tuple = (1.0,)  # each tier's cost relative to the first's (as their base prices)

    def decide(self, view: View, utilization, target: float):
        """Daily capacity growth per tier: up while utilization runs above target and, with a USD
        cost, down while a served credit of that tier earns less than it costs."""
        growth = self.capacity_response * (utilization - target) / target
        if self.cost_usd_per_credit > 0:
            cost = self.cost_usd_per_credit * np.asarray(self.tier_cost_scale)
            margin = np.asarray(view.provider_income_hanzo_per_credit) * view.price_usd / cost - 1.0
            growth = growth + self.capacity_response * np.clip(margin, -1.0, 1.0)
        return growth


@dataclass(frozen=True)
class Farmers:
    most: int  # the farmer population's ceiling (0: no farmers)
    entry_per_day: float  # share of `most` entering a day per unit of margin (leaving when negative)
    cost_usd_per_interaction: float
    interactions_per_day: float  # each farmer's

    def decide(self, view: View, farmers: float) -> float:
        """Tomorrow's farmer population: more while an interaction pays more than it costs."""
        if self.most == 0:
            return 0.0
        pay = view.farm_hanzo_per_interaction * view.price_usd
        margin = pay / self.cost_usd_per_interaction - 1.0 if self.cost_usd_per_interaction > 0 else 1.0
        change = self.entry_per_day * self.most * max(-1.0, min(1.0, margin))
        return max(0.0, min(float(self.most), farmers + change))


@dataclass(frozen=True)
class Speculators:
    budget_per_day: float  # HANZO they put into credits a day while the controller pushes prices up (0: none)
    hold_days: float  # they sell a held position over this many days while the push lasts

    def decide(self, momentum, held, price) -> tuple:
        """(credits to buy, credits to sell back) per tier: buy the tiers whose controller momentum
        is up, sell everything of a tier whose momentum is not, and a 1/hold_days slice otherwise."""
        rising = np.asarray(momentum) > 0
        buy = np.zeros(len(held))
        if self.budget_per_day and rising.any():
            buy[rising] = self.budget_per_day / rising.sum() / np.asarray(price)[rising]
        sell = np.where(rising, np.asarray(held) / max(self.hold_days, 1.0), held)
        return buy, sell


def from_scenario(scenario) -> dict:
    """Every policy, configured from the scenario's tables."""
    u, a, c = scenario["users"], scenario["agents"], scenario["compute"]
    tiers = scenario.tokenomics.inference_tiers
    return {
        "trainers": Trainers(a["reservation_usd_per_interaction"], a["reward_elasticity"]),
        "adopters": Adopters(u["growth_per_day"], a["reservation_usd_per_interaction"], a["reward_elasticity"],
                             a["churn_per_day"]),
        "holders": Holders(u["sell_share"], u["stake_share"], a["momentum_response"]),
        "spammers": Spammers(u["low_quality_share"], a["spam_leak"], a["spam_max_share"]),
        "providers": Providers(c["capacity_response"], a["provider_cost_usd_per_credit"],
                               tuple(b / tiers[0][1] for _, b in tiers)),
        "speculators": Speculators(a["speculator_budget_per_day"], a["speculator_hold_days"]),
        "farmers": Farmers(a["farmers_max"], a["farm_entry_per_day"], a["farm_cost_usd_per_interaction"],
                           a["farm_interactions_per_day"]),
    }
