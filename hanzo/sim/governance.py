"""Governance: stake and its unstaking cooldown, honest proposals and their deposits, and the
attacker who buys stake to capture the treasury.

Who votes: without voter rows, a [governance] turnout share of all staked HANZO (the attacker's
aside, on its own proposal). With voter rows ([strategies] voter_share, hanzo.sim.strategies.Voter),
each voter row votes its own stake on a proposal with its own chance (voter_turnout, drawn per
proposal), and the rest of the stake (the other users' rows, the proposers') at the [governance]
turnout: the honest votes are the sum of the stakes of the voter rows that turn out, plus that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hanzo.econ.params import DAY, WEI
from hanzo.econ.treasury import Bucket

from .ledger import UNIT, hanzo

if TYPE_CHECKING:
    from .world import World


@dataclass
class Governance:
    proposals: int = 0
    passed: int = 0
    defeated: int = 0
    deposits_burned: float = 0.0
    attack: str = "none"
    attack_day: int = -1
    treasury_drained: float = 0.0
    attack_cost_usd: float = 0.0
    short_of_quorum: int = 0  # honest proposals defeated because too few votes were cast
    votes_cast: float = 0.0  # honest votes cast, over all proposals (the attacker's against it included)
    votes_staked: float = 0.0  # staked HANZO that could have cast them (the attacker's aside)


def staking(w: World):
    """Each day users ask to unstake a share of their stake (rounded down to the unit); what entered
    the cooldown comes back to the users' wallets after it, each user's share of a day's return pro
    rata what it has in the cooldown (hanzo.sim.users.Users.unstake), and they sell their usual share
    of it."""
    rate, sell = w.s["staking"]["unstake_per_day"], w.s["users"]["sell_share"]
    while True:
        w.users.unstake(w.ledger, rate, sell)
        yield w.env.timeout(1)


def proposals(w: World):
    """Honest proposals: a deposit locked from the proposers' stake; Defeated burns it (D5)."""
    g, p = w.s["governance"], w.p
    deposit = hanzo(p.proposal_deposit)
    while True:
        for _ in range(w.rng_gov.poisson(g["proposals_per_month"] / 30.0)):
            if w.ledger["stake_developers"] < max(deposit, hanzo(p.proposal_threshold)):
                break
            w.gov.proposals += 1
            votes = honest_votes(w)
            reached = votes >= quorum(w)
            w.gov.short_of_quorum += not reached
            if reached and w.rng_gov.random() < g["pass_probability"]:
                w.gov.passed += 1
            else:
                w.gov.defeated += 1
                w.gov.deposits_burned += w.ledger.burn("stake_developers", deposit, "proposal_deposit")
        yield w.env.timeout(1)


def attacker(w: World):
    """A named agent: buys HANZO, stakes it, and proposes to drain the treasury. It wins only
    with at least the quorum and more votes than the honest turnout against it; having won,
    it holds governance and takes what HanzoTreasury's release limit lets out, day after day
    (`treasury_capture`)."""
    a = w.s["attacker"]
    if not a["enabled"]:
        return
    yield w.env.timeout(a["start_day"])
    budget_per_day = a["budget_usd"] / 30.0
    for _ in range(30):
        bought = w.pool.spend(budget_per_day)  # against the pool's curve, not at the day's price
        w.ledger.transfer("pool", "attacker", bought, "attacker buys")
        w.ledger.transfer("attacker", "stake_attacker", bought, "attacker stakes")
        w.gov.attack_cost_usd += budget_per_day
        w.attacker_bought += bought
        yield w.env.timeout(1)
    p = w.p
    deposit = hanzo(p.proposal_deposit)
    w.gov.proposals += 1
    w.gov.attack_day = int(w.env.now)
    stake = w.ledger["stake_attacker"]
    if stake < max(hanzo(p.proposal_threshold), deposit):
        w.gov.attack = "could not propose"
        return
    yield w.env.timeout(round((p.voting_delay + p.voting_period) / DAY))
    stake = w.ledger["stake_attacker"]
    honest_against = honest_votes(w, stake)
    # GovernorCountingSimple counts For and Abstain toward quorum, never Against
    if stake >= quorum(w) and stake > honest_against:
        w.gov.attack = "passed: governance captured"
        w.gov.passed += 1
        w.env.process(treasury_capture(w))
    else:
        w.gov.attack = "defeated: deposit burned"
        w.gov.defeated += 1
        w.gov.deposits_burned += w.ledger.burn("stake_attacker", deposit, "proposal_deposit")


def treasury_capture(w: World):
    """A captured governance releases from the treasury all that the contract's token bucket
    allows (hanzo.econ.treasury.Bucket, the same rule as HanzoTreasury), every day, and sells it."""
    bucket = Bucket.deployed(w.p, int(w.env.now) * DAY)
    ledger = w.ledger
    while ledger["treasury"] > 0:
        now = int(w.env.now) * DAY
        take_wei = min(bucket.available(now), ledger.units["treasury"] * (WEI // UNIT))
        if take_wei > 0:
            bucket.release(take_wei, now)
            take = ledger.transfer("treasury", "attacker", hanzo(take_wei), "treasury capture", upto=True)
            w.gov.treasury_drained += take
            w.exchange.sell("attacker", take, "attacker sells the treasury")
        yield w.env.timeout(1)


def honest_votes(w: World, attacker: float = 0.0) -> float:
    """The honest votes cast on a proposal (HANZO): with voter rows, the stake of each voter row that turns
    out (each with its own chance, drawn now), plus the [governance] turnout of the rest of the stake;
    without, the turnout of all of it. `attacker`: the attacker's stake, which does not vote against itself."""
    turnout = w.s["governance"]["turnout"]
    staked = w.staked_total - attacker
    st = w.strategies
    cast = 0.0
    if st.voter is not None:
        rows = st.active(st.voter, w.users)
        stake = w.users.stake[rows.index]  # (settles the users' rows: a proposal day's cost, with voters only)
        voting = w.rng_votes.random(len(rows)) < rows.traits["turnout"]
        cast = float(stake[voting].sum()) / UNIT
        staked -= float(stake.sum()) / UNIT
    votes = cast + turnout * max(staked, 0.0)
    w.gov.votes_cast += votes
    w.gov.votes_staked += w.staked_total - attacker
    return votes


def quorum(w: World) -> float:
    """Votes a proposal needs: HanzoGovernor's absolute quorum, or ([policy] quorum = relative)
    a share of the staked HANZO, as OpenZeppelin's GovernorVotesQuorumFraction counts it."""
    pol = w.s["policy"]
    if pol["quorum"] == "relative":
        return pol["relative_quorum"] * w.staked_total
    return hanzo(w.p.quorum)
