"""Training and what it pays: TrainingRewards' payouts from the pool (burn, the 70:30 split, low
quality burned, pacing), the users', developers' and farmers' shares and what they do with them,
and the training fees (fine-tuning, base-model epochs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hanzo.econ.params import BPS
from hanzo.econ.reference import training_payout

from .ledger import UNIT, hanzo, units
from .users import (alike, fork_boost, fork_fee, forks_affordable, fundable, mint_forks, pay_and_reservation,
                    pay_and_reservation_per_activity, spend, split, _scratch)

if TYPE_CHECKING:
    from .world import World


def training(w: World):
    """Users train forks; TrainingRewards pays from the pool: burn, 70:30 split, low quality burned.
    Each user agent keeps what it earns in its own wallet, less what it sells and stakes; farmers
    sell all of it; developers are paid the owners' share of training on their models."""
    u, p = w.s["users"], w.p
    # shares of R, and what R costs the pool, from the contract's own rule (D2, both modes)
    unit = training_payout(p, 1, 1)
    r_unit = p.reward_per_interaction
    user_share, owner_share = unit.user / r_unit, unit.owner / r_unit
    burn_share, pool_per_reward = unit.burned / r_unit, unit.from_pool / r_unit
    per_interaction = hanzo(p.reward_per_interaction)
    pol, costs = w.s["policy"], w.s["costs"]
    own_forks = 1 - u["developer_model_share"]  # boost is on users' own forks only
    trainers, spammers, holders = w.agents["trainers"], w.agents["spammers"], w.agents["holders"]
    farmers = w.agents["farmers"]
    leak = spammers.leak
    ledger = w.ledger
    boosting = pol["boost_stake_share"] > 0
    mixed = w.strategies.mixed  # users follow several strategies: each row decides by its own (hanzo.sim.strategies)
    while True:
        users = w.users
        if farmers.most:  # farmers enter (each minting a fork they must buy) or leave on yesterday's margin
            before, wanted = w.farmers, farmers.decide(w.view, w.farmers)
            w.farmers = min(wanted, before + forks_affordable(w, "farmers", max(0.0, wanted - before)))
            if wanted > w.farmers:  # entries whose fork cannot be funded today
                w.flows.refused_hanzo += (wanted - w.farmers) * fork_fee(w)[0]
            mint_forks(w, "farmers", max(0.0, w.farmers - before))
        farm = w.farmers * farmers.interactions_per_day
        if pol["boost_stake_share"] and int(w.env.now) % 7 == 0:
            w.boost = fork_boost(w)  # weekly: an array pass over every user
        if users.active or farm:
            # interactions per unit of activity today: the population's mean times a daily
            # common shock (busy and quiet days), gamma with mean 1
            per_activity = u["interactions_per_day"] * w.rng_users.gamma(50.0, 1 / 50.0)
            # each active user's activity it trains today (None: its activity times `share`, alike for all)
            if mixed:
                decided = w.strategies.today(w)
                trained, sell, stake = decided.trained, decided.sell, decided.stake
                share, total_trained = 1.0, float(trained.sum())
            else:
                trained, share, total_trained = trained_today(w, trainers)
            interactions = per_activity * total_trained
            fee = interactions * pol["fine_tuning_fee"]
            if fee:  # users buy the fee's HANZO and pay it first; what they cannot fund, they do not train
                trained, paid = fine_tuning_fees(w, trained, share, fee)
                interactions *= paid / fee
            clean, low_strategies, quality = interactions, 0.0, 1.0
            if mixed:  # what the strategies' own low-quality work burns, and what the rest earns against honest work
                done = total_trained if trained is decided.trained else float(trained.sum())
                kept, weights_paid = decided.weights(trained)
                kept_total = float(kept.sum())
                clean = interactions * kept_total / done if done > 0 else 0.0
                low_strategies = interactions - clean
                quality = float(weights_paid.sum()) / kept_total if kept_total > 0 else 0.0
                w.strategies.record(trained, per_activity)
            junk = clean * (spammers.decide(w.view) - spammers.base_share)
            leaked = junk * leak  # junk the oracle accepts, paid at multiplier 1
            low = clean * spammers.base_share + junk - leaked + low_strategies
            accepted = interactions - low - leaked
            reward = (accepted * u["mean_multiplier"] + leaked) * per_interaction * quality  # R, all users
            reward *= own_forks * w.boost + (1 - own_forks)
            farm_reward = farm * per_interaction  # multiplier 1, on the farmers' own forks
            w.flows.rewards_nominal += (reward + farm_reward) * (user_share + owner_share)
            low_reward = low * per_interaction
            # TrainingRewards' pacing (the same parameter and rule): ops take at most pool_pace_bps
            # of the pool a day (junk's burn too), each in full while the budget lasts, the rest
            # deferred; the day's outflow is min(need, budget), shared pro rata in aggregate
            need = (reward + farm_reward) * pool_per_reward + low_reward
            budget = ledger["training_pool"] * p.pool_pace_bps / BPS
            scale = min(1.0, budget / need) if need > 0 else 0.0
            w.rationed_days += scale < 1.0
            reward *= scale
            farm_reward *= scale
            low_burned = low_reward * scale
            to_users = reward * (user_share + owner_share * (1 - u["developer_model_share"]))
            to_developers = reward * owner_share * u["developer_model_share"]
            farm_paid = farm_reward * (user_share + owner_share)
            # the pool pays out (reward + farm_reward) * pool_per_reward + low_burned, at most its budget;
            # the burns go last and take what rounding leaves when the budget is the whole pool.
            # Each active user is paid its share of the users' part, by the activity it trained
            # today and (on its own forks) its fork's boost, to the unit
            if not mixed:
                sell, stake = holders.decide(w.view)
            if trained is None and shares_fit(w, sell, stake):  # all alike: totals now, the rows when they settle
                users.earn(ledger, units(to_users), *shares(w, sell, stake))
                paid_users = None
            else:
                if trained is None:
                    trained = users.trained(share)
                weights = weights_paid if mixed else trained
                if boosting:
                    weights = weights * (own_forks * users.boost[:users.rows] + 1 - own_forks)
                # (into a work array of the users' module: today's pay is read today only)
                paid_users = (split(units(to_users), weights, _scratch("paid_users", users.rows, np.int64))
                              if to_users > 0 and weights.max() > 0 else None)
            if paid_users is not None:
                users.add("earned", paid_users, users.receive(ledger, "training_pool", paid_users, "training rewards"))
                if mixed:
                    w.strategies.record_pay(paid_users, w.price_usd)
            ledger.transfer("training_pool", "developers", to_developers, "training rewards (developers' models)")
            ledger.transfer("training_pool", "farmers", farm_paid, "farming rewards")
            ledger.burn("training_pool", low_burned, "low_quality", upto=True)
            ledger.burn("training_pool", (reward + farm_reward) * burn_share, "training", upto=True)
            w.exchange.sell("farmers", farm_paid, "farmers sell all they earn")
            w.farm_paid += farm_paid
            if farm:
                w.farm_paid_per_interaction = farm_paid / farm
            if paid_users is not None:
                sell_stake_and_boost(w, paid_users, sell, stake, decided.paid_out if mixed else None)
            w.exchange.sell("developers", to_developers * u["sell_share"], "developers sell")
            w.flows.rewards_paid += to_users + to_developers + farm_paid
            w.flows.interactions += interactions + farm
            if accepted + leaked > 0 and quality > 0:  # what the users' share of one accepted honest interaction paid
                w.paid_per_interaction = reward * user_share / (accepted + leaked) / quality
            # a training op a day for each user who trained today (one who did no work, a provider, a farmer whose
            # cost beats its pay or a user below its reservation wage, submits none), and each farmer
            submitting = (users.active if share > 0 else 0) if trained is None else int(np.count_nonzero(trained))
            w.flows.gas += (submitting + w.farmers) * costs["ops_per_user_day"] * costs["gas_per_op"]
        yield w.env.timeout(1)


def trained_today(w: World, trainers) -> tuple[np.ndarray | None, float, float]:
    """(each user's activity it trains today, a row per user: its activity while it is active, times
    the share of its usual work it does against its own reservation wage, or None when that share is
    the same for all; that share; their sum)."""
    users = w.users
    if trainers.reservation_usd > 0 and trainers.elasticity:
        if alike(w):
            share = float(trainers.decide_each(*pay_and_reservation_per_activity(w))[0])
            return None, share, users.total_activity * share
        n = users.rows
        on = users.on[:n]
        trained = np.where(on, users.activity[:n], 0.0)
        worth = np.zeros(n)
        worth[on] = trainers.decide_each(*pay_and_reservation(w))
        trained *= worth
        return trained, 1.0, float(trained.sum())
    share = trainers.decide(w.view)  # without a reservation wage, the population's (1: as usual)
    return None, share, users.total_activity * share


def shares_fit(w: World, sell: float, stake: float) -> bool:
    """Whether what users sell and stake of a day's pay is at most all of it (each row's outflow
    then never passes its inflow, so the rows can move as totals)."""
    return sum(shares(w, sell, stake)) <= 1.0


def shares(w: World, sell: float, stake: float) -> tuple[float, float, float]:
    """(sold, staked for votes, staked on forks) of a day's pay: what momentum sells comes out of
    the share not staked on forks either."""
    boost = w.s["policy"]["boost_stake_share"]
    if np.ndim(sell) or np.ndim(stake):  # a share per row (strategies): the fork's boost first, the stake, the sale
        if boost or np.max(stake) > 1.0:  # (without a boost, stakes of at most 1, as strategies decide, stay)
            stake = np.minimum(stake, 1.0 - boost)
        room = np.subtract(1.0, stake, out=_scratch("sale_room", len(stake), np.float64) if np.ndim(stake) else None)
        # (room: what the stakes leave for the sale; without a boost, 1 - stake >= 0)
        if boost:
            room -= boost
            np.maximum(room, 0.0, out=room)
        return np.minimum(sell, room, out=room if room.shape == np.shape(sell) else None), stake, boost
    if sell + stake <= 1.0:
        sell = min(sell, max(0.0, 1.0 - stake - boost))
    return sell, stake, boost


def fine_tuning_fees(w: World, trained: np.ndarray | None, share: float, fee: float) -> tuple[np.ndarray | None, float]:
    """Each user pays the fine-tuning fee of the interactions it trains, buying its HANZO; a user
    who cannot fund its fee trains what it can fund. Returns (what each trained, the fee paid).
    When all train alike (`trained` None) and the pool's day funds even the heaviest user's fee
    from its equal share of the day, every user pays its fee in full from the day: no row moves."""
    users = w.users
    if trained is None:
        total = units(fee)
        buyers = users.active if share > 0 else 0
        heaviest = total * users.max_activity / users.total_activity + 1 if users.total_activity > 0 else total
        if buyers and total <= w.ledger.units["purchases"] and heaviest <= w.ledger.units["purchases"] // buyers - 1:
            burned = units(total / UNIT * w.s["policy"]["training_fee_burn_share"])
            spend(w, [("burned_fine_tuning_fee", burned, "burn (fine_tuning_fee)"),
                      ("treasury", total - burned, "fine tuning fee")], "fine-tuning fee", None)
            w.supply.training_fees += total / UNIT
            return None, total / UNIT
        trained = users.trained(share)
    wanted = split(units(fee), trained)
    can = fundable(w, wanted)
    if (can < 1.0).any():
        w.flows.refused_hanzo += float(((1.0 - can) * wanted).sum()) / UNIT
        trained = trained * can
        wanted = np.floor(wanted * can).astype(np.int64)
    paid = int(wanted.sum())
    burned = units(paid / UNIT * w.s["policy"]["training_fee_burn_share"])
    spend(w, [("burned_fine_tuning_fee", burned, "burn (fine_tuning_fee)"),
              ("treasury", paid - burned, "fine tuning fee")],
          "fine-tuning fee", lambda total: wanted)
    w.supply.training_fees += paid / UNIT
    return trained, paid / UNIT


def sell_stake_and_boost(w: World, paid: np.ndarray, sell: float, stake: float, paid_out=None) -> None:
    """What each user does with today's pay (`paid`, units per row): sells `sell` of it, stakes
    `stake` for votes and [policy] boost_stake_share on its own fork, each rounded down to the unit
    (a user never sells a unit it did not decide to); all out of its own wallet. `paid_out`, when
    given, is each row's share of its pay sold and staked in all, the shares already capped (`shares`:
    the strategies cap theirs, hanzo.sim.strategies.Today)."""
    users, ledger = w.users, w.ledger
    if paid_out is None:
        sell, stake, boost = shares(w, sell, stake)
    else:
        boost = w.s["policy"]["boost_stake_share"]
    # (the day's amounts in work arrays of the users' module, reused each day: a fresh array of a million rows
    # costs more in page faults than the arithmetic done in it)
    staked = _units_of(paid, stake, "staked") if np.max(stake) > 0 else None  # (shares >= 0: max, not any: cheaper)
    forked = _units_of(paid, boost, "forked") if boost else None
    if paid_out is None:
        paid_out = np.add(sell, stake, out=_scratch("share_out", len(paid), np.float64))
        if boost:  # (x + 0.0 is x: without a boost the sum is the same)
            paid_out += boost
    out = _units_of(paid, paid_out, "paid_out")  # what leaves each wallet
    total = None  # what each row pays in all: out, unless the stakes' floors pass it (pay_parts adds the parts)
    if forked is None:
        total = out if staked is None else np.maximum(out, staked, out=_scratch("paid_total", len(paid), np.int64))
    sold = out
    for part in (staked, forked):
        if part is not None:
            sold = np.subtract(sold, part, out=_scratch("sold", len(paid), np.int64) if sold is out else sold)
    np.maximum(sold, 0, out=sold)  # (floats: the parts' floors may pass the whole's by a unit)
    parts = [("sell_orders", sold, "users sell"), ("stake_holders", staked, "users stake"),
             ("fork_stake", forked, "users stake on forks")]
    paying = [(to, amounts, flow) for to, amounts, flow in parts if amounts is not None]
    moved = dict(zip((to for to, _, _ in paying), users.pay_parts(ledger, paying, total)))
    if staked is not None:
        users.add("stake", staked, moved["stake_holders"])
    if forked is not None:
        users.add("fork_stake", forked, moved["fork_stake"])


def _units_of(paid: np.ndarray, share, name: str) -> np.ndarray:
    """Each row's `share` (>= 0) of `paid` (units), rounded down to the unit (truncation to int64 is the
    floor of these non-negative amounts), in the work array `name`."""
    exact = np.multiply(paid, share, out=_scratch("share_of_pay", len(paid), np.float64))
    amounts = _scratch(name, len(paid), np.int64)
    np.copyto(amounts, exact, casting="unsafe")
    return amounts


def training_fee(w: World, payer: str, source: str, amount: float) -> None:
    """A fine-tuning or base-model fee, paid from `payer`'s wallet: part burned, the rest to the
    treasury."""
    burned = amount * w.s["policy"]["training_fee_burn_share"]
    w.ledger.burn(payer, burned, source)
    w.ledger.transfer(payer, "treasury", amount - burned, source.replace("_", " "), upto=True)  # as forks
    w.supply.training_fees += amount


def base_model_training(w: World):
    """Model developers pay per base-model training epoch, from their HANZO (buying what they lack)."""
    pol = w.s["policy"]
    rate = pol["base_model_epochs_per_month"] / 30.0
    if not rate:
        return
    while True:
        fee = w.rng_developers.poisson(rate) * pol["base_model_epoch_fee"]
        if fee > w.exchange.affordable("developers"):
            w.flows.refused_hanzo += fee  # the epochs are not trained: their fee cannot be funded
        elif fee:  # paid from the developers' wallet first; they buy only what it lacks
            w.exchange.buy("developers", max(0.0, fee - w.ledger["developers"]), "base-model fee")
            training_fee(w, "developers", "base_model_fee", fee)
        yield w.env.timeout(1)
