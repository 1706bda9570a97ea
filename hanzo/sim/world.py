"""The SimPy world of the Hanzo economy: one step is one day (tokenomics D6).

State is held in plain dataclasses named after the economics; agents are SimPy processes.
Populations (users, with up to millions of members) are cohorts held as numpy arrays inside one
process each, so a million users cost array operations, not a million generators; single named
agents (the governance attacker) are ordinary processes beside them. Every process wakes once a
day, in the order they are started, so a run is a pure function of its scenario and seed.

Money is in HANZO (floats) here; the exact integer rules live in hanzo.econ.reference and
hanzo.econ.hmm, which this world calls for emission, rewards, fees and the market maker. Every
balance is the ledger's (hanzo.sim.ledger): each flow below is a mint, transfer or burn between its
named accounts, no group spends or sells HANZO it does not hold, and the books are checked at the
end of every day (wallets + contracts + market + burned == minted). HANZO bought and sold clears
against HanzoPool through the exchange (hanzo.sim.exchange).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy

from hanzo.econ.hmm import FloatMarket

from .agents import View, from_scenario, gas_usd, starting_pay
from .exchange import Exchange
from .ledger import CHART, MARKET, UNIT, WALLET, Ledger
from .pool import ConstantProductPool
from hanzo.econ.params import BPS, DAY, WEI
from hanzo.econ.treasury import Bucket
from hanzo.econ.reference import boost_float, emission_split, emitted_at, nft_mint_fee, training_payout, vested

from .scenario import Scenario


def hanzo(wei: int) -> float:
    return wei / WEI


# The genesis allocations (hanzo.econ.params.ALLOCATIONS), each minted into its account.
GENESIS_ACCOUNTS = {"model_developers": "developers", "community_treasury": "treasury", "team": "team_vesting",
                    "public_sale": "holders", "liquidity": "pool", "training_rewards": "training_pool",
                    "compute_providers": "compute_pool"}


@dataclass
class Supply:
    """What was issued and paid over the run, by kind (cumulative flows; every balance is the
    ledger's)."""

    emitted: float = 0.0
    tail_emitted: float = 0.0  # [policy] tail_emission_per_year, after the schedule
    recycled_fees: float = 0.0  # [policy] inference_fee_share, into the training pool
    training_fees: float = 0.0  # [policy] fine-tuning and base-model fees paid


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


@dataclass
class Flows:
    """One day's flows, reset each day."""

    unmet_hanzo: float = 0.0  # HANZO bought that the pool could not sell: buyers paid it from their wallets
    refused_hanzo: float = 0.0  # fees not paid (forks not minted, training not done): no HANZO to fund them
    credits_unfunded: float = 0.0  # compute credits wanted but not bought: no HANZO to fund them
    rewards_paid: float = 0.0
    rewards_nominal: float = 0.0  # what the contract's rule pays for the day's work, were the pool full
    interactions: float = 0.0
    gas: float = 0.0  # gas of the day's training ops
    inference_spend: float = 0.0
    provider_income: float = 0.0
    arbitrage_usd: float = 0.0


class World:
    """The economy for one scenario and seed."""

    def __init__(self, scenario: Scenario, seed: int | None = None):
        self.s = scenario
        self.p = scenario.tokenomics
        seed = scenario["scenario"]["seed"] if seed is None else seed
        # independent streams per process, all derived from the one seed
        streams = np.random.SeedSequence(seed).spawn(6)
        self.rng_users, self.rng_market, self.rng_gov, self.rng_attack, self.rng_compute, self.rng_developers = (
            np.random.default_rng(s) for s in streams)
        self.env = simpy.Environment()
        self.ledger = Ledger(lambda: int(self.env.now))
        self.supply = Supply()
        self.users = Users()
        self.gov = Governance()
        self.flows = Flows()
        self.external_price_usd = scenario.tokenomics.pool_initial_price / 10**18
        self.pool = ConstantProductPool.at_genesis(scenario)  # HanzoPool, seeded with the Liquidity allocation
        self.attacker_bought = 0.0
        self.boost = 1.0  # activity-weighted mean boost of users' forks
        self.rationed_days = 0
        # the unstaking cooldown: what comes out of it each coming day (the ledger's "unstaking")
        self.unstaking: deque[float] = deque([0.0] * max(1, round(self.p.unstake_cooldown / DAY)))
        self.rows: list[dict] = []
        self.agents = from_scenario(scenario)
        self.prices: deque[float] = deque(maxlen=31)  # the pool price at the start of each of the last 31 days
        self.paid_per_interaction = starting_pay(self.p, scenario["users"]["mean_multiplier"])
        self.provider_income_per_credit = np.zeros(len(self.p.inference_tiers))
        self.churned = 0
        self.farmers = 0.0
        self.farm_paid_per_interaction = hanzo(training_payout(self.p, 1, 1).paid)
        self.farm_paid = 0.0
        self.speculator_spent = 0.0
        self.speculator_received = 0.0
        self._genesis()
        self.market = self._compute_market()
        self.exchange = Exchange(self.ledger, self.pool, scenario["market"]["max_slippage"])
        self.ledger.mirror("pool", lambda: self.pool.hanzo)
        self.ledger.mirror("market_maker", lambda: self.market.funds)

    # ------------------------------------------------------------------ setup

    def _genesis(self) -> None:
        """Genesis mints each allocation into its account: the Liquidity allocation is the pool's
        HANZO side (its USD side prices it), the Public Sale is in holders' wallets."""
        ledger = self.ledger
        for name, wei in self.p.genesis_allocations:
            ledger.mint(GENESIS_ACCOUNTS[name], hanzo(wei), f"genesis: {name}")
        # model developers stake part of their allocation: they make the honest proposals
        ledger.transfer("developers", "stake_developers",
                        ledger["developers"] * self.s["governance"]["developer_stake_share"], "proposers' stake")

    def _compute_market(self) -> FloatMarket:
        """The market maker with the contract's own rules (hanzo.econ.hmm.FloatMarket, tested
        against the integer model); the providers' capacity is theirs, offered again each epoch."""
        demand = self._base_demand(self.s["users"]["initial"]) * np.array(self.s.tier_mix)
        self.provider_capacity = np.maximum(demand * self.s["compute"]["capacity_headroom"], 1.0)
        self.utilization = np.zeros(3)
        return FloatMarket.from_tokenomics(self.p)

    def _base_demand(self, users: int) -> float:
        return users * self.s["users"]["inference_credits_per_day"]

    # ------------------------------------------------------------------ processes

    def start(self) -> None:
        env = self.env
        for process in (self.observe, self.market_open, self.emission, self.adoption, self.training, self.inference,
                        self.speculation, self.compute_providers,
                        self.staking, self.governance, self.team_vesting, self.attacker, self.external_market,
                        self.base_model_training, self.market_close, self.arbitrageurs, self.recorder):
            env.process(process())

    def observe(self):
        """First each day: the View every agent decides on (yesterday's figures)."""
        op_usd = gas_usd(self.s["costs"]["gas_per_op"], self.s["costs"])
        while True:
            self.prices.append(self.price_usd)
            self.view = View(int(self.env.now), self.prices[-1], self.prices[0], self.paid_per_interaction,
                             self.provider_income_per_credit, op_usd, self.farm_paid_per_interaction)
            yield self.env.timeout(1)

    def emission(self):
        """EmissionSchedule.release, once a day: the halving schedule into the two pools."""
        p, sup, ledger = self.p, self.supply, self.ledger
        tail = self.s["policy"]["tail_emission_per_year"] / 365
        released = 0
        while True:
            due = emitted_at(p, int(self.env.now + 1) * DAY)
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
            yield self.env.timeout(1)

    def adoption(self):
        """Users join on a logistic curve; each new user mints a fork (fee: half burned, half
        treasury). A newcomer who cannot buy the fee (the pool's day and holders' wallets spent)
        waits for a later day."""
        u = self.s["users"]
        n = float(u["initial"])
        adopters = self.agents["adopters"]
        while True:
            growth, churn = adopters.decide(self.view)
            if churn:  # the latest joiners leave first; their forks stay minted
                leaving = int(self.users.active * churn)
                self.users.leave(leaving)
                self.churned += leaving
                n = max(0.0, n - leaving)
            joining = max(0, min(int(round(n)), u["max"]) - self.users.active)
            funded = self._forks_affordable("holders", joining)
            joined = self.users.grow(self.users.active + int(funded), self.rng_users, u["activity_sigma"])
            if joined:
                self.users.forks_minted += joined
                self._mint_forks("holders", joined)
            n += growth * n * (1.0 - n / u["max"])
            yield self.env.timeout(1)

    def training(self):
        """Users train forks; TrainingRewards pays from the pool: burn, 70:30 split, low quality burned.
        Users keep what they earn in their wallets ("holders") less what they sell and stake; farmers
        sell all of it; developers are paid the owners' share of training on their models."""
        u, p = self.s["users"], self.p
        # shares of R, and what R costs the pool, from the contract's own rule (D2, both modes)
        unit = training_payout(p, 1, 1)
        r_unit = p.reward_per_interaction
        user_share, owner_share = unit.user / r_unit, unit.owner / r_unit
        burn_share, pool_per_reward = unit.burned / r_unit, unit.from_pool / r_unit
        per_interaction = hanzo(p.reward_per_interaction)
        pol, costs = self.s["policy"], self.s["costs"]
        own_forks = 1 - u["developer_model_share"]  # boost is on users' own forks only
        trainers, spammers, holders = self.agents["trainers"], self.agents["spammers"], self.agents["holders"]
        farmers = self.agents["farmers"]
        leak = spammers.leak
        ledger = self.ledger
        while True:
            users = self.users
            if farmers.most:  # farmers enter (each minting a fork they must buy) or leave on yesterday's margin
                before, wanted = self.farmers, farmers.decide(self.view, self.farmers)
                self.farmers = min(wanted, before + self._forks_affordable("farmers", max(0.0, wanted - before)))
                self._mint_forks("farmers", max(0.0, self.farmers - before))
            farm = self.farmers * farmers.interactions_per_day
            if pol["boost_stake_share"] and int(self.env.now) % 7 == 0:
                self.boost = self._fork_boost()  # weekly: an array pass over every user
            if users.active or farm:
                # interactions per unit of activity today: the population's mean times a daily
                # common shock (busy and quiet days), gamma with mean 1
                per_activity = u["interactions_per_day"] * self.rng_users.gamma(50.0, 1 / 50.0)
                interactions = per_activity * users.total_activity * trainers.decide(self.view)
                fee = interactions * pol["fine_tuning_fee"]
                if fee:  # users buy the fee's HANZO and pay it first; what they cannot fund, they do not train
                    affordable = self.exchange.affordable("holders")
                    if fee > affordable:
                        self.flows.refused_hanzo += fee - affordable
                        interactions *= affordable / fee
                        fee = affordable
                    self.exchange.buy("holders", fee, "fine-tuning fee")
                    self._training_fee("holders", "fine_tuning_fee", fee)
                junk = interactions * (spammers.decide(self.view) - spammers.base_share)
                leaked = junk * leak  # junk the oracle accepts, paid at multiplier 1
                low = interactions * spammers.base_share + junk - leaked
                accepted = interactions - low - leaked
                reward = (accepted * u["mean_multiplier"] + leaked) * per_interaction  # R, all users
                reward *= own_forks * self.boost + (1 - own_forks)
                farm_reward = farm * per_interaction  # multiplier 1, on the farmers' own forks
                self.flows.rewards_nominal += (reward + farm_reward) * (user_share + owner_share)
                low_reward = low * per_interaction
                # TrainingRewards' pacing (the same parameter and rule): ops take at most pool_pace_bps
                # of the pool a day (junk's burn too), each in full while the budget lasts, the rest
                # deferred; the day's outflow is min(need, budget), shared pro rata in aggregate
                need = (reward + farm_reward) * pool_per_reward + low_reward
                budget = ledger["training_pool"] * p.pool_pace_bps / BPS
                scale = min(1.0, budget / need) if need > 0 else 0.0
                self.rationed_days += scale < 1.0
                reward *= scale
                farm_reward *= scale
                low_burned = low_reward * scale
                to_users = reward * (user_share + owner_share * (1 - u["developer_model_share"]))
                to_developers = reward * owner_share * u["developer_model_share"]
                farm_paid = farm_reward * (user_share + owner_share)
                # the pool pays out (reward + farm_reward) * pool_per_reward + low_burned, at most its budget;
                # the burns go last and take what rounding leaves when the budget is the whole pool
                ledger.transfer("training_pool", "holders", to_users, "training rewards")
                ledger.transfer("training_pool", "developers", to_developers, "training rewards (developers' models)")
                ledger.transfer("training_pool", "farmers", farm_paid, "farming rewards")
                ledger.burn("training_pool", low_burned, "low_quality", upto=True)
                ledger.burn("training_pool", (reward + farm_reward) * burn_share, "training", upto=True)
                self.exchange.sell("farmers", farm_paid, "farmers sell all they earn")
                self.farm_paid += farm_paid
                if farm:
                    self.farm_paid_per_interaction = farm_paid / farm
                if users.total_activity > 0:
                    users.reward_index += to_users / users.total_activity
                sell, stake = holders.decide(self.view)
                ledger.transfer("holders", "stake_holders", to_users * stake, "users stake")
                ledger.transfer("holders", "fork_stake", to_users * pol["boost_stake_share"], "users stake on forks")
                self.exchange.sell("holders", to_users * sell, "users sell")
                self.exchange.sell("developers", to_developers * u["sell_share"], "developers sell")
                self.flows.rewards_paid += to_users + to_developers + farm_paid
                self.flows.interactions += interactions + farm
                if accepted + leaked > 0:  # what the users' share of one accepted interaction paid today
                    self.paid_per_interaction = reward * user_share / (accepted + leaked)
                self.flows.gas += (users.active + self.farmers) * costs["ops_per_user_day"] * costs["gas_per_op"]
            yield self.env.timeout(1)

    def _fork_fee(self) -> tuple[float, float]:
        """(fee, burned) of minting one fork (ModelNFT.mint), in HANZO."""
        return tuple(hanzo(x) for x in nft_mint_fee(self.p, self.s["users"]["fork_performance"]))

    def _forks_affordable(self, buyer: str, count: float) -> float:
        """How many of `count` forks `buyer` can buy the fee of today (the rest is refused)."""
        fee = self._fork_fee()[0]
        if fee > 0 and count * fee > self.exchange.affordable(buyer):
            funded = self.exchange.affordable(buyer) / fee
            funded = math.floor(funded) if isinstance(count, int) else funded
            self.flows.refused_hanzo += (count - funded) * fee
            return funded
        return count

    def _mint_forks(self, buyer: str, count: float) -> None:
        """`count` newcomers mint a fork each: they buy the fee's HANZO; part is burned, the rest
        goes to the treasury (ModelNFT.mint)."""
        fee, burned = self._fork_fee()
        if count <= 0 or fee <= 0:
            return
        self.exchange.buy(buyer, count * fee, "fork mint fee")
        self.ledger.burn(buyer, count * burned, "nft_fee")
        # (upto: the two parts, each rounded, may ask a unit more than the whole the buyer bought)
        self.ledger.transfer(buyer, "treasury", count * (fee - burned), "fork mint fee", upto=True)

    def _training_fee(self, payer: str, source: str, amount: float) -> None:
        """A fine-tuning or base-model fee, paid from `payer`'s wallet: part burned, the rest to the
        treasury."""
        burned = amount * self.s["policy"]["training_fee_burn_share"]
        self.ledger.burn(payer, burned, source)
        self.ledger.transfer(payer, "treasury", amount - burned, source.replace("_", " "), upto=True)  # as forks
        self.supply.training_fees += amount

    def _fork_boost(self) -> float:
        """The activity-weighted mean of ModelNFT's boost over users' forks, each staked with
        boost_stake_share of what its owner earned: 1 + min(max extra, sqrt(stake / ref stake))."""
        n = self.users.active
        if not n:
            return 1.0
        boost = boost_float(self.p, self.s["policy"]["boost_stake_share"] * self.users.earned())
        return float((self.users.activity[:n] * boost).sum() / self.users.total_activity)

    def base_model_training(self):
        """Model developers pay per base-model training epoch, from their HANZO (buying what they lack)."""
        pol = self.s["policy"]
        rate = pol["base_model_epochs_per_month"] / 30.0
        if not rate:
            return
        while True:
            fee = self.rng_developers.poisson(rate) * pol["base_model_epoch_fee"]
            if fee > self.exchange.affordable("developers"):
                self.flows.refused_hanzo += fee  # the epochs are not trained: their fee cannot be funded
            elif fee:  # paid from the developers' wallet first; they buy only what it lacks
                self.exchange.buy("developers", max(0.0, fee - self.ledger["developers"]), "base-model fee")
                self._training_fee("developers", "base_model_fee", fee)
            yield self.env.timeout(1)

    def inference(self):
        """Users buy compute credits from the market maker and spend them with providers; they buy
        the HANZO they pay with, and buy no more credits than they can fund."""
        c, u = self.s["compute"], self.s["users"]
        m = self.market
        mix = np.array(self.s.tier_mix)
        fee_share = self.s["policy"]["inference_fee_share"]
        while True:
            shock = c["shock_factor"] if c["shock_day"] and self.env.now >= c["shock_day"] else 1.0
            # demand responds to what a credit costs in USD, relative to day 0
            relative = m.price / m.base_price * (self.price_usd / (self.s.tokenomics.pool_initial_price / 10**18))
            # cheap compute raises use, up to max_demand_multiple times the base
            response = np.minimum(relative ** (-u["price_elasticity"]), u["max_demand_multiple"])
            demand = self._base_demand(self.users.active) * shock * mix * response
            want = demand * (1 + c["buffer_days"]) - m.holding("users")  # keep a buffer of credits
            # the contract refuses q / L past 40 (DepthExceeded): FloatMarket.buy clips demand beyond that
            credits = self._credits_affordable("holders", np.maximum(want, 0.0), 1 + fee_share)
            cost = float(m.buy(credits).sum())
            recycled = cost * fee_share  # the inference fee, on top, into the Training Rewards pool
            self.exchange.buy("holders", cost + recycled, "compute credits")  # users buy the HANZO they spend
            self.ledger.transfer("holders", "market_maker", cost, "compute credits")
            self.ledger.transfer("holders", "training_pool", recycled, "inference fee", upto=True)  # as forks
            self.supply.recycled_fees += recycled
            self.flows.inference_spend += cost
            m.capacity = self.provider_capacity.copy()  # the providers offer their capacity for the epoch
            served = np.minimum(np.minimum(demand, m.capacity), m.holding("users"))
            paid = m.redeem(served)  # the cost-basis cap applies, as on chain
            payout = float(paid.sum())
            self.provider_income_per_credit = np.where(served > 0, paid / np.where(served > 0, served, 1.0),
                                                       self.provider_income_per_credit)
            self.ledger.transfer("market_maker", "providers", payout, "compute served")
            self.flows.provider_income += payout
            self.utilization = served / m.capacity
            yield self.env.timeout(1)

    def speculation(self):
        """Speculators trade credits on the controller's momentum, after the day's use and before
        the epoch step; the HANZO they spend is bought from the pool and what they get back sold."""
        speculators, m = self.agents["speculators"], self.market
        if not speculators.budget_per_day:
            return
        while True:
            buy, sell = speculators.decide(m.momentum, m.holding("speculators"), m.price)
            received = float(m.sell(sell, "speculators").sum())
            self.ledger.transfer("market_maker", "speculators", received, "credits sold back")
            self.exchange.sell("speculators", received, "speculators sell")
            spent = float(m.buy(self._credits_affordable("speculators", buy), "speculators").sum())
            self.exchange.buy("speculators", spent, "speculators' credits")
            self.ledger.transfer("speculators", "market_maker", spent, "speculators' credits")
            self.speculator_received += received
            self.speculator_spent += spent
            yield self.env.timeout(1)

    def _credits_affordable(self, buyer: str, credits: np.ndarray, markup: float = 1.0) -> np.ndarray:
        """`credits` (per tier), or the largest common fraction of them whose cost, times `markup`
        (a fee on top), `buyer` can fund today; the rest is not bought (`credits_unfunded`)."""
        budget = self.exchange.affordable(buyer) / markup
        cost = float(self.market.quote(credits).sum())
        if cost <= budget:
            return credits
        lo, hi = 0.0, 1.0  # the cost is increasing in the fraction: bisect it
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if float(self.market.quote(credits * mid).sum()) <= budget else (lo, mid)
        self.flows.credits_unfunded += float(credits.sum()) * (1 - lo)
        return credits * lo

    def compute_providers(self):
        """Providers take the day's Compute Providers pool release, sell half their income, and
        grow capacity while utilization runs above target. Then the epoch's controller step."""
        p, m = self.p, self.market
        target = p.hmm_target_utilization / WEI
        providers = self.agents["providers"]
        while True:
            subsidy = self.ledger.transfer("compute_pool", "providers", self.ledger["compute_pool"] / 365,
                                           "compute pool release")
            self.exchange.sell("providers", 0.5 * (self.flows.provider_income + subsidy), "providers sell")
            u = self.utilization
            self.provider_capacity = self.provider_capacity * (1 + providers.decide(self.view, u, target))
            # poke(): the contract's step, with its per-tier solvency cut (a rise is cut to what the
            # surplus covers, tier by tier; the first simulator vetoed every tier at once)
            m.step(self.s["scenario"]["controller"])
            yield self.env.timeout(1)

    def staking(self):
        """A share of users' stake asks to unstake each day and comes back to their wallets after
        the cooldown; they sell their usual share of it."""
        rate = self.s["staking"]["unstake_per_day"]
        ledger = self.ledger
        while True:
            self.unstaking.append(ledger.transfer("stake_holders", "unstaking", ledger["stake_holders"] * rate,
                                                  "unstake"))
            back = ledger.transfer("unstaking", "holders", self.unstaking.popleft(), "cooldown over")
            self.exchange.sell("holders", back * self.s["users"]["sell_share"], "unstaked and sold")
            yield self.env.timeout(1)

    def governance(self):
        """Honest proposals: a deposit locked from the proposers' stake; Defeated burns it (D5)."""
        g, p = self.s["governance"], self.p
        deposit = hanzo(p.proposal_deposit)
        while True:
            for _ in range(self.rng_gov.poisson(g["proposals_per_month"] / 30.0)):
                if self.ledger["stake_developers"] < max(deposit, hanzo(p.proposal_threshold)):
                    break
                self.gov.proposals += 1
                votes = g["turnout"] * self.staked_total
                reached = votes >= self.quorum()
                self.gov.short_of_quorum += not reached
                if reached and self.rng_gov.random() < g["pass_probability"]:
                    self.gov.passed += 1
                else:
                    self.gov.defeated += 1
                    self.gov.deposits_burned += self.ledger.burn("stake_developers", deposit, "proposal_deposit")
            yield self.env.timeout(1)

    def team_vesting(self):
        """TeamVesting releases linearly after the cliff to the team, who sell a share."""
        total_wei = self.p.allocation("team")
        share = self.s["market"]["team_sell_share"]
        while True:
            # what stays locked is the allocation less what has vested by today (the contract's rule)
            locked = hanzo(total_wei - vested(self.p, total_wei, int(self.env.now) * DAY))
            if self.ledger["team_vesting"] > locked:
                vested_today = self.ledger.transfer("team_vesting", "team", self.ledger["team_vesting"] - locked,
                                                    "vesting")
                self.exchange.sell("team", vested_today * share, "team sells")
            yield self.env.timeout(1)

    def attacker(self):
        """A named agent: buys HANZO, stakes it, and proposes to drain the treasury. It wins only
        with at least the quorum and more votes than the honest turnout against it; having won,
        it holds governance and takes what HanzoTreasury's release limit lets out, day after day
        (`treasury_capture`)."""
        a = self.s["attacker"]
        if not a["enabled"]:
            return
        yield self.env.timeout(a["start_day"])
        budget_per_day = a["budget_usd"] / 30.0
        for _ in range(30):
            bought = self.pool.spend(budget_per_day)  # against the pool's curve, not at the day's price
            self.ledger.transfer("pool", "attacker", bought, "attacker buys")
            self.ledger.transfer("attacker", "stake_attacker", bought, "attacker stakes")
            self.gov.attack_cost_usd += budget_per_day
            self.attacker_bought += bought
            yield self.env.timeout(1)
        p = self.p
        deposit = hanzo(p.proposal_deposit)
        self.gov.proposals += 1
        self.gov.attack_day = int(self.env.now)
        stake = self.ledger["stake_attacker"]
        if stake < max(hanzo(p.proposal_threshold), deposit):
            self.gov.attack = "could not propose"
            return
        yield self.env.timeout(round((p.voting_delay + p.voting_period) / DAY))
        stake = self.ledger["stake_attacker"]
        honest_against = self.s["governance"]["turnout"] * (self.staked_total - stake)
        # GovernorCountingSimple counts For and Abstain toward quorum, never Against
        if stake >= self.quorum() and stake > honest_against:
            self.gov.attack = "passed: governance captured"
            self.gov.passed += 1
            self.env.process(self.treasury_capture())
        else:
            self.gov.attack = "defeated: deposit burned"
            self.gov.defeated += 1
            self.gov.deposits_burned += self.ledger.burn("stake_attacker", deposit, "proposal_deposit")

    def treasury_capture(self):
        """A captured governance releases from the treasury all that the contract's token bucket
        allows (hanzo.econ.treasury.Bucket, the same rule as HanzoTreasury), every day, and sells it."""
        bucket = Bucket.deployed(self.p, int(self.env.now) * DAY)
        ledger = self.ledger
        while ledger["treasury"] > 0:
            now = int(self.env.now) * DAY
            take_wei = min(bucket.available(now), ledger.units["treasury"] * (WEI // UNIT))
            if take_wei > 0:
                bucket.release(take_wei, now)
                take = ledger.transfer("treasury", "attacker", hanzo(take_wei), "treasury capture", upto=True)
                self.gov.treasury_drained += take
                self.exchange.sell("attacker", take, "attacker sells the treasury")
            yield self.env.timeout(1)

    def external_market(self):
        """The HANZO price on other venues: a random walk with jumps, which this economy does not
        move. It matters only with market.external_venues (arbitrageurs); it is drawn either way,
        so that the other random streams do not depend on the setting."""
        mk = self.s["market"]
        while True:
            rng = self.rng_market
            shock = rng.normal(0.0, mk["daily_volatility"])
            if rng.random() < mk["jump_probability"]:
                shock += math.log(1 + mk["jump_size"]) * (1 if rng.random() < 0.5 else -1)
            self.external_price_usd *= math.exp(shock)
            yield self.env.timeout(1)

    def market_open(self):
        """The HANZO market opens (hanzo.sim.exchange): the pool's depth for the day's buyers."""
        while True:
            self.exchange.open()
            yield self.env.timeout(1)

    def market_close(self):
        """The day's sells and buys clear against the HANZO pool: the price is the pool's. Traders
        accept at most `max_slippage` a day, as DEX traders set it: a sell that would push the
        price further waits for the next day (the backlog), a purchase that would lift it further
        is paid from the buyers' own HANZO instead of bought (recorded as unmet)."""
        while True:
            self.exchange.close()
            self.flows.unmet_hanzo += self.exchange.unmet
            yield self.env.timeout(1)

    def arbitrageurs(self):
        """With other venues (market.external_venues), traders move the pool part of the way to
        their price each day, paying its fee. Without them, the pool is the only market."""
        mk = self.s["market"]
        if not mk["external_venues"]:
            return
        while True:
            self.flows.arbitrage_usd += self.exchange.arbitrage(self.external_price_usd, mk["arbitrage_speed"])
            yield self.env.timeout(1)

    def recorder(self):
        """Last each day: the books are checked (hanzo.sim.ledger: no HANZO made or lost, no
        balance negative), then the day is recorded."""
        while True:
            self.ledger.check(int(self.env.now))
            self.rows.append(self.snapshot())
            self.flows = Flows()
            yield self.env.timeout(1)

    # ------------------------------------------------------------------ observation

    def quorum(self) -> float:
        """Votes a proposal needs: HanzoGovernor's absolute quorum, or ([policy] quorum = relative)
        a share of the staked HANZO, as OpenZeppelin's GovernorVotesQuorumFraction counts it."""
        pol = self.s["policy"]
        if pol["quorum"] == "relative":
            return pol["relative_quorum"] * self.staked_total
        return hanzo(self.p.quorum)

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
            "hmm_funds": m.funds,
            "hmm_reserve": m.reserve,
            "hmm_solvency_cuts": m.cuts,
            **{f"wallet_{k}": ledger[k] for k, (kind, _) in CHART.items() if kind == WALLET},
        }
        for i, (name, _) in enumerate(self.p.inference_tiers):
            key = name.lower().replace("-", "_")
            row[f"price_{key}"] = float(m.price[i])
            row[f"utilization_{key}"] = float(self.utilization[i])
            row[f"capacity_{key}"] = float(self.provider_capacity[i])
        return row

    def run(self, days: int, progress=None) -> None:
        self.start()
        for day in range(1, days + 1):
            self.env.run(until=day)
            if progress is not None:
                progress(1)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, 1: one holder has everything)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = v.size
    if n == 0 or v[-1] == 0:
        return 0.0
    cum = np.cumsum(v)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)
