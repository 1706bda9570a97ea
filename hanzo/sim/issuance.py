"""Where HANZO comes from and when it is free: genesis, the emission schedule into the two pools,
and the team's vesting. Every amount is minted into, or released from, its ledger account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hanzo.econ.params import DAY
from hanzo.econ.reference import emission_split, emitted_at, vested

from .ledger import hanzo

if TYPE_CHECKING:
    from .world import World

# The genesis allocations (hanzo.econ.params.ALLOCATIONS), each minted into its account.
GENESIS_ACCOUNTS = {"model_developers": "developers", "community_treasury": "treasury", "team": "team_vesting",
                    "public_sale": "holders", "liquidity": "pool", "training_rewards": "training_pool",
                    "compute_providers": "compute_pool"}


def genesis(w: World) -> None:
    """Genesis mints each allocation into its account: the Liquidity allocation is the pool's
    HANZO side (its USD side prices it), the Public Sale is in holders' wallets."""
    ledger = w.ledger
    for name, wei in w.p.genesis_allocations:
        ledger.mint(GENESIS_ACCOUNTS[name], hanzo(wei), f"genesis: {name}")
    # model developers stake part of their allocation: they make the honest proposals
    ledger.transfer("developers", "stake_developers",
                    ledger["developers"] * w.s["governance"]["developer_stake_share"], "proposers' stake")


def emission(w: World):
    """EmissionSchedule.release, once a day: the halving schedule into the two pools."""
    p, sup, ledger = w.p, w.supply, w.ledger
    tail = w.s["policy"]["tail_emission_per_year"] / 365
    released = 0
    while True:
        due = emitted_at(p, int(w.env.now + 1) * DAY)
        amount = due - released
        if amount:
            training, compute = emission_split(p, due, released)
            ledger.mint("training_pool", hanzo(training), "emission")
            ledger.mint("compute_pool", hanzo(compute), "emission")
            sup.emitted += hanzo(amount)
            released = due
        elif tail and due >= p.max_emission:  # the schedule is done: a tail, if the scenario adds one
            ledger.mint("training_pool", tail, "tail emission")
            sup.emitted += tail
            sup.tail_emitted += tail
        yield w.env.timeout(1)


def team_vesting(w: World):
    """TeamVesting releases linearly after the cliff to the team, who sell a share."""
    total_wei = w.p.allocation("team")
    share = w.s["market"]["team_sell_share"]
    while True:
        # what stays locked is the allocation less what has vested by today (the contract's rule)
        locked = hanzo(total_wei - vested(w.p, total_wei, int(w.env.now) * DAY))
        if w.ledger["team_vesting"] > locked:
            vested_today = w.ledger.transfer("team_vesting", "team", w.ledger["team_vesting"] - locked,
                                             "vesting")
            w.exchange.sell("team", vested_today * share, "team sells")
        yield w.env.timeout(1)
