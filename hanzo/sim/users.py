"""The users: their population as arrays, how they join and leave (adoption), and the forks they
mint, whose fee they must buy. Farmers mint forks through the same fee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hanzo.econ.reference import boost_float, nft_mint_fee

from .ledger import hanzo

if TYPE_CHECKING:
    from .world import World


@dataclass
class Users:
    """The user population as arrays, one entry per user who has joined.

    A user's daily activity is `activity[i]` times the day's interactions per unit of activity,
    so everything a user earns is `activity[i]` times what one unit of activity earned since the
    user joined: `earned(i) = activity[i] * (reward_index - index_at_join[i])`. A day then costs
    a few scalar operations whatever the population, and per-user figures (the reward Gini) are
    one array expression away.
    """

    active: int = 0
    activity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    index_at_join: np.ndarray = field(default_factory=lambda: np.zeros(0))
    total_activity: float = 0.0
    reward_index: float = 0.0  # HANZO earned per unit of activity since day 0
    forks_minted: int = 0

    def grow(self, to: int, rng: np.random.Generator, sigma: float) -> int:
        """Add users up to `to`; arrays grow by doubling. Returns how many joined."""
        joined = to - self.active
        if joined <= 0:
            return 0
        if to > len(self.activity):
            size = max(to, 2 * len(self.activity), 1024)
            self.activity = np.concatenate([self.activity, np.zeros(size - len(self.activity))])
            self.index_at_join = np.concatenate([self.index_at_join, np.zeros(size - len(self.index_at_join))])
        # lognormal with mean 1: a few heavy users, many light ones
        new = rng.lognormal(-sigma * sigma / 2, sigma, joined)
        self.activity[self.active:to] = new
        self.index_at_join[self.active:to] = self.reward_index
        self.total_activity += float(new.sum())
        self.active = to
        return joined

    def leave(self, k: int) -> None:
        """The `k` latest joiners leave (last in, first out)."""
        k = min(k, self.active)
        if k:
            self.total_activity -= float(self.activity[self.active - k:self.active].sum())
            self.active -= k

    def earned(self) -> np.ndarray:
        n = self.active
        return self.activity[:n] * (self.reward_index - self.index_at_join[:n])


def adoption(w: World):
    """Users join on a logistic curve; each new user mints a fork (fee: half burned, half
    treasury). A newcomer who cannot buy the fee (the pool's day and holders' wallets spent)
    waits for a later day."""
    u = w.s["users"]
    n = float(u["initial"])
    adopters = w.agents["adopters"]
    while True:
        growth, churn = adopters.decide(w.view)
        if churn:  # the latest joiners leave first; their forks stay minted
            leaving = int(w.users.active * churn)
            w.users.leave(leaving)
            w.churned += leaving
            n = max(0.0, n - leaving)
        joining = max(0, min(int(round(n)), u["max"]) - w.users.active)
        joined = w.users.grow(w.users.active + forks_affordable(w, "holders", joining), w.rng_users,
                              u["activity_sigma"])
        w.users_waiting = joining - joined
        if joined:
            w.users.forks_minted += joined
            mint_forks(w, "holders", joined)
        n += growth * n * (1.0 - n / u["max"])
        yield w.env.timeout(1)


def fork_fee(w: World) -> tuple[float, float]:
    """(fee, burned) of minting one fork (ModelNFT.mint), in HANZO."""
    return tuple(hanzo(x) for x in nft_mint_fee(w.p, w.s["users"]["fork_performance"]))


def forks_affordable(w: World, buyer: str, count: float) -> float:
    """How many of `count` forks `buyer` can buy the fee of today (whole forks for a whole count)."""
    fee = fork_fee(w)[0]
    if fee > 0 and count * fee > w.exchange.affordable(buyer):
        funded = w.exchange.affordable(buyer) / fee
        return math.floor(funded) if isinstance(count, int) else funded
    return count


def mint_forks(w: World, buyer: str, count: float) -> None:
    """`count` newcomers mint a fork each: they buy the fee's HANZO; part is burned, the rest
    goes to the treasury (ModelNFT.mint)."""
    fee, burned = fork_fee(w)
    if count <= 0 or fee <= 0:
        return
    w.exchange.buy(buyer, count * fee, "fork mint fee")
    w.ledger.burn(buyer, count * burned, "nft_fee")
    # (upto: the two parts, each rounded, may ask a unit more than the whole the buyer bought)
    w.ledger.transfer(buyer, "treasury", count * (fee - burned), "fork mint fee", upto=True)


def fork_boost(w: World) -> float:
    """The activity-weighted mean of ModelNFT's boost over users' forks, each staked with
    boost_stake_share of what its owner earned: 1 + min(max extra, sqrt(stake / ref stake))."""
    n = w.users.active
    if not n:
        return 1.0
    boost = boost_float(w.p, w.s["policy"]["boost_stake_share"] * w.users.earned())
    return float((w.users.activity[:n] * boost).sum() / w.users.total_activity)
