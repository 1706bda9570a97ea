"""EVM in the loop: the scenario's agents acting on the deployed contracts, day by day.

A chain cannot afford a million users, so the population is a handful of accounts (`users`)
that follow the scenario's rules: they mint forks, train (an oracle-signed batch of training ops
a day, low-quality ones included), stake part of what they earn, buy compute credits and spend
them with a provider, which governance pays the Compute Providers pool's daily release (through HanzoTreasury,
within its rate limit); anyone releases the day's emission and pokes the market maker. Each account
follows its own strategy ([strategies], hanzo.sim.strategies: drawn with its traits as the World
draws its rows), acting by its Decision; provider rows ([strategies] provider_share) serve the compute each from
its own account, capacity and pay, else one provider account serves it. The
World's honest governance runs on HanzoGovernor (ChainGovernance): the model developer proposes on the
World's days, voter accounts vote their stake, a Defeated proposal's deposit is burned. The World's other agents
are accounts too, drawing from the World's own streams: accounts leave as its users do, and the reward farmers,
the arbitrageurs of other venues, the governance attacker, the team's vesting and [uncertainty]'s draws run as
the World runs them (a scenario switching on what no account does yet is refused: WORLD_ONLY). Alongside,
an exact integer ledger applies the same actions with hanzo.econ's reference model (emission,
payouts, mint fees, the market maker). At the end the two are reconciled: every balance, the
supply, the burn, the emission and the market maker's reserve must agree to the wei, or the run
lists exactly what differs and by how much.

The chain is any Ape network or the embedded EVM ("embedded"), through hanzo.chain.drivers: on an
Ape network, bulk traffic goes below Ape's per-transaction tracing (transactions built from the
contract ABIs, signed locally and sent raw through web3); on the embedded EVM, a transaction is a
call into revm and a day is one block.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
from eth_abi import encode as abi_encode
from eth_utils import keccak

from hanzo.econ.attest import Oracle, TrainingOp
from hanzo.econ.cpmm import HANZO, USD, PoolState
from hanzo.econ.hmm import OFFER_GRACE, HMMError, HMMState
from hanzo.econ.params import BPS, DAY, WEI
from hanzo.econ.reference import DailyBudgets, emission_split, emitted_at, nft_mint_fee, training_payout, vested
from hanzo.econ.treasury import Bucket

from .agents import View, from_scenario, gas_usd, starting_pay
from .scenario import SPEC, Scenario, ScenarioError
from .strategies import Strategies
from .exchange import external_step
from .pool import hanzo_toward
from . import uncertainty
from .users import leavers_alike, leavers_weighted
from .world import STREAMS, world_streams

BASE_MODEL = 1
BATCH_OPS = 50  # training ops a transaction carries (rewardTrainingBatch), as the reward hook sends them
# a user short of dollars for a purchase of HANZO receives this many times its cost from outside the economy
# (TestUSD's holder): a week of purchases in one transfer, so the dollars are not a transaction a day
DOLLAR_TOP_UP_DAYS = 7


class ChainRunError(RuntimeError):
    """A transaction failed or the node stopped answering; the message says which and where."""


@dataclass
class Ledger:
    """The exact integer books the simulation keeps beside the chain."""

    hanzo: dict[str, int] = field(default_factory=dict)
    usd: dict[str, int] = field(default_factory=dict)  # TestUSD held by the accounts that trade in the pool
    staked: dict[str, int] = field(default_factory=dict)
    supply: int = 0
    burned: int = 0
    released: int = 0

    def move(self, frm: str, to: str, amount: int) -> None:
        self.hanzo[frm] = self.hanzo.get(frm, 0) - amount
        self.hanzo[to] = self.hanzo.get(to, 0) + amount

    def burn(self, frm: str, amount: int) -> None:
        self.hanzo[frm] = self.hanzo.get(frm, 0) - amount
        self.supply -= amount
        self.burned += amount


@dataclass
class Reconciliation:
    days: int
    transactions: int
    checked: int
    differences: list[str]
    prices: list[float] = field(default_factory=list)  # the HANZO pool's price (USD) at the start of each day
    churned: int = 0  # user accounts that left
    speculators: tuple[int, int] = (0, 0)  # (wei spent on credits, wei received selling them back)
    deferred: int = 0  # training ops the contract deferred (a fork's daily budget, or the pool's pace)
    rows: list[dict] = field(default_factory=list)  # a row a day, from the books kept beside the chain (HANZO)
    checked_figures: list[str] = field(default_factory=list)  # what was compared with the chain
    accounts: int = 0  # user accounts that joined over the run (the population's curve, scaled to the chain)
    # per user account (its address): its strategy, its activity (drawn at its join from the World's users
    # stream), its reservation wage (USD a usual day; its own draw with [agents] reservation_spread) and what it
    # did over the run (BOOK), from the books the reconciliation proved equal to the chain:
    # whether it is still active, the interactions it worked (its work, as the World's `worked`), its paid
    # training ops, of them those judged low quality (its own junk and the population's), the interactions the
    # oracle credited them, the HANZO (wei) it earned, staked and sold of its pay, and what its low-quality ops
    # burned; a provider row's credits offered and served, and its compute income (wei: what it was paid for what
    # it served, and the Compute Providers pool's releases to it), of which `sold` is then its sales
    by_account: dict[str, dict] = field(default_factory=dict)
    clipped: dict[str, float] = field(default_factory=dict)  # per trait key, the share of draws clipped to its bounds
    # the honest proposals made on chain (ChainGovernance), each as Proposal.record: the rule's verdict, the
    # votes cast (account -> (support, weight)), when it was voted and settled, the deposit burned (wei)
    proposals: list[dict] = field(default_factory=list)
    # the Compute Providers pool's payments to the provider, each as Proposal.record with the wei it paid
    # (`payment`), and why none were made where the run could not make them ("" where it could)
    provider_payments: list[dict] = field(default_factory=list)
    provider_payments_off: str = ""
    developer_forks: int = 1  # the forks the model developer minted (one per max_interactions_per_fork_day of training)
    # the governance attacker, when the scenario has one: how its capture went (the World's Governance.attack), the
    # day it proposed, the dollars it spent and the HANZO it bought and staked, what the treasury released to it
    # (HANZO) and its proposals (Proposal.record: the capture, then a release a day once it had won)
    attack: dict = field(default_factory=dict)
    # with other venues ([market] external_venues): the arbitrageur's USD volume, and the venues' HANZO price (USD)
    # after day 0 and each day, the World's path
    venues: dict = field(default_factory=dict)
    # with reward farmers ([agents] farmers_max): the accounts that entered and left, those farming at the end, the
    # World's population figure (a float) they round, their paid ops and interactions, and the HANZO paid and sold
    farmers: dict = field(default_factory=dict)
    # with [uncertainty]: the run's drawn growth per day, adoption ceiling (accounts) and sell share, the World's
    drawn: dict = field(default_factory=dict)
    # TeamVesting's releases to the team and what it sold of them (HANZO), once past the cliff
    team: dict = field(default_factory=dict)

    def governance(self) -> dict:
        """The proposals made, passed and settled as passed, defeated, and the deposits burned (HANZO)."""
        # the attacker's capture counts as one, as the World counts it (its daily releases after a win do not)
        made = self.proposals + self.attack.get("proposals", [])[:1]
        settled = [p for p in made if p["status"] == "settled"]
        return {"proposals": len(made), "passed": sum(p["passes"] for p in settled),
                "defeated": sum(not p["passes"] for p in settled),
                "deposits_burned": sum(p["burned"] for p in made) / WEI}

    def strategies(self) -> dict[str, dict]:
        """Per strategy: its accounts (joined over the run, and active at the end) and its accounts' sums."""
        out: dict[str, dict] = {}
        for book in self.by_account.values():
            mine = out.setdefault(book["strategy"], {"accounts": 0, **{k: 0 for k in BOOK}})
            mine["accounts"] += 1
            for k in BOOK:
                mine[k] += book[k]
        return out

    @property
    def ok(self) -> bool:
        return not self.differences


# what an account's book counts (Reconciliation.by_account); the active flag is 1 while it has not left
BOOK = ("active", "worked", "ops", "low_quality_ops", "interactions", "earned", "staked", "sold", "low_quality_burned",
        "offered", "served", "compute_income")

HANZO_FIGURES = ("earned", "staked", "sold", "low_quality_burned", "compute_income")  # of BOOK: wei

class _Accounts:
    """The chain's user accounts as the users' rows hanzo.sim.strategies reads (a row an account, in the
    order they joined: its activity, reservation wage, join day, and whether it is still active), so
    that Strategies draws their strategies and traits, and hands each strategy its active rows, as the
    World's users' rows."""

    def __init__(self):
        self.activity, self.reservation = np.zeros(0), np.zeros(0)
        self.joined, self.on = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=bool)
        self.rows = self.active = 0

    @property
    def capacity(self) -> int:
        return len(self.on)

    def grow(self, activity, reservation_per_activity: float, day: int, wage_draw=1.0) -> None:
        """Accounts join with `activity`, each a reservation wage of `reservation_per_activity` times its activity
        times its own `wage_draw` (the World's users' rows: hanzo.sim.users.Users.grow)."""
        k = len(activity)
        self.activity = np.append(self.activity[:self.rows], activity)
        self.reservation = np.append(self.reservation[:self.rows],
                                     reservation_per_activity * np.asarray(activity) * wage_draw)
        self.joined = np.append(self.joined[:self.rows], np.full(k, day, dtype=np.int32))
        self.on = np.append(self.on[:self.rows], np.ones(k, dtype=bool))
        self.rows += k
        self.active += k

    def active_rows(self) -> np.ndarray:
        return np.flatnonzero(self.on[:self.rows])

    def leave(self, row: int) -> None:
        self.on[row] = False
        self.active -= 1


class ServiceDesk:
    """Who serves whose credits today, planned before the day's redemptions. A tier's credits are served first come
    first served up to what is offered (as one provider serves them); each provider's part of what is served is its
    offer's share, to the credit (largest remainders), as the World's provider rows each serve the same share of
    what they offer (hanzo.sim.compute.pay_provider_rows); holders are matched to providers in order, the
    providers' own credits first (the contract refuses a self-redemption, so they go to the others), a holder's
    credits split only where a provider's part ends. What no other provider has room for stays with its holder."""

    def __init__(self, offers: np.ndarray, addresses: list[str]):
        self.offers, self.addresses = offers, addresses  # credits offered: a row a provider, a column a tier
        self.served = np.zeros_like(offers)
        self.paid = [0] * len(addresses)  # wei each was paid today

    def plan(self, wanted: dict[str, list[int]]) -> dict[str, list[tuple[int, list[tuple[int, int]]]]]:
        """`wanted`: each holder's credits to spend per tier, in the order they come. Returns each served holder's
        (provider, [(tier, credits)]), tiers ascending, in the order it was first given each provider."""
        index = {a: j for j, a in enumerate(self.addresses)}
        holders = list(wanted)
        first = [h for h in holders if h in index] + [h for h in holders if h not in index]
        given: dict[str, dict[int, list[tuple[int, int]]]] = {h: {} for h in holders}
        for t in range(self.offers.shape[1]):
            offer = self.offers[:, t]
            left = min(sum(w[t] for w in wanted.values()), int(offer.sum()))
            served = {}
            for h in holders:  # first come, first served, up to the offer
                served[h] = min(wanted[h][t], left)
                left -= served[h]
            part = self._parts(sum(served.values()), offer)  # each provider's part of it
            at = 0  # the first provider with some of its part left
            for h in first:
                k, me = served[h], index.get(h)
                while at < len(part) and not part[at]:
                    at += 1
                j = at
                while k and j < len(part):
                    if j != me and part[j]:
                        take = min(k, int(part[j]))
                        part[j] -= take
                        k -= take
                        self._give(given[h], j, t, take)
                    j += 1
            # what the providers' parts still hold (a provider's own credits that no other had room for, counted
            # against the offer first come) goes to the holders, in order, that wanted more of the tier: without
            # this a lone provider row holding credits left the capacity its own credits took unused while
            # others' went unserved (offered 10, it wanted 5 and a user 10: 5 served, not 10)
            for h in holders:
                me, more = index.get(h), wanted[h][t] - sum(k for spends in given[h].values() for u, k in spends
                                                           if u == t)
                for j in range(len(part)):
                    if more <= 0:
                        break
                    if j != me and part[j]:
                        take = min(more, int(part[j]))
                        part[j] -= take
                        more -= take
                        self._give(given[h], j, t, take)
        return {h: list(g.items()) for h, g in given.items() if g}

    def _give(self, given: dict[int, list[tuple[int, int]]], j: int, t: int, take: int) -> None:
        """`take` of tier `t`'s credits of a holder (its `given`) served by provider `j`."""
        self.served[j, t] += take
        spends = given.setdefault(j, [])
        if spends and spends[-1][0] == t:  # one entry a tier: the batch redeems each tier once
            spends[-1] = (t, spends[-1][1] + take)
        else:
            spends.append((t, take))

    @staticmethod
    def _parts(total: int, offer: np.ndarray) -> np.ndarray:
        """`total` credits split in proportion to the offers, exactly (none above its offer: total <= the offers)."""
        parts = np.zeros(len(offer), dtype=np.int64)
        for j, x in split_wei(total, list(enumerate(int(o) for o in offer))):
            parts[j] = x
        return parts


# HanzoGovernor's ProposalState values this run meets, and GovernorCountingSimple's support values
PENDING, ACTIVE, DEFEATED, SUCCEEDED, QUEUED, EXECUTED = 0, 1, 3, 4, 5, 7
PARAMETER, TREASURY = 0, 3  # HanzoGovernor's ProposalType: the World's proposals, and a payment from the treasury
STATES = {PENDING: "Pending", ACTIVE: "Active", 2: "Canceled", DEFEATED: "Defeated", SUCCEEDED: "Succeeded",
          QUEUED: "Queued", 6: "Expired", EXECUTED: "Executed"}
AGAINST, FOR = 0, 1


@dataclass
class Proposal:
    """An honest proposal on chain: what the World's rule decided when it was made, and what the chain did."""

    number: int  # 1, 2, ... in the order they were made
    pid: int
    day: int  # the chain day it was made
    description: str
    reached: bool  # the World's rule: the votes it counts reached the quorum
    passes: bool  # and then the pass draw: whether the proposal is to pass
    turned_out: list[str]  # the voter accounts that turn out (each by its own turnout trait)
    snapshot: int = 0
    deadline: int = 0
    eta: int = 0
    status: str = "voting"  # voting, queued, settled
    voted_day: int | None = None
    settled_day: int | None = None
    votes: dict[str, tuple[int, int]] = field(default_factory=dict)  # account -> (support, weight on chain)
    staked_at_snapshot: dict[str, int] | None = None  # the books' stakes at the snapshot, where a day ends on it
    burned: int = 0  # wei of deposit burned
    # a payment from the Compute Providers pool (ChainGovernance.pay_providers): the HANZO (wei) the treasury
    # releases to the provider; 0 for the World's proposals, whose action changes nothing
    payment: int = 0
    action: tuple | None = None  # (targets, values, calldatas); None: ChainGovernance's no-change action
    recipients: list[tuple[str, int]] = field(default_factory=list)  # a payment's (provider, wei), summing to it
    attack: bool = False  # the governance attacker's: it proposes, votes For and is paid the release
    against: list[str] = field(default_factory=list)  # on an attacker's proposal, the honest accounts voting Against

    @property
    def label(self) -> str:
        if self.attack:
            return f"attacker's proposal {self.number}"
        return f"provider payment {self.number}" if self.payment else f"proposal {self.number}"

    def record(self) -> dict:
        against = sum(w for s, w in self.votes.values() if s == AGAINST)
        return {"number": self.number, "day": self.day, "reached": self.reached, "passes": self.passes,
                "turned_out": list(self.turned_out), "voted_day": self.voted_day, "settled_day": self.settled_day,
                "status": self.status, "votes_for": sum(w for s, w in self.votes.values() if s == FOR),
                "votes_against": against, "voters": dict(self.votes), "burned": self.burned,
                **({"payment": self.payment} if self.payment else {})}


class ChainGovernance:
    """The World's honest governance (hanzo.sim.governance.proposals) as transactions on HanzoGovernor.

    The model developer's account stakes the proposers' stake ([governance] developer_stake_share of the
    Model Developers allocation, as the World's genesis stakes it) and proposes on the days the World's rule
    says: a Poisson draw a day from the World's own governance stream (world_streams' "gov"), in the
    World's order, so that the same seed proposes on the same days. The deposit is locked by the Governor.

    Who votes, and how: the World decides a proposal when it is made (the voter rows that turn out, each by
    its own turnout trait from the World's voter stream, "votes"; the rest of the stake at [governance]
    turnout; quorum reached?; then the pass draw), and this applies the same rule, with the same streams, to
    the books' stakes. On chain an account votes all its weight or none, and the developer's account holds
    nearly all of "the rest of the stake" at the chain's scale, so a sample of it at the turnout would be all
    or nothing: instead the accounts' votes enact the rule's verdict. The voter accounts that turn out vote
    their stake, For a proposal the rule passes and Against one it does not; on a passing proposal the
    developer votes its stake For too (the stake the World's turnout counts is part of it, and it reaches
    the quorum the rule reached); on a failing one it does not vote, so For stays below the quorum.
    After the voting period anyone settles: a Defeated proposal's deposit is burned (settleDeposit); a
    Succeeded one is queued, its action (a view call through the timelock, `token.balanceOf(timelock)`,
    which changes nothing) executed after the timelock's delay, and its deposit returned. The Governor's
    clock is the timestamp (StakedHanzo's CLOCK_MODE), so the voting delay and period are in seconds: a
    proposal made on day d is Active from day d + 2 (its snapshot is the first second of day d + 1 on the
    embedded EVM), ends with day d + 8, and a block one second later settles it (the queue window is
    hours, so the next day's block would be too late); its execution is a block at its timelock eta.
    The books mirror every movement: the stake, and a Defeated deposit's sHANZO and HANZO burned.

    The Compute Providers pool's daily release (pay_providers) goes the same way: on chain the pool is in
    HanzoTreasury, which only the timelock releases, so each day's release is a Treasury proposal of
    `treasury.release(provider, amount)` that the developer's stake votes through; it is paid when it is
    executed, ten days after it was made, and HanzoTreasury's bucket (mirrored by hanzo.econ.treasury.Bucket)
    bounds what it may pay."""

    def __init__(self, scenario: Scenario, c, ledger: Ledger, A: dict[str, str], deployer, developer):
        g, p = scenario["governance"], scenario.tokenomics
        self.c, self.ledger, self.A, self.deployer, self.developer = c, ledger, A, deployer, developer
        self.dev = str(developer.address)
        self.rate = g["proposals_per_month"] / 30.0
        self.turnout, self.pass_probability = g["turnout"], g["pass_probability"]
        self.deposit, self.threshold, self.quorum = p.proposal_deposit, p.proposal_threshold, p.quorum
        # the proposers' stake, as the World's genesis takes it from the Model Developers allocation (its share to
        # the basis point: the World's float share of a whole allocation is that share exactly)
        self.stake = p.allocation("model_developers") * round(g["developer_stake_share"] * BPS) // BPS
        streams = world_streams(scenario["scenario"]["seed"])
        self.rng_gov, self.rng_votes = np.random.default_rng(streams["gov"]), np.random.default_rng(streams["votes"])
        self.action = ([A["token"]], [0], [c.encode("token", "balanceOf", A["timelock"])])
        self.proposals: list[Proposal] = []
        self.accounts: dict[str, object] = {}  # the user accounts by address (their keys vote), the run's
        self.locked = 0  # the developer's stake locked as deposits, by the books
        # (what, chain, books): differences found along the way, the chain's value read when the EVM reaches that
        # point (a driver's call_later: the EVM may run in a second process, behind the books)
        self.checks: list[tuple[str, Callable[[], int], int]] = []
        # the Governor's and the timelock's delays, read once: a proposal's id, snapshot, deadline and eta come from
        # the books (each checked against the chain's), so that governance does not wait for the EVM
        self.voting_delay, self.voting_period = c.call("governor", "votingDelay"), c.call("governor", "votingPeriod")
        self.timelock_delay = c.call("timelock", "getMinDelay")
        # the Compute Providers pool's payments to `provider` (pay_providers; None: none are made)
        self.provider: str | None = None
        # or, with provider rows, to the rows: the run sets `recipients` each day ((address, weight): the release is
        # split in proportion to the weights, in whole wei)
        self.rows, self.recipients = False, []
        self.payments: list[Proposal] = []
        self.bucket = Bucket.deployed(p, 0)  # HanzoTreasury's bucket: full at deployment, whenever that was
        # an execution may come later than its earliest second, by at most the queue window and the grace period
        # (then it would have expired); a bucket that was full meanwhile refilled none of that time, so each
        # payment leaves this much in the bucket
        self.lateness_margin = p.treasury_release_limit * (p.proposal_queue_window + p.execution_grace_period) \
            // p.treasury_release_period
        self.committed = 0  # wei of the pool proposed for payment and not yet paid
        self.paid = 0  # wei the treasury paid the provider (executed payments)
        self.unsold: dict[str, int] = {}  # of it, wei each provider has not yet counted in a day's income
        # the governance attacker ([attacker], hanzo.sim.governance.attacker), when the scenario has one (arm)
        self.attacker, self.att, self.attack_day = None, "", -1
        self.attacks: list[Proposal] = []  # its proposals: the capture, then a release a day once it has won
        self.attack = "none"  # as the World's Governance.attack: none, could not propose, passed, defeated
        self.attacker_locked = 0  # its stake locked as deposits, by the books
        self.drained = 0  # wei the treasury released to it
        self.attacker_unsold = 0  # of it, wei it has not sold yet (take_drained)

    def stake_developers(self) -> None:
        """The proposers' stake, before the first day: the Governor counts the proposer's votes a second
        before it proposes, so a stake made on the day of a proposal would not count."""
        if not self.stake:
            return
        c, dev = self.c, self.dev
        c.send(self.developer, "token", "approve", self.A["staked"], 2**256 - 1, what="developer approve staking")
        c.send(self.developer, "staked", "stake", self.stake, what="the proposers' stake")
        self.ledger.move(dev, self.A["staked"], self.stake)
        self.ledger.staked[dev] = self.ledger.staked.get(dev, 0) + self.stake

    def day(self, day: int, voters: Callable[[], list[tuple[str, float]]], next_day: int,
            compute_pool: int = 0) -> None:
        """The day's governance, after the day's other transactions (as the World's proposals follow its
        staking): votes on proposals that are Active, the day's new proposals and the day's payment from the
        Compute Providers pool (`compute_pool`: the books' pool, wei), then settlements and executions
        due before `next_day` (the next day's first second). `voters()`: the active voter accounts, in row
        order, with their turnout traits (asked on a day with a proposal only)."""
        c = self.c
        every = self.proposals + self.payments + self.attacks
        for prop in every:
            if prop.staked_at_snapshot is None and prop.snapshot == c.now():
                prop.staked_at_snapshot = dict(self.ledger.staked)  # the day's last stake was at the snapshot
        for prop in every:
            if prop.status == "voting" and prop.voted_day is None and c.now() > prop.snapshot:
                self._vote(prop, day, voters)
        for _ in range(self.rng_gov.poisson(self.rate)):
            staked = self.ledger.staked.get(self.dev, 0)
            if staked < self.threshold or staked - self.locked < self.deposit:
                # the World stops proposing once its proposers' stake is below the deposit or the threshold; the
                # Governor also needs the deposit unlocked (the World's deposits are settled the day they are made)
                break
            self._propose(day, voters())
        captured = self.attacker is not None and day != self.attack_day and self.attack.startswith("passed")
        if captured:
            # governance is the attacker's: its release is proposed before the day's payment to the providers, as
            # the World's captured governance takes what the bucket allows every day. (Proposed after it, the
            # providers' 1/365 of the pool took each day's whole refill and the attacker never got a second
            # release: 180k HANZO drained over 100 days where the World's drained 850k.)
            self._drain(day)
        if self.provider is not None or self.rows:
            self.pay_providers(day, compute_pool)
        if self.attacker is not None and day == self.attack_day:
            self._propose_attack(day)
        every = self.proposals + self.payments + self.attacks
        due = [(p.deadline + 1, p) for p in every if p.status == "voting" and p.deadline < next_day]
        due += [(p.eta, p) for p in every if p.status == "queued" and p.eta < next_day]
        for when, prop in sorted(due, key=lambda d: (d[0], d[1].payment > 0, d[1].number)):
            c.advance_to(max(when, c.next_timestamp()))
            if prop.status == "voting":
                self._settle(prop, day)
            else:
                self._execute(prop, day)

    def _propose(self, day: int, voters: list[tuple[str, float]]) -> None:
        ledger = self.ledger
        # the World's rule (hanzo.sim.governance.honest_votes, quorum, proposals), on the books' stakes
        staked = sum(ledger.staked.values())
        stakes = np.array([ledger.staked.get(a, 0) for a, _ in voters], dtype=float)
        turning = self.rng_votes.random(len(voters)) < np.array([t for _, t in voters]) if voters else []
        cast = float(stakes[turning].sum()) if voters else 0.0
        votes = cast + self.turnout * max(staked - float(stakes.sum()), 0.0)
        reached = votes >= self.quorum
        passes = bool(reached and self.rng_gov.random() < self.pass_probability)
        number = len(self.proposals) + 1
        description = f"Parameter: no change (simulated proposal {number}, day {day})"
        prop = Proposal(number, 0, day, description, bool(reached), passes,
                        [a for (a, _), on in zip(voters, turning) if on])
        self._submit(prop, PARAMETER)
        self.proposals.append(prop)

    def _submit(self, prop: Proposal, kind: int) -> None:
        """The developer (the attacker, for its own) proposes `prop`, its deposit locked; its id, snapshot and
        deadline by the books."""
        c = self.c
        targets, values, calldatas = prop.action or self.action
        c.send(self.attacker if prop.attack else self.developer, "governor", "proposeTyped", targets, values,
               calldatas, prop.description, kind, what=f"day {prop.day}: {prop.label}")
        # Governor.hashProposal; the snapshot a delay after the proposal's block (the Governor's clock is the
        # timestamp), the deadline a voting period after it
        prop.pid = int.from_bytes(keccak(abi_encode(["address[]", "uint256[]", "bytes[]", "bytes32"],
                                                    [targets, values, calldatas, keccak(text=prop.description)])),
                                  "big")
        if prop.attack:
            self.attacker_locked += self.deposit
        else:
            self.locked += self.deposit
        prop.snapshot = c.now() + self.voting_delay
        prop.deadline = prop.snapshot + self.voting_period
        for what, method, books in (("id", "hashProposal", prop.pid), ("snapshot", "proposalSnapshot", prop.snapshot),
                                    ("deadline", "proposalDeadline", prop.deadline)):
            args = (targets, values, calldatas, keccak(text=prop.description)) if what == "id" else (prop.pid,)
            self.checks.append((f"governance: {prop.label}'s {what}", c.call_later("governor", method, *args), books))

    def pay_providers(self, day: int, pool: int) -> None:
        """The day's release of the Compute Providers pool, proposed: the World's providers take 1/365 of the
        pool a day (hanzo.sim.compute.providers), here 1/365 of the books' pool (`pool`, wei: the compute share
        of the emission less what was paid) not yet proposed, cut to what HanzoTreasury's bucket will hold when
        the payment executes, after the payments before it, less `lateness_margin`. What is cut waits in the
        pool: the contract lets no more out. No payment while the developer's unlocked stake is short of the
        deposit, as the World's proposers stop, or short of the quorum (its For votes would not pass it)."""
        due, staked = (pool - self.committed) // 365, self.ledger.staked.get(self.dev, 0)
        if not due or staked < max(self.threshold, self.quorum) or staked - self.locked < self.deposit:
            return
        c = self.c
        amount = min(due, self._room())
        recipients = split_wei(amount, self.recipients) if self.rows else [(self.provider, amount)]
        if amount <= 0 or not recipients:  # (no provider row to pay today: the release waits in the pool)
            return
        number = len(self.payments) + 1
        calls = [c.encode("treasury", "release", to, paid) for to, paid in recipients]
        action = ([self.A["treasury"]] * len(calls), [0] * len(calls), calls)
        whom = "the provider" if not self.rows else f"{len(recipients)} provider rows"
        description = f"Compute Providers pool: release {amount} wei to {whom} (payment {number}, day {day})"
        prop = Proposal(number, 0, day, description, True, True, [], payment=amount, action=action,
                        recipients=recipients)
        self._submit(prop, TREASURY)
        self.committed += amount
        self.payments.append(prop)

    def _room(self) -> int:
        """Wei a release proposed now may take: what HanzoTreasury's bucket will hold at its earliest execution,
        after every release pending before it (the providers' and the attacker's), less `lateness_margin`."""
        # each release's earliest execution: its eta once queued, else its deadline's next second (when it is
        # queued) and the timelock's delay; the bucket by the books, drawn by the releases in that order
        earliest = self.c.now() + self.voting_delay + self.voting_period + 1 + self.timelock_delay
        pending = sorted((p.eta if p.status == "queued" else p.deadline + 1 + self.timelock_delay, p.payment)
                         for p in self.payments + self.attacks if self._pending(p))
        bucket = replace(self.bucket)
        for at, amount in pending:
            bucket.stored, bucket.updated_at = max(bucket.available(at) - amount, 0), at
        return bucket.available(earliest) - self.lateness_margin

    @staticmethod
    def _pending(p: Proposal) -> bool:
        """Whether `p` may still release its payment: not settled, and passing (the capture until its vote)."""
        return p.status != "settled" and (p.passes or (p.attack and p.voted_day is None))

    def arm(self, attacker, attack_day: int) -> None:
        """The scenario's governance attacker: `attacker` (an account holding the stake it bought) proposes on
        `attack_day` (the World's: [attacker] start_day plus its 30 days of buying)."""
        self.attacker, self.att, self.attack_day = attacker, str(attacker.address), attack_day

    def _propose_attack(self, day: int) -> None:
        """The attacker proposes to release to itself what the treasury's bucket allows, if its stake can propose
        (the threshold and a deposit), as the World's attacker does."""
        staked = self.ledger.staked.get(self.att, 0)
        if staked < max(self.threshold, self.deposit):
            self.attack = "could not propose"
            return
        self._release_to_attacker(day, verdict=None)

    def _drain(self, day: int) -> None:
        """Having won, the attacker proposes each day a release of what the bucket will hold, and votes it through
        (the World's captured governance takes the bucket every day: hanzo.sim.governance.treasury_capture)."""
        if self.ledger.staked.get(self.att, 0) - self.attacker_locked >= self.deposit:
            self._release_to_attacker(day, verdict=True)

    def _release_to_attacker(self, day: int, verdict: bool | None) -> None:
        pending = sum(p.payment for p in self.payments + self.attacks if self._pending(p))
        amount = max(min(self._room(), self.ledger.hanzo[self.A["treasury"]] - pending), 0)
        if not amount and verdict is not None:
            return  # nothing to take today: tomorrow's bucket
        number = len(self.attacks) + 1
        # the capture is proposed on its day whatever the bucket holds (the World's attacker proposes then): with
        # nothing to release yet, its action changes nothing and the releases follow it day by day
        action = ([self.A["treasury"]], [0], [self.c.encode("treasury", "release", self.att, amount)]) if amount \
            else None
        description = f"Treasury: release {amount} wei to {self.att} (attacker's proposal {number}, day {day})"
        # the capture's verdict is the World's rule at its vote (_vote); once it has won, its own stake passes each
        prop = Proposal(number, 0, day, description, True, bool(verdict), [], payment=amount, action=action,
                        recipients=[(self.att, amount)] if amount else [], attack=True)
        prop.reached = verdict is not None
        self._submit(prop, TREASURY)
        self.attacks.append(prop)

    def _attack_verdict(self, prop: Proposal, voters: list[tuple[str, float]]) -> None:
        """The World's rule for the capture (hanzo.sim.governance.attacker): it wins with at least the quorum and
        more votes than the honest turnout against it (the voter accounts that turn out, and the [governance]
        turnout of the rest of the stake), on the books' stakes at the snapshot. On chain the honest accounts then
        enact it: on a win the voters who turned out vote Against (less than its stake); on a defeat the developer
        votes Against with them, and every other staked account too if that is not yet more than its stake."""
        stakes = prop.staked_at_snapshot if prop.staked_at_snapshot is not None else dict(self.ledger.staked)
        stake = stakes.get(self.att, 0)
        held = np.array([stakes.get(a, 0) for a, _ in voters], dtype=float)
        turning = self.rng_votes.random(len(voters)) < np.array([t for _, t in voters]) if voters else []
        cast = float(held[turning].sum()) if voters else 0.0
        honest = sum(v for a, v in stakes.items() if a != self.att)
        against = cast + self.turnout * max(honest - float(held.sum()), 0.0)
        prop.reached = stake >= self.quorum
        prop.passes = bool(prop.reached and stake > against)
        prop.turned_out = [a for (a, _), on in zip(voters, turning) if on]
        prop.against = list(prop.turned_out)
        if not prop.passes:
            prop.against.append(self.dev)
            if sum(stakes.get(a, 0) for a in prop.against) <= stake:
                prop.against += [a for a in stakes if a not in prop.against and a != self.att and stakes[a] > 0]
        self.attack = "passed: governance captured" if prop.passes else "defeated: deposit burned"

    def take_drained(self) -> int:
        """The wei the treasury released to the attacker since the last call (it sells it, as the World's)."""
        drained, self.attacker_unsold = self.attacker_unsold, 0
        return drained

    def take_payments(self) -> dict[str, int]:
        """The wei paid to each provider since the last call (a provider counts it in its day's income)."""
        paid, self.unsold = self.unsold, {}
        return paid

    def _vote(self, prop: Proposal, day: int, voters: Callable[[], list[tuple[str, float]]] = list) -> None:
        c = self.c
        if prop.attack:
            if prop.number == 1:
                self._attack_verdict(prop, voters())
            ballots = [(self.att, FOR)] + [(a, AGAINST) for a in prop.against]
        else:
            support = FOR if prop.passes else AGAINST
            ballots = [(a, support) for a in list(prop.turned_out) + ([self.dev] if prop.passes else [])]
        accounts = {**self.accounts, self.dev: self.developer}
        if self.attacker is not None:
            accounts[self.att] = self.attacker
        for a, support in ballots:
            if prop.staked_at_snapshot is not None:  # the books' stake at the snapshot, checked against the chain's
                weight = prop.staked_at_snapshot.get(a, 0)
                if weight:
                    self.checks.append((f"governance: {prop.label}'s vote weight of {a}",
                                        c.call_later("governor", "getVotes", a, prop.snapshot), weight))
            else:
                weight = c.call("governor", "getVotes", a, prop.snapshot)
            if not weight:
                continue  # it turned out with nothing staked: a vote of no weight changes nothing
            c.send(accounts[a], "governor", "castVote", prop.pid, support, what=f"day {day}: vote on {prop.label}")
            prop.votes[a] = (support, weight)
        prop.voted_day = day

    def _settle(self, prop: Proposal, day: int) -> None:
        c = self.c
        expected = SUCCEEDED if prop.passes else DEFEATED
        self.checks.append((f"governance: {prop.label}'s state after its vote ({STATES[expected]})",
                            c.call_later("governor", "state", prop.pid), expected))
        if expected == SUCCEEDED:  # the rule's verdict (were the chain's other, the queue would revert: the run stops)
            targets, values, calldatas = prop.action or self.action
            c.send(self.deployer, "governor", "queue", targets, values, calldatas, keccak(text=prop.description),
                   what=f"day {day}: queue {prop.label}")
            prop.status, prop.eta = "queued", c.now() + self.timelock_delay  # the timelock's delay after the queue
            self.checks.append((f"governance: {prop.label}'s eta", c.call_later("governor", "proposalEta", prop.pid),
                                prop.eta))
            return
        c.send(self.deployer, "governor", "settleDeposit", prop.pid, what=f"day {day}: settle {prop.label}")
        self._books(prop, day)

    def _execute(self, prop: Proposal, day: int) -> None:
        c = self.c
        targets, values, calldatas = prop.action or self.action
        c.send(self.deployer, "governor", "execute", targets, values, calldatas, keccak(text=prop.description),
               what=f"day {day}: execute {prop.label}")
        if prop.attack and prop.payment:  # the treasury paid the attacker: the books and the bucket's mirror follow
            self.bucket.release(prop.payment, c.now())
            self.ledger.move(self.A["treasury"], self.att, prop.payment)
            self.drained += prop.payment
            self.attacker_unsold += prop.payment
        elif prop.payment:  # the treasury paid the provider: the books and the bucket's mirror follow
            self.bucket.release(prop.payment, c.now())
            for to, paid in prop.recipients:
                self.ledger.move(self.A["treasury"], to, paid)
                self.unsold[to] = self.unsold.get(to, 0) + paid
            self.committed -= prop.payment
            self.paid += prop.payment
        c.send(self.deployer, "governor", "settleDeposit", prop.pid, what=f"day {day}: settle {prop.label}")
        self._books(prop, day)

    def _books(self, prop: Proposal, day: int) -> None:
        """The deposit by the rule's verdict: returned to a passed proposal's proposer, burned for a failed one
        (its sHANZO and the HANZO behind it), whatever the chain did (the checks compare)."""
        proposer = self.att if prop.attack else self.dev
        if prop.attack:
            self.attacker_locked -= self.deposit
        else:
            self.locked -= self.deposit
        if not prop.passes:
            self.ledger.staked[proposer] -= self.deposit
            self.ledger.burn(self.A["staked"], self.deposit)
            prop.burned = self.deposit
        prop.status, prop.settled_day = "settled", day

    def reconcile(self) -> list[tuple[str, int, int]]:
        """(what, chain, books) for the Governor's figures: each proposal's state and votes and unsettled
        deposit, and the developer's locked stake."""
        c = self.c
        out = [(what, chain(), books) for what, chain, books in self.checks]
        out.append(("governance: the developer's stake locked as deposits", c.call("staked", "locked", self.dev),
                    self.locked))
        if self.attacker is not None:
            out.append(("governance: the attacker's stake locked as deposits", c.call("staked", "locked", self.att),
                        self.attacker_locked))
        for prop in self.proposals + self.payments + self.attacks:
            n = prop.label
            _, amount = c.call("governor", "proposalDepositOf", prop.pid)
            out.append((f"governance: {n}'s unsettled deposit", amount,
                        0 if prop.status == "settled" else self.deposit))
            against, for_, abstain = c.call("governor", "proposalVotes", prop.pid)
            out.append((f"governance: {n}'s votes For", for_,
                        sum(w for s, w in prop.votes.values() if s == FOR)))
            out.append((f"governance: {n}'s votes Against", against,
                        sum(w for s, w in prop.votes.values() if s == AGAINST)))
            if prop.status != "voting":
                expected = QUEUED if prop.status == "queued" else EXECUTED if prop.passes else DEFEATED
                out.append((f"governance: {n}'s state ({STATES[expected]})",
                            c.call("governor", "state", prop.pid), expected))
        return out


# what only the World models: a scenario that switches one on is refused by --chain rather than run without it
WORLD_ONLY = {
    # HanzoGovernor's quorum is absolute ([tokenomics] quorum): a relative one is the World's alone
    ("policy", "quorum"): "a quorum relative to the stake (OpenZeppelin's GovernorVotesQuorumFraction) is modelled",
    # each of these ran on chain as if unset, the rows the same to the bit (`hanzo simulate seed_fees --chain` paid no
    # fee, `boost_staking --chain` boosted nothing): no account pays them or acts on them on chain
    ("policy", "fine_tuning_fee"): "users' fee per training interaction is paid",
    ("policy", "base_model_epochs_per_month"): "developers' base-model epoch fees are paid",
    ("policy", "boost_stake_share"): "users' stakes on their own forks (the fork's boost) are modelled",
    ("market", "max_slippage"): "the traders' daily slippage bound (the backlog of sells) is modelled",
}


def split_wei(amount: int, weights: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """`amount` wei split in proportion to the integer weights, exactly (largest remainders get the wei the floors
    leave, ties to the first), the zero shares dropped; [] when every weight is 0."""
    total = sum(w for _, w in weights)
    if total <= 0:
        return []
    shares = [amount * w // total for _, w in weights]
    left = amount - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: -(amount * weights[i][1] % total))[:left]:
        shares[i] += 1
    return [(a, x) for (a, _), x in zip(weights, shares) if x]


def credit_stream(seed: int) -> np.random.Generator:
    """The stream whole_credits draws from: a child of the seed after the World's (world_streams), so the run's
    other draws (rng, the strategies', governance's) are what they were before it."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(len(STREAMS) + 1)[-1])


def whole_credits(rng: np.random.Generator, accounts: int, use: np.ndarray,
                  keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(credits each account spends, credits it keeps), a row per account and a column per tier, from the
    World's continuous `use` and `keep` per user (per tier): each rounded down or up at random, up with the
    chance of its fraction, per account, so the accounts' totals follow the World's demand.

    Rounded alike (np.rint, before), every account spent the same whole number: the baseline's 175B demand is
    2.5 credits a user a day, so a move of the price by 0.01% turned every account's 2 into 3 at once (the
    tier's use 20% under the World's or 20% over), its utilization swung about the controller's target, and
    the tier's price, and with it the market maker's reserve, swung by about 10% from day to day however
    many accounts ran (docs/simulator.md: why the market maker's reserve differs)."""
    out = []
    for x in (use, keep):
        x = np.broadcast_to(np.asarray(x, dtype=float), (accounts, len(x)))
        whole = np.floor(x)
        out.append((whole + (rng.random(x.shape) < x - whole)).astype(int))
    return out[0], out[1]


def starting_users(scenario: Scenario, users: int) -> int:
    """The users a chain run of at most `users` accounts starts with: the scenario's initial users at the
    scale of its ceiling ([users] initial / max of `users`), at least one."""
    u = scenario["users"]
    return max(1, min(users, round(users * u["initial"] / u["max"])))


def run_on_chain(scenario: Scenario, *, network: str = "ethereum:local:test", days: int = 30, users: int = 6,
                 log: Callable[[str], None] = lambda _m: None, progress: Callable[[int], None] | None = None,
                 processes: int = 1, pay_providers: bool = True) -> Reconciliation:
    """Deploy the suite on `network`, run `days` days of the scenario's agents on it, reconcile. `processes`: 2
    runs the embedded EVM in a second process, behind the books (hanzo.chain.pipeline): the same transactions,
    results and reconciliation, a failure raised with the transaction's own day. `pay_providers`: the Compute
    Providers pool's daily release is paid to the provider through governance (ChainGovernance.pay_providers),
    as the World's providers take it; False leaves the pool in the treasury (as chain mode did before)."""
    for (table, key), what in WORLD_ONLY.items():  # switched on, each would be silently ignored on chain
        if scenario[table][key] != SPEC[table][key][3]:
            raise ScenarioError(f"{scenario.path}: [{table}] {key}: {what} in the World only, so --chain refuses it")
    from hanzo.chain.drivers import CONTRACTS, DriverError, driver

    seed = scenario["scenario"]["seed"]
    # [uncertainty] as the World takes it (hanzo.sim.uncertainty), from the World's draws stream: the run's growth,
    # ceiling and sell share drawn once, on the scenario at the chain's scale (its ceiling `users`, which the draw
    # then moves), and each day's word of mouth and compute demand's swing
    rng_draws, rng_adoption, rng_demand = (np.random.default_rng(s) for s in world_streams(seed)["draws"].spawn(3))
    drawn = {}
    if scenario["uncertainty"] != {k: spec[3] for k, spec in SPEC["uncertainty"].items()}:
        scenario = uncertainty.draw(scenario.with_overrides(where="chain scale", **{
            "users.initial": starting_users(scenario, users), "users.max": users}), rng_draws)
        users = scenario["users"]["max"]
        drawn = {k: scenario["users"][k] for k in ("growth_per_day", "max", "sell_share")}
    p, u, unc = scenario.tokenomics, scenario["users"], scenario["uncertainty"]
    if scenario["attacker"]["enabled"]:
        # the attacker's dollars come from TestUSD's float (the Public Sale's holder), as the users' top-ups do: a
        # budget near the float ([attacker] budget_usd takes up to $1T, the float's default) ran the holder dry and
        # its transfer reverted on its 30th day. The float is outside money on a test chain: deploy twice the budget
        budget = int(round(scenario["attacker"]["budget_usd"] * WEI))
        if 2 * budget > p.test_usd_float:
            p = replace(p, test_usd_float=2 * budget)
    word_of_mouth = uncertainty.word_of_mouth(unc["adoption_volatility"], rng_adoption)
    swings = uncertainty.Demand(unc["demand_volatility"], unc["demand_reversion"], rng_demand) \
        if unc["demand_volatility"] else None
    rng = np.random.default_rng(seed)
    # each account's strategy and traits, drawn by hanzo.sim.strategies from the World's own stream for them
    # (world_streams' "strategies"), as the World draws its users' rows: an all-honest
    # scenario draws nothing, so its run is what it was before accounts had strategies
    strategies, accounts = Strategies(scenario), _Accounts()
    rng_strategies = np.random.default_rng(world_streams(seed)["strategies"])
    # each account's activity at its join and the day's common shock, from the World's users stream and in the
    # World's order (a day's joins, then its shock): the same accounts as the World's rows while the two grow alike
    rng_activity = np.random.default_rng(world_streams(seed)["users"])
    # who leaves, and each account's own reservation wage, from the World's agents stream (its draws in the World)
    rng_agents = np.random.default_rng(world_streams(seed)["agents"])
    rng_credits = credit_stream(seed)  # each account's whole credits a day (whole_credits)
    mixed = strategies.mixed
    # provider rows serve the compute (each its own account, capacity and pay), else the one provider account does
    provider_rows = strategies.provider is not None
    honest = strategies.names.index("honest") if "honest" in strategies.names else -1
    # a wage below which an account would rather not train, as the World's rows get it (its reservation per
    # interaction times its usual day, times its own [agents] reservation_spread draw)
    reservation_per_activity = scenario["agents"]["reservation_usd_per_interaction"] * u["interactions_per_day"]
    leaving_possible = scenario["agents"]["churn_per_day"] > 0 and reservation_per_activity > 0
    spread = scenario["agents"]["reservation_spread"]  # each account's own reservation wage, as the World's rows
    by_account: dict[str, dict] = {}
    with driver(network, p, log, processes=processes) as c:
        deployer, oracle, provider_acct, developer = c.deployer, c.oracle, c.provider, c.developer
        # the population grows on the scenario's logistic curve, scaled to the chain's `users` (its ceiling)
        n = float(starting_users(scenario, users))
        A = {name: c.address(name) for name in CONTRACTS}  # the contracts' addresses
        provider_role = c.call("hmm", "PROVIDER_ROLE")
        c.send(deployer, "hmm", "grantRole", provider_role, str(provider_acct.address), what="grant the provider role")
        c.send(oracle, "models", "registerBaseModel", BASE_MODEL, u["fork_performance"], what="register the base model")
        start = c.call("emission", "start")

        balance = lambda a: c.call("token", "balanceOf", a)  # noqa: E731
        ledger = Ledger(supply=c.call("token", "totalSupply"), burned=c.call("token", "totalBurned"))
        for holder in [deployer, oracle, provider_acct, developer, c.whale, c.team]:
            ledger.hanzo[str(holder.address)] = balance(str(holder.address))
        for name in ("rewards", "models", "staked", "hmm", "timelock", "treasury", "vesting", "pool"):
            ledger.hanzo[A[name]] = balance(A[name])
        market = HMMState.from_tokenomics(p, now=c.call("hmm", "epochStart"))
        signer = Oracle(oracle.private_key, c.chain_id, A["rewards"])
        market.providers.add(str(provider_acct.address))
        # The HANZO market is HanzoPool on chain (the Liquidity allocation against TestUSD, as the plan
        # seeds it): every buy and sell is a swap, mirrored by hanzo.econ.cpmm to the wei, and the price
        # the agents see is the pool's. A buyer pays with its own dollars (what its sales brought), and
        # when they are short the holder of TestUSD's float (the Public Sale's holder) hands it a week of
        # purchases: the users' dollars come from outside the economy.
        whale = c.whale
        pool, pool_addr, hanzo_addr = PoolState.from_tokenomics(p), A["pool"], A["token"]
        ledger.usd[str(whale.address)] = c.call("usd", "balanceOf", str(whale.address))

        def buy_hanzo(account, amount: int, what: str) -> None:
            a, cost = str(account.address), pool.quote_exact_out(HANZO, amount)
            held = ledger.usd.get(a, 0)  # its own dollars first: what it kept from its sales of HANZO
            if held < cost:  # then a week of its purchases at once: a transfer a week, not one a purchase
                top_up = DOLLAR_TOP_UP_DAYS * cost - held
                c.send(whale, "usd", "transfer", a, top_up, what=f"{what}: dollars")
                ledger.usd[str(whale.address)] -= top_up
                held += top_up
            c.send(account, "pool", "swapExactOut", hanzo_addr, amount, cost, a, 2**64, what=what)
            ledger.usd[a] = held - pool.swap_exact_out(HANZO, amount, cost, deadline=2**64)
            ledger.move(pool_addr, a, amount)

        def sell_hanzo(account, amount: int, what: str) -> None:
            a = str(account.address)
            c.send(account, "pool", "swapExactIn", hanzo_addr, amount, 0, a, 2**64, what=what)
            ledger.usd[a] = ledger.usd.get(a, 0) + pool.swap_exact_in(HANZO, amount, deadline=2**64)
            ledger.move(a, pool_addr, amount)

        def approve_pool(account, what: str) -> None:
            for side in ("token", "usd"):
                c.send(account, side, "approve", pool_addr, 2**256 - 1, what=f"{what}: approve the pool")

        approve_pool(provider_acct, "provider")  # it sells half its income, as the World's providers do

        fee, fee_burned = nft_mint_fee(p, u["fork_performance"])
        fork_of: dict[str, int] = {}
        row_of: dict[str, int] = {}  # an account's row among the users' (hanzo.sim.strategies reads them)
        account_of: dict[str, object] = {}  # an account by its address (a voter's key casts its votes)
        people: list = []
        active: set[str] = set()  # accounts leave when adopters churn
        forks = [c.call("models", "totalForks")]  # the forks minted (the chain read once; the books count after)

        def join(k: int, what: str, day: int) -> None:
            """k newcomers: each buys HANZO for its fork, approves, and mints it (the World's adoption),
            and is given its strategy and traits."""
            first = len(people)
            for person in c.people(k):
                a = str(person.address)
                c.give_gas(person)
                approve_pool(person, what)
                buy_hanzo(person, fee, f"{what}: HANZO for a fork")
                for spender in ("models", "staked", "hmm"):
                    c.send(person, "token", "approve", A[spender], 2**256 - 1, what=f"{what}: approve {spender}")
                c.send(person, "models", "mint", BASE_MODEL, secrets.token_bytes(32), 2**256 - 1,
                       what=f"{what}: mint fork")
                ledger.burn(a, fee_burned)
                ledger.move(a, A["treasury"], fee - fee_burned)
                forks[0] += 1  # ModelNFT's token ids are 1..totalForks: the books count them
                fork_of[a] = forks[0]
                row_of[a] = len(people)
                account_of[a] = person
                people.append(person)
                active.add(a)
            drawn = rng_activity.lognormal(-u["activity_sigma"] ** 2 / 2, u["activity_sigma"], k)
            # each its own reservation wage, from the World's agents stream, as the World's rows draw theirs
            own = rng_agents.lognormal(-spread ** 2 / 2, spread, k) if spread > 0 and reservation_per_activity > 0 \
                else 1.0
            accounts.grow(drawn, reservation_per_activity, day, own)
            strategies.join(first, len(people), rng_strategies, accounts)
            if provider_rows:  # a provider row offers capacity: the deployer (the market maker's admin) lets it
                for row in np.flatnonzero(strategies.kind[first:len(people)] == strategies.provider) + first:
                    a = str(people[row].address)
                    c.send(deployer, "hmm", "grantRole", provider_role, a, what=f"{what}: a provider row's role")
                    market.providers.add(a)
            for row in range(first, len(people)):
                by_account[str(people[row].address)] = {"strategy": strategies.names[strategies.kind[row]] if mixed
                                                        else "honest", "activity": float(accounts.activity[row]),
                                                        "reservation_usd": float(accounts.reservation[row]),
                                                        "active": 1, **dict.fromkeys(BOOK[1:], 0)}

        join(int(n), "day 0", 0)  # the users the run starts with
        # other venues ([market] external_venues): their HANZO price walks as the World's (the same draws from the
        # World's market stream: hanzo.sim.exchange.external_step), and each day's end the holder of the Public
        # Sale and of TestUSD's float (the World's holders) trades HanzoPool part of the way to it, as the World's
        # arbitrageurs do: buying HANZO with its dollars, or selling its HANZO (never more than it holds)
        venues = scenario["market"]
        rng_market = np.random.default_rng(world_streams(seed)["market"]) if venues["external_venues"] else None
        external_price, arbitrage_usd, external_prices = p.pool_initial_price / WEI, 0, []
        if rng_market is not None:
            approve_pool(whale, "arbitrageur")

        def arbitrage(what: str) -> None:
            nonlocal external_price, arbitrage_usd
            external_price = external_step(rng_market, venues, external_price)
            external_prices.append(external_price)
            w = str(whale.address)
            x = hanzo_toward(pool.reserve_hanzo / WEI, pool.reserve_usd / WEI, external_price,
                             venues["arbitrage_speed"])
            amount = int(abs(x) * WEI)
            if x < 0 and amount and pool.quote_exact_out(HANZO, amount) > ledger.usd[w] // 2:
                # the pool is cheap, more than half the holder's dollars cheap (the venues' walk may go anywhere: at
                # 100% a day the buy outgrew TestUSD's float and reverted): it spends half of them, keeping the rest
                # for the users' and the attacker's dollars, as it sells no more HANZO than it holds
                spend = ledger.usd[w] // 2
                c.send(whale, "pool", "swapExactIn", A["usd"], spend, 0, w, 2**64, what=f"{what}: arbitrage buy")
                ledger.usd[w] -= spend
                ledger.move(pool_addr, w, pool.swap_exact_in(USD, spend, deadline=2**64))
                arbitrage_usd += spend
            elif x < 0 and amount:  # the pool is cheap: buy HANZO with dollars
                cost = pool.quote_exact_out(HANZO, amount)
                c.send(whale, "pool", "swapExactOut", hanzo_addr, amount, cost, w, 2**64, what=f"{what}: arbitrage buy")
                ledger.usd[w] -= pool.swap_exact_out(HANZO, amount, cost, deadline=2**64)
                ledger.move(pool_addr, w, amount)
                arbitrage_usd += cost
            elif x > 0 and min(amount, ledger.hanzo[w]):  # the pool is dear: sell HANZO into it
                amount = min(amount, ledger.hanzo[w])
                c.send(whale, "pool", "swapExactIn", hanzo_addr, amount, 0, w, 2**64, what=f"{what}: arbitrage sell")
                got = pool.swap_exact_in(HANZO, amount, deadline=2**64)
                ledger.move(w, pool_addr, amount)
                ledger.usd[w] += got
                arbitrage_usd += got
        if rng_market is not None:
            arbitrage("day 0")
        # the model developer owns forks too: the share of training on developers' models goes there
        c.give_gas(developer)
        c.send(developer, "token", "approve", A["models"], 2**256 - 1, what="developer approve")

        def mint_developer_fork(what: str) -> int:
            c.send(developer, "models", "mint", BASE_MODEL, secrets.token_bytes(32), 2**256 - 1, what=what)
            ledger.burn(str(developer.address), fee_burned)
            ledger.move(str(developer.address), A["treasury"], fee - fee_burned)
            forks[0] += 1
            return forks[0]
        developer_forks = [mint_developer_fork("developer fork")]
        fork_cap = p.max_interactions_per_fork_day
        # the World's honest governance, as transactions (ChainGovernance): only where the scenario proposes,
        # so that a run without proposals sends what it sent before
        gov, payments_off = None, "" if pay_providers else "not asked for (pay_providers=False)"
        attack = scenario["attacker"]
        if scenario["governance"]["proposals_per_month"] > 0 or pay_providers or attack["enabled"]:
            gov = ChainGovernance(scenario, c, ledger, A, deployer, developer)
            gov.accounts = account_of
            gov.stake_developers()
            needed = max(gov.threshold, gov.quorum) + gov.deposit  # For votes reach the quorum; a deposit locked
            if pay_providers and gov.stake < needed:
                payments_off = (f"the proposers' stake ({gov.stake / WEI:,.0f} HANZO, [governance] "
                                "developer_stake_share) is below the quorum or the proposal threshold plus a deposit "
                                f"({needed / WEI:,.0f} HANZO): no payment can pass")
            elif pay_providers and provider_rows:
                gov.rows = True  # each day's release split among the provider rows (gov.recipients)
            elif pay_providers:
                gov.provider = str(provider_acct.address)
        # the governance attacker (hanzo.sim.governance.attacker): an account of its own that buys HANZO in HanzoPool
        # for 30 days from [attacker] start_day with its own dollars (from outside the economy), stakes it, then
        # proposes to release the treasury to itself; if it wins, it proposes a release a day and sells what it gets
        attacker, attack_cost_usd, attacker_bought = None, 0.0, 0
        if attack["enabled"]:
            attacker = c.people(1)[0]
            att = str(attacker.address)
            c.give_gas(attacker)
            approve_pool(attacker, "attacker")
            c.send(attacker, "token", "approve", A["staked"], 2**256 - 1, what="attacker: approve staking")
            gov.arm(attacker, attack["start_day"] + 30)
            attack_per_day = int(round(attack["budget_usd"] / 30 * WEI))  # TestUSD wei a day

        def attacker_buys(what: str) -> None:
            """A day's budget of dollars swapped for HANZO against the pool's curve, and staked."""
            nonlocal attack_cost_usd, attacker_bought
            if not attack_per_day:
                return
            c.send(whale, "usd", "transfer", att, attack_per_day, what=f"{what}: attacker's dollars")
            ledger.usd[str(whale.address)] -= attack_per_day
            c.send(attacker, "pool", "swapExactIn", A["usd"], attack_per_day, 0, att, 2**64,
                   what=f"{what}: attacker buys HANZO")
            got = pool.swap_exact_in(USD, attack_per_day, deadline=2**64)
            ledger.move(pool_addr, att, got)
            c.send(attacker, "staked", "stake", got, what=f"{what}: attacker stakes")
            ledger.move(att, A["staked"], got)
            ledger.staked[att] = ledger.staked.get(att, 0) + got
            attack_cost_usd += attack_per_day / WEI
            attacker_bought += got
        if attacker is not None and attack["start_day"] == 0:
            # the World's attacker buys its first day's HANZO on day 0, which the chain's day loop (from day 1) does
            # not run: without this it bought 29 days' worth, 29/30 of its budget, and proposed on the same day 30
            attacker_buys("day 0")
        # the World's Compute Providers pool by the books: its genesis allocation (inflation mode) and the
        # emission's compute share, less what the treasury paid the provider
        compute_emitted = dict(p.genesis_allocations).get("compute_providers", 0)
        provider_sold = 0  # wei the provider sold in HanzoPool
        dev_addr = str(developer.address)
        non_users = {dev_addr, str(attacker.address) if attacker is not None else ""}  # stakes not the users'
        # TeamVesting (OpenZeppelin's VestingWallet with a cliff): anyone releases what has vested to the team, who
        # sells [market] team_sell_share of it in HanzoPool, as the World's team does (nothing before the cliff)
        team_total, team_released, team_sold = ledger.hanzo[A["vesting"]], 0, 0
        vesting_start, team_addr = c.call("vesting", "start"), str(c.team.address)

        def voters() -> list[tuple[str, float]]:
            """The active voter accounts, in row order, with their turnout traits (the World's voter rows)."""
            if strategies.voter is None:
                return []
            rows = strategies.active(strategies.voter, accounts)
            return [(str(people[r].address), float(t)) for r, t in zip(rows.index, rows.traits["turnout"])]
        nonce = 0
        # the same policies as the World's cohorts (hanzo.sim.agents), trading in the same HANZO market
        agents = from_scenario(scenario)
        trainers, spammers, holders = agents["trainers"], agents["spammers"], agents["holders"]
        adopters, speculators, providers = agents["adopters"], agents["speculators"], agents["providers"]
        # the reward farmers ([agents] farmers_max, hanzo.sim.agents.Farmers): a population that grows while a
        # farmed interaction pays more than it costs and shrinks while less, as the World's (its ceiling is the
        # scenario's, not scaled to the chain); each farmer an account that buys the HANZO for its fork with its own
        # dollars, mints it, farms farm_interactions_per_day on it at multiplier 1 (ops of at most
        # max_interactions_per_op) and sells all it is paid; the latest to enter leave first
        farmers = agents["farmers"]
        farming, farmers_n, farmer_accounts = farmers.most > 0, 0.0, []
        farm = {"entered": 0, "left": 0, "ops": 0, "interactions": 0, "earned": 0, "sold": 0}
        farm_paid_per_interaction = training_payout(p, 1, 1).paid / WEI  # the World's starting view of it

        def farmers_enter(k: int, what: str) -> None:
            for person in c.people(k):
                a = str(person.address)
                c.give_gas(person)
                approve_pool(person, what)
                buy_hanzo(person, fee, f"{what}: HANZO for a fork")
                c.send(person, "token", "approve", A["models"], 2**256 - 1, what=f"{what}: approve models")
                c.send(person, "models", "mint", BASE_MODEL, secrets.token_bytes(32), 2**256 - 1,
                       what=f"{what}: mint fork")
                ledger.burn(a, fee_burned)
                ledger.move(a, A["treasury"], fee - fee_burned)
                forks[0] += 1
                fork_of[a] = forks[0]
                farmer_accounts.append(person)
                farm["entered"] += 1
        spec = None
        if speculators.budget_per_day:  # one account trades credits for the scenario's speculators
            spec = c.extra
            s_addr = str(spec.address)
            funding = int(speculators.budget_per_day * WEI) * days  # the whole run's budget, bought on day 0
            c.give_gas(spec)
            approve_pool(spec, "speculator")
            buy_hanzo(spec, funding, "speculator buys HANZO")
            c.send(spec, "token", "approve", A["hmm"], 2**256 - 1, what="approve speculator")
        spec_spent = spec_received = 0

        def decide(view: View) -> dict[str, np.ndarray]:
            """Every strategy's Decision for its active accounts (hanzo.sim.strategies, as the World asks its
            rows), checked as the World checks it, as arrays of a value per account (honest accounts' are
            unused: they keep the population's policies, as before strategies)."""
            out = {name: np.zeros(len(people)) for name in ("work", "pay", "low_quality", "sell", "stake")}
            for k, policy in enumerate(strategies.policies):
                if k == honest or not strategies.counts[k]:
                    continue
                rows = strategies.active(k, accounts)
                if not len(rows):
                    continue
                for name, value in strategies.decision(k, policy.decide(view, rows), len(rows), view.day).items():
                    out[name][rows.index] = value
            return out

        def rated(pay: float, interactions: int) -> tuple[int, int]:
            """(multiplier, interactions) of an op whose work earns `pay` x honest work's. The World pays a
            unit of it `pay` x [users] mean_multiplier; the contract's multiplier is a whole 1..max_multiplier,
            so that figure is rounded up or down at random, up with the chance of its fraction (the run's rng;
            its mean is the World's). Below 1 (a spammer's 0.06 x 3), the oracle rates the op at multiplier 1
            and credits that share of its interactions, rounded the same way: the pool pays what the World
            pays it, and the rest of its work is neither paid nor burned, as in the World."""
            target = pay * u["mean_multiplier"]
            if target >= 1.0:
                whole = int(target)
                return min(whole + int(rng.random() < target - whole), p.max_multiplier), interactions
            credited = interactions * target
            whole = int(credited)
            return 1, whole + int(rng.random() < credited - whole)
        costs = scenario["costs"]
        op_usd = gas_usd(costs["gas_per_op"], costs)
        prices: list[float] = []
        paid_per_interaction = starting_pay(p, u["mean_multiplier"])
        budgets = DailyBudgets(p)  # TrainingRewards' daily budgets: each fork's two, and the pool's pace
        compute, mix = scenario["compute"], np.array(scenario.tier_mix)
        tiers = range(len(market.tiers))
        base_prices = np.array([market.price(t) for t in tiers], dtype=float)
        initial_price, target = p.pool_initial_price / WEI, p.hmm_target_utilization / WEI
        # the providers start with the World's headroom over the users' demand (hanzo.sim.compute.market_maker)
        capacity = np.maximum(len(people) * u["inference_credits_per_day"] * mix * compute["capacity_headroom"], 1.0)
        income_per_credit = np.zeros(len(tiers))
        deferred = 0
        rows: list[dict] = []
        for day in range(1, days + 1):
            try:
                c.start_day(start + day * DAY)
                now = start + day * DAY
                # emission, released by anyone, and the market maker's epoch step
                c.send(deployer, "emission", "release", what=f"day {day}: release emission")
                due = emitted_at(p, c.now() - start)
                to_training, to_compute = emission_split(p, due, ledger.released)
                ledger.hanzo[A["rewards"]] += to_training
                ledger.hanzo[A["treasury"]] += to_compute
                compute_emitted += to_compute
                ledger.supply += due - ledger.released
                ledger.released = due
                next_block = c.next_timestamp()
                # the books' epoch start (HMMState mirrors poke's), not a read: the day loop reads nothing from
                # the chain, so the EVM may run in a second process behind it (hanzo.chain.pipeline)
                ends = market.epoch_start + market.params.epoch_length
                # an epoch ending within the day's first 1/OFFER_GRACE closes first: the day's offers would
                # otherwise land in the last seconds of the old epoch and count by the few seconds left (on
                # Ape's chain the deployment's blocks start the epoch a few seconds after the emission)
                if next_block + market.params.epoch_length // OFFER_GRACE >= ends:
                    # pin the poke's block to that second: anvil may otherwise mine it in the same
                    # second as the release before it, before the epoch has ended (seen under load)
                    next_block = max(next_block, ends)
                    c.start_day(next_block)
                    c.send(deployer, "hmm", "poke", what=f"day {day}: poke")
                    market.poke(c.now())
                # training: one signed batch a day
                paid_today = 0
                prices.append(pool.price() / WEI)
                # every agent decides on yesterday's figures, the providers on yesterday's income per credit,
                # as the World's View (hanzo.sim.world.observe)
                view = View(day, prices[-1], prices[max(0, len(prices) - 31)], paid_per_interaction,
                            income_per_credit.copy(), op_usd, farm_paid_per_interaction)
                worth, junk_share = trainers.decide(view), spammers.decide(view)
                sell_share, stake_share = holders.decide(view)
                growth, _ = adopters.decide(view)
                if leaving_possible and accounts.active:
                    # the World's churn (hanzo.sim.users.adoption): alike, the day's chance of leaving times the active
                    # accounts, rounded down, leave; with reservation spreads, each its own chance, their sum rounded
                    # down leave, drawn in proportion; from the World's agents stream as the World draws its
                    # leavers, so the same seed takes the same rows
                    pay_per_activity = view.reward_usd_per_interaction * u["interactions_per_day"]
                    if spread > 0:
                        on = accounts.active_rows()
                        chance = adopters.churn_each(view, pay_per_activity * accounts.activity[on],
                                                     accounts.reservation[on])
                        count = min(int(chance.sum()), accounts.active)
                        pick = lambda: leavers_weighted(on, chance, count, rng_agents)  # noqa: E731
                    else:
                        chance = float(adopters.churn_each(view, [pay_per_activity], [reservation_per_activity])[0])
                        count = min(int(chance * accounts.active), accounts.active)
                        pick = lambda: leavers_alike(accounts.on, accounts.rows, accounts.active,  # noqa: E731
                                                     accounts.active_rows, count, rng_agents)
                    if count > 0:
                        for row in pick():
                            a = str(people[row].address)
                            active.discard(a)
                            accounts.leave(int(row))
                            by_account[a]["active"] = 0
                        n = max(0.0, n - count)
                # the World's adoption (hanzo.sim.users.adoption): newcomers fill the curve, which then moves on
                joining = max(0, min(int(round(n)), users) - len(active))
                if joining:
                    join(joining, f"day {day}: newcomers", day)
                if spread > 0 and trainers.reservation_usd > 0 and trainers.elasticity:
                    # each account, the day's newcomers included, weighs a usual day's pay against its own
                    # reservation wage (the World's trained_today when its users are not alike)
                    usual_pay = view.reward_usd_per_interaction * u["interactions_per_day"]
                    worth = trainers.decide_each(usual_pay * accounts.activity[:accounts.rows],
                                                 accounts.reservation[:accounts.rows])
                n += growth * next(word_of_mouth) * n * (1.0 - n / users)
                # the day's common shock (busy and quiet days), drawn after the joins as the World draws it
                shock = rng_activity.gamma(50.0, 1 / 50.0) if active else 1.0
                decided = decide(view) if mixed else {}
                if farming:  # on yesterday's margin (the World's training: before the day's work)
                    farmers_n = farmers.decide(view, farmers_n)
                    want = int(round(farmers_n))
                    while len(farmer_accounts) > want:
                        farmer_accounts.pop()
                        farm["left"] += 1
                    if want > len(farmer_accounts):
                        farmers_enter(want - len(farmer_accounts), f"day {day}: farmers")
                equivalent: dict[int, float] = {}  # per op (its nonce) at a strategy's pay: its honest interactions
                ops, sigs = [], []
                developer_used = [0] * len(developer_forks)  # others' interactions on each developer fork today
                for i, person in enumerate(people):
                    a = str(person.address)
                    if a not in active:
                        continue
                    own = mixed and strategies.kind[i] != honest  # it acts by its strategy's Decision
                    # its strategy's work scales its usual interactions (the World's `trained`: activity x work)
                    effort = decided["work"][i] if own else worth if np.isscalar(worth) else float(worth[i])
                    # the oracle signs no more than one op may carry; the day's budgets are the contract's
                    usual = u["interactions_per_day"] * accounts.activity[i]
                    interactions = min(int(rng.poisson(usual * shock * effort)), p.max_interactions_per_op)
                    if interactions == 0:
                        continue
                    by_account[a]["worked"] += interactions
                    if own and decided["low_quality"][i] > 0 and rng.random() < decided["low_quality"][i]:
                        # its own junk (the strategy's low_quality share, op by op): judged low quality in full,
                        # burned at multiplier 1, none let through, as the World burns its rows' low-quality work
                        low, multiplier = True, 1
                    else:
                        draw = rng.random()
                        low = draw < junk_share
                        leaked = low and draw >= spammers.base_share and rng.random() < spammers.leak
                        if low:
                            multiplier = 1
                        elif own and decided["pay"][i] != 1.0:
                            # its work in honest interactions: what the agents' view of the pay per
                            # interaction counts it as (the World's divides out the strategies' pay)
                            equivalent[nonce] = interactions * float(decided["pay"][i])
                            multiplier, interactions = rated(float(decided["pay"][i]), interactions)
                            if interactions == 0:
                                continue  # the oracle credits none of its work: it signs no op
                        else:
                            multiplier = int(np.clip(round(rng.normal(u["mean_multiplier"], 1.5)), 1,
                                                     p.max_multiplier))
                        low = low and not leaked  # junk the oracle let through is paid at multiplier 1
                    model = fork_of[a]
                    if rng.random() < u["developer_model_share"]:
                        # the World's developers' models take any amount of training; a fork on chain takes at most
                        # max_interactions_per_fork_day of others' a day (the rest deferred: 45% of all ops with
                        # 10,000 accounts on one fork): the op goes to the first developer fork with room today,
                        # and the developer mints another when none has
                        k = next((k for k, used in enumerate(developer_used) if used + interactions <= fork_cap), None)
                        if k is None:
                            developer_forks.append(mint_developer_fork(f"day {day}: developer fork "
                                                                       f"{len(developer_forks) + 1}"))
                            developer_used.append(0)
                            k = len(developer_forks) - 1
                        developer_used[k] += interactions
                        model = developer_forks[k]
                    op = TrainingOp(a, model, secrets.token_bytes(32), multiplier, interactions, low, nonce, now + DAY)
                    nonce += 1
                    ops.append(op)
                    sigs.append(signer.sign(op))
                farmed = set()  # the farmers' ops (their nonces)
                # the farmers' interactions, the World's farmers x farm_interactions_per_day, rounded once and
                # shared out whole (each int() of a fractional figure before: at 0.5 a day, none farmed at all)
                each, extra = divmod(round(len(farmer_accounts) * farmers.interactions_per_day),
                                     max(len(farmer_accounts), 1))
                for f_row, person in enumerate(farmer_accounts):
                    a, left = str(person.address), each + (f_row < extra)
                    while left > 0:
                        k = min(left, p.max_interactions_per_op)
                        op = TrainingOp(a, fork_of[a], secrets.token_bytes(32), 1, k, False, nonce, now + DAY)
                        farmed.add(nonce)
                        nonce += 1
                        left -= k
                        ops.append(op)
                        sigs.append(signer.sign(op))
                if ops:
                    pool_before, when = ledger.hanzo[A["rewards"]], None
                    for first in range(0, len(ops), BATCH_OPS):  # a block's gas holds a batch of this size
                        c.send(deployer, "rewards", "rewardTrainingBatch",
                               [o.as_tuple() for o in ops[first:first + BATCH_OPS]], sigs[first:first + BATCH_OPS],
                               what=f"day {day}: training batch of {len(ops[first:first + BATCH_OPS])}")
                        when = c.now() if when is None else when
                    # the ops the contract pays, as the reference model's budgets say (the day's first
                    # op sets the pool's budget from the pool before the day's batches); the rest it
                    # defers (OpDeferred), and this run does not send them again
                    sent = len(ops)
                    ops = [o for o in ops if budgets.admit(
                        when, o.modelId, o.modelId == fork_of.get(o.user), o.interactions,
                        training_payout(p, o.multiplier, o.interactions, o.lowQuality), o.lowQuality,
                        pool_before) is None]
                    deferred += sent - len(ops)
                    total_burn = accepted = accepted_pay = 0
                    # what each account received: the user's share, and the owner's on its own fork (on a
                    # developer's model the owner's share is the developer's); kept per account as the ops
                    # are paid, not searched for per account (that was quadratic in the accounts)
                    earned_by: dict[str, int] = {}
                    farm_paid = farm_done = 0
                    for op in ops:
                        pay = training_payout(p, op.multiplier, op.interactions, op.lowQuality)
                        if op.nonce in farmed:  # a farmer's, on its own fork: both shares its own
                            ledger.move(A["rewards"], op.user, pay.user + pay.owner)
                            earned_by[op.user] = earned_by.get(op.user, 0) + pay.user + pay.owner
                            paid_today += pay.user + pay.owner
                            total_burn += pay.burned
                            farm_paid += pay.user + pay.owner
                            farm_done += op.interactions
                            farm["ops"] += 1
                            continue
                        book = by_account[op.user]
                        book["ops"] += 1
                        book["interactions"] += op.interactions
                        if op.lowQuality:
                            book["low_quality_ops"] += 1
                            book["low_quality_burned"] += pay.burned
                        owner = op.user if op.modelId == fork_of.get(op.user) else str(developer.address)
                        ledger.move(A["rewards"], op.user, pay.user)
                        ledger.move(A["rewards"], owner, pay.owner)
                        own = pay.owner if owner == op.user else 0
                        earned_by[op.user] = earned_by.get(op.user, 0) + pay.user + own
                        paid_today += pay.user + pay.owner
                        total_burn += pay.burned
                        if not op.lowQuality:
                            accepted += equivalent.get(op.nonce, op.interactions)
                            accepted_pay += pay.user
                    ledger.burn(A["rewards"], total_burn)
                    if accepted:
                        paid_per_interaction = accepted_pay / WEI / accepted
                    if farm_done:  # what a farmed interaction paid, the farmers' view tomorrow (the World's)
                        farm_paid_per_interaction = farm_paid / WEI / farm_done
                        farm["interactions"] += farm_done
                        farm["earned"] += farm_paid
                    for person in farmer_accounts:  # farmers sell all they were paid
                        got = earned_by.get(str(person.address), 0)
                        if got:
                            sell_hanzo(person, got, f"day {day}: farmer sells")
                            farm["sold"] += got
                    # users stake part of what they earned today, and sell part
                    for i, person in enumerate(people):
                        a = str(person.address)
                        if a not in active:
                            continue
                        earned = earned_by.get(a, 0)
                        if mixed and strategies.kind[i] != honest:
                            # a strategy's shares are drawn per account, so to the basis point (honest accounts
                            # keep their whole percent, as before strategies); the stake first, then the sale
                            # of at most what is left, as the World caps them (hanzo.sim.training.shares)
                            stake_bps = int(round(float(decided["stake"][i]) * BPS))
                            sell_bps = min(int(round(float(decided["sell"][i]) * BPS)), BPS - stake_bps)
                            amount, sold = earned * stake_bps // BPS, earned * sell_bps // BPS
                        else:
                            amount = earned * round(stake_share * 100) // 100
                            sold = earned * round(sell_share * 100) // 100
                        book = by_account[a]
                        book["earned"] += earned
                        if amount:
                            c.send(person, "staked", "stake", amount, what=f"day {day}: stake")
                            ledger.move(a, A["staked"], amount)
                            ledger.staked[a] = ledger.staked.get(a, 0) + amount
                            book["staked"] += amount
                        if sold:
                            sell_hanzo(person, sold, f"day {day}: sell")
                            book["sold"] += sold
                # inference, by the World's rules (hanzo.sim.compute.inference): a user's demand per tier
                # follows the tier mix and what a credit costs in USD against day 0; it keeps buffer_days
                # of credits, buys the HANZO it pays with from HanzoPool, and spends what is served; the
                # provider offers its capacity each epoch and moves it by the providers' policy
                relative = np.array([market.price(t) for t in tiers]) / base_prices * (prices[-1] / initial_price)
                response = np.minimum(relative ** -u["price_elasticity"], u["max_demand_multiple"])
                shock_on = compute["shock_day"] and day >= compute["shock_day"]
                shock_factor = compute["shock_factor"] if shock_on else 1.0
                noise = swings.factor() if swings is not None else 1.0  # [uncertainty] demand_volatility
                demand = u["inference_credits_per_day"] * shock_factor * noise * mix * response
                # whole credits per account, each rounded up or down at random (whole_credits)
                use, keep = whole_credits(rng_credits, len(people), demand, demand * (1 + compute["buffer_days"]))
                if provider_rows:  # each provider row offers its own capacity (hanzo.sim.strategies.Provider)
                    serving = strategies.active(strategies.provider, accounts)
                    offers = np.floor(strategies.capacity[serving.index]).astype(int)  # a row each, a column a tier
                    sellers = [people[r] for r in serving.index]
                else:
                    offers = (np.floor(capacity).astype(int) if active else np.zeros(len(tiers), dtype=int))[None, :]
                    sellers = [provider_acct]
                offered = offers.sum(axis=0)
                for seller, offer in zip(sellers, offers):
                    for t in tiers:
                        if offer[t]:
                            # ask 0: the World's providers serve any credit (their capacity always counts)
                            c.send(seller, "hmm", "offerCapacity", t, int(offer[t]), 0, what=f"day {day}: capacity")
                            market.offer_capacity(str(seller.address), t, int(offer[t]), 0, c.next_timestamp())
                desk = ServiceDesk(offers, [str(s.address) for s in sellers])
                # what each active account will spend of every tier: its day's use, of what it holds once it has
                # bought up to its buffer (only its own purchase changes its credits before its turn)
                wanted = {}
                for person in people:
                    a = str(person.address)
                    if a in active:
                        row = row_of[a]
                        wanted[a] = [min(int(use[row, t]), max(int(keep[row, t]), market.credits.get((a, t), 0)))
                                     for t in tiers]
                serving_plan = desk.plan(wanted)
                served, paid_out = np.zeros(len(tiers), dtype=int), np.zeros(len(tiers))
                congestion = 0  # the day's congestion charges (wei), the World's flow of that name
                for person in people:
                    a = str(person.address)
                    if a not in active:
                        continue
                    # the day's credits of every tier, and one purchase of the HANZO they cost (a tier's
                    # cost does not depend on the others')
                    row = row_of[a]
                    wants = {t: int(keep[row, t]) - market.credits.get((a, t), 0) for t in tiers}
                    costs = {t: market.quote_buy(t, n)[0] for t, n in wants.items() if n > 0}
                    if costs:  # the day's credits of every tier in one transaction (buyBatch)
                        total = sum(costs.values())
                        buy_hanzo(person, total, f"day {day}: HANZO for credits")
                        market.hanzo[a] = ledger.hanzo[a]
                        market.buy_batch(a, [(t, wants[t]) for t in costs], total, 2**64, now)
                        c.send(person, "hmm", "buyBatch", list(costs), [wants[t] for t in costs], total, 2**64,
                               what=f"day {day}: buy credits")
                        ledger.move(a, A["hmm"], total)
                    # what is served of them, as the desk planned, in one transaction per provider (redeemBatch);
                    # (no `n` here: it is the population on the adoption curve)
                    for j, spends in serving_plan.get(a, ()):
                        to, refunds = desk.addresses[j], 0
                        # past the target share of the provider's capacity the holder pays the congestion charge,
                        # out of its refunds and the rest from its balance: it buys that rest first, as it buys
                        # the HANZO for its credits; the model's batch then settles once on the same plan, as the
                        # contract's does (an element's charge may be more than the account holds before
                        # another's refund)
                        quotes = market.quote_redeem_batch(a, spends, to)
                        owed = sum(charge - refund for _, refund, _, charge in quotes)
                        if owed > 0:
                            buy_hanzo(person, owed, f"day {day}: HANZO for the congestion charge")
                            market.hanzo[a] = ledger.hanzo[a]
                        market.redeem_planned(a, spends, to, quotes)
                        for (t, k), (paid, refund, _, charge) in zip(spends, quotes):
                            net = refund - charge
                            refunds += net
                            served[t] += k
                            paid_out[t] += paid / WEI
                            desk.paid[j] += paid
                            ledger.move(A["hmm"], to, paid)
                            # the curve's premium back (rule 3h) less the charge: negative, the holder pays
                            ledger.move(A["hmm"], a, net)
                        congestion += sum(charge for *_, charge in quotes)
                        # the refunds less the charges the model settled are the holder's bound (minNet): the
                        # chain must settle them to the wei
                        c.send(person, "hmm", "redeemBatch", [t for t, _ in spends], [n for _, n in spends],
                               to, refunds, 2**64, what=f"day {day}: redeem credits")
                utilization = np.divide(served, offered, out=np.zeros(len(tiers)), where=offered > 0)
                income_per_credit = np.where(served > 0, paid_out / np.maximum(served, 1), income_per_credit)
                # what the Compute Providers pool paid since the last sale (governance pays at the day's end)
                arrived = gov.take_payments() if gov is not None else {}
                if provider_rows:
                    # as the World's provider rows (hanzo.sim.compute.provider_rows_day): each sells its own share
                    # of its income (what it was paid for compute today, and what the pool paid it), and moves its
                    # capacity by its own margin; the day's release is proposed split by today's pay (gov.day)
                    policy = strategies.policies[strategies.provider]
                    for j, (seller, r) in enumerate(zip(sellers, serving.index)):
                        a = str(seller.address)
                        income = int(desk.paid[j]) + arrived.pop(a, 0)
                        book = by_account[a]
                        book["offered"] += int(offers[j].sum())
                        book["served"] += int(desk.served[j].sum())
                        book["compute_income"] += income
                        share = float(strategies.traits[strategies.provider]["sell_share"][r])
                        sold = income * int(round(share * BPS)) // BPS
                        if sold:
                            sell_hanzo(seller, sold, f"day {day}: provider sells")
                            provider_sold += sold
                            book["sold"] += sold
                    for a, late in arrived.items():  # paid to a provider row that has left since: it keeps it
                        by_account[a]["compute_income"] += late
                    if gov is not None and gov.rows:
                        # the day's release is split as the World splits it: by today's pay, and on a day nothing
                        # was paid by capacity weighted by the tiers' base prices
                        weights = list(desk.paid)
                        if not any(weights):
                            weights = [int(round(x * 2**20)) for x in
                                       strategies.capacity[serving.index] @ policy.tier_cost_scale]
                        gov.recipients = list(zip(desk.addresses, weights))
                    if len(serving):
                        strategies.capacity[serving.index] = policy.capacity(
                            view, serving, strategies.capacity[serving.index], utilization, target)
                        capacity = strategies.capacity[serving.index].sum(axis=0)
                    else:
                        capacity = np.zeros(len(tiers))
                else:
                    capacity = capacity * (1 + providers.decide(view, utilization, target))
                    # the provider sells half its day's income, as the World's do: what it was paid for compute,
                    # and what the Compute Providers pool paid it since its last sale
                    income = int(desk.paid[0]) + sum(arrived.values())
                    if income // 2:
                        sell_hanzo(provider_acct, income // 2, f"day {day}: provider sells")
                        provider_sold += income // 2
                if spec is not None:  # the speculators' policy, traded on chain and mirrored in the model
                    held = np.array([market.credits.get((s_addr, t), 0) for t in range(len(market.tiers))])
                    momentum = np.array([t.momentum for t in market.tiers])
                    price = np.array([market.price(t) for t in range(len(market.tiers))]) / WEI
                    buy, sell = speculators.decide(momentum, held, price)
                    for t in range(len(market.tiers)):
                        n = int(sell[t])
                        if n:
                            got = market.sell(s_addr, t, n, 0, 2**64, now)
                            c.send(spec, "hmm", "sell", t, n, 0, 2**64, what=f"day {day}: speculator sells")
                            ledger.move(A["hmm"], s_addr, got)
                            spec_received += got
                        n = int(buy[t])
                        if n:
                            market.hanzo[s_addr] = ledger.hanzo[s_addr]
                            try:
                                cost = market.buy(s_addr, t, n, 2**255, 2**64, now)
                            except HMMError:
                                continue  # past the depth bound or the budget: the model says the chain would revert
                            c.send(spec, "hmm", "buy", t, n, 2**255, 2**64, what=f"day {day}: speculator buys")
                            ledger.move(s_addr, A["hmm"], cost)
                            spec_spent += cost
                if team_total:  # the team's vested tokens (hanzo.sim.issuance.team_vesting): released, a share sold
                    due = vested(p, team_total, c.now() - vesting_start) - team_released
                    if due > 0:
                        if not team_released:  # its first release (the cliff): the team's account gets ready to sell
                            c.give_gas(c.team)
                            approve_pool(c.team, "the team")
                        c.send(deployer, "vesting", "release(address)", hanzo_addr, what=f"day {day}: team vesting")
                        # what vested by the release's own block (on Ape's chains each transaction has its own)
                        due = vested(p, team_total, c.now() - vesting_start) - team_released
                        ledger.move(A["vesting"], team_addr, due)
                        team_released += due
                        sold = due * int(round(scenario["market"]["team_sell_share"] * BPS)) // BPS
                        if sold:
                            sell_hanzo(c.team, sold, f"day {day}: the team sells")
                            team_sold += sold
                if attacker is not None and attack["start_day"] <= day < attack["start_day"] + 30:
                    attacker_buys(f"day {day}")
                if gov is not None:  # after the day's staking, as the World's proposals follow it
                    gov.day(day, voters, start + (day + 1) * DAY, compute_emitted - gov.paid)
                    drained = gov.take_drained()
                    if drained:  # the attacker sells what the treasury released to it, as the World's
                        sell_hanzo(attacker, drained, f"day {day}: attacker sells the treasury")
                if rng_market is not None:  # the day's end: other venues move, the arbitrageur follows
                    arbitrage(f"day {day}")
                compute_paid = gov.paid if gov is not None else 0
                h = ledger.hanzo
                rows.append({"day": day, "hanzo_price_usd": prices[-1], "total_supply": ledger.supply / WEI,
                             "emitted": ledger.released / WEI, "burned": ledger.burned / WEI,
                             # the users' stake (the proposers' is not the users', as in the World's figure)
                             "staked": sum(v for a, v in ledger.staked.items() if a not in non_users) / WEI,
                             "reward_pool": h[A["rewards"]] / WEI,
                             "treasury": h[A["treasury"]] / WEI,
                             "treasury_drained": (gov.drained if gov is not None else 0) / WEI,
                             "market_maker_reserve": market.reserve / WEI, "users": len(active),
                             "pool_hanzo": pool.reserve_hanzo / WEI, "pool_usd": pool.reserve_usd / WEI,
                             "rewards_paid": paid_today / WEI, "price_7b": market.price(0) / WEI,
                             "capacity_7b": float(capacity[0]), "utilization_7b": float(utilization[0]),
                             "training_ops_paid": len(ops), "training_ops_deferred": deferred,
                             # the Compute Providers pool by the books, what it paid the provider and what the
                             # provider sold (to date)
                             "compute_pool": (compute_emitted - compute_paid) / WEI, "compute_paid": compute_paid / WEI,
                             "provider_sold": provider_sold / WEI, "congestion_charges": congestion / WEI,
                             "transactions": c.transactions})
                if progress:
                    progress(1)
            except ChainRunError:
                raise
            except DriverError as exc:
                raise ChainRunError(str(exc)) from exc
            except Exception as exc:  # noqa: BLE001 - a dead node surfaces as many error types
                raise ChainRunError(f"day {day}: the node stopped answering ({type(exc).__name__}: {exc})") from exc

        try:  # every transaction confirmed (the embedded EVM in a second process may still be running the last days)
            c.sync()
        except DriverError as exc:
            raise ChainRunError(str(exc)) from exc
        strategies.warn_clipped()  # once a run, from all its accounts' draws, as the World warns
        # reconcile
        diffs, checked = [], []

        def check(what: str, chain_value: int, sim_value: int) -> None:
            checked.append(what)
            if chain_value != sim_value:
                diffs.append(f"{what}: chain {chain_value} vs simulation {sim_value} "
                             f"(differs by {chain_value - sim_value})")

        # every account's balances asked at once, then read (with the EVM in a second process, one stream of
        # answers rather than a round trip each)
        asked = [(f"HANZO balance of {address}", c.call_later("token", "balanceOf", address), expected)
                 for address, expected in sorted(ledger.hanzo.items())]
        asked += [(f"sHANZO of {address}", c.call_later("staked", "balanceOf", address), expected)
                  for address, expected in sorted(ledger.staked.items())]
        usd = [(f"TestUSD balance of {address}", c.call_later("usd", "balanceOf", address), expected)
               for address, expected in sorted(ledger.usd.items())]
        for what, chain_value, expected in asked:
            check(what, chain_value(), expected)
        check("total supply", c.call("token", "totalSupply"), ledger.supply)
        check("total burned", c.call("token", "totalBurned"), ledger.burned + 0)
        check("emission released", c.call("emission", "released"), ledger.released)
        check("market maker reserve", c.call("hmm", "reserve"), market.reserve)
        for what, chain_value, expected in usd:
            check(what, chain_value(), expected)
        reserves = c.call("pool", "getReserves")
        check("HanzoPool's HANZO reserve", reserves[0], pool.reserve_hanzo)
        check("HanzoPool's TestUSD reserve", reserves[1], pool.reserve_usd)
        for tid in range(3):
            tier = c.call("hmm", "tier", tid)
            check(f"credits outstanding, tier {tid}", tier.supply, market.tiers[tid].supply)
            check(f"reference price, tier {tid}", tier.refPrice, market.tiers[tid].ref_price)
            check(f"pricing position, tier {tid}", tier.position, market.tiers[tid].position)
        for what, chain_value, sim_value in gov.reconcile() if gov is not None else ():
            check(what, chain_value, sim_value)
        return Reconciliation(days, c.transactions, len(checked), diffs, prices, len(people) - len(active),
                              (spec_spent, spec_received), deferred, rows, checked, len(people), by_account,
                              strategies.clipped(), [p.record() for p in gov.proposals] if gov is not None else [],
                              [p.record() for p in gov.payments] if gov is not None else [], payments_off,
                              len(developer_forks),
                              {"attack": gov.attack, "attack_day": gov.attack_day if gov.attacks else -1,
                               "attack_cost_usd": attack_cost_usd, "bought": attacker_bought / WEI,
                               "treasury_drained": gov.drained / WEI, "proposals": [p.record() for p in gov.attacks]}
                              if attacker is not None else {},
                              {"arbitrage_usd": arbitrage_usd / WEI, "external_prices": external_prices}
                              if rng_market is not None else {},
                              {**farm, "active": len(farmer_accounts), "population": farmers_n,
                               "earned": farm["earned"] / WEI, "sold": farm["sold"] / WEI} if farming else {},
                              drawn,
                              {"released": team_released / WEI, "sold": team_sold / WEI} if team_released else {})


def write(result: Reconciliation, scenario: Scenario, network: str, users: int, out: Path) -> dict[str, Path]:
    """The World's files for a chain run: series.parquet (a row a day from the books the run kept
    beside the chain, which the reconciliation proved equal to it), summary.json (the run and its
    reconciliation), the supply, price, compute and users plots, report.html, and comparison.csv: the same scenario
    run by the World at the chain's scale, each headline figure beside the chain's, day by day
    (hanzo.sim.crosscheck; summary.json's `world_vs_chain` holds each figure's largest difference)."""
    import json

    import pandas as pd

    from .crosscheck import EXPLAINED, compare, world_rows
    from .report import chain_report, chain_plots

    out.mkdir(parents=True, exist_ok=True)
    series = pd.DataFrame(result.rows)
    last = result.rows[-1] if result.rows else {}
    summary = {"scenario": scenario.name, "network": network, "days": result.days, "users": users,
               "accounts_joined": result.accounts, "users_final": last.get("users"),
               "seed": scenario["scenario"]["seed"], "transactions": result.transactions,
               "reconciled": result.ok, "figures_checked": result.checked, "differences": result.differences,
               "users_churned": result.churned, "training_ops_deferred": result.deferred,
               "hanzo_price_usd": {"first": result.prices[0] if result.prices else None,
                                   "final": result.prices[-1] if result.prices else None},
               "total_supply": last.get("total_supply"), "burned": last.get("burned"),
               "staked": last.get("staked"), "treasury": last.get("treasury"),
               # per strategy: its accounts (joined, and active at the end), its paid ops and HANZO
               "strategies": {name: {k: v / WEI if k in HANZO_FIGURES else v for k, v in sums.items()}
                              for name, sums in result.strategies().items()},
               **({"clipped": result.clipped} if result.clipped else {}),
               # the honest proposals on chain: made, settled as passed or defeated, and the deposits burned
               # (with an attacker, its figures under the World's keys: hanzo.sim.run's summary)
               "governance": {**result.governance(),
                              **({"attack": result.attack["attack"], "attack_day": result.attack["attack_day"],
                                  "treasury_drained": result.attack["treasury_drained"],
                                  "attack_cost_usd": result.attack["attack_cost_usd"],
                                  "attacker_hanzo": result.attack["bought"]} if result.attack else {})},
               # the Compute Providers pool's payments to the provider through governance (HANZO)
               "compute_providers": {"payments_proposed": len(result.provider_payments),
                                     "payments_executed": sum(p["status"] == "settled"
                                                              for p in result.provider_payments),
                                     "paid": last.get("compute_paid"), "pool": last.get("compute_pool"),
                                     "provider_sold": last.get("provider_sold"),
                                     **({"off": result.provider_payments_off} if result.provider_payments_off
                                        else {})}}
    if result.team:  # the team's vested tokens released and sold
        summary["team"] = dict(result.team)
    if result.drawn:  # [uncertainty]: this run's drawn figures
        summary["uncertainty_drawn"] = dict(result.drawn)
    if result.farmers:  # the reward farmers' accounts and what they farmed
        summary["farmers"] = dict(result.farmers)
    if result.venues:  # other venues: the arbitrageur's volume and the venues' price at the end
        summary["external_venues"] = {"arbitrage_usd": result.venues["arbitrage_usd"],
                                      "external_price_usd": result.venues["external_prices"][-1]}
    versus = compare(world_rows(scenario, users, result.days), result.rows)
    summary["world_vs_chain"] = {"max_rel_diff": versus.max_rel_diff,
                                 "last_day": {k: dict(zip(("world", "chain", "rel_diff"), v))
                                              for k, v in versus.last_day().items()},
                                 "why": {k: v for k, v in EXPLAINED.items() if versus.max_rel_diff.get(k, 0) > 0}}
    files = {"series": out / "series.parquet", "summary": out / "summary.json", "comparison": out / "comparison.csv"}
    series.to_parquet(files["series"], index=False)
    versus.table.to_csv(files["comparison"], index=False)
    files["summary"].write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    files.update(chain_plots(series, summary, out))
    files["report"] = chain_report(scenario, summary, files, out)
    return files
