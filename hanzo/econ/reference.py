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
