"""The World's users (hanzo/sim/users.py, hanzo/sim/strategies.py) written in Mesa, as its users write a model:
one Agent per user, a subclass per strategy with its own decision, a Model whose step() drives its AgentSet,
randomness from the model's generator. For benchmarks/sim.py --case agents.

Each agent holds its own HANZO in floats (wallet, stake, what is in its unstaking cooldown, what it has earned),
its activity, reservation wage, traits and whether it is still active, and does each day what a user row does
in the World: decides whether to leave (its chance from its reservation wage), decides its work and what it
sells and stakes (its strategy), is paid its share of the users' reward by the work it was paid for, and
unstakes its share of the day's unstaking. The rest of the economy (price, pool, rewards) is not modelled here:
the model replays a `tape` of it recorded from a World run (benchmarks/sim.py, `record`): each day's View, what
the World paid its users in total, what the market maker returned to them (the curve's premium, given alike
to the active users), and each newcomer with the activity, reservation wage, strategy and traits
its row drew. Mesa's side is thus spared the whole economy our side's timing includes.
"""

from __future__ import annotations

import math
from collections import deque

import mesa
from mesa.agent import AgentSet


class User(mesa.Agent):
    def __init__(self, model: Economy, activity: float, reservation: float, traits: dict):
        super().__init__(model)
        self.activity = activity
        self.reservation = reservation  # USD per day of its usual work
        self.traits = traits
        self.active = True
        model.active_users.add(self)
        self.wallet = self.stake = self.cooling = self.earned = 0.0
        self.weight = 0.0  # today's work, as paid: its activity x work x pay x the share not judged low quality
        self.sell_share = self.stake_share = 0.0

    def worth(self, view) -> float:
        """What a usual day of its work pays against its reservation wage, to the elasticity, at most 1."""
        m = self.model
        if self.reservation <= 0 or m.elasticity == 0:
            return 1.0
        ratio = view.reward_usd_per_interaction * m.interactions_per_day * self.activity / self.reservation
        return min(1.0, ratio) ** m.elasticity if ratio > 0 else 0.0

    def chance_of_leaving(self, view) -> float:
        return self.model.churn_per_day * (1.0 - self.worth(view))

    def decide(self, view) -> tuple[float, float, float, float, float]:
        """(share of its usual work done today, pay against honest work's, share judged low quality, share of
        its pay sold, share staked)."""
        raise NotImplementedError

    def step(self) -> None:
        work, pay, low, sell, stake = self.decide(self.model.view)
        self.weight = self.activity * work * (1.0 - low) * pay
        self.stake_share = min(stake, 1.0)  # the stake first, then the sale, never more than all of the pay
        self.sell_share = min(sell, max(0.0, 1.0 - self.stake_share))

    def get_paid(self, per_weight: float) -> None:
        paid = self.weight * per_weight
        staked, sold = paid * self.stake_share, paid * self.sell_share
        self.earned += paid
        self.wallet += paid - staked - sold
        self.stake += staked

    def get_refund(self, amount: float) -> None:
        """The market maker's refund of the curve's premium, into the wallet (the World gives it alike)."""
        self.wallet += amount

    def unstake(self, rate: float, back: float, keep: float) -> None:
        """`back` of its cooldown comes back to its wallet, which keeps `keep` of it; then `rate` of its stake
        enters the cooldown."""
        released = self.cooling * back
        self.cooling -= released
        self.wallet += released * keep
        asked = self.stake * rate
        self.stake -= asked
        self.cooling += asked

    def leave(self) -> None:
        self.active = False  # it keeps its HANZO, and its stake still unstakes
        self.model.active_users.discard(self)


class Honest(User):
    def holds(self, view, response: float) -> tuple[float, float]:
        """(sold, staked): more sold after a fall, what is not sold staked in the usual proportion."""
        m = self.model
        sell = min(1.0, max(0.0, m.sell_share * math.exp(-response * view.momentum)))
        kept = 1.0 - m.sell_share
        return sell, (m.stake_share * (1.0 - sell) / kept if kept > 0 else 0.0)

    def decide(self, view):
        sell, stake = self.holds(view, self.model.momentum_response)
        return self.worth(view), 1.0, 0.0, sell, min(stake, 1.0 - sell)


class Holder(Honest):
    def decide(self, view):
        return self.worth(view), 1.0, 0.0, self.traits["sell_share"], self.traits["stake_share"]


class Speculator(Honest):
    def decide(self, view):
        return self.worth(view), 1.0, 0.0, *self.holds(view, self.traits["momentum_response"])


class Farmer(User):
    def decide(self, view):
        pay = self.traits["pay"]
        farms = pay * view.reward_usd_per_interaction > self.traits["cost_usd_per_interaction"]
        return float(farms), pay, 0.0, 1.0, 0.0


class Spammer(User):
    def decide(self, view):
        m, pay, low = self.model, self.traits["pay"], self.traits["low_quality"]
        earns = pay * (1.0 - low) * view.reward_usd_per_interaction * m.interactions_per_day * self.activity
        return float(earns > m.ops_per_day * view.gas_usd_per_op), pay, low, 1.0, 0.0


STRATEGIES = {"honest": Honest, "holder": Holder, "speculator": Speculator, "farmer": Farmer, "spammer": Spammer}


class Economy(mesa.Model):
    """The users of a World run, as Mesa agents, replaying the run's `tape`."""

    def __init__(self, scenario, tape, seed: int = 1):
        super().__init__(seed=seed)
        u, a = scenario["users"], scenario["agents"]
        self.interactions_per_day, self.sell_share, self.stake_share = (
            u["interactions_per_day"], u["sell_share"], u["stake_share"])
        self.elasticity, self.churn_per_day, self.momentum_response = (
            a["reward_elasticity"], a["churn_per_day"], a["momentum_response"])
        self.ops_per_day = scenario["costs"]["ops_per_user_day"]
        self.unstake_rate = scenario["staking"]["unstake_per_day"]
        self.tape = tape
        self.active_users = AgentSet([], random=self.random)  # kept as they join and leave, not selected daily
        self.cooldown = deque([0.0] * tape.cooldown_days)  # what entered the cooldown each day, until it comes back
        self.day = 0
        self.active_days = 0  # agent-days: the active agents summed over the days

    def step(self) -> None:
        t, tape = self.day, self.tape
        self.view = view = tape.views[t]
        active = self.active_users
        if self.churn_per_day > 0 and len(active):
            # as many leave as their chances add up to, drawn by their chances (the World's rule)
            chances = active.map("chance_of_leaving", view)
            total = sum(chances)
            count = min(int(total), sum(c > 0 for c in chances))
            if count:
                who = list(active)
                for i in self.rng.choice(len(who), count, replace=False, p=[c / total for c in chances]):
                    who[i].leave()
        for strategy, activity, reservation, traits in tape.newcomers[t]:
            STRATEGIES[strategy](self, activity, reservation, traits)
        self.active_days += len(active)
        active.do("step")
        weight = active.agg("weight", sum)
        if tape.paid[t] > 0 and weight > 0:
            active.do("get_paid", tape.paid[t] / weight)
        if tape.refunds and tape.refunds[t] > 0 and len(active):
            active.do("get_refund", tape.refunds[t] / len(active))
        staked, cooling = self.agents.agg("stake", sum), self.agents.agg("cooling", sum)
        self.cooldown.append(staked * self.unstake_rate)
        back = self.cooldown.popleft()
        self.agents.do("unstake", self.unstake_rate, back / cooling if cooling > 0 else 0.0, 1.0 - self.sell_share)
        self.day += 1


def aggregates(model: Economy) -> dict:
    """The figures benchmarks/sim.py compares with the World's rows (HANZO)."""
    agents = model.agents
    holdings = [a.wallet + a.stake + a.cooling for a in agents]
    return {"paid": agents.agg("earned", sum), "wallets": agents.agg("wallet", sum),
            "stake": agents.agg("stake", sum), "unstaking": agents.agg("cooling", sum),
            "gini": _gini(holdings), "active": sum(a.active for a in agents)}


def _gini(values: list[float]) -> float:
    v = sorted(values)
    n, total = len(v), sum(v)
    if n == 0 or total == 0:
        return 0.0
    ranked = sum((i + 1) * x for i, x in enumerate(v))
    return (2 * ranked / total - (n + 1)) / n
