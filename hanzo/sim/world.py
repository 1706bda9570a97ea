"""The SimPy world of the Hanzo economy: one step is one day (tokenomics D6).

State is held in plain dataclasses named after the economics; agents are SimPy processes.
Populations (users, with up to millions of members) are cohorts held as numpy arrays inside one
process each, so a million users cost array operations, not a million generators; single named
agents (the governance attacker) are ordinary processes beside them. Every process wakes once a
day, in the order they are started, so a run is a pure function of its scenario and seed.

Money is in HANZO (floats) here; the exact integer rules live in hanzo.econ.reference and
hanzo.econ.hmm, which this world calls for emission, rewards, fees and the market maker.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy

from hanzo.econ.hmm import FloatMarket

from .agents import View, from_scenario, gas_usd, starting_pay
from .pool import ConstantProductPool
from hanzo.econ.params import BPS, DAY, WEI
from hanzo.econ.treasury import Bucket
from hanzo.econ.reference import boost_float, emission_split, emitted_at, nft_mint_fee, training_payout, vested

from .scenario import Scenario


def hanzo(wei: int) -> float:
    return wei / WEI


@dataclass
class Supply:
    """Where every HANZO is; `burned` by source."""

    minted: float = 0.0
    emitted: float = 0.0
    burned: dict[str, float] = field(default_factory=lambda: {
        "training": 0.0, "low_quality": 0.0, "nft_fee": 0.0, "proposal_deposit": 0.0,
        "fine_tuning_fee": 0.0, "base_model_fee": 0.0})
    training_pool: float = 0.0
    compute_pool: float = 0.0
    treasury: float = 0.0
    team_locked: float = 0.0
    team_released: float = 0.0
    tail_emitted: float = 0.0  # [policy] tail_emission_per_year, after the schedule
    recycled_fees: float = 0.0  # [policy] inference_fee_share, into the training pool
    training_fees: float = 0.0  # [policy] fine-tuning and base-model fees paid

    @property
    def total_burned(self) -> float:
        return sum(self.burned.values())

    @property
    def total(self) -> float:
        return self.minted - self.total_burned

    def burn(self, source: str, amount: float) -> None:
        self.burned[source] += amount


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
    """One day's flows, reset each day; the HANZO pool clears them at the end of the day."""

    buy_hanzo: float = 0.0  # HANZO holders must buy to pay fees and compute
    sell_hanzo: float = 0.0
    unmet_hanzo: float = 0.0  # what the pool could not sell them
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
        self.supply = Supply()
        self.users = Users()
        self.gov = Governance()
        self.flows = Flows()
        self.external_price_usd = scenario.tokenomics.pool_initial_price / 10**18
        self.pool: ConstantProductPool | None = None  # seeded with the Liquidity allocation at genesis
        self.sell_backlog = 0.0  # HANZO holders want sold that the day's slippage limit held back
        self.attacker_bought = 0.0
        self.staked_total = 0.0
        self.fork_stake = 0.0  # [policy] boost_stake_share: HANZO users hold staked on their forks
        self.boost = 1.0  # activity-weighted mean boost of users' forks
        self.rationed_days = 0
        self.proposer_stake = 0.0
        self.attacker_stake = 0.0
        self.unstaking: deque[float] = deque([0.0] * max(1, round(self.p.unstake_cooldown / DAY)))
        self.developers = 0.0
        self.providers = 0.0
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

    # ------------------------------------------------------------------ setup

    def _genesis(self) -> None:
        p, sup = self.p, self.supply
        for name, wei in p.genesis_allocations:
            amount = hanzo(wei)
            sup.minted += amount
            if name == "community_treasury":
                sup.treasury += amount
            elif name == "team":
                sup.team_locked += amount
            elif name == "model_developers":
                self.developers += amount
            elif name == "training_rewards":
                sup.training_pool += amount
            elif name == "compute_providers":
                sup.compute_pool += amount
            elif name == "liquidity":
                # the Liquidity allocation is the HANZO side of the pool; the USD side prices it
                self.pool = ConstantProductPool.at_genesis(self.s)
        # model developers stake part of their allocation: they make the honest proposals
        self.proposer_stake = self.developers * self.s["governance"]["developer_stake_share"]
        self.developers -= self.proposer_stake
        self.staked_total += self.proposer_stake

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
        for process in (self.observe, self.emission, self.adoption, self.training, self.inference, self.speculation,
                        self.compute_providers,
                        self.staking, self.governance, self.team_vesting, self.attacker, self.external_market,
                        self.base_model_training, self.market_price, self.arbitrageurs, self.recorder):
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
        p, sup = self.p, self.supply
        tail = self.s["policy"]["tail_emission_per_year"] / 365
        released = 0
        while True:
            due = emitted_at(p, int(self.env.now + 1) * DAY)
            amount = due - released
            if amount:
                training, compute = emission_split(p, due, released)
                sup.training_pool += hanzo(training)
                sup.compute_pool += hanzo(compute)
                sup.minted += hanzo(amount)
                sup.emitted += hanzo(amount)
                released = due
            elif tail and due >= p.max_emission:  # the schedule is done: a tail, if the scenario adds one
                sup.training_pool += tail
                sup.minted += tail
                sup.emitted += tail
                sup.tail_emitted += tail
            yield self.env.timeout(1)

    def adoption(self):
        """Users join on a logistic curve; each new user mints a fork (fee: half burned, half treasury)."""
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
            target = int(round(n))
            joined = self.users.grow(min(target, u["max"]), self.rng_users, u["activity_sigma"])
            if joined:
                self.users.forks_minted += joined
                self._mint_forks(joined)
            n += growth * n * (1.0 - n / u["max"])
            yield self.env.timeout(1)

    def training(self):
        """Users train forks; TrainingRewards pays from the pool: burn, 70:30 split, low quality burned."""
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
        while True:
            users = self.users
            if farmers.most:  # farmers enter (each minting a fork) or leave on yesterday's margin
                before = self.farmers
                self.farmers = farmers.decide(self.view, self.farmers)
                self._mint_forks(max(0.0, self.farmers - before))
            farm = self.farmers * farmers.interactions_per_day
            if pol["boost_stake_share"] and int(self.env.now) % 7 == 0:
                self.boost = self._fork_boost()  # weekly: an array pass over every user
            if users.active or farm:
                # interactions per unit of activity today: the population's mean times a daily
                # common shock (busy and quiet days), gamma with mean 1
                per_activity = u["interactions_per_day"] * self.rng_users.gamma(50.0, 1 / 50.0)
                interactions = per_activity * users.total_activity * trainers.decide(self.view)
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
                budget = self.supply.training_pool * p.pool_pace_bps / BPS
                scale = min(1.0, budget / need) if need > 0 else 0.0
                self.rationed_days += scale < 1.0
                reward *= scale
                farm_reward *= scale
                low_burned = low_reward * scale
                to_users = reward * (user_share + owner_share * (1 - u["developer_model_share"]))
                to_developers = reward * owner_share * u["developer_model_share"]
                self.supply.training_pool -= (reward + farm_reward) * pool_per_reward + low_burned
                self.supply.burn("training", (reward + farm_reward) * burn_share)
                farm_paid = farm_reward * (user_share + owner_share)
                self.flows.sell_hanzo += farm_paid  # farmers sell all they earn
                self.farm_paid += farm_paid
                if farm:
                    self.farm_paid_per_interaction = farm_paid / farm
                self.supply.burn("low_quality", low_burned)
                if users.total_activity > 0:
                    users.reward_index += to_users / users.total_activity
                sell, stake = holders.decide(self.view)
                self.staked_total += to_users * stake
                self.fork_stake += to_users * pol["boost_stake_share"]
                self.flows.sell_hanzo += to_users * sell + to_developers * u["sell_share"]
                self.developers += to_developers * (1 - u["sell_share"])
                self.flows.rewards_paid += to_users + to_developers + farm_paid
                self.flows.interactions += interactions + farm
                if accepted + leaked > 0:  # what the users' share of one accepted interaction paid today
                    self.paid_per_interaction = reward * user_share / (accepted + leaked)
                fee = interactions * pol["fine_tuning_fee"]
                if fee:
                    self.flows.buy_hanzo += fee  # users buy the HANZO they pay it in
                    self._training_fee("fine_tuning_fee", fee)
                self.flows.gas += (users.active + self.farmers) * costs["ops_per_user_day"] * costs["gas_per_op"]
            yield self.env.timeout(1)

    def _mint_forks(self, count: float) -> None:
        """`count` newcomers mint a fork each: they buy the fee's HANZO; part is burned, the rest
        goes to the treasury (ModelNFT.mint)."""
        fee, burned = (hanzo(x) for x in nft_mint_fee(self.p, self.s["users"]["fork_performance"]))
        self.flows.buy_hanzo += count * fee
        self.supply.burn("nft_fee", count * burned)
        self.supply.treasury += count * (fee - burned)

    def _training_fee(self, source: str, amount: float) -> None:
        """A fine-tuning or base-model fee: part burned, the rest to the treasury."""
        burned = amount * self.s["policy"]["training_fee_burn_share"]
        self.supply.burn(source, burned)
        self.supply.treasury += amount - burned
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
            if fee:
                paid = min(fee, self.developers)
                self.developers -= paid
                self.flows.buy_hanzo += fee - paid
                self._training_fee("base_model_fee", fee)
            yield self.env.timeout(1)

    def inference(self):
        """Users buy compute credits from the market maker and spend them with providers."""
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
            cost = float(m.buy(np.maximum(want, 0.0)).sum())
            recycled = cost * fee_share  # the inference fee, on top, into the Training Rewards pool
            self.supply.training_pool += recycled
            self.supply.recycled_fees += recycled
            self.flows.buy_hanzo += cost + recycled  # users buy the HANZO they spend
            self.flows.inference_spend += cost
            m.capacity = self.provider_capacity.copy()  # the providers offer their capacity for the epoch
            served = np.minimum(np.minimum(demand, m.capacity), m.holding("users"))
            paid = m.redeem(served)  # the cost-basis cap applies, as on chain
            payout = float(paid.sum())
            self.provider_income_per_credit = np.where(served > 0, paid / np.where(served > 0, served, 1.0),
                                                       self.provider_income_per_credit)
            self.providers += payout
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
            spent = float(m.buy(buy, "speculators").sum())
            self.speculator_received += received
            self.speculator_spent += spent
            self.flows.sell_hanzo += received
            self.flows.buy_hanzo += spent
            yield self.env.timeout(1)

    def compute_providers(self):
        """Providers take the day's Compute Providers pool release, sell half their income, and
        grow capacity while utilization runs above target. Then the epoch's controller step."""
        c, p, m = self.s["compute"], self.p, self.market
        target = p.hmm_target_utilization / WEI
        providers = self.agents["providers"]
        while True:
            subsidy = self.supply.compute_pool * (1 / 365)
            self.supply.compute_pool -= subsidy
            income = self.flows.provider_income + subsidy
            self.flows.sell_hanzo += 0.5 * income
            self.providers += 0.5 * subsidy - 0.5 * self.flows.provider_income
            u = self.utilization
            self.provider_capacity = self.provider_capacity * (1 + providers.decide(self.view, u, target))
            # poke(): the contract's step, with its per-tier solvency cut (a rise is cut to what the
            # surplus covers, tier by tier; the first simulator vetoed every tier at once)
            m.step(self.s["scenario"]["controller"])
            yield self.env.timeout(1)

    def staking(self):
        """A share of stake asks to unstake each day and comes back after the cooldown."""
        rate = self.s["staking"]["unstake_per_day"]
        while True:
            leaving = (self.staked_total - self.proposer_stake - self.attacker_stake) * rate
            self.staked_total -= leaving
            self.unstaking.append(leaving)
            self.flows.sell_hanzo += self.unstaking.popleft() * self.s["users"]["sell_share"]
            yield self.env.timeout(1)

    def governance(self):
        """Honest proposals: a deposit locked from the proposers' stake; Defeated burns it (D5)."""
        g, p = self.s["governance"], self.p
        deposit = hanzo(p.proposal_deposit)
        while True:
            for _ in range(self.rng_gov.poisson(g["proposals_per_month"] / 30.0)):
                if self.proposer_stake < max(deposit, hanzo(p.proposal_threshold)):
                    break
                self.gov.proposals += 1
                votes = g["turnout"] * self.staked_total
                reached = votes >= self.quorum()
                self.gov.short_of_quorum += not reached
                if reached and self.rng_gov.random() < g["pass_probability"]:
                    self.gov.passed += 1
                else:
                    self.gov.defeated += 1
                    self.proposer_stake -= deposit
                    self.staked_total -= deposit
                    self.gov.deposits_burned += deposit
                    self.supply.burn("proposal_deposit", deposit)
            yield self.env.timeout(1)

    def team_vesting(self):
        """TeamVesting releases linearly after the cliff; the team sells a share."""
        total_wei = self.p.allocation("team")
        share = self.s["market"]["team_sell_share"]
        released = 0.0
        while True:
            now = hanzo(vested(self.p, total_wei, int(self.env.now) * DAY))
            if now > released:
                self.supply.team_locked -= now - released
                self.supply.team_released += now - released
                self.flows.sell_hanzo += (now - released) * share
                released = now
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
            self.gov.attack_cost_usd += budget_per_day
            self.attacker_bought += bought
            self.attacker_stake += bought
            self.staked_total += bought
            yield self.env.timeout(1)
        p = self.p
        deposit = hanzo(p.proposal_deposit)
        self.gov.proposals += 1
        self.gov.attack_day = int(self.env.now)
        if self.attacker_stake < max(hanzo(p.proposal_threshold), deposit):
            self.gov.attack = "could not propose"
            return
        yield self.env.timeout(round((p.voting_delay + p.voting_period) / DAY))
        honest_against = self.s["governance"]["turnout"] * (self.staked_total - self.attacker_stake)
        # GovernorCountingSimple counts For and Abstain toward quorum, never Against
        if self.attacker_stake >= self.quorum() and self.attacker_stake > honest_against:
            self.gov.attack = "passed: governance captured"
            self.gov.passed += 1
            self.env.process(self.treasury_capture())
        else:
            self.gov.attack = "defeated: deposit burned"
            self.gov.defeated += 1
            self.attacker_stake -= deposit
            self.staked_total -= deposit
            self.gov.deposits_burned += deposit
            self.supply.burn("proposal_deposit", deposit)

    def treasury_capture(self):
        """A captured governance releases from the treasury all that the contract's token bucket
        allows (hanzo.econ.treasury.Bucket, the same rule as HanzoTreasury), every day, and sells it."""
        bucket = Bucket.deployed(self.p, int(self.env.now) * DAY)
        while self.supply.treasury > 0:
            now = int(self.env.now) * DAY
            take_wei = min(bucket.available(now), int(self.supply.treasury * WEI))
            if take_wei > 0:
                bucket.release(take_wei, now)
                take = hanzo(take_wei)
                self.supply.treasury -= take
                self.gov.treasury_drained += take
                self.flows.sell_hanzo += take
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

    def market_price(self):
        """The day's sells and buys clear against the HANZO pool: the price is the pool's. Traders
        accept at most `max_slippage` a day, as DEX traders set it: a sell that would push the
        price further waits for the next day (the backlog), a purchase that would lift it further
        is paid from holders' own HANZO instead of bought (recorded as unmet)."""
        pool, slip = self.pool, self.s["market"]["max_slippage"]
        while True:
            selling = self.flows.sell_hanzo + self.sell_backlog
            sold = min(selling, pool.hanzo_to_move(1 - slip))
            pool.sell(sold)
            self.sell_backlog = selling - sold
            want = self.flows.buy_hanzo
            bought = min(want, pool.hanzo_to_move(1 + slip))
            pool.buy(bought)
            self.flows.unmet_hanzo += want - bought
            yield self.env.timeout(1)

    def arbitrageurs(self):
        """With other venues (market.external_venues), traders move the pool part of the way to
        their price each day, paying its fee. Without them, the pool is the only market."""
        mk = self.s["market"]
        if not mk["external_venues"]:
            return
        while True:
            self.flows.arbitrage_usd += self.pool.trade_toward(self.external_price_usd, mk["arbitrage_speed"])
            yield self.env.timeout(1)

    def recorder(self):
        while True:
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

    def circulating(self) -> float:
        """Total supply less what contracts hold: the pools, the treasury, the team's locked
        tokens, the market maker's funds, and stake."""
        s = self.supply
        return (s.total - s.training_pool - s.compute_pool - s.treasury - s.team_locked - self.market.funds
                - self.staked_total - self.fork_stake)

    def snapshot(self) -> dict:
        s, m = self.supply, self.market
        row = {
            "day": int(self.env.now),
            "users": self.users.active,
            "total_supply": s.total,
            "circulating_supply": self.circulating(),
            "minted": s.minted,
            "emitted": s.emitted,
            "burned": s.total_burned,
            **{f"burned_{k}": v for k, v in s.burned.items()},
            "training_pool": s.training_pool,
            "compute_pool": s.compute_pool,
            "treasury": s.treasury,
            "staked": self.staked_total,
            "team_locked": s.team_locked,
            "hanzo_price_usd": self.price_usd,
            "external_price_usd": self.external_price_usd,
            "pool_hanzo": self.pool.hanzo,
            "pool_usd": self.pool.usd,
            "unmet_hanzo_buys": self.flows.unmet_hanzo,
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
