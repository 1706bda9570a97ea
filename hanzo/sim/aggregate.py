"""The anchor model of the simulator benchmark: aggregate state only (supply, burned, staked,
price), every Monte Carlo run at once.

Rules (benchmarks/sim.py runs the same rules in radCAD): emission of 100M HANZO a year halving
every 4 years, paid daily; 10% of it burned; half of the rest staked; 0.1% of stake unstaking a
day; the price multiplied daily by a factor drawn from the run's own stream (2% log noise and a
1% daily chance of a 20% jump). The factors are drawn once per run (`noise_factors`), so any
implementation that applies them in the same order ends in the same state, bit for bit.

The runs are one axis of the state arrays: a day costs a few array operations whatever the
number of runs, inside ordinary SimPy processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

FIRST_YEAR = 100e6
HALVING_YEARS = 4
BURN = 0.10
STAKE_SHARE = 0.5
UNSTAKE = 0.001


def daily_emission(day: int) -> float:
    """HANZO emitted on `day`: the year's rate / 365, halving every four years."""
    return FIRST_YEAR / 2 ** ((day // 365) // HALVING_YEARS) / 365


def noise_factors(seed: int, days: int) -> np.ndarray:
    """The run's daily price factors exp(0.02 z + jump), jump = +-ln(1.2) with probability 1%."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(days)
    jumps = rng.random(days) < 0.01
    up = rng.random(days) < 0.5
    return np.exp(0.02 * z + np.where(jumps, np.where(up, np.log(1.2), np.log(0.8)), 0.0))


@dataclass
class Aggregate:
    supply: np.ndarray
    burned: np.ndarray
    staked: np.ndarray
    price: np.ndarray


def initial(runs: int) -> Aggregate:
    return Aggregate(np.full(runs, 500e6), np.zeros(runs), np.zeros(runs), np.full(runs, 0.1))


def run(factors: np.ndarray, days: int, history: dict[str, np.ndarray] | None = None) -> Aggregate:
    """Run every run (rows of `factors`, shape runs x days) for `days` days. With `history` (a dict
    to fill), every variable's value at the end of every day is recorded, shape days x runs."""
    runs = factors.shape[0]
    state = initial(runs)
    env = simpy.Environment()
    if history is not None:
        for name in ("supply", "burned", "staked", "price"):
            history[name] = np.empty((days, runs))

    def emission():
        while True:
            e = daily_emission(int(env.now))
            burn = e * BURN
            state.burned += burn
            state.supply += e - burn
            state.staked += (e - burn) * STAKE_SHARE
            yield env.timeout(1)

    def unstaking():
        while True:
            state.staked -= state.staked * UNSTAKE
            yield env.timeout(1)

    def market():
        while True:
            state.price *= factors[:, int(env.now)]
            yield env.timeout(1)

    def record():
        while True:
            day = int(env.now)
            history["supply"][day] = state.supply
            history["burned"][day] = state.burned
            history["staked"][day] = state.staked
            history["price"][day] = state.price
            yield env.timeout(1)

    for process in (emission, unstaking, market) + ((record,) if history is not None else ()):
        env.process(process())
    env.run(until=days)
    return state
