"""Uncertainty a scenario asks for (the [uncertainty] table; issue 17, item 4), so that Monte Carlo
runs spread as far as what is not known, not just as far as rounding.

Two kinds, both drawn from the run's seed:

- What a run cannot know in advance and keeps for its whole life: how fast adoption goes and where it
  tops out, and how much of their pay users sell. `draw` picks them once, at the start, and the World
  runs on a copy of the scenario that holds them, so every process reads the same drawn value.
- What moves from day to day: good and bad days for word of mouth (the logistic step), and compute
  demand's swings around what the users' number and prices make it, which mean-revert (`Demand`).

Every key is 0 by default, and then nothing here is drawn: a run is the deterministic one it was.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .scenario import SPEC, Scenario


def draw(scenario: Scenario, rng: np.random.Generator) -> Scenario:
    """The scenario with this run's growth rate, adoption ceiling and sell share (the scenario's own
    when their spreads are 0). The scenario's figure is the median run's: a forecast is as likely to be
    too high as too low, and the lognormal keeps a rate and a ceiling positive."""
    unc = scenario["uncertainty"]
    if not (unc["growth_spread"] or unc["ceiling_spread"] or unc["sell_share_spread"]):
        return scenario
    users = dict(scenario["users"])
    # one draw each, in a fixed order, whether or not its spread is 0: a spread changes its figure only
    z_growth, z_ceiling, z_sell = rng.standard_normal(3)
    growth = users["growth_per_day"] * math.exp(unc["growth_spread"] * z_growth)
    users["growth_per_day"] = _within("growth_per_day", growth)
    ceiling = round(users["max"] * math.exp(unc["ceiling_spread"] * z_ceiling))
    users["max"] = _within("max", max(ceiling, users["initial"], 1))
    # what users do not sell they stake (and boost-stake) in the scenario's shares, which must still fit
    room = 1.0 - users["stake_share"] - scenario["policy"]["boost_stake_share"]
    users["sell_share"] = min(max(users["sell_share"] + unc["sell_share_spread"] * z_sell, 0.0), room)
    return replace(scenario, values={**scenario.values, "users": users})


def _within(key: str, value):
    _, lo, hi, _, _ = SPEC["users"][key]
    return min(max(value, lo), hi)


def word_of_mouth(volatility: float, rng: np.random.Generator):
    """The day's factor on the logistic step of adoption: lognormal with mean 1 (the curve is the
    expected path), independent from day to day. Always 1 without volatility."""
    while True:
        yield rng.lognormal(-volatility * volatility / 2, volatility) if volatility else 1.0


class Demand:
    """Compute demand's factor around its deterministic level: log demand is an AR(1) (a discrete
    Ornstein-Uhlenbeck process), x' = (1 - reversion) x + volatility e. Demand swings (a launch, a
    holiday, a competitor's outage) fade over 1 / reversion days rather than compound for ever, as a
    random walk's would. It starts from its stationary law, and the factor is exp(x - v / 2), v that
    law's variance, so its mean is 1 on every day: the noise widens runs without shifting them."""

    def __init__(self, volatility: float, reversion: float, rng: np.random.Generator):
        self.volatility, self.keep, self.rng = volatility, 1.0 - reversion, rng
        self.variance = volatility**2 / (1.0 - self.keep**2)
        self.x = rng.normal(0.0, math.sqrt(self.variance))

    def factor(self) -> float:
        """Today's factor; the process then moves on a day."""
        today = math.exp(self.x - self.variance / 2)
        self.x = self.keep * self.x + self.volatility * self.rng.standard_normal()
        return today
