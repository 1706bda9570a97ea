"""The exact integer reference model of every contract rule.

Each function mirrors one contract computation with the same integer arithmetic and the same
rounding (floor division everywhere), so that tests can compare the contracts with it wei for
wei. Parameters come from hanzo.econ.params.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from .params import BPS, Tokenomics


def emitted_at(p: Tokenomics, elapsed: int) -> int:
    """Total emission due `elapsed` seconds after the schedule's start (EmissionSchedule.emittedAt)."""
    if elapsed <= 0:
        return 0
    era, into_era = divmod(elapsed, p.era_length)
    cap = p.max_emission
    total, era_emission = 0, p.first_era_emission
    i = 0
    while i < era and era_emission:
        total += era_emission
        if total >= cap:
            return cap
        era_emission >>= 1
        i += 1
    total += era_emission * into_era // p.era_length
    return min(total, cap)


def emission_rate_per_year(p: Tokenomics, year: int) -> int:
    """rate(year) = first-year emission / 2^floor(year / halving_years), in wei per year."""
    return p.emission_first_year >> (year // p.halving_years)


def emission_split(p: Tokenomics, due: int, released: int) -> tuple[int, int]:
    """(to_training, to_compute) of EmissionSchedule.release taking the cumulative total from
    `released` to `due`. The contract keeps releasedToTraining = floor(released * share), so
    neither pool drifts by rounding however the releases fall."""
    to_training = due * p.training_share_bps // BPS - released * p.training_share_bps // BPS
    return to_training, (due - released) - to_training


def pool_exhaustion_elapsed(p: Tokenomics) -> int | None:
    """Seconds after start at which cumulative emission reaches max_emission (None if never within 256 eras)."""
    if p.emission_mode != "pools":
        return None
    lo, hi = 0, p.era_length * 256
    if emitted_at(p, hi) < p.max_emission:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if emitted_at(p, mid) >= p.max_emission:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass(frozen=True)
class Payout:
    """Where one training op's reward goes, in wei."""

    user: int
    owner: int
    burned: int

    @property
    def paid(self) -> int:
        return self.user + self.owner

    @property
    def from_pool(self) -> int:
        return self.user + self.owner + self.burned


def training_reward(p: Tokenomics, multiplier: int, interactions: int) -> int:
    """R = reward_per_interaction x interactions x multiplier."""
    return p.reward_per_interaction * interactions * multiplier


def training_payout(p: Tokenomics, multiplier: int, interactions: int, low_quality: bool = False) -> Payout:
    """TrainingRewards.payouts: the burn and the 70:30 split of D2, or a full burn if low quality."""
    reward = training_reward(p, multiplier, interactions)
    if low_quality:
        return Payout(0, 0, reward)
    burned = reward * p.training_burn_bps // BPS
    distributed = reward - burned if p.burn_mode == "from_reward" else reward
    user = distributed * p.user_share_bps // BPS
    return Payout(user, distributed - user, burned)


def pool_day_budget(p: Tokenomics, pool_balance: int, pace_bps: int | None = None) -> int:
    """The pool's budget for a day (TrainingRewards._spend): pace x the pool's balance at the
    day's first op, floor. What ops take from the pool that day never exceeds it."""
    return pool_balance * (p.pool_pace_bps if pace_bps is None else pace_bps) // BPS


FORK_CAP = "ForkDailyCapReached"
BUDGET_SPENT = "DailyBudgetSpent"


@dataclass
class DailyBudgets:
    """TrainingRewards' daily budgets, op by op: per fork, the interactions of its owner's ops and
    (a budget of their own) of all other users' ops, each at most max_interactions_per_fork_day;
    and the pool's budget, pool_day_budget at the day's first op, from which each op (low quality
    too: its burn) takes what it costs the pool, in full, or is deferred. A day is `now // 86_400`."""

    p: Tokenomics
    pace_bps: int | None = None  # None: p.pool_pace_bps
    forks: dict = None  # fork -> (day, owner's interactions, others')
    day: int = -1
    left: int = 0

    def __post_init__(self) -> None:
        self.forks = {} if self.forks is None else self.forks
        self.pace_bps = self.p.pool_pace_bps if self.pace_bps is None else self.pace_bps

    def admit(self, now: int, fork: int, own: bool, interactions: int, payout: Payout, low_quality: bool,
              pool_balance: int) -> str | None:
        """Whether the contract pays the op: None (and the op is counted), or the name of the error
        that defers it (nothing counted). `pool_balance`: the pool before the op (in a batch, before
        the batch)."""
        today = now // 86_400
        fday, owner_used, others_used = self.forks.get(fork, (today, 0, 0))
        if fday != today:
            owner_used = others_used = 0
        used = owner_used if own else others_used
        if interactions > self.p.max_interactions_per_fork_day - used:
            return FORK_CAP
        left = self.left if self.day == today else pool_day_budget(self.p, pool_balance, self.pace_bps)
        if payout.from_pool > left:
            return BUDGET_SPENT
        self.day, self.left = today, left - payout.from_pool
        self.forks[fork] = (today, owner_used + interactions * own, others_used + interactions * (not own))
        return None

    def left_today(self, now: int, pool_balance: int) -> int:
        """TrainingRewards.budgetLeftToday."""
        return self.left if self.day == now // 86_400 else pool_day_budget(self.p, pool_balance, self.pace_bps)


def nft_mint_fee(p: Tokenomics, performance: int) -> tuple[int, int]:
    """(fee, burned) of minting a fork of a base model with `performance` (ModelNFT.mint)."""
    fee = p.nft_base_mint_fee * (100 + performance) // 100
    return fee, fee * p.nft_fee_burn_bps // BPS


def boost_bps(p: Tokenomics, stake: int) -> int:
    """ModelNFT.boostBps: 10_000 + min(cap, isqrt(stake * 1e8 / boost_ref_stake))."""
    extra = isqrt(stake * 10**8 // p.boost_ref_stake)
    return BPS + min(extra, p.boost_max_extra_bps)


def boost_float(p: Tokenomics, stake_hanzo):
    """boost_bps / 10_000 for arrays of stakes in HANZO (floats): the simulator's form of the same
    rule, 1 + min(cap, sqrt(stake / boost_ref_stake)); tests/test_emission.py holds it to boost_bps."""
    import numpy as np

    return 1.0 + np.minimum(p.boost_max_extra_bps / BPS, np.sqrt(np.asarray(stake_hanzo, dtype=float) * 1e18 / float(p.boost_ref_stake)))


BURNING_OUTCOMES = ("Defeated", "Expired")
SETTLED_OUTCOMES = ("Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")


def deposit_outcome(p: Tokenomics, state: str) -> tuple[int, int]:
    """(returned, burned) of a proposal's deposit once the proposal is in `state` (D5).

    Raises ValueError for Pending or Active: the deposit cannot be settled yet.
    """
    if state not in SETTLED_OUTCOMES:
        raise ValueError(f"a deposit cannot be settled while the proposal is {state}")
    if state in BURNING_OUTCOMES:
        return 0, p.proposal_deposit
    return p.proposal_deposit, 0


def vested(p: Tokenomics, total_allocation: int, elapsed: int) -> int:
    """Team tokens vested `elapsed` seconds after the vesting start (VestingWalletCliff)."""
    if elapsed < p.team_vesting_cliff:
        return 0
    if elapsed >= p.team_vesting_duration:
        return total_allocation
    return total_allocation * elapsed // p.team_vesting_duration
