"""The SimPy world of the Hanzo economy: one step is one day (tokenomics D6).

The World holds the state and the order of the day; the processes that move HANZO live in modules
named after what they model, each flow in one place:

    issuance     genesis, the emission schedule, the team's vesting
    users        the user agents (a wallet each, in arrays), adoption and churn, forks and their fee
    training     TrainingRewards' payouts and what users, developers and farmers do with them; fees
    compute      the compute market maker, credit purchases and use, speculators, providers
    governance   stake and unstaking, proposals and deposits, the treasury attacker
    exchange     the HANZO market: HanzoPool's daily opening and close, other venues, arbitrage

Users are agents, up to millions of them, each a row of numpy arrays (hanzo.sim.users: its wallet,
stakes, activity, reservation wage, join and leave day, strategy and its traits: hanzo.sim.strategies),
driven by one process each day, so a million users cost array operations, not a million generators (and each
strategy one policy over its rows, not a call per agent); compute providers and voters are such rows
when the scenario names them ([strategies] provider_share, voter_share: each provider its own capacity
and wallet, each voter its own stake and turnout), else providers an aggregate wallet and the votes a
turnout share of the stake; the other groups (developers, farmers, speculators, holders) are aggregate
wallets, and single named agents (the governance attacker) ordinary processes beside them. Every process is a generator
of the World, woken once a day in the order of `PROCESSES` below, so a run is a pure function of its
scenario and seed.

Money is in HANZO (floats) here; the exact integer rules live in hanzo.econ.reference and
hanzo.econ.hmm, which the processes call for emission, rewards, fees and the market maker. Every
balance is the ledger's (hanzo.sim.ledger): each flow is a mint, transfer or burn between named
accounts, no group or user spends or sells HANZO it does not hold, and the books are checked at the
end of every day (wallets + contracts + market + burned == minted, and every user account is the
exact sum of the users' rows).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy

from hanzo.econ.params import DAY
from hanzo.econ.reference import training_payout

from . import compute, exchange, governance, issuance, training, uncertainty, users
from .agents import View, from_scenario, gas_usd, starting_pay
from .exchange import Exchange
from .governance import Governance
from .ledger import CHART, MARKET, WALLET, Ledger, hanzo
from .pool import ConstantProductPool
from .scenario import Scenario
from .strategies import Strategies
from .users import Users

__all__ = ["World", "gini", "hanzo"]


@dataclass
class Supply:
    """What was issued and paid over the run, by kind (cumulative flows; every balance is the
    ledger's)."""

    emitted: float = 0.0
    tail_emitted: float = 0.0  # [policy] tail_emission_per_year, after the schedule
    recycled_fees: float = 0.0  # [policy] inference_fee_share, into the training pool
    training_fees: float = 0.0  # [policy] fine-tuning and base-model fees paid


@dataclass
class Flows:
    """One day's flows, reset each day."""

    unmet_hanzo: float = 0.0  # HANZO bought that the pool could not sell: buyers paid it from their wallets
    refused_hanzo: float = 0.0  # fees not paid (farmers' forks, training not done): no HANZO to fund them
    credits_unfunded: float = 0.0  # compute credits wanted today but not bought: no HANZO to fund them
    rewards_paid: float = 0.0
    rewards_nominal: float = 0.0  # what the contract's rule pays for the day's work, were the pool full
    interactions: float = 0.0
    gas: float = 0.0  # gas of the day's training ops
    inference_spend: float = 0.0
    congestion_charges: float = 0.0  # what users paid for redemptions past the target share of capacity
    provider_income: float = 0.0
    arbitrage_usd: float = 0.0


def observe(w: World):
    """First each day: the View every agent decides on (yesterday's figures)."""
    op_usd = gas_usd(w.s["costs"]["gas_per_op"], w.s["costs"])
    while True:
        w.prices.append(w.price_usd)
        w.view = View(int(w.env.now), w.prices[-1], w.prices[0], w.paid_per_interaction,
                      w.provider_income_per_credit, op_usd, w.farm_paid_per_interaction)
        yield w.env.timeout(1)


SETTLE_DAYS = 365  # the users' rows are settled at least this often (hanzo.sim.users.Users): a settlement
# costs a dozen array passes over every row, so monthly ones were most of a 1M-user run's time; a year's window
# replays in milliseconds, and its rounding is still to the nearest unit


def recorder(w: World):
    """Last each day: the users' rows are settled if a year of earning days has passed since they last were, the
    books are checked (hanzo.sim.ledger: no HANZO made or lost, no balance negative, each users'
    account the sum of its rows and what is owed to them), then the day is recorded."""
    while True:
        if w.users.earns >= SETTLE_DAYS or w.users.deposited >= SETTLE_DAYS:
            w.users.settle()
        w.ledger.check(int(w.env.now))
        w.rows.append(w.snapshot())
        w.flows = Flows()
        yield w.env.timeout(1)


# The order of the day: every process wakes once a day, in this order.
PROCESSES = (observe, exchange.opening, issuance.emission, users.adoption, training.training,
             compute.inference, compute.speculation, compute.providers, governance.staking, governance.proposals,
             issuance.team_vesting, governance.attacker, exchange.external_market, training.base_model_training,
             exchange.closing, exchange.arbitrageurs, recorder)


# the World's random streams, in the order its seed's SeedSequence spawns them (a new one goes last: spawn's
# children depend on their index only); chain mode draws from the same ones by name
STREAMS = ("users", "market", "gov", "attack", "compute", "developers", "agents", "strategies", "draws", "votes")


def world_streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """The seed's streams by name (STREAMS)."""
    return dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS))))


class World:
    """The economy for one scenario and seed: its state, read and written by the processes."""

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario["scenario"]["seed"] if seed is None else seed
        # independent streams per process, all derived from the one seed
        # (a seventh, for who leaves and the users' own reservation wages, an eighth, for each user's
        # strategy and traits, a ninth, for [uncertainty], and a tenth, for which voter rows turn out, leave the
        # earlier ones as they were: spawn's children depend on their index only)
        streams = world_streams(seed)
        (self.rng_users, self.rng_market, self.rng_gov, self.rng_attack, self.rng_compute, self.rng_developers,
         self.rng_agents, self.rng_strategies) = (np.random.default_rng(streams[k]) for k in STREAMS[:8])
        # the run's draws, word of mouth and demand each their own, so turning one on leaves the others' draws
        rng_draws, self.rng_adoption, rng_demand = (np.random.default_rng(s) for s in streams["draws"].spawn(3))
        self.rng_votes = np.random.default_rng(streams["votes"])
        scenario = uncertainty.draw(scenario, rng_draws)  # every process reads this run's drawn figures
        self.s = scenario
        self.p = scenario.tokenomics
        unc = scenario["uncertainty"]
        self.demand = (uncertainty.Demand(unc["demand_volatility"], unc["demand_reversion"], rng_demand)
                       if unc["demand_volatility"] else None)
        self.env = simpy.Environment()
        self.ledger = Ledger(lambda: int(self.env.now))
        self.supply = Supply()
        self.users = Users(cooldown_days=round(self.p.unstake_cooldown / DAY))
        self.gov = Governance()
        self.flows = Flows()
        self.external_price_usd = scenario.tokenomics.pool_initial_price / 10**18
        self.pool = ConstantProductPool.at_genesis(scenario)  # HanzoPool, seeded with the Liquidity allocation
        self.attacker_bought = 0.0
        self.boost = 1.0  # activity-weighted mean boost of users' forks (each user's own: users.boost)
        self.rationed_days = 0
        self.rows: list[dict] = []
        self.agents = from_scenario(scenario)
        self.strategies = Strategies(scenario)  # which strategy each user row follows, and its traits
        self.prices: deque[float] = deque(maxlen=31)  # the pool price at the start of each of the last 31 days
        self.paid_per_interaction = starting_pay(self.p, scenario["users"]["mean_multiplier"])
        self.provider_income_per_credit = np.zeros(len(self.p.inference_tiers))
        # the curve's premium the market maker returned to the users (rule 3h), until it reaches their wallets:
        # a payment alike to a million rows is an array pass, so it is made every PREMIUM_BACK_DAYS (compute.py)
        self.premium_owed = 0.0
        self.provider_paid_rows = (None, None)  # with provider rows: (the rows, the units each was paid today)
        self.churned = 0
        self.users_waiting = 0  # newcomers who cannot yet buy their fork's fee (they join when they can)
        self.farmers = 0.0
        self.farm_paid_per_interaction = hanzo(training_payout(self.p, 1, 1).paid)
        self.farm_paid = 0.0
        self.speculator_spent = 0.0
        self.speculator_received = 0.0
        issuance.genesis(self)
        self.market = compute.market_maker(self)
        self.exchange = Exchange(self.ledger, self.pool, scenario["market"]["max_slippage"])
        self.ledger.mirror("pool", lambda: self.pool.hanzo)
        self.ledger.mirror("market_maker", lambda: self.market.funds + self.premium_owed)
        users = self.users
        users.clock = self.ledger.clock
        if self.strategies.mixed:  # a wallet error names the row's strategy ("farmer user"), not only "user"
            st = self.strategies
            users.kind_of = lambda row: f"{st.names[st.kind[row]]} user"
        for balance, account in Users.BALANCES.items():
            if account:
                self.ledger.itemize(account, lambda balance=balance: users.itemized(balance))

    def start(self) -> None:
        for process in PROCESSES:
            self.env.process(process(self))

    def run(self, days: int, progress=None) -> None:
        self.start()
        for day in range(1, days + 1):
            self.env.run(until=day)
            if progress is not None:
                progress(1)

    # ------------------------------------------------------------------ figures

    @property
    def price_usd(self) -> float:
        """The HANZO price: the pool's, whoever traded last."""
        return self.pool.price

    @property
    def conserved(self) -> bool:
        """Whether the books balanced at the end of every day run (a day that did not stops the
        run with ConservationError, so a finished run has: this says the check ran every day)."""
        return self.ledger.checked_days == int(self.env.now)

    @property
    def staked_total(self) -> float:
        """HANZO staked for votes: the proposers', users' and the attacker's."""
        return self.ledger["stake_developers"] + self.ledger["stake_holders"] + self.ledger["stake_attacker"]

    @property
    def fork_stake(self) -> float:
        """[policy] boost_stake_share: HANZO users hold staked on their forks."""
        return self.ledger["fork_stake"]

    @property
    def sell_backlog(self) -> float:
        """HANZO holders want sold that the days' slippage limit has held back."""
        return self.ledger["sell_orders"]

    def circulating(self) -> float:
        """HANZO outside the contracts and the burn: every wallet, the pool's reserve and the
        book of sell orders (total supply less the emission pools, the treasury, the team's
        unvested tokens, stake, unstaking stake and the market maker's funds)."""
        return self.ledger.total(WALLET, MARKET)

    def snapshot(self) -> dict:
        s, m, ledger = self.supply, self.market, self.ledger
        burned = ledger.burned()
        row = {
            "day": int(self.env.now),
            "users": self.users.active,
            "users_waiting": self.users_waiting,
            "total_supply": ledger.minted - sum(burned.values()),
            "circulating_supply": self.circulating(),
            "minted": ledger.minted,
            "emitted": s.emitted,
            "burned": sum(burned.values()),
            **{f"burned_{k}": v for k, v in burned.items()},
            "training_pool": ledger["training_pool"],
            "compute_pool": ledger["compute_pool"],
            "treasury": ledger["treasury"],
            "staked": self.staked_total,
            "team_locked": ledger["team_vesting"],
            "hanzo_price_usd": self.price_usd,
            "external_price_usd": self.external_price_usd,
            "pool_hanzo": self.pool.hanzo,
            "pool_usd": self.pool.usd,
            "unmet_hanzo_buys": self.flows.unmet_hanzo,
            "refused_hanzo_buys": self.flows.refused_hanzo,
            "credits_unfunded": self.flows.credits_unfunded,
            "sell_backlog": self.sell_backlog,
            "arbitrage_volume_usd": self.flows.arbitrage_usd,
            "rewards_paid": self.flows.rewards_paid,
            "rewards_nominal": self.flows.rewards_nominal,
            "fork_stake": self.fork_stake,
            "farmers": self.farmers,
            "farm_paid": self.farm_paid,
            "gas": self.flows.gas,
            "tail_emitted": s.tail_emitted,
            "recycled_fees": s.recycled_fees,
            "training_fees": s.training_fees,
            "interactions": self.flows.interactions,
            "inference_spend": self.flows.inference_spend,
            "congestion_charges": self.flows.congestion_charges,
            "hmm_funds": m.funds,
            "hmm_reserve": m.reserve,
            **{f"wallet_{k}": ledger[k] for k, (kind, _) in CHART.items() if kind == WALLET},
        }
        for i, (name, _) in enumerate(self.p.inference_tiers):
            key = name.lower().replace("-", "_")
            row[f"price_{key}"] = float(m.price[i])
            row[f"utilization_{key}"] = float(self.utilization[i])
            row[f"capacity_{key}"] = float(self.provider_capacity[i])
        return row


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, 1: one holder has everything)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = v.size
    if n == 0 or v[-1] == 0:
        return 0.0
    cum = np.cumsum(v)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)
